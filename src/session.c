/*
 * session.c: one connection's view of the player protocol.
 *
 * A client frame is parsed and validated (proto.c), checked against the
 * connection's state (authenticated? a member?) and rate limits, and then
 * either answered at once or handed to the bus (bus.h), which routes it to
 * the worker that handles it.  Answers come back as IM_TO_CLIENT messages.
 */
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>
#include <uv.h>

#include "bus.h"
#include "client.h"
#include "config.h"
#include "deliver.h"
#include "filter.h"
#include "frame.h"
#include "log.h"
#include "moderation.h"
#include "modstate.h"
#include "msg.h"
#include "proto.h"
#include "relay.h"
#include "reply.h"
#include "session.h"
#include "worker.h"

/*
 * Bytes kept free in a msg frame so that any reply quoting it (history,
 * joined) still fits in frame_max with its own fields around it.
 */
#define MSG_HEADROOM 640
/* Bytes a msg head ({"op":"msg","seq":N,"ts":T,) takes at most. */
#define MSG_HEAD_MAX 64
/*
 * The ops other than send and whisper share a bucket this many times the
 * size and rate of the message bucket: joins, history and pings are cheap
 * and come in bursts at start.
 */
#define OP_BUCKET_FACTOR 10

/* Sends err auth_failed (or another code), then closes with 4001. */
static void
refuse_auth(struct client *c, const char *id, enum errcode code,
    const char *msg)
{
	client_send_err(c, id, code, msg);
	client_close(c, 4001, msg, false, -1);
}

/* Logs c's admission (at info): never its token, only who it is. */
static void
log_auth(const struct client *c)
{
	struct log_field f[4] = {
		LOG_NUM("session", client_id(c)),
		LOG_STR("user", c->uid),
		LOG_STR("role", auth_role_name(c->role)),
		LOG_STR("path", c->admin_path ? "/admin" : "/ws"),
	};

	log_event(LOG_INFO, "auth", f, 4);
}

/* Sends {"op":"welcome",...} to a client that has just been admitted. */
static void
send_welcome(struct client *c, const char *id)
{
	const struct config *cfg = c->w->cfg;
	struct reply_limits lim = { cfg->frame_max, cfg->text_max, cfg->rate,
	    cfg->burst, cfg->channels_max };

	client_send_new(c, reply_welcome(id, c->uid, client_name(c),
	    auth_role_name(c->role), client_id(c), c->w->relay->node, &lim));
}

/* The user id and name of a connection not authenticated yet: "" and "". */
static const char no_names[2] = "";

/* Sets c's user id and name (one allocation for both); returns 0 or -1. */
static int
session_set_names(struct client *c, const char *uid, const char *name)
{
	size_t il = strlen(uid), nl = strlen(name);
	char *p = malloc(il + nl + 2);

	if (p == NULL)
		return -1;
	memcpy(p, uid, il + 1);
	memcpy(p + il + 1, name, nl + 1);
	if (c->uid != no_names)
		free((char *)c->uid);
	c->uid = p;
	return 0;
}

/*
 * Authenticates c with a token or (open mode) a guest name, then asks the
 * user's owner to admit it.  id is the auth frame's id ("" for ?token=).
 */
