#!/usr/bin/env bash
# t_db.sh -- the embedded cluster, roles and migrations, through the CLI:
# `telos db start|stop|status|init|psql` and `telos migrate`.
#
# Runs against the shared test cluster of tests/run.sh (never stopped here),
# plus throwaway clusters in $TMPDIR_T on free ports for what must stop a
# cluster: one run by root (the cluster runs as the postgres account) and,
# when we are root, one run entirely as the postgres account.
. "$(dirname "$0")/lib.sh"

PG_BINDIR=${TELOS_PG_BINDIR:-/usr/lib/postgresql/15/bin}
EXTRA_HOMES=()   # "HOME PORT USER" of throwaway clusters, stopped at exit

cleanup() {
  local h
  for h in "${EXTRA_HOMES[@]}"; do
    set -- $h
    if [ "$3" = root ]; then
      TELOS_HOME=$1 TELOS_PG_PORT=$2 "$TELOS" db stop >/dev/null 2>&1
    else
      runuser -u "$3" -- env TELOS_HOME="$1" TELOS_PG_PORT="$2" "$TELOS" db stop >/dev/null 2>&1
    fi
  done
}
trap cleanup EXIT

# rc_ok NAME RC OUTPUT -- passes when RC is 0; shows OUTPUT otherwise
rc_ok() { if [ "$2" -eq 0 ]; then ok "$1"; else not_ok "$1" "rc=$2 $3"; fi; }

free_port() {  # a TCP port on 127.0.0.1 nobody listens on
  local p
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  return 1
}

# --- the shared cluster -------------------------------------------------------

out=$("$TELOS" db status 2>&1); rc=$?
eq "db status exits 0 when running" "$rc" 0
case "$out" in running*"$TELOS_HOME/pg"*"$TELOS_PG_PORT"*) ok "db status says running, data dir and port" ;;
  *) not_ok "db status says running, data dir and port" "$out" ;; esac

out=$("$TELOS" db start 2>&1); rc=$?
eq "db start on a running cluster succeeds" "$rc" 0
case "$out" in "already running"*) ok "db start on a running cluster is a no-op" ;;
  *) not_ok "db start on a running cluster is a no-op" "$out" ;; esac

eq "db psql -c 'select 1' prints 1" "$("$TELOS" db psql -X -A -t -c 'select 1' 2>&1)" 1
eq "db psql connects as telos_owner by default" \
   "$("$TELOS" db psql -XAt -c 'select current_user' 2>&1)" telos_owner
eq "db psql connects to database telos" \
   "$(psql_owner -c 'select current_database()' 2>&1)" telos
eq "db psql --role telos_app is telos_app" \
   "$(psql_app -c 'select current_user' 2>&1)" telos_app
eq "db psql --role=telos_worker is telos_worker" \
   "$("$TELOS" db psql --role=telos_worker -XAt -c 'select current_user' 2>&1)" telos_worker
eq "db psql --role admin is the superuser postgres" \
   "$(psql_as admin -c 'select current_user || rolsuper::text from pg_roles where rolname = current_user' 2>&1)" postgrestrue
eq "telos_app is not a superuser" \
   "$(psql_app -c "select rolsuper from pg_roles where rolname = current_user" 2>&1)" f

