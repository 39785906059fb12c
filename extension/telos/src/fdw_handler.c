/*-------------------------------------------------------------------------
 *
 * fdw_handler.c
 *	  The handler and validator of telos_fdw, and how a foreign table finds
 *	  the chunk it serves (fdw.h).
 *
 * The catalog is read with index lookups (systable_beginscan), not SPI:
 * the planner looks up every compressed chunk a query does not prune, so
 * the lookup must cost microseconds. systable_beginscan on a table that
 * is not a system catalog takes a fresh MVCC snapshot each time (the
 * latest committed rows plus the current transaction's), so a chunk
 * swapped in by a transaction that committed after our query's snapshot
 * is still found.
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/reloptions.h"
#include "access/table.h"
#include "storage/bufmgr.h"
#include "catalog/pg_index.h"
#include "foreign/fdwapi.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/memutils.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/syscache.h"

#include "compress_build.h"
#include "util.h"
#include "fdw.h"
#include "segsource.h"

PG_FUNCTION_INFO_V1(telos_fdw_handler);
PG_FUNCTION_INFO_V1(telos_fdw_validator);

/*
 * telos_fdw_handler
 *		telos.fdw_handler() RETURNS fdw_handler: the FdwRoutine of telos_fdw.
 */
Datum
telos_fdw_handler(PG_FUNCTION_ARGS)
{
	FdwRoutine *r = makeNode(FdwRoutine);

	r->GetForeignRelSize = fdw_get_rel_size;
	r->GetForeignPaths = fdw_get_paths;
	r->GetForeignPlan = fdw_get_plan;
	r->BeginForeignScan = fdw_begin_scan;
	r->IterateForeignScan = fdw_iterate_scan;
	r->ReScanForeignScan = fdw_rescan;
	r->EndForeignScan = fdw_end_scan;
	r->ExplainForeignScan = fdw_explain_scan;
	r->IsForeignScanParallelSafe = fdw_scan_parallel_safe;
	r->AnalyzeForeignTable = fdw_analyze;

	r->IsForeignRelUpdatable = fdw_rel_updatable;
	r->PlanForeignModify = fdw_plan_modify;
	r->BeginForeignModify = fdw_begin_modify;
	r->ExecForeignInsert = fdw_exec_insert;
	r->ExecForeignBatchInsert = fdw_exec_batch_insert;
	r->GetForeignModifyBatchSize = fdw_batch_size;
	r->EndForeignModify = fdw_end_modify;
	r->BeginForeignInsert = fdw_begin_insert;
	r->EndForeignInsert = fdw_end_modify;
	r->ExecForeignTruncate = fdw_exec_truncate;

	PG_RETURN_POINTER(r);
}

/*
 * telos_fdw_validator
 *		telos.fdw_validator(text[], oid): telos_fdw takes no options, on the
 *		wrapper, the server, user mappings, foreign tables or columns. Data
 *		is found through the catalog only (fdw.h), so an option could only
 *		be a way to point a table elsewhere.
 */
Datum
telos_fdw_validator(PG_FUNCTION_ARGS)
{
	List	   *options = untransformRelOptions(PG_GETARG_DATUM(0));

	if (options != NIL)
	{
		DefElem    *def = linitial_node(DefElem, options);

		ereport(ERROR,
				(errcode(ERRCODE_FDW_INVALID_OPTION_NAME),
				 errmsg("invalid option \"%s\"", def->defname),
				 errdetail("telos_fdw takes no options: a foreign table of server telos_store finds its data through the telos catalog."),
				 errhint("Compressed and archived chunks are made by telos.compress_chunk and telos.archive_chunk.")));
	}
	PG_RETURN_VOID();
}

/* ------------------------------------------------------------------------
 * Catalog lookup
 * ------------------------------------------------------------------------
 */

/*
 * The index of rel whose only key column is attno, or InvalidOid (then
 * systable_beginscan falls back to a sequential scan).
 */
static Oid
single_column_index(Relation rel, AttrNumber attno)
{
	List	   *indexes = RelationGetIndexList(rel);
	ListCell   *lc;
	Oid			found = InvalidOid;

	foreach(lc, indexes)
	{
		Oid			indexoid = lfirst_oid(lc);
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
		Form_pg_index index;

		if (!HeapTupleIsValid(tup))
			continue;
		index = (Form_pg_index) GETSTRUCT(tup);
		if (index->indnkeyatts == 1 && index->indkey.values[0] == attno &&
			index->indisvalid && heap_attisnull(tup, Anum_pg_index_indpred, NULL) &&
			heap_attisnull(tup, Anum_pg_index_indexprs, NULL))
			found = indexoid;
		ReleaseSysCache(tup);
		if (OidIsValid(found))
			break;
	}
	list_free(indexes);
	return found;
}

