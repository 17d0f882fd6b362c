/*
 * gather.c: the asker's side of the moderators' cluster-wide questions
 * (see gather.h): the question sent, the parts merged into one answer,
 * and the answer sent when complete or overdue.  Each worker's part is
 * gather-part.c's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bus.h"
#include "client.h"
#include "control.h"
#include "deliver.h"
#include "frame.h"
#include "gather.h"
#include "gather-int.h"
#include "jsonw.h"
#include "log.h"
#include "modstate.h"
#include "msg.h"
#include "proto.h"
#include "relay.h"
#include "reply.h"
#include "room.h"
#include "strmap.h"
#include "worker.h"

/* ------------------------------------------------------------ the asker */

/* The question qid of w, or NULL (answered already). */
static struct gather *
find(struct worker *w, int64_t qid)
{
	struct gather *g;

	for (g = w->gathers != NULL ? w->gathers->list : NULL; g != NULL;
	    g = g->next)
		if (g->qid == qid)
			return g;
	return NULL;
}

/* The entry of instance nk in g, added if new; NULL if memory ran out. */
static struct gnode *
node_of(struct gather *g, const char *nk)
{
	struct gnode *v;
	size_t i;

	for (i = 0; i < g->nnodes; i++)
		if (strcmp(g->nodes[i].nk, nk) == 0)
			return &g->nodes[i];
	if (g->nnodes == g->capnodes) {
		size_t cap = g->capnodes ? g->capnodes * 2 : 4;

		if ((v = realloc(g->nodes, cap * sizeof *v)) == NULL)
			return NULL;
		g->nodes = v;
		g->capnodes = cap;
	}
	v = &g->nodes[g->nnodes++];
	memset(v, 0, sizeof *v);
	snprintf(v->nk, sizeof v->nk, "%s", nk);
	return v;
}

/* Returns true if every instance named live has answered in full. */
static bool
complete(const struct gather *g)
{
	size_t i;

	if (!g->nodes_known)
		return false;
	for (i = 0; i < g->nnodes; i++)
		if (g->nodes[i].expected && (g->nodes[i].workers == 0 ||
		    g->nodes[i].got < g->nodes[i].workers))
			return false;
	return true;
}

/* The display name of node key nk (what comes before the boot id). */
static void
node_name(char *buf, size_t len, const char *nk)
{
	size_t n = strcspn(nk, "/");

	snprintf(buf, len, "%.*s", (int)n, nk);
}

/* The number member name of o, or 0. */
static double
num(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(it) ? it->valuedouble : 0;
}

/* The string member name of o, or "". */
static const char *
str(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(it) ? it->valuestring : "";
}

/* Writes "missing":[names of the live instances that did not answer in full]. */
static void
put_missing(struct jsonw *jw, const struct gather *g)
{
	char name[NODE_KEY_MAX + 1];
	size_t i;
	int k = 0;

	jsonw_lit(jw, ",\"missing\":[");
	for (i = 0; i < g->nnodes; i++) {
		const struct gnode *n = &g->nodes[i];

		if (!n->expected && n->got > 0)
			continue;
		if (n->workers != 0 && n->got >= n->workers)
			continue;
		node_name(name, sizeof name, n->nk);
		if (k++)
			jsonw_lit(jw, ",");
		jsonw_cstr(jw, name);
	}
	jsonw_lit(jw, "]");
}

