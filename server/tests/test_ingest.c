/*
 * test_ingest.c -- the ingest parsers and validation (ingest.h) without a
 * database: the three formats, line numbers, RFC 4180 corners (quotes, CRLF,
 * CR, BOM, blank lines), every reject reason, batch limits and resumption,
 * the error cap, the encoded COPY tuples, and a fuzz run: thousands of
 * random mutations of valid bodies must never crash, read out of bounds
 * (inputs are exact-size heap copies, so ASan sees an over-read) or break
 * the batch's accounting. TELOS_FUZZ_ITER=N runs N mutations per format.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest_int.h"
#include "parse.h"

/* 2020-01-01T00:00:00Z: rows before it are outside retention */
#define CUTOFF_US (INT64_C(1577836800) * 1000000)

static ingest_rules rules;

static int setup_rules(void **state)
{
    ingest_rules_init(&rules);
    ingest_rules_add(&rules, "revenue", 0);
    ingest_rules_add(&rules, "cash", 0);
    ingest_rules_add(&rules, "margin", 1);
    ingest_rules_add(&rules, "a", 0);
    rules.has_cutoff = 1;
    rules.cutoff_us = CUTOFF_US;
    return ingest_rules_seal(&rules);
}

static int teardown_rules(void **state)
{
    ingest_rules_free(&rules);
    ingest_rules_free(NULL);
    return 0;
}

/* --- decoding what the batch encoded ------------------------------------ */

typedef struct row {
    int64_t t;          /* unix microseconds */
    char mt[80];
    double v;
    int has_src;
    unsigned char src[16];
} row;

