/*
 * apikey.h -- API keys: generation, parsing of the Authorization header, and
 * the keyed hash that is all the database ever stores.
 *
 * A key is "telos_" followed by 43 base64url characters (32 random bytes).
 * Its hash is BLAKE2b-256 keyed with the server's pepper, a 32-byte secret
 * kept outside the database ($TELOS_HOME/key_pepper, or TELOS_KEY_PEPPER as
 * 64 hex digits), so a stolen table of hashes cannot be checked offline.
 * Keys carry 256 bits of entropy, so a fast hash (~1 us) is enough; a slow
 * password hash per request would be a denial-of-service lever.
 */
#ifndef TELOS_APIKEY_H
#define TELOS_APIKEY_H

#include <stddef.h>

#include "config.h"

#define APIKEY_PREFIX      "telos_"
#define APIKEY_LEN         49      /* strlen("telos_") + 43 */
#define APIKEY_MAX_LEN     128     /* longest token we look at */
#define APIKEY_HASH_LEN    32
#define APIKEY_PEPPER_LEN  32
#define APIKEY_SHOWN_LEN   12      /* leading chars stored for humans */

/* Load the pepper (creating $TELOS_HOME/key_pepper, mode 0600, on first use).
 * 0 or -1 with a message in err. */
int apikey_pepper_load(const telos_config *cfg,
                       unsigned char pepper[APIKEY_PEPPER_LEN],
                       char *err, size_t errlen);

/* Write a new random key, NUL-terminated, into out (>= APIKEY_LEN + 1). */
void apikey_generate(char *out);

/* The demo tenant's key: derived from the pepper, so `make run` can print
 * it again on every start without storing it. out >= APIKEY_LEN + 1. */
void apikey_demo(const unsigned char pepper[APIKEY_PEPPER_LEN], char *out);

/* Keyed hash of key[0..len). */
void apikey_hash(const unsigned char pepper[APIKEY_PEPPER_LEN],
                 const char *key, size_t len,
                 unsigned char out[APIKEY_HASH_LEN]);

/* The token of an "Authorization: Bearer <token>" header value (scheme is
 * case-insensitive, one or more spaces), or NULL when the header is absent,
 * of another scheme, empty, longer than APIKEY_MAX_LEN or holds characters
 * outside [A-Za-z0-9_-]. *len receives the token's length. */
const char *apikey_from_header(const char *authz, size_t *len);

#endif
