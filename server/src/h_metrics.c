/*
 * h_metrics.c -- POST /v1/metrics (ingest) and GET /v1/metrics/{type} (raw
 * points, or buckets through telos.metric_series).
 *
 * Ingest, in the request's order:
 *   1. format from Content-Type, ?atomic, Idempotency-Key; a key already
 *      recorded with the same request replays its response at once;
 *   2. the tenant's rules (metric types, retention cutoff), then the body is
 *      parsed and validated in C row by row (ingest.h), rows encoded as
 *      binary COPY tuples as they are read;
 *   3. with ?atomic=true any reject is a 422 and nothing is written;
 *   4. the authentication transaction is committed and chunks for the rows'
 *      times are created by telos.ensure_chunks() in a transaction of their
 *      own (chunk creation must not hold its locks through the COPY); a new
 *      transaction sets the tenant again;
 *   5. the Idempotency-Key is claimed, the rows written (COPY into staging,
 *      INSERT ... SELECT under RLS), the response stored with the key; the
 *      dispatcher COMMITs on success, so rows and key commit together.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "ingest.h"
#include "parse.h"

#define IDEMPOTENCY_KEY_MAX 255

/* --- Idempotency-Key -------------------------------------------------------- */

/* The key header, validated: 1..255 printable ASCII characters. Returns 1
 * with *key set, 0 when absent, -1 (400 set) when malformed. */
static int idempotency_key(api_tx *tx, const char **key)
{
    const char *k = http_header(tx->req, "Idempotency-Key");
    *key = k;
    if (k == NULL)
        return 0;
    size_t n = strlen(k);
    int ok = n >= 1 && n <= IDEMPOTENCY_KEY_MAX;
    for (size_t i = 0; ok && i < n; i++)
        ok = k[i] >= 0x20 && k[i] <= 0x7e;
    if (!ok) {
        http_reply_problem(tx->res, tx->req, 400, "Idempotency-Key must be 1 "
                           "to %d printable ASCII characters",
                           IDEMPOTENCY_KEY_MAX);
        return -1;
    }
    return 1;
}

/* "\x" + hex of BLAKE2b-256(method, path, format, atomic, body): what makes
 * two requests "the same" for a key. */
static void request_hash(const api_tx *tx, ingest_format f, int atomic,
                         char hex[2 * 32 + 3])
{
    crypto_generichash_state st;
    unsigned char h[32];
    char head[64];
    int n = snprintf(head, sizeof head, "POST /v1/metrics\n%s\n%d\n",
                     ingest_format_name(f), atomic);
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)head, (size_t)n);
    crypto_generichash_update(&st, (const unsigned char *)tx->req->body,
                              tx->req->body_len);
    crypto_generichash_final(&st, h, sizeof h);
    hex[0] = '\\';
    hex[1] = 'x';
    sodium_bin2hex(hex + 2, 2 * 32 + 1, h, sizeof h);
}

/* Look the key up. Returns 1 when a reply was set (a replay, a mismatch or
 * a database error), 0 when the key is not recorded. */
static int idempotency_replay(api_tx *tx, const char *key, const char *hash)
{
    const char *p[] = {key};
    PGresult *r = api_query(tx, "SELECT response, status, request_hash::text "
                            "FROM public.idempotency_keys WHERE key = $1 "
                            "AND status IS NOT NULL", 1, p);
    if (r == NULL)
        return 1;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return 0;
    }
    if (strcmp(PQgetvalue(r, 0, 2), hash) != 0) {
        http_reply_problem(tx->res, tx->req, 422, "this Idempotency-Key was "
                           "already used for a different request; use a new "
                           "key for a new batch");
    } else {
        api_reply_row_json(tx, atoi(PQgetvalue(r, 0, 1)), r);
        http_set_header(tx->res, "Idempotent-Replayed", "true");
    }
    PQclear(r);
    return 1;
}

/* Claim the key for this transaction. 1 when claimed; 0 when another
 * request recorded it first (its reply is then set: replay or 422); -1 on
 * a database error (reply set). A concurrent claim in progress makes the
 * INSERT wait until that transaction ends. */
static int idempotency_claim(api_tx *tx, const char *key, const char *hash)
{
    const char *p[] = {tx->tenant_id, key, hash};
    PGresult *r = api_query(tx,
        "INSERT INTO public.idempotency_keys (tenant_id, key, request_hash) "
        "VALUES ($1, $2, $3::bytea) ON CONFLICT DO NOTHING RETURNING 1",
        3, p);
    if (r == NULL)
        return -1;
    int claimed = PQntuples(r) == 1;
    PQclear(r);
    if (claimed)
        return 1;
    if (idempotency_replay(tx, key, hash))
        return 0;
    http_reply_problem(tx->res, tx->req, 500, "idempotency key vanished");
    return -1;
}

