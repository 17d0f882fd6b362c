'use strict';
/*
 * lib.js: helpers for the integration tests.  They drive the real chatrelay
 * daemon (CHATRELAY_BIN) with real WebSocket clients (the `ws` package).
 *
 *   startRelay(directives)  spawns a relay on a free loopback port with a
 *                           throwaway configuration file (relay.restart()
 *                           starts it again there, with the same file)
 *   connect(url, opts)      a WebSocket client with an inbox of parsed frames
 *   mintToken(...)          HS256 JWTs made with node:crypto (and bad ones)
 *   httpGet(port, path)     a plain HTTP request, path sent verbatim
 *   rawConnect(port, path)  a hand-made WebSocket handshake on a net socket
 *   startRedis({port})      a real redis-server (persistence off) on a free
 *                           loopback port, or on port (to restart one)
 *   startCluster(n, dirs)   one redis-server and n relays (nodes n1..nN) on it
 *   redisCommand(port, args) one command to a Redis over a fresh connection
 *                           (also redis.command(...args)), e.g. CLIENT KILL
 *   startSentinelSet(opts)  a master, its replicas and redis-sentinels
 *                           watching it, for relays with redis_sentinel
 *                           (findRedisSentinel() says whether it can run)
 *   waitFor(what, fn)       polls until fn says done (or fails saying what)
 *   who(c, ch)              a who on client c: {count, ids, raw}
 *
 * Every relay and client started through this module is stopped by a root
 * `after` hook (and killed on process exit), so nothing outlives the file.
 * The after hook also stops each relay with SIGTERM and fails the file if a
 * relay does not exit with status 0 (a crash, a sanitizer report, a hang).
 * redis-servers (and redis-sentinels) are killed (SIGKILL) after the relays
 * have been stopped.
 */

const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const util = require('node:util');
const { after } = require('node:test');
const WebSocket = require('ws');

const SRCDIR = process.env.CHATRELAY_SRCDIR || path.resolve(__dirname, '..', '..');
const BIN = process.env.CHATRELAY_BIN || path.join(SRCDIR, 'src', 'chatrelay');
const VERBOSE = !!process.env.CHATRELAY_TEST_VERBOSE;
const LOG_KEEP = 1 << 20;	/* bytes of relay output kept in memory */

const relays = new Set();	/* every relay started, until it has exited and been reaped */
const clients = new Set();	/* every client still open */
const redises = new Set();	/* every redis-server started, until the after hook killed it */

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/*
 * Resolves like promise, or with onTimeout after ms, whichever comes first;
 * the timer is cleared either way, so it never keeps the process alive.
 */
function withTimeout(promise, ms, onTimeout = null) {
	let timer;
	const t = new Promise((resolve) => { timer = setTimeout(() => resolve(onTimeout), ms); });
	return Promise.race([promise, t]).finally(() => clearTimeout(timer));
}

let uniqCounter = 0;
/* A fresh name (valid as a guest name and a user id): prefix_N. */
function uniq(prefix = 'u') {
	uniqCounter += 1;
	return `${prefix}_${uniqCounter}`;
}

/* ------------------------------------------------------------------ relay */

/*
 * A free loopback port for a server of the tests.  Not the kernel's choice
 * (port 0): that comes from the ephemeral range, where two test files
 * running at once (run.sh's --test-concurrency) can be handed the same one
 * a moment apart, and two relays would then share it through SO_REUSEPORT.
 * A random port below the ephemeral range instead, never one this process
 * handed out before, checked free by binding it.
 */
const portsGiven = new Set();
function tryPort(port) {
	return new Promise((resolve) => {
		const srv = net.createServer();
		srv.unref();
		srv.once('error', () => resolve(false));
		srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
	});
}
async function freePort() {
	for (let i = 0; i < 200; i++) {
		const port = 15000 + crypto.randomInt(17000);
		if (portsGiven.has(port)) continue;
		if (await tryPort(port)) {
			portsGiven.add(port);
			return port;
		}
	}
	throw new Error('no free port found in 15000-31999');
}

function tcpProbe(port) {
	return new Promise((resolve) => {
		const s = net.connect({ host: '127.0.0.1', port });
		s.once('connect', () => { s.destroy(); resolve(true); });
		s.once('error', () => { s.destroy(); resolve(false); });
	});
}

