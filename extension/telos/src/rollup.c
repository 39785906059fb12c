/*-------------------------------------------------------------------------
 *
 * rollup.c
 *	  Rollup policies: the catalog (telos.rollup_policy), who may do what,
 *	  and the SQL functions that manage policies -- add_rollup_policy,
 *	  remove_rollup_policy, invalidate_rollups.
 *
 * Privileges. The catalog tables belong to the extension's owner. Callers
 * never get write access to them; instead the engine checks what the
 * caller may do (own the raw table to attach a policy; read raw and write
 * agg without row-level security to refresh) and then performs the catalog
 * writes, and only those, as the catalog owner in a security-restricted
 * operation with a pinned search_path. Everything that touches user tables
 * (creating triggers, reading raw, writing agg) runs as the caller, so no
 * user code ever runs with the catalog owner's rights.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/table.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "rollup.h"
#include "telos.h"
#include "util.h"

PG_FUNCTION_INFO_V1(telos_add_rollup_policy);
PG_FUNCTION_INFO_V1(telos_remove_rollup_policy);
PG_FUNCTION_INFO_V1(telos_invalidate_rollups);

static RollupPolicy *
policy_from_tuple(HeapTuple tup, TupleDesc desc)
{
	RollupPolicy *p = palloc0(sizeof(RollupPolicy));
	bool		isnull;
	char	   *fname;

	p->raw = DatumGetObjectId(SPI_getbinval(tup, desc, 1, &isnull));
	p->agg = DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull));
	p->definitions = DatumGetObjectId(SPI_getbinval(tup, desc, 3, &isnull));
	p->timezone_fn = DatumGetObjectId(SPI_getbinval(tup, desc, 4, &isnull));
	p->time_column = SPI_getvalue(tup, desc, 5);
	p->job_id = DatumGetInt32(SPI_getbinval(tup, desc, 6, &isnull));
	p->has_job = !isnull;

	p->raw_sql = telos_qualified_relname(p->raw);
	p->agg_sql = telos_qualified_relname(p->agg);
	p->definitions_sql = telos_qualified_relname(p->definitions);
	p->time_sql = pstrdup(quote_identifier(p->time_column));
	fname = get_func_name(p->timezone_fn);
	if (fname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("time zone function of the rollup policy of %s does not exist",
						p->raw_sql)));
	p->timezone_fn_sql = quote_qualified_identifier(
		get_namespace_name(get_func_namespace(p->timezone_fn)), fname);
	return p;
}

#define POLICY_COLUMNS \
	"raw::oid, agg::oid, definitions::oid, timezone_fn::oid, time_column, job_id"

/*
 * The policy lookup runs for every statement on a raw table (trigger), so
 * its plan is prepared once per backend; the plan cache re-plans it if the
 * catalog changes (e.g. the extension is re-created).
 */
static SPIPlanPtr policy_lookup_plan = NULL;

RollupPolicy *
rollup_policy_load(Oid raw, bool missing_ok)
{
	Datum		args[1] = {ObjectIdGetDatum(raw)};
	int			rc;

	if (policy_lookup_plan == NULL)
	{
		Oid			argtypes[1] = {REGCLASSOID};

		policy_lookup_plan = telos_spi_prepare_kept("SELECT " POLICY_COLUMNS
													" FROM telos.rollup_policy WHERE raw = $1",
													1, argtypes);
	}
	rc = SPI_execute_plan(policy_lookup_plan, args, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
	{
		char	   *name;

		if (missing_ok)
			return NULL;
		name = get_rel_name(raw);
		if (name == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_TABLE),
					 errmsg("relation with OID %u does not exist", raw)));
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table \"%s\" has no rollup policy", name),
				 errhint("Create one with telos.add_rollup_policy.")));
	}
	return policy_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc);
}

RollupPolicy *
rollup_policy_only(void)
{
	int			rc;

	rc = SPI_execute("SELECT " POLICY_COLUMNS " FROM telos.rollup_policy", true, 2);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("no rollup policy exists"),
				 errhint("Create one with telos.add_rollup_policy.")));
	if (SPI_processed > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("more than one rollup policy exists"),
				 errhint("Pass the raw table: raw => 'schema.table'.")));
	return policy_from_tuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc);
}