static void
session_auth(struct client *c, const char *token, size_t token_len,
    const char *name, size_t name_len, const char *id)
{
	struct worker *w = c->w;
	const struct config *cfg = w->cfg;
	struct identity ident;
	const char *why = NULL;
	const struct mod_entry *ban;
	struct im_attach *m;

	if (cfg->secret[0] == '\0' && c->admin_path && token != NULL) {
		/* Open mode: /admin takes tokens of the secret made at start. */
		if (w->relay->admin_secret[0] == '\0' ||
		    auth_verify_jwt(token, token_len, w->relay->admin_secret,
		    proto_now_ms() / 1000, &ident, &why) != 0) {
			if (why == NULL)
				why = "no moderators' secret";
			refuse_auth(c, id, ERR_AUTH_FAILED, why);
			return;
		}
	} else if (cfg->secret[0] != '\0') {
		if (token == NULL) {
			refuse_auth(c, id, ERR_AUTH_FAILED,
			    "a token is required");
			return;
		}
		if (auth_verify_jwt(token, token_len, cfg->secret,
		    proto_now_ms() / 1000, &ident, &why) != 0) {
			refuse_auth(c, id, ERR_AUTH_FAILED, why);
			return;
		}
	} else {
		if (token != NULL) {
			refuse_auth(c, id, ERR_AUTH_FAILED,
			    "open mode: authenticate with a name, not a token");
			return;
		}
		if (auth_guest(name, name_len, &ident, &why) != 0) {
			char msg[96];

			snprintf(msg, sizeof msg, "name: %s", why);
			client_send_err(c, id, ERR_BAD_FIELD, msg);
			return;
		}
	}
	if (c->admin_path && ident.role < ROLE_MODERATOR) {
		refuse_auth(c, id, ERR_FORBIDDEN,
		    "/admin needs a moderator or admin token");
		return;
	}
	if ((ban = modstate_banned(&w->mod, ident.id, proto_now_ms())) != NULL) {
		client_send_new(c, reply_err(id, ERR_BANNED, ban->reason[0] ?
		    ban->reason : "you are banned", -1, ban->until));
		client_close(c, 4003, "banned", false, -1);
		return;
	}
	if (session_set_names(c, ident.id, ident.name) != 0) {
		refuse_auth(c, id, ERR_INTERNAL, "out of memory");
		return;
	}
	c->role = (uint8_t)ident.role;
	if (ident.has_chs) {
		c->chs = malloc(sizeof *c->chs);
		if (c->chs == NULL) {
			refuse_auth(c, id, ERR_INTERNAL, "out of memory");
			return;
		}
		*c->chs = ident;
	}
	c->state = CS_AUTH_PENDING;

	m = msg_new(IM_ATTACH);
	if (m == NULL) {
		refuse_auth(c, id, ERR_INTERNAL, "out of memory");
		return;
	}
	msg_origin(&m->from, (uint16_t)w->idx, client_id(c), id);
	strcpy(m->user, c->uid);
	strcpy(m->name, client_name(c));
	bus_attach(w, m);
	if (c->state == CS_AUTH_PENDING && !c->closing && c->wsi != NULL) {
		/* Not answered yet: read nothing more until it is. */
		lws_rx_flow_control(c->wsi, 0);
		c->paused = true;
	}
}

struct client *
session_open(struct worker *w, struct lws *wsi, bool admin, const char *token)
{
	const struct config *cfg = w->cfg;
	int64_t now = worker_now(w);
	struct client *c;

	c = calloc(1, sizeof *c);
	if (c == NULL)
		return NULL;
	c->w = w;
	c->wsi = wsi;
	c->uid = no_names;
	c->admin_path = admin;
	c->connected_ms = (uint32_t)now;
	c->last_rx_ms = (uint32_t)now;
	bucket_init(&c->msg_bucket, cfg->burst, now);
	bucket_init(&c->op_bucket, cfg->burst * OP_BUCKET_FACTOR, now);
	if (worker_add_client(w, c) != 0) {
		free(c);
		return NULL;
	}
	if (log_on(LOG_INFO)) {
		char peer[64];
		struct log_field f[3] = {
			LOG_NUM("session", client_id(c)),
			LOG_STR("peer", peer),
			LOG_STR("path", admin ? "/admin" : "/ws"),
		};

		client_peer(wsi, peer, sizeof peer);
		log_event(LOG_INFO, "connect", f, 3);
	}
	if (token != NULL)
		session_auth(c, token, strlen(token), NULL, 0, "");
	return c;
}

/* Returns true if c may see channel ch (its token's chs, if any). */
static bool
may_join(const struct client *c, const char *ch)
{
	return c->chs == NULL || auth_may_join(c->chs, ch);
}

/*
 * Returns true if c may send to ch (NULL: a whisper) now: not muted, and
 * not before its turn in slow mode (moderators have no turn).  Otherwise
 * answers muted or slow_mode.
 */
