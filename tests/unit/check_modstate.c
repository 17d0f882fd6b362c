/*
 * check_modstate.c: one worker's moderation state (modstate.c): bans,
 * mutes and slow modes set, replaced, cleared and ended by their until;
 * the turns of slow mode and of players' reports; what modstate_expire
 * drops and modstate_each visits.  Linked with failalloc.c (ld --wrap)
 * to run out of memory on demand.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <check.h>

#include "failalloc.h"
#include "modstate.h"

#define NOW INT64_C(1700000000000)

static struct modstate ms;

static void
setup(void)
{
	modstate_init(&ms);
}

static void
teardown(void)
{
	failalloc_reset();
	modstate_free(&ms);
}

/* Sets a ban of uid with the given end and reason; must succeed. */
static void
ban(const char *uid, int64_t until, const char *reason)
{
	char cmd[128];
	int n = snprintf(cmd, sizeof cmd, "ban %s %s", uid, reason);

	ck_assert_int_eq(modstate_set(&ms, MOD_BAN, uid, NULL, until, 0, "mod",
	    reason, cmd, (size_t)n), 0);
}

/* Sets a mute of uid in ch (NULL: everywhere); must succeed. */
static void
mute(const char *uid, const char *ch, int64_t until, const char *reason)
{
	char cmd[128];
	int n = snprintf(cmd, sizeof cmd, "mute %s %s", uid, ch ? ch : "*");

	ck_assert_int_eq(modstate_set(&ms, MOD_MUTE, uid, ch, until, 0, "mod",
	    reason, cmd, (size_t)n), 0);
}

/* Sets a slow mode of ch; must succeed. */
static void
slow(const char *ch, int32_t secs)
{
	ck_assert_int_eq(modstate_set(&ms, MOD_SLOW, NULL, ch, 0, secs, "mod",
	    NULL, "slow", 4), 0);
}

/* The reason of uid's mute in force in ch at now, or "-" if none. */
static const char *
muted(const char *uid, const char *ch, int64_t now)
{
	const struct mod_entry *e = modstate_muted(&ms, uid, ch, now);

	return e != NULL ? e->reason : "-";
}

/* ------------------------------------------------------------- bans */

START_TEST(test_ban_set_replace_clear)
{
	const struct mod_entry *e;

	ck_assert_ptr_null(modstate_banned(&ms, "u", NOW));
	ban("u", 0, "first");
	e = modstate_banned(&ms, "u", NOW);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->reason, "first");
	ck_assert_str_eq(e->by, "mod");
	ck_assert_int_eq(e->until, 0);
	ck_assert_str_eq(e->cmd, "ban u first");
	ck_assert_uint_eq(e->cmd_len, 11);
	ck_assert_ptr_null(modstate_banned(&ms, "v", NOW));
	ck_assert_ptr_null(modstate_banned(&ms, "uu", NOW));
	ck_assert_uint_eq(modstate_count(&ms), 1);
	/* Replaced, not added. */
	ban("u", NOW + 5000, "second");
	e = modstate_banned(&ms, "u", NOW);
	ck_assert_str_eq(e->reason, "second");
	ck_assert_int_eq(e->until, NOW + 5000);
	ck_assert_str_eq(e->cmd, "ban u second");
	ck_assert_uint_eq(modstate_count(&ms), 1);
	/* Ended by its until: in force before, not at or after. */
	ck_assert_ptr_nonnull(modstate_banned(&ms, "u", NOW + 4999));
	ck_assert_ptr_null(modstate_banned(&ms, "u", NOW + 5000));
	ck_assert_ptr_null(modstate_banned(&ms, "u", NOW + 9000));
	/* Lifted: once. */
	ck_assert_int_eq(modstate_clear(&ms, MOD_BAN, "u", NULL), 1);
	ck_assert_int_eq(modstate_clear(&ms, MOD_BAN, "u", NULL), 0);
	ck_assert_ptr_null(modstate_banned(&ms, "u", NOW));
	ck_assert_uint_eq(modstate_count(&ms), 0);
}
END_TEST

