/*
 * api.c -- routes, authentication and the per-request tenant transaction.
 */
#include "api.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "router.h"

static const route routes[] = {
    {"GET",    "/v1/tenant",                     h_tenant_get},
    {"GET",    "/v1/users",                      h_users_list},
    {"POST",   "/v1/users",                      h_users_create},
    {"GET",    "/v1/metric-definitions",         h_metric_defs_list},
    {"POST",   "/v1/metric-definitions",         h_metric_defs_create},
    {"GET",    "/v1/metric-definitions/:type",   h_metric_defs_get},
    {"PUT",    "/v1/metric-definitions/:type",   h_metric_defs_update},
    {"DELETE", "/v1/metric-definitions/:type",   h_metric_defs_delete},
    {"POST",   "/v1/metrics",                    h_metrics_ingest},
    {"GET",    "/v1/metrics/:type",              h_metrics_get},
    {"GET",    "/v1/goals",                      h_goals_list},
    {"POST",   "/v1/goals",                      h_goals_create},
    {"GET",    "/v1/goals/:id",                  h_goals_get},
    {"PATCH",  "/v1/goals/:id",                  h_goals_patch},
    {"GET",    "/v1/goals/:id/transitions",      h_goal_transitions_list},
    {"POST",   "/v1/goals/:id/transitions",      h_goal_transitions_create},
    {"GET",    "/v1/evidence",                   h_evidence_list},
    {"GET",    "/v1/evidence/drivers/:type",     h_evidence_drivers},
    {"GET",    "/v1/evidence/paths",             h_evidence_paths},
    {"POST",   "/v1/evidence/discover",          h_evidence_discover},
    {"GET",    "/v1/evidence/discover/:id",      h_evidence_discover_get},
    {"GET",    "/v1/events",                     h_events_list},
    {"POST",   "/v1/events",                     h_events_create},
    {"GET",    "/v1/events/:id",                 h_events_get},
    {"POST",   "/v1/events/:id/effect",          h_events_effect},
};

static void healthz(http_request *req, http_response *res, const api_ctx *ctx)
{
    PGconn *c = db_pool_get(ctx->pool);
    PGresult *r = PQexec(c, "SELECT 1");
    int up = PQresultStatus(r) == PGRES_TUPLES_OK;
    PQclear(r);
    db_pool_put(ctx->pool, c);
    if (up)
        http_reply_json(res, 200, json_pack("{s:s, s:s}", "status", "ok",
                                            "database", "ok"));
    else
        http_reply_problem(res, req, 503, "the database is not reachable");
}

/* Resolve the Bearer key to a tenant inside the open transaction and make
 * it the transaction's tenant. 0, or -1 with a 401/500 reply set. */
static int authenticate(api_tx *tx)
{
    size_t len;
    const char *key = apikey_from_header(http_header(tx->req, "Authorization"),
                                         &len);
    if (key == NULL) {
        http_reply_problem(tx->res, tx->req, 401,
                           "send an API key as 'Authorization: Bearer <key>'");
        http_set_header(tx->res, "WWW-Authenticate", "Bearer realm=\"telos\"");
        return -1;
    }
    unsigned char hash[APIKEY_HASH_LEN];
    char hex[2 * APIKEY_HASH_LEN + 3] = "\\x";
    apikey_hash(tx->ctx->pepper, key, len, hash);
    sodium_bin2hex(hex + 2, sizeof hex - 2, hash, sizeof hash);

    /* One round trip: resolve the key and make its tenant the
     * transaction's; no row means an unknown or revoked key. The function
     * sits in FROM so that it runs once (a sub-SELECT of it would be pulled
     * up and the call repeated for each reference to t). */
    const char *p1[] = {hex};
    PGresult *r = api_query(tx,
        "SELECT t::text, set_config('app.current_tenant_id', t::text, true) "
        "FROM auth.tenant_for_key($1::bytea) AS t "
        "WHERE t IS NOT NULL", 1, p1);
    if (r == NULL)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        http_reply_problem(tx->res, tx->req, 401, "unknown or revoked API key");
        http_set_header(tx->res, "WWW-Authenticate",
                        "Bearer realm=\"telos\", error=\"invalid_token\"");
        return -1;
    }
    snprintf(tx->tenant_id, sizeof tx->tenant_id, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return 0;
}

