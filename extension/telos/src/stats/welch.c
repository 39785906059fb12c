/*-------------------------------------------------------------------------
 *
 * welch.c
 *	  Welch's two-sample t test (unequal variances).
 *
 * As scipy.stats.ttest_ind(a, b, equal_var=False): sample variances with
 * n - 1, t = (mean a - mean b) / sqrt(va / na + vb / nb), the
 * Welch-Satterthwaite degrees of freedom
 * (va/na + vb/nb)^2 / ((va/na)^2 / (na - 1) + (vb/nb)^2 / (nb - 1)),
 * two-sided p from Student's t with that (real) df.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "../stats.h"

/* Mean and sample variance (n - 1) of v[i] * scale. */
static void
mean_var(const double *v, int n, double scale, double *mean, double *var)
{
	double		m = 0.0,
				s = 0.0;

	for (int i = 0; i < n; i++)
		m += v[i] * scale;
	m /= n;
	for (int i = 0; i < n; i++)
		s += (v[i] * scale - m) * (v[i] * scale - m);
	*mean = m;
	*var = s / (n - 1);
}

/*
 * stats_welch_t
 *		See stats.h.
 */
void
stats_welch_t(const double *a, int na, const double *b, int nb, StatsWelch *out)
{
	double		ma,
				va,
				mb,
				vb,
				sa,
				sb,
				scale;

	if (na < 2 || nb < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("each sample of Welch's t test needs at least 2 values"),
				 errdetail("a has %d, b has %d.", na, nb)));
	/* one power of two for both samples: t and df do not change */
	scale = Min(stats_pow2_scale(a, na), stats_pow2_scale(b, nb)) / 2.0;
	mean_var(a, na, scale, &ma, &va);
	mean_var(b, nb, scale, &mb, &vb);
	if (va == 0.0 && vb == 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("both samples are constant"),
				 errdetail("Welch's t test is undefined when neither sample varies.")));
	sa = va / na;
	sb = vb / nb;
	out->t = (ma - mb) / sqrt(sa + sb);
	out->mean_diff = (ma - mb) / scale;
	out->df = (sa + sb) * (sa + sb) / (sa * sa / (na - 1) + sb * sb / (nb - 1));
	out->p_value = stats_t_sf2(out->t, out->df);
}
