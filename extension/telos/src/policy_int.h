/*-------------------------------------------------------------------------
 *
 * policy_int.h
 *	  What policy.c (compression policy, the shared runner) and
 *	  policy_archive.c (archive policy) share; not for other modules.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_POLICY_INT_H
#define TELOS_POLICY_INT_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/jsonb.h"

#include "compress.h"

#define COMPRESSION_PROC	"compression_job"
#define ARCHIVE_PROC		"archive_job"
#define RETENTION_PROC		"retention_job"

/* A compression policy, parsed from its job's config. */
typedef struct CompressionPolicy
{
	Oid			rel;
	Interval	compress_after;
} CompressionPolicy;

/* An archive policy, parsed from its job's config. */
typedef struct ArchivePolicy
{
	Oid			rel;
	Interval	archive_after;
	char	   *location;		/* NULL: top of the archive directory */
	Oid			tenant_fn;		/* tenant_archive_after_fn, or InvalidOid */
} ArchivePolicy;

/* One run of a job, chunk by chunk (policy_run_*). */
typedef struct PolicyRun
{
	const char *what;			/* "compression job", for messages */
	bool		atomic;			/* no COMMIT between steps */
	MemoryContext cxt;			/* the caller's: survives the commits */
	int			ndone;
	int			nfailed;
	char	   *first_error;
} PolicyRun;

/* A chunk as listed at the start of a run. */
typedef struct PolicyChunk
{
	int64		id;
	TimestampTz range_end;
	char		state[16];
	char	   *name;			/* its relation, qualified, for messages */
} PolicyChunk;

/* Config readers (ERROR 22023 on a bad value). */
extern char *policy_config_string(Jsonb *config, const char *key, const char *policy);
extern Oid	policy_config_relation(Jsonb *config, const char *policy);
extern bool policy_config_interval(Jsonb *config, const char *key, const char *policy,
								   Interval *out);

/* ERROR unless fn is () RETURNS TABLE(uuid, interval) that role may run. */
extern void policy_check_tenant_fn(Oid fn, Oid role, const char *argname);

/* Parse and validate a config for a run as role. */
extern void policy_compression_parse(Jsonb *config, Oid role, CompressionPolicy *p);
extern void policy_archive_parse(Jsonb *config, Oid role, ArchivePolicy *p);

/*
 * policy_run_start / policy_run_step / policy_run_end
 *		start connects SPI (non-atomic when the procedure was CALLed outside
 *		a transaction block); step runs step(arg) in a subtransaction with a
 *		fresh snapshot, reports a failure as a WARNING, and commits when it
 *		may; end disconnects and fails the run when a step failed.
 */
extern void policy_run_start(PolicyRun *r, FunctionCallInfo fcinfo, const char *what);
extern bool policy_run_step(PolicyRun *r, void (*step) (void *arg), void *arg,
							const char *object);
extern void policy_run_end(PolicyRun *r);

/*
 * policy_list_chunks
 *		The chunks of rel in one of states (an SQL list: "'active',
 *		'compressed'"), oldest first, in the current memory context.
 */
extern PolicyChunk *policy_list_chunks(Oid rel, const char *states, int *n);

/* policy_owner -- the owner of relation relid. */
extern Oid	policy_owner(Oid relid);

/* policy_chunk_info -- chunk id as it is now, or NULL when it is gone. */
extern ChunkInfo *policy_chunk_info(int64 id);

#endif							/* TELOS_POLICY_INT_H */
