/*-------------------------------------------------------------------------
 *
 * compress.c
 *	  What compressing, decompressing and recompressing share: the debug
 *	  GUC that injects failures for the atomicity tests, finding and
 *	  checking a chunk, making the delta, segment and foreign tables, and
 *	  the dependencies that drop them with the chunk.
 *
 * Who runs what. The caller's privileges are checked in compress_api.c.
 * Tables in _telos_internal are created by the catalog owner (the role
 * that installed the extension, who owns the schema; nobody else has USAGE
 * on it) and then given to the hypertable's owner; everything that reads
 * or writes rows runs as the hypertable's owner, by OID, in C.
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include "access/htup_details.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/tablespace.h"
#include "executor/spi.h"
#include "foreign/foreign.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "partitioning/partdesc.h"
#include "catalog/partition.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "compress.h"
#include "compress_build.h"
#include "compress_int.h"

/* telos.debug_compress_fail_at */
static char *debug_fail_at = NULL;

/* ------------------------------------------------------------------------
 * Failure injection
 * ------------------------------------------------------------------------
 */

static bool
check_fail_at(char **newval, void **extra, GucSource source)
{
	static const char *const ok[] = {
		"", "after_segments", "after_swap", "sleep_after_segments", "sleep_after_swap"
	};

	for (int i = 0; i < (int) lengthof(ok); i++)
		if (strcmp(*newval, ok[i]) == 0)
			return true;
	GUC_check_errdetail("Valid values are '', 'after_segments', 'after_swap', 'sleep_after_segments', 'sleep_after_swap'.");
	return false;
}

void
compress_define_gucs(void)
{
	DefineCustomStringVariable("telos.debug_compress_fail_at",
							   "For tests only: makes compress_chunk, decompress_chunk and recompress_chunk fail or sleep at a given point.",
							   "'after_segments' raises an error once the new rows are written, 'after_swap' once the chunk is swapped; "
							   "the sleep_ variants sleep 60 s there instead, so that a test can cancel or kill the backend.",
							   &debug_fail_at,
							   "",
							   PGC_SUSET,
							   0,
							   check_fail_at, NULL, NULL);
}

void
compress_debug_point(const char *point)
{
	if (debug_fail_at == NULL || debug_fail_at[0] == '\0')
		return;
	if (strcmp(debug_fail_at, point) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("injected failure at %s", point),
				 errdetail("telos.debug_compress_fail_at is set; it is for tests only.")));
	if (strncmp(debug_fail_at, "sleep_", 6) == 0 && strcmp(debug_fail_at + 6, point) == 0)
	{
		ereport(LOG, (errmsg("telos: sleeping at %s (telos.debug_compress_fail_at)", point)));
		for (int i = 0; i < 600; i++)
		{
			CHECK_FOR_INTERRUPTS();
			pg_usleep(100000L);
		}
	}
}

/* ------------------------------------------------------------------------
 * Chunks
 * ------------------------------------------------------------------------
 */

/*
 * read_chunk
 *		The telos.chunk row with relid = chunk (by_id false) or id = id, in
 *		memory context cxt, or NULL.
 */
static ChunkInfo *
read_chunk(Oid chunk, int64 id, bool by_id, MemoryContext cxt)
{
	int			nestlevel = telos_pin_gucs();
	ChunkInfo  *info = NULL;

	SPI_connect();
	if ((by_id ?
		 telos_spi_exec("SELECT id, hypertable, range_start, range_end, state, relid "
						"FROM telos.chunk WHERE id = $1", 1, (Oid[]) {INT8OID},
						(Datum[]) {Int64GetDatum(id)}, NULL) :
		 telos_spi_exec("SELECT id, hypertable, range_start, range_end, state, relid "
						"FROM telos.chunk WHERE relid = $1", 1, (Oid[]) {REGCLASSOID},
						(Datum[]) {ObjectIdGetDatum(chunk)}, NULL)) == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

		info = MemoryContextAllocZero(cxt, sizeof(ChunkInfo));
		info->id = DatumGetInt64(SPI_getbinval(tup, desc, 1, &isnull));
		info->hypertable = DatumGetObjectId(SPI_getbinval(tup, desc, 2, &isnull));
		info->range_start = DatumGetTimestampTz(SPI_getbinval(tup, desc, 3, &isnull));
		info->range_end = DatumGetTimestampTz(SPI_getbinval(tup, desc, 4, &isnull));
		info->state = MemoryContextStrdup(cxt, TextDatumGetCString(SPI_getbinval(tup, desc, 5, &isnull)));
		info->relid = DatumGetObjectId(SPI_getbinval(tup, desc, 6, &isnull));
		if (isnull)
			info->relid = InvalidOid;
	}
	SPI_finish();
	telos_unpin_gucs(nestlevel);
	return info;
}