/* The entry's strings are its own: by cut to fit, reason and cmd copied. */
START_TEST(test_entry_copies)
{
	char cmd[] = "{\"cmd\":\"ban\"}trailing", reason[] = "why",
	    by[USER_ID_MAX + 8];
	const struct mod_entry *e;

	memset(by, 'b', sizeof by - 1);
	by[sizeof by - 1] = '\0';
	ck_assert_int_eq(modstate_set(&ms, MOD_BAN, "u", NULL, 0, 0, by,
	    reason, cmd, 13), 0);
	memset(cmd, 'x', sizeof cmd - 1);
	memset(reason, 'y', sizeof reason - 1);
	e = modstate_banned(&ms, "u", NOW);
	ck_assert_str_eq(e->cmd, "{\"cmd\":\"ban\"}");	/* cmd_len bytes */
	ck_assert_uint_eq(e->cmd_len, 13);
	ck_assert_str_eq(e->reason, "why");
	ck_assert_uint_eq(strlen(e->by), USER_ID_MAX);
	/* No by, no reason: empty. */
	ck_assert_int_eq(modstate_set(&ms, MOD_BAN, "v", NULL, 0, 0, NULL,
	    NULL, "c", 1), 0);
	e = modstate_banned(&ms, "v", NOW);
	ck_assert_str_eq(e->by, "");
	ck_assert_str_eq(e->reason, "");
	ck_assert_str_eq(e->cmd, "c");
}
END_TEST

/* ------------------------------------------------------------ mutes */

START_TEST(test_mute_channel_and_everywhere)
{
	mute("a", "lobby", 0, "in lobby");
	ck_assert_str_eq(muted("a", "lobby", NOW), "in lobby");
	ck_assert_str_eq(muted("a", "other", NOW), "-");
	ck_assert_str_eq(muted("a", NULL, NOW), "-");	/* whispers: only everywhere */
	ck_assert_str_eq(muted("b", "lobby", NOW), "-");
	mute("a", NULL, 0, "everywhere");
	ck_assert_str_eq(muted("a", "other", NOW), "everywhere");
	ck_assert_str_eq(muted("a", NULL, NOW), "everywhere");
	ck_assert_uint_eq(modstate_count(&ms), 2);
	/* Replaced in place. */
	mute("a", "lobby", 0, "again");
	ck_assert_uint_eq(modstate_count(&ms), 2);
	/* The lobby's goes alone. */
	ck_assert_int_eq(modstate_clear(&ms, MOD_MUTE, "a", "lobby"), 1);
	ck_assert_int_eq(modstate_clear(&ms, MOD_MUTE, "a", "lobby"), 0);
	ck_assert_str_eq(muted("a", "lobby", NOW), "everywhere");
	ck_assert_uint_eq(modstate_count(&ms), 1);
	/* A channel mute does not stop whispers; nor does a ban count. */
	ck_assert_int_eq(modstate_clear(&ms, MOD_MUTE, "a", NULL), 1);
	ban("a", 0, "b");
	ck_assert_ptr_null(modstate_muted(&ms, "a", "lobby", NOW));
}
END_TEST

/* Of a mute of the channel and one everywhere, the one that lasts longer. */
START_TEST(test_mute_longer_wins)
{
	mute("a", NULL, NOW + 1000, "all short");
	mute("a", "lobby", NOW + 5000, "lobby long");
	ck_assert_str_eq(muted("a", "lobby", NOW), "lobby long");
	ck_assert_str_eq(muted("a", NULL, NOW), "all short");
	ck_assert_str_eq(muted("a", "other", NOW), "all short");
	/* Once the short one ends, the other alone. */
	ck_assert_str_eq(muted("a", "lobby", NOW + 1000), "lobby long");
	ck_assert_str_eq(muted("a", "other", NOW + 1000), "-");
	ck_assert_str_eq(muted("a", "lobby", NOW + 5000), "-");

	mute("a", NULL, NOW + 9000, "all longer");
	ck_assert_str_eq(muted("a", "lobby", NOW), "all longer");
	/* No end outlasts any end, whichever it is. */
	mute("a", NULL, 0, "all forever");
	ck_assert_str_eq(muted("a", "lobby", NOW), "all forever");
	mute("a", NULL, NOW + 9000, "all longer");
	mute("a", "lobby", 0, "lobby forever");
	ck_assert_str_eq(muted("a", "lobby", NOW), "lobby forever");
	ck_assert_str_eq(muted("a", "x", NOW), "all longer");
	/* An ended one never wins. */
	mute("a", NULL, NOW - 1, "all ended");
	mute("a", "lobby", NOW + 10, "lobby soon");
	ck_assert_str_eq(muted("a", "lobby", NOW), "lobby soon");
	mute("a", NULL, NOW + 10, "all soon");
	mute("a", "lobby", NOW - 1, "lobby ended");
	ck_assert_str_eq(muted("a", "lobby", NOW), "all soon");
}
END_TEST

