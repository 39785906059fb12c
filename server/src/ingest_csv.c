/*
 * ingest_csv.c -- the CSV reader of ingest (RFC 4180 with the usual
 * leniencies): a header naming the columns, then one record per row.
 *
 * Quoted fields may hold commas, "" (one quote) and line breaks; a line
 * break is CRLF, LF or a lone CR. Spaces and tabs around a field are
 * ignored. Blank lines are skipped. A malformed record (a quote inside an
 * unquoted field, text after a closing quote, a missing closing quote, a
 * wrong number of fields) is a rejected row; the reader then goes on with
 * the next line, except after an unterminated quote, which runs to the end
 * of the input as RFC 4180 reads it.
 *
 * Fields are views into the input. A quoted field is unescaped into a small
 * scratch buffer; one too long for it keeps its raw text, which every
 * column's validation rejects by its length anyway (no valid time, name,
 * number or UUID is that long).
 */
#include "ingest_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define CSV_MAXF 4        /* fields kept per record: the most a header has */
#define CSV_SCRATCH 128   /* bytes of unescaped text kept per quoted field */

typedef struct csv_field {
    const char *p;
    size_t n;
} csv_field;

static int is_blank_char(char c)
{
    return c == ' ' || c == '\t';
}

/* Consume the line break at buf[i] (CRLF, LF or CR); returns the index
 * after it. */
static size_t skip_newline(const char *buf, size_t len, size_t i)
{
    if (buf[i] == '\r' && i + 1 < len && buf[i + 1] == '\n')
        return i + 2;
    return i + 1;
}

/* Move past blank lines. 1 when a record starts at r->pos, 0 at the end. */
static int skip_blank_lines(ingest_reader *r)
{
    const char *buf = r->buf;
    while (r->pos < r->len) {
        size_t i = r->pos;
        while (i < r->len && is_blank_char(buf[i]))
            i++;
        if (i == r->len) {
            r->pos = i;
            return 0;
        }
        if (buf[i] != '\n' && buf[i] != '\r')
            return 1;
        r->pos = skip_newline(buf, r->len, i);
        r->line++;
    }
    return 0;
}

/* Parse the record at r->pos into f (the first CSV_MAXF fields); returns
 * the number of fields. *reason is set when the record is malformed.
 * Leaves r->pos after the record's line break and r->line counted. */
static size_t csv_record(ingest_reader *r, csv_field f[CSV_MAXF],
                         char scratch[CSV_MAXF][CSV_SCRATCH],
                         const char **reason)
{
    const char *buf = r->buf;
    size_t len = r->len, i = r->pos, nf = 0;
    *reason = NULL;
    for (;;) {
        csv_field cur;
        while (i < len && is_blank_char(buf[i]))
            i++;
        if (i < len && buf[i] == '"') {
            size_t start = ++i, out = 0;
            char *sc = nf < CSV_MAXF ? scratch[nf] : NULL;
            int closed = 0;
            while (i < len) {
                char c = buf[i];
                if (c == '"') {
                    if (i + 1 < len && buf[i + 1] == '"') {
                        if (sc && out < CSV_SCRATCH)
                            sc[out] = '"';
                        out++;
                        i += 2;
                        continue;
                    }
                    closed = 1;
                    break;
                }
                if (c == '\n' || (c == '\r' && !(i + 1 < len && buf[i + 1] == '\n')))
                    r->line++;
                if (sc && out < CSV_SCRATCH)
                    sc[out] = c;
                out++;
                i++;
            }
            if (!closed) {
                *reason = "unterminated quoted field (a '\"' is missing)";
                r->pos = len;
                return nf + 1;
            }
            if (sc && out <= CSV_SCRATCH) {
                cur.p = sc;
                cur.n = out;
            } else {
                cur.p = buf + start;
                cur.n = i - start;
            }
            i++;   /* the closing quote */
            while (i < len && is_blank_char(buf[i]))
                i++;
            if (i < len && buf[i] != ',' && buf[i] != '\n' && buf[i] != '\r') {
                if (*reason == NULL)
                    *reason = "unexpected text after a closing quote";
                while (i < len && buf[i] != ',' && buf[i] != '\n' &&
                       buf[i] != '\r')
                    i++;
            }
        } else {
            size_t start = i;
            while (i < len && buf[i] != ',' && buf[i] != '\n' && buf[i] != '\r') {
                if (buf[i] == '"' && *reason == NULL)
                    *reason = "a '\"' inside an unquoted field (quote the "
                              "whole field and double the quote)";
                i++;
            }
            size_t end = i;
            while (end > start && is_blank_char(buf[end - 1]))
                end--;
            cur.p = buf + start;
            cur.n = end - start;
        }
        if (nf < CSV_MAXF)
            f[nf] = cur;
        nf++;
        if (i < len && buf[i] == ',') {
            i++;
            continue;
        }
        if (i < len) {
            i = skip_newline(buf, len, i);
            r->line++;
        }
        break;
    }
    r->pos = i;
    return nf;
}

