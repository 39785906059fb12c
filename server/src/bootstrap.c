/*
 * bootstrap.c -- roles, database, extensions and role passwords (see
 * bootstrap.h). Every statement is safe to re-run, so bootstrap runs at every
 * start and converges whatever state it finds.
 */
#include "bootstrap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

/* pg_advisory_lock key serializing bootstraps ("telos" + 1). Advisory locks
 * are per database: it is taken in the maintenance database and held until
 * the work in the telos database is done. */
#define BOOTSTRAP_LOCK_SQL "SELECT pg_advisory_lock(8386093285179998209)"

/* Random bytes per generated password (hex doubles them). */
#define PASSWORD_BYTES 24

/* Largest credentials file we read; it holds three short lines. */
#define CREDENTIALS_MAX 8192

static const struct {
    db_role role;
    const char *key;     /* environment variable and credentials file key */
} login_roles[] = {
    { DB_OWNER,  "TELOS_OWNER_PASSWORD" },
    { DB_APP,    "TELOS_APP_PASSWORD" },
    { DB_WORKER, "TELOS_WORKER_PASSWORD" },
};
#define N_LOGIN_ROLES (int)(sizeof login_roles / sizeof login_roles[0])

/* Roles and their attributes. ALTER re-asserts the attributes each run so a
 * role changed by hand (or made by an older version) converges. */
static const char *const roles_sql =
    "DO $$\n"
    "BEGIN\n"
    "  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='telos_owner') THEN\n"
    "    CREATE ROLE telos_owner LOGIN;\n"
    "  END IF;\n"
    "  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='telos_app') THEN\n"
    "    CREATE ROLE telos_app LOGIN;\n"
    "  END IF;\n"
    "  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='telos_worker') THEN\n"
    "    CREATE ROLE telos_worker LOGIN;\n"
    "  END IF;\n"
    "  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='telos_auth') THEN\n"
    "    CREATE ROLE telos_auth NOLOGIN;\n"
    "  END IF;\n"
    "END\n"
    "$$;\n"
    "ALTER ROLE telos_owner LOGIN NOSUPERUSER NOCREATEROLE NOREPLICATION;\n"
    "ALTER ROLE telos_app LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB "
    "NOCREATEROLE NOREPLICATION;\n"
    "ALTER ROLE telos_worker LOGIN NOSUPERUSER BYPASSRLS NOCREATEDB "
    "NOCREATEROLE NOREPLICATION;\n"
    "ALTER ROLE telos_auth NOLOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB "
    "NOCREATEROLE NOREPLICATION;\n"
    "GRANT telos_auth TO telos_owner;\n"
    /* Migrations (as telos_owner) schedule background jobs that run as
     * telos_worker; telos.add_job demands the privileges of the run_as
     * role, so that nobody can run code as a BYPASSRLS role unasked. */
    "GRANT telos_worker TO telos_owner;\n";

/* ---- credentials ------------------------------------------------------ */

static void credentials_path(const telos_config *cfg, char *out, size_t len)
{
    snprintf(out, len, "%s/credentials", cfg->home);
}

/* Find key in the KEY=VALUE lines of text; copy its value to out. */
static int find_value(const char *text, const char *key, char *out,
                      size_t outlen)
{
    size_t klen = strlen(key);
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > klen && strncmp(line, key, klen) == 0 && line[klen] == '=') {
            size_t vlen = len - klen - 1;
            if (vlen > 0 && line[klen + 1 + vlen - 1] == '\r')
                vlen--;
            if (vlen == 0 || vlen >= outlen)
                return -1;
            memcpy(out, line + klen + 1, vlen);
            out[vlen] = '\0';
            return 0;
        }
        line = end ? end + 1 : NULL;
    }
    return -1;
}

/* Read at most CREDENTIALS_MAX - 1 bytes of fd from its start. */
static int read_all(int fd, char *buf, size_t cap)
{
    size_t len = 0;
    if (lseek(fd, 0, SEEK_SET) < 0)
        return -1;
    for (;;) {
        ssize_t k = read(fd, buf + len, cap - 1 - len);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return -1;
        if (k == 0 || (len += (size_t)k) == cap - 1)
            break;
    }
    buf[len] = '\0';
    return 0;
}

