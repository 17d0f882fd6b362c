/*
 * config.h: the relay's configuration, one table of directives.
 *
 * Every directive has a name, a type, a default, bounds and a line of help.
 * A configuration file holds "name value" lines ('#' starts a comment);
 * command-line "--name value" pairs override the file.  A struct config
 * is never written while another thread reads it: the relay's own is
 * read-only once the workers start, and a reload (SIGHUP) builds a new one
 * that each worker copies into its own (see relay.h).
 */
#ifndef CHATRELAY_CONFIG_H
#define CHATRELAY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CONFIG_STR_MAX 256
#define CONFIG_PATH_MAX 4096
#define CONFIG_SECRET_MIN 32	/* bytes of secret below which a warning */

struct config {
	/* Network. */
	char bind[CONFIG_STR_MAX];	/* "127.0.0.1" */
	int port;			/* 8080 */
	int reuse_port;			/* share the port on purpose, no */
	int workers;			/* 0 = one per core */
	int64_t drain_timeout_ms;	/* a stop's wait for clients, 3 s */
	char tls_cert[CONFIG_STR_MAX];	/* "" = plain TCP */
	char tls_key[CONFIG_STR_MAX];
	int deflate;			/* permessage-deflate, 0/1, off */
	char allowed_origins[CONFIG_STR_MAX];	/* "" = same origin only */

	/* Identity. */
	char secret[CONFIG_STR_MAX];	/* "" = open mode */
	char node[65];			/* "" = generated at start */

	/* Cluster. */
	char redis[CONFIG_STR_MAX];	/* "" = in-process bus */
	char redis_sentinel[CONFIG_STR_MAX];	/* "host:port,...", "" = unset */
	char redis_master[CONFIG_STR_MAX];	/* "mymaster" */
	char redis_auth[CONFIG_STR_MAX];	/* "password=P&db=N&user=U", "" */
	int redis_replicas_ack;		/* WAIT for this many replicas, 0 */
	int64_t redis_connect_timeout_ms;	/* 2 s */
	int64_t presence_ttl_ms;	/* 15 s */

	/* Files and logging. */
	char web_root[CONFIG_STR_MAX];	/* "" = config_web_root's choice */
	int log_level;			/* enum log_level, "notice" */
	char log_format[8];		/* "plain" or "json" */

	/* Limits. */
	int frame_max;			/* bytes per frame, 4096 */
	int message_max;		/* bytes per reassembled message, 4096 */
	int text_max;			/* characters per text, 500 */
	int json_depth_max;		/* nesting depth of a client frame, 8 */
	int rate;			/* messages per second per connection, 10 */
	int burst;			/* token bucket depth, 20 */
	int rate_strikes_max;		/* rate_limited errors in a row before 4029, 20 */
	int channels_max;		/* channels per connection, 32 */
	int user_connections_max;	/* connections per user, 10 */
	int64_t auth_timeout_ms;	/* 5 s */
	int64_t idle_timeout_ms;	/* 60 s */
	size_t client_queue_max;	/* bytes queued per client, 256 KiB */
	int connections_max;		/* per instance, 0 = unlimited */

	/* Channels. */
	int history_size;		/* messages kept per channel, 100 */
	int64_t history_ttl_ms;		/* 1 h */
	int64_t channel_ttl_ms;		/* 24 h: how long an unused channel keeps its seq */
	int presence_events_max;	/* presence events only up to this many members, 100 */

	/* Moderation. */
	char state_file[CONFIG_STR_MAX];	/* "" = in memory (without Redis) */
	char audit_file[CONFIG_STR_MAX];	/* "" = the log only */
	char filter_file[CONFIG_STR_MAX];	/* "" = no filter */
	char filter_policy[16];		/* "refuse" or "mask" */
};

/*
 * Where a running relay's configuration came from, kept to read it again
 * (SIGHUP): the file read (an absolute path when it could be made one; ""
 * when none was) and the command line (argc, argv: main's, whose
 * directives override the file's).
 */
struct config_source {
	char path[CONFIG_PATH_MAX];
	int argc;
	char **argv;
};

/* Fills cfg with every directive's default. */
void config_defaults(struct config *cfg);

/*
 * Sets one directive from its textual value.  Returns 0 on success, or -1
 * with a human-readable reason in err (errlen bytes) for an unknown name or
 * an invalid or out-of-bounds value.
 */
int config_set(struct config *cfg, const char *name, const char *value,
    char *err, size_t errlen);

/*
 * Writes the current value of directive name in cfg into buf (len bytes) in
 * the form config_set accepts ("256k", "5s", "yes", ...).  Returns 0, or -1
 * for an unknown name.  The result may be a secret: never log it.
 */
