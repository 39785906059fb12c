--
-- compress_atomic: compress_chunk, decompress_chunk and recompress_chunk
-- are all or nothing. A failure injected after the new rows are written
-- (telos.debug_compress_fail_at = 'after_segments') or after the swap
-- ('after_swap'), or a cancel while the operation sleeps at either point
-- (statement_timeout), leaves the chunk as it was: same state, same kind of
-- relation, same rows, no stray table, no catalog row. (tests/t_compress.sh
-- kills the backend at the same points.)
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
RESET client_min_messages;
SET timezone = 'UTC';
-- No CONTEXT lines (they name the session's temporary schema).
\set VERBOSITY terse

CREATE FUNCTION pg_temp.try(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END $$;
GRANT EXECUTE ON FUNCTION pg_temp.try(text) TO PUBLIC;

CREATE SCHEMA atom;
CREATE TABLE atom.m (
    tenant_id   uuid        NOT NULL,
    time        timestamptz NOT NULL,
    metric_type text        NOT NULL,
    value       float8,
    note        text
) PARTITION BY RANGE (time);
CREATE INDEX ON atom.m (tenant_id, metric_type, time DESC);
SELECT telos.create_hypertable('atom.m', 'time', '7 days');
SELECT telos.ensure_chunks('atom.m', '2024-01-01', '2024-01-01');
INSERT INTO atom.m
SELECT ('00000000-0000-4000-8000-00000000000' || t)::uuid,
       '2024-01-01'::timestamptz + i * interval '10 minutes', 'm' || (i % 3),
       CASE WHEN i % 11 = 0 THEN NULL ELSE i / 8.0 END,
       CASE WHEN i % 7 = 0 THEN repeat('n', i % 50) END
  FROM generate_series(1, 4) t, generate_series(0, 1007) i;
CREATE TABLE atom.ref AS SELECT * FROM atom.m;

-- The state of the chunk: catalog state, relation kind, rows equal to
-- atom.ref (missing, extra), its internal tables and catalog row.
CREATE FUNCTION pg_temp.state() RETURNS TABLE(state text, relkind "char", missing bigint, extra bigint,
                                               internal_tables bigint, catalog_rows bigint)
    LANGUAGE sql AS $$
    SELECT c.state, k.relkind,
           (SELECT count(*) FROM (SELECT * FROM atom.ref EXCEPT ALL SELECT * FROM atom.m) a),
           (SELECT count(*) FROM (SELECT * FROM atom.m EXCEPT ALL SELECT * FROM atom.ref) b),
           (SELECT count(*) FROM pg_class WHERE relnamespace = '_telos_internal'::regnamespace
               AND relname LIKE 'm_p20240101%' AND relkind = 'r'),
           (SELECT count(*) FROM telos.compressed_chunk cc WHERE cc.chunk_id = c.id)
      FROM telos.chunk c JOIN pg_class k ON k.oid = c.relid
     WHERE c.hypertable = 'atom.m'::regclass
$$;

SELECT * FROM pg_temp.state();

-- The setting: superuser only, known points only.
SHOW telos.debug_compress_fail_at;
SELECT pg_temp.try($$SET telos.debug_compress_fail_at = 'somewhere'$$);
CREATE ROLE atom_user;
SET ROLE atom_user;
SELECT pg_temp.try($$SET telos.debug_compress_fail_at = 'after_swap'$$);
RESET ROLE;
DROP ROLE atom_user;

-- ---------------------------------------------------------------------
-- compress_chunk
-- ---------------------------------------------------------------------
SET telos.debug_compress_fail_at = 'after_segments';
SELECT pg_temp.try($$SELECT telos.compress_chunk('atom.m_p20240101')$$);
SELECT * FROM pg_temp.state();
SET telos.debug_compress_fail_at = 'after_swap';
SELECT pg_temp.try($$SELECT telos.compress_chunk('atom.m_p20240101')$$);
SELECT * FROM pg_temp.state();
SET statement_timeout = '300ms';
SET telos.debug_compress_fail_at = 'sleep_after_segments';
SELECT pg_temp.try($$SELECT telos.compress_chunk('atom.m_p20240101')$$);
SELECT * FROM pg_temp.state();
SET telos.debug_compress_fail_at = 'sleep_after_swap';
SELECT pg_temp.try($$SELECT telos.compress_chunk('atom.m_p20240101')$$);
RESET statement_timeout;
SELECT * FROM pg_temp.state();
RESET telos.debug_compress_fail_at;
SELECT telos.compress_chunk('atom.m_p20240101')::text;
SELECT * FROM pg_temp.state();

-- ---------------------------------------------------------------------
-- recompress_chunk (with late rows in the delta table)
-- ---------------------------------------------------------------------
INSERT INTO atom.m VALUES ('00000000-0000-4000-8000-000000000001', '2024-01-02 00:05', 'm1', -5, 'late'),
                          ('00000000-0000-4000-8000-000000000005', '2024-01-05', 'new', NULL, NULL);
INSERT INTO atom.ref VALUES ('00000000-0000-4000-8000-000000000001', '2024-01-02 00:05', 'm1', -5, 'late'),
                            ('00000000-0000-4000-8000-000000000005', '2024-01-05', 'new', NULL, NULL);
SELECT count(*) AS delta_rows FROM _telos_internal.m_p20240101_delta;
SET telos.debug_compress_fail_at = 'after_segments';
SELECT pg_temp.try($$SELECT telos.recompress_chunk('atom.m_p20240101')$$);
SELECT * FROM pg_temp.state();
SET telos.debug_compress_fail_at = 'after_swap';
SELECT pg_temp.try($$SELECT telos.recompress_chunk('atom.m_p20240101')$$);
SELECT * FROM pg_temp.state();
SET statement_timeout = '300ms';
SET telos.debug_compress_fail_at = 'sleep_after_swap';
SELECT pg_temp.try($$SELECT telos.recompress_chunk('atom.m_p20240101')$$);
RESET statement_timeout;
SELECT count(*) AS delta_rows FROM _telos_internal.m_p20240101_delta;
SELECT * FROM pg_temp.state();
RESET telos.debug_compress_fail_at;
SELECT telos.recompress_chunk('atom.m_p20240101');
SELECT count(*) AS delta_rows FROM _telos_internal.m_p20240101_delta;
SELECT * FROM pg_temp.state();

-- ---------------------------------------------------------------------
-- decompress_chunk
-- ---------------------------------------------------------------------
INSERT INTO atom.m VALUES ('00000000-0000-4000-8000-000000000002', '2024-01-07 23:59', 'm2', 1e300, 'x');
INSERT INTO atom.ref VALUES ('00000000-0000-4000-8000-000000000002', '2024-01-07 23:59', 'm2', 1e300, 'x');
SET telos.debug_compress_fail_at = 'after_segments';
SELECT pg_temp.try($$SELECT telos.decompress_chunk('atom.m_p20240101')$$);
SELECT * FROM pg_temp.state();
SET telos.debug_compress_fail_at = 'after_swap';
SELECT pg_temp.try($$SELECT telos.decompress_chunk('atom.m_p20240101')$$);
SELECT * FROM pg_temp.state();
SET statement_timeout = '300ms';
SET telos.debug_compress_fail_at = 'sleep_after_segments';
SELECT pg_temp.try($$SELECT telos.decompress_chunk('atom.m_p20240101')$$);
SET telos.debug_compress_fail_at = 'sleep_after_swap';
SELECT pg_temp.try($$SELECT telos.decompress_chunk('atom.m_p20240101')$$);
RESET statement_timeout;
SELECT * FROM pg_temp.state();
RESET telos.debug_compress_fail_at;
SELECT telos.decompress_chunk('atom.m_p20240101')::text;
SELECT * FROM pg_temp.state();

-- In a transaction that rolls back, nothing happened either.
BEGIN;
SELECT telos.compress_chunk('atom.m_p20240101')::text;
SELECT state, relkind FROM pg_temp.state();
ROLLBACK;
SELECT * FROM pg_temp.state();
-- A failure in a subtransaction: the outer transaction goes on, chunk intact.
BEGIN;
SET LOCAL telos.debug_compress_fail_at = 'after_swap';
SELECT pg_temp.try($$SELECT telos.compress_chunk('atom.m_p20240101')$$);
SELECT * FROM pg_temp.state();
COMMIT;

DROP SCHEMA atom CASCADE;
