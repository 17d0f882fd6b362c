/*
 * check_auth.c: unit tests for auth.c, JWT (HS256) verification and guests.
 *
 * Tokens for the verifier are built here, independently of auth_sign_jwt:
 * base64url comes from OpenSSL's EVP_EncodeBlock (then made URL-safe and
 * unpadded) or is written out by hand, and the signature is OpenSSL's HMAC()
 * computed in this file.  So a bug in auth_sign_jwt cannot hide one in
 * auth_verify_jwt; the "sign" tests then check the two agree, and that what
 * the signer writes (header, payload, signature) is what is computed here.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* vasprintf */
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "auth.h"

#define SECRET "s3cret-for-tests"
#define NOW ((int64_t)1700000000)

/* {"alg":"HS256","typ":"JWT"}, {"alg":"HS256"} and {"alg":"none"}, by hand. */
#define HDR_JWT "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
#define HDR_HS256 "eyJhbGciOiJIUzI1NiJ9"
#define HDR_NONE "eyJhbGciOiJub25lIn0"

/* Returns the unpadded base64url of n bytes at p, malloc'd. */
static char *
b64url(const void *p, size_t n)
{
	char	*out, *c;
	size_t	 len;

	out = malloc(4 * ((n + 2) / 3) + 1);
	ck_assert_ptr_nonnull(out);
	EVP_EncodeBlock((unsigned char *)out, p, (int)n);
	for (c = out; *c != '\0'; c++) {
		if (*c == '+')
			*c = '-';
		else if (*c == '/')
			*c = '_';
	}
	len = strlen(out);
	while (len > 0 && out[len - 1] == '=')
		out[--len] = '\0';
	return out;
}

/* Returns a malloc'd printf-formatted string. */
static char *
fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *
fmt(const char *f, ...)
{
	va_list	 ap;
	char	*s;

	va_start(ap, f);
	ck_assert_int_ge(vasprintf(&s, f, ap), 0);
	va_end(ap);
	return s;
}

/* Returns "b64(hdr).b64(payload)", the signing input, malloc'd. */
static char *
signing_input(const char *hdr, const char *payload)
{
	char	*h = b64url(hdr, strlen(hdr));
	char	*p = b64url(payload, strlen(payload));
	char	*s = fmt("%s.%s", h, p);

	free(h);
	free(p);
	return s;
}

/* Returns the base64url HMAC-SHA256 of input under secret, malloc'd. */
static char *
sig_of(const char *secret, const char *input)
{
	unsigned char	mac[EVP_MAX_MD_SIZE];
	unsigned int	maclen = 0;

	ck_assert_ptr_nonnull(HMAC(EVP_sha256(), secret, (int)strlen(secret),
	    (const unsigned char *)input, strlen(input), mac, &maclen));
	ck_assert_uint_eq(maclen, 32);
	return b64url(mac, maclen);
}

/* Returns a token for JSON texts hdr and payload signed with secret. */
static char *
make_token_with(const char *secret, const char *hdr, const char *payload)
{
	char	*in = signing_input(hdr, payload);
	char	*sig = sig_of(secret, in);
	char	*tok = fmt("%s.%s", in, sig);

	free(in);
	free(sig);
	return tok;
}

/* Returns a correctly signed HS256 token for the JSON text payload. */
static char *
make_token(const char *payload)
{
	return make_token_with(SECRET, "{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
	    payload);
}

/* Returns a token whose encoded header is hdr64, signed correctly. */
static char *
make_token_b64hdr(const char *hdr64, const char *payload)
{
	char	*p = b64url(payload, strlen(payload));
	char	*in = fmt("%s.%s", hdr64, p);
	char	*sig = sig_of(SECRET, in);
	char	*tok = fmt("%s.%s", in, sig);

	free(p);
	free(in);
	free(sig);
	return tok;
}

/* Verifies tok at NOW with SECRET.  Returns the reason, NULL on success. */
static const char *
verify(const char *tok, struct identity *id)
{
	struct identity	 scratch;
	const char	*why = "unset";
	int		 rc;

	if (id == NULL)
		id = &scratch;
	rc = auth_verify_jwt(tok, strlen(tok), SECRET, NOW, id, &why);
	if (rc == 0)
		return NULL;
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_nonnull(why);
	return why;
}

/* Checks that the payload, correctly signed, fails with reason want. */
static void
expect_claims(const char *payload, const char *want)
{
	char		*tok = make_token(payload);
	const char	*why = verify(tok, NULL);

	ck_assert_msg(why != NULL && strcmp(why, want) == 0,
	    "payload %s: got \"%s\", want \"%s\"", payload,
	    why ? why : "(success)", want);
	free(tok);
}

/* Checks that the correctly signed payload is accepted. */
static void
expect_ok(const char *payload, struct identity *id)
{
	char		*tok = make_token(payload);
	const char	*why = verify(tok, id);

	ck_assert_msg(why == NULL, "payload %s: %s", payload, why);
	free(tok);
}

/* Checks that tok fails with reason want. */
static void
expect_fail(const char *tok, const char *want)
{
	const char	*why = verify(tok, NULL);

	ck_assert_msg(why != NULL && strcmp(why, want) == 0,
	    "token %s: got \"%s\", want \"%s\"", tok,
	    why ? why : "(success)", want);
}

START_TEST(test_helpers_agree)
{
	char	*s;

	/* The hand-written headers are what the helper encodes. */
	s = b64url("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", 27);
	ck_assert_str_eq(s, HDR_JWT);
	free(s);
	s = b64url("{\"alg\":\"none\"}", 14);
	ck_assert_str_eq(s, HDR_NONE);
	free(s);
	s = b64url("\xfb\xff", 2);
	ck_assert_str_eq(s, "-_8");
	free(s);
}
END_TEST

START_TEST(test_known_vector)
{
	/* The widely published example token (jwt.io), secret included. */
	const char	*tok = HDR_JWT "."
	    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ."
	    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
	struct identity	 id;
	const char	*why = NULL;

	ck_assert_int_eq(auth_verify_jwt(tok, strlen(tok),
	    "your-256-bit-secret", NOW, &id, &why), 0);
	ck_assert_str_eq(id.id, "1234567890");
	ck_assert_str_eq(id.name, "John Doe");
	ck_assert_int_eq(auth_verify_jwt(tok, strlen(tok),
	    "your-256-bit-secreT", NOW, &id, &why), -1);
	ck_assert_str_eq(why, "bad signature");
}
END_TEST

