/*
 * pgctl.c -- the embedded PostgreSQL cluster (see pgctl.h): initdb, pg_ctl
 * and psql from cfg->pg_bindir, run with argv arrays (no shell), as the
 * account that owns the cluster.
 */
#include "pgctl.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <locale.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "bootstrap.h"
#include "db.h"
#include "pgproc.h"

static void path_join(char *out, size_t len, const char *dir, const char *f)
{
    snprintf(out, len, "%s/%s", dir, f);
}

/* Append text to path (which initdb made, so its owner is right). */
static int append_file(const char *path, const char *text, char *err,
                       size_t errlen)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    size_t len = strlen(text);
    if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
        snprintf(err, errlen, "cannot append to %s: %s", path,
                 strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return close(fd);
}

/* s quoted as a postgresql.conf string value. */
static void conf_quote(char *out, size_t len, const char *s)
{
    size_t j = 0;
    if (len < 3)
        return;
    out[j++] = '\'';
    for (; *s && j + 3 < len; s++) {
        if (*s == '\'')
            out[j++] = '\'';
        out[j++] = *s;
    }
    out[j++] = '\'';
    out[j] = '\0';
}

/* Identity of the installed telos library (BLAKE2b of $libdir/telos.so,
 * asked of pg_config in the same bindir) in out, or "" when it is absent.
 * A preloaded library is mapped by the postmaster at start: a cluster
 * started before `make install` keeps running the old code, so the stamp
 * of the start is compared with the installed one (pgctl_ensure_running). */
static void library_stamp(const telos_config *cfg, char *out, size_t len)
{
    pgproc_account self = { 0 };
    char prog[PATH_MAX], dir[PGPROC_OUT_MAX], lib[PATH_MAX];
    out[0] = '\0';
    path_join(prog, sizeof prog, cfg->pg_bindir, "pg_config");
    char *argv[] = { prog, "--pkglibdir", NULL };
    if (pgproc_run(&self, argv, dir) != 0)
        return;
    dir[strcspn(dir, "\n")] = '\0';
    snprintf(lib, sizeof lib, "%s/telos.so", dir);
    /* The content, not the mtime: `make install` copies the file anew
     * every time, and an unchanged library needs no restart. */
    FILE *f = fopen(lib, "rb");
    if (f == NULL || sodium_init() < 0) {
        if (f != NULL)
            fclose(f);
        return;
    }
    crypto_generichash_state h;
    unsigned char buf[65536], digest[16];
    size_t n;
    crypto_generichash_init(&h, NULL, 0, sizeof digest);
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        crypto_generichash_update(&h, buf, n);
    fclose(f);
    crypto_generichash_final(&h, digest, sizeof digest);
    if (len > 2 * sizeof digest)
        sodium_bin2hex(out, len, digest, sizeof digest);
}

static int have_telos_library(const telos_config *cfg)
{
    char stamp[96];
    library_stamp(cfg, stamp, sizeof stamp);
    return stamp[0] != '\0';
}

/* Where the library stamp of the running cluster's start is kept. */
static void stamp_path(const telos_config *cfg, char *out, size_t len)
{
    path_join(out, len, cfg->home, "pg_library.stamp");
}

/* (Re)write telos.conf, the settings telos owns, and make sure the log
 * directory exists. Done before every start, so it follows TELOS_PG_PORT
 * and the extension library's presence. */
