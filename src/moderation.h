/*
 * moderation.h: the moderators' ops on /admin (actions on the whole
 * cluster, cluster-wide questions, watches), the players' reports, and the
 * moderation state handed to the bus to keep.
 */
#ifndef CHATRELAY_MODERATION_H
#define CHATRELAY_MODERATION_H

#include <stdbool.h>

struct client;
struct request;
struct worker;
struct im_to_client;

/*
 * Runs a moderator's op (req->op >= OP_ADMIN_FIRST) for client c, whose
 * connection is on /admin with a moderator or admin role.
 */
void moderation_op(struct client *c, const struct request *req);

/* Ends client c's watches (it is closing). */
void moderation_detach(struct client *c);

/*
 * A player's report (OP_REPORT): the message is looked up in history, then
 * reported to every watching moderator (moderation_report_answer).
 */
void moderation_report(struct client *c, const struct request *req);

/* ACT_REPORT_FOUND or ACT_REPORT_GONE for client c: sends the report. */
void moderation_report_answer(struct client *c, const struct im_to_client *m);

/*
 * Hands the moderation state w holds to the bus to keep (bus_state_save):
 * after each change on worker 0, and, with restore, when the store lost it.
 */
void moderation_save(struct worker *w, bool restore);

#endif
