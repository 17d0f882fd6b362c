/*
 * ws.h: the lws protocol table: WebSocket connections on /ws and /admin,
 * and plain HTTP on every other path.
 */
#ifndef CHATRELAY_WS_H
#define CHATRELAY_WS_H

#include <libwebsockets.h>

/* The protocols every worker's vhost serves (NULL-terminated). */
extern const struct lws_protocols ws_protocols[];

/* lws's rx buffer per connection: small, since it dominates memory per connection. */
#define WS_RX_BUFFER 512

#endif
