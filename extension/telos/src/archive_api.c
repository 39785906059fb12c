/*-------------------------------------------------------------------------
 *
 * archive_api.c
 *	  The SQL functions of the archive module: telos.archive_chunk,
 *	  restore_chunk, verify_archive, archive_sweep, and the internal
 *	  archive_file_dropped the DROP event trigger calls.
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "archive.h"
#include "archive_store.h"
#include "compress.h"
#include "util.h"

PG_FUNCTION_INFO_V1(telos_archive_chunk);
PG_FUNCTION_INFO_V1(telos_restore_chunk);
PG_FUNCTION_INFO_V1(telos_verify_archive);
PG_FUNCTION_INFO_V1(telos_archive_sweep);
PG_FUNCTION_INFO_V1(telos_archive_file_dropped);

/*
 * telos.archive_chunk(chunk regclass, location text DEFAULT NULL)
 *		RETURNS regclass
 *
 * Archives an active or compressed chunk (see archive.h) and returns it (a
 * foreign table now, same name). An archived chunk is archived again only
 * when rows were written into it since (its delta is merged into a new
 * file); else a NOTICE.
 */
Datum
telos_archive_chunk(PG_FUNCTION_ARGS)
{
	Oid			chunk = telos_arg_relid(fcinfo, 0, "chunk");
	char	   *location = PG_ARGISNULL(1) ? NULL : text_to_cstring(PG_GETARG_TEXT_PP(1));
	ChunkInfo  *info;

	if (location != NULL)
		archive_store_check_name(location, "location");
	info = compress_chunk_lookup(chunk);
	archive_check_privilege(info->hypertable, "archive");
	if (strcmp(info->state, "archived") == 0 &&
		!archive_delta_has_rows(info->id))
	{
		ereport(NOTICE,
				(errmsg("chunk \"%s\" is already archived, skipping", get_rel_name(chunk))));
		PG_RETURN_OID(chunk);
	}
	if (strcmp(info->state, "active") != 0 && strcmp(info->state, "compressed") != 0 &&
		strcmp(info->state, "archived") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("chunk \"%s\" cannot be archived in state %s",
						get_rel_name(chunk), info->state)));
	PG_RETURN_OID(archive_chunk_rel(info, location));
}

/*
 * telos.restore_chunk(chunk regclass) RETURNS regclass
 *
 * Makes an archived chunk a heap table again (same name), with the rows of
 * its file and its delta; the file is removed after commit.
 */
Datum
telos_restore_chunk(PG_FUNCTION_ARGS)
{
	Oid			chunk = telos_arg_relid(fcinfo, 0, "chunk");
	ChunkInfo  *info = compress_chunk_lookup(chunk);

	archive_check_privilege(info->hypertable, "restore");
	if (strcmp(info->state, "archived") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("chunk \"%s\" is not archived", get_rel_name(chunk)),
				 errdetail("Its state is %s.", info->state),
				 strcmp(info->state, "compressed") == 0 ?
				 errhint("Use telos.decompress_chunk() for a compressed chunk.") : 0));
	PG_RETURN_OID(restore_chunk_rel(info));
}

/*
 * telos.verify_archive(chunk regclass) RETURNS jsonb
 *
 * Reads the whole file of an archived chunk and checks every checksum;
 * returns {file, bytes, segments, rows, checksum}, or fails naming the file.
 * Any role that may read the hypertable may check its archive.
 */
Datum
telos_verify_archive(PG_FUNCTION_ARGS)
{
	Oid			chunk = telos_arg_relid(fcinfo, 0, "chunk");
	ChunkInfo  *info = compress_chunk_lookup(chunk);

	if (pg_class_aclcheck(info->hypertable, GetUserId(), ACL_SELECT) != ACLCHECK_OK)
		aclcheck_error(ACLCHECK_NO_PRIV, OBJECT_TABLE, get_rel_name(info->hypertable));
	if (strcmp(info->state, "archived") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("chunk \"%s\" is not archived", get_rel_name(chunk))));
	PG_RETURN_DATUM(archive_verify_chunk(info));
}

/* found callback of archive_sweep: one row of the result. */
static void
sweep_found(void *arg, const char *name)
{
	ReturnSetInfo *rsinfo = arg;
	Datum		v = CStringGetTextDatum(name);
	bool		isnull = false;

	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &v, &isnull);
}

/*
 * telos.archive_sweep(min_age interval DEFAULT '1 hour') RETURNS SETOF text
 *
 * Removes this database's archive files that no catalog row names and that
 * are older than min_age (left by a crash between a commit and the removal
 * of a file it stopped using, or during an archive); returns their names.
 * Not for PUBLIC (the SQL part revokes it).
 */
Datum
telos_archive_sweep(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	Interval   *age;
	double		secs;

	telos_arg_notnull(fcinfo, 0, "min_age");
	age = PG_GETARG_INTERVAL_P(0);
	secs = (double) age->time / USECS_PER_SEC +
		(double) age->day * SECS_PER_DAY +
		(double) age->month * DAYS_PER_MONTH * SECS_PER_DAY;
	if (secs < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("min_age must not be negative")));
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	if (archive_sweep(secs, sweep_found, rsinfo) < 0)
		ereport(NOTICE,
				(errmsg("archive sweep skipped: chunks are being archived")));
	return (Datum) 0;
}

/*
 * telos.archive_file_dropped(file text) RETURNS void
 *
 * For the sql_drop event trigger: the archived chunk that used file is
 * being dropped, so the file goes when the transaction commits. Not for
 * PUBLIC: it removes files.
 */
Datum
telos_archive_file_dropped(PG_FUNCTION_ARGS)
{
	telos_arg_notnull(fcinfo, 0, "file");
	archive_remove_at_commit(text_to_cstring(PG_GETARG_TEXT_PP(0)));
	PG_RETURN_VOID();
}
