/*
 * control.h: the control channel, which carries commands that every worker
 * of every instance runs: the moderators' actions, players' reports, the
 * cluster-wide questions (stats, channels, user) and the moderation state
 * put back from its store.
 *
 * A command is a small JSON object, {"cmd":NAME,"by":UID,...}, at most
 * CONTROL_MAX bytes, encoded and decoded only here, from one table of
 * commands; struct command is its decoded form.  The bus carries it (bus.h's
 * control op): without Redis it is handed straight to each worker's inbox;
 * with Redis it is stored in the cluster-wide stream "chatrelay:ctlstream",
 * which every instance reads, together with what it changes in the stored
 * moderation state (struct store_change).
 */
#ifndef CHATRELAY_CONTROL_H
#define CHATRELAY_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"

struct worker;
struct jsonw;
struct cJSON;

enum cmd_kind {
	CMD_KICK, CMD_ANNOUNCE, CMD_BAN, CMD_UNBAN, CMD_MUTE, CMD_UNMUTE,
	CMD_SLOWMODE, CMD_DELETE, CMD_REPORT, CMD_QUERY, CMD_RESTATE,
	CMD_COUNT
};

/* The questions of CMD_QUERY. */
enum query_kind { Q_STATS, Q_CHANNELS, Q_USER, Q_COUNT };

/* control_run's flags: CONTROL_REPLAY (msg.h). */

/*
 * A decoded command.  Strings point into the caller's buffers (or, after
 * control_parse, into the parsed tree); NULL means absent.
 */
struct command {
	enum cmd_kind kind;
	const char *by, *byname;	/* the moderator (or reporter) */
	const char *node;		/* the instance it came from */
	const char *nk;			/* that instance's node key */
	int64_t ts;			/* wall ms when it was sent */
	const char *user;		/* kick, ban, unban, mute, unmute, report */
	const char *ch;			/* announce, mute, unmute (NULL:
					   everywhere), slowmode, delete, report */
	const char *reason;		/* kick, ban, mute, report */
	const char *text;		/* announce; report: the message's, or NULL */
	size_t text_len;
	int64_t until;			/* ban, mute: wall ms, 0 = no end */
	int64_t secs;			/* ban, mute: as asked; slowmode */
	int64_t seq;			/* delete, report */
	/* CMD_QUERY: question q number qid of worker `worker` of nk. */
	enum query_kind q;
	int64_t qid, worker, limit;
	const char *prefix;		/* Q_CHANNELS: "" = all */
};

/*
 * Encodes cmd into jw (started by the caller).  Returns 0, or -1 if memory
 * ran out or it is longer than CONTROL_MAX.
 */
int control_encode(struct jsonw *jw, const struct command *cmd);

/*
 * Decodes and validates command json (len bytes, from any instance: checked
 * like a client's input).  Returns 0 and fills cmd (its strings point into
 * *root, which the caller frees with cJSON_Delete), or -1 (logged; *root
 * is NULL).
 */
int control_parse(const char *json, size_t len, struct command *cmd,
    struct cJSON **root);

struct store_change;

/* Fills chg with what cmd changes in the stored moderation state. */
void control_store_change(const struct command *cmd,
    struct store_change *chg);

/*
 * Sends cmd to every worker of every instance for client `client` of w,
 * whose request had id `id`.  The client is answered ok once it is on its
 * way everywhere (with Redis: stored where every instance reads it, with
 * what it changes in the stored state), or err (unavailable, too_long).
 * Commands that the sender answers itself (a query) are sent with
 * `answer` false: the client hears nothing from here unless it fails.
 */
void control_send(struct worker *w, uint64_t client, const char *id,
    const struct command *cmd, bool answer);

/*
 * Runs command json (len bytes, from any instance: validated like a
 * client's input) on worker w, with flags CONTROL_*.  Returns 0, or -1 if
 * it was refused (logged).
 */
int control_run(struct worker *w, const char *json, size_t len,
    unsigned flags);

/* The protocol's name of a command ("kick", ...). */
const char *control_name(enum cmd_kind kind);

#endif
