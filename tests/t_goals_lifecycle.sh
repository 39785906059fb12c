#!/usr/bin/env bash
# t_goals_lifecycle.sh -- the SMART goal lifecycle over HTTP (issue 7,
# schema/0013_goal_lifecycle.sql, server/src/h_goal_lifecycle.c): every
# status x every action (allowed ones succeed with an audit row, the others
# are 409 listing the allowed ones), SMART validation before leaving draft
# (422, each failure with its JSON path), abandon needs a reason, PATCH while
# allowed, tenant isolation (404), and EXPLAIN showing the seed's indexes
# serve listing by status and by target date range.
. "$(dirname "$0")/lib.sh"

# sql_as_tenant TENANT SQL -- as telos_owner (whom FORCE RLS binds), with the
# tenant set for the transaction.
sql_as_tenant() {
  psql_owner <<SQL
BEGIN;
SET LOCAL app.current_tenant_id = '$1';
$2
COMMIT;
SQL
}

new_tenant "Lifecycle A"
A_ID=$TENANT_ID A=$TENANT_KEY
new_tenant "Lifecycle B"
B_ID=$TENANT_ID B=$TENANT_KEY

req POST /v1/users "$A" '{"email":"ann@lc-a.example","name":"Ann"}'
A_USER=$(jqr .id)
req POST /v1/users "$B" '{"email":"bob@lc-b.example","name":"Bob"}'
B_USER=$(jqr .id)
req POST /v1/metric-definitions "$A" '{"metric_type":"revenue","unit":"USD","aggregation":"sum"}'
req POST /v1/metric-definitions "$A" '{"metric_type":"cash","unit":"USD","aggregation":"last"}'
req POST /v1/metric-definitions "$B" '{"metric_type":"gmv","unit":"USD"}'
eq "set-up: users and metrics" "$RES_STATUS:$(test -n "$A_USER" && test -n "$B_USER" && echo y)" "201:y"

GOAL=$(jq -nc --arg u "$A_USER" '{user_id: $u,
  specific: {description: "Grow revenue", focus_area: "sales", owner: $u},
  measurable: {primary_metric_id: "revenue", target_value: 1000, current_value: 500,
               unit: "USD", direction: "increase"},
  achievable: {}, relevant: {aligned_metrics: ["revenue", "cash"], business_impact: "runway"},
  time_bound: {start_date: "2026-01-01", target_date: "2026-12-31",
               milestones: [{date: "2026-03-31", name: "Q1"}, {date: "2026-06-30", name: "H1"}]}}')

# new_goal [JQ-FILTER] -- create a goal of A from GOAL (optionally changed);
# sets GID.
new_goal() {
  req POST /v1/goals "$A" "$(jq -c "${1:-.}" <<<"$GOAL")"
  GID=$(jqr .id)
}
# act GOAL ACTION [REASON] [KEY]
act() {
  local body
  body=$(jq -nc --arg a "$2" --arg r "${3:-}" '{action: $a} + (if $r == "" then {} else {reason: $r} end)')
  req POST "/v1/goals/$1/transitions" "${4:-$A}" "$body"
}

# --- the transition table, exhaustively --------------------------------------
STATES="draft active on_track at_risk completed abandoned"
ACTIONS="activate mark_on_track mark_at_risk complete abandon reopen"
# The expected table, written out independently of the SQL one.
declare -A TO=(
  [draft.activate]=active [draft.abandon]=abandoned
  [active.mark_on_track]=on_track [active.mark_at_risk]=at_risk
  [active.complete]=completed [active.abandon]=abandoned
  [on_track.mark_at_risk]=at_risk [on_track.complete]=completed [on_track.abandon]=abandoned
  [at_risk.mark_on_track]=on_track [at_risk.complete]=completed [at_risk.abandon]=abandoned
  [completed.reopen]=active [abandoned.reopen]=active)
declare -A PATH_TO=(
  [draft]="" [active]="activate" [on_track]="activate mark_on_track"
  [at_risk]="activate mark_at_risk" [completed]="activate complete" [abandoned]="abandon")
