/*
 * gather.c: the moderators' cluster-wide questions (see gather.h): each
 * worker's part, and the asker's merge of the parts into one answer.
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

#define RATE_SAMPLES 6		/* one a second: the rates cover 5 s */
#define RATE_PERIOD_MS 1000
#define PART_MAX 65536		/* bytes of one part */
#define PART_CHANNELS_MAX 400	/* channels in one part (of about 150 bytes at most) */
#define NODE_KEY_MAX 79

/* One instance's answer to a question, as it arrives. */
struct gnode {
	char nk[NODE_KEY_MAX + 1];
	bool expected;		/* bus_nodes named it */
	uint32_t workers;	/* its parts, as its parts say (0: none yet) */
	uint64_t seen;		/* the workers whose part arrived (bits) */
	uint32_t got;
};

struct gather {
	struct gather *next;
	int64_t qid;
	struct origin from;
	enum query_kind q;
	char user[USER_ID_MAX + 1];
	char prefix[CHAN_NAME_MAX + 1];
	int limit;
	int64_t deadline;	/* loop ms */
	bool nodes_known;
	struct gnode *nodes;
	size_t nnodes, capnodes;
	cJSON *parts;		/* the parts received, an array */
};

/* A worker's questions and message-rate samples (w->gathers). */
struct gathers {
	struct gather *list;
	int n;
	int64_t next_qid;
	int64_t t[RATE_SAMPLES];
	uint64_t in[RATE_SAMPLES], out[RATE_SAMPLES];
	int head, count;
};

/* w's state, made on first use; NULL if memory ran out. */
static struct gathers *
state(struct worker *w)
{
	if (w->gathers == NULL)
		w->gathers = calloc(1, sizeof *w->gathers);
	return w->gathers;
}

/* ---------------------------------------------------------- the rates */

/* Returns the sum over counters at offset off in each worker's stats... of w alone. */
static void
sample(struct worker *w, struct gathers *gs, int64_t now)
{
	int i = (gs->head + gs->count) % RATE_SAMPLES;

	if (gs->count == RATE_SAMPLES) {
		gs->head = (gs->head + 1) % RATE_SAMPLES;
		i = (gs->head + RATE_SAMPLES - 1) % RATE_SAMPLES;
	} else
		gs->count++;
	gs->t[i] = now;
	gs->in[i] = atomic_load_explicit(&w->stats.published,
	    memory_order_relaxed);
	gs->out[i] = atomic_load_explicit(&w->stats.delivered,
	    memory_order_relaxed);
}

/* This worker's messages in and out per second, over the samples kept. */
static void
rates(const struct gathers *gs, double *in, double *out)
{
	int a = gs->head, b = (gs->head + gs->count - 1) % RATE_SAMPLES;
	double dt;

	*in = *out = 0;
	if (gs->count < 2 || (dt = (double)(gs->t[b] - gs->t[a]) / 1000) <= 0)
		return;
	*in = (double)(gs->in[b] - gs->in[a]) / dt;
	*out = (double)(gs->out[b] - gs->out[a]) / dt;
}

/* ------------------------------------------------------ a worker's part */

/* Starts a part: {"qid":Q,"nk":NK,"node":N,"worker":I,"workers":W. */
static void
part_begin(struct jsonw *jw, struct worker *w, int64_t qid)
{
	jsonw_init(jw);
	jsonw_lit(jw, "{\"qid\":");
	jsonw_int(jw, qid);
	jsonw_lit(jw, ",\"nk\":");
	jsonw_cstr(jw, w->relay->node_key);
	jsonw_lit(jw, ",\"node\":");
	jsonw_cstr(jw, w->relay->node);
	jsonw_lit(jw, ",\"worker\":");
	jsonw_int(jw, w->idx);
	jsonw_lit(jw, ",\"workers\":");
	jsonw_int(jw, w->relay->nworkers);
}

/* Writes a double with 2 decimals. */
static void
put_rate(struct jsonw *jw, double v)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%.2f", v);
	jsonw_lit(jw, buf);
}

/* stats: this worker's connections, owned users and channels, rates. */
static void
part_stats(struct worker *w, struct jsonw *jw)
{
	struct gathers *gs = state(w);
	double in = 0, out = 0;

	if (gs != NULL)
		rates(gs, &in, &out);
	jsonw_lit(jw, ",\"conns\":");
	jsonw_uint(jw, w->clients.count);
	jsonw_lit(jw, ",\"users\":");
	jsonw_int(jw, atomic_load(&w->stats.users));
	jsonw_lit(jw, ",\"channels\":");
	jsonw_int(jw, atomic_load(&w->stats.channels));
	jsonw_lit(jw, ",\"in\":");
	put_rate(jw, in);
	jsonw_lit(jw, ",\"out\":");
	put_rate(jw, out);
	jsonw_lit(jw, ",\"bus\":");
	jsonw_cstr(jw, w->relay->hooks->health(w->relay));
}

/* The rooms of a worker with their members, for part_channels. */
struct room_list {
	const char *prefix;
	size_t plen;
	struct room **v;
	size_t n, cap;
};

static void
collect_room(const char *key, void *value, void *arg)
{
	struct room_list *l = arg;
	struct room *r = value;
	void *v;

	if (r->n == 0 || strncmp(key, l->prefix, l->plen) != 0)
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		if ((v = realloc(l->v, l->cap * sizeof *l->v)) == NULL) {
			l->cap = l->n;
			return;
		}
		l->v = v;
	}
	l->v[l->n++] = r;
}

