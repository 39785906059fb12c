/*
 * http_reply.c -- building responses: JSON and problem+json (RFC 9457) bodies,
 * extra headers, reason phrases. Pure functions of their arguments, so
 * handlers and unit tests use them without a running server.
 */
#include "http.h"

#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The detail of every 500: what went wrong inside is for the log, never for
 * the client. */
#define GENERIC_500_DETAIL "The server could not complete the request."

const char *http_reason(int status)
{
    switch (status) {
    case 100: return "Continue";
    case 101: return "Switching Protocols";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 206: return "Partial Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 304: return "Not Modified";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 402: return "Payment Required";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 411: return "Length Required";
    case 412: return "Precondition Failed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 422: return "Unprocessable Content";
    case 425: return "Too Early";
    case 426: return "Upgrade Required";
    case 428: return "Precondition Required";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    case 505: return "HTTP Version Not Supported";
    default:  return "Unknown Status";
    }
}

void http_response_reset(http_response *res)
{
    if (res == NULL)
        return;
    free(res->content_type);
    free(res->body);
    for (int i = 0; i < res->nextra; i++) {
        free(res->extra_headers[i][0]);
        free(res->extra_headers[i][1]);
    }
    memset(res, 0, sizeof *res);
}

/* Replace the status, content type and body of res, keeping the extra
 * headers (a handler may set Location before the body). On allocation
 * failure the reply is left unset, so that the server answers 500. */
static void set_body(http_response *res, int status, const char *ctype,
                     char *body)
{
    free(res->content_type);
    free(res->body);
    res->content_type = NULL;
    res->body = NULL;
    res->body_len = 0;
    res->status = 0;
    char *ct = strdup(ctype);
    if (body == NULL || ct == NULL) {
        free(ct);
        free(body);
        return;
    }
    res->status = status;
    res->content_type = ct;
    res->body = body;
    res->body_len = strlen(body);
}

void http_reply_json(http_response *res, int status, json_t *json)
{
    /* A NULL json is what json_pack() returns on failure: leave the reply
     * unset so the server answers 500 rather than sending "null". */
    char *body = json ? json_dumps(json, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(json);
    set_body(res, status, "application/json", body);
}

/* A JSON string for text; bytes that are not UTF-8 (detail may quote client
 * input) become '?' instead of losing the member. */
static json_t *text_string(const char *text)
{
    json_t *j = json_string(text);
    if (j != NULL)
        return j;
    char *copy = strdup(text);
    if (copy == NULL)
        return NULL;
    for (char *p = copy; *p; p++)
        if ((unsigned char)*p >= 0x80)
            *p = '?';
    j = json_string(copy);
    free(copy);
    return j;
}

static int is_standard_member(const char *key)
{
    return strcmp(key, "type") == 0 || strcmp(key, "title") == 0 ||
           strcmp(key, "status") == 0 || strcmp(key, "detail") == 0 ||
           strcmp(key, "instance") == 0;
}

static void reply_problem_va(http_response *res, const http_request *req,
                             int status, json_t *ext, const char *fmt,
                             va_list ap)
{
    json_t *doc = json_object();
    if (doc == NULL) {
        json_decref(ext);
        set_body(res, status, "application/problem+json", NULL);
        return;
    }
    json_object_set_new(doc, "type", json_string("about:blank"));
    json_object_set_new(doc, "title", json_string(http_reason(status)));
    json_object_set_new(doc, "status", json_integer(status));
    if (status == 500) {
        json_object_set_new(doc, "detail", json_string(GENERIC_500_DETAIL));
    } else if (fmt != NULL) {
        char detail[1024];
        vsnprintf(detail, sizeof detail, fmt, ap);
        json_object_set_new(doc, "detail", text_string(detail));
    }
    if (req != NULL && req->request_id != NULL) {
        char inst[96];
        snprintf(inst, sizeof inst, "urn:telos:request:%s", req->request_id);
        json_object_set_new(doc, "instance", text_string(inst));
    }
    /* Extension members never override the standard ones: a handler's
     * {"status": ...} must not contradict the status line. */
    if (json_is_object(ext)) {
        const char *key;
        json_t *val;
        json_object_foreach(ext, key, val)
            if (!is_standard_member(key))
                json_object_set(doc, key, val);
    }
    json_decref(ext);
    char *body = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    set_body(res, status, "application/problem+json", body);
}

void http_reply_problem(http_response *res, const http_request *req,
                        int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply_problem_va(res, req, status, NULL, fmt, ap);
    va_end(ap);
}

void http_reply_problem_ext(http_response *res, const http_request *req,
                            int status, json_t *ext, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    reply_problem_va(res, req, status, ext, fmt, ap);
    va_end(ap);
}

/* RFC 9110 token characters, so a header name cannot smuggle syntax. */
static int is_token(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || strchr("\"(),/:;<=>?@[\\]{}", c))
            return 0;
    }
    return 1;
}

void http_set_header(http_response *res, const char *name, const char *value)
{
    int nmax = (int)(sizeof res->extra_headers / sizeof res->extra_headers[0]);
    if (!is_token(name) || strpbrk(value, "\r\n") != NULL) {
        log_warn("http: header %s rejected: invalid name or value",
                 is_token(name) ? name : "(invalid)");
        return;
    }
    if (res->nextra >= nmax) {
        log_warn("http: header %s dropped: more than %d extra headers", name,
                 nmax);
        return;
    }
    char *n = strdup(name), *v = strdup(value);
    if (n == NULL || v == NULL) {
        free(n);
        free(v);
        return;
    }
    res->extra_headers[res->nextra][0] = n;
    res->extra_headers[res->nextra][1] = v;
    res->nextra++;
}
