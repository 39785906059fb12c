/*-------------------------------------------------------------------------
 *
 * formula.c
 *	  Compiler and evaluator of derived-metric formulas (see formula.h for
 *	  the grammar and the semantics).
 *
 * The input is untrusted, so every step is bounded: the text length is
 * checked first, the scanner never reads past the end, the recursive-descent
 * parser counts its nesting and stops at FORMULA_MAX_DEPTH, and the output
 * goes into fixed arrays whose sizes the length bound guarantees (each token
 * emits at most one instruction). Evaluation is a loop over the postfix
 * program with an explicit stack: no recursion at run time.
 *
 * Plain C (no PostgreSQL headers) so that test/fuzz/formula_fuzz.c can build
 * it under AddressSanitizer.
 *
 *-------------------------------------------------------------------------
 */
#include "formula.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Scanner + parser state. */
typedef struct Parser
{
	const char *text;
	size_t		len;
	size_t		pos;			/* next byte to look at */
	int			depth;			/* current nesting */
	int			stack;			/* evaluation stack depth after the ops so far */
	Formula    *out;
	FormulaError *err;
} Parser;

static bool parse_expr(Parser *p);
#if defined(__GNUC__)
static bool fail(Parser *p, FormulaErrorCode code, size_t at, const char *fmt,...)
			__attribute__((format(printf, 4, 5)));
#endif

/* Record the first error (later ones are consequences) and return false. */
static bool
fail(Parser *p, FormulaErrorCode code, size_t at, const char *fmt,...)
{
	va_list		ap;

	if (p->err->code != FORMULA_OK)
		return false;
	p->err->code = code;
	p->err->position = (int) at + 1;
	va_start(ap, fmt);
	vsnprintf(p->err->message, sizeof(p->err->message), fmt, ap);
	va_end(ap);
	return false;
}

static void
skip_space(Parser *p)
{
	while (p->pos < p->len &&
		   (p->text[p->pos] == ' ' || p->text[p->pos] == '\t' ||
			p->text[p->pos] == '\n' || p->text[p->pos] == '\r'))
		p->pos++;
}

/* The next significant byte, or '\0' at the end (NUL in the text is an error). */
static char
peek(Parser *p)
{
	skip_space(p);
	return p->pos < p->len ? p->text[p->pos] : '\0';
}

static bool
is_name_start(char c)
{
	return c >= 'a' && c <= 'z';
}

static bool
is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Describe the byte at pos for an error message. */
static bool
fail_unexpected(Parser *p, const char *expected)
{
	char		c;

	if (p->pos >= p->len)
		return fail(p, FORMULA_ERR_SYNTAX, p->pos,
					"unexpected end of formula, expected %s", expected);
	c = p->text[p->pos];
	if (c >= 0x21 && c <= 0x7e)
		return fail(p, FORMULA_ERR_SYNTAX, p->pos,
					"unexpected \"%c\", expected %s", c, expected);
	return fail(p, FORMULA_ERR_SYNTAX, p->pos,
				"unexpected byte 0x%02x, expected %s", (unsigned char) c, expected);
}

/*
 * Append an instruction. delta is its effect on the stack depth. The op
 * array cannot overflow (one op per token, at most len tokens), but the
 * check costs nothing and keeps the invariant local.
 */
static bool
emit(Parser *p, FormulaOpKind kind, int nargs, int ref, double value, int delta)
{
	FormulaOp  *op;

	if (p->out->nops >= FORMULA_MAX_OPS)
		return fail(p, FORMULA_ERR_TOO_LONG, p->pos, "formula is too complex");
	op = &p->out->ops[p->out->nops++];
	op->kind = (unsigned char) kind;
	op->nargs = (unsigned char) nargs;
	op->ref = (unsigned short) ref;
	op->value = value;
	p->stack += delta;
	if (p->stack > p->out->max_stack)
		p->out->max_stack = p->stack;
	return true;
}

