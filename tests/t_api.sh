#!/usr/bin/env bash
# t_api.sh -- the HTTP API end to end: auth, resources, tenant isolation
# through the API, and problem documents. Runs against the server that
# tests/run.sh started ($BASE_URL) on the temp cluster.
. "$(dirname "$0")/lib.sh"

# --- health and auth -------------------------------------------------------
req GET /healthz
eq "healthz is 200" "$RES_STATUS" 200
eq "healthz says ok" "$(jqr .status)" ok

req GET /v1/tenant
eq "no key: 401" "$RES_STATUS" 401
eq "no key: problem+json" "$RES_CTYPE" "application/problem+json"
eq "problem has status member" "$(jqr .status)" 401
eq "problem has title" "$(jqr .title)" "Unauthorized"
check "problem has an instance" test -n "$(jqr '.instance // empty')"

req GET /v1/tenant "telos_notAKeyThatExists0000000000000000000000000"
eq "unknown key: 401" "$RES_STATUS" 401
req GET /v1/tenant "" "" -H "Authorization: Basic dXNlcjpwYXNz"
eq "basic auth: 401" "$RES_STATUS" 401
req GET /v1/tenant "" "" -H "Authorization: Bearer bad'key"
eq "malformed bearer: 401" "$RES_STATUS" 401

new_tenant "Acme A" --tier enterprise --timezone America/New_York
A_ID=$TENANT_ID A=$TENANT_KEY
new_tenant "Beta B"
B_ID=$TENANT_ID B=$TENANT_KEY
check "tenant ids differ" test "$A_ID" != "$B_ID"
check "keys look like telos keys" grep -qE '^telos_[A-Za-z0-9_-]{43}$' <<<"$A"

req GET /v1/tenant "$A"
eq "A: who am I" "$RES_STATUS" 200
eq "A: its own id" "$(jqr .id)" "$A_ID"
eq "A: tier" "$(jqr .tier)" enterprise
eq "A: timezone" "$(jqr .timezone)" America/New_York
req GET /v1/tenant "$B"
eq "B: its own id" "$(jqr .id)" "$B_ID"

out=$("$TELOS" tenant create "Bad TZ" --timezone Mars/Olympus 2>&1)
check "tenant create rejects a bad time zone" test $? -ne 0
check "the error names the problem" grep -qi 'time zone\|timezone' <<<"$out"

# X-Request-Id on every response, distinct
id1=$(curl -s -D - -o /dev/null "$BASE_URL/healthz" | tr -d '\r' | sed -n 's/^[Xx]-[Rr]equest-[Ii]d: //p')
id2=$(curl -s -D - -o /dev/null "$BASE_URL/healthz" | tr -d '\r' | sed -n 's/^[Xx]-[Rr]equest-[Ii]d: //p')
check "X-Request-Id present" test -n "$id1"
check "X-Request-Id distinct" test "$id1" != "$id2"

# --- metric definitions ----------------------------------------------------
req POST /v1/metric-definitions "$A" '{"metric_type":"revenue","unit":"USD","aggregation":"sum"}'
eq "A: create definition" "$RES_STATUS" 201
eq "A: definition echoed" "$(jqr .metric_type)/$(jqr .unit)" "revenue/USD"
req POST /v1/metric-definitions "$A" '{"metric_type":"revenue","unit":"USD"}'
eq "duplicate definition: 409" "$RES_STATUS" 409
req POST /v1/metric-definitions "$A" '{"metric_type":"cash","unit":"USD","aggregation":"last"}'
eq "A: second definition" "$RES_STATUS" 201
req POST /v1/metric-definitions "$A" '{"metric_type":"churn","aggregation":"median"}'
eq "unknown aggregation: 422" "$RES_STATUS" 422
req POST /v1/metric-definitions "$A" '{"metric_type":"Bad Name"}'
eq "bad metric_type: 400" "$RES_STATUS" 400
eq "bad metric_type: field named" "$(jqr '.errors[0].field')" metric_type
req GET /v1/metric-definitions "$A"
eq "A: lists 2 definitions" "$(jqr 'length')" 2
req PUT /v1/metric-definitions/cash "$A" '{"unit":"EUR","aggregation":"last"}'
eq "A: update definition" "$RES_STATUS/$(jqr .unit)" "200/EUR"
req PUT /v1/metric-definitions/cash "$A" '{"metric_type":"other"}'
eq "update with another metric_type: 400" "$RES_STATUS" 400

