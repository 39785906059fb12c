/*
 * h_evidence.c -- the evidence graph API over public.evidence_edges.
 *
 *   GET  /v1/evidence?node=metric:revenue     edges in and out of a node
 *   GET  /v1/evidence/drivers/{metric_type}   ranked drivers of a metric
 *   GET  /v1/evidence/paths?from=&to=         paths between two nodes
 *   POST /v1/evidence/discover                run causal discovery
 *   GET  /v1/evidence/discover/{id}           a discovery run and its result
 *
 * Nodes are named "type:id" (metric, event, goal, external_factor), the
 * generated source_key / target_key columns that the indexes of migration
 * 0012 serve. Every statement runs in the request's tenant transaction, so
 * row-level security confines it to the tenant. Traversal follows the
 * direction of influence: source -> target, except `influenced_by` edges
 * (metric influenced_by event), which are walked target -> source. See
 * docs/evidence.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "parse.h"

/* A discovery for more metrics than this runs as a job, not in the request. */
#define EVIDENCE_INLINE_MAX_METRICS 20
#define PATHS_MAX_DEPTH 6

#define EDGE_JSON(e) \
    "json_build_object('id', " e ".id, 'source', " e ".source_node, " \
    "'target', " e ".target_node, 'edge_type', " e ".edge_type, " \
    "'confidence', " e ".confidence, 'method', " e ".method, " \
    "'evidence', " e ".evidence, 'created_at', " e ".created_at, " \
    "'updated_at', " e ".updated_at, 'retired_at', " e ".retired_at)"

/* The filters of a traversal step ($4 types, $5 min_confidence, $6
 * include_retired) on edge alias e. */
#define STEP_FILTER \
    "($4::text IS NULL OR e.edge_type = ANY (string_to_array($4, ','))) " \
    "AND ($5::numeric IS NULL OR e.confidence >= $5::numeric) " \
    "AND ($6::boolean OR e.retired_at IS NULL)"

#define JOB_JSON \
    "json_build_object('id', id, 'status', status, 'params', params, " \
    "'result', result, 'error', error, 'created_at', created_at, " \
    "'started_at', started_at, 'finished_at', finished_at)"

static void bad_param(json_t *errors, const char *field, const char *msg)
{
    json_array_append_new(errors, json_pack("{s:s,s:s}", "field", field,
                                            "message", msg));
}

/* A number in [0, 1] (min_confidence). */
static int is_unit_interval(const char *s)
{
    char *end;
    double v = strtod(s, &end);
    return *s != '\0' && *end == '\0' && v >= 0 && v <= 1;
}

