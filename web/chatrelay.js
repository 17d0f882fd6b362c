/*
 * chatrelay.js: the JavaScript client of chatrelay (docs/protocol.md).
 * One ES module, no dependency, no build step: in a page
 * `import { connect } from '/chatrelay.js'` (the relay serves it), in Node
 * pass a WebSocket constructor (e.g. the `ws` package).
 *
 *   import { connect, codePoints, ChatError } from '/chatrelay.js';
 *
 *   const chat = connect('wss://chat.example.com/ws', { name: 'alice' });
 *   chat.on('msg', (m) => show(m.ch, m.from.name, m.text));
 *   await chat.ready;                          // the welcome
 *   const j = await chat.join('global', { history: 20 });   // j.msgs: the last 20
 *   await chat.send('global', 'hi');
 *
 * connect(url, options) returns a client at once and connects in the
 * background.  url: ws:// or wss:// and the path (/ws for players, /admin
 * for moderators); in a page also relative ('/ws') or http(s)://.  options
 * (a third argument, if given, is merged into them):
 *   name              open mode: the guest name (user id guest:NAME)
 *   token             token mode: a JWT, or a function returning one (or a
 *                     promise of one), called at every connection so an
 *                     expired token can be replaced.  It goes in an auth
 *                     frame, never in the URL.
 *   WebSocket         the constructor (default globalThis.WebSocket)
 *   timeoutMs         10000  time a sent request waits for its reply
 *   connectTimeoutMs  10000  time from opening a socket to the welcome
 *   pingIntervalMs    20000  a ping op this often (0: none), below the
 *                     relay's idle_timeout (60 s by default); a ping not
 *                     answered within timeoutMs drops the connection
 *   reconnect         true   reconnect after the connection is lost
 *   backoffMinMs      500    back-off: full jitter, random(0, min(max,
 *   backoffMaxMs      30000  min * 2^(attempt-1))), at least a bye's
 *                     reconnect_ms (times 1 to 1.5)
 *   queueMax          100    requests that may wait for the connection
 *   queueMs           30000  time a send or whisper may wait for it
 *
 * The client (chat above):
 *   ready             a promise of the first welcome ({user, session, node,
 *                     limits}); rejects (ChatError) if the client goes
 *                     offline or is closed before it
 *   state             'connecting' | 'connected' | 'reconnecting' |
 *                     'offline' | 'closed'
 *   welcome, me, limits   the last welcome, its user {id, name, role} and
 *                     limits {frame, text, rate, burst, channels}
 *   on(event, fn)     returns a function that removes fn; off(event, fn);
 *                     once(event, fn).  Unknown event names throw.
 *   close()           for good: no reconnect; pending requests fail with
 *                     'closed'; returns a promise settled once the socket
 *                     has closed
 *   reconnect()       connect again now (from offline, or skipping a wait)
 *   joinedChannels()  [{ch, seq, epoch}]: where the client is, and the last
 *                     seq it saw (keep it to join with since after a reload)
 *
 * Requests return promises of the reply frame; an err reply rejects with a
 * ChatError.  A reply that spans frames (a joined or history with more) is
 * assembled: msgs holds every message and more is false.
 *   request(op, fields, {timeoutMs})       any op but auth (the wrappers
 *                                          below call it)
 *   join(ch, {history, since, epoch})      joined {ch, seq, epoch, members,
 *                                          msgs?, recovered?}
 *   leave(ch)                              left {ch}
 *   send(ch, text, meta)                   ok {ch, seq, ts, epoch}
 *   whisper(to, text)                      ok
 *   history(ch, {limit, since})            history {ch, msgs}
 *   who(ch)                                who {ch, members, count}
 *   ping()                                 pong, plus rtt (ms)
 *   report(user, ch, seq, reason)          ok
 * Moderators (on /admin):
 *   stats()  channels({prefix, limit})  user(id)  kick(user, reason)
 *   mute(user, {ch, secs, reason})  unmute(user, ch)
 *   ban(user, {secs, reason})  unban(user)  announce(text, ch)
 *   slowmode(ch, secs)  delete(ch, seq)  watch(pattern)  unwatch(pattern)
 *
 * ChatError: message "code: msg", and code, msg, retry_ms, until (as the
 * relay sent them), op (the request's), ch (where it applies) and frame
 * (the err frame).  The client's own codes:
 *   offline       not connected and the request could not wait: the queue
 *                 was full, it waited too long, or the client went offline
 *   closed        close() was called
 *   timeout       no reply within timeoutMs
 *   disconnected  the connection dropped after the request went out and
 *                 before its reply: a send may or may not have been sent
 *
 * Events (fn gets one argument):
 *   msg        a channel message {ch, seq, ts, epoch, from: {id, name},
 *              text, meta?}, in seq order, each once; those recovered
 *              after a reconnect carry recovered: true.  (The history a
 *              join asks for comes in its reply, not as msg events.)
 *   presence   {ch, event: 'join' | 'leave', user: {id, name}}
 *   whisper    {from, to, text, ts}
 *   notice     {text, level, ch?}
 *   delete     {ch, seq}: hide that message
 *   mod, report    moderators with a watch: the relay's frames
 *   err        a ChatError not tied to a request: an err frame without id,
 *              or a channel (pattern) that could not be joined (watched)
 *              again after a reconnect, with ch set
 *   bye        {code, reason, reconnect_ms?}: the relay is closing
 *   state      {state: 'connecting', attempt} | {state: 'connected', welcome}
 *              | {state: 'reconnecting', inMs, attempt, code, reason}
 *              | {state: 'offline', code, reason, error}
 *              | {state: 'closed'}
 *   recovered  {ch, recovered, count, seq, epoch} after each channel's
 *              rejoin: recovered false when messages were missed (the
 *              relay no longer kept them, or the channel was numbered anew)
 *   frame      {dir: 'in' | 'out', frame}: every frame (a token shown as
 *              "…"), for debugging
 *
 * Connection: after a welcome the client rejoins every channel it was in,
 * with since (the last seq it saw) and epoch, delivers the messages missed
 * as msg events (then a recovered event), watches again what it watched,
 * then says connected and sends what waited.  A rejoin refused for a
 * passing reason (unavailable, rate_limited, internal, timeout) drops the
 * connection to try again later.  The client reconnects after any loss
 * but close codes 4001 (authentication), 4003 (banned) and 4008 (kicked),
 * and an auth refused for a bad name: those make it offline (reconnect()
 * tries again).
 *
 * While not connected, every request waits in one queue (at most queueMax)
 * for the connection, send and whisper at most queueMs, the others at most
 * timeoutMs; then it fails with 'offline'.  Queued requests go out in
 * order, after the rejoins.  A leave (or unwatch) is forgotten at once, so
 * no later connection rejoins the channel; made while no connection is in
 * it, it is answered at once.  When the connection drops, the requests on
 * the wire that change nothing (join, history, who, ping, stats, channels,
 * user, watch) go out again on the next connection; the others fail with
 * 'disconnected'.  Once offline or closed, every request fails at once.
 *
 * Listeners run synchronously, as frames are read; one that throws does
 * not disturb the client (the exception is thrown again, asynchronously,
 * so it shows as any uncaught error).
 *
 * codePoints(text): text's length as the relay counts it against text_max
 * (Unicode code points).
 */

