/*-------------------------------------------------------------------------
 *
 * formula.h
 *	  The derived-metric formula language: a small, bounded, non-recursive
 *	  evaluator for metric_definitions.calculation_formula.
 *
 * A formula is untrusted text written by a tenant, e.g.
 *		(revenue - cogs) / revenue
 *		coalesce(cash, 0) + max(receivables, 0) * 0.9
 * It is compiled into a short postfix program that is evaluated with an
 * explicit stack; no SQL text is ever built from it.
 *
 * Grammar (whitespace: space, tab, CR, LF between tokens):
 *		expr    := term  (('+' | '-') term)*
 *		term    := unary (('*' | '/') unary)*
 *		unary   := ('-' | '+') unary | primary
 *		primary := NUMBER | NAME | FUNC '(' expr (',' expr)* ')' | '(' expr ')'
 *		NUMBER  := digits ['.' digits] [('e'|'E') ['+'|'-'] digits]  (or '.' digits ...)
 *		NAME    := [a-z][a-z0-9_]{0,62}        a metric_type
 *		FUNC    := abs (1 argument) | min | max | coalesce (1 to 16 arguments)
 * A NAME directly followed by '(' is a function call; otherwise it names a
 * metric (so a metric may be called "abs").
 *
 * Semantics: every value may be NULL (a metric without a value in a bucket).
 * Arithmetic with a NULL operand is NULL; division by zero is NULL (not an
 * error: a ratio of an empty period is unknown); any non-finite result, or
 * a non-finite input, is NULL. min and max ignore NULLs (as SQL's LEAST and
 * GREATEST) and are NULL only when every argument is; coalesce returns its
 * first non-NULL argument.
 *
 * This module is plain C without PostgreSQL headers, so that the parser can
 * be built on its own and fuzzed under sanitizers (test/fuzz/); the SQL
 * functions that wrap it are in formula_sql.c. It allocates nothing: a
 * compiled Formula has fixed-size arrays, which the limits below bound.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_FORMULA_H
#define TELOS_FORMULA_H

#include <stdbool.h>
#include <stddef.h>

/* Longest formula text, in bytes. */
#define FORMULA_MAX_LENGTH		1000
/* Deepest nesting of parentheses, unary signs and function calls. */
#define FORMULA_MAX_DEPTH		32
/* Most distinct metric names one formula may reference. */
#define FORMULA_MAX_REFS		32
/* Most arguments of min, max, coalesce. */
#define FORMULA_MAX_ARGS		16
/* Longest metric name (the metric_type pattern allows 63 characters). */
#define FORMULA_NAME_MAX		63
/* Every token yields at most one instruction, and tokens are >= 1 byte. */
#define FORMULA_MAX_OPS			FORMULA_MAX_LENGTH

/* What went wrong; formula_sql.c maps each to a SQLSTATE. */
typedef enum FormulaErrorCode
{
	FORMULA_OK = 0,
	FORMULA_ERR_SYNTAX,			/* unexpected character or token, empty */
	FORMULA_ERR_TOO_LONG,		/* text longer than FORMULA_MAX_LENGTH */
	FORMULA_ERR_TOO_DEEP,		/* nesting deeper than FORMULA_MAX_DEPTH */
	FORMULA_ERR_TOO_MANY_REFS,	/* more than FORMULA_MAX_REFS names */
	FORMULA_ERR_NAME_TOO_LONG,	/* a name longer than FORMULA_NAME_MAX */
	FORMULA_ERR_UNKNOWN_FUNCTION,	/* NAME( with an unknown NAME */
	FORMULA_ERR_ARG_COUNT,		/* wrong number of function arguments */
	FORMULA_ERR_NUMBER			/* a literal out of the float8 range */
} FormulaErrorCode;

/*
 * A compile error: the code, the 1-based character position where it was
 * found (formulas are ASCII up to the first error, so bytes = characters),
 * and a message in PostgreSQL style (lower case, no final period).
 */
typedef struct FormulaError
{
	FormulaErrorCode code;
	int			position;
	char		message[192];
} FormulaError;

/* Instructions of the postfix program. */
typedef enum FormulaOpKind
{
	FOP_CONST,					/* push value */
	FOP_REF,					/* push input ref */
	FOP_NEG,
	FOP_ADD,
	FOP_SUB,
	FOP_MUL,
	FOP_DIV,
	FOP_ABS,
	FOP_MIN,					/* nargs operands */
	FOP_MAX,
	FOP_COALESCE
} FormulaOpKind;

typedef struct FormulaOp
{
	unsigned char kind;			/* FormulaOpKind */
	unsigned char nargs;		/* FOP_MIN/MAX/COALESCE */
	unsigned short ref;			/* FOP_REF: index into refs */
	double		value;			/* FOP_CONST */
} FormulaOp;

/*
 * A compiled formula. refs are the distinct metric names it references, in
 * order of first appearance; formula_evaluate takes their values in that
 * order. max_stack is the evaluation stack depth the program needs.
 */
typedef struct Formula
{
	int			nops;
	int			nrefs;
	int			max_stack;
	FormulaOp	ops[FORMULA_MAX_OPS];
	char		refs[FORMULA_MAX_REFS][FORMULA_NAME_MAX + 1];
} Formula;

/*
 * formula_compile
 *		Parse len bytes of text (need not be NUL-terminated; a NUL byte is a
 *		syntax error) into *out. Returns true on success; on failure returns
 *		false and fills *err, leaving *out unspecified. Never reads beyond
 *		text[len - 1], never recurses deeper than FORMULA_MAX_DEPTH levels of
 *		nesting, allocates nothing.
 */
extern bool formula_compile(const char *text, size_t len, Formula *out,
							FormulaError *err);

/*
 * formula_evaluate
 *		Run a compiled formula. vals[i] / isnull[i] is the value of
 *		f->refs[i] (arrays of f->nrefs entries; may be NULL when nrefs is 0).
 *		Returns the result, or sets *resnull and returns 0. Cannot fail.
 */
extern double formula_evaluate(const Formula *f, const double *vals,
							   const bool *isnull, bool *resnull);

/*
 * formula_ref_index
 *		Index of name in f->refs, or -1.
 */
extern int	formula_ref_index(const Formula *f, const char *name);

/*
 * formula_compile_or_error
 *		Backend only (formula_sql.c): compile text[0..len) into a palloc'd
 *		Formula, or ereport(ERROR) with a SQLSTATE fitting the error. metric,
 *		if not NULL, is the metric the formula defines, named in the message.
 */
extern Formula *formula_compile_or_error(const char *text, size_t len,
										 const char *metric);

#endif							/* TELOS_FORMULA_H */
