/*-------------------------------------------------------------------------
 *
 * dist.c
 *	  Tail probabilities of the F, chi-square, Student t and normal
 *	  distributions, through GSL's special functions.
 *
 * Each tail is computed as scipy (cephes) computes it, from the same
 * special function with the same arguments, rather than as 1 - cdf: the
 * p-values of strong effects are far below 1e-16 and must keep their
 * relative precision for the false discovery rate and for the comparison
 * with statsmodels. GSL calls abort() on a domain error unless told not to;
 * the handler is switched off on first use and every status is checked
 * here instead.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_sf_gamma.h>

#include "../stats.h"

/* GSL's error handler is process-wide; it only ever gets set to "off". */
static bool gsl_quiet = false;

/* Turns GSL's abort-on-error handler off, once per process. */
static inline void
dist_init(void)
{
	if (!gsl_quiet)
	{
		gsl_set_error_handler_off();
		gsl_quiet = true;
	}
}

/*
 * stats_beta_inc
 *		I_x(a, b); an underflow is 0, any other failure NaN.
 */
double
stats_beta_inc(double a, double b, double x)
{
	gsl_sf_result r;
	int			status;

	dist_init();
	if (x <= 0.0)
		return 0.0;
	if (x >= 1.0)
		return 1.0;
	status = gsl_sf_beta_inc_e(a, b, x, &r);
	if (status == GSL_EUNDRFLW)
		return 0.0;
	if (status != GSL_SUCCESS)
		return NAN;
	return r.val;
}

/*
 * stats_f_sf
 *		scipy's fdtrc: I_{d2 / (d2 + d1 f)}(d2 / 2, d1 / 2).
 */
double
stats_f_sf(double f, double d1, double d2)
{
	if (isnan(f))
		return NAN;
	if (f <= 0.0)
		return 1.0;
	if (isinf(f))
		return 0.0;
	return stats_beta_inc(d2 / 2.0, d1 / 2.0, d2 / (d2 + d1 * f));
}

/*
 * stats_chi2_sf
 *		scipy's chdtrc: the upper regularized gamma Q(df / 2, x / 2).
 */
double
stats_chi2_sf(double x, double df)
{
	gsl_sf_result r;
	int			status;

	dist_init();
	if (isnan(x))
		return NAN;
	if (x <= 0.0)
		return 1.0;
	if (isinf(x))
		return 0.0;
	status = gsl_sf_gamma_inc_Q_e(df / 2.0, x / 2.0, &r);
	if (status == GSL_EUNDRFLW)
		return 0.0;
	if (status != GSL_SUCCESS)
		return NAN;
	return r.val;
}

/*
 * stats_t_sf2
 *		P(|T| > |t|) = I_{df / (df + t^2)}(df / 2, 1 / 2).
 */
double
stats_t_sf2(double t, double df)
{
	if (isnan(t))
		return NAN;
	if (isinf(t))
		return 0.0;
	if (t == 0.0)
		return 1.0;
	return stats_beta_inc(df / 2.0, 0.5, df / (df + t * t));
}

/*
 * stats_norm_cdf
 *		The standard normal distribution function.
 */
double
stats_norm_cdf(double z)
{
	dist_init();
	return gsl_cdf_ugaussian_P(z);
}
