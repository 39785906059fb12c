/*-------------------------------------------------------------------------
 *
 * fdw_plan.c
 *	  Planning a scan of a compressed or archived chunk (fdw.h).
 *
 * GetForeignRelSize looks the chunk up and picks, from the restriction
 * clauses, what can skip whole segments:
 *	 - equality on a segment-by column: Var = expression without Vars or
 *	   volatile functions (a constant, a $param, a stable expression such as
 *	   the row-level security policy's nullif(current_setting(...), '')::uuid),
 *	   with the btree equality operator of the column's type and collation;
 *	 - bounds on the time column: <, <=, =, >=, > (BETWEEN is two of them)
 *	   with a timestamptz expression of the same kind.
 * Every clause stays in the plan's qual list: the executor rechecks every
 * row, so pushing down only ever skips rows the quals would reject. The
 * keys' expressions go to the executor as fdw_exprs (evaluated when the
 * scan starts and at every rescan, fdw_scan.c); the rest as fdw_private
 * (FdwScanPrivate in fdw.h).
 *
 * The estimates: rows from telos.compressed_chunk.row_count plus the delta
 * table's, times the clauses' selectivity, the time bounds counted by the
 * part of the chunk's range they keep; cost from the segments read (through
 * the segment table's index when there is a key on its first column), the
 * values decoded and the delta table.
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include <math.h>

#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "foreign/fdwapi.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/cost.h"
#include "optimizer/optimizer.h"
#include "optimizer/pathnode.h"
#include "optimizer/planmain.h"
#include "optimizer/restrictinfo.h"
#include "optimizer/subselect.h"
#include "storage/bufmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/typcache.h"

#include "fdw.h"

/*
 * Cost of decoding one value of one column, in units of cpu_operator_cost:
 * the codecs spend a few nanoseconds per value, about what evaluating a
 * cheap operator costs.
 */
#define DECODE_COST_PER_VALUE	0.5

/* Rows per segment assumed when the segment table has no statistics. */
#define DEFAULT_ROWS_PER_SEGMENT	500.0

/* What GetForeignRelSize found, for GetForeignPaths and GetForeignPlan. */
typedef struct FdwPlanInfo
{
	FdwChunk   *chunk;
	Bitmapset  *attrs_used;		/* attnos offset by FirstLowInvalidHeapAttributeNumber */
	/* segment-by equality keys */
	List	   *key_attnos;
	List	   *key_opfuncs;
	List	   *key_colls;
	List	   *key_exprs;
	List	   *key_rinfos;
	List	   *key_texts;
	bool		leading_key;	/* a key on the first segment-by column */
	/* time bounds */
	List	   *bound_strats;
	List	   *bound_exprs;
	List	   *bound_texts;
	/* estimates */
	double		seg_rows;		/* rows in the segments */
	double		nsegments;
	double		seg_pages;		/* heap pages of the segment table */
	double		blob_pages;		/* its TOAST pages */
	double		delta_rows;
	double		delta_pages;
	Selectivity key_sel;		/* of the segment-by keys */
	Selectivity time_frac;		/* part of the chunk's range the bounds keep */
	int			ndecode;		/* blob columns the query needs */
	bool		direct;			/* not read through the hypertable */
} FdwPlanInfo;

/* ------------------------------------------------------------------------
 * Planning
 * ------------------------------------------------------------------------
 */

/*
 * Splits an OpExpr comparing a Var of rel with a pseudo-constant into the
 * Var, the expression and the operator (commuted when the Var is on the
 * right). False when the clause has another shape.
 */
