--
-- jobs_worker: the background worker for real. The launcher runs from
-- postmaster start (shared_preload_libraries); with telos.scheduler_enabled
-- on, a scheduler in telos.job_database runs due jobs, each in a process of
-- its own connected as the job's role. A job that fails is retried with
-- backoff; one that is cancelled, terminated or runs past max_runtime is
-- recorded as failed -- and the scheduler goes on. It leaves while the
-- extension is missing and comes back with it; it follows the settings.
--
-- regress.conf: telos.job_database = 'regression', naptime 200ms, scheduler
-- off; this suite turns it on (ALTER SYSTEM) and off again at the end.
-- Waits are bounded loops: regress_wk.wait_for(condition) gives up after 60 s.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
RESET client_min_messages;
SET timezone = 'UTC';
SELECT setval('telos.jobs_id_seq', 300) IS NOT NULL AS ids_from_301;

CREATE ROLE regress_wk_role LOGIN;
CREATE SCHEMA regress_wk;
GRANT USAGE ON SCHEMA regress_wk TO PUBLIC;

-- Helpers in a schema, not pg_temp: the suite reconnects (\c) once.
CREATE FUNCTION regress_wk.wait_for(cond text, timeout_s float8 DEFAULT 60)
    RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE
    ok boolean;
    t0 timestamptz := clock_timestamp();
BEGIN
    LOOP
        PERFORM pg_stat_clear_snapshot();   -- pg_stat_activity afresh
        EXECUTE 'SELECT (' || cond || ')' INTO ok;
        IF ok THEN
            RETURN true;
        END IF;
        IF clock_timestamp() - t0 > make_interval(secs => timeout_s) THEN
            RAISE WARNING 'timed out waiting for: %', cond;
            RETURN false;
        END IF;
        PERFORM pg_sleep(0.05);
    END LOOP;
END $$;

CREATE FUNCTION regress_wk.scheduler_in(db name) RETURNS integer LANGUAGE sql AS $$
    SELECT pid FROM pg_stat_activity
     WHERE backend_type = 'telos scheduler' AND datname = db
$$;
CREATE FUNCTION regress_wk.scheduler_pid() RETURNS integer LANGUAGE sql AS $$
    SELECT regress_wk.scheduler_in(current_database())
$$;

-- The launcher is there; the scheduler is not (off in regress.conf).
SELECT count(*) AS launchers FROM pg_stat_activity WHERE backend_type = 'telos launcher';
SELECT current_setting('telos.job_database') = current_database() AS job_database_is_this_one,
       current_setting('telos.scheduler_enabled') AS enabled;
SELECT regress_wk.wait_for('regress_wk.scheduler_pid() IS NULL') AS no_scheduler;

ALTER SYSTEM SET telos.scheduler_enabled = on;
SELECT pg_reload_conf();
SELECT regress_wk.wait_for('regress_wk.scheduler_pid() IS NOT NULL') AS scheduler_started;
SELECT regress_wk.scheduler_pid() AS sched_pid \gset

CREATE TABLE regress_wk.log (job_id integer, who name, backend_type text,
                             app text, n integer);
GRANT INSERT ON regress_wk.log TO PUBLIC;

-- ---------------------------------------------------------------------------
-- A job runs by itself, again every schedule_interval, in a "telos job"
-- process connected as its role.
-- ---------------------------------------------------------------------------
CREATE FUNCTION regress_wk.tick(job_id integer, config jsonb) RETURNS void
    LANGUAGE sql AS $$
    INSERT INTO regress_wk.log
    SELECT job_id, current_user, a.backend_type, a.application_name, 1
      FROM pg_stat_activity a WHERE a.pid = pg_backend_pid()
$$;
SELECT telos.add_job('regress_wk.tick', '1 second', run_as => 'regress_wk_role') AS tick \gset
SELECT regress_wk.wait_for('(SELECT count(*) >= 2 FROM regress_wk.log WHERE job_id = ' || :tick || ')') AS ran_twice;
SELECT telos.alter_job(:tick, enabled => false);
SELECT DISTINCT who, backend_type, app FROM regress_wk.log WHERE job_id = :tick;
SELECT DISTINCT status, started_by, pid IS NOT NULL AS has_pid, pid <> pg_backend_pid() AS other_process
  FROM telos.job_runs WHERE job_id = :tick AND status <> 'running';

