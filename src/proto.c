/*
 * proto.c: parsing client frames and building the small server frames.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "auth.h"
#include "config.h"
#include "jsonw.h"
#include "proto.h"
#include "utf8.h"

static const char *const op_names[OP_COUNT] = {
	[OP_AUTH] = "auth", [OP_JOIN] = "join", [OP_LEAVE] = "leave",
	[OP_SEND] = "send", [OP_WHISPER] = "whisper",
	[OP_HISTORY] = "history", [OP_WHO] = "who", [OP_PING] = "ping",
	[OP_REPORT] = "report",
	[OP_STATS] = "stats", [OP_CHANNELS] = "channels", [OP_USER] = "user",
	[OP_KICK] = "kick", [OP_MUTE] = "mute", [OP_UNMUTE] = "unmute",
	[OP_BAN] = "ban", [OP_UNBAN] = "unban", [OP_ANNOUNCE] = "announce",
	[OP_SLOWMODE] = "slowmode", [OP_DELETE] = "delete",
	[OP_WATCH] = "watch", [OP_UNWATCH] = "unwatch",
};

static const char *const err_names[ERR_COUNT] = {
	[ERR_BAD_JSON] = "bad_json", [ERR_BAD_OP] = "bad_op",
	[ERR_BAD_FIELD] = "bad_field", [ERR_AUTH_REQUIRED] = "auth_required",
	[ERR_AUTH_FAILED] = "auth_failed", [ERR_FORBIDDEN] = "forbidden",
	[ERR_NO_SUCH_CHANNEL] = "no_such_channel",
	[ERR_NOT_MEMBER] = "not_member",
	[ERR_TOO_MANY_CHANNELS] = "too_many_channels",
	[ERR_TOO_LONG] = "too_long", [ERR_RATE_LIMITED] = "rate_limited",
	[ERR_MUTED] = "muted", [ERR_SLOW_MODE] = "slow_mode",
	[ERR_BANNED] = "banned", [ERR_UNAVAILABLE] = "unavailable",
	[ERR_INTERNAL] = "internal", [ERR_FILTERED] = "filtered",
};

const char *
proto_errcode_name(enum errcode code)
{
	return code < ERR_COUNT ? err_names[code] : "internal";
}

const char *
proto_op_name(enum op op)
{
	return op < OP_COUNT ? op_names[op] : "?";
}

int64_t
proto_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Fills err and returns -1, so that failures read as one statement. */
static int
fail(struct proto_error *err, enum errcode code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(struct proto_error *err, enum errcode code, const char *fmt, ...)
{
	va_list ap;

	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

/*
 * Scans a frame before cJSON sees it: returns the deepest nesting of objects
 * and arrays outside strings (stopping once past limit), or -1 if it holds
 * a NUL byte, an unescaped control character in a string, or a \u0000
 * escape (cJSON would silently cut the string at the NUL).  This way a
 * deeply nested frame never builds a deep tree.
 */
static int
json_prescan(const char *buf, size_t len, int limit)
{
	bool in_str = false, esc = false;
	int depth = 0, max = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		char c = buf[i];

		if (c == '\0')
			return -1;
		if (in_str) {
			if ((unsigned char)c < 0x20)
				return -1;
			if (esc) {
				esc = false;
				if (c == 'u' && i + 4 < len &&
				    memcmp(buf + i + 1, "0000", 4) == 0)
					return -1;
			} else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '{' || c == '[') {
			if (++depth > max && (max = depth) > limit)
				return max;
		} else if (c == '}' || c == ']')
			depth--;
	}
	return max;
}

/* Serializes the id item into req->id; returns 0, or -1 if it is not a usable id. */
static int
parse_id(const cJSON *id, struct request *req)
{
	struct jsonw w;
	double v;

	if (cJSON_IsString(id)) {
		size_t n = strlen(id->valuestring);

		if (n > PROTO_ID_MAX)
			return -1;
		jsonw_init(&w);
		jsonw_str(&w, id->valuestring, n);
		if (w.failed || w.len > PROTO_ID_JSON_MAX) {
			jsonw_free(&w);
			return -1;
		}
		memcpy(req->id, w.buf, w.len);
		req->id[w.len] = '\0';
		jsonw_free(&w);
		return 0;
	}
	if (!cJSON_IsNumber(id))
		return -1;
	v = id->valuedouble;
	if (!isfinite(v))
		return -1;
	if (v == floor(v) && fabs(v) < 9007199254740992.0)
		snprintf(req->id, sizeof req->id, "%lld", (long long)v);
	else
		snprintf(req->id, sizeof req->id, "%.17g", v);
	return 0;
}

/*
 * Reads an optional integer field in [lo, hi] into *out (left alone when the
 * field is absent).  Returns 0, or -1 with err filled.
 */
static int
get_int(const cJSON *root, const char *name, int64_t lo, int64_t hi,
    int64_t *out, struct proto_error *err)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, name);
	double v;

	if (it == NULL)
		return 0;
	if (!cJSON_IsNumber(it))
		return fail(err, ERR_BAD_FIELD, "%s: must be a number", name);
	v = it->valuedouble;
	if (!isfinite(v) || v != floor(v) || v < (double)lo || v > (double)hi)
		return fail(err, ERR_BAD_FIELD,
		    "%s: must be a whole number from %lld to %lld", name,
		    (long long)lo, (long long)hi);
	*out = (int64_t)v;
	return 0;
}

