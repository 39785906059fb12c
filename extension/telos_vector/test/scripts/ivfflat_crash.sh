#!/usr/bin/env bash
# ivfflat_crash.sh -- an ivfflat index survives a crash: every page change
# is in the WAL (generic WAL records), so crash recovery rebuilds what the
# killed server had only in shared buffers.
#
# On a throwaway instance of its own: build an index, CHECKPOINT, then kill
# -9 the postmaster (and its children) while four sessions insert rows, so
# the index's newest pages exist only as WAL. After the restart (crash
# recovery), with enable_seqscan off and ivfflat.probes = lists, every row
# of the table must come back through the index, and nothing else; the
# index must take more inserts and a VACUUM. Last, damaged index pages
# (metapage magic, an entry page's identifier, a list tuple's dimension)
# must give an ERROR, not a crashed backend.
#
# Run by tests/regress.sh (environment: PG_BINDIR, WORK_DIR, REGRESS_PORT,
# RUN_AS -- see "Scripts" there). By hand, as root or as postgres:
#   PG_BINDIR=/usr/lib/postgresql/15/bin WORK_DIR=$(mktemp -d) REGRESS_PORT=57420 \
#     bash extension/telos_vector/test/scripts/ivfflat_crash.sh
set -uo pipefail
: "${PG_BINDIR:?}" "${WORK_DIR:?}"
PORT=${REGRESS_PORT:-57420}
RUN_AS=${RUN_AS:-}
if [ -z "$RUN_AS" ] && [ "$(id -u)" -eq 0 ]; then RUN_AS="runuser -u postgres --"; fi
DATA=$WORK_DIR/data
SOCK=$WORK_DIR
FAILS=0

