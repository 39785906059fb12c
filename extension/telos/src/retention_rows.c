/*-------------------------------------------------------------------------
 *
 * retention_rows.c
 *	  The row deletes of retention (retention_int.h).
 *
 * A hypertable's chunks differ in storage: heap chunks take a DELETE, the
 * foreign partitions of compressed and archived chunks refuse one at plan
 * time. So the per-tenant deletes of a hypertable go
 *	 - to each run of adjacent heap chunks through the hypertable, with the
 *	   run's range as constants in the statement: plan-time pruning then
 *	   keeps every other chunk out of the plan, and the rollup invalidation
 *	   triggers of the hypertable see the deletes as before;
 *	 - to each compressed chunk's segment table, whole segments at a time:
 *	   a segment goes when its newest row is past the tenant's cutoff
 *	   (segments of a chunk hold one tenant and metric each when tenant_id
 *	   is a segment-by column; otherwise they are left alone). A segment
 *	   that straddles the cutoff stays until it is wholly expired -- at most
 *	   one chunk interval, the same slack as whole-chunk drops -- instead of
 *	   being decoded and rewritten every day. Late rows in the chunk's delta
 *	   table go row by row;
 *	 - archived chunks are the archive policy's (their files are rewritten
 *	   there, not here).
 * Segment and delta tables are internal (schema _telos_internal, no USAGE
 * for anyone but the extension's owner) and without row-level security:
 * their deletes run as the owner of the telos catalog.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "retention_int.h"
#include "util.h"

/* One chunk of the hypertable as the catalog has it. */
typedef struct RetChunk
{
	TimestampTz start;
	TimestampTz end;
	Oid			relid;
	bool		heap;			/* state 'active' */
	Oid			segments;		/* compressed (storage table): its segments */
	Oid			delta;			/* compressed or archived: its delta table */
} RetChunk;

uint64
retention_delete_per_tenant(const char *table, const char *col,
							const char *extra, TenantCutoff *cut, int n,
							TimestampTz floor, bool all)
{
	StringInfoData sql;
	SPIPlanPtr	plan;
	Oid			types[2] = {UUIDOID, TIMESTAMPTZOID};
	uint64		total = 0;
	int			i;

	initStringInfo(&sql);
	appendStringInfo(&sql, "DELETE FROM %s WHERE tenant_id = $1 AND %s < $2%s",
					 table, quote_identifier(col), extra);
	plan = SPI_prepare(sql.data, 2, types);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", sql.data);
	for (i = 0; i < n; i++)
	{
		Datum		values[2];

		CHECK_FOR_INTERRUPTS();
		if (!all && cut[i].cutoff <= floor)
			continue;
		values[0] = UUIDPGetDatum(&cut[i].tenant);
		values[1] = TimestampTzGetDatum(cut[i].cutoff);
		if (SPI_execute_plan(plan, values, NULL, false, 0) != SPI_OK_DELETE)
			elog(ERROR, "could not delete from %s", table);
		total += SPI_processed;
	}
	SPI_freeplan(plan);
	return total;
}

