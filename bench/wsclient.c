/*
 * wsclient.c: the bench's WebSocket client: non-blocking connect, HTTP
 * upgrade, masked client frames, server frames with 7/16/64-bit lengths,
 * fragmentation, ping/pong and close, on one epoll loop.
 *
 * Reads go into one shared scratch buffer; only a frame cut in two by a read
 * is copied into the connection's own buffer, so an idle connection holds no
 * receive memory.  Writes are appended to a per-connection queue and written
 * when the loop flushes, so the frames one batch of events produces leave in
 * a single write.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <openssl/sha.h>

#include "b64.h"
#include "wsclient.h"

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define SCRATCH_SIZE	(256u << 10)
#define HTTP_MAX	8192		/* longest upgrade response accepted */
#define OUT_KEEP	(64u << 10)	/* an empty queue bigger than this is freed */
#define EVENTS_MAX	1024

#define OP_CONT		0x0
#define OP_TEXT		0x1
#define OP_BINARY	0x2
#define OP_CLOSE	0x8
#define OP_PING		0x9
#define OP_PONG		0xa

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

uint64_t
ws_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* xorshift64*: masks need not be strong here, only varied and cheap. */
static uint64_t
rng_next(struct ws_loop *l)
{
	uint64_t x = l->rng;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	l->rng = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* Makes room for n more bytes in b.  Returns 0, or -1 when out of memory. */
static int
buf_reserve(struct ws_buf *b, size_t n)
{
	size_t want = (size_t)b->len + n, cap = b->cap ? b->cap : 256;
	char *p;

	if (want <= b->cap)
		return 0;
	if (want > UINT32_MAX)
		return -1;
	while (cap < want)
		cap *= 2;
	if (cap > UINT32_MAX)
		cap = UINT32_MAX;
	p = realloc(b->p, cap);
	if (p == NULL)
		return -1;
	b->p = p;
	b->cap = (uint32_t)cap;
	return 0;
}

/* Frees b's memory. */
static void
buf_free(struct ws_buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Registers the events c needs: always input, output while some is queued. */
static void
conn_want(struct ws_loop *l, struct ws_conn *c, bool out)
{
	struct epoll_event ev;

	if (c->want_out == out)
		return;
	ev.events = EPOLLIN | (out ? EPOLLOUT : 0);
	ev.data.ptr = c;
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->want_out = out;
}

/* Closes c's socket and frees its buffers; c becomes CLOSED. */
static void
conn_release(struct ws_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = WS_CLOSED;
	c->frag_op = 0;
	c->out_off = 0;
	buf_free(&c->in);
	buf_free(&c->out);
	buf_free(&c->frag);
}

/* Copies n bytes from src to dst, XORed with the 4-byte mask m. */
static void
mask_copy(char *dst, const char *src, size_t n, const unsigned char m[4])
{
	unsigned char m8[8];
	uint64_t mm, v;
	size_t i = 0;

	memcpy(m8, m, 4);
	memcpy(m8 + 4, m, 4);
	memcpy(&mm, m8, 8);
	for (; i + 8 <= n; i += 8) {
		memcpy(&v, src + i, 8);
		v ^= mm;
		memcpy(dst + i, &v, 8);
	}
	for (; i < n; i++)
		dst[i] = (char)(src[i] ^ m[i & 3]);
}

/* Appends a masked frame; returns 0 or -1 when out of memory. */
static int
queue_frame(struct ws_loop *l, struct ws_conn *c, int op, const char *p,
    size_t n)
{
	unsigned char *h;
	uint64_t r;
	size_t hl;

	/* Drop what was written before growing, so the queue stays bounded. */
	if (c->out_off > 0 && (c->out_off == c->out.len ||
	    (size_t)c->out.len + n + 14 > c->out.cap)) {
		memmove(c->out.p, c->out.p + c->out_off,
		    c->out.len - c->out_off);
		c->out.len -= c->out_off;
		c->out_off = 0;
	}
	if (buf_reserve(&c->out, n + 14) != 0)
		return -1;
	h = (unsigned char *)c->out.p + c->out.len;
	h[0] = (unsigned char)(0x80 | op);
	if (n < 126) {
		h[1] = (unsigned char)(0x80 | n);
		hl = 2;
	} else if (n <= 0xffff) {
		h[1] = 0x80 | 126;
		h[2] = (unsigned char)(n >> 8);
		h[3] = (unsigned char)n;
		hl = 4;
	} else {
		int i;

		h[1] = 0x80 | 127;
		for (i = 0; i < 8; i++)
			h[2 + i] = (unsigned char)((uint64_t)n >> (56 - 8 * i));
		hl = 10;
	}
	r = rng_next(l);
	memcpy(h + hl, &r, 4);
	mask_copy((char *)h + hl + 4, p, n, h + hl);
	c->out.len += (uint32_t)(hl + 4 + n);
	if (!c->dirty) {
		c->dirty = 1;
		c->next_dirty = l->dirty;
		l->dirty = c;
	}
	return 0;
}

/* Ends c because of an error and tells the handler. */
static void
conn_fail(struct ws_loop *l, struct ws_conn *c, int code, const char *why)
{
	if (c->state == WS_OPEN && code != 1006) {
		char body[2] = { (char)(code >> 8), (char)code };

		if (queue_frame(l, c, OP_CLOSE, body, 2) == 0)
			(void)send(c->fd, c->out.p + c->out_off,
			    c->out.len - c->out_off, MSG_NOSIGNAL);
	}
	conn_release(c);
	l->h->closed(c, code, why, l->ctx);
}

/* Writes c's queue until done or the socket is full. */
static void
conn_flush(struct ws_loop *l, struct ws_conn *c)
{
	while (c->out_off < c->out.len) {
		ssize_t n = send(c->fd, c->out.p + c->out_off,
		    c->out.len - c->out_off, MSG_NOSIGNAL);

		if (n > 0) {
			c->out_off += (uint32_t)n;
			l->bytes_out += (uint64_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			conn_want(l, c, true);
			return;
		} else {
			char why[128];

			snprintf(why, sizeof(why), "write: %s",
			    n < 0 ? strerror(errno) : "nothing written");
			conn_fail(l, c, 1006, why);
			return;
		}
	}
	c->out.len = c->out_off = 0;
	if (c->out.cap > OUT_KEEP)
		buf_free(&c->out);
	conn_want(l, c, false);
}

void
ws_flush(struct ws_loop *l)
{
	struct ws_conn *c;

	while ((c = l->dirty) != NULL) {
		l->dirty = c->next_dirty;
		c->dirty = 0;
		c->next_dirty = NULL;
		if (c->state >= WS_HANDSHAKE && c->state != WS_CLOSED)
			conn_flush(l, c);
	}
}

int
ws_loop_init(struct ws_loop *l, const struct ws_handler *h, void *ctx)
{
	memset(l, 0, sizeof(*l));
	l->h = h;
	l->ctx = ctx;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return -errno;
	l->scratch_size = SCRATCH_SIZE;
	l->scratch = malloc(l->scratch_size);
	if (l->scratch == NULL) {
		close(l->epfd);
		return -ENOMEM;
	}
	l->rng = ws_now() ^ ((uint64_t)getpid() << 32) ^ 0x9E3779B97F4A7C15ULL;
	if (l->rng == 0)
		l->rng = 1;
	return 0;
}

void
ws_loop_free(struct ws_loop *l)
{
	if (l->epfd >= 0)
		close(l->epfd);
	l->epfd = -1;
	free(l->scratch);
	l->scratch = NULL;
}

int
ws_connect(struct ws_loop *l, struct ws_conn *c, const struct sockaddr_in *dst,
    const struct sockaddr_in *src, const char *host, const char *path)
{
	unsigned char nonce[16], digest[SHA_DIGEST_LENGTH];
	char key[B64_ENCODED_SIZE(16)], keyguid[64], req[1024];
	struct epoll_event ev;
	uint64_t r1, r2;
	int fd, one = 1, len, err;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	r1 = rng_next(l);
	r2 = rng_next(l);
	memcpy(nonce, &r1, 8);
	memcpy(nonce + 8, &r2, 8);
	b64_encode(nonce, sizeof(nonce), key, false);
	len = snprintf(keyguid, sizeof(keyguid), "%s%s", key, ws_guid);
	SHA1((const unsigned char *)keyguid, (size_t)len, digest);
	b64_encode(digest, sizeof(digest), c->accept, false);
	len = snprintf(req, sizeof(req),
	    "GET %s HTTP/1.1\r\n"
	    "Host: %s\r\n"
	    "Upgrade: websocket\r\n"
	    "Connection: Upgrade\r\n"
	    "Sec-WebSocket-Key: %s\r\n"
	    "Sec-WebSocket-Version: 13\r\n"
	    "User-Agent: chatrelay-bench\r\n"
	    "\r\n", path, host, key);
	if (len < 0 || (size_t)len >= sizeof(req))
		return -ENAMETOOLONG;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (src != NULL) {
		/* Pick the port at connect(), per destination, not at bind(). */
		(void)setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one,
		    sizeof(one));
		if (bind(fd, (const struct sockaddr *)src, sizeof(*src)) != 0)
			goto fail;
	}
	if (connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) != 0 &&
	    errno != EINPROGRESS)
		goto fail;
	ev.events = EPOLLIN | EPOLLOUT;
	ev.data.ptr = c;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
		goto fail;
	c->fd = fd;
	c->want_out = 1;
	c->state = WS_CONNECTING;
	if (buf_reserve(&c->out, (size_t)len) != 0) {
		conn_release(c);
		return -ENOMEM;
	}
	memcpy(c->out.p, req, (size_t)len);
	c->out.len = (uint32_t)len;
	return 0;
fail:
	err = errno;
	close(fd);
	return -err;
}

int
ws_send_text(struct ws_loop *l, struct ws_conn *c, const char *p, size_t n)
{
	if (c->state != WS_OPEN || n > WS_MESSAGE_MAX)
		return -1;
	if (queue_frame(l, c, OP_TEXT, p, n) != 0)
		return -1;
	return 0;
}

void
ws_close(struct ws_loop *l, struct ws_conn *c, int code)
{
	if (c->state == WS_IDLE || c->state == WS_CLOSED)
		return;
	if (c->state == WS_OPEN) {
		char body[2] = { (char)(code >> 8), (char)code };

		if (queue_frame(l, c, OP_CLOSE, body, 2) == 0)
			(void)send(c->fd, c->out.p + c->out_off,
			    c->out.len - c->out_off, MSG_NOSIGNAL);
	}
	conn_release(c);
}

/* The TCP connect finished (or failed): send the upgrade request. */
static void
on_connected(struct ws_loop *l, struct ws_conn *c)
{
	int err = 0;
	socklen_t el = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
		err = errno;
	if (err != 0) {
		char why[128];

		snprintf(why, sizeof(why), "connect: %s", strerror(err));
		conn_fail(l, c, 1006, why);
		return;
	}
	c->state = WS_HANDSHAKE;
	conn_flush(l, c);
}

/* Returns the value of header name (NUL-terminated in place) or NULL. */
static char *
http_header(char *head, const char *name)
{
	size_t nl = strlen(name);
	char *line = strstr(head, "\r\n");

	while (line != NULL && line[2] != '\r') {
		char *v, *e;

		line += 2;
		e = strstr(line, "\r\n");
		if (e == NULL)
			return NULL;
		if ((size_t)(e - line) > nl && line[nl] == ':' &&
		    strncasecmp(line, name, nl) == 0) {
			v = line + nl + 1;
			while (*v == ' ' || *v == '\t')
				v++;
			while (e > v && (e[-1] == ' ' || e[-1] == '\t'))
				e--;
			*e = '\0';
			return v;
		}
		line = e;
	}
	return NULL;
}

static ssize_t parse_frames(struct ws_loop *l, struct ws_conn *c, char *p,
    size_t n, uint64_t now);

/* Reads the upgrade response; on 101 with the right accept, opens c. */
static void
conn_read_handshake(struct ws_loop *l, struct ws_conn *c)
{
	char why[192], *end, *accept;
	size_t head_len, rest;
	ssize_t n;

	if (buf_reserve(&c->in, 2048) != 0) {
		conn_fail(l, c, 1006, "out of memory");
		return;
	}
	n = read(c->fd, c->in.p + c->in.len, c->in.cap - c->in.len - 1);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		snprintf(why, sizeof(why), "handshake: %s",
		    n == 0 ? "connection closed by the server" :
		    strerror(errno));
		conn_fail(l, c, 1006, why);
		return;
	}
	l->bytes_in += (uint64_t)n;
	c->in.len += (uint32_t)n;
	c->in.p[c->in.len] = '\0';
	end = strstr(c->in.p, "\r\n\r\n");
	if (end == NULL) {
		if (c->in.len >= HTTP_MAX)
			conn_fail(l, c, 1002, "handshake: response too long");
		return;
	}
	head_len = (size_t)(end - c->in.p) + 4;
	end[2] = '\0';
	if (strncmp(c->in.p, "HTTP/1.1 101", 12) != 0) {
		char *eol = strstr(c->in.p, "\r\n");

		if (eol != NULL)
			*eol = '\0';
		snprintf(why, sizeof(why), "handshake: the server answered "
		    "\"%.120s\"", c->in.p);
		conn_fail(l, c, 1006, why);
		return;
	}
	accept = http_header(c->in.p, "Sec-WebSocket-Accept");
	if (accept == NULL || strcmp(accept, c->accept) != 0) {
		conn_fail(l, c, 1002, "handshake: bad Sec-WebSocket-Accept");
		return;
	}
	rest = c->in.len - head_len;
	memmove(c->in.p, c->in.p + head_len, rest);
	c->in.len = (uint32_t)rest;
	if (rest == 0)
		buf_free(&c->in);	/* idle connections hold no buffer */
	c->state = WS_OPEN;
	l->h->open(c, l->ctx);
	if (c->state == WS_OPEN && c->in.len > 0) {
		ssize_t used = parse_frames(l, c, c->in.p, c->in.len, ws_now());

		if (used < 0)
			return;
		memmove(c->in.p, c->in.p + used, c->in.len - (size_t)used);
		c->in.len -= (uint32_t)used;
	}
}

