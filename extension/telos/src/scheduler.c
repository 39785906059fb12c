/*-------------------------------------------------------------------------
 *
 * scheduler.c
 *	  The launcher, scheduler and job background workers (scheduler.h) and
 *	  their settings.
 *
 * Why three processes: the launcher connects to no database, so it can wait
 * for telos.job_database to exist and follow a change of the setting; a
 * scheduler connected to the database owns the schedule; and each run gets
 * a process of its own, connected as the job's role, so that whatever a job
 * does -- raise, get cancelled or terminated, leak session state, crash its
 * process with a FATAL -- the scheduler goes on and records what happened.
 * The catalog work is in job.c; this file is only processes and signals.
 *
 *-------------------------------------------------------------------------
 */
#include "scheduler.h"

#include <limits.h>

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_authid.h"
#include "catalog/pg_database.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lock.h"
#include "storage/proc.h"
#include "commands/dbcommands.h"
#include "commands/defrem.h"
#include "tcop/pquery.h"
#include "tcop/utility.h"
#include "utils/acl.h"
#include "utils/backend_status.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/portal.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include "job.h"
#include "telos.h"

char	   *telos_job_database = NULL;
int			telos_scheduler_naptime = 10000;
bool		telos_scheduler_enabled = true;
int			telos_job_runs_retention = 14 * 24 * 60;

/* What the scheduler tells a job worker (bgw_extra). */
typedef struct JobWorkerArgs
{
	int32		job_id;
	Oid			role;
	int64		run_id;
} JobWorkerArgs;

StaticAssertDecl(sizeof(JobWorkerArgs) <= BGW_EXTRALEN,
				 "JobWorkerArgs must fit in bgw_extra");

/* How long the scheduler waits for a terminated job to go, at most. */
#define JOB_STOP_WAIT_MS	5000

