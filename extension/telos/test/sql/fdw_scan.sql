--
-- fdw_scan: reading a compressed chunk through telos_fdw. The full result
-- set of a compressed chunk equals the heap chunk's, bit for bit (NULLs in
-- every nullable column, NaN, infinities, -0, odd types, a column dropped
-- before compression so the chunk's attnums differ from the hypertable's);
-- segment-by equality and time bounds are pushed down (constants, stable
-- expressions, $params) and skip whole segments, visible in EXPLAIN;
-- rescans (correlated subqueries, nested loops) re-evaluate the keys;
-- damaged segments give ERRCODE_DATA_CORRUPTED, never rows.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
RESET client_min_messages;
SET timezone = 'UTC';

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

-- The plan of a query without the chunk OIDs in names (none are printed).
CREATE FUNCTION pg_temp.plan(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
    FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP
        RETURN NEXT l;
    END LOOP;
END $$;
CREATE FUNCTION pg_temp.analyze(q text) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE l text;
BEGIN
    FOR l IN EXECUTE 'EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ' || q LOOP
        RETURN NEXT l;
    END LOOP;
END $$;

CREATE SCHEMA fdw;
CREATE TABLE fdw.m (
    tenant_id   uuid        NOT NULL,
    time        timestamptz NOT NULL,
    metric_type text,
    value       float8,
    source      uuid,
    ingested_at timestamptz,
    gone        int,
    i2 int2, i4 int4, i8 int8, f4 float4, flag bool, n numeric, d date, js jsonb,
    note text, raw bytea, arr int[], iv interval, ch char(3), vc varchar(10)
) PARTITION BY RANGE (time);
-- A dropped column: the chunk made at compression has other attnums.
ALTER TABLE fdw.m DROP COLUMN gone;
SELECT telos.create_hypertable('fdw.m', 'time');
SELECT telos.ensure_chunks('fdw.m', '2024-01-08', '2024-01-21');

-- Three tenants; a/cpu has 2,500 rows (three segments), c's metric is
-- sometimes NULL (a NULL segment-by group). Two weeks: the first is
-- compressed, the second stays a heap chunk.
INSERT INTO fdw.m (tenant_id, time, metric_type, value, source, ingested_at,
                   i2, i4, i8, f4, flag, n, d, js, note, raw, arr, iv, ch, vc)
SELECT s.tenant, '2024-01-08'::timestamptz + g * s.step,
       CASE WHEN s.metric = 'none' THEN NULL ELSE s.metric END,
       CASE g % 97 WHEN 0 THEN NULL WHEN 1 THEN 'NaN' WHEN 2 THEN 'Infinity'
                   WHEN 3 THEN '-Infinity' WHEN 4 THEN '-0'
                   ELSE CASE WHEN s.decimal THEN round((g * 1.37)::numeric, 2)::float8
                             ELSE sin(g) * 1e6 END END,
       CASE WHEN g % 5 = 0 THEN NULL
            ELSE ('00000000-0000-0000-0000-0000000000' || lpad((g % 7)::text, 2, '0'))::uuid END,
       CASE WHEN g % 11 = 0 THEN NULL ELSE '2024-01-08'::timestamptz + g * s.step + (g % 60) * interval '1 s' END,
       CASE WHEN g % 13 = 0 THEN NULL ELSE ((g * 7) % 32000 - 16000)::int2 END,
       CASE WHEN g % 17 = 0 THEN NULL ELSE g * 1000 - 5 END,
       CASE WHEN g % 19 = 0 THEN NULL ELSE g::int8 * 1000000000007 END,
       CASE WHEN g % 23 = 0 THEN NULL WHEN g % 23 = 1 THEN '-0'::float4 ELSE (g / 3.0)::float4 END,
       CASE WHEN g % 7 = 0 THEN NULL ELSE g % 3 = 0 END,
       CASE WHEN g % 29 = 0 THEN NULL ELSE g * 1.001 END,
       CASE WHEN g % 31 = 0 THEN NULL ELSE '2024-01-08'::date + g % 40 END,
       CASE WHEN g % 37 = 0 THEN NULL ELSE jsonb_build_object('g', g, 'k', ARRAY[g % 3]) END,
       CASE WHEN g % 41 = 0 THEN NULL WHEN g % 41 = 1 THEN '' ELSE repeat(chr(65 + g % 26), g % 50) END,
       CASE WHEN g % 43 = 0 THEN NULL ELSE decode(md5(g::text), 'hex') END,
       CASE WHEN g % 47 = 0 THEN NULL ELSE ARRAY[g, -g, NULL] END,
       CASE WHEN g % 53 = 0 THEN NULL ELSE g * interval '1 minute 1.5 seconds' END,
       CASE WHEN g % 59 = 0 THEN NULL ELSE chr(97 + g % 3) END,
       CASE WHEN g % 61 = 0 THEN NULL ELSE 'v' || g % 100 END
  FROM (VALUES ('00000000-0000-0000-0000-00000000000a'::uuid, 'cpu', 5000, interval '4 min', true),
               ('00000000-0000-0000-0000-00000000000a'::uuid, 'mem',  700, interval '29 min', true),
               ('00000000-0000-0000-0000-00000000000b'::uuid, 'cpu',  336, interval '1 hour', false),
               ('00000000-0000-0000-0000-00000000000c'::uuid, 'disk', 400, interval '50 min', false),
               ('00000000-0000-0000-0000-00000000000c'::uuid, 'none',  90, interval '3 hours', true))
       AS s(tenant, metric, cnt, step, decimal),
       generate_series(0, s.cnt - 1) AS g;

-- What the heap chunks hold, before compression.
CREATE TABLE fdw.expected AS SELECT * FROM fdw.m;
SELECT count(*) AS rows, count(*) FILTER (WHERE time < '2024-01-15') AS first_week FROM fdw.expected;

SELECT telos.compress_chunk(c.chunk)::text AS chunk
  FROM telos.chunks c WHERE c.hypertable = 'fdw.m'::regclass AND c.range_start = '2024-01-08';
SELECT c.chunk::text, c.state, r.relkind
  FROM telos.chunks c JOIN pg_class r ON r.oid = c.chunk
 WHERE c.hypertable = 'fdw.m'::regclass ORDER BY c.range_start;

-- ---------------------------------------------------------------------------
-- Same rows: counts, EXCEPT ALL both ways, then the text of every row with
-- the bits of the floats (NaN, -0).
-- ---------------------------------------------------------------------------
SELECT count(*) FROM fdw.m;
SELECT count(*) AS missing FROM (SELECT * FROM fdw.expected EXCEPT ALL SELECT * FROM fdw.m) x;
SELECT count(*) AS extra FROM (SELECT * FROM fdw.m EXCEPT ALL SELECT * FROM fdw.expected) x;
SELECT count(*) AS differ FROM (
    SELECT e::text, float8send(e.value), float4send(e.f4) FROM fdw.expected e
    EXCEPT ALL
    SELECT m::text, float8send(m.value), float4send(m.f4) FROM fdw.m m) x;
-- NULLs survive in every nullable column.
SELECT count(*) FILTER (WHERE metric_type IS NULL) AS metric, count(*) FILTER (WHERE value IS NULL) AS value,
       count(*) FILTER (WHERE source IS NULL) AS source, count(*) FILTER (WHERE note IS NULL) AS note,
       count(*) FILTER (WHERE arr IS NULL) AS arr, count(*) FILTER (WHERE iv IS NULL) AS iv
  FROM fdw.m WHERE time < '2024-01-15';
-- A subset of the columns (only those are decoded), grouped.
SELECT tenant_id, metric_type, count(*), count(value), min(time), max(time)
  FROM fdw.m WHERE time < '2024-01-15' GROUP BY 1, 2 ORDER BY 1, 2;
SELECT (SELECT array_agg(x ORDER BY x) FROM (SELECT i8 FROM fdw.expected WHERE time < '2024-01-15') e(x)) =
       (SELECT array_agg(x ORDER BY x) FROM (SELECT i8 FROM fdw.m WHERE time < '2024-01-15') m(x)) AS i8_same;

-- ANALYZE reads the compressed chunk (a sample of its decoded rows), alone
-- or as a partition of the hypertable.
ANALYZE fdw.m;
SELECT reltuples FROM pg_class WHERE oid = 'fdw.m_p20240108'::regclass;
SELECT attname, n_distinct, null_frac FROM pg_stats
 WHERE schemaname = 'fdw' AND tablename = 'm_p20240108' AND attname IN ('tenant_id', 'metric_type')
 ORDER BY 1;
SELECT count(*) > 10 AS parent_stats FROM pg_stats WHERE schemaname = 'fdw' AND tablename = 'm';

-- ---------------------------------------------------------------------------
-- Pushdown. The plan keeps every clause as a filter; the Foreign Scan shows
-- the segment-by keys and time bounds it uses to skip segments.
-- ---------------------------------------------------------------------------
SELECT pg_temp.plan($$SELECT count(*) FROM fdw.m
    WHERE tenant_id = '00000000-0000-0000-0000-00000000000a' AND metric_type = 'cpu'
      AND time >= '2024-01-09' AND time < '2024-01-10'$$);
-- a/cpu has three segments; one day is one of them.
SELECT pg_temp.analyze($$SELECT count(*) FROM fdw.m
    WHERE tenant_id = '00000000-0000-0000-0000-00000000000a' AND metric_type = 'cpu'
      AND time >= '2024-01-09' AND time < '2024-01-10'$$);
SELECT (SELECT count(*) FROM fdw.m WHERE tenant_id = '00000000-0000-0000-0000-00000000000a'
          AND metric_type = 'cpu' AND time >= '2024-01-09' AND time < '2024-01-10') =
       (SELECT count(*) FROM fdw.expected WHERE tenant_id = '00000000-0000-0000-0000-00000000000a'
          AND metric_type = 'cpu' AND time >= '2024-01-09' AND time < '2024-01-10') AS same;
-- Without keys every segment is read; with a time range only, the others
-- are skipped by their min/max time.
SELECT pg_temp.analyze($$SELECT count(*) FROM fdw.m WHERE time < '2024-01-15'$$);
SELECT pg_temp.analyze($$SELECT count(*) FROM fdw.m WHERE time BETWEEN '2024-01-13 12:00' AND '2024-01-14'$$);
SELECT (SELECT count(*) FROM fdw.m WHERE time BETWEEN '2024-01-13 12:00' AND '2024-01-14') =
       (SELECT count(*) FROM fdw.expected WHERE time BETWEEN '2024-01-13 12:00' AND '2024-01-14') AS same;
-- Equality on time, and bounds with nothing between them.
SELECT count(*) FROM fdw.m WHERE time = '2024-01-08 00:04' AND metric_type = 'cpu';
SELECT pg_temp.analyze($$SELECT count(*) FROM fdw.m WHERE time > '2024-01-10' AND time < '2024-01-09'$$);
-- A tenant the chunk does not have; a NULL key matches nothing.
SELECT pg_temp.analyze($$SELECT count(*) FROM fdw.m
    WHERE tenant_id = '00000000-0000-0000-0000-0000000000ff' AND time < '2024-01-15'$$);
SELECT count(*) FROM fdw.m WHERE tenant_id = NULLIF('x', 'x')::uuid;
-- The NULL segment-by group is read when asked for.
SELECT count(*) FROM fdw.m WHERE metric_type IS NULL AND tenant_id = '00000000-0000-0000-0000-00000000000c';
-- Stable expressions (the row-level security shape) are evaluated at scan start.
SET fdw.tenant = '00000000-0000-0000-0000-00000000000b';
SELECT pg_temp.plan($$SELECT count(*) FROM fdw.m
    WHERE tenant_id = nullif(current_setting('fdw.tenant', true), '')::uuid
      AND time >= '2024-01-09'::date::timestamptz AND time < '2024-01-15'$$);
SELECT count(*) FROM fdw.m
 WHERE tenant_id = nullif(current_setting('fdw.tenant', true), '')::uuid
   AND time >= '2024-01-09'::date::timestamptz AND time < '2024-01-15';
SELECT count(*) FROM fdw.expected
 WHERE tenant_id = '00000000-0000-0000-0000-00000000000b' AND time >= '2024-01-09' AND time < '2024-01-15';
-- A key the pushdown must leave alone: another operator or collation.
SELECT pg_temp.plan($$SELECT count(*) FROM fdw.m WHERE metric_type > 'cpu' AND time < '2024-01-15'$$);
SELECT count(*) FROM fdw.m WHERE metric_type = 'CPU' COLLATE "C" AND time < '2024-01-15';
-- $params of a generic plan.
SET plan_cache_mode = force_generic_plan;
PREPARE q(uuid, text, timestamptz, timestamptz) AS
    SELECT count(*), sum(i4) FROM fdw.m
     WHERE tenant_id = $1 AND metric_type = $2 AND time >= $3 AND time < $4;
EXPLAIN (COSTS OFF) EXECUTE q('00000000-0000-0000-0000-00000000000a', 'cpu', '2024-01-09', '2024-01-10');
EXECUTE q('00000000-0000-0000-0000-00000000000a', 'cpu', '2024-01-09', '2024-01-10');
EXECUTE q('00000000-0000-0000-0000-00000000000a', 'mem', '2024-01-08', '2024-01-22');
EXECUTE q('00000000-0000-0000-0000-00000000000c', 'disk', '2024-01-08', '2024-01-15');
SELECT count(*), sum(i4) FROM fdw.expected
 WHERE tenant_id = '00000000-0000-0000-0000-00000000000c' AND metric_type = 'disk' AND time < '2024-01-15';
DEALLOCATE q;
RESET plan_cache_mode;

-- ---------------------------------------------------------------------------
-- Rescans: a correlated subquery runs the scan once per outer row with new
-- keys; a nested loop without parameters rescans it whole.
-- ---------------------------------------------------------------------------
CREATE TABLE fdw.tenants (id uuid, name text);
INSERT INTO fdw.tenants VALUES ('00000000-0000-0000-0000-00000000000a', 'a'),
    ('00000000-0000-0000-0000-00000000000b', 'b'), ('00000000-0000-0000-0000-00000000000c', 'c'),
    ('00000000-0000-0000-0000-0000000000ff', 'none');
SELECT t.name,
       (SELECT count(*) FROM fdw.m WHERE m.tenant_id = t.id AND m.time < '2024-01-15') AS compressed,
       (SELECT count(*) FROM fdw.expected e WHERE e.tenant_id = t.id AND e.time < '2024-01-15') AS heap
  FROM fdw.tenants t ORDER BY t.name;
SELECT t.name, x.n, x.s
  FROM fdw.tenants t,
       LATERAL (SELECT count(*) AS n, sum(m.i8) AS s FROM fdw.m
                 WHERE m.tenant_id = t.id AND m.time >= '2024-01-12' AND m.time < '2024-01-14') x
 ORDER BY t.name;
SELECT t.name, count(*) AS n, sum(e.i8) AS s FROM fdw.tenants t JOIN fdw.expected e ON e.tenant_id = t.id
 WHERE e.time >= '2024-01-12' AND e.time < '2024-01-14' GROUP BY t.name ORDER BY t.name;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
SELECT t.name, count(*) FROM fdw.tenants t JOIN fdw.m ON m.tenant_id = t.id
 WHERE m.time < '2024-01-15' GROUP BY t.name ORDER BY t.name;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;
-- In parallel workers (a Parallel Append hands the chunk to one of them).
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SELECT (SELECT count(*) || ' ' || sum(i8) FROM fdw.m WHERE metric_type <> 'x') =
       (SELECT count(*) || ' ' || sum(i8) FROM fdw.expected WHERE metric_type <> 'x') AS same;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
RESET max_parallel_workers_per_gather;
-- A cursor scrolled back and forth.
BEGIN;
DECLARE cur SCROLL CURSOR FOR
    SELECT time, i4 FROM fdw.m WHERE tenant_id = '00000000-0000-0000-0000-00000000000b' AND time < '2024-01-15';
FETCH 2 FROM cur;
FETCH ABSOLUTE 100 FROM cur;
FETCH BACKWARD 2 FROM cur;
CLOSE cur;
COMMIT;

-- ---------------------------------------------------------------------------
-- Damaged segments: an error (XX001), never rows. Only the damaged blob's
-- column is decoded, so queries that do not need it still work.
-- ---------------------------------------------------------------------------
SELECT cc.segments AS seg FROM telos.compressed_chunk cc JOIN telos.chunk c ON c.id = cc.chunk_id
 WHERE c.hypertable = 'fdw.m'::regclass \gset
BEGIN;
UPDATE :seg SET value = '\x0102'::bytea
 WHERE tenant_id = '00000000-0000-0000-0000-00000000000b';
SELECT pg_temp.err('SELECT sum(value) FROM fdw.m');
SELECT count(*), sum(i4) FROM fdw.m WHERE tenant_id = '00000000-0000-0000-0000-00000000000b';
SELECT count(value) FROM fdw.m WHERE tenant_id = '00000000-0000-0000-0000-00000000000a';
ROLLBACK;
BEGIN;
UPDATE :seg SET i4 = substr(i4, 1, length(i4) / 2)
 WHERE tenant_id = '00000000-0000-0000-0000-00000000000b';
SELECT pg_temp.err('SELECT sum(i4) FROM fdw.m');
ROLLBACK;
BEGIN;
UPDATE :seg SET _telos_count = _telos_count - 1
 WHERE tenant_id = '00000000-0000-0000-0000-00000000000b';
SELECT pg_temp.err('SELECT sum(i4) FROM fdw.m');
ROLLBACK;
BEGIN;
UPDATE :seg SET _telos_count = 5000 WHERE tenant_id = '00000000-0000-0000-0000-00000000000b';
SELECT pg_temp.err('SELECT count(*) FROM fdw.m');
ROLLBACK;
BEGIN;
UPDATE :seg SET note = NULL WHERE tenant_id = '00000000-0000-0000-0000-00000000000b';
SELECT pg_temp.err('SELECT max(note) FROM fdw.m');
ROLLBACK;
BEGIN;
UPDATE :seg SET _telos_min_time = _telos_max_time + interval '1 hour'
 WHERE tenant_id = '00000000-0000-0000-0000-00000000000b';
SELECT pg_temp.err('SELECT count(*) FROM fdw.m');
ROLLBACK;
-- And intact again.
SELECT count(*) AS differ FROM (
    SELECT e::text FROM fdw.expected e EXCEPT ALL SELECT m::text FROM fdw.m m) x;

-- ---------------------------------------------------------------------------
-- Foreign tables of telos_store that are not chunks serve nothing, and the
-- wrapper takes no options.
-- ---------------------------------------------------------------------------
CREATE FOREIGN TABLE fdw.stray (tenant_id uuid, time timestamptz) SERVER telos_store;
SELECT pg_temp.err('SELECT * FROM fdw.stray');
SELECT pg_temp.err('INSERT INTO fdw.stray VALUES (NULL, now())');
SELECT pg_temp.err($$CREATE FOREIGN TABLE fdw.stray2 (a int) SERVER telos_store OPTIONS (table_name 'fdw.expected')$$);
SELECT pg_temp.err($$ALTER FOREIGN TABLE fdw.stray ALTER COLUMN time OPTIONS (ADD column_name 'x')$$);
SELECT pg_temp.err($$ALTER SERVER telos_store OPTIONS (ADD host 'x')$$);
SELECT pg_temp.err($$CREATE SERVER other FOREIGN DATA WRAPPER telos_fdw OPTIONS (path '/tmp')$$);
DROP FOREIGN TABLE fdw.stray;

DROP SCHEMA fdw CASCADE;
