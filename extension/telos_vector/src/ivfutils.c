/*
 * ivfutils.c -- what the phases of ivfflat share: the operator class of an
 * index (which distance, whether vectors are normalised), distances, value
 * preparation, and page access with the checks that keep a damaged page
 * from being read out of bounds.
 */
#include "postgres.h"

#include <math.h>

#include "access/relscan.h"
#include "storage/lmgr.h"
#include "utils/rel.h"

#include "ivfflat.h"

/*
 * Fill *oc from the index's support functions.  Support function 1 is the
 * ordering distance; when it is one of ours the kernels are called directly
 * (IVF_KIND_L2, IVF_KIND_IP), else through fmgr.  A support function 2
 * means vectors are stored and searched at unit length (cosine).
 */
void
ivf_opclass_init(Relation index, IvfOpclass *oc)
{
	FmgrInfo   *fn = index_getprocinfo(index, 1, IVF_DISTANCE_PROC);

	oc->distfn = fn;
	oc->collation = index->rd_indcollation[0];
	if (fn->fn_addr == vector_l2_squared_distance)
		oc->kind = IVF_KIND_L2;
	else if (fn->fn_addr == vector_negative_inner_product)
		oc->kind = IVF_KIND_IP;
	else
		oc->kind = IVF_KIND_GENERIC;
	oc->normalize = OidIsValid(index_getprocid(index, 1, IVF_NORM_PROC));
}

/*
 * The ordering distance between a and b (smaller is nearer).  The caller
 * has checked that both have the index's dimension.
 */
double
ivf_distance(const IvfOpclass *oc, const Vector *a, const Vector *b)
{
	switch (oc->kind)
	{
		case IVF_KIND_L2:
			return (double) vector_l2_squared(a->x, b->x, a->dim);
		case IVF_KIND_IP:
			return -vector_inner(a->x, b->x, a->dim);
		default:
			return DatumGetFloat8(FunctionCall2Coll(oc->distfn, oc->collation,
													PointerGetDatum(a),
													PointerGetDatum(b)));
	}
}

/*
 * The ordering distance between the query a and an entry stored in half
 * precision, h (a->dim components).  The L2 and inner-product kernels read
 * h directly (src/half.h); another distance function gets h converted
 * into `scratch`, a Vector of a's dimension that the caller owns.
 */
double
ivf_distance_half(const IvfOpclass *oc, const Vector *a, const uint16 *h,
				  Vector *scratch)
{
	switch (oc->kind)
	{
		case IVF_KIND_L2:
			return (double) vector_l2_squared_half(a->x, h, a->dim);
		case IVF_KIND_IP:
			return -vector_inner_half(a->x, h, a->dim);
		default:
			vector_half_to_float(h, scratch->x, a->dim);
			return ivf_distance(oc, a, scratch);
	}
}

/*
 * Whether a new index (or its init fork) stores entries in half precision:
 * storage 'half' and 'full' say so; 'auto' means half from
 * IVF_HALF_MIN_DIM dimensions on, where the memory traffic of a scan is
 * what costs -- except for an `empty` build (no rows yet) of an operator
 * class that does not normalise, whose later values are unknown (cosine
 * stores unit vectors, which half always holds).  A build with rows under
 * 'auto' may still fall back to full (ivfbuild.c).
 */
bool
ivf_storage_half(Relation index, const IvfOpclass *oc, int dim, bool empty)
{
	switch (ivf_relation_storage(index))
	{
		case IVF_STORAGE_HALF:
			return true;
		case IVF_STORAGE_FULL:
			return false;
		default:
			return dim >= IVF_HALF_MIN_DIM && (oc->normalize || !empty);
	}
}

/*
 * Refuse a value that half precision cannot hold (a component beyond
 * +-65504) for an index with storage 'half': an ERROR rather than an
 * infinity in the index.
 */
