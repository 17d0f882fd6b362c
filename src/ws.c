/*
 * ws.c: the lws callback.  Each case does one lifecycle step and calls a
 * named function: admit or refuse the upgrade (its Origin is checked by
 * http.c), set the client up, reassemble and check what it receives, flush
 * when writable, free when closed.  HTTP requests go to http.c.
 */
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "client.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "utf8.h"
#include "worker.h"
#include "ws.h"

/*
 * The relay's client of a connection is lws's opaque user data of its wsi
 * (no per-session allocation: per_session_data_size is 0).
 */
static struct client *
ws_client(struct lws *wsi)
{
	return lws_get_opaque_user_data(wsi);
}

/* Returns the worker that owns wsi's context. */
static struct worker *
ws_worker(struct lws *wsi)
{
	return lws_context_user(lws_get_context(wsi));
}

/* Returns 1 for /ws, 2 for /admin, 0 for any other path. */
static int
ws_path_kind(struct lws *wsi)
{
	char uri[128];
	int n = lws_hdr_copy(wsi, uri, sizeof uri, WSI_TOKEN_GET_URI);

	if (n <= 0)
		return 0;
	if (strcmp(uri, "/ws") == 0 || strcmp(uri, "/ws/") == 0)
		return 1;
	if (strcmp(uri, "/admin") == 0 || strcmp(uri, "/admin/") == 0)
		return 2;
	return 0;
}

/* Sets up the client of a new connection; returns -1 to refuse it. */
static int
ws_established(struct lws *wsi)
{
	struct client *c;
	struct worker *w = ws_worker(wsi);
	char tokbuf[AUTH_TOKEN_MAX + 16];
	const char *token;
	int kind = ws_path_kind(wsi);

	if (kind == 0 || w->draining)
		return -1;
	token = lws_get_urlarg_by_name(wsi, "token=", tokbuf, sizeof tokbuf);
	c = w->hooks->client_open(w, wsi, kind == 2, token);
	lws_set_opaque_user_data(wsi, c);
	return c != NULL ? 0 : -1;
}

/*
 * Takes a piece of a received message.  Enforces frame_max (per frame, from
 * what lws says remains of it) and message_max (per reassembled message),
 * refuses binary frames, and hands each complete, valid UTF-8 message to the
 * session.  Returns 0; problems close the client with the protocol's code.
 */
static int
ws_receive(struct lws *wsi, struct client *c, const char *in, size_t len)
{
	const struct config *cfg = c->w->cfg;
	size_t remaining = lws_remaining_packet_payload(wsi);
	bool final = lws_is_final_fragment(wsi);
	const char *msg;
	size_t mlen;

	if (c->closing || c->doomed)
		return 0;
	if (lws_frame_is_binary(wsi)) {
		client_close(c, 1003, "binary frames are not accepted", true,
		    -1);
		return 0;
	}
	c->frame_rx += (uint32_t)len;
	if (c->frame_rx + remaining > (size_t)cfg->frame_max) {
		client_close(c, 1009, "frame too big", true, -1);
		return 0;
	}
	if (remaining == 0)
		c->frame_rx = 0;

	if (final && c->rx_len == 0) {
		msg = in;	/* the common case: one frame, one piece */
		mlen = len;
	} else {
		if (c->rx_len + len > (size_t)cfg->message_max) {
			client_close(c, 1009, "message too big", true, -1);
			return 0;
		}
		if (c->rx_len + len > c->rx_cap) {
			uint32_t cap = c->rx_len + (uint32_t)len + 256;
			char *p = realloc(c->rx, cap);

			if (p == NULL) {
				client_close(c, 1011, "out of memory", true, -1);
				return 0;
			}
			c->rx = p;
			c->rx_cap = cap;
		}
		memcpy(c->rx + c->rx_len, in, len);
		c->rx_len += (uint32_t)len;
		if (!final)
			return 0;
		msg = c->rx;
		mlen = c->rx_len;
	}

	c->last_rx_ms = (uint32_t)worker_now(c->w);
	c->ping_out = false;
	metrics_add(&c->w->stats.frames_in, 1);
	worker_input(c->w);
	metrics_add(&c->w->stats.bytes_in, mlen);
	if (!utf8_valid(msg, mlen))
		client_close(c, 1007, "invalid UTF-8", true, -1);
	else
		c->w->hooks->client_message(c, msg, mlen);
	if (msg == c->rx) {
		free(c->rx);
		c->rx = NULL;
		c->rx_len = c->rx_cap = 0;
	}
	return 0;
}

