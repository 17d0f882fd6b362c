'use strict';
/*
 * cluster-ops.test.js: what travels between instances besides chat, with a
 * real redis-server and instances of 2 workers each (src/control.c,
 * src/moderation.c, src/bus-redis-repair.c end to end):
 *
 *   - the control channel: a moderator's kick and announce on one instance
 *     act on every instance; while Redis is down they fail with unavailable
 *     and nothing is done;
 *   - leaves and disconnects while Redis is away (it comes back with its
 *     data): told once it is back, so the others see the leave, who is
 *     right and the user's connections are no longer counted; connections
 *     admitted meanwhile are counted once it is back;
 *   - an instance taken for dead (stopped for longer than presence_ttl) and
 *     then resumed: its members, reaped by the others, come back (presence
 *     join, who, whispers).
 */

const { test, describe, before } = require('node:test');
const assert = require('node:assert/strict');
const { startCluster, startRedis, mintToken, uniq, sleep, waitFor, who } = require('./lib');

const W = 10000;	/* how long to wait for any one frame crossing the bus */
const T = { timeout: 40000 };
const SECRET = 'cluster-ops-secret';
const gid = (name) => `guest:${name}`;

async function player(relay, sub) {
	return relay.withToken(mintToken(SECRET, { sub }));
}

/* A moderator on relay's /admin. */
function moderator(relay) {
	return relay.moderator(SECRET);
}

/* The sorted ids of who's members. */
async function whoIds(c, ch) {
	return (await who(c, ch, W)).ids;
}

describe('cluster: the control channel (kick, announce)', () => {
	let redis, relays;
	before(async () => {
		({ redis, relays } = await startCluster(3, { secret: SECRET, user_connections_max: 10 }));
	});

	test('kick on one instance closes the user\'s connections on every instance with 4008', T, async () => {
		const [n1, n2, n3] = relays;
		const target = uniq('target');
		const conns = [await player(n2, target), await player(n2, target), await player(n3, target)];
		const bystander = await player(n3, uniq('by'));
		const mod = await moderator(n1);
		const ok = await mod.call({ op: 'kick', user: target, reason: 'cheating', id: 1 }, W);
		assert.deepEqual(ok, { op: 'ok', id: 1 });
		for (const c of conns) {
			const bye = await c.next('bye', W);
			assert.deepEqual([bye.code, bye.reason], [4008, 'cheating']);
			assert.equal((await c.closed).code, 4008);
		}
		await bystander.ping();
		for (const c of [bystander, mod]) await c.close();
	});

	test('announce reaches every connection of every instance, or a channel\'s members on every instance', T, async () => {
		const [n1, n2, n3] = relays;
		const ch = uniq('match');
		const members = [await player(n1, uniq('m1')), await player(n2, uniq('m2')), await player(n3, uniq('m3'))];
		for (const m of members) await m.join(ch, {}, W);
		const outsider = await player(n2, uniq('out'));
		const mod = await moderator(n3);
		assert.equal((await mod.call({ op: 'announce', text: 'Maintenance at noon' }, W)).op, 'ok');
		for (const c of [...members, outsider, mod])
			assert.deepEqual(await c.next('notice', W), { op: 'notice', text: 'Maintenance at noon', level: 'info' });
		assert.equal((await mod.call({ op: 'announce', ch, text: 'Round 2' }, W)).op, 'ok');
		for (const c of members)
			assert.deepEqual(await c.next({ op: 'notice', text: 'Round 2' }, W), { op: 'notice', text: 'Round 2', ch, level: 'info' });
		await outsider.expectNone({ op: 'notice', text: 'Round 2' }, 300);
		for (const c of [...members, outsider, mod]) await c.close();
	});

	test('Redis down: kick and announce get unavailable and nobody is kicked; back up, they work again', { timeout: 60000 }, async () => {
		const [n1, n2] = relays;
		const target = uniq('lucky');
		const t = await player(n2, target);
		const mod = await moderator(n1);
		await redis.kill();
		for (const r of relays) await r.waitBus('down', W);
		let r = await mod.call({ op: 'kick', user: target }, W);
		assert.equal(r.code, 'unavailable', JSON.stringify(r));
		r = await mod.call({ op: 'announce', text: 'nobody hears this' }, W);
		assert.equal(r.code, 'unavailable', JSON.stringify(r));
		await t.expectNone('bye', 300);
		await t.expectNone('notice', 0);
		redis = await startRedis({ port: redis.port });
		for (const x of relays) await x.waitBus('redis', 20000);
		assert.equal((await mod.call({ op: 'kick', user: target }, W)).op, 'ok');
		assert.equal((await t.next('bye', W)).code, 4008);
		await mod.close();
	});
});

