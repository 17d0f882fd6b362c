'use strict';
/*
 * cluster.test.js: several chatrelay instances joined by a real redis-server
 * (on a free loopback port, persistence off), each instance with 2 workers:
 * the Redis bus (src/bus-redis.c, src/bus-redis-chan.c, src/bus-redis-query.c,
 * src/bus-scripts.c,
 * src/redis.c) end to end.
 *
 *   - chat in one channel across instances: every member gets every message,
 *     in the same seq order, no gaps, no duplicates, also with 6 concurrent
 *     senders on 3 instances;
 *   - whisper across instances, to a user connected to two instances;
 *   - who and presence across instances; an instance killed with SIGKILL
 *     loses its members within presence_ttl;
 *   - join with since on a different instance after a reconnect;
 *   - user_connections_max counted cluster-wide;
 *   - redis-server killed while clients chat: /healthz says bus "down", send
 *     gets unavailable, nothing acknowledged is lost; restarted on the same
 *     port: chat resumes everywhere without restarting any relay;
 *   - an instance started while Redis is down connects once it appears.
 *
 * redis-server must be installed (package redis-server): lib.startRedis fails
 * the tests, on purpose, when it is not.
 *
 * Where PROTOCOL.md leaves a cluster behaviour open, the reading chosen is
 * noted at the test ("Reading:").
 */

const { test, describe, before } = require('node:test');
const assert = require('node:assert/strict');
const { startCluster, startRedis, startRelay, uniq, sleep, rawConnect, encodeFrame, waitFor, who } = require('./lib');

const T = { timeout: 30000 };
const W = 10000;	/* how long to wait for any one frame crossing the bus */
const FAST = { rate: 100000, burst: 100000 };
const TTL_MS = 2000;	/* presence_ttl of startCluster */
const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const noPresence = { keep: (f) => f.op !== 'presence' };
const gid = (name) => `guest:${name}`;

/* send with a generous timeout: resolves with the ok (throws on anything else). */
async function say(c, ch, text) {
	const r = await c.call({ op: 'send', ch, text }, W);
	if (r.op !== 'ok') throw new Error(`send "${text}" to ${ch} answered ${JSON.stringify(r)}`);
	return r;
}

/*
 * say(), for right after Redis restarted: sends wait while the channel is
 * restored (docs/protocol.md §5, about 6.5 s), so "unavailable" is retried.
 */
async function sayAfterRestart(c, ch, text) {
	for (let i = 0; ; i++) {
		const r = await c.call({ op: 'send', ch, text }, W);
		if (r.op === 'ok') return r;
		if (r.code !== 'unavailable' || i >= 150)
			throw new Error(`send "${text}" to ${ch} answered ${JSON.stringify(r)}`);
		await sleep(100);
	}
}

/* Resolves like promise; fails saying what did not happen after ms. */
async function withTimeoutOrFail(promise, ms, what) {
	let timer;
	const t = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms); });
	try {
		return await Promise.race([promise, t]);
	} finally {
		clearTimeout(timer);
	}
}

const increasing = (seqs) => seqs.every((q, i) => i === 0 || q > seqs[i - 1]);

