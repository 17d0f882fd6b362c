/*
 * session.h: the player protocol as one connection sees it: authentication,
 * the ops of a client frame, the replies that come back from channel and
 * user owners, and the connection's timeouts.
 */
#ifndef CHATRELAY_SESSION_H
#define CHATRELAY_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct client;
struct worker;
struct lws;
struct im_to_client;

/*
 * Creates the client for a new WebSocket connection on w.  token (may be
 * NULL) is the ?token= of the upgrade URL.  Returns the client, or NULL if
 * it cannot be admitted (the caller refuses the connection).
 */
struct client *session_open(struct worker *w, struct lws *wsi, bool admin,
    const char *token);

/* Handles one complete client message (len bytes of valid UTF-8). */
void session_message(struct client *c, const char *buf, size_t len);

/* Handles an answer addressed to one client of w (an IM_TO_CLIENT message). */
void session_reply(struct worker *w, struct im_to_client *m);

/* Takes the client out of its channels and its user's count.  Idempotent. */
void session_detach(struct client *c);

/* Frees a client whose connection lws has closed. */
void session_free(struct client *c);

/* Applies auth and idle timeouts to every client of w at loop time now. */
void session_sweep(struct worker *w, int64_t now);

#endif
