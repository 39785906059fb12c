#!/usr/bin/env bash
# t_ingest.sh -- metric ingest end to end: POST /v1/metrics in JSON, NDJSON
# and CSV, per-row rejects with lines and reasons, ?atomic=true, body and
# batch limits, Idempotency-Key (replay, mismatch, concurrency, across a
# server restart), exact values through binary COPY, retention, chunks made
# before the write, GET /v1/metrics/{type}?bucket=..., hostile bodies, and
# `telos ingest FILE`. Runs against the server of tests/run.sh ($BASE_URL);
# the restart test starts servers of its own on the same cluster.
. "$(dirname "$0")/lib.sh"

day() { date -u -d "$1" +%Y-%m-%d; }   # day '-3 days' -> 2026-11-22
D1=$(day '-1 day'); D2=$(day '-2 days'); D3=$(day '-3 days'); D4=$(day '-4 days')
TODAY=$(day 'now')

# post CTYPE QUERY KEY FILE [curl args...] -- POST FILE to /v1/metrics;
# sets RES_STATUS, RES_CTYPE, RES_BODY and RES_HEADERS (lower-case names).
post() {
  local ctype=$1 query=$2 key=$3 file=$4; shift 4
  local args=(-s -o "$TMPDIR_T/body" -D "$TMPDIR_T/headers" -w '%{http_code} %{content_type}' -X POST)
  [ -n "$key" ] && args+=(-H "Authorization: Bearer $key")
  [ -n "$ctype" ] && args+=(-H "Content-Type: $ctype")
  local out
  out=$(curl "${args[@]}" --data-binary "@$file" "$@" "$BASE_URL/v1/metrics$query")
  RES_STATUS=${out%% *}
  RES_CTYPE=${out#* }
  RES_BODY=$(cat "$TMPDIR_T/body")
  RES_HEADERS=$(tr -d '\r' <"$TMPDIR_T/headers" | tr 'A-Z' 'a-z')
}
# body FILE TEXT -- write TEXT (printf format: \r\n etc. expand) to FILE
body() { printf "$2" >"$TMPDIR_T/$1"; }
# lacks PATTERN TEXT -- passes when TEXT has no line matching PATTERN
lacks() { ! grep -q -- "$1" <<<"$2"; }

# SQL as the owner with tenant $1 set: sql_t TENANT 'select ...'
sql_t() { psql_owner -c "select set_config('app.current_tenant_id','$1',true); $2" | tail -n +2; }
count_t() { sql_t "$1" "select count(*) from business_metrics_raw"; }

new_tenant "Ingest A"
A_ID=$TENANT_ID A=$TENANT_KEY
# A keeps everything: the retention job of the test cluster may run at any
# moment and must not delete rows under the counts below.
sql_t "$A_ID" "update tenants set retention = '100 years'" >/dev/null
new_tenant "Ingest B" --tier free
B_ID=$TENANT_ID B=$TENANT_KEY
for m in '{"metric_type":"revenue","aggregation":"sum"}' '{"metric_type":"cash","aggregation":"last"}'; do
  req POST /v1/metric-definitions "$A" "$m"
done
req POST /v1/metric-definitions "$A" '{"metric_type":"gross","aggregation":"sum","calculation_formula":"revenue - cash"}'
eq "setup: derived metric defined" "$RES_STATUS" 201
req POST /v1/metric-definitions "$B" '{"metric_type":"revenue","aggregation":"sum"}'

# --- the three formats ---------------------------------------------------------
body a.json "[{\"time\":\"${D3}T10:00:00Z\",\"metric_type\":\"revenue\",\"value\":100.5},
 {\"time\":\"${D3}T11:00:00+01:00\",\"metric_type\":\"revenue\",\"value\":200},
 {\"time\":\"${D3}T00:00:00Z\",\"metric_type\":\"cash\",\"value\":5000,\"source\":null}]"
post "application/json; charset=utf-8" "" "$A" "$TMPDIR_T/a.json"
eq "json: 200" "$RES_STATUS" 200
eq "json: application/json" "$RES_CTYPE" "application/json"
eq "json: 3 accepted, 0 rejected, no errors" "$(jqr '"\(.accepted)/\(.rejected)/\(.errors|length)/\(.errors_omitted)"')" "3/0/0/0"
eq "json: rows written" "$(count_t "$A_ID")" 3

body a.ndjson "\xEF\xBB\xBF{\"time\":\"${D3}T12:00:00Z\",\"metric_type\":\"revenue\",\"value\":1}\r\n\r\n{\"time\":\"${D3}T13:00:00Z\",\"metric_type\":\"revenue\",\"value\":2}\r\n{\"time\": oops}\r\n  \n{\"time\":\"${D3}T14:00:00Z\",\"metric_type\":\"revenue\",\"value\":3}"
post application/x-ndjson "" "$A" "$TMPDIR_T/a.ndjson"
eq "ndjson: 200" "$RES_STATUS" 200
eq "ndjson: 3 accepted, 1 rejected" "$(jqr '"\(.accepted)/\(.rejected)"')" "3/1"
eq "ndjson: malformed line 4 named" "$(jqr '.errors[0].line')" 4
check "ndjson: reason says malformed JSON" grep -q 'malformed JSON' <<<"$(jqr '.errors[0].reason')"
eq "ndjson: no index for lines" "$(jqr '.errors[0].index')" null
eq "ndjson: rows written" "$(count_t "$A_ID")" 6

body a.csv "\xEF\xBB\xBFvalue,\"metric_type\",time,source\r\n1.5,revenue,${D2}T01:00:00Z,d3e0d3e0-0000-4000-8000-000000000001\r\n\r\n\"2\",\"revenue\",\"${D2}T02:00:00Z\",\r\n3,\"rev\nenue\",${D2}T03:00:00Z,\r\n4,revenue,${D2}T04:00:00Z,\r\n"
post "text/csv" "" "$A" "$TMPDIR_T/a.csv"
eq "csv: 200" "$RES_STATUS" 200
eq "csv: 3 accepted, 1 rejected" "$(jqr '"\(.accepted)/\(.rejected)"')" "3/1"
eq "csv: the multi-line record is named by its first line" "$(jqr '.errors[0] | "\(.line):\(.field)"')" "5:metric_type"
eq "csv: rows written" "$(count_t "$A_ID")" 9

# --- exact values through binary COPY --------------------------------------------
body exact.json "[{\"time\":\"1999-12-31T23:59:59.999999Z\",\"metric_type\":\"cash\",\"value\":0.1},
 {\"time\":\"2000-01-01T00:00:00Z\",\"metric_type\":\"cash\",\"value\":-1.7976931348623157e308},
 {\"time\":\"${D4}T23:30:00.000001-05:30\",\"metric_type\":\"cash\",\"value\":5e-324,\"source\":\"D3E0D3E0-ABCD-4000-8000-00000000000F\"},
 {\"time\":\"${D4}T00:00:00Z\",\"metric_type\":\"cash\",\"value\":12345678901234567890}]"
post application/json "" "$A" "$TMPDIR_T/exact.json"
eq "exact: 4 accepted" "$(jqr .accepted)" 4
got=$(sql_t "$A_ID" "select string_agg(to_char(time at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US') || '=' || value::text || '@' || coalesce(source::text, '-'), ' ' order by time) from business_metrics_raw where metric_type = 'cash' and value <> 5000")
want="1999-12-31T23:59:59.999999=0.1@- 2000-01-01T00:00:00.000000=-1.7976931348623157e+308@- ${D4}T00:00:00.000000=1.2345678901234567e+19@- $(day "$D4 +1 day")T05:00:00.000001=5e-324@d3e0d3e0-abcd-4000-8000-00000000000f"
eq "exact: times to the microsecond, doubles bit for bit, uuid" "$got" "$want"
eq "exact: ingested_at set" "$(sql_t "$A_ID" "select count(*) from business_metrics_raw where ingested_at > now() - interval '1 hour'")" "$(count_t "$A_ID")"

# --- rejects: every reason, with lines ---------------------------------------------
new_tenant "Ingest R"
R_ID=$TENANT_ID R=$TENANT_KEY
for m in '{"metric_type":"revenue"}' '{"metric_type":"cash"}' '{"metric_type":"gross","calculation_formula":"revenue - cash"}'; do
  req POST /v1/metric-definitions "$R" "$m"
done
sql_t "$R_ID" "update tenants set retention = '30 days'" >/dev/null
OLD=$(day '-40 days')
body rej.csv "time,metric_type,value\n${D1}T01:00:00Z,revenue,1\n${D1}T01:00:00,revenue,1\n${D1}T02:00:00Z,revenue,NaN\n${D1}T03:00:00Z,profit,1\n${OLD}T00:00:00Z,revenue,1\n${D1}T04:00:00Z,gross,1\n${D1}T05:00:00Z,revenue,1e999\n${D1}T06:00:00Z,revenue,1\n"
post text/csv "" "$R" "$TMPDIR_T/rej.csv"
eq "rejects: 200 for a partial batch" "$RES_STATUS" 200
eq "rejects: 2 accepted, 6 rejected" "$(jqr '"\(.accepted)/\(.rejected)"')" "2/6"
eq "rejects: lines" "$(jqr '[.errors[].line] | join(",")')" "3,4,5,6,7,8"
eq "rejects: fields" "$(jqr '[.errors[].field] | join(",")')" "time,value,metric_type,time,metric_type,value"
check "rejects: unparseable time" grep -q 'RFC 3339' <<<"$(jqr '.errors[0].reason')"
check "rejects: non-finite value" grep -q 'finite' <<<"$(jqr '.errors[1].reason')"
check "rejects: unknown metric_type named" grep -q "unknown metric_type 'profit'" <<<"$(jqr '.errors[2].reason')"
check "rejects: retention window" grep -q 'retention window' <<<"$(jqr '.errors[3].reason')"
check "rejects: derived metric" grep -q "'gross' is derived" <<<"$(jqr '.errors[4].reason')"
check "rejects: overflow is non-finite" grep -q 'finite' <<<"$(jqr '.errors[5].reason')"
eq "rejects: the valid rows written" "$(count_t "$R_ID")" 2
# the free tier keeps 3 months
body old.json "[{\"time\":\"$(day '-100 days')T00:00:00Z\",\"metric_type\":\"revenue\",\"value\":1},{\"time\":\"$(day '-80 days')T00:00:00Z\",\"metric_type\":\"revenue\",\"value\":1}]"
post application/json "" "$B" "$TMPDIR_T/old.json"
eq "free tier: 100 days old rejected, 80 days kept" "$(jqr '"\(.accepted)/\(.errors[0].index)/\(.errors[0].field)"')" "1/0/time"

# capped error list
awk 'BEGIN { print "time,metric_type,value"; for (i = 0; i < 1500; i++) print "2026-01-01T00:00:00Z,nope," i }' >"$TMPDIR_T/many_bad.csv"
before=$(count_t "$A_ID")
post text/csv "" "$A" "$TMPDIR_T/many_bad.csv"
eq "1500 rejects: 1000 listed + omitted count" "$(jqr '"\(.rejected)/\(.errors|length)/\(.errors_omitted)"')" "1500/1000/500"
eq "1500 rejects: line of the last listed" "$(jqr '.errors[999].line')" 1001

# --- all or nothing ---------------------------------------------------------------
before=$(count_t "$A_ID")
post text/csv "?atomic=true" "$A" "$TMPDIR_T/rej.csv"
eq "atomic: 422" "$RES_STATUS" 422
eq "atomic: problem+json" "$RES_CTYPE" "application/problem+json"
eq "atomic: counts and errors in the problem" "$(jqr '"\(.status)/\(.accepted)/\(.rejected)/\(.errors|length)"')" "422/0/5/5"
check "atomic: detail says nothing was written" grep -q 'nothing was written' <<<"$(jqr .detail)"
eq "atomic: nothing written" "$(count_t "$A_ID")" "$before"
body ok.csv "time,metric_type,value\n${D1}T07:00:00Z,revenue,7\n"
post text/csv "?atomic=true" "$A" "$TMPDIR_T/ok.csv"
eq "atomic, all valid: 200, written" "$RES_STATUS/$(jqr .accepted)/$(count_t "$A_ID")" "200/1/$((before + 1))"
post text/csv "?atomic=maybe" "$A" "$TMPDIR_T/ok.csv"
eq "atomic=maybe: 400" "$RES_STATUS" 400

# --- bad bodies (moved from t_api.sh, now with per-row semantics) -----------------
before=$(count_t "$A_ID")
bad() {  # bad NAME STATUS QUERY BODY [curl args] -- status, problem, nothing written
  local name=$1 want=$2 query=$3
  printf '%s' "$4" >"$TMPDIR_T/bad"; shift 4
  post application/json "$query" "$A" "$TMPDIR_T/bad" "$@"
  eq "$name: $want" "$RES_STATUS" "$want"
  eq "$name: problem+json" "$RES_CTYPE" "application/problem+json"
  eq "$name: nothing written" "$(count_t "$A_ID")" "$before"
}
bad "malformed JSON" 400 "" '[{"time": "2026-01-05T10:00:00Z",'
bad "not an array" 400 "" '{"time":"2026-01-05T10:00:00Z","metric_type":"revenue","value":1}'
bad "NaN literal" 400 "" '[{"time":"2026-01-05T10:00:00Z","metric_type":"revenue","value":NaN}]'
check "NaN literal: line and column" grep -q 'line 1, column' <<<"$(jqr .detail)"
bad "trailing comma" 400 "" '[{"time":"2026-01-05T10:00:00Z","metric_type":"revenue","value":1},]'
bad "empty body" 400 "" ''
bad "wrong type (atomic)" 422 "?atomic=true" '[{"time":"2026-01-05T10:00:00Z","metric_type":"revenue","value":"1"}]'
eq "wrong type: index and field reported" "$(jqr '.errors[0] | "\(.index):\(.field)"')" "0:value"
bad "missing field (atomic)" 422 "?atomic=true" '[{"time":"2026-01-05T10:00:00Z","value":1}]'
eq "missing field: named" "$(jqr '.errors[0].field')" metric_type
bad "bad time (atomic)" 422 "?atomic=true" '[{"time":"2026-02-30T10:00:00Z","metric_type":"revenue","value":1}]'
bad "one bad of two (atomic)" 422 "?atomic=true" "[{\"time\":\"${D1}T10:00:00Z\",\"metric_type\":\"revenue\",\"value\":1},{\"time\":\"x\",\"metric_type\":\"revenue\",\"value\":1}]"
eq "one bad of two: index 1" "$(jqr '.errors[0].index')" 1
bad "unknown metric (atomic)" 422 "?atomic=true" '[{"time":"2026-01-05T10:00:00Z","metric_type":"nope","value":1}]'
check "unknown metric named" grep -q "'nope'" <<<"$(jqr '.errors[0].reason')"
bad "unknown member (atomic)" 422 "?atomic=true" '[{"time":"2026-01-05T10:00:00Z","metric_type":"revenue","value":1,"unit":"x"}]'
printf '%s' '[{"time":"2026-01-05T10:00:00Z","metric_type":"revenue","value":"1"}]' >"$TMPDIR_T/one_bad"
post application/json "" "$A" "$TMPDIR_T/one_bad"
eq "wrong type without atomic: 200, 0 accepted, 1 rejected" "$RES_STATUS/$(jqr .accepted)/$(jqr .rejected)" "200/0/1"
printf '[]' >"$TMPDIR_T/empty.json"
post "" "" "$A" "$TMPDIR_T/empty.json" -H 'Content-Type:'
eq "no Content-Type: read as JSON" "$RES_STATUS/$(jqr .accepted)" "200/0"
post "" "" "$A" "$TMPDIR_T/empty.json"
eq "curl's default form type: 415" "$RES_STATUS" 415
post text/plain "" "$A" "$TMPDIR_T/ok.csv"
eq "wrong content type: 415" "$RES_STATUS" 415
eq "wrong content type: problem+json" "$RES_CTYPE" "application/problem+json"
post "text/csv; charset=latin1" "" "$A" "$TMPDIR_T/ok.csv"
eq "latin1 charset: 415" "$RES_STATUS" 415
body badhdr.csv "time,metric,value\n${D1}T07:00:00Z,revenue,7\n"
post text/csv "" "$A" "$TMPDIR_T/badhdr.csv"
eq "csv unknown column: 400" "$RES_STATUS" 400
check "csv unknown column: named" grep -q "unknown column 'metric'" <<<"$(jqr .detail)"
eq "bad bodies: nothing written" "$(count_t "$A_ID")" "$before"
head -c $((17 * 1024 * 1024)) /dev/zero | tr '\0' ' ' >"$TMPDIR_T/huge"
post application/json "" "$A" "$TMPDIR_T/huge"
eq "huge body: 413" "$RES_STATUS" 413
post application/json "" "" "$TMPDIR_T/ok.csv"
eq "no key on write: 401" "$RES_STATUS" 401
eq "huge body, no key: nothing written" "$(count_t "$A_ID")" "$before"

# batch limit: TELOS_MAX_BATCH (default 100000) rows pass, one more is 413
awk -v d="$D1" 'BEGIN { print "time,metric_type,value"; for (i = 0; i < 100001; i++) printf "%sT%02d:%02d:%02dZ,revenue,%d\n", d, int(i / 3600) % 24, int(i / 60) % 60, i % 60, i }' >"$TMPDIR_T/over.csv"
post text/csv "" "$A" "$TMPDIR_T/over.csv"
eq "100001 rows: 413" "$RES_STATUS" 413
check "100001 rows: names the limit" grep -q '100000' <<<"$(jqr .detail)"
eq "100001 rows: nothing written" "$(count_t "$A_ID")" "$before"
head -n 100001 "$TMPDIR_T/over.csv" >"$TMPDIR_T/max.csv"
post text/csv "" "$A" "$TMPDIR_T/max.csv"
eq "100000 rows: 200, all accepted" "$RES_STATUS/$(jqr .accepted)" "200/100000"
eq "100000 rows: written" "$(count_t "$A_ID")" "$((before + 100000))"

# --- tenant isolation ------------------------------------------------------------
post application/json "" "$B" "$TMPDIR_T/a.json"
eq "B: A's metric 'cash' is unknown to B" "$(jqr '"\(.accepted)/\(.errors[0].index)"')" "2/2"
eq "B: only B's rows" "$(count_t "$B_ID")" 3
eq "A: B's rows invisible to A" "$(sql_t "$A_ID" "select count(*) from business_metrics_raw where tenant_id = '$B_ID'")" 0

# --- Idempotency-Key -----------------------------------------------------------------
KEY=ingest-test-$RANDOM$RANDOM
before=$(count_t "$A_ID")
post application/json "" "$A" "$TMPDIR_T/a.json" -H "Idempotency-Key: $KEY"
first=$RES_BODY
eq "idempotent: first 200" "$RES_STATUS" 200
check "idempotent: first not marked replayed" lacks '^idempotent-replayed' "$RES_HEADERS"
post application/json "" "$A" "$TMPDIR_T/a.json" -H "Idempotency-Key: $KEY"
eq "idempotent: retry 200" "$RES_STATUS" 200
check "idempotent: retry marked replayed" grep -q '^idempotent-replayed: true' <<<"$RES_HEADERS"
eq "idempotent: same response" "$(jq -S . <<<"$RES_BODY")" "$(jq -S . <<<"$first")"
eq "idempotent: written once" "$(count_t "$A_ID")" "$((before + 3))"
post application/json "" "$A" "$TMPDIR_T/exact.json" -H "Idempotency-Key: $KEY"
eq "idempotent: same key, other body: 422" "$RES_STATUS" 422
eq "idempotent: other body: nothing written" "$(count_t "$A_ID")" "$((before + 3))"
post application/json "?atomic=true" "$A" "$TMPDIR_T/a.json" -H "Idempotency-Key: $KEY"
eq "idempotent: same key, other options: 422" "$RES_STATUS" 422
post application/json "" "$B" "$TMPDIR_T/a.json" -H "Idempotency-Key: $KEY"
check "idempotent: keys are per tenant" lacks '^idempotent-replayed' "$RES_HEADERS"
eq "idempotent: B's own request ran" "$(count_t "$B_ID")" 5
post application/json "" "$A" "$TMPDIR_T/a.json" -H "Idempotency-Key: $(printf 'k%.0s' $(seq 1 256))"
eq "idempotent: key over 255 chars: 400" "$RES_STATUS" 400
post text/csv "?atomic=true" "$A" "$TMPDIR_T/rej.csv" -H "Idempotency-Key: $KEY-rejected"
post text/csv "?atomic=true" "$A" "$TMPDIR_T/rej.csv" -H "Idempotency-Key: $KEY-rejected"
check "idempotent: a failed request is not recorded (runs again)" lacks '^idempotent-replayed' "$RES_HEADERS"
eq "idempotent: key stored with the tenant" "$(sql_t "$A_ID" "select status || ':' || (response->>'accepted') from idempotency_keys where key = '$KEY'")" "200:3"
eq "idempotent: telos_app cannot see other tenants' keys" "$(psql_app -c "select count(*) from idempotency_keys")" 0

# concurrent requests with one key: one writes, the other waits and replays
awk -v d="$D2" 'BEGIN { print "time,metric_type,value"; for (i = 0; i < 50000; i++) printf "%sT%02d:%02d:%02dZ,cash,%d\n", d, int(i / 3600) % 24, int(i / 60) % 60, i % 60, i }' >"$TMPDIR_T/conc.csv"
before=$(count_t "$A_ID")
CKEY=conc-$RANDOM$RANDOM
for i in 1 2; do
  curl -s -D "$TMPDIR_T/ch$i" -o "$TMPDIR_T/cb$i" -X POST -H "Authorization: Bearer $A" \
    -H 'Content-Type: text/csv' -H "Idempotency-Key: $CKEY" --data-binary "@$TMPDIR_T/conc.csv" \
    "$BASE_URL/v1/metrics" &
done
wait
final_status() { grep '^HTTP/' "$1" | tail -1 | cut -d' ' -f2; }   # after 100 Continue
eq "concurrent: both 200" "$(final_status "$TMPDIR_T/ch1")/$(final_status "$TMPDIR_T/ch2")" "200/200"
eq "concurrent: exactly one replayed" "$(cat "$TMPDIR_T/ch1" "$TMPDIR_T/ch2" | grep -ci '^idempotent-replayed: true')" 1
eq "concurrent: same answer" "$(jq -S . "$TMPDIR_T/cb1")" "$(jq -S . "$TMPDIR_T/cb2")"
eq "concurrent: written once" "$(count_t "$A_ID")" "$((before + 50000))"

# across a restart: a server of our own, stopped and started again
start_own_server() {
  TELOS_PORT=0 "$TELOS" serve >"$TMPDIR_T/own.out" 2>"$TMPDIR_T/own.log" &
  OWN_PID=$!
  for _ in $(seq 1 100); do grep -q 'listening on' "$TMPDIR_T/own.out" 2>/dev/null && break; sleep 0.1; done
  OWN_URL=$(sed -n 's/^telos: listening on \(http:[^ ]*\)$/\1/p' "$TMPDIR_T/own.out")
}
SHARED_URL=$BASE_URL
start_own_server
BASE_URL=$OWN_URL
RKEY=restart-$RANDOM$RANDOM
before=$(count_t "$A_ID")
post application/x-ndjson "" "$A" "$TMPDIR_T/a.ndjson" -H "Idempotency-Key: $RKEY"
first=$RES_BODY
eq "restart: first request on server 1" "$RES_STATUS/$(jqr .accepted)" "200/3"
kill -TERM "$OWN_PID"; wait "$OWN_PID"
start_own_server
BASE_URL=$OWN_URL
post application/x-ndjson "" "$A" "$TMPDIR_T/a.ndjson" -H "Idempotency-Key: $RKEY"
eq "restart: retry on server 2 replayed" "$RES_STATUS/$(grep -c '^idempotent-replayed: true' <<<"$RES_HEADERS")" "200/1"
eq "restart: same response" "$(jq -S . <<<"$RES_BODY")" "$(jq -S . <<<"$first")"
eq "restart: written once" "$(count_t "$A_ID")" "$((before + 3))"
kill -TERM "$OWN_PID"; wait "$OWN_PID"
BASE_URL=$SHARED_URL

# --- chunks are made before the write (telos.ensure_chunks) ---------------------
body backfill.json "[{\"time\":\"2019-03-06T12:00:00Z\",\"metric_type\":\"cash\",\"value\":1},{\"time\":\"2031-07-01T00:00:00Z\",\"metric_type\":\"cash\",\"value\":2}]"
post application/json "" "$A" "$TMPDIR_T/backfill.json"
eq "backfill and future: accepted" "$(jqr .accepted)" 2
eq "backfill and future: in proper chunks, not the default partition" \
  "$(sql_t "$A_ID" "select string_agg(c.relname, ',' order by r.time) from business_metrics_raw r join pg_class c on c.oid = r.tableoid where r.time in ('2019-03-06T12:00:00Z', '2031-07-01T00:00:00Z')" | grep -c default)" 0
eq "backfill: no chunk for the years in between" \
  "$(psql_owner -c "select count(*) from telos.chunks where hypertable = 'business_metrics_raw'::regclass and ((range_start > '2019-04-01' and range_end < '2022-01-01') or (range_start > '2028-01-01' and range_end < '2031-06-01'))" 2>&1)" 0

# --- reading back: buckets through telos.metric_series --------------------------
new_tenant "Ingest C"
C_ID=$TENANT_ID C=$TENANT_KEY
req POST /v1/metric-definitions "$C" '{"metric_type":"revenue","aggregation":"sum"}'
body c.json "[{\"time\":\"${D3}T10:00:00Z\",\"metric_type\":\"revenue\",\"value\":10},
 {\"time\":\"${D3}T11:00:00Z\",\"metric_type\":\"revenue\",\"value\":20},
 {\"time\":\"${D2}T10:30:00Z\",\"metric_type\":\"revenue\",\"value\":30}]"
post application/json "" "$C" "$TMPDIR_T/c.json"
eq "C: 3 points" "$(jqr .accepted)" 3
Q="from=${D4}T00:00:00Z&to=${TODAY}T00:00:00Z"
req GET "/v1/metrics/revenue?$Q&bucket=auto" "$C"
eq "bucket=auto: 200" "$RES_STATUS" 200
eq "bucket=auto: names the width it chose (4 days: hour)" "$(jqr .bucket)" hour
eq "bucket=auto: all points counted" "$(jqr '[.points[].count] | add')" 3
eq "bucket=auto: sums add up" "$(jqr '[.points[].sum] | add')" 60
req GET "/v1/metrics/revenue?$Q&bucket=day" "$C"
eq "bucket=day: two days" "$(jqr '[.points[] | "\(.bucket[0:10])=\(.value)"] | join(",")')" "${D3}=30,${D2}=30"
req GET "/v1/metrics/revenue?$Q&bucket=hour" "$C"
eq "bucket=hour: three hours" "$(jqr '[.points[].value] | join(",")')" "10,20,30"
eq "bucket=hour: first/last/min/max" "$(jqr '.points[0] | "\(.first)/\(.last)/\(.min)/\(.max)/\(.count)"')" "10/10/10/10/1"
req GET "/v1/metrics/revenue?$Q&bucket=month" "$C"
eq "bucket=month: total" "$(jqr '[.points[].sum] | add')" 60
body c2.json "[{\"time\":\"${D2}T23:00:00Z\",\"metric_type\":\"revenue\",\"value\":5}]"
post application/json "" "$C" "$TMPDIR_T/c2.json"
req GET "/v1/metrics/revenue?$Q&bucket=day" "$C"
eq "bucket=day: a point ingested a moment ago is in the answer" "$(jqr '.points[-1].value')" 35
req GET "/v1/metrics/revenue?$Q&bucket=week" "$C"
eq "bucket=week: 400" "$RES_STATUS" 400
eq "bucket=week: field named" "$(jqr '.errors[0].field')" bucket
req GET "/v1/metrics/revenue?from=${D2}T00:00:00Z&to=${D3}T00:00:00Z&bucket=day" "$C"
eq "from after to: 400" "$RES_STATUS" 400
req GET "/v1/metrics/revenue?$Q" "$C"
eq "no bucket: raw points" "$(jqr '[.points[].value] | join(",")')" "10,20,30,5"
req GET "/v1/metrics/revenue?$Q&bucket=day" "$B"
eq "bucket=day: B sees only its own" "$(jqr '[.points[].count] | add')" 4

# --- hostile bodies never crash the server ---------------------------------------
statuses=""
for ct in application/json application/x-ndjson text/csv; do
  for n in 1 2 3 4 5; do
    head -c $((n * 997)) /dev/urandom >"$TMPDIR_T/noise"
    post "$ct" "" "$A" "$TMPDIR_T/noise"
    statuses+="$RES_STATUS "
    jq -e . >/dev/null 2>&1 <<<"$RES_BODY" || statuses+="(not JSON) "
  done
  { printf 'time,metric_type,value\n'; head -c 300000 /dev/zero; } >"$TMPDIR_T/nul"
  post "$ct" "" "$A" "$TMPDIR_T/nul"; statuses+="$RES_STATUS "
  awk 'BEGIN { for (i = 0; i < 200000; i++) printf "["; }' >"$TMPDIR_T/deep"
  post "$ct" "" "$A" "$TMPDIR_T/deep"; statuses+="$RES_STATUS "
  awk 'BEGIN { printf "\""; for (i = 0; i < 2000000; i++) printf "x"; }' >"$TMPDIR_T/long"
  post "$ct" "" "$A" "$TMPDIR_T/long"; statuses+="$RES_STATUS "
done
check "hostile bodies: only 200/400 answers, all JSON [$statuses]" grep -qE '^((200|400) )+$' <<<"$statuses"
req GET /healthz
eq "hostile bodies: server alive" "$RES_STATUS" 200

# --- telos ingest FILE ----------------------------------------------------------------
new_tenant "Ingest CLI"
L_ID=$TENANT_ID L=$TENANT_KEY
req POST /v1/metric-definitions "$L" '{"metric_type":"revenue","aggregation":"sum"}'
body cli.csv "time,metric_type,value\n${D1}T01:00:00Z,revenue,1\n${D1}T02:00:00Z,revenue,2\n${D1}T03:00:00Z,revenue,3\n${D1}T04:00:00Z,revenue,4\n${D1}T05:00:00Z,revenue,5\n"
out=$("$TELOS" ingest "$TMPDIR_T/cli.csv" --tenant "$L_ID" --batch 2 2>&1); rc=$?
eq "cli: exit 0" "$rc" 0
check "cli: summary" grep -q '5 rows ingested, 0 rejected' <<<"$out"
eq "cli: rows written in batches of 2" "$(count_t "$L_ID")" 5
body cli_bad.csv "time,metric_type,value\n${D1}T06:00:00Z,revenue,6\n${D1}T07:00:00Z,nope,7\n${D1}T08:00:00Z,revenue,x\n"
"$TELOS" ingest "$TMPDIR_T/cli_bad.csv" --tenant "$L_ID" --atomic >"$TMPDIR_T/cli.out" 2>"$TMPDIR_T/cli.err"; rc=$?
eq "cli --atomic with rejects: exit 1" "$rc" 1
eq "cli --atomic with rejects: nothing written" "$(count_t "$L_ID")" 5
"$TELOS" ingest "$TMPDIR_T/cli_bad.csv" --tenant "$L_ID" >"$TMPDIR_T/cli.out" 2>"$TMPDIR_T/cli.err"; rc=$?
eq "cli with rejects: exit 1" "$rc" 1
eq "cli with rejects: FILE:LINE: field: reason" "$(grep -c "^$TMPDIR_T/cli_bad.csv:[34]: " "$TMPDIR_T/cli.err")" 2
check "cli with rejects: reason" grep -q "cli_bad.csv:3: metric_type: unknown metric_type 'nope'" "$TMPDIR_T/cli.err"
eq "cli with rejects: valid rows written" "$(count_t "$L_ID")" 6
body cli.ndjson "{\"time\":\"${D1}T09:00:00Z\",\"metric_type\":\"revenue\",\"value\":9}\n"
"$TELOS" ingest "$TMPDIR_T/cli.ndjson" --tenant "$L_ID" --atomic >/dev/null 2>&1
eq "cli ndjson by extension, --atomic: written" "$(count_t "$L_ID")" 7
awk -v d="$D2" 'BEGIN { print "time,metric_type,value"; for (i = 0; i < 200000; i++) printf "%sT%02d:%02d:%02dZ,revenue,%d\n", d, int(i / 3600) % 24, int(i / 60) % 60, i % 60, i }' >"$TMPDIR_T/big.csv"
script -qec "$TELOS ingest $TMPDIR_T/big.csv --tenant $L_ID --batch 30000" /dev/null >"$TMPDIR_T/tty.out" 2>&1; rc=$?
eq "cli 200k rows on a terminal: exit 0" "$rc" 0
check "cli on a terminal: progress bar drawn" grep -q 'ingesting *\[#' "$TMPDIR_T/tty.out"
check "cli on a terminal: 100%" grep -q '100%' "$TMPDIR_T/tty.out"
eq "cli 200k rows: written" "$(count_t "$L_ID")" 200007
"$TELOS" ingest "$TMPDIR_T/cli.csv" --tenant "$L_ID" 2>"$TMPDIR_T/cli.err" >/dev/null
check "cli without a terminal: no progress bar" lacks '\[#' "$(cat "$TMPDIR_T/cli.err")"
"$TELOS" ingest "$TMPDIR_T/cli.csv" --tenant 00000000-0000-4000-8000-000000000000 >/dev/null 2>"$TMPDIR_T/cli.err"; rc=$?
eq "cli unknown tenant: exit 1" "$rc" 1
check "cli unknown tenant: said" grep -q 'no tenant' "$TMPDIR_T/cli.err"
"$TELOS" ingest "$TMPDIR_T/cli.csv" >/dev/null 2>&1; rc=$?
eq "cli without --tenant: exit 2" "$rc" 2
"$TELOS" ingest "$TMPDIR_T/nowhere.csv" --tenant "$L_ID" >/dev/null 2>&1; rc=$?
eq "cli missing file: exit 1" "$rc" 1
"$TELOS" ingest "$TMPDIR_T/a.json" --tenant "$L_ID" --format xml >/dev/null 2>&1; rc=$?
eq "cli unknown format: exit 2" "$rc" 2
printf 'time,metric_type,value\n%sT10:00:00Z,revenue,10\n' "$D1" | "$TELOS" ingest - --format csv --tenant "$L_ID" >/dev/null 2>&1; rc=$?
eq "cli from stdin: exit 0" "$rc" 0