static int write_settings(const telos_config *cfg, const pgproc_account *a,
                          char *err, size_t errlen)
{
    char path[PATH_MAX], sock[PATH_MAX + 8], text[3 * PATH_MAX + 2048];
    char dbq[256], archq[PATH_MAX + 8], preload_lines[PATH_MAX + 400];
    path_join(path, sizeof path, cfg->pg_dir, "log");
    if (pgproc_make_dirs(path, 0700, err, errlen) < 0 ||
        pgproc_give(a, path, err, errlen) < 0)
        return -1;
    /* Cold archive files of old chunks (telos.archive_chunk) live beside
     * the cluster, not inside it: a restore of the data directory from a
     * base backup must not roll the archive back with it. */
    path_join(path, sizeof path, cfg->home, "archive");
    if (pgproc_make_dirs(path, 0700, err, errlen) < 0 ||
        pgproc_give(a, path, err, errlen) < 0)
        return -1;
    conf_quote(archq, sizeof archq, path);
    conf_quote(sock, sizeof sock, cfg->pg_dir);
    int preload = have_telos_library(cfg);
    /* The job scheduler (a background worker of the preloaded library)
     * runs the jobs of this one database. */
    conf_quote(dbq, sizeof dbq, cfg->dbname);
    snprintf(preload_lines, sizeof preload_lines,
             "shared_preload_libraries = 'telos'\ntelos.job_database = %s\n"
             "telos.archive_directory = %s\n",
             dbq, archq);
    snprintf(text, sizeof text,
             "# Written by telos before every start: edits are lost.\n"
             "# Your own settings: ALTER SYSTEM (postgresql.auto.conf).\n"
             "listen_addresses = '127.0.0.1'\n"
             "port = %d\n"
             "unix_socket_directories = %s\n"
             "password_encryption = 'scram-sha-256'\n"
             "logging_collector = on\n"
             "log_directory = 'log'\n"
             "log_filename = 'postgresql-%%a.log'\n"
             "log_truncate_on_rotation = on\n"
             "log_rotation_age = 1d\n"
             "log_rotation_size = 0\n"
             "%s",
             cfg->pg_port, sock,
             preload ? preload_lines
                     : "# shared_preload_libraries: telos.so is not "
                       "installed\n");
    path_join(path, sizeof path, cfg->pg_dir, "telos.conf");
    return pgproc_write_file(a, path, text, err, errlen);
}

/* ---- init / start / stop ------------------------------------------------ */

static int is_initialized(const telos_config *cfg, char *err, size_t errlen)
{
    char path[PATH_MAX];
    struct stat st;
    path_join(path, sizeof path, cfg->pg_dir, "PG_VERSION");
    if (stat(path, &st) == 0)
        return 1;
    if (errno == ENOENT)
        return 0;
    snprintf(err, errlen, "cannot inspect %s: %s", cfg->pg_dir,
             strerror(errno));
    return -1;
}

static int refuse_external(const telos_config *cfg, char *err, size_t errlen)
{
    if (cfg->database_url == NULL)
        return 0;
    snprintf(err, errlen, "TELOS_DATABASE_URL is set: the database is an "
             "external server, not ours to manage");
    return -1;
}

/* The socket path must fit sockaddr_un, and the directory a list entry. */
static int check_socket_dir(const telos_config *cfg, char *err, size_t errlen)
{
    struct sockaddr_un sun;
    if (strlen(cfg->pg_dir) + sizeof "/.s.PGSQL.65535" > sizeof sun.sun_path) {
        snprintf(err, errlen, "%s is too long to hold a Unix socket (at most "
                 "%zu characters): choose a shorter TELOS_HOME", cfg->pg_dir,
                 sizeof sun.sun_path - sizeof "/.s.PGSQL.65535");
        return -1;
    }
    if (strpbrk(cfg->pg_dir, ",\"") != NULL) {
        snprintf(err, errlen, "%s: a socket directory may not contain a "
                 "comma or a double quote", cfg->pg_dir);
        return -1;
    }
    return 0;
}

/* C.UTF-8 when this system has it (Debian does), else C. */
static const char *cluster_locale(void)
{
    locale_t l = newlocale(LC_ALL_MASK, "C.UTF-8", (locale_t)0);
    if (l == (locale_t)0)
        return "C";
    freelocale(l);
    return "C.UTF-8";
}

static const char *const hba_conf =
    "# Written by telos db init. The socket directory is private to the\n"
    "# cluster's account (mode 0700), so the socket can trust; TCP (loopback\n"
    "# only, see listen_addresses) needs a password.\n"
    "# TYPE  DATABASE  USER  ADDRESS       METHOD\n"
    "local   all       all                 trust\n"
    "host    all       all   127.0.0.1/32  scram-sha-256\n"
    "host    all       all   ::1/128       scram-sha-256\n";

