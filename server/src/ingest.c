/*
 * ingest.c -- formats, validation rules, batches, and the validation of one
 * record (see ingest.h). The parsers are in ingest_csv.c and ingest_json.c,
 * the database side in ingest_db.c.
 *
 * A record is validated in this order and rejected for the first problem:
 * shape (found by the parser), time, metric_type, value, source, retention.
 * A reject reason never contains raw input bytes that are not printable
 * ASCII, so the response stays valid UTF-8 whatever the body held.
 */
#include "ingest_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse.h"

/* --- formats ----------------------------------------------------------------- */

static const char *skip_ws(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* s[0..n) equals the NUL-terminated word w, ignoring ASCII case. */
static int word_eq(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && strncasecmp(s, w, n) == 0;
}

int ingest_format_from_content_type(const char *ct, ingest_format *f)
{
    if (ct == NULL || *skip_ws(ct) == '\0') {
        *f = INGEST_JSON;
        return 0;
    }
    const char *p = skip_ws(ct);
    size_t n = strcspn(p, ";");
    const char *next = p + n;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
        n--;
    if (word_eq(p, n, "application/json"))
        *f = INGEST_JSON;
    else if (word_eq(p, n, "application/x-ndjson") ||
             word_eq(p, n, "application/ndjson") ||
             word_eq(p, n, "application/jsonl") ||
             word_eq(p, n, "application/x-jsonlines"))
        *f = INGEST_NDJSON;
    else if (word_eq(p, n, "text/csv"))
        *f = INGEST_CSV;
    else
        return -1;
    /* Parameters: only charset matters, and only UTF-8 is understood. */
    while (*next == ';') {
        p = skip_ws(next + 1);
        n = strcspn(p, ";");
        next = p + n;
        const char *eq = memchr(p, '=', n);
        if (eq == NULL)
            continue;
        size_t kn = (size_t)(eq - p);
        while (kn > 0 && (p[kn - 1] == ' ' || p[kn - 1] == '\t'))
            kn--;
        if (!word_eq(p, kn, "charset"))
            continue;
        const char *v = skip_ws(eq + 1);
        size_t vn = (size_t)(next - v);
        while (vn > 0 && (v[vn - 1] == ' ' || v[vn - 1] == '\t'))
            vn--;
        if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
            v++;
            vn -= 2;
        }
        if (!word_eq(v, vn, "utf-8") && !word_eq(v, vn, "utf8"))
            return -2;
    }
    return 0;
}

int ingest_format_from_name(const char *name, ingest_format *f)
{
    static const struct { const char *name; ingest_format f; } names[] = {
        {"csv", INGEST_CSV}, {"ndjson", INGEST_NDJSON},
        {"jsonl", INGEST_NDJSON}, {"json", INGEST_JSON},
    };
    if (name == NULL)
        return -1;
    const char *dot = strrchr(name, '.');
    for (int pass = 0; pass < 2; pass++) {
        const char *s = pass == 0 ? name : (dot ? dot + 1 : NULL);
        if (s == NULL)
            break;
        for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
            if (strcasecmp(s, names[i].name) == 0) {
                *f = names[i].f;
                return 0;
            }
        }
    }
    return -1;
}

const char *ingest_format_name(ingest_format f)
{
    switch (f) {
    case INGEST_JSON:   return "json";
    case INGEST_NDJSON: return "ndjson";
    case INGEST_CSV:    return "csv";
    }
    return "?";
}

/* --- rules --------------------------------------------------------------------- */

void ingest_rules_init(ingest_rules *r)
{
    memset(r, 0, sizeof *r);
}

void ingest_rules_add(ingest_rules *r, const char *type, int derived)
{
    if (r->oom)
        return;
    if (r->ntypes == r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        ingest_type *t = realloc(r->types, cap * sizeof *t);
        if (t == NULL) {
            r->oom = 1;
            return;
        }
        r->types = t;
        r->cap = cap;
    }
    char *name = strdup(type);
    if (name == NULL) {
        r->oom = 1;
        return;
    }
    r->types[r->ntypes].name = name;
    r->types[r->ntypes].derived = derived;
    r->ntypes++;
}

static int type_cmp(const void *a, const void *b)
{
    return strcmp(((const ingest_type *)a)->name,
                  ((const ingest_type *)b)->name);
}

int ingest_rules_seal(ingest_rules *r)
{
    if (r->oom)
        return -1;
    if (r->ntypes > 1)
        qsort(r->types, r->ntypes, sizeof *r->types, type_cmp);
    return 0;
}

void ingest_rules_free(ingest_rules *r)
{
    if (r == NULL)
        return;
    for (size_t i = 0; i < r->ntypes; i++)
        free(r->types[i].name);
    free(r->types);
    memset(r, 0, sizeof *r);
}

