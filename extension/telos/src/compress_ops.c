/*-------------------------------------------------------------------------
 *
 * compress_ops.c
 *	  Compressing, decompressing and recompressing one chunk, each in the
 *	  caller's transaction (compress.h).
 *
 * Atomicity. Each operation builds the new storage completely (new tables
 * filled, indexed, recorded) before touching the old, then swaps in one
 * step (chunk_swap, or the catalog row of the segment table) and drops the
 * old. All of it is one transaction: an error, a cancel or a crash at any
 * point before commit leaves the old chunk exactly as it was (the new
 * tables vanish with the rollback); after commit only the new one exists.
 * telos.debug_compress_fail_at injects failures at the two interesting
 * points to test that.
 *
 * Locks. Rows are read under EXCLUSIVE on the chunk (or its foreign table
 * and delta table): writers wait, readers go on. The snapshot that reads
 * them is taken after that lock, so it sees every row committed before and
 * no writer can add one after. Only chunk_swap, last, takes ACCESS
 * EXCLUSIVE (on the hypertable and the old table), until commit.
 *
 * The new tables are filled with frozen tuples when they were created in
 * the current subtransaction, as COPY FREEZE does: no vacuum has to freeze
 * them later, and a reader whose snapshot predates the swap still sees the
 * rows in the new tables (as it saw them in the old).
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "chunk_swap.h"
#include "colblob.h"
#include "compress_int.h"

/* Tuples per table_multi_insert call when decompressing. */
#define INSERT_BATCH	1000

/*
 * The hypertable's columns as telos.compressed_chunk.columns records them
 * (attnum, name, type): the event trigger telos.on_ddl_compressed refuses
 * to rename a column or change its type under compressed rows, whose
 * segment columns are found by name and decoded by type.
 */
#define COLUMNS_SQL(param) \
	"(SELECT jsonb_agg(jsonb_build_object('attnum', a.attnum, 'name', a.attname, " \
	"'type', a.atttypid::regtype::text) ORDER BY a.attnum) FROM pg_attribute a " \
	"WHERE a.attrelid = " param " AND a.attnum > 0 AND NOT a.attisdropped)"

/* ------------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------------
 */

void
compress_record_columns(int64 chunk_id, Oid hypertable)
{
	int			nestlevel = telos_pin_search_path();

	SPI_connect();
	compress_catalog_exec("UPDATE telos.compressed_chunk SET columns = " COLUMNS_SQL("$2")
						  " WHERE chunk_id = $1", 2, (Oid[]) {INT8OID, OIDOID},
						  (Datum[]) {Int64GetDatum(chunk_id), ObjectIdGetDatum(hypertable)},
						  NULL);
	SPI_finish();
	telos_unpin_gucs(nestlevel);
}

/*
 * recheck_chunk
 *		After the lock on the chunk's table is taken: errors unless
 *		telos.chunk still names that table with state `state` (another
 *		session may have compressed, decompressed or dropped the chunk while
 *		we waited).
 */
static void
recheck_chunk(const ChunkInfo *info, const char *state)
{
	bool		ok = false;

	if (telos_spi_exec("SELECT relid, state FROM telos.chunk WHERE id = $1", 1,
					   (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(info->id)}, NULL) == 1)
	{
		bool		isnull;
		Oid			relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
														   SPI_tuptable->tupdesc, 1, &isnull));
		char	   *s = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

		ok = !isnull && relid == info->relid && s != NULL && strcmp(s, state) == 0;
	}
	if (!ok)
		ereport(ERROR,
				(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
				 errmsg("chunk " INT64_FORMAT " changed while waiting for its lock", info->id),
				 errdetail("Another session compressed, decompressed or dropped it."),
				 errhint("Look the chunk up again in telos.chunks and retry.")));
}

