/*
 * check_room.c: unit tests for room.c, the two indexes of channel membership
 * (channel -> active members, member -> channels), and for strmap.c, the
 * string map under the room table.
 *
 * Members are small fake structs: room.c only stores the owner pointer.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "room.h"
#include "strmap.h"

struct member {
	int		id;
	struct room_set	set;
};

/*
 * Like ck_assert_msg, but silent when it holds: a passing ck_assert records
 * its location (a write to Check's pipe), too costly in the hot loops.
 */
#define REQUIRE(cond, ...) do {						\
	if (!(cond))							\
		ck_abort_msg(__VA_ARGS__);				\
} while (0)

/* A small deterministic generator, so failures reproduce. */
static unsigned rng_state = 1;

static unsigned
rng(void)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (rng_state >> 16) & 0x7fff;
}

/* Shuffles the n ints at v. */
static void
shuffle(int *v, int n)
{
	int	i, j, t;

	for (i = n - 1; i > 0; i--) {
		j = (int)(((unsigned)rng() << 15 | rng()) % (unsigned)(i + 1));
		t = v[i];
		v[i] = v[j];
		v[j] = t;
	}
}

/*
 * Checks both indexes for channel ch: every active member's link points at
 * its slot in the room, the room's entry points back at the member, its set
 * and its link slot, and the room holds nobody else.  present[i] says
 * whether ms[i] is in ch (1 active, 2 pending, 0 not).
 */
static void
check_room(struct room_table *t, const char *ch, struct member *ms,
    const int *present, int n, int line)
{
	struct room	*r = room_find(t, ch);
	uint32_t	 active = 0, links = 0;
	int		 i;

	for (i = 0; i < n; i++) {
		struct room_link	*l = room_set_find(&ms[i].set, ch);

		if (present[i] == 0) {
			REQUIRE(l == NULL, "line %d: %s: member %d linked",
			    line, ch, i);
			continue;
		}
		links++;
		REQUIRE(l != NULL, "line %d: %s: member %d has no link",
		    line, ch, i);
		REQUIRE(l->room == r, "line %d: %s: member %d: wrong room",
		    line, ch, i);
		REQUIRE(l->active == (present[i] == 1),
		    "line %d: %s: member %d: active %d", line, ch, i, l->active);
		if (!l->active)
			continue;
		active++;
		REQUIRE(l->idx < r->n, "line %d: %s: member %d: idx %u of "
		    "%u", line, ch, i, l->idx, r->n);
		REQUIRE(r->members[l->idx].owner == &ms[i],
		    "line %d: %s: member %d: members[%u] is someone else",
		    line, ch, i, l->idx);
		REQUIRE(r->members[l->idx].set == &ms[i].set,
		    "line %d: %s: member %d: wrong set", line, ch, i);
		REQUIRE(&ms[i].set.links[r->members[l->idx].slot] == l,
		    "line %d: %s: member %d: wrong slot", line, ch, i);
	}
	if (links == 0) {
		REQUIRE(r == NULL, "line %d: %s: room left behind", line,
		    ch);
		return;
	}
	REQUIRE(r != NULL, "line %d: %s: no room", line, ch);
	REQUIRE(strcmp(r->name, ch) == 0, "line %d: name %s", line, r->name);
	REQUIRE(r->n == active, "line %d: %s: n %u, want %u", line, ch,
	    r->n, active);
	REQUIRE(r->links == links, "line %d: %s: links %u, want %u",
	    line, ch, r->links, links);
}

#define CHECK_ROOM(t, ch, ms, present, n) \
	check_room((t), (ch), (ms), (present), (n), __LINE__)

