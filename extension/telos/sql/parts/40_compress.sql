/*
 * 40_compress.sql -- compressed chunks (since 0.3.0; module "compress":
 * src/compress*.c, src/colblob.c, src/chunk_swap.c).
 *
 * A compressed chunk keeps its rows as segment rows -- up to 1000 rows of
 * one combination of segment-by values, ordered by time, each column
 * encoded as one bytea (a column blob) -- in a segment table of schema
 * _telos_internal. The chunk itself becomes a foreign table of server
 * telos_store (sql/parts/45_fdw.sql) attached to the hypertable in place of
 * the heap table, so queries, partition pruning and row-level security of
 * the hypertable stay as they were. Rows written into a compressed range go
 * to the chunk's delta table; recompress_chunk merges them into segments.
 */

/*
 * Segment and delta tables. Nobody but the engine (C functions switching to
 * the tables' owner) reaches them: no USAGE for PUBLIC, so even the
 * hypertable's owner, who owns them, reads the rows only through the
 * chunk's foreign table, where the hypertable's row-level security applies.
 */
CREATE SCHEMA _telos_internal;
REVOKE ALL ON SCHEMA _telos_internal FROM PUBLIC;

COMMENT ON SCHEMA _telos_internal IS
	'segment and delta tables of compressed chunks (telos engine, not for direct use)';

/*
 * How a hypertable's chunks are compressed. Without a row, the defaults:
 * segment by those of tenant_id and metric_type that exist, order by the
 * time column, stats of column "value" when it is double precision.
 */
CREATE TABLE telos.compression_settings (
	hypertable   regclass PRIMARY KEY REFERENCES telos.hypertable ON DELETE CASCADE,
	segmentby    name[]   NOT NULL,
	-- The time column (the partition key); segments are ordered by it.
	orderby      name     NOT NULL,
	-- A double precision column whose sum/min/max each segment stores.
	stats_column name
);

COMMENT ON TABLE telos.compression_settings IS
	'segment-by columns, order and stats column of the compressed chunks of a hypertable';

/*
 * One row per compressed (storage 'table') or archived (storage 'file')
 * chunk. Sizes are what the chunk took before (heap, TOAST and indexes) and
 * what its compressed form stores (segment table with TOAST and index, or
 * the archive file).
 */
CREATE TABLE telos.compressed_chunk (
	chunk_id      bigint      PRIMARY KEY REFERENCES telos.chunk ON DELETE CASCADE,
	storage       text        NOT NULL CHECK (storage IN ('table', 'file')),
	segments      regclass,
	-- storage 'file': path relative to telos.archive_directory.
	file          text,
	file_bytes    bigint,
	file_checksum text,
	delta         regclass    NOT NULL,
	row_count     bigint,
	heap_bytes    bigint,
	stored_bytes  bigint,
	compressed_at timestamptz NOT NULL DEFAULT now(),
	-- The hypertable's columns when the rows were compressed, as
	-- [{"attnum", "name", "type"}]: segment columns are found by name and
	-- decoded by type, so telos.on_ddl_compressed refuses changes to them.
	columns       jsonb,
	CHECK (storage <> 'table' OR segments IS NOT NULL),
	CHECK (storage <> 'file' OR file IS NOT NULL)
);

COMMENT ON TABLE telos.compressed_chunk IS
	'compressed and archived chunks: where their segment rows and late rows are, row count and sizes';

REVOKE ALL ON telos.compression_settings, telos.compressed_chunk FROM PUBLIC;
GRANT SELECT ON telos.compression_settings, telos.compressed_chunk TO PUBLIC;

SELECT pg_catalog.pg_extension_config_dump('telos.compression_settings', '');
SELECT pg_catalog.pg_extension_config_dump('telos.compressed_chunk', '');

/*
 * telos.set_compression -- set how rel's chunks will be compressed
 * (segmentby NULL: the default; stats_column NULL: the default, '' none).
 * Chunks compressed earlier keep their layout until recompressed.
 */
CREATE FUNCTION telos.set_compression(rel regclass, segmentby name[] DEFAULT NULL,
		stats_column name DEFAULT NULL)
	RETURNS void
	AS 'MODULE_PATHNAME', 'telos_set_compression'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.set_compression(regclass, name[], name) IS
	'set the segment-by columns and the stats column of the compressed chunks of a hypertable';

