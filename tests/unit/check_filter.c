/*
 * check_filter.c: unit tests for filter.c, the word filter.
 *
 * Every match is checked through its mask, compared byte for byte, so a
 * test says exactly which characters were found.  A naive matcher written
 * here from the format's definition (every entry tried at every position)
 * is compared with the automaton on random lists and texts, with enough
 * entries that the deep states leave the dense rows.  The program is linked
 * with failalloc.c, so a test can make every allocation fail and see that
 * matching allocates nothing when nothing matched.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "failalloc.h"
#include "filter.h"
#include "utf8.h"

/* Returns a filter built from the word list s; fails the test on error. */
static struct filter *
list(const char *s)
{
	struct filter	*f;
	char		 err[256] = "";

	f = filter_parse(s, strlen(s), err, sizeof err);
	ck_assert_msg(f != NULL, "list refused: %s", err);
	return f;
}

/* Checks that list s is refused with exactly the error want. */
static void
refused(const char *s, size_t len, const char *want)
{
	struct filter	*f;
	char		 err[256] = "";

	f = filter_parse(s, len, err, sizeof err);
	ck_assert_msg(f == NULL, "list accepted, want \"%s\"", want);
	ck_assert_str_eq(err, want);
}

/*
 * Checks filter_match of text against f: want NULL means no match, else the
 * exact mask.  The answer without a mask must agree.
 */
static void
expect(const struct filter *f, const char *text, const char *want)
{
	char	*mask = (char *)"unset";
	size_t	 mlen = 12345;
	int	 r;

	r = filter_match(f, text, strlen(text), &mask, &mlen);
	if (want == NULL) {
		ck_assert_msg(r == 0, "\"%s\" matched: \"%s\"", text,
		    r == 1 ? mask : "?");
		ck_assert_ptr_null(mask);
		ck_assert_uint_eq(mlen, 0);
	} else {
		ck_assert_msg(r == 1, "\"%s\" did not match (%d), want \"%s\"",
		    text, r, want);
		ck_assert_str_eq(mask, want);
		ck_assert_uint_eq(mlen, strlen(want));
		/* The mask keeps the number of characters. */
		ck_assert_uint_eq(utf8_count(mask, mlen),
		    utf8_count(text, strlen(text)));
		free(mask);
	}
	r = filter_match(f, text, strlen(text), NULL, NULL);
	ck_assert_int_eq(r, want != NULL);
}

START_TEST(test_whole_word)
{
	struct filter	*f = list("ass\n");

	ck_assert_uint_eq(filter_count(f), 1);
	expect(f, "ass", "***");
	expect(f, "my ass.", "my ***.");
	expect(f, "ass!ass", "***!***");
	expect(f, "(ass)", "(***)");
	expect(f, "x-ass-y", "x-***-y");
	expect(f, "\"ass\"", "\"***\"");
	expect(f, "assassin", NULL);
	expect(f, "bass", NULL);
	expect(f, "asses", NULL);
	expect(f, "ass1", NULL);
	expect(f, "1ass", NULL);
	expect(f, "_ass", NULL);
	expect(f, "ass_", NULL);
	expect(f, "as", NULL);
	expect(f, "a s s", NULL);
	expect(f, "", NULL);
	filter_unref(f);
}
END_TEST

START_TEST(test_substring)
{
	struct filter	*f = list("*ass*\n");

	expect(f, "ass", "***");
	expect(f, "bass", "b***");
	expect(f, "classic", "cl***ic");
	expect(f, "assassin", "******in");
	expect(f, "asass", "as***");
	expect(f, "a ss", NULL);
	filter_unref(f);
}
END_TEST

START_TEST(test_prefix_suffix)
{
	struct filter	*f = list("ass*\n*ing\n");

	expect(f, "assets", "***ets");
	expect(f, "an assassin", "an ***assin");
	expect(f, "bass", NULL);
	expect(f, "_assets", NULL);
	expect(f, "sing", "s***");
	expect(f, "singing!", "sing***!");
	expect(f, "singer", NULL);
	expect(f, "ing", "***");
	expect(f, "assing", "******");
	filter_unref(f);
}
END_TEST

START_TEST(test_case_folding)
{
	struct filter	*f = list("BadWord\n*HeLL*\n");

	expect(f, "badword", "*******");
	expect(f, "BADWORD", "*******");
	expect(f, "a bAdWoRd!", "a *******!");
	expect(f, "SHELL", "S****");
	expect(f, "shell", "s****");
	filter_unref(f);
}
END_TEST

