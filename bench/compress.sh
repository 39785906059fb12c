#!/usr/bin/env bash
# bench/compress.sh -- the chunk compression benchmark (`make bench`). Not a
# test: it measures, in one run on one throwaway cluster and on the data of
# bench/gen.c (hourly KPI readings, values printed with 4 decimals):
#   - compression ratio: every chunk of business_metrics_raw as a heap
#     (table + TOAST + its indexes) versus everything its compressed form
#     stores (segment table + TOAST + index), in total and per column;
#   - compress and decompress throughput (rows/s);
#   - query latency p50/p99 as telos_app under RLS, on heap chunks (the
#     baseline) and on compressed chunks: (1) one tenant+metric over 7 days,
#     (2) a daily series of one tenant+metric over 3 months (from raw rows);
#   - an archived chunk's file size (the cold tier) versus its heap.
# The same rows are checked to come back (count, sum) after each step.
#
# Usage: bench/compress.sh [--size tiny|small|full]   (default small)
#   tiny    2 tenants x 20 metrics x  28 days hourly (    26,880 rows)
#   small  10 tenants x 20 metrics x  91 days hourly (   436,800 rows)
#   full   40 tenants x 20 metrics x 182 days hourly ( 3,494,400 rows)
#   (full is the dataset TimescaleDB's 17.5x / 1.4M rows/s was measured on)
# Results: bench/results/compress-<size>.json
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SIZE=small
[ "${1:-}" = "--size" ] && SIZE=${2:-small}
case "$SIZE" in
  tiny)  TENANTS=2;  DAYS=28 ;;
  small|medium) TENANTS=10; DAYS=91 ;;
  full)  TENANTS=40; DAYS=182 ;;
  *) echo "bench: unknown size $SIZE" >&2; exit 2 ;;
