/*
 * pgproc.h -- run PostgreSQL's programs (initdb, pg_ctl, pg_config) as the
 * OS account that owns the embedded cluster, and give it the files we write
 * for it. A helper of pgctl.c, split out to keep that file about the
 * cluster's life cycle.
 *
 * PostgreSQL refuses to run as root. When we are root, the programs run as
 * the owner of an existing data directory, or the `postgres` account for a
 * new one: fork, setgroups/setgid/setuid, execv with an argv array -- no
 * shell, no su. As any other user they run as that user.
 */
#ifndef TELOS_PGPROC_H
#define TELOS_PGPROC_H

#include <stddef.h>
#include <sys/types.h>

#define PGPROC_MAX_GROUPS 64

/* Bytes of a program's output kept for error messages (its tail). */
#define PGPROC_OUT_MAX 2048

/* The OS account a program runs as. All zero = ourselves, no switch. */
typedef struct pgproc_account {
    int switch_user;      /* 1: we are root and must become this account */
    uid_t uid;
    gid_t gid;
    gid_t groups[PGPROC_MAX_GROUPS];  /* supplementary groups, looked up
                                       * before fork (NSS is not fork-safe) */
    int ngroups;
    char name[64];
} pgproc_account;

/* Fill a with the account that owns (or will own) the cluster in pg_dir:
 * ourselves unless we are root; as root, the owner of pg_dir if it exists
 * and is not root's, else `postgres`. 0, or -1 with a message in err (no
 * such account). */
int pgproc_account_for(const char *pg_dir, pgproc_account *a, char *err,
                       size_t errlen);

/* Run argv[0] (an absolute path) with argv as account a, in directory /,
 * umask 077, stdin /dev/null and no descriptor of ours but the pipe that
 * captures its stdout and stderr (so a postmaster it starts inherits
 * nothing). out (PGPROC_OUT_MAX bytes) gets the tail of the output,
 * NUL-terminated. Returns the exit status (128 + signal number when killed,
 * 126 when the account switch failed, 127 when it could not be executed),
 * or -1 with errno when no child could be made. */
int pgproc_run(const pgproc_account *a, char *const argv[], char *out);

/* Check that account a can search every directory from / down to dir (an
 * absolute path), as the postmaster must to reach its data directory. The
 * test runs in a child that has become a, so access() answers exactly.
 * No-op unless switching accounts. 0, or -1 with a message in err naming the
 * first directory it cannot search and the fix. */
int pgproc_check_reachable(const pgproc_account *a, const char *dir,
                           char *err, size_t errlen);

/* mkdir -p path: a missing last directory gets mode, missing parents 0755.
 * 0, or -1 with a message in err. */
int pgproc_make_dirs(const char *path, mode_t mode, char *err, size_t errlen);

/* chown path to a when switching (else no-op). 0, or -1 with err. */
int pgproc_give(const pgproc_account *a, const char *path, char *err,
                size_t errlen);

/* Write text to path, mode 0600, owned by a, replaced atomically (through
 * path.tmp and rename). 0, or -1 with a message in err. */
int pgproc_write_file(const pgproc_account *a, const char *path,
                      const char *text, char *err, size_t errlen);

/* Copy the last non-empty line of text to out (len bytes). */
void pgproc_last_line(const char *text, char *out, size_t len);

#endif
