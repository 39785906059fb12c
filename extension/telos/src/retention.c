/*-------------------------------------------------------------------------
 *
 * retention.c
 *	  Retention and maintenance policies (retention.h).
 *
 * A policy is a job (job.c) whose config names the table by its qualified
 * name, not its OID, so that it survives dump and restore. The config is
 * validated when the policy is added or altered and again at every run: the
 * tables, columns, functions and privileges may have changed since.
 *
 * Retention of a table rel for run time now:
 *	 cutoff(t)	= now - window(t) for each tenant t listed by
 *				  tenant_retention_fn (a NULL window: default_retention),
 *	 cutoff(*)	= now - default_retention for the tenants it does not list,
 *	 oldest		= the smallest of these cutoffs.
 *	 1. Hypertable: telos.drop_chunks(rel, oldest) -- every chunk whose
 *		range ends by then holds only expired rows of every tenant.
 *	 2. Rows with time < cutoff(t) of each tenant whose cutoff is later than
 *		oldest (of every tenant when rel is a plain table) are deleted. Rows of
 *		the tenants with the longest window thus live at most one chunk
 *		interval past their window, until their chunk goes as a whole.
 *		Heap chunks lose the rows, compressed chunks whole segments
 *		(retention_rows.c); archived chunks are the archive policy's.
 *	 3. Rollups: hourly buckets older than keep_hourly (NULL: cutoff(t) of
 *		their tenant), daily older than keep_daily (NULL: kept); monthly
 *		buckets are kept forever.
 *
 *-------------------------------------------------------------------------
 */
#include "retention.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/rls.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "job.h"
#include "retention_int.h"
#include "telos.h"
#include "util.h"

PG_FUNCTION_INFO_V1(telos_add_retention_policy);
PG_FUNCTION_INFO_V1(telos_remove_retention_policy);
PG_FUNCTION_INFO_V1(telos_retention_job);
PG_FUNCTION_INFO_V1(telos_add_maintenance_policy);
PG_FUNCTION_INFO_V1(telos_remove_maintenance_policy);
PG_FUNCTION_INFO_V1(telos_maintenance_job);

#define RETENTION_PROC	 "retention_job"
#define MAINTENANCE_PROC "maintenance_job"

/* A retention policy, parsed from a job config. */
typedef struct RetentionPolicy
{
	Oid			rel;
	char	   *time_column;
	Interval	default_retention;
	Oid			tenant_fn;		/* InvalidOid: none */
	Oid			rollups;		/* InvalidOid: none */
	bool		has_keep_hourly;
	Interval	keep_hourly;
	bool		has_keep_daily;
	Interval	keep_daily;
} RetentionPolicy;


/* ---------------------------------------------------------------------
 * Small helpers
 * --------------------------------------------------------------------- */

static char *
interval_text(const Interval *i)
{
	return DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(i)));
}

/* The string value of key in config, or NULL when absent or JSON null. */
static char *
config_string(Jsonb *config, const char *key, const char *policy)
{
	JsonbValue *v;

	v = getKeyJsonValueFromContainer(&config->root, key, strlen(key), NULL);
	if (v == NULL || v->type == jbvNull)
		return NULL;
	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s config: \"%s\" must be a string", policy, key)));
	return pnstrdup(v->val.string.val, v->val.string.len);
}

static Oid
config_relation(Jsonb *config, const char *key, const char *policy, bool required)
{
	char	   *name = config_string(config, key, policy);
	Oid			rel;

	if (name == NULL)
	{
		if (required)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s config: \"%s\" is missing", policy, key)));
		return InvalidOid;
	}
	rel = RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(name)),
						   NoLock, true);
	if (!OidIsValid(rel))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("%s config: relation \"%s\" does not exist", policy, name)));
	return rel;
}

static bool
config_interval(Jsonb *config, const char *key, const char *policy, Interval *out)
{
	char	   *s = config_string(config, key, policy);

	if (s == NULL)
		return false;
	*out = *DatumGetIntervalP(DirectFunctionCall3(interval_in, CStringGetDatum(s),
												  ObjectIdGetDatum(InvalidOid),
												  Int32GetDatum(-1)));
	job_check_positive(out, key);
	return true;
}

