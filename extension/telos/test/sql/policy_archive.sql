--
-- policy_archive: telos.add_archive_policy archives chunks per tenant tier.
-- Each tenant keeps data hot for archive_after (or its own period from
-- tenant_archive_after_fn) or until its retention ends, whichever comes
-- first; a chunk goes cold when no tenant keeps it hot and some tenant
-- still keeps it -- and only once retention has deleted the rows of the
-- tenants whose window ended. In archived chunks the job keeps retention
-- itself: the segments of tenants whose window ended are cut out of the
-- file, a chunk no tenant keeps is dropped with its file; rows written
-- into an archived chunk are merged into a new file; files no catalog row
-- names are swept. Runs through CALL telos.run_job; job_runs shows them.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
RESET client_min_messages;
SET timezone = 'UTC';
SELECT setval('telos.jobs_id_seq', 800) IS NOT NULL AS ids_from_801;

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE FUNCTION pg_temp.archive_root() RETURNS text LANGUAGE sql AS $$
    SELECT current_setting('data_directory') || '/' || current_setting('telos.archive_directory')
$$;
CREATE FUNCTION pg_temp.file_exists(f text) RETURNS boolean LANGUAGE sql AS $$
    SELECT (pg_stat_file(pg_temp.archive_root() || '/' || f, true)).size IS NOT NULL
