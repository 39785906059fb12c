/*-------------------------------------------------------------------------
 *
 * archive_file.c
 *	  Writing and reading archive files (format in archive_file.h).
 *
 * The writer streams records to the store as the segment builder emits
 * them and keeps only the index in memory. The reader opens a file by
 * reading its header, trailer and index -- a few kilobytes however large
 * the file -- and then reads the records a scan asks for, one at a time,
 * into a buffer that grows to the largest record read.
 *
 * Parsing goes through a bounds-checked cursor: every read of n bytes
 * first checks that n bytes remain, so that no field of a damaged file can
 * send the reader outside what it read. Values are decoded by the type's
 * receive function (the same that COPY BINARY trusts with client input),
 * after the record's checksum has matched.
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "port/pg_crc32c.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "archive_file.h"
#include "archive_store.h"
#include "colblob.h"
#include "compress_build.h"

#define HEADER_MAGIC	"TELOSARC"
#define TRAILER_MAGIC	"TELOSEND"
#define MAGIC_LEN		8
#define HEADER_FIXED	42		/* bytes before the column descriptions */
#define TRAILER_LEN		44
#define INDEX_FIXED		32		/* bytes of an index entry before its values */
#define RECORD_MIN		8		/* length + checksum of an empty payload */
#define INDEX_MAX		(MaxAllocSize / 2)	/* largest index written or read */

/* The largest header we accept: MaxTupleAttributeNumber columns. */
#define HEADER_MAX		(HEADER_FIXED + 4 + MaxTupleAttributeNumber * (9 + NAMEDATALEN))

/* Reads of the whole file (verify) go in pieces of this size. */
#define VERIFY_BUF		(1024 * 1024)

/* How a column's values are turned into bytes and back. */
typedef struct ColumnIO
{
	Oid			typid;
	int32		typmod;
	bool		is_bytea;		/* raw bytes, no function call */
	FmgrInfo	func;			/* send (writer) or receive (reader) */
	Oid			ioparam;		/* receive only */
} ColumnIO;

struct ArchiveFileWriter
{
	ArchiveWriter *store;
	char	   *name;
	TupleDesc	layout;
	int			natts;
	int			nsegby;
	int			count_att;		/* 0-based positions in layout */
	int			min_att;
	int			max_att;
	ColumnIO   *io;
	pg_crc32c	file_crc;
	StringInfoData rec;			/* the record being built */
	StringInfoData index;		/* the index, built in memory */
	int64		nsegments;
	int64		nrows;
	MemoryContext tmpcxt;		/* send results, reset per record */
};

struct ArchiveFile
{
	char	   *name;
	ArchiveObject *obj;
	uint64		size;
	uint32		header_len;
	int64		chunk_id;
	TimestampTz range_start;
	TimestampTz range_end;

	/* The expected layout and how the file's columns map onto it. */
	TupleDesc	expected;
	int			natts;			/* expected->natts */
	int			nsegby;
	int			count_att;
	int			min_att;
	int			max_att;
	ColumnIO   *io;				/* per expected column */
	int			file_natts;
	int		   *file_to_expected;	/* per file column: index or -1 */

	/* Trailer and index. */
	uint64		index_offset;
	uint32		index_len;
	uint32		nsegments;
	uint64		nrows;
	uint32		file_crc;
	ArchiveSegment *segs;

	char	   *recbuf;			/* the record being read */
	size_t		recbuf_cap;
	int			cur_segment;	/* for the error context, -1 when none */
};

/* ------------------------------------------------------------------------
 * Little-endian integers
 * ------------------------------------------------------------------------
 */

static void
put_u8(StringInfo s, uint8 v)
{
	appendStringInfoCharMacro(s, (char) v);
}

static void
put_u16(StringInfo s, uint16 v)
{
	char		b[2] = {(char) v, (char) (v >> 8)};

	appendBinaryStringInfo(s, b, 2);
}

static void
put_u32(StringInfo s, uint32 v)
{
	char		b[4];

	for (int i = 0; i < 4; i++)
		b[i] = (char) (v >> (8 * i));
	appendBinaryStringInfo(s, b, 4);
}

static void
put_u64(StringInfo s, uint64 v)
{
	char		b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (char) (v >> (8 * i));
	appendBinaryStringInfo(s, b, 8);
}

