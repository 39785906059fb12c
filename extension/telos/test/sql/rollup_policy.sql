--
-- rollup_policy: managing rollup policies, who may do what, and bad input
-- to every function of the rollup module: add_rollup_policy validates the
-- shapes of raw, agg, definitions and the time-zone function and needs
-- ownership; refresh_rollups needs a role that sees every tenant;
-- invalidate_rollups and remove_rollup_policy; the trigger function cannot
-- be misused; the catalog does not dangle after DROP; the invalidation log
-- is tenant-scoped; the retention switch telos.rollup_invalidation.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
CREATE SCHEMA rp;

CREATE TABLE rp.raw (tenant_id uuid NOT NULL, metric_type text NOT NULL,
                     ts timestamptz NOT NULL, value float8 NOT NULL) PARTITION BY RANGE (ts);
CREATE TABLE rp.raw_all PARTITION OF rp.raw DEFAULT;
CREATE TABLE rp.agg (
    tenant_id uuid NOT NULL, metric_type text NOT NULL, bucket_width text NOT NULL,
    bucket timestamptz NOT NULL, count bigint NOT NULL, sum float8 NOT NULL,
    min float8 NOT NULL, max float8 NOT NULL, first float8 NOT NULL, last float8 NOT NULL,
    PRIMARY KEY (tenant_id, metric_type, bucket_width, bucket));
CREATE TABLE rp.defs (tenant_id uuid, metric_type text, aggregation text, calculation_formula text);
CREATE FUNCTION rp.zone(uuid) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'UTC' $$;
CREATE FUNCTION rp.zone_bad(text) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'UTC' $$;
CREATE FUNCTION rp.zone_int(uuid) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT 0 $$;
CREATE VIEW rp.a_view AS SELECT * FROM rp.raw;
CREATE TABLE rp.no_key (LIKE rp.agg);
CREATE TABLE rp.wrong_type (LIKE rp.agg INCLUDING ALL);
ALTER TABLE rp.wrong_type ALTER COLUMN count TYPE numeric;
CREATE TABLE rp.no_time (tenant_id uuid, metric_type text, value float8, at timestamptz);
-- Jobs of the rollup module, when the jobs module is installed (0 without).
CREATE FUNCTION rp.rollup_jobs() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint := 0;
BEGIN
    IF to_regclass('telos.jobs') IS NOT NULL THEN
        EXECUTE $q$SELECT count(*) FROM telos.jobs WHERE config ->> 'raw' = 'rp.raw'$q$ INTO n;
    END IF;
    RETURN n;
END
$$;

