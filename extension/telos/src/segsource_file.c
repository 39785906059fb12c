/*-------------------------------------------------------------------------
 *
 * segsource_file.c
 *	  The segment source over an archive file (segsource.h,
 *	  segsource_file_open): what the telos FDW reads an archived chunk with.
 *
 * Opening reads the file's header, trailer and index (archive_file.c) and
 * checks the file against the checksum telos.compressed_chunk recorded when
 * it was written, so that a file replaced by another -- even a valid
 * archive of another chunk -- is refused rather than read. begin() uses
 * the index to keep only the segments whose segment-by values and time
 * range can match the pushed-down keys; next() reads and checks one record
 * at a time.
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "archive_file.h"
#include "segsource.h"
#include "util.h"

typedef struct FileSegSource
{
	SegSource	pub;
	ArchiveFile *af;
	MemoryContext cxt;			/* the source's own memory */
	MemoryContext rowcxt;		/* the current row's values */
	MemoryContext keycxt;		/* what begin() derived from the keys */
	int		   *match;			/* segments to return, in file order */
	int			nmatch;
	int			pos;
} FileSegSource;

/*
 * The checksum telos.compressed_chunk recorded for file name; false when no
 * row names it (then nothing to compare with).
 */
static bool
recorded_checksum(const char *name, uint32 *checksum)
{
	TelosCatalogState save;
	bool		found = false;
	char	   *text = NULL;
	MemoryContext outer = CurrentMemoryContext;

	if (!OidIsValid(telos_catalog_relid("compressed_chunk")))
		return false;
	telos_catalog_become("compressed_chunk", &save);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args("SELECT file_checksum FROM telos.compressed_chunk"
							  " WHERE storage = 'file' AND file = $1",
							  1, (Oid[]) {TEXTOID},
							  (Datum[]) {CStringGetTextDatum(name)},
							  NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "could not read telos.compressed_chunk");
	if (SPI_processed > 0)
	{
		char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);

		if (v != NULL)
			text = MemoryContextStrdup(outer, v);
	}
	SPI_finish();
	telos_catalog_restore(&save);
	if (text != NULL)
	{
		if (!archive_checksum_parse(text, checksum))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("telos.compressed_chunk has an invalid checksum \"%s\" for archive file \"%s\"",
							text, name)));
		found = true;
	}
	return found;
}

/* Whether segment s can hold rows the keys ask for. */
static bool
segment_matches(const ArchiveSegment *s, int nsegby, const SegScanKeys *keys,
				FmgrInfo *eq)
{
	if (keys == NULL)
		return true;
	if (keys->has_lo &&
		(s->max_time < keys->lo || (s->max_time == keys->lo && !keys->lo_incl)))
		return false;
	if (keys->has_hi &&
		(s->min_time > keys->hi || (s->min_time == keys->hi && !keys->hi_incl)))
		return false;
	for (int k = 0; k < keys->nkeys; k++)
	{
		int			a = keys->seg_attno[k] - 1;

		if (a < 0 || a >= nsegby || eq[k].fn_oid == InvalidOid)
			continue;			/* not a segment-by key: a hint we cannot use */
		if (s->segby_null[a])
			return false;		/* = is never true for NULL */
		if (!DatumGetBool(FunctionCall2Coll(&eq[k], keys->collations[k],
											s->segby[a], keys->values[k])))
			return false;
	}
	return true;
}

static void
file_begin(SegSource *src, const SegScanKeys *keys)
{
	FileSegSource *fs = (FileSegSource *) src;
	int			nseg = archive_file_nsegments(fs->af);
	int			nsegby = archive_file_nsegby(fs->af);
	MemoryContext old;
	FmgrInfo   *eq = NULL;

	MemoryContextReset(fs->keycxt);
	old = MemoryContextSwitchTo(fs->keycxt);
	if (keys != NULL && keys->nkeys > 0)
	{
		eq = palloc0(sizeof(FmgrInfo) * keys->nkeys);
		for (int k = 0; k < keys->nkeys; k++)
			if (OidIsValid(keys->eq_opfuncs[k]))
				fmgr_info_cxt(keys->eq_opfuncs[k], &eq[k], fs->keycxt);
	}
	fs->match = palloc(sizeof(int) * Max(nseg, 1));
	fs->nmatch = 0;
	for (int i = 0; i < nseg; i++)
	{
		CHECK_FOR_INTERRUPTS();
		if (segment_matches(archive_file_segment(fs->af, i), nsegby, keys, eq))
			fs->match[fs->nmatch++] = i;
	}
	fs->pos = 0;
	MemoryContextSwitchTo(old);
}

static bool
file_next(SegSource *src, Datum *values, bool *isnull)
{
	FileSegSource *fs = (FileSegSource *) src;
	MemoryContext old;

	if (fs->match == NULL || fs->pos >= fs->nmatch)
		return false;
	MemoryContextReset(fs->rowcxt);
	old = MemoryContextSwitchTo(fs->rowcxt);
	archive_file_read(fs->af, fs->match[fs->pos++], values, isnull);
	MemoryContextSwitchTo(old);
	return true;
}

static void
file_end(SegSource *src)
{
	FileSegSource *fs = (FileSegSource *) src;

	if (fs->af != NULL)
		archive_file_close(fs->af);
	fs->af = NULL;
	MemoryContextDelete(fs->cxt);
}

/*
 * segsource_file_open
 *		See segsource.h. path is the file's name relative to
 *		telos.archive_directory, as telos.compressed_chunk.file records it.
 *		expected may also be NULL: the source then has the layout the
 *		file's header describes (the chunk's layout when it was archived,
 *		whatever the compression settings say now).
 */
SegSource *
segsource_file_open(const char *path, TupleDesc expected)
{
	MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "archive segment source",
											  ALLOCSET_DEFAULT_SIZES);
	MemoryContext old = MemoryContextSwitchTo(cxt);
	FileSegSource *fs = palloc0(sizeof(FileSegSource));
	uint32		checksum;
	bool		has_checksum;

	fs->cxt = cxt;
	fs->rowcxt = AllocSetContextCreate(cxt, "archive segment row", ALLOCSET_DEFAULT_SIZES);
	fs->keycxt = AllocSetContextCreate(cxt, "archive segment keys", ALLOCSET_SMALL_SIZES);
	fs->pub.begin = file_begin;
	fs->pub.next = file_next;
	fs->pub.end = file_end;
	has_checksum = recorded_checksum(path, &checksum);
	fs->af = archive_file_open(path, expected ? CreateTupleDescCopy(expected) : NULL,
							   has_checksum ? &checksum : NULL);
	fs->pub.layout = archive_file_layout(fs->af);
	MemoryContextSwitchTo(old);
	return &fs->pub;
}
