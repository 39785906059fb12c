/*
 * ivfbuild.c -- CREATE INDEX for ivfflat.
 *
 * Three passes:
 *  1. sample: one scan of the table keeps a uniform reservoir sample of the
 *     indexable values (non-null; non-zero for cosine), sized for
 *     IVF_SAMPLES_PER_LIST per list and bounded by maintenance_work_mem;
 *     the scan also counts the rows, which picks `lists` when the
 *     reloption leaves it to the build (ivf_lists_for_rows);
 *  2. cluster: k-means++ and Lloyd/Hamerly on the sample (ivfkmeans.c);
 *  3. assign and load: a second scan assigns every value to its nearest
 *     centroid and feeds (list, tid, vector) to a tuplesort (which spills
 *     to disk past maintenance_work_mem); the sorted stream is written list
 *     after list, so each list's pages are contiguous on disk.  Entries are
 *     float4 or half precision (ivf_storage_half); a value half cannot
 *     hold, met in this pass, is an error under storage 'half' and turns
 *     an 'auto' index to float4 (with a NOTICE) before anything is written.
 *
 * Pages are written through generic WAL with full images (one record per
 * page), like contrib/bloom: a crash during or after the build leaves
 * either no index or a complete one.
 *
 * A table without indexable rows gives an "untrained" index: one list with
 * a zero centroid, into which every later insert goes.  It answers queries
 * exactly (every scan reads the single list) but is no faster than a
 * sequential scan until REINDEX clusters it; a NOTICE says so.
 */
#include "postgres.h"

#include <math.h>

#include "access/tableam.h"
#include "access/xloginsert.h"
#include "catalog/index.h"
#include "catalog/pg_operator_d.h"
#include "catalog/pg_type_d.h"
#include "commands/progress.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "optimizer/plancat.h"
#include "pgstat.h"
#include "storage/bufmgr.h"
#include "storage/lmgr.h"
#include "storage/smgr.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/tuplesort.h"

#include "ivfflat.h"

typedef struct IvfBuildState
{
	Relation	heap;
	Relation	index;
	IndexInfo  *indexInfo;
	IvfOpclass	oc;
	int			dim;

	/* pass 1: reservoir sample */
	float	   *samples;		/* target x dim floats */
	int			target;
	int			nsamples;
	double		seen;			/* indexable values seen */
	pg_prng_state rng;

	/* pass 2 */
	int			lists;
	bool		half;			/* entries in half precision */
	bool		halfAuto;		/* chosen by storage 'auto': may fall back */
	double		halfRefused;	/* values half cannot hold (auto fell back) */
	Vector	  **centroids;		/* lists Vectors */
	Tuplesortstate *sort;
	TupleDesc	sortdesc;
	TupleTableSlot *slot;
	double		indtuples;

	MemoryContext tmpCtx;		/* reset after every tuple */
} IvfBuildState;

/*
 * The default number of lists for `rows` indexable rows: rows / 1000 up to
 * a million rows, sqrt(rows) above (the usual IVF rule: a list of about a
 * thousand rows, and about as many lists as rows per list beyond).
 */
int
ivf_lists_for_rows(double rows)
{
	double		lists;

	if (rows <= 1000000.0)
		lists = floor(rows / 1000.0);
	else
		lists = floor(sqrt(rows));
	if (lists < 1.0)
		lists = 1.0;
	if (lists > IVF_MAX_LISTS)
		lists = IVF_MAX_LISTS;
	return (int) lists;
}

/*
 * Names of the build's subphases for pg_stat_progress_create_index.
 */
char *
ivfflat_buildphasename(int64 phasenum)
{
	switch (phasenum)
	{
		case PROGRESS_CREATEIDX_SUBPHASE_INITIALIZE:
			return "initializing";
		case IVF_PHASE_SAMPLE:
			return "sampling table";
		case IVF_PHASE_KMEANS:
			return "performing k-means";
		case IVF_PHASE_ASSIGN:
			return "assigning tuples";
		case IVF_PHASE_LOAD:
			return "loading tuples";
		default:
			return NULL;
	}
}

