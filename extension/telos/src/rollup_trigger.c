/*-------------------------------------------------------------------------
 *
 * rollup_trigger.c
 *	  The invalidation trigger: telos.rollup_invalidate(), attached to a raw
 *	  table by add_rollup_policy as four AFTER ... FOR EACH STATEMENT
 *	  triggers (INSERT with a NEW transition table, UPDATE with OLD and NEW,
 *	  DELETE with OLD, TRUNCATE without).
 *
 * Statement-level triggers with transition tables fire on a partitioned
 * table for rows routed to any partition (PostgreSQL converts them to the
 * parent's row type), COPY included. For each statement the trigger reads
 * the transition table(s) once, in C, and records which hours of which
 * series (tenant, metric) changed: consecutive hours coalesce into one
 * range whatever the order the rows arrive in, and the metrics of a tenant
 * changed over the same range share one log row -- an ingest batch of one
 * tenant usually costs one row (a log row costs about 4 us, mostly its
 * index entry). TRUNCATE logs the whole table. The log is telos.invalidation, written as its owner (the caller
 * may not write it), in a security-restricted operation that runs only the
 * engine's INSERT.
 *
 * Rows written directly into a partition, not through the parent, fire no
 * trigger of the parent: the engine's own row moves between partitions
 * (chunk relocation) change nothing the rollups see. Anything else written
 * that way needs telos.invalidate_rollups.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "parser/parse_relation.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"

#include "rollup.h"

PG_FUNCTION_INFO_V1(telos_rollup_invalidate);

/* Log rows per INSERT statement (bounds the size of the array parameters). */
#define LOG_BATCH 50000

typedef struct SeriesKey
{
	pg_uuid_t	tenant;
	const char *metric;			/* not NUL-terminated */
	int			metric_len;
} SeriesKey;

/* Runs of hours (inclusive hour numbers since 2000-01-01 UTC) of a series. */
typedef struct SeriesEntry
{
	SeriesKey	key;
	int			nruns;
	int			cap;
	int64	   *lo;
	int64	   *hi;
} SeriesEntry;

typedef struct Collector
{
	HTAB	   *series;
	MemoryContext cxt;
	SeriesEntry *last;			/* entry of the previous row: sorted input skips the hash */
	AttrNumber	tenant_att;
	AttrNumber	metric_att;
	AttrNumber	time_att;
	int64		nruns;
} Collector;

static uint32
series_hash(const void *key, Size keysize)
{
	const SeriesKey *k = key;

	return hash_combine(hash_bytes(k->tenant.data, UUID_LEN),
						hash_bytes((const unsigned char *) k->metric, k->metric_len));
}

static int
series_match(const void *key1, const void *key2, Size keysize)
{
	const SeriesKey *a = key1;
	const SeriesKey *b = key2;

	if (a->metric_len != b->metric_len ||
		memcmp(a->tenant.data, b->tenant.data, UUID_LEN) != 0 ||
		memcmp(a->metric, b->metric, a->metric_len) != 0)
		return 1;
	return 0;
}

/* floor(t / 1 hour), for negative t too */
static inline int64
hour_of(TimestampTz t)
{
	return t >= 0 ? t / USECS_PER_HOUR : -((-t - 1) / USECS_PER_HOUR) - 1;
}

/* Add hour h to the series of key: extend its last run or start a new one. */
static void
collect_hour(Collector *c, const SeriesKey *key, int64 h)
{
	SeriesEntry *e = c->last;
	int			n;

	if (e == NULL || series_match(&e->key, key, 0) != 0)
	{
		bool		found;

		e = hash_search(c->series, key, HASH_ENTER, &found);
		if (!found)
		{
			char	   *m = MemoryContextAlloc(c->cxt, Max(key->metric_len, 1));

			memcpy(m, key->metric, key->metric_len);
			e->key.metric = m;
			e->nruns = 0;
			e->cap = 4;
			e->lo = MemoryContextAlloc(c->cxt, sizeof(int64) * e->cap);
			e->hi = MemoryContextAlloc(c->cxt, sizeof(int64) * e->cap);
		}
		c->last = e;
	}

	n = e->nruns;
	if (n > 0 && h >= e->lo[n - 1] - 1 && h <= e->hi[n - 1] + 1)
	{
		e->lo[n - 1] = Min(e->lo[n - 1], h);
		e->hi[n - 1] = Max(e->hi[n - 1], h);
		return;
	}
	if (n == e->cap)
	{
		e->cap *= 2;
		e->lo = repalloc_huge(e->lo, sizeof(int64) * e->cap);
		e->hi = repalloc_huge(e->hi, sizeof(int64) * e->cap);
	}
	e->lo[n] = h;
	e->hi[n] = h;
	e->nruns++;
	c->nruns++;
}

