/*-------------------------------------------------------------------------
 *
 * archive.c
 *	  Archiving, restoring, purging and verifying chunks (archive.h).
 *
 * Archiving a chunk, in one transaction:
 *	 1. lock the chunk (and its delta) against writes: ExclusiveLock still
 *		lets queries read it while its rows are copied;
 *	 2. build its segment rows (compress_build_segments_ex reads the rows of
 *		whatever the chunk is now: heap table, or a foreign table over
 *		segments or a file, with its delta) and stream them into a new
 *		archive file, which is durable under its name before step 3;
 *	 3. make a foreign table of server telos_store with the hypertable's
 *		columns and an empty delta table, and swap it in for the chunk
 *		(chunk_swap: same range, same row-level security);
 *	 4. record the file in telos.compressed_chunk (storage 'file').
 * An error anywhere rolls the catalog back and removes the new file; a file
 * the chunk used before is removed after commit.
 *
 * Who may: see archive_check_privilege. The rows are read as the
 * hypertable's owner with FORCE ROW LEVEL SECURITY lifted (every tenant's
 * rows move), the catalog is written as its owner.
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/heapam.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_class.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "commands/tablespace.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/rls.h"
#include "utils/snapmgr.h"
#include "utils/ruleutils.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "archive.h"
#include "archive_file.h"
#include "archive_store.h"
#include "chunk.h"
#include "chunk_swap.h"
#include "compress.h"
#include "compress_build.h"
#include "compress_int.h"
#include "util.h"

/* What telos.compressed_chunk says about one chunk. */
typedef struct StoredChunk
{
	bool		found;
	bool		is_file;		/* storage 'file' */
	char	   *file;
	char	   *checksum;
	Oid			delta;
	int64		heap_bytes;		/* -1 when NULL */
} StoredChunk;

/* ------------------------------------------------------------------------
 * Privileges and catalog rows
 * ------------------------------------------------------------------------
 */

void
archive_check_privilege(Oid hypertable, const char *action)
{
	Oid			user = GetUserId();

	if (pg_class_ownercheck(hypertable, user))
		return;
	if (pg_class_aclcheck(hypertable, user, ACL_DELETE) == ACLCHECK_OK &&
		check_enable_rls(hypertable, InvalidOid, true) != RLS_ENABLED)
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("permission denied to %s chunks of table %s", action,
					get_rel_name(hypertable)),
			 errdetail("It needs ownership of the table, or DELETE on it with no row-level security applying (BYPASSRLS).")));
}

/* The telos.compressed_chunk row of chunk id, in the current context. */
static void
stored_chunk(int64 id, StoredChunk *sc)
{
	TelosCatalogState save;
	MemoryContext outer = CurrentMemoryContext;

	memset(sc, 0, sizeof(*sc));
	sc->heap_bytes = -1;
	telos_catalog_become("compressed_chunk", &save);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	telos_spi_exec("SELECT storage, file, file_checksum, delta::oid, heap_bytes"
				   " FROM telos.compressed_chunk WHERE chunk_id = $1",
				   1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(id)}, NULL);
	if (SPI_processed > 0)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		char	   *v;
		Datum		d;

		sc->found = true;
		v = SPI_getvalue(tup, desc, 1);
		sc->is_file = v != NULL && strcmp(v, "file") == 0;
		v = SPI_getvalue(tup, desc, 2);
		sc->file = v ? MemoryContextStrdup(outer, v) : NULL;
		v = SPI_getvalue(tup, desc, 3);
		sc->checksum = v ? MemoryContextStrdup(outer, v) : NULL;
		d = SPI_getbinval(tup, desc, 4, &isnull);
		sc->delta = isnull ? InvalidOid : DatumGetObjectId(d);
		d = SPI_getbinval(tup, desc, 5, &isnull);
		sc->heap_bytes = isnull ? -1 : DatumGetInt64(d);
	}
	SPI_finish();
	telos_catalog_restore(&save);
}

/* The archived chunk's row, or an error saying the chunk is not archived. */
static void
stored_file(const ChunkInfo *info, StoredChunk *sc)
{
	stored_chunk(info->id, sc);
	if (!sc->found || !sc->is_file || sc->file == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("chunk \"%s\" is not archived", get_rel_name(info->relid))));
}

