/*
 * auth.c: who a connection is: JWT (HS256) verification and open-mode guests.
 *
 * A token is three unpadded base64url parts, "header.payload.signature".  The
 * order of the checks matters: the header is read only to learn that the
 * algorithm is HS256 (anything else, "none" above all, is refused), then the
 * signature is checked in constant time, and only then is the payload
 * decoded and its claims believed.  Every step is bounded: the token's
 * length, the decoded sizes and cJSON's nesting limit.  Reasons handed back
 * in *why are fixed strings meant for the client; nothing here logs, so a
 * token or a secret can never reach a log line from this file.
 *
 * Signing (auth_sign_jwt, for `chatrelay token`) is the same steps the other
 * way round: the claims are checked by the rules the verifier applies, so
 * that every token made here is one it accepts, then written with jsonw
 * (integers exact, strings escaped), encoded, and signed.
 */
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth.h"
#include "jsonw.h"
#include "utf8.h"

#define AUTH_SIG_LEN 32		/* HMAC-SHA256 output, bytes */
#define AUTH_SIG_B64_LEN 43	/* its unpadded base64url length */
#define AUTH_JSON_MAX 4096	/* largest decoded header or payload */
#define AUTH_GUEST_PREFIX "guest:"

/* Decoded parts are never longer than this: 3 bytes per 4 characters. */
#define AUTH_DECODED_MAX (AUTH_TOKEN_MAX / 4 * 3 + 3)

/* The largest exp signed: every integer up to it is exact as a double. */
#define AUTH_EXP_MAX ((int64_t)1 << 53)

#define AUTH_STR2(x) #x
#define AUTH_STR(x) AUTH_STR2(x)

/* {"alg":"HS256","typ":"JWT"}, the header of every token signed here. */
static const char auth_header_json[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static const char auth_b64_chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static const char *const auth_role_names[] = { "player", "moderator", "admin" };

/* Returns the 6-bit value of base64url character c, or -1. */
static int
auth_b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '-')
		return 62;
	if (c == '_')
		return 63;
	return -1;
}

/*
 * Decodes the unpadded base64url text in (n characters) into out (outlen
 * bytes).  Returns the decoded length, or -1 if a character is not base64url
 * (padding included), the length is impossible, the unused low bits of the
 * last character are not zero (so every byte string has one encoding), or
 * out is too small.
 */
static int
auth_b64url_decode(const char *in, size_t n, unsigned char *out, size_t outlen)
{
	size_t		i, o = 0, need;
	uint32_t	acc = 0;
	int		v, bits = 0;

	if (n % 4 == 1)
		return -1;
	need = n / 4 * 3 + (n % 4 == 0 ? 0 : n % 4 - 1);
	if (need > outlen)
		return -1;
	for (i = 0; i < n; i++) {
		if ((v = auth_b64_value((unsigned char)in[i])) < 0)
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1U << bits) - 1;
		}
	}
	if (acc != 0)
		return -1;	/* non-zero leftover bits */
	return (int)o;
}

/* Returns the length of the unpadded base64url encoding of n bytes. */
static size_t
auth_b64url_len(size_t n)
{
	return n / 3 * 4 + (n % 3 == 0 ? 0 : n % 3 + 1);
}

/*
 * Encodes n bytes of in as unpadded base64url into out, which has room for
 * auth_b64url_len(n) characters (no NUL is written).  Returns that length.
 */
static size_t
auth_b64url_encode(const unsigned char *in, size_t n, char *out)
{
	size_t		i, o = 0;
	uint32_t	acc = 0;
	int		bits = 0;

	for (i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 6) {
			bits -= 6;
			out[o++] = auth_b64_chars[(acc >> bits) & 0x3f];
		}
		acc &= (1U << bits) - 1;
	}
	if (bits > 0)
		out[o++] = auth_b64_chars[(acc << (6 - bits)) & 0x3f];
	return o;
}

