--
-- compress_chunks: telos.compress_chunk / decompress_chunk /
-- recompress_chunk / set_compression. A chunk compressed becomes a foreign
-- table of telos_store with the same name and range; its rows become
-- segment rows (grouped by tenant and metric, ordered by time, at most 1000
-- a segment, with count, time range and value stats) and come back exactly
-- -- through the hypertable and after decompression, with the hypertable's
-- indexes and row-level security; late rows go to the delta table and
-- recompress_chunk merges them. Refusals: the default partition, a table
-- that is not a chunk, a hypertable with a unique index, states that do not
-- fit, roles that may not.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
RESET client_min_messages;
SET timezone = 'UTC';

CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.try(text) TO PUBLIC;

-- Chunks of a hypertable: name, range, state, relkind (no OIDs, no sizes).
CREATE FUNCTION pg_temp.chunks(t regclass)
    RETURNS TABLE(chunk text, range_start timestamptz, state text, relkind "char")
    LANGUAGE sql AS $$
    SELECT c.relid::regclass::text, c.range_start, c.state, k.relkind
      FROM telos.chunk c JOIN pg_class k ON k.oid = c.relid
     WHERE c.hypertable = t ORDER BY c.range_start
$$;

-- Rows of the table named by t that are not in ref, and the other way.
CREATE FUNCTION pg_temp.diff(t text, ref text) RETURNS TABLE(missing bigint, extra bigint, total bigint)
    LANGUAGE plpgsql AS $$
