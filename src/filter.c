/*
 * filter.c: the word filter, one Aho-Corasick automaton over every entry.
 *
 * A text is read once, byte by byte, whatever the number of entries; ASCII
 * letters are folded by the byte-to-class map, so the text is never copied.
 * Every byte that occurs in no entry is class 0, which always leads back to
 * the root.  The states are numbered breadth first, children in byte order,
 * so the children of a state are consecutive: [first[s], first[s + 1]).
 *
 * The first states (the root and the shallow ones, where a text spends
 * most of its time) have a dense row of next states, one per class, already
 * resolved through the failure links (a DFA), within FILTER_DENSE_BYTES.
 * The deeper ones keep only their children and a failure link: one that has
 * no child for a byte falls back along its failure links, which always end
 * in a dense state (a failure link leads to a shallower state, and the
 * dense ones are the shallowest).  10,000 entries of 6 to 10 letters take
 * about 1.1 MB so; a dense row for every state took 7 MB and half as long
 * again per byte, its rows no longer fitting in the caches (BENCHMARKS.md
 * has what bench/bench-filter measured, and for other budgets).  The
 * matching loop carries a state as its code (see filter_code), so a step
 * through a dense row is one load.
 *
 * Where an entry ends the next state carries FILTER_HIT; the entries ending
 * there are found through out[] (the first state on the failure chain that
 * ends entries), and whether their kind (word, prefix, suffix, substring)
 * accepts the place is checked against the bytes around it only then.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "filter.h"
#include "log.h"
#include "utf8.h"

/* The kinds of entries, as bits: several entries can end in one state. */
#define FILTER_WORD	0x1	/* word */
#define FILTER_PREFIX	0x2	/* part* */
#define FILTER_SUFFIX	0x4	/* *part */
#define FILTER_ANY	0x8	/* *part* */

/* Set in a dense row's next state when entries end there. */
#define FILTER_HIT	0x80000000u

/* The most memory the dense rows may take. */
#define FILTER_DENSE_BYTES	(256 * 1024)

/* A byte the mask marks as matched (0xff is never in UTF-8). */
#define FILTER_MARK	0xff

struct filter {
	atomic_int	 refs;
	size_t		 nentries;
	uint32_t	 nstates;
	uint32_t	 ndense;	/* states [0, ndense) have a dense row */
	uint32_t	 nclass;
	uint32_t	 dense_end;	/* ndense * nclass: the first sparse code */
	uint8_t		 cls[256];	/* byte -> class (0: in no entry) */
	uint32_t	*dense;		/* ndense rows of nclass next states */
	uint32_t	*first;		/* nstates + 1; children of s */
	uint32_t	*fail;		/* the longest proper suffix's state */
	uint32_t	*out;		/* the first state on the failure chain,
					   s included, where entries end, or 0 */
	uint8_t		*label;		/* the class of the edge into s */
	uint8_t		*kinds;		/* FILTER_* of the entries ending at s */
	uint8_t		*depth;		/* s's depth: the length of its entries */
};

/* One parsed entry, folded, pointing into the build's pattern buffer. */
struct filter_entry {
	const uint8_t	*s;
	uint8_t		 len;
	uint8_t		 kind;
};

/* What parsing collects before the automaton is built from it. */
struct filter_list {
	uint8_t			*pat;		/* the entries' bytes */
	size_t			 patlen;
	struct filter_entry	*ent;		/* room for every line */
	size_t			 nent;
};

/* Writes "NAME:LINE: why" (or "line LINE: why" without a name) into err. */
static void
filter_line_error(char *err, size_t errlen, const char *name,
    unsigned long lineno, const char *why)
{
	if (name != NULL)
		errbuf(err, errlen, "%s:%lu: %s", name, lineno, why);
	else
		errbuf(err, errlen, "line %lu: %s", lineno, why);
}

