/*
 * auth.h: who a connection is: JWT (HS256) verification and open-mode guests,
 * and the signing of tokens for `chatrelay token`.
 *
 * Tokens are verified with OpenSSL's HMAC-SHA256 and a constant-time compare;
 * only "alg":"HS256" is accepted.  Nothing here logs a token or a secret.
 */
#ifndef CHATRELAY_AUTH_H
#define CHATRELAY_AUTH_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include "chan.h"

enum role { ROLE_PLAYER = 0, ROLE_MODERATOR = 1, ROLE_ADMIN = 2 };

#define AUTH_CHS_MAX 32		/* channel patterns kept from a token */
#define AUTH_TOKEN_MAX 4096	/* longest token accepted, bytes */

struct identity {
	char id[USER_ID_MAX + 1];
	char name[USER_NAME_MAX + 1];
	enum role role;
	int64_t exp;			/* seconds since epoch, 0 = none */
	bool has_chs;			/* false = every channel allowed */
	int nchs;
	char chs[AUTH_CHS_MAX][CHAN_NAME_MAX + 2];	/* patterns */
};

/*
 * Verifies token (len bytes) against secret at time now (seconds since
 * epoch) and fills out.  Returns 0 on success, -1 on any failure with a short
 * reason in *why (a static string safe to show the client: "bad signature",
 * "unsupported alg", "expired", "malformed token", "missing sub", ...).
 */
int auth_verify_jwt(const char *token, size_t len, const char *secret,
    int64_t now, struct identity *out, const char **why);

/*
 * Fills out with the open-mode guest identity for a requested display name:
 * id "guest:NAME", role player.  Returns 0, or -1 with *why if the name is
 * empty, too long (so that the id stays within USER_ID_MAX) or not a valid id.
 */
int auth_guest(const char *name, size_t len, struct identity *out,
    const char **why);

/* Returns true if the identity may join channel ch (its chs patterns, if any). */
bool auth_may_join(const struct identity *who, const char *ch);

/* The claims of a token to sign with auth_sign_jwt; the caller owns the strings. */
struct auth_claims {
	const char *sub;		/* user id, required */
	const char *name;		/* display name, NULL = no claim (sub is shown) */
	enum role role;
	int64_t exp;			/* seconds since epoch, 0 = no claim */
	const char *const *chs;		/* channel patterns, NULL = no claim */
	int nchs;			/* how many, 0 to AUTH_CHS_MAX */
};

/*
 * Signs claims with secret into out (outlen bytes; AUTH_TOKEN_MAX + 1 always
 * suffice) as a NUL-terminated HS256 JWT that auth_verify_jwt accepts.  The
 * claims are checked by the verifier's rules first.  Returns 0, or -1 with a
 * reason in *why (a static string naming the claim and its rule: "bad sub:
 * ...", "bad chs: ...", "no secret configured", "token too long", ...); out is
 * then an empty string if outlen > 0.
 */
int auth_sign_jwt(const struct auth_claims *claims, const char *secret,
    char *out, size_t outlen, const char **why);

/* Returns the role named s, or -1. */
int auth_role_parse(const char *s);
const char *auth_role_name(enum role r);

#endif