/* Attribute number of column name of catalog table rel; errors when missing. */
static AttrNumber
catalog_attnum(Relation rel, const char *name)
{
	AttrNumber	attno = get_attnum(RelationGetRelid(rel), name);

	if (attno == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("catalog table %s lacks column \"%s\"",
						RelationGetRelationName(rel), name),
				 errhint("Update the extension (ALTER EXTENSION telos UPDATE).")));
	return attno;
}

/*
 * The row of catalog table telos.<relname> whose column keycol equals key
 * (compared with eqproc), copied into the current memory context, or NULL.
 * The table stays locked (AccessShareLock) until the end of the
 * transaction, as any table a query reads; *rel_out gets it, open.
 */
static HeapTuple
catalog_fetch(const char *relname, const char *keycol, RegProcedure eqproc,
			  Datum key, Relation *rel_out)
{
	Oid			relid = telos_catalog_relid(relname);
	Relation	rel;
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tup;
	AttrNumber	attno;
	Oid			indexoid;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("catalog table %s.%s is missing", TELOS_SCHEMA_NAME, relname),
				 errhint("Update the extension (ALTER EXTENSION telos UPDATE).")));
	rel = table_open(relid, AccessShareLock);
	attno = catalog_attnum(rel, keycol);
	indexoid = single_column_index(rel, attno);
	ScanKeyInit(&skey, attno, BTEqualStrategyNumber, eqproc, key);
	scan = systable_beginscan(rel, indexoid, OidIsValid(indexoid), NULL, 1, &skey);
	tup = systable_getnext(scan);
	if (HeapTupleIsValid(tup))
		tup = heap_copytuple(tup);
	systable_endscan(scan);
	*rel_out = rel;
	return tup;
}

/* Column name of catalog row tup of rel; *isnull says whether it is NULL. */
static Datum
catalog_get(Relation rel, HeapTuple tup, const char *name, bool *isnull)
{
	return heap_getattr(tup, catalog_attnum(rel, name), RelationGetDescr(rel), isnull);
}

static void
catalog_inconsistent(Oid relid, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INTERNAL_ERROR),
			 errmsg("catalog entry of compressed chunk \"%s\" is inconsistent",
					get_rel_name(relid)),
			 errdetail("%s", detail)));
}

/*
 * fdw_chunk_lookup
 *		telos.chunk by relid, then telos.compressed_chunk by chunk_id and
 *		telos.hypertable for the time column.
 */
FdwChunk *
fdw_chunk_lookup(Oid relid)
{
	FdwChunk   *chunk = palloc0(sizeof(FdwChunk));
	Relation	rel;
	HeapTuple	tup;
	bool		isnull;
	char	   *state;
	char	   *storage;
	Datum		d;

	chunk->relid = relid;

	/* telos.chunk */
	tup = catalog_fetch("chunk", "relid", F_OIDEQ, ObjectIdGetDatum(relid), &rel);
	if (tup == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("foreign table \"%s\" is not a chunk of a hypertable",
						get_rel_name(relid)),
				 errdetail("Foreign tables of server telos_store serve the compressed and archived chunks the telos engine makes; they cannot be created by hand."),
				 errhint("Use telos.compress_chunk or telos.archive_chunk.")));
	chunk->chunk_id = DatumGetInt64(catalog_get(rel, tup, "id", &isnull));
	chunk->hypertable = DatumGetObjectId(catalog_get(rel, tup, "hypertable", &isnull));
	chunk->range_start = DatumGetTimestampTz(catalog_get(rel, tup, "range_start", &isnull));
	chunk->range_end = DatumGetTimestampTz(catalog_get(rel, tup, "range_end", &isnull));
	state = TextDatumGetCString(catalog_get(rel, tup, "state", &isnull));
	table_close(rel, NoLock);
	if (strcmp(state, "compressed") != 0 && strcmp(state, "archived") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("foreign table \"%s\" is not a compressed or archived chunk",
						get_rel_name(relid)),
				 errdetail("The chunk's state is \"%s\".", state)));

	/* telos.compressed_chunk */
	tup = catalog_fetch("compressed_chunk", "chunk_id", F_INT8EQ,
						Int64GetDatum(chunk->chunk_id), &rel);
	if (tup == NULL)
		catalog_inconsistent(relid, "telos.compressed_chunk has no row for it.");
	storage = TextDatumGetCString(catalog_get(rel, tup, "storage", &isnull));
	chunk->archived = (strcmp(storage, "file") == 0);
	if (chunk->archived != (strcmp(state, "archived") == 0))
		catalog_inconsistent(relid, "Its storage does not match its state.");
	d = catalog_get(rel, tup, "segments", &isnull);
	chunk->segments = isnull ? InvalidOid : DatumGetObjectId(d);
	d = catalog_get(rel, tup, "file", &isnull);
	chunk->file = isnull ? NULL : TextDatumGetCString(d);
	d = catalog_get(rel, tup, "delta", &isnull);
	chunk->delta = isnull ? InvalidOid : DatumGetObjectId(d);
	d = catalog_get(rel, tup, "row_count", &isnull);
	chunk->row_count = isnull ? 0 : DatumGetInt64(d);
	table_close(rel, NoLock);
	if (!OidIsValid(chunk->delta))
		catalog_inconsistent(relid, "It has no delta table.");
	if (chunk->archived ? chunk->file == NULL : !OidIsValid(chunk->segments))
		catalog_inconsistent(relid, chunk->archived ? "It has no archive file." :
							 "It has no segment table.");

	/* telos.hypertable */
	tup = catalog_fetch("hypertable", "relid", F_OIDEQ,
						ObjectIdGetDatum(chunk->hypertable), &rel);
	if (tup == NULL)
		catalog_inconsistent(relid, "Its hypertable is not registered.");
	chunk->time_column = pstrdup(NameStr(*DatumGetName(catalog_get(rel, tup, "time_column",
																   &isnull))));
	table_close(rel, NoLock);

	return chunk;
}

