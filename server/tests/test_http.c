/*
 * test_http.c -- the HTTP server core: reply builders (JSON, problem+json,
 * headers), log lines, and a real server on 127.0.0.1 driven over plain
 * sockets: echo, body limits (Content-Length and chunked), request ids,
 * missing replies, header/query access, start errors and the draining stop.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "http.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY 1024

/* ---------------------------------------------------------------- helpers */

static json_t *parse_body(const http_response *res)
{
    json_error_t e;
    json_t *j = json_loadb(res->body, res->body_len, 0, &e);
    assert_non_null(j);
    return j;
}

static const char *jstr(json_t *obj, const char *key)
{
    return json_string_value(json_object_get(obj, key));
}

/* Same, failing the test when the member is missing (cmocka's string
 * asserts crash on NULL). */
static const char *jget(json_t *obj, const char *key)
{
    const char *v = jstr(obj, key);
    if (v == NULL)
        fail_msg("member \"%s\" missing or not a string", key);
    return v;
}

/* Send fd 2 to a temporary file until stderr_restore(); returns the file. */
static int saved_stderr = -1;
static FILE *stderr_capture(void)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    fflush(stderr);
    saved_stderr = dup(STDERR_FILENO);
    dup2(fileno(f), STDERR_FILENO);
    return f;
}

/* Restore fd 2 and return what was written (malloc'd). */
static char *stderr_restore(FILE *f)
{
    fflush(stderr);
    dup2(saved_stderr, STDERR_FILENO);
    close(saved_stderr);
    long n = lseek(fileno(f), 0, SEEK_END);
    char *buf = calloc(1, (size_t)n + 1);
    pread(fileno(f), buf, (size_t)n, 0);
    fclose(f);
    return buf;
}

/* ------------------------------------------------------- reply builders */

static void test_reason_phrases(void **state)
{
    assert_string_equal(http_reason(200), "OK");
    assert_string_equal(http_reason(404), "Not Found");
    assert_string_equal(http_reason(413), "Content Too Large");
    assert_string_equal(http_reason(500), "Internal Server Error");
    assert_string_equal(http_reason(799), "Unknown Status");
}

static void test_problem_document_members(void **state)
{
    http_request req = {.method = "GET", .path = "/x",
                        .request_id = "0123456789abcdef"};
    http_response res = {0};
    http_reply_problem(&res, &req, 404, "no goal %s", "g1");
    assert_int_equal(res.status, 404);
    assert_string_equal(res.content_type, "application/problem+json");
    json_t *j = parse_body(&res);
    assert_string_equal(jget(j, "type"), "about:blank");
    assert_string_equal(jget(j, "title"), "Not Found");
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 404);
    assert_string_equal(jget(j, "detail"), "no goal g1");
    assert_string_equal(jget(j, "instance"),
                        "urn:telos:request:0123456789abcdef");
    assert_int_equal(json_object_size(j), 5);
    json_decref(j);
    http_response_reset(&res);
    assert_int_equal(res.status, 0);
    assert_null(res.body);
}

static void test_problem_without_detail_omits_it(void **state)
{
    http_request req = {.request_id = "0123456789abcdef"};
    http_response res = {0};
    http_reply_problem(&res, &req, 409, NULL);
    json_t *j = parse_body(&res);
    assert_null(json_object_get(j, "detail"));
    assert_string_equal(jget(j, "title"), "Conflict");
    json_decref(j);
    http_response_reset(&res);
}

static void test_problem_500_detail_is_generic(void **state)
{
    http_request req = {.request_id = "0123456789abcdef"};
    http_response res = {0};
    http_reply_problem(&res, &req, 500, "connect to db password=%s", "hunter2");
    assert_int_equal(res.status, 500);
    assert_null(strstr(res.body, "hunter2"));
    json_t *j = parse_body(&res);
    assert_non_null(jstr(j, "detail"));
    assert_null(strstr(jget(j, "detail"), "password"));
    json_decref(j);
    http_response_reset(&res);
}

