/*-------------------------------------------------------------------------
 *
 * scheduler.h
 *	  The background workers that run telos jobs, and their settings.
 *
 * Three kinds of process, started only when the library is in
 * shared_preload_libraries:
 *
 *	telos launcher	 one, registered at postmaster start, connected to no
 *					 database. Every telos.scheduler_naptime it looks for
 *					 database telos.job_database and keeps one scheduler
 *					 running in it (none while it does not exist or while
 *					 telos.scheduler_enabled is off).
 *	telos scheduler	 one, in telos.job_database. Leaves (and is started
 *					 again later) while the database lacks the extension;
 *					 otherwise runs the due jobs of telos.jobs one at a time.
 *	telos job		 one per run, started by the scheduler and connected as
 *					 the job's run_as role. It runs the job, records the end,
 *					 and exits; the scheduler records a run whose process
 *					 died (crash, pg_terminate_backend, max_runtime).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_SCHEDULER_H
#define TELOS_SCHEDULER_H

#include "postgres.h"

/* telos.job_database: the database whose jobs are run. */
extern char *telos_job_database;
/* telos.scheduler_naptime (ms): longest sleep of the launcher and scheduler. */
extern int	telos_scheduler_naptime;
/* telos.scheduler_enabled: off stops the scheduler (not the launcher). */
extern bool telos_scheduler_enabled;
/* telos.job_runs_retention (minutes): job_runs older are pruned; 0 keeps all. */
extern int	telos_job_runs_retention;

/*
 * scheduler_define_gucs
 *		Define the settings above. Called by _PG_init however the library is
 *		loaded, so that SHOW and SET work in every session.
 */
extern void scheduler_define_gucs(void);

/*
 * scheduler_register_launcher
 *		Register the launcher. Only valid while shared_preload_libraries is
 *		processed (_PG_init checks).
 */
extern void scheduler_register_launcher(void);

/*
 * scheduler_install_hooks
 *		Install the ProcessUtility hook that stops our workers connected to a
 *		database about to be dropped, renamed or copied (they would make the
 *		command fail). Called by _PG_init in every backend.
 */
extern void scheduler_install_hooks(void);

/* Entry points of the three workers (bgw_function_name). */
extern PGDLLEXPORT void telos_launcher_main(Datum main_arg);
extern PGDLLEXPORT void telos_scheduler_main(Datum main_arg);
extern PGDLLEXPORT void telos_job_worker_main(Datum main_arg);

#endif							/* TELOS_SCHEDULER_H */
