#!/usr/bin/env bash
# bench/run.sh -- the time-series benchmark (`make bench`). Not a test: it
# measures, side by side in one run on one throwaway cluster:
#   (a) COPY into a plain PostgreSQL table range-partitioned by week, every
#       partition made in advance, the same indexes (the stock baseline)
#   (b) COPY into the telos hypertable business_metrics_raw, chunks created
#       on demand (telos.ensure_chunks for the batch's range, then COPY)
#   (c) POST /v1/metrics (text/csv batches) with a few concurrent clients
# and reports rows/s and the ratios b/a, c/a; then latency p50/p99 of a
# year-long daily series via the rollups vs from raw, and the time of a
# rollup refresh after 1% of the rows changed vs a full recompute.
#
# Usage: bench/run.sh [--size small|medium|full]   (default small)
#   small  20 tenants x 20 metrics x 60 days hourly   (  576,000 rows)
#   medium 100 tenants x 20 metrics x 60 days hourly  (2,880,000 rows)
#   full   100 tenants x 20 metrics x 365 days hourly (17,520,000 rows)
# Results: bench/results/timeseries-<size>.json
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SIZE=small
[ "${1:-}" = "--size" ] && SIZE=${2:-small}
case "$SIZE" in
  tiny)   TENANTS=2;   DAYS=3 ;;
  small)  TENANTS=20;  DAYS=60 ;;
  medium) TENANTS=100; DAYS=60 ;;
  full)   TENANTS=100; DAYS=365 ;;
  *) echo "bench: unknown size $SIZE" >&2; exit 2 ;;
esac
METRICS=20
CLIENTS=${BENCH_CLIENTS:-4}
BATCH=${BENCH_BATCH:-50000}
TELOS="$ROOT/build/telos"
mkdir -p build bench/results
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o build/gen bench/gen.c -lm

free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  return 1
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", a / b }'; }

WORK=$(mktemp -d /tmp/telos-bench.XXXXXX)
chmod 755 "$WORK"
export TELOS_HOME="$WORK/home" TELOS_PG_PORT TELOS_MAX_BATCH=$BATCH TELOS_THREADS=$CLIENTS
mkdir -p "$TELOS_HOME" && chmod 755 "$TELOS_HOME"
TELOS_PG_PORT=$(free_port)
SERVER_PID=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill -TERM "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null
  "$TELOS" db stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