void
ivf_check_half_range(Relation index, const Vector *v)
{
	int			i = vector_half_fits(v->x, v->dim);

	if (i >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("value out of range for ivfflat index \"%s\", which stores half precision",
						RelationGetRelationName(index)),
				 errdetail("Component %d is %g; half precision holds values up to %g in magnitude.",
						   i + 1, (double) v->x[i], (double) VECTOR_HALF_MAX),
				 errhint("Rebuild the index WITH (storage = 'full').")));
}

/*
 * A new entry for heap tuple `tid` and prepared value v, in the index's
 * storage; *itemsz is set to its size.  Palloc'd in the current context.
 * The caller has checked v's range for a half index.
 */
IndexTuple
ivf_form_entry(const IvfMetaPageData *meta, const Vector *v, ItemPointer tid,
			   Size *itemsz)
{
	Size		sz = IvfMetaEntrySize(meta);
	IndexTuple	itup = palloc0(sz);

	itup->t_tid = *tid;
	itup->t_info = (unsigned short) sz;
	if (IvfMetaIsHalf(meta))
		vector_float_to_half(v->x, IVF_ENTRY_HALF(itup), meta->dimensions);
	else
	{
		memcpy(IVF_ENTRY_VECTOR(itup), v, VECTOR_SIZE(meta->dimensions));
		SET_VARSIZE(IVF_ENTRY_VECTOR(itup), VECTOR_SIZE(meta->dimensions));
	}
	*itemsz = sz;
	return itup;
}

/*
 * An ordering distance turned into a length the scan's widening rule can
 * add and subtract (ivfscan.c): the Euclidean distance for L2 and for unit
 * vectors (|a - b|^2 = 2 - 2 a.b), the value itself otherwise.
 */
double
ivf_distance_to_metric(const IvfOpclass *oc, double d)
{
	if (oc->kind == IVF_KIND_L2)
		return sqrt(Max(d, 0.0));
	if (oc->kind == IVF_KIND_IP && oc->normalize)
		return sqrt(Max(2.0 + 2.0 * d, 0.0));
	return d;
}

/*
 * Scale x to unit length in place.  Returns false (x unchanged) when its
 * norm is zero or not finite: such a vector has no direction.
 */
bool
ivf_normalize(float *x, int dim)
{
	double		norm = vector_norm(x, dim);
	int			i;

	if (!(norm > 0.0) || isinf(norm))
		return false;
	for (i = 0; i < dim; i++)
		x[i] = (float) (x[i] / norm);
	return true;
}

/*
 * The value to store or search for: the detoasted vector, checked to have
 * `dim` components, and a normalised copy when the operator class works on
 * unit vectors.  Returns NULL when a vector cannot be normalised (a zero
 * vector under cosine, whose distance to anything is undefined): it is not
 * indexed.  Palloc'd in the current context when it is a copy.
 */
Vector *
ivf_prepare_value(const IvfOpclass *oc, Datum value, int dim)
{
	Vector	   *v = DatumGetVector(value);

	if (v->dim != dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", dim, v->dim)));
	if (oc->normalize)
	{
		Vector	   *copy = (Vector *) palloc(VECTOR_SIZE(dim));

		memcpy(copy, v, VECTOR_SIZE(dim));
		SET_VARSIZE(copy, VECTOR_SIZE(dim));
		if (!ivf_normalize(copy->x, dim))
		{
			pfree(copy);
			return NULL;
		}
		v = copy;
	}
	return v;
}

/*
 * The dimension of the indexed column, from its type modifier (vector(n)).
 * An ivfflat index needs it up front: every entry and centroid has it.
 */
int
ivf_column_dimensions(Relation index)
{
	int			dim = TupleDescAttr(RelationGetDescr(index), 0)->atttypmod;

	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("column does not have dimensions"),
				 errhint("Declare the column as vector(n), or index an expression cast to vector(n).")));
	if (dim > IVF_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("column cannot have more than %d dimensions for ivfflat index",
						IVF_MAX_DIM),
				 errdetail("The column has %d dimensions.", dim)));
	return dim;
}

