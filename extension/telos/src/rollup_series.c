/*-------------------------------------------------------------------------
 *
 * rollup_series.c
 *	  telos.metric_series(tenant, metric_type, from, to, bucket, raw):
 *	  a metric's buckets, always fresh.
 *
 * A bucket is clean when no range of the invalidation log intersects it:
 * its materialized row is exact. A dirty bucket (changed since the last
 * refresh, or never refreshed) is computed on the fly from the clean hour
 * rows it contains plus the raw rows of the rest of it -- the dirty hours
 * and, in zones whose days are not made of whole UTC hours, the partial
 * hours at its edges. The answer is what a refresh followed by a read would
 * give, a point ingested a second ago included, and its cost is the
 * materialized rows read plus the raw rows of dirty hours. Everything runs
 * in one statement, with the caller's snapshot and privileges (SECURITY
 * INVOKER: row-level security of the caller applies to raw, the rollups and
 * the log alike).
 *
 * Derived metrics (calculation_formula not NULL) are the formula evaluated
 * per bucket over the series of the metrics it references (derived ones
 * recursively, with cycles refused); a bucket where no referenced metric
 * has data is absent, a referenced metric without data in a bucket is NULL
 * there. count .. last are NULL for derived metrics.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/uuid.h"

#include "formula.h"
#include "rollup.h"

PG_FUNCTION_INFO_V1(telos_metric_series);

/* Derived metrics may reference derived metrics this deep. */
#define SERIES_MAX_DEPTH 8
/* The most buckets one call may return. */
#define SERIES_MAX_BUCKETS 1000000

typedef struct SeriesRow
{
	TimestampTz bucket;
	bool		has_stats;		/* count .. last valid (plain metrics) */
	int64		count;
	float8		sum;
	float8		min;
	float8		max;
	float8		first;
	float8		last;
	bool		value_null;
	float8		value;
} SeriesRow;

typedef struct Series
{
	int			n;
	SeriesRow  *rows;			/* sorted by bucket */
} Series;

typedef struct SeriesQuery
{
	RollupPolicy *policy;
	Datum		tenant;
	TimestampTz from;
	TimestampTz to;
	const char *width;
	char	   *tz;
	char	   *sql;			/* the plain-series statement, built once */
} SeriesQuery;

static Series *series_compute(SeriesQuery *q, const char *metric, List *path);

/* The plain-series statement; @W@ is the bucket width. */
static const char series_sql[] =
"WITH lg AS MATERIALIZED ("
"  SELECT pg_catalog.range_agg(pg_catalog.tstzrange(i.lo, i.hi)) AS m"
"    FROM telos.invalidation i"
"   WHERE i.raw = $6 AND (i.tenant_id = $1 OR i.tenant_id IS NULL)"
"     AND (i.metric_types IS NULL OR $2 = ANY (i.metric_types))"
"), dirty AS MATERIALIZED ("
"  SELECT pg_catalog.lower(d) AS lo, pg_catalog.upper(d) AS hi"
"    FROM lg, pg_catalog.unnest(lg.m) AS d"
"), db AS MATERIALIZED ("
"  SELECT DISTINCT b.bucket_start AS bs, b.bucket_end AS be"
"    FROM dirty d CROSS JOIN LATERAL telos._bucket_ranges('@W@',"
"           GREATEST(d.lo, $3), LEAST(d.hi, $4 + interval '32 days'), $5) AS b"
"   WHERE d.lo < $4 + interval '32 days' AND d.hi > $3"
"     AND b.bucket_start >= $3 AND b.bucket_start < $4"
"), clean AS ("
"  SELECT a.bucket, a.count, a.sum, a.min, a.max, a.first, a.last"
"    FROM @AGG@ a"
"   WHERE a.tenant_id = $1 AND a.metric_type = $2 AND a.bucket_width = '@W@'"
"     AND a.bucket >= $3 AND a.bucket < $4"
"     AND a.bucket NOT IN (SELECT db.bs FROM db)"
/* a row starting in a dirty range is stale even if it is no bucket of the
 * current zone any more (the tenant's zone changed: whole-scope range) */