/* An integer in [lo, hi] into *out. */
static int int_in(const char *s, long lo, long hi, long *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

/* true/false/1/0 into *out; absent leaves *out. */
static int bool_param(const char *s, int *out)
{
    if (s == NULL)
        return 1;
    if (strcasecmp(s, "true") == 0 || strcmp(s, "1") == 0)
        *out = 1;
    else if (strcasecmp(s, "false") == 0 || strcmp(s, "0") == 0)
        *out = 0;
    else
        return 0;
    return 1;
}

/* Common filters of the read endpoints; NULL values mean "no filter". */
typedef struct edge_filter {
    const char *types;          /* "causes,inhibits" */
    const char *min_confidence;
    int include_retired;
    char limit[16];
} edge_filter;

/* Read type, min_confidence, include_retired and limit (default deflim,
 * at most maxlim) into f, appending problems to errors. */
static void read_filter(http_request *req, edge_filter *f, long deflim,
                        long maxlim, json_t *errors)
{
    long lim = deflim;
    const char *l = http_query(req, "limit");
    f->types = http_query(req, "type");
    f->min_confidence = http_query(req, "min_confidence");
    f->include_retired = 0;
    if (f->types && !parse_is_edge_types(f->types))
        bad_param(errors, "type", "must be edge types separated by commas: "
                  "causes, correlates, inhibits, supports, influenced_by");
    if (f->min_confidence && !is_unit_interval(f->min_confidence))
        bad_param(errors, "min_confidence", "must be a number from 0 to 1");
    if (!bool_param(http_query(req, "include_retired"), &f->include_retired))
        bad_param(errors, "include_retired", "must be true or false");
    if (l && !int_in(l, 1, maxlim, &lim))
        bad_param(errors, "limit", "must be a positive integer within the maximum");
    snprintf(f->limit, sizeof f->limit, "%ld", lim);
}

/* --- GET /v1/evidence ------------------------------------------------------ */

void h_evidence_list(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    const char *node = http_query(req, "node");
    const char *dir = http_query(req, "direction");
    edge_filter f;
    json_t *errors = json_array();
    if (node == NULL)
        bad_param(errors, "node", "is required, e.g. node=metric:revenue");
    else if (!parse_is_node(node))
        bad_param(errors, "node", "must be TYPE:ID with TYPE metric, event, "
                  "goal or external_factor");
    if (dir && strcmp(dir, "in") != 0 && strcmp(dir, "out") != 0 &&
        strcmp(dir, "both") != 0)
        bad_param(errors, "direction", "must be in, out or both");
    read_filter(req, &f, 500, 5000, errors);
    if (json_array_size(errors) > 0) {
        api_reply_invalid(tx, errors, "bad query parameters");
        return;
    }
    json_decref(errors);
    /* With PQexecParams' unnamed statement the plan is made for these
     * values, so the constant conditions fold away and each arm of the OR
     * is an index scan (evidence_edges_source / _target). */
    const char *p[] = {node, f.types, f.min_confidence, dir ? dir : "both",
                       f.include_retired ? "true" : "false", f.limit};
    PGresult *r = api_query(tx,
        "SELECT json_build_object('node', $1::text, 'edges', coalesce("
        "  json_agg(" EDGE_JSON("e") "::jsonb || jsonb_build_object("
        "  'direction', CASE WHEN e.source_key = $1 THEN 'out' ELSE 'in' END) "
        "  ORDER BY e.confidence DESC NULLS LAST, e.id), '[]')) "
        "FROM (SELECT * FROM evidence_edges "
        "  WHERE (($4 <> 'in' AND source_key = $1) OR "
        "         ($4 <> 'out' AND target_key = $1)) "
        "    AND ($2::text IS NULL OR edge_type = ANY (string_to_array($2, ','))) "
        "    AND ($3::numeric IS NULL OR confidence >= $3::numeric) "
        "    AND ($5::boolean OR retired_at IS NULL) "
        "  ORDER BY confidence DESC NULLS LAST, id LIMIT $6::int) e",
        6, p);
    if (r == NULL)
        return;
    api_reply_row_json(tx, 200, r);
    PQclear(r);
}

/* --- GET /v1/evidence/drivers/{metric_type} -------------------------------- */

void h_evidence_drivers(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    edge_filter f;
    json_t *errors = json_array();
    read_filter(req, &f, 20, 500, errors);
    if (json_array_size(errors) > 0) {
        api_reply_invalid(tx, errors, "bad query parameters");
        return;
    }
    json_decref(errors);
    const char *p1[] = {req->params[0]};
    PGresult *r = parse_is_metric_type(req->params[0])
        ? api_query(tx, "SELECT 1 FROM metric_definitions WHERE metric_type = $1",
                    1, p1)
        : NULL;
    if (r == NULL && res->status != 0)
        return;
    int known = r != NULL && PQntuples(r) == 1;
    PQclear(r);
    if (!known) {
        http_reply_problem(res, req, 404, "no such metric type");
        return;
    }
    /* A driver is the other end of an edge into the metric (causes,
     * inhibits, correlates) or the event a metric is influenced_by. Drivers
     * rank by their best edge's confidence, then its q-value (p-value when
     * there is none). */
    const char *p[] = {req->params[0], f.types, f.min_confidence,
                       f.include_retired ? "true" : "false", f.limit};
    r = api_query(tx,
        "WITH e AS (SELECT e.*, "
        "    CASE WHEN e.edge_type = 'influenced_by' THEN e.target_node ELSE e.source_node END AS driver, "
        "    CASE WHEN e.edge_type = 'influenced_by' THEN e.target_key ELSE e.source_key END AS driver_key, "
        "    coalesce((e.evidence ->> 'q_value')::float8, (e.evidence ->> 'p_value')::float8) AS q, "
        "    CASE WHEN e.edge_type = 'causes' THEN 'positive' "
        "         WHEN e.edge_type = 'inhibits' THEN 'negative' "
        "         WHEN e.edge_type = 'correlates' THEN CASE WHEN (e.evidence ->> 'r')::float8 < 0 "
        "              THEN 'negative' ELSE 'positive' END "
        "         WHEN e.evidence ->> 'direction' = 'decrease' THEN 'negative' "
        "         ELSE 'positive' END AS effect "
        "  FROM evidence_edges e "
        "  WHERE ((e.target_key = 'metric:' || $1 AND e.edge_type IN ('causes', 'inhibits', 'correlates')) "
        "      OR (e.source_key = 'metric:' || $1 AND e.edge_type = 'influenced_by')) "
        "    AND ($2::text IS NULL OR e.edge_type = ANY (string_to_array($2, ','))) "
        "    AND ($3::numeric IS NULL OR e.confidence >= $3::numeric) "
        "    AND ($4::boolean OR e.retired_at IS NULL)), "
        "d AS (SELECT driver_key, (array_agg(driver))[1] AS driver, "
        "    max(confidence) AS confidence, min(q) AS q, "
        "    json_agg(" EDGE_JSON("e") "::jsonb || jsonb_build_object('effect', effect) "
        "      ORDER BY confidence DESC NULLS LAST, q NULLS LAST, id) AS edges "
        "  FROM e GROUP BY driver_key), "
        "r AS (SELECT d.*, row_number() OVER (ORDER BY confidence DESC NULLS LAST, "
        "    q NULLS LAST, driver_key) AS rank FROM d) "
        "SELECT json_build_object('metric', $1::text, 'drivers', coalesce((SELECT "
        "  json_agg(json_build_object('rank', rank, 'driver', driver, "
        "  'confidence', confidence, 'q_value', q, 'edges', edges) ORDER BY rank) "
        "  FROM r WHERE rank <= $5::int), '[]'))",
        5, p);
    if (r == NULL)
        return;
    api_reply_row_json(tx, 200, r);
    PQclear(r);
}

/* --- GET /v1/evidence/paths ------------------------------------------------- */

/* Edges are steps in the direction of influence (influenced_by reversed).
 * back: how far each node is from `to` (at most $3 steps), walked backwards
 * with UNION so that it is bounded by nodes x depth. walk: the paths from
 * `from`, extended only into nodes not on the path yet (cycle protection)
 * and from which `to` is still reachable within the remaining depth. Each
 * step is an index probe on evidence_edges_source / _target. Parameters:
 * $1 from, $2 to, $3 depth searched, $4..$6 STEP_FILTER, $7 limit, $8 the
 * max_depth asked for. Columns: the JSON answer, the number of paths. */
static const char PATHS_SQL[] =
    "WITH RECURSIVE "
    "back(node, dist) AS (SELECT $2::text, 0 UNION "
    "  SELECT CASE WHEN e.edge_type = 'influenced_by' THEN e.target_key "
    "              ELSE e.source_key END, k.dist + 1 "
    "  FROM back k JOIN evidence_edges e "
    "    ON (e.edge_type <> 'influenced_by' AND e.target_key = k.node) "
    "    OR (e.edge_type = 'influenced_by' AND e.source_key = k.node) "
    "  WHERE k.dist < $3::int AND " STEP_FILTER "), "
    "reach AS (SELECT node, min(dist) AS dist FROM back GROUP BY node), "
    "walk(node, nodes, edges, conf, depth) AS ("
    "  SELECT $1::text, ARRAY[$1::text], ARRAY[]::uuid[], 1.0::numeric, 0 "
    "  UNION ALL "
    "  SELECT s.b, w.nodes || s.b, w.edges || s.id, "
    "    w.conf * coalesce(s.confidence, 0), w.depth + 1 "
    "  FROM walk w CROSS JOIN LATERAL ("
    "    SELECT e.id, e.confidence, CASE WHEN e.edge_type = 'influenced_by' "
    "      THEN e.source_key ELSE e.target_key END AS b "
    "    FROM evidence_edges e "
    "    WHERE ((e.edge_type <> 'influenced_by' AND e.source_key = w.node) "
    "        OR (e.edge_type = 'influenced_by' AND e.target_key = w.node)) "
    "      AND " STEP_FILTER ") s "
    "  JOIN reach r ON r.node = s.b AND w.depth + 1 + r.dist <= $3::int "
    "  WHERE w.node <> $2 AND s.b <> ALL (w.nodes)), "
    "found AS (SELECT * FROM walk WHERE node = $2 AND depth > 0 "
    "  ORDER BY depth, conf DESC, nodes LIMIT $7::int) "
    "SELECT json_build_object('from', $1::text, 'to', $2::text, "
    "  'max_depth', $8::int, 'searched_depth', $3::int, 'paths', coalesce((SELECT json_agg("
    "  json_build_object('length', f.depth, 'confidence', round(f.conf, 4), "
    "  'nodes', f.nodes, 'edges', (SELECT json_agg(json_build_object("
    "    'id', e.id, 'source', e.source_key, 'target', e.target_key, "
    "    'edge_type', e.edge_type, 'confidence', e.confidence, "
    "    'method', e.method) ORDER BY u.o) "
    "    FROM unnest(f.edges) WITH ORDINALITY AS u(id, o) "
    "    JOIN evidence_edges e ON e.id = u.id)) "
    "  ORDER BY f.depth, f.conf DESC, f.nodes) FROM found f), '[]')), "
    "(SELECT count(*) FROM found)";

void h_evidence_paths(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    const char *from = http_query(req, "from");
    const char *to = http_query(req, "to");
    const char *md = http_query(req, "max_depth");
    long depth = 4;
    edge_filter f;
    json_t *errors = json_array();
    if (!parse_is_node(from))
        bad_param(errors, "from", "is required: TYPE:ID, e.g. metric:ad_spend");
    if (!parse_is_node(to))
        bad_param(errors, "to", "is required: TYPE:ID, e.g. metric:revenue");
    if (md && !int_in(md, 1, PATHS_MAX_DEPTH, &depth))
        bad_param(errors, "max_depth", "must be an integer from 1 to 6");
    read_filter(req, &f, 20, 200, errors);
    if (json_array_size(errors) > 0) {
        api_reply_invalid(tx, errors, "bad query parameters");
        return;
    }
    json_decref(errors);
    char dtxt[8], maxtxt[8];
    snprintf(maxtxt, sizeof maxtxt, "%ld", depth);
    /* Bound the work of a dense graph: a path search never holds a pooled
     * connection for long. */
    PGresult *r = api_query(tx, "SET LOCAL statement_timeout = '5s'", 0, NULL);
    if (r == NULL)
        return;
    PQclear(r);
    /* Iterative deepening: search depth 1, 2, ... up to max_depth and stop
     * at the first depth that yields `limit` paths. With the exact
     * distances of `back`, a search to depth d only extends walks that can
     * still reach `to` within d, so the shallow searches are cheap and a
     * dense graph is not enumerated to max_depth when short paths exist. */
    const char *p[] = {from, to, dtxt, f.types, f.min_confidence,
                       f.include_retired ? "true" : "false", f.limit, maxtxt};
    for (long d = 1; d <= depth; d++) {
        snprintf(dtxt, sizeof dtxt, "%ld", d);
        r = PQexecParams(tx->conn, PATHS_SQL, 8, NULL, p, NULL, NULL, 0);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
            if (st && strcmp(st, "57014") == 0)
                http_reply_problem(res, req, 422, "the path search exceeded "
                                   "its time limit at depth %ld; lower "
                                   "max_depth, raise min_confidence or "
                                   "filter by type", d);
            else
                api_db_error(tx, r);
            PQclear(r);
            return;
        }
        if (d == depth || atol(PQgetvalue(r, 0, 1)) >= atol(f.limit))
            break;
        PQclear(r);
    }
    api_reply_row_json(tx, 200, r);
    PQclear(r);
}

