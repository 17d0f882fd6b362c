/*
 * bench-filter.c: what the word filter (src/filter.c) costs per message.
 *
 * Unlike chatrelay-bench it links libchatrelay.a: it measures one function
 * in-process, not the relay.  It builds filters of 0, 10,000 and 100,000
 * pseudo-random entries (the same every run: a fixed seed), then times
 * filter_match on chat-like texts of 64 bytes, 500 characters (some of them
 * non-ASCII) and 2,000 bytes: without a match, with one match and no mask
 * (the refuse policy), and with one match and its mask (the mask policy,
 * free included).  Each figure is the median of several runs of a loop long
 * enough for the clock.
 *
 *	bench-filter [--json] [--runs N]
 */
#include <malloc.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "filter.h"
#include "utf8.h"

#define BENCH_RUN_NS	10000000	/* each run lasts at least 10 ms */
#define BENCH_RUNS_MAX	51
#define BENCH_TEXT_MAX	4096

enum { BENCH_NOMATCH, BENCH_REFUSE, BENCH_MASK, BENCH_NMODES };

struct bench_text {
	const char	*name;
	size_t		 target;	/* bytes, or characters if chars */
	int		 chars;
	int		 utf8;		/* mix in non-ASCII words */
};

static const struct bench_text bench_texts[] = {
	{ "64 B", 64, 0, 0 },
	{ "500 chars", 500, 1, 1 },
	{ "2000 B", 2000, 0, 0 },
};

static const size_t bench_sizes[] = { 0, 10000, 100000 };

/* Words of ordinary chat, none of which the generated entries can be. */
static const char *bench_vocab[] = {
	"hey", "guys", "anyone", "up", "for", "a", "raid", "tonight?", "meet",
	"at", "the", "north", "gate", "after", "dinner,", "bring", "potions",
	"and", "arrows!", "lol", "that", "boss", "was", "brutal", "we", "need",
	"one", "more", "healer", "gg", "wp", "see", "you", "tomorrow", "ok",
	"thanks", "again", "I", "think", "so", "maybe", "later", "queue", "is",
	"long", "today", "who", "has", "spare", "keys?", "nice", "shot", "mate",
};

/* Non-ASCII words for the texts counted in characters. */
static const char *bench_vocab_utf8[] = {
	"caf\xc3\xa9", "na\xc3\xafve", "\xf0\x9f\x98\x80", "gr\xc3\xbc\xc3\x9f"
	"e", "\xe4\xbd\xa0\xe5\xa5\xbd", "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2"
	"\xd0\xb5\xd1\x82", "ol\xc3\xa9",
};

/* xorshift32: deterministic, so every run builds the same filters. */
static uint32_t
bench_rand(uint32_t *st)
{
	uint32_t	x = *st;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *st = x;
}

static uint64_t
bench_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Writes a word list of n random lowercase entries of 6 to 10 letters into
 * a malloc'd buffer (*len bytes): mostly whole words, some prefixes,
 * suffixes and substrings, as a real list has.  *first gets the first
 * whole word, for the texts that must match.
 */
static char *
bench_list(size_t n, size_t *len, char *first)
{
	char		*buf, *p;
	size_t		 i, k, wl;
	uint32_t	 st = 0x9e3779b9u, kind;
	int		 lead, trail;

	if ((buf = malloc(n * 14 + 1)) == NULL)
		return NULL;
	p = buf;
	first[0] = '\0';
	for (i = 0; i < n; i++) {
		wl = 6 + bench_rand(&st) % 5;
		/* 85% words, 7% prefixes, 5% suffixes, 3% substrings. */
		kind = bench_rand(&st) % 100;
		lead = kind >= 92;
		trail = (kind >= 85 && kind < 92) || kind >= 97;
		if (lead)
			*p++ = '*';
		for (k = 0; k < wl; k++)
			p[k] = (char)('a' + bench_rand(&st) % 26);
		if (!lead && !trail && first[0] == '\0') {
			memcpy(first, p, wl);
			first[wl] = '\0';
		}
		p += wl;
		if (trail)
			*p++ = '*';
		*p++ = '\n';
	}
	*len = (size_t)(p - buf);
	return buf;
}

/*
 * Fills out with words of the vocabulary up to t's size; with word not
 * NULL, puts it in once, about in the middle.  Returns the length in bytes.
 */
static size_t
bench_text_make(const struct bench_text *t, const char *word, char *out)
{
	const char	*w;
	size_t		 len = 0, size = 0, wl, i = 0;
	int		 put = word == NULL;

	for (;;) {
		if (!put && size >= t->target / 2) {
			w = word;
			put = 1;
		} else if (t->utf8 && i % 5 == 2)
			w = bench_vocab_utf8[(i++ / 5) %
			    (sizeof bench_vocab_utf8 / sizeof *bench_vocab_utf8)];
		else
			w = bench_vocab[(i++ * 7) %
			    (sizeof bench_vocab / sizeof *bench_vocab)];
		wl = strlen(w);
		if (len + wl + 1 >= BENCH_TEXT_MAX)
			break;
		if (len > 0)
			out[len++] = ' ';
		memcpy(out + len, w, wl);
		len += wl;
		size = t->chars ? utf8_count(out, len) : len;
		if (size >= t->target)
			break;
	}
	/* Cut back to the size exactly, at a character boundary. */
	while (size > t->target) {
		len--;
		while (len > 0 && ((unsigned char)out[len] & 0xc0) == 0x80)
			len--;
		size = t->chars ? utf8_count(out, len) : len;
	}
	out[len] = '\0';
	return len;
}