export const PROTOCOL = 1;

const DEFAULTS = Object.freeze({
	timeoutMs: 10000,
	connectTimeoutMs: 10000,
	pingIntervalMs: 20000,
	reconnect: true,
	backoffMinMs: 500,
	backoffMaxMs: 30000,
	queueMax: 100,
	queueMs: 30000,
});

const EVENTS = ['msg', 'presence', 'whisper', 'notice', 'delete', 'err', 'mod', 'report',
	'bye', 'state', 'recovered', 'frame'];

/* Unsolicited frames handed to the application as they are. */
const PASSED_ON = new Set(['presence', 'whisper', 'notice', 'delete', 'mod', 'report']);

/* Close codes after which connecting again would only fail again, or defy a moderator. */
const FINAL_CLOSES = new Set([4001, 4003, 4008]);

/* auth errors the relay follows with a bye and a close (whose code decides). */
const AUTH_CLOSES = new Set(['auth_failed', 'forbidden', 'banned', 'internal']);

/* auth errors worth another connection. */
const AUTH_TRANSIENT = new Set(['rate_limited', 'timeout']);

/* Rejoin errors worth another connection (perhaps to another instance). */
const TRANSIENT = new Set(['unavailable', 'rate_limited', 'internal', 'timeout']);

/* Requests sent again on the next connection if theirs dropped before the reply. */
const RESENDABLE = new Set(['join', 'history', 'who', 'ping', 'stats', 'channels', 'user', 'watch']);

