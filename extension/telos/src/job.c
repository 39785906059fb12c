/*-------------------------------------------------------------------------
 *
 * job.c
 *	  The job catalog: reading and writing telos.jobs and telos.job_runs,
 *	  the scheduling rules, the job locks, and running one job (job.h).
 *	  The SQL functions are in job_api.c.
 *
 * The catalogs are read and written with SPI as the owner of telos.jobs,
 * with search_path = pg_catalog, pg_temp (job_catalog_enter): callers have no
 * privilege on them, and a search_path of the caller's cannot hijack an
 * operator in our queries. Who may do what is checked here instead: a role
 * manages (alters, deletes, runs) the jobs whose run_as it has the
 * privileges of, and may only schedule jobs as such a role.
 *
 *-------------------------------------------------------------------------
 */
#include "job.h"
#include "policy.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/extension.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/parsenodes.h"
#include "parser/parse_func.h"
#include "parser/parser.h"
#include "storage/lock.h"
#include "tcop/dest.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "retention.h"
#include "telos.h"
#include "util.h"

/* Backoff is never capped below this (unless schedule_interval is shorter). */
#define JOB_BACKOFF_CAP_USECS	USECS_PER_HOUR

/* ---------------------------------------------------------------------
 * Interval helpers
 * --------------------------------------------------------------------- */

int
job_interval_cmp(const Interval *a, const Interval *b)
{
	return DatumGetInt32(DirectFunctionCall2(interval_cmp,
											 IntervalPGetDatum(a),
											 IntervalPGetDatum(b)));
}

bool
job_interval_positive(const Interval *a)
{
	Interval	zero = {0};

	return job_interval_cmp(a, &zero) > 0;
}

static TimestampTz
ts_plus(TimestampTz t, const Interval *i)
{
	return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
												   TimestampTzGetDatum(t),
												   IntervalPGetDatum(i)));
}

static Interval *
interval_plus(const Interval *a, const Interval *b)
{
	return DatumGetIntervalP(DirectFunctionCall2(interval_pl,
												 IntervalPGetDatum(a),
												 IntervalPGetDatum(b)));
}

/* ---------------------------------------------------------------------
 * Catalog access as the catalog owner
 * --------------------------------------------------------------------- */

/*
 * Become the catalog owner, pin search_path and connect to SPI. A
 * restricted operation: nothing run meanwhile may change the role or the
 * session. An ERROR in between needs no cleanup: (sub)transaction abort
 * restores the user, the GUC nest level and SPI.
 */
void
job_catalog_enter(JobCatalogCtx *c)
{
	c->outer = CurrentMemoryContext;
	telos_catalog_become("jobs", &c->save);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

/* Undo job_catalog_enter: SPI, then the setting and the user. */
void
job_catalog_leave(JobCatalogCtx *c)
{
	SPI_finish();
	telos_catalog_restore(&c->save);
}

/* One value of the current SPI result. */
static Datum
spi_value(int row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc,
						 col, isnull);
}

/* ---------------------------------------------------------------------
 * Reading jobs
 * --------------------------------------------------------------------- */

bool
job_catalog_ready(void)
{
	if (!OidIsValid(get_extension_oid(TELOS_EXTENSION_NAME, true)))
		return false;
	/* An older version of the extension has no job catalog. */
	return OidIsValid(telos_catalog_relid("jobs")) &&
		OidIsValid(telos_catalog_relid("job_runs"));
}

#define JOB_COLUMNS \
	"id, proc_schema, proc_name, config, run_as, enabled, next_start, " \
	"schedule_interval, retry_period, max_retries, max_runtime, " \
	"consecutive_failures"

