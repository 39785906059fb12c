/*-------------------------------------------------------------------------
 *
 * stats.h
 *	  The statistics of the evidence engine: ordinary least squares by
 *	  Householder QR, Granger causality (one pair, and all ordered pairs of
 *	  a set of series with one Gram matrix per pair), the augmented
 *	  Dickey-Fuller test with MacKinnon's p-values and critical values,
 *	  lagged Pearson correlation (one pair, and all ordered pairs of a set
 *	  of series, prewhitened by their own AR models), Benjamini-Hochberg
 *	  q-values and Welch's t test.
 *
 * Every test is defined as statsmodels 0.13 / scipy 1.10 define it (the
 * comment of each function says which function it reproduces), so that a
 * number telos reports can be checked against the reference implementation;
 * test/stats/gen_expected.py holds the comparison.
 *
 * The functions take plain C arrays of finite doubles (the SQL layer,
 * stats_sql.c, checks NULLs, NaN/Inf and shapes) and report data for which
 * a test is undefined (constant series, collinear regressors, perfect fit,
 * too few observations) with ereport(ERROR): 22023 for arguments out of
 * range, 22000 for data on which the statistic does not exist. Results are
 * palloc'd in the current memory context; the caller's context frees them.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_STATS_H
#define TELOS_STATS_H

#include "postgres.h"

/* ---- distributions (stats/dist.c), all upper tails unless named ---- */

/* P(F > f) for F(d1, d2); 1 for f <= 0 (scipy.stats.f.sf). */
extern double stats_f_sf(double f, double d1, double d2);

/* P(X > x) for chi-square(df) (scipy.stats.chi2.sf). */
extern double stats_chi2_sf(double x, double df);

/* P(|T| > |t|) for Student's t(df), df real > 0 (2 * scipy t.sf(|t|)). */
extern double stats_t_sf2(double t, double df);

/* P(Z <= z) for the standard normal (scipy.stats.norm.cdf). */
extern double stats_norm_cdf(double z);

/* regularized incomplete beta I_x(a, b). */
extern double stats_beta_inc(double a, double b, double x);

/* ---- least squares (stats/qr.c) ---- */

/*
 * stats_pow2_scale
 *		A power of two s with max |v[i]| * s in [0.5, 1) (1 for all zeros).
 *		Multiplying by it is exact, so a statistic computed on scaled data
 *		is the unscaled one bit for bit, except that squares of values
 *		beyond 1e154 or below 1e-154 no longer overflow or underflow.
 */
extern double stats_pow2_scale(const double *v, size_t n);

/*
 * stats_check_finite
 *		Errors (22003) naming what when a computed statistic is not finite
 *		(values so extreme that their squares overflow).
 */
extern void stats_check_finite(double v, const char *what);

/*
 * Result of stats_ols. Arrays have k entries, one per column of the design
 * (the constant first when added); a column found collinear with the ones
 * before it (pivoted QR, numpy's matrix_rank tolerance) is aliased: its
 * coef/se/t/p are NaN and it does not count in rank, as R's lm() does.
 * A perfect fit (ssr 0) has NaN t and p. Coefficients beyond the double
 * range are an error (22003).
 */
typedef struct StatsOls
{
	int			n;				/* observations */
	int			k;				/* columns of the design */
	int			rank;
	int			df_resid;		/* n - rank */
	double		ssr;
	double		r2;				/* centered when the design has a constant */
	double	   *coef;
	double	   *se;
	double	   *t;
	double	   *p;				/* two-sided, t(df_resid) */
	bool	   *aliased;
} StatsOls;

/*
 * stats_ols
 *		Fits y (n) on x (n x ncols, row-major), with a constant column
 *		prepended when add_const (statsmodels OLS(y, add_constant(x)).fit()).
 *		Errors (22023) when n <= the number of columns.
 */
extern void stats_ols(const double *y, const double *x, int n, int ncols,
					  bool add_const, StatsOls *res);

