/*
 * migrate.c -- apply the embedded migrations (see migrate.h).
 */
#include "migrate.h"

#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <sodium.h>

#include "bootstrap.h"
#include "db.h"
#include "pgctl.h"

/* pg_advisory_lock key serializing migration runs ("telos" + 2). */
#define MIGRATE_LOCK_SQL "SELECT pg_advisory_lock(8386093285179998210)"

static const char *const table_sql =
    "CREATE TABLE IF NOT EXISTS public.schema_migrations (\n"
    "  name text PRIMARY KEY,\n"
    "  checksum text NOT NULL,\n"
    "  applied_at timestamptz NOT NULL DEFAULT now()\n"
    ")";

/* ---- pure parts --------------------------------------------------------- */

void migrate_checksum(const char *sql, char hex[MIGRATE_CHECKSUM_HEX + 1])
{
    unsigned char h[MIGRATE_CHECKSUM_HEX / 2];
    crypto_generichash(h, sizeof h, (const unsigned char *)sql, strlen(sql),
                       NULL, 0);
    sodium_bin2hex(hex, MIGRATE_CHECKSUM_HEX + 1, h, sizeof h);
}

/* NNNN_name.sql: at least 4 digits, '_', then [a-z0-9_]+, ".sql". */
static int valid_name(const char *s)
{
    int digits = 0;
    while (s[digits] >= '0' && s[digits] <= '9')
        digits++;
    if (digits < 4 || s[digits] != '_')
        return 0;
    const char *p = s + digits + 1, *dot = strrchr(s, '.');
    if (dot == NULL || dot == p || strcmp(dot, ".sql") != 0)
        return 0;
    for (; p < dot; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
              *p == '_'))
            return 0;
    return 1;
}

int migrate_check_list(const migration_file *files, int n, char *err,
                       size_t errlen)
{
    for (int i = 0; i < n; i++) {
        const char *name = files[i].name ? files[i].name : "(null)";
        if (!valid_name(name)) {
            snprintf(err, errlen, "migration %s: the name must be "
                     "NNNN_name.sql (digits, '_', lower-case letters, digits "
                     "and '_')", name);
            return -1;
        }
        if (files[i].sql == NULL) {
            snprintf(err, errlen, "migration %s has no text", name);
            return -1;
        }
        if (i > 0 && strcmp(files[i - 1].name, name) >= 0) {
            snprintf(err, errlen, "migration %s must come after %s: names "
                     "must be unique and in ascending order", files[i - 1].name,
                     name);
            return -1;
        }
    }
    return 0;
}

migration_state migrate_state(const char *sum, const char *stored)
{
    if (stored == NULL)
        return MIGRATION_PENDING;
    return strcmp(sum, stored) == 0 ? MIGRATION_APPLIED : MIGRATION_CHANGED;
}

int migrate_error_line(const char *text, int pos)
{
    if (pos < 1)
        return 0;
    int line = 1, chars = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if ((*p & 0xC0) == 0x80)   /* UTF-8 continuation byte */
            continue;
        if (++chars == pos)
            return line;
        if (*p == '\n')
            line++;
    }
    return 0;
}

/* ---- database parts ----------------------------------------------------- */


/* Show warnings of the server, drop notices ("already exists, skipping"). */
static void warnings_only(void *arg, const char *msg)
{
    (void)arg;
    if (strncmp(msg, "WARNING:", 8) == 0)
        fprintf(stderr, "telos: server %s", msg);
}

/* The stored checksum of name in the schema_migrations rows of res. */
static const char *stored_sum(PGresult *res, const char *name)
{
    if (res == NULL)
        return NULL;
    for (int i = 0; i < PQntuples(res); i++)
        if (strcmp(PQgetvalue(res, i, 0), name) == 0)
            return PQgetvalue(res, i, 1);
    return NULL;
}

static int in_list(const migration_file *files, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(files[i].name, name) == 0)
            return 1;
    return 0;
}

/* Rows of schema_migrations (name, checksum, applied_at), or NULL with err.
 * When missing is set, a missing table reads as no rows: *res stays NULL. */
static int read_applied(PGconn *c, int missing_ok, PGresult **out, char *err,
                        size_t errlen)
{
    *out = NULL;
    if (missing_ok) {
        PGresult *r = PQexec(c, "SELECT to_regclass('public.schema_migrations')"
                                " IS NOT NULL");
        if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
            db_put_error(err, errlen, "cannot read schema_migrations", c,
                             r);
            PQclear(r);
            return -1;
        }
        int have = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
        PQclear(r);
        if (!have)
            return 0;
    }
    PGresult *r = PQexec(c, "SELECT name, checksum, applied_at::text "
                            "FROM public.schema_migrations ORDER BY name");
    if (r == NULL || PQresultStatus(r) != PGRES_TUPLES_OK) {
        db_put_error(err, errlen, "cannot read schema_migrations", c, r);
        PQclear(r);
        return -1;
    }
    *out = r;
    return 0;
}

