/*
 * moderation.c: the moderators' ops (see moderation.h).  The connection
 * that asks builds a control command, writes the audit line and sends the
 * command to the cluster; every worker of every instance then runs it on
 * its own connections.
 */
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "client.h"
#include "control.h"
#include "frame.h"
#include "jsonw.h"
#include "log.h"
#include "moderation.h"
#include "proto.h"
#include "users.h"
#include "worker.h"

#define KICK_REASON "kicked by a moderator"

/* Starts a command: {"cmd":NAME,"by":MODERATOR. */
static void
cmd_begin(struct jsonw *jw, const char *name, const struct client *c)
{
	jsonw_init(jw);
	jsonw_lit(jw, "{\"cmd\":\"");
	jsonw_lit(jw, name);
	jsonw_lit(jw, "\",\"by\":");
	jsonw_cstr(jw, c->uid);
}

/* Ends the command and sends it to the cluster; c is answered for req. */
static void
cmd_send(struct jsonw *jw, struct client *c, const struct request *req)
{
	jsonw_lit(jw, "}");
	if (jw->failed || jw->len > CONTROL_MAX)
		client_send_err(c, req->id, jw->failed ? ERR_INTERNAL : ERR_TOO_LONG,
		    jw->failed ? "out of memory" : "the command is too long");
	else
		control_send(c->w, client_id(c), req->id, jw->buf, jw->len);
	jsonw_free(jw);
}

static void
op_kick(struct client *c, const struct request *req)
{
	struct jsonw jw;

	log_notice("audit: %s %s kicks %s: %s", auth_role_name(c->role),
	    c->uid, req->user, req->reason[0] ? req->reason : "(no reason)");
	cmd_begin(&jw, "kick", c);
	jsonw_lit(&jw, ",\"user\":");
	jsonw_cstr(&jw, req->user);
	jsonw_lit(&jw, ",\"reason\":");
	jsonw_cstr(&jw, req->reason);
	cmd_send(&jw, c, req);
}

static void
op_announce(struct client *c, const struct request *req)
{
	struct jsonw jw;

	log_notice("audit: %s %s announces to %s: %s",
	    auth_role_name(c->role), c->uid,
	    req->ch != NULL ? req->ch : "everyone", req->text);
	cmd_begin(&jw, "announce", c);
	jsonw_lit(&jw, ",\"text\":");
	jsonw_str(&jw, req->text, req->text_len);
	if (req->ch != NULL) {
		jsonw_lit(&jw, ",\"ch\":");
		jsonw_cstr(&jw, req->ch);
	}
	cmd_send(&jw, c, req);
}

void
moderation_op(struct client *c, const struct request *req)
{
	switch (req->op) {
	case OP_KICK:
		op_kick(c, req);
		break;
	case OP_ANNOUNCE:
		op_announce(c, req);
		break;
	default:
		client_send_err(c, req->id, ERR_BAD_OP,
		    "this moderation op is not available in this version");
		break;
	}
}

void
moderation_kick_here(struct worker *w, const char *uid, const char *reason)
{
	struct client **v;
	struct client *const *conns;
	uint32_t i, n;

	conns = users_local(w, uid, &n);
	if (n == 0)
		return;
	if (reason == NULL || reason[0] == '\0')
		reason = KICK_REASON;
	/* Closing takes each connection out of the list: close from a copy. */
	v = malloc(n * sizeof *v);
	if (v == NULL) {
		log_err("out of memory: kick of %s not done", uid);
		return;
	}
	memcpy(v, conns, n * sizeof *v);
	for (i = 0; i < n; i++)
		client_close(v[i], 4008, reason, true, -1);
	free(v);
}

void
moderation_announce_here(struct worker *w, const char *text, const char *ch)
{
	struct jsonw jw;
	struct frame *f;
	uint32_t i;

	jsonw_init(&jw);
	jsonw_lit(&jw, "{\"op\":\"notice\",\"text\":");
	jsonw_cstr(&jw, text);
	if (ch != NULL) {
		jsonw_lit(&jw, ",\"ch\":");
		jsonw_cstr(&jw, ch);
	}
	jsonw_lit(&jw, ",\"level\":\"info\"}");
	f = jw.failed ? NULL : frame_text(jw.buf, jw.len);
	jsonw_free(&jw);
	if (f == NULL) {
		log_err("out of memory: an announcement not delivered");
		return;
	}
	if (ch != NULL)
		worker_deliver_channel(w, ch, f, NULL);
	else
		for (i = 0; i < w->nslots; i++) {
			struct client *c = w->slots[i];

			if (c != NULL && c->state == CS_READY && !c->closing)
				client_send(c, f);
		}
	frame_unref(f);
}