/* A JobDef from row `row` of the SPI result (JOB_COLUMNS), in cxt. */
static JobDef *
job_from_spi(int row, MemoryContext cxt)
{
	MemoryContext old = MemoryContextSwitchTo(cxt);
	JobDef	   *job = palloc0(sizeof(JobDef));
	bool		isnull;
	Datum		d;

	job->id = DatumGetInt32(spi_value(row, 1, &isnull));
	job->proc_schema = pstrdup(NameStr(*DatumGetName(spi_value(row, 2, &isnull))));
	job->proc_name = pstrdup(NameStr(*DatumGetName(spi_value(row, 3, &isnull))));
	job->config = DatumGetJsonbPCopy(spi_value(row, 4, &isnull));
	job->run_as = DatumGetObjectId(spi_value(row, 5, &isnull));
	job->enabled = DatumGetBool(spi_value(row, 6, &isnull));
	job->next_start = DatumGetTimestampTz(spi_value(row, 7, &isnull));
	job->schedule_interval = *DatumGetIntervalP(spi_value(row, 8, &isnull));
	job->retry_period = *DatumGetIntervalP(spi_value(row, 9, &isnull));
	job->max_retries = DatumGetInt32(spi_value(row, 10, &isnull));
	d = spi_value(row, 11, &isnull);
	job->has_max_runtime = !isnull;
	if (!isnull)
		job->max_runtime = *DatumGetIntervalP(d);
	job->consecutive_failures = DatumGetInt32(spi_value(row, 12, &isnull));
	MemoryContextSwitchTo(old);
	return job;
}

JobDef *
job_fetch(int32 job_id, bool missing_ok)
{
	JobCatalogCtx	c;
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(job_id)};
	JobDef	   *job = NULL;

	job_catalog_enter(&c);
	telos_spi_exec("SELECT " JOB_COLUMNS " FROM telos.jobs WHERE id = $1",
			1, types, values, NULL);
	if (SPI_processed > 0)
		job = job_from_spi(0, c.outer);
	job_catalog_leave(&c);

	if (job == NULL && !missing_ok)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("job %d does not exist", job_id)));
	return job;
}

int32
job_find_by_proc_and_rel(const char *proc_name, Oid relid)
{
	JobCatalogCtx	c;
	Oid			types[2] = {NAMEOID, OIDOID};
	Datum		values[2];
	int32		id = 0;

	values[0] = DirectFunctionCall1(namein, CStringGetDatum(proc_name));
	values[1] = ObjectIdGetDatum(relid);
	job_catalog_enter(&c);
	/* to_regclass: a job whose table was dropped matches nothing. */
	telos_spi_exec("SELECT id FROM telos.jobs"
			" WHERE proc_schema = 'telos' AND proc_name = $1"
			"   AND to_regclass(config ->> 'rel') = $2::regclass"
			" ORDER BY id LIMIT 1",
			2, types, values, NULL);
	if (SPI_processed > 0)
	{
		bool		isnull;

		id = DatumGetInt32(spi_value(0, 1, &isnull));
	}
	job_catalog_leave(&c);
	return id;
}

/* ---------------------------------------------------------------------
 * Checks
 * --------------------------------------------------------------------- */

void
job_check_run_as(Oid role)
{
	HeapTuple	tup;
	bool		canlogin;
	char	   *rolname;

	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(role));
	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("role with OID %u does not exist", role)));
	canlogin = ((Form_pg_authid) GETSTRUCT(tup))->rolcanlogin;
	rolname = pstrdup(NameStr(((Form_pg_authid) GETSTRUCT(tup))->rolname));
	ReleaseSysCache(tup);

	if (!has_privs_of_role(GetUserId(), role))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to run a job as role \"%s\"", rolname),
				 errdetail("Only roles that have the privileges of role \"%s\" may schedule jobs that run as it.",
						   rolname)));
	if (!canlogin)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION),
				 errmsg("role \"%s\" cannot log in, so it cannot run jobs", rolname),
				 errhint("Each run of a job is a session of its role: ALTER ROLE %s LOGIN, or choose another role.",
						 quote_identifier(rolname))));
}

/* ERROR unless the current user may manage (alter, delete, run) the job. */
void
job_check_manage(const JobDef *job, const char *action)
{
	if (!has_privs_of_role(GetUserId(), job->run_as))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to %s job %d", action, job->id),
				 errdetail("Job %d runs as role \"%s\"; only roles that have its privileges may %s it.",
						   job->id, GetUserNameFromId(job->run_as, true) ?
						   GetUserNameFromId(job->run_as, true) : "?", action)));
}

/*
 * ERROR unless proc has the job signature: (integer, jsonb), a function
 * returning one value or a procedure without OUT arguments.
 */