/* Error of the failed migration f: message, detail, hint, and the line of
 * the file where the failing statement is. */
static void put_migration_error(char *err, size_t errlen,
                                const migration_file *f, PGconn *c,
                                PGresult *res)
{
    if (res == NULL) {
        db_put_error(err, errlen, f->name, c, NULL);
        return;
    }
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
    const char *pos = PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION);
    int line = pos ? migrate_error_line(f->sql, atoi(pos)) : 0;
    char where[32] = "";
    if (line > 0)
        snprintf(where, sizeof where, " (line %d)", line);
    snprintf(err, errlen, "migration %s failed%s: %s%s%s%s%s", f->name, where,
             msg ? msg : PQresultErrorMessage(res),
             detail ? "; detail: " : "", detail ? detail : "",
             hint ? "; hint: " : "", hint ? hint : "");
    /* One line: line breaks, tabs and runs of spaces become one space. */
    char *w = err;
    for (const char *r = err; *r; r++) {
        char ch = *r == '\n' || *r == '\t' ? ' ' : *r;
        if (ch != ' ' || w == err || w[-1] != ' ')
            *w++ = ch;
    }
    *w = '\0';
}

/* Apply f (whose checksum is sum) and record it, in one transaction. */
static int apply_one(PGconn *c, const migration_file *f, const char *sum,
                     char *err, size_t errlen)
{
    if (db_exec(c, "BEGIN", err, errlen) < 0)
        return -1;
    /* PQexec runs the whole multi-statement text; it stops at the first
     * error and returns that result. */
    PGresult *res = PQexec(c, f->sql);
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK &&
        st != PGRES_EMPTY_QUERY) {
        put_migration_error(err, errlen, f, c, res);
        PQclear(res);
        PQclear(PQexec(c, "ROLLBACK"));
        return -1;
    }
    PQclear(res);
    if (PQtransactionStatus(c) != PQTRANS_INTRANS) {
        /* Nothing left to roll back: what ran before its COMMIT stays. */
        snprintf(err, errlen, "migration %s ended the transaction it runs "
                 "in (a migration must not contain BEGIN, COMMIT or "
                 "ROLLBACK): it is not recorded, and what it did before that "
                 "may be committed; check the database by hand", f->name);
        return -1;
    }
    /* RESET ALL: a SET (or SET ROLE) in the file must not outlive it. */
    const char *params[2] = { f->name, sum };
    if (db_exec(c, "RESET ALL", err, errlen) < 0) {
        PQclear(PQexec(c, "ROLLBACK"));
        return -1;
    }
    res = PQexecParams(c, "INSERT INTO public.schema_migrations "
                       "(name, checksum) VALUES ($1, $2)", 2, NULL, params,
                       NULL, NULL, 0);
    if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
        db_put_error(err, errlen, "cannot record the migration", c, res);
        PQclear(res);
        PQclear(PQexec(c, "ROLLBACK"));
        return -1;
    }
    PQclear(res);
    if (db_exec(c, "COMMIT", err, errlen) < 0) {
        char why[512];
        snprintf(why, sizeof why, "%s", err);
        snprintf(err, errlen, "migration %s failed at commit: %s", f->name,
                 why);
        return -1;
    }
    return 0;
}

/* Fail when any file was applied with another checksum. */
static int check_changed(const migration_file *files, int n, PGresult *applied,
                         char *err, size_t errlen)
{
    char sum[MIGRATE_CHECKSUM_HEX + 1];
    for (int i = 0; i < n; i++) {
        const char *stored = stored_sum(applied, files[i].name);
        migrate_checksum(files[i].sql, sum);
        if (migrate_state(sum, stored) == MIGRATION_CHANGED) {
            snprintf(err, errlen, "migration %s was changed after it was "
                     "applied: the database has checksum %s, this binary %s; "
                     "hint: never edit a released migration, add a new one "
                     "instead (restore the file as it was)", files[i].name,
                     stored, sum);
            return -1;
        }
    }
    return 0;
}

