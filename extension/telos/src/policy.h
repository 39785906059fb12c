/*-------------------------------------------------------------------------
 *
 * policy.h
 *	  Compression and archive policies: telos.add_compression_policy,
 *	  telos.add_archive_policy (and their remove_*), and the jobs behind
 *	  them, telos.compression_job and telos.archive_job, which run through
 *	  the job scheduler (job.h) like the retention policy.
 *
 * Compression: every chunk whose range ended more than compress_after ago
 * is compressed; a compressed chunk whose delta holds rows (late data) is
 * recompressed.
 *
 * Archive, per tenant tier. Each tenant t has a retention R(t) (from the
 * hypertable's retention policy: its tenant_retention_fn, else its
 * default_retention; no retention policy: forever) and a hot period H(t)
 * (tenant_archive_after_fn, else archive_after). A tenant keeps a chunk hot
 * for min(H(t), R(t)) after the chunk's range ends: data that expires
 * before it would turn cold is never archived, it is dropped by retention.
 * A chunk is archived when
 *	 - it is past every tenant's hot period: range_end <= now - max min(H, R);
 *	 - some tenant still keeps it: range_end > now - max R;
 *	 - no rows of a tenant whose retention ended are left in it (retention
 *	   deletes them first: an archive never holds expired rows).
 * With the seed's tiers (free 3 months, standard 12, enterprise 36) and
 * archive_after 12 months, a chunk goes cold after 12 months and holds only
 * the rows of enterprise tenants (and others with longer windows). Once a
 * chunk is archived, the job also keeps retention there: the segments of
 * tenants whose retention ended are removed from the file (its segments
 * are grouped by tenant, so no row is decoded), and an archived chunk that
 * every tenant's retention has passed is dropped. Rows written into an
 * archived chunk are merged into a new file. Finally the job removes files
 * no catalog row names (archive_sweep).
 *
 * Each chunk is handled in a subtransaction and, when the job runs as a
 * procedure outside a transaction block (the scheduler, CALL
 * telos.run_job), committed on its own; a chunk that fails is reported (a
 * WARNING) and the others go on; the run then fails naming it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_POLICY_H
#define TELOS_POLICY_H

#include "postgres.h"

#include "utils/jsonb.h"

/*
 * policy_check_job_config
 *		When proc_schema.proc_name is telos.compression_job or
 *		telos.archive_job, validate config as that job will read it when run
 *		as run_as (ERROR otherwise); other procs are not checked.
 */
extern void policy_check_job_config(const char *proc_schema, const char *proc_name,
									Jsonb *config, Oid run_as);

#endif							/* TELOS_POLICY_H */