# B sees none of it and can touch none of it
req GET /v1/metric-definitions "$B"
eq "B: lists no definitions" "$(jqr 'length')" 0
req GET /v1/metric-definitions/revenue "$B"
eq "B: A's definition is 404" "$RES_STATUS" 404
req PUT /v1/metric-definitions/revenue "$B" '{"unit":"JPY"}'
eq "B: cannot update A's definition (404)" "$RES_STATUS" 404
req DELETE /v1/metric-definitions/revenue "$B"
eq "B: cannot delete A's definition (404)" "$RES_STATUS" 404
req GET /v1/metric-definitions/revenue "$A"
eq "A: definition unchanged by B" "$RES_STATUS/$(jqr .unit)" "200/USD"
req POST /v1/metric-definitions "$B" '{"metric_type":"revenue","unit":"GBP"}'
eq "B: same metric_type in its own tenant" "$RES_STATUS" 201

# --- metrics -----------------------------------------------------------------
req POST /v1/metrics "$A" '[{"time":"2026-01-05T10:00:00Z","metric_type":"revenue","value":100.5},
  {"time":"2026-01-05T11:00:00+01:00","metric_type":"revenue","value":200},
  {"time":"2026-01-06T00:00:00Z","metric_type":"cash","value":5000}]'
eq "A: ingest 3 points" "$RES_STATUS/$(jqr .accepted)/$(jqr .rejected)" "200/3/0"
req GET "/v1/metrics/revenue?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z" "$A"
eq "A: read back" "$RES_STATUS" 200
eq "A: 2 revenue points" "$(jqr '.points | length')" 2
eq "A: values in time order" "$(jqr '[.points[].value] | join(",")')" "200,100.5"
req GET "/v1/metrics/revenue?from=2026-01-01T00:00:00Z&to=2026-02-01T00:00:00Z" "$B"
eq "B: sees none of A's points" "$(jqr '.points | length')" 0
req GET "/v1/metrics/cash?from=2026-01-01T00:00:00Z" "$B"
eq "B: A's metric type is 404" "$RES_STATUS" 404
req GET "/v1/metrics/revenue?from=yesterday" "$A"
eq "bad from: 400" "$RES_STATUS" 400
req GET "/v1/metrics/revenue?limit=0" "$A"
eq "bad limit: 400" "$RES_STATUS" 400

count_raw() { psql_owner -c "select set_config('app.current_tenant_id','$A_ID',true); select count(*) from business_metrics_raw" | tail -1; }
before=$(count_raw)
check "owner sees A's 3 points with A set" test "$before" = 3

# --- bad input: status, problem body, nothing written ----------------------
bad() {  # bad NAME STATUS BODY [curl args]
  local name=$1 want=$2 body=$3; shift 3
  req POST /v1/metrics "$A" "$body" "$@"
  eq "$name: $want" "$RES_STATUS" "$want"
  eq "$name: problem+json" "$RES_CTYPE" "application/problem+json"
  eq "$name: nothing written" "$(count_raw)" "$before"
}
bad "malformed JSON" 400 '[{"time": "2026-01-05T10:00:00Z",'
bad "not an array" 400 '{"time":"2026-01-05T10:00:00Z","metric_type":"revenue","value":1}'
# Bad rows (wrong type, missing field, bad time, unknown metric) are rejected
# one by one, or all-or-nothing with ?atomic=true: tests/t_ingest.sh.
bad "NaN literal" 400 '[{"time":"2026-01-05T10:00:00Z","metric_type":"revenue","value":NaN}]'
req POST /v1/metrics "$A" "" --data-binary 'a,b,c' -H 'Content-Type: text/plain'
eq "wrong content type: 415" "$RES_STATUS" 415
eq "wrong content type: nothing written" "$(count_raw)" "$before"
head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$TMPDIR_T/huge"
req POST /v1/metrics "$A" "" --data-binary "@$TMPDIR_T/huge" -H 'Content-Type: application/json'
eq "huge body: 413" "$RES_STATUS" 413
eq "huge body: nothing written" "$(count_raw)" "$before"
req POST /v1/metrics "" '[{"time":"2026-01-05T10:00:00Z","metric_type":"revenue","value":1}]'
eq "no key on write: 401" "$RES_STATUS" 401
eq "no key on write: nothing written" "$(count_raw)" "$before"