/* Lifting every mute of "b" leaves those of users whose ids end the same. */
START_TEST(test_mute_clear_all_of_user)
{
	mute("b", "lobby", 0, "b lobby");
	mute("b", "guild:1", 0, "b guild");
	mute("b", NULL, 0, "b all");
	mute("a|b", "lobby", 0, "a|b lobby");
	mute("a|b", NULL, NOW + 1000, "a|b all");
	mute("xb", "lobby", 0, "xb lobby");
	mute("b2", "lobby", 0, "b2 lobby");
	mute("lobby", "b", 0, "lobby in b");	/* names swapped */
	ban("b", 0, "b banned");
	ck_assert_uint_eq(modstate_count(&ms), 9);
	ck_assert_int_eq(modstate_clear(&ms, MOD_MUTE, "b", NULL), 3);
	ck_assert_str_eq(muted("b", "lobby", NOW), "-");
	ck_assert_str_eq(muted("b", "guild:1", NOW), "-");
	ck_assert_str_eq(muted("b", NULL, NOW), "-");
	ck_assert_str_eq(muted("a|b", "lobby", NOW), "a|b lobby");
	ck_assert_str_eq(muted("a|b", NULL, NOW), "a|b all");
	ck_assert_str_eq(muted("xb", "lobby", NOW), "xb lobby");
	ck_assert_str_eq(muted("b2", "lobby", NOW), "b2 lobby");
	ck_assert_str_eq(muted("lobby", "b", NOW), "lobby in b");
	ck_assert_ptr_nonnull(modstate_banned(&ms, "b", NOW));
	ck_assert_uint_eq(modstate_count(&ms), 6);
	ck_assert_int_eq(modstate_clear(&ms, MOD_MUTE, "b", NULL), 0);
	ck_assert_int_eq(modstate_clear(&ms, MOD_MUTE, "a|b", NULL), 2);
	ck_assert_uint_eq(modstate_count(&ms), 4);
}
END_TEST

/* Many mutes of one user (the collection grows): all go. */
START_TEST(test_mute_clear_many)
{
	char ch[32];
	int i;

	for (i = 0; i < 50; i++) {
		snprintf(ch, sizeof ch, "c%d", i);
		mute("u", ch, 0, "r");
		mute("v", ch, 0, "r");
	}
	ck_assert_int_eq(modstate_clear(&ms, MOD_MUTE, "u", NULL), 50);
	ck_assert_uint_eq(modstate_count(&ms), 50);
	ck_assert_str_eq(muted("v", "c49", NOW), "r");
	ck_assert_str_eq(muted("u", "c49", NOW), "-");
}
END_TEST

/* -------------------------------------------------------- slow modes */

START_TEST(test_slow_set_replace_clear)
{
	ck_assert_int_eq(modstate_slow_secs(&ms, "lobby"), 0);
	slow("lobby", 5);
	ck_assert_int_eq(modstate_slow_secs(&ms, "lobby"), 5);
	ck_assert_int_eq(modstate_slow_secs(&ms, "other"), 0);
	slow("lobby", 10);
	ck_assert_int_eq(modstate_slow_secs(&ms, "lobby"), 10);
	ck_assert_uint_eq(modstate_count(&ms), 1);
	ck_assert_int_eq(modstate_clear(&ms, MOD_SLOW, NULL, "lobby"), 1);
	ck_assert_int_eq(modstate_clear(&ms, MOD_SLOW, NULL, "lobby"), 0);
	ck_assert_int_eq(modstate_slow_secs(&ms, "lobby"), 0);
	ck_assert_uint_eq(modstate_count(&ms), 0);
}
END_TEST

