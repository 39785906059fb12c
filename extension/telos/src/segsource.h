/*-------------------------------------------------------------------------
 *
 * segsource.h
 *	  Segment sources: where the telos FDW reads the segment rows of a
 *	  compressed or archived chunk from.
 *
 * A compressed chunk keeps its rows as "segment rows": up to 1000 rows of
 * one combination of segment-by values, ordered by time, stored as one row
 * whose layout is
 *	 1. each segment-by column, same name and type as in the hypertable;
 *	 2. _telos_count int4, _telos_min_time timestamptz, _telos_max_time
 *		timestamptz, _telos_sum float8, _telos_min float8, _telos_max float8;
 *	 3. one bytea per other column of the hypertable (the column blob), same
 *		name, in attnum order.
 * Those rows live either in a segment table (storage 'table',
 * segsource_table.c) or in an archive file (storage 'file',
 * archive_file.c). The FDW does not care which: it opens a source, tells it
 * what it pushed down, and pulls segment rows.
 *
 * Keys are a hint. A source MAY use them to skip segments (an index scan, a
 * file's block index) but may also return segments that do not match: the
 * FDW re-checks every segment it gets, and the executor re-checks every row.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_SEGSOURCE_H
#define TELOS_SEGSOURCE_H

#include "postgres.h"

#include "access/attnum.h"
#include "access/tupdesc.h"
#include "utils/timestamp.h"

/* What the FDW pushed down; sources MAY use it to skip segments. */
typedef struct SegScanKeys
{
	int			nkeys;			/* segment-by equality keys */
	AttrNumber *seg_attno;		/* 1-based attno in the segment layout */
	Datum	   *values;
	Oid		   *eq_opfuncs;		/* the equality operator's function */
	Oid		   *collations;
	bool		has_lo,
				has_hi;			/* time bounds, inclusive flags */
	TimestampTz lo,
				hi;
	bool		lo_incl,
				hi_incl;
} SegScanKeys;

typedef struct SegSource SegSource;

struct SegSource
{
	TupleDesc	layout;			/* segment row descriptor (see above) */

	/*
	 * Starts (or restarts: also used to rescan) reading segment rows with
	 * the given keys. The keys and the arrays they point to stay valid until
	 * the next begin or end.
	 */
	void		(*begin) (SegSource *src, const SegScanKeys *keys);

	/*
	 * Fills values/isnull (layout->natts entries) with the next segment row;
	 * false at the end. Datums stay valid until the next call of next,
	 * begin or end.
	 */
	bool		(*next) (SegSource *src, Datum *values, bool *isnull);

	/* Releases what the source holds (relations, files, memory). */
	void		(*end) (SegSource *src);
};

/*
 * segsource_table_open
 *		A source over segment table segments_relid (storage 'table'), opened
 *		with AccessShareLock until the end of the transaction. Uses an index
 *		scan on (segment-by..., _telos_min_time) when equality keys on the
 *		leading segment-by columns are given, a sequential scan otherwise.
 *		Allocated in the current memory context.
 */
extern SegSource *segsource_table_open(Oid segments_relid);

/*
 * segsource_file_open
 *		A source over archive file path (storage 'file'); expected is the
 *		segment row layout the file must have. Errors naming the file when it
 *		is missing, corrupted or of another layout. Implemented in
 *		archive_file.c.
 */
extern SegSource *segsource_file_open(const char *path, TupleDesc expected);

#endif							/* TELOS_SEGSOURCE_H */
