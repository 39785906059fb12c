/*
 * config.h -- the telos binary's configuration, read once at start.
 *
 * Every setting comes from an environment variable (see README.md,
 * "Configuration"); nothing is re-read later, so the struct can be shared by
 * all threads without a lock.
 */
#ifndef TELOS_CONFIG_H
#define TELOS_CONFIG_H

#include <stddef.h>

typedef struct telos_config {
    char *home;          /* TELOS_HOME, absolute path; default ./var */
    char *pg_dir;        /* $TELOS_HOME/pg: data directory and Unix socket dir */
    int pg_port;         /* TELOS_PG_PORT, default 5439 (embedded cluster) */
    char *pg_bindir;     /* TELOS_PG_BINDIR, default /usr/lib/postgresql/15/bin */
    char *database_url;  /* TELOS_DATABASE_URL: superuser conninfo of an
                          * existing server; NULL = embedded cluster */
    char *dbname;        /* TELOS_DB_NAME, default "telos" */
    char *listen_addr;   /* TELOS_LISTEN_ADDR, default 127.0.0.1 */
    int http_port;       /* TELOS_PORT, default 8080 */
    int threads;         /* TELOS_THREADS, HTTP worker threads, default 4 */
    int pool_size;       /* TELOS_DB_POOL, libpq connections, default = threads */
    size_t max_body;     /* TELOS_MAX_BODY bytes, default 16 MiB */
    int timeout_s;       /* TELOS_TIMEOUT seconds for idle/slow clients, default 30 */
    int max_batch;       /* TELOS_MAX_BATCH rows per POST /v1/metrics, default 100000 */
} telos_config;

/* Fill cfg from the environment. Returns 0, or -1 with a message in err
 * (errlen bytes) when a variable holds a bad value. Strings are malloc'd and
 * owned by cfg: release them with config_free(). */
int config_load(telos_config *cfg, char *err, size_t errlen);

/* Release the strings of cfg; config_free(NULL) is a no-op. */
void config_free(telos_config *cfg);

#endif