/* Handles a CLOSE from the server: echo it, end c, tell the handler. */
static void
on_close_frame(struct ws_loop *l, struct ws_conn *c, const char *p, size_t n)
{
	char why[128];
	int code = 1005;

	if (n >= 2)
		code = ((unsigned char)p[0] << 8) | (unsigned char)p[1];
	snprintf(why, sizeof(why), "closed by the server: %d %.*s", code,
	    n > 2 ? (int)(n - 2 > 100 ? 100 : n - 2) : 0, n > 2 ? p + 2 : "");
	if (queue_frame(l, c, OP_CLOSE, p, n >= 2 ? 2 : 0) == 0)
		(void)send(c->fd, c->out.p + c->out_off,
		    c->out.len - c->out_off, MSG_NOSIGNAL);
	conn_release(c);
	l->h->closed(c, code, why, l->ctx);
}

/*
 * Handles every complete frame in p[0..n).  Returns the bytes used (a
 * trailing partial frame is left), or -1 if c was closed meanwhile.
 */
static ssize_t
parse_frames(struct ws_loop *l, struct ws_conn *c, char *p, size_t n,
    uint64_t now)
{
	size_t off = 0;

	while (n - off >= 2) {
		unsigned char b0 = (unsigned char)p[off];
		unsigned char b1 = (unsigned char)p[off + 1];
		uint64_t len = b1 & 0x7f;
		size_t hl = 2;
		int op = b0 & 0x0f;
		bool fin = (b0 & 0x80) != 0;
		char *pl;

		if (b1 & 0x80) {
			conn_fail(l, c, 1002, "protocol: masked server frame");
			return -1;
		}
		if (b0 & 0x70) {
			conn_fail(l, c, 1002, "protocol: RSV bits set");
			return -1;
		}
		if (len == 126) {
			if (n - off < 4)
				break;
			len = ((uint64_t)(unsigned char)p[off + 2] << 8) |
			    (unsigned char)p[off + 3];
			hl = 4;
		} else if (len == 127) {
			int i;

			if (n - off < 10)
				break;
			len = 0;
			for (i = 0; i < 8; i++)
				len = len << 8 | (unsigned char)p[off + 2 + i];
			hl = 10;
		}
		if (len > WS_MESSAGE_MAX) {
			conn_fail(l, c, 1009, "protocol: frame too big");
			return -1;
		}
		if (n - off - hl < len)
			break;
		pl = p + off + hl;
		l->frames_in++;
		switch (op) {
		case OP_TEXT:
		case OP_BINARY:
			if (c->frag_op != 0) {
				conn_fail(l, c, 1002, "protocol: new message "
				    "inside a fragmented one");
				return -1;
			}
			if (fin) {
				if (op == OP_TEXT)
					l->h->text(c, pl, (size_t)len, now,
					    l->ctx);
				break;
			}
			c->frag_op = (uint8_t)op;
			c->frag.len = 0;
			/* FALLTHROUGH */
		case OP_CONT:
			if (c->frag_op == 0) {
				conn_fail(l, c, 1002,
				    "protocol: stray continuation frame");
				return -1;
			}
			if (c->frag.len + len > WS_MESSAGE_MAX ||
			    buf_reserve(&c->frag, (size_t)len) != 0) {
				conn_fail(l, c, 1009,
				    "protocol: message too big");
				return -1;
			}
			memcpy(c->frag.p + c->frag.len, pl, (size_t)len);
			c->frag.len += (uint32_t)len;
			if (fin) {
				int fop = c->frag_op;

				c->frag_op = 0;
				if (fop == OP_TEXT)
					l->h->text(c, c->frag.p, c->frag.len,
					    now, l->ctx);
				if (c->state == WS_OPEN)
					buf_free(&c->frag);
			}
			break;
		case OP_CLOSE:
			on_close_frame(l, c, pl, (size_t)len);
			return -1;
		case OP_PING:
			if (!fin || len > 125) {
				conn_fail(l, c, 1002, "protocol: bad ping");
				return -1;
			}
			if (queue_frame(l, c, OP_PONG, pl, (size_t)len) != 0) {
				conn_fail(l, c, 1006, "out of memory");
				return -1;
			}
			break;
		case OP_PONG:
			break;
		default:
			conn_fail(l, c, 1002, "protocol: unknown opcode");
			return -1;
		}
		if (c->state != WS_OPEN)
			return -1;
		off += hl + (size_t)len;
	}
	return (ssize_t)off;
}