START_TEST(test_join_activate)
{
	struct room_table	 t;
	struct member		 m[3];
	struct room		*r;
	struct room_link	*l;
	int			 pres[3] = { 0, 0, 0 };

	memset(m, 0, sizeof m);
	room_table_init(&t);
	ck_assert_ptr_null(room_find(&t, "global"));
	ck_assert_ptr_null(room_set_find(&m[0].set, "global"));

	/* Active join. */
	ck_assert_int_eq(room_join(&t, &m[0].set, &m[0], "global", 32, true),
	    0);
	r = room_find(&t, "global");
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->n, 1);
	ck_assert_uint_eq(r->links, 1);
	ck_assert_ptr_eq(r->members[0].owner, &m[0]);
	ck_assert_uint_eq(m[0].set.count, 1);
	l = room_set_find(&m[0].set, "global");
	ck_assert_ptr_nonnull(l);
	ck_assert(l->active);
	ck_assert_uint_eq(l->idx, 0);
	pres[0] = 1;
	CHECK_ROOM(&t, "global", m, pres, 3);

	/* Pending join: linked, but not among the members yet. */
	ck_assert_int_eq(room_join(&t, &m[1].set, &m[1], "global", 32, false),
	    0);
	ck_assert_ptr_eq(room_find(&t, "global"), r);
	ck_assert_uint_eq(r->n, 1);
	ck_assert_uint_eq(r->links, 2);
	l = room_set_find(&m[1].set, "global");
	ck_assert_ptr_nonnull(l);
	ck_assert(!l->active);
	pres[1] = 2;
	CHECK_ROOM(&t, "global", m, pres, 3);

	/* A room with only a pending member exists, empty. */
	ck_assert_int_eq(room_join(&t, &m[2].set, &m[2], "party:x", 32, false),
	    0);
	ck_assert_ptr_nonnull(room_find(&t, "party:x"));
	ck_assert_uint_eq(room_find(&t, "party:x")->n, 0);
	ck_assert_uint_eq(room_find(&t, "party:x")->links, 1);

	/* Activation. */
	ck_assert_int_eq(room_activate(&t, &m[1].set, &m[1], "global"), 0);
	pres[1] = 1;
	CHECK_ROOM(&t, "global", m, pres, 3);
	ck_assert_uint_eq(room_set_find(&m[1].set, "global")->idx, 1);
	ck_assert_int_eq(room_activate(&t, &m[1].set, &m[1], "global"), -1);
	ck_assert_int_eq(room_activate(&t, &m[0].set, &m[0], "global"), -1);
	ck_assert_int_eq(room_activate(&t, &m[2].set, &m[2], "global"), -1);
	ck_assert_int_eq(room_activate(&t, &m[0].set, &m[0], "nope"), -1);
	CHECK_ROOM(&t, "global", m, pres, 3);
	ck_assert_int_eq(room_activate(&t, &m[2].set, &m[2], "party:x"), 0);
	ck_assert_uint_eq(room_find(&t, "party:x")->n, 1);

	/* Names are exact. */
	ck_assert_ptr_null(room_find(&t, "Global"));
	ck_assert_ptr_null(room_find(&t, "globa"));
	ck_assert_ptr_null(room_set_find(&m[0].set, "global2"));

	room_leave_all(&t, &m[0].set, NULL, NULL);
	room_leave_all(&t, &m[1].set, NULL, NULL);
	room_leave_all(&t, &m[2].set, NULL, NULL);
	ck_assert_ptr_null(room_find(&t, "global"));
	ck_assert_ptr_null(room_find(&t, "party:x"));
	ck_assert_uint_eq(t.rooms.count, 0);
	room_table_free(&t);
}
END_TEST