static void
job_check_proc(Oid proc, const char *what)
{
	HeapTuple	tup;
	Form_pg_proc p;
	bool		ok;
	char		kind;

	tup = telos_proc_tuple(proc);
	p = (Form_pg_proc) GETSTRUCT(tup);
	kind = p->prokind;
	ok = p->pronargs == 2 &&
		p->proargtypes.values[0] == INT4OID &&
		p->proargtypes.values[1] == JSONBOID &&
		((kind == PROKIND_FUNCTION && !p->proretset) ||
		 (kind == PROKIND_PROCEDURE && p->prorettype == VOIDOID));
	ReleaseSysCache(tup);

	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s %s cannot be a job", what, format_procedure(proc)),
				 errdetail("A job is a function or a procedure taking (job_id integer, config jsonb); a function must not return a set, a procedure must not have OUT arguments.")));
}

void
job_check_positive(const Interval *i, const char *name)
{
	if (!job_interval_positive(i))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be positive", name)));
}

void
job_check_max_retries(int32 n)
{
	if (n < -1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("max_retries must be -1 (retry forever) or at least 0")));
}

void
job_check_config(Jsonb *config)
{
	if (!JB_ROOT_IS_OBJECT(config) || JB_ROOT_IS_SCALAR(config))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("config must be a JSON object")));
}

/* ---------------------------------------------------------------------
 * Writing jobs
 * --------------------------------------------------------------------- */

int32
job_insert(Oid proc, const Interval *schedule_interval, Jsonb *config,
		   TimestampTz initial_start, Oid run_as, int32 max_retries,
		   const Interval *retry_period, const Interval *max_runtime,
		   bool enabled)
{
	JobCatalogCtx	c;
	Oid			types[10] = {NAMEOID, NAMEOID, JSONBOID, INTERVALOID,
		TIMESTAMPTZOID, OIDOID, BOOLOID, INT4OID, INTERVALOID, INTERVALOID};
	Datum		values[10];
	char		nulls[10];
	NameData	nsp,
				name;
	int32		id;
	bool		isnull;

	if (!OidIsValid(run_as))
		run_as = GetUserId();
	job_check_proc(proc, "function");
	job_check_positive(schedule_interval, "schedule_interval");
	job_check_positive(retry_period, "retry_period");
	if (max_runtime != NULL)
		job_check_positive(max_runtime, "max_runtime");
	job_check_max_retries(max_retries);
	job_check_config(config);
	if (TIMESTAMP_NOT_FINITE(initial_start))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("initial_start must be finite")));
	job_check_run_as(run_as);
	if (pg_proc_aclcheck(proc, run_as, ACL_EXECUTE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role \"%s\" may not execute %s",
						GetUserNameFromId(run_as, false), format_procedure(proc))));
	retention_check_job_config(get_namespace_name(get_func_namespace(proc)),
							   get_func_name(proc), config, run_as);
	policy_check_job_config(get_namespace_name(get_func_namespace(proc)),
							get_func_name(proc), config, run_as);

	namestrcpy(&nsp, get_namespace_name(get_func_namespace(proc)));
	namestrcpy(&name, get_func_name(proc));
	memset(nulls, ' ', sizeof(nulls));
	values[0] = NameGetDatum(&nsp);
	values[1] = NameGetDatum(&name);
	values[2] = JsonbPGetDatum(config);
	values[3] = IntervalPGetDatum(schedule_interval);
	values[4] = TimestampTzGetDatum(initial_start);
	values[5] = ObjectIdGetDatum(run_as);
	values[6] = BoolGetDatum(enabled);
	values[7] = Int32GetDatum(max_retries);
	values[8] = IntervalPGetDatum(retry_period);
	values[9] = max_runtime ? IntervalPGetDatum(max_runtime) : (Datum) 0;
	if (max_runtime == NULL)
		nulls[9] = 'n';

	job_catalog_enter(&c);
	telos_spi_exec("INSERT INTO telos.jobs (proc_schema, proc_name, config,"
			" schedule_interval, next_start, run_as, enabled, max_retries,"
			" retry_period, max_runtime)"
			" VALUES ($1, $2, $3, $4, $5, $6::regrole, $7, $8, $9, $10)"
			" RETURNING id",
			10, types, values, nulls);
	id = DatumGetInt32(spi_value(0, 1, &isnull));
	job_catalog_leave(&c);
	return id;
}