/* Returns the ns one call of mode m takes, over iters calls. */
static double
bench_loop(const struct filter *f, const char *text, size_t len, int m,
    long iters)
{
	volatile int	 sink = 0;
	char		*mask;
	size_t		 mlen;
	uint64_t	 t0;
	long		 i;

	t0 = bench_now_ns();
	for (i = 0; i < iters; i++) {
		if (m == BENCH_MASK) {
			sink += filter_match(f, text, len, &mask, &mlen);
			free(mask);
		} else
			sink += filter_match(f, text, len, NULL, NULL);
	}
	(void)sink;
	return (double)(bench_now_ns() - t0) / (double)iters;
}

static int
bench_cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Returns the median ns per call of mode m over runs runs. */
static double
bench_measure(const struct filter *f, const char *text, size_t len, int m,
    int runs)
{
	double	r[BENCH_RUNS_MAX];
	long	iters = 1000;
	int	i;

	/* Enough calls for a run to last BENCH_RUN_NS (and warm the caches). */
	while (bench_loop(f, text, len, m, iters) * (double)iters <
	    BENCH_RUN_NS)
		iters *= 2;
	for (i = 0; i < runs; i++)
		r[i] = bench_loop(f, text, len, m, iters);
	qsort(r, (size_t)runs, sizeof *r, bench_cmp);
	return r[runs / 2];
}

/* Returns the bytes malloc holds now (in arenas and in mmap'd blocks). */
static size_t
bench_heap(void)
{
	struct mallinfo2	mi = mallinfo2();

	return mi.uordblks + mi.hblkhd;
}

int
main(int argc, char **argv)
{
	static char	 text[BENCH_NMODES][BENCH_TEXT_MAX];
	struct filter	*f;
	const char	*modes[] = { "no match", "match, refuse", "match + mask" };
	const char	*keys[] = { "nomatch_ns", "refuse_ns", "mask_ns" };
	char		*list, err[256], word[16];
	double		 ns;
	size_t		 si, ti, len, tlen[BENCH_NMODES], heap, mem;
	uint64_t	 t0;
	double		 build_ms;
	int		 json = 0, runs = 7, i, m;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			json = 1;
		else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc) {
			runs = atoi(argv[++i]);
			if (runs < 1 || runs > BENCH_RUNS_MAX) {
				fprintf(stderr, "bench-filter: --runs is 1 to "
				    "%d\n", BENCH_RUNS_MAX);
				return 2;
			}
		} else {
			fprintf(stderr, "usage: bench-filter [--json] "
			    "[--runs N]\n");
			return 2;
		}
	}

	if (json)
		printf("{\"runs\": %d, \"filters\": [", runs);
	else
		printf("%-8s %-10s %6s %14s %14s %14s\n", "entries", "text",
		    "bytes", modes[0], modes[1], modes[2]);
	for (si = 0; si < sizeof bench_sizes / sizeof *bench_sizes; si++) {
		if ((list = bench_list(bench_sizes[si], &len, word)) == NULL) {
			fprintf(stderr, "bench-filter: out of memory\n");
			return 1;
		}
		heap = bench_heap();
		t0 = bench_now_ns();
		f = filter_parse(list, len, err, sizeof err);
		build_ms = (double)(bench_now_ns() - t0) / 1e6;
		mem = bench_heap() - heap;
		free(list);
		if (f == NULL) {
			fprintf(stderr, "bench-filter: %s\n", err);
			return 1;
		}
		if (json)
			printf("%s\n  {\"entries\": %zu, \"build_ms\": %.1f, "
			    "\"memory_bytes\": %zu, \"texts\": [", si ? "," : "",
			    filter_count(f), build_ms, mem);
		for (ti = 0; ti < sizeof bench_texts / sizeof *bench_texts;
		    ti++) {
			tlen[BENCH_NOMATCH] = bench_text_make(&bench_texts[ti],
			    NULL, text[BENCH_NOMATCH]);
			tlen[BENCH_REFUSE] = bench_text_make(&bench_texts[ti],
			    word, text[BENCH_REFUSE]);
			memcpy(text[BENCH_MASK], text[BENCH_REFUSE],
			    tlen[BENCH_REFUSE] + 1);
			tlen[BENCH_MASK] = tlen[BENCH_REFUSE];
			/* The texts must do what their names say. */
			if (filter_match(f, text[0], tlen[0], NULL, NULL) != 0 ||
			    (bench_sizes[si] > 0 && filter_match(f, text[1],
			    tlen[1], NULL, NULL) != 1)) {
				fprintf(stderr, "bench-filter: a text does not "
				    "match as it should\n");
				return 1;
			}
			if (json)
				printf("%s\n    {\"text\": \"%s\", \"bytes\": "
				    "%zu", ti ? "," : "", bench_texts[ti].name,
				    tlen[0]);
			else
				printf("%-8zu %-10s %6zu", filter_count(f),
				    bench_texts[ti].name, tlen[0]);
			for (m = 0; m < BENCH_NMODES; m++) {
				/* Nothing can match an empty filter. */
				if (bench_sizes[si] == 0 && m > 0) {
					if (json)
						printf(", \"%s\": null", keys[m]);
					else
						printf(" %14s", "-");
					continue;
				}
				ns = bench_measure(f, text[m], tlen[m], m, runs);
				if (json)
					printf(", \"%s\": %.1f", keys[m], ns);
				else
					printf(" %11.1f ns", ns);
			}
			printf(json ? "}" : "\n");
			fflush(stdout);
		}
		if (json)
			printf("]}");
		else
			printf("%-8zu built in %.1f ms, %zu bytes\n",
			    filter_count(f), build_ms, mem);
		filter_unref(f);
	}
	if (json)
		printf("\n]}\n");
	return 0;
}
