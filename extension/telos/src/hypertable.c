/*-------------------------------------------------------------------------
 *
 * hypertable.c
 *	  The hypertable catalog (telos.hypertable, telos.chunk) and the SQL
 *	  functions that register and describe a hypertable: create_hypertable,
 *	  set_archive_function and chunk_range. (The sql_drop event trigger
 *	  that keeps the catalog in step with DROP TABLE is PL/pgSQL, in
 *	  sql/parts/10_hypertable.sql, so that DROP keeps working even if this
 *	  library cannot be loaded.)
 *
 * Who does what. A caller needs only the privilege that the operation
 * stands for (owner to register a table, INSERT to make chunks, ...); the
 * work is then done as the hypertable's owner, so chunks belong to the
 * owner whoever triggered them, and the catalog rows are written as the
 * catalog's owner, so no role needs privileges on the catalog. Both
 * switches happen in C (telos_become, util.c) with search_path pinned, the
 * way PostgreSQL runs maintenance commands as a table's owner.
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_attribute.h"
#include "catalog/pg_class.h"
#include "catalog/pg_opclass.h"
#include "catalog/pg_partitioned_table.h"
#include "catalog/pg_proc.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/partcache.h"
#include "utils/regproc.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "chunk.h"
#include "hypertable.h"

PG_FUNCTION_INFO_V1(telos_create_hypertable);
PG_FUNCTION_INFO_V1(telos_set_archive_function);
PG_FUNCTION_INFO_V1(telos_chunk_range);

/* ------------------------------------------------------------------------
 * Catalog
 * ------------------------------------------------------------------------
 */

/*
 * catalog_exec
 *		telos_spi_exec of a statement on telos.hypertable / telos.chunk as
 *		their owner: callers need no privilege on the catalog. SPI connected
 *		and the settings pinned (telos_pin_gucs) by the caller.
 */
static void
catalog_exec(const char *sql, int nargs, Oid *argtypes, Datum *values,
			 const char *nulls)
{
	TelosUserState save;

	telos_become(telos_catalog_owner("chunk"), &save);
	(void) telos_spi_exec(sql, nargs, argtypes, values, nulls);
	telos_restore_user(&save);
}

Hypertable *
hypertable_get(Oid relid)
{
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		values[1] = {ObjectIdGetDatum(relid)};
	Hypertable *ht;
	HeapTuple	tup;
	Form_pg_class classform;
	Form_pg_partitioned_table partform;
	bool		isnull;
	Datum		d;

	telos_spi_exec("SELECT chunk_interval, origin, archive_fn FROM telos.hypertable "
				   "WHERE relid = $1", 1, argtypes, values, NULL);
	if (SPI_processed == 0)
	{
		char	   *name = get_rel_name(relid);

		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("table \"%s\" is not a hypertable", name ? name : "?"),
				 errhint("Make it one with telos.create_hypertable().")));
	}

	ht = palloc0(sizeof(Hypertable));
	ht->relid = relid;

	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	ht->interval_usecs = chunk_interval_usecs(DatumGetIntervalP(d), "chunk_interval");
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
	ht->origin = DatumGetTimestampTz(d);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
	ht->archive_fn = isnull ? InvalidOid : DatumGetObjectId(d);

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	classform = (Form_pg_class) GETSTRUCT(tup);
	ht->owner = classform->relowner;
	ht->nspid = classform->relnamespace;
	ht->relname = pstrdup(NameStr(classform->relname));
	ReleaseSysCache(tup);
	ht->nspname = get_namespace_name(ht->nspid);

	/*
	 * The partition key is read from the catalog each time rather than
	 * stored, so a renamed column keeps working.
	 */
	tup = SearchSysCache1(PARTRELID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("hypertable \"%s\" is no longer partitioned", ht->relname)));
	partform = (Form_pg_partitioned_table) GETSTRUCT(tup);
	ht->time_attno = partform->partattrs.values[0];
	ReleaseSysCache(tup);
	ht->time_column = get_attname(relid, ht->time_attno, false);
	return ht;
}

void
hypertable_check_insert(const Hypertable *ht)
{
	AclResult	aclresult;

	aclresult = pg_class_aclcheck(ht->relid, GetUserId(), ACL_INSERT);
	if (aclresult != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", ht->relname),
				 errdetail("Making chunks of a hypertable needs INSERT on it.")));
}