/* ERROR unless rel is a table (plain or partitioned). */
static void
check_table(Oid rel, const char *what)
{
	char		kind = get_rel_relkind(rel);

	if (kind != RELKIND_RELATION && kind != RELKIND_PARTITIONED_TABLE)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s \"%s\" is not a table", what, get_rel_name(rel))));
}

/* ERROR unless role holds privileges mode on rel. */
static void
check_rel_privilege(Oid rel, Oid role, AclMode mode, const char *what)
{
	/* Each privilege on its own: an aclcheck of several passes with any. */
	if (pg_class_aclmask(rel, role, mode, ACLMASK_ALL) != mode)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role \"%s\" lacks %s on table \"%s\"",
						GetUserNameFromId(role, false), what, get_rel_name(rel))));
}

/*
 * ERROR when row-level security would hide rows of rel from role: retention
 * would silently skip every tenant it cannot see.
 */
static void
check_sees_all_rows(Oid rel, Oid role)
{
	if (check_enable_rls(rel, role, true) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("row-level security on \"%s\" hides rows from role \"%s\"",
						get_rel_name(rel), GetUserNameFromId(role, false)),
				 errdetail("Retention must see the rows of every tenant."),
				 errhint("Run the policy as a role with BYPASSRLS (run_as => ...).")));
}

/* Whether telos.hypertable (the chunks module) exists and lists rel. */
static bool
is_hypertable(Oid rel, char **time_column)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1] = {ObjectIdGetDatum(rel)};
	bool		found;
	TelosCatalogState save;

	if (!OidIsValid(telos_catalog_relid("hypertable")))
		return false;

	/* As the extension's owner: the caller may not read the catalog. */
	telos_catalog_become("hypertable", &save);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT time_column::text FROM telos.hypertable"
							  " WHERE relid = $1::regclass",
							  1, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read telos.hypertable");
	found = SPI_processed > 0;
	if (found && time_column != NULL)
		*time_column = MemoryContextStrdup(TopTransactionContext,
										   SPI_getvalue(SPI_tuptable->vals[0],
														SPI_tuptable->tupdesc, 1));
	SPI_finish();
	telos_catalog_restore(&save);
	return found;
}

/* ---------------------------------------------------------------------
 * Retention: validation
 * --------------------------------------------------------------------- */

static void
check_tenant_fn(Oid fn, Oid role)
{
	TupleDesc	tupdesc;
	TypeFuncClass cls;
	HeapTuple	tup;
	bool		ok;

	tup = telos_proc_tuple(fn);
	ok = ((Form_pg_proc) GETSTRUCT(tup))->pronargs == 0 &&
		((Form_pg_proc) GETSTRUCT(tup))->proretset &&
		((Form_pg_proc) GETSTRUCT(tup))->prokind == PROKIND_FUNCTION;
	ReleaseSysCache(tup);
	if (ok)
	{
		cls = get_func_result_type(fn, NULL, &tupdesc);
		ok = cls == TYPEFUNC_COMPOSITE && tupdesc->natts == 2 &&
			TupleDescAttr(tupdesc, 0)->atttypid == UUIDOID &&
			TupleDescAttr(tupdesc, 1)->atttypid == INTERVALOID;
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("tenant_retention_fn %s must be a function () RETURNS TABLE(tenant_id uuid, retention interval)",
						format_procedure(fn))));
	if (pg_proc_aclcheck(fn, role, ACL_EXECUTE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role \"%s\" may not execute %s",
						GetUserNameFromId(role, false), format_procedure(fn))));
}

/*
 * Parse and validate a retention config for a run as role. Everything
 * the job will touch is checked here, so that add_retention_policy fails
 * now rather than the job at every run.
 */
