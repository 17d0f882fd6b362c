/*
 * bus-scripts.c: the Lua sources of the Redis bus.
 *
 * Keys (P is the prefix "chatrelay:"):
 *   P seq:CH       the channel's last seq
 *   P epoch:CH     the epoch of the channel's numbering (set with seq 1)
 *   P hist:CH      list of the channel's last messages (msg JSON)
 *   P memc:CH      hash uid -> connections in the channel, cluster-wide
 *   P memn:CH      hash uid -> display name
 *   P nodemem:NODE hash "CH\nUID" -> that node's connections in the channel
 *   P user:UID     hash node -> the user's connections on that node
 *   P nodeusers:NODE hash uid -> connections (for reaping)
 *   P nodes        zset node -> last heartbeat (ms)
 *   P reaped:NODE  set when NODE was reaped; its next heartbeat deletes it
 *                  and learns that it was taken for dead (expires in 24 h)
 *   P wstream:NODE stream of the whispers to NODE's users (fields u: user
 *                  id, f: the whisper frame); it expires by itself (a reap
 *                  leaves it, for a node that was only stalled)
 *   P ctlstream    stream of the control commands (field c, control.h)
 *   P mod:KEY      a ban, mute or slow mode (KEY: "ban:UID",
 *                  "mute:CH|UID" with CH "*" for everywhere, "slow:CH"):
 *                  the control command that set it, expiring when it ends
 *   P modkeys      set of the P mod: keys (what a new instance loads)
 * The wstream also carries the parts of the answers to moderators'
 * questions (fields a: the part, w: the asking worker).
 * Both streams keep about their last maxlen entries, none older than age
 * ms, and expire age ms after their last entry (bus-redis-stream.c).
 * Pub/sub channels: P ch:CH (messages and presence).
 * Presence frames are built here with cjson so names are escaped as JSON.
 */
#include "bus-scripts.h"

/*
 * publish: KEYS seq, hist, epoch; ARGV ts, body, history size, history
 * ttl, pub/sub channel, channel ttl, the highest seq the caller has seen,
 * an epoch for a new numbering, the highest seq the caller was given.
 * Refuses ({-1, ""}) when Redis is behind what the caller has seen (it
 * lost its data and nobody has put the seq back yet): a number given now
 * could be one given before.  Redis behind only what the caller was given
 * (its publish reached nobody before Redis lost it, so no restore knows
 * it) numbers on from there.  A numbering that starts (seq 1) gets the new
 * epoch and an empty history.
 */
const char bus_script_publish[] =
    "local cur = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
    "if tonumber(ARGV[7]) > cur then return {-1, ''} end\n"
    "local given = tonumber(ARGV[9] or '0')\n"
    "if given > cur then redis.call('SET', KEYS[1], given) end\n"
    "local seq = redis.call('INCR', KEYS[1])\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[6])\n"
    "local e = redis.call('GET', KEYS[3])\n"
    "if seq == 1 or not e then\n"
    "  e = ARGV[8]\n"
    "  redis.call('SET', KEYS[3], e)\n"
    "  if seq == 1 then redis.call('DEL', KEYS[2]) end\n"
    "end\n"
    "redis.call('PEXPIRE', KEYS[3], ARGV[6])\n"
    "local p = '{\"op\":\"msg\",\"seq\":' .. string.format('%d', seq) ..\n"
    "    ',\"ts\":' .. ARGV[1] .. ',\"epoch\":\"' .. e .. '\",' .. ARGV[2]\n"
    "local size = tonumber(ARGV[3])\n"
    "if size > 0 then\n"
    "  redis.call('RPUSH', KEYS[2], p)\n"
    "  redis.call('LTRIM', KEYS[2], -size, -1)\n"
    "  redis.call('PEXPIRE', KEYS[2], ARGV[4])\n"
    "end\n"
    "redis.call('PUBLISH', ARGV[5], p)\n"
    "return {seq, e}\n";

/* Shared by join and leave: the presence frame for (event, ch, uid, name). */
#define PRESENCE_FN \
    "local function presence(ev, ch, uid, name)\n" \
    "  return '{\"op\":\"presence\",\"ch\":' .. cjson.encode(ch) ..\n" \
    "    ',\"event\":\"' .. ev .. '\",\"user\":{\"id\":' .. cjson.encode(uid) ..\n" \
    "    ',\"name\":' .. cjson.encode(name) .. '}}'\n" \
    "end\n"

