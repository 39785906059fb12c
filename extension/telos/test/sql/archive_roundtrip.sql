--
-- archive_roundtrip: telos.archive_chunk moves a chunk's rows into a
-- checksummed file under telos.archive_directory and makes the chunk a
-- foreign table over it; the hypertable returns exactly the rows it
-- returned before (full result sets compared, every column type, NULLs,
-- NaN, -0), for the owner and, under row-level security, for a tenant's
-- role. Rows written into the archived range go to its delta and are
-- merged by archiving again; telos.restore_chunk brings a heap table back.
-- A compressed chunk archives too. Files follow the transaction: an
-- aborted archive (or savepoint) leaves no file, a restored chunk's file
-- is removed at commit, and so is a dropped chunk's.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
RESET client_min_messages;
SET timezone = 'UTC';

-- Errors with the parts that vary between runs (system id, database oid,
-- time stamps in file names) masked.
CREATE FUNCTION pg_temp.mask(t text) RETURNS text LANGUAGE sql AS $$
    SELECT regexp_replace(regexp_replace(t, 'c[0-9]+-d[0-9]+/', 'DB/', 'g'),
                          '\.[0-9]+\.[0-9a-f]+\.tca', '.N.X.tca', 'g')
$$;
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || pg_temp.mask(SQLERRM);
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.err(text), pg_temp.mask(text) TO PUBLIC;

-- The archive directory and this database's files in it.
SELECT current_setting('telos.archive_directory') AS archive_directory;
CREATE FUNCTION pg_temp.archive_root() RETURNS text LANGUAGE sql AS $$
    SELECT current_setting('data_directory') || '/' || current_setting('telos.archive_directory')
$$;
CREATE FUNCTION pg_temp.file_exists(f text) RETURNS boolean LANGUAGE sql AS $$
    SELECT (pg_stat_file(pg_temp.archive_root() || '/' || f, true)).size IS NOT NULL
$$;
-- Archive files of this database (names end in .tca) under the top location.
CREATE FUNCTION pg_temp.db_files() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*) FROM pg_ls_dir(pg_temp.archive_root() || '/' ||
                                   (SELECT split_part(archive_file, '/', 1) FROM telos.chunks
                                     WHERE archive_file IS NOT NULL LIMIT 1), true, false) f
     WHERE f LIKE '%.tca'
$$;

CREATE SCHEMA arch;
CREATE TABLE arch.m (
    tenant_id   uuid        NOT NULL,
    time        timestamptz NOT NULL,
    metric_type text        NOT NULL CHECK (octet_length(metric_type) BETWEEN 1 AND 63),
    value       float8,
    source      uuid,
    ingested_at timestamptz DEFAULT now(),
    gone        int,
    i4 int4, i8 int8, f4 float4, flag bool, n numeric, d date, js jsonb, note text, raw bytea
) PARTITION BY RANGE (time);
ALTER TABLE arch.m DROP COLUMN gone;
CREATE INDEX ON arch.m (tenant_id, metric_type, time DESC);
SELECT telos.create_hypertable('arch.m', 'time');
SELECT telos.ensure_chunks('arch.m', '2024-01-08', '2024-01-28');

INSERT INTO arch.m (tenant_id, time, metric_type, value, source, ingested_at,
                    i4, i8, f4, flag, n, d, js, note, raw)
