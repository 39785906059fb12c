/*-------------------------------------------------------------------------
 *
 * hw.c
 *	  Additive Holt-Winters in state-space form, ETS(A,A,A) and
 *	  ETS(A,Ad,A): the fit (one-step SSE minimised by Nelder-Mead over
 *	  bounded parameters) and the forecast with its closed-form variances.
 *
 * With e[t] the one-step error, the model is (Hyndman et al., "Forecasting
 * with Exponential Smoothing", 2008, ch. 2 and 6):
 *
 *	  y[t]	 = l + phi b + s[t - m] + e[t]
 *	  l'	 = l + phi b + alpha e[t]
 *	  b'	 = phi b + beta e[t]
 *	  s[t]	 = s[t - m] + gamma e[t]
 *
 * with 0 < alpha < 1, 0 < beta < alpha, 0 < gamma < 1 - alpha and phi in
 * [0.8, 0.98] (damped) or 1 (undamped). The bounds are enforced by the
 * parametrisation (logistic functions of unbounded variables), so the
 * simplex search is unconstrained. The initial states come from a least
 * squares fit of the first seasons (hw_init_states) rather than from the
 * search: 2 to 4 parameters to search instead of m + 4, and sigma^2 counts
 * them as estimated (its denominator drops by m + 1).
 *
 * The h-step variance is sigma^2 (1 + sum_{j<h} c_j^2) with
 * c_j = alpha + beta phi_j + gamma [j mod m = 0], phi_j = phi + ... + phi^j;
 * the sum of steps 1..h is sum_k e[n+k] (1 + C_{h-k}), C_i = c_1 + ... + c_i,
 * so its variance is sigma^2 sum_{i<h} (1 + C_i)^2, accumulated in O(h).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "miscadmin.h"

#include "../forecast.h"

#define HW_MAX_EVALS	600
#define HW_PHI_LO		0.80
#define HW_PHI_SPAN		0.18

/* The data one SSE evaluation needs. */
typedef struct HwData
{
	const double *y;
	int			n;
	int			m;				/* period */
	bool		damped;
	double	   *s;				/* m seasonal states, scratch */
	double		l0,				/* initial states at time start - 1 */
				b0;
	double	   *s0;				/* m initial seasonal states */
	int			start;			/* first scored observation */
} HwData;

typedef struct HwParams
{
	double		alpha,
				beta,
				gamma,
				phi;
} HwParams;

static double
logistic(double u)
{
	return 1.0 / (1.0 + exp(-u));
}

static double
logit(double p)
{
	return log(p / (1.0 - p));
}

/* Parameters from the search variables u (2, 3 or 4 of them). */
static HwParams
hw_decode(const HwData *d, const double *u)
{
	HwParams	p;
	int			i = 0;

	p.alpha = 0.0001 + 0.9998 * logistic(u[i++]);
	p.beta = p.alpha * logistic(u[i++]);
	p.gamma = d->m > 1 ? (1.0 - p.alpha) * logistic(u[i++]) : 0.0;
	p.phi = d->damped ? HW_PHI_LO + HW_PHI_SPAN * logistic(u[i++]) : 1.0;
	return p;
}

/*
 * Runs the filter over the scored observations; returns the SSE and leaves
 * the final states in *l, *b and d->s.
 */
static double
hw_filter(HwData *d, const HwParams *p, double *l_out, double *b_out)
{
	double		l = d->l0,
				b = d->b0,
				sse = 0.0;
	int			m = d->m;

	memcpy(d->s, d->s0, sizeof(double) * m);
	for (int t = d->start; t < d->n; t++)
	{
		int			k = t % m;
		double		yhat = l + p->phi * b + d->s[k];
		double		e = d->y[t] - yhat;

		sse += e * e;
		l = l + p->phi * b + p->alpha * e;
		b = p->phi * b + p->beta * e;
		d->s[k] += p->gamma * e;
	}
	if (l_out)
		*l_out = l;
	if (b_out)
		*b_out = b;
	return sse;
}

static double
hw_sse(HwData *d, const double *u)
{
	HwParams	p = hw_decode(d, u);

	return hw_filter(d, &p, NULL, NULL);
}

/*
 * Nelder-Mead minimisation of hw_sse over dim variables from x (updated in
 * place to the best point); returns the minimum. Standard coefficients
 * (reflection 1, expansion 2, contraction 1/2, shrink 1/2).
 */
