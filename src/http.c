/*
 * http.c: the relay's HTTP side: /healthz, /metrics, the static files of
 * web_root (the test page and the console) and the Origin check of
 * WebSocket upgrades.
 *
 * A file is served only once realpath() shows it lies inside web_root.  It
 * goes out with its Content-Type, an ETag and Last-Modified, and a
 * Cache-Control that makes HTML revalidate every time and lets the rest be
 * reused for a few minutes; If-None-Match and If-Modified-Since are
 * answered 304.  A browser's WebSocket upgrade from an origin that
 * allowed_origins does not allow is answered 403 before lws accepts it.
 */
#include <limits.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <libwebsockets.h>

#include "config.h"
#include "http.h"
#include "jsonw.h"
#include "metrics.h"
#include "log.h"
#include "relay.h"
#include "worker.h"

#define HTTP_CACHE_MAX_AGE "max-age=300"	/* what is not HTML: 5 minutes */

const char *
http_content_type(const char *name)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".htm", "text/html; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".mjs", "text/javascript; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".map", "application/json" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".ico", "image/x-icon" },
		{ ".woff2", "font/woff2" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(name, '.');
	size_t i;

	if (dot != NULL && strchr(dot, '/') == NULL)
		for (i = 0; i < sizeof types / sizeof types[0]; i++)
			if (strcasecmp(dot, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
}

const char *
http_cache_control(const char *type)
{
	return strncmp(type, "text/html", 9) == 0 ? "no-cache" :
	    HTTP_CACHE_MAX_AGE;
}

int
http_etag(char *buf, size_t len, uint64_t size, const struct timespec *mtime)
{
	int n = snprintf(buf, len, "\"%" PRIx64 "-%" PRIx64 ".%lx\"", size,
	    (uint64_t)mtime->tv_sec, (unsigned long)mtime->tv_nsec);

	return n > 0 && (size_t)n < len ? 0 : -1;
}

bool
http_etag_match(const char *inm, const char *etag)
{
	size_t elen = strlen(etag);
	const char *p = inm, *q;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			return false;
		if (*p == '*')
			return true;
		if (p[0] == 'W' && p[1] == '/')
			p += 2;
		if (*p == '"' && (q = strchr(p + 1, '"')) != NULL) {
			if ((size_t)(q + 1 - p) == elen &&
			    memcmp(p, etag, elen) == 0)
				return true;
			p = q + 1;
		}
		while (*p != '\0' && *p != ',')	/* junk up to the next tag */
			p++;
	}
}

static const char http_days[7][4] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char http_months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec"
};

void
http_date(time_t t, char *buf)
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL || tm.tm_year < 0 ||
	    tm.tm_year > 9999 - 1900) {
		t = 0;			/* cannot happen with a file's mtime */
		gmtime_r(&t, &tm);
	}
	snprintf(buf, HTTP_DATE_LEN, "%s, %02d %s %04d %02d:%02d:%02d GMT",
	    http_days[tm.tm_wday], tm.tm_mday, http_months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

int
http_date_parse(const char *s, time_t *t)
{
	char wday[10], mon[4];
	struct tm tm;
	int day, year, h, m, sec, i, n = -1;

	if (sscanf(s, "%3[A-Za-z], %2d %3[A-Za-z] %4d %2d:%2d:%2d GMT%n",
	    wday, &day, mon, &year, &h, &m, &sec, &n) == 7 && n > 0 &&
	    s[n] == '\0')
		;	/* IMF-fixdate */
	else if (n = -1, sscanf(s, "%9[A-Za-z], %2d-%3[A-Za-z]-%2d "
	    "%2d:%2d:%2d GMT%n", wday, &day, mon, &year, &h, &m, &sec,
	    &n) == 7 && n > 0 && s[n] == '\0')
		year += year < 70 ? 2000 : 1900;	/* RFC 850 */
	else if (n = -1, sscanf(s, "%3[A-Za-z] %3[A-Za-z] %2d %2d:%2d:%2d "
	    "%4d%n", wday, mon, &day, &h, &m, &sec, &year, &n) == 7 &&
	    n > 0 && s[n] == '\0')
		;	/* asctime */
	else
		return -1;
	for (i = 0; i < 12 && strcmp(mon, http_months[i]) != 0; i++)
		;
	if (i == 12 || day < 1 || day > 31 || year < 1970 || h < 0 ||
	    h > 23 || m < 0 || m > 59 || sec < 0 || sec > 60)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = year - 1900;
	tm.tm_mon = i;
	tm.tm_mday = day;
	tm.tm_hour = h;
	tm.tm_min = m;
	tm.tm_sec = sec;
	*t = timegm(&tm);
	return *t == (time_t)-1 ? -1 : 0;
}

/* Returns c in lower case (ASCII only: no locale). */
static char
http_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Returns true for a byte of a host name (letters, digits, '.', '-', '_'). */
static bool
http_host_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
}

