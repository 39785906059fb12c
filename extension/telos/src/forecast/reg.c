/*-------------------------------------------------------------------------
 *
 * reg.c
 *	  The fallback for series too short for Holt-Winters: least squares of
 *	  y on a linear trend plus seasonal dummies (when every season has been
 *	  seen and two degrees of freedom remain), else on a linear trend
 *	  alone, with the classical prediction variance
 *	  sigma^2 (1 + x' (X'X)^-1 x) and, for the sum of steps 1..h,
 *	  sigma^2 (h + a' (X'X)^-1 a) with a the sum of their rows.
 *
 * The design is tiny (k = period + 1 columns at most, n < 2 period + 8
 * rows), so the normal equations are solved by Cholesky; time is centred
 * on the sample so that X'X stays well conditioned.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "../forecast.h"

/*
 * The nonzeros of the design row for time t -- 1, t - tc, and the dummy of
 * its season when seasonal and not season 0 -- as ascending column
 * indexes idx and values val; returns their count (2 or 3). Rows are this
 * sparse, so X'X, the forecasts and their variances cost O(k) per row
 * instead of O(k^2) (k is period + 1, up to 1001).
 */
static int
reg_row(int *idx, double *val, double t, double tc, int m, bool seasonal)
{
	int			c = 0;

	idx[c] = 0;
	val[c++] = 1.0;
	idx[c] = 1;
	val[c++] = t - tc;
	if (seasonal)
	{
		int			s = (int) fmod(t, (double) m);

		if (s > 0)
		{
			idx[c] = 1 + s;
			val[c++] = 1.0;
		}
	}
	return c;
}

/* In-place Cholesky of the k x k SPD matrix a (lower triangle); false if not SPD. */
static bool
reg_cholesky(double *a, int k)
{
	for (int j = 0; j < k; j++)
	{
		double		d = a[j * k + j];

		for (int p = 0; p < j; p++)
			d -= a[j * k + p] * a[j * k + p];
		if (d <= 0.0)
			return false;
		d = sqrt(d);
		a[j * k + j] = d;
		for (int i = j + 1; i < k; i++)
		{
			double		v = a[i * k + j];

			for (int p = 0; p < j; p++)
				v -= a[i * k + p] * a[j * k + p];
			a[i * k + j] = v / d;
		}
	}
	return true;
}

/* Solves L L' x = b in place, L from reg_cholesky. */
static void
reg_solve(const double *l, int k, double *b)
{
	for (int i = 0; i < k; i++)
	{
		for (int p = 0; p < i; p++)
			b[i] -= l[i * k + p] * b[p];
		b[i] /= l[i * k + i];
	}
	for (int i = k - 1; i >= 0; i--)
	{
		for (int p = i + 1; p < k; p++)
			b[i] -= l[p * k + i] * b[p];
		b[i] /= l[i * k + i];
	}
}

/*
 * forecast_reg_fit
 *		Regression forecast of y[0..n-1], n >= 3: seasonal when period > 1
 *		and n >= period + 3, else trend only.
 */
void
forecast_reg_fit(const double *y, int n, int period, int horizon, ForecastFit *fit)
{
	bool		seasonal = period > 1 && n >= period + 3;
	int			k = seasonal ? period + 1 : 2;
	int			m = seasonal ? period : 1;
	double		tc = (n - 1) / 2.0;
	double	   *xtx = palloc0(sizeof(double) * k * k);
	double	   *coef = palloc0(sizeof(double) * k);
	double	   *v = palloc(sizeof(double) * k * k);	/* (X'X)^-1, row-major */
	double	   *w = palloc0(sizeof(double) * k);	/* V a, a the sum of future rows */
	double		q = 0.0;		/* a' V a */
	double		sse = 0.0;
	int			idx[3];
	double		val[3];
	int			c;

	Assert(n >= FORECAST_MIN_POINTS);
	for (int t = 0; t < n; t++)
	{
		c = reg_row(idx, val, t, tc, m, seasonal);
		for (int a = 0; a < c; a++)
		{
			coef[idx[a]] += val[a] * y[t];
			for (int b = 0; b <= a; b++)
				xtx[idx[a] * k + idx[b]] += val[a] * val[b];
		}
	}
	if (!reg_cholesky(xtx, k))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("cannot fit the regression forecast: singular design")));
	reg_solve(xtx, k, coef);
	for (int t = 0; t < n; t++)
	{
		double		e = y[t];

		c = reg_row(idx, val, t, tc, m, seasonal);
		for (int a = 0; a < c; a++)
			e -= coef[idx[a]] * val[a];
		sse += e * e;
	}
	/* V column by column (V is symmetric, so its columns are its rows) */
	for (int j = 0; j < k; j++)
	{
		double	   *col = v + (size_t) j * k;

		CHECK_FOR_INTERRUPTS();
		memset(col, 0, sizeof(double) * k);
		col[j] = 1.0;
		reg_solve(xtx, k, col);
	}

	fit->method = seasonal ? "regression_seasonal" : "regression_trend";
	fit->sigma2 = sse / (n - k);
	fit->state_space = false;
	fit->period = period;
	fit->alpha = fit->beta = fit->gamma = fit->phi = NAN;
	fit->mean = palloc(sizeof(double) * horizon);
	fit->var = palloc(sizeof(double) * horizon);
	fit->cvar = palloc(sizeof(double) * horizon);
	for (int h = 1; h <= horizon; h++)
	{
		double		mu = 0.0,
					xvx = 0.0,
					xw = 0.0;

		if ((h & 1023) == 0)
			CHECK_FOR_INTERRUPTS();
		c = reg_row(idx, val, n - 1 + h, tc, m, seasonal);
		for (int a = 0; a < c; a++)
		{
			mu += coef[idx[a]] * val[a];
			xw += val[a] * w[idx[a]];
			for (int b = 0; b < c; b++)
				xvx += val[a] * val[b] * v[idx[a] * k + idx[b]];
		}
		/* a_h = a_{h-1} + x: a'Va grows by 2 x'V a_{h-1} + x'Vx */
		q += 2.0 * xw + xvx;
		for (int a = 0; a < c; a++)
		{
			const double *col = v + (size_t) idx[a] * k;

			for (int i = 0; i < k; i++)
				w[i] += val[a] * col[i];
		}
		fit->mean[h - 1] = mu;
		fit->var[h - 1] = fit->sigma2 * (1.0 + xvx);
		fit->cvar[h - 1] = fit->sigma2 * (h + q);
	}
}
