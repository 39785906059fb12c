/*-------------------------------------------------------------------------
 *
 * granger_pairs.c
 *	  Granger causality for every ordered pair of a set of series, with
 *	  the lag chosen by an information criterion: the batch behind
 *	  evidence discovery.
 *
 * Fitting 2 * maxlag regressions by QR for each of m (m - 1) pairs (as
 * statsmodels does) costs O(n maxlag^2) per regression. Here every
 * regression of a pair is read off one cross-product (Gram) matrix:
 *
 *	 - Per series s (centered by its mean), the lagged cross-products
 *	   A_s[i][j] = sum_{t=p}^{n-1} s_{t-i} s_{t-j}, i, j in 0..p (p = maxlag),
 *	   and the sums S_s[i]; per pair only the cross block
 *	   C[i][j] = sum_t x_{t-i} y_{t-j}, of which 2p + 1 entries are dot
 *	   products and the rest follow by shifting the window by one
 *	   (C[i+1][j+1] = C[i][j] + x_{p-1-i} y_{p-1-j} - x_{n-1-i} y_{n-1-j}).
 *	 - Lag selection: the columns [1, y_1, x_1, y_2, x_2, ..., y_p, x_p | y_0]
 *	   on the common sample t = p..n-1, one Cholesky factorization (long
 *	   double) of their Gram matrix; the model with lag l is its leading
 *	   1 + 2l block and its SSR is the last pivot squared plus a tail sum of
 *	   squares of the last row -- one factorization, all p models, no
 *	   cancellation.
 *	 - The test at the chosen lag k is stats_granger's: sample t = k..n-1,
 *	   i.e. the window-p Gram matrix of [1, y_1..y_k, x_1..x_k | y_0] plus
 *	   the rows k..p-1 added directly; the restricted model is the leading
 *	   1 + k block of the same factorization.
 *
 * Normal equations square the condition number; centering, long double
 * factorization and reading SSRs as sums of squares keep the F statistics
 * within ~1e-10 of the QR path on random-walk levels (test/sql/stats_granger
 * checks the agreement).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"

#include "../stats.h"

/* a Cholesky pivot below this fraction of its diagonal: collinear */
#define PAIRS_SINGULAR_TOL 1e-12L

/* the largest maxlag of a batch (bounds the factorizations on the stack) */
#define PAIRS_MAXLAG 32
#define PAIRS_MAXCOLS (2 * PAIRS_MAXLAG + 2)

/* Per-series data shared by all pairs. */
typedef struct PairSeries
{
	double	   *v;				/* centered values, n */
	double	   *a;				/* (p+1) x (p+1): A_s */
	double	   *s;				/* p+1: S_s */
	double		scale;			/* v = (raw - mean) * scale, a power of two */
	bool		constant;
} PairSeries;

/* The pair being tested and its cross block. */
typedef struct PairCtx
{
	int			n;
	int			p;
	const PairSeries *x;
	const PairSeries *y;
	double	   *c;				/* (p+1) x (p+1): C[i][j], i >= 1 used */
} PairCtx;

/* A column of a design: series (0 const, 1 y, 2 x) and lag. */
typedef struct PairCol
{
	int			who;
	int			lag;
} PairCol;

