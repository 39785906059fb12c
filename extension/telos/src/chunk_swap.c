/*-------------------------------------------------------------------------
 *
 * chunk_swap.c
 *	  Replacing the table that holds a chunk's range by another one, in
 *	  the caller's transaction (chunk_swap.h).
 *
 * Why DETACH + ATTACH + DROP rather than anything lighter: the partition
 * descriptor of the hypertable must name the new table and only it, and
 * PostgreSQL changes a partition's identity only through these commands.
 * DETACH (not CONCURRENTLY: that cannot run inside a transaction block,
 * and the swap must be atomic with the rest of compress or decompress)
 * takes ACCESS EXCLUSIVE on the hypertable, so the swap comes last in the
 * transaction and holds that lock only until commit. Everything before it
 * (reading and encoding the rows) runs under weaker locks.
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include "catalog/partition.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"

#include "chunk.h"
#include "chunk_swap.h"

/* A timestamptz as a SQL literal; the GUCs are pinned to UTC and ISO. */
static char *
ts_literal(TimestampTz ts)
{
	return quote_literal_cstr(DatumGetCString(DirectFunctionCall1(timestamptz_out,
																  TimestampTzGetDatum(ts))));
}

/* Whether some backend is waiting for a lock on relation relid. */
static bool
has_lock_waiters(Oid relid)
{
	LockData   *data = GetLockStatusData();

	for (int i = 0; i < data->nelements; i++)
	{
		LockInstanceData *l = &data->locks[i];

		if (l->waitLockMode != NoLock &&
			l->locktag.locktag_type == LOCKTAG_RELATION &&
			l->locktag.locktag_field1 == MyDatabaseId &&
			l->locktag.locktag_field2 == relid)
			return true;
	}
	return false;
}

/*
 * lock_for_swap
 *		ACCESS EXCLUSIVE on the hypertable, which DETACH needs. The caller
 *		may hold a lock on the old table that keeps writers out (compress
 *		reads the rows under EXCLUSIVE); a writer that routes a row into that
 *		table already holds ROW EXCLUSIVE on the hypertable and waits for
 *		ours: waiting for the hypertable then would be a deadlock, which
 *		PostgreSQL would break by cancelling either side -- maybe the
 *		writer. So when the lock is not free at once and a writer is waiting
 *		for the old table, the swap gives up (the caller's transaction rolls
 *		back, the writer goes on; the compression policy retries later).
 *		Otherwise it queues for the lock as DDL does; writers arriving later
 *		queue behind it on the hypertable and cannot close a cycle.
 */
static void
lock_for_swap(const Hypertable *ht, Oid old_relid)
{
	if (ConditionalLockRelationOid(ht->relid, AccessExclusiveLock))
		return;
	if (has_lock_waiters(old_relid))
		ereport(ERROR,
				(errcode(ERRCODE_LOCK_NOT_AVAILABLE),
				 errmsg("could not swap chunk \"%s\" of \"%s\": rows are being written into it",
						get_rel_name(old_relid), ht->relname),
				 errdetail("A session writing into the chunk waits for this one; swapping now would deadlock."),
				 errhint("Retry later; the compression policy does by itself.")));
	LockRelationOid(ht->relid, AccessExclusiveLock);
}

/* "TABLE" or "FOREIGN TABLE", as DROP and ALTER want relkind named. */
static const char *
rel_keyword(Oid relid)
{
	return get_rel_relkind(relid) == RELKIND_FOREIGN_TABLE ? "FOREIGN TABLE" : "TABLE";
}

void
chunk_swap(int64 chunk_id, Oid new_relid, const char *new_state)
{
	int			nestlevel = telos_pin_gucs();
	Hypertable *ht;
	Oid			htrelid;
	Oid			old_relid;
	TimestampTz start;
	TimestampTz end;
	bool		isnull;
	char	   *old_name;
	Oid			old_nsp;
	char	   *old_qname;
	char	   *new_qname;
	TelosUserState save;

	SPI_connect();
	if (telos_spi_exec("SELECT hypertable, relid, range_start, range_end FROM telos.chunk "
					   "WHERE id = $1", 1, (Oid[]) {INT8OID},
					   (Datum[]) {Int64GetDatum(chunk_id)}, NULL) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_OBJECT),
				 errmsg("chunk " INT64_FORMAT " does not exist", chunk_id)));
	htrelid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	old_relid = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("chunk " INT64_FORMAT " has no table", chunk_id)));
	start = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
	end = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4, &isnull));
	ht = hypertable_get(htrelid);

	/* Parent first, then the partition: the order DROP TABLE takes them. */
	lock_for_swap(ht, old_relid);
	LockRelationOid(old_relid, AccessExclusiveLock);
	if (!get_rel_relispartition(old_relid) ||
		get_partition_parent(old_relid, true) != ht->relid)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("table \"%s\" of chunk " INT64_FORMAT " is not a partition of \"%s\"",
						get_rel_name(old_relid), chunk_id, ht->relname)));
	if (get_rel_relispartition(new_relid))
		elog(ERROR, "relation %u is already a partition", new_relid);

	old_name = get_rel_name(old_relid);
	old_nsp = get_rel_namespace(old_relid);
	old_qname = telos_qualified_relname(old_relid);
	new_qname = telos_qualified_relname(new_relid);

	telos_become(ht->owner, &save);
	telos_spi_exec(psprintf("ALTER TABLE %s DETACH PARTITION %s",
							quote_qualified_identifier(ht->nspname, ht->relname), old_qname),
				   0, NULL, NULL, NULL);
	telos_restore_user(&save);

	/*
	 * The catalog names the new table before the old one is dropped (the
	 * sql_drop trigger marks a chunk whose table is dropped as dropped).
	 */
	catalog_set_chunk_state(chunk_id, new_state, new_relid);

	/*
	 * The new table takes the old one's name before it is attached, so
	 * that the indexes ATTACH makes on it are named as the old ones were.
	 */
	telos_become(ht->owner, &save);
	telos_spi_exec(psprintf("DROP %s %s", rel_keyword(old_relid), old_qname),
				   0, NULL, NULL, NULL);
	if (get_rel_namespace(new_relid) == old_nsp)
	{
		telos_spi_exec(psprintf("ALTER %s %s RENAME TO %s", rel_keyword(new_relid), new_qname,
								quote_identifier(old_name)),
					   0, NULL, NULL, NULL);
		new_qname = telos_qualified_relname(new_relid);
	}
	telos_spi_exec(psprintf("ALTER TABLE %s ATTACH PARTITION %s FOR VALUES FROM (%s) TO (%s)",
							quote_qualified_identifier(ht->nspname, ht->relname), new_qname,
							ts_literal(start), ts_literal(end)),
				   0, NULL, NULL, NULL);
	/* PostgreSQL has no row-level security on foreign tables. */
	if (get_rel_relkind(new_relid) == RELKIND_RELATION)
		chunk_copy_security(ht, new_relid);
	telos_restore_user(&save);

	SPI_finish();
	telos_unpin_gucs(nestlevel);
}
