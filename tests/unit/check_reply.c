/*
 * check_reply.c: unit tests for reply.c, the builders of every server
 * frame: each frame is parsed back with cJSON and its fields checked, and
 * the joined, history and who replies are checked against frame_max.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "frame.h"
#include "history.h"
#include "reply.h"

#define NOW INT64_C(1700000000000)

/* A name and a text with everything that must be escaped, and UTF-8. */
#define NASTY "q\"b\\s/n\nt\tc\x01\x1f caf\xc3\xa9 \xf0\x9f\x98\x80"

/*
 * Checks that f is a single unmasked FIN text frame whose header states the
 * payload length, and returns its payload parsed by cJSON as an object.
 */
static cJSON *
frame_json(const struct frame *f, int line)
{
	size_t	 plen;
	cJSON	*j;

	ck_assert_msg(f != NULL, "line %d: no frame", line);
	plen = frame_payload_len(f);
	ck_assert_msg(f->data[0] == 0x81, "line %d: byte 0 is 0x%02x", line,
	    f->data[0]);
	if (plen < 126)
		ck_assert_msg(f->hdr == 2 && f->data[1] == plen,
		    "line %d: header", line);
	else
		ck_assert_msg(f->hdr == 4 && f->data[1] == 126 &&
		    (((size_t)f->data[2] << 8) | f->data[3]) == plen,
		    "line %d: header", line);
	ck_assert_uint_eq(f->len, f->hdr + plen);
	j = cJSON_ParseWithLength(frame_payload(f), plen);
	ck_assert_msg(j != NULL, "line %d: payload '%.*s' is not JSON", line,
	    (int)plen, frame_payload(f));
	ck_assert(cJSON_IsObject(j));
	return j;
}

#define FRAME_JSON(f) frame_json((f), __LINE__)

/* Returns member name of j, failing if it is absent or not of the type. */
static const cJSON *
jget(const cJSON *j, const char *name)
{
	const cJSON	*it = cJSON_GetObjectItemCaseSensitive(j, name);

	ck_assert_msg(it != NULL, "no %s", name);
	return it;
}

/* Returns the string member name of j, failing if it is not a string. */
static const char *
jstr(const cJSON *j, const char *name)
{
	const cJSON	*it = jget(j, name);

	ck_assert_msg(cJSON_IsString(it), "%s is not a string", name);
	return it->valuestring;
}

/* Returns the number member name of j, failing if it is not a number. */
static double
jnum(const cJSON *j, const char *name)
{
	const cJSON	*it = jget(j, name);

	ck_assert_msg(cJSON_IsNumber(it), "%s is not a number", name);
	return it->valuedouble;
}

/* Returns the boolean member name of j, failing if it is not a boolean. */
static bool
jbool(const cJSON *j, const char *name)
{
	const cJSON	*it = jget(j, name);

	ck_assert_msg(cJSON_IsBool(it), "%s is not a boolean", name);
	return cJSON_IsTrue(it);
}

/* Returns the object member name of j, failing if it is not an object. */
static const cJSON *
jobj(const cJSON *j, const char *name)
{
	const cJSON	*it = jget(j, name);

	ck_assert_msg(cJSON_IsObject(it), "%s is not an object", name);
	return it;
}

#define HAS(j, name) (cJSON_GetObjectItemCaseSensitive((j), (name)) != NULL)
#define NFIELDS(j) cJSON_GetArraySize(j)

/* Checks that f's payload is exactly the string want. */
static void
payload_is(const struct frame *f, const char *want, int line)
{
	ck_assert_msg(f != NULL, "line %d: no frame", line);
	ck_assert_msg(frame_payload_len(f) == strlen(want) &&
	    memcmp(frame_payload(f), want, strlen(want)) == 0,
	    "line %d: payload '%.*s', wanted '%s'", line,
	    (int)frame_payload_len(f), frame_payload(f), want);
}

#define PAYLOAD_IS(f, s) payload_is((f), (s), __LINE__)