START_TEST(test_join_twice_and_max)
{
	struct room_table	t;
	struct member		m;
	char			ch[16];
	int			i;

	memset(&m, 0, sizeof m);
	room_table_init(&t);

	/* Twice, active or pending, either way round. */
	ck_assert_int_eq(room_join(&t, &m.set, &m, "a", 3, true), 0);
	ck_assert_int_eq(room_join(&t, &m.set, &m, "a", 3, true), -1);
	ck_assert_int_eq(room_join(&t, &m.set, &m, "a", 3, false), -1);
	ck_assert_int_eq(room_join(&t, &m.set, &m, "b", 3, false), 0);
	ck_assert_int_eq(room_join(&t, &m.set, &m, "b", 3, true), -1);
	ck_assert_int_eq(room_join(&t, &m.set, &m, "b", 3, false), -1);
	ck_assert_uint_eq(m.set.count, 2);
	ck_assert_uint_eq(room_find(&t, "a")->n, 1);
	ck_assert_uint_eq(room_find(&t, "a")->links, 1);
	ck_assert_uint_eq(room_find(&t, "b")->n, 0);
	ck_assert_uint_eq(room_find(&t, "b")->links, 1);

	/* At most max channels, pending ones included. */
	ck_assert_int_eq(room_join(&t, &m.set, &m, "c", 3, true), 0);
	ck_assert_int_eq(room_join(&t, &m.set, &m, "d", 3, true), -2);
	ck_assert_int_eq(room_join(&t, &m.set, &m, "d", 3, false), -2);
	ck_assert_ptr_null(room_find(&t, "d"));	/* nothing left behind */
	/* Already a member wins over the limit. */
	ck_assert_int_eq(room_join(&t, &m.set, &m, "a", 3, true), -1);
	ck_assert_uint_eq(m.set.count, 3);
	/* Leaving makes room. */
	ck_assert_int_eq(room_leave(&t, &m.set, "b"), 0);
	ck_assert_int_eq(room_join(&t, &m.set, &m, "d", 3, true), 0);
	ck_assert_int_eq(room_join(&t, &m.set, &m, "e", 3, true), -2);
	/* The limit is the caller's: a larger one lets more in. */
	ck_assert_int_eq(room_join(&t, &m.set, &m, "e", 4, true), 0);
	ck_assert_uint_eq(m.set.count, 4);
	room_leave_all(&t, &m.set, NULL, NULL);

	/* max 0 refuses everything. */
	ck_assert_int_eq(room_join(&t, &m.set, &m, "a", 0, true), -2);
	ck_assert_uint_eq(t.rooms.count, 0);

	/* The largest configurable channels_max. */
	for (i = 0; i < 1024; i++) {
		snprintf(ch, sizeof ch, "c%d", i);
		REQUIRE(room_join(&t, &m.set, &m, ch, 1024, i % 2) == 0, "%s",
		    ch);
	}
	ck_assert_int_eq(room_join(&t, &m.set, &m, "one-more", 1024, true), -2);
	ck_assert_uint_eq(m.set.count, 1024);
	room_leave_all(&t, &m.set, NULL, NULL);
	ck_assert_uint_eq(t.rooms.count, 0);
	room_table_free(&t);
}
END_TEST

START_TEST(test_leave)
{
	struct room_table	t;
	struct member		m[2];
	int			pres[2] = { 1, 2 };

	memset(m, 0, sizeof m);
	room_table_init(&t);
	ck_assert_int_eq(room_leave(&t, &m[0].set, "global"), -1);

	ck_assert_int_eq(room_join(&t, &m[0].set, &m[0], "global", 8, true), 0);
	ck_assert_int_eq(room_join(&t, &m[1].set, &m[1], "global", 8, false),
	    0);
	CHECK_ROOM(&t, "global", m, pres, 2);

	/* Pending: 0; the room stays for the other member. */
	ck_assert_int_eq(room_leave(&t, &m[1].set, "global"), 0);
	pres[1] = 0;
	CHECK_ROOM(&t, "global", m, pres, 2);
	ck_assert_int_eq(room_leave(&t, &m[1].set, "global"), -1);
	ck_assert_uint_eq(m[1].set.count, 0);

	/* Active: 1; the last link takes the room with it. */
	ck_assert_int_eq(room_leave(&t, &m[0].set, "global"), 1);
	ck_assert_ptr_null(room_find(&t, "global"));
	ck_assert_int_eq(room_leave(&t, &m[0].set, "global"), -1);
	ck_assert_uint_eq(m[0].set.count, 0);

	/* A room whose only link is pending goes with it too. */
	ck_assert_int_eq(room_join(&t, &m[0].set, &m[0], "p", 8, false), 0);
	ck_assert_int_eq(room_leave(&t, &m[0].set, "p"), 0);
	ck_assert_ptr_null(room_find(&t, "p"));

	/* Not a member of this one, though of others. */
	ck_assert_int_eq(room_join(&t, &m[0].set, &m[0], "x", 8, true), 0);
	ck_assert_int_eq(room_join(&t, &m[1].set, &m[1], "y", 8, true), 0);
	ck_assert_int_eq(room_leave(&t, &m[0].set, "y"), -1);
	ck_assert_uint_eq(room_find(&t, "y")->n, 1);

	/* Rejoining after leaving works, as active or pending. */
	ck_assert_int_eq(room_leave(&t, &m[0].set, "x"), 1);
	ck_assert_int_eq(room_join(&t, &m[0].set, &m[0], "x", 8, false), 0);
	ck_assert_int_eq(room_activate(&t, &m[0].set, &m[0], "x"), 0);
	ck_assert_int_eq(room_leave(&t, &m[0].set, "x"), 1);

	room_leave_all(&t, &m[0].set, NULL, NULL);
	room_leave_all(&t, &m[1].set, NULL, NULL);
	ck_assert_uint_eq(t.rooms.count, 0);
	room_table_free(&t);
}
END_TEST

