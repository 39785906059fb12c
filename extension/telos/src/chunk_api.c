/*-------------------------------------------------------------------------
 *
 * chunk_api.c
 *	  The SQL functions that make, fill and drop chunks:
 *	  telos.ensure_chunks, telos.relocate_default, telos.maintain and
 *	  telos.drop_chunks. Argument checks and privileges live here; the work
 *	  is in chunk.c.
 *
 * Every entry point pins the GUCs (telos_pin_gucs) before running any SQL,
 * so nothing the caller set -- search_path above all -- can change what
 * the engine's statements mean while they run as the hypertable's owner.
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "catalog/partition.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"

#include "chunk.h"

PG_FUNCTION_INFO_V1(telos_ensure_chunks);
PG_FUNCTION_INFO_V1(telos_relocate_default);
PG_FUNCTION_INFO_V1(telos_maintain);
PG_FUNCTION_INFO_V1(telos_drop_chunks);

/*
 * telos_ensure_chunks
 *		telos.ensure_chunks(rel regclass, range_from timestamptz,
 *			range_to timestamptz) RETURNS integer
 *
 * Makes every missing chunk of hypertable rel from the one holding
 * range_from to the one holding range_to, both included, and returns how
 * many it made. Rows the default partition holds for a new chunk move
 * into it. Any role with INSERT on rel may call it; the chunks are made
 * by and belong to rel's owner. Two sessions asking for the same chunk
 * both succeed: the second waits for the first and finds it made.
 */
Datum
telos_ensure_chunks(PG_FUNCTION_ARGS)
{
	Oid			relid = telos_arg_relid(fcinfo, 0, "rel");
	TimestampTz from;
	TimestampTz to;
	int			nestlevel;
	Hypertable *ht;
	int			created;

	telos_arg_notnull(fcinfo, 1, "range_from");
	telos_arg_notnull(fcinfo, 2, "range_to");
	from = PG_GETARG_TIMESTAMPTZ(1);
	to = PG_GETARG_TIMESTAMPTZ(2);

	nestlevel = telos_pin_gucs();
	SPI_connect();
	ht = hypertable_get(relid);
	hypertable_check_insert(ht);
	created = chunk_ensure_range(ht, from, to, true);
	SPI_finish();
	telos_unpin_gucs(nestlevel);
	PG_RETURN_INT32(created);
}

/*
 * telos_relocate_default
 *		telos.relocate_default(rel regclass) RETURNS bigint
 *
 * Moves the rows of rel's default partition into proper chunks, making
 * them as needed, and returns the number of rows moved. Needs INSERT on
 * rel, as ensure_chunks.
 */
Datum
telos_relocate_default(PG_FUNCTION_ARGS)
{
	Oid			relid = telos_arg_relid(fcinfo, 0, "rel");
	int			nestlevel;
	Hypertable *ht;
	int64		moved;
	int			created = 0;

	nestlevel = telos_pin_gucs();
	SPI_connect();
	ht = hypertable_get(relid);
	hypertable_check_insert(ht);
	moved = chunk_relocate_default(ht, &created);
	SPI_finish();
	telos_unpin_gucs(nestlevel);
	PG_RETURN_INT64(moved);
}

/*
 * count_default_rows
 *		Rows left in the default partition of ht (0 without one), counted
 *		as the owner so that every tenant's rows count.
 */
static int64
count_default_rows(const Hypertable *ht)
{
	PartMap    *map;
	TelosUserState save;
	bool		isnull;
	int64		n;
	char	   *name;

	LockRelationOid(ht->relid, AccessShareLock);
	map = chunk_partmap(ht->relid);
	if (!OidIsValid(map->default_relid))
		return 0;
	name = get_rel_name(map->default_relid);
	telos_become(ht->owner, &save);
	telos_spi_exec(psprintf("SELECT count(*) FROM %s",
							quote_qualified_identifier(get_namespace_name(get_rel_namespace(map->default_relid)),
													   name)),
				   0, NULL, NULL, NULL);
	n = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	telos_restore_user(&save);
	return n;
}