/* Table scan callback of pass 1: reservoir sampling (Algorithm R) */
static void
sample_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
				bool tupleIsAlive, void *state)
{
	IvfBuildState *bs = (IvfBuildState *) state;
	MemoryContext old;
	Vector	   *v;
	int			slot;

	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(bs->tmpCtx);
	v = ivf_prepare_value(&bs->oc, values[0], bs->dim);
	if (v != NULL)
	{
		bs->seen += 1.0;
		if (bs->nsamples < bs->target)
			slot = bs->nsamples++;
		else
		{
			uint64		r = pg_prng_uint64_range(&bs->rng, 0, (uint64) bs->seen - 1);

			slot = r < (uint64) bs->target ? (int) r : -1;
		}
		if (slot >= 0)
			memcpy(bs->samples + (size_t) slot * bs->dim, v->x,
				   sizeof(float) * bs->dim);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpCtx);
}

/* Table scan callback of pass 3: nearest centroid, into the sort */
static void
assign_callback(Relation index, ItemPointer tid, Datum *values, bool *isnull,
				bool tupleIsAlive, void *state)
{
	IvfBuildState *bs = (IvfBuildState *) state;
	MemoryContext old;
	Vector	   *v;

	if (isnull[0])
		return;
	old = MemoryContextSwitchTo(bs->tmpCtx);
	v = ivf_prepare_value(&bs->oc, values[0], bs->dim);
	if (v != NULL && bs->half && vector_half_fits(v->x, bs->dim) >= 0)
	{
		/* storage 'half' refuses the value; 'auto' builds in full instead */
		if (!bs->halfAuto)
			ivf_check_half_range(bs->index, v);
		bs->half = false;
		bs->halfRefused += 1.0;
	}
	else if (v != NULL && bs->halfRefused > 0 && vector_half_fits(v->x, bs->dim) >= 0)
		bs->halfRefused += 1.0;
	if (v != NULL)
	{
		int			best = 0;
		double		bestd = 0.0;
		int			j;

		for (j = 0; j < bs->lists; j++)
		{
			double		d = ivf_distance(&bs->oc, v, bs->centroids[j]);

			if (j == 0 || d < bestd)
			{
				best = j;
				bestd = d;
			}
		}
		ExecClearTuple(bs->slot);
		bs->slot->tts_values[0] = Int32GetDatum(best);
		bs->slot->tts_isnull[0] = false;
		bs->slot->tts_values[1] = PointerGetDatum(tid);
		bs->slot->tts_isnull[1] = false;
		bs->slot->tts_values[2] = PointerGetDatum(v);
		bs->slot->tts_isnull[2] = false;
		ExecStoreVirtualTuple(bs->slot);
		tuplesort_puttupleslot(bs->sort, bs->slot);
		bs->indtuples += 1.0;
		if (((int64) bs->indtuples % 1000) == 0)
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE,
										 (int64) bs->indtuples);
	}
	MemoryContextSwitchTo(old);
	MemoryContextReset(bs->tmpCtx);
}

/*
 * Size the sample: IVF_SAMPLES_PER_LIST per list for the lists the table
 * will probably get, within maintenance_work_mem once the k-means working
 * memory is set aside.
 */
