/*
 * scan.h: a small targeted scanner for the relay's frames.
 *
 * chatrelay-bench must not share the relay's JSON code, and must read
 * several hundred thousand frames a second, so it does not build a tree: it
 * walks the keys of the top-level object once, picks out the handful of
 * fields it uses and skips every other value (nested objects and arrays
 * included) without looking inside.  Strings are returned as raw pointers
 * into the frame, still JSON-escaped.
 */
#ifndef BENCH_SCAN_H
#define BENCH_SCAN_H

#include <stddef.h>
#include <stdint.h>

enum scan_op {
	SCAN_OP_OTHER = 0,	/* an op the bench does not act on */
	SCAN_OP_MSG,
	SCAN_OP_OK,
	SCAN_OP_ERR,
	SCAN_OP_WELCOME,
	SCAN_OP_JOINED,
	SCAN_OP_PRESENCE,
	SCAN_OP_PONG,
	SCAN_OP_BYE,
};

/* A borrowed, still-escaped piece of the frame. */
struct scan_str {
	const char	*p;
	size_t		 len;
};

struct scan {
	enum scan_op	op;
	int64_t		seq;	/* "seq", or -1 */
	int64_t		id;	/* "id" when a non-negative integer, or -1 */
	int64_t		ts;	/* "ts" (relay ms), or -1 */
	int64_t		stamp;	/* N from a "text" that starts "t=N;", or -1 */
	int64_t		num_code; /* "code" when a number (bye), or -1 */
	int64_t		retry_ms; /* "retry_ms", or -1 */
	struct scan_str	ch;	/* "ch" */
	struct scan_str	code;	/* "code" when a string (err) */
	struct scan_str	msg;	/* "msg" (err) or "reason" (bye) */
};

/*
 * Scans one frame of n bytes.  Returns 0 and fills *out when the frame is a
 * JSON object whose top-level keys could be walked; returns -1 otherwise
 * (*out is then partly filled and must not be used).
 */
int	scan_frame(const char *p, size_t n, struct scan *out);

#endif
