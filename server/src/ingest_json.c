/*
 * ingest_json.c -- the JSON readers of ingest: a JSON array of objects, and
 * NDJSON (one object per line).
 *
 * The array is not decoded as a whole: a scanner finds each element's
 * extent (tracking strings and nesting) and jansson decodes one element at a
 * time, so memory does not grow with the batch and every element's line is
 * known. A body that is not valid JSON is refused as a whole (the client
 * sent something other than what it declared), with the line and column of
 * the fault; a well-formed element of the wrong shape is a rejected row.
 *
 * NDJSON lines are independent documents, so a malformed line is only a
 * rejected row.
 */
#include "ingest_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Decoding flags: numbers all as double (an integer beyond int64 must not
 * be an error), duplicate members refused, any value at the top so that a
 * non-object element is a row reject rather than a syntax error. */
#define JFLAGS (JSON_DECODE_INT_AS_REAL | JSON_REJECT_DUPLICATES | JSON_DECODE_ANY)

void ingest_record_from_json(ingest_record *rec, const json_t *obj)
{
    if (!json_is_object(obj)) {
        rec->reason = "a record must be a JSON object {\"time\", "
                      "\"metric_type\", \"value\"}";
        return;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        if (strcmp(key, "time") == 0) {
            if (!json_is_string(v)) {
                rec->field = "time";
                rec->reason = "time must be a string (an RFC 3339 date-time)";
                return;
            }
            rec->time = json_string_value(v);
            rec->time_len = json_string_length(v);
        } else if (strcmp(key, "metric_type") == 0) {
            if (!json_is_string(v)) {
                rec->field = "metric_type";
                rec->reason = "metric_type must be a string";
                return;
            }
            rec->metric_type = json_string_value(v);
            rec->metric_type_len = json_string_length(v);
        } else if (strcmp(key, "value") == 0) {
            if (!json_is_number(v)) {
                rec->field = "value";
                rec->reason = "value must be a number";
                return;
            }
            rec->value = json_number_value(v);
            rec->has_value = 1;
        } else if (strcmp(key, "source") == 0) {
            if (json_is_null(v))
                continue;
            if (!json_is_string(v)) {
                rec->field = "source";
                rec->reason = "source must be a data source UUID";
                return;
            }
            rec->source = json_string_value(v);
            rec->source_len = json_string_length(v);
            if (rec->source_len == 0) {   /* "" is not "no source" in JSON */
                rec->field = "source";
                rec->reason = "source must be a data source UUID";
                return;
            }
        } else {
            snprintf(rec->reason_buf, sizeof rec->reason_buf,
                     "unknown member '%.40s' (allowed: time, metric_type, "
                     "value, source)", key);
            rec->field = NULL;
            rec->reason = rec->reason_buf;
            return;
        }
    }
}

/* --- the fast path --------------------------------------------------------- */

static int is_json_ws(char c);

/* s[0..n) is a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int is_json_number(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i < n && s[i] == '0') {
        i++;
    } else if (i < n && s[i] >= '1' && s[i] <= '9') {
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
    } else {
        return 0;
    }
    if (i < n && s[i] == '.') {
        size_t d = ++i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return 0;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d = i;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return 0;
    }
    return i == n;
}

int ingest_json_flat(const char *p, size_t n, ingest_record *out)
{
    /* Filled locally: a bail-out half way leaves *out untouched for the
     * jansson path. */
    ingest_record r = *out, *rec = &r;
    size_t i = 0;
    unsigned seen = 0;
