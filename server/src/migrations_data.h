/*
 * migrations_data.h -- the files of schema/, compiled into the binary by
 * tools/embed_migrations.sh (build/migrations_data.c), in name order.
 */
#ifndef TELOS_MIGRATIONS_DATA_H
#define TELOS_MIGRATIONS_DATA_H

typedef struct migration_file {
    const char *name;   /* file name, e.g. "0001_core.sql" */
    const char *sql;    /* its whole text */
} migration_file;

extern const migration_file telos_migrations[];
extern const int telos_migrations_count;

#endif
