/*
 * vector.c -- the vector type itself: construction and the invariant checks,
 * text input and output, the type modifier, binary send and receive, and
 * the coercion to a declared dimension.
 *
 * Every way a value enters from outside (text, binary, the casts in
 * vector_cast.c) ends in the same checks: 1 <= dim <= VECTOR_MAX_DIM, every
 * component finite, the declared dimension (typmod) matched.  Input is
 * parsed with explicit bounds and rejected with an error naming what is
 * wrong; nothing is silently rounded away except what float4 rounding does.
 */
#include "postgres.h"

#include <math.h>

#include "common/shortest_dec.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "libpq/pqformat.h"
#include "utils/array.h"
#include "utils/builtins.h"

#include "vector.h"

PG_MODULE_MAGIC;

PG_FUNCTION_INFO_V1(vector_in);
PG_FUNCTION_INFO_V1(vector_out);
PG_FUNCTION_INFO_V1(vector_typmod_in);
PG_FUNCTION_INFO_V1(vector_recv);
PG_FUNCTION_INFO_V1(vector_send);
PG_FUNCTION_INFO_V1(vector);

/*
 * vector_new -- a zeroed vector of dim components in the current memory
 * context.
 */
Vector *
vector_new(int dim)
{
	Vector	   *v;
	Size		size;

	vector_check_dim(dim);
	size = VECTOR_SIZE(dim);
	v = (Vector *) palloc0(size);
	SET_VARSIZE(v, size);
	v->dim = dim;
	v->unused = 0;
	return v;
}

/*
 * vector_check_dim -- the dimension limits, with the same messages wherever
 * a dimension comes from.
 */
void
vector_check_dim(int dim)
{
	if (dim < 1)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vector must have at least 1 dimension")));
	if (dim > VECTOR_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("vector cannot have more than %d dimensions", VECTOR_MAX_DIM),
				 errdetail("The value has %d dimensions.", dim)));
}

/*
 * vector_check_same_dims -- binary operators and distances are defined only
 * between vectors of one dimension.
 */
void
vector_check_same_dims(const Vector *a, const Vector *b)
{
	if (a->dim != b->dim)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("different vector dimensions %d and %d", a->dim, b->dim)));
}

/*
 * vector_check_finite -- NaN and infinity have no place in a vector: every
 * distance involving them would be NaN or infinite, and an index could not
 * order them.
 */
void
vector_check_finite(const float *x, int dim)
{
	for (int i = 0; i < dim; i++)
	{
		if (isnan(x[i]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("NaN not allowed in vector"),
					 errdetail("Component %d is NaN.", i + 1)));
		if (isinf(x[i]))
			ereport(ERROR,
					(errcode(ERRCODE_DATA_EXCEPTION),
					 errmsg("infinite value not allowed in vector"),
					 errdetail("Component %d is %s.", i + 1,
							   x[i] > 0 ? "Infinity" : "-Infinity")));
	}
}

/*
 * check_typmod -- a vector(n) column or cast accepts only n dimensions
 * (typmod -1: any).
 */
static void
check_typmod(int dim, int32 typmod)
{
	if (typmod != -1 && dim != typmod)
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("expected %d dimensions, not %d", typmod, dim)));
}

/* The white space vector_in skips: what isspace() accepts in the C locale. */
static inline bool
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static inline const char *
skip_space(const char *p)
{
	while (is_space(*p))
		p++;
	return p;
}

/*
 * number_end -- the end of the decimal number at p, or NULL if there is none:
 *   [+-]? (digits [. digits?] | . digits) ([eE] [+-]? digits)?
 * Stricter than strtof, which would also take hexadecimal floats and
 * "nan"/"inf", and would stop silently before junk such as "1.2.3".
 */