#define WS() while (i < n && is_json_ws(p[i])) i++
    WS();
    if (i >= n || p[i++] != '{')
        return 0;
    WS();
    if (i < n && p[i] == '}') {
        i++;
        goto end;
    }
    for (;;) {
        /* key: a plain string */
        if (i >= n || p[i++] != '"')
            return 0;
        size_t k = i;
        while (i < n && p[i] != '"' && p[i] != '\\' &&
               (unsigned char)p[i] >= 0x20 && (unsigned char)p[i] < 0x7f)
            i++;
        if (i >= n || p[i] != '"')
            return 0;
        size_t klen = i++ - k;
        int which;
        if (klen == 4 && memcmp(p + k, "time", 4) == 0)
            which = 0;
        else if (klen == 11 && memcmp(p + k, "metric_type", 11) == 0)
            which = 1;
        else if (klen == 5 && memcmp(p + k, "value", 5) == 0)
            which = 2;
        else if (klen == 6 && memcmp(p + k, "source", 6) == 0)
            which = 3;
        else
            return 0;   /* jansson reports the unknown member */
        if (seen & (1u << which))
            return 0;   /* duplicate: jansson refuses it */
        seen |= 1u << which;
        WS();
        if (i >= n || p[i++] != ':')
            return 0;
        WS();
        if (i >= n)
            return 0;
        if (which == 2) {
            size_t v = i;
            while (i < n && (p[i] == '-' || p[i] == '+' || p[i] == '.' ||
                             p[i] == 'e' || p[i] == 'E' ||
                             (p[i] >= '0' && p[i] <= '9')))
                i++;
            char num[64];
            if (i - v >= sizeof num || !is_json_number(p + v, i - v))
                return 0;
            memcpy(num, p + v, i - v);
            num[i - v] = '\0';
            rec->value = strtod(num, NULL);
            if (!isfinite(rec->value))
                return 0;   /* overflow: jansson's error decides */
            rec->has_value = 1;
        } else if (which == 3 && n - i >= 4 && memcmp(p + i, "null", 4) == 0) {
            i += 4;
        } else {
            if (p[i++] != '"')
                return 0;
            size_t v = i;
            while (i < n && p[i] != '"' && p[i] != '\\' &&
                   (unsigned char)p[i] >= 0x20 && (unsigned char)p[i] < 0x7f)
                i++;
            if (i >= n || p[i] != '"')
                return 0;
            size_t vlen = i++ - v;
            if (which == 0) {
                rec->time = p + v;
                rec->time_len = vlen;
            } else if (which == 1) {
                rec->metric_type = p + v;
                rec->metric_type_len = vlen;
            } else {
                if (vlen == 0)
                    return 0;   /* the slow path words the reject */
                rec->source = p + v;
                rec->source_len = vlen;
            }
        }
        WS();
        if (i < n && p[i] == ',') {
            i++;
            WS();
            continue;
        }
        if (i < n && p[i] == '}') {
            i++;
            break;
        }
        return 0;
    }
end:
    WS();
#undef WS
    if (i != n)
        return 0;
    *out = r;
    return 1;
}

/* A decode failure that is a property of one record rather than of the
 * JSON text: a duplicate member, or a number beyond double. */
static void record_decode_error(ingest_record *rec, const json_error_t *e)
{
    switch (json_error_code(e)) {
    case json_error_duplicate_key:
        rec->reason = "a member appears twice";
        break;
    case json_error_numeric_overflow:
        rec->field = "value";
        rec->reason = "value must be a finite number";
        break;
    default:
        break;
    }
}

static int is_json_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* --- NDJSON ------------------------------------------------------------------ */

