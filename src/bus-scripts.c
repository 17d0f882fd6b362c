/*
 * bus-scripts.c: the Lua sources of the Redis bus.
 *
 * Keys (P is the prefix "chatrelay:"):
 *   P seq:CH       the channel's last seq
 *   P hist:CH      list of the channel's last messages (msg JSON)
 *   P memc:CH      hash uid -> connections in the channel, cluster-wide
 *   P memn:CH      hash uid -> display name
 *   P nodemem:NODE hash "CH\nUID" -> that node's connections in the channel
 *   P user:UID     hash node -> the user's connections on that node
 *   P nodeusers:NODE hash uid -> connections (for reaping)
 *   P nodes        zset node -> last heartbeat (ms)
 *   P reaped:NODE  set when NODE was reaped; its next heartbeat deletes it
 *                  and learns that it was taken for dead (expires in 24 h)
 * Pub/sub channels: P ch:CH (messages and presence), P node:NODE (whispers),
 * P ctl (control commands, control.h).
 * Presence frames are built here with cjson so names are escaped as JSON.
 */
#include "bus-scripts.h"

const char bus_script_publish[] =
    "local seq = redis.call('INCR', KEYS[1])\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[6])\n"
    "local p = '{\"op\":\"msg\",\"seq\":' .. string.format('%d', seq) ..\n"
    "    ',\"ts\":' .. ARGV[1] .. ',' .. ARGV[2]\n"
    "local size = tonumber(ARGV[3])\n"
    "if size > 0 then\n"
    "  redis.call('RPUSH', KEYS[2], p)\n"
    "  redis.call('LTRIM', KEYS[2], -size, -1)\n"
    "  redis.call('PEXPIRE', KEYS[2], ARGV[4])\n"
    "end\n"
    "redis.call('PUBLISH', ARGV[5], p)\n"
    "return seq\n";

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

const char bus_script_history[] =
    "local seq = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
    "return {seq, redis.call('LRANGE', KEYS[2], 0, -1)}\n";

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

const char bus_script_whisper[] =
    "local nodes = redis.call('HKEYS', KEYS[1])\n"
    "for _, n in ipairs(nodes) do\n"
    "  redis.call('PUBLISH', ARGV[1] .. 'node:' .. n, ARGV[2])\n"
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

const char bus_script_restore[] =
    "local cur = tonumber(redis.call('GET', KEYS[1]) or '0')\n"
    "if cur >= tonumber(ARGV[1]) then return cur end\n"
    "redis.call('SET', KEYS[1], ARGV[1])\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
    "if redis.call('LLEN', KEYS[2]) == 0 and #ARGV > 3 then\n"
    "  for i = 4, #ARGV do redis.call('RPUSH', KEYS[2], ARGV[i]) end\n"
    "  redis.call('PEXPIRE', KEYS[2], ARGV[3])\n"
    "end\n"
    "return cur\n";
