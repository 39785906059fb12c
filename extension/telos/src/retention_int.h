/*-------------------------------------------------------------------------
 *
 * retention_int.h
 *	  What retention.c and retention_rows.c share: the per-tenant cutoffs
 *	  and the row deletes. Not an API for other modules.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_RETENTION_INT_H
#define TELOS_RETENTION_INT_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "utils/uuid.h"

/* One tenant's window, as the instant before which its rows expire. */
typedef struct TenantCutoff
{
	pg_uuid_t	tenant;
	TimestampTz cutoff;
} TenantCutoff;

/*
 * retention_delete_per_tenant
 *		DELETE FROM table WHERE tenant_id = t AND col < cutoff(t) [extra] for
 *		each tenant whose cutoff is later than floor (every tenant when all).
 *		SPI connected; returns the rows deleted.
 */
extern uint64 retention_delete_per_tenant(const char *table, const char *col,
										  const char *extra, TenantCutoff *cut,
										  int n, TimestampTz floor, bool all);

/*
 * retention_delete_unlisted
 *		DELETE the rows older than cutoff of the tenants not in cut [extra].
 */
extern uint64 retention_delete_unlisted(const char *table, const char *col,
										const char *extra, TenantCutoff *cut,
										int n, TimestampTz cutoff);

/*
 * retention_delete_hypertable
 *		The per-tenant deletes of a hypertable, chunk storage by chunk
 *		storage: heap chunks through the hypertable (restricted to their time
 *		ranges, so the plan never reaches a compressed or archived chunk,
 *		whose foreign partitions refuse DELETE), compressed chunks by
 *		whole segments and delta rows. Archived chunks are left to the
 *		archive policy, which rewrites their files. default_cutoff applies to
 *		the tenants not in cut when it is later than oldest. A compressed
 *		chunk not segmented by tenant_id is left alone, or is an error
 *		(0A000) when strict.
 */
extern uint64 retention_delete_hypertable(Oid rel, const char *table,
										  const char *time_col,
										  TenantCutoff *cut, int n,
										  TimestampTz oldest,
										  TimestampTz default_cutoff,
										  bool strict);

#endif							/* TELOS_RETENTION_INT_H */
