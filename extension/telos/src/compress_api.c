/*-------------------------------------------------------------------------
 *
 * compress_api.c
 *	  The SQL functions of compression: telos.compress_chunk,
 *	  telos.decompress_chunk, telos.recompress_chunk, telos.set_compression
 *	  and telos.chunk_column_stats. Arguments and privileges are checked
 *	  here; the work is in compress_ops.c.
 *
 * Who may. Compressing, decompressing and recompressing read and rewrite
 * the rows of every tenant of a chunk at once: the hypertable's owner may,
 * and so may a role with SELECT, INSERT and DELETE on it to whom its
 * row-level security does not apply (BYPASSRLS: the compression policy's
 * telos_worker). Setting how a hypertable is compressed is its owner's.
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/detoast.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/lockdefs.h"
#include "parser/parse_oper.h"
#include "utils/acl.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/tuplestore.h"

#include "colblob.h"
#include "compress_int.h"

PG_FUNCTION_INFO_V1(telos_compress_chunk);
PG_FUNCTION_INFO_V1(telos_decompress_chunk);
PG_FUNCTION_INFO_V1(telos_recompress_chunk);
PG_FUNCTION_INFO_V1(telos_set_compression);
PG_FUNCTION_INFO_V1(telos_chunk_column_stats);

/*
 * check_privilege
 *		Errors (42501) unless the current user may compress and decompress
 *		the chunks of hypertable (see the file header).
 */
static void
check_privilege(Oid hypertable)
{
	Oid			user = GetUserId();

	if (pg_class_ownercheck(hypertable, user))
		return;
	if (pg_class_aclcheck(hypertable, user, ACL_SELECT | ACL_INSERT | ACL_DELETE) == ACLCHECK_OK &&
		check_enable_rls(hypertable, InvalidOid, true) != RLS_ENABLED)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to compress or decompress chunks of table %s",
					get_rel_name(hypertable)),
			 errdetail("It rewrites the rows of every tenant: it needs ownership of the table, "
					   "or SELECT, INSERT and DELETE on it with no row-level security applying (BYPASSRLS).")));
}

/* The boolean argument argno, which must not be NULL. */
static bool
arg_bool(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	telos_arg_notnull(fcinfo, argno, argname);
	return PG_GETARG_BOOL(argno);
}

/*
 * telos_compress_chunk
 *		telos.compress_chunk(chunk regclass, if_not_compressed boolean
 *			DEFAULT true) RETURNS regclass
 *
 * Compresses a heap chunk: its rows become segment rows and the chunk a
 * foreign table of server telos_store with the same name and range.
 * Returns the chunk (its new OID). A chunk already compressed or archived
 * is skipped with a NOTICE, or an error without if_not_compressed.
 */
Datum
telos_compress_chunk(PG_FUNCTION_ARGS)
{
	Oid			relid = telos_arg_relid(fcinfo, 0, "chunk");
	bool		if_not = arg_bool(fcinfo, 1, "if_not_compressed");
	ChunkInfo  *info = compress_chunk_lookup(relid);

	check_privilege(info->hypertable);
	/* Another session may compress it meanwhile: decide after the lock. */
	if (strcmp(info->state, "active") == 0)
		info = compress_chunk_lock(info, ExclusiveLock);
	if (strcmp(info->state, "active") != 0)
	{
		if (!if_not)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("chunk \"%s\" is already %s", get_rel_name(info->relid), info->state)));
		ereport(NOTICE,
				(errmsg("chunk \"%s\" is already %s, skipping", get_rel_name(info->relid), info->state)));
		PG_RETURN_OID(info->relid);
	}
	PG_RETURN_OID(compress_chunk_rel(info));
}

/*
 * telos_decompress_chunk
 *		telos.decompress_chunk(chunk regclass, if_compressed boolean
 *			DEFAULT true) RETURNS regclass
 *
 * Turns a compressed chunk back into a heap table with the hypertable's
 * indexes and row-level security, its late (delta) rows included. A heap
 * chunk is skipped with a NOTICE, or an error without if_compressed; an
 * archived chunk is an error (telos.restore_chunk brings it back).
 */
Datum
telos_decompress_chunk(PG_FUNCTION_ARGS)
{
	Oid			relid = telos_arg_relid(fcinfo, 0, "chunk");
	bool		if_compressed = arg_bool(fcinfo, 1, "if_compressed");
	ChunkInfo  *info = compress_chunk_lookup(relid);

	check_privilege(info->hypertable);
	if (strcmp(info->state, "compressed") == 0)
		info = compress_chunk_lock(info, ExclusiveLock);
	if (strcmp(info->state, "archived") == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("chunk \"%s\" is archived", get_rel_name(info->relid)),
				 errhint("Bring it back with telos.restore_chunk('%s').",
						 telos_qualified_relname(info->relid))));
	if (strcmp(info->state, "compressed") != 0)
	{
		if (!if_compressed)
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("chunk \"%s\" is not compressed", get_rel_name(info->relid))));
		ereport(NOTICE,
				(errmsg("chunk \"%s\" is not compressed, skipping", get_rel_name(info->relid))));
		PG_RETURN_OID(info->relid);
	}
	PG_RETURN_OID(decompress_chunk_rel(info));
}