/* Non-ASCII bytes are word characters, and are compared as written. */
START_TEST(test_utf8_neighbours)
{
	struct filter	*f = list("ass\ncaf\xc3\xa9\n*\xc3\xa9t\xc3\xa9*\n");

	expect(f, "\xc3\xa9" "ass", NULL);		/* éass */
	expect(f, "ass\xc3\xa9", NULL);			/* assé */
	expect(f, "ass\xe2\x82\xac", NULL);		/* ass€ */
	expect(f, "\xc2\xa0" "ass", NULL);		/* NBSP ass */
	expect(f, "\xf0\x9f\x98\x80 ass \xf0\x9f\x98\x80",
	    "\xf0\x9f\x98\x80 *** \xf0\x9f\x98\x80");	/* 😀 ass 😀 */
	expect(f, "caf\xc3\xa9", "****");		/* café */
	expect(f, "CAF\xc3\xa9 au lait", "**** au lait");	/* CAFé */
	expect(f, "CAF\xc3\x89", NULL);			/* CAFÉ */
	expect(f, "caf\xc3\xa9s", NULL);		/* cafés */
	expect(f, "caf", NULL);
	/* été inside a word, three characters of five bytes masked. */
	expect(f, "l'\xc3\xa9t\xc3\xa9", "l'***");
	expect(f, "x\xc3\xa9t\xc3\xa9y", "x***y");
	filter_unref(f);
}
END_TEST

START_TEST(test_mask_code_points)
{
	struct filter	*f = list("*bad*\n*\xc3\xbcn\xc3\xaf" "c\xc3\xb6" "d"
	    "\xc3\xa9*\n");

	/* 😀bad😀 */
	expect(f, "\xf0\x9f\x98\x80" "bad" "\xf0\x9f\x98\x80",
	    "\xf0\x9f\x98\x80***\xf0\x9f\x98\x80");
	/* xünïcödéx: seven characters, eleven bytes, seven stars. */
	expect(f, "x\xc3\xbcn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9x", "x*******x");
	/* ÜNÏCÖDÉ has no ASCII letter in common: folding leaves it apart. */
	expect(f, "\xc3\x9cn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9", NULL);
	expect(f, "\xe4\xbd\xa0\xe5\xa5\xbd" "BAD" "\xe4\xbd\xa0",
	    "\xe4\xbd\xa0\xe5\xa5\xbd***\xe4\xbd\xa0");	/* 你好BAD你 */
	filter_unref(f);
}
END_TEST

/* Entries inside others, and matches that overlap. */
START_TEST(test_overlapping)
{
	struct filter	*f;

	f = list("ass\nassassin\n");
	expect(f, "assassin", "********");
	expect(f, "ass assassin ass", "*** ******** ***");
	expect(f, "assassins", NULL);
	filter_unref(f);

	f = list("*ass*\nassassin\n");
	expect(f, "assassins", "******ins");
	expect(f, "assassin", "********");
	filter_unref(f);

	f = list("*she*\n*he*\n*hers*\n");
	expect(f, "ushers", "u*****");
	expect(f, "he", "**");
	expect(f, "sh", NULL);
	filter_unref(f);

	f = list("*ab*\n*bc*\n");
	expect(f, "xabcx", "x***x");
	expect(f, "abxbc", "**x**");
	filter_unref(f);

	/* The longest entry ending here is refused, a shorter one accepted. */
	f = list("bass\n*ss\n");
	expect(f, "bass", "****");
	expect(f, "xbass", "xba**");
	expect(f, "bassy", NULL);
	filter_unref(f);

	/* The same entry in several kinds. */
	f = list("ass\nass*\n");
	expect(f, "assets bass", "***ets bass");
	filter_unref(f);
}
END_TEST

START_TEST(test_phrases)
{
	struct filter	*f = list("bad \t  word\n*go away*\n");

	ck_assert_uint_eq(filter_count(f), 2);
	expect(f, "a bad word here", "a *** **** here");
	expect(f, "a BAD WORD", "a *** ****");
	expect(f, "a bad  word", NULL);
	expect(f, "a bad\tword", NULL);
	expect(f, "badword", NULL);
	expect(f, "abad word", NULL);
	expect(f, "bad words", NULL);
	expect(f, "pls go awayyy", "pls ** ****yy");
	filter_unref(f);
}
END_TEST

