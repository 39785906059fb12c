/*
 * ingest.h -- metric ingest shared by POST /v1/metrics and `telos ingest`:
 * parsing of the three body formats, per-row validation, and the write path.
 *
 * Data flow:
 *   ingest_rules_load()      the tenant's metric types and retention cutoff
 *   ingest_reader_open()     BOM, CSV header or the JSON array's '['
 *   ingest_read()            records -> validated rows, encoded at once as
 *                            binary COPY tuples in an ingest_batch (about 60
 *                            bytes a row), or rejects with line and reason
 *   ingest_ensure_chunks()   telos.ensure_chunks() for the batch's time
 *                            ranges, in its own short transaction
 *   ingest_write()           COPY (FORMAT binary) into a temp staging table,
 *                            then INSERT INTO business_metrics_raw SELECT,
 *                            which row-level security checks
 *
 * A batch never holds the parsed body: memory is the body (or the mapped
 * file) plus the encoded rows plus at most INGEST_MAX_ERRORS error objects.
 * Parsers work on (pointer, length) and never read past it; the input need
 * not be NUL-terminated and may hold any bytes (they are fuzzed in
 * server/tests/test_ingest.c).
 *
 * Formats:
 *   json    a JSON array of {"time", "metric_type", "value"[, "source"]};
 *           errors name the element ("index", 0-based) and its first line.
 *           A body that is not a JSON array as a whole is a body error.
 *   ndjson  one such object per line; a malformed line is a rejected row.
 *   csv     RFC 4180: a header naming the columns time, metric_type, value
 *           and optionally source (any order), then one row per record;
 *           quoted fields with "" escapes and line breaks; CRLF, LF or CR
 *           line ends. Errors name the line on which the record starts.
 *   All: an optional UTF-8 byte order mark; blank lines are skipped (but
 *   counted in line numbers). Times are RFC 3339 with a zone offset; values
 *   finite numbers; source an optional data source UUID.
 */
#ifndef TELOS_INGEST_H
#define TELOS_INGEST_H

#include <jansson.h>
#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "copy_binary.h"

typedef enum { INGEST_JSON, INGEST_NDJSON, INGEST_CSV } ingest_format;

/* Rejects listed in full; the rest are only counted. */
#define INGEST_MAX_ERRORS 1000

/* Format for a Content-Type header value. Parameters other than
 * charset=utf-8 (any case) are ignored; NULL or empty means JSON. Returns 0,
 * -1 for an unknown media type, -2 for another charset. */
int ingest_format_from_content_type(const char *ct, ingest_format *f);

/* Format from a name ("csv", "ndjson"/"jsonl", "json") or, when that fails,
 * from the extension of a file name (".csv", ".ndjson", ".jsonl", ".json").
 * 0 or -1. */
int ingest_format_from_name(const char *name, ingest_format *f);

/* "json", "ndjson" or "csv". */
const char *ingest_format_name(ingest_format f);

/* --- validation rules ---------------------------------------------------- */

/* What a tenant may ingest. Build with ingest_rules_add() (or load with
 * ingest_rules_load()), then ingest_rules_seal() before use. */
typedef struct ingest_type {
    char *name;          /* malloc'd */
    int derived;         /* 1 = has a calculation_formula */
} ingest_type;

typedef struct ingest_rules {
    ingest_type *types;  /* sorted by name after seal */
    size_t ntypes, cap;
    int has_cutoff;      /* 1: times before cutoff_us are rejected */
    int64_t cutoff_us;   /* microseconds since 1970-01-01 UTC */
    int oom;
} ingest_rules;

void ingest_rules_init(ingest_rules *r);

/* Add a metric type; derived = it is computed from a formula and cannot be
 * ingested. Allocation failure is remembered and reported by seal. */
void ingest_rules_add(ingest_rules *r, const char *type, int derived);

/* Sort for lookup. 0, or -1 when an allocation failed. */
int ingest_rules_seal(ingest_rules *r);

/* Free what r owns; ingest_rules_free(NULL) is a no-op. */
void ingest_rules_free(ingest_rules *r);

/* --- batches --------------------------------------------------------------- */

typedef struct ingest_batch {
    copybin copy;        /* binary COPY stream: header + a tuple per accepted
                          * row (ingest_write() adds the trailer) */
    int64_t *times;      /* accepted rows' times, for ingest_ensure_chunks() */
    size_t ntimes, times_cap;
    size_t records;      /* records read (accepted + rejected) */
    size_t accepted;
    size_t rejected;
    json_t *errors;      /* array of the first INGEST_MAX_ERRORS rejects:
                          * {"line", ["index",] ["field",] "reason"} */
    int oom;
} ingest_batch;