/*
 * StatsQR: Householder QR (no pivoting) of an m x k column-major design
 * with one extra column, the response, transformed along (z = Q'y). The
 * first c columns of the factorization are the factorization of the first c
 * columns of the design, so nested models read their SSR off one
 * factorization: ssr(c) = sum of z[i]^2 for i >= c.
 */
typedef struct StatsQR
{
	int			m;
	int			k;
	double	   *a;				/* m x (k+1) column-major; R above the diagonal */
	double	   *rdiag;			/* k: diagonal of R */
	double	   *colnorm;		/* k: norms of the original columns */
	double	   *z;				/* m: Q'y */
} StatsQR;

/* Allocates a StatsQR for m rows, k columns; the caller fills a. */
extern void stats_qr_init(StatsQR *qr, int m, int k);

/* Factorizes qr->a in place, fills rdiag, colnorm and z. */
extern void stats_qr_factor(StatsQR *qr);

/* Index of the first column with |R_jj| <= tol * its norm, or -1. */
extern int	stats_qr_first_singular(const StatsQR *qr, double tol);

/* SSR of the model with the first c columns. */
extern double stats_qr_ssr(const StatsQR *qr, int c);

/* Coefficients of the model with the first c columns into b (c). */
extern void stats_qr_coef(const StatsQR *qr, int c, double *b);

/* Gaussian log-likelihood of an OLS fit, as statsmodels' OLS.loglike. */
extern double stats_ols_llf(double ssr, int nobs);

/* ---- Granger causality (stats/granger.c, stats/granger_pairs.c) ---- */

typedef struct StatsGranger
{
	int			lag;
	double		f_stat;
	double		p_value;
	int			df_num;
	int			df_denom;
	double		chi2;
	double		chi2_p;
	double		lr;
	double		lr_p;
} StatsGranger;

/*
 * stats_granger
 *		Does x Granger-cause y: for each lag 1..maxlag, statsmodels'
 *		grangercausalitytests(column_stack([y, x]), maxlag) -- y on a
 *		constant and its own lags 1..lag (restricted) and also x's lags
 *		1..lag (unrestricted), the first lag observations dropped. Fills
 *		out[0..maxlag-1].
 */
extern void stats_granger(const double *x, const double *y, int n, int maxlag,
						  StatsGranger *out);

/* Lag selection criterion of stats_granger_pairs. */
typedef enum StatsIC
{
	STATS_IC_AIC,
	STATS_IC_BIC,
	STATS_IC_HQIC,
	STATS_IC_NONE				/* always maxlag */
} StatsIC;

typedef struct StatsGrangerPair
{
	int			x_idx;			/* 0-based series indexes */
	int			y_idx;
	int			lag;
	double		f_stat;
	double		p_value;
	int			df_num;
	int			df_denom;
	double		coef_sum;		/* sum of x's lag coefficients, unrestricted */
	int			n;				/* observations of the test */
} StatsGrangerPair;

/*
 * stats_granger_pairs
 *		For every ordered pair (i, j), i != j, of the m series of length n
 *		in series (row-major): x = series i, y = series j. The lag is the
 *		one of 1..maxlag minimizing ic for y on a constant and lags 1..lag
 *		of both, all fitted on the common sample (the first maxlag
 *		observations dropped, as adfuller's autolag does); the F test at
 *		that lag is then stats_granger's (the first lag observations
 *		dropped). out has m * (m - 1) entries, x-major.
 */
extern void stats_granger_pairs(const double *series, int m, int n, int maxlag,
								StatsIC ic, StatsGrangerPair *out);

/* ---- augmented Dickey-Fuller (stats/adf.c, stats/mackinnon.c) ---- */

typedef enum StatsTrend
{
	STATS_TREND_N,				/* no deterministic term */
	STATS_TREND_C,				/* constant */
	STATS_TREND_CT,				/* constant and linear trend */
	STATS_TREND_CTT				/* constant, linear and quadratic trend */
} StatsTrend;

