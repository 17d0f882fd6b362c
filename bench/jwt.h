/*
 * jwt.h: mints the HS256 JSON Web Tokens that chatrelay-bench's connections
 * authenticate with when the relay runs in token mode (--token-secret).
 */
#ifndef BENCH_JWT_H
#define BENCH_JWT_H

#include <stddef.h>
#include <stdint.h>

/* Room jwt_mint needs for a sub of at most 64 bytes. */
#define JWT_MAX	512

/*
 * Writes into out (size outsz) a NUL-terminated token
 * header.payload.signature with header {"alg":"HS256","typ":"JWT"} and
 * payload {"sub":SUB,"exp":EXP}, signed with HMAC-SHA256 over secret.  sub
 * must be 1-64 bytes of printable ASCII with no '"' or '\\' (the bench's own
 * user ids are).  exp is seconds since the epoch; 0 leaves it out.  Returns
 * the token's length, or -1 if sub is unfit, out is too small or the HMAC
 * fails.
 */
int	jwt_mint(const char *secret, const char *sub, int64_t exp, char *out,
	    size_t outsz);

#endif
