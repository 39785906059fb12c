--
-- retention_rows: telos.add_retention_policy on a plain (not hypertable)
-- table: each tenant's rows are kept for its own window (tenant_retention_fn,
-- else default_retention), older rows are deleted by the job; in the
-- rollups, hourly buckets follow the raw windows, daily ones keep_daily,
-- monthly ones stay. The deletes are marked (telos.retention_in_progress)
-- for the rollup invalidation triggers. Bad input: clear errors, SQLSTATEs.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
RESET client_min_messages;
SET timezone = 'UTC';
SELECT setval('telos.jobs_id_seq', 400) IS NOT NULL AS ids_from_401;

CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE q;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '\mjob -?[0-9]+', 'job N', 'g');
END $$;

CREATE ROLE regress_ret_owner LOGIN;
CREATE ROLE regress_ret_worker LOGIN BYPASSRLS;
CREATE ROLE regress_ret_app LOGIN;
GRANT regress_ret_worker TO regress_ret_owner;
CREATE SCHEMA regress_ret AUTHORIZATION regress_ret_owner;
GRANT USAGE ON SCHEMA regress_ret TO PUBLIC;

SET ROLE regress_ret_owner;
-- The app's shape: tenant_id first, RLS enabled and forced.
CREATE TABLE regress_ret.raw (tenant_id uuid NOT NULL, time timestamptz NOT NULL,
                              metric_type text NOT NULL, value float8 NOT NULL)
    PARTITION BY RANGE (time);
CREATE TABLE regress_ret.raw_all PARTITION OF regress_ret.raw DEFAULT;
ALTER TABLE regress_ret.raw ENABLE ROW LEVEL SECURITY;
ALTER TABLE regress_ret.raw FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON regress_ret.raw
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
CREATE TABLE regress_ret.agg (tenant_id uuid NOT NULL, metric_type text NOT NULL,
                              bucket_width text NOT NULL, bucket timestamptz NOT NULL,
                              sum float8);
ALTER TABLE regress_ret.agg ENABLE ROW LEVEL SECURITY;
ALTER TABLE regress_ret.agg FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON regress_ret.agg
    USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
GRANT SELECT, DELETE ON regress_ret.raw, regress_ret.agg TO regress_ret_worker, regress_ret_app;

-- Tenants and their windows, as public.tenant_retentions() does it.
CREATE TABLE regress_ret.tenants (id uuid PRIMARY KEY, name text, tier text, retention interval);
INSERT INTO regress_ret.tenants VALUES
    ('00000000-0000-0000-0000-00000000000a', 'free',       'free',       NULL),
    ('00000000-0000-0000-0000-00000000000b', 'standard',   'standard',   NULL),
    ('00000000-0000-0000-0000-00000000000c', 'enterprise', 'enterprise', NULL),
    ('00000000-0000-0000-0000-00000000000d', 'custom',     'standard',   '10 days');
GRANT SELECT ON regress_ret.tenants TO regress_ret_worker;
CREATE FUNCTION regress_ret.windows() RETURNS TABLE(tenant_id uuid, retention interval)
    LANGUAGE sql STABLE AS $$
    SELECT id, coalesce(retention, CASE tier WHEN 'free' THEN interval '3 months'
                                             WHEN 'standard' THEN interval '12 months'
                                             WHEN 'enterprise' THEN interval '36 months' END)
      FROM regress_ret.tenants
$$;

-- Readings of five tenants (e is unknown to windows(): default_retention)
-- at days far from every window's edge, and rollups at the same instants.
CREATE TABLE regress_ret.ages (days integer);
INSERT INTO regress_ret.ages VALUES (1), (5), (15), (40), (100), (200), (400), (800), (1200);
RESET ROLE;
INSERT INTO regress_ret.raw
SELECT ('00000000-0000-0000-0000-00000000000' || t)::uuid, now() - make_interval(days => a.days), 'revenue', a.days
  FROM unnest(ARRAY['a', 'b', 'c', 'd', 'e']) AS t, regress_ret.ages a;
INSERT INTO regress_ret.agg
SELECT ('00000000-0000-0000-0000-00000000000' || t)::uuid, 'revenue', w,
       now() - make_interval(days => a.days), a.days
  FROM unnest(ARRAY['a', 'b', 'c', 'd', 'e']) AS t, regress_ret.ages a,
       unnest(ARRAY['hour', 'day', 'month']) AS w;

