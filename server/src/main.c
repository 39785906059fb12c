/*
 * main.c -- the `telos` command line: dispatch to subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "apikey.h"
#include "bootstrap.h"
#include "config.h"
#include "demo.h"
#include "ingest.h"
#include "migrate.h"
#include "pgctl.h"
#include "serve.h"
#include "tenant.h"

#define TELOS_VERSION "0.1.0"

static void usage(FILE *f)
{
    fprintf(f,
        "telos " TELOS_VERSION " -- open data platform for AI business coaching\n"
        "\n"
        "usage: telos COMMAND [options]\n"
        "\n"
        "commands:\n"
        "  run              set up the database (start the embedded cluster unless\n"
        "                   TELOS_DATABASE_URL is set, create roles, migrate), load\n"
        "                   the demo tenant, print its API key, serve the API\n"
        "  setup            the database part of `run` only\n"
        "  serve            serve the HTTP API (database must be set up)\n"
        "  db               manage the embedded PostgreSQL: init|start|stop|status|psql\n"
        "  migrate          apply pending schema migrations (--status to list)\n"
        "  tenant           create|key|list tenants and API keys\n"
        "  ingest           load a CSV/NDJSON/JSON file of metric points\n"
        "  demo             load the demo tenant (once) and print its API key\n"
        "  version          print the version\n"
        "\n"
        "`telos COMMAND --help` describes a command. Configuration is read from\n"
        "environment variables (TELOS_HOME, TELOS_PORT, ...): see README.md.\n");
}

static int wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return 1;
    return 0;
}

/* Start (if embedded), bootstrap and migrate. */
static int setup(const telos_config *cfg)
{
    char err[1024];
    if (pgctl_ensure_running(cfg, err, sizeof err) < 0 ||
        bootstrap_run(cfg, err, sizeof err) < 0 ||
        migrate_run(cfg, 1, err, sizeof err) < 0) {
        fprintf(stderr, "telos: %s\n", err);
        return 1;
    }
    return 0;
}

static int demo(const telos_config *cfg)
{
    unsigned char pepper[APIKEY_PEPPER_LEN];
    char key[APIKEY_LEN + 1], err[1024];
    int created;
    if (apikey_pepper_load(cfg, pepper, err, sizeof err) < 0 ||
        demo_load(cfg, pepper, key, &created, err, sizeof err) < 0) {
        fprintf(stderr, "telos: %s\n", err);
        return 1;
    }
    printf("telos: demo tenant %s %s\n", DEMO_TENANT_ID,
           created ? "loaded (a year of metrics, 2 goals, 1 session)"
                   : "already loaded");
    printf("telos: demo API key: %s\n", key);
    return 0;
}

static int run(const telos_config *cfg, int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        printf("usage: telos run\n\nSet up the database, load the demo tenant "
               "and serve the API on TELOS_LISTEN_ADDR:TELOS_PORT\n"
               "(default 127.0.0.1:8080) until SIGINT/SIGTERM.\n");
        return 0;
    }
    int rc = setup(cfg);
    if (rc == 0)
        rc = demo(cfg);
    if (rc == 0) {
        printf("telos: try  curl -H 'Authorization: Bearer <key>' "
               "http://%s:%d/v1/tenant\n", cfg->listen_addr, cfg->http_port);
        fflush(stdout);
        rc = serve_run(cfg);
    }
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 ||
        strcmp(cmd, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "version") == 0 || strcmp(cmd, "--version") == 0) {
        printf("telos %s\n", TELOS_VERSION);
        return 0;
    }
    telos_config cfg;
    char err[512];
    if (config_load(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "telos: %s\n", err);
        return 2;
    }
    int sub_argc = argc - 2;
    char **sub_argv = argv + 2;
    int rc;
    if (strcmp(cmd, "run") == 0)
        rc = run(&cfg, sub_argc, sub_argv);
    else if (strcmp(cmd, "setup") == 0)
        rc = wants_help(sub_argc, sub_argv)
                 ? (printf("usage: telos setup\n\nStart the embedded cluster "
                           "(unless TELOS_DATABASE_URL), create roles and the "
                           "database, apply migrations.\n"), 0)
                 : setup(&cfg);
    else if (strcmp(cmd, "serve") == 0)
        rc = wants_help(sub_argc, sub_argv)
                 ? (printf("usage: telos serve\n\nServe the HTTP API as "
                           "telos_app until SIGINT/SIGTERM (drains in-flight "
                           "requests).\n"), 0)
                 : serve_run(&cfg);
    else if (strcmp(cmd, "demo") == 0)
        rc = wants_help(sub_argc, sub_argv)
                 ? (printf("usage: telos demo\n\nLoad the demo tenant once "
                           "and print its API key.\n"), 0)
                 : demo(&cfg);
    else if (strcmp(cmd, "db") == 0)
        rc = pgctl_cmd(&cfg, sub_argc, sub_argv);
    else if (strcmp(cmd, "migrate") == 0)
        rc = migrate_cmd(&cfg, sub_argc, sub_argv);
    else if (strcmp(cmd, "tenant") == 0)
        rc = tenant_cmd(&cfg, sub_argc, sub_argv);
    else if (strcmp(cmd, "ingest") == 0)
        rc = ingest_cmd(&cfg, sub_argc, sub_argv);
    else {
        fprintf(stderr, "telos: unknown command '%s'\n\n", cmd);
        usage(stderr);
        rc = 2;
    }
    config_free(&cfg);
    return rc;
}
