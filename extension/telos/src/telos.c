/*-------------------------------------------------------------------------
 *
 * telos.c
 *	  Entry point of the telos extension: the module's magic block, its
 *	  load-time initialisation, and the functions that say which build of
 *	  the engine is running.
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/json.h"

#include "archive.h"
#include "compress.h"
#include "scheduler.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(telos_version);
PG_FUNCTION_INFO_V1(telos_build_info);

/*
 * _PG_init
 *		Module load callback.
 *
 * The library is loaded in one of two ways, and must work in both: at
 * postmaster start because it is listed in shared_preload_libraries
 * (process_shared_preload_libraries_in_progress is then true), or lazily in
 * a backend on the first call of one of its functions.
 *
 * The job scheduler's launcher (scheduler.h) is registered only when
 * preloaded: RegisterBackgroundWorker() is only allowed while
 * shared_preload_libraries is processed. Loaded lazily, the engine's SQL
 * functions still work (CALL telos.run_job too) and the scheduler simply
 * does not run. The GUCs are defined in both cases so that SHOW telos.*
 * works everywhere.
 *
 * The ProcessUtility hook (scheduler.h) makes DROP DATABASE of the job
 * database work while the scheduler is connected to it.
 *
 * The prefix "telos" is not reserved (MarkGUCPrefixReserved): modules of
 * the engine use transaction-local placeholders such as
 * telos.retention_in_progress.
 */
void
_PG_init(void)
{
	scheduler_define_gucs();
	compress_define_gucs();
	archive_init();
	scheduler_install_hooks();
	if (process_shared_preload_libraries_in_progress)
		scheduler_register_launcher();
}

/*
 * telos_version
 *		telos.version() RETURNS text
 *
 * Returns the version of the loaded library, e.g. '0.1.0'. It can differ
 * from pg_extension.extversion (the version of the installed SQL objects)
 * after the library is upgraded and before ALTER EXTENSION telos UPDATE.
 */
Datum
telos_version(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(TELOS_VERSION));
}

/*
 * telos_build_info
 *		telos.build_info() RETURNS jsonb
 *
 * Describes the build of the loaded library: its version and the
 * PostgreSQL it was compiled against, as
 *		{"version": "0.1.0", "pg_major": 15, "pg_version_num": 150020,
 *		 "pg_version": "15.20 (Debian 15.20-0+deb12u1)"}
 * PG_MODULE_MAGIC already refuses to load a library built for another
 * major; this lets an operator see the exact build when reporting a bug.
 */
Datum
telos_build_info(PG_FUNCTION_ARGS)
{
	StringInfoData buf;

	initStringInfo(&buf);
	appendStringInfoString(&buf, "{\"version\": ");
	escape_json(&buf, TELOS_VERSION);
	appendStringInfo(&buf, ", \"pg_major\": %d", PG_MAJORVERSION_NUM);
	appendStringInfo(&buf, ", \"pg_version_num\": %d", PG_VERSION_NUM);
	appendStringInfoString(&buf, ", \"pg_version\": ");
	escape_json(&buf, PG_VERSION);
	appendStringInfoChar(&buf, '}');

	PG_RETURN_DATUM(DirectFunctionCall1(jsonb_in, CStringGetDatum(buf.data)));
}
