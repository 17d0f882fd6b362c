/*
 * failalloc.h: an allocator that fails on demand, for the tests of what
 * the relay does when memory runs out.  A test program linked with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc gets every allocation of
 * the library through these counters.
 */
#ifndef CHATRELAY_TEST_FAILALLOC_H
#define CHATRELAY_TEST_FAILALLOC_H

/*
 * How many more calls of each kind succeed before every later one fails
 * (returns NULL); -1, the default, never fails.
 */
extern int failalloc_malloc_left;
extern int failalloc_calloc_left;
extern int failalloc_realloc_left;

/* Makes every allocation succeed again. */
void failalloc_reset(void);

#endif
