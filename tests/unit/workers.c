/*
 * workers.c: two workers without threads or lws, for the unit tests of the
 * layers above the worker (see workers.h).
 */
#include <stdio.h>
#include <string.h>

#include <check.h>

#include "bus.h"
#include "config.h"
#include "dispatch.h"
#include "gather.h"
#include "modstate.h"
#include "msg.h"
#include "watch.h"
#include "workers.h"

/* The inboxes' wake-ups: nothing runs the loop, the test pumps instead. */
static void
on_async(uv_async_t *a)
{
}

void
test_workers_init(struct test_workers *t,
    void (*dispatch)(struct worker *w, struct imsg *m))
{
	int i;

	memset(t, 0, sizeof *t);
	config_defaults(&t->relay.cfg);
	t->hooks = dispatch_hooks;
	t->hooks.dispatch = dispatch;
	t->relay.hooks = &t->hooks;
	t->relay.bus = &bus_local_ops;
	t->relay.nworkers = 2;
	t->relay.workers = t->w;
	snprintf(t->relay.node, sizeof t->relay.node, "test");
	ck_assert_int_eq(uv_loop_init(&t->loop), 0);
	for (i = 0; i < 2; i++) {
		struct worker *w = &t->w[i];

		w->idx = i;
		w->relay = &t->relay;
		w->cfg = &t->relay.cfg;
		w->hooks = &t->hooks;
		w->rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1);
		client_table_init(&w->clients, (uint16_t)i);
		room_table_init(&w->rooms);
		user_index_init(&w->users);
		modstate_init(&w->mod);
		watch_table_init(&w->watches);
		ck_assert_int_eq(inbox_init(&w->inbox, &t->loop, on_async, w),
		    0);
		ck_assert_int_eq(t->relay.bus->init(w), 0);
	}
}

void
test_workers_pump(struct test_workers *t)
{
	struct imsg *m;
	int i, moved;

	do {
		moved = 0;
		for (i = 0; i < 2; i++)
			while ((m = inbox_pop(&t->w[i].inbox)) != NULL) {
				t->hooks.dispatch(&t->w[i], m);
				moved++;
			}
	} while (moved > 0);
}

void
test_workers_free(struct test_workers *t)
{
	int i;

	for (i = 0; i < 2; i++) {
		inbox_discard(&t->w[i].inbox, msg_free);
		uv_close((uv_handle_t *)&t->w[i].inbox.async, NULL);
		t->relay.bus->free(&t->w[i]);
		gather_free(&t->w[i]);
		modstate_free(&t->w[i].mod);
		watch_table_free(&t->w[i].watches);
		user_index_free(&t->w[i].users);
		room_table_free(&t->w[i].rooms);
		client_table_free(&t->w[i].clients);
	}
	uv_run(&t->loop, UV_RUN_DEFAULT);
	ck_assert_int_eq(uv_loop_close(&t->loop), 0);
	msg_reserve_free();
}

const char *
test_owned_name(struct test_workers *t, int owner, const char *prefix, int n)
{
	static char name[64];
	int i;

	for (i = 0;; i++) {
		snprintf(name, sizeof name, "%s%d-%d", prefix, n, i);
		if (worker_owner(&t->w[0], name) == owner)
			return name;
	}
}
