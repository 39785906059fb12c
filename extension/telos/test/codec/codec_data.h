/*
 * codec_data.h -- realistic column data for the codec tests, the benchmark
 * and the fuzzers' seed corpora: hourly timestamps, decimal KPI values as
 * bench/gen.c prints them (%.4f), random walks, low-cardinality uuids.
 * Deterministic: everything derives from a seed.
 */
#ifndef TELOS_CODEC_DATA_H
#define TELOS_CODEC_DATA_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "codec.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* PostgreSQL timestamps: microseconds since 2000-01-01. */
#define CD_USEC_PER_HOUR INT64_C(3600000000)
#define CD_TS_2025 INT64_C(788918400000000)

static inline uint64_t
cd_mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

typedef struct cd_rng { uint64_t s; } cd_rng;

static inline uint64_t
cd_next(cd_rng *r)
{
	r->s += 0x9e3779b97f4a7c15ULL;
	return cd_mix(r->s);
}

/* An hourly time axis starting at a whole hour in 2025. */
static inline void
cd_hourly(int64_t *ts, uint32_t n, uint64_t seed)
{
	int64_t		t = CD_TS_2025 + (int64_t) (cd_mix(seed) % 8760) * CD_USEC_PER_HOUR;

	for (uint32_t i = 0; i < n; i++)
		ts[i] = t + (int64_t) i * CD_USEC_PER_HOUR;
}

/* Round to `dp` decimal places the way "%.4f" then float8in would. */
static inline double
cd_round_dp(double v, int dp)
{
	double		p = pow(10, dp);

	return (double) (int64_t) llround(v * p) / p;
}

/* A KPI series like bench/gen.c: daily and weekly cycles, noise, 4 places. */
static inline void
cd_kpi(double *v, uint32_t n, uint64_t seed)
{
	double		base = 10 + (double) (cd_mix(seed) % 250000);
	double		noise = 0.05 + (double) (cd_mix(seed + 1) % 60) / 100.0;

	for (uint32_t h = 0; h < n; h++)
	{
		double		u = (double) (cd_mix(seed * 7919 + h) % 100000) / 100000.0 - 0.5;
		double		x = base * (1 + 0.5 * sin(2 * M_PI * ((h + 6) % 24) / 24.0)) *
			(1 + 0.2 * sin(2 * M_PI * (h % 168) / 168.0)) * (1 + noise * u);

		v[h] = cd_round_dp(x < 0 ? 0 : x, 4);
	}
}

/* A random walk with `dp` decimal places. */
static inline void
cd_walk(double *v, uint32_t n, uint64_t seed, int dp)
{
	cd_rng		r = {seed};
	int64_t		m = (int64_t) (cd_next(&r) % 1000000);
	double		p = pow(10, dp);

	for (uint32_t i = 0; i < n; i++)
	{
		m += (int64_t) (cd_next(&r) % 2001) - 1000;
		v[i] = (double) m / p;
	}
}

/*
 * n uuids out of `distinct` ones, in runs (a source sends several points in
 * a row); the 16-byte values live in store (distinct * 16 bytes).
 */
static inline void
cd_uuids(codec_bytes *v, uint32_t n, uint8_t *store, uint32_t distinct, uint64_t seed)
{
	cd_rng		r = {seed};
	uint32_t	cur = 0;

	for (uint32_t d = 0; d < distinct; d++)
	{
		uint64_t	a = cd_next(&r),
					b = cd_next(&r);

		memcpy(store + d * 16, &a, 8);
		memcpy(store + d * 16 + 8, &b, 8);
		store[d * 16 + 6] = (uint8_t) ((store[d * 16 + 6] & 0x0f) | 0x40);
	}
	for (uint32_t i = 0; i < n; i++)
	{
		if (cd_next(&r) % 4 == 0)
			cur = (uint32_t) (cd_next(&r) % distinct);
		v[i].p = store + cur * 16;
		v[i].len = 16;
	}
}

#endif							/* TELOS_CODEC_DATA_H */
