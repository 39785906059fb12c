/*-------------------------------------------------------------------------
 *
 * policy.c
 *	  Compression and archive policies (policy.h): adding and removing
 *	  them, and the compression job.
 *
 * A policy is a job (job.c) running telos.compression_job or
 * telos.archive_job with the policy in its config; the table is named by
 * its qualified name (it survives dump and restore). The config is checked
 * when the policy is added and again at every run.
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "access/htup_details.h"
#include "catalog/pg_proc.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/regproc.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "catalog/pg_class.h"
#include "utils/timestamp.h"

#include "archive.h"
#include "archive_store.h"
#include "compress.h"
#include "job.h"
#include "policy.h"
#include "policy_int.h"
#include "util.h"

PG_FUNCTION_INFO_V1(telos_add_compression_policy);
PG_FUNCTION_INFO_V1(telos_remove_compression_policy);
PG_FUNCTION_INFO_V1(telos_compression_job);
PG_FUNCTION_INFO_V1(telos_add_archive_policy);
PG_FUNCTION_INFO_V1(telos_remove_archive_policy);

/* ------------------------------------------------------------------------
 * Config
 * ------------------------------------------------------------------------
 */

char *
policy_config_string(Jsonb *config, const char *key, const char *policy)
{
	JsonbValue *v = getKeyJsonValueFromContainer(&config->root, key, strlen(key), NULL);

	if (v == NULL || v->type == jbvNull)
		return NULL;
	if (v->type != jbvString)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s config: \"%s\" must be a string", policy, key)));
	return pnstrdup(v->val.string.val, v->val.string.len);
}

Oid
policy_config_relation(Jsonb *config, const char *policy)
{
	char	   *name = policy_config_string(config, "rel", policy);
	Oid			rel;

	if (name == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s config: \"rel\" is missing", policy)));
	rel = RangeVarGetRelid(makeRangeVarFromNameList(stringToQualifiedNameList(name)),
						   NoLock, true);
	if (!OidIsValid(rel))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("%s config: relation \"%s\" does not exist", policy, name)));
	return rel;
}

bool
policy_config_interval(Jsonb *config, const char *key, const char *policy, Interval *out)
{
	char	   *s = policy_config_string(config, key, policy);

	if (s == NULL)
		return false;
	*out = *DatumGetIntervalP(DirectFunctionCall3(interval_in, CStringGetDatum(s),
												  ObjectIdGetDatum(InvalidOid),
												  Int32GetDatum(-1)));
	job_check_positive(out, key);
	return true;
}

/* ERROR unless rel is a hypertable whose chunks can be compressed. */
static void
check_hypertable(Oid rel)
{
	TelosCatalogState save;
	bool		found;

	telos_catalog_become("hypertable", &save);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	found = telos_spi_exec("SELECT 1 FROM telos.hypertable WHERE relid = $1",
						   1, (Oid[]) {OIDOID}, (Datum[]) {ObjectIdGetDatum(rel)}, NULL) > 0;
	SPI_finish();
	telos_catalog_restore(&save);
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not a hypertable", get_rel_name(rel)),
				 errhint("Make it one with telos.create_hypertable().")));
	compress_check_hypertable(rel);
}

/*
 * Checks a tenant function: () RETURNS TABLE(tenant_id uuid, <x> interval)
 * that role may execute.
 */
void
policy_check_tenant_fn(Oid fn, Oid role, const char *argname)
{
	HeapTuple	tup = telos_proc_tuple(fn);
	Form_pg_proc p = (Form_pg_proc) GETSTRUCT(tup);
	bool		ok = p->pronargs == 0 && p->proretset && p->prokind == PROKIND_FUNCTION;
	TupleDesc	tupdesc;

	ReleaseSysCache(tup);
	if (ok)
		ok = get_func_result_type(fn, NULL, &tupdesc) == TYPEFUNC_COMPOSITE &&
			tupdesc->natts == 2 &&
			TupleDescAttr(tupdesc, 0)->atttypid == UUIDOID &&
			TupleDescAttr(tupdesc, 1)->atttypid == INTERVALOID;
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s %s must be a function () RETURNS TABLE(tenant_id uuid, interval)",
						argname, format_procedure(fn))));
	if (pg_proc_aclcheck(fn, role, ACL_EXECUTE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("role \"%s\" may not execute %s",
						GetUserNameFromId(role, false), format_procedure(fn))));
}

/*
 * The privileges the job will need, checked for role: those of
 * archive_check_privilege (as role).
 */
