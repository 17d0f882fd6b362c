/*
 * check_http.c: unit tests for http.c: http_resolve, which maps a request
 * path to a regular file that really lies inside web_root, and the pure
 * helpers of static files (content types, Cache-Control, ETags, HTTP dates)
 * and of the Origin check (allowed_origins).
 *
 * The web root is a mkdtemp directory made once for the suite (an unchecked
 * fixture, so it is removed even when a test fails).  Beside it, in a
 * directory whose name starts with the root's, are the files the symlinks
 * that try to escape point at: a check of the root as a mere string prefix
 * would let them through.
 */
#include <ftw.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "config.h"
#include "http.h"

#define ROOT_MAX 512		/* room for the web root's name */

static char	 root[ROOT_MAX];	/* the web root, as made */
static char	 rroot[PATH_MAX];	/* its realpath() */
static char	 outside[ROOT_MAX + 8];	/* root + "-out", beside it */

/* Makes file rel (under dir) holding text. */
static void
make_file(const char *dir, const char *rel, const char *text)
{
	char	 path[PATH_MAX];
	FILE	*f;

	snprintf(path, sizeof path, "%s/%s", dir, rel);
	f = fopen(path, "w");
	ck_assert_msg(f != NULL, "cannot create %s", path);
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

/* Makes directory rel under dir. */
static void
make_dir(const char *dir, const char *rel)
{
	char	 path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s", dir, rel);
	ck_assert_msg(mkdir(path, 0755) == 0, "cannot create %s", path);
}

/* Makes rel under dir a symlink to target. */
static void
make_link(const char *target, const char *dir, const char *rel)
{
	char	 path[PATH_MAX];

	snprintf(path, sizeof path, "%s/%s", dir, rel);
	ck_assert_msg(symlink(target, path) == 0, "cannot create %s", path);
}

/* Makes the web root and the directory beside it. */
static void
setup(void)
{
	const char	*tmp = getenv("TMPDIR");
	char		 target[PATH_MAX];

	ck_assert_int_lt(snprintf(root, sizeof root, "%s/check_http.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp"), (int)sizeof root);
	ck_assert_ptr_nonnull(mkdtemp(root));
	ck_assert_ptr_nonnull(realpath(root, rroot));
	snprintf(outside, sizeof outside, "%s-out", root);
	ck_assert_int_eq(mkdir(outside, 0700), 0);
	make_file(outside, "secret.txt", "secret\n");
	make_file(outside, "index.html", "outside\n");
	make_link(root, outside, "root-link");

	make_file(root, "index.html", "top\n");
	make_file(root, "hello.txt", "hello\n");
	make_file(root, "a%2e%2e.txt", "literal percents\n");
	make_file(root, "a%20b.txt", "literal percents\n");
	make_file(root, "notes..txt", "two dots\n");
	make_dir(root, "sub");
	make_file(root, "sub/index.html", "sub\n");
	make_file(root, "sub/page.html", "page\n");
	make_dir(root, "empty");
	make_dir(root, "dir-index");
	make_dir(root, "dir-index/index.html");
	make_dir(root, "index-out");
	snprintf(target, sizeof target, "%s/secret.txt", outside);
	make_link(target, root, "index-out/index.html");
	snprintf(target, sizeof target, "%s/fifo", root);
	ck_assert_int_eq(mkfifo(target, 0600), 0);

	make_link("hello.txt", root, "link-in");
	make_link("sub", root, "link-sub");
	snprintf(target, sizeof target, "%s/secret.txt", outside);
	make_link(target, root, "link-out");
	make_link(outside, root, "link-out-dir");
	make_link("..", root, "link-up");
	make_link("nowhere.txt", root, "dangling");
}

/* Removes path, whatever it is (nftw callback; symlinks are not followed). */
static int
remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

/* Removes the web root and the directory beside it. */
static void
teardown(void)
{
	ck_assert_int_eq(nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS), 0);
	ck_assert_int_eq(nftw(outside, remove_one, 16, FTW_DEPTH | FTW_PHYS),
	    0);
}

