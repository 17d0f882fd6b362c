/*
 * http.h: the plain HTTP side: /healthz, /metrics, and static files from
 * web_root (with validators and conditional GET).
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

/*
 * Answers an HTTP request for path (the decoded URI, len bytes).  Returns
 * what the lws callback should return: 0 to keep the connection, -1 to
 * close it.
 */
int http_request(struct worker *w, struct lws *wsi, const char *path,
    size_t len);

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

#endif