/* NUMBER at p->pos (a digit or a '.' followed by a digit). */
static bool
parse_number(Parser *p)
{
	size_t		start = p->pos;
	size_t		n;
	char		buf[64];
	char	   *end;
	double		v;

	while (p->pos < p->len && is_digit(p->text[p->pos]))
		p->pos++;
	if (p->pos < p->len && p->text[p->pos] == '.')
	{
		p->pos++;
		while (p->pos < p->len && is_digit(p->text[p->pos]))
			p->pos++;
	}
	if (p->pos < p->len && (p->text[p->pos] == 'e' || p->text[p->pos] == 'E'))
	{
		size_t		save = p->pos;

		p->pos++;
		if (p->pos < p->len && (p->text[p->pos] == '+' || p->text[p->pos] == '-'))
			p->pos++;
		if (p->pos >= p->len || !is_digit(p->text[p->pos]))
		{
			p->pos = save;
			return fail(p, FORMULA_ERR_SYNTAX, save, "invalid exponent in number");
		}
		while (p->pos < p->len && is_digit(p->text[p->pos]))
			p->pos++;
	}
	/* "2abc" or "1.5.2": a number must not run into a name or another dot */
	if (p->pos < p->len && (is_name_char(p->text[p->pos]) || p->text[p->pos] == '.'))
		return fail_unexpected(p, "an operator after a number");

	n = p->pos - start;
	if (n >= sizeof(buf))
		return fail(p, FORMULA_ERR_NUMBER, start, "number is too long");
	memcpy(buf, p->text + start, n);
	buf[n] = '\0';
	errno = 0;
	v = strtod(buf, &end);
	if (end != buf + n)
		return fail(p, FORMULA_ERR_SYNTAX, start, "invalid number");
	if (!isfinite(v))
		return fail(p, FORMULA_ERR_NUMBER, start, "number is out of range");
	/* underflow (1e-400) is accepted as the nearest value, i.e. 0 */
	return emit(p, FOP_CONST, 0, 0, v, 1);
}

/* Index of the (deduplicated) reference name[0..n), adding it if new. */
static int
add_ref(Parser *p, const char *name, size_t n, size_t at)
{
	Formula    *f = p->out;
	int			i;

	for (i = 0; i < f->nrefs; i++)
		if (strlen(f->refs[i]) == n && memcmp(f->refs[i], name, n) == 0)
			return i;
	if (f->nrefs >= FORMULA_MAX_REFS)
	{
		fail(p, FORMULA_ERR_TOO_MANY_REFS, at,
			 "formula references more than %d metrics", FORMULA_MAX_REFS);
		return -1;
	}
	memcpy(f->refs[f->nrefs], name, n);
	f->refs[f->nrefs][n] = '\0';
	return f->nrefs++;
}

/* FUNC '(' args ')' with the name at [start, start + n); p->pos at '('. */
static bool
parse_call(Parser *p, const char *name, size_t n, size_t start)
{
	FormulaOpKind kind;
	int			nargs = 0;
	int			min_args = 1,
				max_args = FORMULA_MAX_ARGS;

	if (n == 3 && memcmp(name, "abs", 3) == 0)
	{
		kind = FOP_ABS;
		max_args = 1;
	}
	else if (n == 3 && memcmp(name, "min", 3) == 0)
		kind = FOP_MIN;
	else if (n == 3 && memcmp(name, "max", 3) == 0)
		kind = FOP_MAX;
	else if (n == 8 && memcmp(name, "coalesce", 8) == 0)
		kind = FOP_COALESCE;
	else
		return fail(p, FORMULA_ERR_UNKNOWN_FUNCTION, start,
					"unknown function \"%.*s\"", (int) n, name);

	p->pos++;					/* '(' */
	if (peek(p) == ')')
		return fail(p, FORMULA_ERR_ARG_COUNT, p->pos,
					"function \"%.*s\" needs at least %d argument",
					(int) n, name, min_args);
	for (;;)
	{
		if (nargs >= max_args)
			return fail(p, FORMULA_ERR_ARG_COUNT, p->pos,
						"function \"%.*s\" takes at most %d argument%s",
						(int) n, name, max_args, max_args == 1 ? "" : "s");
		if (!parse_expr(p))
			return false;
		nargs++;
		if (peek(p) == ',')
		{
			p->pos++;
			continue;
		}
		if (peek(p) == ')')
		{
			p->pos++;
			break;
		}
		return fail_unexpected(p, "\",\" or \")\"");
	}
	return emit(p, kind, nargs, 0, 0.0, 1 - nargs);
}