START_TEST(test_slow_take)
{
	/* No slow mode: always, and nothing recorded. */
	ck_assert_int_eq(modstate_slow_take(&ms, "u", "lobby", NOW), 0);
	ck_assert_int_eq(modstate_slow_take(&ms, "u", "lobby", NOW), 0);
	ck_assert_uint_eq(ms.last.count, 0);
	slow("lobby", 10);
	ck_assert_int_eq(modstate_slow_take(&ms, "u", "lobby", NOW + 1), 0);
	ck_assert_int_eq(modstate_slow_take(&ms, "u", "lobby", NOW + 1), 10000);
	ck_assert_int_eq(modstate_slow_take(&ms, "u", "lobby", NOW + 3001),
	    7000);
	/* A refused turn is not a send: the wait runs from the last one. */
	ck_assert_int_eq(modstate_slow_take(&ms, "u", "lobby", NOW + 10000),
	    1);
	ck_assert_int_eq(modstate_slow_take(&ms, "u", "lobby", NOW + 10001),
	    0);
	ck_assert_int_eq(modstate_slow_take(&ms, "u", "lobby", NOW + 10002),
	    9999);
	/* Each user and each channel has its own turn. */
	ck_assert_int_eq(modstate_slow_take(&ms, "v", "lobby", NOW + 10002),
	    0);
	slow("other", 1);
	ck_assert_int_eq(modstate_slow_take(&ms, "u", "other", NOW + 10002),
	    0);
	ck_assert_int_eq(modstate_slow_take(&ms, "u", "other", NOW + 10502),
	    500);
	ck_assert_int_eq(modstate_slow_take(&ms, "u", "free", NOW + 10002),
	    0);
	ck_assert_uint_eq(ms.last.count, 3);
	/* A shorter interval applies to the send already made. */
	slow("lobby", 2);
	ck_assert_int_eq(modstate_slow_take(&ms, "u", "lobby", NOW + 11001),
	    1000);
	ck_assert_int_eq(modstate_slow_take(&ms, "u", "lobby", NOW + 12001),
	    0);
}
END_TEST

/* --------------------------------------------------------- reporters */

START_TEST(test_report_take)
{
	int i;

	for (i = 0; i < MOD_REPORT_BURST; i++)
		ck_assert_int_eq(modstate_report_take(&ms, "r", NOW), 0);
	ck_assert_int_eq(modstate_report_take(&ms, "r", NOW),
	    MOD_REPORT_EVERY_MS);
	ck_assert_int_eq(modstate_report_take(&ms, "r", NOW + 5000),
	    MOD_REPORT_EVERY_MS - 5000);
	/* Another reporter has its own allowance. */
	ck_assert_int_eq(modstate_report_take(&ms, "s", NOW + 5000), 0);
	/* One more every MOD_REPORT_EVERY_MS. */
	ck_assert_int_eq(modstate_report_take(&ms, "r",
	    NOW + MOD_REPORT_EVERY_MS), 0);
	ck_assert_int_eq(modstate_report_take(&ms, "r",
	    NOW + MOD_REPORT_EVERY_MS), MOD_REPORT_EVERY_MS);
	ck_assert_int_eq(modstate_report_take(&ms, "r",
	    NOW + 2 * MOD_REPORT_EVERY_MS - 1), 1);
	/* After a long pause the burst again, no more. */
	for (i = 0; i < MOD_REPORT_BURST; i++)
		ck_assert_int_eq(modstate_report_take(&ms, "r",
		    NOW + 100 * MOD_REPORT_EVERY_MS), 0);
	ck_assert_int_eq(modstate_report_take(&ms, "r",
	    NOW + 100 * MOD_REPORT_EVERY_MS), MOD_REPORT_EVERY_MS);
}
END_TEST

