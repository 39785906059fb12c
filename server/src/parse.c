/*
 * parse.c -- strict request-value validators (see parse.h).
 *
 * We validate in C before anything reaches PostgreSQL so that one bad row is
 * reported with its position instead of aborting the whole statement.
 */
#include "parse.h"

#include <ctype.h>
#include <string.h>

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

static int is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
    static const int d[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian), after H. Hinnant. */
static int64_t days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int parse_rfc3339(const char *s, int64_t *us)
{
    int y, mo, d, h, mi, se;
    if (s == NULL || strlen(s) < 20)
        return -1;
    if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) ||
        s[7] != '-' || digits(s + 8, 2, &d) ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        digits(s + 11, 2, &h) || s[13] != ':' || digits(s + 14, 2, &mi) ||
        s[16] != ':' || digits(s + 17, 2, &se))
        return -1;
    if (y < 1 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
        h > 23 || mi > 59 || se > 59)
        return -1;
    const char *p = s + 19;
    int64_t frac = 0;
    if (*p == '.') {
        int n = 0;
        p++;
        while (*p >= '0' && *p <= '9') {
            if (n < 6)
                frac = frac * 10 + (*p - '0');
            n++;
            p++;
        }
        if (n == 0)
            return -1;
        for (; n < 6; n++)
            frac *= 10;
    }
    int offset_min = 0;
    if (*p == 'Z' || *p == 'z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int oh, om;
        if (digits(p + 1, 2, &oh) || p[3] != ':' || digits(p + 4, 2, &om) ||
            oh > 23 || om > 59)
            return -1;
        offset_min = (oh * 60 + om) * (*p == '-' ? -1 : 1);
        p += 6;
    } else {
        return -1;
    }
    if (*p != '\0')
        return -1;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se
                   - (int64_t)offset_min * 60;
    *us = secs * 1000000 + frac;
    return 0;
}

int parse_is_uuid(const char *s)
{
    if (s == NULL || strlen(s) != 36)
        return 0;
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)s[i])) {
            return 0;
        }
    }
    return 1;
}

int parse_is_metric_type(const char *s)
{
    if (s == NULL || !(s[0] >= 'a' && s[0] <= 'z'))
        return 0;
    size_t n = strlen(s);
    if (n > 63)
        return 0;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return 0;
    }
    return 1;
}

int parse_is_node(const char *s)
{
    static const char *const kinds[] = {"metric:", "event:", "goal:",
                                        "external_factor:"};
    if (s == NULL)
        return 0;
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        size_t k = strlen(kinds[i]);
        if (strncmp(s, kinds[i], k) != 0)
            continue;
        size_t n = strlen(s + k);
        if (n < 1 || n > 200)
            return 0;
        for (const unsigned char *c = (const unsigned char *)s + k; *c; c++)
            if (*c < 0x20 || *c == 0x7f)
                return 0;
        return 1;
    }
    return 0;
}

int parse_is_edge_types(const char *s)
{
    static const char *const types[] = {"causes", "correlates", "inhibits",
                                        "supports", "influenced_by"};
    if (s == NULL || *s == '\0')
        return 0;
    for (;;) {
        size_t l = strcspn(s, ",");
        int ok = 0;
        for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
            ok |= strlen(types[i]) == l && strncmp(s, types[i], l) == 0;
        if (!ok)
            return 0;
        if (s[l] == '\0')
            return 1;
        s += l + 1;   /* past the comma: an empty item after it fails */
    }
}

static void add_error(json_t *errors, const char *field, const char *msg)
{
    json_array_append_new(errors, json_pack("{s:s, s:s}", "field", field,
                                            "message", msg));
}

static int all_elements(const json_t *arr, int (*ok)(const json_t *))
{
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
        if (!ok(v))
            return 0;
    return 1;
}

static int elem_uuid(const json_t *v)
{
    return json_is_string(v) && parse_is_uuid(json_string_value(v));
}

static int elem_string(const json_t *v)
{
    return json_is_string(v);
}

/* NULL when v has the kind, else the message to report. */
static const char *kind_error(const json_t *v, parse_kind k)
{
    int64_t us;
    switch (k) {
    case PF_STRING:
        return json_is_string(v) ? NULL : "must be a string";
    case PF_UUID:
        return json_is_string(v) && parse_is_uuid(json_string_value(v))
                   ? NULL : "must be a UUID string";
    case PF_OBJECT:
        return json_is_object(v) ? NULL : "must be an object";
    case PF_ARRAY:
        return json_is_array(v) ? NULL : "must be an array";
    case PF_NUMBER:
        return json_is_number(v) ? NULL : "must be a number";
    case PF_INTEGER:
        return json_is_integer(v) ? NULL : "must be an integer";
    case PF_BOOLEAN:
        return json_is_boolean(v) ? NULL : "must be true or false";
    case PF_METRIC_TYPE:
        return json_is_string(v) && parse_is_metric_type(json_string_value(v))
                   ? NULL
                   : "must match ^[a-z][a-z0-9_]{0,62}$";
    case PF_TIMESTAMP:
        return json_is_string(v) && parse_rfc3339(json_string_value(v), &us) == 0
                   ? NULL : "must be an RFC 3339 date-time with a zone";
    case PF_UUID_ARRAY:
        return json_is_array(v) && all_elements(v, elem_uuid)
                   ? NULL : "must be an array of UUID strings";
    case PF_STRING_ARRAY:
        return json_is_array(v) && all_elements(v, elem_string)
                   ? NULL : "must be an array of strings";
    case PF_ANY:
        return NULL;
    }
    return "has an unknown kind";
}

int parse_check_object(const json_t *obj, const parse_field *fields,
                       int nfields, json_t *errors)
{
    int problems = 0;
    if (!json_is_object(obj)) {
        add_error(errors, "", "the body must be a JSON object");
        return 1;
    }
    for (int i = 0; i < nfields; i++) {
        const json_t *v = json_object_get(obj, fields[i].name);
        if (v == NULL) {
            if (fields[i].required) {
                add_error(errors, fields[i].name, "is required");
                problems++;
            }
            continue;
        }
        if (json_is_null(v)) {
            if (!fields[i].nullable || fields[i].required) {
                add_error(errors, fields[i].name, "must not be null");
                problems++;
            }
            continue;
        }
        const char *msg = kind_error(v, fields[i].kind);
        if (msg) {
            add_error(errors, fields[i].name, msg);
            problems++;
        }
    }
    const char *key;
    const json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        int known = 0;
        for (int i = 0; i < nfields && !known; i++)
            known = strcmp(key, fields[i].name) == 0;
        if (!known) {
            add_error(errors, key, "is not a known member");
            problems++;
        }
    }
    return problems;
}
