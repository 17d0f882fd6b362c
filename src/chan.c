/*
 * chan.c: the rules for names: channel names, user ids, channel patterns.
 *
 * These checks guard everything that later becomes a hash key, a Redis
 * channel or a line of JSON, so they take explicit lengths (a name from a
 * frame is not NUL-terminated, and an embedded NUL must not shorten it) and
 * accept only the few bytes the protocol allows.
 */
#include <string.h>

#include "chan.h"

/* Returns true if c may appear in a channel name: [A-Za-z0-9_.:-]. */
static bool
chan_char_valid(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		return true;
	if (c >= 'A' && c <= 'Z')
		return true;
	if (c >= '0' && c <= '9')
		return true;
	return c == '_' || c == '.' || c == ':' || c == '-';
}

bool
chan_name_valid(const char *s, size_t len)
{
	size_t	i;

	if (s == NULL || len == 0 || len > CHAN_NAME_MAX)
		return false;
	for (i = 0; i < len; i++) {
		if (!chan_char_valid((unsigned char)s[i]))
			return false;
	}
	return true;
}

bool
user_id_valid(const char *s, size_t len)
{
	size_t	i;

	if (s == NULL || len == 0 || len > USER_ID_MAX)
		return false;
	for (i = 0; i < len; i++) {
		/* Printable ASCII without the space: no controls, DEL or 8-bit. */
		if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
			return false;
	}
	return true;
}

bool
chan_pattern_valid(const char *s, size_t len)
{
	if (s == NULL || len == 0)
		return false;
	if (s[len - 1] != '*')
		return chan_name_valid(s, len);
	if (len == 1)
		return true;		/* "*" alone matches every channel */
	return chan_name_valid(s, len - 1);
}

bool
chan_pattern_match(const char *pat, const char *ch)
{
	size_t	plen;

	if (pat == NULL || ch == NULL)
		return false;
	plen = strlen(pat);
	if (plen > 0 && pat[plen - 1] == '*')
		return strncmp(pat, ch, plen - 1) == 0;
	return strcmp(pat, ch) == 0;
}