-- Marks the deletes, as the rollups' invalidation trigger will read them.
CREATE TABLE regress_ret.deletes_seen (marked text, n bigint);
CREATE FUNCTION regress_ret.note_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO regress_ret.deletes_seen
    SELECT current_setting('telos.retention_in_progress', true), count(*) FROM gone;
    RETURN NULL;
END $$;
CREATE TRIGGER note_delete AFTER DELETE ON regress_ret.raw
    REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION regress_ret.note_delete();
GRANT INSERT ON regress_ret.deletes_seen TO regress_ret_worker;

-- The policy, added by the owner, run as the BYPASSRLS worker.
SET ROLE regress_ret_owner;
SELECT telos.add_retention_policy('regress_ret.raw', default_retention => '6 months',
           tenant_retention_fn => 'regress_ret.windows()', rollups => 'regress_ret.agg',
           keep_daily => '2 years', schedule => '1 hour',
           run_as => 'regress_ret_worker') AS ret \gset
SELECT proc_schema, proc_name, schedule_interval, run_as, config
  FROM telos.jobs WHERE id = :ret;
-- A second policy for the same table is refused, or skipped on request.
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.raw', run_as => 'regress_ret_worker')$$);
SELECT telos.add_retention_policy('regress_ret.raw', run_as => 'regress_ret_worker',
                                  if_not_exists => true) = :ret AS same_job;
CALL telos.run_job(:ret);
RESET ROLE;

-- What is left of each tenant: a 3 months, b 12 months, c 36 months,
-- d 10 days, e the default 6 months.
SELECT right(tenant_id::text, 1) AS tenant, array_agg(value::int ORDER BY value) AS days_kept
  FROM regress_ret.raw GROUP BY 1 ORDER BY 1;
SELECT bucket_width, right(tenant_id::text, 1) AS tenant,
       array_agg(sum::int ORDER BY sum) AS days_kept
  FROM regress_ret.agg GROUP BY 1, 2 ORDER BY 1, 2;
SELECT marked, sum(n) AS rows FROM regress_ret.deletes_seen GROUP BY 1;
-- The setting does not outlive the job.
SELECT current_setting('telos.retention_in_progress', true) AS after_job;
SELECT last_run_status, last_error FROM telos.jobs WHERE id = :ret;

-- Running again deletes nothing more.
TRUNCATE regress_ret.deletes_seen;
CALL telos.run_job(:ret);
SELECT count(*) AS rows_left FROM regress_ret.raw;

-- keep_hourly given: hourly buckets older than it go, whatever the tenant.
SELECT telos.alter_job(:ret, config => jsonb_set(config, '{keep_hourly}', '"30 days"'))
  FROM telos.jobs WHERE id = :ret;
CALL telos.run_job(:ret);
SELECT right(tenant_id::text, 1) AS tenant, array_agg(sum::int ORDER BY sum) AS hours_kept
  FROM regress_ret.agg WHERE bucket_width = 'hour' GROUP BY 1 ORDER BY 1;

-- Without tenant_retention_fn every tenant gets default_retention.
SELECT telos.alter_job(:ret, config => config - 'tenant_retention_fn' || '{"default_retention": "20 days"}')
  FROM telos.jobs WHERE id = :ret;
CALL telos.run_job(:ret);
SELECT right(tenant_id::text, 1) AS tenant, array_agg(value::int ORDER BY value) AS days_kept
  FROM regress_ret.raw GROUP BY 1 ORDER BY 1;

-- ---------------------------------------------------------------------------
-- Bad input.
-- ---------------------------------------------------------------------------
SELECT pg_temp.err($$SELECT telos.add_retention_policy(NULL)$$);
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.agg', NULL)$$);
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.agg', schedule => NULL)$$);
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.agg', if_not_exists => NULL)$$);
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.no_such_table')$$);
SELECT pg_temp.err($$SELECT telos.add_retention_policy(0)$$);
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.tenants_pkey')$$);
CREATE VIEW regress_ret.v AS SELECT * FROM regress_ret.raw;
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.v')$$);
-- Columns: tenant_id uuid and a timestamptz time column.
CREATE TABLE regress_ret.no_tenant (time timestamptz);
CREATE TABLE regress_ret.text_tenant (tenant_id text, time timestamptz);
CREATE TABLE regress_ret.date_time (tenant_id uuid, time date, at timestamptz);
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.no_tenant')$$);
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.text_tenant')$$);
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.date_time')$$);
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.date_time', time_column => 'nope')$$);
SELECT telos.add_retention_policy('regress_ret.date_time', time_column => 'at') > 0 AS time_column_at;
SELECT telos.remove_retention_policy('regress_ret.date_time');
-- Intervals.
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.agg', '0')$$);
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.agg', '-1 year')$$);
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.agg', schedule => '0')$$);
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.date_time', time_column => 'at', keep_hourly => '0')$$);
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.date_time', time_column => 'at', keep_daily => '-1 day')$$);
-- tenant_retention_fn: () RETURNS TABLE(uuid, interval).
CREATE FUNCTION regress_ret.bad_windows() RETURNS TABLE(tenant_id uuid, retention text)
    LANGUAGE sql AS $$ SELECT NULL::uuid, NULL::text $$;
