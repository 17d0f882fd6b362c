'use strict';
/*
 * http.test.js: /healthz, static files from web_root (content types,
 * validators, conditional GET, Cache-Control, HEAD), and no way out of it.
 */

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
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

/*
 * One raw HTTP/1.1 request (Connection: close) with extra headers; resolves
 * {status, headers (lower-case names), body, raw}.
 */
async function raw(port, method, target, headers = {}) {
	let text = `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: close\r\n`;
	for (const [k, v] of Object.entries(headers)) text += `${k}: ${v}\r\n`;
	const r = await rawHttp(port, text + '\r\n');
	const end = r.raw.indexOf('\r\n\r\n');
	assert.ok(end > 0, `no complete response to ${method} ${target}: ${JSON.stringify(r.raw.slice(0, 200))}`);
	const lines = r.raw.slice(0, end).split('\r\n');
	const h = {};
	for (const l of lines.slice(1)) {
		const i = l.indexOf(':');
		h[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
	}
	return { status: r.status, headers: h, body: r.raw.slice(end + 4), raw: r.raw };
}

describe('static files: types, validators, conditional GET, caching', () => {
	let relay;
	let web;
	const files = {
		'index.html': ['<!doctype html><p>home</p>\n', 'text/html; charset=utf-8', 'no-cache'],
		'UPPER.HTML': ['<p>upper</p>\n', 'text/html; charset=utf-8', 'no-cache'],
		'style.css': ['body { color: red }\n', 'text/css; charset=utf-8', 'max-age=300'],
		'app.js': ['console.log(1);\n', 'text/javascript; charset=utf-8', 'max-age=300'],
		'data.json': ['{"a":1}\n', 'application/json', 'max-age=300'],
		'logo.svg': ['<svg xmlns="http://www.w3.org/2000/svg"/>\n', 'image/svg+xml', 'max-age=300'],
		'pic.png': [Buffer.from('89504e470d0a1a0a0000', 'hex'), 'image/png', 'max-age=300'],
		'favicon.ico': [Buffer.from('00000100010010', 'hex'), 'image/x-icon', 'max-age=300'],
		'font.woff2': [Buffer.from('774f4632', 'hex'), 'font/woff2', 'max-age=300'],
		'notes.txt': ['plain notes\n', 'text/plain; charset=utf-8', 'max-age=300'],
		'blob.bin': [Buffer.from([0, 1, 2, 3]), 'application/octet-stream', 'max-age=300'],
	};
	before(async () => {
		web = fs.mkdtempSync(path.join(os.tmpdir(), 'chatrelay-static-'));
		// written an hour ago, so that a date after them is not in the future
		const t = Date.now() / 1000 - 3600;
		for (const [name, [body]] of Object.entries(files)) {
			fs.writeFileSync(path.join(web, name), body);
			fs.utimesSync(path.join(web, name), t, t);
		}
		relay = await startRelay({ web_root: web });
	});
	after(() => {
		if (web) fs.rmSync(web, { recursive: true, force: true });
	});

	test('each kind of file has its Content-Type and Cache-Control', T, async () => {
		for (const [name, [body, type, cache]] of Object.entries(files)) {
			const r = await raw(relay.port, 'GET', `/${name}`);
			assert.equal(r.status, 200, `${name}: ${r.raw.slice(0, 200)}`);
			assert.equal(r.headers['content-type'], type, name);
			assert.equal(r.headers['cache-control'], cache, name);
			assert.equal(r.headers['x-content-type-options'], 'nosniff', name);
			assert.equal(Number(r.headers['content-length']), Buffer.byteLength(body), name);
			assert.equal(Buffer.from(r.body, 'latin1').toString('hex'), Buffer.from(body).toString('hex'), name);
		}
		// "/" is index.html, with the same headers
		const r = await raw(relay.port, 'GET', '/');
		assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
		assert.equal(r.headers['cache-control'], 'no-cache');
		// what is not a file keeps no-store
		for (const p of ['/healthz', '/nope.css']) {
			const x = await raw(relay.port, 'GET', p);
			assert.equal(x.headers['cache-control'], 'no-store', p);
			assert.equal(x.headers.etag, undefined, p);
		}
	});

	test('ETag, Last-Modified and Date come with every file', T, async () => {
		const st = fs.statSync(path.join(web, 'style.css'));
		const r = await raw(relay.port, 'GET', '/style.css');
		assert.match(r.headers.etag, /^"[0-9a-f]+-[0-9a-f]+\.[0-9a-f]+"$/);
		assert.ok(r.headers.etag.startsWith(`"${st.size.toString(16)}-`), r.headers.etag);
		assert.equal(r.headers['last-modified'], new Date(Math.floor(st.mtimeMs / 1000) * 1000).toUTCString());
		assert.match(r.headers.date, /^[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT$/);
		assert.ok(Math.abs(Date.parse(r.headers.date) - Date.now()) < 5000, r.headers.date);
		// stable while the file does not change; distinct per file
		const again = await raw(relay.port, 'GET', '/style.css');
		assert.equal(again.headers.etag, r.headers.etag);
		const other = await raw(relay.port, 'GET', '/app.js');
		assert.notEqual(other.headers.etag, r.headers.etag);
	});

	test('If-None-Match: 304 for the current tag (strong, weak, in a list, *), 200 otherwise', T, async () => {
		const { headers: { etag } } = await raw(relay.port, 'GET', '/style.css');
		for (const inm of [etag, `W/${etag}`, `"nope", ${etag}`, `"a","b" , W/${etag}`, '*']) {
			const r = await raw(relay.port, 'GET', '/style.css', { 'If-None-Match': inm });
			assert.equal(r.status, 304, `If-None-Match: ${inm}: ${r.raw.slice(0, 300)}`);
			assert.match(r.raw, /^HTTP\/1\.1 304 Not Modified\r\n/);
			assert.equal(r.body, '', 'a 304 has no body');
			assert.equal(r.headers.etag, etag);
			assert.equal(r.headers['cache-control'], 'max-age=300');
			assert.ok(r.headers['last-modified']);
			assert.equal(r.headers['content-type'], undefined);
		}
		for (const inm of ['"nope"', etag.slice(0, -2) + '"', etag.replace(/^"/, ''), `${etag}x`.replace(/"x$/, 'x"')]) {
			const r = await raw(relay.port, 'GET', '/style.css', { 'If-None-Match': inm });
			assert.equal(r.status, 200, `If-None-Match: ${inm}`);
			assert.equal(r.body, files['style.css'][0]);
		}
		// html revalidates the same way, keeping no-cache
		const h = await raw(relay.port, 'GET', '/');
		const r = await raw(relay.port, 'GET', '/', { 'If-None-Match': h.headers.etag });
		assert.equal(r.status, 304);
		assert.equal(r.headers['cache-control'], 'no-cache');
	});

	test('If-Modified-Since: 304 when not modified since, 200 when older, invalid or in the future', T, async () => {
		const { headers } = await raw(relay.port, 'GET', '/app.js');
		const lm = headers['last-modified'];
		const r = await raw(relay.port, 'GET', '/app.js', { 'If-Modified-Since': lm });
		assert.equal(r.status, 304, r.raw.slice(0, 300));
		assert.equal(r.body, '');
		assert.equal(r.headers.etag, headers.etag);
		const later = new Date(Date.parse(lm) + 1000).toUTCString();
		assert.equal((await raw(relay.port, 'GET', '/app.js', { 'If-Modified-Since': later })).status, 304);
		// the obsolete date forms are understood too
		const d = new Date(Date.parse(lm));
		const asctime = d.toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/,
		    (_, wd, day, mon, y, t) => `${wd} ${mon} ${String(Number(day)).padStart(2, ' ')} ${t} ${y}`);
		assert.equal((await raw(relay.port, 'GET', '/app.js', { 'If-Modified-Since': asctime })).status, 304, asctime);

		const earlier = new Date(Date.parse(lm) - 1000).toUTCString();
		const future = new Date(Date.now() + 3600 * 1000).toUTCString();
		for (const ims of [earlier, 'yesterday', '0', future]) {
			const x = await raw(relay.port, 'GET', '/app.js', { 'If-Modified-Since': ims });
			assert.equal(x.status, 200, `If-Modified-Since: ${ims}`);
			assert.equal(x.body, files['app.js'][0]);
		}
		// If-None-Match wins over If-Modified-Since
		const x = await raw(relay.port, 'GET', '/app.js', { 'If-None-Match': '"other"', 'If-Modified-Since': lm });
		assert.equal(x.status, 200);
	});

	test('after the file changes: 200 with new validators for the old ones', T, async () => {
		const file = path.join(web, 'notes.txt');
		const old = await raw(relay.port, 'GET', '/notes.txt');
		assert.equal((await raw(relay.port, 'GET', '/notes.txt', { 'If-None-Match': old.headers.etag })).status, 304);

		// the same size, a later mtime
		fs.writeFileSync(file, 'PLAIN NOTES\n');
		const t = Date.now() / 1000 + 5;
		fs.utimesSync(file, t, t);
		for (const h of [{ 'If-None-Match': old.headers.etag }, { 'If-Modified-Since': old.headers['last-modified'] }]) {
			const r = await raw(relay.port, 'GET', '/notes.txt', h);
			assert.equal(r.status, 200, JSON.stringify(h));
			assert.equal(r.body, 'PLAIN NOTES\n');
			assert.notEqual(r.headers.etag, old.headers.etag);
			assert.notEqual(r.headers['last-modified'], old.headers['last-modified']);
		}
		// another size, mtime set back to the old second: the tag still changes
		fs.writeFileSync(file, 'longer notes than before\n');
		const back = Date.parse(old.headers['last-modified']) / 1000;
		fs.utimesSync(file, back, back);
		const r = await raw(relay.port, 'GET', '/notes.txt', { 'If-None-Match': old.headers.etag });
		assert.equal(r.status, 200);
		assert.equal(r.body, 'longer notes than before\n');
		const now = await raw(relay.port, 'GET', '/notes.txt', { 'If-None-Match': r.headers.etag });
		assert.equal(now.status, 304);
	});

	test('HEAD: the headers of GET without the body; 304 too', T, async () => {
		const g = await raw(relay.port, 'GET', '/data.json');
		const r = await raw(relay.port, 'HEAD', '/data.json');
		assert.equal(r.status, 200, r.raw.slice(0, 300));
		assert.equal(r.body, '');
		for (const k of ['content-type', 'content-length', 'etag', 'last-modified', 'cache-control'])
			assert.equal(r.headers[k], g.headers[k], k);
		const c = await raw(relay.port, 'HEAD', '/data.json', { 'If-None-Match': g.headers.etag });
		assert.equal(c.status, 304);
		assert.equal(c.body, '');
		// the endpoints too: headers, no body
		const h = await raw(relay.port, 'HEAD', '/healthz');
		assert.equal(h.status, 200);
		assert.ok(Number(h.headers['content-length']) > 0);
		assert.equal(h.body, '');
	});

	test('keep-alive: conditional and HEAD answers leave the connection usable', T, async () => {
		const { headers: { etag } } = await raw(relay.port, 'GET', '/style.css');
		const req = (m, p, extra = '') => `${m} ${p} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}\r\n`;
		// pipelined; the last one closes the connection, which ends the read
		const r = await new Promise((resolve, reject) => {
			const sock = net.connect({ host: '127.0.0.1', port: relay.port });
			const chunks = [];
			const timer = setTimeout(() => { sock.destroy(); reject(new Error('no close')); }, 5000);
			sock.on('connect', () => sock.write(req('GET', '/style.css', `If-None-Match: ${etag}\r\n`) +
			    req('HEAD', '/app.js') + req('GET', '/notes.txt', 'Connection: close\r\n')));
			sock.on('data', (d) => chunks.push(d));
			sock.on('error', reject);
			sock.on('close', () => { clearTimeout(timer); resolve({ raw: Buffer.concat(chunks).toString('latin1') }); });
		});
		const statuses = [...r.raw.matchAll(/^HTTP\/1\.1 (\d{3})/gm)].map((m) => Number(m[1]));
		assert.deepEqual(statuses, [304, 200, 200], r.raw);
		assert.ok(r.raw.endsWith(fs.readFileSync(path.join(web, 'notes.txt'), 'latin1')), r.raw);
	});
});