/* Checks that path resolves under root to the file rroot + want. */
static void
expect_file(const char *path, const char *want, int line)
{
	char	 out[PATH_MAX], full[PATH_MAX * 2];

	snprintf(full, sizeof full, "%s%s", rroot, want);
	ck_assert_msg(http_resolve(root, path, out, sizeof out) == 0,
	    "line %d: \"%s\" refused", line, path);
	ck_assert_msg(strcmp(out, full) == 0, "line %d: \"%s\" is %s, want %s",
	    line, path, out, full);
}

/* Checks that path is refused. */
static void
expect_refused(const char *path, int line)
{
	char	 out[PATH_MAX];

	ck_assert_msg(http_resolve(root, path, out, sizeof out) == -1,
	    "line %d: \"%s\" accepted", line, path);
}

#define FILE_IS(path, want) expect_file((path), (want), __LINE__)
#define REFUSED(path) expect_refused((path), __LINE__)

START_TEST(test_index)
{
	FILE_IS("/", "/index.html");
	FILE_IS("/index.html", "/index.html");
	FILE_IS("/sub", "/sub/index.html");
	FILE_IS("/sub/", "/sub/index.html");
	FILE_IS("/sub/index.html", "/sub/index.html");
}
END_TEST

START_TEST(test_plain_files)
{
	char	 out[PATH_MAX], other[PATH_MAX + 16], want[PATH_MAX * 2];

	FILE_IS("/hello.txt", "/hello.txt");
	FILE_IS("/sub/page.html", "/sub/page.html");
	FILE_IS("//hello.txt", "/hello.txt");

	/* A root given with a trailing slash, or through a symlink. */
	snprintf(want, sizeof want, "%s/hello.txt", rroot);
	snprintf(other, sizeof other, "%s/", root);
	ck_assert_int_eq(http_resolve(other, "/hello.txt", out, sizeof out),
	    0);
	ck_assert_str_eq(out, want);
	snprintf(other, sizeof other, "%s/root-link", outside);
	ck_assert_int_eq(http_resolve(other, "/hello.txt", out, sizeof out),
	    0);
	ck_assert_str_eq(out, want);
}
END_TEST

START_TEST(test_dotdot)
{
	REFUSED("..");
	REFUSED("/..");
	REFUSED("/../");
	REFUSED("/../etc/passwd");
	REFUSED("/sub/..");
	REFUSED("/sub/../hello.txt");	/* even back inside */
	REFUSED("/sub/../../etc/passwd");
	/* Any "..", even inside a name that exists. */
	REFUSED("/notes..txt");
}
END_TEST

/* The path comes decoded: names that look encoded are taken as they are. */
START_TEST(test_encoded_names)
{
	FILE_IS("/a%2e%2e.txt", "/a%2e%2e.txt");
	FILE_IS("/a%20b.txt", "/a%20b.txt");
	REFUSED("/a b.txt");
	REFUSED("/%2e%2e/etc/passwd");
	REFUSED("/%2e%2e%2fetc%2fpasswd");
	REFUSED("/hello%2etxt");
	REFUSED("/sub%2fpage.html");
}
END_TEST

START_TEST(test_not_absolute)
{
	REFUSED("");
	REFUSED("hello.txt");
	REFUSED("sub/index.html");
	REFUSED("./hello.txt");
	REFUSED("\\hello.txt");
}
END_TEST

START_TEST(test_symlinks)
{
	char	 path[PATH_MAX];

	/* Inside the root: the file it points at. */
	FILE_IS("/link-in", "/hello.txt");
	FILE_IS("/link-sub", "/sub/index.html");
	FILE_IS("/link-sub/page.html", "/sub/page.html");

	/* Out of the root, to a directory whose name starts with the root's. */
	REFUSED("/link-out");
	REFUSED("/link-out-dir");
	REFUSED("/link-out-dir/");
	REFUSED("/link-out-dir/secret.txt");
	REFUSED("/index-out");
	REFUSED("/index-out/index.html");
	/* Up and out without a ".." in the path. */
	snprintf(path, sizeof path, "/link-up/%s/hello.txt",
	    strrchr(root, '/') + 1);
	FILE_IS(path, "/hello.txt");	/* and back in: fine */
	snprintf(path, sizeof path, "/link-up/%s-out/secret.txt",
	    strrchr(root, '/') + 1);
	REFUSED(path);
	REFUSED("/link-up");
	REFUSED("/link-up/");
	/* Pointing at nothing. */
	REFUSED("/dangling");
}
END_TEST

