#!/usr/bin/env bash
# t_compress.sh -- compress_chunk, recompress_chunk and decompress_chunk are
# atomic across a crash or a cancel: the backend doing one is killed with
# SIGKILL (the postmaster then restarts every backend and recovers from the
# WAL) or cancelled (pg_cancel_backend) while it sleeps at an injected point
# (telos.debug_compress_fail_at = 'sleep_after_segments' | 'sleep_after_swap'),
# and afterwards the chunk is exactly the old one: same state, same kind of
# relation, every row once, no stray segment or delta table, no catalog row
# too many. Then the operation runs to the end and the chunk is the new one.
#
# Runs its own throwaway cluster (a crash restarts every backend of a
# cluster, which the shared test cluster must not suffer) on a free port in
# 57100-57199, with the installed telos extension. Needs no telos binary.
. "$(dirname "$0")/lib.sh"

PG_BINDIR=${TELOS_PG_BINDIR:-/usr/lib/postgresql/15/bin}
BASE=${TMPDIR_T:-$(mktemp -d /tmp/t_compress.XXXXXX)}
DIR=$(mktemp -d "$BASE/pg.XXXXXX")
chmod 755 "$BASE" "$DIR"
RUN=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$DIR"
  RUN=(runuser -u postgres --)
fi

PORT=""
for p in $(seq 57100 57199); do
  (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null && continue
  [ -e "/tmp/.s.PGSQL.$p" ] || [ -e "$DIR/.s.PGSQL.$p" ] && continue
  PORT=$p
  break
done
[ -n "$PORT" ] || { not_ok "t_compress: a free port in 57100-57199"; exit 0; }

cleanup() {
  "${RUN[@]}" "$PG_BINDIR/pg_ctl" stop -D "$DIR/data" -m immediate >/dev/null 2>&1
  [ -z "${TMPDIR_T:-}" ] && rm -rf "$BASE"
}
trap cleanup EXIT

sql() { "$PG_BINDIR/psql" -h "$DIR" -p "$PORT" -U postgres -d postgres -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }

if ! "${RUN[@]}" "$PG_BINDIR/initdb" -D "$DIR/data" -A trust -U postgres --no-sync >"$DIR/initdb.log" 2>&1; then
  not_ok "t_compress: initdb" "$(tail -5 "$DIR/initdb.log")"
  exit 0
fi
cat >>"$DIR/data/postgresql.conf" <<EOF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$DIR'
shared_preload_libraries = 'telos'
telos.scheduler_enabled = off
fsync = off
restart_after_crash = on
EOF
if ! "${RUN[@]}" "$PG_BINDIR/pg_ctl" start -w -D "$DIR/data" -l "$DIR/server.log" >/dev/null 2>&1; then
  not_ok "t_compress: start the cluster" "$(tail -5 "$DIR/server.log")"
  exit 0
fi

# A hypertable like business_metrics_raw, one week chunk of 16,800 rows
# (10 tenants x 10 metrics x 168 hours), a copy of its rows for comparison.
sql >/dev/null <<'SQL'
CREATE EXTENSION telos;
CREATE TABLE m (
    tenant_id uuid NOT NULL, time timestamptz NOT NULL, metric_type text NOT NULL,
    value float8 NOT NULL, source uuid, ingested_at timestamptz NOT NULL DEFAULT now()
) PARTITION BY RANGE (time);
CREATE INDEX ON m (tenant_id, metric_type, time DESC);
SELECT telos.create_hypertable('m', 'time', '7 days');
SELECT telos.ensure_chunks('m', '2024-01-01', '2024-01-01');
INSERT INTO m (tenant_id, time, metric_type, value, source, ingested_at)
SELECT ('00000000-0000-4000-8000-' || lpad(t::text, 12, '0'))::uuid,
       '2024-01-01'::timestamptz + h * interval '1 hour', 'metric_' || k,
       round((t * 100 + k + sin(h) * 10)::numeric, 4)::float8,
       CASE WHEN h % 3 = 0 THEN md5(t::text || k)::uuid END, '2024-01-08'
  FROM generate_series(1, 10) t, generate_series(0, 167) h, generate_series(1, 10) k;
CREATE TABLE ref AS SELECT * FROM m;
CREATE FUNCTION chunk_state() RETURNS text LANGUAGE sql AS $$
  SELECT concat_ws(' ', c.state, k.relkind,
         'missing=' || (SELECT count(*) FROM (SELECT * FROM ref EXCEPT ALL SELECT * FROM m) a),
         'extra=' || (SELECT count(*) FROM (SELECT * FROM m EXCEPT ALL SELECT * FROM ref) b),
         'internal=' || (SELECT count(*) FROM pg_class WHERE relnamespace = '_telos_internal'::regnamespace
                          AND relkind = 'r'),
         'catalog=' || (SELECT count(*) FROM telos.compressed_chunk),
         'partitions=' || (SELECT count(*) FROM pg_inherits WHERE inhparent = 'm'::regclass))
    FROM telos.chunk c JOIN pg_class k ON k.oid = c.relid WHERE c.hypertable = 'm'::regclass
$$;
SQL
[ $? -eq 0 ] || { not_ok "t_compress: setup"; exit 0; }

HEAP="active r missing=0 extra=0 internal=0 catalog=0 partitions=2"
COMPRESSED="compressed f missing=0 extra=0 internal=2 catalog=1 partitions=2"
eq "setup: a heap chunk with every row" "$(sql -c 'SELECT chunk_state()')" "$HEAP"

# wait_ready: the cluster accepts queries again (after a crash restart).
wait_ready() {
  for _ in $(seq 1 300); do
    sql -c 'SELECT 1' >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  return 1
}

# interrupt HOW OP POINT: runs telos.OP_chunk('m_p20240101') with the
# injected sleep at POINT, waits until it sleeps there, then kills
# (HOW=kill: SIGKILL) or cancels (HOW=cancel) its backend.
interrupt() {
  local how=$1 op=$2 point=$3 before pid
  before=$(grep -c "telos: sleeping at $point" "$DIR/server.log")
  sql -c "SET telos.debug_compress_fail_at = 'sleep_$point'" \
      -c "SELECT telos.${op}_chunk('m_p20240101')" >"$DIR/op.out" 2>&1 &
  local bg=$!
  for _ in $(seq 1 300); do
    [ "$(grep -c "telos: sleeping at $point" "$DIR/server.log")" -gt "$before" ] && break
    sleep 0.1
  done
  pid=$(sql -c "SELECT pid FROM pg_stat_activity WHERE query LIKE '%telos.${op}_chunk(%' AND pid <> pg_backend_pid()")
  if [ -z "$pid" ]; then
    not_ok "$how $op at $point: the operation reached the point" "$(cat "$DIR/op.out")"
    wait "$bg"
    return
  fi
  if [ "$how" = kill ]; then
    kill -9 "$pid"
  else
    sql -c "SELECT pg_cancel_backend($pid)" >/dev/null
  fi
  wait "$bg"
  wait_ready || { not_ok "$how $op at $point: the cluster comes back"; return; }
  if grep -q -e 'server closed the connection' -e 'canceling statement due to user request' "$DIR/op.out"; then
    ok "$how $op at $point: interrupted mid-way"
  else
    not_ok "$how $op at $point: interrupted mid-way" "$(cat "$DIR/op.out")"
  fi
}

# --- compress ---------------------------------------------------------------
for how in kill cancel; do
  for point in after_segments after_swap; do
    interrupt "$how" compress "$point"
    eq "$how compress at $point: the heap chunk is intact" "$(sql -c 'SELECT chunk_state()')" "$HEAP"
  done
done
sql -c "SELECT telos.compress_chunk('m_p20240101')" >/dev/null
eq "compress after the interruptions: compressed, every row" "$(sql -c 'SELECT chunk_state()')" "$COMPRESSED"

# --- recompress, with late rows in the delta table ---------------------------
sql >/dev/null <<'SQL'
INSERT INTO m (tenant_id, time, metric_type, value, ingested_at)
VALUES ('00000000-0000-4000-8000-000000000001', '2024-01-03 00:30', 'metric_1', 1.5, '2024-01-09'),
       ('00000000-0000-4000-8000-000000000011', '2024-01-04', 'late', 2, '2024-01-09');
INSERT INTO ref (tenant_id, time, metric_type, value, ingested_at)
VALUES ('00000000-0000-4000-8000-000000000001', '2024-01-03 00:30', 'metric_1', 1.5, '2024-01-09'),
       ('00000000-0000-4000-8000-000000000011', '2024-01-04', 'late', 2, '2024-01-09');
SQL
for how in kill cancel; do
  for point in after_segments after_swap; do
    interrupt "$how" recompress "$point"
    eq "$how recompress at $point: the compressed chunk is intact" "$(sql -c 'SELECT chunk_state()')" "$COMPRESSED"
    eq "$how recompress at $point: the late rows are still in the delta table" \
      "$(sql -c 'SELECT count(*) FROM _telos_internal.m_p20240101_delta')" 2
  done
done
eq "recompress after the interruptions merges the late rows" \
  "$(sql -c "SELECT telos.recompress_chunk('m_p20240101')")" 2
eq "recompress: compressed, every row, empty delta" \
  "$(sql -c 'SELECT chunk_state()') $(sql -c 'SELECT count(*) FROM _telos_internal.m_p20240101_delta')" "$COMPRESSED 0"

# --- decompress ---------------------------------------------------------------
for how in kill cancel; do
  for point in after_segments after_swap; do
    interrupt "$how" decompress "$point"
    eq "$how decompress at $point: the compressed chunk is intact" "$(sql -c 'SELECT chunk_state()')" "$COMPRESSED"
  done
done
sql -c "SELECT telos.decompress_chunk('m_p20240101')" >/dev/null
eq "decompress after the interruptions: a heap chunk, every row" "$(sql -c 'SELECT chunk_state()')" "$HEAP"
eq "decompress: the hypertable's index is on the chunk again" \
  "$(sql -c "SELECT count(*) FROM pg_index WHERE indrelid = 'm_p20240101'::regclass")" 1

# The crashes were ours and only ours.
eq "the server log shows six backends killed by signal 9" \
  "$(grep -c 'was terminated by signal 9' "$DIR/server.log")" 6
if grep -q 'PANIC' "$DIR/server.log"; then
  not_ok "no PANIC in the server log" "$(grep PANIC "$DIR/server.log" | head -3)"
else
  ok "no PANIC in the server log"
fi
exit 0