static void
check_role_may(Oid rel, Oid role, const char *action)
{
	Oid			save_user;
	int			save_sec;

	GetUserIdAndSecContext(&save_user, &save_sec);
	SetUserIdAndSecContext(role, save_sec | SECURITY_LOCAL_USERID_CHANGE);
	PG_TRY();
	{
		archive_check_privilege(rel, action);
	}
	PG_FINALLY();
	{
		SetUserIdAndSecContext(save_user, save_sec);
	}
	PG_END_TRY();
}

void
policy_compression_parse(Jsonb *config, Oid role, CompressionPolicy *p)
{
	const char *what = "compression policy";

	p->rel = policy_config_relation(config, what);
	if (!policy_config_interval(config, "compress_after", what, &p->compress_after))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s config: \"compress_after\" is missing", what)));
	check_hypertable(p->rel);
	check_role_may(p->rel, role, "compress");
}

void
policy_archive_parse(Jsonb *config, Oid role, ArchivePolicy *p)
{
	const char *what = "archive policy";
	char	   *fn;

	memset(p, 0, sizeof(*p));
	p->rel = policy_config_relation(config, what);
	if (!policy_config_interval(config, "archive_after", what, &p->archive_after))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s config: \"archive_after\" is missing", what)));
	p->location = policy_config_string(config, "location", what);
	if (p->location != NULL)
		archive_store_check_name(p->location, "location");
	fn = policy_config_string(config, "tenant_archive_after_fn", what);
	if (fn != NULL)
	{
		p->tenant_fn = DatumGetObjectId(DirectFunctionCall1(regprocedurein,
															CStringGetDatum(fn)));
		policy_check_tenant_fn(p->tenant_fn, role, "tenant_archive_after_fn");
	}
	check_hypertable(p->rel);
	check_role_may(p->rel, role, "archive");
}

void
policy_check_job_config(const char *proc_schema, const char *proc_name,
						Jsonb *config, Oid run_as)
{
	if (strcmp(proc_schema, TELOS_SCHEMA_NAME) != 0)
		return;
	if (strcmp(proc_name, COMPRESSION_PROC) == 0)
	{
		CompressionPolicy p;

		policy_compression_parse(config, run_as, &p);
	}
	else if (strcmp(proc_name, ARCHIVE_PROC) == 0)
	{
		ArchivePolicy p;

		policy_archive_parse(config, run_as, &p);
	}
}

/* ------------------------------------------------------------------------
 * Running chunk by chunk
 * ------------------------------------------------------------------------
 */

void
policy_run_start(PolicyRun *r, FunctionCallInfo fcinfo, const char *what)
{
	CallContext *ctx = (CallContext *) fcinfo->context;

	memset(r, 0, sizeof(*r));
	r->what = what;
	/* A function call, or CALL inside a transaction block: no COMMIT. */
	r->atomic = ctx == NULL || !IsA(ctx, CallContext) || ctx->atomic;
	r->cxt = CurrentMemoryContext;
	if (SPI_connect_ext(r->atomic ? 0 : SPI_OPT_NONATOMIC) != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	/* Back to the caller's context: it outlives the commits, SPI's does too. */
	MemoryContextSwitchTo(r->cxt);
}

/*
 * Runs step(arg) in a subtransaction with a fresh snapshot; an error is
 * reported as a WARNING and counted. Then commits when allowed. Returns
 * whether the step succeeded.
 */
bool
policy_run_step(PolicyRun *r, void (*step) (void *arg), void *arg, const char *object)
{
	ResourceOwner owner = CurrentResourceOwner;
	volatile bool ok = true;

	CHECK_FOR_INTERRUPTS();
	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(r->cxt);
	PG_TRY();
	{
		PushActiveSnapshot(GetTransactionSnapshot());
		step(arg);
		PopActiveSnapshot();
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(r->cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *edata;

		MemoryContextSwitchTo(r->cxt);
		edata = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(r->cxt);
		CurrentResourceOwner = owner;
		ok = false;
		r->nfailed++;
		if (r->first_error == NULL)
			r->first_error = psprintf("%s: %s", object, edata->message);
		ereport(WARNING,
				(errmsg("%s: %s failed: %s", r->what, object, edata->message),
				 edata->detail ? errdetail("%s", edata->detail) : 0,
				 edata->hint ? errhint("%s", edata->hint) : 0));
		FreeErrorData(edata);
	}
	PG_END_TRY();
	if (ok)
		r->ndone++;
	CommandCounterIncrement();
	if (!r->atomic)
	{
		SPI_commit();
		MemoryContextSwitchTo(r->cxt);
	}
	return ok;
}

void
policy_run_end(PolicyRun *r)
{
	SPI_finish();
	MemoryContextSwitchTo(r->cxt);
	if (r->nfailed > 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("%s: %d of %d steps failed", r->what, r->nfailed, r->nfailed + r->ndone),
				 errdetail("First failure: %s", r->first_error)));
}

PolicyChunk *
policy_list_chunks(Oid rel, const char *states, int *n)
{
	TelosCatalogState save;
	PolicyChunk *out;
	MemoryContext outer = CurrentMemoryContext;

	telos_catalog_become("chunk", &save);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	*n = (int) telos_spi_exec(psprintf("SELECT id, range_end, state, relid::regclass::text FROM telos.chunk"
									   " WHERE hypertable = $1 AND relid IS NOT NULL"
									   "   AND state IN (%s) ORDER BY range_start", states),
							  1, (Oid[]) {OIDOID}, (Datum[]) {ObjectIdGetDatum(rel)}, NULL);
	out = MemoryContextAlloc(outer, sizeof(PolicyChunk) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
	{
		bool		isnull;

		out[i].id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
												SPI_tuptable->tupdesc, 1, &isnull));
		out[i].range_end = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[i],
															 SPI_tuptable->tupdesc, 2, &isnull));
		strlcpy(out[i].state, SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3),
				sizeof(out[i].state));
		out[i].name = MemoryContextStrdup(outer, SPI_getvalue(SPI_tuptable->vals[i],
															  SPI_tuptable->tupdesc, 4));
	}
	SPI_finish();
	telos_catalog_restore(&save);
	return out;
}