int bootstrap_password(const telos_config *cfg, db_role r, char *out,
                       size_t outlen)
{
    const char *key = NULL;
    for (int i = 0; i < N_LOGIN_ROLES; i++)
        if (login_roles[i].role == r)
            key = login_roles[i].key;
    if (key == NULL)
        return -1;
    const char *env = getenv(key);
    if (env != NULL && env[0] != '\0') {
        if (strlen(env) >= outlen)
            return -1;
        strcpy(out, env);
        return 0;
    }

    char path[4096], text[CREDENTIALS_MAX];
    credentials_path(cfg, path, sizeof path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = read_all(fd, text, sizeof text);
    close(fd);
    if (rc == 0)
        rc = find_value(text, key, out, outlen);
    sodium_memzero(text, sizeof text);
    return rc;
}

int bootstrap_credentials_ensure(const telos_config *cfg, char *err,
                                 size_t errlen)
{
    char path[4096], text[CREDENTIALS_MAX], value[BOOTSTRAP_PASSWORD_MAX + 1];
    credentials_path(cfg, path, sizeof path);
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium failed to initialize");
        return -1;
    }
    if (mkdir(cfg->home, 0700) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cannot create %s: %s", cfg->home,
                 strerror(errno));
        return -1;
    }
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    /* The lock makes concurrent first runs agree on one set of passwords. */
    int rc = -1;
    struct stat st;
    if (flock(fd, LOCK_EX) < 0 || fstat(fd, &st) < 0 ||
        ((st.st_mode & 077) != 0 && fchmod(fd, 0600) < 0) ||
        read_all(fd, text, sizeof text) < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        goto out;
    }
    for (int i = 0; i < N_LOGIN_ROLES; i++) {
        const char *key = login_roles[i].key;
        const char *env = getenv(key);
        if ((env != NULL && env[0] != '\0') ||
            find_value(text, key, value, sizeof value) == 0)
            continue;
        unsigned char raw[PASSWORD_BYTES];
        char hex[2 * PASSWORD_BYTES + 1], line[256];
        randombytes_buf(raw, sizeof raw);
        sodium_bin2hex(hex, sizeof hex, raw, sizeof raw);
        /* A file written by hand may lack the final newline. */
        size_t tlen = strlen(text);
        int n = snprintf(line, sizeof line, "%s%s=%s\n",
                         tlen > 0 && text[tlen - 1] != '\n' ? "\n" : "",
                         key, hex);
        ssize_t w = -1;
        if (lseek(fd, 0, SEEK_END) >= 0)
            w = write(fd, line, (size_t)n);
        sodium_memzero(hex, sizeof hex);
        sodium_memzero(line, sizeof line);
        if (w != n) {
            snprintf(err, errlen, "cannot write %s: %s", path,
                     w < 0 ? strerror(errno) : "short write");
            goto out;
        }
        if (read_all(fd, text, sizeof text) < 0) {
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            goto out;
        }
    }
    if (fsync(fd) < 0) {
        snprintf(err, errlen, "cannot sync %s: %s", path, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    sodium_memzero(text, sizeof text);
    sodium_memzero(value, sizeof value);
    close(fd);
    return rc;
}

/* ---- SQL helpers -------------------------------------------------------- */


/* Whether the one-parameter query returns a row: 1 yes, 0 no, -1 error. */
static int exists(PGconn *c, const char *sql, const char *param, char *err,
                  size_t errlen)
{
    PGresult *res = PQexecParams(c, sql, 1, NULL, &param, NULL, NULL, 0);
    if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
        db_put_error(err, errlen, "query failed", c, res);
        PQclear(res);
        return -1;
    }
    int found = PQntuples(res) > 0;
    PQclear(res);
    return found;
}

/* Run "<prefix><quoted name><suffix>" where name is quoted as an identifier
 * or a literal: utility statements take no parameters. */
static int exec_quoted(PGconn *c, const char *prefix, const char *name,
                       int literal, const char *suffix, char *err,
                       size_t errlen)
{
    char *q = literal ? PQescapeLiteral(c, name, strlen(name))
                      : PQescapeIdentifier(c, name, strlen(name));
    if (q == NULL) {
        db_put_error(err, errlen, "cannot quote", c, NULL);
        return -1;
    }
    size_t len = strlen(prefix) + strlen(q) + strlen(suffix) + 1;
    char *sql = malloc(len);
    int rc = -1;
    if (sql == NULL) {
        snprintf(err, errlen, "out of memory");
    } else {
        snprintf(sql, len, "%s%s%s", prefix, q, suffix);
        rc = db_exec(c, sql, err, errlen);
        sodium_memzero(sql, len);  /* may hold a password verifier */
        free(sql);
    }
    PQfreemem(q);
    return rc;
}

/* ---- bootstrap ---------------------------------------------------------- */

