/*
 * ingest_int.h -- what the ingest parsers (ingest_csv.c, ingest_json.c)
 * share with the validation in ingest.c. Not a public API: include only from
 * ingest*.c.
 */
#ifndef TELOS_INGEST_INT_H
#define TELOS_INGEST_INT_H

#include "ingest.h"

/* One record as a parser found it: (pointer, length) views into the input
 * or into the parser's scratch space. NULL = member/column absent. */
typedef struct ingest_record {
    size_t line;            /* 1-based line where the record starts */
    long index;             /* JSON array element index, or -1 */
    const char *time;
    size_t time_len;
    const char *metric_type;
    size_t metric_type_len;
    const char *value_text; /* CSV: the text of value */
    size_t value_len;
    double value;           /* JSON: the number, when has_value */
    int has_value;
    const char *source;     /* NULL or empty = no source */
    size_t source_len;
    /* A reject the parser already decided (malformed line, wrong field
     * count); validation is then skipped. */
    const char *field;
    const char *reason;
    char reason_buf[192];   /* storage for a composed reason */
} ingest_record;

/* Validate rec against rules; append it to b as a COPY tuple, or record the
 * reject. Never fails except for memory (b->oom). */
void ingest_take(const ingest_rules *rules, ingest_batch *b,
                 const ingest_record *rec);

/* Record a reject for rec (printf-style reason; non-printable and non-ASCII
 * bytes of the text are replaced by '?', so input bytes can be quoted). */
void ingest_reject(ingest_batch *b, const ingest_record *rec,
                   const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Parsers of the formats: read up to max records (see ingest_read). */
int ingest_csv_open(ingest_reader *r, char *err, size_t errlen);
int ingest_csv_read(ingest_reader *r, const ingest_rules *rules,
                    ingest_batch *b, size_t max);
int ingest_ndjson_read(ingest_reader *r, const ingest_rules *rules,
                       ingest_batch *b, size_t max);
int ingest_jsonarr_open(ingest_reader *r, char *err, size_t errlen);
int ingest_jsonarr_read(ingest_reader *r, const ingest_rules *rules,
                        ingest_batch *b, size_t max, char *err, size_t errlen);

/* The fast path of both JSON readers: decode p[0..n) when it is a flat
 * object of the usual shape -- members time, metric_type, value, source,
 * each at most once; strings of printable ASCII without escapes; value a
 * JSON number within double range; source a string or null -- and fill rec
 * as ingest_record_from_json() would from jansson's decoding. Returns 1
 * when it did; 0 (rec untouched) for anything else, which then goes
 * through jansson, so every error and corner keeps jansson's semantics. */
int ingest_json_flat(const char *p, size_t n, ingest_record *rec);

/* Fill rec from a decoded JSON object (members time, metric_type, value,
 * source); sets rec->reason for a wrong shape. */
void ingest_record_from_json(ingest_record *rec, const json_t *obj);

#endif