describe('cluster of 3 instances on one redis', () => {
	let relays;
	before(async () => {
		({ relays } = await startCluster(3, { ...FAST }));
	});

	test('each instance: welcome.node is its own node id; /healthz says status ok, bus "redis"', T, async () => {
		for (const [i, r] of relays.entries()) {
			const h = await r.health();
			assert.equal(h.status, 200, h.raw);
			assert.equal(h.body.status, 'ok', h.raw);
			assert.equal(h.body.node, `n${i + 1}`, h.raw);
			assert.equal(h.body.bus, 'redis', h.raw);
			const c = await r.guest(uniq('nd'));
			assert.equal(c.welcome.node, `n${i + 1}`, JSON.stringify(c.welcome));
			await c.close();
		}
	});

	test('auth and join in one TCP write (no wait for welcome) both succeed on every instance', T, async () => {
		// With Redis the admission is asked of Redis: the relay must not
		// read the join before the auth is answered.
		for (const r of relays) {
			const raw = await rawConnect(r.port, '/ws');
			raw.sock.write(Buffer.concat([
				encodeFrame(0x1, JSON.stringify({ op: 'auth', name: uniq('pipe'), id: 'a' })),
				encodeFrame(0x1, JSON.stringify({ op: 'join', ch: uniq('pipe'), id: 'j' })),
			]));
			const w = JSON.parse((await raw.nextFrame(W)).payload.toString());
			assert.equal(w.op, 'welcome', JSON.stringify(w));
			const j = JSON.parse((await raw.nextFrame(W)).payload.toString());
			assert.equal(j.op, 'joined', JSON.stringify(j));
			raw.sock.destroy();
		}
	});

	test('clients on three instances chat in one channel: everyone gets every message, same seq order, no gaps, no duplicates', T, async () => {
		const ch = uniq('chat');
		const clients = [];
		for (const r of relays) {
			for (let k = 0; k < 2; k++) clients.push(await r.guest(uniq('c'), noPresence));
		}
		let j;
		for (const c of clients) j = await c.join(ch, {}, W);
		assert.equal(j.members, clients.length, 'members counts every instance\'s members');
		const N = 12;
		for (let k = 0; k < N; k++) {
			const ok = await say(clients[k % clients.length], ch, `m${k}`);
			assert.equal(ok.seq, k + 1, `message ${k} (from instance n${(Math.floor(k / 2) % 3) + 1})`);
		}
		for (const [i, c] of clients.entries()) {
			const got = await c.take('msg', N, W);
			assert.deepEqual(got.map((m) => m.seq), range(1, N), `client ${i} (on n${Math.floor(i / 2) + 1}): seqs`);
			assert.deepEqual(got.map((m) => m.text), range(0, N - 1).map((k) => `m${k}`), `client ${i}: texts`);
			assert.ok(got.every((m) => m.ch === ch));
		}
		await clients[0].expectNone('msg', 300);
		for (const c of clients) assert.equal(c.peek('msg').length, 0, 'no duplicates');
		// a newcomer on any instance sees the cluster's seq and history
		const late = await relays[2].guest(uniq('late'), noPresence);
		const jl = await late.join(ch, { history: 5 }, W);
		assert.equal(jl.seq, N);
		assert.deepEqual(jl.msgs.map((m) => m.seq), range(N - 4, N));
		for (const c of [...clients, late]) await c.close();
	});

	test('6 concurrent senders on 3 instances: every seq once, no gaps, identical order on every instance', { timeout: 60000 }, async () => {
		const ch = uniq('storm');
		const PER_SENDER = 40;
		const senders = [];
		const listeners = [];
		for (const r of relays) {
			for (let k = 0; k < 2; k++) senders.push(await r.guest(uniq('snd'), noPresence));
			listeners.push(await r.guest(uniq('lis'), noPresence));
		}
		const all = [...senders, ...listeners];
		for (const c of all) await c.join(ch, {}, W);
		const TOTAL = senders.length * PER_SENDER;
		// everybody fires at once, without waiting for oks
		for (let k = 0; k < PER_SENDER; k++) {
			for (const [s, c] of senders.entries()) c.send({ op: 'send', ch, text: `s${s}-${k}`, id: `s${s}-${k}` });
		}
		const okSeqs = [];
		const seqOfId = new Map();
		for (const [s, c] of senders.entries()) {
			const oks = await c.take('ok', PER_SENDER, 30000);
			assert.deepEqual(oks.map((o) => o.id), range(0, PER_SENDER - 1).map((k) => `s${s}-${k}`),
			    `sender ${s}: oks come back in the order of the sends`);
			assert.ok(increasing(oks.map((o) => o.seq)), `sender ${s}: its seqs increase`);
			for (const o of oks) {
				okSeqs.push(o.seq);
				seqOfId.set(o.id, o.seq);
			}
		}
		assert.deepEqual([...okSeqs].sort((x, y) => x - y), range(1, TOTAL),
		    'the oks carry every seq 1..TOTAL exactly once, across the cluster');
		const reference = await listeners[0].take('msg', TOTAL, 30000);
		assert.deepEqual(reference.map((m) => m.seq), range(1, TOTAL));
		const refTexts = reference.map((m) => m.text);
		for (let s = 0; s < senders.length; s++) {
			assert.deepEqual(refTexts.filter((t) => t.startsWith(`s${s}-`)), range(0, PER_SENDER - 1).map((k) => `s${s}-${k}`),
			    `sender ${s}'s messages keep their order`);
		}
		for (const m of reference) assert.equal(seqOfId.get(m.text), m.seq, `the ok for ${m.text} carries its msg's seq`);
		for (const [i, c] of all.entries()) {
			if (c === listeners[0]) continue;
			const got = await c.take('msg', TOTAL, 30000);
			const seqs = got.map((m) => m.seq);
			for (let k = 0; k < TOTAL; k++) {
				if (seqs[k] !== k + 1) assert.fail(`client ${i}: position ${k} has seq ${seqs[k]}, expected ${k + 1}`);
			}
			assert.deepEqual(got.map((m) => m.text), refTexts, `client ${i} sees the same sequence`);
		}
		await listeners[1].expectNone('msg', 300);
		for (const c of all) assert.equal(c.peek('msg').length, 0, 'no duplicates');
		// history agrees on every instance
		for (const r of relays) {
			const c = await r.guest(uniq('hist'));
			const h = await c.history(ch, { limit: 50 }, W);
			assert.equal(h.op, 'history', JSON.stringify(h).slice(0, 300));
			assert.deepEqual(h.msgs.map((m) => m.seq), range(TOTAL - 49, TOTAL));
			assert.deepEqual(h.msgs.map((m) => m.text), refTexts.slice(-50));
			await c.close();
		}
		for (const c of all) await c.close();
	});

	test('whisper across instances: every connection of the target, on two instances, gets it', T, async () => {
		const an = uniq('wa');
		const bn = uniq('wb');
		const a = await relays[2].guest(an);
		const b1 = await relays[0].guest(bn);
		const b2 = await relays[1].guest(bn);
		// Reading: a user is "online" for whisper routing from its welcome on.
		const ok = await a.call({ op: 'whisper', to: gid(bn), text: 'psst across', id: 'w1' }, W);
		assert.equal(ok.op, 'ok', JSON.stringify(ok));
		assert.equal(ok.id, 'w1');
		for (const b of [b1, b2]) {
			const w = await b.next('whisper', W);
			assert.deepEqual(w.from, { id: gid(an), name: an });
			assert.equal(w.to, gid(bn));
			assert.equal(w.text, 'psst across');
			assert.equal(typeof w.ts, 'number');
		}
		// back the other way, to a user connected only to another instance
		const ok2 = await b1.call({ op: 'whisper', to: gid(an), text: 'hello n3' }, W);
		assert.equal(ok2.op, 'ok', JSON.stringify(ok2));
		const w2 = await a.next('whisper', W);
		assert.equal(w2.text, 'hello n3');
		assert.deepEqual(w2.from, { id: gid(bn), name: bn });
		// whispers from one connection to one user keep their order, on every instance
		for (let i = 0; i < 10; i++) a.send({ op: 'whisper', to: gid(bn), text: `w${i}`, id: `o${i}` });
		const oks = await a.take('ok', 10, W);
		assert.deepEqual(oks.map((o) => o.id), range(0, 9).map((i) => `o${i}`));
		for (const b of [b1, b2]) {
			const got = await b.take('whisper', 10, W);
			assert.deepEqual(got.map((w) => w.text), range(0, 9).map((i) => `w${i}`));
		}
		await a.expectNone('whisper', 300);
		await b1.expectNone('whisper', 0);
		await b2.expectNone('whisper', 0);
		// Reading: a user connected nowhere in the cluster gets the single-instance answer,
		// err bad_field "to: user X is not online" (docs/protocol.md section 8).
		const nobody = await a.call({ op: 'whisper', to: gid(uniq('nobody')), text: 'anyone?', id: 'w0' }, W);
		assert.equal(nobody.op, 'err', JSON.stringify(nobody));
		assert.equal(nobody.code, 'bad_field', JSON.stringify(nobody));
		// the target closes one connection: the other still gets whispers
		await b2.close();
		await waitFor('whisper reaches the remaining connection', async () => {
			const r = await a.call({ op: 'whisper', to: gid(bn), text: 'still there?' }, W);
			return { done: r.op === 'ok', seen: r };
		});
		const w3 = await b1.next({ op: 'whisper', text: 'still there?' }, W);
		assert.equal(w3.to, gid(bn));
		// and once the target is gone everywhere, it is not online
		await b1.close();
		await waitFor('a user gone from every instance is not online', async () => {
			const r = await a.call({ op: 'whisper', to: gid(bn), text: 'gone?' }, W);
			return { done: r.op === 'err' && r.code === 'bad_field', seen: r };
		});
		await a.close();
	});

	test('who and presence across instances', T, async () => {
		const an = uniq('pa');
		const bn = uniq('pb');
		const cn = uniq('pc');
		const a = await relays[0].guest(an);
		const b = await relays[1].guest(bn);
		const c = await relays[2].guest(cn);
		const ch = uniq('pres');
		const user = (n) => ({ id: gid(n), name: n });
		await a.join(ch, {}, W);
		const jb = await b.join(ch, {}, W);
		assert.equal(jb.members, 2);
		assert.deepEqual(await a.next('presence', W), { op: 'presence', ch, event: 'join', user: user(bn) });
		const jc = await c.join(ch, {}, W);
		assert.equal(jc.members, 3);
		for (const x of [a, b]) {
			assert.deepEqual(await x.next('presence', W), { op: 'presence', ch, event: 'join', user: user(cn) });
		}
		await c.expectNone('presence', 300);	// the joiner hears nothing about itself or earlier members
		await b.expectNone('presence', 0);
		// who, asked on each instance, lists the whole cluster
		const everyone = [gid(an), gid(bn), gid(cn)].sort();
		for (const x of [a, b, c]) {
			const w = await who(x, ch);
			assert.equal(w.count, 3, JSON.stringify(w.raw));
			assert.deepEqual(w.ids, everyone);
			assert.deepEqual(w.raw.members.find((m) => m.id === gid(bn)), user(bn));
		}
		// Reading: presence is per user cluster-wide, as it is per user on one instance: a second
		// connection of b on another instance is no new member and makes no event, and b leaves
		// only when its last connection anywhere does.
		const b3 = await relays[2].guest(bn);
		const j3 = await b3.join(ch, {}, W);
		assert.equal(j3.members, 3, 'members counts distinct users');
		await a.expectNone('presence', 500);
		await c.expectNone('presence', 0);
		const l = await b.call({ op: 'leave', ch }, W);
		assert.equal(l.op, 'left', JSON.stringify(l));
		await a.expectNone('presence', 500);
		assert.deepEqual((await who(a, ch)).ids, everyone, 'b is still in through its connection on n3');
		b3.terminate();	// the last connection of b goes without a close handshake
		for (const x of [a, c]) {
			assert.deepEqual(await x.next('presence', W), { op: 'presence', ch, event: 'leave', user: user(bn) });
		}
		for (const x of [a, c]) {
			await waitFor('who drops b on every instance', async () => {
				const w = await who(x, ch);
				return { done: w.count === 2 && w.ids.join() === [gid(an), gid(cn)].sort().join(), seen: w.raw };
			});
		}
		for (const x of [a, b, c]) await x.close();
	});

	test('join with since after a reconnect to a different instance recovers the missed messages', T, async () => {
		const ch = uniq('rec');
		const a = await relays[0].guest(uniq('writer'), noPresence);
		const bn = uniq('reader');
		let b = await relays[1].guest(bn, noPresence);
		await a.join(ch, {}, W);
		await b.join(ch, {}, W);
		for (let i = 1; i <= 3; i++) await say(a, ch, `before ${i}`);
		const seen = await b.take('msg', 3, W);
		assert.deepEqual(seen.map((m) => m.seq), [1, 2, 3]);
		const S = seen.at(-1).seq;
		await b.close();
		for (let i = 4; i <= 9; i++) await say(a, ch, `missed ${i}`);
		b = await relays[2].guest(bn, noPresence);	// another instance than before
		const j = await b.join(ch, { since: S }, W);
		assert.equal(j.recovered, true, JSON.stringify(j));
		assert.equal(j.seq, 9);
		assert.deepEqual(j.msgs.map((m) => m.seq), range(4, 9));
		assert.deepEqual(j.msgs.map((m) => m.text), range(4, 9).map((i) => `missed ${i}`));
		const ok = await say(a, ch, 'live');
		assert.equal(ok.seq, 10);
		const live = await b.next('msg', W);
		assert.equal(live.seq, 10);
		assert.equal(live.text, 'live');
		// nothing missed, asked on the writer's instance: empty and recovered
		const c = await relays[0].guest(bn, noPresence);
		const jc = await c.join(ch, { since: 10 }, W);
		assert.equal(jc.recovered, true, JSON.stringify(jc));
		assert.deepEqual(jc.msgs || [], []);
		await b.expectNone('msg', 300);
		for (const x of [a, b, c]) await x.close();
	});
});