-- A procedure may COMMIT under the scheduler.
CREATE PROCEDURE regress_wk.committer(job_id integer, config jsonb)
    LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_wk.log (job_id, n) VALUES (job_id, 1);
    COMMIT;
    INSERT INTO regress_wk.log (job_id, n) VALUES (job_id, 2);
END $$;
SELECT telos.add_job('regress_wk.committer', '1 hour') AS committer \gset
SELECT regress_wk.wait_for('(SELECT last_run_status = ''success'' FROM telos.jobs WHERE id = ' || :committer || ')') AS committer_done;
SELECT n FROM regress_wk.log WHERE job_id = :committer ORDER BY n;

-- ---------------------------------------------------------------------------
-- A failing job is recorded and retried with backoff (retry_period 1 s:
-- waits of 1, 2, 4 s); max_retries then disables it. The scheduler lives on.
-- ---------------------------------------------------------------------------
CREATE FUNCTION regress_wk.fail(job_id integer, config jsonb) RETURNS void
    LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'scheduled failure' USING ERRCODE = '22012'; END $$;
SELECT telos.add_job('regress_wk.fail', '1 hour', retry_period => '1 second',
                     max_retries => 2) AS fail \gset
SELECT regress_wk.wait_for('(SELECT NOT enabled FROM telos.jobs WHERE id = ' || :fail || ')') AS disabled;
SELECT consecutive_failures, last_run_status, last_error,
       next_start - last_run_finished_at AS last_backoff
  FROM telos.jobs WHERE id = :fail;
SELECT status, started_by, sqlstate, error,
       started_at - lag(finished_at) OVER w
         >= make_interval(secs => power(2, row_number() OVER w - 2)) AS waited_backoff
  FROM telos.job_runs WHERE job_id = :fail WINDOW w AS (ORDER BY id) ORDER BY id;
SELECT regress_wk.scheduler_pid() = :sched_pid AS same_scheduler;

-- ---------------------------------------------------------------------------
-- Cancelled (pg_cancel_backend), terminated (pg_terminate_backend), or past
-- its max_runtime: the run is recorded as failed, the scheduler lives on.
-- ---------------------------------------------------------------------------
CREATE FUNCTION regress_wk.sleepy(job_id integer, config jsonb) RETURNS void
    LANGUAGE sql AS $$ SELECT pg_sleep(300) $$;
CREATE FUNCTION pg_temp.running_pid(job integer) RETURNS integer LANGUAGE sql AS $$
    SELECT pid FROM telos.job_runs WHERE job_id = job AND status = 'running' AND pid IS NOT NULL
$$;

SELECT telos.add_job('regress_wk.sleepy', '1 hour') AS sleepy \gset
SELECT regress_wk.wait_for('pg_temp.running_pid(' || :sleepy || ') IS NOT NULL') AS running;
SELECT pg_cancel_backend(pg_temp.running_pid(:sleepy));
SELECT regress_wk.wait_for('(SELECT last_run_status = ''failure'' FROM telos.jobs WHERE id = ' || :sleepy || ')') AS recorded;
SELECT status, sqlstate, error FROM telos.job_runs WHERE job_id = :sleepy ORDER BY id;

SELECT telos.alter_job(:sleepy, next_start => now());
SELECT regress_wk.wait_for('pg_temp.running_pid(' || :sleepy || ') IS NOT NULL') AS running;
SELECT pg_terminate_backend(pg_temp.running_pid(:sleepy));
SELECT regress_wk.wait_for('(SELECT count(*) = 2 FROM telos.job_runs WHERE status = ''failure'' AND job_id = ' || :sleepy || ')') AS recorded;
SELECT status, sqlstate, error FROM telos.job_runs WHERE job_id = :sleepy ORDER BY id;

SELECT telos.alter_job(:sleepy, next_start => now(), max_runtime => '1 second');
SELECT regress_wk.wait_for('(SELECT count(*) = 3 FROM telos.job_runs WHERE status = ''failure'' AND job_id = ' || :sleepy || ')') AS recorded;
SELECT status, sqlstate, error FROM telos.job_runs WHERE job_id = :sleepy ORDER BY id;
SELECT consecutive_failures FROM telos.jobs WHERE id = :sleepy;
SELECT telos.alter_job(:sleepy, enabled => false);
SELECT regress_wk.scheduler_pid() = :sched_pid AS same_scheduler;

