/*
 * utf8.h: strict UTF-8 validation (RFC 3629) and code point counting.
 *
 * Strict means: no overlong forms, no UTF-16 surrogates (U+D800-U+DFFF),
 * nothing above U+10FFFF and no truncated sequence.  A NUL byte is valid
 * UTF-8 (U+0000); callers that cannot carry NUL must reject it themselves.
 */
#ifndef CHATRELAY_UTF8_H
#define CHATRELAY_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* Returns true if the len bytes at s are entirely valid UTF-8. */
bool utf8_valid(const char *s, size_t len);

/*
 * Returns the number of code points in the len bytes at s, which must be
 * valid UTF-8 (check with utf8_valid first; otherwise the count is of lead
 * bytes and means little).
 */
size_t utf8_count(const char *s, size_t len);

#endif
