/*
 * control.c: the control channel's commands (see control.h): one table,
 * each entry with how the command is checked and what runs it here.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bus.h"
#include "chan.h"
#include "control.h"
#include "deliver.h"
#include "enforce.h"
#include "jsonw.h"
#include "log.h"
#include "proto.h"
#include "worker.h"

/* Returns the string member `name` of o, or NULL. */
static const char *
get_str(const cJSON *o, const char *name)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* kick: {"user":UID,"reason":R}. */
static int
run_kick(struct worker *w, const cJSON *o)
{
	const char *user = get_str(o, "user");

	if (user == NULL || !user_id_valid(user, strlen(user))) {
		log_warn("control: kick without a valid user: ignored");
		return -1;
	}
	enforce_kick(w, user, get_str(o, "reason"));
	return 0;
}

/* announce: {"text":T[,"ch":CH]}. */
static int
run_announce(struct worker *w, const cJSON *o)
{
	const char *text = get_str(o, "text"), *ch = get_str(o, "ch");

	if (text == NULL || (ch != NULL && !chan_name_valid(ch, strlen(ch)))) {
		log_warn("control: announce without text: ignored");
		return -1;
	}
	enforce_announce(w, text, ch);
	return 0;
}

static const struct {
	const char *name;
	int (*run)(struct worker *w, const cJSON *o);
} commands[] = {
	{ "kick", run_kick },
	{ "announce", run_announce },
};

int
control_run(struct worker *w, const char *cmd, size_t len)
{
	const char *name;
	cJSON *o;
	size_t i;
	int rc = -1;

	if (len > CONTROL_MAX) {
		log_warn("control: a command of %zu bytes (more than %d): "
		    "ignored", len, CONTROL_MAX);
		return -1;
	}
	/* Another instance sent it: as careful with it as with a client's. */
	o = cJSON_ParseWithLength(cmd, len);
	if (o == NULL || !cJSON_IsObject(o) || (name = get_str(o, "cmd")) == NULL) {
		log_warn("control: a command that is not JSON with a cmd: ignored");
		cJSON_Delete(o);
		return -1;
	}
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(name, commands[i].name) == 0)
			break;
	if (i < sizeof commands / sizeof commands[0])
		rc = commands[i].run(w, o);
	else
		log_warn("control: unknown command \"%.32s\": ignored", name);
	cJSON_Delete(o);
	return rc;
}

/* Starts a command: {"cmd":NAME,"by":BY. */
static void
cmd_begin(struct jsonw *jw, const char *name, const char *by)
{
	jsonw_init(jw);
	jsonw_lit(jw, "{\"cmd\":\"");
	jsonw_lit(jw, name);
	jsonw_lit(jw, "\",\"by\":");
	jsonw_cstr(jw, by);
}

/* Ends the command and hands it to the bus; the client is answered. */
static void
cmd_send(struct jsonw *jw, struct worker *w, uint64_t client, const char *id)
{
	struct origin from;

	jsonw_lit(jw, "}");
	if (jw->failed || jw->len > CONTROL_MAX) {
		msg_origin(&from, (uint16_t)w->idx, client, id);
		deliver_reply_err(w, &from, ACT_NONE, NULL, jw->failed ?
		    ERR_INTERNAL : ERR_TOO_LONG, jw->failed ? "out of memory" :
		    "the command is too long");
	} else
		bus_control(w, client, id, jw->buf, jw->len);
	jsonw_free(jw);
}

void
control_kick(struct worker *w, uint64_t client, const char *id,
    const char *by, const char *user, const char *reason)
{
	struct jsonw jw;

	cmd_begin(&jw, "kick", by);
	jsonw_lit(&jw, ",\"user\":");
	jsonw_cstr(&jw, user);
	jsonw_lit(&jw, ",\"reason\":");
	jsonw_cstr(&jw, reason);
	cmd_send(&jw, w, client, id);
}

void
control_announce(struct worker *w, uint64_t client, const char *id,
    const char *by, const char *text, size_t text_len, const char *ch)
{
	struct jsonw jw;

	cmd_begin(&jw, "announce", by);
	jsonw_lit(&jw, ",\"text\":");
	jsonw_str(&jw, text, text_len);
	if (ch != NULL) {
		jsonw_lit(&jw, ",\"ch\":");
		jsonw_cstr(&jw, ch);
	}
	cmd_send(&jw, w, client, id);
}
