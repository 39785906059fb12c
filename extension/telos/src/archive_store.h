/*-------------------------------------------------------------------------
 *
 * archive_store.h
 *	  Where archive files live: a narrow object-store interface over the
 *	  archive directory (telos.archive_directory).
 *
 * An object is named by a relative path ("2025/db16384/chunk_12.1a2b.tca")
 * that is what telos.compressed_chunk.file records. The interface is what
 * an object store offers -- put a whole object atomically, read ranges of
 * it, remove it, ask whether it exists, list a prefix -- so that the
 * directory implementation here can later be joined by one over S3/MinIO
 * without touching the file format or the archive module.
 *
 * Directory implementation:
 *	 - the root is telos.archive_directory (PGC_SIGHUP; default
 *	   "../archive": a relative setting is relative to the data directory,
 *	   so the default is the directory "archive" beside it --
 *	   $TELOS_HOME/archive in the embedded cluster);
 *	 - names are relative, made of components of [A-Za-z0-9._-] that are
 *	   not "." or ".." (anything else is refused, 42602), and no component
 *	   under the root may be a symbolic link (the root itself may be one):
 *	   an object can never be outside the root;
 *	 - a put writes "<name>.tmp<pid>", fsyncs it, renames it to <name> and
 *	   fsyncs the directory, so an object is either absent or complete;
 *	   directories are made as needed (mode 0700).
 * Errors name the object; a missing object is ERRCODE_UNDEFINED_FILE.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_ARCHIVE_STORE_H
#define TELOS_ARCHIVE_STORE_H

#include "postgres.h"

/* The setting (its text; see above). */
extern char *archive_directory;

/* An object being written (archive_store_create). */
typedef struct ArchiveWriter ArchiveWriter;

/* An object open for reading (archive_store_open). */
typedef struct ArchiveObject ArchiveObject;

/*
 * archive_store_define_gucs
 *		Defines telos.archive_directory. Called from _PG_init.
 */
extern void archive_store_define_gucs(void);

/*
 * archive_store_check_name
 *		Errors (42602, naming what) unless name is a valid object name (see
 *		above). what is e.g. "location" or "archive file".
 */
extern void archive_store_check_name(const char *name, const char *what);

/*
 * archive_store_root
 *		The absolute path of the archive directory (the setting made
 *		absolute against the data directory), palloc'd.
 */
extern char *archive_store_root(void);

/*
 * archive_store_create
 *		Starts writing object name: its directories are made, and a
 *		temporary object is opened (its name: archive_store_temp_name).
 *		Errors when name is taken. The writer is palloc'd in the current
 *		memory context; its file is closed at transaction end if the caller
 *		does not (the temporary object is then the caller's to remove).
 */
extern ArchiveWriter *archive_store_create(const char *name);

/* archive_store_temp_name -- the name of the writer's temporary object. */
extern const char *archive_store_temp_name(const ArchiveWriter *w);

/* archive_store_write -- appends len bytes (buffered). */
extern void archive_store_write(ArchiveWriter *w, const void *data, size_t len);

/* archive_store_written -- the bytes appended so far. */
extern uint64 archive_store_written(const ArchiveWriter *w);

/*
 * archive_store_finish
 *		Makes the object durable under its name: flush, fsync, rename,
 *		fsync of the directory. After it, the object exists whole.
 */
extern void archive_store_finish(ArchiveWriter *w);

/*
 * archive_store_open
 *		Opens object name for reading; errors (58P01) naming it when it
 *		does not exist. The handle is closed at transaction end if the
 *		caller does not.
 */
extern ArchiveObject *archive_store_open(const char *name);

/* archive_store_size -- the object's size in bytes. */
extern uint64 archive_store_size(const ArchiveObject *o);

/*
 * archive_store_read
 *		Reads len bytes at offset into buf. The caller keeps offset + len
 *		within the size; a short read (the object changed under us) is an
 *		error (XX001) naming it.
 */
extern void archive_store_read(ArchiveObject *o, uint64 offset, void *buf, size_t len);

/* archive_store_close -- closes the handle and frees it. */
extern void archive_store_close(ArchiveObject *o);

/*
 * archive_store_remove
 *		Removes object name. Returns 0 when it is gone (or was not there),
 *		else the errno of the failure; never errors, so that it may run at
 *		commit. name must be valid (archive_store_check_name).
 */
extern int	archive_store_remove(const char *name);

/* archive_store_exists -- whether object name exists. */
extern bool archive_store_exists(const char *name);

/*
 * archive_store_list
 *		Calls fn(arg, name, age_secs) for every object under prefix (a valid
 *		name of a directory, or "" for the whole store) -- temporary ones
 *		included, symbolic links not followed -- where age_secs is the time
 *		since it was last modified. A missing prefix lists nothing.
 */
extern void archive_store_list(const char *prefix,
							   void (*fn) (void *arg, const char *name, double age_secs),
							   void *arg);

#endif							/* TELOS_ARCHIVE_STORE_H */
