--
-- evidence_discover: telos.discover_evidence finds planted causal structure
-- between a tenant's metrics and nothing between independent ones: series
-- from the rollup policy on the tenant's local days, the gap rule (short
-- gaps interpolated, long ones skip the metric), ADF-driven differencing of
-- random walks, BIC lags, both directions, BH q-values over the whole run,
-- causes / inhibits / correlates with the confidence formula, evidence
-- JSON; skipped metrics and pairs say why; bad arguments are clear errors.
-- The calendar ends at the current day, so the data is generated relative
-- to now() and the output shows only facts that do not depend on the date.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
SET timezone = 'UTC';
CREATE SCHEMA ed;

CREATE TABLE ed.raw (tenant_id uuid NOT NULL, time timestamptz NOT NULL,
                     metric_type text NOT NULL, value float8 NOT NULL);
CREATE INDEX ON ed.raw (tenant_id, metric_type, time DESC);
CREATE TABLE ed.agg (
    tenant_id uuid NOT NULL, metric_type text NOT NULL, bucket_width text NOT NULL,
    bucket timestamptz NOT NULL, count bigint NOT NULL, sum float8 NOT NULL,
    min float8 NOT NULL, max float8 NOT NULL, first float8 NOT NULL, last float8 NOT NULL,
    PRIMARY KEY (tenant_id, metric_type, bucket_width, bucket));
CREATE TABLE ed.defs (tenant_id uuid NOT NULL, metric_type text NOT NULL,
                      aggregation text, calculation_formula text,
                      PRIMARY KEY (tenant_id, metric_type));
CREATE TABLE ed.tenant (id uuid PRIMARY KEY, zone text NOT NULL);
CREATE FUNCTION ed.zone(uuid) RETURNS text LANGUAGE sql STABLE
    AS $$ SELECT zone FROM ed.tenant WHERE id = $1 $$;
INSERT INTO ed.tenant VALUES ('aaaaaaaa-0000-0000-0000-000000000000', 'Asia/Kolkata'),
                             ('bbbbbbbb-0000-0000-0000-000000000000', 'UTC');

SELECT telos.add_rollup_policy('ed.raw', 'ed.agg', 'ed.defs', 'ed.zone(uuid)', schedule => NULL) IS NULL AS no_job;

INSERT INTO ed.defs (tenant_id, metric_type, aggregation)
SELECT 'aaaaaaaa-0000-0000-0000-000000000000', m, 'sum'
  FROM unnest('{a,b,c,d,g,f,gappy,short,flat,empty}'::text[]) m;
-- a derived metric: not discovered unless named (it is arithmetic of a and b)
INSERT INTO ed.defs VALUES ('aaaaaaaa-0000-0000-0000-000000000000', 'a_plus_b', 'sum', 'a + b');

-- 400 local days ending yesterday, one reading at local noon:
--   a AR(1); b = 0.8 a[t-2] + 0.3 b[t-1] + e; c = -0.7 a[t-1] + e;
--   d random walk; g = g[t-1] + 0.8 (d[t-1] - d[t-2]) + 0.5 e;
--   f white noise missing 3 single days; gappy missing every third day;
--   short only 20 days; flat constant; empty: no data.
SELECT setseed(0.31);
INSERT INTO ed.raw
WITH RECURSIVE s(i, a, a1, b, c, d, d1, g, f) AS (
  SELECT 0, 0::float8, 0::float8, 0::float8, 0::float8, 0::float8, 0::float8, 0::float8, 0::float8
  UNION ALL
  SELECT i + 1, 0.5 * a + n1, a, 0.8 * a1 + 0.3 * b + n2, -0.7 * a + n3, d + n4, d,
         g + 0.8 * (d - d1) + 0.5 * n5, n6
    FROM (SELECT s.*, sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS n1,
                 sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS n2,
                 sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS n3,
                 sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS n4,
                 sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS n5,
                 sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS n6
            FROM s WHERE i < 420) s)
