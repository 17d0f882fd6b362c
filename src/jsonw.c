/*
 * jsonw.c: appending JSON text to a growable buffer.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"

void
jsonw_init(struct jsonw *w)
{
	w->buf = w->inline_buf;
	w->len = 0;
	w->cap = sizeof w->inline_buf;
	w->failed = false;
}

void
jsonw_free(struct jsonw *w)
{
	if (w->buf != w->inline_buf)
		free(w->buf);
	jsonw_init(w);
}

void
jsonw_reset(struct jsonw *w)
{
	w->len = 0;
	w->failed = false;
}

/* Makes room for n more bytes; returns false (and sets failed) if it cannot. */
static bool
jsonw_reserve(struct jsonw *w, size_t n)
{
	size_t cap;
	char *nb;

	if (w->failed)
		return false;
	if (w->len + n <= w->cap)
		return true;
	cap = w->cap * 2;
	while (cap < w->len + n)
		cap *= 2;
	if (w->buf == w->inline_buf) {
		nb = malloc(cap);
		if (nb != NULL)
			memcpy(nb, w->buf, w->len);
	} else
		nb = realloc(w->buf, cap);
	if (nb == NULL) {
		w->failed = true;
		return false;
	}
	w->buf = nb;
	w->cap = cap;
	return true;
}

void
jsonw_raw(struct jsonw *w, const char *s, size_t len)
{
	if (!jsonw_reserve(w, len))
		return;
	memcpy(w->buf + w->len, s, len);
	w->len += len;
}

void
jsonw_lit(struct jsonw *w, const char *s)
{
	jsonw_raw(w, s, strlen(s));
}

void
jsonw_str(struct jsonw *w, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i, run = 0;
	char *o;

	/* Worst case every byte becomes \u00XX. */
	if (!jsonw_reserve(w, len * 6 + 2))
		return;
	o = w->buf + w->len;
	*o++ = '"';
	for (i = 0; i < len; i++) {
		unsigned char c = p[i];

		if (c >= 0x20 && c != '"' && c != '\\') {
			run++;
			continue;
		}
		if (run != 0) {
			memcpy(o, p + i - run, run);
			o += run;
			run = 0;
		}
		*o++ = '\\';
		switch (c) {
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case '\n': *o++ = 'n'; break;
		case '\r': *o++ = 'r'; break;
		case '\t': *o++ = 't'; break;
		case '\b': *o++ = 'b'; break;
		case '\f': *o++ = 'f'; break;
		default:
			*o++ = 'u';
			*o++ = '0';
			*o++ = '0';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 0xf];
		}
	}
	if (run != 0) {
		memcpy(o, p + len - run, run);
		o += run;
	}
	*o++ = '"';
	w->len = (size_t)(o - w->buf);
}

void
jsonw_cstr(struct jsonw *w, const char *s)
{
	jsonw_str(w, s, strlen(s));
}

void
jsonw_uint(struct jsonw *w, uint64_t v)
{
	char b[24], *p = b + sizeof b;

	/* Every msg frame carries two numbers: no snprintf on the hot path. */
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	jsonw_raw(w, p, (size_t)(b + sizeof b - p));
}

void
jsonw_int(struct jsonw *w, int64_t v)
{
	if (v < 0) {
		jsonw_raw(w, "-", 1);
		jsonw_uint(w, (uint64_t)0 - (uint64_t)v);
	} else
		jsonw_uint(w, (uint64_t)v);
}