-- A role that can no longer log in: the run fails without starting.
ALTER ROLE regress_wk_role NOLOGIN;
SELECT telos.alter_job(:tick, enabled => true, next_start => now());
SELECT regress_wk.wait_for('(SELECT last_run_status = ''failure'' FROM telos.jobs WHERE id = ' || :tick || ')') AS recorded;
SELECT telos.alter_job(:tick, enabled => false);
SELECT sqlstate, error FROM telos.job_runs WHERE job_id = :tick AND status = 'failure';
ALTER ROLE regress_wk_role LOGIN;

-- ---------------------------------------------------------------------------
-- Settings: the scheduler follows telos.job_database. DROP DATABASE of the
-- job database works though the scheduler is connected to it (the telos
-- ProcessUtility hook stops it first).
-- ---------------------------------------------------------------------------
SELECT current_database() AS regress_db \gset
CREATE DATABASE regress_wk_other;
\c regress_wk_other
SET client_min_messages = warning;
CREATE EXTENSION telos;
\c :regress_db
SET timezone = 'UTC';
ALTER SYSTEM SET telos.job_database = 'regress_wk_other';
SELECT pg_reload_conf();
SELECT regress_wk.wait_for('regress_wk.scheduler_pid() IS NULL') AS left_this_database;
SELECT regress_wk.wait_for($$regress_wk.scheduler_in('regress_wk_other') IS NOT NULL$$) AS runs_there;
DROP DATABASE regress_wk_other;
SELECT regress_wk.wait_for($$regress_wk.scheduler_in('regress_wk_other') IS NULL$$) AS gone_with_it;
ALTER SYSTEM SET telos.job_database = 'regress_wk_no_such_database';
SELECT pg_reload_conf();
SELECT pg_sleep(0.5);
SELECT count(*) AS launchers, count(*) FILTER (WHERE backend_type = 'telos scheduler') AS schedulers
  FROM pg_stat_activity WHERE backend_type LIKE 'telos %';
ALTER SYSTEM RESET telos.job_database;
SELECT pg_reload_conf();
SELECT regress_wk.wait_for('regress_wk.scheduler_pid() IS NOT NULL') AS back_here;

-- Without the extension the scheduler leaves; it returns with it.
SELECT telos.delete_job(id) FROM telos.jobs WHERE proc_schema = 'regress_wk';
DROP EXTENSION telos;
SELECT regress_wk.wait_for('regress_wk.scheduler_pid() IS NULL') AS left_without_extension;
CREATE EXTENSION telos;
SELECT regress_wk.wait_for('regress_wk.scheduler_pid() IS NOT NULL') AS back_with_extension;
SELECT telos.add_job('regress_wk.tick', '1 hour') AS tick2 \gset
SELECT regress_wk.wait_for('(SELECT last_run_status = ''success'' FROM telos.jobs WHERE id = ' || :tick2 || ')') AS ran;
SELECT telos.delete_job(:tick2);

-- SIGTERM stops the scheduler promptly; the launcher starts a new one.
SELECT regress_wk.scheduler_pid() AS sched_pid \gset
SELECT pg_terminate_backend(:sched_pid);
SELECT regress_wk.wait_for('regress_wk.scheduler_pid() IS DISTINCT FROM ' || :sched_pid, 10) AS stopped;
SELECT regress_wk.wait_for('regress_wk.scheduler_pid() IS NOT NULL') AS restarted;

-- Off again: the scheduler stops, the launcher stays.
ALTER SYSTEM RESET telos.scheduler_enabled;
SELECT pg_reload_conf();
SELECT regress_wk.wait_for('regress_wk.scheduler_pid() IS NULL') AS scheduler_stopped;
SELECT count(*) AS launchers FROM pg_stat_activity WHERE backend_type = 'telos launcher';

-- Clean up.
DROP SCHEMA regress_wk CASCADE;
DROP ROLE regress_wk_role;
