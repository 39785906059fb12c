/*-------------------------------------------------------------------------
 *
 * stats_sql.c
 *	  SQL interface of the statistics (stats.h): telos.ols, telos.granger,
 *	  telos.granger_pairs, telos.adf, telos.lagged_corr, telos.corr_pairs,
 *	  telos.bh_qvalues and telos.welch_t.
 *
 * This layer owns the argument checks the numerical code assumes: arrays
 * of float8 without NULLs (22004), finite values (22023: a NaN is a gap,
 * and gaps must be dealt with before testing), matching lengths and the
 * shapes of matrices (22023). Each function returns a TABLE, built in a
 * materialized tuplestore, so that the result reads as columns.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/tuplestore.h"

#include "stats.h"

PG_FUNCTION_INFO_V1(telos_ols);
PG_FUNCTION_INFO_V1(telos_granger);
PG_FUNCTION_INFO_V1(telos_granger_pairs);
PG_FUNCTION_INFO_V1(telos_adf);
PG_FUNCTION_INFO_V1(telos_lagged_corr);
PG_FUNCTION_INFO_V1(telos_corr_pairs);
PG_FUNCTION_INFO_V1(telos_bh_qvalues);
PG_FUNCTION_INFO_V1(telos_welch_t);

/*
 * The elements of a float8[] argument as a palloc'd C array; *n gets the
 * number of elements. Errors for NULL elements and non-finite values, and
 * for more dimensions than maxdims; dims (when not NULL) gets the first two
 * dimensions (1 for a missing one).
 */
static double *
arg_doubles(FunctionCallInfo fcinfo, int argno, const char *name, int maxdims,
			int *n, int *dims)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			count;
	double	   *out;

	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
	arr = PG_GETARG_ARRAYTYPE_P(argno);
	if (ARR_ELEMTYPE(arr) != FLOAT8OID)
		ereport(ERROR,
				(errcode(ERRCODE_DATATYPE_MISMATCH),
				 errmsg("%s must be a float8 array", name)));
	if (ARR_NDIM(arr) > maxdims)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must have at most %d dimension%s, not %d",
						name, maxdims, maxdims == 1 ? "" : "s", ARR_NDIM(arr))));
	if (dims)
	{
		dims[0] = ARR_NDIM(arr) >= 1 ? ARR_DIMS(arr)[0] : 0;
		dims[1] = ARR_NDIM(arr) >= 2 ? ARR_DIMS(arr)[1] : 1;
	}
	deconstruct_array(arr, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &elems, &nulls, &count);
	out = palloc(sizeof(double) * Max(count, 1));
	for (int i = 0; i < count; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not contain nulls", name),
					 errdetail("Element %d is null.", i + 1),
					 errhint("Fill or cut the gaps in a series before testing it.")));
		out[i] = DatumGetFloat8(elems[i]);
		if (!isfinite(out[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("%s must contain only finite values", name),
					 errdetail("Element %d is %s.", i + 1,
							   isnan(out[i]) ? "NaN" : "infinite"),
					 errhint("A NaN marks a gap: fill or cut the gaps in a series before testing it.")));
	}
	*n = count;
	return out;
}

/* Errors (22023) unless two series have the same length. */
static void
same_length(int nx, int ny, const char *a, const char *b)
{
	if (nx != ny)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s and %s must have the same length", a, b),
				 errdetail("%s has %d elements, %s has %d.", a, nx, b, ny)));
}

/*
 * A float8[] of v[0..n-1]; elements flagged in nullif (when not NULL) and
 * NaNs are NULL.
 */
static Datum
float8_array(const double *v, int n, const bool *nullif)
{
	Datum	   *d = palloc(sizeof(Datum) * Max(n, 1));
	bool	   *nulls = palloc(sizeof(bool) * Max(n, 1));
	int			dims[1] = {n};
	int			lbs[1] = {1};

	for (int i = 0; i < n; i++)
	{
		/* NaN never leaves: it is NULL, "undefined" */
		nulls[i] = (nullif ? nullif[i] : false) || isnan(v[i]);
		d[i] = Float8GetDatum(nulls[i] ? 0.0 : v[i]);
	}
	if (n == 0)
		return PointerGetDatum(construct_empty_array(FLOAT8OID));
	return PointerGetDatum(construct_md_array(d, nulls, 1, dims, lbs, FLOAT8OID,
											  sizeof(float8), FLOAT8PASSBYVAL,
											  TYPALIGN_DOUBLE));
}