ChunkInfo *
compress_chunk_lock(const ChunkInfo *info, LOCKMODE mode)
{
	ChunkInfo  *now;

	LockRelationOid(info->hypertable, AccessShareLock);
	LockRelationOid(info->relid, mode);
	now = read_chunk(InvalidOid, info->id, true, CurrentMemoryContext);
	if (now == NULL || !OidIsValid(now->relid) || strcmp(now->state, "dropped") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("chunk \"%s\" was dropped while waiting for its lock",
						get_rel_name(info->relid) ? get_rel_name(info->relid) : "?")));
	return now;
}

ChunkInfo *
compress_chunk_lookup(Oid chunk)
{
	ChunkInfo  *info = read_chunk(chunk, 0, false, CurrentMemoryContext);

	if (info == NULL)
	{
		char	   *name = get_rel_name(chunk);

		if (get_rel_relispartition(chunk))
		{
			Oid			parent = get_partition_parent(chunk, true);

			if (OidIsValid(telos_catalog_relid("hypertable")) &&
				get_default_partition_oid(parent) == chunk)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("\"%s\" is the default partition of \"%s\", not a chunk",
								name, get_rel_name(parent)),
						 errdetail("The default partition holds rows no chunk covers; it cannot be compressed."),
						 errhint("Move its rows into chunks with telos.relocate_default().")));
		}
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("\"%s\" is not a chunk of a hypertable", name ? name : "?"),
				 errhint("telos.chunks lists the chunks.")));
	}
	return info;
}

void
compress_check_hypertable(Oid hypertable)
{
	int			nestlevel = telos_pin_search_path();
	char	   *name = get_rel_name(hypertable);

	SPI_connect();
	if (telos_spi_exec("SELECT i.indexrelid::regclass::text FROM pg_index i "
					   "WHERE i.indrelid = $1 AND (i.indisunique OR i.indisexclusion) "
					   "ORDER BY 1 LIMIT 1", 1, (Oid[]) {OIDOID},
					   (Datum[]) {ObjectIdGetDatum(hypertable)}, NULL) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot compress chunks of \"%s\": it has a unique index", name),
				 errdetail("Index %s is unique (or an exclusion constraint); a compressed chunk cannot enforce it.",
						   SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1)),
				 errhint("Drop the unique index (and any primary key) to compress the hypertable's chunks.")));
	if (telos_spi_exec("SELECT conname::text FROM pg_constraint "
					   "WHERE conrelid = $1 AND contype = 'f' ORDER BY 1 LIMIT 1",
					   1, (Oid[]) {OIDOID},
					   (Datum[]) {ObjectIdGetDatum(hypertable)}, NULL) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("cannot compress chunks of \"%s\": it has a foreign key", name),
				 errdetail("Constraint \"%s\" is a foreign key; a compressed chunk cannot have one.",
						   SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1))));
	SPI_finish();
	telos_unpin_gucs(nestlevel);
}

/* ------------------------------------------------------------------------
 * DDL
 * ------------------------------------------------------------------------
 */

void
compress_exec_as(Oid role, const char *sql)
{
	TelosUserState save;

	telos_become(role, &save);
	(void) telos_spi_exec(sql, 0, NULL, NULL, NULL);
	telos_restore_user(&save);
}

void
compress_catalog_exec(const char *sql, int nargs, Oid *argtypes, Datum *values,
					  const char *nulls)
{
	TelosUserState save;

	telos_become(telos_catalog_owner("compressed_chunk"), &save);
	(void) telos_spi_exec(sql, nargs, argtypes, values, nulls);
	telos_restore_user(&save);
}

Oid
compress_internal_nsp(void)
{
	Oid			nsp = get_namespace_oid(COMPRESS_INTERNAL_SCHEMA, true);

	if (!OidIsValid(nsp))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("schema %s is missing", COMPRESS_INTERNAL_SCHEMA),
				 errhint("Update the extension (ALTER EXTENSION telos UPDATE).")));
	return nsp;
}

