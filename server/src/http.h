/*
 * http.h -- the HTTP server: libmicrohttpd with an internal thread pool and
 * epoll, whole request bodies buffered up to a limit, JSON and problem+json
 * (RFC 9457) replies, one structured log line per request, and a draining
 * shutdown.
 *
 * The module knows nothing of telos' endpoints: it calls one dispatch
 * function per complete request (see api.h for the routes).
 */
#ifndef TELOS_HTTP_H
#define TELOS_HTTP_H

#include <jansson.h>
#include <stddef.h>

#define HTTP_MAX_PARAMS 4

typedef struct http_request {
    const char *method;      /* "GET", "POST", ... */
    const char *path;        /* decoded path, without the query string */
    const char *request_id;  /* 16 hex chars, unique per request; also the
                              * X-Request-Id response header */
    const char *body;        /* NUL-terminated copy of the body ("" if none) */
    size_t body_len;
    /* filled by the router: values of ":name" segments, in order */
    const char *params[HTTP_MAX_PARAMS];
    int nparams;
    void *impl;              /* private to http.c */
} http_request;

typedef struct http_response {
    int status;              /* 0 until a reply is set */
    char *content_type;      /* malloc'd */
    char *body;              /* malloc'd */
    size_t body_len;
    char *extra_headers[8][2]; /* malloc'd name/value pairs */
    int nextra;
} http_response;

/* Header value of the request (case-insensitive name), or NULL. */
const char *http_header(const http_request *r, const char *name);

/* Query-string argument (decoded), or NULL. */
const char *http_query(const http_request *r, const char *name);

/* Set a JSON reply; takes ownership of (steals) json. */
void http_reply_json(http_response *res, int status, json_t *json);

/* Set an application/problem+json reply (RFC 9457) with members type
 * ("about:blank"), title (the status' reason phrase), status, detail
 * (printf-style, may be NULL) and instance (the request id). */
void http_reply_problem(http_response *res, const http_request *req,
                        int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Same, with extra members merged into the problem document (steals ext),
 * e.g. {"errors": [...]} for field-level validation failures. */
void http_reply_problem_ext(http_response *res, const http_request *req,
                            int status, json_t *ext, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Add a response header (copied). At most 8 per response. */
void http_set_header(http_response *res, const char *name, const char *value);

/* Free what res owns (content type, body, extra headers) and zero it, so
 * that it holds no reply (status 0). http_response_reset(NULL) is a no-op.
 * The server calls it after sending; tests that build a response call it. */
void http_response_reset(http_response *res);

/* Reason phrase for a status code ("Not Found"). */
const char *http_reason(int status);

/* Called once per complete request from a worker thread. Must set a reply;
 * if it does not, the server answers 500. */
typedef void (*http_dispatch_fn)(http_request *req, http_response *res,
                                 void *ctx);

typedef struct http_server http_server;

typedef struct http_options {
    const char *listen_addr;  /* IPv4 or IPv6 literal, e.g. "127.0.0.1" */
    int port;                 /* 0 = pick a free port (see http_port()) */
    int threads;              /* worker threads */
    size_t max_body;          /* larger bodies get 413 without being read */
    int timeout_s;            /* idle/slow client timeout */
} http_options;

/* Start serving. NULL with a message in err on failure (e.g. port in use). */
http_server *http_start(const http_options *o, http_dispatch_fn fn, void *ctx,
                        char *err, size_t errlen);

/* The port actually bound. */
int http_port(const http_server *s);

/* Stop accepting, let in-flight requests finish (up to timeout_s), stop.
 * http_stop(NULL) is a no-op. */
void http_stop(http_server *s);

#endif