const char bus_script_join[] =
    PRESENCE_FN
    "redis.call('ZADD', KEYS[5], 'NX', ARGV[8], ARGV[7])\n"
    "local n = redis.call('HINCRBY', KEYS[1], ARGV[1], 1)\n"
    "redis.call('HINCRBY', KEYS[3], ARGV[3], 1)\n"
    "local members = redis.call('HLEN', KEYS[1])\n"
    "if n == 1 then\n"
    "  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])\n"
    "  if members <= tonumber(ARGV[4]) then\n"
    "    redis.call('PUBLISH', ARGV[5], presence('join', ARGV[6], ARGV[1], ARGV[2]))\n"
    "  end\n"
    "end\n"
    "local seq = tonumber(redis.call('GET', KEYS[4]) or '0')\n"
    "return {members, seq}\n";

const char bus_script_leave[] =
    PRESENCE_FN
    "local mine = tonumber(redis.call('HGET', KEYS[3], ARGV[3]) or '0')\n"
    "if mine <= 1 then redis.call('HDEL', KEYS[3], ARGV[3])\n"
    "else redis.call('HINCRBY', KEYS[3], ARGV[3], -1) end\n"
    "if mine < 1 then return redis.call('HLEN', KEYS[1]) end\n"
    "local before = redis.call('HLEN', KEYS[1])\n"
    "local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)\n"
    "if n <= 0 then\n"
    "  local name = redis.call('HGET', KEYS[2], ARGV[1]) or ARGV[2]\n"
    "  redis.call('HDEL', KEYS[1], ARGV[1])\n"
    "  redis.call('HDEL', KEYS[2], ARGV[1])\n"
    "  if before <= tonumber(ARGV[4]) then\n"
    "    redis.call('PUBLISH', ARGV[5], presence('leave', ARGV[6], ARGV[1], name))\n"
    "  end\n"
    "end\n"
    "return redis.call('HLEN', KEYS[1])\n";

const char bus_script_remember[] =
    PRESENCE_FN
    "local cur = tonumber(redis.call('HGET', KEYS[3], ARGV[3]) or '0')\n"
    "local want = tonumber(ARGV[9])\n"
    "if cur == want then return 0 end\n"
    "local tell, max = ARGV[10] == '1', tonumber(ARGV[4])\n"
    "redis.call('ZADD', KEYS[5], 'NX', ARGV[8], ARGV[7])\n"
    "if want > 0 then redis.call('HSET', KEYS[3], ARGV[3], want)\n"
    "else redis.call('HDEL', KEYS[3], ARGV[3]) end\n"
    "local before = redis.call('HLEN', KEYS[1])\n"
    "local n = redis.call('HINCRBY', KEYS[1], ARGV[1], want - cur)\n"
    "local was = n - (want - cur)\n"
    "if n <= 0 then\n"
    "  local name = redis.call('HGET', KEYS[2], ARGV[1]) or ARGV[2]\n"
    "  redis.call('HDEL', KEYS[1], ARGV[1])\n"
    "  redis.call('HDEL', KEYS[2], ARGV[1])\n"
    "  if tell and was > 0 and before <= max then\n"
    "    redis.call('PUBLISH', ARGV[5], presence('leave', ARGV[6], ARGV[1], name))\n"
    "  end\n"
    "else\n"
    "  redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])\n"
    "  if tell and was <= 0 and redis.call('HLEN', KEYS[1]) <= max then\n"
    "    redis.call('PUBLISH', ARGV[5], presence('join', ARGV[6], ARGV[1], ARGV[2]))\n"
    "  end\n"
    "end\n"
    "return want - cur\n";

/* history: KEYS seq, hist, epoch: {seq, the kept messages, epoch or ""}. */
const char bus_script_history[] =
    "local seq = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
    "return {seq, redis.call('LRANGE', KEYS[2], 0, -1),\n"
    "    redis.call('GET', KEYS[3]) or ''}\n";

const char bus_script_who[] =
    "return {redis.call('HLEN', KEYS[1]), redis.call('HGETALL', KEYS[1])}\n";

const char bus_script_attach[] =
    "local total = 0\n"
    "for _, v in ipairs(redis.call('HVALS', KEYS[1])) do\n"
    "  total = total + tonumber(v)\n"
    "end\n"
    "if total >= tonumber(ARGV[2]) then return 0 end\n"
    "redis.call('ZADD', KEYS[3], 'NX', ARGV[4], ARGV[1])\n"
    "redis.call('HINCRBY', KEYS[1], ARGV[1], 1)\n"
    "redis.call('HINCRBY', KEYS[2], ARGV[3], 1)\n"
    "return 1\n";

