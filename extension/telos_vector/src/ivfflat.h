/*
 * ivfflat.h -- the ivfflat index access method of telos_vector: on-page
 * structures, GUCs and the functions its files share.
 *
 * An ivfflat index partitions the indexed vectors into `lists` by k-means
 * (ivfkmeans.c) at build time (ivfbuild.c).  Each list has a centroid and a
 * chain of entry pages holding (heap tid, vector) pairs, the vectors in
 * float4 or in half precision (the `storage` reloption, IVF_META_HALF).  A search computes
 * the distance from the query to every centroid, visits the `probes` nearest
 * lists and returns their entries in distance order; when the executor keeps
 * asking (a filter rejected what was returned, or a deeper rank is being
 * read) the scan widens into further lists in centroid-distance order, so a
 * filtered query never runs dry while matching rows exist (ivfscan.c).
 * Inserts go to the list of the nearest centroid (ivfinsert.c); VACUUM
 * deletes dead entries (ivfvacuum.c); the planner is told what a scan costs,
 * filters and LIMIT included (ivfcost.c).  Every page change goes through
 * generic WAL, so the index is crash-safe and replicated.
 *
 * On-disk layout (block numbers):
 *   0              metapage (IvfMetaPageData in the page contents)
 *   1 .. L         list pages: one IvfListTuple item per list, in list order
 *   after those    entry pages, each list's pages chained by nextblkno
 *
 * Every page carries IvfPageOpaqueData in its special space.  Pages read
 * back are not trusted: ivf_check_page() and the item accessors verify
 * sizes, kinds and dimensions and report ERRCODE_INDEX_CORRUPTED instead of
 * reading out of bounds.
 */
#ifndef TELOS_VECTOR_IVFFLAT_H
#define TELOS_VECTOR_IVFFLAT_H

#include "postgres.h"

#include "access/amapi.h"
#include "access/genam.h"
#include "access/generic_xlog.h"
#include "access/itup.h"
#include "common/pg_prng.h"
#include "fmgr.h"
#include "nodes/pathnodes.h"
#include "storage/bufmgr.h"
#include "utils/relcache.h"

#include "half.h"
#include "vector.h"

/* Format of the pages */
#define IVF_MAGIC				0x1F5F1A7E
#define IVF_VERSION				1	/* entries in float4 (storage 'full') */
#define IVF_VERSION_HALF		2	/* entries in half precision */
#define IVF_PAGE_ID				0xFF90	/* last uint16 of the special space */

#define IVF_METAPAGE_BLKNO		0
#define IVF_FIRST_LIST_BLKNO	1

/* Page kinds (IvfPageOpaqueData.flags) */
#define IVF_PAGE_META			0x0001
#define IVF_PAGE_LIST			0x0002
#define IVF_PAGE_ENTRY			0x0004

/* Metapage flags */
#define IVF_META_UNTRAINED		0x0001	/* built without data: one list */
#define IVF_META_HALF			0x0002	/* entries in half precision */

/*
 * The storage reloption: how entries hold their vectors.  'auto' (the
 * default) is half precision from IVF_HALF_MIN_DIM dimensions on, unless
 * the build finds a value half cannot hold (ivfbuild.c).
 */
#define IVF_STORAGE_AUTO		0
#define IVF_STORAGE_FULL		1
#define IVF_STORAGE_HALF		2
#define IVF_HALF_MIN_DIM		256

/*
 * An entry must fit on one page: BLCKSZ minus the page header, one line
 * pointer and the special space, i.e. about 2030 float4 components at 8 kB.
 * Like pgvector, ivfflat indexes at most 2000 dimensions.
 */
#define IVF_MAX_DIM				2000

/* Lists: reloption bounds; the default (-1) picks a count from the rows */
#define IVF_DEFAULT_LISTS		(-1)
#define IVF_MIN_LISTS			1
#define IVF_MAX_LISTS			32768

/* k-means: samples per list, iterations */
#define IVF_SAMPLES_PER_LIST	50
#define IVF_KMEANS_MAX_ITER		20

/*
 * The scan's widening rule calibrates itself on the first IVF_EXPAND_REF
 * tuples it returns (the depth a plain LIMIT 10 reads); see ivfscan.c.
 */
#define IVF_EXPAND_REF			10

/* Support function numbers of the operator classes */
#define IVF_DISTANCE_PROC		1	/* (vector, vector) -> float8, order */
#define IVF_NORM_PROC			2	/* (vector) -> float8: store unit vectors */
#define IVF_NPROCS				2

