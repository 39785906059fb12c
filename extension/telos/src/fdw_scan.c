/*-------------------------------------------------------------------------
 *
 * fdw_scan.c
 *	  Scanning a compressed or archived chunk (fdw.h); the plan comes from
 *	  fdw_plan.c.
 *
 * The keys pushed down (segment-by equality, time bounds) are evaluated
 * when the scan starts and again on every rescan (their $params may
 * change); a key that evaluates to NULL matches nothing. The segment
 * source (segsource.h) returns segment rows; each is rechecked against the
 * keys and the time bounds (sources may return more than asked), then only
 * the columns the query references are decoded (colblob.h) into a
 * per-segment memory context that is reset for the next segment, and the
 * rows come out as virtual tuples, those outside the time bounds skipped.
 * Then the rows of the delta table (inserted since compression), with the
 * same time filter. The executor rechecks every row against all the quals,
 * with the keys' expressions replaced by their values (fold_quals), so
 * that a stable expression such as the row-level security policy's is
 * evaluated once per scan, not per row.
 *
 * fdw_scan_open/next/close are the scan without the executor node, for
 * ANALYZE (fdw_analyze.c).
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include "access/attmap.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_type.h"
#include "commands/explain.h"
#include "executor/executor.h"
#include "foreign/fdwapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/clauses.h"
#include "optimizer/optimizer.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/ruleutils.h"

#include "colblob.h"
#include "compress_build.h"
#include "fdw.h"
#include "segsource.h"

/* ------------------------------------------------------------------------
 * Scanning
 * ------------------------------------------------------------------------
 */

/* Where a column of the foreign table comes from. */
typedef enum ColSource
{
	COL_NULL,					/* not needed by the query, or not stored */
	COL_SEGBY,					/* a segment-by value of the segment row */
	COL_BLOB					/* decoded from a column blob */
} ColSource;

typedef enum ScanPhase
{
	PHASE_START,				/* keys not evaluated yet */
	PHASE_SEGMENTS,
	PHASE_DELTA,
	PHASE_DONE
} ScanPhase;

struct FdwScanState
{
	FdwChunk   *chunk;
	char	   *chunkname;
	int			natts;			/* of the foreign table */
	ColSource  *colsrc;			/* per foreign table column */
	int		   *colidx;			/* layout index (COL_SEGBY) or decode slot (COL_BLOB) */

	/* the segments */
	SegSource  *src;
	TupleDesc	layout;
	int			count_idx;		/* layout indexes of the metadata we use */
	int			min_time_idx;
	int			max_time_idx;
	Datum	   *segvalues;		/* the current segment row */
	bool	   *segnulls;
	int			ndecode;		/* blob columns to decode */
	int		   *dec_layout_idx; /* their layout index */
	Form_pg_attribute *dec_att; /* and their attribute in the foreign table */
	Datum	  **dec_values;		/* [ndecode][COLBLOB_MAX_ROWS] */
	bool	  **dec_nulls;
	int			time_dec;		/* decode slot of the time column, or -1 */
	int			seg_nrows;		/* rows of the current segment */
	int			seg_row;		/* next row to return */
	MemoryContext segcxt;		/* the current segment's decoded values */
	MemoryContext scancxt;		/* the scan's: sources and scans live here */

	/* keys, evaluated at (re)start */
	List	   *key_states;
	List	   *bound_states;
	List	   *bound_strats;
	SegScanKeys keys;
	int		   *key_layout_idx;
	int		   *params;			/* per fdw_expr: PARAM_EXEC to set, or -1 */
	FmgrInfo   *key_finfo;		/* the equality functions, looked up once */
	bool		match_none;		/* a key is NULL, or the bounds are empty */
	MemoryContext keycxt;

	/* the delta table */
	Relation	delta;
	Snapshot	snapshot;		/* what its scan sees */
	TableScanDesc dscan;
	TupleTableSlot *dslot;
	AttrMap    *dmap;			/* foreign table column -> delta column */
	AttrNumber	delta_time_attno;

	ScanPhase	phase;

	/* for EXPLAIN ANALYZE */
	int64		segs_read;
	int64		segs_skipped;
	int64		delta_rows;
};

/* errcontext while a segment is decoded. */
static void
segment_error_callback(void *arg)
{
	FdwScanState *st = arg;

	errcontext("segment %lld of chunk \"%s\"",
			   (long long) (st->segs_read + st->segs_skipped), st->chunkname);
}

