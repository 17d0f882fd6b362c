/*
 * modstate.h: the moderation state one worker holds: bans, mutes and slow
 * modes, each with the control command that made it (what the store keeps:
 * Redis or the state file), and the last send of each user to each channel
 * in slow mode.
 *
 * Every worker of every instance holds the same state: the control channel
 * (control.h) runs each change on all of them.  Times are wall-clock ms
 * since the epoch; an entry whose until has passed counts as gone (and is
 * dropped at the next modstate_expire).
 */
#ifndef CHATRELAY_MODSTATE_H
#define CHATRELAY_MODSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "chan.h"
#include "strmap.h"

enum mod_kind { MOD_BAN, MOD_MUTE, MOD_SLOW };

/* One ban, mute or slow mode. */
struct mod_entry {
	int64_t until;		/* wall ms when it ends; 0 = never */
	int32_t secs;		/* a slow mode's interval */
	size_t cmd_len;
	char *cmd;		/* the command that set it, NUL-terminated */
	char by[USER_ID_MAX + 1];
	char reason[];		/* NUL-terminated */
};

struct modstate {
	struct strmap bans;	/* uid -> struct mod_entry * */
	struct strmap mutes;	/* "CH\nUID" ("*\nUID": everywhere) -> entry * */
	struct strmap slow;	/* ch -> entry * */
	struct strmap last;	/* "CH\nUID" -> int64_t (inline): the last send */
	/* Players' reports: the rate of each reporter, and those under way. */
	struct strmap reporters;	/* uid -> struct mod_reporter (inline) */
	struct strmap reports;		/* session id -> struct mod_pending * */
};

/* A reporter's allowance: MOD_REPORT_BURST, one more every MOD_REPORT_EVERY_MS. */
#define MOD_REPORT_BURST 3
#define MOD_REPORT_EVERY_MS 20000
struct mod_reporter {
	int64_t t;		/* wall ms of the last refill */
	int tokens;
};

/* A report waiting for its message to be read from history. */
struct mod_pending {
	int64_t at;		/* wall ms */
	char user[USER_ID_MAX + 1];
	char reason[];
};

void modstate_init(struct modstate *ms);
/* Frees every entry. */
void modstate_free(struct modstate *ms);

/*
 * Sets a ban (uid), a mute (uid; ch NULL: everywhere) or a slow mode (ch),
 * replacing the one there was.  cmd (cmd_len bytes) is copied.  Returns 0,
 * or -1 if memory ran out (the old entry is kept then).
 */
int modstate_set(struct modstate *ms, enum mod_kind kind, const char *uid,
    const char *ch, int64_t until, int32_t secs, const char *by,
    const char *reason, const char *cmd, size_t cmd_len);

/*
 * Lifts a ban (uid), a slow mode (ch), or a mute: of ch, or with ch NULL
 * every mute of uid (everywhere and per channel).  Returns how many entries
 * went.
 */
int modstate_clear(struct modstate *ms, enum mod_kind kind, const char *uid,
    const char *ch);

/* Returns uid's ban in force at now, or NULL. */
const struct mod_entry *modstate_banned(const struct modstate *ms,
    const char *uid, int64_t now);

/*
 * Returns the mute in force at now that stops uid sending to ch (a mute of
 * ch or everywhere; ch NULL, for a whisper: everywhere only), or NULL.  Of
 * two, the one that lasts longer.
 */
const struct mod_entry *modstate_muted(const struct modstate *ms,
    const char *uid, const char *ch, int64_t now);

/* Returns ch's slow mode interval in seconds, 0 if none. */
int32_t modstate_slow_secs(const struct modstate *ms, const char *ch);

/*
 * Takes uid's turn in slow-mode channel ch at now: returns 0 if it may send
 * (and records the send), else the ms until it may.  A channel without slow
 * mode always returns 0 and records nothing.
 */
int64_t modstate_slow_take(struct modstate *ms, const char *uid,
    const char *ch, int64_t now);

/*
 * Takes one of reporter uid's reports at now: returns 0 if it may report,
 * else the ms until it may.
 */
int64_t modstate_report_take(struct modstate *ms, const char *uid,
    int64_t now);

/*
 * Drops the entries that ended by now, the sends too old to matter, full
 * reporters' allowances and reports under way for more than a minute.
 */
void modstate_expire(struct modstate *ms, int64_t now);

/*
 * Calls fn for every entry in force at now (uid NULL for a slow mode, ch
 * NULL for a ban and a mute everywhere).  fn may not change ms.
 */
void modstate_each(const struct modstate *ms, int64_t now,
    void (*fn)(enum mod_kind kind, const char *uid, const char *ch,
    const struct mod_entry *e, void *arg), void *arg);

/* Returns how many entries (of every kind) ms holds. */
size_t modstate_count(const struct modstate *ms);

#endif