/* Reads the required channel name into req->ch; returns 0, or -1 with err filled. */
static int
get_ch(const cJSON *root, struct request *req, struct proto_error *err)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, "ch");

	if (!cJSON_IsString(it))
		return fail(err, ERR_BAD_FIELD, "ch: missing or not a string");
	if (!chan_name_valid(it->valuestring, strlen(it->valuestring)))
		return fail(err, ERR_BAD_FIELD,
		    "ch: must be 1-%d characters of A-Z a-z 0-9 _ . : -",
		    CHAN_NAME_MAX);
	req->ch = it->valuestring;
	return 0;
}

/* Reads the required text into req->text; returns 0, or -1 with err filled. */
static int
get_text(const cJSON *root, const struct config *cfg, struct request *req,
    struct proto_error *err)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, "text");
	size_t n;

	if (!cJSON_IsString(it))
		return fail(err, ERR_BAD_FIELD, "text: missing or not a string");
	n = strlen(it->valuestring);
	if (n == 0)
		return fail(err, ERR_BAD_FIELD, "text: must not be empty");
	/* cJSON decodes \u escapes, so check again what it produced. */
	if (!utf8_valid(it->valuestring, n))
		return fail(err, ERR_BAD_FIELD, "text: not valid UTF-8");
	if (utf8_count(it->valuestring, n) > (size_t)cfg->text_max)
		return fail(err, ERR_TOO_LONG, "text: longer than %d characters",
		    cfg->text_max);
	req->text = it->valuestring;
	req->text_len = n;
	return 0;
}

/* Reads the required user id field `name` into *out; returns 0, or -1 with err filled. */
static int
get_user_id(const cJSON *root, const char *name, const char **out,
    struct proto_error *err)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, name);

	if (!cJSON_IsString(it) ||
	    !user_id_valid(it->valuestring, strlen(it->valuestring)))
		return fail(err, ERR_BAD_FIELD,
		    "%s: missing or not a valid user id", name);
	*out = it->valuestring;
	return 0;
}

/* Reads the optional reason into req->reason; returns 0, or -1 with err filled. */
static int
get_reason(const cJSON *root, struct request *req, struct proto_error *err)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, "reason");
	size_t n;

	req->reason = "";
	if (it == NULL || cJSON_IsNull(it))
		return 0;
	if (!cJSON_IsString(it))
		return fail(err, ERR_BAD_FIELD, "reason: not a string");
	n = strlen(it->valuestring);
	if (!utf8_valid(it->valuestring, n))
		return fail(err, ERR_BAD_FIELD, "reason: not valid UTF-8");
	if (utf8_count(it->valuestring, n) > PROTO_REASON_MAX)
		return fail(err, ERR_TOO_LONG,
		    "reason: longer than %d characters", PROTO_REASON_MAX);
	req->reason = it->valuestring;
	return 0;
}

/*
 * Reads the optional "epoch" that goes with "since" (join, history) into
 * req->epoch.  Returns 0, or -1 with err set.
 */
static int
get_epoch(const cJSON *root, struct request *req, struct proto_error *err)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, "epoch");

	if (it == NULL || cJSON_IsNull(it))
		return 0;
	if (!cJSON_IsString(it) || !proto_epoch_valid(it->valuestring))
		return fail(err, ERR_BAD_FIELD,
		    "epoch: not an epoch (a string the relay gave)");
	if (req->since < 0)
		return fail(err, ERR_BAD_FIELD, "epoch: only with since");
	req->epoch = it->valuestring;
	return 0;
}

bool
proto_pattern_valid(const char *s)
{
	size_t n = strlen(s);

	if (n > 0 && s[n - 1] == '*')
		return n == 1 || chan_name_valid(s, n - 1);
	return chan_name_valid(s, n);
}