static uint32
get_le32(const char *p)
{
	const unsigned char *u = (const unsigned char *) p;

	return (uint32) u[0] | (uint32) u[1] << 8 | (uint32) u[2] << 16 | (uint32) u[3] << 24;
}

static uint64
get_le64(const char *p)
{
	return (uint64) get_le32(p) | (uint64) get_le32(p + 4) << 32;
}

static uint32
crc_of(const char *p, size_t len)
{
	pg_crc32c	crc;

	INIT_CRC32C(crc);
	COMP_CRC32C(crc, p, len);
	FIN_CRC32C(crc);
	return crc;
}

/* ------------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------------
 */

static void
corrupted(const char *name, const char *fmt,...) pg_attribute_printf(2, 3) pg_attribute_noreturn();

static void
corrupted(const char *name, const char *fmt,...)
{
	char		detail[512];
	va_list		ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	ereport(ERROR,
			(errcode(ERRCODE_DATA_CORRUPTED),
			 errmsg("archive file \"%s\" is corrupted", name),
			 errdetail("%s", detail),
			 errhint("Restore the file from a backup of the archive directory; the chunk cannot be read until then.")));
	pg_unreachable();
}

/* Error context: which file (and segment) was being read. */
static void
archive_file_errcontext(void *arg)
{
	ArchiveFile *af = arg;

	if (af->cur_segment >= 0)
		errcontext("reading segment %d of archive file \"%s\"", af->cur_segment, af->name);
	else
		errcontext("reading archive file \"%s\"", af->name);
}

/* ------------------------------------------------------------------------
 * Bounds-checked cursor
 * ------------------------------------------------------------------------
 */

typedef struct Cursor
{
	const char *buf;
	size_t		len;
	size_t		pos;
	const char *file;			/* for errors */
	const char *what;			/* "header", "index", "segment 12" ... */
} Cursor;

static const char *
cur_take(Cursor *c, size_t n)
{
	const char *p;

	if (n > c->len - c->pos)
		corrupted(c->file, "The %s ends early: %zu bytes wanted at byte %zu of %zu.",
				  c->what, n, c->pos, c->len);
	p = c->buf + c->pos;
	c->pos += n;
	return p;
}

static uint8
cur_u8(Cursor *c)
{
	return (uint8) *cur_take(c, 1);
}

static uint16
cur_u16(Cursor *c)
{
	const unsigned char *p = (const unsigned char *) cur_take(c, 2);

	return (uint16) (p[0] | p[1] << 8);
}

static uint32
cur_u32(Cursor *c)
{
	return get_le32(cur_take(c, 4));
}

static uint64
cur_u64(Cursor *c)
{
	return get_le64(cur_take(c, 8));
}

/* ------------------------------------------------------------------------
 * Values
 * ------------------------------------------------------------------------
 */

/* The send or receive function of each column of desc. */
static ColumnIO *
column_io(TupleDesc desc, bool receive)
{
	ColumnIO   *io = palloc0(sizeof(ColumnIO) * desc->natts);

	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		Oid			func;
		bool		varlena;

		io[i].typid = att->atttypid;
		io[i].typmod = att->atttypmod;
		io[i].is_bytea = att->atttypid == BYTEAOID;
		if (io[i].is_bytea)
			continue;
		if (receive)
			getTypeBinaryInputInfo(att->atttypid, &func, &io[i].ioparam);
		else
			getTypeBinaryOutputInfo(att->atttypid, &func, &varlena);
		fmgr_info(func, &io[i].func);
	}
	return io;
}

/* Appends flag, length and bytes of one value to s. */
static void
put_value(StringInfo s, ColumnIO *io, Datum value, bool isnull)
{
	if (isnull)
	{
		put_u8(s, 0);
		return;
	}
	put_u8(s, 1);
	if (io->is_bytea)
	{
		bytea	   *b = DatumGetByteaPP(value);

		put_u32(s, VARSIZE_ANY_EXHDR(b));
		appendBinaryStringInfo(s, VARDATA_ANY(b), VARSIZE_ANY_EXHDR(b));
	}
	else
	{
		bytea	   *b = SendFunctionCall(&io->func, value);

		put_u32(s, VARSIZE(b) - VARHDRSZ);
		appendBinaryStringInfo(s, VARDATA(b), VARSIZE(b) - VARHDRSZ);
	}
}

/*
 * Reads one value from c. With io NULL the value is skipped (a file column
 * the caller does not read), else decoded into *value (palloc'd in the
 * current context).
 */
