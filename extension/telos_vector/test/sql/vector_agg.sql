--
-- vector_agg: avg(vector) and sum(vector) -- component-wise, NULL over no
-- rows, NULLs skipped, an error on mixed dimensions and on a sum beyond
-- float4 -- summed in double precision, and run in parallel (partial
-- aggregates combined) with the same results as serially.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos_vector;
RESET client_min_messages;

SELECT avg(v), sum(v) FROM (VALUES ('[1,2]'::vector), ('[3,4]'), (NULL)) t(v);
SELECT avg(v), sum(v) FROM (VALUES ('[1,-2,3.5]'::vector)) t(v);
SELECT avg(v) IS NULL AS avg_null, sum(v) IS NULL AS sum_null
  FROM (SELECT '[1]'::vector AS v WHERE false) t;
SELECT avg(v) IS NULL AS avg_null, sum(v) IS NULL AS sum_null
  FROM (VALUES (NULL::vector)) t(v);
SELECT g, avg(v), sum(v) FROM (VALUES (1, '[1,1]'::vector), (1, '[3,5]'), (2, '[10,20,30]')) t(g, v)
 GROUP BY g ORDER BY g;

-- Mixed dimensions.
SELECT avg(v) FROM (VALUES ('[1,2]'::vector), ('[3,4,5]')) t(v);
SELECT sum(v) FROM (VALUES ('[1,2,3]'::vector), ('[3,4]')) t(v);
-- A sum beyond float4 is an error; an average of large values is not.
SELECT sum(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v);
SELECT avg(v) FROM (VALUES ('[3e38]'::vector), ('[3e38]')) t(v);
-- Double-precision sums: 2^24 + 1 + 1 + 1 + 1 is 2^24 + 4, where a float4
-- running sum would stay at 2^24 (each + 1 rounds away).
SELECT sum(v)::real[]::float8[] AS exact
  FROM (SELECT '[16777216]'::vector UNION ALL SELECT '[1]'::vector FROM generate_series(1, 4)) t(v);
SELECT avg(v) FROM (SELECT ARRAY[i, -i, 0.5]::vector AS v FROM generate_series(1, 100000) i) t;

-- As window functions.
SELECT i, sum(v) OVER (ORDER BY i), avg(v) OVER (ORDER BY i ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)
  FROM (VALUES (1, '[1,10]'::vector), (2, '[2,20]'), (3, '[3,30]')) t(i, v) ORDER BY i;

-- In parallel: partial aggregates in workers, combined by vector_combine.
CREATE TABLE agg_t (g int, v vector(4));
INSERT INTO agg_t SELECT i % 3, ARRAY[i % 7, i % 11, -(i % 13), 1]::vector FROM generate_series(1, 60000) i;
ANALYZE agg_t;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT avg(v), sum(v) FROM agg_t;
CREATE TEMP TABLE agg_parallel AS SELECT avg(v) AS a, sum(v) AS s FROM agg_t;
CREATE TEMP TABLE agg_parallel_g AS SELECT g, avg(v) AS a, sum(v) AS s FROM agg_t GROUP BY g;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SET max_parallel_workers_per_gather = 0;
SELECT a, s FROM agg_parallel;
SELECT p.g, p.a = s.a AS avg_same, p.s = s.s AS sum_same
  FROM agg_parallel_g p JOIN (SELECT g, avg(v) AS a, sum(v) AS s FROM agg_t GROUP BY g) s USING (g)
 ORDER BY g;
SELECT (SELECT a FROM agg_parallel) = avg(v) AS avg_same, (SELECT s FROM agg_parallel) = sum(v) AS sum_same
  FROM agg_t;
RESET max_parallel_workers_per_gather;

-- The state functions called directly (not as an aggregate) copy their
-- input and check it: a malformed state is an error, never a crash.
SELECT vector_accum('{0}', '[1,2]');
SELECT vector_accum('{1,1,1}', '[1,2]');
SELECT vector_accum('{1,1}', '[1,2]');
SELECT vector_accum('{}', '[1]');
SELECT vector_accum('{{1,2}}', '[1]');
SELECT vector_accum('{1,NULL}', '[1]');
SELECT vector_combine('{1,1,1}', '{2,3,4}'), vector_combine('{0}', '{2,3,4}'), vector_combine('{2,3,4}', '{0}');
SELECT vector_combine('{1,1}', '{1,1,1}');
SELECT vector_avg('{0}') IS NULL, vector_avg('{2,4,6}'), vector_sum('{2,4,6}');
SELECT vector_sum('{1,1e300}');
SELECT vector_avg('{1e-300,1}');
SELECT vector_avg(array_fill(1::float8, ARRAY[16002]));

DROP TABLE agg_t;
