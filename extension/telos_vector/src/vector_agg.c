/*
 * vector_agg.c -- the aggregates avg(vector) and sum(vector).
 *
 * Both share one transition state, a double precision[] of dim + 1
 * elements: the number of rows, then the component sums.  Summing in double
 * keeps avg and sum accurate over many rows (a float4 running sum stops
 * growing once it is 2^24 times a row's value) and lets sum() report an
 * overflow of float4 once, at the end, instead of depending on the order
 * of the rows.  The initial state is '{0}' (no rows yet, dimension not
 * known); the first row sets the dimension.
 *
 * The state is a plain array, so parallel aggregation needs no
 * serialisation: vector_combine adds two partial states.  Called as an
 * aggregate (AggCheckCallContext), the transition and combine functions
 * update the state in place -- PostgreSQL allows it, and it saves
 * allocating and copying dim + 1 doubles per row.  Called directly from
 * SQL, with any array, they check it and copy.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/float.h"

#include "vector.h"

PG_FUNCTION_INFO_V1(vector_accum);
PG_FUNCTION_INFO_V1(vector_combine);
PG_FUNCTION_INFO_V1(vector_avg);
PG_FUNCTION_INFO_V1(vector_sum);

/*
 * state_data -- the elements of a one-dimensional array without nulls (what
 * state_values has checked and state_new builds).  ARR_DATA_PTR would do,
 * but its expansion trips -Wsign-compare.
 */
static inline float8 *
state_data(ArrayType *state)
{
	return (float8 *) ((char *) state + ARR_OVERHEAD_NONULLS(1));
}

/*
 * state_values -- the elements of a transition state and its dimension
 * (0 for the initial '{0}'), after checking that it is one: the functions
 * are callable from SQL with any double precision[].
 */
static float8 *
state_values(ArrayType *state, int *dim)
{
	int			n;

	if (ARR_NDIM(state) != 1 || ARR_ELEMTYPE(state) != FLOAT8OID || ARR_HASNULL(state))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("invalid vector aggregate state"),
				 errdetail("The state must be a one-dimensional double precision array without nulls.")));
	n = ARR_DIMS(state)[0];
	if (n < 1 || n - 1 > VECTOR_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("invalid vector aggregate state"),
				 errdetail("The state has %d elements.", n)));
	*dim = n - 1;
	return state_data(state);
}

/* A new state of dim sums, copied from values (dim + 1 elements) or zero. */
static ArrayType *
state_new(int dim, const float8 *values)
{
	Datum	   *d = (Datum *) palloc(sizeof(Datum) * (dim + 1));

	for (int i = 0; i <= dim; i++)
		d[i] = Float8GetDatum(values ? values[i] : 0.0);
	return construct_array(d, dim + 1, FLOAT8OID, sizeof(float8), FLOAT8PASSBYVAL,
						   TYPALIGN_DOUBLE);
}

static void
check_state_dims(int state_dim, int dim)
{
	if (state_dim != dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d", state_dim, dim)));
}

/*
 * vector_accum(state, vector) -- add one row.
 */
Datum
vector_accum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	Vector	   *v = PG_GETARG_VECTOR_P(1);
	int			dim;
	float8	   *s = state_values(state, &dim);

	if (dim == 0)
	{
		/* The first row: a state of v's dimension, the count carried over. */
		float8		count = s[0];

		state = state_new(v->dim, NULL);
		s = state_data(state);
		s[0] = count;
		dim = v->dim;
	}
	else
	{
		check_state_dims(dim, v->dim);
		if (!AggCheckCallContext(fcinfo, NULL))
		{
			state = state_new(dim, s);
			s = state_data(state);
		}
	}
	s[0] += 1.0;
	for (int i = 0; i < dim; i++)
		s[i + 1] += v->x[i];
	PG_RETURN_ARRAYTYPE_P(state);
}

/*
 * vector_combine(state, state) -- merge two partial states (parallel
 * aggregation).
 */
Datum
vector_combine(PG_FUNCTION_ARGS)
{
	ArrayType  *state1 = PG_GETARG_ARRAYTYPE_P(0);
	ArrayType  *state2 = PG_GETARG_ARRAYTYPE_P(1);
	int			dim1,
				dim2;
	float8	   *s1 = state_values(state1, &dim1);
	float8	   *s2 = state_values(state2, &dim2);

	if (dim2 == 0)
	{
		/* Nothing (or only a count) to add. */
		if (!AggCheckCallContext(fcinfo, NULL))
			state1 = state_new(dim1, s1);
		state_data(state1)[0] += s2[0];
		PG_RETURN_ARRAYTYPE_P(state1);
	}
	if (dim1 == 0)
	{
		ArrayType  *result = state_new(dim2, s2);

		state_data(result)[0] += s1[0];
		PG_RETURN_ARRAYTYPE_P(result);
	}
	check_state_dims(dim1, dim2);
	if (!AggCheckCallContext(fcinfo, NULL))
	{
		state1 = state_new(dim1, s1);
		s1 = state_data(state1);
	}
	for (int i = 0; i <= dim1; i++)
		s1[i] += s2[i];
	PG_RETURN_ARRAYTYPE_P(state1);
}

/*
 * vector_avg(state) -- the final function of avg(vector): NULL over no
 * rows, else the component-wise mean.
 */
Datum
vector_avg(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	int			dim;
	float8	   *s = state_values(state, &dim);
	Vector	   *result;

	if (dim == 0 || s[0] <= 0.0)
		PG_RETURN_NULL();
	result = vector_new(dim);
	for (int i = 0; i < dim; i++)
	{
		result->x[i] = (float) (s[i + 1] / s[0]);
		/* Only reachable from a forged state: a mean of finite float4 is finite. */
		if (isinf(result->x[i]) || isnan(result->x[i]))
			float_overflow_error();
	}
	PG_RETURN_VECTOR_P(result);
}

/*
 * vector_sum(state) -- the final function of sum(vector): NULL over no rows,
 * else the component-wise sum, an error if it overflows float4.
 */
Datum
vector_sum(PG_FUNCTION_ARGS)
{
	ArrayType  *state = PG_GETARG_ARRAYTYPE_P(0);
	int			dim;
	float8	   *s = state_values(state, &dim);
	Vector	   *result;

	if (dim == 0 || s[0] <= 0.0)
		PG_RETURN_NULL();
	result = vector_new(dim);
	for (int i = 0; i < dim; i++)
	{
		result->x[i] = (float) s[i + 1];
		if (isinf(result->x[i]) || isnan(result->x[i]))
			float_overflow_error();
	}
	PG_RETURN_VECTOR_P(result);
}