function formatValue(v) {
	if (v === true) return 'yes';
	if (v === false) return 'no';
	const s = String(v);
	/* config-file.c: a value with a blank, '#' or '"' (or none) goes in quotes, \" and \\ escaped */
	if (s === '' || /[\s#"\\]/.test(s)) return `"${s.replace(/[\\"]/g, (c) => '\\' + c)}"`;
	return s;
}

function tail(s, n = 4000) {
	return s.length > n ? '...' + s.slice(-n) : s;
}

/* Resident set size in kB of pid and all its descendants (threads share it). */
function treeRssKb(pid) {
	const seen = new Set();
	let total = 0;
	const visit = (p) => {
		if (seen.has(p)) return;
		seen.add(p);
		try {
			const st = fs.readFileSync(`/proc/${p}/status`, 'utf8');
			const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(st);
			if (m) total += Number(m[1]);
		} catch { return; }
		let tasks = [];
		try { tasks = fs.readdirSync(`/proc/${p}/task`); } catch { /* gone */ }
		for (const t of tasks) {
			let kids = '';
			try { kids = fs.readFileSync(`/proc/${p}/task/${t}/children`, 'utf8'); } catch { /* none */ }
			for (const k of kids.split(/\s+/).filter(Boolean)) visit(Number(k));
		}
	};
	visit(pid);
	return total;
}

class Relay {
	constructor(proc, port, dir, conf) {
		this.proc = proc;
		this.pid = proc.pid;
		this.port = port;
		this.url = `ws://127.0.0.1:${port}`;
		this.dir = dir;
		this.conf = conf;
		this.output = '';
		this.exitInfo = null;	/* {code, signal} once exited */
		this.expectedExit = false;
		const keep = (chunk) => {
			this.output += chunk.toString('utf8');
			if (this.output.length > 2 * LOG_KEEP) this.output = this.output.slice(-LOG_KEEP);
			if (VERBOSE) process.stderr.write(chunk);
		};
		proc.stderr.on('data', keep);
		proc.stdout.on('data', keep);
		this.exited = new Promise((resolve) => {
			proc.on('exit', (code, signal) => {
				this.exitInfo = { code, signal };
				resolve(this.exitInfo);
			});
		});
	}

	/* The relay's stderr and stdout so far. */
	stderr() { return this.output; }

	get alive() { return this.exitInfo === null; }

	/*
	 * Sends signal and waits for the process to exit; resolves with its
	 * exit status (null if a signal ended it: see exitInfo).  If it has not
	 * exited within timeoutMs it is killed and the promise rejects.
	 */
	async stop(signal = 'SIGTERM', timeoutMs = 10000) {
		this.expectedExit = true;
		if (this.alive) {
			try { this.proc.kill(signal); } catch { /* already gone */ }
			let timer;
			const timedOut = new Promise((resolve) => { timer = setTimeout(() => resolve(null), timeoutMs); });
			const r = await Promise.race([this.exited, timedOut]);
			clearTimeout(timer);
			if (r === null) {
				this.kill();
				await this.exited;
				throw new Error(`relay pid ${this.pid} did not exit within ${timeoutMs} ms of ${signal}; ` +
				    `output:\n${tail(this.output)}`);
			}
		}
		return this.exitInfo.code;
	}

	/* SIGKILL, no questions asked. */
	kill() {
		this.expectedExit = true;
		if (this.alive) {
			try { this.proc.kill('SIGKILL'); } catch { /* already gone */ }
		}
	}

	/* VmRSS of the relay (and any child processes), in kB. */
	rssKb() { return treeRssKb(this.pid); }

	/* A client on this relay's /ws (or another path). */
	ws(opts = {}) {
		const p = opts.path ?? '/ws';
		return connect(this.url + p, opts);
	}

	/* A client on /ws, authenticated in open mode as name. */
	async guest(name, opts = {}) {
		const c = await this.ws(opts);
		c.welcome = await c.auth(name);
		return c;
	}

	/*
	 * A moderator (role moderator, a fresh user id) on /admin, with a
	 * token signed with secret; resolves once welcomed.
	 */
	async moderator(secret, timeoutMs = 3000) {
		const c = await this.ws({ path: `/admin?token=${mintToken(secret, { sub: uniq('mod'), role: 'moderator' })}` });
		c.welcome = await c.next('welcome', timeoutMs);
		return c;
	}

	/* A client on /ws authenticated with token via ?token=. */
	async withToken(token, opts = {}) {
		const c = await this.ws({ ...opts, path: `/ws?token=${encodeURIComponent(token)}` });
		c.welcome = await c.next('welcome');
		return c;
	}

	/*
	 * GET /healthz: resolves {status, body} where body is the parsed JSON
	 * (null if it is not JSON) and raw the text.
	 */
	async health() {
		const r = await httpGet(this.port, '/healthz');
		let body = null;
		try { body = JSON.parse(r.body); } catch { /* not JSON */ }
		return { status: r.status, body, raw: r.body };
	}

	/*
	 * Polls /healthz until its "bus" is bus ("redis", "down", "local");
	 * resolves with the last health().  Throws after timeoutMs, saying what
	 * /healthz said last.
	 */
	async waitBus(bus, timeoutMs = 15000) {
		const deadline = Date.now() + timeoutMs;
		let last = null;
		for (;;) {
			if (!this.alive) {
				throw new Error(`${this.describeExit()} while waiting for /healthz bus "${bus}"; output:\n` +
				    tail(this.output));
			}
			try {
				last = await this.health();
				if (last.body && last.body.bus === bus) return last;
			} catch (e) {
				last = { error: e.message };
			}
			if (Date.now() > deadline) {
				throw new Error(`relay on port ${this.port}: /healthz did not report bus "${bus}" within ` +
				    `${timeoutMs} ms; last answer: ${JSON.stringify(last)}`);
			}
			await sleep(100);
		}
	}

	/*
	 * Starts this relay again, with the same configuration file, on the
	 * same port (where its clients will look for it), stopping it first
	 * (SIGTERM) if it still runs.  Resolves with the new Relay once it
	 * accepts connections.
	 */
	async restart() {
		if (this.alive) await this.stop('SIGTERM');
		this.restarted = true;	/* its directory is the new relay's */
		for (let attempt = 1; ; attempt++) {
			try {
				return await startOnce(null, this);
			} catch (e) {
				/* the port may be held for a moment */
				if (!e.retryable || attempt >= 5) throw e;
				await sleep(200 * attempt);
			}
		}
	}

	describeExit() {
		if (!this.exitInfo) return `relay pid ${this.pid} is running`;
		return `relay pid ${this.pid} exited (code ${this.exitInfo.code}, signal ${this.exitInfo.signal})`;
	}
}

/*
 * Kills the relay if this process dies without running its exit handlers
 * (a crash of the test runner itself): a detached shell polls both pids.
 */
function watchdog(relayPid) {	/* also used for redis-server */
	try {
		const w = spawn('/bin/sh', ['-c',
		    'while kill -0 "$1" 2>/dev/null && kill -0 "$2" 2>/dev/null; do sleep 1; done; kill -9 "$2" 2>/dev/null',
		    'watchdog', String(process.pid), String(relayPid)], { detached: true, stdio: 'ignore' });
		w.unref();
	} catch { /* best effort */ }
}

/*
 * Spawns a relay with directives written to a fresh configuration file, on
 * a free port; or, with again (a Relay), with that relay's file and
 * directory on its port.
 */
async function startOnce(directives, again = null) {
	let dir, conf, lines, port;
	if (again) {
		({ dir, conf, port } = again);
		lines = fs.readFileSync(conf, 'utf8').split('\n');
	} else {
		dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatrelay-test-'));
		conf = path.join(dir, 'chatrelay.conf');
		const all = { web_root: path.join(SRCDIR, 'web'), ...directives };
		lines = ['# written by tests/integration/lib.js'];
		for (const [k, v] of Object.entries(all)) {
			if (v === undefined || v === null) continue;
			lines.push(`${k} ${formatValue(v)}`);
		}
		fs.writeFileSync(conf, lines.join('\n') + '\n');
		port = await freePort();
	}
	if (!fs.existsSync(BIN)) throw new Error(`relay binary ${BIN} does not exist (set CHATRELAY_BIN)`);
	const proc = spawn(BIN, ['-c', conf, '--port', String(port)], {
		cwd: dir,
		stdio: ['ignore', 'pipe', 'pipe'],
	});
	const relay = new Relay(proc, port, dir, conf);
	relays.add(relay);
	watchdog(proc.pid);
	const spawnError = new Promise((resolve) => proc.once('error', (e) => resolve(e)));

	const deadline = Date.now() + 10000;
	for (;;) {
		if (!relay.alive) {
			relays.delete(relay);
			const e = new Error(`relay exited during start (code ${relay.exitInfo.code}, signal ` +
			    `${relay.exitInfo.signal}); config:\n${lines.join('\n')}\noutput:\n${tail(relay.output)}`);
			e.retryable = /address|in use|bind/i.test(relay.output);
			throw e;
		}
		const err = await Promise.race([spawnError, sleep(0).then(() => null)]);
		if (err) {
			relays.delete(relay);
			throw new Error(`cannot run ${BIN}: ${err.message}`);
		}
		if (await tcpProbe(port)) break;
		if (Date.now() > deadline) {
			relay.kill();
			throw new Error(`relay did not accept connections on port ${port} within 10 s; output:\n` +
			    tail(relay.output));
		}
		await sleep(50);
	}
	return relay;
}

/*
 * Starts a relay with the given directives (written to a config file, one
 * "name value" a line) on a free loopback port.  Resolves once it accepts TCP
 * connections.
 */
async function startRelay(directives = {}) {
	for (let attempt = 1; ; attempt++) {
		try {
			return await startOnce(directives);
		} catch (e) {
			if (!e.retryable || attempt >= 3) throw e;
		}
	}
}

/* Relays that died without being asked to: shown in client error messages. */
function unexpectedDeaths() {
	const out = [];
	for (const r of relays) {
		if (!r.alive && !r.expectedExit) {
			out.push(`${r.describeExit()}; output:\n${tail(r.output, 2000)}`);
		}
	}
	for (const r of redises) {
		if (!r.alive && !r.expectedExit) {
			out.push(`${r.describeExit()}; output:\n${tail(r.output, 2000)}`);
		}
	}
	return out.length ? '\n' + out.join('\n') : '';
}

/* ------------------------------------------------------------------ redis */

/*
 * The cluster tests run a real redis-server: REDIS_SERVER if set, else the
 * first redis-server on PATH (or in the usual sbin directories).  There is
 * no skipping: without it the tests fail, saying what to install.
 */
function findRedisServer() {
	const explicit = process.env.REDIS_SERVER;
	const usable = (p) => {
		try {
			fs.accessSync(p, fs.constants.X_OK);
			return fs.statSync(p).isFile();
		} catch {
			return false;
		}
	};
	if (explicit) {
		if (usable(explicit)) return explicit;
		throw new Error(`REDIS_SERVER=${explicit} is not an executable file; the cluster tests need ` +
		    'redis-server: install the redis-server package (e.g. apt-get install redis-server)');
	}
	const dirs = (process.env.PATH || '').split(':').filter(Boolean)
	    .concat(['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']);
	for (const d of dirs) {
		const p = path.join(d, 'redis-server');
		if (usable(p)) return p;
	}
	throw new Error('redis-server is not installed (not found on PATH): the cluster tests need a real ' +
	    'Redis; install the redis-server package (e.g. apt-get install redis-server, or your ' +
	    'system\'s equivalent) or set REDIS_SERVER to the path of a redis-server binary');
}

/* One command as a RESP array of bulk strings. */
function respEncode(args) {
	const parts = [`*${args.length}\r\n`];
	for (const a of args) parts.push(`$${Buffer.byteLength(String(a))}\r\n${a}\r\n`);
	return parts.join('');
}

/*
 * Resolves true if a Redis on port answers PING with +PONG (after AUTH
 * password, if given: a wrong or missing password answers false).
 */
function redisPing(port, timeoutMs = 1000, password = undefined) {
	return new Promise((resolve) => {
		let buf = '';
		let done = false;
		const s = net.connect({ host: '127.0.0.1', port });
		const finish = (v) => {
			if (done) return;
			done = true;
			clearTimeout(timer);
			s.destroy();
			resolve(v);
		};
		const timer = setTimeout(() => finish(false), timeoutMs);
		s.on('connect', () => s.write((password ? respEncode(['AUTH', password]) : '') + 'PING\r\n'));
		s.on('data', (d) => {
			buf += d.toString('latin1');
			const lines = buf.split('\r\n').slice(0, -1);
			if (lines.some((l) => l.startsWith('-'))) finish(false);
			else if (lines.includes('+PONG')) finish(true);
		});
		s.on('error', () => finish(false));
		s.on('close', () => finish(false));
	});
}

/*
 * Parses one RESP reply at buf[off...]: resolves {value, off} past it, or
 * null if buf does not hold all of it yet.  Values: a string (simple or
 * bulk), a number (integer), null, an array, or an Error (an error reply).
 */
function respParse(buf, off = 0) {
	const eol = buf.indexOf('\r\n', off);
	if (eol < 0) return null;
	const type = String.fromCharCode(buf[off]);
	const line = buf.toString('latin1', off + 1, eol);
	const next = eol + 2;
	if (type === '+') return { value: line, off: next };
	if (type === '-') return { value: new Error(line), off: next };
	if (type === ':') return { value: Number(line), off: next };
	if (type === '$') {
		const n = Number(line);
		if (n < 0) return { value: null, off: next };
		if (buf.length < next + n + 2) return null;
		return { value: buf.toString('utf8', next, next + n), off: next + n + 2 };
	}
	if (type === '*') {
		const n = Number(line);
		if (n < 0) return { value: null, off: next };
		const out = [];
		let o = next;
		for (let i = 0; i < n; i++) {
			const r = respParse(buf, o);
			if (r === null) return null;
			out.push(r.value);
			o = r.off;
		}
		return { value: out, off: o };
	}
	throw new Error(`unexpected RESP type ${JSON.stringify(type)}`);
}

/*
 * Sends one command (args, strings) to the Redis on port over a fresh
 * connection and resolves with its reply (see respParse: an error reply
 * resolves with an Error); rejects if the connection fails, closes first,
 * or no reply comes within timeoutMs.  opts: timeoutMs (a number is taken
 * for it), and password to send AUTH first (its error reply, if any, is
 * what resolves).
 */
function redisCommand(port, args, opts = 2000) {
	const { timeoutMs = 2000, password } = typeof opts === 'number' ? { timeoutMs: opts } : opts;
	return new Promise((resolve, reject) => {
		let buf = Buffer.alloc(0);
		let done = false;
		const s = net.connect({ host: '127.0.0.1', port });
		const finish = (err, v) => {
			if (done) return;
			done = true;
			clearTimeout(timer);
			s.destroy();
			if (err) reject(err); else resolve(v);
		};
		const timer = setTimeout(() => finish(new Error(`redis ${args[0]}: no reply within ${timeoutMs} ms`)), timeoutMs);
		s.on('connect', () => {
			s.write((password !== undefined && password !== null ? respEncode(['AUTH', password]) : '') +
			    respEncode(args));
		});
		let authed = password === undefined || password === null;
		s.on('data', (d) => {
			buf = Buffer.concat([buf, d]);
			let r;
			try {
				r = respParse(buf);
				if (r !== null && !authed) {
					if (r.value instanceof Error) { finish(null, r.value); return; }
					authed = true;
					buf = buf.subarray(r.off);
					r = buf.length ? respParse(buf) : null;
				}
			} catch (e) { finish(e); return; }
			if (r !== null) finish(null, r.value);
		});
		s.on('error', (e) => finish(e));
		s.on('close', () => finish(new Error(`redis ${args[0]}: connection closed before the reply`)));
	});
}

class Redis {
	/* opts: args (the extra redis-server arguments it runs with), password (its requirepass) */
	constructor(proc, port, dir, opts = {}) {
		this.proc = proc;
		this.pid = proc.pid;
		this.port = port;
		this.password = opts.password;
		this.args = opts.args || [];
		this.url = this.password ? `redis://:${encodeURIComponent(this.password)}@127.0.0.1:${port}` :
		    `redis://127.0.0.1:${port}`;
		this.dir = dir;
		this.kind = 'redis-server';
		this.output = '';
		this.exitInfo = null;
		this.expectedExit = false;
		const keep = (chunk) => {
			this.output += chunk.toString('utf8');
			if (this.output.length > 2 * LOG_KEEP) this.output = this.output.slice(-LOG_KEEP);
			if (VERBOSE) process.stderr.write(chunk);
		};
		proc.stdout.on('data', keep);
		proc.stderr.on('data', keep);
		this.exited = new Promise((resolve) => {
			proc.on('exit', (code, signal) => {
				this.exitInfo = { code, signal };
				resolve(this.exitInfo);
			});
		});
	}

	get alive() { return this.exitInfo === null; }

	/* redis-server's output so far. */
	log() { return this.output; }

	/* Resolves true if it answers PING. */
	ping(timeoutMs = 1000) { return redisPing(this.port, timeoutMs, this.password); }

	/* Sends one command (strings) and resolves with its reply (redisCommand; AUTH first if it has a password). */
	command(...args) { return redisCommand(this.port, args, { password: this.password }); }

	/* Sends signal (SIGKILL: a crash) and resolves with {code, signal} once it has exited. */
	kill(signal = 'SIGKILL') {
		this.expectedExit = true;
		if (this.alive) {
			try { this.proc.kill(signal); } catch { /* already gone */ }
		}
		return this.exited;
	}

	/* SIGTERM, SIGKILL if it has not exited within timeoutMs; resolves with {code, signal}. */
	async stop(timeoutMs = 5000) {
		this.expectedExit = true;
		if (this.alive) {
			try { this.proc.kill('SIGTERM'); } catch { /* already gone */ }
			const r = await withTimeout(this.exited, timeoutMs, null);
			if (r === null) await this.kill('SIGKILL');
		}
		return this.exitInfo;
	}

	/*
	 * Kills this redis-server if it still runs (SIGKILL) and starts a new,
	 * empty one on the same port (persistence is off, so it has no data):
	 * resolves with the new handle once it answers PING.
	 */
	async restart() {
		await this.kill('SIGKILL');
		return startRedis({ port: this.port, args: this.args, password: this.password });
	}

	/*
	 * SHUTDOWN SAVE: redis-server writes its data to dump.rdb in its
	 * directory and exits (a stop that keeps the data); resolves once it
	 * has exited.  startRedis({port, dir}) brings it back with that data.
	 */
	async shutdownSave(timeoutMs = 10000) {
		this.expectedExit = true;
		await new Promise((resolve) => {
			const sock = net.connect({ host: '127.0.0.1', port: this.port });
			sock.on('connect', () => sock.write('SHUTDOWN SAVE\r\n'));
			sock.on('error', resolve);
			sock.on('close', resolve);
		});
		const r = await withTimeout(this.exited, timeoutMs, null);
		if (r === null) throw new Error(`redis-server on port ${this.port} did not exit after SHUTDOWN SAVE`);
		if (!fs.existsSync(path.join(this.dir, 'dump.rdb'))) throw new Error('SHUTDOWN SAVE wrote no dump.rdb');
		return r;
	}

	describeExit() {
		if (!this.exitInfo) return `${this.kind} pid ${this.pid} (port ${this.port}) is running`;
		return `${this.kind} pid ${this.pid} (port ${this.port}) exited (code ${this.exitInfo.code}, ` +
		    `signal ${this.exitInfo.signal})`;
	}
}

async function startRedisOnce(bin, port, keepDir, extra = {}) {
	const dir = keepDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'chatrelay-redis-'));
	const { args: more = [], password } = extra;
	const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
	    '--daemonize', 'no', '--protected-mode', 'yes'];
	if (password) args.push('--requirepass', password);
	args.push(...more);
	const proc = spawn(bin, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
	const redis = new Redis(proc, port, dir, { args: more, password });
	redises.add(redis);
	if (proc.pid) watchdog(proc.pid);
	let spawnError = null;
	proc.once('error', (e) => { spawnError = e; });

	const deadline = Date.now() + 10000;
	for (;;) {
		await sleep(20);
		if (spawnError) {
			redis.expectedExit = true;
			throw new Error(`cannot run ${bin}: ${spawnError.message}` +
			    (spawnError.code === 'ENOENT' ? '; install the redis-server package' : ''));
		}
		if (!redis.alive) {
			redis.expectedExit = true;
			const e = new Error(`redis-server exited during start on port ${port} (code ` +
			    `${redis.exitInfo.code}, signal ${redis.exitInfo.signal}); output:\n${tail(redis.output)}`);
			e.retryable = /address already in use|bind|listening socket/i.test(redis.output);
			throw e;
		}
		if (await redisPing(port, 500, password)) return redis;
		if (Date.now() > deadline) {
			await redis.kill();
			throw new Error(`redis-server did not answer PING on port ${port} within 10 s; output:\n` +
			    tail(redis.output));
		}
	}
}

