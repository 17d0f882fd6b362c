/*
 * control.h: the control channel, which carries commands that every worker
 * of every instance runs: moderation's kick and announce.
 *
 * A command is a small JSON object, {"cmd":NAME,"by":UID,...}, at most
 * CONTROL_MAX bytes, encoded and decoded only here, from one table of
 * commands.  The bus carries it (bus.h's control op): without Redis it is
 * handed straight to each worker's inbox; with Redis it is stored in the
 * cluster-wide stream "chatrelay:ctlstream", which every instance reads.
 */
#ifndef CHATRELAY_CONTROL_H
#define CHATRELAY_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

struct worker;

/*
 * Sends the command that closes every connection of user `user` on every
 * instance (reason: "" for the default), for moderator `by`, client
 * `client` of w, whose request had id `id`; the client is answered ok once
 * the command is on its way everywhere, or err (unavailable, too_long).
 */
void control_kick(struct worker *w, uint64_t client, const char *id,
    const char *by, const char *user, const char *reason);

/*
 * Sends the command that sends notice text (text_len bytes) to every
 * connection, or to the members of channel ch (NULL: everyone); answered
 * as control_kick.
 */
void control_announce(struct worker *w, uint64_t client, const char *id,
    const char *by, const char *text, size_t text_len, const char *ch);

/*
 * Runs command cmd (len bytes, from any instance: validated like a
 * client's input) on worker w.  Returns 0, or -1 if it was refused
 * (logged).
 */
int control_run(struct worker *w, const char *cmd, size_t len);

#endif
