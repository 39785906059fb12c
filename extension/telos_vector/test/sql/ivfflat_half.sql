--
-- ivfflat_half: entries stored in half precision (WITH (storage = ...)):
-- the reloption and its errors, the default by dimension, values that
-- round-trip exactly, the size of the index, values beyond half's range
-- (refused by storage 'half', a fall back to full under 'auto'), inserts,
-- VACUUM, an index built on an empty table, and recall against exact
-- answers next to the same index in full precision.
--
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS telos_vector;
RESET client_min_messages;
SET max_parallel_workers_per_gather = 0;

CREATE FUNCTION pseudo(bigint) RETURNS float8
  LANGUAGE sql IMMUTABLE AS $$ SELECT hashint8($1)::float8 / 2147483648.0 $$;

-- The reloption: auto, full, half; anything else is an error.
CREATE TABLE s (id int, v vector(4));
INSERT INTO s SELECT i, ARRAY[i, -i, i / 4.0, 0.5]::vector(4) FROM generate_series(1, 100) i;
CREATE INDEX s_bad ON s USING ivfflat (v) WITH (storage = 'quarter');
CREATE INDEX s_bad ON s USING ivfflat (v) WITH (storage = '');
CREATE INDEX s_bad ON s USING ivfflat (v) WITH (storage = 1);
CREATE INDEX s_full ON s USING ivfflat (v) WITH (lists = 2, storage = 'full');
CREATE INDEX s_half ON s USING ivfflat (v) WITH (lists = 2, storage = half);
CREATE INDEX s_auto ON s USING ivfflat (v) WITH (lists = 2, storage = 'AUTO');
SELECT c.relname, c.reloptions FROM pg_class c WHERE relname LIKE 's\_%' ORDER BY 1;
ALTER INDEX s_half SET (storage = 'full');
ALTER INDEX s_half RESET (storage);
ALTER INDEX s_half SET (storage = 'half');

-- Values that half holds exactly (small integers, quarters, halves) come
-- back through the index in the exact order, at the exact distances, with
-- every list probed; and nothing else comes back.
SET enable_seqscan = off;
SET ivfflat.probes = 2;
DROP INDEX s_full, s_auto;
EXPLAIN (COSTS OFF) SELECT id FROM s ORDER BY v <-> '[10,-10,2.5,0.5]' LIMIT 5;
SELECT array(SELECT v <-> '[10,-10,2.5,0.5]' FROM s ORDER BY v <-> '[10,-10,2.5,0.5]')
     = array(SELECT d FROM (SELECT v <-> '[10,-10,2.5,0.5]' AS d FROM s) x ORDER BY d) AS l2_order_exact;
SELECT count(*), count(DISTINCT id) FROM (SELECT id FROM s ORDER BY v <-> '[1,2,3,4]') x;
-- the index's values: those ordering the nearest ones, with exact distances
SELECT id, v <-> '[10,-10,2.5,0.5]' AS d FROM s ORDER BY v <-> '[10,-10,2.5,0.5]' LIMIT 4;
RESET enable_seqscan;

-- Beyond +-65504: storage 'half' refuses the value, at insert and at build.
INSERT INTO s VALUES (101, '[65504, -65504, 0.000001, 1]');
INSERT INTO s VALUES (102, '[65505, 0, 0, 0]');
INSERT INTO s VALUES (103, '[1, -1e30, 0, 0]');
SELECT count(*) FROM s;
DROP INDEX s_half;
INSERT INTO s VALUES (102, '[65505, 0, 0, 0]');
CREATE INDEX s_half ON s USING ivfflat (v) WITH (lists = 2, storage = 'half');
-- storage 'full' and 'auto' take it (auto builds in full precision and says so)
CREATE INDEX s_full ON s USING ivfflat (v) WITH (lists = 2, storage = 'full');
CREATE INDEX s_auto ON s USING ivfflat (v) WITH (lists = 2);
INSERT INTO s VALUES (103, '[1, -1e30, 0, 0]');
SET enable_seqscan = off;
SET ivfflat.probes = 2;
SELECT id FROM s ORDER BY v <-> '[70000, 0, 0, 0]' LIMIT 2;
RESET enable_seqscan;
DROP TABLE s;