"     AND NOT coalesce((SELECT lg.m FROM lg) @> a.bucket, false)"
"), fresh AS ("
"  SELECT db.bs AS bucket, pg_catalog.sum(p.count)::bigint AS count, pg_catalog.sum(p.sum) AS sum,"
"         pg_catalog.min(p.min) AS min, pg_catalog.max(p.max) AS max,"
"         telos.first(p.first, p.k) AS first, telos.last(p.last, p.k) AS last"
"    FROM db CROSS JOIN LATERAL ("
/* clean hours wholly inside the bucket */
"         SELECT h.count, h.sum, h.min, h.max, h.first, h.last, h.bucket AS k"
"           FROM @AGG@ h"
"          WHERE '@W@' <> 'hour' AND h.tenant_id = $1 AND h.metric_type = $2"
"            AND h.bucket_width = 'hour' AND h.bucket >= db.bs"
"            AND h.bucket + interval '1 hour' <= db.be"
"            AND NOT coalesce((SELECT lg.m FROM lg)"
"                     && pg_catalog.tstzrange(h.bucket, h.bucket + interval '1 hour'), false)"
"         UNION ALL"
/* raw rows of the rest: dirty hours and partial edge hours */
"         SELECT 1, w.value, w.value, w.value, w.value, w.value, w.@T@"
"           FROM pg_catalog.unnest(CASE WHEN '@W@' = 'hour'"
"                  THEN pg_catalog.tstzmultirange(pg_catalog.tstzrange(db.bs, db.be))"
"                  ELSE (SELECT lg.m FROM lg)"
"                         * pg_catalog.tstzmultirange(pg_catalog.tstzrange(db.bs, db.be))"
"                       + pg_catalog.tstzmultirange("
"                           pg_catalog.tstzrange(db.bs,"
"                             CASE WHEN pg_catalog.date_bin('1 hour', db.bs, " ROLLUP_ORIGIN_SQL ") = db.bs"
"                                  THEN db.bs"
"                                  ELSE pg_catalog.date_bin('1 hour', db.bs, " ROLLUP_ORIGIN_SQL ")"
"                                       + interval '1 hour' END),"
"                           pg_catalog.tstzrange("
"                             pg_catalog.date_bin('1 hour', db.be, " ROLLUP_ORIGIN_SQL "), db.be))"
"                  END) AS s"
"           CROSS JOIN LATERAL ("
"                SELECT w.value, w.@T@ FROM @RAW@ w"
"                 WHERE w.tenant_id = $1 AND w.metric_type = $2"
"                   AND w.@T@ >= pg_catalog.lower(s) AND w.@T@ < pg_catalog.upper(s)"
"                   AND w.value IS NOT NULL OFFSET 0) AS w"
"         OFFSET 0) AS p"
"   GROUP BY db.bs"
") SELECT * FROM clean UNION ALL SELECT * FROM fresh ORDER BY 1";

/* The aggregations a metric may have (metric_definitions.aggregation). */
static const char *const aggregations[] = {"sum", "avg", "min", "max", "first", "last", "count"};

static void
check_aggregation(const char *aggregation, const char *metric)
{
	int			i;

	for (i = 0; i < (int) lengthof(aggregations); i++)
		if (strcmp(aggregation, aggregations[i]) == 0)
			return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("metric \"%s\" has unknown aggregation \"%s\"", metric, aggregation),
			 errhint("Use sum, avg, min, max, first, last or count.")));
}

/* value = the metric's aggregation (checked) of the bucket's statistics. */
static void
set_value(SeriesRow *r, const char *aggregation)
{
	r->value_null = false;
	if (strcmp(aggregation, "sum") == 0)
		r->value = r->sum;
	else if (strcmp(aggregation, "avg") == 0)
		r->value = r->sum / (float8) r->count;
	else if (strcmp(aggregation, "min") == 0)
		r->value = r->min;
	else if (strcmp(aggregation, "max") == 0)
		r->value = r->max;
	else if (strcmp(aggregation, "first") == 0)
		r->value = r->first;
	else if (strcmp(aggregation, "last") == 0)
		r->value = r->last;
	else
		r->value = (float8) r->count;
}

