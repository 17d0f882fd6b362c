/*
 * config-int.h: what config.c, config-file.c and config-args.c share.
 *
 * Private to those three files; everything else uses config.h.  The
 * directive table stays inside config.c: the other two reach it only by
 * name.
 */
#ifndef CHATRELAY_CONFIG_INT_H
#define CHATRELAY_CONFIG_INT_H

#include <stddef.h>
#include <stdio.h>

/* Writes a formatted reason into err, if the caller gave room for one. */
void config_error(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prints a formatted line to f, unless f is NULL. */
void config_report(FILE *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Returns the table's own spelling of the directive named by the first len
 * bytes of name (a static string), or NULL if there is no such directive.
 */
const char *config_directive_match(const char *name, size_t len);

#endif