/*
 * fdw_chunk_hint
 *		errhint for operations that need a heap chunk.
 */
int
fdw_chunk_hint(const FdwChunk *chunk)
{
	char	   *name = telos_qualified_relname(chunk->relid);

	if (chunk->archived)
		return errhint("Restore the chunk first: SELECT telos.restore_chunk('%s');", name);
	return errhint("Decompress the chunk first: SELECT telos.decompress_chunk('%s');", name);
}

/*
 * fdw_layout_nsegby
 *		Segment-by columns are those before the first metadata column.
 */
int
fdw_layout_nsegby(TupleDesc layout)
{
	int			i;

	for (i = 0; i < layout->natts; i++)
		if (FDW_SEG_IS_META(NameStr(TupleDescAttr(layout, i)->attname)))
			return i;
	return 0;
}

/*
 * fdw_layout_index
 *		Columns are found by name: the chunk's attnos differ from the
 *		layout's.
 */
int
fdw_layout_index(TupleDesc layout, const char *name)
{
	int			i;

	for (i = 0; i < layout->natts; i++)
		if (!TupleDescAttr(layout, i)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(layout, i)->attname), name) == 0)
			return i;
	return -1;
}

/*
 * fdw_layout_segby_index
 *		fdw_layout_index of a segment-by column.
 */
int
fdw_layout_segby_index(TupleDesc layout, const char *name)
{
	int			idx = fdw_layout_index(layout, name);

	return idx < fdw_layout_nsegby(layout) ? idx : -1;
}

/*
 * fdw_segment_layout
 *		See fdw.h. The segment table's own descriptor is the truth for
 *		storage 'table' (the settings may have changed since the chunk was
 *		compressed); an archive file is checked against the current layout
 *		by its reader.
 */
TupleDesc
fdw_segment_layout(const FdwChunk *chunk)
{
	TupleDesc	desc;

	if (!chunk->archived)
	{
		Relation	seg = table_open(chunk->segments, AccessShareLock);

		desc = CreateTupleDescCopy(RelationGetDescr(seg));
		table_close(seg, NoLock);
	}
	else
		desc = compress_layout_get(chunk->hypertable)->segdesc;
	return desc;
}

/* ------------------------------------------------------------------------
 * What the planner needs, cached
 * ------------------------------------------------------------------------
 *
 * The planner plans every compressed chunk a query does not prune (a
 * 3-month query over weekly chunks: 13 of them) and needs, for each, the
 * catalog rows, the segment layout and the segment table's size: three
 * catalog lookups and two relation opens that would cost more than
 * planning a heap chunk. They change only when the chunk's tables do --
 * (re)compression makes a new segment table, archiving a new foreign
 * table, a schema change alters the foreign table -- and each of those
 * sends a relcache invalidation for one of the relations an entry names,
 * which drops the entry. The scan and inserts still look the catalog up
 * afresh (fdw_chunk_lookup): the cache only feeds estimates and the choice
 * of keys, which the scan checks again.
 */
typedef struct ChunkCacheEntry
{
	Oid			relid;			/* hash key: the foreign table */
	MemoryContext cxt;			/* everything below */
	FdwChunkPlan plan;
} ChunkCacheEntry;

static HTAB *chunk_cache = NULL;
static uint64 chunk_cache_invals = 0;

/* Drop the entries that name relid (every entry for InvalidOid). */
static void
chunk_cache_callback(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS it;
	ChunkCacheEntry *e;

	chunk_cache_invals++;
	if (chunk_cache == NULL)
		return;
	hash_seq_init(&it, chunk_cache);
	while ((e = hash_seq_search(&it)) != NULL)
	{
		const FdwChunk *c = e->plan.chunk;

		if (!OidIsValid(relid) || relid == e->relid || relid == c->segments ||
			relid == c->delta || relid == c->hypertable)
		{
			MemoryContextDelete(e->cxt);
			(void) hash_search(chunk_cache, &e->relid, HASH_REMOVE, NULL);
		}
	}
}

