/*
 * ivfinsert.c -- inserting one value into an ivfflat index.
 *
 * The value goes to the list of the nearest centroid (the centroids do not
 * move after the build; REINDEX re-clusters).  It is added to the first
 * page with room, starting from the list's insertPage hint and following
 * nextblkno; the last page of the chain is extended with a new page when
 * full.  Every change is one generic WAL record: adding the entry, or
 * initialising the new page + linking it from the old last page.
 *
 * Locking: an inserter holds at most one entry page and the relation
 * extension lock (with a page no one else can see yet), or one list page;
 * it never waits for a list page while holding an entry page, and scans
 * hold only one page at a time, so there is no lock cycle.
 */
#include "postgres.h"

#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "ivfflat.h"

/*
 * Lock the page of the list tuple of `ref` exclusively and return the list
 * header in it (checked), with the buffer in *bufp.
 */
static IvfListHeader *
lock_list_tuple(Relation index, const IvfListRef *ref, int dim, Buffer *bufp,
				Page *pagep, GenericXLogState **statep)
{
	Buffer		buf = ReadBuffer(index, ref->listBlkno);
	Page		page;
	ItemId		iid;

	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	page = BufferGetPage(buf);
	ivf_check_page(index, page, ref->listBlkno, IVF_PAGE_LIST);
	if (ref->listOffno > PageGetMaxOffsetNumber(page))
		ivf_corrupted(index, ref->listBlkno, "A list tuple is missing.");
	iid = PageGetItemId(page, ref->listOffno);
	if (!ItemIdIsNormal(iid) || ItemIdGetLength(iid) != IVF_LIST_SIZE(dim))
		ivf_corrupted(index, ref->listBlkno, "A list tuple has the wrong size.");
	*statep = GenericXLogStart(index);
	*pagep = GenericXLogRegisterBuffer(*statep, buf, 0);
	*bufp = buf;
	return (IvfListHeader *) PageGetItem(*pagep, PageGetItemId(*pagep, ref->listOffno));
}

/*
 * Point the list's insertPage hint at blkno (a page of its chain).
 */
static void
set_insert_page(Relation index, const IvfListRef *ref, int dim,
				BlockNumber blkno)
{
	Buffer		buf;
	Page		page;
	GenericXLogState *state;
	IvfListHeader *lh = lock_list_tuple(index, ref, dim, &buf, &page, &state);

	if (lh->insertPage != blkno)
	{
		lh->insertPage = blkno;
		GenericXLogFinish(state);
	}
	else
		GenericXLogAbort(state);
	UnlockReleaseBuffer(buf);
}

/*
 * The first entry of a list that has no page yet (an index built empty):
 * create its first page and point the list tuple at it, both in one WAL
 * record.  Returns false, doing nothing, when another backend created the
 * page first; *blkno is then where to insert.
 */
static bool
insert_first_page(Relation index, const IvfListRef *ref, int dim,
				  IndexTuple itup, Size itemsz, BlockNumber *blkno)
{
	Buffer		listbuf;
	Page		listpage;
	GenericXLogState *state;
	IvfListHeader *lh = lock_list_tuple(index, ref, dim, &listbuf, &listpage, &state);
	Buffer		newbuf;
	Page		newpage;

	if (BlockNumberIsValid(lh->startPage))
	{
		*blkno = BlockNumberIsValid(lh->insertPage) ? lh->insertPage : lh->startPage;
		GenericXLogAbort(state);
		UnlockReleaseBuffer(listbuf);
		return false;
	}
	newbuf = ivf_new_buffer(index, MAIN_FORKNUM);
	newpage = GenericXLogRegisterBuffer(state, newbuf, GENERIC_XLOG_FULL_IMAGE);
	ivf_init_page(newpage, IVF_PAGE_ENTRY);
	if (PageAddItem(newpage, (Item) itup, itemsz, InvalidOffsetNumber,
					false, false) == InvalidOffsetNumber)
		elog(ERROR, "failed to add entry to index \"%s\"",
			 RelationGetRelationName(index));
	lh->startPage = BufferGetBlockNumber(newbuf);
	lh->insertPage = lh->startPage;
	GenericXLogFinish(state);
	UnlockReleaseBuffer(newbuf);
	UnlockReleaseBuffer(listbuf);
	return true;
}

/*
 * Add itup to the list `ref`.
 */
