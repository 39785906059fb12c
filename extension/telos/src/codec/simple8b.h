/*
 * simple8b.h -- the shared building blocks of the column codecs: little-endian
 * words, LEB128 varints, an MSB-first bit writer/reader, and Simple-8b with
 * run-length blocks.
 *
 * Internal to src/codec/ (not part of codec.h). Everything here is bounded:
 * readers take the input length and fail with CODEC_ETRUNC / CODEC_ECORRUPT
 * instead of reading past it, writers fail with CODEC_ESPACE.
 *
 * Simple-8b word layout (64-bit, stored little-endian). The low 4 bits are
 * the selector:
 *   0      run: bits 4..31 = count (1 .. 2^28-1), bits 32..63 = the value
 *   1..14  packed: N values of B bits each, value j at bit 4 + j*B
 *          (N,B) = (60,1) (30,2) (20,3) (15,4) (12,5) (10,6) (8,7) (7,8)
 *                  (6,10) (5,12) (4,15) (3,20) (2,30) (1,60)
 *   15     escape: bits 4..63 are zero, the next word is one raw 64-bit value
 * Only the last packed word of a stream may hold fewer real values than N;
 * its unused slots are zero.
 */
#ifndef TELOS_CODEC_SIMPLE8B_H
#define TELOS_CODEC_SIMPLE8B_H

#include "codec.h"

#include <stdbool.h>
#include <string.h>

#define S8B_RUN_MAX ((1u << 28) - 1)

/* ---- little-endian words ------------------------------------------------ */

static inline uint64_t
s8b_load64(const uint8_t *p)
{
	uint64_t	v;

	memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	return v;
}

static inline void
s8b_store64(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
	v = __builtin_bswap64(v);
#endif
	memcpy(p, &v, 8);
}

static inline uint32_t
s8b_load32(const uint8_t *p)
{
	return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 |
		(uint32_t) p[3] << 24;
}

static inline void
s8b_store32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t) v;
	p[1] = (uint8_t) (v >> 8);
	p[2] = (uint8_t) (v >> 16);
	p[3] = (uint8_t) (v >> 24);
}

/* ---- zigzag: signed deltas as small unsigned numbers, in unsigned math ---- */

static inline uint64_t
zigzag_enc(uint64_t d)
{
	return (d << 1) ^ (0 - (d >> 63));
}

static inline uint64_t
zigzag_dec(uint64_t z)
{
	return (z >> 1) ^ (0 - (z & 1));
}

/* ---- varints (LEB128) ----------------------------------------------------- */

/* Bytes a varint of v takes (1..10). */
static inline size_t
varint_size(uint64_t v)
{
	size_t		n = 1;

	while (v >= 0x80)
	{
		v >>= 7;
		n++;
	}
	return n;
}

/* Writes v at out[*pos], advancing *pos; CODEC_ESPACE when cap is short. */
static inline int
varint_put(uint8_t *out, size_t cap, size_t *pos, uint64_t v)
{
	size_t		p = *pos;

	if (cap < p || cap - p < varint_size(v))
		return CODEC_ESPACE;
	while (v >= 0x80)
	{
		out[p++] = (uint8_t) (v | 0x80);
		v >>= 7;
	}
	out[p++] = (uint8_t) v;
	*pos = p;
	return CODEC_OK;
}

/*
 * Reads a varint of at most `max` from in[*pos .. len), advancing *pos.
 * Over-long encodings (a value above max, more than 10 bytes, a redundant
 * zero last byte) are CODEC_ECORRUPT, so every value has one encoding.
 */
static inline int
varint_get(const uint8_t *in, size_t len, size_t *pos, uint64_t max, uint64_t *v)
{
	uint64_t	r = 0;
	size_t		p = *pos;
	unsigned	shift = 0;

	for (;;)
	{
		uint8_t		b;

		if (p >= len)
			return CODEC_ETRUNC;
		b = in[p++];
		if (shift == 63 && b > 1)
			return CODEC_ECORRUPT;
		r |= (uint64_t) (b & 0x7f) << shift;
		if (!(b & 0x80))
		{
			if (b == 0 && shift > 0)
				return CODEC_ECORRUPT;
			break;
		}
		shift += 7;
		if (shift > 63)
			return CODEC_ECORRUPT;
	}
	if (r > max)
		return CODEC_ECORRUPT;
	*v = r;
	*pos = p;
	return CODEC_OK;
}

/* ---- MSB-first bit writer (Gorilla) ---------------------------------------- */

typedef struct bitw
{
	uint8_t    *p;				/* next byte to write */
	uint8_t    *end;			/* end of the output buffer */
	uint64_t	acc;			/* pending bits, right-aligned */
	unsigned	n;				/* number of pending bits, 0..63 */
	bool		full;			/* ran out of space */
} bitw;

static inline void
bitw_init(bitw *w, uint8_t *p, uint8_t *end)
{
	w->p = p;
	w->end = end;
	w->acc = 0;
	w->n = 0;
	w->full = false;
}

