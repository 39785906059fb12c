/*
 * test_codec.c -- cmocka unit tests of the column codecs (src/codec/).
 *
 * For every codec: round trips of edge values and random data (bit-exact),
 * encoder output within the codec's bound and ESPACE below the size it
 * needs, ELIMIT when the caller's capacity is one short, an error for the
 * encoding cut at every byte, and random bit flips, byte overwrites and
 * length changes that must give an error or a result -- never a crash,
 * never a write past the caller's capacity (ASan/UBSan build:
 * `make codec-check`). Sizes on realistic data are printed ("# ...") and
 * checked against what the format should achieve.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "codec.h"
#include "codec_data.h"

#define GUARD 64				/* canary bytes after every output buffer */

static void *
xmalloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	assert_non_null(p);
	return p;
}

/* ---- canaries: decoders must not write past their capacity ---------------- */

static void
guard_set(void *p, size_t n)
{
	memset((uint8_t *) p + n, 0xA5, GUARD);
}

static void
guard_check(const void *p, size_t n)
{
	for (size_t i = 0; i < GUARD; i++)
		assert_int_equal(((const uint8_t *) p)[n + i], 0xA5);
}

/* ---- int64 ------------------------------------------------------------------ */

/* Encodes, checks bound/ESPACE/ELIMIT, decodes, compares; returns the size. */
static size_t
rt_i64(const int64_t *v, uint32_t n, int mode)
{
	size_t		bound = codec_i64_bound(n);
	uint8_t    *buf = xmalloc(bound + GUARD);
	int64_t    *out = xmalloc((size_t) n * 8 + GUARD);
	int64_t		len;
	uint32_t	got = 12345;

	guard_set(buf, bound);
	len = codec_i64_encode(v, n, mode, buf, bound);
	assert_true(len > 0 && (size_t) len <= bound);
	guard_check(buf, bound);
	assert_int_equal(codec_i64_encode(v, n, mode, buf, (size_t) len - 1), CODEC_ESPACE);
	assert_int_equal(/* deterministic; and the failed encoding scribbled on buf */
		codec_i64_encode(v, n, mode, buf, bound), len);

	guard_set(out, (size_t) n * 8);
	assert_int_equal(codec_i64_decode(buf, (size_t) len, out, n, &got), CODEC_OK);
	guard_check(out, (size_t) n * 8);
	assert_int_equal(got, n);
	assert_memory_equal(out, v, (size_t) n * 8);
	if (n > 0)
		assert_int_equal(codec_i64_decode(buf, (size_t) len, out, n - 1, &got), CODEC_ELIMIT);
	free(buf);
	free(out);
	return (size_t) len;
}

static void
test_i64_edges(void **state)
{
	const int64_t e[] = {0, 1, -1, INT64_MIN, INT64_MAX, INT64_MIN, INT64_MAX, 0,
		INT64_MAX, -2, 2, INT64_MIN + 1, INT64_MAX - 1, 1LL << 59, -(1LL << 59),
		(1LL << 60) - 1, 1LL << 60, 1LL << 62, 42, 42, 42};

	(void) state;
	for (int mode = 1; mode <= 2; mode++)
	{
		for (uint32_t n = 0; n <= sizeof(e) / sizeof(e[0]); n++)
			rt_i64(e, n, mode);
	}
	assert_int_equal(codec_i64_encode(e, 3, 0, (uint8_t[64]) {0}, 64), CODEC_ENA);
	assert_int_equal(codec_i64_encode(e, 3, 3, (uint8_t[64]) {0}, 64), CODEC_ENA);
	assert_int_equal(codec_i64_encode(e, 3, 1, (uint8_t[1]) {0}, 0), CODEC_ESPACE);
}

/* Every value width 0..64 in runs and mixtures (every Simple-8b selector). */
static void
test_i64_widths(void **state)
{
	enum { N = 3000 };
	int64_t    *v = xmalloc(N * 8);
	cd_rng		r = {7};

	(void) state;
	for (unsigned w = 0; w <= 64; w++)
	{
		uint64_t	mask = w == 64 ? ~UINT64_C(0) : (UINT64_C(1) << w) - 1;

		for (uint32_t i = 0; i < N; i++)
			v[i] = (int64_t) (cd_next(&r) & mask);
		rt_i64(v, N, 1);
		rt_i64(v, N, 2);
		for (uint32_t i = 0; i < N; i++)	/* runs of every length */
			v[i] = (int64_t) ((i / (1 + i % 97)) & mask);
		rt_i64(v, N, 1);
		/* a run of a wide value, long enough for a run word */
		for (uint32_t i = 0; i < N; i++)
			v[i] = (int64_t) (i < 100 ? mask : i % 7);
		rt_i64(v, N, 1);
		rt_i64(v, N, 2);
	}
	/* mixed widths, every tail length */
	for (uint32_t n = 0; n < 200; n++)
	{
		for (uint32_t i = 0; i < n; i++)
			v[i] = (int64_t) (cd_next(&r) >> (cd_next(&r) % 64));
		rt_i64(v, n, 1);
		rt_i64(v, n, 2);
	}
	free(v);
}

static void
test_i64_random(void **state)
{
	cd_rng		r = {99};
	uint32_t	sizes[] = {1, 2, 59, 60, 61, 119, 120, 1000, 1023, 1024, 1025, 5000};

	(void) state;
	for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++)
	{
		uint32_t	n = sizes[s];
		int64_t    *v = xmalloc((size_t) n * 8);

		for (int k = 0; k < 20; k++)
		{
			int64_t		x = (int64_t) cd_next(&r);

			for (uint32_t i = 0; i < n; i++)
			{
				switch (k % 4)
				{
					case 0: v[i] = (int64_t) cd_next(&r); break;
					case 1: x += (int64_t) (cd_next(&r) % 1000) - 500; v[i] = x; break;
					case 2: v[i] = (int64_t) (cd_next(&r) % 3); break;
					default: x += 60000000; v[i] = x + (int64_t) (cd_next(&r) % 5 == 0); break;
				}
			}
			rt_i64(v, n, 1);
			rt_i64(v, n, 2);
		}
		free(v);
	}
}

