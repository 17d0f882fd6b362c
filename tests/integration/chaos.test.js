'use strict';
/*
 * chaos.test.js: an operator's chaos test, bounded in time.  Three relays
 * of two workers on one real redis-server; clients on every relay chat in
 * three channels and whisper to each other, a moderator kicks players, and
 * these faults come one after another:
 *
 *   1. redis-server SIGKILLed and restarted empty;
 *   2. redis-server SIGSTOPped for 5 s;
 *   3. CLIENT KILL TYPE pubsub, three times;
 *   4. a relay SIGSTOPped past presence_ttl, then resumed;
 *   5. a relay SIGKILLed and started again; its clients reconnect to it and
 *      join with the since and epoch they had.
 *
 * It asserts what a user would check: no seq given to two texts; every
 * member that stayed connected received every acknowledged message, in seq
 * order, once; every acknowledged whisper to a user that stayed connected
 * arrived once; every acknowledged kick closed its target with 4008; and a
 * client that came back either recovered what it missed or was told
 * recovered: false.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { startCluster, startRelay, mintToken, redisCommand, seqLedger, uniq, sleep } = require('./lib');

const W = 15000;
const SECRET = 'chaos-secret';
const DIRS = { secret: SECRET, rate: 1000, burst: 1000, user_connections_max: 10, history_size: 2000 };

/* A player with user id sub on relay, recording its msgs and whispers. */
async function player(relay, sub, chans) {
	const c = await relay.ws({ path: `/ws?token=${mintToken(SECRET, { sub })}`,
	    keep: (f) => f.op !== 'msg' && f.op !== 'whisper' });
	/* An auth waits for Redis while it is stopped (fault 2). */
	c.welcome = await c.next('welcome', W);
	c.sub = sub;
	c.msgs = [];
	c.whispers = [];
	c.onFrame((f) => {
		if (f.op === 'msg') c.msgs.push(f);
		else if (f.op === 'whisper') c.whispers.push(f.text);
	});
	for (const ch of chans) await c.join(ch, {}, W);
	return c;
}