/*
 * telos_maintain
 *		telos.maintain(rel regclass, ahead interval DEFAULT '4 weeks')
 *			RETURNS jsonb
 *
 * The maintenance job of a hypertable: makes the chunks from now() to
 * now() + ahead, records partitions attached by hand that are aligned,
 * and empties the default partition into chunks. Returns
 *	  {"hypertable": "public.t", "chunks_created": n, "chunks_adopted": n,
 *	   "rows_relocated": n, "default_rows": n}
 * where default_rows counts what the default partition still holds (rows
 * at infinite times or in the way of an unaligned partition). An
 * unaligned partition in the way is a WARNING, not an error, so the rest
 * of the job is done. Needs INSERT on rel.
 */
Datum
telos_maintain(PG_FUNCTION_ARGS)
{
	Oid			relid = telos_arg_relid(fcinfo, 0, "rel");
	Interval   *ahead;
	int			nestlevel;
	Hypertable *ht;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	TimestampTz until;
	int			created;
	int			adopted;
	int64		moved;
	int64		left;
	StringInfoData buf;

	telos_arg_notnull(fcinfo, 1, "ahead");
	ahead = PG_GETARG_INTERVAL_P(1);

	nestlevel = telos_pin_gucs();
	until = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
													TimestampTzGetDatum(now),
													IntervalPGetDatum(ahead)));
	if (until < now)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ahead must not be negative")));

	SPI_connect();
	ht = hypertable_get(relid);
	hypertable_check_insert(ht);
	created = chunk_ensure_range(ht, now, until, false);
	adopted = chunk_adopt_partitions(ht, false);
	moved = chunk_relocate_default(ht, &created);
	left = count_default_rows(ht);

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"hypertable\": ");
	escape_json(&buf, quote_qualified_identifier(ht->nspname, ht->relname));
	appendStringInfo(&buf, ", \"chunks_created\": %d, \"chunks_adopted\": %d"
					 ", \"rows_relocated\": " INT64_FORMAT ", \"default_rows\": " INT64_FORMAT "}",
					 created, adopted, moved, left);
	SPI_finish();
	telos_unpin_gucs(nestlevel);

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}

/*
 * check_drop_privilege
 *		Dropping a chunk deletes the rows of every tenant at once, bypassing
 *		row-level security: the owner may, and so may a role with DELETE on
 *		the hypertable to whom its row-level security does not apply
 *		(BYPASSRLS, e.g. the retention worker). A role that could only
 *		delete its tenant's rows may not.
 */
static void
check_drop_privilege(const Hypertable *ht)
{
	Oid			user = GetUserId();

	if (pg_class_ownercheck(ht->relid, user))
		return;
	if (pg_class_aclcheck(ht->relid, user, ACL_DELETE) == ACLCHECK_OK &&
		check_enable_rls(ht->relid, InvalidOid, true) != RLS_ENABLED)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to drop chunks of table %s", ht->relname),
			 errdetail("Dropping a chunk deletes the rows of every tenant: it needs ownership of the table, "
					   "or DELETE on it with no row-level security applying (BYPASSRLS).")));
}

/*
 * call_archive_fn
 *		Calls the archive hook fn(chunk) as the current user (the owner) and
 *		ignores its result. fmgr_info does no privilege check, hence the
 *		explicit one; a function dropped since it was set is an error, not a
 *		reason to drop the chunk instead.
 */
static void
call_archive_fn(const Hypertable *ht, Oid chunk)
{
	FmgrInfo	flinfo;

	LOCAL_FCINFO(callinfo, 1);

	if (!SearchSysCacheExists1(PROCOID, ObjectIdGetDatum(ht->archive_fn)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("archive function of hypertable \"%s\" no longer exists",
						ht->relname),
				 errdetail("It had OID %u.", ht->archive_fn),
				 errhint("Set another with telos.set_archive_function(), or NULL to drop expired chunks.")));
	if (pg_proc_aclcheck(ht->archive_fn, GetUserId(), ACL_EXECUTE) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_FUNCTION, get_func_name(ht->archive_fn));

	fmgr_info(ht->archive_fn, &flinfo);
	InitFunctionCallInfoData(*callinfo, &flinfo, 1, InvalidOid, NULL, NULL);
	callinfo->args[0].value = ObjectIdGetDatum(chunk);
	callinfo->args[0].isnull = false;
	(void) FunctionCallInvoke(callinfo);
}

