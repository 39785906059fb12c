/*
 * kernel_check.c -- tests and micro-benchmark of the distance kernels
 * (src/distance.c), built without PostgreSQL.
 *
 *   kernel_check            TAP lines "ok - ..." / "not ok - ...": every kernel build this CPU runs (plain,
 *                           avx2, avx512) against a double-precision
 *                           reference and against each other, over
 *                           dimensions 0..70 (every tail length), 127..129,
 *                           1536, 16000 and unaligned inputs
 *   kernel_check --bench    ns per call of each kernel and build for
 *                           dimensions 128, 1536 and 16000, with pairs drawn
 *                           from a 256 KB working set (in L2: what the
 *                           arithmetic costs) and from a 64 MB one (in RAM:
 *                           what a scan over a large table sees)
 *
 * The tolerance: float sums of n terms lose about n * 2^-24 of the sum of
 * the terms' magnitudes in the worst case; with 16 lanes each lane sums
 * n/16.  A kernel that drops or repeats one term is off by about
 * 1/n of that sum -- far more -- so the bound below (1e-6 * (n/16 + 16))
 * is tight enough to catch it at every dimension up to 16000.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "distance.h"

static int	checks = 0;			/* single comparisons made */
static int	failures = 0;		/* of which failed */

/* One comparison: silent when it holds, a "# " comment when not. */
static void
ok(int cond, const char *fmt, const char *a, int dim, double got, double want)
{
	checks++;
	if (!cond)
	{
		failures++;
		printf("# failed: ");
		printf(fmt, a, dim);
		printf(" (got %.9g, want %.9g)\n", got, want);
	}
}

/* xorshift: deterministic, no libc rand state. */
static unsigned long long rng = 0x9e3779b97f4a7c15ULL;

