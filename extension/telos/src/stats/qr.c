/*-------------------------------------------------------------------------
 *
 * qr.c
 *	  Ordinary least squares by Householder QR.
 *
 * Two factorizations live here. StatsQR (no pivoting) serves the tests
 * that compare nested models -- Granger's restricted and unrestricted
 * regressions, ADF's lag search: the columns are ordered so that each
 * smaller model is a leading block of the design, and one factorization
 * gives the SSR of all of them as tail sums of z = Q'y, computed from
 * squares and never as a difference of two large sums. stats_ols pivots
 * (largest remaining column norm first) to find the rank of an arbitrary
 * design, with numpy's matrix_rank tolerance, as statsmodels' OLS does.
 *
 * QR never forms X'X, so its accuracy depends on cond(X), not cond(X)^2:
 * on random-walk levels (lags nearly collinear) it still gives the F
 * statistics to ~1e-12.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <float.h>
#include <math.h>

#include "miscadmin.h"

#include "../stats.h"

/*
 * Euclidean norm of x[0..n-1], scaled so that squares of large values do
 * not overflow.
 */
static double
vec_norm(const double *x, int n)
{
	double		scale = 0.0;
	double		ssq = 0.0;

	for (int i = 0; i < n; i++)
	{
		double		a = fabs(x[i]);

		if (a > scale)
		{
			if (scale > 0.0)
				ssq *= (scale / a) * (scale / a);
			scale = a;
		}
		if (a > 0.0)
			ssq += (a / scale) * (a / scale);
	}
	return scale * sqrt(ssq);
}

/*
 * Householder reflection H = I - tau v v' that maps x (length n) to
 * (beta, 0, ..., 0); v[0] = 1 implicitly, v[1..] overwrite x[1..].
 * Returns tau (0 when x is already of that form) and sets *beta.
 */
static double
householder(double *x, int n, double *beta)
{
	double		alpha = x[0];
	double		xnorm = n > 1 ? vec_norm(x + 1, n - 1) : 0.0;
	double		b,
				s;

	if (xnorm == 0.0)
	{
		*beta = alpha;
		return 0.0;
	}
	b = -copysign(hypot(alpha, xnorm), alpha);
	s = 1.0 / (alpha - b);
	for (int i = 1; i < n; i++)
		x[i] *= s;
	*beta = b;
	return (b - alpha) / b;
}

/* Applies H (v with implicit v[0] = 1, tau) to column c (length n). */
static inline void
householder_apply(const double *v, double tau, double *c, int n)
{
	double		w = c[0];

	if (tau == 0.0)
		return;
	for (int i = 1; i < n; i++)
		w += v[i] * c[i];
	w *= tau;
	c[0] -= w;
	for (int i = 1; i < n; i++)
		c[i] -= w * v[i];
}

/*
 * stats_pow2_scale
 *		See stats.h.
 */
double
stats_pow2_scale(const double *v, size_t n)
{
	double		mx = 0.0;
	int			e;

	for (size_t i = 0; i < n; i++)
		if (fabs(v[i]) > mx)
			mx = fabs(v[i]);
	if (mx == 0.0 || !isfinite(mx))
		return 1.0;
	(void) frexp(mx, &e);
	return ldexp(1.0, -e);
}

/*
 * stats_check_finite
 *		See stats.h.
 */
void
stats_check_finite(double v, const char *what)
{
	if (!isfinite(v))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("%s is out of range", what),
				 errdetail("The input values are too extreme for the computation in double precision."),
				 errhint("Rescale the series.")));
}

/*
 * stats_qr_init
 *		Allocates the arrays of a StatsQR of m rows and k columns (plus the
 *		response) in the current memory context, zeroed.
 */
void
stats_qr_init(StatsQR *qr, int m, int k)
{
	qr->m = m;
	qr->k = k;
	qr->a = palloc0(sizeof(double) * (size_t) m * (k + 1));
	qr->rdiag = palloc0(sizeof(double) * k);
	qr->colnorm = palloc0(sizeof(double) * k);
	qr->z = qr->a + (size_t) m * k;
}

/*
 * stats_qr_factor
 *		Householder QR of the m x k design in qr->a, applied to the response
 *		in column k as well (which becomes z = Q'y).
 */
