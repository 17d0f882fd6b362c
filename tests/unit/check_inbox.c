/*
 * check_inbox.c: unit tests for the pieces that carry bytes between and out
 * of workers: inbox.c (the MPSC queue and its wake-up), jsonw.c (the JSON
 * writer) and frame.c (ready-to-send WebSocket frames).
 */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>
#include <cjson/cJSON.h>
#include <uv.h>

#include "frame.h"
#include "inbox.h"
#include "msg.h"
#include "jsonw.h"

/*
 * Like ck_assert_msg, but silent when it holds: a passing ck_assert records
 * its location (a write to Check's pipe), too costly in the hot loops.
 */
#define REQUIRE(cond, ...) do {						\
	if (!(cond))							\
		ck_abort_msg(__VA_ARGS__);				\
} while (0)

/* ---- inbox. ---- */

struct drained {
	struct inbox	*ib;
	int		 wakeups;
	uint64_t	 got[64];
	int		 n;
};

/*
 * The inbox carries any struct that starts with a struct imsg: the tests
 * use one of their own, with the fields they check.
 */
struct tmsg {
	struct imsg	 hdr;
	uint64_t	 client;
	uint16_t	 worker;
	int64_t		 since;
	struct frame	*frame;
	char		*body;
};

/* Allocates a zeroed test message of type t. */
static struct imsg *
tmsg_new(enum imsg_type t)
{
	struct tmsg	*m = calloc(1, sizeof *m);

	if (m != NULL)
		m->hdr.type = (uint8_t)t;
	return &m->hdr;
}

/* Frees a test message and what it owns. */
static void
tmsg_free(struct imsg *m)
{
	struct tmsg	*t = (struct tmsg *)m;

	if (m == NULL)
		return;
	frame_unref(t->frame);
	free(t->body);
	free(t);
}

/* The test payload of m. */
#define T(m) ((struct tmsg *)(m))

/* The async callback: drains the inbox, recording the messages. */
static void
on_wake(uv_async_t *h)
{
	struct drained	*d = h->data;
	struct imsg	*m;

	d->wakeups++;
	while ((m = inbox_pop(d->ib)) != NULL) {
		if (d->n < 64)
			d->got[d->n++] = T(m)->client;
		tmsg_free(m);
	}
}

/* Closes the inbox's handle and lets the loop finish, so nothing leaks. */
static void
inbox_teardown(struct inbox *ib, uv_loop_t *loop)
{
	inbox_discard(ib, tmsg_free);
	uv_close((uv_handle_t *)&ib->async, NULL);
	ck_assert_int_eq(uv_run(loop, UV_RUN_DEFAULT), 0);
	ck_assert_int_eq(uv_loop_close(loop), 0);
}

/* Returns a new message of type t for client c. */
static struct imsg *
msg(enum imsg_type t, uint64_t c)
{
	struct imsg	*m = tmsg_new(t);

	ck_assert_ptr_nonnull(m);
	T(m)->client = c;
	return m;
}

/* msg_new sizes each type's payload, zeroed; msg_free frees what it owns. */
START_TEST(test_msg_new)
{
	struct im_deliver	*d = msg_new(IM_DELIVER);
	struct im_publish	*p = msg_new(IM_PUBLISH);
	struct im_control	*c = msg_new(IM_CONTROL);
	struct im_join		*j = msg_new(IM_JOIN);
	static const char	 zero[CHAN_NAME_MAX + 1];

	ck_assert_ptr_nonnull(d);
	ck_assert_ptr_nonnull(p);
	ck_assert_ptr_nonnull(c);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(d->hdr.type, IM_DELIVER);
	ck_assert_int_eq(j->hdr.type, IM_JOIN);
	ck_assert_ptr_null(atomic_load(&d->hdr.next));
	ck_assert_ptr_null(d->frame);
	ck_assert(memcmp(d->ch, zero, sizeof zero) == 0);
	ck_assert_str_eq(j->from.id, "");
	ck_assert_uint_eq(j->from.client, 0);
	ck_assert_ptr_null(msg_new(IM_TYPES));
	/* What a message owns goes with it (valgrind and ASan check it). */
	d->frame = frame_text("{}", 2);
	p->body = strdup("body");
	p->len = 4;
	c->body = strdup("{}");
	msg_free(&d->hdr);
	msg_free(&p->hdr);
	msg_free(&c->hdr);
	msg_free(&j->hdr);
	msg_free(NULL);
}
END_TEST