\set VERBOSITY terse
-- NULLs, wrong objects, wrong shapes.
SELECT telos.add_rollup_policy(NULL, 'rp.agg', 'rp.defs', 'rp.zone(uuid)');
SELECT telos.add_rollup_policy('rp.raw', NULL, 'rp.defs', 'rp.zone(uuid)');
SELECT telos.add_rollup_policy('rp.raw', 'rp.agg', NULL, 'rp.zone(uuid)');
SELECT telos.add_rollup_policy('rp.raw', 'rp.agg', 'rp.defs', NULL);
SELECT telos.add_rollup_policy(0, 'rp.agg', 'rp.defs', 'rp.zone(uuid)');
SELECT telos.add_rollup_policy('rp.a_view', 'rp.agg', 'rp.defs', 'rp.zone(uuid)');
SELECT telos.add_rollup_policy('rp.raw', 'rp.raw', 'rp.defs', 'rp.zone(uuid)');
SELECT telos.add_rollup_policy('rp.raw', 'rp.agg', 'rp.agg', 'rp.zone(uuid)');
SELECT telos.add_rollup_policy('rp.raw', 'rp.no_key', 'rp.defs', 'rp.zone(uuid)');
SELECT telos.add_rollup_policy('rp.raw', 'rp.wrong_type', 'rp.defs', 'rp.zone(uuid)');
SELECT telos.add_rollup_policy('rp.raw', 'rp.defs', 'rp.agg', 'rp.zone(uuid)');
SELECT telos.add_rollup_policy('rp.raw', 'rp.agg', 'rp.defs', 'rp.zone_bad(text)');
SELECT telos.add_rollup_policy('rp.raw', 'rp.agg', 'rp.defs', 'rp.zone_int(uuid)');
SELECT telos.add_rollup_policy('rp.raw', 'rp.agg', 'rp.defs', 'rp.zone(uuid)', schedule => '0');
SELECT telos.add_rollup_policy('rp.raw', 'rp.agg', 'rp.defs', 'rp.zone(uuid)', schedule => '-1 minute');
SELECT telos.add_rollup_policy('rp.raw', 'rp.agg', 'rp.defs', 'rp.zone(uuid)', time_column => 'value');
SELECT telos.add_rollup_policy('rp.raw', 'rp.agg', 'rp.defs', 'rp.zone(uuid)', time_column => 'nope');
SELECT telos.add_rollup_policy('rp.no_time', 'rp.agg', 'rp.defs', 'rp.zone(uuid)');
-- Only the owner of raw and agg may attach a policy.
CREATE ROLE regress_rp_other;
GRANT USAGE ON SCHEMA rp TO regress_rp_other;
SET ROLE regress_rp_other;
SELECT telos.add_rollup_policy('rp.raw', 'rp.agg', 'rp.defs', 'rp.zone(uuid)');
RESET ROLE;
\set VERBOSITY default

-- The time column is the partition key of a partitioned raw table; a job
-- is made when the scheduler module is installed and schedule is given.
SELECT telos.add_rollup_policy('rp.raw', 'rp.agg', 'rp.defs', 'rp.zone(uuid)') IS NOT NULL
       = (pg_catalog.to_regproc('telos.add_job') IS NOT NULL) AS job_iff_scheduler;
SELECT rp.rollup_jobs() = (to_regclass('telos.jobs') IS NOT NULL)::int AS one_job_if_scheduler;
SELECT raw, agg, definitions, timezone_fn, time_column, refreshed_at, pending_ranges
  FROM telos.rollup_policies;
SELECT tgname, tgtype FROM pg_trigger WHERE tgrelid = 'rp.raw'::regclass ORDER BY 1;
\set VERBOSITY terse
SELECT telos.add_rollup_policy('rp.raw', 'rp.agg', 'rp.defs', 'rp.zone(uuid)');
\set VERBOSITY default

-- The log: writes by any role are recorded, as ranges of whole hours that
-- coalesce, one row per tenant and range with the metrics changed over it;
-- a tenant role sees only its own ranges.
INSERT INTO rp.raw VALUES
    ('11111111-1111-1111-1111-111111111111', 'm', '2024-05-01 10:15+00', 1),
    ('11111111-1111-1111-1111-111111111111', 'm', '2024-05-01 11:59+00', 1),
    ('11111111-1111-1111-1111-111111111111', 'm', '2024-05-01 10:00+00', 1),
    ('11111111-1111-1111-1111-111111111111', 'm', '2024-05-01 14:00+00', 1),
    ('11111111-1111-1111-1111-111111111111', 'n', '2024-05-01 10:15+00', 1),
    ('11111111-1111-1111-1111-111111111111', 'n', '2024-05-01 11:30+00', 1),
    ('22222222-2222-2222-2222-222222222222', 'm', '2024-05-01 10:15+00', 1);
SELECT tenant_id, metric_types, lo, hi FROM telos.invalidation
 WHERE raw = 'rp.raw'::regclass AND tenant_id IS NOT NULL ORDER BY 1, 3, 2;