/* Records (insert or replace) the archived form of chunk id. */
static void
record_file(int64 id, const char *file, const ArchiveFileSummary *sum, Oid delta,
			int64 heap_bytes)
{
	TelosCatalogState save;
	Datum		values[7];
	char		nulls[7] = {' ', ' ', ' ', ' ', ' ', ' ', ' '};

	values[0] = Int64GetDatum(id);
	values[1] = CStringGetTextDatum(file);
	values[2] = Int64GetDatum((int64) sum->bytes);
	values[3] = CStringGetTextDatum(archive_checksum_text(sum->checksum));
	values[4] = ObjectIdGetDatum(delta);
	values[5] = Int64GetDatum(sum->nrows);
	values[6] = Int64GetDatum(heap_bytes);
	if (heap_bytes < 0)
		nulls[6] = 'n';

	telos_catalog_become("compressed_chunk", &save);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	telos_spi_exec("INSERT INTO telos.compressed_chunk AS cc (chunk_id, storage, segments, file,"
				   " file_bytes, file_checksum, delta, row_count, heap_bytes, stored_bytes, compressed_at)"
				   " VALUES ($1, 'file', NULL, $2, $3, $4, $5::regclass, $6, $7, $3, now())"
				   " ON CONFLICT (chunk_id) DO UPDATE SET storage = 'file', segments = NULL,"
				   " file = $2, file_bytes = $3, file_checksum = $4, delta = $5::regclass,"
				   " row_count = $6, heap_bytes = coalesce($7, cc.heap_bytes), stored_bytes = $3,"
				   " compressed_at = now()",
				   7, (Oid[]) {INT8OID, TEXTOID, INT8OID, TEXTOID, OIDOID, INT8OID, INT8OID},
				   values, nulls);
	SPI_finish();
	telos_catalog_restore(&save);
}

/* Forgets the stored form of chunk id (it is a heap table again). */
static void
forget_stored(int64 id)
{
	TelosCatalogState save;

	telos_catalog_become("compressed_chunk", &save);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	telos_spi_exec("DELETE FROM telos.compressed_chunk WHERE chunk_id = $1",
				   1, (Oid[]) {INT8OID}, (Datum[]) {Int64GetDatum(id)}, NULL);
	SPI_finish();
	telos_catalog_restore(&save);
}

/*
 * Rows of heap table relid committed as of now: at most limit (0: all).
 * Read with the table access methods, as compress_ops.c does: the delta
 * tables live in _telos_internal, where not even their owner has USAGE.
 */
static int64
heap_rows(Oid relid, int64 limit)
{
	Relation	rel = table_open(relid, AccessShareLock);
	Snapshot	snapshot = RegisterSnapshot(GetLatestSnapshot());
	TableScanDesc scan = table_beginscan(rel, snapshot, 0, NULL);
	int64		n = 0;

	while (heap_getnext(scan, ForwardScanDirection) != NULL)
	{
		if (++n == limit)
			break;
		if ((n & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
	}
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	table_close(rel, NoLock);
	return n;
}

bool
archive_delta_has_rows(int64 chunk_id)
{
	StoredChunk sc;

	stored_chunk(chunk_id, &sc);
	if (!sc.found || !OidIsValid(sc.delta) || get_rel_name(sc.delta) == NULL)
		return false;
	return heap_rows(sc.delta, 1) > 0;
}

/* ------------------------------------------------------------------------
 * Names
 * ------------------------------------------------------------------------
 */

/*
 * A new file name for chunk info: [location/]c<sysid>-d<db>/<chunk name,
 * characters other than [A-Za-z0-9_-] as '_'>.<chunk id>.<now in hex µs>.tca.
 * The time stamp makes names unique across re-archives of one chunk.
 */
static char *
new_file_name(const ChunkInfo *info, const char *location)
{
	const char *rel = get_rel_name(info->relid);
	StringInfoData buf;

	initStringInfo(&buf);
	if (location != NULL && location[0] != '\0')
		appendStringInfo(&buf, "%s/", location);
	appendStringInfo(&buf, "%s/", archive_db_dir());
	for (const char *p = rel ? rel : "chunk"; *p && p - rel < 40; p++)
	{
		char		c = *p;

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '-'))
			c = '_';
		appendStringInfoChar(&buf, c);
	}
	appendStringInfo(&buf, "." INT64_FORMAT ".%llx" ARCHIVE_FILE_SUFFIX, info->id,
					 (unsigned long long) GetCurrentTimestamp());
	archive_store_check_name(buf.data, "archive file");
	return buf.data;
}