/* An empty batch, or NULL when out of memory. Free with ingest_batch_free. */
ingest_batch *ingest_batch_new(void);

/* Empty b for the next batch (keeps its buffers; errors are dropped). */
void ingest_batch_clear(ingest_batch *b);

/* ingest_batch_free(NULL) is a no-op. */
void ingest_batch_free(ingest_batch *b);

/* --- reading ---------------------------------------------------------------- */

typedef struct ingest_reader {
    ingest_format format;
    const char *buf;     /* input, not owned; need not be NUL-terminated */
    size_t len;
    size_t pos;          /* bytes consumed */
    size_t line;         /* 1-based line number at pos */
    size_t index;        /* records read so far */
    int ncols;           /* CSV: columns in the header */
    int col[4];          /* CSV: column index of time, metric_type, value,
                          * source (-1 = absent) */
    int first;           /* JSON array: no element read yet */
    int done;            /* end of input reached */
} ingest_reader;

/* Start reading len bytes of buf as format f: skip a byte order mark; for
 * CSV read and check the header, for JSON the opening bracket. 0, or -1
 * with a message in err when the input cannot be read at all (no header,
 * unknown column, not a JSON array). */
int ingest_reader_open(ingest_reader *r, ingest_format f, const char *buf,
                       size_t len, char *err, size_t errlen);

/* Read records into b, validating each against rules, until max records
 * were read in this call or the input ends. Returns 0 at the end of the
 * input, 1 when at least one more record follows, or -1 with a message in
 * err when the body is not well-formed as a whole (JSON syntax; rows read
 * so far stay in b). An allocation failure sets b->oom and returns -1. */
int ingest_read(ingest_reader *r, const ingest_rules *rules, ingest_batch *b,
                size_t max, char *err, size_t errlen);

/* --- the database ----------------------------------------------------------- */

/* On conn (a telos_app session with app.current_tenant_id set, inside a
 * transaction): fill rules with the tenant's metric definitions and its
 * retention cutoff: now() - the window public.tenant_retentions() gives
 * (tenants.retention, else tier_default_retention(tier)), the one the
 * retention job applies. *tenant_found is 0 when the tenant row is not
 * visible. 0, or -1 with the failing result in *fail (caller
 * PQclear()s; NULL for a connection failure, see PQerrorMessage). */
int ingest_rules_load(PGconn *conn, ingest_rules *rules, int *tenant_found,
                      PGresult **fail);

/* Make sure business_metrics_raw has chunks for every accepted row of b:
 * one telos.ensure_chunks() call per run of times (times less than 7 days
 * apart form a run, so a backfill years back does not create every chunk
 * in between). Runs as a statement of its own; call it outside a
 * transaction so the chunk creation commits before the write (ingest must
 * not hold the chunk locks for the whole COPY). A no-op when b has no row
 * or business_metrics_raw is not a registered hypertable (the telos
 * extension itself is a hard dependency: bootstrap creates it). 0, or -1 with *fail as above.
 * Sorts b->times. */
int ingest_ensure_chunks(PGconn *conn, ingest_batch *b, PGresult **fail);

/* Write the accepted rows of b for tenant_id in the open transaction of
 * conn: binary COPY into the session's temp table telos_ingest_staging
 * (created on first use, ON COMMIT DELETE ROWS; COPY into a table with row
 * level security is refused, so staging has none), then one INSERT INTO
 * business_metrics_raw ... SELECT, which the tenant policy checks. same_tx
 * is nonzero when an earlier ingest_write ran in this same transaction
 * (staging still holds those rows and is truncated first). Sets *inserted.
 * 0, or -1 with *fail as above (the transaction is then aborted). */
int ingest_write(PGconn *conn, const char *tenant_id, ingest_batch *b,
                 int same_tx, long long *inserted, PGresult **fail);

/* --- the command line ------------------------------------------------------- */

/* `telos ingest FILE --tenant UUID [--format F] [--atomic] [--batch N]`
 * (cli_ingest.c); argv holds the arguments after "ingest" and argv[-1]
 * must exist (it is the command name). Returns the exit code. */
int ingest_cmd(const telos_config *cfg, int argc, char **argv);

#endif