static bool
may_speak(struct client *c, const struct request *req, const char *ch)
{
	struct worker *w = c->w;
	const struct mod_entry *e;
	int64_t now, retry;
	char msg[PROTO_REASON_MAX * 4 + 64];

	if (w->mod.mutes.count == 0 && w->mod.slow.count == 0)
		return true;	/* the common case: no clock read */
	now = proto_now_ms();
	if ((e = modstate_muted(&w->mod, c->uid, ch, now)) != NULL) {
		snprintf(msg, sizeof msg, "you are muted%s%s", e->reason[0] ?
		    ": " : "", e->reason);
		worker_count_err(w, ERR_MUTED);
		client_send_new(c, reply_err(req->id, ERR_MUTED, msg, -1,
		    e->until));
		return false;
	}
	if (ch == NULL || c->role >= ROLE_MODERATOR)
		return true;
	if ((retry = modstate_slow_take(&w->mod, c->uid, ch, now)) > 0) {
		snprintf(msg, sizeof msg, "slow mode: one message every %d "
		    "seconds in this channel", modstate_slow_secs(&w->mod, ch));
		worker_count_err(w, ERR_SLOW_MODE);
		client_send_new(c, reply_err(req->id, ERR_SLOW_MODE, msg, retry,
		    -1));
		return false;
	}
	return true;
}

/*
 * Applies the word filter to req's text, once for every recipient.
 * Returns 0 with *text and *len what to send (with the mask policy, a
 * masked copy that *masked holds for the caller to free), or -1 once c has
 * been answered (filtered, internal).
 */
static int
filter_text(struct client *c, const struct request *req, const char **text,
    size_t *len, char **masked)
{
	struct worker *w = c->w;
	bool mask = w->filter_mask;
	size_t mlen = 0;
	int rc;

	*masked = NULL;
	if (w->filter == NULL)
		return 0;
	rc = filter_match(w->filter, *text, *len, mask ? masked : NULL,
	    mask ? &mlen : NULL);
	if (rc == 0)
		return 0;
	if (rc < 0) {
		client_send_err(c, req->id, ERR_INTERNAL, "out of memory");
		return -1;
	}
	metrics_add(&w->stats.filtered, 1);
	if (!mask) {
		client_send_err(c, req->id, ERR_FILTERED,
		    "the text contains a filtered word");
		return -1;
	}
	*text = *masked;
	*len = mlen;
	return 0;
}

/*
 * join: a pending membership here, then the bus is asked (it answers
 * joined).
 */
static void
op_join(struct client *c, const struct request *req)
{
	struct worker *w = c->w;
	bool rejoin = false;
	struct im_join *m;
	int rc;

	if (!may_join(c, req->ch)) {
		client_send_err(c, req->id, ERR_FORBIDDEN,
		    "your token does not allow this channel");
		return;
	}
	if (room_set_find(&c->rooms, req->ch) != NULL)
		rejoin = true;
	else {
		rc = room_join(&w->rooms, &c->rooms, c, req->ch,
		    w->cfg->channels_max, false);
		if (rc == -2) {
			client_send_err(c, req->id, ERR_TOO_MANY_CHANNELS,
			    "channel limit reached");
			return;
		}
		if (rc != 0) {
			client_send_err(c, req->id, ERR_INTERNAL, "out of memory");
			return;
		}
	}
	m = msg_new(IM_JOIN);
	if (m == NULL) {
		if (!rejoin)
			room_leave(&w->rooms, &c->rooms, req->ch);
		client_send_err(c, req->id, ERR_INTERNAL, "out of memory");
		return;
	}
	msg_origin(&m->from, (uint16_t)w->idx, client_id(c), req->id);
	strcpy(m->ch, req->ch);
	strcpy(m->user, c->uid);
	strcpy(m->name, client_name(c));
	m->rejoin = rejoin;
	m->history = req->history;
	m->since = req->since;
	if (req->epoch != NULL)
		strcpy(m->epoch, req->epoch);
	bus_join(w, m);
}

/*
 * Tells the bus that one membership of c's user in ch ended.  It must not
 * be lost (the owner would keep a member that is gone), hence the urgent
 * allocation.
 */
