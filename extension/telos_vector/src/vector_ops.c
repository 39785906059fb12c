/*
 * vector_ops.c -- what SQL does with vectors: the distances (<->, <=>, <#>,
 * <+> and their functions), vector_dims, vector_norm, l2_normalize,
 * subvector, element-wise arithmetic (+, -, *), concatenation (||) and
 * the total order behind the comparison operators and the btree opclass.
 *
 * Every binary function checks that its arguments have the same dimension
 * before it reads a component.  Arithmetic that overflows float4 is an
 * error, as it is for real in PostgreSQL.
 */
#include "postgres.h"

#include <math.h>

#include "fmgr.h"
#include "utils/float.h"

#include "vector.h"

PG_FUNCTION_INFO_V1(l2_distance);
PG_FUNCTION_INFO_V1(vector_l2_squared_distance);
PG_FUNCTION_INFO_V1(inner_product);
PG_FUNCTION_INFO_V1(vector_negative_inner_product);
PG_FUNCTION_INFO_V1(cosine_distance);
PG_FUNCTION_INFO_V1(l1_distance);
PG_FUNCTION_INFO_V1(vector_dims);
PG_FUNCTION_INFO_V1(vector_norm_sql);
PG_FUNCTION_INFO_V1(l2_normalize);
PG_FUNCTION_INFO_V1(subvector);
PG_FUNCTION_INFO_V1(vector_add);
PG_FUNCTION_INFO_V1(vector_sub);
PG_FUNCTION_INFO_V1(vector_mul);
PG_FUNCTION_INFO_V1(vector_concat);
PG_FUNCTION_INFO_V1(vector_lt);
PG_FUNCTION_INFO_V1(vector_le);
PG_FUNCTION_INFO_V1(vector_eq);
PG_FUNCTION_INFO_V1(vector_ne);
PG_FUNCTION_INFO_V1(vector_ge);
PG_FUNCTION_INFO_V1(vector_gt);
PG_FUNCTION_INFO_V1(vector_cmp);

/* ---- distances ---------------------------------------------------------- */

/*
 * The squared L2 and the L1 distance in double, for the rare pairs whose
 * float kernel result overflowed (components near float4's limit): the SQL
 * functions return float8, which holds them.
 */
static double
l2_squared_double(const Vector *a, const Vector *b)
{
	double		s = 0.0;

	for (int i = 0; i < a->dim; i++)
	{
		double		d = (double) a->x[i] - b->x[i];

		s += d * d;
	}
	return s;
}

static double
l2_squared(const Vector *a, const Vector *b)
{
	float		r = vector_l2_squared(a->x, b->x, a->dim);

	return isinf(r) ? l2_squared_double(a, b) : (double) r;
}

static double
l1_double(const Vector *a, const Vector *b)
{
	double		s = 0.0;

	for (int i = 0; i < a->dim; i++)
		s += fabs((double) a->x[i] - b->x[i]);
	return s;
}

/*
 * l2_distance -- the Euclidean distance, operator <->.
 */
Datum
l2_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	vector_check_same_dims(a, b);
	PG_RETURN_FLOAT8(sqrt(l2_squared(a, b)));
}

/*
 * vector_l2_squared_distance -- the squared Euclidean distance: the same
 * order as l2_distance without the square root (what an index sorts by).
 */
Datum
vector_l2_squared_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	vector_check_same_dims(a, b);
	PG_RETURN_FLOAT8(l2_squared(a, b));
}

/*
 * inner_product -- the dot product.
 */
Datum
inner_product(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	vector_check_same_dims(a, b);
	PG_RETURN_FLOAT8(vector_inner(a->x, b->x, a->dim));
}

/*
 * vector_negative_inner_product -- operator <#>: the dot product negated,
 * so that ascending order (ORDER BY ... LIMIT k) puts the largest first.
 */
Datum
vector_negative_inner_product(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	vector_check_same_dims(a, b);
	PG_RETURN_FLOAT8(-vector_inner(a->x, b->x, a->dim));
}

/*
 * cosine_distance -- 1 - cos(a, b), in [0, 2], operator <=>.  NaN when
 * either vector is zero: its direction, and so the cosine, is undefined
 * (NaN sorts after every number, so such rows come last in ORDER BY).
 */
Datum
cosine_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);

	vector_check_same_dims(a, b);
	PG_RETURN_FLOAT8(vector_cosine_distance(a->x, b->x, a->dim));
}

/*
 * l1_distance -- the taxicab distance, operator <+>.
 */
Datum
l1_distance(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	float		r;

	vector_check_same_dims(a, b);
	r = vector_l1(a->x, b->x, a->dim);
	PG_RETURN_FLOAT8(isinf(r) ? l1_double(a, b) : (double) r);
}

/* ---- functions of one vector --------------------------------------------- */

/*
 * vector_dims -- the number of components.
 */
Datum
vector_dims(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);

	PG_RETURN_INT32(a->dim);
}

/*
 * vector_norm_sql -- SQL vector_norm(): the Euclidean norm.  (The C name
 * vector_norm is the kernel's.)
 */
Datum
vector_norm_sql(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);

	PG_RETURN_FLOAT8(vector_norm(a->x, a->dim));
}

