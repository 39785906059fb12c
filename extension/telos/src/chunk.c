/*-------------------------------------------------------------------------
 *
 * chunk.c
 *	  Chunk geometry and chunk making: which aligned range holds a
 *	  timestamp, which partitions a hypertable has, and making a chunk --
 *	  with the rows the default partition holds for it -- for a range, for
 *	  the rows of the default partition, or for partitions attached by hand.
 *
 * A chunk is made in four steps, as the hypertable's owner:
 *	  CREATE TABLE chunk (LIKE hypertable ...)         -- not PARTITION OF
 *	  move the default partition's rows of the range into it
 *	  ALTER TABLE hypertable ATTACH PARTITION chunk FOR VALUES FROM .. TO ..
 *	  row-level security as the hypertable's, and a telos.chunk row
 * CREATE TABLE ... PARTITION OF would take ACCESS EXCLUSIVE on the
 * hypertable and so wait for, and stop, every reader and writer; ATTACH
 * takes SHARE UPDATE EXCLUSIVE, which they do not conflict with. The rows
 * must leave the default partition before ATTACH, which otherwise fails
 * because they would violate the default's new implicit constraint. No
 * CHECK constraint is added before ATTACH to spare its validation scan:
 * adding one scans the table itself, and the table is new (empty, or just
 * filled with rows known to be in range).
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "access/table.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "commands/tablespace.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "chunk.h"

#ifndef HAVE_INT128
#error "chunk.c needs a 128-bit integer type for overflow-free chunk arithmetic"
#endif

/* ------------------------------------------------------------------------
 * Geometry
 * ------------------------------------------------------------------------
 */