void
scheduler_define_gucs(void)
{
	DefineCustomStringVariable("telos.job_database",
							   "Database whose telos jobs the background worker runs.",
							   "Empty: no database, the scheduler does not run.",
							   &telos_job_database,
							   "telos",
							   PGC_SIGHUP, 0,
							   NULL, NULL, NULL);
	DefineCustomIntVariable("telos.scheduler_naptime",
							"Longest sleep of the telos launcher and scheduler.",
							"The scheduler also wakes up when the next job is due. "
							"A new job is seen within this time.",
							&telos_scheduler_naptime,
							10000, 100, 24 * 60 * 60 * 1000,
							PGC_SIGHUP, GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomBoolVariable("telos.scheduler_enabled",
							 "Whether the telos scheduler runs jobs.",
							 NULL,
							 &telos_scheduler_enabled,
							 true,
							 PGC_SIGHUP, 0,
							 NULL, NULL, NULL);
	DefineCustomIntVariable("telos.job_runs_retention",
							"Age after which rows of telos.job_runs are deleted; 0 keeps them.",
							NULL,
							&telos_job_runs_retention,
							14 * 24 * 60, 0, INT_MAX,
							PGC_SIGHUP, GUC_UNIT_MIN,
							NULL, NULL, NULL);
}

/* ---------------------------------------------------------------------
 * Starting workers
 * --------------------------------------------------------------------- */

static void
fill_worker(BackgroundWorker *w, const char *type, const char *name,
			const char *function, Datum arg)
{
	memset(w, 0, sizeof(*w));
	w->bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
	w->bgw_start_time = BgWorkerStart_RecoveryFinished;
	w->bgw_restart_time = BGW_NEVER_RESTART;
	strlcpy(w->bgw_library_name, "telos", BGW_MAXLEN);
	strlcpy(w->bgw_function_name, function, BGW_MAXLEN);
	strlcpy(w->bgw_type, type, BGW_MAXLEN);
	strlcpy(w->bgw_name, name, BGW_MAXLEN);
	w->bgw_main_arg = arg;
}

void
scheduler_register_launcher(void)
{
	BackgroundWorker w;

	fill_worker(&w, "telos launcher", "telos launcher", "telos_launcher_main",
				(Datum) 0);
	/* Started again if it ever dies. */
	w.bgw_restart_time = 10;
	RegisterBackgroundWorker(&w);
}

/* A dynamic worker that notifies us when it starts and stops, or NULL. */
static BackgroundWorkerHandle *
start_dynamic(BackgroundWorker *w)
{
	BackgroundWorkerHandle *handle;

	w->bgw_notify_pid = MyProcPid;
	if (!RegisterDynamicBackgroundWorker(w, &handle))
		return NULL;
	return handle;
}

static void
reload_config_if_asked(void)
{
	if (ConfigReloadPending)
	{
		ConfigReloadPending = false;
		ProcessConfigFile(PGC_SIGHUP);
	}
}

static long
ms_until(TimestampTz t)
{
	TimestampTz now = GetCurrentTimestamp();

	if (t <= now)
		return 0;
	return (long) Min((t - now) / 1000 + 1, (TimestampTz) LONG_MAX);
}

/* ---------------------------------------------------------------------
 * Making way for DROP DATABASE
 * --------------------------------------------------------------------- */

static ProcessUtility_hook_type prev_process_utility = NULL;

/*
 * SIGTERM the scheduler and job workers connected to database dbname, when
 * the current user owns it. DROP DATABASE, ALTER DATABASE RENAME and CREATE
 * DATABASE ... TEMPLATE refuse to work while other sessions are connected;
 * ours would otherwise block them. The launcher waits a naptime before it
 * starts a scheduler again, and an interrupted run is recorded as such.
 */
static void
stop_workers_in(const char *dbname)
{
	Oid			dboid = get_database_oid(dbname, true);
	int			n,
				i;

	if (!OidIsValid(dboid) || !pg_database_ownercheck(dboid, GetUserId()))
		return;
	n = pgstat_fetch_stat_numbackends();
	for (i = 1; i <= n; i++)
	{
		LocalPgBackendStatus *l = pgstat_fetch_stat_local_beentry(i);
		const char *type;

		if (l == NULL || l->backendStatus.st_backendType != B_BG_WORKER ||
			l->backendStatus.st_databaseid != dboid)
			continue;
		type = GetBackgroundWorkerTypeByPid(l->backendStatus.st_procpid);
		if (type != NULL && (strcmp(type, "telos scheduler") == 0 ||
							 strcmp(type, "telos job") == 0))
			(void) kill(l->backendStatus.st_procpid, SIGTERM);
	}
	/* What we read of pg_stat_activity must not linger in this transaction. */
	pgstat_clear_snapshot();
}

static void
telos_process_utility(PlannedStmt *pstmt, const char *queryString,
					  bool readOnlyTree, ProcessUtilityContext context,
					  ParamListInfo params, QueryEnvironment *queryEnv,
					  DestReceiver *dest, QueryCompletion *qc)
{
	Node	   *stmt = pstmt->utilityStmt;
	const char *db = NULL;
	ListCell   *lc;

	switch (nodeTag(stmt))
	{
		case T_DropdbStmt:
			db = ((DropdbStmt *) stmt)->dbname;
			break;
		case T_RenameStmt:
			if (((RenameStmt *) stmt)->renameType == OBJECT_DATABASE)
				db = ((RenameStmt *) stmt)->subname;
			break;
		case T_CreatedbStmt:
			foreach(lc, ((CreatedbStmt *) stmt)->options)
			{
				DefElem    *opt = lfirst_node(DefElem, lc);

				if (strcmp(opt->defname, "template") == 0 && opt->arg != NULL)
					db = defGetString(opt);
			}
			break;
		default:
			break;
	}
	if (db != NULL)
		stop_workers_in(db);

	if (prev_process_utility)
		prev_process_utility(pstmt, queryString, readOnlyTree, context,
							 params, queryEnv, dest, qc);
	else
		standard_ProcessUtility(pstmt, queryString, readOnlyTree, context,
								params, queryEnv, dest, qc);
}

void
scheduler_install_hooks(void)
{
	prev_process_utility = ProcessUtility_hook;
	ProcessUtility_hook = telos_process_utility;
}

/* ---------------------------------------------------------------------
 * Launcher
 * --------------------------------------------------------------------- */

/*
 * The OID of database name, or InvalidOid. A heap scan, as the autovacuum
 * launcher does: without a database, an index scan of pg_database would
 * need pg_opclass, which is not a shared catalog.
 */
static Oid
find_database(const char *name)
{
	Relation	rel;
	TableScanDesc scan;
	HeapTuple	tup;
	Oid			oid = InvalidOid;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	(void) GetTransactionSnapshot();
	rel = table_open(DatabaseRelationId, AccessShareLock);
	scan = table_beginscan_catalog(rel, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		Form_pg_database db = (Form_pg_database) GETSTRUCT(tup);

		if (strcmp(NameStr(db->datname), name) == 0)
		{
			oid = db->oid;
			break;
		}
	}
	table_endscan(scan);
	table_close(rel, AccessShareLock);
	CommitTransactionCommand();
	return oid;
}

void
telos_launcher_main(Datum main_arg)
{
	BackgroundWorkerHandle *handle = NULL;
	Oid			running_db = InvalidOid;
	TimestampTz last_start = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	/* No database: it only reads pg_database, a shared catalog. */
	BackgroundWorkerInitializeConnection(NULL, NULL, 0);
	pgstat_report_appname("telos launcher");

	while (!ShutdownRequestPending)
	{
		Oid			dboid = InvalidOid;
		long		sleep_ms = telos_scheduler_naptime;
		pid_t		pid;

		CHECK_FOR_INTERRUPTS();
		reload_config_if_asked();

		if (handle != NULL &&
			GetBackgroundWorkerPid(handle, &pid) == BGWH_STOPPED)
		{
			pfree(handle);
			handle = NULL;
			running_db = InvalidOid;
			/*
			 * Not back at once: it may have been stopped to let DROP
			 * DATABASE through (scheduler_stop_workers_in).
			 */
			last_start = GetCurrentTimestamp();
		}

		if (telos_scheduler_enabled && telos_job_database != NULL &&
			telos_job_database[0] != '\0')
		{
			dboid = find_database(telos_job_database);
		}

		if (handle != NULL && running_db != dboid)
		{
			/* Disabled, or another database: stop it; restart when gone. */
			TerminateBackgroundWorker(handle);
		}
		else if (handle == NULL && OidIsValid(dboid))
		{
			/* Not more often than naptime: a scheduler may leave at once. */
			TimestampTz allowed = TimestampTzPlusMilliseconds(last_start,
															  telos_scheduler_naptime);
			long		wait_ms = ms_until(allowed);

			if (last_start != 0 && wait_ms > 0)
				sleep_ms = Min(sleep_ms, wait_ms);
			else
			{
				BackgroundWorker w;

				fill_worker(&w, "telos scheduler", "telos scheduler",
							"telos_scheduler_main", ObjectIdGetDatum(dboid));
				last_start = GetCurrentTimestamp();
				handle = start_dynamic(&w);
				if (handle != NULL)
					running_db = dboid;
				else
					ereport(WARNING,
							(errmsg("telos launcher could not start the scheduler"),
							 errhint("Raise max_worker_processes.")));
			}
		}

		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 sleep_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}

	/* Take the scheduler along (it takes its running job along). */
	if (handle != NULL)
		TerminateBackgroundWorker(handle);
	proc_exit(0);
}

/* ---------------------------------------------------------------------
 * Scheduler
 * --------------------------------------------------------------------- */

/*
 * One scheduler per database, even when a launcher was restarted while its
 * scheduler lived on: the second one finds the lock taken and leaves.
 */
static bool
lock_scheduler(void)
{
	LOCKTAG		tag;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, TELOS_LOCK_SCHEDULER, 0,
						 TELOS_LOCK_CLASS);
	return LockAcquire(&tag, ExclusiveLock, true, true) != LOCKACQUIRE_NOT_AVAIL;
}

