'use strict';
/*
 * moderation-cluster.test.js: the moderators' ops across two instances and
 * a real redis-server: each op issued on one instance acts on a player
 * connected to the other; watches see both instances' messages; stats,
 * channels and user count both and name an instance that did not answer;
 * bans, mutes and slow modes survive a restart of both relays and a Redis
 * restarted empty.  src/control.c, src/enforce.c, src/gather.c,
 * src/bus-redis-stream.c (the control script's state, the load at start),
 * src/bus-redis-mod.c (restore, pattern subscriptions, live instances).
 */

const { test, describe, before } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { startCluster, startRelay, mintToken, uniq, sleep } = require('./lib');

const T = { timeout: 60000 };
const SECRET = 'moderation-cluster-secret';

function player(relay, sub) {
	return relay.withToken(mintToken(SECRET, { sub, name: sub }));
}

async function ok(c, f) {
	const r = await c.call(f);
	assert.equal(r.op, 'ok', `${JSON.stringify(f)} -> ${JSON.stringify(r)}`);
	return r;
}

/* Calls f() every 50 ms until it resolves truthy; fails after ms. */
async function soon(what, f, ms = 3000) {
	const deadline = Date.now() + ms;
	let last;
	for (;;) {
		last = await f();
		if (last) return last;
		if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
		await sleep(50);
	}
}

/* Sends to ch until the answer is err code (or ok when code is 'ok'); resolves with it. */
function sendUntil(c, ch, code, ms = 3000) {
	return soon(`a send answered ${code}`, async () => {
		const r = await c.call({ op: 'send', ch, text: 'probe' });
		return (code === 'ok' ? r.op === 'ok' : r.code === code) ? r : null;
	}, ms);
}

