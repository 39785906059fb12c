/*-------------------------------------------------------------------------
 *
 * policy_archive.c
 *	  The archive job (telos.archive_job): which chunks go cold, per tenant
 *	  tier, and retention inside archived chunks. The model is described in
 *	  policy.h.
 *
 * Every decision compares a chunk's range_end with instants computed once
 * per run from now and each tenant's windows:
 *	 keep(t) = now - R(t)		(-infinity when there is no retention)
 *	 hot(t)	 = now - H(t)
 * A tenant keeps chunk c hot while c.range_end > max(hot(t), keep(t)), i.e.
 * for min(H, R) after it ends, and keeps it at all while c.range_end >
 * keep(t). Tenants not listed by either function get the defaults
 * (archive_after, the retention policy's default_retention), as the
 * retention job treats them.
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include "access/htup_details.h"
#include "catalog/pg_class.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/regproc.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/uuid.h"

#include "archive.h"
#include "compress.h"
#include "compress_build.h"
#include "job.h"
#include "policy.h"
#include "policy_int.h"
#include "util.h"

PG_FUNCTION_INFO_V1(telos_archive_job);

/* One tenant's instants (see above). */
typedef struct TenantEdge
{
	pg_uuid_t	tenant;
	TimestampTz keep;
	TimestampTz hot;
} TenantEdge;

/* Everything a run decides with. */
typedef struct ArchiveWindows
{
	bool		has_retention;	/* the hypertable has a retention policy */
	TimestampTz default_keep;
	TimestampTz default_hot;
	int			n;
	TenantEdge *t;				/* listed tenants, sorted by id, unique */
	TimestampTz all_cold;		/* min over tenants of max(hot, keep) */
	TimestampTz none_keeps;		/* min over tenants of keep */
	bool		per_tenant;		/* rel has tenant_id uuid */
} ArchiveWindows;

/* What a step needs. */
typedef struct ArchiveStep
{
	const ArchivePolicy *policy;
	const ArchiveWindows *w;
	int64		id;
} ArchiveStep;

static TimestampTz
minus(TimestampTz t, const Interval *i)
{
	return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_mi_interval,
												   TimestampTzGetDatum(t),
												   IntervalPGetDatum(i)));
}

static int
cmp_edge(const void *a, const void *b)
{
	return memcmp(&((const TenantEdge *) a)->tenant, &((const TenantEdge *) b)->tenant,
				  sizeof(pg_uuid_t));
}

/*
 * Adds fn()'s rows to edges: for each tenant, keep (is_keep) or hot =
 * now - interval; a NULL interval means the default. A tenant listed twice
 * keeps the longer window (the earlier instant). SPI connected.
 */
static void
add_tenant_rows(Oid fn, bool is_keep, TimestampTz now, TimestampTz dflt,
				TenantEdge **edges, int *n, int *cap, MemoryContext cxt)
{
	char	   *sql = psprintf("SELECT t.a, t.b FROM %s.%s() AS t(a, b)",
							   quote_identifier(get_namespace_name(get_func_namespace(fn))),
							   quote_identifier(get_func_name(fn)));
	uint64		rows;

	if (SPI_execute(sql, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not run %s", sql);
	rows = SPI_processed;
	for (uint64 i = 0; i < rows; i++)
	{
		bool		null_t,
					null_i;
		Datum		t = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &null_t);
		Datum		iv = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &null_i);
		TimestampTz at = dflt;
		TenantEdge *e;

		if (null_t)
			continue;
		if (!null_i)
		{
			if (!job_interval_positive(DatumGetIntervalP(iv)))
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("%s returned an interval that is not positive for tenant %s",
								format_procedure(fn),
								DatumGetCString(DirectFunctionCall1(uuid_out, t)))));
			at = minus(now, DatumGetIntervalP(iv));
		}
		if (*n == *cap)
		{
			/* In cxt: SPI's memory goes at SPI_finish. */
			*cap = *cap * 2 + 16;
			*edges = *edges ? repalloc(*edges, sizeof(TenantEdge) * *cap)
				: MemoryContextAlloc(cxt, sizeof(TenantEdge) * *cap);
		}
		e = &(*edges)[(*n)++];
		memcpy(&e->tenant, DatumGetUUIDP(t), sizeof(pg_uuid_t));
		/* The other instant is filled in by merge_edges. */
		e->keep = is_keep ? at : DT_NOEND;
		e->hot = is_keep ? DT_NOEND : at;
	}
}

/*
 * Sorts edges and merges duplicates: per tenant the earliest keep and hot
 * given, and the defaults for what no function gave (DT_NOEND marks
 * "not given").
 */