/* NULL when the role can log in, else why not. */
static const char *
role_problem(Oid role)
{
	HeapTuple	tup = SearchSysCache1(AUTHOID, ObjectIdGetDatum(role));
	bool		canlogin;

	if (!HeapTupleIsValid(tup))
		return "the role of the job no longer exists";
	canlogin = ((Form_pg_authid) GETSTRUCT(tup))->rolcanlogin;
	ReleaseSysCache(tup);
	return canlogin ? NULL : "the role of the job cannot log in";
}

/* Record a failure of run_id that the scheduler saw (own transaction). */
static void
record_failure(int32 job_id, int64 run_id, const char *sqlstate,
			   const char *message, const char *hint)
{
	JobOutcome	o = {.ok = false, .sqlstate = sqlstate, .message = message, .hint = hint};
	bool		disabled;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	if (job_run_is_open(run_id))
		job_mark_end(job_id, run_id, &o, &disabled);
	PopActiveSnapshot();
	CommitTransactionCommand();
}

/*
 * Run the picked job in a worker of its own and wait for it, enforcing
 * max_runtime; returns when the worker is gone and the run recorded.
 */
static void
run_in_worker(const JobDef *job, int64 run_id)
{
	BackgroundWorker w;
	BackgroundWorkerHandle *handle;
	JobWorkerArgs args = {.job_id = job->id, .role = job->run_as, .run_id = run_id};
	char		name[BGW_MAXLEN];
	TimestampTz deadline = 0;
	bool		timed_out = false;
	char	   *max_runtime_text = NULL;

	snprintf(name, sizeof(name), "telos job %d", job->id);
	fill_worker(&w, "telos job", name, "telos_job_worker_main",
				ObjectIdGetDatum(MyDatabaseId));
	memcpy(w.bgw_extra, &args, sizeof(args));

	handle = start_dynamic(&w);
	if (handle == NULL)
	{
		record_failure(job->id, run_id, "53000",
					   "could not start a background worker for the job",
					   "Raise max_worker_processes.");
		return;
	}

	if (job->has_max_runtime)
	{
		deadline = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
														   TimestampTzGetDatum(GetCurrentTimestamp()),
														   IntervalPGetDatum(&job->max_runtime)));
		max_runtime_text = DatumGetCString(DirectFunctionCall1(interval_out,
															   IntervalPGetDatum(&job->max_runtime)));
	}

	for (;;)
	{
		pid_t		pid;
		BgwHandleStatus st = GetBackgroundWorkerPid(handle, &pid);
		long		timeout = telos_scheduler_naptime;

		if (st == BGWH_STOPPED)
			break;
		if (st == BGWH_POSTMASTER_DIED)
			proc_exit(1);

		reload_config_if_asked();
		if (ShutdownRequestPending || !telos_scheduler_enabled)
		{
			/*
			 * Stop promptly, taking the job along; the next scheduler
			 * records the run as interrupted.
			 */
			TerminateBackgroundWorker(handle);
			proc_exit(0);
		}
		if (deadline != 0 && !timed_out)
		{
			if (GetCurrentTimestamp() >= deadline)
			{
				TerminateBackgroundWorker(handle);
				timed_out = true;
				/* It may ignore SIGTERM for a while; do not wait forever. */
				deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(),
													   JOB_STOP_WAIT_MS);
			}
			else
				timeout = Min(timeout, ms_until(deadline));
		}
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 timeout, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		CHECK_FOR_INTERRUPTS();
	}
	pfree(handle);

	if (timed_out)
	{
		char		msg[256];

		snprintf(msg, sizeof(msg),
				 "the job ran longer than its max_runtime of %s and was terminated",
				 max_runtime_text);
		record_failure(job->id, run_id, "57014", msg, NULL);
	}
	else
		record_failure(job->id, run_id, NULL,
					   "the process running the job exited before the end of the run was recorded",
					   "The server log tells why: a crash, pg_terminate_backend(), or a FATAL error.");
}