# name|super|bypassrls|login|createdb|createrole|replication
roles=$(psql_owner -F'|' -c "select rolname, rolsuper, rolbypassrls, rolcanlogin, rolcreatedb,
  rolcreaterole, rolreplication from pg_roles where rolname like 'telos\_%' order by 1" 2>&1)
eq "role telos_app: LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE" \
   "$(grep '^telos_app|' <<<"$roles")" "telos_app|f|f|t|f|f|f"
eq "role telos_auth: NOLOGIN, no power" "$(grep '^telos_auth|' <<<"$roles")" "telos_auth|f|f|f|f|f|f"
eq "role telos_owner: LOGIN NOSUPERUSER" "$(grep '^telos_owner|' <<<"$roles")" "telos_owner|f|f|t|f|f|f"
eq "role telos_worker: LOGIN BYPASSRLS NOSUPERUSER" \
   "$(grep '^telos_worker|' <<<"$roles")" "telos_worker|f|t|t|f|f|f"
eq "telos_owner is a member of telos_auth" \
   "$(psql_owner -c "select pg_has_role('telos_owner', 'telos_auth', 'MEMBER')" 2>&1)" t
eq "database telos is owned by telos_owner" \
   "$(psql_owner -c "select pg_get_userbyid(datdba) from pg_database where datname = current_database()" 2>&1)" telos_owner
eq "PUBLIC cannot connect to database telos" \
   "$(psql_owner -c "select has_database_privilege('public', current_database(), 'CONNECT')" 2>&1)" f
eq "PUBLIC cannot create in schema public" \
   "$(psql_owner -c "select has_schema_privilege('public', 'public', 'CREATE')" 2>&1)" f
eq "extension btree_gist is installed" \
   "$(psql_owner -c "select count(*) from pg_extension where extname = 'btree_gist'" 2>&1)" 1
if [ "$(psql_owner -c "select count(*) from pg_available_extensions where name = 'telos'" 2>&1)" = 1 ]; then
  eq "extension telos is installed" \
     "$(psql_owner -c "select count(*) from pg_extension where extname = 'telos'" 2>&1)" 1
else
  ok "extension telos is installed # SKIP the server has no telos extension"
fi

eq "the socket directory (data dir) is mode 0700" "$(stat -c %a "$TELOS_HOME/pg")" 700
eq "the credentials file is mode 0600" "$(stat -c %a "$TELOS_HOME/credentials")" 600
eq "listen_addresses is loopback only" "$(psql_owner -c 'show listen_addresses' 2>&1)" 127.0.0.1
eq "the cluster listens on TELOS_PG_PORT" "$(psql_owner -c 'show port' 2>&1)" "$TELOS_PG_PORT"
eq "password_encryption is scram-sha-256" \
   "$(psql_owner -c 'show password_encryption' 2>&1)" scram-sha-256
eq "fsync stays on" "$(psql_owner -c 'show fsync' 2>&1)" on
eq "login roles have SCRAM verifiers" \
   "$(psql_as admin -c "select count(*) from pg_authid where rolname in ('telos_owner','telos_app','telos_worker') and rolpassword like 'SCRAM-SHA-256\$%'" 2>&1)" 3
eq "local connections trust, TCP needs scram (pg_hba)" \
   "$(psql_as admin -c "select string_agg(type || ':' || coalesce(address, '-') || ':' || auth_method, ',' order by line_number) from pg_hba_file_rules" 2>&1)" \
   "local:-:trust,host:127.0.0.1:scram-sha-256,host:::1:scram-sha-256"

app_pw=$(sed -n 's/^TELOS_APP_PASSWORD=//p' "$TELOS_HOME/credentials")
if [ -n "$app_pw" ]; then
  eq "TCP as telos_app with the credentials file's password works" \
     "$(PGPASSWORD=$app_pw "$PG_BINDIR/psql" -h 127.0.0.1 -p "$TELOS_PG_PORT" -U telos_app -d telos -XAt \
        -c "select current_user" 2>&1)" telos_app
  out=$(PGPASSWORD="wrong$app_pw" "$PG_BINDIR/psql" -h 127.0.0.1 -p "$TELOS_PG_PORT" -U telos_app -d telos -XAt -c 'select 1' 2>&1); rc=$?
  if [ "$rc" -ne 0 ] && grep -q 'password authentication failed' <<<"$out"; then
    ok "TCP as telos_app with a wrong password fails"
  else not_ok "TCP as telos_app with a wrong password fails" "rc=$rc $out"; fi
else
  not_ok "the credentials file has TELOS_APP_PASSWORD"
fi

# --- migrations -----------------------------------------------------------------

count() { psql_owner -c 'select count(*) from schema_migrations' 2>&1; }
before=$(count)
out=$("$TELOS" migrate 2>&1); rc=$?
eq "telos migrate on an up-to-date database succeeds" "$rc" 0
case "$out" in *"0 applied"*) ok "telos migrate again applies nothing" ;;
  *) not_ok "telos migrate again applies nothing" "$out" ;; esac
eq "schema_migrations row count unchanged by a second run" "$(count)" "$before"
eq "schema_migrations is owned by telos_owner" \
   "$(psql_owner -c "select tableowner from pg_tables where tablename = 'schema_migrations'" 2>&1)" telos_owner
out=$("$TELOS" migrate --status 2>&1); rc=$?
eq "telos migrate --status exits 0" "$rc" 0
if [ "$before" -gt 0 ] && [ "$(grep -c ' applied ' <<<"$out")" -eq "$before" ] && ! grep -q pending <<<"$out"; then
  ok "telos migrate --status lists every migration as applied"
