/*
 * dict.c -- byte strings of low cardinality (uuids of a few sources, status
 * texts): a dictionary of the distinct strings plus one index per value,
 * the indexes in Simple-8b with runs.
 *
 * Format:  n      (varint, values)
 *          ndict  (varint, dictionary entries; 1..n, 0 when n is 0)
 *          ndict end offsets (uint32 little-endian, non-decreasing): entry
 *                 i is bytes [end[i-1], end[i]) of the dictionary bytes
 *          dictionary bytes (end[ndict-1] of them)
 *          Simple-8b words of the n indexes (each < ndict), to the end
 *
 * Fixed-width offsets let the decoder resolve an index in O(1) straight from
 * the input, so it needs no memory of its own: it decodes the indexes into
 * out[i].len, then replaces each by the entry's pointer and length.
 * Decoded strings point into the input.
 */
#include "simple8b.h"

#define DICT_STACK_VALUES 256

size_t
codec_dict_bound(const codec_bytes *v, uint32_t n)
{
	size_t		bytes = 0;

	for (uint32_t i = 0; i < n; i++)
		bytes += v[i].len;
	return 5 + 5 + (size_t) n * 4 + bytes + s8b_bound32(n);
}

static inline uint64_t
dict_hash(const uint8_t *p, uint32_t len)
{
	uint64_t	h = 0x9e3779b97f4a7c15ULL ^ len;

	while (len >= 8)
	{
		uint64_t	w;

		memcpy(&w, p, 8);
		h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
		h ^= h >> 31;
		p += 8;
		len -= 8;
	}
	if (len > 0)
	{
		uint64_t	w = 0;

		memcpy(&w, p, len);
		h = (h ^ w) * 0x94d049bb133111ebULL;
		h ^= h >> 29;
	}
	return h ^ (h >> 32);
}

static inline bool
bytes_eq(const codec_bytes *a, const codec_bytes *b)
{
	return a->len == b->len && (a->len == 0 || memcmp(a->p, b->p, a->len) == 0);
}

/* Open-addressing table size: a power of two, at least twice `entries`. */
static size_t
table_size(uint32_t entries)
{
	size_t		t = 16;

	while (t < (size_t) entries * 2)
		t <<= 1;
	return t;
}

uint32_t
codec_dict_distinct(const codec_bytes *v, uint32_t n, uint32_t stop_after)
{
	uint32_t	limit = n < stop_after ? n : stop_after;
	size_t		tsize;
	uint32_t   *slot;
	uint32_t	distinct = 0;

	if (limit == 0)
		return 0;
	tsize = table_size(limit);
	slot = codec_alloc(tsize * sizeof(uint32_t));
	memset(slot, 0, tsize * sizeof(uint32_t));
	for (uint32_t i = 0; i < n && distinct < limit; i++)
	{
		size_t		h;

		if (i > 0 && bytes_eq(&v[i], &v[i - 1]))
			continue;
		h = dict_hash(v[i].p, v[i].len) & (tsize - 1);
		for (;;)
		{
			if (slot[h] == 0)
			{
				slot[h] = i + 1;
				distinct++;
				break;
			}
			if (bytes_eq(&v[slot[h] - 1], &v[i]))
				break;
			h = (h + 1) & (tsize - 1);
		}
	}
	codec_free(slot);
	return distinct;
}

