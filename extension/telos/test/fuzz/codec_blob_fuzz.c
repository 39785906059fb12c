/*
 * codec_blob_fuzz.c -- libFuzzer target of codec_blob_peek and
 * codec_blob_decode (see codec_fuzz.h). The buffer is sized by what peek
 * says (up to a limit: a hostile frame may claim up to 32768 x its size).
 */
#include "codec_fuzz.h"

#define FUZZ_MAX_TOTAL ((size_t) 64 << 20)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t	n = 0;
	size_t		total = 0;
	codec_bytes *out;
	uint8_t    *buf;

	if (codec_blob_peek(data, size, &n, &total) != CODEC_OK)
	{
		uint8_t		small[16];
		codec_bytes few[4];

		/* decode must refuse what peek refuses */
		FUZZ_CHECK(codec_blob_decode(data, size, few, 4, &n, small, sizeof(small)) != CODEC_OK);
		return 0;
	}
	if (total > FUZZ_MAX_TOTAL || n > FUZZ_CAP)
		return 0;
	out = fuzz_alloc((size_t) n * sizeof(codec_bytes));
	buf = fuzz_alloc(total);
	if (codec_blob_decode(data, size, out, n, &n, buf, total) == CODEC_OK)
	{
		size_t		bound = codec_blob_bound(out, n);
		uint8_t    *enc = fuzz_alloc(bound);
		codec_bytes *back = fuzz_alloc((size_t) n * sizeof(codec_bytes));
		uint8_t    *buf2 = fuzz_alloc(total);
		uint32_t	m = 0,
					pn = 0;
		size_t		ptotal = 0,
					sum = 0;
		int64_t		len;

		for (uint32_t i = 0; i < n; i++)
		{
			FUZZ_CHECK(out[i].len <= total && (size_t) (out[i].p - buf) <= total - out[i].len);
			sum += out[i].len;
		}
		FUZZ_CHECK(sum == total);
		if (total > 0)
			FUZZ_CHECK(codec_blob_decode(data, size, back, n, &m, buf2, total - 1) == CODEC_ELIMIT);
		len = codec_blob_encode(out, n, enc, bound);
		FUZZ_CHECK(len > 0 && (size_t) len <= bound);
		FUZZ_CHECK(codec_blob_peek(enc, (size_t) len, &pn, &ptotal) == CODEC_OK);
		FUZZ_CHECK(pn == n && ptotal == total);
		FUZZ_CHECK(codec_blob_decode(enc, (size_t) len, back, n, &m, buf2, total) == CODEC_OK);
		FUZZ_CHECK(m == n);
		for (uint32_t i = 0; i < n; i++)
			FUZZ_CHECK(back[i].len == out[i].len &&
					   (out[i].len == 0 || memcmp(back[i].p, out[i].p, out[i].len) == 0));
		free(enc);
		free(back);
		free(buf2);
	}
	free(out);
	free(buf);
	return 0;
}
