/*
 * statefile.c: a small durable state file: lines of text, replaced whole
 * and atomically, read back line by line.
 *
 * A save never writes over the file it replaces: it writes a temporary file
 * beside it, makes it durable (fsync), and only then renames it over the
 * old one, which POSIX makes atomic: a reader, or the relay after a crash,
 * finds either the old file or the new one, never a mix.  The directory is
 * fsync'd last so that the rename itself survives a power cut.  Every
 * failure before the rename removes the temporary file and leaves the old
 * one alone; a temporary file left by a crash has a name no load reads, and
 * the next save of the same process id truncates it.
 *
 * Loading streams the file through a fixed line buffer, so memory stays
 * bounded whatever the file holds; the file's size is bounded too.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "statefile.h"
#include "log.h"

#define STATEFILE_CHUNK (64 * 1024)	/* bytes per write or read */

/*
 * Writes len bytes of buf to fd, going on after short writes and EINTR.
 * Returns 0, or -1 with errno set.
 */
static int
statefile_write_all(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			errno = EIO;	/* no progress and no error: give up */
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync(fd), again after EINTR.  Returns 0, or -1 with errno set. */
static int
statefile_fsync(int fd)
{
	int	r;

	while ((r = fsync(fd)) != 0 && errno == EINTR)
		;
	return r;
}

/*
 * Checks the lines statefile_save was given.  Returns 0, or -1 with err
 * filled.
 */
static int
statefile_check_lines(const char *const *lines, const size_t *lens,
    size_t n, char *err, size_t errlen)
{
	size_t	i, len, total = 0;

	if (n > 0 && lines == NULL) {
		errbuf(err, errlen, "no lines given");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if (lines[i] == NULL) {
			errbuf(err, errlen, "line %zu is missing",
			    i + 1);
			return -1;
		}
		len = lens != NULL ? lens[i] :
		    strnlen(lines[i], STATEFILE_LINE_MAX + 1);
		if (len == 0) {
			errbuf(err, errlen, "line %zu is empty", i + 1);
			return -1;
		}
		if (len > STATEFILE_LINE_MAX) {
			errbuf(err, errlen, "line %zu is longer than "
			    "%d bytes", i + 1, STATEFILE_LINE_MAX);
			return -1;
		}
		if (memchr(lines[i], '\n', len) != NULL ||
		    memchr(lines[i], '\0', len) != NULL) {
			errbuf(err, errlen, "line %zu holds a newline "
			    "or a NUL byte", i + 1);
			return -1;
		}
		total += len + 1;
		if (total > STATEFILE_SIZE_MAX) {
			errbuf(err, errlen, "more than %d bytes of "
			    "lines", STATEFILE_SIZE_MAX);
			return -1;
		}
	}
	return 0;
}

/*
 * Writes the lines, each followed by '\n', to fd through a buffer of
 * STATEFILE_CHUNK bytes.  Returns 0, or -1 with errno set.
 */
static int
statefile_write_lines(int fd, const char *const *lines, const size_t *lens,
    size_t n)
{
	char	*buf;
	size_t	 i, len, used = 0;
	int	 saved;

	if ((buf = malloc(STATEFILE_CHUNK)) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		len = lens != NULL ? lens[i] : strlen(lines[i]);
		/* A line and its '\n' always fit an empty buffer. */
		if (used + len + 1 > STATEFILE_CHUNK) {
			if (statefile_write_all(fd, buf, used) != 0)
				goto fail;
			used = 0;
		}
		memcpy(buf + used, lines[i], len);
		used += len;
		buf[used++] = '\n';
	}
	if (used > 0 && statefile_write_all(fd, buf, used) != 0)
		goto fail;
	free(buf);
	return 0;

fail:
	saved = errno;
	free(buf);
	errno = saved;
	return -1;
}

/*
 * Writes the directory part of path into dir (size bytes): "." when path
 * has no '/', "/" for a file at the root.  Returns 0, or -1 if it does not
 * fit.
 */
static int
statefile_dirname(const char *path, char *dir, size_t size)
{
	const char	*slash = strrchr(path, '/');
	size_t		 len;

	if (slash == NULL)
		len = (size_t)snprintf(dir, size, ".");
	else if (slash == path)
		len = (size_t)snprintf(dir, size, "/");
	else
		len = (size_t)snprintf(dir, size, "%.*s",
		    (int)(slash - path), path);
	return len < size ? 0 : -1;
}

/* Opens the directory dir and fsyncs it.  Returns 0, or -1 with errno set. */
static int
statefile_sync_dir(const char *dir)
{
	int	fd, r, saved;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	r = statefile_fsync(fd);
	saved = errno;
	close(fd);
	/* Some file systems cannot sync a directory; nothing more to do there. */
	if (r != 0 && saved == EINVAL)
		r = 0;
	errno = saved;
	return r;
}

int
statefile_save(const char *path, const char *const *lines,
    const size_t *lens, size_t n, char *err, size_t errlen)
{
	char		 tmp[PATH_MAX], dir[PATH_MAX];
	const char	*step;
	int		 fd, saved, len;

	if (path == NULL || *path == '\0') {
		errbuf(err, errlen, "no state file named");
		return -1;
	}
	if (statefile_check_lines(lines, lens, n, err, errlen) != 0)
		return -1;
	len = snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
	if (len < 0 || (size_t)len >= sizeof tmp ||
	    statefile_dirname(path, dir, sizeof dir) != 0) {
		errbuf(err, errlen, "%.200s...: path too long", path);
		return -1;
	}

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		errbuf(err, errlen, "%s: not saved (creating %s: %s); "
		    "the old state is kept", path, tmp, strerror(errno));
		return -1;
	}
	step = "writing";
	if (statefile_write_lines(fd, lines, lens, n) != 0)
		goto fail;
	step = "syncing";
	if (statefile_fsync(fd) != 0)
		goto fail;
	step = "closing";
	if (close(fd) != 0) {
		fd = -1;	/* closed all the same: never close it twice */
		goto fail;
	}
	fd = -1;
	step = "renaming";
	if (rename(tmp, path) != 0)
		goto fail;

	if (statefile_sync_dir(dir) != 0) {
		errbuf(err, errlen, "%s: saved, but its directory %s "
		    "could not be synced (a crash may undo the save): %s",
		    path, dir, strerror(errno));
		return -1;
	}
	return 0;

fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errbuf(err, errlen, "%s: not saved (%s %s: %s); the old state "
	    "is kept", path, step, tmp, strerror(saved));
	return -1;
}