static int
merge_edges(TenantEdge *e, int n, TimestampTz default_keep, TimestampTz default_hot)
{
	int			k = 0;

	if (n == 0)
		return 0;
	qsort(e, n, sizeof(TenantEdge), cmp_edge);
	for (int i = 0; i < n; i++)
	{
		if (k > 0 && cmp_edge(&e[k - 1], &e[i]) == 0)
		{
			/* Same tenant: given values win over the unset mark. */
			if (e[i].keep != DT_NOEND)
				e[k - 1].keep = e[k - 1].keep == DT_NOEND ? e[i].keep : Min(e[k - 1].keep, e[i].keep);
			if (e[i].hot != DT_NOEND)
				e[k - 1].hot = e[k - 1].hot == DT_NOEND ? e[i].hot : Min(e[k - 1].hot, e[i].hot);
		}
		else
			e[k++] = e[i];
	}
	for (int i = 0; i < k; i++)
	{
		if (e[i].keep == DT_NOEND)
			e[i].keep = default_keep;
		if (e[i].hot == DT_NOEND)
			e[i].hot = default_hot;
	}
	return k;
}

/* The windows of a run of policy p at now. */
static void
compute_windows(const ArchivePolicy *p, TimestampTz now, ArchiveWindows *w)
{
	int32		retention_job = job_find_by_proc_and_rel(RETENTION_PROC, p->rel);
	Oid			retention_fn = InvalidOid;
	int			cap = 0;
	AttrNumber	att;

	memset(w, 0, sizeof(*w));
	TIMESTAMP_NOBEGIN(w->default_keep);
	w->default_hot = minus(now, &p->archive_after);
	att = get_attnum(p->rel, "tenant_id");
	w->per_tenant = att != InvalidAttrNumber && get_atttype(p->rel, att) == UUIDOID;

	if (retention_job != 0)
	{
		JobDef	   *job = job_fetch(retention_job, true);

		if (job != NULL)
		{
			const char *what = "retention policy";
			Interval	dr;
			char	   *fn;

			w->has_retention = true;
			if (policy_config_interval(job->config, "default_retention", what, &dr))
				w->default_keep = minus(now, &dr);
			fn = policy_config_string(job->config, "tenant_retention_fn", what);
			if (fn != NULL && w->per_tenant)
			{
				retention_fn = DatumGetObjectId(DirectFunctionCall1(regprocedurein,
																	CStringGetDatum(fn)));
				policy_check_tenant_fn(retention_fn, GetUserId(), "tenant_retention_fn");
			}
		}
	}

	if (w->per_tenant && (OidIsValid(retention_fn) || OidIsValid(p->tenant_fn)))
	{
		int			nestlevel = telos_pin_search_path();
		MemoryContext cxt = CurrentMemoryContext;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (OidIsValid(retention_fn))
			add_tenant_rows(retention_fn, true, now, w->default_keep, &w->t, &w->n, &cap, cxt);
		if (OidIsValid(p->tenant_fn))
			add_tenant_rows(p->tenant_fn, false, now, w->default_hot, &w->t, &w->n, &cap, cxt);
		SPI_finish();
		telos_unpin_gucs(nestlevel);
		w->n = merge_edges(w->t, w->n, w->default_keep, w->default_hot);
	}

	/* The default stands for the tenants no function lists. */
	w->all_cold = Max(w->default_hot, w->default_keep);
	w->none_keeps = w->default_keep;
	for (int i = 0; i < w->n; i++)
	{
		w->all_cold = Min(w->all_cold, Max(w->t[i].hot, w->t[i].keep));
		w->none_keeps = Min(w->none_keeps, w->t[i].keep);
	}
}

/*
 * The listed tenants whose retention has passed chunks ending at end, as a
 * Datum array (palloc'd); *listed gets every listed tenant.
 */
static Datum *
expired_tenants(const ArchiveWindows *w, TimestampTz end, int *nexpired, Datum **listed)
{
	Datum	   *out = palloc(sizeof(Datum) * Max(w->n, 1));

	*listed = palloc(sizeof(Datum) * Max(w->n, 1));
	*nexpired = 0;
	for (int i = 0; i < w->n; i++)
	{
		(*listed)[i] = UUIDPGetDatum(&w->t[i].tenant);
		if (w->t[i].keep >= end)
			out[(*nexpired)++] = UUIDPGetDatum(&w->t[i].tenant);
	}
	return out;
}

/*
 * Whether chunk relid still holds rows of tenants whose retention passed it
 * (retention has not deleted them yet). As the hypertable's owner, every
 * tenant's rows visible.
 */
