/*
 * tenant.h -- tenants and their API keys, from the CLI (`telos tenant ...`).
 *
 * These commands connect as telos_owner; FORCE ROW LEVEL SECURITY applies to
 * the owner too, so each transaction sets app.current_tenant_id to the tenant
 * it writes (the WITH CHECK clauses then hold) -- no policy is bypassed.
 */
#ifndef TELOS_TENANT_H
#define TELOS_TENANT_H

#include <libpq-fe.h>
#include <stddef.h>

#include "apikey.h"
#include "config.h"

typedef struct tenant_spec {
    const char *id;        /* NULL = a new random UUID */
    const char *name;
    const char *tier;      /* NULL = the table's default */
    const char *timezone;  /* NULL = UTC */
} tenant_spec;

/* Create the tenant and one API key whose secret is key (NUL-terminated) in
 * a transaction of its own on owner. Writes the tenant id to id_out.
 * 0, or -1 with the database's message in err. */
int tenant_create(PGconn *owner, const unsigned char pepper[APIKEY_PEPPER_LEN],
                  const tenant_spec *spec, const char *key, char id_out[37],
                  char *err, size_t errlen);

/* Add an API key for tenant_id (inside the caller's transaction, with the
 * tenant already set). 0 or -1 with err. */
int tenant_add_key(PGconn *owner, const unsigned char pepper[APIKEY_PEPPER_LEN],
                   const char *tenant_id, const char *key, const char *name,
                   char *err, size_t errlen);

/* `telos tenant create|list|key|revoke ...`; returns the exit code. */
int tenant_cmd(const telos_config *cfg, int argc, char **argv);

#endif