static void
get_value(Cursor *c, ColumnIO *io, Datum *value, bool *isnull)
{
	uint8		flag = cur_u8(c);
	uint32		len;
	const char *p;

	if (flag == 0)
	{
		if (isnull)
			*isnull = true;
		if (value)
			*value = (Datum) 0;
		return;
	}
	if (flag != 1)
		corrupted(c->file, "The %s has a value flag %u at byte %zu.", c->what, flag, c->pos - 1);
	len = cur_u32(c);
	if (len > MaxAllocSize - VARHDRSZ - 1)
		corrupted(c->file, "The %s has a value of %u bytes.", c->what, len);
	p = cur_take(c, len);
	if (io == NULL)
		return;
	*isnull = false;
	if (io->is_bytea)
	{
		bytea	   *b = palloc(len + VARHDRSZ);

		SET_VARSIZE(b, len + VARHDRSZ);
		memcpy(VARDATA(b), p, len);
		*value = PointerGetDatum(b);
	}
	else
	{
		StringInfoData buf;

		/* Receive functions want a NUL after the data, as COPY gives them. */
		buf.data = palloc(len + 1);
		memcpy(buf.data, p, len);
		buf.data[len] = '\0';
		buf.len = len;
		buf.maxlen = len + 1;
		buf.cursor = 0;
		*value = ReceiveFunctionCall(&io->func, &buf, io->ioparam, io->typmod);
		if (buf.cursor != buf.len)
			corrupted(c->file, "A value of type %s in the %s has %d bytes too many.",
					  format_type_be(io->typid), c->what, buf.len - buf.cursor);
		pfree(buf.data);
	}
}

/* The 0-based position of column name in desc, or -1. */
static int
att_index(TupleDesc desc, const char *name)
{
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return i;
	}
	return -1;
}

/*
 * Positions of the metadata columns in a segment layout; the segment-by
 * columns are those before the count. Errors when desc is not a segment
 * layout (a caller's bug, not a file's).
 */
static void
layout_positions(TupleDesc desc, int *nsegby, int *count_att, int *min_att, int *max_att)
{
	*count_att = att_index(desc, SEG_COUNT_NAME);
	*min_att = att_index(desc, SEG_MIN_TIME_NAME);
	*max_att = att_index(desc, SEG_MAX_TIME_NAME);
	if (*count_att < 0 || *min_att < 0 || *max_att < 0 ||
		TupleDescAttr(desc, *count_att)->atttypid != INT4OID ||
		TupleDescAttr(desc, *min_att)->atttypid != TIMESTAMPTZOID ||
		TupleDescAttr(desc, *max_att)->atttypid != TIMESTAMPTZOID)
		elog(ERROR, "tuple descriptor is not a segment row layout");
	*nsegby = *count_att;
}

/* ------------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------------
 */

/* Appends bytes to the file, through its checksum. */
static void
writer_put(ArchiveFileWriter *w, const char *data, size_t len)
{
	COMP_CRC32C(w->file_crc, data, len);
	archive_store_write(w->store, data, len);
}

ArchiveFileWriter *
archive_file_create(const char *name, TupleDesc layout, int64 chunk_id,
					TimestampTz range_start, TimestampTz range_end)
{
	ArchiveFileWriter *w = palloc0(sizeof(ArchiveFileWriter));
	StringInfoData h;

	w->name = pstrdup(name);
	w->layout = CreateTupleDescCopy(layout);
	w->natts = layout->natts;
	layout_positions(layout, &w->nsegby, &w->count_att, &w->min_att, &w->max_att);
	if (w->natts > MaxTupleAttributeNumber)
		elog(ERROR, "segment layout has too many columns");
	w->io = column_io(layout, false);
	w->tmpcxt = AllocSetContextCreate(CurrentMemoryContext, "archive file writer",
									  ALLOCSET_DEFAULT_SIZES);
	initStringInfo(&w->rec);
	initStringInfo(&w->index);
	INIT_CRC32C(w->file_crc);

	/* The header, with its own checksum. */
	initStringInfo(&h);
	appendBinaryStringInfo(&h, HEADER_MAGIC, MAGIC_LEN);
	put_u16(&h, ARCHIVE_FILE_VERSION);
	put_u16(&h, (uint16) w->natts);
	put_u32(&h, 0);				/* header length, set below */
	put_u64(&h, (uint64) chunk_id);
	put_u64(&h, (uint64) range_start);
	put_u64(&h, (uint64) range_end);
	put_u16(&h, (uint16) w->nsegby);
	for (int i = 0; i < w->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(layout, i);
		size_t		nlen = strlen(NameStr(att->attname));

		put_u32(&h, att->atttypid);
		put_u32(&h, (uint32) att->atttypmod);
		put_u8(&h, (uint8) nlen);
		appendBinaryStringInfo(&h, NameStr(att->attname), nlen);
	}
	{
		uint32		hlen = h.len + 4;

		for (int i = 0; i < 4; i++)
			h.data[12 + i] = (char) (hlen >> (8 * i));
	}
	put_u32(&h, crc_of(h.data, h.len));

	w->store = archive_store_create(name);
	writer_put(w, h.data, h.len);
	pfree(h.data);
	return w;
}

