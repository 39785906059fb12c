/*
 * ivfkmeans.c -- k-means for the ivfflat build: k-means++ seeding, then
 * Lloyd iterations accelerated with Hamerly's bounds.
 *
 * Input is the build's sample, a dense array of n vectors of dim floats
 * (already unit length for cosine).  For cosine the centroids are put back
 * on the unit sphere after every update (spherical k-means), so that the
 * Euclidean distance used here orders like the cosine distance.
 *
 * Hamerly's algorithm keeps, per point, an upper bound u on the distance to
 * its centroid and a lower bound l on the distance to every other centroid.
 * A point whose u is below max(l, half the distance from its centroid to
 * the nearest other centroid) cannot change cluster and is skipped; the
 * bounds are moved by how far the centroids moved.  Most points are skipped
 * after the first iterations, which is what makes 1536-dimension builds
 * bearable.  The result is the same as plain Lloyd from the same seeds.
 *
 * Everything is palloc'd in the caller's context; long loops call
 * CHECK_FOR_INTERRUPTS().
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"

#include "ivfflat.h"

#define ROW(base, i, dim) ((base) + (size_t) (i) * (dim))

/* Euclidean distance between two dim-vectors */
static inline double
l2(const float *a, const float *b, int dim)
{
	return sqrt((double) vector_l2_squared(a, b, dim));
}

/*
 * k-means++: the first centroid is a random sample, each next one a sample
 * drawn with probability proportional to its squared distance to the
 * nearest centroid chosen so far.
 */
static void
seed_centroids(const float *x, int n, int dim, int k, float *c,
			   pg_prng_state *rng)
{
	double	   *d2 = palloc(sizeof(double) * n);
	int			i;
	int			j;
	int			first = (int) pg_prng_uint64_range(rng, 0, n - 1);

	memcpy(ROW(c, 0, dim), ROW(x, first, dim), sizeof(float) * dim);
	for (i = 0; i < n; i++)
		d2[i] = vector_l2_squared(ROW(x, i, dim), ROW(c, 0, dim), dim);

	for (j = 1; j < k; j++)
	{
		double		sum = 0.0;
		double		target;
		int			pick = n - 1;

		CHECK_FOR_INTERRUPTS();
		for (i = 0; i < n; i++)
			sum += d2[i];
		if (sum > 0.0)
		{
			target = pg_prng_double(rng) * sum;
			for (i = 0; i < n; i++)
			{
				target -= d2[i];
				if (target < 0.0 && d2[i] > 0.0)
				{
					pick = i;
					break;
				}
			}
		}
		else
			pick = (int) pg_prng_uint64_range(rng, 0, n - 1);	/* all duplicates */

		memcpy(ROW(c, j, dim), ROW(x, pick, dim), sizeof(float) * dim);
		for (i = 0; i < n; i++)
		{
			double		d = vector_l2_squared(ROW(x, i, dim), ROW(c, j, dim), dim);

			if (d < d2[i])
				d2[i] = d;
		}
	}
	pfree(d2);
}

/*
 * Nearest and second nearest centroid of point p: sets *best and returns
 * the two distances.
 */
static void
nearest_two(const float *p, const float *c, int k, int dim,
			int *best, double *d1, double *d2)
{
	int			j;

	*best = 0;
	*d1 = DBL_MAX;
	*d2 = DBL_MAX;
	for (j = 0; j < k; j++)
	{
		double		d = (double) vector_l2_squared(p, ROW(c, j, dim), dim);

		if (d < *d1)
		{
			*d2 = *d1;
			*d1 = d;
			*best = j;
		}
		else if (d < *d2)
			*d2 = d;
	}
	*d1 = sqrt(*d1);
	*d2 = (*d2 == DBL_MAX) ? DBL_MAX : sqrt(*d2);
}

/*
 * Cluster the n samples x (n x dim floats) into k centroids, written to
 * `centroids` (k x dim floats).  Requires 1 <= k <= n.  With `spherical`,
 * the samples are unit vectors and so are the centroids.
 */
