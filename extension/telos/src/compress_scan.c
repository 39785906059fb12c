/*-------------------------------------------------------------------------
 *
 * compress_scan.c
 *	  Reading every row of a chunk whatever its storage -- a heap table,
 *	  the segment and delta tables of a compressed chunk, or anything else
 *	  through SPI -- as tuples of a given descriptor. Compression reads its
 *	  input this way, decompression and recompression too.
 *
 * Columns are matched by name, not position: a chunk made by CREATE TABLE
 * ... (LIKE hypertable) lacks the hypertable's dropped columns, and a
 * segment table has only its segment-by and blob columns.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/relation.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "colblob.h"
#include "compress.h"
#include "compress_build.h"
#include "util.h"

typedef void (*RowFn) (void *arg, TupleTableSlot *slot);

/*
 * map_by_name
 *		For each attribute of target, the 0-based index of the source
 *		attribute of the same name, or -1 (dropped in target, or absent from
 *		source). A column of another type is an error: rows cannot be
 *		carried over.
 */
static int *
map_by_name(TupleDesc target, TupleDesc source, const char *source_name)
{
	int		   *map = palloc(sizeof(int) * Max(target->natts, 1));

	for (int j = 0; j < target->natts; j++)
	{
		Form_pg_attribute t = TupleDescAttr(target, j);

		map[j] = -1;
		if (t->attisdropped)
			continue;
		for (int i = 0; i < source->natts; i++)
		{
			Form_pg_attribute s = TupleDescAttr(source, i);

			if (s->attisdropped || strcmp(NameStr(s->attname), NameStr(t->attname)) != 0)
				continue;
			if (s->atttypid != t->atttypid)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("column \"%s\" of \"%s\" is of type %s, the hypertable's of type %s",
								NameStr(t->attname), source_name,
								format_type_be(s->atttypid), format_type_be(t->atttypid))));
			map[j] = i;
			break;
		}
	}
	return map;
}

/* Every row of heap table rel, committed as of now. */
static void
scan_heap(Relation rel, TupleDesc target, RowFn fn, void *arg)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int		   *map = map_by_name(target, desc, RelationGetRelationName(rel));
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
	TupleTableSlot *in = table_slot_create(rel, NULL);
	TupleTableSlot *out = MakeSingleTupleTableSlot(target, &TTSOpsVirtual);
	uint32		tick = 0;
	bool		same = target->natts == desc->natts;

	/* The usual case, a chunk made like its hypertable: rows pass as they are. */
	for (int j = 0; same && j < target->natts; j++)
		same = map[j] == j ||
			(TupleDescAttr(target, j)->attisdropped && TupleDescAttr(desc, j)->attisdropped);

	while (table_scan_getnextslot(scan, ForwardScanDirection, in))
	{
		if ((++tick & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		if (same)
		{
			fn(arg, in);
			continue;
		}
		slot_getallattrs(in);
		ExecClearTuple(out);
		for (int j = 0; j < target->natts; j++)
		{
			int			i = map[j];

			if (i < 0)
			{
				out->tts_values[j] = (Datum) 0;
				out->tts_isnull[j] = true;
			}
			else
			{
				out->tts_values[j] = in->tts_values[i];
				out->tts_isnull[j] = in->tts_isnull[i];
			}
		}
		ExecStoreVirtualTuple(out);
		fn(arg, out);
	}
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	ExecDropSingleTupleTableSlot(in);
	ExecDropSingleTupleTableSlot(out);
	pfree(map);
}

/* Where a target column comes from in a segment row. */
typedef enum SegSrc
{
	SEG_NONE,					/* NULL */
	SEG_SEGBY,					/* a segment-by column: one value per segment */
	SEG_BLOB					/* a column blob */
} SegSrc;

/*
 * check_times
 *		The decoded times of a segment must lie in the range its metadata
 *		states, which also bounds what the FDW skips by: a damaged time blob
 *		that still decodes is caught here rather than as rows outside the
 *		chunk.
 */
static void
check_times(const Datum *times, const bool *nulls, int n, const Datum *segvals,
			const bool *segnulls, int count_att, const char *relname)
{
	TimestampTz lo;
	TimestampTz hi;

	if (segnulls[count_att + 1] || segnulls[count_att + 2])
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("segment of chunk \"%s\" has no time range", relname)));
	lo = DatumGetTimestampTz(segvals[count_att + 1]);
	hi = DatumGetTimestampTz(segvals[count_att + 2]);
	for (int r = 0; r < n; r++)
	{
		TimestampTz t = DatumGetTimestampTz(times[r]);

		if (nulls[r] || t < lo || t > hi)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("compressed data of the time column of chunk \"%s\" is corrupted", relname),
					 errdetail("A row's time is NULL or outside its segment's range.")));
	}
}

