/*
 * bus-scripts.h: the Lua scripts the Redis bus runs.  Each is atomic in
 * Redis, which is what makes seq gap-free cluster-wide and presence and
 * connection counts exact.  Key names: see bus-scripts.c.
 */
#ifndef CHATRELAY_BUS_SCRIPTS_H
#define CHATRELAY_BUS_SCRIPTS_H

/*
 * publish: KEYS seq, hist, epoch; ARGV ts, body (the msg object after its
 * seq and ts), history_size, history_ttl_ms, pub/sub channel,
 * channel_ttl_ms, the highest seq delivered to the caller, an epoch for a
 * new numbering, the highest seq given to the caller.  Gives the message
 * the next seq (above both), keeps it in the capped history, publishes it;
 * returns {seq, epoch}, or {-1, ""} if Redis is behind what the caller saw
 * delivered.
 */
extern const char bus_script_publish[];

/*
 * join: KEYS memc, memn, nodemem, seq, nodes; ARGV uid, name, field
 * (ch "\n" uid), presence_events_max, pub/sub channel, ch, node, now_ms.
 * Counts one more connection of uid in the channel (cluster-wide and for
 * this node); the user's first one publishes a presence join.  A node that
 * registers anything is entered among the nodes (so it is reaped if it
 * dies before its first heartbeat).  Returns {members, seq}.
 */
extern const char bus_script_join[];

/*
 * leave: the same keys and arguments as join (nodes, node and now unused):
 * one connection less; the user's last publishes a presence leave.
 * Returns members.
 */
extern const char bus_script_leave[];

/*
 * remember: the join script's keys and arguments, plus ARGV[9] = how many
 * connections of uid this node has in the channel.  Sets this node's count
 * to that, adjusting the cluster-wide one (after Redis lost its data, or
 * to repair it); publishes no presence.  Idempotent; returns the change.
 */
extern const char bus_script_remember[];

/* history: KEYS seq, hist.  Returns {seq, {payload...}} (oldest first). */
extern const char bus_script_history[];

/* who: KEYS memn.  Returns {count, {uid, name, ...}}. */
extern const char bus_script_who[];

/*
 * attach: KEYS user, nodeusers, nodes; ARGV node, user_connections_max,
 * uid, now_ms.
 * Returns 1 and counts the connection, or 0 if the user has too many.
 */
extern const char bus_script_attach[];

/* detach: KEYS user, nodeusers; ARGV node, uid.  One connection less. */

/*
 * reattach: KEYS user, nodeusers, nodes; ARGV node, uid, count, now_ms.
 * Sets this node's count of the user's connections (after Redis lost its
 * data).  Idempotent; returns the change.
 */
extern const char bus_script_reattach[];
extern const char bus_script_detach[];

/*
 * whisper: KEYS user; ARGV prefix, uid, frame (the whisper's payload),
 * maxlen, age_ms.  Appends {u: uid, f: frame} to the whisper stream of
 * every node where the user is connected (trimmed to about maxlen
 * entries, none older than age_ms); returns how many.
 */
extern const char bus_script_whisper[];

/*
 * control: KEYS ctlstream; ARGV command, maxlen, age_ms.  Appends {c:
 * command} to the control stream (trimmed as whisper's); returns the
 * entry's id.
 */
extern const char bus_script_control[];

/*
 * control also changes the stored moderation state: ARGV op ("" none,
 * "set": key ARGV[6] := the command, expiring at ms ARGV[7] (0 never);
 * "del": key ARGV[6] goes; "mutes": every mute of user ARGV[6] goes; "msg":
 * message seq ARGV[7] leaves channel ARGV[6]'s history), prefix P.
 *
 * modload: KEYS modkeys.  Returns the commands of the stored state (and
 * drops from the set the keys that expired).
 * modput: ARGV P, then (key, command, until ms or 0) triples: sets each key
 * that is missing (restoring after Redis lost its data).  Returns how many.
 * answer: KEYS a node's wstream; ARGV maxlen, age, part, worker.
 */
extern const char bus_script_modload[];

/*
 * raise: KEYS seq; ARGV seq, channel ttl.  Raises the channel's seq to at
 * least ARGV seq (a seq Redis gave this caller before it lost its data,
 * which no restore may know); returns the seq now.
 */
extern const char bus_script_raise[];
extern const char bus_script_modput[];
extern const char bus_script_answer[];

/*
 * heartbeat: KEYS nodes; ARGV node, now_ms.  Records that node is alive.
 */
extern const char bus_script_heartbeat[];

/*
 * reap: KEYS nodes; ARGV prefix, node, presence_events_max.  Removes every
 * membership and connection a node recorded (publishing presence leaves),
 * its whisper stream, and the node.  Idempotent; used for dead nodes and,
 * at start, for this node's previous life.
 */
extern const char bus_script_reap[];

/*
 * restore: KEYS seq, hist; ARGV n, channel_ttl_ms, history_ttl_ms, then the
 * messages an instance still holds.  After Redis lost its data: raises the
 * seq back to n (so it never repeats) and, if the history is empty, puts
 * those messages back.  Does nothing where Redis is already at n or past
 * it; returns the seq Redis had.
 */
extern const char bus_script_restore[];

#endif
