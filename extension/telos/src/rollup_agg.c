/*-------------------------------------------------------------------------
 *
 * rollup_agg.c
 *	  The aggregates telos.first(value float8, time timestamptz) and
 *	  telos.last(value, time): the value at the earliest / latest time.
 *
 * Rollups must equal a from-scratch recomputation whatever order rows are
 * read in, so ties are broken by value: first keeps the smallest value
 * among the earliest rows, last the largest among the latest. The same
 * aggregates combine rollup rows (first(first, bucket)): buckets of one
 * series do not overlap, so the earliest bucket holds the earliest row and
 * the rule carries over from hours to days to months.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/float.h"
#include "utils/timestamp.h"

PG_FUNCTION_INFO_V1(telos_first_sfunc);
PG_FUNCTION_INFO_V1(telos_last_sfunc);
PG_FUNCTION_INFO_V1(telos_first_last_final);

typedef struct FirstLastState
{
	TimestampTz time;
	float8		value;
} FirstLastState;

/*
 * One transition; want_first selects the rule. The state lives in the
 * aggregate's memory context and is NULL until the first non-NULL row.
 */
static Datum
first_last_step(FunctionCallInfo fcinfo, bool want_first)
{
	MemoryContext aggctx;
	FirstLastState *st = PG_ARGISNULL(0) ? NULL : (FirstLastState *) PG_GETARG_POINTER(0);
	float8		v;
	TimestampTz t;

	if (!AggCheckCallContext(fcinfo, &aggctx))
		elog(ERROR, "telos.first/last transition called outside an aggregate");
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (st == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(st);
	}
	v = PG_GETARG_FLOAT8(1);
	t = PG_GETARG_TIMESTAMPTZ(2);

	if (st == NULL)
	{
		st = MemoryContextAlloc(aggctx, sizeof(FirstLastState));
		st->time = t;
		st->value = v;
	}
	else if (want_first
			 ? (t < st->time || (t == st->time && float8_lt(v, st->value)))
			 : (t > st->time || (t == st->time && float8_lt(st->value, v))))
	{
		st->time = t;
		st->value = v;
	}
	PG_RETURN_POINTER(st);
}

/*
 * telos_first_sfunc / telos_last_sfunc
 *		(internal, float8, timestamptz) -> internal
 */
Datum
telos_first_sfunc(PG_FUNCTION_ARGS)
{
	return first_last_step(fcinfo, true);
}

Datum
telos_last_sfunc(PG_FUNCTION_ARGS)
{
	return first_last_step(fcinfo, false);
}

/*
 * telos_first_last_final
 *		(internal) -> float8: the kept value, NULL for no rows.
 */
Datum
telos_first_last_final(PG_FUNCTION_ARGS)
{
	FirstLastState *st;

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	st = (FirstLastState *) PG_GETARG_POINTER(0);
	PG_RETURN_FLOAT8(st->value);
}