describe('cluster: an instance killed with SIGKILL', () => {
	let relays;
	before(async () => {
		({ relays } = await startCluster(3, { ...FAST }));
	});

	test('its members disappear from who within presence_ttl; the others carry on; its acknowledged message stays', { timeout: 40000 }, async (t) => {
		const [n1, n2, n3] = relays;
		const an = uniq('ka');
		const bn = uniq('kb');
		const xn = uniq('kx');	// only on n3
		const yn = uniq('ky');	// on n2 and n3
		const a = await n1.guest(an);
		const b = await n2.guest(bn);
		const x = await n3.guest(xn);
		const y2 = await n2.guest(yn);
		const y3 = await n3.guest(yn);
		const ch = uniq('dead');
		for (const c of [a, b, x, y2, y3]) await c.join(ch, {}, W);
		await a.take('presence', 3, W);	// b, x, y (y once)
		const initial = await who(a, ch);
		assert.deepEqual(initial.ids, [gid(an), gid(bn), gid(xn), gid(yn)].sort());

		// PROTOCOL.md: a send whose ok arrived is in history, even if the sender's instance dies right after
		const okx = await say(x, ch, 'last words from n3');
		n3.kill();
		await n3.exited;
		const t0 = Date.now();
		await withTimeoutOrFail(x.closed, W, 'x\'s connection to the killed instance closes');
		await withTimeoutOrFail(y3.closed, W, 'y\'s connection to the killed instance closes');

		// presence_ttl is 2 s; instances beat every third of it, so give it 3 ttl plus slack
		await waitFor('the killed instance\'s members leave who (asked on n1)', async () => {
			const w = await who(a, ch);
			return { done: !w.ids.includes(gid(xn)), seen: w.raw };
		}, 3 * TTL_MS + 3000);
		t.diagnostic(`the killed instance's members left who ${Date.now() - t0} ms after the kill`);
		for (const c of [a, b]) {
			const w = await who(c, ch);
			assert.equal(w.count, 3, JSON.stringify(w.raw));
			assert.deepEqual(w.ids, [gid(an), gid(bn), gid(yn)].sort(), 'y is still connected to n2, so still a member');
		}
		// Reading: members removed because their instance died leave like a disconnect: presence leave
		// (y has a connection left on n2, so no leave for y).
		for (const c of [a, b]) {
			const p = await c.next({ op: 'presence', event: 'leave' }, 3 * TTL_MS + 3000);
			assert.deepEqual(p, { op: 'presence', ch, event: 'leave', user: { id: gid(xn), name: xn } });
		}
		await a.expectNone({ op: 'presence', event: 'leave' }, 300);
		await b.expectNone({ op: 'presence', event: 'leave' }, 0);

		const h = await a.history(ch, {}, W);
		assert.equal(h.op, 'history', JSON.stringify(h));
		assert.ok(h.msgs.some((m) => m.seq === okx.seq && m.text === 'last words from n3'),
		    `the acknowledged seq ${okx.seq} is in history: ${JSON.stringify(h.msgs)}`);
		// the survivors keep chatting, seq carries on
		const ok = await say(a, ch, 'after n3 died');
		assert.equal(ok.seq, okx.seq + 1);
		for (const c of [b, y2]) {
			const m = await c.next({ op: 'msg', text: 'after n3 died' }, W);
			assert.equal(m.seq, ok.seq);
		}
		assert.ok(n1.alive && n2.alive);
		for (const c of [a, b, y2]) await c.close();
	});
});