static void test_problem_ext_members_merged_not_overriding(void **state)
{
    http_request req = {.request_id = "0123456789abcdef"};
    http_response res = {0};
    json_t *ext = json_pack("{s:[{s:s}],s:i,s:s}", "errors", "field", "name",
                            "status", 999, "title", "forged");
    http_reply_problem_ext(&res, &req, 422, ext, "%d invalid field(s)", 1);
    json_t *j = parse_body(&res);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), 422);
    assert_string_equal(jget(j, "title"), "Unprocessable Content");
    json_t *errs = json_object_get(j, "errors");
    assert_true(json_is_array(errs));
    assert_string_equal(jget(json_array_get(errs, 0), "field"), "name");
    assert_string_equal(jget(j, "detail"), "1 invalid field(s)");
    json_decref(j);
    http_response_reset(&res);
}

static void test_problem_detail_with_invalid_utf8(void **state)
{
    http_request req = {.request_id = "0123456789abcdef"};
    http_response res = {0};
    http_reply_problem(&res, &req, 400, "bad value %s", "\xff\xfe");
    json_t *j = parse_body(&res);
    assert_string_equal(jget(j, "detail"), "bad value ??");
    json_decref(j);
    http_response_reset(&res);
}

static void test_reply_json(void **state)
{
    http_response res = {0};
    http_reply_json(&res, 201, json_pack("{s:i}", "a", 1));
    assert_int_equal(res.status, 201);
    assert_string_equal(res.content_type, "application/json");
    assert_int_equal(res.body_len, strlen("{\"a\":1}"));
    assert_string_equal(res.body, "{\"a\":1}");
    /* Replacing a reply frees the old one (ASan/valgrind would tell). */
    http_reply_json(&res, 200, json_pack("[i,i]", 1, 2));
    assert_string_equal(res.body, "[1,2]");
    http_response_reset(&res);
}

static void test_reply_json_null_leaves_reply_unset(void **state)
{
    http_response res = {0};
    http_reply_json(&res, 200, NULL);
    assert_int_equal(res.status, 0);
    assert_null(res.body);
    http_response_reset(&res);
}

static void test_set_header_validates_and_caps(void **state)
{
    http_response res = {0};
    FILE *f = stderr_capture();
    http_set_header(&res, "Location", "/v1/goals/1");
    http_set_header(&res, "X-Evil", "a\r\nSet-Cookie: x=1");
    http_set_header(&res, "Bad Name", "v");
    for (int i = 0; i < 10; i++)
        http_set_header(&res, "X-N", "v");
    free(stderr_restore(f));
    assert_int_equal(res.nextra, 8);
    assert_string_equal(res.extra_headers[0][0], "Location");
    assert_string_equal(res.extra_headers[0][1], "/v1/goals/1");
    for (int i = 1; i < 8; i++)
        assert_string_equal(res.extra_headers[i][0], "X-N");
    http_response_reset(&res);
    assert_int_equal(res.nextra, 0);
    http_response_reset(NULL);
}

/* ------------------------------------------------------------------ log */

static void test_log_lines_are_json(void **state)
{
    FILE *f = stderr_capture();
    log_info("quote \" newline \n n=%d", 5);
    log_warn("w");
    log_error("e");
    log_request(&(log_request_info){
        .method = "GET", .path = "/v1/\xff", .status = 200,
        .duration_ms = 1.23456, .request_id = "0123456789abcdef",
        .bytes_in = 3, .bytes_out = 7});
    char *out = stderr_restore(f);

    const char *levels[] = {"info", "warn", "error", "info"};
    char *save = NULL;
    int n = 0;
    for (char *line = strtok_r(out, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save), n++) {
        json_error_t e;
        json_t *j = json_loads(line, 0, &e);
        assert_non_null(j);
        assert_true(n < 4);
        assert_string_equal(jget(j, "level"), levels[n]);
        const char *ts = jstr(j, "ts");
        assert_non_null(ts);
        assert_int_equal(strlen(ts), 24);   /* 2026-01-31T12:00:00.123Z */
        assert_int_equal(ts[23], 'Z');
        assert_int_equal(ts[10], 'T');
        if (n == 0)
            assert_string_equal(jget(j, "msg"), "quote \" newline \n n=5");
        if (n == 3) {
            assert_string_equal(jget(j, "msg"), "request");
            assert_string_equal(jget(j, "path"), "/v1/?");
            assert_int_equal(json_integer_value(json_object_get(j, "status")),
                             200);
            assert_float_equal(json_number_value(json_object_get(j,
                               "duration_ms")), 1.235, 1e-9);
            assert_int_equal(json_integer_value(json_object_get(j,
                             "bytes_out")), 7);
            assert_null(json_object_get(j, "aborted"));
        }
        json_decref(j);
    }
    assert_int_equal(n, 4);
    free(out);
}

