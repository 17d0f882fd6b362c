/*
 * enforce.h: what a control command does on one worker: the moderation
 * state it changes (w->mod), what it does to that worker's connections,
 * and the event its watching moderators get (control.c runs it on every
 * worker of every instance).
 */
#ifndef CHATRELAY_ENFORCE_H
#define CHATRELAY_ENFORCE_H

#include <stddef.h>

struct worker;
struct command;

/*
 * Carries out cmd (whose JSON text, json, is what the state keeps) on w,
 * with control_run's flags: with CONTROL_REPLAY only the state and the
 * closing of banned users' connections, without events, notices or audit.
 * On worker 0 of the instance the command came from, it writes the audit
 * line; on worker 0 of every instance, a changed state is saved
 * (moderation_save).
 */
void enforce_command(struct worker *w, const struct command *cmd,
    const char *json, size_t len, unsigned flags);

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