static uint64_t be(const unsigned char *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

/* Decode b's COPY stream into rows (up to max); returns the tuple count or
 * fails the test on a malformed stream. */
static size_t decode(const ingest_batch *b, row *rows, size_t max)
{
    const unsigned char *p = b->copy.p, *end = p + b->copy.len;
    assert_true(b->copy.len >= 19);
    assert_memory_equal(p, "PGCOPY\n\377\r\n\0", 11);
    p += 19;
    size_t n = 0;
    while (p < end) {
        assert_true(end - p >= 2);
        assert_int_equal(be(p, 2), 4);
        p += 2;
        row r = {0};
        for (int f = 0; f < 4; f++) {
            assert_true(end - p >= 4);
            int32_t len = (int32_t)be(p, 4);
            p += 4;
            if (len == -1) {
                assert_int_equal(f, 3);
                continue;
            }
            assert_true(len >= 0 && end - p >= len);
            if (f == 0) {
                assert_int_equal(len, 8);
                r.t = (int64_t)be(p, 8) + COPYBIN_PG_EPOCH_US;
            } else if (f == 1) {
                assert_true(len > 0 && len < 64);
                memcpy(r.mt, p, (size_t)len);
            } else if (f == 2) {
                assert_int_equal(len, 8);
                uint64_t bits = be(p, 8);
                memcpy(&r.v, &bits, 8);
                assert_true(isfinite(r.v));
            } else {
                assert_int_equal(len, 16);
                r.has_src = 1;
                memcpy(r.src, p, 16);
            }
            p += len;
        }
        if (n < max)
            rows[n] = r;
        n++;
    }
    return n;
}

/* --- running the reader ------------------------------------------------------- */

typedef struct result {
    int open_rc, read_rc;
    char err[512];
    ingest_batch *b;
    row rows[64];
    size_t nrows;
} result;

/* Parse len bytes of in (copied to an exact-size buffer) as f, reading
 * max records per call until the end; the batch keeps everything. */
static void run_n(ingest_format f, const char *in, size_t len, size_t max,
                  result *res)
{
    memset(res, 0, sizeof *res);
    char *buf = malloc(len ? len : 1);
    assert_non_null(buf);
    memcpy(buf, in, len);
    res->b = ingest_batch_new();
    assert_non_null(res->b);
    ingest_reader rd;
    res->open_rc = ingest_reader_open(&rd, f, buf, len, res->err,
                                      sizeof res->err);
    res->read_rc = -2;
    if (res->open_rc == 0) {
        do
            res->read_rc = ingest_read(&rd, &rules, res->b, max, res->err,
                                       sizeof res->err);
        while (res->read_rc == 1);
    }
    free(buf);
    res->nrows = decode(res->b, res->rows, 64);
    assert_int_equal(res->nrows, res->b->accepted);
    assert_int_equal(res->b->accepted + res->b->rejected, res->b->records);
}

static void run(ingest_format f, const char *in, result *res)
{
    run_n(f, in, strlen(in), SIZE_MAX, res);
}

static void done(result *res)
{
    ingest_batch_free(res->b);
    res->b = NULL;
}

/* The i-th error's line, index (-1 when absent), field ("" when absent)
 * and reason. */
static size_t err_line(const result *r, size_t i)
{
    return (size_t)json_integer_value(json_object_get(
        json_array_get(r->b->errors, i), "line"));
}

static long err_index(const result *r, size_t i)
{
    json_t *v = json_object_get(json_array_get(r->b->errors, i), "index");
    return v ? (long)json_integer_value(v) : -1;
}

static const char *err_field(const result *r, size_t i)
{
    const char *s = json_string_value(json_object_get(
        json_array_get(r->b->errors, i), "field"));
    return s ? s : "";
}

static const char *err_reason(const result *r, size_t i)
{
    const char *s = json_string_value(json_object_get(
        json_array_get(r->b->errors, i), "reason"));
    return s ? s : "";
}

#define assert_reason_has(r, i, text) \
    do { \
        if (strstr(err_reason(r, i), text) == NULL) \
            fail_msg("error %zu reason '%s' lacks '%s'", (size_t)(i), \
                     err_reason(r, i), text); \
    } while (0)

static int64_t ts(const char *s)
{
    int64_t us;
    assert_int_equal(parse_rfc3339(s, &us), 0);
    return us;
}

/* --- formats ------------------------------------------------------------------- */

static void content_types(void **state)
{
    ingest_format f;
    assert_int_equal(ingest_format_from_content_type(NULL, &f), 0);
    assert_int_equal(f, INGEST_JSON);
    assert_int_equal(ingest_format_from_content_type("", &f), 0);
    assert_int_equal(f, INGEST_JSON);
    assert_int_equal(ingest_format_from_content_type("application/json", &f), 0);
    assert_int_equal(f, INGEST_JSON);
    assert_int_equal(ingest_format_from_content_type("Application/JSON; charset=UTF-8", &f), 0);
    assert_int_equal(f, INGEST_JSON);
    assert_int_equal(ingest_format_from_content_type("application/x-ndjson", &f), 0);
    assert_int_equal(f, INGEST_NDJSON);
    assert_int_equal(ingest_format_from_content_type("application/jsonl", &f), 0);
    assert_int_equal(f, INGEST_NDJSON);
    assert_int_equal(ingest_format_from_content_type(" text/csv ;header=present; charset=\"utf-8\"", &f), 0);
    assert_int_equal(f, INGEST_CSV);
    assert_int_equal(ingest_format_from_content_type("text/csv; charset=latin1", &f), -2);
    assert_int_equal(ingest_format_from_content_type("text/plain", &f), -1);
    assert_int_equal(ingest_format_from_content_type("text/csvx", &f), -1);
    assert_int_equal(ingest_format_from_content_type("application/json-seq", &f), -1);
    assert_int_equal(ingest_format_from_content_type(";", &f), -1);
}

static void format_names(void **state)
{
    ingest_format f;
    assert_int_equal(ingest_format_from_name("csv", &f), 0);
    assert_int_equal(f, INGEST_CSV);
    assert_int_equal(ingest_format_from_name("NDJSON", &f), 0);
    assert_int_equal(f, INGEST_NDJSON);
    assert_int_equal(ingest_format_from_name("/tmp/x.points.jsonl", &f), 0);
    assert_int_equal(f, INGEST_NDJSON);
    assert_int_equal(ingest_format_from_name("data.json", &f), 0);
    assert_int_equal(f, INGEST_JSON);
    assert_int_equal(ingest_format_from_name("data.CSV", &f), 0);
    assert_int_equal(f, INGEST_CSV);
    assert_int_equal(ingest_format_from_name("data.txt", &f), -1);
    assert_int_equal(ingest_format_from_name("data", &f), -1);
    assert_int_equal(ingest_format_from_name(NULL, &f), -1);
    assert_string_equal(ingest_format_name(INGEST_CSV), "csv");
    assert_string_equal(ingest_format_name(INGEST_NDJSON), "ndjson");
    assert_string_equal(ingest_format_name(INGEST_JSON), "json");
}

/* --- CSV --------------------------------------------------------------------------- */

static void csv_basic(void **state)
{
    result r;
    run(INGEST_CSV,
        "time,metric_type,value\n"
        "2026-01-05T10:00:00Z,revenue,100.5\n"
        "2026-01-05T11:00:00.123456+01:00,cash,-2e3\n", &r);
    assert_int_equal(r.open_rc, 0);
    assert_int_equal(r.read_rc, 0);
    assert_int_equal(r.b->accepted, 2);
    assert_int_equal(r.b->rejected, 0);
    assert_int_equal(r.rows[0].t, ts("2026-01-05T10:00:00Z"));
    assert_string_equal(r.rows[0].mt, "revenue");
    assert_true(r.rows[0].v == 100.5);
    assert_false(r.rows[0].has_src);
    assert_int_equal(r.rows[1].t, ts("2026-01-05T10:00:00Z") + 123456);
    assert_string_equal(r.rows[1].mt, "cash");
    assert_true(r.rows[1].v == -2000);
    done(&r);
}

static void csv_header_order_case_source(void **state)
{
    result r;
    run(INGEST_CSV,
        "Source,VALUE,metric_type,time\n"
        "d3e0d3e0-0000-4000-8000-00000000000F,1,revenue,2026-01-05T10:00:00Z\n"
        ",2,revenue,2026-01-05T10:00:00Z\n"
        "nope,3,revenue,2026-01-05T10:00:00Z\n", &r);
    assert_int_equal(r.b->accepted, 2);
    assert_true(r.rows[0].has_src);
    assert_int_equal(r.rows[0].src[0], 0xd3);
    assert_int_equal(r.rows[0].src[15], 0x0f);
    assert_true(r.rows[0].v == 1);
    assert_false(r.rows[1].has_src);   /* empty = no source */
    assert_int_equal(r.b->rejected, 1);
    assert_int_equal(err_line(&r, 0), 4);
    assert_string_equal(err_field(&r, 0), "source");
    assert_int_equal(err_index(&r, 0), -1);
    done(&r);
}

static void csv_bom_crlf_blank_lines(void **state)
{
    result r;
    run(INGEST_CSV,
        "\xEF\xBB\xBF" "time,metric_type,value\r\n"
        "\r\n"
        "2026-01-05T10:00:00Z,revenue,1\r\n"
        "   \t \r\n"
        "\r\n"
        "2026-01-05T10:00:00Z,revenue,x\r\n"
        "2026-01-05T10:00:00Z,revenue,3", &r);   /* no final line break */
    assert_int_equal(r.open_rc, 0);
    assert_int_equal(r.b->accepted, 2);
    assert_int_equal(r.b->rejected, 1);
    assert_int_equal(err_line(&r, 0), 6);
    assert_string_equal(err_field(&r, 0), "value");
    assert_true(r.rows[1].v == 3);
    done(&r);

    /* lone CR line ends (old Mac), and a BOM before blank lines */
    run(INGEST_CSV, "\xEF\xBB\xBF\r\rtime,metric_type,value\r"
        "2026-01-05T10:00:00Z,revenue,1\rbad\r", &r);
    assert_int_equal(r.open_rc, 0);
    assert_int_equal(r.b->accepted, 1);
    assert_int_equal(err_line(&r, 0), 5);
    assert_reason_has(&r, 0, "expected 3 fields, found 1");
    done(&r);
}

static void csv_quotes(void **state)
{
    result r;
    run(INGEST_CSV,
        "\"time\",\"metric_type\",\"value\"\n"
        "\"2026-01-05T10:00:00Z\",\"revenue\",\"1.5\"\n"     /* line 2 */
        " \"2026-01-05T10:00:00Z\" , \"cash\" ,\t2\n"        /* 3: spaces */
        "2026-01-05T10:00:00Z,\"re\nvenue\",3\n"             /* 4-5: newline */
        "2026-01-05T10:00:00Z,\"rev\"\"enue\",4\n"           /* 6: "" */
        "2026-01-05T10:00:00Z,rev\"enue,5\n"                 /* 7: bare quote */
        "2026-01-05T10:00:00Z,\"revenue\"x,6\n"              /* 8: after quote */
        "2026-01-05T10:00:00Z,\"a,b\",7\n"                   /* 9: comma */
        "2026-01-05T10:00:00Z,revenue,8\n", &r);             /* 10 */
    assert_int_equal(r.open_rc, 0);
    assert_int_equal(r.b->accepted, 3);
    assert_true(r.rows[0].v == 1.5);
    assert_string_equal(r.rows[1].mt, "cash");
    assert_true(r.rows[1].v == 2);
    assert_true(r.rows[2].v == 8);
    assert_int_equal(r.b->rejected, 5);
    assert_int_equal(err_line(&r, 0), 4);
    assert_string_equal(err_field(&r, 0), "metric_type");
    assert_int_equal(err_line(&r, 1), 6);
    assert_string_equal(err_field(&r, 1), "metric_type");
    assert_int_equal(err_line(&r, 2), 7);
    assert_reason_has(&r, 2, "inside an unquoted field");
    assert_int_equal(err_line(&r, 3), 8);
    assert_reason_has(&r, 3, "after a closing quote");
    assert_int_equal(err_line(&r, 4), 9);
    done(&r);
}

static void csv_unterminated_quote(void **state)
{
    result r;
    run(INGEST_CSV,
        "time,metric_type,value\n"
        "2026-01-05T10:00:00Z,revenue,1\n"
        "2026-01-05T10:00:00Z,\"revenue,2\n"
        "2026-01-05T10:00:00Z,revenue,3\n", &r);
    assert_int_equal(r.read_rc, 0);
    assert_int_equal(r.b->accepted, 1);
    assert_int_equal(r.b->rejected, 1);   /* runs to the end, RFC 4180 */
    assert_int_equal(err_line(&r, 0), 3);
    assert_reason_has(&r, 0, "unterminated quoted field");
    done(&r);
}

static void csv_field_counts_and_long_fields(void **state)
{
    char big[600];
    memset(big, 'x', sizeof big);
    big[sizeof big - 1] = '\0';
    char in[1024];
    snprintf(in, sizeof in,
             "time,metric_type,value\n"
             "2026-01-05T10:00:00Z,revenue\n"
             "2026-01-05T10:00:00Z,revenue,1,2\n"
             "2026-01-05T10:00:00Z,\"%s\",1\n"
             "2026-01-05T10:00:00Z,revenue,1,,,,,,,,,,,,,\n", big);
    result r;
    run(INGEST_CSV, in, &r);
    assert_int_equal(r.b->accepted, 0);
    assert_int_equal(r.b->rejected, 4);
    assert_reason_has(&r, 0, "expected 3 fields, found 2");
    assert_reason_has(&r, 1, "expected 3 fields, found 4");
    assert_string_equal(err_field(&r, 2), "metric_type");
    assert_reason_has(&r, 3, "found 16");
    done(&r);
}

static void csv_values(void **state)
{
    static const struct { const char *v; double want; } good[] = {
        {"0", 0}, {"-0", 0}, {"+1", 1}, {".5", 0.5}, {"5.", 5}, {"1e3", 1000},
        {"1E-3", 0.001}, {"-1.25e+2", -125}, {"1e-400", 0},
        {"123456789012345678901234567890", 1.2345678901234568e29},
    };
    static const char *bad[] = {
        "", "x", ".", "-", "1e", "1e+", "0x10", "1,5", "1 2", "--1", "1.2.3",
        "e5", "١",
    };
    static const char *nonfinite[] = {
        "nan", "NaN", "inf", "-Infinity", "+inf", "1e400", "-1e999",
    };
    char in[256];
    result r;
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(in, sizeof in, "time,metric_type,value\n"
                 "2026-01-05T10:00:00Z,revenue,%s\n", good[i].v);
        run(INGEST_CSV, in, &r);
        if (r.b->accepted != 1)
            fail_msg("value '%s' rejected: %s", good[i].v, err_reason(&r, 0));
        assert_true(r.rows[0].v == good[i].want ||
                    fabs(r.rows[0].v - good[i].want) < 1e-9 * fabs(good[i].want));
        done(&r);
    }
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(in, sizeof in, "time,metric_type,value\n"
                 "2026-01-05T10:00:00Z,revenue,\"%s\"\n", bad[i]);
        run(INGEST_CSV, in, &r);
        if (r.b->accepted != 0)
            fail_msg("value '%s' accepted", bad[i]);
        assert_string_equal(err_field(&r, 0), "value");
        done(&r);
    }
    for (size_t i = 0; i < sizeof nonfinite / sizeof nonfinite[0]; i++) {
        snprintf(in, sizeof in, "time,metric_type,value\n"
                 "2026-01-05T10:00:00Z,revenue,%s\n", nonfinite[i]);
        run(INGEST_CSV, in, &r);
        assert_int_equal(r.b->accepted, 0);
        assert_reason_has(&r, 0, "finite");
        done(&r);
    }
}

