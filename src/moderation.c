/*
 * moderation.c: the moderators' ops on /admin (see moderation.h).  The
 * connection that asks writes the audit line and sends a control command
 * (control.h) to the cluster; every worker of every instance then carries
 * it out on its own connections (enforce.c).
 */
#include "auth.h"
#include "client.h"
#include "control.h"
#include "log.h"
#include "moderation.h"
#include "proto.h"
#include "worker.h"

static void
op_kick(struct client *c, const struct request *req)
{
	log_notice("audit: %s %s kicks %s: %s", auth_role_name(c->role),
	    c->uid, req->user, req->reason[0] ? req->reason : "(no reason)");
	control_kick(c->w, client_id(c), req->id, c->uid, req->user,
	    req->reason);
}

static void
op_announce(struct client *c, const struct request *req)
{
	log_notice("audit: %s %s announces to %s: %s",
	    auth_role_name(c->role), c->uid,
	    req->ch != NULL ? req->ch : "everyone", req->text);
	control_announce(c->w, client_id(c), req->id, c->uid, req->text,
	    req->text_len, req->ch);
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
