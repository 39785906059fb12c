--
-- rollup_random: after random mixes of INSERT, UPDATE (values, times across
-- buckets and partitions, series) and DELETE on raw, under several seeds,
-- the materialized rollups equal a from-scratch recomputation from raw
-- after every refresh, and telos.metric_series equals it at any moment,
-- refreshed or not. Four tenants in UTC, America/New_York (DST switches on
-- 2024-03-10 and 2024-11-03), Asia/Kolkata (+05:30) and Asia/Kathmandu
-- (+05:45). Values are multiples of 0.25 so that sums are exact whatever
-- the order of addition; times fall on a 15-minute grid part of the time,
-- so that ties in first/last are exercised.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
SET timezone = 'UTC';
SET datestyle = 'ISO, YMD';
SET intervalstyle = 'postgres';
CREATE SCHEMA rr;

CREATE TABLE rr.raw (
    tenant_id   uuid        NOT NULL,
    time        timestamptz NOT NULL,
    metric_type text        NOT NULL,
    value       float8      NOT NULL,
    note        text
) PARTITION BY RANGE (time);
CREATE TABLE rr.raw_march PARTITION OF rr.raw
    FOR VALUES FROM ('2024-03-01 00:00+00') TO ('2024-04-01 00:00+00');
CREATE TABLE rr.raw_other PARTITION OF rr.raw DEFAULT;
CREATE INDEX ON rr.raw (tenant_id, metric_type, time DESC);

CREATE TABLE rr.agg (
    tenant_id uuid NOT NULL, metric_type text NOT NULL, bucket_width text NOT NULL,
    bucket timestamptz NOT NULL, count bigint NOT NULL, sum float8 NOT NULL,
    min float8 NOT NULL, max float8 NOT NULL, first float8 NOT NULL, last float8 NOT NULL,
    PRIMARY KEY (tenant_id, metric_type, bucket_width, bucket));
CREATE TABLE rr.defs (tenant_id uuid, metric_type text, aggregation text,
                      calculation_formula text, PRIMARY KEY (tenant_id, metric_type));
CREATE TABLE rr.tenant (id uuid PRIMARY KEY, zone text NOT NULL);
CREATE FUNCTION rr.zone(uuid) RETURNS text LANGUAGE sql STABLE
    AS $$ SELECT zone FROM rr.tenant WHERE id = $1 $$;

INSERT INTO rr.tenant VALUES
    ('00000000-0000-0000-0000-000000000001', 'UTC'),
    ('00000000-0000-0000-0000-000000000002', 'America/New_York'),
    ('00000000-0000-0000-0000-000000000003', 'Asia/Kolkata'),
    ('00000000-0000-0000-0000-000000000004', 'Asia/Kathmandu');
INSERT INTO rr.defs SELECT id, m, 'sum', NULL FROM rr.tenant, unnest('{a,b,c}'::text[]) m;

