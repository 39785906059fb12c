/*-------------------------------------------------------------------------
 *
 * segsource_table.c
 *	  The segment source of a compressed chunk whose segment rows are in a
 *	  segment table (storage 'table'); see segsource.h.
 *
 * The segment table has a btree index on (segment-by columns...,
 * _telos_min_time). When the FDW pushed down an equality key on the first
 * segment-by column, the source reads through that index with every key
 * the index can use -- the equality keys on segment-by columns and, as a
 * bound on _telos_min_time, the upper time bound (a segment that starts
 * after the range ends holds none of it). Otherwise it reads the table
 * sequentially: one tenant's segments, or a time range, are a small part
 * of the index, but a query over all of them reads them all anyway.
 *
 * Rows come from the table scan of the index or heap directly: no
 * executor, no permission check. The FDW reads the segment table on
 * behalf of a query the executor has already allowed on the chunk (the
 * segment table itself lives in _telos_internal, which nobody but the
 * owner can reach).
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/relscan.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/pg_am.h"
#include "catalog/pg_class.h"
#include "catalog/pg_index.h"
#include "executor/tuptable.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "compress_build.h"
#include "segsource.h"

typedef struct TableSegSource
{
	SegSource	pub;
	Relation	rel;			/* the segment table */
	Oid			indexoid;		/* (segby..., _telos_min_time), or invalid */
	int			index_nsegby;	/* segment-by columns the index starts with */
	AttrNumber *index_attno;	/* table attno of each index column */
	Relation	index;			/* opened on first use */
	TupleTableSlot *slot;
	IndexScanDesc iscan;		/* one of these two is open while reading */
	TableScanDesc hscan;
} TableSegSource;

static void tss_begin(SegSource *src, const SegScanKeys *keys);
static bool tss_next(SegSource *src, Datum *values, bool *isnull);
static void tss_end(SegSource *src);

/* Whether index indexoid is a btree. */
static bool
index_rel_is_btree(Oid indexoid)
{
	HeapTuple	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(indexoid));
	bool		result;

	if (!HeapTupleIsValid(tup))
		return false;
	result = ((Form_pg_class) GETSTRUCT(tup))->relam == BTREE_AM_OID;
	ReleaseSysCache(tup);
	return result;
}

/*
 * The index of the segment table whose key columns are its leading
 * segment-by columns followed by _telos_min_time, if any.
 */
static void
find_segment_index(TableSegSource *s)
{
	TupleDesc	desc = RelationGetDescr(s->rel);
	AttrNumber	min_time = InvalidAttrNumber;
	List	   *indexes;
	ListCell   *lc;
	int			i;

	for (i = 0; i < desc->natts; i++)
		if (!TupleDescAttr(desc, i)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(desc, i)->attname), SEG_MIN_TIME_NAME) == 0)
			min_time = i + 1;
	if (min_time == InvalidAttrNumber)
		return;

	indexes = RelationGetIndexList(s->rel);
	foreach(lc, indexes)
	{
		Oid			indexoid = lfirst_oid(lc);
		HeapTuple	tup = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(indexoid));
		Form_pg_index index;
		int			nkeys;
		bool		ok;

		if (!HeapTupleIsValid(tup))
			continue;
		index = (Form_pg_index) GETSTRUCT(tup);
		nkeys = index->indnkeyatts;
		ok = index->indisvalid && nkeys >= 1 &&
			index_rel_is_btree(indexoid) &&
			heap_attisnull(tup, Anum_pg_index_indpred, NULL) &&
			heap_attisnull(tup, Anum_pg_index_indexprs, NULL) &&
			index->indkey.values[nkeys - 1] == min_time;
		/* the columns before _telos_min_time are the segment-by columns, in order */
		for (i = 0; ok && i < nkeys - 1; i++)
			ok = index->indkey.values[i] == i + 1;
		if (ok)
		{
			s->indexoid = indexoid;
			s->index_nsegby = nkeys - 1;
			s->index_attno = palloc(sizeof(AttrNumber) * nkeys);
			for (i = 0; i < nkeys; i++)
				s->index_attno[i] = index->indkey.values[i];
		}
		ReleaseSysCache(tup);
		if (OidIsValid(s->indexoid))
			break;
	}
	list_free(indexes);
}

/*
 * segsource_table_open
 *		See segsource.h.
 */
