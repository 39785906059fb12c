/*
 * 50_archive.sql -- cold archive of chunks and the compression and archive
 * policies (since 0.3.0; module "archive": src/archive*.c,
 * src/segsource_file.c, src/policy*.c).
 *
 * An archived chunk keeps its segment rows (those a compressed chunk keeps
 * in its segment table) in a checksummed file under
 * telos.archive_directory; the chunk is a foreign table of server
 * telos_store over that file and a delta table, still attached to the
 * hypertable: queries, partition pruning and row-level security are
 * unchanged. telos.compressed_chunk records the file (storage 'file').
 */

/*
 * telos.archive_chunk -- move a chunk's rows into an archive file under
 * location (a relative path inside telos.archive_directory; NULL: its top)
 * and make the chunk a foreign table over it. The caller must own the
 * hypertable, or have DELETE on it with no row-level security applying.
 */
CREATE FUNCTION telos.archive_chunk(chunk regclass, location text DEFAULT NULL)
	RETURNS regclass
	AS 'MODULE_PATHNAME', 'telos_archive_chunk'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.archive_chunk(regclass, text) IS
	'archive a chunk: its rows go to a checksummed file, the chunk becomes a foreign table over it';

/* telos.restore_chunk -- an archived chunk becomes a heap table again. */
CREATE FUNCTION telos.restore_chunk(chunk regclass)
	RETURNS regclass
	AS 'MODULE_PATHNAME', 'telos_restore_chunk'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.restore_chunk(regclass) IS
	'bring an archived chunk back into a heap table; its file is removed after commit';

/* telos.verify_archive -- read an archived chunk's whole file, check every checksum. */
CREATE FUNCTION telos.verify_archive(chunk regclass)
	RETURNS jsonb
	AS 'MODULE_PATHNAME', 'telos_verify_archive'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.verify_archive(regclass) IS
	'check the archive file of a chunk: every segment and the whole-file checksum';

/*
 * telos.archive_sweep -- remove this database's archive files that no
 * catalog row names (left by a crash), older than min_age; returns them.
 * The archive policy runs it. Removes files: not for PUBLIC.
 */
CREATE FUNCTION telos.archive_sweep(min_age interval DEFAULT '1 hour')
	RETURNS SETOF text
	AS 'MODULE_PATHNAME', 'telos_archive_sweep'
	LANGUAGE C VOLATILE STRICT;

COMMENT ON FUNCTION telos.archive_sweep(interval) IS
	'remove archive files of this database that no chunk uses';

REVOKE EXECUTE ON FUNCTION telos.archive_sweep(interval) FROM PUBLIC;

/* Internal: the event trigger below asks for a file's removal at commit. */
CREATE FUNCTION telos.archive_file_dropped(file text)
	RETURNS void
	AS 'MODULE_PATHNAME', 'telos_archive_file_dropped'
	LANGUAGE C VOLATILE STRICT;

REVOKE EXECUTE ON FUNCTION telos.archive_file_dropped(text) FROM PUBLIC;

/*
 * When an archived chunk's foreign table (or its delta table) is dropped --
 * DROP TABLE, restore, a re-archive, the hypertable dropped -- its file is
 * removed when the transaction commits. Named to run before
 * telos_on_sql_drop and telos_on_sql_drop_compressed (event triggers fire
 * in name order), which forget the chunk's catalog rows. PL/pgSQL and
 * SECURITY DEFINER for the reasons given at telos.on_sql_drop; the C
 * function is called only when an archived chunk is among the dropped.
 */
CREATE FUNCTION telos.on_sql_drop_archived()
	RETURNS event_trigger
	LANGUAGE plpgsql SECURITY DEFINER
	SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	f text;
BEGIN
	IF to_regclass('telos.compressed_chunk') IS NULL OR to_regclass('telos.chunk') IS NULL THEN
		RETURN;
	END IF;
	FOR f IN
		SELECT DISTINCT cc.file
		  FROM telos.compressed_chunk cc
		  JOIN telos.chunk c ON c.id = cc.chunk_id
		  JOIN pg_event_trigger_dropped_objects() d
		    ON d.classid = 'pg_class'::regclass AND d.objsubid = 0
		   AND (cc.delta = d.objid::regclass OR c.relid = d.objid::regclass)
		 WHERE cc.storage = 'file' AND cc.file IS NOT NULL
	LOOP
		PERFORM telos.archive_file_dropped(f);
	END LOOP;
END
$$;

REVOKE EXECUTE ON FUNCTION telos.on_sql_drop_archived() FROM PUBLIC;

CREATE EVENT TRIGGER telos_archive_on_sql_drop ON sql_drop
	EXECUTE FUNCTION telos.on_sql_drop_archived();

/* ------------------------------------------------------------------------
 * Compression and archive policies: jobs whose proc is one of the two
 * procedures below, with the policy in the job's config. Procedures: each
 * chunk is committed on its own when the job runs outside a transaction
 * block (the scheduler, CALL telos.run_job).
 * ------------------------------------------------------------------------ */

/* telos.compression_job -- the job behind telos.add_compression_policy. */
CREATE PROCEDURE telos.compression_job(job_id integer, config jsonb)
	AS 'MODULE_PATHNAME', 'telos_compression_job'
	LANGUAGE C;

COMMENT ON PROCEDURE telos.compression_job(integer, jsonb) IS
	'job: compress chunks older than compress_after, recompress chunks with late rows';