SELECT 'aaaaaaaa-0000-0000-0000-000000000000',
       ((now() AT TIME ZONE 'Asia/Kolkata')::date - (421 - i) + time '12:00') AT TIME ZONE 'Asia/Kolkata', m, v
  FROM s, LATERAL (VALUES ('a', 100 + a), ('b', 50 + b), ('c', 80 + c), ('d', 1000 + d),
                          ('g', 300 + g), ('f', CASE WHEN i IN (100, 200, 333) THEN NULL ELSE 10 + f END),
                          ('gappy', CASE WHEN i % 3 = 0 THEN NULL ELSE 5 + f END),
                          ('short', CASE WHEN i > 400 THEN 1 + a END),
                          ('flat', 7)) v(m, v)
 WHERE i > 20 AND v IS NOT NULL;

CREATE TEMP TABLE found AS
SELECT * FROM telos.discover_evidence('aaaaaaaa-0000-0000-0000-000000000000', maxlag => 7, raw => 'ed.raw');

-- Skipped metrics and why.
SELECT source, reason FROM found WHERE target IS NULL ORDER BY source;
-- Pairs with short are skipped with their n.
SELECT count(*) AS short_pairs_skipped, min(reason) AS reason
  FROM found WHERE status = 'skipped' AND 'short' IN (source, target);
-- The planted edges, and nothing between independent groups.
SELECT source, target, edge_type, (evidence ->> 'lag')::int AS lag
  FROM found WHERE (source, target) IN (('a', 'b'), ('a', 'c'), ('d', 'g')) AND method = 'granger_causality'
 ORDER BY 1, 2;
SELECT count(*) AS independent_edges FROM found
 WHERE edge_type IS NOT NULL
   AND ('f' IN (source, target)
        OR (source IN ('a', 'b', 'c') AND target IN ('d', 'g'))
        OR (source IN ('d', 'g') AND target IN ('a', 'b', 'c')));
SELECT status FROM found WHERE source = 'b' AND target = 'a' AND method = 'granger_causality';
-- Both directions and both methods for every tested pair: 6 metrics, 30
-- ordered pairs, 60 tests; BH over all of them.
SELECT count(*) AS tests, count(DISTINCT evidence ->> 'tests_in_run') AS one_family,
       bool_and((evidence ->> 'tests_in_run')::int = 60) AS family_is_the_run
  FROM found WHERE method IS NOT NULL;
WITH t AS (SELECT p_value, q_value, row_number() OVER (ORDER BY source, target, method) AS r
             FROM found WHERE method IS NOT NULL),
     q AS (SELECT telos.bh_qvalues(array_agg(p_value ORDER BY r)) AS qs FROM t)
SELECT bool_and(abs(t.q_value - q.qs[t.r]) <= 1e-12 * q.qs[t.r]) AS q_values_are_bh_over_the_run FROM t, q;
-- Decisions follow q and the sign; confidence follows the documented formula.
SELECT bool_and(CASE WHEN method = 'granger_causality' THEN
                  (edge_type IS NOT NULL) = (q_value <= 0.05)
                  AND (edge_type IS NULL OR edge_type = CASE WHEN (evidence ->> 'coef_sum')::float8 >= 0
                                                             THEN 'causes' ELSE 'inhibits' END)
                ELSE edge_type IS NULL OR (edge_type = 'correlates' AND q_value <= 0.05) END) AS decisions_ok,
       bool_and(confidence = round((0.5 * (1 - q_value) + 0.5 * sqrt(
                  CASE WHEN method = 'granger_causality'
                       THEN (evidence ->> 'f_stat')::float8 * (evidence ->> 'df_num')::int
                            / ((evidence ->> 'f_stat')::float8 * (evidence ->> 'df_num')::int + (evidence ->> 'df_denom')::int)
                       ELSE ((evidence ->> 'r')::float8) ^ 2 END))::numeric, 2)) AS confidence_formula,
       bool_and(confidence BETWEEN 0 AND 1) AS confidence_in_unit_interval
  FROM found WHERE method IS NOT NULL;
