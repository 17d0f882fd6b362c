/*
 * reply.c: every frame the relay sends, built from plain values.
 *
 * Each builder appends pieces to a jsonw and makes one frame at the end; an
 * allocation that fails anywhere on the way shows only there, as NULL (or
 * -1).  The joined and history replies copy history entries' payloads,
 * already serialized, into as many frames as frame_max needs.
 */
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "history.h"
#include "jsonw.h"
#include "proto.h"
#include "reply.h"

/*
 * Bytes an entry of a msgs array is counted for beyond its payload and its
 * comma: room for what closes the frame (],"more":false}) and more.
 */
#define ENTRY_SLACK 64

/* Bytes of a who reply kept for what follows the members (],"count":N}). */
#define WHO_SLACK 48

/* Appends ,"id":ID (ID is JSON text, copied raw) unless id is NULL or "". */
static void
put_id(struct jsonw *w, const char *id)
{
	if (id != NULL && id[0] != '\0') {
		jsonw_lit(w, ",\"id\":");
		jsonw_lit(w, id);
	}
}

/* Starts a reply to a request about a channel: {"op":OP,"id":ID,"ch":CH */
static void
put_head(struct jsonw *w, const char *op, const char *id, const char *ch)
{
	jsonw_lit(w, "{\"op\":\"");
	jsonw_lit(w, op);
	jsonw_lit(w, "\"");
	put_id(w, id);
	jsonw_lit(w, ",\"ch\":");
	jsonw_cstr(w, ch);
}

/* Appends {"id":UID,"name":NAME}. */
static void
put_user(struct jsonw *w, const char *uid, const char *name)
{
	jsonw_lit(w, "{\"id\":");
	jsonw_cstr(w, uid);
	jsonw_lit(w, ",\"name\":");
	jsonw_cstr(w, name);
	jsonw_lit(w, "}");
}

/* Turns the writer's contents into a frame (NULL if out of memory) and releases the writer. */
static struct frame *
finish(struct jsonw *w)
{
	struct frame *f = NULL;

	if (!w->failed)
		f = frame_text(w->buf, w->len);
	jsonw_free(w);
	return f;
}

/* Appends ,"epoch":E when epoch is not NULL or empty (epochs are hex: no escaping). */
static void
put_epoch(struct jsonw *w, const char *epoch)
{
	if (epoch == NULL || epoch[0] == '\0')
		return;
	jsonw_lit(w, ",\"epoch\":\"");
	jsonw_lit(w, epoch);
	jsonw_lit(w, "\"");
}

struct frame *
reply_err(const char *id, enum errcode code, const char *msg,
    int64_t retry_ms, int64_t until)
{
	struct jsonw w;

	jsonw_init(&w);
	jsonw_lit(&w, "{\"op\":\"err\"");
	put_id(&w, id);
	jsonw_lit(&w, ",\"code\":\"");
	jsonw_lit(&w, proto_errcode_name(code));
	jsonw_lit(&w, "\",\"msg\":");
	jsonw_cstr(&w, msg != NULL ? msg : "");
	if (retry_ms >= 0) {
		jsonw_lit(&w, ",\"retry_ms\":");
		jsonw_int(&w, retry_ms);
	}
	if (until >= 0) {
		jsonw_lit(&w, ",\"until\":");
		jsonw_int(&w, until);
	}
	jsonw_lit(&w, "}");
	return finish(&w);
}

struct frame *
reply_ok(const char *id)
{
	struct jsonw w;

	jsonw_init(&w);
	jsonw_lit(&w, "{\"op\":\"ok\"");
	put_id(&w, id);
	jsonw_lit(&w, "}");
	return finish(&w);
}

struct frame *
reply_ok_seq(const char *id, const char *ch, uint64_t seq, int64_t ts,
    const char *epoch)
{
	struct jsonw w;

	jsonw_init(&w);
	put_head(&w, "ok", id, ch);
	jsonw_lit(&w, ",\"seq\":");
	jsonw_uint(&w, seq);
	jsonw_lit(&w, ",\"ts\":");
	jsonw_int(&w, ts);
	put_epoch(&w, epoch);
	jsonw_lit(&w, "}");
	return finish(&w);
}

struct frame *
reply_pong(const char *id)
{
	struct jsonw w;

	jsonw_init(&w);
	jsonw_lit(&w, "{\"op\":\"pong\"");
	put_id(&w, id);
	jsonw_lit(&w, "}");
	return finish(&w);
}

