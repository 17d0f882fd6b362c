'use strict';
/*
 * slow.test.js: a member that stops reading is dropped once its queue
 * passes client_queue_max, the others miss nothing, and the relay's memory
 * stays bounded.
 */

const { test, describe, before } = require('node:test');
const assert = require('node:assert/strict');
const { startRelay, uniq, sleep, withTimeout } = require('./lib');

const READERS = 3;
const BATCH = 40;			/* 48 KB a batch, under client_queue_max */
const MAX_MSGS = 60000;			/* give up (fail) after this many */
const TEXT = '日'.repeat(400);		/* 400 characters, 1200 bytes */

/* Resolves when cond() holds, polling; rejects after timeoutMs with what(). */
async function until(cond, timeoutMs, what) {
	const deadline = Date.now() + timeoutMs;
	while (!cond()) {
		if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what()}`);
		await sleep(10);
	}
}

describe('slow consumers (client_queue_max 64k)', () => {
	let relay;
	before(async () => {
		relay = await startRelay({ client_queue_max: '64k', rate: 100000, burst: 100000, workers: 2 });
	});

	test('a member that stops reading is dropped; the others get everything in order', { timeout: 120000 }, async () => {
		const ch = uniq('flood');
		const noMsgs = (f) => f.op !== 'msg' && f.op !== 'ok';
		const readers = [];
		for (let i = 0; i < READERS; i++) {
			const r = await relay.guest(uniq('reader'), { keep: noMsgs });
			r.count = 0;
			r.badOrder = null;
			r.onFrame((f) => {
				if (f.op !== 'msg') return;
				r.count += 1;
				if (f.seq !== r.count && !r.badOrder) r.badOrder = `message #${r.count} has seq ${f.seq}`;
			});
			await r.join(ch);
			readers.push(r);
		}
		const sender = readers[0];
		let oks = 0;
		const errs = [];
		sender.onFrame((f) => {
			if (f.op === 'ok') oks += 1;
			else if (f.op === 'err') errs.push(f);
		});
		const slowName = uniq('slow');
		const slow = await relay.guest(slowName, { keep: noMsgs });
		await slow.join(ch);
		slow.ws._socket.pause();

		const rssBefore = relay.rssKb();
		// Batches smaller than client_queue_max, each read by the readers
		// before the next, so only the slow member's queue grows.
		const started = Date.now();
		let sent = 0;
		let dropped = false;
		while (sent < MAX_MSGS && Date.now() - started < 60000) {
			for (let i = 0; i < BATCH; i++) {
				sent += 1;
				sender.send({ op: 'send', ch, text: TEXT });
			}
			await until(() => (oks + errs.length >= sent && readers.every((r) => r.count >= sent)) ||
			    readers.some((r) => !r.isOpen), 30000,
			    () => `${oks} oks for ${sent} sends; readers got ${readers.map((r) => r.count).join(', ')}`);
			assert.deepEqual(errs, [], 'no send was refused');
			for (const [i, r] of readers.entries()) {
				assert.ok(r.isOpen, `reader ${i} is still connected (closed: ${JSON.stringify(r.closeInfo)}; ` +
				    `bye: ${JSON.stringify(r.log.find((f) => f.op === 'bye'))})`);
			}
			const who = await readers[1].call({ op: 'who', ch }, 10000);
			assert.equal(who.op, 'who', JSON.stringify(who));
			if (who.count === READERS) {
				dropped = true;
				break;
			}
		}
		assert.ok(dropped, `the slow member was still in the channel after ${sent} messages of ${Buffer.byteLength(TEXT)} bytes`);

		for (const [i, r] of readers.entries()) {
			await until(() => r.count >= sent || r.badOrder || !r.isOpen, 60000,
			    () => `reader ${i} got ${r.count} of ${sent} messages`);
			assert.equal(r.badOrder, null, `reader ${i}: ${r.badOrder}`);
			assert.ok(r.isOpen, `reader ${i} is still connected (closed: ${JSON.stringify(r.closeInfo)})`);
			assert.equal(r.count, sent, `reader ${i} got every message`);
		}
		const rssAfter = relay.rssKb();
		// Under ASan freed memory sits in its quarantine, so RSS says nothing.
		if (!process.env.CHATRELAY_SANITIZED) {
			assert.ok(rssAfter - rssBefore < 50 * 1024,
			    `relay RSS grew by ${Math.round((rssAfter - rssBefore) / 1024)} MB (${rssBefore} kB -> ${rssAfter} kB)`);
		}

		// The slow client, reading again, finds its connection over.
		slow.ws._socket.resume();
		const closed = await withTimeout(slow.closed, 30000, null);
		assert.ok(closed, 'the dropped client\'s connection ends once it reads again');
		if (closed.code !== 1006) {
			assert.equal(closed.code, 4029, `close code (reason "${closed.reason}")`);
			const bye = slow.log.find((f) => f.op === 'bye');
			if (bye) assert.equal(bye.code, 4029, JSON.stringify(bye));
		}
		// the readers saw the slow member leave
		const leave = readers[1].peek({ op: 'presence', event: 'leave' });
		assert.deepEqual(leave.map((p) => p.user.id), [`guest:${slowName}`]);
		for (const r of readers) await r.close();
	});
});