/* --------------------------------------------------------- a real server */

typedef struct test_ctx {
    atomic_int slow_entered;
    atomic_int slow_done;
} test_ctx;

static void set_raw(http_response *res, int status, const char *ctype,
                    const char *body, size_t len)
{
    res->status = status;
    res->content_type = strdup(ctype);
    res->body = malloc(len + 1);
    memcpy(res->body, body, len);
    res->body[len] = '\0';
    res->body_len = len;
}

static void test_dispatch(http_request *req, http_response *res, void *ctx)
{
    test_ctx *t = ctx;
    if (strcmp(req->path, "/echo") == 0) {
        /* body_len, not strlen: bodies may hold NUL bytes. */
        assert_true(req->body[req->body_len] == '\0');
        set_raw(res, 200, "application/octet-stream", req->body,
                req->body_len);
    } else if (strcmp(req->path, "/slow") == 0) {
        atomic_store(&t->slow_entered, 1);
        usleep(300 * 1000);
        atomic_store(&t->slow_done, 1);
        set_raw(res, 200, "text/plain", "slow done", 9);
    } else if (strcmp(req->path, "/hdr") == 0) {
        http_reply_json(res, 200, json_pack("{s:s?,s:s?,s:s?,s:s}",
                        "h", http_header(req, "x-test"),
                        "q", http_query(req, "q"),
                        "missing", http_query(req, "nope"),
                        "method", req->method));
    } else if (strcmp(req->path, "/badstatus") == 0) {
        set_raw(res, 42, "text/plain", "x", 1);
    } else if (strcmp(req->path, "/noreply") == 0) {
        /* sets nothing */
    } else {
        http_reply_problem(res, req, 404, "no such test path");
    }
}

static http_server *start_server(test_ctx *t, const char *addr, int port)
{
    http_options o = {.listen_addr = addr, .port = port, .threads = 2,
                      .max_body = MAX_BODY, .timeout_s = 5};
    char err[256] = "";
    http_server *s = http_start(&o, test_dispatch, t, err, sizeof err);
    if (s == NULL)
        fail_msg("http_start: %s", err);
    assert_true(http_port(s) > 0);
    return s;
}

static int connect_to(int family, const char *addr, int port)
{
    int fd = socket(family, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct timeval tv = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int rc;
    if (family == AF_INET) {
        struct sockaddr_in sa = {.sin_family = AF_INET,
                                 .sin_port = htons((uint16_t)port)};
        inet_pton(AF_INET, addr, &sa.sin_addr);
        rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    } else {
        struct sockaddr_in6 sa = {.sin6_family = AF_INET6,
                                  .sin6_port = htons((uint16_t)port)};
        inet_pton(AF_INET6, addr, &sa.sin6_addr);
        rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    }
    if (rc != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void send_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
        assert_true(w > 0);
        buf += w;
        len -= (size_t)w;
    }
}

typedef struct reply {
    int status;
    char *raw;          /* whole response, NUL-terminated */
    size_t raw_len;
    char *body;         /* points into raw */
    size_t body_len;
} reply;

/* Read until the server closes (requests say Connection: close). */
static void read_reply(int fd, reply *r)
{
    memset(r, 0, sizeof *r);
    size_t cap = 4096;
    r->raw = malloc(cap);
    for (;;) {
        if (r->raw_len + 1024 + 1 > cap)
            r->raw = realloc(r->raw, cap *= 2);
        ssize_t n = recv(fd, r->raw + r->raw_len, cap - r->raw_len - 1, 0);
        if (n <= 0)
            break;
        r->raw_len += (size_t)n;
    }
    r->raw[r->raw_len] = '\0';
    close(fd);
    if (sscanf(r->raw, "HTTP/1.1 %d", &r->status) != 1)
        r->status = -1;
    char *sep = strstr(r->raw, "\r\n\r\n");
    if (sep != NULL) {
        r->body = sep + 4;
        r->body_len = r->raw_len - (size_t)(r->body - r->raw);
    }
}

/* Value of a response header (case-insensitive name) copied into out. */
static const char *reply_header(const reply *r, const char *name, char *out,
                                size_t outlen)
{
    size_t nl = strlen(name);
    const char *end = r->body ? r->body : r->raw + r->raw_len;
    for (const char *p = strstr(r->raw, "\r\n"); p && p < end;
         p = strstr(p + 2, "\r\n")) {
        const char *h = p + 2;
        if (strncasecmp(h, name, nl) == 0 && h[nl] == ':') {
            h += nl + 1;
            while (*h == ' ')
                h++;
            size_t vl = strcspn(h, "\r\n");
            if (vl >= outlen)
                vl = outlen - 1;
            memcpy(out, h, vl);
            out[vl] = '\0';
            return out;
        }
    }
    return NULL;
}

static void reply_free(reply *r)
{
    free(r->raw);
}

static void request(int port, const char *raw, size_t len, reply *r)
{
    int fd = connect_to(AF_INET, "127.0.0.1", port);
    assert_true(fd >= 0);
    send_all(fd, raw, len);
    read_reply(fd, r);
}

static void post(int port, const char *path, const char *body, size_t len,
                 reply *r)
{
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "POST %s HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                      "Content-Type: application/json\r\n"
                      "Content-Length: %zu\r\n\r\n", path, len);
    char *buf = malloc((size_t)hl + len);
    memcpy(buf, head, (size_t)hl);
    memcpy(buf + hl, body, len);
    request(port, buf, (size_t)hl + len, r);
    free(buf);
}