esac
METRICS=20
RUNS=${BENCH_RUNS:-200}
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
export TELOS_HOME="$WORK/home" TELOS_PG_PORT
mkdir -p "$TELOS_HOME" && chmod 755 "$TELOS_HOME"
TELOS_PG_PORT=$(free_port)
cleanup() {
  if [ -n "${BENCH_KEEP:-}" ]; then   # leave the cluster running, for inspection
    echo "bench: kept TELOS_HOME=$TELOS_HOME TELOS_PG_PORT=$TELOS_PG_PORT"
    return
  fi
  "$TELOS" db stop >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

sql() { "$TELOS" db psql --role admin -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

echo "bench: compression, size $SIZE ($TENANTS tenants x $METRICS metrics x $DAYS days hourly), port $TELOS_PG_PORT"
"$TELOS" setup >"$WORK/setup.log" 2>&1 || { cat "$WORK/setup.log"; exit 1; }
# No background job may compress, archive or refresh while we measure.
sql -c "ALTER SYSTEM SET telos.scheduler_enabled = off" -c "SELECT pg_reload_conf()" >/dev/null

# Whole weeks only, so every chunk is full and the ratio is not diluted by
# a half-empty first or last chunk: the data ends on a Monday 00:00 UTC.
MONDAY=$(( ( $(date +%s) / 86400 - 4 ) / 7 * 7 + 4 ))   # day number of the last Monday (1970-01-05 was one)
END=$(( MONDAY * 86400 ))
DAYS=$(( DAYS / 7 * 7 ))
build/gen --tenants "$TENANTS" --metrics "$METRICS" --days "$DAYS" --end "$END" >"$WORK/all.csv"
ROWS=$(wc -l <"$WORK/all.csv")
FROM=$(date -u -d "@$((END - DAYS * 86400))" +%Y-%m-%dT%H:%M:%SZ)
TO=$(date -u -d "@$END" +%Y-%m-%dT%H:%M:%SZ)
echo "bench: $ROWS rows from $FROM to $TO"
sql -c "SELECT telos.ensure_chunks('business_metrics_raw', '$FROM', '$TO')" >/dev/null
sql -c "\\copy business_metrics_raw (tenant_id, time, metric_type, value) FROM '$WORK/all.csv' WITH (FORMAT csv)"
# A week-old chunk has long been written out: checkpoint, so compression
# is not charged for writing the pages the load just dirtied.
sql -c "VACUUM ANALYZE business_metrics_raw" -c "CHECKPOINT" >/dev/null
CHUNKS="SELECT relid FROM telos.chunk WHERE hypertable = 'business_metrics_raw'::regclass AND relid IS NOT NULL AND range_start >= '$FROM' AND range_end <= '$TO' ORDER BY range_start"
NCHUNKS=$(sql -c "SELECT count(*) FROM ($CHUNKS) c")
# Same rows before and after: count, exact sum, and a sum of per-row hashes
# over every column (a float sum would depend on the order of the rows).
CHECK="SELECT count(*) || ' ' || sum(value::numeric) || ' ' || sum(hashtextextended(concat_ws('|', tenant_id, time, metric_type, value, source, ingested_at), 0)::numeric) FROM business_metrics_raw"
BEFORE=$(sql -c "$CHECK")

# Per-column bytes on the heap: what each column's values occupy in the rows
# (pg_column_size), plus the part of the heap that is not column data (tuple
# headers, line pointers, free space, TOAST) and the indexes.
read -r H_TABLE H_INDEX < <(sql -F ' ' -c "SELECT sum(pg_table_size(relid)), sum(pg_indexes_size(relid)) FROM ($CHUNKS) c")
HEAP_COLS=$(sql -c "SELECT json_build_object('tenant_id', sum(pg_column_size(tenant_id)), 'time', sum(pg_column_size(time)), 'metric_type', sum(pg_column_size(metric_type)), 'value', sum(pg_column_size(value)), 'source', coalesce(sum(pg_column_size(source)), 0), 'ingested_at', sum(pg_column_size(ingested_at))) FROM business_metrics_raw")
HEAP_TOTAL=$((H_TABLE + H_INDEX))
echo "bench: heap chunks: $H_TABLE bytes table + $H_INDEX bytes indexes = $HEAP_TOTAL"

# --- latency: as telos_app under RLS, random tenant per run -------------------
# Timed inside the server (plan + execution of each statement, clock_timestamp
# around EXECUTE in a PL/pgSQL loop): a client-side timer on this shared
# 2-core machine measured mostly the scheduler. Tenants cycle through all.
MID=$(date -u -d "@$((END - DAYS * 86400 / 2))" +%Y-%m-%dT%H:%M:%SZ)
lat() {  # lat NAME SQL -> "p50 p99" in ms over $RUNS runs
  local f="$WORK/$1.sql"
  cat >"$f" <<SQL
CREATE FUNCTION pg_temp.lat(q text, n int) RETURNS text LANGUAGE plpgsql AS \$f\$
DECLARE t0 timestamptz; d float8[] := '{}'; r record;
BEGIN
  FOR i IN 1..n LOOP
    PERFORM set_config('app.current_tenant_id',
                       '00000000-0000-4000-8000-' || lpad((1 + i % $TENANTS)::text, 12, '0'), true);
    t0 := clock_timestamp();
    EXECUTE q INTO r;
    d := d || extract(epoch FROM clock_timestamp() - t0) * 1000;
  END LOOP;
  RETURN (SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY x)::numeric, 3) || ' ' ||
                 round(percentile_cont(0.99) WITHIN GROUP (ORDER BY x)::numeric, 3) FROM unnest(d) x);
END \$f\$;
SELECT pg_temp.lat(\$q\$$2\$q\$, $RUNS);
SQL
  "$TELOS" db psql --role telos_app -X -q -A -t -v ON_ERROR_STOP=1 -f "$f"
}
TENANT_EXPR="current_setting('app.current_tenant_id')::uuid"
Q_WEEK="SELECT count(*), sum(value) FROM business_metrics_raw WHERE tenant_id = $TENANT_EXPR AND metric_type = 'revenue' AND time >= '$MID'::timestamptz AND time < '$MID'::timestamptz + interval '7 days'"
Q_DAILY="SELECT count(*) FROM (SELECT date_trunc('day', time, 'UTC'), sum(value), min(value), max(value) FROM business_metrics_raw WHERE tenant_id = $TENANT_EXPR AND metric_type = 'revenue' AND time >= '$TO'::timestamptz - interval '91 days' AND time < '$TO' GROUP BY 1) s"
read -r HW50 HW99 < <(lat heap_week "$Q_WEEK")
read -r HD50 HD99 < <(lat heap_daily "$Q_DAILY")
echo "bench: heap: 7-day tenant+metric p50 $HW50 ms p99 $HW99 ms; 3-month daily series p50 $HD50 ms p99 $HD99 ms"

