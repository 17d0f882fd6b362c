/*
 * moderation.c: the moderators' ops on /admin and the players' reports
 * (see moderation.h).  An action becomes a control command (control.h)
 * that every worker of every instance carries out (enforce.c); a question
 * is gathered from the whole cluster (gather.c); a watch is this worker's
 * (watch.h), with the bus asked for the channels' messages.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "auth.h"
#include "bus.h"
#include "client.h"
#include "control.h"
#include "deliver.h"
#include "frame.h"
#include "gather.h"
#include "log.h"
#include "moderation.h"
#include "modstate.h"
#include "msg.h"
#include "proto.h"
#include "relay.h"
#include "reply.h"
#include "worker.h"

/* Fills what every command of c carries: who, from where, when. */
static void
command_of(struct command *cmd, enum cmd_kind kind, const struct client *c)
{
	memset(cmd, 0, sizeof *cmd);
	cmd->kind = kind;
	cmd->by = c->uid;
	cmd->byname = client_name(c);
	cmd->node = c->w->relay->node;
	cmd->nk = c->w->relay->node_key;
	cmd->ts = proto_now_ms();
}

/* An action on the cluster: kick, mute, ban, announce, slowmode, delete. */
static void
op_action(struct client *c, const struct request *req, enum cmd_kind kind)
{
	struct command cmd;

	command_of(&cmd, kind, c);
	cmd.user = req->user;
	cmd.ch = req->ch;
	cmd.reason = req->reason;
	cmd.text = req->text;
	cmd.text_len = req->text_len;
	cmd.secs = req->secs;
	cmd.seq = req->seq;
	if ((kind == CMD_BAN || kind == CMD_MUTE) && req->secs > 0)
		cmd.until = cmd.ts + req->secs * 1000;
	control_send(c->w, client_id(c), req->id, &cmd, true);
}

/* Sets the count the in-process bus reads to find the watching workers. */
static void
watch_count_changed(struct worker *w)
{
	atomic_store_explicit(&w->nwatch, w->watches.owners,
	    memory_order_relaxed);
}

/* watch: this worker gets the channels' messages for c from now on. */
static void
op_watch(struct client *c, const struct request *req)
{
	struct worker *w = c->w;
	bool had = watch_has_pattern(&w->watches, req->pattern);
	int rc = watch_add(&w->watches, c, req->pattern);

	if (rc == -2) {
		client_send_err(c, req->id, ERR_BAD_FIELD,
		    "ch: at most 32 watches per connection");
		return;
	}
	if (rc < 0) {
		client_send_err(c, req->id, ERR_INTERNAL, "out of memory");
		return;
	}
	if (!had)
		bus_watch(w, req->pattern, true);
	watch_count_changed(w);
	client_send_new(c, reply_ok(req->id));
}

/* unwatch: the end of one of c's watches. */
static void
op_unwatch(struct client *c, const struct request *req)
{
	struct worker *w = c->w;

	if (watch_remove(&w->watches, c, req->pattern) != 0) {
		client_send_err(c, req->id, ERR_BAD_FIELD, "ch: not watched");
		return;
	}
	if (!watch_has_pattern(&w->watches, req->pattern))
		bus_watch(w, req->pattern, false);
	watch_count_changed(w);
	client_send_new(c, reply_ok(req->id));
}

void
moderation_op(struct client *c, const struct request *req)
{
	switch (req->op) {
	case OP_STATS:
		gather_start(c->w, client_id(c), req->id, Q_STATS, NULL, NULL,
		    0);
		break;
	case OP_CHANNELS:
		gather_start(c->w, client_id(c), req->id, Q_CHANNELS, NULL,
		    req->pattern, req->limit);
		break;
	case OP_USER:
		gather_start(c->w, client_id(c), req->id, Q_USER, req->user,
		    NULL, 0);
		break;
	case OP_KICK:
		op_action(c, req, CMD_KICK);
		break;
	case OP_MUTE:
		op_action(c, req, CMD_MUTE);
		break;
	case OP_UNMUTE:
		op_action(c, req, CMD_UNMUTE);
		break;
	case OP_BAN:
		op_action(c, req, CMD_BAN);
		break;
	case OP_UNBAN:
		op_action(c, req, CMD_UNBAN);
		break;
	case OP_ANNOUNCE:
		op_action(c, req, CMD_ANNOUNCE);
		break;
	case OP_SLOWMODE:
		op_action(c, req, CMD_SLOWMODE);
		break;
	case OP_DELETE:
		op_action(c, req, CMD_DELETE);
		break;
	case OP_WATCH:
		op_watch(c, req);
		break;
	case OP_UNWATCH:
		op_unwatch(c, req);
		break;
	default:
		client_send_err(c, req->id, ERR_BAD_OP, "not a moderator op");
		break;
	}
}

/* Ends c's watches (it is closing), and the bus's where nobody else watches. */
static void
unwatch_pattern(const char *pattern, void *arg)
{
	char (**p)[PROTO_PATTERN_MAX + 1] = arg;

	strcpy(**p, pattern);
	(*p)++;
}

