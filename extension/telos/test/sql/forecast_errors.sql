--
-- forecast_errors: telos.forecast and telos.forecast_probability reject
-- what they cannot forecast -- NULLs (22004), NaN/Inf, too-short series,
-- bad period / horizon / level / direction, accumulated without
-- cumulative, maintain of a total (22023), values whose squares overflow
-- (22003) -- with a clear message.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;
RESET client_min_messages;

-- SQLSTATE and message of a statement, or 'ok' and its row count.
CREATE FUNCTION pg_temp.err(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
    EXECUTE 'SELECT count(*) FROM (' || q || ') s WHERE s::text IS NOT NULL' INTO n;
    RETURN 'ok: ' || n || ' rows';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

SELECT q, pg_temp.err(q) AS result FROM (VALUES
  ($$SELECT * FROM telos.forecast('{1,2,3,4}', 2)$$),
  ($$SELECT * FROM telos.forecast('{1,2}', 2)$$),
  ($$SELECT * FROM telos.forecast('{}', 2)$$),
  ($$SELECT * FROM telos.forecast(NULL, 2)$$),
  ($$SELECT * FROM telos.forecast('{1,2,NULL,4}', 2)$$),
  ($$SELECT * FROM telos.forecast('{1,2,NaN,4}', 2)$$),
  ($$SELECT * FROM telos.forecast('{1,2,Infinity,4}', 2)$$),
  ($$SELECT * FROM telos.forecast('{{1,2},{3,4}}', 2)$$),
  ($$SELECT * FROM telos.forecast('{1,2,3,4}', 0)$$),
  ($$SELECT * FROM telos.forecast('{1,2,3,4}', 10001)$$),
  ($$SELECT * FROM telos.forecast('{1,2,3,4}', NULL)$$),
  ($$SELECT * FROM telos.forecast('{1,2,3,4}', 2, period => 0)$$),
  ($$SELECT * FROM telos.forecast('{1,2,3,4}', 2, period => 1001)$$),
  ($$SELECT * FROM telos.forecast('{1,2,3,4}', 2, level => 0)$$),
  ($$SELECT * FROM telos.forecast('{1,2,3,4}', 2, level => 1)$$),
  ($$SELECT * FROM telos.forecast('{1,2,3,4}', 2, level => 'NaN')$$),
  ($$SELECT * FROM telos.forecast('{1,2,3,4}', 2, direction => 'up')$$),
  ($$SELECT * FROM telos.forecast('{1,2,3,4}', 2, direction => NULL)$$),
  ($$SELECT * FROM telos.forecast('{1,2,3,4}', 2, accumulated => 5)$$),
  ($$SELECT * FROM telos.forecast('{1,2,3,4}', 2, cumulative => true, accumulated => 'Infinity')$$),
  ($$SELECT * FROM telos.forecast_probability('{1,2,3,4}', 2, target => 'NaN')$$),
  ($$SELECT * FROM telos.forecast_probability('{1,2,3,4}', 2, target => 3, direction => 'maintain', cumulative => true)$$),
  ($$SELECT * FROM telos.forecast_probability('{1,2,3,4}', 2, target => 3, cumulative => NULL)$$),
  ($$SELECT * FROM telos.forecast_probability('{1,2,3,4}', 2, target => 3)$$),
  ($$SELECT * FROM telos.forecast(array_fill(1e300::float8, ARRAY[30]) || 1e308::float8, 3)$$),
  ($$SELECT * FROM telos.forecast(array_fill(1e300::float8, ARRAY[30]) || -1e308::float8, 3)$$)
) v(q);

-- A constant series is forecast as itself with a point interval.
SELECT method, round(sigma::numeric, 6) AS sigma, round(final_mean::numeric, 6) AS final_mean,
       round(final_lo::numeric, 6) AS final_lo, round(final_hi::numeric, 6) AS final_hi, probability
  FROM telos.forecast_probability(array_fill(5::float8, ARRAY[40]), 10, target => 5);
SELECT method, round(sigma::numeric, 6) AS sigma, round(final_mean::numeric, 6) AS final_mean,
       round(final_lo::numeric, 6) AS final_lo, round(final_hi::numeric, 6) AS final_hi, probability
  FROM telos.forecast_probability(array_fill(5::float8, ARRAY[5]), 10, target => 5.5);
