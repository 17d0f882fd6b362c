/*
 * jsonw.h: a minimal JSON writer for the frames the relay sends.
 *
 * Server frames are built by appending literal pieces and escaped strings to
 * a growable buffer, which costs far less than building a cJSON tree for
 * every message.  Running out of memory sets a flag checked once at the end.
 */
#ifndef CHATRELAY_JSONW_H
#define CHATRELAY_JSONW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jsonw {
	char *buf;
	size_t len;
	size_t cap;
	bool failed;		/* an allocation failed; the contents are unusable */
	char inline_buf[512];
};

void jsonw_init(struct jsonw *w);
void jsonw_free(struct jsonw *w);
/* Empties the buffer, keeping its memory. */
void jsonw_reset(struct jsonw *w);

/* Appends len raw bytes. */
void jsonw_raw(struct jsonw *w, const char *s, size_t len);
/* Appends a NUL-terminated literal. */
void jsonw_lit(struct jsonw *w, const char *s);
/* Appends s (len bytes of valid UTF-8) as a quoted, escaped JSON string. */
void jsonw_str(struct jsonw *w, const char *s, size_t len);
/* Appends a NUL-terminated string as a quoted, escaped JSON string. */
void jsonw_cstr(struct jsonw *w, const char *s);
/* Appends a decimal integer. */
void jsonw_int(struct jsonw *w, int64_t v);
void jsonw_uint(struct jsonw *w, uint64_t v);

#endif