/* Read one transition table. */
static void
collect_table(Collector *c, Tuplestorestate *ts, TupleDesc desc)
{
	TupleTableSlot *slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
	MemoryContext rowcxt = AllocSetContextCreate(CurrentMemoryContext, "telos rollup row",
												 ALLOCSET_SMALL_SIZES);
	MemoryContext old;
	int			ptr;

	/* our own read pointer: other triggers may share the tuplestore */
	ptr = tuplestore_alloc_read_pointer(ts, EXEC_FLAG_REWIND);
	tuplestore_select_read_pointer(ts, ptr);
	tuplestore_rescan(ts);

	/*
	 * Tuples read back from a tuplestore that spilled to disk are palloc'd
	 * in the current context and owned (freed) by the slot: they must not
	 * live in rowcxt, which only holds detoasted copies of metric_type.
	 */
	while (tuplestore_gettupleslot(ts, true, false, slot))
	{
		bool		tnull,
					mnull,
					hnull;
		Datum		td = slot_getattr(slot, c->tenant_att, &tnull);
		Datum		md = slot_getattr(slot, c->metric_att, &mnull);
		Datum		hd = slot_getattr(slot, c->time_att, &hnull);
		SeriesKey	key;
		text	   *m;
		TimestampTz t;

		CHECK_FOR_INTERRUPTS();
		/* a row without a series or time is in no bucket */
		if (tnull || mnull || hnull)
			continue;
		t = DatumGetTimestampTz(hd);
		if (TIMESTAMP_NOT_FINITE(t) ||
			!IS_VALID_TIMESTAMP(t + USECS_PER_HOUR))
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("time %s cannot be rolled up", timestamptz_to_str(t)),
					 errdetail("Rollup buckets need finite times.")));
		old = MemoryContextSwitchTo(rowcxt);
		m = DatumGetTextPP(md);
		memcpy(key.tenant.data, DatumGetUUIDP(td)->data, UUID_LEN);
		key.metric = VARDATA_ANY(m);
		key.metric_len = VARSIZE_ANY_EXHDR(m);
		collect_hour(c, &key, hour_of(t));
		MemoryContextSwitchTo(old);
		MemoryContextReset(rowcxt);
	}
	MemoryContextDelete(rowcxt);
	ExecDropSingleTupleTableSlot(slot);
}

static int
cmp_run(const void *a, const void *b)
{
	int64		x = ((const int64 *) a)[0];
	int64		y = ((const int64 *) b)[0];

	return x < y ? -1 : x > y;
}

/* Sort and merge the runs of one series in place. */
static void
merge_runs(SeriesEntry *e)
{
	int64	   *pairs;
	int			i,
				n = 0;

	if (e->nruns < 2)
		return;
	pairs = palloc_extended(sizeof(int64) * 2 * e->nruns, MCXT_ALLOC_HUGE);
	for (i = 0; i < e->nruns; i++)
	{
		pairs[2 * i] = e->lo[i];
		pairs[2 * i + 1] = e->hi[i];
	}
	qsort(pairs, e->nruns, sizeof(int64) * 2, cmp_run);
	for (i = 0; i < e->nruns; i++)
	{
		if (n > 0 && pairs[2 * i] <= e->hi[n - 1] + 1)
			e->hi[n - 1] = Max(e->hi[n - 1], pairs[2 * i + 1]);
		else
		{
			e->lo[n] = pairs[2 * i];
			e->hi[n] = pairs[2 * i + 1];
			n++;
		}
	}
	e->nruns = n;
	pfree(pairs);
}

/*
 * The log INSERT, prepared once per backend (it runs for every statement on
 * raw): one row per tenant and range, with every metric changed over it.
 */
static SPIPlanPtr log_insert_plan = NULL;