/*
 * 100 members in one channel, removed in random order: after every removal
 * every remaining member's link still finds it in room->members.
 */
START_TEST(test_swap_removal)
{
	enum { N = 100 };
	struct room_table	 t;
	struct member		*m = calloc(N, sizeof *m);
	int			 pres[N], order[N], i, k, round;
	char			 ch[16];

	ck_assert_ptr_nonnull(m);
	room_table_init(&t);
	for (round = 0; round < 4; round++) {
		rng_state = 42 + (unsigned)round;
		for (i = 0; i < N; i++) {
			m[i].id = i;
			/*
			 * Other channels first, so the link slot of "big" differs
			 * from member to member (and rounds 2-3 mix pending ones).
			 */
			for (k = 0; k < i % 5; k++) {
				snprintf(ch, sizeof ch, "other%d", k);
				REQUIRE(room_join(&t, &m[i].set, &m[i],
				    ch, 32, true) == 0, "join %s", ch);
			}
			pres[i] = round >= 2 && i % 3 == 0 ? 2 : 1;
			REQUIRE(room_join(&t, &m[i].set, &m[i], "big",
			    32, pres[i] == 1) == 0, "member %d: join", i);
			order[i] = i;
		}
		CHECK_ROOM(&t, "big", m, pres, N);
		/* Pending members turn active in random order, at the end. */
		if (round >= 2) {
			shuffle(order, N);
			for (i = 0; i < N; i++) {
				if (pres[order[i]] != 2)
					continue;
				REQUIRE(room_activate(&t, &m[order[i]].set,
				    &m[order[i]], "big") == 0, "member %d: "
				    "activate", order[i]);
				pres[order[i]] = 1;
				CHECK_ROOM(&t, "big", m, pres, N);
			}
		}
		shuffle(order, N);
		for (i = 0; i < N; i++) {
			int	who = order[i];

			if (round % 2 == 0)
				REQUIRE(room_leave(&t, &m[who].set,
				    "big") == 1, "member %d: leave", who);
			else
				room_leave_all(&t, &m[who].set, NULL, NULL);
			pres[who] = 0;
			CHECK_ROOM(&t, "big", m, pres, N);
		}
		ck_assert_ptr_null(room_find(&t, "big"));
		for (i = 0; i < N; i++)
			room_leave_all(&t, &m[i].set, NULL, NULL);
		ck_assert_uint_eq(t.rooms.count, 0);
	}
	room_table_free(&t);
	free(m);
}
END_TEST

struct call {
	char	ch[CHAN_NAME_MAX + 1];
	bool	active;
};

struct calls {
	struct call	c[64];
	int		n;
};

/* Records one room_leave_all callback. */
static void
record(const char *ch, bool active, void *arg)
{
	struct calls	*cs = arg;

	ck_assert_int_lt(cs->n, 64);
	/* The channel is still there while the callback runs. */
	snprintf(cs->c[cs->n].ch, sizeof cs->c[cs->n].ch, "%s", ch);
	cs->c[cs->n].active = active;
	cs->n++;
}

