#!/usr/bin/env bash
# t_rls_sql.sh -- tenant isolation proven in SQL, below the HTTP layer.
#
# Two tenants A and B get rows in every tenant table; then, for every table
# the catalog lists in schema public with a tenant_id column (plus tenants),
# we check that RLS is enabled and forced, that telos_app with no tenant set
# sees nothing, that with A set it sees only A and can neither change nor
# create B's rows, that FORCE binds the owner too, that API key hashes are
# reachable only through auth.tenant_for_key, and that telos_app holds no
# power of its own. The table list comes from the catalog, so a new table
# without RLS -- or without rows in the seeding below -- fails here.
#
# Needs: psql_as through `$TELOS db psql --role R` for telos_owner,
# telos_app and telos_worker (see tests/lib.sh).
. "$(dirname "$0")/lib.sh"

psql_worker() { psql_as telos_worker "$@"; }

# as_tenant ROLE TENANT SQL -- run SQL as ROLE in one transaction with
# app.current_tenant_id set (transaction-local, as requests do) to TENANT;
# TENANT "-" leaves it unset. Prints the result rows and, merged, any error
# in verbose form ("ERROR:  42501: ...") so callers can match the SQLSTATE.
as_tenant() {
  local role=$1 tenant=$2 sql=$3 set=""
  [ "$tenant" != "-" ] && set="SELECT set_config('app.current_tenant_id', '$tenant', true) AS t \\gset"
  psql_as "$role" -v VERBOSITY=verbose 2>&1 <<SQL
BEGIN;
$set
$sql
COMMIT;
SQL
}

# expect_err NAME OUTPUT SQLSTATE REGEX -- OUTPUT holds an error with that
# SQLSTATE whose message matches REGEX.
expect_err() {
  if printf '%s' "$2" | grep -Eq "ERROR: +$3: .*($4)"; then ok "$1"
  else not_ok "$1" "want $3 /$4/, got: $(printf '%s' "$2" | head -3 | tr '\n' ' ')"; fi
}

# ---------------------------------------------------------------------------
# Set-up: tenants A and B with a row in every tenant table.
# ---------------------------------------------------------------------------
A=$(psql_owner -c 'select gen_random_uuid()')
B=$(psql_owner -c 'select gen_random_uuid()')
# 32-byte key hashes, as the server's BLAKE2b-256 would produce.
rnd_hash() { psql_owner -c "select encode(sha256(gen_random_uuid()::text::bytea), 'hex')"; }
HASH_A=$(rnd_hash); HASH_B=$(rnd_hash); HASH_A_REVOKED=$(rnd_hash); HASH_UNKNOWN=$(rnd_hash)
HASH_B_REVOKED=$(rnd_hash)