static int
layout_meta_index(FdwScanState *st, const char *name, Oid typid)
{
	int			idx = fdw_layout_index(st->layout, name);

	if (idx < 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("segments of chunk \"%s\" lack column \"%s\"", st->chunkname, name)));
	/* the Datums are read as typid: another type would be misread */
	if (TupleDescAttr(st->layout, idx)->atttypid != typid)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("column \"%s\" of the segments of chunk \"%s\" is not of type %s",
						name, st->chunkname, format_type_be(typid))));
	return idx;
}

/* Opens the segment source of the chunk. */
static SegSource *
open_source(FdwScanState *st)
{
	if (!st->chunk->archived)
		return segsource_table_open(st->chunk->segments);
	return fdw_open_file_source(st->chunk);
}

/*
 * Map each column of the foreign table to where its values come from:
 * a segment-by column, a blob to decode (only those the query needs), or
 * nothing.
 */
static void
map_columns(FdwScanState *st, TupleDesc desc, List *attrs_used)
{
	int			nsegby = fdw_layout_nsegby(st->layout);
	int			i;

	st->natts = desc->natts;
	st->colsrc = palloc0(sizeof(ColSource) * desc->natts);
	st->colidx = palloc0(sizeof(int) * desc->natts);
	st->dec_layout_idx = palloc(sizeof(int) * desc->natts);
	st->dec_att = palloc(sizeof(Form_pg_attribute) * desc->natts);
	st->time_dec = -1;

	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		int			idx;

		if (att->attisdropped || !list_member_int(attrs_used, i + 1))
			continue;
		idx = fdw_layout_index(st->layout, NameStr(att->attname));
		if (idx < 0)
			continue;			/* added after compression: NULL */
		if (idx < nsegby)
		{
			if (TupleDescAttr(st->layout, idx)->atttypid != att->atttypid)
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("segment-by column \"%s\" of chunk \"%s\" has another type than the chunk's",
								NameStr(att->attname), st->chunkname)));
			st->colsrc[i] = COL_SEGBY;
			st->colidx[i] = idx;
			continue;
		}
		if (TupleDescAttr(st->layout, idx)->atttypid != BYTEAOID ||
			FDW_SEG_IS_META(NameStr(att->attname)))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("column \"%s\" of chunk \"%s\" has no column blob in its segments",
							NameStr(att->attname), st->chunkname)));
		st->colsrc[i] = COL_BLOB;
		st->colidx[i] = st->ndecode;
		st->dec_layout_idx[st->ndecode] = idx;
		st->dec_att[st->ndecode] = att;
		if (strcmp(NameStr(att->attname), st->chunk->time_column) == 0)
			st->time_dec = st->ndecode;
		st->ndecode++;
	}
	st->dec_values = palloc(sizeof(Datum *) * Max(st->ndecode, 1));
	st->dec_nulls = palloc(sizeof(bool *) * Max(st->ndecode, 1));
	for (i = 0; i < st->ndecode; i++)
	{
		st->dec_values[i] = palloc(sizeof(Datum) * COLBLOB_MAX_ROWS);
		st->dec_nulls[i] = palloc(sizeof(bool) * COLBLOB_MAX_ROWS);
	}
}

/* Replaces the key expressions of a qual by their parameters. */
typedef struct FoldContext
{
	List	   *exprs;			/* the plan's fdw_exprs */
	int		   *params;			/* and their parameters */
} FoldContext;

static Node *
fold_mutator(Node *node, FoldContext *ctx)
{
	ListCell   *lc;
	int			i = 0;

	if (node == NULL)
		return NULL;
	foreach(lc, ctx->exprs)
	{
		if (ctx->params[i] >= 0 && equal(node, lfirst(lc)))
		{
			Param	   *p = makeNode(Param);

			p->paramkind = PARAM_EXEC;
			p->paramid = ctx->params[i];
			p->paramtype = exprType(node);
			p->paramtypmod = exprTypmod(node);
			p->paramcollid = exprCollation(node);
			p->location = -1;
			return (Node *) p;
		}
		i++;
	}
	return expression_tree_mutator(node, fold_mutator, ctx);
}