START_TEST(test_comments_blank_crlf)
{
	struct filter	*f;

	f = list("# a comment\r\n\r\n  foo \t\r\n\t# another\r\n\r\n"
	    "bar\r\n  \t \nlast");
	ck_assert_uint_eq(filter_count(f), 3);
	expect(f, "foo", "***");
	expect(f, "bar", "***");
	expect(f, "last", "****");
	expect(f, "comment another #", NULL);
	expect(f, "bar\r", "***\r");
	filter_unref(f);

	/* A byte order mark at the start. */
	f = list("\xef\xbb\xbf" "foo\n");
	ck_assert_uint_eq(filter_count(f), 1);
	expect(f, "foo", "***");
	filter_unref(f);

	/* A '*' inside an entry is an ordinary character. */
	f = list("f*ck\n**x\n");
	expect(f, "f*ck", "****");
	expect(f, "fuck", NULL);
	expect(f, "a*x", "a**");
	filter_unref(f);
}
END_TEST

START_TEST(test_empty)
{
	struct filter	*f;

	f = list("");
	ck_assert_uint_eq(filter_count(f), 0);
	expect(f, "anything at all", NULL);
	expect(f, "", NULL);
	filter_unref(f);

	f = list("# nothing\n\n   \n");
	ck_assert_uint_eq(filter_count(f), 0);
	expect(f, "nothing", NULL);
	filter_unref(f);

	ck_assert_int_eq(filter_match(NULL, "x", 1, NULL, NULL), 0);
	ck_assert_uint_eq(filter_count(NULL), 0);
}
END_TEST

START_TEST(test_errors)
{
	char	 line[FILTER_ENTRY_MAX + 32];
	char	*big;
	size_t	 n, i;

	/* 128 bytes pass, 129 do not; blanks around do not count. */
	memset(line, 'a', FILTER_ENTRY_MAX);
	memcpy(line + FILTER_ENTRY_MAX, "  \n", 4);
	filter_unref(list(line));
	memset(line, 'a', FILTER_ENTRY_MAX + 1);
	memcpy(line + FILTER_ENTRY_MAX + 1, "\n", 2);
	n = strlen(line);
	big = malloc(n + 32);
	ck_assert_ptr_nonnull(big);
	snprintf(big, n + 32, "# x\n\nok\n%s", line);
	refused(big, strlen(big), "line 4: entry is longer than 128 bytes");
	free(big);

	refused("ok\n\xc3(\n", 6, "line 2: entry is not valid UTF-8");
	refused("\xed\xa0\x80\n", 4, "line 1: entry is not valid UTF-8");
	refused("a\nb\nc\xc0\xaf\n", 8, "line 3: entry is not valid UTF-8");
	refused("a\0b\n", 4, "line 1: entry holds a control character");
	refused("a\rb\n", 4, "line 1: entry holds a control character");
	refused("ok\n*\n", 5, "line 2: entry has nothing but '*'");
	refused("**\n", 3, "line 1: entry has nothing but '*'");
	refused("* foo\n", 6, "line 1: space next to '*'");
	refused("foo\t*\n", 6, "line 1: space next to '*'");

	/* 100,000 entries pass; one more is refused with its line. */
	n = (size_t)FILTER_ENTRIES_MAX + 1;
	big = malloc(n * 8 + 1);
	ck_assert_ptr_nonnull(big);
	for (i = 0; i < n; i++)
		snprintf(big + i * 8, 9, "w%06zu\n", i);
	{
		struct filter	*f;
		char		 err[128];

		f = filter_parse(big, (n - 1) * 8, err, sizeof err);
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(filter_count(f), FILTER_ENTRIES_MAX);
		expect(f, "w099999 w000000 w100000", "******* ******* w100000");
		filter_unref(f);
	}
	refused(big, n * 8, "line 100001: more than 100000 entries");
	free(big);

	/* A buffer past the file bound is refused before any parsing. */
	big = calloc(1, (size_t)FILTER_FILE_MAX + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, '\n', (size_t)FILTER_FILE_MAX + 1);
	refused(big, (size_t)FILTER_FILE_MAX + 1, "larger than 8388608 bytes");
	ck_assert_ptr_null(filter_parse(big, FILTER_FILE_MAX + 1, NULL, 0));
	free(big);
}
END_TEST

