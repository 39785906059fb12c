#!/usr/bin/env bash
# bench/vector.sh -- the vector search benchmark (telos_vector's ivfflat).
# Not a test: it measures, in one run on one throwaway PostgreSQL instance,
# on the deterministic embeddings of bench/vecgen.c (L2-normalised, from a
# clustered distribution, rows over 100 tenants of skewed sizes, tenants
# independent of the vectors) with exact ground truth computed by vecgen:
#   - exact scan latency (sequential scan + top-k sort, no index): the
#     baseline;
#   - ivfflat build time and size (lists = rows / 1000, the default;
#     storage as BENCH_STORAGE says);
#   - recall@10, queries/s and latency for probes 1, 4, 10, 20, 40 without
#     a filter;
#   - the same for tenant-filtered queries as an application role subject
#     to row-level security (the seed's policy on app.current_tenant_id,
#     no WHERE clause), for a small, a medium and a large tenant, with how
#     many rows came back and which plan the planner chose.
# One client, one query at a time, planned per query (EXECUTE with the
# query vector as a parameter, as PQexecParams does).
#
# Usage: bench/vector.sh [--size tiny|small|full]   (default small)
#   tiny     5,000 x  128,  100 queries (a smoke run, seconds)
#   small   20,000 x 1536,  200 queries
#   full   100,000 x 1536, 1000 queries (the issue's benchmark; ~20 min)
# Environment: PG_CONFIG, BENCH_PORT (default: a free port), BENCH_KEEP=1
# keeps the instance's directory, BENCH_STORAGE=auto|full|half the index's
# storage option (default auto: half precision at 1536 dimensions).
# Results: bench/results/vector-<size>.json
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
SIZE=small
[ "${1:-}" = "--size" ] && SIZE=${2:-small}
case "$SIZE" in
  tiny)  ROWS=5000;   DIM=128;  QUERIES=100;  EXACT_QUERIES=20 ;;
  small|medium) ROWS=20000;  DIM=1536; QUERIES=200;  EXACT_QUERIES=20 ;;
  full)  ROWS=100000; DIM=1536; QUERIES=1000; EXACT_QUERIES=20 ;;
  *) echo "bench: unknown size $SIZE" >&2; exit 2 ;;
esac
PROBES="1 4 10 20 40"
# tenants of bench/vecgen.c: 1 is the largest (~15% of the rows), 100 the
# smallest (~0.2%)
SMALL=100; MEDIUM=10; LARGE=1
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
BINDIR=$("$PG_CONFIG" --bindir)

mkdir -p build bench/results
cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -o build/vecgen bench/vecgen.c -lm
VG_OPTS="--rows $ROWS --dim $DIM --queries $QUERIES"
vecgen() { local mode=$1; shift; "$ROOT/build/vecgen" "$mode" $VG_OPTS "$@"; }

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

