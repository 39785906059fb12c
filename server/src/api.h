/*
 * api.h -- telos' HTTP endpoints: authentication, the per-request tenant
 * transaction, and the helpers handlers share.
 *
 * Every /v1 request: Bearer key -> keyed hash -> auth.tenant_for_key() (a
 * SECURITY DEFINER function, the only way telos_app can see key hashes) ->
 * set_config('app.current_tenant_id', tenant, true) -> handler -> COMMIT when
 * the reply is a success, ROLLBACK otherwise. All of it in one transaction on
 * one pooled telos_app connection, so RLS filters every statement.
 */
#ifndef TELOS_API_H
#define TELOS_API_H

#include <libpq-fe.h>

#include "apikey.h"
#include "config.h"
#include "db.h"
#include "http.h"

typedef struct api_ctx {
    const telos_config *cfg;
    db_pool *pool;
    unsigned char pepper[APIKEY_PEPPER_LEN];
} api_ctx;

/* One request's state, the ctx handlers receive. */
typedef struct api_tx {
    http_request *req;
    http_response *res;
    PGconn *conn;           /* pooled telos_app connection, in a transaction */
    char tenant_id[37];     /* the authenticated tenant */
    const api_ctx *ctx;
} api_tx;

/* The http_dispatch_fn for telos_start(): ctx is an api_ctx. */
void api_dispatch(http_request *req, http_response *res, void *ctx);

/* Run a parameterised statement (text parameters, NULL = SQL NULL). On a
 * database error, sets the matching problem reply (see api_db_error) and
 * returns NULL; otherwise the caller PQclear()s the result. */
PGresult *api_query(api_tx *tx, const char *sql, int nparams,
                    const char *const *params);

/* Problem reply for a failed statement: 409 unique violation, 422 foreign
 * key / check / not-null, 400 invalid text representation or out of range,
 * 500 (generic, logged with the request id) for everything else. */
void api_db_error(api_tx *tx, const PGresult *r);

/* Reply with the JSON text in column 0 of row 0 of r (a statement that built
 * its JSON in SQL); 404 "not found" when r has no row. Does not clear r. */
void api_reply_row_json(api_tx *tx, int status, const PGresult *r);

/* Parse the request body as JSON. On failure sets a 400 (or 415 for a
 * Content-Type that is not JSON) and returns NULL. Caller json_decref()s. */
json_t *api_body_json(api_tx *tx);

/* Reply 400 with {"errors": errors} (steals errors). */
void api_reply_invalid(api_tx *tx, json_t *errors, const char *detail);

/* Handlers, one file per resource (h_*.c). */
void h_tenant_get(http_request *req, http_response *res, void *ctx);
void h_users_list(http_request *req, http_response *res, void *ctx);
void h_users_create(http_request *req, http_response *res, void *ctx);
void h_metric_defs_list(http_request *req, http_response *res, void *ctx);
void h_metric_defs_create(http_request *req, http_response *res, void *ctx);
void h_metric_defs_get(http_request *req, http_response *res, void *ctx);
void h_metric_defs_update(http_request *req, http_response *res, void *ctx);
void h_metric_defs_delete(http_request *req, http_response *res, void *ctx);
void h_metrics_ingest(http_request *req, http_response *res, void *ctx);
void h_metrics_get(http_request *req, http_response *res, void *ctx);
void h_goals_list(http_request *req, http_response *res, void *ctx);
void h_goals_create(http_request *req, http_response *res, void *ctx);
void h_goals_get(http_request *req, http_response *res, void *ctx);
/* h_goal_lifecycle.c: PATCH /v1/goals/:id, /v1/goals/:id/transitions */
void h_goals_patch(http_request *req, http_response *res, void *ctx);
void h_goal_transitions_list(http_request *req, http_response *res, void *ctx);
void h_goal_transitions_create(http_request *req, http_response *res,
                               void *ctx);
void h_evidence_list(http_request *req, http_response *res, void *ctx);
void h_evidence_drivers(http_request *req, http_response *res, void *ctx);
void h_evidence_paths(http_request *req, http_response *res, void *ctx);
void h_evidence_discover(http_request *req, http_response *res, void *ctx);
void h_evidence_discover_get(http_request *req, http_response *res, void *ctx);
void h_events_list(http_request *req, http_response *res, void *ctx);
void h_events_create(http_request *req, http_response *res, void *ctx);
void h_events_get(http_request *req, http_response *res, void *ctx);
void h_events_effect(http_request *req, http_response *res, void *ctx);

#endif
