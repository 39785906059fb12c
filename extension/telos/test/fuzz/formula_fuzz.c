/*
 * formula_fuzz.c -- fuzz the derived-metric formula compiler outside the
 * backend, under AddressSanitizer and UndefinedBehaviorSanitizer.
 *
 *   cc -std=c11 -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all \
 *      -I../../src -o /tmp/formula_fuzz formula_fuzz.c ../../src/formula.c -lm
 *   /tmp/formula_fuzz [ITERATIONS] [SEED]
 *
 * Inputs: random byte strings, random strings over the formula alphabet,
 * and mutations (byte flips, insertions, deletions, splices, repetitions) of
 * valid formulas. Every input is compiled; compiled ones are evaluated with
 * random values (NULL, 0, huge, NaN) and checked against invariants: the
 * stack depth stays within max_stack, refs are valid names, and a compile
 * failure always carries a message and a position inside the text. A crash,
 * a sanitizer report or a broken invariant stops the run with exit code 1.
 */
#include "formula.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *corpus[] = {
	"(revenue - cogs) / revenue",
	"coalesce(cash, 0) + max(receivables, 0) * 0.9",
	"abs(a - b) / (abs(a) + abs(b))",
	"min(a, b, c, 1e3, -2.5e-3) - -x",
	"((((a))))*2/.5",
	"revenue / 0",
	"a+b+c+d+e+f+g+h",
	"max(coalesce(a,b,c), min(d, e), abs(-f))",
};

static unsigned long long rng_state;

static unsigned
rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned) (rng_state >> 11);
}

static void
fail(const char *what, const char *buf, size_t len)
{
	fprintf(stderr, "invariant broken: %s on input (%zu bytes): %.*s\n",
			what, len, (int) len, buf);
	exit(1);
}

/* A random well-formed formula (so evaluation is exercised too). */
static void
gen_expr(char *buf, size_t cap, size_t *len, int depth)
{
	static const char *names[] = {"a", "b", "revenue", "cogs", "x_1", "abs", "min"};
	static const char *nums[] = {"0", "1", "2.5", ".5", "1e3", "1e308", "3e-5", "10"};
	static const char *ops[] = {" + ", " - ", " * ", " / "};
	char		tmp[64];
	const char *piece = NULL;
	unsigned	k = depth > 6 ? rnd() % 2 : rnd() % 6;

	if (*len + 64 >= cap)
		k = 0;
	switch (k)
	{
		case 0: piece = names[rnd() % 7]; break;
		case 1: piece = nums[rnd() % 8]; break;
		case 2:
			gen_expr(buf, cap, len, depth + 1);
			if (*len + 4 < cap) { memcpy(buf + *len, ops[rnd() % 4], 3); *len += 3; }
			gen_expr(buf, cap, len, depth + 1);
			return;
		case 3:
			if (*len + 1 < cap) buf[(*len)++] = '(';
			gen_expr(buf, cap, len, depth + 1);
			if (*len + 1 < cap) buf[(*len)++] = ')';
			return;
		case 4:
			if (*len + 1 < cap) buf[(*len)++] = '-';
			gen_expr(buf, cap, len, depth + 1);
			return;
		default:
			{
				static const char *fns[] = {"abs(", "min(", "max(", "coalesce("};
				int			f = (int) (rnd() % 4), n = f == 0 ? 1 : 1 + (int) (rnd() % 4), i;

				snprintf(tmp, sizeof(tmp), "%s", fns[f]);
				memcpy(buf + *len, tmp, strlen(tmp));
				*len += strlen(tmp);
				for (i = 0; i < n; i++)
				{
					if (i && *len + 2 < cap) { buf[(*len)++] = ','; buf[(*len)++] = ' '; }
					gen_expr(buf, cap, len, depth + 1);
				}
				if (*len + 1 < cap) buf[(*len)++] = ')';
				return;
			}
	}
	memcpy(buf + *len, piece, strlen(piece));
	*len += strlen(piece);
}

