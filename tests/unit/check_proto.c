/*
 * check_proto.c: unit tests for proto.c, the parsing and validation of client
 * frames (the players' ops and the moderators'), the error codes' and ops'
 * names, and an id echoed in an err frame.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cjson/cJSON.h>

#include "config.h"
#include "frame.h"
#include "proto.h"
#include "reply.h"

static struct config cfg;

/* Gives every test the default configuration. */
static void
setup(void)
{
	config_defaults(&cfg);
}

/*
 * Parses len bytes of buf, which must be accepted; the caller releases req
 * with proto_request_free.
 */
static void
accept_len(const char *buf, size_t len, struct request *req, int line)
{
	struct proto_error	err;
	int			rc;

	memset(&err, 0, sizeof err);
	rc = proto_parse(buf, len, &cfg, req, &err);
	ck_assert_msg(rc == 0, "line %d: '%.*s' refused: %s %s", line,
	    (int)(len > 200 ? 200 : len), buf, proto_errcode_name(err.code),
	    err.msg);
	ck_assert(req->root != NULL);
}

#define ACCEPT(s, req) accept_len((s), strlen(s), (req), __LINE__)

/*
 * Parses len bytes of buf, which must be refused with code and a message
 * naming field (NULL: any message); req is left for the caller to inspect
 * and must need no release.
 */
static void
refuse_len(const char *buf, size_t len, enum errcode code, const char *field,
    struct request *req, int line)
{
	struct proto_error	err;
	int			rc;

	memset(&err, 0, sizeof err);
	err.code = ERR_INTERNAL;
	rc = proto_parse(buf, len, &cfg, req, &err);
	if (rc == 0)
		proto_request_free(req);
	ck_assert_msg(rc == -1, "line %d: '%.*s' accepted", line,
	    (int)(len > 200 ? 200 : len), buf);
	ck_assert_msg(err.code == code, "line %d: '%.*s': code %s, want %s "
	    "(%s)", line, (int)(len > 200 ? 200 : len), buf,
	    proto_errcode_name(err.code), proto_errcode_name(code), err.msg);
	ck_assert_msg(err.msg[0] != '\0', "line %d: empty msg", line);
	ck_assert_msg(strlen(err.msg) < sizeof err.msg, "line %d", line);
	if (field != NULL)
		ck_assert_msg(strstr(err.msg, field) != NULL,
		    "line %d: '%.*s': msg '%s' does not name '%s'", line,
		    (int)(len > 200 ? 200 : len), buf, err.msg, field);
	/* "req needs no release after -1". */
	ck_assert_msg(req->root == NULL, "line %d: root left behind", line);
	ck_assert_msg(req->meta == NULL, "line %d: meta left behind", line);
}

#define REFUSE(s, code, field) do {					\
	struct request	r_;						\
	refuse_len((s), strlen(s), (code), (field), &r_, __LINE__);	\
} while (0)
#define REFUSE_REQ(s, code, field, req)					\
	refuse_len((s), strlen(s), (code), (field), (req), __LINE__)

/* Returns a malloc'd string: pre, then n copies of unit, then post. */
static char *
build(const char *pre, const char *unit, size_t n, const char *post)
{
	size_t	ul = strlen(unit), pl = strlen(pre), ql = strlen(post);
	char	*s = malloc(pl + ul * n + ql + 1), *p;
	size_t	i;

	ck_assert_ptr_nonnull(s);
	memcpy(s, pre, pl);
	p = s + pl;
	for (i = 0; i < n; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, post, ql + 1);
	return s;
}

/* ---- Every op, with valid fields. ---- */

START_TEST(test_op_auth)
{
	struct request	req;

	ACCEPT("{\"op\":\"auth\",\"token\":\"abc.def.ghi\"}", &req);
	ck_assert_int_eq(req.op, OP_AUTH);
	ck_assert_str_eq(req.token, "abc.def.ghi");
	ck_assert_uint_eq(req.token_len, 11);
	ck_assert_ptr_null(req.name);
	ck_assert_str_eq(req.id, "");
	proto_request_free(&req);

	ACCEPT("{\"op\":\"auth\",\"name\":\"alice\"}", &req);
	ck_assert_int_eq(req.op, OP_AUTH);
	ck_assert_ptr_null(req.token);
	ck_assert_str_eq(req.name, "alice");
	ck_assert_uint_eq(req.name_len, 5);
	proto_request_free(&req);

	/* With both, the token is what counts. */
	ACCEPT("{\"name\":\"alice\",\"op\":\"auth\",\"token\":\"t\"}", &req);
	ck_assert_str_eq(req.token, "t");
	proto_request_free(&req);
}
END_TEST

START_TEST(test_op_join)
{
	struct request	req;

	ACCEPT("{\"op\":\"join\",\"ch\":\"global\"}", &req);
	ck_assert_int_eq(req.op, OP_JOIN);
	ck_assert_str_eq(req.ch, "global");
	ck_assert_int_eq(req.history, -1);
	ck_assert_int_eq(req.since, -1);
	proto_request_free(&req);

	ACCEPT("{\"op\":\"join\",\"ch\":\"guild:42\",\"history\":10}", &req);
	ck_assert_str_eq(req.ch, "guild:42");
	ck_assert_int_eq(req.history, 10);
	ck_assert_int_eq(req.since, -1);
	proto_request_free(&req);

	ACCEPT("{\"op\":\"join\",\"ch\":\"party:x\",\"since\":77}", &req);
	ck_assert_int_eq(req.history, -1);
	ck_assert_int_eq(req.since, 77);
	proto_request_free(&req);
}
END_TEST

START_TEST(test_op_leave_who_ping)
{
	struct request	req;

	ACCEPT("{\"op\":\"leave\",\"ch\":\"global\"}", &req);
	ck_assert_int_eq(req.op, OP_LEAVE);
	ck_assert_str_eq(req.ch, "global");
	proto_request_free(&req);

	ACCEPT("{\"op\":\"who\",\"ch\":\"a.b-c_d\"}", &req);
	ck_assert_int_eq(req.op, OP_WHO);
	ck_assert_str_eq(req.ch, "a.b-c_d");
	proto_request_free(&req);

	ACCEPT("{\"op\":\"ping\"}", &req);
	ck_assert_int_eq(req.op, OP_PING);
	ck_assert_str_eq(req.id, "");
	ck_assert_ptr_null(req.ch);
	ck_assert_ptr_null(req.text);
	ck_assert_ptr_null(req.meta);
	proto_request_free(&req);

	/* Unknown fields are ignored; whitespace around the object is fine. */
	ACCEPT(" \r\n\t{ \"op\" : \"ping\", \"zzz\": [1, {\"a\": null}] }\n \t",
	    &req);
	ck_assert_int_eq(req.op, OP_PING);
	proto_request_free(&req);
}
END_TEST

START_TEST(test_op_send)
{
	struct request	req;

	ACCEPT("{\"op\":\"send\",\"ch\":\"global\",\"text\":\"hello\"}", &req);
	ck_assert_int_eq(req.op, OP_SEND);
	ck_assert_str_eq(req.ch, "global");
	ck_assert_str_eq(req.text, "hello");
	ck_assert_uint_eq(req.text_len, 5);
	ck_assert_ptr_null(req.meta);
	ck_assert_uint_eq(req.meta_len, 0);
	proto_request_free(&req);

	/* meta is kept serialized and compact. */
	ACCEPT("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"hi\",\"meta\":"
	    "{ \"a\" : 1, \"b\" : [true, \"x\"] }}", &req);
	ck_assert_ptr_nonnull(req.meta);
	ck_assert_str_eq(req.meta, "{\"a\":1,\"b\":[true,\"x\"]}");
	ck_assert_uint_eq(req.meta_len, strlen(req.meta));
	proto_request_free(&req);
	ck_assert_ptr_null(req.meta);
	ck_assert_ptr_null(req.root);

	ACCEPT("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"hi\",\"meta\":{}}",
	    &req);
	ck_assert_str_eq(req.meta, "{}");
	ck_assert_uint_eq(req.meta_len, 2);
	proto_request_free(&req);

	/* Escapes in text are decoded. */
	ACCEPT("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"a\\\"b\\\\c\\n\\u00e9\"}",
	    &req);
	ck_assert_str_eq(req.text, "a\"b\\c\n\xc3\xa9");
	ck_assert_uint_eq(req.text_len, 8);
	proto_request_free(&req);
}
END_TEST

START_TEST(test_op_whisper)
{
	struct request	req;

	ACCEPT("{\"op\":\"whisper\",\"to\":\"guest:bob\",\"text\":\"psst\"}",
	    &req);
	ck_assert_int_eq(req.op, OP_WHISPER);
	ck_assert_str_eq(req.to, "guest:bob");
	ck_assert_str_eq(req.text, "psst");
	ck_assert_uint_eq(req.text_len, 4);
	ck_assert_ptr_null(req.ch);
	proto_request_free(&req);
}
END_TEST

START_TEST(test_op_history)
{
	struct request	req;

	ACCEPT("{\"op\":\"history\",\"ch\":\"global\"}", &req);
	ck_assert_int_eq(req.op, OP_HISTORY);
	ck_assert_str_eq(req.ch, "global");
	ck_assert_int_eq(req.limit, 50);
	ck_assert_int_eq(req.since, -1);
	proto_request_free(&req);

	ACCEPT("{\"op\":\"history\",\"ch\":\"global\",\"limit\":1}", &req);
	ck_assert_int_eq(req.limit, 1);
	proto_request_free(&req);
	ACCEPT("{\"op\":\"history\",\"ch\":\"global\",\"limit\":100}", &req);
	ck_assert_int_eq(req.limit, 100);
	proto_request_free(&req);
	ACCEPT("{\"op\":\"history\",\"ch\":\"global\",\"since\":0}", &req);
	ck_assert_int_eq(req.since, 0);
	ck_assert_int_eq(req.limit, 50);
	proto_request_free(&req);
	ACCEPT("{\"op\":\"history\",\"ch\":\"g\",\"since\":12,\"limit\":3}",
	    &req);
	ck_assert_int_eq(req.since, 12);
	ck_assert_int_eq(req.limit, 3);
	proto_request_free(&req);
	ACCEPT("{\"op\":\"history\",\"ch\":\"g\",\"limit\":2e1}", &req);
	ck_assert_int_eq(req.limit, 20);
	proto_request_free(&req);
}
END_TEST

