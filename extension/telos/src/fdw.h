/*-------------------------------------------------------------------------
 *
 * fdw.h
 *	  The telos foreign data wrapper (telos_fdw, server telos_store): it
 *	  serves compressed and archived chunks as partitions of their
 *	  hypertable.
 *
 * A foreign table of telos_store carries no options. The wrapper finds what
 * to read by looking its own OID up in telos.chunk (relid) and
 * telos.compressed_chunk: a compressed chunk's segment rows are in a
 * segment table, an archived chunk's in a file under
 * telos.archive_directory (segsource.h), and rows written since the chunk
 * was compressed are in its delta table. A user who may create a foreign
 * table of telos_store therefore cannot aim it at anything: the engine alone
 * writes the catalog.
 *
 * The wrapper is split by phase:
 *	 fdw_handler.c	the handler, the validator, the catalog lookup;
 *	 fdw_plan.c		planning: size, path, the keys pushed down;
 *	 fdw_scan.c		the scan: segments, then the delta table;
 *	 fdw_analyze.c	ANALYZE: a sample of the decoded rows;
 *	 fdw_modify.c	INSERT and COPY into the delta table; UPDATE and DELETE
 *					are refused at plan time.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_FDW_H
#define TELOS_FDW_H

#include "postgres.h"

#include "foreign/fdwapi.h"
#include "utils/snapshot.h"
#include "utils/timestamp.h"

#include "compress_build.h"

/*
 * What the catalog says about the chunk a foreign table serves
 * (fdw_chunk_lookup). Strings and the struct are palloc'd in the caller's
 * memory context.
 */
typedef struct FdwChunk
{
	Oid			relid;			/* the foreign table */
	int64		chunk_id;		/* telos.chunk.id */
	Oid			hypertable;
	char	   *time_column;	/* the hypertable's partition key column */
	TimestampTz range_start;	/* the chunk holds [range_start, range_end) */
	TimestampTz range_end;
	bool		archived;		/* storage 'file' (state 'archived') */
	Oid			segments;		/* storage 'table': the segment table */
	char	   *file;			/* storage 'file': path relative to the
								 * archive directory */
	Oid			delta;			/* rows written since compression */
	int64		row_count;		/* rows in the segments at compression */
} FdwChunk;

/*
 * fdw_chunk_lookup
 *		The chunk served by foreign table relid. Errors (42704) when relid is
 *		not a compressed or archived chunk of a hypertable, or when its
 *		catalog rows are inconsistent (XX000). Reads the catalog with a
 *		fresh snapshot and no permission check (the catalog owner's rows,
 *		used only to find the wrapper's own data).
 */
extern FdwChunk *fdw_chunk_lookup(Oid relid);

/*
 * What the planner needs to know about a chunk (fdw_chunk_plan).
 */
typedef struct FdwChunkPlan
{
	FdwChunk   *chunk;
	TupleDesc	layout;			/* fdw_segment_layout */
	double		nsegments;		/* segment rows (-1: unknown) */
	double		seg_pages;		/* heap pages of the segment table */
	double		blob_pages;		/* pages of its TOAST table */
} FdwChunkPlan;

/*
 * fdw_chunk_plan
 *		What fdw_chunk_lookup and fdw_segment_layout say about foreign table
 *		relid, with the segment table's size, from a backend-local cache
 *		that relcache invalidations of the chunk's relations keep current.
 *		For planning only. The result is a copy in the current memory
 *		context.
 */
extern FdwChunkPlan *fdw_chunk_plan(Oid relid);

/*
 * fdw_chunk_hint
 *		The errhint naming the function that turns chunk back into a heap
 *		chunk (decompress_chunk or restore_chunk), for the errors of
 *		operations a compressed or archived chunk does not support.
 */
extern int	fdw_chunk_hint(const FdwChunk *chunk);

/*
 * fdw_check_direct_access
 *		Errors (42501) when the hypertable of chunk has row-level security
 *		that applies to the current user: such a user may read or write the
 *		chunk only through the hypertable. Called when the chunk itself is
 *		the table a statement names, not a partition reached through its
 *		hypertable.
 */
extern void fdw_check_direct_access(const FdwChunk *chunk);

/*
 * Segment layouts (segsource.h): the segment-by columns come first, up to
 * the first metadata column, then the metadata, then the column blobs.
 */
#define FDW_SEG_IS_META(name) \
	(strcmp((name), SEG_COUNT_NAME) == 0 || strcmp((name), SEG_MIN_TIME_NAME) == 0 || \
	 strcmp((name), SEG_MAX_TIME_NAME) == 0 || strcmp((name), SEG_SUM_NAME) == 0 || \
	 strcmp((name), SEG_MIN_NAME) == 0 || strcmp((name), SEG_MAX_NAME) == 0)

/* fdw_layout_nsegby -- the number of segment-by columns of layout. */
extern int	fdw_layout_nsegby(TupleDesc layout);