static double
hw_minimise(HwData *d, double *x, int dim)
{
	double		pts[5][4];
	double		f[5];
	int			evals = 0;

	for (int i = 0; i <= dim; i++)
	{
		memcpy(pts[i], x, sizeof(double) * dim);
		if (i > 0)
			pts[i][i - 1] += 1.0;
		f[i] = hw_sse(d, pts[i]);
		evals++;
	}
	while (evals < HW_MAX_EVALS)
	{
		int			lo = 0,
					hi = 0,
					nh = 0;
		double		c[4],
					xr[4],
					xe[4],
					fr;

		for (int i = 1; i <= dim; i++)
		{
			if (f[i] < f[lo])
				lo = i;
			if (f[i] > f[hi])
				hi = i;
		}
		nh = (hi == 0) ? 1 : 0;
		for (int i = 0; i <= dim; i++)
			if (i != hi && f[i] > f[nh])
				nh = i;
		if (fabs(f[hi] - f[lo]) <= 1e-7 * (fabs(f[lo]) + 1e-300))
			break;
		for (int j = 0; j < dim; j++)
		{
			c[j] = 0.0;
			for (int i = 0; i <= dim; i++)
				if (i != hi)
					c[j] += pts[i][j];
			c[j] /= dim;
			xr[j] = c[j] + (c[j] - pts[hi][j]);
		}
		fr = hw_sse(d, xr);
		evals++;
		if (fr < f[lo])
		{
			double		fe;

			for (int j = 0; j < dim; j++)
				xe[j] = c[j] + 2.0 * (c[j] - pts[hi][j]);
			fe = hw_sse(d, xe);
			evals++;
			if (fe < fr)
			{
				memcpy(pts[hi], xe, sizeof(double) * dim);
				f[hi] = fe;
			}
			else
			{
				memcpy(pts[hi], xr, sizeof(double) * dim);
				f[hi] = fr;
			}
		}
		else if (fr < f[nh])
		{
			memcpy(pts[hi], xr, sizeof(double) * dim);
			f[hi] = fr;
		}
		else
		{
			double		fc;
			bool		outside = fr < f[hi];

			for (int j = 0; j < dim; j++)
				xe[j] = outside ? c[j] + 0.5 * (xr[j] - c[j])
					: c[j] + 0.5 * (pts[hi][j] - c[j]);
			fc = hw_sse(d, xe);
			evals++;
			if (fc < (outside ? fr : f[hi]))
			{
				memcpy(pts[hi], xe, sizeof(double) * dim);
				f[hi] = fc;
			}
			else
			{
				for (int i = 0; i <= dim; i++)
				{
					if (i == lo)
						continue;
					for (int j = 0; j < dim; j++)
						pts[i][j] = pts[lo][j] + 0.5 * (pts[i][j] - pts[lo][j]);
					f[i] = hw_sse(d, pts[i]);
					evals++;
				}
			}
		}
	}
	{
		int			lo = 0;

		for (int i = 1; i <= dim; i++)
			if (f[i] < f[lo])
				lo = i;
		memcpy(x, pts[lo], sizeof(double) * dim);
		return f[lo];
	}
}

/*
 * Initial states: least squares of the first C complete seasons
 * (C = min(n / m, 4), at least 2; the first min(n, 10) points when m is 1)
 * on a linear trend plus one intercept per season position, which with
 * complete seasons is the pooled within-position slope
 *   b = sum_j sum_c (t - tbar_j)(y - ybar_j) / sum_j sum_c (t - tbar_j)^2
 * and intercepts a_j = ybar_j - b tbar_j. The level at time -1 is
 * mean(a_j) - b, the seasonal states a_j - mean(a_j) (summing to zero).
 * Every observation is then scored. A good start matters: with a crude one
 * (e.g. the first season's deviations alone) the fitted alpha and gamma
 * absorb the start-up error, and the intervals, which grow with them,
 * come out too wide.
 */
