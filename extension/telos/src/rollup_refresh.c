/*-------------------------------------------------------------------------
 *
 * rollup_refresh.c
 *	  telos.refresh_rollups(raw): recompute the invalidated buckets.
 *
 * One refresh, in the caller's transaction:
 *	1. lock the policy row (refreshes of one raw table run one at a time),
 *	   then DELETE ... RETURNING the whole log of raw. Rows logged by
 *	   transactions that commit later stay for the next refresh; the
 *	   recomputation below reads raw with a snapshot taken after the log was
 *	   read, so it sees at least every change the taken log rows describe.
 *	2. whole-scope rows (a tenant / metric / the table over all time) delete
 *	   their rollups and become one range per series from the series' first
 *	   to last raw time;
 *	3. the ranges are sorted and merged per series (C);
 *	4. hour buckets in the ranges are recomputed from raw;
 *	5. day buckets (tenant's zone) that intersect the ranges are recomputed
 *	   from the hour rows when the day starts and ends on whole UTC hours,
 *	   else from raw (zones such as +05:30, +05:45);
 *	6. month buckets that intersect the ranges are recomputed from the day
 *	   rows (a local month is a union of local days, always exact).
 * Each level is one statement that upserts the new buckets (skipping rows
 * whose values did not change) and deletes the buckets of the affected set
 * that no longer have data (after a whole-table invalidation, which deleted
 * every rollup row first, plain INSERTs instead: half the cost on a full
 * recomputation). The work is proportional to the raw rows in the
 * invalidated hours plus the hour rows of the affected days and the day rows
 * of the affected months -- not to the size of the tables.
 *
 * The statements run as the caller, who must see every tenant (see
 * rollup_check_refresher); the log is read and deleted as its owner.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "rollup.h"

PG_FUNCTION_INFO_V1(telos_refresh_rollups);

/* A range of one series, [lo, hi), hour-aligned. */
typedef struct RangeEntry
{
	pg_uuid_t	tenant;
	char	   *metric;
	TimestampTz lo;
	TimestampTz hi;
} RangeEntry;

typedef struct RangeList
{
	RangeEntry *items;
	int			n;
	int			cap;
} RangeList;

static void
ranges_add(RangeList *l, const pg_uuid_t *tenant, const char *metric,
		  TimestampTz lo, TimestampTz hi)
{
	RangeEntry *e;

	if (l->n == l->cap)
	{
		l->cap = l->cap ? l->cap * 2 : 64;
		l->items = l->items
			? repalloc_huge(l->items, sizeof(RangeEntry) * l->cap)
			: palloc_extended(sizeof(RangeEntry) * l->cap, MCXT_ALLOC_HUGE);
	}
	e = &l->items[l->n++];
	e->tenant = *tenant;
	e->metric = pstrdup(metric);
	e->lo = lo;
	e->hi = hi;
}