/* The urgent allocation falls back on the thread's reserve; the reserve refills. */
START_TEST(test_msg_reserve)
{
	struct im_leave	*l;

	ck_assert_int_eq(msg_reserve_fill(), 0);
	l = msg_new_urgent(IM_LEAVE);
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(l->hdr.type, IM_LEAVE);
	msg_free(&l->hdr);
	msg_reserve_free();
}
END_TEST

START_TEST(test_fifo)
{
	uv_loop_t	 loop;
	struct inbox	 ib;
	struct drained	 d;
	struct imsg	*m;
	uint64_t	 i, next, pushed;

	memset(&d, 0, sizeof d);
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(inbox_init(&ib, &loop, on_wake, &d), 0);
	ck_assert_ptr_eq(ib.async.data, &d);
	d.ib = &ib;

	ck_assert_ptr_null(inbox_pop(&ib));
	for (i = 0; i < 10; i++)
		inbox_push(&ib, msg(IM_DELIVER, i));
	for (i = 0; i < 10; i++) {
		m = inbox_pop(&ib);
		ck_assert_ptr_nonnull(m);
		ck_assert_uint_eq(T(m)->client, i);
		ck_assert_int_eq(m->type, IM_DELIVER);
		tmsg_free(m);
	}
	ck_assert_ptr_null(inbox_pop(&ib));
	ck_assert_ptr_null(inbox_pop(&ib));

	/* Interleaved, through the empty state and its stub again and again. */
	next = pushed = 100;
	for (i = 0; i < 300; i++) {
		inbox_push(&ib, msg(IM_JOIN, pushed++));
		if (i % 3 == 0)
			inbox_push(&ib, msg(IM_JOIN, pushed++));
		if (i % 7 == 0)
			continue;
		while ((m = inbox_pop(&ib)) != NULL) {
			REQUIRE(T(m)->client == next, "got %llu, want %llu",
			    (unsigned long long)T(m)->client,
			    (unsigned long long)next);
			next++;
			tmsg_free(m);
		}
	}
	while ((m = inbox_pop(&ib)) != NULL) {
		ck_assert_uint_eq(T(m)->client, next);
		next++;
		tmsg_free(m);
	}
	ck_assert_uint_eq(next, pushed);
	ck_assert_uint_eq(pushed, 500);
	ck_assert_int_eq(d.wakeups, 0);		/* the loop never ran */

	inbox_teardown(&ib, &loop);
}
END_TEST

/* A push wakes the loop, whose callback drains in order. */
START_TEST(test_wakeup)
{
	uv_loop_t	loop;
	struct inbox	ib;
	struct drained	d;
	int		i;

	memset(&d, 0, sizeof d);
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(inbox_init(&ib, &loop, on_wake, &d), 0);
	d.ib = &ib;

	for (i = 0; i < 5; i++)
		inbox_push(&ib, msg(IM_TO_CLIENT, (uint64_t)i + 1));
	/* Pending wake-ups coalesce: one callback drains the batch. */
	uv_run(&loop, UV_RUN_NOWAIT);
	ck_assert_int_eq(d.wakeups, 1);
	ck_assert_int_eq(d.n, 5);
	for (i = 0; i < 5; i++)
		ck_assert_uint_eq(d.got[i], (uint64_t)i + 1);
	uv_run(&loop, UV_RUN_NOWAIT);
	ck_assert_int_eq(d.wakeups, 1);

	inbox_push(&ib, msg(IM_TO_CLIENT, 6));
	uv_run(&loop, UV_RUN_NOWAIT);
	ck_assert_int_eq(d.wakeups, 2);
	ck_assert_int_eq(d.n, 6);
	ck_assert_uint_eq(d.got[5], 6);

	inbox_teardown(&ib, &loop);
}
END_TEST