GRANT SELECT, INSERT ON rp.raw TO regress_rp_other;
SET ROLE regress_rp_other;
SELECT set_config('app.current_tenant_id', '22222222-2222-2222-2222-222222222222', false) IS NOT NULL AS as_b;
INSERT INTO rp.raw VALUES ('22222222-2222-2222-2222-222222222222', 'm', '2023-12-31 23:30+00', 1);
SELECT tenant_id, metric_types, lo, hi FROM telos.invalidation ORDER BY 1 NULLS FIRST, 3, 2;
-- nobody writes the log or the catalog directly
\set VERBOSITY terse
INSERT INTO telos.invalidation (raw, tenant_id, metric_types, lo, hi)
    VALUES ('rp.raw', '22222222-2222-2222-2222-222222222222', '{m}', '2024-01-01', '2024-01-02');
DELETE FROM telos.invalidation;
UPDATE telos.rollup_policy SET agg = 'rp.defs';
-- refreshing needs privileges on agg and a view of every tenant
SELECT telos.refresh_rollups('rp.raw');
SELECT telos.invalidate_rollups('rp.raw');
SELECT telos.remove_rollup_policy('rp.raw');
\set VERBOSITY default
RESET ROLE;
SELECT set_config('app.current_tenant_id', '', false) IS NOT NULL AS reset;
SELECT telos.refresh_rollups('rp.raw');
SELECT bucket_width, count(*) FROM rp.agg GROUP BY 1 ORDER BY 1;

-- The trigger function only works as the statement trigger of a policy.
CREATE TABLE rp.other (tenant_id uuid, metric_type text, ts timestamptz, value float8);
CREATE TRIGGER t AFTER INSERT ON rp.other FOR EACH STATEMENT EXECUTE FUNCTION telos.rollup_invalidate();
CREATE TRIGGER r AFTER INSERT ON rp.raw_all FOR EACH ROW EXECUTE FUNCTION telos.rollup_invalidate();
\set VERBOSITY terse
INSERT INTO rp.other VALUES ('11111111-1111-1111-1111-111111111111', 'm', now(), 1);
INSERT INTO rp.raw VALUES ('11111111-1111-1111-1111-111111111111', 'm', '2024-05-02 00:00+00', 1);
SELECT telos.rollup_invalidate();
\set VERBOSITY default
DROP TRIGGER r ON rp.raw_all;
DROP TABLE rp.other;
-- A time the buckets cannot hold.
\set VERBOSITY terse
INSERT INTO rp.raw VALUES ('11111111-1111-1111-1111-111111111111', 'm', 'infinity', 1);
\set VERBOSITY default

