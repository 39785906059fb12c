/*
 * codec_fuzz.h -- shared bits of the codec libFuzzer targets
 * (codec_*_fuzz.c): every target feeds the input to one decoder, and when
 * it decodes, encodes the result again and checks that decoding that gives
 * back exactly the same values. A failed check aborts (libFuzzer then keeps
 * the input as a crash).
 *
 *   make -C extension/telos fuzz         each target FUZZ_SECONDS (300)
 *   make -C extension/telos fuzz-check   each target 15 s, TAP lines
 */
#ifndef TELOS_CODEC_FUZZ_H
#define TELOS_CODEC_FUZZ_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"

/* Decoders get this capacity: enough for any input libFuzzer makes. */
#define FUZZ_CAP (1u << 16)

#define FUZZ_CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "fuzz check failed at %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/* malloc that the sanitizer sees as exactly n bytes (n may be 0). */
static inline void *
fuzz_alloc(size_t n)
{
	void	   *p = malloc(n ? n : 1);

	FUZZ_CHECK(p != NULL);
	return p;
}

#endif							/* TELOS_CODEC_FUZZ_H */
