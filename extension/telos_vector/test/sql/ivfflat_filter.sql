--
-- ivfflat_filter: nearest neighbours of one tenant, with the tenant chosen
-- by row-level security as the seed's coaching_sessions does it (a policy
-- on current_setting('app.current_tenant_id'), queried by a role that owns
-- nothing and is subject to the policy), and by a plain WHERE clause.
--
-- 20,000 x 128 clustered unit vectors over 100 tenants of very unequal
-- sizes (one has 40% of the rows, the others 5 to 1,500), tenants
-- independent of the vectors -- the hard case for an index that only
-- probes a few lists. What must hold, at
-- the probes setting that gives recall@10 >= 0.95 without a filter:
--   - every query returns min(10, rows of the tenant) rows;
--   - recall@10 >= 0.95 for small, medium and large tenants alike;
--   - the planner reads a small tenant exactly through its btree index and
--     a large one through ivfflat.
-- The same queries with the widening turned off and the scan capped at the
-- probed lists (what a plain ivfflat index does) fail both checks.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos_vector;
DROP ROLE IF EXISTS regress_ivfflat_app;
RESET client_min_messages;
SET max_parallel_workers_per_gather = 0;

CREATE FUNCTION pseudo(bigint) RETURNS float8
  LANGUAGE sql IMMUTABLE AS $$ SELECT hashint8($1)::float8 / 2147483648.0 $$;
CREATE FUNCTION topic_point(seed bigint, f int) RETURNS vector
  LANGUAGE sql IMMUTABLE AS $$
  SELECT l2_normalize(array_agg(pseudo((f % 25) * 1000 + d) + 0.6 * pseudo(f::bigint * 1000 + d + 50000000)
                                + 2.5 * pseudo(seed * 1000 + d + 7777777) ORDER BY d)::vector(128))
    FROM generate_series(1, 128) d $$;
CREATE FUNCTION tenant_uuid(int) RETURNS uuid
  LANGUAGE sql IMMUTABLE AS $$ SELECT md5('tenant' || $1)::uuid $$;

-- The seed's shape: tenant first, RLS forced, the (tenant_id, user_id,
-- started_at DESC) btree, the ivfflat cosine index.
CREATE TABLE sessions (
    tenant_id  uuid NOT NULL,
    id         int NOT NULL,
    user_id    uuid NOT NULL,
    started_at timestamptz NOT NULL,
    embedding  vector(128),
    PRIMARY KEY (tenant_id, id)
);
-- tenant 1 gets 40% of the rows; of the rest, tenant t (2..100) gets a
-- share ln(t/(t-1)) / ln(100)
INSERT INTO sessions
SELECT tenant_uuid(t), i, md5('user' || (i % 7))::uuid,
       timestamptz '2024-01-01' + i * interval '1 minute',
       topic_point(i, floor(abs(pseudo(i + 55555555)) * 400)::int)
  FROM generate_series(1, 20000) i,
       LATERAL (SELECT CASE WHEN pseudo(i + 12345678) < -0.2 THEN 1
                            ELSE 1 + floor(exp((pseudo(i + 99999999) + 1) / 2 * ln(100)))::int END AS t) tt;
CREATE INDEX sessions_user ON sessions (tenant_id, user_id, started_at DESC);
CREATE INDEX sessions_embedding ON sessions USING ivfflat (embedding vector_cosine_ops) WITH (lists = 40);
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE sessions FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON sessions
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
ANALYZE sessions;

CREATE ROLE regress_ivfflat_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
GRANT SELECT ON sessions TO regress_ivfflat_app;

-- Tenants by size.
CREATE TABLE tenants AS
SELECT tenant_id, count(*) AS n,
       CASE WHEN count(*) < 100 THEN 'small' WHEN count(*) < 1000 THEN 'medium' ELSE 'large' END AS size
  FROM sessions GROUP BY tenant_id;
SELECT size, count(*) AS tenants, count(*) FILTER (WHERE n < 10) AS under_10
  FROM tenants GROUP BY size ORDER BY min(n);

-- Queries from the same topics as the data: two per tenant, twenty per
-- large tenant; exact answers by sequential scans (as the superuser
-- running the test: no policy).
CREATE TABLE queries AS
SELECT row_number() OVER (ORDER BY tenant_id, k)::int AS j, tenant_id,
       topic_point(900000 + row_number() OVER (ORDER BY tenant_id, k),
                   floor(abs(pseudo(row_number() OVER (ORDER BY tenant_id, k) + 4444444)) * 400)::int) AS q
  FROM tenants, LATERAL generate_series(1, CASE size WHEN 'large' THEN 20 ELSE 2 END) k;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
CREATE TABLE truth AS
SELECT j, array(SELECT id FROM sessions s WHERE s.tenant_id = queries.tenant_id
                 ORDER BY embedding <=> q LIMIT 10) AS ids,
          array(SELECT id FROM sessions ORDER BY embedding <=> q LIMIT 10) AS all_ids
  FROM queries;
RESET enable_indexscan;
RESET enable_bitmapscan;
GRANT SELECT ON queries, truth, tenants TO regress_ivfflat_app;

-- The probes setting that gives recall@10 >= 0.95 without a filter.
CREATE FUNCTION unfiltered_recall(probes int) RETURNS float8
  LANGUAGE plpgsql AS $$