START_TEST(test_err)
{
	struct frame	*f;
	cJSON		*j;
	char		 long_msg[301];
	int		 c;

	f = reply_err("\"r1\"", ERR_RATE_LIMITED, "slow down", 250, -1);
	j = FRAME_JSON(f);
	ck_assert_str_eq(jstr(j, "op"), "err");
	ck_assert_str_eq(jstr(j, "id"), "r1");
	ck_assert_str_eq(jstr(j, "code"), "rate_limited");
	ck_assert_str_eq(jstr(j, "msg"), "slow down");
	ck_assert(jnum(j, "retry_ms") == 250);
	ck_assert(!HAS(j, "until"));
	ck_assert_int_eq(NFIELDS(j), 5);
	cJSON_Delete(j);
	frame_unref(f);

	/* No id, no retry_ms, no until: the same bytes proto.c sends. */
	f = reply_err("", ERR_BAD_JSON, "not valid JSON", -1, -1);
	PAYLOAD_IS(f, "{\"op\":\"err\",\"code\":\"bad_json\","
	    "\"msg\":\"not valid JSON\"}");
	frame_unref(f);

	/* A numeric id, until 0 (a value, not absent), an escaped message. */
	f = reply_err("42", ERR_MUTED, NASTY, -1, 0);
	j = FRAME_JSON(f);
	ck_assert(jnum(j, "id") == 42);
	ck_assert_str_eq(jstr(j, "code"), "muted");
	ck_assert_str_eq(jstr(j, "msg"), NASTY);
	ck_assert(!HAS(j, "retry_ms"));
	ck_assert(jnum(j, "until") == 0);
	cJSON_Delete(j);
	frame_unref(f);

	f = reply_err("\"a\\\"b\"", ERR_SLOW_MODE, "slow", 0,
	    INT64_C(1700000000123));
	j = FRAME_JSON(f);
	ck_assert_str_eq(jstr(j, "id"), "a\"b");
	ck_assert(jnum(j, "retry_ms") == 0);
	ck_assert(jnum(j, "until") == 1700000000123.0);
	ck_assert_int_eq(NFIELDS(j), 6);
	cJSON_Delete(j);
	frame_unref(f);

	/* A NULL id or message is "" (no id field, an empty message). */
	f = reply_err(NULL, ERR_INTERNAL, NULL, -1, -1);
	j = FRAME_JSON(f);
	ck_assert(!HAS(j, "id"));
	ck_assert_str_eq(jstr(j, "msg"), "");
	cJSON_Delete(j);
	frame_unref(f);

	/* Every code is spelt as the protocol spells it. */
	for (c = 0; c < ERR_COUNT; c++) {
		f = reply_err("", (enum errcode)c, "m", -1, -1);
		j = FRAME_JSON(f);
		ck_assert_str_eq(jstr(j, "code"), proto_errcode_name(c));
		cJSON_Delete(j);
		frame_unref(f);
	}

	/* A longer payload takes the 16-bit length form of the header. */
	memset(long_msg, 'z', sizeof long_msg - 1);
	long_msg[sizeof long_msg - 1] = '\0';
	f = reply_err("1", ERR_BAD_FIELD, long_msg, -1, -1);
	j = FRAME_JSON(f);
	ck_assert_uint_eq(f->hdr, 4);
	ck_assert_str_eq(jstr(j, "msg"), long_msg);
	cJSON_Delete(j);
	frame_unref(f);
}
END_TEST

START_TEST(test_ok_pong)
{
	struct frame	*f;
	cJSON		*j;

	f = reply_ok("\"x\"");
	PAYLOAD_IS(f, "{\"op\":\"ok\",\"id\":\"x\"}");
	frame_unref(f);
	f = reply_ok("");
	PAYLOAD_IS(f, "{\"op\":\"ok\"}");
	frame_unref(f);
	f = reply_ok("-7.5");
	j = FRAME_JSON(f);
	ck_assert(jnum(j, "id") == -7.5);
	cJSON_Delete(j);
	frame_unref(f);

	f = reply_pong("3");
	PAYLOAD_IS(f, "{\"op\":\"pong\",\"id\":3}");
	frame_unref(f);
	f = reply_pong("");
	PAYLOAD_IS(f, "{\"op\":\"pong\"}");
	frame_unref(f);
}
END_TEST

START_TEST(test_ok_seq)
{
	struct frame	*f;
	cJSON		*j;

	f = reply_ok_seq("\"s1\"", "room:" NASTY, UINT64_C(1234567890123),
	    NOW, NULL);
	j = FRAME_JSON(f);
	ck_assert_str_eq(jstr(j, "op"), "ok");
	ck_assert_str_eq(jstr(j, "id"), "s1");
	ck_assert_str_eq(jstr(j, "ch"), "room:" NASTY);
	ck_assert(jnum(j, "seq") == 1234567890123.0);
	ck_assert(jnum(j, "ts") == (double)NOW);
	ck_assert_int_eq(NFIELDS(j), 5);
	cJSON_Delete(j);
	frame_unref(f);

	/* The layout bus.c sends, with no id. */
	f = reply_ok_seq("", "lobby", 1, 5, NULL);
	PAYLOAD_IS(f, "{\"op\":\"ok\",\"ch\":\"lobby\",\"seq\":1,\"ts\":5}");
	frame_unref(f);

	/* With the channel's epoch. */
	f = reply_ok_seq("", "lobby", 2, 6, "9f0a");
	PAYLOAD_IS(f, "{\"op\":\"ok\",\"ch\":\"lobby\",\"seq\":2,\"ts\":6,"
	    "\"epoch\":\"9f0a\"}");
	frame_unref(f);
}
END_TEST


START_TEST(test_bye)
{
	struct frame	*f;
	cJSON		*j;

	f = reply_bye(4008, "kicked: " NASTY, 30000);
	j = FRAME_JSON(f);
	ck_assert_str_eq(jstr(j, "op"), "bye");
	ck_assert(jnum(j, "code") == 4008);
	ck_assert_str_eq(jstr(j, "reason"), "kicked: " NASTY);
	ck_assert(jnum(j, "reconnect_ms") == 30000);
	ck_assert_int_eq(NFIELDS(j), 4);
	cJSON_Delete(j);
	frame_unref(f);

	f = reply_bye(1001, "shutting down", -1);
	PAYLOAD_IS(f, "{\"op\":\"bye\",\"code\":1001,"
	    "\"reason\":\"shutting down\"}");
	frame_unref(f);
	f = reply_bye(1012, "restart", 0);
	j = FRAME_JSON(f);
	ck_assert(jnum(j, "reconnect_ms") == 0);
	cJSON_Delete(j);
	frame_unref(f);
}
END_TEST

