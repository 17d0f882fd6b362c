/*
 * dispatch.h: the wiring between the worker (the bottom layer) and the
 * layers above it: the hooks the worker calls, including the one table
 * from inbox message type to handler.  The only module that knows every
 * consumer of every message.
 */
#ifndef CHATRELAY_DISPATCH_H
#define CHATRELAY_DISPATCH_H

struct worker;
struct imsg;
struct worker_hooks;

/* The hooks every worker of the relay runs with. */
extern const struct worker_hooks dispatch_hooks;

/* Handles inbox message m on worker w, through the table; frees m. */
void dispatch_message(struct worker *w, struct imsg *m);

#endif
