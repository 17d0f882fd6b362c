/*
 * check_statefile.c: unit tests for statefile.c, the durable state file.
 *
 * Each test works in a fresh directory.  write, fsync and rename go through
 * failio.c (the program is linked with --wrap for them), so a test can tear
 * a save at any byte, make it write short or be interrupted, or fail its
 * fsync or rename, and then check what a restart would find: exactly the
 * old lines, and no temporary file.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE	/* strndup */
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <check.h>

#include "statefile.h"
#include "failio.h"

#define COLLECT_MAX 64		/* lines a collector keeps the text of */

static char dir[PATH_MAX];
static char path[PATH_MAX + 16];

/* Makes the test's own directory and the state file's name in it. */
static void
setup(void)
{
	const char	*base = getenv("TMPDIR");

	failio_reset();
	snprintf(dir, sizeof dir, "%s/check_statefile.XXXXXX",
	    base != NULL && *base != '\0' ? base : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/state", dir);
}

/* Removes the test's directory and everything in it. */
static void
teardown(void)
{
	char		 p[PATH_MAX + 300];
	DIR		*d;
	struct dirent	*e;

	failio_reset();
	if ((d = opendir(dir)) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
		unlink(p);
	}
	closedir(d);
	rmdir(dir);
}

/* What a load handed to the callback. */
struct collected {
	int		 n;
	char		*line[COLLECT_MAX];
	unsigned	 lineno[COLLECT_MAX];
	size_t		 bytes;		/* of every line, kept or not */
	int		 refuse_at;	/* lineno to answer non-zero, 0 = none */
};

/* The load callback: keeps the line (the first COLLECT_MAX of them). */
static int
collect(const char *line, size_t len, unsigned lineno, void *arg)
{
	struct collected	*c = arg;

	ck_assert_uint_eq(strlen(line), len);
	ck_assert_ptr_null(memchr(line, '\n', len));
	if (c->refuse_at != 0 && lineno == (unsigned)c->refuse_at)
		return 1;
	if (c->n < COLLECT_MAX) {
		c->line[c->n] = strndup(line, len);
		c->lineno[c->n] = lineno;
	}
	c->n++;
	c->bytes += len;
	return 0;
}

/* Frees the lines c kept and empties it. */
static void
collected_free(struct collected *c)
{
	int	i;

	for (i = 0; i < c->n && i < COLLECT_MAX; i++)
		free(c->line[i]);
	memset(c, 0, sizeof *c);
}

/* Returns the whole content of file p (malloc'd, NUL-terminated), *len its size. */
static char *
slurp(const char *p, size_t *len)
{
	FILE	*f = fopen(p, "rb");
	char	*buf;
	long	 n;

	ck_assert_msg(f != NULL, "%s: %s", p, strerror(errno));
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	ck_assert_int_ge(n, 0);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Writes len bytes of text to file p, replacing it (not through statefile). */
static void
put_file(const char *p, const char *text, size_t len)
{
	FILE	*f = fopen(p, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(text, 1, len, f), len);
	ck_assert_int_eq(fclose(f), 0);
}

/* Checks that the state file holds exactly want (len bytes). */
static void
expect_file(const char *want, size_t len)
{
	size_t	 n;
	char	*got = slurp(path, &n);

	ck_assert_msg(n == len && memcmp(got, want, len) == 0,
	    "state file holds %zu bytes \"%.60s\", want %zu \"%.60s\"", n, got,
	    len, want);
	free(got);
}

/* Returns how many files of the test's directory have ".tmp." in their name. */
static int
count_temps(void)
{
	DIR		*d = opendir(dir);
	struct dirent	*e;
	int		 n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		if (strstr(e->d_name, ".tmp.") != NULL)
			n++;
	}
	closedir(d);
	return n;
}

/* Saves n NUL-terminated lines, which must succeed. */
static void
save_ok(const char *const *lines, size_t n)
{
	char	err[512] = "";

	ck_assert_msg(statefile_save(path, lines, NULL, n, err, sizeof err) ==
	    0, "save: %s", err);
}

/* Loads path into c, which must succeed. */
static void
load_ok(struct collected *c)
{
	char	err[512] = "";

	memset(c, 0, sizeof *c);
	ck_assert_msg(statefile_load(path, collect, c, err, sizeof err) == 0,
	    "load: %s", err);
}

/* Loads path, which must fail with an err containing want; returns the lines delivered. */
static int
load_fails(const char *want)
{
	struct collected	c;
	char			err[512] = "";
	int			n;

	memset(&c, 0, sizeof c);
	ck_assert_int_eq(statefile_load(path, collect, &c, err, sizeof err), -1);
	ck_assert_msg(strstr(err, want) != NULL, "err \"%s\", want \"%s\"", err,
	    want);
	n = c.n;
	collected_free(&c);
	return n;
}

static const char *const old_lines[] = {
	"{\"ban\":\"alice\",\"until\":0}",
	"{\"mute\":\"bob\",\"reason\":\"caps \\\"LOCK\\\" \xc3\xa9\"}",
};
static const char old_text[] =
    "{\"ban\":\"alice\",\"until\":0}\n"
    "{\"mute\":\"bob\",\"reason\":\"caps \\\"LOCK\\\" \xc3\xa9\"}\n";

START_TEST(test_round_trip)
{
	static const char *const three[] = { "{\"a\":1}", "{\"b\":2}",
	    "{\"c\":3}" };
	static const size_t lens[] = { 3, 1 };
	struct collected	 c;
	struct stat		 st;

	save_ok(old_lines, 2);
	expect_file(old_text, sizeof old_text - 1);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	load_ok(&c);
	ck_assert_int_eq(c.n, 2);
	ck_assert_str_eq(c.line[0], old_lines[0]);
	ck_assert_str_eq(c.line[1], old_lines[1]);
	ck_assert_uint_eq(c.lineno[0], 1);
	ck_assert_uint_eq(c.lineno[1], 2);
	collected_free(&c);

	/* A save replaces everything. */
	save_ok(three, 3);
	expect_file("{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n", 24);
	load_ok(&c);
	ck_assert_int_eq(c.n, 3);
	ck_assert_str_eq(c.line[2], "{\"c\":3}");
	collected_free(&c);

	/* Lengths given: only that many bytes of each line. */
	ck_assert_int_eq(statefile_save(path, three, lens, 2, NULL, 0), 0);
	expect_file("{\"a\n{\n", 6);

	/* No lines: an empty file, an empty state. */
	save_ok(NULL, 0);
	expect_file("", 0);
	load_ok(&c);
	ck_assert_int_eq(c.n, 0);
	ck_assert_int_eq(count_temps(), 0);
}
END_TEST

START_TEST(test_large_round_trip)
{
	enum { N = 300 };
	static char		 buf[N][STATEFILE_LINE_MAX + 1];
	const char		*lines[N];
	struct collected	 c;
	int			 i;

	/* Longest lines, many chunks: lines cross every buffer boundary. */
	for (i = 0; i < N; i++) {
		size_t	len = STATEFILE_LINE_MAX - (size_t)(i % 7);

		memset(buf[i], 'a' + i % 26, len);
		buf[i][len] = '\0';
		lines[i] = buf[i];
	}
	save_ok(lines, N);
	load_ok(&c);
	ck_assert_int_eq(c.n, N);
	for (i = 0; i < COLLECT_MAX; i++) {
		ck_assert_str_eq(c.line[i], buf[i]);
		ck_assert_uint_eq(c.lineno[i], (unsigned)i + 1);
	}
	collected_free(&c);
}
END_TEST

START_TEST(test_missing_file)
{
	struct collected	c;
	char			err[256] = "untouched";

	memset(&c, 0, sizeof c);
	ck_assert_int_eq(statefile_load(path, collect, &c, err, sizeof err), 0);
	ck_assert_int_eq(c.n, 0);
	ck_assert_str_eq(err, "untouched");
	/* Nor does a load create it. */
	ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

START_TEST(test_load_lines)
{
	static const char text[] = "\n{\"a\":1}\n\n\n{\"b\":2}\r\n{\"c\":3}";
	struct collected	c;

	/* Empty lines skipped but counted; "\r" is the caller's; a last line without '\n'. */
	put_file(path, text, sizeof text - 1);
	load_ok(&c);
	ck_assert_int_eq(c.n, 3);
	ck_assert_str_eq(c.line[0], "{\"a\":1}");
	ck_assert_uint_eq(c.lineno[0], 2);
	ck_assert_str_eq(c.line[1], "{\"b\":2}\r");
	ck_assert_uint_eq(c.lineno[1], 5);
	ck_assert_str_eq(c.line[2], "{\"c\":3}");
	ck_assert_uint_eq(c.lineno[2], 6);
	collected_free(&c);
}
END_TEST

START_TEST(test_leftover_temp)
{
	char			mine[PATH_MAX + 64], other[PATH_MAX + 64];
	struct collected	c;
	size_t			n;
	char			*text;

	/* A crash mid-save left a partial temp file, of this pid and of another. */
	snprintf(mine, sizeof mine, "%s.tmp.%ld", path, (long)getpid());
	snprintf(other, sizeof other, "%s.tmp.%ld", path,
	    (long)getpid() + 1);
	put_file(mine, "{\"half\":", 8);
	put_file(other, "{\"torn", 6);

	/* Without a state file, it is still the empty state. */
	load_ok(&c);
	ck_assert_int_eq(c.n, 0);

	/* With one, the temps change nothing. */
	save_ok(old_lines, 2);
	load_ok(&c);
	ck_assert_int_eq(c.n, 2);
	ck_assert_str_eq(c.line[0], old_lines[0]);
	collected_free(&c);

	/* The save replaced this pid's temp (renamed it into place)... */
	ck_assert_int_eq(access(mine, F_OK), -1);
	expect_file(old_text, sizeof old_text - 1);
	/* ...and left another process's alone. */
	text = slurp(other, &n);
	ck_assert_uint_eq(n, 6);
	free(text);

	/* Again, with a longer leftover than what is saved: truncated first. */
	put_file(mine, "{\"a very long leftover line that is longer\":1}\n", 47);
	{
		static const char *const one[] = { "{}" };

		save_ok(one, 1);
	}
	expect_file("{}\n", 3);
	ck_assert_int_eq(access(mine, F_OK), -1);
}
END_TEST

/* New lines for the failure tests: 20 of 8000 bytes, 160020 bytes in all. */
static const char *const *
new_lines(void)
{
	static char		 buf[20][8001];
	static const char	*lines[20];
	int			 i;

	for (i = 0; i < 20; i++) {
		memset(buf[i], 'n', 8000);
		buf[i][8000] = '\0';
		lines[i] = buf[i];
	}
	return lines;
}

/* Checks that a failed save left exactly the old state and no temporary file. */
static void
expect_old_state(void)
{
	struct collected	c;

	expect_file(old_text, sizeof old_text - 1);
	ck_assert_int_eq(count_temps(), 0);
	load_ok(&c);
	ck_assert_int_eq(c.n, 2);
	ck_assert_str_eq(c.line[0], old_lines[0]);
	ck_assert_str_eq(c.line[1], old_lines[1]);
	collected_free(&c);
}

START_TEST(test_torn_write)
{
	static const long budgets[] = { 0, 1, 4000, 8001, 65535, 65536, 65537,
	    100000, 160019 };
	const char *const	*lines = new_lines();
	char			 err[512];
	size_t			 i;
	int			 r;

	save_ok(old_lines, 2);
	for (i = 0; i < sizeof budgets / sizeof budgets[0]; i++) {
		/* The disk fills up after exactly budgets[i] bytes. */
		err[0] = '\0';
		failio_write_budget = budgets[i];
		r = statefile_save(path, lines, NULL, 20, err, sizeof err);
		failio_reset();
		ck_assert_msg(r == -1, "budget %ld: saved", budgets[i]);
		ck_assert_msg(strstr(err, "No space left on device") != NULL &&
		    strstr(err, "the old state is kept") != NULL &&
		    strstr(err, path) != NULL, "budget %ld: err \"%s\"",
		    budgets[i], err);
		expect_old_state();
	}

	/* The whole budget is enough. */
	failio_write_budget = 160020;
	r = statefile_save(path, lines, NULL, 20, err, sizeof err);
	failio_reset();
	ck_assert_msg(r == 0, "exact budget: %s", err);
	ck_assert_int_eq(count_temps(), 0);
}
END_TEST

START_TEST(test_short_writes)
{
	const char *const	*lines = new_lines();
	struct collected	 c;
	char			 err[512] = "";
	int			 r, calls;

	/* Every write short, and interrupted three times: all gets written. */
	save_ok(old_lines, 2);
	failio_write_max = 4093;
	failio_write_eintr = 3;
	r = statefile_save(path, lines, NULL, 20, err, sizeof err);
	calls = failio_write_calls;
	failio_reset();
	ck_assert_msg(r == 0, "save: %s", err);
	ck_assert_int_ge(calls, 3 + 160020 / 4093);
	load_ok(&c);
	ck_assert_int_eq(c.n, 20);
	ck_assert_uint_eq(c.bytes, 20 * 8000);
	ck_assert_str_eq(c.line[19], lines[19]);
	collected_free(&c);
	ck_assert_int_eq(count_temps(), 0);
}
END_TEST

START_TEST(test_write_error)
{
	char	err[512] = "";
	int	r;

	/* An I/O error at the first write. */
	save_ok(old_lines, 2);
	failio_write_budget = 0;
	failio_write_errno = EIO;
	r = statefile_save(path, new_lines(), NULL, 20, err, sizeof err);
	failio_reset();
	ck_assert_int_eq(r, -1);
	ck_assert_ptr_nonnull(strstr(err, "Input/output error"));
	expect_old_state();
}
END_TEST

START_TEST(test_fsync_fails)
{
	char			err[512] = "";
	struct collected	c;
	int			r;

	/* The temporary file's fsync fails: nothing renamed. */
	save_ok(old_lines, 2);
	failio_fsync_left = 0;
	r = statefile_save(path, new_lines(), NULL, 20, err, sizeof err);
	failio_reset();
	ck_assert_int_eq(r, -1);
	ck_assert_msg(strstr(err, "syncing") != NULL &&
	    strstr(err, "the old state is kept") != NULL, "err \"%s\"", err);
	expect_old_state();

	/* Only the directory's fsync fails: the new state is in place, and err says so. */
	failio_fsync_left = 1;
	r = statefile_save(path, new_lines(), NULL, 20, err, sizeof err);
	failio_reset();
	ck_assert_int_eq(r, -1);
	ck_assert_msg(strstr(err, "saved, but its directory") != NULL,
	    "err \"%s\"", err);
	ck_assert_int_eq(count_temps(), 0);
	load_ok(&c);
	ck_assert_int_eq(c.n, 20);
	collected_free(&c);
}
END_TEST

START_TEST(test_rename_fails)
{
	char	err[512] = "";
	int	r;

	save_ok(old_lines, 2);
	failio_rename_left = 0;
	r = statefile_save(path, new_lines(), NULL, 20, err, sizeof err);
	failio_reset();
	ck_assert_int_eq(r, -1);
	ck_assert_msg(strstr(err, "renaming") != NULL &&
	    strstr(err, "the old state is kept") != NULL, "err \"%s\"", err);
	expect_old_state();
}
END_TEST

START_TEST(test_save_refuses)
{
	static char		 longline[STATEFILE_LINE_MAX + 2];
	const char		*bad_long[] = { "{}", longline };
	const char		*bad_empty[] = { "{}", "" };
	const char		*bad_nl[] = { "{\"a\":\n1}" };
	const char		*bad_null[] = { "{}", NULL };
	const char		*nul[] = { "a\0b" };
	const size_t		 nul_len[] = { 3 };
	char			 err[512];

	save_ok(old_lines, 2);
	memset(longline, 'x', STATEFILE_LINE_MAX + 1);

	ck_assert_int_eq(statefile_save(path, bad_long, NULL, 2, err,
	    sizeof err), -1);
	ck_assert_str_eq(err, "line 2 is longer than 8192 bytes");
	expect_old_state();
	/* The longest line is fine. */
	longline[STATEFILE_LINE_MAX] = '\0';
	ck_assert_int_eq(statefile_save(path, bad_long, NULL, 2, err,
	    sizeof err), 0);
	save_ok(old_lines, 2);

	ck_assert_int_eq(statefile_save(path, bad_empty, NULL, 2, err,
	    sizeof err), -1);
	ck_assert_str_eq(err, "line 2 is empty");
	ck_assert_int_eq(statefile_save(path, bad_nl, NULL, 1, err,
	    sizeof err), -1);
	ck_assert_str_eq(err, "line 1 holds a newline or a NUL byte");
	ck_assert_int_eq(statefile_save(path, nul, nul_len, 1, err,
	    sizeof err), -1);
	ck_assert_str_eq(err, "line 1 holds a newline or a NUL byte");
	ck_assert_int_eq(statefile_save(path, bad_null, NULL, 2, err,
	    sizeof err), -1);
	ck_assert_str_eq(err, "line 2 is missing");
	ck_assert_int_eq(statefile_save(path, NULL, NULL, 1, err, sizeof err),
	    -1);
	ck_assert_int_eq(statefile_save("", old_lines, NULL, 2, err,
	    sizeof err), -1);
	ck_assert_int_eq(statefile_save(NULL, old_lines, NULL, 2, NULL, 0),
	    -1);
	expect_old_state();

	/* A directory that does not exist. */
	{
		char	p[PATH_MAX + 64];

		snprintf(p, sizeof p, "%s/nosuchdir/state", dir);
		ck_assert_int_eq(statefile_save(p, old_lines, NULL, 2, err,
		    sizeof err), -1);
		ck_assert_msg(strstr(err, "No such file or directory") != NULL,
		    "err \"%s\"", err);
	}
}
END_TEST

START_TEST(test_save_too_big)
{
	enum { N = STATEFILE_SIZE_MAX / (STATEFILE_LINE_MAX) + 1 };
	static char	 line[STATEFILE_LINE_MAX];
	const char	**lines;
	char		 err[512];
	size_t		 i;

	/* 8191 bytes and a '\n' a line: 2048 lines are exactly the most. */
	memset(line, 'y', sizeof line - 1);
	lines = calloc(N, sizeof *lines);
	ck_assert_ptr_nonnull(lines);
	for (i = 0; i < N; i++)
		lines[i] = line;
	save_ok(old_lines, 2);
	ck_assert_int_eq(statefile_save(path, lines, NULL, N, err, sizeof err),
	    -1);
	ck_assert_str_eq(err, "more than 16777216 bytes of lines");
	expect_old_state();
	ck_assert_int_eq(statefile_save(path, lines, NULL, N - 1, err,
	    sizeof err), 0);
	{
		struct stat	st;

		ck_assert_int_eq(stat(path, &st), 0);
		ck_assert_int_eq(st.st_size, STATEFILE_SIZE_MAX);
	}
	/* ... and loads. */
	{
		struct collected	c;

		load_ok(&c);
		ck_assert_int_eq(c.n, N - 1);
		collected_free(&c);
	}
	free(lines);
}
END_TEST

START_TEST(test_load_long_line)
{
	static char	 text[3 * STATEFILE_LINE_MAX];
	size_t		 o = 0;
	char		 want[PATH_MAX + 64];

	/* Lines 1 and 2 fine (the second exactly the longest), line 4 one byte too long. */
	o += (size_t)sprintf(text, "{\"a\":1}\n");
	memset(text + o, 'b', STATEFILE_LINE_MAX);
	o += STATEFILE_LINE_MAX;
	text[o++] = '\n';
	text[o++] = '\n';
	memset(text + o, 'c', STATEFILE_LINE_MAX + 1);
	o += STATEFILE_LINE_MAX + 1;
	text[o++] = '\n';
	put_file(path, text, o);
	snprintf(want, sizeof want, "%s:4: line longer than 8192 bytes", path);
	ck_assert_int_eq(load_fails(want), 2);

	/* The same without its '\n', at the end of the file. */
	put_file(path, text, o - 1);
	ck_assert_int_eq(load_fails(want), 2);
}
END_TEST

START_TEST(test_load_too_big)
{
	char	want[PATH_MAX + 128];
	int	fd;

	/* One byte over the bound: refused before a line is read. */
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, STATEFILE_SIZE_MAX + 1), 0);
	close(fd);
	snprintf(want, sizeof want, "%s: 16777217 bytes, more than the "
	    "16777216 a state file may hold", path);
	ck_assert_int_eq(load_fails(want), 0);
}
END_TEST

