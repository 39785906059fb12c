/*
 * h_tenant.c -- GET /v1/tenant (who am I) and the /v1/users resource.
 */
#include "api.h"
#include "parse.h"

void h_tenant_get(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    /* RLS on tenants shows only the current tenant's row. */
    PGresult *r = api_query(tx,
        "SELECT json_build_object('id', id, 'name', name, 'tier', tier, "
        "  'timezone', timezone, 'retention', retention::text, "
        "  'created_at', created_at) FROM tenants", 0, NULL);
    if (r == NULL)
        return;
    api_reply_row_json(tx, 200, r);
    PQclear(r);
}

#define USER_JSON \
    "json_build_object('id', id, 'email', email, 'name', name, " \
    "'role', role, 'created_at', created_at)"

void h_users_list(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    PGresult *r = api_query(tx,
        "SELECT coalesce(json_agg(" USER_JSON " ORDER BY created_at, id), '[]') "
        "FROM users", 0, NULL);
    if (r == NULL)
        return;
    api_reply_row_json(tx, 200, r);
    PQclear(r);
}

void h_users_create(http_request *req, http_response *res, void *ctx)
{
    static const parse_field fields[] = {
        {"email", PF_STRING, 1, 0},
        {"name", PF_STRING, 0, 1},
        {"role", PF_STRING, 0, 1},
    };
    api_tx *tx = ctx;
    json_t *body = api_body_json(tx);
    if (body == NULL)
        return;
    json_t *errors = json_array();
    if (parse_check_object(body, fields, 3, errors) > 0) {
        api_reply_invalid(tx, errors, "the user is not valid");
        json_decref(body);
        return;
    }
    json_decref(errors);
    const char *params[] = {
        tx->tenant_id,
        json_string_value(json_object_get(body, "email")),
        json_string_value(json_object_get(body, "name")),
        json_string_value(json_object_get(body, "role")),
    };
    PGresult *r = api_query(tx,
        "INSERT INTO users (tenant_id, id, email, name, role) "
        "VALUES ($1, gen_random_uuid(), $2, $3, coalesce($4, 'member')) RETURNING " USER_JSON,
        4, params);
    json_decref(body);
    if (r == NULL)
        return;
    api_reply_row_json(tx, 201, r);
    PQclear(r);
}
