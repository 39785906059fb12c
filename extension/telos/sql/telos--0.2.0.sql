-- generated from sql/parts/*.sql by the Makefile: edit the parts
\echo Use "CREATE EXTENSION telos" to load this file. \quit
/* 00_base.sql -- schema grant, version functions (since 0.1.0). */

/*
 * The engine's functions are for every role (the app's migrations create
 * hypertables through them), as pg_catalog's are; a function that must not
 * be called by everyone REVOKEs EXECUTE FROM PUBLIC on its own. CREATE
 * EXTENSION makes the schema owned by the installing superuser with no
 * privileges for anyone else, hence the grant.
 */
GRANT USAGE ON SCHEMA telos TO PUBLIC;

/*
 * telos.version() -- the version of the loaded library, e.g. '0.1.0'.
 * STABLE, not IMMUTABLE: the answer changes when the library is upgraded,
 * so it must not be folded into stored expressions.
 * Call it qualified: an unqualified version() is pg_catalog.version().
 */
CREATE FUNCTION telos.version() RETURNS text
	AS 'MODULE_PATHNAME', 'telos_version'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION telos.version() IS
	'version of the loaded telos library';

/*
 * telos.build_info() -- the build of the loaded library as jsonb:
 * {"version", "pg_major", "pg_version_num", "pg_version"}.
 */
CREATE FUNCTION telos.build_info() RETURNS jsonb
	AS 'MODULE_PATHNAME', 'telos_build_info'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION telos.build_info() IS
	'version of the loaded telos library and the PostgreSQL it was built against';
/* 10_hypertable.sql -- hypertables and chunks (since 0.2.0). */

/*
 * The catalog. Written only by the engine's C functions, as the role that
 * installed the extension (the owner of these tables); readable by all, as
 * pg_catalog is. regclass columns hold no dependency: the sql_drop event
 * trigger below keeps them in step with DROP TABLE.
 */
CREATE TABLE telos.hypertable (
	relid          regclass    PRIMARY KEY,
	time_column    name        NOT NULL,
	chunk_interval interval    NOT NULL CHECK (chunk_interval > interval '0'),
	-- Chunks are [origin + k * chunk_interval, origin + (k + 1) * chunk_interval).
	-- The default is a Monday, so weekly chunks run Monday 00:00 UTC to Monday.
	origin         timestamptz NOT NULL DEFAULT '2000-01-03 00:00:00+00',
	-- Called with each expired chunk by drop_chunks instead of dropping it.
	archive_fn     regprocedure,
	created_at     timestamptz NOT NULL DEFAULT now()
);

COMMENT ON TABLE telos.hypertable IS
	'tables whose range partitions (chunks) the telos engine makes, tracks and drops';

CREATE TABLE telos.chunk (
	id          bigserial   PRIMARY KEY,
	hypertable  regclass    NOT NULL REFERENCES telos.hypertable ON DELETE CASCADE,
	-- NULL once the chunk's table is dropped.
	relid       regclass    UNIQUE,
	range_start timestamptz NOT NULL,
	range_end   timestamptz NOT NULL,
	state       text        NOT NULL DEFAULT 'active'
	                        CHECK (state IN ('active', 'compressed', 'archived', 'dropped')),
	created_at  timestamptz NOT NULL DEFAULT now(),
	UNIQUE (hypertable, range_start),
	CHECK (range_end > range_start)
);

COMMENT ON TABLE telos.chunk IS
	'chunks of hypertables: range, relation and life-cycle state';

-- drop_chunks looks chunks up by hypertable and end of range.
CREATE INDEX chunk_hypertable_range_end_idx ON telos.chunk (hypertable, range_end);

REVOKE ALL ON telos.hypertable, telos.chunk FROM PUBLIC;
GRANT SELECT ON telos.hypertable, telos.chunk TO PUBLIC;

-- pg_dump dumps the catalog's rows (an extension's tables are otherwise
-- left out), so a restored database keeps its hypertables.
SELECT pg_catalog.pg_extension_config_dump('telos.hypertable', '');
SELECT pg_catalog.pg_extension_config_dump('telos.chunk', '');
SELECT pg_catalog.pg_extension_config_dump('telos.chunk_id_seq', '');

/*
 * telos.create_hypertable -- register a table PARTITION BY RANGE on a
 * timestamptz column (caller must own it): adopt its aligned partitions,
 * make the time column NOT NULL, make a default partition if it has none,
 * move the default's rows into chunks.
 */
