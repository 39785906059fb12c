/*
 * dec.c -- float8 columns whose values are decimals (prices, KPIs typed in
 * or parsed from text with a few decimal places): each value is stored as
 * an integer mantissa m with one column-wide exponent e, v == m / 10^e.
 *
 * Why: a value parsed from "1234.5678" is the double nearest 12345678/10^4.
 * Its bit pattern is noisy (Gorilla spends ~50 bits on it), while the
 * mantissas of a series of such values are small and close together, so
 * delta + Simple-8b stores them in ~20 bits.
 *
 * Exactness: the encoder accepts a column only when every value satisfies
 * (double) m / 10^e == v bit for bit, with |m| < 2^53 (so m converts to a
 * double exactly) and e in 0..18 (10^e is exact). The decoder computes the
 * same correctly rounded IEEE division, so the round trip is exact. If v
 * equals m'/10^e' then it also equals (m' * 10^(e-e'))/10^e for e > e' (the
 * same rational, so the same rounding): one e, the largest any value needs,
 * serves the whole column. -0.0, NaN and +-Inf are never decimals here.
 *
 * Format:  e (1 byte, 0..18), then the i64 codec stream of the mantissas
 * (delta mode), whose values the decoder checks: |m| < 2^53.
 */
#include "simple8b.h"

#include <math.h>

#define DEC_MAX_EXP 18
#define DEC_MAX_MANT (INT64_C(1) << 53)
#define DEC_STACK_VALUES 1024

static const double pow10_tab[DEC_MAX_EXP + 1] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
	1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18
};

size_t
codec_dec_bound(uint32_t n)
{
	return 1 + codec_i64_bound(n);
}

/*
 * The mantissa of v at exponent e, if v == m / 10^e exactly; false if not.
 * If v = fl(m / p), then fl(v * p) = m (1 + d1)(1 + d2) with |d| <= 2^-53,
 * within 2 of m for |m| < 2^53: m is the nearest integer or up to two away.
 */
static inline bool
dec_mantissa(double v, int e, int64_t *m)
{
	double		p = pow10_tab[e];
	double		x = v * p;
	int64_t		c;

	if (!(fabs(x) < (double) DEC_MAX_MANT))
		return false;			/* too big, NaN or Inf */
	c = (int64_t) (x >= 0 ? x + 0.5 : x - 0.5);
	if ((double) c / p == v)
	{
		*m = c;
		return true;
	}
	for (int64_t k = c - 2; k <= c + 2; k++)
	{
		if (k != c && k < DEC_MAX_MANT && k > -DEC_MAX_MANT && (double) k / p == v)
		{
			*m = k;
			return true;
		}
	}
	return false;
}

/*
 * gcc cannot see that the stack buffer is filled before it is passed on
 * (every one of the n values is written first) and warns.
 */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
int64_t
codec_dec_encode(const double *v, uint32_t n, uint8_t *out, size_t cap)
{
	int64_t		stackbuf[DEC_STACK_VALUES];
	int64_t    *m = stackbuf;
	int			e = 0;
	int64_t		r;

	if (cap < 1)
		return CODEC_ESPACE;

	/* Pass 1: the smallest exponent every value is exact at. */
	for (uint32_t i = 0; i < n; i++)
	{
		int64_t		dummy;

		if (v[i] == 0 && signbit(v[i]))
			return CODEC_ENA;
		while (!dec_mantissa(v[i], e, &dummy))
		{
			if (++e > DEC_MAX_EXP)
				return CODEC_ENA;
		}
	}

	/* Pass 2: the mantissas at that exponent (may fail on |m| >= 2^53). */
	if (n > DEC_STACK_VALUES)
		m = codec_alloc((size_t) n * sizeof(int64_t));
	for (uint32_t i = 0; i < n; i++)
	{
		if (!dec_mantissa(v[i], e, &m[i]))
		{
			r = CODEC_ENA;
			goto done;
		}
	}
	out[0] = (uint8_t) e;
	r = codec_i64_encode(m, n, 1, out + 1, cap - 1);
	if (r >= 0)
		r += 1;
done:
	if (m != stackbuf)
		codec_free(m);
	return r;
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

int
codec_dec_decode(const uint8_t *in, size_t len, double *out, uint32_t cap, uint32_t *n)
{
	int64_t    *m = (int64_t *) (void *) out;	/* decoded in place */
	uint32_t	count;
	double		p;
	int			err;

	if (len < 1)
		return CODEC_ETRUNC;
	if (in[0] > DEC_MAX_EXP)
		return CODEC_ECORRUPT;
	p = pow10_tab[in[0]];
	if ((err = codec_i64_decode(in + 1, len - 1, m, cap, &count)) != CODEC_OK)
		return err;
	for (uint32_t i = 0; i < count; i++)
	{
		int64_t		x = m[i];

		if (x >= DEC_MAX_MANT || x <= -DEC_MAX_MANT)
			return CODEC_ECORRUPT;
		out[i] = (double) x / p;
	}
	*n = count;
	return CODEC_OK;
}
