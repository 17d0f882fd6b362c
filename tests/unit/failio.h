/*
 * failio.h: write, fsync and rename that fail on demand, for the tests of
 * what a save does when the disk fills up or the system call fails.  A
 * test program linked with -Wl,--wrap=write,--wrap=fsync,--wrap=rename
 * gets every such call of the library through these counters (and of the
 * test itself: disarm with failio_reset right after the call under test).
 */
#ifndef CHATRELAY_TEST_FAILIO_H
#define CHATRELAY_TEST_FAILIO_H

#include <stddef.h>

/*
 * write: the first failio_write_eintr calls fail with EINTR; each call
 * writes at most failio_write_max bytes (0 = no limit: short writes); once
 * failio_write_budget bytes have been written (-1 = never) every later call
 * fails with failio_write_errno (default ENOSPC), so a file is torn after
 * exactly that many bytes.  failio_write_calls counts the calls.
 */
extern int failio_write_eintr;
extern size_t failio_write_max;
extern long failio_write_budget;
extern int failio_write_errno;
extern int failio_write_calls;

/*
 * fsync and rename: how many more calls succeed before every later one
 * fails (with EIO, and EXDEV for rename); -1, the default, never fails.
 */
extern int failio_fsync_left;
extern int failio_rename_left;

/* Makes every call succeed again and zeroes the counts. */
void failio_reset(void);

#endif
