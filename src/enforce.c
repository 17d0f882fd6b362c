/*
 * enforce.c: a control command carried out on one worker (see enforce.h):
 * the state it changes in w->mod, what it does to the worker's connections,
 * and the event its watching moderators get.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "bus.h"
#include "client.h"
#include "control.h"
#include "deliver.h"
#include "enforce.h"
#include "frame.h"
#include "jsonw.h"
#include "log.h"
#include "moderation.h"
#include "modstate.h"
#include "proto.h"
#include "relay.h"
#include "reply.h"
#include "worker.h"

#define KICK_REASON "kicked by a moderator"
#define BAN_REASON "banned by a moderator"

/*
 * Closes every connection of user uid on w with bye and close `code`
 * (reason: the moderator's, or dflt when NULL or empty).
 */
static void
close_user(struct worker *w, const char *uid, int code, const char *reason,
    const char *dflt)
{
	struct client *const *conns;
	struct client **v;
	uint32_t i, n;

	conns = user_index_get(&w->users, uid, &n);
	if (n == 0)
		return;
	if (reason == NULL || reason[0] == '\0')
		reason = dflt;
	/* Closing takes each connection out of the index: close from a copy. */
	v = malloc(n * sizeof *v);
	if (v == NULL) {
		log_err("out of memory: the close of %s's connections not done",
		    uid);
		return;
	}
	memcpy(v, conns, n * sizeof *v);
	for (i = 0; i < n; i++)
		client_close(v[i], code, reason, true, -1);
	free(v);
}

void
enforce_kick(struct worker *w, const char *uid, const char *reason)
{
	close_user(w, uid, 4008, reason, KICK_REASON);
}

void
enforce_announce(struct worker *w, const char *text, const char *ch)
{
	struct frame *f = reply_notice(text, ch);

	if (f == NULL) {
		log_err("out of memory: an announcement not delivered");
		return;
	}
	if (ch != NULL)
		deliver_channel(w, ch, f, NULL);
	else
		deliver_all(w, f);
	frame_unref(f);
}

/* Writes "for 10 minutes" (or "until lifted") for an end at until. */
static void
describe_until(char *buf, size_t len, int64_t until, int64_t now)
{
	int64_t s = (until - now + 999) / 1000;

	if (until == 0)
		snprintf(buf, len, "until a moderator lifts it");
	else if (s < 120)
		snprintf(buf, len, "for %lld seconds", (long long)(s > 0 ? s : 0));
	else if (s < 2 * 3600)
		snprintf(buf, len, "for %lld minutes", (long long)(s + 59) / 60);
	else if (s < 2 * 86400)
		snprintf(buf, len, "for %lld hours", (long long)(s + 3599) / 3600);
	else
		snprintf(buf, len, "for %lld days", (long long)(s + 86399) / 86400);
}

/* Sends a warn notice to every connection of uid on w. */
static void
notify_user(struct worker *w, const char *uid, const char *text,
    const char *ch)
{
	struct frame *f;

	if (user_index_get(&w->users, uid, &(uint32_t){ 0 }) == NULL)
		return;
	if ((f = reply_notice_level(text, ch, "warn")) == NULL)
		return;
	deliver_user(w, uid, f);
	frame_unref(f);
}

/* Sends a notice to the local members of ch. */
static void
notify_channel(struct worker *w, const char *ch, const char *text)
{
	struct frame *f = reply_notice_level(text, ch, "info");

	if (f == NULL)
		return;
	deliver_channel(w, ch, f, NULL);
	frame_unref(f);
}

/* What the players concerned are told of cmd, on w. */
static void
tell_players(struct worker *w, const struct command *cmd)
{
	char text[PROTO_REASON_MAX * 4 + CHAN_NAME_MAX + 96], d[48];
	const char *r = cmd->reason != NULL && cmd->reason[0] != '\0' ?
	    cmd->reason : NULL;

	switch (cmd->kind) {
	case CMD_MUTE:
		describe_until(d, sizeof d, cmd->until, proto_now_ms());
		snprintf(text, sizeof text, "You are muted %s%s %s%s%s",
		    cmd->ch != NULL ? "in " : "everywhere",
		    cmd->ch != NULL ? cmd->ch : "", d, r ? ": " : "",
		    r ? r : "");
		notify_user(w, cmd->user, text, cmd->ch);
		break;
	case CMD_UNMUTE:
		snprintf(text, sizeof text, "You are no longer muted%s%s",
		    cmd->ch != NULL ? " in " : "", cmd->ch != NULL ? cmd->ch :
		    "");
		notify_user(w, cmd->user, text, cmd->ch);
		break;
	case CMD_SLOWMODE:
		if (cmd->secs > 0)
			snprintf(text, sizeof text, "Slow mode: one message "
			    "every %lld seconds", (long long)cmd->secs);
		else
			snprintf(text, sizeof text, "Slow mode is off");
		notify_channel(w, cmd->ch, text);
		break;
	default:
		break;
	}
}