bool
proto_pattern_match(const char *pat, const char *ch)
{
	size_t n = strlen(pat);

	if (n > 0 && pat[n - 1] == '*')
		return strncmp(pat, ch, n - 1) == 0;
	return strcmp(pat, ch) == 0;
}

/* Reads the required or optional ("ch" absent: NULL) watch pattern field `name`. */
static int
get_pattern(const cJSON *root, const char *name, bool required,
    struct request *req, struct proto_error *err)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, name);

	if (!required && (it == NULL || cJSON_IsNull(it)))
		return 0;
	if (!cJSON_IsString(it))
		return fail(err, ERR_BAD_FIELD, "%s: missing or not a string",
		    name);
	if (required ? !proto_pattern_valid(it->valuestring) :
	    (it->valuestring[0] != '\0' &&
	    !chan_name_valid(it->valuestring, strlen(it->valuestring))))
		return fail(err, ERR_BAD_FIELD, required ?
		    "%s: a channel name, or a prefix of one followed by *" :
		    "%s: must be the start of a channel name", name);
	req->pattern = it->valuestring;
	return 0;
}

/* Reads the optional channel name ch (absent or null: NULL). */
static int
get_ch_opt(const cJSON *root, struct request *req, struct proto_error *err)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, "ch");

	if (it == NULL || cJSON_IsNull(it))
		return 0;
	return get_ch(root, req, err);
}

bool
proto_epoch_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > PROTO_EPOCH_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Validates the fields of the op already stored in req; returns 0 or -1. */
static int
parse_fields(const cJSON *root, const struct config *cfg,
    struct request *req, struct proto_error *err)
{
	const cJSON *it;
	int64_t v;

	switch (req->op) {
	case OP_AUTH:
		it = cJSON_GetObjectItemCaseSensitive(root, "token");
		if (it != NULL) {
			if (!cJSON_IsString(it))
				return fail(err, ERR_BAD_FIELD,
				    "token: not a string");
			req->token = it->valuestring;
			req->token_len = strlen(it->valuestring);
			if (req->token_len > AUTH_TOKEN_MAX)
				return fail(err, ERR_BAD_FIELD,
				    "token: too long");
			return 0;
		}
		it = cJSON_GetObjectItemCaseSensitive(root, "name");
		if (!cJSON_IsString(it))
			return fail(err, ERR_BAD_FIELD,
			    "token: missing (or name, in open mode)");
		req->name = it->valuestring;
		req->name_len = strlen(it->valuestring);
		return 0;
	case OP_JOIN:
		if (get_ch(root, req, err) != 0)
			return -1;
		v = -1;
		if (get_int(root, "history", 0, PROTO_HISTORY_MAX, &v, err))
			return -1;
		req->history = (int)v;
		if (get_int(root, "since", 0, INT64_C(1) << 53, &req->since,
		    err) != 0)
			return -1;
		return get_epoch(root, req, err);
	case OP_LEAVE:
	case OP_WHO:
		return get_ch(root, req, err);
	case OP_HISTORY:
		if (get_ch(root, req, err) != 0)
			return -1;
		v = 50;
		if (get_int(root, "limit", 1, PROTO_HISTORY_MAX, &v, err))
			return -1;
		req->limit = (int)v;
		if (get_int(root, "since", 0, INT64_C(1) << 53, &req->since,
		    err) != 0)
			return -1;
		return get_epoch(root, req, err);
	case OP_SEND:
		if (get_ch(root, req, err) != 0 ||
		    get_text(root, cfg, req, err) != 0)
			return -1;
		it = cJSON_GetObjectItemCaseSensitive(root, "meta");
		if (it == NULL || cJSON_IsNull(it))
			return 0;
		if (!cJSON_IsObject(it))
			return fail(err, ERR_BAD_FIELD, "meta: not an object");
		req->meta = cJSON_PrintUnformatted(it);
		if (req->meta == NULL)
			return fail(err, ERR_INTERNAL, "out of memory");
		req->meta_len = strlen(req->meta);
		if (req->meta_len > PROTO_META_MAX)
			return fail(err, ERR_TOO_LONG,
			    "meta: longer than %d bytes", PROTO_META_MAX);
		return 0;
	case OP_WHISPER:
		if (get_user_id(root, "to", &req->to, err) != 0)
			return -1;
		return get_text(root, cfg, req, err);
	case OP_REPORT:
		if (get_user_id(root, "user", &req->user, err) != 0 ||
		    get_ch(root, req, err) != 0)
			return -1;
		req->seq = -1;
		if (get_int(root, "seq", 1, INT64_C(1) << 53, &req->seq, err))
			return -1;
		if (req->seq < 0)
			return fail(err, ERR_BAD_FIELD, "seq: missing");
		return get_reason(root, req, err);
	case OP_CHANNELS:
		req->pattern = "";
		if (get_pattern(root, "prefix", false, req, err) != 0)
			return -1;
		v = 20;
		if (get_int(root, "limit", 1, PROTO_CHANNELS_MAX, &v, err))
			return -1;
		req->limit = (int)v;
		return 0;
	case OP_USER:
	case OP_UNBAN:
		return get_user_id(root, "user", &req->user, err);
	case OP_KICK:
		if (get_user_id(root, "user", &req->user, err) != 0)
			return -1;
		return get_reason(root, req, err);
	case OP_MUTE:
	case OP_BAN:
		if (get_user_id(root, "user", &req->user, err) != 0 ||
		    (req->op == OP_MUTE && get_ch_opt(root, req, err) != 0) ||
		    get_int(root, "secs", 0, PROTO_SECS_MAX, &req->secs, err))
			return -1;
		return get_reason(root, req, err);
	case OP_UNMUTE:
		if (get_user_id(root, "user", &req->user, err) != 0)
			return -1;
		return get_ch_opt(root, req, err);
	case OP_SLOWMODE:
		req->secs = -1;
		if (get_ch(root, req, err) != 0 ||
		    get_int(root, "secs", 0, PROTO_SLOW_MAX, &req->secs, err))
			return -1;
		if (req->secs < 0)
			return fail(err, ERR_BAD_FIELD, "secs: missing");
		return 0;
	case OP_DELETE:
		req->seq = -1;
		if (get_ch(root, req, err) != 0 ||
		    get_int(root, "seq", 1, INT64_C(1) << 53, &req->seq, err))
			return -1;
		if (req->seq < 0)
			return fail(err, ERR_BAD_FIELD, "seq: missing");
		return 0;
	case OP_WATCH:
	case OP_UNWATCH:
		return get_pattern(root, "ch", true, req, err);
	case OP_ANNOUNCE:
		if (get_ch_opt(root, req, err) != 0)
			return -1;
		return get_text(root, cfg, req, err);
	default:
		break;
	}
	return 0;
}

