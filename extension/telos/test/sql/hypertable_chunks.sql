--
-- hypertable_chunks: chunk geometry (aligned, stable boundaries whatever the
-- session's time zone), telos.ensure_chunks at boundaries, years back and far
-- ahead, chunk names, the telos.chunks / telos.hypertables views, who may
-- make chunks and as whom they are made, and bad input.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
SET timezone = 'UTC';
SET client_min_messages = notice;

CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
GRANT EXECUTE ON FUNCTION pg_temp.try(text) TO PUBLIC;

-- The chunks of a hypertable as name, range, state (no OIDs, no sizes).
CREATE FUNCTION pg_temp.chunks(t regclass)
    RETURNS TABLE(chunk text, range_start timestamptz, range_end timestamptz, state text)
    LANGUAGE sql AS $$
    SELECT c.chunk::text, c.range_start, c.range_end, c.state
      FROM telos.chunks c WHERE c.hypertable = t ORDER BY c.range_start
$$;
GRANT EXECUTE ON FUNCTION pg_temp.chunks(regclass) TO PUBLIC;

-- Roles as in the app: an owner, an API role with INSERT only, a reader.
CREATE ROLE regress_chk_owner;
CREATE ROLE regress_chk_app;
CREATE ROLE regress_chk_reader;
CREATE SCHEMA chk;
GRANT USAGE, CREATE ON SCHEMA chk TO regress_chk_owner;
GRANT USAGE ON SCHEMA chk TO regress_chk_app, regress_chk_reader;

SET ROLE regress_chk_owner;
CREATE TABLE chk.raw (
    tenant_id   uuid        NOT NULL,
    time        timestamptz NOT NULL,
    metric_type text        NOT NULL,
    value       float8      NOT NULL
) PARTITION BY RANGE (time);
CREATE INDEX raw_tenant_metric_time_idx ON chk.raw (tenant_id, metric_type, time DESC);
CREATE INDEX raw_time_idx ON chk.raw (time);
ALTER TABLE chk.raw ENABLE ROW LEVEL SECURITY;
ALTER TABLE chk.raw FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON chk.raw
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
GRANT SELECT, INSERT ON chk.raw TO regress_chk_app;
GRANT SELECT ON chk.raw TO regress_chk_reader;
SELECT telos.create_hypertable('chk.raw', 'time');
RESET ROLE;

-- ---------------------------------------------------------------------------
-- Geometry. A boundary belongs to the chunk that starts there; one
-- microsecond earlier to the one before. Weekly chunks start Monday 00:00
-- UTC, in every session time zone.
-- ---------------------------------------------------------------------------
SELECT * FROM telos.chunk_range('chk.raw', '2024-01-08 00:00:00+00');
SELECT * FROM telos.chunk_range('chk.raw', '2024-01-07 23:59:59.999999+00');
SET timezone = 'Asia/Kolkata';
SELECT range_start AT TIME ZONE 'UTC' AS start_utc, extract(isodow FROM range_start AT TIME ZONE 'UTC') AS weekday
  FROM telos.chunk_range('chk.raw', '2024-03-31 02:30:00+05:30');
SET timezone = 'America/New_York';
-- The DST switch (2024-03-10) changes nothing: chunks are UTC weeks.
SELECT range_start AT TIME ZONE 'UTC' AS start_utc, range_end - range_start AS width
  FROM telos.chunk_range('chk.raw', '2024-03-10 03:30:00-04');
SET timezone = 'UTC';
-- Far from the origin, both ways.
SELECT * FROM telos.chunk_range('chk.raw', '1970-01-01 00:00+00');
SELECT * FROM telos.chunk_range('chk.raw', '2999-12-31 23:59:59.999999+00');
SELECT * FROM telos.chunk_range('chk.raw', '0044-03-15 12:00+00 BC');

-- ---------------------------------------------------------------------------
-- ensure_chunks: the API role makes chunks; they belong to the owner.
-- [from, to] is inclusive: a 'to' on a boundary makes the chunk it starts.
-- ---------------------------------------------------------------------------
SET ROLE regress_chk_app;
SELECT telos.ensure_chunks('chk.raw', '2024-01-01 00:00+00', '2024-01-08 00:00+00') AS created;
SELECT telos.ensure_chunks('chk.raw', '2024-01-03 00:00+00', '2024-01-14 23:59:59.999999+00') AS created_again;
SELECT current_user;
-- It cannot touch a chunk directly: no privilege (only the hypertable's).
SELECT pg_temp.try('SELECT count(*) FROM chk.raw_p20240101') AS direct_read;
-- Writes go through the hypertable, checked by its policy.
SELECT set_config('app.current_tenant_id', '00000000-0000-0000-0000-000000000001', false);
INSERT INTO chk.raw VALUES ('00000000-0000-0000-0000-000000000001', '2024-01-08 00:00+00', 'revenue', 10);
SELECT pg_temp.try($$INSERT INTO chk.raw VALUES ('00000000-0000-0000-0000-000000000002', '2024-01-08 00:00+00', 'revenue', 10)$$) AS other_tenant;
SELECT tableoid::regclass AS partition, time FROM chk.raw;
SELECT set_config('app.current_tenant_id', '', false);
RESET ROLE;
SELECT * FROM pg_temp.chunks('chk.raw');
SELECT c.relname, c.relowner::regrole AS owner, c.relrowsecurity, c.relforcerowsecurity,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies,
       (SELECT count(*) FROM pg_index x WHERE x.indrelid = c.oid) AS indexes
  FROM pg_class c WHERE c.relname IN ('raw_p20240101', 'raw_p20240108') ORDER BY 1;

-- Backfill years back: one call per run of data, as ingest does.
SET ROLE regress_chk_app;
SELECT telos.ensure_chunks('chk.raw', '2015-06-01 00:00+00', '2015-06-20 00:00+00') AS created_2015;
SELECT telos.ensure_chunks('chk.raw', '1970-01-01 00:00+00', '1970-01-01 00:00+00') AS created_1970;
-- Far future, and before the common era.
SELECT telos.ensure_chunks('chk.raw', '2500-02-28 00:00+00', '2500-03-01 00:00+00') AS created_2500;
SELECT telos.ensure_chunks('chk.raw', '0044-03-15 12:00+00 BC', '0044-03-15 12:00+00 BC') AS created_44bc;
-- Rows anywhere in those ranges land in their chunk.
SELECT set_config('app.current_tenant_id', '00000000-0000-0000-0000-000000000001', false);
INSERT INTO chk.raw VALUES
    ('00000000-0000-0000-0000-000000000001', '2015-06-19 23:59:59+00', 'revenue', 1),
    ('00000000-0000-0000-0000-000000000001', '1970-01-01 00:00+00', 'revenue', 2),
    ('00000000-0000-0000-0000-000000000001', '2500-03-01 12:00+00', 'revenue', 3),
    ('00000000-0000-0000-0000-000000000001', '0044-03-15 12:00+00 BC', 'revenue', 4);
SELECT tableoid::regclass AS partition, time FROM chk.raw ORDER BY time;
SELECT set_config('app.current_tenant_id', '', false);
RESET ROLE;
SELECT * FROM pg_temp.chunks('chk.raw');

-- ---------------------------------------------------------------------------
-- The views. Row estimates follow ANALYZE / the statistics.
-- ---------------------------------------------------------------------------
ANALYZE chk.raw;
SELECT chunk, row_estimate, total_bytes > 0 AS has_size, state
  FROM telos.chunks WHERE hypertable = 'chk.raw'::regclass ORDER BY range_start;
SELECT hypertable, time_column, chunk_interval, num_chunks, total_bytes > 0 AS has_size, default_rows
  FROM telos.hypertables WHERE hypertable = 'chk.raw'::regclass;
-- Anyone may read them (as pg_catalog), and the catalog.
SET ROLE regress_chk_reader;
SELECT count(*) AS chunks_visible FROM telos.chunks WHERE hypertable = 'chk.raw'::regclass;
SELECT count(*) AS catalog_rows FROM telos.chunk WHERE hypertable = 'chk.raw'::regclass;
-- ...but nobody writes the catalog by hand.
SELECT pg_temp.try($$UPDATE telos.chunk SET state = 'dropped'$$) AS write_catalog;
SELECT pg_temp.try($$DELETE FROM telos.hypertable$$) AS delete_catalog;
RESET ROLE;

-- ---------------------------------------------------------------------------
-- Names: sub-day chunks carry the time of day; a long table name is clipped
-- to fit 63 bytes; a name already taken gets a number.
-- ---------------------------------------------------------------------------
CREATE TABLE chk.quarter (time timestamptz NOT NULL) PARTITION BY RANGE (time);
SELECT telos.create_hypertable('chk.quarter', 'time', '15 minutes');
SELECT telos.ensure_chunks('chk.quarter', '2024-05-01 23:40+00', '2024-05-02 00:10+00') AS created;
SELECT * FROM pg_temp.chunks('chk.quarter');
CREATE TABLE chk.a_table_name_that_is_quite_long_enough_to_need_clipping_pad63 (time timestamptz NOT NULL)
    PARTITION BY RANGE (time);
SELECT telos.create_hypertable('chk.a_table_name_that_is_quite_long_enough_to_need_clipping_pad63', 'time');
CREATE TABLE chk.a_table_name_that_is_quite_long_enough_to_need_clippi_p20240101 (x int);
SELECT telos.ensure_chunks('chk.a_table_name_that_is_quite_long_enough_to_need_clipping_pad63',
                           '2024-01-01 00:00+00', '2024-01-08 00:00+00') AS created;
SELECT chunk, length(chunk) FROM pg_temp.chunks('chk.a_table_name_that_is_quite_long_enough_to_need_clipping_pad63');

-- ---------------------------------------------------------------------------
-- A partition attached by hand: aligned, maintain adopts it; not aligned,
-- ensure_chunks refuses the range it overlaps (55000) and maintain warns.
-- ---------------------------------------------------------------------------
SET ROLE regress_chk_owner;
CREATE TABLE chk.raw_manual (LIKE chk.raw INCLUDING ALL);
ALTER TABLE chk.raw ATTACH PARTITION chk.raw_manual
    FOR VALUES FROM ('2024-06-03 00:00+00') TO ('2024-06-10 00:00+00');
CREATE TABLE chk.raw_odd (LIKE chk.raw INCLUDING ALL);
ALTER TABLE chk.raw ATTACH PARTITION chk.raw_odd
    FOR VALUES FROM ('2024-07-03 00:00+00') TO ('2024-07-05 00:00+00');
RESET ROLE;
SELECT telos.ensure_chunks('chk.raw', '2024-06-03 00:00+00', '2024-06-09 00:00+00') AS created_over_manual;
SELECT telos.ensure_chunks('chk.raw', '2024-06-24 00:00+00', '2024-07-04 00:00+00');
-- The error rolled back the chunks made before it in the same call.
SELECT count(*) AS chunks_from_failed_call FROM telos.chunk
 WHERE hypertable = 'chk.raw'::regclass AND range_start = '2024-06-24 00:00+00';
-- maintain works around it (a WARNING) and adopts the aligned one.
SELECT jsonb_build_object('adopted', r -> 'chunks_adopted', 'default_rows', r -> 'default_rows')
  FROM telos.maintain('chk.raw', '0 days') AS r;
SELECT chunk, range_start, range_end FROM pg_temp.chunks('chk.raw') WHERE chunk = 'chk.raw_manual';

-- ---------------------------------------------------------------------------
-- The work runs as the owner, never leaks out of the call: after an error
-- inside (the owner lost CREATE on the schema), the caller is itself again,
-- and a savepoint rolled back removes the chunk.
-- ---------------------------------------------------------------------------
SET ROLE regress_chk_app;
BEGIN;
SAVEPOINT s;
SELECT telos.ensure_chunks('chk.raw', '2030-01-01 00:00+00', '2030-01-01 00:00+00') AS created;
ROLLBACK TO SAVEPOINT s;
SELECT current_user, current_setting('search_path') AS search_path, current_setting('TimeZone') AS tz;
COMMIT;
SELECT count(*) AS chunks_2030 FROM telos.chunk WHERE hypertable = 'chk.raw'::regclass
   AND range_start >= '2030-01-01' AND range_start < '2031-01-01';
RESET ROLE;
REVOKE CREATE ON SCHEMA chk FROM regress_chk_owner;
SET ROLE regress_chk_app;
SET search_path = chk, public;
SET timezone = 'Pacific/Chatham';
SELECT pg_temp.try($$SELECT telos.ensure_chunks('chk.raw', '2031-01-01 00:00+00', '2031-01-01 00:00+00')$$) AS owner_cannot_create;
SELECT current_user, current_setting('search_path') AS search_path, current_setting('TimeZone') AS tz;
RESET search_path;
SET timezone = 'UTC';
RESET ROLE;
GRANT CREATE ON SCHEMA chk TO regress_chk_owner;

-- A hostile search_path does not reach the engine's SQL: a schema ahead of
-- pg_catalog with a catch-all "=" and look-alike functions changes nothing.
CREATE SCHEMA chk_evil;
CREATE FUNCTION chk_evil.trap(regclass, regclass) RETURNS boolean LANGUAGE plpgsql AS
    $$BEGIN RAISE EXCEPTION 'trap sprung'; END$$;
CREATE OPERATOR chk_evil.= (LEFTARG = regclass, RIGHTARG = regclass, FUNCTION = chk_evil.trap);
CREATE FUNCTION chk_evil.quote_ident(text) RETURNS text LANGUAGE plpgsql AS
    $$BEGIN RAISE EXCEPTION 'trap sprung'; END$$;
GRANT USAGE ON SCHEMA chk_evil TO PUBLIC;
SET ROLE regress_chk_app;
SET search_path = chk_evil, pg_catalog, public;
SELECT telos.ensure_chunks('chk.raw', '2032-01-01 00:00+00', '2032-01-01 00:00+00') AS created_despite_search_path;
RESET search_path;
RESET ROLE;

-- ---------------------------------------------------------------------------
-- Bad input.
-- ---------------------------------------------------------------------------
CREATE TABLE chk.not_hyper (time timestamptz NOT NULL) PARTITION BY RANGE (time);
SET ROLE regress_chk_reader;
SELECT pg_temp.try($$SELECT telos.ensure_chunks('chk.raw', '2024-01-01', '2024-01-02')$$) AS no_insert_privilege;
RESET ROLE;
SELECT pg_temp.try($$SELECT telos.ensure_chunks(NULL, '2024-01-01', '2024-01-02')$$) AS null_rel;
SELECT pg_temp.try($$SELECT telos.ensure_chunks('chk.raw', NULL, '2024-01-02')$$) AS null_from;
SELECT pg_temp.try($$SELECT telos.ensure_chunks('chk.raw', '2024-01-01', NULL)$$) AS null_to;
SELECT pg_temp.try($$SELECT telos.ensure_chunks(4000000000::oid::regclass, '2024-01-01', '2024-01-02')$$) AS no_such_oid;
SELECT pg_temp.try($$SELECT telos.ensure_chunks('chk.not_hyper', '2024-01-01', '2024-01-02')$$) AS not_a_hypertable;
SELECT pg_temp.try($$SELECT telos.ensure_chunks('pg_class', '2024-01-01', '2024-01-02')$$) AS system_table;
SELECT pg_temp.try($$SELECT telos.ensure_chunks('chk.raw', '2024-01-02', '2024-01-01')$$) AS from_after_to;
SELECT pg_temp.try($$SELECT telos.ensure_chunks('chk.raw', '2024-01-01', 'infinity')$$) AS infinite_to;
SELECT pg_temp.try($$SELECT telos.ensure_chunks('chk.raw', '-infinity', '2024-01-01')$$) AS infinite_from;
SELECT pg_temp.try($$SELECT telos.ensure_chunks('chk.raw', '294276-12-30 00:00+00', '294276-12-30 00:00+00')$$) AS past_the_top;
-- The first timestamptz, 4714-11-24 BC, is a Monday: weekly chunks reach it;
-- daily chunks starting at noon would have to start before it.
SELECT pg_temp.try($$SELECT telos.ensure_chunks('chk.raw', '4714-11-24 00:00+00 BC', '4714-11-24 00:00+00 BC')$$) AS at_the_bottom;
CREATE TABLE chk.noon (time timestamptz NOT NULL) PARTITION BY RANGE (time);
SELECT telos.create_hypertable('chk.noon', 'time', '1 day', origin => '2000-01-01 12:00+00');
SELECT pg_temp.try($$SELECT telos.ensure_chunks('chk.noon', '4714-11-24 00:00+00 BC', '4714-11-24 00:00+00 BC')$$) AS before_the_bottom;
SELECT pg_temp.try($$SELECT telos.ensure_chunks('chk.noon', '4714-11-24 12:00+00 BC', '4714-11-24 12:00+00 BC')$$) AS first_noon;
SELECT pg_temp.try($$SELECT telos.ensure_chunks('chk.raw', '2000-01-03', '2009-08-03')$$) AS too_many_chunks;
SELECT telos.ensure_chunks('chk.raw', '2000-01-03', '2009-08-03');
SELECT pg_temp.try($$SELECT telos.chunk_range(NULL, '2024-01-01')$$) AS range_null_rel;
SELECT pg_temp.try($$SELECT telos.chunk_range('chk.raw', NULL)$$) AS range_null_ts;
SELECT pg_temp.try($$SELECT telos.chunk_range('chk.not_hyper', '2024-01-01')$$) AS range_not_hypertable;
SELECT pg_temp.try($$SELECT telos.chunk_range('chk.raw', 'infinity')$$) AS range_infinite;

-- ---------------------------------------------------------------------------
-- Clean-up.
-- ---------------------------------------------------------------------------
DROP SCHEMA chk CASCADE;
DROP SCHEMA chk_evil CASCADE;
DROP FUNCTION pg_temp.try(text);
DROP FUNCTION pg_temp.chunks(regclass);
DROP ROLE regress_chk_owner, regress_chk_app, regress_chk_reader;
SELECT count(*) AS hypertables_left FROM telos.hypertable;
SELECT count(*) AS chunks_left FROM telos.chunk;
