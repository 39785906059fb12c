/*-------------------------------------------------------------------------
 *
 * mackinnon.c
 *	  MacKinnon's approximate p-values and critical values of the
 *	  Dickey-Fuller unit-root t statistic, one series (N = 1).
 *
 * p-values: MacKinnon, J.G. (1994), "Approximate asymptotic distribution
 * functions for unit-root and cointegration tests", Journal of Business
 * and Economic Statistics 12, 167-176, Table 3 (tau statistics): the
 * p-value is Phi(g0 + g1 tau + g2 tau^2 [+ g3 tau^3]), with the quadratic
 * ("small p") fit below tau*, the cubic ("large p") fit above it, 0 below
 * the table's minimum and 1 above its maximum. These are the coefficients
 * statsmodels' mackinnonp uses (its _tau_smallps, _tau_largeps, _tau_stars,
 * _tau_mins, _tau_maxs), written here with the paper's scaling.
 *
 * Critical values: MacKinnon, J.G. (2010), "Critical values for
 * cointegration tests", Queen's Economics Department Working Paper 1227,
 * Table 2: cv(T) = b_inf + b1 / T + b2 / T^2 + b3 / T^3 (statsmodels'
 * mackinnoncrit, tau_2010s).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "../stats.h"

typedef struct MacKinnonP
{
	double		max;			/* above: p = 1 */
	double		min;			/* below: p = 0 */
	double		star;			/* at or below: small-p fit */
	double		small[3];
	double		large[4];
} MacKinnonP;

/* indexed by StatsTrend: n, c, ct, ctt */
static const MacKinnonP mackinnon_p[4] = {
	{INFINITY, -19.04, -1.04,
	 {0.6344, 1.2378, 3.2496e-2},
	 {0.4797, 9.3557e-1, -0.6999e-1, 3.3066e-2}},
	{2.74, -18.83, -1.61,
	 {2.1659, 1.4412, 3.8269e-2},
	 {1.7339, 9.3202e-1, -12.745e-2, -1.0368e-2}},
	{0.70, -16.18, -2.89,
	 {3.2512, 1.6047, 4.9588e-2},
	 {2.5261, 6.1654e-1, -37.956e-2, -6.0285e-2}},
	{0.54, -17.17, -3.21,
	 {4.0003, 1.658, 4.8288e-2},
	 {3.0778, 4.9529e-1, -41.477e-2, -5.9359e-2}},
};

/* [trend][1 %, 5 %, 10 %][b_inf, b1, b2, b3] */
static const double mackinnon_crit[4][3][4] = {
	{{-2.56574, -2.2358, -3.627, 0.0},
	 {-1.94100, -0.2686, -3.365, 31.223},
	 {-1.61682, 0.2656, -2.714, 25.364}},
	{{-3.43035, -6.5393, -16.786, -79.433},
	 {-2.86154, -2.8903, -4.234, -40.040},
	 {-2.56677, -1.5384, -2.809, 0.0}},
	{{-3.95877, -9.0531, -28.428, -134.155},
	 {-3.41049, -4.3904, -9.036, -45.374},
	 {-3.12705, -2.5856, -3.925, -22.380}},
	{{-4.37113, -11.5882, -35.819, -334.047},
	 {-3.83239, -5.9057, -12.490, -118.284},
	 {-3.55326, -3.6596, -5.293, -63.559}},
};

/*
 * stats_mackinnon_p
 *		Approximate p-value of the ADF statistic stat (see the file comment).
 */
double
stats_mackinnon_p(double stat, StatsTrend trend)
{
	const MacKinnonP *m = &mackinnon_p[trend];
	double		v;

	if (stat > m->max)
		return 1.0;
	if (stat < m->min)
		return 0.0;
	if (stat <= m->star)
		v = (m->small[2] * stat + m->small[1]) * stat + m->small[0];
	else
		v = ((m->large[3] * stat + m->large[2]) * stat + m->large[1]) * stat
			+ m->large[0];
	return stats_norm_cdf(v);
}

/*
 * stats_mackinnon_crit
 *		1, 5 and 10 % critical values for a sample of nobs observations.
 */
void
stats_mackinnon_crit(StatsTrend trend, int nobs, double crit[3])
{
	double		x = 1.0 / nobs;

	for (int i = 0; i < 3; i++)
	{
		const double *b = mackinnon_crit[trend][i];

		crit[i] = ((b[3] * x + b[2]) * x + b[1]) * x + b[0];
	}
}