static int
cmp_range(const void *a, const void *b)
{
	const RangeEntry *x = a;
	const RangeEntry *y = b;
	int			c = memcmp(x->tenant.data, y->tenant.data, UUID_LEN);

	if (c != 0)
		return c;
	c = strcmp(x->metric, y->metric);
	if (c != 0)
		return c;
	return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* Sort and merge overlapping or adjacent ranges of each series. */
static void
ranges_merge(RangeList *l)
{
	int			i,
				n = 0;

	if (l->n < 2)
		return;
	qsort(l->items, l->n, sizeof(RangeEntry), cmp_range);
	for (i = 0; i < l->n; i++)
	{
		RangeEntry *cur = &l->items[i];

		if (n > 0)
		{
			RangeEntry *prev = &l->items[n - 1];

			if (memcmp(prev->tenant.data, cur->tenant.data, UUID_LEN) == 0 &&
				strcmp(prev->metric, cur->metric) == 0 && cur->lo <= prev->hi)
			{
				prev->hi = Max(prev->hi, cur->hi);
				continue;
			}
		}
		l->items[n++] = *cur;
	}
	l->n = n;
}

/* The ranges as the four array parameters $1..$4 (tenants, metrics, lo, hi). */
static void
ranges_to_arrays(const RangeList *l, Datum *args)
{
	Datum	   *t = palloc_extended(sizeof(Datum) * Max(l->n, 1), MCXT_ALLOC_HUGE);
	Datum	   *m = palloc_extended(sizeof(Datum) * Max(l->n, 1), MCXT_ALLOC_HUGE);
	Datum	   *lo = palloc_extended(sizeof(Datum) * Max(l->n, 1), MCXT_ALLOC_HUGE);
	Datum	   *hi = palloc_extended(sizeof(Datum) * Max(l->n, 1), MCXT_ALLOC_HUGE);
	int16		tlen;
	bool		tbyval;
	char		talign;
	int			i;

	get_typlenbyvalalign(TIMESTAMPTZOID, &tlen, &tbyval, &talign);
	for (i = 0; i < l->n; i++)
	{
		t[i] = UUIDPGetDatum(&l->items[i].tenant);
		m[i] = CStringGetTextDatum(l->items[i].metric);
		lo[i] = TimestampTzGetDatum(l->items[i].lo);
		hi[i] = TimestampTzGetDatum(l->items[i].hi);
	}
	args[0] = PointerGetDatum(construct_array(t, l->n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));
	args[1] = PointerGetDatum(construct_array(m, l->n, TEXTOID, -1, false, TYPALIGN_INT));
	args[2] = PointerGetDatum(construct_array(lo, l->n, TIMESTAMPTZOID, tlen, tbyval, talign));
	args[3] = PointerGetDatum(construct_array(hi, l->n, TIMESTAMPTZOID, tlen, tbyval, talign));
}

/*
 * Execute one level's statement (head + tail, see below); returns the
 * buckets written or removed.
 */
static int64
run_level(const char *head, const char *tail, const RollupPolicy *p,
		  int nargs, Oid *argtypes, Datum *args)
{
	char	   *sql = rollup_sql_expand(psprintf("%s%s", head, tail), p, NULL);
	int			rc;
	bool		isnull;
	Datum		d;

	rc = SPI_execute_with_args(sql, nargs, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "rollup refresh statement failed: %s", SPI_result_code_string(rc));
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	pfree(sql);
	return isnull ? 0 : DatumGetInt64(d);
}

/* The ranges of the series, shared by every level. */
#define SQL_RANGES \
	"WITH r AS MATERIALIZED (" \
	"  SELECT * FROM ROWS FROM (pg_catalog.unnest($1::uuid[]), pg_catalog.unnest($2::text[])," \
	"                           pg_catalog.unnest($3::timestamptz[]), pg_catalog.unnest($4::timestamptz[]))" \
	"    AS r(tenant_id, metric_type, lo, hi)) "

/*
 * The upsert + delete tail, for bucket width W, from CTE n (the new
 * buckets) and CTE old (keys of the existing buckets of the affected set):
 * new buckets are upserted (unchanged rows are not rewritten), old buckets
 * without a new one are deleted by primary key. EXCEPT, not an anti-join:
 * it is hashed or sorted whatever the (poor) estimates of the CTEs, never a
 * nested loop over both.
 */
#define SQL_WRITE(W) \
	", up AS (" \
	"  INSERT INTO @AGG@ AS a (tenant_id, metric_type, bucket_width, bucket, count, sum, min, max, first, last)" \
	"  SELECT n.tenant_id, n.metric_type, '" W "', n.bucket, n.count, n.sum, n.min, n.max, n.first, n.last" \
	"    FROM n" \
	"  ON CONFLICT (tenant_id, metric_type, bucket_width, bucket) DO UPDATE" \
	"     SET count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max," \
	"         first = excluded.first, last = excluded.last" \
	"   WHERE (a.count, a.sum, a.min, a.max, a.first, a.last)" \
	"         IS DISTINCT FROM (excluded.count, excluded.sum, excluded.min, excluded.max," \
	"                           excluded.first, excluded.last)" \
	"  RETURNING 1" \
	"), gone AS (" \
	"  DELETE FROM @AGG@ a" \
	"   USING (SELECT o.tenant_id, o.metric_type, o.bucket FROM old o" \
	"          EXCEPT SELECT n.tenant_id, n.metric_type, n.bucket FROM n) g" \
	"   WHERE a.tenant_id = g.tenant_id AND a.metric_type = g.metric_type" \
	"     AND a.bucket_width = '" W "' AND a.bucket = g.bucket" \
	"  RETURNING 1" \
	") SELECT (SELECT pg_catalog.count(*) FROM up) + (SELECT pg_catalog.count(*) FROM gone)"

/*
 * The tail after a whole-table invalidation, which deleted every rollup row
 * first: no bucket can exist, so a plain INSERT (twice as fast as the
 * upsert on a million rows) and nothing to delete.
 */
#define SQL_INSERT(W) \
	", up AS (" \
	"  INSERT INTO @AGG@ (tenant_id, metric_type, bucket_width, bucket, count, sum, min, max, first, last)" \
	"  SELECT n.tenant_id, n.metric_type, '" W "', n.bucket, n.count, n.sum, n.min, n.max, n.first, n.last" \
	"    FROM n" \
	"  RETURNING 1" \
	") SELECT pg_catalog.count(*) FROM up"

/*
 * Hours. Every lookup per range is a LATERAL subquery with OFFSET 0: the
 * fence makes it a parameterized index scan per range, so the cost follows
 * the invalidated data; without it the planner may join whole series.
 */
static const char sql_hours[] =
SQL_RANGES
", n AS MATERIALIZED ("
"  SELECT r.tenant_id, r.metric_type,"
"         pg_catalog.date_bin('1 hour', x.t, " ROLLUP_ORIGIN_SQL ") AS bucket,"
"         pg_catalog.count(*) AS count, pg_catalog.sum(x.v) AS sum,"
"         pg_catalog.min(x.v) AS min, pg_catalog.max(x.v) AS max,"
"         telos.first(x.v, x.t) AS first, telos.last(x.v, x.t) AS last"
"    FROM r CROSS JOIN LATERAL ("
"         SELECT w.@T@ AS t, w.value AS v FROM @RAW@ w"
"          WHERE w.tenant_id = r.tenant_id AND w.metric_type = r.metric_type"
"            AND w.@T@ >= r.lo AND w.@T@ < r.hi AND w.value IS NOT NULL OFFSET 0) x"
"   GROUP BY 1, 2, 3)"
", old AS MATERIALIZED ("
"  SELECT o.* FROM r CROSS JOIN LATERAL ("
"         SELECT a.tenant_id, a.metric_type, a.bucket FROM @AGG@ a"
"          WHERE a.tenant_id = r.tenant_id AND a.metric_type = r.metric_type"
"            AND a.bucket_width = 'hour' AND a.bucket >= r.lo AND a.bucket < r.hi OFFSET 0) o)";

static const char *const sql_hours_tail[2] = {SQL_WRITE("hour"), SQL_INSERT("hour")};

/* The affected buckets of width W (x), with the tenants' zones in $5/$6. */
#define SQL_BUCKETS(W) \
	SQL_RANGES \
	", z AS MATERIALIZED (" \
	"  SELECT * FROM ROWS FROM (pg_catalog.unnest($5::uuid[]), pg_catalog.unnest($6::text[]))" \
	"    AS z(tenant_id, tz))" \
	", x AS MATERIALIZED (" \
	"  SELECT DISTINCT r.tenant_id, r.metric_type, b.bucket_start AS bs, b.bucket_end AS be," \
	"         pg_catalog.date_bin('1 hour', b.bucket_start, " ROLLUP_ORIGIN_SQL ") = b.bucket_start" \
	"         AND pg_catalog.date_bin('1 hour', b.bucket_end, " ROLLUP_ORIGIN_SQL ") = b.bucket_end" \
	"         AS aligned" \
	"    FROM r JOIN z ON z.tenant_id = r.tenant_id" \
	"   CROSS JOIN LATERAL telos._bucket_ranges('" W "', r.lo, r.hi, z.tz) AS b)" \
	", old AS MATERIALIZED (SELECT x.tenant_id, x.metric_type, x.bs AS bucket FROM x)"

#define SQL_COMBINE_HEAD \
	", n AS MATERIALIZED (" \
	"  SELECT x.tenant_id, x.metric_type, x.bs AS bucket," \
	"         pg_catalog.sum(p.count)::bigint AS count, pg_catalog.sum(p.sum) AS sum," \
	"         pg_catalog.min(p.min) AS min, pg_catalog.max(p.max) AS max," \
	"         telos.first(p.first, p.k) AS first, telos.last(p.last, p.k) AS last" \
	"    FROM x CROSS JOIN LATERAL ("

static const char sql_days[] =
SQL_BUCKETS("day")
SQL_COMBINE_HEAD
"         SELECT h.count, h.sum, h.min, h.max, h.first, h.last, h.bucket AS k"
"           FROM @AGG@ h"
"          WHERE x.aligned AND h.tenant_id = x.tenant_id AND h.metric_type = x.metric_type"
"            AND h.bucket_width = 'hour' AND h.bucket >= x.bs AND h.bucket < x.be"
"         UNION ALL"
"         SELECT 1, w.value, w.value, w.value, w.value, w.value, w.@T@"
"           FROM @RAW@ w"
"          WHERE NOT x.aligned AND w.tenant_id = x.tenant_id AND w.metric_type = x.metric_type"
"            AND w.@T@ >= x.bs AND w.@T@ < x.be AND w.value IS NOT NULL"
"         OFFSET 0) p"
"   GROUP BY 1, 2, 3)";

static const char *const sql_days_tail[2] = {SQL_WRITE("day"), SQL_INSERT("day")};

static const char sql_months[] =
SQL_BUCKETS("month")
SQL_COMBINE_HEAD
"         SELECT d.count, d.sum, d.min, d.max, d.first, d.last, d.bucket AS k"
"           FROM @AGG@ d"
"          WHERE d.tenant_id = x.tenant_id AND d.metric_type = x.metric_type"
"            AND d.bucket_width = 'day' AND d.bucket >= x.bs AND d.bucket < x.be OFFSET 0) p"
"   GROUP BY 1, 2, 3)";

static const char *const sql_months_tail[2] = {SQL_WRITE("month"), SQL_INSERT("month")};

/*
 * Take the whole log of the policy's raw table (as the catalog owner):
 * ranges go to *ranges, whole-scope rows to the parallel lists.
 */
static int64
take_log(const RollupPolicy *p, RangeList *ranges, List **whole_tenants, List **whole_metrics)
{
	Oid			argtypes[1] = {REGCLASSOID};
	Datum		args[1] = {ObjectIdGetDatum(p->raw)};
	TelosCatalogState save;
	uint64		i;
	int			rc;

	telos_catalog_become(ROLLUP_CATALOG_TABLE, &save);
	rc = SPI_execute_with_args("SELECT 1 FROM telos.rollup_policy WHERE raw = $1 FOR UPDATE",
							   1, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("the rollup policy of %s was removed", p->raw_sql)));
	rc = SPI_execute_with_args("DELETE FROM telos.invalidation WHERE raw = $1"
							   " RETURNING tenant_id, metric_types, lo, hi",
							   1, argtypes, args, NULL, false, 0);
	if (rc != SPI_OK_DELETE_RETURNING)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	telos_catalog_restore(&save);

	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		tnull,
					mnull,
					lnull,
					hnull;
		Datum		t = SPI_getbinval(tup, desc, 1, &tnull);
		Datum		m = SPI_getbinval(tup, desc, 2, &mnull);
		TimestampTz lo = DatumGetTimestampTz(SPI_getbinval(tup, desc, 3, &lnull));
		TimestampTz hi = DatumGetTimestampTz(SPI_getbinval(tup, desc, 4, &hnull));
		bool		whole = tnull || mnull || TIMESTAMP_NOT_FINITE(lo) || TIMESTAMP_NOT_FINITE(hi);
		Datum	   *metrics = NULL;
		bool	   *metric_nulls;
		int			nmetrics = 0;
		int			k;

		if (!mnull)
			deconstruct_array(DatumGetArrayTypeP(m), TEXTOID, -1, false, TYPALIGN_INT,
							  &metrics, &metric_nulls, &nmetrics);
		if (whole)
		{
			pg_uuid_t  *tu = NULL;

			if (!tnull)
			{
				tu = palloc(sizeof(pg_uuid_t));
				*tu = *DatumGetUUIDP(t);
			}
			if (mnull)
			{
				*whole_tenants = lappend(*whole_tenants, tu);
				*whole_metrics = lappend(*whole_metrics, NULL);
			}
			for (k = 0; k < nmetrics; k++)
			{
				if (metric_nulls[k])
					continue;
				*whole_tenants = lappend(*whole_tenants, tu);
				*whole_metrics = lappend(*whole_metrics, TextDatumGetCString(metrics[k]));
			}
		}
		else
			for (k = 0; k < nmetrics; k++)
				if (!metric_nulls[k])
					ranges_add(ranges, DatumGetUUIDP(t), TextDatumGetCString(metrics[k]), lo, hi);
	}
	return (int64) SPI_processed;
}

