/*-------------------------------------------------------------------------
 *
 * compress_build.c
 *	  Building segment rows: the compression settings of a hypertable
 *	  resolved into a segment layout, and the rows of a chunk sorted by
 *	  segment-by columns and time, cut into segments of at most
 *	  COLBLOB_MAX_ROWS rows, each column encoded as a column blob.
 *
 * Groups are made of rows whose segment-by values are equal byte for byte
 * (not merely equal by the type's operator: a segment-by value is stored
 * once per segment, so every row of a segment must have that very value).
 * The rows are put in order in memory when they fit in
 * maintenance_work_mem, else by a tuplesort that spills to disk as CREATE
 * INDEX does; that one sorts segment-by columns with the "C" collation
 * where they have one, since only grouping matters and byte order groups
 * exactly the values that are equal byte for byte. (Values of other types
 * that are equal by the operator but not byte for byte, numeric 1.0 and
 * 1.00, may then interleave: they make more, smaller segments, still
 * correct.)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "miscadmin.h"
#include "parser/parse_oper.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"
#include "utils/float.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/partcache.h"
#include "utils/rel.h"
#include "utils/tuplesort.h"

#include "colblob.h"
#include "compress_build.h"
#include "util.h"

/* ------------------------------------------------------------------------
 * Layout
 * ------------------------------------------------------------------------
 */

/* The attnum of live column name of desc, or InvalidAttrNumber. */
static AttrNumber
find_column(TupleDesc desc, const char *name)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return att->attnum;
	}
	return InvalidAttrNumber;
}

/*
 * read_settings
 *		The telos.compression_settings row of hypertable: *segby gets the
 *		segment-by names (palloc'd in cxt), *stats the stats column or NULL.
 *		False when there is no row.
 */
static bool
read_settings(Oid hypertable, MemoryContext cxt, int *nsegby, char ***segby, char **stats)
{
	int			nestlevel = telos_pin_search_path();
	bool		found = false;

	SPI_connect();
	if (telos_spi_exec("SELECT segmentby, stats_column FROM telos.compression_settings "
					   "WHERE hypertable = $1", 1, (Oid[]) {REGCLASSOID},
					   (Datum[]) {ObjectIdGetDatum(hypertable)}, NULL) == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		Datum	   *elems;
		bool	   *enulls;
		int			nelems;

		deconstruct_array(DatumGetArrayTypeP(d), NAMEOID, NAMEDATALEN, false,
						  TYPALIGN_CHAR, &elems, &enulls, &nelems);
		*nsegby = 0;
		*segby = MemoryContextAlloc(cxt, sizeof(char *) * Max(nelems, 1));
		for (int i = 0; i < nelems; i++)
			if (!enulls[i])
				(*segby)[(*nsegby)++] = MemoryContextStrdup(cxt, NameStr(*DatumGetName(elems[i])));
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
		*stats = isnull ? NULL : MemoryContextStrdup(cxt, NameStr(*DatumGetName(d)));
		found = true;
	}
	SPI_finish();
	telos_unpin_gucs(nestlevel);
	return found;
}

