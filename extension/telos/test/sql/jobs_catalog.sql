--
-- jobs_catalog: telos.add_job, alter_job and delete_job -- what they store,
-- who may schedule and manage a job (the privileges of its run_as role),
-- who sees it, and a clear error with an SQLSTATE for every bad input.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
RESET client_min_messages;
SET timezone = 'UTC';
-- Job ids of this suite from 101 on, whatever ran before.
SELECT setval('telos.jobs_id_seq', 100) IS NOT NULL AS ids_from_101;

-- err(statement): 'ok', or the SQLSTATE and message it failed with (job
-- ids, which depend on the suites run before, read N).
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '\mjob -?[0-9]+', 'job N', 'g');
END $$;

CREATE ROLE regress_job_owner LOGIN;
CREATE ROLE regress_job_other LOGIN;
CREATE ROLE regress_job_nologin NOLOGIN;
GRANT regress_job_nologin TO regress_job_owner;
CREATE SCHEMA regress_jobs;
GRANT USAGE ON SCHEMA regress_jobs TO PUBLIC;

CREATE FUNCTION regress_jobs.noop(job_id integer, config jsonb) RETURNS void
    LANGUAGE sql AS $$ SELECT $$;
CREATE PROCEDURE regress_jobs.noop_proc(job_id integer, config jsonb)
    LANGUAGE sql AS $$ SELECT $$;
CREATE FUNCTION regress_jobs.wrong_args(job_id bigint, config jsonb) RETURNS void
    LANGUAGE sql AS $$ SELECT $$;
CREATE FUNCTION regress_jobs.setof(job_id integer, config jsonb) RETURNS SETOF int
    LANGUAGE sql AS $$ SELECT 1 $$;
CREATE PROCEDURE regress_jobs.out_arg(job_id integer, config jsonb, OUT x int)
    LANGUAGE sql AS $$ SELECT 1 $$;
CREATE FUNCTION regress_jobs.private(job_id integer, config jsonb) RETURNS void
    LANGUAGE sql AS $$ SELECT $$;
REVOKE EXECUTE ON FUNCTION regress_jobs.private(integer, jsonb) FROM PUBLIC;

-- A job with the defaults: runs as the caller, every schedule_interval
-- from initial_start, retried forever, enabled.
SELECT telos.add_job('regress_jobs.noop', '1 hour', '{"a": 1}',
                     initial_start => '2030-01-01 00:00+00') AS j1 \gset
SELECT proc_schema, proc_name, config, schedule_interval, next_start,
       run_as, enabled, max_retries, retry_period, max_runtime,
       consecutive_failures, last_run_status
  FROM telos.jobs WHERE id = :j1;

-- A procedure, with every option.
SELECT telos.add_job('regress_jobs.noop_proc', '1 day', '{}', '2030-01-01 00:00+00',
                     'regress_job_owner', 3, '5 minutes', '10 minutes', false) AS j2 \gset
SELECT proc_name, run_as, enabled, max_retries, retry_period, max_runtime
  FROM telos.jobs WHERE id = :j2;

-- alter_job: NULL keeps a setting; max_runtime '0' removes the limit;
-- enabling a job resets its count of consecutive failures.
SELECT telos.alter_job(:j2, schedule_interval => '2 days', config => '{"b": 2}',
                       max_runtime => '0', max_retries => -1);
SELECT schedule_interval, config, max_runtime, max_retries, retry_period, enabled
  FROM telos.jobs WHERE id = :j2;
UPDATE telos.jobs SET consecutive_failures = 7 WHERE id = :j2;
SELECT telos.alter_job(:j2, enabled => true);
SELECT enabled, consecutive_failures FROM telos.jobs WHERE id = :j2;
SELECT telos.alter_job(:j2, next_start => '2031-06-01 12:00+00', retry_period => '1 minute');
SELECT next_start, retry_period FROM telos.jobs WHERE id = :j2;

-- Bad input to add_job: NULLs, wrong functions, bad intervals and config.
SELECT pg_temp.err($$SELECT telos.add_job(NULL, '1 hour')$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.noop', NULL)$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.noop', '1 hour', NULL)$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.noop', '1 hour', '{}', NULL)$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.noop', '1 hour', max_retries => NULL)$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.noop', '1 hour', retry_period => NULL)$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.noop', '1 hour', enabled => NULL)$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.no_such_function', '1 hour')$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.wrong_args', '1 hour')$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.setof', '1 hour')$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.out_arg', '1 hour')$$);
SELECT pg_temp.err($$SELECT telos.add_job('pg_catalog.now', '1 hour')$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.noop', '0')$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.noop', '-1 day')$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.noop', '1 mon -40 days')$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.noop', '1 hour', retry_period => '0')$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.noop', '1 hour', max_runtime => '-1 s')$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.noop', '1 hour', max_retries => -2)$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.noop', '1 hour', '[1, 2]')$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.noop', '1 hour', '"text"')$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.noop', '1 hour', initial_start => 'infinity')$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.noop', '1 hour', run_as => 'regress_no_such_role')$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.noop', '1 hour', run_as => 'regress_job_nologin')$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.private', '1 hour', run_as => 'regress_job_owner')$$);

