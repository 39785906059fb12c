/*
 * bitpack.c -- block bit-packing, the alternative to Simple-8b for integer
 * streams of uniformly wide values.
 *
 * Why: Simple-8b has only the widths 1..8, 10, 12, 15, 20, 30, 60, so a
 * stream of 22-bit deltas (a noisy KPI with four decimals) costs 30 bits a
 * value and 32-bit deltas cost 60. Packing blocks of 64 values at the
 * block's exact width costs the width plus 1/8 bit. The i64 codec encodes
 * with Simple-8b and switches to this when it is smaller (one pass of ORs
 * tells the size).
 *
 * Layout: blocks of BP_BLOCK values (the last one shorter); each block is a
 * width byte w (0..64) and ceil(count * w / 8) bytes, value j at bits
 * [j*w, (j+1)*w) counted from the least significant bit of the first byte.
 * Unused bits of a block's last byte are zero.
 */
#include "simple8b.h"

#define BP_BLOCK 64

static inline unsigned
width64(uint64_t x)
{
	return x ? 64 - (unsigned) __builtin_clzll(x) : 0;
}

size_t
bp_size(const uint64_t *v, uint32_t n)
{
	size_t		size = 0;

	for (uint32_t b = 0; b < n; b += BP_BLOCK)
	{
		uint32_t	cnt = n - b < BP_BLOCK ? n - b : BP_BLOCK;
		uint64_t	or = 0;

		for (uint32_t j = 0; j < cnt; j++)
			or |= v[b + j];
		size += 1 + ((size_t) cnt * width64(or) + 7) / 8;
	}
	return size;
}

int64_t
bp_encode(const uint64_t *v, uint32_t n, uint8_t *out, size_t cap)
{
	size_t		pos = 0;

	for (uint32_t b = 0; b < n; b += BP_BLOCK)
	{
		uint32_t	cnt = n - b < BP_BLOCK ? n - b : BP_BLOCK;
		const uint64_t *x = v + b;
		uint64_t	or = 0;
		unsigned	w;
		size_t		bytes;
		uint64_t	acc = 0;
		unsigned	fill = 0;
		uint8_t    *p;

		for (uint32_t j = 0; j < cnt; j++)
			or |= x[j];
		w = width64(or);
		bytes = ((size_t) cnt * w + 7) / 8;
		if (cap - pos < 1 + bytes)
			return CODEC_ESPACE;
		out[pos] = (uint8_t) w;
		p = out + pos + 1;
		pos += 1 + bytes;
		if (w == 0)
			continue;
		/* full words go out as they fill; they lie within the block */
		for (uint32_t j = 0; j < cnt; j++)
		{
			acc |= x[j] << fill;
			fill += w;
			if (fill >= 64)
			{
				s8b_store64(p, acc);
				p += 8;
				fill -= 64;
				acc = fill ? x[j] >> (w - fill) : 0;
			}
		}
		for (unsigned k = 0; k < (fill + 7) / 8; k++)
			*p++ = (uint8_t) (acc >> (8 * k));
	}
	return (int64_t) pos;
}

int64_t
bp_decode(const uint8_t *in, size_t len, uint64_t *out, uint32_t n)
{
	size_t		pos = 0;

	for (uint32_t b = 0; b < n; b += BP_BLOCK)
	{
		uint32_t	cnt = n - b < BP_BLOCK ? n - b : BP_BLOCK;
		unsigned	w;
		size_t		bits,
					bytes;
		const uint8_t *p;
		uint8_t		pad[BP_BLOCK * 8 + 16];
		uint64_t	mask;

		if (pos >= len)
			return CODEC_ETRUNC;
		w = in[pos++];
		if (w > 64)
			return CODEC_ECORRUPT;
		bits = (size_t) cnt * w;
		bytes = (bits + 7) / 8;
		if (len - pos < bytes)
			return CODEC_ETRUNC;
		if (w == 0)
		{
			memset(out + b, 0, (size_t) cnt * sizeof(uint64_t));
			continue;
		}
		if ((bits & 7) && (in[pos + bytes - 1] >> (bits & 7)) != 0)
			return CODEC_ECORRUPT;

		/*
		 * Values are read with 9-byte windows; near the end of the input the
		 * block is copied to a zero-padded buffer so no read passes len.
		 */
		p = in + pos;
		if (len - pos < bytes + 9)
		{
			memcpy(pad, p, bytes);
			memset(pad + bytes, 0, sizeof(pad) - bytes);
			p = pad;
		}
		pos += bytes;
		mask = w == 64 ? ~UINT64_C(0) : (UINT64_C(1) << w) - 1;
		for (uint32_t j = 0; j < cnt; j++)
		{
			size_t		bit = (size_t) j * w;
			unsigned	sh = (unsigned) (bit & 7);
			const uint8_t *q = p + (bit >> 3);
			uint64_t	x = s8b_load64(q) >> sh;

			if (w + sh > 64)
				x |= (uint64_t) q[8] << (64 - sh);
			out[b + j] = x & mask;
		}
	}
	return (int64_t) pos;
}