static int
filter_is_blank(uint8_t c)
{
	return c == ' ' || c == '\t';
}

/* Returns 1 if b belongs to a word: ASCII letter, digit, '_' or any byte >= 0x80. */
static inline int
filter_is_word(uint8_t b)
{
	return b >= 0x80 || (uint8_t)((b | 0x20) - 'a') < 26 ||
	    (uint8_t)(b - '0') < 10 || b == '_';
}

static inline uint8_t
filter_fold(uint8_t b)
{
	return (b >= 'A' && b <= 'Z') ? b + ('a' - 'A') : b;
}

static void
filter_free(struct filter *f)
{
	free(f->dense);
	free(f->first);
	free(f->fail);
	free(f->out);
	free(f->label);
	free(f->kinds);
	free(f->depth);
	free(f);
}

/*
 * Parses one line (its ending removed) into l.  Returns 0 if it was an
 * entry or nothing, -1 with the reason in why.
 */
static int
filter_parse_line(struct filter_list *l, const uint8_t *p, size_t n,
    char *why, size_t whylen)
{
	struct filter_entry	*e;
	uint8_t			*dst;
	size_t			 i;
	int			 lead, trail;

	while (n > 0 && filter_is_blank(p[0])) {
		p++;
		n--;
	}
	while (n > 0 && filter_is_blank(p[n - 1]))
		n--;
	if (n == 0 || p[0] == '#')
		return 0;

	if (n > FILTER_ENTRY_MAX) {
		errbuf(why, whylen, "entry is longer than %d bytes",
		    FILTER_ENTRY_MAX);
		return -1;
	}
	if (!utf8_valid((const char *)p, n)) {
		errbuf(why, whylen, "entry is not valid UTF-8");
		return -1;
	}
	for (i = 0; i < n; i++) {
		if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f) {
			errbuf(why, whylen, "entry holds a control "
			    "character");
			return -1;
		}
	}
	if (l->nent == FILTER_ENTRIES_MAX) {
		errbuf(why, whylen, "more than %d entries",
		    FILTER_ENTRIES_MAX);
		return -1;
	}

	lead = p[0] == '*';
	trail = n > 1 && p[n - 1] == '*';
	p += lead;
	n -= lead + trail;
	if (n == 0) {
		errbuf(why, whylen, "entry has nothing but '*'");
		return -1;
	}
	if (filter_is_blank(p[0]) || filter_is_blank(p[n - 1])) {
		errbuf(why, whylen, "space next to '*'");
		return -1;
	}

	e = &l->ent[l->nent++];

	/* Folded, with each run of blanks made one space. */
	dst = l->pat + l->patlen;
	e->s = dst;
	for (i = 0; i < n; i++) {
		if (filter_is_blank(p[i])) {
			if (dst[-1] != ' ')
				*dst++ = ' ';
		} else
			*dst++ = filter_fold(p[i]);
	}
	e->len = (uint8_t)(dst - e->s);
	l->patlen += e->len;

	if (lead && trail)
		e->kind = FILTER_ANY;
	else if (lead)
		e->kind = FILTER_SUFFIX;
	else if (trail)
		e->kind = FILTER_PREFIX;
	else
		e->kind = FILTER_WORD;
	return 0;
}

/*
 * Splits buf into lines and parses each into l.  Returns 0, or -1 with the
 * reason (and line number) in err.
 */