/* The rule for the name s[0..n), or NULL. */
static const ingest_type *rules_find(const ingest_rules *r, const char *s,
                                     size_t n)
{
    size_t lo = 0, hi = r->ntypes;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *name = r->types[mid].name;
        int c = strncmp(name, s, n);
        if (c == 0)
            c = name[n] == '\0' ? 0 : 1;
        if (c == 0)
            return &r->types[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* --- batches -------------------------------------------------------------------- */

ingest_batch *ingest_batch_new(void)
{
    ingest_batch *b = calloc(1, sizeof *b);
    if (b == NULL)
        return NULL;
    copybin_init(&b->copy);
    b->errors = json_array();
    if (b->errors == NULL) {
        free(b);
        return NULL;
    }
    copybin_header(&b->copy);
    return b;
}

void ingest_batch_clear(ingest_batch *b)
{
    copybin_clear(&b->copy);
    copybin_header(&b->copy);
    b->ntimes = 0;
    b->records = b->accepted = b->rejected = 0;
    json_array_clear(b->errors);
    b->oom = 0;
}

void ingest_batch_free(ingest_batch *b)
{
    if (b == NULL)
        return;
    copybin_free(&b->copy);
    free(b->times);
    json_decref(b->errors);
    free(b);
}

/* --- rejects ---------------------------------------------------------------------- */

void ingest_reject(ingest_batch *b, const ingest_record *rec,
                   const char *field, const char *fmt, ...)
{
    b->rejected++;
    if (json_array_size(b->errors) >= INGEST_MAX_ERRORS)
        return;
    char reason[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(reason, sizeof reason, fmt, ap);
    va_end(ap);
    for (char *p = reason; *p; p++)
        if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
            *p = '?';
    json_t *e = json_object();
    if (e == NULL) {
        b->oom = 1;
        return;
    }
    json_object_set_new(e, "line", json_integer((json_int_t)rec->line));
    if (rec->index >= 0)
        json_object_set_new(e, "index", json_integer((json_int_t)rec->index));
    if (field != NULL)
        json_object_set_new(e, "field", json_string(field));
    json_object_set_new(e, "reason", json_string(reason));
    if (json_array_append_new(b->errors, e) < 0)
        b->oom = 1;
}

/* --- validation of one record ------------------------------------------------------- */

/* s[0..n) is a metric type name: ^[a-z][a-z0-9_]{0,62}$. */
static int is_metric_name(const char *s, size_t n)
{
    if (n < 1 || n > 63 || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

/* Strict decimal number: [+-]?(D+(.D*)?|.D+)([eE][+-]?D+)? -- no hex, no
 * "inf"/"nan", no surrounding space (CSV fields are trimmed before). */
static int is_decimal(const char *s, size_t n)
{
    size_t i = 0, d = 0;
    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < n && s[i] >= '0' && s[i] <= '9')
        i++, d++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, d++;
    }
    if (d == 0)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t e = 0;
        while (i < n && s[i] >= '0' && s[i] <= '9')
            i++, e++;
        if (e == 0)
            return 0;
    }
    return i == n;
}

/* s[0..n) spells a non-finite number (nan, inf, infinity, signed). */
static int is_non_finite_word(const char *s, size_t n)
{
    if (n > 0 && (s[0] == '+' || s[0] == '-'))
        s++, n--;
    return word_eq(s, n, "nan") || word_eq(s, n, "inf") ||
           word_eq(s, n, "infinity");
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Canonical 8-4-4-4-12 hex UUID text -> 16 bytes. 0 or -1. */
static int parse_uuid_bytes(const char *s, size_t n, unsigned char out[16])
{
    if (n != 36)
        return -1;
    int k = 0;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return -1;
            i++;
            continue;
        }
        int hi = hexval(s[i]), lo = hexval(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        out[k++] = (unsigned char)(hi << 4 | lo);
        i += 2;
    }
    return 0;
}

/* Microseconds since 1970 as "YYYY-MM-DDTHH:MM:SSZ" (UTC). */
static void format_utc(int64_t us, char *out, size_t outlen)
{
    int64_t secs = us / 1000000 - (us % 1000000 < 0);
    int64_t days = secs / 86400 - (secs % 86400 < 0);
    int64_t sod = secs - days * 86400;
    /* civil_from_days, after H. Hinnant */
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    snprintf(out, outlen, "%04lld-%02lld-%02lldT%02lld:%02lld:%02lldZ",
             (long long)y, (long long)m, (long long)d, (long long)(sod / 3600),
             (long long)(sod / 60 % 60), (long long)(sod % 60));
}

static void push_time(ingest_batch *b, int64_t t)
{
    if (b->ntimes == b->times_cap) {
        size_t cap = b->times_cap ? b->times_cap * 2 : 1024;
        int64_t *p = realloc(b->times, cap * sizeof *p);
        if (p == NULL) {
            b->oom = 1;
            return;
        }
        b->times = p;
        b->times_cap = cap;
    }
    b->times[b->ntimes++] = t;
}

void ingest_take(const ingest_rules *rules, ingest_batch *b,
                 const ingest_record *rec)
{
    b->records++;
    if (rec->reason != NULL) {
        ingest_reject(b, rec, rec->field, "%s", rec->reason);
        return;
    }

    /* time */
    char tbuf[48];
    int64_t t;
    if (rec->time == NULL) {
        ingest_reject(b, rec, "time", "time is required");
        return;
    }
    if (rec->time_len >= sizeof tbuf ||
        memchr(rec->time, '\0', rec->time_len) != NULL ||
        (memcpy(tbuf, rec->time, rec->time_len), tbuf[rec->time_len] = '\0',
         parse_rfc3339(tbuf, &t) < 0)) {
        ingest_reject(b, rec, "time", "time must be an RFC 3339 date-time "
                      "with a zone offset, such as 2026-01-05T10:00:00Z");
        return;
    }

    /* metric_type */
    const char *mt = rec->metric_type;
    size_t mtn = rec->metric_type_len;
    if (mt == NULL) {
        ingest_reject(b, rec, "metric_type", "metric_type is required");
        return;
    }
    if (!is_metric_name(mt, mtn)) {
        ingest_reject(b, rec, "metric_type",
                      "metric_type must match ^[a-z][a-z0-9_]{0,62}$");
        return;
    }
    const ingest_type *def = rules_find(rules, mt, mtn);
    if (def == NULL) {
        ingest_reject(b, rec, "metric_type", "unknown metric_type '%.*s': "
                      "define it first (POST /v1/metric-definitions)",
                      (int)mtn, mt);
        return;
    }
    if (def->derived) {
        ingest_reject(b, rec, "metric_type", "metric_type '%.*s' is derived "
                      "from a calculation_formula and cannot be ingested",
                      (int)mtn, mt);
        return;
    }

    /* value */
    double v = rec->value;
    if (rec->value_text != NULL) {
        const char *s = rec->value_text;
        size_t n = rec->value_len;
        char vbuf[72];
        if (n == 0) {
            ingest_reject(b, rec, "value", "value is required");
            return;
        }
        if (is_non_finite_word(s, n)) {
            ingest_reject(b, rec, "value", "value must be a finite number");
            return;
        }
        if (n >= sizeof vbuf || !is_decimal(s, n)) {
            ingest_reject(b, rec, "value", "value must be a number");
            return;
        }
        memcpy(vbuf, s, n);
        vbuf[n] = '\0';
        v = strtod(vbuf, NULL);
    } else if (!rec->has_value) {
        ingest_reject(b, rec, "value", "value is required");
        return;
    }
    if (!isfinite(v)) {
        ingest_reject(b, rec, "value", "value must be a finite number");
        return;
    }

    /* source */
    unsigned char src[16];
    int has_src = rec->source != NULL && rec->source_len > 0;
    if (has_src && parse_uuid_bytes(rec->source, rec->source_len, src) < 0) {
        ingest_reject(b, rec, "source", "source must be a data source UUID");
        return;
    }

    /* retention */
    if (rules->has_cutoff && t < rules->cutoff_us) {
        char cut[64];
        format_utc(rules->cutoff_us, cut, sizeof cut);
        ingest_reject(b, rec, "time", "time is older than the tenant's "
                      "retention window (earliest accepted: %s)", cut);
        return;
    }

    copybin_tuple(&b->copy, 4);
    copybin_timestamptz(&b->copy, t);
    copybin_text(&b->copy, mt, mtn);
    copybin_float8(&b->copy, v);
    if (has_src)
        copybin_uuid(&b->copy, src);
    else
        copybin_null(&b->copy);
    push_time(b, t);
    if (b->copy.oom)
        b->oom = 1;
    b->accepted++;
}

/* --- reading ---------------------------------------------------------------------------- */

/* Body-level messages may quote input (jansson's "near '...'"): keep them
 * printable ASCII so they can go into a JSON response as they are. */
static int sanitized(int rc, char *err)
{
    if (rc < 0)
        for (char *p = err; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
                *p = '?';
    return rc;
}

int ingest_reader_open(ingest_reader *r, ingest_format f, const char *buf,
                       size_t len, char *err, size_t errlen)
{
    memset(r, 0, sizeof *r);
    r->format = f;
    r->buf = buf;
    r->len = len;
    r->line = 1;
    r->first = 1;
    for (int i = 0; i < 4; i++)
        r->col[i] = -1;
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
        r->pos = 3;
    switch (f) {
    case INGEST_CSV:
        return sanitized(ingest_csv_open(r, err, errlen), err);
    case INGEST_JSON:
        return sanitized(ingest_jsonarr_open(r, err, errlen), err);
    case INGEST_NDJSON:
        return 0;
    }
    snprintf(err, errlen, "unknown format");
    return -1;
}

int ingest_read(ingest_reader *r, const ingest_rules *rules, ingest_batch *b,
                size_t max, char *err, size_t errlen)
{
    int rc;
    switch (r->format) {
    case INGEST_CSV:
        rc = ingest_csv_read(r, rules, b, max);
        break;
    case INGEST_NDJSON:
        rc = ingest_ndjson_read(r, rules, b, max);
        break;
    case INGEST_JSON:
        rc = ingest_jsonarr_read(r, rules, b, max, err, errlen);
        break;
    default:
        snprintf(err, errlen, "unknown format");
        return -1;
    }
    if (b->oom) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return sanitized(rc, err);
}