/* Appends the low nb bits of v (1 <= nb <= 63; higher bits of v are zero). */
static inline void
bitw_put(bitw *w, uint64_t v, unsigned nb)
{
	unsigned	room = 64 - w->n;

	if (nb < room)
	{
		w->acc = (w->acc << nb) | v;
		w->n += nb;
		return;
	}
	else
	{
		unsigned	rest = nb - room;	/* 0 .. 62 */
		uint64_t	word = (w->acc << room) | (v >> rest);

		if (w->end - w->p < 8)
			w->full = true;
		else
		{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
			word = __builtin_bswap64(word);
#endif
			memcpy(w->p, &word, 8);
			w->p += 8;
		}
		w->acc = rest ? (v & ((UINT64_C(1) << rest) - 1)) : 0;
		w->n = rest;
	}
}

/* Appends all 64 bits of v. */
static inline void
bitw_put64(bitw *w, uint64_t v)
{
	bitw_put(w, v >> 32, 32);
	bitw_put(w, v & 0xffffffffu, 32);
}

/* Pads with zero bits to a byte boundary and writes what is pending. */
static inline void
bitw_flush(bitw *w)
{
	while (w->n > 0)
	{
		unsigned	take = w->n >= 8 ? 8 : w->n;
		uint8_t		b = (uint8_t) ((w->acc >> (w->n - take)) << (8 - take));

		if (w->p >= w->end)
		{
			w->full = true;
			return;
		}
		*w->p++ = b;
		w->n -= take;
	}
	w->acc = 0;
}

/* ---- MSB-first bit reader --------------------------------------------------- */

typedef struct bitr
{
	const uint8_t *in;
	size_t		len;			/* bytes */
	size_t		pos;			/* bit position */
} bitr;

/*
 * 64 bits starting at bit `pos`, left-aligned; at least 57 of them are
 * stream bits (beyond the end of the input they read as zero). Callers check
 * the position against len*8 after advancing.
 */
static inline uint64_t
bitr_peek(const bitr *r)
{
	size_t		byte = r->pos >> 3;
	uint64_t	w;

	if (byte + 8 <= r->len)
	{
		memcpy(&w, r->in + byte, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
		w = __builtin_bswap64(w);
#endif
	}
	else
	{
		w = 0;
		for (unsigned i = 0; i < 8; i++)
			w = (w << 8) | (byte + i < r->len ? r->in[byte + i] : 0);
	}
	return w << (r->pos & 7);
}

/* Reads nb bits (1 <= nb <= 57); zeros past the end (caller checks pos). */
static inline uint64_t
bitr_get(bitr *r, unsigned nb)
{
	uint64_t	v = bitr_peek(r) >> (64 - nb);

	r->pos += nb;
	return v;
}

/* Reads nb bits, 1 <= nb <= 64. */
static inline uint64_t
bitr_getn(bitr *r, unsigned nb)
{
	if (nb <= 57)
		return bitr_get(r, nb);
	else
	{
		uint64_t	hi = bitr_get(r, 32);

		return (hi << (nb - 32)) | bitr_get(r, nb - 32);
	}
}

static inline bool
bitr_overrun(const bitr *r)
{
	return r->pos > r->len * 8;
}

/* ---- Simple-8b ---------------------------------------------------------------- */

/* Worst-case bytes of n values: an escape (two words) per value. */
static inline size_t
s8b_bound(uint32_t n)
{
	return (size_t) n * 16;
}

/* Worst-case bytes of n values that all fit in 32 bits: a word per value. */
static inline size_t
s8b_bound32(uint32_t n)
{
	return (size_t) n * 8;
}

/*
 * Encodes n values into out[0..cap); returns the bytes written or
 * CODEC_ESPACE.
 */
int64_t		s8b_encode(const uint64_t *v, uint32_t n, uint8_t *out, size_t cap);

/*
 * Encodes n booleans (nonzero = 1) with run words and 60x1 packed words
 * only; at most ceil(n/60) words. Returns bytes written or CODEC_ESPACE.
 */
int64_t		s8b_encode_bool(const uint8_t *v, uint32_t n, uint8_t *out, size_t cap);

/*
 * Decoders: decode exactly n values (the caller has checked n against its
 * capacity) from in[0..len). Return the bytes consumed (a multiple of 8;
 * the caller decides whether trailing bytes are allowed) or CODEC_ETRUNC /
 * CODEC_ECORRUPT.
 */
int64_t		s8b_decode_u64(const uint8_t *in, size_t len, uint64_t *out, uint32_t n);
/* ... values must be 0 or 1 */
int64_t		s8b_decode_bool(const uint8_t *in, size_t len, uint8_t *out, uint32_t n);
/* ... values must be <= max; stored into out[i].len (out[i].p untouched) */
int64_t		s8b_decode_len(const uint8_t *in, size_t len, codec_bytes *out, uint32_t n,
						   uint32_t max);

/* ---- block bit-packing (bitpack.c) ------------------------------------------ */

/* Worst-case bytes of n values: a width byte per 64 values, 64 bits each. */
static inline size_t
bp_bound(uint32_t n)
{
	return ((size_t) n + 63) / 64 + (size_t) n * 8;
}

/* Exact bytes bp_encode writes for v[0..n). */
size_t		bp_size(const uint64_t *v, uint32_t n);
/* Encodes n values; bytes written or CODEC_ESPACE. */
int64_t		bp_encode(const uint64_t *v, uint32_t n, uint8_t *out, size_t cap);
/* Decodes exactly n values; bytes consumed or CODEC_ETRUNC / CODEC_ECORRUPT. */
int64_t		bp_decode(const uint8_t *in, size_t len, uint64_t *out, uint32_t n);

#endif							/* TELOS_CODEC_SIMPLE8B_H */
