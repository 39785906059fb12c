#!/usr/bin/env bash
# t_evidence.sh -- the evidence engine end to end over HTTP: the graph API
# (edges of a node, drivers, paths with cycles and depth limits), tenant
# isolation, the indexes the queries use (EXPLAIN), goals' `supports` edges,
# business events and their Welch-test effect, and causal discovery on a
# generated tenant whose true structure is planted (found edges, independent
# pairs not, stable identity on re-runs, retirement with history, the job
# path). See docs/evidence.md.
. "$(dirname "$0")/lib.sh"

# SQL as telos_owner with a tenant set (FORCE RLS binds the owner too).
owner_as() {  # owner_as TENANT SQL
  psql_owner <<SQL
BEGIN;
SELECT set_config('app.current_tenant_id', '$1', true) \\gset
$2;
COMMIT;
SQL
}
app_as() {  # app_as TENANT SQL -- as telos_app, as a request runs
  psql_app <<SQL
BEGIN;
SELECT set_config('app.current_tenant_id', '$1', true) \\gset
$2
COMMIT;
SQL
}
has_stats() {
  [ "$(psql_owner -c "SELECT to_regprocedure('telos.granger_pairs(float8[], integer, integer, text)') IS NOT NULL
      AND to_regprocedure('telos.welch_t(float8[], float8[])') IS NOT NULL
      AND to_regprocedure('telos.adf(float8[], integer, text, text)') IS NOT NULL")" = t ]
}

new_tenant "Evidence A" --tier enterprise --timezone America/New_York
A_ID=$TENANT_ID A=$TENANT_KEY
new_tenant "Evidence B"
B_ID=$TENANT_ID B=$TENANT_KEY