static const char *
number_end(const char *p)
{
	bool		digits = false;

	if (*p == '+' || *p == '-')
		p++;
	while (*p >= '0' && *p <= '9')
		p++, digits = true;
	if (*p == '.')
	{
		p++;
		while (*p >= '0' && *p <= '9')
			p++, digits = true;
	}
	if (!digits)
		return NULL;
	if (*p == 'e' || *p == 'E')
	{
		const char *e = p + 1;

		if (*e == '+' || *e == '-')
			e++;
		if (!(*e >= '0' && *e <= '9'))
			return NULL;
		while (*e >= '0' && *e <= '9')
			e++;
		p = e;
	}
	return p;
}

/*
 * word_at -- whether p starts with the word w (case-insensitive) followed by
 * a delimiter; used only to give NaN and infinity their own error.
 */
static bool
word_at(const char *p, const char *w)
{
	size_t		n = strlen(w);

	return pg_strncasecmp(p, w, n) == 0 &&
		(p[n] == ',' || p[n] == ']' || p[n] == '\0' || is_space(p[n]));
}

static void
invalid_syntax(const char *str, const char *detail, int position)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type vector: \"%s\"", str),
			 errdetail("%s at character %d.", detail, position)));
}

/*
 * vector_in -- text to vector: "[1, 2.5, -3e-2]", white space allowed around
 * the brackets and the components.
 */
Datum
vector_in(PG_FUNCTION_ARGS)
{
	const char *str = PG_GETARG_CSTRING(0);
	int32		typmod = PG_GETARG_INT32(2);
	float	   *x;
	int			dim = 0;
	int			capacity = 1;
	const char *p;
	Vector	   *result;

	p = skip_space(str);
	if (*p != '[')
		invalid_syntax(str, "Vector contents must start with \"[\"", (int) (p - str) + 1);
	p = skip_space(p + 1);
	if (*p == ']')
		ereport(ERROR,
				(errcode(ERRCODE_DATA_EXCEPTION),
				 errmsg("vector must have at least 1 dimension")));

	/*
	 * Room for as many components as the text could hold (one more than its
	 * commas), at most VECTOR_MAX_DIM, whatever the length of the text.
	 */
	for (const char *c = p; (c = strchr(c, ',')) != NULL && capacity < VECTOR_MAX_DIM; c++)
		capacity++;
	x = (float *) palloc(sizeof(float) * capacity);
	for (;;)
	{
		const char *end;
		char	   *parsed;
		float		val;

		p = skip_space(p);
		end = number_end(p);
		if (end == NULL)
		{
			const char *w = (*p == '+' || *p == '-') ? p + 1 : p;

			if (word_at(w, "nan"))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("NaN not allowed in vector"),
						 errdetail("Component %d is NaN.", dim + 1)));
			if (word_at(w, "inf") || word_at(w, "infinity"))
				ereport(ERROR,
						(errcode(ERRCODE_DATA_EXCEPTION),
						 errmsg("infinite value not allowed in vector"),
						 errdetail("Component %d is infinite.", dim + 1)));
			if (*p == '\0')
				invalid_syntax(str, "Unexpected end of input", (int) (p - str) + 1);
			invalid_syntax(str, "Expected a number", (int) (p - str) + 1);
		}
		/* capacity < VECTOR_MAX_DIM only when the commas cannot allow more */
		if (dim == capacity)
			ereport(ERROR,
					(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
					 errmsg("vector cannot have more than %d dimensions", VECTOR_MAX_DIM)));

		errno = 0;
		val = strtof(p, &parsed);
		/* number_end() accepted exactly what strtof reads in the C locale. */
		if (parsed != end)
			invalid_syntax(str, "Expected a number", (int) (p - str) + 1);
		if (errno == ERANGE && (val == 0.0f || isinf(val)))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("\"%.*s\" is out of range for type vector", (int) (end - p), p),
					 errdetail("Components are float4 (real): magnitudes from about 1.4e-45 to 3.4e+38.")));
		x[dim++] = val;

		p = skip_space(end);
		if (*p == ',')
		{
			p++;
			continue;
		}
		if (*p == ']')
			break;
		if (*p == '\0')
			invalid_syntax(str, "Unexpected end of input", (int) (p - str) + 1);
		invalid_syntax(str, "Expected \",\" or \"]\"", (int) (p - str) + 1);
	}
	p = skip_space(p + 1);
	if (*p != '\0')
		invalid_syntax(str, "Junk after closing right bracket", (int) (p - str) + 1);

	check_typmod(dim, typmod);
	result = vector_new(dim);
	memcpy(result->x, x, sizeof(float) * dim);
	pfree(x);
	PG_RETURN_VECTOR_P(result);
}

