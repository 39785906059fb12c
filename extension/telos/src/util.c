/*-------------------------------------------------------------------------
 *
 * util.c
 *	  Helpers every module of the engine shares (util.h): the catalog
 *	  owner, the security context the engine works in, pinned settings,
 *	  SPI and argument checks.
 *
 * Who does what. A caller needs only the privilege that the operation
 * stands for (owner to register a table, INSERT to make chunks, ...); the
 * work is then done as the owner of the table concerned (telos_become) or,
 * for catalog rows, as the catalog's owner (telos_catalog_become), so no
 * role needs privileges on the catalog. Both switches happen in C with
 * search_path pinned, the way PostgreSQL runs maintenance commands as a
 * table's owner.
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_class.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "util.h"

/* ------------------------------------------------------------------------
 * The catalog owner
 * ------------------------------------------------------------------------
 */

/*
 * telos_catalog_relid
 *		telos.<relname>, or InvalidOid (schema or table missing).
 */
Oid
telos_catalog_relid(const char *relname)
{
	Oid			nsp = get_namespace_oid(TELOS_SCHEMA_NAME, true);

	if (!OidIsValid(nsp))
		return InvalidOid;
	return get_relname_relid(relname, nsp);
}

/*
 * telos_catalog_owner
 *		relowner of telos.<relname>; a missing catalog table means an
 *		extension that is damaged or older than this library.
 */
Oid
telos_catalog_owner(const char *relname)
{
	Oid			relid = telos_catalog_relid(relname);
	HeapTuple	tup;
	Oid			owner;

	if (!OidIsValid(relid))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("catalog table %s.%s is missing", TELOS_SCHEMA_NAME, relname),
				 errhint("Update the extension (ALTER EXTENSION telos UPDATE), or reinstall it: DROP EXTENSION telos; CREATE EXTENSION telos.")));
	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", relid);
	owner = ((Form_pg_class) GETSTRUCT(tup))->relowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * telos_catalog_become
 *		Become the owner of telos.<relname> in a restricted operation and pin
 *		search_path. Unlike telos_become, FORCE ROW LEVEL SECURITY is not
 *		lifted: the catalog tables have no policies to lift.
 */
void
telos_catalog_become(const char *relname, TelosCatalogState *save)
{
	Oid			owner = telos_catalog_owner(relname);

	GetUserIdAndSecContext(&save->userid, &save->sec_context);
	SetUserIdAndSecContext(owner,
						   save->sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION);
	save->nestlevel = telos_pin_search_path();
}

/*
 * telos_catalog_restore
 *		The setting first, then the user, in the reverse order of the switch.
 */
void
telos_catalog_restore(const TelosCatalogState *save)
{
	AtEOXact_GUC(true, save->nestlevel);
	SetUserIdAndSecContext(save->userid, save->sec_context);
}

/* ------------------------------------------------------------------------
 * Security context and settings
 * ------------------------------------------------------------------------
 */

/*
 * telos_pin_search_path
 *		A new nest level with search_path = pg_catalog, pg_temp.
 */