/*
 * The quals the executor checks every row against, with each key
 * expression replaced by the parameter the scan sets to its value when it
 * starts (eval_keys). They are the plan's quals all the same: a stable
 * expression has one value during a scan, which is why PostgreSQL's own
 * index scans evaluate their keys once; evaluating current_setting(...)
 * ::uuid for every row would cost more than decoding the row. Quals with
 * subplans are left alone (compiling them twice would start the subplans
 * twice).
 */
static void
fold_quals(ForeignScanState *node, ForeignScan *plan, FdwScanState *st)
{
	FoldContext ctx;
	bool		any = false;
	int			i;

	for (i = 0; i < list_length(plan->fdw_exprs); i++)
		any |= st->params[i] >= 0;
	if (!any || plan->scan.plan.qual == NIL ||
		contain_subplans((Node *) plan->scan.plan.qual))
		return;
	ctx.exprs = plan->fdw_exprs;
	ctx.params = st->params;
	node->ss.ps.qual = ExecInitQual((List *) fold_mutator((Node *) plan->scan.plan.qual, &ctx),
									(PlanState *) node);
}

/*
 * fdw_scan_open
 *		See fdw.h: the chunk looked up (it may have been recompressed since
 *		the plan was made), its source and delta table open, no keys.
 */
FdwScanState *
fdw_scan_open(Relation rel, List *attrs_used, Snapshot snapshot)
{
	FdwScanState *st = palloc0(sizeof(FdwScanState));

	st->scancxt = CurrentMemoryContext;
	st->chunk = fdw_chunk_lookup(RelationGetRelid(rel));
	st->chunkname = RelationGetRelationName(rel);
	st->src = open_source(st);
	st->layout = st->src->layout;
	st->count_idx = layout_meta_index(st, SEG_COUNT_NAME, INT4OID);
	st->min_time_idx = layout_meta_index(st, SEG_MIN_TIME_NAME, TIMESTAMPTZOID);
	st->max_time_idx = layout_meta_index(st, SEG_MAX_TIME_NAME, TIMESTAMPTZOID);
	st->segvalues = palloc(sizeof(Datum) * st->layout->natts);
	st->segnulls = palloc(sizeof(bool) * st->layout->natts);
	map_columns(st, RelationGetDescr(rel), attrs_used);
	st->segcxt = AllocSetContextCreate(CurrentMemoryContext, "telos fdw segment",
									   ALLOCSET_DEFAULT_SIZES);
	st->keycxt = AllocSetContextCreate(CurrentMemoryContext, "telos fdw keys",
									   ALLOCSET_SMALL_SIZES);
	st->keys.seg_attno = palloc0(sizeof(AttrNumber));
	st->keys.values = palloc0(sizeof(Datum));
	st->keys.eq_opfuncs = palloc0(sizeof(Oid));
	st->keys.collations = palloc0(sizeof(Oid));

	st->delta = table_open(st->chunk->delta, AccessShareLock);
	st->snapshot = snapshot;
	st->dslot = table_slot_create(st->delta, NULL);
	st->dmap = build_attrmap_by_name(RelationGetDescr(st->delta), RelationGetDescr(rel));
	st->delta_time_attno = get_attnum(st->chunk->delta, st->chunk->time_column);
	if (st->delta_time_attno == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("delta table of chunk \"%s\" lacks column \"%s\"",
						st->chunkname, st->chunk->time_column)));
	st->phase = PHASE_START;
	return st;
}

/*
 * fdw_begin_scan
 *		BeginForeignScan: open the scan, prepare the keys' expressions.
 */