START_TEST(test_small_buffer)
{
	char	 out[PATH_MAX + 8], want[PATH_MAX * 2];
	size_t	 n, i;

	snprintf(want, sizeof want, "%s/sub/index.html", rroot);
	n = strlen(want);
	ck_assert_uint_lt(n + 1, sizeof out);
	/* No room for the NUL: refused, and nothing written past outlen. */
	memset(out, 'Z', sizeof out);
	ck_assert_int_eq(http_resolve(root, "/sub/", out, n), -1);
	for (i = n; i < sizeof out; i++)
		ck_assert_int_eq(out[i], 'Z');
	ck_assert_int_eq(http_resolve(root, "/sub/", out, 1), -1);
	ck_assert_int_eq(http_resolve(root, "/sub/", out, 0), -1);
	/* Exactly enough. */
	ck_assert_int_eq(http_resolve(root, "/sub/", out, n + 1), 0);
	ck_assert_str_eq(out, want);
}
END_TEST

START_TEST(test_refused)
{
	char	 out[PATH_MAX], missing[PATH_MAX + 16];

	/* Missing. */
	REFUSED("/nope.html");
	REFUSED("/sub/nope.html");
	REFUSED("/nope/");
	REFUSED("/hello.txt/");		/* a file is no directory */
	/* Not a regular file, or a directory without one. */
	REFUSED("/fifo");
	REFUSED("/empty");
	REFUSED("/empty/");
	REFUSED("/dir-index");		/* index.html is a directory */
	REFUSED("/dir-index/index.html");
	/* No such root. */
	snprintf(missing, sizeof missing, "%s/nope", root);
	ck_assert_int_eq(http_resolve(missing, "/", out, sizeof out), -1);
	ck_assert_int_eq(http_resolve(missing, "/index.html", out,
	    sizeof out), -1);
}
END_TEST

START_TEST(test_content_type)
{
	static const struct {
		const char *name, *type;
	} cases[] = {
		{ "/w/index.html", "text/html; charset=utf-8" },
		{ "/w/old.htm", "text/html; charset=utf-8" },
		{ "/w/INDEX.HTML", "text/html; charset=utf-8" },
		{ "/w/admin.css", "text/css; charset=utf-8" },
		{ "/w/admin.js", "text/javascript; charset=utf-8" },
		{ "/w/mod.mjs", "text/javascript; charset=utf-8" },
		{ "/w/data.json", "application/json" },
		{ "/w/admin.js.map", "application/json" },
		{ "/w/logo.svg", "image/svg+xml" },
		{ "/w/logo.png", "image/png" },
		{ "/w/favicon.ico", "image/x-icon" },
		{ "/w/font.woff2", "font/woff2" },
		{ "/w/notes.txt", "text/plain; charset=utf-8" },
		{ "/w/archive.tar.gz", "application/octet-stream" },
		{ "/w/README", "application/octet-stream" },
		{ "/w/v1.html/README", "application/octet-stream" },
		{ "/w/.html", "text/html; charset=utf-8" },
		{ "/w/page.html.bak", "application/octet-stream" },
		{ "/w/page.", "application/octet-stream" },
	};
	size_t	 i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
		ck_assert_msg(strcmp(http_content_type(cases[i].name),
		    cases[i].type) == 0, "%s: %s, want %s", cases[i].name,
		    http_content_type(cases[i].name), cases[i].type);
}
END_TEST

START_TEST(test_cache_control)
{
	ck_assert_str_eq(http_cache_control("text/html; charset=utf-8"),
	    "no-cache");
	ck_assert_str_eq(http_cache_control("text/css; charset=utf-8"),
	    "max-age=300");
	ck_assert_str_eq(http_cache_control("image/png"), "max-age=300");
	ck_assert_str_eq(http_cache_control("application/octet-stream"),
	    "max-age=300");
}
END_TEST