static int
filter_parse_lines(struct filter_list *l, const uint8_t *buf, size_t len,
    const char *name, char *err, size_t errlen)
{
	const uint8_t	*p = buf, *end = buf + len, *nl, *le;
	unsigned long	 lineno = 0;
	char		 why[128];

	if (len >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;		/* A UTF-8 byte order mark. */
	while (p < end) {
		lineno++;
		nl = memchr(p, '\n', end - p);
		le = nl != NULL ? nl : end;
		if (le > p && le[-1] == '\r')
			le--;
		if (filter_parse_line(l, p, le - p, why, sizeof why) != 0) {
			filter_line_error(err, errlen, name, lineno, why);
			return -1;
		}
		p = nl != NULL ? nl + 1 : end;
	}
	return 0;
}

/* Orders entries by their bytes, a prefix first. */
static int
filter_entry_cmp(const void *a, const void *b)
{
	const struct filter_entry	*x = a, *y = b;
	int				 c;

	c = memcmp(x->s, y->s, x->len < y->len ? x->len : y->len);
	if (c != 0)
		return c;
	return (int)x->len - (int)y->len;
}

/* Returns the length of the common prefix of two entries. */
static size_t
filter_lcp(const struct filter_entry *x, const struct filter_entry *y)
{
	size_t	n = x->len < y->len ? x->len : y->len, i;

	for (i = 0; i < n && x->s[i] == y->s[i]; i++)
		;
	return i;
}

/* Gives every byte of the entries a class, in byte order; folds ASCII. */
static void
filter_classes(struct filter *f, const struct filter_list *l)
{
	uint8_t	seen[256] = { 0 };
	size_t	i;
	int	b;

	for (i = 0; i < l->patlen; i++)
		seen[l->pat[i]] = 1;
	f->nclass = 1;
	for (b = 0; b < 256; b++) {
		if (seen[b])
			f->cls[b] = (uint8_t)f->nclass++;
	}
	for (b = 'A'; b <= 'Z'; b++)
		f->cls[b] = f->cls[b + ('a' - 'A')];
}

/*
 * Numbers the trie's states breadth first from the sorted entries: at depth
 * d, the entries at least d long that share their prefix of d - 1 bytes are
 * consecutive, so each new state is found by comparing with the entry
 * before.  Fills label, depth, kinds and first.  Returns 0, or -1 if memory
 * ran out.
 */
static int
filter_states(struct filter *f, const struct filter_list *l)
{
	uint32_t	*cur, next = 1, parent, t, pparent = 0, pstate = 0;
	size_t		 i, d, maxlen = 0;
	uint8_t		 b, pbyte = 0;
	int		 have;

	if ((cur = calloc(l->nent > 0 ? l->nent : 1, sizeof *cur)) == NULL)
		return -1;
	for (i = 0; i < l->nent; i++) {
		if (l->ent[i].len > maxlen)
			maxlen = l->ent[i].len;
	}
	for (i = 0; i <= f->nstates; i++)
		f->first[i] = UINT32_MAX;
	for (d = 1; d <= maxlen; d++) {
		have = 0;
		for (i = 0; i < l->nent; i++) {
			if (l->ent[i].len < d)
				continue;
			parent = cur[i];
			b = l->ent[i].s[d - 1];
			if (have && parent == pparent && b == pbyte)
				t = pstate;
			else {
				t = next++;
				f->label[t] = f->cls[b];
				f->depth[t] = (uint8_t)d;
				if (f->first[parent] == UINT32_MAX)
					f->first[parent] = t;
			}
			if (l->ent[i].len == d)
				f->kinds[t] |= l->ent[i].kind;
			cur[i] = t;
			pparent = parent;
			pbyte = b;
			pstate = t;
			have = 1;
		}
	}
	free(cur);

	/* A state without children: an empty range where the next one starts. */
	f->first[f->nstates] = f->nstates;
	for (i = f->nstates; i-- > 0;) {
		if (f->first[i] == UINT32_MAX)
			f->first[i] = f->first[i + 1];
	}
	return 0;
}

/* Returns the child of state s along class c, or 0 if it has none. */
static inline uint32_t
filter_child(const struct filter *f, uint32_t s, uint8_t c)
{
	uint32_t	i, end = f->first[s + 1];

	for (i = f->first[s]; i < end; i++) {
		if (f->label[i] == c)
			return i;
	}
	return 0;
}

/*
 * A state as the matching loop carries it: a dense state as the offset of
 * its row (s * nclass), a sparse one as ndense * nclass + (s - ndense), so
 * the next state of a dense one is one load, with no multiplication.
 */
static inline uint32_t
filter_code(const struct filter *f, uint32_t s)
{
	if (s < f->ndense)
		return s * f->nclass;
	return f->dense_end + (s - f->ndense);
}

/* Returns the state of code (FILTER_HIT clear). */
static inline uint32_t
filter_state(const struct filter *f, uint32_t code)
{
	if (code < f->dense_end)
		return code / f->nclass;
	return code - f->dense_end + f->ndense;
}

/*
 * Returns the code after state s on class c, following failure links, with
 * FILTER_HIT set if entries end there.
 */
static uint32_t
filter_next(const struct filter *f, uint32_t s, uint8_t c)
{
	uint32_t	t;

	for (;;) {
		if (s < f->ndense)
			return f->dense[s * f->nclass + c];
		if ((t = filter_child(f, s, c)) != 0) {
			return filter_code(f, t) |
			    (f->out[t] != 0 ? FILTER_HIT : 0);
		}
		s = f->fail[s];
	}
}

/*
 * Computes the failure links, out[] and the dense rows in breadth-first
 * order, where every state a state's links lead to is already done.
 */
static void
filter_links(struct filter *f)
{
	uint32_t	 s, t, *row, *frow;
	size_t		 c;

	f->fail[0] = 0;
	f->out[0] = 0;
	for (s = 0; s < f->nstates; s++) {
		for (t = f->first[s]; t < f->first[s + 1]; t++) {
			if (s == 0)
				f->fail[t] = 0;
			else {
				f->fail[t] = filter_state(f, filter_next(f,
				    f->fail[s], f->label[t]) & ~FILTER_HIT);
			}
			f->out[t] = f->kinds[t] != 0 ? t : f->out[f->fail[t]];
		}
		if (s >= f->ndense)
			continue;
		row = f->dense + s * f->nclass;
		if (s == 0) {
			for (c = 0; c < f->nclass; c++)
				row[c] = 0;
		} else {
			frow = f->dense + f->fail[s] * f->nclass;
			memcpy(row, frow, f->nclass * sizeof *row);
		}
		for (t = f->first[s]; t < f->first[s + 1]; t++) {
			row[f->label[t]] = filter_code(f, t) |
			    (f->out[t] != 0 ? FILTER_HIT : 0);
		}
	}
}

/* Builds the automaton from the parsed entries.  Returns NULL if memory ran out. */
static struct filter *
filter_build(struct filter_list *l)
{
	struct filter	*f;
	size_t		 i, n;
	uint64_t	 nstates = 1;

	if ((f = calloc(1, sizeof *f)) == NULL)
		return NULL;
	atomic_init(&f->refs, 1);
	f->nentries = l->nent;
	filter_classes(f, l);

	if (l->nent > 0)
		qsort(l->ent, l->nent, sizeof *l->ent, filter_entry_cmp);
	for (i = 0; i < l->nent; i++) {
		nstates += l->ent[i].len;
		if (i > 0)
			nstates -= filter_lcp(&l->ent[i - 1], &l->ent[i]);
	}
	f->nstates = (uint32_t)nstates;	/* <= 1 + 100,000 * 128 */
	n = f->nstates;
	f->ndense = FILTER_DENSE_BYTES / (f->nclass * sizeof *f->dense);
	if (f->ndense > f->nstates)
		f->ndense = f->nstates;

	f->dense_end = f->ndense * f->nclass;
	f->dense = calloc(f->dense_end, sizeof *f->dense);
	f->first = calloc(n + 1, sizeof *f->first);
	f->fail = calloc(n, sizeof *f->fail);
	f->out = calloc(n, sizeof *f->out);
	f->label = calloc(n, 1);
	f->kinds = calloc(n, 1);
	f->depth = calloc(n, 1);
	if (f->dense == NULL || f->first == NULL || f->fail == NULL ||
	    f->out == NULL || f->label == NULL || f->kinds == NULL ||
	    f->depth == NULL || filter_states(f, l) != 0) {
		filter_free(f);
		return NULL;
	}
	filter_links(f);
	return f;
}

/* Parses and builds; name (or NULL) prefixes the line numbers of errors. */
static struct filter *
filter_parse_named(const char *buf, size_t len, const char *name, char *err,
    size_t errlen)
{
	struct filter_list	 l = { 0 };
	struct filter		*f = NULL;
	const char		*p, *end;
	size_t			 lines;

	if (len > FILTER_FILE_MAX) {
		if (name != NULL)
			errbuf(err, errlen, "%s: larger than %d bytes",
			    name, FILTER_FILE_MAX);
		else
			errbuf(err, errlen, "larger than %d bytes",
			    FILTER_FILE_MAX);
		return NULL;
	}
	/*
	 * Entries are never longer than the lines they come from, and there
	 * are no more of them than lines (nor than one past the bound).
	 */
	lines = 1;
	for (p = buf, end = buf + len; len > 0 && lines <= FILTER_ENTRIES_MAX &&
	    (p = memchr(p, '\n', end - p)) != NULL; p++)
		lines++;
	if ((l.pat = malloc(len > 0 ? len : 1)) == NULL ||
	    (l.ent = calloc(lines, sizeof *l.ent)) == NULL)
		goto oom;
	if (filter_parse_lines(&l, (const uint8_t *)buf, len, name, err,
	    errlen) != 0)
		goto out;
	if ((f = filter_build(&l)) == NULL)
		goto oom;
	goto out;

oom:
	if (name != NULL)
		errbuf(err, errlen, "%s: out of memory", name);
	else
		errbuf(err, errlen, "out of memory");
out:
	free(l.ent);
	free(l.pat);
	return f;
}

struct filter *
filter_parse(const char *buf, size_t len, char *err, size_t errlen)
{
	return filter_parse_named(buf, len, NULL, err, errlen);
}

struct filter *
filter_load(const char *path, char *err, size_t errlen)
{
	struct filter	*f = NULL;
	struct stat	 st;
	char		*buf = NULL, *nb;
	size_t		 len = 0, size;
	ssize_t		 r;
	int		 fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		errbuf(err, errlen, "%s: cannot open: %s", path,
		    strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		errbuf(err, errlen, "%s: not a regular file", path);
		goto out;
	}
	if (st.st_size > FILTER_FILE_MAX) {
		errbuf(err, errlen, "%s: larger than %d bytes", path,
		    FILTER_FILE_MAX);
		goto out;
	}

	/*
	 * Read to the end, one byte past the bound at most: the file may have
	 * changed since fstat.
	 */
	size = (size_t)st.st_size + 1;
	for (;;) {
		if (buf == NULL || len == size) {
			if (buf != NULL)
				size = size > FILTER_FILE_MAX / 2 ?
				    FILTER_FILE_MAX + 1 : size * 2;
			if ((nb = realloc(buf, size)) == NULL) {
				errbuf(err, errlen, "%s: out of memory",
				    path);
				goto out;
			}
			buf = nb;
		}
		r = read(fd, buf + len, size - len);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			errbuf(err, errlen, "%s: cannot read: %s", path,
			    strerror(errno));
			goto out;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > FILTER_FILE_MAX) {
			errbuf(err, errlen, "%s: larger than %d bytes",
			    path, FILTER_FILE_MAX);
			goto out;
		}
	}
	f = filter_parse_named(buf, len, path, err, errlen);
out:
	free(buf);
	close(fd);
	return f;
}