struct frame *
reply_bye(int code, const char *reason, int64_t reconnect_ms)
{
	struct jsonw w;

	jsonw_init(&w);
	jsonw_lit(&w, "{\"op\":\"bye\",\"code\":");
	jsonw_int(&w, code);
	jsonw_lit(&w, ",\"reason\":");
	jsonw_cstr(&w, reason != NULL ? reason : "");
	if (reconnect_ms >= 0) {
		jsonw_lit(&w, ",\"reconnect_ms\":");
		jsonw_int(&w, reconnect_ms);
	}
	jsonw_lit(&w, "}");
	return finish(&w);
}

struct frame *
reply_welcome(const char *id, const char *uid, const char *name,
    const char *role, uint64_t session, const char *node,
    const struct reply_limits *limits)
{
	struct jsonw w;

	jsonw_init(&w);
	jsonw_lit(&w, "{\"op\":\"welcome\"");
	put_id(&w, id);
	jsonw_lit(&w, ",\"user\":{\"id\":");
	jsonw_cstr(&w, uid);
	jsonw_lit(&w, ",\"name\":");
	jsonw_cstr(&w, name);
	jsonw_lit(&w, ",\"role\":");
	jsonw_cstr(&w, role);
	jsonw_lit(&w, "},\"session\":");
	jsonw_uint(&w, session);
	jsonw_lit(&w, ",\"node\":");
	jsonw_cstr(&w, node);
	jsonw_lit(&w, ",\"limits\":{\"frame\":");
	jsonw_int(&w, limits->frame);
	jsonw_lit(&w, ",\"text\":");
	jsonw_int(&w, limits->text);
	jsonw_lit(&w, ",\"rate\":");
	jsonw_int(&w, limits->rate);
	jsonw_lit(&w, ",\"burst\":");
	jsonw_int(&w, limits->burst);
	jsonw_lit(&w, ",\"channels\":");
	jsonw_int(&w, limits->channels);
	jsonw_lit(&w, "}}");
	return finish(&w);
}

struct frame *
reply_left(const char *id, const char *ch)
{
	struct jsonw w;

	jsonw_init(&w);
	jsonw_lit(&w, "{\"op\":\"left\"");
	put_id(&w, id);
	jsonw_lit(&w, ",\"ch\":");
	jsonw_cstr(&w, ch);
	jsonw_lit(&w, "}");
	return finish(&w);
}

struct frame *
reply_presence(const char *ch, const char *event, const char *uid,
    const char *name)
{
	struct jsonw w;

	jsonw_init(&w);
	jsonw_lit(&w, "{\"op\":\"presence\",\"ch\":");
	jsonw_cstr(&w, ch);
	jsonw_lit(&w, ",\"event\":");
	jsonw_cstr(&w, event);
	jsonw_lit(&w, ",\"user\":");
	put_user(&w, uid, name);
	jsonw_lit(&w, "}");
	return finish(&w);
}

struct frame *
reply_whisper(const char *uid, const char *name, const char *to,
    const char *text, size_t text_len, int64_t ts)
{
	struct jsonw w;

	jsonw_init(&w);
	jsonw_lit(&w, "{\"op\":\"whisper\",\"from\":");
	put_user(&w, uid, name);
	jsonw_lit(&w, ",\"to\":");
	jsonw_cstr(&w, to);
	jsonw_lit(&w, ",\"text\":");
	jsonw_str(&w, text, text_len);
	jsonw_lit(&w, ",\"ts\":");
	jsonw_int(&w, ts);
	jsonw_lit(&w, "}");
	return finish(&w);
}

struct frame *
reply_notice(const char *text, const char *ch)
{
	return reply_notice_level(text, ch, "info");
}

struct frame *
reply_notice_level(const char *text, const char *ch, const char *level)
{
	struct jsonw w;

	jsonw_init(&w);
	jsonw_lit(&w, "{\"op\":\"notice\",\"text\":");
	jsonw_cstr(&w, text);
	if (ch != NULL) {
		jsonw_lit(&w, ",\"ch\":");
		jsonw_cstr(&w, ch);
	}
	jsonw_lit(&w, ",\"level\":\"");
	jsonw_lit(&w, level);
	jsonw_lit(&w, "\"}");
	return finish(&w);
}

/* Adds ,"name":s (null when s is NULL). */
static void
put_str_or_null(struct jsonw *w, const char *name, const char *s,
    size_t len)
{
	jsonw_lit(w, ",\"");
	jsonw_lit(w, name);
	jsonw_lit(w, "\":");
	if (s == NULL)
		jsonw_lit(w, "null");
	else
		jsonw_str(w, s, len);
}

