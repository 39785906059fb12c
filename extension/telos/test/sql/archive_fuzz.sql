--
-- archive_fuzz: the archive file reader against damaged files. A file is
-- damaged in many ways -- one bit flipped at every byte of the header and
-- the trailer and at every 7th byte elsewhere, a byte set to 0x00 / 0xff
-- at every 13th, the file truncated at every 11th length, random bytes
-- appended, the whole file replaced by random bytes -- and after each the
-- chunk is read through the hypertable. Every read must fail with
-- ERRCODE_DATA_CORRUPTED naming the file: no crash, no other error, and
-- never a row. Then the file is put back and every row is there.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
RESET client_min_messages;
SET timezone = 'UTC';

CREATE FUNCTION pg_temp.path(f text) RETURNS text LANGUAGE sql AS $$
    SELECT current_setting('data_directory') || '/' || current_setting('telos.archive_directory')
           || '/' || f
$$;
CREATE FUNCTION pg_temp.write_file(path text, data bytea) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('COPY (SELECT %L) TO PROGRAM %L',
                   translate(encode(data, 'base64'), E'\n', ''),
                   format('base64 -d > %s', quote_literal(path)));
END $$;

CREATE SCHEMA fz;
CREATE TABLE fz.m (tenant_id uuid NOT NULL, time timestamptz NOT NULL,
                   metric_type text NOT NULL, value float8, note text) PARTITION BY RANGE (time);
SELECT telos.create_hypertable('fz.m', 'time');
SELECT telos.ensure_chunks('fz.m', '2024-05-06', '2024-05-12');
INSERT INTO fz.m
SELECT ('00000000-0000-0000-0000-00000000000' || t)::uuid,
       '2024-05-06'::timestamptz + g * interval '37 min', m,
       CASE WHEN g % 9 = 0 THEN NULL ELSE g * 0.5 END,
       CASE WHEN g % 4 = 0 THEN 'n' || g END
  FROM generate_series(1, 2) t, unnest(ARRAY['cpu', 'mem']) m, generate_series(0, 260) g;
SELECT count(*) AS rows FROM fz.m;
CREATE TABLE fz.expected AS SELECT * FROM fz.m;
SELECT telos.archive_chunk(chunk)::text FROM telos.chunks WHERE hypertable = 'fz.m'::regclass;
CREATE TEMP TABLE f AS
SELECT archive_file AS file, pg_read_binary_file(pg_temp.path(archive_file)) AS bytes
  FROM telos.chunks WHERE hypertable = 'fz.m'::regclass;
SELECT length(bytes) BETWEEN 1000 AND 20000 AS small_file,
       (telos.verify_archive('fz.m_p20240506') ->> 'segments')::int AS segments
  FROM f;

-- One damaged version of the file: write it, read the chunk, put the
-- outcome in a word. 'rows' would be a failure of the reader.
CREATE TEMP TABLE outcome (kind text, at int, result text);
CREATE FUNCTION pg_temp.try(kind text, at int, data bytea) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    PERFORM pg_temp.write_file(pg_temp.path((SELECT file FROM f)), data);
    BEGIN
        SELECT count(*) INTO n FROM (SELECT * FROM fz.m) x;
        INSERT INTO outcome VALUES (kind, at, 'rows');
    EXCEPTION WHEN OTHERS THEN
        INSERT INTO outcome VALUES (kind, at,
            CASE WHEN SQLSTATE = 'XX001' AND SQLERRM LIKE 'archive file "%' THEN 'XX001 naming the file'
                 ELSE SQLSTATE || ': ' || SQLERRM END);
    END;
END $$;

DO $$
DECLARE
    b bytea := (SELECT bytes FROM f);
    len int := length(b);
    i int;
BEGIN
    -- A bit flipped: every byte of the header (first 128) and the trailer
    -- (last 64), every 7th byte in between.
    FOR i IN 0 .. len - 1 LOOP
        IF i < 128 OR i >= len - 64 OR i % 7 = 0 THEN
            PERFORM pg_temp.try('bit flipped', i, set_byte(b, i, get_byte(b, i) # (1 << (i % 8))));
        END IF;
    END LOOP;
    -- A byte zeroed or saturated.
    FOR i IN 0 .. len - 1 BY 13 LOOP
        PERFORM pg_temp.try('byte set', i,
                            set_byte(b, i, CASE WHEN get_byte(b, i) = 0 THEN 255 ELSE 0 END));
    END LOOP;
    -- Truncated.
    FOR i IN 0 .. len - 1 BY 11 LOOP
        PERFORM pg_temp.try('truncated', i, substr(b, 1, i));
    END LOOP;
    PERFORM pg_temp.try('truncated', len - 1, substr(b, 1, len - 1));
    -- Extended, and replaced by noise of the same length.
    PERFORM pg_temp.try('extended', len, b || '\x00'::bytea);
    PERFORM pg_temp.try('extended', len, b || decode(repeat('ab', 100), 'hex'));
    PERFORM setseed(0.42);
    FOR i IN 1 .. 20 LOOP
        PERFORM pg_temp.try('noise', i,
            (SELECT string_agg(set_byte('\x00'::bytea, 0, (random() * 255)::int), ''::bytea)
               FROM generate_series(1, len)));
    END LOOP;
    -- A format version this library does not know.
    PERFORM pg_temp.try('other version', 8, set_byte(b, 8, 2));
END $$;

-- Every kind was tried many times, and every read was refused.
SELECT kind, count(*) >= CASE WHEN kind IN ('extended', 'other version') THEN 1 ELSE 20 END AS tried,
       bool_and(result = 'XX001 naming the file') AS all_refused
  FROM outcome GROUP BY 1 ORDER BY 1;
SELECT kind, at, result FROM outcome WHERE result <> 'XX001 naming the file' ORDER BY 1, 2;

-- The file back: every row, the whole file checks out, and it restores.
SELECT pg_temp.write_file(pg_temp.path(file), bytes) FROM f;
SELECT count(*) AS missing FROM (SELECT * FROM fz.expected EXCEPT ALL SELECT * FROM fz.m) x;
SELECT count(*) AS extra FROM (SELECT * FROM fz.m EXCEPT ALL SELECT * FROM fz.expected) x;
SELECT (telos.verify_archive('fz.m_p20240506') ->> 'rows')::int AS verified_rows;
SELECT telos.restore_chunk('fz.m_p20240506')::text;
SELECT count(*) FROM fz.m;

DROP SCHEMA fz CASCADE;
