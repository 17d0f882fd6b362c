/*
 * moderation.h: the moderators' ops on /admin.  kick and announce act on
 * every instance through the control channel (control.h); the other ops of
 * the admin channel are not in this version and answer bad_op.
 */
#ifndef CHATRELAY_MODERATION_H
#define CHATRELAY_MODERATION_H

struct client;
struct request;
struct worker;

/*
 * Runs a moderator's op (req->op >= OP_ADMIN_FIRST) for client c, whose
 * connection is on /admin with a moderator or admin role.
 */
void moderation_op(struct client *c, const struct request *req);

/*
 * On worker w, closes every connection of user uid with bye and close 4008
 * (reason: the moderator's, or a default when NULL or empty).
 */
void moderation_kick_here(struct worker *w, const char *uid,
    const char *reason);

/*
 * On worker w, sends a notice with text to the members of channel ch, or
 * to every authenticated connection when ch is NULL.
 */
void moderation_announce_here(struct worker *w, const char *text,
    const char *ch);

#endif
