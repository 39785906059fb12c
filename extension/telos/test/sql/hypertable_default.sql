--
-- hypertable_default: the default partition is only a safety net. Rows that
-- land there (no chunk yet) move into proper chunks -- through
-- ensure_chunks for the ranges it makes, relocate_default and maintain --
-- for every tenant, whatever the table's shape (dropped and generated
-- columns, defaults, CHECKs). Rows no chunk can hold (infinite times, a
-- range an unaligned partition overlaps) stay, and maintain says so.
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

CREATE ROLE regress_def_owner;
CREATE ROLE regress_def_app;
CREATE SCHEMA def;
GRANT USAGE, CREATE ON SCHEMA def TO regress_def_owner;
GRANT USAGE ON SCHEMA def TO regress_def_app;

SET ROLE regress_def_owner;
-- A dropped column makes the hypertable's columns differ in position from
-- its chunks'; a generated column must be recomputed, not copied.
CREATE TABLE def.raw (
    tenant_id   uuid        NOT NULL,
    gone        int,
    time        timestamptz NOT NULL,
    metric_type text        NOT NULL CHECK (metric_type ~ '^[a-z]+$'),
    value       float8      NOT NULL,
    doubled     float8      GENERATED ALWAYS AS (value * 2) STORED,
    source      text        DEFAULT 'api'
) PARTITION BY RANGE (time);
ALTER TABLE def.raw DROP COLUMN gone;
CREATE INDEX raw_time_idx ON def.raw (time);
ALTER TABLE def.raw ENABLE ROW LEVEL SECURITY;
ALTER TABLE def.raw FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON def.raw
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
GRANT SELECT, INSERT ON def.raw TO regress_def_app;
SELECT telos.create_hypertable('def.raw', 'time');
RESET ROLE;

-- Rows of two tenants, written by the API role, before any chunk exists:
-- all in the default partition; no insert fails.
SET ROLE regress_def_app;
SELECT set_config('app.current_tenant_id', '00000000-0000-0000-0000-00000000000a', false);
INSERT INTO def.raw (tenant_id, time, metric_type, value) VALUES
    ('00000000-0000-0000-0000-00000000000a', '2024-01-01 00:00+00', 'revenue', 1),
    ('00000000-0000-0000-0000-00000000000a', '2024-01-07 23:59:59.999999+00', 'revenue', 2),
    ('00000000-0000-0000-0000-00000000000a', '2024-01-08 00:00+00', 'revenue', 3),
    ('00000000-0000-0000-0000-00000000000a', '2019-05-05 05:05+00', 'revenue', 4),
    ('00000000-0000-0000-0000-00000000000a', '2088-08-08 08:08+00', 'revenue', 5),
    ('00000000-0000-0000-0000-00000000000a', 'infinity', 'revenue', 6),
    ('00000000-0000-0000-0000-00000000000a', '-infinity', 'revenue', 7);
SELECT set_config('app.current_tenant_id', '00000000-0000-0000-0000-00000000000b', false);
INSERT INTO def.raw (tenant_id, time, metric_type, value, source) VALUES
    ('00000000-0000-0000-0000-00000000000b', '2024-01-03 12:00+00', 'cash', 10, 'erp'),
    ('00000000-0000-0000-0000-00000000000b', '2024-02-29 12:00+00', 'cash', 11, 'erp');
SELECT set_config('app.current_tenant_id', '', false);
RESET ROLE;

-- The table as it stands (the superuser running the test sees every tenant):
SELECT tableoid::regclass AS partition, tenant_id, time, value, doubled, source
  FROM def.raw ORDER BY time, tenant_id;

-- ensure_chunks for the first week moves that week's rows -- of both
-- tenants -- into the new chunk; the rest stays in the default.
SET ROLE regress_def_app;
SELECT telos.ensure_chunks('def.raw', '2024-01-02', '2024-01-02') AS created;
RESET ROLE;
SELECT tableoid::regclass AS partition, tenant_id, time, value, doubled, source
  FROM def.raw ORDER BY time, tenant_id;

-- An unaligned partition attached by hand is in the way of one row's
-- chunk: that row cannot move.
SET ROLE regress_def_owner;
CREATE TABLE def.raw_odd (LIKE def.raw INCLUDING DEFAULTS INCLUDING CONSTRAINTS);
ALTER TABLE def.raw_odd DROP COLUMN doubled;
ALTER TABLE def.raw_odd ADD COLUMN doubled float8 GENERATED ALWAYS AS (value * 2) STORED;
ALTER TABLE def.raw_odd DROP COLUMN source;
ALTER TABLE def.raw_odd ADD COLUMN source text DEFAULT 'api';
ALTER TABLE def.raw ATTACH PARTITION def.raw_odd
    FOR VALUES FROM ('2024-03-01 00:00+00') TO ('2024-03-02 00:00+00');
RESET ROLE;

-- relocate_default (the API role may: INSERT) empties the default into
-- chunks, except what no chunk can hold; it returns the rows moved.
SET ROLE regress_def_app;
SELECT telos.relocate_default('def.raw') AS moved;
SELECT current_user;
RESET ROLE;
SELECT tableoid::regclass AS partition, tenant_id, time, value, doubled, source
  FROM def.raw ORDER BY time, tenant_id;