const char *
archive_file_temp_name(const ArchiveFileWriter *w)
{
	return archive_store_temp_name(w->store);
}

void
archive_file_add(ArchiveFileWriter *w, Datum *values, bool *isnull)
{
	MemoryContext old;
	uint64		offset = archive_store_written(w->store);
	int32		count;

	if (isnull[w->count_att] || isnull[w->min_att] || isnull[w->max_att])
		elog(ERROR, "segment row without count or time range");
	count = DatumGetInt32(values[w->count_att]);
	if (count < 1 || count > COLBLOB_MAX_ROWS)
		elog(ERROR, "segment row with %d rows", count);

	old = MemoryContextSwitchTo(w->tmpcxt);
	resetStringInfo(&w->rec);
	put_u32(&w->rec, 0);		/* payload length, set below */
	for (int i = 0; i < w->natts; i++)
		put_value(&w->rec, &w->io[i], values[i], isnull[i]);
	if ((uint64) w->rec.len - 4 > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("segment of %d rows is too large for an archive file", count)));
	{
		uint32		plen = w->rec.len - 4;

		for (int i = 0; i < 4; i++)
			w->rec.data[i] = (char) (plen >> (8 * i));
	}
	put_u32(&w->rec, crc_of(w->rec.data, w->rec.len));
	MemoryContextSwitchTo(old);
	writer_put(w, w->rec.data, w->rec.len);

	/* The index entry: where it is and what a scan may skip it by. */
	put_u64(&w->index, offset);
	put_u32(&w->index, (uint32) w->rec.len);
	put_u32(&w->index, (uint32) count);
	put_u64(&w->index, (uint64) DatumGetTimestampTz(values[w->min_att]));
	put_u64(&w->index, (uint64) DatumGetTimestampTz(values[w->max_att]));
	old = MemoryContextSwitchTo(w->tmpcxt);
	{
		StringInfoData seg;

		initStringInfo(&seg);
		for (int i = 0; i < w->nsegby; i++)
			put_value(&seg, &w->io[i], values[i], isnull[i]);
		MemoryContextSwitchTo(old);
		appendBinaryStringInfo(&w->index, seg.data, seg.len);
	}
	/* What the reader accepts: a larger index would be written unreadable. */
	if ((uint64) w->index.len > INDEX_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("chunk has too many segments for an archive file")));
	MemoryContextReset(w->tmpcxt);
	w->nsegments++;
	w->nrows += count;
}

void
archive_file_finish(ArchiveFileWriter *w, ArchiveFileSummary *summary)
{
	StringInfoData t;
	uint64		index_offset = archive_store_written(w->store);
	pg_crc32c	file_crc;

	writer_put(w, w->index.data, w->index.len);

	initStringInfo(&t);
	put_u64(&t, index_offset);
	put_u32(&t, (uint32) w->index.len);
	put_u32(&t, (uint32) w->nsegments);
	put_u64(&t, (uint64) w->nrows);
	put_u32(&t, crc_of(w->index.data, w->index.len));
	COMP_CRC32C(w->file_crc, t.data, t.len);
	file_crc = w->file_crc;
	FIN_CRC32C(file_crc);
	put_u32(&t, file_crc);
	put_u32(&t, crc_of(t.data, t.len));
	appendBinaryStringInfo(&t, TRAILER_MAGIC, MAGIC_LEN);
	Assert(t.len == TRAILER_LEN);
	archive_store_write(w->store, t.data, t.len);
	archive_store_finish(w->store);

	summary->bytes = archive_store_written(w->store);
	summary->checksum = file_crc;
	summary->nsegments = w->nsegments;
	summary->nrows = w->nrows;
	summary->chunk_id = 0;
	pfree(t.data);
}

