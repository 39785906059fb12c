/* codec_bool_fuzz.c -- libFuzzer target of codec_bool_decode (see codec_fuzz.h). */
#include "codec_fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t out[FUZZ_CAP];
	uint32_t	n = 0;

	if (codec_bool_decode(data, size, out, FUZZ_CAP, &n) == CODEC_OK)
	{
		size_t		bound = codec_bool_bound(n);
		uint8_t    *enc = fuzz_alloc(bound);
		uint8_t    *back = fuzz_alloc(n);
		uint32_t	m = 0;
		int64_t		len;

		FUZZ_CHECK(n <= FUZZ_CAP);
		for (uint32_t i = 0; i < n; i++)
			FUZZ_CHECK(out[i] <= 1);
		if (n > 0)
			FUZZ_CHECK(codec_bool_decode(data, size, back, n - 1, &m) == CODEC_ELIMIT);
		len = codec_bool_encode(out, n, enc, bound);
		FUZZ_CHECK(len > 0 && (size_t) len <= bound);
		FUZZ_CHECK(codec_bool_decode(enc, (size_t) len, back, n, &m) == CODEC_OK);
		FUZZ_CHECK(m == n);
		FUZZ_CHECK(n == 0 || memcmp(back, out, n) == 0);
		free(enc);
		free(back);
	}
	return 0;
}
