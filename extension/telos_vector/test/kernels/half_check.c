/*
 * half_check.c -- test of src/half.c without PostgreSQL (TAP): the half
 * precision conversions, exhaustively over the 65,536 halves and over a
 * sweep of floats including every rounding boundary, and the half kernels
 * against a double-precision reference, for each build the CPU runs
 * (portable, F16C).  Run by test/scripts/half.sh.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "half.h"

static int	failed = 0;
static int	testno = 0;

static void
ok(int cond, const char *fmt, const char *a)
{
	testno++;
	printf("%s - ", cond ? "ok" : "not ok");
	printf(fmt, a);
	printf("\n");
	if (!cond)
		failed = 1;
}

static uint32_t
fbits(float f)
{
	uint32_t	u;

	memcpy(&u, &f, 4);
	return u;
}

static float
bitsf(uint32_t u)
{
	float		f;

	memcpy(&f, &u, 4);
	return f;
}

static float
h2f(uint16_t h)
{
	float		f;

	vector_half_to_float(&h, &f, 1);
	return f;
}

static uint16_t
f2h(float f)
{
	uint16_t	h;

	vector_float_to_half(&f, &h, 1);
	return h;
}

/* The nearest half to x by the definition (ties to even), x finite. */
static uint16_t
ref_f2h(float x)
{
	double		ax = fabs((double) x);
	uint16_t	sign = signbit(x) ? 0x8000 : 0;
	uint16_t	lo = 0,
				hi = 0x7c00;

	if (ax >= 65520.0)
		return sign | 0x7c00;
	/* largest h with value <= ax (halves are ordered like their bits) */
	while (hi - lo > 1)
	{
		uint16_t	mid = (uint16_t) ((lo + hi) / 2);

		if ((double) h2f(mid) <= ax)
			lo = mid;
		else
			hi = mid;
	}
	if ((double) h2f(lo) == ax)
		return sign | lo;
	{
		double		dl = ax - h2f(lo),
					dh = (double) h2f(lo + 1) - ax;

		if (dl < dh || (dl == dh && (lo & 1) == 0))
			return sign | lo;
		return sign | (uint16_t) (lo + 1);
	}
}

static void
check_build(const char *name)
{
	int			bad = 0;
	char		label[64];

	snprintf(label, sizeof(label), "%s", name);

	/* every half: to float and back is the identity (NaNs aside) */
	for (uint32_t h = 0; h < 65536; h++)
	{
		float		f;

		if ((h & 0x7c00) == 0x7c00 && (h & 0x3ff) != 0)
			continue;
		f = h2f((uint16_t) h);
		if (f2h(f) != h)
			bad++;
	}
	ok(bad == 0, "half %s: every half round-trips through float", label);

	/* every half's value is the reference's */
	bad = 0;
	for (uint32_t h = 0; h < 0x7c00; h++)
	{
		double		v = (h & 0x3ff) * 1.0;

		if ((h >> 10) == 0)
			v = v * ldexp(1.0, -24);
		else
			v = (1024.0 + v) * ldexp(1.0, (int) (h >> 10) - 25);
		if ((double) h2f((uint16_t) h) != v || (double) h2f((uint16_t) (h | 0x8000)) != -v)
			bad++;
	}
	ok(bad == 0, "half %s: half to float gives the exact value", label);

	/* floats: every rounding boundary (midpoints between halves, +-1 ulp) and a sweep */
	bad = 0;
	for (uint32_t h = 0; h < 0x7c00; h++)
	{
		double		mid = ((double) h2f((uint16_t) h) + (h == 0x7bff ? 65520.0 : (double) h2f((uint16_t) (h + 1)))) / 2.0;
		uint32_t	mb = fbits((float) mid);

		for (int d = -2; d <= 2; d++)
		{
			float		x = bitsf(mb + d);

			if (f2h(x) != ref_f2h(x) || f2h(-x) != ref_f2h(-x))
				bad++;
		}
	}
	for (uint64_t b = 0; b < 0x7f800000u; b += 4099)
	{
		float		x = bitsf((uint32_t) b);

		if (f2h(x) != ref_f2h(x))
			bad++;
	}
	ok(bad == 0, "half %s: float to half rounds to nearest even", label);
	ok(f2h(65504.0f) == 0x7bff && f2h(65519.99f) == 0x7bff &&
	   f2h(65520.0f) == 0x7c00 && f2h(-1e30f) == 0xfc00 && f2h(INFINITY) == 0x7c00,
	   "half %s: the range limit (65504 kept, 65520 and beyond infinite)", label);

	/* arrays of every length up to 40, and the kernels against double */
	bad = 0;
	{
		int			dims[] = {0, 1, 7, 8, 9, 31, 32, 33, 63, 64, 65, 100, 128, 1536, 2000};
		float	   *a = malloc(sizeof(float) * 2000);
		float	   *b = malloc(sizeof(float) * 2000);
		float	   *back = malloc(sizeof(float) * 2000);
		uint16_t   *hb = malloc(sizeof(uint16_t) * 2000);
		uint32_t	seed = 12345;

		for (size_t t = 0; t < sizeof(dims) / sizeof(dims[0]); t++)
		{
			int			n = dims[t];
			double		l2 = 0.0,
						ip = 0.0,
						mag = 0.0;

			for (int i = 0; i < n; i++)
			{
				seed = seed * 1103515245u + 12345u;
				a[i] = ((int) (seed >> 8) % 20001 - 10000) / 7000.0f;
				seed = seed * 1103515245u + 12345u;
				b[i] = ((int) (seed >> 8) % 20001 - 10000) / 7000.0f;
			}
			vector_float_to_half(b, hb, n);
			vector_half_to_float(hb, back, n);
			for (int i = 0; i < n; i++)
			{
				if (hb[i] != ref_f2h(b[i]) || back[i] != h2f(hb[i]))
					bad++;
				l2 += ((double) a[i] - back[i]) * ((double) a[i] - back[i]);
				ip += (double) a[i] * back[i];
				mag += fabs((double) a[i] * back[i]);
			}
			if (fabs(vector_l2_squared_half(a, hb, n) - l2) > 1e-5 * (l2 + 1e-30))
				bad++;
			if (fabs(vector_inner_half(a, hb, n) - ip) > 1e-5 * (mag + 1e-30))
				bad++;
		}
		free(a);
		free(b);
		free(back);
		free(hb);
	}
	ok(bad == 0, "half %s: arrays convert and the kernels match double", label);
}

int
main(void)
{
	const char *builds[] = {"plain", "f16c"};

	for (int i = 0; i < 2; i++)
	{
		if (vector_half_kernel_force(builds[i]) != 0)
		{
			printf("ok - # SKIP half %s: not on this CPU\n", builds[i]);
			continue;
		}
		check_build(builds[i]);
	}
	vector_half_kernel_force("auto");
	printf("# half kernels: %s\n", vector_half_kernel_name());
	{
		float		x[3] = {1.0f, -65504.0f, 65504.5f};

		ok(vector_half_fits(x, 2) == -1 && vector_half_fits(x, 3) == 2,
		   "vector_half_fits finds the first component out of %s", "range");
	}
	return failed;
}
