'use strict';
/* auth.test.js: open mode, token mode, auth_timeout, chs, connection limits. */

const { test, describe, before } = require('node:test');
const assert = require('node:assert/strict');
const { startRelay, mintToken, nowSecs, uniq } = require('./lib');

const SECRET = 's3cret';
const T = { timeout: 20000 };

/* err auth_failed (echoing id, if given), then bye 4001, then close 4001: in that order. */
async function expectAuthFailure(c, id, code = 'auth_failed') {
	const err = await c.next('err');
	assert.equal(err.code, code, `err frame: ${JSON.stringify(err)}`);
	if (id !== undefined) assert.equal(err.id, id);
	assert.equal(typeof err.msg, 'string');
	const bye = await c.next('bye');
	assert.equal(bye.code, 4001, `bye frame: ${JSON.stringify(bye)}`);
	assert.equal(typeof bye.reason, 'string');
	assert.ok(c.log.indexOf(err) < c.log.indexOf(bye), 'err precedes bye');
	const closed = await c.closed;
	assert.equal(closed.code, 4001);
}

describe('open mode', () => {
	let relay;
	before(async () => {
		relay = await startRelay({ auth_timeout: '1s' });
	});

	test('auth with a name gives the guest identity and the limits', T, async () => {
		const c = await relay.ws();
		const w = await c.auth('alice');
		assert.equal(w.op, 'welcome');
		assert.deepEqual(w.user, { id: 'guest:alice', name: 'alice', role: 'player' });
		assert.ok(w.session !== undefined && w.session !== null && w.session !== '', 'welcome.session');
		assert.equal(typeof w.node, 'string');
		assert.ok(w.node.length > 0, 'welcome.node');
		for (const k of ['frame', 'text', 'rate', 'burst', 'channels']) {
			assert.equal(typeof w.limits[k], 'number', `limits.${k} is a number: ${JSON.stringify(w.limits)}`);
			assert.ok(w.limits[k] > 0, `limits.${k} > 0`);
		}
		await c.close();
	});

	test('the welcome echoes the auth frame id (string and number)', T, async () => {
		const a = await relay.ws();
		a.send({ op: 'auth', name: uniq('ida'), id: 'a1' });
		const w1 = await a.next('welcome');
		assert.equal(w1.id, 'a1');
		const b = await relay.ws();
		b.send({ op: 'auth', name: uniq('idb'), id: 42 });
		const w2 = await b.next('welcome');
		assert.equal(w2.id, 42);
		await a.close();
		await b.close();
	});

	test('two connections get distinct sessions and the same node', T, async () => {
		const n = uniq('sess');
		const a = await relay.guest(n);
		const b = await relay.guest(n);
		assert.notEqual(String(a.welcome.session), String(b.welcome.session));
		assert.equal(a.welcome.node, b.welcome.node);
		assert.deepEqual(a.welcome.user, b.welcome.user);
		await a.close();
		await b.close();
	});

	test('join before auth: err auth_required, and the connection stays open', T, async () => {
		const c = await relay.ws();
		c.send({ op: 'join', ch: 'global', id: 'j1' });
		const err = await c.next('err');
		assert.equal(err.code, 'auth_required');
		assert.equal(err.id, 'j1');
		c.send({ op: 'send', ch: 'global', text: 'hi', id: 's1' });
		const err2 = await c.next('err');
		assert.equal(err2.code, 'auth_required');
		assert.equal(err2.id, 's1');
		const pong = await c.call({ op: 'ping', id: 'p1' });
		assert.deepEqual({ op: pong.op, id: pong.id }, { op: 'pong', id: 'p1' });
		assert.ok(c.isOpen);
		// and it can still authenticate
		await c.auth(uniq('late'));
		await c.close();
	});

	test('no auth within auth_timeout: bye 4001 and close 4001', T, async () => {
		const c = await relay.ws();
		const bye = await c.next('bye', 5000);
		assert.equal(bye.code, 4001);
		assert.equal(typeof bye.reason, 'string');
		const closed = await c.closed;
		assert.equal(closed.code, 4001);
	});

	test('auth_timeout does not apply once authenticated', T, async () => {
		const c = await relay.guest(uniq('patient'));
		await c.expectNone('bye', 1800);
		await c.ping();
		await c.close();
	});

	test('auth twice: err bad_op, connection stays open', T, async () => {
		const n = uniq('twice');
		const c = await relay.guest(n);
		const r = await c.call({ op: 'auth', name: uniq('other'), id: 'again' });
		assert.equal(r.op, 'err');
		assert.equal(r.code, 'bad_op');
		assert.equal(r.id, 'again');
		await c.ping();
		// still the first identity: a message says who sent it
		await c.join('twice.ch');
		c.send({ op: 'send', ch: 'twice.ch', text: 'who am i' });
		const m = await c.next('msg');
		assert.equal(m.from.id, `guest:${n}`);
		await c.close();
	});

	for (const [label, name] of [
		['a space', 'bad name'],
		['60 characters', 'x'.repeat(60)],
		['an empty string', ''],
		['a control character', 'a\u0001b'],
	]) {
		test(`guest name with ${label}: err bad_field, connection stays open`, T, async () => {
			const c = await relay.ws();
			const r = await c.call({ op: 'auth', name, id: 'bn' });
			assert.equal(r.op, 'err', JSON.stringify(r));
			assert.equal(r.code, 'bad_field', JSON.stringify(r));
			assert.equal(r.id, 'bn');
			await c.ping();
			assert.ok(c.isOpen);
			await c.auth(uniq('good'));
			await c.close();
		});
	}

	test('auth without name in open mode: err bad_field', T, async () => {
		const c = await relay.ws();
		const r = await c.call({ op: 'auth', id: 'nn' });
		assert.equal(r.op, 'err');
		assert.equal(r.code, 'bad_field');
		await c.ping();
		await c.close();
	});

	test('a 58-character guest name (id of 64 bytes) is accepted', T, async () => {
		const c = await relay.ws();
		const name = 'n' + String(Date.now()).slice(-6) + 'x'.repeat(51);
		assert.equal(name.length, 58);
		const w = await c.auth(name);
		assert.equal(w.user.id, `guest:${name}`);
		await c.close();
	});
});

