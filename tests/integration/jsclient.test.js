'use strict';
/*
 * jsclient.test.js: web/chatrelay.js, the JavaScript client, against the
 * real relay: imported from the source tree with import() and given the
 * `ws` package as its WebSocket.  The tests look at what an application
 * sees: the promises of its requests and the events (msg, recovered,
 * state, ...), through a relay restart, a cluster instance's restart, a
 * kick, a stalled relay; and, in chromium, the module served by the relay
 * and imported by a page (CHATRELAY_NO_BROWSER=1 skips that one).
 */

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pathToFileURL } = require('node:url');
const WebSocket = require('ws');
const { startRelay, startCluster, mintToken, uniq, sleep, httpGet, SRCDIR } = require('./lib');

const MODULE = path.join(SRCDIR, 'web', 'chatrelay.js');
const T = { timeout: 60000 };
const CHROMIUM = process.env.CHATRELAY_CHROMIUM || '/usr/bin/chromium';
const NO_BROWSER = process.env.CHATRELAY_NO_BROWSER === '1';

let chatrelay = null;

/*
 * The module, from the source tree.  A Node 20 older than 20.19 takes a .js
 * file outside a "type": "module" package for CommonJS: then the same
 * file's text is imported as an ES module from a data: URL.
 */
async function loadModule() {
	try {
		return await import(pathToFileURL(MODULE).href);
	} catch (e) {
		if (!(e instanceof SyntaxError)) throw e;
		const src = fs.readFileSync(MODULE).toString('base64');
		return import(`data:text/javascript;base64,${src}`);
	}
}

before(async () => { chatrelay = await loadModule(); });

/*
 * A chatrelay.js client on url (closed after test t), with what it
 * reported kept in c.seen: msgs, states, recovered, whispers, presence,
 * notices, deletes, errs, mods, reports, byes, out (the ops it sent).
 */
function client(t, url, opts = {}) {
	const c = chatrelay.connect(url, { WebSocket, ...opts });
	const seen = {
		msgs: [], states: [], recovered: [], whispers: [], presence: [], notices: [], deletes: [],
		errs: [], mods: [], reports: [], byes: [], out: [],
	};
	c.on('msg', (m) => seen.msgs.push(m));
	c.on('state', (s) => seen.states.push(s));
	c.on('recovered', (r) => seen.recovered.push(r));
	c.on('whisper', (w) => seen.whispers.push(w));
	c.on('presence', (p) => seen.presence.push(p));
	c.on('notice', (n) => seen.notices.push(n));
	c.on('delete', (d) => seen.deletes.push(d));
	c.on('err', (e) => seen.errs.push(e));
	c.on('mod', (m) => seen.mods.push(m));
	c.on('report', (r) => seen.reports.push(r));
	c.on('bye', (b) => seen.byes.push(b));
	c.on('frame', ({ dir, frame }) => { if (dir === 'out') seen.out.push(frame.op); });
	c.seen = seen;
	t.after(() => c.close());
	return c;
}