/*
 * rollup_sql_expand
 *		Copy tmpl, replacing each placeholder (rollup.h) as it is met; no
 *		placeholder is a prefix of another.
 */
char *
rollup_sql_expand(const char *tmpl, const RollupPolicy *p, const char *width)
{
	StringInfoData buf;
	const char *s = tmpl;

	initStringInfo(&buf);
	while (*s)
	{
		if (strncmp(s, "@RAW@", 5) == 0)
		{
			appendStringInfoString(&buf, p->raw_sql);
			s += 5;
		}
		else if (strncmp(s, "@AGG@", 5) == 0)
		{
			appendStringInfoString(&buf, p->agg_sql);
			s += 5;
		}
		else if (strncmp(s, "@T@", 3) == 0)
		{
			appendStringInfoString(&buf, p->time_sql);
			s += 3;
		}
		else if (strncmp(s, "@TZFN@", 6) == 0)
		{
			appendStringInfoString(&buf, p->timezone_fn_sql);
			s += 6;
		}
		else if (width != NULL && strncmp(s, "@W@", 3) == 0)
		{
			appendStringInfoString(&buf, width);
			s += 3;
		}
		else
			appendStringInfoChar(&buf, *s++);
	}
	return buf.data;
}

int
rollup_engine_gucs(void)
{
	int			level = NewGUCNestLevel();

	(void) set_config_option("jit", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return level;
}

void
rollup_engine_gucs_end(int nestlevel)
{
	AtEOXact_GUC(true, nestlevel);
}

/*
 * Run one statement on the catalog tables as their owner (see
 * telos_catalog_become); ERROR unless SPI returns expect. SPI connected by
 * the caller.
 */
static void
catalog_write(const char *sql, int nargs, Oid *argtypes, Datum *args,
			  const char *nulls, int expect)
{
	TelosCatalogState save;
	int			rc;

	telos_catalog_become(ROLLUP_CATALOG_TABLE, &save);
	rc = SPI_execute_with_args(sql, nargs, argtypes, args, nulls, false, 0);
	if (rc != expect)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	telos_catalog_restore(&save);
}

bool
rollup_check_refresher(const RollupPolicy *policy, bool noerror)
{
	Oid			user = GetUserId();

	if (pg_class_aclcheck(policy->raw, user, ACL_SELECT) != ACLCHECK_OK ||
		pg_class_aclcheck(policy->agg, user,
						  ACL_SELECT | ACL_INSERT | ACL_UPDATE | ACL_DELETE) != ACLCHECK_OK)
	{
		if (noerror)
			return false;
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to refresh the rollups of %s", policy->raw_sql),
				 errdetail("Refreshing needs SELECT on %s and SELECT, INSERT, UPDATE, DELETE on %s.",
						   policy->raw_sql, policy->agg_sql)));
	}
	if (check_enable_rls(policy->raw, InvalidOid, true) == RLS_ENABLED ||
		check_enable_rls(policy->agg, InvalidOid, true) == RLS_ENABLED)
	{
		if (noerror)
			return false;
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("refreshing the rollups of %s needs a role that bypasses row-level security",
						policy->raw_sql),
				 errdetail("Row-level security applies to role \"%s\" on %s or %s; a refresh must see every tenant.",
						   GetUserNameFromId(user, false), policy->raw_sql, policy->agg_sql),
				 errhint("Run it as a role with BYPASSRLS (the rollup job's run_as role).")));
	}
	return true;
}

/* The boolean value of a placeholder setting, or dflt when unset or not boolean. */
static bool
setting_is(const char *name, bool dflt)
{
	const char *v = GetConfigOption(name, true, false);
	bool		b;

	if (v == NULL || !parse_bool(v, &b))
		return dflt;
	return b;
}