/* One comes back every MOD_REPORT_EVERY_MS, counted from the first taken. */
START_TEST(test_report_refill)
{
	ck_assert_int_eq(modstate_report_take(&ms, "r", NOW), 0);
	ck_assert_int_eq(modstate_report_take(&ms, "r", NOW + 15000), 0);
	ck_assert_int_eq(modstate_report_take(&ms, "r", NOW + 19000), 0);
	ck_assert_int_eq(modstate_report_take(&ms, "r", NOW + 19500), 500);
	/* At NOW + 20000 one came back; the next at NOW + 40000. */
	ck_assert_int_eq(modstate_report_take(&ms, "r", NOW + 20000), 0);
	ck_assert_int_eq(modstate_report_take(&ms, "r", NOW + 39000), 1000);
	ck_assert_int_eq(modstate_report_take(&ms, "r", NOW + 40000), 0);
	/* Two periods later, two. */
	ck_assert_int_eq(modstate_report_take(&ms, "r", NOW + 80000), 0);
	ck_assert_int_eq(modstate_report_take(&ms, "r", NOW + 80000), 0);
	ck_assert_int_eq(modstate_report_take(&ms, "r", NOW + 80000), 20000);

	/*
	 * Full again since NOW + 25000 (one came back at NOW + 20000): a
	 * burst from then waits a whole period from its first report.
	 */
	ck_assert_int_eq(modstate_report_take(&ms, "t", NOW), 0);
	ck_assert_int_eq(modstate_report_take(&ms, "t", NOW + 25000), 0);
	ck_assert_int_eq(modstate_report_take(&ms, "t", NOW + 25000), 0);
	ck_assert_int_eq(modstate_report_take(&ms, "t", NOW + 25000), 0);
	ck_assert_int_eq(modstate_report_take(&ms, "t", NOW + 25000), 20000);
	ck_assert_int_eq(modstate_report_take(&ms, "t", NOW + 40000), 5000);
	ck_assert_int_eq(modstate_report_take(&ms, "t", NOW + 45000), 0);
}
END_TEST

/* -------------------------------------------------------- expiry */