static size_t
make_input(char *buf, size_t cap)
{
	static const char alpha[] = "abcxyz_019.eE+-*/(), \t\nAZmincoalesceabsmax";
	size_t		len = 0,
				i;
	unsigned	kind = rnd() % 5;

	if (kind == 4)
	{							/* generated, well-formed unless too long/deep */
		gen_expr(buf, cap, &len, 0);
		return len;
	}

	if (kind == 0)
	{							/* random bytes */
		len = rnd() % 64;
		for (i = 0; i < len; i++)
			buf[i] = (char) (rnd() & 0xff);
		return len;
	}
	if (kind == 1)
	{							/* random tokens-ish */
		len = rnd() % 200;
		for (i = 0; i < len; i++)
			buf[i] = alpha[rnd() % (sizeof(alpha) - 1)];
		return len;
	}
	/* mutate a corpus entry */
	{
		const char *base = corpus[rnd() % (sizeof(corpus) / sizeof(corpus[0]))];
		int			nmut = 1 + (int) (rnd() % 8);

		len = strlen(base);
		memcpy(buf, base, len);
		while (nmut-- > 0)
		{
			size_t		at = len ? rnd() % len : 0;

			switch (rnd() % 6)
			{
				case 0:			/* flip */
					if (len)
						buf[at] = (char) (rnd() & 0xff);
					break;
				case 1:			/* insert */
					if (len + 1 < cap)
					{
						memmove(buf + at + 1, buf + at, len - at);
						buf[at] = alpha[rnd() % (sizeof(alpha) - 1)];
						len++;
					}
					break;
				case 2:			/* delete */
					if (len)
					{
						memmove(buf + at, buf + at + 1, len - at - 1);
						len--;
					}
					break;
				case 3:			/* duplicate the text (grows fast) */
					if (2 * len < cap)
					{
						memcpy(buf + len, buf, len);
						len *= 2;
					}
					break;
				case 4:			/* deep nesting */
					{
						size_t		n = rnd() % 80;

						if (len + 2 * n < cap)
						{
							memmove(buf + n, buf, len);
							memset(buf, rnd() % 2 ? '(' : '-', n);
							len += n;
							memset(buf + len, ')', n);
							len += n;
						}
					}
					break;
				case 5:			/* truncate */
					len = at;
					break;
			}
		}
	}
	return len;
}

int
main(int argc, char **argv)
{
	long		iterations = argc > 1 ? atol(argv[1]) : 1000000;
	unsigned long long seed = argc > 2 ? strtoull(argv[2], NULL, 10) : 42;
	static char buf[4096];
	static Formula f;
	FormulaError err;
	long		ok = 0,
				bad = 0,
				it;
	long		codes[16] = {0};

	rng_state = seed * 2654435761ULL + 1;
	for (it = 0; it < iterations; it++)
	{
		/* heap copy of exactly len bytes: ASan sees any read past the end */
		size_t		len = make_input(buf, sizeof(buf));
		char	   *copy = malloc(len ? len : 1);

		memcpy(copy, buf, len);
		if (formula_compile(copy, len, &f, &err))
		{
			double		vals[FORMULA_MAX_REFS];
			bool		nulls[FORMULA_MAX_REFS];
			bool		rn;
			int			i;

			ok++;
			if (f.nops <= 0 || f.max_stack < 1 || f.max_stack > f.nops)
				fail("program shape", copy, len);
			for (i = 0; i < f.nrefs; i++)
			{
				size_t		n = strlen(f.refs[i]);

				if (n == 0 || n > FORMULA_NAME_MAX || f.refs[i][0] < 'a' || f.refs[i][0] > 'z')
					fail("ref name", copy, len);
				switch (rnd() % 5)
				{
					case 0: vals[i] = 0; break;
					case 1: vals[i] = 1e308; break;
					case 2: vals[i] = NAN; break;
					default: vals[i] = (double) (int) (rnd() % 2001) - 1000; break;
				}
				nulls[i] = rnd() % 4 == 0;
			}
			{
				double		r = formula_evaluate(&f, vals, nulls, &rn);

				if (!rn && !isfinite(r))
					fail("non-finite result not NULL", copy, len);
			}
		}
		else
		{
			bad++;
			if (err.code <= FORMULA_OK || err.code > FORMULA_ERR_NUMBER || err.message[0] == '\0')
				fail("error without code or message", copy, len);
			if (err.position < 1 || (size_t) err.position > len + 1)
				fail("error position outside the text", copy, len);
			codes[err.code]++;
		}
		free(copy);
	}
	printf("%ld inputs: %ld compiled, %ld rejected (syntax %ld, too long %ld, too deep %ld, "
		   "refs %ld, name %ld, function %ld, args %ld, number %ld)\n",
		   iterations, ok, bad, codes[FORMULA_ERR_SYNTAX], codes[FORMULA_ERR_TOO_LONG],
		   codes[FORMULA_ERR_TOO_DEEP], codes[FORMULA_ERR_TOO_MANY_REFS],
		   codes[FORMULA_ERR_NAME_TOO_LONG], codes[FORMULA_ERR_UNKNOWN_FUNCTION],
		   codes[FORMULA_ERR_ARG_COUNT], codes[FORMULA_ERR_NUMBER]);
	return 0;
}