int
http_origin_norm(const char *s, size_t len, char *out, size_t outlen)
{
	const char *p, *host, *end = s + len;
	unsigned long port = 0;
	size_t skip, hlen, i;
	bool https;
	char num[8];

	if (len == 4 && memcmp(s, "null", 4) == 0) {
		if (outlen < 5)
			return -1;
		memcpy(out, "null", 5);
		return 0;
	}
	if (len > 7 && strncasecmp(s, "http://", 7) == 0)
		https = false, skip = 7;
	else if (len > 8 && strncasecmp(s, "https://", 8) == 0)
		https = true, skip = 8;
	else
		return -1;
	host = p = s + skip;
	if (*p == '[') {		/* an IPv6 literal */
		while (++p < end && ((*p >= '0' && *p <= '9') ||
		    (http_lower(*p) >= 'a' && http_lower(*p) <= 'f') ||
		    *p == ':' || *p == '.'))
			;
		if (p == end || *p != ']' || p == host + 1)
			return -1;
		p++;
	} else {
		while (p < end && http_host_char(*p))
			p++;
		if (p == host)
			return -1;
	}
	hlen = (size_t)(p - host);
	if (p < end && *p == ':') {
		for (i = 0, p++; p < end && *p >= '0' && *p <= '9' && i < 5;
		    i++, p++)
			port = port * 10 + (unsigned long)(*p - '0');
		if (i == 0 || port == 0 || port > 65535)
			return -1;
	}
	if (p != end)
		return -1;	/* a path, a user, a second port... */
	if (port == (https ? 443UL : 80UL))
		port = 0;
	num[0] = '\0';
	if (port != 0)
		snprintf(num, sizeof num, ":%lu", port);
	if (skip + hlen + strlen(num) >= outlen)
		return -1;
	memcpy(out, https ? "https://" : "http://", skip);
	for (i = 0; i < hlen; i++)
		out[skip + i] = http_lower(host[i]);
	strcpy(out + skip + hlen, num);
	return 0;
}

/*
 * Takes the next entry of the comma-separated list at *p: sets *e and *n
 * to it, trimmed of blanks, and moves *p past it.  Returns false at the
 * end of the list.
 */
static bool
http_list_next(const char **p, const char **e, size_t *n)
{
	const char *s = *p;
	size_t len;

	if (*s == '\0')
		return false;
	len = strcspn(s, ",");
	*p = s[len] == ',' ? s + len + 1 : s + len;
	while (len > 0 && (*s == ' ' || *s == '\t'))
		s++, len--;
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	*e = s;
	*n = len;
	return true;
}

bool
http_origin_allowed(const char *allowed, const char *origin,
    const char *host, bool tls)
{
	char got[HTTP_ORIGIN_MAX + 16], want[HTTP_ORIGIN_MAX + 16],
	    self[HTTP_ORIGIN_MAX + 16];
	const char *p, *e;
	size_t n;

	if (origin == NULL)
		return true;		/* not a browser */
	for (p = allowed; http_list_next(&p, &e, &n); )
		if (n == 1 && *e == '*')
			return true;	/* any, even what is no origin */
	if (http_origin_norm(origin, strlen(origin), got, sizeof got) != 0)
		return false;
	if (host != NULL && *host != '\0' && strlen(host) < HTTP_ORIGIN_MAX) {
		snprintf(self, sizeof self, "%s://%s", tls ? "https" : "http",
		    host);
		if (http_origin_norm(self, strlen(self), want,
		    sizeof want) == 0 && strcmp(want, got) == 0)
			return true;
	}
	for (p = allowed; http_list_next(&p, &e, &n); )
		if (http_origin_norm(e, n, want, sizeof want) == 0 &&
		    strcmp(want, got) == 0)
			return true;
	return false;
}