int pgctl_init(const telos_config *cfg, char *err, size_t errlen)
{
    pgproc_account a;
    char out[PGPROC_OUT_MAX], prog[PATH_MAX], path[PATH_MAX], line[512];
    if (refuse_external(cfg, err, errlen) < 0 ||
        check_socket_dir(cfg, err, errlen) < 0 ||
        pgproc_account_for(cfg->pg_dir, &a, err, errlen) < 0)
        return -1;
    /* Root's home must let the cluster's account through; anyone else's
     * need not let others in at all. */
    if (pgproc_make_dirs(cfg->home, a.switch_user ? 0711 : 0700, err,
                         errlen) < 0 ||
        pgproc_check_reachable(&a, cfg->home, err, errlen) < 0)
        return -1;
    int init = is_initialized(cfg, err, errlen);
    if (init != 0)
        return init;
    if (pgproc_make_dirs(cfg->pg_dir, 0700, err, errlen) < 0 ||
        pgproc_give(&a, cfg->pg_dir, err, errlen) < 0)
        return -1;
    if (chmod(cfg->pg_dir, 0700) < 0) {
        snprintf(err, errlen, "cannot chmod %s: %s", cfg->pg_dir,
                 strerror(errno));
        return -1;
    }

    char locale[64];
    snprintf(locale, sizeof locale, "--locale=%s", cluster_locale());
    path_join(prog, sizeof prog, cfg->pg_bindir, "initdb");
    char *argv[] = { prog, "-D", cfg->pg_dir, "-U", "postgres",
                     "--auth-local=trust", "--auth-host=scram-sha-256",
                     "-E", "UTF8", locale, "--no-instructions", NULL };
    int rc = pgproc_run(&a, argv, out);
    if (rc != 0) {
        pgproc_last_line(out, line, sizeof line);
        snprintf(err, errlen, "initdb failed (%s %d): %s",
                 rc < 0 ? "error" : "exit", rc < 0 ? errno : rc, line);
        return -1;
    }

    path_join(path, sizeof path, cfg->pg_dir, "pg_hba.conf");
    if (pgproc_write_file(&a, path, hba_conf, err, errlen) < 0)
        return -1;
    path_join(path, sizeof path, cfg->pg_dir, "postgresql.conf");
    if (append_file(path, "\n# Settings telos manages, rewritten at every "
                    "start.\ninclude = 'telos.conf'\n", err, errlen) < 0 ||
        write_settings(cfg, &a, err, errlen) < 0 ||
        bootstrap_credentials_ensure(cfg, err, errlen) < 0)
        return -1;
    return 0;
}

/* pg_ctl ACTION -D pg_dir [extra...] as a; out gets its output. */
static int run_pg_ctl(const telos_config *cfg, const pgproc_account *a,
                      const char *action, char *const extra[], char *out)
{
    char prog[PATH_MAX];
    char *argv[16];
    int n = 0;
    path_join(prog, sizeof prog, cfg->pg_bindir, "pg_ctl");
    argv[n++] = prog;
    argv[n++] = (char *)action;
    argv[n++] = "-D";
    argv[n++] = cfg->pg_dir;
    for (int i = 0; extra && extra[i] && n < 15; i++)
        argv[n++] = extra[i];
    argv[n] = NULL;
    return pgproc_run(a, argv, out);
}

/* 1 running, 0 not, -1 error; pg_ctl runs as a. */
static int running_as(const telos_config *cfg, const pgproc_account *a,
                      char *err, size_t errlen)
{
    char out[PGPROC_OUT_MAX], line[512];
    int init = is_initialized(cfg, err, errlen);
    if (init <= 0)
        return init;
    int rc = run_pg_ctl(cfg, a, "status", NULL, out);
    if (rc == 0)
        return 1;
    if (rc == 3)
        return 0;
    pgproc_last_line(out, line, sizeof line);
    snprintf(err, errlen, "pg_ctl status failed (exit %d): %s", rc, line);
    return -1;
}

int pgctl_running(const telos_config *cfg, char *err, size_t errlen)
{
    pgproc_account a;
    if (refuse_external(cfg, err, errlen) < 0)
        return -1;
    int init = is_initialized(cfg, err, errlen);
    if (init <= 0)
        return init;
    if (pgproc_account_for(cfg->pg_dir, &a, err, errlen) < 0 ||
        pgproc_check_reachable(&a, cfg->home, err, errlen) < 0)
        return -1;
    return running_as(cfg, &a, err, errlen);
}

