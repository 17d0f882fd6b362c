/*
 * scan.c: walks the top-level keys of one server frame and keeps the few
 * values chatrelay-bench needs (see scan.h).  It is written for speed over
 * strictness: it recognises well-formed JSON and rejects what it cannot
 * walk, but does not validate what it skips.
 */
#include <stdint.h>
#include <string.h>

#include "scan.h"

/* Skips whitespace; returns the new position. */
static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/*
 * Skips a string whose opening quote is at p[-1].  Returns the position of
 * its closing quote, or NULL if the string does not end in the frame.
 */
static const char *
string_end(const char *p, const char *end)
{
	for (;;) {
		const char *q = memchr(p, '"', (size_t)(end - p));
		const char *b;

		if (q == NULL)
			return NULL;
		/* An odd run of backslashes before it escapes the quote. */
		for (b = q; b > p && b[-1] == '\\'; b--)
			;
		if (((q - b) & 1) == 0)
			return q;
		p = q + 1;
	}
}

/* Skips one value of any type at p; returns the position after it or NULL. */
static const char *
skip_value(const char *p, const char *end)
{
	int depth = 0;

	if (p >= end)
		return NULL;
	if (*p != '"' && *p != '{' && *p != '[') {
		while (p < end && *p != ',' && *p != '}' && *p != ']' &&
		    *p != ' ' && *p != '\n' && *p != '\r' && *p != '\t')
			p++;
		return p;
	}
	do {
		if (p >= end)
			return NULL;
		switch (*p) {
		case '"':
			p = string_end(p + 1, end);
			if (p == NULL)
				return NULL;
			break;
		case '{':
		case '[':
			depth++;
			break;
		case '}':
		case ']':
			depth--;
			break;
		}
		p++;
	} while (depth > 0);
	return p;
}

/*
 * Parses a non-negative integer at *pp into *v and advances *pp.  Returns 0,
 * or -1 if there is no digit or the value is not a plain integer (a sign, a
 * fraction or an exponent), in which case the value is to be skipped.
 */
static int
parse_uint(const char **pp, const char *end, int64_t *v)
{
	const char *p = *pp;
	uint64_t n = 0;

	if (p >= end || *p < '0' || *p > '9')
		return -1;
	while (p < end && *p >= '0' && *p <= '9') {
		if (n > (uint64_t)INT64_MAX / 10)
			return -1;
		n = n * 10 + (uint64_t)(*p - '0');
		p++;
	}
	if (p < end && (*p == '.' || *p == 'e' || *p == 'E'))
		return -1;
	if (n > (uint64_t)INT64_MAX)
		return -1;
	*v = (int64_t)n;
	*pp = p;
	return 0;
}

/* Reads a string value at p (its opening quote) into *s; returns the end. */
static const char *
read_string(const char *p, const char *end, struct scan_str *s)
{
	const char *q;

	if (p >= end || *p != '"')
		return skip_value(p, end);
	q = string_end(p + 1, end);
	if (q == NULL)
		return NULL;
	s->p = p + 1;
	s->len = (size_t)(q - p - 1);
	return q + 1;
}

/* Reads a number value at p into *v (left at -1 if it is not one). */
static const char *
read_number(const char *p, const char *end, int64_t *v)
{
	const char *q = p;

	if (parse_uint(&q, end, v) == 0)
		return q;
	*v = -1;
	return skip_value(p, end);
}

/* Maps an op string to its enum. */
static enum scan_op
op_of(const struct scan_str *s)
{
	switch (s->len) {
	case 2:
		if (memcmp(s->p, "ok", 2) == 0)
			return SCAN_OP_OK;
		break;
	case 3:
		if (memcmp(s->p, "msg", 3) == 0)
			return SCAN_OP_MSG;
		if (memcmp(s->p, "err", 3) == 0)
			return SCAN_OP_ERR;
		if (memcmp(s->p, "bye", 3) == 0)
			return SCAN_OP_BYE;
		break;
	case 4:
		if (memcmp(s->p, "pong", 4) == 0)
			return SCAN_OP_PONG;
		break;
	case 6:
		if (memcmp(s->p, "joined", 6) == 0)
			return SCAN_OP_JOINED;
		break;
	case 7:
		if (memcmp(s->p, "welcome", 7) == 0)
			return SCAN_OP_WELCOME;
		break;
	case 8:
		if (memcmp(s->p, "presence", 8) == 0)
			return SCAN_OP_PRESENCE;
		break;
	}
	return SCAN_OP_OTHER;
}

/* Takes N from a text value that starts "t=N;". */
static void
read_stamp(const struct scan_str *text, int64_t *stamp)
{
	const char *p = text->p, *end = text->p + text->len;

	if (text->len < 4 || p[0] != 't' || p[1] != '=')
		return;
	p += 2;
	if (parse_uint(&p, end, stamp) != 0 || p >= end || *p != ';')
		*stamp = -1;
}

#define KEY_IS(k, kl, lit) \
	((kl) == sizeof(lit) - 1 && memcmp((k), (lit), sizeof(lit) - 1) == 0)

int
scan_frame(const char *p, size_t n, struct scan *out)
{
	const char *end = p + n;
	struct scan_str op = { NULL, 0 }, text = { NULL, 0 };

	memset(out, 0, sizeof(*out));
	out->seq = out->id = out->ts = out->stamp = -1;
	out->num_code = out->retry_ms = -1;

	p = skip_ws(p, end);
	if (p >= end || *p != '{')
		return -1;
	p = skip_ws(p + 1, end);
	if (p < end && *p == '}')
		return 0;
	for (;;) {
		const char *k, *ke;
		size_t kl;

		if (p >= end || *p != '"')
			return -1;
		k = p + 1;
		ke = string_end(k, end);
		if (ke == NULL)
			return -1;
		kl = (size_t)(ke - k);
		p = skip_ws(ke + 1, end);
		if (p >= end || *p != ':')
			return -1;
		p = skip_ws(p + 1, end);
		if (KEY_IS(k, kl, "op"))
			p = read_string(p, end, &op);
		else if (KEY_IS(k, kl, "seq"))
			p = read_number(p, end, &out->seq);
		else if (KEY_IS(k, kl, "ch"))
			p = read_string(p, end, &out->ch);
		else if (KEY_IS(k, kl, "ts"))
			p = read_number(p, end, &out->ts);
		else if (KEY_IS(k, kl, "text"))
			p = read_string(p, end, &text);
		else if (KEY_IS(k, kl, "id"))
			p = read_number(p, end, &out->id);
		else if (KEY_IS(k, kl, "code")) {
			if (p < end && *p == '"')
				p = read_string(p, end, &out->code);
			else
				p = read_number(p, end, &out->num_code);
		} else if (KEY_IS(k, kl, "msg") || KEY_IS(k, kl, "reason"))
			p = read_string(p, end, &out->msg);
		else if (KEY_IS(k, kl, "retry_ms"))
			p = read_number(p, end, &out->retry_ms);
		else
			p = skip_value(p, end);
		if (p == NULL)
			return -1;
		p = skip_ws(p, end);
		if (p >= end)
			return -1;
		if (*p == '}')
			break;
		if (*p != ',')
			return -1;
		p = skip_ws(p + 1, end);
	}
	if (op.p != NULL)
		out->op = op_of(&op);
	if (text.p != NULL)
		read_stamp(&text, &out->stamp);
	return 0;
}