/*
 * Long runs: a run word holds up to 2^28-1 values, longer runs are split.
 * Booleans keep the memory small (2 x 256 MiB).
 */
static void
test_long_runs(void **state)
{
	uint32_t	n = (1u << 28) + 100;
	uint8_t    *v = xmalloc(n);
	uint8_t    *out = xmalloc(n);
	uint8_t		buf[128];
	int64_t		len;
	uint32_t	got;

	(void) state;
	memset(v, 1, n);
	v[n - 1] = 0;
	len = codec_bool_encode(v, n, buf, sizeof(buf));
	print_message("# bool: %u values in %lld bytes\n", n, (long long) len);
	assert_true(len > 0 && len <= 40);
	assert_int_equal(codec_bool_decode(buf, (size_t) len, out, n, &got), CODEC_OK);
	assert_int_equal(got, n);
	assert_true(memcmp(v, out, n) == 0);
	free(v);
	free(out);
}

static void
test_i64_timestamps_size(void **state)
{
	int64_t		ts[1000];
	size_t		len;

	(void) state;
	cd_hourly(ts, 1000, 1);
	len = rt_i64(ts, 1000, 2);
	print_message("# i64 dod: 1000 hourly timestamps in %zu bytes (%.3f bits/value)\n",
				  len, len * 8.0 / 1000);
	assert_true(len <= 32);
	/* a few gaps and late points still stay small */
	ts[500] += 1000000;
	ts[700] += CD_USEC_PER_HOUR / 2;
	len = rt_i64(ts, 1000, 2);
	print_message("# i64 dod: 1000 hourly timestamps with 2 irregular: %zu bytes\n", len);
	assert_true(len <= 96);
}

/* Cut at every byte: always an error. Flips/overwrites: no crash. */
static void
abuse_i64(const uint8_t *enc, size_t len, uint32_t n)
{
	uint8_t    *in = xmalloc(len + 16);
	int64_t    *out = xmalloc((size_t) n * 8 + GUARD);
	uint32_t	got;
	cd_rng		r = {len};

	for (size_t cut = 0; cut < len; cut++)
	{
		uint8_t    *p = xmalloc(cut);

		memcpy(p, enc, cut);	/* exact-size copy: ASan sees any overread */
		assert_true(codec_i64_decode(p, cut, out, n, &got) < 0);
		free(p);
	}
	for (int k = 0; k < 3000; k++)
	{
		size_t		l = len;

		memcpy(in, enc, len);
		switch (k % 3)
		{
			case 0: in[cd_next(&r) % len] ^= (uint8_t) (1u << (cd_next(&r) % 8)); break;
			case 1: in[cd_next(&r) % len] = (uint8_t) cd_next(&r); break;
			default: l = len + cd_next(&r) % 16; break;	/* trailing junk */
		}
		guard_set(out, (size_t) n * 8);
		if (codec_i64_decode(in, l, out, n, &got) == CODEC_OK)
			assert_true(got <= n);
		guard_check(out, (size_t) n * 8);
	}
	free(in);
	free(out);
}