BEGIN
    RETURN QUERY EXECUTE format(
        'SELECT (SELECT count(*) FROM (SELECT * FROM %s EXCEPT ALL SELECT * FROM %s) a),
                (SELECT count(*) FROM (SELECT * FROM %s EXCEPT ALL SELECT * FROM %s) b),
                (SELECT count(*) FROM %s)', ref, t, t, ref, t);
END $$;

CREATE SCHEMA cmp;
CREATE TABLE cmp.m (
    tenant_id   uuid             NOT NULL,
    time        timestamptz      NOT NULL,
    metric_type text             NOT NULL CHECK (length(metric_type) BETWEEN 1 AND 63),
    value       double precision NOT NULL,
    source      uuid,
    ingested_at timestamptz      NOT NULL DEFAULT now()
) PARTITION BY RANGE (time);
CREATE INDEX m_series_idx ON cmp.m (tenant_id, metric_type, time DESC);
CREATE INDEX m_time_idx ON cmp.m (time);
ALTER TABLE cmp.m ENABLE ROW LEVEL SECURITY;
ALTER TABLE cmp.m FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON cmp.m
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
SELECT telos.create_hypertable('cmp.m', 'time', '7 days');
SELECT telos.ensure_chunks('cmp.m', '2024-01-01', '2024-01-14');

-- Week 1: 3 tenants x 4 metrics hourly (168 rows a series), decimal
-- values, every 5th source NULL; one series has 2,500 rows (a reading
-- every 4 minutes), which makes three segments of 1000, 1000 and 500.
-- Week 2 stays a heap chunk.
INSERT INTO cmp.m (tenant_id, time, metric_type, value, source, ingested_at)
SELECT ('00000000-0000-4000-8000-00000000000' || t)::uuid,
       '2024-01-01'::timestamptz + h * interval '1 hour',
       'metric_' || k,
       round((100 * t + k + sin(h) * 50)::numeric, 4)::float8,
       CASE WHEN h % 5 <> 0 THEN ('00000000-0000-4000-9000-00000000000' || k)::uuid END,
       '2024-01-08 01:00'::timestamptz + (h / 24) * interval '1 day'
  FROM generate_series(1, 3) t, generate_series(0, 167) h, generate_series(1, 4) k;
INSERT INTO cmp.m (tenant_id, time, metric_type, value, source, ingested_at)
SELECT '00000000-0000-4000-8000-000000000009', '2024-01-01'::timestamptz + i * interval '4 minutes',
       'fast', i * 0.25, NULL, '2024-01-08 02:00'
  FROM generate_series(0, 2499) i;
INSERT INTO cmp.m (tenant_id, time, metric_type, value)
SELECT '00000000-0000-4000-8000-000000000001', '2024-01-08'::timestamptz + h * interval '1 hour', 'metric_1', h
  FROM generate_series(0, 99) h;
CREATE TABLE cmp.ref AS SELECT * FROM cmp.m;
SELECT * FROM pg_temp.chunks('cmp.m');

-- ---------------------------------------------------------------------
-- compress_chunk
-- ---------------------------------------------------------------------
SELECT telos.compress_chunk('cmp.m_p20240101')::text AS compressed;
SELECT * FROM pg_temp.chunks('cmp.m');

-- The catalog: rows, sizes, the segment and delta tables.
SELECT cc.storage, cc.segments::text, cc.delta::text, cc.row_count,
       cc.heap_bytes > 0 AS heap_bytes, cc.stored_bytes > 0 AS stored_bytes,
       cc.heap_bytes > 5 * cc.stored_bytes AS smaller, cc.file IS NULL AS no_file
  FROM telos.compressed_chunk cc JOIN telos.chunk c ON c.id = cc.chunk_id
 WHERE c.hypertable = 'cmp.m'::regclass;

-- The segment table: segment-by columns, metadata, one blob per other
-- column; owned by the hypertable's owner; its btree index.
SELECT attname, format_type(atttypid, atttypmod) AS type, attnotnull
  FROM pg_attribute WHERE attrelid = '_telos_internal.m_p20240101_seg'::regclass AND attnum > 0
 ORDER BY attnum;
SELECT pg_get_indexdef(indexrelid) FROM pg_index
 WHERE indrelid = '_telos_internal.m_p20240101_seg'::regclass;
SELECT c.relname, pg_get_userbyid(c.relowner) = pg_get_userbyid(h.relowner) AS owner_ok
  FROM pg_class c, pg_class h
 WHERE c.relnamespace = '_telos_internal'::regnamespace AND c.relname LIKE 'm_p20240101%'
   AND c.relkind = 'r' AND h.oid = 'cmp.m'::regclass ORDER BY 1;

-- Segments: grouped by tenant and metric, time ordered, <= 1000 rows,
-- stats of "value".
SELECT tenant_id, metric_type, _telos_count, _telos_min_time, _telos_max_time
  FROM _telos_internal.m_p20240101_seg
 WHERE metric_type = 'fast' OR (tenant_id = '00000000-0000-4000-8000-000000000002' AND metric_type = 'metric_3')
 ORDER BY tenant_id, metric_type, _telos_min_time;
SELECT count(*) AS segments, sum(_telos_count) AS rows, max(_telos_count) AS largest
  FROM _telos_internal.m_p20240101_seg;
SELECT count(*) AS stats_mismatch
  FROM _telos_internal.m_p20240101_seg s
  JOIN LATERAL (SELECT count(*) n, sum(value) s, min(value) lo, max(value) hi, min(time) t0, max(time) t1
                  FROM cmp.ref r
                 WHERE r.tenant_id = s.tenant_id AND r.metric_type = s.metric_type
                   AND r.time BETWEEN s._telos_min_time AND s._telos_max_time) a ON true
 WHERE a.n <> s._telos_count OR abs(a.s - s._telos_sum) > 1e-6 OR a.lo <> s._telos_min
    OR a.hi <> s._telos_max OR a.t0 <> s._telos_min_time OR a.t1 <> s._telos_max_time;

-- Per column: codec and bytes.
SELECT column_name, codec, segments FROM telos.chunk_column_stats('cmp.m_p20240101');

-- The same rows through the hypertable (the FDW), and in each direction.
SELECT * FROM pg_temp.diff('cmp.m', 'cmp.ref');
SELECT * FROM pg_temp.diff('cmp.m_p20240101', '(SELECT * FROM cmp.ref WHERE time < ''2024-01-08'') r');

-- Again: skipped with a notice, or an error.
SELECT telos.compress_chunk('cmp.m_p20240101')::text;
SELECT pg_temp.try($$SELECT telos.compress_chunk('cmp.m_p20240101', if_not_compressed => false)$$);

-- ---------------------------------------------------------------------
-- Late rows, recompress_chunk
-- ---------------------------------------------------------------------
-- Through the hypertable, as a tenant (RLS WITH CHECK applies to the
-- parent): the rows go to the delta table.
SET app.current_tenant_id = '00000000-0000-4000-8000-000000000002';
INSERT INTO cmp.m (tenant_id, time, metric_type, value, ingested_at)
VALUES ('00000000-0000-4000-8000-000000000002', '2024-01-03 12:30', 'metric_3', 42.5, '2024-01-20'),
       ('00000000-0000-4000-8000-000000000002', '2024-01-07 23:59:59', 'late_metric', -1, '2024-01-20');
RESET app.current_tenant_id;
INSERT INTO cmp.ref (tenant_id, time, metric_type, value, ingested_at)
VALUES ('00000000-0000-4000-8000-000000000002', '2024-01-03 12:30', 'metric_3', 42.5, '2024-01-20'),
       ('00000000-0000-4000-8000-000000000002', '2024-01-07 23:59:59', 'late_metric', -1, '2024-01-20');
SELECT count(*) AS delta_rows FROM _telos_internal.m_p20240101_delta;
SELECT * FROM pg_temp.diff('cmp.m', 'cmp.ref');

SELECT telos.recompress_chunk('cmp.m_p20240101') AS merged;
SELECT count(*) AS delta_rows FROM _telos_internal.m_p20240101_delta;
SELECT cc.segments::text, cc.row_count FROM telos.compressed_chunk cc
  JOIN telos.chunk c ON c.id = cc.chunk_id WHERE c.relid = 'cmp.m_p20240101'::regclass;
SELECT tenant_id, metric_type, _telos_count FROM _telos_internal.m_p20240101_seg
 WHERE tenant_id = '00000000-0000-4000-8000-000000000002' AND metric_type IN ('metric_3', 'late_metric')
 ORDER BY 2;
SELECT * FROM pg_temp.diff('cmp.m', 'cmp.ref');
-- Nothing to merge: nothing rewritten.
SELECT telos.recompress_chunk('cmp.m_p20240101') AS merged;
SELECT count(*) FROM pg_class WHERE relnamespace = '_telos_internal'::regnamespace
   AND relname LIKE 'm_p20240101%' AND relkind = 'r';

-- ---------------------------------------------------------------------
-- decompress_chunk
-- ---------------------------------------------------------------------
-- One more late row: it must come back too.
INSERT INTO cmp.m (tenant_id, time, metric_type, value, ingested_at)
VALUES ('00000000-0000-4000-8000-000000000003', '2024-01-01', 'metric_1', 7, '2024-01-21');
INSERT INTO cmp.ref (tenant_id, time, metric_type, value, ingested_at)
VALUES ('00000000-0000-4000-8000-000000000003', '2024-01-01', 'metric_1', 7, '2024-01-21');
SELECT telos.decompress_chunk('cmp.m_p20240101')::text AS decompressed;
SELECT * FROM pg_temp.chunks('cmp.m');
SELECT count(*) AS catalog_rows FROM telos.compressed_chunk cc JOIN telos.chunk c ON c.id = cc.chunk_id
 WHERE c.hypertable = 'cmp.m'::regclass;
SELECT count(*) AS internal_tables FROM pg_class
 WHERE relnamespace = '_telos_internal'::regnamespace AND relname LIKE 'm_p20240101%';
SELECT * FROM pg_temp.diff('cmp.m', 'cmp.ref');
-- The hypertable's indexes (named as chunks' indexes are) and RLS.
SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'cmp.m_p20240101'::regclass ORDER BY 1;
SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'cmp.m_p20240101'::regclass;
SELECT policyname, qual FROM pg_policies WHERE schemaname = 'cmp' AND tablename = 'm_p20240101';
-- Decompressing a heap chunk: skipped, or an error.
SELECT telos.decompress_chunk('cmp.m_p20240101')::text;
SELECT pg_temp.try($$SELECT telos.decompress_chunk('cmp.m_p20240101', if_compressed => false)$$);
SELECT pg_temp.try($$SELECT telos.recompress_chunk('cmp.m_p20240101')$$);

