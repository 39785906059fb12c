--
-- policy_compression: telos.add_compression_policy schedules
-- telos.compression_job, which compresses every chunk whose range ended
-- more than compress_after ago and recompresses compressed chunks that
-- received late rows. It runs through the scheduler's CALL telos.run_job
-- (each chunk committed on its own), as the owner or as a worker role
-- with BYPASSRLS; its runs are in telos.job_runs. A chunk that fails does
-- not stop the others, and fails the run with a clear message.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
RESET client_min_messages;
SET timezone = 'UTC';
SELECT setval('telos.jobs_id_seq', 700) IS NOT NULL AS ids_from_701;

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.err(text) TO PUBLIC;

CREATE ROLE regress_pc_owner LOGIN;
CREATE ROLE regress_pc_worker LOGIN BYPASSRLS;
CREATE ROLE regress_pc_app LOGIN;
GRANT regress_pc_worker TO regress_pc_owner;
CREATE SCHEMA pc AUTHORIZATION regress_pc_owner;
GRANT USAGE ON SCHEMA pc TO PUBLIC;

SET ROLE regress_pc_owner;
CREATE TABLE pc.m (tenant_id uuid NOT NULL, time timestamptz NOT NULL,
                   metric_type text NOT NULL, value float8 NOT NULL)
    PARTITION BY RANGE (time);
ALTER TABLE pc.m ENABLE ROW LEVEL SECURITY;
ALTER TABLE pc.m FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON pc.m
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, DELETE ON pc.m TO regress_pc_worker;
GRANT SELECT, INSERT ON pc.m TO regress_pc_app;
-- Daily chunks: readings of 30, 20, 10 and 8 days ago (around noon) are in
-- chunks that ended more than 7 days ago; yesterday's and today's are not.
SELECT telos.create_hypertable('pc.m', 'time', '1 day');
CREATE TABLE pc.ages (days integer, noon timestamptz);
INSERT INTO pc.ages
SELECT d, date_trunc('day', now()) + interval '12 hours' - make_interval(days => d)
  FROM unnest(ARRAY[30, 20, 10, 8, 1, 0]) d;
SELECT sum(telos.ensure_chunks('pc.m', noon, noon)) AS chunks FROM pc.ages;
GRANT SELECT ON pc.ages TO regress_pc_app;
RESET ROLE;
INSERT INTO pc.m
SELECT ('00000000-0000-0000-0000-00000000000' || t)::uuid,
       a.noon + g * interval '1 minute', 'cpu', a.days * 1000 + g
  FROM unnest(ARRAY['a', 'b']) t, pc.ages a, generate_series(-120, -1) g;
CREATE TABLE pc.expected AS SELECT * FROM pc.m;
SELECT count(*) AS rows FROM pc.m;

-- Chunks listed by age, newest last (their dates change every day).
CREATE VIEW pc.states AS
SELECT row_number() OVER (ORDER BY range_start) AS n, state, storage, row_estimate
  FROM telos.chunks WHERE hypertable = 'pc.m'::regclass;

-- ---------------------------------------------------------------------------
-- Adding the policy.
-- ---------------------------------------------------------------------------
SET ROLE regress_pc_owner;
SELECT telos.add_compression_policy('pc.m') AS job \gset
SELECT id, proc_schema, proc_name, config, schedule_interval, run_as::text, enabled
  FROM telos.jobs WHERE id = :job;
SELECT pg_temp.err($$SELECT telos.add_compression_policy('pc.m')$$);
SELECT telos.add_compression_policy('pc.m', if_not_exists => true) = :job AS same_job;
-- Bad arguments.
SELECT pg_temp.err($$SELECT telos.add_compression_policy('pc.m', '-1 day')$$);
SELECT pg_temp.err($$SELECT telos.add_compression_policy('pc.ages')$$);
SELECT pg_temp.err($$SELECT telos.add_compression_policy(NULL)$$);
RESET ROLE;
-- A role that neither owns the table nor sees every row cannot run it.
SELECT pg_temp.err($$SELECT telos.add_compression_policy('pc.m', run_as => 'regress_pc_app', if_not_exists => true)$$);

-- ---------------------------------------------------------------------------
-- Running it: the four old chunks are compressed, the two recent ones not.
-- ---------------------------------------------------------------------------
SET ROLE regress_pc_owner;
CALL telos.run_job(:job);
RESET ROLE;
SELECT * FROM pc.states ORDER BY n;
SELECT status, started_by, error FROM telos.job_runs WHERE job_id = :job ORDER BY id;
SELECT count(*) AS missing FROM (SELECT * FROM pc.expected EXCEPT ALL SELECT * FROM pc.m) x;
SELECT count(*) AS extra FROM (SELECT * FROM pc.m EXCEPT ALL SELECT * FROM pc.expected) x;

