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
