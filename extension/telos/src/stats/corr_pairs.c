/*-------------------------------------------------------------------------
 *
 * corr_pairs.c
 *	  Lagged correlation of every ordered pair of a set of series, by
 *	  default of the series prewhitened by their own AR models: the
 *	  correlation test behind evidence discovery.
 *
 * The p-value of a Pearson correlation (n - 2 degrees of freedom) assumes
 * that the pairs are independent draws. For two *independent* but
 * autocorrelated series it is not: the sample cross-correlation of AR(1)
 * series with coefficients a and b has variance (1 + ab) / (n (1 - ab)),
 * Bartlett's formula, not 1/n -- 9 times too many "significant" results
 * at a = b = 0.8 (Haugh 1976, Box-Jenkins' "prewhitening"). Here each
 * series is first replaced by the residuals of an autoregression on its own
 * past -- AR(k) with a constant, fitted by OLS on the common sample
 * t = maxlag..n-1, the order k in 0..maxlag chosen by BIC (one Householder
 * QR of [1, s_{t-1}, ..., s_{t-maxlag} | s_t] gives every order's SSR) --
 * and the residuals, close to white noise, are correlated at the lag. Under
 * independence of the two series their cross-correlation is then
 * asymptotically N(0, 1/n) (Haugh), so the usual t test applies. What the
 * test then sees is whether x's *surprises* move y's surprises lag buckets
 * later, which is also what a driver means.
 *
 * Without prewhitening the result is stats_lagged_corr's on the raw series.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"

#include "../stats.h"

/* a column with |R_jj| below this fraction of its norm ends the AR orders */
#define AR_SINGULAR_TOL 1e-10

/*
 * stats_ar_prewhiten
 *		See stats.h.
 */
int
stats_ar_prewhiten(const double *s, int n, int maxlag, double *e)
{
	int			m = n - maxlag;
	int			k = maxlag + 1;
	StatsQR		qr;
	double		mean = 0.0,
				scale,
				tss = 0.0,
				best = 0.0,
				ssr;
	double	   *v;
	double	   *b;
	int			order = 0,
				usable;

	if (maxlag < 0 || m <= 2 * maxlag + 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("too few observations to prewhiten with maxlag %d", maxlag),
				 errdetail("The series have %d observations; prewhitening needs more than 3 * maxlag + 2 = %d.",
						   n, 3 * maxlag + 2)));
	/* centered and scaled by a power of two: residuals only change scale */
	v = palloc(sizeof(double) * n);
	for (int t = 0; t < n; t++)
		mean += s[t];
	mean /= n;
	stats_check_finite(mean, "the mean of a series");
	for (int t = 0; t < n; t++)
		v[t] = s[t] - mean;
	scale = stats_pow2_scale(v, n);
	for (int t = 0; t < n; t++)
		v[t] *= scale;

	stats_qr_init(&qr, m, k);
	for (int i = 0; i < m; i++)
	{
		int			t = maxlag + i;

		qr.a[i] = 1.0;
		for (int l = 1; l <= maxlag; l++)
			qr.a[(size_t) m * l + i] = v[t - l];
		qr.a[(size_t) m * k + i] = v[t];
	}
	{
		double		my = 0.0;

		for (int i = 0; i < m; i++)
			my += v[maxlag + i];
		my /= m;
		for (int i = 0; i < m; i++)
			tss += (v[maxlag + i] - my) * (v[maxlag + i] - my);
	}
	if (tss == 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("a series is constant over the sample"),
				 errdetail("The correlation is undefined for a constant series.")));
	stats_qr_factor(&qr);
	/* orders up to the first lag collinear with the ones before it */
	usable = stats_qr_first_singular(&qr, AR_SINGULAR_TOL);
	if (usable < 0)
		usable = k;
	/* the order minimizing BIC (k + 1 parameters); ties to the smaller */
	for (int c = 1; c <= usable; c++)
	{
		double		bic;

		ssr = stats_qr_ssr(&qr, c);
		if (!(ssr > tss * DBL_EPSILON))
			break;				/* a perfect fit: stop before it */
		bic = -2.0 * stats_ols_llf(ssr, m) + log((double) m) * c;
		if (c == 1 || bic < best)
		{
			best = bic;
			order = c - 1;
		}
	}
	b = palloc(sizeof(double) * k);
	stats_qr_coef(&qr, order + 1, b);
	for (int i = 0; i < m; i++)
	{
		int			t = maxlag + i;
		double		f = b[0];

		for (int l = 1; l <= order; l++)
			f += b[l] * v[t - l];
		e[i] = v[t] - f;
	}
	pfree(v);
	pfree(b);
	pfree(qr.a);
	pfree(qr.rdiag);
	pfree(qr.colnorm);
	return order;
}

/*
 * stats_corr_pairs
 *		See stats.h.
 */
void
stats_corr_pairs(const double *series, int m, int n, const int *lags, int nlags,
				 int maxlag, bool prewhiten, StatsCorrPair *out)
{
	double	  **w = palloc(sizeof(double *) * m);
	int		   *order = palloc(sizeof(int) * m);
	int			len = prewhiten ? n - maxlag : n;
	int			o = 0;

	for (int s = 0; s < m; s++)
	{
		CHECK_FOR_INTERRUPTS();
		if (prewhiten)
		{
			w[s] = palloc(sizeof(double) * len);
			order[s] = stats_ar_prewhiten(series + (size_t) s * n, n, maxlag, w[s]);
		}
		else
		{
			w[s] = (double *) (series + (size_t) s * n);
			order[s] = -1;
		}
	}
	for (int xi = 0; xi < m; xi++)
		for (int yi = 0; yi < m; yi++)
		{
			StatsCorrPair *c;
			int			lag;

			if (xi == yi)
				continue;
			CHECK_FOR_INTERRUPTS();
			c = &out[o];
			lag = lags[nlags == 1 ? 0 : o];
			o++;
			if (lag <= -len || lag >= len)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("lag %d leaves no pairs of series of length %d", lag, len)));
			c->x_idx = xi;
			c->y_idx = yi;
			c->lag = lag;
			c->x_order = order[xi];
			c->y_order = order[yi];
			stats_lagged_corr(w[xi], w[yi], len, lag, &c->r, &c->p_value, &c->n);
		}
}