/* sum of a[i] * b[i] */
static double
dot(const double *a, const double *b, int n)
{
	double		s = 0.0;

	for (int i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

/* The value of design column c at time t. */
static inline double
col_value(const PairCtx *ctx, PairCol c, int t)
{
	if (c.who == 0)
		return 1.0;
	return (c.who == 1 ? ctx->y->v : ctx->x->v)[t - c.lag];
}

/* Window-p Gram entry of two columns. */
static double
gram_base(const PairCtx *ctx, PairCol a, PairCol b)
{
	int			p1 = ctx->p + 1;

	if (a.who > b.who)
	{
		PairCol		t = a;

		a = b;
		b = t;
	}
	if (a.who == 0)
	{
		if (b.who == 0)
			return ctx->n - ctx->p;
		return (b.who == 1 ? ctx->y : ctx->x)->s[b.lag];
	}
	if (a.who == 1 && b.who == 1)
		return ctx->y->a[a.lag * p1 + b.lag];
	if (a.who == 2 && b.who == 2)
		return ctx->x->a[a.lag * p1 + b.lag];
	/* a is y, b is x: C[x lag][y lag] */
	return ctx->c[b.lag * p1 + a.lag];
}

/*
 * Cholesky factorization of the Gram matrix of cols[0..nc-1] over the
 * sample t = start..n-1 (start <= p), into l (nc x nc, lower, row-major).
 * Returns the index of the first column found collinear with those before
 * it, or -1.
 */
static int
gram_cholesky(const PairCtx *ctx, const PairCol *cols, int nc, int start,
			  long double *l)
{
	for (int i = 0; i < nc; i++)
		for (int j = 0; j <= i; j++)
		{
			double		g = gram_base(ctx, cols[i], cols[j]);

			for (int t = start; t < ctx->p; t++)
				g += col_value(ctx, cols[i], t) * col_value(ctx, cols[j], t);
			l[i * nc + j] = g;
		}
	for (int j = 0; j < nc; j++)
	{
		long double diag = l[j * nc + j];
		long double d = diag;

		for (int k = 0; k < j; k++)
			d -= l[j * nc + k] * l[j * nc + k];
		if (j < nc - 1 && !(d > PAIRS_SINGULAR_TOL * diag))
			return j;
		if (d < 0.0L)
			d = 0.0L;
		d = sqrtl(d);
		l[j * nc + j] = d;
		for (int i = j + 1; i < nc; i++)
		{
			long double s = l[i * nc + j];

			for (int k = 0; k < j; k++)
				s -= l[i * nc + k] * l[j * nc + k];
			l[i * nc + j] = d > 0.0L ? s / d : 0.0L;
		}
	}
	return -1;
}

/* Per-series lagged cross-products over the window t = p..n-1. */
static void
series_prepare(const double *raw, int n, int p, PairSeries *s)
{
	double		mean = 0.0;
	double		scale;
	int			p1 = p + 1;
	int			w = n - p;

	s->v = palloc(sizeof(double) * n);
	s->a = palloc(sizeof(double) * p1 * p1);
	s->s = palloc(sizeof(double) * p1);
	s->constant = true;
	for (int t = 0; t < n; t++)
	{
		mean += raw[t];
		if (raw[t] != raw[0])
			s->constant = false;
	}
	mean /= n;
	stats_check_finite(mean, "the mean of a series");
	for (int t = 0; t < n; t++)
		s->v[t] = raw[t] - mean;
	/* the tests are invariant to each series' scale; keep squares in range */
	scale = stats_pow2_scale(s->v, n);
	for (int t = 0; t < n; t++)
		s->v[t] *= scale;
	s->scale = scale;
	for (int i = 0; i <= p; i++)
	{
		s->s[i] = 0.0;
		for (int t = p; t < n; t++)
			s->s[i] += s->v[t - i];
		for (int j = i; j <= p; j++)
		{
			double		g = dot(s->v + p - i, s->v + p - j, w);

			s->a[i * p1 + j] = g;
			s->a[j * p1 + i] = g;
		}
	}
}

/* The cross block C[i][j] (x lag i >= 1, y lag j >= 0) of a pair. */
static void
pair_cross(PairCtx *ctx)
{
	int			n = ctx->n;
	int			p = ctx->p;
	int			p1 = p + 1;
	int			w = n - p;
	const double *x = ctx->x->v;
	const double *y = ctx->y->v;
	double	   *c = ctx->c;

	for (int j = 0; j <= p; j++)
		c[1 * p1 + j] = dot(x + p - 1, y + p - j, w);
	for (int i = 2; i <= p; i++)
		c[i * p1 + 0] = dot(x + p - i, y + p, w);
	for (int i = 1; i < p; i++)
		for (int j = 0; j < p; j++)
		{
			if (i == 1 || j == 0)
			{
				/* seed of a diagonal: walk it down */
				int			ii = i,
							jj = j;

				while (ii < p && jj < p)
				{
					c[(ii + 1) * p1 + jj + 1] = c[ii * p1 + jj]
						+ x[p - 1 - ii] * y[p - 1 - jj]
						- x[n - 1 - ii] * y[n - 1 - jj];
					ii++;
					jj++;
				}
			}
		}
}

/* statsmodels' information criteria of an OLS fit with k parameters. */
static double
ic_value(StatsIC ic, double ssr, int nobs, int k)
{
	double		llf = stats_ols_llf(ssr, nobs);

	switch (ic)
	{
		case STATS_IC_AIC:
			return -2.0 * llf + 2.0 * k;
		case STATS_IC_BIC:
			return -2.0 * llf + log((double) nobs) * k;
		case STATS_IC_HQIC:
			return -2.0 * llf + 2.0 * log(log((double) nobs)) * k;
		case STATS_IC_NONE:
			break;
	}
	return 0.0;
}

/* Errors (22000) for a pair whose lags are collinear. */
static void
pair_collinear(int xi, int yi, int lag)
{
	ereport(ERROR,
			(errcode(ERRCODE_DATA_EXCEPTION),
			 errmsg("the regressors of the Granger test of series %d -> %d at lag %d are collinear",
					xi + 1, yi + 1, lag),
			 errdetail("A lag of one series is a linear combination of the others (a series constant over the sample, or a copy of the other)."),
			 errhint("Leave one of the two series out.")));
}

/* The lag minimizing ic on the common sample t = p..n-1. */
static int
pair_choose_lag(const PairCtx *ctx, StatsIC ic, int xi, int yi)
{
	int			p = ctx->p;
	int			nc = 2 * p + 2;
	PairCol		cols[PAIRS_MAXCOLS];
	long double l[PAIRS_MAXCOLS * PAIRS_MAXCOLS];
	int			bad;
	long double tail;
	double		best = 0.0;
	int			bestlag = p;
	int			nobs = ctx->n - p;

	if (ic == STATS_IC_NONE)
		return p;
	cols[0] = (PairCol) {0, 0};
	for (int l1 = 1; l1 <= p; l1++)
	{
		cols[2 * l1 - 1] = (PairCol) {1, l1};
		cols[2 * l1] = (PairCol) {2, l1};
	}
	cols[nc - 1] = (PairCol) {1, 0};
	bad = gram_cholesky(ctx, cols, nc, p, l);
	if (bad >= 0)
		pair_collinear(xi, yi, (bad + 1) / 2);

	/* SSR(lag) = last pivot^2 + sum of z_i^2 beyond the model's columns */
	tail = l[(nc - 1) * nc + nc - 1] * l[(nc - 1) * nc + nc - 1];
	for (int lag = p; lag >= 1; lag--)
	{
		int			k = 2 * lag + 1;
		double		v;

		if (lag < p)
		{
			long double z1 = l[(nc - 1) * nc + k];
			long double z2 = l[(nc - 1) * nc + k + 1];

			tail += z1 * z1 + z2 * z2;
		}
		v = ic_value(ic, (double) tail, nobs, k);
		/* ties go to the smaller lag, as min((ic, lag)) does */
		if (lag == p || v <= best)
		{
			best = v;
			bestlag = lag;
		}
	}
	return bestlag;
}

/* The F test at lag k; fills out. */
static void
pair_test(const PairCtx *ctx, int k, int xi, int yi, StatsGrangerPair *out)
{
	int			nc = 2 * k + 2;
	PairCol		cols[PAIRS_MAXCOLS];
	long double l[PAIRS_MAXCOLS * PAIRS_MAXCOLS];
	long double b[PAIRS_MAXCOLS];
	long double ssr_u,
				d = 0.0L,
				sum = 0.0L;
	double		tss = 0.0,
				mean = 0.0;
	int			m = ctx->n - k;
	int			df_u = m - (2 * k + 1);
	const long double *z = &l[(nc - 1) * nc];

	cols[0] = (PairCol) {0, 0};
	for (int i = 1; i <= k; i++)
	{
		cols[i] = (PairCol) {1, i};
		cols[k + i] = (PairCol) {2, i};
	}
	cols[nc - 1] = (PairCol) {1, 0};
	if (gram_cholesky(ctx, cols, nc, k, l) >= 0)
		pair_collinear(xi, yi, k);
	ssr_u = z[nc - 1] * z[nc - 1];
	for (int i = k + 1; i <= 2 * k; i++)
		d += z[i] * z[i];

	for (int t = k; t < ctx->n; t++)
		mean += ctx->y->v[t];
	mean /= m;
	for (int t = k; t < ctx->n; t++)
		tss += (ctx->y->v[t] - mean) * (ctx->y->v[t] - mean);
	if (tss == 0.0 || ssr_u == 0.0L || (double) ssr_u / tss < DBL_EPSILON)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("the Granger test of series %d -> %d at lag %d is undefined: the regression fits perfectly",
						xi + 1, yi + 1, k),
				 errdetail("The residual sum of squares is zero to machine precision.")));

	/* x's coefficients: the last k of L' b = z, by back substitution */
	for (int i = 2 * k; i > k; i--)
	{
		long double s = z[i];

		for (int j = i + 1; j <= 2 * k; j++)
			s -= l[j * nc + i] * b[j];
		b[i] = s / l[i * nc + i];
		sum += b[i];
	}

	out->x_idx = xi;
	out->y_idx = yi;
	out->lag = k;
	out->df_num = k;
	out->df_denom = df_u;
	out->f_stat = (double) (d / ssr_u / k * df_u);
	out->p_value = stats_f_sf(out->f_stat, k, df_u);
	/* coefficients of scaled x on scaled y: b = b' * scale_x / scale_y */
	out->coef_sum = (double) sum * ctx->x->scale / ctx->y->scale;
	out->n = m;
}