# seed TENANT NAME HASH REVOKED_HASH -- as telos_owner, which FORCE RLS binds
# too: the tenant id is set before its first row is written.
seed() {
  as_tenant telos_owner "$1" "
INSERT INTO tenants (id, name, tier, timezone) VALUES ('$1', '$2', 'standard', 'Europe/Paris');
INSERT INTO users (tenant_id, id, email, name, role)
     VALUES ('$1', '$1', 'ceo@$2.test', 'CEO of $2', 'owner');
INSERT INTO api_keys (tenant_id, key_hash, prefix, name)
     VALUES ('$1', decode('$3', 'hex'), 'tk_live', 'main');
INSERT INTO api_keys (tenant_id, key_hash, prefix, name, revoked_at)
     VALUES ('$1', decode('$4', 'hex'), 'tk_old0', 'old', now());
INSERT INTO metric_definitions (tenant_id, metric_type, unit, description, aggregation)
     VALUES ('$1', 'revenue', 'EUR', 'monthly revenue', 'sum');
-- one row in a weekly partition, one in the default partition
INSERT INTO business_metrics_raw (tenant_id, time, metric_type, value)
     VALUES ('$1', now(), 'revenue', 100), ('$1', now() - interval '3 years', 'revenue', 50);
INSERT INTO business_metrics_aggregated
     VALUES ('$1', 'revenue', 'day', date_trunc('day', now()), 1, 100, 100, 100, 100, 100);
INSERT INTO evidence_edges (tenant_id, source_node, target_node, edge_type, confidence, evidence)
     VALUES ('$1', '{\"type\":\"event\",\"id\":\"campaign\"}', '{\"type\":\"metric\",\"id\":\"revenue\"}',
             'causes', 0.80, '{\"method\":\"granger_causality\",\"p_value\":0.03}');
INSERT INTO smart_goals (tenant_id, user_id, status, specific, measurable, achievable, relevant, time_bound)
     VALUES ('$1', '$1', 'active', '{\"description\":\"grow\"}', '{\"primary_metric_id\":\"revenue\"}',
             '{}', '{}', '{\"target_date\":\"2030-01-31\"}');
-- the goal's audit trail (written by goal_transition(); here directly, as owner)
INSERT INTO goal_transitions (tenant_id, goal_id, action, from_status, to_status, actor)
     SELECT '$1', id, 'activate', 'draft', 'active', '$1' FROM smart_goals;
INSERT INTO coaching_sessions (tenant_id, user_id, session_type, session_summary)
     VALUES ('$1', '$1', 'goal_discovery', 'kick-off');
INSERT INTO data_sources (tenant_id, source_type, config)
     VALUES ('$1', 'erpnext', '{\"api_url\":\"https://erp.example\",\"auth_type\":\"token\",\"credentials_ref\":\"file:erp\"}');
INSERT INTO external_benchmarks (tenant_id, kind, metric_type, industry, period_start, period_end, vintage,
                                 p10, p25, p50, p75, p90, source)
     VALUES ('$1', 'industry_percentile', 'revenue', '5112', '2024-01-01', '2024-12-31', '2025-02-01',
             1, 2, 3, 4, 5, 'own survey');
INSERT INTO idempotency_keys (tenant_id, key, request_hash, status, response)
     VALUES ('$1', 'retry-$2', sha256('$2'::bytea), 200, '{\"accepted\": 1}');
INSERT INTO business_events (tenant_id, kind, name, occurred_at)
     VALUES ('$1', 'price_change', 'Price +10%', now());
-- 'done', so that the discovery job runner leaves it alone
INSERT INTO discovery_jobs (tenant_id, params, status) VALUES ('$1', '{\"maxlag\": 7}', 'done');
-- a change of an edge keeps its previous version in evidence_edge_history
UPDATE evidence_edges SET confidence = 0.81 WHERE edge_type = 'causes';
SELECT 'seeded';"
}
out=$(seed "$A" tenant_a "$HASH_A" "$HASH_A_REVOKED")
eq "seed tenant A in every tenant table (as owner, tenant set)" "$out" "seeded"
out=$(seed "$B" tenant_b "$HASH_B" "$HASH_B_REVOKED")
eq "seed tenant B in every tenant table (as owner, tenant set)" "$out" "seeded"

