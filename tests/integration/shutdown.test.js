'use strict';
/* shutdown.test.js: SIGTERM drains: bye 1001 with reconnect_ms, close 1001, exit 0. */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { startRelay, startCluster, httpGet, uniq, sleep } = require('./lib');

test('SIGTERM: every client gets bye 1001 and close 1001; the relay exits 0 within 5 s', { timeout: 30000 }, async () => {
	const relay = await startRelay({ workers: 2 });
	const ch = uniq('bye');
	const clients = [];
	for (let i = 0; i < 3; i++) {
		const c = await relay.guest(uniq('stay'));
		await c.join(ch);
		clients.push(c);
	}
	const anon = await relay.ws();	// not authenticated yet: gets the bye too
	await anon.ping();
	const t0 = Date.now();
	const exitCode = relay.stop('SIGTERM', 15000);
	for (const c of [...clients, anon]) {
		const bye = await c.next('bye', 6000);
		assert.equal(bye.code, 1001, JSON.stringify(bye));
		assert.equal(bye.reason, 'server shutting down');
		assert.equal(typeof bye.reason, 'string');
		assert.equal(typeof bye.reconnect_ms, 'number', JSON.stringify(bye));
		assert.ok(bye.reconnect_ms >= 0, JSON.stringify(bye));
		const closed = await c.closed;
		assert.equal(closed.code, 1001);
	}
	const code = await exitCode;
	const took = Date.now() - t0;
	assert.equal(code, 0, `exit status (signal ${relay.exitInfo.signal}); output:\n${relay.stderr().slice(-2000)}`);
	assert.ok(took < 5000, `exited ${took} ms after SIGTERM`);
});

test('SIGTERM with no clients: exits 0 promptly', { timeout: 20000 }, async () => {
	const relay = await startRelay({});
	await sleep(100);
	const t0 = Date.now();
	const code = await relay.stop('SIGTERM', 15000);
	assert.equal(code, 0, `exit status (signal ${relay.exitInfo.signal})`);
	assert.ok(Date.now() - t0 < 5000);
});

test('SIGTERM while a client does not read: still exits within 5 s', { timeout: 30000 }, async () => {
	const relay = await startRelay({ rate: 100000, burst: 100000 });
	const ch = uniq('stuck');
	const a = await relay.guest(uniq('w'));
	const b = await relay.guest(uniq('stuck'), { keep: (f) => f.op !== 'msg' });
	await a.join(ch);
	await b.join(ch);
	b.ws._socket.pause();
	for (let i = 0; i < 200; i++) a.send({ op: 'send', ch, text: 'x'.repeat(400) });
	await a.take('ok', 200, 10000);
	const t0 = Date.now();
	const code = await relay.stop('SIGTERM', 15000);
	assert.equal(code, 0, `exit status (signal ${relay.exitInfo.signal})`);
	assert.ok(Date.now() - t0 < 5000, `exited ${Date.now() - t0} ms after SIGTERM`);
	b.ws._socket.resume();
	await b.closed;
});

/*
 * Regression: /healthz read every worker's Redis state, which each worker
 * frees as it is torn down, one after another: a request served by a
 * worker still running read freed memory (AddressSanitizer aborts the
 * relay then, so the exit status shows it).  Now it reads only flags that
 * live as long as the process.
 */
test('/healthz hammered during SIGTERM with Redis: always an answer, exit 0', { timeout: 60000 }, async () => {
	const { relays } = await startCluster(1, { workers: 4 });
	const relay = relays[0];
	const answers = [];
	let stopping = false, exited = false;
	const hammer = async () => {
		while (!exited) {
			try {
				const r = await httpGet(relay.port, '/healthz', { timeoutMs: 2000 });
				answers.push({ stopping, status: r.status, body: r.body });
			} catch {
				/* refused or reset once the listeners are gone */
				if (stopping) await sleep(1);
			}
		}
	};
	const loops = [];
	for (let i = 0; i < 16; i++) loops.push(hammer());
	await sleep(300);
	stopping = true;
	const code = await relay.stop('SIGTERM', 20000);
	exited = true;
	await Promise.all(loops);
	assert.equal(code, 0, `exit status (signal ${relay.exitInfo.signal}); output:\n${relay.stderr().slice(-3000)}`);
	assert.ok(answers.some((a) => !a.stopping && a.status === 200), 'answers before SIGTERM');
	for (const a of answers) {
		assert.ok(a.status === 200 || a.status === 503, JSON.stringify(a));
		const h = JSON.parse(a.body);
		assert.ok(['redis', 'down'].includes(h.bus), JSON.stringify(a));
		assert.equal(h.status, a.status === 200 ? 'ok' : 'draining', JSON.stringify(a));
	}
});
