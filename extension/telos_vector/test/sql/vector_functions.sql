--
-- vector_functions: the distance operators and functions, vector_dims,
-- vector_norm, l2_normalize, subvector, +, -, *, ||, with their errors --
-- dimension mismatch, float4 overflow, empty results -- and the kernels
-- (dispatched to AVX2 where the CPU has it) checked against a
-- double-precision computation in SQL at the seed's 1536 dimensions.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos_vector;
RESET client_min_messages;
SET extra_float_digits = 0;

-- L2: <-> and l2_distance.
SELECT '[0,0]'::vector <-> '[3,4]', l2_distance('[0,0]', '[3,4]');
SELECT '[1,2,3]'::vector <-> '[1,2,3]';
SELECT l2_distance('[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]', '[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0]');
SELECT vector_l2_squared_distance('[0,0]', '[3,4]');
-- Components near float4's limit: the distances are float8, and are not
-- infinite where the float sums of the kernels would overflow (64
-- dimensions: the kernels' vector path; 2: their scalar tail).
SELECT '[3e38,1]'::vector <-> '[-3e38,1]' AS l2, '[3e38,1]'::vector <+> '[-3e38,1]' AS l1,
       inner_product('[3e38,3e38]', '[3e38,3e38]') AS ip, '[3e38,3e38]'::vector <=> '[1,1]' AS cos;
SELECT a <-> b AS l2, vector_l2_squared_distance(a, b) AS l2sq, a <+> b AS l1,
       inner_product(a, a) AS ip, a <#> a AS nip, round((a <=> b)::numeric, 6) AS cos,
       round((a <=> a)::numeric, 6) AS cos_same, vector_norm(a) AS norm
  FROM (SELECT array_fill(3e38::real, ARRAY[64])::vector AS a,
               array_fill(-3e38::real, ARRAY[64])::vector AS b) t;

-- Inner product: inner_product and <#> (negated: ascending = most similar).
SELECT inner_product('[1,2,3]', '[4,5,6]'), '[1,2,3]'::vector <#> '[4,5,6]';
SELECT vector_negative_inner_product('[1,2]', '[3,4]');
SELECT inner_product('[1,0]', '[0,1]');

-- Cosine: <=> and cosine_distance, in [0, 2]; NaN for a zero vector.
SELECT '[1,0]'::vector <=> '[0,1]', cosine_distance('[1,0]', '[-1,0]'), cosine_distance('[1,1]', '[2,2]');
SELECT cosine_distance('[1,2,3]', '[1,2,3]'), cosine_distance('[3e38,3e38]', '[1,1]');
SELECT cosine_distance('[0,0]', '[1,1]'), cosine_distance('[1,1]', '[0,0]');
SELECT round(cosine_distance('[1,2]', '[2,1]')::numeric, 6);

-- L1: <+> and l1_distance.
SELECT '[1,2]'::vector <+> '[4,-2]', l1_distance('[0,0,0]', '[1,1,1]');

-- Dimension mismatch is an error for every binary function.
SELECT '[1,2]'::vector <-> '[1,2,3]';
SELECT '[1,2]'::vector <#> '[1,2,3]';
SELECT '[1,2]'::vector <=> '[1,2,3]';
SELECT '[1,2]'::vector <+> '[1,2,3]';
SELECT l2_distance('[1]', '[1,2]');
SELECT inner_product('[1]', '[1,2]');
SELECT cosine_distance('[1]', '[1,2]');
SELECT l1_distance('[1]', '[1,2]');
SELECT vector_l2_squared_distance('[1]', '[1,2]');
SELECT '[1,2]'::vector + '[1,2,3]';
SELECT '[1,2]'::vector - '[1]';
SELECT '[1,2]'::vector * '[1]';

-- Distances are NULL on NULL (strict).
SELECT '[1,2]'::vector <-> NULL, l2_distance(NULL, '[1]') IS NULL;

-- vector_dims, vector_norm.
SELECT vector_dims('[1,2,3]'), vector_dims(array_fill(0, ARRAY[16000])::vector);
SELECT vector_norm('[3,4]'), vector_norm('[0,0,0]'), vector_norm('[-1]');
SELECT vector_norm('[3e38,3e38]');

-- l2_normalize: norm 1, direction kept; a zero vector stays zero.
SELECT l2_normalize('[3,4]'), l2_normalize('[0,0]'), l2_normalize('[-5]');
SELECT round(vector_norm(l2_normalize('[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18]'))::numeric, 6);
SELECT l2_normalize('[3e38,3e38]'), l2_normalize(array_fill(3e38::real, ARRAY[64])::vector) = array_fill(0.125::real, ARRAY[64])::vector;
SELECT l2_normalize('[1e-40,0]');

-- subvector(v, start, count), 1-based, clipped like substring().
SELECT subvector('[1,2,3,4,5]', 2, 3);
SELECT subvector('[1,2,3,4,5]', 1, 5);
SELECT subvector('[1,2,3,4,5]', 0, 3);
SELECT subvector('[1,2,3,4,5]', -1, 3);
SELECT subvector('[1,2,3,4,5]', 4, 100);
SELECT subvector('[1,2,3,4,5]', 5, 2147483647);
SELECT subvector('[1,2,3,4,5]', -2147483648, 2147483647);
SELECT subvector('[1,2,3,4,5]', 6, 1);
SELECT subvector('[1,2,3,4,5]', 1, 0);
SELECT subvector('[1,2,3,4,5]', 1, -1);
SELECT subvector('[1,2,3,4,5]', -5, 3);
SELECT subvector('[1,2,3,4,5]', 2147483647, 2147483647);

-- Arithmetic, component-wise.
SELECT '[1,2,3]'::vector + '[4,5,6]', '[1,2,3]'::vector - '[4,5,6]', '[1,2,3]'::vector * '[4,5,6]';
SELECT '[1.5]'::vector + '[-1.5]', '[0.1]'::vector * '[10]';
-- overflow and underflow of float4 are errors, as for real
SELECT '[3e38]'::vector + '[3e38]';
SELECT '[-3e38]'::vector - '[3e38]';
SELECT '[1e30]'::vector * '[1e30]';
SELECT '[1e-30]'::vector * '[1e-30]';
SELECT '[0,1e-30]'::vector * '[1e-30,0]';

-- Concatenation, up to 16000 dimensions.
SELECT '[1,2]'::vector || '[3]';
SELECT vector_dims(array_fill(1, ARRAY[8000])::vector || array_fill(2, ARRAY[8000])::vector);
SELECT array_fill(1, ARRAY[8000])::vector || array_fill(2, ARRAY[8001])::vector;

-- The kernels against the same sums computed in double precision by SQL,
-- on 40 pairs of random 1536-dimension vectors and on every tail length
-- 1..40 (the kernels treat a multiple of their width and the rest apart).
CREATE TABLE fn_pairs AS
  SELECT p, array_agg((random() * 2 - 1)::real ORDER BY i) AS a,
            array_agg((random() * 2 - 1)::real ORDER BY i) AS b
    FROM generate_series(1, 40) p, generate_series(1, 1536) i GROUP BY p
  UNION ALL
  SELECT 100 + d, array_agg((random() * 2 - 1)::real ORDER BY i),
         array_agg((random() * 2 - 1)::real ORDER BY i)
    FROM generate_series(1, 40) d, generate_series(1, d) i GROUP BY d;
CREATE TABLE fn_ref AS
  SELECT p, a::vector AS va, b::vector AS vb,
         sqrt(sum((x::float8 - y::float8) ^ 2)) AS l2,
         sum(x::float8 * y::float8) AS ip,
         1 - sum(x::float8 * y::float8) / sqrt(sum(x::float8 ^ 2) * sum(y::float8 ^ 2)) AS cos,
         sum(abs(x::float8 - y::float8)) AS l1,
         sqrt(sum(x::float8 ^ 2)) AS norm,
         sum(abs(x::float8 * y::float8)) AS ipabs
    FROM fn_pairs, unnest(a, b) u(x, y) GROUP BY p, a, b;
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE abs((va <-> vb) - l2) <= 1e-5 * l2) AS l2_ok,
       count(*) FILTER (WHERE abs(inner_product(va, vb) - ip) <= 1e-5 * ipabs) AS ip_ok,
       count(*) FILTER (WHERE abs((va <#> vb) + ip) <= 1e-5 * ipabs) AS nip_ok,
       count(*) FILTER (WHERE abs((va <=> vb) - cos) <= 1e-5) AS cos_ok,
       count(*) FILTER (WHERE abs((va <+> vb) - l1) <= 1e-5 * l1) AS l1_ok,
       count(*) FILTER (WHERE abs(vector_norm(va) - norm) <= 1e-5 * norm) AS norm_ok
  FROM fn_ref;
DROP TABLE fn_pairs, fn_ref;