/* Waits until pred() is true (polling every 20 ms); fails after ms saying what, and show(). */
async function until(what, pred, ms = 10000, show = () => '') {
	const deadline = Date.now() + ms;
	while (!pred()) {
		if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms ${show()}`);
		await sleep(20);
	}
}

const texts = (msgs) => msgs.map((m) => m.text);
const stateNames = (c) => c.seen.states.map((s) => s.state);

/* Rejects like p with a ChatError of code (and the other fields of want). */
async function rejectsWith(p, want) {
	await assert.rejects(p, (e) => {
		assert.equal(e.name, 'ChatError', `not a ChatError: ${e.stack}`);
		for (const [k, v] of Object.entries(want)) {
			if (v instanceof RegExp) assert.match(String(e[k]), v, `${k} of ${e.message}`);
			else assert.equal(e[k], v, `${k} of ${e.message}`);
		}
		return true;
	});
}

/* Every msg of ch, in the order seen, without a repeated (epoch, seq). */
function assertNoRepeats(msgs, ch) {
	const keys = msgs.filter((m) => m.ch === ch).map((m) => `${m.epoch}/${m.seq}`);
	assert.equal(new Set(keys).size, keys.length, `a message seen twice in ${ch}: ${keys.join(' ')}`);
}

/* The seqs of the msgs of ch in epoch, which must only grow. */
function assertSeqOrder(msgs, ch, epoch) {
	const seqs = msgs.filter((m) => m.ch === ch && m.epoch === epoch).map((m) => m.seq);
	for (let i = 1; i < seqs.length; i++) {
		assert.ok(seqs[i] > seqs[i - 1], `${ch} seqs out of order: ${seqs.join(' ')}`);
	}
}

describe('jsclient: the module', () => {
	test('codePoints counts code points, and the relay serves the module as text/javascript', async () => {
		assert.equal(chatrelay.codePoints('a\u{1F600}\u00e9'), 3);
		assert.equal(chatrelay.codePoints(''), 0);
		assert.equal(chatrelay.default.codePoints('\u{1F600}'.repeat(500)), 500);
		const relay = await startRelay();
		const r = await httpGet(relay.port, '/chatrelay.js');
		assert.equal(r.status, 200);
		assert.match(r.headers['content-type'], /^text\/javascript/);
		assert.equal(r.body, fs.readFileSync(MODULE, 'utf8'));
	});

	test('connect refuses what cannot work, at once', () => {
		assert.throws(() => chatrelay.connect('ws://127.0.0.1:1/ws', { WebSocket }), /name.*token/);
		assert.throws(() => chatrelay.connect('ws://127.0.0.1:1/ws', { name: 'a' }), /WebSocket/);
		assert.throws(() => chatrelay.connect('ftp://x/ws', { name: 'a', WebSocket }), /not a WebSocket URL/);
		assert.throws(() => chatrelay.connect('ws://127.0.0.1:1/ws', { name: 'a', WebSocket, pingMs: 1 }),
		    /unknown option pingMs/);
		const c = chatrelay.connect('ws://127.0.0.1:1/ws', { name: 'a', WebSocket });
		assert.throws(() => c.on('message', () => {}), /unknown event "message"/);
		c.close();
	});
});

describe('jsclient: open mode', () => {
	let relay;
	before(async () => { relay = await startRelay({ workers: 2 }); });

	test('connects: ready gives the welcome; connecting, then connected', T, async (t) => {
		const name = uniq('alice');
		const a = client(t, `${relay.url}/ws`, { name });
		const w = await a.ready;
		assert.equal(w.op, 'welcome');
		assert.equal(w.user.id, `guest:${name}`);
		assert.deepEqual(a.me, w.user);
		assert.equal(a.limits.text, 500);
		assert.equal(a.state, 'connected');
		assert.deepEqual(stateNames(a), ['connecting', 'connected']);
		assert.equal(a.seen.states[1].welcome, w);
	});

	test('two clients: join, send with meta, presence, whisper, who, history, ping', T, async (t) => {
		const [an, bn] = [uniq('ann'), uniq('bob')];
		const a = client(t, `${relay.url}/ws`, { name: an });
		const b = client(t, `${relay.url}/ws`, { name: bn });
		await Promise.all([a.ready, b.ready]);
		const ch = uniq('room');
		const ja = await a.join(ch);
		assert.equal(ja.op, 'joined');
		assert.equal(ja.members, 1);
		assert.match(ja.epoch, /^[0-9a-f]{12}$/);
		const jb = await b.join(ch);
		assert.equal(jb.members, 2);
		await until('ann sees bob join', () => a.seen.presence.length === 1);
		assert.equal(a.seen.presence[0].event, 'join');
		assert.equal(a.seen.presence[0].user.id, `guest:${bn}`);

		const ok = await b.send(ch, 'hello ann', { k: 1 });
		assert.equal(ok.op, 'ok');
		assert.equal(ok.seq, 1);
		assert.equal(ok.epoch, ja.epoch);
		await a.send(ch, 'hi bob');
		await until('both see both messages', () => a.seen.msgs.length === 2 && b.seen.msgs.length === 2);
		for (const c of [a, b]) {
			assert.deepEqual(texts(c.seen.msgs), ['hello ann', 'hi bob']);
			assert.deepEqual(c.seen.msgs[0].meta, { k: 1 });
			assert.deepEqual(c.seen.msgs[0].from, { id: `guest:${bn}`, name: bn });
			assert.deepEqual(c.seen.msgs.map((m) => m.seq), [1, 2]);
		}
		assert.deepEqual(a.joinedChannels(), [{ ch, seq: 2, epoch: ja.epoch }]);

		const wok = await a.whisper(`guest:${bn}`, 'psst');
		assert.equal(wok.op, 'ok');
		await until('bob gets the whisper', () => b.seen.whispers.length === 1);
		assert.equal(b.seen.whispers[0].text, 'psst');
		assert.equal(b.seen.whispers[0].from.id, `guest:${an}`);

		const who = await a.who(ch);
		assert.equal(who.count, 2);
		assert.deepEqual(who.members.map((m) => m.id).sort(), [`guest:${an}`, `guest:${bn}`].sort());
		const h = await b.history(ch, { limit: 10 });
		assert.deepEqual(texts(h.msgs), ['hello ann', 'hi bob']);
		const h1 = await b.history(ch, { since: 1 });
		assert.deepEqual(texts(h1.msgs), ['hi bob']);
		const pong = await a.ping();
		assert.equal(pong.op, 'pong');
		assert.ok(pong.rtt >= 0);

		const c = client(t, `${relay.url}/ws`, { name: uniq('cat') });
		const jc = await c.request('join', { ch, history: 1 });
		assert.deepEqual(texts(jc.msgs), ['hi bob'], 'the history asked for comes in the reply');
		assert.deepEqual(c.seen.msgs, [], 'and not as msg events');
		assert.deepEqual(c.joinedChannels(), [{ ch, seq: 2, epoch: ja.epoch }], 'request(join) is tracked too');

		const left = await b.leave(ch);
		assert.equal(left.op, 'left');
		assert.deepEqual(b.joinedChannels(), []);
		await a.send(ch, 'bob is gone');
		await until('ann sees her message', () => a.seen.msgs.length === 3);
		await sleep(100);
		assert.equal(b.seen.msgs.length, 2, 'nothing of a channel left');
	});

	test('a join or history reply split over frames is assembled', T, async (t) => {
		const r = await startRelay({ frame_max: 1024, rate: 1000, burst: 1000 });
		const a = client(t, `${r.url}/ws`, { name: uniq('big') });
		const ch = uniq('big');
		await a.join(ch);
		const sent = [];
		for (let i = 0; i < 60; i++) sent.push(`message ${i} `.padEnd(180, 'x'));
		for (const s of sent) await a.send(ch, s);
		const b = client(t, `${r.url}/ws`, { name: uniq('late') });
		const frames = [];
		b.on('frame', ({ dir, frame }) => { if (dir === 'in') frames.push(frame.op); });
		const j = await b.join(ch, { history: 100 });
		assert.equal(j.op, 'joined');
		assert.equal(j.more, false);
		assert.deepEqual(texts(j.msgs), sent);
		assert.ok(frames.filter((op) => op === 'history').length >= 5, `joined in one frame? ${frames}`);
		const h = await b.history(ch, { limit: 100 });
		assert.deepEqual(texts(h.msgs), sent);
		assert.equal(h.more, false);
		assert.deepEqual(b.seen.msgs, []);
	});

	test('an err reply rejects with a ChatError: too_long, not_member, bad_field', T, async (t) => {
		const a = client(t, `${relay.url}/ws`, { name: uniq('err') });
		const ch = uniq('errs');
		await a.join(ch);
		/* 500 code points fit although they are 1000 UTF-16 units; 501 do not */
		const ok = await a.send(ch, '\u{1F600}'.repeat(500));
		assert.equal(ok.op, 'ok');
		const long = '\u{1F600}'.repeat(501);
		assert.equal(chatrelay.codePoints(long), 501);
		await rejectsWith(a.send(ch, long), { code: 'too_long', op: 'send', ch, msg: /text/ });
		await rejectsWith(a.send(uniq('elsewhere'), 'hi'), { code: 'not_member', op: 'send' });
		await rejectsWith(a.whisper('guest:nobody-here', 'hi'), { code: 'bad_field', msg: /not online/ });
		await rejectsWith(a.request('history', { ch: uniq('never') }), { code: 'no_such_channel' });
		await rejectsWith(a.request('frobnicate', {}), { code: 'bad_op' });
		assert.equal(a.state, 'connected', 'errors do not touch the connection');
	});

	test('rate_limited rejects with retry_ms', T, async (t) => {
		const r = await startRelay({ rate: 1, burst: 2 });
		const a = client(t, `${r.url}/ws`, { name: uniq('fast') });
		const ch = uniq('rl');
		await a.join(ch);
		const res = await Promise.allSettled([1, 2, 3, 4].map((i) => a.send(ch, `m${i}`)));
		assert.deepEqual(res.map((x) => x.status), ['fulfilled', 'fulfilled', 'rejected', 'rejected']);
		for (const x of res.slice(2)) {
			assert.equal(x.reason.code, 'rate_limited');
			assert.ok(x.reason.retry_ms > 0 && x.reason.retry_ms <= 1000, `retry_ms ${x.reason.retry_ms}`);
		}
		await sleep(res[2].reason.retry_ms + 50);
		assert.equal((await a.send(ch, 'later')).op, 'ok');
	});

	test('a bad guest name: offline, ready rejects, no reconnect', T, async (t) => {
		const a = client(t, `${relay.url}/ws`, { name: 'has space', backoffMinMs: 50 });
		await rejectsWith(a.ready, { code: 'bad_field', msg: /name/ });
		assert.equal(a.state, 'offline');
		await sleep(500);
		assert.deepEqual(stateNames(a), ['connecting', 'offline']);
		assert.equal(a.seen.states[1].error.code, 'bad_field');
		await rejectsWith(a.send('x', 'y'), { code: 'offline' });
	});
});

describe('jsclient: token mode', () => {
	const SECRET = 'jsclient-secret';
	let relay;
	before(async () => { relay = await startRelay({ secret: SECRET }); });

	/* A WebSocket that notes every URL it is opened on. */
	function spy(urls) {
		return class extends WebSocket {
			constructor(url, protocols) {
				urls.push(String(url));
				super(url, protocols);
			}
		};
	}

	test('a token authenticates in an auth frame, never in the URL', T, async (t) => {
		const urls = [];
		const tok = mintToken(SECRET, { sub: 'p-7', name: 'Petra', exp: Math.floor(Date.now() / 1000) + 600 });
		const a = client(t, `${relay.url}/ws`, { token: tok, WebSocket: spy(urls) });
		const w = await a.ready;
		assert.deepEqual(w.user, { id: 'p-7', name: 'Petra', role: 'player' });
		assert.deepEqual(urls, [`${relay.url}/ws`]);
		assert.ok(a.seen.out.includes('auth'));
	});

	test('a token function is asked at every connection', T, async (t) => {
		let calls = 0;
		const token = async () => {
			calls += 1;
			return mintToken(SECRET, { sub: 'p-8', name: `Try${calls}` });
		};
		const a = client(t, `${relay.url}/ws`, { token });
		assert.equal((await a.ready).user.name, 'Try1');
		a.reconnect();
		await until('connected again', () => stateNames(a).filter((s) => s === 'connected').length === 2);
		assert.equal(calls, 2);
		assert.equal(a.me.name, 'Try2');
	});

	test('a bad token: offline with 4001, ready rejects auth_failed, no reconnect', T, async (t) => {
		const a = client(t, `${relay.url}/ws`, { token: mintToken('wrong', { sub: 'p-9' }), backoffMinMs: 50 });
		await rejectsWith(a.ready, { code: 'auth_failed', msg: /bad signature/ });
		await until('offline', () => a.state === 'offline');
		const off = a.seen.states.at(-1);
		assert.equal(off.code, 4001);
		assert.match(off.reason, /bad signature/);
		await sleep(500);
		assert.deepEqual(stateNames(a), ['connecting', 'offline']);
	});
});

describe('jsclient: moderation', () => {
	const SECRET = 'jsclient-mod-secret';
	let relay;
	before(async () => { relay = await startRelay({ secret: SECRET }); });

	test('moderators\' ops through the module; a kick (4008) leaves the player offline, never reconnecting',
	    T, async (t) => {
		const mod = client(t, `${relay.url}/admin`, { token: mintToken(SECRET, { sub: 'mod-1', role: 'moderator' }) });
		const vic = client(t, `${relay.url}/ws`, { token: mintToken(SECRET, { sub: 'vic', name: 'Vic' }), backoffMinMs: 50 });
		const rep = client(t, `${relay.url}/ws`, { token: mintToken(SECRET, { sub: 'rep' }) });
		await Promise.all([mod.ready, vic.ready, rep.ready]);
		const ch = uniq('modroom');
		assert.equal((await mod.watch(ch)).op, 'ok');
		await vic.join(ch);
		await rep.join(ch);
		const sent = await vic.send(ch, 'you are all noobs');
		await until('the watcher sees the message', () => mod.seen.msgs.length === 1);
		assert.equal(mod.seen.msgs[0].text, 'you are all noobs');

		assert.equal((await rep.report('vic', ch, sent.seq, 'insults')).op, 'ok');
		await until('the report reaches the moderator', () => mod.seen.reports.length === 1);
		assert.equal(mod.seen.reports[0].text, 'you are all noobs');

		await mod.mute('vic', { ch, secs: 60, reason: 'calm down' });
		await until('vic is told', () => vic.seen.notices.length === 1);
		await rejectsWith(vic.send(ch, 'again'), { code: 'muted', msg: /calm down/ });
		const muted = await vic.send(ch, 'again').catch((e) => e);
		assert.ok(muted.until > Date.now(), `until ${muted.until}`);
		await mod.unmute('vic', ch);
		await until('vic is told again', () => vic.seen.notices.length === 2);
		assert.equal((await vic.send(ch, 'sorry')).op, 'ok');

		const st = await mod.stats();
		assert.ok(st.total.connections >= 3);
		const u = await mod.user('vic');
		assert.equal(u.online, true);
		await mod.delete(ch, sent.seq);
		await until('members get the delete', () => rep.seen.deletes.length === 1);
		assert.deepEqual(rep.seen.deletes[0], { op: 'delete', ch, seq: sent.seq });

		await mod.kick('vic', 'enough');
		await until('vic is offline', () => vic.state === 'offline');
		assert.deepEqual(vic.seen.states.at(-1), { state: 'offline', code: 4008, reason: 'enough', error: null });
		assert.ok(mod.seen.mods.some((m) => m.action === 'kick' && m.user === 'vic'), 'the mod event');
		await rejectsWith(vic.send(ch, 'let me back'), { code: 'offline' });
		await sleep(1500);
		assert.equal(vic.state, 'offline', 'no reconnect after a kick');
		assert.equal(stateNames(vic).filter((s) => s === 'connecting').length, 1);

		vic.reconnect();	/* the application may, on purpose */
		await until('vic back on purpose', () => vic.state === 'connected');
	});
});

describe('jsclient: waiting for the connection', () => {
	test('requests wait for the first connection, the queue is bounded, waits expire as offline', T, async (t) => {
		const relay = await startRelay();
		await relay.stop();	/* nothing listens on its port now */
		const opts = { backoffMinMs: 50, backoffMaxMs: 200 };
		const x = client(t, `${relay.url}/ws`, { name: uniq('x'), ...opts, queueMs: 400, timeoutMs: 300 });
		const t0 = Date.now();
		const sendFails = rejectsWith(x.send('q', 'never'), { code: 'offline', msg: /400 ms/ });
		const whoFails = rejectsWith(x.who('q'), { code: 'offline', msg: /300 ms/ });
		await whoFails;
		await sendFails;
		assert.ok(Date.now() - t0 >= 380, 'send waited its queueMs');
		await until('several attempts', () => x.seen.states.filter((s) => s.state === 'reconnecting').length >= 3);
		const waits = x.seen.states.filter((s) => s.state === 'reconnecting');
		assert.deepEqual(waits.slice(0, 3).map((s) => s.attempt), [1, 2, 3]);
		for (const s of waits) assert.ok(s.inMs >= 0 && s.inMs <= 200, `inMs ${s.inMs}`);
		await x.close();
		await rejectsWith(x.ready, { code: 'closed' });
		assert.equal(x.state, 'closed');
		await rejectsWith(x.ping(), { code: 'closed' });

		const name = uniq('early');
		const a = client(t, `${relay.url}/ws`, { name, ...opts, queueMax: 3 });
		const ch = uniq('early');
		const joined = a.join(ch);
		const s1 = a.send(ch, 'one');
		const s2 = a.send(ch, 'two');
		await rejectsWith(a.send(ch, 'three'), { code: 'offline', msg: /3 requests already wait/ });
		await sleep(300);
		const relay2 = await relay.restart();
		assert.equal(relay2.port, relay.port);
		const w = await a.ready;
		assert.equal(w.user.id, `guest:${name}`);
		assert.equal((await joined).op, 'joined');
		assert.deepEqual([(await s1).seq, (await s2).seq], [1, 2]);
		await until('her own messages', () => a.seen.msgs.length === 2);
		assert.deepEqual(texts(a.seen.msgs), ['one', 'two']);
	});
});

describe('jsclient: the relay restarts on the same port (no Redis)', () => {
	test('SIGTERM: bye 1001 with reconnect_ms; clients come back, rejoin, and nothing is seen twice',
	    T, async (t) => {
		const relay = await startRelay({ workers: 2 });
		const url = `${relay.url}/ws`;
		const ch = uniq('restart');
		const a = client(t, url, { name: uniq('a') });
		const b = client(t, url, { name: uniq('b') });
		const c = client(t, url, { name: uniq('c') });
		const other = uniq('other');
		await Promise.all([a.join(ch), b.join(ch), c.join(ch), a.join(other)]);
		await a.send(ch, 'a1');
		await b.send(ch, 'b1');
		await until('the chat before', () => [a, b, c].every((x) => x.seen.msgs.length === 2));
		const epoch1 = a.seen.msgs[0].epoch;

		await relay.stop('SIGTERM');
		await until('everyone waits to reconnect', () => [a, b, c].every((x) => x.state === 'reconnecting'));
		for (const x of [a, b, c]) {
			assert.equal(x.seen.byes.length, 1);
			const bye = x.seen.byes[0];
			assert.equal(bye.code, 1001);
			assert.ok(bye.reconnect_ms >= 1000 && bye.reconnect_ms < 5000, `reconnect_ms ${bye.reconnect_ms}`);
			const wait = x.seen.states.find((s) => s.state === 'reconnecting');
			assert.equal(wait.code, 1001);
			assert.ok(wait.inMs >= bye.reconnect_ms, `waits ${wait.inMs} ms, asked ${bye.reconnect_ms}`);
		}
		/* made while the relay is down: they wait, and go out after the rejoin */
		const queued = [c.send(ch, 'c1'), c.send(ch, 'c2'), a.send(ch, 'a2')];
		/* a leave while no connection is in the channel: done at once, and not rejoined */
		assert.deepEqual(await a.leave(other), { op: 'left', ch: other });
		await relay.restart();
		const oks = await Promise.all(queued);
		assert.ok(oks.every((o) => o.op === 'ok'));
		await c.send(ch, 'c3');
		const after = (x) => x.seen.msgs.filter((m) => m.epoch !== epoch1);
		await until('everyone sees the four messages after the restart',
		    () => [a, b, c].every((x) => after(x).length >= 4), 15000,
		    () => JSON.stringify([a, b, c].map((x) => texts(x.seen.msgs))));
		await sleep(200);
		for (const x of [a, b, c]) {
			const got = texts(after(x));
			assert.equal(got.length, 4, `seen after the restart: ${got}`);
			assert.deepEqual(got.filter((s) => s.startsWith('c')), ['c1', 'c2', 'c3']);
			assert.deepEqual(got.filter((s) => s.startsWith('a')), ['a2']);
			assertNoRepeats(x.seen.msgs, ch);
			assertSeqOrder(x.seen.msgs, ch, after(x)[0].epoch);
			/* history went with the relay: a new numbering, so not recovered */
			assert.equal(x.seen.recovered.length, 1);
			assert.equal(x.seen.recovered[0].ch, ch);
			assert.equal(x.seen.recovered[0].recovered, false);
			assert.equal(x.state, 'connected');
			assert.deepEqual(x.joinedChannels().map((j) => j.ch), [ch]);
		}
		assert.ok(!a.seen.out.includes('leave'), 'the leave never went to the relay');
	});
});

describe('jsclient: a cluster instance restarts (Redis)', () => {
	test('the client comes back to it and recovers what the other instance carried, in order, once',
	    T, async (t) => {
		const { relays: [n1, n2] } = await startCluster(2);
		const ch = uniq('cluster');
		const a = client(t, `${n1.url}/ws`, { name: uniq('a'), backoffMaxMs: 1000 });
		const b = client(t, `${n2.url}/ws`, { name: uniq('b') });
		await a.join(ch);
		await b.join(ch);
		await a.send(ch, 'a1');
		await b.send(ch, 'b1');
		await until('the chat before', () => a.seen.msgs.length === 2 && b.seen.msgs.length === 2);

		await n1.stop('SIGTERM');
		await until('a waits to reconnect', () => a.state === 'reconnecting');
		const missed = ['m1', 'm2', 'm3', 'm4', 'm5'];
		for (const m of missed) await b.send(ch, m);
		const queued = a.send(ch, 'a2');
		const n1b = await n1.restart();
		await n1b.waitBus('redis');
		await until('a is back', () => a.state === 'connected', 20000);
		assert.equal((await queued).op, 'ok');
		assert.equal(a.seen.recovered.length, 1);
		assert.deepEqual(a.seen.recovered[0], {
			ch, recovered: true, count: 5, seq: a.seen.recovered[0].seq, epoch: a.seen.msgs[0].epoch,
		});
		assert.deepEqual(texts(a.seen.msgs.slice(2, 7)), missed);
		assert.ok(a.seen.msgs.slice(2, 7).every((m) => m.recovered === true));
		await b.send(ch, 'b2');
		await until('a sees the live ones', () => texts(a.seen.msgs).includes('b2') && texts(a.seen.msgs).includes('a2'));
		await until('b sees the queued one', () => texts(b.seen.msgs).includes('a2'));
		await sleep(200);
		assert.deepEqual(texts(a.seen.msgs).sort(), ['a1', 'a2', 'b1', 'b2', ...missed].sort());
		assert.equal(a.seen.msgs.filter((m) => m.recovered).length, 5);
		assertNoRepeats(a.seen.msgs, ch);
		assertSeqOrder(a.seen.msgs, ch, a.seen.msgs[0].epoch);
		assert.deepEqual(texts(b.seen.msgs).sort(), ['a1', 'a2', 'b1', 'b2', ...missed].sort());
		assert.equal(new Set(a.seen.msgs.map((m) => m.epoch)).size, 1, 'one numbering throughout');
	});
});

/* Whether process pid is stopped (state T in /proc/PID/stat). */
function stopped(pid) {
	try {
		return / T /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\)/, ')'));
	} catch {
		return false;
	}
}

describe('jsclient: keep-alive', () => {
	/* A ws that does not answer the relay's WebSocket pings: only the client's ping ops keep it alive. */
	class NoAutoPong extends WebSocket {
		constructor(url, protocols) { super(url, protocols, { autoPong: false }); }
	}

	test('the ping op keeps an idle connection open; without it the relay closes it', T, async (t) => {
		const relay = await startRelay({ idle_timeout: '2s' });
		const url = `${relay.url}/ws`;
		const a = client(t, url, { name: uniq('pinger'), WebSocket: NoAutoPong, pingIntervalMs: 300 });
		const b = client(t, url, { name: uniq('silent'), WebSocket: NoAutoPong, pingIntervalMs: 0 });
		await Promise.all([a.ready, b.ready]);
		await sleep(4000);
		assert.deepEqual(stateNames(a), ['connecting', 'connected'], 'the pinging client stayed connected');
		assert.ok(a.seen.out.filter((op) => op === 'ping').length >= 8, `pings sent: ${a.seen.out}`);
		assert.ok(!b.seen.out.includes('ping'));
		const wait = b.seen.states.find((s) => s.state === 'reconnecting');
		assert.ok(wait, `the silent client was not closed: ${JSON.stringify(b.seen.states)}`);
		assert.equal(wait.code, 1000);
		assert.equal(wait.reason, 'idle timeout');
	});

	test('a relay that stops answering: the request times out, the client drops it and comes back',
	    T, async (t) => {
		const relay = await startRelay();
		const ch = uniq('stall');
		const a = client(t, `${relay.url}/ws`, {
			name: uniq('a'), pingIntervalMs: 200, timeoutMs: 600, connectTimeoutMs: 800, backoffMaxMs: 300,
		});
		await a.join(ch);
		let history;
		relay.proc.kill('SIGSTOP');
		try {
			await until('the relay is stopped', () => stopped(relay.pid), 5000);
			const who = rejectsWith(a.request('who', { ch }, { timeoutMs: 300 }), { code: 'timeout', msg: /300 ms/ });
			/* on the wire when the connection is given up */
			const send = rejectsWith(a.request('send', { ch, text: 'into the void' }, { timeoutMs: 10000 }),
			    { code: 'disconnected', op: 'send', msg: /may or may not/ });
			history = a.request('history', { ch }, { timeoutMs: 10000 }).catch((e) => e);
			await who;
			await until('the client gives the connection up', () => a.state !== 'connected', 5000);
			await send;
			const wait = a.seen.states.find((s) => s.state === 'reconnecting');
			assert.match(wait.reason, /no pong within 600 ms/);
			/* a stopped relay takes the TCP connection but never answers the upgrade */
			await until('an attempt that got no welcome', () => a.seen.states.some((s) =>
			    s.state === 'reconnecting' && /no welcome within 800 ms/.test(s.reason)), 10000,
			    () => JSON.stringify(a.seen.states));
		} finally {
			relay.proc.kill('SIGCONT');
		}
		await until('connected again', () => a.state === 'connected', 15000);
		assert.equal((await history).op, 'history', 'a history on the wire is asked again');
		assert.equal((await a.send(ch, 'back')).op, 'ok', 'and in the channel again');
	});
});

describe('jsclient: in a browser', {
	skip: NO_BROWSER ? 'CHATRELAY_NO_BROWSER=1: the browser test is skipped' : false,
}, () => {
	let context = null;
	let profile = null;

	before(async () => {
		if (!fs.existsSync(CHROMIUM)) {
			throw new Error(`chromium is not installed (no ${CHROMIUM}): install the chromium package, ` +
			    'or set CHATRELAY_NO_BROWSER=1 to skip this test');
		}
		const { chromium } = require('playwright-core');
		profile = fs.mkdtempSync(path.join(os.tmpdir(), 'chatrelay-chromium-'));
		context = await chromium.launchPersistentContext(profile, {
			executablePath: CHROMIUM,
			headless: true,
			args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
		});
	});

	after(async () => {
		if (context) await context.close();
		if (profile) fs.rmSync(profile, { recursive: true, force: true });
	});

	test('a page imports /chatrelay.js from the relay and chats with the browser\'s WebSocket', T, async (t) => {
		const relay = await startRelay();
		const ch = uniq('web');
		const peer = client(t, `${relay.url}/ws`, { name: uniq('node') });
		await peer.join(ch);
		peer.on('msg', (m) => { if (m.text === 'from the page') peer.send(ch, 'from node'); });
		const page = await context.newPage();
		const problems = [];
		page.on('pageerror', (e) => problems.push(e.message));
		await page.goto(`http://127.0.0.1:${relay.port}/index.html`);
		const name = uniq('page');
		const got = await page.evaluate(async ({ name, ch }) => {
			const { connect, codePoints } = await import('/chatrelay.js');
			const chat = connect('/ws', { name });
			const seen = [];
			chat.on('msg', (m) => seen.push(m.text));
			const w = await chat.ready;
			await chat.join(ch);
			await chat.send(ch, 'from the page');
			const t0 = Date.now();
			while (!seen.includes('from node') && Date.now() - t0 < 5000) {
				await new Promise((r) => setTimeout(r, 50));
			}
			await chat.close();
			return { user: w.user.id, seen, url: chat.url, n: codePoints('\u{1F600}!'), state: chat.state };
		}, { name, ch }).catch((e) => ({ error: e.message }));
		assert.equal(got.error, undefined, got.error);
		await until('node sees the page', () => texts(peer.seen.msgs).includes('from the page'));
		assert.deepEqual(problems, []);
		assert.equal(got.user, `guest:${name}`);
		assert.equal(got.url, `ws://127.0.0.1:${relay.port}/ws`);
		assert.equal(got.n, 2);
		assert.deepEqual(got.seen, ['from the page', 'from node']);
		assert.equal(got.state, 'closed');
		await page.close();
	});
});
