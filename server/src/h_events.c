/*
 * h_events.c -- /v1/events: business events (EventNodes of the evidence
 * graph) such as a price change or a campaign launch.
 *
 *   POST /v1/events              record an event and test its effect
 *   GET  /v1/events              the tenant's events, newest first
 *   GET  /v1/events/{id}         one event with its influenced_by edges
 *   POST /v1/events/{id}/effect  test the effect again (more data since)
 *
 * The effect test is public.test_event_effect (migration 0012): Welch's
 * t-test between the buckets before and after the event, recorded as
 * `influenced_by` edges metric -> event when significant. It runs in the
 * request's transaction, so the event and its edges commit together.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "parse.h"

#define EVENT_JSON(e) \
    "json_build_object('id', " e ".id, 'kind', " e ".kind, 'name', " e ".name, " \
    "'description', " e ".description, 'occurred_at', " e ".occurred_at, " \
    "'metrics', " e ".metrics, 'attributes', " e ".attributes, " \
    "'bucket', " e ".bucket, 'window', " e ".\"window\", " \
    "'created_at', " e ".created_at)"

static const parse_field event_fields[] = {
    {"kind", PF_METRIC_TYPE, 1, 0},
    {"name", PF_STRING, 1, 0},
    {"description", PF_STRING, 0, 1},
    {"occurred_at", PF_TIMESTAMP, 1, 0},
    {"metrics", PF_STRING_ARRAY, 0, 1},
    {"attributes", PF_OBJECT, 0, 0},
    {"bucket", PF_STRING, 0, 0},
    {"window", PF_INTEGER, 0, 0},
};
#define NEVENT_FIELDS ((int)(sizeof event_fields / sizeof event_fields[0]))

static void bad_field(json_t *errors, const char *field, const char *msg)
{
    json_array_append_new(errors, json_pack("{s:s,s:s}", "field", field,
                                            "message", msg));
}

/* Checks beyond the members' kinds. */
static void check_event(const json_t *b, json_t *errors)
{
    const char *name = json_string_value(json_object_get(b, "name"));
    const char *bucket = json_string_value(json_object_get(b, "bucket"));
    json_t *w = json_object_get(b, "window");
    json_t *ms = json_object_get(b, "metrics");
    if (name && (name[strspn(name, " \t\r\n")] == '\0' || strlen(name) > 200))
        bad_field(errors, "name", "must be 1 to 200 characters, not blank");
    if (bucket && strcmp(bucket, "hour") != 0 && strcmp(bucket, "day") != 0 &&
        strcmp(bucket, "month") != 0)
        bad_field(errors, "bucket", "must be hour, day or month");
    if (json_is_integer(w) &&
        (json_integer_value(w) < 3 || json_integer_value(w) > 366))
        bad_field(errors, "window", "must be from 3 to 366 buckets");
    if (json_is_array(ms)) {
        size_t i;
        json_t *v;
        json_array_foreach(ms, i, v) {
            if (!parse_is_metric_type(json_string_value(v))) {
                bad_field(errors, "metrics", "must hold metric type names");
                break;
            }
        }
    }
}

/* Reply with the event id's JSON and its effect test (fresh). */
static void reply_event_with_effects(api_tx *tx, const char *id, int status)
{
    const char *p[] = {id};
    PGresult *r = api_query(tx,
        "SELECT " EVENT_JSON("e") "::jsonb || jsonb_build_object('effects', "
        "  public.test_event_effect(e.id)) FROM business_events e "
        "WHERE e.id = $1::uuid", 1, p);
    if (r == NULL)
        return;
    api_reply_row_json(tx, status, r);
    PQclear(r);
}

