/*
 * chan.h: the rules for names: channel names, user ids, channel patterns.
 *
 * Channel names are 1-64 bytes of [A-Za-z0-9_.:-].  User ids are 1-64 bytes
 * of printable ASCII without spaces.  A pattern is a channel name that may
 * end with '*', matching every name that starts with what precedes it
 * ("party:*"; a lone "*" matches everything).
 */
#ifndef CHATRELAY_CHAN_H
#define CHATRELAY_CHAN_H

#include <stdbool.h>
#include <stddef.h>

#define CHAN_NAME_MAX 64
#define USER_ID_MAX 64
#define USER_NAME_MAX 64

/* Returns true if s (len bytes, not necessarily NUL-terminated) is a valid channel name. */
bool chan_name_valid(const char *s, size_t len);

/* Returns true if s (len bytes) is a valid user id. */
bool user_id_valid(const char *s, size_t len);

/* Returns true if s is a valid pattern: a channel name, optionally ending in '*', or "*". */
bool chan_pattern_valid(const char *s, size_t len);

/* Returns true if the channel name ch matches the pattern pat. */
bool chan_pattern_match(const char *pat, const char *ch);

#endif
