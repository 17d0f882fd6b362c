/*
 * gen-man.c: makes a man page from its template (docs/NAME.in), at build
 * time: copies the template to standard output with @VERSION@,
 * @SYSCONFDIR@ and @PKGDATADIR@ replaced by what this build was configured
 * with, and a line that is just @DIRECTIVES@ replaced by the directive
 * table (config_print_man), so chatrelay.conf(5) cannot drift from it.
 *
 *   gen-man TEMPLATE > PAGE
 *
 * Exits 0, or 1 (with the reason on standard error) if the template cannot
 * be read or the page cannot be written.  Not installed.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "version.h"

#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif
#ifndef DATADIR
#define DATADIR "/usr/share/chatrelay"
#endif

static const struct {
	const char	*name;		/* between the @s */
	const char	*value;
} gen_man_vars[] = {
	{ "VERSION", CHATRELAY_VERSION },
	{ "SYSCONFDIR", SYSCONFDIR },
	{ "PKGDATADIR", DATADIR },
};

/*
 * Writes s with roff's special characters (backslash, hyphen) escaped, and
 * a place to break the line after each '/': a long path (make distcheck's
 * prefix) would not fit on a line otherwise, the pages being unhyphenated.
 */
static void
gen_man_escape(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			fputs("\\e", f);
		else if (*s == '-')
			fputs("\\-", f);
		else if (*s == '/')
			fputs("/\\:", f);
		else
			fputc(*s, f);
	}
}

/*
 * Writes one template line with its @NAME@s replaced; an @ that starts no
 * known name is written as it is.
 */
static void
gen_man_line(FILE *f, const char *line)
{
	const char	*p = line;
	size_t		 i, len;

	while (*p != '\0') {
		if (*p != '@') {
			fputc(*p++, f);
			continue;
		}
		for (i = 0; i < sizeof gen_man_vars / sizeof gen_man_vars[0];
		    i++) {
			len = strlen(gen_man_vars[i].name);
			if (strncmp(p + 1, gen_man_vars[i].name, len) == 0 &&
			    p[1 + len] == '@')
				break;
		}
		if (i == sizeof gen_man_vars / sizeof gen_man_vars[0]) {
			fputc(*p++, f);
			continue;
		}
		gen_man_escape(f, gen_man_vars[i].value);
		p += 1 + len + 1;
	}
}

int
main(int argc, char **argv)
{
	char	 line[4096];
	FILE	*in;

	if (argc != 2) {
		fprintf(stderr, "usage: gen-man TEMPLATE > PAGE\n");
		return 1;
	}
	if ((in = fopen(argv[1], "r")) == NULL) {
		perror(argv[1]);
		return 1;
	}
	while (fgets(line, sizeof line, in) != NULL) {
		if (strcmp(line, "@DIRECTIVES@\n") == 0)
			config_print_man(stdout);
		else
			gen_man_line(stdout, line);
	}
	if (ferror(in)) {
		perror(argv[1]);
		fclose(in);
		return 1;
	}
	fclose(in);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		perror("gen-man: standard output");
		return 1;
	}
	return 0;
}