$$;
CREATE FUNCTION pg_temp.sh(cmd text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', cmd);
END $$;

-- Runs a job; its NOTICEs name chunks, whose names are dates.
CREATE PROCEDURE pg_temp.run(job integer) LANGUAGE plpgsql AS $$
BEGIN
    SET LOCAL client_min_messages = warning;
    CALL telos.run_job(job);
END $$;

CREATE ROLE regress_pa_owner LOGIN;
CREATE ROLE regress_pa_worker LOGIN BYPASSRLS;
GRANT regress_pa_worker TO regress_pa_owner;
CREATE SCHEMA pa AUTHORIZATION regress_pa_owner;
GRANT USAGE ON SCHEMA pa TO PUBLIC;

SET ROLE regress_pa_owner;
-- Tenants by tier, as the application's schema has them: free keeps raw
-- data 90 days, standard 365, enterprise 1095; a tenant may have its own.
CREATE TABLE pa.tenants (id uuid PRIMARY KEY, name text, tier text, retention interval);
INSERT INTO pa.tenants VALUES
    ('00000000-0000-0000-0000-00000000000f', 'free', 'free', NULL),
    ('00000000-0000-0000-0000-00000000000a', 'standard', 'standard', NULL),
    ('00000000-0000-0000-0000-00000000000e', 'enterprise', 'enterprise', NULL);
CREATE FUNCTION pa.tenant_retentions() RETURNS TABLE (tenant_id uuid, retention interval)
    LANGUAGE sql STABLE AS $$
    SELECT id, coalesce(retention, CASE tier WHEN 'free' THEN interval '90 days'
                                             WHEN 'standard' THEN interval '365 days'
                                             ELSE interval '1095 days' END)
      FROM pa.tenants
$$;
GRANT SELECT ON pa.tenants TO regress_pa_worker;

CREATE TABLE pa.m (tenant_id uuid NOT NULL, time timestamptz NOT NULL,
                   metric_type text NOT NULL, value float8 NOT NULL)
    PARTITION BY RANGE (time);
ALTER TABLE pa.m ENABLE ROW LEVEL SECURITY;
ALTER TABLE pa.m FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pa.m
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, DELETE ON pa.m TO regress_pa_worker;
-- Daily chunks with readings (around noon) 400, 200, 100 and 10 days old.
SELECT telos.create_hypertable('pa.m', 'time', '1 day');
CREATE TABLE pa.ages (days integer, noon timestamptz);
INSERT INTO pa.ages
SELECT d, date_trunc('day', now()) + interval '12 hours' - make_interval(days => d)
  FROM unnest(ARRAY[400, 200, 100, 10]) d;
SELECT sum(telos.ensure_chunks('pa.m', noon, noon)) AS chunks FROM pa.ages;
GRANT SELECT ON pa.ages TO PUBLIC;
RESET ROLE;
INSERT INTO pa.m
SELECT t.id, a.noon + g * interval '1 minute', mt, a.days * 1000 + g
  FROM pa.tenants t, pa.ages a, unnest(ARRAY['cpu', 'mem']) mt, generate_series(-100, -1) g;

-- Chunks by age (their dates change every day), with whose rows they hold.
CREATE VIEW pa.states AS
SELECT a.days AS age, c.state, c.storage,
       (SELECT string_agg(DISTINCT t.name, ',' ORDER BY t.name)
          FROM pa.m JOIN pa.tenants t ON t.id = m.tenant_id
         WHERE m.time >= c.range_start AND m.time < c.range_end) AS tenants,
       (SELECT count(*) FROM pa.m WHERE m.time >= c.range_start AND m.time < c.range_end) AS rows
  FROM telos.chunks c JOIN pa.ages a ON a.noon >= c.range_start AND a.noon < c.range_end
 WHERE c.hypertable = 'pa.m'::regclass;
SELECT * FROM pa.states ORDER BY age DESC;

-- Retention as the application sets it up (default 365 days, per tenant).
SET ROLE regress_pa_owner;
SELECT telos.add_retention_policy('pa.m', default_retention => '365 days',
                                  tenant_retention_fn => 'pa.tenant_retentions()',
                                  run_as => 'regress_pa_worker') AS ret \gset

-- ---------------------------------------------------------------------------
-- Adding the policy; bad arguments.
-- ---------------------------------------------------------------------------
SELECT pg_temp.err($$SELECT telos.add_archive_policy('pa.m', '0 days')$$);
SELECT pg_temp.err($$SELECT telos.add_archive_policy('pa.ages')$$);
SELECT pg_temp.err($$SELECT telos.add_archive_policy('pa.m', location => '../x')$$);
SELECT pg_temp.err($$SELECT telos.add_archive_policy('pa.m', tenant_archive_after_fn => 'now()')$$);

-- First with a longer hot period for the enterprise tenant (400 days):
-- nothing is cold for everyone yet.
CREATE FUNCTION pa.hot() RETURNS TABLE (tenant_id uuid, archive_after interval)
    LANGUAGE sql STABLE AS $$
    VALUES ('00000000-0000-0000-0000-00000000000e'::uuid, interval '400 days')
$$;
SELECT telos.add_archive_policy('pa.m', '180 days', tenant_archive_after_fn => 'pa.hot()',
                                location => 'cold', run_as => 'regress_pa_worker') AS arc \gset
SELECT proc_name, config, schedule_interval, run_as::text FROM telos.jobs WHERE id = :arc;
SELECT pg_temp.err($$SELECT telos.add_archive_policy('pa.m')$$);
RESET ROLE;
CALL pg_temp.run(:arc);
SELECT * FROM pa.states ORDER BY age DESC;
SELECT telos.remove_archive_policy('pa.m');

-- Then with 180 days for everyone. The 400- and 200-day-old chunks are
-- past every tenant's hot period (free: 90 days, its retention), but hold
-- rows whose retention ended (free's in both, standard's in the oldest):
-- they wait for retention.
SET ROLE regress_pa_owner;
SELECT telos.add_archive_policy('pa.m', '180 days', location => 'cold',
                                run_as => 'regress_pa_worker') AS arc \gset
RESET ROLE;
CALL pg_temp.run(:arc);
SELECT * FROM pa.states ORDER BY age DESC;
SELECT status, error FROM telos.job_runs WHERE job_id = :arc ORDER BY id;

-- Retention deletes them; the next run archives both chunks. The
-- 100-day-old chunk is hot for standard and enterprise, the newest for all.
SET client_min_messages = warning;
CALL telos.run_job(:ret);
RESET client_min_messages;
CREATE TABLE pa.expected AS SELECT * FROM pa.m;
CALL pg_temp.run(:arc);
SELECT * FROM pa.states ORDER BY age DESC;
SELECT a.days AS age, c.archive_file LIKE 'cold/c%-d%/%.tca' AS in_location,
       pg_temp.file_exists(c.archive_file) AS file, cc.row_count
  FROM telos.chunks c JOIN pa.ages a ON a.noon >= c.range_start AND a.noon < c.range_end
  JOIN telos.compressed_chunk cc ON cc.file = c.archive_file
 ORDER BY 1 DESC;
SELECT count(*) AS missing FROM (SELECT * FROM pa.expected EXCEPT ALL SELECT * FROM pa.m) x;
SELECT count(*) AS extra FROM (SELECT * FROM pa.m EXCEPT ALL SELECT * FROM pa.expected) x;
SELECT status, count(*) FROM telos.job_runs WHERE job_id = :arc GROUP BY 1 ORDER BY 1;

-- A tenant still sees its archived rows through the hypertable.
CREATE ROLE regress_pa_app;
GRANT SELECT ON pa.m TO regress_pa_app;
SET ROLE regress_pa_app;
SET app.current_tenant_id = '00000000-0000-0000-0000-00000000000e';
SELECT a.days AS age, count(*) FROM pa.m, pa.ages a
 WHERE m.time >= a.noon - interval '2 hours' AND m.time < a.noon GROUP BY 1 ORDER BY 1 DESC;
RESET app.current_tenant_id;
RESET ROLE;

-- ---------------------------------------------------------------------------
-- Late rows into an archived chunk are merged into a new file.
-- ---------------------------------------------------------------------------
INSERT INTO pa.m SELECT '00000000-0000-0000-0000-00000000000e', noon + interval '1 hour', 'late', -1
  FROM pa.ages WHERE days = 200;
INSERT INTO pa.expected SELECT * FROM pa.m WHERE metric_type = 'late';
CREATE TEMP TABLE before AS
SELECT a.days, c.archive_file FROM telos.chunks c JOIN pa.ages a ON a.noon >= c.range_start AND a.noon < c.range_end
 WHERE c.archive_file IS NOT NULL;
CALL pg_temp.run(:arc);
SELECT b.days AS age, c.archive_file <> b.archive_file AS new_file,
       pg_temp.file_exists(b.archive_file) AS old_file, cc.row_count
  FROM before b JOIN pa.ages a ON a.days = b.days
  JOIN telos.chunks c ON a.noon >= c.range_start AND a.noon < c.range_end
  JOIN telos.compressed_chunk cc ON cc.file = c.archive_file
 ORDER BY 1 DESC;
SELECT count(*) AS missing FROM (SELECT * FROM pa.expected EXCEPT ALL SELECT * FROM pa.m) x;
SELECT count(*) AS extra FROM (SELECT * FROM pa.m EXCEPT ALL SELECT * FROM pa.expected) x;

-- ---------------------------------------------------------------------------
-- Retention inside archived chunks. The enterprise tenant's window shrinks
-- to 150 days: its rows leave the 200-day-old file (its segments cut out,
-- the standard tenant's stay), and no tenant keeps the 400-day-old chunk
-- any more (the longest window is now 365 days): it is dropped, file and
-- all.
-- ---------------------------------------------------------------------------
UPDATE pa.tenants SET retention = '150 days' WHERE name = 'enterprise';
DELETE FROM before;
INSERT INTO before
SELECT a.days, c.archive_file FROM telos.chunks c JOIN pa.ages a ON a.noon >= c.range_start AND a.noon < c.range_end
 WHERE c.archive_file IS NOT NULL;
CALL pg_temp.run(:arc);
SELECT * FROM pa.states ORDER BY age DESC;
SELECT b.days AS age, pg_temp.file_exists(b.archive_file) AS old_file, c.state,
       pg_temp.file_exists(cc.file) AS new_file, cc.row_count
  FROM before b JOIN pa.ages a ON a.days = b.days
  LEFT JOIN telos.chunk c ON a.noon >= c.range_start AND a.noon < c.range_end
                         AND c.hypertable = 'pa.m'::regclass
  LEFT JOIN telos.compressed_chunk cc ON cc.chunk_id = c.id
 ORDER BY 1 DESC;
-- What remains is exactly what the windows keep.
DELETE FROM pa.expected e USING pa.tenants t, pa.ages a
 WHERE e.tenant_id = t.id AND a.days IN (400, 200) AND e.time >= a.noon - interval '1 day'
   AND e.time < a.noon + interval '1 day' AND (t.name = 'enterprise' OR a.days = 400);
SELECT count(*) AS missing FROM (SELECT * FROM pa.expected EXCEPT ALL SELECT * FROM pa.m) x;
SELECT count(*) AS extra FROM (SELECT * FROM pa.m EXCEPT ALL SELECT * FROM pa.expected) x;
SELECT status, count(*) FROM telos.job_runs WHERE job_id = :arc GROUP BY 1 ORDER BY 1;

-- ---------------------------------------------------------------------------
-- The sweep: files of this database that no catalog row names, older than
-- an hour, are removed by the job; young ones and other files stay.
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE dir AS
SELECT split_part(archive_file, '/', 1) || '/' || split_part(archive_file, '/', 2) AS d
  FROM telos.chunks WHERE archive_file IS NOT NULL LIMIT 1;
SELECT pg_temp.sh(format('cd %s/%s && touch -d "3 hours ago" orphan.1.1.tca stale.2.2.tca.tmp77 && touch young.3.3.tca notes.txt',
                         pg_temp.archive_root(), d)) FROM dir;
CALL pg_temp.run(:arc);
SELECT f FROM dir, pg_ls_dir(pg_temp.archive_root() || '/' || d) f
 WHERE f NOT IN (SELECT split_part(archive_file, '/', 3) FROM telos.chunks WHERE archive_file IS NOT NULL)
 ORDER BY 1;
-- By hand, with no age limit (the young one now goes too).
SELECT regexp_replace(f, '^.*/', '') AS swept FROM telos.archive_sweep('0 seconds') f;
SELECT f FROM dir, pg_ls_dir(pg_temp.archive_root() || '/' || d) f
 WHERE f NOT IN (SELECT split_part(archive_file, '/', 3) FROM telos.chunks WHERE archive_file IS NOT NULL)
 ORDER BY 1;
SELECT pg_temp.sh(format('rm %s/%s/notes.txt', pg_temp.archive_root(), d)) FROM dir;

-- ---------------------------------------------------------------------------
-- Removing the policy.
-- ---------------------------------------------------------------------------
SET ROLE regress_pa_owner;
SELECT telos.remove_archive_policy('pa.m');
SELECT pg_temp.err($$SELECT telos.remove_archive_policy('pa.m')$$);
SELECT telos.remove_archive_policy('pa.m', if_exists => true);
SELECT telos.remove_retention_policy('pa.m');
RESET ROLE;

DROP SCHEMA pa CASCADE;
DROP ROLE regress_pa_owner, regress_pa_worker, regress_pa_app;