int
http_resolve(const char *root, const char *path, char *out, size_t outlen)
{
	char rroot[PATH_MAX], joined[PATH_MAX * 2], real[PATH_MAX];
	struct stat st;
	size_t rl;

	if (path[0] != '/' || strstr(path, "..") != NULL ||
	    realpath(root, rroot) == NULL)
		return -1;
	snprintf(joined, sizeof joined, "%s%s", rroot, path);
	if (realpath(joined, real) == NULL || stat(real, &st) != 0)
		return -1;
	if (S_ISDIR(st.st_mode)) {
		snprintf(joined, sizeof joined, "%s/index.html", real);
		if (realpath(joined, real) == NULL || stat(real, &st) != 0)
			return -1;
	}
	rl = strlen(rroot);
	if (!S_ISREG(st.st_mode) || strncmp(real, rroot, rl) != 0 ||
	    real[rl] != '/' || strlen(real) >= outlen)
		return -1;
	strcpy(out, real);
	return 0;
}

/* Returns true if the request is a HEAD: its answer carries no body. */
static bool
http_is_head(struct lws *wsi)
{
	return lws_hdr_total_length(wsi, WSI_TOKEN_HEAD_URI) > 0;
}

#define HTTP_HEADERS_MAX 512	/* the headers of an answer of ours */

/*
 * Writes a complete response with a body of len bytes (at most a few tens
 * of KB: lws buffers what the socket does not take at once), without the
 * body for a HEAD.  Headers and body go out in one write, so a client that
 * stops reading after the headers (or one packet) still has the body.
 * Returns 0, or -1 if the connection should be closed.  The caller
 * completes the transaction.
 */
static int
http_respond(struct lws *wsi, unsigned int status, const char *type,
    const char *body, size_t len)
{
	unsigned char *b, *start, *p, *end;
	size_t n;
	int rc = -1;

	if (http_is_head(wsi))
		body = NULL;
	b = malloc(LWS_PRE + HTTP_HEADERS_MAX + (body != NULL ? len : 0));
	if (b == NULL)
		return -1;
	start = p = b + LWS_PRE;
	end = start + HTTP_HEADERS_MAX - 1;
	if (lws_add_http_common_headers(wsi, status, type, len, &p, end) ||
	    lws_add_http_header_by_name(wsi,
	    (const unsigned char *)"cache-control:",
	    (const unsigned char *)"no-store", 8, &p, end) ||
	    lws_finalize_http_header(wsi, &p, end))
		goto out;
	if (body != NULL) {
		memcpy(p, body, len);
		p += len;
	}
	n = (size_t)(p - start);
	rc = lws_write(wsi, start, n, LWS_WRITE_HTTP_FINAL) == (int)n ? 0 : -1;
out:
	free(b);
	return rc;
}

/* Sends a complete response and ends the transaction; returns the callback's value. */
static int
http_reply_len(struct lws *wsi, unsigned int status, const char *type,
    const char *body, size_t len)
{
	if (http_respond(wsi, status, type, body, len) != 0)
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* Sends a complete response with a NUL-terminated body. */
static int
http_reply(struct lws *wsi, unsigned int status, const char *type,
    const char *body)
{
	return http_reply_len(wsi, status, type, body, strlen(body));
}

/* Adds header name (with its colon) and value at *p; returns 0 or -1. */
static int
http_header(struct lws *wsi, const char *name, const char *value,
    unsigned char **p, unsigned char *end)
{
	return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
	    (const unsigned char *)value, (int)strlen(value), p, end) ? -1 : 0;
}

/*
 * Adds what a file's 200 and 304 both carry: its validators, its
 * Cache-Control and the Date.  Returns 0, or -1 if they do not fit.
 */
