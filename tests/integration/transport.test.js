'use strict';
/*
 * transport.test.js: the relay over TLS (wss://, https://, ALPN limited to
 * http/1.1 so a browser never runs the WebSocket over HTTP/2), and with
 * permessage-deflate negotiated (the relay inflates what clients send and
 * writes its own frames uncompressed, which such peers accept).
 */

const { test, describe, before } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const https = require('node:https');
const os = require('node:os');
const path = require('node:path');
const tls = require('node:tls');
const { startRelay, connect, uniq } = require('./lib');

const T = { timeout: 20000 };

/* A self-signed certificate for 127.0.0.1, made with the openssl command. */
function makeCert() {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatrelay-tls-'));
	const cert = path.join(dir, 'cert.pem');
	const key = path.join(dir, 'key.pem');
	execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes',
	    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1',
	    '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
	return { cert, key, dir };
}

/* Authenticates c as a guest and joins ch; returns the welcome. */
async function guestJoin(c, name, ch) {
	const welcome = await c.call({ op: 'auth', name });
	assert.equal(welcome.op, 'welcome', JSON.stringify(welcome));
	const joined = await c.call({ op: 'join', ch });
	assert.equal(joined.op, 'joined', JSON.stringify(joined));
	return welcome;
}

describe('TLS', () => {
	let relay;
	let certs;
	before(async () => {
		certs = makeCert();
		relay = await startRelay({ workers: 2, tls_cert: certs.cert, tls_key: certs.key });
	});

	test('wss: auth, join, send and receive over TLS', T, async () => {
		const ch = uniq('tls');
		const a = await connect(`wss://127.0.0.1:${relay.port}/ws`, { rejectUnauthorized: false });
		const b = await connect(`wss://127.0.0.1:${relay.port}/ws`, { rejectUnauthorized: false });
		await guestJoin(a, uniq('ta'), ch);
		await guestJoin(b, uniq('tb'), ch);
		const text = 'über TLS ' + 'x'.repeat(300);
		const ok = await a.call({ op: 'send', ch, text });
		assert.equal(ok.op, 'ok', JSON.stringify(ok));
		const m = await b.next((f) => f.op === 'msg' && f.seq === ok.seq);
		assert.equal(m.text, text);
		await a.close();
		await b.close();
	});

	test('ALPN offers only http/1.1, even to a client that prefers h2', T, async () => {
		const proto = await new Promise((resolve, reject) => {
			const s = tls.connect({ host: '127.0.0.1', port: relay.port, rejectUnauthorized: false,
			    ALPNProtocols: ['h2', 'http/1.1'] }, () => {
				resolve(s.alpnProtocol);
				s.end();
			});
			s.on('error', reject);
		});
		assert.equal(proto, 'http/1.1');
	});

	test('https: /healthz answers over TLS', T, async () => {
		const body = await new Promise((resolve, reject) => {
			https.get({ host: '127.0.0.1', port: relay.port, path: '/healthz', rejectUnauthorized: false }, (res) => {
				let b = '';
				res.on('data', (d) => { b += d; });
				res.on('end', () => resolve({ status: res.statusCode, body: b }));
			}).on('error', reject);
		});
		assert.equal(body.status, 200);
		assert.equal(JSON.parse(body.body).status, 'ok');
	});
});

describe('permessage-deflate', () => {
	let relay;
	before(async () => {
		relay = await startRelay({ deflate: 'yes', text_max: 3000 });
	});

	test('a client that negotiated deflate sends compressed frames and reads the relay\'s', T, async () => {
		const ch = uniq('pmd');
		const opts = { perMessageDeflate: { threshold: 0 } };
		const a = await connect(`${relay.url}/ws`, opts);
		const b = await connect(`${relay.url}/ws`, opts);
		assert.match(a.ws.extensions, /permessage-deflate/, 'deflate was negotiated');
		await guestJoin(a, uniq('da'), ch);
		await guestJoin(b, uniq('db'), ch);
		const text = 'compress me '.repeat(30);
		const ok = await a.call({ op: 'send', ch, text });
		assert.equal(ok.op, 'ok', JSON.stringify(ok));
		assert.equal((await b.next((f) => f.op === 'msg' && f.seq === ok.seq)).text, text);
		await a.close();
		await b.close();
	});

	test('a compressed message that inflates to several KB arrives whole', T, async () => {
		const ch = uniq('pmdbig');
		const opts = { perMessageDeflate: { threshold: 0 } };
		const a = await connect(`${relay.url}/ws`, opts);
		const b = await connect(`${relay.url}/ws`, opts);
		await guestJoin(a, uniq('dba'), ch);
		await guestJoin(b, uniq('dbb'), ch);
		const texts = [];
		for (let i = 0; i < 5; i++) texts.push(`${i}:` + 'abcdefgh'.repeat(40 + 40 * i).slice(0, 300 + 500 * i));
		for (const text of texts) {
			const ok = await a.call({ op: 'send', ch, text });
			assert.equal(ok.op, 'ok', JSON.stringify(ok).slice(0, 200));
			assert.equal((await b.next((f) => f.op === 'msg' && f.seq === ok.seq)).text, text);
		}
		await a.close();
		await b.close();
	});

	test('without deflate configured, it is not negotiated', T, async () => {
		const plain = await startRelay({});
		const c = await connect(`${plain.url}/ws`, { perMessageDeflate: { threshold: 0 } });
		assert.equal(c.ws.extensions, '');
		const w = await c.call({ op: 'auth', name: uniq('nd') });
		assert.equal(w.op, 'welcome');
		await c.close();
	});
});