void
catalog_record_chunk(const Hypertable *ht, Oid chunk, TimestampTz start,
					 TimestampTz end)
{
	Oid			argtypes[4] = {REGCLASSOID, REGCLASSOID, TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[4];

	values[0] = ObjectIdGetDatum(ht->relid);
	values[1] = ObjectIdGetDatum(chunk);
	values[2] = TimestampTzGetDatum(start);
	values[3] = TimestampTzGetDatum(end);

	/* A relation is the chunk of one range only (re-attached elsewhere). */
	catalog_exec("UPDATE telos.chunk SET relid = NULL, state = 'dropped' "
				 "WHERE relid = $2 AND NOT (hypertable = $1 AND range_start = $3)",
				 3, argtypes, values, NULL);
	catalog_exec("INSERT INTO telos.chunk (hypertable, relid, range_start, range_end, state) "
				 "VALUES ($1, $2, $3, $4, 'active') "
				 "ON CONFLICT (hypertable, range_start) DO UPDATE "
				 "SET relid = excluded.relid, range_end = excluded.range_end, "
				 "state = 'active', created_at = now()",
				 4, argtypes, values, NULL);
}

void
catalog_set_chunk_state(int64 id, const char *state, Oid relid)
{
	Oid			argtypes[3] = {INT8OID, TEXTOID, REGCLASSOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', ' '};

	values[0] = Int64GetDatum(id);
	values[1] = CStringGetTextDatum(state);
	values[2] = ObjectIdGetDatum(relid);
	if (!OidIsValid(relid))
		nulls[2] = 'n';

	catalog_exec("UPDATE telos.chunk SET state = $2, relid = $3 WHERE id = $1",
				 3, argtypes, values, nulls);
}

/* ------------------------------------------------------------------------
 * create_hypertable
 * ------------------------------------------------------------------------
 */

/*
 * check_partition_key
 *		Errors unless rel is partitioned by RANGE on exactly the column
 *		time_column, of type timestamptz with its default ordering. Returns
 *		the column's number.
 */
static AttrNumber
check_partition_key(Relation rel, const char *time_column)
{
	AttrNumber	attno;
	Oid			atttype;
	PartitionKey key;
	Oid			opclass;

	attno = get_attnum(RelationGetRelid(rel), time_column);
	if (attno == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						time_column, RelationGetRelationName(rel))));
	if (attno < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot use system column \"%s\" as the time column", time_column)));

	atttype = get_atttype(RelationGetRelid(rel), attno);
	if (atttype != TIMESTAMPTZOID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("time column \"%s\" has type %s, not timestamp with time zone",
						time_column, format_type_be(atttype)),
				 errhint("Hypertables are partitioned on a timestamptz column.")));

	key = RelationGetPartitionKey(rel);
	if (key->strategy != PARTITION_STRATEGY_RANGE || key->partnatts != 1 ||
		key->partattrs[0] != attno)
	{
		Datum		def = DirectFunctionCall1(pg_get_partkeydef,
											  ObjectIdGetDatum(RelationGetRelid(rel)));

		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("table \"%s\" is not partitioned by range on column \"%s\"",
						RelationGetRelationName(rel), time_column),
				 errdetail("Its partition key is %s.", TextDatumGetCString(def)),
				 errhint("Create it with PARTITION BY RANGE (%s).",
						 quote_identifier(time_column))));
	}

	/* Chunk geometry assumes the ordinary order of timestamps. */
	opclass = GetDefaultOpClass(TIMESTAMPTZOID, BTREE_AM_OID);
	if (!OidIsValid(opclass) || key->partopfamily[0] != get_opclass_family(opclass))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_TABLE_DEFINITION),
				 errmsg("table \"%s\" is partitioned with a non-default operator class",
						RelationGetRelationName(rel))));
	return attno;
}

/* Whether column attno of relid is marked NOT NULL. */
static bool
column_is_not_null(Oid relid, AttrNumber attno)
{
	HeapTuple	tup = SearchSysCache2(ATTNUM, ObjectIdGetDatum(relid),
									  Int16GetDatum(attno));
	bool		notnull;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for attribute %d of relation %u", attno, relid);
	notnull = ((Form_pg_attribute) GETSTRUCT(tup))->attnotnull;
	ReleaseSysCache(tup);
	return notnull;
}

/*
 * check_table_kind
 *		Errors unless rel is a permanent partitioned table that is not
 *		itself a partition.
 */
static void
check_table_kind(Relation rel)
{
	const char *name = RelationGetRelationName(rel);

	switch (rel->rd_rel->relkind)
	{
		case RELKIND_PARTITIONED_TABLE:
			break;
		case RELKIND_RELATION:
		case RELKIND_FOREIGN_TABLE:
		case RELKIND_MATVIEW:
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("table \"%s\" is not partitioned", name),
					 errhint("Create it with PARTITION BY RANGE on its time column.")));
			break;
		default:
			ereport(ERROR,
					(errcode(ERRCODE_WRONG_OBJECT_TYPE),
					 errmsg("\"%s\" is not a table", name)));
	}
	if (rel->rd_rel->relispartition)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("table \"%s\" is a partition of another table", name),
				 errhint("Make the root of the partition tree a hypertable.")));
	if (rel->rd_rel->relpersistence == RELPERSISTENCE_TEMP)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("temporary table \"%s\" cannot be a hypertable", name)));
}

