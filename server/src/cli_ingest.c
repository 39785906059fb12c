/*
 * cli_ingest.c -- `telos ingest FILE --tenant UUID`: load a CSV, NDJSON or
 * JSON file of metric points through the same parser, validation and write
 * path as POST /v1/metrics (ingest.h), as telos_app with the tenant set in
 * every transaction, so row-level security checks every row as it does for
 * the API.
 *
 * The file is mapped, not read into memory, and consumed in batches of
 * --batch rows: each batch is parsed, its chunks made (own transaction),
 * then written and committed in a transaction of its own. With --atomic the
 * whole file is validated first (nothing written if any row is rejected),
 * then written in one transaction. Rejected rows are listed on stderr as
 * FILE:LINE: reason; a progress bar is drawn on stderr when it is a terminal.
 * Exit status: 0 all rows ingested, 1 some rejected or an error, 2 usage.
 */
#include "ingest.h"

#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "parse.h"

#define DEFAULT_BATCH 50000
#define MAX_LISTED 1000   /* rejects printed; the rest are counted */

typedef struct cli {
    const char *file;
    const char *tenant;
    ingest_format format;
    int atomic;
    size_t batch;
    /* input */
    const char *buf;
    size_t len;
    void *map;           /* mmap'd region, or NULL */
    char *owned;         /* stdin's bytes, or NULL */
    /* state */
    PGconn *conn;
    ingest_rules rules;
    ingest_batch *b;
    size_t accepted, rejected, listed;
    int progress;        /* draw a progress bar */
    struct timespec t0, last_draw;
    const char *phase;
} cli;

static void usage(FILE *f)
{
    fprintf(f,
        "usage: telos ingest FILE --tenant UUID [--format csv|ndjson|json]\n"
        "                    [--atomic] [--batch N]\n"
        "\n"
        "Load metric points from FILE into the tenant's business_metrics_raw,\n"
        "validated as POST /v1/metrics validates them. FILE is mapped, not read;\n"
        "'-' reads standard input (into memory, so prefer a file for big loads).\n"
        "\n"
        "  --tenant UUID   the tenant (rows are written under its row-level\n"
        "                  security policy, as telos_app)\n"
        "  --format F      csv (header time,metric_type,value[,source]),\n"
        "                  ndjson (one JSON object per line) or json (an array);\n"
        "                  default: from the file name's extension\n"
        "  --atomic        validate the whole file first and write nothing if\n"
        "                  any row is rejected; then write in one transaction\n"
        "  --batch N       rows per transaction (default %d)\n"
        "\n"
        "Rejected rows are listed on stderr as FILE:LINE: reason. Exit status 0\n"
        "when every row was ingested, 1 when some were rejected (or on error),\n"
        "2 on a usage error.\n", DEFAULT_BATCH);
}