SegLayout *
compress_layout_get(Oid hypertable)
{
	Relation	rel = relation_open(hypertable, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	SegLayout  *l = palloc0(sizeof(SegLayout));
	PartitionKey key;
	int			nsegby = 0;
	char	  **segby = NULL;
	char	   *stats = NULL;
	int			natts;

	if (rel->rd_rel->relkind != RELKIND_PARTITIONED_TABLE)
		elog(ERROR, "hypertable \"%s\" is not partitioned", RelationGetRelationName(rel));
	key = RelationGetPartitionKey(rel);
	l->hypertable = hypertable;
	l->htdesc = CreateTupleDescCopy(desc);
	l->time_attno = key->partattrs[0];

	if (read_settings(hypertable, CurrentMemoryContext, &nsegby, &segby, &stats))
	{
		for (int i = 0; i < nsegby; i++)
			if (find_column(desc, segby[i]) == InvalidAttrNumber)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("segment-by column \"%s\" of hypertable \"%s\" does not exist",
								segby[i], RelationGetRelationName(rel)),
						 errhint("Set the compression of the hypertable again with telos.set_compression().")));
		if (stats != NULL)
		{
			AttrNumber	a = find_column(desc, stats);

			if (a == InvalidAttrNumber || TupleDescAttr(desc, a - 1)->atttypid != FLOAT8OID)
				ereport(ERROR,
						(errcode(ERRCODE_UNDEFINED_COLUMN),
						 errmsg("stats column \"%s\" of hypertable \"%s\" does not exist or is not double precision",
								stats, RelationGetRelationName(rel)),
						 errhint("Set the compression of the hypertable again with telos.set_compression().")));
			l->stats_attno = a;
		}
	}
	else
	{
		static const char *const defaults[] = {"tenant_id", "metric_type"};
		AttrNumber	a;

		segby = palloc(sizeof(char *) * lengthof(defaults));
		for (int i = 0; i < (int) lengthof(defaults); i++)
		{
			a = find_column(desc, defaults[i]);
			if (a != InvalidAttrNumber && a != l->time_attno)
				segby[nsegby++] = pstrdup(defaults[i]);
		}
		a = find_column(desc, "value");
		if (a != InvalidAttrNumber && TupleDescAttr(desc, a - 1)->atttypid == FLOAT8OID)
			l->stats_attno = a;
	}

	l->nsegby = nsegby;
	l->segby_attno = palloc(sizeof(AttrNumber) * Max(nsegby, 1));
	for (int i = 0; i < nsegby; i++)
		l->segby_attno[i] = find_column(desc, segby[i]);

	/* Every other live column is a blob column, in attnum order. */
	l->blob_attno = palloc(sizeof(AttrNumber) * Max(desc->natts, 1));
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		bool		is_segby = false;

		if (att->attisdropped)
			continue;
		for (int k = 0; k < nsegby; k++)
			is_segby |= l->segby_attno[k] == att->attnum;
		if (!is_segby)
			l->blob_attno[l->nblob++] = att->attnum;
	}

	natts = nsegby + SEG_NMETA + l->nblob;
	l->segdesc = CreateTemplateTupleDesc(natts);
	for (int i = 0; i < nsegby; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, l->segby_attno[i] - 1);

		TupleDescInitEntry(l->segdesc, i + 1, NameStr(att->attname), att->atttypid,
						   att->atttypmod, 0);
		TupleDescInitEntryCollation(l->segdesc, i + 1, att->attcollation);
	}
	TupleDescInitEntry(l->segdesc, nsegby + 1, SEG_COUNT_NAME, INT4OID, -1, 0);
	TupleDescInitEntry(l->segdesc, nsegby + 2, SEG_MIN_TIME_NAME, TIMESTAMPTZOID, -1, 0);
	TupleDescInitEntry(l->segdesc, nsegby + 3, SEG_MAX_TIME_NAME, TIMESTAMPTZOID, -1, 0);
	TupleDescInitEntry(l->segdesc, nsegby + 4, SEG_SUM_NAME, FLOAT8OID, -1, 0);
	TupleDescInitEntry(l->segdesc, nsegby + 5, SEG_MIN_NAME, FLOAT8OID, -1, 0);
	TupleDescInitEntry(l->segdesc, nsegby + 6, SEG_MAX_NAME, FLOAT8OID, -1, 0);
	for (int i = 0; i < l->nblob; i++)
		TupleDescInitEntry(l->segdesc, nsegby + SEG_NMETA + 1 + i,
						   NameStr(TupleDescAttr(desc, l->blob_attno[i] - 1)->attname),
						   BYTEAOID, -1, 0);

	relation_close(rel, NoLock);
	return l;
}

/* ------------------------------------------------------------------------
 * Building
 *
 * Two ways to put the rows in order. In memory (the usual case: a chunk
 * whose rows fit in maintenance_work_mem): each row is copied once, its
 * segment-by values looked up in a hash table that numbers the groups, and
 * an array of (group, time, row) entries is sorted -- fixed-size integer
 * keys, nothing else compared. Beyond maintenance_work_mem the rows go
 * through a tuplesort on (segment-by..., time), which spills to disk.
 * ------------------------------------------------------------------------
 */

/* One row of the in-memory sort. */
typedef struct SortEntry
{
	int32		group;
	uint32		row;
	int64		time;
} SortEntry;

