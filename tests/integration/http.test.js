'use strict';
/* http.test.js: /healthz, static files from web_root, and no way out of it. */

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startRelay, httpGet, rawHttp, uniq } = require('./lib');

const T = { timeout: 15000 };
const MARKER = `chatrelay-test-page-${process.pid}`;
const SECRET_MARKER = `top-secret-${process.pid}`;

describe('http', () => {
	let relay;
	let tmp;
	before(async () => {
		tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chatrelay-web-'));
		const web = path.join(tmp, 'web');
		fs.mkdirSync(path.join(web, 'sub'), { recursive: true });
		fs.writeFileSync(path.join(web, 'index.html'), `<!doctype html><title>${MARKER}</title><p>${MARKER}</p>\n`);
		fs.writeFileSync(path.join(web, 'sub', 'page.html'), `<!doctype html><p>sub page ${MARKER}</p>\n`);
		fs.writeFileSync(path.join(tmp, 'secret.txt'), `${SECRET_MARKER}\n`);
		relay = await startRelay({ web_root: web });
	});
	after(() => {
		if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
	});

	test('GET /healthz: 200 JSON {status:"ok", node, bus}', T, async () => {
		const r = await httpGet(relay.port, '/healthz');
		assert.equal(r.status, 200, r.body);
		assert.match(r.headers['content-type'] || '', /json/);
		const body = JSON.parse(r.body);
		assert.equal(body.status, 'ok');
		assert.equal(typeof body.node, 'string');
		assert.ok('bus' in body, r.body);
		// the node is the one the welcome names
		const c = await relay.guest(uniq('hz'));
		assert.equal(c.welcome.node, body.node);
		await c.close();
	});

	test('GET /: 200 text/html, the web root\'s index.html', T, async () => {
		const r = await httpGet(relay.port, '/');
		assert.equal(r.status, 200);
		assert.match(r.headers['content-type'] || '', /^text\/html/);
		assert.ok(r.body.includes(MARKER), r.body.slice(0, 200));
		const r2 = await httpGet(relay.port, '/index.html');
		assert.equal(r2.status, 200);
		assert.ok(r2.body.includes(MARKER));
	});

	test('GET a file in a subdirectory', T, async () => {
		const r = await httpGet(relay.port, '/sub/page.html');
		assert.equal(r.status, 200);
		assert.ok(r.body.includes(MARKER));
		assert.match(r.headers['content-type'] || '', /^text\/html/);
	});

	test('GET /nonexistent: 404', T, async () => {
		const r = await httpGet(relay.port, '/nonexistent');
		assert.equal(r.status, 404);
		const r2 = await httpGet(relay.port, '/sub/nope.html');
		assert.equal(r2.status, 404);
	});

	const traversals = [
		'/../../etc/passwd',
		'/../secret.txt',
		'/sub/../../secret.txt',
		'/..%2fsecret.txt',
		'/%2e%2e/secret.txt',
		'/%2e%2e%2fsecret.txt',
		'/%2E%2E/%2E%2E/etc/passwd',
		'/..%2f..%2f..%2f..%2fetc%2fpasswd',
		'/sub/%2e%2e/%2e%2e/secret.txt',
		'/%252e%252e/secret.txt',
		'/..\\secret.txt',
		'/..%5csecret.txt',
		'/.%2e/secret.txt',
		'//etc/passwd',
		'/%2fetc%2fpasswd',
		'/etc/passwd',
		'/index.html%00.txt',
	];
	for (const p of traversals) {
		test(`GET ${p}: not 200 and never the file outside the web root`, T, async () => {
			// hanging up on a malformed request is as good as an error status
			const r = await httpGet(relay.port, p).catch((e) => ({ status: 0, body: '', error: e }));
			assert.ok(!r.body.includes(SECRET_MARKER), `served the secret file for ${p}`);
			assert.ok(!/root:.*:0:0:/.test(r.body), `served /etc/passwd for ${p}`);
			assert.notEqual(r.status, 200, `status ${r.status} for ${p}: ${r.body.slice(0, 100)}`);
		});
	}

	test('raw request lines with traversal and absolute URIs never escape the web root', T, async () => {
		for (const target of ['/../secret.txt', '../secret.txt', `http://127.0.0.1:${relay.port}/../secret.txt`, '/./../secret.txt']) {
			const r = await rawHttp(relay.port, `GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
			assert.ok(!r.raw.includes(SECRET_MARKER), `served the secret for ${target}`);
			assert.ok(!/^HTTP\/1\.[01] 200/.test(r.raw), `200 for ${target}`);
		}
	});

	test('GET /metrics: 200, Prometheus text format', T, async () => {
		const c = await relay.guest(uniq('metrics'));
		const r = await httpGet(relay.port, '/metrics');
		assert.equal(r.status, 200);
		assert.match(r.headers['content-type'] || '', /^text\/plain/);
		const lines = r.body.split('\n').filter((l) => l && !l.startsWith('#'));
		assert.ok(lines.length > 0, 'some samples');
		for (const l of lines) assert.match(l, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? -?[0-9.eE+-]+|NaN|[+-]Inf$/, `sample line ${l}`);
		await c.close();
	});

	test('malformed and abandoned HTTP requests do not hurt the relay', T, async () => {
		const probes = [
			'GARBAGE\r\n\r\n',
			'GET / HTTP/1.1\r\nHost: x\r\nX-Big: ' + 'a'.repeat(20000) + '\r\n\r\n',
			'GET /' + 'a'.repeat(8000) + ' HTTP/1.1\r\nHost: x\r\n\r\n',
			'GET / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n',
			'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello',
			'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n',
			'GET / HTTP/1.1\r\nHo',
			'\r\n\r\n\r\n',
		];
		for (const req of probes) {
			const r = await rawHttp(relay.port, req, 2000);
			assert.ok(!/^HTTP\/1\.[01] 101/.test(r.raw), `no upgrade for ${JSON.stringify(req.slice(0, 60))}`);
		}
		const h = await httpGet(relay.port, '/healthz');
		assert.equal(h.status, 200);
	});

	test('the relay keeps serving WebSockets after all that', T, async () => {
		const c = await relay.guest(uniq('after'));
		await c.ping();
		await c.close();
		const r = await httpGet(relay.port, '/healthz');
		assert.equal(r.status, 200);
	});
});
