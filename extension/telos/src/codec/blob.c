/*
 * blob.c -- byte strings of any kind (the fallback for text, bytea, numeric,
 * jsonb ... in their binary form): the lengths in Simple-8b, the bytes
 * concatenated and compressed with zstd (stored raw when zstd does not help).
 *
 * Format:  kind   (1 byte: 0 = raw bytes, 1 = one zstd frame)
 *          n      (varint, values)
 *          total  (varint, sum of the lengths = decompressed payload bytes)
 *          lbytes (varint), then lbytes of Simple-8b words: the n lengths
 *          payload, to the end of the input: total raw bytes, or a zstd
 *                 frame whose header records content size == total
 *
 * Memory: the encoder allocates its scratch space and its zstd context with
 * codec_alloc. The decoder allocates nothing: it decompresses with one
 * static zstd context placed in a static buffer (ZSTD_initStaticDCtx), so
 * it is not reentrant -- fine for a backend, a test, a fuzzer, each
 * single-threaded.
 *
 * zstd itself bounds-checks hostile frames; we add that the frame is
 * exactly the rest of the input, declares exactly `total` bytes, and
 * decompresses to exactly that.
 */
#include "simple8b.h"

#define ZSTD_STATIC_LINKING_ONLY
#include <zstd.h>

#define BLOB_RAW 0
#define BLOB_ZSTD 1
#define BLOB_ZSTD_LEVEL 3
#define BLOB_MIN_ZSTD 32		/* smaller payloads are stored raw */
/* zstd cannot expand more than this (a 4-byte RLE block per 128 KiB) */
#define BLOB_MAX_RATIO 32768

/* The decompression context lives here (ZSTD_estimateDCtxSize() is ~94 KiB). */
static uint64_t blob_dctx_space[(160 * 1024) / sizeof(uint64_t)];
static ZSTD_DCtx *blob_dctx;

static void *
blob_zalloc(void *opaque, size_t n)
{
	(void) opaque;
	return codec_alloc(n);
}

static void
blob_zfree(void *opaque, void *p)
{
	(void) opaque;
	if (p)
		codec_free(p);
}

size_t
codec_blob_bound(const codec_bytes *v, uint32_t n)
{
	size_t		total = 0;

	for (uint32_t i = 0; i < n; i++)
		total += v[i].len;
	return 1 + 5 + 10 + 10 + s8b_bound32(n) + total;
}

int64_t
codec_blob_encode(const codec_bytes *v, uint32_t n, uint8_t *out, size_t cap)
{
	uint64_t	total = 0;
	uint64_t   *lens;
	uint8_t    *lenbuf;
	uint8_t    *data;
	int64_t		lbytes;
	size_t		pos = 0;
	size_t		payload;
	int64_t		r = CODEC_ESPACE;

	for (uint32_t i = 0; i < n; i++)
		total += v[i].len;

	/* scratch: the lengths, their encoding, the concatenated bytes */
	lens = codec_alloc((size_t) n * 8 + s8b_bound32(n) + (size_t) total + 8);
	lenbuf = (uint8_t *) (lens + n);
	data = lenbuf + s8b_bound32(n);
	{
		size_t		off = 0;

		for (uint32_t i = 0; i < n; i++)
		{
			lens[i] = v[i].len;
			if (v[i].len > 0)
				memcpy(data + off, v[i].p, v[i].len);
			off += v[i].len;
		}
	}
	lbytes = s8b_encode(lens, n, lenbuf, s8b_bound32(n));
	if (lbytes < 0)
		goto done;				/* cannot happen: the bound holds */

	if (cap < 1)
		goto done;
	out[pos++] = BLOB_RAW;
	if (varint_put(out, cap, &pos, n) != CODEC_OK ||
		varint_put(out, cap, &pos, total) != CODEC_OK ||
		varint_put(out, cap, &pos, (uint64_t) lbytes) != CODEC_OK ||
		cap - pos < (size_t) lbytes)
		goto done;
	memcpy(out + pos, lenbuf, (size_t) lbytes);
	pos += (size_t) lbytes;

	payload = 0;
	if (total >= BLOB_MIN_ZSTD)
	{
		ZSTD_customMem mem = {blob_zalloc, blob_zfree, NULL};
		ZSTD_CCtx  *cctx = ZSTD_createCCtx_advanced(mem);
		/* only worth it when smaller than raw */
		size_t		zcap = cap - pos < total - 1 ? cap - pos : (size_t) total - 1;

		if (cctx != NULL)
		{
			size_t		z = ZSTD_compressCCtx(cctx, out + pos, zcap, data, total,
											  BLOB_ZSTD_LEVEL);

			ZSTD_freeCCtx(cctx);
			if (!ZSTD_isError(z))
			{
				out[0] = BLOB_ZSTD;
				payload = z;
			}
		}
	}
	if (out[0] == BLOB_RAW)
	{
		if (cap - pos < total)
			goto done;
		if (total > 0)
			memcpy(out + pos, data, total);
		payload = total;
	}
	r = (int64_t) (pos + payload);
done:
	codec_free(lens);
	return r;
}