/*
 * l2_normalize -- the vector scaled to norm 1; a zero vector stays zero
 * (it has no direction to keep).
 */
Datum
l2_normalize(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *result = vector_new(a->dim);
	double		norm = vector_norm(a->x, a->dim);

	if (norm > 0.0)
		for (int i = 0; i < a->dim; i++)
			result->x[i] = (float) (a->x[i] / norm);
	PG_RETURN_VECTOR_P(result);
}

/*
 * subvector(v, start, count) -- components start .. start + count - 1
 * (1-based), as substring() does it: the range is clipped to the vector,
 * and an empty result is an error (a vector has at least one component).
 */
Datum
subvector(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	int32		start = PG_GETARG_INT32(1);
	int32		count = PG_GETARG_INT32(2);
	int64		first;
	int64		end;			/* one past the last, 1-based */
	Vector	   *result;

	if (count < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("negative subvector length not allowed")));
	first = Max((int64) start, 1);
	end = Min((int64) start + count, (int64) a->dim + 1);
	if (end <= first)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vector must have at least 1 dimension"),
				 errdetail("subvector(%d, %d) of a vector of %d dimensions is empty.",
						   start, count, a->dim)));
	result = vector_new((int) (end - first));
	memcpy(result->x, a->x + (first - 1), sizeof(float) * result->dim);
	PG_RETURN_VECTOR_P(result);
}

/* ---- arithmetic ------------------------------------------------------------ */

/*
 * vector_add -- component-wise sum, operator +.
 */
Datum
vector_add(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	vector_check_same_dims(a, b);
	result = vector_new(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = a->x[i] + b->x[i];
	for (int i = 0; i < a->dim; i++)
		if (isinf(result->x[i]))
			float_overflow_error();
	PG_RETURN_VECTOR_P(result);
}

/*
 * vector_sub -- component-wise difference, operator -.
 */
Datum
vector_sub(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	vector_check_same_dims(a, b);
	result = vector_new(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = a->x[i] - b->x[i];
	for (int i = 0; i < a->dim; i++)
		if (isinf(result->x[i]))
			float_overflow_error();
	PG_RETURN_VECTOR_P(result);
}

/*
 * vector_mul -- component-wise product, operator *.  Like real * real, a
 * product that rounds to zero from non-zero factors is an underflow error.
 */
Datum
vector_mul(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result;

	vector_check_same_dims(a, b);
	result = vector_new(a->dim);
	for (int i = 0; i < a->dim; i++)
		result->x[i] = a->x[i] * b->x[i];
	for (int i = 0; i < a->dim; i++)
	{
		if (isinf(result->x[i]))
			float_overflow_error();
		if (result->x[i] == 0.0f && a->x[i] != 0.0f && b->x[i] != 0.0f)
			float_underflow_error();
	}
	PG_RETURN_VECTOR_P(result);
}

/*
 * vector_concat -- a's components then b's, operator ||.
 */
Datum
vector_concat(PG_FUNCTION_ARGS)
{
	Vector	   *a = PG_GETARG_VECTOR_P(0);
	Vector	   *b = PG_GETARG_VECTOR_P(1);
	Vector	   *result = vector_new(a->dim + b->dim);	/* checks the limit */

	memcpy(result->x, a->x, sizeof(float) * a->dim);
	memcpy(result->x + a->dim, b->x, sizeof(float) * b->dim);
	PG_RETURN_VECTOR_P(result);
}

/* ---- order --------------------------------------------------------------- */

/*
 * vector_cmp_internal -- the btree order: component by component over the
 * common prefix, then the shorter vector first.  Components are finite, so
 * float comparison is a total order on them (-0 and 0 compare equal).
 */
static int
vector_cmp_internal(const Vector *a, const Vector *b)
{
	int			n = Min(a->dim, b->dim);

	for (int i = 0; i < n; i++)
	{
		if (a->x[i] < b->x[i])
			return -1;
		if (a->x[i] > b->x[i])
			return 1;
	}
	if (a->dim != b->dim)
		return a->dim < b->dim ? -1 : 1;
	return 0;
}

#define VECTOR_CMP_FUNCTION(name, expr) \
Datum \
name(PG_FUNCTION_ARGS) \
{ \
	Vector	   *a = PG_GETARG_VECTOR_P(0); \
	Vector	   *b = PG_GETARG_VECTOR_P(1); \
	int			c = vector_cmp_internal(a, b); \
\
	PG_FREE_IF_COPY(a, 0); \
	PG_FREE_IF_COPY(b, 1); \
	expr; \
}

/* The six comparison operators and the btree support function. */
VECTOR_CMP_FUNCTION(vector_lt, PG_RETURN_BOOL(c < 0))
VECTOR_CMP_FUNCTION(vector_le, PG_RETURN_BOOL(c <= 0))
VECTOR_CMP_FUNCTION(vector_eq, PG_RETURN_BOOL(c == 0))
VECTOR_CMP_FUNCTION(vector_ne, PG_RETURN_BOOL(c != 0))
VECTOR_CMP_FUNCTION(vector_ge, PG_RETURN_BOOL(c >= 0))
VECTOR_CMP_FUNCTION(vector_gt, PG_RETURN_BOOL(c > 0))
VECTOR_CMP_FUNCTION(vector_cmp, PG_RETURN_INT32(c))
