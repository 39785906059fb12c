/*-------------------------------------------------------------------------
 *
 * job.h
 *	  The job catalog (telos.jobs, telos.job_runs): reading and writing it,
 *	  running one job, and recording a run's start and end.
 *
 * Shared by the SQL functions of job.c (add_job, alter_job, delete_job,
 * run_job), the background worker (scheduler.c) and the policies
 * (retention.c). Every catalog access runs as the owner of telos.jobs with
 * search_path pinned to pg_catalog, so callers need no privilege on the
 * catalogs and cannot redirect the queries; the functions check instead that
 * the caller may act as the job's role.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_JOB_H
#define TELOS_JOB_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/jsonb.h"

#include "util.h"

/* A row of telos.jobs, as the runner and the scheduler need it. */
typedef struct JobDef
{
	int32		id;
	char	   *proc_schema;
	char	   *proc_name;
	Jsonb	   *config;
	Oid			run_as;
	bool		enabled;
	TimestampTz next_start;
	Interval	schedule_interval;
	Interval	retry_period;
	int32		max_retries;
	bool		has_max_runtime;
	Interval	max_runtime;
	int32		consecutive_failures;
} JobDef;

/* Who started a run (telos.job_runs.started_by). */
typedef enum JobStarter
{
	JOB_STARTED_BY_SCHEDULER,
	JOB_STARTED_BY_RUN_JOB
} JobStarter;

/*
 * How a run ended. ok = true: success, the other fields are ignored. Else
 * message is required and sqlstate (5 characters), detail, hint and context
 * may be NULL.
 */
typedef struct JobOutcome
{
	bool		ok;
	const char *sqlstate;
	const char *message;
	const char *detail;
	const char *hint;
	const char *context;
} JobOutcome;

/*
 * job_catalog_ready
 *		Whether this database has the telos extension with its job catalog.
 *		Needs a transaction. The scheduler waits while it is false.
 */
extern bool job_catalog_ready(void);

/*
 * job_fetch
 *		The job with this id, allocated in CurrentMemoryContext, or NULL when
 *		there is none and missing_ok (else ERROR 42704). Needs a transaction
 *		and an active snapshot.
 */
extern JobDef *job_fetch(int32 job_id, bool missing_ok);

/*
 * job_execute
 *		Call the job's proc(job_id, config) as the current user. A procedure
 *		is CALLed non-atomically unless atomic, so it may COMMIT; a function
 *		is called in the current transaction. ERROR when the proc no longer
 *		exists or no longer has the job signature.
 */
extern void job_execute(const JobDef *job, bool atomic);

/*
 * job_mark_start
 *		Record the start of a run (a job_runs row with status 'running',
 *		jobs.last_run_*) in the current transaction; returns the run id.
 */
extern int64 job_mark_start(int32 job_id, JobStarter by, int pid);

/*
 * job_mark_end
 *		Record the end of run run_id of job_id in the current transaction, and
 *		schedule the next start: after a success, the next point of the
 *		job's schedule after now; after a failure, now + backoff, where
 *		backoff = retry_period * 2^(consecutive failures - 1), capped at
 *		greatest(least(schedule_interval, 1 hour), retry_period). A job
 *		that failed more than max_retries times in a row (max_retries >= 0)
 *		is disabled; *disabled (may be NULL) says so. A job or run deleted
 *		meanwhile is ignored.
 */
extern void job_mark_end(int32 job_id, int64 run_id, const JobOutcome *outcome,
						 bool *disabled);

/* job_set_run_pid -- record the process running run_id. */
extern void job_set_run_pid(int64 run_id, int pid);

/* job_run_is_open -- whether run run_id exists with status 'running'. */
extern bool job_run_is_open(int64 run_id);

/*
 * job_lock / job_unlock / job_is_running
 *		The advisory lock held by whoever runs a job (the job worker for its
 *		whole life, run_job for its transaction), so that a job never runs
 *		twice at once. job_lock returns false when wait is false and the lock
 *		is taken. job_is_running tests without keeping the lock.
 */
extern bool job_lock(int32 job_id, bool session, bool wait);
extern void job_unlock(int32 job_id, bool session);
extern bool job_is_running(int32 job_id);

/*
 * job_check_run_as
 *		ERROR unless the current user has the privileges of role (42501) and
 *		role can log in (28000): each scheduled run is a session of it.
 */
extern void job_check_run_as(Oid role);