/* Busiest first, then by name. */
static int
by_members(const void *a, const void *b)
{
	const struct room *x = *(struct room *const *)a;
	const struct room *y = *(struct room *const *)b;

	if (x->n != y->n)
		return x->n < y->n ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* channels: this worker's busiest channels (local members, last seq seen). */
static void
part_channels(struct worker *w, struct jsonw *jw, const struct command *cmd)
{
	struct room_list l = { cmd->prefix != NULL ? cmd->prefix : "", 0,
	    NULL, 0, 0 };
	size_t i, cap;

	l.plen = strlen(l.prefix);
	strmap_each(&w->rooms.rooms, collect_room, &l);
	if (l.n > 1)
		qsort(l.v, l.n, sizeof *l.v, by_members);
	/*
	 * More than asked, so that a channel spread over several workers
	 * ranks by its sum; bounded so a part stays well under PART_MAX.
	 */
	cap = (size_t)cmd->limit * 4 < PART_CHANNELS_MAX ?
	    (size_t)cmd->limit * 4 : PART_CHANNELS_MAX;
	jsonw_lit(jw, ",\"chs\":[");
	for (i = 0; i < l.n && i < cap; i++) {
		jsonw_lit(jw, i ? ",[" : "[");
		jsonw_cstr(jw, l.v[i]->name);
		jsonw_lit(jw, ",");
		jsonw_uint(jw, l.v[i]->n);
		jsonw_lit(jw, ",");
		jsonw_uint(jw, l.v[i]->last_seq);
		jsonw_lit(jw, "]");
	}
	jsonw_lit(jw, "]");
	free(l.v);
}

/* user: the user's connections on this worker, with their channels. */
static void
part_user(struct worker *w, struct jsonw *jw, const struct command *cmd)
{
	struct client *const *v;
	uint32_t i, j, n, k;

	v = user_index_get(&w->users, cmd->user, &n);
	jsonw_lit(jw, ",\"sessions\":[");
	for (i = 0; i < n; i++) {
		const struct client *c = v[i];

		jsonw_lit(jw, i ? ",{\"session\":" : "{\"session\":");
		jsonw_uint(jw, client_id(c));
		jsonw_lit(jw, ",\"name\":");
		jsonw_cstr(jw, client_name(c));
		jsonw_lit(jw, ",\"role\":");
		jsonw_cstr(jw, auth_role_name(c->role));
		jsonw_lit(jw, c->admin_path ? ",\"admin\":true" :
		    ",\"admin\":false");
		jsonw_lit(jw, ",\"channels\":[");
		for (j = k = 0; j < c->rooms.n; j++) {
			const struct room_link *rl = &c->rooms.links[j];

			if (rl->room == NULL || !rl->active)
				continue;
			if (k++)
				jsonw_lit(jw, ",");
			jsonw_cstr(jw, rl->room->name);
		}
		jsonw_lit(jw, "]}");
	}
	jsonw_lit(jw, "]");
}

void
gather_on_query(struct worker *w, const struct command *cmd)
{
	struct jsonw jw;

	part_begin(&jw, w, cmd->qid);
	switch (cmd->q) {
	case Q_STATS:
		part_stats(w, &jw);
		break;
	case Q_CHANNELS:
		part_channels(w, &jw, cmd);
		break;
	default:
		part_user(w, &jw, cmd);
		break;
	}
	jsonw_lit(&jw, "}");
	if (jw.failed || jw.len > PART_MAX)
		log_warn("a part of an answer to a moderator could not be "
		    "made (%s)", jw.failed ? "out of memory" : "too long");
	else
		bus_answer(w, cmd->nk, (int)cmd->worker, jw.buf, jw.len);
	jsonw_free(&jw);
}

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

/* Writes one state entry of the user as JSON (ban or mute). */
static void
put_entry(struct jsonw *jw, const struct mod_entry *e, const char *ch)
{
	if (ch != NULL) {
		jsonw_lit(jw, "{\"ch\":");
		jsonw_cstr(jw, ch);
		jsonw_lit(jw, ",\"until\":");
	} else
		jsonw_lit(jw, "{\"until\":");
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
	if (ch == NULL) {
		jsonw_lit(m->jw, "{\"ch\":null,");
		/* put_entry without ch, its "{" dropped. */
		jsonw_lit(m->jw, "\"until\":");
		jsonw_int(m->jw, e->until);
		jsonw_lit(m->jw, ",\"reason\":");
		if (e->reason[0] != '\0')
			jsonw_cstr(m->jw, e->reason);
		else
			jsonw_lit(m->jw, "null");
		jsonw_lit(m->jw, ",\"by\":");
		jsonw_cstr(m->jw, e->by);
		jsonw_lit(m->jw, "}");
	} else
		put_entry(m->jw, e, ch);
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
		put_entry(jw, ban, NULL);
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
	struct gathers *gs = state(w);
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
	struct gathers *gs = state(w);
	struct gather *g, *next;

	if (gs == NULL)
		return;
	if (gs->count == 0 ||
	    now - gs->t[(gs->head + gs->count - 1) % RATE_SAMPLES] >=
	    RATE_PERIOD_MS)
		sample(w, gs, now);
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
