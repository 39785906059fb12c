/*-------------------------------------------------------------------------
 *
 * job_api.c
 *	  The SQL functions of the job catalog: telos.add_job, alter_job,
 *	  delete_job and the procedure telos.run_job (job.h has the catalog
 *	  operations they share with the scheduler).
 *
 *-------------------------------------------------------------------------
 */
#include "job.h"
#include "policy.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "tcop/pquery.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "retention.h"

PG_FUNCTION_INFO_V1(telos_add_job);
PG_FUNCTION_INFO_V1(telos_alter_job);
PG_FUNCTION_INFO_V1(telos_delete_job);
PG_FUNCTION_INFO_V1(telos_run_job);

/*
 * telos.add_job(proc regproc, schedule_interval interval, config jsonb,
 *		initial_start timestamptz, run_as regrole, max_retries integer,
 *		retry_period interval, max_runtime interval, enabled boolean)
 *		RETURNS integer
 */
Datum
telos_add_job(PG_FUNCTION_ARGS)
{
	telos_arg_notnull(fcinfo, 0, "proc");
	telos_arg_notnull(fcinfo, 1, "schedule_interval");
	telos_arg_notnull(fcinfo, 2, "config");
	telos_arg_notnull(fcinfo, 3, "initial_start");
	telos_arg_notnull(fcinfo, 5, "max_retries");
	telos_arg_notnull(fcinfo, 6, "retry_period");
	telos_arg_notnull(fcinfo, 8, "enabled");

	PG_RETURN_INT32(job_insert(PG_GETARG_OID(0),
							   PG_GETARG_INTERVAL_P(1),
							   PG_GETARG_JSONB_P(2),
							   PG_GETARG_TIMESTAMPTZ(3),
							   PG_ARGISNULL(4) ? InvalidOid : PG_GETARG_OID(4),
							   PG_GETARG_INT32(5),
							   PG_GETARG_INTERVAL_P(6),
							   PG_ARGISNULL(7) ? NULL : PG_GETARG_INTERVAL_P(7),
							   PG_GETARG_BOOL(8)));
}

/*
 * telos.alter_job(job_id, schedule_interval, config, next_start, enabled,
 *		max_retries, retry_period, max_runtime, run_as) RETURNS void
 * NULL leaves a setting unchanged; max_runtime '0' removes the limit.
 */
Datum
telos_alter_job(PG_FUNCTION_ARGS)
{
	JobCatalogCtx	c;
	JobDef	   *job;
	Oid			types[9] = {INT4OID, INTERVALOID, JSONBOID, TIMESTAMPTZOID,
		BOOLOID, INT4OID, INTERVALOID, INTERVALOID, OIDOID};
	Datum		values[9];
	char		nulls[9];
	int			i;

	telos_arg_notnull(fcinfo, 0, "job_id");
	job = job_fetch(PG_GETARG_INT32(0), false);
	job_check_manage(job, "alter");

	if (!PG_ARGISNULL(1))
		job_check_positive(PG_GETARG_INTERVAL_P(1), "schedule_interval");
	if (!PG_ARGISNULL(2))
		job_check_config(PG_GETARG_JSONB_P(2));
	if (!PG_ARGISNULL(3) && TIMESTAMP_NOT_FINITE(PG_GETARG_TIMESTAMPTZ(3)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("next_start must be finite")));
	if (!PG_ARGISNULL(5))
		job_check_max_retries(PG_GETARG_INT32(5));
	if (!PG_ARGISNULL(6))
		job_check_positive(PG_GETARG_INTERVAL_P(6), "retry_period");
	if (!PG_ARGISNULL(7))
	{
		Interval	zero = {0};

		if (job_interval_cmp(PG_GETARG_INTERVAL_P(7), &zero) < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("max_runtime must be positive, or 0 for no limit")));
	}
	if (!PG_ARGISNULL(8))
		job_check_run_as(PG_GETARG_OID(8));
	if (!PG_ARGISNULL(2) || !PG_ARGISNULL(8))
	{
		retention_check_job_config(job->proc_schema, job->proc_name,
								   PG_ARGISNULL(2) ? job->config : PG_GETARG_JSONB_P(2),
								   PG_ARGISNULL(8) ? job->run_as : PG_GETARG_OID(8));
		policy_check_job_config(job->proc_schema, job->proc_name,
								PG_ARGISNULL(2) ? job->config : PG_GETARG_JSONB_P(2),
								PG_ARGISNULL(8) ? job->run_as : PG_GETARG_OID(8));
	}

	for (i = 0; i < 9; i++)
	{
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
		values[i] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
	}

	job_catalog_enter(&c);
	telos_spi_exec("UPDATE telos.jobs SET"
			" schedule_interval = coalesce($2, schedule_interval),"
			" config = coalesce($3, config),"
			" next_start = coalesce($4, next_start),"
			" consecutive_failures = CASE WHEN $5 AND NOT enabled THEN 0"
			"   ELSE consecutive_failures END,"
			" enabled = coalesce($5, enabled),"
			" max_retries = coalesce($6, max_retries),"
			" retry_period = coalesce($7, retry_period),"
			" max_runtime = CASE WHEN $8 IS NULL THEN max_runtime"
			"   WHEN $8 = interval '0' THEN NULL ELSE $8 END,"
			" run_as = coalesce($9::regrole, run_as)"
			" WHERE id = $1",
			9, types, values, nulls);
	job_catalog_leave(&c);
	PG_RETURN_VOID();
}

