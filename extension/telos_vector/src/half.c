/*
 * half.c -- half precision conversions and kernels (see half.h), in a
 * portable build and an F16C build chosen at the first call.
 *
 * The portable conversions work on the bits: float -> half rounds to
 * nearest even as vcvtps2ph does with imm8 = 0 (normals by adding the
 * rounding bias to the bit pattern, subnormals by letting a float addition
 * do the rounding), half -> float is exact.  The portable kernels convert
 * 64 components at a time into a buffer on the stack and run the same
 * many-lane loop as distance_impl.h over it, which gcc vectorises.
 *
 * The F16C kernels load 8 halves (16 bytes) per vcvtph2ps and keep four
 * 8-lane accumulators (32 components per iteration), fused multiply-adds.
 * At 1536 dimensions an entry is 3 kB instead of 6 kB: an index scan,
 * bound by memory traffic, reads half the bytes.
 */
#include "half.h"

#include <math.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HALF_X86_DISPATCH 1
#include <immintrin.h>
#endif

typedef struct HalfKernels
{
	const char *name;
	void		(*to_half) (const float *, uint16_t *, int);
	void		(*to_float) (const uint16_t *, float *, int);
	float		(*l2_squared) (const float *, const uint16_t *, int);
	double		(*inner) (const float *, const uint16_t *, int);
} HalfKernels;

