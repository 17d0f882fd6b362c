'use strict';
/*
 * failover.test.js: two instances (2 workers each) that find Redis through
 * Sentinel (redis_sentinel, redis_master; src/redis-sentinel.c) while the
 * master is killed (SIGKILL) under traffic and the sentinels promote a
 * replica.  The sets are real redis-server and redis-sentinel processes on
 * free loopback ports (lib.startSentinelSet: 3 sentinels, quorum 2,
 * down-after-milliseconds 1000, failover-timeout 3000).
 *
 *   - before: both instances report bus "redis", members on both chat in
 *     two channels and a whisper crosses instances;
 *   - the master killed while every member sends every ~30 ms: sends get
 *     `ok` or err `unavailable` and nothing else, nothing hangs; both
 *     instances serve again on the promoted replica within 20 s (bus
 *     "redis", sends acknowledged again); chat and a whisper in each
 *     direction cross instances again;
 *   - no seq is ever given to two different messages (per channel, epoch
 *     and seq of every `ok` and every `msg` received), the epoch does not
 *     change, every member gets its messages in seq order and once;
 *   - with asynchronous replication (redis_replicas_ack 0) an acknowledged
 *     message may be lost with the master: how many is printed, not
 *     asserted;
 *   - with redis_replicas_ack 1 (two replicas, so that the promoted one
 *     still has one to confirm writes; redis_auth, the master's password):
 *     nothing acknowledged is lost: every acknowledged message reached
 *     every member, or a join with since/epoch after the failover gives it
 *     back;
 *   - a failover to a replica without the latest writes (it replicates
 *     through a proxy that holds the master's stream back for the last
 *     second before the kill): the same, the instances put the seqs back
 *     (no seq given twice, the epoch kept); loss printed, not asserted;
 *   - the same with redis_replicas_ack 1 and two held-back replicas: no
 *     send is acknowledged while no replica confirms it, and nothing
 *     acknowledged is lost.
 *
 * Each test prints "failover: sent N, acknowledged A, refused R, lost L"
 * and the times.  redis-sentinel (package redis-sentinel) is needed: without
 * it the tests are skipped.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const net = require('node:net');
const { seqLedger, startRelay, startSentinelSet, findRedisSentinel, uniq, sleep, waitFor } = require('./lib');

const W = 10000;		/* how long to wait for any one answer or frame */
/*
 * Kill to serving again, at most.  A failover takes 8-9 s (the sentinels'
 * down-after, then the 6.5 s fence); with replicas held back the sentinels
 * sometimes fail over twice, a couple of seconds apart, and each new master
 * starts the fence again (seen in CI: 20.1 s).
 */
const FAILOVER_MS = 30000;
const FAST = { rate: 100000, burst: 100000 };
const SKIP = findRedisSentinel() ? false : 'redis-sentinel is not installed (package redis-sentinel)';
const T = { timeout: 90000, skip: SKIP };

/* Sends until ok (retrying on unavailable for up to timeoutMs); resolves with the ok. */
async function sendUntilOk(c, ch, text, timeoutMs = W) {
	const deadline = Date.now() + timeoutMs;
	let tries = 0;
	for (;;) {
		const r = await c.call({ op: 'send', ch, text }, W);
		if (r.op === 'ok') return r;
		assert.equal(r.code, 'unavailable', `send ${text}: ${JSON.stringify(r)}`);
		tries++;
		assert.ok(Date.now() < deadline, `send ${text}: still ${JSON.stringify(r)} after ${tries} tries`);
		await sleep(100);
	}
}

/* A whisper from one client to another's user (retrying on unavailable), and its arrival. */
async function whisperAcross(from, to, text, timeoutMs = W) {
	const deadline = Date.now() + timeoutMs;
	let tries = 0;
	for (;;) {
		const r = await from.call({ op: 'whisper', to: to.user.id, text }, W);
		if (r.op === 'ok') break;
		assert.equal(r.code, 'unavailable', `whisper ${text}: ${JSON.stringify(r)}`);
		tries++;
		assert.ok(Date.now() < deadline, `whisper ${text}: still ${JSON.stringify(r)} after ${tries} tries`);
		await sleep(100);
	}
	const w = await to.next((f) => f.op === 'whisper' && f.text === text, W);
	assert.equal(w.from.id, from.user.id);
	return tries;
}

/*
 * A TCP proxy on a free loopback port to 127.0.0.1:target.  hold() stops
 * passing on what target sends (it is kept back, the other direction still
 * flows), release() passes it on again; close() drops every connection and
 * whatever was held, and refuses new ones.  Resolves {port, hold, release,
 * close, held()} (held: bytes kept back).
 */
