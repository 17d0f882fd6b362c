'use strict';
/*
 * cluster-delivery.test.js: "acknowledged means done" for whispers and
 * control commands across instances (src/bus-redis-stream.c end to end),
 * with a real redis-server and 3 instances of 2 workers each:
 *
 *   - while Redis keeps killing the instances' connections (CLIENT KILL
 *     TYPE pubsub; the connections that read the streams; TYPE normal,
 *     which drops those and the command connections), every whisper
 *     answered `ok` reaches every connection of its target on the other
 *     instances, exactly once;
 *   - in the same storm, every user whose kick was answered `ok` is closed
 *     with 4008 within a few seconds;
 *   - an instance started after a command was sent does not run it (but
 *     does run the next one).
 */

const { test, describe, before } = require('node:test');
const assert = require('node:assert/strict');
const { startCluster, startRelay, mintToken, uniq, sleep, waitFor } = require('./lib');

const W = 10000;
const SECRET = 'cluster-delivery-secret';

async function player(relay, sub) {
	return relay.withToken(mintToken(SECRET, { sub }));
}

/* A moderator on relay's /admin. */
function moderator(relay) {
	return relay.moderator(SECRET);
}

/*
 * Kills connections of the instances: CLIENT KILL TYPE type ('pubsub',
 * 'normal'), or for 'readers' every connection whose last command is
 * XREAD (the stream readers), by id.  Resolves with how many went.
 */
async function kill(redis, type) {
	if (type !== 'readers') return Number(await redis.command('CLIENT', 'KILL', 'TYPE', type)) || 0;
	const list = await redis.command('CLIENT', 'LIST');
	let n = 0;
	for (const line of String(list).split('\n')) {
		const id = /(?:^| )id=(\d+)/.exec(line);
		if (id && / cmd=xread( |$)/.test(line))
			n += Number(await redis.command('CLIENT', 'KILL', 'ID', id[1])) || 0;
	}
	return n;
}

/*
 * Kills types[i] (in turn, see kill) every everyMs until stopped; stop()
 * resolves with how many connections were killed.
 */
function killLoop(redis, types, everyMs) {
	let stopped = false;
	let kills = 0;
	const loop = (async () => {
		for (let i = 0; !stopped; i++) {
			try {
				kills += await kill(redis, types[i % types.length]);
			} catch { /* the next one */ }
			await sleep(everyMs);
		}
	})();
	return { async stop() { stopped = true; await loop; return kills; } };
}

/*
 * Has every client of cs join 4 channels, so that the subscriber
 * connections of their instances' workers have something to follow (and
 * CLIENT KILL TYPE pubsub something to kill).
 */
async function follow(cs) {
	const chs = [0, 1, 2, 3].map(() => uniq('ch'));
	for (const c of cs)
		for (const ch of chs) await c.join(ch, {}, W);
}

/* Sends each request of reqs (every gapMs) on c; resolves with the answers, by id. */
async function sendAll(c, reqs, gapMs) {
	const answers = new Map();
	const pending = [];
	for (const r of reqs) {
		pending.push(c.call(r, W).then((a) => answers.set(r.id, a)));
		await sleep(gapMs);
	}
	await Promise.all(pending);
	return answers;
}