/*
 * telos.add_compression_policy -- compress rel's chunks once their range
 * ended compress_after ago, and merge rows written into compressed chunks,
 * every schedule, as run_as (NULL: the caller), who must own rel or have
 * DELETE on it with no row-level security applying.
 */
CREATE FUNCTION telos.add_compression_policy(
	rel regclass,
	compress_after interval DEFAULT '7 days',
	if_not_exists boolean DEFAULT false,
	schedule interval DEFAULT '1 hour',
	run_as regrole DEFAULT NULL)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'telos_add_compression_policy'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.add_compression_policy(regclass, interval, boolean, interval, regrole) IS
	'schedule the compression of a hypertable''s chunks; returns the job id';

CREATE FUNCTION telos.remove_compression_policy(rel regclass, if_exists boolean DEFAULT false)
	RETURNS void
	AS 'MODULE_PATHNAME', 'telos_remove_compression_policy'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.remove_compression_policy(regclass, boolean) IS
	'remove the compression policy of a hypertable';

/* telos.archive_job -- the job behind telos.add_archive_policy. */
CREATE PROCEDURE telos.archive_job(job_id integer, config jsonb)
	AS 'MODULE_PATHNAME', 'telos_archive_job'
	LANGUAGE C;

COMMENT ON PROCEDURE telos.archive_job(integer, jsonb) IS
	'job: archive chunks past every tenant''s hot period, keep retention in archived chunks, sweep orphan files';

/*
 * telos.add_archive_policy -- archive rel's chunks per tenant tier: a
 * tenant keeps data hot for archive_after (tenant_archive_after_fn()
 * RETURNS TABLE(tenant_id uuid, archive_after interval) may set it per
 * tenant) or until its retention ends (rel's retention policy), whichever
 * comes first; a chunk is archived when no tenant keeps it hot and some
 * tenant still keeps it. The job also purges tenants whose retention ended
 * from archived chunks and drops archived chunks no tenant keeps. Run as a
 * role that sees every tenant (BYPASSRLS), as retention is.
 */
CREATE FUNCTION telos.add_archive_policy(
	rel regclass,
	archive_after interval DEFAULT '12 months',
	if_not_exists boolean DEFAULT false,
	location text DEFAULT NULL,
	tenant_archive_after_fn regprocedure DEFAULT NULL,
	schedule interval DEFAULT '1 day',
	run_as regrole DEFAULT NULL)
	RETURNS integer
	AS 'MODULE_PATHNAME', 'telos_add_archive_policy'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.add_archive_policy(regclass, interval, boolean, text, regprocedure, interval, regrole) IS
	'schedule the archiving of a hypertable''s cold chunks per tenant tier; returns the job id';

CREATE FUNCTION telos.remove_archive_policy(rel regclass, if_exists boolean DEFAULT false)
	RETURNS void
	AS 'MODULE_PATHNAME', 'telos_remove_archive_policy'
	LANGUAGE C VOLATILE;

COMMENT ON FUNCTION telos.remove_archive_policy(regclass, boolean) IS
	'remove the archive policy of a hypertable';

/*
 * telos.chunks, with how each chunk is stored. storage: 'heap' (active),
 * 'table' (compressed: segment table) or 'file' (archived). heap_bytes: the
 * heap table with its TOAST and indexes (before compression, for the
 * others); stored_bytes: what the compressed form stores (segment table
 * with TOAST and index, or the archive file), late rows not included;
 * total_bytes and row_estimate include the delta table of late rows.
 * Rows come ordered by hypertable and range.
 */
CREATE OR REPLACE VIEW telos.chunks AS
SELECT c.hypertable,
       c.relid AS chunk,
       c.range_start,
       c.range_end,
       CASE WHEN cc.chunk_id IS NULL THEN pg_catalog.pg_total_relation_size(c.relid)
            ELSE coalesce(cc.stored_bytes, 0)
                 + coalesce(pg_catalog.pg_total_relation_size(cc.delta), 0)
       END AS total_bytes,
       CASE WHEN cc.chunk_id IS NULL THEN telos.row_estimate(c.relid)
            ELSE coalesce(cc.row_count, 0) + coalesce(telos.row_estimate(cc.delta), 0)
       END AS row_estimate,
       c.state,
       CASE WHEN cc.chunk_id IS NULL THEN 'heap' ELSE cc.storage END AS storage,
       CASE WHEN cc.chunk_id IS NULL THEN pg_catalog.pg_total_relation_size(c.relid)
            ELSE cc.heap_bytes
       END AS heap_bytes,
       CASE WHEN cc.chunk_id IS NULL THEN pg_catalog.pg_total_relation_size(c.relid)
            ELSE cc.stored_bytes
       END AS stored_bytes,
       CASE WHEN cc.chunk_id IS NOT NULL AND cc.stored_bytes > 0
            THEN round(cc.heap_bytes::numeric / cc.stored_bytes, 2)
       END AS compression_ratio,
       cc.file AS archive_file,
       cc.compressed_at
  FROM telos.chunk c
  LEFT JOIN telos.compressed_chunk cc ON cc.chunk_id = c.id
 WHERE c.relid IS NOT NULL
 ORDER BY c.hypertable, c.range_start;

COMMENT ON VIEW telos.chunks IS
	'chunks of hypertables with range, size, row estimate, state, storage and compression ratio';
