/* 20_rollup.sql -- incremental rollups, metric_series, formulas (since 0.2.0). */

/*
 * The formula language of derived metrics (src/formula.c). Pure functions
 * of their arguments; IMMUTABLE so the app may use formula_check in a CHECK
 * or an index expression.
 */
CREATE FUNCTION telos.formula_check(formula text) RETURNS text[]
	AS 'MODULE_PATHNAME', 'telos_formula_check'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION telos.formula_check(text) IS
	'compiles a derived-metric formula; returns the metric names it references';

CREATE FUNCTION telos.formula_eval(formula text, names text[], vals float8[]) RETURNS float8
	AS 'MODULE_PATHNAME', 'telos_formula_eval'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION telos.formula_eval(text, text[], float8[]) IS
	'evaluates a derived-metric formula with names bound to vals (division by zero gives NULL)';

/*
 * first(value, time) and last(value, time): the value at the earliest /
 * latest time; ties go to the smaller / larger value so that the result does
 * not depend on the order rows are read in (rollups must equal a
 * recomputation). NULL values or times are skipped.
 */
CREATE FUNCTION telos.first_sfunc(internal, float8, timestamptz) RETURNS internal
	AS 'MODULE_PATHNAME', 'telos_first_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION telos.last_sfunc(internal, float8, timestamptz) RETURNS internal
	AS 'MODULE_PATHNAME', 'telos_last_sfunc'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION telos.first_last_final(internal) RETURNS float8
	AS 'MODULE_PATHNAME', 'telos_first_last_final'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE AGGREGATE telos.first(float8, timestamptz) (
	SFUNC = telos.first_sfunc, STYPE = internal, FINALFUNC = telos.first_last_final,
	PARALLEL = SAFE);