-- The default by dimension: 'auto' is half from 256 dimensions on, which
-- shows in the entry pages (512 dimensions: 3 entries a page in full
-- precision, 7 in half); below 256 it is full.
CREATE TABLE w (id int, v vector(512));
INSERT INTO w SELECT i, (SELECT array_agg(pseudo((i % 7) * 1000 + d) + 0.3 * pseudo(i * 1000 + d) ORDER BY d)
                           FROM generate_series(1, 512) d)::vector(512)
  FROM generate_series(1, 700) i;
CREATE INDEX w_auto ON w USING ivfflat (v) WITH (lists = 7);
CREATE INDEX w_full ON w USING ivfflat (v) WITH (lists = 7, storage = 'full');
CREATE INDEX w_half ON w USING ivfflat (v) WITH (lists = 7, storage = 'half');
SELECT 'auto' AS storage, entries, entry_pages FROM ivfflat_stats('w_auto')
UNION ALL SELECT 'full', entries, entry_pages FROM ivfflat_stats('w_full')
UNION ALL SELECT 'half', entries, entry_pages FROM ivfflat_stats('w_half');
SELECT pg_relation_size('w_half')::float8 / pg_relation_size('w_full') < 0.55 AS half_is_half_the_size;
-- every list probed, the half index finds the exact neighbours but for
-- near-ties at the 10th place (the query is a row: it comes first)
DROP INDEX w_auto, w_full;
SET enable_seqscan = off;
SET ivfflat.probes = 7;
CREATE FUNCTION overlap(op text) RETURNS TABLE (self_first bool, recall float8)
  LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format($q$
    SELECT bool_and(ids[1] = q * 30),
           avg(cardinality(array(SELECT unnest(ids) INTERSECT SELECT unnest(truth))))::float8 / 10
      FROM (SELECT q,
                   array(SELECT id FROM w ORDER BY v %1$s (SELECT v FROM w WHERE id = q * 30) LIMIT 10) AS ids,
                   array(SELECT id FROM (SELECT id, v %1$s (SELECT v FROM w WHERE id = q * 30) AS d FROM w) x
                          ORDER BY d, id LIMIT 10) AS truth
              FROM generate_series(1, 20) q) r$q$, op);
END $$;
-- (no index-only scans of ivfflat: it returns no index tuples)
SELECT count(*) FROM w;
SELECT self_first, recall >= 0.95 AS l2_recall_095 FROM overlap('<->');
-- inner product and cosine through the half kernels
CREATE INDEX w_ip ON w USING ivfflat (v vector_ip_ops) WITH (lists = 7, storage = 'half');
CREATE INDEX w_cos ON w USING ivfflat (v vector_cosine_ops) WITH (lists = 7);
SELECT pg_relation_size('w_cos') < pg_relation_size('w_half') * 1.1 AS cosine_auto_is_half;
SELECT recall >= 0.95 AS ip_recall_095 FROM overlap('<#>');
DROP INDEX w_ip;
SELECT self_first, recall >= 0.95 AS cosine_recall_095 FROM overlap('<=>');
DROP INDEX w_cos;
-- inserts, deletes and VACUUM on a half index: every row through the index
INSERT INTO w SELECT id + 1000, v FROM w WHERE id <= 300;
DELETE FROM w WHERE id % 3 = 0;
VACUUM w;
SELECT entries = (SELECT count(*) FROM w) AS entries_are_live_rows FROM ivfflat_stats('w_half');
SELECT count(*) = (SELECT count(*) FROM w) AS every_row_through_index,
       count(DISTINCT id) = count(*) AS each_once
  FROM (SELECT id FROM w ORDER BY v <-> (SELECT v FROM w WHERE id = 1)) x;
-- ivfflat.widening = 0: the scan widens only when the probed lists run
-- out, and still returns every row
SET ivfflat.probes = 1;
SET ivfflat.widening = 0;
SELECT count(*) = (SELECT count(*) FROM w) AS every_row_without_widening
  FROM (SELECT id FROM w ORDER BY v <-> (SELECT v FROM w WHERE id = 1)) x;
SET ivfflat.widening = -1;
RESET ivfflat.widening;
RESET enable_seqscan;
RESET ivfflat.probes;
DROP TABLE w;
DROP FUNCTION overlap;