/*
 * Initialise an empty ivfflat page of the given kind.
 */
void
ivf_init_page(Page page, uint16 flags)
{
	IvfPageOpaque opaque;

	PageInit(page, BLCKSZ, sizeof(IvfPageOpaqueData));
	opaque = IvfPageGetOpaque(page);
	opaque->nextblkno = InvalidBlockNumber;
	opaque->flags = flags;
	opaque->page_id = IVF_PAGE_ID;
}

/*
 * Report a damaged index page and stop (ERROR, never a crash).
 */
void
ivf_corrupted(Relation index, BlockNumber blkno, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INDEX_CORRUPTED),
			 errmsg("index \"%s\" contains a corrupted page at block %u",
					RelationGetRelationName(index), blkno),
			 errdetail("%s", what),
			 errhint("Please REINDEX it.")));
}

/*
 * Check that `page` is an initialised ivfflat page of kind `kind`.
 */
void
ivf_check_page(Relation index, Page page, BlockNumber blkno, uint16 kind)
{
	IvfPageOpaque opaque;

	if (PageIsNew(page))
		ivf_corrupted(index, blkno, "The page is not initialized.");
	if (PageGetSpecialSize(page) != MAXALIGN(sizeof(IvfPageOpaqueData)))
		ivf_corrupted(index, blkno, "The special space has the wrong size.");
	opaque = IvfPageGetOpaque(page);
	if (opaque->page_id != IVF_PAGE_ID)
		ivf_corrupted(index, blkno, "The page is not an ivfflat page.");
	if ((opaque->flags & kind) == 0)
		ivf_corrupted(index, blkno, "The page is not of the expected kind.");
}

/*
 * Read and check the metapage into *meta.
 */
void
ivf_read_meta(Relation index, IvfMetaPageData *meta)
{
	Buffer		buf;
	Page		page;
	BlockNumber nblocks = RelationGetNumberOfBlocks(index);

	if (nblocks == 0)
		ivf_corrupted(index, IVF_METAPAGE_BLKNO, "The index has no metapage.");
	buf = ReadBuffer(index, IVF_METAPAGE_BLKNO);
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	ivf_check_page(index, page, IVF_METAPAGE_BLKNO, IVF_PAGE_META);
	memcpy(meta, IvfPageGetMeta(page), sizeof(IvfMetaPageData));
	UnlockReleaseBuffer(buf);

	if (meta->magic != IVF_MAGIC)
		ivf_corrupted(index, IVF_METAPAGE_BLKNO, "The metapage has the wrong magic number.");
	if (meta->version != IVF_VERSION && meta->version != IVF_VERSION_HALF)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("index \"%s\" has ivfflat format version %u, this library reads versions %d and %d",
						RelationGetRelationName(index), meta->version, IVF_VERSION,
						IVF_VERSION_HALF),
				 errhint("REINDEX it.")));
	if ((meta->version == IVF_VERSION_HALF) != IvfMetaIsHalf(meta))
		ivf_corrupted(index, IVF_METAPAGE_BLKNO, "The metapage's version and storage disagree.");
	if (meta->dimensions < 1 || meta->dimensions > IVF_MAX_DIM ||
		meta->lists < 1 || meta->lists > IVF_MAX_LISTS ||
		meta->listPages < 1 || meta->listPages >= nblocks)
		ivf_corrupted(index, IVF_METAPAGE_BLKNO, "The metapage holds values out of range.");
}

/*
 * For every list of the index, in list order, fill out[i] with where the
 * list is and the distance from `query` to its centroid (0 for every list
 * when query is NULL).  `out` has meta->lists entries.
 */
