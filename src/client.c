/*
 * client.c: a connection's outbound queue, its flushing, and closing it.
 *
 * Writes bypass lws's one-frame-per-WRITEABLE path: frames are already
 * complete WebSocket frames, so they are copied back to back into the
 * worker's scratch buffer and handed to lws as raw bytes (LWS_WRITE_HTTP,
 * which lws sends untouched on a ws connection).  lws never returns a short
 * write; what the socket does not take stays in lws's buffer, and while
 * anything is there we write nothing more and wait for WRITEABLE.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <libwebsockets.h>

#include "client.h"
#include "config.h"
#include "frame.h"
#include "log.h"
#include "proto.h"
#include "reply.h"
#include "worker.h"

/* Spare queue links a worker keeps (16 bytes each) rather than freeing. */
#define QNODE_SPARE_MAX 65536

/* Returns a queue link from the worker's spares, or a new one, or NULL. */
static struct qnode *
qnode_get(struct worker *w)
{
	struct qnode *q = w->qfree;

	if (q == NULL)
		return malloc(sizeof *q);
	w->qfree = q->next;
	w->nqfree--;
	return q;
}

/* Gives a queue link back to the worker's spares (or frees it). */
static void
qnode_put(struct worker *w, struct qnode *q)
{
	if (w->nqfree >= QNODE_SPARE_MAX) {
		free(q);
		return;
	}
	q->next = w->qfree;
	w->qfree = q;
	w->nqfree++;
}

void
client_qnodes_free(struct worker *w)
{
	struct qnode *q, *next;

	for (q = w->qfree; q != NULL; q = next) {
		next = q->next;
		free(q);
	}
	w->qfree = NULL;
	w->nqfree = 0;
}

/* Appends f to the queue without any check; takes a new reference. */
static int
client_enqueue(struct client *c, struct frame *f)
{
	struct qnode *q = qnode_get(c->w);

	if (q == NULL)
		return -1;
	q->f = frame_ref(f);
	q->next = NULL;
	if (c->qtail != NULL)
		c->qtail->next = q;
	else
		c->qhead = q;
	c->qtail = q;
	c->qbytes += f->len;
	metrics_add(&c->w->stats.frames_out, 1);
	worker_want_flush(c->w, c);
	return 0;
}

int
client_send(struct client *c, struct frame *f)
{
	if (f == NULL || c->closing || c->doomed || c->wsi == NULL)
		return -1;
	if (c->qbytes + f->len > c->w->cfg->client_queue_max) {
		/*
		 * Closing now could change the room being walked by the
		 * caller: drop the queue, take nothing more, and let the
		 * flush after this loop iteration close it.
		 */
		log_info("client %llu: queue full (%u bytes), closing",
		    (unsigned long long)client_id(c), c->qbytes);
		client_queue_clear(c);
		c->doomed = true;
		worker_want_flush(c->w, c);
		return -1;
	}
	if (client_enqueue(c, f) != 0)
		return -1;
	/*
	 * A queue past half its cap is written now rather than after the
	 * loop iteration, so that a burst the socket can take does not
	 * count against a client that keeps up.
	 */
	if (c->qbytes > c->w->cfg->client_queue_max / 2)
		client_flush(c);
	return 0;
}

int
client_send_new(struct client *c, struct frame *f)
{
	int rc = client_send(c, f);

	frame_unref(f);
	return rc;
}

void
client_send_err(struct client *c, const char *id, enum errcode code,
    const char *msg)
{
	worker_count_err(c->w, code);
	client_send_new(c, reply_err(id, code, msg, -1, -1));
}

void
client_queue_clear(struct client *c)
{
	struct qnode *q, *next;

	for (q = c->qhead; q != NULL; q = next) {
		next = q->next;
		frame_unref(q->f);
		qnode_put(c->w, q);
	}
	c->qhead = c->qtail = NULL;
	c->qbytes = 0;
}

/* Removes the head of the queue. */
static void
client_dequeue(struct client *c)
{
	struct qnode *q = c->qhead;

	c->qhead = q->next;
	if (c->qhead == NULL)
		c->qtail = NULL;
	c->qbytes -= q->f->len;
	frame_unref(q->f);
	qnode_put(c->w, q);
}

/*
 * Writes n bytes of complete frames.  On a plain TCP connection with
 * nothing buffered in lws (the caller checked), they go straight to send():
 * lws's write path adds nothing then.  Whatever the socket does not take is
 * handed to lws, which buffers it and asks for POLLOUT.  Returns 0 or -1.
 */
