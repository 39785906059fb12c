/*-------------------------------------------------------------------------
 *
 * fdw_modify.c
 *	  Writing into a compressed or archived chunk (fdw.h): INSERT and COPY
 *	  put the rows into the chunk's delta table; UPDATE and DELETE are
 *	  refused at plan time with a hint to decompress (restore) the chunk.
 *
 * Late data and backfills must not fail because their range was
 * compressed, so inserts work: the rows go to the delta table, which scans
 * return after the segments and recompress_chunk merges into them.
 *
 * Two ways in:
 *	 - Rows routed through the hypertable (INSERT, COPY, an UPDATE moving a
 *	   row): the chunk's ResultRelInfo is handed over to the delta table in
 *	   BeginForeignInsert (route_to_delta), and the executor inserts into it
 *	   as into a heap partition: it checks row-level security WITH CHECK and
 *	   the constraints, and puts the rows into the hypertable's transition
 *	   tables -- which it refuses to do for rows written through a foreign
 *	   table, and the rollups' invalidation triggers have transition tables.
 *	 - Everything else (INSERT or COPY into the chunk itself, or routed rows
 *	   when the hand-over is not possible): ExecForeignInsert. PostgreSQL
 *	   leaves to a foreign table's wrapper what it does itself for a heap
 *	   partition, so the wrapper does it, in the order ExecInsert does:
 *	   row-level security WITH CHECK (a tenant must not write another
 *	   tenant's rows), NOT NULL and CHECK constraints, and the chunk's
 *	   range (nothing routes a row inserted into the chunk directly).
 * UPDATE, DELETE and TRUNCATE would have to rewrite whole segments; they
 * are refused before anything runs, with a hint to decompress the chunk.
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include "access/attmap.h"
#include "access/table.h"
#include "access/tableam.h"
#include "executor/executor.h"
#include "foreign/fdwapi.h"
#include "miscadmin.h"
#include "nodes/execnodes.h"
#include "parser/parsetree.h"
#include "utils/acl.h"
#include "parser/parsetree.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/rel.h"

#include "fdw.h"

/* Rows per batch of a multi-row INSERT (ExecForeignBatchInsert). */
#define FDW_INSERT_BATCH	100

typedef struct FdwInsertState
{
	FdwChunk   *chunk;
	Relation	delta;
	ResultRelInfo *delta_rri;	/* for its indexes */
	AttrMap    *map;			/* delta column -> chunk column */
	AttrNumber	time_attno;		/* in the chunk */
	TupleTableSlot **dslots;	/* delta slots, one per row of a batch */
	int			ndslots;
} FdwInsertState;

/*
 * fdw_rel_updatable
 *		IsForeignRelUpdatable: inserts only.
 */
int
fdw_rel_updatable(Relation rel)
{
	return (1 << CMD_INSERT);
}

/*
 * fdw_plan_modify
 *		PlanForeignModify: nothing to plan for INSERT; UPDATE, DELETE (and
 *		anything else) fail here, before anything ran, naming the chunk and
 *		the function that makes it writable again.
 */
/* May the query's user modify its target table (the one it named)? */
static bool
modify_permitted(PlannerInfo *root, CmdType op)
{
	RangeTblEntry *target;
	Oid			user;
	AclMode		mode = op == CMD_UPDATE ? ACL_UPDATE : ACL_DELETE;

	if (root->parse->resultRelation <= 0)
		return true;
	target = rt_fetch(root->parse->resultRelation, root->parse->rtable);
	if (target->rtekind != RTE_RELATION)
		return true;
	user = OidIsValid(target->checkAsUser) ? target->checkAsUser : GetUserId();
	return pg_class_aclcheck(target->relid, user, mode) == ACLCHECK_OK;
}

List *
fdw_plan_modify(PlannerInfo *root, ModifyTable *plan, Index resultRelation,
				int subplan_index)
{
	RangeTblEntry *rte = planner_rt_fetch(resultRelation, root);
	FdwChunk   *chunk;
	const char *what;

	if (plan->operation == CMD_INSERT)
		return NIL;

	/*
	 * A role without the privilege gets PostgreSQL's own 42501 from the
	 * executor's permission check, which runs before the executor refuses
	 * the foreign partition: this error is for those who could otherwise
	 * modify the rows, and must not tell others about chunk storage first.
	 */
	if (!modify_permitted(root, plan->operation))
		return NIL;
	chunk = fdw_chunk_lookup(rte->relid);
	what = plan->operation == CMD_UPDATE ? "update" :
		plan->operation == CMD_DELETE ? "delete" : "modify";
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot %s rows of %s chunk \"%s\"", what,
					chunk->archived ? "archived" : "compressed",
					get_rel_name(chunk->relid)),
			 errdetail("Rows in %s range can be read and inserted, not updated or deleted.",
					   chunk->archived ? "an archived" : "a compressed"),
			 fdw_chunk_hint(chunk)));
	return NIL;					/* not reached */
}