/*
 * The peer's CLOSE (in: its payload, len bytes: a 2-byte code, then the
 * reason) came first: hands its code and reason to the client.
 */
static void
ws_peer_closed(struct client *c, const void *in, size_t len)
{
	const unsigned char *p = in;
	char reason[124];
	int code = 1005;	/* "no status received" (RFC 6455 7.4.1) */

	reason[0] = '\0';
	if (p != NULL && len >= 2) {
		code = p[0] << 8 | p[1];
		len -= 2;
		if (len > sizeof reason - 1)
			len = sizeof reason - 1;
		memcpy(reason, p + 2, len);
		reason[len] = '\0';
	}
	client_peer_closed(c, code, reason);
}

static int
callback_chatrelay(struct lws *wsi, enum lws_callback_reasons reason,
    void *user, void *in, size_t len)
{
	struct client *c = wsi != NULL ? ws_client(wsi) : NULL;

	switch (reason) {
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		/* A browser's upgrade from a foreign origin: 403, no WebSocket. */
		return http_upgrade_check(ws_worker(wsi), wsi, in);

	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		/* Only /ws and /admin upgrade. */
		return ws_path_kind(wsi) == 0 ? -1 : 0;

	case LWS_CALLBACK_ESTABLISHED:
		return ws_established(wsi);

	case LWS_CALLBACK_RECEIVE:
		if (c == NULL)
			return -1;
		return ws_receive(wsi, c, in, len);

	case LWS_CALLBACK_RECEIVE_PONG:
		if (c != NULL) {
			c->last_rx_ms = (uint32_t)worker_now(c->w);
			c->ping_out = false;
		}
		return 0;

	case LWS_CALLBACK_SERVER_WRITEABLE:
		/* Only after lws drained a partial write: carry on flushing. */
		if (c != NULL && c->qhead != NULL)
			return client_flush(c) < 0 ? -1 : 0;
		return 0;

	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		if (c == NULL)
			return 0;
		/* Our own CLOSE went first: this is the answer; hang up. */
		if (c->closing)
			return -1;
		/* lws answers the CLOSE; nothing of ours may follow it. */
		ws_peer_closed(c, in, len);
		return 0;

	case LWS_CALLBACK_CLOSED:
		if (c != NULL) {
			c->wsi = NULL;
			lws_set_opaque_user_data(wsi, NULL);
			c->w->hooks->client_free(c);
		}
		return 0;

	case LWS_CALLBACK_HTTP:
		return http_request(ws_worker(wsi), wsi, in, len);

	case LWS_CALLBACK_HTTP_FILE_COMPLETION:
		if (lws_http_transaction_completed(wsi))
			return -1;
		return 0;

	default:
		break;
	}
	return lws_callback_http_dummy(wsi, reason, user, in, len);
}

void
ws_protocols_init(struct lws_protocols *protos, const struct config *cfg)
{
	memset(protos, 0, 2 * sizeof *protos);
	protos[0].name = "chatrelay";
	protos[0].callback = callback_chatrelay;
	protos[0].per_session_data_size = 0;
	protos[0].rx_buffer_size = cfg->deflate ?
	    (size_t)cfg->message_max : WS_RX_BUFFER;
	protos[0].tx_packet_size = WORKER_SCRATCH;
}
