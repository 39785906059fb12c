/*
 * serve.c -- run the API server until a signal asks it to stop.
 *
 * SIGINT and SIGTERM are blocked in every thread (the mask is inherited by
 * libmicrohttpd's workers) and taken synchronously with sigwait() by the
 * main thread, so no handler runs in a worker in the middle of a request.
 */
#include "serve.h"

#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "api.h"
#include "http.h"
#include "log.h"

int serve_run(const telos_config *cfg)
{
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    static api_ctx ctx;
    char err[512];
    ctx.cfg = cfg;
    if (apikey_pepper_load(cfg, ctx.pepper, err, sizeof err) < 0) {
        fprintf(stderr, "telos serve: %s\n", err);
        return 1;
    }
    ctx.pool = db_pool_new(cfg, cfg->pool_size, err, sizeof err);
    if (ctx.pool == NULL) {
        fprintf(stderr, "telos serve: %s\n", err);
        return 1;
    }
    http_options o = {
        .listen_addr = cfg->listen_addr,
        .port = cfg->http_port,
        .threads = cfg->threads,
        .max_body = cfg->max_body,
        .timeout_s = cfg->timeout_s,
    };
    http_server *s = http_start(&o, api_dispatch, &ctx, err, sizeof err);
    if (s == NULL) {
        fprintf(stderr, "telos serve: %s\n", err);
        db_pool_free(ctx.pool);
        return 1;
    }
    const char *fmt = cfg->listen_addr[0] != '[' && strchr(cfg->listen_addr, ':')
                          ? "telos: listening on http://[%s]:%d\n"
                          : "telos: listening on http://%s:%d\n";
    printf(fmt, cfg->listen_addr, http_port(s));
    fflush(stdout);
    log_info("listening on %s port %d", cfg->listen_addr, http_port(s));

    int sig = 0;
    sigwait(&sigs, &sig);
    log_info("signal %d: draining in-flight requests", sig);
    http_stop(s);
    db_pool_free(ctx.pool);
    log_info("stopped");
    return 0;
}