CREATE FUNCTION telos.create_hypertable(
		rel regclass,
		time_column name,
		chunk_interval interval DEFAULT '7 days',
		if_not_exists boolean DEFAULT false,
		origin timestamptz DEFAULT '2000-01-03 00:00:00+00')
	RETURNS void
	AS 'MODULE_PATHNAME', 'telos_create_hypertable'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.create_hypertable(regclass, name, interval, boolean, timestamptz) IS
	'make a range-partitioned table a hypertable with aligned chunks';

/*
 * telos.ensure_chunks -- make the missing chunks from the one holding
 * range_from to the one holding range_to (caller needs INSERT on rel).
 */
CREATE FUNCTION telos.ensure_chunks(rel regclass, range_from timestamptz, range_to timestamptz)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'telos_ensure_chunks'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.ensure_chunks(regclass, timestamptz, timestamptz) IS
	'create the missing chunks covering a time range; returns how many were created';

CREATE FUNCTION telos.relocate_default(rel regclass)
	RETURNS bigint
	AS 'MODULE_PATHNAME', 'telos_relocate_default'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.relocate_default(regclass) IS
	'move the rows of the default partition into chunks; returns the rows moved';

CREATE FUNCTION telos.drop_chunks(rel regclass, older_than timestamptz)
	RETURNS SETOF regclass
	AS 'MODULE_PATHNAME', 'telos_drop_chunks'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.drop_chunks(regclass, timestamptz) IS
	'drop (or archive through the archive function) chunks ending at or before older_than';

CREATE FUNCTION telos.maintain(rel regclass, ahead interval DEFAULT '4 weeks')
	RETURNS jsonb
	AS 'MODULE_PATHNAME', 'telos_maintain'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.maintain(regclass, interval) IS
	'create chunks ahead of now, adopt aligned partitions, empty the default partition';

CREATE FUNCTION telos.chunk_range(rel regclass, ts timestamptz,
		OUT range_start timestamptz, OUT range_end timestamptz)
	RETURNS record
	AS 'MODULE_PATHNAME', 'telos_chunk_range'
	LANGUAGE C STABLE;

COMMENT ON FUNCTION telos.chunk_range(regclass, timestamptz) IS
	'the aligned chunk range of a hypertable that holds a timestamp';

CREATE FUNCTION telos.set_archive_function(rel regclass, archive_fn regprocedure)
	RETURNS void
	AS 'MODULE_PATHNAME', 'telos_set_archive_function'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.set_archive_function(regclass, regprocedure) IS
	'set (NULL: clear) the function drop_chunks calls instead of dropping a chunk';

/*
 * Keeps telos.hypertable and telos.chunk in step with DROP TABLE: a dropped
 * hypertable loses its rows (its chunks' go with them, ON DELETE CASCADE); a
 * chunk dropped by hand keeps its row as state 'dropped' with relid NULL, so
 * the catalog never names a relation that is gone (a regclass column holds
 * no dependency) nor one that later reuses the OID. PL/pgSQL rather than C:
 * it runs for every DROP in the database, which must keep working even if
 * the engine's library cannot be loaded. SECURITY DEFINER (the catalog's
 * owner) because whoever drops a table may not write the catalog.
 */
CREATE FUNCTION telos.on_sql_drop()
	RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- DROP EXTENSION telos drops the catalog in the very command.
	IF to_regclass('telos.chunk') IS NULL OR to_regclass('telos.hypertable') IS NULL THEN
		RETURN;
	END IF;
	DELETE FROM telos.hypertable h
	 USING pg_event_trigger_dropped_objects() d
	 WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0
	   AND h.relid = d.objid::regclass;
	UPDATE telos.chunk c SET relid = NULL, state = 'dropped'
	  FROM pg_event_trigger_dropped_objects() d
	 WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0
	   AND c.relid = d.objid::regclass;
END
$$;

REVOKE EXECUTE ON FUNCTION telos.on_sql_drop() FROM PUBLIC;

CREATE EVENT TRIGGER telos_on_sql_drop ON sql_drop
	EXECUTE FUNCTION telos.on_sql_drop();

/*
 * telos.row_estimate(rel) -- rows in a table, estimated as the planner does
 * without reading it: the density of the last ANALYZE/VACUUM (reltuples /
 * relpages) times the table's current size in pages; for a table never
 * analyzed, the live tuples of the cumulative statistics.
 */