-- The reference, computed from raw with nothing of the engine: local days
-- and months by local date (no test zone turns its clocks back over
-- midnight, so that equals the engine's interval definition).
CREATE VIEW rr.expected AS
WITH r AS (SELECT r.*, t.zone FROM rr.raw r JOIN rr.tenant t ON t.id = r.tenant_id),
b AS (
    SELECT tenant_id, metric_type, 'hour' AS bucket_width,
           date_bin('1 hour', time, '2000-01-01 00:00+00') AS bucket, time, value FROM r
    UNION ALL
    SELECT tenant_id, metric_type, 'day',
           ((time AT TIME ZONE zone)::date)::timestamp AT TIME ZONE zone, time, value FROM r
    UNION ALL
    SELECT tenant_id, metric_type, 'month',
           date_trunc('month', time AT TIME ZONE zone) AT TIME ZONE zone, time, value FROM r)
SELECT tenant_id, metric_type, bucket_width, bucket, count(*) AS count, sum(value) AS sum,
       min(value) AS min, max(value) AS max,
       (array_agg(value ORDER BY time, value))[1] AS first,
       (array_agg(value ORDER BY time DESC, value DESC))[1] AS last
  FROM b GROUP BY 1, 2, 3, 4;

-- Rows of agg that differ from the reference (missing, extra, or other values).
CREATE FUNCTION rr.agg_mismatches() RETURNS bigint LANGUAGE sql AS $$
    SELECT count(*)
      FROM rr.agg a FULL JOIN rr.expected e USING (tenant_id, metric_type, bucket_width, bucket)
     WHERE (a.count, a.sum, a.min, a.max, a.first, a.last)
           IS DISTINCT FROM (e.count, e.sum, e.min, e.max, e.first, e.last)
$$;

-- Buckets where metric_series (every tenant, metric and width) differs from
-- the reference, both ways. The reference is computed once per check.
CREATE FUNCTION rr.series_mismatches() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    n bigint;
BEGIN
    CREATE TEMP TABLE exp ON COMMIT DROP AS SELECT * FROM rr.expected;
    CREATE TEMP TABLE got ON COMMIT DROP AS
        SELECT t.id AS tenant_id, m AS metric_type, w AS bucket_width, s.*
          FROM rr.tenant t, unnest('{a,b,c}'::text[]) m, unnest('{hour,day,month}'::text[]) w,
               LATERAL telos.metric_series(t.id, m, '2023-12-01', '2025-01-01', w, 'rr.raw') s;
    SELECT count(*) INTO n
      FROM got g FULL JOIN exp e USING (tenant_id, metric_type, bucket_width, bucket)
     WHERE (g.count, g.sum, g.min, g.max, g.first, g.last, g.value)
           IS DISTINCT FROM (e.count, e.sum, e.min, e.max, e.first, e.last, e.sum);
    DROP TABLE exp, got;
    RETURN n;
END
$$;

-- A random reading time: near one of the interesting spots (the DST
-- switches, a month end, an ordinary week), on the 15-minute grid half of
-- the time.
CREATE FUNCTION rr.rnd_time() RETURNS timestamptz LANGUAGE sql VOLATILE AS $$
    SELECT CASE WHEN random() < 0.5 THEN date_bin('15 minutes', t, '2000-01-01 00:00+00') ELSE t END
      FROM (SELECT (ARRAY['2024-03-08 00:00+00', '2024-10-31 00:00+00', '2024-03-29 00:00+00',
                          '2024-06-10 00:00+00'])[1 + floor(random() * 4)::int]::timestamptz
                   + random() * interval '5 days' AS t) s
$$;
CREATE FUNCTION rr.rnd_tenant() RETURNS uuid LANGUAGE sql VOLATILE AS $$
    SELECT ('00000000-0000-0000-0000-00000000000' || (1 + floor(random() * 4)::int))::uuid
$$;
CREATE FUNCTION rr.rnd_metric() RETURNS text LANGUAGE sql VOLATILE AS $$
    SELECT (ARRAY['a', 'b', 'c'])[1 + floor(random() * 3)::int]
$$;
CREATE FUNCTION rr.rnd_value() RETURNS float8 LANGUAGE sql VOLATILE AS $$
    SELECT round(random() * 4000) / 4 - 500
$$;

-- One seed: 60 random statements, a refresh (compared) now and then; at the
-- end, metric_series compared before the final refresh, then everything.
CREATE FUNCTION rr.run(seed float8) RETURNS TABLE (
    refreshes int, agg_mismatches_at_refreshes bigint, series_mismatches_unrefreshed bigint,
    agg_mismatches bigint, series_mismatches bigint, log_rows bigint, enough_rows boolean)
LANGUAGE plpgsql AS $$
DECLARE
    r float8;
    bad bigint := 0;
    n int := 0;
BEGIN
    PERFORM setseed(seed);
    FOR step IN 1..60 LOOP
        r := random();
        IF r < 0.40 THEN
            INSERT INTO rr.raw (tenant_id, time, metric_type, value)
                SELECT rr.rnd_tenant(), rr.rnd_time(), rr.rnd_metric(), rr.rnd_value()
                  FROM generate_series(1, 1 + floor(random() * 150)::int);
        ELSIF r < 0.55 THEN
            -- values and times change; times move across buckets and partitions
            UPDATE rr.raw SET value = rr.rnd_value(),
                              time = time + (random() - 0.5) * interval '3 days'
             WHERE random() < 0.04;
        ELSIF r < 0.65 THEN
            -- rows move to another series
            UPDATE rr.raw SET metric_type = rr.rnd_metric(), tenant_id = rr.rnd_tenant()
             WHERE random() < 0.03;
        ELSIF r < 0.80 THEN
            DELETE FROM rr.raw WHERE random() < 0.04;
        ELSIF r < 0.85 THEN
            -- a column the rollups do not use
            UPDATE rr.raw SET note = 'touched' WHERE random() < 0.05;
        ELSE
            PERFORM telos.refresh_rollups('rr.raw');
            bad := bad + rr.agg_mismatches();
            n := n + 1;
        END IF;
    END LOOP;
    -- one more insert so that the final state is never fully refreshed
    INSERT INTO rr.raw (tenant_id, time, metric_type, value)
        SELECT rr.rnd_tenant(), rr.rnd_time(), rr.rnd_metric(), rr.rnd_value()
          FROM generate_series(1, 20);
    series_mismatches_unrefreshed := rr.series_mismatches();
    PERFORM telos.refresh_rollups('rr.raw');
    RETURN QUERY SELECT n, bad, series_mismatches_unrefreshed, rr.agg_mismatches(),
                        rr.series_mismatches(),
                        (SELECT count(*) FROM telos.invalidation WHERE raw = 'rr.raw'::regclass),
                        (SELECT count(*) > 1000 FROM rr.raw);
END
$$;

-- Data before the policy exists: the first refresh materializes it.
SELECT setseed(0.42);
INSERT INTO rr.raw (tenant_id, time, metric_type, value)
    SELECT rr.rnd_tenant(), rr.rnd_time(), rr.rnd_metric(), rr.rnd_value()
      FROM generate_series(1, 2000);
SELECT telos.add_rollup_policy('rr.raw', 'rr.agg', 'rr.defs', 'rr.zone(uuid)', schedule => NULL);
SELECT rr.series_mismatches() AS series_mismatches_before_first_refresh;
SELECT telos.refresh_rollups('rr.raw') > 0 AS first_refresh_wrote;
SELECT rr.agg_mismatches() AS agg_mismatches_after_first_refresh;
SELECT count(*) FROM telos.invalidation WHERE raw = 'rr.raw'::regclass;

-- Several seeds, each continuing from the previous state.
SELECT s AS seed, x.* FROM unnest(ARRAY[0.1, 0.25, 0.5, 0.75, 0.9]) s, LATERAL rr.run(s) x;

-- Statements whose transition tables outgrow work_mem spill them to disk
-- (a 1M-row COPY does): the triggers read them back from there.
SET work_mem = '64kB';
INSERT INTO rr.raw (tenant_id, time, metric_type, value)
    SELECT rr.rnd_tenant(), rr.rnd_time(), rr.rnd_metric(), rr.rnd_value()
      FROM generate_series(1, 20000);
UPDATE rr.raw SET value = value + 0.25 WHERE random() < 0.5;
DELETE FROM rr.raw WHERE random() < 0.3;
RESET work_mem;
SELECT rr.series_mismatches() AS series_mismatches_after_spill;
SELECT telos.refresh_rollups('rr.raw') > 0 AS refreshed;
SELECT rr.agg_mismatches() AS agg_mismatches_after_spill, rr.series_mismatches();

-- TRUNCATE marks everything; the refresh empties the rollups, new rows
-- come back.
TRUNCATE rr.raw;
SELECT count(*) AS whole_table_rows FROM telos.invalidation
 WHERE raw = 'rr.raw'::regclass AND tenant_id IS NULL AND lo = '-infinity';
SELECT rr.series_mismatches() AS series_mismatches_after_truncate;
SELECT telos.refresh_rollups('rr.raw') > 0 AS refresh_wrote;
SELECT count(*) AS agg_rows FROM rr.agg;
SELECT rr.run(0.33);

-- A refresh with nothing to do writes nothing.
SELECT telos.refresh_rollups('rr.raw');

SELECT telos.remove_rollup_policy('rr.raw');
DROP SCHEMA rr CASCADE;
DROP EXTENSION telos;
