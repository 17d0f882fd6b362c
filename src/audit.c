/*
 * audit.c: the audit file (see audit.h).  Reopening replaces the file
 * descriptor in place with dup2, so a worker writing at that moment writes
 * to the old file or to the new one, never to a closed descriptor.  For the
 * same reason the descriptor, once opened, stays open until audit_close:
 * turning the file off (a reload with audit_file "") only stops the
 * writes, and turning it on again, or naming another file, dup2s onto it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "log.h"

#define AUDIT_LINE_MAX 8192	/* bytes of one line, '\n' included */

static int audit_file_fd = -1;		/* the descriptor, once opened */
static atomic_int audit_fd = -1;	/* where workers write: it, or -1 */
static char audit_path[4096];		/* under lock once workers run */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* Opens path for appending; returns the descriptor or -1 (logged). */
static int
open_append(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		log_err("audit_file %s: %s", path, strerror(errno));
	return fd;
}

/*
 * Makes path the file written, opened anew (lock held).  Returns 0, or -1
 * (logged) leaving everything as it was.
 */
static int
audit_use(const char *path)
{
	int fd;

	if (strlen(path) >= sizeof audit_path) {
		log_err("audit_file: the path is too long");
		return -1;
	}
	if ((fd = open_append(path)) < 0)
		return -1;
	if (audit_file_fd < 0)
		audit_file_fd = fd;
	else {
		if (dup2(fd, audit_file_fd) < 0) {
			log_err("audit_file %s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
	}
	snprintf(audit_path, sizeof audit_path, "%s", path);
	atomic_store(&audit_fd, audit_file_fd);
	return 0;
}

int
audit_open(const char *path)
{
	int rc = 0;

	if (path == NULL || path[0] == '\0')
		return 0;
	pthread_mutex_lock(&lock);
	rc = audit_use(path);
	pthread_mutex_unlock(&lock);
	return rc;
}

int
audit_switch(const char *path)
{
	int rc = 0;

	pthread_mutex_lock(&lock);
	if (path == NULL || path[0] == '\0') {
		atomic_store(&audit_fd, -1);
		audit_path[0] = '\0';
	} else
		rc = audit_use(path);
	pthread_mutex_unlock(&lock);
	return rc;
}

int
audit_reopen(void)
{
	int rc = 0;

	pthread_mutex_lock(&lock);
	if (atomic_load(&audit_fd) >= 0)
		rc = audit_use(audit_path);
	pthread_mutex_unlock(&lock);
	return rc;
}

void
audit_write(const char *line, size_t len)
{
	char buf[AUDIT_LINE_MAX];
	int fd = atomic_load(&audit_fd);
	ssize_t n;

	if (fd < 0)
		return;
	if (len + 1 > sizeof buf) {
		log_warn("audit: a line of %zu bytes not written to the file",
		    len);
		return;
	}
	memcpy(buf, line, len);
	buf[len] = '\n';
	/* One write: appended whole, whatever the other workers write. */
	do
		n = write(fd, buf, len + 1);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)(len + 1)) {
		int saved = errno;

		pthread_mutex_lock(&lock);
		log_err("audit_file %s: %s", audit_path, n < 0 ?
		    strerror(saved) : "short write");
		pthread_mutex_unlock(&lock);
	}
}

void
audit_close(void)
{
	atomic_store(&audit_fd, -1);
	if (audit_file_fd >= 0)
		close(audit_file_fd);
	audit_file_fd = -1;
	audit_path[0] = '\0';
}
