/*-------------------------------------------------------------------------
 *
 * archive_store.c
 *	  The archive directory as an object store (archive_store.h).
 *
 * Everything that touches the file system for archives is here, so that
 * another store (an object store over HTTP) replaces this one file.
 * Names are checked before any path is built from them, and every
 * directory under the root is checked not to be a symbolic link, so that
 * neither a caller's location nor a damaged catalog row can make the
 * server read, write or remove a file outside the archive directory.
 *
 *-------------------------------------------------------------------------
 */
#include "telos.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "common/file_perm.h"
#include "storage/fd.h"
#include "utils/guc.h"

#include "archive_store.h"

/* The setting; see archive_store.h. */
char	   *archive_directory = NULL;

/* Longest object name accepted (well below MAXPGPATH with the root). */
#define ARCHIVE_NAME_MAX	512

/* Writes are buffered in chunks of this size. */
#define ARCHIVE_WRITE_BUF	(256 * 1024)

/* Deepest directory tree archive_store_list descends into. */
#define ARCHIVE_LIST_DEPTH	16

struct ArchiveWriter
{
	char	   *name;			/* the object's name */
	char	   *temp_name;		/* the temporary object's name */
	char	   *path;			/* absolute path of the object */
	char	   *temp_path;		/* absolute path of the temporary object */
	int			fd;				/* transient file, -1 once closed */
	char	   *buf;
	size_t		used;
	uint64		written;
};

struct ArchiveObject
{
	char	   *name;
	char	   *path;
	int			fd;
	uint64		size;
};

/* ------------------------------------------------------------------------
 * The setting
 * ------------------------------------------------------------------------
 */

static bool
check_archive_directory(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0')
	{
		GUC_check_errdetail("telos.archive_directory must not be empty.");
		return false;
	}
	if (strlen(*newval) > MAXPGPATH - ARCHIVE_NAME_MAX - 64)
	{
		GUC_check_errdetail("telos.archive_directory is too long.");
		return false;
	}
	return true;
}

void
archive_store_define_gucs(void)
{
	DefineCustomStringVariable("telos.archive_directory",
							   "Directory of the archive files of archived chunks.",
							   "A relative path is relative to the data directory; the "
							   "default is the directory \"archive\" beside it.",
							   &archive_directory,
							   "../archive",
							   PGC_SIGHUP, 0,
							   check_archive_directory, NULL, NULL);
}

/* ------------------------------------------------------------------------
 * Names and paths
 * ------------------------------------------------------------------------
 */

static bool
name_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* NULL when name is a valid object name, else why not. */
static const char *
name_problem(const char *name)
{
	const char *p = name;

	if (name == NULL || name[0] == '\0')
		return "it is empty";
	if (strlen(name) > ARCHIVE_NAME_MAX)
		return "it is too long";
	if (name[0] == '/')
		return "it is an absolute path";
	/* Component by component: [A-Za-z0-9._-]+, never "." or "..". */
	while (*p != '\0')
	{
		const char *start = p;

		for (; *p != '\0' && *p != '/'; p++)
			if (!name_char_ok(*p))
				return "it has a character other than letters, digits, '.', '_', '-' and '/'";
		if (p == start)
			return "it has an empty path component";
		if ((p - start == 1 && start[0] == '.') ||
			(p - start == 2 && start[0] == '.' && start[1] == '.'))
			return "it has a \".\" or \"..\" component";
		if (*p == '/' && *++p == '\0')
			return "it ends with '/'";
	}
	return NULL;
}

void
archive_store_check_name(const char *name, const char *what)
{
	const char *reason = name_problem(name);

	if (reason != NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_NAME),
				 errmsg("invalid %s \"%s\"", what, name ? name : ""),
				 errdetail("It must be a relative path inside telos.archive_directory, but %s.",
						   reason)));
}

char *
archive_store_root(void)
{
	const char *dir = archive_directory ? archive_directory : "../archive";

	if (is_absolute_path(dir))
		return pstrdup(dir);
	return psprintf("%s/%s", DataDir, dir);
}

/*
 * The root, after checking that it is (or can be made) a directory; made
 * with its parents when create and missing.
 */
