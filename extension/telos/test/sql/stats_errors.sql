--
-- stats_errors: every statistics function rejects what it cannot test --
-- NULL elements (22004), NaN/Inf (a gap), mismatched lengths, lags out of
-- range and too-short input (22023), constant series, collinear
-- regressors and perfect fits (22000) -- with a clear message, and never
-- crashes.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
RESET client_min_messages;

-- SQLSTATE and message of a statement, or 'ok' and its row count.
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    -- every column is read, so that a scalar function is evaluated too
    EXECUTE 'SELECT count(*) FROM (' || q || ') s WHERE s::text IS NOT NULL' INTO n;
    RETURN 'ok: ' || n || ' rows';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- A random-looking series (deterministic: sin of squares) of length n.
CREATE FUNCTION pg_temp.s(n int, seed int DEFAULT 1) RETURNS float8[] LANGUAGE sql AS $$
SELECT array_agg(sin(i * i * 0.7 + seed * 1.3) ORDER BY i)::float8[] FROM generate_series(1, n) i
$$;

-- granger
SELECT q, pg_temp.err(q) AS result FROM (VALUES
  ($$SELECT * FROM telos.granger(pg_temp.s(50), pg_temp.s(50, 2), 3)$$),
  ($$SELECT * FROM telos.granger(array_fill(1.5::float8, ARRAY[50]), pg_temp.s(50), 3)$$),
  ($$SELECT * FROM telos.granger(pg_temp.s(50), array_fill(2::float8, ARRAY[50]), 3)$$),
  ($$SELECT * FROM telos.granger(pg_temp.s(50) || 'NaN'::float8, pg_temp.s(51, 2), 3)$$),
  ($$SELECT * FROM telos.granger(pg_temp.s(50), (pg_temp.s(50, 2))[1:10] || 'Infinity'::float8 || pg_temp.s(39), 3)$$),
  ($$SELECT * FROM telos.granger(pg_temp.s(50) || NULL::float8, pg_temp.s(51, 2), 3)$$),
  ($$SELECT * FROM telos.granger(pg_temp.s(50), pg_temp.s(49, 2), 3)$$),
  ($$SELECT * FROM telos.granger(pg_temp.s(50), pg_temp.s(50, 2), 0)$$),
  ($$SELECT * FROM telos.granger(pg_temp.s(50), pg_temp.s(50, 2), 17)$$),
  ($$SELECT * FROM telos.granger(pg_temp.s(49), pg_temp.s(49, 2), 16)$$),
  ($$SELECT * FROM telos.granger(pg_temp.s(50), pg_temp.s(50, 2), 2147483647)$$),
  ($$SELECT * FROM telos.granger('{}', '{}', 1)$$),
  ($$SELECT * FROM telos.granger('{{1,2},{3,4}}', '{{1,2},{3,4}}', 1)$$),
  ($$SELECT * FROM telos.granger(pg_temp.s(50), pg_temp.s(50), 2)$$),
  ($$SELECT g.* FROM pg_temp.s(50) x, LATERAL telos.granger(x,
       (SELECT array_agg(CASE WHEN i = 1 THEN 0.5 ELSE 3 * x[i - 1] + 1 END ORDER BY i)
          FROM generate_series(1, 50) i)::float8[], 2) g$$),
  ($$SELECT * FROM telos.granger(NULL, pg_temp.s(50), 2)$$),
  -- 3 * maxlag + 1 must not wrap around
  ($$SELECT * FROM telos.granger(pg_temp.s(50), pg_temp.s(50, 2), 1000000000)$$),
  ($$SELECT * FROM telos.ols('{}', '{}', 2147483647)$$),
  ($$SELECT * FROM telos.corr_pairs(pg_temp.s(10) || pg_temp.s(10, 2), 2, '{0}', 64, true)$$)
) AS t(q);