describe('cluster: user_connections_max 2 is cluster-wide', () => {
	let relays;
	before(async () => {
		({ relays } = await startCluster(2, { ...FAST, user_connections_max: 2 }));
	});

	test('two connections on different instances are fine; a third on either gets forbidden and close 4001', T, async () => {
		const [n1, n2] = relays;
		const un = uniq('lim');
		const u1 = await n1.guest(un);
		const u2 = await n2.guest(un);
		assert.equal(u1.welcome.user.id, gid(un));
		assert.equal(u2.welcome.user.id, gid(un));
		for (const [i, r] of [n1, n2].entries()) {
			const c = await r.ws();
			c.send({ op: 'auth', name: un, id: `third${i}` });
			const err = await c.next('err', W);
			assert.equal(err.code, 'forbidden', `on n${i + 1}: ${JSON.stringify(err)}`);
			assert.equal(err.id, `third${i}`);
			const bye = await c.next('bye', W);
			assert.equal(bye.code, 4001, JSON.stringify(bye));
			assert.ok(c.log.indexOf(err) < c.log.indexOf(bye), 'err precedes bye');
			const closed = await c.closed;
			assert.equal(closed.code, 4001);
		}
		await u1.ping();
		await u2.ping();
		// another user is not affected
		const other = await n1.guest(uniq('other'));
		await other.ping();
		// once one of the two has gone, a connection on the other instance is admitted again
		await u1.close();
		let d = null;
		await waitFor('a connection is accepted after one of the two closed', async () => {
			const c = await n2.ws();
			const r = await c.call({ op: 'auth', name: un }, W);
			if (r.op === 'welcome') {
				d = c;
				return { done: true, seen: r };
			}
			await c.closed;
			return { done: false, seen: r };
		});
		await d.ping();
		for (const c of [d, u2, other]) await c.close();
	});
});

