--
-- compress_types: every kind of column survives compression and
-- decompression exactly (compared as text, so -0, NaN, infinities, json
-- whitespace and trailing zeros of numerics count): integers at their
-- limits, dates and timestamps with infinities, time 24:00, floats with
-- NaN, +-Infinity, -0 and subnormals, booleans, by-value types other than
-- the integers ("char", oid, money), fixed-length by-reference types (uuid,
-- name, macaddr, interval, timetz, point), varlena types (text, varchar,
-- char(n), numeric, jsonb, json, bytea, arrays, inet), a domain, values
-- large enough to be TOASTed, and NULL patterns: none, some, all. Segment-by
-- columns of type int4 and text, with a NULL group. Also: the columns of a
-- hypertable with a dropped column and a column added after the chunk was
-- made.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
RESET client_min_messages;
SET timezone = 'UTC';
SET extra_float_digits = 3;

CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

CREATE SCHEMA typ;
CREATE DOMAIN typ.pos AS int4 CHECK (VALUE > 0);
CREATE TABLE typ.t (
    time  timestamptz NOT NULL,
    grp   int4,
    label text,
    dropme int,
    i2 int2, i4 int4, i8 int8, d date, tm time, ts timestamp, tstz timestamptz,
    f4 float4, f8 float8, b bool, ch "char", o oid, mo money,
    u uuid, nm name, mac macaddr, iv interval, ttz timetz, pt point,
    tx text, vc varchar(10), bp char(5), n numeric, js jsonb, j json, ba bytea,
    ar int[], ip inet, dom typ.pos, big text, allnull int8, few text
) PARTITION BY RANGE (time);
ALTER TABLE typ.t DROP COLUMN dropme;
SELECT telos.create_hypertable('typ.t', 'time', '7 days');
SELECT telos.set_compression('typ.t', segmentby => '{grp,label}');
SELECT telos.ensure_chunks('typ.t', '2024-01-01', '2024-01-01');

-- 3,000 rows: group (1, 'a') has 2,500 (three segments), (2, NULL) and
-- (NULL, 'b') the rest. Special values at fixed positions.
INSERT INTO typ.t
SELECT '2024-01-01'::timestamptz + i * interval '3 minutes',
       CASE WHEN i < 2500 THEN 1 WHEN i < 2750 THEN 2 END,
       CASE WHEN i < 2500 THEN 'a' WHEN i >= 2750 THEN 'b' END,
       (ARRAY[-32768, 32767, 0, NULL]::int2[])[i % 4 + 1],
       CASE i % 5 WHEN 0 THEN -2147483648 WHEN 1 THEN 2147483647 WHEN 2 THEN NULL ELSE i END,
       CASE i % 3 WHEN 0 THEN -9223372036854775808 WHEN 1 THEN 9223372036854775807 ELSE i::int8 * 1000003 END,
       CASE i % 7 WHEN 0 THEN 'infinity'::date WHEN 1 THEN '-infinity'::date WHEN 2 THEN '4713-01-01 BC'::date
                  ELSE '2024-01-01'::date + i END,
       CASE i % 4 WHEN 0 THEN '24:00:00'::time WHEN 1 THEN '00:00:00'::time ELSE '12:34:56.789012'::time END,
       CASE i % 6 WHEN 0 THEN 'infinity'::timestamp WHEN 1 THEN '-infinity'::timestamp
                  ELSE '2024-01-01'::timestamp + i * interval '1 second' END,
       CASE WHEN i % 9 = 0 THEN NULL ELSE '1999-12-31 23:59:59.999999+00'::timestamptz - i * interval '1 day' END,
       (ARRAY['NaN', 'Infinity', '-Infinity', '-0', '1.4e-45', '3.4028235e38', '0.1', NULL]::float4[])[i % 8 + 1],
       CASE WHEN i % 13 = 0 THEN 'NaN'::float8 WHEN i % 13 = 1 THEN '-0'::float8
            WHEN i % 13 = 2 THEN '5e-324'::float8 WHEN i % 13 = 3 THEN '-Infinity'::float8
            WHEN i % 13 = 4 THEN 1.7976931348623157e308 WHEN i % 13 = 5 THEN NULL
            ELSE i / 7.0 END,
       CASE i % 3 WHEN 0 THEN true WHEN 1 THEN false END,
       chr(65 + i % 26)::"char",
       (i * 7919)::oid,
       (i * 1.25)::numeric::money,
       CASE WHEN i % 10 <> 0 THEN md5(i::text)::uuid END,
       ('name_' || (i % 17))::name,
       ('08:00:2b:01:02:' || lpad(to_hex(i % 256), 2, '0'))::macaddr,
       make_interval(months => i % 13, days => i % 31, secs => i * 0.5),
       ('10:' || lpad((i % 60)::text, 2, '0') || ':00+' || (i % 12))::timetz,
       point(i, -i / 3.0),
       CASE WHEN i % 4 = 0 THEN '' ELSE 'text ' || i END,
       left('vc' || i, 10),
       (i % 100)::text,
       CASE i % 5 WHEN 0 THEN 'NaN'::numeric WHEN 1 THEN 1.500 WHEN 2 THEN -0.00001 ELSE i * 1e20 END,
       jsonb_build_object('i', i, 'a', jsonb_build_array(i, 'x', NULL)),
       ('{ "spaced" :  ' || i || ' }')::json,
       CASE WHEN i % 6 = 0 THEN '\x'::bytea ELSE decode(md5(i::text), 'hex') END,
       CASE WHEN i % 8 = 0 THEN '{}'::int[] WHEN i % 8 = 1 THEN ARRAY[1, NULL, 3] ELSE ARRAY[i, i + 1] END,
       ('10.' || (i % 256) || '.0.1/' || (8 + i % 25))::inet,
       (i + 1)::typ.pos,
       CASE WHEN i % 500 = 0 THEN repeat(md5(i::text), 300) WHEN i % 500 = 1 THEN repeat('z', 100000) END,
       NULL,
       (ARRAY['alpha', 'beta', 'gamma'])[i % 3 + 1]
  FROM generate_series(0, 2999) i;
