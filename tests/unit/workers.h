/*
 * workers.h: for the unit tests, two workers of one relay that have their
 * inboxes, client and room tables, moderation state and watches, and the
 * in-process bus, but no thread, no running loop and no lws: what is
 * posted between them waits in their inboxes until test_workers_pump
 * hands it to the test's dispatch hook.
 */
#ifndef CHATRELAY_TEST_WORKERS_H
#define CHATRELAY_TEST_WORKERS_H

#include <uv.h>

#include "relay.h"
#include "worker.h"

struct test_workers {
	struct relay relay;
	struct worker w[2];
	struct worker_hooks hooks;	/* dispatch.c's, with the test's dispatch */
	uv_loop_t loop;
};

/*
 * Sets t up with the in-process bus and the default configuration;
 * dispatch gets every message a worker posts to itself or pumps.
 */
void test_workers_init(struct test_workers *t,
    void (*dispatch)(struct worker *w, struct imsg *m));

/* Hands every queued message to its worker until both inboxes are empty. */
void test_workers_pump(struct test_workers *t);

/* Frees what t holds, messages still queued included. */
void test_workers_free(struct test_workers *t);

/* A channel or user name owned by worker `owner`, different for each n. */
const char *test_owned_name(struct test_workers *t, int owner,
    const char *prefix, int n);

#endif