static void
post_leave(struct client *c, const char *ch)
{
	struct im_leave *m = msg_new_urgent(IM_LEAVE);

	if (m == NULL) {
		log_err("out of memory: the leave of %s by %s lost", ch, c->uid);
		return;
	}
	m->worker = (uint16_t)c->w->idx;
	strcpy(m->ch, ch);
	strcpy(m->user, c->uid);
	strcpy(m->name, client_name(c));
	bus_leave(c->w, m);
}

/* leave: the membership ends here at once, and the bus is told. */
static void
op_leave(struct client *c, const struct request *req)
{
	if (room_leave(&c->w->rooms, &c->rooms, req->ch) < 0) {
		client_send_err(c, req->id, ERR_NOT_MEMBER, "not in this channel");
		return;
	}
	client_send_new(c, reply_left(req->id, req->ch));
	post_leave(c, req->ch);
}

/*
 * send: the message's body is built once and handed to the bus to
 * sequence.
 */
static void
op_send(struct client *c, const struct request *req)
{
	const char *text = req->text;
	size_t len, text_len = req->text_len;
	char *body, *masked = NULL;
	struct im_publish *m;

	if (room_set_find(&c->rooms, req->ch) == NULL) {
		client_send_err(c, req->id, ERR_NOT_MEMBER,
		    "join the channel before sending to it");
		return;
	}
	if (!may_speak(c, req, req->ch))
		return;
	if (filter_text(c, req, &text, &text_len, &masked) != 0)
		return;
	/* The msg object minus its head, which the sequencer adds. */
	body = reply_msg_body(req->ch, c->uid, client_name(c), text,
	    text_len, req->meta, req->meta_len, &len);
	free(masked);
	if (body == NULL) {
		client_send_err(c, req->id, ERR_INTERNAL, "out of memory");
		return;
	}
	if (len + MSG_HEAD_MAX > (size_t)c->w->cfg->frame_max - MSG_HEADROOM) {
		free(body);
		client_send_err(c, req->id, ERR_TOO_LONG,
		    "message too large once serialized");
		return;
	}
	m = msg_new(IM_PUBLISH);
	if (m == NULL) {
		free(body);
		client_send_err(c, req->id, ERR_INTERNAL, "out of memory");
		return;
	}
	msg_origin(&m->from, (uint16_t)c->w->idx, client_id(c), req->id);
	strcpy(m->ch, req->ch);
	m->body = body;
	m->len = len;
	m->t0 = uv_hrtime();
	bus_publish(c->w, m);
}

/* whisper: the frame is built once and handed to the user's owner. */
static void
op_whisper(struct client *c, const struct request *req)
{
	const char *text = req->text;
	size_t text_len = req->text_len;
	struct im_whisper *m;
	char *masked = NULL;
	struct frame *f;

	if (!may_speak(c, req, NULL))
		return;
	if (filter_text(c, req, &text, &text_len, &masked) != 0)
		return;
	f = reply_whisper(c->uid, client_name(c), req->to, text, text_len,
	    proto_now_ms());
	free(masked);
	if (f == NULL || frame_payload_len(f) > (size_t)c->w->cfg->frame_max) {
		client_send_err(c, req->id, f == NULL ? ERR_INTERNAL :
		    ERR_TOO_LONG, f == NULL ? "out of memory" :
		    "whisper too large");
		frame_unref(f);
		return;
	}
	m = msg_new(IM_WHISPER);
	if (m == NULL) {
		frame_unref(f);
		client_send_err(c, req->id, ERR_INTERNAL, "out of memory");
		return;
	}
	msg_origin(&m->from, (uint16_t)c->w->idx, client_id(c), req->id);
	m->frame = f;
	strcpy(m->to, req->to);
	bus_whisper(c->w, m);
}