/* ------------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------------
 */

/* A column of the file, as its header describes it. */
typedef struct FileColumn
{
	char		name[NAMEDATALEN];
	Oid			typid;
	int32		typmod;
} FileColumn;

/*
 * The expected layout when the caller gave none: the file's own columns.
 * Types that no longer exist (a file from another database) are errors.
 */
static TupleDesc
layout_from_file(ArchiveFile *af, FileColumn *cols, int ncols)
{
	TupleDesc	desc = CreateTemplateTupleDesc(ncols);

	for (int i = 0; i < ncols; i++)
	{
		if (!SearchSysCacheExists1(TYPEOID, ObjectIdGetDatum(cols[i].typid)))
			corrupted(af->name, "Column \"%s\" has type OID %u, which is no type here.",
					  cols[i].name, cols[i].typid);
		TupleDescInitEntry(desc, (AttrNumber) (i + 1), cols[i].name,
						   cols[i].typid, cols[i].typmod, 0);
	}
	return desc;
}

/*
 * Reads and checks the header; maps the file's columns onto the expected
 * layout (made from the header when the caller gave none).
 */
static void
read_header(ArchiveFile *af)
{
	char		fixed[16];
	char	   *h;
	Cursor		c;
	uint16		version;
	int			natts;
	int			file_nsegby;
	int		   *expected_in_file;
	FileColumn *cols;

	if (af->size < 16 + TRAILER_LEN)
		corrupted(af->name, "It has " UINT64_FORMAT " bytes, fewer than an empty archive file.",
				  af->size);
	archive_store_read(af->obj, 0, fixed, sizeof(fixed));
	if (memcmp(fixed, HEADER_MAGIC, MAGIC_LEN) != 0)
		corrupted(af->name, "It does not start with the archive file signature.");
	version = (uint16) ((unsigned char) fixed[8] | (unsigned char) fixed[9] << 8);
	if (version != ARCHIVE_FILE_VERSION)
		corrupted(af->name, "Its format version is %u; this library reads version %d.",
				  version, ARCHIVE_FILE_VERSION);
	af->header_len = get_le32(fixed + 12);
	if (af->header_len < HEADER_FIXED + 4 || af->header_len > HEADER_MAX ||
		af->header_len > af->size - TRAILER_LEN)
		corrupted(af->name, "Its header length %u is impossible.", af->header_len);

	h = palloc(af->header_len);
	archive_store_read(af->obj, 0, h, af->header_len);
	if (crc_of(h, af->header_len - 4) != get_le32(h + af->header_len - 4))
		corrupted(af->name, "The checksum of its header does not match.");

	c = (Cursor) {h, af->header_len - 4, 10, af->name, "header"};
	natts = cur_u16(&c);
	(void) cur_u32(&c);			/* the header length, read above */
	af->chunk_id = (int64) cur_u64(&c);
	af->range_start = (TimestampTz) cur_u64(&c);
	af->range_end = (TimestampTz) cur_u64(&c);
	file_nsegby = cur_u16(&c);
	if (natts < 1 || natts > MaxTupleAttributeNumber || file_nsegby >= natts ||
		af->range_start >= af->range_end)
		corrupted(af->name, "Its header gives %d columns, %d of them segment-by.",
				  natts, file_nsegby);
	cols = palloc(sizeof(FileColumn) * natts);
	for (int i = 0; i < natts; i++)
	{
		int			nlen;

		cols[i].typid = cur_u32(&c);
		cols[i].typmod = (int32) cur_u32(&c);
		nlen = cur_u8(&c);
		if (nlen == 0 || nlen >= NAMEDATALEN)
			corrupted(af->name, "Its header has a column name of %d bytes.", nlen);
		memcpy(cols[i].name, cur_take(&c, nlen), nlen);
		cols[i].name[nlen] = '\0';
		if (strlen(cols[i].name) != (size_t) nlen)
			corrupted(af->name, "Its header has a column name with a NUL byte.");
		for (int j = 0; j < i; j++)
			if (strcmp(cols[j].name, cols[i].name) == 0)
				corrupted(af->name, "Its header names column \"%s\" twice.", cols[i].name);
	}
	if (c.pos != c.len)
		corrupted(af->name, "Its header has %zu bytes after the column list.", c.len - c.pos);

	if (af->expected == NULL)
	{
		af->expected = layout_from_file(af, cols, natts);
		af->natts = natts;
	}
	layout_positions(af->expected, &af->nsegby, &af->count_att, &af->min_att, &af->max_att);
	af->io = column_io(af->expected, true);

	af->file_natts = natts;
	af->file_to_expected = palloc(sizeof(int) * natts);
	expected_in_file = palloc(sizeof(int) * af->natts);
	for (int i = 0; i < af->natts; i++)
		expected_in_file[i] = -1;
	for (int i = 0; i < natts; i++)
	{
		int			e = att_index(af->expected, cols[i].name);

		af->file_to_expected[i] = e;
		if (e < 0)
			continue;
		if (TupleDescAttr(af->expected, e)->atttypid != cols[i].typid)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("archive file \"%s\" does not match the chunk's columns", af->name),
					 errdetail("Column \"%s\" is of type %s in the file and of type %s in the chunk.",
							   cols[i].name, format_type_be(cols[i].typid),
							   format_type_be(TupleDescAttr(af->expected, e)->atttypid))));
		/* Segment-by columns must be the file's too, in the same order. */
		if ((e < af->nsegby) != (i < file_nsegby) || (e < af->nsegby && e != i))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("archive file \"%s\" does not match the chunk's columns", af->name),
					 errdetail("Column \"%s\" is segment-by in one of them only.", cols[i].name)));
		expected_in_file[e] = i;
	}
	if (file_nsegby != af->nsegby)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("archive file \"%s\" does not match the chunk's columns", af->name),
				 errdetail("It has %d segment-by columns, the chunk %d.", file_nsegby, af->nsegby)));
	for (int i = 0; i < af->natts; i++)
		if (expected_in_file[i] < 0 && !TupleDescAttr(af->expected, i)->attisdropped)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("archive file \"%s\" does not match the chunk's columns", af->name),
					 errdetail("Column \"%s\" is not in the file.",
							   NameStr(TupleDescAttr(af->expected, i)->attname))));
	pfree(expected_in_file);
	pfree(cols);
	pfree(h);
}

