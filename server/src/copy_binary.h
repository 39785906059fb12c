/*
 * copy_binary.h -- an encoder for PostgreSQL's binary COPY format, so that
 * ingest can stream rows with COPY ... FROM STDIN (FORMAT binary) instead of
 * sending text that the server would have to parse again.
 *
 * The format (PostgreSQL docs, "COPY", "Binary Format"): an 11-byte
 * signature "PGCOPY\n\377\r\n\0", a 32-bit flags word (0) and a 32-bit
 * header-extension length (0); then per tuple a 16-bit field count and, per
 * field, a 32-bit byte length (-1 = NULL) followed by the value in the type's
 * binary send/recv representation; then a 16-bit -1 as trailer. Every integer
 * is in network byte order. The values this module writes:
 *   timestamptz  int64 microseconds since 2000-01-01 00:00:00 UTC
 *   float8       the IEEE 754 double, big-endian
 *   text         the bytes (the server converts from the client encoding)
 *   uuid         the 16 bytes
 *
 * The buffer grows on demand. An allocation failure sets oom and turns every
 * later call into a no-op, so a caller checks once at the end.
 */
#ifndef TELOS_COPY_BINARY_H
#define TELOS_COPY_BINARY_H

#include <stddef.h>
#include <stdint.h>

/* Microseconds from 1970-01-01 to 2000-01-01 UTC (PostgreSQL's epoch). */
#define COPYBIN_PG_EPOCH_US INT64_C(946684800000000)

typedef struct copybin {
    unsigned char *p;   /* malloc'd; owned by the struct */
    size_t len, cap;
    int oom;            /* set once an allocation failed */
} copybin;

/* An empty buffer (no allocation until the first write). */
void copybin_init(copybin *b);

/* Release the buffer and reset b to empty; copybin_free(NULL) is a no-op. */
void copybin_free(copybin *b);

/* Forget the content but keep the allocation (for the next batch). */
void copybin_clear(copybin *b);

/* The 19-byte file header. Call first. */
void copybin_header(copybin *b);

/* Start a tuple of nfields fields; write exactly that many values next. */
void copybin_tuple(copybin *b, int16_t nfields);

/* timestamptz from microseconds since 1970-01-01 UTC. */
void copybin_timestamptz(copybin *b, int64_t unix_us);

void copybin_float8(copybin *b, double v);

/* n bytes of text (no terminator is sent; s need not be NUL-terminated). */
void copybin_text(copybin *b, const char *s, size_t n);

void copybin_uuid(copybin *b, const unsigned char uuid[16]);

void copybin_null(copybin *b);

/* The trailer (16-bit -1). Call last. */
void copybin_trailer(copybin *b);

#endif