/*
 * stats_granger_pairs
 *		See stats.h.
 */
void
stats_granger_pairs(const double *series, int m, int n, int maxlag,
					StatsIC ic, StatsGrangerPair *out)
{
	PairSeries *ps;
	PairCtx		ctx;
	int			o = 0;

	if (m < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("granger_pairs needs at least 2 series, got %d", m)));
	if (maxlag < 1 || maxlag > PAIRS_MAXLAG)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("maxlag must be between 1 and %d, got %d", PAIRS_MAXLAG, maxlag)));
	if (n <= 3 * maxlag + 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("too few observations for maxlag %d", maxlag),
				 errdetail("The series have %d observations; the test needs more than 3 * maxlag + 1 = %d.",
						   n, 3 * maxlag + 1),
				 errhint("The largest lag these series allow is %d.",
						 Max((n - 1) / 3 - 1, 0))));

	ps = palloc(sizeof(PairSeries) * m);
	for (int s = 0; s < m; s++)
	{
		series_prepare(series + (size_t) s * n, n, maxlag, &ps[s]);
		if (ps[s].constant)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("series %d is constant", s + 1),
					 errdetail("Granger causality is undefined for a constant series."),
					 errhint("Leave constant series out of the batch.")));
	}

	ctx.n = n;
	ctx.p = maxlag;
	ctx.c = palloc0(sizeof(double) * (maxlag + 1) * (maxlag + 1));
	for (int xi = 0; xi < m; xi++)
		for (int yi = 0; yi < m; yi++)
		{
			int			lag;

			if (xi == yi)
				continue;
			CHECK_FOR_INTERRUPTS();
			ctx.x = &ps[xi];
			ctx.y = &ps[yi];
			pair_cross(&ctx);
			lag = pair_choose_lag(&ctx, ic, xi, yi);
			pair_test(&ctx, lag, xi, yi, &out[o++]);
		}
}