static int
client_write(struct client *c, const uint8_t *buf, size_t n)
{
	ssize_t sent = 0;

	if (!c->w->tls) {
		sent = send(lws_get_socket_fd(c->wsi), buf, n,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
		if (sent == (ssize_t)n)
			return 0;
		if (sent < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				return -1;
			sent = 0;
		}
	}
	return lws_write(c->wsi, (unsigned char *)buf + sent, n - (size_t)sent,
	    LWS_WRITE_HTTP) < 0 ? -1 : 0;
}

int
client_flush(struct client *c)
{
	uint8_t *scratch = c->w->scratch;
	size_t n;

	if (c->wsi == NULL)
		return -1;
	while (c->qhead != NULL && !lws_partial_buffered(c->wsi)) {
		struct frame *f = c->qhead->f;

		if (f->len > WORKER_SCRATCH) {
			/* A large frame goes alone, straight from its bytes. */
			if (lws_write(c->wsi, f->data, f->len,
			    LWS_WRITE_HTTP) < 0)
				goto failed;
			metrics_add(&c->w->stats.bytes_out, f->len);
			client_dequeue(c);
			continue;
		}
		n = 0;
		while (c->qhead != NULL && c->qhead->f->len <= WORKER_SCRATCH - n) {
			f = c->qhead->f;
			memcpy(scratch + n, f->data, f->len);
			n += f->len;
			client_dequeue(c);
		}
		if (client_write(c, scratch, n) < 0)
			goto failed;
		metrics_add(&c->w->stats.bytes_out, n);
	}
	return 0;

failed:
	log_debug("client %llu: write failed", (unsigned long long)client_id(c));
	client_queue_clear(c);
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_ACK, LWS_TO_KILL_ASYNC);
	return -1;
}

void
client_peer(struct lws *wsi, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof ss;
	char ip[INET6_ADDRSTRLEN];
	int fd = wsi != NULL ? lws_get_socket_fd(wsi) : -1;

	snprintf(buf, len, "-");
	if (fd < 0 || getpeername(fd, (struct sockaddr *)&ss, &sl) != 0)
		return;
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;

		if (inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip) != NULL)
			snprintf(buf, len, "%s:%u", ip, ntohs(in->sin_port));
	} else if (ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
		    (const struct sockaddr_in6 *)&ss;

		if (inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip) != NULL)
			snprintf(buf, len, "[%s]:%u", ip,
			    ntohs(in6->sin6_port));
	}
}

void
client_log_end(const struct client *c, int code, const char *reason,
    const char *by)
{
	struct log_field f[6];
	size_t n = 0;

	if (!log_on(LOG_INFO))
		return;
	f[n++] = (struct log_field)LOG_NUM("session", client_id(c));
	if (c->uid[0] != '\0')
		f[n++] = (struct log_field)LOG_STR("user", c->uid);
	f[n++] = (struct log_field)LOG_NUM("code", code);
	f[n++] = (struct log_field)LOG_STR("reason", reason);
	f[n++] = (struct log_field)LOG_STR("by", by);
	f[n++] = (struct log_field)LOG_NUM("duration_ms",
	    (uint32_t)((uint32_t)worker_now(c->w) - c->connected_ms));
	log_event(LOG_INFO, "disconnect", f, n);
}

void
client_close(struct client *c, int code, const char *reason, bool drop_queue,
    int64_t reconnect_ms)
{
	struct frame *bye, *cf;

	if (c->closing)
		return;
	client_log_end(c, code, reason, "relay");
	c->w->hooks->client_detach(c);
	if (drop_queue)
		client_queue_clear(c);
	c->closing = true;
	c->close_reason = (uint8_t)metrics_close_reason(code, c->doomed);
	if (c->wsi == NULL)
		return;
	if (c->paused) {
		/* Read again, or the peer's answering CLOSE would go unseen. */
		lws_rx_flow_control(c->wsi, 1);
		c->paused = false;
	}
	bye = reply_bye(code, reason, reconnect_ms);
	cf = frame_close((uint16_t)code, reason);
	if (bye != NULL)
		client_enqueue(c, bye);
	if (cf != NULL)
		client_enqueue(c, cf);
	frame_unref(bye);
	frame_unref(cf);
	/* The peer has this long to answer our CLOSE before lws drops it. */
	lws_set_timeout(c->wsi, PENDING_TIMEOUT_CLOSE_ACK, 3);
}

void
client_peer_closed(struct client *c, int code, const char *reason)
{
	client_log_end(c, code, reason, "client");
	c->w->hooks->client_detach(c);
	client_queue_clear(c);
	c->closing = true;
}