/* The tail of path from offset from (at most PGPROC_OUT_MAX - 1 bytes). */
static void read_tail(const char *path, off_t from, char *buf)
{
    buf[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    off_t size = lseek(fd, 0, SEEK_END);
    if (size - from > PGPROC_OUT_MAX - 1)
        from = size - (PGPROC_OUT_MAX - 1);
    ssize_t k = from >= 0 ? pread(fd, buf, PGPROC_OUT_MAX - 1, from) : -1;
    close(fd);
    buf[k > 0 ? k : 0] = '\0';
}

/* The last (up to 3) lines of a server log telling what went wrong, after
 * the last "starting PostgreSQL", without their timestamp prefix, joined
 * with " | " into out. */
static void log_problems(const char *text, char *out, size_t len)
{
    const char *p = text, *s, *keep[3];
    int n = 0;
    while ((s = strstr(p, "starting PostgreSQL")) != NULL)
        p = s + 1;
    if (p != text)
        while (p > text && p[-1] != '\n')
            p--;
    out[0] = '\0';
    for (; *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p)) {
        size_t l = strcspn(p, "\n");
        const char *sev = memmem(p, l, "] ", 2);
        sev = sev ? sev + 2 : p;
        size_t sl = l - (size_t)(sev - p);
        if (memmem(sev, sl, "FATAL:", 6) || memmem(sev, sl, "PANIC:", 6) ||
            memmem(sev, sl, "ERROR:", 6) || memmem(sev, sl, "WARNING:", 8) ||
            memmem(sev, sl, "could not", 9)) {
            if (n == 3) {
                memmove(keep, keep + 1, 2 * sizeof keep[0]);
                n = 2;
            }
            keep[n++] = sev;
        }
    }
    for (int i = 0; i < n; i++) {
        size_t j = strlen(out);
        snprintf(out + j, len - j, "%s%.*s", i ? " | " : "",
                 (int)strcspn(keep[i], "\n"), keep[i]);
    }
}

/* Why the server did not start: problems in what it logged since since
 * (startup.log past offset startup_from, then the collector's newest log
 * if written since then), else the last line of pg_ctl's output. */
static void start_failure(const telos_config *cfg, off_t startup_from,
                          time_t since, const char *pg_ctl_out, char *out,
                          size_t len)
{
    char path[PATH_MAX], newest[PATH_MAX + 256] = "", buf[PGPROC_OUT_MAX];
    time_t newest_t = since - 1;
    path_join(path, sizeof path, cfg->pg_dir, "log");
    DIR *d = opendir(path);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        struct stat st;
        char f[PATH_MAX + 256];
        if (strncmp(e->d_name, "postgresql-", 11) != 0)
            continue;
        snprintf(f, sizeof f, "%s/%s", path, e->d_name);
        if (stat(f, &st) == 0 && st.st_mtime >= newest_t) {
            newest_t = st.st_mtime;
            snprintf(newest, sizeof newest, "%s", f);
        }
    }
    if (d)
        closedir(d);
    out[0] = '\0';
    if (newest[0] != '\0') {
        read_tail(newest, 0, buf);
        log_problems(buf, out, len);
    }
    if (out[0] == '\0') {
        path_join(path, sizeof path, cfg->pg_dir, "log/startup.log");
        read_tail(path, startup_from, buf);
        log_problems(buf, out, len);
    }
    if (out[0] == '\0')
        pgproc_last_line(pg_ctl_out, out, len);
}

int pgctl_start(const telos_config *cfg, char *err, size_t errlen)
{
    pgproc_account a;
    char out[PGPROC_OUT_MAX], logfile[PATH_MAX], line[768];
    if (refuse_external(cfg, err, errlen) < 0 ||
        check_socket_dir(cfg, err, errlen) < 0 ||
        pgproc_account_for(cfg->pg_dir, &a, err, errlen) < 0 ||
        pgproc_check_reachable(&a, cfg->home, err, errlen) < 0)
        return -1;
    int run = running_as(cfg, &a, err, errlen);
    if (run != 0)
        return run;
    if (is_initialized(cfg, err, errlen) == 0) {
        snprintf(err, errlen, "there is no cluster in %s: run `telos db "
                 "init` (or `telos db start`)", cfg->pg_dir);
        return -1;
    }
    if (write_settings(cfg, &a, err, errlen) < 0)
        return -1;
    path_join(logfile, sizeof logfile, cfg->pg_dir, "log/startup.log");
    struct stat st;
    off_t startup_from = stat(logfile, &st) == 0 ? st.st_size : 0;
    time_t since = time(NULL);
    char *extra[] = { "-w", "-t", "60", "-l", logfile, NULL };
    int rc = run_pg_ctl(cfg, &a, "start", extra, out);
    if (rc != 0) {
        start_failure(cfg, startup_from, since, out, line, sizeof line);
        snprintf(err, errlen, "the server did not start (pg_ctl exit %d): %s "
                 "(logs in %s/log)", rc, line, cfg->pg_dir);
        return -1;
    }
    char stamp[96], path[PATH_MAX];
    library_stamp(cfg, stamp, sizeof stamp);
    stamp_path(cfg, path, sizeof path);
    FILE *f = fopen(path, "w");
    if (f != NULL) {
        fprintf(f, "%s\n", stamp);
        fclose(f);
    }
    return 0;
}

