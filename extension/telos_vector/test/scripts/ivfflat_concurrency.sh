#!/usr/bin/env bash
# ivfflat_concurrency.sh -- ivfflat scans stay right while other sessions
# insert (filling and extending the lists' pages), delete and VACUUM.
#
# On a throwaway instance of its own, for about 20 seconds:
#   - four sessions insert rows in small transactions;
#   - one deletes rows and runs VACUUM on the table;
#   - two checkers, each in REPEATABLE READ transactions (one snapshot for
#     the whole check), compare what the index returns with what a
#     sequential scan returns for the same snapshot:
#       * every list probed: the same 100 nearest rows in the same order;
#       * one list probed, every row asked for, read through a cursor with
#         pauses between fetches (so the scan widens into further lists
#         while the inserts run): exactly the rows of the snapshot.
# At the end, with nothing running: every row through the index, none
# twice; after VACUUM the index holds exactly the live rows.
#
# Run by tests/regress.sh (environment: PG_BINDIR, WORK_DIR, REGRESS_PORT,
# RUN_AS -- see "Scripts" there). By hand, as root or as postgres:
#   PG_BINDIR=/usr/lib/postgresql/15/bin WORK_DIR=$(mktemp -d) REGRESS_PORT=57430 \
#     bash extension/telos_vector/test/scripts/ivfflat_concurrency.sh
set -uo pipefail
: "${PG_BINDIR:?}" "${WORK_DIR:?}"
PORT=${REGRESS_PORT:-57430}
RUN_AS=${RUN_AS:-}
if [ -z "$RUN_AS" ] && [ "$(id -u)" -eq 0 ]; then RUN_AS="runuser -u postgres --"; fi
DATA=$WORK_DIR/data
SOCK=$WORK_DIR
SECONDS_TO_RUN=${IVF_CONCURRENCY_SECONDS:-20}
FAILS=0

