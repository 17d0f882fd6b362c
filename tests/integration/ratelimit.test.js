'use strict';
/* ratelimit.test.js: the per-connection token bucket and rate_strikes_max. */

const { test, describe, before } = require('node:test');
const assert = require('node:assert/strict');
const { startRelay, uniq, sleep } = require('./lib');

const T = { timeout: 20000 };

describe('rate limits (rate 5, burst 5, rate_strikes_max 3)', () => {
	let relay;
	before(async () => {
		relay = await startRelay({ rate: 5, burst: 5, rate_strikes_max: 3 });
	});

	test('the 6th immediate send is rate_limited with retry_ms; after retry_ms sending works', T, async () => {
		const c = await relay.guest(uniq('rl'));
		const ch = uniq('rl');
		await c.join(ch);
		for (let i = 1; i <= 6; i++) c.send({ op: 'send', ch, text: `m${i}`, id: i });
		// replies may arrive out of request order: match them by id
		const replies = (await c.take((f) => f.op === 'ok' || f.op === 'err', 6)).sort((x, y) => x.id - y.id);
		assert.deepEqual(replies.slice(0, 5).map((r) => [r.op, r.id]), [1, 2, 3, 4, 5].map((i) => ['ok', i]),
		    JSON.stringify(replies));
		const err = replies[5];
		assert.equal(err.op, 'err');
		assert.equal(err.code, 'rate_limited', JSON.stringify(err));
		assert.equal(err.id, 6);
		assert.equal(typeof err.retry_ms, 'number');
		assert.ok(err.retry_ms > 0 && err.retry_ms <= 1000, `retry_ms ${err.retry_ms}`);
		// the refused message was not delivered
		const msgs = await c.take('msg', 5);
		assert.deepEqual(msgs.map((m) => m.text), ['m1', 'm2', 'm3', 'm4', 'm5']);
		await c.expectNone('msg', 100);
		await sleep(err.retry_ms + 50);
		const ok = await c.call({ op: 'send', ch, text: 'again' });
		assert.equal(ok.op, 'ok', JSON.stringify(ok));
		assert.equal(ok.seq, 6);
		assert.ok(c.isOpen);
		await c.close();
	});

	test('whisper is rate limited too', T, async () => {
		const tn = uniq('target');
		const target = await relay.guest(tn);
		const c = await relay.guest(uniq('wrl'));
		for (let i = 1; i <= 6; i++) c.send({ op: 'whisper', to: `guest:${tn}`, text: `w${i}`, id: i });
		const replies = (await c.take((f) => f.op === 'ok' || f.op === 'err', 6)).sort((x, y) => x.id - y.id);
		assert.deepEqual(replies.slice(0, 5).map((r) => r.op), ['ok', 'ok', 'ok', 'ok', 'ok'], JSON.stringify(replies));
		assert.equal(replies[5].code, 'rate_limited');
		assert.ok(replies[5].retry_ms > 0);
		const got = await target.take('whisper', 5);
		assert.equal(got.length, 5);
		await target.expectNone('whisper', 200);
		await c.close();
		await target.close();
	});

	test('other ops have a more generous bucket: 10 pings and a who pass', T, async () => {
		const c = await relay.guest(uniq('pings'));
		const ch = uniq('pings');
		await c.join(ch);
		for (let i = 0; i < 10; i++) c.send({ op: 'ping', id: i });
		c.send({ op: 'who', ch, id: 'who' });
		const replies = await c.take((f) => f.op !== 'presence', 11);
		assert.deepEqual(replies.map((r) => r.op), [...Array(10).fill('pong'), 'who'], JSON.stringify(replies));
		await c.close();
	});

	test('the bucket is per connection: another connection of the same user is not limited', T, async () => {
		const n = uniq('per');
		const a = await relay.guest(n);
		const b = await relay.guest(n);
		const ch = uniq('per');
		await a.join(ch);
		await b.join(ch);
		for (let i = 0; i < 6; i++) a.send({ op: 'send', ch, text: 'a' });
		const errs = await a.take('err', 1);
		assert.equal(errs[0].code, 'rate_limited');
		const ok = await b.call({ op: 'send', ch, text: 'b' });
		assert.equal(ok.op, 'ok', JSON.stringify(ok));
		await a.close();
		await b.close();
	});

	test('flooding past rate_strikes_max: bye 4029 and close 4029', T, async () => {
		const c = await relay.guest(uniq('flood'));
		const ch = uniq('flood');
		await c.join(ch);
		for (let i = 0; i < 20; i++) c.send({ op: 'send', ch, text: `f${i}`, id: i });
		const bye = await c.next('bye', 5000);
		assert.equal(bye.code, 4029, JSON.stringify(bye));
		assert.equal(typeof bye.reason, 'string');
		const closed = await c.closed;
		assert.equal(closed.code, 4029);
		const limited = c.log.filter((f) => f.op === 'err' && f.code === 'rate_limited');
		assert.ok(limited.length >= 1 && limited.length <= 4, `${limited.length} rate_limited errors before the close`);
		// The burst went through: the 5 messages are in the channel.  (Their
		// oks may or may not reach the client before the close.)
		const oks = c.log.filter((f) => f.op === 'ok');
		assert.ok(oks.length <= 5);
		const w = await relay.guest(uniq('witness'));
		const h = await w.history(ch);
		assert.deepEqual(h.msgs.map((m) => m.text), ['f0', 'f1', 'f2', 'f3', 'f4']);
		for (const ok of oks) assert.equal(h.msgs[ok.id].seq, ok.seq);
		await w.close();
	});
});