/* history and who: questions for the bus about a channel. */
static void
op_ask(struct client *c, const struct request *req, enum imsg_type type)
{
	struct im_query *m;

	if (!may_join(c, req->ch)) {
		client_send_err(c, req->id, ERR_FORBIDDEN,
		    "your token does not allow this channel");
		return;
	}
	m = msg_new(type);
	if (m == NULL) {
		client_send_err(c, req->id, ERR_INTERNAL, "out of memory");
		return;
	}
	msg_origin(&m->from, (uint16_t)c->w->idx, client_id(c), req->id);
	strcpy(m->ch, req->ch);
	m->limit = req->limit;
	m->since = req->since;
	if (req->epoch != NULL)
		strcpy(m->epoch, req->epoch);
	if (type == IM_HISTORY)
		bus_history(c->w, m);
	else
		bus_who(c->w, m);
}

/*
 * Takes a token from the bucket that covers op.  Returns true if allowed;
 * otherwise answers rate_limited and, after too many in a row, closes c.
 */
static bool
rate_ok(struct client *c, const struct request *req)
{
	const struct config *cfg = c->w->cfg;
	int64_t retry = 0;
	bool ok;

	if (req->op == OP_SEND || req->op == OP_WHISPER ||
	    req->op == OP_ANNOUNCE)
		ok = bucket_take(&c->msg_bucket, cfg->rate, cfg->burst,
		    worker_now(c->w), &retry);
	else
		ok = bucket_take(&c->op_bucket, cfg->rate * OP_BUCKET_FACTOR,
		    cfg->burst * OP_BUCKET_FACTOR, worker_now(c->w), &retry);
	if (ok) {
		c->strikes = 0;
		return true;
	}
	worker_count_err(c->w, ERR_RATE_LIMITED);
	client_send_new(c, reply_err(req->id, ERR_RATE_LIMITED,
	    "too many messages", retry, -1));
	if (++c->strikes >= cfg->rate_strikes_max)
		client_close(c, 4029, "rate limit abuse", false, -1);
	return false;
}

void
session_message(struct client *c, const char *buf, size_t len)
{
	struct proto_error err;
	struct request req;

	if (c->closing)
		return;
	if (proto_parse(buf, len, c->w->cfg, &req, &err) != 0) {
		client_send_err(c, req.id, err.code, err.msg);
		return;
	}
	if (req.op >= OP_ADMIN_FIRST) {
		/* The moderators' ops: only on /admin, with the role for it. */
		if (!c->admin_path || c->role < ROLE_MODERATOR)
			client_send_err(c, req.id, ERR_FORBIDDEN,
			    "a moderator op: needs a moderator token on /admin");
		else if (c->state != CS_READY)
			client_send_err(c, req.id, ERR_AUTH_REQUIRED,
			    "authenticate first");
		else if (rate_ok(c, &req))
			moderation_op(c, &req);
		goto done;
	}
	if (!rate_ok(c, &req))
		goto done;
	if (c->state != CS_READY && req.op != OP_AUTH && req.op != OP_PING) {
		client_send_err(c, req.id, ERR_AUTH_REQUIRED, "authenticate first");
		goto done;
	}
	switch (req.op) {
	case OP_AUTH:
		if (c->state != CS_NEW)
			client_send_err(c, req.id, ERR_BAD_OP,
			    "already authenticated");
		else
			session_auth(c, req.token, req.token_len, req.name,
			    req.name_len, req.id);
		break;
	case OP_JOIN:
		op_join(c, &req);
		break;
	case OP_LEAVE:
		op_leave(c, &req);
		break;
	case OP_SEND:
		op_send(c, &req);
		break;
	case OP_WHISPER:
		op_whisper(c, &req);
		break;
	case OP_HISTORY:
		op_ask(c, &req, IM_HISTORY);
		break;
	case OP_WHO:
		op_ask(c, &req, IM_WHO);
		break;
	case OP_PING:
		client_send_new(c, reply_pong(req.id));
		break;
	case OP_REPORT:
		if (!may_join(c, req.ch))
			client_send_err(c, req.id, ERR_FORBIDDEN,
			    "your token does not allow this channel");
		else
			moderation_report(c, &req);
		break;
	default:
		break;
	}
done:
	proto_request_free(&req);
}