test('chaos: Redis and relay faults in turn; nothing acknowledged is lost, no seq is reused', { timeout: 240000 }, async () => {
	let { redis, relays } = await startCluster(3, DIRS);
	const chans = [uniq('k1'), uniq('k2'), uniq('k3')];
	const clients = [];
	for (let r = 0; r < 3; r++)
		for (let i = 0; i < 3; i++)
			clients.push(await player(relays[r], uniq(`p${r}x${i}`), chans));
	clients.forEach((c, k) => { c.relayIdx = Math.floor(k / 3); c.stayed = true; });
	const mod = await relays[0].moderator(SECRET);
	const acked = [], whispered = [], kicks = [];
	let sent = 0, refused = 0, running = true;

	const chatter = async (c, k) => {
		let n = 0;
		while (running && c.closeInfo === null) {
			const ch = chans[(k + n) % chans.length];
			const text = `${c.sub}#${n++}`;
			sent++;
			let r;
			try { r = await c.call({ op: 'send', ch, text }, W); } catch { break; }
			if (r.op === 'ok') acked.push({ ch, seq: r.seq, epoch: r.epoch, text });
			else { assert.equal(r.code, 'unavailable', JSON.stringify(r)); refused++; }
			if (n % 6 === 0) {
				const to = clients[(k + 1 + (n % 5)) % clients.length];
				if (to !== c) {
					const wt = `w:${text}`;
					let wr;
					try { wr = await c.call({ op: 'whisper', to: to.sub, text: wt }, W); } catch { break; }
					if (wr.op === 'ok') whispered.push({ to, text: wt, at: Date.now() });
					else assert.ok(['unavailable', 'bad_field'].includes(wr.code), JSON.stringify(wr));
				}
			}
			await sleep(40);
		}
	};
	const loops = clients.map((c, k) => chatter(c, k));

	/* Kicks two fresh players (on the steady relays) while a fault is on. */
	const kickSome = async () => {
		for (let i = 0; i < 2; i++) {
			const v = await player(relays[i], uniq('victim'), []);
			const r = await mod.call({ op: 'kick', user: v.sub, reason: 'chaos' }, W);
			if (r.op === 'ok') kicks.push(v);
			else assert.equal(r.code, 'unavailable', JSON.stringify(r));
		}
	};
	const settle = async () => {
		for (const r of relays) await r.waitBus('redis', 30000);
		await sleep(1500);
	};

	await sleep(1500);
	/* 1: Redis restarted empty. */
	const lossFrom = Date.now();
	redis = await redis.restart();
	const lossTo = Date.now();
	await settle();
	await kickSome();
	/* 2: Redis stopped for 5 s. */
	redis.proc.kill('SIGSTOP');
	const kicking = kickSome();
	await sleep(5000);
	redis.proc.kill('SIGCONT');
	await kicking;
	await settle();
	/* 3: every subscriber connection killed, three times. */
	for (let i = 0; i < 3; i++) {
		await redisCommand(redis.port, ['CLIENT', 'KILL', 'TYPE', 'pubsub']);
		if (i === 1) await kickSome();
		await sleep(500);
	}
	await settle();
	/* 4: relay 3 stopped past presence_ttl (2 s), then resumed. */
	relays[2].proc.kill('SIGSTOP');
	await sleep(3500);
	relays[2].proc.kill('SIGCONT');
	await settle();
	/* 5: relay 3 killed and started again; its clients come back. */
	const gone = clients.filter((c) => c.relayIdx === 2);
	relays[2].kill();
	await relays[2].exited;
	for (const c of gone) { c.stayed = false; await c.closed; }
	relays[2] = await startRelay({ ...DIRS, redis: redis.url, node: 'n3', workers: 2, presence_ttl: '2s' });
	await relays[2].waitBus('redis', 30000);
	const back = [];
	for (const old of gone) {
		const c = await relays[2].ws({ path: `/ws?token=${mintToken(SECRET, { sub: old.sub })}` });
		c.welcome = await c.next('welcome', W);
		c.sub = old.sub;
		c.joins = [];
		for (const ch of chans) {
			const mine = old.msgs.filter((m) => m.ch === ch);
			const last = mine[mine.length - 1];
			const j = await c.join(ch, last ? { since: last.seq, epoch: last.epoch } : { since: 0 }, W);
			c.joins.push({ ch, j, old: mine });
		}
		back.push(c);
	}
	await sleep(2000);
	running = false;
	await Promise.all(loops);
	await sleep(2000);

	/* No seq given to two texts, across oks and every copy received. */
	for (const ch of chans) {
		const led = seqLedger(ch);
		for (const a of acked) if (a.ch === ch) led.note(a, 'ok');
		for (const c of clients) for (const m of c.msgs) if (m.ch === ch) led.note(m, c.sub);
	}
	/* Every stayer got every acknowledged message, once, in seq order. */
	let delivered = 0, lost = 0, dup = 0, disorder = 0;
	const missing = [];
	for (const c of clients.filter((x) => x.stayed)) {
		for (const ch of chans) {
			const mine = c.msgs.filter((m) => m.ch === ch);
			for (let i = 1; i < mine.length; i++)
				if (mine[i].epoch === mine[i - 1].epoch && mine[i].seq <= mine[i - 1].seq) disorder++;
			const seen = new Map();
			for (const m of mine) seen.set(m.text, (seen.get(m.text) || 0) + 1);
			for (const a of acked) {
				if (a.ch !== ch) continue;
				const n = seen.get(a.text) || 0;
				if (n === 0) { lost++; if (missing.length < 5) missing.push(`${c.sub} lacks ${ch} ${a.seq} ${a.text}`); }
				else delivered++;
				if (n > 1) dup++;
			}
		}
	}
	/* Those that came back: what they missed, recovered or flagged. */
	let recovered = 0, flagged = 0, unrecovered = 0;
	for (const c of back) {
		for (const { ch, j, old } of c.joins) {
			if (j.recovered === false) { flagged++; continue; }
			assert.equal(j.recovered, true, JSON.stringify(j).slice(0, 300));
			const have = new Set([...old.map((m) => m.text), ...(j.msgs || []).map((m) => m.text)]);
			const joinedAt = j.seq;
			for (const a of acked)
				if (a.ch === ch && a.epoch === j.epoch && a.seq <= joinedAt &&
				    old.length > 0 && a.seq > old[0].seq && !have.has(a.text)) unrecovered++;
			recovered++;
		}
	}
	/*
	 * Whispers to users that stayed connected, once each.  A whisper
	 * stored in Redis but not yet read by its instance when Redis lost
	 * its data (fault 1) is lost with it (docs/protocol.md, Known
	 * differences): those acknowledged just before the kill are counted
	 * apart.
	 */
	let wlost = 0, wok = 0, wlostData = 0;
	for (const w of whispered) {
		if (!w.to.stayed) continue;
		const n = w.to.whispers.filter((t) => t === w.text).length;
		if (n === 0 && w.at >= lossFrom - 500 && w.at <= lossTo) wlostData++;
		else if (n === 0) wlost++;
		else wok++;
		assert.ok(n <= 1, `whisper ${w.text} arrived ${n} times`);
	}
	/* Kicks: every acknowledged one closed its target with 4008. */
	let kclosed = 0;
	for (const v of kicks) {
		const info = await Promise.race([v.closed, sleep(5000).then(() => null)]);
		assert.ok(info !== null, `kicked ${v.sub} still connected 5 s after ok`);
		assert.equal(info.code, 4008, `kicked ${v.sub} closed with ${info.code}`);
		kclosed++;
	}
	console.log(`chaos: sent ${sent}, acknowledged ${acked.length}, refused ${refused}, delivered ${delivered}, ` +
	    `lost ${lost}, duplicated ${dup}, out of order ${disorder}; rejoined ${recovered} recovered, ` +
	    `${flagged} flagged, ${unrecovered} missing; whispers acknowledged ${whispered.length}, ` +
	    `delivered ${wok}, lost ${wlost}, lost with Redis's data ${wlostData}; kicks acknowledged ${kicks.length}, closed ${kclosed}`);
	assert.ok(acked.length > 500, `only ${acked.length} acknowledged`);
	assert.equal(lost, 0, missing.join('\n'));
	assert.equal(dup, 0);
	assert.equal(disorder, 0);
	assert.equal(unrecovered, 0);
	assert.equal(wlost, 0);
	assert.ok(kicks.length >= 4, `only ${kicks.length} kicks acknowledged`);
	for (const c of [...clients.filter((x) => x.stayed), ...back, mod]) await c.close();
});