/* Queries the chunks of relid that expire at older_than (SPI_tuptable). */
static uint64
list_expired(Oid relid, TimestampTz older_than)
{
	return telos_spi_exec("SELECT id, relid FROM telos.chunk "
						  "WHERE hypertable = $1 AND relid IS NOT NULL "
						  "AND state IN ('active', 'compressed') AND range_end <= $2 "
						  "ORDER BY range_start",
						  2, (Oid[]) {REGCLASSOID, TIMESTAMPTZOID},
						  (Datum[]) {ObjectIdGetDatum(relid), TimestampTzGetDatum(older_than)},
						  NULL);
}

/*
 * telos_drop_chunks
 *		telos.drop_chunks(rel regclass, older_than timestamptz)
 *			RETURNS SETOF regclass
 *
 * Every chunk of rel whose range ends at or before older_than and whose
 * state is 'active' or 'compressed' is archived -- the hypertable's archive
 * function (telos.set_archive_function) is called with it and its state
 * becomes 'archived' -- or, without one, dropped (DROP TABLE; state
 * 'dropped'). Returns the chunks, oldest first; a dropped chunk's regclass
 * no longer resolves to a name. A relation no longer attached to rel is
 * left alone. See check_drop_privilege for who may.
 *
 * Locks: dropping a partition takes ACCESS EXCLUSIVE on the hypertable
 * (PostgreSQL must stop queries that planned with it); it is taken up
 * front, before the default partition, the order chunk makers use. With an
 * archive function only SHARE UPDATE EXCLUSIVE is taken (the function
 * locks what it changes), so reads and writes go on while it copies.
 */
Datum
telos_drop_chunks(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid = telos_arg_relid(fcinfo, 0, "rel");
	TimestampTz older_than;
	int			nestlevel;
	Hypertable *ht;
	uint64		n;
	int64	   *ids;
	Oid		   *chunks;
	TelosUserState save;

	telos_arg_notnull(fcinfo, 1, "older_than");
	older_than = PG_GETARG_TIMESTAMPTZ(1);
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);

	nestlevel = telos_pin_gucs();
	SPI_connect();
	ht = hypertable_get(relid);
	check_drop_privilege(ht);

	/*
	 * Look without a lock first: the hourly retention job usually finds
	 * nothing, and must not stop the table's readers to learn that. With
	 * candidates, lock and look again (another session may have dropped
	 * some meanwhile).
	 */
	telos_become(ht->owner, &save);
	n = list_expired(relid, older_than);
	if (n > 0)
	{
		LockRelationOid(relid, OidIsValid(ht->archive_fn) ?
						ShareUpdateExclusiveLock : AccessExclusiveLock);
		n = list_expired(relid, older_than);
	}
	ids = palloc(sizeof(int64) * Max(n, 1));
	chunks = palloc(sizeof(Oid) * Max(n, 1));
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;

		ids[i] = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[i],
											 SPI_tuptable->tupdesc, 1, &isnull));
		chunks[i] = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
												   SPI_tuptable->tupdesc, 2, &isnull));
	}

	for (uint64 i = 0; i < n; i++)
	{
		Oid			chunk = chunks[i];
		bool		isnull = false;

		CHECK_FOR_INTERRUPTS();
		if (!get_rel_relispartition(chunk) ||
			get_partition_parent(chunk, true) != relid)
			continue;

		if (OidIsValid(ht->archive_fn))
		{
			/* The hook runs with the caller's settings, as a trigger would. */
			telos_unpin_gucs(nestlevel);
			call_archive_fn(ht, chunk);
			nestlevel = telos_pin_gucs();
			catalog_set_chunk_state(ids[i], "archived",
									SearchSysCacheExists1(RELOID, ObjectIdGetDatum(chunk)) ?
									chunk : InvalidOid);
		}
		else
		{
			/* A compressed or archived chunk is a foreign table. */
			telos_spi_exec(psprintf("DROP %s %s",
									get_rel_relkind(chunk) == RELKIND_FOREIGN_TABLE ?
									"FOREIGN TABLE" : "TABLE",
									quote_qualified_identifier(get_namespace_name(get_rel_namespace(chunk)),
															   get_rel_name(chunk))),
						   0, NULL, NULL, NULL);
			catalog_set_chunk_state(ids[i], "dropped", InvalidOid);
		}
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc,
							 (Datum[]) {ObjectIdGetDatum(chunk)}, &isnull);
	}

	telos_restore_user(&save);
	SPI_finish();
	telos_unpin_gucs(nestlevel);
	return (Datum) 0;
}
