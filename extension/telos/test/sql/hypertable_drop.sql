--
-- hypertable_drop: telos.drop_chunks drops the chunks whose range ended at
-- or before a time -- a metadata operation, DROP TABLE -- or hands each to
-- the hypertable's archive function instead; the catalog records the
-- state. Who may drop (all tenants' rows at once), the archive hook and
-- its errors, ranges made again after a drop, and the catalog kept in step
-- with DROP TABLE / DETACH by hand.
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

-- The catalog rows of a hypertable, by range.
CREATE FUNCTION pg_temp.catalog(t regclass)
    RETURNS TABLE(range_start timestamptz, chunk text, state text) LANGUAGE sql AS $$
    SELECT range_start, relid::text, state FROM telos.chunk WHERE hypertable = t ORDER BY range_start
$$;

CREATE ROLE regress_drop_owner;
CREATE ROLE regress_drop_app;              -- SELECT, INSERT; subject to RLS
CREATE ROLE regress_drop_tenant_admin;     -- DELETE too, but still subject to RLS
CREATE ROLE regress_drop_worker BYPASSRLS; -- DELETE, not subject to RLS
CREATE SCHEMA drp;
GRANT USAGE, CREATE ON SCHEMA drp TO regress_drop_owner;
GRANT USAGE ON SCHEMA drp TO regress_drop_app, regress_drop_tenant_admin, regress_drop_worker;

SET ROLE regress_drop_owner;
CREATE TABLE drp.raw (tenant_id uuid NOT NULL, time timestamptz NOT NULL, value float8 NOT NULL)
    PARTITION BY RANGE (time);
ALTER TABLE drp.raw ENABLE ROW LEVEL SECURITY;
ALTER TABLE drp.raw FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON drp.raw
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid)
    WITH CHECK (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
GRANT SELECT, INSERT ON drp.raw TO regress_drop_app;
GRANT SELECT, INSERT, DELETE ON drp.raw TO regress_drop_tenant_admin, regress_drop_worker;
SELECT telos.create_hypertable('drp.raw', 'time');
SELECT telos.ensure_chunks('drp.raw', '2024-01-01', '2024-02-05') AS created;
SELECT set_config('app.current_tenant_id', '00000000-0000-0000-0000-00000000000a', false);
INSERT INTO drp.raw SELECT '00000000-0000-0000-0000-00000000000a', t, 1
  FROM generate_series('2024-01-01 00:00+00'::timestamptz, '2024-02-11 23:00+00', '1 day') AS t;
SELECT set_config('app.current_tenant_id', '', false);
RESET ROLE;
SELECT * FROM pg_temp.catalog('drp.raw');

-- ---------------------------------------------------------------------------
-- Who may drop. Not the API role, not a role that may DELETE only its
-- tenant's rows (RLS applies to it); the owner and a BYPASSRLS worker with
-- DELETE may.
-- ---------------------------------------------------------------------------
SET ROLE regress_drop_app;
SELECT pg_temp.try($$SELECT telos.drop_chunks('drp.raw', '2024-01-15')$$) AS api_role;
SET ROLE regress_drop_tenant_admin;
SELECT pg_temp.try($$SELECT telos.drop_chunks('drp.raw', '2024-01-15')$$) AS rls_bound_role;
RESET ROLE;
SELECT count(*) AS chunks FROM telos.chunks WHERE hypertable = 'drp.raw'::regclass;
-- The owner may; drop_chunks returns the chunks it dropped.
SELECT count(*) AS dropped FROM telos.drop_chunks('drp.raw', '2024-01-08');

-- The worker drops the chunk that ended at 2024-01-15 00:00: the boundary
-- itself counts (range_end <= older_than), one microsecond earlier not.
SET ROLE regress_drop_worker;
SELECT count(*) AS dropped FROM telos.drop_chunks('drp.raw', '2024-01-14 23:59:59.999999+00');
SELECT count(*) AS dropped FROM telos.drop_chunks('drp.raw', '2024-01-15 00:00+00');
SELECT count(*) AS dropped_again FROM telos.drop_chunks('drp.raw', '2024-01-15 00:00+00');
RESET ROLE;
SELECT * FROM pg_temp.catalog('drp.raw');
-- The tables are gone, and with them the rows, for every tenant.
SELECT count(*) AS tables_left FROM pg_class WHERE relname IN ('raw_p20240101', 'raw_p20240108');
SELECT min(time) AS oldest_row, count(*) AS rows_left FROM drp.raw;
SELECT chunk FROM telos.chunks WHERE hypertable = 'drp.raw'::regclass ORDER BY range_start;
-- '-infinity' drops nothing.
SELECT count(*) AS dropped FROM telos.drop_chunks('drp.raw', '-infinity');

-- A late row for a dropped range: ensure_chunks makes the chunk again; the
-- catalog row comes back to life with the new table.
SELECT telos.ensure_chunks('drp.raw', '2024-01-03', '2024-01-03') AS created;
SELECT * FROM pg_temp.catalog('drp.raw') WHERE range_start = '2024-01-01';

-- ---------------------------------------------------------------------------
-- The archive hook: drop_chunks calls it with each expired chunk, as the
-- owner, instead of dropping; the state becomes 'archived'. This one
-- detaches the chunk into a schema of its own and logs the call.
-- ---------------------------------------------------------------------------
CREATE SCHEMA drp_archive;
GRANT USAGE, CREATE ON SCHEMA drp_archive TO regress_drop_owner;
SET ROLE regress_drop_owner;
CREATE TABLE drp.archive_log (chunk text, called_by name, rows bigint, search_path text);
CREATE FUNCTION drp.archive_chunk(c regclass) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    -- The owner sees every tenant's rows of the chunk (FORCE is lifted).
    EXECUTE format('SELECT count(*) FROM %s', c) INTO n;
    INSERT INTO drp.archive_log VALUES (c::text, current_user, n, current_setting('search_path'));
    EXECUTE format('ALTER TABLE drp.raw DETACH PARTITION %s', c);
    EXECUTE format('ALTER TABLE %s SET SCHEMA drp_archive', c);
END
$$;
SELECT telos.set_archive_function('drp.raw', 'drp.archive_chunk(regclass)');
RESET ROLE;
SELECT relid, archive_fn FROM telos.hypertable WHERE relid = 'drp.raw'::regclass;

SET ROLE regress_drop_worker;
SET search_path = public;
SELECT count(*) AS archived FROM telos.drop_chunks('drp.raw', '2024-01-22');
RESET search_path;
RESET ROLE;
SELECT * FROM drp.archive_log ORDER BY chunk;
SELECT * FROM pg_temp.catalog('drp.raw') WHERE state <> 'active';
SELECT chunk, state FROM telos.chunks WHERE state = 'archived';
SELECT count(*) AS archive_tables FROM pg_tables WHERE schemaname = 'drp_archive';
-- Archived chunks are not handed over twice.
SELECT count(*) AS archived_again FROM telos.drop_chunks('drp.raw', '2024-01-22');

-- A failing archive function fails the call; nothing changes.
SET ROLE regress_drop_owner;
CREATE FUNCTION drp.archive_fails(c regclass) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'cold storage unreachable for %', c USING ERRCODE = '08006';
END
$$;
SELECT telos.set_archive_function('drp.raw', 'drp.archive_fails(regclass)');
RESET ROLE;
SELECT pg_temp.try($$SELECT telos.drop_chunks('drp.raw', '2024-01-29')$$) AS failing_hook;
SELECT * FROM pg_temp.catalog('drp.raw') WHERE range_start = '2024-01-22';

-- A hook that drops the table itself: archived, and the relation is gone.
SET ROLE regress_drop_owner;
CREATE FUNCTION drp.archive_and_drop(c regclass) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DROP TABLE %s', c);
    RETURN 1;
END
$$;
SELECT telos.set_archive_function('drp.raw', 'drp.archive_and_drop(regclass)');
RESET ROLE;
SELECT count(*) AS archived FROM telos.drop_chunks('drp.raw', '2024-01-29');
SELECT * FROM pg_temp.catalog('drp.raw') WHERE range_start = '2024-01-22';

-- The hook dropped since it was set: an error, never a silent DROP.
SET ROLE regress_drop_owner;
DROP FUNCTION drp.archive_and_drop(regclass);
RESET ROLE;
SELECT pg_temp.try($$SELECT telos.drop_chunks('drp.raw', '2024-02-05')$$) AS hook_gone;
SELECT count(*) AS chunks FROM telos.chunks WHERE hypertable = 'drp.raw'::regclass;
-- Cleared (NULL): chunks are dropped again.
SET ROLE regress_drop_owner;
SELECT telos.set_archive_function('drp.raw', NULL);
RESET ROLE;
SELECT count(*) AS dropped FROM telos.drop_chunks('drp.raw', '2024-02-05');

-- ---------------------------------------------------------------------------
-- set_archive_function refuses what it could not call.
-- ---------------------------------------------------------------------------
CREATE FUNCTION drp.two_args(c regclass, x int) RETURNS void LANGUAGE sql AS '';
CREATE FUNCTION drp.text_arg(c text) RETURNS void LANGUAGE sql AS '';
CREATE FUNCTION drp.returns_set(c regclass) RETURNS SETOF int LANGUAGE sql AS 'SELECT 1';
CREATE PROCEDURE drp.a_procedure(c regclass) LANGUAGE sql AS '';
CREATE FUNCTION drp.not_for_owner(c regclass) RETURNS void LANGUAGE sql AS '';
REVOKE EXECUTE ON FUNCTION drp.not_for_owner(regclass) FROM PUBLIC;
CREATE TABLE drp.not_hyper (time timestamptz NOT NULL) PARTITION BY RANGE (time);
SELECT pg_temp.try($$SELECT telos.set_archive_function('drp.raw', 'drp.two_args(regclass, int)')$$) AS two_args;
SELECT pg_temp.try($$SELECT telos.set_archive_function('drp.raw', 'drp.text_arg(text)')$$) AS text_arg;
SELECT pg_temp.try($$SELECT telos.set_archive_function('drp.raw', 'drp.returns_set(regclass)')$$) AS returns_set;
SELECT pg_temp.try($$SELECT telos.set_archive_function('drp.raw', 'drp.a_procedure(regclass)')$$) AS a_procedure;
SELECT pg_temp.try($$SELECT telos.set_archive_function('drp.raw', 'drp.not_for_owner(regclass)')$$) AS owner_cannot_execute;
SELECT pg_temp.try($$SELECT telos.set_archive_function('drp.raw', 4000000000::oid::regprocedure)$$) AS no_such_function;
SELECT pg_temp.try($$SELECT telos.set_archive_function(NULL, NULL)$$) AS null_rel;
SELECT pg_temp.try($$SELECT telos.set_archive_function('drp.not_hyper', NULL)$$) AS not_hypertable;
SET ROLE regress_drop_worker;
SELECT pg_temp.try($$SELECT telos.set_archive_function('drp.raw', NULL)$$) AS not_owner;
RESET ROLE;

-- ---------------------------------------------------------------------------
-- The catalog follows changes made by hand: a chunk dropped with DROP
-- TABLE is 'dropped'; a chunk detached is no longer dropped by drop_chunks.
-- ---------------------------------------------------------------------------
SELECT telos.ensure_chunks('drp.raw', '2024-03-04', '2024-03-11') AS created;
SET ROLE regress_drop_owner;    -- not a superuser: the trigger still keeps the catalog
DROP TABLE drp.raw_p20240304;
RESET ROLE;
SELECT * FROM pg_temp.catalog('drp.raw') WHERE range_start >= '2024-02-05';
ALTER TABLE drp.raw DETACH PARTITION drp.raw_p20240311;
SELECT count(*) AS dropped FROM telos.drop_chunks('drp.raw', 'infinity');
SELECT * FROM pg_temp.catalog('drp.raw') WHERE range_start >= '2024-02-05';
SELECT count(*) AS detached_table_kept FROM pg_class WHERE relname = 'raw_p20240311';

-- ---------------------------------------------------------------------------
-- Bad input.
-- ---------------------------------------------------------------------------
SELECT pg_temp.try($$SELECT telos.drop_chunks(NULL, '2024-01-01')$$) AS null_rel;
SELECT pg_temp.try($$SELECT telos.drop_chunks('drp.raw', NULL)$$) AS null_older_than;
SELECT pg_temp.try($$SELECT telos.drop_chunks('drp.not_hyper', '2024-01-01')$$) AS not_hypertable;
SELECT pg_temp.try($$SELECT telos.drop_chunks(4000000000::oid::regclass, '2024-01-01')$$) AS no_such_oid;
SELECT pg_temp.try($$SELECT * FROM telos.drop_chunks('drp.raw', '2024-01-01') AS d(a int, b int)$$) AS wrong_shape;
-- The event trigger function is not for calling.
SELECT pg_temp.try($$SELECT telos.on_sql_drop()$$) AS call_trigger_fn;

-- ---------------------------------------------------------------------------
-- Clean-up: dropping the hypertable removes its catalog rows.
-- ---------------------------------------------------------------------------
DROP SCHEMA drp CASCADE;
DROP SCHEMA drp_archive CASCADE;
DROP FUNCTION pg_temp.try(text);
DROP FUNCTION pg_temp.catalog(regclass);
DROP ROLE regress_drop_owner, regress_drop_app, regress_drop_tenant_admin, regress_drop_worker;
SELECT count(*) AS hypertables_left FROM telos.hypertable;
SELECT count(*) AS chunks_left FROM telos.chunk;
