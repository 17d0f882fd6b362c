'use strict';
/*
 * ops.test.js: operating the relay: SIGHUP reloads the configuration
 * (live directives applied, connections kept, the others logged and kept,
 * a broken file changing nothing), SIGTERM drains for drain_timeout, one
 * relay per port unless reuse_port, --test-config's look at the files, the
 * info lines of each connection's start, admission and end (never the
 * token), and log_format json.  src/server-reload.c (the reload),
 * src/server.c, src/listen.c (listen_probe), src/log.c.
 */

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const {
	BIN, SRCDIR, startRelay, rawConnect, httpGet, mintToken, uniq, sleep, waitFor,
} = require('./lib');

const WEB = path.join(SRCDIR, 'web');

/* A value as config-file.c reads it (what lib.js writes). */
function confValue(v) {
	if (v === true) return 'yes';
	if (v === false) return 'no';
	const s = String(v);
	if (s === '' || /[\s#"\\]/.test(s)) return `"${s.replace(/[\\"]/g, (c) => '\\' + c)}"`;
	return s;
}

/* Writes directives (and the web root lib.js always sets) as relay's file. */
function rewriteConf(relay, directives) {
	const all = { web_root: WEB, ...directives };
	const lines = Object.entries(all).map(([k, v]) => `${k} ${confValue(v)}`);
	fs.writeFileSync(relay.conf, lines.join('\n') + '\n');
}

/* How many times re occurs in the relay's output so far. */
function count(relay, re) {
	return (relay.stderr().match(new RegExp(re.source, 'g')) || []).length;
}

/* Sends SIGHUP and waits for the reload's last line ("reloaded" or "not reloaded"). */
async function reload(relay) {
	const done = /configuration (not )?reloaded/;
	const before = count(relay, done);
	process.kill(relay.pid, 'SIGHUP');
	await waitFor('the reload logged', () => ({
		done: count(relay, done) > before,
		seen: relay.stderr().slice(-1500),
	}), 5000);
	await sleep(450);	/* every worker's tick (200 ms) has taken it */
}

/* Sends n texts to ch at once; resolves with the answers. */
async function burst(c, ch, n) {
	const answers = [];
	for (let i = 0; i < n; i++) answers.push(c.call({ op: 'send', ch, text: `m${i}` }));
	return Promise.all(answers);
}

test('SIGHUP: live directives change without dropping a connection; the others are logged and kept', { timeout: 30000 }, async () => {
	const relay = await startRelay({ workers: 2, rate: 100, burst: 100, log_level: 'notice' });
	const ch = uniq('hup');
	const a = await relay.guest(uniq('stay'));
	assert.equal(a.welcome.limits.rate, 100);
	await a.join(ch);
	const before = await burst(a, ch, 5);
	assert.deepEqual(before.map((r) => r.op), ['ok', 'ok', 'ok', 'ok', 'ok']);
	assert.doesNotMatch(relay.stderr(), /\[info\] connect /);

	rewriteConf(relay, { workers: 4, rate: 1, burst: 2, log_level: 'info', history_size: 7 });
	await reload(relay);
	const out = relay.stderr();
	assert.match(out, /\[notice\] rate: 100 -> 1\n/);
	assert.match(out, /\[notice\] burst: 100 -> 2\n/);
	assert.match(out, /\[notice\] log_level: notice -> info\n/);
	assert.match(out, /\[notice\] workers: needs a restart; kept 2\n/);
	assert.match(out, /\[notice\] history_size: needs a restart; kept 100\n/);
	assert.match(out, /configuration reloaded: 3 directives changed/);
	/* --port is on the command line, which still wins over the file. */
	assert.doesNotMatch(out, /port: /);

	/* The connection from before is still open, and under the new limit. */
	assert.ok(a.isOpen);
	await a.ping();
	const after = await burst(a, ch, 5);
	const limited = after.filter((r) => r.op === 'err' && r.code === 'rate_limited').length;
	assert.ok(limited >= 3, `rate_limited ${limited} of 5: ${JSON.stringify(after)}`);

	/* New connections are told the new limits, and logged at info. */
	const b = await relay.guest(uniq('new'));
	assert.equal(b.welcome.limits.rate, 1);
	assert.equal(b.welcome.limits.burst, 2);
	await waitFor('the connect line at info', () => ({
		done: /\[info\] connect session=\d+ peer=127\.0\.0\.1:\d+ path=\/ws\n/.test(relay.stderr()),
		seen: relay.stderr().slice(-800),
	}));
	assert.ok(relay.alive);
});

test('SIGHUP: a broken file changes nothing, and the relay keeps running', { timeout: 30000 }, async () => {
	const relay = await startRelay({ rate: 50, burst: 60 });
	const a = await relay.guest(uniq('keep'));
	fs.writeFileSync(relay.conf, `web_root ${confValue(WEB)}\nrate 5\nrate five\nnosuch 1\n`);
	await reload(relay);
	const out = relay.stderr();
	assert.match(out, /\[err\] .*chatrelay\.conf:3: rate: "five" is not a whole number/);
	assert.match(out, /\[err\] .*chatrelay\.conf:4: unknown directive "nosuch"/);
	assert.match(out, /\[err\] configuration not reloaded: 2 errors; everything stays as it was/);
	assert.doesNotMatch(out, /rate: 50 -> 5/);
	const b = await relay.guest(uniq('new'));
	assert.equal(b.welcome.limits.rate, 50);
	await a.ping();

	/* A file that went away: the same. */
	fs.unlinkSync(relay.conf);
	await reload(relay);
	assert.match(relay.stderr(), /configuration not reloaded: the file cannot be read/);
	await a.ping();
	assert.ok(relay.alive);
	rewriteConf(relay, { rate: 50, burst: 60 });
});

test('SIGHUP: filter_file and secret: the filter applies at once; a changed secret is kept and never logged', { timeout: 30000 }, async () => {
	const secret = 'first-secret-0123456789abcdef0123456789';
	const relay = await startRelay({ secret });
	const ch = uniq('flt');
	const a = await relay.withToken(mintToken(secret, { sub: uniq('p') }));
	await a.join(ch);
	assert.equal((await a.call({ op: 'send', ch, text: 'a darn shame' })).op, 'ok');

	const words = path.join(relay.dir, 'words.txt');
	fs.writeFileSync(words, 'darn\n');
	const other = 'second-secret-zyxwvutsrqponmlkjihgfedcba';
	rewriteConf(relay, { secret: other, filter_file: words });
	await reload(relay);
	const out = relay.stderr();
	assert.match(out, /word filter: 1 entries from .*words\.txt \(refuse\)/);
	assert.match(out, /secret: changed, but needs a restart; the value in force is kept/);
	assert.ok(!out.includes(secret) && !out.includes(other), 'a secret was logged');
	const r = await a.call({ op: 'send', ch, text: 'a darn shame' });
	assert.equal(r.code, 'filtered', JSON.stringify(r));
	/* The old secret still signs the tokens taken. */
	await relay.withToken(mintToken(secret, { sub: uniq('p') }));
});

test('SIGTERM drains: bye 1001 with reconnect_ms, /healthz 503, and exit once drain_timeout is over', { timeout: 30000 }, async () => {
	const relay = await startRelay({ workers: 2, drain_timeout: '5s' });
	const a = await relay.guest(uniq('bye'));
	/* A client that reads but never answers the relay's CLOSE. */
	const raw = await rawConnect(relay.port);
	raw.send(1, JSON.stringify({ op: 'auth', name: uniq('mute') }));
	assert.equal(JSON.parse((await raw.nextFrame()).payload).op, 'welcome');

	const t0 = Date.now();
	process.kill(relay.pid, 'SIGTERM');
	const bye = await a.next('bye', 3000);
	assert.equal(bye.code, 1001);
	assert.equal(bye.reason, 'server shutting down');
	assert.ok(bye.reconnect_ms >= 1000 && bye.reconnect_ms < 5000, JSON.stringify(bye));
	assert.equal((await a.closed).code, 1001);
	const rawBye = JSON.parse((await raw.nextFrame()).payload);
	assert.equal(rawBye.op, 'bye');
	assert.equal(rawBye.code, 1001);
	assert.equal((await raw.nextFrame()).opcode, 8);	/* the CLOSE, unanswered */

	/* Past the usual 3 s: still draining, and saying so. */
	await sleep(3500 - (Date.now() - t0));
	assert.ok(relay.alive, `exited ${Date.now() - t0} ms after SIGTERM`);
	const h = await httpGet(relay.port, '/healthz');
	assert.equal(h.status, 503);
	assert.equal(JSON.parse(h.body).status, 'draining');
	/* A new WebSocket is refused while draining. */
	await assert.rejects(relay.guest(uniq('late')));

	relay.expectedExit = true;
	const { code } = await relay.exited;
	const took = Date.now() - t0;
	assert.equal(code, 0, relay.stderr().slice(-2000));
	assert.ok(took < 5000 + 1500, `exited ${took} ms after SIGTERM`);
	assert.match(relay.stderr(), /have 5000 ms to close/);
	raw.sock.destroy();
});

test('SIGTERM with drain_timeout 1s: a client that does not close holds the relay 1 s, not 3', { timeout: 30000 }, async () => {
	const relay = await startRelay({ drain_timeout: '1s' });
	const raw = await rawConnect(relay.port);
	raw.send(1, JSON.stringify({ op: 'auth', name: uniq('mute') }));
	await raw.nextFrame();
	raw.sock.pause();	/* reads nothing more: the bye and the CLOSE wait */
	const t0 = Date.now();
	const code = await relay.stop('SIGTERM', 10000);
	const took = Date.now() - t0;
	assert.equal(code, 0, relay.stderr().slice(-2000));
	assert.ok(took >= 900 && took < 2500, `exited ${took} ms after SIGTERM`);
	raw.sock.destroy();
});

test('SIGTERM twice: the second ends the drain at once', { timeout: 30000 }, async () => {
	const relay = await startRelay({ drain_timeout: '20s' });
	const raw = await rawConnect(relay.port);
	raw.send(1, JSON.stringify({ op: 'auth', name: uniq('mute') }));
	await raw.nextFrame();
	process.kill(relay.pid, 'SIGTERM');
	await sleep(500);
	assert.ok(relay.alive);
	const t0 = Date.now();
	const code = await relay.stop('SIGTERM', 10000);
	assert.equal(code, 0, relay.stderr().slice(-2000));
	assert.ok(Date.now() - t0 < 1500, `exited ${Date.now() - t0} ms after the second SIGTERM`);
	assert.match(relay.stderr(), /received Terminated again: stopping without waiting/);
	raw.sock.destroy();
});

/* Runs the relay with args until it exits (or timeoutMs): {code, out}. */
function runRelay(args, timeoutMs = 5000, cwd = os.tmpdir()) {
	return new Promise((resolve) => {
		const p = spawn(BIN, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
		let out = '';
		p.stdout.on('data', (d) => { out += d; });
		p.stderr.on('data', (d) => { out += d; });
		const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
		p.on('exit', (code, signal) => {
			clearTimeout(timer);
			resolve({ code, signal, out });
		});
	});
}

/* Resolves true once something accepts TCP connections on port. */
function accepts(port) {
	return new Promise((resolve) => {
		const s = net.connect({ host: '127.0.0.1', port });
		s.once('connect', () => { s.destroy(); resolve(true); });
		s.once('error', () => resolve(false));
	});
}

test('one relay per port: a second one refuses (exit 1, naming the address and port); reuse_port yes shares it', { timeout: 30000 }, async () => {
	const relay = await startRelay({ workers: 2 });
	const r = await runRelay(['-c', relay.conf, '--port', String(relay.port)]);
	assert.equal(r.code, 1, r.out);
	assert.match(r.out, new RegExp(`\\[err\\] address 127\\.0\\.0\\.1 port ${relay.port} is already in use by another ` +
	    'process: not starting \\(set reuse_port yes'));

	/* Some other program on a port: refused too. */
	const other = net.createServer();
	await new Promise((resolve) => other.listen(0, '127.0.0.1', resolve));
	const taken = other.address().port;
	const r2 = await runRelay(['-c', relay.conf, '--port', String(taken)]);
	other.close();
	assert.equal(r2.code, 1, r2.out);
	assert.match(r2.out, new RegExp(`port ${taken} is already in use`));

	/* On purpose: both run, and both serve. */
	const second = spawn(BIN, ['-c', relay.conf, '--port', String(relay.port), '--reuse_port', 'yes',
	    '--node', 'second'], { cwd: relay.dir, stdio: ['ignore', 'pipe', 'pipe'] });
	let out = '';
	second.stderr.on('data', (d) => { out += d; });
	const exited = new Promise((resolve) => second.on('exit', (code) => resolve(code)));
	try {
		await waitFor('the second relay listening', () => ({ done: /listening on/.test(out), seen: out }));
		const nodes = new Set();
		for (let i = 0; i < 40 && nodes.size < 2; i++) {
			const h = await httpGet(relay.port, '/healthz');
			nodes.add(JSON.parse(h.body).node);
		}
		assert.ok(nodes.has('second'), `only ${[...nodes]} answered`);
		assert.ok(relay.alive);
		second.kill('SIGTERM');
		assert.equal(await exited, 0, out);
	} finally {
		second.kill('SIGKILL');
	}
	assert.ok(await accepts(relay.port));
	await (await relay.guest(uniq('still'))).ping();
});

test('--test-config: missing TLS files and web root fail (exit 1); a short secret is a warning (exit 0)', { timeout: 30000 }, async () => {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatrelay-ops-'));
	const conf = (text) => {
		const f = path.join(dir, 'c.conf');
		fs.writeFileSync(f, text);
		return f;
	};
	const run = (file) => spawnSync(BIN, ['--test-config', '-c', file], { cwd: dir, encoding: 'utf8' });
	try {
		let r = run(conf(`web_root ${WEB}\ntls_cert ${dir}/no-cert.pem\ntls_key ${dir}/no-key.pem\n`));
		assert.equal(r.status, 1, r.stderr);
		assert.match(r.stderr, /tls_cert .*no-cert\.pem: No such file or directory/);
		assert.match(r.stderr, /tls_key .*no-key\.pem: No such file or directory/);
		assert.match(r.stderr, /configuration has 2 errors/);
		assert.equal(r.stdout, '');

		r = run(conf(`web_root ${dir}/no-web\n`));
		assert.equal(r.status, 1, r.stderr);
		assert.match(r.stderr, /web_root .*no-web: No such file or directory/);

		r = run(conf(`web_root ${WEB}\nsecret short-one\n`));
		assert.equal(r.status, 0, r.stderr);
		assert.equal(r.stdout, 'configuration OK\n');
		assert.match(r.stderr, /warning: secret is 9 bytes long; use 32 or more/);
		assert.ok(!r.stderr.includes('short-one'));

		/* The relay itself refuses to start without its TLS files. */
		const s = await runRelay(['-c', conf(`web_root ${WEB}\ntls_cert /nonexistent.pem\ntls_key /nonexistent.key\n`),
		    '--port', '1']);
		assert.equal(s.code, 1, s.out);
		assert.match(s.out, /\[err\] tls_cert \/nonexistent\.pem: No such file or directory/);
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
});

test('start-up: the config file, the web root (absolute), TLS and the bus are logged; web_root "" finds web/', { timeout: 20000 }, async () => {
	const relay = await startRelay({ web_root: '' });
	const out = relay.stderr();
	assert.match(out, new RegExp(`\\[notice\\] configuration: ${relay.conf.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n`));
	/* Started in its own directory, where there is no web/: the installed one. */
	assert.match(out, /\[notice\] web root: \/\S*\/web\n/);
	assert.match(out, /\[notice\] TLS: off/);
	assert.match(out, /\[notice\] bus: local/);

	const here = await runRelay(['--port', '1', '--test-config', '--web_root', ''], 5000, SRCDIR);
	assert.equal(here.code, 0, here.out);	/* from the source tree: ./web */
});

test('info lines: connect, auth (never the token) and disconnect with code, reason, who and how long', { timeout: 30000 }, async () => {
	const secret = 'info-secret-0123456789abcdef0123456789ab';
	const relay = await startRelay({ secret, log_level: 'info' });
	const sub = uniq('inf');
	const token = mintToken(secret, { sub, role: 'moderator' });
	const a = await relay.withToken(token);
	const session = a.welcome.session;
	await sleep(50);
	await a.close(1000);
	const b = await relay.withToken(mintToken(secret, { sub: uniq('bin') }));
	b.sendRaw(Buffer.from([1, 2]), { binary: true });
	await b.closed;
	const c = await relay.ws();
	c.terminate();
	await waitFor('three disconnect lines', () => ({
		done: count(relay, /\[info\] disconnect /) >= 3,
		seen: relay.stderr().slice(-2000),
	}));
	const out = relay.stderr();
	assert.match(out, new RegExp(`\\[info\\] connect session=${session} peer=127\\.0\\.0\\.1:\\d+ path=/ws\\n`));
	assert.match(out, new RegExp(`\\[info\\] auth session=${session} user=${sub} role=moderator path=/ws\\n`));
	assert.match(out, new RegExp(`\\[info\\] disconnect session=${session} user=${sub} code=1000 reason="" by=client ` +
	    'duration_ms=\\d+\\n'));
	assert.match(out, /\[info\] disconnect session=\d+ user=bin_\d+ code=1003 reason="binary frames are not accepted" by=relay duration_ms=\d+\n/);
	assert.match(out, /\[info\] disconnect session=\d+ code=1006 reason="connection lost" by=network duration_ms=\d+\n/);
	assert.ok(!out.includes(token), 'the token was logged');
	assert.ok(!out.includes(token.split('.')[2]), 'the token\'s signature was logged');
});

test('log_format json: every line is one JSON object with ts, level and msg; events carry their fields', { timeout: 30000 }, async () => {
	const relay = await startRelay({ log_format: 'json', log_level: 'info', workers: 2 });
	const name = 'q"uo\\te';
	const reason = 'd\u00e9j\u00e0 "vu" \\ \n\u0001';
	const a = await relay.guest(name);
	a.ws.close(4000, reason);
	await a.closed;
	await relay.ws();	/* still open at the drain */
	await sleep(100);
	process.kill(relay.pid, 'SIGHUP');
	await waitFor('the reload', () => ({ done: /configuration reloaded/.test(relay.stderr()), seen: relay.stderr().slice(-500) }));
	const code = await relay.stop('SIGTERM', 10000);
	assert.equal(code, 0);
	const lines = relay.stderr().split('\n').filter((l) => l !== '');
	assert.ok(lines.length > 8, relay.stderr());
	const objs = lines.map((l) => {
		try {
			return JSON.parse(l);
		} catch (e) {
			throw new Error(`not JSON: ${l}`);
		}
	});
	for (const o of objs) {
		assert.match(o.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
		assert.ok(['err', 'warn', 'notice', 'info', 'debug'].includes(o.level), JSON.stringify(o));
		assert.equal(typeof o.msg, 'string');
	}
	const connect = objs.find((o) => o.msg === 'connect');
	assert.equal(typeof connect.session, 'number');
	assert.match(connect.peer, /^127\.0\.0\.1:\d+$/);
	assert.equal(connect.path, '/ws');
	const auth = objs.find((o) => o.msg === 'auth');
	assert.equal(auth.user, `guest:${name}`);
	const bye = objs.find((o) => o.msg === 'disconnect' && o.code === 4000);
	assert.equal(bye.by, 'client');
	assert.equal(bye.reason, reason);
	assert.equal(bye.user, `guest:${name}`);
	assert.equal(typeof bye.duration_ms, 'number');
	assert.ok(objs.some((o) => o.msg === 'disconnect' && o.code === 1001 && o.reason === 'server shutting down'));
	assert.ok(objs.some((o) => /^chatrelay .* listening on/.test(o.msg)));
});