static int idempotency_store(api_tx *tx, const char *key, int status,
                             const char *json)
{
    char st[8];
    snprintf(st, sizeof st, "%d", status);
    const char *p[] = {key, st, json};
    PGresult *r = api_query(tx, "UPDATE public.idempotency_keys SET "
                            "status = $2::int, response = $3::jsonb "
                            "WHERE key = $1", 3, p);
    PQclear(r);
    return r ? 0 : -1;
}

/* --- POST /v1/metrics -------------------------------------------------------------- */

/* Run a statement without parameters; on failure set the problem reply. */
static int exec_ok(api_tx *tx, const char *sql)
{
    PGresult *r = api_query(tx, sql, 0, NULL);
    PQclear(r);
    return r ? 0 : -1;
}

/* Reply with the PGresult of a failed ingest step (NULL: the connection). */
static void db_fail(api_tx *tx, PGresult *fail)
{
    if (fail == NULL) {
        PGresult *r = PQmakeEmptyPGresult(tx->conn, PGRES_FATAL_ERROR);
        api_db_error(tx, r);
        PQclear(r);
    } else {
        api_db_error(tx, fail);
        PQclear(fail);
    }
}

/* The JSON summary: accepted, rejected, errors (the first 1000),
 * errors_omitted. Steals nothing. */
static json_t *summary(const ingest_batch *b, long long accepted)
{
    size_t listed = json_array_size(b->errors);
    return json_pack("{s:I, s:I, s:O, s:I}", "accepted", (json_int_t)accepted,
                     "rejected", (json_int_t)b->rejected, "errors", b->errors,
                     "errors_omitted", (json_int_t)(b->rejected - listed));
}

/* ?atomic: 1, 0, or -1 (400 set) for anything but true/false/1/0. */
static int atomic_flag(api_tx *tx)
{
    const char *a = http_query(tx->req, "atomic");
    if (a == NULL || strcasecmp(a, "false") == 0 || strcmp(a, "0") == 0)
        return 0;
    if (strcasecmp(a, "true") == 0 || strcmp(a, "1") == 0 || *a == '\0')
        return 1;
    http_reply_problem(tx->res, tx->req, 400, "atomic must be true or false");
    return -1;
}

/* Steps 4 and 5 of the file comment, on a parsed batch. */
static void write_batch(api_tx *tx, ingest_batch *b, const char *key,
                        const char *hash)
{
    PGresult *fail;
    if (b->accepted > 0) {
        if (exec_ok(tx, "COMMIT") < 0)
            return;
        if (ingest_ensure_chunks(tx->conn, b, &fail) < 0) {
            db_fail(tx, fail);
            return;
        }
        const char *p[] = {tx->tenant_id};
        if (exec_ok(tx, "BEGIN") < 0)
            return;
        PGresult *r = api_query(tx, "SELECT set_config("
                                "'app.current_tenant_id', $1, true)", 1, p);
        if (r == NULL)
            return;
        PQclear(r);
    }
    if (key != NULL && idempotency_claim(tx, key, hash) <= 0)
        return;
    long long inserted = 0;
    if (ingest_write(tx->conn, tx->tenant_id, b, 0, &inserted, &fail) < 0) {
        db_fail(tx, fail);
        return;
    }
    json_t *out = summary(b, inserted);
    char *text = out ? json_dumps(out, JSON_COMPACT) : NULL;
    if (text == NULL) {
        json_decref(out);
        http_reply_problem(tx->res, tx->req, 500, "out of memory");
        return;
    }
    if (key == NULL || idempotency_store(tx, key, 200, text) == 0)
        http_reply_json(tx->res, 200, out);
    else
        json_decref(out);
    free(text);
}

void h_metrics_ingest(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    ingest_format fmt;
    int rc = ingest_format_from_content_type(http_header(req, "Content-Type"),
                                             &fmt);
    if (rc < 0) {
        http_reply_problem(res, req, 415, rc == -2
            ? "only the UTF-8 charset is accepted"
            : "send the points as application/json (an array), "
              "application/x-ndjson or text/csv");
        return;
    }
    int atomic = atomic_flag(tx);
    const char *key;
    if (atomic < 0 || idempotency_key(tx, &key) < 0)
        return;
    char hash[2 * 32 + 3];
    if (key != NULL) {
        request_hash(tx, fmt, atomic, hash);
        if (idempotency_replay(tx, key, hash))
            return;
    }

    ingest_rules rules;
    int found;
    PGresult *fail;
    if (ingest_rules_load(tx->conn, &rules, &found, &fail) < 0) {
        db_fail(tx, fail);
        return;
    }
    if (!found) {   /* authenticated, so the tenant row must be visible */
        ingest_rules_free(&rules);
        http_reply_problem(res, req, 500, "the tenant is not visible");
        return;
    }
    ingest_batch *b = ingest_batch_new();
    ingest_reader rd;
    char err[512];
    size_t max = (size_t)tx->ctx->cfg->max_batch;
    if (b == NULL) {
        http_reply_problem(res, req, 500, "out of memory");
    } else if (ingest_reader_open(&rd, fmt, req->body, req->body_len, err,
                                  sizeof err) < 0) {
        http_reply_problem(res, req, 400, "%s", err);
    } else if ((rc = ingest_read(&rd, &rules, b, max, err, sizeof err)) < 0) {
        http_reply_problem(res, req, b->oom ? 500 : 400, "%s", err);
    } else if (rc == 1) {
        http_reply_problem(res, req, 413, "a batch holds at most %zu rows "
                           "(TELOS_MAX_BATCH); split this one", max);
    } else if (atomic && b->rejected > 0) {
        json_t *ext = summary(b, 0);
        http_reply_problem_ext(res, req, 422, ext, "%zu of %zu rows were "
                               "rejected; nothing was written (atomic)",
                               b->rejected, b->records);
    } else {
        write_batch(tx, b, key, hash);
    }
    ingest_batch_free(b);
    ingest_rules_free(&rules);
}

