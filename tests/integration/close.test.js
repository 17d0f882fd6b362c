'use strict';
/*
 * close.test.js: frames the relay refuses by closing (binary, invalid UTF-8,
 * oversized frames and messages) and idle connections.  Every
 * server-initiated close is preceded by a bye frame with the same code.
 */

const { test, describe, before } = require('node:test');
const assert = require('node:assert/strict');
const { startRelay, uniq, rawConnect, sleep } = require('./lib');

const T = { timeout: 20000 };
const FRAME_MAX = 4096;
const MESSAGE_MAX = 8192;

async function expectByeClose(c, code) {
	const closed = await c.closed;
	const bye = c.log.find((f) => f.op === 'bye');
	assert.ok(bye, `a bye frame precedes the close (close ${closed.code} "${closed.reason}"; frames: ${JSON.stringify(c.log).slice(0, 500)})`);
	assert.equal(bye.code, code, `bye: ${JSON.stringify(bye)}`);
	assert.equal(typeof bye.reason, 'string');
	assert.equal(closed.code, code, `close code (reason "${closed.reason}")`);
	return bye;
}

describe('closing frames', () => {
	let relay;
	before(async () => {
		relay = await startRelay({
			frame_max: FRAME_MAX, message_max: MESSAGE_MAX, idle_timeout: '2s', auth_timeout: '30s',
		});
	});

	test('binary frame: bye 1003, close 1003', T, async () => {
		const c = await relay.guest(uniq('bin'));
		await c.sendRaw(Buffer.from(JSON.stringify({ op: 'ping' })), { binary: true });
		await expectByeClose(c, 1003);
	});

	test('binary frame before auth: bye 1003, close 1003', T, async () => {
		const c = await relay.ws();
		await c.sendRaw(Buffer.from([1, 2, 3]), { binary: true });
		await expectByeClose(c, 1003);
	});

	test('invalid UTF-8 in a text frame: bye 1007, close 1007', T, async () => {
		const c = await relay.guest(uniq('utf'));
		const bad = Buffer.concat([Buffer.from('{"op":"ping","id":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]);
		await c.sendRaw(bad, { binary: false });
		await expectByeClose(c, 1007);
	});

	test('overlong UTF-8 encoding and surrogates: close 1007', T, async () => {
		for (const bytes of [[0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80]]) {
			const c = await relay.guest(uniq('utf'));
			const bad = Buffer.concat([Buffer.from('{"op":"ping","id":"'), Buffer.from(bytes), Buffer.from('"}')]);
			await c.sendRaw(bad, { binary: false });
			await expectByeClose(c, 1007);
		}
	});

	test(`a ${FRAME_MAX}-byte frame is accepted`, T, async () => {
		const c = await relay.guest(uniq('fit'));
		const head = '{"op":"ping","id":"fit","pad":"';
		const frame = head + 'p'.repeat(FRAME_MAX - head.length - 2) + '"}';
		assert.equal(Buffer.byteLength(frame), FRAME_MAX);
		await c.sendRaw(frame);
		const p = await c.next('pong');
		assert.equal(p.id, 'fit');
		await c.close();
	});

	test(`a 5000-byte frame (frame_max ${FRAME_MAX}): bye 1009, close 1009`, T, async () => {
		const c = await relay.guest(uniq('big'));
		const head = '{"op":"ping","id":"big","pad":"';
		await c.sendRaw(head + 'p'.repeat(5000 - head.length - 2) + '"}');
		await expectByeClose(c, 1009);
	});

	test('a fragmented message within message_max is reassembled', T, async () => {
		const c = await relay.guest(uniq('frag'));
		const msg = '{"op":"ping","id":"frag","pad":"' + 'f'.repeat(6000) + '"}';
		assert.ok(Buffer.byteLength(msg) <= MESSAGE_MAX);
		const parts = [msg.slice(0, 3000), msg.slice(3000, 5000), msg.slice(5000)];
		await c.sendRaw(parts[0], { fin: false });
		await c.sendRaw(parts[1], { fin: false });
		await c.sendRaw(parts[2], { fin: true });
		const p = await c.next('pong');
		assert.equal(p.id, 'frag');
		await c.close();
	});

	test(`fragments adding up to more than message_max (${MESSAGE_MAX}): bye 1009, close 1009`, T, async () => {
		const c = await relay.guest(uniq('frag'));
		const part = 'a'.repeat(3000);
		await c.sendRaw('{"op":"ping","pad":"' + part, { fin: false });
		await c.sendRaw(part, { fin: false });
		await c.sendRaw(part, { fin: false });
		await c.sendRaw(part + '"}', { fin: true });
		await expectByeClose(c, 1009);
	});
});

describe('idle connections', () => {
	let relay;
	before(async () => {
		relay = await startRelay({ idle_timeout: '2s', auth_timeout: '30s' });
	});

	test('a client that neither sends nor answers pings is closed: bye 1000 "idle timeout"', T, async () => {
		const c = await relay.guest(uniq('idle'), { autoPong: false });
		const bye = await c.next('bye', 12000);
		assert.equal(bye.code, 1000, JSON.stringify(bye));
		assert.match(bye.reason, /idle/i);
		const closed = await c.closed;
		assert.equal(closed.code, 1000);
	});

	test('a client that answers pings stays connected past idle_timeout', T, async () => {
		const c = await relay.guest(uniq('alive'));
		await c.join(uniq('alive'));
		await c.expectNone('bye', 6500);
		assert.ok(c.isOpen, 'still open');
		assert.ok(c.pings > 0, 'the relay pinged the quiet client');
		await c.ping();
		await c.close();
	});

	test('a client dripping one byte per 300 ms of an unfinished frame is closed', { timeout: 30000 }, async () => {
		const r = await rawConnect(relay.port, '/ws');
		r.send(0x1, JSON.stringify({ op: 'auth', name: uniq('drip'), id: 'a' }));
		const w = await r.nextFrame(3000);
		assert.equal(JSON.parse(w.payload.toString()).op, 'welcome');
		// the header of a 125-byte masked text frame, then its payload a byte at a time
		const full = Buffer.alloc(6 + 125);
		full[0] = 0x81;
		full[1] = 0x80 | 125;
		let closedAt = null;
		r.ended.then((t) => { closedAt = t; });
		const start = Date.now();
		r.sock.write(full.subarray(0, 6));
		let sent = 6;
		while (closedAt === null && Date.now() - start < 20000 && sent < full.length) {
			await sleep(300);
			if (closedAt !== null) break;
			r.sock.write(full.subarray(sent, sent + 1));
			sent += 1;
		}
		assert.ok(closedAt !== null, `the relay did not close the dripping connection within ${Date.now() - start} ms (${sent - 6} payload bytes sent)`);
		assert.ok(sent < full.length, 'closed before the frame was complete');
		r.sock.destroy();
	});
});