int64
chunk_interval_usecs(const Interval *interval, const char *argname)
{
	int128		usecs;

	if (interval->month != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not contain months or years", argname),
				 errdetail("Months differ in length; every chunk of a hypertable has the same width."),
				 errhint("Use days, e.g. '28 days'.")));
	usecs = (int128) interval->day * USECS_PER_DAY + interval->time;
	if (usecs <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be positive", argname)));
	if (usecs < HYPERTABLE_MIN_INTERVAL_USECS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be at least 1 minute", argname)));
	if (usecs > PG_INT64_MAX / 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s is too large", argname)));
	return (int64) usecs;
}

/*
 * align_start
 *		Start of the aligned range holding finite ts: origin + k * width for
 *		the largest k with that <= ts. In 128 bits: ts - origin may not fit
 *		in 64 (the timestamptz range spans more than half of int64).
 */
static int128
align_start(const Hypertable *ht, TimestampTz ts)
{
	int128		diff = (int128) ts - ht->origin;
	int128		k = diff / ht->interval_usecs;

	if (diff % ht->interval_usecs != 0 && diff < 0)
		k--;					/* floor, not truncation toward zero */
	return (int128) ht->origin + k * ht->interval_usecs;
}

bool
chunk_align(const Hypertable *ht, TimestampTz ts, TimestampTz *start,
			TimestampTz *end)
{
	int128		s;
	int128		e;

	if (TIMESTAMP_NOT_FINITE(ts))
		return false;
	s = align_start(ht, ts);
	e = s + ht->interval_usecs;
	/* Both bounds must be valid timestamptz values to be partition bounds. */
	if (s < MIN_TIMESTAMP || e >= END_TIMESTAMP)
		return false;
	*start = (TimestampTz) s;
	*end = (TimestampTz) e;
	return true;
}

bool
chunk_is_aligned(const Hypertable *ht, const PartRange *part)
{
	TimestampTz s;
	TimestampTz e;

	return part->finite && chunk_align(ht, part->lo, &s, &e) &&
		s == part->lo && e == part->hi;
}

/* ------------------------------------------------------------------------
 * Partitions
 * ------------------------------------------------------------------------
 */

/*
 * bound_value
 *		Range bound j of bi as a timestamp; j = -1 and j = ndatums are the
 *		open ends below the first and above the last bound. MINVALUE and
 *		MAXVALUE map to the ends of int64 and clear *finite.
 */
static TimestampTz
bound_value(PartitionBoundInfo bi, int j, bool *finite)
{
	if (j < 0)
	{
		*finite = false;
		return PG_INT64_MIN;
	}
	if (j >= bi->ndatums)
	{
		*finite = false;
		return PG_INT64_MAX;
	}
	switch (bi->kind[j][0])
	{
		case PARTITION_RANGE_DATUM_MINVALUE:
			*finite = false;
			return PG_INT64_MIN;
		case PARTITION_RANGE_DATUM_MAXVALUE:
			*finite = false;
			return PG_INT64_MAX;
		default:
			return DatumGetTimestampTz(bi->datums[j][0]);
	}
}

PartMap *
chunk_partmap(Oid relid)
{
	Relation	rel = relation_open(relid, NoLock);
	PartitionDesc pd = RelationGetPartitionDesc(rel, true);
	PartitionBoundInfo bi = pd->boundinfo;
	PartMap    *map = palloc0(sizeof(PartMap));

	map->parts = palloc(sizeof(PartRange) * Max(pd->nparts, 1));
	map->default_relid = InvalidOid;
	if (bi != NULL)
	{
		if (bi->strategy != PARTITION_STRATEGY_RANGE)
			elog(ERROR, "hypertable %u is not range partitioned", relid);
		if (bi->default_index >= 0)
			map->default_relid = pd->oids[bi->default_index];

		/*
		 * For range partitioning indexes[i] is the partition whose upper
		 * bound is datums[i] (-1 for a gap), so partition indexes[i] covers
		 * [datums[i-1], datums[i]); the array is in bound order.
		 */
		for (int i = 0; i < bi->nindexes; i++)
		{
			int			p = bi->indexes[i];
			PartRange  *part;
			bool		finite = true;

			if (p < 0)
				continue;
			part = &map->parts[map->nparts++];
			part->relid = pd->oids[p];
			part->lo = bound_value(bi, i - 1, &finite);
			part->hi = bound_value(bi, i, &finite);
			part->finite = finite;
		}
	}
	relation_close(rel, NoLock);
	return map;
}

ChunkSlot
chunk_slot(const PartMap *map, TimestampTz start, TimestampTz end, Oid *partition)
{
	int			lo = 0;
	int			hi = map->nparts;
	const PartRange *part;

	/* First partition whose upper bound is above start. */
	while (lo < hi)
	{
		int			mid = lo + (hi - lo) / 2;

		if (map->parts[mid].hi > start)
			hi = mid;
		else
			lo = mid + 1;
	}
	*partition = InvalidOid;
	if (lo >= map->nparts || map->parts[lo].lo >= end)
		return CHUNK_SLOT_FREE;
	part = &map->parts[lo];
	*partition = part->relid;
	if (part->finite && part->lo == start && part->hi == end)
		return CHUNK_SLOT_TAKEN;
	return CHUNK_SLOT_CONFLICT;
}

/* ------------------------------------------------------------------------
 * Making chunks
 * ------------------------------------------------------------------------
 */

/* "schema"."name" of relid. */
static char *
qualified_name(Oid relid)
{
	char	   *name = get_rel_name(relid);

	if (name == NULL)
		elog(ERROR, "cache lookup failed for relation %u", relid);
	return quote_qualified_identifier(get_namespace_name(get_rel_namespace(relid)),
									  name);
}

/*
 * A timestamptz as text for a message. timestamptz_to_str returns a static
 * buffer, so two calls in one ereport would print the same value: copy.
 */
static char *
ts_text(TimestampTz ts)
{
	return pstrdup(timestamptz_to_str(ts));
}

/* A timestamptz as a SQL literal; the GUCs are pinned to UTC and ISO. */
static char *
ts_literal(TimestampTz ts)
{
	return quote_literal_cstr(DatumGetCString(DirectFunctionCall1(timestamptz_out,
																  TimestampTzGetDatum(ts))));
}

/*
 * free_relname
 *		<hypertable>_<label>, the hypertable's name clipped to fit in
 *		NAMEDATALEN, with _2, _3, ... appended when a relation of that name
 *		exists in the schema.
 */
static char *
free_relname(const Hypertable *ht, const char *label)
{
	for (int i = 1;; i++)
	{
		char	   *lab = i == 1 ? pstrdup(label) : psprintf("%s_%d", label, i);
		char	   *name = makeObjectName(ht->relname, NULL, lab);

		if (!OidIsValid(get_relname_relid(name, ht->nspid)))
			return name;
	}
}

/*
 * chunk_label
 *		pYYYYMMDD of the range start in UTC (the existing convention of
 *		business_metrics_raw's weekly partitions), _HHMMSS appended when
 *		the start is not midnight, "bc" for years before 1 AD.
 */
static char *
chunk_label(TimestampTz start)
{
	struct pg_tm tm;
	fsec_t		fsec;
	StringInfoData buf;
	int			year;

	if (timestamp2tm(start, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("timestamp out of range")));
	year = tm.tm_year > 0 ? tm.tm_year : 1 - tm.tm_year;
	initStringInfo(&buf);
	appendStringInfo(&buf, "p%04d%02d%02d", year, tm.tm_mon, tm.tm_mday);
	if (tm.tm_hour != 0 || tm.tm_min != 0 || tm.tm_sec != 0 || fsec != 0)
		appendStringInfo(&buf, "_%02d%02d%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (tm.tm_year <= 0)
		appendStringInfoString(&buf, "bc");
	return buf.data;
}

/*
 * create_like
 *		CREATE TABLE name (LIKE hypertable ...) in the hypertable's schema
 *		and tablespace: same columns, defaults, CHECK and NOT NULL
 *		constraints, generated columns, storage and compression, which
 *		ATTACH requires or the parent's rows would lose. Indexes, foreign
 *		keys and row triggers come from the parent at ATTACH. Returns the
 *		new table's OID.
 */
static Oid
create_like(const Hypertable *ht, const char *name)
{
	StringInfoData sql;
	Oid			spcid = get_rel_tablespace(ht->relid);
	Oid			relid;

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "CREATE TABLE %s (LIKE %s INCLUDING DEFAULTS INCLUDING CONSTRAINTS "
					 "INCLUDING GENERATED INCLUDING STORAGE INCLUDING COMPRESSION)",
					 quote_qualified_identifier(ht->nspname, name),
					 quote_qualified_identifier(ht->nspname, ht->relname));
	if (OidIsValid(spcid))
		appendStringInfo(&sql, " TABLESPACE %s",
						 quote_identifier(get_tablespace_name(spcid)));
	telos_spi_exec(sql.data, 0, NULL, NULL, NULL);

	relid = get_relname_relid(name, ht->nspid);
	if (!OidIsValid(relid))
		elog(ERROR, "chunk \"%s\" not found after CREATE TABLE", name);
	return relid;
}

void
chunk_copy_security(const Hypertable *ht, Oid rel)
{
	HeapTuple	tup;
	bool		rowsecurity;
	bool		forcerowsecurity;
	char	   *qrel = qualified_name(rel);
	uint64		npolicies;
	char	  **stmts;

	tup = SearchSysCache1(RELOID, ObjectIdGetDatum(ht->relid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for relation %u", ht->relid);
	rowsecurity = ((Form_pg_class) GETSTRUCT(tup))->relrowsecurity;
	forcerowsecurity = ((Form_pg_class) GETSTRUCT(tup))->relforcerowsecurity;
	ReleaseSysCache(tup);

	if (rowsecurity)
		telos_spi_exec(psprintf("ALTER TABLE %s ENABLE ROW LEVEL SECURITY", qrel),
					   0, NULL, NULL, NULL);
	if (forcerowsecurity)
		telos_spi_exec(psprintf("ALTER TABLE %s FORCE ROW LEVEL SECURITY", qrel),
					   0, NULL, NULL, NULL);

	/*
	 * Policies as pg_policies deparses them (search_path is pg_catalog, so
	 * every other name comes out qualified). The statements are built
	 * first: running one frees the result of the query.
	 */
	npolicies = telos_spi_exec(
							   "SELECT format('CREATE POLICY %I ON %s AS %s FOR %s TO %s', policyname, $3::text, "
							   "permissive, cmd, (SELECT string_agg(CASE WHEN r = 'public' THEN 'PUBLIC' "
							   "ELSE quote_ident(r) END, ', ') FROM unnest(roles) AS r)) "
							   "|| coalesce(' USING (' || qual || ')', '') "
							   "|| coalesce(' WITH CHECK (' || with_check || ')', '') "
							   "FROM pg_policies WHERE schemaname = $1::name AND tablename = $2::name "
							   "ORDER BY policyname",
							   3, (Oid[]) {TEXTOID, TEXTOID, TEXTOID},
							   (Datum[]) {CStringGetTextDatum(ht->nspname),
										   CStringGetTextDatum(ht->relname),
										   CStringGetTextDatum(qrel)}, NULL);
	stmts = palloc(sizeof(char *) * Max(npolicies, 1));
	for (uint64 i = 0; i < npolicies; i++)
		stmts[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
	for (uint64 i = 0; i < npolicies; i++)
		telos_spi_exec(stmts[i], 0, NULL, NULL, NULL);
}

/*
 * move_default_rows
 *		Moves the rows of the default partition in [start, end) into chunk
 *		(not attached yet) and returns how many. Runs as the owner with
 *		FORCE ROW LEVEL SECURITY lifted, so it sees every tenant's rows.
 *		Generated columns are recomputed by the INSERT.
 */
static int64
move_default_rows(const Hypertable *ht, Oid default_relid, Oid chunk,
				  TimestampTz start, TimestampTz end)
{
	Relation	rel = relation_open(ht->relid, NoLock);
	TupleDesc	desc = RelationGetDescr(rel);
	StringInfoData cols;
	StringInfoData sql;
	char	   *qtime = pstrdup(quote_identifier(ht->time_column));

	initStringInfo(&cols);
	for (int i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped || att->attgenerated)
			continue;
		if (cols.len > 0)
			appendStringInfoString(&cols, ", ");
		appendStringInfoString(&cols, quote_identifier(NameStr(att->attname)));
	}
	relation_close(rel, NoLock);

	initStringInfo(&sql);
	appendStringInfo(&sql,
					 "WITH moved AS (DELETE FROM %s WHERE %s >= $1 AND %s < $2 RETURNING %s) "
					 "INSERT INTO %s (%s) SELECT %s FROM moved",
					 qualified_name(default_relid), qtime, qtime, cols.data,
					 qualified_name(chunk), cols.data, cols.data);
	return (int64) telos_spi_exec(sql.data, 2,
								  (Oid[]) {TIMESTAMPTZOID, TIMESTAMPTZOID},
								  (Datum[]) {TimestampTzGetDatum(start), TimestampTzGetDatum(end)},
								  NULL);
}

/*
 * chunk_create
 *		Makes the chunk of ht for [start, end), moving into it the rows the
 *		default partition (default_relid, or InvalidOid) holds for the
 *		range, and returns its OID; *moved gets the number of rows moved.
 *		The caller holds SHARE UPDATE EXCLUSIVE on the hypertable and ACCESS
 *		EXCLUSIVE on the default partition, and runs as the owner.
 */
static Oid
chunk_create(const Hypertable *ht, Oid default_relid, TimestampTz start,
			 TimestampTz end, int64 *moved)
{
	char	   *name = free_relname(ht, chunk_label(start));
	Oid			chunk = create_like(ht, name);
	StringInfoData sql;

	*moved = 0;
	if (OidIsValid(default_relid))
		*moved = move_default_rows(ht, default_relid, chunk, start, end);

	initStringInfo(&sql);
	appendStringInfo(&sql, "ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)",
					 quote_qualified_identifier(ht->nspname, ht->relname),
					 quote_qualified_identifier(ht->nspname, name),
					 ts_literal(start), ts_literal(end));
	telos_spi_exec(sql.data, 0, NULL, NULL, NULL);

	chunk_copy_security(ht, chunk);
	catalog_record_chunk(ht, chunk, start, end);
	return chunk;
}

Oid
chunk_create_default(const Hypertable *ht)
{
	char	   *name = free_relname(ht, "default");
	Oid			relid = create_like(ht, name);

	telos_spi_exec(psprintf("ALTER TABLE %s ATTACH PARTITION %s DEFAULT",
							quote_qualified_identifier(ht->nspname, ht->relname),
							quote_qualified_identifier(ht->nspname, name)),
				   0, NULL, NULL, NULL);
	chunk_copy_security(ht, relid);
	return relid;
}

/* The error (or warning) for a range an unaligned partition overlaps. */
static void
report_conflict(const Hypertable *ht, Oid partition, TimestampTz start,
				TimestampTz end, int elevel)
{
	ereport(elevel,
			(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
			 errmsg("partition \"%s\" overlaps chunk range [%s, %s) of hypertable \"%s\" without matching it",
					get_rel_name(partition), ts_text(start),
					ts_text(end), ht->relname),
			 errhint("Chunks are aligned to the hypertable's chunk interval and origin; detach the partition and move its rows back through the hypertable.")));
}

int
chunk_ensure_range(const Hypertable *ht, TimestampTz from, TimestampTz to,
				   bool strict)
{
	TimestampTz first;
	TimestampTz last;
	TimestampTz end;
	uint64		nchunks;
	PartMap    *map;
	bool		missing = false;
	bool		default_locked = false;
	int			created = 0;
	TelosUserState save;

	if (from > to)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("range_from must not be later than range_to")));
	if (!chunk_align(ht, from, &first, &end) || !chunk_align(ht, to, &last, &end))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("range [%s, %s] cannot be covered by chunks",
						ts_text(from), ts_text(to)),
				 errdetail("Infinite timestamps and those whose chunk would pass the limits of timestamptz have no chunk.")));
	nchunks = ((uint64) last - (uint64) first) / (uint64) ht->interval_usecs + 1;
	if (nchunks > HYPERTABLE_MAX_CHUNKS_PER_CALL)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("range [%s, %s] spans " UINT64_FORMAT " chunks of hypertable \"%s\", more than %d",
						ts_text(from), ts_text(to), nchunks,
						ht->relname, HYPERTABLE_MAX_CHUNKS_PER_CALL),
				 errhint("Ensure the chunks of the times that occur, or a long range in several transactions.")));

	/* Fast path: all there, nothing but ACCESS SHARE taken. */
	LockRelationOid(ht->relid, AccessShareLock);
	map = chunk_partmap(ht->relid);
	for (TimestampTz s = first;; s += ht->interval_usecs)
	{
		Oid			part;

		if (chunk_slot(map, s, s + ht->interval_usecs, &part) != CHUNK_SLOT_TAKEN)
		{
			missing = true;
			break;
		}
		if (s == last)
			break;
	}
	if (!missing)
		return 0;

	telos_become(ht->owner, &save);

	/*
	 * Serialise with other chunk makers, then look again: one of them may
	 * have made what was missing while we waited (taking the lock reads
	 * the invalidations its commit sent, so the partition map is fresh).
	 */
	LockRelationOid(ht->relid, ShareUpdateExclusiveLock);
	map = chunk_partmap(ht->relid);
	for (TimestampTz s = first;; s += ht->interval_usecs)
	{
		TimestampTz e = s + ht->interval_usecs;
		Oid			part;
		int64		moved;

		CHECK_FOR_INTERRUPTS();
		switch (chunk_slot(map, s, e, &part))
		{
			case CHUNK_SLOT_FREE:
				if (!default_locked && OidIsValid(map->default_relid))
				{
					LockRelationOid(map->default_relid, AccessExclusiveLock);
					default_locked = true;
				}
				(void) chunk_create(ht, map->default_relid, s, e, &moved);
				created++;
				break;
			case CHUNK_SLOT_TAKEN:
				break;
			case CHUNK_SLOT_CONFLICT:
				report_conflict(ht, part, s, e, strict ? ERROR : WARNING);
				break;
		}
		if (s == last)
			break;
	}

	telos_restore_user(&save);
	return created;
}