/* stats: each instance's sums, and the cluster's. */
static void
answer_stats(struct jsonw *jw, const struct gather *g)
{
	double tot[5] = { 0 }, v[5];
	static const char *const f[5] = { "conns", "users", "channels", "in",
	    "out" };
	char name[NODE_KEY_MAX + 1], buf[64];
	const char *bus;
	const cJSON *p;
	size_t i;
	int j, k = 0, nodes = 0;

	jsonw_lit(jw, ",\"nodes\":[");
	for (i = 0; i < g->nnodes; i++) {
		if (g->nodes[i].got == 0)
			continue;
		memset(v, 0, sizeof v);
		bus = "";
		cJSON_ArrayForEach(p, g->parts) {
			if (strcmp(str(p, "nk"), g->nodes[i].nk) != 0)
				continue;
			for (j = 0; j < 5; j++)
				v[j] += num(p, f[j]);
			if (bus[0] == '\0' || strcmp(str(p, "bus"), "down") == 0)
				bus = str(p, "bus");
		}
		for (j = 0; j < 5; j++)
			tot[j] += v[j];
		nodes++;
		node_name(name, sizeof name, g->nodes[i].nk);
		jsonw_lit(jw, k++ ? ",{\"node\":" : "{\"node\":");
		jsonw_cstr(jw, name);
		snprintf(buf, sizeof buf, ",\"connections\":%.0f", v[0]);
		jsonw_lit(jw, buf);
		snprintf(buf, sizeof buf, ",\"users\":%.0f", v[1]);
		jsonw_lit(jw, buf);
		snprintf(buf, sizeof buf, ",\"channels\":%.0f", v[2]);
		jsonw_lit(jw, buf);
		snprintf(buf, sizeof buf, ",\"msgs_in_per_s\":%.2f", v[3]);
		jsonw_lit(jw, buf);
		snprintf(buf, sizeof buf, ",\"msgs_out_per_s\":%.2f", v[4]);
		jsonw_lit(jw, buf);
		jsonw_lit(jw, ",\"bus\":");
		jsonw_cstr(jw, bus);
		jsonw_lit(jw, ",\"workers\":");
		jsonw_uint(jw, g->nodes[i].workers);
		jsonw_lit(jw, "}");
	}
	snprintf(buf, sizeof buf, "],\"total\":{\"nodes\":%d", nodes);
	jsonw_lit(jw, buf);
	snprintf(buf, sizeof buf, ",\"connections\":%.0f", tot[0]);
	jsonw_lit(jw, buf);
	snprintf(buf, sizeof buf, ",\"users\":%.0f", tot[1]);
	jsonw_lit(jw, buf);
	snprintf(buf, sizeof buf, ",\"channels\":%.0f", tot[2]);
	jsonw_lit(jw, buf);
	snprintf(buf, sizeof buf, ",\"msgs_in_per_s\":%.2f", tot[3]);
	jsonw_lit(jw, buf);
	snprintf(buf, sizeof buf, ",\"msgs_out_per_s\":%.2f}", tot[4]);
	jsonw_lit(jw, buf);
}

/* A channel as the parts add it up. */
struct chsum {
	char name[CHAN_NAME_MAX + 1];
	uint64_t members, seq;
};

static void
collect_sum(const char *key, void *value, void *arg)
{
	struct chsum ***p = arg;

	(void)key;
	*(*p)++ = value;
}