START_TEST(test_leave_all)
{
	static const struct {
		const char	*ch;
		bool		 active;
	} joins[] = {
		{ "global", true }, { "guild:1", false }, { "party:a", true },
		{ "solo", true }, { "pending-solo", false }, { "trade", true },
	};
	enum { NJ = sizeof joins / sizeof joins[0] };
	struct room_table	t;
	struct member		m[3];
	struct calls		cs;
	int			i, j, seen[NJ], pres[3];

	memset(m, 0, sizeof m);
	memset(&cs, 0, sizeof cs);
	room_table_init(&t);
	/* m[1] and m[2] share some channels with m[0], around it. */
	ck_assert_int_eq(room_join(&t, &m[1].set, &m[1], "global", 32, true), 0);
	ck_assert_int_eq(room_join(&t, &m[1].set, &m[1], "guild:1", 32, true),
	    0);
	for (i = 0; i < NJ; i++)
		ck_assert_int_eq(room_join(&t, &m[0].set, &m[0], joins[i].ch, 32,
		    joins[i].active), 0);
	ck_assert_int_eq(room_join(&t, &m[2].set, &m[2], "global", 32, true), 0);
	ck_assert_int_eq(room_join(&t, &m[2].set, &m[2], "trade", 32, false), 0);
	/* Leave one and come back, so a slot is reused. */
	ck_assert_int_eq(room_leave(&t, &m[0].set, "party:a"), 1);
	ck_assert_int_eq(room_join(&t, &m[0].set, &m[0], "party:a", 32, true),
	    0);

	room_leave_all(&t, &m[0].set, record, &cs);
	ck_assert_int_eq(cs.n, NJ);
	memset(seen, 0, sizeof seen);
	for (i = 0; i < cs.n; i++) {
		for (j = 0; j < NJ; j++)
			if (strcmp(cs.c[i].ch, joins[j].ch) == 0)
				break;
		ck_assert_msg(j < NJ, "callback for '%s'", cs.c[i].ch);
		ck_assert_msg(seen[j]++ == 0, "two callbacks for '%s'",
		    cs.c[i].ch);
		ck_assert_msg(cs.c[i].active == joins[j].active,
		    "'%s': active %d", cs.c[i].ch, cs.c[i].active);
	}
	/* The set is empty and holds no memory. */
	ck_assert_uint_eq(m[0].set.count, 0);
	ck_assert_uint_eq(m[0].set.n, 0);
	ck_assert_ptr_null(m[0].set.links);
	for (j = 0; j < NJ; j++)
		ck_assert_ptr_null(room_set_find(&m[0].set, joins[j].ch));

	/* Rooms only m[0] was in are gone; the others are intact. */
	ck_assert_ptr_null(room_find(&t, "party:a"));
	ck_assert_ptr_null(room_find(&t, "solo"));
	ck_assert_ptr_null(room_find(&t, "pending-solo"));
	pres[0] = 0;
	pres[1] = 1;
	pres[2] = 1;
	CHECK_ROOM(&t, "global", m, pres, 3);
	pres[2] = 0;
	CHECK_ROOM(&t, "guild:1", m, pres, 3);
	pres[1] = 0;
	pres[2] = 2;
	CHECK_ROOM(&t, "trade", m, pres, 3);
	ck_assert_uint_eq(t.rooms.count, 3);

	/* Once more on an empty set: no calls. */
	cs.n = 0;
	room_leave_all(&t, &m[0].set, record, &cs);
	ck_assert_int_eq(cs.n, 0);
	/* And the set can be used again. */
	ck_assert_int_eq(room_join(&t, &m[0].set, &m[0], "solo", 32, true), 0);

	room_leave_all(&t, &m[0].set, NULL, NULL);
	room_leave_all(&t, &m[1].set, record, &cs);
	room_leave_all(&t, &m[2].set, record, &cs);
	ck_assert_int_eq(cs.n, 4);
	ck_assert_uint_eq(t.rooms.count, 0);
	room_table_free(&t);
}
END_TEST

/*
 * Many members, each in many channels, leaving channels in random order and
 * coming back: both indexes stay consistent throughout.
 */
