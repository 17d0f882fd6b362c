/*
 * http.h: the plain HTTP side: /healthz, /metrics, static files from
 * web_root (with validators and conditional GET), and the Origin check of
 * WebSocket upgrades (allowed_origins).
 */
#ifndef CHATRELAY_HTTP_H
#define CHATRELAY_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct lws;
struct worker;

#define HTTP_DATE_LEN 32	/* "Sun, 06 Nov 1994 08:49:37 GMT", its NUL, room */
#define HTTP_ETAG_LEN 48	/* room for the quoted ETag of any file */
#define HTTP_ORIGIN_MAX 256	/* longest Origin (or Host) the check reads */
#define HTTP_REFUSED_LOG_MS 10000	/* at most one refusal line per worker this often */

/* A worker's WebSocket upgrades refused for their Origin, not yet logged. */
struct http_refusals {
	uint32_t count;		/* refused since the last log line */
	bool logged;		/* a line has been written (logged_ms is set) */
	int64_t logged_ms;	/* loop ms of the last line */
	char origin[64];	/* the last refused Origin, made printable */
	char host[64];		/* and the Host it asked for */
};

/*
 * Answers an HTTP request for path (the decoded URI, len bytes).  Returns
 * what the lws callback should return: 0 to keep the connection, -1 to
 * close it.
 */
int http_request(struct worker *w, struct lws *wsi, const char *path,
    size_t len);

/*
 * The HTTP_CONFIRM_UPGRADE step of an upgrade to protocol `upgrade`: a
 * WebSocket upgrade whose Origin allowed_origins does not allow is answered
 * 403 and counted.  Returns what the lws callback should return: 0 to let
 * the upgrade proceed, 1 when the 403 has been sent, -1 to hang up.
 */
int http_upgrade_check(struct worker *w, struct lws *wsi, const char *upgrade);

/* Logs the refusals not logged yet, unless a line was written too recently. */
void http_tick(struct worker *w, int64_t now);

/*
 * Resolves path under root to a real file that stays inside root (no "..",
 * no symlink out).  Writes it to out and returns 0, or returns -1.
 * "/" and directories mean their index.html.
 */
int http_resolve(const char *root, const char *path, char *out, size_t outlen);

/*
 * Returns the Content-Type for a file name, by its extension (in any case);
 * text types carry charset=utf-8.  Unknown: application/octet-stream.
 */
const char *http_content_type(const char *name);

/*
 * Returns the Cache-Control of a file of that Content-Type: "no-cache" for
 * HTML (pages revalidate every time), "max-age=300" for the rest.
 */
const char *http_cache_control(const char *type);

/*
 * Writes the ETag of a file of size bytes last modified at mtime into buf
 * (len bytes, HTTP_ETAG_LEN is enough): a strong, quoted tag,
 * "SIZE-SECONDS.NANOSECONDS" in hexadecimal.  Returns 0, or -1 if it does
 * not fit.
 */
int http_etag(char *buf, size_t len, uint64_t size,
    const struct timespec *mtime);

/*
 * Returns true if the If-None-Match value inm (a comma-separated list of
 * entity tags, weak or strong, or "*") matches etag by the weak comparison
 * of RFC 9110 (a W/ prefix is ignored).
 */
bool http_etag_match(const char *inm, const char *etag);

/* Writes t as an HTTP date (IMF-fixdate) into buf, HTTP_DATE_LEN bytes. */
void http_date(time_t t, char *buf);

/*
 * Parses an HTTP date: an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"),
 * or one of the obsolete RFC 850 and asctime forms.  Returns 0 with *t
 * set, or -1 for anything else.
 */
int http_date_parse(const char *s, time_t *t);

/*
 * Writes the serialized origin s (len bytes: "null", or
 * scheme://host[:port] with scheme http or https, no path) to out (outlen
 * bytes) in a form that compares with strcmp: lower case, without the
 * scheme's default port.  Returns 0, or -1 if s is no such origin.
 */
int http_origin_norm(const char *s, size_t len, char *out, size_t outlen);

/*
 * Returns true if a WebSocket upgrade carrying Origin origin (NULL when the
 * request has none: not a browser) may proceed on a listener serving
 * http:// (tls false) or https://, asked for Host host (NULL if absent).
 * It may when there is no Origin, when the Origin is the listener's own
 * (its scheme, and the Host), or when allowed (allowed_origins: a comma-
 * separated list of origins, or "*" for any) lists it.
 */
bool http_origin_allowed(const char *allowed, const char *origin,
    const char *host, bool tls);

#endif