bool
rollup_invalidation_disabled(Oid raw)
{
	if (setting_is(ROLLUP_GUC_INVALIDATION, true) && !setting_is(ROLLUP_GUC_RETENTION, false))
		return false;
	return superuser() || has_bypassrls_privilege(GetUserId());
}

void
rollup_insert_whole(Oid raw, Datum tenant, bool tenant_null, Datum metric, bool metric_null)
{
	Oid			argtypes[3] = {REGCLASSOID, UUIDOID, TEXTOID};
	Datum		args[3] = {ObjectIdGetDatum(raw), tenant, metric};
	char		nulls[3] = {' ', tenant_null ? 'n' : ' ', metric_null ? 'n' : ' '};

	catalog_write("INSERT INTO telos.invalidation (raw, tenant_id, metric_types, lo, hi) "
				  "VALUES ($1, $2, CASE WHEN $3 IS NOT NULL THEN ARRAY[$3] END,"
				  " '-infinity', 'infinity')",
				  3, argtypes, args, nulls, SPI_OK_INSERT);
}

/* ---------------------------------------------------------------------
 * add_rollup_policy
 * ---------------------------------------------------------------------
 */

static void
require_not_null(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
}

/* ERROR unless relid exists and its relkind is one of kinds. */
static void
require_relkind(Oid relid, const char *kinds, const char *what, const char *role)
{
	char		kind = get_rel_relkind(relid);

	if (kind == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	if (strchr(kinds, kind) == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("%s \"%s\" is not %s", role, get_rel_name(relid), what)));
}

/* What a rollup policy needs, for errors about a missing column. */
#define POLICY_COLUMNS_HINT \
	"A rollup policy needs raw(tenant_id uuid, metric_type text, <time> timestamptz, value float8), " \
	"agg with the columns of business_metrics_aggregated and " \
	"definitions(tenant_id uuid, metric_type text, aggregation text, calculation_formula text)."

/* ERROR unless relid has column col of type typid. */
static void
require_column(Oid relid, const char *col, Oid typid)
{
	telos_require_column(relid, col, typid, POLICY_COLUMNS_HINT);
}

/*
 * The time column when not given: the range partition key of a partitioned
 * table on one column, else a column named "time".
 */
static char *
guess_time_column(Oid raw)
{
	char	   *col = NULL;

	if (get_rel_relkind(raw) == RELKIND_PARTITIONED_TABLE)
	{
		Relation	rel = table_open(raw, AccessShareLock);
		PartitionKey key = RelationGetPartitionKey(rel);

		if (key->strategy == PARTITION_STRATEGY_RANGE && key->partnatts == 1 &&
			key->partattrs[0] != 0)
			col = get_attname(raw, key->partattrs[0], false);
		table_close(rel, AccessShareLock);
	}
	if (col == NULL && get_attnum(raw, "time") != InvalidAttrNumber)
		col = pstrdup("time");
	if (col == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("cannot tell the time column of \"%s\"", get_rel_name(raw)),
				 errhint("Pass time_column => 'name'.")));
	return col;
}

/* ERROR unless agg has a unique index on exactly its bucket key. */
static void
require_bucket_key(Oid agg)
{
	Oid			argtypes[1] = {OIDOID};
	Datum		args[1] = {ObjectIdGetDatum(agg)};
	int			rc;
	bool		isnull;

	rc = SPI_execute_with_args(
		"SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_index i"
		" WHERE i.indrelid = $1 AND i.indisunique AND i.indimmediate AND i.indisvalid"
		"   AND i.indpred IS NULL AND i.indexprs IS NULL AND i.indnkeyatts = 4"
		"   AND (SELECT pg_catalog.array_agg(a.attname::text ORDER BY a.attname)"
		"          FROM pg_catalog.pg_attribute a"
		"         WHERE a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey))"
		"       = ARRAY['bucket', 'bucket_width', 'metric_type', 'tenant_id'])",
		1, argtypes, args, NULL, true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("relation \"%s\" has no unique index on (tenant_id, metric_type, bucket_width, bucket)",
						get_rel_name(agg)),
				 errhint("The refresh upserts buckets on that key: make it the primary key.")));
}