/*
 * fdw_exec_truncate
 *		ExecForeignTruncate: refused, as UPDATE and DELETE are, with the
 *		same hint (TRUNCATE of the hypertable reaches every chunk).
 */
void
fdw_exec_truncate(List *rels, DropBehavior behavior, bool restart_seqs)
{
	FdwChunk   *chunk = fdw_chunk_lookup(RelationGetRelid(linitial_node(RelationData, rels)));

	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot truncate %s chunk \"%s\"",
					chunk->archived ? "archived" : "compressed", get_rel_name(chunk->relid)),
			 errdetail("To remove a whole chunk, use telos.drop_chunks."),
			 fdw_chunk_hint(chunk)));
}

/* Open the delta table of the chunk rinfo writes to. */
static void
begin_insert(ResultRelInfo *rinfo)
{
	Relation	rel = rinfo->ri_RelationDesc;
	FdwInsertState *st = palloc0(sizeof(FdwInsertState));

	st->chunk = fdw_chunk_lookup(RelationGetRelid(rel));
	st->time_attno = get_attnum(RelationGetRelid(rel), st->chunk->time_column);
	if (st->time_attno == InvalidAttrNumber)
		elog(ERROR, "chunk \"%s\" lacks its time column \"%s\"",
			 RelationGetRelationName(rel), st->chunk->time_column);
	st->delta = table_open(st->chunk->delta, RowExclusiveLock);
	st->delta_rri = makeNode(ResultRelInfo);
	InitResultRelInfo(st->delta_rri, st->delta, 0, NULL, 0);
	ExecOpenIndices(st->delta_rri, false);
	st->map = build_attrmap_by_name(RelationGetDescr(rel), RelationGetDescr(st->delta));
	rinfo->ri_FdwState = st;
}

/*
 * fdw_begin_modify
 *		BeginForeignModify: an INSERT into the chunk itself.
 */
void
fdw_begin_modify(ModifyTableState *mtstate, ResultRelInfo *rinfo, List *fdw_private,
				 int subplan_index, int eflags)
{
	if (eflags & EXEC_FLAG_EXPLAIN_ONLY)
		return;
	begin_insert(rinfo);
	fdw_check_direct_access(((FdwInsertState *) rinfo->ri_FdwState)->chunk);
}

/*
 * Whether two descriptors have the same physical layout: the executor may
 * then store a row formed for one into the other.
 */
static bool
same_layout(TupleDesc a, TupleDesc b)
{
	int			i;

	if (a->natts != b->natts)
		return false;
	for (i = 0; i < a->natts; i++)
	{
		Form_pg_attribute x = TupleDescAttr(a, i);
		Form_pg_attribute y = TupleDescAttr(b, i);

		if (x->attisdropped != y->attisdropped || x->attlen != y->attlen ||
			x->attbyval != y->attbyval || x->attalign != y->attalign)
			return false;
		if (!x->attisdropped &&
			(x->atttypid != y->atttypid || x->atttypmod != y->atttypmod ||
			 x->attcollation != y->attcollation ||
			 strcmp(NameStr(x->attname), NameStr(y->attname)) != 0))
			return false;
	}
	return true;
}

/*
 * Rows routed through the hypertable (INSERT, COPY, an UPDATE moving rows)
 * are not inserted by the wrapper: the chunk's ResultRelInfo is turned into
 * that of an ordinary partition whose table is the delta table, so the
 * executor inserts into it as into any heap partition.
 *
 * Why: PostgreSQL refuses to put rows written through a foreign partition
 * into the transition tables of its parent ("cannot collect transition
 * tuples from child foreign tables"), and the rollups' invalidation
 * triggers on a hypertable have transition tables. With the delta table in
 * its place the executor captures the rows, checks row-level security and
 * the constraints itself, and COPY uses multi-row inserts.
 *
 * This is done here, in BeginForeignInsert, because nothing of the routing
 * set-up after it uses the chunk's relation (ExecInitRoutingInfo: the batch
 * size is read next, from the ri_FdwRoutine cleared here), and the
 * executor closes ri_RelationDesc and its indexes when routing ends
 * (ExecCleanupTupleRouting): the chunk's reference is given up here and the
 * delta table's taken in its place. It is done only when the delta table
 * has the chunk's very layout (the tuple conversion map and the partition
 * slot were made for the chunk), the chunk has no row triggers (they
 * would see the delta table as their relation) and no generated columns
 * (the delta table has plain columns in their place); otherwise the rows go
 * through ExecForeignInsert, which does the same checks but cannot feed
 * transition tables.
 */
