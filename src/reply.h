/*
 * reply.h: every frame the relay sends, built in one place from plain
 * values (strings, numbers, a history ring and a seq), never from another
 * module's structs.
 *
 * Each builder returns a new frame with one reference owned by the caller,
 * or NULL if memory ran out.  `id` is always the request's id as JSON text
 * (proto.h's struct request), or "" when the request had none: it is copied
 * verbatim, unquoted.  Strings are NUL-terminated valid UTF-8 unless a
 * length is given.
 */
#ifndef CHATRELAY_REPLY_H
#define CHATRELAY_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

struct frame;
struct history;
struct jsonw;

/* {"op":"err","id":ID,"code":CODE,"msg":MSG[,"retry_ms":R][,"until":U]}: R, U only when >= 0. */
struct frame *reply_err(const char *id, enum errcode code, const char *msg,
    int64_t retry_ms, int64_t until);

/* {"op":"ok","id":ID} */
struct frame *reply_ok(const char *id);

/*
 * {"op":"ok","id":ID,"ch":CH,"seq":SEQ,"ts":TS[,"epoch":E]}: a published
 * message's acknowledgement (epoch: the channel's numbering, NULL or ""
 * for none).
 */
struct frame *reply_ok_seq(const char *id, const char *ch, uint64_t seq,
    int64_t ts, const char *epoch);

/* {"op":"pong","id":ID} */
struct frame *reply_pong(const char *id);

/* {"op":"bye","code":CODE,"reason":REASON[,"reconnect_ms":R]}: R only when >= 0. */
struct frame *reply_bye(int code, const char *reason, int64_t reconnect_ms);

/* What a welcome tells the client about the relay's limits. */
struct reply_limits {
	int frame, text, rate, burst, channels;
};

/*
 * {"op":"welcome","id":ID,"user":{"id":UID,"name":NAME,"role":ROLE},
 *  "session":SESSION,"node":NODE,"limits":{"frame":..,"text":..,"rate":..,
 *  "burst":..,"channels":..}}
 */
struct frame *reply_welcome(const char *id, const char *uid, const char *name,
    const char *role, uint64_t session, const char *node,
    const struct reply_limits *limits);

/* {"op":"left","id":ID,"ch":CH} */
struct frame *reply_left(const char *id, const char *ch);

/* {"op":"presence","ch":CH,"event":EVENT,"user":{"id":UID,"name":NAME}} (event "join" or "leave") */
struct frame *reply_presence(const char *ch, const char *event,
    const char *uid, const char *name);

/* {"op":"whisper","from":{"id":UID,"name":NAME},"to":TO,"text":TEXT,"ts":TS} */
struct frame *reply_whisper(const char *uid, const char *name, const char *to,
    const char *text, size_t text_len, int64_t ts);

/* {"op":"notice","text":TEXT[,"ch":CH],"level":"info"}: ch may be NULL. */
struct frame *reply_notice(const char *text, const char *ch);
/* The same with level "info" or "warn". */
struct frame *reply_notice_level(const char *text, const char *ch,
    const char *level);

/*
 * A moderation event ("mod": a moderator's action) or a player's report
 * ("report"), as watching moderators and the audit file get it.  NULL
 * strings are written as null; until < 0 as null; secs and seq < 0 and
 * text without with_text are left out.
 */
struct mod_event {
	const char *op;			/* "mod" or "report" */
	const char *action;		/* mod: "kick", "mute", ...; report: NULL */
	const char *by, *byname;
	const char *user, *ch, *reason;
	int64_t until, secs, seq, ts;
	bool with_text;
	const char *text;		/* may be NULL (null) */
	size_t text_len;
	const char *node;
};

/* Writes the event's JSON object into w (which the caller started). */
void reply_mod_json(struct jsonw *w, const struct mod_event *e);
/* The event as a frame. */
struct frame *reply_mod(const struct mod_event *e);

/* {"op":"delete","ch":CH,"seq":S} */
struct frame *reply_delete(const char *ch, uint64_t seq);

/*
 * The body of a channel message, what follows its head
 * ({"op":"msg","seq":N,"ts":T,):
 *   "ch":CH,"from":{"id":UID,"name":NAME},"text":TEXT[,"meta":META]}
 * meta (meta_len bytes of serialized JSON, copied raw) may be NULL.
 * Returns a malloc'd buffer of *len bytes (not NUL-terminated), or NULL.
 */
char *reply_msg_body(const char *ch, const char *uid, const char *name,
    const char *text, size_t text_len, const char *meta, size_t meta_len,
    size_t *len);

/*
 * {"op":"msg","seq":SEQ,"ts":TS[,"epoch":E], + body (from reply_msg_body).
 * The frame's seq and ts fields are set too.
 */
struct frame *reply_msg(uint64_t seq, int64_t ts, const char *epoch,
    const char *body, size_t len);

/*
 * Where a reply of several frames goes: called once per frame, in order,
 * and given the frame's reference.  first is true for the reply's first
 * frame only.
 */
typedef void (*reply_emit)(void *arg, struct frame *f, bool first);

/* How a joined reply recovers what was asked with since. */
enum reply_recovered {
	RECOVERED_NONE = -1,	/* no since: no "recovered" field */
	RECOVERED_NO = 0,	/* "recovered":false (some are gone) */
	RECOVERED_YES = 1,	/* "recovered":true */
};

/*
 * The answer to a join:
 *   {"op":"joined","id":ID,"ch":CH,"seq":SEQ[,"epoch":E],"members":MEMBERS}
 * or, with msgs (history asked for, even if none is left):
 *   {"op":"joined",...,"members":M,"msgs":[...][,"recovered":B],"more":B}
 * followed, when the entries do not fit in one frame of frame_max bytes, by
 *   {"op":"history","id":ID,"ch":CH,"msgs":[...],"more":B} ...
 * The msgs are the payloads of entries [first, first + n) of h (history.h's
 * history_at), in order; every frame but the last says "more":true.
 * Returns 0 once every frame went to emit, or -1 if memory ran out (then
 * nothing, or only complete frames before the failure, went out).
 */
int reply_joined(reply_emit emit, void *arg, const char *id, const char *ch,
    uint64_t seq, const char *epoch, uint64_t members, bool with_msgs,
    const struct history *h, int first, int n,
    enum reply_recovered recovered, size_t frame_max);

/*
 * The answer to a history request: entries [first, first + n) of h in
 *   {"op":"history","id":ID,"ch":CH,"msgs":[...],"more":B}
 * frames of at most frame_max bytes (see reply_joined).  Returns 0 or -1.
 */
int reply_history(reply_emit emit, void *arg, const char *id, const char *ch,
    const struct history *h, int first, int n, size_t frame_max);

/* A member listed in a who reply. */
struct reply_member {
	const char *id;
	size_t id_len;
	const char *name;
	size_t name_len;
};

/*
 * {"op":"who","id":ID,"ch":CH,"members":[{"id":..,"name":..},...],
 *  "count":COUNT}: as many of the n members as fit in frame_max bytes
 * (count is the true total, which may be larger).
 */
struct frame *reply_who(const char *id, const char *ch,
    const struct reply_member *v, size_t n, uint64_t count,
    size_t frame_max);

#endif
