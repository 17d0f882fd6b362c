/*
 * control.h: the control channel, which carries commands that every worker
 * of every instance runs: moderation's kick and announce.
 *
 * A command is a small JSON object, {"cmd":NAME,...}.  Without Redis it is
 * handed straight to each worker's inbox.  With Redis it is published on the
 * cluster-wide pub/sub channel "chatrelay:ctl"; worker 0 of every instance
 * follows that channel and hands each command on to its own workers.
 */
#ifndef CHATRELAY_CONTROL_H
#define CHATRELAY_CONTROL_H

#include <stddef.h>
#include <stdint.h>

struct worker;

#define CONTROL_MAX 4096	/* bytes of one command */

/*
 * Sends command cmd (len bytes) to the whole cluster from worker w.  The
 * client `client` of w, whose request had id `id`, is answered ok once the
 * command is on its way to every instance, or err unavailable if the bus
 * is down (then no instance runs it).
 */
void control_send(struct worker *w, uint64_t client, const char *id,
    const char *cmd, size_t len);

/* Hands command cmd to every worker of this instance (run on w's thread). */
void control_fanout(struct worker *w, const char *cmd, size_t len);

/* Runs command cmd on worker w (what control_fanout handed it). */
void control_run(struct worker *w, const char *cmd, size_t len);

#endif
