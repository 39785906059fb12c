/*-------------------------------------------------------------------------
 *
 * compress.h
 *	  Compressing and decompressing chunks: the pieces compress_api.c (the
 *	  SQL functions compress_chunk, decompress_chunk, recompress_chunk,
 *	  set_compression) is made of, exposed for the archive module.
 *
 * A compressed chunk is three relations:
 *	 - the chunk itself, now a foreign table of server telos_store attached
 *	   to the hypertable in place of the heap table (same name, range);
 *	 - its segment table _telos_internal.<chunk>_seg (compress_build.h);
 *	 - its delta table _telos_internal.<chunk>_delta, a heap table with the
 *	   hypertable's columns, for rows written into the compressed range.
 * The segment and delta tables belong to the hypertable's owner and depend
 * (DEPENDENCY_AUTO) on the foreign table, so that dropping the chunk drops
 * them; telos.compressed_chunk records them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_COMPRESS_H
#define TELOS_COMPRESS_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "storage/lockdefs.h"

#include "hypertable.h"

/* Schema of the segment and delta tables. */
#define COMPRESS_INTERNAL_SCHEMA	"_telos_internal"

/* Name of the foreign server of compressed (and archived) chunks. */
#define COMPRESS_SERVER_NAME		"telos_store"

/* What telos.chunk says about one chunk (compress_chunk_lookup). */
typedef struct ChunkInfo
{
	int64		id;				/* telos.chunk.id */
	Oid			hypertable;
	Oid			relid;			/* the table holding the range now */
	TimestampTz range_start;
	TimestampTz range_end;
	char	   *state;			/* 'active', 'compressed', 'archived' */
} ChunkInfo;

/*
 * compress_define_gucs
 *		Defines telos.debug_compress_fail_at (PGC_SUSET, for tests only): ''
 *		(default) or one of 'after_segments', 'after_swap' (raise an error at
 *		that point of compress/decompress/recompress), 'sleep_after_segments',
 *		'sleep_after_swap' (sleep 60 s there, interruptible, so a test can
 *		cancel or kill the backend mid-way). Called from _PG_init.
 */
extern void compress_define_gucs(void);

/*
 * compress_debug_point
 *		Fails or sleeps when telos.debug_compress_fail_at names point
 *		('after_segments' or 'after_swap').
 */
extern void compress_debug_point(const char *point);

/*
 * compress_chunk_lookup
 *		The telos.chunk row whose relid is chunk, in the current memory
 *		context. Errors (42P01 / 0A000) when chunk is not a chunk of a
 *		hypertable, naming the default partition when it is one. SPI need
 *		not be connected.
 */
extern ChunkInfo *compress_chunk_lookup(Oid chunk);

/*
 * compress_chunk_lock
 *		Locks the hypertable of info (ACCESS SHARE) and the chunk's table
 *		(mode), then reads the chunk's telos.chunk row again: another session
 *		may have compressed or decompressed it while this one waited, and
 *		the returned row (relid, state) is what the caller must act on.
 *		Errors when the chunk was dropped meanwhile.
 */
extern ChunkInfo *compress_chunk_lock(const ChunkInfo *info, LOCKMODE mode);

/*
 * compress_check_hypertable
 *		Errors (0A000) when hypertable cannot have compressed chunks: it has
 *		a unique or exclusion index, or foreign keys (a foreign table
 *		partition can have neither).
 */
extern void compress_check_hypertable(Oid hypertable);

/*
 * compress_create_delta
 *		Makes the delta table _telos_internal.<chunkname>_delta (a free name
 *		is chosen when taken): the hypertable's columns, defaults and
 *		constraints, owned by its owner, and makes it depend on parent
 *		(compress_set_parent_table) when parent is valid. Returns its OID.
 *		SPI connected by the caller; runs the DDL as the catalog owner.
 */
extern Oid	compress_create_delta(const Hypertable *ht, const char *chunkname,
								  Oid parent);

/*
 * compress_set_parent_table
 *		Makes internal_relid (a segment or delta table) depend automatically
 *		on parent (the chunk's foreign table), replacing any such dependency
 *		it had: it is dropped with parent. The archive module calls it to
 *		keep a compressed chunk's delta table across chunk_swap.
 */
extern void compress_set_parent_table(Oid internal_relid, Oid parent);

/*
 * compress_record_columns
 *		Records in telos.compressed_chunk.columns of chunk_id the columns
 *		hypertable has now (attnum, name, type), which the event trigger
 *		telos.on_ddl_compressed keeps from being renamed or retyped while
 *		the chunk's rows are stored by name and type. compress_chunk and
 *		recompress_chunk do it; archive_chunk should too. Runs as the
 *		catalog owner; SPI need not be connected.
 */
extern void compress_record_columns(int64 chunk_id, Oid hypertable);

/*
 * compress_relation_bytes
 *		pg_total_relation_size(relid): the table, its TOAST table and its
 *		indexes, in bytes (0 for a foreign table).
 */
extern int64 compress_relation_bytes(Oid relid);

/*
 * compress_chunk_rel
 *		Compresses the heap chunk described by info (its hypertable checked
 *		by compress_check_hypertable, the user's privileges checked by the
 *		caller) and returns the OID of the foreign table that replaced it.
 */
extern Oid	compress_chunk_rel(const ChunkInfo *info);

/*
 * decompress_chunk_rel
 *		Decompresses the compressed chunk described by info (segments and
 *		delta) into a new heap table attached in its place, and returns it.
 */
extern Oid	decompress_chunk_rel(const ChunkInfo *info);

/*
 * recompress_chunk_rel
 *		Rebuilds the segments of the compressed chunk described by info with
 *		the rows of its delta table merged in, and empties the delta table.
 *		Returns the number of delta rows merged.
 */
extern int64 recompress_chunk_rel(const ChunkInfo *info);

#endif							/* TELOS_COMPRESS_H */