static void csv_nul_bytes(void **state)
{
    static const char in[] = "time,metric_type,value\n"
                             "2026-01-05T10:00:00Z\0junk,revenue,1\n"
                             "2026-01-05T10:00:00Z,revenue,1\0\n"
                             "2026-01-05T10:00:00Z,reve\0nue,1\n";
    result r;
    run_n(INGEST_CSV, in, sizeof in - 1, SIZE_MAX, &r);
    assert_int_equal(r.b->accepted, 0);
    assert_int_equal(r.b->rejected, 3);
    assert_string_equal(err_field(&r, 0), "time");
    assert_string_equal(err_field(&r, 1), "value");
    assert_string_equal(err_field(&r, 2), "metric_type");
    done(&r);
}

static void csv_header_errors(void **state)
{
    static const struct { const char *in, *msg; } cases[] = {
        {"", "no header"},
        {"\xEF\xBB\xBF\r\n  \n", "no header"},
        {"time,metric_type\n", "lacks the column 'value'"},
        {"time,metric_type,value,unit\n", "unknown column 'unit'"},
        {"time,metric_type,value,time\n", "appears twice"},
        {"time,metric_type,value,source,x\n", "5 columns"},
        {"\"time,metric_type,value\n", "unterminated"},
        {"2026-01-05T10:00:00Z,revenue,1\n", "unknown column"},
        {"time,met\xff,value\n", "unknown column 'met?'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        result r;
        run(INGEST_CSV, cases[i].in, &r);
        assert_int_equal(r.open_rc, -1);
        if (strstr(r.err, cases[i].msg) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, r.err, cases[i].msg);
        done(&r);
    }
    /* a header alone is an empty batch */
    result r;
    run(INGEST_CSV, "time,metric_type,value\r\n\r\n", &r);
    assert_int_equal(r.open_rc, 0);
    assert_int_equal(r.read_rc, 0);
    assert_int_equal(r.b->records, 0);
    done(&r);
}

/* --- validation (through CSV) ------------------------------------------------------ */

static void validation_reasons(void **state)
{
    result r;
    run(INGEST_CSV,
        "time,metric_type,value\n"
        "2026-01-05T10:00:00,revenue,1\n"           /* 2 no zone */
        "2026-02-30T10:00:00Z,revenue,1\n"          /* 3 no such day */
        "yesterday,revenue,1\n"                     /* 4 */
        "2019-12-31T23:59:59.999999Z,revenue,1\n"   /* 5 retention */
        "2020-01-01T00:00:00Z,revenue,1\n"          /* 6 ok: the cutoff */
        "2026-01-05T10:00:00Z,Revenue,1\n"          /* 7 bad name */
        "2026-01-05T10:00:00Z,profit,1\n"           /* 8 unknown */
        "2026-01-05T10:00:00Z,margin,1\n"           /* 9 derived */
        "2026-01-05T10:00:00Z,,1\n"                 /* 10 empty name */
        "2026-01-05T10:00:00Z,revenue,\n"           /* 11 empty value */
        "9999-12-31T23:59:59Z,a,1\n"                /* 12 ok: far future */
        "2026-01-05T10:00:00Z,\xc3\xa9t\xc3\xa9,1\n",  /* 13 non-ASCII */
        &r);
    assert_int_equal(r.b->accepted, 2);
    assert_int_equal(r.rows[0].t, CUTOFF_US);
    assert_int_equal(r.rows[1].t, ts("9999-12-31T23:59:59Z"));
    static const struct { size_t line; const char *field, *text; } want[] = {
        {2, "time", "RFC 3339"}, {3, "time", "RFC 3339"},
        {4, "time", "RFC 3339"},
        {5, "time", "retention window (earliest accepted: 2020-01-01T00:00:00Z)"},
        {7, "metric_type", "must match"},
        {8, "metric_type", "unknown metric_type 'profit'"},
        {9, "metric_type", "'margin' is derived"},
        {10, "metric_type", "must match"},
        {11, "value", "required"},
        {13, "metric_type", "must match"},
    };
    assert_int_equal(r.b->rejected, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(err_line(&r, i), want[i].line);
        assert_string_equal(err_field(&r, i), want[i].field);
        assert_reason_has(&r, i, want[i].text);
    }
    done(&r);
}

static void no_cutoff_no_types(void **state)
{
    ingest_rules none;
    ingest_rules_init(&none);
    assert_int_equal(ingest_rules_seal(&none), 0);
    ingest_batch *b = ingest_batch_new();
    ingest_reader rd;
    char err[256];
    const char *in = "time,metric_type,value\n1900-01-01T00:00:00Z,revenue,1\n";
    assert_int_equal(ingest_reader_open(&rd, INGEST_CSV, in, strlen(in), err,
                                        sizeof err), 0);
    assert_int_equal(ingest_read(&rd, &none, b, 10, err, sizeof err), 0);
    assert_int_equal(b->rejected, 1);   /* unknown type; no retention check */
    assert_non_null(strstr(json_string_value(json_object_get(
        json_array_get(b->errors, 0), "reason")), "unknown metric_type"));
    ingest_batch_free(b);
    ingest_batch_free(NULL);
    ingest_rules_free(&none);
}

/* --- NDJSON -------------------------------------------------------------------------- */

static void ndjson_basic(void **state)
{
    result r;
    run(INGEST_NDJSON,
        "\xEF\xBB\xBF{\"time\":\"2026-01-05T10:00:00Z\",\"metric_type\":\"revenue\",\"value\":1}\r\n"
        "\r\n"
        "  {\"value\": 2, \"metric_type\": \"cash\", \"time\": \"2026-01-05T10:00:00Z\", \"source\": null}  \n"
        "{\"time\":\"2026-01-05T10:00:00Z\",\"metric_type\":\"revenue\",\"value\":3,"
        "\"source\":\"d3e0d3e0-0000-4000-8000-000000000001\"}\n"
        "{\"time\": bad}\n"                                            /* 5 */
        "[1, 2]\n"                                                     /* 6 */
        "{\"time\":\"2026-01-05T10:00:00Z\",\"metric_type\":\"revenue\",\"value\":\"4\"}\n"
        "{\"time\":\"2026-01-05T10:00:00Z\",\"metric_type\":\"revenue\",\"value\":5,\"unit\":\"x\"}\n"
        "{\"time\":\"2026-01-05T10:00:00Z\",\"time\":\"2026-01-05T10:00:00Z\",\"metric_type\":\"revenue\",\"value\":6}\n"
        "{\"time\":\"2026-01-05T10:00:00Z\",\"metric_type\":\"revenue\",\"value\":1e999}\n"
        "{\"time\":\"2026-01-05T10:00:00Z\",\"metric_type\":\"revenue\"}\n"       /* 11 */
        "{\"time\":\"2026-01-05T10:00:00Z\",\"metric_type\":\"revenue\",\"value\":12345678901234567890123}\n"
        "{\"time\":\"2026-01-05T10:00:00Z\",\"metric_type\":\"revenue\",\"value\":7,\"source\":\"\"}\n"
        "{\"time\":1,\"metric_type\":\"revenue\",\"value\":7}\n"       /* 14 */
        "{\"time\":\"2026-01-05T10:00:00Z\",\"metric_type\":\"revenue\",\"value\":8}", &r);
    assert_int_equal(r.read_rc, 0);
    assert_int_equal(r.b->accepted, 5);
    assert_true(r.rows[1].v == 2);
    assert_string_equal(r.rows[1].mt, "cash");
    assert_true(r.rows[2].has_src);
    assert_true(r.rows[3].v == 12345678901234567890123.0);
    assert_true(r.rows[4].v == 8);
    static const struct { size_t line; const char *field, *text; } want[] = {
        {5, "", "malformed JSON at column"}, {6, "", "must be a JSON object"},
        {7, "value", "must be a number"}, {8, "", "unknown member 'unit'"},
        {9, "", "twice"}, {10, "value", "finite"}, {11, "value", "required"},
        {13, "source", "UUID"}, {14, "time", "must be a string"},
    };
    assert_int_equal(r.b->rejected, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(err_line(&r, i), want[i].line);
        assert_int_equal(err_index(&r, i), -1);
        assert_string_equal(err_field(&r, i), want[i].field);
        assert_reason_has(&r, i, want[i].text);
    }
    done(&r);
}

static void ndjson_empty_and_invalid_utf8(void **state)
{
    result r;
    run(INGEST_NDJSON, "", &r);
    assert_int_equal(r.open_rc, 0);
    assert_int_equal(r.read_rc, 0);
    assert_int_equal(r.b->records, 0);
    done(&r);
    run(INGEST_NDJSON, "\n\r\n  \n", &r);
    assert_int_equal(r.b->records, 0);
    done(&r);
    /* the reason quotes the bad token; it must stay valid (ASCII) text */
    run(INGEST_NDJSON, "{\"time\": \xff\xfe}\n", &r);
    assert_int_equal(r.b->rejected, 1);
    for (const char *p = err_reason(&r, 0); *p; p++)
        assert_true(*p >= 0x20 && *p < 0x7f);
    done(&r);
}

/* --- JSON arrays ---------------------------------------------------------------------- */

static void json_array_basic(void **state)
{
    result r;
    run(INGEST_JSON,
        "\xEF\xBB\xBF [\n"
        "  {\"time\":\"2026-01-05T10:00:00Z\",\"metric_type\":\"revenue\",\"value\":1},\n"
        "  {\"time\":\"2026-01-05T10:00:00Z\",\n"
        "   \"metric_type\":\"nope\",\"value\":2},\n"
        "  5, \"x,]\", [1,[2]], {\"a\":{\"b\":[\"]\\\"}\"]}},\n"
        "  {\"time\":\"2026-01-05T10:00:00Z\",\"metric_type\":\"cash\",\"value\":-0.25}\n"
        "]\r\n", &r);
    assert_int_equal(r.open_rc, 0);
    assert_int_equal(r.read_rc, 0);
    assert_int_equal(r.b->accepted, 2);
    assert_true(r.rows[1].v == -0.25);
    assert_int_equal(r.b->rejected, 5);
    assert_int_equal(err_index(&r, 0), 1);
    assert_int_equal(err_line(&r, 0), 3);
    assert_reason_has(&r, 0, "unknown metric_type 'nope'");
    for (size_t i = 1; i < 5; i++) {
        assert_int_equal(err_index(&r, i), (long)i + 1);
        assert_int_equal(err_line(&r, i), 5);
    }
    assert_reason_has(&r, 4, "unknown member 'a'");
    done(&r);

    run(INGEST_JSON, "[]", &r);
    assert_int_equal(r.read_rc, 0);
    assert_int_equal(r.b->records, 0);
    done(&r);
    run(INGEST_JSON, " [ \n ] \n", &r);
    assert_int_equal(r.read_rc, 0);
    done(&r);
}

static void json_array_body_errors(void **state)
{
    static const struct { const char *in, *msg; int at_open; } cases[] = {
        {"", "empty", 1},
        {"  \n ", "empty", 1},
        {"{\"time\":\"x\"}", "must be a JSON array", 1},
        {"\n\n  x", "line 3, column 3", 1},
        {"[", "not closed", 0},
        {"[{\"a\":1}", "not closed", 0},
        {"[{\"a\":1},", "not closed", 0},
        {"[{\"a\":1},]", "element is missing", 0},
        {"[,{\"a\":1}]", "element is missing", 0},
        {"[{\"a\":1} {\"b\":2}]", "line 1, column", 0},
        {"[{\"a\":1}]x", "after the JSON array", 0},
        {"[{\"a\":1}][]", "after the JSON array", 0},
        {"[{\"a\":\"unterminated}]", "inside the array element", 0},
        {"[\n{\"value\": NaN}]", "line 2, column 13", 0},  /* jansson: end of the token */
        {"[{\"a\":1]}", "not closed", 0},
        {"[{\"a\":1}}]", "malformed JSON", 0},
        {"[\xff]", "malformed JSON", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        result r;
        run(INGEST_JSON, cases[i].in, &r);
        if (cases[i].at_open)
            assert_int_equal(r.open_rc, -1);
        else
            assert_int_equal(r.read_rc, -1);
        if (strstr(r.err, cases[i].msg) == NULL)
            fail_msg("case %zu: '%s' lacks '%s'", i, r.err, cases[i].msg);
        for (const char *p = r.err; *p; p++)
            assert_true(*p >= 0x20 && *p < 0x7f);
        done(&r);
    }
    /* deep nesting is refused by jansson's depth limit, not the stack */
    size_t depth = 100000;
    char *deep = malloc(2 * depth + 3);
    deep[0] = '[';
    memset(deep + 1, '[', depth);
    memset(deep + 1 + depth, ']', depth);
    deep[1 + 2 * depth] = ']';
    deep[2 + 2 * depth] = '\0';
    result r;
    run(INGEST_JSON, deep, &r);
    assert_int_equal(r.read_rc, -1);
    done(&r);
    free(deep);
}

/* --- limits, resumption, error cap ---------------------------------------------------- */

static char *many_rows(ingest_format f, int n, int bad_every)
{
    size_t cap = (size_t)n * 100 + 64, len = 0;
    char *s = malloc(cap);
    if (f == INGEST_CSV)
        len += (size_t)sprintf(s + len, "time,metric_type,value\n");
    if (f == INGEST_JSON)
        len += (size_t)sprintf(s + len, "[");
    for (int i = 0; i < n; i++) {
        const char *mt = bad_every && i % bad_every == 0 ? "nope" : "revenue";
        if (f == INGEST_CSV)
            len += (size_t)sprintf(s + len, "2026-01-05T10:%02d:00Z,%s,%d\n",
                                   i % 60, mt, i);
        else
            len += (size_t)sprintf(s + len, "%s{\"time\":\"2026-01-05T10:%02d:00Z\","
                                   "\"metric_type\":\"%s\",\"value\":%d}\n",
                                   f == INGEST_JSON && i ? "," : "", i % 60, mt, i);
    }
    if (f == INGEST_JSON)
        len += (size_t)sprintf(s + len, "]");
    s[len] = '\0';
    return s;
}

static void batch_limit_and_resume(void **state)
{
    for (ingest_format f = INGEST_JSON; f <= INGEST_CSV; f++) {
        char *in = many_rows(f, 10, 3);
        /* a limit of exactly the row count reads everything: 0 */
        ingest_batch *b = ingest_batch_new();
        ingest_reader rd;
        char err[256];
        assert_int_equal(ingest_reader_open(&rd, f, in, strlen(in), err, sizeof err), 0);
        assert_int_equal(ingest_read(&rd, &rules, b, 10, err, sizeof err), 0);
        assert_int_equal(b->records, 10);
        ingest_batch_free(b);
        /* one less: 1, more follows */
        b = ingest_batch_new();
        assert_int_equal(ingest_reader_open(&rd, f, in, strlen(in), err, sizeof err), 0);
        assert_int_equal(ingest_read(&rd, &rules, b, 9, err, sizeof err), 1);
        assert_int_equal(b->records, 9);
        ingest_batch_free(b);
        /* reading 1, 2, 3 ... at a time gives the same rows and lines */
        result whole, parts;
        run_n(f, in, strlen(in), SIZE_MAX, &whole);
        for (size_t step = 1; step <= 4; step++) {
            run_n(f, in, strlen(in), step, &parts);
            assert_int_equal(parts.read_rc, 0);
            assert_int_equal(parts.b->accepted, whole.b->accepted);
            assert_int_equal(parts.b->copy.len, whole.b->copy.len);
            assert_memory_equal(parts.b->copy.p, whole.b->copy.p, whole.b->copy.len);
            char *a = json_dumps(parts.b->errors, 0), *w = json_dumps(whole.b->errors, 0);
            assert_string_equal(a, w);
            free(a);
            free(w);
            done(&parts);
        }
        assert_int_equal(whole.b->rejected, 4);   /* rows 0, 3, 6, 9 */
        assert_int_equal(err_line(&whole, 3), f == INGEST_CSV ? 11 : 10);
        done(&whole);
        free(in);
    }
}

static void error_cap(void **state)
{
    char *in = many_rows(INGEST_NDJSON, 2500, 1);
    result r;
    run(INGEST_NDJSON, in, &r);
    assert_int_equal(r.b->rejected, 2500);
    assert_int_equal(json_array_size(r.b->errors), INGEST_MAX_ERRORS);
    assert_int_equal(err_line(&r, INGEST_MAX_ERRORS - 1), INGEST_MAX_ERRORS);
    done(&r);
    free(in);
}

static void batch_clear_reuses(void **state)
{
    char *in = many_rows(INGEST_CSV, 100, 10);
    ingest_batch *b = ingest_batch_new();
    ingest_reader rd;
    char err[256];
    assert_int_equal(ingest_reader_open(&rd, INGEST_CSV, in, strlen(in), err, sizeof err), 0);
    size_t total_acc = 0, total_rej = 0;
    int rc;
    do {
        ingest_batch_clear(b);
        rc = ingest_read(&rd, &rules, b, 7, err, sizeof err);
        row rows[8];
        assert_int_equal(decode(b, rows, 8), b->accepted);
        assert_int_equal(b->ntimes, b->accepted);
        total_acc += b->accepted;
        total_rej += b->rejected;
    } while (rc == 1);
    assert_int_equal(rc, 0);
    assert_int_equal(total_acc, 90);
    assert_int_equal(total_rej, 10);
    ingest_batch_free(b);
    free(in);
}

/* --- fuzz ----------------------------------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)rng;
}

/* A random mutation of src (len bytes) into dst (capacity cap); returns the
 * new length. Bytes chosen to stress the parsers' state machines. */
static size_t mutate(const char *src, size_t len, char *dst, size_t cap)
{
    static const char special[] = "\"\\,\n\r[]{}: \t0eE.-+\xEF\xBB\xBF\xff";
    memcpy(dst, src, len);
    int edits = 1 + (int)(rnd() % 8);
    for (int e = 0; e < edits; e++) {
        size_t pos = len ? rnd() % len : 0;
        char c = rnd() % 4 ? special[rnd() % (sizeof special - 1)]
                           : (char)(rnd() & 0xff);
        switch (rnd() % 5) {
        case 0:   /* replace */
            if (len)
                dst[pos] = c;
            break;
        case 1:   /* insert */
            if (len < cap) {
                memmove(dst + pos + 1, dst + pos, len - pos);
                dst[pos] = c;
                len++;
            }
            break;
        case 2:   /* delete */
            if (len) {
                memmove(dst + pos, dst + pos + 1, len - pos - 1);
                len--;
            }
            break;
        case 3:   /* truncate */
            len = pos;
            break;
        case 4: { /* duplicate a slice */
            size_t n = rnd() % 32;
            if (pos + n <= len && len + n <= cap) {
                memmove(dst + pos + n, dst + pos, len - pos);
                len += n;
            }
            break;
        }
        }
    }
    return len;
}

static void fuzz(void **state)
{
    static const char *const seeds[3] = {
        "[{\"time\":\"2026-01-05T10:00:00Z\",\"metric_type\":\"revenue\",\"value\":1},\n"
        " {\"time\":\"2026-01-05T10:00:00.5+05:30\",\"metric_type\":\"cash\",\"value\":-2.5e3,"
        "\"source\":\"d3e0d3e0-0000-4000-8000-000000000001\"},\n"
        " {\"time\":\"2019-01-05T10:00:00Z\",\"metric_type\":\"margin\",\"value\":\"x\"}]",
        "{\"time\":\"2026-01-05T10:00:00Z\",\"metric_type\":\"revenue\",\"value\":1}\r\n"
        "\n{\"time\":\"2026-01-05T10:00:00Z\",\"metric_type\":\"a\",\"value\":2,\"source\":null}\n"
        "{\"value\":[1,{\"x\":\"]\"}]}\n",
        "\xEF\xBB\xBFtime,metric_type,value,source\r\n"
        "2026-01-05T10:00:00Z,revenue,1,\r\n"
        "\"2026-01-05T10:00:00Z\",\"ca\"\"sh\",\"2\",d3e0d3e0-0000-4000-8000-000000000001\r\n"
        "\r\n2026-01-05T10:00:00Z,\"a\nb\",nan,\n",
    };
    static const ingest_format formats[3] = {INGEST_JSON, INGEST_NDJSON,
                                              INGEST_CSV};
    const char *env = getenv("TELOS_FUZZ_ITER");
    long iters = env ? atol(env) : 3000;
    char work[4096];
    for (int k = 0; k < 3; k++) {
        for (long it = 0; it < iters; it++) {
            size_t len;
            if (it % 10 == 9) {   /* pure noise */
                len = rnd() % 512;
                for (size_t i = 0; i < len; i++)
                    work[i] = (char)(rnd() & 0xff);
            } else {
                const char *seed = seeds[k];
                char tmp[4096];
                len = strlen(seed);
                memcpy(tmp, seed, len);
                /* mutate a mutation now and then: deeper changes */
                for (int round = 0; round < 1 + (int)(rnd() % 3); round++) {
                    len = mutate(tmp, len, work, sizeof work);
                    memcpy(tmp, work, len);
                }
            }
            size_t max = rnd() % 3 == 0 ? 1 + rnd() % 3 : SIZE_MAX;
            result r;
            run_n(formats[k], work, len, max, &r);   /* asserts invariants */
            assert_true(json_array_size(r.b->errors) <= r.b->rejected);
            assert_int_equal(r.b->ntimes, r.b->accepted);
            if (r.open_rc < 0 || r.read_rc < 0)
                assert_true(r.err[0] != '\0');
            /* every reason is printable ASCII: safe in any response */
            for (size_t i = 0; i < json_array_size(r.b->errors); i++)
                for (const char *p = err_reason(&r, i); *p; p++)
                    assert_true(*p >= 0x20 && *p < 0x7f);
            for (const char *p = r.err; *p; p++)
                assert_true(*p >= 0x20 && *p < 0x7f);
            done(&r);
        }
    }
}

/* --- the JSON fast path decodes exactly as jansson does ------------------------ */

static int same_view(const char *a, size_t an, const char *b, size_t bn)
{
    if (a == NULL || b == NULL)
        return a == b;
    return an == bn && memcmp(a, b, an) == 0;
}

/* When the fast path takes s, jansson must decode s to the same record. */
static int check_fast_path(const char *s, size_t n)
{
    ingest_record fast = {.index = -1}, slow = {.index = -1};
    if (!ingest_json_flat(s, n, &fast))
        return 0;
    json_error_t e;
    json_t *o = json_loadb(s, n, JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES |
                           JSON_DECODE_ANY, &e);
    if (o == NULL)
        fail_msg("fast path took '%.*s', jansson refuses it: %s", (int)n, s, e.text);
    ingest_record_from_json(&slow, o);
    if (slow.reason != NULL || fast.reason != NULL ||
        !same_view(fast.time, fast.time_len, slow.time, slow.time_len) ||
        !same_view(fast.metric_type, fast.metric_type_len, slow.metric_type,
                   slow.metric_type_len) ||
        !same_view(fast.source, fast.source_len, slow.source, slow.source_len) ||
        fast.has_value != slow.has_value ||
        memcmp(&fast.value, &slow.value, sizeof fast.value) != 0)
        fail_msg("fast path and jansson differ on '%.*s'", (int)n, s);
    json_decref(o);
    return 1;
}

static void json_fast_path(void **state)
{
    static const char *const fast[] = {
        "{\"time\":\"2026-01-05T10:00:00Z\",\"metric_type\":\"revenue\",\"value\":1}",
        " {\r\n\t\"value\" : -0.0e+0 , \"metric_type\":\"x\", \"time\":\"\",\"source\":null } ",
        "{\"value\":123456789012345678901234567890,\"source\":\"abc\"}",
        "{\"value\":4.9406564584124654e-324}", "{\"value\":1.7976931348623157e308}",
        "{}", "{ }",
    };
    static const char *const slow[] = {
        "{\"time\":\"a\\u0041\"}", "{\"time\":\"\xc3\xa9\"}", "{\"tim\\u0065\":\"x\"}",
        "{\"unit\":\"x\"}", "{\"value\":1,\"value\":2}", "{\"value\":[1]}",
        "{\"value\":true}", "{\"value\":1e999}", "{\"value\":01}", "{\"value\":1.}",
        "{\"value\":.5}", "{\"value\":+1}", "{\"value\":1}x", "{\"value\":1,}",
        "{\"source\":\"\"}", "{\"time\":null}", "{\"value\":\"1\"}", "[]", "",
        "{\"value\":1", "{\"time\":\"x\x7f\"}", "{\"time\":\"tab\there\"}",
        "{\"value\":-}", "{\"value\":1e}", "{,}", "{\"time\" \"x\"}",
    };
    for (size_t i = 0; i < sizeof fast / sizeof fast[0]; i++)
        if (!check_fast_path(fast[i], strlen(fast[i])))
            fail_msg("fast path refused '%s'", fast[i]);
    for (size_t i = 0; i < sizeof slow / sizeof slow[0]; i++) {
        ingest_record rec = {.index = -1};
        if (ingest_json_flat(slow[i], strlen(slow[i]), &rec))
            fail_msg("fast path took '%s'", slow[i]);
        assert_null(rec.time);   /* untouched on refusal */
        assert_false(rec.has_value);
    }
    /* mutations of a typical object: whatever the fast path takes, jansson
     * decodes identically */
    const char *seed = "{\"time\": \"2026-01-05T10:00:00.5+05:30\", \"metric_type\":"
                       "\"revenue\", \"value\": -12.5e-3, \"source\": null}";
    const char *env = getenv("TELOS_FUZZ_ITER");
    long iters = env ? atol(env) : 3000;
    char work[512];
    long taken = 0;
    for (long it = 0; it < 10 * iters; it++) {
        char tmp[512];
        size_t len = strlen(seed);
        memcpy(tmp, seed, len);
        len = mutate(tmp, len, work, sizeof work);
        char *exact = malloc(len ? len : 1);
        memcpy(exact, work, len);
        taken += check_fast_path(exact, len);
        free(exact);
    }
    print_message("fast path took %ld of %ld mutations\n", taken, 10 * iters);
    assert_true(taken > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(content_types),
        cmocka_unit_test(format_names),
        cmocka_unit_test(csv_basic),
        cmocka_unit_test(csv_header_order_case_source),
        cmocka_unit_test(csv_bom_crlf_blank_lines),
        cmocka_unit_test(csv_quotes),
        cmocka_unit_test(csv_unterminated_quote),
        cmocka_unit_test(csv_field_counts_and_long_fields),
        cmocka_unit_test(csv_values),
        cmocka_unit_test(csv_nul_bytes),
        cmocka_unit_test(csv_header_errors),
        cmocka_unit_test(validation_reasons),
        cmocka_unit_test(no_cutoff_no_types),
        cmocka_unit_test(ndjson_basic),
        cmocka_unit_test(ndjson_empty_and_invalid_utf8),
        cmocka_unit_test(json_array_basic),
        cmocka_unit_test(json_array_body_errors),
        cmocka_unit_test(batch_limit_and_resume),
        cmocka_unit_test(error_cap),
        cmocka_unit_test(batch_clear_reuses),
        cmocka_unit_test(fuzz),
        cmocka_unit_test(json_fast_path),
    };
    return cmocka_run_group_tests(tests, setup_rules, teardown_rules);
}
