/* 00_base.sql -- schema grant, version functions (since 0.1.0). */

/*
 * The engine's functions are for every role (the app's migrations create
 * hypertables through them), as pg_catalog's are; a function that must not
 * be called by everyone REVOKEs EXECUTE FROM PUBLIC on its own. CREATE
 * EXTENSION makes the schema owned by the installing superuser with no
 * privileges for anyone else, hence the grant.
 */
GRANT USAGE ON SCHEMA telos TO PUBLIC;

/*
 * telos.version() -- the version of the loaded library, e.g. '0.1.0'.
 * STABLE, not IMMUTABLE: the answer changes when the library is upgraded,
 * so it must not be folded into stored expressions.
 * Call it qualified: an unqualified version() is pg_catalog.version().
 */
CREATE FUNCTION telos.version() RETURNS text
	AS 'MODULE_PATHNAME', 'telos_version'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION telos.version() IS
	'version of the loaded telos library';

/*
 * telos.build_info() -- the build of the loaded library as jsonb:
 * {"version", "pg_major", "pg_version_num", "pg_version"}.
 */
CREATE FUNCTION telos.build_info() RETURNS jsonb
	AS 'MODULE_PATHNAME', 'telos_build_info'
	LANGUAGE C STABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION telos.build_info() IS
	'version of the loaded telos library and the PostgreSQL it was built against';