/* A group (segment-by values) of the in-memory sort. */
typedef struct GroupEntry
{
	uint32		hash;
	int32		group;
	int			keylen;
	char	   *key;
} GroupEntry;

typedef struct BuildState
{
	const SegLayout *layout;
	void		(*emit) (void *arg, Datum *values, bool *isnull);
	void	   *emit_arg;
	int64		nrows;
	int64		nsegments;

	/* in memory: rows, their sort entries and the group table */
	bool		in_memory;
	Size		mem_limit;
	Size		mem_used;
	MemoryContext rowcxt;
	MinimalTuple *rows;
	SortEntry  *entries;
	uint32		nentries;
	uint32		capentries;
	GroupEntry *groups;			/* open addressing, capgroups a power of 2 */
	uint32		ngroups;
	uint32		capgroups;
	StringInfoData keybuf;

	/* else a tuplesort */
	Tuplesortstate *sort;

	/* the segment being gathered: its rows (copies in segcxt when sorted) */
	MemoryContext segcxt;
	int			nbatch;
	MinimalTuple batch[COLBLOB_MAX_ROWS];
	Datum	   *keyvals;		/* segment-by values of batch[0] */
	bool	   *keynulls;

	/* scratch for flush_segment */
	Datum	   *rowvals;
	bool	   *rownulls;
	Datum	  **colvals;		/* [nblob][COLBLOB_MAX_ROWS] */
	bool	  **colnulls;
	Datum	   *segvals;
	bool	   *segnulls;
} BuildState;

/*
 * group_key
 *		The segment-by values of slot as bytes in b->keybuf: per column a
 *		NULL flag, then length and bytes (varlena detoasted).
 */
static void
group_key(BuildState *b, TupleTableSlot *slot)
{
	const SegLayout *l = b->layout;

	resetStringInfo(&b->keybuf);
	for (int i = 0; i < l->nsegby; i++)
	{
		Form_pg_attribute att = TupleDescAttr(l->htdesc, l->segby_attno[i] - 1);
		bool		isnull;
		Datum		d = slot_getattr(slot, l->segby_attno[i], &isnull);
		const char *p;
		uint32		len;

		appendStringInfoChar(&b->keybuf, isnull ? 'n' : 'v');
		if (isnull)
			continue;
		if (att->attbyval)
		{
			p = (const char *) &d;
			len = sizeof(Datum);
		}
		else if (att->attlen > 0)
		{
			p = DatumGetPointer(d);
			len = att->attlen;
		}
		else if (att->attlen == -1)
		{
			struct varlena *v = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(d));

			p = VARDATA_ANY(v);
			len = VARSIZE_ANY_EXHDR(v);
		}
		else
		{
			p = DatumGetCString(d);
			len = strlen(p);
		}
		appendBinaryStringInfo(&b->keybuf, (const char *) &len, sizeof(len));
		appendBinaryStringInfo(&b->keybuf, p, len);
	}
}

/* Doubles the group table. */
static void
grow_groups(BuildState *b)
{
	uint32		cap = b->capgroups * 2;
	GroupEntry *g = MemoryContextAllocZero(b->rowcxt, sizeof(GroupEntry) * cap);

	for (uint32 i = 0; i < b->capgroups; i++)
	{
		uint32		j;

		if (b->groups[i].key == NULL)
			continue;
		for (j = b->groups[i].hash & (cap - 1); g[j].key != NULL; j = (j + 1) & (cap - 1))
			;
		g[j] = b->groups[i];
	}
	b->mem_used += sizeof(GroupEntry) * (cap - b->capgroups);
	pfree(b->groups);
	b->groups = g;
	b->capgroups = cap;
}

