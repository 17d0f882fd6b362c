'use strict';
/*
 * moderation-ops.test.js: every moderators' op on one relay without Redis
 * (two workers, token mode): mute, unmute, ban, unban, slowmode, delete,
 * watch, unwatch, stats, channels, user; the mod events and the audit
 * file; players' reports; the state_file across a restart; open mode's
 * console token.  src/moderation.c, src/control.c, src/enforce.c,
 * src/gather.c, src/modstate.c, src/bus-local.c (state file).
 */

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startRelay, mintToken, uniq, sleep, waitFor } = require('./lib');

/* Polls pred until it holds (waitFor with a plain predicate). */
function until(what, pred, timeoutMs = 10000) {
	return waitFor(what, () => {
		let done = false;
		try { done = !!pred(); } catch { done = false; }
		return { done, seen: done };
	}, timeoutMs);
}

const T = { timeout: 30000 };
const SECRET = 'moderation-ops-secret';

/* A player on /ws with a token for sub. */
function player(relay, sub) {
	return relay.withToken(mintToken(SECRET, { sub, name: sub }));
}

/* A moderator on /admin that watches pattern (if given). */
async function watcher(relay, pattern) {
	const m = await relay.moderator(SECRET);
	if (pattern !== undefined) assert.equal((await m.call({ op: 'watch', ch: pattern })).op, 'ok');
	return m;
}

/* Sends an op and asserts ok. */
async function ok(c, f) {
	const r = await c.call(f);
	assert.equal(r.op, 'ok', `${JSON.stringify(f)} -> ${JSON.stringify(r)}`);
	return r;
}