-- A correlation is superseded when the Granger test of its direction is significant.
SELECT bool_and(c.status = 'superseded') AS superseded_ok
  FROM found c JOIN found g USING (source, target)
 WHERE c.method = 'lagged_correlation' AND g.method = 'granger_causality' AND g.edge_type IS NOT NULL;
-- Evidence JSON: the documented members; random walks differenced once.
SELECT array_agg(k ORDER BY k) AS evidence_keys
  FROM (SELECT DISTINCT jsonb_object_keys(evidence) k FROM found WHERE method = 'granger_causality') s;
SELECT evidence -> 'differencing' AS differencing, evidence -> 'window' ->> 'bucket' AS bucket,
       evidence -> 'window' ->> 'time_zone' AS zone, (evidence ->> 'n')::int > 380 AS n_ok,
       evidence ->> 'direction' AS direction,
       (evidence ->> 'data_as_of')::timestamptz
         = date_trunc('day', now() AT TIME ZONE 'Asia/Kolkata') AT TIME ZONE 'Asia/Kolkata' AS as_of_local_midnight
  FROM found WHERE source = 'd' AND target = 'g' AND method = 'granger_causality';
-- f's three missing days were interpolated: its pairs are tested on the full span.
SELECT min((evidence ->> 'n')::int) > 380 AS f_tested_whole FROM found WHERE source = 'f' AND method IS NOT NULL;

-- The derived metric is left out by default, tested when named.
SELECT count(*) AS derived_rows FROM found WHERE 'a_plus_b' IN (source, target);
SELECT count(*) AS derived_tests
  FROM telos.discover_evidence('aaaaaaaa-0000-0000-0000-000000000000', metrics => '{a,a_plus_b}', raw => 'ed.raw')
 WHERE method IS NOT NULL;

-- A chosen subset, and the pair-by-pair path (spans differ: a starts later).
SELECT count(*) AS tests, bool_and(source IN ('a', 'b') AND target IN ('a', 'b')) AS only_those
  FROM telos.discover_evidence('aaaaaaaa-0000-0000-0000-000000000000', metrics => '{a,b}', raw => 'ed.raw')
 WHERE method IS NOT NULL;
DELETE FROM ed.raw WHERE metric_type = 'a'
   AND time < ((now() AT TIME ZONE 'Asia/Kolkata')::date - 200)::timestamp AT TIME ZONE 'Asia/Kolkata';
SELECT source, target, edge_type
  FROM telos.discover_evidence('aaaaaaaa-0000-0000-0000-000000000000', metrics => '{a,b,d,g}', raw => 'ed.raw')
 WHERE edge_type IS NOT NULL AND method = 'granger_causality' ORDER BY 1, 2;

-- An external factor given as periods (here a's own values, one local day
-- each): it drives b, and is never tested as a target.
CREATE TEMP TABLE factor AS
SELECT jsonb_build_object('ext', jsonb_agg(jsonb_build_object(
         'from', date_trunc('day', time AT TIME ZONE 'Asia/Kolkata') AT TIME ZONE 'Asia/Kolkata',
         'to', (date_trunc('day', time AT TIME ZONE 'Asia/Kolkata') + interval '1 day') AT TIME ZONE 'Asia/Kolkata',
         'value', value))) AS f
  FROM ed.raw WHERE tenant_id = 'aaaaaaaa-0000-0000-0000-000000000000' AND metric_type = 'a';
SELECT source, target, method, edge_type
  FROM telos.discover_evidence('aaaaaaaa-0000-0000-0000-000000000000', metrics => '{b,f}', raw => 'ed.raw',
                               factors => (SELECT f FROM factor))
 WHERE edge_type IS NOT NULL OR target = 'ext' OR status = 'skipped' ORDER BY 1, 2, 3;