else not_ok "telos migrate --status lists every migration as applied" "$out"; fi
eq "checksums are BLAKE2b-256 hex" \
   "$(psql_owner -c "select count(*) from schema_migrations where checksum !~ '^[0-9a-f]{64}\$'" 2>&1)" 0

first=$(psql_owner -c 'select name from schema_migrations order by name limit 1' 2>&1)
saved=$(psql_owner -c "select checksum from schema_migrations where name = '$first'" 2>&1)
if [ -n "$first" ] && [ ${#saved} -eq 64 ]; then
  psql_owner -c "update schema_migrations set checksum = repeat('0', 64) where name = '$first'" >/dev/null
  out=$("$TELOS" migrate 2>&1); rc=$?
  psql_owner -c "update schema_migrations set checksum = '$saved' where name = '$first'" >/dev/null
  if [ "$rc" -ne 0 ] && grep -q "$first" <<<"$out" && grep -q "$saved" <<<"$out"; then
    ok "a changed checksum fails telos migrate, naming the file and checksum"
  else not_ok "a changed checksum fails telos migrate, naming the file and checksum" "rc=$rc $out"; fi
  eq "after restoring the checksum, migrate succeeds again" "$("$TELOS" migrate >/dev/null 2>&1; echo $?)" 0
else
  not_ok "a migration is recorded to test checksums with" "first=$first saved=$saved"
fi

# --- command line -------------------------------------------------------------

"$TELOS" db >/dev/null 2>&1
eq "telos db without a command exits 2" "$?" 2
"$TELOS" db frobnicate >/dev/null 2>&1
eq "telos db with an unknown command exits 2" "$?" 2
out=$("$TELOS" db --help 2>&1); rc=$?
if [ "$rc" -eq 0 ] && grep -q 'psql' <<<"$out"; then ok "telos db --help describes the commands"
else not_ok "telos db --help describes the commands" "rc=$rc $out"; fi
"$TELOS" migrate --bogus >/dev/null 2>&1
eq "telos migrate with an unknown option exits 2" "$?" 2
out=$(TELOS_DATABASE_URL=postgresql://127.0.0.1:1/x "$TELOS" db stop 2>&1); rc=$?
if [ "$rc" -ne 0 ] && grep -q 'external' <<<"$out"; then ok "db stop refuses an external server"
else not_ok "db stop refuses an external server" "rc=$rc $out"; fi

# --- a throwaway cluster: start, stop, status, restart (run by us) -------------

home="$TMPDIR_T/root-home"
port=$(free_port)
mkdir -p "$home" && chmod 755 "$home"
EXTRA_HOMES+=("$home $port root")
tdb() { TELOS_HOME=$home TELOS_PG_PORT=$port "$TELOS" db "$@"; }
tdb status >/dev/null 2>&1
eq "db status of a home without a cluster exits 3" "$?" 3
out=$(tdb init 2>&1); rc=$?
rc_ok "db init creates a cluster" "$rc" "$out"
out=$(tdb init 2>&1); rc=$?
if [ "$rc" -eq 0 ] && grep -q 'already' <<<"$out"; then ok "db init again is a no-op"
else not_ok "db init again is a no-op" "rc=$rc $out"; fi
tdb status >/dev/null 2>&1
eq "db status of an initialized, stopped cluster exits 3" "$?" 3
out=$(tdb start 2>&1); rc=$?
rc_ok "db start starts the throwaway cluster" "$rc" "$out"
tdb status >/dev/null 2>&1
eq "db status exits 0 once started" "$?" 0
eq "the throwaway cluster has the roles after start" \
   "$(TELOS_HOME=$home TELOS_PG_PORT=$port "$TELOS" db psql --role telos_app -XAt -c 'select current_user' 2>&1)" telos_app
TELOS_HOME=$home TELOS_PG_PORT=$port "$TELOS" db psql -XAtq -c 'create table survivor (x int)' \
  -c 'insert into survivor values (42)' >/dev/null 2>&1
if [ "$(id -u)" -eq 0 ]; then
  eq "as root, the cluster belongs to the postgres account" "$(stat -c %U "$home/pg")" postgres
fi
out=$(tdb stop 2>&1); rc=$?
rc_ok "db stop stops it" "$rc" "$out"
tdb status >/dev/null 2>&1
eq "db status exits 3 once stopped" "$?" 3
out=$(tdb stop 2>&1); rc=$?
if [ "$rc" -eq 0 ] && grep -q 'not running' <<<"$out"; then ok "db stop when stopped is a no-op"
else not_ok "db stop when stopped is a no-op" "rc=$rc $out"; fi
out=$(tdb start 2>&1); rc=$?
rc_ok "db start starts it again" "$rc" "$out"
eq "the data survives stop and start" \
   "$(TELOS_HOME=$home TELOS_PG_PORT=$port "$TELOS" db psql -XAt -c 'select x from survivor' 2>&1)" 42
out=$(tdb restart 2>&1); rc=$?
rc_ok "db restart succeeds" "$rc" "$out"

# A preloaded library is mapped at postmaster start: after `make install` a
# running cluster must be restarted, and only then.
tsetup() { TELOS_HOME=$home TELOS_PG_PORT=$port "$TELOS" setup 2>&1; }
pid_of() { head -1 "$home/pg/postmaster.pid" 2>/dev/null; }
out=$(tsetup); rc=$?
rc_ok "setup on the running throwaway cluster" "$rc" "$out"
pid1=$(pid_of)
out=$(tsetup)
if ! grep -q 'restarting' <<<"$out" && [ "$(pid_of)" = "$pid1" ]; then
  ok "setup with the same library keeps the cluster running"
else not_ok "setup with the same library keeps the cluster running" "$out"; fi
echo "stale" >"$home/pg_library.stamp"
out=$(tsetup); rc=$?
if [ "$rc" -eq 0 ] && grep -q 'restarting' <<<"$out" && [ -n "$(pid_of)" ] && [ "$(pid_of)" != "$pid1" ]; then
  ok "setup restarts a cluster started with another build of the library"
else not_ok "setup restarts a cluster started with another build of the library" "rc=$rc $out"; fi
tdb stop >/dev/null 2>&1

# --- as root: the postgres account must reach the home -------------------------

if [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1; then
  closed="$TMPDIR_T/closed"
  mkdir -p "$closed/home" && chmod 700 "$closed"
  out=$(TELOS_HOME="$closed/home" TELOS_PG_PORT=$port "$TELOS" db init 2>&1); rc=$?
  if [ "$rc" -ne 0 ] && grep -q "$closed" <<<"$out" && grep -q 'chmod' <<<"$out"; then
    ok "as root, an unreachable TELOS_HOME is refused naming the directory and the fix"
  else not_ok "as root, an unreachable TELOS_HOME is refused naming the directory and the fix" "rc=$rc $out"; fi
fi

# --- the non-root path: everything as the postgres account ---------------------

if [ "$(id -u)" -eq 0 ] && id postgres >/dev/null 2>&1 && command -v runuser >/dev/null; then
  base="$TMPDIR_T/pg-user"
  mkdir -p "$base" && chown postgres: "$base" && chmod 755 "$TMPDIR_T"
  uhome="$base/home"
  uport=$(free_port)
  EXTRA_HOMES+=("$uhome $uport postgres")
  udb() { runuser -u postgres -- env TELOS_HOME="$uhome" TELOS_PG_PORT="$uport" "$TELOS" "$@"; }
  out=$(udb db init 2>&1); rc=$?
  rc_ok "as a normal user (postgres): db init" "$rc" "$out"
  out=$(udb db start 2>&1); rc=$?
  rc_ok "as a normal user: db start" "$rc" "$out"
  eq "as a normal user: the cluster and credentials are that user's" \
     "$(stat -c %U:%a "$uhome/pg") $(stat -c %U:%a "$uhome/credentials")" "postgres:700 postgres:600"
  eq "as a normal user: db psql --role telos_app" \
     "$(udb db psql --role telos_app -XAt -c 'select current_user' 2>&1)" telos_app
  out=$(udb migrate 2>&1); rc=$?
  rc_ok "as a normal user: telos migrate" "$rc" "$out"
  udb db status >/dev/null 2>&1
  eq "as a normal user: db status exits 0" "$?" 0
  out=$(udb db stop 2>&1); rc=$?
  rc_ok "as a normal user: db stop" "$rc" "$out"
  udb db status >/dev/null 2>&1
  eq "as a normal user: db status exits 3 after stop" "$?" 3
else
  ok "db init/start/stop as a normal user # SKIP needs root, a postgres account and runuser"
fi

# The shared cluster is still up for the other scripts.
"$TELOS" db status >/dev/null 2>&1
eq "the shared cluster is still running" "$?" 0
