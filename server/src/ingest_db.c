/*
 * ingest_db.c -- the database side of ingest (see ingest.h): the tenant's
 * rules, chunk creation before a write, and the write itself (binary COPY
 * into a temp staging table, then INSERT ... SELECT under RLS).
 */
#include "ingest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Two rows more than a week apart get separate ensure_chunks() ranges: a
 * chunk is a week by default, so merging closer rows creates at most one
 * chunk no row needs, while a batch mixing 2019 and 2026 does not create
 * the 360 weekly chunks in between. */
#define RUN_GAP_US (INT64_C(7) * 86400 * 1000000)

/* Bytes handed to PQputCopyData at a time: libpq copies what it is given
 * into its output buffer, so the whole batch at once would double memory. */
#define COPY_CHUNK (256 * 1024)

/* Run a statement with text parameters; NULL means success with *fail
 * untouched, otherwise the result is returned for the caller to clear. */
static PGresult *run(PGconn *c, const char *sql, int n,
                     const char *const *params, PGresult **fail)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return r;
    *fail = r;
    return NULL;
}

int ingest_rules_load(PGconn *conn, ingest_rules *rules, int *tenant_found,
                      PGresult **fail)
{
    *fail = NULL;
    *tenant_found = 0;
    /* Names are ^[a-z][a-z0-9_]*$ (a CHECK on the table), so a comma list
     * needs no quoting; '*' marks a derived metric. */
    /* public.tenant_retentions() is the window the retention job applies
     * too; under RLS it yields the current tenant's row only. */
    PGresult *r = run(conn,
        "SELECT (extract(epoch FROM now() - t.retention) * 1000000)::int8, "
        "       (SELECT string_agg(d.metric_type || CASE WHEN "
        "          d.calculation_formula IS NULL THEN '' ELSE '*' END, ',') "
        "        FROM public.metric_definitions d) "
        "FROM public.tenant_retentions() t", 0, NULL, fail);
    if (r == NULL)
        return -1;
    ingest_rules_init(rules);
    if (PQntuples(r) == 1) {
        *tenant_found = 1;
        if (!PQgetisnull(r, 0, 0)) {
            rules->has_cutoff = 1;
            rules->cutoff_us = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        }
        const char *list = PQgetvalue(r, 0, 1);
        while (*list) {
            size_t n = strcspn(list, ",");
            char name[80];
            if (n > 0 && n < sizeof name) {
                memcpy(name, list, n);
                name[n] = '\0';
                int derived = name[n - 1] == '*';
                if (derived)
                    name[n - 1] = '\0';
                ingest_rules_add(rules, name, derived);
            }
            list += n + (list[n] == ',');
        }
    }
    PQclear(r);
    if (ingest_rules_seal(rules) < 0) {
        ingest_rules_free(rules);
        return -1;
    }
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int ingest_ensure_chunks(PGconn *conn, ingest_batch *b, PGresult **fail)
{
    *fail = NULL;
    if (b->ntimes == 0)
        return 0;
    qsort(b->times, b->ntimes, sizeof *b->times, cmp_i64);
    size_t nruns = 1;
    for (size_t i = 1; i < b->ntimes; i++)
        nruns += b->times[i] - b->times[i - 1] > RUN_GAP_US;
    /* Two int8[] literals, "{lo1,lo2,...}" and "{hi1,hi2,...}": at most
     * 20 digits and a separator per number. */
    size_t cap = nruns * 22 + 3;
    char *lo = malloc(cap), *hi = malloc(cap);
    int oom = lo == NULL || hi == NULL;
    size_t lol = 0, hil = 0, i = 0;
    if (!oom) {
        lo[lol++] = '{';
        hi[hil++] = '{';
    }
    while (!oom && i < b->ntimes) {
        int64_t first = b->times[i], last = first;
        while (++i < b->ntimes && b->times[i] - last <= RUN_GAP_US)
            last = b->times[i];
        char sep = i < b->ntimes ? ',' : '}';
        lol += (size_t)snprintf(lo + lol, cap - lol, "%lld%c",
                                (long long)first, sep);
        hil += (size_t)snprintf(hi + hil, cap - hil, "%lld%c",
                                (long long)last, sep);
    }
    int rc = 0;
    PGresult *r;
    if (oom) {
        rc = -1;
    } else {
        const char *p[] = {lo, hi};
        r = run(conn,
            "SELECT sum(telos.ensure_chunks('public.business_metrics_raw', "
            "  timestamptz 'epoch' + l * interval '1 microsecond', "
            "  timestamptz 'epoch' + h * interval '1 microsecond')) "
            "FROM unnest($1::int8[], $2::int8[]) AS u(l, h) "
            /* not (yet) a hypertable: the table's partitions (or its
             * default partition) take the rows as they are */
            "WHERE EXISTS (SELECT 1 FROM telos.hypertable "
            "  WHERE relid = 'public.business_metrics_raw'::regclass)",
            2, p, fail);
        rc = r ? 0 : -1;
        PQclear(r);
    }
    free(lo);
    free(hi);
    return rc;
}

/* Drain the results of the COPY; the first failing one goes to *fail. */
static int finish_copy(PGconn *conn, PGresult **fail)
{
    int rc = 0;
    PGresult *r;
    while ((r = PQgetResult(conn)) != NULL) {
        if (PQresultStatus(r) != PGRES_COMMAND_OK && *fail == NULL) {
            *fail = r;
            rc = -1;
        } else {
            PQclear(r);
        }
    }
    return rc;
}

int ingest_write(PGconn *conn, const char *tenant_id, ingest_batch *b,
                 int same_tx, long long *inserted, PGresult **fail)
{
    *fail = NULL;
    *inserted = 0;
    if (b->accepted == 0)
        return 0;
    /* Created on the session's first ingest and kept with the pooled
     * connection; IF NOT EXISTS says NOTICE, which nobody wants logged. */
    PGresult *r = PQexec(conn,
        "SET LOCAL client_min_messages = warning; "
        "CREATE TEMP TABLE IF NOT EXISTS telos_ingest_staging ("
        "  time timestamptz NOT NULL, metric_type text NOT NULL, "
        "  value float8 NOT NULL, source uuid) ON COMMIT DELETE ROWS");
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        *fail = r;
        return -1;
    }
    PQclear(r);
    if (same_tx) {
        r = PQexec(conn, "TRUNCATE pg_temp.telos_ingest_staging");
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            *fail = r;
            return -1;
        }
        PQclear(r);
    }

    r = PQexec(conn, "COPY pg_temp.telos_ingest_staging (time, metric_type, "
               "value, source) FROM STDIN (FORMAT binary)");
    if (PQresultStatus(r) != PGRES_COPY_IN) {
        *fail = r;
        return -1;
    }
    PQclear(r);
    size_t mark = b->copy.len;
    copybin_trailer(&b->copy);
    int ok = !b->copy.oom;
    for (size_t off = 0; ok && off < b->copy.len; off += COPY_CHUNK) {
        size_t n = b->copy.len - off < COPY_CHUNK ? b->copy.len - off : COPY_CHUNK;
        ok = PQputCopyData(conn, (const char *)b->copy.p + off, (int)n) == 1;
    }
    b->copy.len = mark;   /* the batch stays appendable */
    if (PQputCopyEnd(conn, ok ? NULL : "ingest: could not send the rows") != 1)
        ok = 0;
    if (finish_copy(conn, fail) < 0 || !ok)
        return -1;

    const char *p[] = {tenant_id};
    r = run(conn,
        "INSERT INTO public.business_metrics_raw "
        "  (tenant_id, time, metric_type, value, source) "
        "SELECT $1::uuid, time, metric_type, value, source "
        "FROM pg_temp.telos_ingest_staging", 1, p, fail);
    if (r == NULL)
        return -1;
    *inserted = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return 0;
}