/* What statefile_load carries from one chunk to the next. */
struct statefile_reader {
	const char		*path;
	statefile_line_fn	 cb;
	void			*arg;
	char			*line;		/* STATEFILE_LINE_MAX + 1 bytes */
	size_t			 len;		/* bytes of the line so far */
	unsigned		 lineno;
	char			*err;
	size_t			 errlen;
};

/*
 * Hands the line gathered in r to the callback, if it is not empty, and
 * starts the next one.  Returns 0, or -1 with err filled.
 */
static int
statefile_emit(struct statefile_reader *r)
{
	if (r->len > 0) {
		if (memchr(r->line, '\0', r->len) != NULL) {
			errbuf(r->err, r->errlen, "%s:%u: a NUL byte "
			    "in the line", r->path, r->lineno);
			return -1;
		}
		r->line[r->len] = '\0';
		if (r->cb(r->line, r->len, r->lineno, r->arg) != 0) {
			errbuf(r->err, r->errlen, "%s:%u: line not "
			    "accepted", r->path, r->lineno);
			return -1;
		}
	}
	r->len = 0;
	r->lineno++;
	return 0;
}

/*
 * Splits n bytes read from the file into lines for the callback.  Returns
 * 0, or -1 with err filled.
 */
static int
statefile_feed(struct statefile_reader *r, const char *p, size_t n)
{
	const char	*end = p + n, *nl;
	size_t		 seg;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		seg = (size_t)((nl != NULL ? nl : end) - p);
		if (seg > STATEFILE_LINE_MAX - r->len) {
			errbuf(r->err, r->errlen, "%s:%u: line longer "
			    "than %d bytes", r->path, r->lineno,
			    STATEFILE_LINE_MAX);
			return -1;
		}
		memcpy(r->line + r->len, p, seg);
		r->len += seg;
		if (nl == NULL)
			break;
		if (statefile_emit(r) != 0)
			return -1;
		p = nl + 1;
	}
	return 0;
}

int
statefile_load(const char *path, statefile_line_fn cb, void *arg,
    char *err, size_t errlen)
{
	struct statefile_reader	 r = { .path = path, .cb = cb, .arg = arg,
	    .lineno = 1, .err = err, .errlen = errlen };
	struct stat		 st;
	char			*buf = NULL;
	size_t			 total = 0;
	ssize_t			 n;
	int			 fd, rc = -1;

	if (path == NULL || *path == '\0' || cb == NULL) {
		errbuf(err, errlen, "no state file named");
		return -1;
	}
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 0;	/* never saved: the empty state */
		errbuf(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		errbuf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > STATEFILE_SIZE_MAX) {
		errbuf(err, errlen, "%s: %lld bytes, more than the %d "
		    "a state file may hold", path, (long long)st.st_size,
		    STATEFILE_SIZE_MAX);
		goto out;
	}
	buf = malloc(STATEFILE_CHUNK);
	r.line = malloc(STATEFILE_LINE_MAX + 1);
	if (buf == NULL || r.line == NULL) {
		errbuf(err, errlen, "%s: out of memory", path);
		goto out;
	}
	for (;;) {
		n = read(fd, buf, STATEFILE_CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			errbuf(err, errlen, "%s: cannot read: %s",
			    path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		/* The file may have grown since fstat. */
		total += (size_t)n;
		if (total > STATEFILE_SIZE_MAX) {
			errbuf(err, errlen, "%s: more than the %d "
			    "bytes a state file may hold", path,
			    STATEFILE_SIZE_MAX);
			goto out;
		}
		if (statefile_feed(&r, buf, (size_t)n) != 0)
			goto out;
	}
	if (statefile_emit(&r) != 0)	/* a last line without '\n' */
		goto out;
	rc = 0;

out:
	free(buf);
	free(r.line);
	close(fd);
	return rc;
}
