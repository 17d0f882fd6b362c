/*
 * gather-int.h: what the two halves of the moderators' questions share:
 * gather-part.c (each worker's part, and its message rates) and gather.c
 * (the asker: sending the question, merging the parts, answering).
 * Private to those files.
 */
#ifndef CHATRELAY_GATHER_INT_H
#define CHATRELAY_GATHER_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "msg.h"

struct worker;
struct cJSON;

#define RATE_SAMPLES 6		/* one a second: the rates cover 5 s */
#define RATE_PERIOD_MS 1000
#define PART_MAX 65536		/* bytes of one part */
#define PART_CHANNELS_MAX 400	/* channels in one part (of about 150 bytes at most) */
#define NODE_KEY_MAX 79

/* One instance's answer to a question, as it arrives. */
struct gnode {
	char nk[NODE_KEY_MAX + 1];
	bool expected;		/* bus_nodes named it */
	uint32_t workers;	/* its parts, as its parts say (0: none yet) */
	uint64_t seen;		/* the workers whose part arrived (bits) */
	uint32_t got;
};

struct gather {
	struct gather *next;
	int64_t qid;
	struct origin from;
	enum query_kind q;
	char user[USER_ID_MAX + 1];
	char prefix[CHAN_NAME_MAX + 1];
	int limit;
	int64_t deadline;	/* loop ms */
	bool nodes_known;
	struct gnode *nodes;
	size_t nnodes, capnodes;
	struct cJSON *parts;	/* the parts received, an array */
};

/* A worker's questions and message-rate samples (w->gathers). */
struct gathers {
	struct gather *list;
	int n;
	int64_t next_qid;
	int64_t t[RATE_SAMPLES];
	uint64_t in[RATE_SAMPLES], out[RATE_SAMPLES];
	int head, count;
};

/* w's state, made on first use; NULL if memory ran out. */
struct gathers *gather_state(struct worker *w);

/* Takes a sample of w's message counters at now (loop ms) when one is due. */
void gather_sample(struct worker *w, struct gathers *gs, int64_t now);

#endif
