/*
 * test_migrate.c -- unit tests of the parts of migrate.c that need no
 * database: checksums, the checks on the list of files, the state of a file
 * against its record, and the line of an error position.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include <sodium.h>

#include "migrate.h"

static int setup(void **state)
{
    (void)state;
    return sodium_init() < 0 ? -1 : 0;
}

/* Known BLAKE2b-256 values (b2sum -l 256), so the stored checksums can be
 * reproduced outside telos. */
static void checksum_known_values(void **state)
{
    char hex[MIGRATE_CHECKSUM_HEX + 1];
    migrate_checksum("", hex);
    assert_string_equal(hex, "0e5751c026e543b2e8ab2eb06099daa1"
                             "d1e5df47778f7787faab45cdf12fe3a8");
    migrate_checksum("abc", hex);
    assert_string_equal(hex, "bddd813c634239723171ef3fee98579b"
                             "94964e3bb1cb3e427262c8c068d52319");
    assert_int_equal(strlen(hex), MIGRATE_CHECKSUM_HEX);
}

/* Any change to the text, even whitespace, changes the checksum. */
static void checksum_sees_every_byte(void **state)
{
    char a[MIGRATE_CHECKSUM_HEX + 1], b[MIGRATE_CHECKSUM_HEX + 1];
    migrate_checksum("CREATE TABLE t (x int);\n", a);
    migrate_checksum("CREATE TABLE t (x int); \n", b);
    assert_string_not_equal(a, b);
    migrate_checksum("CREATE TABLE t (x int);\n", b);
    assert_string_equal(a, b);
}

static void list_valid(void **state)
{
    char err[256];
    const migration_file files[] = {
        { "0001_core.sql", "select 1;" },
        { "0002_more_things.sql", "" },
        { "0010_x9.sql", "select 2;" },
        { "12345_long_number.sql", "select 3;" },
    };
    assert_int_equal(migrate_check_list(files, 4, err, sizeof err), 0);
    assert_int_equal(migrate_check_list(files, 0, err, sizeof err), 0);
}

static void list_bad_names(void **state)
{
    static const char *bad[] = {
        "001_short.sql", "0001core.sql", "0001_.sql", "0001_Core.sql",
        "0001_core.SQL", "0001_core.txt", "0001_core", "0001_co-re.sql",
        "0001_core.sql.bak", "abcd_core.sql", "", "0001_co re.sql",
    };
    char err[256];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        migration_file f = { bad[i], "select 1;" };
        err[0] = '\0';
        assert_int_equal(migrate_check_list(&f, 1, err, sizeof err), -1);
        assert_non_null(strstr(err, bad[i]));
    }
    migration_file null_name = { NULL, "select 1;" };
    assert_int_equal(migrate_check_list(&null_name, 1, err, sizeof err), -1);
}

static void list_order_and_duplicates(void **state)
{
    char err[256];
    const migration_file swapped[] = {
        { "0002_b.sql", "" }, { "0001_a.sql", "" },
    };
    assert_int_equal(migrate_check_list(swapped, 2, err, sizeof err), -1);
    assert_non_null(strstr(err, "0001_a.sql"));
    const migration_file dup[] = {
        { "0001_a.sql", "" }, { "0002_b.sql", "" }, { "0002_b.sql", "x" },
    };
    assert_int_equal(migrate_check_list(dup, 3, err, sizeof err), -1);
    assert_non_null(strstr(err, "0002_b.sql"));
    const migration_file no_text[] = { { "0001_a.sql", NULL } };
    assert_int_equal(migrate_check_list(no_text, 1, err, sizeof err), -1);
}

/* The files compiled into this binary pass the same checks. */
static void embedded_list_is_valid(void **state)
{
    char err[256] = "";
    assert_int_equal(migrate_check_list(telos_migrations,
                                        telos_migrations_count, err,
                                        sizeof err), 0);
}

static void state_of_a_file(void **state)
{
    char sum[MIGRATE_CHECKSUM_HEX + 1], other[MIGRATE_CHECKSUM_HEX + 1];
    migrate_checksum("select 1;", sum);
    migrate_checksum("select 2;", other);
    assert_int_equal(migrate_state(sum, NULL), MIGRATION_PENDING);
    assert_int_equal(migrate_state(sum, sum), MIGRATION_APPLIED);
    assert_int_equal(migrate_state(sum, other), MIGRATION_CHANGED);
    assert_int_equal(migrate_state(sum, ""), MIGRATION_CHANGED);
}

static void error_line(void **state)
{
    const char *text = "-- head\nCREATE TABLE a ();\nSELECT * FROM\n  nope;\n";
    assert_int_equal(migrate_error_line(text, 1), 1);
    assert_int_equal(migrate_error_line(text, 8), 1);   /* the newline */
    assert_int_equal(migrate_error_line(text, 9), 2);
    assert_int_equal(migrate_error_line(text, (int)(strstr(text, "nope") -
                                                    text) + 1), 4);
    assert_int_equal(migrate_error_line(text, 0), 0);
    assert_int_equal(migrate_error_line(text, 1000), 0);
    /* Positions count characters: a 2-byte "é" is one. */
    const char *utf8 = "-- caf\xc3\xa9\nSELECT x;\n";
    assert_int_equal(migrate_error_line(utf8, 8), 1);   /* the newline */
    assert_int_equal(migrate_error_line(utf8, 9), 2);   /* 'S' */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(checksum_known_values),
        cmocka_unit_test(checksum_sees_every_byte),
        cmocka_unit_test(list_valid),
        cmocka_unit_test(list_bad_names),
        cmocka_unit_test(list_order_and_duplicates),
        cmocka_unit_test(embedded_list_is_valid),
        cmocka_unit_test(state_of_a_file),
        cmocka_unit_test(error_line),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
