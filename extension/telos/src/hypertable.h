/*-------------------------------------------------------------------------
 *
 * hypertable.h
 *	  Hypertables: range-partitioned tables whose partitions ("chunks") the
 *	  engine creates, tracks and drops.
 *
 * A hypertable is a table PARTITION BY RANGE on one timestamptz column,
 * registered in telos.hypertable with a chunk interval and an origin; every
 * chunk covers [origin + k * interval, origin + (k + 1) * interval) for an
 * integer k, so chunk boundaries never depend on when or by whom a chunk was
 * made. A DEFAULT partition catches rows no chunk covers yet (the safety
 * net); telos.relocate_default() / telos.maintain() move them into chunks.
 *
 * This header is shared by hypertable.c (the catalog, the security context
 * in which chunks are made, create_hypertable) and chunk.c (chunk geometry,
 * creation, relocation, dropping).
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_HYPERTABLE_H
#define TELOS_HYPERTABLE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"

/*
 * Origin used when create_hypertable() is given none: Monday 2000-01-03
 * 00:00 UTC, so weekly chunks run Monday to Monday in UTC.
 */
#define HYPERTABLE_DEFAULT_ORIGIN_TEXT "2000-01-03 00:00:00+00"

/* Chunk intervals shorter than this are refused (chunk explosion). */
#define HYPERTABLE_MIN_INTERVAL_USECS	USECS_PER_MINUTE

/*
 * Upper bound on the chunks one call may create or check. Every chunk made
 * in a transaction holds a few heavyweight locks until commit (table, TOAST
 * table and index, each index), and the shared lock table is sized by
 * max_locks_per_transaction * max_connections (6,400 with the defaults):
 * one call making thousands of chunks would fail with "out of shared
 * memory" half way. The limit keeps a call well inside that budget; larger
 * ranges are done in several calls (transactions).
 */
#define HYPERTABLE_MAX_CHUNKS_PER_CALL	500

/*
 * What the engine knows about one hypertable, as loaded by hypertable_get().
 * Strings and the struct are palloc'd in the caller's memory context.
 */
typedef struct Hypertable
{
	Oid			relid;			/* the partitioned table */
	Oid			owner;			/* its owner: chunks are made as this role */
	Oid			nspid;			/* its schema: chunks are made there */
	char	   *nspname;
	char	   *relname;
	AttrNumber	time_attno;		/* the partition key column */
	char	   *time_column;	/* its current name */
	int64		interval_usecs; /* chunk width in microseconds, > 0 */
	TimestampTz origin;			/* chunk boundaries are origin + k * width */
	Oid			archive_fn;		/* archive hook (regprocedure) or InvalidOid */
} Hypertable;

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
 *		Restores the settings saved by telos_pin_gucs(nestlevel).
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
 * telos_catalog_owner
 *		The role that owns the engine's catalog tables (the role that ran
 *		CREATE EXTENSION): catalog rows are written as this role, so callers
 *		need no privilege on telos.hypertable / telos.chunk.
 */
extern Oid	telos_catalog_owner(void);

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
 * telos_arg_relid
 *		Argument argno of the calling SQL function as a relation OID: NULL
 *		is an error (22004) naming argname, and so is an OID that names no
 *		relation (42P01).
 */
extern Oid	telos_arg_relid(FunctionCallInfo fcinfo, int argno, const char *argname);

/*
 * telos_arg_notnull
 *		Errors (22004) when argument argno of the calling SQL function is
 *		NULL, naming it argname.
 */
extern void telos_arg_notnull(FunctionCallInfo fcinfo, int argno, const char *argname);

/*
 * hypertable_get
 *		Loads the hypertable registered for relid, with SPI connected by the
 *		caller; errors (42704) when relid is not a hypertable. Takes no lock.
 *		The result lives in the SPI procedure context: valid until
 *		SPI_finish().
 */
extern Hypertable *hypertable_get(Oid relid);

/*
 * hypertable_check_insert
 *		Errors (42501) unless the current user may INSERT into ht, the
 *		privilege that lets a role make chunks (ensure_chunks, maintain,
 *		relocate_default): chunks are only a place for rows it could write.
 */
extern void hypertable_check_insert(const Hypertable *ht);

/*
 * catalog_record_chunk
 *		Records in telos.chunk that chunk is the active chunk of ht for
 *		[start, end), replacing whatever row that range had (a chunk
 *		dropped or archived earlier) and any stale row naming the same
 *		relation. Runs as the catalog owner; SPI connected by the caller.
 */
extern void catalog_record_chunk(const Hypertable *ht, Oid chunk,
								 TimestampTz start, TimestampTz end);

/*
 * catalog_set_chunk_state
 *		Sets state (and relid, NULL when InvalidOid) of telos.chunk row id.
 *		Runs as the catalog owner; SPI connected by the caller.
 */
extern void catalog_set_chunk_state(int64 id, const char *state, Oid relid);

#endif							/* TELOS_HYPERTABLE_H */
