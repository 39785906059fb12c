/*
 * codec_i64.c -- int64 columns (integers, dates, timestamps): delta or
 * delta-of-delta, zigzag, Simple-8b with runs. Also codec_strerror.
 *
 * Format:  mode (1 byte: 1 = delta, 2 = delta-of-delta; + I64_BITPACK)
 *          n    (varint, number of values)
 *          the zigzagged differences, exactly to the end: Simple-8b words,
 *          or with I64_BITPACK blocks of bit-packed values (bitpack.c),
 *          whichever is smaller
 *
 * Differences are taken in unsigned arithmetic, so every int64 sequence
 * (INT64_MIN next to INT64_MAX included) round-trips without overflow.
 * Delta: d_0 = v_0, d_i = v_i - v_{i-1}.
 * Delta-of-delta: the first value as is, then the second order differences
 * with the first delta taken against 0, so a regular time axis is
 * [v_0, step, 0, 0, ...] -- two packed words and one run word.
 */
#include "simple8b.h"

/* Mode flag: the values are block bit-packed rather than in Simple-8b. */
#define I64_BITPACK 0x10

/* Encoding fits in a stack buffer up to this many values (a segment). */
#define I64_STACK_VALUES 1024

const char *
codec_strerror(int err)
{
	switch (err)
	{
		case CODEC_OK:
			return "no error";
		case CODEC_ETRUNC:
			return "compressed data is truncated";
		case CODEC_ECORRUPT:
			return "compressed data is corrupt";
		case CODEC_ELIMIT:
			return "compressed data holds more values than expected";
		case CODEC_ESPACE:
			return "output buffer too small";
		case CODEC_ENA:
			return "values cannot be represented by this codec";
	}
	return "unknown codec error";
}

size_t
codec_i64_bound(uint32_t n)
{
	return 1 + 5 + s8b_bound(n);	/* > bp_bound(n): bp is used when smaller */
}

/* Writes the zigzagged differences of v in `mode` into z. */
static void
i64_diff(const int64_t *v, uint32_t n, int mode, uint64_t *z)
{
	uint64_t	prev = 0;

	if (mode == 1)
	{
		for (uint32_t i = 0; i < n; i++)
		{
			uint64_t	x = (uint64_t) v[i];

			z[i] = zigzag_enc(x - prev);
			prev = x;
		}
	}
	else
	{
		uint64_t	prevd = 0;

		if (n > 0)
		{
			prev = (uint64_t) v[0];
			z[0] = zigzag_enc(prev);
		}
		for (uint32_t i = 1; i < n; i++)
		{
			uint64_t	x = (uint64_t) v[i];
			uint64_t	d = x - prev;

			z[i] = zigzag_enc(d - prevd);
			prevd = d;
			prev = x;
		}
	}
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
codec_i64_encode(const int64_t *v, uint32_t n, int mode, uint8_t *out, size_t cap)
{
	uint64_t	stackbuf[I64_STACK_VALUES];
	uint64_t   *z = stackbuf;
	size_t		pos = 0;
	int64_t		r;

	if (mode != 1 && mode != 2)
		return CODEC_ENA;
	if (cap < 1)
		return CODEC_ESPACE;
	out[pos++] = (uint8_t) mode;
	if (varint_put(out, cap, &pos, n) != CODEC_OK)
		return CODEC_ESPACE;
	if (n > I64_STACK_VALUES)
		z = codec_alloc((size_t) n * sizeof(uint64_t));
	i64_diff(v, n, mode, z);
	r = s8b_encode(z, n, out + pos, cap - pos);
	{
		size_t		bp = bp_size(z, n);

		if ((r < 0 || bp < (size_t) r) && bp <= cap - pos)
		{
			out[0] |= I64_BITPACK;
			r = bp_encode(z, n, out + pos, cap - pos);
		}
	}
	if (z != stackbuf)
		codec_free(z);
	return r < 0 ? r : (int64_t) pos + r;
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

int
codec_i64_decode(const uint8_t *in, size_t len, int64_t *out, uint32_t cap, uint32_t *n)
{
	size_t		pos = 0;
	uint64_t	count;
	int			mode;
	int			err;
	int64_t		used;
	uint64_t   *z = (uint64_t *) out;

	if (len < 1)
		return CODEC_ETRUNC;
	mode = in[pos] & ~I64_BITPACK;
	if (mode != 1 && mode != 2)
		return CODEC_ECORRUPT;
	pos++;
	if ((err = varint_get(in, len, &pos, UINT32_MAX, &count)) != CODEC_OK)
		return err;
	if (count > cap)
		return CODEC_ELIMIT;

	/* Decode the differences in place, then sum them up. */
	if (in[0] & I64_BITPACK)
		used = bp_decode(in + pos, len - pos, z, (uint32_t) count);
	else
		used = s8b_decode_u64(in + pos, len - pos, z, (uint32_t) count);
	if (used < 0)
		return (int) used;
	if ((size_t) used != len - pos)
		return CODEC_ECORRUPT;

	if (mode == 1)
	{
		uint64_t	prev = 0;

		for (uint32_t i = 0; i < count; i++)
		{
			prev += zigzag_dec(z[i]);
			z[i] = prev;
		}
	}
	else if (count > 0)
	{
		uint64_t	prev = zigzag_dec(z[0]);
		uint64_t	d = 0;

		z[0] = prev;
		for (uint32_t i = 1; i < count; i++)
		{
			d += zigzag_dec(z[i]);
			prev += d;
			z[i] = prev;
		}
	}
	*n = (uint32_t) count;
	return CODEC_OK;
}
