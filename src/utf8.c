/*
 * utf8.c: strict UTF-8 validation (RFC 3629) and code point counting.
 *
 * Chat text is mostly ASCII, so both functions look at eight bytes at a time
 * and drop to the byte-by-byte decoder only where a high bit is set.  The
 * decoder follows the table of well-formed sequences in RFC 3629 section 4:
 * the second byte's range depends on the lead byte, which is what rules out
 * overlongs (E0, F0), surrogates (ED) and code points past U+10FFFF (F4).
 */
#include <stdint.h>
#include <string.h>

#include "utf8.h"

#define UTF8_HIGH_BITS 0x8080808080808080ULL

/* Loads eight bytes from p, whatever its alignment. */
static inline uint64_t
utf8_load8(const unsigned char *p)
{
	uint64_t	v;

	memcpy(&v, p, sizeof v);
	return v;
}

/* Returns true if b is a continuation byte (10xxxxxx). */
static inline int
utf8_is_cont(unsigned char b)
{
	return (b & 0xc0) == 0x80;
}

/*
 * Checks the multi-byte sequence starting at p (left bytes remain, left >= 1,
 * p[0] >= 0x80).  Returns its length (2-4), or 0 if it is not well formed.
 */
static size_t
utf8_sequence(const unsigned char *p, size_t left)
{
	unsigned char	lo = 0x80, hi = 0xbf;
	size_t		n, i;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		n = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;	/* below is overlong */
		else if (p[0] == 0xed)
			hi = 0x9f;	/* above is a surrogate */
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4;
		if (p[0] == 0xf0)
			lo = 0x90;	/* below is overlong */
		else if (p[0] == 0xf4)
			hi = 0x8f;	/* above is past U+10FFFF */
	} else
		return 0;	/* continuation, C0, C1 or F5-FF */

	if (left < n)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < n; i++) {
		if (!utf8_is_cont(p[i]))
			return 0;
	}
	return n;
}

bool
utf8_valid(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, n;

	while (i < len) {
		/* Skip runs of ASCII eight bytes at a time. */
		while (len - i >= 8 && (utf8_load8(p + i) & UTF8_HIGH_BITS) == 0)
			i += 8;
		while (i < len && p[i] < 0x80)
			i++;
		if (i == len)
			break;
		if ((n = utf8_sequence(p + i, len - i)) == 0)
			return false;
		i += n;
	}
	return true;
}

size_t
utf8_count(const char *s, size_t len)
{
	const unsigned char	*p = (const unsigned char *)s;
	size_t			 i = 0, count = 0, j;

	/* Every byte but a continuation byte starts a code point. */
	while (len - i >= 8) {
		if ((utf8_load8(p + i) & UTF8_HIGH_BITS) == 0)
			count += 8;
		else {
			for (j = 0; j < 8; j++)
				count += !utf8_is_cont(p[i + j]);
		}
		i += 8;
	}
	for (; i < len; i++)
		count += !utf8_is_cont(p[i]);
	return count;
}