static bool
match_var_op_expr(RestrictInfo *rinfo, RelOptInfo *rel, Var **var, Expr **other,
				  Oid *opno, Oid *inputcollid)
{
	OpExpr	   *op;
	Node	   *left,
			   *right;

	if (!IsA(rinfo->clause, OpExpr))
		return false;
	op = (OpExpr *) rinfo->clause;
	if (list_length(op->args) != 2)
		return false;
	left = (Node *) linitial(op->args);
	right = (Node *) lsecond(op->args);
	*opno = op->opno;
	if (!(IsA(left, Var) && ((Var *) left)->varno == (int) rel->relid &&
		  ((Var *) left)->varlevelsup == 0))
	{
		Node	   *tmp = left;

		left = right;
		right = tmp;
		*opno = get_commutator(op->opno);
		if (!OidIsValid(*opno))
			return false;
	}
	if (!(IsA(left, Var) && ((Var *) left)->varno == (int) rel->relid &&
		  ((Var *) left)->varlevelsup == 0 && ((Var *) left)->varattno > 0))
		return false;
	if (contain_var_clause(right) || contain_volatile_functions(right))
		return false;
	*var = (Var *) left;
	*other = (Expr *) right;
	*inputcollid = op->inputcollid;
	return true;
}

/*
 * The btree strategy of opno in the default btree operator family of
 * typid, when opno compares two values of that very type; 0 otherwise.
 */
static int
btree_strategy(Oid opno, Oid typid)
{
	TypeCacheEntry *tce = lookup_type_cache(typid, TYPECACHE_BTREE_OPFAMILY);
	Oid			lefttype,
				righttype;

	if (!OidIsValid(tce->btree_opf) || tce->btree_opintype != typid)
		return 0;
	op_input_types(opno, &lefttype, &righttype);
	if (lefttype != typid || righttype != typid)
		return 0;
	return get_op_opfamily_strategy(opno, tce->btree_opf);
}

/*
 * "col op" as text, for EXPLAIN, which adds the expression (deparsed then,
 * not for every plan).
 */
static char *
clause_text(const char *col, Oid opno)
{
	return psprintf("%s %s", quote_identifier(col), get_opname(opno));
}

/*
 * Sorts the restriction clauses of rel into segment-by keys and time
 * bounds (the others are only the executor's).
 */
static void
classify_clauses(PlannerInfo *root, RelOptInfo *baserel, Relation rel,
				 TupleDesc layout, FdwPlanInfo *info, List **time_rinfos)
{
	TupleDesc	desc = RelationGetDescr(rel);
	ListCell   *lc;

	*time_rinfos = NIL;
	foreach(lc, baserel->baserestrictinfo)
	{
		RestrictInfo *rinfo = lfirst_node(RestrictInfo, lc);
		Var		   *var;
		Expr	   *other;
		Oid			opno,
					collid;
		Form_pg_attribute att;
		const char *col;
		int			strategy;
		int			segidx;

		if (!match_var_op_expr(rinfo, baserel, &var, &other, &opno, &collid))
			continue;
		/*
		 * A clause of the user's must not see rows (here: segment-by values)
		 * that a security qual rejects unless its operator is leakproof.
		 */
		if (!restriction_is_securely_promotable(rinfo, baserel))
			continue;
		att = TupleDescAttr(desc, var->varattno - 1);
		col = NameStr(att->attname);
		if (exprType((Node *) other) != att->atttypid)
			continue;

		segidx = fdw_layout_segby_index(layout, col);
		if (segidx >= 0)
		{
			if (btree_strategy(opno, att->atttypid) != BTEqualStrategyNumber ||
				TupleDescAttr(layout, segidx)->atttypid != att->atttypid)
				continue;
			/* the index and the segment compare with the column's collation */
			if (OidIsValid(collid) && collid != att->attcollation)
				continue;
			info->key_attnos = lappend_int(info->key_attnos, var->varattno);
			info->key_opfuncs = lappend_oid(info->key_opfuncs, get_opcode(opno));
			info->key_colls = lappend_oid(info->key_colls, collid);
			info->key_exprs = lappend(info->key_exprs, other);
			info->key_rinfos = lappend(info->key_rinfos, rinfo);
			info->key_texts = lappend(info->key_texts,
									  makeString(clause_text(col, opno)));
			if (segidx == 0)
				info->leading_key = true;
		}
		else if (strcmp(col, info->chunk->time_column) == 0 &&
				 att->atttypid == TIMESTAMPTZOID &&
				 (strategy = btree_strategy(opno, TIMESTAMPTZOID)) != 0)
		{
			info->bound_strats = lappend_int(info->bound_strats, strategy);
			info->bound_exprs = lappend(info->bound_exprs, other);
			info->bound_texts = lappend(info->bound_texts,
										makeString(clause_text(col, opno)));
			*time_rinfos = lappend(*time_rinfos, rinfo);
		}
	}
}