void
fdw_begin_scan(ForeignScanState *node, int eflags)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	Relation	rel = node->ss.ss_currentRelation;
	EState	   *estate = node->ss.ps.state;
	FdwScanState *st;
	List	   *key_attnos = list_nth(plan->fdw_private, FdwPrivKeyAttnos);
	List	   *key_opfuncs = list_nth(plan->fdw_private, FdwPrivKeyOpfuncs);
	List	   *key_colls = list_nth(plan->fdw_private, FdwPrivKeyColls);
	List	   *exprs;
	ListCell   *lc;
	int			nkeys = list_length(key_attnos);
	int			i;

	node->fdw_state = NULL;
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;

	st = fdw_scan_open(rel, list_nth(plan->fdw_private, FdwPrivAttrsUsed),
					   estate->es_snapshot);
	node->fdw_state = st;
	/* again: the plan may be run by another role than planned it */
	if (intVal(list_nth(plan->fdw_private, FdwPrivDirect)))
		fdw_check_direct_access(st->chunk);

	/* keys: the first nkeys fdw_exprs, then the time bounds */
	exprs = ExecInitExprList(plan->fdw_exprs, (PlanState *) node);
	st->key_states = list_copy_head(exprs, nkeys);
	st->bound_states = list_copy_tail(exprs, nkeys);
	st->bound_strats = list_nth(plan->fdw_private, FdwPrivBoundStrats);
	st->params = palloc(sizeof(int) * Max(list_length(plan->fdw_exprs), 1));
	i = 0;
	foreach(lc, (List *) list_nth(plan->fdw_private, FdwPrivParams))
		st->params[i++] = lfirst_int(lc);
	fold_quals(node, plan, st);
	st->keys.nkeys = nkeys;
	st->keys.seg_attno = palloc(sizeof(AttrNumber) * Max(nkeys, 1));
	st->keys.values = palloc(sizeof(Datum) * Max(nkeys, 1));
	st->keys.eq_opfuncs = palloc(sizeof(Oid) * Max(nkeys, 1));
	st->keys.collations = palloc(sizeof(Oid) * Max(nkeys, 1));
	st->key_layout_idx = palloc(sizeof(int) * Max(nkeys, 1));
	st->key_finfo = palloc(sizeof(FmgrInfo) * Max(nkeys, 1));
	for (i = 0; i < nkeys; i++)
	{
		AttrNumber	attno = list_nth_int(key_attnos, i);
		const char *name = NameStr(TupleDescAttr(RelationGetDescr(rel), attno - 1)->attname);
		int			idx = fdw_layout_index(st->layout, name);

		if (idx < 0 || idx >= fdw_layout_nsegby(st->layout))
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("column \"%s\" is no longer a segment-by column of chunk \"%s\"",
							name, st->chunkname),
					 errhint("Run the statement again: its plan predates the chunk's compression.")));
		st->key_layout_idx[i] = idx;
		st->keys.seg_attno[i] = idx + 1;
		st->keys.eq_opfuncs[i] = list_nth_oid(key_opfuncs, i);
		fmgr_info(st->keys.eq_opfuncs[i], &st->key_finfo[i]);
		st->keys.collations[i] = list_nth_oid(key_colls, i);
	}
}

/*
 * Copy of an evaluated key value (fdw_expr number n) into the key context;
 * the value goes to its parameter too (fold_quals).
 */
static Datum
eval_key(FdwScanState *st, int n, ExprState *es, ExprContext *econtext, bool *isnull)
{
	Oid			typid = exprType((Node *) es->expr);
	int16		typlen;
	bool		typbyval;
	Datum		d;
	MemoryContext old;

	old = MemoryContextSwitchTo(econtext->ecxt_per_tuple_memory);
	d = ExecEvalExpr(es, econtext, isnull);
	MemoryContextSwitchTo(st->keycxt);
	get_typlenbyval(typid, &typlen, &typbyval);
	if (!*isnull)
		d = datumCopy(d, typbyval, typlen);
	MemoryContextSwitchTo(old);
	/*
	 * Set only here, never reset: an EvalPlanQual recheck runs the quals in
	 * a copy of the plan that gets the parameters' values from this scan
	 * and fetches no row through it.
	 */
	if (st->params[n] >= 0)
	{
		ParamExecData *prm = &econtext->ecxt_param_exec_vals[st->params[n]];

		prm->execPlan = NULL;
		prm->value = d;
		prm->isnull = *isnull;
	}
	return d;
}

/*
 * Evaluate the keys and the time bounds (at the start and after every
 * rescan: their $params may have changed).
 */