/* Writes len bytes of s to a fresh temporary file; returns its path (static). */
static const char *
tmpfile_with(const char *s, size_t len)
{
	static char	 path[64];
	int		 fd;

	snprintf(path, sizeof path, "/tmp/check_filter.XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, s, len), (ssize_t)len);
	close(fd);
	return path;
}

START_TEST(test_load)
{
	struct filter	*f;
	const char	*path;
	char		 err[256], want[256], *big;
	int		 fd;

	path = tmpfile_with("# words\r\nfoo\r\n*bar*\r\n", 21);
	f = filter_load(path, err, sizeof err);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(filter_count(f), 2);
	expect(f, "foo rebars", "*** re***s");
	filter_unref(f);
	unlink(path);

	path = tmpfile_with("foo\n\xff\n", 6);
	ck_assert_ptr_null(filter_load(path, err, sizeof err));
	snprintf(want, sizeof want, "%s:2: entry is not valid UTF-8", path);
	ck_assert_str_eq(err, want);
	unlink(path);

	ck_assert_ptr_null(filter_load("/nonexistent/words.txt", err,
	    sizeof err));
	ck_assert_str_eq(err, "/nonexistent/words.txt: cannot open: No such "
	    "file or directory");
	ck_assert_ptr_null(filter_load("/nonexistent/words.txt", NULL, 0));

	ck_assert_ptr_null(filter_load("/tmp", err, sizeof err));
	ck_assert_str_eq(err, "/tmp: not a regular file");

	/* A file past 8 MiB (sparse: nothing is written). */
	path = tmpfile_with("", 0);
	fd = open(path, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, (off_t)FILTER_FILE_MAX + 1), 0);
	close(fd);
	ck_assert_ptr_null(filter_load(path, err, sizeof err));
	snprintf(want, sizeof want, "%s: larger than 8388608 bytes", path);
	ck_assert_str_eq(err, want);
	unlink(path);

	/* Exactly 8 MiB (of blank lines) is within the bound. */
	big = malloc(FILTER_FILE_MAX);
	ck_assert_ptr_nonnull(big);
	memset(big, '\n', FILTER_FILE_MAX);
	memcpy(big + FILTER_FILE_MAX - 4, "foo\n", 4);
	path = tmpfile_with(big, FILTER_FILE_MAX);
	free(big);
	f = filter_load(path, err, sizeof err);
	ck_assert_msg(f != NULL, "%s", err);
	ck_assert_uint_eq(filter_count(f), 1);
	expect(f, "foo", "***");
	filter_unref(f);
	unlink(path);
}
END_TEST

/* A small deterministic generator (xorshift32), so failures reproduce. */
static uint32_t
rnd(uint32_t *st)
{
	uint32_t	x = *st;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *st = x;
}

/* Writes a random lowercase word of 5 to 10 letters into w; returns its length. */
static size_t
rnd_word(uint32_t *st, char *w)
{
	size_t	n = 5 + rnd(st) % 6, i;

	for (i = 0; i < n; i++)
		w[i] = (char)('a' + rnd(st) % 26);
	w[n] = '\0';
	return n;
}

START_TEST(test_ten_thousand)
{
	struct filter	*f;
	char		*buf, w[16], text[64], want[64];
	char		 words[10000][11];
	size_t		 i, n, off = 0;
	uint32_t	 st = 12345;

	buf = malloc(10000 * 12);
	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < 10000; i++) {
		n = rnd_word(&st, w);
		memcpy(words[i], w, n + 1);
		memcpy(buf + off, w, n);
		off += n;
		buf[off++] = '\n';
	}
	f = filter_parse(buf, off, NULL, 0);
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(filter_count(f), 10000);
	for (i = 0; i < 10000; i += 97) {
		snprintf(text, sizeof text, "hey %.10s, ok", words[i]);
		snprintf(want, sizeof want, "hey %.*s, ok",
		    (int)strlen(words[i]), "***********");
		expect(f, text, want);
		/* Upper case, and never inside a longer word. */
		for (n = 0; words[i][n] != '\0'; n++)
			text[4 + n] -= 'a' - 'A';
		expect(f, text, want);
		snprintf(text, sizeof text, "hey %.10szzzzzzzzzzz ok",
		    words[i]);
		expect(f, text, NULL);
	}
	expect(f, "the quick brown fox jumps over the lazy dog", NULL);
	filter_unref(f);
	free(buf);
}
END_TEST