/* An int argument; NULL is an error (22004) naming it. */
static int
arg_int(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", name)));
	return PG_GETARG_INT32(argno);
}

/*
 * telos.ols(y float8[], x float8[], ncols int, add_const bool)
 *	 RETURNS TABLE(coef float8[], se float8[], t float8[], p float8[],
 *				   ssr float8, r2 float8, df_resid int, rank int)
 */
Datum
telos_ols(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			ny,
				nx;
	double	   *y = arg_doubles(fcinfo, 0, "y", 1, &ny, NULL);
	double	   *x = arg_doubles(fcinfo, 1, "x", 2, &nx, NULL);
	int			ncols = arg_int(fcinfo, 2, "ncols");
	bool		add_const = PG_GETARG_BOOL(3);
	StatsOls	res;
	Datum		values[8];
	bool		nulls[8] = {0};

	if (ncols < 0 || (ncols == 0 && !add_const))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("ncols must be at least %d, got %d", add_const ? 0 : 1, ncols)));
	if ((int64) ny * ncols != nx)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("x must hold length(y) * ncols values"),
				 errdetail("y has %d elements, ncols is %d, x has %d elements (row-major n x ncols).",
						   ny, ncols, nx)));
	/* as stats_ols, whose ncols + 1 could wrap around */
	if ((int64) ncols + (add_const ? 1 : 0) >= ny)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("too few observations for the regression"),
				 errdetail("%d observations, " INT64_FORMAT " columns (constant included); at least " INT64_FORMAT " are needed.",
						   ny, (int64) ncols + (add_const ? 1 : 0),
						   (int64) ncols + (add_const ? 1 : 0) + 1)));
	stats_ols(y, x, ny, ncols, add_const, &res);

	InitMaterializedSRF(fcinfo, 0);
	values[0] = float8_array(res.coef, res.k, res.aliased);
	values[1] = float8_array(res.se, res.k, res.aliased);
	values[2] = float8_array(res.t, res.k, res.aliased);
	values[3] = float8_array(res.p, res.k, res.aliased);
	values[4] = Float8GetDatum(res.ssr);
	values[5] = Float8GetDatum(res.r2);
	nulls[5] = isnan(res.r2);
	values[6] = Int32GetDatum(res.df_resid);
	values[7] = Int32GetDatum(res.rank);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}

/*
 * telos.granger(x float8[], y float8[], maxlag int)
 *	 RETURNS TABLE(lag int, f_stat float8, p_value float8, df_num int,
 *				   df_denom int, chi2 float8, chi2_p float8, lr float8,
 *				   lr_p float8)
 */