/* Computes HMAC-SHA256(secret, data) into mac.  Returns 0, or -1. */
static int
auth_hmac(const char *secret, const char *data, size_t len,
    unsigned char mac[AUTH_SIG_LEN])
{
	unsigned int	maclen = 0;

	if (HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (const unsigned char *)data, len, mac, &maclen) == NULL)
		return -1;
	return maclen == AUTH_SIG_LEN ? 0 : -1;
}

/*
 * Returns true if the JSON text s (len bytes) has a \u0000 escape.  cJSON
 * would decode one into a NUL that silently cuts the string short ("admin"
 * from "admin\u0000x"), so such a document is refused outright.  A backslash
 * can only occur inside a string in valid JSON, so skipping each escape's
 * second character is enough to tell "\\u0000" (no NUL) from "\u0000".
 */
static bool
auth_json_has_nul(const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i + 1 < len; i++) {
		if (s[i] != '\\')
			continue;
		if (s[i + 1] == 'u' && i + 5 < len &&
		    memcmp(s + i + 2, "0000", 4) == 0)
			return true;
		i++;
	}
	return false;
}

/*
 * Decodes the base64url part in (n characters) and parses it as one JSON
 * object with nothing after it.  Returns the object, which the caller frees
 * with cJSON_Delete, or NULL.
 */
static cJSON *
auth_decode_object(const char *in, size_t n)
{
	unsigned char	 buf[AUTH_DECODED_MAX + 1];
	const char	*text = (const char *)buf;
	cJSON		*obj;
	int		 len;

	len = auth_b64url_decode(in, n, buf, AUTH_DECODED_MAX);
	if (len <= 0 || len > AUTH_JSON_MAX)
		return NULL;
	buf[len] = '\0';
	if (strlen(text) != (size_t)len || auth_json_has_nul(text, len))
		return NULL;
	obj = cJSON_ParseWithOpts(text, NULL, 1);
	if (obj != NULL && !cJSON_IsObject(obj)) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

/*
 * Finds member key (case-sensitively) in obj.  Returns 0 with *item set (NULL
 * when absent), or -1 if the key occurs more than once: a duplicate claim is
 * ambiguous, and other JWT libraries might read the other copy.
 */
static int
auth_member(const cJSON *obj, const char *key, const cJSON **item)
{
	const cJSON	*c;

	*item = NULL;
	cJSON_ArrayForEach(c, obj) {
		if (c->string == NULL || strcmp(c->string, key) != 0)
			continue;
		if (*item != NULL)
			return -1;
		*item = c;
	}
	return 0;
}

/*
 * Checks the JOSE header: "alg" must be exactly "HS256", "typ" if present
 * "JWT" in any case, and no "crit" extensions (none are understood).  Returns
 * NULL if acceptable, else the reason.
 */
static const char *
auth_check_header(const cJSON *hdr)
{
	const cJSON	*alg, *typ, *crit;

	if (auth_member(hdr, "alg", &alg) != 0 ||
	    auth_member(hdr, "typ", &typ) != 0 ||
	    auth_member(hdr, "crit", &crit) != 0)
		return "malformed token";
	if (!cJSON_IsString(alg) || strcmp(alg->valuestring, "HS256") != 0)
		return "unsupported alg";
	if (typ != NULL && (!cJSON_IsString(typ) ||
	    strcasecmp(typ->valuestring, "JWT") != 0))
		return "unsupported typ";
	if (crit != NULL)
		return "unsupported header";
	return NULL;
}

/*
 * Converts a NumericDate claim to whole seconds, rounding up so that "now >=
 * result" holds exactly when "now >= d" for integer now.  Returns 0, or -1 if
 * item is not a finite number.
 */
static int
auth_numeric_date(const cJSON *item, double *d, int64_t *out)
{
	double	v;
	int64_t	t;

	if (!cJSON_IsNumber(item))
		return -1;
	v = item->valuedouble;
	if (v != v)
		return -1;	/* NaN */
	if (v >= 9.2e18)
		t = INT64_MAX;	/* also +inf, from e.g. 1e999 */
	else if (v <= -9.2e18)
		t = INT64_MIN;
	else {
		t = (int64_t)v;
		if ((double)t < v)
			t++;
	}
	*d = v;
	*out = t;
	return 0;
}

/* Returns true if s (len bytes) is a displayable name: UTF-8, no controls. */
static bool
auth_name_valid(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || len > USER_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	}
	return utf8_valid(s, len);
}