-- Another tenant (no metrics) finds nothing; row-level security of the
-- rollups would confine a non-owner the same way (rollup_series).
SELECT count(*) FROM telos.discover_evidence('bbbbbbbb-0000-0000-0000-000000000000', raw => 'ed.raw');

-- Hour buckets are UTC hours whatever the session's zone (a +05:30 session
-- must not shift them by half an hour): h1 drives h2 one hour later.
SET timezone = 'Asia/Kolkata';
INSERT INTO ed.defs VALUES ('bbbbbbbb-0000-0000-0000-000000000000', 'h1', 'sum', NULL),
                           ('bbbbbbbb-0000-0000-0000-000000000000', 'h2', 'sum', NULL);
SELECT setseed(0.5);
INSERT INTO ed.raw
WITH RECURSIVE s(i, h1, h2) AS (
  SELECT 0, 0::float8, 0::float8
  UNION ALL
  SELECT i + 1, n1, 0.9 * h1 + 0.5 * n2
    FROM (SELECT s.*, sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS n1,
                 sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()) AS n2
            FROM s WHERE i < 200) s)
SELECT 'bbbbbbbb-0000-0000-0000-000000000000', date_trunc('hour', now(), 'UTC') - (201 - i) * interval '1 hour'
       + interval '10 minutes', m, v
  FROM s, LATERAL (VALUES ('h1', h1), ('h2', h2)) v(m, v) WHERE i > 0;
SELECT source, target, edge_type, (evidence ->> 'lag')::int AS lag, (evidence ->> 'n')::int AS n,
       (evidence ->> 'data_as_of')::timestamptz = date_trunc('hour', now(), 'UTC') AS as_of_utc_hour
  FROM telos.discover_evidence('bbbbbbbb-0000-0000-0000-000000000000', bucket => 'hour', maxlag => 3,
                               raw => 'ed.raw')
 WHERE edge_type IS NOT NULL ORDER BY 1, 2, 3;
SET timezone = 'UTC';

-- Autocorrelated but independent metrics give no false edges. The plain
-- Pearson p-value treats the pairs of two AR(1) series as independent
-- draws: at phi = 0.8 the cross-correlation of independent series has
-- (1 + 0.64) / (1 - 0.64) = 4.6 times the variance it assumes, and
-- "significant" correlations abound. Discovery correlates the series'
-- AR residuals (prewhitening, telos.corr_pairs). 4 seeds, each a tenant
-- with 8 independent AR(1) metrics (phi = 0.8) and a planted driver
-- q1 -> q2 at lag 2: 90 ordered pairs, 180 tests per seed.
DO $$
DECLARE
  s float8[];
  w float8[];
  t0 date := (now() AT TIME ZONE 'UTC')::date - 301;
BEGIN
  FOR seed IN 1..4 LOOP
    PERFORM setseed(seed / 10.0);
    INSERT INTO ed.tenant VALUES (('cccccccc-0000-0000-0000-00000000000' || seed)::uuid, 'UTC');
    FOR m IN 1..10 LOOP
      INSERT INTO ed.defs VALUES (('cccccccc-0000-0000-0000-00000000000' || seed)::uuid,
                                  CASE WHEN m <= 8 THEN 'p' || m ELSE 'q' || (m - 8) END, 'sum', NULL);
      s := '{0}';
      FOR t IN 2..300 LOOP
        s := s || (0.8 * s[t - 1] + sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()));
      END LOOP;
      IF m = 10 THEN                          -- q2 += 0.6 q1[t - 2]
        FOR t IN 3..300 LOOP s[t] := s[t] + 0.6 * w[t - 2]; END LOOP;
      END IF;
      w := s;
      INSERT INTO ed.raw
      SELECT ('cccccccc-0000-0000-0000-00000000000' || seed)::uuid, (t0 + t + time '12:00') AT TIME ZONE 'UTC',
             CASE WHEN m <= 8 THEN 'p' || m ELSE 'q' || (m - 8) END, 100 + s[t]
        FROM generate_series(1, 300) t;
    END LOOP;
  END LOOP;