/* telos.delete_job(job_id integer) RETURNS void */
Datum
telos_delete_job(PG_FUNCTION_ARGS)
{
	telos_arg_notnull(fcinfo, 0, "job_id");
	job_remove(PG_GETARG_INT32(0));
	PG_RETURN_VOID();
}

/*
 * Memory of run_job that outlives the transactions it commits: the job and
 * the error of a failed run. Reset at the next call.
 */
static MemoryContext run_job_cxt = NULL;

/* A JobOutcome describing edata (pointers into edata). */
void
job_outcome_from_error(JobOutcome *o, ErrorData *edata)
{
	o->ok = false;
	o->sqlstate = unpack_sql_state(edata->sqlerrcode);
	o->message = edata->message ? edata->message : "unknown error";
	o->detail = edata->detail;
	o->hint = edata->hint;
	o->context = edata->context;
}

static void
warn_if_disabled(const JobDef *job, bool disabled)
{
	if (disabled)
		ereport(WARNING,
				(errmsg("job %d disabled after %d consecutive failures",
						job->id, job->consecutive_failures + 1),
				 errhint("Fix the cause, then SELECT telos.alter_job(%d, enabled => true).",
						 job->id)));
}

/*
 * run_job in its own transactions (a top-level CALL): the job runs as a
 * CALL would, so a procedure may COMMIT. The start is committed first; a
 * failure aborts the job's transaction, is recorded and committed, then
 * raised again. No PL sits between the client and us here (checked by the
 * caller), so ending the transaction in the error path leaves nobody's SPI
 * or portal state behind: this is what SPI_rollback does, minus holding
 * pinned portals, of which there are none but the failed job's own (which
 * the abort drops).
 */