/*
 * Starts redis-server on 127.0.0.1 with persistence off, on a free port (or
 * on port, to restart one where it was; in dir, to load the dump.rdb that
 * shutdownSave left there).  Resolves once it answers PING with
 * {port, url, pid, kill(signal = 'SIGKILL') -> promise of {code, signal},
 * stop(), restart() -> promise of a new handle on the same port, ping(),
 * alive, log()}.  Every redis-server started here is killed by the root after
 * hook (after the relays have been stopped) and on process exit.  args: more
 * redis-server arguments (e.g. ['--replicaof', '127.0.0.1', port]);
 * password: its requirepass (then url carries it, and ping and command AUTH).
 */
async function startRedis({ port, dir, args, password } = {}) {
	const bin = findRedisServer();
	for (let attempt = 1; ; attempt++) {
		const p = port ?? await freePort();
		try {
			return await startRedisOnce(bin, p, dir, { args, password });
		} catch (e) {
			/* a free port can be taken meanwhile; a fixed one may still be held for a moment */
			if (!e.retryable || attempt >= 5) throw e;
			if (port !== undefined) await sleep(200 * attempt);
		}
	}
}

/* --------------------------------------------------------------- sentinel */

/*
 * redis-sentinel for the failover tests: REDIS_SENTINEL if set, else the
 * first redis-sentinel on PATH (or in the usual sbin directories).  Returns
 * its path, or null when there is none: the tests that need it skip then
 * (node:test skip), saying so, rather than fail.
 */