/*
 * telos_recompress_chunk
 *		telos.recompress_chunk(chunk regclass) RETURNS bigint
 *
 * Merges the rows written into a compressed chunk since it was compressed
 * (its delta table) into its segments, and returns how many it merged (0:
 * nothing to do, nothing rewritten).
 */
Datum
telos_recompress_chunk(PG_FUNCTION_ARGS)
{
	Oid			relid = telos_arg_relid(fcinfo, 0, "chunk");
	ChunkInfo  *info = compress_chunk_lookup(relid);

	check_privilege(info->hypertable);
	if (strcmp(info->state, "compressed") == 0)
		info = compress_chunk_lock(info, ExclusiveLock);
	if (strcmp(info->state, "compressed") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("chunk \"%s\" is not compressed", get_rel_name(info->relid)),
				 strcmp(info->state, "archived") == 0 ?
				 errdetail("It is archived.") : 0));
	PG_RETURN_INT64(recompress_chunk_rel(info));
}

/*
 * telos_set_compression
 *		telos.set_compression(rel regclass, segmentby name[] DEFAULT NULL,
 *			stats_column name DEFAULT NULL) RETURNS void
 *
 * Sets how the chunks of hypertable rel are compressed from now on:
 * segmentby (NULL: those of tenant_id and metric_type that exist; '{}':
 * none), ordered by the time column, and the stats column (NULL: "value"
 * when it is double precision; '': none). Columns are checked now.
 * Chunks compressed before keep their layout until recompressed.
 */
Datum
telos_set_compression(PG_FUNCTION_ARGS)
{
	Oid			relid = telos_arg_relid(fcinfo, 0, "rel");
	int			nestlevel;
	Hypertable *ht;
	Datum	   *names = NULL;
	bool	   *nulls = NULL;
	int			nnames = 0;
	Datum	   *segby;
	int			nsegby = 0;
	char	   *stats = NULL;
	ArrayType  *arr;

	telos_require_owner(relid);
	nestlevel = telos_pin_gucs();
	SPI_connect();
	ht = hypertable_get(relid);

	if (!PG_ARGISNULL(1))
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(1), NAMEOID, NAMEDATALEN, false,
						  TYPALIGN_CHAR, &names, &nulls, &nnames);
	else
	{
		static const char *const defaults[] = {"tenant_id", "metric_type"};

		names = palloc(sizeof(Datum) * lengthof(defaults));
		nulls = palloc0(sizeof(bool) * lengthof(defaults));
		for (int i = 0; i < (int) lengthof(defaults); i++)
		{
			AttrNumber	a = get_attnum(relid, defaults[i]);

			if (a != InvalidAttrNumber && a != ht->time_attno)
				names[nnames++] = DirectFunctionCall1(namein, CStringGetDatum(defaults[i]));
		}
	}

	segby = palloc(sizeof(Datum) * Max(nnames, 1));
	for (int i = 0; i < nnames; i++)
	{
		char	   *col;
		AttrNumber	a;
		Oid			typid;
		Oid			lt;

		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("segmentby must not contain NULL")));
		col = NameStr(*DatumGetName(names[i]));
		a = get_attnum(relid, col);
		if (a == InvalidAttrNumber || a < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("column \"%s\" of relation \"%s\" does not exist", col, ht->relname)));
		if (a == ht->time_attno)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the time column \"%s\" cannot be a segment-by column", col),
					 errdetail("Segments are ordered by it.")));
		for (int k = 0; k < nsegby; k++)
			if (strcmp(NameStr(*DatumGetName(segby[k])), col) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_DUPLICATE_COLUMN),
						 errmsg("column \"%s\" appears twice in segmentby", col)));
		typid = get_atttype(relid, a);
		get_sort_group_operators(typid, false, false, false, &lt, NULL, NULL, NULL);
		if (!OidIsValid(lt))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("column \"%s\" of type %s cannot be a segment-by column",
							col, format_type_be(typid)),
					 errdetail("Its type has no default btree operator class.")));
		segby[nsegby++] = names[i];
	}

	if (PG_ARGISNULL(2))
	{
		AttrNumber	a = get_attnum(relid, "value");

		if (a != InvalidAttrNumber && get_atttype(relid, a) == FLOAT8OID)
			stats = "value";
	}
	else if (NameStr(*PG_GETARG_NAME(2))[0] != '\0')
	{
		stats = NameStr(*PG_GETARG_NAME(2));
		telos_require_column(relid, stats, FLOAT8OID,
							 "The stats column is a double precision column of the hypertable.");
	}
	if (stats != NULL)
		for (int k = 0; k < nsegby; k++)
			if (strcmp(NameStr(*DatumGetName(segby[k])), stats) == 0)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("the stats column \"%s\" cannot be a segment-by column", stats)));

	arr = construct_array(segby, nsegby, NAMEOID, NAMEDATALEN, false, TYPALIGN_CHAR);
	compress_catalog_exec("INSERT INTO telos.compression_settings AS s "
						  "(hypertable, segmentby, orderby, stats_column) VALUES ($1, $2, $3, $4) "
						  "ON CONFLICT (hypertable) DO UPDATE SET segmentby = excluded.segmentby, "
						  "orderby = excluded.orderby, stats_column = excluded.stats_column",
						  4, (Oid[]) {REGCLASSOID, NAMEARRAYOID, NAMEOID, NAMEOID},
						  (Datum[]) {ObjectIdGetDatum(relid), PointerGetDatum(arr),
									  DirectFunctionCall1(namein, CStringGetDatum(ht->time_column)),
									  stats ? DirectFunctionCall1(namein, CStringGetDatum(stats)) : (Datum) 0},
						  stats ? "    " : "   n");
	SPI_finish();
	telos_unpin_gucs(nestlevel);
	PG_RETURN_VOID();
}