# --- compress every chunk ----------------------------------------------------
t0=$(now)
sql -c "SELECT count(telos.compress_chunk(relid)) FROM ($CHUNKS) c" >/dev/null
t1=$(now)
C_S=$(secs "$t0" "$t1"); C_RATE=$(rate "$ROWS" "$C_S")
sql -c "ANALYZE business_metrics_raw" >/dev/null   # VACUUM skips foreign partitions (with a warning each)
AFTER=$(sql -c "$CHECK")
[ "$AFTER" = "$BEFORE" ] || { echo "bench: rows differ after compression: $BEFORE vs $AFTER" >&2; exit 1; }
STORED=$(sql -c "SELECT sum(stored_bytes) FROM telos.compressed_chunk cc JOIN telos.chunk c ON c.id = cc.chunk_id WHERE c.hypertable = 'business_metrics_raw'::regclass")
SEGS="SELECT segments FROM telos.compressed_chunk cc JOIN telos.chunk c ON c.id = cc.chunk_id WHERE c.hypertable = 'business_metrics_raw'::regclass"
# Per-column compressed bytes: the column's blobs as stored (pg_column_size
# of each bytea, after TOAST's own compression if it applied).
COMP_COLS=$(sql -c "
  DO \$\$
  DECLARE r record; acc jsonb := '{}'; part jsonb;
  BEGIN
    FOR r IN $SEGS LOOP
      EXECUTE format('SELECT jsonb_build_object(''time'', sum(pg_column_size(time)), ''value'', sum(pg_column_size(value)), ''source'', coalesce(sum(pg_column_size(source)), 0), ''ingested_at'', sum(pg_column_size(ingested_at)), ''tenant_id'', sum(pg_column_size(tenant_id)), ''metric_type'', sum(pg_column_size(metric_type)), ''segment_meta'', sum(pg_column_size(_telos_count) + pg_column_size(_telos_min_time) + pg_column_size(_telos_max_time) + coalesce(pg_column_size(_telos_sum), 0) + coalesce(pg_column_size(_telos_min), 0) + coalesce(pg_column_size(_telos_max), 0))) FROM %s', r.segments) INTO part;
      SELECT jsonb_object_agg(k, coalesce((acc ->> k)::bigint, 0) + coalesce((part ->> k)::bigint, 0)) INTO acc
        FROM jsonb_object_keys(part) k;
    END LOOP;
    PERFORM set_config('bench.cols', acc::text, false);
  END \$\$;
  SELECT current_setting('bench.cols')" | tail -1)
TOTAL_RATIO=$(ratio "$HEAP_TOTAL" "$STORED")
echo "bench: compressed $ROWS rows in $NCHUNKS chunks: $C_S s, $C_RATE rows/s; $HEAP_TOTAL -> $STORED bytes, ratio $TOTAL_RATIO"
echo "bench: column bytes heap $HEAP_COLS"
echo "bench: column bytes compressed $COMP_COLS"

read -r CW50 CW99 < <(lat comp_week "$Q_WEEK")
read -r CD50 CD99 < <(lat comp_daily "$Q_DAILY")
echo "bench: compressed: 7-day tenant+metric p50 $CW50 ms p99 $CW99 ms; 3-month daily series p50 $CD50 ms p99 $CD99 ms"

# --- archive one chunk (the cold tier), then restore it -------------------------
ONE=$(sql -c "$CHUNKS LIMIT 1")
ARCH_BYTES=null
if sql -c "SELECT telos.archive_chunk('$ONE')" >/dev/null 2>"$WORK/archive.err"; then
  ARCH_BYTES=$(sql -c "SELECT file_bytes FROM telos.compressed_chunk cc JOIN telos.chunk c ON c.id = cc.chunk_id WHERE c.range_start = (SELECT range_start FROM telos.chunk WHERE relid IS NOT NULL AND hypertable = 'business_metrics_raw'::regclass AND range_start >= '$FROM' ORDER BY range_start LIMIT 1) AND c.hypertable = 'business_metrics_raw'::regclass")
  [ "$(sql -c "$CHECK")" = "$BEFORE" ] || { echo "bench: rows differ with an archived chunk" >&2; exit 1; }
  ONE=$(sql -c "SELECT relid FROM telos.chunk WHERE hypertable = 'business_metrics_raw'::regclass AND state = 'archived' LIMIT 1")
  sql -c "SELECT telos.restore_chunk('$ONE')" >/dev/null
  echo "bench: one archived chunk: $ARCH_BYTES bytes on file"
else
  echo "bench: archive_chunk failed: $(cat "$WORK/archive.err")"
fi

# --- decompress every chunk ----------------------------------------------------
t0=$(now)
sql -c "SELECT count(telos.decompress_chunk(c.relid)) FROM telos.chunk c WHERE c.hypertable = 'business_metrics_raw'::regclass AND c.state = 'compressed'" >/dev/null
t1=$(now)
D_S=$(secs "$t0" "$t1"); D_RATE=$(rate "$ROWS" "$D_S")
AFTER=$(sql -c "$CHECK")
[ "$AFTER" = "$BEFORE" ] || { echo "bench: rows differ after decompression: $BEFORE vs $AFTER" >&2; exit 1; }
echo "bench: decompressed: $D_S s, $D_RATE rows/s"

OUT="bench/results/compress-$SIZE.json"
jq -n --arg size "$SIZE" --argjson tenants "$TENANTS" --argjson metrics "$METRICS" \
  --argjson days "$DAYS" --argjson rows "$ROWS" --argjson chunks "$NCHUNKS" \
  --argjson htable "$H_TABLE" --argjson hindex "$H_INDEX" --argjson stored "$STORED" \
  --argjson hcols "$HEAP_COLS" --argjson ccols "$COMP_COLS" \
  --argjson cs "$C_S" --argjson cr "$C_RATE" --argjson ds "$D_S" --argjson dr "$D_RATE" \
  --argjson hw50 "$HW50" --argjson hw99 "$HW99" --argjson hd50 "$HD50" --argjson hd99 "$HD99" \
  --argjson cw50 "$CW50" --argjson cw99 "$CW99" --argjson cd50 "$CD50" --argjson cd99 "$CD99" \
  --argjson arch "$ARCH_BYTES" --argjson runs "$RUNS" \
  --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg commit "$(git rev-parse --short HEAD 2>/dev/null || echo none)" \
  --arg cpu "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')" --argjson cores "$(nproc)" \
  '{benchmark: "compress", date: $date, commit: $commit, machine: {cpu: $cpu, cores: $cores},
    size: {name: $size, tenants: $tenants, metrics: $metrics, days: $days, rows: $rows, chunks: $chunks},
    bytes: {heap_table: $htable, heap_indexes: $hindex, heap_total: ($htable + $hindex), compressed_total: $stored,
            bytes_per_row_heap: (($htable + $hindex) / $rows), bytes_per_row_compressed: ($stored / $rows)},
    ratio_total: (($htable + $hindex) / $stored),
    columns: {heap: $hcols, compressed: $ccols,
              ratio: ($hcols | with_entries(.value = (if ($ccols[.key] // 0) > 0 then .value / $ccols[.key] else null end)))},
    throughput_rows_per_s: {compress: $cr, decompress: $dr}, seconds: {compress: $cs, decompress: $ds},
    latency_ms: {runs: $runs,
      week_one_tenant_metric: {heap: {p50: $hw50, p99: $hw99}, compressed: {p50: $cw50, p99: $cw99}, compressed_over_heap_p50: ($cw50 / $hw50)},
      daily_series_3_months: {heap: {p50: $hd50, p99: $hd99}, compressed: {p50: $cd50, p99: $cd99}, compressed_over_heap_p50: ($cd50 / $hd50)}},
    archive: {one_chunk_file_bytes: $arch}}' >"$OUT"
echo "bench: results in $OUT"
cat "$OUT"
