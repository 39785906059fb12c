/*
 * test_apikey.c -- unit tests of apikey.c: key format, header parsing, the
 * keyed hash and the pepper file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apikey.h"

static void generate_format(void **state)
{
    char a[APIKEY_LEN + 1], b[APIKEY_LEN + 1];
    assert_true(sodium_init() >= 0);
    apikey_generate(a);
    apikey_generate(b);
    assert_int_equal(strlen(a), APIKEY_LEN);
    assert_memory_equal(a, APIKEY_PREFIX, strlen(APIKEY_PREFIX));
    assert_string_not_equal(a, b);
    size_t len;
    char hdr[80];
    snprintf(hdr, sizeof hdr, "Bearer %s", a);
    const char *tok = apikey_from_header(hdr, &len);
    assert_non_null(tok);
    assert_int_equal(len, APIKEY_LEN);
    assert_memory_equal(tok, a, len);
}

static void header_parsing(void **state)
{
    size_t len = 0;
    const char *t = apikey_from_header("bearer   abc_DEF-9  ", &len);
    assert_non_null(t);
    assert_int_equal(len, 9);
    assert_memory_equal(t, "abc_DEF-9", 9);
    assert_null(apikey_from_header(NULL, &len));
    assert_null(apikey_from_header("", &len));
    assert_null(apikey_from_header("Bearer", &len));
    assert_null(apikey_from_header("Bearer ", &len));
    assert_null(apikey_from_header("Basic dXNlcjpwYXNz", &len));
    assert_null(apikey_from_header("Bearerabc", &len));
    assert_null(apikey_from_header("Bearer abc def", &len));
    assert_null(apikey_from_header("Bearer abc'--", &len));
    assert_null(apikey_from_header("Bearer a\xc3\xa9", &len));
    char big[APIKEY_MAX_LEN + 20];
    memcpy(big, "Bearer ", 7);
    memset(big + 7, 'a', APIKEY_MAX_LEN + 1);
    big[7 + APIKEY_MAX_LEN + 1] = '\0';
    assert_null(apikey_from_header(big, &len));
    big[7 + APIKEY_MAX_LEN] = '\0';
    assert_non_null(apikey_from_header(big, &len));
}

static void hash_is_keyed(void **state)
{
    unsigned char p1[APIKEY_PEPPER_LEN] = {1}, p2[APIKEY_PEPPER_LEN] = {2};
    unsigned char h1[APIKEY_HASH_LEN], h2[APIKEY_HASH_LEN], h3[APIKEY_HASH_LEN];
    apikey_hash(p1, "telos_x", 7, h1);
    apikey_hash(p2, "telos_x", 7, h2);
    apikey_hash(p1, "telos_x", 7, h3);
    assert_memory_not_equal(h1, h2, APIKEY_HASH_LEN);
    assert_memory_equal(h1, h3, APIKEY_HASH_LEN);
    apikey_hash(p1, "telos_y", 7, h3);
    assert_memory_not_equal(h1, h3, APIKEY_HASH_LEN);
    char d1[APIKEY_LEN + 1], d2[APIKEY_LEN + 1];
    apikey_demo(p1, d1);
    apikey_demo(p1, d2);
    assert_string_equal(d1, d2);
    apikey_demo(p2, d2);
    assert_string_not_equal(d1, d2);
}

static void pepper_file(void **state)
{
    char dir[] = "/tmp/telos-pepper-XXXXXX";
    assert_non_null(mkdtemp(dir));
    telos_config cfg = {.home = dir};
    unsigned char a[APIKEY_PEPPER_LEN], b[APIKEY_PEPPER_LEN];
    char err[256];
    unsetenv("TELOS_KEY_PEPPER");
    assert_int_equal(apikey_pepper_load(&cfg, a, err, sizeof err), 0);
    assert_int_equal(apikey_pepper_load(&cfg, b, err, sizeof err), 0);
    assert_memory_equal(a, b, APIKEY_PEPPER_LEN);
    char path[300];
    snprintf(path, sizeof path, "%s/key_pepper", dir);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    setenv("TELOS_KEY_PEPPER", "zz", 1);
    assert_int_equal(apikey_pepper_load(&cfg, b, err, sizeof err), -1);
    setenv("TELOS_KEY_PEPPER",
           "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 1);
    assert_int_equal(apikey_pepper_load(&cfg, b, err, sizeof err), 0);
    assert_int_equal(b[31], 0x1f);
    unsetenv("TELOS_KEY_PEPPER");
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(generate_format),
        cmocka_unit_test(header_parsing),
        cmocka_unit_test(hash_is_keyed),
        cmocka_unit_test(pepper_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