static void
require_timezone_fn(Oid fn)
{
	Oid		   *argtypes;
	int			nargs;
	Oid			rettype;
	HeapTuple	tup = telos_proc_tuple(fn);
	bool		ok;

	ok = ((Form_pg_proc) GETSTRUCT(tup))->prokind == PROKIND_FUNCTION &&
		!((Form_pg_proc) GETSTRUCT(tup))->proretset;
	ReleaseSysCache(tup);
	rettype = get_func_signature(fn, &argtypes, &nargs);
	if (!ok || nargs != 1 || argtypes[0] != UUIDOID || rettype != TEXTOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("timezone_fn %s must be a function (uuid) returning text",
						format_procedure(fn))));
}

/* Run one utility or DML statement as the current user. */
static void
spi_exec(const char *sql, int expect)
{
	int			rc = SPI_execute(sql, false, 0);

	if (rc != expect)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
}

/*
 * Schedule the refresh through telos.add_job when the jobs module is
 * installed (looked up at run time, so the modules load independently);
 * returns the job id, or 0 with *has_job false.
 */
static int32
schedule_refresh(Oid raw, Datum schedule, bool run_as_null, Datum run_as, bool *has_job)
{
	Oid			argtypes[3] = {INTERVALOID, TEXTOID, REGROLEOID};
	Datum		args[3];
	int			rc;
	bool		isnull;
	Datum		d;

	*has_job = false;
	rc = SPI_execute("SELECT pg_catalog.to_regproc('telos.add_job') IS NOT NULL", true, 1);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute failed: %s", SPI_result_code_string(rc));
	if (!DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)))
		return 0;

	args[0] = schedule;
	args[1] = CStringGetTextDatum(telos_qualified_relname(raw));
	args[2] = run_as;
	rc = SPI_execute_with_args(run_as_null
							   ? "SELECT telos.add_job('telos.refresh_rollups_job'::pg_catalog.regproc, $1,"
							   " pg_catalog.jsonb_build_object('raw', $2))"
							   : "SELECT telos.add_job('telos.refresh_rollups_job'::pg_catalog.regproc, $1,"
							   " pg_catalog.jsonb_build_object('raw', $2), pg_catalog.now(), $3)",
							   run_as_null ? 2 : 3, argtypes, args, NULL, false, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "telos.add_job failed: %s", SPI_result_code_string(rc));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		return 0;
	*has_job = true;
	return DatumGetInt32(d);
}

/*
 * telos_add_rollup_policy
 *		telos.add_rollup_policy(raw regclass, agg regclass, definitions regclass,
 *			timezone_fn regprocedure, schedule interval DEFAULT '1 minute',
 *			run_as regrole DEFAULT NULL, time_column name DEFAULT NULL)
 *			RETURNS integer
 *
 * Validates the shapes (columns and types of raw, agg, definitions; the
 * bucket key of agg; timezone_fn (uuid) -> text), requires the caller to own
 * raw and agg, creates the four statement triggers on raw, records the
 * policy, marks everything already in raw for the first refresh, and adds a
 * refresh job when the jobs module is installed and schedule is not NULL.
 * Returns the job id, or NULL when no job was made (schedule NULL: refresh
 * by hand or from another job).
 */
