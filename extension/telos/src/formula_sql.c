/*-------------------------------------------------------------------------
 *
 * formula_sql.c
 *	  SQL interface of the formula language (formula.h): telos.formula_check
 *	  and telos.formula_eval, and formula_compile_or_error for the rest of
 *	  the engine.
 *
 * Compile errors of formula.c become ereports with a SQLSTATE per kind of
 * error, the 1-based character position in the message, and the text near
 * it in the detail.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"

#include "formula.h"

PG_FUNCTION_INFO_V1(telos_formula_check);
PG_FUNCTION_INFO_V1(telos_formula_eval);

/* Cache of the last formula compiled by one call site (fn_extra). */
typedef struct FormulaCache
{
	int			len;
	char	   *text;
	Formula		formula;
} FormulaCache;

static int
formula_errcode(FormulaErrorCode code)
{
	switch (code)
	{
		case FORMULA_ERR_TOO_LONG:
		case FORMULA_ERR_TOO_MANY_REFS:
			return ERRCODE_PROGRAM_LIMIT_EXCEEDED;
		case FORMULA_ERR_TOO_DEEP:
			return ERRCODE_STATEMENT_TOO_COMPLEX;
		case FORMULA_ERR_NAME_TOO_LONG:
			return ERRCODE_NAME_TOO_LONG;
		case FORMULA_ERR_UNKNOWN_FUNCTION:
		case FORMULA_ERR_ARG_COUNT:
			return ERRCODE_UNDEFINED_FUNCTION;
		case FORMULA_ERR_NUMBER:
			return ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE;
		case FORMULA_ERR_SYNTAX:
		case FORMULA_OK:
			break;
	}
	return ERRCODE_SYNTAX_ERROR;
}

/*
 * Up to 20 bytes either side of the error position, with anything that is
 * not printable ASCII shown as '?' (the text is untrusted and may not even
 * be valid in the server encoding past the error).
 */
static char *
formula_snippet(const char *text, size_t len, int position)
{
	size_t		at = position > 0 ? (size_t) position - 1 : 0;
	size_t		from = at > 20 ? at - 20 : 0;
	size_t		to = Min(len, at + 20);
	char	   *s = palloc(to - from + 1);
	size_t		i;

	for (i = from; i < to; i++)
		s[i - from] = (text[i] >= 0x20 && text[i] <= 0x7e) ? text[i] : '?';
	s[to - from] = '\0';
	return s;
}

/*
 * formula_compile_or_error
 *		Compile text[0..len) into a palloc'd Formula, or ereport. metric, when
 *		not NULL, names the metric the formula defines (for the context).
 */
Formula *
formula_compile_or_error(const char *text, size_t len, const char *metric)
{
	Formula    *f = palloc(sizeof(Formula));
	FormulaError err;

	if (formula_compile(text, len, f, &err))
		return f;

	ereport(ERROR,
			(errcode(formula_errcode(err.code)),
			 metric ? errmsg("invalid formula of metric \"%s\" at character %d: %s",
							 metric, err.position, err.message)
			 : errmsg("invalid formula at character %d: %s",
					  err.position, err.message),
			 len > 0 && len <= FORMULA_MAX_LENGTH
			 ? errdetail("Near \"%s\".", formula_snippet(text, len, err.position)) : 0,
			 err.code == FORMULA_ERR_SYNTAX
			 ? errhint("A formula combines metric names, numbers, + - * /, parentheses and abs, min, max, coalesce.") : 0));
	return NULL;				/* not reached */
}

/* The formula argument, compiled once per call site and text. */
static Formula *
formula_from_arg(FunctionCallInfo fcinfo, int argno)
{
	text	   *t = PG_GETARG_TEXT_PP(argno);
	const char *s = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);
	FormulaCache *cache = (FormulaCache *) fcinfo->flinfo->fn_extra;
	Formula    *f;

	if (cache && cache->len == len && memcmp(cache->text, s, len) == 0)
		return &cache->formula;

	f = formula_compile_or_error(s, len, NULL);
	if (cache == NULL)
	{
		cache = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(FormulaCache));
		fcinfo->flinfo->fn_extra = cache;
	}
	if (cache->text)
		pfree(cache->text);
	cache->text = MemoryContextAlloc(fcinfo->flinfo->fn_mcxt, len + 1);
	memcpy(cache->text, s, len);
	cache->len = len;
	cache->formula = *f;
	pfree(f);
	return &cache->formula;
}