-- Late rows into a compressed chunk land in its delta; the next run merges
-- them, and leaves the rest alone.
SET ROLE regress_pc_app;
SET app.current_tenant_id = '00000000-0000-0000-0000-00000000000b';
INSERT INTO pc.m SELECT '00000000-0000-0000-0000-00000000000b', noon + interval '3 hours', 'cpu', -12345 FROM pc.ages WHERE days = 20;
RESET app.current_tenant_id;
RESET ROLE;
INSERT INTO pc.expected SELECT * FROM pc.m WHERE value = -12345;
SELECT n, state, row_estimate FROM pc.states WHERE state = 'compressed' ORDER BY n;
CREATE FUNCTION pg_temp.delta_rows() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    d regclass;
    total bigint := 0;
    k bigint;
BEGIN
    FOR d IN SELECT cc.delta FROM telos.compressed_chunk cc JOIN telos.chunk c ON c.id = cc.chunk_id
              WHERE c.hypertable = 'pc.m'::regclass LOOP
        EXECUTE format('SELECT count(*) FROM %s', d) INTO k;
        total := total + k;
    END LOOP;
    RETURN total;
END $$;
SELECT pg_temp.delta_rows() AS delta_rows;
SELECT sum(row_count) AS segment_rows FROM telos.compressed_chunk cc JOIN telos.chunk c ON c.id = cc.chunk_id
 WHERE c.hypertable = 'pc.m'::regclass;
-- As the worker role this time (BYPASSRLS, DELETE on the table).
SELECT telos.alter_job(:job, run_as => 'regress_pc_worker');
CALL telos.run_job(:job);
SELECT pg_temp.delta_rows() AS delta_rows;
SELECT sum(row_count) AS segment_rows FROM telos.compressed_chunk cc JOIN telos.chunk c ON c.id = cc.chunk_id
 WHERE c.hypertable = 'pc.m'::regclass;
SELECT count(*) AS missing FROM (SELECT * FROM pc.expected EXCEPT ALL SELECT * FROM pc.m) x;
SELECT count(*) AS extra FROM (SELECT * FROM pc.m EXCEPT ALL SELECT * FROM pc.expected) x;
SELECT status, count(*) FROM telos.job_runs WHERE job_id = :job GROUP BY 1;

-- Inside a transaction block the job runs atomically (no commit per chunk).
BEGIN;
CALL telos.run_job(:job);
COMMIT;
SELECT status, count(*) FROM telos.job_runs WHERE job_id = :job GROUP BY 1;

-- ---------------------------------------------------------------------------
-- A failing chunk: the others go on, the run fails naming the count.
-- ---------------------------------------------------------------------------
SELECT telos.decompress_chunk(c.chunk) IS NOT NULL AS decompressed
  FROM telos.chunks c WHERE c.hypertable = 'pc.m'::regclass AND c.state = 'compressed';
SELECT * FROM pc.states ORDER BY n;
-- (The WARNINGs and the DETAIL name the chunks, whose names are dates.)
SET client_min_messages = error;
\set VERBOSITY terse
SET telos.debug_compress_fail_at = 'after_segments';
CALL telos.run_job(:job);
RESET telos.debug_compress_fail_at;
\set VERBOSITY default
RESET client_min_messages;
SELECT status, error FROM telos.job_runs WHERE job_id = :job ORDER BY id DESC LIMIT 1;
SELECT * FROM pc.states ORDER BY n;
SELECT count(*) AS missing FROM (SELECT * FROM pc.expected EXCEPT ALL SELECT * FROM pc.m) x;
-- The next run succeeds.
CALL telos.run_job(:job);
SELECT status FROM telos.job_runs WHERE job_id = :job ORDER BY id DESC LIMIT 1;
SELECT * FROM pc.states ORDER BY n;

-- A policy whose table does not exist is refused when the job is added
-- (and, should the table go later, when the job runs).
SELECT pg_temp.err($q$SELECT telos.add_job('telos.compression_job', '1 hour',
                     '{"rel": "pc.nothing", "compress_after": "1 day"}')$q$);

-- ---------------------------------------------------------------------------
-- Removing the policy.
-- ---------------------------------------------------------------------------
SET ROLE regress_pc_owner;
SELECT telos.remove_compression_policy('pc.m');
SELECT count(*) AS jobs FROM telos.jobs WHERE id = :job;
SELECT pg_temp.err($$SELECT telos.remove_compression_policy('pc.m')$$);
SELECT telos.remove_compression_policy('pc.m', if_exists => true);
RESET ROLE;

DROP SCHEMA pc CASCADE;
DROP ROLE regress_pc_owner, regress_pc_worker, regress_pc_app;