/*
 * vector_out -- the text form, each component in the shortest decimal that
 * reads back to the same float4 (so text round-trips exactly).
 */
Datum
vector_out(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	char	   *buf;
	char	   *p;

	/* Each component: at most FLOAT_SHORTEST_DECIMAL_LEN - 1 chars and a comma. */
	buf = (char *) palloc((Size) v->dim * FLOAT_SHORTEST_DECIMAL_LEN + 2);
	p = buf;
	*p++ = '[';
	for (int i = 0; i < v->dim; i++)
	{
		if (i > 0)
			*p++ = ',';
		p += float_to_shortest_decimal_bufn(v->x[i], p);
	}
	*p++ = ']';
	*p = '\0';
	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_CSTRING(buf);
}

/*
 * vector_typmod_in -- vector(n): one integer, 1..VECTOR_MAX_DIM.
 */
Datum
vector_typmod_in(PG_FUNCTION_ARGS)
{
	ArrayType  *ta = PG_GETARG_ARRAYTYPE_P(0);
	int32	   *tl;
	int			n;

	tl = ArrayGetIntegerTypmods(ta, &n);
	if (n != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid type modifier"),
				 errdetail("Type vector takes one modifier, its number of dimensions.")));
	if (tl[0] < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type vector must be at least 1")));
	if (tl[0] > VECTOR_MAX_DIM)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("dimensions for type vector cannot exceed %d", VECTOR_MAX_DIM)));
	PG_RETURN_INT32(tl[0]);
}

/*
 * vector_recv -- the binary form: int16 dim, int16 unused (0), dim float4,
 * all in network byte order (pgvector's format).  The length must be exact:
 * the buffer is what the client sent, nothing in it is trusted.
 */
Datum
vector_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int32		typmod = PG_GETARG_INT32(2);
	int			remaining = buf->len - buf->cursor;
	int			dim;
	int			unused;
	Vector	   *result;

	if (remaining < 4)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary data for type vector"),
				 errdetail("The value has %d bytes, fewer than its 4-byte header.",
						   remaining)));
	dim = (int16) pq_getmsgint(buf, 2);
	unused = (int16) pq_getmsgint(buf, 2);
	if (unused != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary data for type vector"),
				 errdetail("The reserved header field is %d, not 0.", unused)));
	vector_check_dim(dim);
	if (remaining - 4 != dim * (int) sizeof(float))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("invalid binary data for type vector"),
				 errdetail_plural("The header says %d dimension (%d bytes), but %d bytes follow.",
								  "The header says %d dimensions (%d bytes), but %d bytes follow.",
								  dim, dim, dim * (int) sizeof(float), remaining - 4)));
	check_typmod(dim, typmod);

	result = vector_new(dim);
	for (int i = 0; i < dim; i++)
		result->x[i] = pq_getmsgfloat4(buf);
	vector_check_finite(result->x, dim);
	PG_RETURN_VECTOR_P(result);
}

/*
 * vector_send -- the binary form vector_recv reads.
 */
Datum
vector_send(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint16(&buf, v->dim);
	pq_sendint16(&buf, v->unused);
	for (int i = 0; i < v->dim; i++)
		pq_sendfloat4(&buf, v->x[i]);
	PG_FREE_IF_COPY(v, 0);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/*
 * vector -- the length coercion behind vector(n) columns and casts: the
 * value unchanged when it has n dimensions, an error otherwise (a vector is
 * never truncated or padded).
 */
Datum
vector(PG_FUNCTION_ARGS)
{
	Vector	   *v = PG_GETARG_VECTOR_P(0);
	int32		typmod = PG_GETARG_INT32(1);

	check_typmod(v->dim, typmod);
	PG_RETURN_VECTOR_P(v);
}