Datum
telos_add_rollup_policy(PG_FUNCTION_ARGS)
{
	Oid			raw,
				agg,
				defs,
				tzfn;
	char	   *time_column;
	char	   *raw_sql;
	int32		job_id;
	bool		has_job;
	StringInfoData sql;

	require_not_null(fcinfo, 0, "raw");
	require_not_null(fcinfo, 1, "agg");
	require_not_null(fcinfo, 2, "definitions");
	require_not_null(fcinfo, 3, "timezone_fn");
	raw = PG_GETARG_OID(0);
	agg = PG_GETARG_OID(1);
	defs = PG_GETARG_OID(2);
	tzfn = PG_GETARG_OID(3);

	require_relkind(raw, "rp", "a table", "raw");
	require_relkind(agg, "rp", "a table", "agg");
	require_relkind(defs, "rpvmf", "a table or view", "definitions");
	if (raw == agg || raw == defs || agg == defs)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("raw, agg and definitions must be three different relations")));
	telos_require_owner(raw);
	telos_require_owner(agg);

	time_column = PG_ARGISNULL(6) ? guess_time_column(raw)
		: pstrdup(NameStr(*PG_GETARG_NAME(6)));
	require_column(raw, "tenant_id", UUIDOID);
	require_column(raw, "metric_type", TEXTOID);
	require_column(raw, time_column, TIMESTAMPTZOID);
	require_column(raw, "value", FLOAT8OID);
	require_column(agg, "tenant_id", UUIDOID);
	require_column(agg, "metric_type", TEXTOID);
	require_column(agg, "bucket_width", TEXTOID);
	require_column(agg, "bucket", TIMESTAMPTZOID);
	require_column(agg, "count", INT8OID);
	require_column(agg, "sum", FLOAT8OID);
	require_column(agg, "min", FLOAT8OID);
	require_column(agg, "max", FLOAT8OID);
	require_column(agg, "first", FLOAT8OID);
	require_column(agg, "last", FLOAT8OID);
	require_column(defs, "tenant_id", UUIDOID);
	require_column(defs, "metric_type", TEXTOID);
	require_column(defs, "aggregation", TEXTOID);
	require_column(defs, "calculation_formula", TEXTOID);
	require_timezone_fn(tzfn);
	if (!PG_ARGISNULL(4))
	{
		Interval   *iv = PG_GETARG_INTERVAL_P(4);

		if (iv->month < 0 || iv->day < 0 || iv->time < 0 ||
			(iv->month == 0 && iv->day == 0 && iv->time == 0))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("schedule must be a positive interval")));
	}

	SPI_connect();
	require_bucket_key(agg);
	if (rollup_policy_load(raw, true) != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_OBJECT),
				 errmsg("table \"%s\" already has a rollup policy", get_rel_name(raw))));

	/* The triggers, as the caller (who owns raw). */
	raw_sql = telos_qualified_relname(raw);
	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "CREATE TRIGGER " ROLLUP_TRIGGER_INSERT " AFTER INSERT ON %s"
					 " REFERENCING NEW TABLE AS telos_new"
					 " FOR EACH STATEMENT EXECUTE FUNCTION telos.rollup_invalidate()", raw_sql);
	spi_exec(sql.data, SPI_OK_UTILITY);
	resetStringInfo(&sql);
	appendStringInfo(&sql,
					 "CREATE TRIGGER " ROLLUP_TRIGGER_UPDATE " AFTER UPDATE ON %s"
					 " REFERENCING OLD TABLE AS telos_old NEW TABLE AS telos_new"
					 " FOR EACH STATEMENT EXECUTE FUNCTION telos.rollup_invalidate()", raw_sql);
	spi_exec(sql.data, SPI_OK_UTILITY);
	resetStringInfo(&sql);
	appendStringInfo(&sql,
					 "CREATE TRIGGER " ROLLUP_TRIGGER_DELETE " AFTER DELETE ON %s"
					 " REFERENCING OLD TABLE AS telos_old"
					 " FOR EACH STATEMENT EXECUTE FUNCTION telos.rollup_invalidate()", raw_sql);
	spi_exec(sql.data, SPI_OK_UTILITY);
	resetStringInfo(&sql);
	appendStringInfo(&sql,
					 "CREATE TRIGGER " ROLLUP_TRIGGER_TRUNCATE " AFTER TRUNCATE ON %s"
					 " FOR EACH STATEMENT EXECUTE FUNCTION telos.rollup_invalidate()", raw_sql);
	spi_exec(sql.data, SPI_OK_UTILITY);

	/* The catalog row and the first, whole-table invalidation. */
	{
		Oid			argtypes[5] = {REGCLASSOID, REGCLASSOID, REGCLASSOID, REGPROCEDUREOID, TEXTOID};
		Datum		args[5] = {ObjectIdGetDatum(raw), ObjectIdGetDatum(agg), ObjectIdGetDatum(defs),
		ObjectIdGetDatum(tzfn), CStringGetTextDatum(time_column)};

		catalog_write("INSERT INTO telos.rollup_policy"
					  " (raw, agg, definitions, timezone_fn, time_column)"
					  " VALUES ($1, $2, $3, $4, $5)",
					  5, argtypes, args, NULL, SPI_OK_INSERT);
	}
	rollup_insert_whole(raw, (Datum) 0, true, (Datum) 0, true);

	/* The job, as the caller (the jobs module checks run_as against it). */
	has_job = false;
	job_id = 0;
	if (!PG_ARGISNULL(4))
		job_id = schedule_refresh(raw, PG_GETARG_DATUM(4), PG_ARGISNULL(5),
								  PG_ARGISNULL(5) ? (Datum) 0 : PG_GETARG_DATUM(5), &has_job);
	if (has_job)
	{
		Oid			argtypes[2] = {REGCLASSOID, INT4OID};
		Datum		args[2] = {ObjectIdGetDatum(raw), Int32GetDatum(job_id)};

		catalog_write("UPDATE telos.rollup_policy SET job_id = $2 WHERE raw = $1",
					  2, argtypes, args, NULL, SPI_OK_UPDATE);
	}

	SPI_finish();
	if (!has_job)
		PG_RETURN_NULL();
	PG_RETURN_INT32(job_id);
}

