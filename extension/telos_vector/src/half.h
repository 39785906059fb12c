/*
 * half.h -- IEEE 754 half precision (binary16) for telos_vector: converting
 * arrays of float4 to and from half, and the distance kernels between a
 * float4 query and a vector stored in half precision (what an ivfflat index
 * with storage = 'half' computes for every entry it reads).
 *
 * A half has 11 significant bits (relative error at most 2^-11, about
 * 4.9e-4, after round-to-nearest-even), normal numbers from 6.1e-5 to
 * 65504, subnormals down to 6e-8.  Converting a float beyond +-65504 gives
 * an infinity: callers check with vector_half_fits() first and refuse such
 * values rather than store them (see ivfflat's storage reloption).
 *
 * On x86-64 with F16C (and AVX2+FMA, which every F16C CPU that PostgreSQL
 * runs on also has) the conversions and kernels use vcvtph2ps / vcvtps2ph on
 * 8 components at a time; elsewhere, a portable build does the same bit by
 * bit.  The first call picks the build (__builtin_cpu_supports), as
 * distance.c does.  Both builds convert identically (round to nearest even,
 * tested exhaustively by test/kernels/half_check.c); the kernels agree
 * within float rounding.
 *
 * Nothing here depends on PostgreSQL: test/kernels/ builds it alone.
 */
#ifndef TELOS_VECTOR_HALF_H
#define TELOS_VECTOR_HALF_H

#include <stdint.h>

/* The largest finite half */
#define VECTOR_HALF_MAX 65504.0f

/*
 * The index of the first component of x[0..dim) that a half cannot hold
 * (|x| > VECTOR_HALF_MAX, or not finite), or -1 when all fit.
 */
int			vector_half_fits(const float *x, int dim);

/* out[i] = x[i] rounded to the nearest half (ties to even). */
void		vector_float_to_half(const float *x, uint16_t *out, int dim);

/* out[i] = h[i] as a float (exact). */
void		vector_half_to_float(const uint16_t *h, float *out, int dim);

/* Sum of (a[i] - h[i])^2, h in half precision (float sum). */
float		vector_l2_squared_half(const float *a, const uint16_t *h, int dim);

/* Sum of a[i] * h[i], h in half precision (double when float lanes overflow). */
double		vector_inner_half(const float *a, const uint16_t *h, int dim);

/* The build in use: "plain" or "f16c" (picks one if not yet done). */
const char *vector_half_kernel_name(void);

/*
 * Testing and benchmarking only: force "plain" or "f16c", or "auto".
 * Returns 0 when done, -1 when this build or CPU does not have it.
 */
int			vector_half_kernel_force(const char *name);

#endif							/* TELOS_VECTOR_HALF_H */