/*
 * job_insert
 *		Validate (proc signature, EXECUTE for run_as, run_as, intervals) and
 *		insert a job; returns its id. run_as InvalidOid = the current user.
 *		max_runtime NULL = no limit.
 */
extern int32 job_insert(Oid proc, const Interval *schedule_interval,
						Jsonb *config, TimestampTz initial_start, Oid run_as,
						int32 max_retries, const Interval *retry_period,
						const Interval *max_runtime, bool enabled);

/*
 * job_find_by_proc_and_rel
 *		The id of the job whose proc is telos.<proc_name> and whose
 *		config->>'rel' names relid, or 0.
 */
extern int32 job_find_by_proc_and_rel(const char *proc_name, Oid relid);

/*
 * job_remove
 *		Delete a job (and its runs) after checking that the caller may manage
 *		it; waits for a run in progress to end.
 */
extern void job_remove(int32 job_id);

/*
 * Advisory lock tags of the module: field4 is a class of our own so that
 * they cannot collide with pg_advisory_lock() (classes 1 and 2); field2 says
 * what is locked.
 */
#define TELOS_LOCK_CLASS		0x7465
#define TELOS_LOCK_SCHEDULER	1	/* field3 = 0: the scheduler of a database */
#define TELOS_LOCK_JOB			2	/* field3 = job id */

/*
 * job_pick_due
 *		For the scheduler: the enabled job due first (next_start <= now) that
 *		nobody runs, or NULL; *earliest (may be NULL) gets the earliest
 *		next_start of the enabled jobs, or 0 when there is none.
 */
extern JobDef *job_pick_due(TimestampTz *earliest);

/*
 * job_close_orphans
 *		For the scheduler: end as failed the runs still 'running' whose job
 *		lock is free (their process died before recording the end).
 */
extern void job_close_orphans(void);

/* job_prune_runs -- delete finished runs older than age_minutes. */
extern void job_prune_runs(int age_minutes);

/* ---------------------------------------------------------------------
 * Shared by job.c and job_api.c (and retention.c for the checks)
 * --------------------------------------------------------------------- */

/*
 * job_catalog_enter / job_catalog_leave
 *		Bracket SPI access to the catalogs: as the owner of telos.jobs, in a
 *		restricted security context, with search_path = pg_catalog, pg_temp,
 *		SPI connected. An ERROR in between needs no cleanup: (sub)transaction
 *		abort restores the user, the settings and SPI. outer is the memory
 *		context of the caller, for results that must outlive SPI.
 */
typedef struct JobCatalogCtx
{
	TelosCatalogState save;		/* see telos_catalog_become (util.h) */
	MemoryContext outer;
} JobCatalogCtx;

extern void job_catalog_enter(JobCatalogCtx *c);
extern void job_catalog_leave(JobCatalogCtx *c);

/* ERROR 42501 unless the current user may alter/delete/run (action) job. */
extern void job_check_manage(const JobDef *job, const char *action);

/* Argument checks: ERROR 22023 (telos_arg_notnull in util.h for NULLs). */
extern void job_check_positive(const Interval *i, const char *name);
extern void job_check_max_retries(int32 n);
extern void job_check_config(Jsonb *config);

/* job_outcome_from_error -- a failed JobOutcome pointing into edata. */
extern void job_outcome_from_error(JobOutcome *o, ErrorData *edata);

/* Interval helpers shared with retention.c. */
extern int	job_interval_cmp(const Interval *a, const Interval *b);
extern bool job_interval_positive(const Interval *a);

/*
 * Policies (retention, maintenance, compression, archive) are jobs of a
 * telos.<proc>(integer, jsonb) routine whose config names one relation.
 *
 * job_policy_existing
 *		The id of proc's job for rel, 0 when there is none; when there is one,
 *		ERROR 42710 unless if_not_exists (then a NOTICE). what names the
 *		policy in messages ("retention", ...).
 * job_policy_insert
 *		Inserts the job of a new policy of telos.<proc>: every schedule from
 *		now, retried each minute, as run_as.
 * job_policy_remove
 *		The body of telos.remove_<what>_policy(rel regclass, if_exists
 *		boolean): deletes proc's job for rel; 42704 (a NOTICE with
 *		if_exists) when there is none.
 */
extern int32 job_policy_existing(const char *proc, Oid rel, bool if_not_exists,
								 const char *what);
extern int32 job_policy_insert(const char *proc, const Interval *schedule,
							   Jsonb *config, Oid run_as);
extern void job_policy_remove(FunctionCallInfo fcinfo, const char *proc,
							  const char *what);

#endif							/* TELOS_JOB_H */
