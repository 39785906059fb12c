#!/usr/bin/env bash
# t_vector.sh -- the seed's semantic search column on coaching_sessions
# (migration 0011: session_embedding vector(1536) and the ivfflat cosine
# index, from the telos_vector extension) in the real schema: the column and
# index are there as the seed wrote them, and a nearest-neighbour query as
# telos_app returns its own tenant's sessions only -- k of them, nearest
# first -- whichever plan the planner picks, with or without the index.
. "$(dirname "$0")/lib.sh"

eq "session_embedding is vector(1536)" \
  "$(psql_owner -c "SELECT format_type(atttypid, atttypmod) FROM pg_attribute
                     WHERE attrelid = 'public.coaching_sessions'::regclass AND attname = 'session_embedding'")" \
  "vector(1536)"
eq "idx_session_embedding is ivfflat with vector_cosine_ops" \
  "$(psql_owner -c "SELECT am.amname || ' ' || opc.opcname FROM pg_index i
                      JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam
                      JOIN pg_opclass opc ON opc.oid = i.indclass[0]
                     WHERE c.relname = 'idx_session_embedding'")" \
  "ivfflat vector_cosine_ops"
eq "the vector type comes from telos_vector (or pgvector)" \
  "$(psql_owner -c "SELECT count(*) FROM pg_extension WHERE extname IN ('telos_vector', 'vector')")" 1

new_tenant vec-a; A=$TENANT_ID
new_tenant vec-b; B=$TENANT_ID
# 30 sessions per tenant, embeddings on a few directions of 1536 dimensions:
# session k of a tenant points mostly along axis k % 5 (tenant b along the
# same axes, so its rows compete for the same neighbours).
seed() {
  psql_as telos_worker -c "
    INSERT INTO users (tenant_id, id, email, role) VALUES ('$1', '$1', 'vec-$1@example.com', 'admin')
      ON CONFLICT DO NOTHING;
    INSERT INTO coaching_sessions (tenant_id, user_id, session_type, session_summary, session_embedding)
    SELECT '$1', '$1', 'goal_discovery', 'session ' || k,
           (SELECT array_agg(CASE WHEN d = k % 5 + 1 THEN 1.0 ELSE 0.01 * ((d * 7 + k * 13) % 11) END ORDER BY d)
              FROM generate_series(1, 1536) d)::vector(1536)
      FROM generate_series(1, 30) k" >/dev/null
}
if seed "$A" && seed "$B"; then ok "sessions with embeddings stored for two tenants"; else not_ok "sessions with embeddings stored for two tenants"; fi

QVEC="(SELECT array_agg(CASE WHEN d = 3 THEN 1.0 ELSE 0 END ORDER BY d) FROM generate_series(1, 1536) d)::vector(1536)"
knn() {  # knn TENANT EXTRA_SETTINGS -> "tenants|count|nearest axis ok"
  psql_app -f - <<SQL 2>&1 | tail -1
BEGIN;
SELECT set_config('app.current_tenant_id', '$1', true) \\g /dev/null
$2
SELECT count(DISTINCT tenant_id) || '|' || count(*) || '|' || bool_and(session_summary IN
         ('session 2','session 7','session 12','session 17','session 22','session 27'))
  FROM (SELECT tenant_id, session_summary FROM coaching_sessions
         ORDER BY session_embedding <=> $QVEC LIMIT 6) s;
COMMIT;
SQL
}
eq "nearest 6 as tenant a: its own rows, the 6 along the query's axis" "$(knn "$A" "")" "1|6|true"
eq "same through the ivfflat index (seq scan off)" \
  "$(knn "$A" "SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = on;")" "1|6|true"
eq "tenant b sees its own 6" "$(knn "$B" "")" "1|6|true"
eq "no tenant set: no rows (fail-closed)" \
  "$(psql_app -c "SELECT count(*) FROM (SELECT 1 FROM coaching_sessions ORDER BY session_embedding <=> $QVEC LIMIT 6) s")" 0
eq "wrong dimension is refused" \
  "$(psql_app -c "SELECT '[1,2,3]'::vector(1536)" 2>&1 | grep -o 'expected 1536 dimensions' | head -1)" \
  "expected 1536 dimensions"

psql_as telos_worker -c "DELETE FROM coaching_sessions WHERE tenant_id IN ('$A', '$B');
                         DELETE FROM users WHERE tenant_id IN ('$A', '$B');
                         DELETE FROM tenants WHERE id IN ('$A', '$B')" >/dev/null
