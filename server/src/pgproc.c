/*
 * pgproc.c -- PostgreSQL's programs run as the cluster's account (see
 * pgproc.h).
 */
#include "pgproc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Fill a with the account that owns (or will own) the cluster. Group
 * membership is looked up here, before fork, because NSS lookups are not
 * safe in the child of a possibly multi-threaded process. */
int pgproc_account_for(const char *pg_dir, pgproc_account *a, char *err,
                       size_t errlen)
{
    memset(a, 0, sizeof *a);
    if (geteuid() != 0) {
        a->uid = geteuid();
        a->gid = getegid();
        return 0;
    }
    struct passwd pwbuf, *pw = NULL;
    char buf[4096];
    struct stat st;
    /* An existing cluster keeps its owner; a new one belongs to postgres. */
    if (stat(pg_dir, &st) == 0 && st.st_uid != 0)
        getpwuid_r(st.st_uid, &pwbuf, buf, sizeof buf, &pw);
    else
        getpwnam_r("postgres", &pwbuf, buf, sizeof buf, &pw);
    if (pw == NULL) {
        snprintf(err, errlen, "PostgreSQL refuses to run as root and there is "
                 "no 'postgres' account to own the cluster: create one "
                 "(adduser --system --group postgres) or run telos as a "
                 "normal user");
        return -1;
    }
    a->switch_user = 1;
    a->uid = pw->pw_uid;
    a->gid = pw->pw_gid;
    snprintf(a->name, sizeof a->name, "%s", pw->pw_name);
    a->ngroups = PGPROC_MAX_GROUPS;
    if (getgrouplist(pw->pw_name, pw->pw_gid, a->groups, &a->ngroups) < 0) {
        a->groups[0] = pw->pw_gid;
        a->ngroups = 1;
    }
    return 0;
}

/* In a child: become account a (no-op unless switching). */
static int become(const pgproc_account *a)
{
    if (!a->switch_user)
        return 0;
    if (setgroups((size_t)a->ngroups, a->groups) < 0 || setgid(a->gid) < 0 ||
        setuid(a->uid) < 0)
        return -1;
    return setuid(0) == 0 ? -1 : 0;   /* must not be able to go back */
}

/* In a child: stdin from /dev/null, stdout and stderr to fd, nothing else
 * open -- the postmaster pg_ctl starts must not inherit our descriptors. */
static void child_fds(int fd)
{
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0 && devnull != 0)
        dup2(devnull, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    closefrom(3);
}

/* Run argv[0] (an absolute path) with argv as account a, its stdout and
 * stderr captured in out (the last PGPROC_OUT_MAX - 1 bytes, NUL-terminated).
 * Returns its exit status (128 + signal when killed), or -1 with errno. */
int pgproc_run(const pgproc_account *a, char *const argv[], char *out)
{
    int fds[2];
    out[0] = '\0';
    if (pipe2(fds, O_CLOEXEC) < 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        errno = e;
        return -1;
    }
    if (pid == 0) {
        child_fds(fds[1]);
        /* chdir: the child may not be allowed in our directory. */
        if (become(a) < 0 || chdir("/") < 0) {
            dprintf(2, "cannot switch to account %s\n", a->name);
            _exit(126);
        }
        umask(077);
        execv(argv[0], argv);
        dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    char chunk[512];
    for (;;) {
        ssize_t k = read(fds[0], chunk, sizeof chunk);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        /* Keep the tail: errors come last. (chunk < PGPROC_OUT_MAX.) */
        size_t add = (size_t)k;
        if (len + add > PGPROC_OUT_MAX - 1) {
            size_t drop = len + add - (PGPROC_OUT_MAX - 1);
            memmove(out, out + drop, len - drop);
            len -= drop;
        }
        memcpy(out + len, chunk, add);
        len += add;
    }
    out[len] = '\0';
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* The last non-empty line of text, copied to out. */
void pgproc_last_line(const char *text, char *out, size_t len)
{
    const char *end = text + strlen(text);
    while (end > text && (end[-1] == '\n' || end[-1] == ' '))
        end--;
    const char *start = end;
    while (start > text && start[-1] != '\n')
        start--;
    snprintf(out, len, "%.*s", (int)(end - start), start);
}

/* Check that account a can search every directory from / down to dir:
 * otherwise the postmaster cannot reach its data directory. The check runs
 * in a child that has become a, so access() answers for it exactly (groups,
 * ACLs). Only needed when switching accounts. */
int pgproc_check_reachable(const pgproc_account *a, const char *dir,
                           char *err, size_t errlen)
{
    if (!a->switch_user)
        return 0;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) < 0)
        goto fail;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        goto fail;
    }
    if (pid == 0) {
        if (become(a) < 0)
            _exit(2);
        char prefix[PATH_MAX];
        size_t n = strlen(dir);
        for (size_t i = 1; i <= n && i < sizeof prefix; i++) {
            if (dir[i] != '/' && dir[i] != '\0')
                continue;
            memcpy(prefix, dir, i);
            prefix[i] = '\0';
            if (access(prefix, X_OK) < 0) {
                ssize_t w = write(fds[1], prefix, i);
                _exit(w < 0 ? 2 : 1);
            }
        }
        _exit(0);
    }
    close(fds[1]);
    char bad[PATH_MAX];
    ssize_t k;
    while ((k = read(fds[0], bad, sizeof bad - 1)) < 0 && errno == EINTR)
        ;
    bad[k > 0 ? k : 0] = '\0';
    close(fds[0]);
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            goto fail;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (bad[0] != '\0')
        snprintf(err, errlen, "the cluster runs as the '%s' account "
                 "(PostgreSQL refuses root), which cannot reach %s: "
                 "directory %s is not searchable by it; fix: chmod o+x %s "
                 "(or give that account access), or use a TELOS_HOME it can "
                 "reach", a->name, dir, bad, bad);
    else
        snprintf(err, errlen, "cannot check access of account '%s' to %s",
                 a->name, dir);
    return -1;
fail:
    snprintf(err, errlen, "cannot check access to %s: %s", dir,
             strerror(errno));
    return -1;
}

/* mkdir -p: missing directories get mode (the last one) or 0755 (parents). */
int pgproc_make_dirs(const char *path, mode_t mode, char *err, size_t errlen)
{
    char p[PATH_MAX];
    size_t n = strlen(path);
    if (n >= sizeof p) {
        snprintf(err, errlen, "path too long: %s", path);
        return -1;
    }
    memcpy(p, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, c == '\0' ? mode : 0755) < 0 && errno != EEXIST) {
            snprintf(err, errlen, "cannot create directory %s: %s", p,
                     strerror(errno));
            return -1;
        }
        p[i] = c;
    }
    return 0;
}

/* Give path to account a when we are root acting for it. */
int pgproc_give(const pgproc_account *a, const char *path, char *err,
                size_t errlen)
{
    if (a->switch_user && chown(path, a->uid, a->gid) < 0) {
        snprintf(err, errlen, "cannot chown %s to %s: %s", path, a->name,
                 strerror(errno));
        return -1;
    }
    return 0;
}

/* Write text to path (mode 0600, replaced atomically) owned by a. */
int pgproc_write_file(const pgproc_account *a, const char *path,
                      const char *text, char *err, size_t errlen)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                  0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", tmp, strerror(errno));
        return -1;
    }
    size_t len = strlen(text);
    ssize_t w = write(fd, text, len);
    int ok = w == (ssize_t)len && (!a->switch_user ||
                                   fchown(fd, a->uid, a->gid) == 0);
    if (close(fd) < 0 || !ok || rename(tmp, path) < 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}
