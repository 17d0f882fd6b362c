/*
 * config-args.c: the command line: -c FILE, --help, --version,
 * --test-config, and "--name value" or "--name=value" for every directive.
 *
 * Directives given on the command line override the configuration file,
 * so they are collected first and applied after the file is loaded.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "dev"
#endif
#ifndef SYSCONFDIR
#define SYSCONFDIR "/etc"
#endif

#include "config.h"
#include "config-int.h"
#include "version.h"

#define CONFIG_DEFAULT_PATH SYSCONFDIR "/chatrelay.conf"

/* Writes the usage summary and the directive help to f. */
static void
config_print_usage(FILE *f)
{
	fprintf(f,
	    "usage: chatrelay [-c FILE] [--test-config] [--NAME VALUE ...]\n"
	    "\n"
	    "  -c, --config FILE   read FILE (default %s, if it exists)\n"
	    "  --test-config       check the configuration and exit\n"
	    "  --version           print the version and exit\n"
	    "  --help              print this help and exit\n"
	    "\n"
	    "Every directive may be given as --NAME VALUE or --NAME=VALUE; "
	    "these override\nthe configuration file.\n\n",
	    CONFIG_DEFAULT_PATH);
	config_print_help(f);
}

/* A directive given on the command line, applied after the file. */
struct config_override {
	const char	*name;		/* the table's spelling */
	const char	*value;
};

/*
 * Loads the file, applies the overrides and runs config_check, reporting
 * every problem to errf.  Returns the number of problems found, or -1 if the
 * file could not be read.
 */
static int
config_load_all(struct config *cfg, const char *path,
    const struct config_override *ov, int nov, FILE *errf)
{
	char	why[512];
	int	bad = 0, i;

	if (path == NULL && access(CONFIG_DEFAULT_PATH, F_OK) == 0)
		path = CONFIG_DEFAULT_PATH;
	if (path != NULL && (bad = config_load_file(cfg, path, errf)) < 0)
		return -1;
	for (i = 0; i < nov; i++) {
		if (config_set(cfg, ov[i].name, ov[i].value, why,
		    sizeof why) != 0) {
			config_report(errf, "command line: %s", why);
			bad++;
		}
	}
	if (config_check(cfg, why, sizeof why) != 0) {
		config_report(errf, "configuration: %s", why);
		bad++;
	}
	return bad;
}

int
config_parse_args(struct config *cfg, int argc, char **argv, FILE *outf,
    FILE *errf)
{
	struct config_override	*ov;
	const char		*path = NULL, *a, *name, *eq, *known;
	bool			 help = false, version = false;
	bool			 test = false;
	int			 i, nov = 0, errors = 0, bad;

	config_defaults(cfg);
	if ((ov = calloc(argc > 0 ? (size_t)argc : 1, sizeof *ov)) == NULL) {
		config_report(errf, "chatrelay: out of memory");
		return CONFIG_EXIT_ERR;
	}

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
		    strncmp(a, "--config=", 9) == 0) {
			if (path != NULL) {
				config_report(errf, "chatrelay: -c given more "
				    "than once");
				errors++;
			}
			if (strncmp(a, "--config=", 9) == 0)
				path = a + 9;
			else if (i + 1 < argc)
				path = argv[++i];
			else {
				config_report(errf, "chatrelay: %s needs a "
				    "file name", a);
				errors++;
			}
		} else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
			help = true;
		else if (strcmp(a, "--version") == 0)
			version = true;
		else if (strcmp(a, "--test-config") == 0)
			test = true;
		else if (strncmp(a, "--", 2) == 0 && a[2] != '\0') {
			name = a + 2;
			eq = strchr(name, '=');
			known = config_directive_match(name, eq != NULL ?
			    (size_t)(eq - name) : strlen(name));
			if (known == NULL) {
				config_report(errf, "chatrelay: unknown option "
				    "%.*s", eq != NULL ? (int)(eq - a) : 80, a);
				errors++;
			} else if (eq != NULL) {
				ov[nov].name = known;
				ov[nov++].value = eq + 1;
			} else if (i + 1 < argc) {
				ov[nov].name = known;
				ov[nov++].value = argv[++i];
			} else {
				config_report(errf, "chatrelay: %s needs a "
				    "value", a);
				errors++;
			}
		} else {
			config_report(errf, "chatrelay: unexpected argument "
			    "\"%.80s\"", a);
			errors++;
		}
	}

	if (errors != 0) {
		config_report(errf, "Try 'chatrelay --help'.");
		free(ov);
		return CONFIG_EXIT_ERR;
	}
	if (help) {
		config_print_usage(outf);
		free(ov);
		return CONFIG_EXIT_OK;
	}
	if (version) {
		fprintf(outf, "chatrelay %s (protocol %d)\n",
		    CHATRELAY_VERSION, CHATRELAY_PROTOCOL);
		free(ov);
		return CONFIG_EXIT_OK;
	}

	bad = config_load_all(cfg, path, ov, nov, errf);
	free(ov);
	if (bad < 0)
		return CONFIG_EXIT_ERR;
	if (test) {
		if (bad != 0) {
			config_report(errf, "configuration has %d error%s",
			    bad, bad == 1 ? "" : "s");
			return CONFIG_EXIT_ERR;
		}
		fprintf(outf, "configuration OK\n");
		return CONFIG_EXIT_OK;
	}
	return bad == 0 ? CONFIG_RUN : CONFIG_EXIT_ERR;
}
