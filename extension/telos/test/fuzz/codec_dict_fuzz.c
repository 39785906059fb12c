/*
 * codec_dict_fuzz.c -- libFuzzer target of codec_dict_decode (see
 * codec_fuzz.h). Decoded strings must lie inside the input.
 */
#include "codec_fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static codec_bytes out[FUZZ_CAP];	/* static: no big malloc per input */
	uint32_t	n = 0;

	if (codec_dict_decode(data, size, out, FUZZ_CAP, &n) == CODEC_OK)
	{
		size_t		bound = codec_dict_bound(out, n);
		uint8_t    *enc = fuzz_alloc(bound);
		codec_bytes *back = fuzz_alloc((size_t) n * sizeof(codec_bytes));
		uint32_t	m = 0;
		int64_t		len;

		FUZZ_CHECK(n <= FUZZ_CAP);
		for (uint32_t i = 0; i < n; i++)
			FUZZ_CHECK(out[i].p >= data && out[i].len <= size &&
					   out[i].p - data <= (ptrdiff_t) (size - out[i].len));
		if (n > 0)
			FUZZ_CHECK(codec_dict_decode(data, size, back, n - 1, &m) == CODEC_ELIMIT);
		FUZZ_CHECK(codec_dict_distinct(out, n, n) <= n);
		len = codec_dict_encode(out, n, enc, bound);
		FUZZ_CHECK(len > 0 && (size_t) len <= bound);
		FUZZ_CHECK(codec_dict_decode(enc, (size_t) len, back, n, &m) == CODEC_OK);
		FUZZ_CHECK(m == n);
		for (uint32_t i = 0; i < n; i++)
			FUZZ_CHECK(back[i].len == out[i].len &&
					   (out[i].len == 0 || memcmp(back[i].p, out[i].p, out[i].len) == 0));
		free(enc);
		free(back);
	}
	return 0;
}
