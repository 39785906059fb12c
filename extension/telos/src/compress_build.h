/*-------------------------------------------------------------------------
 *
 * compress_build.h
 *	  Building the segment rows of a compressed chunk from the rows of a
 *	  table (a heap chunk, or a compressed chunk's segments and delta).
 *
 * Segment row layout (the columns of a segment table; archive files hold
 * exactly these rows), for a hypertable with segment-by columns S and other
 * columns C (attnum order, dropped columns skipped):
 *	 1. each column of S, same name and type as in the hypertable;
 *	 2. _telos_count int4, _telos_min_time timestamptz, _telos_max_time
 *		timestamptz, _telos_sum float8, _telos_min float8, _telos_max float8
 *		(stats of the stats column over its non-NULL values; NULL when there
 *		is no stats column or all its values are NULL);
 *	 3. each column of C as bytea: its column blob (colblob.h).
 * Rows are grouped by S and ordered by time within a group; a segment holds
 * 1..COLBLOB_MAX_ROWS rows of one group.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_COMPRESS_BUILD_H
#define TELOS_COMPRESS_BUILD_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "executor/tuptable.h"
#include "nodes/pg_list.h"

/* Number of metadata columns between the segment-by and the blob columns. */
#define SEG_NMETA			6
#define SEG_COUNT_NAME		"_telos_count"
#define SEG_MIN_TIME_NAME	"_telos_min_time"
#define SEG_MAX_TIME_NAME	"_telos_max_time"
#define SEG_SUM_NAME		"_telos_sum"
#define SEG_MIN_NAME		"_telos_min"
#define SEG_MAX_NAME		"_telos_max"

/*
 * The compression settings of a hypertable, resolved against its current
 * columns (as loaded by compress_layout_get). palloc'd in the caller's
 * context.
 */
typedef struct SegLayout
{
	Oid			hypertable;
	TupleDesc	htdesc;			/* the hypertable's descriptor (copy) */
	int			nsegby;
	AttrNumber *segby_attno;	/* hypertable attnums of the segment-by columns */
	AttrNumber	time_attno;		/* hypertable attnum of the order-by (time) column */
	AttrNumber	stats_attno;	/* hypertable attnum of the stats column, or 0 */
	int			nblob;
	AttrNumber *blob_attno;		/* hypertable attnums of the blob columns */
	TupleDesc	segdesc;		/* the segment row descriptor */
} SegLayout;

/*
 * compress_layout_get
 *		The segment layout of hypertable (its telos.compression_settings row,
 *		or the defaults when it has none: segment by those of tenant_id and
 *		metric_type that exist, stats column "value" when it is float8).
 *		SPI need not be connected. Errors when a configured column is gone.
 */
extern SegLayout *compress_layout_get(Oid hypertable);

/*
 * compress_build_segments
 *		Reads every row of source_relid (any table whose columns are those of
 *		the hypertable: a heap chunk, a delta table, a compressed chunk's
 *		foreign table), sorted by segment-by columns then time, and calls
 *		emit(arg, values, isnull) once per segment row (layout above; the
 *		arrays are valid only during the call). Runs as the current user
 *		(the caller switches to the table owner); SPI need not be connected.
 *		A segment-by column may be NULL (NULLs form one group, stored as a
 *		NULL segment-by value); the time column must not be (chunks never
 *		hold NULL times: an error otherwise).
 */
extern void compress_build_segments(Oid source_relid, Oid hypertable,
									void (*emit) (void *arg, Datum *values, bool *isnull),
									void *arg);

/*
 * compress_build_segments_ex
 *		compress_build_segments with the layout given and row/segment counts
 *		returned (either pointer may be NULL).
 */
extern void compress_build_segments_ex(Oid source_relid, const SegLayout *layout,
									   void (*emit) (void *arg, Datum *values, bool *isnull),
									   void *arg, int64 *nrows, int64 *nsegments);

/*
 * compress_scan_rows
 *		Calls fn(arg, slot) for every row of source_relid, as a slot whose
 *		descriptor is target (or one with the same columns in the same
 *		order: a heap table like target passes its own slots), columns
 *		matched by name (a column the source
 *		lacks, or a dropped one, is NULL; a column of another type is an
 *		error). The source may be a heap table (read with a snapshot taken
 *		now: the caller holds a lock that keeps writers out), the foreign
 *		table of a compressed chunk (its segment rows decoded, then its delta
 *		rows) or any other relation (read through SPI, e.g. an archived
 *		chunk through its FDW). The slot's contents are valid during the
 *		call only. Implemented in compress_scan.c.
 */
extern void compress_scan_rows(Oid source_relid, TupleDesc target,
							   void (*fn) (void *arg, TupleTableSlot *slot),
							   void *arg);

/*
 * compress_segment_rows
 *		Calls fn(arg, slot) for every row stored in segment table
 *		segments_relid (decoded), as compress_scan_rows does; relname names
 *		the chunk in corruption errors. time_attno (1-based in target, 0:
 *		none) is the time column, whose values are checked against each
 *		segment's time range. Returns the number of rows.
 */
extern int64 compress_segment_rows(Oid segments_relid, TupleDesc target,
								   AttrNumber time_attno, const char *relname,
								   void (*fn) (void *arg, TupleTableSlot *slot),
								   void *arg);

#endif							/* TELOS_COMPRESS_BUILD_H */