static Series *
plain_series(SeriesQuery *q, const char *metric, const char *aggregation)
{
	Oid			argtypes[6] = {UUIDOID, TEXTOID, TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, REGCLASSOID};
	Datum		args[6];
	Series	   *s = palloc0(sizeof(Series));
	uint64		i;
	int			rc;

	args[0] = q->tenant;
	args[1] = CStringGetTextDatum(metric);
	args[2] = TimestampTzGetDatum(q->from);
	args[3] = TimestampTzGetDatum(q->to);
	args[4] = CStringGetTextDatum(q->tz);
	args[5] = ObjectIdGetDatum(q->policy->raw);
	if (q->sql == NULL)
		q->sql = rollup_sql_expand(series_sql, q->policy, q->width);

	rc = SPI_execute_with_args(q->sql, 6, argtypes, args, NULL, true, 0);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "metric_series statement failed: %s", SPI_result_code_string(rc));
	s->n = (int) SPI_processed;
	s->rows = palloc_extended(sizeof(SeriesRow) * Max(s->n, 1), MCXT_ALLOC_HUGE);
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		SeriesRow  *r = &s->rows[i];
		bool		isnull;

		r->bucket = DatumGetTimestampTz(SPI_getbinval(tup, desc, 1, &isnull));
		r->has_stats = true;
		r->count = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
		r->sum = DatumGetFloat8(SPI_getbinval(tup, desc, 3, &isnull));
		r->min = DatumGetFloat8(SPI_getbinval(tup, desc, 4, &isnull));
		r->max = DatumGetFloat8(SPI_getbinval(tup, desc, 5, &isnull));
		r->first = DatumGetFloat8(SPI_getbinval(tup, desc, 6, &isnull));
		r->last = DatumGetFloat8(SPI_getbinval(tup, desc, 7, &isnull));
		set_value(r, aggregation);
	}
	return s;
}

static int
cmp_ts(const void *a, const void *b)
{
	TimestampTz x = *(const TimestampTz *) a;
	TimestampTz y = *(const TimestampTz *) b;

	return x < y ? -1 : x > y;
}

/* A derived metric: the formula over the aligned series of its references. */
static Series *
derived_series(SeriesQuery *q, const char *metric, const char *formula_text, List *path)
{
	Formula    *f = formula_compile_or_error(formula_text, strlen(formula_text), metric);
	Series	  **refs = palloc(sizeof(Series *) * Max(f->nrefs, 1));
	int		   *pos = palloc0(sizeof(int) * Max(f->nrefs, 1));
	TimestampTz *buckets;
	int			nb = 0,
				total = 0,
				i,
				j;
	Series	   *s = palloc0(sizeof(Series));
	List	   *subpath = lappend(list_copy(path), (void *) metric);

	for (i = 0; i < f->nrefs; i++)
	{
		ListCell   *lc;

		foreach(lc, subpath)
		{
			if (strcmp((const char *) lfirst(lc), f->refs[i]) == 0)
			{
				StringInfoData chain;
				ListCell   *lc2;

				initStringInfo(&chain);
				foreach(lc2, subpath)
					appendStringInfo(&chain, "%s -> ", (const char *) lfirst(lc2));
				appendStringInfoString(&chain, f->refs[i]);
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_RECURSION),
						 errmsg("derived metrics form a cycle: %s", chain.data)));
			}
		}
		refs[i] = series_compute(q, f->refs[i], subpath);
		total += refs[i]->n;
	}

	/* the union of the references' buckets, sorted and distinct */
	buckets = palloc_extended(sizeof(TimestampTz) * Max(total, 1), MCXT_ALLOC_HUGE);
	for (i = 0; i < f->nrefs; i++)
		for (j = 0; j < refs[i]->n; j++)
			buckets[nb++] = refs[i]->rows[j].bucket;
	qsort(buckets, nb, sizeof(TimestampTz), cmp_ts);
	for (i = 0, j = 0; i < nb; i++)
		if (j == 0 || buckets[i] != buckets[j - 1])
			buckets[j++] = buckets[i];
	nb = j;

	s->n = nb;
	s->rows = palloc_extended(sizeof(SeriesRow) * Max(nb, 1), MCXT_ALLOC_HUGE);
	for (i = 0; i < nb; i++)
	{
		double		vals[FORMULA_MAX_REFS];
		bool		nulls[FORMULA_MAX_REFS];
		SeriesRow  *r = &s->rows[i];

		CHECK_FOR_INTERRUPTS();
		for (j = 0; j < f->nrefs; j++)
		{
			while (pos[j] < refs[j]->n && refs[j]->rows[pos[j]].bucket < buckets[i])
				pos[j]++;
			if (pos[j] < refs[j]->n && refs[j]->rows[pos[j]].bucket == buckets[i])
			{
				nulls[j] = refs[j]->rows[pos[j]].value_null;
				vals[j] = refs[j]->rows[pos[j]].value;
			}
			else
			{
				nulls[j] = true;
				vals[j] = 0.0;
			}
		}
		memset(r, 0, sizeof(SeriesRow));
		r->bucket = buckets[i];
		r->has_stats = false;
		r->value = formula_evaluate(f, vals, nulls, &r->value_null);
	}
	return s;
}