/*
 * The part of the chunk's range that the time bounds whose value the
 * planner can tell keep, in [0, 1]. Bounds it can tell are removed from
 * *rinfos (what remains is estimated by clauselist_selectivity).
 */
static Selectivity
time_fraction(PlannerInfo *root, FdwPlanInfo *info, List **rinfos)
{
	double		lo = (double) info->chunk->range_start;
	double		hi = (double) info->chunk->range_end;
	double		width = hi - lo;
	List	   *unknown = NIL;
	ListCell   *lc1,
			   *lc2,
			   *lc3;

	forthree(lc1, info->bound_exprs, lc2, info->bound_strats, lc3, *rinfos)
	{
		Node	   *val = estimate_expression_value(root, (Node *) lfirst(lc1));
		int			strategy = lfirst_int(lc2);
		double		t;

		if (!IsA(val, Const) || ((Const *) val)->constisnull)
		{
			unknown = lappend(unknown, lfirst(lc3));
			continue;
		}
		t = (double) DatumGetTimestampTz(((Const *) val)->constvalue);
		if (strategy == BTLessStrategyNumber || strategy == BTLessEqualStrategyNumber)
			hi = Min(hi, t);
		else if (strategy == BTGreaterStrategyNumber ||
				 strategy == BTGreaterEqualStrategyNumber)
			lo = Max(lo, t);
		else
		{
			lo = Max(lo, t);
			hi = Min(hi, t);
		}
	}
	*rinfos = unknown;
	if (width <= 0 || hi <= lo)
		return 0.0;
	return Min(1.0, (hi - lo) / width);
}

/*
 * Pages of a heap table now, and its rows as of its statistics scaled to
 * its size now (-1 when it was never analyzed or vacuumed).
 */
static void
table_size(Oid relid, double *rows, double *pages)
{
	Relation	rel = table_open(relid, AccessShareLock);
	BlockNumber nblocks = RelationGetNumberOfBlocks(rel);
	double		reltuples = rel->rd_rel->reltuples;
	BlockNumber relpages = rel->rd_rel->relpages;

	*pages = nblocks;
	if (reltuples >= 0 && relpages > 0)
		*rows = ceil(reltuples / relpages * nblocks);
	else if (nblocks == 0)
		*rows = 0;
	else
		*rows = -1;
	table_close(rel, NoLock);
}

/*
 * Whether rel is the chunk as a partition of its hypertable (where the
 * hypertable's row-level security reaches it), rather than the chunk named
 * in the query, or a branch of a UNION ALL.
 */
static bool
read_through_hypertable(PlannerInfo *root, RelOptInfo *rel, const FdwChunk *chunk)
{
	AppendRelInfo *appinfo;

	if (rel->reloptkind != RELOPT_OTHER_MEMBER_REL || root->append_rel_array == NULL)
		return false;
	appinfo = root->append_rel_array[rel->relid];
	return appinfo != NULL && appinfo->parent_reloid == chunk->hypertable;
}

/*
 * fdw_get_rel_size
 *		GetForeignRelSize: rows = (rows in the segments + rows in the
 *		delta) x selectivity, with the time bounds estimated from the part
 *		of the chunk's range they keep.
 */
