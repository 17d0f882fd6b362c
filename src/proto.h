/*
 * proto.h: the wire protocol's client frames (parsing and validation);
 * the frames the relay sends are built in reply.c.
 *
 * proto_parse() checks everything that can be checked from the frame alone:
 * JSON syntax and depth, the op, and each field's type, length and range.
 * What depends on the connection (authenticated? a member?) is session.c's.
 */
#ifndef CHATRELAY_PROTO_H
#define CHATRELAY_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chan.h"

struct config;
struct frame;
struct cJSON;

enum op {
	OP_AUTH, OP_JOIN, OP_LEAVE, OP_SEND, OP_WHISPER, OP_HISTORY, OP_WHO,
	OP_PING, OP_REPORT,
	/* The moderators' ops (/admin); from OP_ADMIN_FIRST on. */
	OP_STATS, OP_CHANNELS, OP_USER, OP_KICK, OP_MUTE, OP_UNMUTE, OP_BAN,
	OP_UNBAN, OP_ANNOUNCE, OP_SLOWMODE, OP_DELETE, OP_WATCH, OP_UNWATCH,
	OP_COUNT,
	OP_ADMIN_FIRST = OP_STATS
};

enum errcode {
	ERR_BAD_JSON, ERR_BAD_OP, ERR_BAD_FIELD, ERR_AUTH_REQUIRED,
	ERR_AUTH_FAILED, ERR_FORBIDDEN, ERR_NO_SUCH_CHANNEL, ERR_NOT_MEMBER,
	ERR_TOO_MANY_CHANNELS, ERR_TOO_LONG, ERR_RATE_LIMITED, ERR_MUTED,
	ERR_SLOW_MODE, ERR_BANNED, ERR_UNAVAILABLE, ERR_INTERNAL,
	ERR_FILTERED,
	ERR_COUNT
};

#define PROTO_ID_MAX 64		/* bytes of a string id */
#define PROTO_ID_JSON_MAX (PROTO_ID_MAX * 6 + 3)	/* the id, serialized */
#define PROTO_META_MAX 512	/* bytes of serialized meta */
#define PROTO_HISTORY_MAX 100	/* largest history/limit a client may ask */
#define PROTO_REASON_MAX 200	/* characters of a moderator's reason */
#define PROTO_EPOCH_MAX 16	/* characters of a channel epoch (lowercase hex) */
#define PROTO_SECS_MAX 315360000	/* a mute's or ban's secs: 10 years */
#define PROTO_SLOW_MAX 86400	/* a slow mode's secs: one day */
#define PROTO_CHANNELS_MAX 100	/* channels: the longest list asked */
/* watch: a channel name, or a prefix of one followed by '*' ("*": all). */
#define PROTO_PATTERN_MAX (CHAN_NAME_MAX + 1)

/* A parsed client frame.  String fields point into the parsed tree. */
struct request {
	enum op op;
	char id[PROTO_ID_JSON_MAX + 1];	/* the id as JSON text, "" if none */
	const char *ch;			/* join, leave, send, history, who,
					   report, slowmode, delete; announce,
					   mute, unmute (NULL: everywhere) */
	const char *text;		/* send, whisper, announce */
	size_t text_len;
	const char *to;			/* whisper */
	const char *user;		/* report and the moderators' ops on a user */
	const char *reason;		/* report, kick, mute, ban: "" if none */
	const char *pattern;		/* watch, unwatch; channels: the prefix ("" = all) */
	int64_t secs;			/* mute, ban, slowmode: 0 = no end (off) */
	int64_t seq;			/* report, delete */
	const char *token;		/* auth */
	size_t token_len;
	const char *name;		/* auth (open mode) */
	size_t name_len;
	char *meta;			/* send: serialized meta (malloc'd), or NULL */
	size_t meta_len;
	int history;			/* join: messages wanted, -1 = none */
	int64_t since;			/* join, history: -1 = none */
	const char *epoch;		/* join, history: the numbering since is
					   from (with since), or NULL */
	int limit;			/* history: 1-100, default 50; channels:
					   1-100, default 20 */
	struct cJSON *root;
};

/* Why a frame was refused: the code, and a message naming the problem. */
struct proto_error {
	enum errcode code;
	char msg[128];
};

/*
 * Parses and validates one client frame (len bytes of valid UTF-8).
 * Returns 0 and fills req (release it with proto_request_free), or -1 and
 * fills err; req->id is filled whenever the frame had a usable id, so the
 * error can echo it.  req needs no release after -1.
 */
int proto_parse(const char *buf, size_t len, const struct config *cfg,
    struct request *req, struct proto_error *err);

/* Releases what proto_parse allocated. */
void proto_request_free(struct request *req);

/* The protocol's name of an error code ("bad_json", ...). */
const char *proto_errcode_name(enum errcode code);
/* The protocol's name of an op. */
const char *proto_op_name(enum op op);

/*
 * Returns true if s is a watch pattern: a channel name, or a prefix of one
 * (possibly empty) followed by '*'.
 */
bool proto_pattern_valid(const char *s);

/* Returns true if channel ch matches watch pattern pat. */
bool proto_pattern_match(const char *pat, const char *ch);

/* Returns true if s is an epoch as the relay makes them (1-16 lowercase hex digits). */
bool proto_epoch_valid(const char *s);

/* Returns the current wall-clock time in milliseconds since the epoch. */
int64_t proto_now_ms(void);

#endif
