/*
 * control.c: the control channel (see control.h): sending a command to the
 * cluster, handing it to this instance's workers, and running it.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bus.h"
#include "bus-redis.h"
#include "chan.h"
#include "control.h"
#include "frame.h"
#include "inbox.h"
#include "log.h"
#include "moderation.h"
#include "proto.h"
#include "server.h"
#include "worker.h"

void
control_fanout(struct worker *w, const char *cmd, size_t len)
{
	struct imsg *m;
	int i;

	if (len > CONTROL_MAX) {
		log_warn("control: a command of %zu bytes (more than %d): "
		    "ignored", len, CONTROL_MAX);
		return;
	}
	for (i = 0; i < w->srv->nworkers; i++) {
		m = imsg_new(IM_CONTROL);
		if (m == NULL || (m->body = malloc(len + 1)) == NULL) {
			log_err("out of memory: a control command lost");
			imsg_free(m);
			continue;
		}
		memcpy(m->body, cmd, len);
		m->body[len] = '\0';
		m->body_len = len;
		worker_post(w, i, m);
	}
}

void
control_send(struct worker *w, uint64_t client, const char *id,
    const char *cmd, size_t len)
{
	struct frame *f;

	if (w->redis != NULL) {
		if (bus_redis_control(w, client, id, cmd, len) == 0)
			return;	/* answered when Redis has it */
		worker_count_err(w, ERR_UNAVAILABLE);
		f = proto_err_frame(id, ERR_UNAVAILABLE,
		    "the cluster bus is down", -1, -1);
	} else {
		control_fanout(w, cmd, len);
		f = proto_ok_frame(id);
	}
	bus_to_client(w, w->idx, client, ACT_NONE, NULL, f);
	frame_unref(f);
}

/* Returns the string member `name` of o, or NULL. */
static const char *
get_str(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

void
control_run(struct worker *w, const char *cmd, size_t len)
{
	const char *name, *user, *text, *ch;
	cJSON *o;

	/* Another instance sent it: as careful with it as with a client's. */
	o = cJSON_ParseWithLength(cmd, len);
	if (o == NULL || !cJSON_IsObject(o) || (name = get_str(o, "cmd")) == NULL) {
		log_warn("control: a command that is not JSON with a cmd: ignored");
		cJSON_Delete(o);
		return;
	}
	if (strcmp(name, "kick") == 0) {
		user = get_str(o, "user");
		if (user != NULL && user_id_valid(user, strlen(user)))
			moderation_kick_here(w, user, get_str(o, "reason"));
		else
			log_warn("control: kick without a valid user: ignored");
	} else if (strcmp(name, "announce") == 0) {
		text = get_str(o, "text");
		ch = get_str(o, "ch");
		if (text != NULL &&
		    (ch == NULL || chan_name_valid(ch, strlen(ch))))
			moderation_announce_here(w, text, ch);
		else
			log_warn("control: announce without text: ignored");
	} else
		log_warn("control: unknown command \"%.32s\": ignored", name);
	cJSON_Delete(o);
}
