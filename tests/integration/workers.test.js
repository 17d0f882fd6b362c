'use strict';
/*
 * workers.test.js: with two workers, 40 members of one channel and 4
 * concurrent senders, every member sees every message once, in seq order,
 * and all members see the same sequence.
 */

const { test, describe, before } = require('node:test');
const assert = require('node:assert/strict');
const { startRelay, uniq } = require('./lib');

const CLIENTS = 40;
const SENDERS = 4;
const PER_SENDER = 50;
const TOTAL = SENDERS * PER_SENDER;

describe('workers 2: ordering across workers', () => {
	let relay;
	before(async () => {
		relay = await startRelay({ workers: 2, rate: 100000, burst: 100000 });
	});

	test(`${CLIENTS} members, ${SENDERS} concurrent senders x ${PER_SENDER}: identical gap-free order everywhere`, { timeout: 60000 }, async () => {
		const ch = uniq('fanout');
		const clients = [];
		for (let i = 0; i < CLIENTS; i++) {
			const c = await relay.guest(uniq('m'), { keep: (f) => f.op !== 'presence' });
			clients.push(c);
		}
		for (const c of clients) await c.join(ch);
		const who = await clients[0].call({ op: 'who', ch });
		assert.equal(who.count, CLIENTS);

		const senders = clients.slice(0, SENDERS);
		// all senders fire their messages at once, without waiting for ok
		for (let k = 0; k < PER_SENDER; k++) {
			for (const [s, c] of senders.entries()) c.send({ op: 'send', ch, text: `s${s}-${k}`, id: `s${s}-${k}` });
		}
		const okSeqs = [];
		for (const [s, c] of senders.entries()) {
			const oks = await c.take('ok', PER_SENDER, 30000);
			assert.deepEqual(oks.map((o) => o.id), Array.from({ length: PER_SENDER }, (_, k) => `s${s}-${k}`),
			    'oks come back in the order of the sends');
			for (const o of oks) okSeqs.push(o.seq);
			const seqsOfSender = oks.map((o) => o.seq);
			assert.ok(seqsOfSender.every((q, i) => i === 0 || q > seqsOfSender[i - 1]), `sender ${s}'s seqs increase`);
		}
		assert.deepEqual([...okSeqs].sort((x, y) => x - y), Array.from({ length: TOTAL }, (_, i) => i + 1),
		    'the oks carry every seq 1..TOTAL exactly once');

		const reference = await clients[0].take('msg', TOTAL, 30000);
		assert.deepEqual(reference.map((m) => m.seq), Array.from({ length: TOTAL }, (_, i) => i + 1));
		const refTexts = reference.map((m) => m.text);
		// each sender's messages appear in the order it sent them
		for (let s = 0; s < SENDERS; s++) {
			const mine = refTexts.filter((t) => t.startsWith(`s${s}-`));
			assert.deepEqual(mine, Array.from({ length: PER_SENDER }, (_, k) => `s${s}-${k}`));
		}
		// the ok's seq is the seq of the message with that text
		const seqOfText = new Map(reference.map((m) => [m.text, m.seq]));
		for (const [s, c] of senders.entries()) {
			for (const o of c.log.filter((f) => f.op === 'ok')) assert.equal(seqOfText.get(o.id), o.seq, `ok ${o.id}`);
		}
		for (const [i, c] of clients.entries()) {
			if (i === 0) continue;
			const got = await c.take('msg', TOTAL, 30000);
			const seqs = got.map((m) => m.seq);
			for (let k = 0; k < TOTAL; k++) {
				if (seqs[k] !== k + 1) assert.fail(`client ${i}: position ${k} has seq ${seqs[k]}, expected ${k + 1}`);
			}
			assert.deepEqual(got.map((m) => m.text), refTexts, `client ${i} sees the same sequence`);
			await c.expectNone('msg', 0);
		}
		await clients[1].expectNone('msg', 300);
		for (const c of clients) await c.close();
	});

	test('members coming, going and vanishing mid-stream do not disturb the others', { timeout: 60000 }, async () => {
		const ch = uniq('churny');
		const steady = [];
		for (let i = 0; i < 8; i++) {
			const c = await relay.guest(uniq('steady'), { keep: (f) => f.op !== 'presence' });
			await c.join(ch);
			steady.push(c);
		}
		const sender = steady[0];
		const N = 300;
		let churned = 0;
		const churn = (async () => {
			for (let round = 0; round < 10; round++) {
				const batch = [];
				for (let i = 0; i < 6; i++) {
					batch.push(relay.guest(uniq('churn'), { keep: (f) => f.op !== 'msg' && f.op !== 'presence' }).then(async (c) => {
						await c.join(ch);
						churned += 1;
						return c;
					}));
				}
				const cs = await Promise.all(batch);
				// half leave politely, half vanish without a close handshake
				for (const [i, c] of cs.entries()) {
					if (i % 2) c.terminate();
					else c.ws._socket.destroy();
				}
				await new Promise((r) => setTimeout(r, 20));
			}
		})();
		for (let k = 0; k < N; k++) {
			sender.send({ op: 'send', ch, text: `n${k}` });
			if (k % 30 === 29) await new Promise((r) => setTimeout(r, 10));
		}
		await churn;
		await sender.take('ok', N, 30000);
		for (const [i, c] of steady.entries()) {
			const got = await c.take('msg', N, 30000);
			assert.deepEqual(got.map((m) => m.text), Array.from({ length: N }, (_, k) => `n${k}`), `steady member ${i}`);
			assert.ok(got.every((m, k) => k === 0 || m.seq === got[k - 1].seq + 1), `member ${i}: seqs are consecutive`);
		}
		assert.equal(churned, 60);
		// the vanished ones are gone from the channel
		let who;
		for (let i = 0; i < 50; i++) {
			who = await steady[1].call({ op: 'who', ch });
			if (who.count === steady.length) break;
			await new Promise((r) => setTimeout(r, 100));
		}
		assert.equal(who.count, steady.length, JSON.stringify(who).slice(0, 300));
		for (const c of steady) await c.close();
	});

	test('a channel with members on both workers: seq survives a member coming and going', { timeout: 30000 }, async () => {
		const ch = uniq('churn');
		const stay = await relay.guest(uniq('stay'));
		await stay.join(ch);
		let expected = 0;
		for (let round = 0; round < 6; round++) {
			const c = await relay.guest(uniq('churn'));
			const j = await c.join(ch);
			assert.equal(j.seq, expected);
			const ok = await c.say(ch, `round ${round}`);
			expected += 1;
			assert.equal(ok.seq, expected);
			const m = await stay.next('msg');
			assert.equal(m.seq, expected);
			await c.close();
		}
		await stay.close();
	});
});
