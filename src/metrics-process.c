/*
 * metrics-process.c: the process_* metrics, read from the kernel when
 * /metrics is requested.
 *
 * Everything here is a few small reads of /proc (no disk), so it runs on
 * the worker serving the request; nothing is cached, so the values are
 * those of the moment of the request.  The names and meanings are those of
 * Prometheus's client libraries, so the usual dashboards work unchanged.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "metrics.h"

/*
 * Reads at most len - 1 bytes of the file at path into buf, NUL-terminated.
 * Returns the number of bytes read, or -1.  /proc files are read in one go
 * until EOF since their size is not known beforehand.
 */
static ssize_t
read_small(const char *path, char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while (n < len - 1) {
		r = read(fd, buf + n, len - 1 - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			close(fd);
			return -1;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	buf[n] = '\0';
	return (ssize_t)n;
}

/* Returns the text after the n-th space-separated field from p, or NULL. */
static const char *
skip_fields(const char *p, int n)
{
	while (n-- > 0) {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			return NULL;
		while (*p != ' ' && *p != '\0')
			p++;
	}
	return p;
}

/* Parses the next field of p as a decimal number; returns 0, or -1. */
static int
next_u64(const char **p, uint64_t *v)
{
	unsigned long long x;
	char *end;

	while (**p == ' ')
		(*p)++;
	if (**p < '0' || **p > '9')
		return -1;
	errno = 0;
	x = strtoull(*p, &end, 10);
	if (errno != 0 || (*end != ' ' && *end != '\n' && *end != '\0'))
		return -1;
	*p = end;
	*v = (uint64_t)x;
	return 0;
}

int
metrics_process_parse_stat(const char *text, int64_t btime, long ticks,
    long pagesize, struct process_stats *ps)
{
	uint64_t start, vsize, rss;
	const char *p;

	/* The command name, field 2, is in parentheses and may itself hold
	 * spaces and parentheses: the fields resume after the last ')'. */
	p = strrchr(text, ')');
	if (p == NULL || ticks <= 0 || pagesize <= 0)
		return -1;
	/* Fields 3 (state) to 21 are skipped; 22 is starttime (clock ticks
	 * after boot), 23 vsize (bytes), 24 rss (pages). */
	p = skip_fields(p + 1, 19);
	if (p == NULL || next_u64(&p, &start) != 0 ||
	    next_u64(&p, &vsize) != 0 || next_u64(&p, &rss) != 0 ||
	    vsize > INT64_MAX || rss > (uint64_t)INT64_MAX / (uint64_t)pagesize)
		return -1;
	ps->virtual_bytes = (int64_t)vsize;
	ps->resident_bytes = (int64_t)rss * pagesize;
	ps->start_time = btime < 0 ? -1 :
	    (double)btime + (double)start / (double)ticks;
	return 0;
}

int
metrics_process_parse_btime(const char *text, int64_t *btime)
{
	const char *p = text;
	long long v;

	for (;;) {
		if (strncmp(p, "btime ", 6) == 0 &&
		    sscanf(p + 6, "%lld", &v) == 1 && v >= 0) {
			*btime = (int64_t)v;
			return 0;
		}
		p = strchr(p, '\n');
		if (p == NULL)
			return -1;
		p++;
	}
}

/* Returns the boot time (Unix seconds) from /proc/stat, or -1. */
static int64_t
boot_time(void)
{
	int64_t btime = -1;
	size_t cap = 0;
	char *line = NULL;
	FILE *f;

	/* Line by line: the per-CPU and "intr" lines before it can be long. */
	f = fopen("/proc/stat", "re");
	if (f == NULL)
		return -1;
	while (getline(&line, &cap, f) > 0)
		if (metrics_process_parse_btime(line, &btime) == 0)
			break;
	free(line);
	fclose(f);
	return btime;
}

/* Returns the number of open file descriptors, or -1. */
static int64_t
count_fds(void)
{
	struct dirent *e;
	int64_t n = 0;
	DIR *d;
	int self;

	d = opendir("/proc/self/fd");
	if (d == NULL)
		return -1;
	self = dirfd(d);
	while ((e = readdir(d)) != NULL) {
		/* Not ".", "..", nor the descriptor reading the directory. */
		if (e->d_name[0] == '.' || atoi(e->d_name) == self)
			continue;
		n++;
	}
	closedir(d);
	return n;
}

int
metrics_process_read(struct process_stats *ps)
{
	struct rusage ru;
	struct rlimit rl;
	char stat[1024];
	int64_t btime;
	int rc = 0;

	ps->cpu_seconds = ps->start_time = -1;
	ps->resident_bytes = ps->virtual_bytes = -1;
	ps->open_fds = ps->max_fds = -1;

	/* getrusage rather than stat's utime and stime: microseconds, not
	 * clock ticks (10 ms), so a short burst of work shows. */
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		ps->cpu_seconds = (double)ru.ru_utime.tv_sec +
		    (double)ru.ru_stime.tv_sec +
		    ((double)ru.ru_utime.tv_usec +
		    (double)ru.ru_stime.tv_usec) / 1e6;
	else
		rc = -1;

	btime = boot_time();
	if (read_small("/proc/self/stat", stat, sizeof stat) < 0 ||
	    metrics_process_parse_stat(stat, btime, sysconf(_SC_CLK_TCK),
	    sysconf(_SC_PAGESIZE), ps) != 0 || ps->start_time < 0)
		rc = -1;

	ps->open_fds = count_fds();
	if (ps->open_fds < 0)
		rc = -1;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		ps->max_fds = rl.rlim_cur == RLIM_INFINITY ||
		    rl.rlim_cur > (rlim_t)INT64_MAX ? INT64_MAX :
		    (int64_t)rl.rlim_cur;
	else
		rc = -1;
	return rc;
}