/*
 * A whole-scope invalidation: delete the scope's rollups, then add one range
 * per series of the scope from its first to its last raw time.
 */
static int64
expand_whole(const RollupPolicy *p, pg_uuid_t *tenant, char *metric, RangeList *ranges)
{
	Oid			argtypes[2] = {UUIDOID, TEXTOID};
	Datum		args[2] = {UUIDPGetDatum(tenant), metric ? CStringGetTextDatum(metric) : (Datum) 0};
	char		nulls[2] = {tenant ? ' ' : 'n', metric ? ' ' : 'n'};
	char	   *sql;
	uint64		i;
	int64		deleted;
	int			rc;

	sql = rollup_sql_expand("DELETE FROM @AGG@ WHERE ($1::uuid IS NULL OR tenant_id = $1)"
							" AND ($2::text IS NULL OR metric_type = $2)", p, NULL);
	rc = SPI_execute_with_args(sql, 2, argtypes, args, nulls, false, 0);
	if (rc != SPI_OK_DELETE)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	deleted = (int64) SPI_processed;

	sql = rollup_sql_expand("SELECT tenant_id, metric_type,"
							"  pg_catalog.date_bin('1 hour', pg_catalog.min(@T@), " ROLLUP_ORIGIN_SQL "),"
							"  pg_catalog.date_bin('1 hour', pg_catalog.max(@T@), " ROLLUP_ORIGIN_SQL ")"
							"    + interval '1 hour'"
							"  FROM @RAW@"
							" WHERE ($1::uuid IS NULL OR tenant_id = $1) AND ($2::text IS NULL OR metric_type = $2)"
							"   AND tenant_id IS NOT NULL AND metric_type IS NOT NULL"
							"   AND pg_catalog.isfinite(@T@) AND value IS NOT NULL"
							" GROUP BY 1, 2", p, NULL);
	rc = SPI_execute_with_args(sql, 2, argtypes, args, nulls, false, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;

		ranges_add(ranges,
				  DatumGetUUIDP(SPI_getbinval(tup, desc, 1, &isnull)),
				  TextDatumGetCString(SPI_getbinval(tup, desc, 2, &isnull)),
				  DatumGetTimestampTz(SPI_getbinval(tup, desc, 3, &isnull)),
				  DatumGetTimestampTz(SPI_getbinval(tup, desc, 4, &isnull)));
	}
	return deleted;
}