-- Round trip again: same rows.
SELECT telos.compress_chunk('cmp.m_p20240101')::text;
SELECT * FROM pg_temp.diff('cmp.m', 'cmp.ref');
SELECT telos.decompress_chunk('cmp.m_p20240101')::text;
SELECT * FROM pg_temp.diff('cmp.m', 'cmp.ref');

-- ---------------------------------------------------------------------
-- set_compression
-- ---------------------------------------------------------------------
SELECT * FROM telos.compression_settings WHERE hypertable = 'cmp.m'::regclass;
SELECT telos.set_compression('cmp.m');
SELECT hypertable::text, segmentby, orderby, stats_column FROM telos.compression_settings;
SELECT telos.set_compression('cmp.m', segmentby => '{metric_type}', stats_column => '');
SELECT hypertable::text, segmentby, orderby, stats_column FROM telos.compression_settings;
SELECT telos.compress_chunk('cmp.m_p20240101')::text;
SELECT metric_type, count(*), sum(_telos_count), bool_and(_telos_sum IS NULL) AS no_stats
  FROM _telos_internal.m_p20240101_seg GROUP BY 1 ORDER BY 1;
SELECT * FROM pg_temp.diff('cmp.m', 'cmp.ref');
SELECT telos.decompress_chunk('cmp.m_p20240101')::text;
-- No segment-by column at all: one group, segments of 1000 rows.
SELECT telos.set_compression('cmp.m', segmentby => '{}');
SELECT telos.compress_chunk('cmp.m_p20240101')::text;
SELECT _telos_count FROM _telos_internal.m_p20240101_seg ORDER BY _telos_min_time;
SELECT * FROM pg_temp.diff('cmp.m', 'cmp.ref');
SELECT telos.decompress_chunk('cmp.m_p20240101')::text;
SELECT telos.set_compression('cmp.m');