int64
chunk_relocate_default(const Hypertable *ht, int *created)
{
	PartMap    *map;
	Oid			default_relid;
	TelosUserState save;
	int64		total = 0;
	TimestampTz cursor = MIN_TIMESTAMP;
	char	   *qtime = pstrdup(quote_identifier(ht->time_column));
	char	   *min_sql;
	Oid			warned = InvalidOid;

	LockRelationOid(ht->relid, AccessShareLock);
	map = chunk_partmap(ht->relid);
	if (!OidIsValid(map->default_relid))
		return 0;

	telos_become(ht->owner, &save);

	/* An empty default partition is the normal case: no strong lock then. */
	if (telos_spi_exec(psprintf("SELECT 1 FROM %s LIMIT 1",
								qualified_name(map->default_relid)),
					   0, NULL, NULL, NULL) == 0)
	{
		telos_restore_user(&save);
		return 0;
	}

	LockRelationOid(ht->relid, ShareUpdateExclusiveLock);
	map = chunk_partmap(ht->relid);
	default_relid = map->default_relid;
	if (!OidIsValid(default_relid))
	{
		telos_restore_user(&save);
		return 0;
	}
	LockRelationOid(default_relid, AccessExclusiveLock);

	/*
	 * One chunk per distinct range among the default's rows, in time order:
	 * the smallest time at or after the cursor names the next range (an
	 * index scan when the hypertable has an index on time).
	 */
	min_sql = psprintf("SELECT min(%s) FROM %s WHERE %s >= $1 AND %s < 'infinity'",
					   qtime, qualified_name(default_relid), qtime, qtime);
	for (;;)
	{
		bool		isnull;
		TimestampTz ts;
		TimestampTz start;
		TimestampTz end;
		Oid			part;
		int64		moved;

		CHECK_FOR_INTERRUPTS();
		telos_spi_exec(min_sql, 1, (Oid[]) {TIMESTAMPTZOID},
					   (Datum[]) {TimestampTzGetDatum(cursor)}, NULL);
		ts = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0],
											   SPI_tuptable->tupdesc, 1, &isnull));
		if (isnull)
			break;

		if (!chunk_align(ht, ts, &start, &end))
		{
			int128		next = align_start(ht, ts) + ht->interval_usecs;

			/* Past the top of timestamptz nothing further can be placed. */
			if (next >= END_TIMESTAMP)
				break;
			cursor = (TimestampTz) next;
			continue;
		}

		switch (chunk_slot(map, start, end, &part))
		{
			case CHUNK_SLOT_FREE:
				(void) chunk_create(ht, default_relid, start, end, &moved);
				total += moved;
				(*created)++;
				break;
			case CHUNK_SLOT_TAKEN:
				/* ATTACH checked the default had no row for it: not reached. */
				break;
			case CHUNK_SLOT_CONFLICT:
				if (part != warned)
					report_conflict(ht, part, start, end, WARNING);
				warned = part;
				break;
		}
		cursor = end;
	}

	telos_restore_user(&save);
	return total;
}

