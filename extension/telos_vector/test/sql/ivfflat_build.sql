--
-- ivfflat_build: CREATE INDEX ... USING ivfflat, its operator classes,
-- the `lists` option and its errors, exact answers when every list is
-- probed, inserts after the build, NULLs and zero vectors, VACUUM, an index
-- built on an empty table, and ivfflat_stats().
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos_vector;
RESET client_min_messages;

-- The access method and its operator classes, which validate.
SELECT amname, amtype FROM pg_am WHERE amname = 'ivfflat';
SELECT c.opcname, c.opcdefault, amvalidate(c.oid)
  FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
 WHERE a.amname = 'ivfflat' ORDER BY 1;

-- Deterministic pseudo-random numbers in [-1, 1): no random(), so the data
-- (and every answer below) is the same on every run.
CREATE FUNCTION pseudo(bigint) RETURNS float8
  LANGUAGE sql IMMUTABLE AS $$ SELECT hashint8($1)::float8 / 2147483648.0 $$;

-- 500 vectors of 8 dimensions around 5 centers.
CREATE TABLE t (id int PRIMARY KEY, v vector(8));
INSERT INTO t
SELECT i, (SELECT array_agg(pseudo((i % 5) * 100 + d) * 3 + pseudo(i * 100 + d) ORDER BY d)
             FROM generate_series(1, 8) d)::vector(8)
  FROM generate_series(1, 500) i;

CREATE INDEX t_l2 ON t USING ivfflat (v) WITH (lists = 5);
SELECT * FROM ivfflat_stats('t_l2');

SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 5;

-- exact(q, op): the k nearest ids by a sequential scan; got(q, op, k): by
-- whatever plan the planner picks (the index, with enable_seqscan off).
CREATE FUNCTION exact_ids(q vector, op text, k int) RETURNS int[]
  LANGUAGE plpgsql AS $$
DECLARE r int[];
BEGIN
  SET LOCAL enable_indexscan = off;
  SET LOCAL enable_seqscan = on;
  EXECUTE format('SELECT array(SELECT id FROM t ORDER BY v %s $1 LIMIT $2)', op) INTO r USING q, k;
  RETURN r;
END $$;
CREATE FUNCTION index_ids(q vector, op text, k int) RETURNS int[]
  LANGUAGE plpgsql AS $$
DECLARE r int[];
BEGIN
  EXECUTE format('SELECT array(SELECT id FROM t ORDER BY v %s $1 LIMIT $2)', op) INTO r USING q, k;
  RETURN r;
END $$;
CREATE TABLE q AS
SELECT j, (SELECT array_agg(pseudo((j % 5) * 100 + d) * 3 + pseudo(j * 100 + d + 77777) ORDER BY d)
             FROM generate_series(1, 8) d)::vector(8) AS v
  FROM generate_series(1, 20) j;

-- Every list probed: the index gives exactly the sequential scan's answer.
SET ivfflat.probes = 5;
SELECT count(*) FILTER (WHERE index_ids(v, '<->', 10) = exact_ids(v, '<->', 10)) AS same, count(*)
  FROM q;
-- One list probed: the nearest rows still come first, more rows than the
-- list holds still come back (the scan widens into further lists).
SET ivfflat.probes = 1;
SELECT count(*) FILTER (WHERE (index_ids(v, '<->', 3))[1] = (exact_ids(v, '<->', 3))[1]) AS same_first,
       min(cardinality(index_ids(v, '<->', 400))) AS rows_400
  FROM q;
SET ivfflat.max_probes = 1;
SELECT max(cardinality(index_ids(v, '<->', 400))) < 400 AS capped_by_max_probes FROM q;
RESET ivfflat.max_probes;

-- Inner product and cosine.
CREATE INDEX t_ip ON t USING ivfflat (v vector_ip_ops) WITH (lists = 5);
CREATE INDEX t_cos ON t USING ivfflat (v vector_cosine_ops) WITH (lists = 5);
SET ivfflat.probes = 5;
SELECT count(*) FILTER (WHERE index_ids(v, '<#>', 10) = exact_ids(v, '<#>', 10)) AS ip_same,
       count(*) FILTER (WHERE index_ids(v, '<=>', 10) = exact_ids(v, '<=>', 10)) AS cos_same
  FROM q;
EXPLAIN (COSTS OFF) SELECT id FROM t ORDER BY v <=> '[1,0,0,0,0,0,0,0]' LIMIT 5;
DROP INDEX t_ip, t_cos;

-- Inserts after the build go to the nearest list and are found.
INSERT INTO t
SELECT i, (SELECT array_agg(pseudo((i % 5) * 100 + d) * 3 + pseudo(i * 100 + d) ORDER BY d)
             FROM generate_series(1, 8) d)::vector(8)
  FROM generate_series(501, 700) i;
SELECT lists, entries FROM ivfflat_stats('t_l2');
SELECT count(*) FILTER (WHERE index_ids(v, '<->', 10) = exact_ids(v, '<->', 10)) AS same FROM q;

