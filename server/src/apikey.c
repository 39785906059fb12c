/*
 * apikey.c -- API key generation, parsing and hashing (libsodium).
 */
#include "apikey.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static int pepper_from_hex(const char *hex, unsigned char *pepper)
{
    size_t bin_len = 0;
    if (strlen(hex) != 2 * APIKEY_PEPPER_LEN)
        return -1;
    if (sodium_hex2bin(pepper, APIKEY_PEPPER_LEN, hex, strlen(hex), NULL,
                       &bin_len, NULL) != 0 || bin_len != APIKEY_PEPPER_LEN)
        return -1;
    return 0;
}

static int read_all(int fd, unsigned char *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, buf + got, n - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        got += (size_t)r;
    }
    return 0;
}

int apikey_pepper_load(const telos_config *cfg,
                       unsigned char pepper[APIKEY_PEPPER_LEN],
                       char *err, size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium failed to initialise");
        return -1;
    }
    const char *env = getenv("TELOS_KEY_PEPPER");
    if (env && env[0]) {
        if (pepper_from_hex(env, pepper) < 0) {
            snprintf(err, errlen, "TELOS_KEY_PEPPER must be %d hex digits",
                     2 * APIKEY_PEPPER_LEN);
            return -1;
        }
        return 0;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/key_pepper", cfg->home);
    mkdir(cfg->home, 0755);
    int fd = open(path, O_RDONLY);
    if (fd >= 0) {
        int rc = read_all(fd, pepper, APIKEY_PEPPER_LEN);
        close(fd);
        if (rc < 0) {
            snprintf(err, errlen, "%s: shorter than %d bytes", path,
                     APIKEY_PEPPER_LEN);
            return -1;
        }
        return 0;
    }
    /* First use: create it exclusively, so two processes racing here agree
     * (the loser reads the winner's file). */
    randombytes_buf(pepper, APIKEY_PEPPER_LEN);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0 && errno == EEXIST)
        return apikey_pepper_load(cfg, pepper, err, errlen);
    if (fd < 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    ssize_t w = write(fd, pepper, APIKEY_PEPPER_LEN);
    if (w != APIKEY_PEPPER_LEN || fsync(fd) != 0) {
        close(fd);
        unlink(path);
        snprintf(err, errlen, "%s: cannot write", path);
        return -1;
    }
    close(fd);
    return 0;
}

static void encode(const unsigned char *bytes, char *out)
{
    memcpy(out, APIKEY_PREFIX, strlen(APIKEY_PREFIX));
    sodium_bin2base64(out + strlen(APIKEY_PREFIX),
                      APIKEY_LEN - strlen(APIKEY_PREFIX) + 1, bytes, 32,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

void apikey_generate(char *out)
{
    unsigned char bytes[32];
    randombytes_buf(bytes, sizeof bytes);
    encode(bytes, out);
    sodium_memzero(bytes, sizeof bytes);
}

void apikey_demo(const unsigned char pepper[APIKEY_PEPPER_LEN], char *out)
{
    static const char label[] = "telos demo tenant key v1";
    unsigned char bytes[32];
    crypto_generichash(bytes, sizeof bytes, (const unsigned char *)label,
                       sizeof label - 1, pepper, APIKEY_PEPPER_LEN);
    encode(bytes, out);
}

void apikey_hash(const unsigned char pepper[APIKEY_PEPPER_LEN],
                 const char *key, size_t len,
                 unsigned char out[APIKEY_HASH_LEN])
{
    crypto_generichash(out, APIKEY_HASH_LEN, (const unsigned char *)key, len,
                       pepper, APIKEY_PEPPER_LEN);
}

const char *apikey_from_header(const char *authz, size_t *len)
{
    if (authz == NULL || strncasecmp(authz, "Bearer", 6) != 0 ||
        (authz[6] != ' ' && authz[6] != '\t'))
        return NULL;
    const char *tok = authz + 6;
    while (*tok == ' ' || *tok == '\t')
        tok++;
    size_t n = 0;
    while (tok[n] != '\0' && tok[n] != ' ' && tok[n] != '\t') {
        char c = tok[n];
        int okc = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '-';
        if (!okc || ++n > APIKEY_MAX_LEN)
            return NULL;
    }
    /* only trailing whitespace may follow the token */
    for (const char *p = tok + n; *p; p++)
        if (*p != ' ' && *p != '\t')
            return NULL;
    if (n == 0)
        return NULL;
    *len = n;
    return tok;
}
