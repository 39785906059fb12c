--
-- version: CREATE EXTENSION telos puts its functions in schema telos,
-- telos.version() and telos.build_info() describe the loaded library, the
-- extension cannot be moved out of schema telos, and it drops and
-- re-creates cleanly.
--
-- Suites run in one database; start from no extension whatever ran before.
SET client_min_messages = warning;
DROP EXTENSION IF EXISTS telos CASCADE;
RESET client_min_messages;
CREATE EXTENSION telos;

-- The schema exists and holds the version functions.
SELECT nspname FROM pg_namespace WHERE nspname = 'telos';
SELECT p.proname, pg_get_function_arguments(p.oid) AS args,
       pg_get_function_result(p.oid) AS result, p.provolatile, p.proparallel
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'telos' AND p.proname IN ('version', 'build_info')
 ORDER BY p.proname;

-- Every function in schema telos is a member of the extension (DROP
-- EXTENSION drops it).
SELECT count(*) AS functions_not_members
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'telos'
   AND NOT EXISTS (SELECT 1 FROM pg_depend d
                   WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid
                     AND d.refclassid = 'pg_extension'::regclass
                     AND d.deptype = 'e');

-- The upgrade script from 0.1.0 yields exactly the objects of a fresh
-- install (compared by their descriptions).
CREATE TEMP TABLE fresh_members AS
SELECT pg_describe_object(d.classid, d.objid, d.objsubid) AS member
  FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND e.extname = 'telos';
SELECT count(*) > 10 AS fresh_install_has_the_engine FROM fresh_members;
DROP EXTENSION telos;
CREATE EXTENSION telos VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'telos';
ALTER EXTENSION telos UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'telos';
CREATE TEMP TABLE upgraded_members AS
SELECT pg_describe_object(d.classid, d.objid, d.objsubid) AS member
  FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND e.extname = 'telos';
(SELECT member, 'only fresh' AS side FROM fresh_members
 EXCEPT SELECT member, 'only fresh' FROM upgraded_members)
UNION ALL
(SELECT member, 'only upgraded' FROM upgraded_members
 EXCEPT SELECT member, 'only upgraded' FROM fresh_members)
ORDER BY 1;
DROP TABLE fresh_members, upgraded_members;

-- The catalog records the schema, the version and that it is not relocatable.
SELECT e.extname, n.nspname, e.extversion, e.extrelocatable
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'telos';

SELECT telos.version();

-- The library and the installed SQL objects are the same version.
SELECT telos.version() = e.extversion AS library_matches_sql
  FROM pg_extension e WHERE e.extname = 'telos';

-- An unqualified version() is still PostgreSQL's, not ours.
SELECT version() LIKE 'PostgreSQL %' AS pg_version_not_shadowed;

-- build_info: its keys, and the library was built for the running major.
SELECT k FROM jsonb_object_keys(telos.build_info()) AS k ORDER BY k;
SELECT telos.build_info() ->> 'version' = telos.version() AS same_version;
SELECT (telos.build_info() ->> 'pg_major')::int
       = current_setting('server_version_num')::int / 10000 AS built_for_this_major;
SELECT (telos.build_info() ->> 'pg_version_num')::int / 10000
       = (telos.build_info() ->> 'pg_major')::int AS version_num_consistent;
SELECT jsonb_typeof(telos.build_info() -> 'pg_version') AS pg_version_type;

-- Bad input: a second CREATE, another schema, a version that does not exist,
-- moving it to another schema.
CREATE EXTENSION telos;
ALTER EXTENSION telos SET SCHEMA public;
DROP EXTENSION telos;
CREATE EXTENSION telos SCHEMA public;
CREATE EXTENSION telos VERSION '9.9.9';

-- After DROP EXTENSION (and the failed CREATEs) no function is left behind.
SELECT count(*) AS functions_left
  FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
 WHERE n.nspname = 'telos';
SELECT telos.version();

-- The schema stays: CREATE EXTENSION made it but it is not a member of the
-- extension. Re-creating works with it there, and with it gone.
SELECT count(*) AS schema_left FROM pg_namespace WHERE nspname = 'telos';
CREATE EXTENSION telos SCHEMA telos;
SELECT telos.version();
DROP EXTENSION telos;
DROP SCHEMA telos;
CREATE EXTENSION IF NOT EXISTS telos;
CREATE EXTENSION IF NOT EXISTS telos;
SELECT telos.version();

-- Any role may call the engine's functions (USAGE on the schema, EXECUTE).
CREATE ROLE regress_telos_user NOSUPERUSER;
SET ROLE regress_telos_user;
SELECT telos.version(), telos.build_info() ->> 'version' AS build_version;
RESET ROLE;
DROP ROLE regress_telos_user;

DROP EXTENSION telos;