int migrate_apply(const telos_config *cfg, const migration_file *files,
                  int n, int verbose, char *err, size_t errlen)
{
    if (migrate_check_list(files, n, err, errlen) < 0)
        return -1;
    PGconn *c = db_connect(cfg, DB_OWNER, NULL, err, errlen);
    if (c == NULL)
        return -1;
    PQsetNoticeProcessor(c, warnings_only, NULL);

    int rc = -1, done = 0;
    PGresult *applied = NULL;
    char sum[MIGRATE_CHECKSUM_HEX + 1];
    if (db_exec(c, MIGRATE_LOCK_SQL, err, errlen) < 0 ||
        db_exec(c, table_sql, err, errlen) < 0 ||
        read_applied(c, 0, &applied, err, errlen) < 0 ||
        check_changed(files, n, applied, err, errlen) < 0)
        goto out;
    for (int i = 0; i < n; i++) {
        if (stored_sum(applied, files[i].name) != NULL)
            continue;
        migrate_checksum(files[i].sql, sum);
        if (apply_one(c, &files[i], sum, err, errlen) < 0)
            goto out;
        done++;
        if (verbose)
            printf("applied %s\n", files[i].name);
    }
    for (int i = 0; i < PQntuples(applied); i++)
        if (!in_list(files, n, PQgetvalue(applied, i, 0)))
            fprintf(stderr, "telos: warning: the database has migration %s, "
                    "which this binary does not know (is it older?)\n",
                    PQgetvalue(applied, i, 0));
    if (verbose)
        printf("migrations: %d applied, %d already applied\n", done, n - done);
    rc = 0;
out:
    PQclear(applied);
    PQfinish(c);  /* ends the session, releasing the advisory lock */
    return rc;
}

int migrate_run(const telos_config *cfg, int verbose, char *err,
                size_t errlen)
{
    return migrate_apply(cfg, telos_migrations, telos_migrations_count,
                         verbose, err, errlen);
}

int migrate_print_status(const telos_config *cfg, const migration_file *files,
                         int n, FILE *out, char *err, size_t errlen)
{
    if (migrate_check_list(files, n, err, errlen) < 0)
        return -1;
    PGconn *c = db_connect(cfg, DB_OWNER, NULL, err, errlen);
    if (c == NULL)
        return -1;
    PGresult *applied = NULL;
    if (read_applied(c, 1, &applied, err, errlen) < 0) {
        PQfinish(c);
        return -1;
    }
    int changed = 0;
    char sum[MIGRATE_CHECKSUM_HEX + 1];
    for (int i = 0; i < n; i++) {
        const char *stored = stored_sum(applied, files[i].name);
        migrate_checksum(files[i].sql, sum);
        switch (migrate_state(sum, stored)) {
        case MIGRATION_PENDING:
            fprintf(out, "%-40s pending\n", files[i].name);
            break;
        case MIGRATION_APPLIED:
            for (int r = 0; r < PQntuples(applied); r++)
                if (strcmp(PQgetvalue(applied, r, 0), files[i].name) == 0)
                    fprintf(out, "%-40s applied %s\n", files[i].name,
                            PQgetvalue(applied, r, 2));
            break;
        case MIGRATION_CHANGED:
            fprintf(out, "%-40s CHANGED (database %s, binary %s)\n",
                    files[i].name, stored, sum);
            changed++;
            break;
        }
    }
    for (int r = 0; applied && r < PQntuples(applied); r++)
        if (!in_list(files, n, PQgetvalue(applied, r, 0)))
            fprintf(out, "%-40s applied %s, not in this binary\n",
                    PQgetvalue(applied, r, 0), PQgetvalue(applied, r, 2));
    PQclear(applied);
    PQfinish(c);
    return changed;
}

static void usage(FILE *f)
{
    fputs("usage: telos migrate [--status]\n"
          "\n"
          "Apply the migrations compiled into this binary that the database\n"
          "does not have yet, each in one transaction, as telos_owner. Starts\n"
          "the embedded cluster and bootstraps roles and database if needed.\n"
          "\n"
          "  --status  list each migration as applied, pending or CHANGED;\n"
          "            changes nothing\n", f);
}

int migrate_cmd(const telos_config *cfg, int argc, char **argv)
{
    int status = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--status") == 0) {
            status = 1;
        } else if (strcmp(argv[i], "--help") == 0 ||
                   strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "telos migrate: unknown argument %s\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }
    char err[2048];
    if (status) {
        int changed = migrate_print_status(cfg, telos_migrations,
                                           telos_migrations_count, stdout,
                                           err, sizeof err);
        if (changed < 0) {
            fprintf(stderr, "telos migrate: %s\n", err);
            return 1;
        }
        return changed > 0 ? 1 : 0;
    }
    if (pgctl_ensure_running(cfg, err, sizeof err) < 0 ||
        bootstrap_run(cfg, err, sizeof err) < 0 ||
        migrate_run(cfg, 1, err, sizeof err) < 0) {
        fprintf(stderr, "telos migrate: %s\n", err);
        return 1;
    }
    return 0;
}