Oid
policy_owner(Oid relid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

ChunkInfo *
policy_chunk_info(int64 id)
{
	TelosCatalogState save;
	Oid			relid = InvalidOid;

	telos_catalog_become("chunk", &save);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (telos_spi_exec("SELECT relid::oid FROM telos.chunk WHERE id = $1 AND relid IS NOT NULL",
					   1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(id)}, NULL) > 0)
	{
		bool		isnull;

		relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
											   SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_finish();
	telos_catalog_restore(&save);
	if (!OidIsValid(relid) || get_rel_name(relid) == NULL)
		return NULL;
	return compress_chunk_lookup(relid);
}

/* ------------------------------------------------------------------------
 * The compression job
 * ------------------------------------------------------------------------
 */

typedef struct CompressStep
{
	int64		id;
	TimestampTz cutoff;
} CompressStep;

static void
compress_step(void *arg)
{
	CompressStep *s = arg;
	ChunkInfo  *info = policy_chunk_info(s->id);

	TelosUserState us;

	if (info == NULL)
		return;					/* dropped meanwhile */
	/* As the owner: the job's role may be a worker that only bypasses RLS. */
	telos_become(policy_owner(info->hypertable), &us);
	if (strcmp(info->state, "active") == 0 && info->range_end <= s->cutoff)
		(void) compress_chunk_rel(info);
	else if (strcmp(info->state, "compressed") == 0 && archive_delta_has_rows(info->id))
		(void) recompress_chunk_rel(info);
	telos_restore_user(&us);
}

/*
 * CALL telos.compression_job(job_id integer, config jsonb)
 */
Datum
telos_compression_job(PG_FUNCTION_ARGS)
{
	CompressionPolicy p;
	PolicyRun	r;
	PolicyChunk *chunks;
	int			n;
	TimestampTz cutoff;

	telos_arg_notnull(fcinfo, 1, "config");
	policy_compression_parse(PG_GETARG_JSONB_P(1), GetUserId(), &p);
	cutoff = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
													 TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()),
													 IntervalPGetDatum(&p.compress_after)));
	chunks = policy_list_chunks(p.rel, "'active', 'compressed'", &n);

	policy_run_start(&r, fcinfo, "compression job");
	for (int i = 0; i < n; i++)
	{
		CompressStep s = {chunks[i].id, cutoff};

		/* Active chunks still too young are not even visited. */
		if (strcmp(chunks[i].state, "active") == 0 && chunks[i].range_end > cutoff)
			continue;
		policy_run_step(&r, compress_step, &s, psprintf("chunk %s", chunks[i].name));
	}
	policy_run_end(&r);
	PG_RETURN_VOID();
}

/* ------------------------------------------------------------------------
 * Adding and removing policies
 * ------------------------------------------------------------------------
 */