ok()     { echo "ok - ivfflat crash: $*"; }
not_ok() { echo "not ok - ivfflat crash: $1"; shift; [ $# -gt 0 ] && echo "#   $*"; FAILS=$((FAILS + 1)); }
check()  { local name=$1 got=$2 want=$3; if [ "$got" == "$want" ]; then ok "$name"; else not_ok "$name" "got [$got] want [$want]"; fi; }
sql()    { $RUN_AS "$PG_BINDIR/psql" -h "$SOCK" -p "$PORT" -d postgres -X -q -A -t -v ON_ERROR_STOP=1 "$@"; }
pg_ctl() { $RUN_AS "$PG_BINDIR/pg_ctl" -D "$DATA" -l "$WORK_DIR/server.log" -w "$@"; }
postmaster_pid() { head -1 "$DATA/postmaster.pid" 2>/dev/null; }

# kill -9 the postmaster and every process it started (ids taken first;
# nothing else is touched), then wait until they are all gone.
crash() {
  local pm kids p
  pm=$(postmaster_pid)
  [ -n "$pm" ] || return 1
  kids=$(ps -o pid= --ppid "$pm" 2>/dev/null)
  kill -9 "$pm" 2>/dev/null
  for p in $kids; do kill -9 "$p" 2>/dev/null; done
  for _ in $(seq 1 100); do
    local alive=0
    for p in $pm $kids; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ $alive -eq 0 ] && return 0
    sleep 0.1
  done
  return 1
}

cleanup() {
  [ -n "${INSERTERS:-}" ] && kill $INSERTERS 2>/dev/null
  pg_ctl stop -m immediate >/dev/null 2>&1
}
trap cleanup EXIT

# --- instance ------------------------------------------------------------
if ! $RUN_AS "$PG_BINDIR/initdb" -D "$DATA" --no-locale -E UTF8 -A trust >"$WORK_DIR/initdb.log" 2>&1; then
  sed 's/^/# /' "$WORK_DIR/initdb.log"; not_ok "initdb"; exit 1
fi
cat >>"$DATA/postgresql.conf" <<EOF
port = $PORT
listen_addresses = ''
unix_socket_directories = '$SOCK'
shared_buffers = 16MB
checkpoint_timeout = 1h
max_wal_size = 1GB
full_page_writes = on
fsync = off
EOF
if ! pg_ctl start >/dev/null 2>&1; then
  sed 's/^/# /' "$WORK_DIR/server.log"; not_ok "server start"; exit 1
fi
ok "server started on port $PORT"

# --- build, then crash during inserts -----------------------------------------
sql <<'EOF' || not_ok "setup"
CREATE EXTENSION telos_vector;
CREATE FUNCTION pseudo(bigint) RETURNS float8
  LANGUAGE sql IMMUTABLE AS $$ SELECT hashint8($1)::float8 / 2147483648.0 $$;
CREATE FUNCTION point(i bigint) RETURNS vector LANGUAGE sql IMMUTABLE AS $$
  SELECT array_agg(pseudo((i % 8) * 100 + d) * 3 + pseudo(i * 100 + d) ORDER BY d)::vector(16)
    FROM generate_series(1, 16) d $$;
CREATE TABLE t (id bigint PRIMARY KEY, v vector(16));
INSERT INTO t SELECT i, point(i) FROM generate_series(1, 3000) i;
CREATE INDEX t_v ON t USING ivfflat (v) WITH (lists = 8);
CREATE SEQUENCE ids START 100000;
CHECKPOINT;
EOF
check "index built" "$(sql -c "SELECT lists || ' ' || entries FROM ivfflat_stats('t_v')")" "8 3000"

# Four sessions insert rows one transaction at a time (new entry pages,
# list tuples' insert pages), some with a NULL vector; one also deletes.
INSERTERS=""
for s in 1 2 3 4; do
  (
    for _ in $(seq 1 3000); do
      echo "INSERT INTO t SELECT n, CASE WHEN n % 17 = 0 THEN NULL ELSE point(n) END FROM (SELECT nextval('ids') n FROM generate_series(1, 25)) s;"
      [ $s -eq 4 ] && echo "DELETE FROM t WHERE id % 13 = 0 AND id < 3000 AND id % 7 = $((RANDOM % 7));"
    done | sql >/dev/null 2>&1
  ) &
  INSERTERS="$INSERTERS $!"
done
sleep 3
before=$(sql -c "SELECT count(*) FROM t" 2>/dev/null)
running=0
for p in $INSERTERS; do kill -0 "$p" 2>/dev/null && running=$((running + 1)); done
if crash; then ok "postmaster killed with -9 during inserts ($running sessions inserting, $before rows committed)"
else not_ok "kill the postmaster"; fi
[ $running -gt 0 ] || not_ok "the inserts were still running when the server was killed"
wait $INSERTERS 2>/dev/null
INSERTERS=""

if pg_ctl start >/dev/null 2>&1; then
  ok "restart (crash recovery)"
else
  sed 's/^/# /' "$WORK_DIR/server.log" | tail -20; not_ok "restart after the crash"; exit 1
fi
grep -q "database system was interrupted\|redo starts" "$WORK_DIR/server.log" && ok "the restart replayed WAL" \
  || not_ok "the restart replayed WAL" "no redo in the server log"

# --- every row through the index --------------------------------------------
compare() {  # heap rows vs rows returned through the index, probes = lists
  sql <<'EOF'
SET ivfflat.probes = 32768;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
CREATE TEMP TABLE via_index AS
  SELECT id FROM (SELECT id FROM t ORDER BY v <-> point(7) LIMIT 1000000) s;
SET enable_seqscan = on;
SET enable_indexscan = off;
CREATE TEMP TABLE via_heap AS SELECT id FROM t WHERE v IS NOT NULL;
SELECT (SELECT count(*) FROM via_heap) || ' ' ||
       (SELECT count(*) FROM via_index) || ' ' ||
       (SELECT count(*) FROM (SELECT id FROM via_heap EXCEPT SELECT id FROM via_index) a) || ' ' ||
       (SELECT count(*) FROM (SELECT id FROM via_index EXCEPT SELECT id FROM via_heap) b);
EOF
}
explain=$(sql -c "SET enable_seqscan = off" -c "EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <-> point(7) LIMIT 5" | tr '\n' ' ')
case $explain in *"Index Scan using t_v"*) ok "the check reads through the index" ;; *) not_ok "the check reads through the index" "$explain" ;; esac
after=$(sql -c "SELECT count(*) FROM t")
if [ -n "$after" ] && [ -n "$before" ] && [ "$after" -ge "$before" ]; then
  ok "committed rows survived ($after rows after recovery)"
else
  not_ok "committed rows survived" "before the crash: $before, after: $after"
fi
read -r heap via missing extra <<<"$(compare)"
check "every heap row found through the index ($heap rows with a vector)" "$missing" "0"
check "no row twice or unknown through the index" "$via $extra" "$heap 0"

# --- the index still works ---------------------------------------------------------
sql -c "INSERT INTO t SELECT n, point(n) FROM (SELECT nextval('ids') n FROM generate_series(1, 500)) s" \
  && ok "inserts after recovery" || not_ok "inserts after recovery"
