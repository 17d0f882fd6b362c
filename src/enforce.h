/*
 * enforce.h: what a moderation command does on one worker, to the
 * connections that worker holds (control.c runs it on every worker of
 * every instance).
 */
#ifndef CHATRELAY_ENFORCE_H
#define CHATRELAY_ENFORCE_H

struct worker;

/*
 * Closes every connection of user uid on w with bye and close 4008
 * (reason: the moderator's, or a default when NULL or empty).
 */
void enforce_kick(struct worker *w, const char *uid, const char *reason);

/*
 * Sends a notice with text to the members of channel ch on w, or to every
 * authenticated connection of w when ch is NULL.
 */
void enforce_announce(struct worker *w, const char *text, const char *ch);

#endif