/*
 * telos_create_hypertable
 *		telos.create_hypertable(rel regclass, time_column name,
 *			chunk_interval interval DEFAULT '7 days',
 *			if_not_exists boolean DEFAULT false,
 *			origin timestamptz DEFAULT '2000-01-03 00:00:00+00') RETURNS void
 *
 * Registers rel, a table PARTITION BY RANGE (time_column) that the caller
 * owns, as a hypertable. Existing partitions are adopted as chunks when
 * each is exactly one aligned range (else an error says which one is not),
 * the time column is made NOT NULL, a default partition is made when there
 * is none, and the rows of the default partition are moved into chunks.
 */
Datum
telos_create_hypertable(PG_FUNCTION_ARGS)
{
	Oid			relid = telos_arg_relid(fcinfo, 0, "rel");
	char	   *time_column;
	Interval   *interval;
	bool		if_not_exists;
	TimestampTz origin;
	Relation	rel;
	AttrNumber	attno;
	int			nestlevel;
	Hypertable *ht;
	TelosUserState save;
	Oid			argtypes[4] = {REGCLASSOID, NAMEOID, INTERVALOID, TIMESTAMPTZOID};
	Datum		values[4];
	int			created = 0;

	telos_arg_notnull(fcinfo, 1, "time_column");
	telos_arg_notnull(fcinfo, 2, "chunk_interval");
	telos_arg_notnull(fcinfo, 3, "if_not_exists");
	time_column = NameStr(*PG_GETARG_NAME(1));
	interval = PG_GETARG_INTERVAL_P(2);
	if_not_exists = PG_GETARG_BOOL(3);
	if (PG_ARGISNULL(4))
		origin = DatumGetTimestampTz(DirectFunctionCall3(timestamptz_in,
														 CStringGetDatum(HYPERTABLE_DEFAULT_ORIGIN_TEXT),
														 ObjectIdGetDatum(InvalidOid),
														 Int32GetDatum(-1)));
	else
		origin = PG_GETARG_TIMESTAMPTZ(4);
	(void) chunk_interval_usecs(interval, "chunk_interval");
	if (TIMESTAMP_NOT_FINITE(origin))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("origin must be a finite timestamp")));

	/* Ownership before any lock, so a stranger cannot block the table. */
	telos_require_owner(relid);

	/*
	 * SHARE UPDATE EXCLUSIVE: serialises with concurrent create_hypertable
	 * and chunk makers of this table; writers and readers go on.
	 */
	rel = relation_open(relid, ShareUpdateExclusiveLock);
	check_table_kind(rel);
	attno = check_partition_key(rel, time_column);

	nestlevel = telos_pin_gucs();
	SPI_connect();

	values[0] = ObjectIdGetDatum(relid);
	if (telos_spi_exec("SELECT 1 FROM telos.hypertable WHERE relid = $1",
					   1, argtypes, values, NULL) > 0)
	{
		if (!if_not_exists)
			ereport(ERROR,
					(errcode(ERRCODE_DUPLICATE_OBJECT),
					 errmsg("table \"%s\" is already a hypertable",
							RelationGetRelationName(rel))));
		ereport(NOTICE,
				(errmsg("table \"%s\" is already a hypertable, skipping",
						RelationGetRelationName(rel))));
		SPI_finish();
		telos_unpin_gucs(nestlevel);
		relation_close(rel, NoLock);
		PG_RETURN_VOID();
	}

	/* Chunks are made in the table's schema, as its owner. */
	if (pg_namespace_aclcheck(RelationGetNamespace(rel), rel->rd_rel->relowner,
							  ACL_CREATE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("owner of table \"%s\" has no CREATE privilege on schema \"%s\"",
						RelationGetRelationName(rel),
						get_namespace_name(RelationGetNamespace(rel))),
				 errdetail("Chunks are created in the schema of the hypertable, as its owner.")));

	values[1] = NameGetDatum(PG_GETARG_NAME(1));
	values[2] = IntervalPGetDatum(interval);
	values[3] = TimestampTzGetDatum(origin);
	catalog_exec("INSERT INTO telos.hypertable (relid, time_column, chunk_interval, origin) "
				 "VALUES ($1, $2, $3, $4)", 4, argtypes, values, NULL);

	ht = hypertable_get(relid);
	Assert(ht->time_attno == attno);
	relation_close(rel, NoLock);

	/* Existing partitions become chunks, or the call fails. */
	(void) chunk_adopt_partitions(ht, true);

	telos_become(ht->owner, &save);

	/*
	 * Rows need a time to have a chunk; TimescaleDB makes the column NOT
	 * NULL too. (Checks existing rows; fails if one is NULL.)
	 */
	if (!column_is_not_null(relid, attno))
	{
		StringInfoData sql;

		initStringInfo(&sql);
		appendStringInfo(&sql, "ALTER TABLE %s ALTER COLUMN %s SET NOT NULL",
						 quote_qualified_identifier(ht->nspname, ht->relname),
						 quote_identifier(ht->time_column));
		telos_spi_exec(sql.data, 0, NULL, NULL, NULL);
	}

	if (!OidIsValid(chunk_partmap(relid)->default_relid))
		(void) chunk_create_default(ht);
	telos_restore_user(&save);

	(void) chunk_relocate_default(ht, &created);

	SPI_finish();
	telos_unpin_gucs(nestlevel);
	PG_RETURN_VOID();
}

