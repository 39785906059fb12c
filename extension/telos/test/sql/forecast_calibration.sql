--
-- forecast_calibration: over 600 seeded series of the same process
--   y[t] = 100 + 0.5 t + 10 sin(2 pi t / 7) + N(0, 5^2),  t = 0 .. 153,
-- fit on t < 140 and compare with what t = 140 .. 153 turned out to be:
-- the 80% interval of the value at step 14 and of the 14-step total
-- covers the realised value about 80% of the time, and the probabilities
-- of reaching targets spread around the truth are calibrated.
--
-- Tolerances. With 600 independent seeds a coverage of 0.80 has a binomial
-- standard error of 0.016: the check accepts 0.75 .. 0.85, three standard
-- errors either side (too narrow and "on track" is overconfident; too wide
-- and every goal looks uncertain). Probabilities: the mean probability
-- within 0.05 of the observed frequency of success (three standard errors
-- of a frequency near 0.5 over 600 seeds is 0.06), and in each quarter of
-- [0, 1] (at least 80 seeds each, standard error <= 0.056) within 0.10 of
-- it; the Brier score below 0.2 (0.25 is a coin's).
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
RESET client_min_messages;

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

-- One row per seed: targets at the truth shifted by -10 .. +10 (level)
-- and -40 .. +40 (total), so that probabilities cover (0, 1).
CREATE TEMP TABLE runs AS
WITH s AS (
    SELECT i, pg_temp.gen(i / 1000.0, 154) AS y FROM generate_series(1, 600) i
), f AS (
    SELECT i, y[1:140] AS hist, y[154] AS actual,
           (SELECT sum(v) FROM unnest(y[141:154]) v) AS actual_total,
           pg_temp.truth(153) + ((i % 9) - 4) * 2.5 AS target,
           (SELECT sum(pg_temp.truth(t)) FROM generate_series(140, 153) t)
               + ((i % 9) - 4) * 10 AS total_target
      FROM s
)
SELECT f.i, f.actual, f.actual_total, f.target, f.total_target,
       p.probability, p.final_lo, p.final_hi, p.method,
       c.probability AS total_probability, c.final_lo AS total_lo, c.final_hi AS total_hi
  FROM f,
       telos.forecast_probability(f.hist, 14, target => f.target) p,
       telos.forecast_probability(f.hist, 14, target => f.total_target, cumulative => true) c;

SELECT count(*) AS seeds,
       avg((actual BETWEEN final_lo AND final_hi)::int) BETWEEN 0.75 AND 0.85 AS level_coverage_ok,
       avg((actual_total BETWEEN total_lo AND total_hi)::int) BETWEEN 0.75 AND 0.85 AS total_coverage_ok,
       abs(avg(probability) - avg((actual >= target)::int)) <= 0.05 AS level_mean_calibrated,
       abs(avg(total_probability) - avg((actual_total >= total_target)::int)) <= 0.05
           AS total_mean_calibrated,
       avg((probability - (actual >= target)::int) ^ 2) < 0.2 AS level_brier_ok,
       avg((total_probability - (actual_total >= total_target)::int) ^ 2) < 0.2 AS total_brier_ok,
       count(*) FILTER (WHERE method LIKE 'holt_winters%') AS holt_winters
  FROM runs;

-- Calibration by quarter of predicted probability.
SELECT width_bucket(probability, 0, 1, 4) AS quarter,
       count(*) >= 80 AS enough_seeds,
       abs(avg(probability) - avg((actual >= target)::int)) <= 0.10 AS calibrated
  FROM runs GROUP BY 1 ORDER BY 1;
SELECT width_bucket(total_probability, 0, 1, 4) AS quarter,
       count(*) >= 80 AS enough_seeds,
       abs(avg(total_probability) - avg((actual_total >= total_target)::int)) <= 0.10 AS calibrated
  FROM runs GROUP BY 1 ORDER BY 1;

-- The figures behind the checks, rounded (for the record; the checks above
-- are what must hold).
SELECT round(avg((actual BETWEEN final_lo AND final_hi)::int), 2) AS level_coverage,
       round(avg((actual_total BETWEEN total_lo AND total_hi)::int), 2) AS total_coverage,
       round(avg(probability)::numeric, 2) AS mean_probability,
       round(avg((actual >= target)::int), 2) AS success_rate
  FROM runs;