SELECT s.tenant, '2024-01-08'::timestamptz + g * s.step, s.metric,
       CASE g % 89 WHEN 0 THEN NULL WHEN 1 THEN 'NaN' WHEN 2 THEN 'Infinity'
                   WHEN 3 THEN '-0' ELSE round((g * 1.37)::numeric, 2)::float8 END,
       CASE WHEN g % 5 = 0 THEN NULL
            ELSE ('00000000-0000-0000-0000-0000000000' || lpad((g % 7)::text, 2, '0'))::uuid END,
       '2024-01-08'::timestamptz + g * s.step + (g % 60) * interval '1 s',
       CASE WHEN g % 17 = 0 THEN NULL ELSE g * 1000 - 5 END,
       CASE WHEN g % 19 = 0 THEN NULL ELSE g::int8 * 1000000000007 END,
       CASE WHEN g % 23 = 0 THEN NULL WHEN g % 23 = 1 THEN '-0'::float4 ELSE (g / 3.0)::float4 END,
       CASE WHEN g % 7 = 0 THEN NULL ELSE g % 3 = 0 END,
       CASE WHEN g % 29 = 0 THEN NULL ELSE g * 1.001 END,
       CASE WHEN g % 31 = 0 THEN NULL ELSE '2024-01-08'::date + g % 40 END,
       CASE WHEN g % 37 = 0 THEN NULL ELSE jsonb_build_object('g', g) END,
       CASE WHEN g % 41 = 0 THEN NULL WHEN g % 41 = 1 THEN '' ELSE repeat(chr(65 + g % 26), g % 50) END,
       CASE WHEN g % 43 = 0 THEN NULL ELSE decode(md5(g::text), 'hex') END
  FROM (VALUES ('00000000-0000-0000-0000-00000000000a'::uuid, 'cpu', 4000, interval '7 min'),
               ('00000000-0000-0000-0000-00000000000a'::uuid, 'mem',  900, interval '33 min'),
               ('00000000-0000-0000-0000-00000000000b'::uuid, 'cpu',  500, interval '1 hour'),
               ('00000000-0000-0000-0000-00000000000c'::uuid, 'disk', 300, interval '100 min'))
       AS s(tenant, metric, cnt, step),
       generate_series(0, s.cnt - 1) AS g;

CREATE TABLE arch.expected AS SELECT * FROM arch.m;
CREATE FUNCTION pg_temp.same() RETURNS text LANGUAGE sql AS $$
    SELECT format('rows %s, missing %s, extra %s, differ %s',
        (SELECT count(*) FROM arch.m),
        (SELECT count(*) FROM (SELECT * FROM arch.expected EXCEPT ALL SELECT * FROM arch.m) x),
        (SELECT count(*) FROM (SELECT * FROM arch.m EXCEPT ALL SELECT * FROM arch.expected) x),
        (SELECT count(*) FROM (
            SELECT e::text, float8send(e.value), float4send(e.f4) FROM arch.expected e
            EXCEPT ALL
            SELECT m::text, float8send(m.value), float4send(m.f4) FROM arch.m m) x))
$$;
SELECT pg_temp.same();
SELECT range_start::date, state, storage, row_estimate > 0 AS has_rows
  FROM telos.chunks WHERE hypertable = 'arch.m'::regclass ORDER BY range_start;

-- ---------------------------------------------------------------------------
-- Archive the first week: same name, a foreign table now, same rows.
-- ---------------------------------------------------------------------------
SELECT telos.archive_chunk(chunk)::text AS archived
  FROM telos.chunks WHERE hypertable = 'arch.m'::regclass AND range_start = '2024-01-08';
SELECT c.range_start::date, c.state, c.storage, r.relkind,
       pg_temp.mask(c.archive_file) AS file,
       c.heap_bytes > c.stored_bytes AS smaller, c.compression_ratio > 1 AS ratio,
       c.row_estimate
  FROM telos.chunks c JOIN pg_class r ON r.oid = c.chunk
 WHERE c.hypertable = 'arch.m'::regclass ORDER BY c.range_start;
SELECT pg_temp.file_exists(archive_file) AS file_exists,
       cc.file_bytes = (pg_stat_file(pg_temp.archive_root() || '/' || cc.file)).size AS size_recorded,
       cc.file_checksum ~ '^crc32c:[0-9a-f]{8}$' AS checksum_recorded, cc.row_count
  FROM telos.chunks c JOIN telos.compressed_chunk cc ON cc.file = c.archive_file
 WHERE c.hypertable = 'arch.m'::regclass;