/* Requests that may wait queueMs, not timeoutMs, for the connection. */
const LONG_WAIT = new Set(['send', 'whisper']);

const WS_OPEN = 1;
const WS_CLOSED = 3;

/* An error of a request or of the connection: see the top of the file. */
export class ChatError extends Error {
	constructor(code, msg, extra = {}) {
		super(`${code}: ${msg}`);
		this.name = 'ChatError';
		this.code = code;
		this.msg = msg;
		this.retry_ms = extra.retry_ms;
		this.until = extra.until;
		this.op = extra.op;
		this.ch = extra.ch;
		this.frame = extra.frame;
	}
}

/* The length of text in Unicode code points, as the relay counts text_max. */
export function codePoints(text) {
	let n = 0;
	for (const _ of String(text)) n += 1;
	return n;
}

/* The ChatError of an err frame answering req (null for an unsolicited one). */
function replyError(f, req) {
	return new ChatError(String(f.code), String(f.msg ?? ''), {
		retry_ms: f.retry_ms,
		until: f.until,
		op: req ? req.op : undefined,
		ch: req && req.fields ? req.fields.ch : undefined,
		frame: f,
	});
}

/* url as an absolute ws:// or wss:// URL (relative ones against the page). */
function socketUrl(url) {
	const base = globalThis.location && globalThis.location.href;
	const u = base ? new URL(String(url), base) : new URL(String(url));
	if (u.protocol === 'http:') u.protocol = 'ws:';
	else if (u.protocol === 'https:') u.protocol = 'wss:';
	if (u.protocol !== 'ws:' && u.protocol !== 'wss:') {
		throw new TypeError(`chatrelay: not a WebSocket URL: ${url}`);
	}
	return u.href;
}

/* A copy of an outgoing frame fit to show: the token hidden. */
function redact(frame) {
	return frame.token === undefined ? frame : { ...frame, token: '…' };
}

/* Rethrows e outside the client, so a listener's bug shows but breaks nothing here. */
function rethrow(e) {
	queueMicrotask(() => { throw e; });
}

/* The messages of an assembled reply, oldest first. */
function bySeq(msgs) {
	return [...(Array.isArray(msgs) ? msgs : [])].sort((a, b) => a.seq - b.seq);
}

class Client {
	constructor(url, options) {
		const { name, token, WebSocket: WS, ...rest } = options;
		if (token !== undefined) {
			if (typeof token !== 'string' && typeof token !== 'function') {
				throw new TypeError('chatrelay: token must be a string or a function returning one');
			}
		} else if (typeof name !== 'string' || name === '') {
			throw new TypeError('chatrelay: give a name (open mode) or a token');
		}
		const ctor = WS ?? globalThis.WebSocket;
		if (typeof ctor !== 'function') {
			throw new TypeError('chatrelay: no WebSocket here: pass one as the WebSocket option ' +
			    "(in Node, require('ws'))");
		}
		for (const k of Object.keys(rest)) {
			if (!(k in DEFAULTS)) throw new TypeError(`chatrelay: unknown option ${k}`);
		}
		this.url = socketUrl(url);
		this.welcome = null;
		this._WS = ctor;
		this._auth = token !== undefined ? { token } : { name };
		this._o = { ...DEFAULTS, ...rest };
		this._listeners = new Map(EVENTS.map((e) => [e, new Set()]));
		this._state = 'connecting';
		this._ws = null;		/* the current socket; events of any other are ignored */
		this._welcomed = false;		/* the current socket is authenticated */
		this._bye = null;		/* the current socket's bye */
		this._authErr = null;		/* why the current socket's auth was refused */
		this._fatal = false;		/* an auth refusal no retry cures */
		this._attempt = 0;
		this._nextId = 1;
		this._pending = new Map();	/* id -> request on the wire */
		this._outbox = [];		/* requests waiting for 'connected', in order */
		this._channels = new Map();	/* ch -> {seq, epoch}: joined, the last seq seen */
		this._leaving = new Set();	/* channels whose leave is on its way: their frames are dropped */
		this._watches = new Set();	/* patterns watched (moderators) */
		this._retryTimer = null;
		this._connectTimer = null;
		this._pingTimer = null;
		this._closing = null;
		this.ready = new Promise((resolve, reject) => { this._ready = { resolve, reject }; });
		this.ready.catch(() => {});	/* the application need not await it */
		/* After the caller has had a chance to add listeners. */
		queueMicrotask(() => { if (this._state === 'connecting' && !this._ws) this._open(); });
	}

