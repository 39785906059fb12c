/*
 * ivfcost.c -- what an ivfflat scan costs, so that the planner picks it
 * when it is the fast plan and an exact plan otherwise.
 *
 * A scan pays, before its first row (startup): one distance per centroid,
 * then reading and ranking every entry of the `probes` nearest lists.  Each
 * further row may widen the scan to more lists (ivfscan.c).  How many rows
 * the executor will pull depends on the query: ORDER BY ... LIMIT k over a
 * table whose WHERE clauses and row-level security policies keep a fraction
 * s of the rows pulls about k / s rows from the index.  With the LIMIT known
 * (root->limit_tuples, a query over one table), the estimate uses that
 * depth; otherwise it assumes every row is read.
 *
 * The planner prices a LIMIT by interpolating linearly between a path's
 * startup and total cost (startup + (total - startup) * k / rows).  The
 * scan's real cost is not linear in the rows read (the first rows come from
 * the probed lists, deeper rows from a growing set of lists), so the total
 * cost given here is the one that makes that interpolation land on the
 * cost at the expected depth.  Heap fetches are the core's business
 * (cost_index, from indexSelectivity = 1: any row may come back).
 *
 * The same file provides the cost of a vector distance for the planner
 * (vector_distance_support, a SupportRequestCost function attached to the
 * distance functions), so that an exact plan -- the rows of a small tenant
 * through its btree index, then a sort on the distance -- is charged for
 * its distances and for detoasting every stored vector, as it is in
 * reality; without it a 1536-dimension distance would cost what an integer
 * comparison costs and exact plans would look cheap at any size.
 */
#include "postgres.h"

#include <float.h>

#include <math.h>

#include "access/heaptoast.h"
#include "access/relation.h"
#include "nodes/nodeFuncs.h"
#include "nodes/supportnodes.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "utils/rel.h"
#include "utils/spccache.h"

#include "ivfflat.h"

/*
 * Calibration (docs/vector.md has the measurements): a distance costs one
 * operator call plus one more per IVF_DIMS_PER_OPERATOR components (about
 * 0.5 us at 1536 dimensions, where an operator is ~5 ns).  Detoasting an
 * out-of-line vector is a probe of the TOAST table's index and a fetch of
 * its chunks: measured, it costs what the planner charges for a row fetched
 * through an index (a random page), and it dominates an exact scan of
 * 1536-dimension vectors (7 us a row, against 0.5 us for the distance).
 */
#define IVF_DIMS_PER_OPERATOR	16.0

/* Widening: lists read at depth d grow as probes * (d / IVF_EXPAND_REF)^gamma */
#define IVF_WIDEN_EXPONENT		0.45

/*
 * CPU cost of one distance between vectors of `dims` components.
 */
static double
ivf_distance_cpu_cost(int dims)
{
	return cpu_operator_cost * (1.0 + (double) dims / IVF_DIMS_PER_OPERATOR);
}

/*
 * Cost of detoasting one stored vector of `dims` components, zero when it
 * is small enough to stay inline in the heap tuple.
 */
static double
ivf_detoast_cost(int dims)
{
	double		size = (double) VECTOR_SIZE(dims);
	double		chunks;

	if (size <= TOAST_TUPLE_THRESHOLD)
		return 0.0;
	chunks = ceil(size / TOAST_MAX_CHUNK_SIZE);
	return random_page_cost +
		chunks * (cpu_tuple_cost + cpu_index_tuple_cost + cpu_operator_cost);
}

/*
 * How many lists a scan reads to return `depth` rows: the probed lists for
 * the first IVF_EXPAND_REF rows, then growing with the depth as the
 * widening rule makes it (measured, see docs/vector.md), and at least
 * enough lists to hold `depth` entries.  At most maxLists.
 */
double
ivf_lists_to_scan(int probes, int lists, double depth)
{
	double		n = probes;

	if (depth > IVF_EXPAND_REF)
		n = probes * pow(depth / IVF_EXPAND_REF, IVF_WIDEN_EXPONENT);
	return Min(n, (double) lists);
}

/*
 * amcostestimate (see the top of the file).
 */