SELECT pg_temp.try($$SELECT telos.set_compression('cmp.m', segmentby => '{nope}')$$);
SELECT pg_temp.try($$SELECT telos.set_compression('cmp.m', segmentby => '{time}')$$);
SELECT pg_temp.try($$SELECT telos.set_compression('cmp.m', segmentby => '{tenant_id,tenant_id}')$$);
SELECT pg_temp.try($$SELECT telos.set_compression('cmp.m', segmentby => '{tenant_id,NULL}')$$);
SELECT pg_temp.try($$SELECT telos.set_compression('cmp.m', stats_column => 'metric_type')$$);
SELECT pg_temp.try($$SELECT telos.set_compression('cmp.m', segmentby => '{value}', stats_column => 'value')$$);
SELECT pg_temp.try($$SELECT telos.set_compression('cmp.ref')$$);

-- ---------------------------------------------------------------------
-- Refusals
-- ---------------------------------------------------------------------
SELECT pg_temp.try($$SELECT telos.compress_chunk('cmp.m_default')$$);
SELECT pg_temp.try($$SELECT telos.compress_chunk('cmp.ref')$$);
SELECT pg_temp.try($$SELECT telos.compress_chunk('cmp.m')$$);
SELECT pg_temp.try($$SELECT telos.compress_chunk(NULL)$$);
SELECT pg_temp.try($$SELECT telos.compress_chunk('cmp.m_p20240108', NULL)$$);
SELECT pg_temp.try($$SELECT telos.decompress_chunk('cmp.ref')$$);