# --- the graph API on a hand-made graph -----------------------------------
# ad_spend -causes-> signups -causes-> revenue, price -inhibits-> revenue,
# revenue -correlates-> ad_spend (a cycle), revenue influenced_by event e1,
# one retired edge and one weak edge.
node() { printf '{"type":"%s","id":"%s"}' "$1" "$2"; }
out=$(owner_as "$A_ID" "
INSERT INTO metric_definitions (tenant_id, metric_type) VALUES ('$A_ID', 'revenue'), ('$A_ID', 'signups');
INSERT INTO evidence_edges (tenant_id, source_node, target_node, edge_type, confidence, evidence, method, retired_at) VALUES
 ('$A_ID', '$(node metric ad_spend)', '$(node metric signups)', 'causes', 0.90, '{\"q_value\":0.001}', 'granger_causality', NULL),
 ('$A_ID', '$(node metric signups)', '$(node metric revenue)', 'causes', 0.80, '{\"q_value\":0.01}', 'granger_causality', NULL),
 ('$A_ID', '$(node metric price)', '$(node metric revenue)', 'inhibits', 0.70, '{\"q_value\":0.02}', 'granger_causality', NULL),
 ('$A_ID', '$(node metric revenue)', '$(node metric ad_spend)', 'correlates', 0.60, '{\"q_value\":0.03,\"r\":0.4}', 'lagged_correlation', NULL),
 ('$A_ID', '$(node metric revenue)', '$(node event e1)', 'influenced_by', 0.75, '{\"p_value\":0.01,\"direction\":\"increase\"}', 'welch_t', NULL),
 ('$A_ID', '$(node metric weather)', '$(node metric revenue)', 'correlates', 0.20, '{\"q_value\":0.04,\"r\":0.1}', 'lagged_correlation', NULL),
 ('$A_ID', '$(node metric old)', '$(node metric revenue)', 'causes', 0.90, '{\"q_value\":0.01}', 'granger_causality', now());
SELECT 'ok';")
eq "A: hand-made graph stored" "$out" ok

req GET "/v1/evidence?node=metric:revenue" "$A"
eq "edges of revenue: 200" "$RES_STATUS" 200
eq "edges of revenue: 5 current (retired left out)" "$(jqr '.edges | length')" 5
eq "edges of revenue: 3 in, 2 out" "$(jqr '[.edges[] | .direction] | sort | join(",")')" "in,in,in,out,out"
eq "edges of revenue: ordered by confidence" "$(jqr '[.edges[].confidence] | join(",")')" "0.8,0.75,0.7,0.6,0.2"
req GET "/v1/evidence?node=metric:revenue&include_retired=true" "$A"
eq "include_retired shows the retired edge" "$(jqr '[.edges[] | select(.retired_at != null)] | length')" 1
req GET "/v1/evidence?node=metric:revenue&direction=in&type=causes,inhibits" "$A"
eq "direction=in, type=causes,inhibits" "$(jqr '[.edges[] | .source.id] | sort | join(",")')" "price,signups"
req GET "/v1/evidence?node=metric:revenue&min_confidence=0.7" "$A"
eq "min_confidence=0.7" "$(jqr '.edges | length')" 3
req GET "/v1/evidence?node=event:e1" "$A"
eq "edges of an event node" "$(jqr '[.edges[] | "\(.edge_type):\(.direction)"] | join(",")')" "influenced_by:in"

for bad in "" "node=revenue" "node=planet:x" "node=metric:revenue&type=causes,magic" \
           "node=metric:revenue&min_confidence=2" "node=metric:revenue&direction=up" \
           "node=metric:revenue&limit=0" "node=metric:revenue&include_retired=maybe"; do
  req GET "/v1/evidence?$bad" "$A"
  eq "bad query '$bad': 400 problem" "$RES_STATUS $RES_CTYPE" "400 application/problem+json"
done
req GET "/v1/evidence?node=metric:revenue&type=magic" "$A"
eq "bad query names the field" "$(jqr '.errors[0].field')" type

req GET "/v1/evidence/drivers/revenue" "$A"
eq "drivers of revenue: 200" "$RES_STATUS" 200
eq "drivers ranked by confidence" "$(jqr '[.drivers[] | "\(.rank):\(.driver.type):\(.driver.id)"] | join(",")')" \
  "1:metric:signups,2:event:e1,3:metric:price,4:metric:weather"
eq "driver effect: price inhibits (negative)" "$(jqr '.drivers[] | select(.driver.id == "price") | .edges[0].effect')" negative
eq "driver evidence is included" "$(jqr '.drivers[0].edges[0].evidence.q_value')" 0.01
req GET "/v1/evidence/drivers/revenue?min_confidence=0.72&limit=1" "$A"
eq "drivers: min_confidence and limit" "$(jqr '[.drivers[].driver.id] | join(",")')" signups
req GET "/v1/evidence/drivers/nonexistent" "$A"
eq "drivers of an unknown metric: 404" "$RES_STATUS" 404
req GET "/v1/evidence/drivers/Bad-Name" "$A"
eq "drivers of a malformed metric name: 404" "$RES_STATUS" 404

req GET "/v1/evidence/paths?from=metric:ad_spend&to=metric:revenue&max_depth=3" "$A"
eq "paths: 200" "$RES_STATUS" 200
eq "paths ad_spend -> revenue" "$(jqr '[.paths[] | .nodes | join(">")] | join(" ")')" \
  "metric:ad_spend>metric:signups>metric:revenue"
eq "path confidence is the product" "$(jqr '.paths[0].confidence')" 0.72
eq "path edges in order" "$(jqr '[.paths[0].edges[].edge_type] | join(",")')" "causes,causes"
req GET "/v1/evidence/paths?from=metric:ad_spend&to=metric:revenue&max_depth=1" "$A"
eq "paths: depth limit" "$(jqr '.paths | length')" 0
# influenced_by is walked event -> metric; the cycle revenue -> ad_spend ->
# signups -> revenue never repeats a node.
req GET "/v1/evidence/paths?from=event:e1&to=metric:signups&max_depth=6" "$A"
eq "paths through influenced_by and a cycle" "$(jqr '[.paths[] | .nodes | join(">")] | join(" ")')" \
  "event:e1>metric:revenue>metric:ad_spend>metric:signups"
req GET "/v1/evidence/paths?from=metric:revenue&to=metric:revenue&max_depth=6" "$A"
eq "paths: a node to itself is not a path (cycle protection)" "$(jqr '.paths | length')" 0
req GET "/v1/evidence/paths?from=metric:signups&to=metric:ad_spend&max_depth=6&type=causes" "$A"
eq "paths: type filter" "$(jqr '.paths | length')" 0
req GET "/v1/evidence/paths?from=metric:old&to=metric:revenue" "$A"
eq "paths skip retired edges" "$(jqr '.paths | length')" 0
for bad in "from=metric:a" "from=metric:a&to=metric:b&max_depth=7" "from=metric:a&to=metric:b&max_depth=0" \
           "from=x&to=metric:b"; do
  req GET "/v1/evidence/paths?$bad" "$A"
  eq "bad paths query '$bad': 400" "$RES_STATUS" 400
done

# --- isolation ------------------------------------------------------------
req GET "/v1/evidence?node=metric:revenue" "$B"
eq "B: no edges of A's revenue" "$(jqr '.edges | length')" 0
req GET "/v1/evidence/paths?from=metric:ad_spend&to=metric:revenue" "$B"
eq "B: no paths in A's graph" "$(jqr '.paths | length')" 0
req GET "/v1/evidence/drivers/revenue" "$B"
eq "B: A's metric is 404" "$RES_STATUS" 404

# --- indexes: EXPLAIN of the queries as telos_app under RLS ---------------
# 20,000 edges among 200 metrics for a third tenant, so that the planner
# has a reason to prefer the indexes; the statements are the handlers'
# (prepared with parameters, as PQexecParams sends them).
new_tenant "Evidence big graph"
G_ID=$TENANT_ID G_KEY=$TENANT_KEY
out=$(owner_as "$G_ID" "
INSERT INTO evidence_edges (tenant_id, source_node, target_node, edge_type, confidence, method)
SELECT '$G_ID', jsonb_build_object('type', 'metric', 'id', 'm' || (i % 200)),
       jsonb_build_object('type', 'metric', 'id', 'm' || ((37 * (i % 200) + i / 200) % 200)),
       (ARRAY['causes', 'inhibits', 'correlates'])[1 + i % 3], (i % 100) / 100.0, 'gen' || i
  FROM generate_series(1, 20000) i;
SELECT 'ok';")
eq "big graph stored" "$out" ok
psql_owner -c "ANALYZE evidence_edges" >/dev/null
plan=$(app_as "$G_ID" "
PREPARE q(text, text, numeric, text, boolean, int) AS
  SELECT * FROM evidence_edges
   WHERE ((\$4 <> 'in' AND source_key = \$1) OR (\$4 <> 'out' AND target_key = \$1))
     AND (\$2::text IS NULL OR edge_type = ANY (string_to_array(\$2, ',')))
     AND (\$3::numeric IS NULL OR confidence >= \$3::numeric)
     AND (\$5::boolean OR retired_at IS NULL)
   ORDER BY confidence DESC NULLS LAST, id LIMIT \$6;
EXPLAIN EXECUTE q('metric:m5', NULL, NULL, 'both', false, 500);")
check "EXPLAIN edges of a node: evidence_edges_source used" grep -q 'evidence_edges_source' <<<"$plan"
check "EXPLAIN edges of a node: evidence_edges_target used" grep -q 'evidence_edges_target' <<<"$plan"
check "EXPLAIN edges of a node: no sequential scan" bash -c "! grep -q 'Seq Scan' <<<'$plan'"
plan=$(app_as "$G_ID" "
EXPLAIN SELECT * FROM evidence_edges e
  WHERE ((e.target_key = 'metric:' || 'm5' AND e.edge_type IN ('causes', 'inhibits', 'correlates'))
      OR (e.source_key = 'metric:' || 'm5' AND e.edge_type = 'influenced_by')) AND e.retired_at IS NULL;")
check "EXPLAIN drivers: evidence_edges_target used" grep -q 'evidence_edges_target' <<<"$plan"
check "EXPLAIN drivers: no sequential scan" bash -c "! grep -q 'Seq Scan' <<<'$plan'"
plan=$(app_as "$G_ID" "
EXPLAIN SELECT e.id FROM (VALUES ('metric:m1'), ('metric:m2')) w(node) CROSS JOIN LATERAL (
  SELECT e.id FROM evidence_edges e
   WHERE ((e.edge_type <> 'influenced_by' AND e.source_key = w.node)
       OR (e.edge_type = 'influenced_by' AND e.target_key = w.node)) AND e.retired_at IS NULL) e;")
check "EXPLAIN a traversal step: an index probe per node" grep -q 'evidence_edges_source' <<<"$plan"
req GET "/v1/evidence/paths?from=metric:m1&to=metric:m9&max_depth=3&limit=5" "$A"
eq "paths of G's graph from A: none" "$(jqr '.paths | length')" 0
t0=$(date +%s%N)
req GET "/v1/evidence/paths?from=metric:m1&to=metric:m9&max_depth=4&limit=5" "$G_KEY"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "# paths, depth 4, 20k-edge graph: ${ms} ms"
eq "paths in a dense 20k-edge graph: 200 with 5 paths" "$RES_STATUS/$(jqr '.paths | length')" "200/5"
eq "shortest paths first" "$(jqr '[.paths[].length] | . == sort')" true

# --- goals: their metrics as supports edges -------------------------------
req POST /v1/users "$A" '{"email":"eve@a.example"}'
USER=$(jqr .id)
GOAL='{"user_id":"'$USER'","specific":{"description":"More signups"},
 "measurable":{"primary_metric_id":"signups","target_value":100},"achievable":{},
 "relevant":{"aligned_metrics":["revenue","signups"]},"time_bound":{"target_date":"2027-01-31"}}'
req POST /v1/goals "$A" "$GOAL"
eq "goal created" "$RES_STATUS" 201
GOAL_ID=$(jqr .id)
req GET "/v1/evidence?node=goal:$GOAL_ID" "$A"
eq "goal: supports edges from its metrics" "$(jqr '[.edges[] | "\(.edge_type):\(.source.id):\(.evidence.role)"] | sort | join(",")')" \
  "supports:revenue:aligned,supports:signups:primary"
req GET "/v1/evidence/paths?from=metric:ad_spend&to=goal:$GOAL_ID&max_depth=3" "$A"
eq "paths reach the goal" "$(jqr '.paths[0].nodes | join(">")')" "metric:ad_spend>metric:signups>goal:$GOAL_ID"
out=$(owner_as "$A_ID" "UPDATE smart_goals SET relevant = '{\"aligned_metrics\":[]}' WHERE id = '$GOAL_ID';
SELECT count(*) FILTER (WHERE retired_at IS NULL) || '/' || count(*) FROM evidence_edges WHERE target_key = 'goal:$GOAL_ID';")
eq "goal no longer aligned with revenue: its edge retired, kept" "$out" "1/2"

# --- events and their effect -----------------------------------------------
# orders: ~100 for 40 days, ~130 for the 25 days since a price change;
# visits: flat. Points at local noon (America/New_York).
for m in orders visits; do
  req POST /v1/metric-definitions "$A" '{"metric_type":"'$m'","aggregation":"sum"}'
done
pts=$(psql_owner -c "SELECT setseed(0.7);
  SELECT json_agg(json_build_object('time', ((current_date - k) + time '12:00') AT TIME ZONE 'America/New_York',
                                    'metric_type', m, 'value', v))
    FROM (SELECT k, 'orders' AS m, CASE WHEN k <= 25 THEN 130 ELSE 100 END + 6 * (random() - 0.5) AS v
            FROM generate_series(1, 65) k
          UNION ALL
          SELECT k, 'visits', 500 + 20 * (random() - 0.5) FROM generate_series(1, 65) k) s" | tail -1)
req POST /v1/metrics "$A" "$pts"
eq "event data ingested" "$RES_STATUS/$(jqr .accepted)" "200/130"
EV_TIME=$(psql_owner -c "SELECT to_char(((current_date - 26) + time '15:00') AT TIME ZONE 'America/New_York' AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')")
for bad in '{"name":"x","occurred_at":"'$EV_TIME'"}' '{"kind":"Price Change","name":"x","occurred_at":"'$EV_TIME'"}' \
           '{"kind":"price_change","name":" ","occurred_at":"'$EV_TIME'"}' '{"kind":"price_change","name":"x","occurred_at":"yesterday"}' \
           '{"kind":"price_change","name":"x","occurred_at":"'$EV_TIME'","window":2}' \
           '{"kind":"price_change","name":"x","occurred_at":"'$EV_TIME'","bucket":"week"}' \
           '{"kind":"price_change","name":"x","occurred_at":"'$EV_TIME'","extra":1}'; do
  req POST /v1/events "$A" "$bad"
  eq "bad event $(printf '%s' "$bad" | cut -c1-40): 400" "$RES_STATUS" 400
done
req POST /v1/events "$A" '{"kind":"price_change","name":"x","occurred_at":"'$EV_TIME'","metrics":["orders","nope"]}'
eq "event naming an undefined metric: 422, nothing written" \
  "$RES_STATUS/$(jqr .detail)/$(owner_as "$A_ID" "SELECT count(*) FROM business_events" | tail -1)" \
  "422/metrics not defined for this tenant: nope/0"
if has_stats; then
  req POST /v1/events "$A" '{"kind":"price_change","name":"Price +10%","occurred_at":"'$EV_TIME'",
     "metrics":["orders","visits","signups"],"attributes":{"change_pct":10}}'
  eq "event recorded: 201" "$RES_STATUS" 201
  EV=$(jqr .id)
  eq "effect on orders: significant increase" \
    "$(jqr '.effects[] | select(.metric == "orders") | "\(.status):\(.evidence.direction):\(.evidence.method)"')" \
    "significant:increase:welch_t"
  eq "effect window: 14 days each side" \
    "$(jqr '.effects[] | select(.metric == "orders") | "\(.evidence.n_before)/\(.evidence.n_after)"')" "14/14"
  eq "effect on visits: not significant" "$(jqr '.effects[] | select(.metric == "visits") | .status')" not_significant
  eq "effect on signups (no data): skipped with a reason" \
    "$(jqr '.effects[] | select(.metric == "signups") | .status + ":" + (.reason | test("too few") | tostring)')" "skipped:true"
  req GET "/v1/events/$EV" "$A"
  eq "event has one influenced_by edge" "$(jqr '[.edges[] | "\(.edge_type):\(.source.id)"] | join(",")')" "influenced_by:orders"
  req GET "/v1/evidence/drivers/orders" "$A"
  eq "the event drives orders" "$(jqr '.drivers[0].driver | "\(.type):\(.id):\(.kind)"')" "event:$EV:price_change"
  req POST "/v1/events/$EV/effect" "$A"
  eq "effect re-tested: same edge (stable identity)" "$RES_STATUS/$(owner_as "$A_ID" "SELECT count(*) FROM evidence_edges WHERE target_key = 'event:$EV'" | tail -1)" "200/1"
  req GET "/v1/events/$EV" "$B"
  eq "B: A's event is 404" "$RES_STATUS" 404
  req GET /v1/events "$B"
  eq "B: lists no events" "$(jqr 'length')" 0
  req GET /v1/events "$A"
  eq "A: lists its event" "$(jqr '[.[].kind] | join(",")')" price_change
else
  not_ok "statistics functions of the telos extension (telos.welch_t, telos.granger_pairs, telos.adf) are installed"
fi

# --- discovery on a tenant with planted causal structure -------------------
# 400 local days (Asia/Kolkata), daily points at local noon:
#   a: AR(1);  b = 0.8 a[t-2] + 0.3 b[t-1] + e  (a causes b, lag 2)
#   c = -0.7 a[t-1] + e  (a inhibits c);  d: random walk;
#   g = g[t-1] + 0.8 (d[t-1] - d[t-2]) + 0.5 e  (d causes g once both are
#   differenced);  f: white noise with 3 missing days (interpolated);
#   gappy: a third of its days missing (skipped);  short: 20 days (skipped).
new_tenant "Evidence planted" --tier enterprise --timezone Asia/Kolkata
C_ID=$TENANT_ID C=$TENANT_KEY
for m in a b c d f g gappy short; do
  req POST /v1/metric-definitions "$C" '{"metric_type":"'$m'","aggregation":"sum"}'
done
gen_points() {  # gen_points SEED -> JSON array of points
  psql_owner -c "SELECT setseed($1);
WITH RECURSIVE s(i, a, a1, b, c, d, d1, g, f) AS (
  SELECT 0, 0::float8, 0::float8, 0::float8, 0::float8, 0::float8, 0::float8, 0::float8, 0::float8
  UNION ALL
  SELECT i + 1, 0.5 * a + n1, a, 0.8 * a1 + 0.3 * b + n2, -0.7 * a + n3, d + n4, d,
         g + 0.8 * (d - d1) + 0.5 * n5, n6
    FROM (SELECT s.*, sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS n1,
                 sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS n2,
                 sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS n3,
                 sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS n4,
                 sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS n5,
                 sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS n6
            FROM s WHERE i < 420) s)
SELECT json_agg(json_build_object('time', ((current_date - (421 - i)) + time '12:00') AT TIME ZONE 'Asia/Kolkata',
                                  'metric_type', m, 'value', v))
  FROM s, LATERAL (VALUES ('a', 100 + a), ('b', 50 + b), ('c', 80 + c), ('d', 1000 + d),
                          ('g', 300 + g), ('f', CASE WHEN i IN (100, 200, 333) THEN NULL ELSE 10 + f END),
                          ('gappy', CASE WHEN i % 3 = 0 THEN NULL ELSE 5 + f END),
                          ('short', CASE WHEN i > 400 THEN 1 + a END)) v(m, v)
 WHERE i > 20 AND v IS NOT NULL" | tail -1
}
gen_points 0.31 >"$TMPDIR_T/planted.json"
req POST /v1/metrics "$C" "" --data-binary "@$TMPDIR_T/planted.json" -H 'Content-Type: application/json'
eq "planted tenant ingested" "$RES_STATUS/$(jqr .rejected)" "200/0"

if has_stats; then
  req POST /v1/evidence/discover "$C" '{"maxlag":7}'
  eq "discovery inline: 200 done" "$RES_STATUS/$(jqr .status)" "200/done"
  JOB1=$(jqr .id)
  cp "$TMPDIR_T/body" "$TMPDIR_T/run1.json"
  edges=$(jqr '[.result.findings[] | select(.edge_type != null) | "\(.source)>\(.target):\(.edge_type)"] | sort | join(" ")')
  echo "# discovered: $edges"
  for want in "a>b:causes" "a>c:inhibits" "d>g:causes"; do
    check "planted edge $want found" grep -qw -- "$want" <<<"$edges"
  done
  indep=$(jqr '[.result.findings[] | select(.edge_type != null)
      | select((.source == "f" or .target == "f")
            or ((.source | IN("a","b","c")) and (.target | IN("d","g")))
            or ((.source | IN("d","g")) and (.target | IN("a","b","c"))))] | length')
  eq "independent pairs: no edge" "$indep" 0
  eq "gappy skipped for its gaps" "$(jqr '.result.findings[] | select(.source == "gappy" and .target == null) | .reason | test("gaps") | tostring')" true
  check "short skipped with a reason" test "$(jqr '[.result.findings[] | select(.status == "skipped" and (.source == "short" or .target == "short"))] | length')" -gt 0
  eq "b > a: not significant (direction matters)" "$(jqr '.result.findings[] | select(.source == "b" and .target == "a" and .method == "granger_causality") | .status')" not_significant
  req GET "/v1/evidence?node=metric:g&direction=in&type=causes" "$C"
  eq "d causes g: stored with its evidence" \
    "$(jqr '.edges[] | select(.source.id == "d") | [.evidence.method, (.evidence.q_value <= 0.05), (.evidence.lag >= 1), .evidence.window.bucket, (.evidence.data_as_of != null), .evidence.direction] | map(tostring) | join(",")')" \
    "granger_causality,true,true,day,true,d -> g"
  eq "differencing recorded (d and g random walks)" "$(jqr '.edges[] | select(.source.id == "d") | "\(.evidence.differencing.d)/\(.evidence.differencing.g)"')" "1/1"
  conf_ok=$(jqr '[.edges[] | .confidence >= 0 and .confidence <= 1] | all')
  eq "confidence in [0, 1]" "$conf_ok" true
  ids1=$(owner_as "$C_ID" "SELECT string_agg(id::text, ',' ORDER BY source_key, target_key, method) FROM evidence_edges WHERE retired_at IS NULL" | tail -1)

  # A planted-by-hand stale edge f -> a, which the next run tests and retires.
  owner_as "$C_ID" "INSERT INTO evidence_edges (tenant_id, source_node, target_node, edge_type, confidence, evidence, method)
    VALUES ('$C_ID', '$(node metric f)', '$(node metric a)', 'causes', 0.90, '{\"method\":\"granger_causality\"}', 'granger_causality')" >/dev/null
  req POST /v1/evidence/discover "$C" '{"maxlag":7}'
  eq "re-run: 200 done" "$RES_STATUS/$(jqr .status)" "200/done"
  ids2=$(owner_as "$C_ID" "SELECT string_agg(id::text, ',' ORDER BY source_key, target_key, method) FROM evidence_edges WHERE retired_at IS NULL" | tail -1)
  eq "re-run keeps the same edges (stable identity)" "$ids2" "$ids1"
  eq "re-run retires the edge no longer significant" \
    "$(owner_as "$C_ID" "SELECT (retired_at IS NOT NULL)::text FROM evidence_edges WHERE source_key = 'metric:f' AND target_key = 'metric:a' AND method = 'granger_causality'" | tail -1)" true
  eq "its previous version is in the history" \
    "$(owner_as "$C_ID" "SELECT count(*) FROM evidence_edge_history h JOIN evidence_edges e ON e.id = h.edge_id WHERE e.source_key = 'metric:f' AND e.target_key = 'metric:a' AND h.retired_at IS NULL" | tail -1)" 1
  req GET "/v1/evidence?node=metric:f&include_retired=true" "$C"
  eq "the retired edge stays readable" "$(jqr '[.edges[] | select(.retired_at != null)] | length')" 1

  # The job path: queued, picked up by the scheduler (telos_worker), polled.
  req POST /v1/evidence/discover "$C" '{"maxlag":5,"metrics":["a","b","c"],"async":true}'
  eq "async discovery: 202 queued" "$RES_STATUS/$(jqr .status)" "202/queued"
  JOB=$(jqr .id)
  for _ in $(seq 1 60); do
    req GET "/v1/evidence/discover/$JOB" "$C"
    [ "$(jqr .status)" = done ] || [ "$(jqr .status)" = failed ] && break
    sleep 1
  done
  eq "async discovery: done by the job runner" "$(jqr .status)" done
  eq "async discovery: only the metrics asked for" "$(jqr '[.result.findings[] | .source, .target] | unique | join(",")')" "a,b,c"
  req GET "/v1/evidence/discover/$JOB" "$A"
  eq "A cannot see C's discovery run (404)" "$RES_STATUS" 404
  req GET "/v1/evidence?node=metric:a" "$A"
  eq "A sees none of C's discovered edges" "$(jqr '.edges | length')" 0

  # An external factor (an economic indicator of external_benchmarks, here
  # the tenant's own daily series z) driving a metric: y = 0.8 z[t-1] + e.
  req POST /v1/metric-definitions "$C" '{"metric_type":"y"}'
  ypts=$(owner_as "$C_ID" "SELECT setseed(0.77);
CREATE TEMP TABLE zz AS SELECT k, (now() AT TIME ZONE 'Asia/Kolkata')::date - (401 - k) AS d,
    sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS z,
    sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS e
  FROM generate_series(1, 400) k;
INSERT INTO external_benchmarks (tenant_id, kind, indicator, region, period_start, period_end, vintage, value, unit, source)
  SELECT '$C_ID', 'economic_indicator', 'own.z', 'IN', d, d, d + 1, z, 'index', 'test' FROM zz;
SELECT json_agg(json_build_object('time', (d + time '12:00') AT TIME ZONE 'Asia/Kolkata', 'metric_type', 'y', 'value', v))
  FROM (SELECT d, 0.8 * lag(z) OVER (ORDER BY k) + e AS v FROM zz) s WHERE v IS NOT NULL" | tail -1)
  req POST /v1/metrics "$C" "$ypts"
  eq "factor-driven metric y ingested" "$RES_STATUS/$(jqr .accepted)" "200/399"
  req POST /v1/evidence/discover "$C" '{"metrics":["y","a"],"factors":["own.z"]}'
  eq "discovery with a factor: done, factor used" "$RES_STATUS/$(jqr .status)/$(jqr '.result.factors | join(",")')" "200/done/own.z"
  eq "factor -> y found" \
    "$(jqr '.result.findings[] | select(.source == "external_factor:own.z" and .target == "y" and .method == "granger_causality") | .edge_type')" causes
  eq "nothing is tested as driving a factor" "$(jqr '[.result.findings[] | select(.target != null and (.target | startswith("external_factor:")))] | length')" 0
  eq "factor and an unrelated metric: no edge" \
    "$(jqr '[.result.findings[] | select(.source == "external_factor:own.z" and .target == "a" and .edge_type != null)] | length')" 0
  req GET "/v1/evidence?node=external_factor:own.z" "$C"
  eq "the factor is an ExternalFactorNode driving y" "$(jqr '[.edges[] | "\(.source.type):\(.source.id)>\(.target.id):\(.edge_type):\(.direction)"] | join(",")')" \
    "external_factor:own.z>y:causes:out"
  req GET "/v1/evidence/drivers/y" "$C"
  eq "drivers of y: the factor" "$(jqr '.drivers[0].driver | "\(.type):\(.id)"')" "external_factor:own.z"
  req POST /v1/evidence/discover "$C" '{"factors":["Not An Indicator"]}'
  eq "discover: bad factor name 400" "$RES_STATUS" 400

  # FDR across seeds: tenants of 8 independent series; over 3 seeds the
  # BH procedure at 5% should rarely find anything -- at most one edge in all.
  false_edges=0
  for seed in 0.11 0.52 0.93; do
    new_tenant "Evidence null $seed" --tier enterprise
    N_KEY=$TENANT_KEY
    for m in n1 n2 n3 n4 n5 n6 n7 n8; do
      req POST /v1/metric-definitions "$N_KEY" '{"metric_type":"'$m'"}'
    done
    psql_owner -c "SELECT setseed($seed);
      SELECT json_agg(json_build_object('time', ((current_date - k) + time '12:00') AT TIME ZONE 'UTC', 'metric_type', 'n' || j,
                      'value', sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random())))
        FROM generate_series(1, 300) k, generate_series(1, 8) j" | tail -1 >"$TMPDIR_T/null.json"
    req POST /v1/metrics "$N_KEY" "" --data-binary "@$TMPDIR_T/null.json" -H 'Content-Type: application/json'
    eq "null tenant $seed: 2400 points ingested" "$(jqr .accepted)" 2400
    req POST /v1/evidence/discover "$N_KEY" '{}'
    eq "null tenant $seed: 112 tests run" "$(jqr '.status + ":" + (.result.tests | tostring)')" "done:112"
    n=$(jqr '.result.edges_found')
    echo "# null tenant $seed: $n edges"
    false_edges=$((false_edges + ${n:-99}))
  done
  check "independent series over 3 seeds: at most 1 false edge (found $false_edges)" test "$false_edges" -le 1
else
  not_ok "discovery needs the statistics functions of the telos extension (not installed)"
fi

req POST /v1/evidence/discover "$C" '{"maxlag":0}'
eq "discover: bad maxlag 400" "$RES_STATUS" 400
req POST /v1/evidence/discover "$C" '{"bucket":"week"}'
eq "discover: bad bucket 400" "$RES_STATUS" 400
req POST /v1/evidence/discover "$C" '{"fdr":1.5}'
eq "discover: bad fdr 400" "$RES_STATUS" 400
req POST /v1/evidence/discover "$C" '{"metrics":["a"]}'
eq "discover: one metric 400" "$RES_STATUS" 400
req POST /v1/evidence/discover "$C" '{"metrics":["a","nope"]}'
eq "discover: an undefined metric is 422, naming it" "$RES_STATUS/$(jqr .detail)" "422/metrics not defined for this tenant: nope"
req POST /v1/evidence/discover "$B" '{"metrics":["a","b"]}'
eq "discover: another tenant's metrics are undefined for B (422)" "$RES_STATUS" 422
req GET /v1/evidence/discover/not-a-uuid "$C"
eq "discover: malformed id 404" "$RES_STATUS" 404
