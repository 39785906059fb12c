--
-- hypertable_create: telos.create_hypertable registers a table PARTITION BY
-- RANGE on a timestamptz column: aligned partitions are adopted as chunks,
-- a default partition is made when missing, the default's rows move into
-- chunks, the time column becomes NOT NULL; everything else is refused
-- with a clear error and a SQLSTATE, and a refusal leaves nothing behind.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
SET timezone = 'America/New_York';   -- chunk boundaries must not depend on it
SET client_min_messages = notice;

-- try(sql): runs sql, returns 'ok' or 'SQLSTATE: message'.
CREATE FUNCTION pg_temp.try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- partitions(t): the partitions of t with their bounds, in bound order.
CREATE FUNCTION pg_temp.partitions(t regclass)
    RETURNS TABLE(partition name, bound text) LANGUAGE sql AS $$
    SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
      FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
     WHERE i.inhparent = t
     ORDER BY pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT', 2
$$;

-- ---------------------------------------------------------------------------
-- A table shaped like business_metrics_raw, with two aligned weekly
-- partitions (Monday 00:00 UTC), a default partition holding late and early
-- rows, RLS forced with a tenant policy and the seed's indexes.
-- ---------------------------------------------------------------------------
CREATE TABLE ht_raw (
    tenant_id   uuid        NOT NULL,
    time        timestamptz NOT NULL,
    metric_type text        NOT NULL,
    value       float8      NOT NULL,
    ingested_at timestamptz NOT NULL DEFAULT '2024-01-01 00:00+00'
) PARTITION BY RANGE (time);
CREATE INDEX ht_raw_tenant_metric_time_idx ON ht_raw (tenant_id, metric_type, time DESC);
CREATE INDEX ht_raw_time_idx ON ht_raw (time);
ALTER TABLE ht_raw ENABLE ROW LEVEL SECURITY;
ALTER TABLE ht_raw FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON ht_raw
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
CREATE TABLE ht_raw_p20240101 PARTITION OF ht_raw
    FOR VALUES FROM ('2024-01-01 00:00:00+00') TO ('2024-01-08 00:00:00+00');
CREATE TABLE ht_raw_p20240108 PARTITION OF ht_raw
    FOR VALUES FROM ('2024-01-08 00:00:00+00') TO ('2024-01-15 00:00:00+00');
CREATE TABLE ht_raw_default PARTITION OF ht_raw DEFAULT;

-- Rows of two tenants; FORCE binds the owner, so the tenant is set first.
SELECT set_config('app.current_tenant_id', '00000000-0000-0000-0000-00000000000a', false);
INSERT INTO ht_raw (tenant_id, time, metric_type, value) VALUES
    ('00000000-0000-0000-0000-00000000000a', '2024-01-02 12:00+00', 'revenue', 1),
    ('00000000-0000-0000-0000-00000000000a', '2024-01-20 00:00+00', 'revenue', 2),
    ('00000000-0000-0000-0000-00000000000a', '2023-12-31 23:59:59.999999+00', 'revenue', 3);
SELECT set_config('app.current_tenant_id', '00000000-0000-0000-0000-00000000000b', false);
INSERT INTO ht_raw (tenant_id, time, metric_type, value) VALUES
    ('00000000-0000-0000-0000-00000000000b', '2024-01-21 23:00+00', 'cash', 4);
SELECT set_config('app.current_tenant_id', '', false);

SELECT telos.create_hypertable('ht_raw', 'time');

-- The catalog: weekly chunks from the default origin (a Monday).
SELECT relid, time_column, chunk_interval, origin AT TIME ZONE 'UTC' AS origin_utc, archive_fn
  FROM telos.hypertable WHERE relid = 'ht_raw'::regclass;
SELECT relid, range_start AT TIME ZONE 'UTC' AS start_utc, range_end AT TIME ZONE 'UTC' AS end_utc, state
  FROM telos.chunk WHERE hypertable = 'ht_raw'::regclass ORDER BY range_start;