SegSource *
segsource_table_open(Oid segments_relid)
{
	TableSegSource *s = palloc0(sizeof(TableSegSource));

	s->rel = table_open(segments_relid, AccessShareLock);
	s->pub.layout = RelationGetDescr(s->rel);
	s->pub.begin = tss_begin;
	s->pub.next = tss_next;
	s->pub.end = tss_end;
	s->slot = table_slot_create(s->rel, NULL);
	find_segment_index(s);
	return &s->pub;
}

/* Close whatever scan is open. */
static void
tss_close_scans(TableSegSource *s)
{
	if (s->iscan)
		index_endscan(s->iscan);
	if (s->hscan)
		table_endscan(s->hscan);
	s->iscan = NULL;
	s->hscan = NULL;
	ExecClearTuple(s->slot);
}

static int
cmp_scankey(const void *a, const void *b)
{
	const ScanKeyData *x = a;
	const ScanKeyData *y = b;

	return (x->sk_attno > y->sk_attno) - (x->sk_attno < y->sk_attno);
}

/*
 * tss_begin
 *		(Re)start reading: through the index when there is an equality key
 *		on its first column, else sequentially.
 */
static void
tss_begin(SegSource *src, const SegScanKeys *keys)
{
	TableSegSource *s = (TableSegSource *) src;
	ScanKeyData *skeys = NULL;
	int			nskeys = 0;
	bool		leading = false;
	int			i,
				j;

	tss_close_scans(s);

	if (OidIsValid(s->indexoid) && keys != NULL && keys->nkeys > 0)
	{
		skeys = palloc(sizeof(ScanKeyData) * (keys->nkeys + 1));
		for (i = 0; i < keys->nkeys; i++)
		{
			for (j = 0; j < s->index_nsegby; j++)
				if (s->index_attno[j] == keys->seg_attno[i])
					break;
			if (j == s->index_nsegby)
				continue;		/* not an index column: the FDW checks it */
			if (j == 0)
				leading = true;
			/*
			 * The FDW pushes down only the btree equality operator of the
			 * column's own type (segsource.h), which is what the index
			 * compares with: the subtype is the column type.
			 */
			ScanKeyEntryInitialize(&skeys[nskeys++], 0, j + 1,
								   BTEqualStrategyNumber, InvalidOid,
								   keys->collations[i], keys->eq_opfuncs[i],
								   keys->values[i]);
		}
		if (leading && keys->has_hi)
			ScanKeyEntryInitialize(&skeys[nskeys++], 0, s->index_nsegby + 1,
								   keys->hi_incl ? BTLessEqualStrategyNumber : BTLessStrategyNumber,
								   InvalidOid, InvalidOid,
								   keys->hi_incl ? F_TIMESTAMPTZ_LE : F_TIMESTAMPTZ_LT,
								   TimestampTzGetDatum(keys->hi));
	}

	if (leading)
	{
		/* btree wants its keys in index column order */
		qsort(skeys, nskeys, sizeof(ScanKeyData), cmp_scankey);
		if (s->index == NULL)
			s->index = index_open(s->indexoid, AccessShareLock);
		s->iscan = index_beginscan(s->rel, s->index, GetActiveSnapshot(), nskeys, 0);
		index_rescan(s->iscan, skeys, nskeys, NULL, 0);
	}
	else
		s->hscan = table_beginscan(s->rel, GetActiveSnapshot(), 0, NULL);
	if (skeys)
		pfree(skeys);
}

/*
 * tss_next
 *		The next segment row, deformed; the Datums point into the slot's
 *		tuple (valid until the next call).
 */
static bool
tss_next(SegSource *src, Datum *values, bool *isnull)
{
	TableSegSource *s = (TableSegSource *) src;
	bool		found;
	int			natts = s->pub.layout->natts;

	if (s->iscan)
		found = index_getnext_slot(s->iscan, ForwardScanDirection, s->slot);
	else if (s->hscan)
		found = table_scan_getnextslot(s->hscan, ForwardScanDirection, s->slot);
	else
		found = false;
	if (!found)
		return false;
	slot_getallattrs(s->slot);
	memcpy(values, s->slot->tts_values, sizeof(Datum) * natts);
	memcpy(isnull, s->slot->tts_isnull, sizeof(bool) * natts);
	return true;
}

/*
 * tss_end
 *		Close the scans, the index and the table (its lock is kept until the
 *		end of the transaction, as for any table a query read).
 */
static void
tss_end(SegSource *src)
{
	TableSegSource *s = (TableSegSource *) src;

	tss_close_scans(s);
	ExecDropSingleTupleTableSlot(s->slot);
	if (s->index)
		index_close(s->index, NoLock);
	table_close(s->rel, NoLock);
	pfree(s);
}
