/*-------------------------------------------------------------------------
 *
 * rollup.h
 *	  Incremental rollups: what the files of the rollup module share.
 *
 * A rollup policy (telos.rollup_policy) ties a raw table
 *		raw(tenant_id uuid, metric_type text, <time> timestamptz, value float8, ...)
 * to a rollup table with the layout of business_metrics_aggregated
 *		agg(tenant_id, metric_type, bucket_width 'hour'|'day'|'month',
 *			bucket timestamptz, count, sum, min, max, first, last)
 * plus a definitions relation (tenant_id, metric_type, aggregation,
 * calculation_formula) and a function giving a tenant's time zone.
 *
 * Data flow:
 *	- rollup_trigger.c: statement-level AFTER triggers on raw read the
 *	  transition tables and append to telos.invalidation, per tenant, the
 *	  runs of UTC hours changed and the metrics changed over each;
 *	- rollup_refresh.c: telos.refresh_rollups takes the log and recomputes
 *	  exactly the affected buckets: hours from raw, days from hours (or raw
 *	  where the zone's day is not made of whole UTC hours), months from days;
 *	- rollup_series.c: telos.metric_series reads materialized buckets that
 *	  are clean and computes the dirty ones on the fly, so answers are fresh;
 *	- rollup.c: the policy catalog, privilege checks, policy management;
 *	- rollup_agg.c: the first(value, time) / last(value, time) aggregates.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_ROLLUP_H
#define TELOS_ROLLUP_H

#include "postgres.h"

#include "fmgr.h"

#include "util.h"

/* Names of the triggers add_rollup_policy creates on raw. */
#define ROLLUP_TRIGGER_INSERT	"telos_rollup_insert"
#define ROLLUP_TRIGGER_UPDATE	"telos_rollup_update"
#define ROLLUP_TRIGGER_DELETE	"telos_rollup_delete"
#define ROLLUP_TRIGGER_TRUNCATE "telos_rollup_truncate"

/*
 * Placeholder settings that make the triggers record nothing:
 * telos.rollup_invalidation = off, or telos.retention_in_progress = on (set
 * transaction-locally by the retention job of the jobs module around its
 * deletes). Honoured only for superusers and roles with BYPASSRLS (the
 * retention job runs as one): retention deletes expired raw rows and must
 * not make the refresh recompute -- and so lose -- the rollups that outlive
 * them. For any other role they are ignored.
 */
#define ROLLUP_GUC_INVALIDATION "telos.rollup_invalidation"
#define ROLLUP_GUC_RETENTION	"telos.retention_in_progress"

/* Hour buckets are aligned on this origin (a UTC midnight). */
#define ROLLUP_ORIGIN_SQL "timestamptz '2000-01-01 00:00:00+00'"

/* A loaded policy; names are quoted and schema-qualified, ready for SQL. */
typedef struct RollupPolicy
{
	Oid			raw;
	Oid			agg;
	Oid			definitions;
	Oid			timezone_fn;
	char	   *time_column;	/* unquoted */
	bool		has_job;
	int32		job_id;
	char	   *raw_sql;		/* "public"."business_metrics_raw" */
	char	   *agg_sql;
	char	   *definitions_sql;
	char	   *timezone_fn_sql;	/* callable name: "public"."tenant_timezone" */
	char	   *time_sql;		/* quoted time column */
} RollupPolicy;

/* rollup.c */

/*
 * rollup_policy_load
 *		The policy of raw, read with the caller's privileges (the catalog is
 *		readable by all). Requires an SPI connection. When there is none:
 *		NULL if missing_ok, else ERROR 42704. Allocated in the current
 *		memory context.
 */
extern RollupPolicy *rollup_policy_load(Oid raw, bool missing_ok);

/*
 * rollup_policy_only
 *		The policy when exactly one exists (metric_series without raw);
 *		ERROR otherwise. Requires an SPI connection.
 */
extern RollupPolicy *rollup_policy_only(void);

/*
 * ROLLUP_CATALOG_TABLE
 *		The catalog table whose owner (the owner of every catalog table of
 *		the extension) writes the invalidation log and the policy table:
 *		telos_catalog_become(ROLLUP_CATALOG_TABLE, &save) (util.h) around
 *		statements that touch only them. Callers have checked the caller's
 *		right to cause those writes. Statements on user tables run as the
 *		caller with the caller's search_path instead (their functions, e.g.
 *		the time zone function, may rely on it); the engine's SQL qualifies
 *		every name it uses.
 */
#define ROLLUP_CATALOG_TABLE "invalidation"

/*
 * rollup_sql_expand
 *		A statement template with its placeholders replaced, palloc'd in the
 *		current memory context: @RAW@, @AGG@ (the policy's tables), @T@ (its
 *		time column), @TZFN@ (its time zone function), all quoted and
 *		qualified, and @W@ by width (a bucket width; when width is NULL,
 *		@W@ is left as is).
 */
extern char *rollup_sql_expand(const char *tmpl, const RollupPolicy *p,
							   const char *width);

/*
 * rollup_engine_gucs
 *		Open a GUC nest level for the engine's statements on user tables
 *		(jit = off: their plans are index lookups, which JIT compilation
 *		would only slow down). Close it with rollup_engine_gucs_end; an
 *		error unwinds it with the (sub)transaction.
 */
extern int	rollup_engine_gucs(void);
extern void rollup_engine_gucs_end(int nestlevel);

/*
 * rollup_check_refresher
 *		ERROR 42501 unless the current user may recompute the rollups of the
 *		policy: SELECT on raw, SELECT/INSERT/UPDATE/DELETE on agg, and
 *		row-level security applying to neither (a role with BYPASSRLS, a
 *		superuser, or an owner of tables without FORCE ROW LEVEL SECURITY).
 *		If noerror, returns false instead of raising.
 */
extern bool rollup_check_refresher(const RollupPolicy *policy, bool noerror);

/*
 * rollup_invalidation_disabled
 *		True when one of the settings above says so and the current user is
 *		a superuser or has BYPASSRLS.
 */
extern bool rollup_invalidation_disabled(Oid raw);

/*
 * rollup_insert_whole
 *		Append a whole-scope row (tenant and/or metric NULL = all) over all
 *		time to the log of raw. Caller must have checked privileges.
 *		Requires an SPI connection.
 */
extern void rollup_insert_whole(Oid raw, Datum tenant, bool tenant_null,
								Datum metric, bool metric_null);

/* rollup_refresh.c: telos_refresh_rollups (SQL-callable only). */

/* rollup_series.c: telos_metric_series (SQL-callable only). */

#endif							/* TELOS_ROLLUP_H */