void h_events_create(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    json_t *body = api_body_json(tx);
    if (body == NULL)
        return;
    json_t *errors = json_array();
    if (parse_check_object(body, event_fields, NEVENT_FIELDS, errors) == 0)
        check_event(body, errors);
    if (json_array_size(errors) > 0) {
        api_reply_invalid(tx, errors, "the event is not valid");
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
    const char *p[] = {tx->tenant_id, text};
    /* Metrics named must be the tenant's (the effect test reads them). */
    PGresult *r = api_query(tx,
        "SELECT string_agg(m, ', ' ORDER BY m) FROM (SELECT DISTINCT m FROM "
        "  jsonb_array_elements_text(CASE WHEN jsonb_typeof($1::jsonb -> 'metrics') "
        "    = 'array' THEN $1::jsonb -> 'metrics' ELSE '[]' END) m "
        "  WHERE NOT EXISTS (SELECT 1 FROM metric_definitions d "
        "                    WHERE d.metric_type = m)) u", 1, p + 1);
    if (r == NULL) {
        free(text);
        return;
    }
    if (!PQgetisnull(r, 0, 0)) {
        http_reply_problem(res, req, 422, "metrics not defined for this "
                           "tenant: %s", PQgetvalue(r, 0, 0));
        PQclear(r);
        free(text);
        return;
    }
    PQclear(r);
    r = api_query(tx,
        "INSERT INTO business_events (tenant_id, kind, name, description, "
        "  occurred_at, metrics, attributes, bucket, \"window\") "
        "SELECT $1, j->>'kind', j->>'name', j->>'description', "
        "  (j->>'occurred_at')::timestamptz, "
        "  CASE WHEN jsonb_typeof(j->'metrics') = 'array' THEN "
        "    ARRAY(SELECT DISTINCT jsonb_array_elements_text(j->'metrics')) END, "
        "  coalesce(j->'attributes', '{}'), coalesce(j->>'bucket', 'day'), "
        "  coalesce((j->>'window')::int, 14) "
        "FROM (SELECT $2::jsonb AS j) s RETURNING id::text", 2, p);
    free(text);
    if (r == NULL)
        return;
    char id[37];
    strncpy(id, PQgetvalue(r, 0, 0), sizeof id - 1);
    id[sizeof id - 1] = '\0';
    PQclear(r);
    reply_event_with_effects(tx, id, 201);
}

void h_events_list(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    const char *kind = http_query(req, "kind");
    if (kind && !parse_is_metric_type(kind)) {
        json_t *errors = json_array();
        bad_field(errors, "kind", "must match ^[a-z][a-z0-9_]{0,62}$");
        api_reply_invalid(tx, errors, "bad query parameters");
        return;
    }
    const char *p[] = {kind};
    PGresult *r = api_query(tx,
        "SELECT coalesce(json_agg(" EVENT_JSON("e") " ORDER BY e.occurred_at DESC, e.id), '[]') "
        "FROM (SELECT * FROM business_events WHERE $1::text IS NULL OR kind = $1 "
        "      ORDER BY occurred_at DESC, id LIMIT 1000) e", 1, p);
    if (r == NULL)
        return;
    api_reply_row_json(tx, 200, r);
    PQclear(r);
}

void h_events_get(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    if (!parse_is_uuid(req->params[0])) {
        http_reply_problem(res, req, 404, "no such event");
        return;
    }
    const char *p[] = {req->params[0]};
    PGresult *r = api_query(tx,
        "SELECT " EVENT_JSON("e") "::jsonb || jsonb_build_object('edges', "
        "  coalesce((SELECT jsonb_agg(jsonb_build_object('id', x.id, "
        "    'source', x.source_node, 'edge_type', x.edge_type, "
        "    'confidence', x.confidence, 'evidence', x.evidence, "
        "    'retired_at', x.retired_at) ORDER BY x.confidence DESC, x.id) "
        "   FROM evidence_edges x WHERE x.target_key = 'event:' || e.id::text), '[]')) "
        "FROM business_events e WHERE e.id = $1::uuid", 1, p);
    if (r == NULL)
        return;
    api_reply_row_json(tx, 200, r);
    PQclear(r);
}

void h_events_effect(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    if (!parse_is_uuid(req->params[0])) {
        http_reply_problem(res, req, 404, "no such event");
        return;
    }
    reply_event_with_effects(tx, req->params[0], 200);
}