	get state() { return this._state; }
	get me() { return this.welcome ? this.welcome.user : null; }
	get limits() { return this.welcome ? this.welcome.limits : null; }

	/* ------------------------------------------------------------ events */

	_set(event) {
		const s = this._listeners.get(event);
		if (!s) throw new TypeError(`chatrelay: unknown event "${event}" (${EVENTS.join(', ')})`);
		return s;
	}

	/* Calls fn(payload) for every event; returns a function that stops it. */
	on(event, fn) {
		if (typeof fn !== 'function') throw new TypeError('chatrelay: on(event, fn): fn must be a function');
		this._set(event).add(fn);
		return () => this.off(event, fn);
	}

	off(event, fn) {
		this._set(event).delete(fn);
	}

	/* Calls fn for the next event only; returns a function that cancels it. */
	once(event, fn) {
		const off = this.on(event, (x) => { off(); fn(x); });
		return off;
	}

	_emit(event, payload) {
		for (const fn of [...this._listeners.get(event)]) {
			try {
				fn(payload);
			} catch (e) {
				rethrow(e);
			}
		}
	}

	_setState(state, info = {}) {
		this._state = state;
		this._emit('state', { state, ...info });
	}

	_settleReady(err, welcome) {
		if (!this._ready) return;
		const r = this._ready;
		this._ready = null;
		if (err) r.reject(err);
		else r.resolve(welcome);
	}

	/* --------------------------------------------------------- lifecycle */

	/* Opens a new socket; the client is connecting until welcomed and rejoined. */
	_open() {
		this._bye = null;
		this._authErr = null;
		this._welcomed = false;
		this._setState('connecting', { attempt: this._attempt });
		let ws;
		try {
			ws = new this._WS(this.url);
		} catch (e) {
			this._offline(null, `cannot open ${this.url}: ${e.message}`, null);
			return;
		}
		this._ws = ws;
		const ms = this._o.connectTimeoutMs;
		this._connectTimer = setTimeout(() => {
			if (ws === this._ws) this._drop(`no welcome within ${ms} ms`);
		}, ms);
		ws.addEventListener('open', () => { if (ws === this._ws) this._authenticate(ws); });
		ws.addEventListener('message', (ev) => { if (ws === this._ws) this._onMessage(ev.data); });
		ws.addEventListener('close', (ev) => {
			if (ws !== this._ws) return;
			this._ws = null;
			this._lost(ev.code, ev.reason);
		});
		ws.addEventListener('error', () => {});	/* a close follows */
	}

	/* Sends the auth frame (asking the token function first). */
	async _authenticate(ws) {
		let fields = { name: this._auth.name };
		if (this._auth.token !== undefined) {
			let token = this._auth.token;
			if (typeof token === 'function') {
				try {
					token = await token();
				} catch (e) {
					if (ws === this._ws) this._drop(`the token function failed: ${e && e.message}`);
					return;
				}
				if (ws !== this._ws) return;
			}
			fields = { token: String(token) };
		}
		this._call('auth', fields, { done: (w) => this._onWelcome(ws, w) })
			.catch((e) => this._onAuthError(ws, e));
	}

	_onAuthError(ws, e) {
		if (ws !== this._ws) return;
		this._authErr = e;
		if (AUTH_CLOSES.has(e.code)) return;	/* the relay's close decides */
		if (!AUTH_TRANSIENT.has(e.code)) this._fatal = true;
		this._drop(`auth refused: ${e.message}`);
	}

	/* Runs as the welcome is read, before the next frame. */
	_onWelcome(ws, w) {
		clearTimeout(this._connectTimer);
		this._connectTimer = null;
		this.welcome = w;
		this._welcomed = true;
		this._startPing(ws);
		this._restore(ws);
	}