CREATE FUNCTION telos.row_estimate(rel regclass) RETURNS bigint
	LANGUAGE sql STABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE
	         WHEN c.reltuples >= 0 AND c.relpages > 0 THEN
	           round(c.reltuples / c.relpages
	                 * (pg_relation_size(c.oid) / current_setting('block_size')::int))::bigint
	         WHEN c.reltuples >= 0 AND pg_relation_size(c.oid) = 0 THEN 0
	         ELSE greatest(pg_stat_get_live_tuples(c.oid), 0)
	       END
	  FROM pg_class c WHERE c.oid = rel
$$;

COMMENT ON FUNCTION telos.row_estimate(regclass) IS
	'estimated row count of a table from its statistics, without reading it';

/*
 * telos.hypertables -- one row per hypertable. Sizes and estimates come
 * from the catalogs and statistics, never from reading the tables (the
 * view runs as its owner, who must not count rows on a caller's behalf).
 */
CREATE VIEW telos.hypertables AS
SELECT h.relid AS hypertable,
       h.time_column,
       h.chunk_interval,
       (SELECT count(*) FROM telos.chunk c
         WHERE c.hypertable = h.relid AND c.relid IS NOT NULL) AS num_chunks,
       (SELECT coalesce(sum(pg_catalog.pg_total_relation_size(t.relid)), 0)
          FROM pg_catalog.pg_partition_tree(h.relid) t
         WHERE t.isleaf) AS total_bytes,
       (SELECT telos.row_estimate(p.partdefid)
          FROM pg_catalog.pg_partitioned_table p
         WHERE p.partrelid = h.relid AND p.partdefid <> 0) AS default_rows
  FROM telos.hypertable h;

COMMENT ON VIEW telos.hypertables IS
	'hypertables with chunk count, total size and an estimate of the rows in the default partition';

/*
 * telos.chunks -- one row per chunk that has a relation (active,
 * compressed, or archived and still present); dropped chunks are not
 * listed.
 */
CREATE VIEW telos.chunks AS
SELECT c.hypertable,
       c.relid AS chunk,
       c.range_start,
       c.range_end,
       pg_catalog.pg_total_relation_size(c.relid) AS total_bytes,
       telos.row_estimate(c.relid) AS row_estimate,
       c.state
  FROM telos.chunk c
 WHERE c.relid IS NOT NULL;

COMMENT ON VIEW telos.chunks IS
	'chunks of hypertables with range, size, row estimate and state';

GRANT SELECT ON telos.hypertables, telos.chunks TO PUBLIC;
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
/*
 * 30_jobs.sql -- the job catalog, the scheduler's API, and the retention and
 * maintenance policies (module "jobs": src/job.c, src/scheduler.c,
 * src/retention.c).
 *
 * A job is a row of telos.jobs: a function or procedure taking
 * (job_id integer, config jsonb), a schedule, and the role it runs as. The
 * background worker (shared_preload_libraries = 'telos') runs due jobs one at
 * a time, each in a process of its own connected as the job's role; every run
 * is a row of telos.job_runs. The catalogs are written only through the
 * functions below, which check that the caller may act as the job's role.
 */

/*
 * The job's function is stored by name, not as regproc: pg_upgrade refuses
 * clusters with regproc columns in user tables (function OIDs are not
 * preserved), and a name survives dump and restore. It is looked up with the
 * argument types (integer, jsonb) at every run.
 */