static bool
holds_expired_rows(const ArchiveWindows *w, Oid hypertable, Oid relid, TimestampTz end)
{
	int			nexp;
	Datum	   *listed;
	Datum	   *exp = expired_tenants(w, end, &nexp, &listed);
	bool		unlisted = w->default_keep >= end;
	TelosUserState us;
	int			nestlevel;
	bool		isnull;
	bool		found;
	Oid			owner = policy_owner(hypertable);

	if (!w->per_tenant || (nexp == 0 && !unlisted))
		return false;

	nestlevel = telos_pin_search_path();
	telos_become(owner, &us);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	telos_spi_exec(psprintf("SELECT EXISTS (SELECT 1 FROM %s WHERE tenant_id = ANY ($1)"
							" OR ($3 AND tenant_id <> ALL ($2)))",
							telos_qualified_relname(relid)),
				   3, (Oid[]) {UUIDARRAYOID, UUIDARRAYOID, BOOLOID},
				   (Datum[]) {
					   PointerGetDatum(construct_array(exp, nexp, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR)),
					   PointerGetDatum(construct_array(listed, w->n, UUIDOID, UUID_LEN, false, TYPALIGN_CHAR)),
					   BoolGetDatum(unlisted)},
				   NULL);
	found = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	telos_restore_user(&us);
	telos_unpin_gucs(nestlevel);
	return found;
}

/* Whether rel's compressed chunks are segmented by tenant_id first. */
static bool
segmented_by_tenant(Oid rel)
{
	SegLayout  *layout = compress_layout_get(rel);

	return layout->nsegby > 0 &&
		strcmp(get_attname(rel, layout->segby_attno[0], false), "tenant_id") == 0;
}

/* Step: archive one active or compressed chunk, if it may go cold now. */
static void
archive_step(void *arg)
{
	ArchiveStep *s = arg;
	ChunkInfo  *info = policy_chunk_info(s->id);

	if (info == NULL ||
		(strcmp(info->state, "active") != 0 && strcmp(info->state, "compressed") != 0))
		return;
	if (info->range_end > s->w->all_cold || info->range_end <= s->w->none_keeps)
		return;
	if (holds_expired_rows(s->w, info->hypertable, info->relid, info->range_end))
	{
		ereport(NOTICE,
				(errmsg("chunk \"%s\" is not archived yet: it holds rows whose retention has ended",
						get_rel_name(info->relid)),
				 errdetail("The retention policy deletes them first.")));
		return;
	}
	(void) archive_chunk_rel(info, s->policy->location);
}

/*
 * Step: retention and late rows of one archived chunk -- dropped when no
 * tenant keeps it, its expired tenants' segments purged, rows written into
 * it merged into a new file.
 */
static void
archived_step(void *arg)
{
	ArchiveStep *s = arg;
	const ArchiveWindows *w = s->w;
	ChunkInfo  *info = policy_chunk_info(s->id);

	if (info == NULL || strcmp(info->state, "archived") != 0)
		return;
	if (w->has_retention && info->range_end <= w->none_keeps)
	{
		TelosUserState us;
		int			nestlevel = telos_pin_search_path();
		Oid			owner = policy_owner(info->hypertable);
		/* Catalog and file follow through the sql_drop event triggers. */
		telos_become(owner, &us);
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		telos_spi_exec(psprintf("DROP FOREIGN TABLE %s", telos_qualified_relname(info->relid)),
					   0, NULL, NULL, NULL);
		SPI_finish();
		telos_restore_user(&us);
		telos_unpin_gucs(nestlevel);
		return;
	}
	if (w->per_tenant && segmented_by_tenant(info->hypertable))
	{
		int			nexp;
		Datum	   *listed;
		Datum	   *exp = expired_tenants(w, info->range_end, &nexp, &listed);
		bool		unlisted = w->default_keep >= info->range_end;

		if (nexp > 0 || unlisted)
			(void) archive_purge_segments(info, "tenant_id", UUIDOID, exp, nexp,
										  listed, w->n, unlisted);
	}
	if (archive_delta_has_rows(info->id))
		(void) archive_chunk_rel(info, s->policy->location);
}

static void
sweep_step(void *arg)
{
	/* An hour's margin on top of the lock: files are never that young. */
	(void) archive_sweep(3600.0, NULL, NULL);
}

/*
 * CALL telos.archive_job(job_id integer, config jsonb)
 */
Datum
telos_archive_job(PG_FUNCTION_ARGS)
{
	ArchivePolicy p;
	ArchiveWindows w;
	PolicyRun	r;
	PolicyChunk *chunks;
	int			n;

	telos_arg_notnull(fcinfo, 1, "config");
	policy_archive_parse(PG_GETARG_JSONB_P(1), GetUserId(), &p);
	compute_windows(&p, GetCurrentTransactionStartTimestamp(), &w);
	chunks = policy_list_chunks(p.rel, "'active', 'compressed', 'archived'", &n);

	policy_run_start(&r, fcinfo, "archive job");
	for (int i = 0; i < n; i++)
	{
		ArchiveStep s = {&p, &w, chunks[i].id};
		bool		archived = strcmp(chunks[i].state, "archived") == 0;

		/* Chunks still hot for some tenant are not even visited. */
		if (!archived && chunks[i].range_end > w.all_cold)
			continue;
		policy_run_step(&r, archived ? archived_step : archive_step, &s,
						psprintf("chunk %s", chunks[i].name));
	}
	policy_run_step(&r, sweep_step, NULL, "sweep of the archive directory");
	policy_run_end(&r);
	PG_RETURN_VOID();
}