SELECT pg_temp.same();

-- Queries with pushed-down keys read the matching segments only.
SELECT (SELECT count(*) FROM arch.m WHERE tenant_id = '00000000-0000-0000-0000-00000000000a'
          AND metric_type = 'cpu' AND time >= '2024-01-09' AND time < '2024-01-10') AS archived,
       (SELECT count(*) FROM arch.expected WHERE tenant_id = '00000000-0000-0000-0000-00000000000a'
          AND metric_type = 'cpu' AND time >= '2024-01-09' AND time < '2024-01-10') AS heap;
SELECT tenant_id, metric_type, count(*), count(value), min(time), max(time), sum(i8)
  FROM arch.m WHERE time < '2024-01-15' GROUP BY 1, 2 ORDER BY 1, 2;
SELECT tenant_id, metric_type, count(*), count(value), min(time), max(time), sum(i8)
  FROM arch.expected WHERE time < '2024-01-15' GROUP BY 1, 2 ORDER BY 1, 2;

-- The whole file checks out.
SELECT v - 'file' - 'checksum' - 'bytes' AS verified
  FROM telos.chunks c, telos.verify_archive(c.chunk) v
 WHERE c.hypertable = 'arch.m'::regclass AND c.state = 'archived';

-- Archiving it again does nothing; UPDATE and DELETE are refused with a hint.
SELECT telos.archive_chunk(chunk)::text
  FROM telos.chunks WHERE hypertable = 'arch.m'::regclass AND range_start = '2024-01-08';
SELECT pg_temp.err($$DELETE FROM arch.m WHERE time < '2024-01-09'$$);

-- ---------------------------------------------------------------------------
-- Late rows go to the delta; archiving again merges them into a new file
-- and removes the old one at commit.
-- ---------------------------------------------------------------------------
INSERT INTO arch.m (tenant_id, time, metric_type, value, ingested_at)
VALUES ('00000000-0000-0000-0000-00000000000b', '2024-01-10 12:34:56', 'cpu', 42.5, NULL),
       ('00000000-0000-0000-0000-00000000000d', '2024-01-11 00:00:00', 'new', -1, '2024-02-01');
INSERT INTO arch.expected (tenant_id, time, metric_type, value, ingested_at)
VALUES ('00000000-0000-0000-0000-00000000000b', '2024-01-10 12:34:56', 'cpu', 42.5, NULL),
       ('00000000-0000-0000-0000-00000000000d', '2024-01-11 00:00:00', 'new', -1, '2024-02-01');
SELECT pg_temp.same();
SELECT row_estimate FROM telos.chunks WHERE hypertable = 'arch.m'::regclass AND state = 'archived';
CREATE TEMP TABLE old_file AS
SELECT archive_file AS f FROM telos.chunks WHERE hypertable = 'arch.m'::regclass AND state = 'archived';
SELECT telos.archive_chunk(chunk)::text AS rearchived
  FROM telos.chunks WHERE hypertable = 'arch.m'::regclass AND range_start = '2024-01-08';
SELECT c.archive_file <> o.f AS new_file, pg_temp.file_exists(c.archive_file) AS new_exists,
       pg_temp.file_exists(o.f) AS old_exists, cc.row_count
  FROM telos.chunks c JOIN telos.compressed_chunk cc ON cc.file = c.archive_file, old_file o
 WHERE c.hypertable = 'arch.m'::regclass;
SELECT pg_temp.same();