DECLARE r float8;
BEGIN
  PERFORM set_config('ivfflat.probes', probes::text, true);
  SELECT avg(cardinality(array(SELECT unnest(all_ids) INTERSECT
                               SELECT unnest(array(SELECT id FROM sessions ORDER BY embedding <=> q LIMIT 10)))))::float8 / 10
    INTO r FROM queries JOIN truth USING (j);
  RETURN r;
END $$;
SELECT min(p) AS p095 FROM generate_series(1, 40) p WHERE unfiltered_recall(p) >= 0.95 \gset
SELECT :p095 BETWEEN 2 AND 24 AS probes_for_095_found;

-- Per tenant size: mean recall@10 and whether every query got
-- min(10, tenant rows) rows. Runs as the caller: RLS applies to the app
-- role. `how` is 'rls' (the policy picks the tenant) or 'where' (a WHERE
-- clause does, as the superuser: no policy).
CREATE FUNCTION filtered(how text)
  RETURNS TABLE (size text, recall float8, all_rows boolean)
  LANGUAGE plpgsql AS $$
DECLARE
  r record;
  got int[];
BEGIN
  PERFORM set_config('client_min_messages', 'warning', true);
  DROP TABLE IF EXISTS pg_temp.results;
  CREATE TEMP TABLE results (j int, size text, recall float8, complete boolean);
  FOR r IN SELECT j, q, t.tenant_id, t.n, t.size, truth.ids
             FROM queries JOIN tenants t USING (tenant_id) JOIN truth USING (j) LOOP
    -- EXECUTE: planned for each query with its values, as an application's
    -- unnamed extended-protocol statements are (PQexecParams)
    IF how = 'rls' THEN
      PERFORM set_config('app.current_tenant_id', r.tenant_id::text, true);
      EXECUTE 'SELECT array(SELECT id FROM sessions ORDER BY embedding <=> $1 LIMIT 10)'
        INTO got USING r.q;
    ELSE
      EXECUTE 'SELECT array(SELECT id FROM sessions WHERE tenant_id = $2 ORDER BY embedding <=> $1 LIMIT 10)'
        INTO got USING r.q, r.tenant_id;
    END IF;
    INSERT INTO results VALUES (r.j, r.size,
      cardinality(array(SELECT unnest(r.ids) INTERSECT SELECT unnest(got)))::float8 / 10,
      cardinality(got) = least(10, r.n));
  END LOOP;
  RETURN QUERY SELECT results.size, avg(results.recall), bool_and(complete)
                 FROM results GROUP BY results.size ORDER BY min(results.j);
END $$;
GRANT EXECUTE ON FUNCTION filtered(text) TO regress_ivfflat_app;

SET ivfflat.probes = :p095;

-- As the application role, tenant chosen by the policy.
SET ROLE regress_ivfflat_app;
SELECT size, recall >= 0.95 AS recall_095, all_rows FROM filtered('rls') ORDER BY size;
-- The same with the planner kept on the ivfflat index for every tenant (no
-- sort allowed: the exact plans need one).
SET enable_sort = off;
SELECT size, recall >= 0.95 AS recall_095, all_rows FROM filtered('rls') ORDER BY size;
RESET enable_sort;

-- The plans: a small tenant is read exactly through its btree index, a
-- large one through ivfflat.
SELECT set_config('app.current_tenant_id', (SELECT tenant_id::text FROM tenants ORDER BY n, tenant_id LIMIT 1), false);
EXPLAIN (COSTS OFF) SELECT id FROM sessions ORDER BY embedding <=> (SELECT q FROM queries WHERE j = 1) LIMIT 10;
SELECT set_config('app.current_tenant_id', (SELECT tenant_id::text FROM tenants ORDER BY n DESC, tenant_id LIMIT 1), false);
EXPLAIN (COSTS OFF) SELECT id FROM sessions ORDER BY embedding <=> (SELECT q FROM queries WHERE j = 1) LIMIT 10;
-- No tenant set: the policy lets nothing through, and nothing comes back.
SELECT set_config('app.current_tenant_id', '', false);
SELECT count(*) FROM (SELECT id FROM sessions ORDER BY embedding <=> (SELECT q FROM queries WHERE j = 1) LIMIT 10) s;
RESET ROLE;

-- WHERE tenant_id = ... without RLS (the superuser bypasses the policy).
SELECT size, recall >= 0.95 AS recall_095, all_rows FROM filtered('where') ORDER BY size;

-- What a scan limited to the probed lists gives: too few rows for small
-- tenants and a recall well below 0.95 -- the checks above would fail.
SET ivfflat.max_probes = :p095;
SET ivfflat.adaptive = off;
SET enable_sort = off;
SELECT bool_and(all_rows) AS all_rows, min(recall) >= 0.95 AS recall_095 FROM filtered('where');
RESET enable_sort;
RESET ivfflat.adaptive;
RESET ivfflat.max_probes;

RESET ivfflat.probes;
DROP TABLE sessions, tenants, queries, truth;
DROP FUNCTION filtered(text), unfiltered_recall(int), tenant_uuid(int), topic_point(bigint, int), pseudo(bigint);
DROP ROLE regress_ivfflat_app;