static double secs_since(const struct timespec *t0)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - t0->tv_sec) +
           (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* One line on stderr, redrawn in place: bar, percent of the input
 * consumed, rows, rate. Drawn at most 10 times a second unless final. */
static void draw(cli *c, size_t pos, int final)
{
    if (!c->progress)
        return;
    if (!final && secs_since(&c->last_draw) < 0.1)
        return;
    clock_gettime(CLOCK_MONOTONIC, &c->last_draw);
    double frac = c->len ? (double)pos / (double)c->len : 1.0;
    int width = 30, fill = (int)(frac * width);
    char bar[31];
    for (int i = 0; i < width; i++)
        bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    double el = secs_since(&c->t0);
    size_t rows = c->accepted + c->rejected;
    fprintf(stderr, "\r%-10s [%s] %3d%%  %zu rows  %.0f rows/s  %zu rejected\033[K",
            c->phase, bar, (int)(frac * 100), rows,
            el > 0 ? (double)rows / el : 0.0, c->rejected);
    if (final)
        fputc('\n', stderr);
    fflush(stderr);
}

/* Print the batch's listed rejects as FILE:LINE: [field: ]reason. */
static void list_rejects(cli *c)
{
    size_t i;
    json_t *e;
    json_array_foreach(c->b->errors, i, e) {
        if (c->listed >= MAX_LISTED)
            break;
        if (c->progress)
            fputs("\r\033[K", stderr);
        const char *field = json_string_value(json_object_get(e, "field"));
        fprintf(stderr, "%s:%lld: %s%s%s\n", c->file,
                (long long)json_integer_value(json_object_get(e, "line")),
                field ? field : "", field ? ": " : "",
                json_string_value(json_object_get(e, "reason")));
        c->listed++;
    }
}

static int fail_pq(cli *c, const char *what, PGresult *r)
{
    const char *msg = r ? PQresultErrorMessage(r) : PQerrorMessage(c->conn);
    if (c->progress)
        fputs("\r\033[K", stderr);
    fprintf(stderr, "telos ingest: %s: %s", what, msg && *msg ? msg : "failed\n");
    PQclear(r);
    return -1;
}

static int exec(cli *c, const char *sql)
{
    PGresult *r = PQexec(c->conn, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        return fail_pq(c, sql, r);
    PQclear(r);
    return 0;
}

/* BEGIN and set the tenant for the transaction. */
static int begin_tenant(cli *c)
{
    if (exec(c, "BEGIN") < 0)
        return -1;
    const char *p[] = {c->tenant};
    PGresult *r = PQexecParams(c->conn, "SELECT set_config("
                               "'app.current_tenant_id', $1, true)",
                               1, NULL, p, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK)
        return fail_pq(c, "set tenant", r);
    PQclear(r);
    return 0;
}

/* Map FILE (or read standard input). 0 or -1. */
static int open_input(cli *c)
{
    if (strcmp(c->file, "-") == 0) {
        size_t cap = 1 << 20, len = 0;
        char *p = malloc(cap);
        size_t n;
        while (p && (n = fread(p + len, 1, cap - len, stdin)) > 0) {
            len += n;
            if (len == cap) {
                char *q = realloc(p, cap *= 2);
                if (q == NULL)
                    free(p);
                p = q;
            }
        }
        if (p == NULL) {
            fprintf(stderr, "telos ingest: out of memory reading stdin\n");
            return -1;
        }
        c->owned = p;
        c->buf = p;
        c->len = len;
        return 0;
    }
    int fd = open(c->file, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) < 0) {
        perror(c->file);
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        fprintf(stderr, "telos ingest: %s is not a regular file\n", c->file);
        close(fd);
        return -1;
    }
    c->len = (size_t)st.st_size;
    c->buf = "";
    if (c->len > 0) {
        c->map = mmap(NULL, c->len, PROT_READ, MAP_PRIVATE, fd, 0);
        if (c->map == MAP_FAILED) {
            c->map = NULL;
            perror(c->file);
            close(fd);
            return -1;
        }
        madvise(c->map, c->len, MADV_SEQUENTIAL);
        c->buf = c->map;
    }
    close(fd);
    return 0;
}

/* One pass over the input. write: 0 = validate only (--atomic's first
 * pass), 1 = a transaction per batch, 2 = all batches in the caller's
 * transaction. Returns 0 or -1 (error printed). */
static int pass(cli *c, int write)
{
    ingest_reader rd;
    char err[512];
    if (ingest_reader_open(&rd, c->format, c->buf, c->len, err, sizeof err) < 0) {
        fprintf(stderr, "telos ingest: %s: %s\n", c->file, err);
        return -1;
    }
    c->accepted = c->rejected = 0;
    for (int n = 0;; n++) {
        ingest_batch_clear(c->b);
        int rc = ingest_read(&rd, &c->rules, c->b, c->batch, err, sizeof err);
        if (rc < 0) {
            if (c->progress)
                fputs("\r\033[K", stderr);
            fprintf(stderr, "telos ingest: %s: %s\n", c->file, err);
            return -1;
        }
        if (write != 2)
            list_rejects(c);
        PGresult *fail;
        long long inserted = c->b->accepted;
        if (write == 0 || write == 1) {
            /* chunks first, committed on their own (autocommit) */
            if (ingest_ensure_chunks(c->conn, c->b, &fail) < 0)
                return fail_pq(c, "creating chunks", fail);
        }
        if (write == 1 && c->b->accepted > 0) {
            if (begin_tenant(c) < 0)
                return -1;
            if (ingest_write(c->conn, c->tenant, c->b, 0, &inserted, &fail) < 0)
                return fail_pq(c, "writing rows", fail);
            if (exec(c, "COMMIT") < 0)
                return -1;
        } else if (write == 2 && c->b->accepted > 0) {
            if (ingest_write(c->conn, c->tenant, c->b, n > 0, &inserted, &fail) < 0)
                return fail_pq(c, "writing rows", fail);
        }
        c->accepted += (size_t)inserted;
        c->rejected += c->b->rejected;
        draw(c, rd.pos, 0);
        if (rc == 0)
            break;
    }
    draw(c, c->len, 1);
    return 0;
}

/* Parse the options into c. 0, or the exit code for a usage error / help. */
static int parse_args(cli *c, int argc, char **argv)
{
    static const struct option opts[] = {
        {"tenant", required_argument, 0, 't'},
        {"format", required_argument, 0, 'f'},
        {"atomic", no_argument, 0, 'a'},
        {"batch", required_argument, 0, 'b'},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    const char *format = NULL;
    int o;
    char *end;
    long long n;
    optind = 1;
    while ((o = getopt_long(argc + 1, argv - 1, "", opts, NULL)) != -1) {
        switch (o) {
        case 't': c->tenant = optarg; break;
        case 'f': format = optarg; break;
        case 'a': c->atomic = 1; break;
        case 'b':
            n = strtoll(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || n < 1 || n > 10000000) {
                fprintf(stderr, "telos ingest: --batch must be 1 to 10000000\n");
                return 2;
            }
            c->batch = (size_t)n;
            break;
        case 'h': usage(stdout); return -1;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {   /* argv - 1 shifted indexes by one */
        usage(stderr);
        return 2;
    }
    c->file = argv[optind - 1];
    if (c->tenant == NULL || !parse_is_uuid(c->tenant)) {
        fprintf(stderr, "telos ingest: --tenant UUID is required\n");
        return 2;
    }
    if (format ? ingest_format_from_name(format, &c->format) < 0 ||
                     strchr(format, '.') != NULL
               : ingest_format_from_name(c->file, &c->format) < 0) {
        fprintf(stderr, "telos ingest: %s; use --format csv|ndjson|json\n",
                format ? "unknown format" : "cannot tell the format from the "
                "file name");
        return 2;
    }
    return 0;
}

static int run(cli *c, const telos_config *cfg)
{
    char err[512];
    c->conn = db_connect(cfg, DB_APP, NULL, err, sizeof err);
    if (c->conn == NULL) {
        fprintf(stderr, "telos ingest: %s\n", err);
        return -1;
    }
    int found;
    PGresult *fail;
    if (begin_tenant(c) < 0)
        return -1;
    if (ingest_rules_load(c->conn, &c->rules, &found, &fail) < 0)
        return fail_pq(c, "reading the tenant's metric definitions", fail);
    if (exec(c, "COMMIT") < 0)
        return -1;
    if (!found) {
        fprintf(stderr, "telos ingest: no tenant %s\n", c->tenant);
        return -1;
    }
    if ((c->b = ingest_batch_new()) == NULL || open_input(c) < 0) {
        if (c->b == NULL)
            fprintf(stderr, "telos ingest: out of memory\n");
        return -1;
    }
    c->progress = isatty(STDERR_FILENO);
    clock_gettime(CLOCK_MONOTONIC, &c->t0);
    if (!c->atomic) {
        c->phase = "ingesting";
        return pass(c, 1);
    }
    c->phase = "validating";
    if (pass(c, 0) < 0)
        return -1;
    if (c->rejected > 0)
        return 0;   /* reported by the caller: nothing written */
    c->phase = "writing";
    clock_gettime(CLOCK_MONOTONIC, &c->t0);
    if (begin_tenant(c) < 0 || pass(c, 2) < 0 || exec(c, "COMMIT") < 0)
        return -1;
    return 0;
}

int ingest_cmd(const telos_config *cfg, int argc, char **argv)
{
    cli c = {.batch = DEFAULT_BATCH};
    ingest_rules_init(&c.rules);
    int rc = parse_args(&c, argc, argv);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int ok = run(&c, cfg) == 0;
    double el = secs_since(&start);
    if (ok) {
        if (c.rejected > MAX_LISTED)
            fprintf(stderr, "%s: %zu more rejected rows not listed\n", c.file,
                    c.rejected - MAX_LISTED);
        if (c.atomic && c.rejected > 0)
            printf("telos ingest: %zu rows rejected; nothing was written "
                   "(--atomic)\n", c.rejected);
        else
            printf("telos ingest: %zu rows ingested, %zu rejected, in %.1f s "
                   "(%.0f rows/s)\n", c.accepted, c.rejected, el,
                   el > 0 ? (double)(c.accepted + c.rejected) / el : 0.0);
    }
    if (c.conn)
        PQfinish(c.conn);   /* an open transaction is rolled back */
    ingest_batch_free(c.b);
    ingest_rules_free(&c.rules);
    if (c.map)
        munmap(c.map, c.len);
    free(c.owned);
    return ok && c.rejected == 0 ? 0 : 1;
}
