/*
 * log.h: leveled logging to stderr, safe from every thread.
 *
 * One line per call, written with a single write(2) so lines from several
 * workers never interleave.  lws's own log is routed here at WARN and above.
 * Never pass a token or a secret to these functions.
 */
#ifndef CHATRELAY_LOG_H
#define CHATRELAY_LOG_H

#include <stddef.h>

enum log_level { LOG_ERR = 0, LOG_WARN, LOG_NOTICE, LOG_INFO, LOG_DEBUG };

/* Sets the most verbose level that is printed. */
void log_set_level(int level);
int log_get_level(void);

/* Returns the level named by s ("err", "warn", "notice", "info", "debug"), or -1. */
int log_level_parse(const char *s);
const char *log_level_name(int level);

/* Prints one line at the given level if the current level allows it. */
void log_msg(int level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Routes lws's logging (ERR and WARN only) through log_msg. */
void log_route_lws(void);

/* Logs and exits(1): for start-up failures and broken invariants only. */
void fatal(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_NOTICE, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) \
	do { if (log_get_level() >= LOG_DEBUG) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

/*
 * Writes a formatted reason into err (errlen bytes), for the functions
 * that fail with "-1 and err filled"; err may be NULL or errlen 0.
 */
void errbuf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