SELECT chunk, range_start, range_end FROM telos.chunks
 WHERE hypertable = 'def.raw'::regclass ORDER BY range_start;

-- Each tenant still sees exactly its own rows through the hypertable, and
-- the moved rows are intact (generated column recomputed, defaults kept).
SET ROLE regress_def_app;
SELECT set_config('app.current_tenant_id', '00000000-0000-0000-0000-00000000000b', false);
SELECT time, value, doubled, source FROM def.raw ORDER BY time;
SELECT set_config('app.current_tenant_id', '', false);
RESET ROLE;

-- maintain: nothing left to move, reports what the default still holds
-- (the two infinite rows and the one in the way).
SELECT r - 'hypertable' - 'chunks_created' AS report
  FROM telos.maintain('def.raw', '0 days') AS r;
-- Once the odd partition is gone, the stuck row moves on the next run.
SET ROLE regress_def_owner;
ALTER TABLE def.raw DETACH PARTITION def.raw_odd;
DROP TABLE def.raw_odd;
RESET ROLE;
SELECT telos.relocate_default('def.raw') AS moved;
SELECT r - 'hypertable' - 'chunks_created' AS report
  FROM telos.maintain('def.raw', '0 days') AS r;

-- New rows for existing chunks never touch the default again.
SET ROLE regress_def_app;
SELECT set_config('app.current_tenant_id', '00000000-0000-0000-0000-00000000000a', false);
INSERT INTO def.raw (tenant_id, time, metric_type, value) VALUES
    ('00000000-0000-0000-0000-00000000000a', '2024-01-05 00:00+00', 'revenue', 8);
SELECT tableoid::regclass AS partition FROM def.raw WHERE value = 8;
SELECT set_config('app.current_tenant_id', '', false);
RESET ROLE;

-- ---------------------------------------------------------------------------
-- COPY into the hypertable with no chunk for its rows: accepted (default),
-- then relocated.
-- ---------------------------------------------------------------------------
CREATE TABLE def.plain (time timestamptz NOT NULL, v int) PARTITION BY RANGE (time);
SELECT telos.create_hypertable('def.plain', 'time', '1 day');
COPY def.plain (time, v) FROM stdin;
2031-01-01 01:00:00+00	1
2031-01-02 01:00:00+00	2
2031-01-02 23:00:00+00	3
1999-12-31 23:59:59+00	4
\.
SELECT tableoid::regclass AS partition, count(*) FROM def.plain GROUP BY 1 ORDER BY 1;
SELECT telos.relocate_default('def.plain') AS moved;
SELECT tableoid::regclass AS partition, count(*) FROM def.plain GROUP BY 1 ORDER BY 1;
-- An empty default: nothing to do, no lock taken beyond ACCESS SHARE.
BEGIN;
SELECT telos.relocate_default('def.plain') AS moved;
SELECT mode FROM pg_locks
 WHERE locktype = 'relation' AND pid = pg_backend_pid()
   AND relation IN ('def.plain'::regclass, 'def.plain_default'::regclass)
 ORDER BY relation::regclass::text, mode;
COMMIT;

-- ---------------------------------------------------------------------------
-- Bad input.
-- ---------------------------------------------------------------------------
CREATE TABLE def.not_hyper (time timestamptz NOT NULL) PARTITION BY RANGE (time);
CREATE ROLE regress_def_nobody;
GRANT USAGE ON SCHEMA def TO regress_def_nobody;
SET ROLE regress_def_nobody;
SELECT pg_temp.try($$SELECT telos.relocate_default('def.plain')$$) AS relocate_no_privilege;
SELECT pg_temp.try($$SELECT telos.maintain('def.plain')$$) AS maintain_no_privilege;
RESET ROLE;
SELECT pg_temp.try($$SELECT telos.relocate_default(NULL)$$) AS relocate_null;
SELECT pg_temp.try($$SELECT telos.relocate_default('def.not_hyper')$$) AS relocate_not_hypertable;
SELECT pg_temp.try($$SELECT telos.relocate_default(4000000000::oid::regclass)$$) AS relocate_no_such_oid;
SELECT pg_temp.try($$SELECT telos.maintain(NULL)$$) AS maintain_null_rel;
SELECT pg_temp.try($$SELECT telos.maintain('def.plain', NULL)$$) AS maintain_null_ahead;
SELECT pg_temp.try($$SELECT telos.maintain('def.plain', '-1 day')$$) AS maintain_negative;
SELECT regexp_replace(pg_temp.try($$SELECT telos.maintain('def.plain', '1000 days')$$),
                      '\[.*\]', '[now, now + 1000 days]') AS maintain_too_far;
SELECT pg_temp.try($$SELECT telos.maintain('def.not_hyper')$$) AS maintain_not_hypertable;
SELECT pg_temp.try($$SELECT telos.maintain('def.plain', '300000 years')$$) AS maintain_overflow;

-- ---------------------------------------------------------------------------
-- Clean-up.
-- ---------------------------------------------------------------------------
DROP SCHEMA def CASCADE;
DROP FUNCTION pg_temp.try(text);
DROP ROLE regress_def_owner, regress_def_app, regress_def_nobody;
SELECT count(*) AS hypertables_left FROM telos.hypertable;
