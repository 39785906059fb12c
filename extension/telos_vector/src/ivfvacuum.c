/*
 * ivfvacuum.c -- VACUUM for ivfflat: delete the entries of dead heap
 * tuples, and count what is left.
 *
 * Each list's chain is walked page by page under an exclusive lock; the
 * entries the callback names dead are removed with PageIndexMultiDelete in
 * one generic WAL record per page.  Pages are never freed or unlinked (a
 * list keeps its chain), but the list's insertPage hint is moved back to
 * the first page with room, so inserts refill the holes before extending.
 *
 * ivfflat_stats() walks the lists the same way, read-only, to show what an
 * index holds (and whether it needs a REINDEX: an untrained index, or lists
 * grown very unequal since the build).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/index.h"
#include "catalog/pg_class.h"
#include "commands/vacuum.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "ivfflat.h"

/*
 * Walk one list; with a callback, delete the dead entries.  Adds to
 * stats->num_index_tuples and tuples_removed; returns the first page of the
 * chain with room for an entry (or InvalidBlockNumber).
 */
static BlockNumber
vacuum_list(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
			const IvfListRef *ref, const IvfMetaPageData *meta, BlockNumber *nblocks,
			IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	BlockNumber blkno = ref->startPage;
	BlockNumber firstFree = InvalidBlockNumber;
	BlockNumber visited = 0;
	Size		itemsz = MAXALIGN(IvfMetaEntrySize(meta));
	OffsetNumber deletable[MaxOffsetNumber];

	while (BlockNumberIsValid(blkno))
	{
		Buffer		buf;
		Page		page;
		OffsetNumber off;
		OffsetNumber maxoff;
		int			ndeletable = 0;

		vacuum_delay_point();
		/* inserts extend the index while VACUUM runs */
		if (blkno >= *nblocks)
			*nblocks = RelationGetNumberOfBlocks(index);
		if (blkno >= *nblocks || ++visited > *nblocks)
			ivf_corrupted(index, blkno, "A list's page chain is broken.");

		buf = ReadBufferExtended(index, MAIN_FORKNUM, blkno, RBM_NORMAL,
								 info->strategy);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		ivf_check_page(index, page, blkno, IVF_PAGE_ENTRY);

		maxoff = PageGetMaxOffsetNumber(page);
		for (off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
		{
			IndexTuple	itup = ivf_entry_at(index, page, blkno, off, meta);

			if (itup == NULL)
				continue;
			if (callback != NULL && callback(&itup->t_tid, callback_state))
				deletable[ndeletable++] = off;
			else
				stats->num_index_tuples += 1;
		}

		if (ndeletable > 0)
		{
			GenericXLogState *state = GenericXLogStart(index);

			page = GenericXLogRegisterBuffer(state, buf, 0);
			PageIndexMultiDelete(page, deletable, ndeletable);
			GenericXLogFinish(state);
			stats->tuples_removed += ndeletable;
		}
		if (!BlockNumberIsValid(firstFree) && PageGetFreeSpace(page) >= itemsz)
			firstFree = blkno;

		blkno = IvfPageGetOpaque(page)->nextblkno;
		UnlockReleaseBuffer(buf);
	}
	return firstFree;
}

/*
 * Move a list's insertPage hint to blkno.
 */
static void
rewind_insert_page(Relation index, const IvfListRef *ref, int dim,
				   BlockNumber blkno)
{
	Buffer		buf = ReadBuffer(index, ref->listBlkno);
	Page		page;
	ItemId		iid;
	IvfListHeader *lh;
	GenericXLogState *state;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	ivf_check_page(index, page, ref->listBlkno, IVF_PAGE_LIST);
	if (ref->listOffno > PageGetMaxOffsetNumber(page))
		ivf_corrupted(index, ref->listBlkno, "A list tuple is missing.");
	iid = PageGetItemId(page, ref->listOffno);
	if (!ItemIdIsNormal(iid) || ItemIdGetLength(iid) != IVF_LIST_SIZE(dim))
		ivf_corrupted(index, ref->listBlkno, "A list tuple has the wrong size.");
	state = GenericXLogStart(index);
	page = GenericXLogRegisterBuffer(state, buf, 0);
	lh = (IvfListHeader *) PageGetItem(page, PageGetItemId(page, ref->listOffno));
	lh->insertPage = blkno;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
}

/*
 * Walk every list (deleting dead entries when callback is set).
 */
static void
vacuum_index(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
			 IndexBulkDeleteCallback callback, void *callback_state)
{
	Relation	index = info->index;
	IvfMetaPageData meta;
	IvfListRef *refs;
	BlockNumber nblocks;
	uint32		j;

	ivf_read_meta(index, &meta);
	refs = palloc(sizeof(IvfListRef) * meta.lists);
	ivf_list_distances(index, &meta, NULL, NULL, refs);
	nblocks = RelationGetNumberOfBlocks(index);

	for (j = 0; j < meta.lists; j++)
	{
		BlockNumber firstFree = vacuum_list(info, stats, &refs[j],
											&meta, &nblocks,
											callback, callback_state);

		if (callback != NULL && BlockNumberIsValid(firstFree) &&
			firstFree != refs[j].insertPage)
			rewind_insert_page(index, &refs[j], meta.dimensions, firstFree);
	}
	pfree(refs);
	stats->num_pages = RelationGetNumberOfBlocks(index);
	stats->estimated_count = false;
}

/*
 * ambulkdelete: remove the entries whose heap tuples the callback names.
 */
IndexBulkDeleteResult *
ivfflat_bulkdelete(IndexVacuumInfo *info, IndexBulkDeleteResult *stats,
				   IndexBulkDeleteCallback callback, void *callback_state)
{
	if (stats == NULL)
		stats = (IndexBulkDeleteResult *) palloc0(sizeof(IndexBulkDeleteResult));
	stats->num_index_tuples = 0;
	vacuum_index(info, stats, callback, callback_state);
	return stats;
}

/*
 * amvacuumcleanup: statistics.  After a bulk delete they are already
 * there; otherwise (VACUUM found nothing to delete) count the entries.
 */
IndexBulkDeleteResult *
ivfflat_vacuumcleanup(IndexVacuumInfo *info, IndexBulkDeleteResult *stats)
{
	if (info->analyze_only)
		return stats;
	if (stats == NULL)
	{
		stats = (IndexBulkDeleteResult *) palloc0(sizeof(IndexBulkDeleteResult));
		vacuum_index(info, stats, NULL, NULL);
	}
	return stats;
}

/*
 * ivfflat_stats(index regclass): lists, dimensions, whether the index was
 * trained (built on data), entries, entry pages, the largest list and the
 * number of empty lists.  Needs SELECT on the table.
 */
PG_FUNCTION_INFO_V1(ivfflat_stats);
Datum
ivfflat_stats(PG_FUNCTION_ARGS)
{
	Oid			indexoid = PG_GETARG_OID(0);
	Oid			heapoid;
	Relation	index;
	IvfMetaPageData meta;
	IvfListRef *refs;
	IndexVacuumInfo info;
	IndexBulkDeleteResult stats;
	BlockNumber nblocks;
	TupleDesc	tupdesc;
	Datum		values[7];
	bool		nulls[7] = {false};
	double		largest = 0;
	int			empty = 0;
	double		entryPages;
	uint32		j;

	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	heapoid = IndexGetRelation(indexoid, true);
	if (!OidIsValid(heapoid))
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an index",
						get_rel_name(indexoid) ? get_rel_name(indexoid) : "?")));
	if (pg_class_aclcheck(heapoid, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", get_rel_name(heapoid))));

	index = index_open(indexoid, AccessShareLock);
	if (index->rd_indam == NULL || index->rd_indam->amgettuple != ivfflat_gettuple)
		ereport(ERROR,
				(errcode(ERRCODE_WRONG_OBJECT_TYPE),
				 errmsg("\"%s\" is not an ivfflat index", RelationGetRelationName(index))));

	ivf_read_meta(index, &meta);
	refs = palloc(sizeof(IvfListRef) * meta.lists);
	ivf_list_distances(index, &meta, NULL, NULL, refs);
	nblocks = RelationGetNumberOfBlocks(index);

	memset(&info, 0, sizeof(info));
	info.index = index;
	memset(&stats, 0, sizeof(stats));
	for (j = 0; j < meta.lists; j++)
	{
		double		before = stats.num_index_tuples;

		vacuum_list(&info, &stats, &refs[j], &meta, &nblocks, NULL, NULL);
		if (stats.num_index_tuples - before > largest)
			largest = stats.num_index_tuples - before;
		if (stats.num_index_tuples == before)
			empty++;
	}
	entryPages = (double) RelationGetNumberOfBlocks(index) - 1 - meta.listPages;
	index_close(index, AccessShareLock);

	values[0] = Int32GetDatum((int32) meta.lists);
	values[1] = Int32GetDatum((int32) meta.dimensions);
	values[2] = BoolGetDatum((meta.flags & IVF_META_UNTRAINED) == 0);
	values[3] = Int64GetDatum((int64) stats.num_index_tuples);
	values[4] = Int64GetDatum((int64) entryPages);
	values[5] = Int64GetDatum((int64) largest);
	values[6] = Int32GetDatum(empty);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(tupdesc, values, nulls)));
}