/* Only len bytes count: the buffer need not end with a NUL. */
START_TEST(test_length_honoured)
{
	const char	*s = "{\"op\":\"ping\"}garbage";
	const char	*t = "{\"op\":\"join\",\"ch\":\"global\"}";
	struct request	 req;

	accept_len(s, 13, &req, __LINE__);
	ck_assert_int_eq(req.op, OP_PING);
	proto_request_free(&req);
	/* A frame cut short is not valid JSON. */
	refuse_len(t, strlen(t) - 1, ERR_BAD_JSON, NULL, &req, __LINE__);
	refuse_len(t, 0, ERR_BAD_JSON, NULL, &req, __LINE__);
}
END_TEST

/* ---- bad_json. ---- */

START_TEST(test_bad_json)
{
	struct request	req;

	REFUSE("", ERR_BAD_JSON, NULL);
	REFUSE(" ", ERR_BAD_JSON, NULL);
	REFUSE("{", ERR_BAD_JSON, NULL);
	REFUSE("}", ERR_BAD_JSON, NULL);
	REFUSE("{\"op\":\"ping\"", ERR_BAD_JSON, NULL);
	REFUSE("{\"op\":ping}", ERR_BAD_JSON, NULL);
	REFUSE("{'op':'ping'}", ERR_BAD_JSON, NULL);
	REFUSE("{\"op\":\"ping\",}", ERR_BAD_JSON, NULL);
	REFUSE("{\"op\" \"ping\"}", ERR_BAD_JSON, NULL);
	REFUSE("{\"op\":\"pi\\xng\"}", ERR_BAD_JSON, NULL);
	REFUSE("{\"op\":\"ping\",\"s\":\"unterminated}", ERR_BAD_JSON, NULL);
	REFUSE("nul", ERR_BAD_JSON, NULL);

	/* The id of a frame that is not JSON is unknown. */
	REFUSE_REQ("{\"id\":5,", ERR_BAD_JSON, NULL, &req);
	ck_assert_str_eq(req.id, "");
}
END_TEST

START_TEST(test_trailing_garbage)
{
	REFUSE("{\"op\":\"ping\"} x", ERR_BAD_JSON, "trailing");
	REFUSE("{\"op\":\"ping\"}x", ERR_BAD_JSON, "trailing");
	REFUSE("{\"op\":\"ping\"}{}", ERR_BAD_JSON, "trailing");
	REFUSE("{\"op\":\"ping\"}{\"op\":\"ping\"}", ERR_BAD_JSON, "trailing");
	REFUSE("{\"op\":\"ping\"}}", ERR_BAD_JSON, "trailing");
	REFUSE("{\"op\":\"ping\"}\n,", ERR_BAD_JSON, "trailing");
}
END_TEST

/* A NUL does not end the frame: the bytes after it still count. */
START_TEST(test_trailing_after_nul)
{
	const char	nul_junk[] = "{\"op\":\"ping\"}\0junk";
	struct request	req;

	refuse_len(nul_junk, sizeof nul_junk - 1, ERR_BAD_JSON, NULL, &req,
	    __LINE__);
}
END_TEST

START_TEST(test_not_object)
{
	REFUSE("[]", ERR_BAD_JSON, "object");
	REFUSE("[{\"op\":\"ping\"}]", ERR_BAD_JSON, "object");
	REFUSE("42", ERR_BAD_JSON, "object");
	REFUSE("-1.5e3", ERR_BAD_JSON, "object");
	REFUSE("\"ping\"", ERR_BAD_JSON, "object");
	REFUSE("null", ERR_BAD_JSON, "object");
	REFUSE("true", ERR_BAD_JSON, "object");
	REFUSE("false", ERR_BAD_JSON, "object");
}
END_TEST

START_TEST(test_depth)
{
	struct request	 req;
	char		*s;

	ck_assert_int_eq(cfg.json_depth_max, 8);

	/* The frame's object is level 1: seven arrays inside reach 8. */
	{
		char	buf[256];

		snprintf(buf, sizeof buf, "{\"op\":\"ping\",\"x\":%s1%s}",
		    "[[[[[[[", "]]]]]]]");
		ACCEPT(buf, &req);
		proto_request_free(&req);
		snprintf(buf, sizeof buf, "{\"op\":\"ping\",\"x\":%s1%s}",
		    "[[[[[[[[", "]]]]]]]]");
		REFUSE(buf, ERR_BAD_JSON, "8");

		/* Objects count like arrays. */
		ACCEPT("{\"op\":\"ping\",\"a\":{\"a\":{\"a\":{\"a\":{\"a\":"
		    "{\"a\":{\"a\":1}}}}}}}", &req);
		proto_request_free(&req);
		REFUSE("{\"op\":\"ping\",\"a\":{\"a\":{\"a\":{\"a\":{\"a\":"
		    "{\"a\":{\"a\":{\"a\":{}}}}}}}}}", ERR_BAD_JSON, "8");
		/* Mixed, and depth is the deepest branch, not the total. */
		ACCEPT("{\"op\":\"ping\",\"a\":[{\"b\":[{\"c\":[[[1]]]}]}],"
		    "\"d\":[{\"e\":[{\"f\":[[[2]]]}]}]}", &req);
		proto_request_free(&req);
		REFUSE("{\"op\":\"ping\",\"a\":[{\"b\":[{\"c\":[[[1]]]}]}],"
		    "\"d\":[{\"e\":[{\"f\":[[[[2]]]]}]}]}", ERR_BAD_JSON, NULL);
		/* Also within meta, and even before the fields are looked at. */
		REFUSE("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"t\",\"meta\":"
		    "{\"a\":[[[[[[[[1]]]]]]]]}}", ERR_BAD_JSON, NULL);
	}

	/* Brackets inside strings do not count, escaped quotes included. */
	ACCEPT("{\"op\":\"ping\",\"x\":\"[[[[[[[[[[[[{{{{{{{{{{{{\"}", &req);
	proto_request_free(&req);
	ACCEPT("{\"op\":\"ping\",\"x\":\"\\\"[[[[[[[[[[[[\\\\\",\"y\":"
	    "\"{{{{{{{{{{{\\\"\"}", &req);
	proto_request_free(&req);
	ACCEPT("{\"op\":\"ping\",\"[[[[[[[[[[\":1}", &req);
	proto_request_free(&req);

	/* A very deep frame is refused without trouble. */
	s = build("{\"op\":\"ping\",\"x\":", "[", 100000, "");
	REFUSE(s, ERR_BAD_JSON, NULL);
	free(s);

	/* The limit comes from the configuration. */
	cfg.json_depth_max = 2;
	ACCEPT("{\"op\":\"ping\",\"x\":[1]}", &req);
	proto_request_free(&req);
	REFUSE("{\"op\":\"ping\",\"x\":[[1]]}", ERR_BAD_JSON, "2");
	REFUSE("{\"op\":\"ping\",\"x\":{\"y\":{}}}", ERR_BAD_JSON, "2");
	cfg.json_depth_max = 64;
	s = build("{\"op\":\"ping\",\"x\":", "[", 63, "");
	{
		char	*t = build(s, "]", 63, "}");

		ACCEPT(t, &req);
		proto_request_free(&req);
		free(t);
	}
	free(s);
}
END_TEST

/* ---- bad_op. ---- */

START_TEST(test_bad_op)
{
	struct request	req;

	REFUSE("{}", ERR_BAD_OP, "op");
	REFUSE("{\"id\":1}", ERR_BAD_OP, "op");
	REFUSE("{\"op\":1}", ERR_BAD_OP, "op");
	REFUSE("{\"op\":null}", ERR_BAD_OP, "op");
	REFUSE("{\"op\":true}", ERR_BAD_OP, "op");
	REFUSE("{\"op\":[\"ping\"]}", ERR_BAD_OP, "op");
	REFUSE("{\"op\":{\"ping\":1}}", ERR_BAD_OP, "op");
	REFUSE("{\"op\":\"\"}", ERR_BAD_OP, "op");
	REFUSE("{\"op\":\"nope\"}", ERR_BAD_OP, "op");
	REFUSE("{\"op\":\"PING\"}", ERR_BAD_OP, "op");
	REFUSE("{\"op\":\"ping \"}", ERR_BAD_OP, "op");
	REFUSE("{\"op\":\"pin\"}", ERR_BAD_OP, "op");
	REFUSE("{\"op\":\"pingg\"}", ERR_BAD_OP, "op");
	REFUSE("{\"op\":\"err\"}", ERR_BAD_OP, "op");
	REFUSE("{\"op\":\"msg\"}", ERR_BAD_OP, "op");
	REFUSE("{\"op\":\"welcome\"}", ERR_BAD_OP, "op");
	/* Names are case-sensitive. */
	REFUSE("{\"OP\":\"ping\"}", ERR_BAD_OP, "op");

	/* The id is still echoed. */
	REFUSE_REQ("{\"op\":\"nope\",\"id\":\"x1\"}", ERR_BAD_OP, "op", &req);
	ck_assert_str_eq(req.id, "\"x1\"");
	REFUSE_REQ("{\"id\":17}", ERR_BAD_OP, "op", &req);
	ck_assert_str_eq(req.id, "17");
}
END_TEST

/* ---- id. ---- */

/* Parses a ping whose id is the JSON text idjson, and returns req.id. */
static void
ping_id(const char *idjson, char *out, size_t outlen)
{
	struct request	 req;
	char		*s = build("{\"op\":\"ping\",\"id\":", idjson, 1, "}");

	ACCEPT(s, &req);
	snprintf(out, outlen, "%s", req.id);
	proto_request_free(&req);
	free(s);
}