/* The segment and delta tables of compressed chunk info (storage 'table'). */
static void
compressed_tables(const ChunkInfo *info, Oid *segments, Oid *delta)
{
	bool		isnull1 = true;
	bool		isnull2 = true;
	char	   *storage = NULL;

	if (telos_spi_exec("SELECT storage, segments, delta FROM telos.compressed_chunk "
					   "WHERE chunk_id = $1", 1, (Oid[]) {INT8OID},
					   (Datum[]) {Int64GetDatum(info->id)}, NULL) == 1)
	{
		storage = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		*segments = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
												   SPI_tuptable->tupdesc, 2, &isnull1));
		*delta = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0],
												SPI_tuptable->tupdesc, 3, &isnull2));
	}
	if (storage == NULL || strcmp(storage, "table") != 0 || isnull1 || isnull2)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("compressed chunk \"%s\" has no segment table",
						get_rel_name(info->relid)),
				 errdetail("Its telos.compressed_chunk row is missing or names an archive file."),
				 errhint("An archived chunk is brought back with telos.restore_chunk().")));
}

/* The rows of heap table relid committed as of now. */
static int64
count_rows(Oid relid)
{
	Relation	rel = table_open(relid, AccessShareLock);
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
	int64		n = 0;

	while (heap_getnext(scan, ForwardScanDirection) != NULL)
	{
		if ((++n & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, NoLock);
	return n;
}

/* Insert options for a table filled right after its creation. */
static int
insert_options(Relation rel)
{
	int			options = TABLE_INSERT_SKIP_FSM;

	if (rel->rd_createSubid == GetCurrentSubTransactionId())
		options |= TABLE_INSERT_FROZEN;
	return options;
}

/* ------------------------------------------------------------------------
 * Writing segment rows
 * ------------------------------------------------------------------------
 */

typedef struct SegWriter
{
	Relation	rel;
	BulkInsertState bistate;
	CommandId	cid;
	int			options;
} SegWriter;

/* emit callback of compress_build_segments: one segment row into the table. */
static void
write_segment(void *arg, Datum *values, bool *isnull)
{
	SegWriter  *w = arg;
	HeapTuple	tup = heap_form_tuple(RelationGetDescr(w->rel), values, isnull);

	heap_insert(w->rel, tup, w->cid, w->options, w->bistate);
	heap_freetuple(tup);
}

/*
 * fill_segments
 *		Builds the segment rows of source into the new segment table
 *		segments, as the hypertable's owner (the sort runs its types'
 *		comparison functions). Returns the number of rows read.
 */
static int64
fill_segments(const Hypertable *ht, Oid segments, Oid source, const SegLayout *layout)
{
	SegWriter	w;
	TelosUserState save;
	int64		nrows = 0;

	w.rel = table_open(segments, RowExclusiveLock);
	w.bistate = GetBulkInsertState();
	w.cid = GetCurrentCommandId(true);
	w.options = insert_options(w.rel);
	if (RelationGetDescr(w.rel)->natts != layout->segdesc->natts)
		elog(ERROR, "segment table has %d columns, the layout %d",
			 RelationGetDescr(w.rel)->natts, layout->segdesc->natts);

	telos_become(ht->owner, &save);
	compress_build_segments_ex(source, layout, write_segment, &w, &nrows, NULL);
	telos_restore_user(&save);

	FreeBulkInsertState(w.bistate);
	table_close(w.rel, NoLock);
	CommandCounterIncrement();
	return nrows;
}

/* ------------------------------------------------------------------------
 * Writing rows
 * ------------------------------------------------------------------------
 */

typedef struct RowWriter
{
	Relation	rel;
	BulkInsertState bistate;
	CommandId	cid;
	int			options;
	int			n;
	int64		total;
	TupleTableSlot *slots[INSERT_BATCH];
} RowWriter;

static void
flush_rows(RowWriter *w)
{
	if (w->n == 0)
		return;
	table_multi_insert(w->rel, w->slots, w->n, w->cid, w->options, w->bistate);
	for (int i = 0; i < w->n; i++)
		ExecClearTuple(w->slots[i]);
	w->total += w->n;
	w->n = 0;
}

/* fn of compress_scan_rows: one row into the new heap table. */
static void
write_row(void *arg, TupleTableSlot *slot)
{
	RowWriter  *w = arg;

	if (w->slots[w->n] == NULL)
		w->slots[w->n] = table_slot_create(w->rel, NULL);
	ExecCopySlot(w->slots[w->n], slot);
	if (++w->n == INSERT_BATCH)
		flush_rows(w);
}

/* ------------------------------------------------------------------------
 * The operations
 * ------------------------------------------------------------------------
 */

Oid
compress_chunk_rel(const ChunkInfo *info)
{
	int			nestlevel = telos_pin_gucs();
	Hypertable *ht;
	SegLayout  *layout;
	char	   *chunkname;
	int64		heap_bytes;
	int64		stored_bytes;
	int64		nrows;
	Oid			segments;
	Oid			delta;
	Oid			ft;

	SPI_connect();
	ht = hypertable_get(info->hypertable);
	LockRelationOid(ht->relid, AccessShareLock);
	LockRelationOid(info->relid, ExclusiveLock);
	recheck_chunk(info, "active");
	if (get_rel_relkind(info->relid) != RELKIND_RELATION)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("chunk \"%s\" is not a heap table", get_rel_name(info->relid))));
	compress_check_hypertable(ht->relid);
	layout = compress_layout_get(ht->relid);
	chunkname = get_rel_name(info->relid);
	heap_bytes = compress_relation_bytes(info->relid);

	segments = compress_create_segments(ht, layout, chunkname);
	nrows = fill_segments(ht, segments, info->relid, layout);
	compress_index_segments(segments, layout);
	delta = compress_create_delta(ht, chunkname, InvalidOid);
	ft = compress_create_foreign(ht, chunkname);
	compress_set_parent_table(segments, ft);
	compress_set_parent_table(delta, ft);
	stored_bytes = compress_relation_bytes(segments);

	compress_debug_point("after_segments");

	compress_catalog_exec("INSERT INTO telos.compressed_chunk AS cc (chunk_id, storage, segments, delta, "
						  "row_count, heap_bytes, stored_bytes, compressed_at, columns) "
						  "VALUES ($1, 'table', $2, $3, $4, $5, $6, now(), " COLUMNS_SQL("$7") ") "
						  "ON CONFLICT (chunk_id) DO UPDATE SET storage = 'table', "
						  "segments = excluded.segments, file = NULL, file_bytes = NULL, "
						  "file_checksum = NULL, delta = excluded.delta, row_count = excluded.row_count, "
						  "heap_bytes = excluded.heap_bytes, stored_bytes = excluded.stored_bytes, "
						  "compressed_at = excluded.compressed_at, columns = excluded.columns",
						  7, (Oid[]) {INT8OID, REGCLASSOID, REGCLASSOID, INT8OID, INT8OID, INT8OID, OIDOID},
						  (Datum[]) {Int64GetDatum(info->id), ObjectIdGetDatum(segments),
									  ObjectIdGetDatum(delta), Int64GetDatum(nrows),
									  Int64GetDatum(heap_bytes), Int64GetDatum(stored_bytes),
									  ObjectIdGetDatum(ht->relid)},
						  NULL);
	chunk_swap(info->id, ft, "compressed");

	compress_debug_point("after_swap");

	SPI_finish();
	telos_unpin_gucs(nestlevel);
	return ft;
}

