'use strict';
/* channels.test.js: join, leave, send, presence, who, history, recovery by since, limits. */

const { test, describe, before } = require('node:test');
const assert = require('node:assert/strict');
const { startRelay, uniq } = require('./lib');

const T = { timeout: 20000 };

function assertMsg(m, { ch, seq, from, text }) {
	assert.equal(m.op, 'msg');
	assert.equal(m.ch, ch);
	if (seq !== undefined) assert.equal(m.seq, seq);
	assert.equal(typeof m.ts, 'number', `msg.ts: ${JSON.stringify(m)}`);
	assert.ok(Math.abs(m.ts - Date.now()) < 60000, `msg.ts is ms since epoch: ${m.ts}`);
	if (from) assert.deepEqual(m.from, from);
	if (text !== undefined) assert.equal(m.text, text);
}

const seqs = (msgs) => msgs.map((m) => m.seq);
const range = (a, b) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

describe('channels', () => {
	let relay;
	before(async () => {
		relay = await startRelay({ rate: 1000, burst: 1000, history_size: 20 });
	});

	test('join: joined with ch, seq 0 and members 1 for a new channel', T, async () => {
		const c = await relay.guest(uniq('j'));
		const ch = uniq('new');
		const r = await c.call({ op: 'join', ch, id: 'j1' });
		assert.equal(r.op, 'joined', JSON.stringify(r));
		assert.equal(r.id, 'j1');
		assert.equal(r.ch, ch);
		assert.equal(r.seq, 0);
		assert.equal(r.members, 1);
		await c.close();
	});

	test('send: every member including the sender gets msg, the sender gets ok with seq', T, async () => {
		const an = uniq('alice');
		const bn = uniq('bob');
		const a = await relay.guest(an);
		const b = await relay.guest(bn);
		const ch = uniq('room');
		await a.join(ch);
		const jb = await b.join(ch);
		assert.equal(jb.members, 2);
		const t0 = Date.now();
		const ok = await a.call({ op: 'send', ch, text: 'hello there', id: 's1' });
		assert.equal(ok.op, 'ok', JSON.stringify(ok));
		assert.equal(ok.id, 's1');
		assert.equal(ok.seq, 1);
		assert.equal(typeof ok.ts, 'number');
		assert.ok(ok.ts >= t0 - 5000 && ok.ts <= Date.now() + 5000, `ok.ts ${ok.ts}`);
		const from = { id: `guest:${an}`, name: an };
		for (const c of [a, b]) {
			const m = await c.next('msg');
			assertMsg(m, { ch, seq: 1, from, text: 'hello there' });
			assert.equal(m.ts, ok.ts, 'msg.ts equals ok.ts');
			assert.equal(m.meta, undefined);
		}
		await a.close();
		await b.close();
	});

	test('seq is 1, 2, 3 per channel, independently for each channel', T, async () => {
		const a = await relay.guest(uniq('seq'));
		const ch1 = uniq('s1');
		const ch2 = uniq('s2');
		await a.join(ch1);
		await a.join(ch2);
		const oks = [];
		for (let i = 0; i < 3; i++) oks.push((await a.say(ch1, `one ${i}`)).seq);
		for (let i = 0; i < 2; i++) oks.push((await a.say(ch2, `two ${i}`)).seq);
		assert.deepEqual(oks, [1, 2, 3, 1, 2]);
		const m1 = await a.take({ op: 'msg', ch: ch1 }, 3);
		assert.deepEqual(seqs(m1), [1, 2, 3]);
		assert.deepEqual(m1.map((m) => m.text), ['one 0', 'one 1', 'one 2']);
		const m2 = await a.take({ op: 'msg', ch: ch2 }, 2);
		assert.deepEqual(seqs(m2), [1, 2]);
		const j = await a.join(ch1);
		assert.equal(j.seq, 3, 'joined.seq is the last seq');
		await a.close();
	});

	test('leave: left, and no more messages from that channel', T, async () => {
		const a = await relay.guest(uniq('la'));
		const b = await relay.guest(uniq('lb'));
		const ch = uniq('leave');
		await a.join(ch);
		await b.join(ch);
		const r = await b.call({ op: 'leave', ch, id: 'l1' });
		assert.equal(r.op, 'left', JSON.stringify(r));
		assert.equal(r.ch, ch);
		assert.equal(r.id, 'l1');
		await a.say(ch, 'after leave');
		await a.next('msg');
		await b.expectNone('msg', 400);
		await b.ping();
		await a.close();
		await b.close();
	});

	test('join is idempotent: joined again, and no duplicate messages', T, async () => {
		const a = await relay.guest(uniq('idem'));
		const ch = uniq('idem');
		await a.join(ch);
		const again = await a.join(ch);
		assert.equal(again.ch, ch);
		assert.equal(again.members, 1);
		await a.say(ch, 'once');
		const m = await a.next('msg');
		assert.equal(m.text, 'once');
		await a.expectNone('msg', 400);
		// a single leave is enough
		await a.call({ op: 'leave', ch });
		const r = await a.call({ op: 'send', ch, text: 'x', id: 'nm' });
		assert.equal(r.code, 'not_member');
		await a.close();
	});

	test('presence: others see join and leave; the joiner does not; only first/last connection counts', T, async () => {
		const an = uniq('pa');
		const bn = uniq('pb');
		const a = await relay.guest(an);
		const b1 = await relay.guest(bn);
		const b2 = await relay.guest(bn);
		const ch = uniq('pres');
		await a.join(ch);
		await b1.join(ch);
		const pj = await a.next('presence');
		assert.deepEqual(pj, { op: 'presence', ch, event: 'join', user: { id: `guest:${bn}`, name: bn } });
		await b1.expectNone('presence', 300);
		// a second connection of the same user: no new presence event
		const j2 = await b2.join(ch);
		assert.equal(j2.members, 2, 'members counts distinct users');
		await a.expectNone('presence', 400);
		await b2.expectNone({ op: 'presence', user: { id: `guest:${bn}` } }, 10);
		// one of two connections leaves: still present
		await b2.call({ op: 'leave', ch });
		await a.expectNone('presence', 400);
		// the last one leaves: leave event
		await b1.call({ op: 'leave', ch });
		const pl = await a.next('presence');
		assert.deepEqual(pl, { op: 'presence', ch, event: 'leave', user: { id: `guest:${bn}`, name: bn } });
		for (const c of [a, b1, b2]) await c.close();
	});

	test('presence: a member that disconnects without leaving produces a leave event', T, async () => {
		const a = await relay.guest(uniq('pd'));
		const gn = uniq('gone');
		const g = await relay.guest(gn);
		const ch = uniq('presd');
		await a.join(ch);
		await g.join(ch);
		await a.next({ op: 'presence', event: 'join' });
		await g.close();
		const pl = await a.next('presence', 5000);
		assert.deepEqual(pl, { op: 'presence', ch, event: 'leave', user: { id: `guest:${gn}`, name: gn } });
		const w = await a.call({ op: 'who', ch });
		assert.equal(w.count, 1);
		await a.close();
	});

	test('presence: disconnecting leaves every channel the user was in', T, async () => {
		const a = await relay.guest(uniq('pm'));
		const gn = uniq('multi');
		const g = await relay.guest(gn);
		const chs = [uniq('pm1'), uniq('pm2'), uniq('pm3')];
		for (const ch of chs) {
			await a.join(ch);
			await g.join(ch);
			await a.next({ op: 'presence', ch, event: 'join' });
		}
		g.terminate();	// no close handshake
		const leaves = await a.take({ op: 'presence', event: 'leave' }, 3, 8000);
		assert.deepEqual(leaves.map((p) => p.ch).sort(), [...chs].sort());
		assert.ok(leaves.every((p) => p.user.id === `guest:${gn}`));
		await a.close();
	});

	test('who: members (id, name) and count, distinct users', T, async () => {
		const names = [uniq('wa'), uniq('wb'), uniq('wc')];
		const cs = [];
		for (const n of names) cs.push(await relay.guest(n));
		cs.push(await relay.guest(names[0]));	// a second connection of the first user
		const ch = uniq('who');
		for (const c of cs) await c.join(ch);
		const r = await cs[1].call({ op: 'who', ch, id: 'w1' });
		assert.equal(r.op, 'who', JSON.stringify(r));
		assert.equal(r.id, 'w1');
		assert.equal(r.ch, ch);
		assert.equal(r.count, 3);
		const got = [...r.members].sort((x, y) => x.id.localeCompare(y.id));
		const want = names.map((n) => ({ id: `guest:${n}`, name: n })).sort((x, y) => x.id.localeCompare(y.id));
		assert.deepEqual(got, want);
		for (const c of cs) await c.close();
	});

	test('history: oldest first, limit, since, more:false', T, async () => {
		const an = uniq('ha');
		const a = await relay.guest(an);
		const ch = uniq('hist');
		await a.join(ch);
		for (let i = 1; i <= 6; i++) await a.say(ch, `h${i}`, { meta: { i } });
		const all = await a.history(ch);
		assert.equal(all.op, 'history', JSON.stringify(all));
		assert.deepEqual(seqs(all.msgs), range(1, 6));
		assert.equal(all.parts.at(-1).more, false);
		assert.equal(all.parts[0].ch, ch);
		const m = all.msgs[2];
		assert.equal(m.text, 'h3');
		assert.deepEqual(m.from, { id: `guest:${an}`, name: an });
		assert.equal(typeof m.ts, 'number');
		assert.deepEqual(m.meta, { i: 3 });
		const last3 = await a.history(ch, { limit: 3 });
		assert.deepEqual(seqs(last3.msgs), [4, 5, 6]);
		assert.deepEqual(last3.msgs.map((x) => x.text), ['h4', 'h5', 'h6']);
		const since = await a.history(ch, { since: 2 });
		assert.deepEqual(seqs(since.msgs), [3, 4, 5, 6]);
		const none = await a.history(ch, { since: 6 });
		assert.deepEqual(none.msgs, []);
		// the history frame echoes the id
		const r = await a.call({ op: 'history', ch, limit: 1, id: 'hid' });
		assert.equal(r.op, 'history');
		assert.equal(r.id, 'hid');
		assert.equal(r.more, false);
		await a.close();
	});

	test('history is readable by a non-member of an existing channel, or refused explicitly', T, async () => {
		const a = await relay.guest(uniq('hx'));
		const b = await relay.guest(uniq('hy'));
		const ch = uniq('histx');
		await a.join(ch);
		await a.say(ch, 'x');
		const r = await b.call({ op: 'history', ch });
		assert.ok(r.op === 'history' || (r.op === 'err' && ['not_member', 'forbidden'].includes(r.code)),
		    JSON.stringify(r));
		await a.close();
		await b.close();
	});

	test('join with history: N gives the last N messages in joined.msgs', T, async () => {
		const a = await relay.guest(uniq('jh'));
		const b = await relay.guest(uniq('jh2'));
		const ch = uniq('jhist');
		await a.join(ch);
		for (let i = 1; i <= 5; i++) await a.say(ch, `m${i}`);
		const j = await b.join(ch, { history: 3 });
		assert.equal(j.seq, 5);
		assert.deepEqual(seqs(j.msgs), [3, 4, 5]);
		assert.deepEqual(j.msgs.map((m) => m.text), ['m3', 'm4', 'm5']);
		const j0 = await (await relay.guest(uniq('jh3'))).join(ch, { history: 0 });
		assert.ok(j0.msgs === undefined || j0.msgs.length === 0, JSON.stringify(j0));
		await a.close();
		await b.close();
	});

	test('join with since: S gives every msg after S and recovered:true', T, async () => {
		const a = await relay.guest(uniq('js'));
		const b = await relay.guest(uniq('js2'));
		const ch = uniq('jsince');
		await a.join(ch);
		for (let i = 1; i <= 7; i++) await a.say(ch, `m${i}`);
		const j = await b.join(ch, { since: 3 });
		assert.equal(j.seq, 7);
		assert.equal(j.recovered, true);
		assert.deepEqual(seqs(j.msgs), [4, 5, 6, 7]);
		const j2 = await (await relay.guest(uniq('js3'))).join(ch, { since: 7 });
		assert.equal(j2.recovered, true);
		assert.ok(j2.msgs === undefined || j2.msgs.length === 0, JSON.stringify(j2));
		await a.close();
		await b.close();
	});

	test('history and who on a channel that never existed: err no_such_channel', T, async () => {
		const a = await relay.guest(uniq('nsc'));
		const ch = uniq('never');
		const h = await a.call({ op: 'history', ch, id: 'h' });
		assert.equal(h.op, 'err');
		assert.equal(h.code, 'no_such_channel');
		assert.equal(h.id, 'h');
		const w = await a.call({ op: 'who', ch, id: 'w' });
		assert.equal(w.op, 'err');
		assert.equal(w.code, 'no_such_channel');
		assert.equal(w.id, 'w');
		await a.ping();
		await a.close();
	});

	test('send to a channel not joined: err not_member; leave not joined: err not_member', T, async () => {
		const a = await relay.guest(uniq('nm'));
		const b = await relay.guest(uniq('nm2'));
		const ch = uniq('nmch');
		await a.join(ch);
		const r = await b.call({ op: 'send', ch, text: 'let me in', id: 'x1' });
		assert.equal(r.op, 'err');
		assert.equal(r.code, 'not_member');
		assert.equal(r.id, 'x1');
		await a.expectNone('msg', 300);
		const r2 = await b.call({ op: 'leave', ch, id: 'x2' });
		assert.equal(r2.op, 'err');
		assert.equal(r2.code, 'not_member');
		assert.equal(r2.id, 'x2');
		const r3 = await b.call({ op: 'leave', ch: uniq('nothere'), id: 'x3' });
		assert.equal(r3.op, 'err');
		assert.equal(r3.code, 'not_member');
		await b.ping();
		await a.close();
		await b.close();
	});

	test('meta is echoed in msg', T, async () => {
		const a = await relay.guest(uniq('meta'));
		const b = await relay.guest(uniq('meta2'));
		const ch = uniq('meta');
		await a.join(ch);
		await b.join(ch);
		const meta = { color: 'red', n: 1.5, ok: true, nil: null, list: [1, 'two', { three: 3 }], nested: { a: { b: 'c' } }, u: 'ünï' };
		await a.say(ch, 'with meta', { meta });
		const m = await b.next('msg');
		assert.deepEqual(m.meta, meta);
		await a.close();
		await b.close();
	});

	test('text is relayed exactly (unicode, quotes, control escapes)', T, async () => {
		const a = await relay.guest(uniq('txt'));
		const ch = uniq('txt');
		await a.join(ch);
		const texts = ['héllo wörld', '日本語のテキスト', 'emoji 😀🎉', 'quote " backslash \\ slash /', 'tab\tnewline\nend', '<script>alert(1)</script>'];
		for (const t of texts) await a.say(ch, t);
		const got = await a.take('msg', texts.length);
		assert.deepEqual(got.map((m) => m.text), texts);
		await a.close();
	});

	test('text with a NUL character is relayed intact or refused, never cut short', T, async () => {
		const a = await relay.guest(uniq('nul'));
		const b = await relay.guest(uniq('nul2'));
		const ch = uniq('nul');
		await a.join(ch);
		await b.join(ch);
		for (const [i, text] of ['a\u0000b', '\u0000', 'tail\u0000'].entries()) {
			// refused as a bad field (echoing the id) or as bad JSON (no id: the frame was not read)
			a.send({ op: 'send', ch, text, id: i });
			const r = await a.next((f) => f.id === i || (f.op === 'err' && f.code === 'bad_json'));
			if (r.op === 'err') {
				assert.ok(['bad_field', 'bad_json'].includes(r.code), JSON.stringify(r));
				continue;
			}
			assert.equal(r.op, 'ok', JSON.stringify(r));
			const m = await b.next('msg');
			assert.equal(m.text, text, `relayed ${JSON.stringify(m.text)} for ${JSON.stringify(text)}`);
			await a.next('msg');
		}
		await a.close();
		await b.close();
	});

	test('escaped surrogate pairs count as one character and are relayed as UTF-8', T, async () => {
		const a = await relay.guest(uniq('sur'));
		const ch = uniq('sur');
		await a.join(ch);
		await a.sendRaw(`{"op":"send","ch":"${ch}","text":"x\\ud83d\\ude00y","id":"pair"}`);
		const ok = await a.next({ id: 'pair' });
		assert.equal(ok.op, 'ok', JSON.stringify(ok));
		assert.equal((await a.next('msg')).text, 'x\u{1F600}y');
		// a lone surrogate is not text: refused, connection open
		await a.sendRaw(`{"op":"send","ch":"${ch}","text":"x\\ud800y","id":"lone"}`);
		const r = await a.next('err');
		assert.ok(['bad_json', 'bad_field'].includes(r.code), JSON.stringify(r));
		await a.ping();
		await a.close();
	});

	test('history of big messages is split over history frames: more:true on all but the last', T, async () => {
		const a = await relay.guest(uniq('bigh'));
		const ch = uniq('bigh');
		await a.join(ch);
		const text = '\u{1F600}'.repeat(500);	/* 500 characters, 2000 bytes */
		for (let i = 1; i <= 20; i++) a.send({ op: 'send', ch, text, id: i });
		await a.take('ok', 20);
		await a.take('msg', 20);
		const h = await a.history(ch, { limit: 20 });
		assert.deepEqual(seqs(h.msgs), range(1, 20));
		assert.ok(h.parts.length > 1, 'split over several frames');
		assert.ok(h.parts.slice(0, -1).every((p) => p.more === true));
		assert.equal(h.parts.at(-1).more, false);
		assert.ok(h.parts.every((p) => p.ch === ch));
		assert.ok(h.msgs.every((m) => m.text === text));
		await a.close();
	});

	test('join with since over big messages: joined (more:true) plus history frames carry every message', T, async () => {
		const a = await relay.guest(uniq('bigj'));
		const ch = uniq('bigj');
		await a.join(ch);
		const text = '\u{1F600}'.repeat(500);
		for (let i = 1; i <= 15; i++) a.send({ op: 'send', ch, text: `${i} ${text.slice(0, 900)}`, id: i });
		await a.take('ok', 15);
		const b = await relay.guest(uniq('bigj2'));
		const j = await b.join(ch, { since: 2 });
		assert.equal(j.recovered, true);
		assert.equal(j.seq, 15);
		assert.deepEqual(seqs(j.msgs), range(3, 15));
		assert.deepEqual(j.msgs.map((m) => Number(m.text.split(' ')[0])), range(3, 15));
		const c = await relay.guest(uniq('bigj3'));
		const jh = await c.join(ch, { history: 10 });
		assert.deepEqual(seqs(jh.msgs), range(6, 15));
		// and live messages follow the recovered ones
		await a.say(ch, 'live');
		assert.equal((await b.next('msg')).seq, 16);
		for (const x of [a, b, c]) await x.close();
	});

	test('who with more members than fit a frame: count is the total, members are real', { timeout: 30000 }, async () => {
		const ch = uniq('crowd');
		const cs = [];
		const names = [];
		for (let i = 0; i < 40; i++) {
			const n = `${uniq('c')}_${'w'.repeat(48)}`;
			names.push(`guest:${n}`);
			const c = await relay.guest(n, { keep: (f) => f.op !== 'presence' });
			await c.join(ch);
			cs.push(c);
		}
		const r = await cs[0].call({ op: 'who', ch });
		assert.equal(r.op, 'who', JSON.stringify(r).slice(0, 300));
		assert.equal(r.count, 40);
		assert.ok(r.members.length >= 1 && r.members.length <= 40, `${r.members.length} members listed`);
		const ids = r.members.map((m) => m.id);
		assert.equal(new Set(ids).size, ids.length, 'no member listed twice');
		for (const id of ids) assert.ok(names.includes(id), `listed ${id}`);
		for (const c of cs) await c.close();
	});

	test('ping: pong with the id', T, async () => {
		const a = await relay.guest(uniq('ping'));
		a.send({ op: 'ping', id: 'p-1' });
		const p = await a.next('pong');
		assert.equal(p.id, 'p-1');
		a.send({ op: 'ping', id: 99 });
		assert.equal((await a.next('pong')).id, 99);
		await a.close();
	});
});