START_TEST(test_many_channels)
{
	enum { NM = 16, NC = 100, STEPS = 6000 };
	struct room_table	 t;
	struct member		*m = calloc(NM, sizeof *m);
	static int		 pres[NC][NM];
	char			 ch[16];
	int			 i, c, step;

	ck_assert_ptr_nonnull(m);
	memset(pres, 0, sizeof pres);
	room_table_init(&t);
	rng_state = 7;
	for (i = 0; i < NM; i++)
		for (c = 0; c < NC; c++) {
			snprintf(ch, sizeof ch, "ch.%d", c);
			pres[c][i] = rng() % 4 == 0 ? 2 : 1;
			REQUIRE(room_join(&t, &m[i].set, &m[i], ch, NC,
			    pres[c][i] == 1) == 0, "member %d: join %s", i, ch);
		}
	ck_assert_uint_eq(t.rooms.count, NC);
	for (i = 0; i < NM; i++)
		ck_assert_uint_eq(m[i].set.count, NC);

	for (step = 0; step < STEPS; step++) {
		i = (int)(rng() % NM);
		c = (int)(rng() % NC);
		snprintf(ch, sizeof ch, "ch.%d", c);
		switch (pres[c][i]) {
		case 0:
			REQUIRE(room_join(&t, &m[i].set, &m[i], ch, NC,
			    step % 2) == 0, "step %d: join", step);
			pres[c][i] = step % 2 ? 1 : 2;
			break;
		case 1:
			REQUIRE(room_leave(&t, &m[i].set, ch) == 1,
			    "step %d: leave", step);
			pres[c][i] = 0;
			break;
		case 2:
			if (step % 3 == 0) {
				REQUIRE(room_leave(&t, &m[i].set, ch) == 0,
				    "step %d: leave pending", step);
				pres[c][i] = 0;
			} else {
				REQUIRE(room_activate(&t, &m[i].set,
				    &m[i], ch) == 0, "step %d: activate", step);
				pres[c][i] = 1;
			}
			break;
		}
		if (step % 499 == 0 || step >= STEPS - 20)
			for (c = 0; c < NC; c++) {
				snprintf(ch, sizeof ch, "ch.%d", c);
				CHECK_ROOM(&t, ch, m, pres[c], NM);
			}
		else
			CHECK_ROOM(&t, ch, m, pres[c], NM);
	}
	for (i = 0; i < NM; i++) {
		int	count = 0;

		for (c = 0; c < NC; c++)
			count += pres[c][i] != 0;
		ck_assert_uint_eq(m[i].set.count, count);
		room_leave_all(&t, &m[i].set, NULL, NULL);
		for (c = 0; c < NC; c++)
			pres[c][i] = 0;
		if (i % 5 == 0)
			for (c = 0; c < NC; c++) {
				snprintf(ch, sizeof ch, "ch.%d", c);
				CHECK_ROOM(&t, ch, m, pres[c], NM);
			}
	}
	ck_assert_uint_eq(t.rooms.count, 0);
	room_table_free(&t);
	free(m);
}
END_TEST

/* room_table_free on an empty table, and on one whose sets have all left. */
START_TEST(test_table_free)
{
	struct room_table	t;
	struct room_set		s;

	memset(&s, 0, sizeof s);
	room_table_init(&t);
	room_table_free(&t);		/* empty */

	room_table_init(&t);
	ck_assert_int_eq(room_join(&t, &s, &s, "a", 8, true), 0);
	ck_assert_int_eq(room_join(&t, &s, &s, "b", 8, false), 0);
	room_leave_all(&t, &s, NULL, NULL);
	room_table_free(&t);
}
END_TEST

/* ---- strmap. ---- */

#define V(i) ((void *)(uintptr_t)(i))

