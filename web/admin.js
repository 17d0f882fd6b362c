/*
 * admin.js: the moderators' console (admin.html).  One WebSocket to /admin,
 * authenticated by an auth frame with the token (never in the URL); every
 * request carries an id and its answer is matched by it.  All data goes on
 * the page through textContent / text nodes (el() below), never as markup.
 *
 * The token comes from #token=JWT in the address (the relay's open mode
 * prints such a link), which is then removed from the address bar, or from
 * the token box; it is kept in sessionStorage so a reload reconnects.
 */
'use strict';

(() => {
	const TOKEN_KEY = 'chatrelay.console.token';
	const WATCH_KEY = 'chatrelay.console.watches';
	const VIEW_MAX = 200;		/* messages kept per watched view */
	const FEED_MAX = 200;		/* moderation feed entries */
	const RESULTS_MAX = 100;	/* results log entries */
	const WATCH_MAX = 32;		/* the relay's limit per connection */
	const POLL_MS = 5000;		/* stats and channels */
	const REQUEST_TIMEOUT_MS = 10000;
	const BACKOFF_MIN_MS = 1000;
	const BACKOFF_MAX_MS = 30000;
	/* Close codes after which reconnecting would only fail again. */
	const FINAL_CLOSES = {
		4001: 'authentication failed',
		4003: 'banned',
		4008: 'kicked by a moderator',
	};

	const $ = (id) => document.getElementById(id);

	/*
	 * Makes an element.  props: class, text, title, dataset, on<event>, and
	 * any other attribute; children: nodes or strings (as text nodes).
	 */
	function el(tag, props, ...kids) {
		const e = document.createElement(tag);
		for (const [k, v] of Object.entries(props || {})) {
			if (v === undefined || v === null || v === false) continue;
			if (k === 'class') e.className = v;
			else if (k === 'text') e.textContent = String(v);
			else if (k === 'dataset') Object.assign(e.dataset, v);
			else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
			else e.setAttribute(k, v === true ? '' : String(v));
		}
		for (const kid of kids.flat()) {
			if (kid === undefined || kid === null || kid === false) continue;
			e.append(kid instanceof Node ? kid : String(kid));
		}
		return e;
	}

	/* ------------------------------------------------------------ formats */

	const pad = (n) => String(n).padStart(2, '0');

	function clock(ts) {
		const d = new Date(ts);
		return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
	}

	/* A moment: its time today, or its date and time. */
	function when(ts) {
		const d = new Date(ts);
		const now = new Date();
		if (d.toDateString() === now.toDateString()) return clock(ts);
		return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(ts)}`;
	}

	/* A length of time, in at most two units: "10 min", "1 h 30 min", "1 day". */
	function duration(ms) {
		let s = Math.max(0, Math.round(ms / 1000));
		const units = [['day', 86400], ['h', 3600], ['min', 60], ['s', 1]];
		const parts = [];
		for (const [name, size] of units) {
			if (s >= size && parts.length < 2) {
				const n = Math.floor(s / size);
				s -= n * size;
				parts.push(name === 'day' ? `${n} day${n === 1 ? '' : 's'}` : `${n} ${name}`);
			} else if (parts.length) {
				break;
			}
		}
		return parts.length ? parts.join(' ') : '0 s';
	}

	/* "until 12:10:00 (in 9 min)", or "until lifted" for 0 / null. */
	function until(u, lifted = 'until lifted') {
		if (!u) return lifted;
		const left = u - Date.now();
		return `until ${when(u)}` + (left > 0 ? ` (in ${duration(left)})` : ' (expired)');
	}

	function num(v, digits = 0) {
		if (typeof v !== 'number' || !Number.isFinite(v)) return '–';
		return digits ? v.toFixed(digits) : String(v);
	}

	/* Who did it: "Mod (mod-1)", or just the id when the name is the id. */
	function who(by) {
		if (!by) return 'someone';
		if (typeof by === 'string') return by;
		if (by.name && by.id && by.name !== by.id) return `${by.name} (${by.id})`;
		return by.id || by.name || 'someone';
	}

	const where = (ch) => (ch ? `in #${ch}` : 'everywhere');

	/* An err frame (or a local failure) in words. */
	function describeErr(f) {
		if (f.local) return f.msg;
		let s = `Refused (${f.code || 'error'})` + (f.msg ? `: ${f.msg}` : '');
		if (typeof f.retry_ms === 'number') s += ` (retry in ${Math.max(1, Math.ceil(f.retry_ms / 1000))} s)`;
		return s;
	}

	/* ------------------------------------------------------------- storage */

	function store(key, value) {
		try {
			if (value === null) sessionStorage.removeItem(key);
			else sessionStorage.setItem(key, value);
		} catch { /* storage off: the page still works, a reload forgets */ }
	}

	function load(key) {
		try { return sessionStorage.getItem(key); } catch { return null; }
	}

	/* The token of #token=..., removed from the address bar; else the stored one. */
	function initialToken() {
		const hash = location.hash.replace(/^#/, '');
		if (hash) {
			const params = new URLSearchParams(hash);
			const t = params.get('token');
			if (t) {
				params.delete('token');
				const rest = params.toString();
				history.replaceState(history.state, '',
				    location.pathname + location.search + (rest ? `#${rest}` : ''));
				store(TOKEN_KEY, t);
				return t;
			}
		}
		return load(TOKEN_KEY) || '';
	}

	/* --------------------------------------------------------- connection */

	const state = {
		token: '',
		ws: null,
		welcome: null,
		attempt: 0,		/* reconnects since the last welcome */
		reconnectTimer: null,
		countdownTimer: null,
		reconnectAt: 0,
		stopped: false,		/* the moderator disconnected: no reconnect */
		bye: null,		/* the last bye of this connection */
		authErr: null,		/* the err answering our auth */
		pending: new Map(),	/* id -> {resolve, timer} */
		nextId: 1,
		unsupported: new Set(),	/* ops the relay answered bad_op, until a reconnect */
		inflight: new Set(),	/* polled ops waiting for their answer */
		pollTimer: null,
		watches: new Map(),	/* pattern -> view */
	};

	function setBadge(kind, text, detail = '') {
		const b = $('conn-state');
		b.dataset.state = kind;
		b.textContent = text;
		$('conn-detail').textContent = detail;
		$('reconnect-now').hidden = !(kind === 'reconnecting' || kind === 'closed') || !state.token;
		document.body.dataset.conn = kind;
	}

	const connected = () => state.ws !== null && state.ws.readyState === WebSocket.OPEN && state.welcome !== null;

	function clearReconnect() {
		clearTimeout(state.reconnectTimer);
		clearInterval(state.countdownTimer);
		state.reconnectTimer = null;
		state.countdownTimer = null;
	}

	function connect() {
		clearReconnect();
		if (state.ws) {
			const old = state.ws;
			state.ws = null;
			old.onclose = null;
			old.onmessage = null;
			try { old.close(1000); } catch { /* never opened */ }
			connectionLost();
		}
		if (!state.token) {
			setBadge('idle', 'not connected', 'paste a moderator token to connect');
			return;
		}
		state.stopped = false;
		state.bye = null;
		state.authErr = null;
		state.welcome = null;
		const url = `${location.protocol === 'https:' ? 'wss:' : 'ws:'}//${location.host}/admin`;
		setBadge('connecting', 'connecting…', url);
		let ws;
		try {
			ws = new WebSocket(url);
		} catch (e) {
			scheduleReconnect(`cannot open ${url}: ${e.message}`);
			return;
		}
		state.ws = ws;
		ws.onopen = () => ws.send(JSON.stringify({ op: 'auth', token: state.token, id: 'auth' }));
		ws.onmessage = (e) => {
			let f;
			try { f = JSON.parse(e.data); } catch { return; }
			if (f && typeof f === 'object') onFrame(f);
		};
		ws.onclose = (e) => onClose(ws, e);
	}

	/* What the end of a connection undoes: pending answers, polling, live views. */
	function connectionLost() {
		clearInterval(state.pollTimer);
		state.pollTimer = null;
		state.inflight.clear();
		for (const [id, p] of state.pending) {
			clearTimeout(p.timer);
			p.resolve({ op: 'err', code: 'disconnected', msg: 'Not sent: the connection closed before the answer', local: true });
			state.pending.delete(id);
		}
		for (const v of state.watches.values()) setViewStatus(v, 'waiting', 'waiting for the connection');
		state.welcome = null;
	}

	function onClose(ws, e) {
		if (ws !== state.ws) return;
		state.ws = null;
		const wasWelcomed = state.welcome !== null;
		connectionLost();
		const reason = (state.authErr && `${state.authErr.msg || state.authErr.code}`) ||
		    (state.bye && state.bye.reason) || e.reason || '';
		if (state.stopped) {
			if (state.token) setBadge('stopped', 'disconnected', 'you disconnected');
			else setBadge('idle', 'not connected', 'token forgotten; paste a moderator token to connect');
			return;
		}
		if (FINAL_CLOSES[e.code]) {
			const why = FINAL_CLOSES[e.code];
			const hint = e.code === 4001 ? ' Paste a fresh moderator token to connect again.' : '';
			setBadge('closed', `disconnected: ${why}`,
			    `close ${e.code}${reason ? `: ${reason}` : ''}. Not reconnecting.${hint}`);
			logResult('err', `connection closed (${e.code}, ${why})${reason ? `: ${reason}` : ''}`);
			return;
		}
		if (wasWelcomed) logResult('err', `connection lost (close ${e.code}${reason ? `: ${reason}` : ''})`);
		let hintMs = 0;
		if (state.bye && typeof state.bye.reconnect_ms === 'number') hintMs = state.bye.reconnect_ms;
		scheduleReconnect(`close ${e.code}${reason ? `: ${reason}` : ''}`, hintMs);
	}

	/* Exponential back-off with jitter (0.5 to 1 times the step), at least hintMs. */
	function scheduleReconnect(detail, hintMs = 0) {
		clearReconnect();
		const step = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** state.attempt);
		const delay = Math.max(hintMs, Math.round(step * (0.5 + Math.random() * 0.5)));
		state.attempt += 1;
		state.reconnectAt = Date.now() + delay;
		const tick = () => {
			const left = Math.max(0, Math.ceil((state.reconnectAt - Date.now()) / 1000));
			setBadge('reconnecting', `disconnected — reconnecting in ${left} s`, detail);
		};
		tick();
		state.countdownTimer = setInterval(tick, 1000);
		state.reconnectTimer = setTimeout(connect, delay);
	}

	function disconnect() {
		clearReconnect();
		state.stopped = true;
		if (state.ws) {
			try { state.ws.close(1000); } catch { /* not open */ }
		} else {
			setBadge(state.token ? 'stopped' : 'idle', 'disconnected', 'you disconnected');
		}
	}

	function onWelcome(f) {
		state.welcome = f;
		state.attempt = 0;
		state.unsupported.clear();
		const u = f.user || {};
		setBadge('connected', `connected as ${u.name || u.id} (${u.role})`,
		    `on node ${f.node} · user ${u.id} · session ${f.session}`);
		for (const v of state.watches.values()) sendWatch(v);
		poll();
		clearInterval(state.pollTimer);
		state.pollTimer = setInterval(poll, POLL_MS);
	}

	function onFrame(f) {
		if (f.id !== undefined && f.id !== null && f.op !== 'msg') {
			const p = state.pending.get(String(f.id));
			if (p) {
				state.pending.delete(String(f.id));
				clearTimeout(p.timer);
				p.resolve(f);
				return;
			}
		}
		switch (f.op) {
		case 'welcome': onWelcome(f); break;
		case 'msg': routeMsg(f); break;
		case 'delete': markDeleted(f.ch, f.seq); break;
		case 'mod': feedMod(f); break;
		case 'report': feedReport(f); break;
		case 'notice': feedNotice(f); break;
		case 'bye': state.bye = f; break;
		case 'err':
			if (f.id === 'auth') state.authErr = f;
			else logResult('err', describeErr(f));
			break;
		default: break;
		}
	}

	/*
	 * Sends obj with a fresh id; resolves with the frame answering it, or a
	 * local err ({local: true}) if not connected, closed first or too late.
	 */
	function request(obj) {
		return new Promise((resolve) => {
			if (!connected()) {
				resolve({ op: 'err', code: 'not_connected', msg: 'Not sent: not connected to the relay', local: true });
				return;
			}
			const id = `c${state.nextId++}`;
			const timer = setTimeout(() => {
				state.pending.delete(id);
				resolve({ op: 'err', code: 'timeout', msg: `No answer within ${REQUEST_TIMEOUT_MS / 1000} s`, local: true });
			}, REQUEST_TIMEOUT_MS);
			state.pending.set(id, { resolve, timer });
			state.ws.send(JSON.stringify({ ...obj, id }));
		});
	}

	/* ------------------------------------------------------------ results */

	function setResult(target, status, text) {
		if (!target) return;
		target.dataset.status = status;
		target.textContent = text;
	}

	function logResult(status, text) {
		const list = $('results');
		const empty = list.querySelector('.empty');
		if (empty) empty.remove();
		list.prepend(el('li', { dataset: { status } },
		    el('time', { text: clock(Date.now()) }), ' ', el('span', { text })));
		while (list.children.length > RESULTS_MAX) list.lastElementChild.remove();
	}

	/*
	 * Runs one action: desc says what it does ("mute guest:bob everywhere
	 * for 10 min"); the outcome goes to target (the line by the form) and
	 * the results log.  Resolves with the answer (an ok or an err).
	 */
	async function runAction(desc, obj, target) {
		setResult(target, 'pending', `Sending: ${desc}…`);
		const r = await request(obj);
		if (r.op === 'err') {
			const text = `${desc}: ${describeErr(r)}`;
			setResult(target, 'err', text);
			logResult('err', text);
		} else {
			const text = `Done: ${desc}`;
			setResult(target, 'ok', text);
			logResult('ok', text);
		}
		return r;
	}

	/* --------------------------------------------------- stats & channels */

	function poll() {
		if (!connected()) return;
		refreshStats();
		refreshChannels();
	}

	/* Sends a polled op unless it is unsupported or still unanswered; resolves with the answer or null. */
	async function polled(op, obj, statusEl) {
		if (state.unsupported.has(op) || state.inflight.has(op)) return null;
		state.inflight.add(op);
		const r = await request(obj);
		state.inflight.delete(op);
		if (r.op === 'err') {
			if (r.code === 'bad_op') state.unsupported.add(op);
			setResult(statusEl, 'err', describeErr(r));
			return null;
		}
		setResult(statusEl, 'ok', '');
		return r;
	}

	function missingLine(target, missing) {
		const m = Array.isArray(missing) ? missing : [];
		target.hidden = m.length === 0;
		target.textContent = m.length ? `no answer from: ${m.join(', ')}` : '';
	}

	async function refreshStats() {
		const r = await polled('stats', { op: 'stats' }, $('stats-status'));
		if (!r) return;
		const rows = $('stats-rows');
		const nodes = Array.isArray(r.nodes) ? r.nodes : [];
		const me = state.welcome && state.welcome.node;
		rows.replaceChildren(...nodes.map((n) => {
			const about = [n.bus ? String(n.bus) : null, n.workers ? `${n.workers} workers` : null].filter(Boolean).join(', ');
			return el('tr', { class: n.node === me ? 'mine' : null },
			    el('th', { scope: 'row', class: 'node', title: n.node === me ? 'this console is connected to this instance' : null },
			        el('span', { text: n.node }),
			        about ? el('span', { class: `node-about bus-${n.bus}`, text: about }) : null),
			    el('td', { class: 'num', text: num(n.connections) }),
			    el('td', { class: 'num', text: num(n.users) }),
			    el('td', { class: 'num', text: num(n.channels) }),
			    el('td', { class: 'num', text: num(n.msgs_in_per_s, 1) }),
			    el('td', { class: 'num', text: num(n.msgs_out_per_s, 1) }));
		}));
		if (!nodes.length) rows.append(el('tr', { class: 'empty' }, el('td', { colspan: 6, text: 'no instance answered' })));
		const t = r.total || {};
		$('stats-total').replaceChildren(el('tr', {},
		    el('th', { scope: 'row', text: `total (${num(t.nodes)})` }),
		    el('td', { class: 'num', text: num(t.connections) }),
		    el('td', { class: 'num', text: num(t.users) }),
		    el('td', { class: 'num', text: num(t.channels) }),
		    el('td', { class: 'num', text: num(t.msgs_in_per_s, 1) }),
		    el('td', { class: 'num', text: num(t.msgs_out_per_s, 1) })));
		missingLine($('stats-missing'), r.missing);
		$('stats-updated').textContent = `updated ${clock(Date.now())}`;
	}

	async function refreshChannels() {
		const prefix = $('chan-prefix').value.trim();
		const req = { op: 'channels', limit: 20 };
		if (prefix) req.prefix = prefix;
		const r = await polled('channels', req, $('channels-status'));
		if (!r) return;
		const chans = Array.isArray(r.channels) ? r.channels : [];
		const rows = $('channels-rows');
		rows.replaceChildren(...chans.map((c) => {
			const watched = watchedBy(c.ch);
			return el('tr', {},
			    el('th', { scope: 'row', class: 'ch', text: c.ch }),
			    el('td', { class: 'num', text: num(c.members) }),
			    el('td', { class: 'num', text: num(c.seq) }),
			    el('td', { class: 'btn-cell' }, el('button', {
				    type: 'button', class: 'small', text: watched ? 'watching' : 'watch',
				    disabled: !!watched, 'aria-label': `watch ${c.ch}`,
				    onclick: () => addWatch(c.ch) })));
		}));
		if (!chans.length) {
			rows.append(el('tr', { class: 'empty' }, el('td', { colspan: 4,
			    text: prefix ? `no channel starts with "${prefix}"` : 'no channels' })));
		}
		missingLine($('channels-missing'), r.missing);
	}

	/* ------------------------------------------------------------ watches */

	function matches(pattern, ch) {
		if (pattern === '*') return true;
		if (pattern.endsWith('*')) return ch.startsWith(pattern.slice(0, -1));
		return pattern === ch;
	}

	function watchedBy(ch) {
		for (const p of state.watches.keys()) if (matches(p, ch)) return p;
		return null;
	}

	function saveWatches() {
		store(WATCH_KEY, JSON.stringify([...state.watches.keys()]));
	}

	function setViewStatus(v, status, text) {
		v.status.dataset.status = status;
		v.status.textContent = text;
	}

	function makeView(pattern) {
		const list = el('ol', { class: 'msgs', 'aria-label': `messages of ${pattern}`, 'aria-live': 'polite' },
		    el('li', { class: 'empty', text: 'No messages yet.' }));
		const status = el('span', { class: 'watch-status', dataset: { status: 'waiting' }, text: 'waiting' });
		const count = el('span', { class: 'watch-count muted', text: '' });
		const section = el('section', { class: 'watch', dataset: { pattern } },
		    el('header', {},
		        el('h3', { text: pattern }), status, count,
		        el('span', { class: 'spacer' }),
		        el('button', { type: 'button', class: 'small secondary', text: 'clear',
		            'aria-label': `clear the messages of ${pattern}`, onclick: () => clearView(v) }),
		        el('button', { type: 'button', class: 'small secondary unwatch', text: 'unwatch',
		            'aria-label': `unwatch ${pattern}`, onclick: () => removeWatch(pattern) })),
		    list);
		const v = { pattern, section, list, status, count, n: 0 };
		return v;
	}

	function clearView(v) {
		v.list.replaceChildren(el('li', { class: 'empty', text: 'No messages yet.' }));
		v.n = 0;
		v.count.textContent = '';
	}

	function refreshWatchesEmpty() {
		$('watches-empty').hidden = state.watches.size > 0;
	}

	/* Validates what was typed in the watch box: null if fine, else why not. */
	function badPattern(p) {
		if (p === '*') return null;
		if (!/^[A-Za-z0-9_.:-]{1,64}\*?$/.test(p) || p.length > 65)
			return 'a channel name (letters, digits, _ . : -) or a prefix ending with *';
		return null;
	}

	function addWatch(pattern) {
		const result = $('watch-result');
		const why = badPattern(pattern);
		if (why) {
			setResult(result, 'err', `Not a channel or pattern: ${why}`);
			return;
		}
		const have = state.watches.get(pattern);
		if (have) {
			have.section.scrollIntoView({ block: 'nearest' });
			setResult(result, 'ok', `Already watching ${pattern}`);
			return;
		}
		if (state.watches.size >= WATCH_MAX) {
			setResult(result, 'err', `At most ${WATCH_MAX} patterns at once: unwatch one first`);
			return;
		}
		const v = makeView(pattern);
		state.watches.set(pattern, v);
		$('watches').append(v.section);
		saveWatches();
		refreshWatchesEmpty();
		markChannelButtons();
		if (connected()) sendWatch(v, true);
		else setResult(result, 'pending', `Will watch ${pattern} once connected`);
	}

	async function sendWatch(v, fromForm = false) {
		setViewStatus(v, 'pending', 'asking…');
		const r = await request({ op: 'watch', ch: v.pattern });
		if (state.watches.get(v.pattern) !== v) return;	/* removed meanwhile */
		if (r.op === 'err') {
			if (r.local && r.code !== 'timeout') {
				setViewStatus(v, 'waiting', 'waiting for the connection');
				return;
			}
			const text = `watch ${v.pattern}: ${describeErr(r)}`;
			dropView(v);
			setResult($('watch-result'), 'err', text);
			logResult('err', text);
			return;
		}
		setViewStatus(v, 'live', 'live');
		if (fromForm) {
			setResult($('watch-result'), 'ok', `Done: watching ${v.pattern}`);
			logResult('ok', `Done: watch ${v.pattern}`);
		}
	}

	function dropView(v) {
		v.section.remove();
		state.watches.delete(v.pattern);
		saveWatches();
		refreshWatchesEmpty();
		markChannelButtons();
	}

	async function removeWatch(pattern) {
		const v = state.watches.get(pattern);
		if (!v) return;
		dropView(v);
		if (!connected()) return;
		const r = await request({ op: 'unwatch', ch: pattern });
		if (r.op === 'err' && !(r.code === 'bad_field' && /not watched/.test(r.msg || ''))) {
			const text = `unwatch ${pattern}: ${describeErr(r)}`;
			setResult($('watch-result'), 'err', text);
			logResult('err', text);
		} else {
			setResult($('watch-result'), 'ok', `Done: unwatched ${pattern}`);
		}
	}

	/* The watch buttons of the channels table follow what is watched. */
	function markChannelButtons() {
		for (const row of $('channels-rows').rows) {
			const th = row.querySelector('th.ch');
			const b = row.querySelector('button');
			if (!th || !b) continue;
			const w = watchedBy(th.textContent);
			b.disabled = !!w;
			b.textContent = w ? 'watching' : 'watch';
		}
	}

	function routeMsg(f) {
		if (typeof f.ch !== 'string') return;
		for (const v of state.watches.values()) {
			if (matches(v.pattern, f.ch)) appendMsg(v, f);
		}
	}

	function appendMsg(v, f) {
		const list = v.list;
		const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
		const empty = list.querySelector('.empty');
		if (empty) empty.remove();
		const from = f.from || {};
		const name = from.name || from.id || '?';
		const title = `seq ${f.seq} in ${f.ch}` + (f.epoch ? ` (epoch ${f.epoch})` : '') +
		    (f.ts ? ` at ${when(f.ts)}` : '');
		const actions = el('span', { class: 'msg-actions' },
		    el('button', { type: 'button', class: 'tiny', text: 'mute', title: `mute ${from.id}`,
		        'aria-label': `mute ${from.id}`, onclick: () => pickUser(from.id, 'act-mute') }),
		    el('button', { type: 'button', class: 'tiny', text: 'kick', title: `kick ${from.id}`,
		        'aria-label': `kick ${from.id}`, onclick: () => pickUser(from.id, 'act-kick') }),
		    el('button', { type: 'button', class: 'tiny danger del', text: 'delete',
		        title: `delete message ${f.seq} of ${f.ch}`, 'aria-label': `delete message ${f.seq} of ${f.ch}`,
		        onclick: () => deleteMsg(f.ch, f.seq, name, f.text) }));
		const li = el('li', { class: 'msg', title, dataset: { ch: f.ch, seq: String(f.seq) } },
		    el('div', { class: 'msg-main' },
		        el('div', { class: 'msg-head' },
		            el('time', { text: f.ts ? clock(f.ts) : '' }),
		            el('span', { class: 'msg-ch', text: `#${f.ch}` }),
		            el('b', { class: 'msg-from', text: name }),
		            el('span', { class: 'msg-uid', text: from.id || '' })),
		        el('div', { class: 'msg-text', text: typeof f.text === 'string' ? f.text : '' })),
		    actions);
		list.append(li);
		v.n += 1;
		while (list.children.length > VIEW_MAX) list.firstElementChild.remove();
		v.count.textContent = `${v.n} msg${v.n === 1 ? '' : 's'}` + (v.n > VIEW_MAX ? ` (last ${VIEW_MAX} shown)` : '');
		if (atBottom) list.scrollTop = list.scrollHeight;
	}

	function markDeleted(ch, seq) {
		for (const v of state.watches.values()) {
			for (const li of v.list.querySelectorAll('li.msg')) {
				if (li.dataset.ch === ch && li.dataset.seq === String(seq) && !li.classList.contains('deleted')) {
					li.classList.add('deleted');
					const del = li.querySelector('button.del');
					if (del) del.replaceWith(el('span', { class: 'deleted-tag', text: 'deleted' }));
				}
			}
		}
	}

	async function deleteMsg(ch, seq, name, text) {
		const excerpt = text && text.length > 80 ? `${text.slice(0, 80)}…` : text;
		if (!window.confirm(`Delete message ${seq} of ${name} in #${ch} from history?\n\n${excerpt || ''}`)) return;
		const r = await runAction(`delete message ${seq} in #${ch}`, { op: 'delete', ch, seq }, $('watch-result'));
		if (r.op === 'ok') markDeleted(ch, seq);
	}

	/* ------------------------------------------------------------- feed */

	function feedItem(kind, ts, sentence, ...extra) {
		const list = $('feed');
		const empty = list.querySelector('.empty');
		if (empty) empty.remove();
		const li = el('li', { class: `feed-item ${kind}`, dataset: { kind } },
		    el('time', { text: clock(ts || Date.now()) }), ' ', el('span', { class: 'sentence', text: sentence }), ...extra);
		list.prepend(li);
		while (list.children.length > FEED_MAX) list.lastElementChild.remove();
		return li;
	}

	/* A mod event as a sentence: "mod-1 muted guest:bob everywhere for 10 min: spam". */
	function modSentence(f) {
		const by = who(f.by);
		const user = f.user || 'someone';
		const why = f.reason ? `: ${f.reason}` : '';
		const span = (u) => (u ? `for ${duration(u - (f.ts || Date.now()))}` : null);
		switch (f.action) {
		case 'kick': return `${by} kicked ${user}${why}`;
		case 'mute': return `${by} muted ${user} ${where(f.ch)} ${span(f.until) || 'until unmuted'}${why}`;
		case 'unmute': return `${by} unmuted ${user} ${f.ch ? `in #${f.ch}` : 'everywhere'}`;
		case 'ban': return `${by} banned ${user} ${span(f.until) || 'permanently'}${why}`;
		case 'unban': return `${by} unbanned ${user}`;
		case 'announce': return `${by} announced to ${f.ch ? `#${f.ch}` : 'everyone'}: “${f.text || ''}”`;
		case 'slowmode':
			return f.secs ? `${by} set slow mode on #${f.ch}: one message per ${duration(f.secs * 1000)}`
			    : `${by} turned slow mode off on #${f.ch}`;
		case 'delete':
			return `${by} deleted message ${f.seq} in #${f.ch}` + (f.user ? ` (by ${f.user})` : '') + why;
		default:
			return `${by} did ${f.action || 'something'}${f.user ? ` to ${f.user}` : ''}${f.ch ? ` in #${f.ch}` : ''}${why}`;
		}
	}

	function feedMod(f) {
		const li = feedItem('mod', f.ts, modSentence(f));
		li.dataset.action = String(f.action);
		if (f.node) li.title = `on node ${f.node}`;
		if (f.action === 'delete' && f.ch) markDeleted(f.ch, f.seq);
	}

	function feedReport(f) {
		const user = f.user || '';
		const sentence = `${who(f.by)} reported ${user || 'a message'}` + (f.ch ? ` in #${f.ch}` : '') +
		    (f.seq ? ` (message ${f.seq})` : '') + (f.reason ? `: ${f.reason}` : '');
		const quote = el('blockquote', { class: f.text == null ? 'muted' : null },
		    f.text == null ? 'the reported text is no longer kept' : String(f.text));
		const buttons = el('div', { class: 'action-row' });
		if (user) {
			buttons.append(el('button', { type: 'button', class: 'small', text: `act on ${user}`,
			    onclick: () => { pickUser(user, 'act-mute'); lookupUser(user); } }));
		}
		if (f.ch && f.seq) {
			buttons.append(el('button', { type: 'button', class: 'small danger', text: 'delete message',
			    onclick: () => deleteMsg(f.ch, f.seq, user || '?', f.text) }));
		}
		const li = feedItem('report', f.ts, sentence, quote, buttons);
		if (f.node) li.title = `on node ${f.node}`;
	}

	function feedNotice(f) {
		feedItem('notice', Date.now(), `notice to ${f.ch ? `#${f.ch}` : 'everyone'}: ${f.text}`);
	}

	/* ------------------------------------------------------------- users */

	const userBox = () => $('user-id');

	/* Puts uid in the user box and brings the user panel (and button id) into view. */
	function pickUser(uid, buttonId) {
		if (!uid) return;
		userBox().value = uid;
		$('panel-user').scrollIntoView({ behavior: 'smooth', block: 'start' });
		const b = $(buttonId);
		if (b) b.focus({ preventScroll: true });
	}

	/* The user box, as typed (less blanks around it), or null with a message. */
	function typedUser() {
		const u = userBox().value.trim();
		if (!u) {
			setResult($('user-result'), 'err', 'Enter a user id first (e.g. guest:bob)');
			userBox().focus();
			return null;
		}
		return u;
	}

	function reason() {
		return $('user-reason').value.trim();
	}

	let shownUser = null;	/* whose lookup #user-info shows */

	async function lookupUser(uid) {
		const info = $('user-info');
		info.dataset.status = 'pending';
		info.replaceChildren(el('p', { class: 'muted', text: `Looking up ${uid}…` }));
		const r = await request({ op: 'user', user: uid });
		if (r.op === 'err') {
			const text = `look up ${uid}: ${describeErr(r)}`;
			info.dataset.status = 'err';
			info.replaceChildren(el('p', { class: 'result', dataset: { status: 'err' }, text }));
			logResult('err', text);
			return;
		}
		shownUser = uid;
		renderUser(r, uid);
	}

	function renderUser(r, uid) {
		const info = $('user-info');
		info.dataset.status = 'ok';
		const sessions = Array.isArray(r.sessions) ? r.sessions : [];
		const mutes = Array.isArray(r.mutes) ? r.mutes : [];
		const kids = [];
		kids.push(el('h3', {}, el('span', { class: 'uid', text: r.user || uid }), ' ',
		    el('span', { class: `pill ${r.online ? 'on' : 'off'}`, text: r.online ? 'online' : 'offline' })));

		if (sessions.length) {
			kids.push(el('p', { class: 'label', text: `${sessions.length} session${sessions.length === 1 ? '' : 's'}` }));
			kids.push(el('ul', { class: 'sessions' }, sessions.map((s) => el('li', {},
			    el('span', { text: `node ${s.node} · session ${s.session}` }),
			    s.name || s.role ? el('span', { class: 'muted', text: ` · ${s.name || ''}${s.role ? ` (${s.role})` : ''}${s.admin ? ' · console' : ''}` }) : null,
			    el('div', { class: 'chs', text: Array.isArray(s.channels) && s.channels.length
				    ? `in ${s.channels.join(', ')}` : 'in no channel' })))));
		} else {
			kids.push(el('p', { class: 'muted', text: 'No session.' }));
		}

		if (r.ban) {
			const b = r.ban;
			kids.push(el('p', { class: 'state-line banned', text:
			    `Banned ${b.until ? until(b.until) : 'permanently'}` + (b.by ? ` by ${who(b.by)}` : '') +
			    (b.reason ? `: ${b.reason}` : '') }));
		} else {
			kids.push(el('p', { class: 'state-line', text: 'Not banned.' }));
		}

		if (mutes.length) {
			kids.push(el('ul', { class: 'mutes' }, mutes.map((m) => el('li', { class: 'state-line muted-user', text:
			    `Muted ${where(m.ch)} ${until(m.until)}` + (m.by ? ` by ${who(m.by)}` : '') +
			    (m.reason ? `: ${m.reason}` : '') }))));
		} else {
			kids.push(el('p', { class: 'state-line', text: 'Not muted.' }));
		}
		if (Array.isArray(r.missing) && r.missing.length) {
			kids.push(el('p', { class: 'warn', text: `no answer from: ${r.missing.join(', ')}` }));
		}
		kids.push(el('p', { class: 'muted small-text', text: `as of ${clock(Date.now())}` }));
		info.replaceChildren(...kids);
	}

	/* After an action on uid: the lookup shown is refreshed if it is uid's. */
	function afterUserAction(r, uid) {
		if (r.op === 'ok' && shownUser === uid && !state.unsupported.has('user')) lookupUser(uid);
	}

	function selectedText(sel) {
		return sel.options[sel.selectedIndex].text;
	}

	async function doKick() {
		const u = typedUser();
		if (!u) return;
		const req = { op: 'kick', user: u };
		const why = reason();
		if (why) req.reason = why;
		afterUserAction(await runAction(`kick ${u}`, req, $('user-result')), u);
	}

	async function doMute() {
		const u = typedUser();
		if (!u) return;
		const ch = $('mute-ch').value.trim();
		const sel = $('mute-duration');
		const secs = Number(sel.value);
		const req = { op: 'mute', user: u, secs };
		if (ch) req.ch = ch;
		const why = reason();
		if (why) req.reason = why;
		const span = secs ? `for ${selectedText(sel)}` : 'until lifted';
		afterUserAction(await runAction(`mute ${u} ${where(ch)} ${span}`, req, $('user-result')), u);
	}

	async function doUnmute() {
		const u = typedUser();
		if (!u) return;
		const ch = $('mute-ch').value.trim();
		const req = { op: 'unmute', user: u };
		if (ch) req.ch = ch;
		const desc = ch ? `unmute ${u} in #${ch}` : `lift every mute of ${u}`;
		afterUserAction(await runAction(desc, req, $('user-result')), u);
	}

	async function doBan() {
		const u = typedUser();
		if (!u) return;
		const sel = $('ban-duration');
		const secs = Number(sel.value);
		const span = secs ? `for ${selectedText(sel)}` : 'permanently';
		if (!window.confirm(`Ban ${u} ${span}? Every connection of the user closes.`)) return;
		const req = { op: 'ban', user: u, secs };
		const why = reason();
		if (why) req.reason = why;
		afterUserAction(await runAction(`ban ${u} ${span}`, req, $('user-result')), u);
	}

	async function doUnban() {
		const u = typedUser();
		if (!u) return;
		afterUserAction(await runAction(`unban ${u}`, { op: 'unban', user: u }, $('user-result')), u);
	}

	async function doAnnounce() {
		const text = $('announce-text').value;
		const ch = $('announce-ch').value.trim();
		const out = $('announce-result');
		if (!text.trim()) {
			setResult(out, 'err', 'Write the announcement first');
			return;
		}
		const req = { op: 'announce', text };
		if (ch) req.ch = ch;
		const r = await runAction(`announce to ${ch ? `#${ch}` : 'everyone'}`, req, out);
		if (r.op === 'ok') $('announce-text').value = '';
	}

	async function doSlowmode() {
		const ch = $('slow-ch').value.trim();
		const out = $('slow-result');
		const raw = $('slow-secs').value.trim();
		const secs = Number(raw);
		if (!ch) {
			setResult(out, 'err', 'Enter a channel first');
			return;
		}
		if (raw === '' || !Number.isInteger(secs) || secs < 0 || secs > 86400) {
			setResult(out, 'err', 'Seconds: a whole number from 0 (off) to 86400');
			return;
		}
		const desc = secs ? `slow mode on #${ch}: one message per ${duration(secs * 1000)}` : `slow mode off on #${ch}`;
		await runAction(desc, { op: 'slowmode', ch, secs }, out);
	}

	/* -------------------------------------------------------------- wiring */

	function init() {
		state.token = initialToken();
		$('token').value = state.token;

		$('token-form').addEventListener('submit', (e) => {
			e.preventDefault();
			const t = $('token').value.trim();
			if (!t) {
				setBadge('idle', 'not connected', 'paste a moderator token to connect');
				$('token').focus();
				return;
			}
			delete document.body.dataset.editToken;
			state.token = t;
			store(TOKEN_KEY, t);
			state.attempt = 0;
			connect();
		});
		$('change-token').addEventListener('click', () => {
			document.body.dataset.editToken = '1';
			$('token').focus();
		});
		$('disconnect').addEventListener('click', disconnect);
		$('forget').addEventListener('click', () => {
			store(TOKEN_KEY, null);
			state.token = '';
			$('token').value = '';
			disconnect();
			setBadge('idle', 'not connected', 'token forgotten; paste a moderator token to connect');
		});
		$('reconnect-now').addEventListener('click', () => { state.attempt = 0; connect(); });

		$('chan-form').addEventListener('submit', (e) => {
			e.preventDefault();
			state.unsupported.delete('channels');
			refreshChannels();
		});
		let filterTimer = null;
		$('chan-prefix').addEventListener('input', () => {
			clearTimeout(filterTimer);
			filterTimer = setTimeout(refreshChannels, 300);
		});

		$('watch-form').addEventListener('submit', (e) => {
			e.preventDefault();
			const p = $('watch-input').value.trim();
			if (!p) {
				setResult($('watch-result'), 'err', 'Enter a channel name or a prefix ending with *');
				return;
			}
			addWatch(p);
			$('watch-input').value = '';
		});

		$('user-form').addEventListener('submit', (e) => {
			e.preventDefault();
			const u = typedUser();
			if (u) lookupUser(u);
		});
		$('act-kick').addEventListener('click', doKick);
		$('act-mute').addEventListener('click', doMute);
		$('act-unmute').addEventListener('click', doUnmute);
		$('act-ban').addEventListener('click', doBan);
		$('act-unban').addEventListener('click', doUnban);
		$('announce-form').addEventListener('submit', (e) => { e.preventDefault(); doAnnounce(); });
		$('slow-form').addEventListener('submit', (e) => { e.preventDefault(); doSlowmode(); });

		let saved = [];
		try { saved = JSON.parse(load(WATCH_KEY) || '[]'); } catch { saved = []; }
		for (const p of Array.isArray(saved) ? saved : []) {
			if (typeof p === 'string' && !badPattern(p) && !state.watches.has(p)) {
				const v = makeView(p);
				state.watches.set(p, v);
				$('watches').append(v.section);
			}
		}
		refreshWatchesEmpty();
		connect();
	}

	if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
	else init();
})();