-- ---------------------------------------------------------------------------
-- Row-level security: a tenant's role reading through the hypertable sees
-- its own rows of the archived chunk, no others, and cannot read the
-- chunk's foreign table around the hypertable.
-- ---------------------------------------------------------------------------
CREATE ROLE regress_arch_app;
GRANT USAGE ON SCHEMA arch TO regress_arch_app;
GRANT SELECT ON arch.m TO regress_arch_app;
ALTER TABLE arch.m ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON arch.m
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
-- The chunks made before the policy get it through the hypertable only.
SET ROLE regress_arch_app;
SET app.current_tenant_id = '00000000-0000-0000-0000-00000000000b';
SELECT tenant_id, count(*), sum(value) FROM arch.m WHERE time < '2024-01-15' GROUP BY 1;
SELECT count(*) AS all_weeks FROM arch.m;
SET app.current_tenant_id = '';
SELECT count(*) AS no_tenant FROM arch.m;
SELECT pg_temp.err(format('SELECT count(*) FROM %s', chunk))
  FROM telos.chunks WHERE hypertable = 'arch.m'::regclass AND state = 'archived';
RESET app.current_tenant_id;
RESET ROLE;
SELECT tenant_id, count(*), sum(value) FROM arch.expected
 WHERE time < '2024-01-15' AND tenant_id = '00000000-0000-0000-0000-00000000000b' GROUP BY 1;
SELECT count(*) FROM arch.expected WHERE tenant_id = '00000000-0000-0000-0000-00000000000b';

-- ---------------------------------------------------------------------------
-- Restore: a heap table again, same rows, with the hypertable's indexes;
-- the file is gone after commit.
-- ---------------------------------------------------------------------------
DELETE FROM old_file;
INSERT INTO old_file
SELECT archive_file FROM telos.chunks WHERE hypertable = 'arch.m'::regclass AND state = 'archived';
BEGIN;
SELECT telos.restore_chunk(chunk)::text AS restored
  FROM telos.chunks WHERE hypertable = 'arch.m'::regclass AND range_start = '2024-01-08';
-- Until commit the file stays (a rollback would still need it).
SELECT pg_temp.file_exists(f) AS file_before_commit FROM old_file;
COMMIT;
SELECT pg_temp.file_exists(f) AS file_after_commit FROM old_file;
SELECT c.range_start::date, c.state, c.storage, r.relkind, c.archive_file,
       (SELECT count(*) FROM pg_index i WHERE i.indrelid = c.chunk) AS indexes
  FROM telos.chunks c JOIN pg_class r ON r.oid = c.chunk
 WHERE c.hypertable = 'arch.m'::regclass ORDER BY c.range_start;
SELECT count(*) AS catalog_rows FROM telos.compressed_chunk cc JOIN telos.chunk c ON c.id = cc.chunk_id
 WHERE c.hypertable = 'arch.m'::regclass;
SELECT pg_temp.same();
SELECT pg_temp.err($$SELECT telos.restore_chunk(chunk) FROM telos.chunks
                     WHERE hypertable = 'arch.m'::regclass AND range_start = '2024-01-08'$$);

-- ---------------------------------------------------------------------------
-- Files follow the transaction.
-- ---------------------------------------------------------------------------
SELECT telos.archive_chunk(chunk)::text
  FROM telos.chunks WHERE hypertable = 'arch.m'::regclass AND range_start = '2024-01-15';
SELECT pg_temp.db_files() AS files;
-- An aborted archive leaves no file.
BEGIN;
SELECT telos.archive_chunk(chunk)::text
  FROM telos.chunks WHERE hypertable = 'arch.m'::regclass AND range_start = '2024-01-08';
SELECT pg_temp.db_files() AS files_in_transaction;
ROLLBACK;
SELECT pg_temp.db_files() AS files_after_rollback;
-- So does a rolled back savepoint, at once.
BEGIN;
SAVEPOINT s;
SELECT telos.archive_chunk(chunk)::text
  FROM telos.chunks WHERE hypertable = 'arch.m'::regclass AND range_start = '2024-01-08';