/* The event of cmd, as the watching moderators and the audit file get it. */
static void
event_of(const struct command *cmd, struct mod_event *e)
{
	memset(e, 0, sizeof *e);
	e->op = cmd->kind == CMD_REPORT ? "report" : "mod";
	e->action = cmd->kind == CMD_REPORT ? NULL : control_name(cmd->kind);
	e->by = cmd->by;
	e->byname = cmd->byname;
	e->user = cmd->user;
	e->ch = cmd->ch;
	e->reason = cmd->reason;
	e->until = cmd->kind == CMD_BAN || cmd->kind == CMD_MUTE ?
	    cmd->until : -1;
	e->secs = cmd->kind == CMD_SLOWMODE ? cmd->secs : -1;
	e->seq = cmd->kind == CMD_DELETE || cmd->kind == CMD_REPORT ?
	    cmd->seq : -1;
	e->with_text = cmd->kind == CMD_ANNOUNCE || cmd->kind == CMD_REPORT;
	e->text = cmd->text;
	e->text_len = cmd->text_len;
	e->ts = cmd->ts;
	e->node = cmd->node;
}

/* The audit line of cmd, in the log and (as JSON) in the audit file. */
static void
audit(const struct command *cmd, const struct mod_event *e)
{
	struct jsonw jw;

	log_notice("audit: %s%s%s %s %s%s%s%s%s%s%s", cmd->by,
	    cmd->byname != NULL && strcmp(cmd->byname, cmd->by) != 0 ? " " : "",
	    cmd->byname != NULL && strcmp(cmd->byname, cmd->by) != 0 ?
	    cmd->byname : "", e->action != NULL ? e->action : "reports",
	    cmd->user != NULL ? cmd->user : "",
	    cmd->ch != NULL ? (cmd->user != NULL ? " in " : "") : "",
	    cmd->ch != NULL ? cmd->ch : (cmd->user == NULL ? "everyone" : ""),
	    cmd->kind == CMD_SLOWMODE ? (cmd->secs > 0 ? " to one message per"
	    " interval" : " off") : "",
	    cmd->reason != NULL && cmd->reason[0] != '\0' ? ": " : "",
	    cmd->reason != NULL ? cmd->reason : "",
	    cmd->kind == CMD_ANNOUNCE ? " (announcement)" : "");
	jsonw_init(&jw);
	reply_mod_json(&jw, e);
	if (!jw.failed)
		audit_write(jw.buf, jw.len);
	jsonw_free(&jw);
}

/* Changes w->mod for cmd (whose text is json); returns true if it changed. */
static bool
change_state(struct worker *w, const struct command *cmd, const char *json,
    size_t len)
{
	struct modstate *ms = &w->mod;
	int rc = 0;

	switch (cmd->kind) {
	case CMD_BAN:
		rc = modstate_set(ms, MOD_BAN, cmd->user, NULL, cmd->until, 0,
		    cmd->by, cmd->reason, json, len);
		break;
	case CMD_UNBAN:
		return modstate_clear(ms, MOD_BAN, cmd->user, NULL) > 0;
	case CMD_MUTE:
		rc = modstate_set(ms, MOD_MUTE, cmd->user, cmd->ch, cmd->until,
		    0, cmd->by, cmd->reason, json, len);
		break;
	case CMD_UNMUTE:
		return modstate_clear(ms, MOD_MUTE, cmd->user, cmd->ch) > 0;
	case CMD_SLOWMODE:
		if (cmd->secs == 0)
			return modstate_clear(ms, MOD_SLOW, NULL, cmd->ch) > 0;
		rc = modstate_set(ms, MOD_SLOW, NULL, cmd->ch, 0,
		    (int32_t)cmd->secs, cmd->by, NULL, json, len);
		break;
	default:
		return false;
	}
	if (rc != 0)
		log_err("out of memory: the %s of %s not held by worker %d",
		    control_name(cmd->kind), cmd->user != NULL ? cmd->user :
		    cmd->ch, w->idx);
	return rc == 0;
}

/* What cmd does to w's connections and kept messages. */
static void
act(struct worker *w, const struct command *cmd, bool replay)
{
	struct frame *f;

	switch (cmd->kind) {
	case CMD_KICK:
		enforce_kick(w, cmd->user, cmd->reason);
		break;
	case CMD_BAN:
		if (cmd->until == 0 || cmd->until > proto_now_ms())
			close_user(w, cmd->user, 4003, cmd->reason, BAN_REASON);
		break;
	case CMD_ANNOUNCE:
		enforce_announce(w, cmd->text, cmd->ch);
		break;
	case CMD_DELETE:
		bus_forget(w, cmd->ch, (uint64_t)cmd->seq);
		if ((f = reply_delete(cmd->ch, (uint64_t)cmd->seq)) != NULL) {
			deliver_channel(w, cmd->ch, f, NULL);
			deliver_watchers(w, cmd->ch, f);
			frame_unref(f);
		}
		break;
	default:
		if (!replay)
			tell_players(w, cmd);
		break;
	}
}

void
enforce_command(struct worker *w, const struct command *cmd,
    const char *json, size_t len, unsigned flags)
{
	bool replay = (flags & CONTROL_REPLAY) != 0, changed;
	struct mod_event e;
	struct frame *f;

	changed = change_state(w, cmd, json, len);
	act(w, cmd, replay);
	if (replay)
		return;
	event_of(cmd, &e);
	if (w->watches.n > 0 && (f = reply_mod(&e)) != NULL) {
		deliver_watchers(w, NULL, f);
		frame_unref(f);
	}
	if (w->idx != 0)
		return;
	/* Once per cluster: on worker 0 of the instance it came from. */
	if (cmd->nk != NULL && strcmp(cmd->nk, w->relay->node_key) == 0)
		audit(cmd, &e);
	if (changed)
		moderation_save(w, false);
}