int
telos_pin_search_path(void)
{
	int			nestlevel = NewGUCNestLevel();

	(void) set_config_option("search_path", "pg_catalog, pg_temp",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

/*
 * telos_pin_gucs
 *		Pin the settings our generated SQL depends on; see util.h.
 */
int
telos_pin_gucs(void)
{
	int			nestlevel = telos_pin_search_path();

	(void) set_config_option("TimeZone", "UTC",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("DateStyle", "ISO, YMD",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("IntervalStyle", "postgres",
							 PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nestlevel;
}

/*
 * telos_unpin_gucs
 *		Close the nest level opened by telos_pin_gucs or
 *		telos_pin_search_path.
 */
void
telos_unpin_gucs(int nestlevel)
{
	AtEOXact_GUC(true, nestlevel);
}

/*
 * telos_become
 *		Become userid (a table's owner) in a restricted operation that lifts
 *		FORCE ROW LEVEL SECURITY; see util.h.
 */
void
telos_become(Oid userid, TelosUserState *save)
{
	GetUserIdAndSecContext(&save->userid, &save->sec_context);
	SetUserIdAndSecContext(userid,
						   save->sec_context |
						   SECURITY_LOCAL_USERID_CHANGE |
						   SECURITY_RESTRICTED_OPERATION |
						   SECURITY_NOFORCE_RLS);
}

/*
 * telos_restore_user
 *		Back to the identity saved by telos_become.
 */
void
telos_restore_user(const TelosUserState *save)
{
	SetUserIdAndSecContext(save->userid, save->sec_context);
}

/* ------------------------------------------------------------------------
 * SPI and arguments
 * ------------------------------------------------------------------------
 */

/*
 * telos_spi_exec
 *		SPI_execute_with_args of one of our own statements (read-write, no
 *		row limit); a negative SPI result is an internal error.
 */
uint64
telos_spi_exec(const char *sql, int nargs, Oid *argtypes, Datum *values,
			   const char *nulls)
{
	int			ret;

	ret = SPI_execute_with_args(sql, nargs, argtypes, values, nulls, false, 0);
	if (ret < 0)
		elog(ERROR, "SPI_execute_with_args failed (%s): %s",
			 SPI_result_code_string(ret), sql);
	return SPI_processed;
}

/*
 * telos_spi_prepare_kept
 *		SPI_prepare + SPI_keepplan; see util.h.
 */
SPIPlanPtr
telos_spi_prepare_kept(const char *sql, int nargs, Oid *argtypes)
{
	SPIPlanPtr	plan = SPI_prepare(sql, nargs, argtypes);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "SPI_keepplan failed");
	return plan;
}

/*
 * telos_proc_tuple
 *		SearchSysCache1(PROCOID) that errors when fn is gone.
 */
HeapTuple
telos_proc_tuple(Oid fn)
{
	HeapTuple	tup = SearchSysCache1(PROCOID, ObjectIdGetDatum(fn));

	if (!HeapTupleIsValid(tup))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_FUNCTION),
				 errmsg("function with OID %u does not exist", fn)));
	return tup;
}

/*
 * telos_arg_notnull
 *		ERROR 22004 when argument argno is NULL.
 */
void
telos_arg_notnull(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", argname)));
}

/*
 * telos_arg_relid
 *		Argument argno as the OID of an existing relation.
 */
Oid
telos_arg_relid(FunctionCallInfo fcinfo, int argno, const char *argname)
{
	Oid			relid;

	telos_arg_notnull(fcinfo, argno, argname);
	relid = PG_GETARG_OID(argno);
	if (!SearchSysCacheExists1(RELOID, ObjectIdGetDatum(relid)))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	return relid;
}

/*
 * telos_require_owner
 *		Ownership of relid, or the error of a non-owner's ALTER TABLE.
 */
void
telos_require_owner(Oid relid)
{
	if (!pg_class_ownercheck(relid, GetUserId()))
		aclcheck_error(ACLCHECK_NOT_OWNER,
					   get_relkind_objtype(get_rel_relkind(relid)),
					   get_rel_name(relid));
}

/*
 * telos_require_column
 *		Column col of relid exists with type typid.
 */
void
telos_require_column(Oid relid, const char *col, Oid typid, const char *hint)
{
	AttrNumber	att = get_attnum(relid, col);
	Oid			actual;

	if (att == InvalidAttrNumber)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("column \"%s\" of relation \"%s\" does not exist",
						col, get_rel_name(relid)),
				 hint ? errhint("%s", hint) : 0));
	actual = get_atttype(relid, att);
	if (actual != typid)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("column \"%s\" of relation \"%s\" is of type %s, not %s",
						col, get_rel_name(relid), format_type_be(actual),
						format_type_be(typid))));
}

/*
 * telos_qualified_relname
 *		schema.name of relid, each part quoted as needed.
 */
char *
telos_qualified_relname(Oid relid)
{
	char	   *relname = get_rel_name(relid);

	if (relname == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("relation with OID %u does not exist", relid)));
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  relname);
}
