/*
 * distance.c -- the distance kernels of telos_vector, and the run-time choice
 * between their plain, AVX2 and AVX-512 builds.
 *
 * The kernels are written once, in distance_impl.h, as loops over LANES
 * independent float accumulators, a shape gcc vectorises without
 * -ffast-math (see there).  This file instantiates them three times:
 * plainly (SSE2, the x86-64 baseline, or whatever the target has), with
 * __attribute__((target("avx2,fma"))) and with target("avx512f,...").  The
 * first call of any kernel picks a build for the process
 * (__builtin_cpu_supports, which also checks that the OS saves the wider
 * registers); the choice is one pointer to a table of functions.
 * PostgreSQL backends are single-threaded; two threads of the kernel test
 * racing would both store the same pointer.
 *
 * The Makefile compiles this file with -O3 -ffp-contract=fast: -O3 for the
 * vectoriser's full cost model, contraction so that the AVX2/AVX-512 builds
 * fuse multiply-adds (-std=c11 alone turns contraction off).  `make
 * vec-report` shows what was vectorised and which registers each kernel
 * uses; `make kernel-check` tests every build against a double-precision
 * reference and the dispatched builds against the plain one; `make
 * kernel-bench` measures.
 *
 * Measured (make kernel-bench, Xeon with AVX-512, gcc 12, PGXS flags, dim
 * 1536, inputs in L1, ns per call, best of 3, a shared machine):
 *
 *                 l2_squared   inner   cosine
 *     plain            163      121      416
 *     avx2              98       88      155
 *     avx512            90       88      151
 *
 * With the vectors in RAM (64 MB working set) every build takes 460-540 ns
 * for l2_squared at 1536: memory-bound.  AVX2 pays in cache (1.4-1.7x,
 * cosine 2.7x) and is what the dispatcher picks.
 * AVX-512 is within noise of AVX2 at 1536 (faster only at small dimensions:
 * 1.3-1.4x at 128), and a scan over vectors in RAM is memory-bound, where the
 * three builds measure the same; since heavy 512-bit code also lowers the
 * core clock on some Intel parts, it is not chosen.  It stays compiled, so
 * that the kernel test keeps it correct and the benchmark can re-measure it
 * on other CPUs (vector_kernel_force).
 *
 * Nothing here depends on PostgreSQL: test/kernels/ builds this file alone.
 */
#include "distance.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define DISTANCE_X86_DISPATCH 1
#endif

/* One build of the kernels: a table of them and its name. */
typedef struct KernelSet
{
	const char *name;
	float		(*l2_squared) (const float *, const float *, int);
	double		(*inner) (const float *, const float *, int);
	double		(*cosine) (const float *, const float *, int);
	double		(*norm) (const float *, int);
	float		(*l1) (const float *, const float *, int);
} KernelSet;

#define KCAT_STR_(x) #x
#define KCAT_STR(x) KCAT_STR_(x)

/*
 * 1 - d / sqrt(sa * sb) from the dot product and the squared norms, clamped
 * to [0, 2]; NaN when a vector is zero (its cosine is undefined).
 */
static inline double
cosine_from_sums(double d, double sa, double sb)
{
	double		sim;

	if (sa == 0.0 || sb == 0.0)
		return NAN;
	sim = d / sqrt(sa * sb);
	/* Rounding can push |sim| a hair over 1. */
	if (sim > 1.0)
		sim = 1.0;
	else if (sim < -1.0)
		sim = -1.0;
	return 1.0 - sim;
}

/*
 * The lane counts of each build (overridable with -D to re-measure).  32
 * lanes = 8 SSE / 4 AVX2 registers per sum; at 16 or fewer gcc unrolls the
 * lane loop before vectorising and then interleaves whole blocks with
 * shuffles, several times slower (see distance_impl.h).
 */
#ifndef PLAIN_LANES
#define PLAIN_LANES 32
#endif
#ifndef AVX2_LANES
#define AVX2_LANES 32
#endif
#ifndef AVX512_LANES
#define AVX512_LANES 64
#endif

