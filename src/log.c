/*
 * log.c: leveled logging to stderr, safe from every thread.
 *
 * Each line is formatted into a buffer on the caller's stack and written with
 * one write(2).  The buffer is no larger than PIPE_BUF, so even when stderr is
 * a pipe, lines from several workers arrive whole and never interleave.  The
 * level is a C11 atomic, so it may be read on every call without a lock.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "log.h"

/* Longest line written, newline included; longer messages are cut. */
#define LOG_LINE_MAX 2048
#if defined(PIPE_BUF) && PIPE_BUF < LOG_LINE_MAX
#error "LOG_LINE_MAX must not exceed PIPE_BUF, or lines could interleave"
#endif

static atomic_int log_level = LOG_NOTICE;

static const char *const log_names[] = {
	"err", "warn", "notice", "info", "debug"
};

void
log_set_level(int level)
{
	if (level < LOG_ERR)
		level = LOG_ERR;
	if (level > LOG_DEBUG)
		level = LOG_DEBUG;
	atomic_store_explicit(&log_level, level, memory_order_relaxed);
}

int
log_get_level(void)
{
	return atomic_load_explicit(&log_level, memory_order_relaxed);
}

int
log_level_parse(const char *s)
{
	size_t	i;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof log_names / sizeof log_names[0]; i++) {
		if (strcasecmp(s, log_names[i]) == 0)
			return (int)i;
	}
	return -1;
}

const char *
log_level_name(int level)
{
	if (level < LOG_ERR || level > LOG_DEBUG)
		return "unknown";
	return log_names[level];
}

/*
 * Writes "YYYY-MM-DD HH:MM:SS.mmm" for the current local time into buf and
 * returns its length (0 if the clock could not be read).
 */
static size_t
log_timestamp(char *buf, size_t len)
{
	struct timespec	ts;
	struct tm	tm;
	size_t		n;
	int		m;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 ||
	    localtime_r(&ts.tv_sec, &tm) == NULL)
		return 0;
	n = strftime(buf, len, "%Y-%m-%d %H:%M:%S", &tm);
	if (n == 0)
		return 0;
	m = snprintf(buf + n, len - n, ".%03ld", ts.tv_nsec / 1000000L);
	if (m < 0 || (size_t)m >= len - n)
		return n;
	return n + (size_t)m;
}

/*
 * Formats one line at level and writes it to stderr with a single write(2).
 * Control characters in the message become '?' so that text which came from
 * a client can never forge a second log line.
 */
static void __attribute__((format(printf, 2, 0)))
log_vemit(int level, const char *fmt, va_list ap)
{
	char	 line[LOG_LINE_MAX];
	size_t	 len, start, i;
	int	 n, saved_errno = errno;
	ssize_t	 w;

	len = log_timestamp(line, sizeof line);
	n = snprintf(line + len, sizeof line - len, "%s[%s] ",
	    len != 0 ? " " : "", log_level_name(level));
	if (n > 0)
		len += (size_t)n;
	start = len;

	/* Leave room for the newline. */
	n = vsnprintf(line + len, sizeof line - len - 1, fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof line - len - 1) {
		len = sizeof line - 1;
		memcpy(line + len - 3, "...", 3);
	} else
		len += (size_t)n;

	for (i = start; i < len; i++) {
		unsigned char	c = (unsigned char)line[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			line[i] = '?';
	}
	line[len++] = '\n';

	do
		w = write(STDERR_FILENO, line, len);
	while (w < 0 && errno == EINTR);
	errno = saved_errno;
}

void
log_msg(int level, const char *fmt, ...)
{
	va_list	ap;

	if (level > log_get_level())
		return;
	va_start(ap, fmt);
	log_vemit(level, fmt, ap);
	va_end(ap);
}

/* Receives a line from lws and passes it on without lws's trailing newline. */
static void
log_lws_emit(int level, const char *line)
{
	size_t	len = strlen(line);

	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	if (len > INT_MAX)
		len = INT_MAX;
	log_msg((level & LLL_ERR) ? LOG_ERR : LOG_WARN, "lws: %.*s", (int)len,
	    line);
}

void
log_route_lws(void)
{
	lws_set_log_level(LLL_ERR | LLL_WARN, log_lws_emit);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vemit(LOG_ERR, fmt, ap);
	va_end(ap);
	exit(1);
}

void
errbuf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list	ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
