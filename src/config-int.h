/*
 * config-int.h: what config.c, config-file.c and config-args.c share.
 *
 * Private to config.c, config-table.c, config-file.c, config-args.c and
 * config-man.c; everything else uses config.h.
 */
#ifndef CHATRELAY_CONFIG_INT_H
#define CHATRELAY_CONFIG_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Where `make install` puts the web root (Makefile.am: -DDATADIR). */
#ifndef DATADIR
#define DATADIR "/usr/local/share/chatrelay"
#endif

#define KIB ((int64_t)1024)
#define MIB (KIB * 1024)
#define GIB (MIB * 1024)

#define MSEC ((int64_t)1)
#define SEC (MSEC * 1000)
#define MIN (SEC * 60)
#define HOUR (MIN * 60)
#define DAY (HOUR * 24)

enum config_type {
	CONFIG_INT,		/* int, decimal */
	CONFIG_BOOL,		/* int 0/1, yes/no/on/off/true/false/1/0 */
	CONFIG_STRING,		/* char[], min..max bytes */
	CONFIG_SIZE,		/* size_t bytes, with k/m/g suffixes */
	CONFIG_DURATION,	/* int64_t ms, with ms/s/m/h/d units */
	CONFIG_LOGLEVEL		/* int, enum log_level */
};

struct config_directive {
	const char		*name;
	enum config_type	 type;
	size_t			 offset;	/* of the field in struct config */
	size_t			 size;		/* of the field, bytes */
	const char		*def;		/* default, as text */
	int64_t			 min;		/* bounds; length bounds for strings */
	int64_t			 max;
	int			(*valid)(const char *, char *, size_t);
	unsigned		 flags;		/* CONFIG_LIVE, CONFIG_SECRET */
	const char		*help;
};

#define CONFIG_LIVE	1u	/* may change while the relay runs (SIGHUP) */
#define CONFIG_SECRET	2u	/* its value is never logged */

/*
 * The offset of field f, which must have type T: a row that names the wrong
 * type for its field does not compile.
 */
#define CONFIG_FIELD(f, T)						\
	.offset = offsetof(struct config, f) +				\
	    0 * sizeof(_Generic(((struct config *)0)->f, T: 1)),	\
	.size = sizeof(((struct config *)0)->f)
#define CONFIG_STRFIELD(f)						\
	.offset = offsetof(struct config, f),				\
	.size = sizeof(((struct config *)0)->f)

/* The directive table (config-table.c), config_ndirectives rows. */
extern const struct config_directive config_table[];
extern const size_t config_ndirectives;

/* Returns the row for the first len bytes of name, or NULL. */
const struct config_directive *config_directive_find(const char *name,
    size_t len);


/*
 * Writes v, a bound of d, into buf (len bytes) in the form d's values are
 * written: "256k" for a size, "5s" for a duration, decimal otherwise.
 */
void config_format_bound(const struct config_directive *d, int64_t v,
    char *buf, size_t len);

/* Prints a formatted line to f, unless f is NULL. */
void config_report(FILE *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Returns the table's own spelling of the directive named by the first len
 * bytes of name (a static string), or NULL if there is no such directive.
 */
const char *config_directive_match(const char *name, size_t len);

#endif
