/*
 * test-ws.c: tests chatrelay-bench's WebSocket client (wsclient.c) against
 * a scripted server in the same process, over real loopback sockets: the
 * upgrade, frames of 7-, 16- and 64-bit lengths, a frame cut across reads,
 * fragmentation with a ping in the middle, masking of what the client
 * sends, the closing handshake, and refusals (a bad status, a masked
 * server frame).  Exits 1 on any failure.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <openssl/sha.h>

#include "b64.h"
#include "wsclient.h"

static int failures;

#define CHECK(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
		    __LINE__, #cond);					\
		failures++;						\
	}								\
} while (0)

/* What the handler saw. */
struct seen {
	int	opened, closed, close_code, ntexts;
	char	why[256];
	char	*texts[16];
	size_t	lens[16];
};

static void
h_open(struct ws_conn *c, void *ctx)
{
	((struct seen *)ctx)->opened++;
}

static void
h_text(struct ws_conn *c, const char *p, size_t n, uint64_t now, void *ctx)
{
	struct seen *s = ctx;

	if (s->ntexts < 16) {
		s->texts[s->ntexts] = malloc(n + 1);
		memcpy(s->texts[s->ntexts], p, n);
		s->texts[s->ntexts][n] = '\0';
		s->lens[s->ntexts++] = n;
	}
}

static void
h_closed(struct ws_conn *c, int code, const char *why, void *ctx)
{
	struct seen *s = ctx;

	s->closed++;
	s->close_code = code;
	snprintf(s->why, sizeof(s->why), "%s", why);
}

static const struct ws_handler handler = { h_open, h_text, h_closed };

/* Polls the client loop a few times. */
static void
spin(struct ws_loop *l, int rounds)
{
	while (rounds-- > 0)
		ws_poll(l, 20);
}

/* Writes all of p to fd. */
static void
put(int fd, const void *p, size_t n)
{
	const char *q = p;

	while (n > 0) {
		ssize_t w = write(fd, q, n);

		if (w <= 0)
			return;
		q += w;
		n -= (size_t)w;
	}
}

/* Reads exactly n bytes from fd (which has a receive timeout). */
static bool
get(int fd, void *p, size_t n)
{
	char *q = p;

	while (n > 0) {
		ssize_t r = read(fd, q, n);

		if (r <= 0)
			return false;
		q += r;
		n -= (size_t)r;
	}
	return true;
}

/* Appends an unmasked server frame to buf; returns its length. */
static size_t
frame(char *buf, int b0, const char *p, size_t n)
{
	size_t h = 2;

	buf[0] = (char)b0;
	if (n < 126) {
		buf[1] = (char)n;
	} else if (n <= 0xffff) {
		buf[1] = 126;
		buf[2] = (char)(n >> 8);
		buf[3] = (char)n;
		h = 4;
	} else {
		int i;

		buf[1] = 127;
		for (i = 0; i < 8; i++)
			buf[2 + i] = (char)((uint64_t)n >> (56 - 8 * i));
		h = 10;
	}
	memcpy(buf + h, p, n);
	return h + n;
}

/*
 * Reads one client frame from fd: checks it is masked, unmasks it into
 * out (size outsz).  Returns the opcode, or -1.
 */
static int
read_client_frame(int fd, char *out, size_t outsz, size_t *len)
{
	unsigned char h[14], *mask;
	uint64_t n;
	size_t i, hl = 2;

	if (!get(fd, h, 2))
		return -1;
	CHECK(h[1] & 0x80);
	n = h[1] & 0x7f;
	if (n == 126) {
		if (!get(fd, h + 2, 2))
			return -1;
		n = (uint64_t)h[2] << 8 | h[3];
		hl = 4;
	} else if (n == 127) {
		if (!get(fd, h + 2, 8))
			return -1;
		n = 0;
		for (i = 0; i < 8; i++)
			n = n << 8 | h[2 + i];
		hl = 10;
	}
	if (!get(fd, h + hl, 4) || n > outsz)
		return -1;
	mask = h + hl;
	if (!get(fd, out, (size_t)n))
		return -1;
	for (i = 0; i < n; i++)
		out[i] ^= (char)mask[i & 3];
	*len = (size_t)n;
	return h[0] & 0x0f;
}