void
ivf_kmeans(float *x, int n, int dim, int k, bool spherical, float *centroids,
		   pg_prng_state *rng)
{
	int		   *assign;
	double	   *upper;
	double	   *lower;
	double	   *half;			/* half the distance to the nearest other centroid */
	double	   *shift;
	double	   *sums;
	int		   *counts;
	float	   *old;
	int			iter;
	int			i;
	int			j;

	Assert(k >= 1 && k <= n);

	if (k == n)
	{
		memcpy(centroids, x, sizeof(float) * (size_t) n * dim);
		return;
	}

	seed_centroids(x, n, dim, k, centroids, rng);

	assign = palloc(sizeof(int) * n);
	upper = palloc(sizeof(double) * n);
	lower = palloc(sizeof(double) * n);
	half = palloc(sizeof(double) * k);
	shift = palloc(sizeof(double) * k);
	counts = palloc(sizeof(int) * k);
	sums = palloc_extended(sizeof(double) * (size_t) k * dim, MCXT_ALLOC_HUGE);
	old = palloc_extended(sizeof(float) * (size_t) k * dim, MCXT_ALLOC_HUGE);

	/* Initial assignment with exact bounds */
	for (i = 0; i < n; i++)
	{
		if ((i & 255) == 0)
			CHECK_FOR_INTERRUPTS();
		nearest_two(ROW(x, i, dim), centroids, k, dim,
					&assign[i], &upper[i], &lower[i]);
	}

	for (iter = 0; iter < IVF_KMEANS_MAX_ITER; iter++)
	{
		int			changed = 0;
		double		maxshift = 0.0;
		int			maxshift_j = -1;
		double		secondshift = 0.0;

		/* Update: centroids become the means of their points */
		memcpy(old, centroids, sizeof(float) * (size_t) k * dim);
		memset(sums, 0, sizeof(double) * (size_t) k * dim);
		memset(counts, 0, sizeof(int) * k);
		for (i = 0; i < n; i++)
		{
			double	   *s = sums + (size_t) assign[i] * dim;
			const float *p = ROW(x, i, dim);
			int			t;

			for (t = 0; t < dim; t++)
				s[t] += p[t];
			counts[assign[i]]++;
		}
		for (j = 0; j < k; j++)
		{
			float	   *cj = ROW(centroids, j, dim);
			int			t;

			if (counts[j] == 0)
			{
				/*
				 * An empty cluster takes the point farthest from its own
				 * centroid (by its upper bound), which splits the worst
				 * cluster.  The point moves to it; a zero lower bound makes
				 * the next assignment look at it again.
				 */
				int			far = 0;

				for (i = 1; i < n; i++)
					if (upper[i] > upper[far])
						far = i;
				memcpy(cj, ROW(x, far, dim), sizeof(float) * dim);
				assign[far] = j;
				upper[far] = 0.0;
				lower[far] = 0.0;
				continue;
			}
			for (t = 0; t < dim; t++)
				cj[t] = (float) (sums[(size_t) j * dim + t] / counts[j]);
			if (spherical && !ivf_normalize(cj, dim))
				memcpy(cj, ROW(old, j, dim), sizeof(float) * dim);
		}

		/* How far each centroid moved; move the bounds accordingly */
		for (j = 0; j < k; j++)
		{
			shift[j] = l2(ROW(old, j, dim), ROW(centroids, j, dim), dim);
			if (shift[j] > maxshift)
			{
				secondshift = maxshift;
				maxshift = shift[j];
				maxshift_j = j;
			}
			else if (shift[j] > secondshift)
				secondshift = shift[j];
		}
		for (i = 0; i < n; i++)
		{
			upper[i] += shift[assign[i]];
			lower[i] -= (assign[i] == maxshift_j) ? secondshift : maxshift;
		}

		/* Half the distance from each centroid to its nearest neighbour */
		for (j = 0; j < k; j++)
		{
			double		m = DBL_MAX;
			int			j2;

			CHECK_FOR_INTERRUPTS();
			for (j2 = 0; j2 < k; j2++)
			{
				double		d;

				if (j2 == j)
					continue;
				d = (double) vector_l2_squared(ROW(centroids, j, dim),
											   ROW(centroids, j2, dim), dim);
				if (d < m)
					m = d;
			}
			half[j] = (m == DBL_MAX) ? DBL_MAX : sqrt(m) / 2.0;
		}

		/* Assignment, skipping the points whose bounds settle it */
		for (i = 0; i < n; i++)
		{
			double		bound;
			int			a = assign[i];
			int			b;
			double		d1;
			double		d2;

			if ((i & 255) == 0)
				CHECK_FOR_INTERRUPTS();
			bound = Max(half[a], lower[i]);
			if (upper[i] <= bound)
				continue;
			upper[i] = l2(ROW(x, i, dim), ROW(centroids, a, dim), dim);
			if (upper[i] <= bound)
				continue;
			nearest_two(ROW(x, i, dim), centroids, k, dim, &b, &d1, &d2);
			if (b != a)
				changed++;
			assign[i] = b;
			upper[i] = d1;
			lower[i] = d2;
		}

		if (changed == 0)
			break;				/* converged: the final update settles it */
	}

	/* Final update so the centroids are the means of the final clusters */
	memset(sums, 0, sizeof(double) * (size_t) k * dim);
	memset(counts, 0, sizeof(int) * k);
	for (i = 0; i < n; i++)
	{
		double	   *s = sums + (size_t) assign[i] * dim;
		const float *p = ROW(x, i, dim);
		int			t;

		for (t = 0; t < dim; t++)
			s[t] += p[t];
		counts[assign[i]]++;
	}
	for (j = 0; j < k; j++)
	{
		float	   *cj = ROW(centroids, j, dim);
		float	   *saved = ROW(old, j, dim);
		int			t;

		if (counts[j] == 0)
			continue;
		memcpy(saved, cj, sizeof(float) * dim);
		for (t = 0; t < dim; t++)
			cj[t] = (float) (sums[(size_t) j * dim + t] / counts[j]);
		if (spherical && !ivf_normalize(cj, dim))
			memcpy(cj, saved, sizeof(float) * dim);
	}

	pfree(assign);
	pfree(upper);
	pfree(lower);
	pfree(half);
	pfree(shift);
	pfree(counts);
	pfree(sums);
	pfree(old);
}
