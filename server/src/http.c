/*
 * http.c -- the libmicrohttpd daemon: start, per-connection request state,
 * body buffering with a size limit, dispatch, the per-request log line and a
 * draining stop. Building replies is in http_reply.c.
 *
 * Threading: MHD runs a pool of worker threads, each with its own epoll set
 * (MHD_USE_EPOLL_INTERNAL_THREAD + MHD_OPTION_THREAD_POOL_SIZE). A request is
 * served entirely by one worker, and the dispatch function runs on it, so a
 * handler that blocks on the database blocks only that worker. MHD_USE_ITC is
 * set because MHD_quiesce_daemon() refuses to work in a threaded mode without
 * an inter-thread channel (it returns MHD_INVALID_SOCKET).
 *
 * Request life cycle (MHD calls on_access several times per request):
 *   1st call     headers are in: allocate conn_state, count the request as in
 *                flight, and answer 413 at once when Content-Length is over
 *                the limit (the body is then never read);
 *   data calls   append the body to a growing buffer, or, once it passes the
 *                limit (chunked bodies have no Content-Length), drop it;
 *   last call    (*upload_data_size == 0) dispatch and queue the response;
 *   on_completed log the request, free conn_state, leave the in-flight count.
 */
#include "http.h"

#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Per-connection memory for MHD (request line, headers, read buffer). The
 * body does not live there: it is copied out to conn_state as it arrives. */
#define CONN_MEMORY_LIMIT (64 * 1024)

/* First allocation for a body whose length is not announced. */
#define BODY_INITIAL_CAP 4096

struct http_server {
    struct MHD_Daemon *daemon;
    http_dispatch_fn fn;
    void *ctx;
    size_t max_body;
    int timeout_s;
    int port;
    /* Requests between their first on_access call and on_completed. */
    atomic_int inflight;
    /* Set by http_stop(): responses say "Connection: close" and the last
     * request to complete wakes the stopper. */
    atomic_bool stopping;
    /* lock guards the wait on drained and start_err. */
    pthread_mutex_t lock;
    pthread_cond_t drained;
    atomic_bool starting;
    char start_err[512];     /* last MHD message during MHD_start_daemon */
};

typedef struct conn_state {
    char id[17];             /* request id, 16 hex chars */
    char *method;            /* copies: MHD's strings may be gone by the */
    char *path;              /* time on_completed logs the request */
    struct timespec started;
    char *body;              /* NUL-terminated; NULL until data arrives */
    size_t len, cap;
    size_t bytes_in;         /* counts dropped bytes as well */
    bool too_large;
    bool responded;
    int status;
    size_t bytes_out;
} conn_state;

static double ms_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) * 1e3 +
           (double)(now.tv_nsec - t0->tv_nsec) / 1e6;
}

static conn_state *state_new(const char *method, const char *url)
{
    conn_state *st = calloc(1, sizeof *st);
    if (st == NULL)
        return NULL;
    st->method = strdup(method ? method : "");
    st->path = strdup(url ? url : "");
    if (st->method == NULL || st->path == NULL) {
        free(st->method);
        free(st->path);
        free(st);
        return NULL;
    }
    unsigned char rnd[8];
    randombytes_buf(rnd, sizeof rnd);
    sodium_bin2hex(st->id, sizeof st->id, rnd, sizeof rnd);
    clock_gettime(CLOCK_MONOTONIC, &st->started);
    return st;
}

static void state_free(conn_state *st)
{
    if (st == NULL)
        return;
    free(st->method);
    free(st->path);
    free(st->body);
    free(st);
}

/* The announced Content-Length, or 0 when absent or unparsable (MHD itself
 * rejects a malformed one before the body is read); one too large for
 * strtoull() counts as too large for us. */
static unsigned long long declared_length(struct MHD_Connection *conn)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (v == NULL)
        return 0;
    char *end;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    if (errno == ERANGE)
        return ULLONG_MAX;
    if (errno != 0 || end == v)
        return 0;
    return n;
}