/* Set each login role's password, as a SCRAM verifier made here. */
static int set_passwords(const telos_config *cfg, PGconn *a, char *err,
                         size_t errlen)
{
    char pw[BOOTSTRAP_PASSWORD_MAX + 1];
    for (int i = 0; i < N_LOGIN_ROLES; i++) {
        db_role r = login_roles[i].role;
        if (bootstrap_password(cfg, r, pw, sizeof pw) < 0) {
            snprintf(err, errlen, "no password for %s: set %s or check %s/"
                     "credentials", db_role_name(r), login_roles[i].key,
                     cfg->home);
            return -1;
        }
        char *verifier = PQencryptPasswordConn(a, pw, db_role_name(r),
                                               "scram-sha-256");
        sodium_memzero(pw, sizeof pw);
        if (verifier == NULL) {
            db_put_error(err, errlen, "cannot hash a password", a, NULL);
            return -1;
        }
        char prefix[64];
        snprintf(prefix, sizeof prefix, "ALTER ROLE %s PASSWORD ",
                 db_role_name(r));
        int rc = exec_quoted(a, prefix, verifier, 1, "", err, errlen);
        PQfreemem(verifier);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* The database to connect to before ours exists: postgres on the embedded
 * cluster, the one named in TELOS_DATABASE_URL on an external server (a
 * hosted server may not let us into postgres). Caller frees. */
static char *maintenance_db(const telos_config *cfg)
{
    const char *name = "postgres";
    PQconninfoOption *opts = NULL;
    if (cfg->database_url != NULL &&
        (opts = PQconninfoParse(cfg->database_url, NULL)) != NULL) {
        for (PQconninfoOption *o = opts; o->keyword; o++)
            if (strcmp(o->keyword, "dbname") == 0 && o->val && o->val[0])
                name = o->val;
    }
    char *out = strdup(name);
    PQconninfoFree(opts);
    return out;
}

/* Database-level work, in the maintenance database. */
static int make_database(const telos_config *cfg, PGconn *a, char *err,
                         size_t errlen)
{
    int found = exists(a, "SELECT 1 FROM pg_database WHERE datname = $1",
                       cfg->dbname, err, errlen);
    if (found < 0)
        return -1;
    /* template0 so the encoding can be chosen whatever template1 has. */
    if (!found && exec_quoted(a, "CREATE DATABASE ", cfg->dbname, 0,
                              " OWNER telos_owner ENCODING 'UTF8' "
                              "TEMPLATE template0", err, errlen) < 0)
        return -1;
    if (exec_quoted(a, "ALTER DATABASE ", cfg->dbname, 0,
                    " OWNER TO telos_owner", err, errlen) < 0 ||
        exec_quoted(a, "REVOKE CONNECT, TEMPORARY ON DATABASE ", cfg->dbname,
                    0, " FROM PUBLIC", err, errlen) < 0 ||
        exec_quoted(a, "GRANT CONNECT, TEMPORARY ON DATABASE ", cfg->dbname,
                    0, " TO telos_app, telos_worker", err, errlen) < 0)
        return -1;
    return 0;
}

/* Work inside the telos database. */
static int prepare_database(PGconn *t, char *err, size_t errlen)
{
    if (db_exec(t, "SET client_min_messages = warning", err, errlen) < 0 ||
        db_exec(t, "CREATE EXTENSION IF NOT EXISTS btree_gist", err,
                errlen) < 0)
        return -1;
    /* The schema depends on the engine: no telos extension, no telos.
     * UPDATE brings an existing database to the installed version. */
    if (db_exec(t, "CREATE EXTENSION IF NOT EXISTS telos", err, errlen) < 0 ||
        db_exec(t, "ALTER EXTENSION telos UPDATE", err, errlen) < 0)
        return -1;
    /* The vector type the seed's coaching_sessions needs: pgvector where
     * a deployment already created it (same SQL surface), else our own
     * telos_vector, in schema public so `vector(1536)` and the
     * vector_cosine_ops opclass resolve as in the seed's DDL. */
    if (db_exec(t,
                "DO $$ BEGIN "
                "IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'telos_vector') THEN "
                "  ALTER EXTENSION telos_vector UPDATE; "
                "ELSIF NOT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') THEN "
                "  CREATE EXTENSION telos_vector SCHEMA public; "
                "END IF; END $$",
                err, errlen) < 0)
        return -1;
    return db_exec(t, "REVOKE CREATE ON SCHEMA public FROM PUBLIC", err,
                   errlen);
}

int bootstrap_run(const telos_config *cfg, char *err, size_t errlen)
{
    if (bootstrap_credentials_ensure(cfg, err, errlen) < 0)
        return -1;
    char *maint = maintenance_db(cfg);
    if (maint == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    PGconn *a = db_connect(cfg, DB_ADMIN, maint, err, errlen);
    free(maint);
    if (a == NULL)
        return -1;

    int rc = -1;
    PGconn *t = NULL;
    if (db_exec(a, "SET client_min_messages = warning", err, errlen) < 0 ||
        db_exec(a, BOOTSTRAP_LOCK_SQL, err, errlen) < 0 ||
        db_exec(a, roles_sql, err, errlen) < 0 ||
        set_passwords(cfg, a, err, errlen) < 0 ||
        make_database(cfg, a, err, errlen) < 0)
        goto out;
    t = db_connect(cfg, DB_ADMIN, cfg->dbname, err, errlen);
    if (t == NULL || prepare_database(t, err, errlen) < 0)
        goto out;
    rc = 0;
out:
    PQfinish(t);
    PQfinish(a);  /* ends the session, releasing the advisory lock */
    return rc;
}