/*
 * The time zone of each distinct tenant of the ranges, as arrays $5/$6.
 * A tenant the function does not know (NULL, e.g. deleted since) is rolled
 * up in UTC; a zone name PostgreSQL does not know is an error.
 */
static void
tenant_zones(const RollupPolicy *p, const RangeList *ranges, Datum *args)
{
	Datum	   *tenants = palloc(sizeof(Datum) * Max(ranges->n, 1));
	Datum	   *zones;
	int			n = 0;
	int			i;
	Oid			argtypes[1] = {UUIDARRAYOID};
	Datum		qargs[1];
	char	   *sql;
	int			rc;

	/* ranges are sorted by tenant */
	for (i = 0; i < ranges->n; i++)
		if (i == 0 || memcmp(ranges->items[i].tenant.data, ranges->items[i - 1].tenant.data, UUID_LEN) != 0)
			tenants[n++] = UUIDPGetDatum(&ranges->items[i].tenant);
	qargs[0] = PointerGetDatum(construct_array(tenants, n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR));

	sql = rollup_sql_expand("SELECT u.t, @TZFN@(u.t) FROM pg_catalog.unnest($1) WITH ORDINALITY AS u(t, i)"
							" ORDER BY u.i", p, NULL);
	rc = SPI_execute_with_args(sql, 1, argtypes, qargs, NULL, false, 0);
	if (rc != SPI_OK_SELECT || SPI_processed != (uint64) n)
		elog(ERROR, "time zone lookup failed: %s", SPI_result_code_string(rc));
	zones = palloc(sizeof(Datum) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		bool		isnull;
		Datum		z = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull);
		char	   *name = isnull ? "UTC" : TextDatumGetCString(z);

		if (pg_tzset(name) == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("time zone \"%s\" of tenant %s is not recognized", name,
							DatumGetCString(DirectFunctionCall1(uuid_out, tenants[i]))),
					 errdetail("It was returned by %s.", format_procedure(p->timezone_fn))));
		zones[i] = CStringGetTextDatum(name);
	}
	args[4] = qargs[0];
	args[5] = PointerGetDatum(construct_array(zones, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * telos_refresh_rollups
 *		telos.refresh_rollups(raw regclass) RETURNS bigint
 *
 * Processes the invalidation log of raw (see the file header). Returns the
 * number of rollup rows written (inserted or changed) or deleted; a whole-
 * scope invalidation deletes its rows first and writes them again, so they
 * count twice. Errors: NULL
 * (22004), no policy (42704), a caller that may not write agg or that row-
 * level security restricts (42501), an unknown tenant zone (22023).
 */
Datum
telos_refresh_rollups(PG_FUNCTION_ARGS)
{
	RollupPolicy *policy;
	RangeList	ranges = {0};
	List	   *whole_tenants = NIL;
	List	   *whole_metrics = NIL;
	ListCell   *lt,
			   *lm;
	int64		total = 0;
	bool		whole_table = false;
	int			gucs;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("raw must not be NULL")));

	SPI_connect();
	policy = rollup_policy_load(PG_GETARG_OID(0), false);
	rollup_check_refresher(policy, false);
	gucs = rollup_engine_gucs();

	if (take_log(policy, &ranges, &whole_tenants, &whole_metrics) > 0)
	{
		forboth(lt, whole_tenants, lm, whole_metrics)
			if (lfirst(lt) == NULL && lfirst(lm) == NULL)
				whole_table = true;
		if (whole_table)
		{
			/* everything is recomputed: the other rows add nothing */
			ranges.n = 0;
			total += expand_whole(policy, NULL, NULL, &ranges);
		}
		else
			forboth(lt, whole_tenants, lm, whole_metrics)
				total += expand_whole(policy, lfirst(lt), lfirst(lm), &ranges);

		ranges_merge(&ranges);
		if (ranges.n > 0)
		{
			Oid			argtypes[6] = {UUIDARRAYOID, TEXTARRAYOID, TIMESTAMPTZARRAYOID,
			TIMESTAMPTZARRAYOID, UUIDARRAYOID, TEXTARRAYOID};
			Datum		args[6];
			int			t = whole_table ? 1 : 0;

			ranges_to_arrays(&ranges, args);
			total += run_level(sql_hours, sql_hours_tail[t], policy, 4, argtypes, args);
			tenant_zones(policy, &ranges, args);
			total += run_level(sql_days, sql_days_tail[t], policy, 6, argtypes, args);
			total += run_level(sql_months, sql_months_tail[t], policy, 6, argtypes, args);
		}
	}

	{
		Oid			argtypes[1] = {REGCLASSOID};
		Datum		args[1] = {ObjectIdGetDatum(policy->raw)};
		TelosCatalogState save;

		telos_catalog_become(ROLLUP_CATALOG_TABLE, &save);
		if (SPI_execute_with_args("UPDATE telos.rollup_policy SET refreshed_at = pg_catalog.now()"
								  " WHERE raw = $1", 1, argtypes, args, NULL, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "could not record the refresh");
		telos_catalog_restore(&save);
	}

	rollup_engine_gucs_end(gucs);
	SPI_finish();
	PG_RETURN_INT64(total);
}