static void
run_job_nonatomic(JobDef *job)
{
	int64		run_id;
	ErrorData  *volatile edata = NULL;
	JobOutcome	outcome = {.ok = true};
	bool		disabled;
	Oid			save_userid;
	int			save_sec;

	if (!job_lock(job->id, true, false))
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("job %d is already running", job->id)));
	run_id = job_mark_start(job->id, JOB_STARTED_BY_RUN_JOB, MyProcPid);
	if (SPI_connect_ext(SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect_ext failed");
	SPI_commit();
	SPI_finish();
	MemoryContextSwitchTo(run_job_cxt);

	/*
	 * As run_as, as SET ROLE would make it (no security-context flag: a
	 * transaction may not start inside one, and the job may COMMIT). The
	 * caller has run_as's privileges anyway.
	 */
	GetUserIdAndSecContext(&save_userid, &save_sec);
	PG_TRY();
	{
		EnsurePortalSnapshotExists();
		SetUserIdAndSecContext(job->run_as, save_sec);
		job_execute(job, false);
		SetUserIdAndSecContext(save_userid, save_sec);
		MemoryContextSwitchTo(run_job_cxt);
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(run_job_cxt);
		edata = CopyErrorData();
		FlushErrorState();
		AbortCurrentTransaction();
		/* The abort restores the user its transaction started with. */
		SetUserIdAndSecContext(save_userid, save_sec);
		/* It also emptied the snapshot stack the portal pointed into. */
		if (ActivePortal)
			ActivePortal->portalSnapshot = NULL;
		StartTransactionCommand();
		MemoryContextSwitchTo(run_job_cxt);
	}
	PG_END_TRY();

	EnsurePortalSnapshotExists();
	if (edata != NULL)
		job_outcome_from_error(&outcome, edata);
	job_mark_end(job->id, run_id, &outcome, &disabled);
	job_unlock(job->id, true);
	warn_if_disabled(job, disabled);
	if (edata != NULL)
	{
		/* Keep the record of the failure, then fail the CALL. */
		PopActiveSnapshot();
		if (ActivePortal)
			ActivePortal->portalSnapshot = NULL;
		CommitTransactionCommand();
		StartTransactionCommand();
		ReThrowError(edata);
	}
}

/*
 * run_job inside the caller's transaction: the job runs in a subtransaction
 * (atomically: a procedure's COMMIT fails), its settings do not leak into
 * the session, and a failure is recorded then raised again -- so the
 * record goes with the caller's transaction.
 */
static void
run_job_atomic(JobDef *job)
{
	int64		run_id;
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	ErrorData  *volatile edata = NULL;
	JobOutcome	outcome = {.ok = true};
	bool		disabled;

	if (!job_lock(job->id, false, false))
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("job %d is already running", job->id)));
	run_id = job_mark_start(job->id, JOB_STARTED_BY_RUN_JOB, MyProcPid);

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		Oid			save_userid;
		int			save_sec;
		int			nestlevel;

		GetUserIdAndSecContext(&save_userid, &save_sec);
		SetUserIdAndSecContext(job->run_as, save_sec | SECURITY_LOCAL_USERID_CHANGE);
		nestlevel = NewGUCNestLevel();
		job_execute(job, true);
		AtEOXact_GUC(false, nestlevel);
		SetUserIdAndSecContext(save_userid, save_sec);

		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(run_job_cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_END_TRY();

	if (edata != NULL)
		job_outcome_from_error(&outcome, edata);
	job_mark_end(job->id, run_id, &outcome, &disabled);
	warn_if_disabled(job, disabled);
	if (edata != NULL)
		ReThrowError(edata);
}

/*
 * CALL telos.run_job(job_id integer)
 *
 * Runs the job now in this session, as its run_as role, and records the run
 * in telos.job_runs like a scheduled one (next_start moves by the same
 * rules). An error of the job is raised again to the caller.
 *
 * A plain top-level CALL (outside a transaction block) runs the job as the
 * scheduler does: a procedure may COMMIT, and a failed run stays recorded.
 * Inside a transaction block or a function (or from a PL), the job runs in
 * a subtransaction of the caller's transaction, atomically.
 */
Datum
telos_run_job(PG_FUNCTION_ARGS)
{
	bool		nonatomic;
	JobDef	   *job;
	MemoryContext cxt = CurrentMemoryContext;

	nonatomic = fcinfo->context && IsA(fcinfo->context, CallContext) &&
		!castNode(CallContext, fcinfo->context)->atomic;

	telos_arg_notnull(fcinfo, 0, "job_id");
	if (run_job_cxt == NULL)
		run_job_cxt = AllocSetContextCreate(TopMemoryContext, "telos run_job",
											ALLOCSET_SMALL_SIZES);
	MemoryContextReset(run_job_cxt);
	MemoryContextSwitchTo(run_job_cxt);
	job = job_fetch(PG_GETARG_INT32(0), false);
	MemoryContextSwitchTo(cxt);
	job_check_manage(job, "run");

	/* Non-atomic and no SPI below us: called by a client, not by a PL. */
	if (nonatomic && !SPI_inside_nonatomic_context() && ActivePortal != NULL)
		run_job_nonatomic(job);
	else
		run_job_atomic(job);
	MemoryContextSwitchTo(cxt);
	PG_RETURN_VOID();
}