-- NULLs are not indexed (and not returned by the index); the rest are.
INSERT INTO t VALUES (701, NULL), (702, NULL);
SELECT entries FROM ivfflat_stats('t_l2');
SELECT count(*) FROM (SELECT id FROM t ORDER BY v <-> '[0,0,0,0,0,0,0,0]' LIMIT 1000) s;

-- A zero vector has no direction: cosine does not index it, L2 does.
INSERT INTO t VALUES (703, '[0,0,0,0,0,0,0,0]');
CREATE INDEX t_cos ON t USING ivfflat (v vector_cosine_ops) WITH (lists = 5);
SELECT (SELECT entries FROM ivfflat_stats('t_l2')) AS l2_entries,
       (SELECT entries FROM ivfflat_stats('t_cos')) AS cosine_entries;
-- A zero query vector under cosine: every distance is undefined, every row
-- comes back (in no particular order).
SELECT count(*) FROM (SELECT id FROM t ORDER BY v <=> '[0,0,0,0,0,0,0,0]' LIMIT 1000) s;
DROP INDEX t_cos;

-- VACUUM deletes the entries of deleted rows; inserts reuse the space.
DELETE FROM t WHERE id % 2 = 0;
VACUUM (INDEX_CLEANUP ON) t;
SELECT lists, entries FROM ivfflat_stats('t_l2');
SELECT count(*) FILTER (WHERE index_ids(v, '<->', 10) = exact_ids(v, '<->', 10)) AS same FROM q;
SELECT entry_pages AS pages_before FROM ivfflat_stats('t_l2') \gset
INSERT INTO t
SELECT i, (SELECT array_agg(pseudo((i % 5) * 100 + d) * 3 + pseudo(i * 100 + d) ORDER BY d)
             FROM generate_series(1, 8) d)::vector(8)
  FROM generate_series(1000, 1299) i;
SELECT entries, entry_pages = :pages_before AS no_new_pages FROM ivfflat_stats('t_l2');
SELECT count(*) FILTER (WHERE index_ids(v, '<->', 10) = exact_ids(v, '<->', 10)) AS same FROM q;

-- REINDEX re-clusters.
REINDEX INDEX t_l2;
SELECT lists, trained, entries FROM ivfflat_stats('t_l2');

-- The default number of lists: rows / 1000, at least 1.
CREATE INDEX t_default ON t USING ivfflat (v);
SELECT lists FROM ivfflat_stats('t_default');
DROP INDEX t_default;

-- Fewer rows than lists: as many lists as rows, with a notice.
CREATE TABLE few (v vector(2));
INSERT INTO few VALUES ('[1,1]'), ('[2,2]'), ('[3,3]');
CREATE INDEX few_idx ON few USING ivfflat (v) WITH (lists = 10);
SELECT lists, entries FROM ivfflat_stats('few_idx');

-- An index built on an empty table (as a schema migration does) has one
-- list and is exact; inserts go there; REINDEX clusters it.
CREATE TABLE e (id int, v vector(3));
CREATE INDEX e_idx ON e USING ivfflat (v vector_cosine_ops) WITH (lists = 4);
SELECT lists, trained, entries FROM ivfflat_stats('e_idx');
INSERT INTO e SELECT i, ARRAY[pseudo(i), pseudo(i + 1000), pseudo(i + 2000)]::vector FROM generate_series(1, 300) i;
SELECT lists, trained, entries FROM ivfflat_stats('e_idx');
SELECT array(SELECT id FROM e ORDER BY v <=> '[1,2,3]' LIMIT 5) =
       array(SELECT id FROM e ORDER BY v <=> '[1,2,3]' LIMIT 5) AS stable;
REINDEX INDEX e_idx;
SELECT lists, trained, entries FROM ivfflat_stats('e_idx');

-- An unlogged table's index works too (its init fork is an empty index).
CREATE UNLOGGED TABLE u (v vector(3));
CREATE INDEX u_idx ON u USING ivfflat (v);
INSERT INTO u SELECT ARRAY[i, i, i]::vector FROM generate_series(1, 10) i;
SELECT v FROM u ORDER BY v <-> '[3.2,3.2,3.2]' LIMIT 2;

-- Errors, not crashes.
CREATE TABLE bad (v vector, w vector(3), big vector(2001));
CREATE INDEX ON bad USING ivfflat (v);
CREATE INDEX ON bad USING ivfflat (big);
CREATE INDEX ON bad USING ivfflat (w) WITH (lists = 0);
CREATE INDEX ON bad USING ivfflat (w) WITH (lists = 40000);
CREATE INDEX ON bad USING ivfflat (w) WITH (probes = 3);
CREATE INDEX ON bad USING ivfflat (w, v);
CREATE INDEX ON bad USING ivfflat (w) WHERE w IS NOT NULL;
SELECT v FROM u ORDER BY v <-> '[1,2]' LIMIT 1;
SET ivfflat.probes = 0;
SET ivfflat.max_probes = -2;
SELECT * FROM ivfflat_stats('t_pkey');
SELECT * FROM ivfflat_stats('t');

RESET enable_seqscan;
RESET ivfflat.probes;
DROP TABLE t, q, few, e, u, bad;
DROP FUNCTION exact_ids, index_ids, pseudo;
