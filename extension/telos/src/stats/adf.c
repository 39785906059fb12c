/*-------------------------------------------------------------------------
 *
 * adf.c
 *	  The augmented Dickey-Fuller unit-root test, as statsmodels' adfuller.
 *
 * With dx_t = x_{t+1} - x_t and ntrend deterministic terms (0 for 'n', 1
 * 'c', 2 'ct', 3 'ctt'):
 *	 - maxlag defaults to ceil(12 (n / 100)^(1/4)), capped at
 *	   n / 2 - ntrend - 1 (integer division); a larger explicit maxlag is
 *	   an error.
 *	 - autolag: on the common sample of n - 1 - maxlag differences, dx_t is
 *	   regressed on [trend terms, x_t, dx_{t-1} .. dx_{t-l}] for
 *	   l = 0..maxlag, and l minimizes AIC or BIC (ties to the smaller l);
 *	   't-stat' takes the largest l whose last lag has |t| >= 1.6448536...
 *	   The models are nested, so one QR of the largest gives them all.
 *	 - The chosen l is refitted on its own, longer sample of n - 1 - l
 *	   differences; the statistic is the t value of x_t's coefficient, its
 *	   p-value MacKinnon's (1994) and the critical values MacKinnon's (2010)
 *	   for that sample size (mackinnon.c).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "../stats.h"

#define ADF_TSTAT_STOP 1.6448536269514722

/* Number of deterministic terms of a regression. */
static int
trend_terms(StatsTrend trend)
{
	return (int) trend;			/* n 0, c 1, ct 2, ctt 3 */
}

/* Value of deterministic term j (0 const, 1 t, 2 t^2) at row r, t = r + 1. */
static inline double
trend_value(int j, int r)
{
	double		t = r + 1;

	return j == 0 ? 1.0 : (j == 1 ? t : t * t);
}

/* The lag l of the autolag search; *ic_best its criterion. */
static int
adf_autolag(const double *x, const double *dx, int n, int maxlag,
			StatsTrend trend, StatsAutolag autolag, double *ic_best)
{
	int			nt = trend_terms(trend);
	int			nobs = n - 1 - maxlag;
	int			k = nt + 1 + maxlag;
	StatsQR		qr;
	int			best = 0;
	double		bestv = 0.0;

	stats_qr_init(&qr, nobs, k);
	for (int r = 0; r < nobs; r++)
	{
		int			i = maxlag + r;

		for (int j = 0; j < nt; j++)
			qr.a[(size_t) nobs * j + r] = trend_value(j, r);
		qr.a[(size_t) nobs * nt + r] = x[i];
		for (int l = 1; l <= maxlag; l++)
			qr.a[(size_t) nobs * (nt + l) + r] = dx[i - l];
		qr.z[r] = dx[i];
	}
	stats_qr_factor(&qr);
	if (stats_qr_first_singular(&qr, 1e-10) >= 0 || stats_qr_ssr(&qr, k) == 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the Dickey-Fuller regression is degenerate"),
				 errdetail("Its regressors are collinear or fit the differences exactly: the series or its differences are a deterministic trend, or constant over the sample.")));

	if (autolag == STATS_AUTOLAG_TSTAT)
	{
		for (int l = maxlag; l >= 0; l--)
		{
			int			c = nt + 1 + l;
			double		sigma = sqrt(stats_qr_ssr(&qr, c) / (nobs - c));
			double		tv = fabs(qr.z[c - 1] / sigma);

			best = l;
			bestv = tv;
			if (tv >= ADF_TSTAT_STOP)
				break;
		}
	}
	else
	{
		for (int l = 0; l <= maxlag; l++)
		{
			int			c = nt + 1 + l;
			double		llf = stats_ols_llf(stats_qr_ssr(&qr, c), nobs);
			double		v = autolag == STATS_AUTOLAG_AIC
				? -2.0 * llf + 2.0 * c
				: -2.0 * llf + log((double) nobs) * c;

			if (l == 0 || v < bestv)
			{
				bestv = v;
				best = l;
			}
		}
	}
	*ic_best = bestv;
	return best;
}

/*
 * stats_adf
 *		See stats.h.
 */
void
stats_adf(const double *x, int n, int maxlag, StatsTrend trend,
		  StatsAutolag autolag, StatsAdf *out)
{
	int			nt = trend_terms(trend);
	int			cap = n / 2 - nt - 1;
	double	   *dx;
	int			lag;
	int			nobs;
	int			k;
	double	   *design;
	double	   *resp;
	StatsOls	ols;
	bool		constant = true;
	double		scale;
	double	   *xs;

	if (cap < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("too few observations for the Dickey-Fuller test"),
				 errdetail("%d observations; with %d deterministic terms at least %d are needed.",
						   n, nt, 2 * (nt + 1))));
	for (int i = 1; i < n && constant; i++)
		constant = x[i] == x[0];
	if (constant)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("x is constant"),
				 errdetail("The Dickey-Fuller test is undefined for a constant series.")));
	if (maxlag < 0)
	{
		maxlag = (int) ceil(12.0 * pow(n / 100.0, 0.25));
		maxlag = Min(cap, maxlag);
	}
	else if (maxlag > cap)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("maxlag %d is too large for %d observations", maxlag, n),
				 errdetail("maxlag must be at most n / 2 - ntrend - 1 = %d.", cap)));

	/*
	 * x times a power of two s (exact): the statistic is unchanged, the
	 * log-likelihoods shift by -nobs log s, undone on ic_best.
	 */
	scale = stats_pow2_scale(x, n);
	xs = palloc(sizeof(double) * n);
	for (int i = 0; i < n; i++)
		xs[i] = x[i] * scale;
	x = xs;
	dx = palloc(sizeof(double) * n);
	for (int i = 0; i + 1 < n; i++)
		dx[i] = x[i + 1] - x[i];

	out->ic_best = NAN;
	if (autolag != STATS_AUTOLAG_NONE)
	{
		lag = adf_autolag(x, dx, n, maxlag, trend, autolag, &out->ic_best);
		if (autolag != STATS_AUTOLAG_TSTAT)
			out->ic_best -= 2.0 * (n - 1 - maxlag) * log(scale);
	}
	else
		lag = maxlag;

	/* the regression at the chosen lag: [x_t, dx lags, trend terms] */
	nobs = n - 1 - lag;
	k = 1 + lag + nt;
	design = palloc(sizeof(double) * (size_t) nobs * k);
	resp = palloc(sizeof(double) * nobs);
	for (int r = 0; r < nobs; r++)
	{
		int			i = lag + r;
		double	   *row = design + (size_t) r * k;

		row[0] = x[i];
		for (int l = 1; l <= lag; l++)
			row[l] = dx[i - l];
		for (int j = 0; j < nt; j++)
			row[1 + lag + j] = trend_value(j, r);
		resp[r] = dx[i];
	}
	stats_ols(resp, design, nobs, k, false, &ols);
	if (ols.rank < k || ols.ssr == 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the Dickey-Fuller regression is degenerate"),
				 errdetail("Its regressors are collinear or fit the differences exactly: the series or its differences are a deterministic trend, or constant over the sample.")));

	out->stat = ols.t[0];
	stats_check_finite(out->stat, "the Dickey-Fuller statistic");
	out->p_value = stats_mackinnon_p(out->stat, trend);
	out->used_lag = lag;
	out->nobs = nobs;
	stats_mackinnon_crit(trend, nobs, out->crit);
}