/* The series of one metric: its definition decides plain or derived. */
static Series *
series_compute(SeriesQuery *q, const char *metric, List *path)
{
	Oid			argtypes[2] = {UUIDOID, TEXTOID};
	Datum		args[2] = {q->tenant, CStringGetTextDatum(metric)};
	char	   *sql;
	char	   *aggregation;
	char	   *formula;
	int			rc;

	check_stack_depth();
	if (list_length(path) >= SERIES_MAX_DEPTH)
		ereport(ERROR,
				(errcode(ERRCODE_STATEMENT_TOO_COMPLEX),
				 errmsg("derived metric \"%s\" nests more than %d levels of derived metrics",
						(const char *) linitial(path), SERIES_MAX_DEPTH)));

	sql = psprintf("SELECT aggregation, calculation_formula FROM %s"
				   " WHERE tenant_id = $1 AND metric_type = $2",
				   q->policy->definitions_sql);
	rc = SPI_execute_with_args(sql, 2, argtypes, args, NULL, true, 2);
	if (rc != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed: %s", SPI_result_code_string(rc));
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 path == NIL
				 ? errmsg("metric \"%s\" is not defined", metric)
				 : errmsg("metric \"%s\", referenced by the formula of \"%s\", is not defined",
						  metric, (const char *) llast(path)),
				 errhint("Metrics are defined in %s.", q->policy->definitions_sql)));
	if (SPI_processed > 1)
		ereport(ERROR,
				(errcode(ERRCODE_CARDINALITY_VIOLATION),
				 errmsg("metric \"%s\" is defined more than once in %s",
						metric, q->policy->definitions_sql)));
	aggregation = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	formula = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2);

	if (formula != NULL)
		return derived_series(q, metric, formula, path);
	if (aggregation == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("metric \"%s\" has no aggregation", metric)));
	check_aggregation(aggregation, metric);
	return plain_series(q, metric, aggregation);
}

/* The width for 'auto' (telos.auto_bucket agrees). */
static const char *
auto_width(TimestampTz from, TimestampTz to)
{
	int64		span = to - from;

	if (span <= 7 * USECS_PER_DAY)
		return "hour";
	if (span <= 366 * USECS_PER_DAY)
		return "day";
	return "month";
}

/*
 * telos_metric_series
 *		telos.metric_series(tenant uuid, metric_type text, "from" timestamptz,
 *			"to" timestamptz, bucket text DEFAULT 'auto', raw regclass DEFAULT NULL)
 *			RETURNS TABLE (bucket timestamptz, count bigint, sum float8,
 *				min float8, max float8, first float8, last float8, value float8)
 *
 * The buckets of width bucket ('hour', 'day', 'month' in the tenant's zone,
 * or 'auto': telos.auto_bucket(from, to)) that overlap [from, to), in
 * order, each computed over the whole bucket (the first may start before
 * from, the last end after to). raw selects the policy
 * (needed only when there are several). See the file header.
 */