Oid
decompress_chunk_rel(const ChunkInfo *info)
{
	int			nestlevel = telos_pin_gucs();
	Hypertable *ht;
	Oid			segments;
	Oid			delta;
	Oid			heap;
	RowWriter  *w;
	TelosUserState save;

	SPI_connect();
	ht = hypertable_get(info->hypertable);
	LockRelationOid(ht->relid, AccessShareLock);
	LockRelationOid(info->relid, ExclusiveLock);
	recheck_chunk(info, "compressed");
	compressed_tables(info, &segments, &delta);
	LockRelationOid(delta, ExclusiveLock);
	LockRelationOid(segments, ShareLock);

	heap = compress_create_heap(ht, get_rel_name(info->relid));

	w = palloc0(sizeof(RowWriter));
	w->rel = table_open(heap, RowExclusiveLock);
	w->bistate = GetBulkInsertState();
	w->cid = GetCurrentCommandId(true);
	w->options = insert_options(w->rel);
	telos_become(ht->owner, &save);
	compress_scan_rows(info->relid, RelationGetDescr(w->rel), write_row, w);
	flush_rows(w);
	telos_restore_user(&save);
	for (int i = 0; i < INSERT_BATCH && w->slots[i] != NULL; i++)
		ExecDropSingleTupleTableSlot(w->slots[i]);
	FreeBulkInsertState(w->bistate);
	table_close(w->rel, NoLock);
	CommandCounterIncrement();

	compress_debug_point("after_segments");

	compress_catalog_exec("DELETE FROM telos.compressed_chunk WHERE chunk_id = $1",
						  1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(info->id)}, NULL);
	/* Attaching makes the hypertable's indexes on the new table. */
	chunk_swap(info->id, heap, "active");

	compress_debug_point("after_swap");

	SPI_finish();
	telos_unpin_gucs(nestlevel);
	return heap;
}