START_TEST(test_strmap_basic)
{
	struct strmap	m;
	int		a = 1, b = 2;

	strmap_init(&m);
	ck_assert_ptr_null(strmap_get(&m, "x"));
	ck_assert_ptr_null(strmap_del(&m, "x"));
	ck_assert_uint_eq(m.count, 0);

	ck_assert_int_eq(strmap_put(&m, "x", &a), 0);
	ck_assert_ptr_eq(strmap_get(&m, "x"), &a);
	ck_assert_uint_eq(m.count, 1);
	ck_assert_ptr_null(strmap_get(&m, "y"));
	ck_assert_ptr_null(strmap_get(&m, "X"));
	ck_assert_ptr_null(strmap_get(&m, "x "));
	ck_assert_ptr_null(strmap_get(&m, ""));

	/* Replace. */
	ck_assert_int_eq(strmap_put(&m, "x", &b), 0);
	ck_assert_ptr_eq(strmap_get(&m, "x"), &b);
	ck_assert_uint_eq(m.count, 1);

	/* The key is copied. */
	{
		char	key[8] = "key";

		ck_assert_int_eq(strmap_put(&m, key, &a), 0);
		key[0] = 'K';
		ck_assert_ptr_eq(strmap_get(&m, "key"), &a);
		ck_assert_ptr_null(strmap_get(&m, key));
	}

	/* The empty key is a key. */
	ck_assert_int_eq(strmap_put(&m, "", &a), 0);
	ck_assert_ptr_eq(strmap_get(&m, ""), &a);

	/* Delete returns the value. */
	ck_assert_ptr_eq(strmap_del(&m, "x"), &b);
	ck_assert_ptr_null(strmap_get(&m, "x"));
	ck_assert_ptr_null(strmap_del(&m, "x"));
	ck_assert_ptr_eq(strmap_del(&m, ""), &a);
	ck_assert_uint_eq(m.count, 1);

	/* A NULL value is stored, though get cannot tell it from absence. */
	ck_assert_int_eq(strmap_put(&m, "n", NULL), 0);
	ck_assert_uint_eq(m.count, 2);
	ck_assert_ptr_null(strmap_del(&m, "n"));
	ck_assert_uint_eq(m.count, 1);

	strmap_free(&m);
	ck_assert_uint_eq(m.count, 0);
	ck_assert_ptr_null(strmap_get(&m, "key"));
	/* Usable after free. */
	ck_assert_int_eq(strmap_put(&m, "again", &a), 0);
	ck_assert_ptr_eq(strmap_get(&m, "again"), &a);
	strmap_free(&m);
}
END_TEST

START_TEST(test_strmap_inline)
{
	struct strmap	 m;
	char		 key[32];
	uint64_t	*v;
	void		**slot;
	int		 i;

	strmap_init(&m);
	/* Inline values: zeroed, aligned, stable while the map grows. */
	for (i = 0; i < 500; i++) {
		snprintf(key, sizeof key, "user-%d", i);
		v = strmap_put_inline(&m, key, sizeof *v * 2);
		ck_assert_ptr_nonnull(v);
		ck_assert_uint_eq((uintptr_t)v % 8, 0);
		ck_assert_uint_eq(v[0], 0);
		ck_assert_uint_eq(v[1], 0);
		v[0] = (uint64_t)i;
		v[1] = ~(uint64_t)i;
	}
	ck_assert_uint_eq(m.count, 500);
	for (i = 0; i < 500; i++) {
		snprintf(key, sizeof key, "user-%d", i);
		v = strmap_get(&m, key);
		ck_assert_ptr_nonnull(v);
		ck_assert_uint_eq(v[0], (uint64_t)i);
		ck_assert_uint_eq(v[1], ~(uint64_t)i);
		ck_assert_ptr_eq(*strmap_slot(&m, key), v);
	}
	/* Deleting an inline value frees it with the entry: NULL comes back. */
	ck_assert_ptr_null(strmap_del(&m, "user-7"));
	ck_assert_ptr_null(strmap_get(&m, "user-7"));
	ck_assert_ptr_null(strmap_slot(&m, "user-7"));
	ck_assert_uint_eq(m.count, 499);
	/* A slot is where the value lives: it can be replaced in place. */
	ck_assert_int_eq(strmap_put(&m, "plain", &m), 0);
	slot = strmap_slot(&m, "plain");
	ck_assert_ptr_eq(*slot, &m);
	*slot = key;
	ck_assert_ptr_eq(strmap_get(&m, "plain"), key);
	ck_assert_ptr_eq(strmap_del(&m, "plain"), key);
	strmap_free(&m);	/* valgrind/ASan: the inline values go too */
}
END_TEST

START_TEST(test_strmap_hash)
{
	/* FNV-1a, 32 bits: the published test vectors. */
	ck_assert_uint_eq(strmap_hash(""), 0x811c9dc5u);
	ck_assert_uint_eq(strmap_hash("a"), 0xe40c292cu);
	ck_assert_uint_eq(strmap_hash("foobar"), 0xbf9cf968u);
	ck_assert_uint_ne(strmap_hash("ab"), strmap_hash("ba"));
}
END_TEST

struct visit {
	unsigned char	*seen;
	size_t		 n, calls;
};

