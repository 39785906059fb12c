/*
 * serve.h -- `telos serve`: the API server's life cycle.
 */
#ifndef TELOS_SERVE_H
#define TELOS_SERVE_H

#include "config.h"

/* Open the telos_app pool, start the HTTP server, print
 * "telos: listening on http://ADDR:PORT", block until SIGINT or SIGTERM,
 * then drain in-flight requests and stop. Returns the exit code. */
int serve_run(const telos_config *cfg);

#endif