describe('moderation across two instances and Redis', () => {
	let redis, n1, n2;
	const conf = { secret: SECRET, rate: 200, burst: 400 };
	before(async () => {
		({ redis, relays: [n1, n2] } = await startCluster(2, conf));
	});

	test('kick on n1: the player on n2 gets bye and 4008', T, async () => {
		const bob = uniq('bob');
		const p = await player(n2, bob);
		const mod = await n1.moderator(SECRET);
		await ok(mod, { op: 'kick', user: bob, reason: 'out' });
		assert.equal((await p.next('bye', 3000)).code, 4008);
		assert.equal((await p.closed).code, 4008);
		await mod.close();
	});

	test('mute on n1 stops the player on n2 within a second (send and whisper); unmute lifts it; expiry too', T, async () => {
		const bob = uniq('bob'), ch = uniq('mc');
		const p = await player(n2, bob);
		const friend = await player(n1, uniq('friend'));
		await p.join(ch);
		const mod = await n1.moderator(SECRET);
		const t0 = Date.now();
		await ok(mod, { op: 'mute', user: bob, secs: 600, reason: 'spam' });
		const r = await sendUntil(p, ch, 'muted', 1000);
		assert.ok(Date.now() - t0 < 1500);
		assert.ok(r.until >= t0 + 600000 - 50, JSON.stringify(r));
		assert.equal((await p.call({ op: 'whisper', to: friend.welcome.user.id, text: 'x' })).code, 'muted');
		await ok(mod, { op: 'unmute', user: bob });
		await sendUntil(p, ch, 'ok', 1000);
		await ok(mod, { op: 'mute', user: bob, ch, secs: 2 });
		await sendUntil(p, ch, 'muted', 1000);
		await sleep(2100);
		await p.say(ch, 'expired');
		for (const c of [p, friend, mod]) await c.close();
	});

	test('ban on n1: the player on n2 is closed with 4003, its next auth there is refused with banned; unban and expiry lift it', T, async () => {
		const bob = uniq('bob');
		const p = await player(n2, bob);
		const mod = await n1.moderator(SECRET);
		await ok(mod, { op: 'ban', user: bob, reason: 'cheat' });
		assert.equal((await p.next('bye', 3000)).code, 4003);
		assert.equal((await p.closed).code, 4003);
		const c = await n2.ws();
		const r = await c.call({ op: 'auth', token: mintToken(SECRET, { sub: bob }) });
		assert.equal(r.code, 'banned');
		assert.equal((await c.closed).code, 4003);
		await ok(mod, { op: 'unban', user: bob });
		await soon('the unban on n2', async () => {
			const x = await n2.ws();
			const a = await x.call({ op: 'auth', token: mintToken(SECRET, { sub: bob }) });
			await x.close();
			return a.op === 'welcome';
		}, 1500);
		const short = uniq('short');
		await ok(mod, { op: 'ban', user: short, secs: 2 });
		await sleep(300);
		const y = await n2.ws();
		assert.equal((await y.call({ op: 'auth', token: mintToken(SECRET, { sub: short }) })).code, 'banned');
		await sleep(2000);
		const back = await player(n2, short);
		for (const x of [back, mod]) await x.close();
	});

	test('slowmode from n1 applies to a player on n2; announce from n1 reaches n2', T, async () => {
		const ch = uniq('slow');
		const p = await player(n2, uniq('p'));
		await p.join(ch);
		const mod = await n1.moderator(SECRET);
		await ok(mod, { op: 'slowmode', ch, secs: 20 });
		await p.next((f) => f.op === 'notice' && f.ch === ch, 2000);
		await p.say(ch, 'one');
		const r = await p.call({ op: 'send', ch, text: 'two' });
		assert.equal(r.code, 'slow_mode');
		assert.ok(r.retry_ms > 18000 && r.retry_ms <= 20000);
		await ok(mod, { op: 'slowmode', ch, secs: 0 });
		await sendUntil(p, ch, 'ok', 1000);
		await ok(mod, { op: 'announce', text: 'maintenance soon' });
		assert.equal((await p.next((f) => f.op === 'notice' && f.text === 'maintenance soon', 2000)).level, 'info');
		for (const c of [p, mod]) await c.close();
	});

	test('delete from n1 removes the message from history on both instances and in Redis; members on n2 get delete', T, async () => {
		const ch = uniq('del');
		const a = await player(n2, uniq('a'));
		const b = await player(n1, uniq('b'));
		await a.join(ch);
		await b.join(ch);
		await a.say(ch, 'fine');
		const bad = await a.say(ch, 'remove this');
		await a.say(ch, 'fine too');
		await b.take('msg', 3);
		const mod = await n1.moderator(SECRET);
		await ok(mod, { op: 'delete', ch, seq: bad.seq });
		assert.deepEqual(await a.next('delete', 2000), { op: 'delete', ch, seq: bad.seq });
		assert.deepEqual(await b.next('delete', 2000), { op: 'delete', ch, seq: bad.seq });
		for (const c of [a, b]) {
			const h = await c.history(ch);
			assert.deepEqual(h.msgs.map((m) => m.text), ['fine', 'fine too']);
		}
		const stored = await redis.command('LRANGE', `chatrelay:hist:${ch}`, '0', '-1');
		assert.equal(stored.length, 2);
		assert.ok(stored.every((s) => !s.includes('remove this')));
		// A newcomer on either instance (history read from Redis) misses it too.
		const late = await player(n2, uniq('late'));
		const j = await late.join(uniq('other'));
		assert.equal(j.op, 'joined');
		const lh = await late.history(ch);
		assert.deepEqual(lh.msgs.map((m) => m.text), ['fine', 'fine too']);
		for (const c of [a, b, mod, late]) await c.close();
	});

	test('watch a pattern on n1: messages sent on both instances; every moderation event, from either instance', T, async () => {
		const pre = uniq('wp') + ':';
		const w = await n1.moderator(SECRET);
		await ok(w, { op: 'watch', ch: pre + '*' });
		await sleep(200);
		const s1 = await player(n1, uniq('s1'));
		const s2 = await player(n2, uniq('s2'));
		await s1.join(pre + 'a');
		await s2.join(pre + 'b');
		await s1.say(pre + 'a', 'from n1');
		await s2.say(pre + 'b', 'from n2');
		const got = await w.take('msg', 2, 3000);
		assert.deepEqual(got.map((m) => m.text).sort(), ['from n1', 'from n2']);
		await w.expectNone('msg', 300);
		const mod2 = await n2.moderator(SECRET);
		await ok(mod2, { op: 'kick', user: uniq('nobody'), reason: 'test' });
		const e = await w.next('mod', 2000);
		assert.equal(e.action, 'kick');
		assert.equal(e.node, 'n2');
		assert.equal(e.by.id, mod2.welcome.user.id);
		await ok(w, { op: 'unwatch', ch: pre + '*' });
		await s2.say(pre + 'b', 'unwatched');
		await w.expectNone('msg', 400);
		for (const c of [w, mod2, s1, s2]) await c.close();
	});

	test('stats, channels and user count both instances', T, async () => {
		const ch = uniq('both'), bob = uniq('bob');
		const a = await player(n1, bob);
		const b = await player(n2, bob);
		const c = await player(n2, uniq('c'));
		for (const x of [a, b, c]) await x.join(ch);
		await a.say(ch, 'counted');
		const mod = await n1.moderator(SECRET);
		const s = await soon('both instances in stats', async () => {
			const x = await mod.call({ op: 'stats' }, 5000);
			return x.nodes.length === 2 ? x : null;
		}, 5000);
		assert.equal(s.op, 'stats', JSON.stringify(s));
		assert.deepEqual(s.nodes.map((x) => x.node).sort(), ['n1', 'n2']);
		assert.deepEqual(s.missing, []);
		assert.equal(s.total.nodes, 2);
		assert.equal(s.total.connections, s.nodes[0].connections + s.nodes[1].connections);
		assert.ok(s.nodes.find((x) => x.node === 'n2').connections >= 2);
		assert.ok(s.nodes.every((x) => x.bus === 'redis' && x.workers === 2));
		const chs = await mod.call({ op: 'channels', prefix: ch }, 5000);
		assert.deepEqual(chs.channels, [{ ch, members: 3, seq: 1 }]);
		const u = await mod.call({ op: 'user', user: bob }, 5000);
		assert.equal(u.online, true);
		assert.deepEqual(u.sessions.map((x) => x.node).sort(), ['n1', 'n2']);
		assert.ok(u.sessions.every((x) => x.channels.includes(ch)));
		assert.deepEqual(u.missing, []);
		for (const x of [a, b, c, mod]) await x.close();
	});
});

