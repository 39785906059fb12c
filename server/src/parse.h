/*
 * parse.h -- strict validators for values that arrive in requests: RFC 3339
 * timestamps, UUIDs, metric type names, evidence graph node names and edge
 * types, and a small schema check for JSON object members. Pure functions,
 * unit-tested in server/tests/test_parse.c.
 */
#ifndef TELOS_PARSE_H
#define TELOS_PARSE_H

#include <jansson.h>
#include <stdint.h>

/* RFC 3339 date-time: YYYY-MM-DDTHH:MM:SS[.fraction](Z|+HH:MM|-HH:MM), 'T'
 * or ' ' between date and time, 't'/'z' accepted. Calendar-checked (no
 * Feb 30), years 0001-9999, leap second rejected. On success stores
 * microseconds since 1970-01-01 UTC in *us (fraction beyond 6 digits is
 * truncated) and returns 0; -1 otherwise. */
int parse_rfc3339(const char *s, int64_t *us);

/* 1 when s is a UUID in canonical 8-4-4-4-12 hex form, else 0. */
int parse_is_uuid(const char *s);

/* 1 when s is a metric type name: ^[a-z][a-z0-9_]{0,62}$, else 0. */
int parse_is_metric_type(const char *s);

/* 1 when s names a node of the evidence graph: TYPE:ID with TYPE metric,
 * event, goal or external_factor and ID 1..200 bytes without control
 * characters ("metric:revenue"), else 0. */
int parse_is_node(const char *s);

/* 1 when s is a non-empty comma-separated list of evidence edge types
 * (causes, correlates, inhibits, supports, influenced_by), else 0. */
int parse_is_edge_types(const char *s);

/* Kinds a member may be required to have. */
typedef enum {
    PF_STRING, PF_UUID, PF_OBJECT, PF_ARRAY, PF_NUMBER, PF_INTEGER,
    PF_BOOLEAN, PF_METRIC_TYPE, PF_TIMESTAMP, PF_UUID_ARRAY, PF_STRING_ARRAY,
    PF_ANY
} parse_kind;

typedef struct parse_field {
    const char *name;
    parse_kind kind;
    int required;
    int nullable;   /* JSON null accepted (for optional members) */
} parse_field;

/* Check obj against fields: every required member present, every present
 * member of the right kind, and no member outside the list. Appends one
 * {"field": name, "message": text} object per problem to errors (a JSON
 * array) and returns the number of problems (0 = valid). */
int parse_check_object(const json_t *obj, const parse_field *fields,
                       int nfields, json_t *errors);

#endif
