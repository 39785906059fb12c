/*-------------------------------------------------------------------------
 *
 * fdw_analyze.c
 *	  ANALYZE of a compressed or archived chunk (AnalyzeForeignTable).
 *
 * Without it ANALYZE skips the chunk with a warning, and ANALYZE of the
 * hypertable builds its statistics from the heap chunks alone -- once
 * every old chunk is compressed, from last week's rows only. The sample is
 * drawn the way file_fdw draws one: every row is read (the segments
 * decoded, then the delta rows) and a reservoir keeps a uniform sample.
 * Decoding is fast enough that this costs about what a sequential scan of
 * the heap chunk did.
 *
 * The size reported is what the rows would take as a heap table, not the
 * few pages the segments take: ANALYZE of the hypertable shares its sample
 * among the chunks by their pages, and compressed chunks must get their
 * share of it.
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/table.h"
#include "commands/vacuum.h"
#include "executor/tuptable.h"
#include "optimizer/plancat.h"
#include "storage/bufmgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/sampling.h"
#include "utils/snapmgr.h"

#include "fdw.h"

static int	acquire_sample_rows(Relation rel, int elevel, HeapTuple *rows,
								int targrows, double *totalrows,
								double *totaldeadrows);

/*
 * fdw_analyze
 *		AnalyzeForeignTable: sample with acquire_sample_rows; the size is
 *		the rows' heap-equivalent pages plus the delta table's.
 */
bool
fdw_analyze(Relation rel, AcquireSampleRowsFunc *func, BlockNumber *totalpages)
{
	FdwChunkPlan *plan = fdw_chunk_plan(RelationGetRelid(rel));
	double		tuple_bytes = get_rel_data_width(rel, NULL) +
		MAXALIGN(SizeofHeapTupleHeader) + sizeof(ItemIdData);
	double		pages = ceil(Max(plan->chunk->row_count, 0) * tuple_bytes / BLCKSZ);
	Relation	delta = table_open(plan->chunk->delta, AccessShareLock);

	pages += RelationGetNumberOfBlocks(delta);
	table_close(delta, NoLock);
	*func = acquire_sample_rows;
	*totalpages = (BlockNumber) Min(Max(pages, 1), (double) MaxBlockNumber);
	return true;
}

/*
 * acquire_sample_rows
 *		Reads every row of the chunk and keeps a uniform sample of at most
 *		targrows in rows[] (palloc'd in the caller's context), as
 *		acquire_sample_rows of analyze.c does with Vitter's algorithm.
 *		Compressed rows are never dead: *totaldeadrows is 0.
 */
static int
acquire_sample_rows(Relation rel, int elevel, HeapTuple *rows, int targrows,
					double *totalrows, double *totaldeadrows)
{
	TupleDesc	desc = RelationGetDescr(rel);
	MemoryContext outer = CurrentMemoryContext;
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "telos fdw analyze",
											  ALLOCSET_DEFAULT_SIZES);
	ReservoirStateData rstate;
	double		rowstoskip = -1;
	double		seen = 0;
	int			numrows = 0;
	List	   *attrs = NIL;
	FdwScanState *st;
	TupleTableSlot *slot;
	int			i;

	for (i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped)
			attrs = lappend_int(attrs, i + 1);

	/* the segment source reads as of the active snapshot */
	PushActiveSnapshot(GetTransactionSnapshot());
	MemoryContextSwitchTo(cxt);
	st = fdw_scan_open(rel, attrs, GetActiveSnapshot());
	slot = MakeSingleTupleTableSlot(desc, &TTSOpsVirtual);
	reservoir_init_selection_state(&rstate, targrows);
	MemoryContextSwitchTo(outer);

	while (fdw_scan_next(st, slot))
	{
		vacuum_delay_point();
		if (numrows < targrows)
			rows[numrows++] = heap_form_tuple(desc, slot->tts_values, slot->tts_isnull);
		else
		{
			/* skip rows the reservoir would not take, then replace one */
			if (rowstoskip < 0)
				rowstoskip = reservoir_get_next_S(&rstate, seen, targrows);
			if (rowstoskip <= 0)
			{
				int			k = (int) (targrows * sampler_random_fract(&rstate.randstate));

				Assert(k >= 0 && k < targrows);
				heap_freetuple(rows[k]);
				rows[k] = heap_form_tuple(desc, slot->tts_values, slot->tts_isnull);
			}
			rowstoskip -= 1;
		}
		seen += 1;
	}

	fdw_scan_close(st);
	ExecDropSingleTupleTableSlot(slot);
	MemoryContextDelete(cxt);
	PopActiveSnapshot();

	*totalrows = seen;
	*totaldeadrows = 0;
	ereport(elevel,
			(errmsg("\"%s\": read %.0f rows, sample of %d rows",
					RelationGetRelationName(rel), seen, numrows)));
	return numrows;
}