describe('moderation: an instance that does not answer, and state that survives', () => {
	test('stats names an instance that stopped answering', T, async () => {
		const { relays: [n1, n2] } = await startCluster(2, { secret: SECRET, presence_ttl: '10s' });
		const mod = await n1.moderator(SECRET);
		// Both instances beat (a new one counts from its first heartbeat).
		await soon('both instances in stats', async () => {
			const s = await mod.call({ op: 'stats' }, 5000);
			return s.nodes.length === 2 && s.missing.length === 0;
		}, 10000);
		n2.proc.kill('SIGSTOP');
		// The signal is taken asynchronously: wait until the process is stopped.
		await soon('n2 stopped', async () =>
		    fs.readFileSync(`/proc/${n2.pid}/stat`, 'utf8').split(') ')[1].startsWith('T'), 5000);
		try {
			const t0 = Date.now();
			const r = await mod.call({ op: 'stats' }, 5000);
			assert.ok(Date.now() - t0 < 4000, 'a bounded wait (1 s and a tick, and a loaded machine)');
			assert.deepEqual(r.missing, ['n2']);
			assert.deepEqual(r.nodes.map((x) => x.node), ['n1']);
		} finally {
			n2.proc.kill('SIGCONT');
		}
		await mod.close();
	});

	test('bans, mutes and slow modes survive a restart of both relays, and a Redis restarted empty', { timeout: 90000 }, async () => {
		let { redis, relays } = await startCluster(2, { secret: SECRET });
		const mod = await relays[0].moderator(SECRET);
		const banned = uniq('banned'), muted = uniq('muted'), ch = uniq('slow');
		await ok(mod, { op: 'ban', user: banned, secs: 3600 });
		await ok(mod, { op: 'mute', user: muted, ch });
		await ok(mod, { op: 'slowmode', ch, secs: 60 });
		assert.equal(await redis.command('PTTL', `chatrelay:mod:ban:${banned}`) > 3500000, true);
		assert.equal(await redis.command('PTTL', `chatrelay:mod:mute:${ch}|${muted}`), -1);
		await mod.close();
		const check = async (rs) => {
			for (const r of rs) {
				const c = await r.ws();
				assert.equal((await c.call({ op: 'auth', token: mintToken(SECRET, { sub: banned }) })).code,
				    'banned', `on ${r.port}`);
				const m = await player(r, muted);
				await m.join(ch);
				assert.equal((await m.call({ op: 'send', ch, text: 'x' })).code, 'muted');
				const p = await player(r, uniq('p'));
				await p.join(ch);
				await p.say(ch, 'one');
				assert.equal((await p.call({ op: 'send', ch, text: 'two' })).code, 'slow_mode');
				for (const x of [m, p]) await x.close();
			}
		};
		// Both relays restart: the state comes from Redis.
		for (const r of relays) await r.stop();
		const fresh = [];
		for (let i = 1; i <= 2; i++) {
			fresh.push(await startRelay({ redis: redis.url, node: `n${i}`, workers: 2, presence_ttl: '2s',
			    secret: SECRET }));
		}
		for (const r of fresh) await r.waitBus('redis');
		await sleep(300);
		await check(fresh);
		// Redis restarted empty: the instances put back what they hold.
		redis = await redis.restart();
		for (const r of fresh) await r.waitBus('redis', 20000);
		await soon('the state back in Redis', async () =>
		    await redis.command('EXISTS', `chatrelay:mod:ban:${banned}`) === 1, 5000);
		assert.equal(await redis.command('EXISTS', `chatrelay:mod:slow:${ch}`), 1);
		// A new instance started now loads it.
		const n3 = await startRelay({ redis: redis.url, node: 'n3', workers: 1, presence_ttl: '2s', secret: SECRET });
		await n3.waitBus('redis');
		await sleep(300);
		await check([n3]);
	});
});