/* The group number of the row in slot, making a new group when needed. */
static int32
group_of(BuildState *b, TupleTableSlot *slot)
{
	uint32		hash;
	uint32		j;

	group_key(b, slot);
	hash = hash_bytes((const unsigned char *) b->keybuf.data, b->keybuf.len);
	for (j = hash & (b->capgroups - 1); b->groups[j].key != NULL; j = (j + 1) & (b->capgroups - 1))
	{
		GroupEntry *g = &b->groups[j];

		if (g->hash == hash && g->keylen == b->keybuf.len &&
			memcmp(g->key, b->keybuf.data, b->keybuf.len) == 0)
			return g->group;
	}
	b->groups[j].hash = hash;
	b->groups[j].group = (int32) b->ngroups++;
	b->groups[j].keylen = b->keybuf.len;
	b->groups[j].key = MemoryContextAlloc(b->rowcxt, Max(b->keybuf.len, 1));
	memcpy(b->groups[j].key, b->keybuf.data, b->keybuf.len);
	b->mem_used += b->keybuf.len;
	if (b->ngroups * 2 > b->capgroups)
		grow_groups(b);
	return b->groups[j].group;
}

/* The tuplesort on (segment-by..., time) of the rows. */
static Tuplesortstate *
begin_tuplesort(const SegLayout *layout)
{
	int			nkeys = layout->nsegby + 1;
	AttrNumber *attnums = palloc(sizeof(AttrNumber) * nkeys);
	Oid		   *ops = palloc(sizeof(Oid) * nkeys);
	Oid		   *colls = palloc(sizeof(Oid) * nkeys);
	bool	   *nullsfirst = palloc0(sizeof(bool) * nkeys);

	for (int i = 0; i < nkeys; i++)
	{
		AttrNumber	a = i < layout->nsegby ? layout->segby_attno[i] : layout->time_attno;
		Form_pg_attribute att = TupleDescAttr(layout->htdesc, a - 1);
		Oid			lt;

		get_sort_group_operators(att->atttypid, false, false, false, &lt, NULL, NULL, NULL);
		if (!OidIsValid(lt))
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_FUNCTION),
					 errmsg("segment-by column \"%s\" of type %s has no ordering",
							NameStr(att->attname), format_type_be(att->atttypid)),
					 errhint("Segment by columns of types with a default btree operator class.")));
		attnums[i] = a;
		ops[i] = lt;
		colls[i] = OidIsValid(att->attcollation) ? C_COLLATION_OID : InvalidOid;
	}
	return tuplesort_begin_heap(layout->htdesc, nkeys, attnums, ops, colls,
								nullsfirst, maintenance_work_mem, NULL, TUPLESORT_NONE);
}

/*
 * spill_to_tuplesort
 *		The rows outgrew maintenance_work_mem: moves those gathered so far
 *		into a tuplesort, which takes the rest.
 */
static void
spill_to_tuplesort(BuildState *b)
{
	TupleTableSlot *slot = MakeSingleTupleTableSlot(b->layout->htdesc, &TTSOpsMinimalTuple);

	b->sort = begin_tuplesort(b->layout);
	for (uint32 i = 0; i < b->nentries; i++)
	{
		ExecStoreMinimalTuple(b->rows[i], slot, false);
		tuplesort_puttupleslot(b->sort, slot);
	}
	ExecDropSingleTupleTableSlot(slot);
	MemoryContextReset(b->rowcxt);
	b->rows = NULL;
	b->entries = NULL;
	b->groups = NULL;
	b->in_memory = false;
}

/* Collects one source row. */
static void
put_row(void *arg, TupleTableSlot *slot)
{
	BuildState *b = arg;
	bool		isnull;
	Datum		t = slot_getattr(slot, b->layout->time_attno, &isnull);
	MemoryContext oldcxt;
	MinimalTuple mt;

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("a row to compress has a NULL time"),
				 errdetail("Rows of a chunk always have a time; this one is not a chunk of the hypertable.")));
	b->nrows++;
	if (!b->in_memory)
	{
		tuplesort_puttupleslot(b->sort, slot);
		return;
	}

	oldcxt = MemoryContextSwitchTo(b->rowcxt);
	if (b->nentries == b->capentries)
	{
		if (b->capentries >= PG_INT32_MAX / 2)
			elog(ERROR, "too many rows to compress in memory");
		b->capentries *= 2;
		b->rows = repalloc_huge(b->rows, sizeof(MinimalTuple) * b->capentries);
		b->entries = repalloc_huge(b->entries, sizeof(SortEntry) * b->capentries);
		b->mem_used += (sizeof(MinimalTuple) + sizeof(SortEntry)) * b->capentries / 2;
	}
	mt = ExecCopySlotMinimalTuple(slot);
	b->rows[b->nentries] = mt;
	b->entries[b->nentries].group = group_of(b, slot);
	b->entries[b->nentries].row = b->nentries;
	b->entries[b->nentries].time = DatumGetTimestampTz(t);
	b->nentries++;
	b->mem_used += MAXALIGN(mt->t_len) + 16;
	MemoryContextSwitchTo(oldcxt);

	if (b->mem_used > b->mem_limit)
	{
		elog(DEBUG1, "telos: rows to compress exceed maintenance_work_mem, sorting with a tuplesort");
		spill_to_tuplesort(b);
	}
}

