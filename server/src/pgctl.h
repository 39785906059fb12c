/*
 * pgctl.h -- the embedded PostgreSQL cluster in $TELOS_HOME/pg: create it
 * (initdb), start, stop and query it (pg_ctl), and open psql on it.
 *
 * Layout of a cluster made by pgctl_init():
 *   $TELOS_HOME/pg            data directory and Unix socket directory, mode
 *                             0700: only its owner (and root) can reach the
 *                             socket, which is why local connections use trust
 *   $TELOS_HOME/pg/telos.conf settings telos manages (listen_addresses
 *                             127.0.0.1, port, socket directory, scram,
 *                             logging, shared_preload_libraries); included
 *                             from postgresql.conf and rewritten before every
 *                             start so TELOS_PG_PORT and an extension
 *                             installed later take effect. Your own settings
 *                             go through ALTER SYSTEM (postgresql.auto.conf,
 *                             read last, so it wins).
 *   $TELOS_HOME/pg/log/       server logs (logging_collector, one file per
 *                             weekday) and startup.log (pg_ctl -l: output of
 *                             the postmaster before the collector runs)
 *   $TELOS_HOME/credentials   passwords of the login roles (see bootstrap.h)
 *
 * shared_preload_libraries = 'telos' is written only when telos.so exists in
 * `pg_config --pkglibdir`: the extension may be installed after the cluster
 * was made; the next start picks it up (`telos db restart` when running).
 *
 * PostgreSQL refuses to run as root. When telos runs as root, initdb and
 * pg_ctl run as the owner of an existing data directory, or else as the
 * `postgres` account (fork, setgroups/setgid/setuid, execv -- no shell), and
 * that account must be able to search every directory above $TELOS_HOME/pg.
 * As any other user they run as that user.
 *
 * All of this is a no-op or an error when cfg->database_url is set (an
 * external server is not ours to manage).
 */
#ifndef TELOS_PGCTL_H
#define TELOS_PGCTL_H

#include <stddef.h>

#include "config.h"

/* `telos db COMMAND [ARGS]`: argv[0] is COMMAND (init, start, stop, restart,
 * status, psql, help). Prints to stdout/stderr and returns the process exit
 * code: 0 success; 1 failure; 2 bad usage; status returns 0 when running and
 * 3 when stopped (pg_ctl's convention). `start` also runs bootstrap_run() so
 * the roles and the database exist once it returns. `psql` replaces the
 * process with psql (execv) and returns only on error; see pgctl_exec_psql. */
int pgctl_cmd(const telos_config *cfg, int argc, char **argv);

/* Make sure the embedded cluster exists and runs: pgctl_init() if there is
 * no cluster, pgctl_start() if it is not running. Concurrent callers are
 * serialized by a lock file in $TELOS_HOME. No-op (0) when
 * cfg->database_url is set. 0, or -1 with a message in err. */
int pgctl_ensure_running(const telos_config *cfg, char *err, size_t errlen);

/* Create the cluster: initdb (superuser postgres, trust on the socket, scram
 * on TCP, UTF8, locale C.UTF-8 or C), our pg_hba.conf and telos.conf, the log
 * directory and the credentials file. Returns 0 when created, 1 when a
 * cluster already exists (nothing changed), -1 with a message in err. */
int pgctl_init(const telos_config *cfg, char *err, size_t errlen);

/* Start an existing cluster (pg_ctl start -w) after rewriting telos.conf.
 * Returns 0 when started, 1 when it was already running, -1 with a message
 * in err (including the last line of log/startup.log when the server did
 * not come up). */
int pgctl_start(const telos_config *cfg, char *err, size_t errlen);

/* Stop the cluster (pg_ctl stop -m fast -w). Returns 0 when stopped, 1 when
 * it was not running, -1 with a message in err. */
int pgctl_stop(const telos_config *cfg, char *err, size_t errlen);

/* Whether the cluster runs (pg_ctl status): 1 running, 0 stopped or not
 * initialized, -1 with a message in err when it cannot be told. */
int pgctl_running(const telos_config *cfg, char *err, size_t errlen);

/* Replace the process with psql connected to database cfg->dbname as role
 * (NULL = telos_owner; "admin" = the superuser: postgres on the embedded
 * cluster, the TELOS_DATABASE_URL user on an external server), followed by
 * args (nargs of them) unchanged. Embedded: -h pg_dir -p port -U role -d db.
 * External: -d with the URL's conninfo, user and database overridden; the
 * password goes through PGPASSWORD, never argv. Returns only on failure:
 * -1 with a message in err. */
int pgctl_exec_psql(const telos_config *cfg, const char *role, int nargs,
                    char **args, char *err, size_t errlen);

#endif
