/*
 * copy_binary.c -- PostgreSQL binary COPY encoder (see copy_binary.h).
 */
#include "copy_binary.h"

#include <stdlib.h>
#include <string.h>

void copybin_init(copybin *b)
{
    memset(b, 0, sizeof *b);
}

void copybin_free(copybin *b)
{
    if (b == NULL)
        return;
    free(b->p);
    memset(b, 0, sizeof *b);
}

void copybin_clear(copybin *b)
{
    b->len = 0;
    b->oom = 0;
}

/* Room for n more bytes; 0, or -1 (and oom set) when it cannot grow. */
static int reserve(copybin *b, size_t n)
{
    if (b->oom)
        return -1;
    if (n <= b->cap - b->len)
        return 0;
    size_t cap = b->cap ? b->cap : 64 * 1024;
    while (cap - b->len < n) {
        if (cap > SIZE_MAX / 2) {
            b->oom = 1;
            return -1;
        }
        cap *= 2;
    }
    unsigned char *p = realloc(b->p, cap);
    if (p == NULL) {
        b->oom = 1;
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static void put(copybin *b, const void *src, size_t n)
{
    if (reserve(b, n) == 0) {
        memcpy(b->p + b->len, src, n);
        b->len += n;
    }
}

/* Big-endian integers, written byte by byte: no alignment or host byte
 * order assumptions. */
static void put_u16(copybin *b, uint16_t v)
{
    unsigned char x[2] = {(unsigned char)(v >> 8), (unsigned char)v};
    put(b, x, 2);
}

static void put_u32(copybin *b, uint32_t v)
{
    unsigned char x[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 8), (unsigned char)v};
    put(b, x, 4);
}

static void put_u64(copybin *b, uint64_t v)
{
    put_u32(b, (uint32_t)(v >> 32));
    put_u32(b, (uint32_t)v);
}

void copybin_header(copybin *b)
{
    static const unsigned char sig[11] = {'P', 'G', 'C', 'O', 'P', 'Y', '\n',
                                          0xff, '\r', '\n', '\0'};
    put(b, sig, sizeof sig);
    put_u32(b, 0);   /* flags: no OIDs */
    put_u32(b, 0);   /* header extension length */
}

void copybin_tuple(copybin *b, int16_t nfields)
{
    put_u16(b, (uint16_t)nfields);
}

void copybin_timestamptz(copybin *b, int64_t unix_us)
{
    put_u32(b, 8);
    /* Both operands lie within +-3e17 for years 1..9999: no overflow. */
    put_u64(b, (uint64_t)(unix_us - COPYBIN_PG_EPOCH_US));
}

void copybin_float8(copybin *b, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    put_u32(b, 8);
    put_u64(b, bits);
}

void copybin_text(copybin *b, const char *s, size_t n)
{
    if (n > INT32_MAX) {   /* a field length is a signed 32-bit integer */
        b->oom = 1;
        return;
    }
    put_u32(b, (uint32_t)n);
    put(b, s, n);
}

void copybin_uuid(copybin *b, const unsigned char uuid[16])
{
    put_u32(b, 16);
    put(b, uuid, 16);
}

void copybin_null(copybin *b)
{
    put_u32(b, UINT32_MAX);   /* -1 */
}

void copybin_trailer(copybin *b)
{
    put_u16(b, UINT16_MAX);   /* -1 */
}