int ingest_ndjson_read(ingest_reader *r, const ingest_rules *rules,
                       ingest_batch *b, size_t max)
{
    const char *buf = r->buf;
    for (size_t n = 0;; n++) {
        /* skip blank lines */
        for (;;) {
            size_t i = r->pos;
            while (i < r->len && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r'))
                i++;
            if (i < r->len && buf[i] == '\n') {
                r->pos = i + 1;
                r->line++;
                continue;
            }
            if (i == r->len)
                r->pos = i;
            break;
        }
        if (r->pos >= r->len) {
            r->done = 1;
            return 0;
        }
        if (n == max)
            return 1;
        const char *start = buf + r->pos;
        const char *nl = memchr(start, '\n', r->len - r->pos);
        size_t llen = nl ? (size_t)(nl - start) : r->len - r->pos;
        ingest_record rec = {.line = r->line, .index = -1};
        json_error_t e;
        json_t *o = NULL;
        if (ingest_json_flat(start, llen, &rec))
            ;   /* the common shape, decoded without jansson */
        else if ((o = json_loadb(start, llen, JFLAGS, &e)) == NULL) {
            record_decode_error(&rec, &e);
            if (rec.reason == NULL) {
                snprintf(rec.reason_buf, sizeof rec.reason_buf,
                         "malformed JSON at column %d: %.120s", e.column, e.text);
                rec.reason = rec.reason_buf;
            }
        } else {
            ingest_record_from_json(&rec, o);
        }
        r->index++;
        ingest_take(rules, b, &rec);
        json_decref(o);
        r->pos += llen + (nl != NULL);
        r->line++;
        if (b->oom)
            return -1;
    }
}

/* --- JSON array --------------------------------------------------------------- */

/* Skip JSON white space, counting lines. */
static void skip_ws(ingest_reader *r)
{
    while (r->pos < r->len && is_json_ws(r->buf[r->pos])) {
        if (r->buf[r->pos] == '\n')
            r->line++;
        r->pos++;
    }
}

/* 1-based column of buf[pos] on its line. */
static size_t column_of(const ingest_reader *r, size_t pos)
{
    const char *nl = pos ? memrchr(r->buf, '\n', pos) : NULL;
    return nl ? (size_t)(r->buf + pos - nl) : pos + 1;
}

int ingest_jsonarr_open(ingest_reader *r, char *err, size_t errlen)
{
    skip_ws(r);
    if (r->pos >= r->len) {
        snprintf(err, errlen, "the body is empty; send a JSON array of "
                 "{time, metric_type, value} objects");
        return -1;
    }
    if (r->buf[r->pos] != '[') {
        snprintf(err, errlen, "the body must be a JSON array of {time, "
                 "metric_type, value} objects (line %zu, column %zu)",
                 r->line, column_of(r, r->pos));
        return -1;
    }
    r->pos++;
    r->first = 1;
    return 0;
}

/* Find the end of the element starting at r->pos: the first ',' or ']'
 * outside strings and nesting. Counts lines. 0, or -1 at the end of input. */
static int element_end(ingest_reader *r, size_t *end)
{
    const char *buf = r->buf;
    size_t i = r->pos, depth = 0;
    while (i < r->len) {
        char c = buf[i];
        if (c == '"') {
            for (i++; i < r->len && buf[i] != '"'; i++) {
                if (buf[i] == '\\')
                    i++;
                else if (buf[i] == '\n')
                    r->line++;
            }
            if (i >= r->len)
                return -1;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (depth > 0)
                depth--;
            else if (c == ']')
                break;
        } else if (c == ',' && depth == 0) {
            break;
        } else if (c == '\n') {
            r->line++;
        }
        i++;
    }
    if (i >= r->len)
        return -1;
    *end = i;
    return 0;
}

int ingest_jsonarr_read(ingest_reader *r, const ingest_rules *rules,
                        ingest_batch *b, size_t max, char *err, size_t errlen)
{
    if (r->done)
        return 0;
    for (size_t n = 0;; n++) {
        skip_ws(r);
        if (r->pos >= r->len) {
            snprintf(err, errlen, "unexpected end of the body: the JSON array "
                     "is not closed with ']'");
            return -1;
        }
        char c = r->buf[r->pos];
        /* r->first: 1 = after '[', 2 = after ',', 0 = after an element */
        if (r->first != 2 && c == ']') {
            r->pos++;
            skip_ws(r);
            if (r->pos < r->len) {
                snprintf(err, errlen, "unexpected text after the JSON array "
                         "at line %zu, column %zu", r->line,
                         column_of(r, r->pos));
                return -1;
            }
            r->done = 1;
            return 0;
        }
        if (r->first == 0) {
            if (c != ',') {
                snprintf(err, errlen, "malformed JSON at line %zu, column %zu:"
                         " expected ',' or ']' after an array element",
                         r->line, column_of(r, r->pos));
                return -1;
            }
            r->pos++;
            r->first = 2;
            skip_ws(r);
            if (r->pos >= r->len)
                continue;   /* reported above */
            c = r->buf[r->pos];
        }
        if (c == ']' || c == ',') {
            snprintf(err, errlen, "malformed JSON at line %zu, column %zu: "
                     "an array element is missing", r->line,
                     column_of(r, r->pos));
            return -1;
        }
        if (n == max)
            return 1;

        size_t start = r->pos, line = r->line, end;
        if (element_end(r, &end) < 0) {
            snprintf(err, errlen, "unexpected end of the body inside the "
                     "array element that starts at line %zu (a string, "
                     "object or the JSON array is not closed)", line);
            return -1;
        }
        /* trailing white space belongs to no element */
        size_t stop = end;
        while (stop > start && is_json_ws(r->buf[stop - 1]))
            stop--;
        ingest_record rec = {.line = line, .index = (long)r->index};
        json_error_t e;
        json_t *o = NULL;
        if (ingest_json_flat(r->buf + start, stop - start, &rec))
            ;   /* the common shape, decoded without jansson */
        else if ((o = json_loadb(r->buf + start, stop - start, JFLAGS, &e)) == NULL) {
            record_decode_error(&rec, &e);
            if (rec.reason == NULL) {
                size_t eline = line + (size_t)(e.line > 0 ? e.line - 1 : 0);
                size_t ecol = e.line <= 1
                                  ? column_of(r, start) + (size_t)(e.column > 0 ? e.column - 1 : 0)
                                  : (size_t)(e.column > 0 ? e.column : 0);
                snprintf(err, errlen, "malformed JSON at line %zu, column "
                         "%zu: %s", eline, ecol, e.text);
                return -1;
            }
        } else {
            ingest_record_from_json(&rec, o);
        }
        r->index++;
        ingest_take(rules, b, &rec);
        json_decref(o);
        r->pos = end;
        r->first = 0;
        if (b->oom)
            return -1;
    }
}