describe('token mode', () => {
	let relay;
	before(async () => {
		relay = await startRelay({ secret: SECRET, auth_timeout: '2s', user_connections_max: 2 });
	});

	test('?token= on the URL gives a welcome without an auth frame', T, async () => {
		const sub = uniq('tok');
		const tok = mintToken(SECRET, { sub, name: 'Token User', exp: nowSecs() + 600 });
		const c = await relay.ws({ path: `/ws?token=${tok}` });
		const w = await c.next('welcome');
		assert.deepEqual(w.user, { id: sub, name: 'Token User', role: 'player' });
		assert.equal(typeof w.node, 'string');
		await c.ping();
		await c.close();
	});

	test('auth frame with a token', T, async () => {
		const sub = uniq('tokf');
		const c = await relay.ws();
		const w = await c.call({ op: 'auth', token: mintToken(SECRET, { sub, role: 'moderator' }), id: 7 });
		assert.equal(w.op, 'welcome', JSON.stringify(w));
		assert.equal(w.id, 7);
		assert.deepEqual(w.user, { id: sub, name: sub, role: 'moderator' }, 'name defaults to sub');
		await c.close();
	});

	const bad = {
		'a bad signature': () => mintToken(SECRET, { sub: uniq('bs') }, { tamper: true }),
		'a payload changed after signing': () => mintToken(SECRET, { sub: 'mallory' },
		    { payload: JSON.stringify({ sub: 'admin', role: 'admin' }) }),
		'alg none (no signature)': () => mintToken(SECRET, { sub: uniq('none') }, { alg: 'none' }),
		'alg none (with an HS256 signature)': () => mintToken(SECRET, { sub: uniq('none2') },
		    { alg: 'none', signAs: 'sha256' }),
		'alg HS512': () => mintToken(SECRET, { sub: uniq('hs512') }, { alg: 'HS512' }),
		'alg hs256 (lower case)': () => mintToken(SECRET, { sub: uniq('lc') }, { alg: 'hs256', signAs: 'sha256' }),
		'an unknown role': () => mintToken(SECRET, { sub: uniq('role'), role: 'superuser' }),
		'an expired exp': () => mintToken(SECRET, { sub: uniq('exp'), exp: nowSecs() - 60 }),
		'the wrong secret': () => mintToken('not-the-secret', { sub: uniq('ws') }),
		'no sub': () => mintToken(SECRET, { name: 'nobody' }),
		'an empty sub': () => mintToken(SECRET, { sub: '' }),
		'a sub of 65 bytes': () => mintToken(SECRET, { sub: 's'.repeat(65) }),
		'a sub with a space': () => mintToken(SECRET, { sub: 'two words' }),
		'garbage': () => 'this.is.not-a-jwt',
	};
	for (const [label, make] of Object.entries(bad)) {
		test(`auth frame with ${label}: err auth_failed, bye 4001, close 4001`, T, async () => {
			const c = await relay.ws();
			c.send({ op: 'auth', token: make(), id: 'bad' });
			await expectAuthFailure(c, 'bad');
		});
	}

	test('?token= with a bad signature: err auth_failed, bye 4001, close 4001', T, async () => {
		const tok = mintToken(SECRET, { sub: uniq('urlbad') }, { tamper: true });
		const c = await relay.ws({ path: `/ws?token=${tok}` });
		await expectAuthFailure(c);
	});

	test('?token= that has expired: err auth_failed, bye 4001, close 4001', T, async () => {
		const tok = mintToken(SECRET, { sub: uniq('urlexp'), exp: nowSecs() - 10 });
		const c = await relay.ws({ path: `/ws?token=${tok}` });
		await expectAuthFailure(c);
	});

	test('token claims are relayed exactly: unicode and quotes in the name', T, async () => {
		const sub = uniq('uni');
		const name = 'Zoë "the" <b>🎮</b>';
		const c = await relay.withToken(mintToken(SECRET, { sub, name, role: 'admin' }));
		assert.deepEqual(c.welcome.user, { id: sub, name, role: 'admin' });
		const ch = uniq('uni');
		await c.join(ch);
		await c.say(ch, 'hi');
		assert.deepEqual((await c.next('msg')).from, { id: sub, name });
		await c.close();
	});

	test('auth with only a name in token mode: err auth_failed, bye 4001, close 4001', T, async () => {
		const c = await relay.ws();
		c.send({ op: 'auth', name: 'alice', id: 'nm' });
		await expectAuthFailure(c, 'nm');
	});

	test('chs claim: allowed channels join, others are forbidden', T, async () => {
		const sub = uniq('chs');
		const tok = mintToken(SECRET, { sub, chs: ['global', 'party:*'] });
		const c = await relay.withToken(tok);
		const j1 = await c.join('global');
		assert.equal(j1.ch, 'global');
		const j2 = await c.join('party:ab12');
		assert.equal(j2.ch, 'party:ab12');
		for (const ch of ['guild:42', 'globalx', 'party']) {
			const r = await c.call({ op: 'join', ch, id: `f-${ch}` });
			assert.equal(r.op, 'err', `join ${ch}: ${JSON.stringify(r)}`);
			assert.equal(r.code, 'forbidden', `join ${ch}: ${JSON.stringify(r)}`);
			assert.equal(r.id, `f-${ch}`);
		}
		await c.ping();
		await c.close();
	});

	test('user_connections_max: the extra connection gets err forbidden, bye 4001, close 4001', T, async () => {
		const sub = uniq('many');
		const tok = mintToken(SECRET, { sub });
		const a = await relay.withToken(tok);
		const b = await relay.withToken(tok);
		const c = await relay.ws();
		c.send({ op: 'auth', token: tok, id: 'third' });
		await expectAuthFailure(c, 'third', 'forbidden');
		// the first two are unaffected
		await a.ping();
		await b.ping();
		// and once one leaves, a new connection is allowed again
		await a.close();
		let d;
		for (let i = 0; i < 20; i++) {	// the relay may take a moment to forget the closed one
			d = await relay.ws();
			const r = await d.call({ op: 'auth', token: tok });
			if (r.op === 'welcome') break;
			await d.closed;
			d = null;
			await new Promise((res) => setTimeout(res, 100));
		}
		assert.ok(d, 'a connection is accepted after one of the two closed');
		await d.close();
		await b.close();
	});

	test('user_connections_max with ?token=: the extra connection gets err forbidden, bye 4001, close 4001', T, async () => {
		const tok = mintToken(SECRET, { sub: uniq('manyurl') });
		const a = await relay.withToken(tok);
		const b = await relay.withToken(tok);
		const c = await relay.ws({ path: `/ws?token=${tok}` });
		await expectAuthFailure(c, undefined, 'forbidden');
		await a.ping();
		await b.ping();
		await a.close();
		await b.close();
	});

	test('a token with a sub of 64 bytes is accepted', T, async () => {
		const sub = `${uniq('s64')}_`.padEnd(64, 'x');
		const c = await relay.withToken(mintToken(SECRET, { sub }));
		assert.equal(c.welcome.user.id, sub);
		await c.close();
	});
});
