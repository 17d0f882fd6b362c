/*
 * audit.h: the audit file: one JSON object per line for every moderation
 * action, appended (O_APPEND, one write per line, so workers never
 * interleave), reopened on SIGHUP for log rotation.  The audit line in the
 * log is written by the caller; this is only the file.
 */
#ifndef CHATRELAY_AUDIT_H
#define CHATRELAY_AUDIT_H

#include <stddef.h>

/*
 * Opens path for appending (created 0640 if missing); "" opens nothing.
 * Returns 0, or -1 with the reason logged.  Before the workers start.
 */
int audit_open(const char *path);

/*
 * Writes to path from now on ("": to no file), for a reload that changed
 * audit_file.  Returns 0, or -1 (logged; the file in use stays in use).
 * From any thread.
 */
int audit_switch(const char *path);

/*
 * Opens the file again under the same name (after a rotation), without a
 * moment where writes go nowhere.  Returns 0, or -1 (logged; the old file
 * stays in use).  From any thread.
 */
int audit_reopen(void);

/* Appends line (len bytes, without its '\n'); from any thread. */
void audit_write(const char *line, size_t len);

/* Closes the file (after the workers stopped). */
void audit_close(void);

#endif
