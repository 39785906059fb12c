/*-------------------------------------------------------------------------
 *
 * forecast.h
 *	  The forecast engine of goals: a point forecast, a prediction interval
 *	  and the probability of reaching a target by a horizon, from a regular
 *	  series (one value per period step, e.g. one per day).
 *
 * The model is additive Holt-Winters in its state-space (ETS(A,A,A) /
 * ETS(A,Ad,A)) form, parameters fit by minimising the one-step SSE with
 * Nelder-Mead on bounded parameters; damped and undamped trend are both
 * fit and the lower AIC wins. Prediction variances are the closed form of
 * the state-space model (Hyndman et al. 2008, class 1), so results are
 * exact and deterministic. Series too short for Holt-Winters fall back to a
 * least-squares regression on a linear trend plus seasonal dummies (or a
 * linear trend alone), with the classical regression prediction variance.
 * docs/goals-forecast.md explains the choice.
 *
 * The functions take plain C arrays of finite doubles (forecast_sql.c
 * checks the SQL arguments) and report bad arguments with ereport(ERROR,
 * 22023). Results are palloc'd in the current memory context.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_FORECAST_H
#define TELOS_FORECAST_H

#include "postgres.h"

typedef enum ForecastDirection
{
	FORECAST_INCREASE,			/* reach the target or more */
	FORECAST_DECREASE,			/* reach the target or less */
	FORECAST_MAINTAIN			/* stay at or above the target at every step */
} ForecastDirection;

/* What to forecast. */
typedef struct ForecastSpec
{
	int			period;			/* season length in steps, 1 = none */
	int			horizon;		/* steps ahead, >= 1 */
	double		level;			/* two-sided interval level, in (0, 1) */
	bool		cumulative;		/* forecast the running sum of future y */
	double		accumulated;	/* added to the running sum (cumulative only) */
	bool		has_target;
	double		target;
	ForecastDirection direction;
} ForecastSpec;

/* Limits the SQL layer checks and the docs state. */
#define FORECAST_MAX_PERIOD		1000
#define FORECAST_MAX_HORIZON	10000
#define FORECAST_MIN_POINTS		3

/* The result: horizon entries per array, step h at index h - 1. */
typedef struct Forecast
{
	int			n;				/* observations used */
	int			horizon;
	double	   *mean;			/* point forecast (running sum when cumulative) */
	double	   *sd;				/* its predictive standard deviation */
	double	   *lo;				/* mean -/+ z * sd, z the normal quantile of level */
	double	   *hi;
	double		sigma;			/* residual standard deviation (one step) */
	const char *method;			/* holt_winters, holt_winters_damped,
								 * regression_seasonal, regression_trend */
	double		probability;	/* NaN without a target */
	double		alpha,			/* smoothing parameters (NaN for regressions) */
				beta,
				gamma,
				phi;
} Forecast;

/*
 * forecast_run
 *		Fits the model to y[0..n-1] (n >= FORECAST_MIN_POINTS, finite) and
 *		forecasts spec->horizon steps; fills probability when spec has a
 *		target. For a cumulative spec, mean[h-1] is accumulated plus the sum
 *		of the forecasts of steps 1..h and sd is that sum's. The returned
 *		struct and its arrays are palloc'd.
 */
extern Forecast *forecast_run(const double *y, int n, const ForecastSpec *spec);

/* ---- internals shared by the files of src/forecast/ ---- */

/*
 * A fitted model's forecast: per-step means, variances of each step and of
 * the running sums, and (for Holt-Winters) the state-space weights used to
 * simulate joint paths. Filled by forecast_hw_fit / forecast_reg_fit.
 */
typedef struct ForecastFit
{
	const char *method;
	double		sigma2;
	double	   *mean;			/* horizon */
	double	   *var;			/* horizon: Var(y[n+h]) */
	double	   *cvar;			/* horizon: Var(sum_{j<=h} y[n+j]) */
	bool		state_space;	/* alpha..phi, period define the paths */
	int			period;
	double		alpha,
				beta,
				gamma,
				phi;
} ForecastFit;

/* Holt-Winters fit and forecast; false when y is too short for it. */
extern bool forecast_hw_fit(const double *y, int n, int period, int horizon,
							ForecastFit *fit);

/* Regression on trend (+ seasonal dummies when n allows); always succeeds for n >= 3. */
extern void forecast_reg_fit(const double *y, int n, int period, int horizon,
							 ForecastFit *fit);

#endif							/* TELOS_FORECAST_H */
