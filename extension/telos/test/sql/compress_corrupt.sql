--
-- compress_corrupt: damaged segment rows give ERRCODE_DATA_CORRUPTED
-- (XX001) naming the chunk and the column -- never a crash, never rows.
-- Hand-made damage (truncated blob, bad version, a codec of another type,
-- a row count that disagrees, a blob of another column, a NULL blob, bad
-- counts), then random damage: bytes flipped and blobs cut short at random,
-- decompressed in a subtransaction each time; every attempt either fails
-- with XX001 or succeeds (the damage happened to decode), and the backend
-- survives all of them.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
RESET client_min_messages;
SET timezone = 'UTC';
\set VERBOSITY terse

CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;

CREATE SCHEMA bad;
CREATE TABLE bad.m (
    tenant_id   uuid        NOT NULL,
    time        timestamptz NOT NULL,
    metric_type text        NOT NULL,
    value       float8,
    flag        bool,
    note        text,
    n           int4
) PARTITION BY RANGE (time);
SELECT telos.create_hypertable('bad.m', 'time', '7 days');
SELECT telos.ensure_chunks('bad.m', '2024-01-01', '2024-01-01');
INSERT INTO bad.m
SELECT ('00000000-0000-4000-8000-00000000000' || t)::uuid,
       '2024-01-01'::timestamptz + i * interval '1 hour', 'm' || (i % 2),
       CASE WHEN i % 5 = 0 THEN NULL ELSE i * 1.5 END,
       i % 3 = 0,
       CASE WHEN i % 4 = 0 THEN 'note ' || (i % 9) ELSE md5(i::text) END,
       i * 37
  FROM generate_series(1, 2) t, generate_series(0, 167) i;
SELECT telos.compress_chunk('bad.m_p20240101')::text;
CREATE TABLE bad.orig AS SELECT * FROM _telos_internal.m_p20240101_seg;

-- Damages the first segment (by time) of tenant 1 / m0 with an UPDATE,
-- tries to decompress and to read the chunk, then puts the segment back.
CREATE FUNCTION pg_temp.damage(set_clause text) RETURNS TABLE(decompress text, scan text)
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE 'UPDATE _telos_internal.m_p20240101_seg SET ' || set_clause ||
            ' WHERE tenant_id = ''00000000-0000-4000-8000-000000000001'' AND metric_type = ''m0''';
    decompress := pg_temp.try($q$SELECT telos.decompress_chunk('bad.m_p20240101')$q$);
    -- Through the FDW (its messages are its own): the SQLSTATE.
    scan := left(pg_temp.try($q$SELECT count(*) FROM (SELECT * FROM bad.m OFFSET 0) s WHERE s::text IS NOT NULL$q$), 5);
    DELETE FROM _telos_internal.m_p20240101_seg;
    INSERT INTO _telos_internal.m_p20240101_seg SELECT * FROM bad.orig;
    RETURN NEXT;
END $$;

SELECT * FROM pg_temp.damage('value = substring(value FROM 1 FOR length(value) - 3)');
SELECT * FROM pg_temp.damage('value = substring(value FROM 1 FOR 5)');
SELECT * FROM pg_temp.damage('value = set_byte(value, 0, 9)');
SELECT * FROM pg_temp.damage('value = set_byte(value, 1, 7)');
SELECT * FROM pg_temp.damage('value = set_byte(value, 1, 99)');
SELECT * FROM pg_temp.damage('value = set_byte(value, 2, 2)');
SELECT * FROM pg_temp.damage('value = set_byte(value, 4, 1)');
SELECT * FROM pg_temp.damage('value = "time"');
SELECT * FROM pg_temp.damage('flag = note');
SELECT * FROM pg_temp.damage('note = NULL');
SELECT * FROM pg_temp.damage('value = ''\xdeadbeef''');
SELECT * FROM pg_temp.damage('value = ''''');
SELECT * FROM pg_temp.damage('_telos_count = _telos_count + 1');
SELECT * FROM pg_temp.damage('_telos_count = 0');
SELECT * FROM pg_temp.damage('_telos_count = 1001');
SELECT * FROM pg_temp.damage('n = value');
-- Intact again.
SELECT count(*) FROM bad.m;

-- Random damage to every blob column: 400 attempts.
CREATE TABLE bad.outcome (col text, how text, result text);
DO $$
DECLARE
    cols text[] := ARRAY['time', 'value', 'flag', 'note', 'n'];
    c text;
    blob bytea;
    len int;
    how text;
    res text;
BEGIN
    PERFORM setseed(0.42);
    FOR k IN 1..400 LOOP
        c := cols[1 + (k % 5)];
        EXECUTE format('SELECT %I FROM bad.orig ORDER BY tenant_id, metric_type, _telos_min_time LIMIT 1', c) INTO blob;
        len := length(blob);
        IF k % 3 = 0 THEN
            how := 'cut';
            blob := substring(blob FROM 1 FOR (random() * (len - 1))::int);
        ELSE
            how := 'flip';
            FOR j IN 1..(1 + (random() * 3)::int) LOOP
                blob := set_byte(blob, (random() * (len - 1))::int, (random() * 255)::int);
            END LOOP;
        END IF;
        BEGIN
            EXECUTE format('UPDATE _telos_internal.m_p20240101_seg SET %I = $1 WHERE _telos_min_time = '
                           '(SELECT min(_telos_min_time) FROM _telos_internal.m_p20240101_seg) '
                           'AND tenant_id = ''00000000-0000-4000-8000-000000000001'' AND metric_type = ''m0''', c)
              USING blob;
            PERFORM telos.decompress_chunk('bad.m_p20240101');
            RAISE EXCEPTION 'decoded';
        EXCEPTION WHEN OTHERS THEN
            res := CASE WHEN SQLERRM = 'decoded' THEN 'decoded' ELSE SQLSTATE END;
        END;
        INSERT INTO bad.outcome VALUES (c, how, res);
    END LOOP;
END $$;
-- Every attempt: an error XX001 or rows that decoded; nothing else.
SELECT count(*) AS attempts, count(*) FILTER (WHERE result NOT IN ('XX001', 'decoded')) AS other
  FROM bad.outcome;
SELECT count(*) > 200 AS mostly_detected FROM bad.outcome WHERE result = 'XX001';
SELECT state FROM telos.chunk WHERE hypertable = 'bad.m'::regclass;
SELECT count(*) FROM bad.m;

-- A metadata column of another type: an error, not a Datum misread.
ALTER TABLE _telos_internal.m_p20240101_seg ALTER _telos_min_time TYPE text;
SELECT left(pg_temp.try('SELECT count(*) FROM bad.m'), 5) AS scan;
ALTER TABLE _telos_internal.m_p20240101_seg
    ALTER _telos_min_time TYPE timestamptz USING _telos_min_time::timestamptz;
SELECT count(*) FROM bad.m;

DROP SCHEMA bad CASCADE;
