/*
 * ivfscan.c -- ORDER BY <distance> scans of an ivfflat index.
 *
 * The first call computes the distance from the query to every centroid,
 * sorts the lists by it, reads the entries of the `ivfflat.probes` nearest
 * lists into a binary min-heap of (distance, heap tid) and returns them
 * nearest first.  What makes filtered queries exact enough is what happens
 * when the executor keeps asking -- because the rows returned so far were
 * rejected by a WHERE clause or a row-level security policy, or because
 * the query reads deep (a large LIMIT):
 *
 *  - the heap never runs dry while lists remain: an empty heap pulls in the
 *    next list in centroid order, so a query gets k rows whenever k
 *    matching rows exist in the index (up to ivfflat.max_probes lists);
 *
 *  - the scan widens *before* the heap is empty, as the distance of the
 *    next row to return grows.  The first IVF_EXPAND_REF rows are returned
 *    from the probed lists as they are (that is the plain ivfflat answer a
 *    LIMIT 10 gets, and what `probes` was tuned for).  The distance r of the
 *    IVF_EXPAND_REF-th row and the distance c of the farthest probed
 *    centroid are remembered.  From then on, before a row at distance d is
 *    returned, every list whose centroid lies within c + (d - r) of the
 *    query is read first (and the heap re-examined, since it may now hold
 *    nearer rows).  By the triangle inequality a row at distance d lives in
 *    a list whose centroid is at most d + radius away; moving the centroid
 *    horizon outwards by exactly as much as the row horizon moved keeps the
 *    margin that made the first rows right, so the rows a filter lets
 *    through late are found about as reliably as the first ones.
 *    ivfflat.widening scales the step, c + w (d - r): 1 (the default) as
 *    above; lower reads fewer lists at some recall (docs/vector.md).
 *
 * In an index with storage 'half' the distance of an entry is computed
 * from its half-precision components (the query stays float4): the order
 * is that of the stored approximation, as it is of the lists.
 *
 * Distances here are the operator class's ordering values turned into
 * lengths (ivf_distance_to_metric): Euclidean for L2 and for cosine (unit
 * vectors), the raw value for inner product, where the rule is a heuristic.
 *
 * Rows come out in distance order among the lists read so far; a row of a
 * list read late can be nearer than one already returned, which the rule
 * makes rare (ORDER BY over the index is approximate anyway).  Memory is
 * 16 bytes per entry of the lists read, in a context reset by rescan.
 */
#include "postgres.h"

#include <math.h>

#include "access/relscan.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "ivfflat.h"

typedef struct IvfCandidate
{
	double		distance;
	ItemPointerData tid;
} IvfCandidate;

typedef struct IvfScanOpaqueData
{
	IvfMetaPageData meta;
	IvfOpclass	oc;
	MemoryContext scanCtx;		/* everything below; reset by rescan */

	bool		started;
	bool		anyOrder;		/* no usable query: return every entry */
	Vector	   *query;			/* prepared (unit length for cosine) */
	Vector	   *scratch;		/* a half entry as float4, for fmgr distances */
	IvfListRef *lists;			/* sorted by distance to the query */
	int			nlists;
	int			probes;			/* lists read before the first row */
	int			maxLists;		/* lists the scan may read in all */
	int			nextList;		/* lists read so far */
	double		baseReach;		/* metric distance of the farthest probed centroid */
	double		refDistance;	/* metric distance of row IVF_EXPAND_REF */
	bool		haveRef;
	bool		adaptive;		/* ivfflat.adaptive when the scan started */
	double		widening;		/* ivfflat.widening when the scan started */
	int64		returned;

	IvfCandidate *heap;
	int64		nheap;
	int64		heapcap;
	BlockNumber nblocks;
} IvfScanOpaqueData;

typedef IvfScanOpaqueData *IvfScanOpaque;

/* min-heap on distance */
static inline void
heap_sift_up(IvfCandidate *h, int64 i)
{
	IvfCandidate c = h[i];

	while (i > 0)
	{
		int64		parent = (i - 1) / 2;

		if (h[parent].distance <= c.distance)
			break;
		h[i] = h[parent];
		i = parent;
	}
	h[i] = c;
}

static inline void
heap_sift_down(IvfCandidate *h, int64 n, int64 i)
{
	IvfCandidate c = h[i];

	for (;;)
	{
		int64		child = 2 * i + 1;

		if (child >= n)
			break;
		if (child + 1 < n && h[child + 1].distance < h[child].distance)
			child++;
		if (c.distance <= h[child].distance)
			break;
		h[i] = h[child];
		i = child;
	}
	h[i] = c;
}

/*
 * Restore the heap property after entries [from, nheap) were appended:
 * sift them up one by one when few, rebuild bottom-up when many.
 */