static int
cmp_entry(const void *a, const void *b)
{
	const SortEntry *x = a;
	const SortEntry *y = b;

	if (x->time != y->time)
		return x->time < y->time ? -1 : 1;
	return x->row < y->row ? -1 : (x->row > y->row ? 1 : 0);
}

/*
 * order_entries
 *		Puts the entries in (group, time) order: a counting sort by group,
 *		stable, so that each group keeps the order the rows were read in --
 *		usually time order already, as rows arrive -- then a sort by time of
 *		the groups that are not. Linear in the usual case.
 */
static SortEntry *
order_entries(BuildState *b)
{
	uint32	   *start = MemoryContextAllocZero(b->rowcxt, sizeof(uint32) * (b->ngroups + 1));
	SortEntry  *out = MemoryContextAllocHuge(b->rowcxt, sizeof(SortEntry) * Max(b->nentries, 1));

	for (uint32 i = 0; i < b->nentries; i++)
		start[b->entries[i].group + 1]++;
	for (uint32 g = 0; g < b->ngroups; g++)
		start[g + 1] += start[g];
	for (uint32 i = 0; i < b->nentries; i++)
		out[start[b->entries[i].group]++] = b->entries[i];

	/* start[g] is now the end of group g */
	for (uint32 g = 0, lo = 0; g < b->ngroups; lo = start[g], g++)
	{
		uint32		hi = start[g];

		for (uint32 i = lo + 1; i < hi; i++)
		{
			if (out[i].time < out[i - 1].time)
			{
				qsort(out + lo, hi - lo, sizeof(SortEntry), cmp_entry);
				break;
			}
		}
	}
	return out;
}

/*
 * same_value
 *		Whether two non-NULL values of att are the same bytes (varlena
 *		compared detoasted, so a short and a long header compare equal).
 */
static bool
same_value(Form_pg_attribute att, Datum a, Datum b)
{
	if (att->attbyval)
		return a == b;
	if (att->attlen > 0)
		return memcmp(DatumGetPointer(a), DatumGetPointer(b), att->attlen) == 0;
	if (att->attlen == -1)
	{
		struct varlena *va = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(a));
		struct varlena *vb = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(b));

		return VARSIZE_ANY_EXHDR(va) == VARSIZE_ANY_EXHDR(vb) &&
			memcmp(VARDATA_ANY(va), VARDATA_ANY(vb), VARSIZE_ANY_EXHDR(va)) == 0;
	}
	return strcmp(DatumGetCString(a), DatumGetCString(b)) == 0;
}

/* Deforms minimal tuple mt of descriptor desc into values/isnull. */
static void
deform_minimal(MinimalTuple mt, TupleDesc desc, Datum *values, bool *isnull)
{
	HeapTupleData htup;

	htup.t_len = mt->t_len + MINIMAL_TUPLE_OFFSET;
	htup.t_data = (HeapTupleHeader) ((char *) mt - MINIMAL_TUPLE_OFFSET);
	ItemPointerSetInvalid(&htup.t_self);
	htup.t_tableOid = InvalidOid;
	heap_deform_tuple(&htup, desc, values, isnull);
}