START_TEST(test_welcome)
{
	struct reply_limits	 lim = { 65536, 2000, 10, 20, 32 };
	const cJSON		*u, *l;
	struct frame		*f;
	cJSON			*j;

	f = reply_welcome("\"hello\"", "u-1", NASTY, "moderator",
	    UINT64_C(4503599627370497), "node-a", &lim);
	j = FRAME_JSON(f);
	ck_assert_str_eq(jstr(j, "op"), "welcome");
	ck_assert_str_eq(jstr(j, "id"), "hello");
	u = jobj(j, "user");
	ck_assert_str_eq(jstr(u, "id"), "u-1");
	ck_assert_str_eq(jstr(u, "name"), NASTY);
	ck_assert_str_eq(jstr(u, "role"), "moderator");
	ck_assert_int_eq(NFIELDS(u), 3);
	ck_assert(jnum(j, "session") == 4503599627370497.0);
	ck_assert_str_eq(jstr(j, "node"), "node-a");
	l = jobj(j, "limits");
	ck_assert(jnum(l, "frame") == 65536);
	ck_assert(jnum(l, "text") == 2000);
	ck_assert(jnum(l, "rate") == 10);
	ck_assert(jnum(l, "burst") == 20);
	ck_assert(jnum(l, "channels") == 32);
	ck_assert_int_eq(NFIELDS(l), 5);
	ck_assert_int_eq(NFIELDS(j), 6);
	cJSON_Delete(j);
	frame_unref(f);

	/* A ?token= login has no id; the layout session.c sends. */
	f = reply_welcome("", "u", "n", "player", 7, "x", &lim);
	PAYLOAD_IS(f, "{\"op\":\"welcome\",\"user\":{\"id\":\"u\",\"name\":\"n\","
	    "\"role\":\"player\"},\"session\":7,\"node\":\"x\",\"limits\":"
	    "{\"frame\":65536,\"text\":2000,\"rate\":10,\"burst\":20,"
	    "\"channels\":32}}");
	frame_unref(f);
}
END_TEST

START_TEST(test_left_presence)
{
	struct frame	*f;
	const cJSON	*u;
	cJSON		*j;

	f = reply_left("9", "room:" NASTY);
	j = FRAME_JSON(f);
	ck_assert_str_eq(jstr(j, "op"), "left");
	ck_assert(jnum(j, "id") == 9);
	ck_assert_str_eq(jstr(j, "ch"), "room:" NASTY);
	ck_assert_int_eq(NFIELDS(j), 3);
	cJSON_Delete(j);
	frame_unref(f);
	f = reply_left("", "lobby");
	PAYLOAD_IS(f, "{\"op\":\"left\",\"ch\":\"lobby\"}");
	frame_unref(f);

	f = reply_presence("lobby", "join", "u\"1", NASTY);
	j = FRAME_JSON(f);
	ck_assert_str_eq(jstr(j, "op"), "presence");
	ck_assert_str_eq(jstr(j, "ch"), "lobby");
	ck_assert_str_eq(jstr(j, "event"), "join");
	u = jobj(j, "user");
	ck_assert_str_eq(jstr(u, "id"), "u\"1");
	ck_assert_str_eq(jstr(u, "name"), NASTY);
	ck_assert_int_eq(NFIELDS(u), 2);
	ck_assert_int_eq(NFIELDS(j), 4);
	cJSON_Delete(j);
	frame_unref(f);
	f = reply_presence("c", "leave", "u", "n");
	PAYLOAD_IS(f, "{\"op\":\"presence\",\"ch\":\"c\",\"event\":\"leave\","
	    "\"user\":{\"id\":\"u\",\"name\":\"n\"}}");
	frame_unref(f);
}
END_TEST

START_TEST(test_whisper)
{
	static const char text[] = "hi \"there\"\n" NASTY "and the rest";
	struct frame	*f;
	const cJSON	*u;
	cJSON		*j;

	/* Only text_len bytes of the text are sent. */
	f = reply_whisper("u1", "Al " NASTY, "u2",
	    text, strlen(text) - strlen("and the rest"), NOW);
	j = FRAME_JSON(f);
	ck_assert_str_eq(jstr(j, "op"), "whisper");
	u = jobj(j, "from");
	ck_assert_str_eq(jstr(u, "id"), "u1");
	ck_assert_str_eq(jstr(u, "name"), "Al " NASTY);
	ck_assert_int_eq(NFIELDS(u), 2);
	ck_assert_str_eq(jstr(j, "to"), "u2");
	ck_assert_str_eq(jstr(j, "text"), "hi \"there\"\n" NASTY);
	ck_assert(jnum(j, "ts") == (double)NOW);
	ck_assert_int_eq(NFIELDS(j), 5);
	cJSON_Delete(j);
	frame_unref(f);

	f = reply_whisper("a", "b", "c", "d", 1, 2);
	PAYLOAD_IS(f, "{\"op\":\"whisper\",\"from\":{\"id\":\"a\",\"name\":\"b\"},"
	    "\"to\":\"c\",\"text\":\"d\",\"ts\":2}");
	frame_unref(f);
}
END_TEST

