/*
 * b64.h: base64 encoding (RFC 4648), standard for the WebSocket handshake
 * and unpadded base64url for JWTs.
 */
#ifndef BENCH_B64_H
#define BENCH_B64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes b64_encode needs for n input bytes, terminating NUL included. */
#define B64_ENCODED_SIZE(n)	((((n) + 2) / 3) * 4 + 1)

/*
 * Encodes n bytes of in into out, which must hold B64_ENCODED_SIZE(n)
 * bytes, and NUL-terminates it.  With url, uses the base64url alphabet and
 * no padding.  Returns the length written, NUL excluded.
 */
size_t	b64_encode(const uint8_t *in, size_t n, char *out, bool url);

#endif