ok()     { echo "ok - ivfflat concurrency: $*"; }
not_ok() { echo "not ok - ivfflat concurrency: $1"; shift; [ $# -gt 0 ] && echo "#   $*"; FAILS=$((FAILS + 1)); }
check()  { local name=$1 got=$2 want=$3; if [ "$got" == "$want" ]; then ok "$name"; else not_ok "$name" "got [$got] want [$want]"; fi; }
sql()    { $RUN_AS "$PG_BINDIR/psql" -h "$SOCK" -p "$PORT" -d postgres -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
pg_ctl() { $RUN_AS "$PG_BINDIR/pg_ctl" -D "$DATA" -l "$WORK_DIR/server.log" -w "$@"; }

WORKERS=""
cleanup() {
  [ -n "$WORKERS" ] && kill $WORKERS 2>/dev/null
  pg_ctl stop -m immediate >/dev/null 2>&1
}
trap cleanup EXIT

if ! $RUN_AS "$PG_BINDIR/initdb" -D "$DATA" --no-locale -E UTF8 -A trust >"$WORK_DIR/initdb.log" 2>&1; then
  sed 's/^/# /' "$WORK_DIR/initdb.log"; not_ok "initdb"; exit 1
fi
cat >>"$DATA/postgresql.conf" <<EOF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$SOCK'
shared_buffers = 32MB
fsync = off
autovacuum = off
EOF
if ! pg_ctl start >/dev/null 2>&1; then
  sed 's/^/# /' "$WORK_DIR/server.log"; not_ok "server start"; exit 1
fi
ok "server started on port $PORT"

sql <<'EOF' || not_ok "setup"
CREATE EXTENSION telos_vector;
CREATE FUNCTION pseudo(bigint) RETURNS float8
  LANGUAGE sql IMMUTABLE AS $$ SELECT hashint8($1)::float8 / 2147483648.0 $$;
CREATE FUNCTION point(i bigint) RETURNS vector LANGUAGE sql IMMUTABLE AS $$
  SELECT array_agg(pseudo((i % 6) * 100 + d) * 3 + pseudo(i * 100 + d) ORDER BY d)::vector(24)
    FROM generate_series(1, 24) d $$;
CREATE TABLE t (id bigint PRIMARY KEY, v vector(24));
INSERT INTO t SELECT i, point(i) FROM generate_series(1, 5000) i;
CREATE INDEX t_v ON t USING ivfflat (v) WITH (lists = 6);
CREATE SEQUENCE ids START 1000000;

-- One check in the caller's snapshot (REPEATABLE READ): 'ok' or what differs.
CREATE FUNCTION check_once(q vector) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  by_index bigint[];
  by_heap bigint[];
  n_heap bigint;
  n_cursor bigint := 0;
  got bigint;
  c refcursor;
BEGIN
  -- every list probed: exact, same order as a sequential scan
  SET LOCAL ivfflat.probes = 32768;
  SET LOCAL enable_seqscan = off;
  SET LOCAL enable_bitmapscan = off;
  by_index := array(SELECT id FROM t ORDER BY v <-> q LIMIT 100);
  SET LOCAL enable_seqscan = on;
  SET LOCAL enable_indexscan = off;
  by_heap := array(SELECT id FROM t ORDER BY v <-> q LIMIT 100);
  IF by_index IS DISTINCT FROM by_heap THEN
    RETURN 'exact scan differs: ' || array_to_string(by_index[1:5], ',') || ' vs ' || array_to_string(by_heap[1:5], ',');
  END IF;
  SELECT count(*) INTO n_heap FROM t WHERE v IS NOT NULL;

  -- one list probed, every row, fetched in pieces while others insert
  SET LOCAL enable_indexscan = on;
  SET LOCAL enable_seqscan = off;
  SET LOCAL ivfflat.probes = 1;
  OPEN c FOR SELECT id FROM t ORDER BY v <-> q;
  LOOP
    FETCH c INTO got;
    EXIT WHEN NOT FOUND;
    n_cursor := n_cursor + 1;
    IF n_cursor % 1500 = 0 THEN PERFORM pg_sleep(0.02); END IF;
  END LOOP;
  CLOSE c;
  IF n_cursor <> n_heap THEN
    RETURN 'widening scan returned ' || n_cursor || ' rows, the snapshot has ' || n_heap;
  END IF;
  RETURN 'ok';
END $$;
EOF
check "index built" "$(sql -c "SELECT lists || ' ' || entries FROM ivfflat_stats('t_v')")" "6 5000"

# Each worker runs one short psql per step until the deadline (one psql
# for a whole loop would read statements far ahead of the deadline).
deadline=$(($(date +%s) + SECONDS_TO_RUN))
running() { [ "$(date +%s)" -lt "$deadline" ]; }
for s in 1 2 3 4; do
  (
    while running; do
      sql -c "INSERT INTO t SELECT n, point(n) FROM (SELECT nextval('ids') n FROM generate_series(1, 50)) s" \
          -c "INSERT INTO t SELECT n, point(n) FROM (SELECT nextval('ids') n FROM generate_series(1, 50)) s" \
          -c "SELECT pg_sleep(0.05)" >/dev/null 2>>"$WORK_DIR/insert$s.err"
    done
  ) &
  WORKERS="$WORKERS $!"
done
(
  while running; do
    sql -c "DELETE FROM t WHERE id IN (SELECT id FROM t TABLESAMPLE SYSTEM (1) LIMIT 300)" \
        -c "VACUUM t" -c "SELECT pg_sleep(0.3)" >/dev/null 2>>"$WORK_DIR/vacuum.err"
  done
) &
WORKERS="$WORKERS $!"
for c in 1 2; do
  (
    i=0
    while running; do
      i=$((i + 1))
      sql -c "BEGIN ISOLATION LEVEL REPEATABLE READ" -c "SELECT check_once(point($((c * 100000 + i))))" \
          -c "COMMIT" >>"$WORK_DIR/checker$c.out" 2>>"$WORK_DIR/checker$c.err"
    done
  ) &
  WORKERS="$WORKERS $!"
done
wait $WORKERS
WORKERS=""

checks=$(cat "$WORK_DIR"/checker*.out | grep -c .)
bad=$(cat "$WORK_DIR"/checker*.out | grep -vc '^ok$')
errors=$(cat "$WORK_DIR"/checker*.err "$WORK_DIR"/insert*.err "$WORK_DIR"/vacuum.err | grep -c 'ERROR')
rows=$(sql -c "SELECT count(*) FROM t")
if [ "$checks" -ge 4 ]; then ok "$checks snapshot checks ran while $rows rows were inserted, deleted and vacuumed"
else not_ok "enough snapshot checks ran" "only $checks"; fi
check "every check found the snapshot's rows, exact scans in exact order" "$bad" "0"
[ "$bad" -eq 0 ] || grep -v '^ok$' "$WORK_DIR"/checker*.out | head -5 | sed 's/^/#   /'
check "no session got an error" "$errors" "0"
[ "$errors" -eq 0 ] || cat "$WORK_DIR"/*.err | grep ERROR | head -5 | sed 's/^/#   /'

# quiet: every row through the index, and after VACUUM exactly the live rows
sql -c "VACUUM (INDEX_CLEANUP ON) t" >/dev/null
final=$(sql <<'EOF'
SET ivfflat.probes = 32768;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
CREATE TEMP TABLE via_index AS SELECT id FROM (SELECT id FROM t ORDER BY v <-> point(3) LIMIT 10000000) s;
SELECT (SELECT count(*) FROM t) - (SELECT count(DISTINCT id) FROM via_index) || ' ' ||
       (SELECT count(*) FROM via_index) - (SELECT count(DISTINCT id) FROM via_index) || ' ' ||
       (SELECT count(*) FROM t) - (SELECT entries FROM ivfflat_stats('t_v'));
EOF
)
check "afterwards: no row missed, none twice, index entries = live rows" "$final" "0 0 0"
grep -q "terminated by signal" "$WORK_DIR/server.log" && not_ok "no backend crashed" "$(grep -m1 'terminated by signal' "$WORK_DIR/server.log")" \
  || ok "no backend crashed"

[ $FAILS -eq 0 ]