/* An entry for the naive matcher: folded bytes and kind. */
struct naive {
	char	 s[16];
	size_t	 len;
	int	 lead, trail;
};

static int
naive_word(unsigned char b)
{
	return b >= 0x80 || (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') ||
	    (b >= '0' && b <= '9') || b == '_';
}

/*
 * Masks text the slow way: every entry at every position.  Returns 1 with
 * the mask in out (len + 1 bytes), or 0 if nothing matched.
 */
static int
naive_mask(const struct naive *e, size_t ne, const char *text, size_t len,
    char *out)
{
	const unsigned char	*t = (const unsigned char *)text;
	size_t			 i, s, k, w = 0;
	char			*marked = calloc(len + 1, 1);
	int			 any = 0, ok;

	ck_assert_ptr_nonnull(marked);
	for (i = 0; i < ne; i++) {
		for (s = 0; s + e[i].len <= len; s++) {
			for (k = 0; k < e[i].len; k++) {
				unsigned char	c = t[s + k];

				if (c >= 'A' && c <= 'Z')
					c += 'a' - 'A';
				if (c != (unsigned char)e[i].s[k])
					break;
			}
			if (k != e[i].len)
				continue;
			ok = 1;
			if (!e[i].lead && s > 0 && naive_word(t[s - 1]))
				ok = 0;
			if (!e[i].trail && s + k < len && naive_word(t[s + k]))
				ok = 0;
			if (!ok)
				continue;
			any = 1;
			for (k = 0; k < e[i].len; k++) {
				if (t[s + k] != ' ')
					marked[s + k] = 1;
			}
		}
	}
	for (i = 0; i < len; i++) {
		if (!marked[i])
			out[w++] = text[i];
		else if ((t[i] & 0xc0) != 0x80)
			out[w++] = '*';
	}
	out[w] = '\0';
	free(marked);
	return any;
}

/* The automaton against the naive matcher on random lists and texts. */
START_TEST(test_against_naive)
{
	static const char	*alpha[] = { "a", "b", "c", "d", "e", "f", "g",
				    "h", "A", "B", " ", "_", ".", "\xc3\xa9" };
	struct naive		*e;
	struct filter		*f;
	char			*buf, *mask, text[256], want[256];
	size_t			 ne, i, k, off, len, mlen;
	uint32_t		 st = 777;
	int			 round, r, any;

	for (round = 0; round < 6; round++) {
		ne = round < 3 ? 5 + rnd(&st) % 40 : 4000;
		e = calloc(ne, sizeof *e);
		buf = malloc(ne * 20);
		ck_assert_ptr_nonnull(e);
		ck_assert_ptr_nonnull(buf);
		off = 0;
		for (i = 0; i < ne; i++) {
			len = (round < 3 ? 1 + rnd(&st) % 4 : 2 + rnd(&st) % 11);
			for (k = 0; k < len; k++) {
				e[i].s[k] = (char)('a' + rnd(&st) % 8);
				if (k > 0 && k < len - 1 && rnd(&st) % 8 == 0)
					e[i].s[k] = ' ';
				if (e[i].s[k] == ' ' && e[i].s[k - 1] == ' ')
					e[i].s[k] = 'a';
			}
			e[i].len = len;
			e[i].lead = rnd(&st) % 3 == 0;
			e[i].trail = rnd(&st) % 3 == 0;
			off += (size_t)snprintf(buf + off, 20, "%s%.*s%s\n",
			    e[i].lead ? "*" : "", (int)len, e[i].s,
			    e[i].trail ? "*" : "");
		}
		f = filter_parse(buf, off, NULL, 0);
		ck_assert_ptr_nonnull(f);
		for (i = 0; i < 300; i++) {
			len = 0;
			k = rnd(&st) % 120;
			while (k-- > 0) {
				const char	*a = alpha[rnd(&st) %
				    (sizeof alpha / sizeof alpha[0])];

				memcpy(text + len, a, strlen(a));
				len += strlen(a);
			}
			text[len] = '\0';
			any = naive_mask(e, ne, text, len, want);
			r = filter_match(f, text, len, &mask, &mlen);
			ck_assert_msg(r == any, "round %d: \"%s\": %d, want %d",
			    round, text, r, any);
			if (any) {
				ck_assert_str_eq(mask, want);
				ck_assert_uint_eq(mlen, strlen(want));
				free(mask);
			}
			ck_assert_int_eq(filter_match(f, text, len, NULL,
			    NULL), any);
		}
		filter_unref(f);
		free(buf);
		free(e);
	}
}
END_TEST

/* With every allocation failing, no match still answers 0; a mask gives -1. */
START_TEST(test_no_allocation)
{
	struct filter	*f = list("*bad*\nword\n");
	char		*mask = NULL;
	size_t		 mlen = 0;
	int		 r1, r2, r3;

	failalloc_malloc_left = failalloc_calloc_left =
	    failalloc_realloc_left = 0;
	r1 = filter_match(f, "nothing here", 12, &mask, &mlen);
	r2 = filter_match(f, "a bad word", 10, NULL, NULL);
	r3 = filter_match(f, "a bad word", 10, &mask, &mlen);
	failalloc_reset();
	ck_assert_int_eq(r1, 0);
	ck_assert_int_eq(r2, 1);
	ck_assert_int_eq(r3, -1);
	ck_assert_ptr_null(mask);
	filter_unref(f);
}
END_TEST

/* Every allocation of a build failing in turn: NULL and a reason, never a crash. */
START_TEST(test_build_out_of_memory)
{
	const char	*s = "foo\nbar*\n*baz\n";
	struct filter	*f;
	char		 err[64];
	int		 n, *left[] = { &failalloc_malloc_left,
			    &failalloc_calloc_left, &failalloc_realloc_left };
	size_t		 k;

	for (k = 0; k < 3; k++) {
		for (n = 0; ; n++) {
			strcpy(err, "");
			*left[k] = n;
			f = filter_parse(s, strlen(s), err, sizeof err);
			failalloc_reset();
			if (f != NULL)
				break;
			ck_assert_str_eq(err, "out of memory");
			ck_assert_int_lt(n, 50);
		}
		expect(f, "foo", "***");
		filter_unref(f);
	}
}
END_TEST

START_TEST(test_ref_unref)
{
	struct filter	*f = list("foo\n");

	ck_assert_ptr_eq(filter_ref(f), f);
	filter_unref(f);
	expect(f, "foo", "***");
	filter_unref(f);
	filter_unref(NULL);
}
END_TEST

/* Matches for a while on a filter whose reference it owns, then drops it. */
static void *
matcher(void *arg)
{
	struct filter	*f = arg;
	int		 i, n = 0;

	for (i = 0; i < 20000; i++)
		n += filter_match(f, "x foo y", 7, NULL, NULL);
	filter_unref(f);
	return (void *)(intptr_t)n;
}

/* Threads share a filter; the last one to let go frees it. */
START_TEST(test_shared_by_threads)
{
	struct filter	*f = list("foo\n");
	pthread_t	 th[4];
	void		*n;
	int		 i;

	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, matcher,
		    filter_ref(f)), 0);
	filter_unref(f);
	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(pthread_join(th[i], &n), 0);
		ck_assert_int_eq((int)(intptr_t)n, 20000);
	}
}
END_TEST

/* Builds the suite of filter tests. */
static Suite *
filter_suite(void)
{
	Suite	*s = suite_create("filter");
	TCase	*tc;

	tc = tcase_create("match");
	tcase_add_test(tc, test_whole_word);
	tcase_add_test(tc, test_substring);
	tcase_add_test(tc, test_prefix_suffix);
	tcase_add_test(tc, test_case_folding);
	tcase_add_test(tc, test_utf8_neighbours);
	tcase_add_test(tc, test_mask_code_points);
	tcase_add_test(tc, test_overlapping);
	tcase_add_test(tc, test_phrases);
	tcase_add_test(tc, test_empty);
	tcase_add_test(tc, test_ten_thousand);
	tcase_add_test(tc, test_against_naive);
	tcase_add_test(tc, test_no_allocation);
	suite_add_tcase(s, tc);

	tc = tcase_create("load");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_comments_blank_crlf);
	tcase_add_test(tc, test_errors);
	tcase_add_test(tc, test_load);
	tcase_add_test(tc, test_build_out_of_memory);
	suite_add_tcase(s, tc);

	tc = tcase_create("refs");
	tcase_add_test(tc, test_ref_unref);
	tcase_add_test(tc, test_shared_by_threads);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(filter_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
