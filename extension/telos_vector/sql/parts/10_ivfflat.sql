-- 10_ivfflat.sql -- the ivfflat index access method and its operator
-- classes (src/ivfflat.h and src/ivf*.c; docs/vector.md).
--
-- pgvector's surface: USING ivfflat (col vector_l2_ops | vector_ip_ops |
-- vector_cosine_ops) WITH (lists = n), SET ivfflat.probes = n. The
-- reloption `lists` (default -1: rows / 1000, sqrt(rows) past a million
-- rows, at most 32768) and the GUCs ivfflat.probes (default 1) and
-- ivfflat.max_probes (default -1: a scan may widen into every list) are
-- registered by the library (src/ivfflat.c).

CREATE FUNCTION ivfflathandler(internal) RETURNS index_am_handler
	AS 'MODULE_PATHNAME' LANGUAGE C;

CREATE ACCESS METHOD ivfflat TYPE INDEX HANDLER ivfflathandler;

COMMENT ON ACCESS METHOD ivfflat IS 'inverted file index: k-means lists of vectors, for ORDER BY <distance> LIMIT k';

-- Support function 1 is the distance the index ranks by (an order-preserving
-- form of the operator's); support function 2, when present, means vectors
-- are stored and searched at unit length (cosine).
CREATE OPERATOR CLASS vector_l2_ops
	DEFAULT FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <-> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vector_l2_squared_distance(vector, vector);

CREATE OPERATOR CLASS vector_ip_ops
	FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <#> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vector_negative_inner_product(vector, vector);

CREATE OPERATOR CLASS vector_cosine_ops
	FOR TYPE vector USING ivfflat AS
	OPERATOR 1 <=> (vector, vector) FOR ORDER BY float_ops,
	FUNCTION 1 vector_negative_inner_product(vector, vector),
	FUNCTION 2 vector_norm(vector);

-- The planner's price of a distance: by dimension, plus a detoast for each
-- vector read from a table (src/ivfcost.c). Without it a 1536-dimension
-- distance would cost what an integer comparison costs, and an exact scan
-- (a tenant's rows through its btree index, then a sort) would look cheap
-- at any size; with it the planner picks the exact scan for small tenants
-- and the ivfflat scan for large ones.
CREATE FUNCTION vector_distance_support(internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

ALTER FUNCTION l2_distance(vector, vector) SUPPORT vector_distance_support;
ALTER FUNCTION cosine_distance(vector, vector) SUPPORT vector_distance_support;
ALTER FUNCTION inner_product(vector, vector) SUPPORT vector_distance_support;
ALTER FUNCTION vector_negative_inner_product(vector, vector) SUPPORT vector_distance_support;
ALTER FUNCTION vector_l2_squared_distance(vector, vector) SUPPORT vector_distance_support;
ALTER FUNCTION l1_distance(vector, vector) SUPPORT vector_distance_support;

-- What an ivfflat index holds: REINDEX when it is not trained (built on an
-- empty table: one list) or its lists have grown very unequal.
CREATE FUNCTION ivfflat_stats(index regclass,
	OUT lists integer, OUT dimensions integer, OUT trained boolean,
	OUT entries bigint, OUT entry_pages bigint, OUT largest_list bigint,
	OUT empty_lists integer)
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