/* Reads and checks the trailer and the index. */
static void
read_index(ArchiveFile *af)
{
	char		t[TRAILER_LEN];
	uint64		tpos = af->size - TRAILER_LEN;
	char	   *idx;
	Cursor		c;
	uint64		expect_offset = af->header_len;
	uint64		rows = 0;

	archive_store_read(af->obj, tpos, t, TRAILER_LEN);
	if (memcmp(t + 36, TRAILER_MAGIC, MAGIC_LEN) != 0)
		corrupted(af->name, "It does not end with the archive file trailer (truncated?).");
	if (crc_of(t, 32) != get_le32(t + 32))
		corrupted(af->name, "The checksum of its trailer does not match.");
	af->index_offset = get_le64(t);
	af->index_len = get_le32(t + 8);
	af->nsegments = get_le32(t + 12);
	af->nrows = get_le64(t + 16);
	af->file_crc = get_le32(t + 28);
	if (af->index_offset < af->header_len || af->index_offset > tpos ||
		af->index_len != tpos - af->index_offset)
		corrupted(af->name, "Its index at byte " UINT64_FORMAT " (%u bytes) is not where the file ends.",
				  af->index_offset, af->index_len);
	if (af->index_len > INDEX_MAX)
		corrupted(af->name, "Its index of %u bytes is larger than any this library writes.",
				  af->index_len);
	if ((uint64) af->nsegments * (INDEX_FIXED + af->nsegby) > af->index_len)
		corrupted(af->name, "Its index of %u bytes cannot hold %u segments.",
				  af->index_len, af->nsegments);

	idx = palloc(Max(af->index_len, 1));
	archive_store_read(af->obj, af->index_offset, idx, af->index_len);
	if (crc_of(idx, af->index_len) != get_le32(t + 24))
		corrupted(af->name, "The checksum of its index does not match.");

	af->segs = palloc0(sizeof(ArchiveSegment) * Max(af->nsegments, 1));
	c = (Cursor) {idx, af->index_len, 0, af->name, "index"};
	for (uint32 i = 0; i < af->nsegments; i++)
	{
		ArchiveSegment *s = &af->segs[i];

		CHECK_FOR_INTERRUPTS();
		s->offset = cur_u64(&c);
		s->length = cur_u32(&c);
		s->count = (int32) cur_u32(&c);
		s->min_time = (TimestampTz) cur_u64(&c);
		s->max_time = (TimestampTz) cur_u64(&c);
		/* Records tile [header, index) exactly, in index order. */
		if (s->offset != expect_offset || s->length < RECORD_MIN ||
			s->length > af->index_offset - s->offset)
			corrupted(af->name, "Index entry %u places segment at byte " UINT64_FORMAT " (%u bytes).",
					  i, s->offset, s->length);
		expect_offset = s->offset + s->length;
		if (s->count < 1 || s->count > COLBLOB_MAX_ROWS || s->min_time > s->max_time ||
			s->min_time < af->range_start || s->max_time >= af->range_end)
			corrupted(af->name, "Index entry %u describes an impossible segment.", i);
		rows += s->count;
		s->segby = palloc(sizeof(Datum) * Max(af->nsegby, 1));
		s->segby_null = palloc(sizeof(bool) * Max(af->nsegby, 1));
		for (int k = 0; k < af->nsegby; k++)
			get_value(&c, &af->io[k], &s->segby[k], &s->segby_null[k]);
	}
	if (c.pos != c.len)
		corrupted(af->name, "Its index has %zu bytes after the last entry.", c.len - c.pos);
	if (expect_offset != af->index_offset)
		corrupted(af->name, "Its segments end at byte " UINT64_FORMAT ", its index starts at " UINT64_FORMAT ".",
				  expect_offset, af->index_offset);
	if (rows != af->nrows)
		corrupted(af->name, "Its index counts " UINT64_FORMAT " rows, its trailer " UINT64_FORMAT ".",
				  rows, af->nrows);
	pfree(idx);
}