/* Append data to the body, or drop the body once it would pass max_body.
 * Returns false on allocation failure. */
static bool take_body(http_server *s, conn_state *st, const char *data,
                      size_t size, unsigned long long declared)
{
    st->bytes_in += size;
    if (st->too_large)
        return true;
    if (size > s->max_body - st->len) {
        st->too_large = true;
        free(st->body);
        st->body = NULL;
        st->len = st->cap = 0;
        return true;
    }
    if (st->len + size + 1 > st->cap) {
        /* Size to the announced length at once; double for chunked. */
        size_t cap = st->cap ? st->cap : BODY_INITIAL_CAP;
        if (st->cap == 0 && declared > 0 && declared <= s->max_body)
            cap = (size_t)declared + 1;
        while (cap < st->len + size + 1)
            cap *= 2;
        char *p = realloc(st->body, cap);
        if (p == NULL)
            return false;
        st->body = p;
        st->cap = cap;
    }
    memcpy(st->body + st->len, data, size);
    st->len += size;
    st->body[st->len] = '\0';
    return true;
}

/* Queue res on conn and release it; records what on_completed logs. */
static enum MHD_Result queue_reply(http_server *s, struct MHD_Connection *conn,
                                   conn_state *st, http_response *res)
{
    struct MHD_Response *r;
    if (res->body != NULL) {
        r = MHD_create_response_from_buffer(res->body_len, res->body,
                                            MHD_RESPMEM_MUST_FREE);
        if (r != NULL)
            res->body = NULL;   /* MHD frees it with free() */
    } else {
        r = MHD_create_response_from_buffer(0, (void *)"",
                                            MHD_RESPMEM_PERSISTENT);
    }
    if (r == NULL) {
        http_response_reset(res);
        return MHD_NO;          /* MHD closes the connection */
    }
    if (res->content_type != NULL)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                res->content_type);
    MHD_add_response_header(r, "X-Request-Id", st->id);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    for (int i = 0; i < res->nextra; i++)
        MHD_add_response_header(r, res->extra_headers[i][0],
                                res->extra_headers[i][1]);
    /* While draining, a keep-alive client must not go on sending requests
     * on this connection: tell it to reconnect (to the next instance). */
    if (atomic_load(&s->stopping))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned int)res->status, r);
    MHD_destroy_response(r);
    st->responded = true;
    st->status = res->status;
    /* MHD sends no body in reply to HEAD. */
    st->bytes_out = strcmp(st->method, MHD_HTTP_METHOD_HEAD) == 0
                        ? 0 : res->body_len;
    http_response_reset(res);
    return ok;
}

/* Run the dispatch function on the complete request and queue its reply. */
static enum MHD_Result answer(http_server *s, struct MHD_Connection *conn,
                              conn_state *st)
{
    http_request req = {
        .method = st->method,
        .path = st->path,
        .request_id = st->id,
        .body = st->body ? st->body : "",
        .body_len = st->len,
        .impl = conn,
    };
    http_response res = {0};
    if (st->too_large) {
        http_reply_problem(&res, &req, 413,
                           "The request body is larger than %zu bytes.",
                           s->max_body);
    } else {
        s->fn(&req, &res, s->ctx);
        if (res.status < 100 || res.status > 599) {
            if (res.status != 0)
                log_error("http: handler for %s %s set status %d",
                          st->method, st->path, res.status);
            http_response_reset(&res);
            http_reply_problem(&res, &req, 500, NULL);
        }
    }
    /* The body is no longer needed: release it before the response goes
     * out rather than when the connection completes. */
    free(st->body);
    st->body = NULL;
    st->len = st->cap = 0;
    return queue_reply(s, conn, st, &res);
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    http_server *s = cls;
    conn_state *st = *con_cls;

    if (st == NULL) {
        st = state_new(method, url);
        if (st == NULL)
            return MHD_NO;
        *con_cls = st;
        atomic_fetch_add(&s->inflight, 1);
        if (declared_length(conn) > s->max_body) {
            /* Answer before reading: MHD then closes the connection
             * instead of receiving a body nobody wants. */
            st->too_large = true;
            return answer(s, conn, st);
        }
        return MHD_YES;
    }
    if (st->responded) {
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        bool ok = take_body(s, st, upload_data, *upload_data_size,
                            st->cap == 0 ? declared_length(conn) : 0);
        *upload_data_size = 0;
        return ok ? MHD_YES : MHD_NO;
    }
    return answer(s, conn, st);
}