CREATE TABLE cmp.u (id int, time timestamptz NOT NULL, UNIQUE (id, time)) PARTITION BY RANGE (time);
SELECT telos.create_hypertable('cmp.u', 'time');
SELECT telos.ensure_chunks('cmp.u', '2024-01-01', '2024-01-01');
SELECT pg_temp.try($$SELECT telos.compress_chunk('cmp.u_p20240101')$$);
SELECT * FROM pg_temp.chunks('cmp.u');

-- Who may: the owner; a role with SELECT, INSERT, DELETE and BYPASSRLS;
-- not a role that is subject to the row-level security.
CREATE ROLE compress_tenant;
CREATE ROLE compress_worker BYPASSRLS;
GRANT USAGE ON SCHEMA cmp TO compress_tenant, compress_worker;
GRANT SELECT, INSERT, DELETE ON cmp.m TO compress_tenant, compress_worker;
SET ROLE compress_tenant;
SELECT pg_temp.try($$SELECT telos.compress_chunk('cmp.m_p20240101')$$);
SELECT pg_temp.try($$SELECT telos.set_compression('cmp.m')$$);
RESET ROLE;
SET ROLE compress_worker;
SELECT telos.compress_chunk('cmp.m_p20240101')::text;
SELECT telos.recompress_chunk('cmp.m_p20240101');
SELECT telos.decompress_chunk('cmp.m_p20240101')::text;
RESET ROLE;
SELECT * FROM pg_temp.chunks('cmp.m');
SELECT * FROM pg_temp.diff('cmp.m', 'cmp.ref');

-- ---------------------------------------------------------------------
-- Dropping a compressed chunk drops its segment and delta tables and its
-- catalog row; drop_chunks drops compressed chunks too.
-- ---------------------------------------------------------------------
SELECT telos.compress_chunk('cmp.m_p20240101')::text;
SELECT telos.compress_chunk('cmp.m_p20240108')::text;
DROP FOREIGN TABLE cmp.m_p20240108;
SELECT count(*) AS internal_tables FROM pg_class
 WHERE relnamespace = '_telos_internal'::regnamespace AND relname LIKE 'm_p20240108%';
SELECT c.state, cc.chunk_id IS NULL AS no_catalog_row
  FROM telos.chunk c LEFT JOIN telos.compressed_chunk cc ON cc.chunk_id = c.id
 WHERE c.hypertable = 'cmp.m'::regclass AND c.range_start = '2024-01-08';
SELECT count(*) FROM telos.drop_chunks('cmp.m', '2024-01-08');
SELECT * FROM pg_temp.chunks('cmp.m');
SELECT count(*) AS internal_tables FROM pg_class
 WHERE relnamespace = '_telos_internal'::regnamespace AND relname LIKE 'm_p2024010%';
SELECT count(*) AS catalog_rows FROM telos.compressed_chunk cc JOIN telos.chunk c ON c.id = cc.chunk_id
 WHERE c.hypertable = 'cmp.m'::regclass;

-- Dropping the hypertable drops everything.
SELECT telos.ensure_chunks('cmp.m', '2024-01-15', '2024-01-15');
INSERT INTO cmp.m (tenant_id, time, metric_type, value)
VALUES ('00000000-0000-4000-8000-000000000001', '2024-01-16', 'x', 1);
SELECT telos.compress_chunk('cmp.m_p20240115')::text;
SELECT count(*) AS internal_tables FROM pg_class
 WHERE relnamespace = '_telos_internal'::regnamespace AND relname LIKE 'm_p20240115%';
DROP SCHEMA cmp CASCADE;
SELECT count(*) AS internal_tables FROM pg_class
 WHERE relnamespace = '_telos_internal'::regnamespace AND relname LIKE 'm_p2024%';
DROP ROLE compress_tenant;
DROP ROLE compress_worker;