size_t
filter_count(const struct filter *f)
{
	return f != NULL ? f->nentries : 0;
}

struct filter *
filter_ref(struct filter *f)
{
	atomic_fetch_add_explicit(&f->refs, 1, memory_order_relaxed);
	return f;
}

void
filter_unref(struct filter *f)
{
	if (f == NULL)
		return;
	if (atomic_fetch_sub_explicit(&f->refs, 1, memory_order_acq_rel) == 1)
		filter_free(f);
}

/*
 * Returns 1 if an entry on the out chain from state u, matched in t up to
 * byte end, is of a kind the bytes around the match accept; *start gets
 * where the longest such match starts.
 */
static inline int
filter_accept(const struct filter *f, uint32_t u, const uint8_t *t,
    size_t len, size_t end, size_t *start)
{
	size_t	 s;
	int	 before, after;
	uint8_t	 k;

	after = end == len || !filter_is_word(t[end]);
	/* Longest first: the first accepted covers the others. */
	for (; u != 0; u = f->out[f->fail[u]]) {
		k = f->kinds[u];
		s = end - f->depth[u];
		before = s == 0 || !filter_is_word(t[s - 1]);
		if ((k & FILTER_ANY) ||
		    ((k & FILTER_PREFIX) && before) ||
		    ((k & FILTER_SUFFIX) && after) ||
		    ((k & FILTER_WORD) && before && after)) {
			*start = s;
			return 1;
		}
	}
	return 0;
}

