/* codec_gorilla_fuzz.c -- libFuzzer target of codec_gorilla_decode (see codec_fuzz.h). */
#include "codec_fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint64_t out[FUZZ_CAP];	/* static: no big malloc per input */
	uint32_t	n = 0;

	if (codec_gorilla_decode(data, size, out, FUZZ_CAP, &n) == CODEC_OK)
	{
		size_t		bound = codec_gorilla_bound(n);
		uint8_t    *enc = fuzz_alloc(bound);
		uint64_t   *back = fuzz_alloc((size_t) n * sizeof(uint64_t));
		uint32_t	m = 0;
		int64_t		len;

		FUZZ_CHECK(n <= FUZZ_CAP);
		if (n > 0)
			FUZZ_CHECK(codec_gorilla_decode(data, size, back, n - 1, &m) == CODEC_ELIMIT);
		len = codec_gorilla_encode(out, n, enc, bound);
		FUZZ_CHECK(len > 0 && (size_t) len <= bound);
		FUZZ_CHECK(codec_gorilla_decode(enc, (size_t) len, back, n, &m) == CODEC_OK);
		FUZZ_CHECK(m == n);
		FUZZ_CHECK(n == 0 || memcmp(back, out, (size_t) n * sizeof(uint64_t)) == 0);
		free(enc);
		free(back);
	}
	return 0;
}
