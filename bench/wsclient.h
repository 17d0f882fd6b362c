/*
 * wsclient.h: chatrelay-bench's own WebSocket client (RFC 6455), built for
 * tens of thousands of connections on one thread with raw epoll and
 * non-blocking sockets.
 *
 * A connection goes IDLE -> CONNECTING (TCP) -> HANDSHAKE (HTTP upgrade
 * sent, waiting for 101) -> OPEN -> CLOSED.  The loop calls the handler's
 * open() once the upgrade succeeds, text() for every complete text message
 * (fragments reassembled; pings answered and pongs ignored here) and
 * closed() exactly once when a connection that was CONNECTING or later ends
 * on its own: refused, reset, closed by the server, or broken protocol.
 * Writes are queued and flushed by the loop, so sending from a callback is
 * cheap and several frames go out in one write.
 *
 * Connections are owned by the caller (typically an array that lives as long
 * as the loop), never freed by this module; a CLOSED connection may still be
 * touched by events already fetched in the same epoll batch, which skip it.
 */
#ifndef BENCH_WSCLIENT_H
#define BENCH_WSCLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>

/* Largest message (reassembled) the client accepts from the server. */
#define WS_MESSAGE_MAX	(16u << 20)

enum ws_state {
	WS_IDLE = 0,
	WS_CONNECTING,
	WS_HANDSHAKE,
	WS_OPEN,
	WS_CLOSED,
};

/* A growable byte buffer. */
struct ws_buf {
	char		*p;
	uint32_t	 len, cap;
};

struct ws_conn {
	int		 fd;
	uint8_t		 state;		/* enum ws_state */
	uint8_t		 want_out;	/* EPOLLOUT is registered */
	uint8_t		 dirty;		/* on the loop's flush list */
	uint8_t		 frag_op;	/* opcode being reassembled, or 0 */
	uint32_t	 out_off;	/* bytes of out already written */
	struct ws_buf	 in;		/* a partial frame (or HTTP response) */
	struct ws_buf	 out;		/* frames not yet written */
	struct ws_buf	 frag;		/* a fragmented message so far */
	struct ws_conn	*next_dirty;
	char		 accept[29];	/* the Sec-WebSocket-Accept expected */
};

struct ws_handler {
	/* The upgrade succeeded: the connection is OPEN. */
	void	(*open)(struct ws_conn *c, void *ctx);
	/*
	 * A complete text message; p is valid only during the call.  now is
	 * CLOCK_MONOTONIC in ns, taken when the bytes were read.
	 */
	void	(*text)(struct ws_conn *c, const char *p, size_t n, uint64_t now,
		    void *ctx);
	/*
	 * The connection ended: code is the close code the server sent, 1006
	 * when the TCP connection failed or dropped, or 1002 for a protocol
	 * error; why is a NUL-terminated explanation valid during the call.
	 */
	void	(*closed)(struct ws_conn *c, int code, const char *why, void *ctx);
};

struct ws_loop {
	int			 epfd;
	const struct ws_handler	*h;
	void			*ctx;
	char			*scratch;	/* shared read buffer */
	size_t			 scratch_size;
	struct ws_conn		*dirty;		/* connections with output */
	uint64_t		 rng;		/* masks and handshake keys */
	uint64_t		 bytes_in, bytes_out, frames_in;
};

/* Returns CLOCK_MONOTONIC in nanoseconds. */
uint64_t	ws_now(void);

/* Sets up l (epoll instance, buffers).  Returns 0 or -errno. */
int		ws_loop_init(struct ws_loop *l, const struct ws_handler *h,
		    void *ctx);

/* Releases l's own resources (not the connections). */
void		ws_loop_free(struct ws_loop *l);

/*
 * Starts connecting c (IDLE, zeroed or closed) to dst, from src's address
 * when src is not NULL, and queues the upgrade request for path (which may
 * carry a query) with the given Host header.  Returns 0, or -errno if the
 * connection could not be started; closed() is then not called.
 */
int		ws_connect(struct ws_loop *l, struct ws_conn *c,
		    const struct sockaddr_in *dst, const struct sockaddr_in *src,
		    const char *host, const char *path);

/*
 * Queues a masked text frame carrying p[0..n).  Returns 0, or -1 if c is
 * not OPEN or n is over WS_MESSAGE_MAX.
 */
int		ws_send_text(struct ws_loop *l, struct ws_conn *c, const char *p,
		    size_t n);

/* Returns the bytes queued on c and not yet written to its socket. */
static inline size_t
ws_queued(const struct ws_conn *c)
{
	return (size_t)(c->out.len - c->out_off);
}

/*
 * Waits up to timeout_ms for events, handles them (calling the handler),
 * then writes queued output.  Returns the number of events, or -errno if
 * epoll_wait failed for a reason other than a signal.
 */
int		ws_poll(struct ws_loop *l, int timeout_ms);

/* Writes the queued output of every connection that has some. */
void		ws_flush(struct ws_loop *l);

/*
 * Ends c at once: if OPEN, a close frame with code goes out on a best-effort
 * write; the socket is closed and buffers freed.  closed() is not called.
 */
void		ws_close(struct ws_loop *l, struct ws_conn *c, int code);

#endif
