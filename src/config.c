/*
 * config.c: turning directive values into struct config fields and back:
 * parsing and formatting numbers, sizes and durations, setting, getting,
 * defaults, the consistency check and --help.
 *
 * The directives themselves are the rows of config-table.c.  Reading
 * a configuration file is config-file.c's job, the command line
 * config-args.c's.  All of it runs at start-up, before any thread exists,
 * or on the main thread for a reload (SIGHUP), on a struct config of its
 * own that no other thread reads.
 */
#include <inttypes.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <sys/stat.h>

#include "config.h"
#include "config-int.h"
#include "log.h"


/* Prints a formatted line to f, unless f is NULL. */
void
config_report(FILE *f, const char *fmt, ...)
{
	va_list	ap;

	if (f == NULL)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

/*
 * Reads the decimal digits at the start of s into *out.  Returns a pointer
 * past them, or NULL if there are none or the number exceeds INT64_MAX.
 */
static const char *
config_parse_digits(const char *s, int64_t *out)
{
	int64_t	v = 0;

	if (*s < '0' || *s > '9')
		return NULL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (INT64_MAX - (*s - '0')) / 10)
			return NULL;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return s;
}

/*
 * Parses all of s as a decimal integer, optionally negative.  Returns 0, -1
 * if s is not one, or -2 if it is too large to represent.
 */
static int
config_parse_int(const char *s, int64_t *out)
{
	const char	*end;
	bool		 neg = false;

	if (*s == '-') {
		neg = true;
		s++;
	}
	if ((end = config_parse_digits(s, out)) == NULL)
		return *s >= '0' && *s <= '9' ? -2 : -1;
	if (*end != '\0')
		return -1;
	if (neg)
		*out = -*out;
	return 0;
}

/*
 * Parses all of s as a size in bytes: a number with an optional k, m or g
 * (KiB, MiB, GiB).  Returns 0, -1 if s is not a size, or -2 if it is too
 * large to represent.
 */
static int
config_parse_size(const char *s, int64_t *out)
{
	const char	*end;
	int64_t		 v, mult;

	if ((end = config_parse_digits(s, &v)) == NULL)
		return *s >= '0' && *s <= '9' ? -2 : -1;
	switch (*end) {
	case '\0':
		mult = 1;
		break;
	case 'k': case 'K':
		mult = KIB;
		break;
	case 'm': case 'M':
		mult = MIB;
		break;
	case 'g': case 'G':
		mult = GIB;
		break;
	default:
		return -1;
	}
	if (*end != '\0' && end[1] != '\0')
		return -1;
	if (v > INT64_MAX / mult)
		return -2;
	*out = v * mult;
	return 0;
}

/*
 * Parses all of s as a duration in milliseconds: a number with an optional
 * unit ms, s, m, h or d (a bare number is seconds).  Returns 0, -1 if s is
 * not a duration, or -2 if it is too long to represent.
 */
static int
config_parse_duration(const char *s, int64_t *out)
{
	static const struct {
		const char	*unit;
		int64_t		 ms;
	} units[] = {
		{ "", SEC }, { "ms", MSEC }, { "s", SEC }, { "m", MIN },
		{ "h", HOUR }, { "d", DAY }
	};
	const char	*end;
	int64_t		 v;
	size_t		 i;

	if ((end = config_parse_digits(s, &v)) == NULL)
		return *s >= '0' && *s <= '9' ? -2 : -1;
	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcmp(end, units[i].unit) != 0)
			continue;
		if (v > INT64_MAX / units[i].ms)
			return -2;
		*out = v * units[i].ms;
		return 0;
	}
	return -1;
}

/* Parses s as a boolean.  Returns 1, 0, or -1 if s is not one. */
static int
config_parse_bool(const char *s)
{
	static const char *const yes[] = { "yes", "on", "true", "1" };
	static const char *const no[] = { "no", "off", "false", "0" };
	size_t	i;

	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
		if (strcasecmp(s, no[i]) == 0)
			return 0;
	}
	return -1;
}

/* Writes a byte count in the largest unit that keeps it whole ("256k"). */
static void
config_format_size(int64_t v, char *buf, size_t len)
{
	if (v != 0 && v % GIB == 0)
		snprintf(buf, len, "%" PRId64 "g", v / GIB);
	else if (v != 0 && v % MIB == 0)
		snprintf(buf, len, "%" PRId64 "m", v / MIB);
	else if (v != 0 && v % KIB == 0)
		snprintf(buf, len, "%" PRId64 "k", v / KIB);
	else
		snprintf(buf, len, "%" PRId64, v);
}

