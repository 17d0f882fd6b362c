/*
 * config-file.c: reading a configuration file into struct config.
 *
 * A file holds one "name value" directive a line.  Blank lines and text
 * from '#' on are ignored; a value that holds spaces or '#' is written in
 * double quotes, where \" and \\ are the only escapes.  Each directive is
 * handed to config_set, so the file knows nothing of the table.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config-int.h"
#include "log.h"

/* Longest line of a configuration file, without its line ending. */
#define CONFIG_LINE_MAX 4096

enum {
	CONFIG_LINE_EOF,
	CONFIG_LINE_OK,
	CONFIG_LINE_LONG,	/* longer than CONFIG_LINE_MAX; rest skipped */
	CONFIG_LINE_NUL		/* holds a NUL byte */
};

/*
 * Reads one line of f into buf (size bytes) without its "\n" or "\r\n".
 * Never stores more than size - 1 bytes: the rest of a longer line is read
 * and thrown away.  Returns one of the CONFIG_LINE_ values.
 */
static int
config_read_line(FILE *f, char *buf, size_t size)
{
	size_t	len = 0;
	bool	nul = false, any = false, cut = false;
	int	c;

	while ((c = getc(f)) != EOF) {
		any = true;
		if (c == '\n')
			break;
		if (c == '\0')
			nul = true;
		if (len < size - 1)
			buf[len++] = (char)c;
		else
			cut = true;
	}
	if (!any)
		return CONFIG_LINE_EOF;
	if (len > 0 && buf[len - 1] == '\r' && !cut)
		len--;
	buf[len] = '\0';
	if (cut || len > CONFIG_LINE_MAX)
		return CONFIG_LINE_LONG;
	return nul ? CONFIG_LINE_NUL : CONFIG_LINE_OK;
}

static bool
config_is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/*
 * Splits line in place into a directive name and its value, unquoting a
 * quoted value.  Returns 1 with *name and *value set, 0 for a blank or
 * comment line, or -1 with a reason in err.  *value is NULL when the line
 * holds a name only.
 */
static int
config_split_line(char *line, char **name, char **value, char *err,
    size_t errlen)
{
	char	*p = line, *out;

	*name = *value = NULL;
	while (config_is_blank(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 0;

	*name = p;
	while (*p != '\0' && !config_is_blank(*p) && *p != '#')
		p++;
	if (*p == '#' || *p == '\0') {
		*p = '\0';
		return 1;
	}
	*p++ = '\0';
	while (config_is_blank(*p))
		p++;
	if (*p == '\0' || *p == '#')
		return 1;

	if (*p != '"') {
		*value = p;
		while (*p != '\0' && !config_is_blank(*p) && *p != '#')
			p++;
		if (config_is_blank(*p)) {
			*p++ = '\0';
			while (config_is_blank(*p))
				p++;
		}
		if (*p != '\0' && *p != '#') {
			errbuf(err, errlen, "%s: unexpected text after "
			    "the value (quote a value that holds spaces)",
			    *name);
			return -1;
		}
		*p = '\0';
		return 1;
	}

	/* A quoted value: \" and \\ are the only escapes. */
	*value = out = ++p;
	for (;;) {
		if (*p == '\0') {
			errbuf(err, errlen, "%s: missing closing quote",
			    *name);
			return -1;
		}
		if (*p == '"')
			break;
		if (*p == '\\') {
			if (p[1] != '"' && p[1] != '\\') {
				errbuf(err, errlen, "%s: unknown escape "
				    "in quoted value (only \\\" and \\\\ are "
				    "allowed)", *name);
				return -1;
			}
			p++;
		}
		*out++ = *p++;
	}
	*out = '\0';
	p++;
	while (config_is_blank(*p))
		p++;
	if (*p != '\0' && *p != '#') {
		errbuf(err, errlen, "%s: unexpected text after the "
		    "closing quote", *name);
		return -1;
	}
	return 1;
}

int
config_load_file(struct config *cfg, const char *path, FILE *errf)
{
	FILE	*f;
	char	 line[CONFIG_LINE_MAX + 2], why[512];
	char	*p, *name, *value;
	int	 bad = 0, st, saved;
	long	 lineno = 0;

	if ((f = fopen(path, "r")) == NULL) {
		config_report(errf, "%s: cannot open: %s", path,
		    strerror(errno));
		return -1;
	}
	while ((st = config_read_line(f, line, sizeof line)) !=
	    CONFIG_LINE_EOF) {
		lineno++;
		if (st == CONFIG_LINE_LONG) {
			config_report(errf, "%s:%ld: line is longer than %d "
			    "bytes", path, lineno, CONFIG_LINE_MAX);
			bad++;
			continue;
		}
		if (st == CONFIG_LINE_NUL) {
			config_report(errf, "%s:%ld: line holds a NUL byte",
			    path, lineno);
			bad++;
			continue;
		}
		p = line;
		if (lineno == 1 && strncmp(p, "\xef\xbb\xbf", 3) == 0)
			p += 3;		/* A UTF-8 byte order mark. */

		st = config_split_line(p, &name, &value, why, sizeof why);
		if (st == 0)
			continue;
		if (st > 0)
			st = config_set(cfg, name, value, why, sizeof why);
		if (st < 0) {
			config_report(errf, "%s:%ld: %s", path, lineno, why);
			bad++;
		}
	}
	if (ferror(f)) {
		saved = errno;
		config_report(errf, "%s: cannot read: %s", path,
		    strerror(saved));
		fclose(f);
		return -1;
	}
	fclose(f);
	return bad;
}