static void
json_add(StringInfo buf, const char *key, const char *value)
{
	if (buf->len > 1)
		appendStringInfoString(buf, ", ");
	escape_json(buf, key);
	appendStringInfoString(buf, ": ");
	if (value == NULL)
		appendStringInfoString(buf, "null");
	else
		escape_json(buf, value);
}

static char *
interval_text(const Interval *i)
{
	return DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(i)));
}

/*
 * telos.add_compression_policy(rel regclass, compress_after interval,
 *		if_not_exists boolean, schedule interval, run_as regrole)
 *		RETURNS integer
 */
Datum
telos_add_compression_policy(PG_FUNCTION_ARGS)
{
	Oid			rel = telos_arg_relid(fcinfo, 0, "rel");
	Oid			run_as;
	StringInfoData buf;
	CompressionPolicy p;
	int32		id;

	telos_arg_notnull(fcinfo, 1, "compress_after");
	telos_arg_notnull(fcinfo, 2, "if_not_exists");
	telos_arg_notnull(fcinfo, 3, "schedule");
	run_as = PG_ARGISNULL(4) ? GetUserId() : PG_GETARG_OID(4);
	job_check_positive(PG_GETARG_INTERVAL_P(1), "compress_after");
	job_check_positive(PG_GETARG_INTERVAL_P(3), "schedule");

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	json_add(&buf, "rel", telos_qualified_relname(rel));
	json_add(&buf, "compress_after", interval_text(PG_GETARG_INTERVAL_P(1)));
	appendStringInfoChar(&buf, '}');

	/* Clear errors first, in the caller's terms (job_insert checks again). */
	job_check_run_as(run_as);
	policy_compression_parse(DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data))),
							 run_as, &p);
	id = job_policy_existing(COMPRESSION_PROC, rel, PG_GETARG_BOOL(2), "compression");
	if (id != 0)
		PG_RETURN_INT32(id);
	PG_RETURN_INT32(job_policy_insert(COMPRESSION_PROC, PG_GETARG_INTERVAL_P(3), DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data))), run_as));
}

/* telos.remove_compression_policy(rel regclass, if_exists boolean) RETURNS void */
Datum
telos_remove_compression_policy(PG_FUNCTION_ARGS)
{
	job_policy_remove(fcinfo, COMPRESSION_PROC, "compression");
	PG_RETURN_VOID();
}

/*
 * telos.add_archive_policy(rel regclass, archive_after interval,
 *		if_not_exists boolean, location text, tenant_archive_after_fn
 *		regprocedure, schedule interval, run_as regrole) RETURNS integer
 */
Datum
telos_add_archive_policy(PG_FUNCTION_ARGS)
{
	Oid			rel = telos_arg_relid(fcinfo, 0, "rel");
	Oid			run_as;
	StringInfoData buf;
	ArchivePolicy p;
	int32		id;

	telos_arg_notnull(fcinfo, 1, "archive_after");
	telos_arg_notnull(fcinfo, 2, "if_not_exists");
	telos_arg_notnull(fcinfo, 5, "schedule");
	run_as = PG_ARGISNULL(6) ? GetUserId() : PG_GETARG_OID(6);
	job_check_positive(PG_GETARG_INTERVAL_P(1), "archive_after");
	job_check_positive(PG_GETARG_INTERVAL_P(5), "schedule");

	initStringInfo(&buf);
	appendStringInfoChar(&buf, '{');
	json_add(&buf, "rel", telos_qualified_relname(rel));
	json_add(&buf, "archive_after", interval_text(PG_GETARG_INTERVAL_P(1)));
	json_add(&buf, "location", PG_ARGISNULL(3) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(3)));
	json_add(&buf, "tenant_archive_after_fn",
			 PG_ARGISNULL(4) ? NULL : format_procedure_qualified(PG_GETARG_OID(4)));
	appendStringInfoChar(&buf, '}');

	job_check_run_as(run_as);
	policy_archive_parse(DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data))),
						 run_as, &p);
	id = job_policy_existing(ARCHIVE_PROC, rel, PG_GETARG_BOOL(2), "archive");
	if (id != 0)
		PG_RETURN_INT32(id);
	PG_RETURN_INT32(job_policy_insert(ARCHIVE_PROC, PG_GETARG_INTERVAL_P(5), DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data))), run_as));
}

/* telos.remove_archive_policy(rel regclass, if_exists boolean) RETURNS void */
Datum
telos_remove_archive_policy(PG_FUNCTION_ARGS)
{
	job_policy_remove(fcinfo, ARCHIVE_PROC, "archive");
	PG_RETURN_VOID();
}
