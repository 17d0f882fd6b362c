'use strict';
/* whisper.test.js: direct messages reach every connection of the target, on every worker. */

const { test, describe, before } = require('node:test');
const assert = require('node:assert/strict');
const { startRelay, uniq } = require('./lib');

const T = { timeout: 20000 };

describe('whisper (workers 2)', () => {
	let relay;
	before(async () => {
		relay = await startRelay({ workers: 2, user_connections_max: 10, rate: 1000, burst: 1000 });
	});

	test('whisper: ok to the sender, whisper frame on both of the target\'s connections', T, async () => {
		const an = uniq('alice');
		const bn = uniq('bob');
		const a = await relay.guest(an);
		const b1 = await relay.guest(bn);
		const b2 = await relay.guest(bn);
		const t0 = Date.now();
		const ok = await a.call({ op: 'whisper', to: `guest:${bn}`, text: 'psst, bob', id: 'w1' });
		assert.equal(ok.op, 'ok', JSON.stringify(ok));
		assert.equal(ok.id, 'w1');
		for (const b of [b1, b2]) {
			const w = await b.next('whisper');
			assert.deepEqual(w.from, { id: `guest:${an}`, name: an });
			assert.equal(w.to, `guest:${bn}`);
			assert.equal(w.text, 'psst, bob');
			assert.equal(typeof w.ts, 'number');
			assert.ok(w.ts >= t0 - 5000 && w.ts <= Date.now() + 5000, `ts ${w.ts}`);
			await b.expectNone('whisper', 100);
		}
		await a.expectNone('whisper', 100);
		for (const c of [a, b1, b2]) await c.close();
	});

	test('whispers need no shared channel and keep their order', T, async () => {
		const a = await relay.guest(uniq('ord'));
		const bn = uniq('ordt');
		const b = await relay.guest(bn);
		for (let i = 0; i < 20; i++) a.send({ op: 'whisper', to: `guest:${bn}`, text: `w${i}`, id: i });
		const oks = await a.take('ok', 20);
		assert.deepEqual(oks.map((o) => o.id), Array.from({ length: 20 }, (_, i) => i));
		const got = await b.take('whisper', 20);
		assert.deepEqual(got.map((w) => w.text), Array.from({ length: 20 }, (_, i) => `w${i}`));
		await a.close();
		await b.close();
	});

	test('8 connections of the target (spread over the workers) all receive the whisper', T, async () => {
		const tn = uniq('many');
		const targets = [];
		for (let i = 0; i < 8; i++) targets.push(await relay.guest(tn));
		const sessions = new Set(targets.map((t) => String(t.welcome.session)));
		assert.equal(sessions.size, 8);
		const senders = [];
		for (let i = 0; i < 3; i++) senders.push(await relay.guest(uniq('snd')));
		for (const [i, s] of senders.entries()) {
			const ok = await s.call({ op: 'whisper', to: `guest:${tn}`, text: `hello ${i}` });
			assert.equal(ok.op, 'ok', JSON.stringify(ok));
		}
		for (const t of targets) {
			const got = await t.take('whisper', 3, 5000);
			assert.deepEqual(got.map((w) => w.text).sort(), ['hello 0', 'hello 1', 'hello 2']);
		}
		for (const c of [...targets, ...senders]) await c.close();
	});

	test('whisper to a user whose connections have all closed: bad_field', T, async () => {
		const a = await relay.guest(uniq('late'));
		const gn = uniq('gone');
		const g = await relay.guest(gn);
		await g.close();
		let r;
		for (let i = 0; i < 20; i++) {	// the relay may take a moment to notice the close
			r = await a.call({ op: 'whisper', to: `guest:${gn}`, text: 'still there?' });
			if (r.op === 'err') break;
			await new Promise((res) => setTimeout(res, 100));
		}
		assert.equal(r.op, 'err', JSON.stringify(r));
		assert.equal(r.code, 'bad_field');
		await a.close();
	});
});