static void
eval_keys(ForeignScanState *node, FdwScanState *st)
{
	ExprContext *econtext = node->ss.ps.ps_ExprContext;
	ListCell   *lc1,
			   *lc2;
	int			i = 0;

	MemoryContextReset(st->keycxt);
	st->match_none = false;
	foreach(lc1, st->key_states)
	{
		bool		isnull;

		st->keys.values[i] = eval_key(st, i, lfirst(lc1), econtext, &isnull);
		i++;
		if (isnull)
			st->match_none = true;	/* col = NULL holds for no row */
	}

	st->keys.has_lo = st->keys.has_hi = false;
	forboth(lc1, st->bound_states, lc2, st->bound_strats)
	{
		bool		isnull;
		TimestampTz t = DatumGetTimestampTz(eval_key(st, i++, lfirst(lc1), econtext, &isnull));
		int			strategy = lfirst_int(lc2);
		bool		lower = strategy >= BTEqualStrategyNumber;
		bool		upper = strategy <= BTEqualStrategyNumber;
		bool		incl = strategy != BTLessStrategyNumber &&
			strategy != BTGreaterStrategyNumber;

		if (isnull)
		{
			st->match_none = true;
			continue;
		}
		/* keep the tightest bound of each side */
		if (lower && (!st->keys.has_lo || t > st->keys.lo ||
					  (t == st->keys.lo && !incl)))
		{
			st->keys.has_lo = true;
			st->keys.lo = t;
			st->keys.lo_incl = incl;
		}
		if (upper && (!st->keys.has_hi || t < st->keys.hi ||
					  (t == st->keys.hi && !incl)))
		{
			st->keys.has_hi = true;
			st->keys.hi = t;
			st->keys.hi_incl = incl;
		}
	}
	if (st->keys.has_lo && st->keys.has_hi &&
		(st->keys.lo > st->keys.hi ||
		 (st->keys.lo == st->keys.hi && !(st->keys.lo_incl && st->keys.hi_incl))))
		st->match_none = true;
	ResetExprContext(econtext);
}

/* Whether time t is inside the bounds. */
static inline bool
time_in_bounds(const SegScanKeys *k, TimestampTz t)
{
	if (k->has_lo && (t < k->lo || (t == k->lo && !k->lo_incl)))
		return false;
	if (k->has_hi && (t > k->hi || (t == k->hi && !k->hi_incl)))
		return false;
	return true;
}

/*
 * Whether the current segment row may hold matching rows: its segment-by
 * values equal the keys and its [min, max] time meets the bounds.
 */
static bool
segment_matches(FdwScanState *st)
{
	const SegScanKeys *k = &st->keys;
	int			i;

	for (i = 0; i < k->nkeys; i++)
	{
		int			idx = st->key_layout_idx[i];

		if (st->segnulls[idx] ||
			!DatumGetBool(FunctionCall2Coll(&st->key_finfo[i], k->collations[i],
											st->segvalues[idx], k->values[i])))
			return false;
	}
	if (k->has_lo || k->has_hi)
	{
		TimestampTz min = DatumGetTimestampTz(st->segvalues[st->min_time_idx]);
		TimestampTz max = DatumGetTimestampTz(st->segvalues[st->max_time_idx]);

		if (k->has_lo && (max < k->lo || (max == k->lo && !k->lo_incl)))
			return false;
		if (k->has_hi && (min > k->hi || (min == k->hi && !k->hi_incl)))
			return false;
	}
	return true;
}

/* Errors for a segment row that cannot be right. */
static void
check_segment_row(FdwScanState *st, int32 *nrows)
{
	int32		n;

	if (st->segnulls[st->count_idx] || st->segnulls[st->min_time_idx] ||
		st->segnulls[st->max_time_idx])
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("segment of chunk \"%s\" has no row count or time range",
						st->chunkname)));
	n = DatumGetInt32(st->segvalues[st->count_idx]);
	if (n < 1 || n > COLBLOB_MAX_ROWS)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("segment of chunk \"%s\" claims %d rows", st->chunkname, n),
				 errdetail("A segment holds 1 to %d rows.", COLBLOB_MAX_ROWS)));
	if (DatumGetTimestampTz(st->segvalues[st->min_time_idx]) >
		DatumGetTimestampTz(st->segvalues[st->max_time_idx]))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("segment of chunk \"%s\" ends before it starts", st->chunkname)));
	*nrows = n;
}

/*
 * Read segment rows until one matches, and decode the columns the query
 * needs. False when the source is exhausted.
 */