function findRedisSentinel() {
	const usable = (p) => {
		try {
			fs.accessSync(p, fs.constants.X_OK);
			return fs.statSync(p).isFile();
		} catch {
			return false;
		}
	};
	const explicit = process.env.REDIS_SENTINEL;
	if (explicit) return usable(explicit) ? explicit : null;
	const dirs = (process.env.PATH || '').split(':').filter(Boolean)
	    .concat(['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']);
	for (const d of dirs) {
		const p = path.join(d, 'redis-sentinel');
		if (usable(p)) return p;
	}
	return null;
}

/* A redis-sentinel: a Redis handle (kill, stop, ping, command, log) with its configuration file. */
class Sentinel extends Redis {
	constructor(proc, port, dir, conf, bin) {
		super(proc, port, dir);
		this.conf = conf;
		this.bin = bin;
		this.kind = 'redis-sentinel';
	}

	/*
	 * Kills it (SIGKILL) and starts it again on the same port with its
	 * configuration file, which it has rewritten with what it had learnt
	 * (the current master, the replicas, the other sentinels).
	 */
	async restart() {
		await this.kill('SIGKILL');
		for (let attempt = 1; ; attempt++) {
			try {
				return await startSentinelOnce(this.bin, this.port, this.dir, this.conf);
			} catch (e) {
				if (!e.retryable || attempt >= 5) throw e;
				await sleep(200 * attempt);
			}
		}
	}

	shutdownSave() { throw new Error('shutdownSave: not for a sentinel'); }
}

/* Writes a sentinel's configuration file (fresh: it rewrites it as it learns). */
function writeSentinelConf(conf, dir, port, o) {
	const q = (v) => `"${String(v).replace(/[\\"]/g, (c) => '\\' + c)}"`;
	const lines = [
		`port ${port}`,
		'bind 127.0.0.1',
		'daemonize no',
		'logfile ""',
		`dir ${q(dir)}`,
		`sentinel monitor ${o.master} 127.0.0.1 ${o.masterPort} ${o.quorum}`,
		`sentinel down-after-milliseconds ${o.master} ${o.downAfterMs}`,
		`sentinel failover-timeout ${o.master} ${o.failoverTimeoutMs}`,
		`sentinel parallel-syncs ${o.master} 1`,
	];
	if (o.password) lines.push(`sentinel auth-pass ${o.master} ${q(o.password)}`);
	fs.writeFileSync(conf, lines.join('\n') + '\n');
}