void
reply_mod_json(struct jsonw *w, const struct mod_event *e)
{
	jsonw_lit(w, "{\"op\":\"");
	jsonw_lit(w, e->op);
	jsonw_lit(w, "\"");
	if (e->action != NULL) {
		jsonw_lit(w, ",\"action\":\"");
		jsonw_lit(w, e->action);
		jsonw_lit(w, "\"");
	}
	jsonw_lit(w, ",\"by\":{\"id\":");
	jsonw_cstr(w, e->by != NULL ? e->by : "");
	jsonw_lit(w, ",\"name\":");
	jsonw_cstr(w, e->byname != NULL ? e->byname :
	    e->by != NULL ? e->by : "");
	jsonw_lit(w, "}");
	put_str_or_null(w, "user", e->user, e->user ? strlen(e->user) : 0);
	put_str_or_null(w, "ch", e->ch, e->ch ? strlen(e->ch) : 0);
	put_str_or_null(w, "reason", e->reason != NULL && e->reason[0] != '\0' ?
	    e->reason : NULL, e->reason ? strlen(e->reason) : 0);
	jsonw_lit(w, ",\"until\":");
	if (e->until < 0)
		jsonw_lit(w, "null");
	else
		jsonw_int(w, e->until);
	if (e->secs >= 0) {
		jsonw_lit(w, ",\"secs\":");
		jsonw_int(w, e->secs);
	}
	if (e->seq >= 0) {
		jsonw_lit(w, ",\"seq\":");
		jsonw_int(w, e->seq);
	}
	if (e->with_text)
		put_str_or_null(w, "text", e->text, e->text_len);
	jsonw_lit(w, ",\"ts\":");
	jsonw_int(w, e->ts);
	put_str_or_null(w, "node", e->node, e->node ? strlen(e->node) : 0);
	jsonw_lit(w, "}");
}

struct frame *
reply_mod(const struct mod_event *e)
{
	struct jsonw w;

	jsonw_init(&w);
	reply_mod_json(&w, e);
	return finish(&w);
}

struct frame *
reply_delete(const char *ch, uint64_t seq)
{
	struct jsonw w;

	jsonw_init(&w);
	jsonw_lit(&w, "{\"op\":\"delete\",\"ch\":");
	jsonw_cstr(&w, ch);
	jsonw_lit(&w, ",\"seq\":");
	jsonw_uint(&w, seq);
	jsonw_lit(&w, "}");
	return finish(&w);
}

char *
reply_msg_body(const char *ch, const char *uid, const char *name,
    const char *text, size_t text_len, const char *meta, size_t meta_len,
    size_t *len)
{
	struct jsonw w;
	char *body = NULL;

	jsonw_init(&w);
	jsonw_lit(&w, "\"ch\":");
	jsonw_cstr(&w, ch);
	jsonw_lit(&w, ",\"from\":");
	put_user(&w, uid, name);
	jsonw_lit(&w, ",\"text\":");
	jsonw_str(&w, text, text_len);
	if (meta != NULL) {
		jsonw_lit(&w, ",\"meta\":");
		jsonw_raw(&w, meta, meta_len);
	}
	jsonw_lit(&w, "}");
	if (!w.failed && (body = malloc(w.len)) != NULL) {
		memcpy(body, w.buf, w.len);
		*len = w.len;
	}
	jsonw_free(&w);
	return body;
}

struct frame *
reply_msg(uint64_t seq, int64_t ts, const char *epoch, const char *body,
    size_t len)
{
	struct jsonw w;
	struct frame *f;

	jsonw_init(&w);
	jsonw_lit(&w, "{\"op\":\"msg\",\"seq\":");
	jsonw_uint(&w, seq);
	jsonw_lit(&w, ",\"ts\":");
	jsonw_int(&w, ts);
	put_epoch(&w, epoch);
	jsonw_lit(&w, ",");
	jsonw_raw(&w, body, len);
	f = finish(&w);
	if (f != NULL) {
		f->seq = seq;
		f->ts = ts;
	}
	return f;
}

/* Makes a frame of w's contents and gives it to emit; returns 0, or -1 if out of memory. */
static int
emit_frame(reply_emit emit, void *arg, const struct jsonw *w, bool first)
{
	struct frame *f;

	if (w->failed || (f = frame_text(w->buf, w->len)) == NULL)
		return -1;
	emit(arg, f, first);
	return 0;
}

