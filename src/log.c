/*
 * log.c: leveled logging to stderr, safe from every thread.
 *
 * Each line is formatted into a buffer on the caller's stack and written with
 * one write(2).  The buffer is no larger than PIPE_BUF, so even when stderr is
 * a pipe, lines from several workers arrive whole and never interleave.  The
 * level and the format are C11 atomics, so they may be read on every call
 * without a lock, and changed by a reload (SIGHUP) while workers log.  A JSON
 * line stays valid JSON whatever it holds: escaped, cut short inside its
 * strings, never in the middle of an escape.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "log.h"
#include "utf8.h"

/* Longest line written, newline included; longer messages are cut. */
#define LOG_LINE_MAX 2048
#if defined(PIPE_BUF) && PIPE_BUF < LOG_LINE_MAX
#error "LOG_LINE_MAX must not exceed PIPE_BUF, or lines could interleave"
#endif

static atomic_int log_level = LOG_NOTICE;
static atomic_int log_format = LOG_FORMAT_PLAIN;

static const char *const log_names[] = {
	"err", "warn", "notice", "info", "debug"
};
static const char *const log_format_names[] = { "plain", "json" };

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

void
log_set_format(int format)
{
	atomic_store_explicit(&log_format, format == LOG_FORMAT_JSON ?
	    LOG_FORMAT_JSON : LOG_FORMAT_PLAIN, memory_order_relaxed);
}

int
log_get_format(void)
{
	return atomic_load_explicit(&log_format, memory_order_relaxed);
}

int
log_format_parse(const char *s)
{
	size_t	i;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof log_format_names / sizeof log_format_names[0];
	    i++) {
		if (strcmp(s, log_format_names[i]) == 0)
			return (int)i;
	}
	return -1;
}

/*
 * Writes the current time into buf and returns its length (0 if the clock
 * could not be read): "YYYY-MM-DD HH:MM:SS.mmm" local time, or with utc
 * "YYYY-MM-DDTHH:MM:SS.mmmZ" (ISO 8601, for JSON lines).
 */
static size_t
log_timestamp(char *buf, size_t len, bool utc)
{
	struct timespec	ts;
	struct tm	tm;
	size_t		n;
	int		m;

	if (clock_gettime(CLOCK_REALTIME, &ts) != 0 ||
	    (utc ? gmtime_r(&ts.tv_sec, &tm) : localtime_r(&ts.tv_sec, &tm)) ==
	    NULL)
		return 0;
	n = strftime(buf, len, utc ? "%Y-%m-%dT%H:%M:%S" : "%Y-%m-%d %H:%M:%S",
	    &tm);
	if (n == 0)
		return 0;
	m = snprintf(buf + n, len - n, ".%03ld%s", ts.tv_nsec / 1000000L,
	    utc ? "Z" : "");
	if (m < 0 || (size_t)m >= len - n)
		return n;
	return n + (size_t)m;
}

/*
 * A line being built.  Appending never passes cap, which leaves room for
 * the line's end ("}\n" or "\n"); what does not fit is cut and marked.
 */
struct line {
	char	buf[LOG_LINE_MAX];
	size_t	len;
	size_t	cap;
	bool	cut;
};

/* Appends n bytes of s if all of them fit; returns false (cut) if not. */
static bool
line_raw(struct line *l, const char *s, size_t n)
{
	if (l->cut || n > l->cap - l->len) {
		l->cut = true;
		return false;
	}
	memcpy(l->buf + l->len, s, n);
	l->len += n;
	return true;
}

/* Returns the length of the valid UTF-8 sequence at s (n bytes left), or 0. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	size_t want;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		want = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		want = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		want = 4;
	else
		return 0;
	return want <= n && utf8_valid((const char *)s, want) ? want : 0;
}

/*
 * Appends n bytes of s as the inside of a JSON string: quotes, backslashes
 * and control characters escaped, bytes that are not UTF-8 written '?'.
 * Stops, marking the line cut, when what is left would not keep reserve
 * bytes free.
 */
static void
line_json_chars(struct line *l, const char *s, size_t n, size_t reserve)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[8];
	size_t i = 0, k;

	while (i < n && !l->cut) {
		const char *out = esc;

		k = 1;
		if (p[i] == '"' || p[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)p[i];
			k = 2;
		} else if (p[i] == '\n' || p[i] == '\t' || p[i] == '\r') {
			esc[0] = '\\';
			esc[1] = p[i] == '\n' ? 'n' : p[i] == '\t' ? 't' : 'r';
			k = 2;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			snprintf(esc, sizeof esc, "\\u%04x", p[i]);
			k = 6;
		} else if (p[i] < 0x80)
			esc[0] = (char)p[i];
		else if ((k = utf8_seq(p + i, n - i)) != 0)
			out = (const char *)p + i;
		else {
			esc[0] = '?';
			k = 1;
		}
		if (k + reserve > l->cap - l->len) {
			l->cut = true;
			break;
		}
		memcpy(l->buf + l->len, out, k);
		l->len += k;
		i += out == esc ? 1 : k;
	}
}

/*
 * Appends s as a whole JSON string, quoted; "..." ends one that was cut.
 * The caller leaves at least 6 bytes free, so the string always closes.
 */
static void
line_json_str(struct line *l, const char *s, size_t n)
{
	if (!line_raw(l, "\"", 1))
		return;
	line_json_chars(l, s, n, 4);	/* the "..." and the closing quote */
	if (l->cut)
		memcpy(l->buf + l->len, "...", 3), l->len += 3;
	l->buf[l->len++] = '"';
}

