/*
 * server-reload.c: SIGHUP on a running relay, on the main thread.  The
 * configuration is read again exactly as at start (the same file, then
 * the same command line over it); the directives that may change live
 * (config_is_live) are applied without dropping a connection, and each
 * other one that differs is logged and kept.  A configuration that does
 * not read keeps everything as it was.  Either way the word filter is
 * reloaded and the audit file reopened (log rotation must not depend on
 * the file being right).
 *
 * Publishing: the main thread builds the new configuration in force in a
 * struct of its own, then copies it into relay.live under cfg_lock and
 * bumps cfg_gen; each worker copies relay.live into its own at its next
 * tick (dispatch.c's sync_config), so no worker ever reads a struct that
 * another thread writes.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "config.h"
#include "filter.h"
#include "log.h"
#include "relay.h"
#include "server.h"

int
server_web_root(struct config *cfg)
{
	char root[CONFIG_PATH_MAX], real[PATH_MAX];
	int rc = 0;

	if (config_web_root(cfg, root, sizeof root) != 0)
		return -1;
	if (realpath(root, real) == NULL)
		rc = -1;
	else if (strlen(real) < sizeof cfg->web_root)
		snprintf(root, sizeof root, "%s", real);
	if (strlen(root) >= sizeof cfg->web_root)
		return -1;
	snprintf(cfg->web_root, sizeof cfg->web_root, "%s", root);
	return rc;
}

int
server_filter_load(struct relay *srv, const char *path, const char *policy)
{
	struct filter *f = NULL, *old;
	char err[256];

	if (path[0] != '\0') {
		f = filter_load(path, err, sizeof err);
		if (f == NULL) {
			log_err("filter_file: %s%s", err, srv->filter != NULL ?
			    " (the list loaded before stays in force)" : "");
			return -1;
		}
		log_notice("word filter: %zu entries from %s (%s)",
		    filter_count(f), path, policy);
	}
	pthread_mutex_lock(&srv->filter_lock);
	old = srv->filter;
	srv->filter = f;
	atomic_fetch_add(&srv->filter_gen, 1);
	pthread_mutex_unlock(&srv->filter_lock);
	filter_unref(old);
	return 0;
}

/* The two configurations a reload compares, for note_change. */
struct reload {
	const struct config *cur, *next;
};

/* Logs one directive that differs: its change, or that it is kept. */
static void
note_change(const char *name, bool live, void *arg)
{
	const struct reload *rl = arg;
	char was[CONFIG_STR_MAX + 32], now[CONFIG_STR_MAX + 32];

	if (config_is_secret(name)) {
		/* Neither value is ever logged, nor whether it is empty. */
		log_notice("%s: changed, but needs a restart; the value in "
		    "force is kept", name);
		return;
	}
	if (config_get(rl->cur, name, was, sizeof was) != 0 ||
	    config_get(rl->next, name, now, sizeof now) != 0)
		snprintf(was, sizeof was, "?"), snprintf(now, sizeof now, "?");
	if (live)
		log_notice("%s: %s%s%s -> %s%s%s", name, was[0] ? "" : "\"",
		    was, was[0] ? "" : "\"", now[0] ? "" : "\"", now,
		    now[0] ? "" : "\"");
	else
		log_notice("%s: needs a restart; kept %s%s%s", name,
		    was[0] ? "" : "\"", was, was[0] ? "" : "\"");
}

/* Logs each line of text (what config_reload reported) at err. */
static void
log_lines(const char *text)
{
	const char *p = text, *nl;

	while (p != NULL && *p != '\0') {
		nl = strchr(p, '\n');
		log_err("%.*s", nl != NULL ? (int)(nl - p) : (int)strlen(p), p);
		p = nl != NULL ? nl + 1 : NULL;
	}
}

/*
 * Reads the configuration again into next.  Returns 0, or -1 once what
 * was wrong has been logged.
 */
static int
reload_read(struct relay *srv, struct config *next)
{
	char *text = NULL;
	size_t len = 0;
	FILE *errs = open_memstream(&text, &len);
	int bad;

	if (errs == NULL) {
		log_err("configuration not reloaded: out of memory");
		return -1;
	}
	bad = config_reload(next, &srv->src, errs);
	fclose(errs);
	if (bad != 0) {
		log_lines(text);
		if (bad > 0)
			log_err("configuration not reloaded: %d error%s; "
			    "everything stays as it was", bad,
			    bad == 1 ? "" : "s");
		else
			log_err("configuration not reloaded: the file cannot "
			    "be read; everything stays as it was");
	}
	free(text);
	return bad != 0 ? -1 : 0;
}

/*
 * Applies the files of the new configuration in force, conf: the word
 * filter is loaded again and the audit file reopened, or switched to
 * another; what cannot be applied gets its old value back in conf.
 */
static void
reload_files(struct relay *srv, struct config *conf)
{
	const struct config *old = &srv->live;

	if (server_filter_load(srv, conf->filter_file,
	    conf->filter_policy) != 0 &&
	    strcmp(conf->filter_file, old->filter_file) != 0) {
		log_err("filter_file: kept %s", old->filter_file[0] != '\0' ?
		    old->filter_file : "\"\"");
		memcpy(conf->filter_file, old->filter_file,
		    sizeof conf->filter_file);
	}
	if (strcmp(conf->audit_file, old->audit_file) == 0)
		(void)audit_reopen();
	else if (audit_switch(conf->audit_file) != 0) {
		log_err("audit_file: kept %s", old->audit_file[0] != '\0' ?
		    old->audit_file : "\"\"");
		memcpy(conf->audit_file, old->audit_file,
		    sizeof conf->audit_file);
	}
}

/* Makes conf the configuration in force: the workers take it at their tick. */
static void
reload_publish(struct relay *srv, const struct config *conf)
{
	pthread_mutex_lock(&srv->cfg_lock);
	srv->live = *conf;
	atomic_fetch_add(&srv->cfg_gen, 1);
	pthread_mutex_unlock(&srv->cfg_lock);
}

void
server_reload(struct relay *srv)
{
	struct config next, conf;
	struct reload rl;
	int n;

	log_notice("received SIGHUP: reading the configuration again (%s), "
	    "reloading the word filter, reopening the audit file",
	    srv->src.path[0] != '\0' ? srv->src.path :
	    "no file: the command line");
	if (reload_read(srv, &next) != 0) {
		/* What SIGHUP always does, with the configuration in force. */
		(void)server_filter_load(srv, srv->live.filter_file,
		    srv->live.filter_policy);
		(void)audit_reopen();
		return;
	}
	/* web_root as the relay serves it, so that "" and its value agree. */
	(void)server_web_root(&next);
	conf = srv->live;
	rl.cur = &srv->live;
	rl.next = &next;
	n = config_merge_live(&conf, &next, note_change, &rl);
	reload_files(srv, &conf);
	if (n == 0)
		log_notice("configuration reloaded: nothing to change");
	else
		log_notice("configuration reloaded: %d directive%s changed", n,
		    n == 1 ? "" : "s");
	/* After the notices, which a quieter level would hide. */
	log_set_format(log_format_parse(conf.log_format));
	log_set_level(conf.log_level);
	reload_publish(srv, &conf);
}
