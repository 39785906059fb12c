--
-- jobs_run: CALL telos.run_job runs a job in the calling session as its
-- run_as role and records the run like the scheduler does: success keeps
-- the schedule's phase, failures are retried with exponential backoff
-- capped at min(schedule_interval, 1 hour) (but never below retry_period),
-- max_retries disables a job, and the job's error reaches the caller.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
RESET client_min_messages;
SET timezone = 'UTC';
-- Job ids of this suite from 201 on, whatever ran before.
SELECT setval('telos.jobs_id_seq', 200) IS NOT NULL AS ids_from_201;

CREATE ROLE regress_run_owner LOGIN;
CREATE SCHEMA regress_run;
GRANT USAGE ON SCHEMA regress_run TO PUBLIC;
CREATE TABLE regress_run.log (job_id integer, config jsonb, who name,
                              search_path text, n integer);
GRANT INSERT ON regress_run.log TO regress_run_owner;

-- Logs who ran it, then changes a setting for its transaction.
CREATE FUNCTION regress_run.ok(job_id integer, config jsonb) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_run.log VALUES (job_id, config, current_user,
                                        current_setting('search_path'), 1);
    PERFORM set_config('search_path', 'regress_run', true);
END $$;

-- Commits between its two inserts.
CREATE PROCEDURE regress_run.committer(job_id integer, config jsonb)
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_run.log (job_id, n) VALUES (job_id, 1);
    COMMIT;
    INSERT INTO regress_run.log (job_id, n) VALUES (job_id, 2);
END $$;

CREATE FUNCTION regress_run.fail(job_id integer, config jsonb) RETURNS void
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_run.log (job_id, n) VALUES (job_id, -1);
    RAISE EXCEPTION 'job failed on purpose: %', config ->> 'why'
        USING ERRCODE = 'P0001', DETAIL = 'a detail', HINT = 'a hint';
END $$;

-- Success: the run is recorded, the job ran as its role with its config,
-- the session's settings are untouched, and next_start is the next point of
-- the schedule after now (initial_start + 2 * interval here).
SELECT now() - interval '90 minutes' AS t0 \gset
SELECT telos.add_job('regress_run.ok', '1 hour', '{"k": "v"}', :'t0',
                     'regress_run_owner') AS ok_job \gset
SHOW search_path;
CALL telos.run_job(:ok_job);
SHOW search_path;
SELECT job_id = :ok_job AS same_job, config, who, n FROM regress_run.log;
SELECT next_start - :'t0'::timestamptz AS next_start_after_t0,
       last_run_status, consecutive_failures, last_error,
       last_run_finished_at >= last_run_started_at AS ordered
  FROM telos.jobs WHERE id = :ok_job;
SELECT status, started_by, pid = pg_backend_pid() AS this_session,
       finished_at >= started_at AS ordered, sqlstate, error, error_detail
  FROM telos.job_runs WHERE job_id = :ok_job;
-- A second run does not move a next_start that is still ahead.
CALL telos.run_job(:ok_job);
SELECT next_start - :'t0'::timestamptz AS next_start_after_t0
  FROM telos.jobs WHERE id = :ok_job;

-- A procedure run by a plain CALL may COMMIT, as under the scheduler.
TRUNCATE regress_run.log;
SELECT telos.add_job('regress_run.committer', '1 day', initial_start => '2030-01-01') AS proc_job \gset
CALL telos.run_job(:proc_job);
SELECT n FROM regress_run.log ORDER BY n;
SELECT last_run_status FROM telos.jobs WHERE id = :proc_job;
-- Inside a transaction block the job runs atomically: its COMMIT fails.
BEGIN;
CALL telos.run_job(:proc_job);
ROLLBACK;

-- Failure: the error reaches the caller, the run is recorded with its
-- SQLSTATE, message, detail and hint, and each consecutive failure doubles
-- the wait: 1, 2, 4 ... minutes up to 1 hour for a daily job.
TRUNCATE regress_run.log;
SELECT telos.add_job('regress_run.fail', '1 day', '{"why": "testing"}', '2030-01-01',
                     retry_period => '1 minute') AS fail_job \gset
CREATE TABLE pg_temp.waits (n integer, wait interval);
\set VERBOSITY terse
CALL telos.run_job(:fail_job);
INSERT INTO pg_temp.waits SELECT 1, next_start - last_run_finished_at FROM telos.jobs WHERE id = :fail_job;
CALL telos.run_job(:fail_job);
INSERT INTO pg_temp.waits SELECT 2, next_start - last_run_finished_at FROM telos.jobs WHERE id = :fail_job;
CALL telos.run_job(:fail_job);
INSERT INTO pg_temp.waits SELECT 3, next_start - last_run_finished_at FROM telos.jobs WHERE id = :fail_job;
CALL telos.run_job(:fail_job);
INSERT INTO pg_temp.waits SELECT 4, next_start - last_run_finished_at FROM telos.jobs WHERE id = :fail_job;
CALL telos.run_job(:fail_job);
INSERT INTO pg_temp.waits SELECT 5, next_start - last_run_finished_at FROM telos.jobs WHERE id = :fail_job;
CALL telos.run_job(:fail_job);
INSERT INTO pg_temp.waits SELECT 6, next_start - last_run_finished_at FROM telos.jobs WHERE id = :fail_job;
CALL telos.run_job(:fail_job);
INSERT INTO pg_temp.waits SELECT 7, next_start - last_run_finished_at FROM telos.jobs WHERE id = :fail_job;
CALL telos.run_job(:fail_job);
INSERT INTO pg_temp.waits SELECT 8, next_start - last_run_finished_at FROM telos.jobs WHERE id = :fail_job;
\set VERBOSITY default
SELECT n AS failures, wait FROM pg_temp.waits ORDER BY n;
SELECT enabled, consecutive_failures, last_run_status, last_error
  FROM telos.jobs WHERE id = :fail_job;
