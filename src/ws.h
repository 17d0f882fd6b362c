/*
 * ws.h: the lws protocol table: WebSocket connections on /ws and /admin,
 * and plain HTTP on every other path.
 */
#ifndef CHATRELAY_WS_H
#define CHATRELAY_WS_H

#include <libwebsockets.h>

struct config;

/*
 * Fills protos[2] with the protocols every worker's vhost serves (the
 * relay's, then the terminator).  lws's rx buffer per connection is small
 * (it is most of lws's memory per idle connection) unless permessage-deflate
 * is on, whose inflater in lws 4.1.6 loses messages that span several
 * buffers.
 */
void ws_protocols_init(struct lws_protocols *protos, const struct config *cfg);

#define WS_RX_BUFFER 128

#endif