/* ------------------------------------------------------------------------
 * set_archive_function
 * ------------------------------------------------------------------------
 */

/*
 * telos_set_archive_function
 *		telos.set_archive_function(rel regclass, archive_fn regprocedure)
 *			RETURNS void
 *
 * Sets (NULL: clears) the function telos.drop_chunks() calls with each
 * expired chunk instead of dropping it. It must take one regclass argument
 * and return a single value (its result is ignored), and the owner of the
 * hypertable must be allowed to execute it: it runs as that owner. Only
 * the owner of the hypertable may set it.
 */
Datum
telos_set_archive_function(PG_FUNCTION_ARGS)
{
	Oid			relid = telos_arg_relid(fcinfo, 0, "rel");
	Oid			fn = PG_ARGISNULL(1) ? InvalidOid : PG_GETARG_OID(1);
	int			nestlevel;
	Hypertable *ht;
	Oid			argtypes[2] = {REGCLASSOID, REGPROCEDUREOID};
	Datum		values[2];
	char		nulls[2] = {' ', ' '};

	telos_require_owner(relid);

	nestlevel = telos_pin_gucs();
	SPI_connect();
	ht = hypertable_get(relid);

	if (OidIsValid(fn))
	{
		HeapTuple	tup = telos_proc_tuple(fn);
		Form_pg_proc proc;

		proc = (Form_pg_proc) GETSTRUCT(tup);
		if (proc->prokind != PROKIND_FUNCTION || proc->proretset ||
			proc->pronargs != 1 || proc->proargtypes.values[0] != REGCLASSOID)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_FUNCTION_DEFINITION),
					 errmsg("archive function %s must be a function of one regclass argument returning a single value",
							format_procedure(fn))));
		ReleaseSysCache(tup);
		if (pg_proc_aclcheck(fn, ht->owner, ACL_EXECUTE) != ACLCHECK_OK)
			ereport(ERROR,
					(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
					 errmsg("owner of table \"%s\" may not execute %s",
							ht->relname, format_procedure(fn)),
					 errdetail("The archive function runs as the owner of the hypertable.")));
	}

	values[0] = ObjectIdGetDatum(relid);
	values[1] = ObjectIdGetDatum(fn);
	if (!OidIsValid(fn))
		nulls[1] = 'n';
	catalog_exec("UPDATE telos.hypertable SET archive_fn = $2 WHERE relid = $1",
				 2, argtypes, values, nulls);

	SPI_finish();
	telos_unpin_gucs(nestlevel);
	PG_RETURN_VOID();
}

/* ------------------------------------------------------------------------
 * chunk_range
 * ------------------------------------------------------------------------
 */

/*
 * telos_chunk_range
 *		telos.chunk_range(rel regclass, ts timestamptz)
 *			RETURNS TABLE(range_start timestamptz, range_end timestamptz)
 *
 * The aligned range of the chunk of hypertable rel that holds ts, whether
 * or not that chunk exists. An infinite ts, or one whose range would pass
 * the limits of timestamptz, has none (22008).
 */
Datum
telos_chunk_range(PG_FUNCTION_ARGS)
{
	Oid			relid = telos_arg_relid(fcinfo, 0, "rel");
	TimestampTz ts;
	TimestampTz start;
	TimestampTz end;
	Hypertable *ht;
	int			nestlevel;
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	telos_arg_notnull(fcinfo, 1, "ts");
	ts = PG_GETARG_TIMESTAMPTZ(1);

	nestlevel = telos_pin_gucs();
	SPI_connect();
	ht = hypertable_get(relid);
	if (!chunk_align(ht, ts, &start, &end))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp %s has no chunk", timestamptz_to_str(ts)),
				 errdetail("Infinite timestamps and those whose chunk would pass the limits of timestamptz stay in the default partition.")));
	SPI_finish();
	telos_unpin_gucs(nestlevel);

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");
	values[0] = TimestampTzGetDatum(start);
	values[1] = TimestampTzGetDatum(end);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc),
													  values, nulls)));
}
