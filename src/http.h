/*
 * http.h: the plain HTTP side: /healthz, and static files from web_root.
 */
#ifndef CHATRELAY_HTTP_H
#define CHATRELAY_HTTP_H

#include <stddef.h>

struct lws;
struct worker;

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

#endif