START_TEST(test_etag)
{
	struct timespec	 t = { 0x65f0c3e1, 0x1d2c3b4a }, t2 = t;
	char		 a[HTTP_ETAG_LEN], b[HTTP_ETAG_LEN];

	ck_assert_int_eq(http_etag(a, sizeof a, 0x1f, &t), 0);
	ck_assert_str_eq(a, "\"1f-65f0c3e1.1d2c3b4a\"");
	ck_assert_int_eq(http_etag(a, sizeof a, 0, &(struct timespec){ 0, 0 }),
	    0);
	ck_assert_str_eq(a, "\"0-0.0\"");
	/* Another size, another second, another nanosecond: another tag. */
	ck_assert_int_eq(http_etag(a, sizeof a, 100, &t), 0);
	ck_assert_int_eq(http_etag(b, sizeof b, 101, &t), 0);
	ck_assert_str_ne(a, b);
	t2.tv_nsec++;
	ck_assert_int_eq(http_etag(b, sizeof b, 100, &t2), 0);
	ck_assert_str_ne(a, b);
	t2 = t;
	t2.tv_sec++;
	ck_assert_int_eq(http_etag(b, sizeof b, 100, &t2), 0);
	ck_assert_str_ne(a, b);
	/* The largest fits HTTP_ETAG_LEN; a short buffer is refused. */
	ck_assert_int_eq(http_etag(a, sizeof a, UINT64_MAX,
	    &(struct timespec){ INT64_MAX, 999999999 }), 0);
	ck_assert_int_eq(http_etag(a, 10, 0x1f, &t), -1);
}
END_TEST

START_TEST(test_etag_match)
{
	const char	*tag = "\"1f-65f0c3e1.1d2c3b4a\"";

	ck_assert(http_etag_match("\"1f-65f0c3e1.1d2c3b4a\"", tag));
	ck_assert(http_etag_match("W/\"1f-65f0c3e1.1d2c3b4a\"", tag));
	ck_assert(http_etag_match("*", tag));
	ck_assert(http_etag_match("\"x\", \"1f-65f0c3e1.1d2c3b4a\"", tag));
	ck_assert(http_etag_match("\"x\",W/\"1f-65f0c3e1.1d2c3b4a\" ,\"y\"",
	    tag));
	ck_assert(http_etag_match("junk, \"1f-65f0c3e1.1d2c3b4a\"", tag));
	ck_assert(!http_etag_match("", tag));
	ck_assert(!http_etag_match("\"x\"", tag));
	ck_assert(!http_etag_match("1f-65f0c3e1.1d2c3b4a", tag));
	ck_assert(!http_etag_match("\"1f-65f0c3e1.1d2c3b4\"", tag));
	ck_assert(!http_etag_match("\"1f-65f0c3e1.1d2c3b4a", tag));
	ck_assert(!http_etag_match("\"1f-65f0c3e1.1d2c3b4aa\"", tag));
	ck_assert(!http_etag_match("w/\"1f-65f0c3e1.1d2c3b4a\"", tag));
}
END_TEST

