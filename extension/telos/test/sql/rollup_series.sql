--
-- rollup_series: telos.metric_series returns the buckets that overlap
-- [from, to): materialized buckets plus what is not materialized yet, so a reading written a moment ago (INSERT
-- or COPY) is in the answer; value follows the metric's aggregation;
-- derived metrics evaluate their formula over the aligned buckets of the
-- metrics they reference (division by zero gives NULL, cycles and bad
-- formulas are errors); 'auto' picks the width from the range; row-level
-- security of the caller applies; bad input gives clear errors.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET intervalstyle = 'postgres';
CREATE SCHEMA rs;

CREATE TABLE rs.raw (tenant_id uuid NOT NULL, time timestamptz NOT NULL,
                     metric_type text NOT NULL, value float8 NOT NULL) PARTITION BY RANGE (time);
CREATE TABLE rs.raw_p1 PARTITION OF rs.raw FOR VALUES FROM ('2024-01-01 00:00+00') TO ('2024-07-01 00:00+00');
CREATE TABLE rs.raw_p2 PARTITION OF rs.raw DEFAULT;
CREATE INDEX ON rs.raw (tenant_id, metric_type, time DESC);
CREATE TABLE rs.agg (
    tenant_id uuid NOT NULL, metric_type text NOT NULL, bucket_width text NOT NULL,
    bucket timestamptz NOT NULL, count bigint NOT NULL, sum float8 NOT NULL,
    min float8 NOT NULL, max float8 NOT NULL, first float8 NOT NULL, last float8 NOT NULL,
    PRIMARY KEY (tenant_id, metric_type, bucket_width, bucket));
CREATE TABLE rs.defs (tenant_id uuid NOT NULL, metric_type text NOT NULL,
                      aggregation text, calculation_formula text,
                      PRIMARY KEY (tenant_id, metric_type));
CREATE TABLE rs.tenant (id uuid PRIMARY KEY, zone text NOT NULL);
CREATE FUNCTION rs.zone(uuid) RETURNS text LANGUAGE sql STABLE
    AS $$ SELECT zone FROM rs.tenant WHERE id = $1 $$;
INSERT INTO rs.tenant VALUES ('aaaaaaaa-0000-0000-0000-000000000000', 'Europe/Paris'),
                             ('bbbbbbbb-0000-0000-0000-000000000000', 'UTC');

INSERT INTO rs.defs (tenant_id, metric_type, aggregation, calculation_formula)
SELECT t, m, a, f
  FROM (VALUES ('aaaaaaaa-0000-0000-0000-000000000000'::uuid), ('bbbbbbbb-0000-0000-0000-000000000000')) AS tt(t),
       (VALUES ('revenue', 'sum', NULL), ('cogs', 'sum', NULL), ('cash', 'last', NULL),
               ('conversion', 'avg', NULL), ('signups', 'count', NULL), ('peak', 'max', NULL),
               ('low', 'min', NULL), ('opening', 'first', NULL),
               ('margin', 'sum', '(revenue - cogs) / revenue'),
               ('margin_pct', 'sum', 'margin * 100'),
               ('gross_or_zero', 'sum', 'revenue - coalesce(cogs, 0)'),
               ('zero_div', 'sum', 'revenue / (cogs - cogs)'),
               ('loop_a', 'sum', 'loop_b + 1'), ('loop_b', 'sum', 'loop_a * 2'),
               ('self', 'sum', 'self + 1'),
               ('ghost_ref', 'sum', 'revenue + ghost'),
               ('broken', 'sum', 'revenue +'),
               ('weird_agg', 'median', NULL)) AS d(m, a, f);

-- Tenant A: hourly readings on 2024-03-30 .. 2024-04-01 (the Paris DST switch
-- is on 2024-03-31) for the plain metrics; cogs skips 2024-03-31 12:00-13:00 UTC.
INSERT INTO rs.raw
SELECT 'aaaaaaaa-0000-0000-0000-000000000000', ts, m,
       CASE m WHEN 'revenue' THEN 100 WHEN 'cogs' THEN 40 WHEN 'cash' THEN extract(hour FROM ts)
              WHEN 'conversion' THEN (extract(hour FROM ts)::int % 4) * 0.25
              ELSE extract(hour FROM ts) END
  FROM generate_series('2024-03-30 00:00+00'::timestamptz, '2024-04-01 23:00+00', '1 hour') AS ts,
       unnest('{revenue,cogs,cash,conversion,signups,peak,low,opening}'::text[]) AS m
 WHERE NOT (m = 'cogs' AND ts = '2024-03-31 12:00+00');
-- Tenant B: a few readings.
INSERT INTO rs.raw VALUES ('bbbbbbbb-0000-0000-0000-000000000000', '2024-03-31 10:00+00', 'revenue', 7);

SELECT telos.add_rollup_policy('rs.raw', 'rs.agg', 'rs.defs', 'rs.zone(uuid)', schedule => NULL);

