/*
 * test_copy_binary.c -- the binary COPY encoder byte for byte: signature,
 * header, tuple and field framing, the PostgreSQL epoch, IEEE 754 doubles in
 * network order, text, uuid, NULL, trailer, and growth of the buffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "copy_binary.h"

static void header_and_trailer(void **state)
{
    static const unsigned char want[] = {
        'P', 'G', 'C', 'O', 'P', 'Y', '\n', 0xff, '\r', '\n', 0,
        0, 0, 0, 0,     /* flags */
        0, 0, 0, 0,     /* header extension length */
        0xff, 0xff,     /* trailer */
    };
    copybin b;
    copybin_init(&b);
    copybin_header(&b);
    copybin_trailer(&b);
    assert_false(b.oom);
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.p, want, sizeof want);
    copybin_free(&b);
    copybin_free(&b);   /* idempotent */
    copybin_free(NULL);
}

static void one_tuple(void **state)
{
    static const unsigned char uuid[16] = {
        0xd3, 0xe0, 0xd3, 0xe0, 0, 0, 0x40, 0, 0x80, 0, 0, 0, 0, 0, 0, 1};
    static const unsigned char want[] = {
        0, 5,                                   /* 5 fields */
        0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0,     /* 2000-01-01: 0 */
        0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* -1 us */
        0, 0, 0, 8, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0,   /* 1.5 */
        0, 0, 0, 3, 'a', 'b', 'c',
        0, 0, 0, 16, 0xd3, 0xe0, 0xd3, 0xe0, 0, 0, 0x40, 0, 0x80, 0, 0, 0,
        0, 0, 0, 1,
    };
    copybin b;
    copybin_init(&b);
    copybin_tuple(&b, 5);
    copybin_timestamptz(&b, COPYBIN_PG_EPOCH_US);
    copybin_timestamptz(&b, COPYBIN_PG_EPOCH_US - 1);
    copybin_float8(&b, 1.5);
    copybin_text(&b, "abcdef", 3);
    copybin_uuid(&b, uuid);
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.p, want, sizeof want);
    copybin_free(&b);
}

static void nulls_and_specials(void **state)
{
    copybin b;
    copybin_init(&b);
    copybin_null(&b);
    copybin_text(&b, "", 0);
    copybin_float8(&b, -0.0);
    copybin_timestamptz(&b, 0);   /* 1970-01-01 = -946684800 s since 2000 */
    static const unsigned char want[] = {
        0xff, 0xff, 0xff, 0xff,
        0, 0, 0, 0,
        0, 0, 0, 8, 0x80, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 8, 0xff, 0xfc, 0xa2, 0xfe, 0xc4, 0xc8, 0x20, 0x00,
    };
    assert_int_equal(b.len, sizeof want);
    assert_memory_equal(b.p, want, sizeof want);
    /* -946684800000000 = 0xFFFCA2FEC4C82000 in two's complement */
    copybin_free(&b);
}

static void grows_and_clears(void **state)
{
    copybin b;
    copybin_init(&b);
    copybin_header(&b);
    for (int i = 0; i < 100000; i++) {
        copybin_tuple(&b, 1);
        copybin_float8(&b, (double)i);
    }
    assert_false(b.oom);
    assert_int_equal(b.len, 19 + 100000 * 14);
    /* the last value, at the end */
    unsigned char last[8];
    double v = 99999.0;
    uint64_t bits;
    memcpy(&bits, &v, 8);
    for (int i = 0; i < 8; i++)
        last[i] = (unsigned char)(bits >> (56 - 8 * i));
    assert_memory_equal(b.p + b.len - 8, last, 8);
    size_t cap = b.cap;
    copybin_clear(&b);
    assert_int_equal(b.len, 0);
    assert_int_equal(b.cap, cap);
    copybin_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(header_and_trailer),
        cmocka_unit_test(one_tuple),
        cmocka_unit_test(nulls_and_specials),
        cmocka_unit_test(grows_and_clears),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
