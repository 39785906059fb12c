--
-- retention_compressed: retention of a hypertable whose older chunks are
-- compressed. The foreign partitions of compressed chunks refuse DELETE, so
-- the job deletes a tenant's expired rows there by whole segments (and its
-- late rows in the chunk's delta table row by row), and in heap chunks
-- through the hypertable restricted to their ranges. The outcome is the
-- one the same data gets on heap chunks (retention_hypertable).
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
RESET client_min_messages;
SET timezone = 'UTC';
SELECT setval('telos.jobs_id_seq', 900) IS NOT NULL AS ids_from_901;

CREATE ROLE regress_rc_owner LOGIN;
CREATE ROLE regress_rc_worker LOGIN BYPASSRLS;
GRANT regress_rc_worker TO regress_rc_owner;
CREATE SCHEMA regress_rc AUTHORIZATION regress_rc_owner;
GRANT USAGE ON SCHEMA regress_rc TO PUBLIC;

SET ROLE regress_rc_owner;
CREATE TABLE regress_rc.raw (tenant_id uuid NOT NULL, time timestamptz NOT NULL,
                             metric_type text NOT NULL, value float8 NOT NULL)
    PARTITION BY RANGE (time);
CREATE INDEX ON regress_rc.raw (tenant_id, metric_type, time);
ALTER TABLE regress_rc.raw ENABLE ROW LEVEL SECURITY;
ALTER TABLE regress_rc.raw FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON regress_rc.raw
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, DELETE ON regress_rc.raw TO regress_rc_worker;
SELECT telos.create_hypertable('regress_rc.raw', 'time', '7 days');

CREATE FUNCTION regress_rc.windows() RETURNS TABLE(tenant_id uuid, retention interval)
    LANGUAGE sql AS $$
    VALUES ('00000000-0000-0000-0000-00000000000a'::uuid, interval '3 months'),
           ('00000000-0000-0000-0000-00000000000c'::uuid, interval '36 months')
$$;

-- Tenants a (3 months), c (36 months), e (unlisted: 12 months), two
-- metrics, readings at days far from every window's edge.
CREATE TABLE regress_rc.ages (days integer);
INSERT INTO regress_rc.ages VALUES (1), (40), (100), (200), (400), (800), (1200);
SELECT sum(telos.ensure_chunks('regress_rc.raw', now() - make_interval(days => days),
                                                 now() - make_interval(days => days)))
       AS chunks_made FROM regress_rc.ages;
RESET ROLE;
INSERT INTO regress_rc.raw
SELECT ('00000000-0000-0000-0000-00000000000' || t)::uuid,
       now() - make_interval(days => a.days) + make_interval(mins => k), m, a.days
  FROM unnest(ARRAY['a', 'c', 'e']) AS t, regress_rc.ages a,
       unnest(ARRAY['revenue', 'orders']) AS m, generate_series(0, 2) AS k;

-- Every chunk but the newest is compressed; then late rows of a and e
-- land in the delta tables of two compressed chunks.
SELECT count(telos.compress_chunk(relid)) AS compressed
  FROM telos.chunk WHERE hypertable = 'regress_rc.raw'::regclass
   AND range_end < now() - interval '20 days';
INSERT INTO regress_rc.raw VALUES
    ('00000000-0000-0000-0000-00000000000a', now() - interval '200 days', 'revenue', 200),
    ('00000000-0000-0000-0000-00000000000e', now() - interval '400 days', 'orders', 400),
    ('00000000-0000-0000-0000-00000000000c', now() - interval '400 days', 'orders', 400);
SELECT state, count(*) FROM telos.chunk WHERE hypertable = 'regress_rc.raw'::regclass
 GROUP BY 1 ORDER BY 1;

SET ROLE regress_rc_owner;
SELECT telos.add_retention_policy('regress_rc.raw', tenant_retention_fn => 'regress_rc.windows()',
                                  run_as => 'regress_rc_worker') AS ret \gset
CALL telos.run_job(:ret);
RESET ROLE;
SELECT last_run_status FROM telos.jobs WHERE id = :ret;

-- a kept what is younger than 3 months, e than 12; c lost only the chunk
-- every window had passed (1200 days). Late rows went the same way.
SELECT right(tenant_id::text, 1) AS tenant, array_agg(value::int ORDER BY value) AS days_kept
  FROM (SELECT DISTINCT tenant_id, metric_type, value FROM regress_rc.raw) s
 WHERE metric_type = 'revenue' GROUP BY 1 ORDER BY 1;
SELECT right(tenant_id::text, 1) AS tenant, metric_type, count(*) AS rows
  FROM regress_rc.raw GROUP BY 1, 2 ORDER BY 1, 2;
SELECT state, count(*) FROM telos.chunk WHERE hypertable = 'regress_rc.raw'::regclass
 GROUP BY 1 ORDER BY 1;

-- A second run finds nothing more to delete.
CREATE TEMP TABLE before AS SELECT * FROM regress_rc.raw;
CALL telos.run_job(:ret);
SELECT (SELECT count(*) FROM regress_rc.raw) = (SELECT count(*) FROM before) AS stable;

-- telos.delete_tenant: every row of one tenant, whatever the storage --
-- heap, compressed (segments and delta rows), archived (file rewritten) --
-- where a plain DELETE stops at the first compressed chunk.
SELECT count(telos.archive_chunk(relid)) AS archived
  FROM (SELECT relid FROM telos.chunk WHERE hypertable = 'regress_rc.raw'::regclass
         AND state = 'compressed' ORDER BY range_start LIMIT 1) c;
SELECT state, count(*) FROM telos.chunk WHERE hypertable = 'regress_rc.raw'::regclass
 GROUP BY 1 ORDER BY 1;
SET ROLE regress_rc_worker;
DELETE FROM regress_rc.raw WHERE tenant_id = '00000000-0000-0000-0000-00000000000c';
SELECT telos.delete_tenant('regress_rc.raw', '00000000-0000-0000-0000-00000000000c') > 0 AS deleted;
RESET ROLE;
SELECT right(tenant_id::text, 1) AS tenant, count(*) AS rows
  FROM regress_rc.raw GROUP BY 1 ORDER BY 1;
-- Only for a role that bypasses row-level security and may DELETE.
CREATE ROLE regress_rc_app;
GRANT SELECT, DELETE ON regress_rc.raw TO regress_rc_app;
SET ROLE regress_rc_app;
SELECT telos.delete_tenant('regress_rc.raw', '00000000-0000-0000-0000-00000000000a');
RESET ROLE;
REVOKE DELETE ON regress_rc.raw FROM regress_rc_app;
SET ROLE regress_rc_app;
SELECT telos.delete_tenant('regress_rc.raw', '00000000-0000-0000-0000-00000000000a');
RESET ROLE;
DROP OWNED BY regress_rc_app;
DROP ROLE regress_rc_app;

-- Clean up.
SELECT telos.remove_retention_policy('regress_rc.raw');
DROP SCHEMA regress_rc CASCADE;
DROP ROLE regress_rc_owner, regress_rc_worker;
