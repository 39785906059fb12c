/*-------------------------------------------------------------------------
 *
 * chunk.h
 *	  Chunks of a hypertable: their geometry (which aligned range holds a
 *	  timestamp), the partitions a hypertable has, and making, filling and
 *	  dropping chunks.
 *
 * Locking protocol (why no two chunk makers deadlock with each other or
 * with writers): a chunk is made while holding SHARE UPDATE EXCLUSIVE on
 * the hypertable (the lock ATTACH PARTITION takes; it conflicts with itself,
 * so chunk makers of one hypertable queue up, but not with INSERT, COPY or
 * SELECT) and then ACCESS EXCLUSIVE on its default partition (ATTACH takes
 * it too, because the default's implicit constraint changes). Parent first,
 * then default -- the order inserts and DROP use as well. Locks are only
 * taken when something is to be made or moved; a call that finds every
 * chunk in place takes ACCESS SHARE on the hypertable and nothing else.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_CHUNK_H
#define TELOS_CHUNK_H

#include "hypertable.h"

#include "utils/timestamp.h"

/* One range partition of a hypertable, bounds [lo, hi). */
typedef struct PartRange
{
	Oid			relid;
	TimestampTz lo;				/* PG_INT64_MIN for MINVALUE */
	TimestampTz hi;				/* PG_INT64_MAX for MAXVALUE */
	bool		finite;			/* both bounds are plain values */
} PartRange;

/* The partitions of a hypertable, sorted by bound, and its default. */
typedef struct PartMap
{
	int			nparts;
	PartRange  *parts;
	Oid			default_relid;	/* InvalidOid when there is none */
} PartMap;

/* Where an aligned chunk range stands among the existing partitions. */
typedef enum ChunkSlot
{
	CHUNK_SLOT_FREE,			/* no partition overlaps it */
	CHUNK_SLOT_TAKEN,			/* a partition has exactly this range */
	CHUNK_SLOT_CONFLICT			/* a partition overlaps it, other bounds */
} ChunkSlot;

/*
 * chunk_interval_usecs
 *		Validates a chunk interval given as argument argname and returns its
 *		width in microseconds (a day counts 24 hours: chunks are aligned in
 *		UTC). Months (variable length), non-positive and sub-minute
 *		intervals are errors (22023).
 */
extern int64 chunk_interval_usecs(const Interval *interval, const char *argname);

/*
 * chunk_align
 *		The aligned range [*start, *end) of ht that holds ts. Returns false
 *		when there is none: ts is infinite, or the range would reach past
 *		the limits of timestamptz (4713 BC, 294276 AD) -- such rows can only
 *		live in the default partition.
 */
extern bool chunk_align(const Hypertable *ht, TimestampTz ts,
						TimestampTz *start, TimestampTz *end);

/*
 * chunk_partmap
 *		The partitions of relid as of now (the caller holds a lock on it),
 *		palloc'd in the current memory context.
 */
extern PartMap *chunk_partmap(Oid relid);

/*
 * chunk_slot
 *		Where [start, end) stands in map; *partition is set to the partition
 *		that has or overlaps the range (InvalidOid when free).
 */
extern ChunkSlot chunk_slot(const PartMap *map, TimestampTz start, TimestampTz end,
							Oid *partition);

/*
 * chunk_is_aligned
 *		Whether part is exactly one aligned chunk range of ht.
 */
extern bool chunk_is_aligned(const Hypertable *ht, const PartRange *part);

/*
 * chunk_copy_security
 *		Gives relation rel the row-level security of ht: ENABLE and FORCE as
 *		the hypertable has them, and a copy of each of its policies, so that
 *		reading the partition directly is filtered as reading through the
 *		hypertable is. Runs as the hypertable owner, SPI connected.
 */
extern void chunk_copy_security(const Hypertable *ht, Oid rel);

/*
 * chunk_create_default
 *		Makes the default partition of ht, <table>_default, with the same
 *		row-level security, and returns its OID. The caller holds SHARE
 *		UPDATE EXCLUSIVE on the hypertable, runs as its owner, SPI connected.
 */
extern Oid	chunk_create_default(const Hypertable *ht);

/*
 * chunk_ensure_range
 *		Makes every missing chunk of ht between the chunk holding from and
 *		the one holding to (inclusive), moving the rows the default
 *		partition has for them, and returns how many it made. A range that
 *		an existing partition overlaps without matching is an error (55000)
 *		when strict, else a WARNING and skipped. The caller has SPI
 *		connected and the GUCs pinned; the work is done as the owner.
 */
extern int	chunk_ensure_range(const Hypertable *ht, TimestampTz from, TimestampTz to,
							   bool strict);

/*
 * chunk_relocate_default
 *		Moves every row of the default partition of ht that an aligned chunk
 *		can hold into that chunk, making the chunks as needed; returns the
 *		number of rows moved and adds the chunks made to *created. Rows at
 *		infinite times, NULL times or in ranges an unaligned partition
 *		overlaps stay. SPI connected, GUCs pinned by the caller.
 */
extern int64 chunk_relocate_default(const Hypertable *ht, int *created);

/*
 * chunk_adopt_partitions
 *		Records in telos.chunk every aligned partition of ht that is not
 *		there yet (attached by hand) and returns how many it recorded; with
 *		require_aligned, an unaligned partition is an error (55000) instead
 *		of being left out. SPI connected, GUCs pinned by the caller.
 */
extern int	chunk_adopt_partitions(const Hypertable *ht, bool require_aligned);

#endif							/* TELOS_CHUNK_H */
