/*
 * failio.c: write, fsync and rename wrapped (ld --wrap) so that a test can
 * make them fail, tear a file or write short (see failio.h).
 */
#include <errno.h>
#include <stddef.h>
#include <sys/types.h>

#include "failio.h"

ssize_t __real_write(int fd, const void *buf, size_t n);
int __real_fsync(int fd);
int __real_rename(const char *from, const char *to);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
int __wrap_fsync(int fd);
int __wrap_rename(const char *from, const char *to);

int failio_write_eintr = 0;
size_t failio_write_max = 0;
long failio_write_budget = -1;
int failio_write_errno = ENOSPC;
int failio_write_calls = 0;
int failio_fsync_left = -1;
int failio_rename_left = -1;

void
failio_reset(void)
{
	failio_write_eintr = 0;
	failio_write_max = 0;
	failio_write_budget = -1;
	failio_write_errno = ENOSPC;
	failio_write_calls = 0;
	failio_fsync_left = -1;
	failio_rename_left = -1;
}

/* Returns 1 if this call must fail, counting it down otherwise. */
static int
must_fail(int *left)
{
	if (*left < 0)
		return 0;
	if (*left == 0)
		return 1;
	(*left)--;
	return 0;
}

ssize_t
__wrap_write(int fd, const void *buf, size_t n)
{
	ssize_t	w;

	failio_write_calls++;
	if (failio_write_eintr > 0) {
		failio_write_eintr--;
		errno = EINTR;
		return -1;
	}
	if (failio_write_budget == 0) {
		errno = failio_write_errno;
		return -1;
	}
	if (failio_write_max > 0 && n > failio_write_max)
		n = failio_write_max;
	if (failio_write_budget > 0 && n > (size_t)failio_write_budget)
		n = (size_t)failio_write_budget;
	w = __real_write(fd, buf, n);
	if (w > 0 && failio_write_budget > 0)
		failio_write_budget -= w;
	return w;
}

int
__wrap_fsync(int fd)
{
	if (must_fail(&failio_fsync_left)) {
		errno = EIO;
		return -1;
	}
	return __real_fsync(fd);
}

int
__wrap_rename(const char *from, const char *to)
{
	if (must_fail(&failio_rename_left)) {
		errno = EXDEV;
		return -1;
	}
	return __real_rename(from, to);
}