-- Never refreshed: everything comes from raw.
SELECT bucket, count, sum, min, max, first, last, value
  FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue',
                           '2024-03-30 00:00+00', '2024-04-02 00:00+00', 'day');
SELECT telos.refresh_rollups('rs.raw') > 0 AS refreshed;
-- The same, from the rollups.
SELECT bucket, count, sum, min, max, first, last, value
  FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue',
                           '2024-03-30 00:00+00', '2024-04-02 00:00+00', 'day');

-- value = the metric's aggregation, on 2024-03-31 in Paris (23 hours, from
-- 23:00 to 21:00 UTC; cash and the others read the UTC hour).
SELECT m AS metric, s.bucket, s.count, s.value
  FROM unnest('{cash,conversion,signups,peak,low,opening}'::text[]) m,
       LATERAL telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', m,
                                   '2024-03-30 23:00+00', '2024-03-31 12:00+00', 'day') s
 ORDER BY 1, 2;

-- Freshness: a reading inserted now is in every width before any refresh.
INSERT INTO rs.raw VALUES ('aaaaaaaa-0000-0000-0000-000000000000', '2024-03-31 08:15+00', 'revenue', 1000);
SELECT bucket, count, sum, max FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue',
       '2024-03-31 08:00+00', '2024-03-31 10:00+00', 'hour');
SELECT bucket, count, sum FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue',
       '2024-03-30 00:00+00', '2024-04-02 00:00+00', 'day');
SELECT bucket, count, sum FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue',
       '2024-01-01 00:00+00', '2025-01-01 00:00+00', 'month');
-- ... and so is one written by COPY, and a deletion.
COPY rs.raw (tenant_id, time, metric_type, value) FROM stdin;
aaaaaaaa-0000-0000-0000-000000000000	2024-04-01 22:30:00+00	revenue	5
\.
DELETE FROM rs.raw WHERE metric_type = 'revenue' AND time = '2024-03-30 00:00+00';
SELECT bucket, count, sum FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue',
       '2024-03-30 00:00+00', '2024-04-02 00:00+00', 'day');
SELECT count(*) > 0 AS pending FROM telos.invalidation WHERE raw = 'rs.raw'::regclass;
SELECT telos.refresh_rollups('rs.raw');
SELECT bucket, count, sum FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue',
       '2024-03-30 00:00+00', '2024-04-02 00:00+00', 'day');

-- Derived metrics, day by day and for the hour where cogs has no reading.
SELECT s.bucket, s.count, s.sum, s.value AS margin
  FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'margin',
                           '2024-03-30 00:00+00', '2024-04-02 00:00+00', 'day') s;
SELECT m AS metric, s.bucket, s.value
  FROM unnest('{margin,margin_pct,gross_or_zero,zero_div}'::text[]) m,
       LATERAL telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', m,
                                   '2024-03-31 11:00+00', '2024-03-31 14:00+00', 'hour') s
 ORDER BY 1, 2;
-- Errors in definitions surface at read time (the application validates
-- them at definition time, see schema/0006_rollups.sql).
\set VERBOSITY terse
SELECT * FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'loop_a', '2024-03-30', '2024-04-02', 'day');
SELECT * FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'self', '2024-03-30', '2024-04-02', 'day');
SELECT * FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'ghost_ref', '2024-03-30', '2024-04-02', 'day');
SELECT * FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'broken', '2024-03-30', '2024-04-02', 'day');
SELECT * FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'weird_agg', '2024-03-30', '2024-04-02', 'day');
SELECT * FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'nope', '2024-03-30', '2024-04-02', 'day');
\set VERBOSITY default

-- 'auto': up to 7 days hours, up to 366 days days, beyond months.
SELECT telos.auto_bucket('2024-03-30', '2024-04-06') AS seven_days,
       telos.auto_bucket('2024-03-30', '2024-04-06 00:00:01') AS just_over,
       telos.auto_bucket('2024-01-01', '2025-01-01') AS leap_year,
       telos.auto_bucket('2024-01-01', '2025-01-02 00:00:01') AS over_a_year;
SELECT count(*) AS hours FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue',
       '2024-03-31 00:00+00', '2024-04-01 00:00+00', 'auto');
SELECT count(*) AS days FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue',
       '2024-03-01 00:00+00', '2024-05-01 00:00+00', 'auto');
SELECT bucket, count FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue',
       '2023-01-01 00:00+00', '2025-01-01 00:00+00', 'auto');
-- Buckets that overlap [from, to), each whole: two days in the middle of
-- March ask for all of March (Paris), a range inside one hour for that hour.
SELECT bucket, count FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue',
       '2024-03-30 06:00+00', '2024-03-31 06:00+00', 'month');
SELECT bucket, count FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue',
       '2024-03-31 08:20+00', '2024-03-31 08:40+00', 'hour');