async function startSentinelOnce(bin, port, dir, conf) {
	const proc = spawn(bin, [conf], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
	const s = new Sentinel(proc, port, dir, conf, bin);
	redises.add(s);
	if (proc.pid) watchdog(proc.pid);
	let spawnError = null;
	proc.once('error', (e) => { spawnError = e; });
	const deadline = Date.now() + 10000;
	for (;;) {
		await sleep(20);
		if (spawnError) {
			s.expectedExit = true;
			throw new Error(`cannot run ${bin}: ${spawnError.message}`);
		}
		if (!s.alive) {
			s.expectedExit = true;
			const e = new Error(`redis-sentinel exited during start on port ${port} (code ` +
			    `${s.exitInfo.code}, signal ${s.exitInfo.signal}); output:\n${tail(s.output)}`);
			e.retryable = /address already in use|bind|listening socket/i.test(s.output);
			throw e;
		}
		if (await redisPing(port, 500)) return s;
		if (Date.now() > deadline) {
			await s.kill();
			throw new Error(`redis-sentinel did not answer PING on port ${port} within 10 s; output:\n` +
			    tail(s.output));
		}
	}
}

async function startSentinel(bin, o) {
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatrelay-sentinel-'));
	const conf = path.join(dir, 'sentinel.conf');
	for (let attempt = 1; ; attempt++) {
		const port = await freePort();
		writeSentinelConf(conf, dir, port, o);
		try {
			return await startSentinelOnce(bin, port, dir, conf);
		} catch (e) {
			if (!e.retryable || attempt >= 5) throw e;
		}
	}
}

/* A flat [k, v, k, v, ...] reply (SENTINEL replicas, ...) as an object. */
function pairs(a) {
	const o = {};
	if (Array.isArray(a)) for (let i = 0; i + 1 < a.length; i += 2) o[a[i]] = a[i + 1];
	return o;
}

/* The replicas that INFO replication of a master lists as online, by port. */
function onlineReplicas(info) {
	const out = [];
	if (typeof info !== 'string') return out;
	for (const m of info.matchAll(/^slave\d+:(.*)$/gm)) {
		const f = Object.fromEntries(m[1].trim().split(',').map((kv) => kv.split('=')));
		if (f.state === 'online') out.push(Number(f.port));
	}
	return out;
}

/*
 * What startSentinelSet resolves with: master and replicas (Redis handles
 * of the servers as started: after a failover, master is the dead or
 * demoted one, and currentMaster() says which is master now), sentinels
 * (Sentinel handles), sentinelList ("127.0.0.1:P,..." for redis_sentinel),
 * name (for redis_master) and password.
 */
class SentinelSet {
	constructor({ name, password, master, replicas, sentinels }) {
		this.name = name;
		this.password = password;
		this.master = master;
		this.replicas = replicas;
		this.sentinels = sentinels;
		this.sentinelList = sentinels.map((s) => `127.0.0.1:${s.port}`).join(',');
	}

	/* The master and the replicas, as started. */
	get servers() { return [this.master, ...this.replicas]; }

	/* The server (master or replica handle) listening on port. */
	server(port) { return this.servers.find((r) => r.port === Number(port)); }

	/* Every running sentinel's SENTINEL get-master-addr-by-name: [{sentinel, port}] (port null if it fails). */
	async masterPorts() {
		const out = [];
		for (const s of this.sentinels) {
			if (!s.alive) continue;
			let port = null;
			try {
				const r = await redisCommand(s.port, ['SENTINEL', 'get-master-addr-by-name', this.name], 1000);
				if (Array.isArray(r)) port = Number(r[1]);
			} catch { /* not answering */ }
			out.push({ sentinel: s.port, port });
		}
		return out;
	}

	/* The master's port as the first sentinel that answers says it (rejects if none does). */
	async currentMaster() {
		for (const { port } of await this.masterPorts()) if (port !== null) return port;
		throw new Error(`no sentinel of ${this.sentinelList} says where master ${this.name} is`);
	}

	/* Resolves true if the server on port says ROLE master. */
	async isMaster(port) {
		try {
			const r = await redisCommand(port, ['ROLE'], { timeoutMs: 1000, password: this.password });
			return Array.isArray(r) && r[0] === 'master';
		} catch {
			return false;
		}
	}

	/*
	 * Waits until the server on port has at least n replicas online (INFO
	 * replication of it), within timeoutMs; resolves with their ports.
	 */
	async waitReplicas(port, n, timeoutMs = 15000) {
		return waitFor(`${n} replica(s) online at the Redis on port ${port}`, async () => {
			let info = null;
			try {
				info = await redisCommand(port, ['INFO', 'replication'], { timeoutMs: 1000, password: this.password });
			} catch (e) { info = e.message; }
			const on = onlineReplicas(info);
			return { done: on.length >= n, seen: typeof info === 'string' ? info.replace(/\r\n/g, ' ') : String(info) };
		}, timeoutMs).then(async () => onlineReplicas(await redisCommand(port, ['INFO', 'replication'],
		    { timeoutMs: 1000, password: this.password })));
	}

	/*
	 * Waits until every running sentinel names a master other than oldPort
	 * and that server says ROLE master (a failover completed); resolves with
	 * its port.  Throws after timeoutMs, with the sentinels' answers and
	 * the end of their logs.
	 */
	async waitFailover(oldPort, timeoutMs = 20000) {
		const deadline = Date.now() + timeoutMs;
		let last;
		for (;;) {
			last = await this.masterPorts();
			const ports = new Set(last.map((x) => x.port));
			if (ports.size === 1) {
				const [p] = ports;
				if (p !== null && p !== Number(oldPort) && await this.isMaster(p)) return p;
			}
			if (Date.now() > deadline) {
				throw new Error(`sentinels did not fail master ${this.name} over from port ${oldPort} within ` +
				    `${timeoutMs} ms; they say ${JSON.stringify(last)}; sentinel logs:\n` +
				    this.sentinels.map((s) => `[${s.port}] ${tail(s.log(), 1500)}`).join('\n'));
			}
			await sleep(100);
		}
	}

	/* The sentinels' log lines about the failover (+sdown, +odown, +switch-master, ...). */
	events() {
		const out = [];
		for (const s of this.sentinels) {
			for (const l of s.log().split('\n')) {
				if (/[+-](sdown|odown|try-failover|elected-leader|selected-slave|promoted-slave|switch-master|failover-end)/.test(l)) {
					out.push(`[sentinel ${s.port}] ${l.trim()}`);
				}
			}
		}
		return out;
	}

	/* SIGKILL to every server and sentinel of the set; resolves once all have exited. */
	async kill() {
		await Promise.all([...this.sentinels, ...this.servers].map((r) => r.kill('SIGKILL')));
	}

	/* SIGTERM (SIGKILL after timeoutMs) to every sentinel, then every server. */
	async stop(timeoutMs = 5000) {
		await Promise.all(this.sentinels.map((r) => r.stop(timeoutMs)));
		await Promise.all(this.servers.map((r) => r.stop(timeoutMs)));
	}
}

/*
 * Starts a Redis that survives the loss of its master, on free loopback
 * ports: a master redis-server, replicas of it (--replicaof 127.0.0.1
 * PORT, with --masterauth when password is set) and sentinels (each with a
 * configuration file in a temporary directory of its own: sentinel monitor
 * master 127.0.0.1 PORT quorum, down-after-milliseconds downAfterMs,
 * failover-timeout failoverTimeoutMs, parallel-syncs 1, auth-pass password).
 * Resolves with a SentinelSet once every replica is in sync and every
 * sentinel knows the master, every replica and every other sentinel (so
 * that a failover can be voted at once).  Throws if redis-sentinel is not
 * installed (see findRedisSentinel).  Everything is killed by the root after
 * hook like the other redis-servers.  via: an async function (masterPort)
 * resolving with the port the replicas are to replicate from instead of the
 * master's (a proxy in between); a sentinel points such a replica at the
 * master itself failoverTimeoutMs after it learnt of it (+fix-slave-config),
 * so make that long enough.
 */
async function startSentinelSet({ replicas = 1, sentinels = 3, master = 'mymaster', password,
    quorum = Math.min(2, sentinels), downAfterMs = 1000, failoverTimeoutMs = 3000, timeoutMs = 30000,
    via = null } = {}) {
	const bin = findRedisSentinel();
	if (!bin) throw new Error('redis-sentinel is not installed (install the redis-sentinel package, or set REDIS_SENTINEL)');
	const auth = password ? { password, args: ['--masterauth', password] } : {};
	const m = await startRedis(password ? { password } : {});
	const from = via ? await via(m.port) : m.port;
	const reps = [];
	for (let i = 0; i < replicas; i++) {
		reps.push(await startRedis({ ...auth, args: [...(auth.args || []), '--replicaof', '127.0.0.1', String(from)] }));
	}
	const set0 = new SentinelSet({ name: master, password, master: m, replicas: reps, sentinels: [] });
	if (replicas > 0) await set0.waitReplicas(m.port, replicas, timeoutMs);

	const sents = [];
	const o = { master, masterPort: m.port, quorum, downAfterMs, failoverTimeoutMs, password };
	for (let i = 0; i < sentinels; i++) sents.push(await startSentinel(bin, o));
	const set = new SentinelSet({ name: master, password, master: m, replicas: reps, sentinels: sents });

	const repPorts = reps.map((r) => r.port).sort((a, b) => a - b);
	await waitFor(`every sentinel of ${set.sentinelList} knows master ${master} (port ${m.port}), ` +
	    `its replicas ${JSON.stringify(repPorts)} and the other sentinels`, async () => {
		const seen = [];
		let done = true;
		for (const s of sents) {
			const one = { sentinel: s.port };
			try {
				const addr = await s.command('SENTINEL', 'get-master-addr-by-name', master);
				one.master = Array.isArray(addr) ? Number(addr[1]) : String(addr);
				const rs = (await s.command('SENTINEL', 'replicas', master)).map(pairs);
				one.replicas = rs.filter((r) => r.flags === 'slave' && r['master-link-status'] === 'ok')
				    .map((r) => Number(r.port)).sort((a, b) => a - b);
				const ss = (await s.command('SENTINEL', 'sentinels', master)).map(pairs);
				one.sentinels = ss.filter((x) => x.flags === 'sentinel').length;
			} catch (e) {
				one.error = e.message;
			}
			seen.push(one);
			if (one.error || one.master !== m.port || !util.isDeepStrictEqual(one.replicas, repPorts) ||
			    one.sentinels < sentinels - 1) done = false;
		}
		return { done, seen };
	}, timeoutMs);
	return set;
}

/*
 * Starts one redis-server and n relays on it: node ids "n1".."nN", 2 workers
 * and presence_ttl 2s each, then directives (an object for every relay, or a
 * function (i) => object, i = 1..n, for per-relay ones).  Unless
 * opts.waitBus is false it waits until every relay's /healthz says bus
 * "redis".  Resolves {redis, relays}.
 */
async function startCluster(n = 2, directives = {}, opts = {}) {
	const { waitBus = true, timeoutMs = 15000 } = opts;
	const redis = await startRedis();
	const relays = [];
	for (let i = 1; i <= n; i++) {
		const extra = typeof directives === 'function' ? directives(i) : directives;
		relays.push(await startRelay({
			redis: redis.url,
			node: `n${i}`,
			workers: 2,
			presence_ttl: '2s',
			...extra,
		}));
	}
	if (waitBus) {
		for (const r of relays) await r.waitBus('redis', timeoutMs);
	}
	return { redis, relays };
}

/* ----------------------------------------------------------------- client */

/* Turns an op name, a partial object or a function into a predicate. */
function toPredicate(p) {
	if (typeof p === 'function') return p;
	if (typeof p === 'string') return (f) => f && f.op === p;
	if (p && typeof p === 'object') return (f) => partialMatch(f, p);
	throw new TypeError('predicate must be an op name, an object or a function');
}

function describePredicate(p) {
	if (typeof p === 'string') return `op "${p}"`;
	if (typeof p === 'function') return `frame matching ${String(p).slice(0, 120)}`;
	return `frame like ${JSON.stringify(p)}`;
}

function partialMatch(actual, pattern) {
	if (pattern === null || typeof pattern !== 'object' || Array.isArray(pattern)) {
		return util.isDeepStrictEqual(actual, pattern);
	}
	if (actual === null || typeof actual !== 'object') return false;
	for (const [k, v] of Object.entries(pattern)) {
		if (!partialMatch(actual[k], v)) return false;
	}
	return true;
}

/* Where in the test files the current call comes from, for error messages. */
function callerFrames() {
	const lines = (new Error().stack || '').split('\n').slice(1)
	    .filter((l) => /\.test\.js:/.test(l))
	    .map((l) => l.trim().replace(/^at (async )?/, '').replace(/.*[/\\]([^/\\]+\.test\.js:\d+):\d+\)?$/, '$1'));
	return lines.length ? `called from ${lines.slice(0, 2).join(' < ')}` : 'called from lib.js';
}

