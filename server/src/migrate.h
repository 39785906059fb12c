/*
 * migrate.h -- apply the migrations compiled into the binary (the files
 * schema/NNNN_name.sql, see migrations_data.h) to the telos database, as
 * telos_owner.
 *
 * Each applied file is recorded in public.schema_migrations (name, checksum,
 * applied_at), a table owned by telos_owner and created on first use. A
 * file's checksum is the BLAKE2b-256 (unkeyed) of its text, in hex. A file
 * applied with another checksum is an error: a released migration is never
 * edited, a new one is added instead. Each pending file runs as one
 * transaction (so it must not contain BEGIN/COMMIT or statements that cannot
 * run in a transaction block), together with its record. Concurrent runs are
 * serialized by an advisory lock.
 */
#ifndef TELOS_MIGRATE_H
#define TELOS_MIGRATE_H

#include <stdio.h>
#include <stddef.h>

#include "config.h"
#include "migrations_data.h"

/* Length of a checksum in hex, without the NUL. */
#define MIGRATE_CHECKSUM_HEX 64

/* What a migration file is with respect to the database. */
typedef enum {
    MIGRATION_PENDING,   /* not applied */
    MIGRATION_APPLIED,   /* applied, same checksum */
    MIGRATION_CHANGED    /* applied with another checksum: an error */
} migration_state;

/* Apply the embedded migrations (telos_migrations): migrate_apply() on them.
 * With verbose, prints one line per applied file and a summary to stdout. */
int migrate_run(const telos_config *cfg, int verbose, char *err,
                size_t errlen);

/* `telos migrate [--status] [--help]`: argv holds the arguments after
 * "migrate" (argc may be 0). Without --status: make sure the embedded
 * cluster runs (pgctl_ensure_running), bootstrap_run(), migrate_run().
 * --status: list each file as applied / pending / CHANGED (and records of
 * files this binary does not have), without changing anything. Returns the
 * process exit code: 0 ok, 1 error (or a changed file), 2 bad usage. */
int migrate_cmd(const telos_config *cfg, int argc, char **argv);

/* Apply the n migrations of files (in order) as DB_OWNER; migrate_run() with
 * any list, for tests. Every applied file is checked first: nothing is
 * applied when one has changed. 0, or -1 with a message in err naming the
 * file (and the line of the failing statement). */
int migrate_apply(const telos_config *cfg, const migration_file *files,
                  int n, int verbose, char *err, size_t errlen);

/* Print the state of each of the n files (and of records without a file) to
 * out. Returns the number of CHANGED files, or -1 with a message in err. */
int migrate_print_status(const telos_config *cfg, const migration_file *files,
                         int n, FILE *out, char *err, size_t errlen);

/* BLAKE2b-256 of sql (its bytes up to the NUL) in lower-case hex, written
 * to hex (MIGRATE_CHECKSUM_HEX + 1 bytes). */
void migrate_checksum(const char *sql, char hex[MIGRATE_CHECKSUM_HEX + 1]);

/* Check the list: every name is NNNN_name.sql (4+ digits, then [a-z0-9_]),
 * names strictly ascending (so no duplicates), no NULL text. 0, or -1 with a
 * message in err naming the offending file. */
int migrate_check_list(const migration_file *files, int n, char *err,
                       size_t errlen);

/* State of a file whose checksum is sum, given the checksum stored for its
 * name (NULL when there is no record). */
migration_state migrate_state(const char *sum, const char *stored);

/* Line (1-based) of text holding character position pos (1-based, in
 * characters of UTF-8 text, as PostgreSQL reports an error position);
 * 0 when pos is not inside text. */
int migrate_error_line(const char *text, int pos);

#endif
