--
-- vector_cast: casts between vector and integer[], real[], double
-- precision[], numeric[] -- to vector by assignment (as pgvector), vector
-- to real[] implicitly, to double precision[] and numeric[] by assignment
-- -- with the typmod enforced and every bad array refused.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos_vector;
RESET client_min_messages;

-- Arrays to vector.
SELECT '{1,2,3}'::integer[]::vector;
SELECT '{1.5,-2,3e-3}'::real[]::vector;
SELECT '{0.1,2,1e30}'::double precision[]::vector;
SELECT '{0.1,2,-1e30}'::numeric[]::vector;
SELECT ARRAY[1,2,3]::vector(3);
SELECT ARRAY[1.5,2.5]::vector;
SELECT array_to_vector(ARRAY[1,2]::real[], -1, true);
-- integer to float4 rounds like real does
SELECT '{16777217,2147483647}'::integer[]::vector;
-- double precision to float4 rounds to nearest
SELECT '{0.1,1.00000001}'::double precision[]::vector;
-- bounds of each element's array (lower bound other than 1 is fine)
SELECT '[0:2]={7,8,9}'::real[]::vector;

-- Assignment casts: an array goes into a vector column without a cast.
CREATE TABLE cast_t (v vector(3));
INSERT INTO cast_t VALUES (ARRAY[1,2,3]), ('{4,5,6}'::real[]), (ARRAY[0.5,1.5,2.5]::float8[]);
INSERT INTO cast_t VALUES (ARRAY[1,2]);
SELECT * FROM cast_t ORDER BY v;

-- Vector to arrays.
SELECT '[1,2.5,-3]'::vector::real[];
SELECT '[1,2.5,-3]'::vector::double precision[];
SELECT '[0.1,2.5,-3e-20]'::vector::numeric[];
SELECT '[0.1]'::vector::double precision[];
-- implicitly to real[]: a function of real[] takes a vector (polymorphic
-- anyarray functions do not: PostgreSQL does not cast to resolve those)
CREATE FUNCTION cast_last(r real[]) RETURNS real LANGUAGE sql AS 'SELECT r[array_upper(r, 1)]';
SELECT cast_last('[1,2,3]'::vector);
SELECT unnest('[1,2,3]'::vector::real[]);
DROP FUNCTION cast_last(real[]);
-- by assignment to double precision[] and numeric[] columns
CREATE TABLE cast_arrays (f8 double precision[], n numeric[]);
INSERT INTO cast_arrays VALUES ('[1,2]'::vector, '[3,4]'::vector);
SELECT * FROM cast_arrays;
-- Round trip through each array type is exact.
SELECT v::real[]::vector = v AS real_rt, v::double precision[]::vector = v AS float8_rt,
       v::numeric[]::vector = v AS numeric_rt
  FROM (VALUES ('[0.1,3.4028235e38,-1.1754944e-38,1e-45,123456.79]'::vector)) t(v);

-- Errors.
SELECT '{}'::real[]::vector;
SELECT '{{1,2},{3,4}}'::real[]::vector;
SELECT '{1,NULL,3}'::real[]::vector;
SELECT '{1,NaN}'::real[]::vector;
SELECT '{1,Infinity}'::real[]::vector;
SELECT '{-Infinity}'::double precision[]::vector;
SELECT '{NaN}'::double precision[]::vector;
SELECT '{1e39}'::double precision[]::vector;
SELECT '{-1e300}'::double precision[]::vector;
SELECT '{1e39}'::numeric[]::vector;
SELECT '{1e400}'::numeric[]::vector;
SELECT '{NaN}'::numeric[]::vector;
SELECT '{Infinity}'::numeric[]::vector;
SELECT ARRAY[1,2,3]::vector(2);
SELECT array_fill(1, ARRAY[16001])::vector;
SELECT vector_dims(array_fill(1, ARRAY[16000])::vector);
-- no cast from other array types
SELECT '{a,b}'::text[]::vector;
SELECT '{1,2}'::bigint[]::vector;

DROP TABLE cast_t, cast_arrays;
