'use strict';
/*
 * origin.test.js: the Origin check of WebSocket upgrades (allowed_origins):
 * a browser's upgrade from a foreign origin is answered 403 before any
 * WebSocket exists; the relay's own origin and requests without an Origin
 * are accepted; a list adds origins and "*" allows any; refusals are
 * logged, rate-limited.
 */

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { startRelay, connect, httpGet, waitFor, uniq, BIN } = require('./lib');

const T = { timeout: 15000 };

/*
 * A hand-made WebSocket upgrade of target with extra headers (origin: the
 * Origin header, or none; host: the Host header).  Resolves {status,
 * headers, body, raw} once the response's header block (and, for a
 * refusal, its body) has arrived; the socket is then closed.
 */
function upgrade(port, target, { origin, host = `127.0.0.1:${port}` } = {}) {
	return new Promise((resolve, reject) => {
		const sock = net.connect({ host: '127.0.0.1', port });
		let buf = Buffer.alloc(0);
		const finish = (why) => {
			clearTimeout(timer);
			sock.destroy();
			const raw = buf.toString('latin1');
			const end = raw.indexOf('\r\n\r\n');
			if (end < 0) {
				reject(new Error(`no response to the upgrade of ${target} (${why}): ${JSON.stringify(raw)}`));
				return;
			}
			const lines = raw.slice(0, end).split('\r\n');
			const headers = {};
			for (const l of lines.slice(1)) {
				const i = l.indexOf(':');
				headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
			}
			const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
			resolve({ status: m ? Number(m[1]) : 0, headers, body: raw.slice(end + 4), raw });
		};
		const timer = setTimeout(() => finish('timeout'), 5000);
		sock.on('connect', () => {
			sock.write(`GET ${target} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\n` +
			    'Connection: Upgrade\r\n' +
			    `Sec-WebSocket-Key: ${crypto.randomBytes(16).toString('base64')}\r\n` +
			    'Sec-WebSocket-Version: 13\r\n' +
			    (origin !== undefined ? `Origin: ${origin}\r\n` : '') + '\r\n');
		});
		sock.on('data', (d) => {
			buf = Buffer.concat([buf, d]);
			const raw = buf.toString('latin1');
			const end = raw.indexOf('\r\n\r\n');
			if (end < 0) return;
			if (/^HTTP\/1\.1 101/.test(raw)) return finish('upgraded');
			const len = /\r\ncontent-length:\s*(\d+)/i.exec(raw.slice(0, end + 2));
			if (!len || buf.length - (Buffer.byteLength(raw.slice(0, end), 'latin1') + 4) >= Number(len[1]))
				finish('answered');
		});
		sock.on('end', () => finish('closed'));
		sock.on('error', (e) => (buf.length ? finish('error') : reject(e)));
	});
}

/* Asserts that the upgrade was refused with the relay's 403. */
function assertRefused(r, what) {
	assert.equal(r.status, 403, `${what}: ${r.raw.slice(0, 300)}`);
	assert.equal(r.headers['sec-websocket-accept'], undefined, what);
	assert.equal(r.headers['content-type'], 'text/plain', what);
	assert.equal(r.body, 'origin not allowed\n', what);
}

/* Asserts that the upgrade was accepted (101 with the accept key). */
function assertAccepted(r, what) {
	assert.equal(r.status, 101, `${what}: ${r.raw.slice(0, 300)}`);
	assert.ok(r.headers['sec-websocket-accept'], what);
}

/* The relay's chatrelay_connections gauge. */
async function connections(port) {
	const r = await httpGet(port, '/metrics');
	const m = /^chatrelay_connections (\d+)$/m.exec(r.body);
	assert.ok(m, r.body.slice(0, 300));
	return Number(m[1]);
}

describe('origin check: empty allowed_origins (same origin only)', () => {
	let relay;
	let self;
	before(async () => {
		relay = await startRelay({});
		self = `http://127.0.0.1:${relay.port}`;
	});

	test('a foreign Origin gets 403 on /ws and /admin, and no WebSocket', T, async () => {
		for (const target of ['/ws', '/ws/', '/ws?token=abc', '/admin', '/admin/']) {
			const r = await upgrade(relay.port, target, { origin: 'http://evil.example' });
			assertRefused(r, target);
		}
		assert.equal(await connections(relay.port), 0);
		// a real client sees the refusal as an HTTP status
		await assert.rejects(relay.ws({ origin: 'https://evil.example' }), (e) => e.status === 403);
		await assert.rejects(relay.ws({ path: '/admin', origin: 'https://evil.example' }), (e) => e.status === 403);
		// and the relay goes on serving
		const c = await relay.guest(uniq('after403'));
		await c.ping();
		await c.close();
	});

	test('another scheme, host or port than the relay\'s own is foreign too', T, async () => {
		const p = relay.port;
		for (const origin of [`https://127.0.0.1:${p}`, `http://localhost:${p}`, `http://127.0.0.1:${p + 1}`,
			'http://127.0.0.1', `ws://127.0.0.1:${p}`, `http://127.0.0.1:${p}/`, `http://127.0.0.1:${p}/ws`,
			'null', 'garbage', `http://127.0.0.1:${p}, http://127.0.0.1:${p}`]) {
			assertRefused(await upgrade(p, '/ws', { origin }), origin);
		}
		// no Host: nothing to be the same origin as
		assertRefused(await upgrade(p, '/ws', { origin: self, host: '' }), 'empty Host');
	});

	test('the same origin, and no Origin at all, are accepted', T, async () => {
		const p = relay.port;
		assertAccepted(await upgrade(p, '/ws', { origin: self }), self);
		assertAccepted(await upgrade(p, '/admin', { origin: self }), `${self} on /admin`);
		assertAccepted(await upgrade(p, '/ws', { origin: `HTTP://127.0.0.1:${p}` }), 'upper-case scheme');
		assertAccepted(await upgrade(p, '/ws'), 'no Origin');
		// the Host the browser asked for is what counts
		assertAccepted(await upgrade(p, '/ws', { origin: `http://localhost:${p}`, host: `localhost:${p}` }),
		    'localhost');
		assertAccepted(await upgrade(p, '/ws', { origin: 'http://relay.example', host: 'relay.example:80' }),
		    'default port');
		// real clients: a page of the relay's own, and a non-browser one
		const a = await relay.guest(uniq('same'), { origin: self });
		const b = await relay.guest(uniq('none'));
		await a.ping();
		await b.ping();
		await a.close();
		await b.close();
	});
});

