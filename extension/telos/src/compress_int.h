/*-------------------------------------------------------------------------
 *
 * compress_int.h
 *	  What the files of the compress module (compress.c, compress_ops.c,
 *	  compress_api.c) share and nobody else needs.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_COMPRESS_INT_H
#define TELOS_COMPRESS_INT_H

#include "compress.h"
#include "compress_build.h"

/*
 * compress_exec_as
 *		Runs one statement of ours through SPI (connected, settings pinned
 *		by the caller) as role, in a security-restricted operation.
 */
extern void compress_exec_as(Oid role, const char *sql);

/*
 * compress_catalog_exec
 *		telos_spi_exec as the owner of the catalog (telos.compressed_chunk),
 *		who alone may write it.
 */
extern void compress_catalog_exec(const char *sql, int nargs, Oid *argtypes,
								  Datum *values, const char *nulls);

/* The OID of schema _telos_internal; errors when it is missing. */
extern Oid	compress_internal_nsp(void);

/*
 * compress_free_name
 *		<base>_<label>, clipped to NAMEDATALEN, with a number appended to the
 *		label while a relation of that name exists in schema nspid.
 */
extern char *compress_free_name(Oid nspid, const char *base, const char *label);

/*
 * compress_create_segments
 *		Makes an empty segment table of layout, _telos_internal.<chunkname>_seg
 *		(or a free variant), owned by the hypertable's owner; no index yet.
 */
extern Oid	compress_create_segments(const Hypertable *ht, const SegLayout *layout,
									 const char *chunkname);

/* Makes the btree (segment-by..., _telos_min_time) of a filled segment table. */
extern void compress_index_segments(Oid segments, const SegLayout *layout);

/*
 * compress_create_foreign
 *		Makes the foreign table of server telos_store with the hypertable's
 *		columns (named <chunkname>_compressed until the swap renames it),
 *		owned by the hypertable's owner.
 */
extern Oid	compress_create_foreign(const Hypertable *ht, const char *chunkname);

/*
 * compress_create_heap
 *		Makes an empty heap table like the hypertable (as chunk.c does),
 *		named <chunkname>_heap until the swap renames it, as its owner.
 */
extern Oid	compress_create_heap(const Hypertable *ht, const char *chunkname);

#endif							/* TELOS_COMPRESS_INT_H */
