/*-------------------------------------------------------------------------
 *
 * util.h
 *	  Helpers every module of the engine shares: the owner of the catalog
 *	  tables, switching to another role for a security-restricted
 *	  operation, pinned settings, running our own SQL through SPI, and
 *	  checking the arguments of SQL-callable functions.
 *
 * The engine's catalog tables (telos.hypertable, telos.chunk, telos.jobs,
 * telos.rollup_policy, ...) are readable or writable by their owner only;
 * callers get no privilege on them. The engine checks what a caller may do
 * and then does the catalog work as the catalog owner, with search_path
 * pinned so that no object of the caller's can hijack a name in our
 * queries. These helpers are the one implementation of that switch.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_UTIL_H
#define TELOS_UTIL_H

#include "postgres.h"

#include "access/htup.h"
#include "executor/spi.h"
#include "fmgr.h"

/*
 * Saved identity for telos_become() / telos_restore_user(). The caller owns
 * the struct (usually on the stack).
 */
typedef struct TelosUserState
{
	Oid			userid;
	int			sec_context;
} TelosUserState;

/*
 * Saved identity and settings for telos_catalog_become() /
 * telos_catalog_restore(). The caller owns the struct (usually on the
 * stack).
 */
typedef struct TelosCatalogState
{
	Oid			userid;
	int			sec_context;
	int			nestlevel;
} TelosCatalogState;

/*
 * telos_catalog_relid
 *		The OID of the relation telos.<relname>, or InvalidOid when it (or
 *		the schema) does not exist: an older version of the extension may
 *		lack a module's catalog.
 */
extern Oid	telos_catalog_relid(const char *relname);

/*
 * telos_catalog_owner
 *		The owner of the catalog table telos.<relname> (the role that ran
 *		CREATE EXTENSION, which owns every catalog table of the engine).
 *		Errors (55000) with a hint to update or reinstall the extension when
 *		the table is missing.
 */
extern Oid	telos_catalog_owner(const char *relname);

/*
 * telos_catalog_become
 *		Switches the current user to the owner of telos.<relname>
 *		(telos_catalog_owner) until telos_catalog_restore(), as a local,
 *		security-restricted operation (nothing run meanwhile may change the
 *		role or the session), and pins search_path to pg_catalog, pg_temp.
 *		For statements that touch only the catalogs; the caller has checked
 *		that its caller may cause them. An ERROR in between needs no
 *		cleanup: (sub)transaction abort restores the user and the setting.
 *		Does not connect to SPI.
 */
extern void telos_catalog_become(const char *relname, TelosCatalogState *save);

/*
 * telos_catalog_restore
 *		Undoes telos_catalog_become(): the setting, then the user.
 */
extern void telos_catalog_restore(const TelosCatalogState *save);

/*
 * telos_pin_search_path
 *		Opens a GUC nest level and pins search_path to pg_catalog, pg_temp,
 *		so that the names in our statements resolve only to the system
 *		catalogs (and the schema-qualified objects of the engine). Returns
 *		the nest level for telos_unpin_gucs(); settings the caller changes
 *		meanwhile with GUC_ACTION_SAVE revert with it. An error unwinds it
 *		by itself.
 */
extern int	telos_pin_search_path(void);

/*
 * telos_pin_gucs
 *		Opens a GUC nest level and pins search_path (pg_catalog, pg_temp),
 *		TimeZone (UTC), DateStyle (ISO) and IntervalStyle (postgres) for the
 *		SQL the engine builds and runs: names resolve only to the system
 *		catalogs, and timestamps print as unambiguous UTC literals. Returns
 *		the nest level for telos_unpin_gucs(). An error unwinds it by itself.
 */
extern int	telos_pin_gucs(void);

/*
 * telos_unpin_gucs
 *		Restores the settings saved since telos_pin_gucs() or
 *		telos_pin_search_path() returned nestlevel.
 */
extern void telos_unpin_gucs(int nestlevel);

/*
 * telos_become
 *		Switches the current user to userid until telos_restore_user(),
 *		saving the previous identity in *save. The switch is marked local
 *		(SET ROLE is refused meanwhile), a security-restricted operation (as
 *		VACUUM and CREATE INDEX run the owner's code) and, when userid owns
 *		a table, lifts FORCE ROW LEVEL SECURITY for it as referential
 *		integrity checks do: the owner then sees every row, which moving
 *		rows between partitions needs. An error restores the identity by
 *		itself (transaction or subtransaction abort).
 */
extern void telos_become(Oid userid, TelosUserState *save);

/*
 * telos_restore_user
 *		Undoes telos_become().
 */
extern void telos_restore_user(const TelosUserState *save);

/*
 * telos_spi_exec
 *		Runs sql through SPI (connected by the caller) with nargs parameters
 *		of the given types (nulls as in SPI: ' ' or 'n', NULL = none null).
 *		Errors propagate; a failure SPI reports as a code becomes an
 *		internal error. Returns SPI_processed.
 */
extern uint64 telos_spi_exec(const char *sql, int nargs, Oid *argtypes,
							 Datum *values, const char *nulls);

/*
 * telos_spi_prepare_kept
 *		Prepares sql (SPI connected by the caller) with nargs parameters of
 *		the given types and keeps the plan for the life of the backend
 *		(SPI_keepplan), for statements run on every trigger call; the plan
 *		cache re-plans it when the objects it uses change. ERROR on failure.
 */
extern SPIPlanPtr telos_spi_prepare_kept(const char *sql, int nargs, Oid *argtypes);

/*
 * telos_proc_tuple
 *		The pg_proc tuple of function fn from the syscache; errors (42883)
 *		when there is none. The caller releases it with ReleaseSysCache().
 */
extern HeapTuple telos_proc_tuple(Oid fn);

/*
 * telos_arg_notnull
 *		Errors (22004) when argument argno of the calling SQL function is
 *		NULL, naming it argname ("<argname> must not be null").
 */
extern void telos_arg_notnull(FunctionCallInfo fcinfo, int argno, const char *argname);

/*
 * telos_arg_relid
 *		Argument argno of the calling SQL function as a relation OID: NULL
 *		is an error (22004) naming argname, and so is an OID that names no
 *		relation (42P01).
 */
extern Oid	telos_arg_relid(FunctionCallInfo fcinfo, int argno, const char *argname);

/*
 * telos_require_owner
 *		Errors (42501, as ALTER TABLE does) unless the current user owns
 *		relation relid.
 */
extern void telos_require_owner(Oid relid);

/*
 * telos_require_column
 *		Errors unless relation relid has a column col (42703, with hint
 *		when not NULL) of type typid (42804).
 */
extern void telos_require_column(Oid relid, const char *col, Oid typid,
								 const char *hint);

/*
 * telos_qualified_relname
 *		The quoted, schema-qualified name of relation relid, palloc'd in the
 *		current memory context; errors (42P01) when it does not exist.
 */
extern char *telos_qualified_relname(Oid relid);

#endif							/* TELOS_UTIL_H */
