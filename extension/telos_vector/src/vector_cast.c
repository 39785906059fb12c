/*
 * vector_cast.c -- casts between vector and the SQL arrays of numbers:
 * integer[], real[], double precision[] and numeric[] to vector (assignment
 * casts, as pgvector has them), vector to real[] (implicit), to double
 * precision[] and to numeric[] (assignment).
 *
 * An array becomes a vector only when it is one-dimensional, has no NULLs,
 * 1..VECTOR_MAX_DIM elements, all finite and representable as float4, and
 * the target's declared dimension if there is one.
 */
#include "postgres.h"

#include <math.h>

#include "catalog/pg_type.h"
#include "common/shortest_dec.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"

#include "vector.h"

PG_FUNCTION_INFO_V1(array_to_vector);
PG_FUNCTION_INFO_V1(vector_to_float4);
PG_FUNCTION_INFO_V1(vector_to_float8);
PG_FUNCTION_INFO_V1(vector_to_numeric);

/*
 * element_to_float -- one array element as float4.  A finite double or
 * numeric beyond float4's range is an error (not infinity); NaN and infinite
 * elements pass through, to be refused by vector_check_finite with the
 * component's position.  Numeric goes through double: one more rounding,
 * never visible in float4 except at exact ties.
 */
static float
element_to_float(Datum d, Oid elemtype, int position)
{
	switch (elemtype)
	{
		case INT4OID:
			return (float) DatumGetInt32(d);
		case FLOAT4OID:
			return DatumGetFloat4(d);
		case FLOAT8OID:
		case NUMERICOID:
			{
				/*
				 * A numeric too large for double comes back infinite rather
				 * than raising an error that quotes all of its digits.
				 */
				double		v = (elemtype == FLOAT8OID) ? DatumGetFloat8(d) :
					DatumGetFloat8(DirectFunctionCall1(numeric_float8_no_overflow, d));
				float		f = (float) v;

				if (isinf(f) && !isinf(v))
					ereport(ERROR,
							(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
							 errmsg("value out of range for type vector"),
							 errdetail("Component %d is %g; components are float4 (real).",
									   position, v)));
				if (isinf(v) && elemtype == NUMERICOID &&
					!numeric_is_inf(DatumGetNumeric(d)))
					ereport(ERROR,
							(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
							 errmsg("value out of range for type vector"),
							 errdetail("Component %d is beyond the range of double precision; components are float4 (real).",
									   position)));
				return f;
			}
		default:
			ereport(ERROR,
					(errcode(ERRCODE_DATATYPE_MISMATCH),
					 errmsg("cannot cast an array of %s to vector", format_type_be(elemtype)),
					 errhint("Cast the array to real[] first.")));
	}
	pg_unreachable();
}

/*
 * array_to_vector(anyarray, typmod, explicit) -- the cast from integer[],
 * real[], double precision[] and numeric[]; one C function for the four.
 */
Datum
array_to_vector(PG_FUNCTION_ARGS)
{
	ArrayType  *array = PG_GETARG_ARRAYTYPE_P(0);
	int32		typmod = PG_GETARG_INT32(1);
	Oid			elemtype = ARR_ELEMTYPE(array);
	int16		typlen;
	bool		typbyval;
	char		typalign;
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	Vector	   *result;

	if (ARR_NDIM(array) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("array must be 1-D"),
				 errdetail("The array has %d dimensions.", ARR_NDIM(array))));
	/* Check the size before deconstructing a huge array. */
	vector_check_dim(ArrayGetNItems(ARR_NDIM(array), ARR_DIMS(array)));
	if (array_contains_nulls(array))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("array must not contain nulls")));

	get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
	deconstruct_array(array, elemtype, typlen, typbyval, typalign, &elems, &nulls, &n);
	if (typmod != -1 && n != typmod)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, n)));

	result = vector_new(n);
	for (int i = 0; i < n; i++)
		result->x[i] = element_to_float(elems[i], elemtype, i + 1);
	vector_check_finite(result->x, n);

	pfree(elems);
	pfree(nulls);
	PG_RETURN_VECTOR_P(result);
}

/*
 * vector_to_float4(vector, typmod, explicit) -- vector to real[], exact.
 */
Datum
vector_to_float4(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	Datum	   *d = (Datum *) palloc(sizeof(Datum) * v->dim);

	for (int i = 0; i < v->dim; i++)
		d[i] = Float4GetDatum(v->x[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(d, v->dim, FLOAT4OID, sizeof(float4), true,
										  TYPALIGN_INT));
}

/*
 * vector_to_float8(vector, typmod, explicit) -- vector to double precision[],
 * exact (every float4 is a double).
 */
Datum
vector_to_float8(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	Datum	   *d = (Datum *) palloc(sizeof(Datum) * v->dim);

	for (int i = 0; i < v->dim; i++)
		d[i] = Float8GetDatum((double) v->x[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(d, v->dim, FLOAT8OID, sizeof(float8),
										  FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
}

/*
 * vector_to_numeric(vector, typmod, explicit) -- vector to numeric[]: each
 * component as the shortest decimal that reads back to the same float4
 * (0.1, not 0.100000001490116), as the text form shows it.
 */
Datum
vector_to_numeric(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	Datum	   *d = (Datum *) palloc(sizeof(Datum) * v->dim);
	char		buf[FLOAT_SHORTEST_DECIMAL_LEN];

	for (int i = 0; i < v->dim; i++)
	{
		float_to_shortest_decimal_buf(v->x[i], buf);
		d[i] = DirectFunctionCall3(numeric_in, CStringGetDatum(buf),
								   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1));
	}
	PG_RETURN_ARRAYTYPE_P(construct_array(d, v->dim, NUMERICOID, -1, false, TYPALIGN_INT));
}
