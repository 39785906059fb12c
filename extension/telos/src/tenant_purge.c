/*-------------------------------------------------------------------------
 *
 * tenant_purge.c
 *	  telos.delete_tenant: every row of one tenant out of a hypertable,
 *	  whatever storage its chunks have.
 *
 * A plain DELETE ... WHERE tenant_id = t on a hypertable fails as soon as
 * the plan reaches a compressed or archived chunk (their foreign partitions
 * refuse DELETE), yet deleting a tenant must remove its data everywhere.
 * This does it storage by storage: heap chunks through the hypertable (the
 * deletes of retention_rows.c, with the tenant's cutoff at +infinity),
 * compressed chunks by their tenant's whole segments and delta rows,
 * archived chunks by rewriting their files without the tenant's segments
 * (archive_purge_segments), and the default partition directly.
 *
 * Who may: a role that may DELETE from the hypertable and is not subject to
 * its row-level security (the worker role, BYPASSRLS) -- the internal
 * tables and files are written as the catalog's owner, so a role confined
 * to one tenant by RLS must not reach them this way.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/rls.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "archive.h"
#include "chunk.h"
#include "compress.h"
#include "hypertable.h"
#include "retention_int.h"
#include "util.h"

PG_FUNCTION_INFO_V1(telos_delete_tenant);

/* Archived chunks of rel, by relid (copied out of SPI's result). */
static Oid *
archived_chunks(Oid rel, int *n)
{
	Oid			types[1] = {REGCLASSOID};
	Datum		values[1] = {ObjectIdGetDatum(rel)};
	Oid		   *out;
	uint64		i;

	if (SPI_execute_with_args("SELECT relid::oid FROM telos.chunk "
							  "WHERE hypertable = $1 AND state = 'archived' "
							  "AND relid IS NOT NULL ORDER BY range_start",
							  1, types, values, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not list the archived chunks of %u", rel);
	*n = (int) SPI_processed;
	out = palloc(sizeof(Oid) * (SPI_processed + 1));
	for (i = 0; i < SPI_processed; i++)
	{
		bool		isnull;

		out[i] = DatumGetObjectId(SPI_getbinval(SPI_tuptable->vals[i],
												SPI_tuptable->tupdesc, 1, &isnull));
	}
	return out;
}

/* The default partition's rows of the tenant, as the catalog's owner. */
static uint64
delete_from_default(Oid rel, pg_uuid_t *tenant)
{
	PartMap    *map = chunk_partmap(rel);
	TelosUserState save;
	Oid			types[1] = {UUIDOID};
	Datum		values[1] = {UUIDPGetDatum(tenant)};
	uint64		rows;

	if (!OidIsValid(map->default_relid))
		return 0;
	telos_become(telos_catalog_owner("chunk"), &save);
	if (SPI_execute_with_args(psprintf("DELETE FROM %s WHERE tenant_id = $1",
									   telos_qualified_relname(map->default_relid)),
							  1, types, values, NULL, false, 0) != SPI_OK_DELETE)
		elog(ERROR, "could not delete from the default partition of %u", rel);
	rows = SPI_processed;
	telos_restore_user(&save);
	return rows;
}

/*
 * telos.delete_tenant(rel regclass, tenant uuid) RETURNS bigint
 *		Deletes every row of tenant from hypertable rel; returns the rows
 *		(heap and delta rows, archived rows) plus segments deleted.
 */
Datum
telos_delete_tenant(PG_FUNCTION_ARGS)
{
	Oid			rel = telos_arg_relid(fcinfo, 0, "rel");
	pg_uuid_t  *tenant;
	Hypertable *ht;
	TenantCutoff cut;
	Oid		   *archived;
	int			narchived,
				i,
				nestlevel;
	int64		total = 0;

	telos_arg_notnull(fcinfo, 1, "tenant");
	tenant = PG_GETARG_UUID_P(1);

	if (pg_class_aclcheck(rel, GetUserId(), ACL_DELETE) != ACLCHECK_OK)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied for table %s", get_rel_name(rel)),
				 errdetail("telos.delete_tenant needs the DELETE privilege on the hypertable.")));
	if (check_enable_rls(rel, InvalidOid, true) == RLS_ENABLED)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("telos.delete_tenant needs a role not subject to the row-level security of %s",
						get_rel_name(rel)),
				 errdetail("Compressed and archived chunks are rewritten for every tenant's segments."),
				 errhint("Run it as a role with BYPASSRLS, such as the worker role.")));
	telos_require_column(rel, "tenant_id", UUIDOID, NULL);

	nestlevel = telos_pin_search_path();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ht = hypertable_get(rel);

	memcpy(&cut.tenant, tenant, sizeof(pg_uuid_t));
	cut.cutoff = DT_NOEND;
	total += retention_delete_hypertable(rel, telos_qualified_relname(rel),
										 ht->time_column, &cut, 1,
										 DT_NOBEGIN, DT_NOBEGIN, true);

	archived = archived_chunks(rel, &narchived);
	for (i = 0; i < narchived; i++)
	{
		Datum		drop = UUIDPGetDatum(tenant);

		CHECK_FOR_INTERRUPTS();
		total += archive_purge_segments(compress_chunk_lookup(archived[i]),
										"tenant_id", UUIDOID, &drop, 1,
										NULL, 0, false);
	}
	total += delete_from_default(rel, tenant);

	SPI_finish();
	telos_unpin_gucs(nestlevel);
	PG_RETURN_INT64(total);
}