void
ivf_list_distances(Relation index, const IvfMetaPageData *meta,
				   const IvfOpclass *oc, const Vector *query,
				   IvfListRef *out)
{
	int			dim = meta->dimensions;
	uint32		n = 0;
	uint32		p;

	for (p = 0; p < meta->listPages; p++)
	{
		BlockNumber blkno = IVF_FIRST_LIST_BLKNO + p;
		Buffer		buf = ReadBuffer(index, blkno);
		Page		page;
		OffsetNumber off;
		OffsetNumber maxoff;

		LockBuffer(buf, BUFFER_LOCK_SHARE);
		page = BufferGetPage(buf);
		ivf_check_page(index, page, blkno, IVF_PAGE_LIST);
		maxoff = PageGetMaxOffsetNumber(page);
		for (off = FirstOffsetNumber; off <= maxoff; off = OffsetNumberNext(off))
		{
			ItemId		iid = PageGetItemId(page, off);
			char	   *item;
			IvfListHeader *lh;
			Vector	   *centroid;

			if (!ItemIdIsNormal(iid) ||
				ItemIdGetLength(iid) != IVF_LIST_SIZE(dim) ||
				ItemIdGetOffset(iid) + ItemIdGetLength(iid) > ((PageHeader) page)->pd_special)
				ivf_corrupted(index, blkno, "A list tuple has the wrong size.");
			if (n >= meta->lists)
				ivf_corrupted(index, blkno, "There are more list tuples than lists.");
			item = PageGetItem(page, iid);
			lh = (IvfListHeader *) item;
			centroid = IVF_LIST_CENTROID(item);
			if (VARSIZE(centroid) != VECTOR_SIZE(dim) || centroid->dim != dim)
				ivf_corrupted(index, blkno, "A centroid has the wrong dimensions.");
			out[n].startPage = lh->startPage;
			out[n].insertPage = lh->insertPage;
			out[n].listBlkno = blkno;
			out[n].listOffno = off;
			out[n].distance = query != NULL ? ivf_distance(oc, query, centroid) : 0.0;
			n++;
		}
		UnlockReleaseBuffer(buf);
	}
	if (n != meta->lists)
		ivf_corrupted(index, IVF_FIRST_LIST_BLKNO, "There are fewer list tuples than lists.");
}

/*
 * The entry at `off` of an entry page, checked: its size matches the
 * index's dimension and storage and it lies inside the page.  NULL for a
 * line pointer that is not in use.
 */
IndexTuple
ivf_entry_at(Relation index, Page page, BlockNumber blkno, OffsetNumber off,
			 const IvfMetaPageData *meta)
{
	ItemId		iid = PageGetItemId(page, off);
	IndexTuple	itup;
	Vector	   *v;
	int			dim = meta->dimensions;

	if (!ItemIdIsNormal(iid))
		return NULL;
	if (ItemIdGetLength(iid) != IvfMetaEntrySize(meta) ||
		ItemIdGetOffset(iid) + ItemIdGetLength(iid) > ((PageHeader) page)->pd_special)
		ivf_corrupted(index, blkno, "An entry has the wrong size.");
	itup = (IndexTuple) PageGetItem(page, iid);
	if (IvfMetaIsHalf(meta))
		return itup;			/* nothing but the components */
	v = IVF_ENTRY_VECTOR(itup);
	if (VARSIZE(v) != VECTOR_SIZE(dim) || v->dim != dim)
		ivf_corrupted(index, blkno, "An entry has the wrong dimensions.");
	return itup;
}

/*
 * A new page at the end of the index's `fork`, pinned and exclusively
 * locked; the caller initialises it (through generic WAL).
 */
Buffer
ivf_new_buffer(Relation index, ForkNumber fork)
{
	bool		needLock = !RELATION_IS_LOCAL(index);
	Buffer		buf;

	if (needLock)
		LockRelationForExtension(index, ExclusiveLock);
	buf = ReadBufferExtended(index, fork, P_NEW, RBM_NORMAL, NULL);
	LockBuffer(buf, BUFFER_LOCK_EXCLUSIVE);
	if (needLock)
		UnlockRelationForExtension(index, ExclusiveLock);
	return buf;
}