static int
http_file_headers(struct lws *wsi, const char *etag, const char *lastmod,
    const char *cache, unsigned char **p, unsigned char *end)
{
	char date[HTTP_DATE_LEN];

	http_date(time(NULL), date);
	return http_header(wsi, "etag:", etag, p, end) ||
	    http_header(wsi, "last-modified:", lastmod, p, end) ||
	    http_header(wsi, "cache-control:", cache, p, end) ||
	    http_header(wsi, "date:", date, p, end) ? -1 : 0;
}

/*
 * Copies header h into buf (len bytes), trimmed of blanks.  Returns its
 * length, 0 if it is absent or empty, or -1 if it does not fit.
 */
static int
http_header_copy(struct lws *wsi, char *buf, int len, enum lws_token_indexes h)
{
	int n = lws_hdr_copy(wsi, buf, len, h);
	char *s = buf;

	if (n <= 0)
		return n;
	while (n > 0 && (buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	while (*s == ' ' || *s == '\t')
		s++, n--;
	memmove(buf, s, (size_t)n + 1);
	return n;
}

/*
 * Returns true if the validators of a GET or HEAD say the client's copy of
 * the file (etag, modified at mtime) is current: If-None-Match when it is
 * there (a list too long to read is taken as no match), or else
 * If-Modified-Since (ignored if it is no date, or one in the future).
 */
static bool
http_not_modified(struct lws *wsi, const char *etag, time_t mtime)
{
	char buf[1024];
	time_t since;
	int n;

	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) == 0 &&
	    !http_is_head(wsi))
		return false;
	n = http_header_copy(wsi, buf, sizeof buf,
	    WSI_TOKEN_HTTP_IF_NONE_MATCH);
	if (n != 0)
		return n > 0 && http_etag_match(buf, etag);
	n = http_header_copy(wsi, buf, sizeof buf,
	    WSI_TOKEN_HTTP_IF_MODIFIED_SINCE);
	if (n <= 0 || http_date_parse(buf, &since) != 0 ||
	    since > time(NULL))
		return false;
	return mtime <= since;
}

/*
 * Serves file (resolved inside web_root): 304 when the client's copy is
 * current, else the file with its headers (lws sends no body for a HEAD).
 * Returns what the lws callback should return.
 *
 * The file is stat()ed here and opened by lws just after, so a file
 * replaced in between can go out under the previous ETag once; the next
 * change of the file corrects it.
 */
static int
http_file(struct lws *wsi, const char *file)
{
	unsigned char hbuf[LWS_PRE + 512], extra[512];
	unsigned char *start = hbuf + LWS_PRE, *p = start,
	    *end = hbuf + sizeof hbuf - 1, *q = extra;
	const char *type = http_content_type(file),
	    *cache = http_cache_control(type);
	char etag[HTTP_ETAG_LEN], lastmod[HTTP_DATE_LEN];
	struct stat st;
	int n;

	if (stat(file, &st) != 0 ||
	    http_etag(etag, sizeof etag, (uint64_t)st.st_size, &st.st_mtim))
		return http_reply(wsi, 404, "text/plain", "not found\n");
	http_date(st.st_mtime, lastmod);

	if (http_not_modified(wsi, etag, st.st_mtime)) {
		if (lws_add_http_header_status(wsi, HTTP_STATUS_NOT_MODIFIED,
		    &p, end) ||
		    http_file_headers(wsi, etag, lastmod, cache, &p, end) ||
		    lws_finalize_write_http_header(wsi, start, &p, end))
			return -1;
		return lws_http_transaction_completed(wsi) ? -1 : 0;
	}

	/* lws looks for "cache-control" in these: keep them a string. */
	if (http_file_headers(wsi, etag, lastmod, cache, &q,
	    extra + sizeof extra - 1) ||
	    http_header(wsi, "x-content-type-options:", "nosniff", &q,
	    extra + sizeof extra - 1))
		return -1;
	*q = '\0';
	n = lws_serve_http_file(wsi, file, type, (const char *)extra,
	    (int)(q - extra));
	if (n < 0 || (n > 0 && lws_http_transaction_completed(wsi)))
		return -1;
	return 0;
}