-- granger_pairs
SELECT q, pg_temp.err(q) AS result FROM (VALUES
  ($$SELECT * FROM telos.granger_pairs(pg_temp.s(60) || pg_temp.s(60, 2) || pg_temp.s(60, 3), 3, 4)$$),
  ($$SELECT * FROM telos.granger_pairs(pg_temp.s(60), 1, 4)$$),
  ($$SELECT * FROM telos.granger_pairs(pg_temp.s(61), 2, 4)$$),
  ($$SELECT * FROM telos.granger_pairs(pg_temp.s(60) || array_fill(0::float8, ARRAY[60]), 2, 4)$$),
  ($$SELECT * FROM telos.granger_pairs(pg_temp.s(60) || 'NaN'::float8 || pg_temp.s(59), 2, 4)$$),
  ($$SELECT * FROM telos.granger_pairs(pg_temp.s(60) || pg_temp.s(60, 2), 2, 0)$$),
  ($$SELECT * FROM telos.granger_pairs(pg_temp.s(600) || pg_temp.s(600, 2), 2, 33)$$),
  ($$SELECT * FROM telos.granger_pairs(pg_temp.s(30) || pg_temp.s(30, 2), 2, 10)$$),
  ($$SELECT * FROM telos.granger_pairs(pg_temp.s(60) || pg_temp.s(60, 2), 2, 4, 'fpe')$$),
  ($$SELECT * FROM telos.granger_pairs(pg_temp.s(60) || pg_temp.s(60), 2, 4)$$),
  ($$SELECT * FROM telos.granger_pairs(ARRAY[pg_temp.s(60), pg_temp.s(60, 2)], 3, 4)$$),
  ($$SELECT * FROM telos.granger_pairs(pg_temp.s(60), 3001, 4)$$)
) AS t(q);

-- adf (not strict: NULL maxlag = default, NULL autolag = none, NULL x = no row)
SELECT q, pg_temp.err(q) AS result FROM (VALUES
  ($$SELECT * FROM telos.adf(pg_temp.s(100))$$),
  ($$SELECT * FROM telos.adf(NULL)$$),
  ($$SELECT * FROM telos.adf(pg_temp.s(100), NULL, 'c', NULL)$$),
  ($$SELECT * FROM telos.adf(array_fill(3::float8, ARRAY[100]))$$),
  ($$SELECT * FROM telos.adf(pg_temp.s(100) || 'NaN'::float8)$$),
  ($$SELECT * FROM telos.adf(pg_temp.s(100), 49)$$),
  ($$SELECT * FROM telos.adf(pg_temp.s(100), 48)$$),
  ($$SELECT * FROM telos.adf(pg_temp.s(100), -1)$$),
  ($$SELECT * FROM telos.adf(pg_temp.s(100), 2, 'quadratic')$$),
  ($$SELECT * FROM telos.adf(pg_temp.s(100), 2, NULL)$$),
  ($$SELECT * FROM telos.adf(pg_temp.s(100), 2, 'c', 'hqic')$$),
  ($$SELECT * FROM telos.adf('{1,2,3}')$$),
  ($$SELECT * FROM telos.adf('{}')$$),
  ($$SELECT * FROM telos.adf((SELECT array_agg(2.0 * i)::float8[] FROM generate_series(1, 50) i))$$)
) AS t(q);

-- lagged_corr, bh_qvalues, welch_t, ols
SELECT q, pg_temp.err(q) AS result FROM (VALUES
  ($$SELECT * FROM telos.lagged_corr(pg_temp.s(20), pg_temp.s(20, 2), 0)$$),
  ($$SELECT * FROM telos.lagged_corr(pg_temp.s(20), pg_temp.s(19, 2), 0)$$),
  ($$SELECT * FROM telos.lagged_corr(pg_temp.s(20), pg_temp.s(20, 2), 20)$$),
  ($$SELECT * FROM telos.lagged_corr(pg_temp.s(20), pg_temp.s(20, 2), -18)$$),
  ($$SELECT * FROM telos.lagged_corr(pg_temp.s(20), array_fill(1::float8, ARRAY[20]), 1)$$),
  ($$SELECT * FROM telos.lagged_corr(pg_temp.s(20) || NULL::float8, pg_temp.s(21, 2), 1)$$),
  ($$SELECT telos.bh_qvalues('{0.1,0.5,1.5}')$$),
  ($$SELECT telos.bh_qvalues('{0.1,NaN}')$$),
  ($$SELECT telos.bh_qvalues('{0.1,NULL}')$$),
  ($$SELECT telos.bh_qvalues('{-0.0,0}')$$),
  ($$SELECT * FROM telos.welch_t('{1,2,3}', '{4}')$$),
  ($$SELECT * FROM telos.welch_t('{1,1,1}', '{4,4}')$$),
  ($$SELECT * FROM telos.welch_t('{1,2,Infinity}', '{4,5}')$$),
  ($$SELECT * FROM telos.ols('{1,2,3}', '{1,2,3,4}', 1)$$),
  ($$SELECT * FROM telos.ols('{1,2}', '{1,2}', 1)$$),
  ($$SELECT * FROM telos.ols('{1,2,3}', '{}', 0, false)$$),
  ($$SELECT * FROM telos.ols('{1,2,3}', '{}', 0)$$),
  ($$SELECT * FROM telos.ols('{1,2,3}', '{1,2,3}', -1)$$),
  ($$SELECT * FROM telos.ols('{1e15,2e15,1e15,3e15}', '{1e-300,0,2e-300,1e-300}', 1)$$),
  ($$SELECT * FROM telos.adf('{0,0,0,0,1,1,1,1,1,1}', NULL, 'c', 'BIC')$$)
) AS t(q);