START_TEST(test_expire)
{
	struct mod_pending *p;

	ban("ended", NOW, "x");
	ban("later", NOW + 1000, "x");
	ban("never", 0, "x");
	mute("ended", "lobby", NOW - 5, "x");
	mute("ended", NULL, NOW, "x");
	mute("later", NULL, NOW + 1000, "x");
	slow("lobby", 10);
	slow("quick", 1);
	ck_assert_uint_eq(modstate_count(&ms), 8);
	modstate_expire(&ms, NOW);
	ck_assert_uint_eq(modstate_count(&ms), 5);
	ck_assert_uint_eq(ms.bans.count, 2);
	ck_assert_uint_eq(ms.mutes.count, 1);
	ck_assert_uint_eq(ms.slow.count, 2);	/* slow modes do not end */
	ck_assert_ptr_nonnull(modstate_banned(&ms, "later", NOW));
	ck_assert_ptr_nonnull(modstate_banned(&ms, "never", NOW));
	ck_assert_str_eq(muted("later", "x", NOW), "x");
	modstate_expire(&ms, NOW + 1000);
	ck_assert_uint_eq(modstate_count(&ms), 3);
	ck_assert_ptr_nonnull(modstate_banned(&ms, "never", NOW + 1000));

	/* Sends: kept while they still count. */
	ck_assert_int_eq(modstate_slow_take(&ms, "u", "lobby", NOW), 0);
	ck_assert_int_eq(modstate_slow_take(&ms, "u", "quick", NOW), 0);
	ck_assert_int_eq(modstate_slow_take(&ms, "v", "lobby", NOW + 5000), 0);
	ck_assert_uint_eq(ms.last.count, 3);
	modstate_expire(&ms, NOW + 999);
	ck_assert_uint_eq(ms.last.count, 3);
	modstate_expire(&ms, NOW + 1000);
	ck_assert_uint_eq(ms.last.count, 2);
	ck_assert_int_eq(modstate_slow_take(&ms, "u", "lobby", NOW + 9000),
	    1000);
	modstate_expire(&ms, NOW + 10000);
	ck_assert_uint_eq(ms.last.count, 1);
	ck_assert_int_eq(modstate_slow_take(&ms, "v", "lobby", NOW + 10000),
	    5000);
	/* Slow mode off: its sends no longer matter. */
	ck_assert_int_eq(modstate_clear(&ms, MOD_SLOW, NULL, "lobby"), 1);
	modstate_expire(&ms, NOW + 10001);
	ck_assert_uint_eq(ms.last.count, 0);

	/* Reporters: dropped once their allowance is full again. */
	ck_assert_int_eq(modstate_report_take(&ms, "r", NOW), 0);
	ck_assert_int_eq(modstate_report_take(&ms, "r", NOW), 0);
	ck_assert_int_eq(modstate_report_take(&ms, "s", NOW), 0);
	ck_assert_uint_eq(ms.reporters.count, 2);
	modstate_expire(&ms, NOW + MOD_REPORT_EVERY_MS - 1);
	ck_assert_uint_eq(ms.reporters.count, 2);
	modstate_expire(&ms, NOW + MOD_REPORT_EVERY_MS);
	ck_assert_uint_eq(ms.reporters.count, 1);	/* s is full */
	modstate_expire(&ms, NOW + 2 * MOD_REPORT_EVERY_MS);
	ck_assert_uint_eq(ms.reporters.count, 0);

	/* Reports under way: dropped after a minute. */
	p = malloc(sizeof *p + 1);
	ck_assert_ptr_nonnull(p);
	memset(p, 0, sizeof *p + 1);
	p->at = NOW;
	ck_assert_int_eq(strmap_put(&ms.reports, "42", p), 0);
	modstate_expire(&ms, NOW + 60000);
	ck_assert_ptr_eq(strmap_get(&ms.reports, "42"), p);
	modstate_expire(&ms, NOW + 60001);
	ck_assert_uint_eq(ms.reports.count, 0);
}
END_TEST

/* ---------------------------------------------------------- walking */

struct visits {
	char seen[16][160];
	int n;
};

static void
visit(enum mod_kind kind, const char *uid, const char *ch,
    const struct mod_entry *e, void *arg)
{
	struct visits *v = arg;

	ck_assert_int_lt(v->n, 16);
	snprintf(v->seen[v->n++], sizeof v->seen[0], "%s %s %s %s",
	    kind == MOD_BAN ? "ban" : kind == MOD_MUTE ? "mute" : "slow",
	    uid != NULL ? uid : "(null)", ch != NULL ? ch : "(null)",
	    e->reason[0] != '\0' ? e->reason : e->cmd);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(a, b);
}

START_TEST(test_each_and_count)
{
	static const char *const want[] = {
		"ban a|b (null) r1",
		"ban u (null) r2",
		"mute a|b (null) r5",
		"mute u guild:1 r4",
		"mute u lobby r3",
		"slow (null) lobby slow",
	};
	struct visits v = { .n = 0 };
	int i;

	ban("a|b", 0, "r1");
	ban("u", NOW + 10, "r2");
	ban("gone", NOW, "old");
	mute("u", "lobby", 0, "r3");
	mute("u", "guild:1", NOW + 10, "r4");
	mute("a|b", NULL, 0, "r5");
	mute("gone", NULL, NOW - 1, "old");
	mute("gone", "lobby", NOW, "old");
	slow("lobby", 3);
	ck_assert_uint_eq(modstate_count(&ms), 9);
	modstate_each(&ms, NOW, visit, &v);
	ck_assert_int_eq(v.n, 6);
	qsort(v.seen, (size_t)v.n, sizeof v.seen[0], cmp_str);
	for (i = 0; i < 6; i++)
		ck_assert_str_eq(v.seen[i], want[i]);
	/* Ten ms later the ban of u and the mute in guild:1 have ended. */
	v.n = 0;
	modstate_each(&ms, NOW + 10, visit, &v);
	ck_assert_int_eq(v.n, 4);
	/* Counted until expired. */
	ck_assert_uint_eq(modstate_count(&ms), 9);
	modstate_expire(&ms, NOW + 10);
	ck_assert_uint_eq(modstate_count(&ms), 4);
}
END_TEST