int
http_request(struct worker *w, struct lws *wsi, const char *path,
    size_t len)
{
	char file[PATH_MAX], body[256];
	int n;

	if (path == NULL || strlen(path) != len)	/* a %00 in the URI */
		return http_reply(wsi, 400, "text/plain", "bad request\n");

	if (strcmp(path, "/healthz") == 0) {
		snprintf(body, sizeof body,
		    "{\"status\":\"%s\",\"node\":\"%s\",\"bus\":\"%s\"}\n",
		    w->draining ? "draining" : "ok", w->relay->node,
		    w->hooks->health(w->relay));
		return http_reply(wsi, w->draining ? 503 : 200,
		    "application/json", body);
	}
	if (strcmp(path, "/metrics") == 0) {
		struct metrics_source src = { &w->relay->workers[0].stats,
		    sizeof(struct worker), w->relay->nworkers, w->relay->node,
		    atomic_load(&w->relay->nconns) };
		struct jsonw jw;

		jsonw_init(&jw);
		metrics_render(&src, &jw);
		n = jw.failed ? http_reply(wsi, 500, "text/plain",
		    "out of memory\n") : http_reply_len(wsi, 200,
		    "text/plain; version=0.0.4", jw.buf, jw.len);
		jsonw_free(&jw);
		return n;
	}
	if (strcmp(path, "/ws") == 0 || strcmp(path, "/admin") == 0)
		return http_reply(wsi, 426, "text/plain",
		    "this path needs a WebSocket upgrade\n");
	if (http_resolve(w->cfg->web_root, path, file, sizeof file) != 0)
		return http_reply(wsi, 404, "text/plain", "not found\n");
	return http_file(wsi, file);
}

/* Copies s into out (len bytes) fit for a log line: printable, no quotes. */
static void
http_printable(char *out, size_t len, const char *s)
{
	size_t i;

	for (i = 0; i + 1 < len && s[i] != '\0'; i++)
		out[i] = (unsigned char)s[i] < 0x20 ||
		    (unsigned char)s[i] >= 0x7f || s[i] == '"' ||
		    s[i] == '\\' ? '?' : s[i];
	out[i] = '\0';
}

void
http_tick(struct worker *w, int64_t now)
{
	struct http_refusals *r = &w->refused;

	if (r->count == 0 ||
	    (r->logged && now - r->logged_ms < HTTP_REFUSED_LOG_MS))
		return;
	if (r->count == 1)
		log_info("http: refused a WebSocket upgrade from Origin "
		    "\"%s\" to Host \"%s\" (allowed_origins)", r->origin,
		    r->host);
	else
		log_info("http: refused %" PRIu32 " WebSocket upgrades for "
		    "their Origin in the last %d s, the last from \"%s\" to "
		    "Host \"%s\" (allowed_origins)", r->count,
		    HTTP_REFUSED_LOG_MS / 1000, r->origin, r->host);
	r->count = 0;
	r->logged = true;
	r->logged_ms = now;
}

int
http_upgrade_check(struct worker *w, struct lws *wsi, const char *upgrade)
{
	char origin[HTTP_ORIGIN_MAX], host[HTTP_ORIGIN_MAX];
	struct http_refusals *r = &w->refused;
	int no, nh;

	if (upgrade == NULL || strcasecmp(upgrade, "websocket") != 0)
		return 0;
	no = http_header_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN);
	if (no == 0)
		return 0;		/* no Origin: not a browser */
	nh = http_header_copy(wsi, host, sizeof host, WSI_TOKEN_HOST);
	/* An Origin too long to read ("" here) passes only "*". */
	if (http_origin_allowed(w->cfg->allowed_origins, origin,
	    nh > 0 ? host : NULL, w->tls))
		return 0;

	r->count++;
	http_printable(r->origin, sizeof r->origin, no > 0 ? origin :
	    "(too long)");
	http_printable(r->host, sizeof r->host, nh > 0 ? host : "");
	http_tick(w, worker_now(w));
	/* lws completes the transaction when the callback returns 1. */
	if (http_respond(wsi, 403, "text/plain", "origin not allowed\n",
	    19) != 0)
		return -1;
	return 1;
}