START_TEST(test_valid_all_claims)
{
	struct identity	 id;
	char		*payload;

	payload = fmt("{\"sub\":\"u42\",\"name\":\"Alice \xe2\x9c\x93\","
	    "\"role\":\"moderator\",\"exp\":%lld,\"nbf\":%lld,\"iat\":%lld,"
	    "\"chs\":[\"global\",\"guild:42\",\"party:*\"],\"extra\":{\"a\":[1]}}",
	    (long long)NOW + 60, (long long)NOW - 10, (long long)NOW);
	expect_ok(payload, &id);
	ck_assert_str_eq(id.id, "u42");
	ck_assert_str_eq(id.name, "Alice \xe2\x9c\x93");
	ck_assert_int_eq(id.role, ROLE_MODERATOR);
	ck_assert_int_eq(id.exp, NOW + 60);
	ck_assert(id.has_chs);
	ck_assert_int_eq(id.nchs, 3);
	ck_assert_str_eq(id.chs[0], "global");
	ck_assert_str_eq(id.chs[1], "guild:42");
	ck_assert_str_eq(id.chs[2], "party:*");
	free(payload);
}
END_TEST

START_TEST(test_defaults)
{
	struct identity	 id;
	char		*tok;
	const char	*why;

	/* No typ, no name, no role, no exp, no chs. */
	tok = make_token_b64hdr(HDR_HS256, "{\"sub\":\"bob\"}");
	why = verify(tok, &id);
	ck_assert_ptr_null(why);
	ck_assert_str_eq(id.id, "bob");
	ck_assert_str_eq(id.name, "bob");
	ck_assert_int_eq(id.role, ROLE_PLAYER);
	ck_assert_int_eq(id.exp, 0);
	ck_assert(!id.has_chs);
	ck_assert_int_eq(id.nchs, 0);
	free(tok);

	/* typ is compared without case; a NULL why is allowed. */
	tok = make_token_with(SECRET, "{\"typ\":\"jwt\",\"alg\":\"HS256\"}",
	    "{\"sub\":\"bob\",\"role\":\"admin\"}");
	ck_assert_int_eq(auth_verify_jwt(tok, strlen(tok), SECRET, NOW, &id,
	    NULL), 0);
	ck_assert_int_eq(id.role, ROLE_ADMIN);
	free(tok);
}
END_TEST

START_TEST(test_bad_signature)
{
	char	*tok, *in, *p, *forged;
	size_t	 len, i;

	tok = make_token("{\"sub\":\"alice\"}");
	ck_assert_ptr_null(verify(tok, NULL));
	len = strlen(tok);

	/* Change one character of the signature, wherever it is. */
	for (i = strrchr(tok, '.') - tok + 1; i < len; i++) {
		char	 save = tok[i];

		tok[i] = save == 'A' ? 'B' : 'A';
		expect_fail(tok, "bad signature");
		tok[i] = save;
	}
	/* Cut or lengthen the signature. */
	tok[len - 1] = '\0';
	expect_fail(tok, "bad signature");
	free(tok);
	tok = make_token("{\"sub\":\"alice\"}");
	forged = fmt("%sAAAA", tok);
	expect_fail(forged, "bad signature");
	free(forged);

	/* The signature of one payload does not cover another. */
	p = b64url("{\"sub\":\"admin\"}", 15);
	in = strchr(tok, '.');
	forged = fmt("%.*s.%s%s", (int)(in - tok), tok, p, strrchr(tok, '.'));
	expect_fail(forged, "bad signature");
	free(forged);
	free(p);

	/* A signature that is valid base64url of 32 zero bytes. */
	in = signing_input("{\"alg\":\"HS256\"}", "{\"sub\":\"alice\"}");
	forged = fmt("%s.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", in);
	expect_fail(forged, "bad signature");
	free(forged);
	free(in);
	free(tok);
}
END_TEST

START_TEST(test_wrong_secret)
{
	char		*tok;
	struct identity	 id;
	const char	*why = NULL;

	tok = make_token_with("another secret", "{\"alg\":\"HS256\"}",
	    "{\"sub\":\"alice\"}");
	expect_fail(tok, "bad signature");
	ck_assert_int_eq(auth_verify_jwt(tok, strlen(tok), "another secret",
	    NOW, &id, &why), 0);
	/* No secret at all is refused, never treated as an empty key. */
	ck_assert_int_eq(auth_verify_jwt(tok, strlen(tok), "", NOW, &id,
	    &why), -1);
	ck_assert_int_eq(auth_verify_jwt(tok, strlen(tok), NULL, NOW, &id,
	    &why), -1);
	free(tok);
}
END_TEST

START_TEST(test_alg_none)
{
	char	*p = b64url("{\"sub\":\"alice\",\"role\":\"admin\"}", 31);
	char	*tok;

	tok = fmt("%s.%s.", HDR_NONE, p);
	expect_fail(tok, "unsupported alg");
	free(tok);
	/* Even with a real HMAC attached. */
	tok = make_token_with(SECRET, "{\"alg\":\"none\"}",
	    "{\"sub\":\"alice\"}");
	expect_fail(tok, "unsupported alg");
	free(tok);
	/* An HS256 header with no signature. */
	tok = fmt("%s.%s.", HDR_JWT, p);
	expect_fail(tok, "bad signature");
	free(tok);
	free(p);
}
END_TEST

START_TEST(test_alg_other)
{
	static const char *const hdrs[] = {
		"{\"alg\":\"HS512\",\"typ\":\"JWT\"}",
		"{\"alg\":\"HS384\"}",
		"{\"alg\":\"RS256\"}",
		"{\"alg\":\"hs256\"}",
		"{\"alg\":\"Hs256\"}",
		"{\"alg\":\"HS256 \"}",
		"{\"alg\":\"\"}",
		"{\"alg\":null}",
		"{\"alg\":256}",
		"{\"alg\":[\"HS256\"]}",
		"{\"typ\":\"JWT\"}",
		"{}",
		"{\"ALG\":\"HS256\"}",
	};
	size_t	 i;
	char	*tok;

	for (i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
		tok = make_token_with(SECRET, hdrs[i], "{\"sub\":\"alice\"}");
		expect_fail(tok, "unsupported alg");
		free(tok);
	}
}
END_TEST

START_TEST(test_header_other)
{
	char	*tok;

	tok = make_token_with(SECRET, "{\"alg\":\"HS256\",\"typ\":\"JWS\"}",
	    "{\"sub\":\"alice\"}");
	expect_fail(tok, "unsupported typ");
	free(tok);
	tok = make_token_with(SECRET, "{\"alg\":\"HS256\",\"typ\":1}",
	    "{\"sub\":\"alice\"}");
	expect_fail(tok, "unsupported typ");
	free(tok);
	tok = make_token_with(SECRET,
	    "{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}",
	    "{\"sub\":\"alice\"}");
	expect_fail(tok, "unsupported header");
	free(tok);
	/* Two algs is ambiguous, whichever comes first. */
	tok = make_token_with(SECRET, "{\"alg\":\"HS256\",\"alg\":\"none\"}",
	    "{\"sub\":\"alice\"}");
	expect_fail(tok, "malformed token");
	free(tok);
}
END_TEST

