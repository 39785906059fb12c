/*-------------------------------------------------------------------------
 *
 * archive_pending.c
 *	  Archive files and transactions (archive.h): removal at commit or
 *	  abort, the lock that keeps the sweep away from files being made, and
 *	  the sweep of files no catalog row names.
 *
 * Files are not transactional, the catalog is. Each request to remove a
 * file is kept, with the (sub)transaction nesting level that made it,
 * until the outcome is known -- as PostgreSQL keeps the relation files to
 * unlink (storage.c, pendingDeletes). The removals run in the transaction
 * callbacks, after the commit record or during abort, where an ERROR is
 * not allowed: a failure is a WARNING, and the file is left for the sweep.
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include "access/xact.h"
#include "access/xlog.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "storage/lock.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "archive.h"
#include "archive_store.h"
#include "job.h"
#include "util.h"

/* When a pending file is removed. */
typedef enum PendingWhen
{
	PENDING_AT_COMMIT,
	PENDING_AT_ABORT
} PendingWhen;

typedef struct PendingFile
{
	char	   *name;			/* in TopMemoryContext */
	PendingWhen when;
	int			nestlevel;		/* of the (sub)transaction that asked */
	struct PendingFile *next;
} PendingFile;

static PendingFile *pending = NULL;

/* ------------------------------------------------------------------------
 * Pending removals
 * ------------------------------------------------------------------------
 */

static void
add_pending(const char *name, PendingWhen when)
{
	PendingFile *p;

	archive_store_check_name(name, "archive file");
	p = MemoryContextAlloc(TopMemoryContext, sizeof(PendingFile));
	p->name = MemoryContextStrdup(TopMemoryContext, name);
	p->when = when;
	p->nestlevel = GetCurrentTransactionNestLevel();
	p->next = pending;
	pending = p;
}

void
archive_remove_at_commit(const char *name)
{
	add_pending(name, PENDING_AT_COMMIT);
}

void
archive_remove_at_abort(const char *name)
{
	add_pending(name, PENDING_AT_ABORT);
}

/* Removes a file at end of (sub)transaction; WARNING on failure. */
static void
remove_now(const char *name)
{
	int			e = archive_store_remove(name);

	if (e != 0)
	{
		errno = e;
		ereport(WARNING,
				(errcode_for_file_access(),
				 errmsg("could not remove archive file \"%s\": %m", name),
				 errdetail("The archive policy's sweep will remove it later.")));
	}
}

/*
 * Settles the requests of nesting level >= level: those whose condition
 * happened (committed: when = AT_COMMIT; aborted: AT_ABORT) remove their
 * file, the others are dropped.
 */
static void
settle(bool committed, int level)
{
	PendingFile **link = &pending;

	while (*link != NULL)
	{
		PendingFile *p = *link;

		if (p->nestlevel < level)
		{
			link = &p->next;
			continue;
		}
		*link = p->next;
		if ((p->when == PENDING_AT_COMMIT) == committed)
			remove_now(p->name);
		pfree(p->name);
		pfree(p);
	}
}

static void
archive_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_PREPARE:
			if (pending != NULL)
				ereport(ERROR,
						(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
						 errmsg("cannot PREPARE a transaction that archived, restored or dropped an archived chunk")));
			break;
		case XACT_EVENT_COMMIT:
		case XACT_EVENT_PARALLEL_COMMIT:
			settle(true, 0);
			break;
		case XACT_EVENT_ABORT:
		case XACT_EVENT_PARALLEL_ABORT:
			settle(false, 0);
			break;
		default:
			break;
	}
}

static void
archive_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
						 SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();

	if (event == SUBXACT_EVENT_ABORT_SUB)
		settle(false, level);
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		/* The parent inherits the requests; their fate is its fate. */
		for (PendingFile *p = pending; p != NULL; p = p->next)
			if (p->nestlevel >= level)
				p->nestlevel = level - 1;
	}
}

void
archive_init(void)
{
	archive_store_define_gucs();
	RegisterXactCallback(archive_xact_callback, NULL);
	RegisterSubXactCallback(archive_subxact_callback, NULL);
}