/* Returns true if a plain value must be quoted to be read back. */
static bool
plain_needs_quotes(const char *s)
{
	if (*s == '\0')
		return true;
	for (; *s != '\0'; s++)
		if (*s == ' ' || *s == '\t' || *s == '"' || *s == '=' ||
		    *s == '\\')
			return true;
	return false;
}

/* Appends " key=value" for each field, plain text. */
static void
line_plain_fields(struct line *l, const struct log_field *f, size_t n)
{
	char num[32];
	size_t i;
	const char *s;

	for (i = 0; i < n && !l->cut; i++) {
		line_raw(l, " ", 1);
		line_raw(l, f[i].key, strlen(f[i].key));
		line_raw(l, "=", 1);
		if (f[i].str == NULL) {
			snprintf(num, sizeof num, "%lld", f[i].num);
			line_raw(l, num, strlen(num));
		} else if (!plain_needs_quotes(f[i].str))
			line_raw(l, f[i].str, strlen(f[i].str));
		else {
			line_raw(l, "\"", 1);
			for (s = f[i].str; *s != '\0' && !l->cut; s++) {
				if (*s == '"' || *s == '\\')
					line_raw(l, "\\", 1);
				line_raw(l, s, 1);
			}
			line_raw(l, "\"", 1);
		}
	}
}

/* Appends ,"key":value for each field, JSON. */
static void
line_json_fields(struct line *l, const struct log_field *f, size_t n)
{
	char head[80], num[32];
	size_t i;
	int k;

	for (i = 0; i < n && !l->cut; i++) {
		k = snprintf(head, sizeof head, ",\"%s\":", f[i].key);
		if (k < 0 || (size_t)k >= sizeof head)
			continue;
		if (f[i].str == NULL) {
			snprintf(num, sizeof num, "%lld", f[i].num);
			if (strlen(num) + (size_t)k <= l->cap - l->len) {
				line_raw(l, head, (size_t)k);
				line_raw(l, num, strlen(num));
			} else
				l->cut = true;
		} else if ((size_t)k + 6 <= l->cap - l->len) {
			line_raw(l, head, (size_t)k);
			line_json_str(l, f[i].str, strlen(f[i].str));
		} else
			l->cut = true;
	}
}

/* Writes the finished line with one write(2), keeping errno. */
static void
line_write(const struct line *l)
{
	int	saved_errno = errno;
	ssize_t	w;

	do
		w = write(STDERR_FILENO, l->buf, l->len);
	while (w < 0 && errno == EINTR);
	errno = saved_errno;
}

/*
 * Formats one line at level (the message fmt, then n fields) and writes it
 * to stderr with a single write(2).  In plain text, control characters in
 * the message become '?' so that text which came from a client can never
 * forge a second log line; in JSON they are escaped.
 */
static void __attribute__((format(printf, 2, 0)))
log_vemit(int level, const char *fmt, va_list ap, const struct log_field *f,
    size_t nf)
{
	struct line	 l;
	char		 msg[LOG_LINE_MAX];
	size_t		 start, i;
	int		 n;

	l.len = 0;
	l.cut = false;
	if (log_get_format() == LOG_FORMAT_JSON) {
		l.cap = sizeof l.buf - 2;	/* "}\n" */
		n = vsnprintf(msg, sizeof msg, fmt, ap);
		if (n < 0)
			n = 0;
		if ((size_t)n >= sizeof msg)
			n = (int)sizeof msg - 1;
		line_raw(&l, "{\"ts\":\"", 7);
		l.len += log_timestamp(l.buf + l.len, 40, true);
		line_raw(&l, "\",\"level\":\"", 11);
		line_raw(&l, log_level_name(level),
		    strlen(log_level_name(level)));
		line_raw(&l, "\",\"msg\":", 8);
		line_json_str(&l, msg, (size_t)n);
		line_json_fields(&l, f, nf);
		l.buf[l.len++] = '}';
		l.buf[l.len++] = '\n';
		line_write(&l);
		return;
	}

	l.cap = sizeof l.buf - 1;	/* "\n" */
	l.len = log_timestamp(l.buf, 40, false);
	n = snprintf(l.buf + l.len, sizeof l.buf - l.len, "%s[%s] ",
	    l.len != 0 ? " " : "", log_level_name(level));
	if (n > 0)
		l.len += (size_t)n;
	start = l.len;
	n = vsnprintf(l.buf + l.len, l.cap - l.len + 1, fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n > l.cap - l.len) {
		l.len = l.cap;
		l.cut = true;
	} else
		l.len += (size_t)n;
	line_plain_fields(&l, f, nf);
	if (l.cut)
		memcpy(l.buf + l.len - 3, "...", 3);

	for (i = start; i < l.len; i++) {
		unsigned char	c = (unsigned char)l.buf[i];

		if ((c < 0x20 && c != '\t') || c == 0x7f)
			l.buf[i] = '?';
	}
	l.buf[l.len++] = '\n';
	line_write(&l);
}

void
log_msg(int level, const char *fmt, ...)
{
	va_list	ap;

	if (level > log_get_level())
		return;
	va_start(ap, fmt);
	log_vemit(level, fmt, ap, NULL, 0);
	va_end(ap);
}

/* Calls log_vemit with msg as the format's only argument. */
static void
log_emit_event(int level, const struct log_field *f, size_t n,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void
log_emit_event(int level, const struct log_field *f, size_t n,
    const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vemit(level, fmt, ap, f, n);
	va_end(ap);
}

void
log_event(int level, const char *msg, const struct log_field *f, size_t n)
{
	if (level > log_get_level())
		return;
	log_emit_event(level, f, n, "%s", msg);
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
	log_vemit(LOG_ERR, fmt, ap, NULL, 0);
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
