/*
 * h_goal_lifecycle.c -- the lifecycle of a SMART goal over HTTP:
 *   POST  /v1/goals/:id/transitions  {action, reason?, actor?}
 *   GET   /v1/goals/:id/transitions  the audit trail, oldest first
 *   PATCH /v1/goals/:id              partial update of SMART parts, action_plan
 *
 * The state machine, the validation and the audit trail live in SQL
 * (schema/0013_goal_lifecycle.sql: goal_transition(), goal_patch(),
 * goal_validate()); this file only maps their errors to problem documents:
 * TL001 -> 409 with the allowed actions, TL002 -> 422 with {path, reason}
 * per failure, P0002 -> 404, 22023 (unknown action) -> 400.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "parse.h"

#define GOAL_JSON_OF(t) \
    "json_build_object('id', " t ".id, 'user_id', " t ".user_id, " \
    "'status', " t ".status, 'specific', " t ".specific, " \
    "'measurable', " t ".measurable, 'achievable', " t ".achievable, " \
    "'relevant', " t ".relevant, 'time_bound', " t ".time_bound, " \
    "'action_plan', " t ".action_plan, 'workflow_id', " t ".workflow_id, " \
    "'coaching_session_ids', " t ".coaching_session_ids, " \
    "'ai_recommendations', " t ".ai_recommendations, " \
    "'check_ins', " t ".check_ins, 'outcome_metrics', " t ".outcome_metrics, " \
    "'created_at', " t ".created_at, 'updated_at', " t ".updated_at)"

static const parse_field transition_fields[] = {
    {"action", PF_STRING, 1, 0},
    {"reason", PF_STRING, 0, 1},
    {"actor", PF_UUID, 0, 1},
};

static const parse_field patch_fields[] = {
    {"specific", PF_OBJECT, 0, 0},
    {"measurable", PF_OBJECT, 0, 0},
    {"achievable", PF_OBJECT, 0, 0},
    {"relevant", PF_OBJECT, 0, 0},
    {"time_bound", PF_OBJECT, 0, 0},
    {"action_plan", PF_ARRAY, 0, 0},
};

#define NFIELDS(a) ((int)(sizeof a / sizeof a[0]))

/* The JSON in the error's DETAIL (the lifecycle functions put a document
 * there), or NULL when there is none or it is not JSON. Caller decrefs. */
static json_t *detail_json(const PGresult *r)
{
    const char *d = PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL);
    if (d == NULL)
        return NULL;
    return json_loads(d, 0, NULL);
}

/* Run a statement of the lifecycle; on error set the problem reply that
 * fits the SQLSTATE and return NULL. Otherwise the caller PQclear()s. */