PORT=${BENCH_PORT:-$(free_port)}
WORK=$(mktemp -d /tmp/telos-vbench.XXXXXX)
chmod 755 "$WORK"
RUN=()
if [ "$(id -u)" -eq 0 ]; then chown postgres:postgres "$WORK"; RUN=(runuser -u postgres --); fi
DATA=$WORK/data
cleanup() {
  "${RUN[@]}" "$BINDIR/pg_ctl" -D "$DATA" stop -m immediate >/dev/null 2>&1 || true
  if [ "${BENCH_KEEP:-0}" = 1 ]; then echo "bench: kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
psql_as() { local role=$1; shift; "${RUN[@]}" "$BINDIR/psql" -h "$WORK" -p "$PORT" -U "$role" -d bench -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
sql() { psql_as postgres "$@"; }

echo "bench vector: $SIZE ($ROWS x $DIM, $QUERIES queries), instance on port $PORT"
"${RUN[@]}" "$BINDIR/initdb" -D "$DATA" -U postgres --no-locale -E UTF8 -A trust >"$WORK/initdb.log"
cat >>"$DATA/postgresql.conf" <<EOF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$WORK'
shared_buffers = 2GB
maintenance_work_mem = 1GB
work_mem = 64MB
max_wal_size = 8GB
fsync = off
synchronous_commit = off
jit = off
max_parallel_workers_per_gather = 0
max_parallel_maintenance_workers = 0
EOF
"${RUN[@]}" "$BINDIR/pg_ctl" -D "$DATA" -l "$WORK/server.log" -w start >/dev/null
"${RUN[@]}" "$BINDIR/createdb" -h "$WORK" -p "$PORT" -U postgres bench

# The seed's coaching_sessions, reduced to what the search touches: tenant
# first, the (tenant_id, user_id, started_at DESC) btree, RLS forced with
# the seed's policy, an application role that owns nothing.
sql <<EOF
CREATE EXTENSION telos_vector;
CREATE ROLE bench_app LOGIN NOSUPERUSER NOBYPASSRLS;
CREATE TABLE sessions (
    tenant_id  uuid NOT NULL,
    id         int NOT NULL,
    user_id    uuid NOT NULL DEFAULT '00000000-0000-4000-8000-000000000000',
    started_at timestamptz NOT NULL DEFAULT '2025-01-01',
    embedding  vector($DIM),
    PRIMARY KEY (tenant_id, id)
);
CREATE INDEX sessions_user ON sessions (tenant_id, user_id, started_at DESC);
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sessions
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
GRANT SELECT ON sessions TO bench_app;
CREATE TABLE bench_tenants (t int PRIMARY KEY, id uuid, n int);
CREATE TABLE bench_queries (qid int PRIMARY KEY, q vector($DIM));
CREATE TABLE bench_truth (qid int, tenant int, ids int[], PRIMARY KEY (qid, tenant));
GRANT SELECT ON bench_tenants, bench_queries, bench_truth TO bench_app;

-- run(probes, tenant, n): the first n queries, one at a time; tenant 0 =
-- no filter (call as the owner: a superuser is not subject to RLS), else
-- the policy picks the tenant (call as bench_app). Recall against vecgen's
-- exact answers, latency per query, rows returned.
CREATE FUNCTION run(p int, tenant int, n int, exact boolean DEFAULT false)
  RETURNS TABLE (recall float8, qps float8, p50_ms float8, p95_ms float8,
                 rows_avg float8, rows_min int)
  LANGUAGE plpgsql AS \$\$
DECLARE
  r record;
  t0 timestamptz;
  got int[];
  ms float8[] := '{}';
  rec float8[] := '{}';
  nr int[] := '{}';
BEGIN
  PERFORM set_config('ivfflat.probes', p::text, true);
  IF exact THEN PERFORM set_config('enable_indexscan', 'off', true); END IF;
  IF tenant > 0 THEN
    PERFORM set_config('app.current_tenant_id', (SELECT id::text FROM bench_tenants WHERE t = tenant), true);
  END IF;
  FOR r IN SELECT q.qid, q.q, tr.ids FROM bench_queries q
             JOIN bench_truth tr ON tr.qid = q.qid AND tr.tenant = run.tenant
            WHERE q.qid <= n ORDER BY q.qid LOOP
    t0 := clock_timestamp();
    EXECUTE 'SELECT array(SELECT id FROM sessions ORDER BY embedding <=> \$1 LIMIT 10)' INTO got USING r.q;
    ms := ms || (extract(epoch FROM clock_timestamp() - t0) * 1000)::float8;
    rec := rec || (cardinality(array(SELECT unnest(got) INTERSECT SELECT unnest(r.ids)))::float8
                   / least(10, cardinality(r.ids)));
    nr := nr || cardinality(got);
  END LOOP;
  RETURN QUERY SELECT
    (SELECT avg(x) FROM unnest(rec) x),
    cardinality(ms) / ((SELECT sum(x) FROM unnest(ms) x) / 1000),
    (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x),
    (SELECT percentile_cont(0.95) WITHIN GROUP (ORDER BY x) FROM unnest(ms) x),
    (SELECT avg(x)::float8 FROM unnest(nr) x),
    (SELECT min(x) FROM unnest(nr) x);
END \$\$;
GRANT EXECUTE ON FUNCTION run(int, int, int, boolean) TO bench_app;

-- The plan the planner picks for query 1 (as the caller).
CREATE FUNCTION plan_of(p int, tenant int) RETURNS text LANGUAGE plpgsql AS \$\$
DECLARE line text; plan text := '';
BEGIN
  PERFORM set_config('ivfflat.probes', p::text, true);
  IF tenant > 0 THEN
    PERFORM set_config('app.current_tenant_id', (SELECT id::text FROM bench_tenants WHERE t = tenant), true);
  END IF;
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) SELECT id FROM sessions ORDER BY embedding <=> \$1 LIMIT 10'
                USING (SELECT q FROM bench_queries WHERE qid = 1) LOOP
    IF line LIKE '%Index Scan using sessions_embedding%' THEN RETURN 'ivfflat'; END IF;
    IF line ~ '(Index|Bitmap Index) Scan (using|on) sessions_(user|pkey)' THEN plan := 'exact (tenant btree)'; END IF;
    IF line LIKE '%Seq Scan on sessions%' AND plan = '' THEN plan := 'exact (sequential)'; END IF;
  END LOOP;
  RETURN plan;
END \$\$;
GRANT EXECUTE ON FUNCTION plan_of(int, int) TO bench_app;
EOF

echo "bench vector: generating and loading rows"
t0=$(now)
vecgen rows | sql -c "COPY sessions (tenant_id, id, embedding) FROM STDIN (FORMAT binary)"
t1=$(now)
LOAD_S=$(secs "$t0" "$t1")
vecgen queries | sql -c "COPY bench_queries FROM STDIN (FORMAT binary)"
vecgen tenants | sql -c "COPY bench_tenants FROM STDIN"
echo "bench vector: exact ground truth (vecgen, brute force)"
t0=$(now)
vecgen truth --filter "$SMALL,$MEDIUM,$LARGE" | sql -c "COPY bench_truth FROM STDIN"
TRUTH_S=$(secs "$t0" "$(now)")
sql -c "VACUUM ANALYZE sessions"
TABLE_MB=$(sql -c "SELECT round(pg_table_size('sessions') / 1048576.0, 1)")

echo "bench vector: exact scan ($EXACT_QUERIES queries)"
EXACT=$(sql -F' ' -c "SELECT recall, qps, p50_ms, p95_ms FROM run(1, 0, $EXACT_QUERIES, true)")
read -r EXACT_RECALL EXACT_QPS EXACT_P50 EXACT_P95 <<<"$EXACT"

echo "bench vector: CREATE INDEX ... USING ivfflat (embedding vector_cosine_ops)"
t0=$(now)
STORAGE=${BENCH_STORAGE:-auto}
sql -c "CREATE INDEX sessions_embedding ON sessions USING ivfflat (embedding vector_cosine_ops) WITH (storage = $STORAGE)"
BUILD_S=$(secs "$t0" "$(now)")
sql -c "ANALYZE sessions"
INDEX_MB=$(sql -c "SELECT round(pg_relation_size('sessions_embedding') / 1048576.0, 1)")
LISTS=$(sql -c "SELECT lists FROM ivfflat_stats('sessions_embedding')")
PER_PAGE=$(sql -c "SELECT round(entries::numeric / greatest(entry_pages, 1), 2) FROM ivfflat_stats('sessions_embedding')")
# warm the index into shared buffers (measured queries should not pay the first read)
sql -c "SELECT count(*) FROM run(${LISTS}, 0, 3)" >/dev/null

json_rows() {  # json_rows ROLE TENANT: one JSON object per probes value
  local role=$1 tenant=$2 first=1 p line plan
  for p in $PROBES; do
    line=$(psql_as "$role" -F' ' -c "SELECT round(recall::numeric, 4), round(qps::numeric, 1), round(p50_ms::numeric, 2), round(p95_ms::numeric, 2), round(rows_avg::numeric, 2), rows_min FROM run($p, $tenant, $QUERIES)")
    plan=$(psql_as "$role" -c "SELECT plan_of($p, $tenant)")
    read -r rec qps p50 p95 ravg rmin <<<"$line"
    echo "bench vector:   probes $p: recall@10 $rec, $qps q/s, p50 $p50 ms, rows $ravg (min $rmin), plan $plan" >&2
    [ $first -eq 1 ] || printf ',\n'
    first=0
    printf '      {"probes": %s, "recall_at_10": %s, "qps": %s, "p50_ms": %s, "p95_ms": %s, "rows_avg": %s, "rows_min": %s, "plan": "%s"}' \
      "$p" "$rec" "$qps" "$p50" "$p95" "$ravg" "$rmin" "$plan"
  done
}

echo "bench vector: unfiltered"
UNFILTERED=$(json_rows postgres 0)
declare -A FILTERED
for tn in $SMALL $MEDIUM $LARGE; do
  echo "bench vector: tenant $tn under RLS, as bench_app ($(sql -c "SELECT n FROM bench_tenants WHERE t = $tn") rows)"
  FILTERED[$tn]=$(json_rows bench_app "$tn")
done
tenant_json() {
  local tn=$1 name=$2
  printf '    "%s": {"tenant": %s, "tenant_rows": %s, "results": [\n%s\n    ]}' \
    "$name" "$tn" "$(sql -c "SELECT n FROM bench_tenants WHERE t = $tn")" "${FILTERED[$tn]}"
}

OUT=bench/results/vector-$SIZE.json
{
  printf '{\n'
  printf '  "benchmark": "vector", "size": "%s", "rows": %s, "dimensions": %s, "queries": %s,\n' "$SIZE" "$ROWS" "$DIM" "$QUERIES"
  printf '  "data": "bench/vecgen.c: clustered, L2-normalised, 100 tenants of skewed sizes independent of the vectors; cosine distance; k = 10",\n'
  printf '  "machine": {"cpus": %s, "kernel": "%s", "postgres": "%s"},\n' "$(nproc)" "$(uname -r)" "$("$BINDIR/postgres" --version | awk '{print $3}')"
  printf '  "load_s": %s, "truth_s": %s, "table_mb": %s,\n' "$LOAD_S" "$TRUTH_S" "$TABLE_MB"
  printf '  "exact_scan": {"queries": %s, "recall_at_10": %s, "qps": %s, "p50_ms": %s, "p95_ms": %s},\n' \
    "$EXACT_QUERIES" "$(printf '%.4f' "$EXACT_RECALL")" "$(printf '%.2f' "$EXACT_QPS")" "$(printf '%.2f' "$EXACT_P50")" "$(printf '%.2f' "$EXACT_P95")"
  printf '  "ivfflat_build": {"lists": %s, "storage": "%s", "entries_per_page": %s, "seconds": %s, "index_mb": %s},\n' "$LISTS" "$STORAGE" "$PER_PAGE" "$BUILD_S" "$INDEX_MB"
  printf '  "unfiltered": [\n%s\n  ],\n' "$UNFILTERED"
  printf '  "filtered_rls": {\n%s,\n%s,\n%s\n  }\n' "$(tenant_json $SMALL small)" "$(tenant_json $MEDIUM medium)" "$(tenant_json $LARGE large)"
  printf '}\n'
} > "$OUT"
echo "bench vector: wrote $OUT"
