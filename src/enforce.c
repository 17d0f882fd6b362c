/*
 * enforce.c: moderation commands carried out on one worker's connections
 * (see enforce.h).
 */
#include <stdlib.h>
#include <string.h>

#include "client.h"
#include "deliver.h"
#include "enforce.h"
#include "frame.h"
#include "log.h"
#include "reply.h"
#include "worker.h"

#define KICK_REASON "kicked by a moderator"

void
enforce_kick(struct worker *w, const char *uid, const char *reason)
{
	struct client *const *conns;
	struct client **v;
	uint32_t i, n;

	conns = user_index_get(&w->users, uid, &n);
	if (n == 0)
		return;
	if (reason == NULL || reason[0] == '\0')
		reason = KICK_REASON;
	/* Closing takes each connection out of the index: close from a copy. */
	v = malloc(n * sizeof *v);
	if (v == NULL) {
		log_err("out of memory: kick of %s not done", uid);
		return;
	}
	memcpy(v, conns, n * sizeof *v);
	for (i = 0; i < n; i++)
		client_close(v[i], 4008, reason, true, -1);
	free(v);
}

void
enforce_announce(struct worker *w, const char *text, const char *ch)
{
	struct frame *f = reply_notice(text, ch);

	if (f == NULL) {
		log_err("out of memory: an announcement not delivered");
		return;
	}
	if (ch != NULL)
		deliver_channel(w, ch, f, NULL);
	else
		deliver_all(w, f);
	frame_unref(f);
}