CREATE FUNCTION regress_ret.not_a_set() RETURNS interval LANGUAGE sql AS $$ SELECT interval '1 day' $$;
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.date_time', time_column => 'at',
                        tenant_retention_fn => 'regress_ret.bad_windows()')$$);
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.date_time', time_column => 'at',
                        tenant_retention_fn => 'regress_ret.not_a_set()')$$);
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.date_time', time_column => 'at',
                        tenant_retention_fn => 'regress_ret.no_such_fn()')$$);
-- rollups: tenant_id uuid, bucket_width text, bucket timestamptz.
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.date_time', time_column => 'at',
                        rollups => 'regress_ret.no_tenant')$$);
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.date_time', time_column => 'at',
                        rollups => 'regress_ret.v')$$);
-- Who runs it: a role that may DELETE and that row-level security does not
-- blind (else it would silently keep other tenants' rows).
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.agg', time_column => 'bucket',
                        run_as => 'regress_ret_app')$$);
REVOKE DELETE ON regress_ret.agg FROM regress_ret_app;
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.agg', time_column => 'bucket',
                        run_as => 'regress_ret_app')$$);
SET ROLE regress_ret_app;
SELECT pg_temp.err($$SELECT telos.add_retention_policy('regress_ret.agg', time_column => 'bucket',
                        run_as => 'regress_ret_worker')$$);
RESET ROLE;
-- A broken config is refused by alter_job too.
SELECT pg_temp.err($$SELECT telos.alter_job($$ || :ret || $$, config => '{"rel": "regress_ret.raw"}')$$);
SELECT pg_temp.err($$SELECT telos.alter_job($$ || :ret || $$, config => '{"rel": 42, "default_retention": "1 day"}')$$);
SELECT pg_temp.err($$SELECT telos.alter_job($$ || :ret || $$, config => '{"rel": "regress_ret.nope", "default_retention": "1 day"}')$$);
SELECT pg_temp.err($$SELECT telos.alter_job($$ || :ret || $$, config => '{"rel": "regress_ret.raw", "default_retention": "soon"}')$$);
SELECT pg_temp.err($$SELECT telos.alter_job($$ || :ret || $$, run_as => 'regress_ret_app')$$);
-- A window that is not positive stops the job (nothing deleted).
INSERT INTO regress_ret.tenants VALUES ('00000000-0000-0000-0000-0000000000ff', 'broken', 'standard', '-1 day');
SELECT telos.alter_job(:ret, config => config || '{"tenant_retention_fn": "regress_ret.windows()"}')
  FROM telos.jobs WHERE id = :ret;
\set VERBOSITY terse
CALL telos.run_job(:ret);
\set VERBOSITY default
-- The table is gone: the job fails clearly.
DROP TABLE regress_ret.raw CASCADE;
DELETE FROM regress_ret.tenants WHERE name = 'broken';
\set VERBOSITY terse
CALL telos.run_job(:ret);
\set VERBOSITY default
-- Maintenance is for hypertables only.
SELECT pg_temp.err($$SELECT telos.add_maintenance_policy('regress_ret.agg')$$);
SELECT pg_temp.err($$SELECT telos.add_maintenance_policy(NULL)$$);
SELECT pg_temp.err($$SELECT telos.add_maintenance_policy('regress_ret.agg', NULL)$$);
SELECT pg_temp.err($$SELECT telos.add_maintenance_policy('regress_ret.agg', schedule => '-1 hour')$$);
-- Removing.
SELECT pg_temp.err($$SELECT telos.remove_retention_policy(NULL)$$);
SELECT pg_temp.err($$SELECT telos.remove_retention_policy('regress_ret.agg')$$);
SELECT telos.remove_retention_policy('regress_ret.agg', if_exists => true);
SELECT pg_temp.err($$SELECT telos.remove_maintenance_policy('regress_ret.agg')$$);

-- Clean up.
SELECT telos.delete_job(:ret);
DROP SCHEMA regress_ret CASCADE;
DROP ROLE regress_ret_owner, regress_ret_worker, regress_ret_app;