-- The two partitions were adopted, the default kept, and its rows moved
-- into new chunks named <table>_pYYYYMMDD (the existing convention).
SET timezone = 'UTC';
SELECT * FROM pg_temp.partitions('ht_raw');
SELECT set_config('app.current_tenant_id', '00000000-0000-0000-0000-00000000000a', false);
SELECT tableoid::regclass AS partition, time, value FROM ht_raw ORDER BY time;
SELECT set_config('app.current_tenant_id', '00000000-0000-0000-0000-00000000000b', false);
SELECT tableoid::regclass AS partition, time, value FROM ht_raw ORDER BY time;
SELECT set_config('app.current_tenant_id', '', false);

-- New chunks carry the seed's indexes (from the parent), the hypertable's
-- row-level security (enabled, forced, its policy), and its owner.
SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
       (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = 'tenant_isolation') AS policies,
       (SELECT string_agg(pg_get_indexdef(x.indexrelid), '; ' ORDER BY 1) FROM pg_index x WHERE x.indrelid = c.oid) AS indexes
  FROM pg_class c
 WHERE c.relname IN ('ht_raw_p20231225', 'ht_raw_p20240115')
 ORDER BY 1;
SELECT pg_get_expr(polqual, polrelid) AS using_expr, pg_get_expr(polwithcheck, polrelid) AS check_expr
  FROM pg_policy WHERE polrelid = 'ht_raw_p20240115'::regclass;
SELECT count(*) AS chunks_not_owned_by_table_owner
  FROM telos.chunk ch JOIN pg_class c ON c.oid = ch.relid
 WHERE ch.hypertable = 'ht_raw'::regclass
   AND c.relowner <> (SELECT relowner FROM pg_class WHERE oid = 'ht_raw'::regclass);

-- Registering again: an error, or a notice with if_not_exists.
SELECT telos.create_hypertable('ht_raw', 'time');
SELECT telos.create_hypertable('ht_raw', 'time', if_not_exists => true);

-- ---------------------------------------------------------------------------
-- No default partition, nullable time column, RLS enabled but not forced:
-- a default partition <table>_default is made with the same RLS, the time
-- column becomes NOT NULL.
-- ---------------------------------------------------------------------------
CREATE TABLE ht_plain (tenant_id uuid NOT NULL, time timestamptz, v int CHECK (v >= 0))
    PARTITION BY RANGE (time);
ALTER TABLE ht_plain ENABLE ROW LEVEL SECURITY;
CREATE POLICY p_read ON ht_plain AS PERMISSIVE FOR SELECT TO PUBLIC USING (v < 100);
CREATE POLICY p_restrict ON ht_plain AS RESTRICTIVE FOR ALL TO PUBLIC USING (true) WITH CHECK (v <> 13);
SELECT telos.create_hypertable('ht_plain', 'time', '1 day');
SELECT * FROM pg_temp.partitions('ht_plain');
SELECT attnotnull FROM pg_attribute WHERE attrelid = 'ht_plain'::regclass AND attname = 'time';
SELECT relrowsecurity, relforcerowsecurity FROM pg_class WHERE oid = 'ht_plain_default'::regclass;
SELECT polname, polpermissive, polcmd, pg_get_expr(polqual, polrelid) AS using_expr,
       pg_get_expr(polwithcheck, polrelid) AS check_expr
  FROM pg_policy WHERE polrelid = 'ht_plain_default'::regclass ORDER BY 1;
-- The default got the parent's CHECK constraint as well (ATTACH needs it).
SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
 WHERE conrelid = 'ht_plain_default'::regclass AND contype = 'c';

-- A name already taken by another table gets a numbered name.
CREATE TABLE ht_taken (time timestamptz NOT NULL) PARTITION BY RANGE (time);
CREATE TABLE ht_taken_default (x int);
SELECT telos.create_hypertable('ht_taken', 'time');
SELECT * FROM pg_temp.partitions('ht_taken');