allowed_of() {
  local s=$1 a out=""
  for a in $ACTIONS; do [ -n "${TO[$s.$a]:-}" ] && out="$out${out:+,}$a"; done
  echo "$out"
}

for s in $STATES; do
  for a in $ACTIONS; do
    new_goal
    steps=0 setup_ok=y
    for p in ${PATH_TO[$s]}; do
      act "$GID" "$p" "no longer needed"
      [ "$RES_STATUS" = 201 ] || setup_ok="n ($p: $RES_STATUS $RES_BODY)"
      steps=$((steps + 1))
    done
    req GET "/v1/goals/$GID" "$A"
    if [ "$setup_ok" != y ] || [ "$(jqr .status)" != "$s" ]; then
      not_ok "$s x $a: goal brought to $s" "$setup_ok, status $(jqr .status)"
      continue
    fi
    act "$GID" "$a" "no longer needed"
    want=${TO[$s.$a]:-}
    if [ -n "$want" ]; then
      eq "$s x $a: allowed, 201 -> $want" "$RES_STATUS/$(jqr .goal.status)/$(jqr .transition.from)/$(jqr .transition.to)" \
        "201/$want/$s/$want"
      req GET "/v1/goals/$GID/transitions" "$A"
      eq "$s x $a: audit row written" \
        "$(jqr 'length'):$(jqr '.[-1] | "\(.action) \(.from) \(.to) \(.at != null)"')" \
        "$((steps + 1)):$a $s $want true"
    else
      eq "$s x $a: refused, 409 listing the allowed" \
        "$RES_STATUS/$RES_CTYPE/$(jqr '.allowed | join(",")')/$(jqr .goal_status)" \
        "409/application/problem+json/$(allowed_of "$s")/$s"
      req GET "/v1/goals/$GID" "$A"
      s2=$(jqr .status)
      req GET "/v1/goals/$GID/transitions" "$A"
      eq "$s x $a: status and audit trail unchanged" "$s2:$(jqr length)" "$s:$steps"
    fi
  done
done

# --- abandon needs a reason; bad requests ------------------------------------
new_goal
act "$GID" abandon
eq "abandon without a reason: 422" "$RES_STATUS/$(jqr '.errors[0].path')" '422/$.reason'
act "$GID" abandon "   "
eq "abandon with a blank reason: 422" "$RES_STATUS" 422
req GET "/v1/goals/$GID/transitions" "$A"
eq "refused abandon writes no audit row" "$(jqr length)" 0
act "$GID" abandon "market moved"
eq "abandon with a reason" "$RES_STATUS/$(jqr .transition.reason)" "201/market moved"
act "$GID" reopen
eq "reopen an abandoned goal" "$RES_STATUS/$(jqr .goal.status)" "201/active"

new_goal
act "$GID" fly
eq "unknown action: 400 listing the allowed" "$RES_STATUS/$(jqr '.allowed | join(",")')" "400/activate,abandon"
req POST "/v1/goals/$GID/transitions" "$A" '{"reason":"x"}'
eq "missing action: 400" "$RES_STATUS/$(jqr '.errors[0].field')" "400/action"
req POST "/v1/goals/$GID/transitions" "$A" '{"action":"activate","status":"completed"}'
eq "unknown member: 400" "$RES_STATUS" 400
req POST "/v1/goals/$GID/transitions" "$A" '{"action":"activate","actor":"'$A_USER'"}'
eq "actor recorded" "$RES_STATUS/$(jqr .transition.actor)" "201/$A_USER"
act "$GID" mark_at_risk "" "$A"
req POST "/v1/goals/$GID/transitions" "$A" '{"action":"mark_on_track","actor":"'$B_USER'"}'
eq "actor of another tenant: 422" "$RES_STATUS" 422
req GET "/v1/goals/$GID" "$A"
eq "refused transition leaves the status" "$(jqr .status)" at_risk
req POST /v1/goals/00000000-0000-4000-8000-000000000000/transitions "$A" '{"action":"activate"}'
eq "transition of an unknown goal: 404" "$RES_STATUS" 404
req GET /v1/goals/not-a-uuid/transitions "$A"
eq "malformed goal id: 404" "$RES_STATUS" 404