/* Writes milliseconds in the largest unit that keeps them whole ("5s"). */
static void
config_format_duration(int64_t v, char *buf, size_t len)
{
	if (v != 0 && v % DAY == 0)
		snprintf(buf, len, "%" PRId64 "d", v / DAY);
	else if (v != 0 && v % HOUR == 0)
		snprintf(buf, len, "%" PRId64 "h", v / HOUR);
	else if (v != 0 && v % MIN == 0)
		snprintf(buf, len, "%" PRId64 "m", v / MIN);
	else if (v != 0 && v % SEC == 0)
		snprintf(buf, len, "%" PRId64 "s", v / SEC);
	else
		snprintf(buf, len, "%" PRId64 "ms", v);
}

void
config_format_bound(const struct config_directive *d, int64_t v, char *buf,
    size_t len)
{
	if (d->type == CONFIG_SIZE)
		config_format_size(v, buf, len);
	else if (d->type == CONFIG_DURATION)
		config_format_duration(v, buf, len);
	else
		snprintf(buf, len, "%" PRId64, v);
}

/*
 * Checks v against the bounds of d.  Returns 0, or -1 with a reason that
 * quotes the value as the user wrote it.
 */
static int
config_check_range(const struct config_directive *d, int64_t v,
    const char *text, char *err, size_t errlen)
{
	char	lo[32], hi[32];

	if (v >= d->min && v <= d->max)
		return 0;
	config_format_bound(d, d->min, lo, sizeof lo);
	config_format_bound(d, d->max, hi, sizeof hi);
	errbuf(err, errlen, "%s: %.40s is out of range (%s..%s)",
	    d->name, text, lo, hi);
	return -1;
}

/* Stores string value in d's field of cfg.  Returns 0, or -1 with a reason. */
static int
config_set_string(struct config *cfg, const struct config_directive *d,
    const char *value, char *err, size_t errlen)
{
	char	*field = (char *)cfg + d->offset;
	char	 why[128];
	size_t	 len = strlen(value);

	/* The value itself is never quoted: it may be the secret. */
	if (len > (size_t)d->max || len >= d->size) {
		errbuf(err, errlen, "%s: value is too long (%zu bytes, "
		    "at most %" PRId64 ")", d->name, len, d->max);
		return -1;
	}
	if (len < (size_t)d->min) {
		errbuf(err, errlen, "%s: value must not be empty",
		    d->name);
		return -1;
	}
	if (d->valid != NULL && d->valid(value, why, sizeof why) != 0) {
		errbuf(err, errlen, "%s: %s", d->name, why);
		return -1;
	}
	memset(field, 0, d->size);
	memcpy(field, value, len);
	return 0;
}

/*
 * Parses value as d's number type (int, size or duration) and checks its
 * bounds.  Returns 0 with *v set, or -1 with the reason in err.
 */
static int
config_set_number(const struct config_directive *d, const char *value,
    int64_t *v, char *err, size_t errlen)
{
	const char *what;
	int r;

	switch (d->type) {
	case CONFIG_SIZE:
		r = config_parse_size(value, v);
		what = "a size (use bytes, or a number followed by k, m or g)";
		break;
	case CONFIG_DURATION:
		r = config_parse_duration(value, v);
		what = "a duration (use a number followed by ms, s, m, h or d; "
		    "a bare number is seconds)";
		break;
	default:
		r = config_parse_int(value, v);
		what = "a whole number";
		break;
	}
	if (r == -1) {
		errbuf(err, errlen, "%s: \"%.40s\" is not %s", d->name,
		    value, what);
		return -1;
	}
	if (r == -2)
		*v = INT64_MAX;	/* too big: the range check says so */
	return config_check_range(d, *v, value, err, errlen);
}

int
config_set(struct config *cfg, const char *name, const char *value,
    char *err, size_t errlen)
{
	const struct config_directive	*d;
	void				*field;
	int64_t				 v;
	int				 r;

	if (name == NULL || (d = config_directive_find(name, strlen(name))) == NULL) {
		errbuf(err, errlen, "unknown directive \"%.64s\"",
		    name != NULL ? name : "");
		return -1;
	}
	if (value == NULL) {
		errbuf(err, errlen, "%s: missing value", d->name);
		return -1;
	}
	field = (char *)cfg + d->offset;

	switch (d->type) {
	case CONFIG_INT:
	case CONFIG_SIZE:
	case CONFIG_DURATION:
		if (config_set_number(d, value, &v, err, errlen) != 0)
			return -1;
		if (d->type == CONFIG_INT)
			*(int *)field = (int)v;
		else if (d->type == CONFIG_SIZE)
			*(size_t *)field = (size_t)v;
		else
			*(int64_t *)field = v;
		return 0;
	case CONFIG_BOOL:
		if ((r = config_parse_bool(value)) < 0) {
			errbuf(err, errlen, "%s: \"%.40s\" is not yes or "
			    "no (use yes, no, on, off, true, false, 1 or 0)",
			    d->name, value);
			return -1;
		}
		*(int *)field = r;
		return 0;
	case CONFIG_STRING:
		return config_set_string(cfg, d, value, err, errlen);
	case CONFIG_LOGLEVEL:
		if ((r = log_level_parse(value)) < 0) {
			errbuf(err, errlen, "%s: \"%.40s\" is not a log "
			    "level (use err, warn, notice, info or debug)",
			    d->name, value);
			return -1;
		}
		*(int *)field = r;
		return 0;
	}
	errbuf(err, errlen, "%s: directive has no type", d->name);
	return -1;
}

