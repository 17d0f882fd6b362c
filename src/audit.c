/*
 * audit.c: the audit file (see audit.h).  Reopening replaces the file
 * descriptor in place with dup2, so a worker writing at that moment writes
 * to the old file or to the new one, never to a closed descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "log.h"

#define AUDIT_LINE_MAX 8192	/* bytes of one line, '\n' included */

static int audit_fd = -1;
static char audit_path[4096];
static pthread_mutex_t reopen_lock = PTHREAD_MUTEX_INITIALIZER;

/* Opens path for appending; returns the descriptor or -1 (logged). */
static int
open_append(const char *path)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		log_err("audit_file %s: %s", path, strerror(errno));
	return fd;
}

int
audit_open(const char *path)
{
	if (path == NULL || path[0] == '\0')
		return 0;
	if (strlen(path) >= sizeof audit_path) {
		log_err("audit_file: the path is too long");
		return -1;
	}
	snprintf(audit_path, sizeof audit_path, "%s", path);
	audit_fd = open_append(path);
	return audit_fd >= 0 ? 0 : -1;
}

int
audit_reopen(void)
{
	int fd, rc = 0;

	pthread_mutex_lock(&reopen_lock);
	if (audit_fd >= 0) {
		if ((fd = open_append(audit_path)) < 0)
			rc = -1;
		else {
			if (dup2(fd, audit_fd) < 0) {
				log_err("audit_file %s: %s", audit_path,
				    strerror(errno));
				rc = -1;
			}
			close(fd);
		}
	}
	pthread_mutex_unlock(&reopen_lock);
	return rc;
}

void
audit_write(const char *line, size_t len)
{
	char buf[AUDIT_LINE_MAX];
	ssize_t n;

	if (audit_fd < 0)
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
		n = write(audit_fd, buf, len + 1);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)(len + 1))
		log_err("audit_file %s: %s", audit_path, n < 0 ?
		    strerror(errno) : "short write");
}

void
audit_close(void)
{
	if (audit_fd >= 0)
		close(audit_fd);
	audit_fd = -1;
}