-- A column added after the rows were written (NULL in every row).
ALTER TABLE typ.t ADD COLUMN added int;

CREATE TABLE typ.ref AS SELECT t::text AS r FROM typ.t t;
CREATE FUNCTION pg_temp.diff() RETURNS TABLE(missing bigint, extra bigint, total bigint) LANGUAGE sql AS $$
    SELECT (SELECT count(*) FROM (SELECT r FROM typ.ref EXCEPT ALL SELECT t::text FROM typ.t t) a),
           (SELECT count(*) FROM (SELECT t::text FROM typ.t t EXCEPT ALL SELECT r FROM typ.ref) b),
           (SELECT count(*) FROM typ.t)
$$;

SELECT telos.compress_chunk('typ.t_p20240101')::text;
SELECT grp, label, _telos_count, _telos_sum IS NULL AS no_stats
  FROM _telos_internal.t_p20240101_seg ORDER BY grp, label, _telos_min_time;
SELECT column_name, codec FROM telos.chunk_column_stats('typ.t_p20240101');
-- The big values are stored out of line in the segment table's TOAST.
SELECT pg_relation_size(reltoastrelid) > 0 AS toasted FROM pg_class
 WHERE oid = '_telos_internal.t_p20240101_seg'::regclass;
SELECT * FROM pg_temp.diff();

SELECT telos.decompress_chunk('typ.t_p20240101')::text;
SELECT * FROM pg_temp.diff();
-- The rows that came back are the ones that went in, bit for bit.
SELECT count(*) FILTER (WHERE f8::text = '-0') AS minus_zero,
       count(*) FILTER (WHERE f8 = 'NaN') AS nan,
       count(*) FILTER (WHERE f8 = 5e-324) AS subnormal,
       count(*) FILTER (WHERE f4::text = '-0') AS minus_zero4,
       count(*) FILTER (WHERE big IS NOT NULL) AS big,
       sum(length(big)) AS big_length,
       count(*) FILTER (WHERE tm = '24:00') AS midnight
  FROM typ.t;