-- The retention switch: off, a role that bypasses row-level security (here
-- the superuser) records nothing; for other roles it is ignored.
-- (The deleted rows' rollups stay, as retention wants.)
SET telos.rollup_invalidation = off;
DELETE FROM rp.raw WHERE ts < '2024-01-01';
SELECT count(*) AS logged FROM telos.invalidation WHERE raw = 'rp.raw'::regclass;
SET ROLE regress_rp_other;
SELECT set_config('app.current_tenant_id', '22222222-2222-2222-2222-222222222222', false) IS NOT NULL AS as_b;
INSERT INTO rp.raw VALUES ('22222222-2222-2222-2222-222222222222', 'm', '2024-05-03 00:00+00', 1);
SELECT count(*) AS logged_anyway FROM telos.invalidation;
RESET ROLE;
SELECT set_config('app.current_tenant_id', '', false) IS NOT NULL AS reset;
RESET telos.rollup_invalidation;
-- the jobs module's retention marks its deletes the same way
BEGIN;
SELECT set_config('telos.retention_in_progress', 'on', true) AS retention;
DELETE FROM rp.raw WHERE ts < '2024-05-01 10:30+00';
SELECT count(*) AS logged FROM telos.invalidation WHERE tenant_id = '11111111-1111-1111-1111-111111111111';
COMMIT;

-- invalidate_rollups: a series range (widened to whole hours), a tenant,
-- a metric, everything.
SELECT telos.refresh_rollups('rp.raw') > 0 AS refreshed;
SELECT telos.invalidate_rollups('rp.raw', '11111111-1111-1111-1111-111111111111', 'm',
                                '2024-05-01 10:30+00', '2024-05-01 12:00:01+00');
SELECT telos.invalidate_rollups('rp.raw', '11111111-1111-1111-1111-111111111111');
SELECT telos.invalidate_rollups('rp.raw', metric_type => 'n');
SELECT telos.invalidate_rollups('rp.raw');
SELECT tenant_id, metric_types, lo, hi FROM telos.invalidation ORDER BY 1 NULLS FIRST, 2 NULLS FIRST, 3;
SELECT telos.refresh_rollups('rp.raw') > 0 AS refreshed;
SELECT bucket_width, count(*) FROM rp.agg GROUP BY 1 ORDER BY 1;
\set VERBOSITY terse
SELECT telos.invalidate_rollups(NULL);
SELECT telos.invalidate_rollups('rp.raw', lo => NULL);
SELECT telos.invalidate_rollups('rp.raw', '11111111-1111-1111-1111-111111111111', NULL, '2024-01-01', '2024-01-02');
SELECT telos.invalidate_rollups('rp.raw', '11111111-1111-1111-1111-111111111111', 'm', '2024-01-02', '2024-01-01');
SELECT telos.invalidate_rollups('rp.raw', '11111111-1111-1111-1111-111111111111', 'm', '2024-01-02', 'infinity');
SELECT telos.invalidate_rollups('rp.agg');
SELECT telos.refresh_rollups(NULL);
SELECT telos.refresh_rollups('rp.agg');
SELECT telos.refresh_rollups(0);
SELECT telos.remove_rollup_policy(NULL);
SELECT telos.remove_rollup_policy('rp.agg');
\set VERBOSITY default
SELECT telos.remove_rollup_policy('rp.agg', if_exists => true);

-- The job procedure takes {"raw": ...}.
CALL telos.refresh_rollups_job(1, '{"raw": "rp.raw"}');
\set VERBOSITY terse
CALL telos.refresh_rollups_job(1, '{}');
CALL telos.refresh_rollups_job(1, NULL);
CALL telos.refresh_rollups_job(1, '{"raw": "rp.nope"}');
\set VERBOSITY default

-- DROP: a rollup table, definitions or time-zone function in use cannot be
-- dropped; dropping raw drops its policy, its log and its job.
\set VERBOSITY terse
DROP TABLE rp.agg;
DROP TABLE rp.defs;
DROP FUNCTION rp.zone(uuid);
INSERT INTO rp.raw VALUES ('11111111-1111-1111-1111-111111111111', 'm', '2024-05-04 00:00+00', 1);
DROP VIEW rp.a_view;
DROP TABLE rp.raw;
SELECT count(*) AS policies FROM telos.rollup_policy;
SELECT count(*) AS log_rows FROM telos.invalidation;
SELECT rp.rollup_jobs() AS jobs;
DROP TABLE rp.agg;
\set VERBOSITY default

-- remove_rollup_policy drops the triggers and keeps the rollups.
CREATE TABLE rp.raw2 (tenant_id uuid, metric_type text, time timestamptz, value float8);
CREATE TABLE rp.agg2 (LIKE rp.no_key INCLUDING ALL, PRIMARY KEY (tenant_id, metric_type, bucket_width, bucket));
INSERT INTO rp.raw2 VALUES ('11111111-1111-1111-1111-111111111111', 'm', '2024-05-04 00:00+00', 1);
SELECT telos.add_rollup_policy('rp.raw2', 'rp.agg2', 'rp.defs', 'rp.zone(uuid)', schedule => NULL);
SELECT telos.refresh_rollups('rp.raw2');
SELECT telos.remove_rollup_policy('rp.raw2');
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'rp.raw2'::regclass;
SELECT count(*) AS rollup_rows FROM rp.agg2;
SELECT telos.remove_rollup_policy('rp.raw2', if_exists => true);

DROP SCHEMA rp CASCADE;
DROP ROLE regress_rp_other;
DROP EXTENSION telos;