/* Marks key "kNNN" as seen, checking its value (a strmap_each callback). */
static void
visit(const char *key, void *value, void *arg)
{
	struct visit	*v = arg;
	unsigned long	 i;

	REQUIRE(key[0] == 'k', "key %s", key);
	i = strtoul(key + 1, NULL, 10);
	REQUIRE(i < v->n, "key %s", key);
	REQUIRE(value == V(i + 1), "key %s: wrong value", key);
	v->seen[i]++;
	v->calls++;
}

START_TEST(test_strmap_growth)
{
	enum { N = 10000 };
	struct strmap	m;
	struct visit	v;
	char		key[32];
	size_t		i;

	strmap_init(&m);
	for (i = 0; i < N; i++) {
		snprintf(key, sizeof key, "k%zu", i);
		REQUIRE(strmap_put(&m, key, V(i + 1)) == 0, "put %s", key);
		REQUIRE(m.count == i + 1, "count %zu", m.count);
		/* Growth keeps the load factor at most 4, a power of two. */
		REQUIRE(m.nbuckets * 4 >= m.count, "%zu buckets", m.nbuckets);
		REQUIRE((m.nbuckets & (m.nbuckets - 1)) == 0, "%zu buckets",
		    m.nbuckets);
	}
	for (i = 0; i < N; i++) {
		snprintf(key, sizeof key, "k%zu", i);
		REQUIRE(strmap_get(&m, key) == V(i + 1), "get %s", key);
	}
	snprintf(key, sizeof key, "k%d", N);
	ck_assert_ptr_null(strmap_get(&m, key));

	/* Each entry is visited once. */
	v.n = N;
	v.calls = 0;
	v.seen = calloc(N, 1);
	ck_assert_ptr_nonnull(v.seen);
	strmap_each(&m, visit, &v);
	ck_assert_uint_eq(v.calls, N);
	for (i = 0; i < N; i++)
		REQUIRE(v.seen[i] == 1, "k%zu seen %d times", i, v.seen[i]);

	/* Replace every third, delete every other, and look again. */
	for (i = 0; i < N; i += 3) {
		snprintf(key, sizeof key, "k%zu", i);
		REQUIRE(strmap_put(&m, key, V(i + 1)) == 0, "put %s", key);
	}
	ck_assert_uint_eq(m.count, N);
	for (i = 0; i < N; i += 2) {
		snprintf(key, sizeof key, "k%zu", i);
		REQUIRE(strmap_del(&m, key) == V(i + 1), "del %s", key);
	}
	ck_assert_uint_eq(m.count, N / 2);
	for (i = 0; i < N; i++) {
		snprintf(key, sizeof key, "k%zu", i);
		REQUIRE(strmap_get(&m, key) == (i % 2 == 0 ? NULL : V(i + 1)),
		    "get %s", key);
	}
	memset(v.seen, 0, N);
	v.calls = 0;
	strmap_each(&m, visit, &v);
	ck_assert_uint_eq(v.calls, N / 2);
	for (i = 0; i < N; i++)
		REQUIRE(v.seen[i] == i % 2, "k%zu seen %d times", i, v.seen[i]);

	/* An empty map visits nothing. */
	strmap_free(&m);
	v.calls = 0;
	strmap_each(&m, visit, &v);
	ck_assert_uint_eq(v.calls, 0);
	free(v.seen);
}
END_TEST

/* Builds the suite of room and strmap tests. */
static Suite *
room_suite(void)
{
	Suite	*s = suite_create("room");
	TCase	*tc;

	tc = tcase_create("room");
	tcase_add_test(tc, test_join_activate);
	tcase_add_test(tc, test_join_twice_and_max);
	tcase_add_test(tc, test_leave);
	tcase_add_test(tc, test_swap_removal);
	tcase_add_test(tc, test_leave_all);
	tcase_add_test(tc, test_many_channels);
	tcase_add_test(tc, test_table_free);
	suite_add_tcase(s, tc);

	tc = tcase_create("strmap");
	tcase_add_test(tc, test_strmap_basic);
	tcase_add_test(tc, test_strmap_inline);
	tcase_add_test(tc, test_strmap_hash);
	tcase_add_test(tc, test_strmap_growth);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner	*sr = srunner_create(room_suite());
	int	 failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