-- from = to: nothing; the series of a tenant with no readings is empty.
SELECT count(*) FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue',
       '2024-03-31 00:00+00', '2024-03-31 00:00+00', 'hour');
SELECT count(*) FROM telos.metric_series('bbbbbbbb-0000-0000-0000-000000000000', 'cogs',
       '2024-01-01', '2025-01-01', 'day');

-- Row-level security of the caller, as in the application: a tenant role
-- sees its own buckets (fresh ones too) and its own pending ranges only.
ALTER TABLE rs.raw ENABLE ROW LEVEL SECURITY;
ALTER TABLE rs.agg ENABLE ROW LEVEL SECURITY;
ALTER TABLE rs.defs ENABLE ROW LEVEL SECURITY;
CREATE POLICY t ON rs.raw USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
CREATE POLICY t ON rs.agg USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
CREATE POLICY t ON rs.defs USING (tenant_id = nullif(current_setting('app.current_tenant_id', true), '')::uuid);
CREATE ROLE regress_rs_app;
GRANT USAGE ON SCHEMA rs TO regress_rs_app;
GRANT SELECT, INSERT ON rs.raw TO regress_rs_app;
GRANT SELECT ON rs.agg, rs.defs, rs.tenant TO regress_rs_app;
INSERT INTO rs.raw VALUES ('bbbbbbbb-0000-0000-0000-000000000000', '2024-03-31 11:00+00', 'revenue', 8);
SET ROLE regress_rs_app;
SELECT set_config('app.current_tenant_id', 'aaaaaaaa-0000-0000-0000-000000000000', false) IS NOT NULL AS as_a;
INSERT INTO rs.raw VALUES ('aaaaaaaa-0000-0000-0000-000000000000', '2024-03-31 12:30+00', 'revenue', 1);
SELECT bucket, count, sum FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue',
       '2024-03-31 12:00+00', '2024-03-31 13:00+00', 'hour');
SELECT count(*) FROM telos.metric_series('bbbbbbbb-0000-0000-0000-000000000000', 'revenue',
       '2024-01-01', '2025-01-01', 'day');
SELECT tenant_id, metric_types FROM telos.invalidation ORDER BY 1, 2;
SELECT set_config('app.current_tenant_id', '', false) IS NOT NULL AS no_tenant;
SELECT count(*) FROM telos.invalidation;
\set VERBOSITY terse
SELECT telos.refresh_rollups('rs.raw');
\set VERBOSITY default
RESET ROLE;
SELECT set_config('app.current_tenant_id', '', false) IS NOT NULL AS reset;

-- Bad input.
\set VERBOSITY terse
SELECT * FROM telos.metric_series(NULL, 'revenue', '2024-03-30', '2024-04-02', 'day');
SELECT * FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', NULL, '2024-03-30', '2024-04-02', 'day');
SELECT * FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue', NULL, '2024-04-02', 'day');
SELECT * FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue', '2024-03-30', NULL, 'day');
SELECT * FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue', '2024-03-30', '2024-04-02', NULL);
SELECT * FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue', '2024-03-30', '2024-04-02', 'week');
SELECT * FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue', '2024-04-02', '2024-03-30', 'day');
SELECT * FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue', '-infinity', '2024-03-30', 'day');
SELECT * FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue', '1900-01-01', '2200-01-01', 'hour');
SELECT * FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue', '2024-03-30', '2024-04-02', 'day', 'rs.defs');
SELECT * FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue', '2024-03-30', '2024-04-02', 'day', 0);
SELECT * FROM telos.bucket_ranges('week', '2024-03-30', '2024-04-02');
SELECT * FROM telos.bucket_ranges('day', NULL, '2024-04-02');
SELECT * FROM telos.bucket_ranges('day', '2024-03-30', 'infinity');
SELECT * FROM telos.bucket_ranges('day', '2024-03-30', '2024-04-02', 'Nowhere/Special');
-- With two policies, raw must be named.
CREATE TABLE rs.raw2 (LIKE rs.raw);
CREATE TABLE rs.agg2 (LIKE rs.agg INCLUDING ALL);
SELECT telos.add_rollup_policy('rs.raw2', 'rs.agg2', 'rs.defs', 'rs.zone(uuid)', schedule => NULL);
SELECT * FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue', '2024-03-30', '2024-04-02', 'day');
SELECT count(*) FROM telos.metric_series('aaaaaaaa-0000-0000-0000-000000000000', 'revenue', '2024-03-30', '2024-04-02', 'day', 'rs.raw2');
\set VERBOSITY default

SELECT telos.remove_rollup_policy('rs.raw2');
SELECT telos.remove_rollup_policy('rs.raw');
DROP SCHEMA rs CASCADE;
DROP ROLE regress_rs_app;
DROP EXTENSION telos;
