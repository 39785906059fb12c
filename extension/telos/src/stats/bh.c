/*-------------------------------------------------------------------------
 *
 * bh.c
 *	  Benjamini-Hochberg q-values (false discovery rate adjusted p-values).
 *
 * As statsmodels' multipletests(p, method='fdr_bh'): sort ascending,
 * q_(i) = p_(i) / (i / n), then the running minimum from the largest p
 * down, capped at 1, returned in the input's order. Ties need no care: the
 * running minimum gives tied p-values the same q.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "../stats.h"

typedef struct BhItem
{
	double		p;
	int			idx;
} BhItem;

/* qsort order: by p, then by position (a total order, so runs repeat). */
static int
bh_cmp(const void *a, const void *b)
{
	const BhItem *x = a;
	const BhItem *y = b;

	if (x->p < y->p)
		return -1;
	if (x->p > y->p)
		return 1;
	return x->idx - y->idx;
}

/*
 * stats_bh_qvalues
 *		See stats.h. p must hold values in [0, 1] (checked by the caller).
 */
void
stats_bh_qvalues(const double *p, int n, double *q)
{
	BhItem	   *items;
	double		run = 1.0;

	if (n <= 0)
		return;
	items = palloc(sizeof(BhItem) * n);
	for (int i = 0; i < n; i++)
	{
		items[i].p = p[i];
		items[i].idx = i;
	}
	qsort(items, n, sizeof(BhItem), bh_cmp);
	for (int i = n - 1; i >= 0; i--)
	{
		/* statsmodels divides by the ecdf factor (i + 1) / n */
		double		v = items[i].p / ((double) (i + 1) / (double) n);

		if (i == n - 1 || v < run)
			run = v;
		q[items[i].idx] = run > 1.0 ? 1.0 : run;
	}
	pfree(items);
}