# The lifecycle cannot be bypassed by changing status directly.
out=$(sql_as_tenant "$A_ID" "UPDATE smart_goals SET status = 'completed' WHERE id = '$GID';" 2>&1)
check "direct UPDATE of status is refused" grep -q "only through goal_transition" <<<"$out"
out=$(psql_app <<SQL 2>&1
BEGIN;
SET LOCAL app.current_tenant_id = '$A_ID';
INSERT INTO goal_transitions (tenant_id, goal_id, action, from_status, to_status)
     VALUES ('$A_ID', '$GID', 'complete', 'at_risk', 'completed');
COMMIT;
SQL
)
check "telos_app cannot forge an audit row" grep -q "permission denied" <<<"$out"

# --- SMART validation before leaving draft ------------------------------------
EDGE_A=$(sql_as_tenant "$A_ID" "SELECT id FROM evidence_edges ORDER BY id LIMIT 1;")
req POST /v1/goals "$B" "$(jq -c --arg u "$B_USER" '.user_id = $u | .specific.owner = $u | .measurable.primary_metric_id = "gmv" | .relevant.aligned_metrics = ["gmv"]' <<<"$GOAL")"
EDGE_B=$(sql_as_tenant "$B_ID" "SELECT id FROM evidence_edges ORDER BY id LIMIT 1;")
check "set-up: each tenant has an evidence edge" test -n "$EDGE_A" -a -n "$EDGE_B"

new_goal ".relevant.evidence_ids = [\"$EDGE_A\"]"
act "$GID" activate
eq "valid goal with the tenant's evidence id activates" "$RES_STATUS/$(jqr .goal.status)" "201/active"

# invalid NAME JQ-FILTER PATH -- a goal so changed cannot be activated: 422
# naming PATH, still draft, no audit row.
invalid() {
  new_goal "$2"
  if [ "$RES_STATUS" != 201 ]; then not_ok "$1: goal created" "$RES_STATUS $RES_BODY"; return; fi
  act "$GID" activate
  eq "$1: 422 naming $3" "$RES_STATUS/$RES_CTYPE/$(jqr "[.errors[].path] | index(\"$3\") != null")" \
    "422/application/problem+json/true"
  check "$1: the reason is given" test -n "$(jqr ".errors[] | select(.path == \"$3\") | .reason")"
  req GET "/v1/goals/$GID/transitions" "$A"
  local n=$(jqr length)
  req GET "/v1/goals/$GID" "$A"
  eq "$1: still draft, no audit row" "$(jqr .status):$n" "draft:0"
}
invalid "description missing"     'del(.specific.description)'               '$.specific.description'
invalid "description blank"       '.specific.description = " "'             '$.specific.description'
invalid "focus_area missing"      'del(.specific.focus_area)'                '$.specific.focus_area'
invalid "owner of another tenant" ".specific.owner = \"$B_USER\""            '$.specific.owner'
invalid "owner unknown email"     '.specific.owner = "nobody@lc-a.example"'  '$.specific.owner'
invalid "owner missing"           'del(.specific.owner)'                     '$.specific.owner'
invalid "metric unknown"          '.measurable.primary_metric_id = "ghost"'  '$.measurable.primary_metric_id'
invalid "metric of another tenant" '.measurable.primary_metric_id = "gmv"'   '$.measurable.primary_metric_id'
invalid "target not a number"     '.measurable.target_value = "1000"'        '$.measurable.target_value'
invalid "target missing"          'del(.measurable.target_value)'            '$.measurable.target_value'
invalid "unit not the metric's"   '.measurable.unit = "EUR"'                 '$.measurable.unit'
invalid "unit missing"            'del(.measurable.unit)'                    '$.measurable.unit'
invalid "direction unknown"       '.measurable.direction = "up"'             '$.measurable.direction'
invalid "direction missing"       'del(.measurable.direction)'               '$.measurable.direction'
invalid "aligned metrics empty"   '.relevant.aligned_metrics = []'           '$.relevant.aligned_metrics'
invalid "aligned metric unknown"  '.relevant.aligned_metrics = ["revenue", "ghost"]' '$.relevant.aligned_metrics[1]'
invalid "evidence of another tenant" ".relevant.evidence_ids = [\"$EDGE_A\", \"$EDGE_B\"]" '$.relevant.evidence_ids[1]'
invalid "evidence id not a uuid"  '.relevant.evidence_ids = ["edge-1"]'      '$.relevant.evidence_ids[0]'
invalid "start missing"           'del(.time_bound.start_date)'              '$.time_bound.start_date'
invalid "start not a date"        '.time_bound.start_date = "2026-02-30"'    '$.time_bound.start_date'
invalid "start after target"      '.time_bound.start_date = "2027-01-01"'    '$.time_bound.target_date'
invalid "start equals target"     '.time_bound.start_date = "2026-12-31"'    '$.time_bound.target_date'
invalid "milestone after target"  '.time_bound.milestones[1].date = "2027-03-01"' '$.time_bound.milestones[1].date'
invalid "milestone before start"  '.time_bound.milestones[0].date = "2025-12-01"' '$.time_bound.milestones[0].date'
invalid "milestones out of order" '.time_bound.milestones |= reverse'        '$.time_bound.milestones[1].date'
invalid "milestone without date"  '.time_bound.milestones[0] = {name: "x"}'  '$.time_bound.milestones[0].date'

