/*-------------------------------------------------------------------------
 *
 * retention.h
 *	  Retention and maintenance policies: telos.add_retention_policy,
 *	  telos.add_maintenance_policy, and the jobs behind them
 *	  (telos.retention_job, telos.maintenance_job).
 *
 * Retention keeps each tenant's rows for its own window. Whole chunks
 * older than every window are dropped by telos.drop_chunks (a metadata
 * operation; the hypertable's archive_fn takes them instead when set);
 * rows of tenants whose window is shorter are deleted from the live chunks.
 * While it deletes, the transaction-local setting telos.retention_in_progress
 * is 'on': the rollup invalidation triggers skip those deletes, so that the
 * rollups of expired data survive the raw rows.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_RETENTION_H
#define TELOS_RETENTION_H

#include "postgres.h"

#include "utils/jsonb.h"

/* The setting that marks deletes done by retention (see above). */
#define RETENTION_IN_PROGRESS_GUC "telos.retention_in_progress"

/*
 * retention_check_job_config
 *		When proc_schema.proc_name is telos.retention_job or
 *		telos.maintenance_job, validate config as that job will read it when
 *		run as run_as (ERROR otherwise); other procs are not checked. Used by
 *		add_job and alter_job so that a policy cannot be broken by hand.
 */
extern void retention_check_job_config(const char *proc_schema,
									   const char *proc_name,
									   Jsonb *config, Oid run_as);

#endif							/* TELOS_RETENTION_H */