START_TEST(test_id_string)
{
	char	 id[PROTO_ID_JSON_MAX + 1];
	char	*s;
	cJSON	*j;

	ping_id("\"abc\"", id, sizeof id);
	ck_assert_str_eq(id, "\"abc\"");
	ping_id("\"\"", id, sizeof id);
	ck_assert_str_eq(id, "\"\"");

	/* Quotes, backslashes and controls come back escaped. */
	ping_id("\"a\\\"b\\\\c\\nd\\u0001\"", id, sizeof id);
	ck_assert_str_eq(id, "\"a\\\"b\\\\c\\nd\\u0001\"");
	j = cJSON_Parse(id);
	ck_assert_ptr_nonnull(j);
	ck_assert(cJSON_IsString(j));
	ck_assert_str_eq(j->valuestring, "a\"b\\c\nd\x01");
	cJSON_Delete(j);

	/* Non-ASCII passes through. */
	ping_id("\"caf\xc3\xa9\"", id, sizeof id);
	ck_assert_str_eq(id, "\"caf\xc3\xa9\"");
	ping_id("\"\\u00e9\"", id, sizeof id);
	ck_assert_str_eq(id, "\"\xc3\xa9\"");

	/* 64 bytes is the limit, in bytes not characters. */
	s = build("\"", "x", 64, "\"");
	ping_id(s, id, sizeof id);
	ck_assert_str_eq(id, s);
	free(s);
	s = build("\"", "\xc3\xa9", 32, "\"");
	ping_id(s, id, sizeof id);
	ck_assert_str_eq(id, s);
	free(s);

	/* The worst case for escaping still fits. */
	s = build("\"", "\\u0001", 64, "\"");
	ping_id(s, id, sizeof id);
	ck_assert_uint_eq(strlen(id), 64 * 6 + 2);
	free(s);
	s = build("\"", "\\\"", 64, "\"");
	ping_id(s, id, sizeof id);
	ck_assert_uint_eq(strlen(id), 64 * 2 + 2);
	free(s);
}
END_TEST

START_TEST(test_id_number)
{
	char	id[PROTO_ID_JSON_MAX + 1];
	cJSON	*j;

	ping_id("42", id, sizeof id);
	ck_assert_str_eq(id, "42");
	ping_id("0", id, sizeof id);
	ck_assert_str_eq(id, "0");
	ping_id("-7", id, sizeof id);
	ck_assert_str_eq(id, "-7");
	ping_id("1e3", id, sizeof id);
	ck_assert_str_eq(id, "1000");
	ping_id("9007199254740991", id, sizeof id);
	ck_assert_str_eq(id, "9007199254740991");
	ping_id("-9007199254740991", id, sizeof id);
	ck_assert_str_eq(id, "-9007199254740991");

	/* Fractions are echoed as numbers that read back the same. */
	ping_id("1.5", id, sizeof id);
	ck_assert_str_eq(id, "1.5");
	ping_id("-0.25", id, sizeof id);
	ck_assert_str_eq(id, "-0.25");
	ping_id("0.1", id, sizeof id);
	j = cJSON_Parse(id);
	ck_assert(cJSON_IsNumber(j));
	ck_assert(j->valuedouble == 0.1);
	cJSON_Delete(j);
	ping_id("1e300", id, sizeof id);
	j = cJSON_Parse(id);
	ck_assert_msg(cJSON_IsNumber(j), "id '%s'", id);
	ck_assert(j->valuedouble == 1e300);
	cJSON_Delete(j);
}
END_TEST

START_TEST(test_id_invalid)
{
	struct request	 req;
	char		*s;

	s = build("{\"op\":\"ping\",\"id\":\"", "x", 65, "\"}");
	REFUSE_REQ(s, ERR_BAD_FIELD, "id", &req);
	ck_assert_str_eq(req.id, "");
	free(s);
	s = build("{\"op\":\"ping\",\"id\":\"a", "\xc3\xa9", 32, "\"}");
	REFUSE_REQ(s, ERR_BAD_FIELD, "id", &req);
	free(s);

	REFUSE_REQ("{\"op\":\"ping\",\"id\":{}}", ERR_BAD_FIELD, "id", &req);
	ck_assert_str_eq(req.id, "");
	REFUSE("{\"op\":\"ping\",\"id\":{\"a\":1}}", ERR_BAD_FIELD, "id");
	REFUSE("{\"op\":\"ping\",\"id\":[1]}", ERR_BAD_FIELD, "id");
	REFUSE("{\"op\":\"ping\",\"id\":true}", ERR_BAD_FIELD, "id");
	REFUSE("{\"op\":\"ping\",\"id\":null}", ERR_BAD_FIELD, "id");
	/* A bad id is reported even when the op is bad too. */
	REFUSE("{\"op\":\"nope\",\"id\":{}}", ERR_BAD_FIELD, "id");
}
END_TEST

/* The id is there to echo when a later field is refused. */
START_TEST(test_id_echo_on_error)
{
	struct request	req;

	REFUSE_REQ("{\"op\":\"join\",\"id\":5}", ERR_BAD_FIELD, "ch", &req);
	ck_assert_str_eq(req.id, "5");
	REFUSE_REQ("{\"op\":\"send\",\"id\":\"s\\\"1\",\"ch\":\"g\"}",
	    ERR_BAD_FIELD, "text", &req);
	ck_assert_str_eq(req.id, "\"s\\\"1\"");
	REFUSE_REQ("{\"id\":2.5,\"op\":\"history\",\"ch\":\"g\",\"limit\":0}",
	    ERR_BAD_FIELD, "limit", &req);
	ck_assert_str_eq(req.id, "2.5");
}
END_TEST

/* ---- Field checks. ---- */

START_TEST(test_ch)
{
	static const char *const ops[] = {
		"join", "leave", "who", "history", "send"
	};
	struct request	 req;
	char		 buf[512];
	char		*s;
	size_t		 i;

	for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
		const char *text = strcmp(ops[i], "send") == 0 ?
		    ",\"text\":\"t\"" : "";

#define CH(v) (snprintf(buf, sizeof buf, "{\"op\":\"%s\"%s%s%s}", ops[i], \
    text, (v)[0] != '\0' ? ",\"ch\":" : "", (v)), buf)
		REFUSE(CH(""), ERR_BAD_FIELD, "ch");
		REFUSE(CH("5"), ERR_BAD_FIELD, "ch");
		REFUSE(CH("null"), ERR_BAD_FIELD, "ch");
		REFUSE(CH("[\"g\"]"), ERR_BAD_FIELD, "ch");
		REFUSE(CH("\"\""), ERR_BAD_FIELD, "ch");
		REFUSE(CH("\"bad name\""), ERR_BAD_FIELD, "ch");
		REFUSE(CH("\"guild:*\""), ERR_BAD_FIELD, "ch");
		REFUSE(CH("\"caf\xc3\xa9\""), ERR_BAD_FIELD, "ch");
		REFUSE(CH("\"a\\nb\""), ERR_BAD_FIELD, "ch");
		ACCEPT(CH("\"g\""), &req);
		ck_assert_str_eq(req.ch, "g");
		proto_request_free(&req);
#undef CH
	}
	/* Channel names are case-sensitive in the key too. */
	REFUSE("{\"op\":\"join\",\"CH\":\"global\"}", ERR_BAD_FIELD, "ch");

	s = build("{\"op\":\"join\",\"ch\":\"", "c", 64, "\"}");
	ACCEPT(s, &req);
	ck_assert_uint_eq(strlen(req.ch), 64);
	proto_request_free(&req);
	free(s);
	s = build("{\"op\":\"join\",\"ch\":\"", "c", 65, "\"}");
	REFUSE(s, ERR_BAD_FIELD, "ch");
	free(s);
}
END_TEST

START_TEST(test_text)
{
	REFUSE("{\"op\":\"send\",\"ch\":\"g\"}", ERR_BAD_FIELD, "text");
	REFUSE("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"\"}", ERR_BAD_FIELD,
	    "text");
	REFUSE("{\"op\":\"send\",\"ch\":\"g\",\"text\":5}", ERR_BAD_FIELD,
	    "text");
	REFUSE("{\"op\":\"send\",\"ch\":\"g\",\"text\":null}", ERR_BAD_FIELD,
	    "text");
	REFUSE("{\"op\":\"send\",\"ch\":\"g\",\"text\":[\"a\"]}", ERR_BAD_FIELD,
	    "text");
	REFUSE("{\"op\":\"send\",\"ch\":\"g\",\"text\":{}}", ERR_BAD_FIELD,
	    "text");
	REFUSE("{\"op\":\"whisper\",\"to\":\"bob\"}", ERR_BAD_FIELD, "text");
	REFUSE("{\"op\":\"whisper\",\"to\":\"bob\",\"text\":\"\"}",
	    ERR_BAD_FIELD, "text");
	REFUSE("{\"op\":\"whisper\",\"to\":\"bob\",\"text\":false}",
	    ERR_BAD_FIELD, "text");
}
END_TEST

