/*
 * 30_jobs.sql -- the job catalog, the scheduler's API, and the retention and
 * maintenance policies (module "jobs": src/job.c, src/scheduler.c,
 * src/retention.c).
 *
 * A job is a row of telos.jobs: a function or procedure taking
 * (job_id integer, config jsonb), a schedule, and the role it runs as. The
 * background worker (shared_preload_libraries = 'telos') runs due jobs one at
 * a time, each in a process of its own connected as the job's role; every run
 * is a row of telos.job_runs. The catalogs are written only through the
 * functions below, which check that the caller may act as the job's role.
 */

/*
 * The job's function is stored by name, not as regproc: pg_upgrade refuses
 * clusters with regproc columns in user tables (function OIDs are not
 * preserved), and a name survives dump and restore. It is looked up with the
 * argument types (integer, jsonb) at every run.
 */
CREATE TABLE telos.jobs (
	id					 serial		 PRIMARY KEY,
	proc_schema			 name		 NOT NULL,
	proc_name			 name		 NOT NULL,
	config				 jsonb		 NOT NULL DEFAULT '{}',
	schedule_interval	 interval	 NOT NULL CHECK (schedule_interval > interval '0'),
	next_start			 timestamptz NOT NULL,
	run_as				 regrole	 NOT NULL,
	enabled				 boolean	 NOT NULL DEFAULT true,
	-- -1: retry forever; n >= 0: disable the job after n retries that failed.
	max_retries			 integer	 NOT NULL DEFAULT -1 CHECK (max_retries >= -1),
	retry_period		 interval	 NOT NULL DEFAULT '1 minute' CHECK (retry_period > interval '0'),
	-- NULL: no limit; else the scheduler terminates a run that lasts longer.
	max_runtime			 interval	 CHECK (max_runtime > interval '0'),
	consecutive_failures integer	 NOT NULL DEFAULT 0,
	last_run_started_at	 timestamptz,
	last_run_finished_at timestamptz,
	last_run_status		 text		 CHECK (last_run_status IN ('running', 'success', 'failure')),
	last_error			 text,
	created_at			 timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_next_start_idx ON telos.jobs (next_start) WHERE enabled;

COMMENT ON TABLE telos.jobs IS
	'scheduled jobs: a function or procedure (job_id integer, config jsonb) run by the telos background worker';

/*
 * One row per run, written when it starts (status 'running') and when it
 * ends. The scheduler prunes rows older than telos.job_runs_retention.
 */
CREATE TABLE telos.job_runs (
	id			 bigserial	 PRIMARY KEY,
	job_id		 integer	 NOT NULL REFERENCES telos.jobs (id) ON DELETE CASCADE,
	started_at	 timestamptz NOT NULL,
	finished_at	 timestamptz,
	status		 text		 NOT NULL CHECK (status IN ('running', 'success', 'failure')),
	-- 'scheduler' (background worker) or 'run_job' (CALL telos.run_job).
	started_by	 text		 NOT NULL CHECK (started_by IN ('scheduler', 'run_job')),
	pid			 integer,
	sqlstate	 text,
	error		 text,
	-- detail, hint and context of the error, when it had them.
	error_detail jsonb
);
CREATE INDEX job_runs_job_started_idx ON telos.job_runs (job_id, started_at DESC);
CREATE INDEX job_runs_running_idx ON telos.job_runs (job_id) WHERE status = 'running';

COMMENT ON TABLE telos.job_runs IS
	'history of job runs: start, end, status and error';

/*
 * Who sees what: a role sees the jobs it could manage (those whose run_as it
 * has the privileges of) and their runs. Errors can quote data, and jobs of
 * telos_worker span tenants, so telos_app must not see them. Writes go
 * through the functions below only (no INSERT/UPDATE/DELETE grant).
 */
ALTER TABLE telos.jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE telos.job_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY job_manager ON telos.jobs
	USING (pg_catalog.pg_has_role(run_as::oid, 'USAGE'));
CREATE POLICY job_manager ON telos.job_runs
	USING (EXISTS (SELECT 1 FROM telos.jobs j WHERE j.id = job_id));
GRANT SELECT ON telos.jobs, telos.job_runs TO PUBLIC;

/* Jobs are configuration: pg_dump keeps them (the history it need not). */
SELECT pg_catalog.pg_extension_config_dump('telos.jobs', '');
SELECT pg_catalog.pg_extension_config_dump('telos.jobs_id_seq', '');

/*
 * telos.add_job -- schedule proc(job_id, config) every schedule_interval from
 * initial_start, as run_as (NULL: the calling role). The caller must have the
 * privileges of run_as, which must be able to log in (each run is a session
 * of that role). Returns the job id.
 */
CREATE FUNCTION telos.add_job(
	proc regproc,
	schedule_interval interval,
	config jsonb DEFAULT '{}',
	initial_start timestamptz DEFAULT now(),
	run_as regrole DEFAULT NULL,
	max_retries integer DEFAULT -1,
	retry_period interval DEFAULT '1 minute',
	max_runtime interval DEFAULT NULL,
	enabled boolean DEFAULT true)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'telos_add_job'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.add_job(regproc, interval, jsonb, timestamptz, regrole, integer, interval, interval, boolean) IS
	'schedule a function or procedure (job_id integer, config jsonb); returns the job id';

/*
 * telos.alter_job -- change a job; NULL leaves a setting as it is
 * (max_runtime => '0' removes the limit). Enabling a job resets its count of
 * consecutive failures.
 */
CREATE FUNCTION telos.alter_job(
	job_id integer,
	schedule_interval interval DEFAULT NULL,
	config jsonb DEFAULT NULL,
	next_start timestamptz DEFAULT NULL,
	enabled boolean DEFAULT NULL,
	max_retries integer DEFAULT NULL,
	retry_period interval DEFAULT NULL,
	max_runtime interval DEFAULT NULL,
	run_as regrole DEFAULT NULL)
	RETURNS void
	AS 'MODULE_PATHNAME', 'telos_alter_job'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.alter_job(integer, interval, jsonb, timestamptz, boolean, integer, interval, interval, regrole) IS
	'change the schedule, configuration or state of a job';

/* telos.delete_job -- remove a job and its history; waits for a running one. */
CREATE FUNCTION telos.delete_job(job_id integer)
	RETURNS void
	AS 'MODULE_PATHNAME', 'telos_delete_job'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.delete_job(integer) IS
	'remove a job and its run history';

/*
 * CALL telos.run_job(job_id) -- run a job now, in this session, as its
 * run_as role; the run is recorded like a scheduled one and an error is
 * raised again to the caller.
 */
CREATE PROCEDURE telos.run_job(job_id integer)
	AS 'MODULE_PATHNAME', 'telos_run_job'
	LANGUAGE C;

COMMENT ON PROCEDURE telos.run_job(integer) IS
	'run a job now in the calling session and record the run';

/* ------------------------------------------------------------------------
 * Retention and maintenance policies: jobs whose proc is one of the two
 * functions below, with the policy in the job's config.
 * ------------------------------------------------------------------------ */

/*
 * telos.retention_job -- the job behind telos.add_retention_policy. The
 * config is validated again at every run (the tables may have changed).
 */
CREATE FUNCTION telos.retention_job(job_id integer, config jsonb)
	RETURNS void
	AS 'MODULE_PATHNAME', 'telos_retention_job'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.retention_job(integer, jsonb) IS
	'job: drop expired chunks, delete rows of tenants with shorter windows, expire rollups';

/*
 * telos.add_retention_policy -- keep rel's rows for each tenant's window:
 * tenant_retention_fn() RETURNS TABLE(tenant_id uuid, retention interval)
 * gives the windows (tenants it does not list, or all when NULL, get
 * default_retention). Chunks older than every window are dropped (or
 * archived: the hypertable's archive_fn); rows of tenants with shorter
 * windows are deleted from live chunks. In rollups, hourly buckets are kept
 * keep_hourly (NULL: as long as the raw rows of their tenant), daily buckets
 * keep_daily (NULL: forever), monthly buckets forever.
 */
CREATE FUNCTION telos.add_retention_policy(
	rel regclass,
	default_retention interval DEFAULT '12 months',
	tenant_retention_fn regprocedure DEFAULT NULL,
	rollups regclass DEFAULT NULL,
	keep_hourly interval DEFAULT NULL,
	keep_daily interval DEFAULT '3 years',
	schedule interval DEFAULT '1 hour',
	run_as regrole DEFAULT NULL,
	if_not_exists boolean DEFAULT false,
	time_column name DEFAULT NULL)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'telos_add_retention_policy'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.add_retention_policy(regclass, interval, regprocedure, regclass, interval, interval, interval, regrole, boolean, name) IS
	'schedule per-tenant retention of a table and its rollups; returns the job id';

/* telos.remove_retention_policy -- delete the retention job of rel. */
CREATE FUNCTION telos.remove_retention_policy(rel regclass, if_exists boolean DEFAULT false)
	RETURNS void
	AS 'MODULE_PATHNAME', 'telos_remove_retention_policy'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.remove_retention_policy(regclass, boolean) IS
	'remove the retention policy of a table';

/* telos.maintenance_job -- the job behind telos.add_maintenance_policy. */
CREATE FUNCTION telos.maintenance_job(job_id integer, config jsonb)
	RETURNS void
	AS 'MODULE_PATHNAME', 'telos_maintenance_job'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.maintenance_job(integer, jsonb) IS
	'job: telos.maintain(hypertable, ahead) -- chunks ahead of now, default partition emptied';

/*
 * telos.add_maintenance_policy -- run telos.maintain(rel, ahead) every
 * schedule: chunks are created ahead of time and the default partition is
 * emptied into proper chunks.
 */
CREATE FUNCTION telos.add_maintenance_policy(
	rel regclass,
	ahead interval DEFAULT '4 weeks',
	schedule interval DEFAULT '1 hour',
	run_as regrole DEFAULT NULL,
	if_not_exists boolean DEFAULT false)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'telos_add_maintenance_policy'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.add_maintenance_policy(regclass, interval, interval, regrole, boolean) IS
	'schedule telos.maintain for a hypertable; returns the job id';

/* telos.remove_maintenance_policy -- delete the maintenance job of rel. */
CREATE FUNCTION telos.remove_maintenance_policy(rel regclass, if_exists boolean DEFAULT false)
	RETURNS void
	AS 'MODULE_PATHNAME', 'telos_remove_maintenance_policy'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.remove_maintenance_policy(regclass, boolean) IS
	'remove the maintenance policy of a hypertable';