# Every failure at once: one path each.
new_goal '.specific = {} | .measurable = {} | .relevant = {} | .time_bound = {}'
act "$GID" activate
eq "empty SMART parts: every failure listed" "$RES_STATUS/$(jqr '[.errors[].path] | sort | join(" ")')" \
  '422/$.measurable.direction $.measurable.primary_metric_id $.measurable.target_value $.relevant.aligned_metrics $.specific.description $.specific.focus_area $.specific.owner $.time_bound.start_date $.time_bound.target_date'
# Abandoning a draft needs no valid goal.
act "$GID" abandon "never got going"
eq "an invalid draft can be abandoned" "$RES_STATUS/$(jqr .goal.status)" "201/abandoned"
# The owner may be named by email too.
new_goal '.specific.owner = "ANN@lc-a.example"'
act "$GID" activate
eq "owner given by email (any case)" "$RES_STATUS" 201

# --- PATCH -----------------------------------------------------------------------
new_goal 'del(.measurable.direction) | .specific.owner = "nobody"'
act "$GID" activate
eq "patch: draft starts invalid" "$RES_STATUS" 422
req PATCH "/v1/goals/$GID" "$A" '{"measurable":{"direction":"increase"},"specific":{"owner":"'$A_USER'"}}'
eq "patch draft: 200" "$RES_STATUS" 200
eq "patch merges into the part" "$(jqr '"\(.measurable.direction) \(.measurable.target_value) \(.specific.owner == "'$A_USER'") \(.specific.description)"')" \
  "increase 1000 true Grow revenue"
act "$GID" activate
eq "patched goal activates" "$RES_STATUS" 201
req PATCH "/v1/goals/$GID" "$A" '{"measurable":{"target_value":2000},"action_plan":[{"task":"call","assigned_to":"'$A_USER'","due_date":"2026-02-01","status":"open"}]}'
eq "patch active goal: 200" "$RES_STATUS/$(jqr .measurable.target_value)/$(jqr '.action_plan[0].task')" "200/2000/call"
req PATCH "/v1/goals/$GID" "$A" '{"measurable":{"unit":null}}'
eq "patch making an active goal invalid: 422 with path" "$RES_STATUS/$(jqr '.errors[0].path')" '422/$.measurable.unit'
req GET "/v1/goals/$GID" "$A"
eq "refused patch changes nothing" "$(jqr .measurable.unit)" USD
req PATCH "/v1/goals/$GID" "$A" '{"status":"completed"}'
eq "patch cannot set status: 400" "$RES_STATUS/$(jqr '.errors[0].field')" "400/status"
req PATCH "/v1/goals/$GID" "$A" '{"time_bound":[]}'
eq "patch part of the wrong type: 400" "$RES_STATUS" 400
new_goal
req PATCH "/v1/goals/$GID" "$A" '{"measurable":{"direction":null}}'
eq "patch: null removes a key of a draft" "$RES_STATUS/$(jqr '.measurable | has("direction")')" "200/false"
act "$GID" abandon "dropped"
req PATCH "/v1/goals/$GID" "$A" '{"specific":{"description":"again"}}'
eq "patch a terminal goal: 409 listing the allowed" "$RES_STATUS/$(jqr '.allowed | join(",")')" "409/reopen"