/*
 * Sends entries [first, first + n) of h, w holding the first frame up to
 * and including "msgs":[ ; tail goes into the first frame after the array.
 * An entry is counted for its payload, a comma and ENTRY_SLACK bytes (and
 * the tail while in the first frame); a frame that holds at least one
 * entry is closed with "more":true when the next would pass frame_max, and
 * a history frame begun.  Returns 0, or -1 if memory ran out.
 */
static int
send_msgs(reply_emit emit, void *arg, struct jsonw *w, const char *id,
    const char *ch, const struct history *h, int first, int n,
    const char *tail, size_t frame_max)
{
	size_t tail_len = strlen(tail);
	bool first_frame = true;
	int i, in_frame = 0;

	for (i = first; i < first + n; i++) {
		const struct frame *e = history_at(h, i);
		size_t need = frame_payload_len(e) + 1 + ENTRY_SLACK +
		    (first_frame ? tail_len : 0);

		if (in_frame > 0 && w->len + need > frame_max) {
			jsonw_lit(w, "]");
			if (first_frame)
				jsonw_lit(w, tail);
			jsonw_lit(w, ",\"more\":true}");
			if (emit_frame(emit, arg, w, first_frame) < 0)
				return -1;
			first_frame = false;
			jsonw_reset(w);
			put_head(w, "history", id, ch);
			jsonw_lit(w, ",\"msgs\":[");
			in_frame = 0;
		}
		if (in_frame++ > 0)
			jsonw_lit(w, ",");
		jsonw_raw(w, frame_payload(e), frame_payload_len(e));
	}
	jsonw_lit(w, "]");
	if (first_frame)
		jsonw_lit(w, tail);
	jsonw_lit(w, ",\"more\":false}");
	return emit_frame(emit, arg, w, first_frame);
}

int
reply_joined(reply_emit emit, void *arg, const char *id, const char *ch,
    uint64_t seq, const char *epoch, uint64_t members, bool with_msgs,
    const struct history *h, int first, int n,
    enum reply_recovered recovered, size_t frame_max)
{
	const char *tail;
	struct jsonw w;
	int rc;

	jsonw_init(&w);
	put_head(&w, "joined", id, ch);
	jsonw_lit(&w, ",\"seq\":");
	jsonw_uint(&w, seq);
	put_epoch(&w, epoch);
	jsonw_lit(&w, ",\"members\":");
	jsonw_uint(&w, members);
	if (!with_msgs) {
		jsonw_lit(&w, "}");
		rc = emit_frame(emit, arg, &w, true);
		jsonw_free(&w);
		return rc;
	}
	jsonw_lit(&w, ",\"msgs\":[");
	switch (recovered) {
	case RECOVERED_YES:
		tail = ",\"recovered\":true";
		break;
	case RECOVERED_NO:
		tail = ",\"recovered\":false";
		break;
	default:
		tail = "";
	}
	rc = send_msgs(emit, arg, &w, id, ch, h, first, n, tail, frame_max);
	jsonw_free(&w);
	return rc;
}

int
reply_history(reply_emit emit, void *arg, const char *id, const char *ch,
    const struct history *h, int first, int n, size_t frame_max)
{
	struct jsonw w;
	int rc;

	jsonw_init(&w);
	put_head(&w, "history", id, ch);
	jsonw_lit(&w, ",\"msgs\":[");
	rc = send_msgs(emit, arg, &w, id, ch, h, first, n, "", frame_max);
	jsonw_free(&w);
	return rc;
}

struct frame *
reply_who(const char *id, const char *ch, const struct reply_member *v,
    size_t n, uint64_t count, size_t frame_max)
{
	size_t limit = frame_max > WHO_SLACK ? frame_max - WHO_SLACK : 0;
	size_t i, mark, listed = 0;
	struct jsonw w;

	jsonw_init(&w);
	put_head(&w, "who", id, ch);
	jsonw_lit(&w, ",\"members\":[");
	for (i = 0; i < n; i++) {
		/* Skipped unless it fits even if every byte were escaped. */
		if (w.len + 6 * (v[i].id_len + v[i].name_len) + 40 > limit)
			continue;
		mark = w.len;
		if (listed > 0)
			jsonw_lit(&w, ",");
		jsonw_lit(&w, "{\"id\":");
		jsonw_str(&w, v[i].id, v[i].id_len);
		jsonw_lit(&w, ",\"name\":");
		jsonw_str(&w, v[i].name, v[i].name_len);
		jsonw_lit(&w, "}");
		if (w.len > limit)
			w.len = mark;
		else
			listed++;
	}
	jsonw_lit(&w, "],\"count\":");
	jsonw_uint(&w, count);
	jsonw_lit(&w, "}");
	return finish(&w);
}
