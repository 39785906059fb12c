/*-------------------------------------------------------------------------
 *
 * chunk_swap.h
 *	  Replacing the table that holds a chunk's range (heap table, compressed
 *	  foreign table, archived foreign table) by another, atomically.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_CHUNK_SWAP_H
#define TELOS_CHUNK_SWAP_H

#include "postgres.h"

/*
 * chunk_swap
 *		In the current transaction: detaches the current table of telos.chunk
 *		row chunk_id from its hypertable, records new_relid and new_state
 *		('active', 'compressed', 'archived') in telos.chunk, drops the old
 *		table with the objects that depend on it automatically (the segment
 *		and delta tables of a compressed chunk depend on its foreign table:
 *		see compress_set_parent_table in compress.h to keep one), gives
 *		new_relid the old table's name when both are in the same schema,
 *		attaches it with the same bounds (which makes the hypertable's
 *		indexes on a heap table) and gives it the hypertable's row-level
 *		security (chunk_copy_security; a foreign table cannot have any: the
 *		hypertable's policies still apply to reads through it).
 *		new_relid must have the hypertable's columns, be owned by the
 *		hypertable's owner and not be attached yet. Takes ACCESS EXCLUSIVE
 *		on the hypertable (DETACH needs it; taken before the old table's, the
 *		order DROP uses) and on the old table: call it last in the
 *		transaction, the locks stop readers until commit. The caller need
 *		not be connected to SPI nor run as any particular role: the work is
 *		done as the hypertable owner (ALTER TABLE, DROP) and the catalog
 *		owner (telos.chunk); the caller has checked the user may do it.
 *		Atomic with the transaction: an error anywhere leaves the old table
 *		in place.
 */
extern void chunk_swap(int64 chunk_id, Oid new_relid, const char *new_state);

#endif							/* TELOS_CHUNK_SWAP_H */
