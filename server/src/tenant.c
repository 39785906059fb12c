/*
 * tenant.c -- `telos tenant create|list|key`: tenants and API keys.
 */
#include "tenant.h"

#include <getopt.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "db.h"

static PGresult *run(PGconn *c, const char *sql, int n, const char *const *p,
                     char *err, size_t errlen)
{
    PGresult *r = PQexecParams(c, sql, n, NULL, p, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(r);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return r;
    snprintf(err, errlen, "%s", PQresultErrorMessage(r));
    err[strcspn(err, "\n")] = '\0';
    PQclear(r);
    return NULL;
}

static int run_ok(PGconn *c, const char *sql, int n, const char *const *p,
                  char *err, size_t errlen)
{
    PGresult *r = run(c, sql, n, p, err, errlen);
    PQclear(r);
    return r ? 0 : -1;
}

int tenant_add_key(PGconn *owner, const unsigned char pepper[APIKEY_PEPPER_LEN],
                   const char *tenant_id, const char *key, const char *name,
                   char *err, size_t errlen)
{
    unsigned char hash[APIKEY_HASH_LEN];
    char hex[2 * APIKEY_HASH_LEN + 3] = "\\x";
    char shown[APIKEY_SHOWN_LEN + 1];
    apikey_hash(pepper, key, strlen(key), hash);
    sodium_bin2hex(hex + 2, sizeof hex - 2, hash, sizeof hash);
    snprintf(shown, sizeof shown, "%s", key);
    const char *p[] = {tenant_id, hex, shown, name};
    /* ON CONFLICT: re-adding the same key (the demo's) is a no-op. */
    return run_ok(owner,
        "INSERT INTO api_keys (tenant_id, id, key_hash, prefix, name) "
        "VALUES ($1, gen_random_uuid(), $2::bytea, $3, $4) "
        "ON CONFLICT (key_hash) DO NOTHING", 4, p, err, errlen);
}

int tenant_create(PGconn *owner, const unsigned char pepper[APIKEY_PEPPER_LEN],
                  const tenant_spec *spec, const char *key, char id_out[37],
                  char *err, size_t errlen)
{
    if (run_ok(owner, "BEGIN", 0, NULL, err, errlen) < 0)
        return -1;
    const char *p0[] = {spec->id};
    PGresult *r = run(owner, "SELECT set_config('app.current_tenant_id', "
                      "id::text, true) FROM (SELECT coalesce($1::uuid, "
                      "gen_random_uuid()) AS id) s", 1, p0, err, errlen);
    if (r == NULL)
        goto fail;
    snprintf(id_out, 37, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    const char *p1[] = {id_out, spec->name, spec->tier, spec->timezone};
    if (run_ok(owner, "INSERT INTO tenants (id, name, tier, timezone) "
               "VALUES ($1, $2, coalesce($3, 'standard'), coalesce($4, 'UTC'))",
               4, p1, err, errlen) < 0)
        goto fail;
    if (tenant_add_key(owner, pepper, id_out, key, "default", err, errlen) < 0)
        goto fail;
    if (run_ok(owner, "COMMIT", 0, NULL, err, errlen) < 0)
        goto fail;
    return 0;
fail:
    PQclear(PQexec(owner, "ROLLBACK"));
    return -1;
}

static void usage(FILE *f)
{
    fprintf(f,
        "usage: telos tenant create NAME [--tier T] [--timezone TZ] [--json]\n"
        "       telos tenant key TENANT_ID [--name NAME] [--json]\n"
        "       telos tenant list\n"
        "\n"
        "create  make a tenant and print its first API key (shown only once;\n"
        "        only a keyed hash is stored). --tier free|standard|enterprise,\n"
        "        --timezone an IANA name such as America/New_York (default UTC).\n"
        "key     issue another API key for an existing tenant.\n"
        "list    list tenants (id, name, tier, timezone, active keys).\n"
        "--json  print {\"tenant_id\": ..., \"api_key\": ...} instead of text.\n");
}

static int cmd_create(const telos_config *cfg, PGconn *c,
                      const unsigned char *pepper, int argc, char **argv)
{
    static const struct option opts[] = {
        {"tier", required_argument, 0, 't'},
        {"timezone", required_argument, 0, 'z'},
        {"json", no_argument, 0, 'j'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    tenant_spec spec = {0};
    int json = 0, o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 't': spec.tier = optarg; break;
        case 'z': spec.timezone = optarg; break;
        case 'j': json = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1 || argv[optind][0] == '\0') {
        usage(stderr);
        return 2;
    }
    spec.name = argv[optind];
    char key[APIKEY_LEN + 1], id[37], err[512];
    apikey_generate(key);
    if (tenant_create(c, pepper, &spec, key, id, err, sizeof err) < 0) {
        fprintf(stderr, "telos tenant create: %s\n", err);
        return 1;
    }
    if (json)
        printf("{\"tenant_id\": \"%s\", \"api_key\": \"%s\"}\n", id, key);
    else
        printf("tenant %s created\napi key (shown once): %s\n", id, key);
    sodium_memzero(key, sizeof key);
    return 0;
}

static int cmd_key(PGconn *c, const unsigned char *pepper, int argc,
                   char **argv)
{
    static const struct option opts[] = {
        {"name", required_argument, 0, 'n'},
        {"json", no_argument, 0, 'j'},
        {0, 0, 0, 0},
    };
    const char *name = "cli";
    int json = 0, o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'n')
            name = optarg;
        else if (o == 'j')
            json = 1;
        else {
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    const char *tenant = argv[optind];
    char key[APIKEY_LEN + 1], err[512];
    apikey_generate(key);
    const char *p[] = {tenant};
    if (run_ok(c, "BEGIN", 0, NULL, err, sizeof err) < 0)
        goto fail;
    PGresult *r = run(c, "SELECT set_config('app.current_tenant_id', "
                      "$1::uuid::text, true), (SELECT count(*) FROM tenants)",
                      1, p, err, sizeof err);
    if (r == NULL)
        goto fail;
    int exists = strcmp(PQgetvalue(r, 0, 1), "1") == 0;
    PQclear(r);
    if (!exists) {
        snprintf(err, sizeof err, "no tenant %s", tenant);
        goto fail;
    }
    if (tenant_add_key(c, pepper, tenant, key, name, err, sizeof err) < 0 ||
        run_ok(c, "COMMIT", 0, NULL, err, sizeof err) < 0)
        goto fail;
    if (json)
        printf("{\"tenant_id\": \"%s\", \"api_key\": \"%s\"}\n", tenant, key);
    else
        printf("api key (shown once): %s\n", key);
    return 0;
fail:
    PQclear(PQexec(c, "ROLLBACK"));
    fprintf(stderr, "telos tenant key: %s\n", err);
    return 1;
}

/* Listing spans tenants, so it reads as telos_worker (BYPASSRLS). */
static int cmd_list(const telos_config *cfg)
{
    char err[512];
    PGconn *w = db_connect(cfg, DB_WORKER, NULL, err, sizeof err);
    if (w == NULL) {
        fprintf(stderr, "telos tenant list: %s\n", err);
        return 1;
    }
    PGresult *r = run(w,
        "SELECT t.id, t.name, t.tier, t.timezone, "
        "  (SELECT count(*) FROM api_keys k WHERE k.tenant_id = t.id "
        "   AND k.revoked_at IS NULL) "
        "FROM tenants t ORDER BY t.created_at, t.id", 0, NULL, err, sizeof err);
    if (r == NULL) {
        fprintf(stderr, "telos tenant list: %s\n", err);
        PQfinish(w);
        return 1;
    }
    printf("%-36s  %-24s  %-10s  %-20s  %s\n", "id", "name", "tier",
           "timezone", "keys");
    for (int i = 0; i < PQntuples(r); i++)
        printf("%-36s  %-24s  %-10s  %-20s  %s\n", PQgetvalue(r, i, 0),
               PQgetvalue(r, i, 1), PQgetvalue(r, i, 2), PQgetvalue(r, i, 3),
               PQgetvalue(r, i, 4));
    PQclear(r);
    PQfinish(w);
    return 0;
}

int tenant_cmd(const telos_config *cfg, int argc, char **argv)
{
    if (argc < 1 || strcmp(argv[0], "--help") == 0 ||
        strcmp(argv[0], "-h") == 0) {
        usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    if (strcmp(argv[0], "list") == 0)
        return cmd_list(cfg);
    if (strcmp(argv[0], "create") != 0 && strcmp(argv[0], "key") != 0) {
        fprintf(stderr, "telos tenant: unknown command '%s'\n", argv[0]);
        usage(stderr);
        return 2;
    }
    unsigned char pepper[APIKEY_PEPPER_LEN];
    char err[512];
    if (apikey_pepper_load(cfg, pepper, err, sizeof err) < 0) {
        fprintf(stderr, "telos tenant: %s\n", err);
        return 1;
    }
    PGconn *c = db_connect(cfg, DB_OWNER, NULL, err, sizeof err);
    if (c == NULL) {
        fprintf(stderr, "telos tenant: %s\n", err);
        return 1;
    }
    int rc = strcmp(argv[0], "create") == 0
                 ? cmd_create(cfg, c, pepper, argc, argv)
                 : cmd_key(c, pepper, argc, argv);
    PQfinish(c);
    sodium_memzero(pepper, sizeof pepper);
    return rc;
}