describe('origin check: refusals are logged at info, rate-limited', () => {
	test('one line at once, then one line for the rest after 10 s', { timeout: 25000 }, async () => {
		const relay = await startRelay({ workers: 1, log_level: 'info' });
		const lines = () => relay.output.split('\n').filter((l) => /refused .*WebSocket upgrade/.test(l));
		for (let i = 0; i < 19; i++)
			assertRefused(await upgrade(relay.port, '/ws', { origin: `http://evil-${i}.example` }), `evil-${i}`);
		assertRefused(await upgrade(relay.port, '/ws', { origin: 'http://evil".example\\x' }), 'odd Origin');
		await waitFor('the first refusal logged', () => ({ done: lines().length >= 1, seen: relay.output.slice(-2000) }), 5000);
		let got = lines();
		assert.equal(got.length, 1, got.join('\n'));
		assert.match(got[0], /\[info\] http: refused a WebSocket upgrade from Origin "http:\/\/evil-0\.example" to Host "127\.0\.0\.1:\d+"/);
		await waitFor('the summary of the others', () => ({ done: lines().length >= 2, seen: lines() }), 13000);
		got = lines();
		assert.equal(got.length, 2, got.join('\n'));
		assert.match(got[1], /\[info\] http: refused 19 WebSocket upgrades for their Origin in the last 10 s, the last from "http:\/\/evil\?\.example\?x"/);
	});
});

describe('origin check: allowed_origins with a list', () => {
	let relay;
	before(async () => {
		relay = await startRelay({ allowed_origins: 'https://game.example.com, http://127.0.0.1:1' });
	});

	test('listed origins are accepted, others refused, the relay\'s own still accepted', T, async () => {
		const p = relay.port;
		for (const origin of ['https://game.example.com', 'HTTPS://Game.Example.com:443', 'http://127.0.0.1:1',
			`http://127.0.0.1:${p}`]) {
			assertAccepted(await upgrade(p, '/ws', { origin }), origin);
		}
		for (const origin of ['http://game.example.com', 'https://www.game.example.com', 'https://game.example.com:8443',
			'https://game.example.com.evil.example', 'http://127.0.0.1:2', 'http://127.0.0.1', 'null']) {
			assertRefused(await upgrade(p, '/ws', { origin }), origin);
		}
		assertAccepted(await upgrade(p, '/admin'), 'no Origin');
		const c = await relay.guest(uniq('game'), { origin: 'https://game.example.com' });
		await c.ping();
		await c.close();
	});
});

describe('origin check: allowed_origins *', () => {
	test('any Origin is accepted', T, async () => {
		const relay = await startRelay({ allowed_origins: '*' });
		for (const origin of ['http://evil.example', 'https://game.example.com:8443', 'null', 'garbage', undefined])
			assertAccepted(await upgrade(relay.port, '/ws', { origin }), String(origin));
		const c = await relay.guest(uniq('any'), { origin: 'https://anywhere.example' });
		await c.ping();
		await c.close();
	});
});

describe('origin check: over TLS the relay\'s own origin is https://', () => {
	let relay;
	let dir;
	before(async () => {
		dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatrelay-tls-'));
		const cert = path.join(dir, 'cert.pem');
		const key = path.join(dir, 'key.pem');
		execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert,
			'-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
		relay = await startRelay({ tls_cert: cert, tls_key: key });
	});
	after(() => {
		if (dir) fs.rmSync(dir, { recursive: true, force: true });
	});

	test('wss: https://host:port is accepted, http://host:port refused', T, async () => {
		const url = `wss://127.0.0.1:${relay.port}/ws`;
		const c = await connect(url, { rejectUnauthorized: false, origin: `https://127.0.0.1:${relay.port}` });
		assert.equal((await c.auth(uniq('tls'))).op, 'welcome');
		await c.ping();
		await c.close();
		await assert.rejects(connect(url, { rejectUnauthorized: false, origin: `http://127.0.0.1:${relay.port}` }),
		    (e) => e.status === 403);
		const n = await connect(url, { rejectUnauthorized: false });
		assert.equal((await n.auth(uniq('tls'))).op, 'welcome');
		await n.ping();
		await n.close();
	});
});

test('a malformed allowed_origins is a configuration error', T, () => {
	for (const bad of ['game.example.com', 'https://game.example.com/', 'https://a.example,,https://b.example',
		'https://*.example.com']) {
		const r = spawnSync(BIN, ['-c', '/dev/null', '--allowed_origins', bad, '--test-config'], { encoding: 'utf8' });
		assert.notEqual(r.status, 0, `${bad}: ${r.stdout}${r.stderr}`);
		assert.match(r.stderr, /allowed_origins: .*is not an origin/, bad);
	}
	const ok = spawnSync(BIN, ['-c', '/dev/null', '--allowed_origins', 'https://a.example,null,*', '--test-config'],
	    { encoding: 'utf8' });
	assert.equal(ok.status, 0, ok.stdout + ok.stderr);
});
