/*
 * router.h -- a table-driven router: method + path pattern -> handler.
 *
 * Patterns are absolute paths whose segments are literals or ":name"; a
 * ":name" segment matches one non-empty segment (never a '/') and its value
 * goes to req->params in order of appearance (at most HTTP_MAX_PARAMS; a
 * pattern with more never matches). Literal segments compare exactly
 * (case-sensitive), as do methods.
 *
 * HEAD requests are served by the route for GET (libmicrohttpd sends the
 * headers of its reply without the body) unless a HEAD route comes first;
 * an Allow header that lists GET lists HEAD after it.
 *
 * Path normalisation: one trailing slash is ignored, so "/v1/goals/" is
 * served as "/v1/goals" (no redirect); "/" stays "/". Empty segments are not
 * collapsed: "/v1//goals" matches nothing.
 */
#ifndef TELOS_ROUTER_H
#define TELOS_ROUTER_H

#include "http.h"

#include <stddef.h>

/* Longest path served; longer ones get 414. */
#define ROUTER_MAX_PATH 2048

typedef struct route {
    const char *method;      /* "GET", "POST", ... */
    const char *pattern;     /* e.g. "/v1/goals/:id" */
    http_dispatch_fn fn;
} route;

/* Find the first route of routes[0..n) whose method and pattern match req,
 * fill req->params / req->nparams and call its handler with ctx. The param
 * strings live in a buffer of this call: they are valid only while the
 * handler runs, and req->params is cleared again before returning.
 * When no route is called, answer with a problem document instead:
 *   414 if the path is longer than ROUTER_MAX_PATH bytes,
 *   405 with an "Allow" header listing the methods of the routes whose
 *       pattern matches (in table order, without duplicates),
 *   404 if no pattern matches.
 * Returns 0 when a handler was called, -1 when the router answered. */
int router_dispatch(const route *routes, size_t n, http_request *req,
                    http_response *res, void *ctx);

#endif
