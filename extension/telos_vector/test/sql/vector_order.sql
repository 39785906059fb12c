--
-- vector_order: the comparison operators and the default btree class --
-- component by component, then the shorter vector first -- so that ORDER
-- BY, DISTINCT, GROUP BY, UNIQUE and btree indexes work on vectors; and
-- ORDER BY a distance with LIMIT (the exact nearest-neighbour query).
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos_vector;
RESET client_min_messages;

SELECT '[1,2]'::vector < '[1,3]' AS lt, '[1,2]'::vector <= '[1,2]' AS le,
       '[1,2]'::vector = '[1,2]' AS eq, '[1,2]'::vector <> '[1,2]' AS ne,
       '[1,3]'::vector >= '[1,2]' AS ge, '[2]'::vector > '[1,5]' AS gt;
-- a prefix sorts first
SELECT '[1,2]'::vector < '[1,2,0]', '[1,2]'::vector = '[1,2,0]';
-- -0 equals 0
SELECT '[-0]'::vector = '[0]', '[-0,1]'::vector < '[0,2]';
SELECT vector_cmp('[1,2]', '[1,3]'), vector_cmp('[1,3]', '[1,2]'), vector_cmp('[1]', '[1]'),
       vector_cmp('[1]', '[1,0]');

CREATE TABLE order_t (id int, v vector);
INSERT INTO order_t VALUES
  (1, '[1,2,3]'), (2, '[1,2]'), (3, '[0,5]'), (4, '[1,2,3]'), (5, '[-1,0,0,0]'),
  (6, '[1,2,2.5]'), (7, NULL), (8, '[1,2]');
SELECT id, v FROM order_t ORDER BY v, id;
SELECT id, v FROM order_t ORDER BY v DESC NULLS LAST, id;
SELECT DISTINCT v FROM order_t ORDER BY v;
SELECT v, count(*), array_agg(id ORDER BY id) FROM order_t GROUP BY v ORDER BY v;
SELECT min(id) FROM order_t WHERE v = '[1,2,3]';
SELECT count(*) FROM order_t WHERE v > '[1,2]' AND v <= '[1,2,3]';

-- A btree index, used for equality and ranges; UNIQUE rejects a duplicate.
CREATE INDEX order_t_v ON order_t (v);
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM order_t WHERE v = '[1,2]';
SELECT id FROM order_t WHERE v = '[1,2]' ORDER BY id;
SELECT id FROM order_t WHERE v >= '[1,2,2]' ORDER BY v, id;
RESET enable_seqscan;
CREATE TABLE order_u (v vector UNIQUE);
INSERT INTO order_u VALUES ('[1,2]'), ('[1,2,0]');
INSERT INTO order_u VALUES ('[1,2]');
INSERT INTO order_u VALUES ('[-0,1]'), ('[0,1]');
-- a merge join on vectors
SET enable_hashjoin = off;
SET enable_nestloop = off;
SELECT a.id, b.id FROM order_t a JOIN order_t b ON a.v = b.v AND a.id < b.id ORDER BY 1, 2;
RESET enable_hashjoin;
RESET enable_nestloop;

-- Exact nearest neighbours: ORDER BY distance LIMIT k.
CREATE TABLE order_nn (id int, v vector(3));
INSERT INTO order_nn SELECT i, ARRAY[i % 10, (i / 10) % 10, i / 100]::vector FROM generate_series(0, 999) i;
SELECT id, v, round((v <-> '[2.1,3.9,5]')::numeric, 4) AS d FROM order_nn ORDER BY v <-> '[2.1,3.9,5]', id LIMIT 3;
SELECT id, v FROM order_nn WHERE id > 0 ORDER BY v <=> '[1,1,1]', id LIMIT 3;
SELECT id, v FROM order_nn ORDER BY v <#> '[1,2,3]', id LIMIT 3;
SELECT id, v FROM order_nn ORDER BY v <+> '[0,0,9]', id LIMIT 2;

DROP TABLE order_t, order_u, order_nn;