char *
compress_free_name(Oid nspid, const char *base, const char *label)
{
	for (int i = 1;; i++)
	{
		char	   *lab = i == 1 ? pstrdup(label) : psprintf("%s%d", label, i);
		char	   *name = makeObjectName(base, NULL, lab);

		if (!OidIsValid(get_relname_relid(name, nspid)))
			return name;
	}
}

/* Runs sql as the catalog owner, then gives table qname to owner. */
static void
create_as_catalog_owner(const char *sql, const char *keyword, const char *qname, Oid owner)
{
	Oid			catowner = telos_catalog_owner("compressed_chunk");

	compress_exec_as(catowner, sql);
	compress_exec_as(catowner, psprintf("ALTER %s %s OWNER TO %s", keyword, qname,
										quote_identifier(GetUserNameFromId(owner, false))));
}

Oid
compress_create_delta(const Hypertable *ht, const char *chunkname, Oid parent)
{
	Oid			nsp = compress_internal_nsp();
	char	   *name = compress_free_name(nsp, chunkname, "delta");
	char	   *qname = quote_qualified_identifier(COMPRESS_INTERNAL_SCHEMA, name);
	Oid			relid;

	/* Generated columns keep their stored values: the rows come back as they were. */
	create_as_catalog_owner(psprintf("CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
									 "INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION)",
									 qname, quote_qualified_identifier(ht->nspname, ht->relname)),
							"TABLE", qname, ht->owner);
	relid = get_relname_relid(name, nsp);
	if (!OidIsValid(relid))
		elog(ERROR, "delta table \"%s\" not found after CREATE TABLE", name);
	if (OidIsValid(parent))
		compress_set_parent_table(relid, parent);
	return relid;
}

Oid
compress_create_segments(const Hypertable *ht, const SegLayout *layout,
						 const char *chunkname)
{
	Oid			nsp = compress_internal_nsp();
	char	   *name = compress_free_name(nsp, chunkname, "seg");
	char	   *qname = quote_qualified_identifier(COMPRESS_INTERNAL_SCHEMA, name);
	TupleDesc	desc = layout->segdesc;
	StringInfoData sql;
	Oid			relid;

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE TABLE %s (", qname);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		appendStringInfo(&sql, "%s%s %s", i > 0 ? ", " : "",
						 quote_identifier(NameStr(att->attname)),
						 format_type_with_typemod(att->atttypid, att->atttypmod));
		if (OidIsValid(att->attcollation) &&
			att->attcollation != get_typcollation(att->atttypid))
			appendStringInfo(&sql, " COLLATE %s", generate_collation_name(att->attcollation));
		if (i >= layout->nsegby && i < layout->nsegby + 3)
			appendStringInfoString(&sql, " NOT NULL");
	}
	appendStringInfoChar(&sql, ')');
	create_as_catalog_owner(sql.data, "TABLE", qname, ht->owner);

	/* Blobs are compressed already: no pglz attempts, out of line when large. */
	if (layout->nblob > 0)
	{
		resetStringInfo(&sql);
		appendStringInfo(&sql, "ALTER TABLE %s ", qname);
		for (int i = layout->nsegby + SEG_NMETA; i < desc->natts; i++)
			appendStringInfo(&sql, "%sALTER COLUMN %s SET STORAGE EXTERNAL",
							 i > layout->nsegby + SEG_NMETA ? ", " : "",
							 quote_identifier(NameStr(TupleDescAttr(desc, i)->attname)));
		compress_exec_as(telos_catalog_owner("compressed_chunk"), sql.data);
	}
	relid = get_relname_relid(name, nsp);
	if (!OidIsValid(relid))
		elog(ERROR, "segment table \"%s\" not found after CREATE TABLE", name);
	return relid;
}

void
compress_index_segments(Oid segments, const SegLayout *layout)
{
	StringInfoData sql;

	initStringInfo(&sql);
	appendStringInfo(&sql, "CREATE INDEX ON %s (", telos_qualified_relname(segments));
	for (int i = 0; i < layout->nsegby; i++)
		appendStringInfo(&sql, "%s, ",
						 quote_identifier(NameStr(TupleDescAttr(layout->segdesc, i)->attname)));
	appendStringInfo(&sql, "%s)", SEG_MIN_TIME_NAME);
	compress_exec_as(telos_catalog_owner("compressed_chunk"), sql.data);
}

/*
 * column_definitions
 *		The column list of CREATE FOREIGN TABLE for the hypertable's live
 *		columns (LIKE is not allowed there): type, collation, NOT NULL,
 *		default or generation expression, and its inheritable CHECK
 *		constraints, which ATTACH PARTITION requires. Names come out
 *		qualified: search_path is pinned to pg_catalog.
 */
