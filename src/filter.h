/*
 * filter.h: the word filter applied to chat texts (send and whisper).
 *
 * A filter is built once from a word list (filter_file) and is immutable
 * after: any number of threads may match against it at once.  It is
 * reference-counted so that a reload can put a new filter in place while
 * workers still finish a message with the old one.
 *
 * The list is UTF-8 text, one entry a line; blank lines and lines whose
 * first non-blank is '#' are ignored, spaces and tabs around an entry are
 * trimmed, and CRLF line endings and a leading byte order mark are
 * accepted.  An entry is
 *
 *	word	a whole word: the characters on both sides of the match are
 *		not word characters (or are the start or end of the text)
 *	*part*	anywhere, inside words too
 *	part*	at the start of a word (what comes before is not a word
 *		character)
 *	*part	at the end of a word
 *
 * Word characters are the ASCII letters, digits and '_' and every byte of
 * 0x80 or more, so a non-ASCII letter next to a match counts as part of the
 * word.  Only the first and the last byte of an entry can be the '*' of a
 * prefix, suffix or substring; a '*' elsewhere is an ordinary character.
 * An entry may hold spaces (a phrase): each run of spaces or tabs inside it
 * stands for one space, and matches exactly one space of the text.
 * Matching folds ASCII letters only: "Foo" matches "FOO", but bytes of 0x80
 * or more are compared exactly, so a non-ASCII word matches only as written
 * ("café" does not match "CAFÉ").
 *
 * Bounds: an entry is at most FILTER_ENTRY_MAX bytes as written (stars
 * included), a list at most FILTER_ENTRIES_MAX entries, a file at most
 * FILTER_FILE_MAX bytes.  A line that is not valid UTF-8, holds a control
 * character or is too long fails the whole load, with its line number:
 * nothing is half-built.  An entry listed twice counts twice.
 */
#ifndef CHATRELAY_FILTER_H
#define CHATRELAY_FILTER_H

#include <stddef.h>

#define FILTER_ENTRY_MAX	128
#define FILTER_ENTRIES_MAX	100000
#define FILTER_FILE_MAX		(8 * 1024 * 1024)

struct filter;

/*
 * Builds a filter from the word list in the file at path.  Returns it with
 * one reference owned by the caller, or NULL with the reason in err
 * ("path:line: reason", or "path: reason" for the file as a whole).
 */
struct filter *filter_load(const char *path, char *err, size_t errlen);

/*
 * Builds a filter from the word list in the len bytes at buf (the same
 * format).  Returns it with one reference, or NULL with the reason in err
 * ("line N: reason" when one line is at fault).
 */
struct filter *filter_parse(const char *buf, size_t len, char *err,
    size_t errlen);

/* Returns the number of entries (lines that were neither blank nor comments). */
size_t filter_count(const struct filter *f);

/* Adds a reference to f (not NULL) and returns f. */
struct filter *filter_ref(struct filter *f);

/* Drops a reference; the last one frees the filter.  NULL is ignored. */
void filter_unref(struct filter *f);

/*
 * Looks for the filter's entries in the len bytes of text (valid UTF-8).
 * Returns 0 if none matched (f NULL matches nothing), 1 if one did, -1 if
 * memory ran out.  With mask not NULL, a 1 also gives in *mask a
 * malloc'd, NUL-terminated copy of text (its length in *mask_len) in which
 * every character of every match is one '*', spaces excepted, so the text
 * keeps its number of characters; the caller frees it.  Nothing is
 * allocated when nothing matched.
 */
int filter_match(const struct filter *f, const char *text, size_t len,
    char **mask, size_t *mask_len);

#endif