/*
 * Reads the claims of a verified payload into id.  Returns NULL on success,
 * else the reason.
 */
static const char *
auth_read_claims(const cJSON *claims, int64_t now, struct identity *id)
{
	const cJSON	*sub, *name, *role, *exp, *nbf, *chs, *c;
	double		 d;
	int64_t		 t;
	int		 r;
	size_t		 n;

	if (auth_member(claims, "sub", &sub) != 0 ||
	    auth_member(claims, "name", &name) != 0 ||
	    auth_member(claims, "role", &role) != 0 ||
	    auth_member(claims, "exp", &exp) != 0 ||
	    auth_member(claims, "nbf", &nbf) != 0 ||
	    auth_member(claims, "chs", &chs) != 0)
		return "malformed token";

	if (sub == NULL)
		return "missing sub";
	if (!cJSON_IsString(sub))
		return "bad sub";
	n = strlen(sub->valuestring);
	if (!user_id_valid(sub->valuestring, n))
		return "bad sub";
	memcpy(id->id, sub->valuestring, n + 1);

	if (name == NULL)
		memcpy(id->name, id->id, n + 1);
	else {
		if (!cJSON_IsString(name))
			return "bad name";
		n = strlen(name->valuestring);
		if (!auth_name_valid(name->valuestring, n))
			return "bad name";
		memcpy(id->name, name->valuestring, n + 1);
	}

	id->role = ROLE_PLAYER;
	if (role != NULL) {
		if (!cJSON_IsString(role) ||
		    (r = auth_role_parse(role->valuestring)) < 0)
			return "bad role";
		id->role = (enum role)r;
	}

	id->exp = 0;
	if (exp != NULL) {
		if (auth_numeric_date(exp, &d, &t) != 0)
			return "bad exp";
		if ((double)now >= d)
			return "expired";
		id->exp = t;
	}
	if (nbf != NULL) {
		if (auth_numeric_date(nbf, &d, &t) != 0)
			return "bad nbf";
		if ((double)now < d)
			return "not yet valid";
	}

	id->has_chs = false;
	id->nchs = 0;
	if (chs != NULL) {
		if (!cJSON_IsArray(chs) ||
		    cJSON_GetArraySize(chs) > AUTH_CHS_MAX)
			return "bad chs";
		cJSON_ArrayForEach(c, chs) {
			if (!cJSON_IsString(c))
				return "bad chs";
			n = strlen(c->valuestring);
			if (!chan_pattern_valid(c->valuestring, n))
				return "bad chs";
			memcpy(id->chs[id->nchs++], c->valuestring, n + 1);
		}
		id->has_chs = true;
	}
	return NULL;
}

