/*
 * codec_dec_fuzz.c -- libFuzzer target of codec_dec_decode (see
 * codec_fuzz.h). Whatever decodes is a column of decimals (m / 10^e with
 * |m| < 2^53), so the encoder must accept it and the round trip must be
 * bit-exact.
 */
#include "codec_fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static double out[FUZZ_CAP];	/* static: no big malloc per input */
	uint32_t	n = 0;

	if (codec_dec_decode(data, size, out, FUZZ_CAP, &n) == CODEC_OK)
	{
		size_t		bound = codec_dec_bound(n);
		uint8_t    *enc = fuzz_alloc(bound);
		double	   *back = fuzz_alloc((size_t) n * sizeof(double));
		uint32_t	m = 0;
		int64_t		len;

		FUZZ_CHECK(n <= FUZZ_CAP);
		if (n > 0)
			FUZZ_CHECK(codec_dec_decode(data, size, back, n - 1, &m) == CODEC_ELIMIT);
		len = codec_dec_encode(out, n, enc, bound);
		FUZZ_CHECK(len > 0 && (size_t) len <= bound);
		FUZZ_CHECK(codec_dec_decode(enc, (size_t) len, back, n, &m) == CODEC_OK);
		FUZZ_CHECK(m == n);
		FUZZ_CHECK(n == 0 || memcmp(back, out, (size_t) n * sizeof(double)) == 0);
		free(enc);
		free(back);
	}
	return 0;
}
