--
-- vector_input: the text form [1,2,3] -- what is accepted, how it prints
-- (shortest decimal that reads back exactly), the typmod vector(n), and
-- an error with a reason for everything else.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos_vector;
RESET client_min_messages;

-- Accepted forms: white space around brackets and components, signs,
-- leading/trailing decimal point, exponents.
SELECT '[1,2,3]'::vector;
SELECT ' [ 1 , -2.5e3,+.5, 3. ] '::vector;
SELECT E'[\t1,\n2\r]\n'::vector;
SELECT '[1E2,1e+2,1e-2,-0,0.000]'::vector;
SELECT '[42]'::vector;

-- Output: the shortest decimal that reads back to the same float4.
SELECT '[0.1,1e20,-3.4028235e38,1.17549435e-38,1.4e-45,16777217,3.14159265358979]'::vector;
SELECT '[1.0000001,0.33333334]'::vector;

-- Text round-trips exactly for float4 values (here: 2000 random ones).
SELECT count(*) AS roundtrip_mismatches
  FROM (SELECT v, v::text::vector AS w
          FROM (SELECT array_agg(((random() - 0.5) * 10 ^ (random() * 60 - 30))::real)::vector AS v
                  FROM generate_series(1, 2000) i GROUP BY i % 10) s) t
 WHERE v::real[] IS DISTINCT FROM w::real[];

-- Malformed text.
SELECT ''::vector;
SELECT '1,2'::vector;
SELECT '(1,2)'::vector;
SELECT '[1,2'::vector;
SELECT '[1,2,'::vector;
SELECT '['::vector;
SELECT '[1,,2]'::vector;
SELECT '[,1]'::vector;
SELECT '[1,]'::vector;
SELECT '[1 2]'::vector;
SELECT '[1,2]x'::vector;
SELECT '[1,2]]'::vector;
SELECT '[[1,2]]'::vector;
SELECT '[1.2.3]'::vector;
SELECT '[1e]'::vector;
SELECT '[1e+]'::vector;
SELECT '[.]'::vector;
SELECT '[-]'::vector;
SELECT '[0x10]'::vector;
SELECT '[1_000]'::vector;
SELECT '[abc]'::vector;
SELECT '["1"]'::vector;
SELECT '[1;2]'::vector;

-- Empty.
SELECT '[]'::vector;
SELECT '[  ]'::vector;

-- NaN and infinity, in any spelling strtof knows.
SELECT '[NaN]'::vector;
SELECT '[1,nan]'::vector;
SELECT '[-NAN]'::vector;
SELECT '[inf]'::vector;
SELECT '[1,-Infinity]'::vector;
SELECT '[+infinity ]'::vector;

-- Out of float4's range (as real rejects them).
SELECT '[1e39]'::vector;
SELECT '[-3.5e38]'::vector;
SELECT '[1e-50]'::vector;
SELECT '[123456789012345678901234567890123456789012345678901234567890]'::vector;

-- Dimensions: 16000 is the maximum.
SELECT vector_dims(('[' || repeat('1,', 15999) || '1]')::vector);
SELECT vector_dims(('[' || repeat('1,', 16000) || '1]')::vector);
SELECT vector_dims(('[' || repeat('1,', 100000) || '1]')::vector);

-- The type modifier.
SELECT '[1,2,3]'::vector(3);
SELECT '[1,2,3]'::vector(2);
SELECT '[1,2]'::vector(3);
SELECT '[1]'::vector(1);
SELECT '[1,2]'::vector(0);
SELECT '[1,2]'::vector(-1);
SELECT '[1,2]'::vector(16001);
SELECT '[1,2]'::vector(2,3);
SELECT '[1,2]'::vector('a');
SELECT format_type('vector'::regtype, 16000);
CREATE TABLE input_t (id int, v vector(3));
INSERT INTO input_t VALUES (1, '[1,2,3]');
INSERT INTO input_t VALUES (2, '[1,2]');
INSERT INTO input_t VALUES (3, '[1,2,3,4]');
INSERT INTO input_t VALUES (4, '[1,2,3]'::vector);
INSERT INTO input_t VALUES (5, '[1,2]'::vector);
UPDATE input_t SET v = '[1,2]'::vector WHERE id = 1;
UPDATE input_t SET v = v || '[4]' WHERE id = 1;
INSERT INTO input_t VALUES (6, NULL);
SELECT * FROM input_t ORDER BY id;
-- A vector column without a modifier takes any dimension.
CREATE TABLE input_any (v vector);
INSERT INTO input_any VALUES ('[1]'), ('[1,2,3,4,5]');
SELECT v, vector_dims(v) FROM input_any ORDER BY 2;
-- ALTER to a typmod checks the rows that are there.
ALTER TABLE input_any ALTER COLUMN v TYPE vector(5);
DELETE FROM input_any WHERE vector_dims(v) <> 5;
ALTER TABLE input_any ALTER COLUMN v TYPE vector(5);
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'input_any'::regclass AND attname = 'v';
DROP TABLE input_t, input_any;