/*
 * telos_remove_rollup_policy
 *		telos.remove_rollup_policy(raw regclass, if_exists boolean DEFAULT false)
 *			RETURNS boolean
 *
 * Drops the triggers, the policy, its pending invalidations and its job.
 * The rollup rows stay (drop or truncate agg to get rid of them). Needs
 * ownership of raw. Returns false when there was no policy and if_exists.
 */
Datum
telos_remove_rollup_policy(PG_FUNCTION_ARGS)
{
	RollupPolicy *policy;
	Oid			raw;
	bool		if_exists = PG_ARGISNULL(1) ? false : PG_GETARG_BOOL(1);
	TelosCatalogState save;
	StringInfoData sql;
	static const char *const triggers[] = {
		ROLLUP_TRIGGER_INSERT, ROLLUP_TRIGGER_UPDATE, ROLLUP_TRIGGER_DELETE, ROLLUP_TRIGGER_TRUNCATE
	};
	int			i;

	require_not_null(fcinfo, 0, "raw");
	raw = PG_GETARG_OID(0);

	SPI_connect();
	policy = rollup_policy_load(raw, if_exists);
	if (policy == NULL)
	{
		SPI_finish();
		PG_RETURN_BOOL(false);
	}
	telos_require_owner(raw);

	initStringInfo(&sql);
	for (i = 0; i < (int) lengthof(triggers); i++)
	{
		resetStringInfo(&sql);
		appendStringInfo(&sql, "DROP TRIGGER IF EXISTS %s ON %s", triggers[i], policy->raw_sql);
		spi_exec(sql.data, SPI_OK_UTILITY);
	}

	{
		Oid			argtypes[1] = {REGCLASSOID};
		Datum		args[1] = {ObjectIdGetDatum(raw)};

		telos_catalog_become(ROLLUP_CATALOG_TABLE, &save);
		if (SPI_execute_with_args("DELETE FROM telos.invalidation WHERE raw = $1",
								  1, argtypes, args, NULL, false, 0) != SPI_OK_DELETE ||
			SPI_execute_with_args("DELETE FROM telos.rollup_policy WHERE raw = $1",
								  1, argtypes, args, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not delete the rollup policy");
		telos_catalog_restore(&save);
	}

	if (policy->has_job)
	{
		Oid			argtypes[1] = {INT4OID};
		Datum		args[1] = {Int32GetDatum(policy->job_id)};
		bool		isnull;

		spi_exec("SELECT pg_catalog.to_regproc('telos.delete_job') IS NOT NULL", SPI_OK_SELECT);
		if (DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) &&
			SPI_execute_with_args("SELECT telos.delete_job($1)", 1, argtypes, args,
								  NULL, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "telos.delete_job failed");
	}

	SPI_finish();
	PG_RETURN_BOOL(true);
}

/*
 * telos_invalidate_rollups
 *		telos.invalidate_rollups(raw regclass, tenant uuid DEFAULT NULL,
 *			metric_type text DEFAULT NULL, lo timestamptz DEFAULT '-infinity',
 *			hi timestamptz DEFAULT 'infinity') RETURNS void
 *
 * Marks rollups for recomputation by the next refresh: one series over a
 * finite range (widened to whole hours), or over all time a whole tenant, a
 * metric of every tenant, or the whole table (NULLs). Needed after what the
 * triggers cannot see: a tenant's time zone changed, raw rows written
 * directly into a partition, the triggers disabled. Needs ownership of raw
 * or the right to refresh.
 */
Datum
telos_invalidate_rollups(PG_FUNCTION_ARGS)
{
	RollupPolicy *policy;
	Oid			raw;
	TimestampTz lo,
				hi;

	require_not_null(fcinfo, 0, "raw");
	require_not_null(fcinfo, 3, "lo");
	require_not_null(fcinfo, 4, "hi");
	raw = PG_GETARG_OID(0);
	lo = PG_GETARG_TIMESTAMPTZ(3);
	hi = PG_GETARG_TIMESTAMPTZ(4);

	SPI_connect();
	policy = rollup_policy_load(raw, false);
	if (!pg_class_ownercheck(raw, GetUserId()) && !rollup_check_refresher(policy, true))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to invalidate the rollups of %s", policy->raw_sql),
				 errhint("Own the table, or be allowed to refresh its rollups.")));

	if (TIMESTAMP_IS_NOBEGIN(lo) && TIMESTAMP_IS_NOEND(hi))
		rollup_insert_whole(raw, PG_GETARG_DATUM(1), PG_ARGISNULL(1),
							PG_GETARG_DATUM(2), PG_ARGISNULL(2));
	else
	{
		Oid			argtypes[5] = {REGCLASSOID, UUIDOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
		Datum		args[5];
		TelosCatalogState save;

		if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("a time range needs a tenant and a metric_type"),
					 errhint("Without a range, a whole tenant or metric is invalidated.")));
		if (TIMESTAMP_NOT_FINITE(lo) || TIMESTAMP_NOT_FINITE(hi) || lo >= hi)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("lo and hi must be finite with lo < hi, or -infinity and infinity")));
		/* whole hours: floor(lo), ceil(hi) */
		lo -= ((lo % USECS_PER_HOUR) + USECS_PER_HOUR) % USECS_PER_HOUR;
		if (((hi % USECS_PER_HOUR) + USECS_PER_HOUR) % USECS_PER_HOUR != 0)
			hi += USECS_PER_HOUR - ((hi % USECS_PER_HOUR) + USECS_PER_HOUR) % USECS_PER_HOUR;
		if (!IS_VALID_TIMESTAMP(lo) || !IS_VALID_TIMESTAMP(hi))
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("timestamp out of range")));
		args[0] = ObjectIdGetDatum(raw);
		args[1] = PG_GETARG_DATUM(1);
		args[2] = PG_GETARG_DATUM(2);
		args[3] = TimestampTzGetDatum(lo);
		args[4] = TimestampTzGetDatum(hi);
		telos_catalog_become(ROLLUP_CATALOG_TABLE, &save);
		if (SPI_execute_with_args("INSERT INTO telos.invalidation (raw, tenant_id, metric_types, lo, hi)"
								  " VALUES ($1, $2, ARRAY[$3], $4, $5)",
								  5, argtypes, args, NULL, false, 0) != SPI_OK_INSERT)
			elog(ERROR, "could not insert the invalidation");
		telos_catalog_restore(&save);
	}

	SPI_finish();
	PG_RETURN_VOID();
}
