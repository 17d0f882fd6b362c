/*
 * log.h: leveled logging to stderr, safe from every thread.
 *
 * One line per call, written with a single write(2) so lines from several
 * workers never interleave: plain text ("2024-05-01 12:00:00.123 [info]
 * connect session=7 ..."), or with log_format json one JSON object per
 * line ({"ts":...,"level":...,"msg":...} and the event's fields).  lws's
 * own log is routed here at WARN and above.  Never pass a token or a
 * secret to these functions.
 */
#ifndef CHATRELAY_LOG_H
#define CHATRELAY_LOG_H

#include <stdbool.h>
#include <stddef.h>

enum log_level { LOG_ERR = 0, LOG_WARN, LOG_NOTICE, LOG_INFO, LOG_DEBUG };
enum log_format { LOG_FORMAT_PLAIN = 0, LOG_FORMAT_JSON };

/* Sets the most verbose level that is printed. */
void log_set_level(int level);
int log_get_level(void);

/* Returns true if a line at level would be printed: test it before
 * gathering what a line needs. */
static inline bool
log_on(int level)
{
	return level <= log_get_level();
}

/* Returns the level named by s ("err", "warn", "notice", "info", "debug"), or -1. */
int log_level_parse(const char *s);
const char *log_level_name(int level);

/* Sets how lines are written (enum log_format); any thread, any time. */
void log_set_format(int format);
int log_get_format(void);

/* Returns the format named by s ("plain" or "json"), or -1. */
int log_format_parse(const char *s);

/* Prints one line at the given level if the current level allows it. */
void log_msg(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* One field of an event: a string (str not NULL) or a number. */
struct log_field {
	const char *key;	/* [a-z_]+, never "ts", "level" or "msg" */
	const char *str;
	long long num;
};
#define LOG_STR(k, v) { (k), (v) != NULL ? (v) : "", 0 }
#define LOG_NUM(k, v) { (k), NULL, (long long)(v) }

/*
 * Prints an event at level if the level allows it: msg (a fixed word such
 * as "connect") and n fields, as " key=value" after msg in plain text
 * (values with blanks, quotes or '=' quoted), as members of the object in
 * JSON.  A string may come from a client: it is escaped, never trusted.
 */
void log_event(int level, const char *msg, const struct log_field *f,
    size_t n);

/* Routes lws's logging (ERR and WARN only) through log_msg. */
void log_route_lws(void);

/* Logs and exits(1): for start-up failures and broken invariants only. */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
/* The arguments of info and debug lines are not even evaluated when off. */
#define log_info(...) \
	do { if (log_on(LOG_INFO)) log_msg(LOG_INFO, __VA_ARGS__); } while (0)
#define log_debug(...) \
	do { if (log_on(LOG_DEBUG)) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

/*
 * Writes a formatted reason into err (errlen bytes), for the functions
 * that fail with "-1 and err filled"; err may be NULL or errlen 0.
 */
void errbuf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