const char bus_script_detach[] =
    "if redis.call('HINCRBY', KEYS[1], ARGV[1], -1) <= 0 then\n"
    "  redis.call('HDEL', KEYS[1], ARGV[1])\n"
    "end\n"
    "if redis.call('HINCRBY', KEYS[2], ARGV[2], -1) <= 0 then\n"
    "  redis.call('HDEL', KEYS[2], ARGV[2])\n"
    "end\n"
    "return 1\n";

const char bus_script_reattach[] =
    "local cur = tonumber(redis.call('HGET', KEYS[2], ARGV[2]) or '0')\n"
    "local want = tonumber(ARGV[3])\n"
    "if cur == want then return 0 end\n"
    "redis.call('ZADD', KEYS[3], 'NX', ARGV[4], ARGV[1])\n"
    "if want > 0 then\n"
    "  redis.call('HSET', KEYS[2], ARGV[2], want)\n"
    "  redis.call('HSET', KEYS[1], ARGV[1], want)\n"
    "else\n"
    "  redis.call('HDEL', KEYS[2], ARGV[2])\n"
    "  redis.call('HDEL', KEYS[1], ARGV[1])\n"
    "end\n"
    "return want - cur\n";

/*
 * Shared by whisper and control: appends an entry (field-value pairs) to
 * stream k and trims it to about maxlen entries, none older than age ms
 * (by the new entry's id, Redis's clock); the stream expires age ms after
 * it.  Returns the entry's id.
 */
#define STREAM_ADD_FN \
    "local function stream_add(k, maxlen, age, ...)\n" \
    "  local id = redis.call('XADD', k, 'MAXLEN', '~', maxlen, '*', ...)\n" \
    "  local ms = tonumber(string.match(id, '^%d+')) - tonumber(age)\n" \
    "  if ms > 0 then\n" \
    "    redis.call('XTRIM', k, 'MINID', '~', string.format('%d', ms))\n" \
    "  end\n" \
    "  redis.call('PEXPIRE', k, age)\n" \
    "  return id\n" \
    "end\n"

const char bus_script_control[] =
    STREAM_ADD_FN
    "local op, P, a, b = ARGV[4], ARGV[5], ARGV[6], ARGV[7]\n"
    "local idx = P .. 'modkeys'\n"
    "if op == 'set' then\n"
    "  local k = P .. 'mod:' .. a\n"
    "  if tonumber(b) > 0 then redis.call('SET', k, ARGV[1], 'PXAT', b)\n"
    "  else redis.call('SET', k, ARGV[1]) end\n"
    "  redis.call('SADD', idx, k)\n"
    "elseif op == 'del' then\n"
    "  local k = P .. 'mod:' .. a\n"
    "  redis.call('DEL', k)\n"
    "  redis.call('SREM', idx, k)\n"
    "elseif op == 'mutes' then\n"
    "  local pre = P .. 'mod:mute:'\n"
    "  for _, k in ipairs(redis.call('SMEMBERS', idx)) do\n"
    "    if string.sub(k, 1, #pre) == pre then\n"
    "      local rest = string.sub(k, #pre + 1)\n"
    "      local bar = string.find(rest, '|', 1, true)\n"
    "      if bar and string.sub(rest, bar + 1) == a then\n"
    "        redis.call('DEL', k)\n"
    "        redis.call('SREM', idx, k)\n"
    "      end\n"
    "    end\n"
    "  end\n"
    "elseif op == 'msg' then\n"
    "  local h = P .. 'hist:' .. a\n"
    "  local head = '{\"op\":\"msg\",\"seq\":' .. b .. ','\n"
    "  for _, m in ipairs(redis.call('LRANGE', h, 0, -1)) do\n"
    "    if string.sub(m, 1, #head) == head then redis.call('LREM', h, 1, m) end\n"
    "  end\n"
    "end\n"
    "return stream_add(KEYS[1], ARGV[2], ARGV[3], 'c', ARGV[1])\n";

const char bus_script_raise[] =
    "local cur = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
    "if tonumber(ARGV[1]) > cur then\n"
    "  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
    "  return tonumber(ARGV[1])\n"
    "end\n"
    "return cur\n";

const char bus_script_modload[] =
    "local out = {}\n"
    "for _, k in ipairs(redis.call('SMEMBERS', KEYS[1])) do\n"
    "  local v = redis.call('GET', k)\n"
    "  if v then out[#out + 1] = v else redis.call('SREM', KEYS[1], k) end\n"
    "end\n"
    "return out\n";

