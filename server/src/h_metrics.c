/*
 * h_metrics.c -- POST /v1/metrics (ingest a JSON array of points) and
 * GET /v1/metrics/{metric_type}?from=&to=&limit= (raw points).
 *
 * Ingest validates every point in C first and reports each bad one with its
 * index, then writes the batch with one INSERT ... SELECT FROM unnest() of
 * three arrays, so the row-level security policy checks every row.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "parse.h"

/* A growing text buffer for PostgreSQL array literals. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    int oom;
} sbuf;

static void sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *q = realloc(b->p, cap);
        if (q == NULL) {
            b->oom = 1;
            return;
        }
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void sb_str(sbuf *b, const char *s)
{
    sb_put(b, s, strlen(s));
}

static void point_error(json_t *errors, size_t index, const char *field,
                        const char *msg)
{
    json_array_append_new(errors, json_pack("{s:I, s:s, s:s}", "index",
                                            (json_int_t)index, "field", field,
                                            "message", msg));
}

/* Validate one point; 0 when valid. Elements must be objects with exactly
 * time, metric_type, value. */
static int check_point(const json_t *pt, size_t i, json_t *errors)
{
    static const parse_field fields[] = {
        {"time", PF_TIMESTAMP, 1, 0},
        {"metric_type", PF_METRIC_TYPE, 1, 0},
        {"value", PF_NUMBER, 1, 0},
    };
    json_t *errs = json_array();
    int n = parse_check_object(pt, fields, 3, errs);
    size_t k;
    json_t *e;
    json_array_foreach(errs, k, e)
        point_error(errors, i, json_string_value(json_object_get(e, "field")),
                    json_string_value(json_object_get(e, "message")));
    json_decref(errs);
    return n;
}

void h_metrics_ingest(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    json_t *body = api_body_json(tx);
    if (body == NULL)
        return;
    if (!json_is_array(body)) {
        http_reply_problem(res, req, 400, "the body must be a JSON array of "
                           "{time, metric_type, value} points");
        json_decref(body);
        return;
    }
    size_t n = json_array_size(body);
    if (n > (size_t)tx->ctx->cfg->max_batch) {
        http_reply_problem(res, req, 413, "a batch holds at most %d points; "
                           "this one has %zu", tx->ctx->cfg->max_batch, n);
        json_decref(body);
        return;
    }
    json_t *errors = json_array();
    sbuf times = {0}, types = {0}, values = {0};
    sb_str(&times, "{");
    sb_str(&types, "{");
    sb_str(&values, "{");
    size_t i;
    json_t *pt;
    json_array_foreach(body, i, pt) {
        if (check_point(pt, i, errors) > 0)
            continue;
        double v = json_number_value(json_object_get(pt, "value"));
        if (!isfinite(v)) {
            point_error(errors, i, "value", "must be a finite number");
            continue;
        }
        char num[40];
        snprintf(num, sizeof num, "%s%.17g", i ? "," : "", v);
        /* Validated times and names hold no quote, comma or backslash, so
         * they can stand in an array literal unquoted. */
        if (i) {
            sb_str(&times, ",");
            sb_str(&types, ",");
        }
        sb_str(&times, json_string_value(json_object_get(pt, "time")));
        sb_str(&types, json_string_value(json_object_get(pt, "metric_type")));
        sb_str(&values, num);
    }
    sb_str(&times, "}");
    sb_str(&types, "}");
    sb_str(&values, "}");

    if (times.oom || types.oom || values.oom) {
        http_reply_problem(res, req, 500, "out of memory");
    } else if (json_array_size(errors) > 0) {
        api_reply_invalid(tx, errors, "some points are not valid; nothing "
                          "was written");
        errors = NULL;
    } else if (n == 0) {
        http_reply_json(res, 200, json_pack("{s:i}", "accepted", 0));
    } else {
        const char *p1[] = {types.p};
        PGresult *r = api_query(tx,
            "SELECT coalesce(json_agg(DISTINCT t), '[]') "
            "FROM unnest($1::text[]) t WHERE NOT EXISTS "
            "(SELECT 1 FROM metric_definitions d WHERE d.metric_type = t)",
            1, p1);
        if (r != NULL && strcmp(PQgetvalue(r, 0, 0), "[]") != 0) {
            json_t *unknown = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
            http_reply_problem_ext(res, req, 422,
                json_pack("{s:o}", "unknown_metric_types", unknown),
                "define these metric types first (POST /v1/metric-definitions)");
        } else if (r != NULL) {
            const char *p2[] = {tx->tenant_id, times.p, types.p, values.p};
            PGresult *w = api_query(tx,
                "INSERT INTO business_metrics_raw (tenant_id, time, "
                "  metric_type, value) "
                "SELECT $1, t, m, v FROM unnest($2::timestamptz[], "
                "  $3::text[], $4::float8[]) AS u(t, m, v)", 4, p2);
            if (w != NULL)
                http_reply_json(res, 201, json_pack("{s:I}", "accepted",
                                (json_int_t)strtoll(PQcmdTuples(w), NULL, 10)));
            PQclear(w);
        }
        PQclear(r);
    }
    json_decref(errors);
    json_decref(body);
    free(times.p);
    free(types.p);
    free(values.p);
}

void h_metrics_get(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    const char *from = http_query(req, "from");
    const char *to = http_query(req, "to");
    const char *limit = http_query(req, "limit");
    int64_t us;
    json_t *errors = json_array();
    if (from && parse_rfc3339(from, &us) < 0)
        json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "from",
            "message", "must be an RFC 3339 date-time with a zone"));
    if (to && parse_rfc3339(to, &us) < 0)
        json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "to",
            "message", "must be an RFC 3339 date-time with a zone"));
    char *end = NULL;
    long lim = limit ? strtol(limit, &end, 10) : 10000;
    if (limit && (*limit == '\0' || *end != '\0' || lim < 1 || lim > 1000000))
        json_array_append_new(errors, json_pack("{s:s,s:s}", "field", "limit",
            "message", "must be an integer from 1 to 1000000"));
    if (json_array_size(errors) > 0) {
        api_reply_invalid(tx, errors, "bad query parameters");
        return;
    }
    json_decref(errors);

    const char *p1[] = {req->params[0]};
    PGresult *r = api_query(tx, "SELECT 1 FROM metric_definitions "
                            "WHERE metric_type = $1", 1, p1);
    if (r == NULL)
        return;
    int known = PQntuples(r) == 1;
    PQclear(r);
    if (!known) {
        http_reply_problem(res, req, 404, "no such metric type");
        return;
    }
    char limtxt[24];
    snprintf(limtxt, sizeof limtxt, "%ld", lim);
    /* Default window: the 30 days up to now. */
    const char *p[] = {req->params[0], from, to, limtxt};
    r = api_query(tx,
        "WITH w AS (SELECT coalesce($3::timestamptz, now()) AS hi, "
        "  coalesce($2::timestamptz, coalesce($3::timestamptz, now()) "
        "           - interval '30 days') AS lo), "
        "pts AS (SELECT time, value FROM business_metrics_raw, w "
        "  WHERE metric_type = $1 AND time >= w.lo AND time < w.hi "
        "  ORDER BY time LIMIT $4::int) "
        "SELECT json_build_object('metric_type', $1::text, 'from', w.lo, "
        "  'to', w.hi, 'points', coalesce((SELECT json_agg(json_build_object("
        "  'time', time, 'value', value) ORDER BY time) FROM pts), '[]')) "
        "FROM w", 4, p);
    if (r == NULL)
        return;
    api_reply_row_json(tx, 200, r);
    PQclear(r);
}
