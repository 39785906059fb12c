/*
 * h_metric_defs.c -- CRUD for /v1/metric-definitions: what each metric_type
 * means (unit, aggregation, optional formula for derived metrics).
 */
#include <string.h>

#include "api.h"
#include "parse.h"

#define DEF_JSON \
    "json_build_object('metric_type', metric_type, 'unit', unit, " \
    "'description', description, 'calculation_formula', calculation_formula, " \
    "'aggregation', aggregation, 'created_at', created_at, " \
    "'updated_at', updated_at)"

static const parse_field def_fields[] = {
    {"metric_type", PF_METRIC_TYPE, 1, 0},
    {"unit", PF_STRING, 0, 1},
    {"description", PF_STRING, 0, 1},
    {"calculation_formula", PF_STRING, 0, 1},
    {"aggregation", PF_STRING, 0, 1},
};
#define NDEF_FIELDS ((int)(sizeof def_fields / sizeof def_fields[0]))

static const char *member(const json_t *o, const char *name)
{
    return json_string_value(json_object_get(o, name));
}

/* Parse and validate the body; for an update the metric_type member is
 * optional but must match the path. NULL with a reply set on error. */
static json_t *read_definition(api_tx *tx, const char *path_type)
{
    json_t *body = api_body_json(tx);
    if (body == NULL)
        return NULL;
    if (path_type && json_is_object(body) &&
        json_object_get(body, "metric_type") == NULL)
        json_object_set_new(body, "metric_type", json_string(path_type));
    json_t *errors = json_array();
    if (parse_check_object(body, def_fields, NDEF_FIELDS, errors) > 0) {
        api_reply_invalid(tx, errors, "the metric definition is not valid");
        json_decref(body);
        return NULL;
    }
    json_decref(errors);
    if (path_type && strcmp(member(body, "metric_type"), path_type) != 0) {
        http_reply_problem(tx->res, tx->req, 400, "metric_type in the body "
                           "differs from the one in the path");
        json_decref(body);
        return NULL;
    }
    return body;
}

void h_metric_defs_list(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    PGresult *r = api_query(tx,
        "SELECT coalesce(json_agg(" DEF_JSON " ORDER BY metric_type), '[]') "
        "FROM metric_definitions", 0, NULL);
    if (r == NULL)
        return;
    api_reply_row_json(tx, 200, r);
    PQclear(r);
}

void h_metric_defs_create(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    json_t *body = read_definition(tx, NULL);
    if (body == NULL)
        return;
    const char *params[] = {
        tx->tenant_id, member(body, "metric_type"), member(body, "unit"),
        member(body, "description"), member(body, "calculation_formula"),
        member(body, "aggregation"),
    };
    PGresult *r = api_query(tx,
        "INSERT INTO metric_definitions (tenant_id, metric_type, unit, "
        "  description, calculation_formula, aggregation) "
        "VALUES ($1, $2, $3, $4, $5, coalesce($6, 'sum')) RETURNING " DEF_JSON,
        6, params);
    json_decref(body);
    if (r == NULL)
        return;
    api_reply_row_json(tx, 201, r);
    PQclear(r);
}

void h_metric_defs_get(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    const char *params[] = {req->params[0]};
    PGresult *r = api_query(tx, "SELECT " DEF_JSON " FROM metric_definitions "
                            "WHERE metric_type = $1", 1, params);
    if (r == NULL)
        return;
    api_reply_row_json(tx, 200, r);
    PQclear(r);
}

/* PUT replaces every mutable member: one left out goes back to its default. */
void h_metric_defs_update(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    json_t *body = read_definition(tx, req->params[0]);
    if (body == NULL)
        return;
    const char *params[] = {
        req->params[0], member(body, "unit"), member(body, "description"),
        member(body, "calculation_formula"), member(body, "aggregation"),
    };
    PGresult *r = api_query(tx,
        "UPDATE metric_definitions SET unit = $2, description = $3, "
        "  calculation_formula = $4, aggregation = coalesce($5, 'sum'), "
        "  updated_at = now() "
        "WHERE metric_type = $1 RETURNING " DEF_JSON, 5, params);
    json_decref(body);
    if (r == NULL)
        return;
    api_reply_row_json(tx, 200, r);
    PQclear(r);
}

void h_metric_defs_delete(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    const char *params[] = {req->params[0]};
    PGresult *r = api_query(tx, "DELETE FROM metric_definitions "
                            "WHERE metric_type = $1", 1, params);
    if (r == NULL)
        return;
    if (strcmp(PQcmdTuples(r), "0") == 0)
        http_reply_problem(res, req, 404, "no such metric definition");
    else {
        res->status = 204;
    }
    PQclear(r);
}