static char *
root_dir(bool create)
{
	char	   *root = archive_store_root();
	struct stat st;

	if (stat(root, &st) == 0)
	{
		if (!S_ISDIR(st.st_mode))
			ereport(ERROR,
					(errcode(ERRCODE_CONFIG_FILE_ERROR),
					 errmsg("telos.archive_directory \"%s\" is not a directory", root)));
		return root;
	}
	if (errno != ENOENT || !create)
	{
		if (errno == ENOENT)
			return root;		/* reads then find no object */
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat archive directory \"%s\": %m", root)));
	}
	if (pg_mkdir_p(root, pg_dir_create_mode) != 0 && errno != EEXIST)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create archive directory \"%s\": %m", root),
				 errhint("Create it, owned by the account the server runs as, or set telos.archive_directory.")));
	return root;
}

/*
 * Checks every directory of name (all components but the last) under root:
 * each must be a real directory, not a symbolic link. Missing ones are made
 * when create (their parents fsynced, so the new entries survive a crash),
 * else the walk stops there (the object does not exist). Returns whether
 * the whole directory chain exists.
 */
static bool
walk_dirs(const char *root, const char *name, bool create)
{
	StringInfoData path;
	const char *p = name;

	initStringInfo(&path);
	appendStringInfoString(&path, root);
	for (;;)
	{
		const char *slash = strchr(p, '/');
		struct stat st;

		if (slash == NULL)
			return true;
		appendStringInfoChar(&path, '/');
		appendBinaryStringInfo(&path, p, slash - p);
		if (lstat(path.data, &st) != 0)
		{
			if (errno != ENOENT)
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not stat \"%s\": %m", path.data)));
			if (!create)
				return false;
			if (mkdir(path.data, pg_dir_create_mode) != 0 && errno != EEXIST)
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not create archive directory \"%s\": %m", path.data)));
			/* The new entry lives in its parent: make it durable. */
			path.data[path.len - (slash - p) - 1] = '\0';
			fsync_fname(path.data, true);
			path.data[path.len - (slash - p) - 1] = '/';
			if (lstat(path.data, &st) != 0)
				ereport(ERROR,
						(errcode_for_file_access(),
						 errmsg("could not stat \"%s\": %m", path.data)));
		}
		if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("archive path \"%s\" leaves telos.archive_directory", name),
					 errdetail("\"%s\" is %s.", path.data,
							   S_ISLNK(st.st_mode) ? "a symbolic link" : "not a directory"),
					 errhint("Symbolic links are not followed inside the archive directory; link the whole directory instead.")));
		p = slash + 1;
	}
}

/* The absolute path of name (checked), its directories checked. */
static char *
object_path(const char *name, bool create, bool *dirs_exist)
{
	char	   *root;
	bool		exist;

	archive_store_check_name(name, "archive file");
	root = root_dir(create);
	exist = walk_dirs(root, name, create);
	if (dirs_exist)
		*dirs_exist = exist;
	return psprintf("%s/%s", root, name);
}

/* ------------------------------------------------------------------------
 * Writing
 * ------------------------------------------------------------------------
 */

ArchiveWriter *
archive_store_create(const char *name)
{
	ArchiveWriter *w = palloc0(sizeof(ArchiveWriter));
	struct stat st;

	w->name = pstrdup(name);
	w->path = object_path(name, true, NULL);
	if (lstat(w->path, &st) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_FILE),
				 errmsg("archive file \"%s\" already exists", name)));
	w->temp_name = psprintf("%s.tmp%d", name, MyProcPid);
	w->temp_path = psprintf("%s.tmp%d", w->path, MyProcPid);
	w->fd = OpenTransientFile(w->temp_path, O_WRONLY | O_CREAT | O_TRUNC | PG_BINARY);
	if (w->fd < 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not create archive file \"%s\": %m", w->temp_name)));
	w->buf = palloc(ARCHIVE_WRITE_BUF);
	return w;
}

const char *
archive_store_temp_name(const ArchiveWriter *w)
{
	return w->temp_name;
}

/* Writes out the buffer. */
static void
writer_flush(ArchiveWriter *w)
{
	size_t		done = 0;

	while (done < w->used)
	{
		ssize_t		n = write(w->fd, w->buf + done, w->used - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
		{
			/* A short write with no errno is a full disk. */
			if (n == 0 || errno == 0)
				errno = ENOSPC;
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not write archive file \"%s\": %m", w->temp_name)));
		}
		done += n;
	}
	w->used = 0;
}

