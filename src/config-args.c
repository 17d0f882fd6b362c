/*
 * config-args.c: the command line: -c FILE, --help, --version,
 * --test-config, and "--name value" or "--name=value" for every directive;
 * and the same for a subcommand (chatrelay token), with its own options;
 * and reading it all again for a reload (config_reload).
 *
 * Directives given on the command line override the configuration file,
 * so they are collected first and applied after the file is loaded.  A
 * subcommand reads the configuration by the very same code as the daemon,
 * so that it sees what the daemon would (the same secret, above all), and
 * so does a reload, so that it sees what a restart would.
 */
#include <limits.h>
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
	    "       chatrelay token [-c FILE] [--NAME VALUE ...] --sub ID "
	    "[--name NAME]\n"
	    "                       [--role ROLE] [--ttl SECS] "
	    "[--chs PATTERN,...]\n"
	    "\n"
	    "  -c, --config FILE   read FILE (default %s, if it exists)\n"
	    "  --test-config       check the configuration and exit\n"
	    "  --version           print the version and exit\n"
	    "  --help              print this help and exit\n"
	    "  token               print a token signed with the configured "
	    "secret\n"
	    "                      (chatrelay token --help for its options)\n"
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
 * Loads the file (path; NULL: the default file, if it exists; "": none),
 * applies the overrides and runs config_check, reporting every problem to
 * errf.  With src, records the file read and the command line (argc,
 * argv) there.  Returns the number of problems found, or -1 if the file
 * could not be read.
 */
static int
config_load_all(struct config *cfg, const char *path,
    const struct config_override *ov, int nov, FILE *errf,
    struct config_source *src, int argc, char **argv)
{
	char	why[512], real[PATH_MAX];
	int	bad = 0, i;

	if (path == NULL && access(CONFIG_DEFAULT_PATH, F_OK) == 0)
		path = CONFIG_DEFAULT_PATH;
	if (src != NULL) {
		src->argc = argc;
		src->argv = argv;
		snprintf(src->path, sizeof src->path, "%s", path == NULL ? "" :
		    realpath(path, real) != NULL ? real : path);
	}
	if (path != NULL && path[0] != '\0' &&
	    (bad = config_load_file(cfg, path, errf)) < 0)
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

/* What a command line asks for, gathered by config_scan_args. */
struct config_cmdline {
	const char		*path;		/* -c FILE, or NULL */
	bool			 help, version, test;
	struct config_override	*ov;		/* argc rows */
	int			 nov;
	int			 errors;	/* already reported */
};

/*
 * Returns the row of opts (nopts of them) named by the first len bytes of
 * name, or NULL.
 */
static struct config_option *
config_option_find(struct config_option *opts, size_t nopts,
    const char *name, size_t len)
{
	size_t	i;

	for (i = 0; i < nopts; i++) {
		if (strlen(opts[i].name) == len &&
		    strncmp(opts[i].name, name, len) == 0)
			return &opts[i];
	}
	return NULL;
}

/*
 * Reads argv[1..argc-1] into cl (whose ov has room for argc rows): -c FILE,
 * --help, the directives, and either the daemon's own flags (--version,
 * --test-config; daemon true) or a subcommand's options (opts, nopts rows,
 * whose values are filled in).  Reports each problem to errf as "prog: ...",
 * counting them in cl->errors.
 */
static void
config_scan_args(int argc, char **argv, const char *prog, bool daemon,
    struct config_option *opts, size_t nopts, struct config_cmdline *cl,
    FILE *errf)
{
	struct config_option	*opt;
	const char		*a, *name, *eq, *known, *value;
	size_t			 len;
	int			 i;

	for (i = 1; i < argc; i++) {
		a = argv[i];
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
		    strncmp(a, "--config=", 9) == 0) {
			if (cl->path != NULL) {
				config_report(errf, "%s: -c given more than "
				    "once", prog);
				cl->errors++;
			}
			if (strncmp(a, "--config=", 9) == 0)
				cl->path = a + 9;
			else if (i + 1 < argc)
				cl->path = argv[++i];
			else {
				config_report(errf, "%s: %s needs a file name",
				    prog, a);
				cl->errors++;
			}
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			cl->help = true;
			continue;
		}
		if (daemon && strcmp(a, "--version") == 0) {
			cl->version = true;
			continue;
		}
		if (daemon && strcmp(a, "--test-config") == 0) {
			cl->test = true;
			continue;
		}
		if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
			config_report(errf, "%s: unexpected argument \"%.80s\"%s",
			    prog, a, daemon && strcmp(a, "token") == 0 ?
			    " (a subcommand comes first: chatrelay token ...)" :
			    "");
			cl->errors++;
			continue;
		}

