/*-------------------------------------------------------------------------
 *
 * archive_file.h
 *	  The archive file format: the segment rows of one archived chunk, with
 *	  checksums and an index of its segments.
 *
 * An archive file holds exactly the rows a compressed chunk's segment table
 * would (compress_build.h: segment-by columns, six metadata columns, one
 * bytea column blob per other column), serialised with each type's binary
 * send/receive functions. All integers are little endian.
 *
 *	 header   "TELOSARC", u16 format version (1), u16 natts, u32 header
 *			  length H, i64 chunk id, i64 range start, i64 range end
 *			  (timestamptz), u16 number of segment-by columns, then per
 *			  column: u32 type oid, i32 typmod, u8 name length, name;
 *			  u32 CRC-32C of the header's other bytes
 *	 records  from offset H, one per segment, back to back:
 *			  u32 payload length P, payload, u32 CRC-32C of the length and
 *			  the payload; the payload is, per column, u8 0 (NULL) or 1
 *			  followed by u32 length and the send function's bytes
 *	 index	  per segment: u64 offset, u32 record length, u32 row count,
 *			  i64 min time, i64 max time, and its segment-by values encoded
 *			  as in a payload -- so that a scan with pushed-down keys reads
 *			  only the records that can match
 *	 trailer  (last 44 bytes) u64 index offset, u32 index length, u32
 *			  segments, u64 rows, u32 CRC-32C of the index, u32 CRC-32C of
 *			  the whole file up to here (the file checksum, also kept in
 *			  telos.compressed_chunk.file_checksum), u32 CRC-32C of the
 *			  trailer's first 32 bytes, "TELOSEND"
 *
 * The reader trusts nothing: every length, offset and count is checked
 * against the file's size before use, the records must tile the space
 * between header and index exactly, and every checksum of what is read is
 * verified. A missing file is ERRCODE_UNDEFINED_FILE and anything else
 * wrong ERRCODE_DATA_CORRUPTED, each naming the file; a damaged file never
 * yields rows. A scan checks the header, trailer, index and each record it
 * reads; archive_file_verify also checks the whole-file checksum.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_ARCHIVE_FILE_H
#define TELOS_ARCHIVE_FILE_H

#include "postgres.h"

#include "access/tupdesc.h"
#include "datatype/timestamp.h"

/* Version of the format written by archive_file_create. */
#define ARCHIVE_FILE_VERSION	1

/* What a finished or verified file holds. */
typedef struct ArchiveFileSummary
{
	uint64		bytes;			/* file size */
	uint32		checksum;		/* CRC-32C of the file up to the trailer's checksum */
	int64		nsegments;
	int64		nrows;			/* sum of the segments' row counts */
	int64		chunk_id;		/* as recorded in the header */
} ArchiveFileSummary;

/* One segment of an open file, from its index. */
typedef struct ArchiveSegment
{
	uint64		offset;
	uint32		length;
	int32		count;
	TimestampTz min_time;
	TimestampTz max_time;
	Datum	   *segby;			/* nsegby values (of the expected layout's types) */
	bool	   *segby_null;
} ArchiveSegment;

typedef struct ArchiveFileWriter ArchiveFileWriter;
typedef struct ArchiveFile ArchiveFile;

/*
 * archive_file_create
 *		Starts archive file name (archive_store_create) for segment rows of
 *		layout (a segment row descriptor as compress_build.h describes it:
 *		the segment-by columns are those before _telos_count). Palloc'd in
 *		the current memory context.
 */
extern ArchiveFileWriter *archive_file_create(const char *name, TupleDesc layout,
											  int64 chunk_id, TimestampTz range_start,
											  TimestampTz range_end);

/* archive_file_temp_name -- the temporary name the file is written under. */
extern const char *archive_file_temp_name(const ArchiveFileWriter *w);

/*
 * archive_file_add
 *		Appends one segment row (values/isnull per layout). Its count and
 *		min/max time must not be NULL.
 */
extern void archive_file_add(ArchiveFileWriter *w, Datum *values, bool *isnull);

/*
 * archive_file_finish
 *		Writes index and trailer and makes the file durable under its name
 *		(archive_store_finish); fills *summary.
 */
extern void archive_file_finish(ArchiveFileWriter *w, ArchiveFileSummary *summary);

/*
 * archive_file_open
 *		Opens archive file name and checks its header, trailer and index.
 *		expected is the segment layout the caller reads: each of its columns
 *		must be in the file with the same name and type (the file may have
 *		more, which are skipped); NULL reads the file's own layout (as its
 *		header describes it: archive_file_layout). When expected_checksum is not NULL the
 *		file's recorded checksum must equal it (a file swapped for another
 *		is refused). Memory in the current context; the file is closed by
 *		archive_file_close or at transaction end.
 */
extern ArchiveFile *archive_file_open(const char *name, TupleDesc expected,
									  const uint32 *expected_checksum);

/* archive_file_layout -- the layout read (expected, or the file's own). */
extern TupleDesc archive_file_layout(const ArchiveFile *af);

/* archive_file_name -- the name the file was opened with. */
extern const char *archive_file_name(const ArchiveFile *af);

/* archive_file_nsegments -- number of segments. */
extern int	archive_file_nsegments(const ArchiveFile *af);

/* archive_file_nsegby -- number of segment-by columns of the expected layout. */
extern int	archive_file_nsegby(const ArchiveFile *af);

/* archive_file_segment -- the index entry of segment i (0-based). */
extern const ArchiveSegment *archive_file_segment(const ArchiveFile *af, int i);

/* archive_file_summary -- what the trailer and header say. */
extern void archive_file_summary(const ArchiveFile *af, ArchiveFileSummary *summary);

/*
 * archive_file_read
 *		Reads segment i into values/isnull (per the expected layout),
 *		checking its checksum and that it agrees with the index. By-reference
 *		values are palloc'd in the current memory context.
 */
extern void archive_file_read(ArchiveFile *af, int i, Datum *values, bool *isnull);

/* archive_file_close -- closes the file and frees what open allocated. */
extern void archive_file_close(ArchiveFile *af);

/*
 * archive_file_verify
 *		Opens (as archive_file_open; expected may be NULL), reads and checks every segment and the
 *		whole-file checksum; fills *summary. Errors as described above.
 */
extern void archive_file_verify(const char *name, TupleDesc expected,
								const uint32 *expected_checksum,
								ArchiveFileSummary *summary);

/*
 * archive_checksum_text / archive_checksum_parse
 *		The checksum as telos.compressed_chunk.file_checksum stores it,
 *		"crc32c:" and 8 hex digits (palloc'd); parse returns false for text
 *		of another form.
 */
extern char *archive_checksum_text(uint32 checksum);
extern bool archive_checksum_parse(const char *text, uint32 *checksum);

#endif							/* TELOS_ARCHIVE_FILE_H */