static int
by_sum(const void *a, const void *b)
{
	const struct chsum *x = *(struct chsum *const *)a;
	const struct chsum *y = *(struct chsum *const *)b;

	if (x->members != y->members)
		return x->members < y->members ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* channels: the parts' channels added up (members summed, the highest seq). */
static void
answer_channels(struct jsonw *jw, const struct gather *g)
{
	struct strmap sums;
	struct chsum **v = NULL, **p, *s;
	const cJSON *part, *e, *chs;
	size_t i;

	strmap_init(&sums);
	cJSON_ArrayForEach(part, g->parts) {
		chs = cJSON_GetObjectItemCaseSensitive(part, "chs");
		cJSON_ArrayForEach(e, chs) {
			const cJSON *n = cJSON_GetArrayItem(e, 0);

			if (!cJSON_IsString(n) || !chan_name_valid(n->valuestring,
			    strlen(n->valuestring)))
				continue;
			s = strmap_get(&sums, n->valuestring);
			if (s == NULL) {
				s = strmap_put_inline(&sums, n->valuestring,
				    sizeof *s);
				if (s == NULL)
					continue;
				strcpy(s->name, n->valuestring);
			}
			if (cJSON_IsNumber(cJSON_GetArrayItem(e, 1)))
				s->members += (uint64_t)
				    cJSON_GetArrayItem(e, 1)->valuedouble;
			if (cJSON_IsNumber(cJSON_GetArrayItem(e, 2)) &&
			    cJSON_GetArrayItem(e, 2)->valuedouble > (double)s->seq)
				s->seq = (uint64_t)
				    cJSON_GetArrayItem(e, 2)->valuedouble;
		}
	}
	jsonw_lit(jw, ",\"channels\":[");
	if (sums.count > 0 && (v = malloc(sums.count * sizeof *v)) != NULL) {
		p = v;
		strmap_each(&sums, collect_sum, &p);
		qsort(v, sums.count, sizeof *v, by_sum);
		for (i = 0; i < sums.count && i < (size_t)g->limit; i++) {
			jsonw_lit(jw, i ? ",{\"ch\":" : "{\"ch\":");
			jsonw_cstr(jw, v[i]->name);
			jsonw_lit(jw, ",\"members\":");
			jsonw_uint(jw, v[i]->members);
			jsonw_lit(jw, ",\"seq\":");
			jsonw_uint(jw, v[i]->seq);
			jsonw_lit(jw, "}");
		}
	}
	jsonw_lit(jw, "]");
	free(v);
	strmap_free(&sums);
}

/*
 * Writes one state entry of the user as JSON: a ban, or (with_ch) a mute
 * with its channel ("ch":null for everywhere).
 */
static void
put_entry(struct jsonw *jw, const struct mod_entry *e, bool with_ch,
    const char *ch)
{
	jsonw_lit(jw, "{");
	if (with_ch) {
		jsonw_lit(jw, "\"ch\":");
		if (ch != NULL)
			jsonw_cstr(jw, ch);
		else
			jsonw_lit(jw, "null");
		jsonw_lit(jw, ",");
	}
	jsonw_lit(jw, "\"until\":");
	jsonw_int(jw, e->until);
	jsonw_lit(jw, ",\"reason\":");
	if (e->reason[0] != '\0')
		jsonw_cstr(jw, e->reason);
	else
		jsonw_lit(jw, "null");
	jsonw_lit(jw, ",\"by\":");
	jsonw_cstr(jw, e->by);
	jsonw_lit(jw, "}");
}

/* Lists the user's mutes (a modstate_each callback). */
struct mutes_of {
	struct jsonw *jw;
	const char *uid;
	int n;
};

static void
put_mute(enum mod_kind kind, const char *uid, const char *ch,
    const struct mod_entry *e, void *arg)
{
	struct mutes_of *m = arg;

	if (kind != MOD_MUTE || strcmp(uid, m->uid) != 0)
		return;
	if (m->n++)
		jsonw_lit(m->jw, ",");
	put_entry(m->jw, e, true, ch);
}

/* user: the user's sessions on every instance, and its ban and mutes. */
static void
answer_user(struct worker *w, struct jsonw *jw, const struct gather *g)
{
	char name[NODE_KEY_MAX + 1];
	const cJSON *part, *s, *ss;
	const struct mod_entry *ban;
	struct mutes_of m = { jw, g->user, 0 };
	int k = 0;

	jsonw_lit(jw, ",\"user\":");
	jsonw_cstr(jw, g->user);
	jsonw_lit(jw, ",\"sessions\":[");
	cJSON_ArrayForEach(part, g->parts) {
		node_name(name, sizeof name, str(part, "nk"));
		ss = cJSON_GetObjectItemCaseSensitive(part, "sessions");
		cJSON_ArrayForEach(s, ss) {
			char *text;

			if (!cJSON_IsObject(s))
				continue;
			/* The part's own object, with the instance's name. */
			cJSON_DeleteItemFromObjectCaseSensitive((cJSON *)s,
			    "node");
			if (cJSON_AddStringToObject((cJSON *)s, "node", name) ==
			    NULL || (text = cJSON_PrintUnformatted(s)) == NULL)
				continue;
			if (k++)
				jsonw_lit(jw, ",");
			jsonw_lit(jw, text);
			cJSON_free(text);
		}
	}
	jsonw_lit(jw, k > 0 ? "],\"online\":true" : "],\"online\":false");
	jsonw_lit(jw, ",\"ban\":");
	ban = modstate_banned(&w->mod, g->user, proto_now_ms());
	if (ban != NULL)
		put_entry(jw, ban, false, NULL);
	else
		jsonw_lit(jw, "null");
	jsonw_lit(jw, ",\"mutes\":[");
	modstate_each(&w->mod, proto_now_ms(), put_mute, &m);
	jsonw_lit(jw, "]");
}

/* Answers g's client with what g has, and forgets g. */
static void
answer(struct worker *w, struct gather *g)
{
	static const char *const names[Q_COUNT] = {
		[Q_STATS] = "stats", [Q_CHANNELS] = "channels",
		[Q_USER] = "user",
	};
	struct gathers *gs = w->gathers;
	struct gather **pp;
	struct jsonw jw;

	for (pp = &gs->list; *pp != NULL; pp = &(*pp)->next)
		if (*pp == g) {
			*pp = g->next;
			break;
		}
	gs->n--;
	jsonw_init(&jw);
	jsonw_lit(&jw, "{\"op\":\"");
	jsonw_lit(&jw, names[g->q]);
	jsonw_lit(&jw, "\"");
	if (g->from.id[0] != '\0') {
		jsonw_lit(&jw, ",\"id\":");
		jsonw_lit(&jw, g->from.id);
	}
	if (g->q == Q_STATS)
		answer_stats(&jw, g);
	else if (g->q == Q_CHANNELS)
		answer_channels(&jw, g);
	else
		answer_user(w, &jw, g);
	put_missing(&jw, g);
	jsonw_lit(&jw, "}");
	if (jw.failed || jw.len > (size_t)w->cfg->frame_max)
		deliver_reply_err(w, &g->from, ACT_NONE, NULL, jw.failed ?
		    ERR_INTERNAL : ERR_TOO_LONG, jw.failed ? "out of memory" :
		    "the answer is larger than frame_max: ask for less");
	else
		deliver_reply(w, &g->from, ACT_NONE, NULL,
		    frame_text(jw.buf, jw.len));
	jsonw_free(&jw);
	cJSON_Delete(g->parts);
	free(g->nodes);
	free(g);
}

/* bus_nodes answered: the instances that should answer g. */
static void
on_nodes(struct worker *w, void *arg, const char *const *nodes, size_t n)
{
	struct gather *g = find(w, (int64_t)(intptr_t)arg);
	struct gnode *gn;
	size_t i;

	if (g == NULL)
		return;
	g->nodes_known = true;
	if (n == 0 && (gn = node_of(g, w->relay->node_key)) != NULL)
		gn->expected = true;	/* the bus is down: this one at least */
	for (i = 0; i < n; i++)
		if ((gn = node_of(g, nodes[i])) != NULL)
			gn->expected = true;
	if (complete(g))
		answer(w, g);
}

void
gather_start(struct worker *w, uint64_t client, const char *id,
    enum query_kind q, const char *user, const char *prefix, int limit)
{
	struct gathers *gs = gather_state(w);
	struct gather *g = NULL;
	struct command cmd;
	struct origin from;
	struct jsonw jw;

	msg_origin(&from, (uint16_t)w->idx, client, id);
	if (gs != NULL && gs->n >= GATHER_MAX) {
		deliver_reply_err(w, &from, ACT_NONE, NULL, ERR_UNAVAILABLE,
		    "too many questions in flight: try again");
		return;
	}
	if (gs == NULL || (g = calloc(1, sizeof *g)) == NULL ||
	    (g->parts = cJSON_CreateArray()) == NULL) {
		free(g);
		deliver_reply_err(w, &from, ACT_NONE, NULL, ERR_INTERNAL,
		    "out of memory");
		return;
	}
	g->qid = ++gs->next_qid;
	g->from = from;
	g->q = q;
	g->limit = limit > 0 ? limit : 20;
	if (user != NULL)
		msg_copy(g->user, sizeof g->user, user);
	if (prefix != NULL)
		msg_copy(g->prefix, sizeof g->prefix, prefix);
	g->deadline = worker_now(w) + GATHER_WAIT_MS;
	g->next = gs->list;
	gs->list = g;
	gs->n++;

	memset(&cmd, 0, sizeof cmd);
	cmd.kind = CMD_QUERY;
	cmd.q = q;
	cmd.qid = g->qid;
	cmd.worker = w->idx;
	cmd.nk = w->relay->node_key;
	cmd.node = w->relay->node;
	cmd.user = q == Q_USER ? g->user : NULL;
	cmd.prefix = q == Q_CHANNELS ? g->prefix : NULL;
	cmd.limit = q == Q_CHANNELS ? g->limit : 0;
	/*
	 * To the cluster through the bus, and to this instance's workers at
	 * once too (so that it answers while the bus is down; a part that
	 * arrives twice counts once).
	 */
	jsonw_init(&jw);
	if (control_encode(&jw, &cmd) == 0)
		(void)deliver_control_workers(w, -1, jw.buf, jw.len, 0);
	jsonw_free(&jw);
	control_send(w, client, id, &cmd, false);
	bus_nodes(w, on_nodes, (void *)(intptr_t)g->qid);
}

void
gather_on_answer(struct worker *w, const char *text, size_t len)
{
	const cJSON *it;
	struct gather *g;
	struct gnode *gn;
	int64_t qid, worker, workers;
	cJSON *part;

	if (len > PART_MAX || (part = cJSON_ParseWithLength(text, len)) == NULL)
		return;
	it = cJSON_GetObjectItemCaseSensitive(part, "qid");
	qid = cJSON_IsNumber(it) ? (int64_t)it->valuedouble : -1;
	worker = (int64_t)num(part, "worker");
	workers = (int64_t)num(part, "workers");
	if ((g = find(w, qid)) == NULL || str(part, "nk")[0] == '\0' ||
	    strlen(str(part, "nk")) > NODE_KEY_MAX || worker < 0 ||
	    worker >= 64 || workers < 1 || workers > 64 ||
	    (gn = node_of(g, str(part, "nk"))) == NULL ||
	    (gn->seen & (UINT64_C(1) << worker)) != 0) {
		cJSON_Delete(part);	/* late, unknown, bad, or a duplicate */
		return;
	}
	gn->seen |= UINT64_C(1) << worker;
	gn->got++;
	gn->workers = (uint32_t)workers;
	cJSON_AddItemToArray(g->parts, part);
	if (complete(g))
		answer(w, g);
}

void
gather_tick(struct worker *w, int64_t now)
{
	struct gathers *gs = gather_state(w);
	struct gather *g, *next;

	if (gs == NULL)
		return;
	gather_sample(w, gs, now);
	for (g = gs->list; g != NULL; g = next) {
		next = g->next;
		if (now >= g->deadline)
			answer(w, g);
	}
}

void
gather_free(struct worker *w)
{
	struct gathers *gs = w->gathers;
	struct gather *g, *next;

	if (gs == NULL)
		return;
	for (g = gs->list; g != NULL; g = next) {
		next = g->next;
		cJSON_Delete(g->parts);
		free(g->nodes);
		free(g);
	}
	free(gs);
	w->gathers = NULL;
}