static void
plan_sample(IvfBuildState *bs, int requested)
{
	BlockNumber pages;
	double		tuples;
	double		allvisfrac;
	int			lists;
	double		budget = (double) maintenance_work_mem * 1024.0;
	double		per_sample = (double) sizeof(float) * bs->dim + 40.0;
	double		fixed;
	double		target;

	if (requested > 0)
		lists = requested;
	else
	{
		estimate_rel_size(bs->heap, NULL, &pages, &tuples, &allvisfrac);
		lists = ivf_lists_for_rows(tuples);
	}
	/* centroids, k-means sums and previous centroids: 16 bytes a component */
	fixed = (double) lists * (VECTOR_SIZE(bs->dim) + 16.0 * bs->dim + 64.0);
	if (fixed + per_sample * lists > budget)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("memory required is %.0f MB, maintenance_work_mem is %d MB",
						ceil((fixed + per_sample * lists) / (1024.0 * 1024.0)),
						maintenance_work_mem / 1024),
				 errhint("Increase maintenance_work_mem or use fewer lists.")));
	target = Min((double) lists * IVF_SAMPLES_PER_LIST, (budget - fixed) / per_sample);
	target = Min(target, (double) (MaxAllocHugeSize / sizeof(float)) / bs->dim);
	target = Min(target, (double) INT_MAX / 2);
	bs->target = Max((int) target, 1);
	bs->samples = palloc_extended(sizeof(float) * (size_t) bs->target * bs->dim,
								  MCXT_ALLOC_HUGE);
}

/* Write a page of `kind` at the end of the index, through generic WAL */
static Buffer
start_page(Relation index, BufferAccessStrategy bas, GenericXLogState **state,
		   Page *page, uint16 kind)
{
	Buffer		buf;

	LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBufferExtended(index, MAIN_FORKNUM, P_NEW, RBM_NORMAL, bas);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	UnlockRelationForExtension(index, ExclusiveLock);
	*state = GenericXLogStart(index);
	*page = GenericXLogRegisterBuffer(*state, buf, GENERIC_XLOG_FULL_IMAGE);
	ivf_init_page(*page, kind);
	return buf;
}

static void
finish_page(GenericXLogState *state, Buffer buf)
{
	GenericXLogFinish(state);
	UnlockReleaseBuffer(buf);
}

/*
 * Write the metapage and the list pages (start pages still unknown),
 * returning the number of list pages.
 */
static uint32
write_meta_and_lists(IvfBuildState *bs, bool untrained,
					 BufferAccessStrategy bas)
{
	GenericXLogState *state;
	Page		page;
	Buffer		buf;
	IvfMetaPageData *meta;
	Size		itemsz = IVF_LIST_SIZE(bs->dim);
	char	   *item = palloc0(itemsz);
	IvfListHeader *lh = (IvfListHeader *) item;
	uint32		listPages = 0;
	uint32		meta_pages;
	int			j;

	buf = start_page(bs->index, bas, &state, &page, IVF_PAGE_META);
	if (BufferGetBlockNumber(buf) != IVF_METAPAGE_BLKNO)
		elog(ERROR, "ivfflat metapage is not the first block of index \"%s\"",
			 RelationGetRelationName(bs->index));
	meta = IvfPageGetMeta(page);
	meta->magic = IVF_MAGIC;
	meta->version = bs->half ? IVF_VERSION_HALF : IVF_VERSION;
	meta->dimensions = bs->dim;
	meta->lists = bs->lists;
	meta->flags = (untrained ? IVF_META_UNTRAINED : 0) | (bs->half ? IVF_META_HALF : 0);
	/* the list pages follow; count them ahead of writing */
	{
		Size		avail = BLCKSZ - MAXALIGN(SizeOfPageHeaderData) -
			MAXALIGN(sizeof(IvfPageOpaqueData));
		Size		per = avail / (MAXALIGN(itemsz) + sizeof(ItemIdData));

		meta->listPages = (bs->lists + per - 1) / per;
		meta_pages = meta->listPages;
	}
	((PageHeader) page)->pd_lower = ((char *) meta + sizeof(IvfMetaPageData)) - (char *) page;
	finish_page(state, buf);

	lh->startPage = InvalidBlockNumber;
	lh->insertPage = InvalidBlockNumber;
	buf = InvalidBuffer;
	for (j = 0; j < bs->lists; j++)
	{
		memcpy(IVF_LIST_CENTROID(item), bs->centroids[j], VECTOR_SIZE(bs->dim));
		if (BufferIsValid(buf) && PageGetFreeSpace(page) < MAXALIGN(itemsz))
		{
			IvfPageGetOpaque(page)->nextblkno = BufferGetBlockNumber(buf) + 1;
			finish_page(state, buf);
			buf = InvalidBuffer;
		}
		if (!BufferIsValid(buf))
		{
			buf = start_page(bs->index, bas, &state, &page, IVF_PAGE_LIST);
			listPages++;
		}
		if (PageAddItem(page, (Item) item, itemsz, InvalidOffsetNumber,
						false, false) == InvalidOffsetNumber)
			elog(ERROR, "failed to add list tuple to index \"%s\"",
				 RelationGetRelationName(bs->index));
	}
	finish_page(state, buf);
	pfree(item);
	if (listPages != meta_pages)
		elog(ERROR, "ivfflat index \"%s\" has %u list pages, expected %u",
			 RelationGetRelationName(bs->index), listPages, meta_pages);
	return listPages;
}