int
auth_verify_jwt(const char *token, size_t len, const char *secret,
    int64_t now, struct identity *out, const char **why)
{
	unsigned char	 sig[AUTH_SIG_LEN], mac[AUTH_SIG_LEN];
	struct identity	 id;
	cJSON		*hdr = NULL, *claims = NULL;
	const char	*reason = "malformed token", *dummy;
	size_t		 i, dot[2] = { 0, 0 }, ndots = 0;

	if (why == NULL)
		why = &dummy;
	if (secret == NULL || *secret == '\0') {
		*why = "no secret configured";
		return -1;
	}
	if (token == NULL || len == 0) {
		*why = "malformed token";
		return -1;
	}
	if (len > AUTH_TOKEN_MAX) {
		*why = "token too long";
		return -1;
	}

	/* Split into exactly three parts of nothing but base64url. */
	for (i = 0; i < len; i++) {
		if (token[i] == '.') {
			if (ndots == 2)
				goto fail;
			dot[ndots++] = i;
		} else if (auth_b64_value((unsigned char)token[i]) < 0)
			goto fail;
	}
	if (ndots != 2 || dot[0] == 0 || dot[1] == dot[0] + 1)
		goto fail;

	if ((hdr = auth_decode_object(token, dot[0])) == NULL)
		goto fail;
	if ((reason = auth_check_header(hdr)) != NULL)
		goto fail;

	/* The signature, before anything in the payload is believed. */
	reason = "bad signature";
	if (len - dot[1] - 1 != AUTH_SIG_B64_LEN ||
	    auth_b64url_decode(token + dot[1] + 1, AUTH_SIG_B64_LEN, sig,
	    sizeof sig) != AUTH_SIG_LEN)
		goto fail;
	if (auth_hmac(secret, token, dot[1], mac) != 0)
		goto fail;
	if (CRYPTO_memcmp(sig, mac, AUTH_SIG_LEN) != 0)
		goto fail;

	reason = "malformed token";
	claims = auth_decode_object(token + dot[0] + 1, dot[1] - dot[0] - 1);
	if (claims == NULL)
		goto fail;
	memset(&id, 0, sizeof id);
	if ((reason = auth_read_claims(claims, now, &id)) != NULL)
		goto fail;

	cJSON_Delete(hdr);
	cJSON_Delete(claims);
	OPENSSL_cleanse(mac, sizeof mac);
	*out = id;
	*why = NULL;
	return 0;

fail:
	cJSON_Delete(hdr);
	cJSON_Delete(claims);
	OPENSSL_cleanse(mac, sizeof mac);
	*why = reason;
	return -1;
}

/*
 * Checks claims by the rules auth_read_claims applies to a token.  Returns
 * NULL if they may be signed, else the reason (for whoever asked for the
 * token, so it says what the rule is).
 */
static const char *
auth_check_claims(const struct auth_claims *c)
{
	int	i;

	if (c->sub == NULL ||
	    !user_id_valid(c->sub, strnlen(c->sub, USER_ID_MAX + 1)))
		return "bad sub: a user id is 1-" AUTH_STR(USER_ID_MAX)
		    " bytes of printable ASCII without spaces";
	if (c->name != NULL &&
	    !auth_name_valid(c->name, strnlen(c->name, USER_NAME_MAX + 1)))
		return "bad name: a display name is 1-" AUTH_STR(USER_NAME_MAX)
		    " bytes of UTF-8 without control characters";
	if ((unsigned)c->role > ROLE_ADMIN)
		return "bad role: player, moderator or admin";
	if (c->exp < 0 || c->exp > AUTH_EXP_MAX)
		return "bad exp: seconds since the epoch, or 0 for none";
	if (c->nchs < 0 || c->nchs > AUTH_CHS_MAX ||
	    (c->nchs > 0 && c->chs == NULL))
		return "bad chs: at most " AUTH_STR(AUTH_CHS_MAX)
		    " channel patterns";
	for (i = 0; i < c->nchs; i++) {
		if (c->chs[i] == NULL || !chan_pattern_valid(c->chs[i],
		    strnlen(c->chs[i], CHAN_NAME_MAX + 2)))
			return "bad chs: a pattern is a channel name (1-"
			    AUTH_STR(CHAN_NAME_MAX) " bytes of A-Z a-z 0-9 _ . : -)"
			    ", optionally ending in '*', or '*' alone";
	}
	return NULL;
}

/*
 * Writes the payload of checked claims into w.  Returns NULL, or the reason
 * it cannot be signed.
 */
static const char *
auth_write_claims(struct jsonw *w, const struct auth_claims *c)
{
	int	i;

	jsonw_lit(w, "{\"sub\":");
	jsonw_cstr(w, c->sub);
	if (c->name != NULL) {
		jsonw_lit(w, ",\"name\":");
		jsonw_cstr(w, c->name);
	}
	jsonw_lit(w, ",\"role\":");
	jsonw_cstr(w, auth_role_name(c->role));
	if (c->exp != 0) {
		jsonw_lit(w, ",\"exp\":");
		jsonw_int(w, c->exp);
	}
	if (c->chs != NULL) {
		jsonw_lit(w, ",\"chs\":[");
		for (i = 0; i < c->nchs; i++) {
			if (i > 0)
				jsonw_lit(w, ",");
			jsonw_cstr(w, c->chs[i]);
		}
		jsonw_lit(w, "]");
	}
	jsonw_lit(w, "}");
	if (w->failed)
		return "out of memory";
	if (w->len > AUTH_JSON_MAX)
		return "token too long";
	return NULL;
}