describe('cluster: redis-server killed while clients chat, then restarted on the same port', () => {
	let cluster;
	before(async () => {
		cluster = await startCluster(3, { ...FAST, history_size: 1000, redis_connect_timeout: '500ms' });
	});

	test('instances stay up, send gets unavailable, /healthz says "down" then "redis"; chat resumes; nothing acknowledged is lost', { timeout: 60000 }, async () => {
		const { relays } = cluster;
		let { redis } = cluster;
		const pids = relays.map((r) => r.pid);
		for (const [i, r] of relays.entries()) {
			const h = await r.health();
			assert.equal(h.status, 200, h.raw);
			assert.deepEqual([h.body.status, h.body.node, h.body.bus], ['ok', `n${i + 1}`, 'redis'], h.raw);
		}
		const ch = uniq('outage');
		const senders = [];
		const members = [];
		for (const r of relays) {
			senders.push(await r.guest(uniq('snd'), noPresence));
			members.push(await r.guest(uniq('mem'), noPresence));
		}
		const rn = uniq('reader');
		let reader = await relays[0].guest(rn, noPresence);
		for (const c of [...senders, ...members, reader]) await c.join(ch, {}, W);

		const acked = new Map();	// seq -> text, every send answered ok
		const refused = new Set();	// texts sent once the bus was known down, answered unavailable
		let downKnown = false;		// every /healthz said "down" before the send went out
		const problems = [];
		const ack = (ok, text) => {
			if (acked.has(ok.seq)) problems.push(`seq ${ok.seq} acknowledged twice ("${acked.get(ok.seq)}", "${text}")`);
			acked.set(ok.seq, text);
		};
		for (let k = 0; k < 5; k++) {
			for (const [i, s] of senders.entries()) {
				const text = `pre-${i}-${k}`;
				ack(await say(s, ch, text), text);
			}
		}
		assert.deepEqual([...acked.keys()], range(1, 15));
		const seen = await reader.take('msg', 15, W);
		assert.deepEqual(seen.map((m) => m.seq), range(1, 15));
		const S = 15;
		await reader.close();

		// every sender keeps chatting (one send at a time) through the outage
		let stop = false;
		const oksDuring = senders.map(() => 0);
		const loops = senders.map(async (s, i) => {
			for (let k = 0; !stop; k++) {
				const text = `bg-${i}-${k}`;
				let r;
				const sentWhileDown = downKnown;
				try {
					// generous: a relay may hold a send it got just as Redis died until it knows its fate
					r = await s.call({ op: 'send', ch, text }, 30000);
				} catch (e) {
					problems.push(`sender ${i}, "${text}": ${e.message}`);
					return;
				}
				if (r.op === 'ok') {
					ack(r, text);
					oksDuring[i] += 1;
				} else if (r.op === 'err' && r.code === 'unavailable') {
					// a send in flight as Redis died has an uncertain fate: only later ones count as refused
					if (sentWhileDown) refused.add(text);
				} else {
					problems.push(`sender ${i}, "${text}": answered ${JSON.stringify(r)}`);
				}
				await sleep(20);
			}
		});
		await waitFor('every sender has messages acknowledged in the background', async () => (
			{ done: oksDuring.every((n) => n >= 3), seen: oksDuring }));

		await redis.kill('SIGKILL');
		for (const [i, r] of relays.entries()) {
			const h = await r.waitBus('down', 15000);
			assert.equal(h.status, 200, `status stays 200 while the bus is down: ${h.raw}`);
			assert.equal(h.body.node, `n${i + 1}`);
		}
		downKnown = true;
		for (const [i, s] of senders.entries()) {
			const text = `down-${i}`;
			const r = await s.call({ op: 'send', ch, text, id: `down${i}` }, W);
			assert.equal(r.op, 'err', `send on n${i + 1} while the bus is down: ${JSON.stringify(r)}`);
			assert.equal(r.code, 'unavailable', JSON.stringify(r));
			assert.equal(r.id, `down${i}`);
			refused.add(text);
		}
		// instances stay up and clients stay connected
		for (const [i, r] of relays.entries()) {
			assert.ok(r.alive, r.describeExit());
			assert.equal(r.pid, pids[i]);
		}
		for (const c of [...senders, ...members]) {
			assert.ok(c.isOpen, 'clients stay connected while the bus is down');
			await c.ping();
		}
		stop = true;

		redis = await redis.restart();	// same port, and empty: persistence is off
		for (const r of relays) await r.waitBus('redis', 20000);
		await Promise.all(loops);
		assert.deepEqual(problems, []);
		for (const [i, r] of relays.entries()) {
			assert.ok(r.alive, r.describeExit());
			assert.equal(r.pid, pids[i], 'no relay was restarted');
		}

		// Reading: members joined before the outage stay members (the relays re-establish their
		// subscriptions and presence), so the chat resumes without anyone rejoining.  seq carries on
		// above every acknowledged seq: the restarted Redis being empty must not reuse one.
		const maxBefore = Math.max(...acked.keys());
		let lastSeq = maxBefore;
		for (const [i, s] of senders.entries()) {
			const text = `after-${i}`;
			const ok = await sayAfterRestart(s, ch, text);
			assert.ok(ok.seq > lastSeq, `after the restart, seq ${ok.seq} (n${i + 1}) follows ${lastSeq}`);
			lastSeq = ok.seq;
			ack(ok, text);
			for (const c of [...senders, ...members]) {
				const m = await c.next({ op: 'msg', text }, W);
				assert.equal(m.seq, ok.seq);
			}
		}
		assert.deepEqual(problems, []);
		// Reading: a member may miss messages sequenced as Redis died (recovery is by since),
		// but what it gets is in seq order without repeats.
		for (const [i, c] of [...senders, ...members].entries()) {
			const got = c.log.filter((f) => f.op === 'msg').map((m) => m.seq);
			assert.ok(increasing(got), `client ${i}: msgs strictly in seq order: ${got.join(',')}`);
		}

		// a client that rejoins with since, on another instance, gets everything acknowledged
		reader = await relays[1].guest(rn, noPresence);
		const j = await reader.join(ch, { since: S }, W);
		const jseqs = j.msgs.map((m) => m.seq);
		assert.ok(increasing(jseqs), `recovered msgs in seq order: ${jseqs.join(',')}`);
		assert.ok(jseqs.every((q) => q > S));
		assert.equal(j.seq, lastSeq, 'joined.seq is the last seq');
		const textOf = new Map(j.msgs.map((m) => [m.seq, m.text]));
		for (const [seq, text] of acked) {
			if (seq > S) assert.equal(textOf.get(seq), text, `acknowledged seq ${seq} ("${text}") is recovered`);
		}
		// every ok's seq is in history, seen from a third instance; a refused send is not
		const late = await relays[2].guest(uniq('late'), noPresence);
		const all = await late.join(ch, { since: 0 }, W);
		const allText = new Map(all.msgs.map((m) => [m.seq, m.text]));
		for (const [seq, text] of acked) assert.equal(allText.get(seq), text, `acknowledged seq ${seq} is in history`);
		const texts = new Set(all.msgs.map((m) => m.text));
		// Reading: err unavailable means the send was refused, so it must not show up later
		for (const t of refused) assert.ok(!texts.has(t), `"${t}" was answered unavailable but is in history`);
		// the members are members again: the instances told the new Redis who is in the channel
		const whoAll = await late.call({ op: 'who', ch }, W);
		const ids = new Set(whoAll.members.map((m) => m.id));
		for (const c of [...senders, ...members]) {
			assert.ok(ids.has(c.welcome.user.id), `${c.welcome.user.id} is in who after the restart: ${JSON.stringify(whoAll)}`);
		}
		// and their users are connected again, as far as whispers are concerned
		const target = members[members.length - 1];
		const wok = await senders[0].call({ op: 'whisper', to: target.welcome.user.id, text: 'still there?' }, W);
		assert.equal(wok.op, 'ok', JSON.stringify(wok));
		await target.next({ op: 'whisper', text: 'still there?' }, W);
		for (const c of [...senders, ...members, reader, late]) await c.close();
	});
});

