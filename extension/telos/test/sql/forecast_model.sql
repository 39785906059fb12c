--
-- forecast_model: telos.forecast and telos.forecast_probability on series
-- with a known linear trend, weekly seasonality and noise --
--   y[t] = 100 + 0.5 t + 10 sin(2 pi t / 7) + N(0, 5^2),  t = 0, 1, ...
-- the point forecast tracks the truth, the interval contains it, an easy
-- target gets a probability near 1 and an impossible one near 0, the
-- fallbacks are named in method, and totals (cumulative) add up.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
RESET client_min_messages;

-- The process above, n values from a seeded generator (setseed + random,
-- Box-Muller), so that every run sees the same series.
CREATE FUNCTION pg_temp.gen(seed float8, n int, sd float8 DEFAULT 5) RETURNS float8[]
LANGUAGE plpgsql AS $$
DECLARE y float8[] := '{}';
BEGIN
    PERFORM setseed(seed);
    FOR t IN 0 .. n - 1 LOOP
        y := y || (100 + 0.5 * t + 10 * sin(2 * pi() * t / 7)
                   + sd * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()));
    END LOOP;
    RETURN y;
END
$$;
CREATE FUNCTION pg_temp.truth(t int) RETURNS float8 LANGUAGE sql AS $$
SELECT 100 + 0.5 * t + 10 * sin(2 * pi() * t / 7)
$$;

-- 20 weeks of history, 2 weeks ahead: every step within 5 (one noise sd)
-- of the truth, the truth inside every 80% interval, intervals widening.
CREATE TEMP TABLE f AS
SELECT f.*, pg_temp.truth(139 + step) AS truth
  FROM telos.forecast(pg_temp.gen(0.1, 140), 14) f;
SELECT count(*) AS steps,
       bool_and(abs(mean - truth) < 5) AS mean_close,
       round(max(abs(mean - truth))::numeric, 1) AS max_error,
       bool_and(truth BETWEEN lo AND hi) AS truth_inside,
       bool_and(lo < mean AND mean < hi) AS ordered
  FROM f;
SELECT (SELECT hi - lo FROM f WHERE step = 14) > (SELECT hi - lo FROM f WHERE step = 1)
       AS interval_widens;

-- The same series and arguments give the same numbers (deterministic).
SELECT (SELECT array_agg(mean ORDER BY step) FROM telos.forecast(pg_temp.gen(0.1, 140), 14))
     = (SELECT array_agg(mean ORDER BY step) FROM f) AS deterministic;

-- Easy, impossible and coin-flip targets at step 14 (truth there: 168.7).
SELECT round(target::numeric, 1) AS target, direction, round(probability::numeric, 3) AS probability, method, n
  FROM (VALUES (150::float8, 'increase'), (250, 'increase'), (150, 'decrease'),
               (250, 'decrease'), (pg_temp.truth(153), 'increase')) v(target, direction),
       telos.forecast_probability(pg_temp.gen(0.1, 140), 14, target => target,
                                  direction => direction) p
 ORDER BY 1, 2;

-- maintain: stay at or above the target at every step of the horizon.
-- 120 is below every step (near 1); 165 is crossed at the weekly troughs.
SELECT target, round(probability::numeric, 2) AS probability
  FROM (VALUES (120::float8), (165), (200)) v(target),
       telos.forecast_probability(pg_temp.gen(0.1, 140), 14, target => target,
                                  direction => 'maintain') p
 ORDER BY 1;

-- No target: no probability, the forecast at the horizon all the same.
SELECT probability IS NULL AS no_probability, final_lo < final_mean AS has_interval
  FROM telos.forecast_probability(pg_temp.gen(0.1, 140), 14);

-- A wider level gives a wider interval around the same mean.
SELECT a.final_mean = b.final_mean AS same_mean,
       b.final_hi - b.final_lo > a.final_hi - a.final_lo AS wider
  FROM telos.forecast_probability(pg_temp.gen(0.1, 140), 14, level => 0.8) a,
       telos.forecast_probability(pg_temp.gen(0.1, 140), 14, level => 0.95) b;

-- Cumulative: the running sum of the step forecasts plus accumulated, and a
-- total target ("reach 2,900 of revenue over the window by day 14, 500 of
-- which are already booked").
SELECT bool_and(abs(c.mean - (500 + (SELECT sum(l.mean) FROM telos.forecast(pg_temp.gen(0.1, 140), 14) l
                                     WHERE l.step <= c.step))) < 1e-6) AS running_sum,
       round(max(c.mean) FILTER (WHERE c.step = 14)) AS total_at_14
  FROM telos.forecast(pg_temp.gen(0.1, 140), 14, cumulative => true, accumulated => 500) c;
SELECT target, round(probability::numeric, 3) AS probability
  FROM (VALUES (2700::float8), (2900), (3100)) v(target),
       telos.forecast_probability(pg_temp.gen(0.1, 140), 14, target => target,
                                  cumulative => true, accumulated => 500) p
 ORDER BY 1;

-- Short series fall back: regression on trend + weekly dummies, then on
-- trend alone; period 1 is Holt's linear method (no seasonality).
SELECT len, period, method, n, final_lo < final_mean AND final_mean < final_hi AS has_interval
  FROM (VALUES (140, 7), (22, 7), (21, 7), (12, 7), (9, 7), (3, 7), (10, 1), (9, 1)) v(len, period),
       telos.forecast_probability(pg_temp.gen(0.1, len), 14, period => period) p
 ORDER BY len DESC, period;

-- A perfectly regular series: zero residuals, a point interval, and a
-- probability of exactly 0 or 1.
SELECT method, sigma < 1e-9 AS exact, probability
  FROM telos.forecast_probability(
         (SELECT array_agg(pg_temp.truth(t) ORDER BY t) FROM generate_series(0, 10) t), 7,
         target => 0);