void
fdw_get_rel_size(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	FdwPlanInfo *info = palloc0(sizeof(FdwPlanInfo));
	FdwChunkPlan *cplan;
	Relation	rel;
	TupleDesc	layout;
	List	   *time_rinfos;
	List	   *other_rinfos;
	ListCell   *lc;
	Selectivity sel;
	int			i;

	cplan = fdw_chunk_plan(foreigntableid);
	info->chunk = cplan->chunk;
	info->direct = !read_through_hypertable(root, baserel, info->chunk);
	if (info->direct)
		fdw_check_direct_access(info->chunk);
	layout = cplan->layout;
	rel = table_open(foreigntableid, NoLock);	/* the planner holds a lock */

	/* the columns the query reads: its target list and its quals */
	pull_varattnos((Node *) baserel->reltarget->exprs, baserel->relid, &info->attrs_used);
	foreach(lc, baserel->baserestrictinfo)
		pull_varattnos((Node *) lfirst_node(RestrictInfo, lc)->clause, baserel->relid,
					   &info->attrs_used);
	for (i = 0; i < RelationGetDescr(rel)->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(RelationGetDescr(rel), i);
		AttrNumber	attno = i + 1;

		if (!att->attisdropped &&
			fdw_layout_segby_index(layout, NameStr(att->attname)) < 0 &&
			(bms_is_member(attno - FirstLowInvalidHeapAttributeNumber, info->attrs_used) ||
			 bms_is_member(0 - FirstLowInvalidHeapAttributeNumber, info->attrs_used)))
			info->ndecode++;
	}

	classify_clauses(root, baserel, rel, layout, info, &time_rinfos);
	table_close(rel, NoLock);

	/* sizes */
	info->seg_rows = Max(info->chunk->row_count, 0);
	if (!info->chunk->archived)
	{
		info->nsegments = cplan->nsegments;
		info->seg_pages = cplan->seg_pages;
		info->blob_pages = cplan->blob_pages;
	}
	else
	{
		/* an archive file: about what its segment table would be */
		info->nsegments = -1;
		info->seg_pages = info->seg_rows / DEFAULT_ROWS_PER_SEGMENT / 20.0;
		info->blob_pages = info->seg_rows * 8.0 / BLCKSZ;
	}
	if (info->nsegments < 0)
		info->nsegments = info->seg_rows / DEFAULT_ROWS_PER_SEGMENT;
	info->nsegments = Max(info->nsegments, info->seg_rows > 0 ? 1.0 : 0.0);
	table_size(info->chunk->delta, &info->delta_rows, &info->delta_pages);
	if (info->delta_rows < 0)
		info->delta_rows = info->delta_pages * (BLCKSZ / 100.0);

	/* selectivity: the time bounds by range, the rest as the planner does */
	other_rinfos = list_difference_ptr(baserel->baserestrictinfo, time_rinfos);
	info->time_frac = time_fraction(root, info, &time_rinfos);
	other_rinfos = list_concat(other_rinfos, time_rinfos);
	sel = clauselist_selectivity(root, other_rinfos, baserel->relid, JOIN_INNER, NULL);
	info->key_sel = clauselist_selectivity(root, info->key_rinfos, baserel->relid,
										   JOIN_INNER, NULL);

	baserel->tuples = info->seg_rows + info->delta_rows;
	baserel->rows = clamp_row_est(baserel->tuples * sel * info->time_frac);
	baserel->fdw_private = info;
}

/*
 * fdw_get_paths
 *		GetForeignPaths: one unordered path. Its cost is reading the segments
 *		the keys do not skip (through the index when there is a key on the
 *		first segment-by column), decoding the needed columns of their rows,
 *		and reading the delta table.
 */
