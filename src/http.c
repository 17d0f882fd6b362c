/*
 * http.c: the relay's HTTP endpoints: /healthz and the static files of
 * web_root (the test page).  A file is served only once realpath() shows it
 * lies inside web_root.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <libwebsockets.h>

#include "config.h"
#include "http.h"
#include "jsonw.h"
#include "metrics.h"
#include "log.h"
#include "relay.h"
#include "worker.h"

/* Returns the MIME type for a file name. */
static const char *
http_mime(const char *file)
{
	static const struct {
		const char *ext, *type;
	} types[] = {
		{ ".html", "text/html; charset=utf-8" },
		{ ".js", "text/javascript; charset=utf-8" },
		{ ".css", "text/css; charset=utf-8" },
		{ ".json", "application/json" },
		{ ".svg", "image/svg+xml" },
		{ ".png", "image/png" },
		{ ".ico", "image/x-icon" },
		{ ".txt", "text/plain; charset=utf-8" },
	};
	const char *dot = strrchr(file, '.');
	size_t i;

	if (dot != NULL)
		for (i = 0; i < sizeof types / sizeof types[0]; i++)
			if (strcmp(dot, types[i].ext) == 0)
				return types[i].type;
	return "application/octet-stream";
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

/*
 * Sends a complete response with a body of len bytes (at most a few tens of
 * KB: lws buffers what the socket does not take at once).  Returns the
 * callback's return value.
 */
static int
http_reply_len(struct lws *wsi, unsigned int status, const char *type,
    const char *body, size_t len)
{
	unsigned char hbuf[LWS_PRE + 512];
	unsigned char *start = hbuf + LWS_PRE, *p = start,
	    *end = hbuf + sizeof hbuf - 1;
	unsigned char *b;
	int n;

	if (lws_add_http_common_headers(wsi, status, type, len, &p, end) ||
	    lws_add_http_header_by_name(wsi,
	    (const unsigned char *)"cache-control:",
	    (const unsigned char *)"no-store", 8, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end))
		return -1;
	b = malloc(LWS_PRE + len + 1);
	if (b == NULL)
		return -1;
	memcpy(b + LWS_PRE, body, len);
	n = lws_write(wsi, b + LWS_PRE, len, LWS_WRITE_HTTP_FINAL);
	free(b);
	if (n != (int)len)
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
	n = lws_serve_http_file(wsi, file, http_mime(file), NULL, 0);
	if (n < 0 || (n > 0 && lws_http_transaction_completed(wsi)))
		return -1;
	return 0;
}
