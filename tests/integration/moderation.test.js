'use strict';
/*
 * moderation.test.js: the moderators' kick and announce on /admin, on one
 * relay with two workers (src/moderation.c; the control channel of
 * src/control.c reaches every worker; src/enforce.c carries the kick
 * and the announce out on each worker).
 */

const { test, describe, before } = require('node:test');
const assert = require('node:assert/strict');
const { startRelay, mintToken, httpGet, uniq } = require('./lib');

const T = { timeout: 20000 };
const SECRET = 'moderation-secret';

/* A player on /ws with a token for sub. */
async function player(relay, sub, extra = {}) {
	return relay.withToken(mintToken(SECRET, { sub, ...extra }));
}

/* A moderator (or admin) on /admin. */
async function moderator(relay, role = 'moderator') {
	const sub = uniq(role);
	const c = await relay.ws({ path: `/admin?token=${mintToken(SECRET, { sub, role })}` });
	c.welcome = await c.next('welcome');
	return c;
}

/* Sends a kick and returns the answer. */
function kick(mod, user, reason) {
	const f = { op: 'kick', user, id: uniq('k') };
	if (reason !== undefined) f.reason = reason;
	return mod.call(f);
}

describe('moderation (workers 2)', () => {
	let relay;
	before(async () => {
		relay = await startRelay({ workers: 2, secret: SECRET, user_connections_max: 10 });
	});

	test('kick: every connection of the user gets bye 4008 with the reason, then close 4008; others stay', T, async () => {
		const target = uniq('kicked');
		const conns = [];
		for (let i = 0; i < 4; i++) conns.push(await player(relay, target));
		assert.equal(new Set(conns.map((c) => String(c.welcome.session))).size, 4);
		const bystander = await player(relay, uniq('bystander'));
		const mod = await moderator(relay);
		const ok = await kick(mod, target, 'spamming the lobby');
		assert.equal(ok.op, 'ok', JSON.stringify(ok));
		for (const c of conns) {
			const bye = await c.next('bye');
			assert.deepEqual({ code: bye.code, reason: bye.reason }, { code: 4008, reason: 'spamming the lobby' });
			const info = await c.closed;
			assert.equal(info.code, 4008);
			assert.equal(info.reason, 'spamming the lobby');
		}
		await bystander.ping();
		await mod.ping();
		// A kick is not a ban: the user may come back.
		const again = await player(relay, target);
		await again.ping();
		for (const c of [again, bystander, mod]) await c.close();
	});

	test('kick without a reason: the default one; kicking nobody is still ok', T, async () => {
		const target = uniq('noreason');
		const c = await player(relay, target);
		const mod = await moderator(relay, 'admin');
		assert.equal((await kick(mod, target)).op, 'ok');
		const bye = await c.next('bye');
		assert.equal(bye.code, 4008);
		assert.equal(bye.reason, 'kicked by a moderator');
		assert.equal((await c.closed).code, 4008);
		assert.equal((await kick(mod, uniq('absent'))).op, 'ok');
		await mod.close();
	});

	test('a long reason: bye has it whole; the close frame has a valid UTF-8 cut of it', T, async () => {
		const target = uniq('longr');
		const c = await player(relay, target);
		const mod = await moderator(relay);
		const reason = 'é'.repeat(200);	// 400 bytes: more than a close frame holds
		assert.equal((await kick(mod, target, reason)).op, 'ok');
		assert.equal((await c.next('bye')).reason, reason);
		const info = await c.closed;
		assert.equal(info.code, 4008, 'a broken UTF-8 reason would make the client fail the close');
		assert.ok(info.reason.length > 0 && reason.startsWith(info.reason), info.reason);
		assert.ok(Buffer.byteLength(info.reason) <= 123);
		await mod.close();
	});

	test('kicked connections are counted in /metrics', T, async () => {
		const before = await kickedCount(relay.port);
		const target = uniq('metr');
		const c = await player(relay, target);
		const mod = await moderator(relay);
		assert.equal((await kick(mod, target)).op, 'ok');
		await c.closed;
		let after = before;
		for (let i = 0; i < 30 && after === before; i++) {
			await new Promise((r) => setTimeout(r, 50));
			after = await kickedCount(relay.port);
		}
		assert.equal(after, before + 1);
		await mod.close();
	});

	test('announce without ch: a notice on every authenticated connection, on both workers', T, async () => {
		const players = [];
		for (let i = 0; i < 6; i++) players.push(await player(relay, uniq('all')));
		const mod = await moderator(relay);
		const ok = await mod.call({ op: 'announce', text: 'Server restarts in 5 minutes', id: 'a1' });
		assert.deepEqual(ok, { op: 'ok', id: 'a1' });
		for (const c of [...players, mod]) {
			const n = await c.next('notice');
			assert.deepEqual(n, { op: 'notice', text: 'Server restarts in 5 minutes', level: 'info' });
		}
		for (const c of [...players, mod]) await c.close();
	});

	test('announce to a channel: its members only, with ch', T, async () => {
		const ch = uniq('guild');
		const members = [await player(relay, uniq('m')), await player(relay, uniq('m'))];
		for (const m of members) await m.join(ch);
		const outsider = await player(relay, uniq('out'));
		const mod = await moderator(relay);
		assert.equal((await mod.call({ op: 'announce', ch, text: 'Guild war at 8' })).op, 'ok');
		for (const m of members)
			assert.deepEqual(await m.next('notice'), { op: 'notice', text: 'Guild war at 8', ch, level: 'info' });
		await outsider.expectNone('notice', 300);
		await mod.expectNone('notice', 50);
		for (const c of [...members, outsider, mod]) await c.close();
	});

	test('refusals: a player cannot kick (forbidden), bad fields', T, async () => {
		const p = await player(relay, uniq('p'), { role: 'player' });
		let r = await p.call({ op: 'kick', user: 'x' });
		assert.equal(r.code, 'forbidden', JSON.stringify(r));
		const onWs = await player(relay, uniq('modws'), { role: 'moderator' });
		r = await onWs.call({ op: 'announce', text: 'hi' });
		assert.equal(r.code, 'forbidden', 'moderator ops only on /admin: ' + JSON.stringify(r));
		await onWs.expectNone('notice', 200);
		const mod = await moderator(relay);
		const cases = [
			[{ op: 'kick' }, 'bad_field'],
			[{ op: 'kick', user: 'two words' }, 'bad_field'],
			[{ op: 'kick', user: 'x', reason: 7 }, 'bad_field'],
			[{ op: 'kick', user: 'x', reason: 'r'.repeat(201) }, 'too_long'],
			[{ op: 'announce' }, 'bad_field'],
			[{ op: 'announce', text: '' }, 'bad_field'],
			[{ op: 'announce', text: 'hi', ch: 'no spaces' }, 'bad_field'],
			[{ op: 'announce', text: 'x'.repeat(501) }, 'too_long'],
			[{ op: 'mute', user: 'x', secs: 'long' }, 'bad_field'],
		];
		for (const [f, code] of cases) {
			r = await mod.call(f);
			assert.equal(r.op, 'err', JSON.stringify(f));
			assert.equal(r.code, code, `${JSON.stringify(f)} -> ${JSON.stringify(r)}`);
		}
		await p.expectNone('notice', 100);
		await p.ping();
		for (const c of [p, onWs, mod]) await c.close();
	});
});

/* The relay's count of connections closed by a kick. */
async function kickedCount(port) {
	const r = await httpGet(port, '/metrics');
	const m = /chatrelay_disconnections_total\{reason="kicked"\} (\d+)/.exec(r.body);
	assert.ok(m, 'no kicked counter in /metrics');
	return Number(m[1]);
}

describe('moderation: rate limits', () => {
	let relay;
	before(async () => {
		relay = await startRelay({ secret: SECRET, rate: 1, burst: 2 });
	});

	test('announce takes from the message bucket: the third at once is rate_limited and not delivered', T, async () => {
		const p = await player(relay, uniq('listener'));
		const mod = await moderator(relay);
		assert.equal((await mod.call({ op: 'announce', text: 'one' })).op, 'ok');
		assert.equal((await mod.call({ op: 'announce', text: 'two' })).op, 'ok');
		const r = await mod.call({ op: 'announce', text: 'three' });
		assert.equal(r.code, 'rate_limited', JSON.stringify(r));
		assert.ok(r.retry_ms > 0);
		assert.deepEqual((await p.take('notice', 2)).map((n) => n.text), ['one', 'two']);
		await p.expectNone('notice', 300);
		for (const c of [p, mod]) await c.close();
	});
});