START_TEST(test_text_length)
{
	struct request	 req;
	char		*s;

	ck_assert_int_eq(cfg.text_max, 500);

	s = build("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"", "a", 500, "\"}");
	ACCEPT(s, &req);
	ck_assert_uint_eq(req.text_len, 500);
	proto_request_free(&req);
	free(s);
	s = build("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"", "a", 501, "\"}");
	REFUSE(s, ERR_TOO_LONG, "text");
	free(s);

	/* Characters, not bytes, count: 500 two-byte characters pass. */
	s = build("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"", "\xc3\xa9", 500,
	    "\"}");
	ACCEPT(s, &req);
	ck_assert_uint_eq(req.text_len, 1000);
	proto_request_free(&req);
	free(s);
	s = build("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"", "\xc3\xa9", 501,
	    "\"}");
	REFUSE(s, ERR_TOO_LONG, "text");
	free(s);
	/* Four-byte characters, written raw and as surrogate pairs. */
	s = build("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"",
	    "\xf0\x9f\x98\x80", 500, "\"}");
	ACCEPT(s, &req);
	ck_assert_uint_eq(req.text_len, 2000);
	proto_request_free(&req);
	free(s);
	s = build("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"", "\\ud83d\\ude00",
	    500, "\"}");
	ACCEPT(s, &req);
	ck_assert_uint_eq(req.text_len, 2000);
	ck_assert(memcmp(req.text, "\xf0\x9f\x98\x80", 4) == 0);
	proto_request_free(&req);
	free(s);
	s = build("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"", "\\u20ac", 501,
	    "\"}");
	REFUSE(s, ERR_TOO_LONG, "text");
	free(s);

	/* whisper has the same limit. */
	s = build("{\"op\":\"whisper\",\"to\":\"bob\",\"text\":\"", "\xe2\x82\xac",
	    500, "\"}");
	ACCEPT(s, &req);
	ck_assert_uint_eq(req.text_len, 1500);
	proto_request_free(&req);
	free(s);
	s = build("{\"op\":\"whisper\",\"to\":\"bob\",\"text\":\"", "b", 501,
	    "\"}");
	REFUSE(s, ERR_TOO_LONG, "text");
	free(s);

	/* The limit comes from the configuration. */
	cfg.text_max = 3;
	ACCEPT("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"\xc3\xa9\xc3\xa9\xc3\xa9\"}",
	    &req);
	proto_request_free(&req);
	REFUSE("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"abcd\"}", ERR_TOO_LONG,
	    "text");
}
END_TEST

/*
 * Escapes that cJSON would turn into a NUL or into something that is not
 * UTF-8 must not slip through: the text is refused (as bad JSON or as a bad
 * text field), never accepted cut short or malformed.
 */
static void
refuse_text_escape(const char *esc, int line)
{
	struct proto_error	 err;
	struct request		 req;
	char			*s;
	int			 rc;

	s = build("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"", esc, 1, "\"}");
	rc = proto_parse(s, strlen(s), &cfg, &req, &err);
	free(s);
	if (rc == 0) {
		size_t	n = req.text_len;

		proto_request_free(&req);
		ck_abort_msg("line %d: text \"%s\" accepted (as %zu bytes)",
		    line, esc, n);
	}
	ck_assert_msg(err.code == ERR_BAD_JSON || err.code == ERR_BAD_FIELD,
	    "line %d: text \"%s\": code %s", line, esc,
	    proto_errcode_name(err.code));
	if (err.code == ERR_BAD_FIELD)
		ck_assert_msg(strstr(err.msg, "text") != NULL, "line %d: %s",
		    line, err.msg);
	ck_assert_ptr_null(req.root);
}

START_TEST(test_text_escapes)
{
	struct request	req;

	refuse_text_escape("\\ud800", __LINE__);
	refuse_text_escape("a\\ud800b", __LINE__);
	refuse_text_escape("\\udbff", __LINE__);
	refuse_text_escape("\\udc00", __LINE__);
	refuse_text_escape("\\udfff", __LINE__);
	refuse_text_escape("\\ud800\\u0041", __LINE__);
	refuse_text_escape("\\ud800\\ud800", __LINE__);
	refuse_text_escape("\\udc00\\ud800", __LINE__);
	refuse_text_escape("\\ud800x\\udc00", __LINE__);

	/* Proper pairs and other escapes are fine. */
	ACCEPT("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"\\ud83d\\ude00\"}",
	    &req);
	ck_assert_str_eq(req.text, "\xf0\x9f\x98\x80");
	proto_request_free(&req);
	ACCEPT("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"\\u0001\\uffff\"}",
	    &req);
	ck_assert_str_eq(req.text, "\x01\xef\xbf\xbf");
	proto_request_free(&req);
}
END_TEST

START_TEST(test_meta)
{
	struct request	 req;
	char		*s;

	REFUSE("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"t\",\"meta\":[]}",
	    ERR_BAD_FIELD, "meta");
	REFUSE("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"t\",\"meta\":\"x\"}",
	    ERR_BAD_FIELD, "meta");
	REFUSE("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"t\",\"meta\":1}",
	    ERR_BAD_FIELD, "meta");
	REFUSE("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"t\",\"meta\":true}",
	    ERR_BAD_FIELD, "meta");

	/* null is the same as no meta. */
	ACCEPT("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"t\",\"meta\":null}",
	    &req);
	ck_assert_ptr_null(req.meta);
	ck_assert_uint_eq(req.meta_len, 0);
	proto_request_free(&req);

	/* {"k":"..."} is 8 bytes plus the string: 504 characters make 512. */
	s = build("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"t\",\"meta\":{\"k\":\"",
	    "m", 504, "\"}}");
	ACCEPT(s, &req);
	ck_assert_uint_eq(req.meta_len, PROTO_META_MAX);
	ck_assert_uint_eq(strlen(req.meta), PROTO_META_MAX);
	proto_request_free(&req);
	free(s);
	s = build("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"t\",\"meta\":{\"k\":\"",
	    "m", 505, "\"}}");
	REFUSE(s, ERR_TOO_LONG, "meta");
	free(s);
	/* What counts is the compact serialization, not the input. */
	s = build("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"t\",\"meta\":{",
	    " ", 2000, "\"k\":1}}");
	ACCEPT(s, &req);
	ck_assert_str_eq(req.meta, "{\"k\":1}");
	proto_request_free(&req);
	free(s);
	/* And escapes count as serialized: 100 quotes are 200 bytes. */
	s = build("{\"op\":\"send\",\"ch\":\"g\",\"text\":\"t\",\"meta\":{\"k\":\"",
	    "\\\"", 300, "\"}}");
	REFUSE(s, ERR_TOO_LONG, "meta");
	free(s);
}
END_TEST

START_TEST(test_whisper_to)
{
	struct request	 req;
	char		*s;

	REFUSE("{\"op\":\"whisper\",\"text\":\"t\"}", ERR_BAD_FIELD, "to");
	REFUSE("{\"op\":\"whisper\",\"to\":5,\"text\":\"t\"}", ERR_BAD_FIELD,
	    "to");
	REFUSE("{\"op\":\"whisper\",\"to\":null,\"text\":\"t\"}",
	    ERR_BAD_FIELD, "to");
	REFUSE("{\"op\":\"whisper\",\"to\":\"\",\"text\":\"t\"}", ERR_BAD_FIELD,
	    "to");
	REFUSE("{\"op\":\"whisper\",\"to\":\"b ob\",\"text\":\"t\"}",
	    ERR_BAD_FIELD, "to");
	REFUSE("{\"op\":\"whisper\",\"to\":\"b\\tob\",\"text\":\"t\"}",
	    ERR_BAD_FIELD, "to");
	REFUSE("{\"op\":\"whisper\",\"to\":\"b\xc3\xa9\",\"text\":\"t\"}",
	    ERR_BAD_FIELD, "to");
	REFUSE("{\"op\":\"whisper\",\"to\":[\"bob\"],\"text\":\"t\"}",
	    ERR_BAD_FIELD, "to");
	s = build("{\"op\":\"whisper\",\"text\":\"t\",\"to\":\"", "u", 65, "\"}");
	REFUSE(s, ERR_BAD_FIELD, "to");
	free(s);
	s = build("{\"op\":\"whisper\",\"text\":\"t\",\"to\":\"", "u", 64, "\"}");
	ACCEPT(s, &req);
	ck_assert_uint_eq(strlen(req.to), 64);
	proto_request_free(&req);
	free(s);
}
END_TEST

START_TEST(test_join_history_range)
{
	struct request	req;

	ACCEPT("{\"op\":\"join\",\"ch\":\"g\",\"history\":0}", &req);
	ck_assert_int_eq(req.history, 0);
	proto_request_free(&req);
	ACCEPT("{\"op\":\"join\",\"ch\":\"g\",\"history\":100}", &req);
	ck_assert_int_eq(req.history, 100);
	proto_request_free(&req);
	ACCEPT("{\"op\":\"join\",\"ch\":\"g\",\"history\":5.0}", &req);
	ck_assert_int_eq(req.history, 5);
	proto_request_free(&req);

	REFUSE("{\"op\":\"join\",\"ch\":\"g\",\"history\":101}", ERR_BAD_FIELD,
	    "history");
	REFUSE("{\"op\":\"join\",\"ch\":\"g\",\"history\":-1}", ERR_BAD_FIELD,
	    "history");
	REFUSE("{\"op\":\"join\",\"ch\":\"g\",\"history\":1.5}", ERR_BAD_FIELD,
	    "history");
	REFUSE("{\"op\":\"join\",\"ch\":\"g\",\"history\":\"5\"}",
	    ERR_BAD_FIELD, "history");
	REFUSE("{\"op\":\"join\",\"ch\":\"g\",\"history\":true}", ERR_BAD_FIELD,
	    "history");
	REFUSE("{\"op\":\"join\",\"ch\":\"g\",\"history\":1e10}", ERR_BAD_FIELD,
	    "history");
	REFUSE("{\"op\":\"join\",\"ch\":\"g\",\"history\":[5]}", ERR_BAD_FIELD,
	    "history");
}
END_TEST

START_TEST(test_since)
{
	static const char *const ops[] = { "join", "history" };
	struct request	req;
	char		buf[256];
	size_t		i;

	for (i = 0; i < 2; i++) {
#define SINCE(v) (snprintf(buf, sizeof buf, \
    "{\"op\":\"%s\",\"ch\":\"g\",\"since\":%s}", ops[i], (v)), buf)
		ACCEPT(SINCE("0"), &req);
		ck_assert_int_eq(req.since, 0);
		proto_request_free(&req);
		ACCEPT(SINCE("123456789012"), &req);
		ck_assert_int_eq(req.since, INT64_C(123456789012));
		proto_request_free(&req);
		ACCEPT(SINCE("9007199254740992"), &req);
		ck_assert_int_eq(req.since, INT64_C(9007199254740992));
		proto_request_free(&req);

		REFUSE(SINCE("-1"), ERR_BAD_FIELD, "since");
		REFUSE(SINCE("-0.5"), ERR_BAD_FIELD, "since");
		REFUSE(SINCE("1.5"), ERR_BAD_FIELD, "since");
		REFUSE(SINCE("\"3\""), ERR_BAD_FIELD, "since");
		REFUSE(SINCE("null"), ERR_BAD_FIELD, "since");
		REFUSE(SINCE("{}"), ERR_BAD_FIELD, "since");
		REFUSE(SINCE("1e300"), ERR_BAD_FIELD, "since");
		REFUSE(SINCE("9007199254740994"), ERR_BAD_FIELD, "since");
