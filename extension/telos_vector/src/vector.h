/*
 * vector.h -- the `vector` type of telos_vector: its on-disk layout and the
 * helpers the type's files and the ivfflat access method share.
 *
 * A value is a varlena: the 4-byte header, int16 dim, int16 unused (always
 * 0), then dim float4 components.  This is the layout pgvector stores, so a
 * dump taken with pgvector (text or binary COPY) restores into this type.
 *
 * Invariants of every Vector this code builds or accepts from outside
 * (text input, binary receive, casts, arithmetic results):
 *   1 <= dim <= VECTOR_MAX_DIM, unused == 0, every x[i] finite.
 * A value read back from a table is trusted to satisfy them (it was checked
 * on the way in); index pages are not -- the index code checks what it
 * reads.
 *
 * vector.c has PG_MODULE_MAGIC.  The type's files define no _PG_init: the
 * ivfflat part owns it (GUCs, reloptions); kernel dispatch needs no
 * initialisation.
 */
#ifndef TELOS_VECTOR_VECTOR_H
#define TELOS_VECTOR_VECTOR_H

#include "postgres.h"

#include "fmgr.h"

#include "distance.h"

#define VECTOR_MAX_DIM 16000

typedef struct Vector
{
	int32		vl_len_;		/* varlena header (do not touch directly) */
	int16		dim;			/* number of components */
	int16		unused;			/* reserved, always 0 */
	float		x[FLEXIBLE_ARRAY_MEMBER];
} Vector;

#define VECTOR_SIZE(dim)		(offsetof(Vector, x) + sizeof(float) * (dim))
#define DatumGetVector(x)		((Vector *) PG_DETOAST_DATUM(x))
#define PG_GETARG_VECTOR_P(x)	DatumGetVector(PG_GETARG_DATUM(x))
#define PG_RETURN_VECTOR_P(x)	PG_RETURN_POINTER(x)

/*
 * A new vector of `dim` zero components, palloc'd in the current memory
 * context (the caller or the context frees it).  Errors if dim is out of
 * 1..VECTOR_MAX_DIM.
 */
Vector	   *vector_new(int dim);

/*
 * ereport(ERROR) unless a and b have the same dimension.  Every binary
 * operator and distance function calls it before reading components.
 */
void		vector_check_same_dims(const Vector *a, const Vector *b);

/*
 * ereport(ERROR) unless 1 <= dim <= VECTOR_MAX_DIM.
 */
void		vector_check_dim(int dim);

/*
 * ereport(ERROR) if any component is NaN or infinite (used on every value
 * built from outside and on arithmetic results, where overflow gives Inf).
 */
void		vector_check_finite(const float *x, int dim);

#endif							/* TELOS_VECTOR_VECTOR_H */