static void
hw_init_states(HwData *d)
{
	const double *y = d->y;
	int			m = d->m;
	int			cycles = m == 1 ? Min(d->n, 10) : Max(2, Min(d->n / m, 4));
	double		sxy = 0.0,
				sxx = 0.0,
				abar = 0.0;

	for (int j = 0; j < m; j++)
	{
		double		tbar = j + m * (cycles - 1) / 2.0;
		double		ybar = 0.0;

		for (int c = 0; c < cycles; c++)
			ybar += y[j + c * m];
		ybar /= cycles;
		for (int c = 0; c < cycles; c++)
		{
			double		dt = j + c * m - tbar;

			sxy += dt * (y[j + c * m] - ybar);
			sxx += dt * dt;
		}
		d->s0[j] = ybar;		/* ybar_j for now */
	}
	d->b0 = sxx > 0.0 ? sxy / sxx : 0.0;
	for (int j = 0; j < m; j++)
	{
		double		tbar = j + m * (cycles - 1) / 2.0;

		d->s0[j] -= d->b0 * tbar;	/* a_j */
		abar += d->s0[j];
	}
	abar /= m;
	for (int j = 0; j < m; j++)
		d->s0[j] -= abar;
	if (m == 1)
		d->s0[0] = 0.0;
	d->l0 = abar - d->b0;
	d->start = 0;
}

/*
 * forecast_hw_fit
 *		Fits undamped and damped models, keeps the one with the lower AIC,
 *		and fills fit with its forecast. False (fit untouched) when n is
 *		below 2 * period + 8 (10 without seasonality): too few scored
 *		errors to fit the parameters.
 */
bool
forecast_hw_fit(const double *y, int n, int period, int horizon, ForecastFit *fit)
{
	HwData		d;
	double		best_u[4] = {0},
				best_sse = 0,
				best_aic = INFINITY;
	bool		best_damped = false;
	int			neff,
				best_dim = 0;
	HwParams	p;
	double		l,
				b,
				phih,
				csum,
				vsum,
				cvsum;

	if (n < (period > 1 ? 2 * period + 8 : 10))
		return false;

	d.y = y;
	d.n = n;
	d.m = period;
	d.s = palloc(sizeof(double) * period);
	d.s0 = palloc(sizeof(double) * period);
	hw_init_states(&d);
	neff = n - d.start;

	for (int damped = 0; damped <= 1; damped++)
	{
		double		u[4];
		int			dim = 0;
		double		sse,
					aic;

		CHECK_FOR_INTERRUPTS();
		d.damped = damped;
		u[dim++] = logit(0.3);
		u[dim++] = logit(0.1);
		if (period > 1)
			u[dim++] = logit(0.15);
		if (damped)
			u[dim++] = logit(0.5);
		sse = hw_minimise(&d, u, dim);
		aic = neff * log(Max(sse, 1e-300) / neff) + 2.0 * dim;
		if (!damped || aic < best_aic)
		{
			best_aic = aic;
			best_sse = sse;
			best_damped = damped;
			best_dim = dim;
			memcpy(best_u, u, sizeof(u));
		}
	}

	d.damped = best_damped;
	p = hw_decode(&d, best_u);
	hw_filter(&d, &p, &l, &b);

	fit->method = best_damped ? "holt_winters_damped" : "holt_winters";
	/* the initial states (level, trend, m - 1 free seasonals) were estimated too */
	fit->sigma2 = best_sse / Max(neff - best_dim - (period > 1 ? period + 1 : 2), 1);
	fit->state_space = true;
	fit->period = period;
	fit->alpha = p.alpha;
	fit->beta = p.beta;
	fit->gamma = p.gamma;
	fit->phi = p.phi;
	fit->mean = palloc(sizeof(double) * horizon);
	fit->var = palloc(sizeof(double) * horizon);
	fit->cvar = palloc(sizeof(double) * horizon);

	phih = 0.0;					/* phi + ... + phi^h */
	csum = 0.0;					/* C_{h-1} */
	vsum = 0.0;					/* sum_{j<h} c_j^2 */
	cvsum = 0.0;				/* sum_{i<h} (1 + C_i)^2 */
	for (int h = 1; h <= horizon; h++)
	{
		double		cj;

		phih = phih * p.phi + p.phi;	/* phi_h = phi (1 + phi_{h-1}) */
		fit->mean[h - 1] = l + phih * b + d.s[(n - 1 + h) % period];
		cvsum += (1.0 + csum) * (1.0 + csum);
		fit->var[h - 1] = fit->sigma2 * (1.0 + vsum);
		fit->cvar[h - 1] = fit->sigma2 * cvsum;
		/* c_h, for the next step */
		cj = p.alpha + p.beta * phih + ((period > 1 && h % period == 0) ? p.gamma : 0.0);
		vsum += cj * cj;
		csum += cj;
	}
	return true;
}
