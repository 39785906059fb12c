--
-- vector_install: CREATE EXTENSION telos_vector installs the type and its
-- functions into the current schema (public here, as the seed's DDL
-- expects), every function is immutable, strict and parallel safe, the
-- extension is relocatable, and it drops and re-creates cleanly.
--
-- Suites run in one database; start from no extension whatever ran before.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS telos_vector CASCADE;
RESET client_min_messages;
CREATE EXTENSION telos_vector;

SELECT e.extname, e.extversion, n.nspname, e.extrelocatable
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'telos_vector';

-- The type: variable length, stored out of line uncompressed, with a typmod.
SELECT typname, typlen, typstorage, typalign, typmodin::text, typreceive::text, typsend::text
  FROM pg_type WHERE typname = 'vector';

-- Every function of the type is immutable, strict, parallel safe (what the
-- planner needs for parallel scans and index expressions). (The ivfflat
-- part's functions are listed by its own suites.)
SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result,
       p.provolatile, p.proisstrict, p.proparallel
  FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
  JOIN pg_extension e ON e.oid = d.refobjid AND d.refclassid = 'pg_extension'::regclass
 WHERE e.extname = 'telos_vector' AND p.prokind = 'f'
   AND p.pronamespace = 'public'::regnamespace
   AND p.proname IN ('array_to_vector', 'cosine_distance', 'inner_product', 'l1_distance',
       'l2_distance', 'l2_normalize', 'subvector', 'vector', 'vector_accum', 'vector_add',
       'vector_avg', 'vector_cmp', 'vector_combine', 'vector_concat', 'vector_dims',
       'vector_eq', 'vector_ge', 'vector_gt', 'vector_in', 'vector_l2_squared_distance',
       'vector_le', 'vector_lt', 'vector_mul', 'vector_ne', 'vector_negative_inner_product',
       'vector_norm', 'vector_out', 'vector_recv', 'vector_send', 'vector_sub', 'vector_sum',
       'vector_to_float4', 'vector_to_float8', 'vector_to_numeric', 'vector_typmod_in')
 ORDER BY 1, 2;

-- The aggregates can run in parallel (they have a combine function).
SELECT a.aggfnoid::regprocedure, a.aggtransfn, a.aggcombinefn, a.aggfinalfn,
       a.aggtranstype::regtype, a.agginitval, p.proparallel
  FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid
 WHERE a.aggtranstype = 'double precision[]'::regtype AND a.aggtransfn::text LIKE 'vector%'
 ORDER BY 1::text;

-- The operators.
SELECT o.oprname, o.oprleft::regtype, o.oprright::regtype, o.oprresult::regtype,
       o.oprcode, o.oprcom::regoperator
  FROM pg_operator o
 WHERE o.oprleft = 'vector'::regtype
 ORDER BY 1, 5::text;

-- The casts and their contexts (a = assignment, i = implicit, e = explicit).
SELECT c.castsource::regtype, c.casttarget::regtype, c.castfunc::regproc, c.castcontext
  FROM pg_cast c
 WHERE c.castsource = 'vector'::regtype OR c.casttarget = 'vector'::regtype
 ORDER BY 1::text, 2::text;

-- The default btree class (ORDER BY, DISTINCT, UNIQUE).
SELECT c.opcname, a.amname, c.opcdefault
  FROM pg_opclass c JOIN pg_am a ON a.oid = c.opcmethod
 WHERE c.opcintype = 'vector'::regtype AND c.opcname = 'vector_ops';

-- The seed's column type works verbatim.
CREATE TABLE install_t (id int, session_embedding vector(1536));
SELECT format_type(atttypid, atttypmod) FROM pg_attribute
 WHERE attrelid = 'install_t'::regclass AND attname = 'session_embedding';
INSERT INTO install_t SELECT 1, array_fill(0.5::real, ARRAY[1536])::vector;
SELECT id, vector_dims(session_embedding) FROM install_t;
DROP TABLE install_t;

-- Relocatable: it moves to another schema and back.
CREATE SCHEMA vec_elsewhere;
ALTER EXTENSION telos_vector SET SCHEMA vec_elsewhere;
SELECT '[1,2]'::vec_elsewhere.vector;
SELECT vec_elsewhere.l2_distance('[0,0]', '[3,4]');
ALTER EXTENSION telos_vector SET SCHEMA public;
DROP SCHEMA vec_elsewhere;

-- It drops (with the columns using it, by CASCADE) and re-creates.
CREATE TABLE install_t (v vector(3));
DROP EXTENSION telos_vector;
SET client_min_messages = warning;
DROP EXTENSION telos_vector CASCADE;
RESET client_min_messages;
CREATE EXTENSION telos_vector;
SELECT '[1,2,3]'::vector;