#undef SINCE
	}
	/* history and since together. */
	ACCEPT("{\"op\":\"join\",\"ch\":\"g\",\"history\":5,\"since\":9}", &req);
	ck_assert_int_eq(req.history, 5);
	ck_assert_int_eq(req.since, 9);
	proto_request_free(&req);
}
END_TEST

START_TEST(test_history_limit)
{
	REFUSE("{\"op\":\"history\",\"ch\":\"g\",\"limit\":0}", ERR_BAD_FIELD,
	    "limit");
	REFUSE("{\"op\":\"history\",\"ch\":\"g\",\"limit\":101}", ERR_BAD_FIELD,
	    "limit");
	REFUSE("{\"op\":\"history\",\"ch\":\"g\",\"limit\":-5}", ERR_BAD_FIELD,
	    "limit");
	REFUSE("{\"op\":\"history\",\"ch\":\"g\",\"limit\":2.5}", ERR_BAD_FIELD,
	    "limit");
	REFUSE("{\"op\":\"history\",\"ch\":\"g\",\"limit\":\"10\"}",
	    ERR_BAD_FIELD, "limit");
	REFUSE("{\"op\":\"history\",\"ch\":\"g\",\"limit\":null}",
	    ERR_BAD_FIELD, "limit");
}
END_TEST

START_TEST(test_auth_fields)
{
	struct request	 req;
	char		*s;

	/* Neither token nor name: the message names what is missing. */
	REFUSE("{\"op\":\"auth\"}", ERR_BAD_FIELD, "token");
	REFUSE("{\"op\":\"auth\"}", ERR_BAD_FIELD, "name");
	REFUSE("{\"op\":\"auth\",\"token\":5}", ERR_BAD_FIELD, "token");
	REFUSE("{\"op\":\"auth\",\"token\":null}", ERR_BAD_FIELD, "token");
	REFUSE("{\"op\":\"auth\",\"token\":{}}", ERR_BAD_FIELD, "token");
	REFUSE("{\"op\":\"auth\",\"name\":5}", ERR_BAD_FIELD, "name");
	REFUSE("{\"op\":\"auth\",\"name\":[\"a\"]}", ERR_BAD_FIELD, "name");

	s = build("{\"op\":\"auth\",\"token\":\"", "t", 4096, "\"}");
	ACCEPT(s, &req);
	ck_assert_uint_eq(req.token_len, 4096);
	proto_request_free(&req);
	free(s);
	s = build("{\"op\":\"auth\",\"token\":\"", "t", 4097, "\"}");
	REFUSE(s, ERR_BAD_FIELD, "token");
	free(s);
}
END_TEST

/*
 * cJSON decodes \u0000 into a NUL inside the string, and everything after it
 * is invisible to strlen: such a string must be refused, never taken as the
 * part before the NUL.
 */
START_TEST(test_nul_escape_text)
{
	refuse_text_escape("\\u0000", __LINE__);
	refuse_text_escape("a\\u0000", __LINE__);
	refuse_text_escape("a\\u0000b", __LINE__);
	refuse_text_escape("hi\\u0000 <hidden part>", __LINE__);
}
END_TEST

/*
 * The same for a raw NUL byte inside a string (JSON forbids unescaped
 * control characters anyway): the frame is len bytes of valid UTF-8, and
 * U+0000 is valid UTF-8.
 */
START_TEST(test_raw_nul_text)
{
	static const char f1[] = "{\"op\":\"send\",\"ch\":\"g\",\"text\":\"a\0b\"}";
	static const char f2[] = "{\"op\":\"join\",\"ch\":\"global\0x\"}";
	static const char f3[] = "{\"op\":\"whisper\",\"to\":\"bob\0x\","
	    "\"text\":\"t\"}";
	static const struct {
		const char	*frame;
		size_t		 len;
	} cases[] = {
		{ f1, sizeof f1 - 1 }, { f2, sizeof f2 - 1 }, { f3, sizeof f3 - 1 },
	};
	char	bad[512] = "";
	size_t	i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct proto_error	err;
		struct request		req;

		memset(&err, 0, sizeof err);
		if (proto_parse(cases[i].frame, cases[i].len, &cfg, &req,
		    &err) == 0) {
			proto_request_free(&req);
			snprintf(bad + strlen(bad), sizeof bad - strlen(bad),
			    " [accepted: %s<NUL>...]", cases[i].frame);
		} else if (err.code != ERR_BAD_JSON &&
		    err.code != ERR_BAD_FIELD)
			snprintf(bad + strlen(bad), sizeof bad - strlen(bad),
			    " [%s<NUL>...: %s]", cases[i].frame,
			    proto_errcode_name(err.code));
	}
	ck_assert_msg(bad[0] == '\0', "raw NUL bytes in strings not refused:%s",
	    bad);
}
END_TEST

START_TEST(test_nul_escape_fields)
{
	static const struct {
		const char	*frame;
		enum errcode	 code;
		const char	*field;
	} cases[] = {
		{ "{\"op\":\"ping\\u0000\"}", ERR_BAD_OP, "op" },
		{ "{\"op\":\"ping\\u0000junk\"}", ERR_BAD_OP, "op" },
		{ "{\"op\":\"join\",\"ch\":\"global\\u0000x\"}", ERR_BAD_FIELD,
		  "ch" },
		{ "{\"op\":\"whisper\",\"to\":\"bob\\u0000x\",\"text\":\"t\"}",
		  ERR_BAD_FIELD, "to" },
		{ "{\"op\":\"ping\",\"id\":\"a\\u0000b\"}", ERR_BAD_FIELD, "id" },
		{ "{\"op\":\"auth\",\"name\":\"alice\\u0000x\"}", ERR_BAD_FIELD,
		  "name" },
		{ "{\"op\":\"auth\",\"token\":\"a.b.c\\u0000x\"}", ERR_BAD_FIELD,
		  "token" },
	};
	char	bad[2048] = "";
	size_t	i;

	/*
	 * Every case is tried, and all the ones that slip through reported.
	 * Refusing the frame as bad JSON is as good as naming the field.
	 */
	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct proto_error	err;
		struct request		req;
		int			rc;

		memset(&err, 0, sizeof err);
		rc = proto_parse(cases[i].frame, strlen(cases[i].frame), &cfg,
		    &req, &err);
		if (rc == 0) {
			proto_request_free(&req);
			snprintf(bad + strlen(bad), sizeof bad - strlen(bad),
			    " [accepted: %s]", cases[i].frame);
		} else if (err.code != ERR_BAD_JSON &&
		    (err.code != cases[i].code ||
		    strstr(err.msg, cases[i].field) == NULL))
			snprintf(bad + strlen(bad), sizeof bad - strlen(bad),
			    " [%s: %s %s]", cases[i].frame,
			    proto_errcode_name(err.code), err.msg);
	}
	ck_assert_msg(bad[0] == '\0', "NUL escapes not refused:%s", bad);
}
END_TEST

/* ---- Server frames. ---- */

/*
 * Checks that f is a single unmasked FIN text frame whose header states the
 * payload length, and returns its payload parsed by cJSON.
 */
static cJSON *
frame_json(const struct frame *f, int line)
{
	size_t	plen;
	cJSON	*j;

	ck_assert_msg(f != NULL, "line %d: no frame", line);
	plen = frame_payload_len(f);
	ck_assert_msg(f->data[0] == 0x81, "line %d: byte 0 is 0x%02x", line,
	    f->data[0]);
	if (plen < 126) {
		ck_assert_msg(f->hdr == 2, "line %d: hdr %u", line, f->hdr);
		ck_assert_msg(f->data[1] == plen, "line %d: length byte %u, "
		    "payload %zu", line, f->data[1], plen);
	} else {
		ck_assert_msg(plen <= 0xffff, "line %d", line);
		ck_assert_msg(f->hdr == 4, "line %d: hdr %u", line, f->hdr);
		ck_assert_int_eq(f->data[1], 126);
		ck_assert_uint_eq(((size_t)f->data[2] << 8) | f->data[3], plen);
	}
	ck_assert_uint_eq(f->len, f->hdr + plen);
	ck_assert_int_eq(atomic_load(&f->refs), 1);
	j = cJSON_ParseWithLength(frame_payload(f), plen);
	ck_assert_msg(j != NULL, "line %d: payload '%.*s' is not JSON", line,
	    (int)plen, frame_payload(f));
	ck_assert(cJSON_IsObject(j));
	return j;
}

#define FRAME_JSON(f) frame_json((f), __LINE__)

/* Returns the string member name of j, failing if it is not a string. */
static const char *
jstr(const cJSON *j, const char *name)
{
	const cJSON	*it = cJSON_GetObjectItemCaseSensitive(j, name);

	ck_assert_msg(cJSON_IsString(it), "%s is not a string", name);
	return it->valuestring;
}

#define HAS(j, name) (cJSON_GetObjectItemCaseSensitive((j), (name)) != NULL)

