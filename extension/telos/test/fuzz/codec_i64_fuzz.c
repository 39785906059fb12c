/* codec_i64_fuzz.c -- libFuzzer target of codec_i64_decode (see codec_fuzz.h). */
#include "codec_fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int64_t out[FUZZ_CAP];	/* static: no big malloc per input */
	uint32_t	n = 0;

	if (codec_i64_decode(data, size, out, FUZZ_CAP, &n) == CODEC_OK)
	{
		size_t		bound = codec_i64_bound(n);
		uint8_t    *enc = fuzz_alloc(bound);
		int64_t    *back = fuzz_alloc((size_t) n * sizeof(int64_t));
		uint32_t	m = 0;
		int64_t		len;

		FUZZ_CHECK(n <= FUZZ_CAP);
		/* a smaller capacity is refused, not overrun */
		if (n > 0)
			FUZZ_CHECK(codec_i64_decode(data, size, back, n - 1, &m) == CODEC_ELIMIT);
		for (int mode = 1; mode <= 2; mode++)
		{
			len = codec_i64_encode(out, n, mode, enc, bound);
			FUZZ_CHECK(len > 0 && (size_t) len <= bound);
			FUZZ_CHECK(codec_i64_decode(enc, (size_t) len, back, n, &m) == CODEC_OK);
			FUZZ_CHECK(m == n);
			FUZZ_CHECK(n == 0 || memcmp(back, out, (size_t) n * sizeof(int64_t)) == 0);
		}
		free(enc);
		free(back);
	}
	return 0;
}
