/*
 * test_parse.c -- unit tests of parse.c: RFC 3339, UUIDs, metric names,
 * evidence graph node names and edge types, and the JSON member checker.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "parse.h"

static void rfc3339_valid(void **state)
{
    int64_t us;
    assert_int_equal(parse_rfc3339("1970-01-01T00:00:00Z", &us), 0);
    assert_int_equal(us, 0);
    assert_int_equal(parse_rfc3339("2026-11-25T15:20:07Z", &us), 0);
    assert_int_equal(us, INT64_C(1795620007) * 1000000);
    assert_int_equal(parse_rfc3339("2026-11-25T10:20:07-05:00", &us), 0);
    assert_int_equal(us, INT64_C(1795620007) * 1000000);
    assert_int_equal(parse_rfc3339("2026-11-25 20:50:07.5+05:30", &us), 0);
    assert_int_equal(us, INT64_C(1795620007) * 1000000 + 500000);
    assert_int_equal(parse_rfc3339("2024-02-29T00:00:00.123456789z", &us), 0);
    assert_int_equal(us % 1000000, 123456);
    assert_int_equal(parse_rfc3339("1969-12-31T23:59:59Z", &us), 0);
    assert_int_equal(us, -1000000);
}

static void rfc3339_invalid(void **state)
{
    static const char *bad[] = {
        "", "2026-11-25", "2026-11-25T15:20:07", "2026-13-01T00:00:00Z",
        "2026-02-29T00:00:00Z", "2023-04-31T00:00:00Z", "2026-11-25T24:00:00Z",
        "2026-11-25T23:60:00Z", "2026-11-25T23:59:60Z", "0000-01-01T00:00:00Z",
        "2026-11-25T15:20:07.Z", "2026-11-25T15:20:07+0500",
        "2026-11-25T15:20:07+24:00", "2026-11-25T15:20:07Zjunk",
        "2026/11/25T15:20:07Z", "2026-11-25X15:20:07Z", " 2026-11-25T15:20:07Z",
        "2026-1-25T15:20:07Z", "abcd-11-25T15:20:07Z",
    };
    int64_t us;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (parse_rfc3339(bad[i], &us) != -1)
            fail_msg("accepted '%s'", bad[i]);
    }
    assert_int_equal(parse_rfc3339(NULL, &us), -1);
}

static void uuids(void **state)
{
    assert_true(parse_is_uuid("d3e0d3e0-0000-4000-8000-000000000001"));
    assert_true(parse_is_uuid("D3E0D3E0-ABCD-4000-8000-00000000000F"));
    assert_false(parse_is_uuid("d3e0d3e0-0000-4000-8000-00000000000"));
    assert_false(parse_is_uuid("d3e0d3e0-0000-4000-8000-0000000000011"));
    assert_false(parse_is_uuid("d3e0d3e0x0000-4000-8000-000000000001"));
    assert_false(parse_is_uuid("g3e0d3e0-0000-4000-8000-000000000001"));
    assert_false(parse_is_uuid("1; drop table x"));
    assert_false(parse_is_uuid(NULL));
}

static void metric_types(void **state)
{
    assert_true(parse_is_metric_type("revenue"));
    assert_true(parse_is_metric_type("a"));
    assert_true(parse_is_metric_type("gross_margin_2"));
    assert_false(parse_is_metric_type(""));
    assert_false(parse_is_metric_type("Revenue"));
    assert_false(parse_is_metric_type("2x"));
    assert_false(parse_is_metric_type("_x"));
    assert_false(parse_is_metric_type("a-b"));
    assert_false(parse_is_metric_type("a\"b"));
    char longname[65];
    memset(longname, 'a', 64);
    longname[64] = '\0';
    assert_false(parse_is_metric_type(longname));
    longname[63] = '\0';
    assert_true(parse_is_metric_type(longname));
}

static const parse_field fields[] = {
    {"id", PF_UUID, 1, 0},
    {"name", PF_STRING, 0, 1},
    {"tags", PF_STRING_ARRAY, 0, 0},
    {"at", PF_TIMESTAMP, 0, 0},
    {"n", PF_INTEGER, 0, 0},
};

static int check(const char *text, json_t **errors_out)
{
    json_t *obj = json_loads(text, 0, NULL);
    assert_non_null(obj);
    json_t *errors = json_array();
    int n = parse_check_object(obj, fields, 5, errors);
    assert_int_equal((size_t)n, json_array_size(errors));
    json_decref(obj);
    if (errors_out)
        *errors_out = errors;
    else
        json_decref(errors);
    return n;
}

static void check_object(void **state)
{
    json_t *errors;
    assert_int_equal(check("{\"id\": \"d3e0d3e0-0000-4000-8000-000000000001\"}",
                           NULL), 0);
    assert_int_equal(check("{\"id\": \"d3e0d3e0-0000-4000-8000-000000000001\","
                           " \"name\": null, \"tags\": [\"a\"], "
                           "\"at\": \"2026-01-01T00:00:00Z\", \"n\": 3}", NULL), 0);
    assert_int_equal(check("{}", &errors), 1);
    assert_string_equal(json_string_value(json_object_get(
        json_array_get(errors, 0), "field")), "id");
    assert_string_equal(json_string_value(json_object_get(
        json_array_get(errors, 0), "message")), "is required");
    json_decref(errors);
    assert_int_equal(check("{\"id\": 5, \"tags\": [1], \"at\": \"yesterday\","
                           " \"n\": 1.5, \"extra\": true}", &errors), 5);
    json_decref(errors);
    assert_int_equal(check("{\"id\": null}", NULL), 1);
    assert_int_equal(check("[]", NULL), 1);
}

static void evidence_nodes(void **state)
{
    assert_true(parse_is_node("metric:revenue"));
    assert_true(parse_is_node("event:0b9d6f4e-1c2a-4f7e-9a51-3d2c1b0a9f8e"));
    assert_true(parse_is_node("goal:g"));
    assert_true(parse_is_node("external_factor:us.cpi_u"));
    assert_true(parse_is_node("metric:a:b"));        /* the id may hold ':' */
    assert_false(parse_is_node(NULL));
    assert_false(parse_is_node(""));
    assert_false(parse_is_node("revenue"));
    assert_false(parse_is_node("metric:"));
    assert_false(parse_is_node("Metric:revenue"));
    assert_false(parse_is_node("planet:mars"));
    assert_false(parse_is_node("metric:a\nb"));
    char big[260] = "metric:";
    memset(big + 7, 'x', 200);
    big[207] = '\0';
    assert_true(parse_is_node(big));
    big[207] = 'x';
    big[208] = '\0';
    assert_false(parse_is_node(big));
}

static void evidence_edge_types(void **state)
{
    assert_true(parse_is_edge_types("causes"));
    assert_true(parse_is_edge_types("causes,inhibits,correlates,supports,influenced_by"));
    assert_false(parse_is_edge_types(NULL));
    assert_false(parse_is_edge_types(""));
    assert_false(parse_is_edge_types("cause"));
    assert_false(parse_is_edge_types("causes,"));
    assert_false(parse_is_edge_types(",causes"));
    assert_false(parse_is_edge_types("causes,,inhibits"));
    assert_false(parse_is_edge_types("causes, inhibits"));
    assert_false(parse_is_edge_types("causesx"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rfc3339_valid),
        cmocka_unit_test(rfc3339_invalid),
        cmocka_unit_test(uuids),
        cmocka_unit_test(metric_types),
        cmocka_unit_test(check_object),
        cmocka_unit_test(evidence_nodes),
        cmocka_unit_test(evidence_edge_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