/* An id taken from a client frame comes back as the client wrote it. */
START_TEST(test_id_round_trip)
{
	static const char *const frames[] = {
		"{\"op\":\"nope\",\"id\":\"q\\\"uo\\\\te\\n\\u0007\xc3\xa9\"}",
		"{\"op\":\"nope\",\"id\":123}",
		"{\"op\":\"nope\",\"id\":-0.125}",
	};
	struct proto_error	 err;
	struct request		 req;
	struct frame		*f;
	cJSON			*j, *in;
	size_t			 i;

	for (i = 0; i < sizeof frames / sizeof frames[0]; i++) {
		ck_assert_int_eq(proto_parse(frames[i], strlen(frames[i]), &cfg,
		    &req, &err), -1);
		in = cJSON_Parse(frames[i]);
		f = reply_err(req.id, err.code, err.msg, -1, -1);
		j = FRAME_JSON(f);
		ck_assert(cJSON_Compare(cJSON_GetObjectItem(j, "id"),
		    cJSON_GetObjectItem(in, "id"), 1));
		ck_assert_str_eq(jstr(j, "code"), "bad_op");
		cJSON_Delete(j);
		cJSON_Delete(in);
		frame_unref(f);
	}
}
END_TEST

START_TEST(test_names)
{
	static const char *const errs[ERR_COUNT] = {
		[ERR_BAD_JSON] = "bad_json", [ERR_BAD_OP] = "bad_op",
		[ERR_BAD_FIELD] = "bad_field",
		[ERR_AUTH_REQUIRED] = "auth_required",
		[ERR_AUTH_FAILED] = "auth_failed",
		[ERR_FORBIDDEN] = "forbidden",
		[ERR_NO_SUCH_CHANNEL] = "no_such_channel",
		[ERR_NOT_MEMBER] = "not_member",
		[ERR_TOO_MANY_CHANNELS] = "too_many_channels",
		[ERR_TOO_LONG] = "too_long",
		[ERR_RATE_LIMITED] = "rate_limited", [ERR_MUTED] = "muted",
		[ERR_SLOW_MODE] = "slow_mode", [ERR_BANNED] = "banned",
		[ERR_UNAVAILABLE] = "unavailable", [ERR_INTERNAL] = "internal",
		[ERR_FILTERED] = "filtered",
	};
	static const char *const ops[OP_REPORT + 1] = {
		[OP_AUTH] = "auth", [OP_JOIN] = "join", [OP_LEAVE] = "leave",
		[OP_SEND] = "send", [OP_WHISPER] = "whisper",
		[OP_HISTORY] = "history", [OP_WHO] = "who", [OP_PING] = "ping",
		[OP_REPORT] = "report",
	};
	/* The admin channel's ops, as PROTOCOL.md lists them. */
	static const char *const admin_ops[] = {
		"stats", "channels", "user", "kick", "mute", "unmute", "ban",
		"unban", "announce", "slowmode", "delete", "watch", "unwatch",
	};
	int	i, j;

	/* The protocol lists seventeen codes, the word filter's last. */
	ck_assert_int_eq(ERR_COUNT, 17);
	ck_assert_int_eq(ERR_FILTERED, 16);
	ck_assert_str_eq(proto_errcode_name(ERR_FILTERED), "filtered");
	for (i = 0; i < ERR_COUNT; i++) {
		ck_assert_ptr_nonnull(errs[i]);
		ck_assert_ptr_nonnull(proto_errcode_name(i));
		ck_assert_str_eq(proto_errcode_name(i), errs[i]);
	}
	ck_assert_str_eq(proto_errcode_name(ERR_COUNT), "internal");
	ck_assert_str_eq(proto_errcode_name((enum errcode)1000), "internal");

	/* The player ops come first, in this order, then the moderators'. */
	ck_assert_int_eq(OP_ADMIN_FIRST, OP_REPORT + 1);
	ck_assert_int_ge(OP_COUNT, OP_REPORT + 1);
	for (i = 0; i <= OP_REPORT; i++) {
		char		 buf[128];
		struct request	 req;

		ck_assert_str_eq(proto_op_name(i), ops[i]);
		/* Each name parses to its op (fields aside). */
		snprintf(buf, sizeof buf, "{\"op\":\"%s\",\"ch\":\"g\",\"text\":"
		    "\"t\",\"to\":\"u\",\"name\":\"n\",\"user\":\"u\","
		    "\"seq\":1}", ops[i]);
		ACCEPT(buf, &req);
		ck_assert_int_eq(req.op, i);
		proto_request_free(&req);
	}
	/* Any other op is one of the admin channel's, each named once. */
	for (i = OP_ADMIN_FIRST; i < OP_COUNT; i++) {
		const char	*name = proto_op_name(i);

		ck_assert_ptr_nonnull(name);
		for (j = 0; j < (int)(sizeof admin_ops / sizeof admin_ops[0]); j++)
			if (strcmp(name, admin_ops[j]) == 0)
				break;
		ck_assert_msg(j < (int)(sizeof admin_ops / sizeof admin_ops[0]),
		    "op %d is '%s'", i, name);
		for (j = 0; j < i; j++)
			ck_assert_str_ne(proto_op_name(j), name);
	}
	ck_assert_str_eq(proto_op_name(OP_COUNT), "?");
}
END_TEST

START_TEST(test_kick_fields)
{
	struct request	 req;
	char		*s;

	REFUSE("{\"op\":\"kick\"}", ERR_BAD_FIELD, "user");
	REFUSE("{\"op\":\"kick\",\"user\":7}", ERR_BAD_FIELD, "user");
	REFUSE("{\"op\":\"kick\",\"user\":\"a b\"}", ERR_BAD_FIELD, "user");
	REFUSE("{\"op\":\"kick\",\"user\":\"u\",\"reason\":1}",
	    ERR_BAD_FIELD, "reason");
	ACCEPT("{\"op\":\"kick\",\"user\":\"guest:bob\"}", &req);
	ck_assert_int_eq(req.op, OP_KICK);
	ck_assert_str_eq(req.user, "guest:bob");
	ck_assert_str_eq(req.reason, "");
	proto_request_free(&req);
	ACCEPT("{\"op\":\"kick\",\"user\":\"u\",\"reason\":null}", &req);
	ck_assert_str_eq(req.reason, "");
	proto_request_free(&req);
	/* 200 characters (two bytes each) pass; 201 are too long. */
	s = build("{\"op\":\"kick\",\"user\":\"u\",\"reason\":\"",
	    "\xc3\xa9", 200, "\"}");
	ACCEPT(s, &req);
	ck_assert_uint_eq(strlen(req.reason), 400);
	proto_request_free(&req);
	free(s);
	s = build("{\"op\":\"kick\",\"user\":\"u\",\"reason\":\"",
	    "r", 201, "\"}");
	REFUSE(s, ERR_TOO_LONG, "reason");
	free(s);
}
END_TEST

START_TEST(test_announce_fields)
{
	struct request	req;

	REFUSE("{\"op\":\"announce\"}", ERR_BAD_FIELD, "text");
	REFUSE("{\"op\":\"announce\",\"text\":\"\"}", ERR_BAD_FIELD, "text");
	REFUSE("{\"op\":\"announce\",\"text\":\"t\",\"ch\":\"a b\"}",
	    ERR_BAD_FIELD, "ch");
	REFUSE("{\"op\":\"announce\",\"text\":\"t\",\"ch\":5}",
	    ERR_BAD_FIELD, "ch");
	/* null is absent: to everyone (as for mute and unmute). */
	ACCEPT("{\"op\":\"announce\",\"text\":\"t\",\"ch\":null}", &req);
	ck_assert_ptr_null(req.ch);
	proto_request_free(&req);
	ACCEPT("{\"op\":\"announce\",\"text\":\"hello all\"}", &req);
	ck_assert_int_eq(req.op, OP_ANNOUNCE);
	ck_assert_ptr_null(req.ch);
	ck_assert_str_eq(req.text, "hello all");
	proto_request_free(&req);
	ACCEPT("{\"op\":\"announce\",\"text\":\"hi\",\"ch\":\"guild:4\"}",
	    &req);
	ck_assert_str_eq(req.ch, "guild:4");
	proto_request_free(&req);
}
END_TEST

/* A reason as kick, mute, ban and report take it: optional, at most PROTO_REASON_MAX characters. */
static void
check_reason(const char *pre, int line)
{
	struct request	 req;
	char		 buf[256], *s;

	snprintf(buf, sizeof buf, "%s,\"reason\":1}", pre);
	refuse_len(buf, strlen(buf), ERR_BAD_FIELD, "reason", &req, line);
	snprintf(buf, sizeof buf, "%s,\"reason\":[]}", pre);
	refuse_len(buf, strlen(buf), ERR_BAD_FIELD, "reason", &req, line);
	snprintf(buf, sizeof buf, "%s,\"reason\":\"", pre);
	s = build(buf, "r", PROTO_REASON_MAX + 1, "\"}");
	refuse_len(s, strlen(s), ERR_TOO_LONG, "reason", &req, line);
	free(s);
	s = build(buf, "\xe6\xbc\xa2", PROTO_REASON_MAX, "\"}");
	accept_len(s, strlen(s), &req, line);
	ck_assert_uint_eq(strlen(req.reason), 3 * PROTO_REASON_MAX);
	proto_request_free(&req);
	free(s);
	snprintf(buf, sizeof buf, "%s,\"reason\":\"a \\\"b\\\"\"}", pre);
	accept_len(buf, strlen(buf), &req, line);
	ck_assert_str_eq(req.reason, "a \"b\"");
	proto_request_free(&req);
	snprintf(buf, sizeof buf, "%s,\"reason\":null}", pre);
	accept_len(buf, strlen(buf), &req, line);
	ck_assert_str_eq(req.reason, "");
	proto_request_free(&req);
	snprintf(buf, sizeof buf, "%s}", pre);
	accept_len(buf, strlen(buf), &req, line);
	ck_assert_str_eq(req.reason, "");
	proto_request_free(&req);
}