SELECT pg_temp.db_files() AS files_in_savepoint;
ROLLBACK TO SAVEPOINT s;
SELECT pg_temp.db_files() AS files_after_savepoint;
COMMIT;
-- An error half way (after the file is written, before commit) too.
SET telos.debug_compress_fail_at = 'after_swap';
SELECT pg_temp.err($$SELECT telos.archive_chunk(chunk) FROM telos.chunks
                     WHERE hypertable = 'arch.m'::regclass AND range_start = '2024-01-08'$$);
RESET telos.debug_compress_fail_at;
SELECT pg_temp.db_files() AS files_after_error;
SELECT range_start::date, state FROM telos.chunks WHERE hypertable = 'arch.m'::regclass ORDER BY 1;
-- PREPARE TRANSACTION is refused while a file waits for the outcome.
BEGIN;
SELECT telos.archive_chunk(chunk)::text
  FROM telos.chunks WHERE hypertable = 'arch.m'::regclass AND range_start = '2024-01-08';
PREPARE TRANSACTION 'regress_archive';
SELECT pg_temp.db_files() AS files_after_prepare;
SELECT pg_temp.same();

-- ---------------------------------------------------------------------------
-- A compressed chunk archives (its segments and delta merged into the
-- file), and a chunk dropped by hand takes its file along at commit.
-- ---------------------------------------------------------------------------
SELECT telos.compress_chunk(chunk)::text
  FROM telos.chunks WHERE hypertable = 'arch.m'::regclass AND range_start = '2024-01-08';
INSERT INTO arch.m (tenant_id, time, metric_type, value, ingested_at)
VALUES ('00000000-0000-0000-0000-00000000000c', '2024-01-09 09:09:09', 'disk', 9.5, '2024-02-02');
INSERT INTO arch.expected (tenant_id, time, metric_type, value, ingested_at)
VALUES ('00000000-0000-0000-0000-00000000000c', '2024-01-09 09:09:09', 'disk', 9.5, '2024-02-02');
SELECT telos.archive_chunk(chunk)::text
  FROM telos.chunks WHERE hypertable = 'arch.m'::regclass AND range_start = '2024-01-08';
SELECT c.range_start::date, c.state, c.storage, cc.segments IS NULL AS no_segment_table,
       c.heap_bytes > c.stored_bytes AS smaller, cc.row_count
  FROM telos.chunks c JOIN telos.compressed_chunk cc ON cc.chunk_id = (
       SELECT id FROM telos.chunk WHERE relid = c.chunk)
 WHERE c.hypertable = 'arch.m'::regclass ORDER BY 1;
SELECT count(*) AS segment_tables FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace
 WHERE n.nspname = '_telos_internal' AND r.relname LIKE 'm_%_seg%';
SELECT pg_temp.same();

DELETE FROM old_file;
INSERT INTO old_file
SELECT archive_file FROM telos.chunks WHERE hypertable = 'arch.m'::regclass AND range_start = '2024-01-15';
SELECT format('DROP FOREIGN TABLE %s', chunk) AS drop_stmt
  FROM telos.chunks WHERE hypertable = 'arch.m'::regclass AND range_start = '2024-01-15' \gset
BEGIN;
:drop_stmt;
SELECT pg_temp.file_exists(f) AS file_before_commit FROM old_file;
ROLLBACK;
SELECT pg_temp.file_exists(f) AS file_after_rollback FROM old_file;
:drop_stmt;
SELECT pg_temp.file_exists(f) AS file_after_drop FROM old_file;
SELECT range_start::date, state, relid IS NULL AS no_relation FROM telos.chunk
 WHERE hypertable = 'arch.m'::regclass ORDER BY 1;

-- Dropping the hypertable removes the remaining file.
DELETE FROM old_file;
INSERT INTO old_file SELECT archive_file FROM telos.chunks
 WHERE hypertable = 'arch.m'::regclass AND archive_file IS NOT NULL;
DROP TABLE arch.m;
SELECT pg_temp.file_exists(f) AS file_after_drop_table FROM old_file;

DROP SCHEMA arch CASCADE;
DROP ROLE regress_arch_app;