		name = a + 2;
		eq = strchr(name, '=');
		len = eq != NULL ? (size_t)(eq - name) : strlen(name);
		opt = config_option_find(opts, nopts, name, len);
		known = opt == NULL ? config_directive_match(name, len) : NULL;
		if (opt == NULL && known == NULL) {
			config_report(errf, "%s: unknown option %.*s", prog,
			    eq != NULL ? (int)(eq - a) : 80, a);
			cl->errors++;
			continue;
		}
		if (eq != NULL)
			value = eq + 1;
		else if (i + 1 < argc)
			value = argv[++i];
		else {
			config_report(errf, "%s: %s needs a value", prog, a);
			cl->errors++;
			continue;
		}
		if (known != NULL) {
			cl->ov[cl->nov].name = known;
			cl->ov[cl->nov++].value = value;
		} else if (opt->value != NULL) {
			config_report(errf, "%s: --%s given more than once",
			    prog, opt->name);
			cl->errors++;
		} else
			opt->value = value;
	}
}

int
config_parse_args(struct config *cfg, struct config_source *src, int argc,
    char **argv, FILE *outf, FILE *errf)
{
	struct config_cmdline	cl = { 0 };
	int			bad;

	config_defaults(cfg);
	if ((cl.ov = calloc(argc > 0 ? (size_t)argc : 1, sizeof *cl.ov)) ==
	    NULL) {
		config_report(errf, "chatrelay: out of memory");
		return CONFIG_EXIT_ERR;
	}
	config_scan_args(argc, argv, "chatrelay", true, NULL, 0, &cl, errf);

	if (cl.errors != 0) {
		config_report(errf, "Try 'chatrelay --help'.");
		free(cl.ov);
		return CONFIG_EXIT_ERR;
	}
	if (cl.help) {
		config_print_usage(outf);
		free(cl.ov);
		return CONFIG_EXIT_OK;
	}
	if (cl.version) {
		fprintf(outf, "chatrelay %s (protocol %d)\n",
		    CHATRELAY_VERSION, CHATRELAY_PROTOCOL);
		free(cl.ov);
		return CONFIG_EXIT_OK;
	}

	bad = config_load_all(cfg, cl.path, cl.ov, cl.nov, errf, src, argc,
	    argv);
	free(cl.ov);
	if (bad < 0)
		return CONFIG_EXIT_ERR;
	if (cl.test) {
		if (bad == 0)
			bad = config_check_files(cfg, true, errf);
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

int
config_parse_command(struct config *cfg, const char *prog, int argc,
    char **argv, struct config_option *opts, size_t nopts, FILE *errf)
{
	struct config_cmdline	cl = { 0 };
	size_t			i;
	int			bad;

	config_defaults(cfg);
	for (i = 0; i < nopts; i++) {
		opts[i].value = NULL;
		/* An option must not hide a directive of the same name. */
		if (config_directive_match(opts[i].name,
		    strlen(opts[i].name)) != NULL) {
			config_report(errf, "%s: option --%s is also a "
			    "directive", prog, opts[i].name);
			return CONFIG_EXIT_ERR;
		}
	}
	if ((cl.ov = calloc(argc > 0 ? (size_t)argc : 1, sizeof *cl.ov)) ==
	    NULL) {
		config_report(errf, "%s: out of memory", prog);
		return CONFIG_EXIT_ERR;
	}
	config_scan_args(argc, argv, prog, false, opts, nopts, &cl, errf);

	if (cl.errors != 0) {
		config_report(errf, "Try '%s --help'.", prog);
		free(cl.ov);
		return CONFIG_EXIT_ERR;
	}
	if (cl.help) {
		free(cl.ov);
		return CONFIG_EXIT_OK;
	}
	bad = config_load_all(cfg, cl.path, cl.ov, cl.nov, errf, NULL, 0,
	    NULL);
	free(cl.ov);
	return bad == 0 ? CONFIG_RUN : CONFIG_EXIT_ERR;
}

int
config_reload(struct config *cfg, const struct config_source *src,
    FILE *errf)
{
	struct config_cmdline	cl = { 0 };
	int			bad;

	config_defaults(cfg);
	if ((cl.ov = calloc(src->argc > 0 ? (size_t)src->argc : 1,
	    sizeof *cl.ov)) == NULL) {
		config_report(errf, "out of memory");
		return 1;
	}
	/* The command line was good at start; it is the same one. */
	config_scan_args(src->argc, src->argv, "chatrelay", true, NULL, 0, &cl,
	    errf);
	/* No file at start (""): none now, not even a new default one. */
	bad = config_load_all(cfg, src->path, cl.ov, cl.nov, errf, NULL, 0,
	    NULL);
	free(cl.ov);
	return bad != 0 ? bad : cl.errors;
}