int config_get(const struct config *cfg, const char *name, char *buf,
    size_t len);

/*
 * Checks the constraints between directives (message_max >= frame_max,
 * tls_cert and tls_key set together, redis or redis_sentinel but not both,
 * redis_auth only with redis_sentinel).  Returns 0 if cfg is consistent, or -1
 * with a human-readable reason in err (errlen bytes).
 */
int config_check(const struct config *cfg, char *err, size_t errlen);

/*
 * Reads a configuration file into cfg (which should hold defaults).  Every
 * bad line is reported to errf as "FILE:LINE: reason".  Returns the number of
 * bad lines (0 = all good), or -1 if the file cannot be read (also reported).
 */
int config_load_file(struct config *cfg, const char *path, FILE *errf);

/*
 * Parses the command line: -c FILE / --config FILE, --help, --version,
 * --test-config, and "--name value" for every directive.  The file named by
 * -c (or the default path, if it exists) is loaded first and the command-line
 * directives override it, then config_check runs.  Returns:
 *   CONFIG_RUN on success, CONFIG_EXIT_OK when --help/--version/--test-config
 *   (valid) has been handled and the program should exit 0,
 *   CONFIG_EXIT_ERR when something was wrong (already reported to errf).
 */
enum { CONFIG_RUN = 0, CONFIG_EXIT_OK = 1, CONFIG_EXIT_ERR = 2 };
int config_parse_args(struct config *cfg, struct config_source *src, int argc,
    char **argv, FILE *outf, FILE *errf);

/*
 * Reads the configuration again exactly as config_parse_args read it for
 * src (the defaults, src's file, its command line's directives over it,
 * config_check) into cfg.  Returns 0, the number of problems (each
 * reported to errf), or -1 if the file cannot be read (reported).
 */
int config_reload(struct config *cfg, const struct config_source *src,
    FILE *errf);

/*
 * For a reload: for every directive whose value differs between cur (the
 * running configuration) and next (read again), calls note(name, live,
 * arg) (note may be NULL) and then, if the directive may change while the
 * relay runs (live), copies next's value into cur.  Returns the number of
 * directives copied.
 */
int config_merge_live(struct config *cur, const struct config *next,
    void (*note)(const char *name, bool live, void *arg), void *arg);

/* Returns true if directive name may change while the relay runs. */
bool config_is_live(const char *name);

/* Returns true if directive name's value is a secret (or may hold one). */
bool config_is_secret(const char *name);

/*
 * Writes the web root the relay serves into out (len bytes): web_root if
 * set; unset (""), "web" when ./web/index.html exists (the relay runs
 * from a source tree), else the installed DATADIR "/web".  Returns 0, or
 * -1 if it does not fit.
 */
int config_web_root(const struct config *cfg, char *out, size_t len);

/*
 * Checks the files cfg names: tls_cert and tls_key readable files,
 * filter_file a readable file, the web root (config_web_root) a readable
 * directory; and warns of a secret shorter than CONFIG_SECRET_MIN bytes.
 * Each problem is reported to errf, warnings as "warning: ...".  A web
 * root that is not there is an error with web_strict (--test-config), a
 * warning without (a relay starts without its static files).  Returns the
 * number of errors.
 */
int config_check_files(const struct config *cfg, bool web_strict,
    FILE *errf);

/* One option of a subcommand, "--name VALUE" or "--name=VALUE". */
struct config_option {
	const char *name;	/* without the dashes; no directive's name */
	const char *value;	/* set by config_parse_command: argv's, or NULL */
};

/*
 * Parses the command line of a subcommand called prog (e.g. "chatrelay
 * token"; argv[0] is the subcommand's name): -c FILE and the directives
 * exactly as config_parse_args does, --help, and the subcommand's own
 * options opts (nopts rows; each may be given once), whose values it fills
 * in.  Unless --help was given, the configuration is then loaded and
 * checked as the daemon's is.  Returns CONFIG_RUN, CONFIG_EXIT_OK for
 * --help (nothing loaded; the caller prints its usage), or CONFIG_EXIT_ERR
 * (already reported to errf).
 */
int config_parse_command(struct config *cfg, const char *prog, int argc,
    char **argv, struct config_option *opts, size_t nopts, FILE *errf);

/* Writes the directive table as help text ("--name VALUE  help (default)"). */
void config_print_help(FILE *f);

/*
 * Writes the directive table as roff, one tagged paragraph (.TP) per
 * directive: name, kind of value, help, default and bounds.  It is the
 * DIRECTIVES section of chatrelay.conf(5) (docs/gen-man.c).
 */
void config_print_man(FILE *f);

/* Number of directives in the table, and the name of the i-th. */
size_t config_directive_count(void);
const char *config_directive_name(size_t i);

#endif