	/* Rejoins the channels and watches again, then is connected and sends what waited. */
	async _restore(ws) {
		const ok = await Promise.all([...this._channels.keys()].map((ch) => this._rejoin(ws, ch)));
		if (ws !== this._ws || ok.includes(false)) return;
		await Promise.all([...this._watches].map((p) => this._rewatch(ws, p)));
		if (ws !== this._ws) return;
		this._attempt = 0;
		this._state = 'connected';
		this._flush();		/* what waited goes out before what the listeners send */
		this._emit('state', { state: 'connected', welcome: this.welcome });
		this._settleReady(null, this.welcome);
	}

	/* Joins ch again with since; resolves false if the connection is given up. */
	async _rejoin(ws, ch) {
		const c = this._channels.get(ch);
		const fields = { ch, since: c.seq };
		if (c.epoch) fields.epoch = c.epoch;
		try {
			await this._call('join', fields, { done: (j) => this._recover(ch, j) });
			return true;
		} catch (e) {
			if (ws !== this._ws) return false;
			if (TRANSIENT.has(e.code)) {
				this._drop(`rejoining ${ch}: ${e.message}`);
				return false;
			}
			this._channels.delete(ch);
			e.ch = ch;
			this._emit('err', e);
			return true;
		}
	}

	async _rewatch(ws, pattern) {
		try {
			await this._call('watch', { ch: pattern });
		} catch (e) {
			if (ws !== this._ws) return;
			this._watches.delete(pattern);
			e.ch = pattern;
			this._emit('err', e);
		}
	}

	/*
	 * A rejoin's joined (assembled), as it is read: the messages missed,
	 * in seq order and each once, then the recovered event.
	 */
	_recover(ch, j) {
		const c = this._channels.get(ch);
		if (!c) return;		/* left meanwhile */
		let recovered = j.recovered !== false;
		const epoch = j.epoch ?? null;
		if (epoch !== c.epoch || (typeof j.seq === 'number' && j.seq < c.seq)) {
			/* A new numbering: its seqs say nothing about the old one's. */
			if (c.epoch !== null) recovered = false;
			c.epoch = epoch;
			c.seq = 0;
		}
		let count = 0;
		for (const m of bySeq(j.msgs)) {
			if (this._accept(m)) {
				count += 1;
				this._emit('msg', { ...m, recovered: true });
			}
		}
		if (typeof j.seq === 'number' && j.seq > c.seq) c.seq = j.seq;
		this._emit('recovered', { ch, recovered, count, seq: c.seq, epoch: c.epoch });
	}

	/* Whether msg m is new to the application (and notes its seq). */
	_accept(m) {
		const c = this._channels.get(m.ch);
		if (!c || typeof m.seq !== 'number') return true;	/* a watched channel */
		if (m.epoch && m.epoch !== c.epoch) {
			if (c.epoch !== null) {		/* numbered anew */
				c.epoch = m.epoch;
				c.seq = m.seq;
				return true;
			}
			c.epoch = m.epoch;
		}
		if (m.seq <= c.seq) return false;
		c.seq = m.seq;
		return true;
	}

	_startPing(ws) {
		clearInterval(this._pingTimer);
		this._pingTimer = null;
		const every = this._o.pingIntervalMs;
		if (!(every > 0)) return;
		this._pingTimer = setInterval(() => {
			if (ws !== this._ws) return;
			this._call('ping', {}).catch((e) => {
				if (ws === this._ws && e.code === 'timeout') this._drop(`no pong within ${this._o.timeoutMs} ms`);
			});
		}, every);
	}

	/* Gives up the current socket (the client's decision) as if it had closed. */
	_drop(reason, immediate = false) {
		const ws = this._ws;
		if (!ws) return;
		this._ws = null;
		try { ws.close(); } catch { /* already closing */ }
		this._lost(null, reason, immediate);
	}