int
config_get(const struct config *cfg, const char *name, char *buf,
    size_t len)
{
	const struct config_directive	*d;
	const void			*field;
	char				 text[CONFIG_STR_MAX + 32];
	size_t				 n;

	if (name == NULL || (d = config_directive_find(name, strlen(name))) == NULL ||
	    buf == NULL || len == 0)
		return -1;
	field = (const char *)cfg + d->offset;

	switch (d->type) {
	case CONFIG_INT:
		snprintf(text, sizeof text, "%d", *(const int *)field);
		break;
	case CONFIG_BOOL:
		snprintf(text, sizeof text, "%s",
		    *(const int *)field ? "yes" : "no");
		break;
	case CONFIG_STRING:
		snprintf(text, sizeof text, "%.*s", (int)d->size,
		    (const char *)field);
		break;
	case CONFIG_SIZE:
		config_format_size((int64_t)*(const size_t *)field, text,
		    sizeof text);
		break;
	case CONFIG_DURATION:
		config_format_duration(*(const int64_t *)field, text,
		    sizeof text);
		break;
	case CONFIG_LOGLEVEL:
		snprintf(text, sizeof text, "%s",
		    log_level_name(*(const int *)field));
		break;
	default:
		return -1;
	}
	if ((n = strlen(text)) >= len) {
		buf[0] = '\0';
		return -1;
	}
	memcpy(buf, text, n + 1);
	return 0;
}

void
config_defaults(struct config *cfg)
{
	char	err[256];
	size_t	i;

	memset(cfg, 0, sizeof *cfg);
	for (i = 0; i < config_ndirectives; i++) {
		if (config_set(cfg, config_table[i].name, config_table[i].def,
		    err, sizeof err) != 0)
			fatal("config: bad default: %s", err);
	}
}

int
config_check(const struct config *cfg, char *err, size_t errlen)
{
	if (cfg->message_max < cfg->frame_max) {
		errbuf(err, errlen, "message_max (%d) must be at least "
		    "frame_max (%d)", cfg->message_max, cfg->frame_max);
		return -1;
	}
	if ((cfg->tls_cert[0] == '\0') != (cfg->tls_key[0] == '\0')) {
		errbuf(err, errlen, "tls_cert and tls_key must be set "
		    "together");
		return -1;
	}
	if (cfg->redis[0] != '\0' && cfg->redis_sentinel[0] != '\0') {
		errbuf(err, errlen, "redis and redis_sentinel are "
		    "mutually exclusive: set redis for one Redis, or "
		    "redis_sentinel (and redis_master) to find the master "
		    "through Sentinel");
		return -1;
	}
	if (cfg->redis_auth[0] != '\0' && cfg->redis_sentinel[0] == '\0') {
		errbuf(err, errlen, "redis_auth applies only with "
		    "redis_sentinel (with redis, put the password and database "
		    "in its URL)");
		return -1;
	}
	return 0;
}

/* Returns true if directive d has the same value in a and b. */
static bool
config_same(const struct config_directive *d, const struct config *a,
    const struct config *b)
{
	const char	*fa = (const char *)a + d->offset;
	const char	*fb = (const char *)b + d->offset;

	if (d->type == CONFIG_STRING)
		return strncmp(fa, fb, d->size) == 0;
	return memcmp(fa, fb, d->size) == 0;
}

int
config_merge_live(struct config *cur, const struct config *next,
    void (*note)(const char *name, bool live, void *arg), void *arg)
{
	const struct config_directive	*d;
	size_t				 i;
	int				 n = 0;
	bool				 live;

	for (i = 0; i < config_ndirectives; i++) {
		d = &config_table[i];
		if (config_same(d, cur, next))
			continue;
		live = (d->flags & CONFIG_LIVE) != 0;
		if (note != NULL)
			note(d->name, live, arg);
		if (!live)
			continue;
		memcpy((char *)cur + d->offset, (const char *)next + d->offset,
		    d->size);
		n++;
	}
	return n;
}

bool
config_is_live(const char *name)
{
	const struct config_directive	*d;

	d = config_directive_find(name, strlen(name));
	return d != NULL && (d->flags & CONFIG_LIVE) != 0;
}