/*
 * Write the sorted entries list by list; record each list's first and last
 * page in first[] and last[].
 */
static void
write_entries(IvfBuildState *bs, BlockNumber *first, BlockNumber *last,
			  BufferAccessStrategy bas)
{
	TupleTableSlot *slot = MakeSingleTupleTableSlot(bs->sortdesc, &TTSOpsMinimalTuple);
	IvfMetaPageData emeta;		/* what the entries' format depends on */
	Size		itemsz;
	IndexTuple	itup;
	GenericXLogState *state = NULL;
	Page		page = NULL;
	Buffer		buf = InvalidBuffer;
	int			cur = -1;
	double		done = 0;

	memset(&emeta, 0, sizeof(emeta));
	emeta.dimensions = bs->dim;
	emeta.flags = bs->half ? IVF_META_HALF : 0;
	itemsz = IvfMetaEntrySize(&emeta);
	itup = palloc0(itemsz);
	itup->t_info = (unsigned short) itemsz;
	for (;;)
	{
		bool		more = tuplesort_gettupleslot(bs->sort, true, false, slot, NULL);
		int			list = bs->lists;
		bool		isnull;

		CHECK_FOR_INTERRUPTS();
		if (more)
			list = DatumGetInt32(slot_getattr(slot, 1, &isnull));

		/* close the current list and open the empty ones up to `list` */
		while (cur < list)
		{
			if (BufferIsValid(buf))
			{
				last[cur] = BufferGetBlockNumber(buf);
				finish_page(state, buf);
				buf = InvalidBuffer;
			}
			if (++cur >= bs->lists)
				break;
			buf = start_page(bs->index, bas, &state, &page, IVF_PAGE_ENTRY);
			first[cur] = BufferGetBlockNumber(buf);
		}
		if (!more)
			break;

		itup->t_tid = *((ItemPointer) DatumGetPointer(slot_getattr(slot, 2, &isnull)));
		{
			/* the sort may have stored a small vector with a short header */
			MemoryContext old = MemoryContextSwitchTo(bs->tmpCtx);
			Vector	   *vec = DatumGetVector(slot_getattr(slot, 3, &isnull));

			if (vec->dim != bs->dim)
				elog(ERROR, "ivfflat build sorted a vector of %d dimensions, expected %d",
					 vec->dim, bs->dim);
			if (bs->half)
				vector_float_to_half(vec->x, IVF_ENTRY_HALF(itup), bs->dim);
			else
			{
				memcpy(IVF_ENTRY_VECTOR(itup), vec, VECTOR_SIZE(bs->dim));
				SET_VARSIZE(IVF_ENTRY_VECTOR(itup), VECTOR_SIZE(bs->dim));
			}
			MemoryContextSwitchTo(old);
			MemoryContextReset(bs->tmpCtx);
		}

		if (PageGetFreeSpace(page) < MAXALIGN(itemsz))
		{
			Buffer		next;
			GenericXLogState *nstate;
			Page		npage;

			next = start_page(bs->index, bas, &nstate, &npage, IVF_PAGE_ENTRY);
			IvfPageGetOpaque(page)->nextblkno = BufferGetBlockNumber(next);
			finish_page(state, buf);
			buf = next;
			state = nstate;
			page = npage;
		}
		if (PageAddItem(page, (Item) itup, itemsz, InvalidOffsetNumber,
						false, false) == InvalidOffsetNumber)
			elog(ERROR, "failed to add entry to index \"%s\"",
				 RelationGetRelationName(bs->index));
		done += 1.0;
		if (((int64) done % 1000) == 0)
			pgstat_progress_update_param(PROGRESS_CREATEIDX_TUPLES_DONE, (int64) done);
	}
	pfree(itup);
	ExecDropSingleTupleTableSlot(slot);
}