/*
 * Turns the marked copy of t (len bytes) into the mask in place: each
 * marked character becomes one '*' (a match starts and ends on character
 * boundaries, so its continuation bytes are simply dropped).  Unmarked
 * stretches move with memmove.  Returns the mask's length.
 */
static size_t
filter_squeeze(uint8_t *m, const uint8_t *t, size_t len)
{
	uint8_t	*p;
	size_t	 r = 0, w = 0, n;

	while ((p = memchr(m + r, FILTER_MARK, len - r)) != NULL) {
		n = (size_t)(p - (m + r));
		memmove(m + w, m + r, n);
		w += n;
		for (r += n; r < len && m[r] == FILTER_MARK; r++) {
			if ((t[r] & 0xc0) != 0x80)
				m[w++] = '*';
		}
	}
	memmove(m + w, m + r, len - r);
	w += len - r;
	m[w] = '\0';
	return w;
}

int
filter_match(const struct filter *f, const char *text, size_t len,
    char **mask, size_t *mask_len)
{
	const uint8_t	*t = (const uint8_t *)text;
	const uint32_t	*dense;
	uint8_t		*m = NULL;
	uint32_t	 code = 0, dense_end, v, s;
	size_t		 i, start, k;
	uint8_t		 c;

	if (mask != NULL)
		*mask = NULL;
	if (mask_len != NULL)
		*mask_len = 0;
	if (f == NULL || f->nentries == 0)
		return 0;

	dense = f->dense;
	dense_end = f->dense_end;
	for (i = 0; i < len; i++) {
		c = f->cls[t[i]];
		if (code < dense_end)
			v = dense[code + c];
		else if (c == 0)
			v = 0;		/* in no entry: back to the root */
		else
			v = filter_next(f, filter_state(f, code), c);
		code = v & ~FILTER_HIT;
		if ((v & FILTER_HIT) == 0)
			continue;
		s = filter_state(f, code);
		if (!filter_accept(f, f->out[s], t, len, i + 1, &start))
			continue;
		if (mask == NULL)
			return 1;
		if (m == NULL) {
			if ((m = malloc(len + 1)) == NULL)
				return -1;
			memcpy(m, t, len);
		}
		/* Spaces inside a phrase stay spaces. */
		for (k = start; k <= i; k++) {
			if (t[k] != ' ')
				m[k] = FILTER_MARK;
		}
	}
	if (m == NULL)
		return 0;
	k = filter_squeeze(m, t, len);
	*mask = (char *)m;
	if (mask_len != NULL)
		*mask_len = k;
	return 1;
}
