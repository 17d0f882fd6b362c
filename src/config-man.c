/*
 * config-man.c: the directive table as roff, for the DIRECTIVES section of
 * chatrelay.conf(5).
 *
 * The page is generated from the table at build time (docs/gen-man.c), so
 * a directive added to config-table.c is in the manual without anyone
 * writing it there.  Each row becomes one tagged paragraph: the name and
 * the kind of value, the help, then the default and the bounds.  The help
 * is plain text; everything roff would read as markup in it is escaped.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "config-int.h"

/* Returns what a directive's value is called on the page ("N", "TIME"). */
static const char *
config_man_metavar(enum config_type t)
{
	switch (t) {
	case CONFIG_INT:
		return "N";
	case CONFIG_BOOL:
		return "yes|no";
	case CONFIG_STRING:
		return "TEXT";
	case CONFIG_SIZE:
		return "SIZE";
	case CONFIG_DURATION:
		return "TIME";
	case CONFIG_LOGLEVEL:
		return "LEVEL";
	default:
		return "VALUE";
	}
}

/*
 * Decodes the UTF-8 sequence at s (n bytes available).  Returns its length
 * with the code point in *cp, or 0 if it is not valid UTF-8.
 */
static size_t
config_man_utf8(const unsigned char *s, size_t n, uint32_t *cp)
{
	size_t		len, i;
	uint32_t	c;

	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
	if (n < len)
		return 0;
	c = s[0] & (0x7f >> len);
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

/*
 * Writes text as roff body text: a backslash as \e, a hyphen as \- (so that
 * names and values copied from the page type as they read), a '/' followed
 * by \: (a URL or path may break there: the page is not hyphenated), a
 * control character at the start of a line guarded by \&, and anything
 * beyond ASCII as groff's code point escape, e.g. \[u00E9] for e-acute
 * (groff reads its input as Latin-1 unless told otherwise).  Bytes that are not valid UTF-8 become '?'.
 */
static void
config_man_text(FILE *f, const char *text)
{
	const unsigned char	*p = (const unsigned char *)text;
	size_t			 n = strlen(text), len;
	uint32_t		 cp;
	int			 bol = 1;

	while (n > 0) {
		if (bol && (*p == '.' || *p == '\''))
			fputs("\\&", f);
		bol = 0;
		if (*p == '\\')
			fputs("\\e", f);
		else if (*p == '-')
			fputs("\\-", f);
		else if (*p == '/')
			fputs("/\\:", f);
		else if (*p == '\n') {
			fputc('\n', f);
			bol = 1;
		} else if (*p < 0x80)
			fputc(*p < ' ' || *p == 0x7f ? ' ' : *p, f);
		else if ((len = config_man_utf8(p, n, &cp)) != 0) {
			fprintf(f, "\\[u%04" PRIX32 "]", cp);
			p += len;
			n -= len;
			continue;
		} else
			fputc('?', f);
		p++;
		n--;
	}
}

/* Writes the line that says d's default and bounds. */
static void
config_man_limits(FILE *f, const struct config_directive *d)
{
	char	lo[32], hi[32];

	fputs("Default: ", f);
	if (*d->def == '\0')
		fputs("empty", f);
	else {
		fputs("\\fB", f);
		config_man_text(f, d->def);
		fputs("\\fR", f);
	}
	switch (d->type) {
	case CONFIG_INT:
	case CONFIG_SIZE:
	case CONFIG_DURATION:
		config_format_bound(d, d->min, lo, sizeof lo);
		config_format_bound(d, d->max, hi, sizeof hi);
		fputs("; range ", f);
		config_man_text(f, lo);
		fputs(" to ", f);
		config_man_text(f, hi);
		break;
	case CONFIG_STRING:
		if (d->min > 0)
			fprintf(f, "; %" PRId64 " to %" PRId64 " bytes",
			    d->min, d->max);
		else
			fprintf(f, "; at most %" PRId64 " bytes", d->max);
		break;
	default:
		break;
	}
	fputs(".\n", f);
}

void
config_print_man(FILE *f)
{
	const struct config_directive	*d;
	size_t				 i;

	for (i = 0; i < config_ndirectives; i++) {
		d = &config_table[i];
		fputs(".TP\n\\fB", f);
		config_man_text(f, d->name);
		fprintf(f, "\\fR \\fI%s\\fR\n", config_man_metavar(d->type));
		config_man_text(f, d->help);
		fputs("\n.br\n", f);
		config_man_limits(f, d);
	}
}
