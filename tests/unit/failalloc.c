/*
 * failalloc.c: malloc, calloc and realloc wrapped (ld --wrap) so that a
 * test can make them fail from a given call on (see failalloc.h).
 */
#include <stddef.h>

#include "failalloc.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);

int failalloc_malloc_left = -1;
int failalloc_calloc_left = -1;
int failalloc_realloc_left = -1;

void
failalloc_reset(void)
{
	failalloc_malloc_left = -1;
	failalloc_calloc_left = -1;
	failalloc_realloc_left = -1;
}

/* Returns 1 if this call must fail, counting it down otherwise. */
static int
must_fail(int *left)
{
	if (*left < 0)
		return 0;
	if (*left == 0)
		return 1;
	(*left)--;
	return 0;
}

void *
__wrap_malloc(size_t n)
{
	return must_fail(&failalloc_malloc_left) ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t size)
{
	return must_fail(&failalloc_calloc_left) ? NULL :
	    __real_calloc(n, size);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return must_fail(&failalloc_realloc_left) ? NULL : __real_realloc(p, n);
}
