/*
 * jwt-sign.h: signs HS256 JSON Web Tokens for check_auth's round-trip test,
 * the other half of auth_verify_jwt (the relay itself never signs tokens).
 */
#ifndef CHATRELAY_TEST_JWT_SIGN_H
#define CHATRELAY_TEST_JWT_SIGN_H

#include <stdint.h>

/*
 * Makes a signed HS256 token with the given claims; exp 0 = no exp, chs NULL
 * = no chs claim.  Returns a malloc'd string the caller frees, or NULL.
 */
char *test_jwt_sign(const char *secret, const char *sub, const char *name,
    const char *role, int64_t exp, const char *const *chs, int nchs);

#endif