static void
heap_fix(IvfScanOpaque so, int64 from)
{
	int64		added = so->nheap - from;
	int64		i;

	if (added <= 0)
		return;
	if (added * 8 < so->nheap)
	{
		for (i = from; i < so->nheap; i++)
			heap_sift_up(so->heap, i);
	}
	else
	{
		for (i = so->nheap / 2 - 1; i >= 0; i--)
			heap_sift_down(so->heap, so->nheap, i);
	}
}

static void
heap_append(IvfScanOpaque so, double distance, ItemPointer tid)
{
	if (so->nheap >= so->heapcap)
	{
		so->heapcap = Max(so->heapcap * 2, 1024);
		if (so->heap == NULL)
			so->heap = MemoryContextAllocHuge(so->scanCtx,
											  sizeof(IvfCandidate) * so->heapcap);
		else
			so->heap = repalloc_huge(so->heap, sizeof(IvfCandidate) * so->heapcap);
	}
	so->heap[so->nheap].distance = distance;
	so->heap[so->nheap].tid = *tid;
	so->nheap++;
}

/*
 * Read every entry of list `i` (in sorted order) into the heap.
 */
static void
read_list(IndexScanDesc scan, int i)
{
	IvfScanOpaque so = (IvfScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	bool		half = IvfMetaIsHalf(&so->meta);
	BlockNumber blkno = so->lists[i].startPage;
	BlockNumber visited = 0;
	int64		from = so->nheap;

	while (BlockNumberIsValid(blkno))
	{
		Buffer		buf;
		Page		page;
		OffsetNumber off;
		OffsetNumber maxoff;

		CHECK_FOR_INTERRUPTS();
		if (blkno >= so->nblocks)
			so->nblocks = RelationGetNumberOfBlocks(index);
		if (blkno >= so->nblocks || ++visited > so->nblocks)
			ivf_corrupted(index, blkno, "A list's page chain is broken.");

		buf = ReadBuffer(index, blkno);
		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		ivf_check_page(index, page, blkno, IVF_PAGE_ENTRY);
		maxoff = PageGetMaxOffsetNumber(page);
		for (off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
		{
			IndexTuple	itup = ivf_entry_at(index, page, blkno, off, &so->meta);
			double		d;

			if (itup == NULL)
				continue;
			if (so->anyOrder)
				d = 0.0;
			else if (half)
				d = ivf_distance_half(&so->oc, so->query, IVF_ENTRY_HALF(itup),
									  so->scratch);
			else
				d = ivf_distance(&so->oc, so->query, IVF_ENTRY_VECTOR(itup));
			heap_append(so, d, &itup->t_tid);
		}
		blkno = IvfPageGetOpaque(page)->nextblkno;
		UnlockReleaseBuffer(buf);
	}
	heap_fix(so, from);
	so->nextList = Max(so->nextList, i + 1);
}

static int
compare_lists(const void *a, const void *b)
{
	double		da = ((const IvfListRef *) a)->distance;
	double		db = ((const IvfListRef *) b)->distance;

	if (da < db)
		return -1;
	if (da > db)
		return 1;
	return 0;
}

/*
 * First call: prepare the query, order the lists, read the probed ones.
 */
static void
start_scan(IndexScanDesc scan)
{
	IvfScanOpaque so = (IvfScanOpaque) scan->opaque;
	Relation	index = scan->indexRelation;
	MemoryContext old = MemoryContextSwitchTo(so->scanCtx);
	int			i;

	so->query = NULL;
	so->anyOrder = true;
	if (scan->numberOfOrderBys > 0 &&
		!(scan->orderByData[0].sk_flags & SK_ISNULL))
	{
		so->query = ivf_prepare_value(&so->oc, scan->orderByData[0].sk_argument,
									  so->meta.dimensions);
		so->anyOrder = (so->query == NULL);
	}
	so->scratch = NULL;
	if (!so->anyOrder && IvfMetaIsHalf(&so->meta))
		so->scratch = vector_new(so->meta.dimensions);

	so->nlists = so->meta.lists;
	so->lists = palloc(sizeof(IvfListRef) * so->nlists);
	ivf_list_distances(index, &so->meta, &so->oc,
					   so->anyOrder ? NULL : so->query, so->lists);
	if (!so->anyOrder)
		qsort(so->lists, so->nlists, sizeof(IvfListRef), compare_lists);

	so->probes = Min(ivfflat_probes, so->nlists);
	if (so->anyOrder || ivfflat_max_probes < 0)
		so->maxLists = so->nlists;
	else
		so->maxLists = Min(Max(ivfflat_max_probes, so->probes), so->nlists);
	so->baseReach = ivf_distance_to_metric(&so->oc, so->lists[so->probes - 1].distance);
	so->nblocks = RelationGetNumberOfBlocks(index);
	so->adaptive = ivfflat_adaptive;
	so->widening = ivfflat_widening;

	for (i = 0; i < so->probes; i++)
		read_list(scan, i);

	MemoryContextSwitchTo(old);
	so->started = true;
}

/*
 * Whether the next list should be read before returning the heap's top
 * (the widening rule at the top of the file).
 */
static bool
should_widen(IvfScanOpaque so)
{
	double		frontier;
	double		reach;

	if (so->nextList >= so->maxLists)
		return false;
	if (so->nheap == 0)
		return true;
	if (!so->haveRef || so->anyOrder || !so->adaptive)
		return false;
	frontier = ivf_distance_to_metric(&so->oc, so->heap[0].distance);
	reach = so->baseReach + so->widening * (frontier - so->refDistance);
	return ivf_distance_to_metric(&so->oc, so->lists[so->nextList].distance) <= reach;
}

/*
 * ambeginscan
 */
IndexScanDesc
ivfflat_beginscan(Relation index, int nkeys, int norderbys)
{
	IndexScanDesc scan = RelationGetIndexScan(index, nkeys, norderbys);
	IvfScanOpaque so = (IvfScanOpaque) palloc0(sizeof(IvfScanOpaqueData));

	ivf_read_meta(index, &so->meta);
	ivf_opclass_init(index, &so->oc);
	so->scanCtx = AllocSetContextCreate(CurrentMemoryContext,
										"ivfflat scan context",
										ALLOCSET_DEFAULT_SIZES);
	scan->opaque = so;
	return scan;
}

/*
 * amrescan: new ordering argument (query vector); forget the previous run.
 */
void
ivfflat_rescan(IndexScanDesc scan, ScanKey keys, int nkeys, ScanKey orderbys,
			   int norderbys)
{
	IvfScanOpaque so = (IvfScanOpaque) scan->opaque;

	if (keys && scan->numberOfKeys > 0)
		memmove(scan->keyData, keys, scan->numberOfKeys * sizeof(ScanKeyData));
	if (orderbys && scan->numberOfOrderBys > 0)
		memmove(scan->orderByData, orderbys, scan->numberOfOrderBys * sizeof(ScanKeyData));

	if (so->started)
		elog(DEBUG1, "ivfflat scan of \"%s\": %d of %d lists read, " INT64_FORMAT " rows returned",
			 RelationGetRelationName(scan->indexRelation), so->nextList,
			 so->nlists, so->returned);
	MemoryContextReset(so->scanCtx);
	so->started = false;
	so->heap = NULL;
	so->nheap = 0;
	so->heapcap = 0;
	so->lists = NULL;
	so->nextList = 0;
	so->returned = 0;
	so->haveRef = false;
}

/*
 * amgettuple: the next row, nearest first (see the top of the file).
 */
bool
ivfflat_gettuple(IndexScanDesc scan, ScanDirection dir)
{
	IvfScanOpaque so = (IvfScanOpaque) scan->opaque;
	IvfCandidate top;

	if (!ScanDirectionIsForward(dir))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("ivfflat index scans only go forward")));

	if (!so->started)
	{
		start_scan(scan);
		pgstat_count_index_scan(scan->indexRelation);
	}

	while (should_widen(so))
	{
		MemoryContext old = MemoryContextSwitchTo(so->scanCtx);

		read_list(scan, so->nextList);
		MemoryContextSwitchTo(old);
	}
	if (so->nheap == 0)
		return false;

	top = so->heap[0];
	so->nheap--;
	if (so->nheap > 0)
	{
		so->heap[0] = so->heap[so->nheap];
		heap_sift_down(so->heap, so->nheap, 0);
	}
	so->returned++;
	if (so->returned == IVF_EXPAND_REF)
	{
		so->refDistance = ivf_distance_to_metric(&so->oc, top.distance);
		so->haveRef = true;
	}

	scan->xs_heaptid = top.tid;
	scan->xs_recheck = false;
	scan->xs_recheckorderby = false;
	return true;
}

/*
 * amendscan
 */
void
ivfflat_endscan(IndexScanDesc scan)
{
	IvfScanOpaque so = (IvfScanOpaque) scan->opaque;

	if (so->started)
		elog(DEBUG1, "ivfflat scan of \"%s\": %d of %d lists read, " INT64_FORMAT " rows returned",
			 RelationGetRelationName(scan->indexRelation), so->nextList,
			 so->nlists, so->returned);
	MemoryContextDelete(so->scanCtx);
	pfree(so);
	scan->opaque = NULL;
}