START_TEST(test_exp)
{
	struct identity	 id;
	char		*p;

	p = fmt("{\"sub\":\"a\",\"exp\":%lld}", (long long)NOW);
	expect_claims(p, "expired");
	free(p);
	p = fmt("{\"sub\":\"a\",\"exp\":%lld}", (long long)NOW - 3600);
	expect_claims(p, "expired");
	free(p);
	expect_claims("{\"sub\":\"a\",\"exp\":0}", "expired");
	expect_claims("{\"sub\":\"a\",\"exp\":-5}", "expired");

	p = fmt("{\"sub\":\"a\",\"exp\":%lld}", (long long)NOW + 1);
	expect_ok(p, &id);
	ck_assert_int_eq(id.exp, NOW + 1);
	free(p);
	/* Fractional seconds are allowed, and rounded up when kept. */
	p = fmt("{\"sub\":\"a\",\"exp\":%lld.5}", (long long)NOW);
	expect_ok(p, &id);
	ck_assert_int_eq(id.exp, NOW + 1);
	free(p);
	p = fmt("{\"sub\":\"a\",\"exp\":%lld.5}", (long long)NOW - 1);
	expect_claims(p, "expired");
	free(p);
	/* Far in the future, even past int64. */
	expect_ok("{\"sub\":\"a\",\"exp\":1e300}", &id);
	ck_assert_int_eq(id.exp, INT64_MAX);
	expect_ok("{\"sub\":\"a\",\"exp\":1e999}", &id);

	expect_claims("{\"sub\":\"a\",\"exp\":\"2030\"}", "bad exp");
	expect_claims("{\"sub\":\"a\",\"exp\":null}", "bad exp");
	expect_claims("{\"sub\":\"a\",\"exp\":true}", "bad exp");
}
END_TEST

START_TEST(test_nbf)
{
	char	*p;

	p = fmt("{\"sub\":\"a\",\"nbf\":%lld}", (long long)NOW + 1);
	expect_claims(p, "not yet valid");
	free(p);
	p = fmt("{\"sub\":\"a\",\"nbf\":%lld}", (long long)NOW);
	expect_ok(p, NULL);
	free(p);
	p = fmt("{\"sub\":\"a\",\"nbf\":%lld}", (long long)NOW - 100);
	expect_ok(p, NULL);
	free(p);
	expect_claims("{\"sub\":\"a\",\"nbf\":\"x\"}", "bad nbf");
}
END_TEST