/* A required user id field (user) after pre ("{"op":..." and its other fields). */
static void
check_user(const char *pre, const char *post, int line)
{
	static const char *const bad[] = {
		"", ",\"user\":null", ",\"user\":7", ",\"user\":\"\"",
		",\"user\":\"a b\"", ",\"user\":\"caf\xc3\xa9\"",
		",\"user\":[\"u\"]", ",\"USER\":\"u\"",
	};
	struct request	 req;
	char		 buf[512], *s;
	size_t		 i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(buf, sizeof buf, "%s%s%s}", pre, bad[i], post);
		refuse_len(buf, strlen(buf), ERR_BAD_FIELD, "user", &req,
		    line);
	}
	s = build("", "u", USER_ID_MAX + 1, "");
	snprintf(buf, sizeof buf, "%s,\"user\":\"%s\"%s}", pre, s, post);
	refuse_len(buf, strlen(buf), ERR_BAD_FIELD, "user", &req, line);
	s[USER_ID_MAX] = '\0';
	snprintf(buf, sizeof buf, "%s,\"user\":\"%s\"%s}", pre, s, post);
	accept_len(buf, strlen(buf), &req, line);
	ck_assert_str_eq(req.user, s);
	proto_request_free(&req);
	free(s);
	snprintf(buf, sizeof buf, "%s,\"user\":\"guest:a|\\\"b\\\\\"%s}", pre,
	    post);
	accept_len(buf, strlen(buf), &req, line);
	ck_assert_str_eq(req.user, "guest:a|\"b\\");
	proto_request_free(&req);
}

START_TEST(test_report_fields)
{
	struct request	req;

	check_user("{\"op\":\"report\"", ",\"ch\":\"g\",\"seq\":3", __LINE__);
	REFUSE("{\"op\":\"report\",\"user\":\"u\",\"seq\":3}", ERR_BAD_FIELD,
	    "ch");
	REFUSE("{\"op\":\"report\",\"user\":\"u\",\"ch\":\"bad name\","
	    "\"seq\":3}", ERR_BAD_FIELD, "ch");
	REFUSE("{\"op\":\"report\",\"user\":\"u\",\"ch\":\"g\"}", ERR_BAD_FIELD,
	    "seq");
	REFUSE("{\"op\":\"report\",\"user\":\"u\",\"ch\":\"g\",\"seq\":0}",
	    ERR_BAD_FIELD, "seq");
	REFUSE("{\"op\":\"report\",\"user\":\"u\",\"ch\":\"g\",\"seq\":-1}",
	    ERR_BAD_FIELD, "seq");
	REFUSE("{\"op\":\"report\",\"user\":\"u\",\"ch\":\"g\",\"seq\":1.5}",
	    ERR_BAD_FIELD, "seq");
	REFUSE("{\"op\":\"report\",\"user\":\"u\",\"ch\":\"g\",\"seq\":\"1\"}",
	    ERR_BAD_FIELD, "seq");
	REFUSE("{\"op\":\"report\",\"user\":\"u\",\"ch\":\"g\","
	    "\"seq\":9007199254740994}", ERR_BAD_FIELD, "seq");
	check_reason("{\"op\":\"report\",\"user\":\"u\",\"ch\":\"g\",\"seq\":3",
	    __LINE__);
	ACCEPT("{\"op\":\"report\",\"user\":\"bob\",\"ch\":\"guild:1\","
	    "\"seq\":9007199254740992,\"reason\":\"spam\"}", &req);
	ck_assert_int_eq(req.op, OP_REPORT);
	ck_assert_str_eq(req.user, "bob");
	ck_assert_str_eq(req.ch, "guild:1");
	ck_assert_int_eq(req.seq, INT64_C(9007199254740992));
	ck_assert_str_eq(req.reason, "spam");
	proto_request_free(&req);
}
END_TEST

START_TEST(test_channels_fields)
{
	struct request	 req;
	char		 buf[128], *s;

	ACCEPT("{\"op\":\"channels\"}", &req);
	ck_assert_int_eq(req.op, OP_CHANNELS);
	ck_assert_str_eq(req.pattern, "");
	ck_assert_int_eq(req.limit, 20);
	proto_request_free(&req);
	ACCEPT("{\"op\":\"channels\",\"prefix\":null}", &req);
	ck_assert_str_eq(req.pattern, "");
	proto_request_free(&req);
	ACCEPT("{\"op\":\"channels\",\"prefix\":\"\",\"limit\":1}", &req);
	ck_assert_str_eq(req.pattern, "");
	ck_assert_int_eq(req.limit, 1);
	proto_request_free(&req);
	ACCEPT("{\"op\":\"channels\",\"prefix\":\"party:\",\"limit\":100}",
	    &req);
	ck_assert_str_eq(req.pattern, "party:");
	ck_assert_int_eq(req.limit, PROTO_CHANNELS_MAX);
	proto_request_free(&req);
	REFUSE("{\"op\":\"channels\",\"prefix\":5}", ERR_BAD_FIELD, "prefix");
	REFUSE("{\"op\":\"channels\",\"prefix\":\"a b\"}", ERR_BAD_FIELD,
	    "prefix");
	/* A prefix, not a pattern. */
	REFUSE("{\"op\":\"channels\",\"prefix\":\"party:*\"}", ERR_BAD_FIELD,
	    "prefix");
	REFUSE("{\"op\":\"channels\",\"prefix\":\"*\"}", ERR_BAD_FIELD,
	    "prefix");
	s = build("{\"op\":\"channels\",\"prefix\":\"", "p", CHAN_NAME_MAX + 1,
	    "\"}");
	REFUSE(s, ERR_BAD_FIELD, "prefix");
	free(s);
	REFUSE("{\"op\":\"channels\",\"limit\":0}", ERR_BAD_FIELD, "limit");
	snprintf(buf, sizeof buf, "{\"op\":\"channels\",\"limit\":%d}",
	    PROTO_CHANNELS_MAX + 1);
	REFUSE(buf, ERR_BAD_FIELD, "limit");
	REFUSE("{\"op\":\"channels\",\"limit\":2.5}", ERR_BAD_FIELD, "limit");
	REFUSE("{\"op\":\"channels\",\"limit\":\"5\"}", ERR_BAD_FIELD, "limit");
}
END_TEST

START_TEST(test_user_unban_fields)
{
	struct request	req;

	check_user("{\"op\":\"user\"", "", __LINE__);
	check_user("{\"op\":\"unban\"", "", __LINE__);
	ACCEPT("{\"op\":\"user\",\"user\":\"bob\"}", &req);
	ck_assert_int_eq(req.op, OP_USER);
	proto_request_free(&req);
	ACCEPT("{\"op\":\"unban\",\"user\":\"bob\"}", &req);
	ck_assert_int_eq(req.op, OP_UNBAN);
	ck_assert_str_eq(req.user, "bob");
	proto_request_free(&req);
}
END_TEST

/* mute and ban: user, secs (0: no end), reason; ch for mute only. */
START_TEST(test_mute_ban_fields)
{
	static const char *const ops[] = { "mute", "ban" };
	struct request	 req;
	char		 pre[64], buf[256];
	size_t		 i;

	for (i = 0; i < 2; i++) {
		snprintf(pre, sizeof pre, "{\"op\":\"%s\"", ops[i]);
		check_user(pre, ",\"secs\":60", __LINE__);
		snprintf(pre, sizeof pre, "{\"op\":\"%s\",\"user\":\"u\"",
		    ops[i]);
		check_reason(pre, __LINE__);
		/* secs: absent is 0, no end. */
		snprintf(buf, sizeof buf, "%s}", pre);
		ACCEPT(buf, &req);
		ck_assert_int_eq(req.op, i == 0 ? OP_MUTE : OP_BAN);
		ck_assert_int_eq(req.secs, 0);
		ck_assert_ptr_null(req.ch);
		proto_request_free(&req);
		snprintf(buf, sizeof buf, "%s,\"secs\":0}", pre);
		ACCEPT(buf, &req);
		ck_assert_int_eq(req.secs, 0);
		proto_request_free(&req);
		snprintf(buf, sizeof buf, "%s,\"secs\":%d}", pre,
		    PROTO_SECS_MAX);
		ACCEPT(buf, &req);
		ck_assert_int_eq(req.secs, PROTO_SECS_MAX);
		proto_request_free(&req);
		snprintf(buf, sizeof buf, "%s,\"secs\":%d}", pre,
		    PROTO_SECS_MAX + 1);
		REFUSE(buf, ERR_BAD_FIELD, "secs");
		snprintf(buf, sizeof buf, "%s,\"secs\":-1}", pre);
		REFUSE(buf, ERR_BAD_FIELD, "secs");
		snprintf(buf, sizeof buf, "%s,\"secs\":1.5}", pre);
		REFUSE(buf, ERR_BAD_FIELD, "secs");
		snprintf(buf, sizeof buf, "%s,\"secs\":\"60\"}", pre);
		REFUSE(buf, ERR_BAD_FIELD, "secs");
		snprintf(buf, sizeof buf, "%s,\"secs\":null}", pre);
		REFUSE(buf, ERR_BAD_FIELD, "secs");
	}
	/* A mute may name its channel; null or absent: everywhere. */
	ACCEPT("{\"op\":\"mute\",\"user\":\"u\",\"ch\":\"guild:1\",\"secs\":60,"
	    "\"reason\":\"r\"}", &req);
	ck_assert_str_eq(req.ch, "guild:1");
	ck_assert_int_eq(req.secs, 60);
	ck_assert_str_eq(req.reason, "r");
	proto_request_free(&req);
	ACCEPT("{\"op\":\"mute\",\"user\":\"u\",\"ch\":null}", &req);
	ck_assert_ptr_null(req.ch);
	proto_request_free(&req);
	REFUSE("{\"op\":\"mute\",\"user\":\"u\",\"ch\":\"bad name\"}",
	    ERR_BAD_FIELD, "ch");
	REFUSE("{\"op\":\"mute\",\"user\":\"u\",\"ch\":5}", ERR_BAD_FIELD, "ch");
	REFUSE("{\"op\":\"mute\",\"user\":\"u\",\"ch\":\"*\"}", ERR_BAD_FIELD,
	    "ch");
	/* A ban is everywhere: its ch is not read. */
	ACCEPT("{\"op\":\"ban\",\"user\":\"u\",\"ch\":\"bad name\"}", &req);
	ck_assert_ptr_null(req.ch);
	proto_request_free(&req);
}
END_TEST