void
fdw_get_paths(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid)
{
	FdwPlanInfo *info = baserel->fdw_private;
	double		seg_sel = info->key_sel * info->time_frac;
	double		nseg_read = info->nsegments > 0 ? Max(1.0, ceil(info->nsegments * seg_sel)) : 0;
	double		rows_per_seg = info->nsegments > 0 ? info->seg_rows / info->nsegments : 0;
	double		rows_decoded = nseg_read * rows_per_seg;
	double		blob_pages_per_seg = info->nsegments > 0 ? info->blob_pages / info->nsegments : 0;
	Cost		startup_cost = 0;
	Cost		run_cost = 0;
	QualCost	qcost = baserel->baserestrictcost;

	if (info->leading_key)
	{
		/* index descent, then the segments' pages, scattered */
		startup_cost += random_page_cost;
		run_cost += nseg_read * (1.0 + blob_pages_per_seg) * random_page_cost;
		run_cost += nseg_read * cpu_index_tuple_cost;
	}
	else
	{
		run_cost += info->seg_pages * seq_page_cost +
			nseg_read * blob_pages_per_seg * seq_page_cost;
		run_cost += info->nsegments * cpu_tuple_cost;
	}
	/* decoding, and the rows going through the quals */
	run_cost += rows_decoded * info->ndecode * DECODE_COST_PER_VALUE * cpu_operator_cost;
	run_cost += rows_decoded * (cpu_tuple_cost + qcost.per_tuple);
	/* the delta table, read sequentially */
	run_cost += info->delta_pages * seq_page_cost +
		info->delta_rows * (cpu_tuple_cost + qcost.per_tuple);
	startup_cost += qcost.startup;

	add_path(baserel, (Path *)
			 create_foreignscan_path(root, baserel, NULL, baserel->rows,
									 startup_cost, startup_cost + run_cost,
									 NIL, NULL, NULL, NIL));
}

/*
 * fdw_get_plan
 *		GetForeignPlan: every clause stays a qual of the plan; the keys'
 *		expressions become fdw_exprs (setrefs fixes their $params), and the
 *		rest goes in fdw_private (FdwScanPrivate).
 */
ForeignScan *
fdw_get_plan(PlannerInfo *root, RelOptInfo *baserel, Oid foreigntableid,
			 ForeignPath *best_path, List *tlist, List *scan_clauses,
			 Plan *outer_plan)
{
	FdwPlanInfo *info = baserel->fdw_private;
	List	   *attrs = NIL;
	List	   *exprs = list_concat_copy(info->key_exprs, info->bound_exprs);
	List	   *params = NIL;
	List	   *priv;
	Relation	rel = table_open(foreigntableid, NoLock);
	int			natts = RelationGetDescr(rel)->natts;
	bool		wholerow = bms_is_member(0 - FirstLowInvalidHeapAttributeNumber,
										 info->attrs_used);
	ListCell   *lc;
	int			i;

	table_close(rel, NoLock);
	for (i = 1; i <= natts; i++)
		if (wholerow ||
			bms_is_member(i - FirstLowInvalidHeapAttributeNumber, info->attrs_used))
			attrs = lappend_int(attrs, i);

	/*
	 * An executor parameter for each key expression that costs something to
	 * evaluate (a stable function call, a cast): the scan sets it to the
	 * value it computed at its start, and evaluates the quals with the
	 * parameter in place of the expression (fdw_scan.c), as an index scan
	 * evaluates its keys once rather than per row.
	 */
	foreach(lc, exprs)
	{
		Node	   *e = lfirst(lc);

		if (IsA(e, Const) || IsA(e, Param))
			params = lappend_int(params, -1);
		else
			params = lappend_int(params,
								 SS_make_initplan_output_param(root, exprType(e), exprTypmod(e),
															   exprCollation(e))->paramid);
	}

	priv = list_make5(attrs, info->key_attnos, info->key_opfuncs, info->key_colls,
					  info->bound_strats);
	priv = lappend(priv, info->key_texts);
	priv = lappend(priv, info->bound_texts);
	priv = lappend(priv, makeInteger(info->direct ? 1 : 0));
	priv = lappend(priv, params);

	return make_foreignscan(tlist,
							extract_actual_clauses(scan_clauses, false),
							baserel->relid,
							exprs,
							priv,
							NIL, NIL, outer_plan);
}

/*
 * fdw_scan_parallel_safe
 *		The scan reads tables (or a file) and decodes locally: nothing in it
 *		is tied to the leader, so a Parallel Append may run it in a worker.
 */
bool
fdw_scan_parallel_safe(PlannerInfo *root, RelOptInfo *rel, RangeTblEntry *rte)
{
	return true;
}