void
job_remove(int32 job_id)
{
	JobCatalogCtx	c;
	JobDef	   *job = job_fetch(job_id, false);
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(job_id)};

	job_check_manage(job, "delete");
	/* Wait for a run in progress: it would record its end in a void. */
	(void) job_lock(job_id, false, true);
	job_catalog_enter(&c);
	telos_spi_exec("DELETE FROM telos.jobs WHERE id = $1", 1, types, values, NULL);
	job_catalog_leave(&c);
}

int64
job_mark_start(int32 job_id, JobStarter by, int pid)
{
	JobCatalogCtx	c;
	Oid			types[4] = {INT4OID, TIMESTAMPTZOID, TEXTOID, INT4OID};
	Datum		values[4];
	char		nulls[4] = {' ', ' ', ' ', ' '};
	bool		isnull;
	int64		run_id;

	values[0] = Int32GetDatum(job_id);
	values[1] = TimestampTzGetDatum(GetCurrentTimestamp());
	values[2] = CStringGetTextDatum(by == JOB_STARTED_BY_SCHEDULER ? "scheduler" : "run_job");
	values[3] = Int32GetDatum(pid);
	if (pid == 0)
		nulls[3] = 'n';

	job_catalog_enter(&c);
	telos_spi_exec("UPDATE telos.jobs SET last_run_started_at = $2,"
			" last_run_status = 'running' WHERE id = $1",
			2, types, values, nulls);
	telos_spi_exec("INSERT INTO telos.job_runs (job_id, started_at, status, started_by, pid)"
			" VALUES ($1, $2, 'running', $3, $4) RETURNING id",
			4, types, values, nulls);
	run_id = DatumGetInt64(spi_value(0, 1, &isnull));
	job_catalog_leave(&c);
	return run_id;
}

void
job_set_run_pid(int64 run_id, int pid)
{
	JobCatalogCtx	c;
	Oid			types[2] = {INT8OID, INT4OID};
	Datum		values[2] = {Int64GetDatum(run_id), Int32GetDatum(pid)};

	job_catalog_enter(&c);
	telos_spi_exec("UPDATE telos.job_runs SET pid = $2 WHERE id = $1",
			2, types, values, NULL);
	job_catalog_leave(&c);
}

bool
job_run_is_open(int64 run_id)
{
	JobCatalogCtx	c;
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(run_id)};
	bool		open;

	job_catalog_enter(&c);
	telos_spi_exec("SELECT 1 FROM telos.job_runs WHERE id = $1 AND status = 'running'",
			1, types, values, NULL);
	open = SPI_processed > 0;
	job_catalog_leave(&c);
	return open;
}

/*
 * The next point of the job's schedule after now: next_start advanced by
 * whole schedule intervals, so that a job keeps its phase (a run that took
 * long, or a scheduler that was down, does not shift later runs).
 */
static TimestampTz
next_scheduled_start(TimestampTz next_start, const Interval *every, TimestampTz now)
{
	TimestampTz t = next_start;
	int			i;

	if (t > now)
		return t;
	if (every->month == 0 && every->day == 0 && every->time > 0)
	{
		/* Fixed length: jump straight there. */
		int64		k = (now - t) / every->time + 1;

		return t + k * every->time;
	}
	for (i = 0; i < 100000 && t <= now; i++)
		t = ts_plus(t, every);
	return t > now ? t : ts_plus(now, every);
}

/* retry_period * 2^(failures - 1), capped (see job.h). */
static Interval *
backoff_interval(const JobDef *job, int32 failures)
{
	Interval	cap_hour = {.time = JOB_BACKOFF_CAP_USECS};
	const Interval *cap;
	Interval   *b = palloc(sizeof(Interval));
	int			i;

	cap = job_interval_cmp(&job->schedule_interval, &cap_hour) < 0 ?
		&job->schedule_interval : &cap_hour;
	if (job_interval_cmp(cap, &job->retry_period) < 0)
		cap = &job->retry_period;

	*b = job->retry_period;
	for (i = 1; i < failures && job_interval_cmp(b, cap) < 0; i++)
		b = interval_plus(b, b);
	if (job_interval_cmp(b, cap) > 0)
		*b = *cap;
	return b;
}