static void
retention_parse(Jsonb *config, Oid role, RetentionPolicy *p)
{
	const char *what = "retention policy";
	char	   *fn;
	char	   *hyper_time = NULL;

	memset(p, 0, sizeof(*p));
	p->rel = config_relation(config, "rel", what, true);
	check_table(p->rel, "relation");
	if (!config_interval(config, "default_retention", what, &p->default_retention))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s config: \"default_retention\" is missing", what)));
	p->has_keep_hourly = config_interval(config, "keep_hourly", what, &p->keep_hourly);
	p->has_keep_daily = config_interval(config, "keep_daily", what, &p->keep_daily);

	p->time_column = config_string(config, "time_column", what);
	if (p->time_column == NULL)
		p->time_column = is_hypertable(p->rel, &hyper_time) ? hyper_time : "time";
	telos_require_column(p->rel, "tenant_id", UUIDOID, NULL);
	telos_require_column(p->rel, p->time_column, TIMESTAMPTZOID, NULL);
	check_rel_privilege(p->rel, role, ACL_SELECT | ACL_DELETE, "SELECT and DELETE");
	check_sees_all_rows(p->rel, role);

	fn = config_string(config, "tenant_retention_fn", what);
	if (fn != NULL)
	{
		p->tenant_fn = DatumGetObjectId(DirectFunctionCall1(regprocedurein,
															CStringGetDatum(fn)));
		check_tenant_fn(p->tenant_fn, role);
	}

	p->rollups = config_relation(config, "rollups", what, false);
	if (OidIsValid(p->rollups))
	{
		check_table(p->rollups, "rollups");
		telos_require_column(p->rollups, "tenant_id", UUIDOID, NULL);
		telos_require_column(p->rollups, "bucket_width", TEXTOID, NULL);
		telos_require_column(p->rollups, "bucket", TIMESTAMPTZOID, NULL);
		check_rel_privilege(p->rollups, role, ACL_SELECT | ACL_DELETE, "SELECT and DELETE");
		check_sees_all_rows(p->rollups, role);
	}
}

static void
maintenance_parse(Jsonb *config, Oid role, Oid *rel, Interval *ahead)
{
	const char *what = "maintenance policy";

	*rel = config_relation(config, "rel", what, true);
	if (!config_interval(config, "ahead", what, ahead))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s config: \"ahead\" is missing", what)));
	if (!OidIsValid(LookupFuncName(list_make2(makeString(TELOS_SCHEMA_NAME),
											  makeString("maintain")),
								   2, (Oid[]) {REGCLASSOID, INTERVALOID}, true)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("function telos.maintain(regclass, interval) does not exist"),
				 errhint("The hypertable module of this version of the extension provides it.")));
	if (!is_hypertable(*rel, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a hypertable", get_rel_name(*rel)),
				 errhint("Make it one with telos.create_hypertable().")));
	check_rel_privilege(*rel, role, ACL_INSERT, "INSERT");
}

void
retention_check_job_config(const char *proc_schema, const char *proc_name,
						   Jsonb *config, Oid run_as)
{
	if (strcmp(proc_schema, TELOS_SCHEMA_NAME) != 0)
		return;
	if (strcmp(proc_name, RETENTION_PROC) == 0)
	{
		RetentionPolicy p;

		retention_parse(config, run_as, &p);
	}
	else if (strcmp(proc_name, MAINTENANCE_PROC) == 0)
	{
		Oid			rel;
		Interval	ahead;

		maintenance_parse(config, run_as, &rel, &ahead);
	}
}

/* ---------------------------------------------------------------------
 * Retention: the run
 * --------------------------------------------------------------------- */

static TimestampTz
minus(TimestampTz t, const Interval *i)
{
	return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
												   TimestampTzGetDatum(t),
												   IntervalPGetDatum(i)));
}