function summarize(frames, max = 12) {
	const s = frames.slice(-max).map((f) => {
		const j = JSON.stringify(f);
		return j.length > 300 ? j.slice(0, 300) + '...' : j;
	});
	return (frames.length > max ? `(${frames.length - max} earlier) ` : '') + (s.join('\n    ') || '(none)');
}

class Client {
	constructor(ws, opts = {}) {
		this.ws = ws;
		this.url = opts.url;
		this.keep = opts.keep || null;	/* frames failing keep are neither stored nor matched */
		this.inbox = [];		/* unconsumed frames, in arrival order */
		this.log = [];			/* every stored frame, in arrival order */
		this.waiters = [];
		this.listeners = [];
		this.closeInfo = null;
		this.pings = 0;
		this.error = null;
		this.idSeq = 0;
		this.closed = new Promise((resolve) => {
			ws.on('close', (code, reason) => {
				this.closeInfo = { code, reason: reason.toString('utf8') };
				clients.delete(this);
				resolve(this.closeInfo);
				const ws2 = this.waiters.splice(0);
				for (const w of ws2) {
					clearTimeout(w.timer);
					w.reject(new Error(`connection closed (code ${code}, reason "${this.closeInfo.reason}") ` +
					    `while waiting for ${w.desc}; unconsumed frames:\n    ${summarize(this.inbox)}` +
					    unexpectedDeaths()));
				}
			});
		});
		ws.on('message', (data, isBinary) => this._onMessage(data, isBinary));
		ws.on('ping', () => { this.pings += 1; });
		ws.on('error', (e) => { this.error = e; });
		clients.add(this);
	}

	_onMessage(data, isBinary) {
		let f;
		const text = Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.from(data).toString('utf8');
		if (isBinary) {
			f = { op: '__binary', data: text };
		} else {
			try {
				f = JSON.parse(text);
			} catch {
				f = { op: '__unparsable', data: text };
			}
		}
		for (const l of this.listeners) l(f, text);
		if (this.keep && !this.keep(f)) return;
		this.log.push(f);
		for (let i = 0; i < this.waiters.length; i++) {
			const w = this.waiters[i];
			if (w.match(f)) {
				this.waiters.splice(i, 1);
				clearTimeout(w.timer);
				w.resolve(f);
				return;
			}
		}
		this.inbox.push(f);
	}

	/* Calls fn(frame, text) for every frame received from now on. */
	onFrame(fn) { this.listeners.push(fn); }

	_take(match) {
		const i = this.inbox.findIndex((f) => match(f));
		if (i < 0) return undefined;
		return this.inbox.splice(i, 1)[0];
	}

	/*
	 * Resolves with the first unconsumed frame matching pred (an op name, a
	 * partial object, or a function), consuming it.  Rejects on timeout or
	 * when the connection closes first.
	 */
	next(pred, timeoutMs = 3000) {
		const match = toPredicate(pred);
		const desc = describePredicate(pred);
		const f = this._take(match);
		if (f !== undefined) return Promise.resolve(f);
		if (this.closeInfo) {
			return Promise.reject(new Error(`connection already closed (code ${this.closeInfo.code}, reason ` +
			    `"${this.closeInfo.reason}") while waiting for ${desc}; unconsumed frames:\n    ` +
			    `${summarize(this.inbox)}` + unexpectedDeaths()));
		}
		const where = callerFrames();
		return new Promise((resolve, reject) => {
			const w = { match, resolve, reject, desc: `${desc} (${where})` };
			w.timer = setTimeout(() => {
				const i = this.waiters.indexOf(w);
				if (i >= 0) this.waiters.splice(i, 1);
				reject(new Error(`timed out after ${timeoutMs} ms waiting for ${w.desc}; unconsumed frames:\n    ` +
				    `${summarize(this.inbox)}` + unexpectedDeaths()));
			}, timeoutMs);
			this.waiters.push(w);
		});
	}

	/* Collects n frames matching pred (consumed), within timeoutMs overall. */
	async take(pred, n, timeoutMs = 10000) {
		const deadline = Date.now() + timeoutMs;
		const out = [];
		while (out.length < n) {
			const left = Math.max(1, deadline - Date.now());
			try {
				out.push(await this.next(pred, left));
			} catch (e) {
				e.message = `got ${out.length} of ${n}: ${e.message}`;
				throw e;
			}
		}
		return out;
	}

	/* Unconsumed frames matching pred, without consuming them. */
	peek(pred) {
		const match = toPredicate(pred);
		return this.inbox.filter((f) => match(f));
	}

	/* Waits ms, then fails if an unconsumed frame matching pred is there. */
	async expectNone(pred, ms = 300) {
		await sleep(ms);
		const got = this.peek(pred);
		if (got.length) {
			throw new Error(`expected no ${describePredicate(pred)} within ${ms} ms, got:\n    ${summarize(got)}`);
		}
	}

	/* Sends obj as one JSON text frame. */
	send(obj) {
		this.ws.send(JSON.stringify(obj));
	}

	/* Sends data as is: {binary} picks the opcode, {fin:false} starts a fragmented message. */
	sendRaw(data, { binary = false, fin = true } = {}) {
		return new Promise((resolve) => {
			this.ws.send(data, { binary, fin, compress: false }, (err) => resolve(err || null));
		});
	}

	/* Sends obj with an id (one is made up if absent) and resolves with the frame echoing it. */
	call(obj, timeoutMs = 3000) {
		const id = obj.id !== undefined ? obj.id : `r${++this.idSeq}`;
		const req = { ...obj, id };
		this.send(req);
		return this.next((f) => f.id === id && f.op !== 'msg' && f.op !== 'whisper', timeoutMs);
	}

	/* Open-mode auth: resolves with the welcome (throws on anything else). */
	async auth(name, extra = {}) {
		const r = await this.call({ op: 'auth', name, ...extra });
		if (r.op !== 'welcome') throw new Error(`auth as "${name}" answered ${JSON.stringify(r)}`);
		this.user = r.user;
		return r;
	}

	/* Token auth with an auth frame: resolves with the welcome (throws on anything else). */
	async authToken(token) {
		const r = await this.call({ op: 'auth', token });
		if (r.op !== 'welcome') throw new Error(`auth with token answered ${JSON.stringify(r)}`);
		this.user = r.user;
		return r;
	}