/* Accepts the client and reads its upgrade request; returns the socket. */
static int
server_accept(int lfd, struct ws_loop *l, char *accept_out)
{
	struct timeval tv = { 2, 0 };
	char req[2048], *k, *e, kg[128];
	unsigned char d[SHA_DIGEST_LENGTH];
	size_t n = 0;
	int fd;

	spin(l, 2);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	while (n < sizeof(req) - 1) {
		ssize_t r = read(fd, req + n, sizeof(req) - 1 - n);

		if (r <= 0)
			break;
		n += (size_t)r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	req[n] = '\0';
	CHECK(strncmp(req, "GET /ws?x=1 HTTP/1.1\r\n", 22) == 0);
	CHECK(strstr(req, "\r\nUpgrade: websocket\r\n") != NULL);
	CHECK(strstr(req, "\r\nSec-WebSocket-Version: 13\r\n") != NULL);
	CHECK(strstr(req, "\r\nHost: 127.0.0.1:1\r\n") != NULL);
	k = strstr(req, "Sec-WebSocket-Key: ");
	CHECK(k != NULL);
	if (k == NULL)
		return fd;
	k += 19;
	e = strstr(k, "\r\n");
	snprintf(kg, sizeof(kg), "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11",
	    (int)(e - k), k);
	SHA1((unsigned char *)kg, strlen(kg), d);
	b64_encode(d, sizeof(d), accept_out, false);
	return fd;
}

/* Opens a client connection to the listener on lfd. */
static void
client_connect(struct ws_loop *l, struct ws_conn *c, int lfd)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);

	getsockname(lfd, (struct sockaddr *)&a, &al);
	CHECK(ws_connect(l, c, &a, NULL, "127.0.0.1:1", "/ws?x=1") == 0);
	CHECK(c->state == WS_CONNECTING);
}

/* The normal life of a connection, frame by frame. */
static void
test_conversation(int lfd)
{
	static char big[70000], buf[80000];
	struct seen s = { 0 };
	struct ws_loop l;
	struct ws_conn c;
	char acc[64], resp[256], out[256];
	size_t n, len, i;
	int fd, op;

	CHECK(ws_loop_init(&l, &handler, &s) == 0);
	client_connect(&l, &c, lfd);
	fd = server_accept(lfd, &l, acc);
	CHECK(fd >= 0);

	/* The 101 and the first frames arrive in one segment. */
	n = (size_t)snprintf(resp, sizeof(resp), "HTTP/1.1 101 Switching "
	    "Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
	    "sec-websocket-accept:   %s  \r\n\r\n", acc);
	memcpy(buf, resp, n);
	n += frame(buf + n, 0x81, "hello", 5);
	memset(big, 'a', 300);
	n += frame(buf + n, 0x81, big, 300);
	put(fd, buf, n);
	spin(&l, 3);
	CHECK(s.opened == 1 && c.state == WS_OPEN);
	CHECK(s.ntexts == 2);
	CHECK(s.ntexts >= 1 && s.lens[0] == 5 && memcmp(s.texts[0], "hello",
	    5) == 0);
	CHECK(s.ntexts >= 2 && s.lens[1] == 300);

	/* A 64-bit length, cut into three writes. */
	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	n = frame(buf, 0x81, big, sizeof(big));
	put(fd, buf, 1);
	spin(&l, 2);
	put(fd, buf + 1, 5);
	spin(&l, 2);
	put(fd, buf + 6, n - 6);
	spin(&l, 5);
	CHECK(s.ntexts == 3 && s.lens[2] == sizeof(big) &&
	    memcmp(s.texts[2], big, sizeof(big)) == 0);

	/* Fragments with a ping in the middle: the ping is answered. */
	n = frame(buf, 0x01, "frag", 4);
	n += frame(buf + n, 0x89, "p1", 2);
	n += frame(buf + n, 0x00, "men", 3);
	put(fd, buf, n);
	spin(&l, 2);
	CHECK(s.ntexts == 3);
	n = frame(buf, 0x80, "ted", 3);
	n += frame(buf + n, 0x8a, "unasked pong", 12);
	put(fd, buf, n);
	spin(&l, 2);
	CHECK(s.ntexts == 4 && s.lens[3] == 10 &&
	    memcmp(s.texts[3], "fragmented", 10) == 0);
	op = read_client_frame(fd, out, sizeof(out), &len);
	CHECK(op == 0xa && len == 2 && memcmp(out, "p1", 2) == 0);

	/* What the client sends is masked; several sends, one write. */
	CHECK(ws_send_text(&l, &c, "abc", 3) == 0);
	memset(big, 'z', 200);
	CHECK(ws_send_text(&l, &c, big, 200) == 0);
	CHECK(ws_queued(&c) == 3 + 6 + 200 + 8);
	ws_flush(&l);
	CHECK(ws_queued(&c) == 0);
	op = read_client_frame(fd, out, sizeof(out), &len);
	CHECK(op == 1 && len == 3 && memcmp(out, "abc", 3) == 0);
	op = read_client_frame(fd, out, sizeof(out), &len);
	CHECK(op == 1 && len == 200 && memcmp(out, big, 200) == 0);

	/* The server closes: the client echoes the code and reports it. */
	n = frame(buf, 0x88, "\x03\xe8" "bye", 5);
	put(fd, buf, n);
	spin(&l, 2);
	CHECK(s.closed == 1 && s.close_code == 1000);
	CHECK(strstr(s.why, "1000 bye") != NULL);
	CHECK(c.state == WS_CLOSED);
	op = read_client_frame(fd, out, sizeof(out), &len);
	CHECK(op == 8 && len == 2 && out[0] == 0x03 && (unsigned char)out[1] ==
	    0xe8);
	CHECK(ws_send_text(&l, &c, "x", 1) == -1);
	close(fd);
	for (i = 0; i < (size_t)s.ntexts; i++)
		free(s.texts[i]);
	ws_loop_free(&l);
}

