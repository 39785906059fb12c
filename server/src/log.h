/*
 * log.h -- structured logging: one JSON object per line on stderr.
 *
 * Every line has "ts" (UTC, ISO 8601 with milliseconds, e.g.
 * "2026-01-31T12:00:00.123Z"), "level" ("info", "warn" or "error") and "msg";
 * request lines add the fields of log_request_info. Each line is written with
 * a single write(2), so lines from concurrent threads never interleave (pipes
 * guarantee that up to PIPE_BUF bytes). Strings are JSON-escaped; bytes that
 * are not valid UTF-8 are replaced by '?' so that every line stays valid JSON.
 *
 * Never pass secrets (API keys, passwords, request headers or bodies) to these
 * functions: everything logged ends up in files and log collectors.
 */
#ifndef TELOS_LOG_H
#define TELOS_LOG_H

#include <stddef.h>

/* Log a printf-style message at level "info". */
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Log a printf-style message at level "warn". */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Log a printf-style message at level "error". */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* What log_request() writes about one HTTP request. Strings may be NULL
 * (logged as null). */
typedef struct log_request_info {
    const char *method;
    const char *path;        /* without the query string */
    int status;              /* status sent; 0 if no response was queued */
    double duration_ms;      /* from the request headers to completion */
    const char *request_id;
    size_t bytes_in;         /* request body bytes received */
    size_t bytes_out;        /* response body bytes */
    const char *aborted;     /* NULL when the response was sent; otherwise why
                              * the request ended early ("client_abort",
                              * "timeout", "shutdown", "error"): logged as
                              * the field "aborted" */
} log_request_info;

/* Log one request as {"ts","level":"info","msg":"request","method","path",
 * "status","duration_ms","request_id","bytes_in","bytes_out"[,"aborted"]}. */
void log_request(const log_request_info *r);

#endif