/* Tells the bus that a connection of uid on w is gone (never lost: see post_leave). */
static void
post_detach(struct worker *w, const char *uid)
{
	struct im_detach *m = msg_new_urgent(IM_DETACH);

	if (m == NULL) {
		log_err("out of memory: the detach of %s lost", uid);
		return;
	}
	m->worker = (uint16_t)w->idx;
	strcpy(m->user, uid);
	bus_detach(w, m);
}

void
session_reply(struct worker *w, struct im_to_client *m)
{
	struct client *c = worker_client(w, m->client);

	if (c == NULL || c->closing) {
		/* Admitted after it went: give the count back. */
		if (m->action == ACT_AUTH_OK)
			post_detach(w, m->user);
		return;
	}
	switch (m->action) {
	case ACT_AUTH_OK:
		c->attached = true;
		c->state = CS_READY;
		if (user_index_add(&w->users, c->uid, c) != 0) {
			refuse_auth(c, m->id, ERR_INTERNAL, "out of memory");
			return;
		}
		if (log_on(LOG_INFO))
			log_auth(c);
		send_welcome(c, m->id);
		if (c->paused && c->wsi != NULL) {
			lws_rx_flow_control(c->wsi, 1);
			c->paused = false;
		}
		break;
	case ACT_AUTH_REFUSE:
		c->state = CS_NEW;
		refuse_auth(c, m->id, ERR_FORBIDDEN,
		    "too many connections for this user");
		break;
	case ACT_ACTIVATE:
		if (room_activate(&w->rooms, &c->rooms, c, m->ch) != 0)
			return;	/* left again before the owner answered */
		room_seen(&w->rooms, m->ch, m->frame != NULL ? m->frame->seq : 0);
		client_send(c, m->frame);
		break;
	case ACT_JOIN_FAIL:
		room_leave(&w->rooms, &c->rooms, m->ch);
		client_send(c, m->frame);
		break;
	case ACT_REPORT_FOUND:
	case ACT_REPORT_GONE:
		moderation_report_answer(c, m);
		break;
	default:
		client_send(c, m->frame);
		break;
	}
}

/* room_leave_all callback: tells the channel's owner. */
static void
detach_channel(const char *ch, bool active, void *arg)
{
	post_leave(arg, ch);
}

void
session_detach(struct client *c)
{
	struct worker *w = c->w;

	room_leave_all(&w->rooms, &c->rooms, detach_channel, c);
	moderation_detach(c);
	if (c->attached) {
		user_index_remove(&w->users, c->uid, c);
		post_detach(w, c->uid);
		c->attached = false;
	}
}

void
session_free(struct client *c)
{
	metrics_add(&c->w->stats.closes[c->close_reason], 1);
	if (!c->closing)	/* neither side closed it: the link broke */
		client_log_end(c, 1006, "connection lost", "network");
	session_detach(c);
	client_queue_clear(c);
	worker_remove_client(c->w, c);
	free(c->rx);
	free(c->chs);
	if (c->uid[0] != '\0')
		free((char *)c->uid);
	free(c);
}

/* Returns the ms from t (a loop time cut to 32 bits) to now; right for up to 49 days. */
static int64_t
elapsed(uint32_t t, int64_t now)
{
	return (uint32_t)((uint32_t)now - t);
}

void
session_sweep(struct worker *w, int64_t now)
{
	const struct config *cfg = w->cfg;
	uint32_t i;

	for (i = 0; i < w->clients.nslots; i++) {
		struct client *c = w->clients.slots[i];

		if (c == NULL || c->closing)
			continue;
		if (c->state != CS_READY &&
		    elapsed(c->connected_ms, now) >= cfg->auth_timeout_ms) {
			client_close(c, 4001, "authentication timed out", false,
			    -1);
			continue;
		}
		if (elapsed(c->last_rx_ms, now) >= cfg->idle_timeout_ms) {
			client_close(c, 1000, "idle timeout", false, -1);
			continue;
		}
		if (!c->ping_out &&
		    elapsed(c->last_rx_ms, now) >= cfg->idle_timeout_ms / 2) {
			/* A pong (or anything) counts as activity. */
			client_send_new(c, frame_ping());
			c->ping_out = true;
		}
	}
}