-- Bad input to alter_job and delete_job.
SELECT pg_temp.err($$SELECT telos.alter_job(NULL)$$);
SELECT pg_temp.err($$SELECT telos.alter_job(-1)$$);
SELECT pg_temp.err($$SELECT telos.alter_job($$ || :j1 || $$, schedule_interval => '0')$$);
SELECT pg_temp.err($$SELECT telos.alter_job($$ || :j1 || $$, config => 'null')$$);
SELECT pg_temp.err($$SELECT telos.alter_job($$ || :j1 || $$, next_start => '-infinity')$$);
SELECT pg_temp.err($$SELECT telos.alter_job($$ || :j1 || $$, max_retries => -5)$$);
SELECT pg_temp.err($$SELECT telos.alter_job($$ || :j1 || $$, retry_period => '-1 minute')$$);
SELECT pg_temp.err($$SELECT telos.alter_job($$ || :j1 || $$, max_runtime => '-1 minute')$$);
SELECT pg_temp.err($$SELECT telos.alter_job($$ || :j1 || $$, run_as => 'regress_job_nologin')$$);
SELECT pg_temp.err($$SELECT telos.delete_job(NULL)$$);
SELECT pg_temp.err($$SELECT telos.delete_job(-1)$$);
SELECT pg_temp.err($$CALL telos.run_job(NULL)$$);
SELECT pg_temp.err($$CALL telos.run_job(-1)$$);

-- Nothing was stored by the failed calls.
SELECT count(*) AS jobs FROM telos.jobs WHERE proc_schema = 'regress_jobs';

-- The catalogs are written only through the functions.
SET ROLE regress_job_owner;
SELECT pg_temp.err($$INSERT INTO telos.jobs (proc_schema, proc_name, schedule_interval, next_start, run_as)
                     VALUES ('regress_jobs', 'noop', '1 hour', now(), 'regress_job_owner')$$);
SELECT pg_temp.err($$UPDATE telos.jobs SET enabled = false$$);
SELECT pg_temp.err($$DELETE FROM telos.job_runs$$);

-- A role schedules jobs as itself, or as a role whose privileges it has
-- (never as another role: that would run code with that role's rights).
SELECT telos.add_job('regress_jobs.noop', '1 hour', initial_start => '2030-01-01') AS j3 \gset
SELECT run_as FROM telos.jobs WHERE id = :j3;
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.noop', '1 hour', run_as => 'regress_job_other')$$);
SELECT pg_temp.err($$SELECT telos.add_job('regress_jobs.noop', '1 hour', run_as => 'postgres')$$);
-- It sees only the jobs it could manage.
SELECT count(*) FILTER (WHERE id = :j1) AS sees_superuser_job,
       count(*) FILTER (WHERE id = :j2) AS sees_own_job,
       count(*) FILTER (WHERE id = :j3) AS sees_job_as_itself
  FROM telos.jobs;
RESET ROLE;

-- Another role may not see, alter, run, delete or take over those jobs.
SET ROLE regress_job_other;
SELECT count(*) AS visible_jobs FROM telos.jobs WHERE id IN (:j1, :j2, :j3);
SELECT count(*) AS visible_runs FROM telos.job_runs WHERE job_id IN (:j1, :j2, :j3);
SELECT pg_temp.err($$SELECT telos.alter_job($$ || :j2 || $$, enabled => false)$$);
SELECT pg_temp.err($$SELECT telos.alter_job($$ || :j1 || $$, run_as => 'regress_job_other')$$);
SELECT pg_temp.err($$SELECT telos.delete_job($$ || :j2 || $$)$$);
SELECT pg_temp.err($$CALL telos.run_job($$ || :j2 || $$)$$);
RESET ROLE;

-- A superuser manages everything; delete_job removes the job.
SELECT telos.delete_job(:j2);
SELECT telos.delete_job(:j3);
SELECT pg_temp.err($$SELECT telos.delete_job($$ || :j2 || $$)$$);
SELECT count(*) AS left_jobs FROM telos.jobs WHERE id IN (:j2, :j3);

-- pg_dump keeps the jobs (configuration), not the run history.
SELECT c.relname
  FROM pg_extension e, unnest(e.extconfig) AS cfg(oid)
  JOIN pg_class c ON c.oid = cfg.oid
 WHERE e.extname = 'telos' AND c.relname LIKE 'job%'
 ORDER BY 1;

-- Clean up.
SELECT telos.delete_job(:j1);
DROP SCHEMA regress_jobs CASCADE;
DROP ROLE regress_job_owner;
DROP ROLE regress_job_other;
DROP ROLE regress_job_nologin;
