'use strict';
/*
 * errors.test.js: refused frames.  Each gets an err with the right code,
 * echoing the frame's id, and the connection stays open (a ping still gets
 * its pong).
 */

const { test, describe, before } = require('node:test');
const assert = require('node:assert/strict');
const { startRelay, uniq } = require('./lib');

const T = { timeout: 15000 };
const TEXT_MAX = 20;

describe('errors', () => {
	let relay;
	let ch;	/* a channel every client joins, so membership is never the problem */
	before(async () => {
		relay = await startRelay({ rate: 1000, burst: 1000, text_max: TEXT_MAX, json_depth_max: 8 });
		ch = uniq('errs');
	});

	async function client() {
		const c = await relay.guest(uniq('e'));
		await c.join(ch);
		return c;
	}

	/* Sends raw text, expects err code; checks id echo (if hasId) and that the connection is still usable. */
	async function expectErr(c, payload, code, { id, field } = {}) {
		if (typeof payload === 'string') await c.sendRaw(payload);
		else c.send(payload);
		const err = await c.next('err');
		assert.equal(err.code, code, `sent ${typeof payload === 'string' ? payload.slice(0, 200) : JSON.stringify(payload).slice(0, 200)}, got ${JSON.stringify(err)}`);
		assert.equal(typeof err.msg, 'string');
		assert.ok(err.msg.length > 0, 'err.msg is not empty');
		if (id !== undefined) assert.deepEqual(err.id, id, `err echoes the id: ${JSON.stringify(err)}`);
		if (field !== undefined) {
			assert.ok(err.msg.includes(field), `err.msg names the field "${field}": ${JSON.stringify(err.msg)}`);
		}
		await c.ping();
		assert.ok(c.isOpen);
		return err;
	}

	test('invalid JSON: bad_json', T, async () => {
		const c = await client();
		for (const bad of ['{', 'not json', '{"op":"ping",}', "{'op':'ping'}", '{"op":"ping"} trailing', '']) {
			await expectErr(c, bad, 'bad_json');
		}
		await c.close();
	});

	test('JSON that is not an object: bad_json', T, async () => {
		const c = await client();
		for (const bad of ['[1,2,3]', '42', '"ping"', 'null', 'true', '[{"op":"ping"}]']) {
			await expectErr(c, bad, 'bad_json');
		}
		await c.close();
	});

	test('JSON nested deeper than json_depth_max: bad_json', T, async () => {
		const c = await client();
		const deep = '{"op":"ping","id":"d","x":' + '['.repeat(20) + ']'.repeat(20) + '}';
		await expectErr(c, deep, 'bad_json');
		const deepObj = '{"op":"send","ch":"' + ch + '","text":"t","meta":' + '{"a":'.repeat(12) + '1' + '}'.repeat(12) + '}';
		await expectErr(c, deepObj, 'bad_json');
		// a shallow frame with the same content is fine
		c.send({ op: 'ping', id: 'shallow', x: [[[]]] });
		assert.equal((await c.next('pong')).id, 'shallow');
		await c.close();
	});

	test('missing op or unknown op: bad_op with the id', T, async () => {
		const c = await client();
		await expectErr(c, { id: 'o1', ch }, 'bad_op', { id: 'o1' });
		await expectErr(c, { op: 'frobnicate', id: 'o2' }, 'bad_op', { id: 'o2' });
		await expectErr(c, { op: 'PING', id: 'o3' }, 'bad_op', { id: 'o3' });
		// an admin op on /ws: unknown here, or refused as forbidden
		const r = await c.call({ op: 'stats', id: 'o4' });
		assert.equal(r.op, 'err');
		assert.ok(['bad_op', 'forbidden'].includes(r.code), JSON.stringify(r));
		await c.ping();
		await c.close();
	});

	test('unknown fields are ignored', T, async () => {
		const c = await client();
		const ok = await c.call({ op: 'send', ch, text: 'extra fields', colour: 'blue', nested: { x: 1 } });
		assert.equal(ok.op, 'ok', JSON.stringify(ok));
		await c.close();
	});

	test('missing or invalid ch: bad_field naming ch', T, async () => {
		const c = await client();
		await expectErr(c, { op: 'join', id: 'c0' }, 'bad_field', { id: 'c0', field: 'ch' });
		const bad = ['has space', 'x'.repeat(65), 'a/b', '', 'ünicode', 'semi;colon', 42, null, ['x']];
		for (let i = 0; i < bad.length; i++) {
			await expectErr(c, { op: 'join', ch: bad[i], id: `c${i + 1}` }, 'bad_field', { id: `c${i + 1}`, field: 'ch' });
		}
		for (const op of ['leave', 'send', 'history', 'who']) {
			await expectErr(c, { op, ch: 'bad name', text: 'x', id: `op-${op}` }, 'bad_field', { id: `op-${op}`, field: 'ch' });
		}
		// 64 bytes is fine
		const j = await c.join('y'.repeat(64));
		assert.equal(j.ch, 'y'.repeat(64));
		await c.close();
	});

	test('text missing, empty or not a string: bad_field naming text', T, async () => {
		const c = await client();
		await expectErr(c, { op: 'send', ch, id: 't1' }, 'bad_field', { id: 't1', field: 'text' });
		await expectErr(c, { op: 'send', ch, text: '', id: 't2' }, 'bad_field', { id: 't2', field: 'text' });
		await expectErr(c, { op: 'send', ch, text: 123, id: 't3' }, 'bad_field', { id: 't3', field: 'text' });
		await expectErr(c, { op: 'send', ch, text: { a: 1 }, id: 't4' }, 'bad_field', { id: 't4', field: 'text' });
		await expectErr(c, { op: 'send', ch, text: null, id: 't5' }, 'bad_field', { id: 't5', field: 'text' });
		await c.expectNone('msg', 200);
		await c.close();
	});

	test('text_max counts characters, not bytes', T, async () => {
		const c = await client();
		// at the limit in characters, though well over it in bytes: accepted
		for (const t of ['é'.repeat(TEXT_MAX), '日'.repeat(TEXT_MAX), '😀'.repeat(TEXT_MAX), 'a'.repeat(TEXT_MAX)]) {
			assert.ok(Buffer.byteLength(t) >= TEXT_MAX);
			const ok = await c.call({ op: 'send', ch, text: t });
			assert.equal(ok.op, 'ok', `${[...t].length} characters, ${Buffer.byteLength(t)} bytes: ${JSON.stringify(ok)}`);
			const m = await c.next('msg');
			assert.equal(m.text, t);
		}
		// one character over: too_long
		for (const t of ['é'.repeat(TEXT_MAX + 1), '😀'.repeat(TEXT_MAX + 1), 'a'.repeat(TEXT_MAX + 1)]) {
			await expectErr(c, { op: 'send', ch, text: t, id: 'long' }, 'too_long', { id: 'long' });
		}
		await c.expectNone('msg', 200);
		await c.close();
	});

	test('meta not an object: bad_field; meta over 512 bytes: too_long', T, async () => {
		const c = await client();
		for (const [i, meta] of ['x', [1, 2], 5, true].entries()) {
			await expectErr(c, { op: 'send', ch, text: 'm', meta, id: `m${i}` }, 'bad_field', { id: `m${i}`, field: 'meta' });
		}
		await expectErr(c, { op: 'send', ch, text: 'm', meta: { pad: 'x'.repeat(600) }, id: 'big' }, 'too_long', { id: 'big' });
		// just under the limit is fine
		const meta = { pad: 'x'.repeat(480) };
		assert.ok(JSON.stringify(meta).length <= 512);
		const ok = await c.call({ op: 'send', ch, text: 'm', meta });
		assert.equal(ok.op, 'ok', JSON.stringify(ok));
		assert.deepEqual((await c.next('msg')).meta, meta);
		await c.close();
	});

	test('id longer than 64 bytes: bad_field; 64 bytes and numbers are fine', T, async () => {
		const c = await client();
		await expectErr(c, { op: 'ping', id: 'i'.repeat(65) }, 'bad_field', { field: 'id' });
		const id64 = 'i'.repeat(64);
		c.send({ op: 'ping', id: id64 });
		assert.equal((await c.next('pong')).id, id64);
		c.send({ op: 'ping', id: 12345 });
		assert.equal((await c.next('pong')).id, 12345);
		await c.close();
	});

	test('ids of every kind are echoed exactly; ids that are not a number or string: bad_field', T, async () => {
		const c = await client();
		for (const id of [0, 1.5, -3, 9007199254740991, 'a"b\\c\u00e9\u{1F600}', '', ' spaced ', '{"json":1}']) {
			c.send({ op: 'ping', id });
			const p = await c.next((f) => f.op === 'pong' || f.op === 'err');
			assert.deepEqual(p, { op: 'pong', id }, `id ${JSON.stringify(id)}`);
		}
		for (const id of [{}, true, null, [1]]) {
			await expectErr(c, { op: 'ping', id }, 'bad_field', { field: 'id' });
		}
		await c.close();
	});

	test('history limit 0 or 101: bad_field; join history 101: bad_field', T, async () => {
		const c = await client();
		await c.say(ch, 'remember me');
		await expectErr(c, { op: 'history', ch, limit: 0, id: 'h0' }, 'bad_field', { id: 'h0', field: 'limit' });
		await expectErr(c, { op: 'history', ch, limit: 101, id: 'h1' }, 'bad_field', { id: 'h1', field: 'limit' });
		await expectErr(c, { op: 'history', ch, limit: 'ten', id: 'h2' }, 'bad_field', { id: 'h2', field: 'limit' });
		await expectErr(c, { op: 'join', ch: uniq('jh'), history: 101, id: 'h3' }, 'bad_field', { id: 'h3', field: 'history' });
		await expectErr(c, { op: 'join', ch: uniq('jh'), history: -1, id: 'h4' }, 'bad_field', { id: 'h4', field: 'history' });
		const h = await c.history(ch, { limit: 100 });
		assert.equal(h.op, 'history');
		const h1 = await c.history(ch, { limit: 1 });
		assert.equal(h1.msgs.length, 1);
		await c.close();
	});

	test('whisper to a user who is not online: bad_field naming to', T, async () => {
		const c = await client();
		await expectErr(c, { op: 'whisper', to: 'guest:nobody-here', text: 'psst', id: 'w1' }, 'bad_field', { id: 'w1', field: 'to' });
		await expectErr(c, { op: 'whisper', text: 'psst', id: 'w2' }, 'bad_field', { id: 'w2', field: 'to' });
		await expectErr(c, { op: 'whisper', to: 'guest:nobody-here', id: 'w3' }, 'bad_field', { id: 'w3' });
		await c.close();
	});

	test('many errors in a row do not close the connection', T, async () => {
		const c = await client();
		for (let i = 0; i < 30; i++) c.send({ op: 'nope', id: i });
		const errs = await c.take('err', 30);
		assert.deepEqual(errs.map((e) => e.id), Array.from({ length: 30 }, (_, i) => i));
		assert.ok(errs.every((e) => e.code === 'bad_op'));
		await c.ping();
		await c.close();
	});
});