int pgctl_stop(const telos_config *cfg, char *err, size_t errlen)
{
    pgproc_account a;
    char out[PGPROC_OUT_MAX], line[512];
    if (refuse_external(cfg, err, errlen) < 0 ||
        pgproc_account_for(cfg->pg_dir, &a, err, errlen) < 0 ||
        pgproc_check_reachable(&a, cfg->home, err, errlen) < 0)
        return -1;
    int run = running_as(cfg, &a, err, errlen);
    if (run <= 0)
        return run < 0 ? -1 : 1;
    char *extra[] = { "-m", "fast", "-w", "-t", "60", NULL };
    int rc = run_pg_ctl(cfg, &a, "stop", extra, out);
    if (rc != 0) {
        pgproc_last_line(out, line, sizeof line);
        snprintf(err, errlen, "pg_ctl stop failed (exit %d): %s", rc, line);
        return -1;
    }
    return 0;
}

/* Serialize init/start/stop between telos processes: two pg_ctl starts
 * racing on one data directory make the loser fail. Returns the lock's fd
 * (close it to release) or -1. */
static int lock_home(const telos_config *cfg, char *err, size_t errlen)
{
    char path[PATH_MAX];
    if (check_socket_dir(cfg, err, errlen) < 0 ||
        pgproc_make_dirs(cfg->home, geteuid() == 0 ? 0711 : 0700, err,
                         errlen) < 0)
        return -1;
    path_join(path, sizeof path, cfg->home, ".pgctl.lock");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0 || flock(fd, LOCK_EX) < 0) {
        snprintf(err, errlen, "cannot lock %s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int pgctl_ensure_running(const telos_config *cfg, char *err, size_t errlen)
{
    if (cfg->database_url != NULL)
        return 0;
    int lock = lock_home(cfg, err, errlen);
    if (lock < 0)
        return -1;
    int rc = pgctl_init(cfg, err, errlen) < 0 ? -1
             : pgctl_start(cfg, err, errlen);
    if (rc == 1) {
        /* Already running: restart it if the library was reinstalled since
         * it started, or the new engine's SQL would call old C code. */
        char now[96], then[96] = "", path[PATH_MAX];
        library_stamp(cfg, now, sizeof now);
        stamp_path(cfg, path, sizeof path);
        FILE *f = fopen(path, "r");
        if (f != NULL) {
            if (fgets(then, sizeof then, f) != NULL)
                then[strcspn(then, "\n")] = '\0';
            fclose(f);
        }
        if (strcmp(now, then) != 0) {
            fprintf(stderr, "telos: the telos library changed since the "
                    "cluster started; restarting it\n");
            rc = pgctl_stop(cfg, err, errlen) < 0 ||
                 pgctl_start(cfg, err, errlen) < 0 ? -1 : 0;
        }
    }
    close(lock);
    return rc < 0 ? -1 : 0;
}

/* ---- psql --------------------------------------------------------------- */

/* Append " key='value'" (conninfo quoting) to buf. */
static void conninfo_add(char *buf, size_t len, const char *key,
                         const char *val)
{
    size_t j = strlen(buf);
    int n = snprintf(buf + j, len - j, "%s%s='", j ? " " : "", key);
    if (n < 0 || (j += (size_t)n) >= len)
        return;
    for (; *val && j + 3 < len; val++) {
        if (*val == '\'' || *val == '\\')
            buf[j++] = '\\';
        buf[j++] = *val;
    }
    if (j + 2 <= len) {
        buf[j++] = '\'';
        buf[j] = '\0';
    }
}

/* Conninfo for psql from TELOS_DATABASE_URL with user and dbname replaced
 * and the password left out (it goes in PGPASSWORD). */
static int external_conninfo(const telos_config *cfg, const char *user,
                             char *buf, size_t len, char *err, size_t errlen)
{
    char *perr = NULL;
    PQconninfoOption *opts = PQconninfoParse(cfg->database_url, &perr);
    if (opts == NULL) {
        snprintf(err, errlen, "TELOS_DATABASE_URL cannot be parsed");
        PQfreemem(perr);
        return -1;
    }
    buf[0] = '\0';
    for (PQconninfoOption *o = opts; o->keyword; o++) {
        if (o->val == NULL || strcmp(o->keyword, "dbname") == 0)
            continue;
        if (strcmp(o->keyword, "password") == 0) {
            if (user == NULL)
                setenv("PGPASSWORD", o->val, 1);
            continue;
        }
        if (strcmp(o->keyword, "user") == 0 && user != NULL)
            continue;
        conninfo_add(buf, len, o->keyword, o->val);
    }
    PQconninfoFree(opts);
    if (user != NULL)
        conninfo_add(buf, len, "user", user);
    conninfo_add(buf, len, "dbname", cfg->dbname);
    return 0;
}

int pgctl_exec_psql(const telos_config *cfg, const char *role, int nargs,
                    char **args, char *err, size_t errlen)
{
    char prog[PATH_MAX], port[16], conninfo[8192];
    char **argv = calloc((size_t)nargs + 12, sizeof *argv);
    if (argv == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    if (role == NULL)
        role = db_role_name(DB_OWNER);
    int is_admin = strcmp(role, "admin") == 0;
    int n = 0;
    path_join(prog, sizeof prog, cfg->pg_bindir, "psql");
    argv[n++] = prog;
    if (cfg->database_url == NULL) {
        snprintf(port, sizeof port, "%d", cfg->pg_port);
        argv[n++] = "-h";
        argv[n++] = cfg->pg_dir;
        argv[n++] = "-p";
        argv[n++] = port;
        argv[n++] = "-U";
        argv[n++] = (char *)(is_admin ? db_role_name(DB_ADMIN) : role);
        argv[n++] = "-d";
        argv[n++] = cfg->dbname;
    } else {
        if (!is_admin) {
            static const db_role known[] = { DB_OWNER, DB_APP, DB_WORKER };
            char pw[BOOTSTRAP_PASSWORD_MAX + 1];
            for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
                if (strcmp(role, db_role_name(known[i])) == 0 &&
                    bootstrap_password(cfg, known[i], pw, sizeof pw) == 0)
                    setenv("PGPASSWORD", pw, 1);
        }
        if (external_conninfo(cfg, is_admin ? NULL : role, conninfo,
                              sizeof conninfo, err, errlen) < 0) {
            free(argv);
            return -1;
        }
        argv[n++] = "-d";
        argv[n++] = conninfo;
    }
    for (int i = 0; i < nargs; i++)
        argv[n++] = args[i];
    argv[n] = NULL;
    fflush(NULL);
    execv(prog, argv);
    snprintf(err, errlen, "cannot run %s: %s", prog, strerror(errno));
    free(argv);
    return -1;
}

/* ---- the command -------------------------------------------------------- */

static void usage(FILE *f)
{
    fputs("usage: telos db COMMAND\n"
          "\n"
          "Manage the embedded PostgreSQL cluster in $TELOS_HOME/pg.\n"
          "\n"
          "  init      create the cluster if there is none\n"
          "  start     create it if needed, start it, and bootstrap the\n"
          "            roles, the database and its extensions\n"
          "  stop      stop it (fast shutdown: sessions are disconnected)\n"
          "  restart   stop, then start (after installing the extension)\n"
          "  status    say whether it runs; exit 0 running, 3 stopped\n"
          "  psql [--role ROLE] [PSQL ARGS...]\n"
          "            psql on database telos as ROLE (default telos_owner;\n"
          "            admin = the superuser); PSQL ARGS are passed on as is\n"
          "\n"
          "With TELOS_DATABASE_URL set only status, start (bootstrap only)\n"
          "and psql apply.\n", f);
}

static int fail(const char *cmd, const char *err)
{
    fprintf(stderr, "telos db %s: %s\n", cmd, err);
    return 1;
}

/* `telos db status`. */
static int cmd_status(const telos_config *cfg)
{
    char err[1024];
    if (cfg->database_url != NULL) {
        const char *kw[] = { "dbname", NULL }, *val[] = { cfg->database_url,
                                                          NULL };
        int up = PQpingParams(kw, val, 1) == PQPING_OK;
        printf("%s: external server (TELOS_DATABASE_URL)\n",
               up ? "running" : "not reachable");
        return up ? 0 : 3;
    }
    int run = pgctl_running(cfg, err, sizeof err);
    if (run < 0)
        return fail("status", err);
    int init = is_initialized(cfg, err, sizeof err);
    printf("%s: data directory %s, port %d\n",
           run ? "running" : init > 0 ? "stopped" : "stopped (no cluster)",
           cfg->pg_dir, cfg->pg_port);
    return run ? 0 : 3;
}

/* `telos db start`, and the second half of restart. */
static int cmd_start(const telos_config *cfg)
{
    char err[1024];
    int was_running = 0;
    if (cfg->database_url == NULL) {
        int lock = lock_home(cfg, err, sizeof err);
        if (lock < 0)
            return fail("start", err);
        int rc = pgctl_init(cfg, err, sizeof err);
        if (rc >= 0)
            rc = was_running = pgctl_start(cfg, err, sizeof err);
        close(lock);
        if (rc < 0)
            return fail("start", err);
    }
    if (bootstrap_run(cfg, err, sizeof err) < 0)
        return fail("start", err);
    if (cfg->database_url != NULL)
        printf("external server (TELOS_DATABASE_URL): bootstrapped\n");
    else
        printf("%s: data directory %s, port %d\n",
               was_running ? "already running" : "started", cfg->pg_dir,
               cfg->pg_port);
    return 0;
}

static int cmd_locked(const telos_config *cfg, const char *cmd,
                      int (*fn)(const telos_config *, char *, size_t),
                      const char *done, const char *noop)
{
    char err[1024];
    int lock = lock_home(cfg, err, sizeof err);
    if (lock < 0)
        return fail(cmd, err);
    int rc = fn(cfg, err, sizeof err);
    close(lock);
    if (rc < 0)
        return fail(cmd, err);
    printf("%s: data directory %s\n", rc == 0 ? done : noop, cfg->pg_dir);
    return 0;
}

int pgctl_cmd(const telos_config *cfg, int argc, char **argv)
{
    if (argc < 1) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[0];
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 ||
        strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(cmd, "psql") == 0) {
        const char *role = NULL;
        int i = 1;
        if (i < argc && strncmp(argv[i], "--role=", 7) == 0) {
            role = argv[i++] + 7;
        } else if (i < argc && strcmp(argv[i], "--role") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "telos db psql: --role needs a value\n");
                return 2;
            }
            role = argv[i + 1];
            i += 2;
        }
        char err[1024];
        pgctl_exec_psql(cfg, role, argc - i, argv + i, err, sizeof err);
        return fail("psql", err);
    }
    if (argc > 1) {
        fprintf(stderr, "telos db %s: unexpected argument %s\n", cmd, argv[1]);
        return 2;
    }
    if (strcmp(cmd, "status") == 0)
        return cmd_status(cfg);
    if (strcmp(cmd, "start") == 0)
        return cmd_start(cfg);
    if (cfg->database_url != NULL &&
        (strcmp(cmd, "init") == 0 || strcmp(cmd, "stop") == 0 ||
         strcmp(cmd, "restart") == 0))
        return fail(cmd, "TELOS_DATABASE_URL is set: the database is an "
                    "external server, not ours to manage");
    if (strcmp(cmd, "init") == 0)
        return cmd_locked(cfg, cmd, pgctl_init, "initialized",
                          "already initialized");
    if (strcmp(cmd, "stop") == 0)
        return cmd_locked(cfg, cmd, pgctl_stop, "stopped", "not running");
    if (strcmp(cmd, "restart") == 0) {
        int rc = cmd_locked(cfg, "stop", pgctl_stop, "stopped", "not running");
        return rc != 0 ? rc : cmd_start(cfg);
    }
    fprintf(stderr, "telos db: unknown command %s\n", cmd);
    usage(stderr);
    return 2;
}