sql -c "VACUUM (INDEX_CLEANUP ON) t" && ok "VACUUM after recovery" || not_ok "VACUUM after recovery"
read -r heap via missing extra <<<"$(compare)"
check "after inserts and VACUUM: every row found, no other" "$missing $extra $via" "0 0 $heap"
check "after VACUUM the index holds exactly the live rows" \
  "$(sql -c "SELECT entries FROM ivfflat_stats('t_v')")" "$heap"

# --- damaged pages: an ERROR, never a crash ------------------------------------
sql <<'EOF' || not_ok "setup of the damaged indexes"
CREATE TABLE c1 (v vector(16));
INSERT INTO c1 SELECT point(i) FROM generate_series(1, 200) i;
CREATE INDEX c1_v ON c1 USING ivfflat (v) WITH (lists = 2);
CREATE TABLE c2 (LIKE c1); INSERT INTO c2 SELECT * FROM c1;
CREATE INDEX c2_v ON c2 USING ivfflat (v) WITH (lists = 2);
CREATE TABLE c3 (LIKE c1); INSERT INTO c3 SELECT * FROM c1;
CREATE INDEX c3_v ON c3 USING ivfflat (v) WITH (lists = 2);
CREATE TABLE c4 (LIKE c1); INSERT INTO c4 SELECT * FROM c1;
CREATE INDEX c4_v ON c4 USING ivfflat (v) WITH (lists = 2, storage = half);
CHECKPOINT;
EOF
f1=$DATA/$(sql -c "SELECT pg_relation_filepath('c1_v')")
f2=$DATA/$(sql -c "SELECT pg_relation_filepath('c2_v')")
f3=$DATA/$(sql -c "SELECT pg_relation_filepath('c3_v')")
f4=$DATA/$(sql -c "SELECT pg_relation_filepath('c4_v')")
pg_ctl stop -m fast >/dev/null 2>&1
# c1: the metapage's magic number (first 4 bytes of the page contents)
printf '\xde\xad\xbe\xef' | $RUN_AS dd of="$f1" bs=1 seek=24 conv=notrunc status=none
# c2: the page identifier of the first entry page (block 2: meta, one list page)
printf '\x00\x00' | $RUN_AS dd of="$f2" bs=1 seek=$((2 * 8192 + 8190)) conv=notrunc status=none
# c3: the dimension of the first list tuple: line pointer 1 of block 1 says
# where it is (lp_off, the low 15 bits); dim is 8 + 4 bytes into it.
lp=$(od -An -tu4 -j $((8192 + 24)) -N4 "$f3" | tr -d ' ')
printf '\x07\x00' | $RUN_AS dd of="$f3" bs=1 seek=$((8192 + (lp & 32767) + 12)) conv=notrunc status=none
# c4: a half-precision index whose metapage says version 1 (float4 entries)
printf '\x01\x00\x00\x00' | $RUN_AS dd of="$f4" bs=1 seek=28 conv=notrunc status=none
pg_ctl start >/dev/null 2>&1 || { not_ok "restart after damaging pages"; exit 1; }
for c in c1 c2 c3 c4; do
  out=$(sql -c "SET enable_seqscan = off" -c "SET ivfflat.probes = 2" \
            -c "SELECT count(*) FROM (SELECT v FROM $c ORDER BY v <-> point(1) LIMIT 5) s" 2>&1)
  case $out in
    *"ERROR:"*"corrupted"*|*"ERROR:"*"invalid page"*) ok "damaged $c index: $(echo "$out" | grep -m1 -o 'ERROR:.*' | cut -c1-90)" ;;
    *) not_ok "damaged $c index gives an error" "$out" ;;
  esac
done
# every insert reads the metapage and the list pages
for c in c1 c3; do
  out=$(sql -c "INSERT INTO $c SELECT point(9999)" 2>&1)
  case $out in *"ERROR:"*) ok "damaged $c index: insert refused" ;; *) not_ok "damaged $c index: insert" "$out" ;; esac
done
sql -c "SELECT 1" >/dev/null 2>&1 && ok "the server is still up" || not_ok "the server is still up"
grep -q "terminated by signal" "$WORK_DIR/server.log" && not_ok "no backend crashed" "$(grep -m1 'terminated by signal' "$WORK_DIR/server.log")" \
  || ok "no backend crashed"

[ $FAILS -eq 0 ]