static inline uint32_t
float_bits(float f)
{
	uint32_t	u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static inline float
bits_float(uint32_t u)
{
	float		f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

/* One float to half, round to nearest even (NaN stays a quiet NaN). */
static inline uint16_t
half_from_float(float f)
{
	uint32_t	x = float_bits(f);
	uint32_t	sign = (x >> 16) & 0x8000u;
	uint32_t	ax = x & 0x7fffffffu;
	uint32_t	o;

	if (ax >= 0x7f800000u)
		o = ax > 0x7f800000u ? 0x7e00u | ((ax >> 13) & 0x3ffu) : 0x7c00u;
	else if (ax >= 0x47800000u)
		o = 0x7c00u;			/* >= 65536: infinity */
	else if (ax < 0x38800000u)
	{
		/*
		 * Below the smallest normal half (2^-14): add 0.5, whose ulp is
		 * 2^-24, the spacing of half subnormals; the float addition rounds
		 * to nearest even and the low mantissa bits are the half.
		 */
		o = float_bits(bits_float(ax) + 0.5f) - 0x3f000000u;
	}
	else
	{
		/* normal: rebias the exponent, round on the 13 dropped bits */
		uint32_t	odd = (ax >> 13) & 1u;

		ax += ((uint32_t) (15 - 127) << 23) + 0xfffu + odd;
		o = ax >> 13;			/* a carry into exponent 31 is infinity */
	}
	return (uint16_t) (o | sign);
}

/* One half to float (exact). */
static inline float
half_to_float_one(uint16_t h)
{
	uint32_t	sign = (uint32_t) (h & 0x8000u) << 16;
	uint32_t	em = h & 0x7fffu;
	uint32_t	bits;

	if (em >= 0x7c00u)
		bits = 0x7f800000u | ((em & 0x3ffu) << 13);
	else if (em >= 0x0400u)
		bits = (em << 13) + ((uint32_t) (127 - 15) << 23);
	else
		bits = float_bits((float) em * (1.0f / 16777216.0f));
	return bits_float(bits | sign);
}

int
vector_half_fits(const float *x, int dim)
{
	for (int i = 0; i < dim; i++)
		if (!(fabsf(x[i]) <= VECTOR_HALF_MAX))
			return i;
	return -1;
}

/* --- portable build --- */

#define PLAIN_BLOCK 64
#define PLAIN_LANES 32

static void
to_half_plain(const float *x, uint16_t *out, int dim)
{
	for (int i = 0; i < dim; i++)
		out[i] = half_from_float(x[i]);
}

static void
to_float_plain(const uint16_t *h, float *out, int dim)
{
	for (int i = 0; i < dim; i++)
		out[i] = half_to_float_one(h[i]);
}

static double
fold_plain(float *acc)
{
	for (int w = PLAIN_LANES / 2; w >= 4; w /= 2)
		for (int j = 0; j < w; j++)
			acc[j] += acc[j + w];
	return ((double) acc[0] + acc[1]) + ((double) acc[2] + acc[3]);
}

static float
l2_half_plain(const float *restrict a, const uint16_t *restrict h, int dim)
{
	float		buf[PLAIN_BLOCK];
	float		acc[PLAIN_LANES] = {0};
	const size_t n = dim > 0 ? (size_t) dim : 0;
	size_t		i = 0;
	double		s = 0.0;

	for (; i + PLAIN_BLOCK <= n; i += PLAIN_BLOCK)
	{
		for (int k = 0; k < PLAIN_BLOCK; k++)
			buf[k] = half_to_float_one(h[i + k]);
		for (int k = 0; k < PLAIN_BLOCK; k += PLAIN_LANES)
		{
			const float *pa = a + i + k;
			const float *pb = buf + k;

			for (int j = 0; j < PLAIN_LANES; j++)
			{
				float		d = pa[j] - pb[j];

				acc[j] += d * d;
			}
		}
	}
	for (; i < n; i++)
	{
		float		d = a[i] - half_to_float_one(h[i]);

		s += (double) d * d;
	}
	return (float) (s + fold_plain(acc));
}

static double
inner_half_plain(const float *restrict a, const uint16_t *restrict h, int dim)
{
	float		buf[PLAIN_BLOCK];
	float		acc[PLAIN_LANES] = {0};
	const size_t n = dim > 0 ? (size_t) dim : 0;
	size_t		i = 0;
	double		s = 0.0;

	for (; i + PLAIN_BLOCK <= n; i += PLAIN_BLOCK)
	{
		for (int k = 0; k < PLAIN_BLOCK; k++)
			buf[k] = half_to_float_one(h[i + k]);
		for (int k = 0; k < PLAIN_BLOCK; k += PLAIN_LANES)
		{
			const float *pa = a + i + k;
			const float *pb = buf + k;

			for (int j = 0; j < PLAIN_LANES; j++)
				acc[j] += pa[j] * pb[j];
		}
	}
	for (; i < n; i++)
		s += (double) a[i] * half_to_float_one(h[i]);
	return s + fold_plain(acc);
}

static const HalfKernels half_plain = {
	"plain", to_half_plain, to_float_plain, l2_half_plain, inner_half_plain
};

/* --- F16C build --- */

#ifdef HALF_X86_DISPATCH
#define F16C_ATTR __attribute__((target("avx2,fma,f16c")))

F16C_ATTR static void
to_half_f16c(const float *x, uint16_t *out, int dim)
{
	int			i = 0;

	for (; i + 8 <= dim; i += 8)
		_mm_storeu_si128((__m128i *) (out + i),
						 _mm256_cvtps_ph(_mm256_loadu_ps(x + i), 0));
	for (; i < dim; i++)
		out[i] = half_from_float(x[i]);
}

F16C_ATTR static void
to_float_f16c(const uint16_t *h, float *out, int dim)
{
	int			i = 0;

	for (; i + 8 <= dim; i += 8)
		_mm256_storeu_ps(out + i,
						 _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (h + i))));
	for (; i < dim; i++)
		out[i] = half_to_float_one(h[i]);
}

/* The 8 lanes of v, summed in double. */
F16C_ATTR static inline double
hsum_f16c(__m256 v)
{
	float		t[8];

	_mm256_storeu_ps(t, v);
	return (((double) t[0] + t[4]) + ((double) t[1] + t[5])) +
		(((double) t[2] + t[6]) + ((double) t[3] + t[7]));
}

#define LOADH(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (p)))

