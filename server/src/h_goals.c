/*
 * h_goals.c -- /v1/goals: SMART goals stored as the seed defines them.
 * (The goals issue adds the lifecycle; this is plain storage.)
 */
#include <string.h>

#include "api.h"
#include "parse.h"

#define GOAL_JSON \
    "json_build_object('id', id, 'user_id', user_id, 'status', status, " \
    "'specific', specific, 'measurable', measurable, " \
    "'achievable', achievable, 'relevant', relevant, " \
    "'time_bound', time_bound, 'action_plan', action_plan, " \
    "'workflow_id', workflow_id, " \
    "'coaching_session_ids', coaching_session_ids, " \
    "'ai_recommendations', ai_recommendations, 'check_ins', check_ins, " \
    "'outcome_metrics', outcome_metrics, 'created_at', created_at, " \
    "'updated_at', updated_at)"

static const parse_field goal_fields[] = {
    {"user_id", PF_UUID, 1, 0},
    {"status", PF_STRING, 0, 0},
    {"specific", PF_OBJECT, 1, 0},
    {"measurable", PF_OBJECT, 1, 0},
    {"achievable", PF_OBJECT, 1, 0},
    {"relevant", PF_OBJECT, 1, 0},
    {"time_bound", PF_OBJECT, 1, 0},
    {"action_plan", PF_ARRAY, 0, 0},
    {"workflow_id", PF_STRING, 0, 1},
    {"coaching_session_ids", PF_UUID_ARRAY, 0, 0},
    {"ai_recommendations", PF_ARRAY, 0, 0},
    {"check_ins", PF_ARRAY, 0, 0},
    {"outcome_metrics", PF_OBJECT, 0, 1},
};
#define NGOAL_FIELDS ((int)(sizeof goal_fields / sizeof goal_fields[0]))

void h_goals_list(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    const char *p[] = {http_query(req, "status")};
    PGresult *r = api_query(tx,
        "SELECT coalesce(json_agg(" GOAL_JSON " ORDER BY created_at, id), "
        "'[]') FROM smart_goals WHERE $1::text IS NULL OR status = $1",
        1, p);
    if (r == NULL)
        return;
    api_reply_row_json(tx, 200, r);
    PQclear(r);
}

void h_goals_create(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    json_t *body = api_body_json(tx);
    if (body == NULL)
        return;
    json_t *errors = json_array();
    if (parse_check_object(body, goal_fields, NGOAL_FIELDS, errors) > 0) {
        api_reply_invalid(tx, errors, "the goal is not valid");
        json_decref(body);
        return;
    }
    json_decref(errors);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (text == NULL) {
        http_reply_problem(res, req, 500, "out of memory");
        return;
    }
    /* The validated body goes in as one jsonb parameter; SQL picks it
     * apart, so no value is ever spliced into the statement. */
    const char *p[] = {tx->tenant_id, text};
    PGresult *r = api_query(tx,
        "INSERT INTO smart_goals (id, tenant_id, user_id, status, specific, "
        "  measurable, achievable, relevant, time_bound, action_plan, "
        "  workflow_id, coaching_session_ids, ai_recommendations, check_ins, "
        "  outcome_metrics) "
        "SELECT gen_random_uuid(), $1, (j->>'user_id')::uuid, "
        "  coalesce(j->>'status', 'draft'), j->'specific', j->'measurable', "
        "  j->'achievable', j->'relevant', j->'time_bound', "
        "  coalesce(j->'action_plan', '[]'), j->>'workflow_id', "
        "  coalesce(ARRAY(SELECT jsonb_array_elements_text("
        "    j->'coaching_session_ids')::uuid), '{}'), "
        "  coalesce(j->'ai_recommendations', '[]'), "
        "  coalesce(j->'check_ins', '[]'), "
        "  nullif(j->'outcome_metrics', 'null'::jsonb) "
        "FROM (SELECT $2::jsonb AS j) s RETURNING " GOAL_JSON, 2, p);
    free(text);
    if (r == NULL)
        return;
    api_reply_row_json(tx, 201, r);
    PQclear(r);
}

void h_goals_get(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    /* Not a UUID cannot name a goal: the same 404 as an unknown id. */
    if (!parse_is_uuid(req->params[0])) {
        http_reply_problem(res, req, 404, "no such goal");
        return;
    }
    const char *p[] = {req->params[0]};
    PGresult *r = api_query(tx, "SELECT " GOAL_JSON " FROM smart_goals "
                            "WHERE id = $1::uuid", 1, p);
    if (r == NULL)
        return;
    api_reply_row_json(tx, 200, r);
    PQclear(r);
}