Datum
telos_granger(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			nx,
				ny;
	double	   *x = arg_doubles(fcinfo, 0, "x", 1, &nx, NULL);
	double	   *y = arg_doubles(fcinfo, 1, "y", 1, &ny, NULL);
	int			maxlag = arg_int(fcinfo, 2, "maxlag");
	StatsGranger *res;

	same_length(nx, ny, "x", "y");
	if (maxlag < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("maxlag must be at least 1, got %d", maxlag)));
	/*
	 * stats_granger reports a maxlag too large for the series, but its
	 * 3 * maxlag + 1 wraps around for a huge maxlag: reject those here.
	 */
	if (maxlag >= nx)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("too few observations for maxlag %d", maxlag),
				 errdetail("The series have %d observations; the test needs more than 3 * maxlag + 1.",
						   nx)));
	res = palloc(sizeof(StatsGranger) * Min(maxlag, Max(nx, 1)));
	stats_granger(x, y, nx, maxlag, res);

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < maxlag; i++)
	{
		Datum		values[9];
		bool		nulls[9] = {0};

		values[0] = Int32GetDatum(res[i].lag);
		values[1] = Float8GetDatum(res[i].f_stat);
		values[2] = Float8GetDatum(res[i].p_value);
		values[3] = Int32GetDatum(res[i].df_num);
		values[4] = Int32GetDatum(res[i].df_denom);
		values[5] = Float8GetDatum(res[i].chi2);
		values[6] = Float8GetDatum(res[i].chi2_p);
		values[7] = Float8GetDatum(res[i].lr);
		values[8] = Float8GetDatum(res[i].lr_p);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * telos.granger_pairs(series float8[], m int, maxlag int, ic text)
 *	 RETURNS TABLE(x_idx int, y_idx int, lag int, f_stat float8,
 *				   p_value float8, df_num int, df_denom int,
 *				   coef_sum float8, n int)
 * series: m series of equal length, row-major (a flat array of m * n
 * values, or an m x n two-dimensional array). Indexes are 1-based.
 */
Datum
telos_granger_pairs(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			total;
	int			dims[2];
	double	   *series = arg_doubles(fcinfo, 0, "series", 2, &total, dims);
	int			m = arg_int(fcinfo, 1, "m");
	int			maxlag = arg_int(fcinfo, 2, "maxlag");
	char	   *ic_name;
	StatsIC		ic;
	int			n;
	int			npairs;
	StatsGrangerPair *res;

	if (PG_ARGISNULL(3))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("ic must not be null")));
	ic_name = text_to_cstring(PG_GETARG_TEXT_PP(3));
	if (pg_strcasecmp(ic_name, "aic") == 0)
		ic = STATS_IC_AIC;
	else if (pg_strcasecmp(ic_name, "bic") == 0)
		ic = STATS_IC_BIC;
	else if (pg_strcasecmp(ic_name, "hqic") == 0)
		ic = STATS_IC_HQIC;
	else if (pg_strcasecmp(ic_name, "none") == 0)
		ic = STATS_IC_NONE;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown information criterion \"%s\"", ic_name),
				 errhint("Use 'aic', 'bic', 'hqic' or 'none' (always maxlag).")));
	if (m < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("m must be at least 2, got %d", m)));
	if (m > 3000)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("granger_pairs tests at most 3000 series at once, got %d", m),
				 errhint("Split the series into batches.")));
	if (total % m != 0 || (dims[1] > 1 && dims[0] != m))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("series must hold m rows of equal length"),
				 errdetail("series has %d elements, m is %d.", total, m)));
	n = total / m;
	npairs = m * (m - 1);
	res = palloc(sizeof(StatsGrangerPair) * npairs);
	stats_granger_pairs(series, m, n, maxlag, ic, res);

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < npairs; i++)
	{
		Datum		values[9];
		bool		nulls[9] = {0};

		values[0] = Int32GetDatum(res[i].x_idx + 1);
		values[1] = Int32GetDatum(res[i].y_idx + 1);
		values[2] = Int32GetDatum(res[i].lag);
		values[3] = Float8GetDatum(res[i].f_stat);
		values[4] = Float8GetDatum(res[i].p_value);
		values[5] = Int32GetDatum(res[i].df_num);
		values[6] = Int32GetDatum(res[i].df_denom);
		values[7] = Float8GetDatum(res[i].coef_sum);
		values[8] = Int32GetDatum(res[i].n);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * telos.adf(x float8[], maxlag int, regression text, autolag text)
 *	 RETURNS TABLE(stat float8, p_value float8, used_lag int, nobs int,
 *				   crit_1 float8, crit_5 float8, crit_10 float8,
 *				   ic_best float8)
 * Not strict: a NULL maxlag is statsmodels' default, a NULL autolag no
 * lag search (maxlag lags); a NULL x gives no row.
 */
Datum
telos_adf(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			n;
	double	   *x;
	int			maxlag = PG_ARGISNULL(1) ? -1 : PG_GETARG_INT32(1);
	char	   *reg;
	StatsTrend	trend;
	StatsAutolag autolag = STATS_AUTOLAG_NONE;
	StatsAdf	res;
	Datum		values[8];
	bool		nulls[8] = {0};

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0))
		return (Datum) 0;
	x = arg_doubles(fcinfo, 0, "x", 1, &n, NULL);
	if (!PG_ARGISNULL(1) && maxlag < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("maxlag must not be negative, got %d", maxlag)));
	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("regression must not be null")));
	reg = text_to_cstring(PG_GETARG_TEXT_PP(2));
	if (pg_strcasecmp(reg, "c") == 0)
		trend = STATS_TREND_C;
	else if (pg_strcasecmp(reg, "ct") == 0)
		trend = STATS_TREND_CT;
	else if (pg_strcasecmp(reg, "ctt") == 0)
		trend = STATS_TREND_CTT;
	else if (pg_strcasecmp(reg, "n") == 0 || pg_strcasecmp(reg, "nc") == 0)
		trend = STATS_TREND_N;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("unknown regression \"%s\"", reg),
				 errhint("Use 'c' (constant), 'ct' (constant and trend), 'ctt' (and quadratic trend) or 'n' (none).")));
	if (!PG_ARGISNULL(3))
	{
		char	   *al = text_to_cstring(PG_GETARG_TEXT_PP(3));

		if (pg_strcasecmp(al, "aic") == 0)
			autolag = STATS_AUTOLAG_AIC;
		else if (pg_strcasecmp(al, "bic") == 0)
			autolag = STATS_AUTOLAG_BIC;
		else if (pg_strcasecmp(al, "t-stat") == 0)
			autolag = STATS_AUTOLAG_TSTAT;
		else
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown autolag \"%s\"", al),
					 errhint("Use 'AIC', 'BIC', 't-stat' or NULL (no lag search).")));
	}
	stats_adf(x, n, maxlag, trend, autolag, &res);

	values[0] = Float8GetDatum(res.stat);
	values[1] = Float8GetDatum(res.p_value);
	values[2] = Int32GetDatum(res.used_lag);
	values[3] = Int32GetDatum(res.nobs);
	values[4] = Float8GetDatum(res.crit[0]);
	values[5] = Float8GetDatum(res.crit[1]);
	values[6] = Float8GetDatum(res.crit[2]);
	values[7] = Float8GetDatum(res.ic_best);
	nulls[7] = isnan(res.ic_best);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}