static bool
next_segment(FdwScanState *st)
{
	for (;;)
	{
		ErrorContextCallback errcb;
		MemoryContext old;
		int32		n;
		int			i;

		CHECK_FOR_INTERRUPTS();
		MemoryContextReset(st->segcxt);
		if (!st->src->next(st->src, st->segvalues, st->segnulls))
			return false;
		errcb.callback = segment_error_callback;
		errcb.arg = st;
		errcb.previous = error_context_stack;
		error_context_stack = &errcb;

		check_segment_row(st, &n);
		if (!segment_matches(st))
		{
			st->segs_skipped++;
			error_context_stack = errcb.previous;
			continue;
		}

		old = MemoryContextSwitchTo(st->segcxt);
		colblob_set_context(st->chunkname);
		for (i = 0; i < st->ndecode; i++)
		{
			int			idx = st->dec_layout_idx[i];

			if (st->segnulls[idx])
				ereport(ERROR,
						(errcode(ERRCODE_DATA_CORRUPTED),
						 errmsg("compressed data of column \"%s\" of chunk \"%s\" is missing",
								NameStr(st->dec_att[i]->attname), st->chunkname)));
			colblob_decode(st->dec_att[i],
						   (bytea *) PG_DETOAST_DATUM_PACKED(st->segvalues[idx]),
						   n, st->dec_values[i], st->dec_nulls[i]);
		}
		colblob_set_context(NULL);
		MemoryContextSwitchTo(old);
		error_context_stack = errcb.previous;

		st->segs_read++;
		st->seg_nrows = n;
		st->seg_row = 0;
		return true;
	}
}

/* The next row of the current segment inside the bounds, into slot. */
static bool
next_segment_row(FdwScanState *st, TupleTableSlot *slot)
{
	while (st->seg_row < st->seg_nrows)
	{
		int			r = st->seg_row++;
		int			i;

		if (st->time_dec >= 0 && (st->keys.has_lo || st->keys.has_hi))
		{
			if (st->dec_nulls[st->time_dec][r] ||
				!time_in_bounds(&st->keys,
								DatumGetTimestampTz(st->dec_values[st->time_dec][r])))
				continue;
		}
		ExecClearTuple(slot);
		for (i = 0; i < st->natts; i++)
		{
			int			idx = st->colidx[i];

			switch (st->colsrc[i])
			{
				case COL_SEGBY:
					slot->tts_values[i] = st->segvalues[idx];
					slot->tts_isnull[i] = st->segnulls[idx];
					break;
				case COL_BLOB:
					slot->tts_values[i] = st->dec_values[idx][r];
					slot->tts_isnull[i] = st->dec_nulls[idx][r];
					break;
				default:
					slot->tts_values[i] = (Datum) 0;
					slot->tts_isnull[i] = true;
					break;
			}
		}
		ExecStoreVirtualTuple(slot);
		return true;
	}
	return false;
}

/* The next row of the delta table inside the bounds, into slot. */
static bool
next_delta_row(FdwScanState *st, TupleTableSlot *slot)
{
	while (table_scan_getnextslot(st->dscan, ForwardScanDirection, st->dslot))
	{
		int			i;

		CHECK_FOR_INTERRUPTS();
		slot_getallattrs(st->dslot);
		if (st->keys.has_lo || st->keys.has_hi)
		{
			int			t = st->delta_time_attno - 1;

			if (st->dslot->tts_isnull[t] ||
				!time_in_bounds(&st->keys, DatumGetTimestampTz(st->dslot->tts_values[t])))
				continue;
		}
		ExecClearTuple(slot);
		for (i = 0; i < st->natts; i++)
		{
			AttrNumber	d = st->dmap->attnums[i];

			if (d > 0)
			{
				slot->tts_values[i] = st->dslot->tts_values[d - 1];
				slot->tts_isnull[i] = st->dslot->tts_isnull[d - 1];
			}
			else
			{
				slot->tts_values[i] = (Datum) 0;
				slot->tts_isnull[i] = true;
			}
		}
		ExecStoreVirtualTuple(slot);
		st->delta_rows++;
		return true;
	}
	return false;
}

/*
 * fdw_scan_next
 *		See fdw.h: segment rows, then delta rows.
 */
bool
fdw_scan_next(FdwScanState *st, TupleTableSlot *slot)
{
	MemoryContext old;
	bool		found = false;

	/*
	 * ForeignNext calls us in the per-tuple context, reset before every
	 * row: the source, its scans and the delta scan must outlive it.
	 */
	old = MemoryContextSwitchTo(st->scancxt);
	if (st->phase == PHASE_START)
	{
		st->seg_nrows = st->seg_row = 0;
		if (st->match_none)
			st->phase = PHASE_DONE;
		else
		{
			st->src->begin(st->src, &st->keys);
			st->phase = PHASE_SEGMENTS;
		}
	}
	while (st->phase == PHASE_SEGMENTS)
	{
		if ((found = next_segment_row(st, slot)))
			break;
		if (!next_segment(st))
		{
			MemoryContextReset(st->segcxt);
			st->dscan = table_beginscan(st->delta, st->snapshot, 0, NULL);
			st->phase = PHASE_DELTA;
		}
	}
	if (st->phase == PHASE_DELTA && !(found = next_delta_row(st, slot)))
		st->phase = PHASE_DONE;
	MemoryContextSwitchTo(old);
	return found;
}

