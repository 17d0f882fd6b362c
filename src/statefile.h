/*
 * statefile.h: a small durable state file: lines of text, replaced whole
 * and atomically, read back line by line.
 *
 * The relay keeps state that must outlive a restart without Redis (bans,
 * mutes, slow modes) in one such file.  The caller gives and gets lines
 * (one JSON object each, by convention); this module never interprets them.
 * A save either replaces the whole file or leaves the old one as it was,
 * whatever happens in between (a full disk, a crash, a power cut).
 */
#ifndef CHATRELAY_STATEFILE_H
#define CHATRELAY_STATEFILE_H

#include <stddef.h>

#define STATEFILE_SIZE_MAX (16 * 1024 * 1024)	/* bytes in a file */
#define STATEFILE_LINE_MAX 8192			/* bytes in a line, without '\n' */

/*
 * Writes lines (n of them, line i of lens[i] bytes without its '\n'; lens
 * NULL = NUL-terminated) to path atomically: a temporary file in the same
 * directory (path + ".tmp." + the pid, mode 0600), written whole, fsync'd,
 * renamed over path, then the directory fsync'd.  Lines must be non-empty,
 * at most STATEFILE_LINE_MAX bytes, without '\n' or NUL, and the file at
 * most STATEFILE_SIZE_MAX bytes; they are checked before anything is
 * written.  Returns 0, or -1 with a reason in err (errlen bytes): the old
 * file is then as it was and the temporary one removed, except when only
 * the directory's fsync failed (err says so): path then holds the new lines,
 * which a crash might still undo.  One save at a time per path: the caller
 * serializes them.
 */
int statefile_save(const char *path, const char *const *lines,
    const size_t *lens, size_t n, char *err, size_t errlen);

/*
 * Called by statefile_load for each non-empty line: line is NUL-terminated
 * (len bytes before the NUL, no '\n'), lineno counts from 1 and includes
 * empty lines.  Returns 0 to go on, or non-zero to stop the load, which
 * then fails.
 */
typedef int (*statefile_line_fn)(const char *line, size_t len,
    unsigned lineno, void *arg);

/*
 * Reads path and calls cb(line, len, lineno, arg) for each non-empty line.
 * A missing file is an empty state (returns 0, cb never called); temporary
 * files left by a save are never read.  Bounded: at most STATEFILE_SIZE_MAX
 * bytes, lines at most STATEFILE_LINE_MAX bytes without NUL (the last line
 * may lack its '\n').  Returns 0, or -1 with a reason in err ("PATH:LINE:
 * ..." for a bad line), after calling cb for the lines before the bad one.
 */
int statefile_load(const char *path, statefile_line_fn cb, void *arg,
    char *err, size_t errlen);

#endif
