'use strict';
/* recovery.test.js: reconnect and join with since: S gets exactly what was missed. */

const { test, describe, before } = require('node:test');
const assert = require('node:assert/strict');
const { startRelay, uniq } = require('./lib');

const T = { timeout: 20000 };
const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('recovery', () => {
	let relay;
	before(async () => {
		relay = await startRelay({ rate: 1000, burst: 1000, workers: 2 });
	});

	test('reconnect with since: S gives S+1..current, recovered:true, then live messages continue', T, async () => {
		const ch = uniq('rec');
		const a = await relay.guest(uniq('writer'));
		const bn = uniq('reader');
		let b = await relay.guest(bn);
		await a.join(ch);
		await b.join(ch);
		for (let i = 1; i <= 3; i++) await a.say(ch, `before ${i}`);
		const seen = await b.take('msg', 3);
		assert.deepEqual(seen.map((m) => m.seq), [1, 2, 3]);
		const S = seen.at(-1).seq;
		await b.close();

		for (let i = 4; i <= 9; i++) await a.say(ch, `missed ${i}`);

		b = await relay.guest(bn);
		const j = await b.join(ch, { since: S });
		assert.equal(j.recovered, true, JSON.stringify(j));
		assert.equal(j.seq, 9);
		assert.deepEqual(j.msgs.map((m) => m.seq), range(4, 9));
		assert.deepEqual(j.msgs.map((m) => m.text), range(4, 9).map((i) => `missed ${i}`));
		for (const m of j.msgs) assert.equal(m.ch ?? ch, ch);

		const ok = await a.say(ch, 'live');
		assert.equal(ok.seq, 10);
		const live = await b.next('msg');
		assert.equal(live.seq, 10);
		assert.equal(live.text, 'live');
		await b.expectNone('msg', 300);
		await a.close();
		await b.close();
	});

	test('recovery on several channels at once keeps each channel\'s seq', T, async () => {
		const chs = [uniq('rx'), uniq('ry')];
		const a = await relay.guest(uniq('w'));
		const bn = uniq('r');
		let b = await relay.guest(bn);
		for (const ch of chs) {
			await a.join(ch);
			await b.join(ch);
		}
		await a.say(chs[0], 'x1');
		await a.say(chs[1], 'y1');
		await a.say(chs[1], 'y2');
		await b.take('msg', 3);
		await b.close();
		await a.say(chs[0], 'x2');
		await a.say(chs[1], 'y3');
		await a.say(chs[0], 'x3');
		b = await relay.guest(bn);
		const jx = await b.join(chs[0], { since: 1 });
		const jy = await b.join(chs[1], { since: 2 });
		assert.deepEqual(jx.msgs.map((m) => m.text), ['x2', 'x3']);
		assert.deepEqual(jy.msgs.map((m) => m.text), ['y3']);
		assert.equal(jx.recovered, true);
		assert.equal(jy.recovered, true);
		await a.close();
		await b.close();
	});

	test('a channel everybody left keeps its history and its seq', T, async () => {
		const ch = uniq('empty');
		const a = await relay.guest(uniq('first'));
		await a.join(ch);
		for (let i = 1; i <= 3; i++) await a.say(ch, `e${i}`);
		await a.close();
		const b = await relay.guest(uniq('later'));
		const h = await b.history(ch);
		assert.equal(h.op, 'history', JSON.stringify(h));
		assert.deepEqual(h.msgs.map((m) => m.text), ['e1', 'e2', 'e3']);
		const j = await b.join(ch, { since: 1 });
		assert.equal(j.seq, 3);
		assert.equal(j.members, 1);
		assert.equal(j.recovered, true);
		assert.deepEqual(j.msgs.map((m) => m.seq), [2, 3]);
		assert.equal((await b.say(ch, 'e4')).seq, 4);
		await b.close();
	});

	test('since ahead of the channel (a stale seq from elsewhere) gives nothing, not an error', T, async () => {
		const ch = uniq('ahead');
		const a = await relay.guest(uniq('ah'));
		await a.join(ch);
		await a.say(ch, 'one');
		const b = await relay.guest(uniq('ah2'));
		const j = await b.call({ op: 'join', ch, since: 50 });
		assert.equal(j.op, 'joined', JSON.stringify(j));
		assert.ok(!j.msgs || j.msgs.length === 0, JSON.stringify(j));
		await a.close();
		await b.close();
	});
});