START_TEST(test_date)
{
	char	 buf[HTTP_DATE_LEN];
	time_t	 t;

	http_date(784111777, buf);
	ck_assert_str_eq(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
	http_date(0, buf);
	ck_assert_str_eq(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
	http_date(4102444799, buf);
	ck_assert_str_eq(buf, "Thu, 31 Dec 2099 23:59:59 GMT");

	ck_assert_int_eq(http_date_parse("Sun, 06 Nov 1994 08:49:37 GMT", &t),
	    0);
	ck_assert_int_eq(t, 784111777);
	ck_assert_int_eq(http_date_parse("Sunday, 06-Nov-94 08:49:37 GMT", &t),
	    0);
	ck_assert_int_eq(t, 784111777);
	ck_assert_int_eq(http_date_parse("Sun Nov  6 08:49:37 1994", &t), 0);
	ck_assert_int_eq(t, 784111777);
	ck_assert_int_eq(http_date_parse("Thu, 31 Dec 2099 23:59:59 GMT", &t),
	    0);
	ck_assert_int_eq(t, 4102444799);
	ck_assert_int_eq(http_date_parse("Thursday, 01-Jan-70 00:00:00 GMT",
	    &t), 0);
	ck_assert_int_eq(t, 0);

	ck_assert_int_eq(http_date_parse("", &t), -1);
	ck_assert_int_eq(http_date_parse("yesterday", &t), -1);
	ck_assert_int_eq(http_date_parse("784111777", &t), -1);
	ck_assert_int_eq(http_date_parse("Sun, 06 Nov 1994 08:49:37 UTC", &t),
	    -1);
	ck_assert_int_eq(http_date_parse("Sun, 06 Nov 1994 08:49:37", &t), -1);
	ck_assert_int_eq(http_date_parse("Sun, 06 Nov 1994 08:49:37 GMTx",
	    &t), -1);
	ck_assert_int_eq(http_date_parse("Sun, 06 nov 1994 08:49:37 GMT", &t),
	    -1);
	ck_assert_int_eq(http_date_parse("Sun, 06 Foo 1994 08:49:37 GMT", &t),
	    -1);
	ck_assert_int_eq(http_date_parse("Sun, 32 Nov 1994 08:49:37 GMT", &t),
	    -1);
	ck_assert_int_eq(http_date_parse("Sun, 06 Nov 1994 24:00:00 GMT", &t),
	    -1);
	ck_assert_int_eq(http_date_parse("Sun, 06 Nov 1994 08:60:00 GMT", &t),
	    -1);
	ck_assert_int_eq(http_date_parse("Sun, 06 Nov 1969 08:49:37 GMT", &t),
	    -1);
}
END_TEST

/* Checks that http_origin_norm turns in into want (NULL: refused). */
static void
expect_norm(const char *in, const char *want, int line)
{
	char	 out[HTTP_ORIGIN_MAX];
	int	 rc = http_origin_norm(in, strlen(in), out, sizeof out);

	if (want == NULL) {
		ck_assert_msg(rc == -1, "line %d: \"%s\" accepted as \"%s\"",
		    line, in, out);
		return;
	}
	ck_assert_msg(rc == 0, "line %d: \"%s\" refused", line, in);
	ck_assert_msg(strcmp(out, want) == 0, "line %d: \"%s\" is \"%s\", "
	    "want \"%s\"", line, in, out, want);
}

#define NORM(in, want) expect_norm((in), (want), __LINE__)

START_TEST(test_origin_norm)
{
	char	 out[HTTP_ORIGIN_MAX];

	NORM("http://game.example.com", "http://game.example.com");
	NORM("HTTPS://Game.Example.COM", "https://game.example.com");
	NORM("http://127.0.0.1:8080", "http://127.0.0.1:8080");
	NORM("http://a.example:80", "http://a.example");
	NORM("https://a.example:443", "https://a.example");
	NORM("http://a.example:443", "http://a.example:443");
	NORM("https://a.example:80", "https://a.example:80");
	NORM("http://a.example:08080", "http://a.example:8080");
	NORM("http://[::1]:8080", "http://[::1]:8080");
	NORM("http://[FE80::1]", "http://[fe80::1]");
	NORM("http://my_host-1.local", "http://my_host-1.local");
	NORM("null", "null");

	NORM("", NULL);
	NORM("*", NULL);
	NORM("NULL", NULL);
	NORM("game.example.com", NULL);
	NORM("ftp://a.example", NULL);
	NORM("ws://a.example", NULL);
	NORM("http://", NULL);
	NORM("http:///", NULL);
	NORM("http://a.example/", NULL);
	NORM("http://a.example/path", NULL);
	NORM("http://a.example?x", NULL);
	NORM("http://user@a.example", NULL);
	NORM("http://a.example:", NULL);
	NORM("http://a.example:0", NULL);
	NORM("http://a.example:65536", NULL);
	NORM("http://a.example:123456", NULL);
	NORM("http://a.example:80:80", NULL);
	NORM("http://a.example:8x", NULL);
	NORM("http://a example", NULL);
	NORM("http://a.example,http://b.example", NULL);
	NORM("http://[]", NULL);
	NORM("http://[::1", NULL);
	NORM("http://[::g]", NULL);
	NORM(" http://a.example", NULL);

	/* Only the first len bytes count; out must have room. */
	ck_assert_int_eq(http_origin_norm("http://a.example/x", 16, out,
	    sizeof out), 0);
	ck_assert_str_eq(out, "http://a.example");
	ck_assert_int_eq(http_origin_norm("http://a.example", 16, out, 16),
	    -1);
	ck_assert_int_eq(http_origin_norm("http://a.example", 16, out, 17), 0);
	ck_assert_int_eq(http_origin_norm("null", 4, out, 4), -1);
}
END_TEST

/*
 * config-table.c checks allowed_origins with its own parser (the
 * configuration sits below http.c): it must accept exactly the entries
 * http_origin_norm understands (and "*"), or an entry would never match.
 */
START_TEST(test_origin_config_agrees)
{
	static const char *const entries[] = {
		"http://a.example", "HTTPS://A.Example:443", "http://a:1",
		"http://a:65535", "http://a:65536", "http://a:0", "http://a:",
		"http://a:080", "http://a:123456", "http://[::1]", "http://[::1]:9",
		"http://[]", "http://[::1", "http://[::1]x", "http://[g]",
		"http://my_host-1.local", "null", "NULL", "http://", "https://",
		"http:/a", "ftp://a", "http://a/", "http://a?", "http://a#",
		"http://u@a", "http://a b", "http://a:8x", "http://*.a",
		"https://a.example:443:1",
	};
	struct config	 cfg;
	char		 out[HTTP_ORIGIN_MAX], err[256];
	size_t		 i;
	int		 c, h;

	config_defaults(&cfg);
	for (i = 0; i < sizeof entries / sizeof entries[0]; i++) {
		c = config_set(&cfg, "allowed_origins", entries[i], err,
		    sizeof err);
		h = http_origin_norm(entries[i], strlen(entries[i]), out,
		    sizeof out);
		ck_assert_msg(c == h, "\"%s\": configuration %d, http %d",
		    entries[i], c, h);
	}
	ck_assert_int_eq(config_set(&cfg, "allowed_origins", "*", err,
	    sizeof err), 0);
	ck_assert_int_eq(config_set(&cfg, "allowed_origins",
	    " https://a.example ,\thttp://b.example:8080,null,* ", err,
	    sizeof err), 0);
	ck_assert_int_eq(config_set(&cfg, "allowed_origins", "", err,
	    sizeof err), 0);
	ck_assert_int_eq(config_set(&cfg, "allowed_origins",
	    "https://a.example,", err, sizeof err), -1);
	ck_assert_int_eq(config_set(&cfg, "allowed_origins", " ", err,
	    sizeof err), -1);
	ck_assert_int_eq(config_set(&cfg, "allowed_origins", "**", err,
	    sizeof err), -1);
}
END_TEST

START_TEST(test_origin_allowed)
{
	const char	*list = "https://game.example.com, http://127.0.0.1:8080 ,"
	    "null";

	/* No Origin: not a browser, always allowed. */
	ck_assert(http_origin_allowed("", NULL, "relay.example", false));
	ck_assert(http_origin_allowed("", NULL, NULL, true));

	/* The same origin: scheme of the listener, and the Host. */
	ck_assert(http_origin_allowed("", "http://relay.example:8080",
	    "relay.example:8080", false));
	ck_assert(http_origin_allowed("", "https://relay.example:8443",
	    "relay.example:8443", true));
	ck_assert(http_origin_allowed("", "http://Relay.Example",
	    "relay.example", false));
	ck_assert(http_origin_allowed("", "http://relay.example",
	    "RELAY.example:80", false));
	ck_assert(http_origin_allowed("", "https://relay.example",
	    "relay.example:443", true));
	ck_assert(http_origin_allowed("", "http://[::1]:8080", "[::1]:8080",
	    false));
	/* ... but not another scheme, port or host. */
	ck_assert(!http_origin_allowed("", "https://relay.example:8080",
	    "relay.example:8080", false));
	ck_assert(!http_origin_allowed("", "http://relay.example:8080",
	    "relay.example:8080", true));
	ck_assert(!http_origin_allowed("", "http://relay.example:8081",
	    "relay.example:8080", false));
	ck_assert(!http_origin_allowed("", "http://relay.example",
	    "relay.example:8080", false));
	ck_assert(!http_origin_allowed("", "http://evil.example",
	    "relay.example", false));
	ck_assert(!http_origin_allowed("", "http://relay.example.evil.example",
	    "relay.example", false));
	ck_assert(!http_origin_allowed("", "http://relay.example", NULL,
	    false));
	ck_assert(!http_origin_allowed("", "http://relay.example", "",
	    false));
	ck_assert(!http_origin_allowed("", "http://relay.example",
	    "relay.example/x", false));
	/* Malformed, or "null": never the same origin. */
	ck_assert(!http_origin_allowed("", "http://relay.example/",
	    "relay.example", false));
	ck_assert(!http_origin_allowed("", "relay.example", "relay.example",
	    false));
	ck_assert(!http_origin_allowed("", "", "relay.example", false));
	ck_assert(!http_origin_allowed("", "null", "relay.example", false));
	ck_assert(!http_origin_allowed("", "null", "null", false));

	/* A list adds origins; the same origin stays allowed. */
	ck_assert(http_origin_allowed(list, "https://game.example.com",
	    "relay.example", true));
	ck_assert(http_origin_allowed(list, "https://GAME.example.com:443",
	    "relay.example", false));
	ck_assert(http_origin_allowed(list, "http://127.0.0.1:8080",
	    "relay.example", false));
	ck_assert(http_origin_allowed(list, "null", "relay.example", false));
	ck_assert(http_origin_allowed(list, "http://relay.example",
	    "relay.example", false));
	ck_assert(!http_origin_allowed(list, "http://game.example.com",
	    "relay.example", false));
	ck_assert(!http_origin_allowed(list, "https://www.game.example.com",
	    "relay.example", false));
	ck_assert(!http_origin_allowed(list, "http://127.0.0.1:8081",
	    "relay.example", false));
	ck_assert(!http_origin_allowed(list, "http://127.0.0.1",
	    "relay.example", false));
	ck_assert(!http_origin_allowed("https://game.example.com",
	    "https://game.example.com.evil.example", "relay.example", false));

	/* "*": any Origin at all, even one that is no origin. */
	ck_assert(http_origin_allowed("*", "http://evil.example",
	    "relay.example", false));
	ck_assert(http_origin_allowed("https://a.example, *", "garbage", NULL,
	    false));
	ck_assert(http_origin_allowed("*", "", NULL, false));
}
END_TEST

/* Builds the suite of http tests. */
static Suite *
http_suite(void)
{
	Suite	*s = suite_create("http");
	TCase	*tc;

	tc = tcase_create("resolve");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_index);
	tcase_add_test(tc, test_plain_files);
	tcase_add_test(tc, test_dotdot);
	tcase_add_test(tc, test_encoded_names);
	tcase_add_test(tc, test_not_absolute);
	tcase_add_test(tc, test_symlinks);
	tcase_add_test(tc, test_small_buffer);
	tcase_add_test(tc, test_refused);
	suite_add_tcase(s, tc);

	tc = tcase_create("helpers");
	tcase_add_test(tc, test_content_type);
	tcase_add_test(tc, test_cache_control);
	tcase_add_test(tc, test_etag);
	tcase_add_test(tc, test_etag_match);
	tcase_add_test(tc, test_date);
	tcase_add_test(tc, test_origin_norm);
	tcase_add_test(tc, test_origin_config_agrees);
	tcase_add_test(tc, test_origin_allowed);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(http_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