void
job_mark_end(int32 job_id, int64 run_id, const JobOutcome *o, bool *disabled)
{
	JobCatalogCtx	c;
	TimestampTz now = GetCurrentTimestamp();
	JobDef	   *job = NULL;
	Oid			jtypes[1] = {INT4OID};
	Datum		jvalues[1] = {Int32GetDatum(job_id)};
	Oid			types[11] = {INT4OID, INT8OID, TIMESTAMPTZOID, TEXTOID,
		TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, INT4OID};
	Datum		values[11];
	char		nulls[11];
	int32		failures = 0;
	bool		enabled = true;
	TimestampTz next = now;
	int			i;

	if (disabled)
		*disabled = false;

	job_catalog_enter(&c);
	telos_spi_exec("SELECT " JOB_COLUMNS " FROM telos.jobs WHERE id = $1 FOR UPDATE",
			1, jtypes, jvalues, NULL);
	if (SPI_processed > 0)
		job = job_from_spi(0, c.outer);

	if (job != NULL)
	{
		enabled = job->enabled;
		if (o->ok)
			next = next_scheduled_start(job->next_start,
										&job->schedule_interval, now);
		else
		{
			failures = job->consecutive_failures + 1;
			next = ts_plus(now, backoff_interval(job, failures));
			if (job->max_retries >= 0 && failures > job->max_retries && enabled)
			{
				enabled = false;
				if (disabled)
					*disabled = true;
			}
		}
	}

	memset(nulls, ' ', sizeof(nulls));
	values[0] = Int32GetDatum(job_id);
	values[1] = Int64GetDatum(run_id);
	values[2] = TimestampTzGetDatum(now);
	values[3] = CStringGetTextDatum(o->ok ? "success" : "failure");
	{
		const char *texts[5];

		texts[0] = o->ok ? NULL : o->sqlstate;
		texts[1] = o->ok ? NULL : o->message;
		texts[2] = o->ok ? NULL : o->detail;
		texts[3] = o->ok ? NULL : o->hint;
		texts[4] = o->ok ? NULL : o->context;
		for (i = 0; i < 5; i++)
		{
			if (texts[i] == NULL)
			{
				values[4 + i] = (Datum) 0;
				nulls[4 + i] = 'n';
			}
			else
				values[4 + i] = CStringGetTextDatum(texts[i]);
		}
	}
	values[9] = TimestampTzGetDatum(next);
	values[10] = Int32GetDatum(failures);

	telos_spi_exec("UPDATE telos.job_runs SET finished_at = $3, status = $4,"
			" sqlstate = $5, error = $6,"
			" error_detail = nullif(jsonb_strip_nulls(jsonb_build_object("
			"   'detail', $7, 'hint', $8, 'context', $9)), '{}')"
			" WHERE id = $2 AND job_id = $1",
			11, types, values, nulls);
	if (job != NULL)
	{
		Oid			utypes[7] = {INT4OID, TIMESTAMPTZOID, TEXTOID, TEXTOID,
			TIMESTAMPTZOID, INT4OID, BOOLOID};
		Datum		uvalues[7];
		char		unulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};

		uvalues[0] = values[0];
		uvalues[1] = values[2];
		uvalues[2] = values[3];
		uvalues[3] = values[5];
		unulls[3] = nulls[5];
		uvalues[4] = values[9];
		uvalues[5] = values[10];
		uvalues[6] = BoolGetDatum(enabled);
		telos_spi_exec("UPDATE telos.jobs SET last_run_finished_at = $2,"
				" last_run_status = $3, last_error = $4, next_start = $5,"
				" consecutive_failures = $6, enabled = $7 WHERE id = $1",
				7, utypes, uvalues, unulls);
	}
	job_catalog_leave(&c);
}

/* ---------------------------------------------------------------------
 * Locks
 * --------------------------------------------------------------------- */

static void
job_locktag(LOCKTAG *tag, int32 job_id)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, TELOS_LOCK_JOB, (uint32) job_id,
						 TELOS_LOCK_CLASS);
}