/* inbox_discard frees what is still queued, and what the messages own. */
START_TEST(test_discard)
{
	uv_loop_t	 loop;
	struct inbox	 ib;
	struct drained	 d;
	struct frame	*f = frame_text("{\"op\":\"msg\"}", 12);
	struct imsg	*m;
	int		 i;

	memset(&d, 0, sizeof d);
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(inbox_init(&ib, &loop, on_wake, &d), 0);
	d.ib = &ib;
	for (i = 0; i < 20; i++) {
		m = msg(IM_DELIVER, (uint64_t)i);
		T(m)->frame = frame_ref(f);
		T(m)->body = malloc(16);
		inbox_push(&ib, m);
	}
	ck_assert_int_eq(atomic_load(&f->refs), 21);
	inbox_discard(&ib, tmsg_free);
	ck_assert_int_eq(atomic_load(&f->refs), 1);
	ck_assert_ptr_null(inbox_pop(&ib));
	/* Still usable. */
	inbox_push(&ib, msg(IM_DRAIN, 99));
	m = inbox_pop(&ib);
	ck_assert_ptr_nonnull(m);
	ck_assert_uint_eq(T(m)->client, 99);
	tmsg_free(m);
	frame_unref(f);
	inbox_teardown(&ib, &loop);
}
END_TEST

enum { PRODUCERS = 4, PER_PRODUCER = 100000 };

struct producer {
	struct inbox		*ib;
	pthread_barrier_t	*start;
	uint16_t		 id;
};

/* Pushes PER_PRODUCER messages tagged (id, n) in order. */
static void *
produce(void *arg)
{
	struct producer	*p = arg;
	struct imsg	*m;
	int		 n;

	pthread_barrier_wait(p->start);
	for (n = 0; n < PER_PRODUCER; n++) {
		m = tmsg_new(IM_PUBLISH);
		if (m == NULL)
			abort();
		T(m)->worker = p->id;
		T(m)->since = n;
		inbox_push(p->ib, m);
	}
	return NULL;
}

/*
 * Four producers push at once while this thread pops: every message arrives
 * exactly once, and each producer's messages arrive in the order it pushed.
 */
START_TEST(test_multi_producer)
{
	uv_loop_t		 loop;
	struct inbox		 ib;
	struct drained		 d;
	pthread_barrier_t	 start;
	pthread_t		 th[PRODUCERS];
	struct producer		 p[PRODUCERS];
	int64_t			 next[PRODUCERS];
	long			 total = 0, empty = 0;
	struct imsg		*m;
	int			 i;

	memset(&d, 0, sizeof d);
	ck_assert_int_eq(uv_loop_init(&loop), 0);
	ck_assert_int_eq(inbox_init(&ib, &loop, on_wake, &d), 0);
	d.ib = &ib;
	ck_assert_int_eq(pthread_barrier_init(&start, NULL, PRODUCERS + 1), 0);
	for (i = 0; i < PRODUCERS; i++) {
		p[i].ib = &ib;
		p[i].start = &start;
		p[i].id = (uint16_t)i;
		next[i] = 0;
		ck_assert_int_eq(pthread_create(&th[i], NULL, produce, &p[i]),
		    0);
	}
	pthread_barrier_wait(&start);

	/* NULL only means "nothing yet" (or a push half done): keep going. */
	while (total < (long)PRODUCERS * PER_PRODUCER) {
		m = inbox_pop(&ib);
		if (m == NULL) {
			if (++empty % 64 == 0)
				sched_yield();
			continue;
		}
		REQUIRE(m->type == IM_PUBLISH, "type %d", m->type);
		REQUIRE(T(m)->worker < PRODUCERS, "producer %u", T(m)->worker);
		REQUIRE(T(m)->since == next[T(m)->worker], "producer %u: got %lld, "
		    "want %lld", T(m)->worker, (long long)T(m)->since,
		    (long long)next[T(m)->worker]);
		next[T(m)->worker]++;
		total++;
		tmsg_free(m);
	}
	for (i = 0; i < PRODUCERS; i++) {
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
		ck_assert_int_eq(next[i], PER_PRODUCER);
	}
	/* Nothing extra. */
	ck_assert_ptr_null(inbox_pop(&ib));
	pthread_barrier_destroy(&start);

	/* The wake-ups still pending run the callback, which finds nothing. */
	uv_run(&loop, UV_RUN_NOWAIT);
	ck_assert_int_eq(d.n, 0);
	inbox_teardown(&ib, &loop);
}
END_TEST