describe('cluster: acknowledged whispers and commands while Redis drops connections', () => {
	let redis, relays;
	before(async () => {
		({ redis, relays } = await startCluster(3, {
			secret: SECRET, rate: 1000, burst: 1000, user_connections_max: 10,
		}));
	});

	for (const types of [['pubsub'], ['readers'], ['pubsub', 'pubsub', 'normal']]) {
		test(`every whisper answered ok arrives exactly once (killing ${types.join(', ')})`,
		    { timeout: 60000 }, async (t) => {
			const [n1, n2, n3] = relays;
			const tn = uniq('target');
			const targets = [await player(n2, tn), await player(n3, tn)];
			const sender = await player(n1, uniq('sender'));
			await follow([...targets, sender]);
			const N = 210;
			const reqs = [];
			for (let i = 0; i < N; i++) reqs.push({ op: 'whisper', to: tn, text: `w${i}`, id: i });
			const killer = killLoop(redis, types, 60);
			let answers, kills;
			try {
				answers = await sendAll(sender, reqs, 15);
			} finally {
				kills = await killer.stop();
			}
			const acked = reqs.filter((r) => answers.get(r.id).op === 'ok').map((r) => r.text);
			const other = [...answers.values()].filter((a) => a.op !== 'ok');
			for (const a of other) assert.equal(a.code, 'unavailable', JSON.stringify(a));
			for (const r of relays) await r.waitBus('redis', W);
			const texts = (c) => c.log.filter((f) => f.op === 'whisper').map((f) => f.text);
			try {
				await waitFor('every acknowledged whisper on both connections', async () => {
					const missing = targets.map((c) => acked.filter((x) => !texts(c).includes(x)));
					return { done: missing.every((m) => m.length === 0), seen: missing };
				}, 5000);
			} finally {
				t.diagnostic(`${kills} connections killed; ${N} whispers sent, ${acked.length} acknowledged, ` +
				    `${other.length} unavailable; delivered: ${targets.map((c) => texts(c).length).join(' and ')}`);
			}
			await sleep(300);	// anything sent twice would be here by now
			for (const c of targets) {
				const got = texts(c);
				assert.equal(new Set(got).size, got.length, 'a whisper arrived twice');
				for (const x of got) assert.ok(reqs.some((r) => r.text === x), `unknown whisper ${x}`);
			}
			assert.ok(acked.length >= N / 10, `only ${acked.length} of ${N} acknowledged`);
			for (const c of [...targets, sender]) await c.close();
		});
	}

	test('every user whose kick was answered ok is closed with 4008 (killing pubsub, readers, normal)',
	    { timeout: 60000 }, async (t) => {
		const [n1, n2, n3] = relays;
		const N = 60;
		const users = [];
		for (let i = 0; i < N; i++) {
			const sub = uniq('kickme');
			users.push({ sub, c: await player(i % 2 ? n3 : n2, sub) });
		}
		const mod = await moderator(n1);
		await follow([users[0].c, users[1].c, mod]);
		const reqs = users.map((u, i) => ({ op: 'kick', user: u.sub, reason: 'storm', id: i }));
		const killer = killLoop(redis, ['pubsub', 'readers', 'normal'], 60);
		let answers, kills;
		try {
			answers = await sendAll(mod, reqs, 40);
		} finally {
			kills = await killer.stop();
		}
		const acked = users.filter((u, i) => answers.get(i).op === 'ok');
		for (const a of answers.values())
			if (a.op !== 'ok') assert.equal(a.code, 'unavailable', JSON.stringify(a));
		const t0 = Date.now();
		const late = [];
		for (const u of acked) {
			const left = Math.max(1, 5000 - (Date.now() - t0));
			const r = await Promise.race([u.c.closed, sleep(left).then(() => null)]);
			if (r === null || r.code !== 4008) late.push(`${u.sub}: ${JSON.stringify(r)}`);
		}
		const closed = users.filter((u) => u.c.closeInfo && u.c.closeInfo.code === 4008).length;
		t.diagnostic(`${kills} connections killed; ${N} kicks sent, ${acked.length} acknowledged; ${closed} users closed with 4008`);
		assert.deepEqual(late, [], 'acknowledged kicks not carried out within 5 s');
		assert.ok(acked.length >= N / 10, `only ${acked.length} of ${N} acknowledged`);
		for (const u of users) await u.c.close();
		await mod.close();
	});

	test('an instance started after a kick does not run it; it runs the next one', { timeout: 30000 }, async () => {
		const [n1] = relays;
		const mod = await moderator(n1);
		const early = uniq('early');
		assert.equal((await mod.call({ op: 'kick', user: early, reason: 'old news' }, W)).op, 'ok');
		const n4 = await startRelay({ redis: redis.url, node: 'n4', workers: 2, presence_ttl: '2s', secret: SECRET });
		await n4.waitBus('redis', W);
		const e = await player(n4, early);
		const later = uniq('later');
		const l = await player(n4, later);
		assert.equal((await mod.call({ op: 'kick', user: later }, W)).op, 'ok');
		assert.equal((await l.next('bye', W)).code, 4008);
		assert.equal((await l.closed).code, 4008);
		await e.ping();		// the older kick, had it run, ran before the newer one
		await e.expectNone('bye', 0);
		await e.close();
		await mod.close();
		assert.equal(await n4.stop(), 0);
	});
});