CREATE FUNCTION telos.compress_chunk(chunk regclass, if_not_compressed boolean DEFAULT true)
	RETURNS regclass
	AS 'MODULE_PATHNAME', 'telos_compress_chunk'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.compress_chunk(regclass, boolean) IS
	'compress a chunk: its rows become segment rows, the chunk a foreign table over them';

CREATE FUNCTION telos.decompress_chunk(chunk regclass, if_compressed boolean DEFAULT true)
	RETURNS regclass
	AS 'MODULE_PATHNAME', 'telos_decompress_chunk'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.decompress_chunk(regclass, boolean) IS
	'decompress a chunk back into a heap table with the hypertable''s indexes';

CREATE FUNCTION telos.recompress_chunk(chunk regclass)
	RETURNS bigint
	AS 'MODULE_PATHNAME', 'telos_recompress_chunk'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.recompress_chunk(regclass) IS
	'merge the late rows of a compressed chunk into its segments; returns the rows merged';

/*
 * telos.chunk_column_stats -- per column of a compressed chunk: the codec
 * most of its segments use, bytes stored (column blobs) and segments.
 */
CREATE FUNCTION telos.chunk_column_stats(chunk regclass,
		OUT column_name name, OUT codec text, OUT bytes bigint, OUT segments bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'telos_chunk_column_stats'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.chunk_column_stats(regclass) IS
	'stored bytes and codec of each column of a compressed chunk';

/*
 * Keeps telos.compressed_chunk in step with DROP: the segment and delta
 * tables of a chunk are dropped with its foreign table (they depend on it),
 * and the row goes with them. PL/pgSQL and SECURITY DEFINER for the reasons
 * given at telos.on_sql_drop.
 */
CREATE FUNCTION telos.on_sql_drop_compressed()
	RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF to_regclass('telos.compressed_chunk') IS NULL THEN
		RETURN;
	END IF;
	DELETE FROM telos.compressed_chunk cc
	 USING pg_event_trigger_dropped_objects() d
	 WHERE d.classid = 'pg_class'::regclass AND d.objsubid = 0
	   AND (cc.segments = d.objid::regclass OR cc.delta = d.objid::regclass);
END
$$;

REVOKE EXECUTE ON FUNCTION telos.on_sql_drop_compressed() FROM PUBLIC;

CREATE EVENT TRIGGER telos_on_sql_drop_compressed ON sql_drop
	EXECUTE FUNCTION telos.on_sql_drop_compressed();

/*
 * Compressed rows are stored by column name and decoded by column type: a
 * column of a hypertable with compressed (or archived) chunks must not be
 * renamed nor change type, and a column added with a default would read as
 * NULL in those rows. This trigger refuses such an ALTER TABLE (the
 * transaction rolls back) with a hint to decompress the chunks first.
 * Dropping a column and adding one without a default are fine; the delta
 * tables of the chunks are brought in line with the hypertable's columns.
 */
CREATE FUNCTION telos.on_ddl_compressed()
	RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	cmd record;
	bad record;
	d record;
	c record;
BEGIN
	IF to_regclass('telos.compressed_chunk') IS NULL THEN
		RETURN;
	END IF;
	FOR cmd IN SELECT DISTINCT objid FROM pg_event_trigger_ddl_commands()
	            WHERE classid = 'pg_class'::regclass LOOP
		SELECT ch.relid::regclass AS chunk, col.name, a.attname AS now_name,
		       col.type, a.atttypid::regtype::text AS now_type, false AS added
		  INTO bad
		  FROM telos.compressed_chunk cc
		  JOIN telos.chunk ch ON ch.id = cc.chunk_id
		 CROSS JOIN LATERAL jsonb_to_recordset(cc.columns) AS col(attnum int, name name, type text)
		  JOIN pg_attribute a ON a.attrelid = ch.hypertable AND a.attnum = col.attnum
		 WHERE ch.hypertable = cmd.objid::regclass AND NOT a.attisdropped
		   AND (a.attname <> col.name OR a.atttypid::regtype::text <> col.type)
		 LIMIT 1;
		IF NOT FOUND THEN
			SELECT ch.relid::regclass AS chunk, a.attname AS name, a.attname AS now_name,
			       NULL::text AS type, NULL::text AS now_type, true AS added
			  INTO bad
			  FROM telos.compressed_chunk cc
			  JOIN telos.chunk ch ON ch.id = cc.chunk_id
			  JOIN pg_attribute a ON a.attrelid = ch.hypertable
			 WHERE ch.hypertable = cmd.objid::regclass AND cc.columns IS NOT NULL
			   AND a.attnum > 0 AND NOT a.attisdropped AND a.atthasdef
			   AND NOT EXISTS (SELECT 1 FROM jsonb_to_recordset(cc.columns) AS col(attnum int)
			                    WHERE col.attnum = a.attnum)
			 LIMIT 1;
		END IF;
		IF FOUND THEN
			IF bad.added THEN
				RAISE EXCEPTION 'cannot add column "%" with a default to "%": chunk % is compressed',
					bad.name, cmd.objid::regclass, bad.chunk
					USING ERRCODE = 'feature_not_supported',
					      DETAIL = 'Its compressed rows would read NULL, not the default.',
					      HINT = 'Add the column without a default, or decompress the compressed chunks first (telos.decompress_chunk).';
			ELSIF bad.name <> bad.now_name THEN
				RAISE EXCEPTION 'cannot rename column "%" of "%": chunk % is compressed',
					bad.name, cmd.objid::regclass, bad.chunk
					USING ERRCODE = 'feature_not_supported',
					      DETAIL = 'Compressed rows find their columns by name.',
					      HINT = 'Decompress the compressed chunks first (telos.decompress_chunk).';
			ELSE
				RAISE EXCEPTION 'cannot change the type of column "%" of "%": chunk % is compressed',
					bad.name, cmd.objid::regclass, bad.chunk
					USING ERRCODE = 'feature_not_supported',
					      DETAIL = format('Its compressed values are of type %s.', bad.type),
					      HINT = 'Decompress the compressed chunks first (telos.decompress_chunk).';
			END IF;
		END IF;

		-- The delta tables follow the hypertable's columns (they are no
		-- partitions, ALTER TABLE does not reach them).
		FOR d IN SELECT cc.delta FROM telos.compressed_chunk cc JOIN telos.chunk ch ON ch.id = cc.chunk_id
		          WHERE ch.hypertable = cmd.objid::regclass LOOP
			FOR c IN SELECT a.attname FROM pg_attribute a
			            WHERE a.attrelid = d.delta AND a.attnum > 0 AND NOT a.attisdropped
			              AND NOT EXISTS (SELECT 1 FROM pg_attribute h
			                               WHERE h.attrelid = cmd.objid AND h.attnum > 0
			                                 AND NOT h.attisdropped AND h.attname = a.attname) LOOP
				EXECUTE format('ALTER TABLE %s DROP COLUMN %I', d.delta, c.attname);
			END LOOP;
			FOR c IN SELECT h.attname, format_type(h.atttypid, h.atttypmod) AS typ, a.attnum IS NULL AS missing
			             FROM pg_attribute h
			             LEFT JOIN pg_attribute a ON a.attrelid = d.delta AND a.attname = h.attname
			                                     AND a.attnum > 0 AND NOT a.attisdropped
			            WHERE h.attrelid = cmd.objid AND h.attnum > 0 AND NOT h.attisdropped
			              AND (a.attnum IS NULL OR a.atttypid <> h.atttypid OR a.atttypmod <> h.atttypmod)
			            ORDER BY h.attnum LOOP
				IF c.missing THEN
					EXECUTE format('ALTER TABLE %s ADD COLUMN %I %s', d.delta, c.attname, c.typ);
				ELSE
					EXECUTE format('ALTER TABLE %s ALTER COLUMN %I TYPE %s', d.delta, c.attname, c.typ);
				END IF;
			END LOOP;
		END LOOP;
	END LOOP;
END
$$;

REVOKE EXECUTE ON FUNCTION telos.on_ddl_compressed() FROM PUBLIC;

CREATE EVENT TRIGGER telos_on_ddl_compressed ON ddl_command_end
	WHEN TAG IN ('ALTER TABLE')
	EXECUTE FUNCTION telos.on_ddl_compressed();