/* Put the first and last entry pages into the list tuples */
static void
link_lists(IvfBuildState *bs, uint32 listPages, const BlockNumber *first,
		   const BlockNumber *last)
{
	int			j = 0;
	uint32		p;

	for (p = 0; p < listPages; p++)
	{
		BlockNumber blkno = IVF_FIRST_LIST_BLKNO + p;
		Buffer		buf = ReadBuffer(bs->index, blkno);
		GenericXLogState *state;
		Page		page;
		OffsetNumber off;
		OffsetNumber maxoff;

		LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
		state = GenericXLogStart(bs->index);
		page = GenericXLogRegisterBuffer(state, buf, 0);
		maxoff = PageGetMaxOffsetNumber(page);
		for (off = FirstOffsetNumber; off <= maxoff && j < bs->lists; off = OffsetNumberNext(off), j++)
		{
			IvfListHeader *lh = (IvfListHeader *) PageGetItem(page, PageGetItemId(page, off));

			lh->startPage = first[j];
			lh->insertPage = last[j];
		}
		GenericXLogFinish(state);
		UnlockReleaseBuffer(buf);
	}
}

/*
 * ambuild: sample, cluster, assign and load (see the top of the file).
 */
IndexBuildResult *
ivfflat_build(Relation heap, Relation index, IndexInfo *indexInfo)
{
	IndexBuildResult *result;
	IvfBuildState bs;
	int			requested = ivf_relation_lists(index);
	double		reltuples;
	bool		untrained;
	float	   *cfloats;
	BlockNumber *first;
	BlockNumber *last;
	uint32		listPages;
	BufferAccessStrategy bas;
	int			j;

	if (RelationGetNumberOfBlocks(index) != 0)
		elog(ERROR, "index \"%s\" already contains data",
			 RelationGetRelationName(index));

	memset(&bs, 0, sizeof(bs));
	bs.heap = heap;
	bs.index = index;
	bs.indexInfo = indexInfo;
	bs.dim = ivf_column_dimensions(index);
	ivf_opclass_init(index, &bs.oc);
	pg_prng_seed(&bs.rng, UINT64CONST(0x1f5f1a7e5eed));
	bs.tmpCtx = AllocSetContextCreate(CurrentMemoryContext,
									  "ivfflat build temporary context",
									  ALLOCSET_DEFAULT_SIZES);

	/* 1. sample */
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVF_PHASE_SAMPLE);
	plan_sample(&bs, requested);
	table_index_build_scan(heap, index, indexInfo, true, true,
						   sample_callback, (void *) &bs, NULL);

	/* 2. cluster */
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVF_PHASE_KMEANS);
	bs.lists = requested > 0 ? requested : ivf_lists_for_rows(bs.seen);
	untrained = (bs.nsamples == 0);
	if (untrained)
	{
		bs.lists = 1;
		ereport(NOTICE,
				(errmsg("ivfflat index \"%s\" was built on a table without rows and has a single list",
						RelationGetRelationName(index)),
				 errdetail("Every search reads the whole index until it is rebuilt."),
				 errhint("REINDEX INDEX %s after loading data.",
						 RelationGetRelationName(index))));
	}
	else if (bs.nsamples < bs.lists)
	{
		ereport(NOTICE,
				(errmsg("ivfflat index \"%s\" was built with %d lists instead of %d",
						RelationGetRelationName(index), bs.nsamples, bs.lists),
				 errdetail("The table has only %.0f rows to index.", bs.seen),
				 errhint("REINDEX it when the table has grown.")));
		bs.lists = bs.nsamples;
	}

	/* use at most IVF_SAMPLES_PER_LIST per list (a random subset) */
	if (bs.nsamples > bs.lists * IVF_SAMPLES_PER_LIST)
	{
		int			keep = bs.lists * IVF_SAMPLES_PER_LIST;
		float	   *tmp = palloc(sizeof(float) * bs.dim);
		int			i;

		for (i = 0; i < keep; i++)
		{
			int			r = (int) pg_prng_uint64_range(&bs.rng, i, bs.nsamples - 1);

			if (r != i)
			{
				memcpy(tmp, bs.samples + (size_t) i * bs.dim, sizeof(float) * bs.dim);
				memcpy(bs.samples + (size_t) i * bs.dim,
					   bs.samples + (size_t) r * bs.dim, sizeof(float) * bs.dim);
				memcpy(bs.samples + (size_t) r * bs.dim, tmp, sizeof(float) * bs.dim);
			}
		}
		pfree(tmp);
		bs.nsamples = keep;
	}

	cfloats = palloc_extended(sizeof(float) * (size_t) bs.lists * bs.dim,
								 MCXT_ALLOC_HUGE | MCXT_ALLOC_ZERO);
	if (!untrained)
		ivf_kmeans(bs.samples, bs.nsamples, bs.dim, bs.lists, bs.oc.normalize,
				   cfloats, &bs.rng);
	pfree(bs.samples);
	bs.samples = NULL;

	bs.centroids = palloc(sizeof(Vector *) * bs.lists);
	for (j = 0; j < bs.lists; j++)
	{
		Vector	   *c = palloc(VECTOR_SIZE(bs.dim));

		SET_VARSIZE(c, VECTOR_SIZE(bs.dim));
		c->dim = bs.dim;
		c->unused = 0;
		memcpy(c->x, cfloats + (size_t) j * bs.dim, sizeof(float) * bs.dim);
		bs.centroids[j] = c;
	}
	pfree(cfloats);

	/* 3. assign (which may find values half cannot hold) */
	bs.half = ivf_storage_half(index, &bs.oc, bs.dim, untrained);
	bs.halfAuto = bs.half && ivf_relation_storage(index) == IVF_STORAGE_AUTO;
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVF_PHASE_ASSIGN);
	bs.sortdesc = CreateTemplateTupleDesc(3);
	TupleDescInitEntry(bs.sortdesc, (AttrNumber) 1, "list", INT4OID, -1, 0);
	TupleDescInitEntry(bs.sortdesc, (AttrNumber) 2, "tid", TIDOID, -1, 0);
	TupleDescInitEntry(bs.sortdesc, (AttrNumber) 3, "vector",
					   TupleDescAttr(RelationGetDescr(index), 0)->atttypid, -1, 0);
	{
		AttrNumber	attNums[] = {1};
		Oid			sortOperators[] = {Int4LessOperator};
		Oid			sortCollations[] = {InvalidOid};
		bool		nullsFirstFlags[] = {false};

		bs.sort = tuplesort_begin_heap(bs.sortdesc, 1, attNums, sortOperators,
									   sortCollations, nullsFirstFlags,
									   maintenance_work_mem, NULL, TUPLESORT_NONE);
	}
	bs.slot = MakeSingleTupleTableSlot(bs.sortdesc, &TTSOpsVirtual);
	reltuples = table_index_build_scan(heap, index, indexInfo, true, true,
									   assign_callback, (void *) &bs, NULL);
	tuplesort_performsort(bs.sort);
	if (bs.halfRefused > 0)
		ereport(NOTICE,
				(errmsg("ivfflat index \"%s\" stores full precision: %.0f values are beyond half precision's range",
						RelationGetRelationName(index), bs.halfRefused),
				 errdetail("Half precision holds components up to %g in magnitude.",
						   (double) VECTOR_HALF_MAX),
				 errhint("Say WITH (storage = 'full') to choose it explicitly.")));

	/* 4. load */
	pgstat_progress_update_param(PROGRESS_CREATEIDX_SUBPHASE, IVF_PHASE_LOAD);
	bas = GetAccessStrategy(BAS_BULKWRITE);
	listPages = write_meta_and_lists(&bs, untrained, bas);
	first = palloc(sizeof(BlockNumber) * bs.lists);
	last = palloc(sizeof(BlockNumber) * bs.lists);
	write_entries(&bs, first, last, bas);
	link_lists(&bs, listPages, first, last);
	FreeAccessStrategy(bas);

	tuplesort_end(bs.sort);
	ExecDropSingleTupleTableSlot(bs.slot);
	MemoryContextDelete(bs.tmpCtx);

	result = (IndexBuildResult *) palloc(sizeof(IndexBuildResult));
	result->heap_tuples = reltuples;
	result->index_tuples = bs.indtuples;
	return result;
}