describe('moderators\' ops, one relay', () => {
	let relay, dir;
	before(async () => {
		dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatrelay-modops-'));
		relay = await startRelay({ workers: 2, secret: SECRET, rate: 100, burst: 200,
		    state_file: path.join(dir, 'state'), audit_file: path.join(dir, 'audit.log') });
	});
	after(() => fs.rmSync(dir, { recursive: true, force: true }));

	test('mute in one channel: send there fails with muted and until, other channels and whispers work; unmute lifts it', T, async () => {
		const bob = uniq('bob'), ch = uniq('mch'), other = uniq('och');
		const p = await player(relay, bob);
		await p.join(ch);
		await p.join(other);
		const mod = await relay.moderator(SECRET);
		const before = Date.now();
		await ok(mod, { op: 'mute', user: bob, ch, secs: 600, reason: 'spam' });
		const notice = await p.next('notice');
		assert.equal(notice.level, 'warn');
		assert.match(notice.text, /muted in .* for 10 minutes: spam/);
		const r = await p.call({ op: 'send', ch, text: 'hi' });
		assert.equal(r.code, 'muted', JSON.stringify(r));
		assert.ok(r.until >= before + 600000 && r.until <= Date.now() + 600000, JSON.stringify(r));
		await p.say(other, 'elsewhere is fine');
		const friend = await player(relay, uniq('friend'));
		assert.equal((await p.call({ op: 'whisper', to: friend.welcome.user.id, text: 'psst' })).op, 'ok');
		await ok(mod, { op: 'unmute', user: bob, ch });
		await p.say(ch, 'back');
		for (const c of [p, mod, friend]) await c.close();
	});

	test('mute everywhere, timed: send and whisper refused, then lifted by expiry', T, async () => {
		const bob = uniq('bob'), ch = uniq('mch');
		const p = await player(relay, bob);
		await p.join(ch);
		const friend = await player(relay, uniq('friend'));
		const mod = await relay.moderator(SECRET);
		await ok(mod, { op: 'mute', user: bob, secs: 2 });
		assert.equal((await p.call({ op: 'send', ch, text: 'x' })).code, 'muted');
		const w = await p.call({ op: 'whisper', to: friend.welcome.user.id, text: 'x' });
		assert.equal(w.code, 'muted');
		assert.ok(w.until > Date.now(), JSON.stringify(w));
		await sleep(2300);
		await p.say(ch, 'the mute ran out');
		assert.equal((await p.call({ op: 'whisper', to: friend.welcome.user.id, text: 'y' })).op, 'ok');
		for (const c of [p, mod, friend]) await c.close();
	});

	test('mute until lifted: until 0; unmute without ch lifts every mute', T, async () => {
		const bob = uniq('bob'), ch = uniq('mch');
		const p = await player(relay, bob);
		await p.join(ch);
		const mod = await relay.moderator(SECRET);
		await ok(mod, { op: 'mute', user: bob });
		await ok(mod, { op: 'mute', user: bob, ch, secs: 60 });
		const r = await p.call({ op: 'send', ch, text: 'x' });
		assert.equal(r.code, 'muted');
		assert.equal(r.until, 0, 'the longer of the two: until lifted');
		await ok(mod, { op: 'unmute', user: bob });
		await p.say(ch, 'free');
		for (const c of [p, mod]) await c.close();
	});

	test('ban: connected sessions get bye and 4003; auth refused with banned and 4003; unban lifts it', T, async () => {
		const bob = uniq('bob');
		const p1 = await player(relay, bob);
		const p2 = await player(relay, bob);
		const mod = await relay.moderator(SECRET);
		await ok(mod, { op: 'ban', user: bob, reason: 'cheating' });
		for (const p of [p1, p2]) {
			const bye = await p.next('bye');
			assert.equal(bye.code, 4003);
			assert.equal(bye.reason, 'cheating');
			assert.equal((await p.closed).code, 4003);
		}
		const again = await relay.ws();
		const r = await again.call({ op: 'auth', token: mintToken(SECRET, { sub: bob }) });
		assert.equal(r.code, 'banned', JSON.stringify(r));
		assert.equal(r.until, 0);
		assert.equal((await again.closed).code, 4003);
		await ok(mod, { op: 'unban', user: bob });
		const back = await player(relay, bob);
		await back.ping();
		for (const c of [back, mod]) await c.close();
	});

	test('ban, timed: lifted by expiry', T, async () => {
		const bob = uniq('bob');
		const mod = await relay.moderator(SECRET);
		await ok(mod, { op: 'ban', user: bob, secs: 2 });
		const c = await relay.ws();
		const r = await c.call({ op: 'auth', token: mintToken(SECRET, { sub: bob }) });
		assert.equal(r.code, 'banned');
		assert.ok(r.until > Date.now());
		await sleep(2300);
		const back = await player(relay, bob);
		await back.ping();
		for (const x of [back, mod]) await x.close();
	});

	test('slowmode: a player\'s second send within secs gets slow_mode with retry_ms; moderators are exempt; 0 turns it off', T, async () => {
		const ch = uniq('slow');
		const p = await player(relay, uniq('p'));
		await p.join(ch);
		const mod = await relay.moderator(SECRET);
		await mod.join(ch);
		await ok(mod, { op: 'slowmode', ch, secs: 30 });
		const n = await p.next((f) => f.op === 'notice' && f.ch === ch);
		assert.match(n.text, /one message every 30 seconds/);
		await p.say(ch, 'first');
		const r = await p.call({ op: 'send', ch, text: 'second' });
		assert.equal(r.code, 'slow_mode', JSON.stringify(r));
		assert.ok(r.retry_ms > 28000 && r.retry_ms <= 30000, JSON.stringify(r));
		await mod.say(ch, 'a moderator may');
		await mod.say(ch, 'and again');
		await ok(mod, { op: 'slowmode', ch, secs: 0 });
		await p.say(ch, 'slow mode is off');
		for (const c of [p, mod]) await c.close();
	});

	test('delete: members and watchers get delete; the message leaves history', T, async () => {
		const ch = uniq('del');
		const a = await player(relay, uniq('a'));
		await a.join(ch);
		const w = await watcher(relay, ch);
		await a.say(ch, 'keep me');
		const bad = await a.say(ch, 'delete me');
		await a.say(ch, 'keep me too');
		await ok(w, { op: 'delete', ch, seq: bad.seq });
		assert.deepEqual(await a.next('delete'), { op: 'delete', ch, seq: bad.seq });
		assert.deepEqual(await w.next('delete'), { op: 'delete', ch, seq: bad.seq });
		const mod = await w.next((f) => f.op === 'mod' && f.action === 'delete');
		assert.equal(mod.seq, bad.seq);
		const h = await a.history(ch);
		assert.deepEqual(h.msgs.map((m) => m.text), ['keep me', 'keep me too']);
		for (const c of [a, w]) await c.close();
	});

	test('watch a pattern: every msg of matching channels without joining, on both workers; unwatch stops them', T, async () => {
		const pre = uniq('party') + ':';
		const w = await watcher(relay, pre + '*');
		const senders = [];
		for (let i = 0; i < 4; i++) {
			const s = await player(relay, uniq('s'));
			await s.join(pre + i);
			senders.push(s);
		}
		const other = uniq('unwatched');
		await senders[0].join(other);
		for (let i = 0; i < 4; i++) await senders[i].say(pre + i, `m${i}`);
		await senders[0].say(other, 'not for the watcher');
		const got = await w.take('msg', 4);
		assert.deepEqual(got.map((m) => m.text).sort(), ['m0', 'm1', 'm2', 'm3']);
		assert.ok(got.every((m) => m.ch.startsWith(pre) && m.seq === 1 && m.from.id));
		await w.expectNone((f) => f.op === 'msg' && f.ch === other, 300);
		await ok(w, { op: 'unwatch', ch: pre + '*' });
		await senders[1].say(pre + 1, 'after unwatch');
		await w.expectNone('msg', 300);
		const r = await w.call({ op: 'unwatch', ch: pre + '*' });
		assert.equal(r.code, 'bad_field');
		for (const c of [w, ...senders]) await c.close();
	});

	test('mod events reach every watching moderator (not others) with action, by, user, ch, reason, until, ts, node; the audit file has one JSON line each', T, async () => {
		const w1 = await watcher(relay, '*');
		const w2 = await watcher(relay, 'lobby');
		const quiet = await relay.moderator(SECRET);
		const mod = await relay.moderator(SECRET);
		const bob = uniq('bob');
		const t0 = Date.now();
		await ok(mod, { op: 'mute', user: bob, ch: 'lobby', secs: 60, reason: 'caps' });
		for (const w of [w1, w2]) {
			const e = await w.next('mod');
			assert.equal(e.action, 'mute');
			assert.deepEqual(e.by, { id: mod.welcome.user.id, name: mod.welcome.user.name });
			assert.equal(e.user, bob);
			assert.equal(e.ch, 'lobby');
			assert.equal(e.reason, 'caps');
			assert.ok(e.until >= t0 + 60000 && e.until <= Date.now() + 60000);
			assert.ok(e.ts >= t0 && e.ts <= Date.now());
			assert.equal(e.node, relay.node || mod.welcome.node);
		}
		await ok(mod, { op: 'kick', user: bob });
		assert.equal((await w1.next('mod')).action, 'kick');
		await quiet.expectNone('mod', 200);
		await until('the audit lines', () => {
			const lines = fs.readFileSync(path.join(dir, 'audit.log'), 'utf8').trim().split('\n');
			return lines.some((l) => JSON.parse(l).action === 'kick' && JSON.parse(l).user === bob);
		});
		const lines = fs.readFileSync(path.join(dir, 'audit.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
		const mine = lines.filter((l) => l.user === bob);
		assert.deepEqual(mine.map((l) => l.action), ['mute', 'kick']);
		assert.equal(mine[0].reason, 'caps');
		assert.match(relay.stderr(), new RegExp(`audit: ${mod.welcome.user.id}.* mute ${bob} in lobby: caps`));
		for (const c of [w1, w2, quiet, mod]) await c.close();
	});

	test('audit_file is reopened on SIGHUP (log rotation) and the relay keeps serving', T, async () => {
		const file = path.join(dir, 'audit.log');
		const mod = await relay.moderator(SECRET);
		const p = await player(relay, uniq('stays'));
		fs.renameSync(file, file + '.1');
		process.kill(relay.pid, 'SIGHUP');
		await until('the reopen', () => /reopening the audit file/.test(relay.stderr()));
		await sleep(100);
		const bob = uniq('rot');
		await ok(mod, { op: 'kick', user: bob });
		await until('a line in the new file', () => fs.existsSync(file) &&
		    fs.readFileSync(file, 'utf8').includes(bob));
		assert.ok(!fs.readFileSync(file + '.1', 'utf8').includes(bob));
		await p.ping();
		assert.ok(relay.alive);
		for (const c of [p, mod]) await c.close();
	});

	test('stats, channels and user answer for the instance; missing is empty', T, async () => {
		const ch = uniq('busy'), bob = uniq('bob');
		const ps = [];
		for (let i = 0; i < 3; i++) {
			const p = await player(relay, i === 0 ? bob : uniq('p'));
			await p.join(ch);
			ps.push(p);
		}
		await ps[0].say(ch, 'one');
		const quiet = uniq('quiet');
		await ps[1].join(quiet);
		const mod = await relay.moderator(SECRET);
		const s = await mod.call({ op: 'stats' });
		assert.equal(s.op, 'stats', JSON.stringify(s));
		assert.equal(s.nodes.length, 1);
		assert.equal(s.nodes[0].node, mod.welcome.node);
		assert.equal(s.nodes[0].bus, 'local');
		assert.equal(s.nodes[0].workers, 2);
		assert.ok(s.nodes[0].connections >= 4, JSON.stringify(s));
		assert.equal(s.total.connections, s.nodes[0].connections);
		assert.deepEqual(s.missing, []);
		const c = await mod.call({ op: 'channels', limit: 100 });
		assert.equal(c.op, 'channels', JSON.stringify(c));
		const mineC = c.channels.filter((x) => x.ch === ch || x.ch === quiet);
		assert.deepEqual(mineC, [{ ch, members: 3, seq: 1 }, { ch: quiet, members: 1, seq: 0 }]);
		const members = c.channels.map((x) => x.members);
		assert.deepEqual(members, [...members].sort((a, b) => b - a), 'busiest first');
		const only = await mod.call({ op: 'channels', prefix: quiet, limit: 5 });
		assert.deepEqual(only.channels, [{ ch: quiet, members: 1, seq: 0 }]);
		const one = await mod.call({ op: 'channels', limit: 1 });
		assert.equal(one.channels.length, 1);
		await ok(mod, { op: 'mute', user: bob, secs: 60, reason: 'r' });
		const u = await mod.call({ op: 'user', user: bob });
		assert.equal(u.op, 'user', JSON.stringify(u));
		assert.equal(u.online, true);
		assert.equal(u.sessions.length, 1);
		assert.equal(u.sessions[0].session, ps[0].welcome.session);
		assert.deepEqual(u.sessions[0].channels, [ch]);
		assert.equal(u.sessions[0].node, mod.welcome.node);
		assert.equal(u.ban, null);
		assert.equal(u.mutes.length, 1);
		assert.equal(u.mutes[0].ch, null);
		assert.equal(u.mutes[0].reason, 'r');
		const nobody = await mod.call({ op: 'user', user: uniq('nobody') });
		assert.equal(nobody.online, false);
		assert.deepEqual(nobody.sessions, []);
		for (const x of [...ps, mod]) await x.close();
	});

	test('report: a watching moderator gets the reported message\'s text from history; the player gets ok; reports are rate-limited', T, async () => {
		const ch = uniq('rep');
		const bad = await player(relay, uniq('bad'));
		const ann = await player(relay, uniq('ann'));
		await bad.join(ch);
		await ann.join(ch);
		const w = await watcher(relay, 'nothing-in-particular');
		const m = await bad.say(ch, 'you are all noobs');
		assert.equal((await ann.call({ op: 'report', user: bad.welcome.user.id, ch, seq: m.seq, reason: 'insults' })).op, 'ok');
		const r = await w.next('report');
		assert.equal(r.user, bad.welcome.user.id);
		assert.equal(r.ch, ch);
		assert.equal(r.seq, m.seq);
		assert.equal(r.reason, 'insults');
		assert.equal(r.text, 'you are all noobs');
		assert.equal(r.by.id, ann.welcome.user.id);
		// A seq that is not kept: still reported, without text.
		assert.equal((await ann.call({ op: 'report', user: bad.welcome.user.id, ch, seq: 999 })).op, 'ok');
		assert.equal((await w.next('report')).text, null);
		const third = await ann.call({ op: 'report', user: bad.welcome.user.id, ch, seq: m.seq });
		assert.equal(third.op, 'ok');
		const limited = await ann.call({ op: 'report', user: bad.welcome.user.id, ch, seq: m.seq });
		assert.equal(limited.code, 'rate_limited');
		assert.ok(limited.retry_ms > 0);
		for (const c of [bad, ann, w]) await c.close();
	});

	test('a player sending any moderator op gets forbidden', T, async () => {
		const p = await player(relay, uniq('p'));
		for (const op of ['stats', 'channels', 'user', 'kick', 'mute', 'unmute', 'ban', 'unban', 'announce',
		    'slowmode', 'delete', 'watch', 'unwatch']) {
			const r = await p.call({ op, user: 'x', ch: 'lobby', text: 't', seq: 1, secs: 1 });
			assert.equal(r.code, 'forbidden', `${op}: ${JSON.stringify(r)}`);
		}
		await p.close();
	});

	test('field validation of the ops', T, async () => {
		const mod = await relay.moderator(SECRET);
		const cases = [
			[{ op: 'mute' }, 'bad_field'],
			[{ op: 'mute', user: 'x', secs: -1 }, 'bad_field'],
			[{ op: 'mute', user: 'x', secs: 1.5 }, 'bad_field'],
			[{ op: 'mute', user: 'x', ch: 'bad ch' }, 'bad_field'],
			[{ op: 'mute', user: 'x', reason: 'r'.repeat(201) }, 'too_long'],
			[{ op: 'ban', user: 'x', secs: 315360001 }, 'bad_field'],
			[{ op: 'unban' }, 'bad_field'],
			[{ op: 'slowmode', ch: 'lobby' }, 'bad_field'],
			[{ op: 'slowmode', ch: 'lobby', secs: 86401 }, 'bad_field'],
			[{ op: 'delete', ch: 'lobby' }, 'bad_field'],
			[{ op: 'delete', ch: 'lobby', seq: 0 }, 'bad_field'],
			[{ op: 'watch' }, 'bad_field'],
			[{ op: 'watch', ch: 'a*b' }, 'bad_field'],
			[{ op: 'watch', ch: '**' }, 'bad_field'],
			[{ op: 'channels', limit: 0 }, 'bad_field'],
			[{ op: 'channels', prefix: 'no spaces' }, 'bad_field'],
			[{ op: 'user', user: 'two words' }, 'bad_field'],
		];
		for (const [f, code] of cases) {
			const r = await mod.call(f);
			assert.equal(r.code, code, `${JSON.stringify(f)} -> ${JSON.stringify(r)}`);
		}
		for (let i = 0; i < 32; i++) await ok(mod, { op: 'watch', ch: `w${i}` });
		assert.equal((await mod.call({ op: 'watch', ch: 'one-too-many' })).code, 'bad_field');
		await mod.close();
	});
});

describe('state_file: bans, mutes and slow modes survive a restart without Redis', () => {
	test('a restart lifts nothing; an ended mute stays ended', T, async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatrelay-state-'));
		const state = path.join(dir, 'state');
		const conf = { workers: 2, secret: SECRET, state_file: state };
		try {
			let relay = await startRelay(conf);
			const mod = await relay.moderator(SECRET);
			const banned = uniq('banned'), muted = uniq('muted'), short = uniq('short'), ch = uniq('slow');
			await ok(mod, { op: 'ban', user: banned, reason: 'x' });
			await ok(mod, { op: 'mute', user: muted, secs: 600 });
			await ok(mod, { op: 'mute', user: short, secs: 1 });
			await ok(mod, { op: 'slowmode', ch, secs: 60 });
			await until('the state file', () => fs.existsSync(state) &&
			    fs.readFileSync(state, 'utf8').split('\n').filter(Boolean).length === 4);
			await mod.close();
			await relay.stop();
			await sleep(1100);
			relay = await startRelay(conf);
			const c = await relay.ws();
			assert.equal((await c.call({ op: 'auth', token: mintToken(SECRET, { sub: banned }) })).code, 'banned');
			const m = await player(relay, muted);
			await m.join(ch);
			assert.equal((await m.call({ op: 'send', ch, text: 'x' })).code, 'muted');
			const s = await player(relay, short);
			await s.join(ch);
			await s.say(ch, 'my mute ended');
			assert.equal((await s.call({ op: 'send', ch, text: 'again' })).code, 'slow_mode');
			for (const x of [m, s]) await x.close();
			await relay.stop();
		} finally {
			fs.rmSync(dir, { recursive: true, force: true });
		}
	});
});

describe('open mode: the console URL', () => {
	test('the relay logs a console URL whose token works on /admin; a guest still gets forbidden; with a secret nothing is logged', T, async () => {
		const relay = await startRelay({ workers: 1 });
		await until('the console URL', () => /admin\.html#token=/.test(relay.stderr()));
		const m = /(http:\/\/127\.0\.0\.1:\d+)\/admin\.html#token=([A-Za-z0-9_.-]+)/.exec(relay.stderr());
		assert.ok(m, relay.stderr());
		assert.equal(m[1], `http://127.0.0.1:${relay.port}`);
		const mod = await relay.ws({ path: '/admin' });
		const w = await mod.call({ op: 'auth', token: m[2] });
		assert.equal(w.op, 'welcome', JSON.stringify(w));
		assert.equal(w.user.role, 'moderator');
		const s = await mod.call({ op: 'stats' });
		assert.equal(s.op, 'stats');
		const g = await relay.guest(uniq('g'));
		assert.equal((await g.call({ op: 'stats' })).code, 'forbidden');
		// The console token is not a player token: /ws in open mode takes names.
		const onWs = await relay.ws();
		assert.equal((await onWs.call({ op: 'auth', token: m[2] })).code, 'auth_failed');
		for (const c of [mod, g]) await c.close();
		await relay.stop();
		const withSecret = await startRelay({ workers: 1, secret: SECRET });
		await sleep(300);
		assert.doesNotMatch(withSecret.stderr(), /admin\.html#token=/);
		await withSecret.stop();
	});
});

describe('the word filter', () => {
	test('refuse: send and whisper with a filtered word get err filtered and go nowhere; clean texts pass', T, async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatrelay-filter-'));
		const file = path.join(dir, 'words');
		fs.writeFileSync(file, '# test list\nbadword\n*darn*\nheck*\n');
		try {
			const relay = await startRelay({ workers: 2, secret: SECRET, filter_file: file });
			const ch = uniq('f');
			const a = await player(relay, uniq('a'));
			const b = await player(relay, uniq('b'));
			await a.join(ch);
			await b.join(ch);
			for (const text of ['a BadWord here', 'xxdarnxx', 'heckling']) {
				const r = await a.call({ op: 'send', ch, text });
				assert.equal(r.code, 'filtered', `${text}: ${JSON.stringify(r)}`);
			}
			const w = await a.call({ op: 'whisper', to: b.welcome.user.id, text: 'badword' });
			assert.equal(w.code, 'filtered');
			await a.say(ch, 'badwords are fine as a longer word, and so is check');
			const m = await b.next('msg');
			assert.equal(m.text, 'badwords are fine as a longer word, and so is check');
			await b.expectNone('msg', 200);
			await b.expectNone('whisper', 1);
			await relay.stop();
		} finally {
			fs.rmSync(dir, { recursive: true, force: true });
		}
	});

	test('mask: matched characters become *, counted in characters; SIGHUP reloads the list without dropping a connection', T, async () => {
		const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatrelay-filter-'));
		const file = path.join(dir, 'words');
		fs.writeFileSync(file, 'darn\n');
		try {
			const relay = await startRelay({ workers: 2, secret: SECRET, filter_file: file, filter_policy: 'mask' });
			const ch = uniq('f');
			const a = await player(relay, uniq('a'));
			const b = await player(relay, uniq('b'));
			await a.join(ch);
			await b.join(ch);
			await a.say(ch, 'oh darn it, café');
			assert.equal((await b.next('msg')).text, 'oh **** it, café');
			assert.equal((await a.next('msg')).text, 'oh **** it, café');
			await a.say(ch, 'oh heck');
			assert.equal((await b.next('msg')).text, 'oh heck');
			fs.writeFileSync(file, 'darn\nheck\n');
			process.kill(relay.pid, 'SIGHUP');
			await until('the reload', () => /word filter: 2 entries/.test(relay.stderr()));
			await sleep(400);	/* the workers take it at their next tick */
			await a.say(ch, 'oh heck');
			assert.equal((await b.next((f) => f.op === 'msg' && f.text !== 'oh heck')).text, 'oh ****');
			// A list that does not load keeps the old one.
			fs.writeFileSync(file, 'x'.repeat(200) + '\n');
			process.kill(relay.pid, 'SIGHUP');
			await until('the refusal', () => /filter_file: .*:1: .*stays in force/.test(relay.stderr()));
			await sleep(400);
			await a.say(ch, 'heck again');
			assert.equal((await b.next((f) => f.op === 'msg' && f.text.endsWith('again'))).text, '**** again');
			await a.ping();
			await b.ping();
			assert.ok(relay.alive);
			await relay.stop();
		} finally {
			fs.rmSync(dir, { recursive: true, force: true });
		}
	});

	test('a filter_file that does not load stops the relay at start', T, async () => {
		await assert.rejects(startRelay({ workers: 1, filter_file: '/nonexistent/words' }),
		    /word filter could not be loaded|filter_file/);
	});
});