bool
config_is_secret(const char *name)
{
	const struct config_directive	*d;

	d = config_directive_find(name, strlen(name));
	return d != NULL && (d->flags & CONFIG_SECRET) != 0;
}

int
config_web_root(const struct config *cfg, char *out, size_t len)
{
	const char	*root = cfg->web_root;
	int		 n;

	if (root[0] == '\0')
		root = access("web/index.html", F_OK) == 0 ? "web" :
		    DATADIR "/web";
	n = snprintf(out, len, "%s", root);
	return n >= 0 && (size_t)n < len ? 0 : -1;
}

/*
 * Checks that path, the value of directive name, is a readable regular
 * file.  Returns 0, or -1 with the reason reported to f.
 */
static int
config_check_readable(FILE *f, const char *name, const char *path)
{
	struct stat	st;

	if (stat(path, &st) != 0 || access(path, R_OK) != 0) {
		config_report(f, "%s %s: %s", name, path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		config_report(f, "%s %s: not a regular file", name, path);
		return -1;
	}
	return 0;
}

int
config_check_files(const struct config *cfg, bool web_strict, FILE *errf)
{
	struct stat	st;
	char		root[CONFIG_PATH_MAX];
	const char	*why = NULL;
	size_t		len;
	int		bad = 0;

	if (cfg->tls_cert[0] != '\0' &&
	    config_check_readable(errf, "tls_cert", cfg->tls_cert) != 0)
		bad++;
	if (cfg->tls_key[0] != '\0' &&
	    config_check_readable(errf, "tls_key", cfg->tls_key) != 0)
		bad++;
	if (cfg->filter_file[0] != '\0' &&
	    config_check_readable(errf, "filter_file", cfg->filter_file) != 0)
		bad++;
	if (config_web_root(cfg, root, sizeof root) != 0)
		why = "the path is too long";
	else if (stat(root, &st) != 0)
		why = strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		why = "not a directory";
	else if (access(root, R_OK | X_OK) != 0)
		why = strerror(errno);
	if (why != NULL) {
		config_report(errf, "%sweb_root %s%s: %s%s", web_strict ? "" :
		    "warning: ", root, cfg->web_root[0] == '\0' ?
		    " (unset: the installed web root)" : "", why, web_strict ?
		    "" : " (HTTP serves no files)");
		if (web_strict)
			bad++;
	}
	len = strlen(cfg->secret);
	if (len > 0 && len < CONFIG_SECRET_MIN)
		config_report(errf, "warning: secret is %zu bytes long; use %d "
		    "or more random bytes", len, CONFIG_SECRET_MIN);
	return bad;
}

/* Writes text wrapped to 78 columns, each line indented by indent spaces. */
static void
config_print_wrapped(FILE *f, const char *text, int indent)
{
	const char	*p = text, *end;
	int		 col = 0, wlen;

	while (*p != '\0') {
		while (*p == ' ')
			p++;
		if (*p == '\0')
			break;
		for (end = p; *end != '\0' && *end != ' '; end++)
			;
		wlen = (int)(end - p);
		if (col != 0 && col + 1 + wlen > 78) {
			fputc('\n', f);
			col = 0;
		}
		if (col == 0)
			col = fprintf(f, "%*s", indent, "");
		else
			col += fprintf(f, " ");
		col += fprintf(f, "%.*s", wlen, p);
		p = end;
	}
	if (col != 0)
		fputc('\n', f);
}

void
config_print_help(FILE *f)
{
	static const char *const metavar[] = {
		[CONFIG_INT] = "N",
		[CONFIG_BOOL] = "yes|no",
		[CONFIG_STRING] = "TEXT",
		[CONFIG_SIZE] = "SIZE",
		[CONFIG_DURATION] = "TIME",
		[CONFIG_LOGLEVEL] = "LEVEL"
	};
	const struct config_directive	*d;
	char				 lo[32], hi[32];
	size_t				 i;

	fprintf(f, "Directives (\"name value\" in the configuration file, "
	    "\"--name value\" here):\n");
	for (i = 0; i < config_ndirectives; i++) {
		d = &config_table[i];
		fprintf(f, "  --%s %s (default %s%s%s", d->name,
		    metavar[d->type], *d->def == '\0' ? "\"" : "", d->def,
		    *d->def == '\0' ? "\"" : "");
		if (d->type == CONFIG_INT || d->type == CONFIG_SIZE ||
		    d->type == CONFIG_DURATION) {
			config_format_bound(d, d->min, lo, sizeof lo);
			config_format_bound(d, d->max, hi, sizeof hi);
			fprintf(f, ", %s..%s", lo, hi);
		}
		fprintf(f, ")\n");
		config_print_wrapped(f, d->help, 8);
	}
	config_print_wrapped(f, "Sizes take k, m or g (KiB, MiB, GiB); "
	    "times take ms, s, m, h or d (a bare number is seconds).", 0);
}