static int is_hex16(const char *s)
{
    if (s == NULL || strlen(s) != 16)
        return 0;
    return strspn(s, "0123456789abcdef") == 16;
}

/* A problem reply: checks the media type and that instance names the
 * request id of the X-Request-Id header; returns the parsed document. */
static json_t *problem_of(const reply *r, int status)
{
    char v[128], id[64];
    assert_int_equal(r->status, status);
    assert_non_null(reply_header(r, "Content-Type", v, sizeof v));
    assert_string_equal(v, "application/problem+json");
    assert_non_null(reply_header(r, "X-Request-Id", id, sizeof id));
    json_error_t e;
    json_t *j = json_loadb(r->body, r->body_len, 0, &e);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "status")), status);
    assert_string_equal(jget(j, "title"), http_reason(status));
    assert_string_equal(jget(j, "type"), "about:blank");
    char inst[96];
    snprintf(inst, sizeof inst, "urn:telos:request:%s", id);
    assert_string_equal(jget(j, "instance"), inst);
    return j;
}

static void test_server_echoes_post(void **state)
{
    test_ctx t = {0};
    http_server *s = start_server(&t, "127.0.0.1", 0);
    reply r;
    post(http_port(s), "/echo", "{\"hello\":1}", 11, &r);
    char v[128];
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 11);
    assert_memory_equal(r.body, "{\"hello\":1}", 11);
    assert_non_null(reply_header(&r, "Content-Type", v, sizeof v));
    assert_string_equal(v, "application/octet-stream");
    assert_non_null(reply_header(&r, "Cache-Control", v, sizeof v));
    assert_string_equal(v, "no-store");
    assert_true(is_hex16(reply_header(&r, "X-Request-Id", v, sizeof v)));
    reply_free(&r);
    http_stop(s);
}

static void test_server_body_with_nul_bytes(void **state)
{
    test_ctx t = {0};
    http_server *s = start_server(&t, "127.0.0.1", 0);
    reply r;
    post(http_port(s), "/echo", "a\0b\0", 4, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 4);
    assert_memory_equal(r.body, "a\0b\0", 4);
    reply_free(&r);
    http_stop(s);
}

static void test_server_body_at_limit_accepted(void **state)
{
    test_ctx t = {0};
    http_server *s = start_server(&t, "127.0.0.1", 0);
    char *body = malloc(MAX_BODY);
    memset(body, 'x', MAX_BODY);
    reply r;
    post(http_port(s), "/echo", body, MAX_BODY, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, MAX_BODY);
    reply_free(&r);
    free(body);
    http_stop(s);
}