static const char *const column_names[4] = {"time", "metric_type", "value",
                                            "source"};

int ingest_csv_open(ingest_reader *r, char *err, size_t errlen)
{
    if (!skip_blank_lines(r)) {
        snprintf(err, errlen, "the CSV has no header line; the first line "
                 "must name the columns: time,metric_type,value[,source]");
        return -1;
    }
    csv_field f[CSV_MAXF];
    char scratch[CSV_MAXF][CSV_SCRATCH];
    const char *reason;
    size_t line = r->line;
    size_t nf = csv_record(r, f, scratch, &reason);
    if (reason != NULL) {
        snprintf(err, errlen, "malformed CSV header (line %zu): %s", line,
                 reason);
        return -1;
    }
    if (nf > CSV_MAXF) {
        snprintf(err, errlen, "the CSV header has %zu columns; expected "
                 "time,metric_type,value[,source]", nf);
        return -1;
    }
    for (size_t i = 0; i < nf; i++) {
        int k = -1;
        for (int c = 0; c < 4 && k < 0; c++)
            if (f[i].n == strlen(column_names[c]) &&
                strncasecmp(f[i].p, column_names[c], f[i].n) == 0)
                k = c;
        if (k < 0) {
            /* Quote at most 40 printable characters of the name. */
            char name[41];
            size_t n = f[i].n < 40 ? f[i].n : 40;
            for (size_t j = 0; j < n; j++)
                name[j] = f[i].p[j] >= 0x20 && f[i].p[j] < 0x7f ? f[i].p[j] : '?';
            name[n] = '\0';
            snprintf(err, errlen, "unknown column '%s' in the CSV header; "
                     "expected time,metric_type,value[,source]", name);
            return -1;
        }
        if (r->col[k] >= 0) {
            snprintf(err, errlen, "column '%s' appears twice in the CSV "
                     "header", column_names[k]);
            return -1;
        }
        r->col[k] = (int)i;
    }
    for (int c = 0; c < 3; c++) {
        if (r->col[c] < 0) {
            snprintf(err, errlen, "the CSV header lacks the column '%s'; "
                     "expected time,metric_type,value[,source]",
                     column_names[c]);
            return -1;
        }
    }
    r->ncols = (int)nf;
    return 0;
}

int ingest_csv_read(ingest_reader *r, const ingest_rules *rules,
                    ingest_batch *b, size_t max)
{
    csv_field f[CSV_MAXF];
    char scratch[CSV_MAXF][CSV_SCRATCH];
    for (size_t n = 0;; n++) {
        if (!skip_blank_lines(r)) {
            r->done = 1;
            return 0;
        }
        if (n == max)
            return 1;
        ingest_record rec = {.line = r->line, .index = -1};
        const char *reason;
        size_t nf = csv_record(r, f, scratch, &reason);
        r->index++;
        if (reason != NULL) {
            rec.reason = reason;
        } else if (nf != (size_t)r->ncols) {
            snprintf(rec.reason_buf, sizeof rec.reason_buf,
                     "expected %d fields, found %zu", r->ncols, nf);
            rec.reason = rec.reason_buf;
        } else {
            rec.time = f[r->col[0]].p;
            rec.time_len = f[r->col[0]].n;
            rec.metric_type = f[r->col[1]].p;
            rec.metric_type_len = f[r->col[1]].n;
            rec.value_text = f[r->col[2]].p;
            rec.value_len = f[r->col[2]].n;
            if (r->col[3] >= 0) {
                rec.source = f[r->col[3]].p;
                rec.source_len = f[r->col[3]].n;
            }
        }
        ingest_take(rules, b, &rec);
        if (b->oom)
            return -1;
    }
}