# --- tenant isolation ---------------------------------------------------------------
new_goal
act "$GID" activate "" "$B"
eq "B: transition of A's goal is 404" "$RES_STATUS" 404
req GET "/v1/goals/$GID/transitions" "$B"
eq "B: A's audit trail is 404" "$RES_STATUS" 404
req PATCH "/v1/goals/$GID" "$B" '{"specific":{"description":"mine"}}'
eq "B: patch of A's goal is 404" "$RES_STATUS" 404
req GET "/v1/goals/$GID" "$A"
eq "A's goal untouched by B" "$(jqr .status)/$(jqr .specific.description)" "draft/Grow revenue"
eq "B sees none of A's audit rows" \
  "$(sql_as_tenant "$B_ID" "SELECT count(*) FROM goal_transitions WHERE tenant_id = '$A_ID';")" 0

# --- EXPLAIN: the seed's indexes serve listing by status and by target date ---------
new_tenant "Lifecycle C"
C_ID=$TENANT_ID
sql_as_tenant "$C_ID" "
INSERT INTO users (tenant_id, id, email) VALUES ('$C_ID', '$C_ID', 'c@lc-c.example');
INSERT INTO smart_goals (tenant_id, user_id, status, specific, measurable, achievable, relevant, time_bound)
SELECT '$C_ID', '$C_ID', CASE WHEN i % 100 = 0 THEN 'at_risk' ELSE 'draft' END,
       '{}', '{}', '{}', '{}',
       jsonb_build_object('target_date', to_char(date '2026-01-01' + (i % 3650), 'YYYY-MM-DD'))
  FROM generate_series(1, 5000) i;
ANALYZE smart_goals;" >/dev/null
# As telos_app, the request role, with the tenant set: RLS adds
# "tenant_id = current tenant" and both lead the index.
app_explain() {
  psql_app <<SQL
BEGIN;
SET LOCAL app.current_tenant_id = '$C_ID';
EXPLAIN (COSTS OFF) $1
COMMIT;
SQL
}
plan_status=$(app_explain "SELECT * FROM smart_goals WHERE status = 'at_risk';")
check "telos_app listing by status uses idx_goals_tenant_status" \
  grep -q 'idx_goals_tenant_status' <<<"$plan_status"
check "... with tenant and status as index conditions" \
  grep -q "Index Cond: ((tenant_id = .*AND (status = 'at_risk'::text))" <<<"$plan_status"
# A target date range as telos_worker (the scheduler's "goals due in this
# window" scan; BYPASSRLS, tenant named explicitly): both bounds are index
# conditions on idx_goals_target_date.
plan_date=$(psql_as telos_worker -c "EXPLAIN (COSTS OFF) SELECT * FROM smart_goals
  WHERE tenant_id = '$C_ID' AND time_bound ->> 'target_date' BETWEEN '2027-01-01' AND '2027-01-31';")
check "listing by target date range uses idx_goals_target_date" \
  grep -q 'idx_goals_target_date' <<<"$plan_date"
check "... with the date range as an index condition" \
  grep -q "Index Cond: ((tenant_id = .*target_date'::text) >= '2027-01-01'::text)" <<<"$plan_date"
# Under RLS (telos_app) the same range is a filter, not an index condition:
# ->> (jsonb_object_field_text) is not LEAKPROOF, so the planner may not
# evaluate it before the policy's qual (docs/schema.md, smart_goals).
plan_date_app=$(app_explain "SELECT * FROM smart_goals WHERE time_bound ->> 'target_date' BETWEEN '2027-01-01' AND '2027-01-31';")
echo "# status, telos_app: $(tr '\n' ' ' <<<"$plan_status")"
echo "# target date, telos_worker: $(tr '\n' ' ' <<<"$plan_date")"
echo "# target date, telos_app (RLS): $(tr '\n' ' ' <<<"$plan_date_app")"
