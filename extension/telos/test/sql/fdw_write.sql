--
-- fdw_write: writing into a compressed chunk. INSERT (one row, many rows,
-- RETURNING, ON CONFLICT DO NOTHING) and COPY through the hypertable, and
-- into the chunk itself, put the rows in the chunk's delta table, where
-- scans find them after the segments; rows outside the chunk's range and
-- rows breaking NOT NULL or CHECK are refused; UPDATE and DELETE reaching
-- the chunk fail at plan time with a hint; an UPDATE may move a row into
-- the compressed range. The rollups' invalidation triggers (transition
-- tables on the hypertable) see rows written into the compressed range.
-- recompress_chunk and decompress_chunk keep every row.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
RESET client_min_messages;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
CREATE FUNCTION pg_temp.analyze(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
    FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
        RETURN NEXT l;
    END LOOP;
END $$;

CREATE SCHEMA fw;
CREATE TABLE fw.raw (
    tenant_id   uuid        NOT NULL,
    time        timestamptz NOT NULL,
    metric_type text        NOT NULL,
    value       float8      CHECK (value >= 0),
    source      uuid,
    ingested_at timestamptz DEFAULT '2024-02-01 00:00+00'
) PARTITION BY RANGE (time);
SELECT telos.create_hypertable('fw.raw', 'time');
SELECT telos.ensure_chunks('fw.raw', '2024-01-08', '2024-01-21');
-- Rollups of fw.raw: the statement triggers that log changed ranges.
CREATE TABLE fw.agg (
    tenant_id uuid NOT NULL, metric_type text NOT NULL, bucket_width text NOT NULL,
    bucket timestamptz NOT NULL, count bigint NOT NULL, sum float8 NOT NULL,
    min float8 NOT NULL, max float8 NOT NULL, first float8 NOT NULL, last float8 NOT NULL,
    PRIMARY KEY (tenant_id, metric_type, bucket_width, bucket));
CREATE TABLE fw.defs (tenant_id uuid, metric_type text, aggregation text, calculation_formula text);
CREATE FUNCTION fw.zone(uuid) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'UTC' $$;
SELECT telos.add_rollup_policy('fw.raw', 'fw.agg', 'fw.defs', 'fw.zone(uuid)', schedule => NULL);

INSERT INTO fw.raw (tenant_id, time, metric_type, value)
SELECT t, '2024-01-08'::timestamptz + g * interval '1 hour', 'cpu', g
  FROM generate_series(0, 335) g,
       unnest(ARRAY['00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-00000000000b']::uuid[]) t;
SELECT telos.refresh_rollups('fw.raw') > 0 AS refreshed;
SELECT count(*) AS pending FROM telos.invalidation WHERE raw = 'fw.raw'::regclass;
SELECT telos.compress_chunk(c.chunk)::text AS chunk
  FROM telos.chunks c WHERE c.hypertable = 'fw.raw'::regclass AND c.range_start = '2024-01-08';
SELECT c.chunk AS chunk, cc.delta AS delta
  FROM telos.chunks c JOIN telos.chunk k ON k.relid = c.chunk
  JOIN telos.compressed_chunk cc ON cc.chunk_id = k.id
 WHERE c.hypertable = 'fw.raw'::regclass AND c.state = 'compressed' \gset
SELECT count(*) AS pending FROM telos.invalidation WHERE raw = 'fw.raw'::regclass;

-- ---------------------------------------------------------------------------
-- INSERT through the hypertable: the compressed range's rows go to the
-- delta table, the others to their heap chunk; both are logged for the
-- rollups.
-- ---------------------------------------------------------------------------
INSERT INTO fw.raw (tenant_id, time, metric_type, value) VALUES
    ('00000000-0000-0000-0000-00000000000a', '2024-01-09 10:30', 'cpu', 0.5),
    ('00000000-0000-0000-0000-00000000000b', '2024-01-10 11:00', 'mem', 6),
    ('00000000-0000-0000-0000-00000000000a', '2024-01-16 00:00', 'cpu', 7);
SELECT count(*) AS delta_rows FROM :delta;
SELECT tenant_id, metric_types, lo, hi FROM telos.invalidation
 WHERE raw = 'fw.raw'::regclass ORDER BY lo, tenant_id;
SELECT tenant_id, time, metric_type, value, ingested_at FROM fw.raw
 WHERE time BETWEEN '2024-01-09 10:00' AND '2024-01-10 11:00' AND (value = 0.5 OR metric_type = 'mem')
 ORDER BY time;
SELECT * FROM pg_temp.analyze($$SELECT count(*) FROM fw.raw WHERE time < '2024-01-15'$$);
SELECT count(*) FROM fw.raw WHERE time < '2024-01-15';
-- The delta rows obey the time bounds and segment keys like the others.
SELECT count(*) FROM fw.raw WHERE time >= '2024-01-10 11:00' AND time < '2024-01-10 11:00:01';
SELECT count(*) FROM fw.raw WHERE metric_type = 'mem';
SELECT telos.refresh_rollups('fw.raw') > 0 AS refreshed;
SELECT bucket, count, sum FROM fw.agg
 WHERE tenant_id = '00000000-0000-0000-0000-00000000000a' AND bucket_width = 'hour'
   AND bucket = '2024-01-09 10:00';

-- Many rows at once (batched), and RETURNING (row by row).
INSERT INTO fw.raw (tenant_id, time, metric_type, value)
SELECT '00000000-0000-0000-0000-00000000000c', '2024-01-11'::timestamptz + g * interval '1 min', 'disk', g
  FROM generate_series(1, 1234) g;
SELECT count(*), sum(value) FROM fw.raw WHERE tenant_id = '00000000-0000-0000-0000-00000000000c';
INSERT INTO fw.raw (tenant_id, time, metric_type, value)
VALUES ('00000000-0000-0000-0000-00000000000c', '2024-01-12 00:00:30', 'net', 1)
RETURNING tenant_id, time, metric_type, value, ingested_at;
SELECT tenant_id, metric_types, lo, hi FROM telos.invalidation
 WHERE raw = 'fw.raw'::regclass ORDER BY lo, tenant_id;

-- COPY through the hypertable, across the compressed and the heap chunk.
COPY fw.raw (tenant_id, time, metric_type, value) FROM stdin;
00000000-0000-0000-0000-00000000000d	2024-01-13 05:00:00+00	cpu	1
00000000-0000-0000-0000-00000000000d	2024-01-13 06:00:00+00	cpu	2
00000000-0000-0000-0000-00000000000d	2024-01-20 06:00:00+00	cpu	3
\.
SELECT time, value FROM fw.raw WHERE tenant_id = '00000000-0000-0000-0000-00000000000d' ORDER BY time;
SELECT tenant_id, metric_types, lo, hi FROM telos.invalidation
 WHERE raw = 'fw.raw'::regclass AND tenant_id = '00000000-0000-0000-0000-00000000000d';

-- ---------------------------------------------------------------------------
-- Into the chunk itself: its range is checked (nothing routes the row).
-- ---------------------------------------------------------------------------
SELECT pg_temp.err(format($$INSERT INTO %s (tenant_id, time, metric_type, value)
    VALUES ('00000000-0000-0000-0000-00000000000e', '2024-01-14 23:59:59.999999', 'cpu', 1)$$, :'chunk'));
SELECT pg_temp.err(format($$INSERT INTO %s (tenant_id, time, metric_type, value)
    VALUES ('00000000-0000-0000-0000-00000000000e', '2024-01-15 00:00', 'cpu', 1)$$, :'chunk'));
SELECT pg_temp.err(format($$INSERT INTO %s (tenant_id, time, metric_type, value)
    VALUES ('00000000-0000-0000-0000-00000000000e', '2024-01-07 23:59:59.999999', 'cpu', 1)$$, :'chunk'));
SELECT pg_temp.err(format($$COPY %s (tenant_id, time, metric_type, value) FROM PROGRAM 'echo 00000000-0000-0000-0000-00000000000e,2024-02-01,cpu,1' (FORMAT csv)$$, :'chunk'));
SELECT pg_temp.err(format($$COPY %s (tenant_id, time, metric_type, value) FROM PROGRAM 'echo 00000000-0000-0000-0000-00000000000e,2024-01-08,cpu,1' (FORMAT csv)$$, :'chunk'));
-- Many rows into the chunk (batched): all or nothing. RETURNING.
SELECT pg_temp.err(format($$INSERT INTO %s (tenant_id, time, metric_type, value)
    SELECT '00000000-0000-0000-0000-00000000000e', '2024-01-14'::timestamptz + g * interval '1 min', 'cpu', g
      FROM generate_series(0, 1440) g$$, :'chunk'));
SELECT count(*), min(time), max(time) FROM fw.raw
 WHERE tenant_id = '00000000-0000-0000-0000-00000000000e' AND time >= '2024-01-14';
SELECT pg_temp.err(format($$INSERT INTO %s (tenant_id, time, metric_type, value)
    SELECT '00000000-0000-0000-0000-00000000000e', '2024-01-09'::timestamptz + g * interval '1 min', 'cpu', g
      FROM generate_series(1, 250) g$$, :'chunk'));
INSERT INTO :chunk (tenant_id, time, metric_type, value)
VALUES ('00000000-0000-0000-0000-00000000000e', '2024-01-13 13:13', 'io', 13)
RETURNING tenant_id, time, metric_type, value, ingested_at;
-- ON CONFLICT DO NOTHING (no unique index: nothing conflicts).
INSERT INTO fw.raw (tenant_id, time, metric_type, value)
VALUES ('00000000-0000-0000-0000-00000000000e', '2024-01-13 13:13', 'io', 13)
ON CONFLICT DO NOTHING;
SELECT time, value FROM fw.raw WHERE metric_type = 'io' ORDER BY time;
SELECT count(*), min(time), max(time) FROM fw.raw
 WHERE tenant_id = '00000000-0000-0000-0000-00000000000e' AND time < '2024-01-14';
-- Constraints hold as for a heap chunk.
SELECT pg_temp.err($$INSERT INTO fw.raw (tenant_id, time, metric_type, value)
    VALUES ('00000000-0000-0000-0000-00000000000e', '2024-01-09', NULL, 1)$$);
SELECT pg_temp.err($$INSERT INTO fw.raw (tenant_id, time, metric_type, value)
    VALUES ('00000000-0000-0000-0000-00000000000e', '2024-01-09', 'cpu', -1)$$);
SELECT pg_temp.err($$INSERT INTO fw.raw (tenant_id, time, metric_type, value)
    SELECT '00000000-0000-0000-0000-00000000000e', '2024-01-09'::timestamptz + g * interval '1 s', 'cpu', 150 - g
      FROM generate_series(1, 200) g$$);
SELECT count(*) FROM fw.raw WHERE tenant_id = '00000000-0000-0000-0000-00000000000e';

-- ---------------------------------------------------------------------------
-- UPDATE and DELETE that reach the compressed chunk fail before running;
-- the hint says how to proceed. Those that partition pruning keeps away
-- from it work, and an UPDATE may move a row into the compressed range.
-- ---------------------------------------------------------------------------
UPDATE fw.raw SET value = 0 WHERE time < '2024-01-15';
DELETE FROM fw.raw WHERE tenant_id = '00000000-0000-0000-0000-00000000000a';
SELECT pg_temp.err(format('DELETE FROM %s', :'chunk'));
SELECT pg_temp.err(format('TRUNCATE %s', :'chunk'));
TRUNCATE fw.raw;
DELETE FROM fw.raw WHERE time >= '2024-01-20' AND tenant_id = '00000000-0000-0000-0000-00000000000d';
UPDATE fw.raw SET time = '2024-01-09 10:45' WHERE time = '2024-01-16 00:00' AND value = 7;
SELECT time, value FROM fw.raw WHERE value = 7 AND metric_type = 'cpu'
   AND tenant_id = '00000000-0000-0000-0000-00000000000a';
SELECT count(*) AS delta_rows FROM :delta;

-- ---------------------------------------------------------------------------
-- recompress merges the delta into the segments; decompress brings every
-- row back to a heap chunk.
-- ---------------------------------------------------------------------------
CREATE TABLE fw.before AS SELECT * FROM fw.raw;
SELECT telos.recompress_chunk(:'chunk');
SELECT c.chunk AS chunk, cc.delta AS delta
  FROM telos.chunks c JOIN telos.chunk k ON k.relid = c.chunk
  JOIN telos.compressed_chunk cc ON cc.chunk_id = k.id
 WHERE c.hypertable = 'fw.raw'::regclass AND c.state = 'compressed' \gset
SELECT count(*) AS delta_rows FROM :delta;
SELECT (SELECT count(*) FROM (SELECT * FROM fw.raw EXCEPT ALL SELECT * FROM fw.before) x) AS extra,
       (SELECT count(*) FROM (SELECT * FROM fw.before EXCEPT ALL SELECT * FROM fw.raw) x) AS missing;
SELECT telos.decompress_chunk(:'chunk')::text;
SELECT (SELECT count(*) FROM (SELECT * FROM fw.raw EXCEPT ALL SELECT * FROM fw.before) x) AS extra,
       (SELECT count(*) FROM (SELECT * FROM fw.before EXCEPT ALL SELECT * FROM fw.raw) x) AS missing;

SELECT telos.remove_rollup_policy('fw.raw');
DROP SCHEMA fw CASCADE;