const char bus_script_modput[] =
    "local P, n = ARGV[1], 0\n"
    "for i = 2, #ARGV - 2, 3 do\n"
    "  local k, v, u = P .. 'mod:' .. ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2])\n"
    "  local ok\n"
    "  if u > 0 then ok = redis.call('SET', k, v, 'NX', 'PXAT', u)\n"
    "  else ok = redis.call('SET', k, v, 'NX') end\n"
    "  redis.call('SADD', P .. 'modkeys', k)\n"
    "  if ok then n = n + 1 end\n"
    "end\n"
    "return n\n";

const char bus_script_answer[] =
    STREAM_ADD_FN
    "return stream_add(KEYS[1], ARGV[1], ARGV[2], 'a', ARGV[3], 'w', ARGV[4])\n";

const char bus_script_whisper[] =
    STREAM_ADD_FN
    "local nodes = redis.call('HKEYS', KEYS[1])\n"
    "for _, n in ipairs(nodes) do\n"
    "  stream_add(ARGV[1] .. 'wstream:' .. n, ARGV[4], ARGV[5],\n"
    "    'u', ARGV[2], 'f', ARGV[3])\n"
    "end\n"
    "return #nodes\n";

const char bus_script_heartbeat[] =
    "redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])\n"
    "return redis.call('DEL', KEYS[2])\n";

const char bus_script_reap[] =
    PRESENCE_FN
    "local P, node, max = ARGV[1], ARGV[2], tonumber(ARGV[3])\n"
    "local nm = P .. 'nodemem:' .. node\n"
    "local f = redis.call('HGETALL', nm)\n"
    "for i = 1, #f, 2 do\n"
    "  local cut = string.find(f[i], '\\n', 1, true)\n"
    "  local ch, uid = string.sub(f[i], 1, cut - 1), string.sub(f[i], cut + 1)\n"
    "  local memc, memn = P .. 'memc:' .. ch, P .. 'memn:' .. ch\n"
    "  local before = redis.call('HLEN', memc)\n"
    "  if redis.call('HINCRBY', memc, uid, -tonumber(f[i + 1])) <= 0 then\n"
    "    local name = redis.call('HGET', memn, uid) or uid\n"
    "    redis.call('HDEL', memc, uid)\n"
    "    redis.call('HDEL', memn, uid)\n"
    "    if before <= max then\n"
    "      redis.call('PUBLISH', P .. 'ch:' .. ch, presence('leave', ch, uid, name))\n"
    "    end\n"
    "  end\n"
    "end\n"
    "redis.call('DEL', nm)\n"
    "local nu = P .. 'nodeusers:' .. node\n"
    "local u = redis.call('HGETALL', nu)\n"
    "for i = 1, #u, 2 do\n"
    "  local uk = P .. 'user:' .. u[i]\n"
    "  redis.call('HDEL', uk, node)\n"
    "end\n"
    "redis.call('DEL', nu)\n"

    "redis.call('ZREM', KEYS[1], node)\n"
    "redis.call('SET', P .. 'reaped:' .. node, '1', 'PX', 86400000)\n"
    "return #f / 2\n";

/*
 * restore: KEYS seq, hist, epoch; ARGV the seq an instance knows, channel
 * ttl, history ttl, history size, its epoch, then the messages it keeps.
 * If Redis has another epoch, a new numbering began there and is kept (the
 * caller adopts it).  Otherwise the numbering goes on: the seq is raised to
 * what the caller knows, and the history is the union, by seq, of what
 * Redis holds and what the caller keeps (the newest `size`).  Returns
 * {the seq Redis had, the epoch now}.
 */
const char bus_script_restore[] =
    "local cur = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
    "local e = redis.call('GET', KEYS[3])\n"
    "if e and e ~= ARGV[5] then return {cur, e} end\n"
    "redis.call('SET', KEYS[3], ARGV[5])\n"
    "if cur < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
    "redis.call('PEXPIRE', KEYS[3], ARGV[2])\n"
    "if #ARGV > 5 then\n"
    "  local by, seqs = {}, {}\n"
    "  local function add(p)\n"
    "    local s = tonumber(string.match(p, '^{\"op\":\"msg\",\"seq\":(%d+)'))\n"
    "    if s and not by[s] then by[s] = p; seqs[#seqs + 1] = s end\n"
    "  end\n"
    "  for _, p in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do add(p) end\n"
    "  for i = 6, #ARGV do add(ARGV[i]) end\n"
    "  table.sort(seqs)\n"
    "  redis.call('DEL', KEYS[2])\n"
    "  for i = math.max(1, #seqs - tonumber(ARGV[4]) + 1), #seqs do\n"
    "    redis.call('RPUSH', KEYS[2], by[seqs[i]])\n"
    "  end\n"
    "  redis.call('PEXPIRE', KEYS[2], ARGV[3])\n"
    "end\n"
    "return {cur, ARGV[5]}\n";
