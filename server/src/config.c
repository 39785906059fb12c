/*
 * config.c -- environment variables to telos_config.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *dup_env(const char *name, const char *dflt)
{
    const char *v = getenv(name);
    if (v == NULL || v[0] == '\0')
        v = dflt;
    return v ? strdup(v) : NULL;
}

/* Parse an integer variable within [lo, hi]; *out keeps dflt when unset. */
static int int_env(const char *name, long dflt, long lo, long hi, long *out,
                   char *err, size_t errlen)
{
    const char *v = getenv(name);
    *out = dflt;
    if (v == NULL || v[0] == '\0')
        return 0;
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < lo || n > hi) {
        snprintf(err, errlen, "%s=%s: expected an integer in [%ld, %ld]",
                 name, v, lo, hi);
        return -1;
    }
    *out = n;
    return 0;
}

/* Make path absolute against the current directory, so that the cluster and
 * its socket are found the same way whatever directory a later command runs
 * from (pg_ctl changes directory). */
static char *absolute(const char *path)
{
    if (path[0] == '/')
        return strdup(path);
    char cwd[PATH_MAX];
    if (getcwd(cwd, sizeof cwd) == NULL)
        return NULL;
    size_t n = strlen(cwd) + strlen(path) + 2;
    char *out = malloc(n);
    if (out == NULL)
        return NULL;
    if (strncmp(path, "./", 2) == 0)
        path += 2;
    snprintf(out, n, "%s/%s", cwd, path);
    return out;
}

int config_load(telos_config *cfg, char *err, size_t errlen)
{
    memset(cfg, 0, sizeof *cfg);
    long n;

    const char *home = getenv("TELOS_HOME");
    cfg->home = absolute(home && home[0] ? home : "./var");
    if (cfg->home == NULL) {
        snprintf(err, errlen, "TELOS_HOME: cannot resolve the directory");
        return -1;
    }
    size_t len = strlen(cfg->home) + 4;
    cfg->pg_dir = malloc(len);
    if (cfg->pg_dir == NULL)
        return -1;
    snprintf(cfg->pg_dir, len, "%s/pg", cfg->home);

    if (int_env("TELOS_PG_PORT", 5439, 1, 65535, &n, err, errlen) < 0)
        return -1;
    cfg->pg_port = (int)n;
    cfg->pg_bindir = dup_env("TELOS_PG_BINDIR", "/usr/lib/postgresql/15/bin");
    cfg->database_url = dup_env("TELOS_DATABASE_URL", NULL);
    cfg->dbname = dup_env("TELOS_DB_NAME", "telos");
    cfg->listen_addr = dup_env("TELOS_LISTEN_ADDR", "127.0.0.1");
    if (int_env("TELOS_PORT", 8080, 0, 65535, &n, err, errlen) < 0)
        return -1;
    cfg->http_port = (int)n;
    if (int_env("TELOS_THREADS", 4, 1, 256, &n, err, errlen) < 0)
        return -1;
    cfg->threads = (int)n;
    if (int_env("TELOS_DB_POOL", cfg->threads, 1, 256, &n, err, errlen) < 0)
        return -1;
    cfg->pool_size = (int)n;
    if (int_env("TELOS_MAX_BODY", 16L << 20, 1024, 1L << 30, &n, err, errlen) < 0)
        return -1;
    cfg->max_body = (size_t)n;
    if (int_env("TELOS_TIMEOUT", 30, 1, 3600, &n, err, errlen) < 0)
        return -1;
    cfg->timeout_s = (int)n;
    if (int_env("TELOS_MAX_BATCH", 100000, 1, 10000000, &n, err, errlen) < 0)
        return -1;
    cfg->max_batch = (int)n;
    return 0;
}

void config_free(telos_config *cfg)
{
    if (cfg == NULL)
        return;
    free(cfg->home);
    free(cfg->pg_dir);
    free(cfg->pg_bindir);
    free(cfg->database_url);
    free(cfg->dbname);
    free(cfg->listen_addr);
    memset(cfg, 0, sizeof *cfg);
}