START_TEST(test_notice)
{
	struct frame	*f;
	cJSON		*j;

	f = reply_notice(NASTY, "lobby");
	j = FRAME_JSON(f);
	ck_assert_str_eq(jstr(j, "op"), "notice");
	ck_assert_str_eq(jstr(j, "text"), NASTY);
	ck_assert_str_eq(jstr(j, "ch"), "lobby");
	ck_assert_str_eq(jstr(j, "level"), "info");
	ck_assert_int_eq(NFIELDS(j), 4);
	cJSON_Delete(j);
	frame_unref(f);

	f = reply_notice("maintenance", NULL);
	PAYLOAD_IS(f, "{\"op\":\"notice\",\"text\":\"maintenance\","
	    "\"level\":\"info\"}");
	frame_unref(f);
}
END_TEST

START_TEST(test_msg)
{
	static const char text[] = "hello " NASTY "!!";
	static const char meta[] = "{\"k\":[1,\"v\"]}";
	char		*body, *obj, want[1024];
	const cJSON	*u, *m;
	struct frame	*f;
	size_t		 len;
	cJSON		*j;

	/* The body alone is the msg object minus its head. */
	body = reply_msg_body("lobby", "u1", NASTY, text, strlen(text) - 2,
	    meta, strlen(meta), &len);
	ck_assert_ptr_nonnull(body);
	obj = malloc(len + 1);
	ck_assert_ptr_nonnull(obj);
	obj[0] = '{';
	memcpy(obj + 1, body, len);
	j = cJSON_ParseWithLength(obj, len + 1);
	free(obj);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(jstr(j, "ch"), "lobby");
	u = jobj(j, "from");
	ck_assert_str_eq(jstr(u, "id"), "u1");
	ck_assert_str_eq(jstr(u, "name"), NASTY);
	ck_assert_str_eq(jstr(j, "text"), "hello " NASTY);
	m = jobj(j, "meta");
	ck_assert(cJSON_IsArray(jget(m, "k")));
	ck_assert_int_eq(NFIELDS(j), 4);
	cJSON_Delete(j);

	/* The frame is head + body, and carries seq and ts. */
	f = reply_msg(UINT64_C(77), NOW, NULL, body, len);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(f->seq, 77);
	ck_assert(f->ts == NOW);
	ck_assert_int_eq(snprintf(want, sizeof want,
	    "{\"op\":\"msg\",\"seq\":77,\"ts\":%lld,%.*s", (long long)NOW,
	    (int)len, body) < (int)sizeof want, 1);
	PAYLOAD_IS(f, want);
	j = FRAME_JSON(f);
	ck_assert_str_eq(jstr(j, "op"), "msg");
	ck_assert(jnum(j, "seq") == 77);
	ck_assert(jnum(j, "ts") == (double)NOW);
	ck_assert_str_eq(jstr(j, "ch"), "lobby");
	ck_assert_str_eq(jstr(j, "text"), "hello " NASTY);
	ck_assert(HAS(j, "meta"));
	ck_assert_int_eq(NFIELDS(j), 7);
	cJSON_Delete(j);
	frame_unref(f);
	free(body);

	/* No meta: no "meta" field; the bytes session.c produces. */
	body = reply_msg_body("c", "u", "n", "t", 1, NULL, 0, &len);
	ck_assert_ptr_nonnull(body);
	ck_assert_uint_eq(len, strlen("\"ch\":\"c\",\"from\":{\"id\":\"u\","
	    "\"name\":\"n\"},\"text\":\"t\"}"));
	ck_assert(memcmp(body, "\"ch\":\"c\",\"from\":{\"id\":\"u\","
	    "\"name\":\"n\"},\"text\":\"t\"}", len) == 0);
	f = reply_msg(1, -5, NULL, body, len);
	PAYLOAD_IS(f, "{\"op\":\"msg\",\"seq\":1,\"ts\":-5,\"ch\":\"c\","
	    "\"from\":{\"id\":\"u\",\"name\":\"n\"},\"text\":\"t\"}");
	ck_assert_uint_eq(f->seq, 1);
	ck_assert(f->ts == -5);
	frame_unref(f);
	free(body);
}
END_TEST

/* ---- Replies of several frames. ---- */

#define SINK_MAX 64

/* What reply_joined and reply_history emitted, in order. */
struct sink {
	struct frame	*f[SINK_MAX];
	bool		 first[SINK_MAX];
	int		 n;
};

/* A reply_emit that keeps every frame in a struct sink. */
static void
sink_emit(void *arg, struct frame *f, bool first)
{
	struct sink	*s = arg;

	ck_assert_ptr_nonnull(f);
	ck_assert_int_lt(s->n, SINK_MAX);
	s->f[s->n] = f;
	s->first[s->n] = first;
	s->n++;
}

/* Drops the frames s holds. */
static void
sink_free(struct sink *s)
{
	int	i;

	for (i = 0; i < s->n; i++)
		frame_unref(s->f[i]);
	s->n = 0;
}

/*
 * Fills h (of count entries) with msgs of seq base .. base + count - 1 whose
 * texts are "m<seq>" padded with 'x' to pad bytes (so that, with seqs of as
 * many digits, every payload has the same length).
 */