#define KSFX plain
#define KATTR
#define KLANES PLAIN_LANES
#define KNORM_LANES 8
#include "distance_impl.h"
#undef KSFX
#undef KATTR
#undef KLANES
#undef KNORM_LANES

#ifdef DISTANCE_X86_DISPATCH
#define KSFX avx2
#define KATTR __attribute__((target("avx2,fma")))
#define KLANES AVX2_LANES
#define KNORM_LANES 16
#include "distance_impl.h"
#undef KSFX
#undef KATTR
#undef KLANES
#undef KNORM_LANES

#define KSFX avx512
#define KATTR __attribute__((target("avx512f,avx512vl,avx512dq,avx2,fma,prefer-vector-width=512")))
#define KLANES AVX512_LANES
#define KNORM_LANES 16
#include "distance_impl.h"
#undef KSFX
#undef KATTR
#undef KLANES
#undef KNORM_LANES
#endif

static const KernelSet *kernels_active = NULL;

#ifdef DISTANCE_X86_DISPATCH
/* AVX2 and FMA, with the OS saving the ymm registers. */
static int
cpu_has_avx2(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/* What the avx512 build uses, with the OS saving the zmm registers. */
static int
cpu_has_avx512(void)
{
	__builtin_cpu_init();
	return cpu_has_avx2() && __builtin_cpu_supports("avx512f") &&
		__builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq");
}
#endif

/*
 * The kernel set for this CPU: AVX2 when it has it, else plain (AVX-512:
 * see the top of the file).
 */
static const KernelSet *
kernels_choose(void)
{
#ifdef DISTANCE_X86_DISPATCH
	if (cpu_has_avx2())
		return &kernels_avx2;
#endif
	return &kernels_plain;
}

static inline const KernelSet *
kernels(void)
{
	if (__builtin_expect(kernels_active == NULL, 0))
		kernels_active = kernels_choose();
	return kernels_active;
}

float
vector_l2_squared(const float *a, const float *b, int dim)
{
	return kernels()->l2_squared(a, b, dim);
}

/*
 * The float lanes overflow to infinity when the true sums pass 3.4e38
 * (components near float4's limits); those rare inputs are summed again in
 * double, where they fit.
 */
static double
inner_double(const float *a, const float *b, int dim)
{
	double		s = 0.0;

	for (int i = 0; i < dim; i++)
		s += (double) a[i] * b[i];
	return s;
}

double
vector_inner(const float *a, const float *b, int dim)
{
	double		r = kernels()->inner(a, b, dim);

	return isfinite(r) ? r : inner_double(a, b, dim);
}

double
vector_cosine_distance(const float *a, const float *b, int dim)
{
	double		r = kernels()->cosine(a, b, dim);

	/* NaN: a zero vector, or float lanes that overflowed (see above). */
	if (isnan(r))
		return cosine_from_sums(inner_double(a, b, dim), inner_double(a, a, dim),
								inner_double(b, b, dim));
	return r;
}

double
vector_norm(const float *a, int dim)
{
	return kernels()->norm(a, dim);
}

float
vector_l1(const float *a, const float *b, int dim)
{
	return kernels()->l1(a, b, dim);
}

const char *
vector_kernel_name(void)
{
	return kernels()->name;
}

int
vector_kernel_force(const char *name)
{
	const KernelSet *set = NULL;

	if (strcmp(name, "auto") == 0)
		set = kernels_choose();
	else if (strcmp(name, "plain") == 0)
		set = &kernels_plain;
#ifdef DISTANCE_X86_DISPATCH
	else if (strcmp(name, "avx2") == 0 && cpu_has_avx2())
		set = &kernels_avx2;
	else if (strcmp(name, "avx512") == 0 && cpu_has_avx512())
		set = &kernels_avx512;
#endif
	if (set == NULL)
		return -1;
	kernels_active = set;
	return 0;
}