/* Encodes the gathered rows as one segment row and emits it. */
static void
flush_segment(BuildState *b)
{
	const SegLayout *l = b->layout;
	TupleDesc	desc = l->htdesc;
	int			n = b->nbatch;
	int			ti = l->time_attno - 1;
	int			si = l->stats_attno - 1;
	TimestampTz tmin = 0;
	TimestampTz tmax = 0;
	float8		sum = 0;
	float8		smin = 0;
	float8		smax = 0;
	int			nstats = 0;
	int			k = 0;
	MemoryContext oldcxt;

	if (n == 0)
		return;
	oldcxt = MemoryContextSwitchTo(b->segcxt);

	for (int r = 0; r < n; r++)
	{
		TimestampTz t;

		deform_minimal(b->batch[r], desc, b->rowvals, b->rownulls);
		t = DatumGetTimestampTz(b->rowvals[ti]);
		if (r == 0 || t < tmin)
			tmin = t;
		if (r == 0 || t > tmax)
			tmax = t;
		if (si >= 0 && !b->rownulls[si])
		{
			float8		v = DatumGetFloat8(b->rowvals[si]);

			sum += v;
			if (nstats == 0 || float8_cmp_internal(v, smin) < 0)
				smin = v;
			if (nstats == 0 || float8_cmp_internal(v, smax) > 0)
				smax = v;
			nstats++;
		}
		for (int c = 0; c < l->nblob; c++)
		{
			int			a = l->blob_attno[c] - 1;

			b->colvals[c][r] = b->rowvals[a];
			b->colnulls[c][r] = b->rownulls[a];
		}
	}

	for (int i = 0; i < l->nsegby; i++)
	{
		b->segvals[k] = b->keyvals[i];
		b->segnulls[k++] = b->keynulls[i];
	}
	b->segvals[k] = Int32GetDatum(n);
	b->segnulls[k++] = false;
	b->segvals[k] = TimestampTzGetDatum(tmin);
	b->segnulls[k++] = false;
	b->segvals[k] = TimestampTzGetDatum(tmax);
	b->segnulls[k++] = false;
	b->segvals[k] = Float8GetDatum(sum);
	b->segnulls[k++] = nstats == 0;
	b->segvals[k] = Float8GetDatum(smin);
	b->segnulls[k++] = nstats == 0;
	b->segvals[k] = Float8GetDatum(smax);
	b->segnulls[k++] = nstats == 0;
	for (int c = 0; c < l->nblob; c++)
	{
		b->segvals[k] = PointerGetDatum(colblob_encode(TupleDescAttr(desc, l->blob_attno[c] - 1),
													   b->colvals[c], b->colnulls[c], n));
		b->segnulls[k++] = false;
	}

	MemoryContextSwitchTo(oldcxt);
	b->emit(b->emit_arg, b->segvals, b->segnulls);
	b->nsegments++;
	b->nbatch = 0;
	MemoryContextReset(b->segcxt);
}

/*
 * add_row
 *		Adds row mt, the next in sort order, to the segment being gathered;
 *		flushes that first when mt starts another group or it is full.
 */
static void
add_row(BuildState *b, MinimalTuple mt, bool new_group)
{
	const SegLayout *l = b->layout;

	if (b->nbatch > 0 && (new_group || b->nbatch == COLBLOB_MAX_ROWS))
		flush_segment(b);
	b->batch[b->nbatch] = mt;
	if (b->nbatch == 0)
	{
		/* Key values of the segment, pointing into its first row. */
		deform_minimal(mt, l->htdesc, b->rowvals, b->rownulls);
		for (int i = 0; i < l->nsegby; i++)
		{
			b->keyvals[i] = b->rowvals[l->segby_attno[i] - 1];
			b->keynulls[i] = b->rownulls[l->segby_attno[i] - 1];
		}
	}
	b->nbatch++;
}

/* Whether the row in slot has other segment-by values than the segment's. */
static bool
other_group(BuildState *b, TupleTableSlot *slot)
{
	const SegLayout *l = b->layout;

	if (b->nbatch == 0)
		return false;
	for (int i = 0; i < l->nsegby; i++)
	{
		AttrNumber	a = l->segby_attno[i];
		bool		isnull;
		Datum		d = slot_getattr(slot, a, &isnull);

		if (isnull != b->keynulls[i])
			return true;
		if (!isnull && !same_value(TupleDescAttr(l->htdesc, a - 1), d, b->keyvals[i]))
			return true;
	}
	return false;
}