static void
insert_into_list(Relation index, const IvfListRef *ref, int dim,
				 IndexTuple itup, Size itemsz)
{
	BlockNumber blkno = ref->insertPage;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);
	BlockNumber visited = 0;

	if (!BlockNumberIsValid(blkno))
	{
		if (insert_first_page(index, ref, dim, itup, itemsz, &blkno))
			return;
	}

	for (;;)
	{
		Buffer		buf;
		Page		page;
		BlockNumber next;
		GenericXLogState *state;
		Buffer		newbuf;
		Page		newpage;
		BlockNumber newblkno;

		CHECK_FOR_INTERRUPTS();
		if (blkno >= nblocks)
			nblocks = RelationGetNumberOfBlocks(index);
		if (blkno >= nblocks || ++visited > nblocks)
			ivf_corrupted(index, blkno, "A list's page chain is broken.");

		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		page = BufferGetPage(buf);
		ivf_check_page(index, page, blkno, IVF_PAGE_ENTRY);

		if (PageGetFreeSpace(page) >= MAXALIGN(itemsz))
		{
			state = GenericXLogStart(index);
			page = GenericXLogRegisterBuffer(state, buf, 0);
			if (PageAddItem(page, (Item) itup, itemsz, InvalidOffsetNumber,
							false, false) == InvalidOffsetNumber)
				elog(ERROR, "failed to add entry to index \"%s\"",
					 RelationGetRelationName(index));
			GenericXLogFinish(state);
			UnlockReleaseBuffer(buf);
			if (blkno != ref->insertPage)
				set_insert_page(index, ref, dim, blkno);
			return;
		}

		next = IvfPageGetOpaque(page)->nextblkno;
		if (BlockNumberIsValid(next))
		{
			UnlockReleaseBuffer(buf);
			blkno = next;
			continue;
		}

		/* the last page is full: extend the chain */
		newbuf = ivf_new_buffer(index, MAIN_FORKNUM);
		newblkno = BufferGetBlockNumber(newbuf);
		state = GenericXLogStart(index);
		page = GenericXLogRegisterBuffer(state, buf, 0);
		newpage = GenericXLogRegisterBuffer(state, newbuf, GENERIC_XLOG_FULL_IMAGE);
		ivf_init_page(newpage, IVF_PAGE_ENTRY);
		if (PageAddItem(newpage, (Item) itup, itemsz, InvalidOffsetNumber,
						false, false) == InvalidOffsetNumber)
			elog(ERROR, "failed to add entry to index \"%s\"",
				 RelationGetRelationName(index));
		IvfPageGetOpaque(page)->nextblkno = newblkno;
		GenericXLogFinish(state);
		UnlockReleaseBuffer(newbuf);
		UnlockReleaseBuffer(buf);
		set_insert_page(index, ref, dim, newblkno);
		return;
	}
}

/*
 * aminsert: index `values[0]` for heap tuple heap_tid.  NULLs (and zero
 * vectors under cosine) are not indexed.
 */
bool
ivfflat_insert(Relation index, Datum *values, bool *isnull,
			   ItemPointer heap_tid, Relation heap,
			   IndexUniqueCheck checkUnique, bool indexUnchanged,
			   IndexInfo *indexInfo)
{
	MemoryContext ctx;
	MemoryContext old;
	IvfMetaPageData meta;
	IvfOpclass	oc;
	Vector	   *v;

	if (isnull[0])
		return false;

	ctx = AllocSetContextCreate(CurrentMemoryContext, "ivfflat insert",
								ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(ctx);

	ivf_read_meta(index, &meta);
	ivf_opclass_init(index, &oc);
	v = ivf_prepare_value(&oc, values[0], meta.dimensions);
	if (v != NULL)
	{
		IvfListRef *refs = palloc(sizeof(IvfListRef) * meta.lists);
		Size		itemsz;
		IndexTuple	itup;
		uint32		best = 0;
		uint32		j;

		if (IvfMetaIsHalf(&meta))
			ivf_check_half_range(index, v);
		itup = ivf_form_entry(&meta, v, heap_tid, &itemsz);

		ivf_list_distances(index, &meta, &oc, v, refs);
		for (j = 1; j < meta.lists; j++)
			if (refs[j].distance < refs[best].distance)
				best = j;

		insert_into_list(index, &refs[best], meta.dimensions, itup, itemsz);
	}

	MemoryContextSwitchTo(old);
	MemoryContextDelete(ctx);
	return false;
}