/* ------------------------------------------------------------------------
 * The relations of an archived or restored chunk
 * ------------------------------------------------------------------------
 */

/*
 * After the lock on the chunk's table: errors unless telos.chunk still
 * names it with the state it had (another session may have changed the
 * chunk while we waited).
 */
static void
recheck_chunk(const ChunkInfo *info)
{
	ChunkInfo  *now = compress_chunk_lookup(info->relid);

	if (now->id != info->id || strcmp(now->state, info->state) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("chunk \"%s\" changed while waiting for its lock",
						get_rel_name(info->relid)),
				 errdetail("It is now %s.", now->state)));
}

/* "a, b, c": the hypertable's stored (not generated, not dropped) columns. */
static char *
column_list(Oid relid)
{
	Relation	rel = relation_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || att->attgenerated)
			continue;
		appendStringInfo(&buf, "%s%s", buf.len ? ", " : "",
						 quote_identifier(NameStr(att->attname)));
	}
	relation_close(rel, AccessShareLock);
	return buf.data;
}

/* ------------------------------------------------------------------------
 * Archive
 * ------------------------------------------------------------------------
 */

/* emit callback of compress_build_segments_ex: one record of the file. */
static void
emit_segment(void *arg, Datum *values, bool *isnull)
{
	archive_file_add((ArchiveFileWriter *) arg, values, isnull);
}

/* Starts a new file for chunk info; removed if the transaction aborts. */
static ArchiveFileWriter *
start_file(const ChunkInfo *info, const char *name, TupleDesc layout)
{
	ArchiveFileWriter *w;

	archive_lock_writers();
	w = archive_file_create(name, layout, info->id, info->range_start, info->range_end);
	/* The temporary name never outlives the transaction; the final one
	 * outlives it only if it commits. */
	archive_remove_at_abort(archive_file_temp_name(w));
	archive_remove_at_commit(archive_file_temp_name(w));
	archive_remove_at_abort(name);
	return w;
}

Oid
archive_chunk_rel(const ChunkInfo *info, const char *location)
{
	int			nestlevel;
	SegLayout  *layout;
	StoredChunk old;
	char	   *name;
	char	   *relname = get_rel_name(info->relid);
	ArchiveFileWriter *w;
	ArchiveFileSummary sum;
	int64		heap_bytes;
	int64		nrows,
				nsegs;
	Hypertable *ht;
	TelosUserState us;
	Oid			ft;
	Oid			delta;

	if (location != NULL)
		archive_store_check_name(location, "location");
	nestlevel = telos_pin_gucs();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ht = hypertable_get(info->hypertable);

	/* No writes into the chunk while its rows are copied; reads go on. */
	LockRelationOid(ht->relid, AccessShareLock);
	LockRelationOid(info->relid, ExclusiveLock);
	recheck_chunk(info);
	stored_chunk(info->id, &old);
	if (old.found && OidIsValid(old.delta) && get_rel_name(old.delta) != NULL)
		LockRelationOid(old.delta, ExclusiveLock);
	compress_check_hypertable(ht->relid);
	layout = compress_layout_get(ht->relid);
	heap_bytes = strcmp(info->state, "active") == 0 ?
		compress_relation_bytes(info->relid) : old.heap_bytes;

	/* The file, durable under its name before anything else changes. */
	name = new_file_name(info, location);
	w = start_file(info, name, layout->segdesc);
	telos_become(ht->owner, &us);
	compress_build_segments_ex(info->relid, layout, emit_segment, w, &nrows, &nsegs);
	telos_restore_user(&us);
	archive_file_finish(w, &sum);
	if (sum.nrows != nrows)
		elog(ERROR, "archive file \"%s\" holds " INT64_FORMAT " rows, the chunk " INT64_FORMAT,
			 name, sum.nrows, nrows);

	/* The foreign table over it, recorded, then swapped in. */
	ft = compress_create_foreign(ht, relname);
	delta = compress_create_delta(ht, relname, ft);
	record_file(info->id, name, &sum, delta, heap_bytes);
	/* The columns the file was written with: the schema-change guard of
	 * 40_compress.sql protects archived chunks as it does compressed ones. */
	compress_record_columns(info->id, info->hypertable);
	compress_debug_point("after_segments");
	chunk_swap(info->id, ft, "archived");
	if (old.found && old.is_file && old.file != NULL)
		archive_remove_at_commit(old.file);
	compress_debug_point("after_swap");

	SPI_finish();
	telos_unpin_gucs(nestlevel);
	return ft;
}