	/* The current socket is gone: settles what was on it, then reconnects or not. */
	_lost(code, reason, immediate = false) {
		const bye = this._bye;
		this._welcomed = false;
		clearTimeout(this._connectTimer);
		clearInterval(this._pingTimer);
		this._connectTimer = this._pingTimer = null;
		const again = [];
		for (const req of this._pending.values()) {
			clearTimeout(req.timer);
			if (req.internal) {
				req.reject(new ChatError('disconnected', 'the connection dropped', { op: req.op }));
			} else if (req.op === 'leave') {
				req.resolve({ op: 'left', ch: req.fields.ch });
			} else if (req.op === 'unwatch') {
				req.resolve({ op: 'ok' });
			} else if (RESENDABLE.has(req.op)) {
				again.push(req);
			} else {
				req.reject(new ChatError('disconnected', `the connection dropped before the relay answered ` +
				    `this ${req.op}: it may or may not have been done`, { op: req.op, ch: req.fields.ch }));
			}
		}
		this._pending.clear();
		if (this._state === 'closed') return;
		const why = (bye && bye.reason) || reason || 'connection lost';
		for (const req of again.reverse()) {
			req.parts = null;
			this._outbox.unshift(req);
			this._wait(req, req.timeoutMs);
		}
		if (FINAL_CLOSES.has(code) || this._fatal || !this._o.reconnect) {
			this._offline(code, why, this._authErr);
			return;
		}
		this._attempt += 1;
		let inMs = 0;
		if (!immediate) {
			const cap = Math.min(this._o.backoffMaxMs, this._o.backoffMinMs * 2 ** (this._attempt - 1));
			inMs = Math.random() * cap;
			const hint = bye && bye.reconnect_ms;
			if (typeof hint === 'number' && hint > 0) inMs = Math.max(inMs, hint * (1 + Math.random() / 2));
			inMs = Math.round(inMs);
		}
		this._setState('reconnecting', { inMs, attempt: this._attempt, code: code ?? null, reason: why });
		this._retryTimer = setTimeout(() => {
			this._retryTimer = null;
			if (this._state === 'reconnecting') this._open();
		}, inMs);
	}

	_offline(code, reason, error) {
		this._setState('offline', { code: code ?? null, reason, error: error ?? null });
		const msg = `offline: ${reason}`;
		this._failAll('offline', msg);
		this._settleReady(error ?? new ChatError('offline', msg));
	}

	/* Rejects every request waiting or on the wire. */
	_failAll(code, msg) {
		const all = [...this._outbox, ...this._pending.values()];
		this._outbox = [];
		this._pending.clear();
		for (const req of all) {
			clearTimeout(req.timer);
			req.reject(new ChatError(code, msg, { op: req.op, ch: req.fields.ch }));
		}
	}

	/* Closes for good; resolves once the socket has closed (3 s at most). */
	close() {
		if (this._state === 'closed') return this._closing;
		const ws = this._ws;
		this._ws = null;
		clearTimeout(this._retryTimer);
		clearTimeout(this._connectTimer);
		clearInterval(this._pingTimer);
		this._retryTimer = this._connectTimer = this._pingTimer = null;
		this._setState('closed');
		this._failAll('closed', 'the client was closed');
		this._settleReady(new ChatError('closed', 'the client was closed'));
		this._closing = new Promise((resolve) => {
			if (!ws || ws.readyState === WS_CLOSED) {
				resolve();
				return;
			}
			const t = setTimeout(resolve, 3000);
			ws.addEventListener('close', () => { clearTimeout(t); resolve(); });
			try {
				ws.close(1000);
			} catch {
				clearTimeout(t);
				resolve();
			}
		});
		return this._closing;
	}

	/* Connects again now: after offline, or instead of waiting out a back-off. */
	reconnect() {
		if (this._state === 'closed') throw new ChatError('closed', 'the client was closed');
		this._fatal = false;
		this._attempt = 0;
		if (this._ws) {
			this._drop('reconnect() was called', true);
			return;
		}
		clearTimeout(this._retryTimer);
		this._retryTimer = null;
		this._open();
	}

	/* Where the client is: [{ch, seq, epoch}]. */
	joinedChannels() {
		return [...this._channels].map(([ch, c]) => ({ ch, seq: c.seq, epoch: c.epoch }));
	}

	/* ---------------------------------------------------------- requests */