/* Subphases of CREATE INDEX reported in pg_stat_progress_create_index */
#define IVF_PHASE_SAMPLE		2
#define IVF_PHASE_KMEANS		3
#define IVF_PHASE_ASSIGN		4
#define IVF_PHASE_LOAD			5

typedef struct IvfPageOpaqueData
{
	BlockNumber nextblkno;		/* next page of the same chain, or Invalid */
	uint16		flags;			/* IVF_PAGE_* */
	uint16		page_id;		/* IVF_PAGE_ID */
} IvfPageOpaqueData;

typedef IvfPageOpaqueData *IvfPageOpaque;

#define IvfPageGetOpaque(page) ((IvfPageOpaque) PageGetSpecialPointer(page))

typedef struct IvfMetaPageData
{
	uint32		magic;			/* IVF_MAGIC */
	uint32		version;		/* IVF_VERSION */
	uint32		dimensions;		/* of every stored vector */
	uint32		lists;			/* number of lists (list tuples) */
	uint32		flags;			/* IVF_META_* */
	uint32		listPages;		/* list pages, from IVF_FIRST_LIST_BLKNO */
} IvfMetaPageData;

#define IvfPageGetMeta(page) ((IvfMetaPageData *) PageGetContents(page))

/*
 * A list tuple: where the list's entries are, then its centroid as a
 * Vector varlena at a MAXALIGNed offset.  insertPage is a hint (the last
 * page known to the last writer): inserters follow nextblkno from it.
 */
typedef struct IvfListHeader
{
	BlockNumber startPage;		/* first entry page, Invalid if none yet */
	BlockNumber insertPage;		/* last entry page, as far as known */
} IvfListHeader;

#define IVF_LIST_CENTROID(lt) \
	((Vector *) ((char *) (lt) + MAXALIGN(sizeof(IvfListHeader))))
#define IVF_LIST_SIZE(dim) \
	(MAXALIGN(sizeof(IvfListHeader)) + VECTOR_SIZE(dim))

/*
 * An entry: an IndexTupleData header (heap tid, size in t_info) followed by
 * the stored vector (unit length for cosine) as a Vector varlena.  The
 * vector is never compressed or toasted, so it can be passed to the
 * distance functions as it lies on the page.
 */
#define IVF_ENTRY_VECTOR(itup) \
	((Vector *) ((char *) (itup) + MAXALIGN(sizeof(IndexTupleData))))
#define IVF_ENTRY_SIZE(dim) \
	(MAXALIGN(sizeof(IndexTupleData)) + VECTOR_SIZE(dim))

/*
 * In an index with IVF_META_HALF (storage 'half'), an entry is the
 * IndexTupleData header followed by the vector's `dim` components as IEEE
 * half precision (src/half.h), nothing else: 3 kB at 1536 dimensions, two
 * entries a page instead of one.  Centroids stay float4.
 */
#define IVF_ENTRY_HALF(itup) \
	((uint16 *) ((char *) (itup) + MAXALIGN(sizeof(IndexTupleData))))
#define IVF_ENTRY_HALF_SIZE(dim) \
	(MAXALIGN(sizeof(IndexTupleData)) + sizeof(uint16) * (dim))

#define IvfMetaIsHalf(meta) (((meta)->flags & IVF_META_HALF) != 0)
#define IvfMetaEntrySize(meta) \
	(IvfMetaIsHalf(meta) ? IVF_ENTRY_HALF_SIZE((meta)->dimensions) : \
	 IVF_ENTRY_SIZE((meta)->dimensions))

/* How a distance is computed for an index (from its support functions) */
typedef enum IvfKind
{
	IVF_KIND_GENERIC,			/* call support function 1 through fmgr */
	IVF_KIND_L2,				/* squared Euclidean distance kernel */
	IVF_KIND_IP					/* negative inner product kernel */
} IvfKind;

typedef struct IvfOpclass
{
	IvfKind		kind;
	bool		normalize;		/* store and search unit vectors (cosine) */
	FmgrInfo   *distfn;			/* support function 1 (relcache-owned) */
	Oid			collation;
} IvfOpclass;

/*
 * A list as a scan or an insert sees it: where its entries are, where its
 * list tuple is, and the distance from the query (or the new value) to its
 * centroid.  Centroids are read in place on the list pages, not copied.
 */
typedef struct IvfListRef
{
	BlockNumber startPage;
	BlockNumber insertPage;
	BlockNumber listBlkno;		/* list page holding the list tuple */
	OffsetNumber listOffno;
	double		distance;
} IvfListRef;

/* reloptions */
typedef struct IvfOptions
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int			lists;			/* -1: pick from the number of rows */
	int			storage;		/* IVF_STORAGE_* */
} IvfOptions;

