--
-- formula_fuzz: the formula compiler parses untrusted text. Thousands of
-- random strings, mutations of valid formulas and generated formulas go
-- through telos.formula_check and, when accepted, telos.formula_eval with
-- random values: the backend must survive every one, and every rejection
-- must be one of the documented SQLSTATEs. (A sanitizer-built fuzzer for
-- millions of inputs is test/fuzz/formula_fuzz.c.)
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos;

CREATE FUNCTION pg_temp.rnd_text(alphabet text, n int) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg(substr(alphabet, 1 + floor(random() * length(alphabet))::int, 1), '')
      FROM generate_series(1, n)
$$;

-- A random well-formed formula of bounded size.
CREATE FUNCTION pg_temp.gen(depth int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    k int := CASE WHEN depth > 5 THEN floor(random() * 2)::int ELSE floor(random() * 6)::int END;
    fns text[] := '{abs,min,max,coalesce}';
    f text;
    n int;
    s text;
BEGIN
    CASE k
        WHEN 0 THEN RETURN (ARRAY['a', 'b', 'revenue', 'cogs', 'x_1', 'abs'])[1 + floor(random() * 6)::int];
        WHEN 1 THEN RETURN (ARRAY['0', '1', '2.5', '.5', '1e3', '1e308', '3e-5'])[1 + floor(random() * 7)::int];
        WHEN 2 THEN RETURN pg_temp.gen(depth + 1) || (ARRAY[' + ', ' - ', ' * ', ' / '])[1 + floor(random() * 4)::int]
                           || pg_temp.gen(depth + 1);
        WHEN 3 THEN RETURN '(' || pg_temp.gen(depth + 1) || ')';
        WHEN 4 THEN RETURN '-' || pg_temp.gen(depth + 1);
        ELSE
            f := fns[1 + floor(random() * 4)::int];
            n := CASE WHEN f = 'abs' THEN 1 ELSE 1 + floor(random() * 3)::int END;
            SELECT string_agg(pg_temp.gen(depth + 1), ', ') INTO s FROM generate_series(1, n);
            RETURN f || '(' || s || ')';
    END CASE;
END
$$;

-- Damage a string: flip, insert, delete, duplicate, nest, truncate.
CREATE FUNCTION pg_temp.mutate(s text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    pos int;
    alphabet text := 'abcxyz_019.eE+-*/(), AZ$;é' || chr(1) || chr(127);
BEGIN
    FOR i IN 1..1 + floor(random() * 5)::int LOOP
        pos := 1 + floor(random() * greatest(length(s), 1))::int;
        CASE floor(random() * 6)::int
            WHEN 0 THEN s := overlay(s PLACING pg_temp.rnd_text(alphabet, 1) FROM pos FOR 1);
            WHEN 1 THEN s := overlay(s PLACING pg_temp.rnd_text(alphabet, 1) FROM pos FOR 0);
            WHEN 2 THEN s := overlay(s PLACING '' FROM pos FOR 1);
            WHEN 3 THEN s := s || s;
            WHEN 4 THEN s := repeat('(', floor(random() * 40)::int) || s || repeat(')', floor(random() * 40)::int);
            ELSE s := left(s, pos);
        END CASE;
    END LOOP;
    RETURN s;
END
$$;

CREATE FUNCTION pg_temp.fuzz(iterations int) RETURNS TABLE (sqlstate text, n bigint)
LANGUAGE plpgsql AS $$
DECLARE
    f text;
    refs text[];
    vals float8[];
    r float8;
    results text[] := '{}';
BEGIN
    FOR i IN 1..iterations LOOP
        r := random();
        f := CASE WHEN r < 0.2 THEN pg_temp.rnd_text('abcxyz_019.eE+-*/(), ', floor(random() * 60)::int)
                  WHEN r < 0.3 THEN pg_temp.rnd_text('()-+*/1a,', floor(random() * 200)::int)
                  WHEN r < 0.7 THEN pg_temp.mutate(pg_temp.gen(0))
                  ELSE pg_temp.gen(0) END;
        f := coalesce(f, '');
        BEGIN
            refs := telos.formula_check(f);
            SELECT array_agg(CASE floor(random() * 5)::int WHEN 0 THEN NULL WHEN 1 THEN 0
                                  WHEN 2 THEN 1e308 ELSE round(random() * 2000) - 1000 END)
              INTO vals FROM generate_series(1, coalesce(array_length(refs, 1), 0));
            PERFORM telos.formula_eval(f, refs, coalesce(vals, '{}'));
            results := results || 'ok'::text;
        EXCEPTION WHEN OTHERS THEN
            results := results || SQLSTATE::text;
        END;
    END LOOP;
    RETURN QUERY SELECT x, count(*) FROM unnest(results) x GROUP BY x;
END
$$;

SELECT setseed(0.5);
CREATE TEMP TABLE outcome AS SELECT * FROM pg_temp.fuzz(6000);
-- Every input compiled or was rejected with a documented SQLSTATE:
-- 42601 syntax, 42883 function, 22003 number, 42622 name, 54000 length or
-- references, 54001 nesting.
SELECT sum(n) AS inputs,
       sum(n) FILTER (WHERE sqlstate = 'ok') > 500 AS many_compiled,
       sum(n) FILTER (WHERE sqlstate <> 'ok') > 500 AS many_rejected,
       coalesce(sum(n) FILTER (WHERE sqlstate NOT IN ('ok', '42601', '42883', '22003', '42622',
                                                      '54000', '54001')), 0) AS unexpected
  FROM outcome;
SELECT sqlstate FROM outcome ORDER BY 1;
-- Still alive.
SELECT telos.formula_eval('(revenue - cogs) / revenue', '{revenue,cogs}', '{4,1}');

DROP EXTENSION telos;
