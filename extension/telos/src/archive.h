/*-------------------------------------------------------------------------
 *
 * archive.h
 *	  Cold archive of chunks: a chunk's rows go to a checksummed archive
 *	  file (archive_file.h) in the archive directory (archive_store.h) and
 *	  the chunk becomes a foreign table of server telos_store over it, still
 *	  attached to the hypertable, so queries and row-level security are
 *	  unchanged; restore brings it back as a heap table.
 *
 * File life cycle. A file is written under a temporary name, made durable
 * and renamed before the transaction that archives the chunk commits; if
 * that transaction (or subtransaction) aborts, the file is removed. A file
 * that a committed transaction stops using (restore, re-archive, DROP of
 * the chunk) is removed only after the commit, so an aborted restore still
 * has its file. What a crash leaves between the two (a file no catalog row
 * names) is removed by archive_sweep, which the archive policy runs.
 *
 * Files of a database live under "<location>/c<system id>-d<database
 * oid>/": the sweep of one database never looks at another's, nor at
 * another cluster's sharing the directory.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_ARCHIVE_H
#define TELOS_ARCHIVE_H

#include "postgres.h"

#include "compress.h"

/* Suffix of archive files. */
#define ARCHIVE_FILE_SUFFIX		".tca"

/* field2 of the advisory lock archivers (share) and the sweep (exclusive) take. */
#define TELOS_LOCK_ARCHIVE		3

/*
 * archive_init
 *		Defines the module's settings (telos.archive_directory) and registers
 *		the transaction callbacks that remove files at commit or abort.
 *		Called from _PG_init.
 */
extern void archive_init(void);

/*
 * archive_check_privilege
 *		Errors (42501) unless the current user may change how the chunks of
 *		hypertable are stored (action, e.g. "archive", names it): its owner,
 *		or a role with DELETE on it that row-level security does not apply
 *		to (BYPASSRLS) -- who could drop the chunk may archive it, so the
 *		policies can run as the worker role that runs retention.
 */
extern void archive_check_privilege(Oid hypertable, const char *action);

/*
 * archive_delta_has_rows
 *		Whether the delta table of compressed or archived chunk chunk_id
 *		holds rows (rows written since it was compressed or archived).
 */
extern bool archive_delta_has_rows(int64 chunk_id);

/*
 * archive_chunk_rel
 *		Archives the chunk described by info: its rows (heap, or a
 *		compressed chunk's segments and delta, or an archived chunk's file
 *		and delta) go to a new file under location (NULL: the top of the
 *		archive directory), and a foreign table over it replaces the chunk.
 *		Returns the foreign table's OID. The caller has checked privileges.
 */
extern Oid	archive_chunk_rel(const ChunkInfo *info, const char *location);

/*
 * restore_chunk_rel
 *		Brings the archived chunk described by info back into a heap table
 *		(its file, checked whole first, and its delta) attached in its
 *		place; returns it. The file is removed after commit.
 */
extern Oid	restore_chunk_rel(const ChunkInfo *info);

/*
 * archive_purge_segments
 *		Rewrites the file of archived chunk info without the segments whose
 *		first segment-by column (column, of type typid: the tenant) is one of
 *		drop[0..ndrop-1] or, when drop_unlisted, none of
 *		listed[0..nlisted-1]; deletes the same rows from its delta table.
 *		Segments with a NULL tenant stay. Returns the rows removed; the file
 *		is kept when no segment goes. Errors (0A000) when the chunk is not
 *		segmented by column first.
 */
extern int64 archive_purge_segments(const ChunkInfo *info, const char *column, Oid typid,
									Datum *drop, int ndrop, Datum *listed, int nlisted,
									bool drop_unlisted);

/*
 * archive_verify_chunk
 *		Checks the whole file of archived chunk info (every segment and the
 *		file checksum, against the catalog's); returns a jsonb summary.
 */
extern Datum archive_verify_chunk(const ChunkInfo *info);

/*
 * archive_remove_at_commit / archive_remove_at_abort
 *		Removes archive file name when the current (sub)transaction commits
 *		(its catalog rows no longer name the file) or aborts (they never
 *		will). A subtransaction's requests follow its fate. PREPARE
 *		TRANSACTION is refused while requests are pending.
 */
extern void archive_remove_at_commit(const char *name);
extern void archive_remove_at_abort(const char *name);

/*
 * archive_lock_writers
 *		Takes the advisory lock that keeps archive_sweep away while this
 *		transaction makes files (share mode, until transaction end).
 */
extern void archive_lock_writers(void);

/*
 * archive_db_dir
 *		"c<system identifier>-d<database oid>", this database's directory
 *		under each location (palloc'd).
 */
extern char *archive_db_dir(void);

/*
 * archive_sweep
 *		Removes the files of this database that no telos.compressed_chunk
 *		row names and that were last modified at least min_age_secs ago;
 *		calls found(arg, name) for each (found may be NULL). Returns how
 *		many, or -1 when archivers are at work (the sweep is skipped: their
 *		files are not in the catalog yet).
 */
extern int64 archive_sweep(double min_age_secs,
						   void (*found) (void *arg, const char *name), void *arg);

#endif							/* TELOS_ARCHIVE_H */