sql()    { "$TELOS" db psql --role admin -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
sql_as() { local r=$1; shift; "$TELOS" db psql --role "$r" -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

echo "bench: size $SIZE ($TENANTS tenants x $METRICS metrics x $DAYS days hourly), cluster port $TELOS_PG_PORT"
"$TELOS" setup >"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log"; exit 1; }
# The scheduler would refresh rollups while we measure; pause it.
sql -c "ALTER SYSTEM SET telos.scheduler_enabled = off" -c "SELECT pg_reload_conf()" >/dev/null 2>&1 || true

END=$(( $(date +%s) / 3600 * 3600 ))
build/gen --tenants "$TENANTS" --metrics "$METRICS" --days "$DAYS" --end "$END" >"$WORK/all.csv"
ROWS=$(wc -l <"$WORK/all.csv")
FROM=$(date -u -d "@$((END - DAYS * 86400))" +%Y-%m-%dT%H:%M:%SZ)
TO=$(date -u -d "@$END" +%Y-%m-%dT%H:%M:%SZ)
echo "bench: $ROWS rows from $FROM to $TO"

# --- (a) baseline: plain weekly-partitioned table, partitions in advance ---
sql <<SQL >/dev/null
CREATE TABLE bench_plain (
    tenant_id uuid NOT NULL, time timestamptz NOT NULL, metric_type text NOT NULL,
    value double precision NOT NULL, source uuid, ingested_at timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (time);
DO \$\$
DECLARE w timestamptz := date_trunc('week', '$FROM'::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC';
BEGIN
    WHILE w <= '$TO'::timestamptz LOOP
        EXECUTE format('CREATE TABLE %I PARTITION OF bench_plain FOR VALUES FROM (%L) TO (%L)',
                       'bench_plain_' || to_char(w AT TIME ZONE 'UTC', 'YYYYMMDD'), w, w + interval '7 days');
        w := w + interval '7 days';
    END LOOP;
END
\$\$;
CREATE INDEX ON bench_plain (tenant_id, metric_type, time DESC);
CREATE INDEX ON bench_plain USING gist (time);
SQL
t0=$(now)
sql -c "\\copy bench_plain (tenant_id, time, metric_type, value) FROM '$WORK/all.csv' WITH (FORMAT csv)"
t1=$(now)
A_S=$(secs "$t0" "$t1"); A_RATE=$(rate "$ROWS" "$A_S")
echo "bench: (a) plain partitioned COPY: $A_S s, $A_RATE rows/s"
sql -c "DROP TABLE bench_plain" >/dev/null

# --- (b) the telos hypertable, chunks on demand ------------------------------
HAS_ENSURE=$(sql -c "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE nspname = 'telos' AND proname = 'ensure_chunks'")
t0=$(now)
[ "$HAS_ENSURE" != 0 ] && sql -c "SELECT telos.ensure_chunks('business_metrics_raw', '$FROM', '$TO')" >/dev/null
sql -c "\\copy business_metrics_raw (tenant_id, time, metric_type, value) FROM '$WORK/all.csv' WITH (FORMAT csv)"
t1=$(now)
B_S=$(secs "$t0" "$t1"); B_RATE=$(rate "$ROWS" "$B_S")
echo "bench: (b) telos hypertable COPY: $B_S s, $B_RATE rows/s (ratio b/a $(ratio "$B_RATE" "$A_RATE"))"
sql -c "TRUNCATE business_metrics_raw" >/dev/null
sql -c "DELETE FROM telos.invalidation" >/dev/null 2>&1 || true

# --- (c) POST /v1/metrics, CSV batches, concurrent clients -------------------
TELOS_PORT=0 "$TELOS" serve >"$WORK/serve.out" 2>"$WORK/serve.log" &
SERVER_PID=$!
for _ in $(seq 1 100); do grep -q 'listening on' "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
BASE_URL=$(sed -n 's/^telos: listening on \(http:[^ ]*\)$/\1/p' "$WORK/serve.out")
mkdir -p "$WORK/batches"
build/gen --metric-names >"$WORK/metrics.txt"
FIRST_TENANT=""
for k in $(seq 0 $((TENANTS - 1))); do
  out=$("$TELOS" tenant create "bench-$k" --json)
  id=$(jq -r .tenant_id <<<"$out"); key=$(jq -r .api_key <<<"$out")
  [ -z "$FIRST_TENANT" ] && FIRST_TENANT=$id
  while read -r name agg; do
    curl -sf -o /dev/null -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
      --data "{\"metric_type\":\"$name\",\"aggregation\":\"$agg\"}" "$BASE_URL/v1/metric-definitions"
  done <"$WORK/metrics.txt"
  build/gen --tenants "$TENANTS" --metrics "$METRICS" --days "$DAYS" --end "$END" --tenant "$k" \
    | tail -n +2 | split -l "$BATCH" -d -a 4 - "$WORK/batches/t$k-"
  for f in "$WORK/batches/t$k-"*; do
    { echo "time,metric_type,value"; cat "$f"; } >"$f.csv" && rm "$f"
    echo "$key $f.csv" >>"$WORK/jobs.txt"
  done
done
post() {  # post KEY FILE -> prints the accepted count
  curl -s -H "Authorization: Bearer $1" -H 'Content-Type: text/csv' --data-binary "@$2" \
    "$BASE_URL/v1/metrics" | jq -r '.accepted // 0'
}
export -f post
export BASE_URL
t0=$(now)
ACCEPTED=$(xargs -P "$CLIENTS" -L 1 bash -c 'post "$0" "$1"' <"$WORK/jobs.txt" | awk '{ s += $1 } END { print s + 0 }')
t1=$(now)
C_S=$(secs "$t0" "$t1"); C_RATE=$(rate "$ROWS" "$C_S")
echo "bench: (c) POST /v1/metrics x$CLIENTS clients: $C_S s, $C_RATE rows/s, $ACCEPTED accepted (ratio c/a $(ratio "$C_RATE" "$A_RATE"))"
[ "$ACCEPTED" -eq "$ROWS" ] || echo "bench: WARNING: accepted $ACCEPTED of $ROWS rows"

# --- latency: daily series over the whole range, rollups vs raw --------------
lat() {  # lat NAME SQL -> "p50 p99" in ms over 200 runs, as telos_app
  local f="$WORK/$1.sql"
  printf 'BEGIN;\nSELECT set_config(%s, %s, true);\n%s;\nCOMMIT;\n' \
    "'app.current_tenant_id'" "'$FIRST_TENANT'" "$2" >"$f"
  (cd "$WORK" && /usr/lib/postgresql/15/bin/pgbench -n -t 200 -c 1 -l --log-prefix="log_$1" \
     -h "$TELOS_HOME/pg" -p "$TELOS_PG_PORT" -U telos_app -f "$f" telos >/dev/null 2>&1)
  cat "$WORK/log_$1".* | awk '{ print $3 / 1000.0 }' | sort -n |
    awk '{ v[NR] = $1 } END { printf "%.3f %.3f\n", v[int(NR * 0.5 + 0.5)], v[int(NR * 0.99 + 0.5)] }'
}
HAS_SERIES=$(sql -c "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE nspname = 'telos' AND proname IN ('metric_series', 'refresh_rollups')")
ROLLUP_P50=null ROLLUP_P99=null RAW_P50=null RAW_P99=null REFRESH_1PCT=null REFRESH_FULL=null
if [ "$HAS_SERIES" = 2 ]; then
  sql_as telos_worker -c "SELECT telos.refresh_rollups('business_metrics_raw')" >/dev/null
  read -r ROLLUP_P50 ROLLUP_P99 < <(lat rollup "SELECT count(*) FROM telos.metric_series('$FIRST_TENANT', 'revenue', '$FROM', '$TO', 'day')")
  read -r RAW_P50 RAW_P99 < <(lat raw "SELECT count(*) FROM (SELECT date_trunc('day', time, 'UTC'), count(*), sum(value), min(value), max(value) FROM business_metrics_raw WHERE tenant_id = '$FIRST_TENANT' AND metric_type = 'revenue' AND time >= '$FROM' AND time < '$TO' GROUP BY 1) s")
  echo "bench: daily series of one metric over $DAYS days: rollups p50 $ROLLUP_P50 ms p99 $ROLLUP_P99 ms; raw p50 $RAW_P50 ms p99 $RAW_P99 ms"

  # refresh after 1% of the rows changed vs a full recompute
  sql_as telos_worker -c "UPDATE business_metrics_raw SET value = value * 1.01 WHERE abs(hashtext(tenant_id::text || metric_type || time::text)) % 100 = 0" >/dev/null
  t0=$(now); sql_as telos_worker -c "SELECT telos.refresh_rollups('business_metrics_raw')" >/dev/null; t1=$(now)
  REFRESH_1PCT=$(secs "$t0" "$t1")
  sql -c "TRUNCATE business_metrics_aggregated" >/dev/null
  sql_as telos_worker -c "SELECT telos.invalidate_rollups('business_metrics_raw')" >/dev/null
  t0=$(now); sql_as telos_worker -c "SELECT telos.refresh_rollups('business_metrics_raw')" >/dev/null; t1=$(now)
  REFRESH_FULL=$(secs "$t0" "$t1")
  echo "bench: refresh after 1% changed: $REFRESH_1PCT s; full recompute: $REFRESH_FULL s"
else
  echo "bench: telos.metric_series/refresh_rollups not installed: latency and refresh skipped"
fi

OUT="bench/results/timeseries-$SIZE.json"
jq -n --arg size "$SIZE" --argjson tenants "$TENANTS" --argjson metrics "$METRICS" \
  --argjson days "$DAYS" --argjson rows "$ROWS" --argjson clients "$CLIENTS" --argjson batch "$BATCH" --argjson accepted "$ACCEPTED" \
  --argjson a "$A_RATE" --argjson b "$B_RATE" --argjson c "$C_RATE" \
  --argjson sa "$A_S" --argjson sb "$B_S" --argjson sc "$C_S" \
  --argjson rp50 "$ROLLUP_P50" --argjson rp99 "$ROLLUP_P99" \
  --argjson wp50 "$RAW_P50" --argjson wp99 "$RAW_P99" \
  --argjson r1 "$REFRESH_1PCT" --argjson rf "$REFRESH_FULL" \
  --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg commit "$(git rev-parse --short HEAD 2>/dev/null || echo none)" \
  --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" --argjson cores "$(nproc)" \
  '{benchmark: "timeseries", date: $date, commit: $commit, machine: {cpu: $cpu, cores: $cores},
    size: {name: $size, tenants: $tenants, metrics: $metrics, days: $days, rows: $rows},
    ingest_rows_per_s: {a_plain_partitioned_copy: $a, b_hypertable_copy: $b, c_api_post_csv: $c},
    ingest_seconds: {a: $sa, b: $sb, c: $sc}, api: {clients: $clients, batch_rows: $batch, accepted_rows: $accepted},
    ratios: {b_over_a: ($b / $a), c_over_a: ($c / $a)},
    daily_series_latency_ms: {rollups: {p50: $rp50, p99: $rp99}, raw: {p50: $wp50, p99: $wp99}},
    refresh_seconds: {after_1pct_change: $r1, full_recompute: $rf}}' >"$OUT"
echo "bench: results in $OUT"
cat "$OUT"