/* ------------------------------------------------------------------------
 * Restore
 * ------------------------------------------------------------------------
 */

Oid
restore_chunk_rel(const ChunkInfo *info)
{
	StoredChunk sc;
	uint32		checksum;
	ArchiveFileSummary sum;
	Hypertable *ht;
	TelosUserState us;
	int			nestlevel;
	char	   *cols;
	char	   *relname = get_rel_name(info->relid);
	bool		has_delta;
	int64		delta_rows = 0;
	int64		copied;
	Oid			heap;

	nestlevel = telos_pin_gucs();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ht = hypertable_get(info->hypertable);

	/* Writers wait; the file is checked whole before anything changes. */
	LockRelationOid(ht->relid, AccessShareLock);
	LockRelationOid(info->relid, ExclusiveLock);
	recheck_chunk(info);
	stored_file(info, &sc);
	has_delta = OidIsValid(sc.delta) && get_rel_name(sc.delta) != NULL;
	if (has_delta)
		LockRelationOid(sc.delta, ExclusiveLock);
	if (sc.checksum == NULL || !archive_checksum_parse(sc.checksum, &checksum))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("telos.compressed_chunk has no valid checksum for archive file \"%s\"",
						sc.file)));
	archive_file_verify(sc.file, NULL, &checksum, &sum);

	/* The rows, through the chunk's foreign table: file, then delta. */
	heap = compress_create_heap(ht, relname);
	cols = column_list(ht->relid);
	if (has_delta)
		delta_rows = heap_rows(sc.delta, 0);
	telos_become(ht->owner, &us);
	copied = (int64) telos_spi_exec(psprintf("INSERT INTO %s (%s) SELECT %s FROM %s",
											 telos_qualified_relname(heap), cols, cols,
											 telos_qualified_relname(info->relid)),
									0, NULL, NULL, NULL);
	telos_restore_user(&us);

	/* Never a partial restore: the file's rows and the delta's, exactly. */
	if (copied != sum.nrows + delta_rows)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("restoring chunk \"%s\" read " INT64_FORMAT " rows, expected " INT64_FORMAT,
						relname, copied, sum.nrows + delta_rows),
				 errdetail("Archive file \"%s\" holds " INT64_FORMAT " rows, the delta table " INT64_FORMAT ".",
						   sc.file, sum.nrows, delta_rows)));
	compress_debug_point("after_segments");

	forget_stored(info->id);
	chunk_swap(info->id, heap, "active");
	archive_remove_at_commit(sc.file);
	compress_debug_point("after_swap");

	SPI_finish();
	telos_unpin_gucs(nestlevel);
	return heap;
}

/* ------------------------------------------------------------------------
 * Purge and verify
 * ------------------------------------------------------------------------
 */

/* Whether value (of type typid) is one of drop[0..ndrop-1]. */
static bool
in_list(Datum value, Datum *drop, int ndrop, bool byval, int16 len)
{
	for (int i = 0; i < ndrop; i++)
		if (datumIsEqual(value, drop[i], byval, len))
			return true;
	return false;
}