static void test_server_content_length_over_limit_413(void **state)
{
    test_ctx t = {0};
    http_server *s = start_server(&t, "127.0.0.1", 0);
    /* Only the headers are sent: the 413 must come without the body. */
    char head[256];
    int hl = snprintf(head, sizeof head,
                      "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                      "Content-Length: %d\r\n\r\n", MAX_BODY + 1);
    reply r;
    request(http_port(s), head, (size_t)hl, &r);
    json_t *j = problem_of(&r, 413);
    assert_non_null(strstr(jget(j, "detail"), "1024"));
    json_decref(j);
    reply_free(&r);
    http_stop(s);
}

static void send_chunked(int port, size_t total, size_t chunk, reply *r)
{
    int fd = connect_to(AF_INET, "127.0.0.1", port);
    assert_true(fd >= 0);
    const char *head = "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n";
    send_all(fd, head, strlen(head));
    char *data = malloc(chunk);
    memset(data, 'y', chunk);
    for (size_t sent = 0; sent < total; sent += chunk) {
        size_t n = total - sent < chunk ? total - sent : chunk;
        char sz[32];
        int l = snprintf(sz, sizeof sz, "%zx\r\n", n);
        send_all(fd, sz, (size_t)l);
        send_all(fd, data, n);
        send_all(fd, "\r\n", 2);
    }
    send_all(fd, "0\r\n\r\n", 5);
    free(data);
    read_reply(fd, r);
}

static void test_server_chunked_within_limit(void **state)
{
    test_ctx t = {0};
    http_server *s = start_server(&t, "127.0.0.1", 0);
    reply r;
    send_chunked(http_port(s), 1000, 100, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 1000);
    reply_free(&r);
    http_stop(s);
}

static void test_server_chunked_over_limit_413(void **state)
{
    test_ctx t = {0};
    http_server *s = start_server(&t, "127.0.0.1", 0);
    reply r;
    send_chunked(http_port(s), 3 * MAX_BODY, 512, &r);
    json_t *j = problem_of(&r, 413);
    json_decref(j);
    reply_free(&r);
    http_stop(s);
}

static void test_server_request_ids_distinct(void **state)
{
    test_ctx t = {0};
    http_server *s = start_server(&t, "127.0.0.1", 0);
    char ids[3][64];
    for (int i = 0; i < 3; i++) {
        reply r;
        post(http_port(s), "/echo", "x", 1, &r);
        assert_int_equal(r.status, 200);
        assert_non_null(reply_header(&r, "X-Request-Id", ids[i], sizeof ids[i]));
        assert_true(is_hex16(ids[i]));
        reply_free(&r);
    }
    assert_string_not_equal(ids[0], ids[1]);
    assert_string_not_equal(ids[1], ids[2]);
    assert_string_not_equal(ids[0], ids[2]);
    http_stop(s);
}

static void test_server_missing_reply_is_500(void **state)
{
    test_ctx t = {0};
    http_server *s = start_server(&t, "127.0.0.1", 0);
    const char *paths[] = {"/noreply", "/badstatus"};
    for (int i = 0; i < 2; i++) {
        char req[128];
        int l = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: t\r\n"
                         "Connection: close\r\n\r\n", paths[i]);
        reply r;
        FILE *f = stderr_capture();
        request(http_port(s), req, (size_t)l, &r);
        free(stderr_restore(f));
        json_t *j = problem_of(&r, 500);
        assert_non_null(jstr(j, "detail"));
        json_decref(j);
        reply_free(&r);
    }
    http_stop(s);
}

static void test_server_header_and_query_lookup(void **state)
{
    test_ctx t = {0};
    http_server *s = start_server(&t, "127.0.0.1", 0);
    const char *req = "GET /hdr?q=a%20b&x=1 HTTP/1.1\r\nHost: t\r\n"
                      "X-Test: hello\r\nConnection: close\r\n\r\n";
    reply r;
    request(http_port(s), req, strlen(req), &r);
    assert_int_equal(r.status, 200);
    json_error_t e;
    json_t *j = json_loadb(r.body, r.body_len, 0, &e);
    assert_non_null(j);
    assert_string_equal(jget(j, "h"), "hello");
    assert_string_equal(jget(j, "q"), "a b");
    assert_true(json_is_null(json_object_get(j, "missing")));
    assert_string_equal(jget(j, "method"), "GET");
    json_decref(j);
    reply_free(&r);
    http_stop(s);
}