describe('messages near the frame limit', () => {
	let relay;
	before(async () => {
		relay = await startRelay({ rate: 1000, burst: 1000, text_max: 5000 });
	});

	test('a send that fits frame_max is accepted or refused too_long, and no relayed frame exceeds limits.frame', T, async () => {
		const name = `f${'n'.repeat(57)}`;
		const a = await relay.guest(name);
		const b = await relay.guest(uniq('obs'));
		const limit = a.welcome.limits.frame;
		const ch = 'c'.repeat(64);
		await a.join(ch);
		await b.join(ch);
		const sizes = [];
		b.onFrame((f, t) => sizes.push([f.op, Buffer.byteLength(t)]));
		a.onFrame((f, t) => sizes.push([f.op, Buffer.byteLength(t)]));
		let accepted = 0;
		for (const n of [500, 1000, 2000, 3000, 3500, 3800, 3950]) {
			const req = { op: 'send', ch, text: 'a'.repeat(n), id: n };
			assert.ok(Buffer.byteLength(JSON.stringify(req)) <= limit);
			const r = await a.call(req);
			assert.ok(r.op === 'ok' || (r.op === 'err' && r.code === 'too_long'), `${n} characters: ${JSON.stringify(r)}`);
			if (r.op === 'ok') accepted += 1;
		}
		assert.ok(accepted >= 3, `only ${accepted} sends accepted`);
		await b.take('msg', accepted);
		// the same with control characters, which grow when escaped
		const r = await a.call({ op: 'send', ch, text: '\u0001'.repeat(600) });
		assert.ok(r.op === 'ok' || (r.op === 'err' && r.code === 'too_long'), JSON.stringify(r));
		await a.ping();
		await b.ping();
		for (const [op, size] of sizes) {
			if (op !== 'history') assert.ok(size <= limit, `a ${op} frame of ${size} bytes (limit ${limit})`);
		}
		await a.close();
		await b.close();
	});
});
