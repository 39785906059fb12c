/*-------------------------------------------------------------------------
 *
 * granger.c
 *	  Granger causality of one pair of series, as statsmodels'
 *	  grangercausalitytests.
 *
 * statsmodels tests whether the second column of its input causes the
 * first: grangercausalitytests(column_stack([y, x]), maxlag) asks "does x
 * Granger-cause y". For each lag L in 1..maxlag it drops the first L
 * observations (not maxlag: each lag has its own sample of n - L rows) and
 * fits by OLS
 *	 restricted:   y_t on 1, y_{t-1} .. y_{t-L}
 *	 unrestricted: y_t on 1, y_{t-1} .. y_{t-L}, x_{t-1} .. x_{t-L}
 * and reports
 *	 ssr F test	   F = (ssr_r - ssr_u) / ssr_u / L * df_u,  F(L, df_u)
 *	 ssr chi2 test  nobs (ssr_r - ssr_u) / ssr_u,  chi2(L)
 *	 LR test		   -2 (llf_r - llf_u),  chi2(L)
 * with df_u = nobs - 2L - 1. It refuses n <= 3 maxlag + 1, a constant
 * column among the regressors, and an unrestricted fit with ssr/tss below
 * machine epsilon.
 *
 * Both models come from one QR of the unrestricted design with the own
 * lags first: the restricted model is its leading block, so
 * ssr_r - ssr_u is the sum of squares of the x part of Q'y -- no
 * cancellation. The series are centered first (the constant absorbs the
 * means exactly; only the rounding improves).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"

#include "../stats.h"

/* |R_jj| below this fraction of its column's norm: collinear regressors */
#define GRANGER_SINGULAR_TOL 1e-10

/* Whether v[0..n-1] are all equal. */
static bool
series_constant(const double *v, int n)
{
	for (int i = 1; i < n; i++)
		if (v[i] != v[0])
			return false;
	return true;
}

/*
 * granger_check
 *		The preconditions statsmodels checks (maxlag, length, constant
 *		series), as ereports.
 */
static void
granger_check(const double *x, const double *y, int n, int maxlag)
{
	if (maxlag < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("maxlag must be at least 1")));
	if (n <= 3 * maxlag + 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("too few observations for maxlag %d", maxlag),
				 errdetail("The series have %d observations; the test needs more than 3 * maxlag + 1 = %d.",
						   n, 3 * maxlag + 1),
				 errhint("The largest lag these series allow is %d.",
						 Max((n - 1) / 3 - 1, 0))));
	if (series_constant(x, n))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("x is constant"),
				 errdetail("Granger causality is undefined for a constant series.")));
	if (series_constant(y, n))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("y is constant"),
				 errdetail("Granger causality is undefined for a constant series.")));
}

/*
 * stats_granger
 *		See stats.h.
 */
void
stats_granger(const double *x, const double *y, int n, int maxlag,
			  StatsGranger *out)
{
	double	   *xc = palloc(sizeof(double) * n);
	double	   *yc = palloc(sizeof(double) * n);
	double		xm = 0.0,
				ym = 0.0,
				xs,
				ys;

	granger_check(x, y, n, maxlag);
	for (int i = 0; i < n; i++)
	{
		xm += x[i];
		ym += y[i];
	}
	xm /= n;
	ym /= n;
	stats_check_finite(xm, "the mean of x");
	stats_check_finite(ym, "the mean of y");
	for (int i = 0; i < n; i++)
	{
		xc[i] = x[i] - xm;
		yc[i] = y[i] - ym;
	}
	/* F is invariant to the scale of x and of y; keep squares in range */
	xs = stats_pow2_scale(xc, n);
	ys = stats_pow2_scale(yc, n);
	for (int i = 0; i < n; i++)
	{
		xc[i] *= xs;
		yc[i] *= ys;
	}

	for (int lag = 1; lag <= maxlag; lag++)
	{
		int			m = n - lag;
		int			k = 2 * lag + 1;
		StatsQR		qr;
		double		ssr_u,
					d,
					tss = 0.0,
					mean = 0.0;
		int			df_u = m - k;
		StatsGranger *g = &out[lag - 1];

		CHECK_FOR_INTERRUPTS();
		stats_qr_init(&qr, m, k);
		for (int i = 0; i < m; i++)
		{
			int			t = lag + i;

			qr.a[i] = 1.0;
			for (int l = 1; l <= lag; l++)
			{
				qr.a[(size_t) m * l + i] = yc[t - l];
				qr.a[(size_t) m * (lag + l) + i] = xc[t - l];
			}
			qr.a[(size_t) m * k + i] = yc[t];
			mean += yc[t];
		}
		mean /= m;
		for (int i = 0; i < m; i++)
			tss += (yc[lag + i] - mean) * (yc[lag + i] - mean);
		stats_qr_factor(&qr);
		if (stats_qr_first_singular(&qr, GRANGER_SINGULAR_TOL) >= 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("the regressors of the Granger test at lag %d are collinear", lag),
					 errdetail("A lag of x or y is a linear combination of the others (a series constant over the sample, or x a copy of y)."),
					 errhint("Granger causality is undefined for these series.")));
		ssr_u = stats_qr_ssr(&qr, k);
		if (tss == 0.0 || ssr_u == 0.0 || ssr_u / tss < DBL_EPSILON)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("the Granger test at lag %d is undefined: the regression fits y perfectly", lag),
					 errdetail("The residual sum of squares is zero to machine precision.")));
		/* ssr_r - ssr_u: the x part of Q'y */
		d = 0.0;
		for (int i = lag + 1; i < k; i++)
			d += qr.z[i] * qr.z[i];

		g->lag = lag;
		g->df_num = lag;
		g->df_denom = df_u;
		g->f_stat = d / ssr_u / lag * df_u;
		g->p_value = stats_f_sf(g->f_stat, lag, df_u);
		g->chi2 = m * d / ssr_u;
		g->chi2_p = stats_chi2_sf(g->chi2, lag);
		/* -2 (llf_r - llf_u) = nobs log(ssr_r / ssr_u) */
		g->lr = m * log1p(d / ssr_u);
		g->lr_p = stats_chi2_sf(g->lr, lag);
		stats_check_finite(g->f_stat, "the F statistic");

		pfree(qr.a);
		pfree(qr.rdiag);
		pfree(qr.colnorm);
	}
	pfree(xc);
	pfree(yc);
}
