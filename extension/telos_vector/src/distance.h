/*
 * distance.h -- the distance kernels of telos_vector.
 *
 * Every kernel takes two arrays of `dim` float4 components (dim >= 0; the
 * caller has checked that both vectors have the same dimension) and returns
 * the raw quantity; turning it into an SQL result (sqrt, negation, NaN for a
 * zero vector) is the caller's business, except where a function says so.
 *
 * The kernels are plain C loops written so that the compiler vectorises
 * them (several independent accumulators, no loop-carried dependence across
 * lanes).  On x86-64 the same loops are also compiled for AVX2+FMA and for
 * AVX-512 with __attribute__((target)); the first call picks AVX2 when the
 * CPU has it (__builtin_cpu_supports), else the plain build (AVX-512 did not
 * pay; see distance.c).  The builds agree within float rounding (1e-5
 * relative, tested), not always to the last bit (FMA, summation order):
 * code that must compare distances computed at different times (an index
 * and its heap recheck) gets the same build within one process.
 *
 * This file and distance.c depend on nothing from PostgreSQL, so the kernel
 * test and micro-benchmark (test/kernels/) build them standalone.
 */
#ifndef TELOS_VECTOR_DISTANCE_H
#define TELOS_VECTOR_DISTANCE_H

/*
 * Sum of (a[i] - b[i])^2: the squared Euclidean distance (float sum;
 * infinity when it exceeds float's range -- SQL l2_distance then sums in
 * double).
 */
float		vector_l2_squared(const float *a, const float *b, int dim);

/*
 * Sum of a[i] * b[i]: the inner product (summed again in double when the
 * float lanes overflow, so finite for finite input).
 */
double		vector_inner(const float *a, const float *b, int dim);

/*
 * 1 - a.b / (|a| |b|), clamped to [0, 2].  NaN when either vector has norm
 * zero (the cosine is undefined there; SQL callers return NaN as pgvector
 * does, index code should treat it as "farthest").  Never NaN for non-zero
 * finite input (overflowing float lanes are summed again in double).
 */
double		vector_cosine_distance(const float *a, const float *b, int dim);

/* sqrt(sum of a[i]^2), accumulated in double. */
double		vector_norm(const float *a, int dim);

/*
 * Sum of |a[i] - b[i]|: the taxicab (L1) distance (float sum; infinity past
 * float's range, as vector_l2_squared).
 */
float		vector_l1(const float *a, const float *b, int dim);

/*
 * The build in use: "plain", "avx2" (or "avx512" when forced).  Calling it
 * makes the choice if no kernel has been called yet.
 */
const char *vector_kernel_name(void);

/*
 * Testing and benchmarking only: force an implementation by name ("plain",
 * "avx2", "avx512"), or "auto" for the dispatcher's own choice.  Returns 0
 * when done, -1 when this build or CPU does not have it (the current choice
 * is kept).
 */
int			vector_kernel_force(const char *name);

#endif							/* TELOS_VECTOR_DISTANCE_H */