int
chunk_adopt_partitions(const Hypertable *ht, bool require_aligned)
{
	PartMap    *map;
	uint64		ntracked;
	Oid		   *tracked;
	int			adopted = 0;

	LockRelationOid(ht->relid, AccessShareLock);
	map = chunk_partmap(ht->relid);

	ntracked = telos_spi_exec("SELECT relid FROM telos.chunk "
							  "WHERE hypertable = $1 AND relid IS NOT NULL",
							  1, (Oid[]) {REGCLASSOID},
							  (Datum[]) {ObjectIdGetDatum(ht->relid)}, NULL);
	tracked = palloc(sizeof(Oid) * Max(ntracked, 1));
	for (uint64 i = 0; i < ntracked; i++)
	{
		bool		isnull;

		tracked[i] = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
													SPI_tuptable->tupdesc, 1, &isnull));
	}

	for (int i = 0; i < map->nparts; i++)
	{
		const PartRange *part = &map->parts[i];
		bool		known = false;

		for (uint64 j = 0; j < ntracked && !known; j++)
			known = tracked[j] == part->relid;
		if (known)
			continue;

		if (!chunk_is_aligned(ht, part))
		{
			TimestampTz s;
			TimestampTz e;

			if (!require_aligned)
				continue;
			if (!part->finite)
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("partition \"%s\" of table \"%s\" has an unbounded range",
								get_rel_name(part->relid), ht->relname),
						 errdetail("Chunks have finite bounds (no MINVALUE or MAXVALUE)."),
						 errhint("Detach it first; the default partition catches rows no chunk holds.")));
			if (chunk_align(ht, part->lo, &s, &e))
				ereport(ERROR,
						(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
						 errmsg("partition \"%s\" of table \"%s\" is not aligned to the chunk interval",
								get_rel_name(part->relid), ht->relname),
						 errdetail("Its range is [%s, %s); the aligned chunk holding its lower bound is [%s, %s).",
								   ts_text(part->lo), ts_text(part->hi),
								   ts_text(s), ts_text(e)),
						 errhint("Pass the chunk_interval and origin the partitions follow, or detach this one first.")));
			ereport(ERROR,
					(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
					 errmsg("partition \"%s\" of table \"%s\" is not aligned to the chunk interval",
							get_rel_name(part->relid), ht->relname)));
		}
		catalog_record_chunk(ht, part->relid, part->lo, part->hi);
		adopted++;
	}
	return adopted;
}