void
ivfflat_costestimate(PlannerInfo *root, IndexPath *path, double loop_count,
					 Cost *indexStartupCost, Cost *indexTotalCost,
					 Selectivity *indexSelectivity, double *indexCorrelation,
					 double *indexPages)
{
	IndexOptInfo *info = path->indexinfo;
	RelOptInfo *rel = info->rel;
	Relation	index;
	IvfMetaPageData meta;
	double		randomPageCost;
	double		seqPageCost;
	double		ntuples;
	double		lists;
	int			probes;
	int			maxLists;
	double		entryPages;
	double		listCost;
	double		entryCost;
	double		startup;
	double		total;
	double		depth;
	double		listsRead;

	/*
	 * Only ORDER BY <distance> scans: without one the index is useless, and
	 * an index-only scan (count(*) with enable_seqscan off) would fail, as
	 * ivfflat returns no index tuples.  More than disable_cost, so that
	 * even a disabled sequential scan is cheaper.
	 */
	if (path->indexorderbys == NIL)
	{
		*indexStartupCost = DBL_MAX;
		*indexTotalCost = DBL_MAX;
		*indexSelectivity = 0;
		*indexCorrelation = 0;
		*indexPages = 0;
		return;
	}

	index = index_open(info->indexoid, NoLock);
	ivf_read_meta(index, &meta);
	index_close(index, NoLock);

	get_tablespace_page_costs(info->reltablespace, &randomPageCost, &seqPageCost);

	ntuples = Max(info->tuples, 1.0);
	lists = meta.lists;
	probes = Min(ivfflat_probes, (int) meta.lists);
	maxLists = ivfflat_max_probes < 0 ? (int) meta.lists :
		Min(Max(ivfflat_max_probes, probes), (int) meta.lists);

	/*
	 * A list: one seek, then its pages in sequence (the build writes each
	 * list contiguously), a distance and a heap push per entry.
	 */
	entryPages = Max((double) info->pages - 1.0 - meta.listPages, lists);
	entryCost = ivf_distance_cpu_cost(meta.dimensions) + 2.0 * cpu_operator_cost;
	listCost = randomPageCost + (entryPages / lists - 1.0) * seqPageCost +
		(ntuples / lists) * entryCost;

	/* centroids: the list pages, a distance each, a sort */
	startup = meta.listPages * seqPageCost +
		lists * ivf_distance_cpu_cost(meta.dimensions) +
		lists * log2(lists + 1.0) * cpu_operator_cost;
	startup += probes * listCost;

	/* how deep the executor will read: k / (fraction the filters keep) */
	depth = ntuples;
	if (root->limit_tuples > 0 && bms_membership(root->all_baserels) == BMS_SINGLETON)
	{
		double		keep = 1.0;

		if (rel->tuples > 0)
			keep = Min(Max(rel->rows / rel->tuples, 1.0 / rel->tuples), 1.0);
		depth = Min(ntuples, root->limit_tuples / keep);
	}

	listsRead = Max(ivf_lists_to_scan(probes, maxLists, depth),
					Min(ceil(depth / (ntuples / lists)), (double) maxLists));
	listsRead = Max(listsRead, (double) probes);

	if (depth >= ntuples)
		total = startup + (maxLists - probes) * listCost;
	else
		total = startup + ((listsRead - probes) * listCost) * (ntuples / depth);
	/* returning a row: a heap pop */
	total += ntuples * cpu_operator_cost * log2(ntuples + 1.0) / 4.0;

	*indexStartupCost = startup;
	*indexTotalCost = total;
	*indexSelectivity = 1.0;
	*indexCorrelation = 0.0;
	*indexPages = info->pages;
}

/*
 * The number of components of the vectors an expression yields, from its
 * type modifier or, for a constant, its value; -1 when unknown.
 */
static int
expr_dimensions(Node *expr)
{
	int32		typmod = exprTypmod(expr);

	if (typmod > 0)
		return typmod;
	if (IsA(expr, Const) && !((Const *) expr)->constisnull)
	{
		Vector	   *v = DatumGetVector(((Const *) expr)->constvalue);

		return v->dim;
	}
	return -1;
}

/*
 * Planner support function of the vector distance functions and
 * operators: SupportRequestCost prices a call by the dimension of its
 * arguments, plus a detoast for each argument read from a table (a Var)
 * whose vectors are stored out of line.
 */
PG_FUNCTION_INFO_V1(vector_distance_support);
Datum
vector_distance_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);
	SupportRequestCost *req;
	List	   *args;
	ListCell   *lc;
	int			dims = -1;
	int			vars = 0;

	if (!IsA(rawreq, SupportRequestCost))
		PG_RETURN_POINTER(NULL);
	req = (SupportRequestCost *) rawreq;
	if (req->node == NULL)
		PG_RETURN_POINTER(NULL);
	if (IsA(req->node, OpExpr))
		args = ((OpExpr *) req->node)->args;
	else if (IsA(req->node, FuncExpr))
		args = ((FuncExpr *) req->node)->args;
	else
		PG_RETURN_POINTER(NULL);

	foreach(lc, args)
	{
		Node	   *arg = (Node *) lfirst(lc);

		dims = Max(dims, expr_dimensions(arg));
		if (IsA(arg, Var))
			vars++;
	}
	if (dims < 1)
		PG_RETURN_POINTER(NULL);

	req->startup = 0;
	req->per_tuple = ivf_distance_cpu_cost(dims) + vars * ivf_detoast_cost(dims);
	PG_RETURN_POINTER(req);
}
