/*-------------------------------------------------------------------------
 *
 * colblob.h
 *	  Column blobs: the values of one column of one compressed segment
 *	  (at most COLBLOB_MAX_ROWS rows), encoded with the codecs of
 *	  src/codec/codec.h and stored as one bytea of the segment row.
 *
 * API as suggested in the brief (unchanged).
 *
 * The codec is chosen per column type when encoding:
 *	 int2, int4, int8, date, time	-> i64 codec, delta
 *	 timestamp, timestamptz			-> i64 codec, delta-of-delta
 *	 float8							-> decimal codec when every value is a
 *									   short decimal, else Gorilla
 *	 float4							-> Gorilla on the 32-bit pattern
 *	 bool							-> bool codec
 *	 anything else					-> byte strings (fixed-length by-reference
 *									   types: their bytes; varlena: the
 *									   detoasted datum; cstring: without the
 *									   NUL), dictionary when there are few
 *									   distinct values, else zstd blob
 * NULLs are a bitmap (bool codec) encoded only when some but not all
 * values are NULL; an all-NULL column is a header alone.
 *
 * Blob layout (all integers little endian):
 *	 byte 0		format version (COLBLOB_VERSION)
 *	 byte 1		codec tag (ColBlobCodec)
 *	 byte 2		null kind: 0 none, 1 some (bitmap follows), 2 all
 *	 byte 3		reserved, 0
 *	 bytes 4-7	row count n (including NULLs)
 *	 [nulls]	uint32 length + bool codec bitmap, when null kind = 1
 *	 rest		the codec's payload over the non-NULL values, in row order
 *
 * Decoding validates everything (the blob may come from a damaged table or
 * a hostile archive file) and reports a bad blob with
 * ereport(ERROR, ERRCODE_DATA_CORRUPTED); it never reads or writes out of
 * bounds and allocates at most what n rows of the column need.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_COLBLOB_H
#define TELOS_COLBLOB_H

#include "postgres.h"

#include "catalog/pg_attribute.h"

/* The most rows one segment (and so one blob) holds. */
#define COLBLOB_MAX_ROWS	1000

/* Version of the blob format written by colblob_encode. */
#define COLBLOB_VERSION		1

/* Codec tags (byte 1 of a blob); stored on disk, never renumber. */
typedef enum ColBlobCodec
{
	COLBLOB_NULLS = 0,			/* all values NULL, no payload */
	COLBLOB_I64 = 1,			/* i64 codec, int2/int4/int8/date/time/timestamp(tz) */
	COLBLOB_GORILLA = 2,		/* float8 bits */
	COLBLOB_DECIMAL = 3,		/* float8 decimals */
	COLBLOB_GORILLA4 = 4,		/* float4 bits, zero-extended */
	COLBLOB_BOOL = 5,
	COLBLOB_DICT = 6,			/* byte strings, dictionary */
	COLBLOB_BLOB = 7			/* byte strings, zstd */
} ColBlobCodec;

/*
 * colblob_encode
 *		Encodes n (1..COLBLOB_MAX_ROWS) values of a column of type att
 *		(values[i] is ignored where isnull[i]) into a bytea palloc'd in the
 *		current memory context. Varlena values may be toasted or short.
 */
extern bytea *colblob_encode(Form_pg_attribute att, const Datum *values,
							 const bool *isnull, int n);

/*
 * colblob_decode
 *		Decodes blob, which must hold exactly n values of a column of type
 *		att, into values[0..n-1] / isnull[0..n-1]. By-reference results are
 *		palloc'd in the current memory context (varlena ones with a 4-byte
 *		header, never toasted). A blob that is not well formed, is of
 *		another type's codec or holds another count is an error
 *		(ERRCODE_DATA_CORRUPTED) whose message names the column (and the
 *		relation set by colblob_set_context, if any).
 */
extern void colblob_decode(Form_pg_attribute att, const bytea *blob, int n,
						   Datum *values, bool *isnull);

/*
 * colblob_set_context
 *		Names the relation (e.g. the chunk) the following decodes belong to,
 *		for error messages; NULL clears it. The string must outlive the
 *		decodes (the caller's memory).
 */
extern void colblob_set_context(const char *relname);

/*
 * colblob_codec_name
 *		A printable name of the codec a blob uses ("i64", "gorilla", ...,
 *		"invalid"), for diagnostics and benchmarks.
 */
extern const char *colblob_codec_name(const bytea *blob);

#endif							/* TELOS_COLBLOB_H */
