/*-------------------------------------------------------------------------
 *
 * forecast_sql.c
 *	  SQL interface of the forecast engine (forecast.h): telos.forecast and
 *	  telos.forecast_probability, which take the same arguments.
 *
 * This layer owns the argument checks: y a one-dimensional float8[]
 * without NULLs (22004) or NaN/Inf (22023) of at least 3 values, horizon
 * in 1..10000, period in 1..1000, level strictly between 0 and 1, a finite
 * target, a known direction, accumulated only with cumulative, and
 * maintain only for levels (22023). The functions are not STRICT because
 * target may be NULL (no probability); any other NULL is an error.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "funcapi.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/tuplestore.h"

#include "forecast.h"

PG_FUNCTION_INFO_V1(telos_forecast);
PG_FUNCTION_INFO_V1(telos_forecast_probability);

/* Argument positions, shared by both functions. */
enum
{
	ARG_Y,
	ARG_HORIZON,
	ARG_PERIOD,
	ARG_TARGET,
	ARG_DIRECTION,
	ARG_CUMULATIVE,
	ARG_LEVEL,
	ARG_ACCUMULATED
};

static const char *const arg_names[] = {
	"y", "horizon", "period", "target", "direction", "cumulative", "level",
	"accumulated"
};

static void
arg_not_null(FunctionCallInfo fcinfo, int argno)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be null", arg_names[argno])));
}

static void
arg_finite(double v, const char *name)
{
	if (!isfinite(v))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be finite, got %s", name,
						isnan(v) ? "NaN" : (v > 0 ? "Infinity" : "-Infinity"))));
}

/* y as a palloc'd C array of finite doubles; *n gets its length. */
static double *
arg_series(FunctionCallInfo fcinfo, int *n)
{
	ArrayType  *arr;
	Datum	   *elems;
	bool	   *nulls;
	int			count;
	double	   *out;

	arg_not_null(fcinfo, ARG_Y);
	arr = PG_GETARG_ARRAYTYPE_P(ARG_Y);
	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("y must be a one-dimensional array, not %d-dimensional",
						ARR_NDIM(arr))));
	deconstruct_array(arr, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
					  TYPALIGN_DOUBLE, &elems, &nulls, &count);
	if (count < FORECAST_MIN_POINTS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("y must have at least %d values to forecast, got %d",
						FORECAST_MIN_POINTS, count),
				 errhint("Holt-Winters needs 2 * period + 8 values; shorter series get a regression forecast.")));
	out = palloc(sizeof(double) * count);
	for (int i = 0; i < count; i++)
	{
		if (nulls[i])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("y must not contain nulls"),
					 errdetail("Element %d is null.", i + 1),
					 errhint("Fill the gaps of a series (e.g. with 0 for a flow) before forecasting it.")));
		out[i] = DatumGetFloat8(elems[i]);
		if (!isfinite(out[i]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("y must contain only finite values"),
					 errdetail("Element %d is %s.", i + 1,
							   isnan(out[i]) ? "NaN" : "infinite")));
	}
	*n = count;
	return out;
}

/* The ForecastSpec of the call, every argument checked. */
static void
arg_spec(FunctionCallInfo fcinfo, ForecastSpec *spec)
{
	char	   *dir;

	for (int a = ARG_HORIZON; a <= ARG_ACCUMULATED; a++)
		if (a != ARG_TARGET)
			arg_not_null(fcinfo, a);

	spec->horizon = PG_GETARG_INT32(ARG_HORIZON);
	if (spec->horizon < 1 || spec->horizon > FORECAST_MAX_HORIZON)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("horizon must be between 1 and %d, got %d",
						FORECAST_MAX_HORIZON, spec->horizon)));
	spec->period = PG_GETARG_INT32(ARG_PERIOD);
	if (spec->period < 1 || spec->period > FORECAST_MAX_PERIOD)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("period must be between 1 and %d, got %d",
						FORECAST_MAX_PERIOD, spec->period),
				 errhint("Use period 1 for a series without seasonality.")));
	spec->level = PG_GETARG_FLOAT8(ARG_LEVEL);
	if (!(spec->level > 0.0 && spec->level < 1.0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("level must be strictly between 0 and 1, got %g", spec->level)));
	spec->has_target = !PG_ARGISNULL(ARG_TARGET);
	spec->target = spec->has_target ? PG_GETARG_FLOAT8(ARG_TARGET) : 0.0;
	if (spec->has_target)
		arg_finite(spec->target, "target");
	dir = text_to_cstring(PG_GETARG_TEXT_PP(ARG_DIRECTION));
	if (strcmp(dir, "increase") == 0)
		spec->direction = FORECAST_INCREASE;
	else if (strcmp(dir, "decrease") == 0)
		spec->direction = FORECAST_DECREASE;
	else if (strcmp(dir, "maintain") == 0)
		spec->direction = FORECAST_MAINTAIN;
	else
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("direction must be increase, decrease or maintain, got \"%s\"", dir)));
	spec->cumulative = PG_GETARG_BOOL(ARG_CUMULATIVE);
	spec->accumulated = PG_GETARG_FLOAT8(ARG_ACCUMULATED);
	arg_finite(spec->accumulated, "accumulated");
	if (!spec->cumulative && spec->accumulated != 0.0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("accumulated applies only to a cumulative forecast"),
				 errhint("Pass cumulative => true for a total reached by the horizon.")));
	if (spec->cumulative && spec->direction == FORECAST_MAINTAIN)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("direction maintain applies only to a level, not to a cumulative forecast")));
}

/*
 * telos.forecast(y, horizon, period, target, direction, cumulative, level,
 *				  accumulated)
 *	 RETURNS TABLE(step int, mean float8, lo float8, hi float8)
 */
Datum
telos_forecast(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ForecastSpec spec;
	int			n;
	double	   *y = arg_series(fcinfo, &n);
	Forecast   *fc;

	arg_spec(fcinfo, &spec);
	spec.has_target = false;	/* no probability is returned: skip it */
	fc = forecast_run(y, n, &spec);

	InitMaterializedSRF(fcinfo, 0);
	for (int h = 0; h < fc->horizon; h++)
	{
		Datum		values[4];
		bool		nulls[4] = {0};

		values[0] = Int32GetDatum(h + 1);
		values[1] = Float8GetDatum(fc->mean[h]);
		values[2] = Float8GetDatum(fc->lo[h]);
		values[3] = Float8GetDatum(fc->hi[h]);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * telos.forecast_probability(same arguments)
 *	 RETURNS TABLE(probability float8, final_mean float8, final_lo float8,
 *				   final_hi float8, method text, sigma float8, n int)
 * probability is NULL without a target.
 */
Datum
telos_forecast_probability(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	ForecastSpec spec;
	int			n;
	double	   *y = arg_series(fcinfo, &n);
	Forecast   *fc;
	int			H;
	Datum		values[7];
	bool		nulls[7] = {0};

	arg_spec(fcinfo, &spec);
	fc = forecast_run(y, n, &spec);
	H = fc->horizon;

	InitMaterializedSRF(fcinfo, 0);
	values[0] = Float8GetDatum(fc->probability);
	nulls[0] = isnan(fc->probability);
	values[1] = Float8GetDatum(fc->mean[H - 1]);
	values[2] = Float8GetDatum(fc->lo[H - 1]);
	values[3] = Float8GetDatum(fc->hi[H - 1]);
	values[4] = CStringGetTextDatum(fc->method);
	values[5] = Float8GetDatum(fc->sigma);
	values[6] = Int32GetDatum(fc->n);
	tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	return (Datum) 0;
}