/* primary := NUMBER | NAME | FUNC '(' ... ')' | '(' expr ')' */
static bool
parse_primary(Parser *p)
{
	char		c = peek(p);

	if (is_digit(c) || (c == '.' && p->pos + 1 < p->len && is_digit(p->text[p->pos + 1])))
		return parse_number(p);

	if (is_name_start(c))
	{
		size_t		start = p->pos;
		size_t		n;
		int			ref;

		while (p->pos < p->len && is_name_char(p->text[p->pos]))
			p->pos++;
		n = p->pos - start;
		if (peek(p) == '(')
			return parse_call(p, p->text + start, n, start);
		if (n > FORMULA_NAME_MAX)
			return fail(p, FORMULA_ERR_NAME_TOO_LONG, start,
						"metric name is longer than %d characters", FORMULA_NAME_MAX);
		ref = add_ref(p, p->text + start, n, start);
		if (ref < 0)
			return false;
		return emit(p, FOP_REF, 0, ref, 0.0, 1);
	}

	if (c == '(')
	{
		p->pos++;
		if (!parse_expr(p))
			return false;
		if (peek(p) != ')')
			return fail_unexpected(p, "\")\"");
		p->pos++;
		return true;
	}

	if (c >= 'A' && c <= 'Z')
		return fail(p, FORMULA_ERR_SYNTAX, p->pos,
					"unexpected \"%c\": metric names are lower case", c);
	return fail_unexpected(p, "a number, a metric name, a function or \"(\"");
}

/* unary := ('-' | '+') unary | primary; counts nesting for the depth bound. */
static bool
parse_unary(Parser *p)
{
	char		c;
	bool		ok;

	if (++p->depth > FORMULA_MAX_DEPTH)
		return fail(p, FORMULA_ERR_TOO_DEEP, p->pos,
					"formula is nested more than %d levels deep", FORMULA_MAX_DEPTH);
	c = peek(p);
	if (c == '-' || c == '+')
	{
		p->pos++;
		ok = parse_unary(p);
		if (ok && c == '-')
			ok = emit(p, FOP_NEG, 0, 0, 0.0, 0);
	}
	else
		ok = parse_primary(p);
	p->depth--;
	return ok;
}

/* term := unary (('*' | '/') unary)* */
static bool
parse_term(Parser *p)
{
	if (!parse_unary(p))
		return false;
	for (;;)
	{
		char		c = peek(p);

		if (c != '*' && c != '/')
			return true;
		p->pos++;
		if (!parse_unary(p))
			return false;
		if (!emit(p, c == '*' ? FOP_MUL : FOP_DIV, 0, 0, 0.0, -1))
			return false;
	}
}

/* expr := term (('+' | '-') term)* */
static bool
parse_expr(Parser *p)
{
	if (!parse_term(p))
		return false;
	for (;;)
	{
		char		c = peek(p);

		if (c != '+' && c != '-')
			return true;
		p->pos++;
		if (!parse_term(p))
			return false;
		if (!emit(p, c == '+' ? FOP_ADD : FOP_SUB, 0, 0, 0.0, -1))
			return false;
	}
}