void
telos_scheduler_main(Datum main_arg)
{
	MemoryContext loop_cxt;
	volatile TimestampTz last_prune = 0;

	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, SignalHandlerForShutdownRequest);
	BackgroundWorkerUnblockSignals();
	/* As the bootstrap superuser: it reads and writes the catalogs only. */
	BackgroundWorkerInitializeConnectionByOid(DatumGetObjectId(main_arg),
											  InvalidOid, 0);
	pgstat_report_appname("telos scheduler");

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	if (!job_catalog_ready() || !lock_scheduler())
	{
		/*
		 * No extension (yet): leave the database free (DROP DATABASE) and
		 * let the launcher try again after naptime.
		 */
		CommitTransactionCommand();
		proc_exit(0);
	}
	CommitTransactionCommand();

	loop_cxt = AllocSetContextCreate(TopMemoryContext, "telos scheduler",
									 ALLOCSET_DEFAULT_SIZES);

	while (!ShutdownRequestPending)
	{
		JobDef	   *volatile job = NULL;
		volatile int64 run_id = 0;
		const char *volatile problem = NULL;
		TimestampTz earliest = 0;
		volatile long sleep_ms = telos_scheduler_naptime;
		volatile bool leave = false;

		CHECK_FOR_INTERRUPTS();
		reload_config_if_asked();
		if (!telos_scheduler_enabled)
			break;

		MemoryContextReset(loop_cxt);
		MemoryContextSwitchTo(loop_cxt);
		PG_TRY();
		{
			SetCurrentStatementStartTimestamp();
			StartTransactionCommand();
			PushActiveSnapshot(GetTransactionSnapshot());
			MemoryContextSwitchTo(loop_cxt);
			if (!job_catalog_ready())
				leave = true;
			else
			{
				job_close_orphans();
				if (GetCurrentTimestamp() - last_prune > USECS_PER_HOUR)
				{
					job_prune_runs(telos_job_runs_retention);
					last_prune = GetCurrentTimestamp();
				}
				job = job_pick_due(&earliest);
				if (job != NULL)
				{
					run_id = job_mark_start(job->id, JOB_STARTED_BY_SCHEDULER, 0);
					problem = role_problem(job->run_as);
				}
			}
			PopActiveSnapshot();
			CommitTransactionCommand();
		}
		PG_CATCH();
		{
			/* Log it and carry on after a nap: never die of one error. */
			MemoryContextSwitchTo(loop_cxt);
			EmitErrorReport();
			FlushErrorState();
			AbortCurrentTransaction();
			job = NULL;
		}
		PG_END_TRY();
		MemoryContextSwitchTo(loop_cxt);

		if (leave)
			break;
		if (job != NULL)
		{
			if (problem != NULL)
				record_failure(job->id, run_id, "28000", problem,
							   "Each run of a job is a session of its role: it must exist and have LOGIN.");
			else
				run_in_worker(job, run_id);
			continue;			/* maybe another job is due */
		}

		if (earliest != 0)
			sleep_ms = Min(sleep_ms, Max(ms_until(earliest), 1));
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 sleep_ms, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	proc_exit(0);
}

