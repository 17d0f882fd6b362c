/*
 * msg.h: the messages workers hand each other through their inboxes, one
 * small payload struct per type, each starting with the inbox's struct
 * imsg.  A message belongs to its sender until it is posted, then to the
 * receiver, which frees it with msg_free once handled (dispatch.c does).
 */
#ifndef CHATRELAY_MSG_H
#define CHATRELAY_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "chan.h"
#include "inbox.h"
#include "proto.h"

struct frame;

#define CONTROL_MAX 4096	/* bytes of one control command */
/* A control command's flag: put back from the store, so the state only, without events, notices or audit. */
#define CONTROL_REPLAY 1u

enum imsg_type {
	/* To a channel's owner. */
	IM_JOIN,		/* struct im_join */
	IM_LEAVE,		/* struct im_leave */
	IM_PUBLISH,		/* struct im_publish */
	IM_HISTORY,		/* struct im_query */
	IM_WHO,			/* struct im_query */
	/* To a user's owner. */
	IM_ATTACH,		/* struct im_attach */
	IM_DETACH,		/* struct im_detach */
	IM_WHISPER,		/* struct im_whisper */
	/* To the worker that holds the members or the client. */
	IM_DELIVER,		/* struct im_deliver: to every active member of ch */
	IM_USER_DELIVER,	/* struct im_user_deliver: to every connection of user */
	IM_TO_CLIENT,		/* struct im_to_client: to one client */
	IM_WATCH,		/* struct im_deliver: to the watchers of ch */
	IM_CONTROL,		/* struct im_control: a control command */
	IM_ANSWER,		/* struct im_control: a part of a cluster answer */
	IM_BUS,			/* struct im_bus: between the workers' sides of the bus */
	/* Lifecycle, from the main thread (struct imsg). */
	IM_DRAIN, IM_QUIESCE, IM_DESTROY,
	IM_TYPES
};

/* What an im_to_client asks the client's worker to do besides delivering. */
enum im_action {
	ACT_NONE,		/* just deliver the frame */
	ACT_ACTIVATE,		/* activate the pending membership of ch, then deliver */
	ACT_AUTH_OK,		/* the user's owner admitted the connection */
	ACT_AUTH_REFUSE,	/* too many connections for the user */
	ACT_JOIN_FAIL,		/* drop the pending membership of ch, then deliver */
	ACT_REPORT_FOUND,	/* the reported message (the frame): report it */
	ACT_REPORT_GONE,	/* the reported message is not kept (frame->seq) */
};

/* Who asked, so the answer finds its way back. */
struct origin {
	uint64_t client;		/* the client's session id */
	uint16_t worker;		/* the client's worker */
	char id[PROTO_ID_JSON_MAX + 1];	/* the request's id, "" if none */
};

struct im_join {
	struct imsg hdr;
	struct origin from;
	bool rejoin;			/* already a member: no count changes */
	int32_t history;		/* messages wanted, -1 = none */
	int64_t since;			/* -1 = none */
	char epoch[PROTO_EPOCH_MAX + 1];	/* the numbering since is from, "" = any */
	uint64_t members;		/* the Redis bus: the count Redis answered */
	struct im_join *next_pending;	/* the Redis bus: joins waiting for a sync */
	char ch[CHAN_NAME_MAX + 1];
	char user[USER_ID_MAX + 1];
	char name[USER_NAME_MAX + 1];
};

struct im_leave {
	struct imsg hdr;
	uint16_t worker;		/* the member's worker */
	char ch[CHAN_NAME_MAX + 1];
	char user[USER_ID_MAX + 1];
	char name[USER_NAME_MAX + 1];
};

struct im_publish {
	struct imsg hdr;
	struct origin from;
	uint64_t t0;			/* uv_hrtime() when the client sent it */
	char *body;			/* reply_msg_body(), malloc'd, owned */
	size_t len;
	char ch[CHAN_NAME_MAX + 1];
};

/* history and who. */
struct im_query {
	struct imsg hdr;
	struct origin from;
	bool lookup;			/* history: only message since, for a report */
	int32_t limit;			/* history: messages wanted */
	int64_t since;			/* history: -1 = none */
	char epoch[PROTO_EPOCH_MAX + 1];	/* the numbering since is from, "" = any */
	char ch[CHAN_NAME_MAX + 1];
};

struct im_attach {
	struct imsg hdr;
	struct origin from;
	char user[USER_ID_MAX + 1];
	char name[USER_NAME_MAX + 1];
};

struct im_detach {
	struct imsg hdr;
	uint16_t worker;		/* the connection's worker */
	char user[USER_ID_MAX + 1];
};

struct im_whisper {
	struct imsg hdr;
	struct origin from;
	struct frame *frame;		/* the whisper, a reference owned */
	char to[USER_ID_MAX + 1];
};

struct im_deliver {
	struct imsg hdr;
	struct frame *frame;		/* a reference owned */
	char ch[CHAN_NAME_MAX + 1];
	char except[USER_ID_MAX + 1];	/* "" = nobody left out */
};

struct im_user_deliver {
	struct imsg hdr;
	struct frame *frame;		/* a reference owned */
	char user[USER_ID_MAX + 1];
};

struct im_to_client {
	struct imsg hdr;
	uint64_t client;
	uint8_t action;			/* enum im_action */
	struct frame *frame;		/* a reference owned, or NULL */
	char ch[CHAN_NAME_MAX + 1];	/* ACT_ACTIVATE, ACT_JOIN_FAIL */
	char user[USER_ID_MAX + 1];	/* ACT_AUTH_OK */
	char id[PROTO_ID_JSON_MAX + 1];	/* ACT_AUTH_*: the auth's id */
};

/* What one worker's side of the bus tells the others (bus_ops.message). */
struct im_bus {
	struct imsg hdr;
	uint16_t worker;		/* the sender */
	uint8_t kind;			/* the bus's own */
	char text[CHAN_NAME_MAX + 1];	/* NUL-terminated: a channel, a run id */
};

struct im_control {
	struct imsg hdr;
	unsigned flags;			/* IM_CONTROL: control_run's */
	size_t len;
	char *body;			/* NUL-terminated, malloc'd, owned */
};

/*
 * Copies the string src into the field dst of size bytes, cut to fit and
 * NUL-terminated (the fields are sized for what the protocol allows, so
 * nothing is cut in practice).  Cheaper than snprintf on the hot path.
 */
static inline void
msg_copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * Allocates a zeroed message of the given type (the size its payload
 * needs).  Returns NULL if memory ran out.
 */
void *msg_new(enum imsg_type type);

/*
 * msg_new for the messages that must not be lost (a leave, a detach: the
 * owner would keep counting a member or a connection that is gone).  When
 * memory is short they come from a small reserve of the calling thread,
 * refilled by msg_reserve_fill.  Returns NULL only if that is empty too.
 */
void *msg_new_urgent(enum imsg_type type);

/*
 * Tops up the calling thread's reserve (run on each worker's tick).
 * Returns 0, or -1 if memory ran out (it is tried again next time).
 */
int msg_reserve_fill(void);

/* Frees the calling thread's reserve (before the thread ends). */
void msg_reserve_free(void);

/* Frees a message and what it owns (frames, bodies).  NULL is ignored. */
void msg_free(struct imsg *m);

/* Copies the origin of a request of client `client` on worker `worker`. */
void msg_origin(struct origin *o, uint16_t worker, uint64_t client,
    const char *id);

#endif
