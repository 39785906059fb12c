/*
 * log.c -- JSON log lines on stderr, one write(2) each.
 *
 * jansson builds and escapes the object; the line is then written in a single
 * call so that threads need no lock between them.
 */
#include "log.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* "2026-01-31T12:00:00.123Z" into buf (at least 32 bytes). */
static void format_now(char *buf, size_t len)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, len - n, ".%03ldZ", ts.tv_nsec / 1000000L);
}

/* A JSON string for s, NULL -> null. jansson refuses invalid UTF-8 (a client
 * can put any byte in a path), so such bytes are replaced by '?' rather than
 * losing the whole line. */
static json_t *safe_string(const char *s)
{
    if (s == NULL)
        return json_null();
    json_t *j = json_string(s);
    if (j != NULL)
        return j;
    char *copy = strdup(s);
    if (copy == NULL)
        return json_null();
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j ? j : json_null();
}

/* Write the object as one line on fd 2 and release it. */
static void emit(json_t *obj)
{
    if (obj == NULL)
        return;
    char *s = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(12));
    json_decref(obj);
    if (s == NULL)
        return;
    size_t n = strlen(s);
    char *line = realloc(s, n + 2);
    if (line == NULL) {
        free(s);
        return;
    }
    line[n] = '\n';
    line[n + 1] = '\0';
    /* One write for the whole line; a partial write (full disk, signal) is
     * completed rather than dropped, at the price of possible interleaving. */
    size_t off = 0;
    while (off < n + 1) {
        ssize_t w = write(STDERR_FILENO, line + off, n + 1 - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    free(line);
}

/* {"ts", "level", "msg"} with room for more members. */
static json_t *base_line(const char *level, json_t *msg)
{
    char ts[40];
    format_now(ts, sizeof ts);
    json_t *obj = json_object();
    if (obj == NULL) {
        json_decref(msg);
        return NULL;
    }
    json_object_set_new(obj, "ts", json_string(ts));
    json_object_set_new(obj, "level", json_string(level));
    json_object_set_new(obj, "msg", msg ? msg : json_null());
    return obj;
}

static void log_va(const char *level, const char *fmt, va_list ap)
{
    char buf[2048];
    vsnprintf(buf, sizeof buf, fmt, ap);
    emit(base_line(level, safe_string(buf)));
}

void log_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_va("info", fmt, ap);
    va_end(ap);
}

void log_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_va("warn", fmt, ap);
    va_end(ap);
}

void log_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_va("error", fmt, ap);
    va_end(ap);
}

void log_request(const log_request_info *r)
{
    json_t *obj = base_line("info", json_string("request"));
    if (obj == NULL)
        return;
    /* Round to microseconds so the line does not carry float noise. */
    double ms = (double)(long long)(r->duration_ms * 1000.0 + 0.5) / 1000.0;
    json_object_set_new(obj, "method", safe_string(r->method));
    json_object_set_new(obj, "path", safe_string(r->path));
    json_object_set_new(obj, "status", json_integer(r->status));
    json_object_set_new(obj, "duration_ms", json_real(ms));
    json_object_set_new(obj, "request_id", safe_string(r->request_id));
    json_object_set_new(obj, "bytes_in", json_integer((json_int_t)r->bytes_in));
    json_object_set_new(obj, "bytes_out", json_integer((json_int_t)r->bytes_out));
    if (r->aborted != NULL)
        json_object_set_new(obj, "aborted", safe_string(r->aborted));
    emit(obj);
}