-- Built on an empty table: cosine under 'auto' stores half (unit vectors
-- always fit); L2 and inner product stay full, their values unknown yet.
CREATE TABLE e (id int, v vector(256));
CREATE INDEX e_cos ON e USING ivfflat (v vector_cosine_ops);
CREATE INDEX e_l2 ON e USING ivfflat (v);
INSERT INTO e SELECT i, array_fill(i * 1000.0, ARRAY[256])::vector(256) FROM generate_series(1, 100) i;
SELECT pg_relation_size('e_cos') < pg_relation_size('e_l2') * 0.6 AS cosine_half_l2_full;
SET enable_seqscan = off;
SELECT id FROM e ORDER BY v <=> array_fill(1.0, ARRAY[256])::vector(256), id LIMIT 3;
SELECT id FROM e ORDER BY v <-> array_fill(100000.0, ARRAY[256])::vector(256) LIMIT 3;
RESET enable_seqscan;
-- Rebuilt with rows: 'auto' under L2 finds values beyond half's range
-- (35 rows of 66,000 to 100,000) and builds in full precision.
CREATE INDEX e_auto ON e USING ivfflat (v) WITH (lists = 2);
CREATE INDEX e_full ON e USING ivfflat (v) WITH (lists = 2, storage = full);
SELECT pg_relation_size('e_auto') = pg_relation_size('e_full') AS auto_fell_back_to_full;
CREATE TABLE e2 AS SELECT * FROM e WHERE id <= 65;
CREATE INDEX e2_auto ON e2 USING ivfflat (v) WITH (lists = 2);
CREATE INDEX e2_full ON e2 USING ivfflat (v) WITH (lists = 2, storage = full);
SELECT pg_relation_size('e2_auto') < pg_relation_size('e2_full') * 0.75 AS auto_half_when_all_fit;
DROP TABLE e, e2;

-- Recall on the clustered 20,000 x 128 set of ivfflat_recall, cosine, 20
-- lists: half against full at the same probes, and exact at all lists.
CREATE FUNCTION topic_point(seed bigint, f int) RETURNS vector
  LANGUAGE sql IMMUTABLE AS $$
  SELECT l2_normalize(array_agg(pseudo((f % 25) * 1000 + d) + 0.6 * pseudo(f::bigint * 1000 + d + 50000000)
                                + 2.5 * pseudo(seed * 1000 + d + 7777777) ORDER BY d)::vector(128))
    FROM generate_series(1, 128) d $$;
CREATE TABLE items (id int PRIMARY KEY, emb vector(128));
INSERT INTO items
SELECT i, topic_point(i, floor(abs(pseudo(i + 55555555)) * 400)::int)
  FROM generate_series(1, 20000) i;
CREATE TABLE queries AS
SELECT j, topic_point(j + 900000, floor(abs(pseudo(j + 4444444)) * 400)::int) AS q
  FROM generate_series(1, 100) j;
ANALYZE items;
CREATE TABLE truth AS
SELECT j, array(SELECT id FROM items ORDER BY emb <=> q LIMIT 10) AS ids FROM queries;
CREATE FUNCTION recall(probes int) RETURNS float8
  LANGUAGE plpgsql AS $$
DECLARE r float8;
BEGIN
  PERFORM set_config('ivfflat.probes', probes::text, true);
  SET LOCAL enable_seqscan = off;
  SELECT avg(cardinality(array(SELECT unnest(t.ids) INTERSECT
                               SELECT unnest(array(SELECT id FROM items ORDER BY emb <=> q LIMIT 10)))))::float8 / 10
    INTO r FROM queries JOIN truth t USING (j);
  RETURN r;
END $$;
CREATE INDEX items_full ON items USING ivfflat (emb vector_cosine_ops) WITH (lists = 20, storage = 'full');
CREATE TABLE curve AS SELECT p, recall(p) AS full_r FROM unnest(ARRAY[1, 3, 10, 20]) p;
DROP INDEX items_full;
CREATE INDEX items_half ON items USING ivfflat (emb vector_cosine_ops) WITH (lists = 20, storage = 'half');
ALTER TABLE curve ADD COLUMN half_r float8;
UPDATE curve SET half_r = recall(p);
SELECT (SELECT half_r FROM curve WHERE p = 20) >= 0.99 AS half_near_exact_at_all_lists,
       bool_and(half_r >= full_r - 0.01) AS half_within_001_of_full,
       (SELECT half_r FROM curve WHERE p = 10) >= 0.95 AS half_095_at_10
  FROM curve;

DROP TABLE items, queries, truth, curve;
DROP FUNCTION recall, topic_point, pseudo;
