--
-- formula_check: the derived-metric formula language. formula_check lists
-- the metrics a formula references; formula_eval evaluates it with NULL
-- propagation, division by zero as NULL, min/max ignoring NULLs and
-- coalesce; every kind of bad formula and bad argument is an error with
-- its SQLSTATE and, for formulas, the position.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;

-- SQLSTATE and message of an error, or 'ok'.
CREATE FUNCTION pg_temp.check_err(f text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    PERFORM telos.formula_check(f);
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;
CREATE FUNCTION pg_temp.eval_err(f text, n text[], v float8[]) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
    RETURN coalesce(telos.formula_eval(f, n, v)::text, 'NULL');
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ': ' || SQLERRM;
END
$$;

-- What a formula references: distinct names in order of appearance.
SELECT f, telos.formula_check(f) AS refs
  FROM (VALUES ('(revenue - cogs) / revenue'),
               ('revenue'),
               ('42'),
               ('-x + +y - -z'),
               ('abs(a) + min(b, c, 2) * max(d) - coalesce(e, f, 0)'),
               ('abs + min'),
               ('  a_1	*
b2 '),
               ('1.5e3 + .5 + 2. + 7E-2 + x')) AS t(f);

-- Evaluation.
SELECT f, telos.formula_eval(f, '{revenue,cogs,x,y,z,n,zero}', '{200,50,2,3,4,NULL,0}') AS value
  FROM (VALUES ('(revenue - cogs) / revenue'),
               ('revenue - cogs * 2'),
               ('(revenue - cogs) * 2'),
               ('x / y / z'),
               ('x - y - z'),
               ('-x * -y'),
               ('--x'),
               ('2 * 3 + 4 * 5'),
               ('revenue / zero'),
               ('revenue / (x - 2)'),
               ('n + 1'),
               ('coalesce(n, x) * 10'),
               ('coalesce(n, n)'),
               ('min(n, z, y)'),
               ('max(n, x, 1e3)'),
               ('min(n)'),
               ('abs(cogs - revenue)'),
               ('abs(n)'),
               ('1e308 * 10'),
               ('0 / 0'),
               ('.5 + 1.')) AS t(f);
-- A metric may be called like a function.
SELECT telos.formula_eval('abs + abs(min)', '{abs,min}', '{5,-2}');
-- Names not referenced are ignored; order does not matter.
SELECT telos.formula_eval('b - a', '{a,b,unused}', '{1,10,NULL}');
-- Non-finite inputs are treated as NULL.
SELECT telos.formula_eval('a + 1', '{a}', ARRAY['NaN'::float8]) IS NULL AS nan_is_null,
       telos.formula_eval('coalesce(a, 7)', '{a}', ARRAY['Infinity'::float8]) AS inf_coalesced;
-- Evaluated once per row with the formula compiled once (cached).
SELECT sum(telos.formula_eval('x * 2 + 1', '{x}', ARRAY[g::float8])) FROM generate_series(1, 1000) g;

-- Bad formulas: syntax (42601) with the position; unknown functions and
-- wrong argument counts (42883); literals out of range (22003); names too
-- long (42622); limits on length (54000), nesting (54001), references (54000).
SELECT f, pg_temp.check_err(f) AS error
  FROM (VALUES (''), ('   '), ('revenue +'), ('(revenue - cogs'), ('revenue - cogs)'),
               ('revenue cogs'), ('Revenue'), ('revenue % 2'), ('revenue; DROP TABLE x'),
               ('a ** b'), ('2x'), ('1.2.3'), ('1e'), ('1e+'), ('.'), ('max(a,)'),
               ('max(a b)'), ('()'), ('a + é'), (E'a\\b'), (E'a\x01'),
               ('sqrt(a)'), ('abs(a, b)'), ('max()'),
               ('min(1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17)'),
               ('1e400'), ('1e-400'), ('a' || repeat('b', 62)), ('a' || repeat('b', 63)),
               (repeat('1', 70))) AS t(f);
SELECT left(f, 20) AS formula, length(f), pg_temp.check_err(f) AS error
  FROM (VALUES (repeat('a + ', 250) || 'a'), (repeat('a+', 499) || 'a'),
               (repeat('(', 31) || 'a' || repeat(')', 31)),
               (repeat('(', 33) || 'a' || repeat(')', 33)),
               (repeat('-', 40) || 'a'),
               (repeat('abs(', 40) || 'a' || repeat(')', 40)),
               ((SELECT string_agg('m' || g, '+') FROM generate_series(1, 32) g)),
               ((SELECT string_agg('m' || g, '+') FROM generate_series(1, 33) g))) AS t(f);
-- The whole report: the position in the message, the text near it, a hint.
SELECT telos.formula_check('(revenue - cogs) / reve nue');
SELECT telos.formula_check(repeat('x', 30) || ' $ ' || repeat('y', 30));

-- Bad arguments.
SELECT pg_temp.check_err(NULL);
SELECT pg_temp.eval_err(NULL, '{a}', '{1}');
SELECT pg_temp.eval_err('a', NULL, '{1}');
SELECT pg_temp.eval_err('a', '{a}', NULL);
SELECT pg_temp.eval_err('a', '{a,b}', '{1}');
SELECT pg_temp.eval_err('a', '{{a}}', '{{1}}');
SELECT pg_temp.eval_err('a', '{NULL}', '{1}');
SELECT pg_temp.eval_err('a + b', '{a}', '{1}');
SELECT pg_temp.eval_err('a', '{a,a}', '{1,2}');
SELECT pg_temp.eval_err('a', '{a,b,b}', '{1,2,3}');
SELECT pg_temp.eval_err('a +', '{a}', '{1}');

DROP EXTENSION telos;