/* ---------------------------------------------------------------------
 * Job worker
 * --------------------------------------------------------------------- */

void
telos_job_worker_main(Datum main_arg)
{
	JobWorkerArgs args;
	MemoryContext cxt;
	JobDef	   *job;
	ErrorData  *volatile edata = NULL;
	JobOutcome	outcome = {.ok = true};
	bool		disabled = false;
	char		appname[NAMEDATALEN];

	memcpy(&args, MyBgworkerEntry->bgw_extra, sizeof(args));

	/* die: cancel the job at the next CHECK_FOR_INTERRUPTS. */
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	/* A session of the job's role: it runs with that role's rights only. */
	BackgroundWorkerInitializeConnectionByOid(DatumGetObjectId(main_arg),
											  args.role, 0);
	snprintf(appname, sizeof(appname), "telos job %d", args.job_id);
	SetConfigOption("application_name", appname, PGC_USERSET, PGC_S_SESSION);

	cxt = AllocSetContextCreate(TopMemoryContext, "telos job",
								ALLOCSET_DEFAULT_SIZES);

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(cxt);
	job = job_fetch(args.job_id, true);
	if (job == NULL || !job_run_is_open(args.run_id))
	{
		/* Deleted meanwhile: nothing to run, nothing to record. */
		PopActiveSnapshot();
		CommitTransactionCommand();
		proc_exit(0);
	}
	if (!job_lock(job->id, true, false))
	{
		JobOutcome	busy = {.ok = false, .sqlstate = "55P03",
		.message = "the job was already running in another session"};

		job_mark_end(job->id, args.run_id, &busy, NULL);
		PopActiveSnapshot();
		CommitTransactionCommand();
		proc_exit(0);
	}
	job_set_run_pid(args.run_id, MyProcPid);
	PopActiveSnapshot();
	CommitTransactionCommand();

	pgstat_report_activity(STATE_RUNNING, appname);
	PG_TRY();
	{
		/*
		 * A procedure may COMMIT: it needs a portal holding the outer
		 * snapshot, as a top-level CALL has (SPI_commit releases it).
		 */
		Portal		portal = CreatePortal("", true, true);

		portal->visible = false;
		portal->resowner = CurrentResourceOwner;
		ActivePortal = portal;
		PortalContext = portal->portalContext;

		SetCurrentStatementStartTimestamp();
		StartTransactionCommand();
		EnsurePortalSnapshotExists();
		MemoryContextSwitchTo(cxt);
		job_execute(job, false);
		if (ActiveSnapshotSet())
			PopActiveSnapshot();
		CommitTransactionCommand();

		/* Not dropped: a portal set up by hand cannot be; we exit anyway. */
		ActivePortal = NULL;
		PortalContext = NULL;
	}
	PG_CATCH();
	{
		MemoryContextSwitchTo(cxt);
		edata = CopyErrorData();
		/* The server log gets the error, as for any session. */
		EmitErrorReport();
		FlushErrorState();
		AbortCurrentTransaction();
		ActivePortal = NULL;
		PortalContext = NULL;
	}
	PG_END_TRY();
	pgstat_report_activity(STATE_IDLE, NULL);

	if (edata != NULL)
	{
		outcome.ok = false;
		outcome.sqlstate = unpack_sql_state(edata->sqlerrcode);
		outcome.message = edata->message ? edata->message : "unknown error";
		outcome.detail = edata->detail;
		outcome.hint = edata->hint;
		outcome.context = edata->context;
	}

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(cxt);
	job_mark_end(job->id, args.run_id, &outcome, &disabled);
	PopActiveSnapshot();
	CommitTransactionCommand();

	if (disabled)
		ereport(WARNING,
				(errmsg("telos job %d disabled after %d consecutive failures",
						job->id, job->consecutive_failures + 1),
				 errhint("Fix the cause, then SELECT telos.alter_job(%d, enabled => true).",
						 job->id)));
	else if (edata != NULL)
		ereport(LOG,
				(errmsg("telos job %d failed; it will be retried", job->id)));
	proc_exit(0);
}