int
auth_sign_jwt(const struct auth_claims *claims, const char *secret,
    char *out, size_t outlen, const char **why)
{
	const size_t	 hlen = sizeof auth_header_json - 1;
	unsigned char	 mac[AUTH_SIG_LEN];
	struct jsonw	 w;
	const char	*reason, *dummy;
	size_t		 o, total;

	if (why == NULL)
		why = &dummy;
	if (out != NULL && outlen > 0)
		out[0] = '\0';
	if (secret == NULL || *secret == '\0') {
		*why = "no secret configured";
		return -1;
	}
	if (claims == NULL || out == NULL) {
		*why = "nothing to sign";
		return -1;
	}
	if ((reason = auth_check_claims(claims)) != NULL) {
		*why = reason;
		return -1;
	}

	jsonw_init(&w);
	if ((reason = auth_write_claims(&w, claims)) != NULL)
		goto fail;
	reason = "token too long";
	total = auth_b64url_len(hlen) + 1 + auth_b64url_len(w.len) + 1 +
	    AUTH_SIG_B64_LEN;
	if (total > AUTH_TOKEN_MAX || total >= outlen)
		goto fail;

	o = auth_b64url_encode((const unsigned char *)auth_header_json, hlen,
	    out);
	out[o++] = '.';
	o += auth_b64url_encode((const unsigned char *)w.buf, w.len, out + o);
	reason = "signing failed";
	if (auth_hmac(secret, out, o, mac) != 0)
		goto fail;
	out[o++] = '.';
	o += auth_b64url_encode(mac, sizeof mac, out + o);
	out[o] = '\0';
	OPENSSL_cleanse(mac, sizeof mac);
	jsonw_free(&w);
	*why = NULL;
	return 0;

fail:
	OPENSSL_cleanse(mac, sizeof mac);
	jsonw_free(&w);
	out[0] = '\0';
	*why = reason;
	return -1;
}

int
auth_guest(const char *name, size_t len, struct identity *out,
    const char **why)
{
	const size_t	 plen = sizeof AUTH_GUEST_PREFIX - 1;
	const char	*dummy;

	if (why == NULL)
		why = &dummy;
	if (name == NULL || len > USER_ID_MAX - plen ||
	    !user_id_valid(name, len)) {
		*why = "bad name";
		return -1;
	}
	memset(out, 0, sizeof *out);
	memcpy(out->id, AUTH_GUEST_PREFIX, plen);
	memcpy(out->id + plen, name, len);
	out->id[plen + len] = '\0';
	memcpy(out->name, name, len);
	out->name[len] = '\0';
	out->role = ROLE_PLAYER;
	out->has_chs = false;
	*why = NULL;
	return 0;
}

bool
auth_may_join(const struct identity *who, const char *ch)
{
	int	i;

	if (!who->has_chs)
		return true;
	for (i = 0; i < who->nchs; i++) {
		if (chan_pattern_match(who->chs[i], ch))
			return true;
	}
	return false;
}

int
auth_role_parse(const char *s)
{
	size_t	i;

	if (s == NULL)
		return -1;
	for (i = 0; i < sizeof auth_role_names / sizeof auth_role_names[0];
	    i++) {
		if (strcmp(s, auth_role_names[i]) == 0)
			return (int)i;
	}
	return -1;
}

const char *
auth_role_name(enum role r)
{
	if ((unsigned)r >= sizeof auth_role_names / sizeof auth_role_names[0])
		return "unknown";
	return auth_role_names[r];
}
