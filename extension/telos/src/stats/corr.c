/*-------------------------------------------------------------------------
 *
 * corr.c
 *	  Lagged Pearson correlation and its p-value.
 *
 * r is the correlation of the pairs (x[t], y[t + lag]) for every t where
 * both exist (lag may be negative); its two-sided p-value is scipy's
 * pearsonr's, P(|r'| >= |r|) under independence, which is the t test with
 * n - 2 degrees of freedom, computed as I_{1 - r^2}((n - 2) / 2, 1 / 2)
 * with 1 - r^2 formed as (1 - |r|)(1 + |r|) to keep strong correlations'
 * p-values precise.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "../stats.h"

/*
 * stats_lagged_corr
 *		See stats.h.
 */
void
stats_lagged_corr(const double *x, const double *y, int len, int lag,
				  double *r_out, double *p_out, int *n_out)
{
	int			alag = lag < 0 ? -lag : lag;
	int			n = len - alag;
	const double *a = lag >= 0 ? x : x + alag;	/* a[i] = x[t], b[i] = y[t + lag] */
	const double *b = lag >= 0 ? y + alag : y;
	double		ma = 0.0,
				mb = 0.0,
				saa = 0.0,
				sbb = 0.0,
				sab = 0.0,
				sa_max = 0.0,
				sb_max = 0.0,
				r,
				ar;

	if (n < 3)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("too few observations for a correlation at lag %d", lag),
				 errdetail("%d pairs remain after the shift; at least 3 are needed.", Max(n, 0))));
	for (int i = 0; i < n; i++)
	{
		ma += a[i];
		mb += b[i];
	}
	ma /= n;
	mb /= n;
	stats_check_finite(ma, "the mean of x");
	stats_check_finite(mb, "the mean of y");
	/* r is invariant to the scales: powers of two keep the squares in range */
	for (int i = 0; i < n; i++)
	{
		double		da = fabs(a[i] - ma),
					db = fabs(b[i] - mb);

		if (da > sa_max)
			sa_max = da;
		if (db > sb_max)
			sb_max = db;
	}
	sa_max = stats_pow2_scale(&sa_max, 1);
	sb_max = stats_pow2_scale(&sb_max, 1);
	for (int i = 0; i < n; i++)
	{
		double		da = (a[i] - ma) * sa_max,
					db = (b[i] - mb) * sb_max;

		saa += da * da;
		sbb += db * db;
		sab += da * db;
	}
	if (saa == 0.0 || sbb == 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("%s is constant over the pairs at lag %d", saa == 0.0 ? "x" : "y", lag),
				 errdetail("The correlation is undefined for a constant series.")));
	r = sab / (sqrt(saa) * sqrt(sbb));
	if (r > 1.0)
		r = 1.0;
	if (r < -1.0)
		r = -1.0;
	ar = fabs(r);
	*r_out = r;
	*p_out = ar == 1.0 ? 0.0
		: stats_beta_inc((n - 2) / 2.0, 0.5, (1.0 - ar) * (1.0 + ar));
	*n_out = n;
}