/* ------------------------------------------------------------------------
 * Writers and the sweep
 * ------------------------------------------------------------------------
 */

static void
archive_locktag(LOCKTAG *tag)
{
	SET_LOCKTAG_ADVISORY(*tag, MyDatabaseId, TELOS_LOCK_ARCHIVE, 0, TELOS_LOCK_CLASS);
}

void
archive_lock_writers(void)
{
	LOCKTAG		tag;

	archive_locktag(&tag);
	(void) LockAcquire(&tag, ShareLock, false, false);
}

char *
archive_db_dir(void)
{
	return psprintf("c" UINT64_FORMAT "-d%u", GetSystemIdentifier(), MyDatabaseId);
}

typedef struct SweepState
{
	char	  **known;			/* sorted names the catalog records */
	int			nknown;
	const char *dbdir;
	double		min_age;
	int64		removed;
	void		(*found) (void *arg, const char *name);
	void	   *arg;
} SweepState;

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *) a, *(char *const *) b);
}

/* Whether base is a name archive files (or their temporary names) have. */
static bool
is_archive_name(const char *base)
{
	const char *suffix = strstr(base, ARCHIVE_FILE_SUFFIX);
	const char *after;

	if (suffix == NULL || suffix == base)
		return false;
	after = suffix + strlen(ARCHIVE_FILE_SUFFIX);
	if (*after == '\0')
		return true;
	if (strncmp(after, ".tmp", 4) != 0 || after[4] == '\0')
		return false;
	for (after += 4; *after; after++)
		if (*after < '0' || *after > '9')
			return false;
	return true;
}

static void
sweep_one(void *arg, const char *name, double age)
{
	SweepState *s = arg;
	const char *slash = strrchr(name, '/');
	const char *base = slash ? slash + 1 : name;
	const char *dirstart;
	size_t		dirlen;
	const char *key = name;

	/* Only files directly in this database's directory. */
	if (slash == NULL)
		return;
	dirstart = slash;
	while (dirstart > name && dirstart[-1] != '/')
		dirstart--;
	dirlen = slash - dirstart;
	if (dirlen != strlen(s->dbdir) || strncmp(dirstart, s->dbdir, dirlen) != 0)
		return;
	if (!is_archive_name(base) || age < s->min_age)
		return;
	if (bsearch(&key, s->known, s->nknown, sizeof(char *), cmp_name) != NULL)
		return;
	if (archive_store_remove(name) == 0)
	{
		s->removed++;
		if (s->found)
			s->found(s->arg, name);
	}
}

int64
archive_sweep(double min_age_secs, void (*found) (void *arg, const char *name), void *arg)
{
	LOCKTAG		tag;
	SweepState	s = {0};
	TelosCatalogState save;
	MemoryContext outer = CurrentMemoryContext;

	/* No archiver at work: every file being made is then in the catalog. */
	archive_locktag(&tag);
	if (LockAcquire(&tag, ExclusiveLock, false, true) == LOCKACQUIRE_NOT_AVAIL)
		return -1;

	/* The names the catalog records, read after the lock (a new snapshot). */
	telos_catalog_become("compressed_chunk", &save);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute("SELECT file FROM telos.compressed_chunk"
					" WHERE storage = 'file' AND file IS NOT NULL",
					true, 0) != SPI_OK_SELECT)
		elog(ERROR, "could not read telos.compressed_chunk");
	s.nknown = (int) SPI_processed;
	s.known = MemoryContextAlloc(outer, sizeof(char *) * Max(s.nknown, 1));
	for (int i = 0; i < s.nknown; i++)
		s.known[i] = MemoryContextStrdup(outer,
										 SPI_getvalue(SPI_tuptable->vals[i],
													  SPI_tuptable->tupdesc, 1));
	SPI_finish();
	telos_catalog_restore(&save);
	qsort(s.known, s.nknown, sizeof(char *), cmp_name);

	s.dbdir = archive_db_dir();
	s.min_age = min_age_secs;
	s.found = found;
	s.arg = arg;
	archive_store_list("", sweep_one, &s);
	return s.removed;
}