SELECT status, started_by, sqlstate, error, error_detail ->> 'detail' AS detail,
       error_detail ->> 'hint' AS hint
  FROM telos.job_runs WHERE job_id = :fail_job ORDER BY id LIMIT 1;
-- What the failed job wrote was rolled back with it.
SELECT count(*) AS rows_left_by_failed_runs FROM regress_run.log;

-- A success resets the count of failures.
SELECT telos.alter_job(:fail_job, config => '{}');
CREATE OR REPLACE FUNCTION regress_run.fail(job_id integer, config jsonb) RETURNS void
    LANGUAGE sql AS $$ SELECT $$;
CALL telos.run_job(:fail_job);
SELECT consecutive_failures, last_run_status, last_error FROM telos.jobs WHERE id = :fail_job;

-- The backoff never waits less than retry_period, nor longer than the
-- schedule when that is shorter than an hour.
CREATE OR REPLACE FUNCTION regress_run.fail(job_id integer, config jsonb) RETURNS void
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'again'; END $$;
SELECT telos.add_job('regress_run.fail', '10 minutes', initial_start => '2030-01-01',
                     retry_period => '3 minutes') AS short_job \gset
SELECT telos.add_job('regress_run.fail', '1 day', initial_start => '2030-01-01',
                     retry_period => '2 hours') AS long_retry_job \gset
TRUNCATE pg_temp.waits;
\set VERBOSITY terse
CALL telos.run_job(:short_job);
CALL telos.run_job(:short_job);
CALL telos.run_job(:short_job);
INSERT INTO pg_temp.waits SELECT 1, next_start - last_run_finished_at FROM telos.jobs WHERE id = :short_job;
CALL telos.run_job(:long_retry_job);
CALL telos.run_job(:long_retry_job);
INSERT INTO pg_temp.waits SELECT 2, next_start - last_run_finished_at FROM telos.jobs WHERE id = :long_retry_job;
\set VERBOSITY default
SELECT n, wait FROM pg_temp.waits ORDER BY n;

-- max_retries: after that many retries fail too, the job is disabled.
SELECT telos.add_job('regress_run.fail', '1 hour', initial_start => '2030-01-01',
                     max_retries => 2) AS limited_job \gset
\set VERBOSITY terse
CALL telos.run_job(:limited_job);
CALL telos.run_job(:limited_job);
SELECT enabled, consecutive_failures FROM telos.jobs WHERE id = :limited_job;
CALL telos.run_job(:limited_job);
\set VERBOSITY default
SELECT enabled, consecutive_failures FROM telos.jobs WHERE id = :limited_job;
-- Enabling it again starts the count afresh.
SELECT telos.alter_job(:limited_job, enabled => true);
SELECT enabled, consecutive_failures FROM telos.jobs WHERE id = :limited_job;

-- Inside a transaction block the failure is raised too; the record goes
-- with the caller's transaction.
SELECT count(*) AS runs_before FROM telos.job_runs WHERE job_id = :limited_job \gset
BEGIN;
CALL telos.run_job(:limited_job);
ROLLBACK;
SELECT count(*) - :runs_before AS runs_added FROM telos.job_runs WHERE job_id = :limited_job;

-- A job whose function was dropped fails with a clear error.
CREATE FUNCTION regress_run.dropped(job_id integer, config jsonb) RETURNS void
    LANGUAGE sql AS $$ SELECT $$;
SELECT telos.add_job('regress_run.dropped', '1 hour', initial_start => '2030-01-01') AS dropped_job \gset
DROP FUNCTION regress_run.dropped(integer, jsonb);
\set VERBOSITY terse
CALL telos.run_job(:dropped_job);
\set VERBOSITY default
SELECT sqlstate, regexp_replace(error, 'job [0-9]+', 'job N') AS error
  FROM telos.job_runs WHERE job_id = :dropped_job;

-- run_job of a job whose role lost EXECUTE fails at run time too.
CREATE FUNCTION regress_run.revoked(job_id integer, config jsonb) RETURNS void
    LANGUAGE sql AS $$ SELECT $$;
SELECT telos.add_job('regress_run.revoked', '1 hour', initial_start => '2030-01-01',
                     run_as => 'regress_run_owner') AS revoked_job \gset
REVOKE EXECUTE ON FUNCTION regress_run.revoked(integer, jsonb) FROM PUBLIC;
\set VERBOSITY terse
CALL telos.run_job(:revoked_job);
\set VERBOSITY default

-- Clean up.
SELECT telos.delete_job(id) FROM telos.jobs WHERE proc_schema = 'regress_run';
DROP SCHEMA regress_run CASCADE;
DROP ROLE regress_run_owner;