test('an instance started while Redis is down comes up, and connects once Redis appears', { timeout: 60000 }, async () => {
	const dead = await startRedis();
	await dead.kill();	// a port nobody listens on now, where Redis will come back
	// auth_timeout: the connection opened while Redis is down authenticates only once it is back
	const base = { ...FAST, workers: 2, presence_ttl: '2s', redis_connect_timeout: '500ms', auth_timeout: '60s',
	    redis: dead.url };
	const late = await startRelay({ ...base, node: 'late' });
	const h = await late.waitBus('down', 15000);
	assert.equal(h.status, 200, h.raw);
	assert.equal(h.body.node, 'late');
	const early = await late.ws();	// it serves while Redis is missing
	await early.ping();
	await sleep(500);
	assert.ok(late.alive, late.describeExit());

	const redis = await dead.restart();
	assert.equal(redis.port, dead.port);
	await late.waitBus('redis', 20000);
	const other = await startRelay({ ...base, redis: redis.url, node: 'n1' });
	await other.waitBus('redis', 15000);

	// the connection opened while Redis was down now authenticates and chats across instances
	const en = uniq('early');
	const w = await early.call({ op: 'auth', name: en }, W);
	assert.equal(w.op, 'welcome', JSON.stringify(w));
	assert.equal(w.node, 'late');
	const an = uniq('oth');
	const a = await other.guest(an, noPresence);
	const ch = uniq('late');
	await a.join(ch, {}, W);
	const j = await early.join(ch, {}, W);
	assert.equal(j.members, 2);
	const ok1 = await say(a, ch, 'hello late');
	assert.equal(ok1.seq, 1);
	const m1 = await early.next('msg', W);
	assert.deepEqual([m1.seq, m1.text, m1.from.id], [1, 'hello late', gid(an)]);
	const ok2 = await say(early, ch, 'hello n1');
	assert.equal(ok2.seq, 2);
	const m2 = await a.next({ op: 'msg', seq: 2 }, W);
	assert.equal(m2.text, 'hello n1');
	const wl = await who(early, ch);
	assert.deepEqual(wl.ids, [gid(an), gid(en)].sort());
	for (const c of [a, early]) await c.close();
});

describe('cluster: a quiet channel keeps its seq past channel_ttl while it has members', () => {
	let relays;
	before(async () => {
		({ relays } = await startCluster(2, { ...FAST, channel_ttl: '1s' }));
	});

	test('no message for 3 x channel_ttl: the next seq follows on, and every member gets it', { timeout: 30000 }, async () => {
		const ch = uniq('quiet');
		const a = await relays[0].guest(uniq('qa'));
		const b = await relays[1].guest(uniq('qb'));
		await a.join(ch, {}, W);
		await b.join(ch, {}, W);
		const first = await a.call({ op: 'send', ch, text: 'one' }, W);
		assert.equal(first.seq, 1, JSON.stringify(first));
		await b.next((f) => f.op === 'msg' && f.seq === 1, W);
		await sleep(3000);
		const second = await a.call({ op: 'send', ch, text: 'two' }, W);
		assert.equal(second.seq, 2, JSON.stringify(second));
		const got = await b.next((f) => f.op === 'msg' && f.text === 'two', W);
		assert.equal(got.seq, 2);
		await a.close();
		await b.close();
	});
});