Datum
telos_metric_series(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	SeriesQuery q;
	Series	   *s;
	char	   *bucket;
	int			gucs;
	int			i;
	const char *names[] = {"tenant", "metric_type", "from", "to", "bucket"};

	for (i = 0; i < 5; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be NULL", names[i])));
	memset(&q, 0, sizeof(q));
	q.tenant = PG_GETARG_DATUM(0);
	q.from = PG_GETARG_TIMESTAMPTZ(2);
	q.to = PG_GETARG_TIMESTAMPTZ(3);
	bucket = text_to_cstring(PG_GETARG_TEXT_PP(4));
	if (TIMESTAMP_NOT_FINITE(q.from) || TIMESTAMP_NOT_FINITE(q.to))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("from and to must be finite")));
	if (q.from > q.to)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("from must not be later than to")));
	if (strcmp(bucket, "auto") == 0)
		q.width = auto_width(q.from, q.to);
	else if (strcmp(bucket, "hour") == 0 || strcmp(bucket, "day") == 0 ||
			 strcmp(bucket, "month") == 0)
		q.width = bucket;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid bucket \"%s\"", bucket),
				 errhint("Use hour, day, month or auto.")));
	if ((q.to - q.from) / (strcmp(q.width, "hour") == 0 ? USECS_PER_HOUR
						   : strcmp(q.width, "day") == 0 ? 23 * USECS_PER_HOUR
						   : 28 * USECS_PER_DAY) > SERIES_MAX_BUCKETS)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("too many %s buckets from %s to %s", q.width,
						pstrdup(timestamptz_to_str(q.from)), pstrdup(timestamptz_to_str(q.to))),
				 errdetail("At most %d buckets are returned.", SERIES_MAX_BUCKETS),
				 errhint("Use a larger bucket or a shorter range.")));

	InitMaterializedSRF(fcinfo, 0);

	SPI_connect();
	gucs = rollup_engine_gucs();
	q.policy = PG_ARGISNULL(5) ? rollup_policy_only()
		: rollup_policy_load(PG_GETARG_OID(5), false);

	/* the tenant's zone; a tenant the function does not know is in UTC */
	{
		Oid			argtypes[1] = {UUIDOID};
		Datum		args[1] = {q.tenant};
		char	   *sql = psprintf("SELECT %s($1)", q.policy->timezone_fn_sql);
		int			rc = SPI_execute_with_args(sql, 1, argtypes, args, NULL, true, 1);

		if (rc != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "time zone lookup failed: %s", SPI_result_code_string(rc));
		q.tz = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		if (q.tz == NULL)
			q.tz = "UTC";
	}

	/*
	 * Buckets that overlap [from, to) = buckets that start in
	 * [start of the bucket holding from, to).
	 */
	if (q.from < q.to)
	{
		Oid			argtypes[3] = {TEXTOID, TIMESTAMPTZOID, TEXTOID};
		Datum		args[3] = {CStringGetTextDatum(q.width), TimestampTzGetDatum(q.from),
		CStringGetTextDatum(q.tz)};
		bool		isnull;
		int			rc = SPI_execute_with_args("SELECT b.bucket_start FROM telos._bucket_ranges($1, $2,"
											   " $2 + interval '1 microsecond', $3) AS b",
											   3, argtypes, args, NULL, true, 1);

		if (rc != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "bucket lookup failed: %s", SPI_result_code_string(rc));
		q.from = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}

	s = series_compute(&q, text_to_cstring(PG_GETARG_TEXT_PP(1)), NIL);

	for (i = 0; i < s->n; i++)
	{
		SeriesRow  *r = &s->rows[i];
		Datum		values[8];
		bool		nulls[8];

		values[0] = TimestampTzGetDatum(r->bucket);
		values[1] = Int64GetDatum(r->count);
		values[2] = Float8GetDatum(r->sum);
		values[3] = Float8GetDatum(r->min);
		values[4] = Float8GetDatum(r->max);
		values[5] = Float8GetDatum(r->first);
		values[6] = Float8GetDatum(r->last);
		values[7] = Float8GetDatum(r->value);
		nulls[0] = false;
		nulls[1] = nulls[2] = nulls[3] = nulls[4] = nulls[5] = nulls[6] = !r->has_stats;
		nulls[7] = r->value_null;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}

	rollup_engine_gucs_end(gucs);
	SPI_finish();
	return (Datum) 0;
}
