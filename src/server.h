/*
 * server.h: running the relay process: its workers started, and stopped
 * gracefully, from the main thread (relay.h has what they share); and a
 * running relay's reload on SIGHUP (server-reload.c).
 */
#ifndef CHATRELAY_SERVER_H
#define CHATRELAY_SERVER_H

struct config;
struct relay;

/*
 * Runs the relay until SIGINT or SIGTERM, then stops it gracefully.
 * Returns the process exit status.
 */
int server_run(struct relay *r);

/*
 * SIGHUP: reads the configuration again as at start and applies what may
 * change live; logs what changed, what needs a restart, or why nothing
 * did.  On the main thread.
 */
void server_reload(struct relay *r);

/*
 * Makes cfg's web_root the directory the relay serves (config_web_root),
 * as an absolute path.  Returns 0, or -1 if it does not exist (web_root
 * is then the path as it was chosen).
 */
int server_web_root(struct config *cfg);

/*
 * Loads the word filter from path ("": none) and makes it the relay's (the
 * workers take it at their next tick); policy is only logged.  Returns 0,
 * or -1 (logged) leaving the old one in force.
 */
int server_filter_load(struct relay *r, const char *path, const char *policy);

#endif