int64
compress_segment_rows(Oid segments_relid, TupleDesc target, AttrNumber time_attno,
					  const char *relname, RowFn fn, void *arg)
{
	Relation	rel = table_open(segments_relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	int			count_att = -1;
	SegSrc	   *src = palloc(sizeof(SegSrc) * Max(target->natts, 1));
	int		   *idx = palloc(sizeof(int) * Max(target->natts, 1));
	Datum	  **cols = palloc0(sizeof(Datum *) * Max(target->natts, 1));
	bool	  **nulls = palloc0(sizeof(bool *) * Max(target->natts, 1));
	Datum	   *segvals = palloc(sizeof(Datum) * desc->natts);
	bool	   *segnulls = palloc(sizeof(bool) * desc->natts);
	Snapshot	snapshot;
	TableScanDesc scan;
	TupleTableSlot *out = MakeSingleTupleTableSlot(target, &TTSOpsVirtual);
	MemoryContext segcxt;
	MemoryContext oldcxt;
	HeapTuple	tup;
	int64		nrows = 0;

	for (int i = 0; i < desc->natts; i++)
		if (strcmp(NameStr(TupleDescAttr(desc, i)->attname), SEG_COUNT_NAME) == 0)
			count_att = i;
	if (count_att < 0 || count_att + SEG_NMETA > desc->natts)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("segment table \"%s\" of chunk \"%s\" has no segment layout",
						RelationGetRelationName(rel), relname)));

	for (int j = 0; j < target->natts; j++)
	{
		Form_pg_attribute t = TupleDescAttr(target, j);

		src[j] = SEG_NONE;
		idx[j] = -1;
		if (t->attisdropped)
			continue;
		for (int i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute s = TupleDescAttr(desc, i);

			if (s->attisdropped || (i >= count_att && i < count_att + SEG_NMETA) ||
				strcmp(NameStr(s->attname), NameStr(t->attname)) != 0)
				continue;
			if (i < count_att)
			{
				if (s->atttypid != t->atttypid)
					ereport(ERROR,
							(errcode(ERRCODE_DATATYPE_MISMATCH),
							 errmsg("segment-by column \"%s\" of chunk \"%s\" is of type %s, the hypertable's of type %s",
									NameStr(t->attname), relname,
									format_type_be(s->atttypid), format_type_be(t->atttypid))));
				src[j] = SEG_SEGBY;
			}
			else
			{
				if (s->atttypid != BYTEAOID)
					ereport(ERROR,
							(errcode(ERRCODE_DATA_CORRUPTED),
							 errmsg("column \"%s\" of segment table \"%s\" is not bytea",
									NameStr(s->attname), RelationGetRelationName(rel))));
				src[j] = SEG_BLOB;
				cols[j] = palloc(sizeof(Datum) * COLBLOB_MAX_ROWS);
				nulls[j] = palloc(sizeof(bool) * COLBLOB_MAX_ROWS);
			}
			idx[j] = i;
			break;
		}
	}

	colblob_set_context(relname);
	segcxt = AllocSetContextCreate(CurrentMemoryContext, "telos segment decode",
								   ALLOCSET_DEFAULT_SIZES);
	snapshot = RegisterSnapshot(GetLatestSnapshot());
	scan = table_beginscan(rel, snapshot, 0, NULL);
	while ((tup = heap_getnext(scan, ForwardScanDirection)) != NULL)
	{
		int			n;

		CHECK_FOR_INTERRUPTS();
		oldcxt = MemoryContextSwitchTo(segcxt);
		heap_deform_tuple(tup, desc, segvals, segnulls);
		if (segnulls[count_att])
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("segment of chunk \"%s\" has no row count", relname)));
		n = DatumGetInt32(segvals[count_att]);
		if (n < 1 || n > COLBLOB_MAX_ROWS)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("segment of chunk \"%s\" claims %d rows", relname, n),
					 errdetail("A segment holds 1 to %d rows.", COLBLOB_MAX_ROWS)));
		for (int j = 0; j < target->natts; j++)
		{
			if (src[j] != SEG_BLOB)
				continue;
			if (segnulls[idx[j]])
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("compressed data of column \"%s\" of chunk \"%s\" is missing",
								NameStr(TupleDescAttr(target, j)->attname), relname)));
			colblob_decode(TupleDescAttr(target, j), DatumGetByteaPP(segvals[idx[j]]),
						   n, cols[j], nulls[j]);
		}
		if (time_attno > 0 && src[time_attno - 1] == SEG_BLOB)
			check_times(cols[time_attno - 1], nulls[time_attno - 1], n,
						segvals, segnulls, count_att, relname);
		for (int r = 0; r < n; r++)
		{
			ExecClearTuple(out);
			for (int j = 0; j < target->natts; j++)
			{
				switch (src[j])
				{
					case SEG_NONE:
						out->tts_values[j] = (Datum) 0;
						out->tts_isnull[j] = true;
						break;
					case SEG_SEGBY:
						out->tts_values[j] = segvals[idx[j]];
						out->tts_isnull[j] = segnulls[idx[j]];
						break;
					case SEG_BLOB:
						out->tts_values[j] = cols[j][r];
						out->tts_isnull[j] = nulls[j][r];
						break;
				}
			}
			ExecStoreVirtualTuple(out);
			MemoryContextSwitchTo(oldcxt);
			fn(arg, out);
			oldcxt = MemoryContextSwitchTo(segcxt);
		}
		MemoryContextSwitchTo(oldcxt);
		MemoryContextReset(segcxt);
		nrows += n;
	}
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	colblob_set_context(NULL);
	MemoryContextDelete(segcxt);
	ExecDropSingleTupleTableSlot(out);
	table_close(rel, NoLock);
	return nrows;
}