void
stats_qr_factor(StatsQR *qr)
{
	int			m = qr->m;
	int			k = qr->k;

	for (int j = 0; j < k; j++)
		qr->colnorm[j] = vec_norm(qr->a + (size_t) m * j, m);
	for (int j = 0; j < k && j < m; j++)
	{
		double	   *col = qr->a + (size_t) m * j + j;
		double		beta;
		double		tau = householder(col, m - j, &beta);

		for (int c = j + 1; c <= k; c++)
			householder_apply(col, tau, qr->a + (size_t) m * c + j, m - j);
		qr->rdiag[j] = beta;
		col[0] = beta;
	}
}

/*
 * stats_qr_first_singular
 *		The first column whose |R_jj| is at most tol times its norm (it is,
 *		to that tolerance, a combination of the columns before it), or -1.
 */
int
stats_qr_first_singular(const StatsQR *qr, double tol)
{
	for (int j = 0; j < qr->k; j++)
		if (!(fabs(qr->rdiag[j]) > tol * qr->colnorm[j]))
			return j;
	return -1;
}

/*
 * stats_qr_ssr
 *		SSR of the model with the first c columns: the tail of z = Q'y.
 */
double
stats_qr_ssr(const StatsQR *qr, int c)
{
	double		s = 0.0;

	for (int i = c; i < qr->m; i++)
		s += qr->z[i] * qr->z[i];
	return s;
}

/*
 * stats_qr_coef
 *		Coefficients of the model with the first c columns: R11 b = z[0..c).
 */
void
stats_qr_coef(const StatsQR *qr, int c, double *b)
{
	int			m = qr->m;

	for (int i = c - 1; i >= 0; i--)
	{
		double		s = qr->z[i];

		for (int j = i + 1; j < c; j++)
			s -= qr->a[(size_t) m * j + i] * b[j];
		b[i] = s / qr->rdiag[i];
	}
}

/*
 * stats_ols_llf
 *		statsmodels' OLS log-likelihood: -n/2 (log(2 pi) + log(ssr/n) + 1).
 */
double
stats_ols_llf(double ssr, int nobs)
{
	double		n2 = nobs / 2.0;

	return -n2 * log(2.0 * M_PI) - n2 * log(ssr / nobs) - n2;
}

/*
 * stats_ols
 *		Least squares with column pivoting; see stats.h.
 */