int64
archive_purge_segments(const ChunkInfo *info, const char *column, Oid typid,
					   Datum *drop, int ndrop, Datum *listed, int nlisted,
					   bool drop_unlisted)
{
	StoredChunk sc;
	uint32		checksum;
	ArchiveFile *af;
	TupleDesc	layout;
	int			nseg;
	int			nkeep = 0;
	int64		removed = 0;
	bool	   *keep;
	int16		typlen;
	bool		typbyval;
	TelosCatalogState cs;

	/* The catalog row after the lock: a purge we waited for replaced the file. */
	LockRelationOid(info->relid, ExclusiveLock);
	stored_file(info, &sc);
	if (sc.checksum == NULL || !archive_checksum_parse(sc.checksum, &checksum))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("telos.compressed_chunk has no valid checksum for archive file \"%s\"",
						sc.file)));
	get_typlenbyval(typid, &typlen, &typbyval);

	af = archive_file_open(sc.file, NULL, &checksum);
	layout = archive_file_layout(af);
	if (archive_file_nsegby(af) < 1 ||
		strcmp(NameStr(TupleDescAttr(layout, 0)->attname), column) != 0 ||
		TupleDescAttr(layout, 0)->atttypid != typid)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("archived chunk \"%s\" is not segmented by \"%s\" first",
						get_rel_name(info->relid), column),
				 errhint("Restore it (telos.restore_chunk) to delete rows of single tenants.")));

	nseg = archive_file_nsegments(af);
	keep = palloc(sizeof(bool) * Max(nseg, 1));
	for (int i = 0; i < nseg; i++)
	{
		const ArchiveSegment *s = archive_file_segment(af, i);

		keep[i] = s->segby_null[0] ||
			!(in_list(s->segby[0], drop, ndrop, typbyval, typlen) ||
			  (drop_unlisted && !in_list(s->segby[0], listed, nlisted, typbyval, typlen)));
		if (keep[i])
			nkeep++;
		else
			removed += s->count;
	}

	if (nkeep < nseg)
	{
		char	   *name = new_file_name(info, NULL);
		char	   *slash = strrchr(sc.file, '/');
		ArchiveFileWriter *w;
		ArchiveFileSummary sum;
		Datum	   *values = palloc(sizeof(Datum) * layout->natts);
		bool	   *isnull = palloc(sizeof(bool) * layout->natts);
		MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "archive purge",
												  ALLOCSET_DEFAULT_SIZES);

		/* The new file goes where the old one is (same location). */
		if (slash != NULL)
		{
			char	   *base = strrchr(name, '/');

			name = psprintf("%.*s%s", (int) (slash - sc.file), sc.file, base);
		}
		w = start_file(info, name, layout);
		for (int i = 0; i < nseg; i++)
		{
			MemoryContext old;

			if (!keep[i])
				continue;
			CHECK_FOR_INTERRUPTS();
			old = MemoryContextSwitchTo(cxt);
			archive_file_read(af, i, values, isnull);
			archive_file_add(w, values, isnull);
			MemoryContextSwitchTo(old);
			MemoryContextReset(cxt);
		}
		archive_file_finish(w, &sum);
		archive_file_close(af);

		/* Readers of the old file wait from here until commit. */
		LockRelationOid(info->relid, AccessExclusiveLock);
		record_file(info->id, name, &sum, sc.delta, -1);
		archive_remove_at_commit(sc.file);
	}
	else
		archive_file_close(af);

	/* The tenants' late rows, if any. */
	if (OidIsValid(sc.delta) && get_rel_name(sc.delta) != NULL && (ndrop > 0 || drop_unlisted))
	{
		int16		alen;
		bool		abyval;
		char		align;
		Oid			arrtype = get_array_type(typid);
		const char *col = quote_identifier(column);

		get_typlenbyvalalign(typid, &alen, &abyval, &align);
		/* As the owner of _telos_internal (the delta's owner has no USAGE). */
		telos_catalog_become("compressed_chunk", &cs);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		removed += (int64) telos_spi_exec(psprintf("DELETE FROM %s WHERE %s = ANY ($1)"
												   " OR ($3 AND %s <> ALL ($2))",
												   telos_qualified_relname(sc.delta), col, col),
										  3, (Oid[]) {arrtype, arrtype, BOOLOID},
										  (Datum[]) {
											  PointerGetDatum(construct_array(drop, ndrop, typid, alen, abyval, align)),
											  PointerGetDatum(construct_array(listed, nlisted, typid, alen, abyval, align)),
											  BoolGetDatum(drop_unlisted)},
										  NULL);
		SPI_finish();
		telos_catalog_restore(&cs);
	}
	return removed;
}

Datum
archive_verify_chunk(const ChunkInfo *info)
{
	StoredChunk sc;
	uint32		checksum;
	ArchiveFileSummary sum;
	StringInfoData buf;

	stored_file(info, &sc);
	if (sc.checksum == NULL || !archive_checksum_parse(sc.checksum, &checksum))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("telos.compressed_chunk has no valid checksum for archive file \"%s\"",
						sc.file)));
	archive_file_verify(sc.file, NULL, &checksum, &sum);
	if (sum.chunk_id != info->id)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("archive file \"%s\" belongs to chunk " INT64_FORMAT ", not " INT64_FORMAT,
						sc.file, sum.chunk_id, info->id)));

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"file\": ");
	escape_json(&buf, sc.file);
	appendStringInfo(&buf, ", \"bytes\": " UINT64_FORMAT ", \"segments\": " INT64_FORMAT
					 ", \"rows\": " INT64_FORMAT ", \"checksum\": \"%s\"}",
					 sum.bytes, sum.nsegments, sum.nrows, archive_checksum_text(sum.checksum));
	return DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data));
}