void
moderation_detach(struct client *c)
{
	char v[WATCH_PER_OWNER_MAX][PROTO_PATTERN_MAX + 1], (*p)[PROTO_PATTERN_MAX + 1] = v;
	struct worker *w = c->w;
	long i, n;

	if (w->watches.n == 0 || watch_count(&w->watches, c) == 0)
		return;
	watch_each_pattern(&w->watches, c, unwatch_pattern, &p);
	n = p - v;
	(void)watch_remove_owner(&w->watches, c);
	for (i = 0; i < n; i++)
		if (!watch_has_pattern(&w->watches, v[i]))
			bus_watch(w, v[i], false);
	watch_count_changed(w);
}

/* ------------------------------------------------------------- reports */

void
moderation_report(struct client *c, const struct request *req)
{
	struct worker *w = c->w;
	struct mod_pending *p;
	struct im_query *m;
	char key[24];
	int64_t retry, now = proto_now_ms();
	size_t rl = strlen(req->reason);

	retry = modstate_report_take(&w->mod, c->uid, now);
	if (retry > 0) {
		worker_count_err(w, ERR_RATE_LIMITED);
		client_send_new(c, reply_err(req->id, ERR_RATE_LIMITED,
		    "too many reports: wait a little", retry, -1));
		return;
	}
	snprintf(key, sizeof key, "%llu", (unsigned long long)client_id(c));
	free(strmap_del(&w->mod.reports, key));
	m = msg_new(IM_HISTORY);
	p = malloc(sizeof *p + rl + 1);
	if (m == NULL || p == NULL || strmap_put(&w->mod.reports, key, p) != 0) {
		msg_free(&m->hdr);
		free(p);
		client_send_err(c, req->id, ERR_INTERNAL, "out of memory");
		return;
	}
	p->at = now;
	strcpy(p->user, req->user);
	memcpy(p->reason, req->reason, rl + 1);
	msg_origin(&m->from, (uint16_t)w->idx, client_id(c), req->id);
	strcpy(m->ch, req->ch);
	m->lookup = true;
	m->since = req->seq;
	m->limit = 1;
	bus_history(w, m);
}

void
moderation_report_answer(struct client *c, const struct im_to_client *m)
{
	struct worker *w = c->w;
	struct mod_pending *p;
	struct command cmd;
	const cJSON *from;
	cJSON *msg = NULL;
	char key[24];

	snprintf(key, sizeof key, "%llu", (unsigned long long)client_id(c));
	if ((p = strmap_del(&w->mod.reports, key)) == NULL)
		return;		/* answered already */
	command_of(&cmd, CMD_REPORT, c);
	cmd.user = p->user;
	cmd.ch = m->ch;
	cmd.reason = p->reason;
	cmd.seq = m->frame != NULL ? (int64_t)m->frame->seq : 0;
	if (m->action == ACT_REPORT_FOUND && m->frame != NULL &&
	    (msg = cJSON_ParseWithLength(frame_payload(m->frame),
	    frame_payload_len(m->frame))) != NULL) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(msg, "text");

		from = cJSON_GetObjectItemCaseSensitive(msg, "from");
		from = cJSON_GetObjectItemCaseSensitive(from, "id");
		/* The message's own sender is the one reported. */
		if (cJSON_IsString(from) && user_id_valid(from->valuestring,
		    strlen(from->valuestring)))
			cmd.user = from->valuestring;
		if (cJSON_IsString(t)) {
			cmd.text = t->valuestring;
			cmd.text_len = strlen(t->valuestring);
		}
	}
	if (cmd.seq <= 0)
		client_send_err(c, m->id, ERR_INTERNAL, "the report was lost");
	else
		control_send(w, client_id(c), m->id, &cmd, true);
	cJSON_Delete(msg);
	free(p);
}

/* --------------------------------------------------------------- state */

/* Collects the commands of the state (a modstate_each callback). */
struct dump {
	const char **cmds;
	size_t *lens;
	struct store_change *chgs;
	size_t n;
};

static void
dump_one(enum mod_kind kind, const char *uid, const char *ch,
    const struct mod_entry *e, void *arg)
{
	struct dump *d = arg;
	struct command cmd;
	cJSON *root;

	(void)kind;
	(void)uid;
	(void)ch;
	if (control_parse(e->cmd, e->cmd_len, &cmd, &root) != 0)
		return;
	control_store_change(&cmd, &d->chgs[d->n]);
	cJSON_Delete(root);
	d->cmds[d->n] = e->cmd;
	d->lens[d->n] = e->cmd_len;
	d->n++;
}

void
moderation_save(struct worker *w, bool restore)
{
	size_t n = modstate_count(&w->mod);
	struct dump d = { NULL, NULL, NULL, 0 };

	if (n > 0) {
		d.cmds = malloc(n * sizeof *d.cmds);
		d.lens = malloc(n * sizeof *d.lens);
		d.chgs = malloc(n * sizeof *d.chgs);
		if (d.cmds == NULL || d.lens == NULL || d.chgs == NULL) {
			log_err("out of memory: the moderation state not saved");
			goto done;
		}
		modstate_each(&w->mod, proto_now_ms(), dump_one, &d);
	}
	bus_state_save(w, d.cmds, d.lens, d.chgs, d.n, restore);
done:
	free(d.cmds);
	free(d.lens);
	free(d.chgs);
}