static void
fill(struct history *h, int count, uint64_t base, size_t pad)
{
	char		 text[4096], *body;
	struct frame	*f;
	size_t		 len, tl;
	int		 i;

	ck_assert_uint_lt(pad, sizeof text);
	history_init(h, count);
	for (i = 0; i < count; i++) {
		tl = (size_t)snprintf(text, sizeof text, "m%llu",
		    (unsigned long long)(base + (uint64_t)i));
		while (tl < pad)
			text[tl++] = 'x';
		body = reply_msg_body("lobby", "u1", "Al", text, tl, NULL, 0,
		    &len);
		ck_assert_ptr_nonnull(body);
		f = reply_msg(base + (uint64_t)i, NOW + i, NULL, body, len);
		free(body);
		ck_assert_ptr_nonnull(f);
		ck_assert_int_eq(history_push(h, f), 0);
		frame_unref(f);
	}
}

/*
 * Checks the frames of a reply carrying entries [first, first + n) of h:
 * every frame at most frame_max bytes (when fits), the first of op op0 and
 * the rest history frames, all with id and ch, "more" true on all but the
 * last, "recovered" only on the first (as rec says), the first flag only on
 * the first emit, and every entry's exact payload once, in order.
 */
static void
check_msgs(const struct sink *s, const struct history *h, int first, int n,
    const char *op0, double id, enum reply_recovered rec, size_t frame_max,
    bool fits, int line)
{
	const cJSON	*msgs, *e;
	int		 k, next = first;
	cJSON		*j;

	ck_assert_msg(s->n >= 1, "line %d: nothing emitted", line);
	for (k = 0; k < s->n; k++) {
		ck_assert_msg(s->first[k] == (k == 0),
		    "line %d: frame %d first flag %d", line, k, s->first[k]);
		if (fits)
			ck_assert_msg(frame_payload_len(s->f[k]) <= frame_max,
			    "line %d: frame %d of %zu bytes > %zu", line, k,
			    frame_payload_len(s->f[k]), frame_max);
		j = frame_json(s->f[k], line);
		ck_assert_str_eq(jstr(j, "op"), k == 0 ? op0 : "history");
		ck_assert(jnum(j, "id") == id);
		ck_assert_str_eq(jstr(j, "ch"), "lobby");
		ck_assert_msg(jbool(j, "more") == (k < s->n - 1),
		    "line %d: frame %d more", line, k);
		if (k == 0 && rec != RECOVERED_NONE)
			ck_assert(jbool(j, "recovered") == (rec == RECOVERED_YES));
		else
			ck_assert_msg(!HAS(j, "recovered"),
			    "line %d: frame %d has recovered", line, k);
		msgs = jget(j, "msgs");
		ck_assert(cJSON_IsArray(msgs));
		/* A frame is only ever closed once it holds an entry. */
		if (s->n > 1)
			ck_assert_int_gt(cJSON_GetArraySize(msgs), 0);
		cJSON_ArrayForEach(e, msgs) {
			const struct frame *want;

			ck_assert_msg(next < first + n, "line %d: extra entry",
			    line);
			want = history_at(h, next);
			ck_assert_msg(jnum(e, "seq") == (double)want->seq,
			    "line %d: entry %d out of order", line, next);
			/* The entry's bytes are the history frame's payload. */
			ck_assert_ptr_nonnull(memmem(frame_payload(s->f[k]),
			    frame_payload_len(s->f[k]), frame_payload(want),
			    frame_payload_len(want)));
			next++;
		}
		cJSON_Delete(j);
	}
	ck_assert_msg(next == first + n, "line %d: %d entries of %d", line,
	    next - first, n);
}

/* Returns how many msgs the payload of f holds. */
static int
nmsgs(const struct frame *f)
{
	cJSON	*j = FRAME_JSON(f);
	int	 n = cJSON_GetArraySize(jget(j, "msgs"));

	cJSON_Delete(j);
	return n;
}