void
archive_store_write(ArchiveWriter *w, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0)
	{
		size_t		n = Min(len, ARCHIVE_WRITE_BUF - w->used);

		memcpy(w->buf + w->used, p, n);
		w->used += n;
		w->written += n;
		p += n;
		len -= n;
		if (w->used == ARCHIVE_WRITE_BUF)
			writer_flush(w);
	}
}

uint64
archive_store_written(const ArchiveWriter *w)
{
	return w->written;
}

void
archive_store_finish(ArchiveWriter *w)
{
	struct stat st;

	writer_flush(w);
	if (pg_fsync(w->fd) != 0)
		ereport(data_sync_elevel(ERROR),
				(errcode_for_file_access(),
				 errmsg("could not fsync archive file \"%s\": %m", w->temp_name)));
	if (CloseTransientFile(w->fd) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not close archive file \"%s\": %m", w->temp_name)));
	w->fd = -1;
	/* rename() would replace a file made meanwhile; refuse instead. */
	if (lstat(w->path, &st) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DUPLICATE_FILE),
				 errmsg("archive file \"%s\" already exists", w->name)));
	/* fsyncs the file, renames it, fsyncs the directory. */
	(void) durable_rename(w->temp_path, w->path, ERROR);
	pfree(w->buf);
	w->buf = NULL;
}

/* ------------------------------------------------------------------------
 * Reading
 * ------------------------------------------------------------------------
 */

/* ERROR 58P01 naming the object. */
static void
report_missing(const char *name)
{
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_FILE),
			 errmsg("archive file \"%s\" does not exist", name),
			 errdetail("It is expected at \"%s/%s\".", archive_store_root(), name),
			 errhint("Restore the file from a backup of the archive directory, or check telos.archive_directory.")));
}

ArchiveObject *
archive_store_open(const char *name)
{
	ArchiveObject *o = palloc0(sizeof(ArchiveObject));
	struct stat st;
	bool		dirs;

	o->name = pstrdup(name);
	o->path = object_path(name, false, &dirs);
	if (!dirs)
		report_missing(name);
	/* Not through a symbolic link, as walk_dirs for the directories. */
	o->fd = OpenTransientFile(o->path, O_RDONLY | O_NOFOLLOW | PG_BINARY);
	if (o->fd < 0)
	{
		if (errno == ENOENT)
			report_missing(name);
		if (errno == ELOOP)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_NAME),
					 errmsg("archive path \"%s\" leaves telos.archive_directory", name),
					 errdetail("\"%s\" is a symbolic link.", o->path),
					 errhint("Symbolic links are not followed inside the archive directory; link the whole directory instead.")));
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open archive file \"%s\": %m", name)));
	}
	if (fstat(o->fd, &st) != 0)
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not stat archive file \"%s\": %m", name)));
	if (!S_ISREG(st.st_mode))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("archive file \"%s\" is not a regular file", name)));
	o->size = (uint64) st.st_size;
	return o;
}

uint64
archive_store_size(const ArchiveObject *o)
{
	return o->size;
}

void
archive_store_read(ArchiveObject *o, uint64 offset, void *buf, size_t len)
{
	char	   *p = buf;

	while (len > 0)
	{
		ssize_t		n = pg_pread(o->fd, p, len, (off_t) offset);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			ereport(ERROR,
					(errcode_for_file_access(),
					 errmsg("could not read archive file \"%s\": %m", o->name)));
		if (n == 0)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("archive file \"%s\" is corrupted", o->name),
					 errdetail("It ends at byte " UINT64_FORMAT ", before its recorded length.",
							   offset)));
		p += n;
		offset += n;
		len -= n;
	}
}

void
archive_store_close(ArchiveObject *o)
{
	if (o->fd >= 0)
		CloseTransientFile(o->fd);
	o->fd = -1;
	pfree(o->path);
	pfree(o->name);
	pfree(o);
}

/* ------------------------------------------------------------------------
 * Remove, exists, list
 * ------------------------------------------------------------------------
 */

/*
 * 0 when every directory of name under root is a real directory (not a
 * symbolic link), else an errno: ENOENT (one is missing), ELOOP. Never
 * errors.
 */
