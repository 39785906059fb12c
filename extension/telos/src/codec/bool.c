/*
 * bool.c -- booleans and null bitmaps (one byte, 0 or 1, per value in
 * memory): run words for runs of 60 or more equal values, else 60 values
 * per packed word (Simple-8b selectors 0 and 1, see simple8b.h).
 *
 * Why: null bitmaps are nearly always all-false or all-true within a
 * segment (one 8-byte word), and an irregular boolean column costs about
 * 1.07 bits per value.
 *
 * Format:  n (varint), then Simple-8b words exactly to the end of the input.
 * The decoder accepts any valid Simple-8b word whose values are 0 or 1.
 */
#include "simple8b.h"

size_t
codec_bool_bound(uint32_t n)
{
	return 5 + ((size_t) n / 60 + 1) * 8;
}

int64_t
codec_bool_encode(const uint8_t *v, uint32_t n, uint8_t *out, size_t cap)
{
	size_t		pos = 0;
	int64_t		r;

	if (varint_put(out, cap, &pos, n) != CODEC_OK)
		return CODEC_ESPACE;
	r = s8b_encode_bool(v, n, out + pos, cap - pos);
	return r < 0 ? r : (int64_t) pos + r;
}

int
codec_bool_decode(const uint8_t *in, size_t len, uint8_t *out, uint32_t cap, uint32_t *n)
{
	size_t		pos = 0;
	uint64_t	count;
	int64_t		used;
	int			err;

	if ((err = varint_get(in, len, &pos, UINT32_MAX, &count)) != CODEC_OK)
		return err;
	if (count > cap)
		return CODEC_ELIMIT;
	used = s8b_decode_bool(in + pos, len - pos, out, (uint32_t) count);
	if (used < 0)
		return (int) used;
	if ((size_t) used != len - pos)
		return CODEC_ECORRUPT;
	*n = (uint32_t) count;
	return CODEC_OK;
}