bool
job_lock(int32 job_id, bool session, bool wait)
{
	LOCKTAG		tag;

	job_locktag(&tag, job_id);
	return LockAcquire(&tag, ExclusiveLock, session, !wait) != LOCKACQUIRE_NOT_AVAIL;
}

void
job_unlock(int32 job_id, bool session)
{
	LOCKTAG		tag;

	job_locktag(&tag, job_id);
	LockRelease(&tag, ExclusiveLock, session);
}

bool
job_is_running(int32 job_id)
{
	LOCKTAG		tag;
	LockAcquireResult r;

	job_locktag(&tag, job_id);
	r = LockAcquire(&tag, ExclusiveLock, false, true);
	if (r == LOCKACQUIRE_NOT_AVAIL)
		return true;
	/* Release only what this test took, not a lock we held before. */
	if (r == LOCKACQUIRE_OK)
		LockRelease(&tag, ExclusiveLock, false);
	return false;
}

/* ---------------------------------------------------------------------
 * For the scheduler
 * --------------------------------------------------------------------- */

JobDef *
job_pick_due(TimestampTz *earliest)
{
	JobCatalogCtx	c;
	JobDef	   *job = NULL;
	uint64		i;
	bool		isnull;

	job_catalog_enter(&c);
	if (earliest)
	{
		Datum		d;

		telos_spi_exec("SELECT min(next_start) FROM telos.jobs WHERE enabled",
				0, NULL, NULL, NULL);
		d = spi_value(0, 1, &isnull);
		*earliest = isnull ? 0 : DatumGetTimestampTz(d);
	}
	telos_spi_exec("SELECT " JOB_COLUMNS " FROM telos.jobs"
			" WHERE enabled AND next_start <= now()"
			" ORDER BY next_start, id",
			0, NULL, NULL, NULL);
	for (i = 0; i < SPI_processed && job == NULL; i++)
	{
		int32		id = DatumGetInt32(spi_value(i, 1, &isnull));

		/* Being run by run_job (or by a worker of a former scheduler). */
		if (!job_is_running(id))
			job = job_from_spi(i, c.outer);
	}
	job_catalog_leave(&c);
	return job;
}

void
job_close_orphans(void)
{
	JobCatalogCtx	c;
	int32	   *jobs;
	int64	   *runs;
	int			n,
				i;
	bool		isnull;

	job_catalog_enter(&c);
	telos_spi_exec("SELECT job_id, id FROM telos.job_runs WHERE status = 'running'",
			0, NULL, NULL, NULL);
	n = (int) SPI_processed;
	jobs = MemoryContextAlloc(c.outer, sizeof(int32) * (n + 1));
	runs = MemoryContextAlloc(c.outer, sizeof(int64) * (n + 1));
	for (i = 0; i < n; i++)
	{
		jobs[i] = DatumGetInt32(spi_value(i, 1, &isnull));
		runs[i] = DatumGetInt64(spi_value(i, 2, &isnull));
	}
	job_catalog_leave(&c);

	for (i = 0; i < n; i++)
	{
		JobOutcome	o = {
			.ok = false,
			.message = "the process running the job exited before the end of the run was recorded",
			.hint = "The server log tells why: a crash, pg_terminate_backend(), or a stop of the scheduler.",
		};

		if (job_is_running(jobs[i]))
			continue;
		job_mark_end(jobs[i], runs[i], &o, NULL);
	}
}

void
job_prune_runs(int age_minutes)
{
	JobCatalogCtx	c;
	Oid			types[1] = {INT4OID};
	Datum		values[1] = {Int32GetDatum(age_minutes)};

	if (age_minutes <= 0)
		return;
	job_catalog_enter(&c);
	telos_spi_exec("DELETE FROM telos.job_runs WHERE status <> 'running'"
			" AND finished_at < now() - make_interval(mins => $1)",
			1, types, values, NULL);
	job_catalog_leave(&c);
}

/* ---------------------------------------------------------------------
 * Running a job
 * --------------------------------------------------------------------- */