/*
 * The type's functions (src/vector_ops.c) that the operator classes name as
 * support function 1; recognised by address to call the kernels directly.
 */
extern Datum vector_l2_squared_distance(PG_FUNCTION_ARGS);
extern Datum vector_negative_inner_product(PG_FUNCTION_ARGS);

/* GUCs (ivfflat.c) */
extern int	ivfflat_probes;
extern int	ivfflat_max_probes;
extern bool ivfflat_adaptive;
extern double ivfflat_widening;

/* ivfflat.c: the handler, options, validation */
extern Datum ivfflathandler(PG_FUNCTION_ARGS);
extern bytea *ivfflat_options(Datum reloptions, bool validate);
extern bool ivfflat_validate(Oid opclassoid);
extern int	ivf_relation_lists(Relation index);
extern int	ivf_relation_storage(Relation index);

/* ivfbuild.c */
extern IndexBuildResult *ivfflat_build(Relation heap, Relation index,
									   struct IndexInfo *indexInfo);
extern void ivfflat_buildempty(Relation index);
extern char *ivfflat_buildphasename(int64 phasenum);
extern int	ivf_lists_for_rows(double rows);

/* ivfinsert.c */
extern bool ivfflat_insert(Relation index, Datum *values, bool *isnull,
						   ItemPointer heap_tid, Relation heap,
						   IndexUniqueCheck checkUnique, bool indexUnchanged,
						   struct IndexInfo *indexInfo);

/* ivfscan.c */
extern IndexScanDesc ivfflat_beginscan(Relation index, int nkeys, int norderbys);
extern void ivfflat_rescan(IndexScanDesc scan, ScanKey keys, int nkeys,
						   ScanKey orderbys, int norderbys);
extern bool ivfflat_gettuple(IndexScanDesc scan, ScanDirection dir);
extern void ivfflat_endscan(IndexScanDesc scan);

/* ivfvacuum.c */
extern IndexBulkDeleteResult *ivfflat_bulkdelete(IndexVacuumInfo *info,
												 IndexBulkDeleteResult *stats,
												 IndexBulkDeleteCallback callback,
												 void *callback_state);
extern IndexBulkDeleteResult *ivfflat_vacuumcleanup(IndexVacuumInfo *info,
													IndexBulkDeleteResult *stats);

/* ivfcost.c */
extern void ivfflat_costestimate(PlannerInfo *root, IndexPath *path,
								 double loop_count, Cost *indexStartupCost,
								 Cost *indexTotalCost,
								 Selectivity *indexSelectivity,
								 double *indexCorrelation, double *indexPages);
extern double ivf_lists_to_scan(int probes, int lists, double depth);

/* ivfkmeans.c */
extern void ivf_kmeans(float *samples, int nsamples, int dim, int k,
					   bool spherical, float *centroids, pg_prng_state *rng);

/* ivfutils.c: opclass, distances, pages */
extern void ivf_opclass_init(Relation index, IvfOpclass *oc);
extern double ivf_distance(const IvfOpclass *oc, const Vector *a,
						   const Vector *b);
extern double ivf_distance_to_metric(const IvfOpclass *oc, double d);
extern bool ivf_normalize(float *x, int dim);
extern double ivf_distance_half(const IvfOpclass *oc, const Vector *a,
								const uint16 *h, Vector *scratch);
extern bool ivf_storage_half(Relation index, const IvfOpclass *oc, int dim,
							 bool empty);
extern void ivf_check_half_range(Relation index, const Vector *v);
extern IndexTuple ivf_form_entry(const IvfMetaPageData *meta, const Vector *v,
								 ItemPointer tid, Size *itemsz);
extern Vector *ivf_prepare_value(const IvfOpclass *oc, Datum value, int dim);
extern int	ivf_column_dimensions(Relation index);
extern void ivf_init_page(Page page, uint16 flags);
extern void ivf_check_page(Relation index, Page page, BlockNumber blkno,
						   uint16 kind);
extern void ivf_read_meta(Relation index, IvfMetaPageData *meta);
extern void ivf_list_distances(Relation index, const IvfMetaPageData *meta,
							   const IvfOpclass *oc, const Vector *query,
							   IvfListRef *out);
extern IndexTuple ivf_entry_at(Relation index, Page page, BlockNumber blkno,
							   OffsetNumber off, const IvfMetaPageData *meta);
extern Buffer ivf_new_buffer(Relation index, ForkNumber fork);
extern void ivf_corrupted(Relation index, BlockNumber blkno,
						  const char *what) pg_attribute_noreturn();

#endif							/* TELOS_VECTOR_IVFFLAT_H */