/* The windows of tenant_fn's tenants, as cutoffs (SPI connected). */
static TenantCutoff *
tenant_cutoffs(const RetentionPolicy *p, TimestampTz now, int *n)
{
	StringInfoData sql;
	TenantCutoff *out;
	uint64		i;
	int			k = 0;

	*n = 0;
	if (!OidIsValid(p->tenant_fn))
		return NULL;
	initStringInfo(&sql);
	appendStringInfo(&sql, "SELECT t.tenant_id, t.retention FROM %s.%s() AS t(tenant_id, retention)",
					 quote_identifier(get_namespace_name(get_func_namespace(p->tenant_fn))),
					 quote_identifier(get_func_name(p->tenant_fn)));
	if (SPI_execute(sql.data, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not run %s", sql.data);

	out = palloc(sizeof(TenantCutoff) * (SPI_processed + 1));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		null_t,
					null_r;
		Datum		t = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &null_t);
		Datum		r = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &null_r);
		TimestampTz cutoff;
		int			j;

		if (null_t)
			continue;
		if (null_r)
			cutoff = minus(now, &p->default_retention);
		else
		{
			if (!job_interval_positive(DatumGetIntervalP(r)))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s returned a retention that is not positive for tenant %s",
								format_procedure(p->tenant_fn),
								DatumGetCString(DirectFunctionCall1(uuid_out, t)))));
			cutoff = minus(now, DatumGetIntervalP(r));
		}
		/* A tenant listed twice keeps the longer window. */
		for (j = 0; j < k; j++)
			if (memcmp(&out[j].tenant, DatumGetUUIDP(t), sizeof(pg_uuid_t)) == 0)
				break;
		if (j < k)
			out[j].cutoff = Min(out[j].cutoff, cutoff);
		else
		{
			memcpy(&out[k].tenant, DatumGetUUIDP(t), sizeof(pg_uuid_t));
			out[k].cutoff = cutoff;
			k++;
		}
	}
	*n = k;
	return out;
}

/*
 * Drop (or archive) the chunks of rel ending by older_than; returns how
 * many. As the job's role: telos.drop_chunks lets a role that may DELETE
 * every row (no row-level security in its way, checked above) do it.
 */
static uint64
drop_expired_chunks(Oid rel, TimestampTz older_than)
{
	Oid			types[2] = {OIDOID, TIMESTAMPTZOID};
	Datum		values[2] = {ObjectIdGetDatum(rel), TimestampTzGetDatum(older_than)};

	if (SPI_execute_with_args("SELECT telos.drop_chunks($1::regclass, $2)",
							  2, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "telos.drop_chunks failed");
	return SPI_processed;
}

/* DELETE FROM rollups WHERE bucket_width = width AND bucket < cutoff. */
static uint64
delete_buckets(const char *table, const char *width, TimestampTz cutoff)
{
	StringInfoData sql;
	Oid			types[2] = {TEXTOID, TIMESTAMPTZOID};
	Datum		values[2] = {CStringGetTextDatum(width), TimestampTzGetDatum(cutoff)};

	initStringInfo(&sql);
	appendStringInfo(&sql, "DELETE FROM %s WHERE bucket_width = $1 AND bucket < $2", table);
	if (SPI_execute_with_args(sql.data, 2, types, values, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete from %s", table);
	return SPI_processed;
}

/*
 * telos.retention_job(job_id integer, config jsonb) RETURNS void
 */
Datum
telos_retention_job(PG_FUNCTION_ARGS)
{
	RetentionPolicy p;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	TimestampTz default_cutoff;
	TimestampTz oldest;
	TenantCutoff *cut;
	int			n,
				i,
				nestlevel;
	bool		hyper;
	uint64		chunks = 0,
				rows = 0,
				hourly = 0,
				daily = 0;
	char	   *table;

	telos_arg_notnull(fcinfo, 1, "config");
	retention_parse(PG_GETARG_JSONB_P(1), GetUserId(), &p);
	hyper = is_hypertable(p.rel, NULL);
	table = telos_qualified_relname(p.rel);

	/*
	 * Our statements resolve operators in pg_catalog only; the deletes are
	 * marked for the rollup invalidation triggers. Both revert at the end.
	 */
	nestlevel = telos_pin_search_path();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	default_cutoff = minus(now, &p.default_retention);
	cut = tenant_cutoffs(&p, now, &n);
	oldest = default_cutoff;
	for (i = 0; i < n; i++)
		oldest = Min(oldest, cut[i].cutoff);

	if (hyper)
		chunks = drop_expired_chunks(p.rel, oldest);

	(void) set_config_option(RETENTION_IN_PROGRESS_GUC, "on",
							 PGC_USERSET, PGC_S_SESSION, GUC_ACTION_SAVE,
							 true, 0, false);
	if (hyper)
		rows = retention_delete_hypertable(p.rel, table, p.time_column, cut, n,
										   oldest, default_cutoff, false);
	else
	{
		rows = retention_delete_per_tenant(table, p.time_column, "", cut, n, oldest, true);
		rows += retention_delete_unlisted(table, p.time_column, "", cut, n, default_cutoff);
	}

	if (OidIsValid(p.rollups))
	{
		char	   *agg = telos_qualified_relname(p.rollups);

		if (p.has_keep_hourly)
			hourly = delete_buckets(agg, "hour", minus(now, &p.keep_hourly));
		else
		{
			hourly = retention_delete_per_tenant(agg, "bucket", " AND bucket_width = 'hour'",
												 cut, n, oldest, true);
			hourly += retention_delete_unlisted(agg, "bucket", " AND bucket_width = 'hour'",
												cut, n, default_cutoff);
		}
		if (p.has_keep_daily)
			daily = delete_buckets(agg, "day", minus(now, &p.keep_daily));
	}

	SPI_finish();
	telos_unpin_gucs(nestlevel);

	ereport(NOTICE,
			(errmsg("retention of %s: " UINT64_FORMAT " chunks dropped or archived, " UINT64_FORMAT
					" rows deleted, " UINT64_FORMAT " hourly and " UINT64_FORMAT
					" daily rollups deleted",
					table, chunks, rows, hourly, daily)));
	PG_RETURN_VOID();
}

/* ---------------------------------------------------------------------
 * Policy functions
 * --------------------------------------------------------------------- */

static void
json_add_string(StringInfo buf, const char *key, const char *value, bool *first)
{
	if (!*first)
		appendStringInfoString(buf, ", ");
	*first = false;
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
	if (value == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, value);
}

/* Start a config object; json_add_string adds to it, json_finish ends it. */
static void
json_start(StringInfo buf)
{
	initStringInfo(buf);
	appendStringInfoChar(buf, '{');
}

static Jsonb *
json_finish(StringInfo buf)
{
	appendStringInfoChar(buf, '}');
	return DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf->data)));
}

