/*
 * gather.h: the moderators' questions to the whole cluster (stats,
 * channels, user).
 *
 * The asking worker sends the question as a control command (CMD_QUERY);
 * every worker of every instance answers its part to the asker through the
 * bus (bus_answer: the inbox here, the asker's stream with Redis), which
 * arrives as IM_ANSWER.  The asker merges the parts and answers once every
 * live instance (bus_nodes) has answered in full, or after GATHER_WAIT_MS
 * with what it has and the instances that did not answer named.
 */
#ifndef CHATRELAY_GATHER_H
#define CHATRELAY_GATHER_H

#include <stddef.h>
#include <stdint.h>

#include "control.h"

struct worker;

#define GATHER_WAIT_MS 1000	/* how long the asker waits for parts */
#define GATHER_MAX 64		/* questions in flight per worker */

/*
 * Asks question q for client `client` of w (id: its request's id; user:
 * Q_USER's; prefix and limit: Q_CHANNELS'); the client is answered with
 * the frame of that name, or err.
 */
void gather_start(struct worker *w, uint64_t client, const char *id,
    enum query_kind q, const char *user, const char *prefix, int limit);

/* CMD_QUERY on any worker: sends this worker's part to the asker. */
void gather_on_query(struct worker *w, const struct command *cmd);

/* IM_ANSWER: a part (len bytes of JSON) for one of w's questions. */
void gather_on_answer(struct worker *w, const char *part, size_t len);

/* Every tick: samples the message rates and answers overdue questions. */
void gather_tick(struct worker *w, int64_t now);

/* Frees w's questions and samples (as w stops). */
void gather_free(struct worker *w);

#endif
