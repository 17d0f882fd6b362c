/*
 * moderation.h: the moderators' ops on /admin.  kick and announce act on
 * every instance through the control channel (control.h); the other ops of
 * the admin channel are not in this version and answer bad_op.
 */
#ifndef CHATRELAY_MODERATION_H
#define CHATRELAY_MODERATION_H

struct client;
struct request;

/*
 * Runs a moderator's op (req->op >= OP_ADMIN_FIRST) for client c, whose
 * connection is on /admin with a moderator or admin role.
 */
void moderation_op(struct client *c, const struct request *req);

#endif