static void test_server_log_line_without_secrets(void **state)
{
    test_ctx t = {0};
    FILE *f = stderr_capture();
    http_server *s = start_server(&t, "127.0.0.1", 0);
    const char *req = "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                      "Authorization: Bearer tk_SECRETKEY\r\n"
                      "Content-Length: 9\r\n\r\nBODYBYTES";
    reply r;
    request(http_port(s), req, strlen(req), &r);
    char id[64] = "";
    reply_header(&r, "X-Request-Id", id, sizeof id);
    int status = r.status;
    reply_free(&r);
    http_stop(s);   /* waits for on_completed, which logs */
    char *out = stderr_restore(f);

    assert_int_equal(status, 200);
    assert_null(strstr(out, "SECRETKEY"));
    assert_null(strstr(out, "BODYBYTES"));
    json_t *line = NULL;
    char *save = NULL;
    for (char *l = strtok_r(out, "\n", &save); l; l = strtok_r(NULL, "\n", &save)) {
        json_error_t e;
        json_t *j = json_loads(l, 0, &e);
        assert_non_null(j);   /* every line is JSON */
        if (jstr(j, "request_id") && strcmp(jstr(j, "request_id"), id) == 0)
            line = j;
        else
            json_decref(j);
    }
    assert_non_null(line);
    assert_string_equal(jget(line, "msg"), "request");
    assert_string_equal(jget(line, "level"), "info");
    assert_string_equal(jget(line, "method"), "POST");
    assert_string_equal(jget(line, "path"), "/echo");
    assert_int_equal(json_integer_value(json_object_get(line, "status")), 200);
    assert_int_equal(json_integer_value(json_object_get(line, "bytes_in")), 9);
    assert_int_equal(json_integer_value(json_object_get(line, "bytes_out")), 9);
    assert_true(json_is_number(json_object_get(line, "duration_ms")));
    assert_non_null(jstr(line, "ts"));
    json_decref(line);
    free(out);
}

static void test_server_start_errors(void **state)
{
    test_ctx t = {0};
    http_server *s = start_server(&t, "127.0.0.1", 0);
    http_options o = {.listen_addr = "127.0.0.1", .port = http_port(s),
                      .threads = 1, .max_body = 10, .timeout_s = 1};
    char err[256] = "";
    FILE *f = stderr_capture();
    http_server *s2 = http_start(&o, test_dispatch, &t, err, sizeof err);
    free(stderr_restore(f));
    assert_null(s2);
    assert_non_null(strstr(err, "in use"));

    o.listen_addr = "localhost";   /* names are not literals */
    err[0] = '\0';
    assert_null(http_start(&o, test_dispatch, &t, err, sizeof err));
    assert_non_null(strstr(err, "localhost"));
    http_stop(s);
    http_stop(NULL);
}

static void test_server_ipv6_literal(void **state)
{
    int probe = socket(AF_INET6, SOCK_STREAM, 0);
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6};
    inet_pton(AF_INET6, "::1", &sa.sin6_addr);
    int ok = probe >= 0 && bind(probe, (struct sockaddr *)&sa, sizeof sa) == 0;
    if (probe >= 0)
        close(probe);
    if (!ok)
        skip();   /* no IPv6 loopback on this machine */
    test_ctx t = {0};
    http_server *s = start_server(&t, "::1", 0);
    int fd = connect_to(AF_INET6, "::1", http_port(s));
    assert_true(fd >= 0);
    const char *req = "POST /echo HTTP/1.1\r\nHost: t\r\nConnection: close\r\n"
                      "Content-Length: 2\r\n\r\nv6";
    send_all(fd, req, strlen(req));
    reply r;
    read_reply(fd, &r);
    assert_int_equal(r.status, 200);
    assert_memory_equal(r.body, "v6", 2);
    reply_free(&r);
    http_stop(s);
}

typedef struct slow_client {
    int port;
    reply r;
} slow_client;

static void *slow_request(void *arg)
{
    slow_client *c = arg;
    const char *req = "GET /slow HTTP/1.1\r\nHost: t\r\n\r\n";  /* keep-alive */
    int fd = connect_to(AF_INET, "127.0.0.1", c->port);
    if (fd < 0)
        return NULL;
    send(fd, req, strlen(req), MSG_NOSIGNAL);
    read_reply(fd, &c->r);
    return NULL;
}

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