	/*
	 * Joins ch: resolves with the joined frame (throws on anything else).
	 * A joined whose msgs did not fit one frame says more:true and is
	 * followed by history frames for ch (the last with more:false): their
	 * msgs are appended to the joined frame's, and every part is kept in
	 * parts.
	 */
	async join(ch, extra = {}, timeoutMs = 5000) {
		const r = await this.call({ op: 'join', ch, ...extra }, timeoutMs);
		if (r.op !== 'joined') throw new Error(`join ${ch} answered ${JSON.stringify(r)}`);
		const parts = [r];
		let last = r;
		while (last.more) {
			last = await this.next((f) => f.op === 'history' && f.ch === ch, timeoutMs);
			parts.push(last);
		}
		if (parts.length === 1) return r;
		const msgs = [];
		for (const p of parts) msgs.push(...(p.msgs || []));
		return { ...r, msgs, more: false, parts };
	}

	/* Sends text to ch: resolves with the ok (throws on anything else). */
	async say(ch, text, extra = {}) {
		const r = await this.call({ op: 'send', ch, text, ...extra });
		if (r.op !== 'ok') throw new Error(`send to ${ch} answered ${JSON.stringify(r)}`);
		return r;
	}

	/* A ping round trip: proves the connection is open and serving. */
	async ping() {
		const r = await this.call({ op: 'ping' });
		if (r.op !== 'pong') throw new Error(`ping answered ${JSON.stringify(r)}`);
		return r;
	}

	/*
	 * Asks for history and gathers every history frame of the reply (a big
	 * reply may be split, each part but the last with more:true).
	 */
	async history(ch, extra = {}, timeoutMs = 5000) {
		const first = await this.call({ op: 'history', ch, ...extra }, timeoutMs);
		if (first.op !== 'history') return first;
		const msgs = [...first.msgs];
		const parts = [first];
		let last = first;
		while (last.more) {
			last = await this.next((f) => f.op === 'history' && f.ch === ch, timeoutMs);
			parts.push(last);
			msgs.push(...last.msgs);
		}
		return { op: 'history', ch, msgs, more: false, parts };
	}

	get isOpen() { return this.ws.readyState === WebSocket.OPEN; }

	/* Closes (code 1000) and waits for the close to complete. */
	async close(code = 1000) {
		if (this.closeInfo) return this.closeInfo;
		try { this.ws.close(code); } catch { /* not open yet */ }
		const r = await withTimeout(this.closed, 3000, null);
		if (r === null) {
			this.ws.terminate();
			return this.closed;
		}
		return r;
	}

	terminate() { this.ws.terminate(); }
}

/*
 * Opens a WebSocket to url.  opts: ws client options (autoPong, headers, ...)
 * plus keep (a filter for stored frames) and timeoutMs (for the handshake).
 * Resolves with a Client once open; rejects if the upgrade fails.
 */
function connect(url, opts = {}) {
	const { keep, timeoutMs = 5000, path: _p, ...wsOpts } = opts;
	return new Promise((resolve, reject) => {
		const ws = new WebSocket(url, {
			perMessageDeflate: false,
			handshakeTimeout: timeoutMs,
			...wsOpts,
		});
		const client = new Client(ws, { keep, url });
		const onError = (e) => {
			clients.delete(client);
			reject(new Error(`cannot connect to ${url}: ${e.message}` + unexpectedDeaths()));
		};
		ws.once('error', onError);
		ws.once('unexpected-response', (req, res) => {
			clients.delete(client);
			let body = '';
			res.on('data', (d) => { body += d; });
			res.on('end', () => {
				const e = new Error(`upgrade to ${url} refused: HTTP ${res.statusCode} ${body.slice(0, 200)}`);
				e.status = res.statusCode;
				reject(e);
			});
			res.on('error', () => {});
			req.destroy();
		});
		ws.once('open', () => {
			ws.off('error', onError);
			resolve(client);
		});
	});
}

/* ------------------------------------------------------------------- JWT */

const b64u = (x) => Buffer.from(x).toString('base64url');

/*
 * Makes a JWT over claims, signed with HMAC-SHA256 of secret.  opts:
 *   alg       the header's alg (default HS256; HS384/HS512 are signed with
 *             that hash; "none" gets an empty signature unless signAs is set)
 *   signAs    the hash to sign with whatever the header says ('sha256', ...)
 *   header    a complete header object instead of {alg, typ}
 *   tamper    true: corrupt the signature
 *   payload   a raw payload string to substitute after signing
 */
function mintToken(secret, claims, opts = {}) {
	const alg = opts.alg ?? 'HS256';
	const header = opts.header ?? { alg, typ: 'JWT' };
	const input = `${b64u(JSON.stringify(header))}.${b64u(JSON.stringify(claims))}`;
	const hashes = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };
	const hash = opts.signAs ?? hashes[alg];
	let sig = hash ? crypto.createHmac(hash, secret).update(input).digest('base64url') : '';
	if (opts.tamper) {
		const c = sig[0] === 'A' ? 'B' : 'A';
		sig = c + sig.slice(1);
	}
	let tok = `${input}.${sig}`;
	if (opts.payload !== undefined) {
		const parts = tok.split('.');
		parts[1] = b64u(opts.payload);
		tok = parts.join('.');
	}
	return tok;
}

const nowSecs = () => Math.floor(Date.now() / 1000);

/* ------------------------------------------------------------------- HTTP */

/* GET (by default) port/path with path sent verbatim; resolves {status, headers, body}. */
function httpGet(port, p, { method = 'GET', headers = {}, timeoutMs = 5000 } = {}) {
	return new Promise((resolve, reject) => {
		const req = http.request({ host: '127.0.0.1', port, path: p, method, headers, agent: false }, (res) => {
			const chunks = [];
			res.on('data', (d) => chunks.push(d));
			res.on('end', () => resolve({
				status: res.statusCode,
				headers: res.headers,
				body: Buffer.concat(chunks).toString('utf8'),
			}));
			res.on('error', reject);
		});
		req.setTimeout(timeoutMs, () => req.destroy(new Error(`HTTP ${method} ${p} timed out`)));
		req.on('error', reject);
		req.end();
	});
}

/*
 * A raw HTTP request on a fresh socket, exactly as given (for request lines
 * node's client would refuse).  Resolves with {status, raw} once the server
 * closes or timeoutMs passes.
 */
function rawHttp(port, requestText, timeoutMs = 5000) {
	return new Promise((resolve, reject) => {
		const s = net.connect({ host: '127.0.0.1', port });
		const chunks = [];
		const done = () => {
			clearTimeout(timer);
			s.destroy();
			const raw = Buffer.concat(chunks).toString('latin1');
			const m = /^HTTP\/1\.[01] (\d{3})/.exec(raw);
			resolve({ status: m ? Number(m[1]) : 0, raw });
		};
		const timer = setTimeout(done, timeoutMs);
		s.on('connect', () => s.write(requestText));
		s.on('data', (d) => {
			chunks.push(d);
			const raw = Buffer.concat(chunks).toString('latin1');
			const m = /content-length:\s*(\d+)/i.exec(raw);
			const h = raw.indexOf('\r\n\r\n');
			if (m && h >= 0 && Buffer.byteLength(raw.slice(h + 4), 'latin1') >= Number(m[1])) done();
		});
		s.on('end', done);
		s.on('error', (e) => { if (chunks.length) done(); else { clearTimeout(timer); reject(e); } });
	});
}

/* -------------------------------------------------------- raw WebSocket */

/* Encodes one client frame (masked). */
function encodeFrame(opcode, payload, { fin = true, mask = true } = {}) {
	const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload ?? '', 'utf8');
	const len = data.length;
	let head;
	if (len < 126) {
		head = Buffer.alloc(2);
		head[1] = len;
	} else if (len < 65536) {
		head = Buffer.alloc(4);
		head[1] = 126;
		head.writeUInt16BE(len, 2);
	} else {
		head = Buffer.alloc(10);
		head[1] = 127;
		head.writeBigUInt64BE(BigInt(len), 2);
	}
	head[0] = (fin ? 0x80 : 0) | opcode;
	if (!mask) return Buffer.concat([head, data]);
	head[1] |= 0x80;
	const key = crypto.randomBytes(4);
	const body = Buffer.alloc(len);
	for (let i = 0; i < len; i++) body[i] = data[i] ^ key[i & 3];
	return Buffer.concat([head, key, body]);
}