static char *
column_definitions(Oid relid)
{
	StringInfoData buf;

	initStringInfo(&buf);
	telos_spi_exec("SELECT format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)) "
				   " || CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation "
				   "        THEN ' COLLATE ' || (SELECT format('%I.%I', n.nspname, c.collname) "
				   "                              FROM pg_collation c JOIN pg_namespace n ON n.oid = c.collnamespace "
				   "                             WHERE c.oid = a.attcollation) ELSE '' END "
				   " || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END "
				   " || coalesce(CASE WHEN a.attgenerated = 's' "
				   "                  THEN ' GENERATED ALWAYS AS (' || pg_get_expr(d.adbin, d.adrelid) || ') STORED' "
				   "                  ELSE ' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid) END, '') "
				   "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
				   "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
				   "WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped "
				   "ORDER BY a.attnum", 1, (Oid[]) {OIDOID},
				   (Datum[]) {ObjectIdGetDatum(relid)}, NULL);
	for (uint64 i = 0; i < SPI_processed; i++)
		appendStringInfo(&buf, "%s%s", i > 0 ? ", " : "",
						 SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
	telos_spi_exec("SELECT format('CONSTRAINT %I %s', conname, pg_get_constraintdef(oid)) "
				   "FROM pg_constraint WHERE conrelid = $1 AND contype = 'c' AND NOT connoinherit "
				   "ORDER BY conname", 1, (Oid[]) {OIDOID},
				   (Datum[]) {ObjectIdGetDatum(relid)}, NULL);
	for (uint64 i = 0; i < SPI_processed; i++)
		appendStringInfo(&buf, ", %s",
						 SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1));
	return buf.data;
}

Oid
compress_create_foreign(const Hypertable *ht, const char *chunkname)
{
	char	   *name = compress_free_name(ht->nspid, chunkname, "compressed");
	char	   *qname = quote_qualified_identifier(ht->nspname, name);
	Oid			relid;

	if (get_foreign_server_oid(COMPRESS_SERVER_NAME, true) == InvalidOid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("foreign server \"%s\" does not exist", COMPRESS_SERVER_NAME),
				 errdetail("Compressed chunks are foreign tables of that server, which the extension creates."),
				 errhint("Update the extension (ALTER EXTENSION telos UPDATE).")));
	create_as_catalog_owner(psprintf("CREATE FOREIGN TABLE %s (%s) SERVER %s",
									 qname, column_definitions(ht->relid),
									 quote_identifier(COMPRESS_SERVER_NAME)),
							"FOREIGN TABLE", qname, ht->owner);
	relid = get_relname_relid(name, ht->nspid);
	if (!OidIsValid(relid))
		elog(ERROR, "foreign table \"%s\" not found after CREATE FOREIGN TABLE", name);
	return relid;
}

Oid
compress_create_heap(const Hypertable *ht, const char *chunkname)
{
	char	   *name = compress_free_name(ht->nspid, chunkname, "heap");
	Oid			spcid = get_rel_tablespace(ht->relid);
	StringInfoData sql;
	Oid			relid;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
					 "INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION)",
					 quote_qualified_identifier(ht->nspname, name),
					 quote_qualified_identifier(ht->nspname, ht->relname));
	if (OidIsValid(spcid))
		appendStringInfo(&sql, " TABLESPACE %s", quote_identifier(get_tablespace_name(spcid)));
	compress_exec_as(ht->owner, sql.data);
	relid = get_relname_relid(name, ht->nspid);
	if (!OidIsValid(relid))
		elog(ERROR, "table \"%s\" not found after CREATE TABLE", name);
	return relid;
}

void
compress_set_parent_table(Oid internal_relid, Oid parent)
{
	ObjectAddress dependent;
	ObjectAddress referenced;

	ObjectAddressSet(dependent, RelationRelationId, internal_relid);
	ObjectAddressSet(referenced, RelationRelationId, parent);
	(void) deleteDependencyRecordsForClass(RelationRelationId, internal_relid,
										   RelationRelationId, DEPENDENCY_AUTO);
	recordDependencyOn(&dependent, &referenced, DEPENDENCY_AUTO);
	CommandCounterIncrement();
}

int64
compress_relation_bytes(Oid relid)
{
	return DatumGetInt64(DirectFunctionCall1(pg_total_relation_size,
											 ObjectIdGetDatum(relid)));
}