uint64
retention_delete_unlisted(const char *table, const char *col,
						  const char *extra, TenantCutoff *cut, int n,
						  TimestampTz cutoff)
{
	StringInfoData sql;
	Datum	   *ids = palloc(sizeof(Datum) * (n + 1));
	Oid			types[2] = {TIMESTAMPTZOID, UUIDARRAYOID};
	Datum		values[2];
	int			i;

	for (i = 0; i < n; i++)
		ids[i] = UUIDPGetDatum(&cut[i].tenant);
	values[0] = TimestampTzGetDatum(cutoff);
	values[1] = PointerGetDatum(construct_array(ids, n, UUIDOID, UUID_LEN, false,
												TYPALIGN_CHAR));
	initStringInfo(&sql);
	appendStringInfo(&sql, "DELETE FROM %s WHERE %s < $1 AND tenant_id <> ALL ($2)%s",
					 table, quote_identifier(col), extra);
	if (SPI_execute_with_args(sql.data, 2, types, values, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete from %s", table);
	return SPI_processed;
}

/*
 * The chunks of rel that start before limit, oldest first, copied out of
 * SPI's result (the deletes that follow free it). Not read-only: the
 * chunks drop_chunks removed earlier in this transaction must be seen gone.
 */
static RetChunk *
load_chunks(Oid rel, TimestampTz limit, int *n)
{
	Oid			types[2] = {REGCLASSOID, TIMESTAMPTZOID};
	Datum		values[2] = {ObjectIdGetDatum(rel), TimestampTzGetDatum(limit)};
	RetChunk   *out;
	uint64		i;

	if (SPI_execute_with_args(
							  "SELECT c.range_start, c.range_end, c.state = 'active', "
							  "CASE WHEN cc.storage = 'table' THEN cc.segments::oid END, "
							  "cc.delta::oid, c.relid::oid "
							  "FROM telos.chunk c "
							  "LEFT JOIN telos.compressed_chunk cc ON cc.chunk_id = c.id "
							  "WHERE c.hypertable = $1 AND c.relid IS NOT NULL "
							  "AND c.range_start < $2 ORDER BY c.range_start",
							  2, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read the chunks of %u", rel);
	*n = (int) SPI_processed;
	out = palloc0(sizeof(RetChunk) * (SPI_processed + 1));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tup = SPI_tuptable->vals[i];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;

		out[i].start = DatumGetTimestampTz(SPI_getbinval(tup, desc, 1, &isnull));
		out[i].end = DatumGetTimestampTz(SPI_getbinval(tup, desc, 2, &isnull));
		out[i].heap = DatumGetBool(SPI_getbinval(tup, desc, 3, &isnull));
		d = SPI_getbinval(tup, desc, 4, &isnull);
		out[i].segments = isnull ? InvalidOid : DatumGetObjectId(d);
		d = SPI_getbinval(tup, desc, 5, &isnull);
		out[i].delta = isnull ? InvalidOid : DatumGetObjectId(d);
		out[i].relid = DatumGetObjectId(SPI_getbinval(tup, desc, 6, &isnull));
	}
	return out;
}

/* " AND col >= 'lo' AND col < 'hi'", constants the planner prunes with. */
static char *
range_clause(const char *col, TimestampTz lo, TimestampTz hi)
{
	int			nestlevel = telos_pin_gucs();	/* ISO text, UTC */
	char	   *los = DatumGetCString(DirectFunctionCall1(timestamptz_out,
														  TimestampTzGetDatum(lo)));
	char	   *his = DatumGetCString(DirectFunctionCall1(timestamptz_out,
														  TimestampTzGetDatum(hi)));
	char	   *out;

	telos_unpin_gucs(nestlevel);
	out = psprintf(" AND %s >= %s::timestamptz AND %s < %s::timestamptz",
				   quote_identifier(col), quote_literal_cstr(los),
				   quote_identifier(col), quote_literal_cstr(his));
	return out;
}

/* Both kinds of per-tenant delete on one table. */
static uint64
delete_from(const char *table, const char *col, const char *extra,
			TenantCutoff *cut, int n, TimestampTz oldest,
			TimestampTz default_cutoff)
{
	uint64		rows;

	rows = retention_delete_per_tenant(table, col, extra, cut, n, oldest, false);
	if (default_cutoff > oldest)
		rows += retention_delete_unlisted(table, col, extra, cut, n, default_cutoff);
	return rows;
}

/*
 * A compressed or archived chunk's internal tables, as the owner of the
 * catalog (the one role with USAGE on _telos_internal, as compress.c does).
 */
static uint64
delete_internal(Oid owner, const RetChunk *c, const char *time_col,
				TenantCutoff *cut, int n, TimestampTz oldest,
				TimestampTz default_cutoff, bool strict)
{
	TelosUserState save;
	uint64		rows = 0;

	bool		by_tenant = OidIsValid(c->segments) &&
		get_attnum(c->segments, "tenant_id") != InvalidAttrNumber &&
		get_atttype(c->segments, get_attnum(c->segments, "tenant_id")) == UUIDOID;

	if (OidIsValid(c->segments) && !by_tenant && strict)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("chunk \"%s\" is compressed without tenant_id as a segment-by column",
						get_rel_name(c->relid)),
				 errdetail("A tenant's rows can be removed from a compressed chunk only by whole segments."),
				 errhint("Decompress the chunk first: SELECT telos.decompress_chunk('%s');",
						 telos_qualified_relname(c->relid))));
	telos_become(owner, &save);
	if (by_tenant)
		rows += delete_from(telos_qualified_relname(c->segments), "_telos_max_time", "",
							cut, n, oldest, default_cutoff);
	if (OidIsValid(c->delta))
		rows += delete_from(telos_qualified_relname(c->delta), time_col, "",
							cut, n, oldest, default_cutoff);
	telos_restore_user(&save);
	return rows;
}

uint64
retention_delete_hypertable(Oid rel, const char *table, const char *time_col,
							TenantCutoff *cut, int n, TimestampTz oldest,
							TimestampTz default_cutoff, bool strict)
{
	TimestampTz limit = default_cutoff;
	Oid			owner = telos_catalog_owner("compressed_chunk");
	RetChunk   *chunks;
	uint64		rows = 0;
	int			nchunks,
				i,
				j;

	for (i = 0; i < n; i++)
		limit = Max(limit, cut[i].cutoff);
	if (limit <= oldest)
		return 0;				/* nothing expires past the dropped chunks */
	chunks = load_chunks(rel, limit, &nchunks);

	for (i = 0; i < nchunks; i = j)
	{
		CHECK_FOR_INTERRUPTS();
		if (!chunks[i].heap)
		{
			rows += delete_internal(owner, &chunks[i], time_col, cut, n,
									oldest, default_cutoff, strict);
			j = i + 1;
			continue;
		}
		/* A run of adjacent heap chunks: one statement per tenant. */
		for (j = i + 1; j < nchunks && chunks[j].heap &&
			 chunks[j].start == chunks[j - 1].end; j++)
			;
		rows += delete_from(table, time_col,
							range_clause(time_col, chunks[i].start, chunks[j - 1].end),
							cut, n, oldest, default_cutoff);
	}
	return rows;
}