bool
formula_compile(const char *text, size_t len, Formula *out, FormulaError *err)
{
	Parser		p;

	err->code = FORMULA_OK;
	err->position = 0;
	err->message[0] = '\0';
	out->nops = 0;
	out->nrefs = 0;
	out->max_stack = 0;

	memset(&p, 0, sizeof(p));
	p.text = text;
	p.len = len;
	p.out = out;
	p.err = err;

	if (len > FORMULA_MAX_LENGTH)
		return fail(&p, FORMULA_ERR_TOO_LONG, FORMULA_MAX_LENGTH,
					"formula is longer than %d bytes", FORMULA_MAX_LENGTH);
	if (peek(&p) == '\0' && p.pos >= len)
		return fail(&p, FORMULA_ERR_SYNTAX, 0, "formula is empty");
	if (!parse_expr(&p))
		return false;
	if (peek(&p) != '\0' || p.pos < len)
		return fail_unexpected(&p, "an operator or the end of the formula");
	/* a well-formed program leaves exactly one value */
	if (p.stack != 1)
		return fail(&p, FORMULA_ERR_SYNTAX, 0, "internal error: unbalanced formula");
	return true;
}

int
formula_ref_index(const Formula *f, const char *name)
{
	int			i;

	for (i = 0; i < f->nrefs; i++)
		if (strcmp(f->refs[i], name) == 0)
			return i;
	return -1;
}

double
formula_evaluate(const Formula *f, const double *vals, const bool *isnull,
				 bool *resnull)
{
	double		st[FORMULA_MAX_OPS];
	bool		nl[FORMULA_MAX_OPS];
	int			sp = 0;
	int			i;

	for (i = 0; i < f->nops; i++)
	{
		const FormulaOp *op = &f->ops[i];
		double		a,
					b,
					r = 0.0;
		bool		an,
					bn,
					rn = false;
		int			k;

		switch ((FormulaOpKind) op->kind)
		{
			case FOP_CONST:
				st[sp] = op->value;
				nl[sp++] = false;
				continue;
			case FOP_REF:
				r = vals ? vals[op->ref] : 0.0;
				rn = isnull == NULL || isnull[op->ref] || !isfinite(r);
				st[sp] = rn ? 0.0 : r;
				nl[sp++] = rn;
				continue;
			case FOP_NEG:
			case FOP_ABS:
				if (!nl[sp - 1])
					st[sp - 1] = op->kind == FOP_NEG ? -st[sp - 1] : fabs(st[sp - 1]);
				continue;
			case FOP_ADD:
			case FOP_SUB:
			case FOP_MUL:
			case FOP_DIV:
				b = st[--sp];
				bn = nl[sp];
				a = st[sp - 1];
				an = nl[sp - 1];
				if (an || bn)
					rn = true;
				else if (op->kind == FOP_ADD)
					r = a + b;
				else if (op->kind == FOP_SUB)
					r = a - b;
				else if (op->kind == FOP_MUL)
					r = a * b;
				else if (b == 0.0)
					rn = true;	/* division by zero: unknown, not an error */
				else
					r = a / b;
				if (!rn && !isfinite(r))
					rn = true;
				st[sp - 1] = rn ? 0.0 : r;
				nl[sp - 1] = rn;
				continue;
			case FOP_MIN:
			case FOP_MAX:
			case FOP_COALESCE:
				sp -= op->nargs;
				rn = true;
				for (k = 0; k < op->nargs; k++)
				{
					if (nl[sp + k])
						continue;
					if (rn)
					{
						r = st[sp + k];
						rn = false;
						if (op->kind == FOP_COALESCE)
							break;
					}
					else if (op->kind == FOP_MIN ? st[sp + k] < r : st[sp + k] > r)
						r = st[sp + k];
				}
				st[sp] = rn ? 0.0 : r;
				nl[sp++] = rn;
				continue;
		}
	}
	*resnull = sp != 1 || nl[0];
	return *resnull ? 0.0 : st[0];
}