-- Compressed again, and recompressed with a late row in the NULL group.
SELECT telos.compress_chunk('typ.t_p20240101')::text;
INSERT INTO typ.t (time, grp, label, f8, big)
VALUES ('2024-01-03', NULL, NULL, -0.0, repeat('late', 1000));
INSERT INTO typ.ref SELECT t::text FROM (SELECT * FROM typ.t WHERE time = '2024-01-03' AND grp IS NULL AND label IS NULL) t;
SELECT telos.recompress_chunk('typ.t_p20240101');
SELECT grp, label, count(*), sum(_telos_count)
  FROM _telos_internal.t_p20240101_seg GROUP BY 1, 2 ORDER BY 1, 2;
SELECT * FROM pg_temp.diff();
SELECT telos.decompress_chunk('typ.t_p20240101')::text;
SELECT * FROM pg_temp.diff();

-- Rows beyond maintenance_work_mem are put in order by a tuplesort
-- instead of in memory: the very same segments come out.
CREATE TABLE typ.big (time timestamptz NOT NULL, tenant_id uuid, metric_type text, pad text)
    PARTITION BY RANGE (time);
SELECT telos.create_hypertable('typ.big', 'time', '7 days');
SELECT telos.ensure_chunks('typ.big', '2024-01-01', '2024-01-01');
INSERT INTO typ.big
SELECT '2024-01-01'::timestamptz + i * interval '1 minute', md5((i % 10)::text)::uuid,
       'metric_' || (i % 40 / 10), repeat('x', 100 + i % 7)
  FROM generate_series(0, 10079) i;
CREATE TABLE typ.bigref AS SELECT * FROM typ.big;
SET maintenance_work_mem = '1MB';
SELECT telos.compress_chunk('typ.big_p20240101')::text;
RESET maintenance_work_mem;
CREATE TABLE typ.spilled AS SELECT * FROM _telos_internal.big_p20240101_seg;
SELECT count(*) AS missing FROM (SELECT * FROM typ.bigref EXCEPT ALL SELECT * FROM typ.big) a;
SELECT telos.decompress_chunk('typ.big_p20240101')::text;
SELECT telos.compress_chunk('typ.big_p20240101')::text;
SELECT count(*) AS segments, sum(_telos_count) AS rows,
       (SELECT count(*) FROM (SELECT * FROM typ.spilled EXCEPT ALL
                              SELECT * FROM _telos_internal.big_p20240101_seg) d) AS different
  FROM typ.spilled;

-- Columns changed under compressed rows: renaming one or changing its type
-- is refused (the rows find columns by name and decode them by type), and
-- so is adding one with a default (the compressed rows would read NULL);
-- dropping one and adding one without a default are fine.
SELECT telos.compress_chunk('typ.t_p20240101')::text;
SELECT pg_temp.try($$ALTER TABLE typ.t RENAME COLUMN tx TO tx2$$);
SELECT pg_temp.try($$ALTER TABLE typ.t ALTER COLUMN i4 TYPE int8$$);
SELECT pg_temp.try($$ALTER TABLE typ.t ALTER COLUMN u TYPE text$$);
SELECT pg_temp.try($$ALTER TABLE typ.t ADD COLUMN dflt int DEFAULT 5$$);
ALTER TABLE typ.t ALTER COLUMN vc TYPE varchar(20);
ALTER TABLE typ.t ADD COLUMN later int;
ALTER TABLE typ.t DROP COLUMN few;
-- A late row with the new column goes to the delta table, which follows.
INSERT INTO typ.t (time, grp, label, later, vc) VALUES ('2024-01-04', 1, 'a', 7, 'twenty chars long ok');
SELECT count(*), count(later), count(tx), count(vc) FROM typ.t;
SELECT telos.decompress_chunk('typ.t_p20240101')::text;
SELECT count(*), count(later), count(tx), count(vc) FROM typ.t;
ALTER TABLE typ.t RENAME COLUMN tx TO tx2;

DROP SCHEMA typ CASCADE;