-- ---------------------------------------------------------------------------
-- Origin and interval: partitions Sunday to Sunday are not aligned to the
-- default (Monday) origin, and say so; with a Sunday origin they are.
-- ---------------------------------------------------------------------------
CREATE TABLE ht_sunday (time timestamptz NOT NULL) PARTITION BY RANGE (time);
CREATE TABLE ht_sunday_w1 PARTITION OF ht_sunday
    FOR VALUES FROM ('2024-01-07 00:00+00') TO ('2024-01-14 00:00+00');
SELECT telos.create_hypertable('ht_sunday', 'time');
SELECT count(*) AS registered FROM telos.hypertable WHERE relid = 'ht_sunday'::regclass;
SELECT count(*) AS default_made FROM pg_class WHERE relname = 'ht_sunday_default';
SELECT telos.create_hypertable('ht_sunday', 'time', origin => '2000-01-02 00:00+00');
SELECT relid, range_start, range_end FROM telos.chunk WHERE hypertable = 'ht_sunday'::regclass;

-- A partition two chunks wide is not one chunk either.
CREATE TABLE ht_wide (time timestamptz NOT NULL) PARTITION BY RANGE (time);
CREATE TABLE ht_wide_1 PARTITION OF ht_wide
    FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2024-01-15 00:00+00');
SELECT telos.create_hypertable('ht_wide', 'time');
-- Unbounded ranges never are.
CREATE TABLE ht_unbounded (time timestamptz NOT NULL) PARTITION BY RANGE (time);
CREATE TABLE ht_unbounded_old PARTITION OF ht_unbounded
    FOR VALUES FROM (MINVALUE) TO ('2024-01-01 00:00+00');
SELECT telos.create_hypertable('ht_unbounded', 'time');

-- Hourly chunks from an origin at half past: boundaries at :30.
CREATE TABLE ht_hourly (time timestamptz NOT NULL) PARTITION BY RANGE (time);
SELECT telos.create_hypertable('ht_hourly', 'time', '1 hour', origin => '2024-01-01 00:30+00');
SELECT * FROM telos.chunk_range('ht_hourly', '2024-03-10 07:29:59.999999+00');
SELECT * FROM telos.chunk_range('ht_hourly', '2024-03-10 07:30+00');

-- A NULL time in the default partition blocks SET NOT NULL: the whole call
-- fails and leaves nothing behind.
CREATE TABLE ht_nulls (time timestamptz) PARTITION BY RANGE (time);
CREATE TABLE ht_nulls_default PARTITION OF ht_nulls DEFAULT;
INSERT INTO ht_nulls VALUES (NULL);
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_nulls', 'time')$$);
SELECT count(*) AS registered FROM telos.hypertable WHERE relid = 'ht_nulls'::regclass;

-- ---------------------------------------------------------------------------
-- Bad input: every refusal has its SQLSTATE.
-- ---------------------------------------------------------------------------
CREATE TABLE ht_heap (time timestamptz NOT NULL);
CREATE VIEW ht_view AS SELECT 1 AS x;
CREATE SEQUENCE ht_seq;
CREATE TABLE ht_list (time timestamptz NOT NULL, k int) PARTITION BY LIST (k);
CREATE TABLE ht_two (time timestamptz NOT NULL, k int) PARTITION BY RANGE (time, k);
CREATE FUNCTION ht_same(t timestamptz) RETURNS timestamptz IMMUTABLE LANGUAGE sql AS 'SELECT t';
CREATE TABLE ht_expr (time timestamptz NOT NULL) PARTITION BY RANGE ((ht_same(time)));
CREATE TABLE ht_ts (time timestamp NOT NULL) PARTITION BY RANGE (time);
CREATE TABLE ht_int (time int NOT NULL) PARTITION BY RANGE (time);
CREATE TABLE ht_other (time timestamptz NOT NULL, created timestamptz NOT NULL) PARTITION BY RANGE (created);
CREATE TABLE ht_sub (time timestamptz NOT NULL) PARTITION BY RANGE (time);
CREATE TABLE ht_sub_1 PARTITION OF ht_sub FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2024-01-08 00:00+00')
    PARTITION BY RANGE (time);
CREATE TEMP TABLE ht_temp (time timestamptz NOT NULL) PARTITION BY RANGE (time);
CREATE TABLE ht_ok (time timestamptz NOT NULL) PARTITION BY RANGE (time);