/* Per column of a segment table, what chunk_column_stats adds up. */
typedef struct ColumnStats
{
	int64		bytes;
	int64		segments;
	int64		codec_count[8];
} ColumnStats;

/*
 * telos_chunk_column_stats
 *		telos.chunk_column_stats(chunk regclass) RETURNS TABLE(column_name
 *			name, codec text, bytes bigint, segments bigint)
 *
 * For each column of a compressed chunk's segment table: the codec most
 * of its segments use ('segmentby' and 'metadata' for those columns),
 * the bytes its values take on disk (TOAST included) and the segments.
 * Needs SELECT on the hypertable; reveals sizes only.
 */
Datum
telos_chunk_column_stats(PG_FUNCTION_ARGS)
{
	static const char *const codec_names[] = {
		"nulls", "i64", "gorilla", "decimal", "gorilla4", "bool", "dict", "blob"
	};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Oid			relid = telos_arg_relid(fcinfo, 0, "chunk");
	ChunkInfo  *info = compress_chunk_lookup(relid);
	int			nestlevel;
	Oid			segments = InvalidOid;
	Relation	rel;
	TupleDesc	desc;
	int			count_att = -1;
	ColumnStats *stats;
	Snapshot	snapshot;
	TableScanDesc scan;
	HeapTuple	tup;
	Datum	   *values;
	bool	   *isnull;

	if (pg_class_aclcheck(info->hypertable, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, get_rel_name(info->hypertable));
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);

	nestlevel = telos_pin_gucs();
	SPI_connect();
	if (telos_spi_exec("SELECT segments FROM telos.compressed_chunk WHERE chunk_id = $1 "
					   "AND storage = 'table'", 1, (Oid[]) {INT8OID},
					   (Datum[]) {Int64GetDatum(info->id)}, NULL) == 1)
	{
		bool		n;

		segments = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
												  SPI_tuptable->tupdesc, 1, &n));
	}
	SPI_finish();
	telos_unpin_gucs(nestlevel);
	if (!OidIsValid(segments))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("chunk \"%s\" is not compressed into a segment table", get_rel_name(relid))));

	rel = table_open(segments, AccessShareLock);
	desc = RelationGetDescr(rel);
	for (int i = 0; i < desc->natts; i++)
		if (strcmp(NameStr(TupleDescAttr(desc, i)->attname), SEG_COUNT_NAME) == 0)
			count_att = i;
	stats = palloc0(sizeof(ColumnStats) * desc->natts);
	values = palloc(sizeof(Datum) * desc->natts);
	isnull = palloc(sizeof(bool) * desc->natts);

	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snapshot, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		CHECK_FOR_INTERRUPTS();
		heap_deform_tuple(tup, desc, values, isnull);
		for (int i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			stats[i].segments++;
			if (isnull[i])
				continue;
			if (att->attlen == -1)
				stats[i].bytes += toast_datum_size(values[i]);
			else
				stats[i].bytes += att->attlen;
			if (count_att >= 0 && i >= count_att + SEG_NMETA && att->atttypid == BYTEAOID)
			{
				bytea	   *head = DatumGetByteaPSlice(values[i], 0, 8);
				const uint8 *p = (const uint8 *) VARDATA_ANY(head);

				if (VARSIZE_ANY_EXHDR(head) >= 2 && p[1] < lengthof(codec_names))
					stats[i].codec_count[p[1]]++;
			}
		}
	}
	table_endscan(scan);
	UnregisterSnapshot(snapshot);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		Datum		out[4];
		bool		outnull[4] = {false, false, false, false};
		const char *codec;

		if (att->attisdropped)
			continue;
		if (count_att < 0 || i < count_att)
			codec = "segmentby";
		else if (i < count_att + SEG_NMETA)
			codec = "metadata";
		else
		{
			int			best = 0;

			for (int c = 1; c < (int) lengthof(codec_names); c++)
				if (stats[i].codec_count[c] > stats[i].codec_count[best])
					best = c;
			codec = codec_names[best];
		}
		out[0] = NameGetDatum(&att->attname);
		out[1] = CStringGetTextDatum(codec);
		out[2] = Int64GetDatum(stats[i].bytes);
		out[3] = Int64GetDatum(stats[i].segments);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, out, outnull);
	}
	table_close(rel, NoLock);
	return (Datum) 0;
}