typedef struct stopper {
    http_server *s;
    double took_ms;
} stopper;

static void *stop_server(void *arg)
{
    stopper *st = arg;
    double t0 = now_ms();
    http_stop(st->s);
    st->took_ms = now_ms() - t0;
    return NULL;
}

static void test_server_stop_drains_in_flight(void **state)
{
    test_ctx t = {0};
    http_server *s = start_server(&t, "127.0.0.1", 0);
    int port = http_port(s);
    slow_client c = {.port = port};
    pthread_t client, stop;
    assert_int_equal(pthread_create(&client, NULL, slow_request, &c), 0);
    for (int i = 0; i < 2000 && !atomic_load(&t.slow_entered); i++)
        usleep(1000);
    assert_true(atomic_load(&t.slow_entered));

    stopper st = {.s = s};
    assert_int_equal(pthread_create(&stop, NULL, stop_server, &st), 0);
    /* While the slow request drains, new connections are refused at once
     * (not left hanging in the backlog). */
    bool refused = false;
    for (int i = 0; i < 100 && !refused; i++) {
        int fd = connect_to(AF_INET, "127.0.0.1", port);
        if (fd < 0)
            refused = true;
        else {
            close(fd);
            usleep(2000);
        }
    }
    bool handler_done_when_refused = atomic_load(&t.slow_done);
    pthread_join(stop, NULL);
    pthread_join(client, NULL);

    assert_true(refused);
    assert_false(handler_done_when_refused);
    assert_int_equal(c.r.status, 200);
    assert_int_equal(c.r.body_len, 9);
    assert_memory_equal(c.r.body, "slow done", 9);
    /* A keep-alive request answered during the drain is told to go. */
    char v[64];
    assert_non_null(reply_header(&c.r, "Connection", v, sizeof v));
    assert_string_equal(v, "close");
    assert_true(st.took_ms >= 100.0);   /* it did wait for the handler */
    assert_true(st.took_ms < 4000.0);   /* and not for the whole timeout */
    reply_free(&c.r);

    /* Nobody listens any more. */
    assert_int_equal(connect_to(AF_INET, "127.0.0.1", port), -1);
}

static void test_server_head_has_no_body(void **state)
{
    test_ctx t = {0};
    http_server *s = start_server(&t, "127.0.0.1", 0);
    /* /hdr answers with a JSON body; HEAD must get its headers only. */
    const char *req = "HEAD /hdr HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    reply r;
    request(http_port(s), req, strlen(req), &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(r.body_len, 0);
    char v[64];
    assert_non_null(reply_header(&r, "X-Request-Id", v, sizeof v));
    assert_non_null(reply_header(&r, "Content-Length", v, sizeof v));
    assert_true(atoi(v) > 0);
    reply_free(&r);
    http_stop(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reason_phrases),
        cmocka_unit_test(test_problem_document_members),
        cmocka_unit_test(test_problem_without_detail_omits_it),
        cmocka_unit_test(test_problem_500_detail_is_generic),
        cmocka_unit_test(test_problem_ext_members_merged_not_overriding),
        cmocka_unit_test(test_problem_detail_with_invalid_utf8),
        cmocka_unit_test(test_reply_json),
        cmocka_unit_test(test_reply_json_null_leaves_reply_unset),
        cmocka_unit_test(test_set_header_validates_and_caps),
        cmocka_unit_test(test_log_lines_are_json),
        cmocka_unit_test(test_server_echoes_post),
        cmocka_unit_test(test_server_body_with_nul_bytes),
        cmocka_unit_test(test_server_body_at_limit_accepted),
        cmocka_unit_test(test_server_content_length_over_limit_413),
        cmocka_unit_test(test_server_chunked_within_limit),
        cmocka_unit_test(test_server_chunked_over_limit_413),
        cmocka_unit_test(test_server_request_ids_distinct),
        cmocka_unit_test(test_server_missing_reply_is_500),
        cmocka_unit_test(test_server_header_and_query_lookup),
        cmocka_unit_test(test_server_log_line_without_secrets),
        cmocka_unit_test(test_server_start_errors),
        cmocka_unit_test(test_server_ipv6_literal),
        cmocka_unit_test(test_server_head_has_no_body),
        cmocka_unit_test(test_server_stop_drains_in_flight),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