static bool
route_to_delta(ModifyTableState *mtstate, ResultRelInfo *rinfo)
{
	Relation	rel = rinfo->ri_RelationDesc;
	TriggerDesc *trig = rinfo->ri_TrigDesc;
	ModifyTable *plan = mtstate ? (ModifyTable *) mtstate->ps.plan : NULL;
	FdwChunk   *chunk;
	Relation	delta;

	if (rinfo->ri_RootResultRelInfo == NULL || rinfo->ri_NumIndices > 0 ||
		(trig && (trig->trig_insert_before_row || trig->trig_insert_after_row ||
				  trig->trig_insert_instead_row || trig->trig_update_after_row)))
		return false;
	/* the executor would compute generated columns by the delta table's rules */
	if (rel->rd_att->constr && rel->rd_att->constr->has_generated_stored)
		return false;
	chunk = fdw_chunk_lookup(RelationGetRelid(rel));
	/* open it before letting the chunk go: its lock may process invalidations */
	delta = table_open(chunk->delta, RowExclusiveLock);
	if (!same_layout(RelationGetDescr(rel), RelationGetDescr(delta)))
	{
		table_close(delta, NoLock);
		return false;
	}
	rinfo->ri_RelationDesc = delta;
	rinfo->ri_FdwRoutine = NULL;
	rinfo->ri_FdwState = NULL;
	ExecOpenIndices(rinfo, plan != NULL && IsA(plan, ModifyTable) &&
					plan->onConflictAction != ONCONFLICT_NONE);
	table_close(rel, NoLock);	/* still locked until the end of the transaction */
	return true;
}

/*
 * fdw_begin_insert
 *		BeginForeignInsert: rows routed to the chunk by an INSERT or COPY on
 *		the hypertable (route_to_delta), or a COPY into the chunk itself.
 */
void
fdw_begin_insert(ModifyTableState *mtstate, ResultRelInfo *rinfo)
{
	if (route_to_delta(mtstate, rinfo))
		return;
	begin_insert(rinfo);
	if (rinfo->ri_RootResultRelInfo == NULL)
		fdw_check_direct_access(((FdwInsertState *) rinfo->ri_FdwState)->chunk);
}

/*
 * The checks PostgreSQL makes for a heap partition (see the file header):
 * row-level security, constraints, the chunk's range.
 */
static void
check_row(FdwInsertState *st, EState *estate, ResultRelInfo *rinfo, TupleTableSlot *slot)
{
	Relation	rel = rinfo->ri_RelationDesc;
	bool		isnull;
	TimestampTz t;

	slot->tts_tableOid = RelationGetRelid(rel);
	if (rinfo->ri_WithCheckOptions != NIL)
	{
		/* one kind or the other, as the statement is an INSERT or an UPDATE moving rows */
		ExecWithCheckOptions(WCO_RLS_INSERT_CHECK, rinfo, slot, estate);
		ExecWithCheckOptions(WCO_RLS_UPDATE_CHECK, rinfo, slot, estate);
	}
	if (rel->rd_att->constr)
		ExecConstraints(rinfo, slot, estate);

	t = DatumGetTimestampTz(slot_getattr(slot, st->time_attno, &isnull));
	if (isnull || t < st->chunk->range_start || t >= st->chunk->range_end)
	{
		/* timestamptz_to_str returns a static buffer: copy each */
		char	   *ts = isnull ? "NULL" : pstrdup(timestamptz_to_str(t));
		char	   *lo = pstrdup(timestamptz_to_str(st->chunk->range_start));
		char	   *hi = pstrdup(timestamptz_to_str(st->chunk->range_end));

		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("new row for chunk \"%s\" is outside its range",
						RelationGetRelationName(rel)),
				 errdetail("%s %s is not in [%s, %s).", st->chunk->time_column, ts, lo, hi),
				 errhint("Insert through the hypertable, which routes each row to its chunk.")));
	}
}