/* Every row of rel through SPI (any relation kind, e.g. an FDW's). */
static void
scan_spi(Relation rel, TupleDesc target, RowFn fn, void *arg)
{
	StringInfoData sql;
	TupleTableSlot *out = MakeSingleTupleTableSlot(target, &TTSOpsVirtual);
	int		   *map = map_by_name(target, RelationGetDescr(rel), RelationGetRelationName(rel));
	Portal		portal;
	SPIPlanPtr	plan;
	int			ncols = 0;
	int		   *col = palloc(sizeof(int) * Max(target->natts, 1));

	initStringInfo(&sql);
	appendStringInfoString(&sql, "SELECT ");
	for (int j = 0; j < target->natts; j++)
	{
		col[j] = -1;
		if (map[j] < 0)
			continue;
		appendStringInfo(&sql, "%s%s", ncols > 0 ? ", " : "",
						 quote_identifier(NameStr(TupleDescAttr(target, j)->attname)));
		col[j] = ncols++;
	}
	if (ncols == 0)
		appendStringInfoString(&sql, "NULL");
	appendStringInfo(&sql, " FROM ONLY %s", telos_qualified_relname(RelationGetRelid(rel)));

	SPI_connect();
	plan = SPI_prepare(sql.data, 0, NULL);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	portal = SPI_cursor_open(NULL, plan, NULL, NULL, true);
	for (;;)
	{
		SPI_cursor_fetch(portal, true, 1000);
		if (SPI_processed == 0)
			break;
		for (uint64 r = 0; r < SPI_processed; r++)
		{
			HeapTuple	tup = SPI_tuptable->vals[r];

			CHECK_FOR_INTERRUPTS();
			ExecClearTuple(out);
			for (int j = 0; j < target->natts; j++)
			{
				if (col[j] < 0)
				{
					out->tts_values[j] = (Datum) 0;
					out->tts_isnull[j] = true;
				}
				else
					out->tts_values[j] = SPI_getbinval(tup, SPI_tuptable->tupdesc,
													   col[j] + 1, &out->tts_isnull[j]);
			}
			ExecStoreVirtualTuple(out);
			fn(arg, out);
		}
		SPI_freetuptable(SPI_tuptable);
	}
	SPI_cursor_close(portal);
	SPI_finish();
	ExecDropSingleTupleTableSlot(out);
}