/* Decodes the complete server frames at the start of buf: {frames, rest}. */
function decodeFrames(buf) {
	const frames = [];
	let off = 0;
	for (;;) {
		if (buf.length - off < 2) break;
		const b0 = buf[off];
		const b1 = buf[off + 1];
		let len = b1 & 0x7f;
		let p = off + 2;
		if (len === 126) {
			if (buf.length - p < 2) break;
			len = buf.readUInt16BE(p);
			p += 2;
		} else if (len === 127) {
			if (buf.length - p < 8) break;
			len = Number(buf.readBigUInt64BE(p));
			p += 8;
		}
		if (b1 & 0x80) p += 4;	/* servers do not mask, but be tolerant */
		if (buf.length - p < len) break;
		frames.push({ fin: !!(b0 & 0x80), opcode: b0 & 0x0f, payload: buf.subarray(p, p + len) });
		off = p + len;
	}
	return { frames, rest: buf.subarray(off) };
}

/*
 * Opens a TCP connection and performs the WebSocket handshake by hand.
 * Resolves {sock, frames, ended, send(opcode, payload, opts), nextFrame(ms)}
 * where frames collects decoded server frames and ended resolves when the
 * server closes the TCP connection.
 */
function rawConnect(port, p = '/ws', timeoutMs = 5000) {
	return new Promise((resolve, reject) => {
		const sock = net.connect({ host: '127.0.0.1', port });
		const key = crypto.randomBytes(16).toString('base64');
		let buf = Buffer.alloc(0);
		let upgraded = false;
		const frames = [];
		const frameWaiters = [];
		let endedResolve;
		const ended = new Promise((r) => { endedResolve = r; });
		const timer = setTimeout(() => { sock.destroy(); reject(new Error('raw handshake timed out')); }, timeoutMs);
		const api = {
			sock,
			frames,
			ended,
			send(opcode, payload, opts) { sock.write(encodeFrame(opcode, payload, opts)); },
			nextFrame(ms = 3000) {
				if (frames.length) return Promise.resolve(frames.shift());
				return new Promise((res, rej) => {
					const w = { res, t: setTimeout(() => { frameWaiters.splice(frameWaiters.indexOf(w), 1); rej(new Error('raw: no frame')); }, ms) };
					frameWaiters.push(w);
				});
			},
		};
		sock.on('connect', () => {
			sock.write(`GET ${p} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\n` +
			    `Connection: Upgrade\r\nSec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
		});
		sock.on('data', (d) => {
			buf = Buffer.concat([buf, d]);
			if (!upgraded) {
				const i = buf.indexOf('\r\n\r\n');
				if (i < 0) return;
				const head = buf.subarray(0, i).toString('latin1');
				buf = buf.subarray(i + 4);
				if (!/^HTTP\/1\.1 101/.test(head)) {
					clearTimeout(timer);
					sock.destroy();
					reject(new Error(`raw handshake refused: ${head.split('\r\n')[0]}`));
					return;
				}
				upgraded = true;
				clearTimeout(timer);
				resolve(api);
			}
			const { frames: got, rest } = decodeFrames(buf);
			buf = Buffer.from(rest);
			for (const f of got) {
				const w = frameWaiters.shift();
				if (w) { clearTimeout(w.t); w.res(f); } else frames.push(f);
			}
		});
		sock.on('error', () => {});
		sock.on('close', () => { clearTimeout(timer); endedResolve(Date.now()); if (!upgraded) reject(new Error('raw: closed before upgrade')); });
	});
}

/* ----------------------------------------------------------------- cleanup */

/* Kills every redis-server started here (after the relays, which may use them). */
async function cleanupRedis() {
	for (const r of [...redises]) {
		try {
			await withTimeout(r.kill('SIGKILL'), 5000, null);
		} catch { /* ignore */ }
		redises.delete(r);
		try { fs.rmSync(r.dir, { recursive: true, force: true }); } catch { /* ignore */ }
	}
}

async function cleanupAll() {
	try {
		await cleanupRelaysAndClients();
	} finally {
		await cleanupRedis();
	}
}

async function cleanupRelaysAndClients() {
	const problems = [];
	for (const c of [...clients]) {
		try { c.terminate(); } catch { /* ignore */ }
	}
	clients.clear();
	for (const r of [...relays]) {
		const wasExpected = r.expectedExit;
		const died = !r.alive && !wasExpected;
		try {
			const code = await r.stop('SIGTERM', 10000);
			if (died || (!wasExpected && code !== 0)) {
				problems.push(`${r.describeExit()}: a relay started by ${path.basename(process.argv[1] || '?')} ` +
				    `did not exit with status 0 when stopped (SIGTERM) after the file's tests; ` +
				    `its configuration:\n${fs.readFileSync(r.conf, 'utf8')}output:\n${tail(r.output)}`);
			}
		} catch (e) {
			problems.push(e.message);
		}
		relays.delete(r);
		if (!problems.length && !r.restarted) {
			try { fs.rmSync(r.dir, { recursive: true, force: true }); } catch { /* ignore */ }
		}
	}
	if (problems.length) throw new Error(problems.join('\n\n'));
}

after(cleanupAll);

process.on('exit', () => {
	for (const r of [...relays, ...redises]) {
		if (r.alive) {
			try { r.proc.kill('SIGKILL'); } catch { /* ignore */ }
		}
	}
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
	process.once(sig, () => {
		for (const r of [...relays, ...redises]) {
			if (r.alive) {
				try { r.proc.kill('SIGKILL'); } catch { /* ignore */ }
			}
		}
		process.exit(128 + (os.constants.signals[sig] || 1));
	});
}

/*
 * Polls fn (returning {done, seen}) every 100 ms until done, and resolves
 * with the last seen; rejects after timeoutMs saying what did not happen
 * and showing the last seen.
 */
async function waitFor(what, fn, timeoutMs = 10000) {
	const deadline = Date.now() + timeoutMs;
	let last;
	for (;;) {
		last = await fn();
		if (last.done) return last.seen;
		if (Date.now() > deadline) {
			throw new Error(`${what}: not within ${timeoutMs} ms; last seen: ` +
			    JSON.stringify(last.seen).slice(0, 500));
		}
		await sleep(100);
	}
}

/* who on client c: resolves {count, ids (sorted), raw}; rejects on any other answer. */
async function who(c, ch, timeoutMs = 10000) {
	const r = await c.call({ op: 'who', ch }, timeoutMs);
	if (r.op !== 'who') throw new Error(`who ${ch} answered ${JSON.stringify(r)}`);
	return { count: r.count, ids: r.members.map((m) => m.id).sort(), raw: r };
}

/*
 * Checks, for one channel, that no (epoch, seq) is given to two texts:
 * note({seq, epoch, text}, where) throws an AssertionError naming both
 * texts and where the second was seen; epochs collects every epoch noted.
 */
function seqLedger(ch) {
	const text = new Map();
	const epochs = new Set();
	return {
		epochs,
		note(m, where) {
			const k = `${m.epoch}/${m.seq}`;
			const t = text.get(k);
			if (t !== undefined && t !== m.text) {
				const e = new Error(`${ch} seq ${m.seq} (epoch ${m.epoch}) given to "${t}" and to "${m.text}" (${where})`);
				e.name = 'AssertionError';
				throw e;
			}
			text.set(k, m.text);
			epochs.add(m.epoch);
		},
	};
}

module.exports = {
	seqLedger,
	SRCDIR,
	BIN,
	sleep,
	withTimeout,
	uniq,
	waitFor,
	who,
	startRelay,
	startRedis,
	startCluster,
	redisPing,
	redisCommand,
	findRedisSentinel,
	startSentinelSet,
	connect,
	mintToken,
	nowSecs,
	httpGet,
	rawHttp,
	rawConnect,
	encodeFrame,
	decodeFrames,
	treeRssKb,
	Client,
	Relay,
	Redis,
	Sentinel,
	SentinelSet,
};