function holdingProxy(target) {
	const conns = new Set();
	let holding = false;
	const server = net.createServer((down) => {
		const up = net.connect({ host: '127.0.0.1', port: target });
		const c = { down, up, kept: [] };
		conns.add(c);
		const end = () => { conns.delete(c); down.destroy(); up.destroy(); };
		down.on('data', (d) => up.write(d));
		up.on('data', (d) => { if (holding) c.kept.push(d); else down.write(d); });
		for (const s of [down, up]) { s.on('error', end); s.on('close', end); }
	});
	server.unref();
	return new Promise((resolve, reject) => {
		server.once('error', reject);
		server.listen(0, '127.0.0.1', () => resolve({
			port: server.address().port,
			hold() { holding = true; },
			release() {
				holding = false;
				for (const c of conns) for (const d of c.kept.splice(0)) c.down.write(d);
			},
			held() { let n = 0; for (const c of conns) for (const d of c.kept) n += d.length; return n; },
			close() {
				server.close();
				for (const c of [...conns]) { c.kept = []; c.down.destroy(); c.up.destroy(); }
				conns.clear();
			},
		}));
	});
}

/* Every client got text in ch (live), within W. */
async function everyoneGets(clients, ch, text) {
	await waitFor(`every member receives "${text}" in ${ch}`, async () => {
		const lacking = clients.filter((c) => !c.got.get(ch).some((m) => m.text === text)).map((c) => c.user.id);
		return { done: lacking.length === 0, seen: { lacking } };
	}, W);
}

/*
 * The scenario of every test here, on set: two relays through its sentinels
 * (with extra directives), three members on each in two channels, the
 * master killed while everybody sends (hooks.beforeKill and
 * hooks.afterKill run just before and after the SIGKILL).  Returns what was
 * measured; asserts everything but loss.
 */