START_TEST(test_malformed_base64)
{
	static const char *const bad[] = { "+", "/", "=", "!", " ", "\"",
	    "\xc3\xa9", "\n", "%" };
	char	*tok, *bb, *h, *p;
	size_t	 i;

	tok = make_token("{\"sub\":\"alice\"}");
	ck_assert_ptr_null(verify(tok, NULL));
	h = strchr(tok, '.');
	p = strrchr(tok, '.');
	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		/* In the header, the payload and the signature. */
		bb = fmt("%.*s%s%s", (int)(h - tok), tok, bad[i], h);
		expect_fail(bb, "malformed token");
		free(bb);
		bb = fmt("%.*s%s%s", (int)(p - tok), tok, bad[i], p);
		expect_fail(bb, "malformed token");
		free(bb);
		bb = fmt("%s%s", tok, bad[i]);
		expect_fail(bb, "malformed token");
		free(bb);
	}
	free(tok);

	/* Padding is not accepted, even where it would be right. */
	tok = make_token("{\"sub\":\"alice\"}");	/* payload is 20 chars */
	h = strchr(tok, '.');
	bb = fmt("%.*s=%s", (int)(h - tok), tok, h);	/* header is 36 chars */
	expect_fail(bb, "malformed token");
	free(bb);
	free(tok);
	/* {"sub":"a"} is 11 bytes, 15 characters, 16 when padded. */
	p = b64url("{\"sub\":\"a\"}", 11);
	ck_assert_uint_eq(strlen(p), 15);
	h = fmt("%s.%s=", HDR_JWT, p);
	tok = fmt("%s.%s", h, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA");
	expect_fail(tok, "malformed token");
	free(tok);
	free(h);
	free(p);
	/* Standard base64 of a header with '/' in it: {"alg":"HS256","k":"??"}. */
	p = b64url("{\"alg\":\"HS256\",\"k\":\"??\"}", 24);
	ck_assert_ptr_nonnull(strchr(p, '_'));
	*strchr(p, '_') = '/';
	tok = fmt("%s.eyJzdWIiOiJhbGljZSJ9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    p);
	expect_fail(tok, "malformed token");
	free(tok);
	free(p);

	/* A part of impossible length (4n+1 characters). */
	tok = fmt("%sA.eyJzdWIiOiJhbGljZSJ9.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	    HDR_JWT);
	expect_fail(tok, "malformed token");
	free(tok);
	/*
	 * Non-zero unused bits in a correctly signed part: {"sub":"a"} is 15
	 * characters ending in '0' (52, whose low 2 bits are unused); '1' (53)
	 * decodes to the same bytes but is not the canonical spelling.
	 */
	p = b64url("{\"sub\":\"a\"}", 11);
	ck_assert_int_eq(p[14], '0');
	p[14] = '1';
	h = fmt("%s.%s", HDR_JWT, p);
	bb = sig_of(SECRET, h);
	tok = fmt("%s.%s", h, bb);
	expect_fail(tok, "malformed token");
	free(tok);
	free(bb);
	free(h);
	free(p);
}
END_TEST

START_TEST(test_noncanonical_signature)
{
	char	*tok;
	size_t	 len;
	char	*last;
	int	 v;
	static const char alphabet[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

	/*
	 * The last of 43 characters carries 4 bits of the MAC and 2 unused
	 * bits; setting an unused bit leaves the decoded MAC the same, but the
	 * token must still be refused, so every MAC has one spelling.
	 */
	tok = make_token("{\"sub\":\"alice\"}");
	len = strlen(tok);
	last = tok + len - 1;
	v = (int)(strchr(alphabet, *last) - alphabet);
	ck_assert_int_eq(v & 3, 0);
	*last = alphabet[v | 1];
	expect_fail(tok, "bad signature");
	free(tok);
}
END_TEST

START_TEST(test_dots)
{
	char	*tok, *p;

	tok = make_token("{\"sub\":\"alice\"}");
	p = fmt("%s.", tok);
	expect_fail(p, "malformed token");
	free(p);
	p = fmt("%s.AAAA", tok);
	expect_fail(p, "malformed token");
	free(p);
	p = fmt(".%s", tok);
	expect_fail(p, "malformed token");
	free(p);
	*strrchr(tok, '.') = '\0';		/* header.payload */
	expect_fail(tok, "malformed token");
	*strrchr(tok, '.') = '\0';		/* header */
	expect_fail(tok, "malformed token");
	free(tok);
	expect_fail("", "malformed token");
	expect_fail(".", "malformed token");
	expect_fail("..", "malformed token");
	expect_fail("...", "malformed token");
	expect_fail("a.b.c.d", "malformed token");
}
END_TEST

START_TEST(test_empty_parts)
{
	char	*tok, *in, *sig;

	/* Empty header, with the signature computed over what is there. */
	in = fmt(".%s", "eyJzdWIiOiJhbGljZSJ9");
	sig = sig_of(SECRET, in);
	tok = fmt("%s.%s", in, sig);
	expect_fail(tok, "malformed token");
	free(tok);
	free(sig);
	free(in);
	/* Empty payload, correctly signed. */
	in = fmt("%s.", HDR_JWT);
	sig = sig_of(SECRET, in);
	tok = fmt("%s.%s", in, sig);
	expect_fail(tok, "malformed token");
	free(tok);
	free(sig);
	free(in);
	/* Empty signature. */
	tok = fmt("%s.%s.", HDR_JWT, "eyJzdWIiOiJhbGljZSJ9");
	expect_fail(tok, "bad signature");
	free(tok);
	expect_fail(".eyJzdWIiOiJhbGljZSJ9.", "malformed token");
	expect_fail(HDR_JWT "..", "malformed token");
}
END_TEST

START_TEST(test_header_not_json)
{
	static const char *const hdrs[] = {
		"not json",
		"[\"alg\",\"HS256\"]",
		"\"HS256\"",
		"42",
		"null",
		"{\"alg\":\"HS256\"",
		"{\"alg\":\"HS256\"} x",
		"{\"alg\":\"HS256\"}{}",
		"{'alg':'HS256'}",
		" ",
	};
	size_t	 i;
	char	*tok;

	for (i = 0; i < sizeof hdrs / sizeof hdrs[0]; i++) {
		tok = make_token_with(SECRET, hdrs[i], "{\"sub\":\"alice\"}");
		expect_fail(tok, "malformed token");
		free(tok);
	}
	/* A NUL inside the header, then a valid-looking tail. */
	{
		char	*h = b64url("{\"alg\":\"HS256\"}\0garbage", 23);
		char	*p = b64url("{\"sub\":\"a\"}", 11);
		char	*in = fmt("%s.%s", h, p);
		char	*sig = sig_of(SECRET, in);

		tok = fmt("%s.%s", in, sig);
		expect_fail(tok, "malformed token");
		free(tok);
		free(sig);
		free(in);
		free(p);
		free(h);
	}
}
END_TEST

START_TEST(test_payload_not_object)
{
	static const char *const payloads[] = {
		"[1,2]",
		"[{\"sub\":\"alice\"}]",
		"\"alice\"",
		"42",
		"null",
		"true",
		"not json",
		"{\"sub\":\"alice\"",
		"{\"sub\":\"alice\"}x",
		"{\"sub\":\"alice\"}{}",
	};
	size_t	i;

	for (i = 0; i < sizeof payloads / sizeof payloads[0]; i++)
		expect_claims(payloads[i], "malformed token");
}
END_TEST

START_TEST(test_sub)
{
	struct identity	 id;
	char		 sub[70], *p;

	expect_claims("{}", "missing sub");
	expect_claims("{\"name\":\"alice\"}", "missing sub");
	expect_claims("{\"Sub\":\"alice\"}", "missing sub");
	expect_claims("{\"sub\":42}", "bad sub");
	expect_claims("{\"sub\":null}", "bad sub");
	expect_claims("{\"sub\":[\"a\"]}", "bad sub");
	expect_claims("{\"sub\":\"\"}", "bad sub");
	expect_claims("{\"sub\":\"al ice\"}", "bad sub");
	expect_claims("{\"sub\":\"alice\\t\"}", "bad sub");
	expect_claims("{\"sub\":\"al\\u007fice\"}", "bad sub");
	expect_claims("{\"sub\":\"caf\xc3\xa9\"}", "bad sub");
	expect_claims("{\"sub\":\"caf\\u00e9\"}", "bad sub");

	memset(sub, 'u', 64);
	sub[64] = '\0';
	p = fmt("{\"sub\":\"%s\"}", sub);
	expect_ok(p, &id);
	ck_assert_str_eq(id.id, sub);
	ck_assert_str_eq(id.name, sub);
	free(p);
	sub[64] = 'u';
	sub[65] = '\0';
	p = fmt("{\"sub\":\"%s\"}", sub);
	expect_claims(p, "bad sub");
	free(p);

	/* A NUL escape must not cut "admin\u0000x" down to "admin". */
	expect_claims("{\"sub\":\"admin\\u0000x\"}", "malformed token");
	/* But an escaped backslash followed by u0000 is harmless text. */
	expect_ok("{\"sub\":\"admin\\\\u0000x\"}", &id);
	ck_assert_str_eq(id.id, "admin\\u0000x");
	/* Two subs: ambiguous, refused. */
	expect_claims("{\"sub\":\"alice\",\"sub\":\"admin\"}", "malformed token");
}
END_TEST

START_TEST(test_name)
{
	struct identity	 id;
	char		 name[200], *p;
	int		 i;

	expect_ok("{\"sub\":\"a\",\"name\":\"Al Ice\"}", &id);
	ck_assert_str_eq(id.name, "Al Ice");
	expect_ok("{\"sub\":\"a\",\"name\":\"\\u00e9\\ud83d\\ude00\"}", &id);
	ck_assert_str_eq(id.name, "\xc3\xa9\xf0\x9f\x98\x80");

	/* 64 bytes of two-byte characters: 32 "é". */
	for (i = 0; i < 32; i++)
		memcpy(name + 2 * i, "\xc3\xa9", 2);
	name[64] = '\0';
	p = fmt("{\"sub\":\"a\",\"name\":\"%s\"}", name);
	expect_ok(p, &id);
	ck_assert_str_eq(id.name, name);
	free(p);
	memcpy(name + 64, "x", 2);
	p = fmt("{\"sub\":\"a\",\"name\":\"%s\"}", name);
	expect_claims(p, "bad name");
	free(p);

	expect_claims("{\"sub\":\"a\",\"name\":\"\"}", "bad name");
	expect_claims("{\"sub\":\"a\",\"name\":7}", "bad name");
	expect_claims("{\"sub\":\"a\",\"name\":null}", "bad name");
	expect_claims("{\"sub\":\"a\",\"name\":\"a\\nb\"}", "bad name");
	expect_claims("{\"sub\":\"a\",\"name\":\"a\\u0001b\"}", "bad name");
	expect_claims("{\"sub\":\"a\",\"name\":\"a\\u001fb\"}", "bad name");
	expect_claims("{\"sub\":\"a\",\"name\":\"a\\u007fb\"}", "bad name");
	/* Raw invalid UTF-8 inside the JSON string (cJSON passes it on). */
	expect_claims("{\"sub\":\"a\",\"name\":\"a\xc3\"}", "bad name");
	expect_claims("{\"sub\":\"a\",\"name\":\"\xc0\x80\"}", "bad name");
	expect_claims("{\"sub\":\"a\",\"name\":\"\xed\xa0\x80\"}", "bad name");
	expect_claims("{\"sub\":\"a\",\"name\":\"a\\u0000b\"}", "malformed token");
}
END_TEST

START_TEST(test_role)
{
	struct identity	id;

	expect_ok("{\"sub\":\"a\",\"role\":\"player\"}", &id);
	ck_assert_int_eq(id.role, ROLE_PLAYER);
	expect_ok("{\"sub\":\"a\",\"role\":\"moderator\"}", &id);
	ck_assert_int_eq(id.role, ROLE_MODERATOR);
	expect_ok("{\"sub\":\"a\",\"role\":\"admin\"}", &id);
	ck_assert_int_eq(id.role, ROLE_ADMIN);
	expect_claims("{\"sub\":\"a\",\"role\":\"superuser\"}", "bad role");
	expect_claims("{\"sub\":\"a\",\"role\":\"Admin\"}", "bad role");
	expect_claims("{\"sub\":\"a\",\"role\":\"\"}", "bad role");
	expect_claims("{\"sub\":\"a\",\"role\":2}", "bad role");
	expect_claims("{\"sub\":\"a\",\"role\":null}", "bad role");
	expect_claims("{\"sub\":\"a\",\"role\":[\"admin\"]}", "bad role");
}
END_TEST

START_TEST(test_chs)
{
	struct identity	 id;
	char		*p, *q;
	size_t		 i;

	expect_ok("{\"sub\":\"a\",\"chs\":[\"*\"]}", &id);
	ck_assert(id.has_chs);
	ck_assert_int_eq(id.nchs, 1);
	ck_assert_str_eq(id.chs[0], "*");
	/* An empty list: the token allows no channel at all. */
	expect_ok("{\"sub\":\"a\",\"chs\":[]}", &id);
	ck_assert(id.has_chs);
	ck_assert_int_eq(id.nchs, 0);
	ck_assert(!auth_may_join(&id, "global"));

	expect_claims("{\"sub\":\"a\",\"chs\":\"global\"}", "bad chs");
	expect_claims("{\"sub\":\"a\",\"chs\":{\"global\":1}}", "bad chs");
	expect_claims("{\"sub\":\"a\",\"chs\":null}", "bad chs");
	expect_claims("{\"sub\":\"a\",\"chs\":[1]}", "bad chs");
	expect_claims("{\"sub\":\"a\",\"chs\":[\"ok\",null]}", "bad chs");
	expect_claims("{\"sub\":\"a\",\"chs\":[\"\"]}", "bad chs");
	expect_claims("{\"sub\":\"a\",\"chs\":[\"bad chan\"]}", "bad chs");
	expect_claims("{\"sub\":\"a\",\"chs\":[\"a*b\"]}", "bad chs");
	expect_claims("{\"sub\":\"a\",\"chs\":[\"**\"]}", "bad chs");
	expect_claims("{\"sub\":\"a\",\"chs\":[[\"global\"]]}", "bad chs");

	/* A pattern of a 64-byte name and '*' fits; 65 bytes of name do not. */
	p = fmt("{\"sub\":\"a\",\"chs\":[\"%064d*\"]}", 0);
	expect_ok(p, &id);
	ck_assert_uint_eq(strlen(id.chs[0]), 65);
	free(p);
	p = fmt("{\"sub\":\"a\",\"chs\":[\"%065d*\"]}", 0);
	expect_claims(p, "bad chs");
	free(p);

	/* AUTH_CHS_MAX entries are fine, one more is not. */
	p = fmt("{\"sub\":\"a\",\"chs\":[\"c0\"");
	for (i = 1; i < AUTH_CHS_MAX; i++) {
		q = fmt("%s,\"c%zu\"", p, i);
		free(p);
		p = q;
	}
	q = fmt("%s]}", p);
	expect_ok(q, &id);
	ck_assert_int_eq(id.nchs, AUTH_CHS_MAX);
	ck_assert_str_eq(id.chs[AUTH_CHS_MAX - 1], "c31");
	free(q);
	q = fmt("%s,\"extra\"]}", p);
	expect_claims(q, "bad chs");
	free(q);
	free(p);
}
END_TEST

START_TEST(test_too_long)
{
	struct identity	 id;
	const char	*why = NULL;
	char		*tok = NULL, *p, *pad;
	size_t		 n;
	bool		 exact = false;

	/* A correctly signed token of exactly AUTH_TOKEN_MAX bytes passes. */
	pad = malloc(AUTH_TOKEN_MAX);
	ck_assert_ptr_nonnull(pad);
	for (n = 2900; n < 3100 && !exact; n++) {
		memset(pad, 'x', n);
		pad[n] = '\0';
		p = fmt("{\"sub\":\"a\",\"pad\":\"%s\"}", pad);
		free(tok);
		tok = make_token(p);
		free(p);
		exact = strlen(tok) == AUTH_TOKEN_MAX;
	}
	ck_assert(exact);
	ck_assert_int_eq(auth_verify_jwt(tok, strlen(tok), SECRET, NOW, &id,
	    &why), 0);
	free(tok);

	/* One byte more, still correctly signed, does not. */
	for (tok = NULL; n < 3200 && tok == NULL; n++) {
		memset(pad, 'x', n);
		pad[n] = '\0';
		p = fmt("{\"sub\":\"a\",\"pad\":\"%s\"}", pad);
		tok = make_token(p);
		free(p);
		if (strlen(tok) <= AUTH_TOKEN_MAX) {
			free(tok);
			tok = NULL;
		}
	}
	ck_assert_ptr_nonnull(tok);
	ck_assert_uint_gt(strlen(tok), AUTH_TOKEN_MAX);
	expect_fail(tok, "token too long");
	free(tok);
	free(pad);

	/* The length given, not strlen, is what counts. */
	tok = make_token("{\"sub\":\"a\"}");
	ck_assert_int_eq(auth_verify_jwt(tok, AUTH_TOKEN_MAX + 1, SECRET, NOW,
	    &id, &why), -1);
	ck_assert_str_eq(why, "token too long");
	ck_assert_int_eq(auth_verify_jwt(tok, strlen(tok) - 1, SECRET, NOW,
	    &id, &why), -1);
	ck_assert_int_eq(auth_verify_jwt(tok, 0, SECRET, NOW, &id, &why), -1);
	free(tok);
}
END_TEST

START_TEST(test_nesting)
{
	char	*p;
	size_t	 depth, i, o;

	/* Deep but within cJSON's limit, and then past it. */
	for (depth = 500; depth <= 1100; depth += 600) {
		p = malloc(2 * depth + 32);
		ck_assert_ptr_nonnull(p);
		o = (size_t)sprintf(p, "{\"sub\":\"a\",\"x\":");
		for (i = 0; i < depth; i++)
			p[o++] = '[';
		for (i = 0; i < depth; i++)
			p[o++] = ']';
		p[o++] = '}';
		p[o] = '\0';
		if (depth < 1000)
			expect_ok(p, NULL);
		else
			expect_claims(p, "malformed token");
		free(p);
	}
}
END_TEST

START_TEST(test_out_untouched)
{
	struct identity	 id, before;
	const char	*why = NULL;
	char		*tok;

	memset(&id, 0xa5, sizeof id);
	before = id;
	tok = make_token("{\"sub\":\"alice\",\"role\":\"bogus\"}");
	ck_assert_int_eq(auth_verify_jwt(tok, strlen(tok), SECRET, NOW, &id,
	    &why), -1);
	ck_assert_str_eq(why, "bad role");
	ck_assert(memcmp(&id, &before, sizeof id) == 0);
	free(tok);
}
END_TEST

START_TEST(test_guest)
{
	struct identity	 id;
	const char	*why = NULL;
	char		 name[70];

	ck_assert_int_eq(auth_guest("alice", 5, &id, &why), 0);
	ck_assert_str_eq(id.id, "guest:alice");
	ck_assert_str_eq(id.name, "alice");
	ck_assert_int_eq(id.role, ROLE_PLAYER);
	ck_assert(!id.has_chs);
	ck_assert(auth_may_join(&id, "anything"));

	/* The length is what counts, not a NUL. */
	ck_assert_int_eq(auth_guest("bobby", 3, &id, &why), 0);
	ck_assert_str_eq(id.id, "guest:bob");

	memset(name, 'n', sizeof name);
	ck_assert_int_eq(auth_guest(name, USER_ID_MAX - 6, &id, &why), 0);
	ck_assert_uint_eq(strlen(id.id), USER_ID_MAX);
	ck_assert_uint_eq(strlen(id.name), USER_ID_MAX - 6);

	why = NULL;
	ck_assert_int_eq(auth_guest(name, USER_ID_MAX - 5, &id, &why), -1);
	ck_assert_str_eq(why, "bad name");
	ck_assert_int_eq(auth_guest("", 0, &id, &why), -1);
	ck_assert_str_eq(why, "bad name");
	ck_assert_int_eq(auth_guest(NULL, 0, &id, &why), -1);
	ck_assert_int_eq(auth_guest("al ice", 6, &id, &why), -1);
	ck_assert_int_eq(auth_guest("al\tice", 6, &id, &why), -1);
	ck_assert_int_eq(auth_guest("caf\xc3\xa9", 5, &id, &why), -1);
	ck_assert_int_eq(auth_guest("al\x7f", 3, &id, &why), -1);
	ck_assert_int_eq(auth_guest("al\0ce", 5, &id, &why), -1);
	ck_assert_int_eq(auth_guest("x", 1, &id, NULL), 0);
}
END_TEST

START_TEST(test_may_join)
{
	struct identity	id;

	memset(&id, 0, sizeof id);
	id.has_chs = false;
	ck_assert(auth_may_join(&id, "global"));
	ck_assert(auth_may_join(&id, "party:x"));

	id.has_chs = true;
	id.nchs = 3;
	strcpy(id.chs[0], "global");
	strcpy(id.chs[1], "guild:42");
	strcpy(id.chs[2], "party:*");
	ck_assert(auth_may_join(&id, "global"));
	ck_assert(auth_may_join(&id, "guild:42"));
	ck_assert(auth_may_join(&id, "party:ab12"));
	ck_assert(!auth_may_join(&id, "guild:420"));
	ck_assert(!auth_may_join(&id, "guild:4"));
	ck_assert(!auth_may_join(&id, "globalx"));
	ck_assert(!auth_may_join(&id, "party"));
	ck_assert(!auth_may_join(&id, "trade"));

	id.nchs = 1;
	strcpy(id.chs[0], "*");
	ck_assert(auth_may_join(&id, "anything"));
}
END_TEST

/* Returns the bytes the unpadded base64url text s decodes to, malloc'd. */
static char *
b64url_decode(const char *s, size_t n)
{
	char	*in, *out;
	size_t	 i, padded = (n + 3) / 4 * 4;
	int	 len;

	in = malloc(padded + 1);
	out = malloc(padded + 1);
	ck_assert_ptr_nonnull(in);
	ck_assert_ptr_nonnull(out);
	for (i = 0; i < padded; i++) {
		char	c = i < n ? s[i] : '=';

		in[i] = c == '-' ? '+' : c == '_' ? '/' : c;
	}
	in[padded] = '\0';
	len = EVP_DecodeBlock((unsigned char *)out, (unsigned char *)in,
	    (int)padded);
	ck_assert_int_ge(len, 0);
	len -= (int)(padded - n);	/* EVP_DecodeBlock counts the padding */
	out[len] = '\0';
	free(in);
	return out;
}

/* Returns the decoded payload (middle part) of tok, malloc'd. */
static char *
payload_of(const char *tok)
{
	const char	*a = strchr(tok, '.'), *b = strrchr(tok, '.');

	ck_assert_ptr_nonnull(a);
	ck_assert_ptr_ne(a, b);
	return b64url_decode(a + 1, (size_t)(b - a - 1));
}

/* Signs c with SECRET into out (AUTH_TOKEN_MAX + 1 bytes); fails the test if refused. */
static void
sign_ok(const struct auth_claims *c, char *out)
{
	const char	*why = "unset";

	ck_assert_msg(auth_sign_jwt(c, SECRET, out, AUTH_TOKEN_MAX + 1,
	    &why) == 0, "sub %s: %s", c->sub ? c->sub : "(null)", why);
	ck_assert_ptr_null(why);
}

/* Checks that signing c fails with a reason that starts with want, leaving out empty. */
static void
sign_fails(const struct auth_claims *c, const char *secret, const char *want)
{
	char		 out[AUTH_TOKEN_MAX + 1];
	const char	*why = NULL;

	memset(out, 'z', sizeof out);
	ck_assert_int_eq(auth_sign_jwt(c, secret, out, sizeof out, &why), -1);
	ck_assert_msg(why != NULL && strncmp(why, want, strlen(want)) == 0,
	    "got \"%s\", want \"%s...\"", why ? why : "(null)", want);
	ck_assert_str_eq(out, "");
}

START_TEST(test_sign_round_trip)
{
	static const char *const chs[] = { "global", "guild:4*" };
	struct auth_claims	 c = { .sub = "u1", .name = "Zo\xc3\xab",
	    .role = ROLE_ADMIN, .exp = NOW + 30, .chs = chs, .nchs = 2 };
	struct identity		 id;
	const char		*why = NULL;
	char			 tok[AUTH_TOKEN_MAX + 1], *dot, *p;

	sign_ok(&c, tok);
	/* The canonical header, byte for byte, and the payload as written. */
	dot = strchr(tok, '.');
	ck_assert_ptr_nonnull(dot);
	ck_assert_uint_eq((size_t)(dot - tok), strlen(HDR_JWT));
	ck_assert_int_eq(strncmp(tok, HDR_JWT, strlen(HDR_JWT)), 0);
	p = payload_of(tok);
	ck_assert_str_eq(p, "{\"sub\":\"u1\",\"name\":\"Zo\xc3\xab\","
	    "\"role\":\"admin\",\"exp\":1700000030,"
	    "\"chs\":[\"global\",\"guild:4*\"]}");
	free(p);
	/* The signature matches one computed here. */
	{
		char	*in = fmt("%.*s", (int)(strrchr(tok, '.') - tok), tok);
		char	*sig = sig_of(SECRET, in);

		ck_assert_str_eq(strrchr(tok, '.') + 1, sig);
		free(sig);
		free(in);
	}
	ck_assert_int_eq(auth_verify_jwt(tok, strlen(tok), SECRET, NOW, &id,
	    &why), 0);
	ck_assert_str_eq(id.id, "u1");
	ck_assert_str_eq(id.name, "Zo\xc3\xab");
	ck_assert_int_eq(id.role, ROLE_ADMIN);
	ck_assert_int_eq(id.exp, NOW + 30);
	ck_assert(id.has_chs);
	ck_assert_int_eq(id.nchs, 2);
	ck_assert_str_eq(id.chs[0], "global");
	ck_assert_str_eq(id.chs[1], "guild:4*");
	ck_assert(auth_may_join(&id, "guild:42"));
	ck_assert(!auth_may_join(&id, "party:1"));
	/* Expired from exp on, and refused with another secret. */
	ck_assert_int_eq(auth_verify_jwt(tok, strlen(tok), SECRET, NOW + 29,
	    &id, &why), 0);
	ck_assert_int_eq(auth_verify_jwt(tok, strlen(tok), SECRET, NOW + 30,
	    &id, &why), -1);
	ck_assert_str_eq(why, "expired");
	ck_assert_int_eq(auth_verify_jwt(tok, strlen(tok), "other", NOW, &id,
	    &why), -1);
	ck_assert_str_eq(why, "bad signature");
}
END_TEST

START_TEST(test_sign_each_claim)
{
	static const char *const chs[] = { "*" };
	struct auth_claims	 c = { .sub = "u2" };
	struct identity		 id;
	char			 tok[AUTH_TOKEN_MAX + 1], *p;
	int			 r;

	/* Only sub: role player written, the name defaults to sub. */
	sign_ok(&c, tok);
	p = payload_of(tok);
	ck_assert_str_eq(p, "{\"sub\":\"u2\",\"role\":\"player\"}");
	free(p);
	ck_assert_ptr_null(verify(tok, &id));
	ck_assert_str_eq(id.id, "u2");
	ck_assert_str_eq(id.name, "u2");
	ck_assert_int_eq(id.role, ROLE_PLAYER);
	ck_assert_int_eq(id.exp, 0);
	ck_assert(!id.has_chs);

	/* Each role. */
	for (r = ROLE_PLAYER; r <= ROLE_ADMIN; r++) {
		c.role = (enum role)r;
		sign_ok(&c, tok);
		ck_assert_ptr_null(verify(tok, &id));
		ck_assert_int_eq(id.role, r);
	}
	c.role = ROLE_PLAYER;

	/* Quotes and backslashes survive, escaped on the way. */
	c.sub = "a\"b\\c";
	c.name = "say \"hi\" \\o/ \xf0\x9f\x8e\xae";
	sign_ok(&c, tok);
	ck_assert_ptr_null(verify(tok, &id));
	ck_assert_str_eq(id.id, "a\"b\\c");
	ck_assert_str_eq(id.name, "say \"hi\" \\o/ \xf0\x9f\x8e\xae");

	/* An empty chs list is still a chs claim: no channel at all. */
	c.sub = "u3";
	c.name = NULL;
	c.chs = chs;
	c.nchs = 0;
	sign_ok(&c, tok);
	ck_assert_ptr_null(verify(tok, &id));
	ck_assert(id.has_chs);
	ck_assert_int_eq(id.nchs, 0);
	ck_assert(!auth_may_join(&id, "global"));
	c.nchs = 1;
	sign_ok(&c, tok);
	ck_assert_ptr_null(verify(tok, &id));
	ck_assert(auth_may_join(&id, "anything"));

	/* The largest exp, exactly. */
	c.chs = NULL;
	c.nchs = 0;
	c.exp = (int64_t)1 << 53;
	sign_ok(&c, tok);
	ck_assert_ptr_null(verify(tok, &id));
	ck_assert_int_eq(id.exp, (int64_t)1 << 53);
	/* A NULL why is allowed. */
	ck_assert_int_eq(auth_sign_jwt(&c, SECRET, tok, sizeof tok, NULL), 0);
}
END_TEST

START_TEST(test_sign_largest)
{
	static char		 pats[AUTH_CHS_MAX][CHAN_NAME_MAX + 2];
	const char		*chs[AUTH_CHS_MAX];
	char			 sub[USER_ID_MAX + 1], name[USER_NAME_MAX + 1];
	struct auth_claims	 c = { .sub = sub, .name = name,
	    .role = ROLE_MODERATOR, .exp = INT64_C(9999999999), .chs = chs,
	    .nchs = AUTH_CHS_MAX };
	struct identity		 id;
	char			 tok[AUTH_TOKEN_MAX + 1];
	int			 i;

	/* Every claim at its longest, and every byte of sub and name escaped. */
	memset(sub, '"', USER_ID_MAX);
	sub[USER_ID_MAX] = '\0';
	memset(name, '\\', USER_NAME_MAX);
	name[USER_NAME_MAX] = '\0';
	for (i = 0; i < AUTH_CHS_MAX; i++) {
		memset(pats[i], 'a' + i % 26, CHAN_NAME_MAX);
		pats[i][CHAN_NAME_MAX] = '*';
		pats[i][CHAN_NAME_MAX + 1] = '\0';
		chs[i] = pats[i];
	}
	sign_ok(&c, tok);
	ck_assert_uint_le(strlen(tok), AUTH_TOKEN_MAX);
	ck_assert_ptr_null(verify(tok, &id));
	ck_assert_str_eq(id.id, sub);
	ck_assert_str_eq(id.name, name);
	ck_assert_int_eq(id.nchs, AUTH_CHS_MAX);
	ck_assert_str_eq(id.chs[AUTH_CHS_MAX - 1], pats[AUTH_CHS_MAX - 1]);
}
END_TEST

START_TEST(test_sign_bounds)
{
	static const char *const one[] = { "global" };
	const char		*bad_chs[2] = { "global", NULL };
	const char		*many[AUTH_CHS_MAX + 1];
	char			 s65[USER_ID_MAX + 2], s64[USER_ID_MAX + 1];
	char			 p66[CHAN_NAME_MAX + 3];
	char			 small[64], tok[AUTH_TOKEN_MAX + 1];
	struct auth_claims	 c = { .sub = "u" };
	const char		*why;
	size_t			 len;
	int			 i;

	memset(s65, 'x', sizeof s65 - 1);
	s65[sizeof s65 - 1] = '\0';
	memset(s64, 'x', sizeof s64 - 1);
	s64[sizeof s64 - 1] = '\0';

	/* The secret. */
	sign_fails(&c, NULL, "no secret configured");
	sign_fails(&c, "", "no secret configured");

	/* sub: the user id rules. */
	c.sub = NULL;
	sign_fails(&c, SECRET, "bad sub: ");
	c.sub = "";
	sign_fails(&c, SECRET, "bad sub");
	c.sub = s65;
	sign_fails(&c, SECRET, "bad sub");
	c.sub = "two words";
	sign_fails(&c, SECRET, "bad sub");
	c.sub = "tab\there";
	sign_fails(&c, SECRET, "bad sub");
	c.sub = "Zo\xc3\xab";
	sign_fails(&c, SECRET, "bad sub");
	c.sub = s64;
	sign_ok(&c, tok);

	/* name: the display name rules. */
	c.sub = "u";
	c.name = "";
	sign_fails(&c, SECRET, "bad name: ");
	c.name = s65;
	sign_fails(&c, SECRET, "bad name");
	c.name = "bell\a";
	sign_fails(&c, SECRET, "bad name");
	c.name = "del\x7f";
	sign_fails(&c, SECRET, "bad name");
	c.name = "bad \xff utf-8";
	sign_fails(&c, SECRET, "bad name");
	c.name = s64;
	sign_ok(&c, tok);
	c.name = NULL;

	/* role and exp. */
	c.role = (enum role)3;
	sign_fails(&c, SECRET, "bad role: player, moderator or admin");
	c.role = (enum role)-1;
	sign_fails(&c, SECRET, "bad role");
	c.role = ROLE_PLAYER;
	c.exp = -1;
	sign_fails(&c, SECRET, "bad exp");
	c.exp = ((int64_t)1 << 53) + 1;
	sign_fails(&c, SECRET, "bad exp");
	c.exp = 0;

	/* chs: at most AUTH_CHS_MAX, each a valid pattern. */
	for (i = 0; i <= AUTH_CHS_MAX; i++)
		many[i] = "global";
	c.chs = many;
	c.nchs = AUTH_CHS_MAX;
	sign_ok(&c, tok);
	c.nchs = AUTH_CHS_MAX + 1;
	sign_fails(&c, SECRET, "bad chs: at most 32 channel patterns");
	c.nchs = -1;
	sign_fails(&c, SECRET, "bad chs");
	c.chs = NULL;
	c.nchs = 1;
	sign_fails(&c, SECRET, "bad chs");
	c.chs = bad_chs;
	c.nchs = 2;
	sign_fails(&c, SECRET, "bad chs: a pattern is");
	memset(p66, 'p', sizeof p66 - 2);
	p66[sizeof p66 - 2] = '*';
	p66[sizeof p66 - 1] = '\0';
	for (i = 0; i < 6; i++) {
		static const char *const bad[] = { "", "a b", "a*b", "**",
		    "caf\xc3\xa9", NULL };

		bad_chs[1] = i < 5 ? bad[i] : p66;
		sign_fails(&c, SECRET, "bad chs");
	}
	c.chs = one;
	c.nchs = 1;
	sign_ok(&c, tok);

	/* The output buffer: room for the token and its NUL, or nothing. */
	len = strlen(tok);
	why = NULL;
	ck_assert_int_eq(auth_sign_jwt(&c, SECRET, tok, len, &why), -1);
	ck_assert_str_eq(why, "token too long");
	ck_assert_str_eq(tok, "");
	ck_assert_int_eq(auth_sign_jwt(&c, SECRET, tok, len + 1, &why), 0);
	ck_assert_uint_eq(strlen(tok), len);
	ck_assert_int_eq(auth_sign_jwt(&c, SECRET, small, sizeof small, &why),
	    -1);
	ck_assert_str_eq(why, "token too long");
	ck_assert_int_eq(auth_sign_jwt(&c, SECRET, NULL, 0, &why), -1);
	ck_assert_int_eq(auth_sign_jwt(NULL, SECRET, tok, sizeof tok, &why),
	    -1);
}
END_TEST

START_TEST(test_roles)
{
	ck_assert_int_eq(auth_role_parse("player"), ROLE_PLAYER);
	ck_assert_int_eq(auth_role_parse("moderator"), ROLE_MODERATOR);
	ck_assert_int_eq(auth_role_parse("admin"), ROLE_ADMIN);
	ck_assert_int_eq(auth_role_parse("Admin"), -1);
	ck_assert_int_eq(auth_role_parse(""), -1);
	ck_assert_int_eq(auth_role_parse("owner"), -1);
	ck_assert_int_eq(auth_role_parse(NULL), -1);
	ck_assert_str_eq(auth_role_name(ROLE_PLAYER), "player");
	ck_assert_str_eq(auth_role_name(ROLE_MODERATOR), "moderator");
	ck_assert_str_eq(auth_role_name(ROLE_ADMIN), "admin");
	ck_assert_str_eq(auth_role_name((enum role)7), "unknown");
	ck_assert(ROLE_PLAYER < ROLE_MODERATOR && ROLE_MODERATOR < ROLE_ADMIN);
}
END_TEST

/* Builds the suite of auth tests. */
static Suite *
auth_suite(void)
{
	Suite	*s = suite_create("auth");
	TCase	*tc;

	tc = tcase_create("jwt");
	tcase_add_test(tc, test_helpers_agree);
	tcase_add_test(tc, test_known_vector);
	tcase_add_test(tc, test_valid_all_claims);
	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_bad_signature);
	tcase_add_test(tc, test_wrong_secret);
	tcase_add_test(tc, test_alg_none);
	tcase_add_test(tc, test_alg_other);
	tcase_add_test(tc, test_header_other);
	tcase_add_test(tc, test_exp);
	tcase_add_test(tc, test_nbf);
	tcase_add_test(tc, test_malformed_base64);
	tcase_add_test(tc, test_noncanonical_signature);
	tcase_add_test(tc, test_dots);
	tcase_add_test(tc, test_empty_parts);
	tcase_add_test(tc, test_header_not_json);
	tcase_add_test(tc, test_payload_not_object);
	tcase_add_test(tc, test_sub);
	tcase_add_test(tc, test_name);
	tcase_add_test(tc, test_role);
	tcase_add_test(tc, test_chs);
	tcase_add_test(tc, test_too_long);
	tcase_add_test(tc, test_nesting);
	tcase_add_test(tc, test_out_untouched);
	suite_add_tcase(s, tc);

	tc = tcase_create("sign");
	tcase_add_test(tc, test_sign_round_trip);
	tcase_add_test(tc, test_sign_each_claim);
	tcase_add_test(tc, test_sign_largest);
	tcase_add_test(tc, test_sign_bounds);
	suite_add_tcase(s, tc);

	tc = tcase_create("identity");
	tcase_add_test(tc, test_guest);
	tcase_add_test(tc, test_may_join);
	tcase_add_test(tc, test_roles);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(auth_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
