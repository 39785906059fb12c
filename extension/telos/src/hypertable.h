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
 * This header is shared by hypertable.c (the catalog, create_hypertable)
 * and chunk.c (chunk geometry, creation, relocation, dropping); the
 * security context in which chunks are made is in util.h.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_HYPERTABLE_H
#define TELOS_HYPERTABLE_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"

#include "util.h"

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