ArchiveFile *
archive_file_open(const char *name, TupleDesc expected, const uint32 *expected_checksum)
{
	ArchiveFile *af = palloc0(sizeof(ArchiveFile));
	ErrorContextCallback errcb;

	af->name = pstrdup(name);
	af->expected = expected;
	af->natts = expected ? expected->natts : 0;
	af->cur_segment = -1;
	af->obj = archive_store_open(name);
	af->size = archive_store_size(af->obj);

	errcb.callback = archive_file_errcontext;
	errcb.arg = af;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;
	read_header(af);
	read_index(af);
	error_context_stack = errcb.previous;

	if (expected_checksum != NULL && *expected_checksum != af->file_crc)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("archive file \"%s\" is not the file that was archived", name),
				 errdetail("Its checksum is %08x; the catalog recorded %08x.",
						   af->file_crc, *expected_checksum),
				 errhint("Restore the file from a backup of the archive directory.")));
	return af;
}

TupleDesc
archive_file_layout(const ArchiveFile *af)
{
	return af->expected;
}

const char *
archive_file_name(const ArchiveFile *af)
{
	return af->name;
}

int
archive_file_nsegments(const ArchiveFile *af)
{
	return (int) af->nsegments;
}

int
archive_file_nsegby(const ArchiveFile *af)
{
	return af->nsegby;
}

const ArchiveSegment *
archive_file_segment(const ArchiveFile *af, int i)
{
	Assert(i >= 0 && i < (int) af->nsegments);
	return &af->segs[i];
}

void
archive_file_summary(const ArchiveFile *af, ArchiveFileSummary *summary)
{
	summary->bytes = af->size;
	summary->checksum = af->file_crc;
	summary->nsegments = af->nsegments;
	summary->nrows = (int64) af->nrows;
	summary->chunk_id = af->chunk_id;
}