/* A copy of plan, palloc'd in the current memory context. */
static FdwChunkPlan *
copy_plan(const FdwChunkPlan *plan)
{
	FdwChunkPlan *copy = palloc(sizeof(FdwChunkPlan));

	*copy = *plan;
	copy->chunk = palloc(sizeof(FdwChunk));
	*copy->chunk = *plan->chunk;
	copy->chunk->time_column = pstrdup(plan->chunk->time_column);
	if (plan->chunk->file)
		copy->chunk->file = pstrdup(plan->chunk->file);
	copy->layout = CreateTupleDescCopy(plan->layout);
	return copy;
}

/* Look everything up, in the current memory context. */
static FdwChunkPlan *
build_plan(Oid relid)
{
	FdwChunkPlan *plan = palloc0(sizeof(FdwChunkPlan));

	plan->chunk = fdw_chunk_lookup(relid);
	plan->layout = fdw_segment_layout(plan->chunk);
	plan->nsegments = -1;
	if (!plan->chunk->archived)
	{
		Relation	seg = table_open(plan->chunk->segments, AccessShareLock);

		plan->seg_pages = RelationGetNumberOfBlocks(seg);
		if (seg->rd_rel->reltuples >= 0 && seg->rd_rel->relpages > 0)
			plan->nsegments = seg->rd_rel->reltuples / seg->rd_rel->relpages * plan->seg_pages;
		if (OidIsValid(seg->rd_rel->reltoastrelid))
		{
			Relation	toast = table_open(seg->rd_rel->reltoastrelid, AccessShareLock);

			plan->blob_pages = RelationGetNumberOfBlocks(toast);
			table_close(toast, NoLock);
		}
		table_close(seg, NoLock);
	}
	return plan;
}

/*
 * fdw_chunk_plan
 *		See fdw.h.
 */
FdwChunkPlan *
fdw_chunk_plan(Oid relid)
{
	ChunkCacheEntry *e;
	FdwChunkPlan *plan;
	MemoryContext cxt,
				old;
	uint64		invals;
	bool		found;

	if (chunk_cache == NULL)
	{
		HASHCTL		ctl;

		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(ChunkCacheEntry);
		ctl.hcxt = CacheMemoryContext;
		chunk_cache = hash_create("telos fdw chunk cache", 64, &ctl,
								  HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		CacheRegisterRelcacheCallback(chunk_cache_callback, (Datum) 0);
	}
	e = hash_search(chunk_cache, &relid, HASH_FIND, NULL);
	if (e != NULL)
		return copy_plan(&e->plan);

	/*
	 * Build it, then keep a copy unless an invalidation arrived meanwhile
	 * (the lookups take locks, which process invalidations): what was read
	 * may be stale already.
	 */
	invals = chunk_cache_invals;
	plan = build_plan(relid);
	if (invals != chunk_cache_invals)
		return plan;
	cxt = AllocSetContextCreate(CacheMemoryContext, "telos fdw chunk", ALLOCSET_SMALL_SIZES);
	old = MemoryContextSwitchTo(cxt);
	e = hash_search(chunk_cache, &relid, HASH_ENTER, &found);
	e->cxt = cxt;
	e->plan = *copy_plan(plan);
	MemoryContextSwitchTo(old);
	return plan;
}

/*
 * fdw_open_file_source
 *		The segment source of an archived chunk: its file, checked against
 *		the current segment layout by the reader.
 */
SegSource *
fdw_open_file_source(const FdwChunk *chunk)
{
	return segsource_file_open(chunk->file, fdw_segment_layout(chunk));
}

/*
 * fdw_check_direct_access
 *		See fdw.h. A heap chunk carries a copy of its hypertable's policies,
 *		enabled and forced, so that reading it directly is filtered as
 *		reading the hypertable is; a foreign table cannot have row-level
 *		security at all. So whoever the hypertable's policies apply to uses
 *		a compressed chunk through the hypertable only -- where the policies
 *		reach the partition -- and never directly.
 */
void
fdw_check_direct_access(const FdwChunk *chunk)
{
	if (check_enable_rls(chunk->hypertable, InvalidOid, true) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s chunk \"%s\" can only be used through its hypertable",
						chunk->archived ? "archived" : "compressed",
						get_rel_name(chunk->relid)),
				 errdetail("Hypertable \"%s\" has row-level security, which a foreign table cannot carry.",
						   get_rel_name(chunk->hypertable)),
				 errhint("Use %s instead.", telos_qualified_relname(chunk->hypertable))));
}
