--
-- retention_hypertable: retention of a hypertable. A chunk whose range
-- ended before every tenant's window is dropped whole (telos.drop_chunks, a
-- metadata operation) -- or handed to the hypertable's archive function;
-- rows of tenants with shorter windows are deleted from the live chunks;
-- the tenants with the longest window keep their rows until their chunk
-- goes. The maintenance policy runs telos.maintain.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
RESET client_min_messages;
SET timezone = 'UTC';
SELECT setval('telos.jobs_id_seq', 500) IS NOT NULL AS ids_from_501;

CREATE ROLE regress_rh_owner LOGIN;
CREATE ROLE regress_rh_worker LOGIN BYPASSRLS;
GRANT regress_rh_worker TO regress_rh_owner;
CREATE SCHEMA regress_rh AUTHORIZATION regress_rh_owner;
GRANT USAGE ON SCHEMA regress_rh TO PUBLIC;

SET ROLE regress_rh_owner;
CREATE TABLE regress_rh.raw (tenant_id uuid NOT NULL, time timestamptz NOT NULL,
                             value float8 NOT NULL)
    PARTITION BY RANGE (time);
ALTER TABLE regress_rh.raw ENABLE ROW LEVEL SECURITY;
ALTER TABLE regress_rh.raw FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON regress_rh.raw
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
GRANT SELECT, INSERT, DELETE ON regress_rh.raw TO regress_rh_worker;
SELECT telos.create_hypertable('regress_rh.raw', 'time', '7 days');

CREATE FUNCTION regress_rh.windows() RETURNS TABLE(tenant_id uuid, retention interval)
    LANGUAGE sql AS $$
    VALUES ('00000000-0000-0000-0000-00000000000a'::uuid, interval '3 months'),
           ('00000000-0000-0000-0000-00000000000c'::uuid, interval '36 months')
$$;

-- Readings at days far from every window's edge (and from chunk edges):
-- tenant a (3 months), c (36 months), e (unlisted: default 12 months).
CREATE TABLE regress_rh.ages (days integer);
INSERT INTO regress_rh.ages VALUES (1), (40), (100), (200), (400), (800), (1200);
SELECT sum(telos.ensure_chunks('regress_rh.raw', now() - make_interval(days => days),
                                                 now() - make_interval(days => days)))
       AS chunks_made FROM regress_rh.ages;
RESET ROLE;
INSERT INTO regress_rh.raw
SELECT ('00000000-0000-0000-0000-00000000000' || t)::uuid, now() - make_interval(days => a.days), a.days
  FROM unnest(ARRAY['a', 'c', 'e']) AS t, regress_rh.ages a;
SELECT count(*) AS chunks FROM telos.chunks WHERE hypertable = 'regress_rh.raw'::regclass;
SELECT count(*) AS in_default FROM regress_rh.raw_default;

SET ROLE regress_rh_owner;
SELECT telos.add_retention_policy('regress_rh.raw', tenant_retention_fn => 'regress_rh.windows()',
                                  run_as => 'regress_rh_worker') AS ret \gset
SELECT config ->> 'time_column' AS time_column FROM telos.jobs WHERE id = :ret;
CALL telos.run_job(:ret);
RESET ROLE;

-- The 1200-day-old chunk is gone (every window had passed); in the live
-- chunks a lost what is older than 3 months and e what is older than 12;
-- c, the longest window, lost nothing row by row.
SELECT right(tenant_id::text, 1) AS tenant, array_agg(value::int ORDER BY value) AS days_kept
  FROM regress_rh.raw GROUP BY 1 ORDER BY 1;
SELECT count(*) AS chunks FROM telos.chunks WHERE hypertable = 'regress_rh.raw'::regclass;
SELECT state, relid IS NULL AS table_gone, count(*)
  FROM telos.chunk WHERE hypertable = 'regress_rh.raw'::regclass GROUP BY 1, 2 ORDER BY 1;

-- The archive hook: an expired chunk is handed to archive_fn instead.
CREATE TABLE regress_rh.archived (chunk text, rows bigint, by_whom name);
GRANT INSERT ON regress_rh.archived TO regress_rh_owner;
CREATE FUNCTION regress_rh.archive(c regclass) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    EXECUTE format('SELECT count(*) FROM %s', c) INTO n;
    INSERT INTO regress_rh.archived VALUES (c::text, n, current_user);
END $$;
ALTER FUNCTION regress_rh.archive(regclass) OWNER TO regress_rh_owner;
SET ROLE regress_rh_owner;
SELECT telos.set_archive_function('regress_rh.raw', 'regress_rh.archive(regclass)');
SELECT telos.ensure_chunks('regress_rh.raw', now() - interval '1300 days', now() - interval '1300 days');
RESET ROLE;
INSERT INTO regress_rh.raw VALUES ('00000000-0000-0000-0000-00000000000c', now() - interval '1300 days', 1300);
CALL telos.run_job(:ret);
SELECT rows, by_whom FROM regress_rh.archived;
SELECT state, relid IS NULL AS table_gone, count(*)
  FROM telos.chunk WHERE hypertable = 'regress_rh.raw'::regclass GROUP BY 1, 2 ORDER BY 1;

-- Maintenance: telos.maintain makes the chunks ahead of now.
SET ROLE regress_rh_owner;
SELECT telos.add_maintenance_policy('regress_rh.raw', ahead => '3 weeks',
                                    run_as => 'regress_rh_worker') AS maint \gset
SELECT config FROM telos.jobs WHERE id = :maint;
SELECT telos.add_maintenance_policy('regress_rh.raw', if_not_exists => true) = :maint AS same_job;
CALL telos.run_job(:maint);
RESET ROLE;
SELECT count(*) AS chunk_holding_now_plus_20_days
  FROM telos.chunks WHERE hypertable = 'regress_rh.raw'::regclass
   AND now() + interval '20 days' >= range_start AND now() + interval '20 days' < range_end;
SELECT last_run_status FROM telos.jobs WHERE id = :maint;
SELECT telos.remove_maintenance_policy('regress_rh.raw');
SELECT telos.remove_retention_policy('regress_rh.raw');
SELECT count(*) AS policies_left FROM telos.jobs WHERE id IN (:ret, :maint);

-- Clean up.
DROP SCHEMA regress_rh CASCADE;
DROP ROLE regress_rh_owner, regress_rh_worker;