/* --- POST /v1/evidence/discover, GET /v1/evidence/discover/{id} ------------- */

static const parse_field discover_fields[] = {
    {"bucket", PF_STRING, 0, 0},
    {"maxlag", PF_INTEGER, 0, 0},
    {"fdr", PF_NUMBER, 0, 0},
    {"metrics", PF_STRING_ARRAY, 0, 1},
    {"factors", PF_STRING_ARRAY, 0, 1},
    {"async", PF_BOOLEAN, 0, 0},
};
#define NDISCOVER_FIELDS ((int)(sizeof discover_fields / sizeof discover_fields[0]))

/* 1 when s is an indicator name of external_benchmarks:
 * ^[a-z][a-z0-9_.]{0,62}$. */
static int is_indicator(const char *s)
{
    if (s == NULL || !(*s >= 'a' && *s <= 'z') || strlen(s) > 63)
        return 0;
    for (const char *c = s + 1; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '.'))
            return 0;
    return 1;
}

/* Validate the discovery parameters beyond their kinds. */
static void check_discover(const json_t *b, json_t *errors)
{
    const char *bucket = json_string_value(json_object_get(b, "bucket"));
    json_t *ml = json_object_get(b, "maxlag");
    json_t *fdr = json_object_get(b, "fdr");
    json_t *ms = json_object_get(b, "metrics");
    if (bucket && strcmp(bucket, "hour") != 0 && strcmp(bucket, "day") != 0 &&
        strcmp(bucket, "month") != 0)
        bad_param(errors, "bucket", "must be hour, day or month");
    if (json_is_integer(ml) &&
        (json_integer_value(ml) < 1 || json_integer_value(ml) > 52))
        bad_param(errors, "maxlag", "must be from 1 to 52");
    if (json_is_number(fdr) &&
        !(json_number_value(fdr) > 0 && json_number_value(fdr) < 1))
        bad_param(errors, "fdr", "must be between 0 and 1 (exclusive)");
    json_t *fs = json_object_get(b, "factors");
    if (json_is_array(fs)) {
        size_t i;
        json_t *v;
        json_array_foreach(fs, i, v) {
            if (!is_indicator(json_string_value(v))) {
                bad_param(errors, "factors", "must hold economic indicator "
                          "names such as us.cpi_u");
                break;
            }
        }
    }
    if (json_is_array(ms)) {
        size_t i;
        json_t *v;
        if (json_array_size(ms) < 2 || json_array_size(ms) > 500)
            bad_param(errors, "metrics", "must name 2 to 500 metric types");
        json_array_foreach(ms, i, v) {
            if (!parse_is_metric_type(json_string_value(v))) {
                bad_param(errors, "metrics", "must hold metric type names");
                break;
            }
        }
    }
}