describe('channels with small limits', () => {
	let relay;
	before(async () => {
		relay = await startRelay({ rate: 1000, burst: 1000, history_size: 5, presence_events_max: 2, channels_max: 3 });
	});

	test('presence_events_max 2: no presence events once a channel has more members', T, async () => {
		const [an, bn, cn] = [uniq('pm'), uniq('pm'), uniq('pm')];
		const a = await relay.guest(an);
		const b = await relay.guest(bn);
		const c = await relay.guest(cn);
		const ch = uniq('big');
		await a.join(ch);
		await b.join(ch);
		const p = await a.next('presence');
		assert.equal(p.user.id, `guest:${bn}`);
		const jc = await c.join(ch);
		assert.equal(jc.members, 3);
		await a.expectNone('presence', 500);
		await b.expectNone('presence', 10);
		// messages still flow
		await c.say(ch, 'three of us');
		for (const x of [a, b, c]) await x.next('msg');
		for (const x of [a, b, c]) await x.close();
	});

	test('history_size 5: the ring keeps the last 5', T, async () => {
		const a = await relay.guest(uniq('ring'));
		const ch = uniq('ring');
		await a.join(ch);
		for (let i = 1; i <= 8; i++) await a.say(ch, `r${i}`);
		const h = await a.history(ch);
		assert.deepEqual(seqs(h.msgs), [4, 5, 6, 7, 8]);
		assert.deepEqual(h.msgs.map((m) => m.text), ['r4', 'r5', 'r6', 'r7', 'r8']);
		const j = await a.join(ch);
		assert.equal(j.seq, 8);
		await a.close();
	});

	test('since older than what is kept: recovered:false with what is kept', T, async () => {
		const a = await relay.guest(uniq('old'));
		const b = await relay.guest(uniq('old2'));
		const ch = uniq('old');
		await a.join(ch);
		for (let i = 1; i <= 10; i++) await a.say(ch, `o${i}`);
		const j = await b.join(ch, { since: 1 });
		assert.equal(j.recovered, false, JSON.stringify(j));
		assert.deepEqual(seqs(j.msgs), [6, 7, 8, 9, 10]);
		assert.equal(j.seq, 10);
		// since exactly at the edge of what is kept is complete
		const j2 = await (await relay.guest(uniq('old3'))).join(ch, { since: 5 });
		assert.equal(j2.recovered, true, JSON.stringify(j2));
		assert.deepEqual(seqs(j2.msgs), [6, 7, 8, 9, 10]);
		await a.close();
		await b.close();
	});

	test('channels_max 3: the 4th join is too_many_channels; leaving one makes room', T, async () => {
		const a = await relay.guest(uniq('cm'));
		const base = uniq('cm');
		for (let i = 1; i <= 3; i++) await a.join(`${base}.${i}`);
		const r = await a.call({ op: 'join', ch: `${base}.4`, id: 'too' });
		assert.equal(r.op, 'err', JSON.stringify(r));
		assert.equal(r.code, 'too_many_channels');
		assert.equal(r.id, 'too');
		// rejoining one already joined is fine
		await a.join(`${base}.2`);
		await a.call({ op: 'leave', ch: `${base}.1` });
		const j = await a.join(`${base}.4`);
		assert.equal(j.ch, `${base}.4`);
		await a.ping();
		await a.close();
	});

	test('channels_max is per connection', T, async () => {
		const n = uniq('cmc');
		const a = await relay.guest(n);
		const b = await relay.guest(n);
		const base = uniq('cmc');
		for (let i = 1; i <= 3; i++) await a.join(`${base}.a${i}`);
		for (let i = 1; i <= 3; i++) await b.join(`${base}.b${i}`);
		await a.close();
		await b.close();
	});
});

describe('history_ttl', () => {
	let relay;
	before(async () => {
		relay = await startRelay({ rate: 1000, burst: 1000, history_ttl: '1s' });
	});

	test('messages older than history_ttl are gone from history; seq carries on', T, async () => {
		const a = await relay.guest(uniq('ttl'));
		const ch = uniq('ttl');
		await a.join(ch);
		for (let i = 1; i <= 3; i++) await a.say(ch, `t${i}`);
		assert.equal((await a.history(ch)).msgs.length, 3);
		await new Promise((r) => setTimeout(r, 2100));
		const h = await a.history(ch);
		assert.deepEqual(h.msgs, [], JSON.stringify(h));
		const b = await relay.guest(uniq('ttl2'));
		const j = await b.join(ch, { since: 0 });
		assert.equal(j.seq, 3);
		assert.equal(j.recovered, false, JSON.stringify(j));
		assert.ok(!j.msgs || j.msgs.length === 0, JSON.stringify(j));
		const ok = await a.say(ch, 't4');
		assert.equal(ok.seq, 4);
		await a.close();
		await b.close();
	});
});