START_TEST(test_joined_no_msgs)
{
	struct history	 h;
	struct sink	 s = { .n = 0 };
	cJSON		*j;

	fill(&h, 3, 1, 0);
	/* No history asked: no msgs, more or recovered at all. */
	ck_assert_int_eq(reply_joined(sink_emit, &s, "\"j1\"", "lobby", 3, NULL, 2,
	    false, &h, 0, 3, RECOVERED_NONE, 65536), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert(s.first[0]);
	PAYLOAD_IS(s.f[0], "{\"op\":\"joined\",\"id\":\"j1\",\"ch\":\"lobby\","
	    "\"seq\":3,\"members\":2}");
	sink_free(&s);

	/* History asked but none left: an empty array, more false. */
	ck_assert_int_eq(reply_joined(sink_emit, &s, "", "lobby", 3, NULL, 1, true,
	    &h, 0, 0, RECOVERED_NONE, 65536), 0);
	ck_assert_int_eq(s.n, 1);
	ck_assert(s.first[0]);
	PAYLOAD_IS(s.f[0], "{\"op\":\"joined\",\"ch\":\"lobby\",\"seq\":3,"
	    "\"members\":1,\"msgs\":[],\"more\":false}");
	sink_free(&s);

	/* With since and everything recovered (nothing was missed). */
	ck_assert_int_eq(reply_joined(sink_emit, &s, "5", "lobby", 3, NULL, 1, true,
	    &h, 3, 0, RECOVERED_YES, 65536), 0);
	ck_assert_int_eq(s.n, 1);
	j = FRAME_JSON(s.f[0]);
	ck_assert(jnum(j, "id") == 5);
	ck_assert_int_eq(cJSON_GetArraySize(jget(j, "msgs")), 0);
	ck_assert(jbool(j, "recovered"));
	ck_assert(!jbool(j, "more"));
	ck_assert_int_eq(NFIELDS(j), 8);
	cJSON_Delete(j);
	sink_free(&s);
	history_free(&h);
}
END_TEST

START_TEST(test_joined_one_frame)
{
	struct history	 h;
	struct sink	 s = { .n = 0 };
	cJSON		*j;

	fill(&h, 6, 1, 20);
	ck_assert_int_eq(reply_joined(sink_emit, &s, "11", "lobby", 6, NULL, 4, true,
	    &h, 0, 6, RECOVERED_NONE, 65536), 0);
	ck_assert_int_eq(s.n, 1);
	check_msgs(&s, &h, 0, 6, "joined", 11, RECOVERED_NONE, 65536, true,
	    __LINE__);
	j = FRAME_JSON(s.f[0]);
	ck_assert(jnum(j, "seq") == 6);
	ck_assert(jnum(j, "members") == 4);
	ck_assert_int_eq(NFIELDS(j), 7);
	cJSON_Delete(j);
	sink_free(&s);

	/* A middle range, since given and some messages gone. */
	ck_assert_int_eq(reply_joined(sink_emit, &s, "12", "lobby", 6, NULL, 4, true,
	    &h, 2, 3, RECOVERED_NO, 65536), 0);
	ck_assert_int_eq(s.n, 1);
	check_msgs(&s, &h, 2, 3, "joined", 12, RECOVERED_NO, 65536, true,
	    __LINE__);
	j = FRAME_JSON(s.f[0]);
	ck_assert(!jbool(j, "recovered"));
	ck_assert_int_eq(NFIELDS(j), 8);
	cJSON_Delete(j);
	sink_free(&s);
	history_free(&h);
}
END_TEST

START_TEST(test_joined_split)
{
	struct history	 h;
	struct sink	 s = { .n = 0 };
	size_t		 fm;

	/* 30 entries of about 120 bytes into frames of 400. */
	fill(&h, 30, 10, 40);
	fm = 400;
	ck_assert_int_eq(reply_joined(sink_emit, &s, "13", "lobby", 39, NULL, 2,
	    true, &h, 0, 30, RECOVERED_YES, fm), 0);
	ck_assert_int_gt(s.n, 3);
	check_msgs(&s, &h, 0, 30, "joined", 13, RECOVERED_YES, fm, true,
	    __LINE__);
	sink_free(&s);

	/* A range from the middle, no since. */
	ck_assert_int_eq(reply_joined(sink_emit, &s, "14", "lobby", 39, NULL, 2,
	    true, &h, 7, 15, RECOVERED_NONE, fm), 0);
	ck_assert_int_gt(s.n, 2);
	check_msgs(&s, &h, 7, 15, "joined", 14, RECOVERED_NONE, fm, true,
	    __LINE__);
	sink_free(&s);

	/* Entries larger than a frame still go, one per frame. */
	ck_assert_int_eq(reply_joined(sink_emit, &s, "15", "lobby", 39, NULL, 2,
	    true, &h, 0, 5, RECOVERED_NO, 50), 0);
	ck_assert_int_eq(s.n, 5);
	check_msgs(&s, &h, 0, 5, "joined", 15, RECOVERED_NO, 50, false,
	    __LINE__);
	sink_free(&s);
	history_free(&h);
}
END_TEST

/*
 * The splitting rule to the byte: an entry needs its payload + 1 + 64 bytes
 * (+ the tail's length in the first frame) on top of what the frame holds.
 */
START_TEST(test_joined_split_boundary)
{
	static const char tail[] = ",\"recovered\":true";
	struct history	 h;
	struct sink	 s = { .n = 0 };
	char		 head[256];
	size_t		 p, hl, fm;
	int		 i;

	fill(&h, 4, 10, 30);
	p = frame_payload_len(history_at(&h, 0));
	for (i = 1; i < 4; i++)
		ck_assert_uint_eq(frame_payload_len(history_at(&h, i)), p);
	hl = (size_t)snprintf(head, sizeof head, "{\"op\":\"joined\",\"id\":1,"
	    "\"ch\":\"lobby\",\"seq\":13,\"members\":1,\"msgs\":[");

	/* Exactly room for two entries in the first frame. */
	fm = hl + p + (p + 1 + 64 + strlen(tail));
	ck_assert_int_eq(reply_joined(sink_emit, &s, "1", "lobby", 13, NULL, 1, true,
	    &h, 0, 4, RECOVERED_YES, fm), 0);
	ck_assert_int_ge(s.n, 2);
	ck_assert(memcmp(frame_payload(s.f[0]), head, hl) == 0);
	ck_assert_int_eq(nmsgs(s.f[0]), 2);
	check_msgs(&s, &h, 0, 4, "joined", 1, RECOVERED_YES, fm, true,
	    __LINE__);
	sink_free(&s);

	/* One byte less: one entry. */
	ck_assert_int_eq(reply_joined(sink_emit, &s, "1", "lobby", 13, NULL, 1, true,
	    &h, 0, 4, RECOVERED_YES, fm - 1), 0);
	ck_assert_int_eq(nmsgs(s.f[0]), 1);
	check_msgs(&s, &h, 0, 4, "joined", 1, RECOVERED_YES, fm - 1, true,
	    __LINE__);
	sink_free(&s);

	/* Without the tail, that byte less still holds two. */
	ck_assert_int_eq(reply_joined(sink_emit, &s, "1", "lobby", 13, NULL, 1, true,
	    &h, 0, 4, RECOVERED_NONE, fm - 1), 0);
	ck_assert_int_eq(nmsgs(s.f[0]), 2);
	sink_free(&s);
	history_free(&h);
}
END_TEST

START_TEST(test_history)
{
	struct history	 h;
	struct sink	 s = { .n = 0 };
	char		 head[256];
	size_t		 p, hl, fm;
	cJSON		*j;

	fill(&h, 25, 10, 60);

	/* All in one frame. */
	ck_assert_int_eq(reply_history(sink_emit, &s, "21", "lobby", &h, 0, 25,
	    65536), 0);
	ck_assert_int_eq(s.n, 1);
	check_msgs(&s, &h, 0, 25, "history", 21, RECOVERED_NONE, 65536, true,
	    __LINE__);
	j = FRAME_JSON(s.f[0]);
	ck_assert_int_eq(NFIELDS(j), 5);
	cJSON_Delete(j);
	sink_free(&s);

	/* None. */
	ck_assert_int_eq(reply_history(sink_emit, &s, "", "lobby", &h, 25, 0,
	    65536), 0);
	ck_assert_int_eq(s.n, 1);
	PAYLOAD_IS(s.f[0], "{\"op\":\"history\",\"ch\":\"lobby\",\"msgs\":[],"
	    "\"more\":false}");
	sink_free(&s);

	/* Split: frames of exactly three entries. */
	p = frame_payload_len(history_at(&h, 0));
	hl = (size_t)snprintf(head, sizeof head, "{\"op\":\"history\",\"id\":22,"
	    "\"ch\":\"lobby\",\"msgs\":[");
	fm = hl + 2 * p + 1 + (p + 1 + 64);
	ck_assert_int_eq(reply_history(sink_emit, &s, "22", "lobby", &h, 3, 20,
	    fm), 0);
	ck_assert_int_eq(s.n, 7);
	check_msgs(&s, &h, 3, 20, "history", 22, RECOVERED_NONE, fm, true,
	    __LINE__);
	ck_assert_int_eq(nmsgs(s.f[0]), 3);
	ck_assert_int_eq(nmsgs(s.f[5]), 3);
	ck_assert_int_eq(nmsgs(s.f[6]), 2);
	ck_assert(memcmp(frame_payload(s.f[6]), head, hl) == 0);
	sink_free(&s);
	history_free(&h);
}
END_TEST

/* ---- who. ---- */

/* Sets m to the member (id, name). */
static void
member(struct reply_member *m, const char *id, const char *name)
{
	m->id = id;
	m->id_len = strlen(id);
	m->name = name;
	m->name_len = strlen(name);
}

START_TEST(test_who_all)
{
	struct reply_member	 v[3];
	const cJSON		*a, *e;
	struct frame		*f;
	cJSON			*j;

	member(&v[0], "u1", "Al");
	member(&v[1], "u\"2", NASTY);
	member(&v[2], "u3", "caf\xc3\xa9");
	/* The lengths are used, not the NULs. */
	v[2].id = "u3-and-more";
	f = reply_who("\"w\"", "lobby", v, 3, 3, 65536);
	j = FRAME_JSON(f);
	ck_assert_str_eq(jstr(j, "op"), "who");
	ck_assert_str_eq(jstr(j, "id"), "w");
	ck_assert_str_eq(jstr(j, "ch"), "lobby");
	ck_assert(jnum(j, "count") == 3);
	ck_assert_int_eq(NFIELDS(j), 5);
	a = jget(j, "members");
	ck_assert(cJSON_IsArray(a));
	ck_assert_int_eq(cJSON_GetArraySize(a), 3);
	e = cJSON_GetArrayItem(a, 1);
	ck_assert_str_eq(jstr(e, "id"), "u\"2");
	ck_assert_str_eq(jstr(e, "name"), NASTY);
	ck_assert_int_eq(NFIELDS(e), 2);
	e = cJSON_GetArrayItem(a, 2);
	ck_assert_str_eq(jstr(e, "id"), "u3");
	ck_assert_str_eq(jstr(e, "name"), "caf\xc3\xa9");
	cJSON_Delete(j);
	frame_unref(f);

	f = reply_who("", "c", v, 1, 1, 65536);
	PAYLOAD_IS(f, "{\"op\":\"who\",\"ch\":\"c\",\"members\":[{\"id\":\"u1\","
	    "\"name\":\"Al\"}],\"count\":1}");
	frame_unref(f);
	f = reply_who("", "c", v, 0, 0, 65536);
	PAYLOAD_IS(f, "{\"op\":\"who\",\"ch\":\"c\",\"members\":[],\"count\":0}");
	frame_unref(f);
}
END_TEST

START_TEST(test_who_truncated)
{
	static char		 ids[100][8], names[100][12];
	struct reply_member	 v[100];
	const cJSON		*a, *e;
	struct frame		*f;
	size_t			 fm = 600, plen, before, hl;
	char			 tail[32];
	cJSON			*j;
	int			 i, k;

	for (i = 0; i < 100; i++) {
		snprintf(ids[i], sizeof ids[i], "u%03d", i);
		snprintf(names[i], sizeof names[i], "Name %03d", i);
		member(&v[i], ids[i], names[i]);
	}
	f = reply_who("1", "lobby", v, 100, 250, fm);
	ck_assert_ptr_nonnull(f);
	plen = frame_payload_len(f);
	ck_assert_uint_le(plen, fm);
	j = FRAME_JSON(f);
	ck_assert(jnum(j, "count") == 250);	/* the true total */
	a = jget(j, "members");
	k = cJSON_GetArraySize(a);
	ck_assert_int_gt(k, 0);
	ck_assert_int_lt(k, 100);
	i = 0;
	cJSON_ArrayForEach(e, a) {
		ck_assert_str_eq(jstr(e, "id"), ids[i]);
		ck_assert_str_eq(jstr(e, "name"), names[i]);
		i++;
	}
	cJSON_Delete(j);
	/* As many as the estimate admits: the next one would not pass it. */
	before = plen - (size_t)snprintf(tail, sizeof tail, "],\"count\":250}");
	ck_assert_uint_gt(before + 6 * (4 + 8) + 40, fm - 48);
	frame_unref(f);

	/* A member too large is skipped and the later ones still listed. */
	{
		static char	big[400];

		memset(big, 'B', sizeof big - 1);
		member(&v[1], "big", big);
	}
	f = reply_who("", "lobby", v, 3, 3, 300);
	ck_assert_uint_le(frame_payload_len(f), 300);
	j = FRAME_JSON(f);
	ck_assert(jnum(j, "count") == 3);
	a = jget(j, "members");
	ck_assert_int_eq(cJSON_GetArraySize(a), 2);
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(a, 0), "id"), "u000");
	ck_assert_str_eq(jstr(cJSON_GetArrayItem(a, 1), "id"), "u002");
	cJSON_Delete(j);
	frame_unref(f);

	/*
	 * The estimate to the byte: a member is listed when what the frame
	 * holds + 6 * (id + name) + 40 is at most frame_max - 48.
	 */
	hl = strlen("{\"op\":\"who\",\"ch\":\"c\",\"members\":[");
	f = reply_who("", "c", v, 1, 1, hl + 6 * (4 + 8) + 40 + 48);
	j = FRAME_JSON(f);
	ck_assert_int_eq(cJSON_GetArraySize(jget(j, "members")), 1);
	cJSON_Delete(j);
	frame_unref(f);
	f = reply_who("", "c", v, 1, 1, hl + 6 * (4 + 8) + 40 + 48 - 1);
	PAYLOAD_IS(f, "{\"op\":\"who\",\"ch\":\"c\",\"members\":[],"
	    "\"count\":1}");
	frame_unref(f);

	/* No room at all: an empty list, and still the count. */
	f = reply_who("", "lobby", v, 3, 3, 40);
	PAYLOAD_IS(f, "{\"op\":\"who\",\"ch\":\"lobby\",\"members\":[],"
	    "\"count\":3}");
	frame_unref(f);
}
END_TEST