/*
 * compressed_parts
 *		The segment and delta tables of compressed chunk relid (storage
 *		'table'); false when relid is not one.
 */
static bool
compressed_parts(Oid relid, Oid *segments, Oid *delta)
{
	int			nestlevel = telos_pin_search_path();
	bool		found = false;

	SPI_connect();
	if (telos_spi_exec("SELECT cc.segments, cc.delta FROM telos.compressed_chunk cc "
					   "JOIN telos.chunk c ON c.id = cc.chunk_id "
					   "WHERE c.relid = $1 AND cc.storage = 'table'",
					   1, (Oid[]) {REGCLASSOID}, (Datum[]) {ObjectIdGetDatum(relid)},
					   NULL) == 1)
	{
		bool		isnull1;
		bool		isnull2;

		*segments = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
												   SPI_tuptable->tupdesc, 1, &isnull1));
		*delta = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
												SPI_tuptable->tupdesc, 2, &isnull2));
		found = !isnull1 && !isnull2;
	}
	SPI_finish();
	telos_unpin_gucs(nestlevel);
	return found;
}

/*
 * time_column
 *		The attnum in target of the partition key of rel's parent (the
 *		hypertable's time column), or 0.
 */
static AttrNumber
time_column(Relation rel, TupleDesc target)
{
	Oid			parent;
	Relation	prel;
	PartitionKey key;
	char	   *name;
	AttrNumber	attno = 0;

	if (!rel->rd_rel->relispartition)
		return 0;
	parent = get_partition_parent(RelationGetRelid(rel), true);
	prel = relation_open(parent, AccessShareLock);
	key = RelationGetPartitionKey(prel);
	if (key != NULL && key->partnatts == 1 && key->partattrs[0] > 0)
	{
		name = get_attname(parent, key->partattrs[0], false);
		for (int j = 0; j < target->natts; j++)
			if (!TupleDescAttr(target, j)->attisdropped &&
				strcmp(NameStr(TupleDescAttr(target, j)->attname), name) == 0 &&
				TupleDescAttr(target, j)->atttypid == TIMESTAMPTZOID)
				attno = j + 1;
	}
	relation_close(prel, NoLock);
	return attno;
}

void
compress_scan_rows(Oid source_relid, TupleDesc target, RowFn fn, void *arg)
{
	Relation	rel = table_open(source_relid, AccessShareLock);
	Oid			segments;
	Oid			delta;

	switch (rel->rd_rel->relkind)
	{
		case RELKIND_RELATION:
		case RELKIND_MATVIEW:
			scan_heap(rel, target, fn, arg);
			break;
		case RELKIND_FOREIGN_TABLE:
			if (compressed_parts(source_relid, &segments, &delta))
			{
				Relation	drel;

				(void) compress_segment_rows(segments, target, time_column(rel, target),
											 RelationGetRelationName(rel), fn, arg);
				drel = table_open(delta, AccessShareLock);
				scan_heap(drel, target, fn, arg);
				table_close(drel, NoLock);
			}
			else
				scan_spi(rel, target, fn, arg);
			break;
		default:
			scan_spi(rel, target, fn, arg);
			break;
	}
	table_close(rel, NoLock);
}
