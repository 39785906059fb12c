/*
 * db.c -- connections to the telos database by role (see db.h). The pool
 * lives in db_pool.c.
 */
#include "db.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "bootstrap.h"

const char *db_role_name(db_role r)
{
    switch (r) {
    case DB_ADMIN:  return "postgres";
    case DB_OWNER:  return "telos_owner";
    case DB_APP:    return "telos_app";
    case DB_WORKER: return "telos_worker";
    }
    return NULL;
}

/* Copy a libpq message to err as one line. */
static void put_pq_message(char *err, size_t errlen, const char *what,
                           const char *msg)
{
    int n = snprintf(err, errlen, "%s: %s", what, msg ? msg : "(no message)");
    if (n < 0 || errlen == 0)
        return;
    size_t len = strlen(err);
    while (len > 0 && (err[len - 1] == '\n' || err[len - 1] == ' '))
        err[--len] = '\0';
    /* One line: line breaks, tabs and runs of spaces become one space. */
    char *w = err;
    for (const char *r = err; *r; r++) {
        char ch = *r == '\n' || *r == '\t' ? ' ' : *r;
        if (ch != ' ' || w == err || w[-1] != ' ')
            *w++ = ch;
    }
    *w = '\0';
}

void db_put_error(char *err, size_t errlen, const char *what, PGconn *c,
                  const PGresult *res)
{
    put_pq_message(err, errlen, what,
                   res ? PQresultErrorMessage(res) : PQerrorMessage(c));
}

PGconn *db_connect(const telos_config *cfg, db_role r, const char *dbname,
                   char *err, size_t errlen)
{
    const char *kw[10], *val[10];
    char port[16], password[BOOTSTRAP_PASSWORD_MAX + 1];
    int n = 0;

    if (dbname == NULL)
        dbname = cfg->dbname;
    password[0] = '\0';
    /* Defaults first: with expand_dbname, what the URL says overrides
     * earlier keywords and later keywords override the URL. */
    kw[n] = "application_name"; val[n++] = "telos";
    kw[n] = "connect_timeout";  val[n++] = "10";
    if (cfg->database_url != NULL) {
        kw[n] = "dbname"; val[n++] = cfg->database_url;
        if (r != DB_ADMIN) {
            kw[n] = "user"; val[n++] = db_role_name(r);
            if (bootstrap_password(cfg, r, password, sizeof password) == 0) {
                kw[n] = "password"; val[n++] = password;
            }
        }
        /* Only the first dbname is expanded; this one is a plain name. */
        kw[n] = "dbname"; val[n++] = dbname;
    } else {
        snprintf(port, sizeof port, "%d", cfg->pg_port);
        kw[n] = "host";   val[n++] = cfg->pg_dir;
        kw[n] = "port";   val[n++] = port;
        kw[n] = "user";   val[n++] = db_role_name(r);
        kw[n] = "dbname"; val[n++] = dbname;
    }
    kw[n] = NULL; val[n] = NULL;

    PGconn *c = PQconnectdbParams(kw, val, cfg->database_url != NULL);
    sodium_memzero(password, sizeof password);
    if (c == NULL) {
        snprintf(err, errlen, "cannot connect: out of memory");
        return NULL;
    }
    if (PQstatus(c) != CONNECTION_OK) {
        char what[256];
        if (cfg->database_url != NULL && r == DB_ADMIN)
            snprintf(what, sizeof what, "cannot connect to database %s as "
                     "the TELOS_DATABASE_URL user", dbname);
        else
            snprintf(what, sizeof what, "cannot connect to database %s as %s",
                     dbname, db_role_name(r));
        put_pq_message(err, errlen, what, PQerrorMessage(c));
        PQfinish(c);
        return NULL;
    }
    return c;
}

int db_exec(PGconn *c, const char *sql, char *err, size_t errlen)
{
    PGresult *res = PQexec(c, sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
        PQclear(res);
        return 0;
    }
    put_pq_message(err, errlen, "query failed",
                   res ? PQresultErrorMessage(res) : PQerrorMessage(c));
    PQclear(res);
    return -1;
}