SELECT pg_temp.try($$SELECT telos.create_hypertable(NULL, 'time')$$) AS null_rel;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_ok', NULL)$$) AS null_column;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_ok', 'time', NULL)$$) AS null_interval;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_ok', 'time', '7 days', NULL)$$) AS null_if_not_exists;
SELECT pg_temp.try($$SELECT telos.create_hypertable(4000000000::oid::regclass, 'time')$$) AS no_such_oid;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_heap', 'time')$$) AS plain_table;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_view', 'x')$$) AS view;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_seq', 'x')$$) AS sequence;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_list', 'time')$$) AS list_partitioned;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_two', 'time')$$) AS two_columns;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_expr', 'time')$$) AS expression;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_ts', 'time')$$) AS timestamp_without_tz;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_int', 'time')$$) AS integer_column;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_other', 'time')$$) AS other_key_column;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_ok', 'nope')$$) AS missing_column;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_ok', 'ctid')$$) AS system_column;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_sub_1', 'time')$$) AS a_partition;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_temp', 'time')$$) AS temporary;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_ok', 'time', '1 month')$$) AS months;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_ok', 'time', '1 year 2 days')$$) AS years;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_ok', 'time', '0 days')$$) AS zero;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_ok', 'time', '-7 days')$$) AS negative;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_ok', 'time', '30 seconds')$$) AS sub_minute;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_ok', 'time', '1 day -25 hours')$$) AS net_negative;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_ok', 'time', origin => 'infinity')$$) AS infinite_origin;
-- Sub-partitioned partitions are adopted like any other when aligned.
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_sub', 'time')$$) AS sub_partitioned;
-- The full message of one refusal, with its detail and hint.
SELECT telos.create_hypertable('ht_list', 'time');
SELECT telos.create_hypertable('ht_ok', 'time', '1 month');

-- Privileges: only the owner registers a table; and the owner must be able
-- to create the chunks in the table's schema.
CREATE ROLE regress_ht_owner;
CREATE ROLE regress_ht_stranger;
CREATE SCHEMA ht_locked;
GRANT USAGE ON SCHEMA ht_locked TO regress_ht_owner;
CREATE TABLE ht_locked.t (time timestamptz NOT NULL) PARTITION BY RANGE (time);
ALTER TABLE ht_locked.t OWNER TO regress_ht_owner;
ALTER TABLE ht_ok OWNER TO regress_ht_owner;
SET ROLE regress_ht_stranger;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_ok', 'time')$$) AS not_owner;
SET ROLE regress_ht_owner;
SELECT pg_temp.try($$SELECT telos.create_hypertable('ht_locked.t', 'time')$$) AS no_create_on_schema;
RESET ROLE;

-- No refusal left a catalog row or a default partition behind.
SELECT relid FROM telos.hypertable ORDER BY relid::text;
SELECT count(*) AS stray_defaults FROM pg_class
 WHERE relname IN ('ht_ok_default', 'ht_list_default', 'ht_nulls_default_1', 'ht_wide_default', 'ht_unbounded_default');

-- ---------------------------------------------------------------------------
-- Clean-up. Dropping a hypertable removes its catalog rows (event trigger).
-- ---------------------------------------------------------------------------
DROP TABLE ht_raw, ht_plain, ht_taken, ht_taken_default, ht_sunday, ht_wide, ht_unbounded,
    ht_hourly, ht_nulls, ht_heap, ht_list, ht_two, ht_expr, ht_ts, ht_int, ht_other, ht_sub,
    ht_ok, ht_locked.t;
DROP FUNCTION ht_same(timestamptz);
DROP VIEW ht_view;
DROP SEQUENCE ht_seq;
DROP SCHEMA ht_locked;
DROP FUNCTION pg_temp.try(text);
DROP FUNCTION pg_temp.partitions(regclass);
DROP ROLE regress_ht_owner, regress_ht_stranger;
SELECT count(*) AS hypertables_left FROM telos.hypertable;
SELECT count(*) AS chunks_left FROM telos.chunk;
