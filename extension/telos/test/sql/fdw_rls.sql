--
-- fdw_rls: row-level security through a compressed chunk. The hypertable's
-- policy reaches the foreign partition: a role subject to it sees only its
-- tenant's rows, reading through the hypertable (the policy's
-- nullif(current_setting(...))::uuid is pushed down as a segment key, so
-- the other tenants' segments are not even decoded), and leaky functions
-- in its own quals never see another tenant's values. Inserts into the
-- compressed range are checked against WITH CHECK. The chunk, its segment
-- and delta tables cannot be read around the hypertable.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
RESET client_min_messages;
SET timezone = 'UTC';

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.err(text) TO PUBLIC;
CREATE FUNCTION pg_temp.analyze(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
    FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
        RETURN NEXT l;
    END LOOP;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.analyze(text) TO PUBLIC;

CREATE ROLE regress_fdw_owner;
CREATE ROLE regress_fdw_app;
CREATE SCHEMA fr AUTHORIZATION regress_fdw_owner;
GRANT USAGE ON SCHEMA fr TO regress_fdw_app;

SET ROLE regress_fdw_owner;
CREATE TABLE fr.raw (
    tenant_id   uuid        NOT NULL,
    time        timestamptz NOT NULL,
    metric_type text        NOT NULL,
    value       float8      NOT NULL
) PARTITION BY RANGE (time);
ALTER TABLE fr.raw ENABLE ROW LEVEL SECURITY;
ALTER TABLE fr.raw FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON fr.raw
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
GRANT SELECT, INSERT ON fr.raw TO regress_fdw_app;
SELECT telos.create_hypertable('fr.raw', 'time');
SELECT telos.ensure_chunks('fr.raw', '2024-01-08', '2024-01-21');
-- The owner is subject to its policy too (FORCE): it writes tenant by tenant.
CREATE FUNCTION fr.load(t uuid, n int) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM set_config('app.current_tenant_id', t::text, true);
    INSERT INTO fr.raw
    SELECT t, '2024-01-08'::timestamptz + g * interval '1 hour', m, g * 0.5
      FROM generate_series(0, n - 1) g, unnest(ARRAY['cpu', 'mem']) m;
END $$;
SELECT fr.load('00000000-0000-0000-0000-00000000000a', 300),
       fr.load('00000000-0000-0000-0000-00000000000b', 250),
       fr.load('00000000-0000-0000-0000-00000000000c', 200);
SELECT telos.compress_chunk(c.chunk)::text AS chunk
  FROM telos.chunks c WHERE c.hypertable = 'fr.raw'::regclass AND c.range_start = '2024-01-08';
RESET ROLE;

-- What each tenant has in the compressed week (read as superuser, no RLS).
SELECT tenant_id, count(*), sum(value) FROM fr.raw WHERE time < '2024-01-15' GROUP BY 1 ORDER BY 1;

-- ---------------------------------------------------------------------------
-- As the application role.
-- ---------------------------------------------------------------------------
SET ROLE regress_fdw_app;
-- No tenant set: nothing.
SELECT count(*) FROM fr.raw;
SELECT set_config('app.current_tenant_id', '00000000-0000-0000-0000-00000000000a', false) IS NOT NULL AS set;
SELECT tenant_id, count(*), sum(value) FROM fr.raw WHERE time < '2024-01-15' GROUP BY 1 ORDER BY 1;
SELECT tenant_id, count(*) FROM fr.raw GROUP BY 1 ORDER BY 1;
-- Asking for another tenant, or for everything, changes nothing.
SELECT count(*) FROM fr.raw WHERE tenant_id = '00000000-0000-0000-0000-00000000000b';
SELECT count(*) FROM fr.raw WHERE tenant_id = '00000000-0000-0000-0000-00000000000b' OR true;
-- The policy's key skips the other tenants' segments.
SELECT * FROM pg_temp.analyze($$SELECT count(*) FROM fr.raw WHERE time < '2024-01-15'$$);
-- A leaky function in the role's own quals sees only its tenant's values.
CREATE FUNCTION pg_temp.leak(t uuid, m text) RETURNS bool LANGUAGE plpgsql COST 0.0000001 AS $$
BEGIN
    IF t <> '00000000-0000-0000-0000-00000000000a' THEN
        RAISE NOTICE 'leaked % %', t, m;
    END IF;
    RETURN true;
END $$;
SELECT count(*) FROM fr.raw WHERE pg_temp.leak(tenant_id, metric_type) AND time < '2024-01-15';
SELECT count(*) FROM fr.raw WHERE pg_temp.leak(tenant_id, metric_type) AND metric_type = 'cpu'
   AND tenant_id = '00000000-0000-0000-0000-00000000000a';
-- Another tenant.
SELECT set_config('app.current_tenant_id', '00000000-0000-0000-0000-00000000000c', false) IS NOT NULL AS set;
SELECT tenant_id, count(*), sum(value) FROM fr.raw WHERE time < '2024-01-15' GROUP BY 1 ORDER BY 1;
-- A tenant without rows.
SELECT set_config('app.current_tenant_id', '00000000-0000-0000-0000-0000000000ff', false) IS NOT NULL AS set;
SELECT count(*) FROM fr.raw;
-- A prepared statement keeps honouring the setting it finds at each run.
PREPARE q AS SELECT tenant_id, count(*) FROM fr.raw WHERE time < '2024-01-15' GROUP BY 1;
SET plan_cache_mode = force_generic_plan;
EXECUTE q;
SELECT set_config('app.current_tenant_id', '00000000-0000-0000-0000-00000000000b', false) IS NOT NULL AS set;
EXECUTE q;
DEALLOCATE q;
RESET plan_cache_mode;

-- Inserts into the compressed range: own tenant yes, another tenant no
-- (WITH CHECK holds for rows routed to the foreign partition too).
INSERT INTO fr.raw VALUES ('00000000-0000-0000-0000-00000000000b', '2024-01-09 00:30', 'cpu', 1000);
SELECT pg_temp.err($$INSERT INTO fr.raw VALUES ('00000000-0000-0000-0000-00000000000a', '2024-01-09 00:30', 'cpu', 1000)$$);
SELECT pg_temp.err($$INSERT INTO fr.raw SELECT '00000000-0000-0000-0000-00000000000a', '2024-01-09'::timestamptz + g * interval '1 min', 'cpu', 1 FROM generate_series(1, 300) g$$);
SELECT count(*), sum(value) FROM fr.raw WHERE time < '2024-01-15';
SELECT set_config('app.current_tenant_id', '00000000-0000-0000-0000-00000000000a', false) IS NOT NULL AS set;
SELECT count(*), sum(value) FROM fr.raw WHERE time < '2024-01-15';
SELECT count(*) FROM fr.raw WHERE value = 1000;
-- With a row trigger on the hypertable, routed rows go through the
-- wrapper's own insert (the trigger must see the chunk), which checks
-- WITH CHECK itself.
RESET ROLE;
CREATE FUNCTION fr.row_seen() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE NOTICE 'row of % in %', NEW.tenant_id, TG_TABLE_NAME;
    RETURN NULL;
END $$;
CREATE TRIGGER row_seen AFTER INSERT ON fr.raw FOR EACH ROW EXECUTE FUNCTION fr.row_seen();
SET ROLE regress_fdw_app;
INSERT INTO fr.raw VALUES ('00000000-0000-0000-0000-00000000000a', '2024-01-09 01:30', 'cpu', 2);
SELECT pg_temp.err($$INSERT INTO fr.raw VALUES ('00000000-0000-0000-0000-00000000000b', '2024-01-09 01:30', 'cpu', 2000)$$);
SELECT count(*), sum(value) FROM fr.raw WHERE time < '2024-01-15';
RESET ROLE;
DROP TRIGGER row_seen ON fr.raw;
SET ROLE regress_fdw_app;

-- Around the hypertable: the chunk and the internal tables are closed.
SELECT c.chunk AS chunk, cc.segments AS seg, cc.delta AS delta
  FROM telos.chunks c JOIN telos.compressed_chunk cc ON cc.chunk_id =
       (SELECT id FROM telos.chunk WHERE relid = c.chunk)
 WHERE c.hypertable = 'fr.raw'::regclass AND c.state = 'compressed' \gset
SELECT pg_temp.err(format('SELECT count(*) FROM %s', :'chunk')) ~ '^42501' AS chunk_denied;
SELECT pg_temp.err(format('SELECT count(*) FROM %s', :'seg')) ~ '^42501' AS segments_denied;
SELECT pg_temp.err(format('SELECT count(*) FROM %s', :'delta')) ~ '^42501' AS delta_denied;
DROP FUNCTION pg_temp.leak(uuid, text);
RESET ROLE;

-- The owner is subject to the policy (FORCE). A foreign table cannot carry
-- row-level security, so the compressed chunk is used through the
-- hypertable only: reading or writing it directly is refused.
SET ROLE regress_fdw_owner;
SELECT set_config('app.current_tenant_id', '00000000-0000-0000-0000-00000000000c', false) IS NOT NULL AS set;
SELECT tenant_id, count(*) FROM fr.raw GROUP BY 1 ORDER BY 1;
SELECT pg_temp.err(format('SELECT count(*) FROM %s', :'chunk'));
SELECT pg_temp.err(format('SELECT count(*) FROM (SELECT tenant_id FROM %s UNION ALL SELECT NULL) x', :'chunk'));
SELECT pg_temp.err(format($$INSERT INTO %s VALUES ('00000000-0000-0000-0000-00000000000a', '2024-01-09 00:30', 'cpu', 1)$$, :'chunk'));
COPY fr.raw_p20240108 FROM stdin;
00000000-0000-0000-0000-00000000000a	2024-01-09 00:30:00+00	cpu	1
\.
SELECT pg_temp.err(format('SELECT count(*) FROM %s', :'seg')) ~ '^42501' AS segments_denied;
-- A plan made by a role the policy does not apply to is checked again when
-- another runs it.
RESET ROLE;
PREPARE direct AS SELECT count(*) FROM fr.raw_p20240108;
EXECUTE direct;
SET ROLE regress_fdw_owner;
SELECT pg_temp.err('EXECUTE direct');
RESET ROLE;
DEALLOCATE direct;
-- Without FORCE the owner is not subject to its policy: direct use is fine.
ALTER TABLE fr.raw NO FORCE ROW LEVEL SECURITY;
SET ROLE regress_fdw_owner;
SELECT tenant_id, count(*) FROM fr.raw_p20240108 GROUP BY 1 ORDER BY 1;
RESET ROLE;
RESET app.current_tenant_id;

DROP SCHEMA fr CASCADE;
DROP ROLE regress_fdw_app;
DROP ROLE regress_fdw_owner;