/* fdw_layout_index -- the 0-based index of column name in layout, or -1. */
extern int	fdw_layout_index(TupleDesc layout, const char *name);

/* fdw_layout_segby_index -- the same, -1 unless it is a segment-by column. */
extern int	fdw_layout_segby_index(TupleDesc layout, const char *name);

/*
 * fdw_segment_layout
 *		The segment row descriptor of chunk: the segment table's for storage
 *		'table', the hypertable's current compression layout for 'file'.
 *		The result lives in the current memory context.
 */
extern TupleDesc fdw_segment_layout(const FdwChunk *chunk);

/*
 * fdw_open_file_source
 *		The segment source of archived chunk chunk (segsource_file_open over
 *		its file under telos.archive_directory).
 */
struct SegSource;
extern struct SegSource *fdw_open_file_source(const FdwChunk *chunk);

/*
 * What the plan (fdw_plan.c) tells the scan (fdw_scan.c): indexes into the
 * fdw_private list of the ForeignScan. fdw_exprs holds the keys'
 * expressions, then the time bounds'.
 */
enum FdwScanPrivate
{
	FdwPrivAttrsUsed,			/* IntList: foreign table attnos the query needs
								 * (all of them after a whole-row reference) */
	FdwPrivKeyAttnos,			/* IntList: foreign table attno of each key */
	FdwPrivKeyOpfuncs,			/* OidList: equality function of each key */
	FdwPrivKeyColls,			/* OidList: collation of each key */
	FdwPrivBoundStrats,			/* IntList: btree strategy of each time bound */
	FdwPrivExplainKeys,			/* List of String: keys, for EXPLAIN */
	FdwPrivExplainBounds,		/* List of String: bounds, for EXPLAIN */
	FdwPrivDirect,				/* Integer: 1 when the chunk is read directly,
								 * not as a partition of its hypertable */
	FdwPrivParams				/* IntList: per fdw_expr, the PARAM_EXEC the scan
								 * sets to its value, or -1 */
};

/* Planning (fdw_plan.c). */
extern void fdw_get_rel_size(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid);
extern void fdw_get_paths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid);
extern ForeignScan *fdw_get_plan(PlannerInfo *root, RelOptInfo *baserel,
								 Oid foreigntableid, ForeignPath *best_path,
								 List *tlist, List *scan_clauses, Plan *outer_plan);
extern bool fdw_scan_parallel_safe(PlannerInfo *root, RelOptInfo *rel, RangeTblEntry *rte);

/* Scanning (fdw_scan.c). */

/* The state of a scan of a chunk: segments, then delta rows. */
typedef struct FdwScanState FdwScanState;

/*
 * fdw_scan_open
 *		Opens a scan of chunk rel reading the columns attrs_used (an IntList
 *		of attnos) of every row, the delta table's as of snapshot; memory in
 *		the current context. fdw_scan_next returns the rows into slot (of
 *		rel's descriptor; the values stay valid until the next call);
 *		fdw_scan_close ends it.
 */
extern FdwScanState *fdw_scan_open(Relation rel, List *attrs_used, Snapshot snapshot);
extern bool fdw_scan_next(FdwScanState *st, TupleTableSlot *slot);
extern void fdw_scan_close(FdwScanState *st);

extern void fdw_begin_scan(ForeignScanState *node, int eflags);
extern TupleTableSlot *fdw_iterate_scan(ForeignScanState *node);
extern void fdw_rescan(ForeignScanState *node);
extern void fdw_end_scan(ForeignScanState *node);
extern void fdw_explain_scan(ForeignScanState *node, struct ExplainState *es);

/* ANALYZE (fdw_analyze.c). */
extern bool fdw_analyze(Relation rel, AcquireSampleRowsFunc *func, BlockNumber *totalpages);

/* Writing (fdw_modify.c). */
extern int	fdw_rel_updatable(Relation rel);
extern List *fdw_plan_modify(PlannerInfo *root, ModifyTable *plan,
							 Index resultRelation, int subplan_index);
extern void fdw_begin_modify(ModifyTableState *mtstate, ResultRelInfo *rinfo,
							 List *fdw_private, int subplan_index, int eflags);
extern void fdw_begin_insert(ModifyTableState *mtstate, ResultRelInfo *rinfo);
extern TupleTableSlot *fdw_exec_insert(EState *estate, ResultRelInfo *rinfo,
									   TupleTableSlot *slot, TupleTableSlot *planSlot);
extern TupleTableSlot **fdw_exec_batch_insert(EState *estate, ResultRelInfo *rinfo,
											  TupleTableSlot **slots,
											  TupleTableSlot **planSlots,
											  int *numSlots);
extern int	fdw_batch_size(ResultRelInfo *rinfo);
extern void fdw_exec_truncate(List *rels, DropBehavior behavior, bool restart_seqs);
extern void fdw_end_modify(EState *estate, ResultRelInfo *rinfo);

#endif							/* TELOS_FDW_H */