void
stats_ols(const double *y, const double *x, int n, int ncols, bool add_const,
		  StatsOls *res)
{
	int			k = ncols + (add_const ? 1 : 0);
	double	   *a;
	double	   *z;
	double	   *rdiag;
	int		   *perm;
	double		rmax = 0.0;
	double		tol;
	int			rank = 0;
	bool		has_const = add_const;
	double		ybar = 0.0,
				tss = 0.0;
	double	   *b;
	double	   *rinv;
	double	   *colscale;
	double		ys;

	if (n <= k)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("too few observations for the regression"),
				 errdetail("%d observations, %d columns (constant included); at least %d are needed.",
						   n, k, k + 1)));

	/* column-major copy of the design and the response */
	a = palloc(sizeof(double) * (size_t) n * (k + 1));
	for (int i = 0; i < n; i++)
	{
		if (add_const)
			a[i] = 1.0;
		for (int j = 0; j < ncols; j++)
			a[(size_t) n * (j + (add_const ? 1 : 0)) + i] = x[(size_t) i * ncols + j];
		a[(size_t) n * k + i] = y[i];
	}
	z = a + (size_t) n * k;

	/*
	 * Equilibrate: each column and the response by a power of two (exact),
	 * undone on the coefficients and the SSR below.
	 */
	colscale = palloc(sizeof(double) * (k + 1));
	for (int j = 0; j <= k; j++)
	{
		double	   *c = a + (size_t) n * j;

		colscale[j] = stats_pow2_scale(c, n);
		for (int i = 0; i < n; i++)
			c[i] *= colscale[j];
	}
	rdiag = palloc0(sizeof(double) * k);
	perm = palloc(sizeof(int) * k);
	for (int j = 0; j < k; j++)
		perm[j] = j;

	/* a user-supplied constant column makes R^2 centered, as in statsmodels */
	for (int j = 0; j < k && !has_const; j++)
	{
		const double *c = a + (size_t) n * j;
		bool		same = c[0] != 0.0;

		for (int i = 1; i < n && same; i++)
			same = c[i] == c[0];
		has_const = same;
	}

	tol = (double) Max(n, k) * DBL_EPSILON;
	for (int j = 0; j < k; j++)
	{
		int			best = j;
		double		bestnorm = -1.0;
		double		beta,
					tau;
		double	   *col;

		/* pivot: the remaining column with the largest remaining norm */
		for (int c = j; c < k; c++)
		{
			double		nrm = vec_norm(a + (size_t) n * c + j, n - j);

			if (nrm > bestnorm)
			{
				bestnorm = nrm;
				best = c;
			}
		}
		if (j == 0)
			rmax = bestnorm;
		if (!(bestnorm > tol * rmax) || rmax == 0.0)
			break;
		if (best != j)
		{
			int			t = perm[j];

			perm[j] = perm[best];
			perm[best] = t;
			for (int i = 0; i < n; i++)
			{
				double		s = a[(size_t) n * j + i];

				a[(size_t) n * j + i] = a[(size_t) n * best + i];
				a[(size_t) n * best + i] = s;
			}
		}
		col = a + (size_t) n * j + j;
		tau = householder(col, n - j, &beta);
		for (int c = j + 1; c <= k; c++)
			householder_apply(col, tau, a + (size_t) n * c + j, n - j);
		col[0] = beta;
		rdiag[j] = beta;
		rank++;
	}

	res->n = n;
	res->k = k;
	res->rank = rank;
	res->df_resid = n - rank;
	ys = colscale[k];
	res->ssr = 0.0;
	for (int i = rank; i < n; i++)
		res->ssr += z[i] * z[i];
	res->ssr /= ys * ys;
	stats_check_finite(res->ssr, "the residual sum of squares");
	/* R^2 on the scaled response: the scale cancels */
	for (int i = 0; i < n; i++)
		ybar += y[i] * ys;
	ybar /= n;
	for (int i = 0; i < n; i++)
		tss += has_const ? (y[i] * ys - ybar) * (y[i] * ys - ybar) : (y[i] * ys) * (y[i] * ys);
	res->r2 = tss > 0.0 ? 1.0 - res->ssr * ys * ys / tss : NAN;

	/* coefficients of the pivoted leading block, R11 b = z */
	b = palloc0(sizeof(double) * Max(rank, 1));
	for (int i = rank - 1; i >= 0; i--)
	{
		double		s = z[i];

		for (int j = i + 1; j < rank; j++)
			s -= a[(size_t) n * j + i] * b[j];
		b[i] = s / rdiag[i];
	}

	/* (R11' R11)^-1 = R11^-1 R11^-T: row norms of R11^-1 */
	rinv = palloc0(sizeof(double) * Max(rank, 1) * Max(rank, 1));
	for (int c = 0; c < rank; c++)
	{
		rinv[c * rank + c] = 1.0 / rdiag[c];
		for (int i = c - 1; i >= 0; i--)
		{
			double		s = 0.0;

			for (int j = i + 1; j <= c; j++)
				s += a[(size_t) n * j + i] * rinv[j * rank + c];
			rinv[i * rank + c] = -s / rdiag[i];
		}
	}

	res->coef = palloc(sizeof(double) * k);
	res->se = palloc(sizeof(double) * k);
	res->t = palloc(sizeof(double) * k);
	res->p = palloc(sizeof(double) * k);
	res->aliased = palloc(sizeof(bool) * k);
	for (int j = 0; j < k; j++)
	{
		res->coef[j] = res->se[j] = res->t[j] = res->p[j] = NAN;
		res->aliased[j] = true;
	}
	for (int i = 0; i < rank; i++)
	{
		int			col = perm[i];
		double		v = 0.0;
		double		sigma2 = res->ssr * ys * ys / res->df_resid;	/* scaled */
		double		unscale = colscale[col] / ys;

		for (int j = i; j < rank; j++)
			v += rinv[i * rank + j] * rinv[i * rank + j];
		res->aliased[col] = false;
		res->coef[col] = b[i] * unscale;
		res->se[col] = sqrt(sigma2 * v) * unscale;
		stats_check_finite(res->coef[col], "a coefficient");
		stats_check_finite(res->se[col], "a standard error");
		/* a perfect fit (sigma 0) has no t statistic: NaN, NULL in SQL */
		if (sigma2 > 0.0)
		{
			res->t[col] = b[i] / sqrt(sigma2 * v);
			res->p[col] = stats_t_sf2(res->t[col], res->df_resid);
		}
	}
}