void h_evidence_discover(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    json_t *body = req->body_len == 0 ? json_object() : api_body_json(tx);
    if (body == NULL)
        return;
    json_t *errors = json_array();
    if (!json_is_object(body))
        bad_param(errors, "", "the body must be a JSON object");
    else if (parse_check_object(body, discover_fields, NDISCOVER_FIELDS,
                                errors) == 0)
        check_discover(body, errors);
    if (json_array_size(errors) > 0) {
        api_reply_invalid(tx, errors, "the discovery request is not valid");
        json_decref(body);
        return;
    }
    json_decref(errors);
    int async = json_is_true(json_object_get(body, "async"));
    json_object_del(body, "async");
    if (json_is_null(json_object_get(body, "metrics")))
        json_object_del(body, "metrics");
    if (json_is_null(json_object_get(body, "factors")))
        json_object_del(body, "factors");
    char *params = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (params == NULL) {
        http_reply_problem(res, req, 500, "out of memory");
        return;
    }
    /* Big tenants (many metrics) are left to the job runner. */
    const char *p[] = {tx->tenant_id, params};
    PGresult *r = api_query(tx,
        "SELECT coalesce(jsonb_array_length(p -> 'metrics'), "
        "  (SELECT count(*) FROM metric_definitions "
        "    WHERE calculation_formula IS NULL)::int), "
        "  (SELECT string_agg(m, ', ' ORDER BY m) FROM (SELECT DISTINCT m FROM "
        "    jsonb_array_elements_text(coalesce(p -> 'metrics', '[]')) m "
        "    WHERE NOT EXISTS (SELECT 1 FROM metric_definitions d "
        "                      WHERE d.metric_type = m)) u) "
        "FROM (SELECT $1::jsonb AS p) s", 1, p + 1);
    if (r == NULL) {
        free(params);
        return;
    }
    int nmetrics = atoi(PQgetvalue(r, 0, 0));
    if (!PQgetisnull(r, 0, 1)) {
        http_reply_problem(res, req, 422, "metrics not defined for this "
                           "tenant: %s", PQgetvalue(r, 0, 1));
        PQclear(r);
        free(params);
        return;
    }
    PQclear(r);
    if (nmetrics > EVIDENCE_INLINE_MAX_METRICS)
        async = 1;
    r = api_query(tx,
        "INSERT INTO discovery_jobs (tenant_id, params, status) "
        "VALUES ($1, $2::jsonb, 'queued') RETURNING id::text", 2, p);
    free(params);
    if (r == NULL)
        return;
    char id[37];
    snprintf(id, sizeof id, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    const char *pid[] = {id};
    if (!async) {
        r = api_query(tx,
            "WITH s AS (UPDATE discovery_jobs SET status = 'running', "
            "  started_at = now() WHERE id = $1::uuid RETURNING id) "
            "SELECT public.run_discovery_job(id) FROM s", 1, pid);
        if (r == NULL)
            return;
        PQclear(r);
    }
    r = api_query(tx, "SELECT " JOB_JSON " FROM discovery_jobs "
                  "WHERE id = $1::uuid", 1, pid);
    if (r == NULL)
        return;
    api_reply_row_json(tx, async ? 202 : 200, r);
    PQclear(r);
    if (res->status < 300) {
        char loc[80];
        snprintf(loc, sizeof loc, "/v1/evidence/discover/%s", id);
        http_set_header(res, "Location", loc);
    }
}

void h_evidence_discover_get(http_request *req, http_response *res, void *ctx)
{
    api_tx *tx = ctx;
    if (!parse_is_uuid(req->params[0])) {
        http_reply_problem(res, req, 404, "no such discovery run");
        return;
    }
    const char *p[] = {req->params[0]};
    PGresult *r = api_query(tx, "SELECT " JOB_JSON " FROM discovery_jobs "
                            "WHERE id = $1::uuid", 1, p);
    if (r == NULL)
        return;
    api_reply_row_json(tx, 200, r);
    PQclear(r);
}