/*
 * ambuildempty: the init fork of an unlogged index, copied over the main
 * fork after a crash: an untrained index (metapage, one list, no entries).
 * Written through smgr and WAL-logged, as the init fork must be.
 */
void
ivfflat_buildempty(Relation index)
{
	int			dim = ivf_column_dimensions(index);
	Page		page = (Page) palloc(BLCKSZ);
	IvfMetaPageData *meta;
	Size		itemsz = IVF_LIST_SIZE(dim);
	char	   *item = palloc0(itemsz);
	IvfListHeader *lh = (IvfListHeader *) item;
	Vector	   *c = IVF_LIST_CENTROID(item);
	IvfOpclass	oc;
	bool		half;

	ivf_opclass_init(index, &oc);
	half = ivf_storage_half(index, &oc, dim, true);
	ivf_init_page(page, IVF_PAGE_META);
	meta = IvfPageGetMeta(page);
	meta->magic = IVF_MAGIC;
	meta->version = half ? IVF_VERSION_HALF : IVF_VERSION;
	meta->dimensions = dim;
	meta->lists = 1;
	meta->flags = IVF_META_UNTRAINED | (half ? IVF_META_HALF : 0);
	meta->listPages = 1;
	((PageHeader) page)->pd_lower = ((char *) meta + sizeof(IvfMetaPageData)) - (char *) page;
	PageSetChecksumInplace(page, IVF_METAPAGE_BLKNO);
	smgrextend(RelationGetSmgr(index), INIT_FORKNUM, IVF_METAPAGE_BLKNO,
			   (char *) page, true);
	log_newpage(&(RelationGetSmgr(index))->smgr_rnode.node, INIT_FORKNUM,
				IVF_METAPAGE_BLKNO, page, true);

	ivf_init_page(page, IVF_PAGE_LIST);
	lh->startPage = InvalidBlockNumber;
	lh->insertPage = InvalidBlockNumber;
	SET_VARSIZE(c, VECTOR_SIZE(dim));
	c->dim = dim;
	if (PageAddItem(page, (Item) item, itemsz, InvalidOffsetNumber,
					false, false) == InvalidOffsetNumber)
		elog(ERROR, "failed to add list tuple to index \"%s\"",
			 RelationGetRelationName(index));
	PageSetChecksumInplace(page, IVF_FIRST_LIST_BLKNO);
	smgrextend(RelationGetSmgr(index), INIT_FORKNUM, IVF_FIRST_LIST_BLKNO,
			   (char *) page, true);
	log_newpage(&(RelationGetSmgr(index))->smgr_rnode.node, INIT_FORKNUM,
				IVF_FIRST_LIST_BLKNO, page, true);

	smgrimmedsync(RelationGetSmgr(index), INIT_FORKNUM);
	pfree(item);
	pfree(page);
}