/* Reports a failed or finished read on an open connection. */
static void
read_failed(struct ws_loop *l, struct ws_conn *c, ssize_t n)
{
	char why[128];

	snprintf(why, sizeof(why), "read: %s",
	    n == 0 ? "connection closed by the server without a close frame" :
	    strerror(errno));
	conn_fail(l, c, 1006, why);
}

/* Reads once from an open connection and handles what arrived. */
static void
conn_read_open(struct ws_loop *l, struct ws_conn *c)
{
	size_t have = c->in.len, total;
	ssize_t n, used;

	if (have > l->scratch_size / 2) {
		/* A frame larger than half the scratch grows in place. */
		if (buf_reserve(&c->in, 64u << 10) != 0) {
			conn_fail(l, c, 1006, "out of memory");
			return;
		}
		n = read(c->fd, c->in.p + have, c->in.cap - have);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			read_failed(l, c, n);
			return;
		}
		l->bytes_in += (uint64_t)n;
		c->in.len += (uint32_t)n;
		used = parse_frames(l, c, c->in.p, c->in.len, ws_now());
		if (used < 0)
			return;
		memmove(c->in.p, c->in.p + used, c->in.len - (size_t)used);
		c->in.len -= (uint32_t)used;
		return;
	}
	if (have > 0)
		memcpy(l->scratch, c->in.p, have);
	n = read(c->fd, l->scratch + have, l->scratch_size - have);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		read_failed(l, c, n);
		return;
	}
	l->bytes_in += (uint64_t)n;
	total = have + (size_t)n;
	used = parse_frames(l, c, l->scratch, total, ws_now());
	if (used < 0)
		return;
	c->in.len = 0;
	if ((size_t)used < total) {
		if (buf_reserve(&c->in, total - (size_t)used) != 0) {
			conn_fail(l, c, 1006, "out of memory");
			return;
		}
		memcpy(c->in.p, l->scratch + used, total - (size_t)used);
		c->in.len = (uint32_t)(total - (size_t)used);
	} else if (c->in.cap > OUT_KEEP) {
		buf_free(&c->in);
	}
}

int
ws_poll(struct ws_loop *l, int timeout_ms)
{
	struct epoll_event evs[EVENTS_MAX];
	int n, i;

	ws_flush(l);
	n = epoll_wait(l->epfd, evs, EVENTS_MAX, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		struct ws_conn *c = evs[i].data.ptr;
		uint32_t e = evs[i].events;

		switch (c->state) {
		case WS_CONNECTING:
			on_connected(l, c);
			break;
		case WS_HANDSHAKE:
			if (e & EPOLLOUT)
				conn_flush(l, c);
			if (c->state == WS_HANDSHAKE &&
			    (e & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				conn_read_handshake(l, c);
			break;
		case WS_OPEN:
			if (e & EPOLLOUT)
				conn_flush(l, c);
			if (c->state == WS_OPEN &&
			    (e & (EPOLLIN | EPOLLHUP | EPOLLERR)))
				conn_read_open(l, c);
			break;
		default:
			break;
		}
	}
	ws_flush(l);
	return n;
}
