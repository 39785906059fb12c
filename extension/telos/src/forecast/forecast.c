/*-------------------------------------------------------------------------
 *
 * forecast.c
 *	  forecast_run: chooses the model (Holt-Winters when the series is long
 *	  enough, else the regression fallback), turns its per-step variances
 *	  into prediction intervals, and computes the probability of reaching
 *	  the target.
 *
 * Forecast errors are taken as normal (the models' errors are assumed
 * i.i.d. normal). For increase / decrease the probability is that of the
 * value at the horizon (or the running sum at the horizon, when
 * cumulative) being at least / at most the target: one normal tail. For
 * maintain it is the probability that every step of the horizon stays at
 * or above the target, a joint event of correlated steps, estimated by
 * simulating 2,000 paths of the fitted model with a fixed-seed generator,
 * so the result is deterministic (standard error at most 0.011).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include <gsl/gsl_cdf.h>

#include "miscadmin.h"

#include "../forecast.h"

#define MAINTAIN_PATHS	2000
#define MAINTAIN_SEED	UINT64CONST(0x7e1057e1057e1057)

/* splitmix64 (small, fast, the same numbers on every platform) and a spare normal. */
typedef struct SimRng
{
	uint64		state;
	bool		has_spare;
	double		spare;
} SimRng;

static uint64
sim_next(SimRng *rng)
{
	uint64		z = (rng->state += UINT64CONST(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64CONST(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64CONST(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* A standard normal draw (Box-Muller; the second of each pair is kept). */
static double
sim_normal(SimRng *rng)
{
	double		u1,
				u2,
				r;

	if (rng->has_spare)
	{
		rng->has_spare = false;
		return rng->spare;
	}
	u1 = ((sim_next(rng) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
	u2 = (sim_next(rng) >> 11) * (1.0 / 9007199254740992.0);
	r = sqrt(-2.0 * log(u1));
	rng->spare = r * sin(2.0 * M_PI * u2);
	rng->has_spare = true;
	return r * cos(2.0 * M_PI * u2);
}

/*
 * P(every step h = 1..H has y[n+h] >= target), by simulation. For a
 * state-space fit the paths follow the model's states (deviations from the
 * point forecast are linear in the future errors, so they are simulated
 * from zero states); for a regression the steps are drawn independently
 * with their own variances (parameter uncertainty shared between steps is
 * ignored, an approximation the docs state).
 */
static double
maintain_probability(const ForecastFit *fit, int horizon, double target)
{
	SimRng		rng = {MAINTAIN_SEED, false, 0.0};
	double		sigma = sqrt(fit->sigma2);
	int			ok = 0;
	int			m = Max(fit->period, 1);
	double	   *ds = palloc(sizeof(double) * m);

	for (int path = 0; path < MAINTAIN_PATHS; path++)
	{
		double		dl = 0.0,
					db = 0.0;
		bool		stays = true;

		if ((path & 255) == 0)
			CHECK_FOR_INTERRUPTS();
		memset(ds, 0, sizeof(double) * m);
		for (int h = 1; h <= horizon && stays; h++)
		{
			double		dev;

			if (fit->state_space)
			{
				int			k = (h - 1) % m;
				double		e = sigma * sim_normal(&rng);

				dev = dl + fit->phi * db + ds[k] + e;
				dl = dl + fit->phi * db + fit->alpha * e;
				db = fit->phi * db + fit->beta * e;
				ds[k] += fit->gamma * e;
			}
			else
				dev = sqrt(fit->var[h - 1]) * sim_normal(&rng);
			stays = fit->mean[h - 1] + dev >= target;
		}
		ok += stays;
	}
	pfree(ds);
	return (double) ok / MAINTAIN_PATHS;
}

/* P(X >= target) (above) or P(X <= target) for X ~ N(mean, sd^2). */
static double
tail_probability(double mean, double sd, double target, bool above)
{
	double		z;

	if (!(sd > 0.0))
		return above ? (mean >= target) : (mean <= target);
	z = (mean - target) / sd;
	return above ? gsl_cdf_ugaussian_P(z) : gsl_cdf_ugaussian_Q(z);
}

Forecast *
forecast_run(const double *y, int n, const ForecastSpec *spec)
{
	Forecast   *fc = palloc0(sizeof(Forecast));
	ForecastFit fit;
	int			H = spec->horizon;
	double		z = gsl_cdf_ugaussian_Pinv((1.0 + spec->level) / 2.0);
	double		running;

	if (n < FORECAST_MIN_POINTS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("y must have at least %d values to forecast, got %d",
						FORECAST_MIN_POINTS, n)));
	if (!forecast_hw_fit(y, n, spec->period, H, &fit))
		forecast_reg_fit(y, n, spec->period, H, &fit);

	if (!isfinite(fit.sigma2))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("forecast errors out of range"),
				 errdetail("The squared one-step errors overflow a double."),
				 errhint("Rescale the series (e.g. to thousands) before forecasting it.")));
	fc->n = n;
	fc->horizon = H;
	fc->method = fit.method;
	fc->sigma = sqrt(fit.sigma2);
	fc->alpha = fit.alpha;
	fc->beta = fit.beta;
	fc->gamma = fit.gamma;
	fc->phi = fit.phi;
	fc->mean = palloc(sizeof(double) * H);
	fc->sd = palloc(sizeof(double) * H);
	fc->lo = palloc(sizeof(double) * H);
	fc->hi = palloc(sizeof(double) * H);
	running = spec->accumulated;
	for (int h = 0; h < H; h++)
	{
		if (spec->cumulative)
		{
			running += fit.mean[h];
			fc->mean[h] = running;
			fc->sd[h] = sqrt(fit.cvar[h]);
		}
		else
		{
			fc->mean[h] = fit.mean[h];
			fc->sd[h] = sqrt(fit.var[h]);
		}
		fc->lo[h] = fc->mean[h] - z * fc->sd[h];
		fc->hi[h] = fc->mean[h] + z * fc->sd[h];
		/* squares of values near the double range overflow */
		if (!isfinite(fc->lo[h]) || !isfinite(fc->hi[h]))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("forecast out of range at step %d", h + 1),
					 errhint("Rescale the series (e.g. to thousands) before forecasting it.")));
	}

	fc->probability = NAN;
	if (spec->has_target)
	{
		switch (spec->direction)
		{
			case FORECAST_INCREASE:
				fc->probability = tail_probability(fc->mean[H - 1], fc->sd[H - 1],
												   spec->target, true);
				break;
			case FORECAST_DECREASE:
				fc->probability = tail_probability(fc->mean[H - 1], fc->sd[H - 1],
												   spec->target, false);
				break;
			case FORECAST_MAINTAIN:
				fc->probability = maintain_probability(&fit, H, spec->target);
				break;
		}
	}
	return fc;
}