	/*
	 * Sends req on the current socket with a fresh id and arms its reply
	 * timeout.
	 */
	_transmit(req) {
		const ws = this._ws;
		req.id = this._nextId++;
		const frame = Object.assign({ op: req.op }, req.fields, { op: req.op, id: req.id });
		let text;
		try {
			text = JSON.stringify(frame);
		} catch (e) {
			req.reject(new ChatError('bad_field', `cannot serialize the ${req.op}: ${e.message}`, { op: req.op }));
			return;
		}
		this._pending.set(req.id, req);
		req.sentAt = Date.now();
		req.timer = setTimeout(() => {
			if (this._pending.get(req.id) !== req) return;
			this._pending.delete(req.id);
			req.reject(new ChatError('timeout', `no answer to ${req.op} within ${req.timeoutMs} ms`,
			    { op: req.op, ch: req.fields.ch }));
		}, req.timeoutMs);
		try {
			if (ws && ws.readyState === WS_OPEN) ws.send(text);
		} catch { /* closing: its close settles req */ }
		this._emit('frame', { dir: 'out', frame: redact(frame) });
	}

	/* Arms the time req may wait in the outbox. */
	_wait(req, ms) {
		clearTimeout(req.timer);
		req.timer = setTimeout(() => {
			const i = this._outbox.indexOf(req);
			if (i < 0) return;
			this._outbox.splice(i, 1);
			req.reject(new ChatError('offline', `not sent: not connected within ${ms} ms`,
			    { op: req.op, ch: req.fields.ch }));
		}, ms);
	}

	_flush() {
		while (this._state === 'connected' && this._outbox.length) {
			const req = this._outbox.shift();
			clearTimeout(req.timer);
			this._transmit(req);
		}
	}

	/* The application's request: sent now, queued, or refused. */
	_request(op, fields, { timeoutMs = this._o.timeoutMs, done = null } = {}) {
		return new Promise((resolve, reject) => {
			const req = { op, fields, timeoutMs, done, resolve, reject, internal: false, timer: null, id: null, parts: null };
			if (this._state === 'closed') {
				reject(new ChatError('closed', 'the client was closed', { op, ch: fields.ch }));
			} else if (this._state === 'offline') {
				reject(new ChatError('offline', 'the client is offline', { op, ch: fields.ch }));
			} else if (this._state === 'connected') {
				this._transmit(req);
			} else if (this._outbox.length >= this._o.queueMax) {
				reject(new ChatError('offline', `not sent: ${this._o.queueMax} requests already wait for the connection`,
				    { op, ch: fields.ch }));
			} else {
				this._outbox.push(req);
				this._wait(req, LONG_WAIT.has(op) ? this._o.queueMs : timeoutMs);
			}
		});
	}

	/* The client's own request, on the current socket whatever the state. */
	_call(op, fields, { done = null } = {}) {
		return new Promise((resolve, reject) => {
			this._transmit({ op, fields, timeoutMs: this._o.timeoutMs, done, resolve, reject,
				internal: true, timer: null, id: null, parts: null });
		});
	}

	/* A frame answering req: assembled across frames, then settled. */
	_reply(req, f) {
		if (f.op === 'err') {
			this._pending.delete(req.id);
			clearTimeout(req.timer);
			req.reject(replyError(f, req));
			return;
		}
		(req.parts ??= []).push(f);
		if (f.more === true && (f.op === 'joined' || f.op === 'history')) return;
		this._pending.delete(req.id);
		clearTimeout(req.timer);
		let r = f;
		if (req.parts.length > 1) {
			r = { ...req.parts[0], msgs: req.parts.flatMap((p) => p.msgs || []), more: false };
		}
		if (r.op === 'pong') r = { ...r, rtt: Date.now() - req.sentAt };
		if (req.done) {
			try {
				req.done(r);
			} catch (e) {
				rethrow(e);
			}
		}
		req.resolve(r);
	}

	_onMessage(data) {
		if (typeof data !== 'string') return;	/* the relay sends only text */
		let f;
		try {
			f = JSON.parse(data);
		} catch {
			return;
		}
		if (f === null || typeof f !== 'object' || Array.isArray(f)) return;
		this._emit('frame', { dir: 'in', frame: f });
		if (f.id !== undefined) {
			/* Only replies carry an id; one nobody waits for came too late. */
			const req = this._pending.get(f.id);
			if (req) this._reply(req, f);
			return;
		}
		if ((f.op === 'msg' || f.op === 'presence') && this._leaving.has(f.ch)) return;
		if (f.op === 'msg') {
			if (this._accept(f)) this._emit('msg', f);
		} else if (PASSED_ON.has(f.op)) {
			this._emit(f.op, f);
		} else if (f.op === 'err') {
			this._emit('err', replyError(f, null));
		} else if (f.op === 'bye') {
			this._bye = f;
			this._emit('bye', f);
		}
	}