/* INSERT n collected ranges into the log, as the catalog owner. */
static void
flush_ranges(Oid raw, Datum *tenants, Datum *metrics, Datum *los, Datum *his, int n)
{
	Datum		args[5];
	int16		tlen;
	bool		tbyval;
	char		talign;
	TelosCatalogState save;
	int			rc;

	get_typlenbyvalalign(TIMESTAMPTZOID, &tlen, &tbyval, &talign);
	args[0] = ObjectIdGetDatum(raw);
	args[1] = PointerGetDatum(construct_array(tenants, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	args[2] = PointerGetDatum(construct_array(metrics, n, TEXTOID, -1, false, TYPALIGN_INT));
	args[3] = PointerGetDatum(construct_array(los, n, TIMESTAMPTZOID, tlen, tbyval, talign));
	args[4] = PointerGetDatum(construct_array(his, n, TIMESTAMPTZOID, tlen, tbyval, talign));

	telos_catalog_become(ROLLUP_CATALOG_TABLE, &save);
	if (log_insert_plan == NULL)
	{
		Oid			argtypes[5] = {REGCLASSOID, UUIDARRAYOID, TEXTARRAYOID,
		TIMESTAMPTZARRAYOID, TIMESTAMPTZARRAYOID};

		log_insert_plan =
			telos_spi_prepare_kept("INSERT INTO telos.invalidation (raw, tenant_id, metric_types, lo, hi)"
								   " SELECT $1, u.t, pg_catalog.array_agg(u.m ORDER BY u.m), u.l, u.h"
								   "   FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3),"
								   "                   pg_catalog.unnest($4), pg_catalog.unnest($5)) AS u(t, m, l, h)"
								   "  GROUP BY u.t, u.l, u.h",
								   5, argtypes);
	}
	rc = SPI_execute_plan(log_insert_plan, args, NULL, false, 0);
	if (rc != SPI_OK_INSERT)
		elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(rc));
	telos_catalog_restore(&save);
}

/* Merge every series' runs and write them to the log in batches. */
static void
write_ranges(Collector *c, Oid raw)
{
	HASH_SEQ_STATUS it;
	SeriesEntry *e;
	int			cap = (int) Min(c->nruns, LOG_BATCH);
	Datum	   *tenants = palloc(sizeof(Datum) * cap);
	Datum	   *metrics = palloc(sizeof(Datum) * cap);
	Datum	   *los = palloc(sizeof(Datum) * cap);
	Datum	   *his = palloc(sizeof(Datum) * cap);
	int			n = 0;

	hash_seq_init(&it, c->series);
	while ((e = hash_seq_search(&it)) != NULL)
	{
		Datum		tenant = UUIDPGetDatum(&e->key.tenant);
		Datum		metric = PointerGetDatum(cstring_to_text_with_len(e->key.metric,
																	  e->key.metric_len));
		int			i;

		merge_runs(e);
		for (i = 0; i < e->nruns; i++)
		{
			tenants[n] = tenant;
			metrics[n] = metric;
			los[n] = TimestampTzGetDatum(e->lo[i] * USECS_PER_HOUR);
			his[n] = TimestampTzGetDatum((e->hi[i] + 1) * USECS_PER_HOUR);
			if (++n == cap)
			{
				flush_ranges(raw, tenants, metrics, los, his, n);
				n = 0;
			}
		}
	}
	if (n > 0)
		flush_ranges(raw, tenants, metrics, los, his, n);
}

/*
 * telos_rollup_invalidate
 *		Trigger function (see the file header). Raises 39P01 when not called
 *		as an AFTER statement trigger and 55000 on a table without a rollup
 *		policy.
 */
Datum
telos_rollup_invalidate(PG_FUNCTION_ARGS)
{
	TriggerData *td;
	Relation	rel;
	Oid			raw;
	RollupPolicy *policy;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("telos.rollup_invalidate() must be called as a trigger")));
	td = (TriggerData *) fcinfo->context;
	if (!TRIGGER_FIRED_FOR_STATEMENT(td->tg_event) || !TRIGGER_FIRED_AFTER(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("telos.rollup_invalidate() must be an AFTER ... FOR EACH STATEMENT trigger")));
	rel = td->tg_relation;
	raw = RelationGetRelid(rel);

	if (rollup_invalidation_disabled(raw))
		return PointerGetDatum(NULL);

	SPI_connect();
	policy = rollup_policy_load(raw, true);
	if (policy == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" has no rollup policy", RelationGetRelationName(rel)),
				 errhint("telos.rollup_invalidate() is attached by telos.add_rollup_policy only.")));

	if (TRIGGER_FIRED_BY_TRUNCATE(td->tg_event))
		rollup_insert_whole(raw, (Datum) 0, true, (Datum) 0, true);
	else
	{
		Collector	c;
		HASHCTL		ctl;
		TupleDesc	desc = RelationGetDescr(rel);

		memset(&c, 0, sizeof(c));
		c.cxt = AllocSetContextCreate(CurrentMemoryContext, "telos rollup invalidation",
									  ALLOCSET_DEFAULT_SIZES);
		ctl.keysize = sizeof(SeriesKey);
		ctl.entrysize = sizeof(SeriesEntry);
		ctl.hash = series_hash;
		ctl.match = series_match;
		ctl.hcxt = c.cxt;
		c.series = hash_create("telos rollup series", 256, &ctl,
							   HASH_ELEM | HASH_FUNCTION | HASH_COMPARE | HASH_CONTEXT);
		c.tenant_att = attnameAttNum(rel, "tenant_id", false);
		c.metric_att = attnameAttNum(rel, "metric_type", false);
		c.time_att = attnameAttNum(rel, policy->time_column, false);
		if (c.tenant_att <= 0 || c.metric_att <= 0 || c.time_att <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_COLUMN),
					 errmsg("table \"%s\" lacks a column of its rollup policy",
							RelationGetRelationName(rel))));

		if (td->tg_newtable)
			collect_table(&c, td->tg_newtable, desc);
		if (td->tg_oldtable)
			collect_table(&c, td->tg_oldtable, desc);
		if (c.nruns > 0)
			write_ranges(&c, raw);
		MemoryContextDelete(c.cxt);
	}

	SPI_finish();
	return PointerGetDatum(NULL);
}