-- corr_pairs (since the prewhitened correlations of discovery)
SELECT q, pg_temp.err(q) AS result FROM (VALUES
  ($$SELECT * FROM telos.corr_pairs(pg_temp.s(40) || pg_temp.s(40, 2), 2, '{1}', 3)$$),
  ($$SELECT * FROM telos.corr_pairs(pg_temp.s(40) || pg_temp.s(40, 2), 2, '{1,2}', 3, false)$$),
  ($$SELECT * FROM telos.corr_pairs(pg_temp.s(40) || pg_temp.s(39, 2), 2, '{1}', 3)$$),
  ($$SELECT * FROM telos.corr_pairs(pg_temp.s(40), 1, '{1}', 3)$$),
  ($$SELECT * FROM telos.corr_pairs(pg_temp.s(40) || pg_temp.s(40, 2), 2, '{1,2,3}', 3)$$),
  ($$SELECT * FROM telos.corr_pairs(pg_temp.s(40) || pg_temp.s(40, 2), 2, '{1,NULL}', 3)$$),
  ($$SELECT * FROM telos.corr_pairs(pg_temp.s(40) || pg_temp.s(40, 2), 2, '{1}', -1)$$),
  ($$SELECT * FROM telos.corr_pairs(pg_temp.s(40) || pg_temp.s(40, 2), 2, '{40}', 0, false)$$),
  ($$SELECT * FROM telos.corr_pairs(pg_temp.s(40) || pg_temp.s(40, 2), 2, '{1}', 13)$$),
  ($$SELECT * FROM telos.corr_pairs(pg_temp.s(40) || array_fill(1::float8, ARRAY[40]), 2, '{1}', 3)$$),
  ($$SELECT * FROM telos.corr_pairs(pg_temp.s(40) || 'NaN'::float8 || pg_temp.s(39, 2), 2, '{1}', 3)$$)
) AS t(q);
-- Without prewhitening, each row is telos.lagged_corr's.
SELECT bool_and(c.r = l.r AND c.p_value = l.p_value AND c.n = l.n) AS same_as_lagged_corr
  FROM telos.corr_pairs(pg_temp.s(60) || pg_temp.s(60, 2) || pg_temp.s(60, 3), 3, '{-2,-1,0,1,2,3}', 7, false) c,
       LATERAL telos.lagged_corr(pg_temp.s(60, c.x_idx), pg_temp.s(60, c.y_idx), c.lag) l;

-- Extreme magnitudes: the statistics are scale-invariant and computed on
-- data rescaled by powers of two, so 1e200 or 1e-200 times a series (whose
-- squares overflow or underflow a double) gives the same answer.
CREATE FUNCTION pg_temp.mul(a float8[], k float8) RETURNS float8[] LANGUAGE sql AS $$
SELECT array_agg(v * k ORDER BY i) FROM unnest(a) WITH ORDINALITY u(v, i)
$$;
CREATE FUNCTION pg_temp.close(a float8, b float8, tol float8) RETURNS bool
LANGUAGE sql IMMUTABLE AS $$ SELECT a = b OR abs(a - b) <= tol * abs(b) $$;
SELECT bool_and(pg_temp.close(a.f_stat, b.f_stat, 1e-10) AND pg_temp.close(a.p_value, b.p_value, 1e-10)) AS granger_same
  FROM telos.granger(pg_temp.s(60), pg_temp.s(60, 2), 3) a
  JOIN telos.granger(pg_temp.mul(pg_temp.s(60), 1e200), pg_temp.mul(pg_temp.s(60, 2), 1e-200), 3) b USING (lag);