/* ERROR 42P01 unless relation rel exists. */
static void
require_rel(Oid rel)
{
	if (get_rel_name(rel) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", rel)));
}

/*
 * telos.add_retention_policy(rel regclass, default_retention interval,
 *		tenant_retention_fn regprocedure, rollups regclass, keep_hourly interval,
 *		keep_daily interval, schedule interval, run_as regrole,
 *		if_not_exists boolean, time_column name) RETURNS integer
 */
Datum
telos_add_retention_policy(PG_FUNCTION_ARGS)
{
	StringInfoData buf;
	bool		first = true;
	Oid			rel;
	Oid			run_as;
	Jsonb	   *config;
	int32		id;
	RetentionPolicy p;

	telos_arg_notnull(fcinfo, 0, "rel");
	telos_arg_notnull(fcinfo, 1, "default_retention");
	telos_arg_notnull(fcinfo, 6, "schedule");
	telos_arg_notnull(fcinfo, 8, "if_not_exists");
	rel = PG_GETARG_OID(0);
	run_as = PG_ARGISNULL(7) ? GetUserId() : PG_GETARG_OID(7);
	job_check_positive(PG_GETARG_INTERVAL_P(6), "schedule");
	require_rel(rel);
	check_table(rel, "relation");

	id = job_policy_existing(RETENTION_PROC, rel, PG_GETARG_BOOL(8), "retention");
	if (id != 0)
		PG_RETURN_INT32(id);

	json_start(&buf);
	json_add_string(&buf, "rel", telos_qualified_relname(rel), &first);
	json_add_string(&buf, "default_retention", interval_text(PG_GETARG_INTERVAL_P(1)), &first);
	json_add_string(&buf, "tenant_retention_fn",
					PG_ARGISNULL(2) ? NULL : format_procedure_qualified(PG_GETARG_OID(2)), &first);
	json_add_string(&buf, "rollups",
					PG_ARGISNULL(3) ? NULL : telos_qualified_relname(PG_GETARG_OID(3)), &first);
	json_add_string(&buf, "keep_hourly",
					PG_ARGISNULL(4) ? NULL : interval_text(PG_GETARG_INTERVAL_P(4)), &first);
	json_add_string(&buf, "keep_daily",
					PG_ARGISNULL(5) ? NULL : interval_text(PG_GETARG_INTERVAL_P(5)), &first);
	json_add_string(&buf, "time_column",
					PG_ARGISNULL(9) ? NULL : NameStr(*PG_GETARG_NAME(9)), &first);
	config = json_finish(&buf);

	/* Clear errors now, in the caller's terms (job_insert checks again). */
	job_check_run_as(run_as);
	retention_parse(config, run_as, &p);

	PG_RETURN_INT32(job_policy_insert(RETENTION_PROC, PG_GETARG_INTERVAL_P(6),
									  config, run_as));
}

/* telos.remove_retention_policy(rel regclass, if_exists boolean) RETURNS void */
Datum
telos_remove_retention_policy(PG_FUNCTION_ARGS)
{
	job_policy_remove(fcinfo, RETENTION_PROC, "retention");
	PG_RETURN_VOID();
}

/*
 * telos.add_maintenance_policy(rel regclass, ahead interval,
 *		schedule interval, run_as regrole, if_not_exists boolean)
 *		RETURNS integer
 */
Datum
telos_add_maintenance_policy(PG_FUNCTION_ARGS)
{
	StringInfoData buf;
	bool		first = true;
	Oid			rel;
	Oid			run_as;
	Jsonb	   *config;
	int32		id;
	Interval	ahead;

	telos_arg_notnull(fcinfo, 0, "rel");
	telos_arg_notnull(fcinfo, 1, "ahead");
	telos_arg_notnull(fcinfo, 2, "schedule");
	telos_arg_notnull(fcinfo, 4, "if_not_exists");
	rel = PG_GETARG_OID(0);
	run_as = PG_ARGISNULL(3) ? GetUserId() : PG_GETARG_OID(3);
	job_check_positive(PG_GETARG_INTERVAL_P(2), "schedule");
	require_rel(rel);

	id = job_policy_existing(MAINTENANCE_PROC, rel, PG_GETARG_BOOL(4), "maintenance");
	if (id != 0)
		PG_RETURN_INT32(id);

	json_start(&buf);
	json_add_string(&buf, "rel", telos_qualified_relname(rel), &first);
	json_add_string(&buf, "ahead", interval_text(PG_GETARG_INTERVAL_P(1)), &first);
	config = json_finish(&buf);

	job_check_run_as(run_as);
	maintenance_parse(config, run_as, &rel, &ahead);

	PG_RETURN_INT32(job_policy_insert(MAINTENANCE_PROC, PG_GETARG_INTERVAL_P(2),
									  config, run_as));
}

/* telos.remove_maintenance_policy(rel regclass, if_exists boolean) RETURNS void */
Datum
telos_remove_maintenance_policy(PG_FUNCTION_ARGS)
{
	job_policy_remove(fcinfo, MAINTENANCE_PROC, "maintenance");
	PG_RETURN_VOID();
}

/* telos.maintenance_job(job_id integer, config jsonb) RETURNS void */
Datum
telos_maintenance_job(PG_FUNCTION_ARGS)
{
	Oid			rel;
	Interval	ahead;
	Oid			types[2] = {OIDOID, INTERVALOID};
	Datum		values[2];
	int			nestlevel;

	telos_arg_notnull(fcinfo, 1, "config");
	maintenance_parse(PG_GETARG_JSONB_P(1), GetUserId(), &rel, &ahead);
	values[0] = ObjectIdGetDatum(rel);
	values[1] = IntervalPGetDatum(&ahead);

	nestlevel = telos_pin_search_path();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT telos.maintain($1::regclass, $2)",
							  2, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "telos.maintain failed");
	SPI_finish();
	telos_unpin_gucs(nestlevel);
	PG_RETURN_VOID();
}