CREATE TABLE telos.jobs (
	id					 serial		 PRIMARY KEY,
	proc_schema			 name		 NOT NULL,
	proc_name			 name		 NOT NULL,
	config				 jsonb		 NOT NULL DEFAULT '{}',
	schedule_interval	 interval	 NOT NULL CHECK (schedule_interval > interval '0'),
	next_start			 timestamptz NOT NULL,
	run_as				 regrole	 NOT NULL,
	enabled				 boolean	 NOT NULL DEFAULT true,
	-- -1: retry forever; n >= 0: disable the job after n retries that failed.
	max_retries			 integer	 NOT NULL DEFAULT -1 CHECK (max_retries >= -1),
	retry_period		 interval	 NOT NULL DEFAULT '1 minute' CHECK (retry_period > interval '0'),
	-- NULL: no limit; else the scheduler terminates a run that lasts longer.
	max_runtime			 interval	 CHECK (max_runtime > interval '0'),
	consecutive_failures integer	 NOT NULL DEFAULT 0,
	last_run_started_at	 timestamptz,
	last_run_finished_at timestamptz,
	last_run_status		 text		 CHECK (last_run_status IN ('running', 'success', 'failure')),
	last_error			 text,
	created_at			 timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_next_start_idx ON telos.jobs (next_start) WHERE enabled;

COMMENT ON TABLE telos.jobs IS
	'scheduled jobs: a function or procedure (job_id integer, config jsonb) run by the telos background worker';

/*
 * One row per run, written when it starts (status 'running') and when it
 * ends. The scheduler prunes rows older than telos.job_runs_retention.
 */
CREATE TABLE telos.job_runs (
	id			 bigserial	 PRIMARY KEY,
	job_id		 integer	 NOT NULL REFERENCES telos.jobs (id) ON DELETE CASCADE,
	started_at	 timestamptz NOT NULL,
	finished_at	 timestamptz,
	status		 text		 NOT NULL CHECK (status IN ('running', 'success', 'failure')),
	-- 'scheduler' (background worker) or 'run_job' (CALL telos.run_job).
	started_by	 text		 NOT NULL CHECK (started_by IN ('scheduler', 'run_job')),
	pid			 integer,
	sqlstate	 text,
	error		 text,
	-- detail, hint and context of the error, when it had them.
	error_detail jsonb
);
CREATE INDEX job_runs_job_started_idx ON telos.job_runs (job_id, started_at DESC);
CREATE INDEX job_runs_running_idx ON telos.job_runs (job_id) WHERE status = 'running';

COMMENT ON TABLE telos.job_runs IS
	'history of job runs: start, end, status and error';

/*
 * Who sees what: a role sees the jobs it could manage (those whose run_as it
 * has the privileges of) and their runs. Errors can quote data, and jobs of
 * telos_worker span tenants, so telos_app must not see them. Writes go
 * through the functions below only (no INSERT/UPDATE/DELETE grant).
 */
ALTER TABLE telos.jobs ENABLE ROW LEVEL SECURITY;
ALTER TABLE telos.job_runs ENABLE ROW LEVEL SECURITY;
CREATE POLICY job_manager ON telos.jobs
	USING (pg_catalog.pg_has_role(run_as::oid, 'USAGE'));
CREATE POLICY job_manager ON telos.job_runs
	USING (EXISTS (SELECT 1 FROM telos.jobs j WHERE j.id = job_id));
GRANT SELECT ON telos.jobs, telos.job_runs TO PUBLIC;

/* Jobs are configuration: pg_dump keeps them (the history it need not). */
SELECT pg_catalog.pg_extension_config_dump('telos.jobs', '');
SELECT pg_catalog.pg_extension_config_dump('telos.jobs_id_seq', '');

/*
 * telos.add_job -- schedule proc(job_id, config) every schedule_interval from
 * initial_start, as run_as (NULL: the calling role). The caller must have the
 * privileges of run_as, which must be able to log in (each run is a session
 * of that role). Returns the job id.
 */
CREATE FUNCTION telos.add_job(
	proc regproc,
	schedule_interval interval,
	config jsonb DEFAULT '{}',
	initial_start timestamptz DEFAULT now(),
	run_as regrole DEFAULT NULL,
	max_retries integer DEFAULT -1,
	retry_period interval DEFAULT '1 minute',
	max_runtime interval DEFAULT NULL,
	enabled boolean DEFAULT true)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'telos_add_job'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.add_job(regproc, interval, jsonb, timestamptz, regrole, integer, interval, interval, boolean) IS
	'schedule a function or procedure (job_id integer, config jsonb); returns the job id';

/*
 * telos.alter_job -- change a job; NULL leaves a setting as it is
 * (max_runtime => '0' removes the limit). Enabling a job resets its count of
 * consecutive failures.
 */
CREATE FUNCTION telos.alter_job(
	job_id integer,
	schedule_interval interval DEFAULT NULL,
	config jsonb DEFAULT NULL,
	next_start timestamptz DEFAULT NULL,
	enabled boolean DEFAULT NULL,
	max_retries integer DEFAULT NULL,
	retry_period interval DEFAULT NULL,
	max_runtime interval DEFAULT NULL,
	run_as regrole DEFAULT NULL)
	RETURNS void
	AS 'MODULE_PATHNAME', 'telos_alter_job'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.alter_job(integer, interval, jsonb, timestamptz, boolean, integer, interval, interval, regrole) IS
	'change the schedule, configuration or state of a job';

/* telos.delete_job -- remove a job and its history; waits for a running one. */
CREATE FUNCTION telos.delete_job(job_id integer)
	RETURNS void
	AS 'MODULE_PATHNAME', 'telos_delete_job'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.delete_job(integer) IS
	'remove a job and its run history';

/*
 * CALL telos.run_job(job_id) -- run a job now, in this session, as its
 * run_as role; the run is recorded like a scheduled one and an error is
 * raised again to the caller.
 */
CREATE PROCEDURE telos.run_job(job_id integer)
	AS 'MODULE_PATHNAME', 'telos_run_job'
	LANGUAGE C;

COMMENT ON PROCEDURE telos.run_job(integer) IS
	'run a job now in the calling session and record the run';

/* ------------------------------------------------------------------------
 * Retention and maintenance policies: jobs whose proc is one of the two
 * functions below, with the policy in the job's config.
 * ------------------------------------------------------------------------ */

/*
 * telos.retention_job -- the job behind telos.add_retention_policy. The
 * config is validated again at every run (the tables may have changed).
 */
CREATE FUNCTION telos.retention_job(job_id integer, config jsonb)
	RETURNS void
	AS 'MODULE_PATHNAME', 'telos_retention_job'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.retention_job(integer, jsonb) IS
	'job: drop expired chunks, delete rows of tenants with shorter windows, expire rollups';

/*
 * telos.add_retention_policy -- keep rel's rows for each tenant's window:
 * tenant_retention_fn() RETURNS TABLE(tenant_id uuid, retention interval)
 * gives the windows (tenants it does not list, or all when NULL, get
 * default_retention). Chunks older than every window are dropped (or
 * archived: the hypertable's archive_fn); rows of tenants with shorter
 * windows are deleted from live chunks. In rollups, hourly buckets are kept
 * keep_hourly (NULL: as long as the raw rows of their tenant), daily buckets
 * keep_daily (NULL: forever), monthly buckets forever.
 */
CREATE FUNCTION telos.add_retention_policy(
	rel regclass,
	default_retention interval DEFAULT '12 months',
	tenant_retention_fn regprocedure DEFAULT NULL,
	rollups regclass DEFAULT NULL,
	keep_hourly interval DEFAULT NULL,
	keep_daily interval DEFAULT '3 years',
	schedule interval DEFAULT '1 hour',
	run_as regrole DEFAULT NULL,
	if_not_exists boolean DEFAULT false,
	time_column name DEFAULT NULL)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'telos_add_retention_policy'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.add_retention_policy(regclass, interval, regprocedure, regclass, interval, interval, interval, regrole, boolean, name) IS
	'schedule per-tenant retention of a table and its rollups; returns the job id';

/* telos.remove_retention_policy -- delete the retention job of rel. */
CREATE FUNCTION telos.remove_retention_policy(rel regclass, if_exists boolean DEFAULT false)
	RETURNS void
	AS 'MODULE_PATHNAME', 'telos_remove_retention_policy'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.remove_retention_policy(regclass, boolean) IS
	'remove the retention policy of a table';

/* telos.maintenance_job -- the job behind telos.add_maintenance_policy. */
CREATE FUNCTION telos.maintenance_job(job_id integer, config jsonb)
	RETURNS void
	AS 'MODULE_PATHNAME', 'telos_maintenance_job'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.maintenance_job(integer, jsonb) IS
	'job: telos.maintain(hypertable, ahead) -- chunks ahead of now, default partition emptied';

/*
 * telos.add_maintenance_policy -- run telos.maintain(rel, ahead) every
 * schedule: chunks are created ahead of time and the default partition is
 * emptied into proper chunks.
 */
CREATE FUNCTION telos.add_maintenance_policy(
	rel regclass,
	ahead interval DEFAULT '4 weeks',
	schedule interval DEFAULT '1 hour',
	run_as regrole DEFAULT NULL,
	if_not_exists boolean DEFAULT false)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'telos_add_maintenance_policy'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.add_maintenance_policy(regclass, interval, interval, regrole, boolean) IS
	'schedule telos.maintain for a hypertable; returns the job id';

/* telos.remove_maintenance_policy -- delete the maintenance job of rel. */
CREATE FUNCTION telos.remove_maintenance_policy(rel regclass, if_exists boolean DEFAULT false)
	RETURNS void
	AS 'MODULE_PATHNAME', 'telos_remove_maintenance_policy'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.remove_maintenance_policy(regclass, boolean) IS
	'remove the maintenance policy of a hypertable';