int
proto_parse(const char *buf, size_t len, const struct config *cfg,
    struct request *req, struct proto_error *err)
{
	const char *end = NULL;
	const cJSON *it;
	cJSON *root;
	int i;

	memset(req, 0, sizeof *req);
	req->history = -1;
	req->since = -1;
	req->epoch = NULL;
	req->limit = 50;

	i = json_prescan(buf, len, cfg->json_depth_max);
	if (i < 0)
		return fail(err, ERR_BAD_JSON,
		    "NUL and unescaped control characters are not allowed");
	if (i > cfg->json_depth_max)
		return fail(err, ERR_BAD_JSON, "nested deeper than %d levels",
		    cfg->json_depth_max);
	root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
	if (root == NULL)
		return fail(err, ERR_BAD_JSON, "not valid JSON");
	while (end != NULL && end < buf + len &&
	    (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (end != NULL && end < buf + len) {
		cJSON_Delete(root);
		return fail(err, ERR_BAD_JSON, "trailing characters after JSON");
	}
	if (!cJSON_IsObject(root)) {
		cJSON_Delete(root);
		return fail(err, ERR_BAD_JSON, "a frame must be a JSON object");
	}
	req->root = root;

	it = cJSON_GetObjectItemCaseSensitive(root, "id");
	if (it != NULL && parse_id(it, req) != 0) {
		req->id[0] = '\0';
		proto_request_free(req);
		return fail(err, ERR_BAD_FIELD,
		    "id: must be a number or a string of at most %d bytes",
		    PROTO_ID_MAX);
	}

	it = cJSON_GetObjectItemCaseSensitive(root, "op");
	if (!cJSON_IsString(it)) {
		proto_request_free(req);
		return fail(err, ERR_BAD_OP, "op: missing or not a string");
	}
	for (i = 0; i < OP_COUNT; i++)
		if (strcmp(it->valuestring, op_names[i]) == 0)
			break;
	if (i == OP_COUNT) {
		proto_request_free(req);
		return fail(err, ERR_BAD_OP, "unknown op");
	}
	req->op = (enum op)i;

	if (parse_fields(root, cfg, req, err) != 0) {
		proto_request_free(req);
		return -1;
	}
	return 0;
}

void
proto_request_free(struct request *req)
{
	if (req->meta != NULL)
		cJSON_free(req->meta);
	req->meta = NULL;
	cJSON_Delete(req->root);
	req->root = NULL;
}