static int
dirs_safe(const char *root, const char *name)
{
	char	   *path = psprintf("%s/%s", root, name);
	char	   *p = path + strlen(root) + 1;
	int			result = 0;

	for (;;)
	{
		char	   *slash = strchr(p, '/');
		struct stat st;

		if (slash == NULL)
			break;
		*slash = '\0';
		if (lstat(path, &st) != 0)
			result = errno;
		else if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode))
			result = ELOOP;
		*slash = '/';
		if (result != 0)
			break;
		p = slash + 1;
	}
	pfree(path);
	return result;
}

int
archive_store_remove(const char *name)
{
	char	   *root = archive_store_root();
	char	   *path;
	char	   *slash;
	int			e;

	/*
	 * No ereport(ERROR) here: it runs at commit. The name and the
	 * directories on its way are checked softly; unlink does not follow a
	 * symbolic link in the last component, so nothing outside the root can
	 * be removed.
	 */
	if (name_problem(name) != NULL)
		return EINVAL;
	e = dirs_safe(root, name);
	if (e != 0)
		return e == ENOENT ? 0 : e;
	path = psprintf("%s/%s", root, name);
	if (unlink(path) != 0)
	{
		e = errno;
		pfree(path);
		return e == ENOENT ? 0 : e;
	}
	/* Make the removal durable (best effort: the data is gone anyway). */
	slash = strrchr(path, '/');
	*slash = '\0';
	(void) fsync_fname_ext(path, true, true, WARNING);
	pfree(path);
	return 0;
}

bool
archive_store_exists(const char *name)
{
	struct stat st;
	bool		dirs;
	char	   *path = object_path(name, false, &dirs);
	bool		exists = dirs && lstat(path, &st) == 0 && S_ISREG(st.st_mode);

	pfree(path);
	return exists;
}

/* One directory of archive_store_list; rel is its name ("" for the root). */
static void
list_dir(const char *root, const char *rel, int depth,
		 void (*fn) (void *arg, const char *name, double age_secs), void *arg)
{
	char	   *path = rel[0] ? psprintf("%s/%s", root, rel) : pstrdup(root);
	DIR		   *dir;
	struct dirent *de;
	time_t		now = time(NULL);

	if (depth > ARCHIVE_LIST_DEPTH)
		return;
	dir = AllocateDir(path);
	if (dir == NULL)
	{
		if (errno == ENOENT)
			return;
		ereport(ERROR,
				(errcode_for_file_access(),
				 errmsg("could not open archive directory \"%s\": %m", path)));
	}
	while ((de = ReadDir(dir, path)) != NULL)
	{
		char	   *child;
		char	   *childpath;
		struct stat st;
		bool		valid = true;
		const char *c;

		CHECK_FOR_INTERRUPTS();
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		for (c = de->d_name; *c; c++)
			if (!name_char_ok(*c))
				valid = false;
		if (!valid)
			continue;			/* not a name we ever make */
		child = rel[0] ? psprintf("%s/%s", rel, de->d_name) : pstrdup(de->d_name);
		childpath = psprintf("%s/%s", path, de->d_name);
		if (lstat(childpath, &st) == 0)
		{
			if (S_ISDIR(st.st_mode))
				list_dir(root, child, depth + 1, fn, arg);
			else if (S_ISREG(st.st_mode))
				fn(arg, child, difftime(now, st.st_mtime));
		}
		pfree(child);
		pfree(childpath);
	}
	FreeDir(dir);
	pfree(path);
}

void
archive_store_list(const char *prefix,
				   void (*fn) (void *arg, const char *name, double age_secs),
				   void *arg)
{
	char	   *root;

	if (prefix[0] != '\0')
	{
		char	   *probe = psprintf("%s/x", prefix);

		archive_store_check_name(probe, "archive prefix");
		root = root_dir(false);
		if (!walk_dirs(root, probe, false))
			return;
		/* The prefix itself must be a real directory, not a link. */
		{
			char	   *p = psprintf("%s/%s", root, prefix);
			struct stat st;

			if (lstat(p, &st) != 0 || !S_ISDIR(st.st_mode))
				return;
		}
	}
	else
		root = root_dir(false);
	list_dir(root, prefix, 0, fn, arg);
}
