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

-- Upgrades: from 0.2.0 (the previous release) and from 0.1.0 (through the
-- chain 0.1.0 -> 0.2.0 -> current), ALTER EXTENSION UPDATE yields exactly
-- the objects of a fresh install, each with the same definition (columns,
-- constraints, indexes, policies, view text, function source and settings,
-- privileges, comments), compared as one fingerprint per member.
CREATE FUNCTION pg_temp.telos_members() RETURNS TABLE (member text, definition text)
LANGUAGE sql AS $$
SELECT pg_describe_object(d.classid, d.objid, d.objsubid),
       md5(concat_ws(' | ',
         obj_description(d.objid, d.classid::regclass::name),
         CASE d.classid
         WHEN 'pg_proc'::regclass THEN
           (SELECT concat_ws(' / ', pg_get_function_arguments(p.oid),
                             pg_get_function_result(p.oid), p.prokind, p.prosrc,
                             p.provolatile, p.proparallel, p.prosecdef, p.proisstrict,
                             p.proconfig::text, p.proacl::text)
              FROM pg_proc p WHERE p.oid = d.objid)
         WHEN 'pg_class'::regclass THEN
           (SELECT concat_ws(' / ', c.relkind, c.relacl::text, c.relrowsecurity,
                             c.relforcerowsecurity,
                             CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) END,
                             (SELECT string_agg(concat_ws(' ', a.attname, format_type(a.atttypid, a.atttypmod),
                                                          a.attnotnull, pg_get_expr(ad.adbin, ad.adrelid)),
                                                ', ' ORDER BY a.attnum)
                                FROM pg_attribute a
                                LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
                               WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped),
                             (SELECT string_agg(pg_get_constraintdef(k.oid), ', ' ORDER BY k.conname)
                                FROM pg_constraint k WHERE k.conrelid = c.oid),
                             (SELECT string_agg(pg_get_indexdef(i.indexrelid), ', ' ORDER BY 1)
                                FROM pg_index i WHERE i.indrelid = c.oid),
                             (SELECT string_agg(concat_ws(' ', pol.polname, pol.polcmd, pol.polroles::text,
                                                          pg_get_expr(pol.polqual, pol.polrelid),
                                                          pg_get_expr(pol.polwithcheck, pol.polrelid)),
                                                ', ' ORDER BY pol.polname)
                                FROM pg_policy pol WHERE pol.polrelid = c.oid))
              FROM pg_class c WHERE c.oid = d.objid)
         END))
  FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND e.extname = 'telos'
$$;
CREATE TEMP TABLE fresh_members AS SELECT * FROM pg_temp.telos_members();
SELECT count(*) > 10 AS fresh_install_has_the_engine FROM fresh_members;
SELECT extversion AS fresh_version FROM pg_extension WHERE extname = 'telos';

DROP EXTENSION telos;
CREATE EXTENSION telos VERSION '0.2.0';
SELECT extversion FROM pg_extension WHERE extname = 'telos';
ALTER EXTENSION telos UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'telos';
CREATE TEMP TABLE upgraded_members AS SELECT * FROM pg_temp.telos_members();
(SELECT member, definition, 'only fresh' AS side FROM fresh_members
 EXCEPT SELECT member, definition, 'only fresh' FROM upgraded_members)
UNION ALL
(SELECT member, definition, 'only upgraded' FROM upgraded_members
 EXCEPT SELECT member, definition, 'only upgraded' FROM fresh_members)
ORDER BY 1, 3;
DROP TABLE upgraded_members;

DROP EXTENSION telos;
CREATE EXTENSION telos VERSION '0.1.0';
SELECT extversion FROM pg_extension WHERE extname = 'telos';
ALTER EXTENSION telos UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'telos';
CREATE TEMP TABLE upgraded_members AS SELECT * FROM pg_temp.telos_members();
(SELECT member, definition, 'only fresh' AS side FROM fresh_members
 EXCEPT SELECT member, definition, 'only fresh' FROM upgraded_members)
UNION ALL
(SELECT member, definition, 'only upgraded' FROM upgraded_members
 EXCEPT SELECT member, definition, 'only upgraded' FROM fresh_members)
ORDER BY 1, 3;
DROP TABLE fresh_members, upgraded_members;

-- Every step of the chain is installed: each version can be created and
-- updated to the current one.
SELECT source, target, path FROM pg_extension_update_paths('telos')
 WHERE path IS NOT NULL ORDER BY source, target;

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
