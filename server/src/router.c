/*
 * router.c -- match a request path against route patterns, segment by
 * segment, without allocating: the path is copied once into a stack buffer
 * whose '/' become NULs, so that ":name" values are ready-made strings.
 */
#include "router.h"

#include <stdbool.h>
#include <string.h>

/* Enough for "GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS" and then some. */
#define ALLOW_MAX 128

/* Length of the segment starting at s (up to '/' or the end). */
static size_t seg_len(const char *s)
{
    return strcspn(s, "/");
}

/* Does path (normalised, length len) match pattern? On a match, offsets[]
 * and *nparams locate the ":name" values in path. */
static bool match(const char *pattern, const char *path,
                  size_t offsets[HTTP_MAX_PARAMS], int *nparams)
{
    const char *p = pattern, *q = path;
    int np = 0;
    if (*p != '/' || *q != '/')
        return false;
    /* Walk both strings one "/segment" at a time. */
    while (*p == '/' && *q == '/') {
        p++;
        q++;
        size_t pl = seg_len(p), ql = seg_len(q);
        if (p[0] == ':') {
            if (ql == 0 || np == HTTP_MAX_PARAMS)
                return false;
            offsets[np++] = (size_t)(q - path);
        } else if (pl != ql || memcmp(p, q, pl) != 0) {
            return false;
        }
        p += pl;
        q += ql;
    }
    if (*p != '\0' || *q != '\0')
        return false;
    *nparams = np;
    return true;
}

/* Append method to the comma-separated list in allow unless already there. */
static void allow_add(char *allow, const char *method)
{
    size_t mlen = strlen(method);
    for (const char *a = allow; *a;) {
        size_t l = strcspn(a, ",");
        if (l == mlen && memcmp(a, method, l) == 0)
            return;
        a += l;
        while (*a == ',' || *a == ' ')
            a++;
    }
    size_t used = strlen(allow);
    size_t need = used + (used ? 2 : 0) + mlen + 1;
    if (need > ALLOW_MAX)
        return;
    if (used) {
        memcpy(allow + used, ", ", 2);
        used += 2;
    }
    memcpy(allow + used, method, mlen + 1);
}

/* HEAD is served by the GET route (RFC 9110 9.3.2: GET without content;
 * libmicrohttpd sends the headers of the GET reply and drops its body). */
static bool method_matches(const char *route_method, const char *method)
{
    return strcmp(route_method, method) == 0 ||
           (strcmp(method, "HEAD") == 0 && strcmp(route_method, "GET") == 0);
}

int router_dispatch(const route *routes, size_t n, http_request *req,
                    http_response *res, void *ctx)
{
    size_t len = strlen(req->path);
    if (len > ROUTER_MAX_PATH) {
        http_reply_problem(res, req, 414,
                           "The path is longer than %d bytes.",
                           ROUTER_MAX_PATH);
        return -1;
    }
    char path[ROUTER_MAX_PATH + 1];
    memcpy(path, req->path, len + 1);
    if (len > 1 && path[len - 1] == '/')
        path[--len] = '\0';

    char allow[ALLOW_MAX] = "";
    for (size_t i = 0; i < n; i++) {
        size_t offsets[HTTP_MAX_PARAMS];
        int np = 0;
        if (!match(routes[i].pattern, path, offsets, &np))
            continue;
        if (!method_matches(routes[i].method, req->method)) {
            allow_add(allow, routes[i].method);
            if (strcmp(routes[i].method, "GET") == 0)
                allow_add(allow, "HEAD");
            continue;
        }
        /* Cut the buffer into segments: each value ends at its '/'. */
        for (char *c = path; *c; c++)
            if (*c == '/')
                *c = '\0';
        for (int k = 0; k < np; k++)
            req->params[k] = path + offsets[k];
        req->nparams = np;
        routes[i].fn(req, res, ctx);
        memset(req->params, 0, sizeof req->params);
        req->nparams = 0;
        return 0;
    }
    if (allow[0] != '\0') {
        http_reply_problem(res, req, 405,
                           "This resource allows the methods %s.", allow);
        http_set_header(res, "Allow", allow);
        return -1;
    }
    http_reply_problem(res, req, 404, "There is no resource at this path.");
    return -1;
}
