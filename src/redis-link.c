/*
 * redis-link.c: the relay's own hiredis adapter for libuv.
 *
 * hiredis 0.14.1's libuv adapter ignores the error status uv_poll reports
 * (a refused connect arrives as UV_EBADF), so a reconnect while Redis is
 * down never completes.  This one hands every poll event, errors included,
 * to hiredis, and never frees a context while hiredis is on the stack.
 */
#include <stdbool.h>
#include <stdlib.h>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <uv.h>

#include "log.h"
#include "redis.h"
#include "redis-int.h"

static void link_on_poll(uv_poll_t *h, int status, int events);


/* The poll handle is closed: nothing refers to the link any more. */
static void
link_closed(uv_handle_t *h)
{
	free(h->data);
}

/* Marks l unusable; the connection's timer drops it on the next iteration. */
void
redis_link_broken(struct redis_link *l, const char *why)
{
	if (l->broken)
		return;
	l->broken = true;
	snprintf(l->why, sizeof l->why, "%s", why);
	if (l->rc != NULL && !l->rc->freeing)
		uv_timer_start(&l->rc->timer, redis_conn_on_timer, 0, 0);
}

/* Makes the poll handle watch what hiredis asked for. */
static void
link_update(struct redis_link *l)
{
	int err;

	if (l->ac == NULL || l->events == l->polling)
		return;
	if (l->events != 0)
		err = uv_poll_start(&l->poll, l->events, link_on_poll);
	else
		err = uv_poll_stop(&l->poll);
	if (err != 0) {
		redis_link_broken(l, uv_strerror(err));
		return;
	}
	l->polling = l->events;
}

static void
link_add_read(void *data)
{
	struct redis_link *l = data;

	l->events |= UV_READABLE;
	link_update(l);
}

static void
link_del_read(void *data)
{
	struct redis_link *l = data;

	l->events &= ~UV_READABLE;
	link_update(l);
}

static void
link_add_write(void *data)
{
	struct redis_link *l = data;

	l->events |= UV_WRITABLE;
	link_update(l);
}

static void
link_del_write(void *data)
{
	struct redis_link *l = data;

	l->events &= ~UV_WRITABLE;
	link_update(l);
}

/*
 * hiredis is freeing the context (its fd is closed right after): keep its
 * reason, stop polling before the fd goes, and let the link go with the handle.
 */
static void
link_cleanup(void *data)
{
	struct redis_link *l = data;

	if (l->why[0] == '\0' && l->ac->c.err != 0)
		snprintf(l->why, sizeof l->why, "%s", l->ac->c.errstr);
	l->ac = NULL;
	uv_close((uv_handle_t *)&l->poll, link_closed);
}

/*
 * The socket is ready, or in error.  On an error (libuv reports POLLERR as
 * UV_EBADF and stops the handle) hiredis is still called, so that it reads
 * SO_ERROR or the failed read and ends the context with the real reason.
 */
static void
link_on_poll(uv_poll_t *h, int status, int events)
{
	struct redis_link *l = h->data;
	struct redis_conn *rc;

	if (l->ac == NULL)
		return;
	l->in_hiredis = true;
	if (status < 0) {
		log_debug("redis: poll error (%s): asking hiredis",
		    uv_strerror(status));
		l->polling = 0;
		if (!(l->ac->c.flags & REDIS_CONNECTED))
			redisAsyncHandleWrite(l->ac);
		else
			redisAsyncHandleRead(l->ac);
		if (l->why[0] == '\0')
			snprintf(l->why, sizeof l->why, "socket error");
	} else {
		if (events & UV_READABLE)
			redisAsyncHandleRead(l->ac);
		if (l->ac != NULL && !l->free_asked &&
		    (events & UV_WRITABLE))
			redisAsyncHandleWrite(l->ac);
	}
	l->in_hiredis = false;
	if (l->free_asked) {
		if (l->ac != NULL)
			redisAsyncFree(l->ac);
		return;
	}
	rc = l->rc;
	if (rc == NULL)
		return;
	if (l->ac == NULL)
		redis_conn_lost(rc, l->why[0] != '\0' ? l->why : "connection closed");
	else if (status < 0)
		redis_conn_lost(rc, l->why);
}

/*
 * Lets go of rc's link: from now on nothing it does reaches rc.  Its context
 * is freed now, or as soon as hiredis returns if it is on the stack.
 */
void
redis_link_drop(struct redis_conn *rc)
{
	struct redis_link *l = rc->link;

	if (l == NULL)
		return;
	rc->link = NULL;
	l->rc = NULL;
	if (l->ac == NULL)
		return;
	if (l->in_hiredis)
		l->free_asked = true;
	else
		redisAsyncFree(l->ac);
}

/* Returns true if rc's link can take a command now. */
bool
redis_link_usable(const struct redis_conn *rc)
{
	return rc->link != NULL && rc->link->ac != NULL && !rc->link->broken;
}


void
redis_link_hook(redisAsyncContext *ac, struct redis_link *l)
{
	ac->ev.data = l;
	ac->ev.addRead = link_add_read;
	ac->ev.delRead = link_del_read;
	ac->ev.addWrite = link_add_write;
	ac->ev.delWrite = link_del_write;
	ac->ev.cleanup = link_cleanup;
}