/*
 * fdw_iterate_scan
 *		IterateForeignScan: the keys are evaluated when the scan (re)starts.
 */
TupleTableSlot *
fdw_iterate_scan(ForeignScanState *node)
{
	FdwScanState *st = node->fdw_state;
	TupleTableSlot *slot = node->ss.ss_ScanTupleSlot;

	if (st->phase == PHASE_START)
	{
		MemoryContext old = MemoryContextSwitchTo(st->scancxt);

		eval_keys(node, st);
		MemoryContextSwitchTo(old);
	}
	if (!fdw_scan_next(st, slot))
		ExecClearTuple(slot);
	return slot;
}

/* Close the delta scan if open. */
static void
end_delta_scan(FdwScanState *st)
{
	if (st->dscan)
		table_endscan(st->dscan);
	st->dscan = NULL;
	ExecClearTuple(st->dslot);
}

/*
 * fdw_rescan
 *		ReScanForeignScan: start over at the next fetch, with the keys
 *		evaluated again.
 */
void
fdw_rescan(ForeignScanState *node)
{
	FdwScanState *st = node->fdw_state;

	end_delta_scan(st);
	MemoryContextReset(st->segcxt);
	st->seg_nrows = st->seg_row = 0;
	st->phase = PHASE_START;
}

/*
 * fdw_scan_close
 *		See fdw.h. The locks stay until the end of the transaction.
 */
void
fdw_scan_close(FdwScanState *st)
{
	end_delta_scan(st);
	ExecDropSingleTupleTableSlot(st->dslot);
	table_close(st->delta, NoLock);
	st->src->end(st->src);
	MemoryContextDelete(st->segcxt);
	MemoryContextDelete(st->keycxt);
}

/*
 * fdw_end_scan
 *		EndForeignScan.
 */
void
fdw_end_scan(ForeignScanState *node)
{
	if (node->fdw_state != NULL)	/* NULL: EXPLAIN without ANALYZE */
		fdw_scan_close(node->fdw_state);
}

/*
 * "(col op expr) AND ..." of the n texts ("col op") and the expressions
 * exprs[first ...] they go with.
 */
static char *
explain_clauses(Relation rel, List *texts, List *exprs, int first)
{
	List	   *ctx = deparse_context_for(RelationGetRelationName(rel), RelationGetRelid(rel));
	StringInfoData buf;
	ListCell   *lc;
	int			i = first;

	initStringInfo(&buf);
	foreach(lc, texts)
	{
		if (buf.len > 0)
			appendStringInfoString(&buf, " AND ");
		appendStringInfo(&buf, "(%s %s)", strVal(lfirst(lc)),
						 deparse_expression(list_nth(exprs, i++), ctx, false, false));
	}
	return buf.data;
}

/*
 * fdw_explain_scan
 *		ExplainForeignScan: the pushed-down keys and time bounds; with
 *		ANALYZE, the segments read and skipped and the delta rows returned.
 */
void
fdw_explain_scan(ForeignScanState *node, ExplainState *es)
{
	ForeignScan *plan = (ForeignScan *) node->ss.ps.plan;
	FdwScanState *st = node->fdw_state;
	List	   *keys = list_nth(plan->fdw_private, FdwPrivExplainKeys);
	List	   *bounds = list_nth(plan->fdw_private, FdwPrivExplainBounds);
	Relation	rel = node->ss.ss_currentRelation;

	if (keys != NIL)
		ExplainPropertyText("Segment Keys",
							explain_clauses(rel, keys, plan->fdw_exprs, 0), es);
	if (bounds != NIL)
		ExplainPropertyText("Time Bounds",
							explain_clauses(rel, bounds, plan->fdw_exprs, list_length(keys)), es);
	if (es->analyze && st != NULL)
	{
		ExplainPropertyInteger("Segments Read", NULL, st->segs_read, es);
		ExplainPropertyInteger("Segments Skipped", NULL, st->segs_skipped, es);
		ExplainPropertyInteger("Delta Rows", NULL, st->delta_rows, es);
	}
}