/* A refused upgrade and a protocol error each end the connection once. */
static void
test_refusals(int lfd)
{
	struct seen s = { 0 };
	struct ws_loop l;
	struct ws_conn c;
	char acc[64], resp[256], buf[64];
	size_t n;
	int fd;

	CHECK(ws_loop_init(&l, &handler, &s) == 0);

	client_connect(&l, &c, lfd);
	fd = server_accept(lfd, &l, acc);
	put(fd, "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 45);
	spin(&l, 2);
	CHECK(s.opened == 0 && s.closed == 1);
	CHECK(strstr(s.why, "404") != NULL);
	close(fd);

	/* A wrong accept key. */
	memset(&s, 0, sizeof(s));
	client_connect(&l, &c, lfd);
	fd = server_accept(lfd, &l, acc);
	put(fd, "HTTP/1.1 101 OK\r\nSec-WebSocket-Accept: x\r\n\r\n", 44);
	spin(&l, 2);
	CHECK(s.opened == 0 && s.closed == 1 && s.close_code == 1002);
	close(fd);

	/* A masked frame from the server. */
	memset(&s, 0, sizeof(s));
	client_connect(&l, &c, lfd);
	fd = server_accept(lfd, &l, acc);
	n = (size_t)snprintf(resp, sizeof(resp), "HTTP/1.1 101 OK\r\n"
	    "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
	put(fd, resp, n);
	spin(&l, 2);
	CHECK(s.opened == 1);
	memcpy(buf, "\x81\x81\x00\x00\x00\x00x", 7);
	put(fd, buf, 7);
	spin(&l, 2);
	CHECK(s.closed == 1 && s.close_code == 1002);
	CHECK(strstr(s.why, "masked") != NULL);
	close(fd);

	/* The server drops the connection without a close frame. */
	memset(&s, 0, sizeof(s));
	client_connect(&l, &c, lfd);
	fd = server_accept(lfd, &l, acc);
	n = (size_t)snprintf(resp, sizeof(resp), "HTTP/1.1 101 OK\r\n"
	    "Sec-WebSocket-Accept: %s\r\n\r\n", acc);
	put(fd, resp, n);
	spin(&l, 2);
	close(fd);
	spin(&l, 2);
	CHECK(s.opened == 1 && s.closed == 1 && s.close_code == 1006);

	/* Nobody listening: connect fails through closed(), once. */
	memset(&s, 0, sizeof(s));
	{
		struct sockaddr_in a;
		socklen_t al = sizeof(a);
		int tmp = socket(AF_INET, SOCK_STREAM, 0);

		memset(&a, 0, sizeof(a));
		a.sin_family = AF_INET;
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		bind(tmp, (struct sockaddr *)&a, sizeof(a));
		getsockname(tmp, (struct sockaddr *)&a, &al);
		close(tmp);
		if (ws_connect(&l, &c, &a, NULL, "h", "/ws") == 0)
			spin(&l, 3);
		else
			s.closed = 1;
		CHECK(s.closed == 1);
	}
	ws_loop_free(&l);
}

int
main(void)
{
	struct sockaddr_in a;
	int lfd = socket(AF_INET, SOCK_STREAM, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(lfd, 16) != 0) {
		perror("test-ws: listen");
		return 99;
	}
	test_conversation(lfd);
	test_refusals(lfd);
	close(lfd);
	if (failures > 0) {
		fprintf(stderr, "test-ws: %d checks failed\n", failures);
		return 1;
	}
	printf("test-ws: all checks passed\n");
	return 0;
}