static PGresult *lc_query(api_tx *tx, const char *sql, int nparams,
                          const char *const *params)
{
    PGresult *r = PQexecParams(tx->conn, sql, nparams, NULL, params, NULL,
                               NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return r;
    const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
    if (state == NULL)
        state = "";
    if (msg == NULL)
        msg = "";
    json_t *d = NULL;
    if (strcmp(state, "TL001") == 0 || strcmp(state, "22023") == 0) {
        /* {goal_status, action, allowed[]} become members of the problem
         * ("status" is the problem's own: the HTTP status). */
        d = detail_json(r);
        if (!json_is_object(d)) {
            json_decref(d);
            d = json_object();
        }
        http_reply_problem_ext(tx->res, tx->req,
                               state[0] == 'T' ? 409 : 400, d, "%s", msg);
    } else if (strcmp(state, "TL002") == 0) {
        d = detail_json(r);
        if (!json_is_array(d)) {
            json_decref(d);
            d = json_array();
        }
        http_reply_problem_ext(tx->res, tx->req, 422,
                               json_pack("{s:o}", "errors", d), "%s", msg);
    } else if (strcmp(state, "P0002") == 0) {
        http_reply_problem(tx->res, tx->req, 404, "no such goal");
    } else {
        api_db_error(tx, r);
    }
    PQclear(r);
    return NULL;
}

/* The goal id of the path, or NULL with a 404 set: a string that is not a
 * UUID cannot name a goal. */
static const char *goal_id(api_tx *tx)
{
    const char *id = tx->req->params[0];
    if (!parse_is_uuid(id)) {
        http_reply_problem(tx->res, tx->req, 404, "no such goal");
        return NULL;
    }
    return id;
}

/* Parse and check the body against fields; NULL with a 400 set. */
static char *body_text(api_tx *tx, const parse_field *fields, int n)
{
    json_t *body = api_body_json(tx);
    if (body == NULL)
        return NULL;
    if (!json_is_object(body)) {
        json_decref(body);
        http_reply_problem(tx->res, tx->req, 400, "send a JSON object");
        return NULL;
    }
    json_t *errors = json_array();
    if (parse_check_object(body, fields, n, errors) > 0) {
        api_reply_invalid(tx, errors, "the request is not valid");
        json_decref(body);
        return NULL;
    }
    json_decref(errors);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (text == NULL)
        http_reply_problem(tx->res, tx->req, 500, "out of memory");
    return text;
}

void h_goal_transitions_create(http_request *req, http_response *res,
                               void *ctx)
{
    api_tx *tx = ctx;
    const char *id = goal_id(tx);
    if (id == NULL)
        return;
    char *text = body_text(tx, transition_fields, NFIELDS(transition_fields));
    if (text == NULL)
        return;
    /* The transition first, then the goal as it now is: one statement
     * would read the goal with the snapshot taken before the change. */
    const char *p[] = {id, text};
    PGresult *r = lc_query(tx,
        "SELECT goal_transition($1::uuid, j->>'action', j->>'reason', "
        "       (j->>'actor')::uuid)::text FROM (SELECT $2::jsonb AS j) s",
        2, p);
    free(text);
    if (r == NULL)
        return;
    const char *p2[] = {id, PQgetvalue(r, 0, 0)};
    PGresult *g = lc_query(tx,
        "SELECT json_build_object('transition', $2::json, 'goal', "
        GOAL_JSON_OF("g") ") FROM smart_goals g WHERE g.id = $1::uuid",
        2, p2);
    PQclear(r);
    if (g == NULL)
        return;
    api_reply_row_json(tx, 201, g);
    PQclear(g);
}

void h_goal_transitions_list(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    const char *id = goal_id(tx);
    if (id == NULL)
        return;
    /* NULL (404) when the goal is not the tenant's; [] when it has no
     * transition yet. */
    const char *p[] = {id};
    PGresult *r = lc_query(tx,
        "SELECT (SELECT coalesce(json_agg(json_build_object('id', t.id, "
        "  'goal_id', t.goal_id, 'action', t.action, 'from', t.from_status, "
        "  'to', t.to_status, 'reason', t.reason, 'actor', t.actor, "
        "  'at', t.at) ORDER BY t.at, t.id), '[]') "
        "  FROM goal_transitions t WHERE t.goal_id = g.id) "
        "FROM smart_goals g WHERE g.id = $1::uuid", 1, p);
    if (r == NULL)
        return;
    api_reply_row_json(tx, 200, r);
    PQclear(r);
}

void h_goals_patch(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    const char *id = goal_id(tx);
    if (id == NULL)
        return;
    char *text = body_text(tx, patch_fields, NFIELDS(patch_fields));
    if (text == NULL)
        return;
    const char *p[] = {id, text};
    PGresult *r = lc_query(tx, "SELECT goal_patch($1::uuid, $2::jsonb)", 2, p);
    free(text);
    if (r == NULL)
        return;
    PQclear(r);
    r = lc_query(tx, "SELECT " GOAL_JSON_OF("g") " FROM smart_goals g "
                 "WHERE g.id = $1::uuid", 1, p);
    if (r == NULL)
        return;
    api_reply_row_json(tx, 200, r);
    PQclear(r);
}