/*
 * Parses and checks the header; sets the count, the total, where the
 * lengths and the payload are.
 */
static int
blob_header(const uint8_t *in, size_t len, uint32_t *n, size_t *total,
			size_t *lpos, size_t *lbytes, size_t *ppos)
{
	size_t		pos = 0;
	uint64_t	count,
				tot,
				lb;
	size_t		plen;
	int			err;

	if (len < 1)
		return CODEC_ETRUNC;
	if (in[0] != BLOB_RAW && in[0] != BLOB_ZSTD)
		return CODEC_ECORRUPT;
	pos = 1;
	if ((err = varint_get(in, len, &pos, UINT32_MAX, &count)) != CODEC_OK ||
		(err = varint_get(in, len, &pos, SIZE_MAX / 2, &tot)) != CODEC_OK ||
		(err = varint_get(in, len, &pos, SIZE_MAX / 2, &lb)) != CODEC_OK)
		return err;
	if (len - pos < lb)
		return CODEC_ETRUNC;
	*lpos = pos;
	*lbytes = (size_t) lb;
	pos += (size_t) lb;
	plen = len - pos;
	if (in[0] == BLOB_RAW)
	{
		if (plen < tot)
			return CODEC_ETRUNC;
		if (plen > tot)
			return CODEC_ECORRUPT;
	}
	else
	{
		unsigned long long fsize;

		if (tot / BLOB_MAX_RATIO > plen)
			return CODEC_ECORRUPT;
		fsize = ZSTD_getFrameContentSize(in + pos, plen);
		if (fsize == ZSTD_CONTENTSIZE_ERROR || fsize == ZSTD_CONTENTSIZE_UNKNOWN)
			return plen < 18 ? CODEC_ETRUNC : CODEC_ECORRUPT;
		/* one frame, exactly the rest of the input, never empty */
		if (fsize != tot || tot == 0 || ZSTD_findFrameCompressedSize(in + pos, plen) != plen)
			return CODEC_ECORRUPT;
	}
	*n = (uint32_t) count;
	*total = (size_t) tot;
	*ppos = pos;
	return CODEC_OK;
}

int
codec_blob_peek(const uint8_t *in, size_t len, uint32_t *n, size_t *total)
{
	size_t		lpos,
				lbytes,
				ppos;

	return blob_header(in, len, n, total, &lpos, &lbytes, &ppos);
}

int
codec_blob_decode(const uint8_t *in, size_t len, codec_bytes *out, uint32_t cap, uint32_t *n,
				  uint8_t *buf, size_t bufcap)
{
	uint32_t	count;
	size_t		total,
				lpos,
				lbytes,
				ppos;
	uint64_t	sum = 0;
	int64_t		used;
	int			err;

	if ((err = blob_header(in, len, &count, &total, &lpos, &lbytes, &ppos)) != CODEC_OK)
		return err;
	if (count > cap || total > bufcap)
		return CODEC_ELIMIT;

	used = s8b_decode_len(in + lpos, lbytes, out, count, UINT32_MAX);
	if (used < 0)
		return (int) used;
	if ((size_t) used != lbytes)
		return CODEC_ECORRUPT;
	for (uint32_t i = 0; i < count; i++)
		sum += out[i].len;		/* <= 2^32 * 2^32: no overflow */
	if (sum != total)
		return CODEC_ECORRUPT;

	if (in[0] == BLOB_RAW)
	{
		if (total > 0)
			memcpy(buf, in + ppos, total);
	}
	else
	{
		size_t		got;

		if (blob_dctx == NULL)
		{
			if (ZSTD_estimateDCtxSize() > sizeof(blob_dctx_space))
				return CODEC_ENA;	/* a libzstd far bigger than this build knew */
			blob_dctx = ZSTD_initStaticDCtx(blob_dctx_space, sizeof(blob_dctx_space));
			if (blob_dctx == NULL)
				return CODEC_ENA;
		}
		got = ZSTD_decompressDCtx(blob_dctx, buf, total, in + ppos, len - ppos);
		if (ZSTD_isError(got) || got != total)
			return CODEC_ECORRUPT;
	}

	{
		size_t		off = 0;

		for (uint32_t i = 0; i < count; i++)
		{
			out[i].p = buf ? buf + off : NULL;
			off += out[i].len;
		}
	}
	*n = count;
	return CODEC_OK;
}