START_TEST(test_load_refusals)
{
	static const char	 text[] = "{\"a\":1}\n{\"b\":2}\n{\"c\":3}\n";
	static const char	 nul[] = "{\"a\":1}\n{\"b\0\":2}\n";
	struct collected	 c;
	char			 err[512], want[PATH_MAX + 64];

	/* The callback stops the load. */
	put_file(path, text, sizeof text - 1);
	memset(&c, 0, sizeof c);
	c.refuse_at = 2;
	ck_assert_int_eq(statefile_load(path, collect, &c, err, sizeof err),
	    -1);
	snprintf(want, sizeof want, "%s:2: line not accepted", path);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(c.n, 1);
	collected_free(&c);

	/* A NUL byte. */
	put_file(path, nul, sizeof nul - 1);
	snprintf(want, sizeof want, "%s:2: a NUL byte in the line", path);
	ck_assert_int_eq(load_fails(want), 1);

	/* Not a file. */
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(load_fails("not a regular file"), 0);
	ck_assert_int_eq(rmdir(path), 0);

	/* Unreadable (unless run as root, who reads everything). */
	if (geteuid() != 0) {
		put_file(path, text, sizeof text - 1);
		ck_assert_int_eq(chmod(path, 0), 0);
		ck_assert_int_eq(load_fails("cannot open: Permission denied"), 0);
	}
	ck_assert_int_eq(statefile_load(NULL, collect, &c, err, sizeof err),
	    -1);
	ck_assert_int_eq(statefile_load(path, NULL, &c, err, sizeof err), -1);
}
END_TEST

/* Builds the suite of state file tests. */
static Suite *
statefile_suite(void)
{
	Suite	*s = suite_create("statefile");
	TCase	*tc;

	tc = tcase_create("save and load");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_large_round_trip);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_load_lines);
	tcase_add_test(tc, test_leftover_temp);
	suite_add_tcase(s, tc);

	tc = tcase_create("failures");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_torn_write);
	tcase_add_test(tc, test_short_writes);
	tcase_add_test(tc, test_write_error);
	tcase_add_test(tc, test_fsync_fails);
	tcase_add_test(tc, test_rename_fails);
	suite_add_tcase(s, tc);

	tc = tcase_create("bounds");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_save_refuses);
	tcase_add_test(tc, test_save_too_big);
	tcase_add_test(tc, test_load_long_line);
	tcase_add_test(tc, test_load_too_big);
	tcase_add_test(tc, test_load_refusals);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(statefile_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
