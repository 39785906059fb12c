/*
 * distance_impl.h -- the bodies of the distance kernels, included by
 * distance.c once per build (plain, AVX2, AVX-512).  Not a public header.
 *
 * Before including it, distance.c defines:
 *   KSFX        the build's suffix: the kernels are l2_squared_KSFX() etc.
 *               and their table kernels_KSFX
 *   KATTR       the function attribute of the build (target("...")), or empty
 *   KLANES      float accumulators of each sum (a power of two >= 32)
 *   KNORM_LANES double accumulators of norm
 * and undefines them after.
 *
 * Lane j sums the terms i with i % KLANES == j; the lanes are then folded
 * pairwise and the last four added in double.  Independent lanes are what
 * let the compiler keep the sums in vector registers without -ffast-math
 * (it may not reorder one running float sum), and several registers' worth
 * hide the latency of the adds.  The summation order is fixed by KLANES, so
 * builds with the same KLANES differ only by FMA rounding.
 *
 * What the shape has to respect for gcc 12 to vectorise it well (checked
 * with make vec-report and objdump):
 *  - the lane loop (j) is the one vectorised, with KLANES / width
 *    iterations; it must have more than 16 iterations' worth of work, or
 *    gcc unrolls it completely first and then vectorises the block loop (i)
 *    instead, interleaving blocks with shuffles -- 4 to 10 times slower;
 *    hence KLANES >= 32 and no unroll pragmas;
 *  - blocks are read through pa = a + i and pa[j], never a[i + j], with a
 *    size_t i: PGXS builds with -fwrapv, under which an int i + j may wrap,
 *    and gcc could then not prove the accesses contiguous and would gather
 *    element by element.
 */
#define KCAT_(a, b) a##_##b
#define KCAT(a, b) KCAT_(a, b)
#define KNAME(n) KCAT(n, KSFX)

/*
 * The sum of n (a power of two >= 4) lanes: halves added pairwise in float
 * down to 4 (vector adds, no long dependency chain), those 4 in double.
 */
KATTR static inline __attribute__((always_inline)) double
KNAME(fold) (float *acc, int n)
{
	for (int w = n / 2; w >= 4; w /= 2)
		for (int j = 0; j < w; j++)
			acc[j] += acc[j + w];
	return ((double) acc[0] + acc[1]) + ((double) acc[2] + acc[3]);
}

KATTR static float
KNAME(l2_squared) (const float *restrict a, const float *restrict b, int dim)
{
	float		acc[KLANES] = {0};
	size_t		i = 0;
	const size_t n = dim > 0 ? (size_t) dim : 0;
	double		s = 0.0;

	for (; i + KLANES <= n; i += KLANES)
	{
		const float *pa = a + i;
		const float *pb = b + i;

		for (int j = 0; j < KLANES; j++)
		{
			float		d = pa[j] - pb[j];

			acc[j] += d * d;
		}
	}
	for (; i < n; i++)
	{
		float		d = a[i] - b[i];

		s += (double) d * d;
	}
	return (float) (s + KNAME(fold) (acc, KLANES));
}

KATTR static double
KNAME(inner) (const float *restrict a, const float *restrict b, int dim)
{
	float		acc[KLANES] = {0};
	size_t		i = 0;
	const size_t n = dim > 0 ? (size_t) dim : 0;
	double		s = 0.0;

	for (; i + KLANES <= n; i += KLANES)
	{
		const float *pa = a + i;
		const float *pb = b + i;

		for (int j = 0; j < KLANES; j++)
			acc[j] += pa[j] * pb[j];
	}
	for (; i < n; i++)
		s += (double) a[i] * b[i];
	return s + KNAME(fold) (acc, KLANES);
}

KATTR static double
KNAME(cosine) (const float *restrict a, const float *restrict b, int dim)
{
	float		dot[KLANES] = {0};
	float		na[KLANES] = {0};
	float		nb[KLANES] = {0};
	size_t		i = 0;
	const size_t n = dim > 0 ? (size_t) dim : 0;
	double		d = 0.0,
				sa = 0.0,
				sb = 0.0;

	for (; i + KLANES <= n; i += KLANES)
	{
		const float *pa = a + i;
		const float *pb = b + i;

		for (int j = 0; j < KLANES; j++)
		{
			dot[j] += pa[j] * pb[j];
			na[j] += pa[j] * pa[j];
			nb[j] += pb[j] * pb[j];
		}
	}
	for (; i < n; i++)
	{
		d += (double) a[i] * b[i];
		sa += (double) a[i] * a[i];
		sb += (double) b[i] * b[i];
	}
	d += KNAME(fold) (dot, KLANES);
	sa += KNAME(fold) (na, KLANES);
	sb += KNAME(fold) (nb, KLANES);
	return cosine_from_sums(d, sa, sb);
}

KATTR static double
KNAME(norm) (const float *restrict a, int dim)
{
	/* Double lanes: the square of a finite float vector's norm can overflow float. */
	double		acc[KNORM_LANES] = {0};
	size_t		i = 0;
	const size_t n = dim > 0 ? (size_t) dim : 0;
	double		s = 0.0;

	for (; i + KNORM_LANES <= n; i += KNORM_LANES)
	{
		const float *pa = a + i;

		for (int j = 0; j < KNORM_LANES; j++)
			acc[j] += (double) pa[j] * pa[j];
	}
	for (; i < n; i++)
		s += (double) a[i] * a[i];
	for (int j = 0; j < KNORM_LANES; j++)
		s += acc[j];
	return sqrt(s);
}

KATTR static float
KNAME(l1) (const float *restrict a, const float *restrict b, int dim)
{
	float		acc[KLANES] = {0};
	size_t		i = 0;
	const size_t n = dim > 0 ? (size_t) dim : 0;
	double		s = 0.0;

	for (; i + KLANES <= n; i += KLANES)
	{
		const float *pa = a + i;
		const float *pb = b + i;

		for (int j = 0; j < KLANES; j++)
			acc[j] += fabsf(pa[j] - pb[j]);
	}
	for (; i < n; i++)
		s += fabsf(a[i] - b[i]);
	return (float) (s + KNAME(fold) (acc, KLANES));
}

static const KernelSet KNAME(kernels) = {
	KCAT_STR(KSFX), KNAME(l2_squared), KNAME(inner), KNAME(cosine), KNAME(norm), KNAME(l1)
};

#undef KCAT_
#undef KCAT
#undef KNAME