void
archive_file_read(ArchiveFile *af, int i, Datum *values, bool *isnull)
{
	const ArchiveSegment *s = archive_file_segment(af, i);
	ErrorContextCallback errcb;
	Cursor		c;
	char		what[32];

	if (s->length > af->recbuf_cap)
	{
		if (af->recbuf)
			pfree(af->recbuf);
		af->recbuf = MemoryContextAllocHuge(GetMemoryChunkContext(af), s->length);
		af->recbuf_cap = s->length;
	}
	archive_store_read(af->obj, s->offset, af->recbuf, s->length);
	if (get_le32(af->recbuf) != s->length - RECORD_MIN)
		corrupted(af->name, "Segment %d has length %u; its index says %u.",
				  i, get_le32(af->recbuf), s->length - RECORD_MIN);
	if (crc_of(af->recbuf, s->length - 4) != get_le32(af->recbuf + s->length - 4))
		corrupted(af->name, "The checksum of segment %d (at byte " UINT64_FORMAT ") does not match.",
				  i, s->offset);

	af->cur_segment = i;
	errcb.callback = archive_file_errcontext;
	errcb.arg = af;
	errcb.previous = error_context_stack;
	error_context_stack = &errcb;

	snprintf(what, sizeof(what), "segment %d", i);
	c = (Cursor) {af->recbuf + 4, s->length - RECORD_MIN, 0, af->name, what};
	for (int k = 0; k < af->natts; k++)
	{
		values[k] = (Datum) 0;
		isnull[k] = true;
	}
	for (int f = 0; f < af->file_natts; f++)
	{
		int			e = af->file_to_expected[f];

		if (e < 0)
			get_value(&c, NULL, NULL, NULL);
		else
			get_value(&c, &af->io[e], &values[e], &isnull[e]);
	}
	if (c.pos != c.len)
		corrupted(af->name, "Segment %d has %zu bytes after its last column.", i, c.len - c.pos);
	/* The record must say what the index said (a scan skipped by it). */
	if (isnull[af->count_att] || isnull[af->min_att] || isnull[af->max_att] ||
		DatumGetInt32(values[af->count_att]) != s->count ||
		DatumGetTimestampTz(values[af->min_att]) != s->min_time ||
		DatumGetTimestampTz(values[af->max_att]) != s->max_time)
		corrupted(af->name, "Segment %d does not agree with its index entry.", i);

	error_context_stack = errcb.previous;
	af->cur_segment = -1;
}

void
archive_file_close(ArchiveFile *af)
{
	if (af->obj)
		archive_store_close(af->obj);
	af->obj = NULL;
}

void
archive_file_verify(const char *name, TupleDesc expected, const uint32 *expected_checksum,
					ArchiveFileSummary *summary)
{
	ArchiveFile *af = archive_file_open(name, expected, expected_checksum);
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "archive verify",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old;
	Datum	   *values = palloc(sizeof(Datum) * af->natts);
	bool	   *isnull = palloc(sizeof(bool) * af->natts);
	char	   *buf = palloc(VERIFY_BUF);
	uint64		covered = af->size - TRAILER_LEN + 28;
	pg_crc32c	crc;

	/* Every segment, decoded (values in cxt, reset after each). */
	for (int i = 0; i < (int) af->nsegments; i++)
	{
		CHECK_FOR_INTERRUPTS();
		old = MemoryContextSwitchTo(cxt);
		archive_file_read(af, i, values, isnull);
		MemoryContextSwitchTo(old);
		MemoryContextReset(cxt);
	}

	/* The whole-file checksum: everything up to its own field. */
	INIT_CRC32C(crc);
	for (uint64 off = 0; off < covered;)
	{
		size_t		n = (size_t) Min((uint64) VERIFY_BUF, covered - off);

		CHECK_FOR_INTERRUPTS();
		archive_store_read(af->obj, off, buf, n);
		COMP_CRC32C(crc, buf, n);
		off += n;
	}
	FIN_CRC32C(crc);
	if (crc != af->file_crc)
		corrupted(name, "The checksum of the whole file is %08x; its trailer records %08x.",
				  crc, af->file_crc);

	MemoryContextDelete(cxt);
	pfree(buf);
	pfree(values);
	pfree(isnull);
	archive_file_summary(af, summary);
	archive_file_close(af);
}

char *
archive_checksum_text(uint32 checksum)
{
	return psprintf("crc32c:%08x", checksum);
}

bool
archive_checksum_parse(const char *text, uint32 *checksum)
{
	uint32		v = 0;

	if (text == NULL || strlen(text) != 15 || strncmp(text, "crc32c:", 7) != 0)
		return false;
	for (int i = 7; i < 15; i++)
	{
		char		ch = text[i];
		int			d;

		if (ch >= '0' && ch <= '9')
			d = ch - '0';
		else if (ch >= 'a' && ch <= 'f')
			d = ch - 'a' + 10;
		else
			return false;
		v = v << 4 | d;
	}
	*checksum = v;
	return true;
}
