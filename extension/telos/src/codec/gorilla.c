/*
 * gorilla.c -- 64-bit patterns (float8 bits, float4 bits zero-extended) with
 * Gorilla XOR compression (Pelkonen et al., VLDB 2015).
 *
 * The codec works on the bit patterns, never on the floating-point values,
 * so every pattern round-trips exactly: NaN payloads, +-Inf, -0.0 and
 * subnormals included.
 *
 * Format:  n (varint), then an MSB-first bit stream padded with zero bits to
 * a byte boundary, ending exactly at the end of the input:
 *   value 0: 64 raw bits
 *   value i: x = bits_i XOR bits_{i-1}
 *     '0'                     x == 0
 *     '10' + W bits           x fits the current window (lead, W bits wide)
 *     '11' + lead (6 bits) + W-1 (6 bits) + W bits
 *                             a new window: lead = leading zeros of x,
 *                             W = 64 - lead - trailing zeros of x
 * The window starts as (lead 0, W 64). The encoder reuses the window when x
 * fits and the reuse wastes fewer bits than a new window header costs.
 */
#include "simple8b.h"

size_t
codec_gorilla_bound(uint32_t n)
{
	/* at most 2 + 12 + 64 bits per value, plus the varint and padding */
	return 5 + ((size_t) n * 78 + 7) / 8 + 1;
}

int64_t
codec_gorilla_encode(const uint64_t *bits, uint32_t n, uint8_t *out, size_t cap)
{
	size_t		pos = 0;
	bitw		w;
	unsigned	wlead = 0;		/* current window */
	unsigned	wlen = 64;
	unsigned	wtrail = 0;
	uint64_t	prev;

	if (varint_put(out, cap, &pos, n) != CODEC_OK)
		return CODEC_ESPACE;
	if (n == 0)
		return (int64_t) pos;
	bitw_init(&w, out + pos, out + cap);
	prev = bits[0];
	bitw_put64(&w, prev);
	for (uint32_t i = 1; i < n; i++)
	{
		uint64_t	x = bits[i] ^ prev;

		prev = bits[i];
		if (x == 0)
		{
			bitw_put(&w, 0, 1);
			continue;
		}
		{
			unsigned	lead = (unsigned) __builtin_clzll(x);
			unsigned	trail = (unsigned) __builtin_ctzll(x);
			unsigned	len = 64 - lead - trail;

			if (lead >= wlead && trail >= wtrail && wlen - len < 13)
			{
				bitw_put(&w, 2, 2);
				x >>= wtrail;
				if (wlen <= 61)
					bitw_put(&w, x, wlen);
				else
				{
					bitw_put(&w, x >> 32, wlen - 32);
					bitw_put(&w, x & 0xffffffffu, 32);
				}
			}
			else
			{
				wlead = lead;
				wlen = len;
				wtrail = trail;
				bitw_put(&w, (UINT64_C(3) << 12) | (lead << 6) | (len - 1), 14);
				x >>= trail;
				if (len <= 61)
					bitw_put(&w, x, len);
				else
				{
					bitw_put(&w, x >> 32, len - 32);
					bitw_put(&w, x & 0xffffffffu, 32);
				}
			}
		}
	}
	bitw_flush(&w);
	if (w.full)
		return CODEC_ESPACE;
	return (int64_t) (w.p - out);
}

int
codec_gorilla_decode(const uint8_t *in, size_t len, uint64_t *out, uint32_t cap, uint32_t *n)
{
	size_t		pos = 0;
	uint64_t	count;
	int			err;
	bitr		r;
	unsigned	wlen = 64;
	unsigned	wtrail = 0;
	uint64_t	prev;

	if ((err = varint_get(in, len, &pos, UINT32_MAX, &count)) != CODEC_OK)
		return err;
	if (count > cap)
		return CODEC_ELIMIT;
	if (count == 0)
	{
		if (pos != len)
			return CODEC_ECORRUPT;
		*n = 0;
		return CODEC_OK;
	}
	r.in = in + pos;
	r.len = len - pos;
	r.pos = 0;
	/* every value takes at least one bit: a cheap early reject */
	if (r.len * 8 < 63 + (uint64_t) count)
		return CODEC_ETRUNC;
	prev = bitr_getn(&r, 64);
	out[0] = prev;
	for (uint32_t i = 1; i < count; i++)
	{
		uint64_t	h = bitr_peek(&r);

		if (!(h >> 63))
		{
			r.pos += 1;
		}
		else if (!(h >> 62 & 1))
		{
			/* reuse the window */
			r.pos += 2;
			prev ^= bitr_getn(&r, wlen) << wtrail;
		}
		else
		{
			unsigned	lead = (unsigned) (h >> 56) & 63;
			unsigned	wl = (unsigned) ((h >> 50) & 63) + 1;

			if (lead + wl > 64)
				return CODEC_ECORRUPT;
			wlen = wl;
			wtrail = 64 - lead - wl;
			r.pos += 14;
			prev ^= bitr_getn(&r, wlen) << wtrail;
		}
		if (bitr_overrun(&r))
			return CODEC_ETRUNC;
		out[i] = prev;
	}
	if (bitr_overrun(&r))
		return CODEC_ETRUNC;
	/* the stream ends in this byte, padded with zero bits */
	if ((r.pos + 7) / 8 != r.len)
		return CODEC_ECORRUPT;
	if (r.pos & 7)
	{
		uint8_t		last = r.in[r.len - 1];

		if ((uint8_t) (last << (r.pos & 7)) != 0)
			return CODEC_ECORRUPT;
	}
	*n = (uint32_t) count;
	return CODEC_OK;
}
