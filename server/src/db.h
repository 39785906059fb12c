/*
 * db.h -- connections to the telos database, by role, and the pool the HTTP
 * server draws from.
 *
 * Roles (created by bootstrap, see docs/ARCHITECTURE.md):
 *   DB_ADMIN   the cluster superuser: creates roles, the database, extensions
 *   DB_OWNER   telos_owner: owns the schema, runs migrations, `telos db psql`
 *   DB_APP     telos_app: the only role requests use; owns nothing, no BYPASSRLS
 *   DB_WORKER  telos_worker: BYPASSRLS, for background jobs spanning tenants
 *
 * Embedded cluster: Unix socket in cfg->pg_dir, trust auth on that socket
 * (the directory is private to the account running the cluster). External
 * server: cfg->database_url for DB_ADMIN; the other roles connect with the
 * same conninfo and user/password overridden (TELOS_<ROLE>_PASSWORD or the
 * credentials file written at bootstrap).
 */
#ifndef TELOS_DB_H
#define TELOS_DB_H

#include <libpq-fe.h>
#include <stddef.h>

#include "config.h"

typedef enum { DB_ADMIN, DB_OWNER, DB_APP, DB_WORKER } db_role;

/* Name of the PostgreSQL role for r ("postgres" for DB_ADMIN: the embedded
 * cluster's superuser; on an external server db_connect ignores it for
 * DB_ADMIN and the URL's user decides). */
const char *db_role_name(db_role r);

/* Connect as role r to database dbname (NULL = cfg->dbname). Returns an open
 * connection (caller PQfinish()es it), or NULL with a message in err. */
PGconn *db_connect(const telos_config *cfg, db_role r, const char *dbname,
                   char *err, size_t errlen);

/* Write "WHAT: MESSAGE" to err as one line, MESSAGE being the error of res,
 * or of connection c when res is NULL (libpq messages end in a newline and
 * may carry an indented hint on the next line). */
void db_put_error(char *err, size_t errlen, const char *what, PGconn *c,
                  const PGresult *res);

/* Run sql (no parameters) and expect success; 0 or -1 with message in err. */
int db_exec(PGconn *c, const char *sql, char *err, size_t errlen);

/* A fixed-size pool of DB_APP connections shared by the HTTP threads. */
typedef struct db_pool db_pool;

/* Open n connections as DB_APP. NULL with message in err on failure. */
db_pool *db_pool_new(const telos_config *cfg, int n, char *err, size_t errlen);

/* Borrow a connection, waiting until one is free. A broken connection is
 * reset before it is handed out. Never returns NULL. */
PGconn *db_pool_get(db_pool *p);

/* Return a connection. If it is inside a transaction (an error path), it is
 * rolled back first so the next borrower starts clean. */
void db_pool_put(db_pool *p, PGconn *c);

/* Close every connection; db_pool_free(NULL) is a no-op. */
void db_pool_free(db_pool *p);

#endif