static const char *termination_name(enum MHD_RequestTerminationCode toe)
{
    switch (toe) {
    case MHD_REQUEST_TERMINATED_COMPLETED_OK:     return NULL;
    case MHD_REQUEST_TERMINATED_TIMEOUT_REACHED:  return "timeout";
    case MHD_REQUEST_TERMINATED_DAEMON_SHUTDOWN:  return "shutdown";
    case MHD_REQUEST_TERMINATED_READ_ERROR:       return "read_error";
    case MHD_REQUEST_TERMINATED_CLIENT_ABORT:     return "client_abort";
    default:                                      return "error";
    }
}

static void on_completed(void *cls, struct MHD_Connection *conn,
                         void **con_cls, enum MHD_RequestTerminationCode toe)
{
    http_server *s = cls;
    conn_state *st = *con_cls;
    if (st == NULL)
        return;   /* on_access failed to allocate: never counted */
    *con_cls = NULL;
    log_request(&(log_request_info){
        .method = st->method,
        .path = st->path,
        .status = st->responded ? st->status : 0,
        .duration_ms = ms_since(&st->started),
        .request_id = st->id,
        .bytes_in = st->bytes_in,
        .bytes_out = st->responded ? st->bytes_out : 0,
        .aborted = termination_name(toe),
    });
    state_free(st);
    if (atomic_fetch_sub(&s->inflight, 1) == 1 && atomic_load(&s->stopping)) {
        pthread_mutex_lock(&s->lock);
        pthread_cond_broadcast(&s->drained);
        pthread_mutex_unlock(&s->lock);
    }
}

/* MHD's own messages, as JSON log lines; while MHD_start_daemon runs, the
 * last one is also kept to explain a failure to start. They name at most the
 * URL, never headers. */
static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    http_server *s = cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        msg[--n] = '\0';
    if (atomic_load(&s->starting)) {
        pthread_mutex_lock(&s->lock);
        snprintf(s->start_err, sizeof s->start_err, "%s", msg);
        pthread_mutex_unlock(&s->lock);
    }
    log_warn("libmicrohttpd: %s", msg);
}

typedef union {
    struct sockaddr sa;
    struct sockaddr_in v4;
    struct sockaddr_in6 v6;
} any_addr;

/* Parse an IPv4 or IPv6 literal; returns AF_INET, AF_INET6 or -1. */
static int parse_addr(const char *text, int port, any_addr *out)
{
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, text, &out->v4.sin_addr) == 1) {
        out->v4.sin_family = AF_INET;
        out->v4.sin_port = htons((uint16_t)port);
        return AF_INET;
    }
    if (inet_pton(AF_INET6, text, &out->v6.sin6_addr) == 1) {
        out->v6.sin6_family = AF_INET6;
        out->v6.sin6_port = htons((uint16_t)port);
        return AF_INET6;
    }
    return -1;
}

static http_server *server_new(void)
{
    http_server *s = calloc(1, sizeof *s);
    if (s == NULL)
        return NULL;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    /* Waits are bounded by a monotonic deadline: a clock change must not
     * cut or stretch the drain. */
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&s->drained, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    atomic_init(&s->inflight, 0);
    atomic_init(&s->stopping, false);
    atomic_init(&s->starting, false);
    return s;
}