/* A delta slot holding the row of slot, converted by column name. */
static TupleTableSlot *
to_delta_slot(FdwInsertState *st, TupleTableSlot *slot, int i)
{
	TupleTableSlot *dslot;
	int			natts = RelationGetDescr(st->delta)->natts;
	int			j;

	if (i >= st->ndslots)
	{
		int			n = Max(i + 1, FDW_INSERT_BATCH);
		MemoryContext old = MemoryContextSwitchTo(GetMemoryChunkContext(st));

		st->dslots = st->dslots ? repalloc(st->dslots, sizeof(TupleTableSlot *) * n)
			: palloc(sizeof(TupleTableSlot *) * n);
		for (j = st->ndslots; j < n; j++)
			st->dslots[j] = MakeSingleTupleTableSlot(RelationGetDescr(st->delta),
													 &TTSOpsVirtual);
		st->ndslots = n;
		MemoryContextSwitchTo(old);
	}
	dslot = st->dslots[i];
	slot_getallattrs(slot);
	ExecClearTuple(dslot);
	for (j = 0; j < natts; j++)
	{
		AttrNumber	src = st->map->attnums[j];

		dslot->tts_values[j] = src > 0 ? slot->tts_values[src - 1] : (Datum) 0;
		dslot->tts_isnull[j] = src > 0 ? slot->tts_isnull[src - 1] : true;
	}
	ExecStoreVirtualTuple(dslot);
	dslot->tts_tableOid = RelationGetRelid(st->delta);
	return dslot;
}

/* Index entries of the rows just inserted into the delta table. */
static void
insert_index_entries(FdwInsertState *st, EState *estate, TupleTableSlot **dslots, int n)
{
	int			i;

	if (st->delta_rri->ri_NumIndices == 0)
		return;
	for (i = 0; i < n; i++)
		list_free(ExecInsertIndexTuples(st->delta_rri, dslots[i], estate,
										false, false, NULL, NIL));
}

/*
 * fdw_exec_insert
 *		ExecForeignInsert: check the row and insert it into the delta table.
 */
TupleTableSlot *
fdw_exec_insert(EState *estate, ResultRelInfo *rinfo, TupleTableSlot *slot,
				TupleTableSlot *planSlot)
{
	FdwInsertState *st = rinfo->ri_FdwState;
	TupleTableSlot *dslot;

	check_row(st, estate, rinfo, slot);
	dslot = to_delta_slot(st, slot, 0);
	table_tuple_insert(st->delta, dslot, estate->es_output_cid, 0, NULL);
	insert_index_entries(st, estate, &dslot, 1);
	return slot;
}

/*
 * fdw_exec_batch_insert
 *		ExecForeignBatchInsert: the same for *numSlots rows, inserted into the
 *		delta table at once.
 */
TupleTableSlot **
fdw_exec_batch_insert(EState *estate, ResultRelInfo *rinfo, TupleTableSlot **slots,
					  TupleTableSlot **planSlots, int *numSlots)
{
	FdwInsertState *st = rinfo->ri_FdwState;
	int			n = *numSlots;
	int			i;

	for (i = 0; i < n; i++)
	{
		CHECK_FOR_INTERRUPTS();
		check_row(st, estate, rinfo, slots[i]);
		(void) to_delta_slot(st, slots[i], i);
	}
	table_multi_insert(st->delta, st->dslots, n, estate->es_output_cid, 0, NULL);
	insert_index_entries(st, estate, st->dslots, n);
	return slots;
}

/*
 * fdw_batch_size
 *		GetForeignModifyBatchSize: batches, unless a row must come back at
 *		once (RETURNING) or row triggers of the chunk fire per row.
 */
int
fdw_batch_size(ResultRelInfo *rinfo)
{
	TriggerDesc *trig = rinfo->ri_TrigDesc;

	if (rinfo->ri_projectReturning != NULL ||
		(trig && (trig->trig_insert_before_row || trig->trig_insert_after_row)))
		return 1;
	return FDW_INSERT_BATCH;
}

/*
 * fdw_end_modify
 *		EndForeignModify and EndForeignInsert: close the delta table (its
 *		lock stays until the end of the transaction).
 */
void
fdw_end_modify(EState *estate, ResultRelInfo *rinfo)
{
	FdwInsertState *st = rinfo->ri_FdwState;
	int			i;

	if (st == NULL)
		return;
	for (i = 0; i < st->ndslots; i++)
		ExecDropSingleTupleTableSlot(st->dslots[i]);
	ExecCloseIndices(st->delta_rri);
	table_close(st->delta, NoLock);
	rinfo->ri_FdwState = NULL;
}
