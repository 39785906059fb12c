# tests/lib.sh -- sourced by every black-box test script tests/t_*.sh.
#
# tests/run.sh starts a throwaway cluster and server and exports:
#   TELOS       absolute path of the telos binary
#   TELOS_HOME  the temp home (cluster in $TELOS_HOME/pg)
#   TELOS_PG_PORT, TELOS_PORT, BASE_URL (http://127.0.0.1:PORT)
#   TMPDIR_T    a scratch directory for this script
# Each assertion prints one TAP-style line, "ok - NAME" or "not ok - NAME",
# which run.sh counts. A script's exit status is ignored; only lines count.

T_FAILS=0

ok()     { echo "ok - $*"; }
not_ok() { echo "not ok - $1"; shift; [ $# -gt 0 ] && echo "#   $*"; T_FAILS=$((T_FAILS + 1)); }

# eq NAME GOT WANT
eq() {
  if [ "$2" == "$3" ]; then ok "$1"; else not_ok "$1" "got [$2] want [$3]"; fi
}

# check NAME CMD... -- passes when CMD exits 0
check() {
  local name=$1; shift
  if "$@" >/dev/null 2>&1; then ok "$name"; else not_ok "$name" "command failed: $*"; fi
}

# SQL as a role, tuples only, unaligned: psql_as ROLE -c '...'
psql_as() {
  local role=$1; shift
  "$TELOS" db psql --role "$role" -X -q -A -t -v ON_ERROR_STOP=1 "$@"
}
psql_owner() { psql_as telos_owner "$@"; }
psql_app()   { psql_as telos_app "$@"; }

# HTTP: req METHOD PATH [KEY] [BODY] [extra curl args...]
# Sets RES_STATUS, RES_BODY, RES_CTYPE.
req() {
  local method=$1 path=$2 key=${3:-} body=${4:-}
  shift 4 2>/dev/null || shift $#
  local args=(-s -o "$TMPDIR_T/body" -w '%{http_code} %{content_type}' -X "$method")
  [ -n "$key" ] && args+=(-H "Authorization: Bearer $key")
  [ -n "$body" ] && args+=(-H 'Content-Type: application/json' --data-binary "$body")
  local out
  out=$(curl "${args[@]}" "$@" "$BASE_URL$path")
  RES_STATUS=${out%% *}
  RES_CTYPE=${out#* }
  RES_BODY=$(cat "$TMPDIR_T/body")
}

# jq on the last response body: jqr '.field'
jqr() { printf '%s' "$RES_BODY" | jq -r "$1"; }

# A new tenant; sets TENANT_ID and TENANT_KEY.
new_tenant() {
  local out
  out=$("$TELOS" tenant create "$1" --json "${@:2}")
  TENANT_ID=$(printf '%s' "$out" | jq -r .tenant_id)
  TENANT_KEY=$(printf '%s' "$out" | jq -r .api_key)
}
