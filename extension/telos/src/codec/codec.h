/*
 * codec.h -- column codecs of the compressed chunk format (issue 4).
 *
 * Pure C11, no PostgreSQL headers: the same objects are linked into telos.so,
 * the cmocka unit tests (test/codec) and the libFuzzer targets (test/fuzz).
 *
 * Memory: codecs never call malloc; encoders that need scratch space call
 * codec_alloc/codec_free, defined per environment (src/codec_palloc.c in the
 * backend, test/codec/codec_malloc.c elsewhere). Decoders allocate nothing:
 * they write only into caller buffers of the given capacity.
 *
 * Every decoder validates every header field and every length against `len`
 * and `cap` before use; no out-of-bounds access, no unbounded loop.
 *
 * Encoders return the number of bytes written (> 0) or a negative CODEC_E*.
 * Decoders return CODEC_OK and set *n, or a negative CODEC_E*; on error the
 * output buffers hold garbage (within their capacity). Encoders are
 * deterministic, and their output is at most the codec's *_bound() for the
 * same input. codec_alloc never returns NULL (palloc raises, malloc aborts).
 *
 * Files: simple8b.[ch] (shared word/varint/bit I/O, Simple-8b with runs),
 * bitpack.c (block bit-packing), codec_i64.c, gorilla.c, dec.c, bool.c,
 * dict.c, blob.c; the formats are described at the top of each.
 */
#ifndef TELOS_CODEC_H
#define TELOS_CODEC_H

#include <stddef.h>
#include <stdint.h>

#define CODEC_OK 0
#define CODEC_ETRUNC   (-1)   /* input ends early */
#define CODEC_ECORRUPT (-2)   /* impossible values in the input */
#define CODEC_ELIMIT   (-3)   /* more values (or bytes) than the caller's capacity */
#define CODEC_ESPACE   (-4)   /* encoder: output buffer too small */
#define CODEC_ENA      (-5)   /* encoder: this codec cannot represent the input (e.g. decimal) */

const char *codec_strerror(int err);
void *codec_alloc(size_t n);
void codec_free(void *p);

typedef struct codec_bytes { const uint8_t *p; uint32_t len; } codec_bytes;

/* int64 (ints, dates, timestamps): mode 1 = delta, 2 = delta-of-delta; zigzag; Simple-8b with RLE
   (or block bit-packing when smaller); another mode => CODEC_ENA */
size_t  codec_i64_bound(uint32_t n);
int64_t codec_i64_encode(const int64_t *v, uint32_t n, int mode, uint8_t *out, size_t cap); /* bytes or <0 */
int     codec_i64_decode(const uint8_t *in, size_t len, int64_t *out, uint32_t cap, uint32_t *n);

/* 64-bit patterns (float8 bits; float4 bits zero-extended): Gorilla XOR, bit-exact */
size_t  codec_gorilla_bound(uint32_t n);
int64_t codec_gorilla_encode(const uint64_t *bits, uint32_t n, uint8_t *out, size_t cap);
int     codec_gorilla_decode(const uint8_t *in, size_t len, uint64_t *out, uint32_t cap, uint32_t *n);

/* float8 that are decimals: v == m / 10^e bit-exactly for one e in 0..18 and |m| < 2^53 (checked
   per value while encoding; -0.0, NaN, Inf, non-decimals => CODEC_ENA); m via the i64 codec */
size_t  codec_dec_bound(uint32_t n);
int64_t codec_dec_encode(const double *v, uint32_t n, uint8_t *out, size_t cap);
int     codec_dec_decode(const uint8_t *in, size_t len, double *out, uint32_t cap, uint32_t *n);

/* booleans / null bitmaps (one byte 0/1 per value in memory), run-length + Simple-8b */
size_t  codec_bool_bound(uint32_t n);
int64_t codec_bool_encode(const uint8_t *v, uint32_t n, uint8_t *out, size_t cap);
int     codec_bool_decode(const uint8_t *in, size_t len, uint8_t *out, uint32_t cap, uint32_t *n);

/* byte strings, low cardinality: dictionary + run-length indexes; decoded strings point into `in` */
size_t  codec_dict_bound(const codec_bytes *v, uint32_t n);
int64_t codec_dict_encode(const codec_bytes *v, uint32_t n, uint8_t *out, size_t cap);
int     codec_dict_decode(const uint8_t *in, size_t len, codec_bytes *out, uint32_t cap, uint32_t *n);
uint32_t codec_dict_distinct(const codec_bytes *v, uint32_t n, uint32_t stop_after); /* helper to choose */

/* byte strings, anything: lengths (i64 codec) + concatenated bytes compressed with zstd.
   peek gives count and total decompressed bytes (validated) so the caller can size `buf`;
   decoded strings point into buf. The decoder uses one static zstd context (no allocation):
   not reentrant, fine for single-threaded backends, tests and fuzzers. */
size_t  codec_blob_bound(const codec_bytes *v, uint32_t n);
int64_t codec_blob_encode(const codec_bytes *v, uint32_t n, uint8_t *out, size_t cap);
int     codec_blob_peek(const uint8_t *in, size_t len, uint32_t *n, size_t *total);
int     codec_blob_decode(const uint8_t *in, size_t len, codec_bytes *out, uint32_t cap, uint32_t *n,
                          uint8_t *buf, size_t bufcap);

#endif /* TELOS_CODEC_H */