/*
 * telos.lagged_corr(x float8[], y float8[], lag int)
 *	 RETURNS TABLE(r float8, p_value float8, n int)
 */
Datum
telos_lagged_corr(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			nx,
				ny;
	double	   *x = arg_doubles(fcinfo, 0, "x", 1, &nx, NULL);
	double	   *y = arg_doubles(fcinfo, 1, "y", 1, &ny, NULL);
	int			lag = arg_int(fcinfo, 2, "lag");
	double		r,
				p;
	int			n;
	Datum		values[3];
	bool		nulls[3] = {0};

	same_length(nx, ny, "x", "y");
	if (lag <= -nx || lag >= nx)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lag %d leaves no pairs of series of length %d", lag, nx)));
	stats_lagged_corr(x, y, nx, lag, &r, &p, &n);

	InitMaterializedSRF(fcinfo, 0);
	values[0] = Float8GetDatum(r);
	values[1] = Float8GetDatum(p);
	values[2] = Int32GetDatum(n);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}

/*
 * telos.corr_pairs(series float8[], m int, lags int[], maxlag int,
 *					prewhiten bool)
 *	 RETURNS TABLE(x_idx int, y_idx int, lag int, r float8, p_value float8,
 *				   n int, x_order int, y_order int)
 * series as for telos.granger_pairs; lags: one lag for every pair, or one
 * per ordered pair in the order of the rows (x-major, as granger_pairs
 * returns them). x_order / y_order are NULL without prewhitening.
 */