START_TEST(test_unmute_fields)
{
	struct request	req;

	check_user("{\"op\":\"unmute\"", "", __LINE__);
	ACCEPT("{\"op\":\"unmute\",\"user\":\"u\"}", &req);
	ck_assert_int_eq(req.op, OP_UNMUTE);
	ck_assert_ptr_null(req.ch);
	proto_request_free(&req);
	ACCEPT("{\"op\":\"unmute\",\"user\":\"u\",\"ch\":null}", &req);
	ck_assert_ptr_null(req.ch);
	proto_request_free(&req);
	ACCEPT("{\"op\":\"unmute\",\"user\":\"u\",\"ch\":\"lobby\"}", &req);
	ck_assert_str_eq(req.ch, "lobby");
	proto_request_free(&req);
	REFUSE("{\"op\":\"unmute\",\"user\":\"u\",\"ch\":\"a b\"}",
	    ERR_BAD_FIELD, "ch");
	REFUSE("{\"op\":\"unmute\",\"user\":\"u\",\"ch\":true}", ERR_BAD_FIELD,
	    "ch");
}
END_TEST

START_TEST(test_slowmode_fields)
{
	struct request	req;
	char		buf[128];

	REFUSE("{\"op\":\"slowmode\",\"secs\":5}", ERR_BAD_FIELD, "ch");
	REFUSE("{\"op\":\"slowmode\",\"ch\":null,\"secs\":5}", ERR_BAD_FIELD,
	    "ch");
	REFUSE("{\"op\":\"slowmode\",\"ch\":\"a b\",\"secs\":5}", ERR_BAD_FIELD,
	    "ch");
	REFUSE("{\"op\":\"slowmode\",\"ch\":\"g\"}", ERR_BAD_FIELD, "secs");
	REFUSE("{\"op\":\"slowmode\",\"ch\":\"g\",\"secs\":null}",
	    ERR_BAD_FIELD, "secs");
	REFUSE("{\"op\":\"slowmode\",\"ch\":\"g\",\"secs\":-1}", ERR_BAD_FIELD,
	    "secs");
	REFUSE("{\"op\":\"slowmode\",\"ch\":\"g\",\"secs\":0.5}", ERR_BAD_FIELD,
	    "secs");
	snprintf(buf, sizeof buf, "{\"op\":\"slowmode\",\"ch\":\"g\","
	    "\"secs\":%d}", PROTO_SLOW_MAX + 1);
	REFUSE(buf, ERR_BAD_FIELD, "secs");
	ck_assert_int_eq(PROTO_SLOW_MAX, 86400);
	snprintf(buf, sizeof buf, "{\"op\":\"slowmode\",\"ch\":\"g\","
	    "\"secs\":%d}", PROTO_SLOW_MAX);
	ACCEPT(buf, &req);
	ck_assert_int_eq(req.op, OP_SLOWMODE);
	ck_assert_str_eq(req.ch, "g");
	ck_assert_int_eq(req.secs, PROTO_SLOW_MAX);
	proto_request_free(&req);
	ACCEPT("{\"op\":\"slowmode\",\"ch\":\"g\",\"secs\":0}", &req);
	ck_assert_int_eq(req.secs, 0);	/* off */
	proto_request_free(&req);
}
END_TEST

START_TEST(test_delete_fields)
{
	struct request	req;

	REFUSE("{\"op\":\"delete\",\"seq\":5}", ERR_BAD_FIELD, "ch");
	REFUSE("{\"op\":\"delete\",\"ch\":\"*\",\"seq\":5}", ERR_BAD_FIELD,
	    "ch");
	REFUSE("{\"op\":\"delete\",\"ch\":\"g\"}", ERR_BAD_FIELD, "seq");
	REFUSE("{\"op\":\"delete\",\"ch\":\"g\",\"seq\":0}", ERR_BAD_FIELD,
	    "seq");
	REFUSE("{\"op\":\"delete\",\"ch\":\"g\",\"seq\":-4}", ERR_BAD_FIELD,
	    "seq");
	REFUSE("{\"op\":\"delete\",\"ch\":\"g\",\"seq\":2.5}", ERR_BAD_FIELD,
	    "seq");
	REFUSE("{\"op\":\"delete\",\"ch\":\"g\",\"seq\":\"2\"}", ERR_BAD_FIELD,
	    "seq");
	REFUSE("{\"op\":\"delete\",\"ch\":\"g\",\"seq\":null}", ERR_BAD_FIELD,
	    "seq");
	ACCEPT("{\"op\":\"delete\",\"ch\":\"g\",\"seq\":1}", &req);
	ck_assert_int_eq(req.op, OP_DELETE);
	ck_assert_str_eq(req.ch, "g");
	ck_assert_int_eq(req.seq, 1);
	proto_request_free(&req);
	ACCEPT("{\"op\":\"delete\",\"ch\":\"g\",\"seq\":9007199254740992}",
	    &req);
	ck_assert_int_eq(req.seq, INT64_C(9007199254740992));
	proto_request_free(&req);
}
END_TEST

START_TEST(test_watch_fields)
{
	static const char *const ops[] = { "watch", "unwatch" };
	static const char *const good[] = {
		"*", "party:*", "p*", "lobby", "guild:42",
	};
	static const char *const bad[] = {
		"\"\"", "\"**\"", "\"a*b\"", "\"*a\"", "\"a b*\"", "5", "null",
		"[\"lobby\"]",
	};
	struct request	 req;
	char		 buf[256], *s;
	size_t		 i, j;

	for (i = 0; i < 2; i++) {
		snprintf(buf, sizeof buf, "{\"op\":\"%s\"}", ops[i]);
		REFUSE(buf, ERR_BAD_FIELD, "ch");
		for (j = 0; j < sizeof bad / sizeof bad[0]; j++) {
			snprintf(buf, sizeof buf, "{\"op\":\"%s\",\"ch\":%s}",
			    ops[i], bad[j]);
			REFUSE(buf, ERR_BAD_FIELD, "ch");
		}
		for (j = 0; j < sizeof good / sizeof good[0]; j++) {
			snprintf(buf, sizeof buf,
			    "{\"op\":\"%s\",\"ch\":\"%s\"}", ops[i], good[j]);
			ACCEPT(buf, &req);
			ck_assert_int_eq(req.op, i == 0 ? OP_WATCH :
			    OP_UNWATCH);
			ck_assert_str_eq(req.pattern, good[j]);
			proto_request_free(&req);
		}
		/* A prefix of CHAN_NAME_MAX and '*', not one more. */
		snprintf(buf, sizeof buf, "{\"op\":\"%s\",\"ch\":\"", ops[i]);
		s = build(buf, "p", CHAN_NAME_MAX, "*\"}");
		ACCEPT(s, &req);
		ck_assert_uint_eq(strlen(req.pattern), PROTO_PATTERN_MAX);
		proto_request_free(&req);
		free(s);
		s = build(buf, "p", CHAN_NAME_MAX + 1, "*\"}");
		REFUSE(s, ERR_BAD_FIELD, "ch");
		free(s);
	}
}
END_TEST

START_TEST(test_now_ms)
{
	int64_t	a = proto_now_ms(), b = proto_now_ms();

	ck_assert_int_gt(a, INT64_C(1600000000000));	/* after 2020 */
	ck_assert_int_ge(b, a - 1000);
}
END_TEST

/* Builds the suite of proto tests. */
static Suite *
proto_suite(void)
{
	Suite	*s = suite_create("proto");
	TCase	*tc;

	tc = tcase_create("ops");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_op_auth);
	tcase_add_test(tc, test_op_join);
	tcase_add_test(tc, test_op_leave_who_ping);
	tcase_add_test(tc, test_op_send);
	tcase_add_test(tc, test_op_whisper);
	tcase_add_test(tc, test_op_history);
	tcase_add_test(tc, test_length_honoured);
	suite_add_tcase(s, tc);

	tc = tcase_create("syntax");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_bad_json);
	tcase_add_test(tc, test_trailing_garbage);
	tcase_add_test(tc, test_trailing_after_nul);
	tcase_add_test(tc, test_not_object);
	tcase_add_test(tc, test_depth);
	tcase_add_test(tc, test_bad_op);
	suite_add_tcase(s, tc);

	tc = tcase_create("id");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_id_string);
	tcase_add_test(tc, test_id_number);
	tcase_add_test(tc, test_id_invalid);
	tcase_add_test(tc, test_id_echo_on_error);
	suite_add_tcase(s, tc);

	tc = tcase_create("fields");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_ch);
	tcase_add_test(tc, test_text);
	tcase_add_test(tc, test_text_length);
	tcase_add_test(tc, test_text_escapes);
	tcase_add_test(tc, test_nul_escape_text);
	tcase_add_test(tc, test_raw_nul_text);
	tcase_add_test(tc, test_nul_escape_fields);
	tcase_add_test(tc, test_meta);
	tcase_add_test(tc, test_whisper_to);
	tcase_add_test(tc, test_join_history_range);
	tcase_add_test(tc, test_since);
	tcase_add_test(tc, test_history_limit);
	tcase_add_test(tc, test_auth_fields);
	suite_add_tcase(s, tc);

	tc = tcase_create("frames");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_id_round_trip);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_kick_fields);
	tcase_add_test(tc, test_announce_fields);
	tcase_add_test(tc, test_now_ms);
	suite_add_tcase(s, tc);

	tc = tcase_create("moderation");
	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_report_fields);
	tcase_add_test(tc, test_channels_fields);
	tcase_add_test(tc, test_user_unban_fields);
	tcase_add_test(tc, test_mute_ban_fields);
	tcase_add_test(tc, test_unmute_fields);
	tcase_add_test(tc, test_slowmode_fields);
	tcase_add_test(tc, test_delete_fields);
	tcase_add_test(tc, test_watch_fields);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(proto_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
