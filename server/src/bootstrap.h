/*
 * bootstrap.h -- what must exist before migrations can run: the roles, the
 * database, its extensions and privileges, and the passwords of the login
 * roles.
 *
 * Passwords: each login role (telos_owner, telos_app, telos_worker) has a
 * random password (24 bytes from libsodium, hex), taken from the environment
 * variable TELOS_OWNER_PASSWORD / TELOS_APP_PASSWORD / TELOS_WORKER_PASSWORD
 * when set, else from $TELOS_HOME/credentials (mode 0600, lines KEY=VALUE
 * with those same keys), which is created on first use. Bootstrap sets them
 * on the roles (as SCRAM verifiers computed client side, so no plaintext
 * reaches the server or its logs); they are needed for TCP connections
 * (scram-sha-256) and an external server -- the embedded cluster's socket
 * uses trust.
 */
#ifndef TELOS_BOOTSTRAP_H
#define TELOS_BOOTSTRAP_H

#include <stddef.h>

#include "config.h"
#include "db.h"

/* Longest password bootstrap_password() returns, without the NUL. */
#define BOOTSTRAP_PASSWORD_MAX 127

/* As the superuser (DB_ADMIN), idempotently: create the roles telos_owner
 * (LOGIN), telos_app (LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE),
 * telos_worker (LOGIN BYPASSRLS), telos_auth (NOLOGIN) if missing and
 * re-assert those attributes; set their passwords; GRANT telos_auth TO
 * telos_owner; create database cfg->dbname OWNER telos_owner (UTF8) if
 * missing; REVOKE CONNECT, TEMPORARY on it FROM PUBLIC and GRANT them to
 * telos_app and telos_worker; in it CREATE EXTENSION IF NOT EXISTS btree_gist
 * and telos (telos skipped with a warning on stderr when the server does not
 * have it); REVOKE CREATE ON SCHEMA public FROM PUBLIC. Concurrent runs are
 * serialized by an advisory lock. The server must be running.
 * 0, or -1 with a message in err. */
int bootstrap_run(const telos_config *cfg, char *err, size_t errlen);

/* Make sure $TELOS_HOME/credentials holds a password for every login role
 * whose environment variable is unset: missing ones are generated and
 * appended (under flock; the file is created 0600, and made 0600 if it was
 * more open). 0, or -1 with a message in err. */
int bootstrap_credentials_ensure(const telos_config *cfg, char *err,
                                 size_t errlen);

/* The password of login role r (DB_OWNER, DB_APP or DB_WORKER): its
 * environment variable, else its line in the credentials file. Copies it to
 * out (outlen bytes) and returns 0; -1 when there is none (or r is
 * DB_ADMIN, whose password only the URL knows). */
int bootstrap_password(const telos_config *cfg, db_role r, char *out,
                       size_t outlen);

#endif
