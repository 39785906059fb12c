/*
 * demo.h -- the deterministic demo tenant that `telos run` loads.
 */
#ifndef TELOS_DEMO_H
#define TELOS_DEMO_H

#include <stddef.h>

#include "apikey.h"
#include "config.h"

/* The demo tenant's fixed id. */
#define DEMO_TENANT_ID "d3e0d3e0-0000-4000-8000-000000000001"

/* Create the demo tenant with a year of synthetic metrics (hourly and daily,
 * up to the current hour), its metric definitions, a user, two goals and
 * one coaching session -- once: when the tenant exists, only its key is
 * made sure of. The key (derived from the pepper) is written to key_out
 * (APIKEY_LEN + 1 bytes). 0, or -1 with a message in err. */
int demo_load(const telos_config *cfg,
              const unsigned char pepper[APIKEY_PEPPER_LEN], char *key_out,
              int *created, char *err, size_t errlen);

#endif