/* ------------------------------------------------------ out of memory */

/*
 * A set that runs out of memory keeps the entry there was.  (Check's own
 * asserts allocate: each result is checked once allocations work again.)
 */
START_TEST(test_set_out_of_memory)
{
	const struct mod_entry *e;
	int rc;

	ban("u", 0, "old");
	mute("u", "lobby", 0, "old mute");
	/* The entry itself. */
	failalloc_calloc_left = 0;
	rc = modstate_set(&ms, MOD_BAN, "u", NULL, NOW + 1, 0, "m2", "new",
	    "new", 3);
	failalloc_reset();
	ck_assert_int_eq(rc, -1);
	e = modstate_banned(&ms, "u", NOW);
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->reason, "old");
	ck_assert_int_eq(e->until, 0);
	ck_assert_str_eq(e->cmd, "ban u old");
	/* Its copy of the command. */
	failalloc_malloc_left = 0;
	rc = modstate_set(&ms, MOD_MUTE, "u", "lobby", NOW + 1, 0, "m2", "new",
	    "new", 3);
	failalloc_reset();
	ck_assert_int_eq(rc, -1);
	ck_assert_str_eq(muted("u", "lobby", NOW), "old mute");
	ck_assert_int_eq(modstate_muted(&ms, "u", "lobby", NOW)->until, 0);
	/* A new key whose map entry cannot be made: nothing added, nothing leaked. */
	failalloc_malloc_left = 1;
	rc = modstate_set(&ms, MOD_BAN, "v", NULL, 0, 0, "m", "r", "c", 1);
	failalloc_reset();
	ck_assert_int_eq(rc, -1);
	ck_assert_ptr_null(modstate_banned(&ms, "v", NOW));
	ck_assert_uint_eq(modstate_count(&ms), 2);
	/* And then it works. */
	ban("v", 0, "fine");
	ck_assert_uint_eq(modstate_count(&ms), 3);
}
END_TEST

/* Out of memory, the turns let the send or the report through. */
START_TEST(test_take_out_of_memory)
{
	int64_t r1, r2, r3;

	slow("lobby", 10);
	failalloc_malloc_left = 0;
	failalloc_calloc_left = 0;
	r1 = modstate_slow_take(&ms, "u", "lobby", NOW);
	r2 = modstate_slow_take(&ms, "u", "lobby", NOW);
	r3 = modstate_report_take(&ms, "r", NOW);
	failalloc_reset();
	ck_assert_int_eq(r1, 0);
	ck_assert_int_eq(r2, 0);
	ck_assert_int_eq(r3, 0);
	ck_assert_uint_eq(ms.last.count, 0);
	ck_assert_uint_eq(ms.reporters.count, 0);
}
END_TEST

static Suite *
modstate_suite(void)
{
	Suite *s = suite_create("modstate");
	TCase *tc = tcase_create("entries");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ban_set_replace_clear);
	tcase_add_test(tc, test_entry_copies);
	tcase_add_test(tc, test_mute_channel_and_everywhere);
	tcase_add_test(tc, test_mute_longer_wins);
	tcase_add_test(tc, test_mute_clear_all_of_user);
	tcase_add_test(tc, test_mute_clear_many);
	tcase_add_test(tc, test_slow_set_replace_clear);
	tcase_add_test(tc, test_each_and_count);
	suite_add_tcase(s, tc);
	tc = tcase_create("turns");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_slow_take);
	tcase_add_test(tc, test_report_take);
	tcase_add_test(tc, test_report_refill);
	tcase_add_test(tc, test_expire);
	suite_add_tcase(s, tc);
	tc = tcase_create("memory");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_set_out_of_memory);
	tcase_add_test(tc, test_take_out_of_memory);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(modstate_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