int64_t
codec_dict_encode(const codec_bytes *v, uint32_t n, uint8_t *out, size_t cap)
{
	size_t		tsize = table_size(n);
	uint32_t   *slot;			/* hash table: dictionary entry + 1, 0 = empty */
	uint32_t   *first;			/* entry -> position of its first value */
	uint64_t   *idx;			/* value -> entry */
	uint32_t	ndict = 0;
	uint64_t	dbytes = 0;
	size_t		pos = 0;
	int64_t		r;

	slot = codec_alloc(tsize * sizeof(uint32_t) + (size_t) n * (sizeof(uint32_t) + sizeof(uint64_t)));
	idx = (uint64_t *) (slot + tsize);	/* tsize is even: stays 8-aligned */
	first = (uint32_t *) (idx + n);
	memset(slot, 0, tsize * sizeof(uint32_t));

	for (uint32_t i = 0; i < n; i++)
	{
		size_t		h;

		if (i > 0 && bytes_eq(&v[i], &v[i - 1]))
		{
			idx[i] = idx[i - 1];
			continue;
		}
		h = dict_hash(v[i].p, v[i].len) & (tsize - 1);
		for (;;)
		{
			uint32_t	e = slot[h];

			if (e == 0)
			{
				slot[h] = ndict + 1;
				first[ndict] = i;
				dbytes += v[i].len;
				idx[i] = ndict++;
				break;
			}
			if (bytes_eq(&v[first[e - 1]], &v[i]))
			{
				idx[i] = e - 1;
				break;
			}
			h = (h + 1) & (tsize - 1);
		}
	}

	r = CODEC_ENA;
	if (dbytes > UINT32_MAX)
		goto done;				/* offsets are 32-bit */
	r = CODEC_ESPACE;
	if (varint_put(out, cap, &pos, n) != CODEC_OK ||
		varint_put(out, cap, &pos, ndict) != CODEC_OK)
		goto done;
	if (cap - pos < (size_t) ndict * 4 + dbytes)
		goto done;
	{
		uint32_t	end = 0;
		uint8_t    *data = out + pos + (size_t) ndict * 4;

		for (uint32_t d = 0; d < ndict; d++)
		{
			const codec_bytes *s = &v[first[d]];

			if (s->len > 0)
				memcpy(data + end, s->p, s->len);
			end += s->len;
			s8b_store32(out + pos + (size_t) d * 4, end);
		}
		pos += (size_t) ndict * 4 + end;
	}
	r = s8b_encode(idx, n, out + pos, cap - pos);
	if (r >= 0)
		r += (int64_t) pos;
done:
	codec_free(slot);
	return r;
}

int
codec_dict_decode(const uint8_t *in, size_t len, codec_bytes *out, uint32_t cap, uint32_t *n)
{
	size_t		pos = 0;
	uint64_t	count;
	uint64_t	ndict;
	const uint8_t *ends;
	const uint8_t *data;
	uint32_t	prev = 0;
	int64_t		used;
	int			err;

	if ((err = varint_get(in, len, &pos, UINT32_MAX, &count)) != CODEC_OK)
		return err;
	if (count > cap)
		return CODEC_ELIMIT;
	if ((err = varint_get(in, len, &pos, count, &ndict)) != CODEC_OK)
		return err;
	if ((count > 0) != (ndict > 0))
		return CODEC_ECORRUPT;
	if ((len - pos) / 4 < ndict)
		return CODEC_ETRUNC;
	ends = in + pos;
	pos += ndict * 4;
	for (uint32_t d = 0; d < ndict; d++)
	{
		uint32_t	e = s8b_load32(ends + (size_t) d * 4);

		if (e < prev)
			return CODEC_ECORRUPT;
		prev = e;
	}
	if (len - pos < prev)
		return CODEC_ETRUNC;
	data = in + pos;
	pos += prev;

	if (count == 0)
	{
		if (pos != len)
			return CODEC_ECORRUPT;
		*n = 0;
		return CODEC_OK;
	}
	used = s8b_decode_len(in + pos, len - pos, out, (uint32_t) count, (uint32_t) (ndict - 1));
	if (used < 0)
		return (int) used;
	if ((size_t) used != len - pos)
		return CODEC_ECORRUPT;
	for (uint32_t i = 0; i < count; i++)
	{
		uint32_t	d = out[i].len;
		uint32_t	start = d ? s8b_load32(ends + (size_t) (d - 1) * 4) : 0;
		uint32_t	end = s8b_load32(ends + (size_t) d * 4);

		out[i].p = data + start;
		out[i].len = end - start;
	}
	*n = (uint32_t) count;
	return CODEC_OK;
}