/* --- GET /v1/metrics/{metric_type} ------------------------------------------------ */

static void bad_param(json_t *errors, const char *field, const char *msg)
{
    json_array_append_new(errors, json_pack("{s:s,s:s}", "field", field,
                                            "message", msg));
}

/* Raw points: the existing behaviour (window default: 30 days to now). */
static PGresult *query_raw(api_tx *tx, const char *type, const char *from,
                           const char *to, const char *limit)
{
    const char *p[] = {type, from, to, limit};
    return api_query(tx,
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
}

/* Buckets from telos.metric_series: materialized rollups plus what is not
 * rolled up yet, computed from raw. The default window suits the width;
 * the answer names the width used (telos.auto_bucket's choice for auto). */
static PGresult *query_buckets(api_tx *tx, const char *type, const char *from,
                               const char *to, const char *limit,
                               const char *bucket)
{
    const char *span = strcmp(bucket, "hour") == 0    ? "7 days"
                       : strcmp(bucket, "day") == 0   ? "90 days"
                       : strcmp(bucket, "month") == 0 ? "1 year"
                                                      : "30 days";
    const char *p[] = {type, from, to, limit, bucket, span, tx->tenant_id};
    return api_query(tx,
        "WITH w AS (SELECT coalesce($3::timestamptz, now()) AS hi, "
        "  coalesce($2::timestamptz, coalesce($3::timestamptz, now()) "
        "           - $6::interval) AS lo), "
        "s AS (SELECT m.* FROM w, LATERAL telos.metric_series($7::uuid, $1, "
        "  w.lo, w.hi, $5) AS m ORDER BY m.bucket LIMIT $4::int) "
        "SELECT json_build_object('metric_type', $1::text, 'from', w.lo, "
        "  'to', w.hi, 'bucket', CASE WHEN $5 = 'auto' THEN "
        "  telos.auto_bucket(w.lo, w.hi) ELSE $5 END, 'points', coalesce((SELECT "
        "  json_agg(json_build_object('bucket', s.bucket, 'count', s.count, "
        "  'sum', s.sum, 'min', s.min, 'max', s.max, 'first', s.first, "
        "  'last', s.last, 'value', s.value) ORDER BY s.bucket) FROM s), "
        "  '[]')) FROM w", 7, p);
}

void h_metrics_get(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    const char *from = http_query(req, "from");
    const char *to = http_query(req, "to");
    const char *limit = http_query(req, "limit");
    const char *bucket = http_query(req, "bucket");
    int64_t from_us = 0, to_us = 0;
    json_t *errors = json_array();
    if (from && parse_rfc3339(from, &from_us) < 0)
        bad_param(errors, "from", "must be an RFC 3339 date-time with a zone");
    if (to && parse_rfc3339(to, &to_us) < 0)
        bad_param(errors, "to", "must be an RFC 3339 date-time with a zone");
    if (from && to && json_array_size(errors) == 0 && from_us >= to_us)
        bad_param(errors, "from", "must be before to");
    char *end = NULL;
    long lim = limit ? strtol(limit, &end, 10) : bucket ? 100000 : 10000;
    if (limit && (*limit == '\0' || *end != '\0' || lim < 1 || lim > 1000000))
        bad_param(errors, "limit", "must be an integer from 1 to 1000000");
    if (bucket && strcmp(bucket, "hour") != 0 && strcmp(bucket, "day") != 0 &&
        strcmp(bucket, "month") != 0 && strcmp(bucket, "auto") != 0)
        bad_param(errors, "bucket", "must be hour, day, month or auto");
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
    r = bucket ? query_buckets(tx, req->params[0], from, to, limtxt, bucket)
               : query_raw(tx, req->params[0], from, to, limtxt);
    if (r == NULL)
        return;
    api_reply_row_json(tx, 200, r);
    PQclear(r);
}