void
compress_build_segments_ex(Oid source_relid, const SegLayout *layout,
						   void (*emit) (void *arg, Datum *values, bool *isnull),
						   void *arg, int64 *nrows, int64 *nsegments)
{
	BuildState *b;
	MemoryContext buildcxt;
	MemoryContext oldcxt;
	uint32		tick = 0;

	buildcxt = AllocSetContextCreate(CurrentMemoryContext, "telos compress build",
									 ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(buildcxt);
	b = palloc0(sizeof(BuildState));
	b->layout = layout;
	b->emit = emit;
	b->emit_arg = arg;
	b->segcxt = AllocSetContextCreate(buildcxt, "telos compress segment",
									  ALLOCSET_DEFAULT_SIZES);
	b->rowcxt = AllocSetContextCreate(buildcxt, "telos compress rows",
									  ALLOCSET_DEFAULT_SIZES);
	b->keyvals = palloc(sizeof(Datum) * Max(layout->nsegby, 1));
	b->keynulls = palloc(sizeof(bool) * Max(layout->nsegby, 1));
	b->rowvals = palloc(sizeof(Datum) * layout->htdesc->natts);
	b->rownulls = palloc(sizeof(bool) * layout->htdesc->natts);
	b->colvals = palloc(sizeof(Datum *) * Max(layout->nblob, 1));
	b->colnulls = palloc(sizeof(bool *) * Max(layout->nblob, 1));
	for (int c = 0; c < layout->nblob; c++)
	{
		b->colvals[c] = palloc(sizeof(Datum) * COLBLOB_MAX_ROWS);
		b->colnulls[c] = palloc(sizeof(bool) * COLBLOB_MAX_ROWS);
	}
	b->segvals = palloc(sizeof(Datum) * layout->segdesc->natts);
	b->segnulls = palloc(sizeof(bool) * layout->segdesc->natts);
	initStringInfo(&b->keybuf);

	/* Checks the segment-by types now, whichever way the rows are sorted. */
	tuplesort_end(begin_tuplesort(layout));

	b->in_memory = true;
	b->mem_limit = (Size) maintenance_work_mem * 1024;
	b->capentries = 4096;
	b->rows = MemoryContextAlloc(b->rowcxt, sizeof(MinimalTuple) * b->capentries);
	b->entries = MemoryContextAlloc(b->rowcxt, sizeof(SortEntry) * b->capentries);
	b->capgroups = 1024;
	b->groups = MemoryContextAllocZero(b->rowcxt, sizeof(GroupEntry) * b->capgroups);

	compress_scan_rows(source_relid, layout->htdesc, put_row, b);

	if (b->in_memory)
	{
		int32		group = -1;
		SortEntry  *order = order_entries(b);

		for (uint32 i = 0; i < b->nentries; i++)
		{
			if ((++tick & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
			add_row(b, b->rows[order[i].row], order[i].group != group);
			group = order[i].group;
		}
		flush_segment(b);
	}
	else
	{
		TupleTableSlot *slot = MakeSingleTupleTableSlot(layout->htdesc, &TTSOpsMinimalTuple);

		tuplesort_performsort(b->sort);
		while (tuplesort_gettupleslot(b->sort, true, false, slot, NULL))
		{
			bool		new_group;
			MinimalTuple mt;

			if ((++tick & 1023) == 0)
				CHECK_FOR_INTERRUPTS();
			new_group = other_group(b, slot);
			if (b->nbatch > 0 && (new_group || b->nbatch == COLBLOB_MAX_ROWS))
				flush_segment(b);
			/* Copied after the flush, which empties segcxt. */
			MemoryContextSwitchTo(b->segcxt);
			mt = ExecCopySlotMinimalTuple(slot);
			MemoryContextSwitchTo(buildcxt);
			add_row(b, mt, false);
		}
		flush_segment(b);
		ExecDropSingleTupleTableSlot(slot);
		tuplesort_end(b->sort);
	}

	MemoryContextSwitchTo(oldcxt);
	if (nrows)
		*nrows = b->nrows;
	if (nsegments)
		*nsegments = b->nsegments;
	MemoryContextDelete(buildcxt);
}

void
compress_build_segments(Oid source_relid, Oid hypertable,
						void (*emit) (void *arg, Datum *values, bool *isnull),
						void *arg)
{
	SegLayout  *layout = compress_layout_get(hypertable);

	compress_build_segments_ex(source_relid, layout, emit, arg, NULL, NULL);
}