F16C_ATTR static float
l2_half_f16c(const float *a, const uint16_t *h, int dim)
{
	__m256		s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps(),
				s2 = _mm256_setzero_ps(),
				s3 = _mm256_setzero_ps();
	int			i = 0;
	double		s = 0.0;

	for (; i + 32 <= dim; i += 32)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), LOADH(h + i));
		__m256		d1 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 8), LOADH(h + i + 8));
		__m256		d2 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 16), LOADH(h + i + 16));
		__m256		d3 = _mm256_sub_ps(_mm256_loadu_ps(a + i + 24), LOADH(h + i + 24));

		s0 = _mm256_fmadd_ps(d0, d0, s0);
		s1 = _mm256_fmadd_ps(d1, d1, s1);
		s2 = _mm256_fmadd_ps(d2, d2, s2);
		s3 = _mm256_fmadd_ps(d3, d3, s3);
	}
	for (; i + 8 <= dim; i += 8)
	{
		__m256		d0 = _mm256_sub_ps(_mm256_loadu_ps(a + i), LOADH(h + i));

		s0 = _mm256_fmadd_ps(d0, d0, s0);
	}
	for (; i < dim; i++)
	{
		float		d = a[i] - half_to_float_one(h[i]);

		s += (double) d * d;
	}
	s += hsum_f16c(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
	return (float) s;
}

F16C_ATTR static double
inner_half_f16c(const float *a, const uint16_t *h, int dim)
{
	__m256		s0 = _mm256_setzero_ps(),
				s1 = _mm256_setzero_ps(),
				s2 = _mm256_setzero_ps(),
				s3 = _mm256_setzero_ps();
	int			i = 0;
	double		s = 0.0;

	for (; i + 32 <= dim; i += 32)
	{
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), LOADH(h + i), s0);
		s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), LOADH(h + i + 8), s1);
		s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), LOADH(h + i + 16), s2);
		s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), LOADH(h + i + 24), s3);
	}
	for (; i + 8 <= dim; i += 8)
		s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), LOADH(h + i), s0);
	for (; i < dim; i++)
		s += (double) a[i] * half_to_float_one(h[i]);
	return s + hsum_f16c(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
}

static const HalfKernels half_f16c = {
	"f16c", to_half_f16c, to_float_f16c, l2_half_f16c, inner_half_f16c
};

static int
cpu_has_f16c(void)
{
	__builtin_cpu_init();
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
		__builtin_cpu_supports("f16c");
}
#endif

static const HalfKernels *half_active = NULL;

static const HalfKernels *
half_choose(void)
{
#ifdef HALF_X86_DISPATCH
	if (cpu_has_f16c())
		return &half_f16c;
#endif
	return &half_plain;
}

static inline const HalfKernels *
half_kernels(void)
{
	if (__builtin_expect(half_active == NULL, 0))
		half_active = half_choose();
	return half_active;
}

void
vector_float_to_half(const float *x, uint16_t *out, int dim)
{
	half_kernels()->to_half(x, out, dim);
}

void
vector_half_to_float(const uint16_t *h, float *out, int dim)
{
	half_kernels()->to_float(h, out, dim);
}

float
vector_l2_squared_half(const float *a, const uint16_t *h, int dim)
{
	return half_kernels()->l2_squared(a, h, dim);
}

double
vector_inner_half(const float *a, const uint16_t *h, int dim)
{
	double		r = half_kernels()->inner(a, h, dim);

	/* float lanes that overflowed: sum again in double */
	if (!isfinite(r))
	{
		r = 0.0;
		for (int i = 0; i < dim; i++)
			r += (double) a[i] * half_to_float_one(h[i]);
	}
	return r;
}

const char *
vector_half_kernel_name(void)
{
	return half_kernels()->name;
}

int
vector_half_kernel_force(const char *name)
{
	const HalfKernels *set = NULL;

	if (strcmp(name, "auto") == 0)
		set = half_choose();
	else if (strcmp(name, "plain") == 0)
		set = &half_plain;
#ifdef HALF_X86_DISPATCH
	else if (strcmp(name, "f16c") == 0 && cpu_has_f16c())
		set = &half_f16c;
#endif
	if (set == NULL)
		return -1;
	half_active = set;
	return 0;
}