void
job_execute(const JobDef *job, bool atomic)
{
	ObjectWithArgs *object = makeNode(ObjectWithArgs);
	Oid			proc;
	FuncExpr   *fexpr;
	List	   *args;

	/* OBJECT_ROUTINE: functions and procedures alike. */
	object->objname = list_make2(makeString(job->proc_schema),
								 makeString(job->proc_name));
	object->objargs = list_make2(SystemTypeName("int4"), SystemTypeName("jsonb"));
	proc = LookupFuncWithArgs(OBJECT_ROUTINE, object, true);
	if (!OidIsValid(proc))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("function %s(integer, jsonb) of job %d does not exist",
						quote_qualified_identifier(job->proc_schema, job->proc_name),
						job->id),
				 errhint("Re-create it, or delete the job with telos.delete_job(%d).",
						 job->id)));
	job_check_proc(proc, "function");

	args = list_make2(makeConst(INT4OID, -1, InvalidOid, 4,
								Int32GetDatum(job->id), false, true),
					  makeConst(JSONBOID, -1, InvalidOid, -1,
								JsonbPGetDatum(job->config), false, false));
	fexpr = makeFuncExpr(proc, get_func_rettype(proc), args, InvalidOid,
						 InvalidOid, COERCE_EXPLICIT_CALL);

	if (get_func_prokind(proc) == PROKIND_PROCEDURE)
	{
		CallStmt   *call = makeNode(CallStmt);

		call->funcexpr = fexpr;
		call->outargs = NIL;
		/* ExecuteCallStmt checks EXECUTE, as a CALL would. */
		ExecuteCallStmt(call, makeParamList(0), atomic, None_Receiver);
	}
	else
	{
		EState	   *estate = CreateExecutorState();
		ExprContext *econtext = CreateExprContext(estate);
		ExprState  *es;
		bool		isnull;

		/* ExecInitFunc checks EXECUTE. */
		es = ExecPrepareExpr((Expr *) fexpr, estate);
		(void) ExecEvalExpr(es, econtext, &isnull);
		FreeExprContext(econtext, true);
		FreeExecutorState(estate);
	}
}

/* ---------------------------------------------------------------------
 * Policies: the jobs of telos.<proc>(integer, jsonb) for one relation
 * --------------------------------------------------------------------- */

/* telos.<name>(integer, jsonb), a function or a procedure. */
static Oid
policy_proc(const char *name)
{
	char	   *sig = psprintf("%s.%s(integer,jsonb)", TELOS_SCHEMA_NAME, name);

	return DatumGetObjectId(DirectFunctionCall1(regprocedurein, CStringGetDatum(sig)));
}

int32
job_policy_existing(const char *proc, Oid rel, bool if_not_exists, const char *what)
{
	int32		id = job_find_by_proc_and_rel(proc, rel);

	if (id == 0)
		return 0;
	if (!if_not_exists)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("%s policy already exists for \"%s\"", what, get_rel_name(rel)),
				 errdetail("It is job %d.", id),
				 errhint("Use if_not_exists => true, or remove it first.")));
	ereport(NOTICE,
			(errmsg("%s policy already exists for \"%s\", skipping", what, get_rel_name(rel))));
	return id;
}

int32
job_policy_insert(const char *proc, const Interval *schedule, Jsonb *config, Oid run_as)
{
	return job_insert(policy_proc(proc), schedule, config,
					  GetCurrentTransactionStartTimestamp(), run_as, -1,
					  &(Interval) {.time = USECS_PER_MINUTE}, NULL, true);
}

void
job_policy_remove(FunctionCallInfo fcinfo, const char *proc, const char *what)
{
	Oid			rel;
	int32		id;
	const char *name;

	telos_arg_notnull(fcinfo, 0, "rel");
	telos_arg_notnull(fcinfo, 1, "if_exists");
	rel = PG_GETARG_OID(0);
	name = get_rel_name(rel) ? get_rel_name(rel) : "?";
	id = job_find_by_proc_and_rel(proc, rel);
	if (id != 0)
		job_remove(id);
	else if (PG_GETARG_BOOL(1))
		ereport(NOTICE,
				(errmsg("%s policy for \"%s\" does not exist, skipping", what, name)));
	else
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("%s policy for \"%s\" does not exist", what, name)));
}