END $$;
CREATE TEMP TABLE ar_found AS
SELECT seed, f.*
  FROM generate_series(1, 4) seed,
       telos.discover_evidence(('cccccccc-0000-0000-0000-00000000000' || seed)::uuid, raw => 'ed.raw') f;
SELECT seed, count(*) FILTER (WHERE method IS NOT NULL) AS tests,
       count(*) FILTER (WHERE edge_type IS NOT NULL AND (source, target) <> ('q1', 'q2')) AS false_edges,
       string_agg(edge_type, ',') FILTER (WHERE (source, target) = ('q1', 'q2')) AS planted
  FROM ar_found GROUP BY seed ORDER BY seed;
-- The correlations' evidence names the prewhitening and the AR orders.
SELECT evidence ->> 'prewhitening' AS prewhitening, evidence -> 'ar_order' AS ar_order
  FROM ar_found WHERE seed = 1 AND source = 'p1' AND target = 'p2' AND method = 'lagged_correlation';
-- The same series, correlated raw at lag 1 (what discovery did before) and
-- prewhitened: the share of p-values <= 0.05 among independent pairs.
CREATE TEMP TABLE ar_series AS
SELECT seed, array_agg(value ORDER BY metric_type, time) AS v
  FROM generate_series(1, 4) seed
  JOIN ed.raw ON tenant_id = ('cccccccc-0000-0000-0000-00000000000' || seed)::uuid AND metric_type LIKE 'p%'
 GROUP BY seed;
SELECT c.prewhiten, count(*) AS pairs,
       round(avg((c.p_value <= 0.05)::int), 2) AS rejected_at_5pct
  FROM ar_series, (VALUES (false), (true)) pw(prewhiten),
       LATERAL (SELECT pw.prewhiten, cp.* FROM telos.corr_pairs(ar_series.v, 8, '{1}', 7, pw.prewhiten) cp) c
 GROUP BY c.prewhiten ORDER BY c.prewhiten;

-- Prewhitening keeps a real lagged relation: q1 -> q2 at lag 2.
SELECT ar_series.seed, cp.x_idx, cp.y_idx, cp.lag, cp.r > 0.3 AS strong, cp.p_value < 1e-6 AS significant
  FROM generate_series(1, 4) AS ar_series(seed),
       LATERAL (SELECT array_agg(value ORDER BY metric_type, time) AS v FROM ed.raw
                 WHERE tenant_id = ('cccccccc-0000-0000-0000-00000000000' || ar_series.seed)::uuid
                   AND metric_type LIKE 'q%') q,
       telos.corr_pairs(q.v, 2, '{2}') cp
 WHERE cp.x_idx = 1 ORDER BY 1;

-- Bad arguments.
\set VERBOSITY terse
SELECT * FROM telos.discover_evidence('aaaaaaaa-0000-0000-0000-000000000000', bucket => 'week');
SELECT * FROM telos.discover_evidence('aaaaaaaa-0000-0000-0000-000000000000', maxlag => 0);
SELECT * FROM telos.discover_evidence('aaaaaaaa-0000-0000-0000-000000000000', fdr => 1);
SELECT * FROM telos.discover_evidence(NULL);
SELECT * FROM telos.discover_evidence('aaaaaaaa-0000-0000-0000-000000000000', raw => 'ed.agg');
SELECT * FROM telos.discover_evidence('aaaaaaaa-0000-0000-0000-000000000000', raw => 'ed.raw', factors => '[1]');
SELECT * FROM telos.discover_evidence('aaaaaaaa-0000-0000-0000-000000000000', raw => 'ed.raw', factors => '{"x": 1}');
\set VERBOSITY default

SELECT telos.remove_rollup_policy('ed.raw');
DROP SCHEMA ed CASCADE;