/* ---- jsonw. ---- */

/* Checks that the writer holds exactly want. */
static void
expect_jw(const struct jsonw *w, const char *want, size_t wlen, int line)
{
	ck_assert_msg(!w->failed, "line %d: failed", line);
	ck_assert_msg(w->len == wlen && memcmp(w->buf, want, wlen) == 0,
	    "line %d: got '%.*s' (%zu bytes), want '%.*s'", line,
	    (int)(w->len > 300 ? 300 : w->len), w->buf, w->len,
	    (int)(wlen > 300 ? 300 : wlen), want);
}

#define EXPECT_JW(w, want) expect_jw((w), (want), strlen(want), __LINE__)

START_TEST(test_jw_escapes)
{
	struct jsonw	w;
	char		want[16], in[2];
	int		c;

	jsonw_init(&w);
	jsonw_cstr(&w, "plain");
	EXPECT_JW(&w, "\"plain\"");
	jsonw_reset(&w);
	jsonw_cstr(&w, "");
	EXPECT_JW(&w, "\"\"");
	jsonw_reset(&w);
	jsonw_cstr(&w, "a\"b\\c");
	EXPECT_JW(&w, "\"a\\\"b\\\\c\"");
	jsonw_reset(&w);
	jsonw_cstr(&w, "\"\"\\\\");
	EXPECT_JW(&w, "\"\\\"\\\"\\\\\\\\\"");
	jsonw_reset(&w);
	jsonw_cstr(&w, "line\nnext\ttab\rcr\bbs\fff");
	EXPECT_JW(&w, "\"line\\nnext\\ttab\\rcr\\bbs\\fff\"");
	jsonw_reset(&w);
	/* '/' and DEL need no escape. */
	jsonw_cstr(&w, "a/b\x7f");
	EXPECT_JW(&w, "\"a/b\x7f\"");
	jsonw_reset(&w);

	/* Every control character, alone. */
	for (c = 0; c < 0x20; c++) {
		in[0] = (char)c;
		switch (c) {
		case '\b': snprintf(want, sizeof want, "\"\\b\""); break;
		case '\t': snprintf(want, sizeof want, "\"\\t\""); break;
		case '\n': snprintf(want, sizeof want, "\"\\n\""); break;
		case '\f': snprintf(want, sizeof want, "\"\\f\""); break;
		case '\r': snprintf(want, sizeof want, "\"\\r\""); break;
		default: snprintf(want, sizeof want, "\"\\u%04x\"", c);
		}
		jsonw_reset(&w);
		jsonw_str(&w, in, 1);
		expect_jw(&w, want, strlen(want), c);
	}
	jsonw_reset(&w);
	jsonw_cstr(&w, "\x01x\x1fy");
	EXPECT_JW(&w, "\"\\u0001x\\u001fy\"");
	jsonw_reset(&w);
	/* A NUL inside a counted string is escaped, not an end. */
	jsonw_str(&w, "a\0b", 3);
	EXPECT_JW(&w, "\"a\\u0000b\"");
	jsonw_reset(&w);
	/* Only len bytes. */
	jsonw_str(&w, "abcdef", 3);
	EXPECT_JW(&w, "\"abc\"");
	jsonw_reset(&w);

	/* Non-ASCII passes through unchanged. */
	jsonw_cstr(&w, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe6\x97\xa5");
	EXPECT_JW(&w, "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 \xe6\x97\xa5\"");
	jsonw_free(&w);
}
END_TEST

START_TEST(test_jw_pieces)
{
	struct jsonw	w;

	jsonw_init(&w);
	jsonw_lit(&w, "{\"a\":");
	jsonw_int(&w, 0);
	jsonw_lit(&w, ",\"b\":");
	jsonw_int(&w, -1);
	jsonw_lit(&w, ",\"c\":");
	jsonw_int(&w, INT64_MAX);
	jsonw_lit(&w, ",\"d\":");
	jsonw_int(&w, INT64_MIN);
	jsonw_lit(&w, ",\"e\":");
	jsonw_uint(&w, UINT64_MAX);
	jsonw_lit(&w, ",\"f\":");
	jsonw_uint(&w, 0);
	jsonw_raw(&w, "}xyz", 1);
	EXPECT_JW(&w, "{\"a\":0,\"b\":-1,\"c\":9223372036854775807,"
	    "\"d\":-9223372036854775808,\"e\":18446744073709551615,\"f\":0}");
	jsonw_raw(&w, "", 0);
	jsonw_lit(&w, "");
	ck_assert_uint_eq(w.len, strlen("{\"a\":0,\"b\":-1,\"c\":"
	    "9223372036854775807,\"d\":-9223372036854775808,\"e\":"
	    "18446744073709551615,\"f\":0}"));
	jsonw_free(&w);
}
END_TEST

START_TEST(test_jw_growth)
{
	struct jsonw	 w;
	char		*big, *want;
	char		*buf;
	size_t		 i, cap;
	cJSON		*j;

	/* Past the inline buffer with literals. */
	jsonw_init(&w);
	ck_assert_ptr_eq(w.buf, w.inline_buf);
	for (i = 0; i < 5000; i++)
		jsonw_lit(&w, "0123456789");
	ck_assert(!w.failed);
	ck_assert_uint_eq(w.len, 50000);
	ck_assert_ptr_ne(w.buf, w.inline_buf);
	ck_assert_uint_ge(w.cap, w.len);
	for (i = 0; i < 50000; i++)
		REQUIRE(w.buf[i] == (char)('0' + i % 10), "byte %zu", i);

	/* Reset keeps the memory. */
	buf = w.buf;
	cap = w.cap;
	jsonw_reset(&w);
	ck_assert_uint_eq(w.len, 0);
	ck_assert_ptr_eq(w.buf, buf);
	ck_assert_uint_eq(w.cap, cap);
	jsonw_cstr(&w, "x");
	EXPECT_JW(&w, "\"x\"");
	jsonw_free(&w);
	ck_assert_ptr_eq(w.buf, w.inline_buf);
	ck_assert_uint_eq(w.len, 0);

	/* A string that crosses the inline buffer's end mid-escape. */
	big = malloc(4001);
	want = malloc(4001 * 6 + 3);
	ck_assert_ptr_nonnull(big);
	ck_assert_ptr_nonnull(want);
	for (i = 0; i < 4000; i++)
		big[i] = "a\"\\\n\x01\xc3\xa9z"[i % 8];
	big[4000] = '\0';
	jsonw_init(&w);
	jsonw_lit(&w, "[");
	for (i = 0; i < 3; i++) {
		if (i != 0)
			jsonw_lit(&w, ",");
		jsonw_cstr(&w, big);
	}
	jsonw_lit(&w, "]");
	ck_assert(!w.failed);
	j = cJSON_ParseWithLength(w.buf, w.len);
	ck_assert_ptr_nonnull(j);
	ck_assert_int_eq(cJSON_GetArraySize(j), 3);
	for (i = 0; i < 3; i++)
		ck_assert_str_eq(cJSON_GetArrayItem(j, (int)i)->valuestring,
		    big);
	cJSON_Delete(j);

	/* Byte-exact, just past 512 bytes of output. */
	jsonw_reset(&w);
	memset(big, '"', 300);
	big[300] = '\0';
	jsonw_cstr(&w, big);
	want[0] = '"';
	for (i = 0; i < 300; i++) {
		want[1 + 2 * i] = '\\';
		want[2 + 2 * i] = '"';
	}
	want[601] = '"';
	expect_jw(&w, want, 602, __LINE__);
	jsonw_free(&w);
	free(big);
	free(want);
}
END_TEST

/* Random ASCII strings (controls included) read back the same through cJSON. */
START_TEST(test_jw_round_trip)
{
	struct jsonw	w;
	char		s[200];
	unsigned	seed = 99;
	int		k, i, n;
	cJSON		*j;

	jsonw_init(&w);
	for (k = 0; k < 2000; k++) {
		seed = seed * 1103515245u + 12345u;
		n = (int)((seed >> 16) % (sizeof s - 1));
		for (i = 0; i < n; i++) {
			seed = seed * 1103515245u + 12345u;
			s[i] = (char)(1 + (seed >> 16) % 127);
		}
		s[n] = '\0';
		jsonw_reset(&w);
		jsonw_cstr(&w, s);
		REQUIRE(!w.failed, "failed");
		j = cJSON_ParseWithLength(w.buf, w.len);
		REQUIRE(cJSON_IsString(j), "'%.*s' is not a JSON string",
		    (int)w.len, w.buf);
		REQUIRE(strcmp(j->valuestring, s) == 0, "'%s' came back '%s'",
		    s, j->valuestring);
		cJSON_Delete(j);
	}
	jsonw_free(&w);
}
END_TEST

/* ---- frame. ---- */

/* Checks f's header: FIN, opcode op, the length of plen in its smallest form. */
static void
expect_header(const struct frame *f, uint8_t op, size_t plen, int line)
{
	size_t	hl = plen < 126 ? 2 : plen <= 0xffff ? 4 : 10, i;

	ck_assert_msg(f != NULL, "line %d", line);
	ck_assert_msg(f->hdr == hl, "line %d: hdr %u, want %zu", line, f->hdr,
	    hl);
	ck_assert_msg(f->len == hl + plen, "line %d: len %u", line, f->len);
	ck_assert_msg(frame_payload_len(f) == plen, "line %d", line);
	ck_assert_msg(frame_payload(f) == (const char *)f->data + hl,
	    "line %d", line);
	ck_assert_msg(f->data[0] == (0x80 | op), "line %d: byte 0 0x%02x",
	    line, f->data[0]);
	/* Server frames are never masked. */
	ck_assert_msg((f->data[1] & 0x80) == 0, "line %d: masked", line);
	if (hl == 2) {
		ck_assert_msg(f->data[1] == plen, "line %d", line);
	} else if (hl == 4) {
		ck_assert_msg(f->data[1] == 126, "line %d", line);
		ck_assert_msg(f->data[2] == (plen >> 8 & 0xff) &&
		    f->data[3] == (plen & 0xff), "line %d: length %02x %02x",
		    line, f->data[2], f->data[3]);
	} else {
		ck_assert_msg(f->data[1] == 127, "line %d", line);
		for (i = 0; i < 8; i++)
			ck_assert_msg(f->data[2 + i] ==
			    (uint8_t)((uint64_t)plen >> (56 - 8 * i)),
			    "line %d: length byte %zu", line, i);
	}
	ck_assert_int_eq(atomic_load(&f->refs), 1);
	ck_assert_uint_eq(f->seq, 0);
	ck_assert_int_eq(f->ts, 0);
}

START_TEST(test_frame_lengths)
{
	static const size_t lens[] = {
		0, 1, 125, 126, 127, 1000, 65535, 65536, 65537, 200000
	};
	char		*buf = malloc(200000);
	struct frame	*f;
	size_t		 i, k;

	ck_assert_ptr_nonnull(buf);
	for (k = 0; k < 200000; k++)
		buf[k] = (char)('a' + k % 26);
	for (i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		f = frame_text(buf, lens[i]);
		expect_header(f, 0x1, lens[i], (int)lens[i]);
		ck_assert(memcmp(frame_payload(f), buf, lens[i]) == 0);
		frame_unref(f);
	}
	/* The exact bytes of the boundary cases. */
	f = frame_text(buf, 125);
	ck_assert(f->data[0] == 0x81 && f->data[1] == 125);
	frame_unref(f);
	f = frame_text(buf, 126);
	ck_assert(f->data[0] == 0x81 && f->data[1] == 126 &&
	    f->data[2] == 0x00 && f->data[3] == 0x7e);
	frame_unref(f);
	f = frame_text(buf, 65535);
	ck_assert(f->data[1] == 126 && f->data[2] == 0xff &&
	    f->data[3] == 0xff);
	frame_unref(f);
	f = frame_text(buf, 65536);
	ck_assert(memcmp(f->data, "\x81\x7f\0\0\0\0\0\x01\0\0", 10) == 0);
	frame_unref(f);
	/* An empty text frame from a NULL payload. */
	f = frame_text(NULL, 0);
	expect_header(f, 0x1, 0, __LINE__);
	frame_unref(f);
	free(buf);
}
END_TEST

START_TEST(test_frame_close_ping)
{
	struct frame	*f;
	char		 reason[300];

	f = frame_close(1001, "going away");
	expect_header(f, 0x8, 12, __LINE__);
	ck_assert(memcmp(f->data, "\x88\x0c\x03\xe9going away", 14) == 0);
	frame_unref(f);

	f = frame_close(4029, "too slow");
	expect_header(f, 0x8, 10, __LINE__);
	ck_assert_int_eq(f->data[2], 4029 >> 8);
	ck_assert_int_eq(f->data[3], 4029 & 0xff);
	ck_assert(memcmp(f->data + 4, "too slow", 8) == 0);
	frame_unref(f);

	/* No reason: the code alone. */
	f = frame_close(1000, NULL);
	expect_header(f, 0x8, 2, __LINE__);
	ck_assert(memcmp(f->data, "\x88\x02\x03\xe8", 4) == 0);
	frame_unref(f);
	f = frame_close(1000, "");
	expect_header(f, 0x8, 2, __LINE__);
	frame_unref(f);

	/* A control frame's payload is at most 125 bytes: 123 of reason. */
	memset(reason, 'r', sizeof reason - 1);
	reason[sizeof reason - 1] = '\0';
	f = frame_close(1011, reason);
	expect_header(f, 0x8, 125, __LINE__);
	ck_assert(memcmp(frame_payload(f) + 2, reason, 123) == 0);
	frame_unref(f);
	reason[123] = '\0';
	f = frame_close(1011, reason);
	expect_header(f, 0x8, 125, __LINE__);
	frame_unref(f);

	/*
	 * A PING: FIN, opcode 9, a control frame's short payload (frame.c
	 * sends a couple of bytes, since lws drops empty PONGs).
	 */
	f = frame_ping();
	ck_assert_int_eq(f->data[0], 0x89);
	ck_assert_uint_le(frame_payload_len(f), 125);
	expect_header(f, 0x9, frame_payload_len(f), __LINE__);
	frame_unref(f);
}
END_TEST

START_TEST(test_frame_refs)
{
	struct frame	*f = frame_text("hi", 2);

	ck_assert_int_eq(atomic_load(&f->refs), 1);
	ck_assert_ptr_eq(frame_ref(f), f);
	ck_assert_ptr_eq(frame_ref(f), f);
	ck_assert_int_eq(atomic_load(&f->refs), 3);
	frame_unref(f);
	frame_unref(f);
	ck_assert_int_eq(atomic_load(&f->refs), 1);
	ck_assert(memcmp(frame_payload(f), "hi", 2) == 0);
	frame_unref(f);		/* freed: valgrind would see a leak otherwise */
	frame_unref(NULL);
}
END_TEST

/* Builds the suite of inbox, jsonw and frame tests. */
static Suite *
inbox_suite(void)
{
	Suite	*s = suite_create("inbox");
	TCase	*tc;

	tc = tcase_create("inbox");
	tcase_add_test(tc, test_msg_new);
	tcase_add_test(tc, test_msg_reserve);
	tcase_add_test(tc, test_fifo);
	tcase_add_test(tc, test_wakeup);
	tcase_add_test(tc, test_discard);
	tcase_add_test(tc, test_multi_producer);
	/* 400000 messages across threads: room for a slow, busy machine. */
	tcase_set_timeout(tc, 60);
	suite_add_tcase(s, tc);

	tc = tcase_create("jsonw");
	tcase_add_test(tc, test_jw_escapes);
	tcase_add_test(tc, test_jw_pieces);
	tcase_add_test(tc, test_jw_growth);
	tcase_add_test(tc, test_jw_round_trip);
	suite_add_tcase(s, tc);

	tc = tcase_create("frame");
	tcase_add_test(tc, test_frame_lengths);
	tcase_add_test(tc, test_frame_close_ping);
	tcase_add_test(tc, test_frame_refs);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(inbox_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