typedef enum StatsAutolag
{
	STATS_AUTOLAG_NONE,
	STATS_AUTOLAG_AIC,
	STATS_AUTOLAG_BIC,
	STATS_AUTOLAG_TSTAT
} StatsAutolag;

typedef struct StatsAdf
{
	double		stat;
	double		p_value;
	int			used_lag;
	int			nobs;
	double		crit[3];		/* 1 %, 5 %, 10 % */
	double		ic_best;		/* NaN without autolag */
} StatsAdf;

/*
 * stats_adf
 *		statsmodels' adfuller(x, maxlag, regression, autolag); maxlag < 0
 *		means its default, ceil(12 (n/100)^(1/4)) capped at n/2 - ntrend - 1.
 */
extern void stats_adf(const double *x, int n, int maxlag, StatsTrend trend,
					  StatsAutolag autolag, StatsAdf *out);

/* MacKinnon (1994) approximate p-value of a unit-root t statistic, N = 1. */
extern double stats_mackinnon_p(double stat, StatsTrend trend);

/* MacKinnon (2010) critical values (1, 5, 10 %) for nobs, N = 1. */
extern void stats_mackinnon_crit(StatsTrend trend, int nobs, double crit[3]);

/* ---- correlation, multiple testing, two-sample test ---- */

/*
 * stats_lagged_corr
 *		Pearson r of x[t] with y[t + lag] over the t where both exist, and
 *		its two-sided p-value (scipy.stats.pearsonr). *n_out: pairs used.
 */
extern void stats_lagged_corr(const double *x, const double *y, int len, int lag,
							  double *r, double *p, int *n_out);

/*
 * stats_ar_prewhiten
 *		Residuals of s (n) on a constant and its own lags 1..k, fitted by OLS
 *		on the sample t = maxlag..n-1, the order k in 0..maxlag minimizing
 *		BIC (orders beyond a collinear lag or a perfect fit are not tried),
 *		into e (n - maxlag; of the series centered and scaled by a power of
 *		two). Returns k. Errors (22000) for a series constant over the
 *		sample, (22023) when n <= 3 * maxlag + 2.
 */
extern int	stats_ar_prewhiten(const double *s, int n, int maxlag, double *e);

typedef struct StatsCorrPair
{
	int			x_idx;			/* 0-based series indexes */
	int			y_idx;
	int			lag;
	double		r;
	double		p_value;
	int			n;				/* pairs correlated */
	int			x_order;		/* AR orders of the prewhitening, -1 without */
	int			y_order;
} StatsCorrPair;

/*
 * stats_corr_pairs
 *		For every ordered pair (i, j), i != j, of the m series of length n
 *		(row-major), x-major: stats_lagged_corr of x = series i and y =
 *		series j at lags[o] (o the pair's index; lags[0] for all when
 *		nlags is 1). With prewhiten, of the stats_ar_prewhiten residuals of
 *		both series (n - maxlag values each) instead of the series: under
 *		independence their cross-correlation is ~N(0, 1/n) even when the
 *		series are autocorrelated (corr_pairs.c). out has m * (m - 1)
 *		entries.
 */
extern void stats_corr_pairs(const double *series, int m, int n, const int *lags,
							 int nlags, int maxlag, bool prewhiten,
							 StatsCorrPair *out);

/*
 * stats_bh_qvalues
 *		Benjamini-Hochberg adjusted p-values of p[0..n-1] into q
 *		(statsmodels multipletests(p, method='fdr_bh')[1]).
 */
extern void stats_bh_qvalues(const double *p, int n, double *q);

typedef struct StatsWelch
{
	double		t;
	double		df;
	double		p_value;
	double		mean_diff;		/* mean(a) - mean(b) */
} StatsWelch;

/* scipy.stats.ttest_ind(a, b, equal_var=False), two-sided. */
extern void stats_welch_t(const double *a, int na, const double *b, int nb,
						  StatsWelch *out);

#endif							/* TELOS_STATS_H */