static float
frand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (float) ((double) (rng >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static int
close_enough(double got, double want, double scale, int dim)
{
	double		tol = 1e-6 * (dim / 16.0 + 16.0) * scale + 1e-30;

	if (isnan(want))
		return isnan(got);
	return fabs(got - want) <= tol;
}

static const char *builds[] = {"plain", "avx2", "avx512"};


/* Check every kernel of the forced build on one pair of inputs. */
static void
check_pair(const char *build, const float *a, const float *b, int dim)
{
	double		l2 = 0, ip = 0, ipabs = 0, na = 0, nb = 0, l1 = 0, cos;

	for (int i = 0; i < dim; i++)
	{
		double		d = (double) a[i] - b[i];

		l2 += d * d;
		ip += (double) a[i] * b[i];
		ipabs += fabs((double) a[i] * b[i]);
		na += (double) a[i] * a[i];
		nb += (double) b[i] * b[i];
		l1 += fabs(d);
	}
	cos = (na == 0 || nb == 0) ? NAN : 1.0 - fmax(-1.0, fmin(1.0, ip / sqrt(na * nb)));

	ok(close_enough(vector_l2_squared(a, b, dim), l2, l2, dim),
	   "%s l2_squared dim %d", build, dim, vector_l2_squared(a, b, dim), l2);
	ok(close_enough(vector_inner(a, b, dim), ip, ipabs, dim),
	   "%s inner dim %d", build, dim, vector_inner(a, b, dim), ip);
	/* cosine: an error e in the dot product moves it by e/(|a||b|) */
	ok(close_enough(vector_cosine_distance(a, b, dim), cos,
					(na == 0 || nb == 0) ? 1 : ipabs / sqrt(na * nb) + 1, dim),
	   "%s cosine dim %d", build, dim, vector_cosine_distance(a, b, dim), cos);
	ok(close_enough(vector_norm(a, dim), sqrt(na), sqrt(na), dim),
	   "%s norm dim %d", build, dim, vector_norm(a, dim), sqrt(na));
	ok(close_enough(vector_l1(a, b, dim), l1, l1, dim),
	   "%s l1 dim %d", build, dim, vector_l1(a, b, dim), l1);
}

static int
run_tests(void)
{
	static const int big[] = {127, 128, 129, 1000, 1536, 4096, 16000};
	float	   *a = malloc(sizeof(float) * 16001);
	float	   *b = malloc(sizeof(float) * 16001);
	int			nbuilds = 0;

	for (int k = 0; k < 3; k++)
	{
		int			before = checks,
					bf = failures;

		if (vector_kernel_force(builds[k]) != 0)
		{
			printf("# skip: %s kernels not supported by this CPU or build\n", builds[k]);
			continue;
		}
		nbuilds++;
		rng = 0x9e3779b97f4a7c15ULL;
		for (int dim = 0; dim <= 70; dim++)
		{
			for (int i = 0; i < dim; i++)
				a[i] = frand(), b[i] = frand();
			check_pair(builds[k], a, b, dim);
			/* unaligned by one float */
			check_pair(builds[k], a + 1, b, dim > 0 ? dim - 1 : 0);
		}
		for (size_t n = 0; n < sizeof(big) / sizeof(big[0]); n++)
		{
			for (int i = 0; i < big[n]; i++)
				a[i] = frand() * 100, b[i] = frand() * 100;
			check_pair(builds[k], a, b, big[n]);
			check_pair(builds[k], a + 1, b + 1, big[n]);
		}
		/* a zero vector: cosine NaN, the rest exact */
		memset(a, 0, sizeof(float) * 1536);
		check_pair(builds[k], a, b, 1536);
		/* identical vectors: cosine exactly 0 after clamping, l2 0 */
		ok(vector_l2_squared(b, b, 1536) == 0.0f, "%s l2 of identical vectors is 0 (dim %d)",
		   builds[k], 1536, vector_l2_squared(b, b, 1536), 0);
		ok(fabs(vector_cosine_distance(b, b, 1536)) < 1e-6, "%s cosine of identical vectors is 0 (dim %d)",
		   builds[k], 1536, vector_cosine_distance(b, b, 1536), 0);
		printf("%s - kernels %s agree with a double-precision reference (%d checks)\n",
			   failures == bf ? "ok" : "not ok", builds[k], checks - before);
	}

	/* The builds against each other on the same data, at 1536 and 16000. */
	for (int dim = 1536; dim <= 16000; dim += 16000 - 1536)
	{
		double		r[3][4];
		int			have[3] = {0};
		int			bf = failures;

		for (int i = 0; i < dim; i++)
			a[i] = frand(), b[i] = frand();
		for (int k = 0; k < 3; k++)
		{
			if (vector_kernel_force(builds[k]) != 0)
				continue;
			have[k] = 1;
			r[k][0] = vector_l2_squared(a, b, dim);
			r[k][1] = vector_inner(a, b, dim);
			r[k][2] = vector_cosine_distance(a, b, dim);
			r[k][3] = vector_norm(a, dim);
		}
		for (int k = 1; k < 3; k++)
			for (int f = 0; f < 4 && have[k]; f++)
				ok(fabs(r[k][f] - r[0][f]) <= 1e-5 * fmax(1.0, fabs(r[0][f])),
				   "%s vs plain, dim %d", builds[k], dim, r[k][f], r[0][f]);
		printf("%s - kernels dispatched and plain agree within 1e-5 relative (dim %d)\n",
			   failures == bf ? "ok" : "not ok", dim);
	}
	printf("# builds tested: %d, dispatcher's choice on this CPU: ", nbuilds);
	vector_kernel_force("auto");
	printf("%s\n", vector_kernel_name());
	free(a);
	free(b);
	return failures ? 1 : 0;
}

static double
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static volatile double sink;

static int
run_bench(size_t set_floats)
{
	static const int dims[] = {128, 1536, 16000};
	float	   *set = malloc(sizeof(float) * set_floats);
	const char *names[] = {"l2_squared", "inner", "cosine", "norm"};

	for (size_t i = 0; i < set_floats; i++)
		set[i] = frand();
	vector_kernel_force("plain");
	printf("# working set %zu KB\n", set_floats * sizeof(float) / 1024);
	printf("%-8s %6s %-11s %10s %10s\n", "build", "dim", "kernel", "ns/call", "GFLOP/s");
	for (size_t d = 0; d < sizeof(dims) / sizeof(dims[0]); d++)
	{
		int			dim = dims[d];
		size_t		nvec = set_floats / dim;
		long		calls = (long) (400e6 / dim);	/* ~0.1-0.3 s per line */

		if (nvec < 2)
			continue;

		for (int k = 0; k < 3; k++)
		{
			if (vector_kernel_force(builds[k]) != 0)
				continue;
			for (int f = 0; f < 4; f++)
			{
				double		best = 1e30;

				for (int rep = 0; rep < 3; rep++)
				{
					double		t0 = now_ns(),
								acc = 0;

					for (long c = 0; c < calls; c++)
					{
						const float *x = set + (size_t) (c % nvec) * dim;
						const float *y = set + (size_t) ((c * 7 + 3) % nvec) * dim;

						switch (f)
						{
							case 0: acc += vector_l2_squared(x, y, dim); break;
							case 1: acc += vector_inner(x, y, dim); break;
							case 2: acc += vector_cosine_distance(x, y, dim); break;
							default: acc += vector_norm(x, dim); break;
						}
					}
					sink = acc;
					best = fmin(best, (now_ns() - t0) / calls);
				}
				printf("%-8s %6d %-11s %10.1f %10.2f\n", builds[k], dim, names[f], best,
					   (f == 2 ? 6.0 : f == 3 ? 2.0 : 2.0) * dim / best);
			}
		}
	}
	free(set);
	return 0;
}

int
main(int argc, char **argv)
{
	/* 256 KB (in L2: compute-bound) and 64 MB (memory-bound) */
	if (argc > 1 && strcmp(argv[1], "--bench") == 0)
		return run_bench(6 * 1024) || run_bench(16 * 1024 * 1024);
	return run_tests();
}