# A global benchmark row: only telos_worker (BYPASSRLS) can write one.
GLOBAL=$(psql_worker -c "INSERT INTO external_benchmarks
    (tenant_id, kind, indicator, region, period_start, period_end, vintage, value, unit, source)
    VALUES (NULL, 'economic_indicator', 'us.cpi_u', 'US', '2024-01-01', '2024-01-31', '2024-02-13',
            308.4, 'index', 'BLS ' || gen_random_uuid()) RETURNING id")
check "worker inserts a global benchmark row" test -n "$GLOBAL"

# ---------------------------------------------------------------------------
# The tables under test, from the catalog.
# ---------------------------------------------------------------------------
TABLES_WHERE="n.nspname = 'public' AND c.relkind IN ('r', 'p')
  AND (c.relname = 'tenants' OR EXISTS (SELECT 1 FROM pg_attribute a
        WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))"
ALL_TABLES=$(psql_owner -c "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE $TABLES_WHERE ORDER BY 1")
# Partitions are reached through their parent: the loops below use parents.
TABLES=$(psql_owner -c "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE $TABLES_WHERE AND NOT c.relispartition ORDER BY 1")

for t in tenants users api_keys metric_definitions business_metrics_raw business_metrics_aggregated \
         evidence_edges smart_goals coaching_sessions data_sources external_benchmarks \
         evidence_edge_history business_events discovery_jobs goal_transitions; do
  if grep -qx "$t" <<<"$TABLES"; then ok "catalog lists tenant table $t"
  else not_ok "catalog lists tenant table $t" "tables: $(echo $TABLES)"; fi
done
check "catalog lists weekly partitions of business_metrics_raw" \
  grep -q '^business_metrics_raw_p[0-9]\{8\}$' <<<"$ALL_TABLES"

keycol() { [ "$1" = tenants ] && echo id || echo tenant_id; }
app_can() { psql_owner -c "SELECT has_table_privilege('telos_app', 'public.$1', '$2')"; }

# (1) RLS enabled and forced, with a tenant_isolation policy, on every table
# including each partition (so direct access to a partition is filtered too).
for t in $ALL_TABLES; do
  eq "$t: RLS enabled and forced" \
    "$(psql_owner -c "SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 'public.$t'::regclass")" t
  eq "$t: has policy tenant_isolation" \
    "$(psql_owner -c "SELECT count(*) FROM pg_policy WHERE polrelid = 'public.$t'::regclass AND polname = 'tenant_isolation'")" 1
done

# Every table has rows for both tenants (seen by the owner, tenant set):
# otherwise the isolation checks below would prove nothing for it.
for t in $TABLES; do
  k=$(keycol "$t")
  n=$(as_tenant telos_owner "$A" "SELECT count(*) FROM $t WHERE $k = '$A';")
  check "$t: tenant A has rows" test "$n" -gt 0
  n=$(as_tenant telos_owner "$B" "SELECT count(*) FROM $t WHERE $k = '$B';")
  check "$t: tenant B has rows" test "$n" -gt 0
done

# (2) telos_app with no tenant set (and with an empty one) sees nothing.
for t in $TABLES; do
  if [ "$(app_can "$t" SELECT)" = t ]; then
    eq "$t: telos_app, tenant unset, sees 0 rows" "$(as_tenant telos_app - "SELECT count(*) FROM $t;")" 0
    eq "$t: telos_app, tenant '', sees 0 rows" "$(as_tenant telos_app "" "SELECT count(*) FROM $t;")" 0
  else
    expect_err "$t: telos_app has no SELECT privilege" \
      "$(as_tenant telos_app - "SELECT count(*) FROM $t;")" 42501 "permission denied"
  fi
done

# (3) telos_app with A set: only A's rows; B's rows unreachable.
for t in $TABLES; do
  k=$(keycol "$t")
  before_b=$(as_tenant telos_owner "$B" "SELECT count(*) FROM $t;")

  if [ "$(app_can "$t" SELECT)" = t ]; then
    # tenant_id <> A is NULL for global benchmark rows: they are checked apart.
    eq "$t: telos_app as A sees only A rows" \
      "$(as_tenant telos_app "$A" "SELECT count(*) FILTER (WHERE $k <> '$A') || ' ' || (count(*) FILTER (WHERE $k = '$A') > 0) FROM $t;")" "0 true"
  fi
  # The same through the owner, whom FORCE binds (covers tables telos_app
  # cannot read at all, such as api_keys).
  eq "$t: telos_owner as A sees only A rows" \
    "$(as_tenant telos_owner "$A" "SELECT count(*) FILTER (WHERE $k <> '$A') || ' ' || (count(*) FILTER (WHERE $k = '$A') > 0) FROM $t;")" "0 true"

  out=$(as_tenant telos_app "$A" "WITH u AS (UPDATE $t SET $k = $k WHERE $k = '$B' RETURNING 1) SELECT count(*) FROM u;")
  if [ "$(app_can "$t" UPDATE)" = t ]; then
    eq "$t: telos_app as A updates 0 rows of B" "$out" 0
    out=$(as_tenant telos_app "$A" "UPDATE $t SET $k = '$B' WHERE $k = '$A';")
    expect_err "$t: telos_app as A cannot move its rows to B" "$out" 42501 "violates row-level security"
  else
    expect_err "$t: telos_app has no UPDATE privilege" "$out" 42501 "permission denied"
  fi

  out=$(as_tenant telos_app "$A" "WITH d AS (DELETE FROM $t WHERE $k = '$B' RETURNING 1) SELECT count(*) FROM d;")
  if [ "$(app_can "$t" DELETE)" = t ]; then
    eq "$t: telos_app as A deletes 0 rows of B" "$out" 0
  else
    expect_err "$t: telos_app has no DELETE privilege" "$out" 42501 "permission denied"
  fi

  # Insert a copy of one of A's rows relabelled as B's; the column list comes
  # from the catalog so the statement fits any table.
  out=$(as_tenant telos_app "$A" "DO \$\$
DECLARE cols text; exprs text;
BEGIN
  SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum),
         string_agg(CASE WHEN attname = '$k' THEN quote_literal('$B') || '::uuid'
                         ELSE quote_ident(attname) END, ', ' ORDER BY attnum)
    INTO cols, exprs
    FROM pg_attribute WHERE attrelid = 'public.$t'::regclass AND attnum > 0 AND NOT attisdropped
     AND attgenerated = '';   -- generated columns (evidence_edges' node keys) are computed
  EXECUTE format('INSERT INTO public.%I (%s) SELECT %s FROM public.%I WHERE %I = %L LIMIT 1',
                 '$t', cols, exprs, '$t', '$k', '$A');
END
\$\$;")
  if [ "$(app_can "$t" INSERT)" = t ]; then
    expect_err "$t: telos_app as A cannot insert a row of B" "$out" 42501 "new row violates row-level security"
  else
    expect_err "$t: telos_app has no INSERT privilege" "$out" 42501 "permission denied"
  fi

  eq "$t: B's rows untouched" "$(as_tenant telos_owner "$B" "SELECT count(*) FROM $t;")" "$before_b"
done

# Global benchmark rows: visible to a tenant, never writable by one.
eq "external_benchmarks: telos_app as A sees the global row" \
  "$(as_tenant telos_app "$A" "SELECT count(*) FROM external_benchmarks WHERE id = '$GLOBAL';")" 1
eq "external_benchmarks: telos_app as A updates 0 global rows" \
  "$(as_tenant telos_app "$A" "WITH u AS (UPDATE external_benchmarks SET value = 0 WHERE tenant_id IS NULL RETURNING 1) SELECT count(*) FROM u;")" 0
eq "external_benchmarks: telos_app as A deletes 0 global rows" \
  "$(as_tenant telos_app "$A" "WITH d AS (DELETE FROM external_benchmarks WHERE tenant_id IS NULL RETURNING 1) SELECT count(*) FROM d;")" 0
expect_err "external_benchmarks: telos_app as A cannot insert a global row" \
  "$(as_tenant telos_app "$A" "INSERT INTO external_benchmarks (tenant_id, kind, indicator, period_start, period_end, vintage, value, source)
      VALUES (NULL, 'economic_indicator', 'fake', '2024-01-01', '2024-01-31', '2024-02-01', 1, 'me');")" \
  42501 "new row violates row-level security"
expect_err "external_benchmarks: telos_app as A cannot turn its row global" \
  "$(as_tenant telos_app "$A" "UPDATE external_benchmarks SET tenant_id = NULL WHERE tenant_id = '$A';")" \
  42501 "violates row-level security"
eq "external_benchmarks: global row intact" \
  "$(psql_worker -c "SELECT value FROM external_benchmarks WHERE id = '$GLOBAL'")" 308.4
eq "external_benchmarks: telos_app with no tenant does not see the global row" \
  "$(as_tenant telos_app - "SELECT count(*) FROM external_benchmarks WHERE id = '$GLOBAL';")" 0
eq "external_benchmarks: telos_app as A can update its own row" \
  "$(as_tenant telos_app "$A" "WITH u AS (UPDATE external_benchmarks SET unit = 'EUR' WHERE tenant_id = '$A' RETURNING 1) SELECT count(*) FROM u;")" 1

# Partitions are not a way around the parent.
expect_err "telos_app cannot read a partition directly" \
  "$(as_tenant telos_app "$A" "SELECT count(*) FROM business_metrics_raw_default;")" 42501 "permission denied"

# (4) FORCE: the owner with no tenant set sees nothing either.
for t in $TABLES; do
  eq "$t: telos_owner, tenant unset, sees 0 rows (FORCE)" "$(as_tenant telos_owner - "SELECT count(*) FROM $t;")" 0
done

# (5) API key hashes: only through auth.tenant_for_key.
expect_err "telos_app cannot read api_keys.key_hash" \
  "$(as_tenant telos_app - "SELECT key_hash FROM api_keys;")" 42501 "permission denied"
expect_err "telos_app as A cannot read api_keys.key_hash" \
  "$(as_tenant telos_app "$A" "SELECT key_hash FROM api_keys;")" 42501 "permission denied"
eq "auth.tenant_for_key(hash of A's key) = A" \
  "$(as_tenant telos_app - "SELECT auth.tenant_for_key(decode('$HASH_A', 'hex'));")" "$A"
eq "auth.tenant_for_key(hash of B's key) = B" \
  "$(as_tenant telos_app - "SELECT auth.tenant_for_key(decode('$HASH_B', 'hex'));")" "$B"
eq "auth.tenant_for_key(unknown hash) is NULL" \
  "$(as_tenant telos_app - "SELECT coalesce(auth.tenant_for_key(decode('$HASH_UNKNOWN', 'hex'))::text, 'NULL');")" NULL
eq "auth.tenant_for_key(revoked key's hash) is NULL" \
  "$(as_tenant telos_app - "SELECT coalesce(auth.tenant_for_key(decode('$HASH_A_REVOKED', 'hex'))::text, 'NULL');")" NULL
eq "auth.tenant_for_key(NULL) is NULL" \
  "$(as_tenant telos_app - "SELECT coalesce(auth.tenant_for_key(NULL)::text, 'NULL');")" NULL
eq "auth.tenant_for_key is SECURITY DEFINER owned by telos_auth with a pinned search_path" \
  "$(psql_owner -c "SELECT prosecdef, proowner::regrole, array_to_string(proconfig, ',') FROM pg_proc WHERE oid = 'auth.tenant_for_key(bytea)'::regprocedure")" \
  "t|telos_auth|search_path=pg_catalog, pg_temp"
eq "PUBLIC cannot execute auth.tenant_for_key" \
  "$(psql_owner -c "SELECT has_function_privilege('public', 'auth.tenant_for_key(bytea)', 'EXECUTE')")" f
eq "telos_worker cannot execute auth.tenant_for_key" \
  "$(psql_owner -c "SELECT has_function_privilege('telos_worker', 'auth.tenant_for_key(bytea)', 'EXECUTE')")" f
eq "telos_auth may only SELECT api_keys" \
  "$(psql_owner -c "SELECT has_table_privilege('telos_auth', 'public.api_keys', 'SELECT'),
                           has_table_privilege('telos_auth', 'public.api_keys', 'UPDATE,INSERT,DELETE')")" "t|f"

# (6) telos_app holds no power of its own.
eq "telos_app is neither superuser nor BYPASSRLS, cannot create roles or databases" \
  "$(psql_owner -c "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = 'telos_app'")" "f|f|f|f"
# Temporary objects are not counted: ingest COPYs through a temp staging
# table per pooled connection (see server/src/ingest.h), which lives and
# dies with its session and gives no power over anything else.
eq "telos_app owns no relation (but session temp tables)" \
  "$(psql_owner -c "SELECT count(*) FROM pg_class WHERE relowner = 'telos_app'::regrole AND relpersistence <> 't'")" 0
eq "telos_app owns no function, schema or type (but temp tables' row types)" \
  "$(psql_owner -c "SELECT (SELECT count(*) FROM pg_proc WHERE proowner = 'telos_app'::regrole)
                         + (SELECT count(*) FROM pg_namespace WHERE nspowner = 'telos_app'::regrole)
                         + (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                             WHERE t.typowner = 'telos_app'::regrole
                               AND n.nspname !~ '^pg_(toast_)?temp_')")" 0
eq "telos_app cannot create in schema public" \
  "$(psql_owner -c "SELECT has_schema_privilege('telos_app', 'public', 'CREATE')")" f
eq "telos_app is not a member of telos_owner, telos_worker or telos_auth" \
  "$(psql_owner -c "SELECT pg_has_role('telos_app', 'telos_owner', 'USAGE') OR pg_has_role('telos_app', 'telos_worker', 'USAGE') OR pg_has_role('telos_app', 'telos_auth', 'USAGE')")" f

# ---------------------------------------------------------------------------
# Clean-up (telos_worker spans tenants): deleting a tenant cascades to every
# table with a foreign key; raw metrics have none and go explicitly.
# ---------------------------------------------------------------------------
# Raw metrics may sit in compressed chunks (the compression policy runs in
# this cluster), which a plain DELETE cannot reach: telos.delete_tenant.
out=$(psql_worker -c "DO \$\$ BEGIN PERFORM telos.delete_tenant('business_metrics_raw', t) FROM unnest(ARRAY['$A', '$B']::uuid[]) t; END \$\$;
  DELETE FROM business_metrics_aggregated WHERE tenant_id IN ('$A', '$B');
  DELETE FROM external_benchmarks WHERE id = '$GLOBAL';
  DELETE FROM tenants WHERE id IN ('$A', '$B');" 2>&1)
eq "worker deletes both tenants (cascade)" "$out" ""
left=0
for t in $TABLES; do
  k=$(keycol "$t")
  n=$(psql_worker -c "SELECT count(*) FROM $t WHERE $k IN ('$A', '$B')")
  left=$((left + n))
done
eq "no row of A or B left" "$left" 0