static void
check_not_null(FunctionCallInfo fcinfo, int argno, const char *name)
{
	if (PG_ARGISNULL(argno))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
}

/*
 * telos_formula_check
 *		telos.formula_check(formula text) RETURNS text[]
 *
 * Compiles the formula and returns the distinct metric names it references,
 * in order of first appearance ('{}' for a constant formula). Errors: NULL
 * (22004), syntax (42601), unknown function or wrong argument count (42883),
 * literal out of range (22003), too long / too many names (54000), nested
 * too deep (54001), name too long (42622).
 */
Datum
telos_formula_check(PG_FUNCTION_ARGS)
{
	Formula    *f;
	Datum	   *elems;
	int			i;

	check_not_null(fcinfo, 0, "formula");
	f = formula_from_arg(fcinfo, 0);
	elems = palloc(sizeof(Datum) * Max(f->nrefs, 1));
	for (i = 0; i < f->nrefs; i++)
		elems[i] = CStringGetTextDatum(f->refs[i]);
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, f->nrefs, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * telos_formula_eval
 *		telos.formula_eval(formula text, names text[], vals float8[]) RETURNS float8
 *
 * Evaluates the formula with names[i] bound to vals[i]. Every name the
 * formula references must be in names exactly once; other names are
 * ignored. vals may hold NULLs. Division by zero and non-finite results give
 * NULL. Errors: NULL arguments or NULL names (22004), arrays that are not
 * one-dimensional or differ in length (22023), a referenced name missing or
 * given twice (42704 / 22023), and the compile errors of formula_check.
 */
Datum
telos_formula_eval(PG_FUNCTION_ARGS)
{
	Formula    *f;
	ArrayType  *names;
	ArrayType  *vals;
	Datum	   *name_d;
	bool	   *name_n;
	Datum	   *val_d;
	bool	   *val_n;
	int			nnames,
				nvals;
	double		in[FORMULA_MAX_REFS];
	bool		innull[FORMULA_MAX_REFS];
	bool		resnull;
	double		r;
	int			i,
				j;

	check_not_null(fcinfo, 0, "formula");
	check_not_null(fcinfo, 1, "names");
	check_not_null(fcinfo, 2, "vals");
	f = formula_from_arg(fcinfo, 0);
	names = PG_GETARG_ARRAYTYPE_P(1);
	vals = PG_GETARG_ARRAYTYPE_P(2);

	if (ARR_NDIM(names) > 1 || ARR_NDIM(vals) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("names and vals must be one-dimensional arrays")));
	deconstruct_array(names, TEXTOID, -1, false, TYPALIGN_INT, &name_d, &name_n, &nnames);
	deconstruct_array(vals, FLOAT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &val_d, &val_n, &nvals);
	if (nnames != nvals)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("names and vals must have the same length"),
				 errdetail("names has %d elements, vals has %d.", nnames, nvals)));
	for (j = 0; j < nnames; j++)
		if (name_n[j])
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("names must not contain NULL")));

	for (i = 0; i < f->nrefs; i++)
	{
		int			found = -1;

		for (j = 0; j < nnames; j++)
		{
			text	   *n = DatumGetTextPP(name_d[j]);

			if ((size_t) VARSIZE_ANY_EXHDR(n) == strlen(f->refs[i]) &&
				memcmp(VARDATA_ANY(n), f->refs[i], VARSIZE_ANY_EXHDR(n)) == 0)
			{
				if (found >= 0)
					ereport(ERROR,
							(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
							 errmsg("name \"%s\" appears more than once in names", f->refs[i])));
				found = j;
			}
		}
		if (found < 0)
			ereport(ERROR,
					(errcode(ERRCODE_UNDEFINED_OBJECT),
					 errmsg("formula references \"%s\", which is not in names", f->refs[i])));
		innull[i] = val_n[found];
		in[i] = val_n[found] ? 0.0 : DatumGetFloat8(val_d[found]);
	}

	r = formula_evaluate(f, in, innull, &resnull);
	if (resnull)
		PG_RETURN_NULL();
	PG_RETURN_FLOAT8(r);
}