describe('cluster: leaves while Redis is away are told when it is back', () => {
	let redis, relays;
	before(async () => {
		// presence_ttl well above the outage: nobody is reaped meanwhile
		({ redis, relays } = await startCluster(2, { user_connections_max: 1, presence_ttl: '20s' }));
	});

	test('a disconnect during the outage: presence leave, who without it, no longer counted; an admission is counted', { timeout: 60000 }, async () => {
		const [n1, n2] = relays;
		const ch = uniq('outage');
		const an = uniq('stay1');
		const bn = uniq('stay2');
		const cn = uniq('goer');
		const a = await n1.guest(an);
		const b = await n2.guest(bn);
		const c = await n2.guest(cn);
		for (const x of [a, b, c]) await x.join(ch, {}, W);
		await a.take('presence', 2, W);
		assert.deepEqual(await whoIds(a, ch), [gid(an), gid(bn), gid(cn)].sort());

		await redis.shutdownSave();
		for (const r of relays) await r.waitBus('down', W);
		await c.close();	// its leave and detach cannot reach Redis now
		const en = uniq('during');
		const e = await n1.guest(en);	// admitted meanwhile, counted once Redis is back
		await sleep(300);
		redis = await startRedis({ port: redis.port, dir: redis.dir });
		for (const r of relays) await r.waitBus('redis', 20000);

		const p = await a.next({ op: 'presence', event: 'leave' }, W);
		assert.deepEqual(p, { op: 'presence', ch, event: 'leave', user: { id: gid(cn), name: cn } });
		assert.deepEqual((await b.next({ op: 'presence', event: 'leave' }, W)).user.id, gid(cn));
		await waitFor('who without the user who left during the outage', async () => {
			const ids = await whoIds(b, ch);
			return { done: ids.length === 2, seen: ids };
		});
		assert.deepEqual(await whoIds(a, ch), [gid(an), gid(bn)].sort());
		// user_connections_max is 1: a count left behind would refuse this
		const again = await n1.guest(cn);
		assert.equal(again.welcome.user.id, gid(cn));
		await again.ping();
		// ... and the connection admitted during the outage counts now
		const e2 = await n2.ws();
		const r = await e2.call({ op: 'auth', name: en }, W);
		assert.equal(r.code, 'forbidden', JSON.stringify(r));
		assert.equal((await e2.closed).code, 4001);
		await e.ping();
		for (const x of [a, b, again, e]) await x.close();
	});
});

describe('cluster: an instance taken for dead comes back', () => {
	let relays;
	before(async () => {
		({ relays } = await startCluster(2, { rate: 1000, burst: 1000 }));	// presence_ttl 2 s
	});

	test('stopped longer than presence_ttl: reaped (leave); resumed: its members are back (join, who, whisper)', { timeout: 60000 }, async () => {
		const [n1, n2] = relays;
		const ch = uniq('zombie');
		const an = uniq('watcher');
		const bn = uniq('sleeper');
		const a = await n1.guest(an);
		const b = await n2.guest(bn);
		for (const x of [a, b]) await x.join(ch, {}, W);
		await a.next({ op: 'presence', event: 'join' }, W);

		n2.proc.kill('SIGSTOP');
		try {
			const p = await a.next({ op: 'presence', event: 'leave' }, 4 * 2000 + 3000);
			assert.equal(p.user.id, gid(bn), 'the stopped instance is reaped');
			assert.deepEqual(await whoIds(a, ch), [gid(an)]);
		} finally {
			n2.proc.kill('SIGCONT');
		}
		const j = await a.next({ op: 'presence', event: 'join' }, W);
		assert.deepEqual(j, { op: 'presence', ch, event: 'join', user: { id: gid(bn), name: bn } });
		assert.deepEqual(await whoIds(a, ch), [gid(an), gid(bn)].sort());
		const ok = await a.call({ op: 'whisper', to: gid(bn), text: 'welcome back' }, W);
		assert.equal(ok.op, 'ok', JSON.stringify(ok));
		assert.equal((await b.next('whisper', W)).text, 'welcome back');
		const m = await a.say(ch, 'still here?');
		assert.equal(m.op, 'ok', JSON.stringify(m));
		assert.equal((await b.next({ op: 'msg', text: 'still here?' }, W)).seq, m.seq);
		for (const x of [a, b]) await x.close();
	});
});