static void server_free(http_server *s)
{
    pthread_cond_destroy(&s->drained);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

http_server *http_start(const http_options *o, http_dispatch_fn fn, void *ctx,
                        char *err, size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium failed to initialise");
        return NULL;
    }
    if (o->port < 0 || o->port > 65535) {
        snprintf(err, errlen, "port %d out of range", o->port);
        return NULL;
    }
    const char *host = o->listen_addr ? o->listen_addr : "127.0.0.1";
    any_addr addr;
    int family = parse_addr(host, o->port, &addr);
    if (family < 0) {
        snprintf(err, errlen, "listen address %s is not an IPv4 or IPv6 "
                 "literal", host);
        return NULL;
    }
    http_server *s = server_new();
    if (s == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    s->fn = fn;
    s->ctx = ctx;
    s->max_body = o->max_body;
    s->timeout_s = o->timeout_s > 0 ? o->timeout_s : 0;

    /* An IPv6 literal gets a dual-stack socket so that "::" also serves
     * IPv4 clients; for a specific address it makes no difference. */
    unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG |
                         MHD_USE_ITC;
    if (family == AF_INET6)
        flags |= MHD_USE_DUAL_STACK;
    unsigned int threads = o->threads > 0 ? (unsigned int)o->threads : 1;

    atomic_store(&s->starting, true);
    s->daemon = MHD_start_daemon(
        flags, (uint16_t)o->port, NULL, NULL, on_access, s,
        /* First, so that MHD's messages about the other options are JSON
         * lines too. */
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, s,
        MHD_OPTION_SOCK_ADDR, &addr.sa,
        MHD_OPTION_THREAD_POOL_SIZE, threads,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)s->timeout_s,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONN_MEMORY_LIMIT,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
        MHD_OPTION_END);
    atomic_store(&s->starting, false);
    if (s->daemon == NULL) {
        pthread_mutex_lock(&s->lock);
        snprintf(err, errlen, "cannot serve HTTP on %s port %d: %s", host,
                 o->port, s->start_err[0] ? s->start_err : "unknown error");
        pthread_mutex_unlock(&s->lock);
        server_free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info =
        MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? (int)info->port : o->port;
    return s;
}

int http_port(const http_server *s)
{
    return s ? s->port : 0;
}

void http_stop(http_server *s)
{
    if (s == NULL)
        return;
    atomic_store(&s->stopping, true);
    /* Stop accepting; connections already accepted go on being served. The
     * listen socket comes back to us and must stay open until
     * MHD_stop_daemon() has joined the workers. */
    MHD_socket lfd = MHD_quiesce_daemon(s->daemon);
    /* Without this the kernel would go on completing handshakes into the
     * backlog that nobody accepts, and those clients would hang until the
     * socket is closed. Shut down, the socket refuses new connections at
     * once while its descriptor stays reserved for MHD's threads. */
    if (lfd != MHD_INVALID_SOCKET)
        shutdown(lfd, SHUT_RDWR);

    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += s->timeout_s;
    pthread_mutex_lock(&s->lock);
    while (atomic_load(&s->inflight) > 0) {
        if (pthread_cond_timedwait(&s->drained, &s->lock, &deadline) ==
            ETIMEDOUT)
            break;
    }
    int left = atomic_load(&s->inflight);
    pthread_mutex_unlock(&s->lock);
    if (left > 0)
        log_warn("http: stopping with %d request(s) still in flight after "
                 "%d s", left, s->timeout_s);

    MHD_stop_daemon(s->daemon);
    if (lfd != MHD_INVALID_SOCKET)
        close(lfd);
    server_free(s);
}

const char *http_header(const http_request *r, const char *name)
{
    if (r == NULL || r->impl == NULL)
        return NULL;
    return MHD_lookup_connection_value(r->impl, MHD_HEADER_KIND, name);
}

const char *http_query(const http_request *r, const char *name)
{
    if (r == NULL || r->impl == NULL)
        return NULL;
    return MHD_lookup_connection_value(r->impl, MHD_GET_ARGUMENT_KIND, name);
}