int64
recompress_chunk_rel(const ChunkInfo *info)
{
	int			nestlevel = telos_pin_gucs();
	Hypertable *ht;
	SegLayout  *layout;
	Oid			segments;
	Oid			delta;
	Oid			newseg;
	char	   *segname;
	int64		ndelta;
	int64		nrows;
	int64		stored_bytes;
	Oid			catowner = telos_catalog_owner("compressed_chunk");

	SPI_connect();
	ht = hypertable_get(info->hypertable);
	LockRelationOid(ht->relid, AccessShareLock);
	LockRelationOid(info->relid, ExclusiveLock);
	recheck_chunk(info, "compressed");
	compressed_tables(info, &segments, &delta);
	LockRelationOid(delta, ExclusiveLock);
	LockRelationOid(segments, ShareLock);

	ndelta = count_rows(delta);
	if (ndelta == 0)
	{
		SPI_finish();
		telos_unpin_gucs(nestlevel);
		return 0;
	}

	layout = compress_layout_get(ht->relid);
	segname = get_rel_name(segments);
	newseg = compress_create_segments(ht, layout, get_rel_name(info->relid));
	nrows = fill_segments(ht, newseg, info->relid, layout);
	compress_index_segments(newseg, layout);
	compress_set_parent_table(newseg, info->relid);
	stored_bytes = compress_relation_bytes(newseg);

	compress_debug_point("after_segments");

	/* The row names the new segment table before the old one is dropped. */
	compress_catalog_exec("UPDATE telos.compressed_chunk SET segments = $2, row_count = $3, "
						  "stored_bytes = $4, compressed_at = now(), columns = " COLUMNS_SQL("$5")
						  " WHERE chunk_id = $1",
						  5, (Oid[]) {INT8OID, REGCLASSOID, INT8OID, INT8OID, OIDOID},
						  (Datum[]) {Int64GetDatum(info->id), ObjectIdGetDatum(newseg),
									  Int64GetDatum(nrows), Int64GetDatum(stored_bytes),
									  ObjectIdGetDatum(ht->relid)},
						  NULL);
	compress_exec_as(catowner, psprintf("DROP TABLE %s", telos_qualified_relname(segments)));
	compress_exec_as(catowner, psprintf("TRUNCATE %s", telos_qualified_relname(delta)));
	compress_exec_as(catowner, psprintf("ALTER TABLE %s RENAME TO %s",
										telos_qualified_relname(newseg),
										quote_identifier(segname)));

	compress_debug_point("after_swap");

	SPI_finish();
	telos_unpin_gucs(nestlevel);
	return ndelta;
}