	/* ------------------------------------------------------ the protocol */

	/*
	 * Any op but auth, with its fields as in docs/protocol.md; resolves
	 * with the reply.  The wrappers below come through here, so a join,
	 * leave, watch or unwatch made with request() is tracked the same.
	 */
	request(op, fields = {}, { timeoutMs } = {}) {
		if (typeof op !== 'string' || op === '' || op === 'auth') {
			return Promise.reject(new TypeError('chatrelay: request(op, fields): op must name an op other than auth'));
		}
		const f = { ...fields };
		const opts = { timeoutMs: timeoutMs ?? this._o.timeoutMs };
		if (op === 'join') {
			opts.done = (j) => {
				this._leaving.delete(j.ch);
				if (!this._channels.has(j.ch)) this._channels.set(j.ch, { seq: j.seq ?? 0, epoch: j.epoch ?? null });
			};
		} else if (op === 'watch') {
			opts.done = () => this._watches.add(f.ch);
		} else if (op === 'leave' || op === 'unwatch') {
			return this._forget(op, f, opts);
		}
		return this._request(op, f, opts);
	}

	/*
	 * leave or unwatch: forgotten at once, so that no connection restores
	 * it; sent if the relay's connection holds it, else answered here.
	 */
	_forget(op, f, opts) {
		if (op === 'unwatch') this._watches.delete(f.ch);
		else this._channels.delete(f.ch);
		const held = this._state === 'connected' || this._welcomed ||
		    this._outbox.some((r) => r.op === (op === 'leave' ? 'join' : 'watch') && r.fields.ch === f.ch);
		if (!held && this._state !== 'closed') {
			return Promise.resolve(op === 'leave' ? { op: 'left', ch: f.ch } : { op: 'ok' });
		}
		if (op === 'unwatch') return this._request(op, f, opts);
		this._leaving.add(f.ch);
		const p = this._request(op, f, opts);
		const settled = () => { this._leaving.delete(f.ch); };
		p.then(settled, settled);
		return p;
	}

	join(ch, { history, since, epoch } = {}) { return this.request('join', { ch, history, since, epoch }); }
	leave(ch) { return this.request('leave', { ch }); }
	send(ch, text, meta) { return this.request('send', { ch, text, meta: meta ?? undefined }); }
	whisper(to, text) { return this.request('whisper', { to, text }); }
	history(ch, { limit, since } = {}) { return this.request('history', { ch, limit, since }); }
	who(ch) { return this.request('who', { ch }); }
	ping() { return this.request('ping'); }
	report(user, ch, seq, reason) { return this.request('report', { user, ch, seq, reason }); }

	/* The moderators' ops (a moderator's or admin's token on /admin). */
	stats() { return this.request('stats'); }
	channels({ prefix, limit } = {}) { return this.request('channels', { prefix, limit }); }
	user(id) { return this.request('user', { user: id }); }
	kick(user, reason) { return this.request('kick', { user, reason }); }
	mute(user, { ch, secs, reason } = {}) { return this.request('mute', { user, ch, secs, reason }); }
	unmute(user, ch) { return this.request('unmute', { user, ch }); }
	ban(user, { secs, reason } = {}) { return this.request('ban', { user, secs, reason }); }
	unban(user) { return this.request('unban', { user }); }
	announce(text, ch) { return this.request('announce', { text, ch }); }
	slowmode(ch, secs) { return this.request('slowmode', { ch, secs }); }
	delete(ch, seq) { return this.request('delete', { ch, seq }); }
	watch(pattern) { return this.request('watch', { ch: pattern }); }
	unwatch(pattern) { return this.request('unwatch', { ch: pattern }); }
}

/*
 * Returns a client connecting to url with options (see the top of the
 * file); a third argument is merged into options.
 */
export function connect(url, options = {}, more = {}) {
	return new Client(url, { ...options, ...more });
}

export default { connect, codePoints, ChatError, PROTOCOL };