static void
test_i64_corrupt(void **state)
{
	int64_t		v[300];
	uint8_t		buf[8000];
	int64_t		len;
	cd_rng		r = {3};

	(void) state;
	cd_hourly(v, 300, 3);
	v[10] = INT64_MIN;
	for (int i = 100; i < 300; i++)		/* late points: outliers among zeros */
		v[i] += cd_next(&r) % 10 ? 0 : (int64_t) (cd_next(&r) % 100000);
	for (int mode = 2; mode >= 1; mode--)
	{
		len = codec_i64_encode(v, 300, mode, buf, sizeof(buf));
		assert_true(len > 0);
		if (mode == 2)
			assert_false(buf[0] & 0x10);	/* Simple-8b */
		abuse_i64(buf, (size_t) len, 300);
	}
	/* uniformly wide values: block bit-packing, incl. a short last block */
	for (int w = 22; w <= 64; w += 21)
	{
		for (int i = 0; i < 300; i++)
			v[i] = (int64_t) (cd_next(&r) >> (64 - w));
		len = codec_i64_encode(v, 300, 1, buf, sizeof(buf));
		assert_true(len > 0);
		assert_true(buf[0] & 0x10);
		abuse_i64(buf, (size_t) len, 300);
		len = codec_i64_encode(v, 70, 1, buf, sizeof(buf));
		assert_true(len > 0);
		abuse_i64(buf, (size_t) len, 70);
	}
	/* hostile headers */
	{
		uint32_t	got;
		int64_t		out[4];
		const uint8_t huge[] = {1, 0xff, 0xff, 0xff, 0xff, 0x0f};
		const uint8_t overlong[] = {1, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
		const uint8_t badmode[] = {7, 0};
		uint8_t		run0[1 + 1 + 8] = {1, 2};	/* run word with count 0 */
		uint8_t		esc[1 + 1 + 8 + 8] = {1, 1, 0x1f};	/* escape, junk bits */

		assert_int_equal(codec_i64_decode(huge, sizeof(huge), out, 4, &got), CODEC_ELIMIT);
		assert_true(codec_i64_decode(overlong, sizeof(overlong), out, 4, &got) < 0);
		assert_int_equal(codec_i64_decode(badmode, sizeof(badmode), out, 4, &got), CODEC_ECORRUPT);
		assert_int_equal(codec_i64_decode(run0, sizeof(run0), out, 4, &got), CODEC_ECORRUPT);
		assert_int_equal(codec_i64_decode(esc, sizeof(esc), out, 4, &got), CODEC_ECORRUPT);
		assert_int_equal(codec_i64_decode(NULL, 0, out, 4, &got), CODEC_ETRUNC);
	}
}

/* ---- gorilla ------------------------------------------------------------------ */

static size_t
rt_gorilla(const uint64_t *v, uint32_t n)
{
	size_t		bound = codec_gorilla_bound(n);
	uint8_t    *buf = xmalloc(bound + GUARD);
	uint64_t   *out = xmalloc((size_t) n * 8 + GUARD);
	int64_t		len;
	uint32_t	got = 12345;

	guard_set(buf, bound);
	len = codec_gorilla_encode(v, n, buf, bound);
	assert_true(len > 0 && (size_t) len <= bound);
	guard_check(buf, bound);
	assert_int_equal(codec_gorilla_encode(v, n, buf, (size_t) len - 1), CODEC_ESPACE);
	assert_int_equal(/* deterministic; and the failed encoding scribbled on buf */
		codec_gorilla_encode(v, n, buf, bound), len);
	guard_set(out, (size_t) n * 8);
	assert_int_equal(codec_gorilla_decode(buf, (size_t) len, out, n, &got), CODEC_OK);
	guard_check(out, (size_t) n * 8);
	assert_int_equal(got, n);
	assert_memory_equal(out, v, (size_t) n * 8);
	if (n > 0)
		assert_int_equal(codec_gorilla_decode(buf, (size_t) len, out, n - 1, &got), CODEC_ELIMIT);
	free(buf);
	free(out);
	return (size_t) len;
}

static uint64_t
dbits(double d)
{
	uint64_t	b;

	memcpy(&b, &d, 8);
	return b;
}

static void
test_gorilla_edges(void **state)
{
	uint64_t	v[400];
	uint32_t	n = 0;

	(void) state;
	v[n++] = dbits(0.0);
	v[n++] = dbits(-0.0);
	v[n++] = 0x7ff0000000000000ULL;		/* +Inf */
	v[n++] = 0xfff0000000000000ULL;		/* -Inf */
	v[n++] = 0x7ff8000000000000ULL;		/* quiet NaN */
	v[n++] = 0x7ff0000000000001ULL;		/* signalling NaN, payload 1 */
	v[n++] = 0xfff8dead0000beefULL;		/* negative NaN with payload */
	v[n++] = 0x7fffffffffffffffULL;
	v[n++] = 0x0000000000000001ULL;		/* smallest subnormal */
	v[n++] = 0x000fffffffffffffULL;		/* largest subnormal */
	v[n++] = 0x8000000000000001ULL;
	v[n++] = dbits(1.0);
	v[n++] = dbits(1.0);
	v[n++] = ~0ULL;
	v[n++] = 0;
	v[n++] = 0x00000000ffffffffULL;		/* float4 bits, zero-extended */
	v[n++] = 0x000000007fc00000ULL;		/* float4 NaN */
	for (int b = 0; b < 64; b++)		/* every single-bit pattern and XOR */
		v[n++] = 1ULL << b;
	for (int b = 0; b < 64; b++)
		v[n++] = ~(1ULL << b);
	for (int b = 0; b < 64; b++)		/* every window: lead b, len 64-b */
		v[n++] = (~0ULL >> b) ^ (b & 1 ? 0 : 0x5555555555555555ULL);
	for (uint32_t k = 0; k <= n; k++)
		rt_gorilla(v, k);
	for (uint32_t k = 0; k < n; k++)	/* every rotation */
	{
		uint64_t	w[400];

		for (uint32_t i = 0; i < n; i++)
			w[i] = v[(i + k) % n];
		rt_gorilla(w, n);
	}
}

static void
test_gorilla_random(void **state)
{
	enum { N = 2000 };
	uint64_t   *v = xmalloc(N * 8);
	double	   *d = xmalloc(N * 8);
	cd_rng		r = {5};

	(void) state;
	for (int k = 0; k < 40; k++)
	{
		uint32_t	n = (uint32_t) (cd_next(&r) % N) + 1;

		for (uint32_t i = 0; i < n; i++)
		{
			switch (k % 4)
			{
				case 0: v[i] = cd_next(&r); break;
				case 1: v[i] = cd_next(&r) >> (cd_next(&r) % 64) << (cd_next(&r) % 64); break;
				case 2: v[i] = i ? v[i - 1] ^ (1ULL << (cd_next(&r) % 64)) : 0; break;
				default: v[i] = (cd_next(&r) % 3) ? 0x7ff8000000000000ULL | (cd_next(&r) & 0xffff) : dbits(-0.0); break;
			}
		}
		rt_gorilla(v, n);
	}
	cd_kpi(d, N, 11);
	memcpy(v, d, N * 8);
	rt_gorilla(v, N);
	free(v);
	free(d);
}

static void
test_gorilla_corrupt(void **state)
{
	uint64_t	v[300];
	uint8_t		buf[4000];
	uint8_t		in[4000 + 16];
	uint64_t	out[300 + GUARD / 8];
	int64_t		len;
	uint32_t	got;
	cd_rng		r = {8};
	double		d[300];

	(void) state;
	cd_kpi(d, 300, 2);
	memcpy(v, d, sizeof(v));
	v[5] = 0x7ff0000000000001ULL;
	len = codec_gorilla_encode(v, 300, buf, sizeof(buf));
	assert_true(len > 0);
	for (int64_t cut = 0; cut < len; cut++)
	{
		uint8_t    *p = xmalloc((size_t) cut);

		memcpy(p, buf, (size_t) cut);
		assert_true(codec_gorilla_decode(p, (size_t) cut, out, 300, &got) < 0);
		free(p);
	}
	for (int k = 0; k < 5000; k++)
	{
		size_t		l = (size_t) len;

		memcpy(in, buf, (size_t) len);
		switch (k % 3)
		{
			case 0: in[cd_next(&r) % (uint64_t) len] ^= (uint8_t) (1u << (cd_next(&r) % 8)); break;
			case 1: in[cd_next(&r) % (uint64_t) len] = (uint8_t) cd_next(&r); break;
			default: l += cd_next(&r) % 16; break;
		}
		guard_set(out, 300 * 8);
		if (codec_gorilla_decode(in, l, out, 300, &got) == CODEC_OK)
			assert_true(got <= 300);
		guard_check(out, 300 * 8);
	}
	{
		/* a new window wider than 64 bits: lead 63, len 2 */
		uint8_t		bad[1 + 8 + 3] = {2, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xc4, 0};

		assert_int_equal(codec_gorilla_decode(bad, sizeof(bad), out, 2, &got), CODEC_ECORRUPT);
	}
}

/* ---- decimal ------------------------------------------------------------------ */

static size_t
rt_dec(const double *v, uint32_t n)
{
	size_t		bound = codec_dec_bound(n);
	uint8_t    *buf = xmalloc(bound + GUARD);
	double	   *out = xmalloc((size_t) n * 8 + GUARD);
	int64_t		len;
	uint32_t	got;

	guard_set(buf, bound);
	len = codec_dec_encode(v, n, buf, bound);
	assert_true(len > 0 && (size_t) len <= bound);
	guard_check(buf, bound);
	assert_int_equal(codec_dec_encode(v, n, buf, (size_t) len - 1), CODEC_ESPACE);
	assert_int_equal(/* deterministic; and the failed encoding scribbled on buf */
		codec_dec_encode(v, n, buf, bound), len);
	guard_set(out, (size_t) n * 8);
	assert_int_equal(codec_dec_decode(buf, (size_t) len, out, n, &got), CODEC_OK);
	guard_check(out, (size_t) n * 8);
	assert_int_equal(got, n);
	assert_memory_equal(out, v, (size_t) n * 8);	/* bit-exact */
	if (n > 0)
		assert_int_equal(codec_dec_decode(buf, (size_t) len, out, n - 1, &got), CODEC_ELIMIT);
	free(buf);
	free(out);
	return (size_t) len;
}

static void
test_dec_values(void **state)
{
	/* one column: exponents up to 6 */
	const double ok[] = {0.0, 1.0, -1.0, 0.5, 0.1, 0.2, 0.3, 123.4567, -98765.4321,
		0.000001, 42.42, 0.031, 250000.01, 1e9, -0.75};
	/* alone: extreme exponents and mantissas */
	const double single[] = {1e-18, 123456789012345.0, 9007199254740991.0,
		-9007199254740991.0, 1e15, 3.14159265358979, 3.141592653589793, 5e-18};
	const double bad[] = {-0.0, NAN, INFINITY, -INFINITY, 0.1 + 0.2, 1e300,
		4.9406564584124654e-324, 9007199254740993.0, 1e-19, 2.2250738585072014e-308};
	uint8_t		buf[256];

	(void) state;
	for (uint32_t n = 0; n <= sizeof(ok) / sizeof(ok[0]); n++)
		rt_dec(ok, n);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		rt_dec(&ok[i], 1);
	for (size_t i = 0; i < sizeof(single) / sizeof(single[0]); i++)
		rt_dec(&single[i], 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
	{
		double		v[3] = {1.5, bad[i], 2.25};

		assert_int_equal(codec_dec_encode(&bad[i], 1, buf, sizeof(buf)), CODEC_ENA);
		assert_int_equal(codec_dec_encode(v, 3, buf, sizeof(buf)), CODEC_ENA);
	}
	/* every exponent 0..18 */
	for (int e = 0; e <= 18; e++)
	{
		double		v[3] = {7 / pow(10, e), -123 / pow(10, e), 0.0};

		rt_dec(v, 3);
	}
	/* exponents mixing to a mantissa beyond 2^53: not representable */
	{
		double		v[2] = {9007199254741.0, 0.001};

		assert_int_equal(codec_dec_encode(v, 2, buf, sizeof(buf)), CODEC_ENA);
	}
}

static void
test_dec_random(void **state)
{
	enum { N = 3000 };
	double	   *v = xmalloc(N * 8);
	cd_rng		r = {17};

	(void) state;
	for (int dp = 0; dp <= 8; dp++)
	{
		cd_walk(v, N, (uint64_t) dp, dp);
		rt_dec(v, N);
		rt_dec(v, 1000);
	}
	for (int k = 0; k < 30; k++)
	{
		uint32_t	n = (uint32_t) (cd_next(&r) % N) + 1;

		for (uint32_t i = 0; i < n; i++)
			v[i] = cd_round_dp(((double) (cd_next(&r) % 2000000001) - 1e9) / 1000.0,
							   (int) (cd_next(&r) % 7));
		rt_dec(v, n);
	}
	free(v);
}

static void
test_dec_size(void **state)
{
	double		v[1000];
	uint8_t		buf[20000];
	int64_t		dlen,
				glen;
	uint64_t	bits[1000];

	(void) state;
	cd_walk(v, 1000, 1, 4);
	dlen = (int64_t) rt_dec(v, 1000);
	memcpy(bits, v, sizeof(bits));
	glen = codec_gorilla_encode(bits, 1000, buf, sizeof(buf));
	print_message("# dec: 1000 random-walk values (4 places): %.2f bits/value (gorilla %.2f)\n",
				  dlen * 8.0 / 1000, glen * 8.0 / 1000);
	assert_true(dlen * 2 < glen);
	cd_kpi(v, 1000, 3);
	dlen = (int64_t) rt_dec(v, 1000);
	memcpy(bits, v, sizeof(bits));
	glen = codec_gorilla_encode(bits, 1000, buf, sizeof(buf));
	print_message("# dec: 1000 KPI values like bench/gen.c: %.2f bits/value (gorilla %.2f)\n",
				  dlen * 8.0 / 1000, glen * 8.0 / 1000);
	assert_true(dlen < glen);
	for (int i = 0; i < 1000; i++)
		v[i] = 99.5;
	dlen = (int64_t) rt_dec(v, 1000);
	print_message("# dec: 1000 equal values: %lld bytes\n", (long long) dlen);
	assert_true(dlen <= 24);
}

static void
test_dec_corrupt(void **state)
{
	double		v[200];
	uint8_t		buf[4000];
	uint8_t		in[4000 + 16];
	double		out[200 + GUARD / 8];
	int64_t		len;
	uint32_t	got;
	cd_rng		r = {9};

	(void) state;
	cd_kpi(v, 200, 5);
	len = codec_dec_encode(v, 200, buf, sizeof(buf));
	assert_true(len > 0);
	for (int64_t cut = 0; cut < len; cut++)
	{
		uint8_t    *p = xmalloc((size_t) cut);

		memcpy(p, buf, (size_t) cut);
		assert_true(codec_dec_decode(p, (size_t) cut, out, 200, &got) < 0);
		free(p);
	}
	for (int k = 0; k < 5000; k++)
	{
		size_t		l = (size_t) len;

		memcpy(in, buf, (size_t) len);
		switch (k % 3)
		{
			case 0: in[cd_next(&r) % (uint64_t) len] ^= (uint8_t) (1u << (cd_next(&r) % 8)); break;
			case 1: in[cd_next(&r) % (uint64_t) len] = (uint8_t) cd_next(&r); break;
			default: l += cd_next(&r) % 16; break;
		}
		guard_set(out, 200 * 8);
		if (codec_dec_decode(in, l, out, 200, &got) == CODEC_OK)
			assert_true(got <= 200);
		guard_check(out, 200 * 8);
	}
	{
		/* exponent 19; a mantissa of 2^53 */
		const uint8_t e19[] = {19, 1, 0};
		int64_t		m = INT64_C(1) << 53;
		uint8_t		big[64];
		int64_t		bl;

		assert_int_equal(codec_dec_decode(e19, sizeof(e19), out, 4, &got), CODEC_ECORRUPT);
		big[0] = 0;
		bl = codec_i64_encode(&m, 1, 1, big + 1, sizeof(big) - 1);
		assert_true(bl > 0);
		assert_int_equal(codec_dec_decode(big, (size_t) bl + 1, out, 4, &got), CODEC_ECORRUPT);
	}
}

/* ---- bool ------------------------------------------------------------------ */

static size_t
rt_bool(const uint8_t *v, uint32_t n)
{
	size_t		bound = codec_bool_bound(n);
	uint8_t    *buf = xmalloc(bound + GUARD);
	uint8_t    *out = xmalloc((size_t) n + GUARD);
	int64_t		len;
	uint32_t	got;

	guard_set(buf, bound);
	len = codec_bool_encode(v, n, buf, bound);
	assert_true(len > 0 && (size_t) len <= bound);
	guard_check(buf, bound);
	assert_int_equal(codec_bool_encode(v, n, buf, (size_t) len - 1), CODEC_ESPACE);
	assert_int_equal(/* deterministic; and the failed encoding scribbled on buf */
		codec_bool_encode(v, n, buf, bound), len);
	guard_set(out, n);
	assert_int_equal(codec_bool_decode(buf, (size_t) len, out, n, &got), CODEC_OK);
	guard_check(out, n);
	assert_int_equal(got, n);
	for (uint32_t i = 0; i < n; i++)
		assert_int_equal(out[i], v[i] != 0);
	if (n > 0)
		assert_int_equal(codec_bool_decode(buf, (size_t) len, out, n - 1, &got), CODEC_ELIMIT);
	free(buf);
	free(out);
	return (size_t) len;
}

static void
test_bool(void **state)
{
	enum { N = 5000 };
	uint8_t    *v = xmalloc(N);
	cd_rng		r = {21};
	size_t		len;

	(void) state;
	for (uint32_t n = 0; n < 300; n++)
	{
		for (uint32_t i = 0; i < n; i++)
			v[i] = (uint8_t) (cd_next(&r) % 2);
		rt_bool(v, n);
		for (uint32_t i = 0; i < n; i++)
			v[i] = (uint8_t) ((i / (1 + n % 70)) % 2);
		rt_bool(v, n);
	}
	memset(v, 0, N);
	len = rt_bool(v, N);
	print_message("# bool: %d false in %zu bytes\n", N, len);
	assert_true(len <= 16);
	memset(v, 1, N);
	assert_true(rt_bool(v, N) <= 16);
	for (uint32_t i = 0; i < N; i++)
		v[i] = (uint8_t) (cd_next(&r) % 2);
	len = rt_bool(v, N);
	print_message("# bool: %d random in %zu bytes (%.3f bits/value)\n", N, len, len * 8.0 / N);
	assert_true(len * 8.0 / N < 1.1);
	for (uint32_t i = 0; i < N; i++)	/* non-0/1 bytes are true */
		v[i] = (uint8_t) cd_next(&r);
	rt_bool(v, N);
	free(v);
}

static void
test_bool_corrupt(void **state)
{
	uint8_t		v[1000];
	uint8_t		buf[400];
	uint8_t		in[400 + 16];
	uint8_t		out[1000 + GUARD];
	int64_t		len;
	uint32_t	got;
	cd_rng		r = {23};

	(void) state;
	for (int i = 0; i < 1000; i++)
		v[i] = i < 300 ? 0 : i < 500 ? (uint8_t) (cd_next(&r) % 2) : 1;
	len = codec_bool_encode(v, 1000, buf, sizeof(buf));
	assert_true(len > 0);
	for (int64_t cut = 0; cut < len; cut++)
	{
		uint8_t    *p = xmalloc((size_t) cut);

		memcpy(p, buf, (size_t) cut);
		assert_true(codec_bool_decode(p, (size_t) cut, out, 1000, &got) < 0);
		free(p);
	}
	for (int k = 0; k < 5000; k++)
	{
		size_t		l = (size_t) len;

		memcpy(in, buf, (size_t) len);
		switch (k % 3)
		{
			case 0: in[cd_next(&r) % (uint64_t) len] ^= (uint8_t) (1u << (cd_next(&r) % 8)); break;
			case 1: in[cd_next(&r) % (uint64_t) len] = (uint8_t) cd_next(&r); break;
			default: l += cd_next(&r) % 16; break;
		}
		guard_set(out, 1000);
		if (codec_bool_decode(in, l, out, 1000, &got) == CODEC_OK)
		{
			assert_true(got <= 1000);
			for (uint32_t i = 0; i < got; i++)
				assert_true(out[i] <= 1);
		}
		guard_check(out, 1000);
	}
	{
		/* a packed word of 2-bit values is not a boolean */
		uint8_t		two[1 + 8] = {3, 0x02 | 0x20, 0, 0, 0, 0, 0, 0, 0};

		assert_int_equal(codec_bool_decode(two, sizeof(two), out, 10, &got), CODEC_ECORRUPT);
	}
}

/* ---- dict ------------------------------------------------------------------ */

static size_t
rt_dict(const codec_bytes *v, uint32_t n)
{
	size_t		bound = codec_dict_bound(v, n);
	uint8_t    *buf = xmalloc(bound + GUARD);
	codec_bytes *out = xmalloc((size_t) n * sizeof(codec_bytes) + GUARD);
	int64_t		len;
	uint32_t	got;

	guard_set(buf, bound);
	len = codec_dict_encode(v, n, buf, bound);
	assert_true(len > 0 && (size_t) len <= bound);
	guard_check(buf, bound);
	assert_int_equal(codec_dict_encode(v, n, buf, (size_t) len - 1), CODEC_ESPACE);
	assert_int_equal(/* deterministic; and the failed encoding scribbled on buf */
		codec_dict_encode(v, n, buf, bound), len);
	guard_set(out, n * sizeof(codec_bytes));
	assert_int_equal(codec_dict_decode(buf, (size_t) len, out, n, &got), CODEC_OK);
	guard_check(out, n * sizeof(codec_bytes));
	assert_int_equal(got, n);
	for (uint32_t i = 0; i < n; i++)
	{
		assert_int_equal(out[i].len, v[i].len);
		assert_true(out[i].p >= buf && out[i].p + out[i].len <= buf + len);
		if (v[i].len)
			assert_memory_equal(out[i].p, v[i].p, v[i].len);
	}
	if (n > 0)
		assert_int_equal(codec_dict_decode(buf, (size_t) len, out, n - 1, &got), CODEC_ELIMIT);
	free(buf);
	free(out);
	return (size_t) len;
}

static const char *words[] = {"", "a", "revenue", "cogs", "orders", "website_sessions",
	"churned_customers", "a\0b", "\xff\xfe", "revenue ", "Revenue", "0123456789abcdef01234"};

static void
fill_words(codec_bytes *v, uint32_t n, uint32_t distinct, cd_rng *r)
{
	uint32_t	nw = sizeof(words) / sizeof(words[0]);

	for (uint32_t i = 0; i < n; i++)
	{
		uint32_t	w = (uint32_t) (cd_next(r) % (distinct < nw ? distinct : nw));

		v[i].p = (const uint8_t *) words[w];
		v[i].len = (uint32_t) (w == 7 ? 3 : strlen(words[w]));
	}
}

static void
test_dict(void **state)
{
	enum { N = 3000 };
	codec_bytes *v = xmalloc(N * sizeof(codec_bytes));
	uint8_t    *store = xmalloc(N * 16);
	cd_rng		r = {31};
	size_t		len;

	(void) state;
	rt_dict(v, 0);
	for (uint32_t n = 1; n < 200; n += 7)
	{
		fill_words(v, n, 1 + n % 12, &r);
		rt_dict(v, n);
	}
	for (uint32_t i = 0; i < N; i++)	/* all empty */
	{
		v[i].p = NULL;
		v[i].len = 0;
	}
	rt_dict(v, N);
	assert_int_equal(codec_dict_distinct(v, N, 100), 1);
	cd_uuids(v, 1000, store, 5, 1);
	len = rt_dict(v, 1000);
	print_message("# dict: 1000 uuids of 5 sources in runs: %zu bytes (%.2f bits/value)\n",
				  len, len * 8.0 / 1000);
	assert_true(len < 700);
	cd_uuids(v, 1000, store, 1, 1);
	len = rt_dict(v, 1000);
	print_message("# dict: 1000 equal uuids: %zu bytes\n", len);
	assert_true(len <= 40);
	cd_uuids(v, N, store, N, 2);	/* high cardinality still works */
	rt_dict(v, N);
	/* distinct counting */
	cd_uuids(v, 1000, store, 7, 3);
	assert_true(codec_dict_distinct(v, 1000, 1000) <= 7);
	assert_int_equal(codec_dict_distinct(v, 1000, 2), 2);
	assert_int_equal(codec_dict_distinct(v, 1000, 0), 0);
	assert_int_equal(codec_dict_distinct(v, 0, 10), 0);
	for (uint32_t i = 0; i < N; i++)
	{
		v[i].p = store + i * 16;
		v[i].len = 16;
		memset(store + i * 16, 0, 16);
		memcpy(store + i * 16, &i, sizeof(i));
	}
	assert_int_equal(codec_dict_distinct(v, N, N), N);
	assert_int_equal(codec_dict_distinct(v, N, 50), 50);
	free(v);
	free(store);
}

static void
test_dict_corrupt(void **state)
{
	codec_bytes v[500];
	codec_bytes out[500 + GUARD / sizeof(codec_bytes) + 1];
	uint8_t		buf[20000];
	uint8_t		in[20000 + 16];
	int64_t		len;
	uint32_t	got;
	cd_rng		r = {37};

	(void) state;
	fill_words(v, 500, 12, &r);
	len = codec_dict_encode(v, 500, buf, sizeof(buf));
	assert_true(len > 0);
	for (int64_t cut = 0; cut < len; cut++)
	{
		uint8_t    *p = xmalloc((size_t) cut);

		memcpy(p, buf, (size_t) cut);
		assert_true(codec_dict_decode(p, (size_t) cut, out, 500, &got) < 0);
		free(p);
	}
	for (int k = 0; k < 5000; k++)
	{
		size_t		l = (size_t) len;

		memcpy(in, buf, (size_t) len);
		switch (k % 3)
		{
			case 0: in[cd_next(&r) % (uint64_t) len] ^= (uint8_t) (1u << (cd_next(&r) % 8)); break;
			case 1: in[cd_next(&r) % (uint64_t) len] = (uint8_t) cd_next(&r); break;
			default: l += cd_next(&r) % 16; break;
		}
		guard_set(out, 500 * sizeof(codec_bytes));
		if (codec_dict_decode(in, l, out, 500, &got) == CODEC_OK)
		{
			assert_true(got <= 500);
			for (uint32_t i = 0; i < got; i++)
				assert_true(out[i].p >= in && out[i].p + out[i].len <= in + l);
		}
		guard_check(out, 500 * sizeof(codec_bytes));
	}
	{
		/* offsets going backwards; an index past the dictionary */
		const uint8_t back[] = {2, 2, 3, 0, 0, 0, 1, 0, 0, 0, 'a', 'b', 'c'};
		uint8_t		idx[2 + 4 + 1 + 8] = {1, 1, 1, 0, 0, 0, 'x'};

		assert_int_equal(codec_dict_decode(back, sizeof(back), out, 4, &got), CODEC_ECORRUPT);
		/* run word: count 1, value 1 (only entry 0 exists) */
		idx[7] = 0x10;
		idx[11] = 1;
		assert_int_equal(codec_dict_decode(idx, sizeof(idx), out, 4, &got), CODEC_ECORRUPT);
		idx[11] = 0;
		assert_int_equal(codec_dict_decode(idx, sizeof(idx), out, 4, &got), CODEC_OK);
		assert_int_equal(got, 1);
		assert_int_equal(out[0].len, 1);
		assert_int_equal(out[0].p[0], 'x');
	}
}

/* ---- blob ------------------------------------------------------------------ */

static size_t
rt_blob(const codec_bytes *v, uint32_t n)
{
	size_t		bound = codec_blob_bound(v, n);
	uint8_t    *buf = xmalloc(bound + GUARD);
	codec_bytes *out = xmalloc((size_t) n * sizeof(codec_bytes) + GUARD);
	uint8_t    *data;
	int64_t		len;
	uint32_t	got,
				pn;
	size_t		total = 0,
				ptotal;

	for (uint32_t i = 0; i < n; i++)
		total += v[i].len;
	guard_set(buf, bound);
	len = codec_blob_encode(v, n, buf, bound);
	assert_true(len > 0 && (size_t) len <= bound);
	guard_check(buf, bound);
	assert_int_equal(codec_blob_encode(v, n, buf, (size_t) len - 1), CODEC_ESPACE);
	assert_int_equal(/* deterministic; and the failed encoding scribbled on buf */
		codec_blob_encode(v, n, buf, bound), len);
	assert_int_equal(codec_blob_peek(buf, (size_t) len, &pn, &ptotal), CODEC_OK);
	assert_int_equal(pn, n);
	assert_int_equal(ptotal, total);
	data = xmalloc(total + GUARD);
	guard_set(data, total);
	guard_set(out, n * sizeof(codec_bytes));
	assert_int_equal(codec_blob_decode(buf, (size_t) len, out, n, &got, data, total), CODEC_OK);
	guard_check(out, n * sizeof(codec_bytes));
	guard_check(data, total);
	assert_int_equal(got, n);
	for (uint32_t i = 0; i < n; i++)
	{
		assert_int_equal(out[i].len, v[i].len);
		if (v[i].len)
			assert_memory_equal(out[i].p, v[i].p, v[i].len);
	}
	if (n > 0)
		assert_int_equal(codec_blob_decode(buf, (size_t) len, out, n - 1, &got, data, total),
						 CODEC_ELIMIT);
	if (total > 0)
		assert_int_equal(codec_blob_decode(buf, (size_t) len, out, n, &got, data, total - 1),
						 CODEC_ELIMIT);
	free(buf);
	free(out);
	free(data);
	return (size_t) len;
}

static void
test_blob(void **state)
{
	enum { N = 2000 };
	codec_bytes *v = xmalloc(N * sizeof(codec_bytes));
	uint8_t    *store = xmalloc(N * 64);
	cd_rng		r = {41};
	size_t		len;

	(void) state;
	rt_blob(v, 0);
	for (uint32_t i = 0; i < N; i++)
	{
		v[i].p = NULL;
		v[i].len = 0;
	}
	rt_blob(v, N);
	for (uint32_t n = 1; n < 120; n += 3)
	{
		fill_words(v, n, 12, &r);
		rt_blob(v, n);
	}
	for (uint32_t i = 0; i < N * 64; i++)	/* incompressible: stored raw */
		store[i] = (uint8_t) cd_next(&r);
	for (uint32_t i = 0; i < N; i++)
	{
		v[i].p = store + i * 32;
		v[i].len = (uint32_t) (cd_next(&r) % 33);
	}
	len = rt_blob(v, N);
	cd_uuids(v, 1000, store, 1000, 4);
	len = rt_blob(v, 1000);
	print_message("# blob: 1000 random uuids: %zu bytes (%.1f bits/value)\n", len, len * 8.0 / 1000);
	assert_true(len <= 16000 + 64);
	fill_words(v, 1000, 7, &r);
	len = rt_blob(v, 1000);
	print_message("# blob: 1000 words out of 7: %zu bytes\n", len);
	cd_uuids(v, 1000, store, 5, 5);
	len = rt_blob(v, 1000);
	print_message("# blob: 1000 uuids of 5 sources: %zu bytes\n", len);
	free(v);
	free(store);
}

static void
test_blob_corrupt(void **state)
{
	codec_bytes v[300];
	codec_bytes out[300 + GUARD / sizeof(codec_bytes) + 1];
	uint8_t		buf[20000];
	uint8_t		in[20000 + 16];
	uint8_t		data[20000 + GUARD];
	int64_t		len;
	uint32_t	got,
				pn;
	size_t		ptotal;
	cd_rng		r = {43};

	(void) state;
	for (int variant = 0; variant < 2; variant++)
	{
		fill_words(v, 300, variant ? 12 : 2, &r);
		if (variant == 0)
			v[0].len = 0;
		len = codec_blob_encode(v, 300, buf, sizeof(buf));
		assert_true(len > 0);
		for (int64_t cut = 0; cut < len; cut++)
		{
			uint8_t    *p = xmalloc((size_t) cut);

			memcpy(p, buf, (size_t) cut);
			assert_true(codec_blob_decode(p, (size_t) cut, out, 300, &got, data, 20000) < 0);
			free(p);
		}
		for (int k = 0; k < 5000; k++)
		{
			size_t		l = (size_t) len;

			memcpy(in, buf, (size_t) len);
			switch (k % 3)
			{
				case 0: in[cd_next(&r) % (uint64_t) len] ^= (uint8_t) (1u << (cd_next(&r) % 8)); break;
				case 1: in[cd_next(&r) % (uint64_t) len] = (uint8_t) cd_next(&r); break;
				default: l += cd_next(&r) % 16; break;
			}
			if (codec_blob_peek(in, l, &pn, &ptotal) == CODEC_OK)
				assert_true(ptotal <= (size_t) l * 32768);
			guard_set(out, 300 * sizeof(codec_bytes));
			guard_set(data, 20000);
			if (codec_blob_decode(in, l, out, 300, &got, data, 20000) == CODEC_OK)
			{
				assert_true(got <= 300);
				for (uint32_t i = 0; i < got; i++)
					assert_true(out[i].p >= data && out[i].p + out[i].len <= data + 20000);
			}
			guard_check(out, 300 * sizeof(codec_bytes));
			guard_check(data, 20000);
		}
	}
	{
		const uint8_t kind[] = {9, 0, 0, 0};
		const uint8_t raw_long[] = {0, 1, 1, 0, 'x', 'y'};

		assert_int_equal(codec_blob_peek(kind, sizeof(kind), &pn, &ptotal), CODEC_ECORRUPT);
		assert_int_equal(codec_blob_peek(raw_long, sizeof(raw_long), &pn, &ptotal), CODEC_ECORRUPT);
		assert_int_equal(codec_blob_peek(NULL, 0, &pn, &ptotal), CODEC_ETRUNC);
	}
}

static void
test_strerror(void **state)
{
	(void) state;
	for (int e = 0; e >= -5; e--)
		assert_non_null(strstr(codec_strerror(e), " "));
	assert_string_equal(codec_strerror(-99), "unknown codec error");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_i64_edges),
		cmocka_unit_test(test_i64_widths),
		cmocka_unit_test(test_i64_random),
		cmocka_unit_test(test_long_runs),
		cmocka_unit_test(test_i64_timestamps_size),
		cmocka_unit_test(test_i64_corrupt),
		cmocka_unit_test(test_gorilla_edges),
		cmocka_unit_test(test_gorilla_random),
		cmocka_unit_test(test_gorilla_corrupt),
		cmocka_unit_test(test_dec_values),
		cmocka_unit_test(test_dec_random),
		cmocka_unit_test(test_dec_size),
		cmocka_unit_test(test_dec_corrupt),
		cmocka_unit_test(test_bool),
		cmocka_unit_test(test_bool_corrupt),
		cmocka_unit_test(test_dict),
		cmocka_unit_test(test_dict_corrupt),
		cmocka_unit_test(test_blob),
		cmocka_unit_test(test_blob_corrupt),
		cmocka_unit_test(test_strerror),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