-- (series 1 times 1e100, series 2 times 1e-100; x's coefficients on y
-- scale by 1e-200 for 1 -> 2, compared for that direction)
SELECT bool_and(pg_temp.close(a.f_stat, b.f_stat, 1e-10)) AS pairs_same,
       bool_and(pg_temp.close(a.coef_sum * 1e-200, b.coef_sum, 1e-10))
         FILTER (WHERE x_idx = 1) AS coef_sum_scaled
  FROM telos.granger_pairs(pg_temp.s(60) || pg_temp.s(60, 2), 2, 3) a
  JOIN telos.granger_pairs(pg_temp.mul(pg_temp.s(60), 1e100) || pg_temp.mul(pg_temp.s(60, 2), 1e-100), 2, 3) b
 USING (x_idx, y_idx, lag);
-- (ADF on 1e300 x: same statistic and lag; the AIC shifts by 2 nobs log(1e300),
-- nobs = 100 - 1 - 12 on the common sample)
SELECT pg_temp.close(a.stat, b.stat, 1e-10) AND a.used_lag = b.used_lag
       AND pg_temp.close(b.ic_best, a.ic_best + 2 * 87 * ln(1e300), 1e-10) AS adf_same
  FROM telos.adf(pg_temp.s(100)) a, telos.adf(pg_temp.mul(pg_temp.s(100), 1e300)) b;
SELECT pg_temp.close(a.coef[2] * 1e-150 * 1e-150, b.coef[2], 1e-10) AND pg_temp.close(a.t[2], b.t[2], 1e-10)
       AND pg_temp.close(a.r2, b.r2, 1e-10) AND pg_temp.close(a.ssr * 1e-150 * 1e-150, b.ssr, 1e-10) AS ols_same
  FROM telos.ols(pg_temp.s(30), pg_temp.s(30, 2), 1) a,
       telos.ols(pg_temp.mul(pg_temp.s(30), 1e-150), pg_temp.mul(pg_temp.s(30, 2), 1e150), 1) b;
SELECT pg_temp.close(a.r, b.r, 1e-12) AND pg_temp.close(a.p_value, b.p_value, 1e-10) AS corr_same
  FROM telos.lagged_corr(pg_temp.s(40), pg_temp.s(40, 2), 1) a,
       telos.lagged_corr(pg_temp.mul(pg_temp.s(40), 1e250), pg_temp.mul(pg_temp.s(40, 2), 1e-300), 1) b;
SELECT pg_temp.close(a.t, b.t, 1e-12) AND pg_temp.close(a.df, b.df, 1e-12)
       AND pg_temp.close(a.mean_diff * 1e300, b.mean_diff, 1e-12) AS welch_same
  FROM telos.welch_t(pg_temp.s(10), pg_temp.s(12, 2)) a,
       telos.welch_t(pg_temp.mul(pg_temp.s(10), 1e300), pg_temp.mul(pg_temp.s(12, 2), 1e300)) b;
-- Values whose mean overflows are an error, not a NaN.
SELECT pg_temp.err($$SELECT * FROM telos.granger(pg_temp.mul(pg_temp.s(60), 1.7e308), pg_temp.s(60, 2), 2)$$) AS huge;

-- Error details and hints, once each.
SELECT * FROM telos.granger(pg_temp.s(20), pg_temp.s(20, 2), 7);
SELECT * FROM telos.granger(pg_temp.s(20), (pg_temp.s(20, 2))[1:5] || 'NaN'::float8 || pg_temp.s(14), 2);
SELECT * FROM telos.granger_pairs(pg_temp.s(60) || array_fill(0::float8, ARRAY[60]), 2, 4);
SELECT * FROM telos.adf('{1,2,4}');

-- The functions' properties: immutable, parallel safe, strict but adf.
SELECT p.proname, p.provolatile, p.proparallel, p.proisstrict
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'telos'
   AND p.proname IN ('ols', 'granger', 'granger_pairs', 'adf', 'lagged_corr', 'bh_qvalues', 'welch_t')
 ORDER BY 1;
