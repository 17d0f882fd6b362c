/*
 * msg.c: allocating and freeing the inbox messages of msg.h, each at the
 * size of its own payload.
 */
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "msg.h"

/* The payload size of each type. */
static const size_t msg_size[IM_TYPES] = {
	[IM_JOIN] = sizeof(struct im_join),
	[IM_LEAVE] = sizeof(struct im_leave),
	[IM_PUBLISH] = sizeof(struct im_publish),
	[IM_HISTORY] = sizeof(struct im_query),
	[IM_WHO] = sizeof(struct im_query),
	[IM_ATTACH] = sizeof(struct im_attach),
	[IM_DETACH] = sizeof(struct im_detach),
	[IM_WHISPER] = sizeof(struct im_whisper),
	[IM_DELIVER] = sizeof(struct im_deliver),
	[IM_USER_DELIVER] = sizeof(struct im_user_deliver),
	[IM_TO_CLIENT] = sizeof(struct im_to_client),
	[IM_WATCH] = sizeof(struct im_deliver),
	[IM_CONTROL] = sizeof(struct im_control),
	[IM_ANSWER] = sizeof(struct im_control),
	[IM_BUS] = sizeof(struct im_bus),
	[IM_DRAIN] = sizeof(struct imsg),
	[IM_QUIESCE] = sizeof(struct imsg),
	[IM_DESTROY] = sizeof(struct imsg),
};

void *
msg_new(enum imsg_type type)
{
	struct imsg *m;

	if ((unsigned)type >= IM_TYPES)
		return NULL;
	m = calloc(1, msg_size[type]);
	if (m != NULL)
		m->type = (uint8_t)type;
	return m;
}

/*
 * The reserve: spare blocks big enough for any urgent message, linked
 * through their first word.  Per thread, so taking one needs no lock; the
 * receiver frees a reserved message with free() like any other.
 */
#define RESERVE_MAX 32
#define RESERVE_SIZE (sizeof(struct im_leave) > sizeof(struct im_detach) ? \
	sizeof(struct im_leave) : sizeof(struct im_detach))

static __thread void *reserve;
static __thread int nreserve;

void *
msg_new_urgent(enum imsg_type type)
{
	struct imsg *m = msg_new(type);
	void *r;

	if (m != NULL || (type != IM_LEAVE && type != IM_DETACH) ||
	    reserve == NULL)
		return m;
	r = reserve;
	reserve = *(void **)r;
	nreserve--;
	memset(r, 0, RESERVE_SIZE);
	m = r;
	m->type = (uint8_t)type;
	return m;
}

int
msg_reserve_fill(void)
{
	void *r;

	while (nreserve < RESERVE_MAX) {
		if ((r = malloc(RESERVE_SIZE)) == NULL)
			return -1;
		*(void **)r = reserve;
		reserve = r;
		nreserve++;
	}
	return 0;
}

void
msg_reserve_free(void)
{
	void *r;

	while ((r = reserve) != NULL) {
		reserve = *(void **)r;
		free(r);
	}
	nreserve = 0;
}

void
msg_free(struct imsg *m)
{
	if (m == NULL)
		return;
	switch (m->type) {
	case IM_PUBLISH:
		free(((struct im_publish *)m)->body);
		break;
	case IM_WHISPER:
		frame_unref(((struct im_whisper *)m)->frame);
		break;
	case IM_DELIVER:
	case IM_WATCH:
		frame_unref(((struct im_deliver *)m)->frame);
		break;
	case IM_USER_DELIVER:
		frame_unref(((struct im_user_deliver *)m)->frame);
		break;
	case IM_TO_CLIENT:
		frame_unref(((struct im_to_client *)m)->frame);
		break;
	case IM_CONTROL:
	case IM_ANSWER:
		free(((struct im_control *)m)->body);
		break;
	default:
		break;
	}
	free(m);
}

void
msg_origin(struct origin *o, uint16_t worker, uint64_t client,
    const char *id)
{
	o->worker = worker;
	o->client = client;
	msg_copy(o->id, sizeof o->id, id != NULL ? id : "");
}