void api_dispatch(http_request *req, http_response *res, void *vctx)
{
    const api_ctx *ctx = vctx;
    if (strcmp(req->path, "/healthz") == 0 && strcmp(req->method, "GET") == 0) {
        healthz(req, res, ctx);
        return;
    }
    api_tx tx = {.req = req, .res = res, .ctx = ctx};
    tx.conn = db_pool_get(ctx->pool);
    PGresult *r = PQexec(tx.conn, "BEGIN");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        api_db_error(&tx, r);
        PQclear(r);
        db_pool_put(ctx->pool, tx.conn);
        return;
    }
    PQclear(r);
    if (authenticate(&tx) == 0)
        router_dispatch(routes, sizeof routes / sizeof routes[0], req, res, &tx);

    if (res->status > 0 && res->status < 400) {
        r = PQexec(tx.conn, "COMMIT");
        if (PQresultStatus(r) != PGRES_COMMAND_OK)
            api_db_error(&tx, r);
        PQclear(r);
    }
    db_pool_put(ctx->pool, tx.conn);   /* rolls back an open transaction */
}

PGresult *api_query(api_tx *tx, const char *sql, int nparams,
                    const char *const *params)
{
    PGresult *r = PQexecParams(tx->conn, sql, nparams, NULL, params, NULL,
                               NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return r;
    api_db_error(tx, r);
    PQclear(r);
    return NULL;
}

void api_db_error(api_tx *tx, const PGresult *r)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = r ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *cons = r ? PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME) : NULL;
    if (state == NULL)
        state = "";
    if (msg == NULL)
        msg = PQerrorMessage(tx->conn);

    if (strcmp(state, "23505") == 0) {
        http_reply_problem(tx->res, tx->req, 409, "a resource with this key "
                           "already exists (%s)", cons ? cons : "unique");
    } else if (strcmp(state, "23503") == 0) {
        http_reply_problem(tx->res, tx->req, 422, "a referenced resource does "
                           "not exist (%s)", cons ? cons : "foreign key");
    } else if (strcmp(state, "23514") == 0 || strcmp(state, "23502") == 0) {
        http_reply_problem(tx->res, tx->req, 422, "a value is not allowed: %s",
                           msg);
    } else if (strncmp(state, "22", 2) == 0) {
        http_reply_problem(tx->res, tx->req, 400, "invalid value: %s", msg);
    } else if (strcmp(state, "42501") == 0) {
        http_reply_problem(tx->res, tx->req, 403, "not permitted");
    } else {
        log_error("request %s: database error %s: %s", tx->req->request_id,
                  state, msg);
        http_reply_problem(tx->res, tx->req, 500, "internal error; quote the "
                           "request id when reporting it");
    }
}

void api_reply_row_json(api_tx *tx, int status, const PGresult *r)
{
    if (PQntuples(r) == 0 || PQgetisnull(r, 0, 0)) {
        http_reply_problem(tx->res, tx->req, 404, "no such resource");
        return;
    }
    http_response *res = tx->res;
    res->status = status;
    free(res->content_type);
    free(res->body);
    res->content_type = strdup("application/json");
    res->body_len = (size_t)PQgetlength(r, 0, 0);
    res->body = malloc(res->body_len + 1);
    if (res->content_type == NULL || res->body == NULL) {
        http_reply_problem(tx->res, tx->req, 500, "out of memory");
        return;
    }
    memcpy(res->body, PQgetvalue(r, 0, 0), res->body_len + 1);
}

json_t *api_body_json(api_tx *tx)
{
    const char *ct = http_header(tx->req, "Content-Type");
    if (ct && strncasecmp(ct, "application/json", 16) != 0) {
        http_reply_problem(tx->res, tx->req, 415,
                           "send the body as application/json");
        return NULL;
    }
    json_error_t e;
    json_t *j = json_loadb(tx->req->body, tx->req->body_len,
                           JSON_REJECT_DUPLICATES, &e);
    if (j == NULL)
        http_reply_problem(tx->res, tx->req, 400,
                           "malformed JSON at line %d, column %d: %s",
                           e.line, e.column, e.text);
    return j;
}

void api_reply_invalid(api_tx *tx, json_t *errors, const char *detail)
{
    http_reply_problem_ext(tx->res, tx->req, 400,
                           json_pack("{s:o}", "errors", errors), "%s", detail);
}