async function failover(set, extra, label, hooks = {}) {
	const relays = [];
	for (const node of ['n1', 'n2']) {
		relays.push(await startRelay({
			redis_sentinel: set.sentinelList,
			redis_master: set.name,
			node,
			workers: 2,
			presence_ttl: '10s',
			history_size: 2000,
			...FAST,
			...extra,
		}));
	}
	for (const r of relays) await r.waitBus('redis', 15000);
	const oldMaster = await set.currentMaster();
	assert.equal(oldMaster, set.master.port);

	const chans = [uniq('fo'), uniq('fo')];
	const clients = [];
	for (let r = 0; r < relays.length; r++) {
		for (let i = 0; i < 3; i++) {
			const c = await relays[r].guest(uniq(`m${r + 1}`), { keep: (f) => f.op !== 'msg' && f.op !== 'presence' });
			c.relay = r;
			c.got = new Map(chans.map((ch) => [ch, []]));
			c.onFrame((f) => { if (f.op === 'msg' && c.got.has(f.ch)) c.got.get(f.ch).push(f); });
			for (const ch of chans) await c.join(ch, {}, W);
			clients.push(c);
		}
	}
	const [a, , , b] = clients;	/* a on n1, b on n2 */

	/* Before: chat and whispers cross instances. */
	for (const ch of chans) {
		await sendUntilOk(b, ch, `before ${ch}`);
		await everyoneGets(clients, ch, `before ${ch}`);
	}
	await whisperAcross(a, b, 'psst n1 to n2 before');
	await whisperAcross(b, a, 'psst n2 to n1 before');

	/* Everybody sends every ~30 ms, round robin over the channels. */
	const acked = [];		/* {ch, seq, epoch, text, at} */
	const bad = [];			/* answers other than ok and unavailable, and sends that hung */
	const reasons = new Map();	/* err msg -> count */
	let sent = 0, refused = 0, running = true, tKill = Infinity;
	const sender = async (c, k) => {
		let n = 0;
		c.refusedAfterKill = null;
		c.servingAgain = null;
		while (running) {
			const ch = chans[(k + n) % chans.length];
			const text = `${c.user.id}#${n++}`;
			sent++;
			let r;
			const sentAt = Date.now();
			try {
				r = await c.call({ op: 'send', ch, text }, W);
			} catch (e) {
				bad.push(`send ${text}: ${e.message}`);
				continue;
			}
			if (r.op === 'ok') {
				acked.push({ ch, seq: r.seq, epoch: r.epoch, text, at: Date.now(), sentAt });
				if (c.refusedAfterKill !== null && c.servingAgain === null) c.servingAgain = Date.now();
			} else {
				if (r.code !== 'unavailable') bad.push(`send ${text}: ${JSON.stringify(r)}`);
				refused++;
				reasons.set(r.msg, (reasons.get(r.msg) || 0) + 1);
				if (Date.now() >= tKill && c.refusedAfterKill === null) c.refusedAfterKill = Date.now();
			}
			await sleep(30);
		}
	};
	const loops = clients.map((c, k) => sender(c, k));
	let newMaster, tSwitch, relayBack;
	try {
		await sleep(1500);
		const ackedBefore = acked.length;
		assert.ok(ackedBefore > 50, `only ${ackedBefore} acknowledged before the kill`);

		if (hooks.beforeKill) await hooks.beforeKill();
		tKill = Date.now();
		await set.master.kill('SIGKILL');
		if (hooks.afterKill) await hooks.afterKill();
		newMaster = await set.waitFailover(oldMaster, FAILOVER_MS);
		tSwitch = Date.now();
		assert.ok(set.replicas.some((r) => r.port === newMaster), `new master ${newMaster} is not a replica`);

		/* Both relays serve again: bus "redis", and every member's sends acknowledged. */
		for (const r of relays) await r.waitBus('redis', Math.max(1000, tKill + FAILOVER_MS - Date.now()));
		await waitFor('every member\'s sends acknowledged again after the failover', async () => {
			const waiting = clients.filter((c) => c.servingAgain === null).map((c) => c.user.id);
			return { done: waiting.length === 0, seen: { waiting, bad: bad.slice(0, 3) } };
		}, Math.max(1000, tKill + FAILOVER_MS - Date.now()));
		relayBack = relays.map((r, i) => Math.max(...clients.filter((c) => c.relay === i)
		    .map((c) => c.servingAgain)) - tKill);
		await sleep(2000);	/* traffic on the new master */
	} finally {
		running = false;
		await Promise.all(loops);
	}
	const ackedAfterKill = acked.filter((x) => x.at > tKill).length;
	const ackedHeld = hooks.heldSince ? acked.filter((x) => x.at > hooks.heldSince() && x.at <= tKill).length : null;

	/* After: chat and whispers cross instances again. */
	for (const ch of chans) {
		await sendUntilOk(a, ch, `after ${ch} from n1`);
		await sendUntilOk(b, ch, `after ${ch} from n2`);
		await everyoneGets(clients, ch, `after ${ch} from n1`);
		await everyoneGets(clients, ch, `after ${ch} from n2`);
	}
	await whisperAcross(a, b, 'psst n1 to n2 after');
	await whisperAcross(b, a, 'psst n2 to n1 after');
	await sleep(1000);	/* the last deliveries */

	for (const r of relays) {
		assert.ok(r.alive, `${r.describeExit()}; output:\n${r.stderr().slice(-3000)}`);
		/* "Each failover is logged once" (conf/chatrelay.conf) */
		assert.match(r.stderr(), new RegExp(`redis: master ${set.name} moved to 127\\.0\\.0\\.1:${newMaster} `),
		    `relay on port ${r.port} logs the failover; output:\n${r.stderr().slice(-3000)}`);
	}
	assert.deepEqual(bad, [], 'answers other than ok and unavailable');

	/* One text per (channel, epoch, seq), across every ok and every copy received; one epoch. */
	for (const ch of chans) {
		const led = seqLedger(ch);
		for (const x of acked) if (x.ch === ch) led.note(x, 'ok');
		for (const c of clients) for (const m of c.got.get(ch)) led.note(m, `received by ${c.user.id}`);
		assert.equal(led.epochs.size, 1, `${ch}: epochs ${[...led.epochs].join(', ')}`);
	}
	/* Every member gets a channel's messages in seq order, each once. */
	for (const c of clients) {
		for (const ch of chans) {
			const seqs = c.got.get(ch).map((m) => m.seq);
			for (let i = 1; i < seqs.length; i++) {
				assert.ok(seqs[i] > seqs[i - 1], `${c.user.id} got ${ch} seq ${seqs[i]} after ${seqs[i - 1]}`);
			}
		}
	}

	/*
	 * Lost: acknowledged messages that some member received neither live
	 * nor from a join with since (from before the first it lacks, with
	 * the epoch) on its own connection after the failover.
	 */
	const missedLive = new Set();
	const lostSet = new Set();
	const missing = [];
	for (const c of clients) {
		for (const ch of chans) {
			const have = new Set(c.got.get(ch).map((m) => m.text));
			const lack = acked.filter((x) => x.ch === ch && !have.has(x.text));
			if (!lack.length) continue;
			for (const x of lack) missedLive.add(x.text);
			const since = Math.min(...lack.map((x) => x.seq)) - 1;
			const j = await c.join(ch, { since, epoch: lack[0].epoch }, W);
			const back = new Set((j.msgs || []).map((m) => m.text));
			for (const x of lack) {
				if (back.has(x.text)) continue;
				lostSet.add(x.text);
				if (missing.length < 10) missing.push(`${c.user.id} lacks ${ch} seq ${x.seq} "${x.text}"`);
			}
		}
	}
	const lost = lostSet.size;
	const tag = `${label}`;
	console.log(`failover: sent ${sent}, acknowledged ${acked.length}, refused ${refused}, lost ${lost} (${tag})`);
	console.log(`failover: master 127.0.0.1:${oldMaster} killed; sentinels named 127.0.0.1:${newMaster} after ` +
	    `${tSwitch - tKill} ms; sends acknowledged again after ${relayBack.join(' ms (n1), ')} ms (n2); ` +
	    `acknowledged after the kill ${ackedAfterKill}; missed live ${missedLive.size}, given back by ` +
	    `join since ${missedLive.size - lost}` +
	    (ackedHeld === null ? '' : `; acknowledged while the replica was held back ${ackedHeld}`) + ` (${tag})`);
	console.log(`failover: refusals: ${[...reasons].map(([m, n]) => `${n} "${m}"`).join(', ')} (${tag})`);
	for (const m of missing) console.log(`failover: ${m}`);
	for (const r of relays) {
		const moved = r.stderr().split('\n').filter((l) => /moved to/.test(l));
		console.log(`failover: ${r.port}: ${moved.join(' | ') || '(no "moved to" line)'}`);
	}

	for (const c of clients) await c.close();
	for (const r of relays) {
		const code = await r.stop('SIGTERM', 10000);
		assert.equal(code, 0, `${r.describeExit()} on SIGTERM; output:\n${r.stderr().slice(-3000)}`);
	}
	await set.kill();
	return { sent, acked: acked.length, ackedList: acked, refused, lost, missing, newMaster, relayBack, tKill };
}