/* Builds the suite of reply tests. */
/* msg and joined carry the epoch after seq and ts, when there is one. */
START_TEST(test_epoch_fields)
{
	struct sink	 s;
	struct frame	*f;
	char		*body;
	size_t		 len;
	cJSON		*j;

	body = reply_msg_body("lobby", "u1", "U", "hi", 2, NULL, 0, &len);
	ck_assert_ptr_nonnull(body);
	f = reply_msg(7, 100, "abc123", body, len);
	PAYLOAD_IS(f, "{\"op\":\"msg\",\"seq\":7,\"ts\":100,\"epoch\":\"abc123\","
	    "\"ch\":\"lobby\",\"from\":{\"id\":\"u1\",\"name\":\"U\"},"
	    "\"text\":\"hi\"}");
	ck_assert_uint_eq(f->seq, 7);
	frame_unref(f);
	free(body);

	memset(&s, 0, sizeof s);
	ck_assert_int_eq(reply_joined(sink_emit, &s, "", "lobby", 3, "e1", 2,
	    false, NULL, 0, 0, RECOVERED_NONE, 4096), 0);
	ck_assert_int_eq(s.n, 1);
	j = FRAME_JSON(s.f[0]);
	ck_assert_str_eq(jstr(j, "epoch"), "e1");
	ck_assert(jnum(j, "seq") == 3);
	cJSON_Delete(j);
	sink_free(&s);
}
END_TEST

static Suite *
reply_suite(void)
{
	Suite	*s = suite_create("reply");
	TCase	*tc;

	tc = tcase_create("frames");
	tcase_add_test(tc, test_err);
	tcase_add_test(tc, test_ok_pong);
	tcase_add_test(tc, test_ok_seq);
	tcase_add_test(tc, test_bye);
	tcase_add_test(tc, test_epoch_fields);
	tcase_add_test(tc, test_welcome);
	tcase_add_test(tc, test_left_presence);
	tcase_add_test(tc, test_whisper);
	tcase_add_test(tc, test_notice);
	tcase_add_test(tc, test_msg);
	suite_add_tcase(s, tc);

	tc = tcase_create("msgs");
	tcase_add_test(tc, test_joined_no_msgs);
	tcase_add_test(tc, test_joined_one_frame);
	tcase_add_test(tc, test_joined_split);
	tcase_add_test(tc, test_joined_split_boundary);
	tcase_add_test(tc, test_history);
	suite_add_tcase(s, tc);

	tc = tcase_create("who");
	tcase_add_test(tc, test_who_all);
	tcase_add_test(tc, test_who_truncated);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(reply_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
