/*
 * session.c: one connection's view of the player protocol.
 *
 * A client frame is parsed and validated (proto.c), checked against the
 * connection's state (authenticated? a member?) and rate limits, and then
 * either answered at once or handed to the worker that owns the channel or
 * user concerned.  Replies come back as IM_TO_CLIENT messages.
 */
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>
#include <uv.h>

#include "bus.h"
#include "bus-redis.h"
#include "client.h"
#include "config.h"
#include "frame.h"
#include "inbox.h"
#include "jsonw.h"
#include "log.h"
#include "moderation.h"
#include "proto.h"
#include "server.h"
#include "session.h"
#include "users.h"
#include "worker.h"

/*
 * Bytes kept free in a msg frame so that any reply quoting it (history,
 * joined) still fits in frame_max with its own fields around it.
 */
#define MSG_HEADROOM 640

/* Sends err auth_failed (or another code), then closes with 4001. */
static void
refuse_auth(struct client *c, const char *id, enum errcode code,
    const char *msg)
{
	client_send_err(c, id, code, msg);
	client_close(c, 4001, msg, false, -1);
}

/* Sends {"op":"welcome",...} to a client that has just been admitted. */
static void
send_welcome(struct client *c, const char *id)
{
	const struct config *cfg = c->w->cfg;
	struct jsonw jw;

	jsonw_init(&jw);
	jsonw_lit(&jw, "{\"op\":\"welcome\"");
	if (id[0] != '\0') {
		jsonw_lit(&jw, ",\"id\":");
		jsonw_lit(&jw, id);
	}
	jsonw_lit(&jw, ",\"user\":{\"id\":");
	jsonw_cstr(&jw, c->uid);
	jsonw_lit(&jw, ",\"name\":");
	jsonw_cstr(&jw, client_name(c));
	jsonw_lit(&jw, ",\"role\":\"");
	jsonw_lit(&jw, auth_role_name(c->role));
	jsonw_lit(&jw, "\"},\"session\":");
	jsonw_uint(&jw, client_id(c));
	jsonw_lit(&jw, ",\"node\":");
	jsonw_cstr(&jw, c->w->srv->node);
	jsonw_lit(&jw, ",\"limits\":{\"frame\":");
	jsonw_int(&jw, cfg->frame_max);
	jsonw_lit(&jw, ",\"text\":");
	jsonw_int(&jw, cfg->text_max);
	jsonw_lit(&jw, ",\"rate\":");
	jsonw_int(&jw, cfg->rate);
	jsonw_lit(&jw, ",\"burst\":");
	jsonw_int(&jw, cfg->burst);
	jsonw_lit(&jw, ",\"channels\":");
	jsonw_int(&jw, cfg->channels_max);
	jsonw_lit(&jw, "}}");
	if (!jw.failed)
		client_send_new(c, frame_text(jw.buf, jw.len));
	jsonw_free(&jw);
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
	struct imsg *m;
	int owner;

	if (cfg->secret[0] != '\0') {
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

	m = imsg_new(IM_USER_ATTACH);
	if (m == NULL) {
		refuse_auth(c, id, ERR_INTERNAL, "out of memory");
		return;
	}
	m->worker = (uint16_t)w->idx;
	m->client = client_id(c);
	strcpy(m->user, c->uid);
	strcpy(m->name, client_name(c));
	strcpy(m->id, id);
	owner = worker_owner(w, c->uid);
	if ((owner != w->idx || w->redis != NULL) && c->wsi != NULL) {
		/* Read nothing more until the owner (or Redis) answers. */
		lws_rx_flow_control(c->wsi, 0);
		c->paused = true;
	}
	worker_post(w, owner, m);
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
	bucket_init(&c->op_bucket, cfg->burst * 10, now);
	if (worker_add_client(w, c) != 0) {
		free(c);
		return NULL;
	}
	if (token != NULL)
		session_auth(c, token, strlen(token), NULL, 0, "");
	return c;
}

/* Makes a message for a channel's owner about c's request. */
static struct imsg *
channel_msg(struct client *c, enum imsg_type type, const struct request *req)
{
	struct imsg *m = imsg_new(type);

	if (m == NULL)
		return NULL;
	m->worker = (uint16_t)c->w->idx;
	m->client = client_id(c);
	strcpy(m->ch, req->ch);
	strcpy(m->user, c->uid);
	strcpy(m->name, client_name(c));
	strcpy(m->id, req->id);
	return m;
}

/* Returns true if c may see channel ch (its token's chs, if any). */
static bool
may_join(const struct client *c, const char *ch)
{
	return c->chs == NULL || auth_may_join(c->chs, ch);
}

static void
op_join(struct client *c, const struct request *req)
{
	struct worker *w = c->w;
	bool rejoin = false;
	struct imsg *m;
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
	m = channel_msg(c, IM_JOIN, req);
	if (m == NULL) {
		if (!rejoin)
			room_leave(&w->rooms, &c->rooms, req->ch);
		client_send_err(c, req->id, ERR_INTERNAL, "out of memory");
		return;
	}
	m->flag = rejoin;
	m->count = req->history;
	m->since = req->since;
	worker_post(w, worker_owner(w, req->ch), m);
}

/* Tells the owner of ch that one membership of c's user on this worker ended. */
static void
post_leave(struct client *c, const char *ch)
{
	struct imsg *m = imsg_new(IM_LEAVE);

	if (m == NULL) {
		log_err("out of memory: leave of %s lost", ch);
		return;
	}
	m->worker = (uint16_t)c->w->idx;
	m->client = client_id(c);
	strcpy(m->ch, ch);
	strcpy(m->user, c->uid);
	strcpy(m->name, client_name(c));
	worker_post(c->w, worker_owner(c->w, ch), m);
}

static void
op_leave(struct client *c, const struct request *req)
{
	struct jsonw jw;

	if (room_leave(&c->w->rooms, &c->rooms, req->ch) < 0) {
		client_send_err(c, req->id, ERR_NOT_MEMBER, "not in this channel");
		return;
	}
	jsonw_init(&jw);
	jsonw_lit(&jw, "{\"op\":\"left\"");
	if (req->id[0] != '\0') {
		jsonw_lit(&jw, ",\"id\":");
		jsonw_lit(&jw, req->id);
	}
	jsonw_lit(&jw, ",\"ch\":");
	jsonw_cstr(&jw, req->ch);
	jsonw_lit(&jw, "}");
	if (!jw.failed)
		client_send_new(c, frame_text(jw.buf, jw.len));
	jsonw_free(&jw);
	post_leave(c, req->ch);
}

/* Appends "from":{"id":..,"name":..} for c. */
static void
put_from(struct jsonw *jw, const struct client *c)
{
	jsonw_lit(jw, "\"from\":{\"id\":");
	jsonw_cstr(jw, c->uid);
	jsonw_lit(jw, ",\"name\":");
	jsonw_cstr(jw, client_name(c));
	jsonw_lit(jw, "}");
}

static void
op_send(struct client *c, const struct request *req)
{
	struct jsonw jw;
	struct imsg *m;

	if (room_set_find(&c->rooms, req->ch) == NULL) {
		client_send_err(c, req->id, ERR_NOT_MEMBER,
		    "join the channel before sending to it");
		return;
	}
	/* The msg object minus its head ({"op":"msg","seq":N,"ts":T,), which the owner adds. */
	jsonw_init(&jw);
	jsonw_lit(&jw, "\"ch\":");
	jsonw_cstr(&jw, req->ch);
	jsonw_lit(&jw, ",");
	put_from(&jw, c);
	jsonw_lit(&jw, ",\"text\":");
	jsonw_str(&jw, req->text, req->text_len);
	if (req->meta != NULL) {
		jsonw_lit(&jw, ",\"meta\":");
		jsonw_raw(&jw, req->meta, req->meta_len);
	}
	jsonw_lit(&jw, "}");
	if (jw.failed) {
		jsonw_free(&jw);
		client_send_err(c, req->id, ERR_INTERNAL, "out of memory");
		return;
	}
	if (jw.len + 64 > (size_t)c->w->cfg->frame_max - MSG_HEADROOM) {
		jsonw_free(&jw);
		client_send_err(c, req->id, ERR_TOO_LONG,
		    "message too large once serialized");
		return;
	}
	if (c->w->redis != NULL) {
		/* Redis sequences it; the owner worker fans it out from there. */
		bus_redis_publish(c->w, client_id(c), req->ch, jw.buf, jw.len,
		    req->id);
		jsonw_free(&jw);
		return;
	}
	m = channel_msg(c, IM_PUBLISH, req);
	if (m == NULL || (m->body = malloc(jw.len)) == NULL) {
		imsg_free(m);
		jsonw_free(&jw);
		client_send_err(c, req->id, ERR_INTERNAL, "out of memory");
		return;
	}
	memcpy(m->body, jw.buf, jw.len);
	m->body_len = jw.len;
	m->t0 = uv_hrtime();
	jsonw_free(&jw);
	worker_post(c->w, worker_owner(c->w, req->ch), m);
}

static void
op_whisper(struct client *c, const struct request *req)
{
	struct jsonw jw;
	struct imsg *m;

	jsonw_init(&jw);
	jsonw_lit(&jw, "{\"op\":\"whisper\",");
	put_from(&jw, c);
	jsonw_lit(&jw, ",\"to\":");
	jsonw_cstr(&jw, req->to);
	jsonw_lit(&jw, ",\"text\":");
	jsonw_str(&jw, req->text, req->text_len);
	jsonw_lit(&jw, ",\"ts\":");
	jsonw_int(&jw, proto_now_ms());
	jsonw_lit(&jw, "}");
	if (jw.failed || jw.len > (size_t)c->w->cfg->frame_max) {
		client_send_err(c, req->id, jw.failed ? ERR_INTERNAL : ERR_TOO_LONG,
		    jw.failed ? "out of memory" : "whisper too large");
		jsonw_free(&jw);
		return;
	}
	m = imsg_new(IM_WHISPER);
	if (m == NULL || (m->frame = frame_text(jw.buf, jw.len)) == NULL) {
		imsg_free(m);
		jsonw_free(&jw);
		client_send_err(c, req->id, ERR_INTERNAL, "out of memory");
		return;
	}
	jsonw_free(&jw);
	m->worker = (uint16_t)c->w->idx;
	m->client = client_id(c);
	strcpy(m->user, req->to);
	strcpy(m->id, req->id);
	worker_post(c->w, worker_owner(c->w, req->to), m);
}

/* history and who: questions for the channel's owner. */
static void
op_ask(struct client *c, const struct request *req, enum imsg_type type)
{
	struct imsg *m;

	if (!may_join(c, req->ch)) {
		client_send_err(c, req->id, ERR_FORBIDDEN,
		    "your token does not allow this channel");
		return;
	}
	m = channel_msg(c, type, req);
	if (m == NULL) {
		client_send_err(c, req->id, ERR_INTERNAL, "out of memory");
		return;
	}
	m->count = req->limit;
	m->since = req->since;
	worker_post(c->w, worker_owner(c->w, req->ch), m);
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
		ok = bucket_take(&c->op_bucket, cfg->rate * 10,
		    cfg->burst * 10, worker_now(c->w), &retry);
	if (ok) {
		c->strikes = 0;
		return true;
	}
	worker_count_err(c->w, ERR_RATE_LIMITED);
	client_send_new(c, proto_err_frame(req->id, ERR_RATE_LIMITED,
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
		client_send_new(c, proto_pong_frame(req.id));
		break;
	default:
		break;
	}
done:
	proto_request_free(&req);
}

/* Tells the user's owner that a connection of uid on w is gone. */
static void
post_detach(struct worker *w, const char *uid)
{
	struct imsg *m = imsg_new(IM_USER_DETACH);

	if (m == NULL) {
		log_err("out of memory: detach of a user lost");
		return;
	}
	m->worker = (uint16_t)w->idx;
	strcpy(m->user, uid);
	worker_post(w, worker_owner(w, uid), m);
}

void
session_reply(struct worker *w, struct imsg *m)
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
		if (users_local_add(w, c) != 0) {
			refuse_auth(c, m->id, ERR_INTERNAL, "out of memory");
			return;
		}
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
		client_send(c, m->frame);
		break;
	case ACT_JOIN_FAIL:
		room_leave(&w->rooms, &c->rooms, m->ch);
		client_send(c, m->frame);
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
	if (c->attached) {
		users_local_remove(w, c);
		post_detach(w, c->uid);
		c->attached = false;
	}
}

void
session_free(struct client *c)
{
	stat_add(&c->w->stats.closes[c->close_reason], 1);
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

	for (i = 0; i < w->nslots; i++) {
		struct client *c = w->slots[i];

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