# --- users and goals ---------------------------------------------------------
req POST /v1/users "$A" '{"email":"ann@a.example","name":"Ann"}'
eq "A: create user" "$RES_STATUS" 201
A_USER=$(jqr .id)
req POST /v1/users "$A" '{"email":"ANN@a.example"}'
eq "duplicate email (case-insensitive): 409" "$RES_STATUS" 409
req POST /v1/users "$B" '{"email":"bob@b.example"}'
B_USER=$(jqr .id)

GOAL='{"user_id":"'$A_USER'","status":"draft",
 "specific":{"description":"Grow revenue","focus_area":"sales","owner":"Ann"},
 "measurable":{"primary_metric_id":"revenue","target_value":1000,"current_value":500,"unit":"USD"},
 "achievable":{"feasibility_score":0.6},"relevant":{"aligned_metrics":["revenue"]},
 "time_bound":{"start_date":"2026-01-01","target_date":"2026-06-30","milestones":[]}}'
req POST /v1/goals "$A" "$GOAL"
eq "A: create goal" "$RES_STATUS" 201
GOAL_ID=$(jqr .id)
eq "A: goal defaults" "$(jqr '"\(.action_plan | length):\(.check_ins | length)"')" "0:0"
req GET "/v1/goals/$GOAL_ID" "$A"
eq "A: read goal" "$RES_STATUS/$(jqr .specific.description)" "200/Grow revenue"
req GET /v1/goals "$A"
eq "A: lists 1 goal" "$(jqr 'length')" 1
req GET "/v1/goals?status=active" "$A"
eq "A: status filter" "$(jqr 'length')" 0
req GET "/v1/goals/$GOAL_ID" "$B"
eq "B: A's goal is 404" "$RES_STATUS" 404
req GET /v1/goals "$B"
eq "B: lists no goals" "$(jqr 'length')" 0
req GET /v1/goals/00000000-0000-4000-8000-000000000000 "$A"
eq "unknown goal id: 404" "$RES_STATUS" 404
req GET /v1/goals/not-a-uuid "$A"
eq "malformed goal id: 404" "$RES_STATUS" 404
req POST /v1/goals "$B" "${GOAL//$A_USER/$B_USER}"
eq "B: own goal" "$RES_STATUS" 201
req POST /v1/goals "$B" "$GOAL"
eq "B: goal for A's user is rejected (422)" "$RES_STATUS" 422
req POST /v1/goals "$A" '{"user_id":"'$A_USER'","specific":{}}'
eq "goal missing parts: 400" "$RES_STATUS" 400
eq "goal missing parts: 4 errors" "$(jqr '.errors | length')" 4
req POST /v1/goals "$A" "${GOAL/\"draft\"/\"dreaming\"}"
eq "goal bad status: 422" "$RES_STATUS" 422
req POST /v1/goals "$A" "${GOAL/\"specific\":\{/\"specific\":[\{}"
eq "goal part of the wrong type: 400" "$RES_STATUS" 400

# --- routing ------------------------------------------------------------------
req DELETE /v1/goals "$A"
eq "wrong method: 405" "$RES_STATUS" 405
req GET /v1/nothing-here "$A"
eq "unknown path: 404" "$RES_STATUS" 404

# --- the request log names no key --------------------------------------------
if [ -n "${SERVE_LOG:-}" ]; then
  check "request lines are logged" grep -q '"path"' "$SERVE_LOG"
  check "no API key in the log" bash -c "! grep -q -- '$A' '$SERVE_LOG'"
  check "log lines are JSON" bash -c "tail -5 '$SERVE_LOG' | jq -e . >/dev/null"
fi
