/*-------------------------------------------------------------------------
 *
 * telos.h
 *	  Declarations shared by the source files of the telos extension.
 *
 * The telos extension is the time-series engine of the telos platform: all
 * of its SQL objects live in schema "telos" (the extension is not
 * relocatable). This header is the one place where the files of the engine
 * declare what they share: the version, names, and, as the engine grows,
 * the on-disk structures, GUCs and the functions one file calls in another.
 *
 *-------------------------------------------------------------------------
 */
#ifndef TELOS_H
#define TELOS_H

#include "postgres.h"

#include "fmgr.h"

/*
 * TELOS_VERSION is the extension's version, "MAJOR.MINOR.PATCH". The
 * Makefile passes it from default_version in telos.control so that the
 * library and the install script cannot disagree about it.
 */
#ifndef TELOS_VERSION
#error "TELOS_VERSION must be defined (the Makefile sets it from telos.control)"
#endif

/* The schema that holds every object of the extension (telos.control). */
#define TELOS_SCHEMA_NAME "telos"

/* The extension's name, as in CREATE EXTENSION and pg_extension. */
#define TELOS_EXTENSION_NAME "telos"

/*
 * _PG_init is called by the backend when the library is loaded, either at
 * postmaster start (shared_preload_libraries) or on first use of one of its
 * functions in a session. PostgreSQL 16 declares it in fmgr.h; 15 does not,
 * and -Wmissing-prototypes wants a declaration.
 */
extern PGDLLEXPORT void _PG_init(void);

#endif							/* TELOS_H */