test('master killed under traffic: both instances follow the sentinels to the promoted replica, no seq given twice', T, async () => {
	const set = await startSentinelSet({ replicas: 1, sentinels: 3 });
	const r = await failover(set, {}, 'redis_replicas_ack 0');
	for (const ms of r.relayBack) assert.ok(ms < FAILOVER_MS, `serving again after ${ms} ms`);
	/* Asynchronous replication: acknowledged messages may go down with the master (printed above). */
});

test('redis_replicas_ack 1: a failover loses nothing that was acknowledged', T, async () => {
	const password = 'fo-s3cret&x';
	const set = await startSentinelSet({ replicas: 2, sentinels: 3, password });
	const r = await failover(set, {
		redis_replicas_ack: 1,
		redis_auth: `password=${encodeURIComponent(password)}`,
	}, 'redis_replicas_ack 1');
	for (const ms of r.relayBack) assert.ok(ms < FAILOVER_MS, `serving again after ${ms} ms`);
	assert.equal(r.lost, 0, `acknowledged but lost:\n${r.missing.join('\n')}`);
});

/*
 * A set whose replicas replicate through a holdingProxy, and the scenario
 * with the proxy holding the master's stream back for the last second
 * before the kill (and closed with it): the promoted replica lacks that
 * second of writes.
 */
async function heldBack(setOpts, extra, label) {
	let proxy = null;
	let heldAt = Infinity;
	const set = await startSentinelSet({
		sentinels: 3,
		failoverTimeoutMs: 60000,	/* the sentinels leave the proxied replicas alone for that long */
		via: async (port) => { proxy = await holdingProxy(port); return proxy.port; },
		...setOpts,
	});
	let heldBytes = 0;
	const r = await failover(set, extra, label, {
		beforeKill: async () => {
			proxy.hold();
			heldAt = Date.now();
			await sleep(1000);
			heldBytes = proxy.held();
		},
		afterKill: () => proxy.close(),
		heldSince: () => heldAt,
	});
	console.log(`failover: the promoted replica missed ${heldBytes} bytes of the master's stream (${label})`);
	assert.ok(heldBytes > 0, 'the replica was held back');
	for (const ms of r.relayBack) assert.ok(ms < FAILOVER_MS, `serving again after ${ms} ms`);
	return { ...r, heldAt };
}

test('failover to a replica without the latest writes: the instances put the seqs back, none given twice', T, async () => {
	await heldBack({ replicas: 1 }, {}, 'replica held back, redis_replicas_ack 0');
	/* What the replica lacked was delivered before the kill: the instances' copies put it back (loss printed). */
});

test('redis_replicas_ack 1, replicas held back: nothing acknowledged while no replica confirms, nothing acknowledged lost', T, async () => {
	const r = await heldBack({ replicas: 2 }, { redis_replicas_ack: 1 }, 'replicas held back, redis_replicas_ack 1');
	/* A send answered within ~100 ms of the hold may have reached a replica just before it. */
	const late = r.ackedList.filter((x) => x.sentAt > r.heldAt + 100 && x.sentAt < r.tKill);
	assert.deepEqual(late.map((x) => `${x.ch} ${x.seq} ${x.text}`), [], 'acknowledged while no replica could confirm');
	assert.equal(r.lost, 0, `acknowledged but lost:\n${r.missing.join('\n')}`);
});
