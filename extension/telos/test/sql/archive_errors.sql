--
-- archive_errors: what goes wrong around archive files gives a clear error
-- naming the file, never rows: a missing file (58P01), a corrupted byte or
-- a truncated file (XX001), a file swapped for another chunk's valid file
-- (XX001, its checksum is not the recorded one). Queries, verify_archive and
-- restore_chunk all refuse; the chunk stays archived and works again once
-- the file is back. Locations must stay inside telos.archive_directory:
-- '..', absolute paths, odd characters and symbolic links are refused.
-- telos.archive_directory is a server setting, not a session one.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
RESET client_min_messages;
SET timezone = 'UTC';

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
CREATE FUNCTION pg_temp.archive_root() RETURNS text LANGUAGE sql AS $$
    SELECT current_setting('data_directory') || '/' || current_setting('telos.archive_directory')
$$;
CREATE FUNCTION pg_temp.path(f text) RETURNS text LANGUAGE sql AS $$
    SELECT pg_temp.archive_root() || '/' || f
$$;
-- Runs a shell command as the server (superuser only: COPY TO PROGRAM).
CREATE FUNCTION pg_temp.sh(cmd text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', cmd);
END $$;
-- Replaces the file at path with data.
CREATE FUNCTION pg_temp.write_file(path text, data bytea) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('COPY (SELECT %L) TO PROGRAM %L',
                   translate(encode(data, 'base64'), E'\n', ''),
                   format('base64 -d > %s', quote_literal(path)));
END $$;

CREATE SCHEMA ae;
CREATE TABLE ae.m (tenant_id uuid NOT NULL, time timestamptz NOT NULL,
                   metric_type text NOT NULL, value float8) PARTITION BY RANGE (time);
SELECT telos.create_hypertable('ae.m', 'time');
SELECT telos.ensure_chunks('ae.m', '2024-03-04', '2024-03-17');
INSERT INTO ae.m
SELECT ('00000000-0000-0000-0000-00000000000' || t)::uuid,
       '2024-03-04'::timestamptz + g * interval '10 min', m, g * 0.25
  FROM generate_series(1, 3) t, unnest(ARRAY['cpu', 'mem']) m, generate_series(0, 2000) g;
CREATE TABLE ae.expected AS SELECT * FROM ae.m;
SELECT telos.archive_chunk(chunk)::text FROM telos.chunks
 WHERE hypertable = 'ae.m'::regclass ORDER BY range_start;
CREATE TEMP TABLE f AS
SELECT range_start::date AS week, chunk::text AS chunk, archive_file AS file,
       pg_read_binary_file(pg_temp.path(archive_file)) AS bytes
  FROM telos.chunks WHERE hypertable = 'ae.m'::regclass;
SELECT week, chunk, pg_temp.mask(file) AS file FROM f ORDER BY week;
SELECT count(*), sum(value) FROM ae.m;

-- ---------------------------------------------------------------------------
-- A missing file.
-- ---------------------------------------------------------------------------
SELECT pg_temp.sh(format('mv %s %s.away', pg_temp.path(file), pg_temp.path(file)))
  FROM f WHERE week = '2024-03-04';
SELECT pg_temp.err('SELECT count(*) FROM ae.m');
SELECT pg_temp.err($$SELECT count(*) FROM ae.m WHERE time >= '2024-03-11'$$) AS other_week;
SELECT pg_temp.err(format('SELECT telos.verify_archive(%L)', chunk)) FROM f WHERE week = '2024-03-04';
SELECT pg_temp.err(format('SELECT telos.restore_chunk(%L)', chunk)) FROM f WHERE week = '2024-03-04';
SELECT range_start::date, state FROM telos.chunks WHERE hypertable = 'ae.m'::regclass ORDER BY 1;
SELECT pg_temp.sh(format('mv %s.away %s', pg_temp.path(file), pg_temp.path(file)))
  FROM f WHERE week = '2024-03-04';
SELECT count(*), sum(value) FROM ae.m;
-- The file itself a symbolic link (to an intact copy): not followed.
SELECT pg_temp.sh(format('mv %s %s.target && ln -s %s.target %s', pg_temp.path(file),
                         pg_temp.path(file), pg_temp.path(file), pg_temp.path(file)))
  FROM f WHERE week = '2024-03-04';
SELECT pg_temp.err('SELECT count(*) FROM ae.m');
SELECT pg_temp.err(format('SELECT telos.verify_archive(%L)', chunk)) FROM f WHERE week = '2024-03-04';
SELECT pg_temp.sh(format('rm %s && mv %s.target %s', pg_temp.path(file), pg_temp.path(file),
                         pg_temp.path(file)))
  FROM f WHERE week = '2024-03-04';
SELECT count(*), sum(value) FROM ae.m;

-- ---------------------------------------------------------------------------
-- A corrupted byte, in a segment, in the index, in the header.
-- ---------------------------------------------------------------------------
CREATE FUNCTION pg_temp.flip(week date, pos int) RETURNS void LANGUAGE sql AS $$
    SELECT pg_temp.write_file(pg_temp.path(file),
                              set_byte(bytes, pos, get_byte(bytes, pos) # 1))
      FROM f WHERE f.week = flip.week
$$;
CREATE FUNCTION pg_temp.repair(week date) RETURNS void LANGUAGE sql AS $$
    SELECT pg_temp.write_file(pg_temp.path(file), bytes) FROM f WHERE f.week = repair.week
$$;
SELECT pg_temp.flip('2024-03-04', length(bytes) / 3) FROM f WHERE week = '2024-03-04';
SELECT pg_temp.err('SELECT count(*) FROM ae.m');
SELECT pg_temp.err('SELECT * FROM ae.m ORDER BY time LIMIT 1');
-- Verification and restore refuse too; the chunk stays archived.
SELECT pg_temp.err(format('SELECT telos.verify_archive(%L)', chunk)) FROM f WHERE week = '2024-03-04';
SELECT pg_temp.err(format('SELECT telos.restore_chunk(%L)', chunk)) FROM f WHERE week = '2024-03-04';
SELECT range_start::date, state FROM telos.chunks WHERE hypertable = 'ae.m'::regclass ORDER BY 1;
SELECT pg_temp.repair('2024-03-04');
SELECT count(*), sum(value) FROM ae.m;
-- The index (just before the 44-byte trailer) and the header.
SELECT pg_temp.flip('2024-03-04', length(bytes) - 50) FROM f WHERE week = '2024-03-04';
SELECT pg_temp.err('SELECT count(*) FROM ae.m');
SELECT pg_temp.flip('2024-03-04', 20);
SELECT pg_temp.err('SELECT count(*) FROM ae.m');
-- A truncated file.
SELECT pg_temp.write_file(pg_temp.path(file), substr(bytes, 1, length(bytes) - 1))
  FROM f WHERE week = '2024-03-04';
SELECT pg_temp.err('SELECT count(*) FROM ae.m');
SELECT pg_temp.write_file(pg_temp.path(file), ''::bytea) FROM f WHERE week = '2024-03-04';
SELECT pg_temp.err('SELECT count(*) FROM ae.m');
SELECT pg_temp.repair('2024-03-04');

-- ---------------------------------------------------------------------------
-- A valid archive file, but another chunk's: refused by its checksum.
-- ---------------------------------------------------------------------------
SELECT pg_temp.write_file(pg_temp.path(a.file), b.bytes)
  FROM f a, f b WHERE a.week = '2024-03-04' AND b.week = '2024-03-11';
SELECT pg_temp.err('SELECT count(*) FROM ae.m');
SELECT pg_temp.err(format('SELECT telos.verify_archive(%L)', chunk)) FROM f WHERE week = '2024-03-04';
SELECT pg_temp.repair('2024-03-04');
SELECT count(*), sum(value) FROM ae.m;
SELECT v ->> 'rows' AS rows, v ->> 'segments' AS segments
  FROM f, telos.verify_archive(f.chunk::regclass) v ORDER BY week;
-- A restore after all that gives every row back.
SELECT telos.restore_chunk(chunk::regclass)::text FROM f ORDER BY week;
SELECT count(*) AS missing FROM (SELECT * FROM ae.expected EXCEPT ALL SELECT * FROM ae.m) x;
SELECT count(*) AS extra FROM (SELECT * FROM ae.m EXCEPT ALL SELECT * FROM ae.expected) x;

-- ---------------------------------------------------------------------------
-- Locations stay inside the archive directory.
-- ---------------------------------------------------------------------------
CREATE TEMP TABLE c AS
SELECT chunk::text AS chunk FROM telos.chunks WHERE hypertable = 'ae.m'::regclass AND range_start = '2024-03-04';
SELECT loc, pg_temp.err(format('SELECT telos.archive_chunk(%L, %L)', chunk, loc))
  FROM c, unnest(ARRAY['..', '../elsewhere', 'a/../../b', '/tmp', '/tmp/x', 'a//b', 'a/',
                       './a', 'a b', 'a;rm', E'a\nb', '', 'caf' || chr(233)]) loc;
-- A symbolic link inside the archive directory (to a directory outside).
SELECT pg_temp.sh(format('mkdir -p %s && ln -sfn /tmp %s',
                         pg_temp.archive_root(), pg_temp.path('escape')));
SELECT pg_temp.err(format('SELECT telos.archive_chunk(%L, %L)', chunk, 'escape')) FROM c;
SELECT pg_temp.err(format('SELECT telos.archive_chunk(%L, %L)', chunk, 'escape/deeper')) FROM c;
SELECT pg_temp.sh(format('rm %s', pg_temp.path('escape')));
-- A proper location: a subdirectory, made as needed.
SELECT telos.archive_chunk(chunk::regclass, 'cold/2024')::text FROM c;
SELECT pg_temp.mask(archive_file) AS file FROM telos.chunks
 WHERE hypertable = 'ae.m'::regclass AND archive_file IS NOT NULL;
SELECT count(*), sum(value) FROM ae.m;

-- The setting is the server's: no session may point it elsewhere.
SELECT pg_temp.err($$SET telos.archive_directory = '/tmp'$$);
SELECT pg_temp.err($$SELECT set_config('telos.archive_directory', '/tmp', false)$$);

-- Only the owner (or a role that may delete every row) archives and
-- restores; anyone who may read the table may verify.
CREATE ROLE regress_ae_reader;
GRANT USAGE ON SCHEMA ae TO regress_ae_reader;
GRANT SELECT ON ae.m, c TO regress_ae_reader;
SET ROLE regress_ae_reader;
SELECT pg_temp.err(format('SELECT telos.restore_chunk(%L)', chunk)) FROM c;
SELECT pg_temp.err(format('SELECT telos.archive_chunk(%L)', chunk))
  FROM telos.chunks WHERE hypertable = 'ae.m'::regclass AND range_start = '2024-03-11';
SELECT (telos.verify_archive(chunk::regclass) ->> 'rows')::int > 0 AS verified FROM c;
SELECT pg_temp.err('SELECT telos.archive_sweep()');
RESET ROLE;

DROP SCHEMA ae CASCADE;
DROP ROLE regress_ae_reader;