CREATE AGGREGATE telos.last(float8, timestamptz) (
	SFUNC = telos.last_sfunc, STYPE = internal, FINALFUNC = telos.first_last_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE telos.first(float8, timestamptz) IS
	'value at the earliest time (ties: the smallest value)';
COMMENT ON AGGREGATE telos.last(float8, timestamptz) IS
	'value at the latest time (ties: the largest value)';

/*
 * Buckets. An hour bucket is a UTC hour. A day bucket of zone tz is
 * [local midnight of day d, local midnight of day d + 1) -- 23 or 25 hours
 * long on DST switch days, and not made of whole UTC hours in zones such
 * as +05:30 --, a month bucket the union of its days. Local midnight is
 * PostgreSQL's reading of 'd 00:00'::timestamp AT TIME ZONE tz, which for a
 * midnight that does not exist (a DST jump at 00:00) is the first instant
 * of the day. Bucket membership is always by interval, never by local date,
 * so buckets partition time even in zones whose clocks went back over
 * midnight.
 *
 * telos._bucket_ranges is the engine's internal, inlinable version (a
 * SQL-standard body, so its references are bound at creation and immune to
 * the caller's search_path); it assumes valid, finite input.
 */
CREATE FUNCTION telos._bucket_ranges(width text, lo timestamptz, hi timestamptz, tz text)
	RETURNS TABLE (bucket_start timestamptz, bucket_end timestamptz)
	LANGUAGE sql STABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT b.s, b.e
	  FROM (SELECT h AS s, h + interval '1 hour' AS e
			  FROM pg_catalog.generate_series(
					   pg_catalog.date_bin(interval '1 hour', lo, timestamptz '2000-01-01 00:00:00+00'),
					   hi - interval '1 microsecond', interval '1 hour') AS h
			 WHERE width = 'hour'
			UNION ALL
			SELECT (d::date)::timestamp AT TIME ZONE tz,
				   ((d::date) + 1)::timestamp AT TIME ZONE tz
			  FROM pg_catalog.generate_series(((lo AT TIME ZONE tz)::date - 1)::timestamp,
											  ((hi AT TIME ZONE tz)::date + 1)::timestamp,
											  interval '1 day') AS d
			 WHERE width = 'day'
			UNION ALL
			SELECT m AT TIME ZONE tz, (m + interval '1 month') AT TIME ZONE tz
			  FROM pg_catalog.generate_series(
					   pg_catalog.date_trunc('month', lo AT TIME ZONE tz) - interval '1 month',
					   pg_catalog.date_trunc('month', hi AT TIME ZONE tz) + interval '1 month',
					   interval '1 month') AS m
			 WHERE width = 'month') AS b
	 WHERE b.s < b.e AND b.s < hi AND b.e > lo;
END;

/*
 * telos.bucket_ranges(width, lo, hi, tz) -- the buckets of width 'hour',
 * 'day' or 'month' in zone tz that intersect [lo, hi), in order.
 */
CREATE FUNCTION telos.bucket_ranges(width text, lo timestamptz, hi timestamptz, tz text DEFAULT 'UTC')
	RETURNS TABLE (bucket_start timestamptz, bucket_end timestamptz)
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF width IS NULL OR lo IS NULL OR hi IS NULL OR tz IS NULL THEN
		RAISE EXCEPTION 'bucket_ranges: arguments must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF width NOT IN ('hour', 'day', 'month') THEN
		RAISE EXCEPTION 'invalid bucket width "%"', width
			USING ERRCODE = 'invalid_parameter_value', HINT = 'use hour, day or month';
	END IF;
	IF NOT isfinite(lo) OR NOT isfinite(hi) THEN
		RAISE EXCEPTION 'bucket_ranges: lo and hi must be finite'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM now() AT TIME ZONE tz;		-- 22023 for an unknown zone
	RETURN QUERY SELECT b.bucket_start, b.bucket_end
				   FROM telos._bucket_ranges(width, lo, hi, tz) AS b ORDER BY 1;
END
$$;
COMMENT ON FUNCTION telos.bucket_ranges(text, timestamptz, timestamptz, text) IS
	'the hour/day/month buckets of a time zone that intersect [lo, hi)';

/*
 * telos.auto_bucket(from, to) -- the width metric_series uses for 'auto':
 * up to 7 days 'hour' (<= 168 points), up to 366 days 'day', else 'month'.
 */
CREATE FUNCTION telos.auto_bucket("from" timestamptz, "to" timestamptz) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT CASE WHEN "to" - "from" <= interval '7 days' THEN 'hour'
				WHEN "to" - "from" <= interval '366 days' THEN 'day'
				ELSE 'month' END;
END;
COMMENT ON FUNCTION telos.auto_bucket(timestamptz, timestamptz) IS
	'bucket width chosen by metric_series for bucket => ''auto''';

/*
 * The catalog: one row per raw table whose rollups the engine maintains.
 * Regclass/regprocedure columns: dumped as names, and a sql_drop event
 * trigger below keeps them from dangling.
 */
CREATE TABLE telos.rollup_policy (
	raw				regclass		PRIMARY KEY,
	agg				regclass		NOT NULL,
	definitions		regclass		NOT NULL,
	timezone_fn		regprocedure	NOT NULL,
	time_column		name			NOT NULL,
	job_id			integer,
	created_at		timestamptz		NOT NULL DEFAULT now(),
	refreshed_at	timestamptz,
	CHECK (raw <> agg)
);
SELECT pg_catalog.pg_extension_config_dump('telos.rollup_policy', '');
GRANT SELECT ON telos.rollup_policy TO PUBLIC;
COMMENT ON TABLE telos.rollup_policy IS
	'rollup policies: raw table -> rollup table (written by telos.add_rollup_policy)';

/*
 * The invalidation log: ranges of raw data changed since the last refresh.
 * A row is either a tenant, the metrics it changed and an hour-aligned
 * finite range -- one row for all the metrics a statement changed over the
 * same hours, so that an ingest batch of one tenant costs one row -- or a
 * whole scope over all time: a tenant (metric_types NULL: every metric),
 * metrics of every tenant (tenant_id NULL), or the whole table (both NULL).
 * No key: rows are only appended and taken whole by the refresh. Written
 * only by the engine (statement triggers on raw, as the owner of this
 * table); read by metric_series as the caller, hence the RLS: a tenant sees
 * its own ranges and the whole-table rows (which reveal nothing).
 */
CREATE TABLE telos.invalidation (
	raw				regclass		NOT NULL,
	tenant_id		uuid,
	metric_types	text[],
	lo				timestamptz		NOT NULL,
	hi				timestamptz		NOT NULL,
	CHECK (lo < hi),
	CHECK (metric_types IS NULL
		   OR (cardinality(metric_types) > 0 AND array_position(metric_types, NULL) IS NULL)),
	CHECK ((tenant_id IS NOT NULL AND metric_types IS NOT NULL AND isfinite(lo) AND isfinite(hi))
		   OR (lo = '-infinity' AND hi = 'infinity'))
);
CREATE INDEX invalidation_tenant_idx ON telos.invalidation (raw, tenant_id, lo);
ALTER TABLE telos.invalidation ENABLE ROW LEVEL SECURITY;
ALTER TABLE telos.invalidation FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON telos.invalidation
	USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
	WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
CREATE POLICY whole_table_ranges ON telos.invalidation FOR SELECT
	USING (tenant_id IS NULL);
GRANT SELECT ON telos.invalidation TO PUBLIC;
COMMENT ON TABLE telos.invalidation IS
	'raw ranges changed since the last refresh of their rollups';

CREATE VIEW telos.rollup_policies AS
	SELECT p.raw, p.agg, p.definitions, p.timezone_fn, p.time_column, p.job_id,
		   p.created_at, p.refreshed_at,
		   (SELECT count(*) FROM telos.invalidation i WHERE i.raw = p.raw) AS pending_ranges
	  FROM telos.rollup_policy p;
GRANT SELECT ON telos.rollup_policies TO PUBLIC;

/* The statement-level trigger function that fills the log (src/rollup_trigger.c). */
CREATE FUNCTION telos.rollup_invalidate() RETURNS trigger
	AS 'MODULE_PATHNAME', 'telos_rollup_invalidate'
	LANGUAGE C;

CREATE FUNCTION telos.add_rollup_policy(raw regclass, agg regclass, definitions regclass,
										timezone_fn regprocedure,
										schedule interval DEFAULT '1 minute',
										run_as regrole DEFAULT NULL,
										time_column name DEFAULT NULL)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'telos_add_rollup_policy'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION telos.add_rollup_policy(regclass, regclass, regclass, regprocedure, interval, regrole, name) IS
	'maintain hourly/daily/monthly rollups of raw in agg; returns the refresh job id (NULL without a scheduler)';

CREATE FUNCTION telos.remove_rollup_policy(raw regclass, if_exists boolean DEFAULT false)
	RETURNS boolean
	AS 'MODULE_PATHNAME', 'telos_remove_rollup_policy'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION telos.remove_rollup_policy(regclass, boolean) IS
	'stop maintaining the rollups of raw (the rollup rows stay)';

CREATE FUNCTION telos.invalidate_rollups(raw regclass, tenant uuid DEFAULT NULL,
										 metric_type text DEFAULT NULL,
										 lo timestamptz DEFAULT '-infinity',
										 hi timestamptz DEFAULT 'infinity')
	RETURNS void
	AS 'MODULE_PATHNAME', 'telos_invalidate_rollups'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION telos.invalidate_rollups(regclass, uuid, text, timestamptz, timestamptz) IS
	'mark rollups of raw for recomputation (a series range, or a whole tenant / metric / table)';

CREATE FUNCTION telos.refresh_rollups(raw regclass) RETURNS bigint
	AS 'MODULE_PATHNAME', 'telos_refresh_rollups'
	LANGUAGE C VOLATILE;
COMMENT ON FUNCTION telos.refresh_rollups(regclass) IS
	'recompute the invalidated rollup buckets of raw; returns the number of buckets written or removed';

/* The job's entry point: config {"raw": "schema.table"}. */
CREATE PROCEDURE telos.refresh_rollups_job(job_id integer, config jsonb)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF config IS NULL OR jsonb_typeof(config -> 'raw') IS DISTINCT FROM 'string' THEN
		RAISE EXCEPTION 'refresh_rollups_job: config must be {"raw": "<table>"}, got %', config
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM telos.refresh_rollups((config ->> 'raw')::regclass);
END
$$;
COMMENT ON PROCEDURE telos.refresh_rollups_job(integer, jsonb) IS
	'job procedure: telos.refresh_rollups(config->>''raw'')';

CREATE FUNCTION telos.metric_series(tenant uuid, metric_type text, "from" timestamptz,
									"to" timestamptz, bucket text DEFAULT 'auto',
									raw regclass DEFAULT NULL)
	RETURNS TABLE (bucket timestamptz, count bigint, sum float8, min float8, max float8,
				   first float8, last float8, value float8)
	AS 'MODULE_PATHNAME', 'telos_metric_series'
	LANGUAGE C STABLE;
COMMENT ON FUNCTION telos.metric_series(uuid, text, timestamptz, timestamptz, text, regclass) IS
	'a metric''s buckets in [from, to): materialized rollups plus what is not yet materialized, from raw';

/*
 * Keep the catalog from pointing at dropped objects: dropping a raw table
 * drops its policy (its triggers went with it), its log and its job;
 * dropping a rollup table, definitions relation or time-zone function that
 * a remaining policy uses is refused. SECURITY DEFINER: whoever drops a
 * table may not write the catalog. It runs after every DROP, so it first
 * checks cheaply whether anything of interest was dropped.
 */
CREATE FUNCTION telos.rollup_sql_drop() RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r record;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM telos.rollup_policy) THEN
		RETURN;
	END IF;
	FOR r IN
		DELETE FROM telos.rollup_policy p
		 USING pg_event_trigger_dropped_objects() d
		 WHERE d.classid = 'pg_class'::regclass AND d.objid = p.raw::oid AND d.objsubid = 0
		RETURNING p.raw::oid AS raw, p.job_id
	LOOP
		DELETE FROM telos.invalidation WHERE raw = r.raw::regclass;
		IF r.job_id IS NOT NULL AND to_regproc('telos.delete_job') IS NOT NULL THEN
			EXECUTE 'SELECT telos.delete_job($1)' USING r.job_id;
		END IF;
	END LOOP;
	SELECT p.raw::text AS raw, d.object_identity AS what INTO r
	  FROM telos.rollup_policy p
	  JOIN pg_event_trigger_dropped_objects() d
		ON (d.classid = 'pg_class'::regclass AND d.objsubid = 0
			AND d.objid IN (p.agg::oid, p.definitions::oid))
		OR (d.classid = 'pg_proc'::regclass AND d.objid = p.timezone_fn::oid)
	 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION 'cannot drop % because the rollup policy of % uses it', r.what, r.raw
			USING ERRCODE = 'dependent_objects_still_exist',
				  HINT = format('Remove the policy first: SELECT telos.remove_rollup_policy(%L);', r.raw);
	END IF;
END
$$;
CREATE EVENT TRIGGER telos_rollup_sql_drop ON sql_drop
	EXECUTE FUNCTION telos.rollup_sql_drop();