Datum
telos_corr_pairs(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			total;
	int			dims[2];
	double	   *series = arg_doubles(fcinfo, 0, "series", 2, &total, dims);
	int			m = arg_int(fcinfo, 1, "m");
	int			maxlag = arg_int(fcinfo, 3, "maxlag");
	bool		prewhiten;
	ArrayType  *la;
	Datum	   *elems;
	bool	   *lnulls;
	int			nlags;
	int		   *lags;
	int			n;
	int			npairs;
	StatsCorrPair *res;

	if (PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("lags must not be null")));
	if (PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("prewhiten must not be null")));
	prewhiten = PG_GETARG_BOOL(4);
	if (m < 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("m must be at least 2, got %d", m)));
	if (m > 3000)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("corr_pairs correlates at most 3000 series at once, got %d", m),
				 errhint("Split the series into batches.")));
	if (total % m != 0 || (dims[1] > 1 && dims[0] != m))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("series must hold m rows of equal length"),
				 errdetail("series has %d elements, m is %d.", total, m)));
	if (maxlag < 0 || maxlag > 64)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("maxlag must be between 0 and 64, got %d", maxlag)));
	n = total / m;
	npairs = m * (m - 1);
	/* as stats_ar_prewhiten, before stats_corr_pairs allocates n - maxlag */
	if (prewhiten && n - maxlag <= 2 * maxlag + 2)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("too few observations to prewhiten with maxlag %d", maxlag),
				 errdetail("The series have %d observations; prewhitening needs more than 3 * maxlag + 2 = %d.",
						   n, 3 * maxlag + 2)));

	la = PG_GETARG_ARRAYTYPE_P(2);
	if (ARR_ELEMTYPE(la) != INT4OID || ARR_NDIM(la) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lags must be a one-dimensional int array")));
	deconstruct_array(la, INT4OID, sizeof(int32), true, TYPALIGN_INT,
					  &elems, &lnulls, &nlags);
	if (nlags != 1 && nlags != npairs)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("lags must hold 1 or m * (m - 1) = %d lags, not %d", npairs, nlags)));
	lags = palloc(sizeof(int) * nlags);
	for (int i = 0; i < nlags; i++)
	{
		if (lnulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("lags must not contain nulls"),
					 errdetail("Element %d is null.", i + 1)));
		lags[i] = DatumGetInt32(elems[i]);
	}
	res = palloc(sizeof(StatsCorrPair) * npairs);
	stats_corr_pairs(series, m, n, lags, nlags, maxlag, prewhiten, res);

	InitMaterializedSRF(fcinfo, 0);
	for (int i = 0; i < npairs; i++)
	{
		Datum		values[8];
		bool		nulls[8] = {0};

		values[0] = Int32GetDatum(res[i].x_idx + 1);
		values[1] = Int32GetDatum(res[i].y_idx + 1);
		values[2] = Int32GetDatum(res[i].lag);
		values[3] = Float8GetDatum(res[i].r);
		values[4] = Float8GetDatum(res[i].p_value);
		values[5] = Int32GetDatum(res[i].n);
		values[6] = Int32GetDatum(res[i].x_order);
		values[7] = Int32GetDatum(res[i].y_order);
		nulls[6] = nulls[7] = !prewhiten;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * telos.bh_qvalues(p float8[]) RETURNS float8[]
 */
Datum
telos_bh_qvalues(PG_FUNCTION_ARGS)
{
	int			n;
	double	   *p = arg_doubles(fcinfo, 0, "p", 1, &n, NULL);
	double	   *q = palloc(sizeof(double) * Max(n, 1));

	for (int i = 0; i < n; i++)
		if (p[i] < 0.0 || p[i] > 1.0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("p-values must lie in [0, 1]"),
					 errdetail("Element %d is %g.", i + 1, p[i])));
	stats_bh_qvalues(p, n, q);
	PG_RETURN_DATUM(float8_array(q, n, NULL));
}

/*
 * telos.welch_t(a float8[], b float8[])
 *	 RETURNS TABLE(t float8, df float8, p_value float8, mean_diff float8)
 */
Datum
telos_welch_t(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			na,
				nb;
	double	   *a = arg_doubles(fcinfo, 0, "a", 1, &na, NULL);
	double	   *b = arg_doubles(fcinfo, 1, "b", 1, &nb, NULL);
	StatsWelch	res;
	Datum		values[4];
	bool		nulls[4] = {0};

	stats_welch_t(a, na, b, nb, &res);

	InitMaterializedSRF(fcinfo, 0);
	values[0] = Float8GetDatum(res.t);
	values[1] = Float8GetDatum(res.df);
	values[2] = Float8GetDatum(res.p_value);
	values[3] = Float8GetDatum(res.mean_diff);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}
