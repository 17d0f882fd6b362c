/*
 * index.js: the test page (index.html), on top of the JavaScript client
 * (/chatrelay.js, which reconnects, rejoins and recovers missed messages by
 * itself).  The page keeps, per joined channel, its log (messages ordered by
 * seq, and lines saying what happened), its members (from who, kept current
 * by presence) and an unread count; the selected channel is where messages
 * go.  Every piece of data goes on the page as text (el() below), never as
 * markup.
 *
 * The relay's mode is learnt from what it says: a welcome to a name means
 * open mode, to a token token mode; an auth_failed says which it wants.
 * In open mode a whisper to a name without "guest:" goes to guest:NAME.
 *
 * Deep links: ?name=N or ?token=T connects at once, &join=a,b joins those
 * channels (the first is selected).  A token is removed from the address.
 */

import { connect, codePoints } from '/chatrelay.js';

const HISTORY_ON_JOIN = 50;	/* messages asked for with each join */
const OLDER_PAGE = 50;		/* messages per "load older" (history's limit is 100) */
const CHANNEL_RE = /^[A-Za-z0-9_.:-]{1,64}$/;
const NAME_RE = /^[!-~]{1,58}$/;
const STICK_PX = 48;		/* this near the bottom, a log follows new messages */

const $ = (id) => document.getElementById(id);

/*
 * Makes an element.  props: class, text, title, dataset, on<event>, and any
 * other attribute; children: nodes or strings (as text nodes).
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

/* ---------------------------------------------------------------- formats */

const pad = (n) => String(n).padStart(2, '0');

function clock(ts, seconds = false) {
	const d = new Date(ts);
	return `${pad(d.getHours())}:${pad(d.getMinutes())}` + (seconds ? `:${pad(d.getSeconds())}` : '');
}

function fullDate(ts) {
	const d = new Date(ts);
	return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${clock(ts, true)}`;
}

const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/* What each error code means, in a few words (the relay's msg follows). */
const LABELS = {
	rate_limited: 'rate limited',
	slow_mode: 'slow mode',
	too_long: 'too long',
	bad_field: 'refused',
	bad_json: 'refused',
	bad_op: 'refused',
	not_member: 'not a member',
	forbidden: 'not allowed',
	muted: 'muted',
	banned: 'banned',
	filtered: 'filtered',
	unavailable: 'relay unavailable',
	no_such_channel: 'no such channel',
	too_many_channels: 'too many channels',
	auth_required: 'not signed in',
	auth_failed: 'authentication failed',
	internal: 'relay error',
	offline: 'not connected',
	disconnected: 'connection dropped',
	timeout: 'no answer',
	closed: 'disconnected',
};

/*
 * An error (a ChatError, or anything thrown) in words: "Rate limited: too
 * many messages: retry in 1.2 s".
 */
function describeError(e) {
	if (!e) return 'Unknown error';
	const code = e.code || 'error';
	let s = `${LABELS[code] || code}: ${e.msg || e.message || 'failed'}`;
	if (typeof e.retry_ms === 'number') s += `: retry in ${(Math.max(e.retry_ms, 100) / 1000).toFixed(1)} s`;
	if (code === 'muted' && e.until !== undefined) s += e.until ? ` (until ${fullDate(e.until)})` : ' (until lifted)';
	return s.charAt(0).toUpperCase() + s.slice(1);
}

/* Sets a result line: status 'ok' | 'err' | 'pending', or clears it. */
function result(node, status, text) {
	node.textContent = text || '';
	if (text && status) node.dataset.status = status;
	else delete node.dataset.status;
}

/*
 * Keeps box scrolled to its bottom while it was there, also when its size
 * or content's size changes (a narrower window wraps more lines).  Returns
 * {stuck}, which the page sets when it scrolls box itself.
 */
function followBottom(box, content) {
	const f = { stuck: true };
	box.addEventListener('scroll', () => {
		f.stuck = box.scrollHeight - box.scrollTop - box.clientHeight < STICK_PX;
	}, { passive: true });
	if ('ResizeObserver' in window) {
		const ro = new ResizeObserver(() => { if (f.stuck) box.scrollTop = box.scrollHeight; });
		ro.observe(box);
		if (content) ro.observe(content);
	}
	return f;
}

/* ------------------------------------------------------------------ state */

const S = {
	chat: null,		/* the chatrelay.js client */
	mode: null,		/* 'open' | 'token' once the relay said */
	authWith: null,		/* 'name' | 'token': what this client connects with */
	state: 'idle',
	everConnected: false,	/* this client has had a welcome */
	me: null,		/* welcome.user */
	limit: 500,		/* welcome.limits.text */
	channels: new Map(),	/* ch -> Chan, in tab order */
	selected: null,
	wantJoin: [],		/* channels to join once connected */
	countdown: null,	/* {timer, until} while reconnecting */
	whispersUnread: 0,
	whispersVisible: false,
	lastBye: null,
	logFollow: null,	/* followBottom() of #log-scroll */
};

/*
 * One channel of the page.  status: 'joining' | 'joined'.  Messages are
 * kept by key "epochIndex/seq" (a renumbered channel keeps its old
 * messages, ordered before the new ones).
 */
class Chan {
	constructor(name) {
		this.name = name;
		this.status = 'joining';
		this.unread = 0;
		this.members = new Map();	/* id -> name */
		this.count = 0;
		this.whoLoaded = false;
		this.whoError = null;
		this.epochs = [];		/* epochs in the order seen */
		this.msgs = new Map();		/* key -> li */
		this.oldest = null;		/* {e, seq} of the oldest message shown */
		this.hasOlder = false;
		this.loadingOlder = false;
		this.olderNote = '';
		this.olderStatus = null;
		this.scrollTop = null;		/* null: follow the bottom */
		this.log = el('ol', { class: 'log', dataset: { ch: name }, 'aria-label': `messages of ${name}` });
		this.log.hidden = true;
		this.unreadEl = el('span', { class: 'unread', 'aria-label': 'unread messages' });
		this.stateEl = el('span', { class: 'chan-state', text: 'joining…' });
		this.tab = el('li', { class: 'chan', dataset: { ch: name } },
		    el('button', { type: 'button', class: 'chan-select', title: `show #${name}`, onclick: () => select(name) },
			el('span', { class: 'chan-name', text: `#${name}` }), this.stateEl, this.unreadEl),
		    el('button', { type: 'button', class: 'tiny chan-leave', 'aria-label': `leave ${name}`,
			title: `leave #${name}`, text: '×', onclick: () => leaveChannel(name) }));
	}

	epochIndex(epoch) {
		if (!epoch) return Math.max(0, this.epochs.length - 1);
		let i = this.epochs.indexOf(epoch);
		if (i < 0) {
			this.epochs.push(epoch);
			i = this.epochs.length - 1;
			if (i > 0) this.line('lost', 'The channel was numbered anew: what was said in between is lost.');
		}
		return i;
	}

	/* Adds message m (in seq order, once); returns whether it was new. */
	add(m, { live = false } = {}) {
		const e = this.epochIndex(m.epoch);
		const key = `${e}/${m.seq}`;
		if (this.msgs.has(key)) return false;
		const mine = S.me && m.from && m.from.id === S.me.id;
		const from = m.from || { id: '?', name: '?' };
		const li = el('li', {
			class: 'msg' + (mine ? ' mine' : '') + (m.recovered ? ' recovered' : ''),
			dataset: { seq: m.seq, e, from: from.id },
			title: `seq ${m.seq} · ${fullDate(m.ts)} · ${from.id}` + (m.recovered ? ' · recovered after a reconnect' : ''),
		    },
		    el('div', { class: 'msg-head' },
			el('span', { class: 'msg-from', text: from.name, title: from.id }),
			el('time', { class: 'msg-time', datetime: new Date(m.ts).toISOString(), text: clock(m.ts) }),
			m.recovered ? el('span', { class: 'msg-tag', text: 'recovered' }) : null),
		    el('div', { class: 'msg-text', text: m.text }));
		li.dataset.e = e;
		this.msgs.set(key, li);
		/* Before the first message shown that comes after it; lines stay where they were. */
		let before = null;
		for (let n = this.log.lastElementChild; n; n = n.previousElementSibling) {
			if (!n.classList.contains('msg')) continue;
			const ne = Number(n.dataset.e);
			const ns = Number(n.dataset.seq);
			if (ne > e || (ne === e && ns > m.seq)) before = n;
			else break;
		}
		const follow = this.atBottom();
		this.log.insertBefore(li, before);
		if (!this.oldest || e < this.oldest.e || (e === this.oldest.e && m.seq < this.oldest.seq)) {
			this.oldest = { e, seq: m.seq };
		}
		if (live && S.selected !== this.name && !mine) {
			this.unread += 1;
			renderUnread(this);
		}
		if (follow) this.stick();
		return true;
	}

	/* A line in the log saying what happened: kind join, presence, recovered, lost, error, notice. */
	line(kind, text, extra = {}) {
		const follow = this.atBottom();
		const li = el('li', { class: 'sys', dataset: { kind, ...extra }, role: kind === 'error' ? 'alert' : null },
		    el('span', { text }), ' ', el('time', { class: 'msg-time', text: clock(Date.now()) }));
		this.log.append(li);
		if (follow) this.stick();
		return li;
	}

	atBottom() {
		if (S.selected !== this.name) return this.scrollTop === null;
		const s = $('log-scroll');
		return s.scrollHeight - s.scrollTop - s.clientHeight < STICK_PX;
	}

	stick() {
		if (S.selected === this.name) {
			const s = $('log-scroll');
			s.scrollTop = s.scrollHeight;
			if (S.logFollow) S.logFollow.stuck = true;
		} else {
			this.scrollTop = null;
		}
	}
}

/* ---------------------------------------------------------- connection */

/* The badge and its detail line, from the client's state. */
function renderState(st) {
	const badge = $('conn-state');
	const detail = $('conn-detail');
	clearInterval(S.countdown && S.countdown.timer);
	S.countdown = null;
	$('reconnect-now').hidden = true;
	let live = false;
	switch (st.state) {
	case 'connecting':
		badge.dataset.state = S.everConnected ? 'reconnecting' : 'connecting';
		badge.textContent = S.everConnected ? 'reconnecting…' : 'connecting…';
		detail.textContent = st.attempt > 1 ? `attempt ${st.attempt}` : '';
		live = true;
		break;
	case 'connected': {
		const w = st.welcome;
		badge.dataset.state = 'connected';
		badge.textContent = `connected as ${w.user.name}`;
		detail.textContent = `${w.user.id} (${w.user.role}) on ${w.node}, ${S.mode} mode`;
		live = true;
		break;
	}
	case 'reconnecting': {
		badge.dataset.state = 'reconnecting';
		const why = st.reason ? `${st.reason}` : 'connection lost';
		detail.textContent = (st.code ? `lost (close ${st.code}): ${why}` : `lost: ${why}`) +
		    ' — channels are rejoined and missed messages fetched once back';
		const until = Date.now() + (st.inMs || 0);
		const tick = () => {
			const left = Math.ceil((until - Date.now()) / 1000);
			badge.textContent = left > 0 ? `reconnecting in ${left} s` : 'reconnecting…';
		};
		tick();
		S.countdown = { timer: setInterval(tick, 250), until };
		$('reconnect-now').hidden = false;
		live = true;
		break;
	}
	case 'offline': {
		badge.dataset.state = 'offline';
		badge.textContent = `offline: ${offlineReason(st)}`;
		detail.textContent = st.code ? `close ${st.code}; not reconnecting` : 'not reconnecting';
		$('reconnect-now').hidden = !S.everConnected;
		break;
	}
	case 'closed':
	default:
		badge.dataset.state = 'idle';
		badge.textContent = 'disconnected';
		detail.textContent = 'pick a name or paste a token, then connect';
		break;
	}
	document.body.dataset.conn = live ? 'live' : 'idle';
	updateCompose();
	updateWhisperForm();
}

/* Why the client went offline, in a few words. */
function offlineReason(st) {
	const e = st.error;
	if (e && e.code) return describeError(e);
	if (st.code === 4008) return `kicked by a moderator (${st.reason || 'no reason'})`;
	if (st.code === 4003) return `banned (${st.reason || 'no reason'})`;
	return st.reason || 'connection lost';
}

/* Learns the relay's mode from an auth error, and says what to do. */
function learnMode(e) {
	const hint = $('mode-hint');
	const msg = (e && e.msg) || '';
	if (!e) return;
	if (e.code === 'auth_failed' && /open mode/.test(msg)) {
		setMode('open');
		hint.textContent = 'This relay is in open mode: pick a name instead of a token.';
		$('name').focus();
	} else if (e.code === 'auth_failed' && /token is required/.test(msg)) {
		setMode('token');
		hint.textContent = 'This relay is in token mode: paste a token (from the game, or made with "chatrelay token").';
		$('token').focus();
	} else if (e.code === 'auth_failed') {
		setMode('token');
		hint.textContent = `The token was refused: ${msg}. Paste another one.`;
	} else if (e.code === 'bad_field' && S.authWith === 'name') {
		setMode('open');
		hint.textContent = `That name was refused (${msg}): 1–58 letters, digits or punctuation, no spaces.`;
	} else if (e.code === 'banned') {
		hint.textContent = `You are banned: ${msg}`;
	}
}

function setMode(mode) {
	S.mode = mode;
	if (mode) document.body.dataset.mode = mode;
	else delete document.body.dataset.mode;
}

/* Starts a new client with name or token (one of them), after closing the old one. */
function start({ name, token }) {
	const old = S.chat;
	/* The channels open now are joined again by the new identity. */
	const keep = [...S.channels.keys()];
	S.chat = null;
	if (old) old.close();
	resetChannels();
	S.wantJoin = [...new Set([...keep, ...S.wantJoin])];
	S.authWith = token ? 'token' : 'name';
	S.everConnected = false;
	S.me = null;
	$('mode-hint').textContent = '';
	let chat;
	try {
		chat = connect('/ws', token ? { token } : { name });
	} catch (e) {
		result($('join-status'), 'err', describeError(e));
		return;
	}
	S.chat = chat;
	const mine = (fn) => (x) => { if (S.chat === chat) fn(x); };
	chat.on('state', mine(onState));
	chat.on('msg', mine(onMsg));
	chat.on('presence', mine(onPresence));
	chat.on('whisper', mine((w) => addWhisper('in', w)));
	chat.on('notice', mine(onNotice));
	chat.on('delete', mine(onDelete));
	chat.on('err', mine(onErr));
	chat.on('recovered', mine(onRecovered));
	chat.on('bye', mine((b) => { S.lastBye = b; }));
	chat.ready.catch(() => { /* the state event says it */ });
}

function onState(st) {
	S.state = st.state;
	if (st.state === 'connected') {
		const first = !S.everConnected;
		S.everConnected = true;
		S.me = st.welcome.user;
		const lim = st.welcome.limits && st.welcome.limits.text;
		if (typeof lim === 'number' && lim > 0) S.limit = lim;
		setMode(S.authWith === 'token' ? 'token' : 'open');
		$('mode-hint').textContent = '';
		if (first) {
			const want = S.wantJoin;
			S.wantJoin = [];
			joinChannels(want, { select: !S.selected });
		}
	} else if (st.state === 'offline') {
		learnMode(st.error);
	}
	renderState(st);
}

/* ---------------------------------------------------------- channels */

function resetChannels() {
	for (const c of S.channels.values()) {
		c.log.remove();
		c.tab.remove();
	}
	S.channels.clear();
	S.selected = null;
	renderRoom();
}

/* Joins each of names (already joined ones are only selected). */
function joinChannels(names, { select: pick = true } = {}) {
	const status = $('join-status');
	const bad = names.filter((n) => !CHANNEL_RE.test(n));
	if (bad.length) {
		result(status, 'err', `Not a channel name: ${bad.join(', ')} (1–64 letters, digits, _ . : -)`);
		$('join-ch').setAttribute('aria-invalid', 'true');
	} else {
		result(status, null, '');
		$('join-ch').removeAttribute('aria-invalid');
	}
	const good = names.filter((n) => CHANNEL_RE.test(n));
	if (!good.length) return;
	if (!S.chat || S.state === 'offline' || S.state === 'closed') {
		S.wantJoin = [...new Set([...S.wantJoin, ...good])];
		result(status, 'pending', `Will join ${good.map((n) => `#${n}`).join(', ')} once connected.`);
		return;
	}
	let first = null;
	for (const name of good) {
		first ??= name;
		let c = S.channels.get(name);
		if (c && c.status !== 'failed') continue;
		if (!c) {
			c = new Chan(name);
			S.channels.set(name, c);
			$('channel-list').append(c.tab);
			$('logs').append(c.log);
		}
		c.status = 'joining';
		c.stateEl.textContent = 'joining…';
		/* Since the last message shown, if any (a failed channel joined again). */
		const last = [...c.msgs.values()].pop();
		const opts = last ? { since: Number(last.dataset.seq) } : { history: HISTORY_ON_JOIN };
		S.chat.join(name, opts).then((j) => onJoined(c, j), (e) => onJoinFailed(c, e));
	}
	renderChannels();
	if (pick && first) select(first);
}

function onJoined(c, j) {
	if (S.channels.get(c.name) !== c) return;
	c.status = 'joined';
	c.stateEl.textContent = '';
	for (const m of j.msgs || []) c.add(m);
	c.hasOlder = c.oldest ? c.oldest.seq > 1 : false;
	c.line('join', `You joined #${c.name} · ${plural(j.members ?? 1, 'member')}` +
	    (j.msgs && j.msgs.length ? ` · the last ${plural(j.msgs.length, 'message')}` : ''));
	refreshWho(c);
	if (S.selected === c.name) renderRoom();
	updateCompose();
}

function onJoinFailed(c, e) {
	if (S.channels.get(c.name) !== c) return;
	if (c.msgs.size) {
		/* Joined before: keep what was said, say why it stopped. */
		c.status = 'failed';
		c.stateEl.textContent = 'not joined';
		c.line('error', `Could not join #${c.name} again: ${describeError(e)}`);
		updateCompose();
	} else {
		removeChannel(c.name);
	}
	result($('join-status'), 'err', `Could not join #${c.name}: ${describeError(e)}`);
}

function removeChannel(name) {
	const c = S.channels.get(name);
	if (!c) return;
	c.log.remove();
	c.tab.remove();
	S.channels.delete(name);
	if (S.selected === name) {
		S.selected = null;
		const next = S.channels.keys().next();
		if (!next.done) select(next.value);
	}
	renderChannels();
	renderRoom();
}

async function leaveChannel(name) {
	const c = S.channels.get(name);
	if (!c || !S.chat) return;
	c.stateEl.textContent = 'leaving…';
	try {
		await S.chat.leave(name);
		removeChannel(name);
		result($('join-status'), 'ok', `Left #${name}.`);
	} catch (e) {
		c.stateEl.textContent = '';
		c.line('error', `Could not leave #${name}: ${describeError(e)}`);
		if (e.code === 'not_member') removeChannel(name);
	}
}

/* Shows channel name: its log, members, and the composer sends there. */
function select(name) {
	const c = S.channels.get(name);
	if (!c) return;
	const prev = S.channels.get(S.selected);
	const s = $('log-scroll');
	if (prev && prev !== c) {
		prev.scrollTop = s.scrollHeight - s.scrollTop - s.clientHeight < STICK_PX ? null : s.scrollTop;
	}
	S.selected = name;
	c.unread = 0;
	renderUnread(c);
	renderChannels();
	renderRoom();
	if (c.scrollTop === null) s.scrollTop = s.scrollHeight;
	else s.scrollTop = c.scrollTop;
	if (S.logFollow) S.logFollow.stuck = c.scrollTop === null;
}

function renderUnread(c) {
	c.unreadEl.textContent = c.unread ? String(c.unread) : '';
	c.unreadEl.setAttribute('aria-label', `${plural(c.unread, 'unread message')}`);
	let total = 0;
	for (const x of S.channels.values()) total += x.unread;
	document.title = (total ? `(${total}) ` : '') + 'chatrelay';
}

function renderChannels() {
	for (const c of S.channels.values()) {
		c.tab.setAttribute('aria-current', c.name === S.selected ? 'true' : 'false');
	}
	$('channels-empty').hidden = S.channels.size > 0;
}

/* The middle column and the members, for the selected channel. */
function renderRoom() {
	const c = S.channels.get(S.selected);
	for (const x of S.channels.values()) x.log.hidden = x !== c;
	$('room-empty').hidden = !!c;
	$('room-title').textContent = c ? `#${c.name}` : 'No channel';
	$('room-title').classList.toggle('none', !c);
	$('room-info').textContent = c ? (c.status === 'joining' ? 'joining…' : plural(c.count, 'member')) : '';
	$('text').placeholder = c ? `Message #${c.name}` : 'Join a channel to send messages';
	renderOlder();
	renderMembers();
	updateCompose();
}

/* ------------------------------------------------------------- history */

function renderOlder() {
	const c = S.channels.get(S.selected);
	const btn = $('load-older');
	const st = $('older-status');
	btn.hidden = !c || !c.hasOlder;
	btn.disabled = !!(c && c.loadingOlder);
	btn.textContent = c && c.loadingOlder ? 'loading…' : 'load older messages';
	st.textContent = c ? c.olderNote : '';
	if (c && c.olderStatus) st.dataset.status = c.olderStatus;
	else delete st.dataset.status;
}

/*
 * Loads the page of messages before the oldest one shown: history with
 * since = oldest - 1 - OLDER_PAGE, keeping what is older than it.
 */
async function loadOlder() {
	const c = S.channels.get(S.selected);
	if (!c || !c.hasOlder || c.loadingOlder || !c.oldest || !S.chat) return;
	const top = c.oldest.seq;
	const since = Math.max(0, top - 1 - OLDER_PAGE);
	const limit = top - 1 - since;
	if (limit < 1) {
		c.hasOlder = false;
		renderOlder();
		return;
	}
	c.loadingOlder = true;
	c.olderNote = '';
	c.olderStatus = null;
	renderOlder();
	const s = $('log-scroll');
	try {
		const h = await S.chat.history(c.name, { since, limit });
		if (S.channels.get(c.name) !== c) return;
		const epoch = c.epochs[c.oldest.e];
		const older = (h.msgs || []).filter((m) => m.seq < top && (!m.epoch || !epoch || m.epoch === epoch));
		/* Keep the messages in view where they are. */
		const fromBottom = s.scrollHeight - s.scrollTop;
		let added = 0;
		for (const m of older) if (c.add(m)) added += 1;
		if (S.selected === c.name) {
			s.scrollTop = s.scrollHeight - fromBottom;
			if (S.logFollow) S.logFollow.stuck = s.scrollHeight - s.scrollTop - s.clientHeight < STICK_PX;
		}
		if (since === 0 || added === 0) {
			c.hasOlder = false;
			c.olderNote = added === 0 ? 'No older messages are kept.' : 'The beginning of the kept history.';
		}
	} catch (e) {
		c.olderNote = `Could not load older messages: ${describeError(e)}`;
		c.olderStatus = 'err';
	} finally {
		c.loadingOlder = false;
		if (S.selected === c.name) renderOlder();
	}
}

/* ------------------------------------------------------------- members */

async function refreshWho(c) {
	if (!S.chat) return;
	try {
		const w = await S.chat.who(c.name);
		if (S.channels.get(c.name) !== c) return;
		c.members = new Map((w.members || []).map((m) => [m.id, m.name]));
		c.count = typeof w.count === 'number' ? w.count : c.members.size;
		c.whoLoaded = true;
		c.whoError = null;
	} catch (e) {
		c.whoError = `Could not list the members: ${describeError(e)}`;
	}
	if (S.selected === c.name) renderRoom();
}

function renderMembers() {
	const c = S.channels.get(S.selected);
	const ul = $('members');
	const status = $('members-status');
	ul.replaceChildren();
	if (!c) {
		$('members-count').textContent = '';
		status.textContent = 'Members of the selected channel. Click one to whisper.';
		return;
	}
	$('members-count').textContent = c.whoLoaded ? `${c.count} in #${c.name}` : '';
	const sorted = [...c.members].sort((a, b) => a[1].localeCompare(b[1]) || a[0].localeCompare(b[0]));
	for (const [id, name] of sorted) {
		const me = S.me && id === S.me.id;
		ul.append(el('li', { dataset: { id } },
		    el('button', { type: 'button', class: 'member', title: me ? 'you' : `whisper to ${id}`,
			onclick: () => whisperTo(id, name) },
			el('span', { class: 'member-name', text: name }),
			showId(id, name) ? el('span', { class: 'member-id', text: id }) : null,
			me ? el('span', { class: 'member-you', text: '(you)' }) : null)));
	}
	if (c.count > c.members.size) {
		ul.append(el('li', { class: 'more', text: `and ${c.count - c.members.size} more` }));
	}
	if (c.whoError) status.textContent = c.whoError;
	else if (!c.whoLoaded) status.textContent = 'loading…';
	else status.textContent = 'Click a member to whisper.';
}

function onPresence(p) {
	const c = S.channels.get(p.ch);
	if (!c || !p.user) return;
	if (p.event === 'join') {
		if (!c.members.has(p.user.id)) c.count += 1;
		c.members.set(p.user.id, p.user.name);
		c.line('presence', `${p.user.name} joined`);
	} else if (p.event === 'leave') {
		if (c.members.delete(p.user.id) || c.count > c.members.size) c.count = Math.max(0, c.count - 1);
		c.line('presence', `${p.user.name} left`);
	}
	if (S.selected === c.name) {
		renderMembers();
		$('room-info').textContent = plural(c.count, 'member');
	}
}

/* ------------------------------------------------------------- messages */

function onMsg(m) {
	const c = S.channels.get(m.ch);
	if (!c) return;
	c.add(m, { live: true });
}

function onRecovered(r) {
	const c = S.channels.get(r.ch);
	if (!c) return;
	if (r.recovered) {
		c.line('recovered', r.count ? `Reconnected: recovered ${plural(r.count, 'missed message')}.`
		    : 'Reconnected: no message was missed.');
	} else {
		c.line('lost', `Reconnected: some messages could not be recovered (the relay no longer keeps them)` +
		    (r.count ? `; ${plural(r.count, 'message')} recovered.` : '.'));
	}
	/* Presence is not replayed: ask again. */
	refreshWho(c);
}

function onDelete(d) {
	const c = S.channels.get(d.ch);
	if (!c) return;
	for (const [key, li] of c.msgs) {
		if (key.endsWith(`/${d.seq}`) && Number(li.dataset.e) === c.epochs.length - 1) {
			li.classList.add('deleted');
			li.querySelector('.msg-text').textContent = 'deleted by a moderator';
		}
	}
}

function onNotice(n) {
	const c = n.ch ? S.channels.get(n.ch) : null;
	if (c) {
		c.line('notice', n.text, { level: n.level || 'info' });
		return;
	}
	for (const x of S.channels.values()) x.line('notice', n.text, { level: n.level || 'info' });
	showBar(n.text, n.level === 'warn' ? 'error' : 'info');
}

/* An error not tied to one of the page's requests. */
function onErr(e) {
	const c = e.ch ? S.channels.get(e.ch) : null;
	if (c) {
		c.line('error', `#${e.ch}: ${describeError(e)}`);
		if (e.op === 'join' || !S.chat.joinedChannels().some((j) => j.ch === e.ch)) {
			/* A rejoin after a reconnect was refused: join it again from the form. */
			c.status = 'failed';
			c.stateEl.textContent = 'not joined';
			updateCompose();
		}
		return;
	}
	showBar(describeError(e), 'error');
}

function showBar(text, level) {
	$('notice-text').textContent = text;
	$('notice-bar').dataset.level = level;
	$('notice-bar').hidden = false;
}

/* ------------------------------------------------------------- composer */

/* The counter, and whether send may be pressed (with the reason if not). */
function updateCompose() {
	const text = $('text').value;
	const n = codePoints(text);
	const over = n - S.limit;
	const counter = $('counter');
	counter.textContent = `${n} / ${S.limit}`;
	counter.dataset.over = over > 0 ? 'true' : 'false';
	counter.title = 'characters, as the relay counts them';
	const c = S.channels.get(S.selected);
	let why = '';
	let isErr = false;
	if (over > 0) {
		why = `${plural(over, 'character')} over the limit of ${S.limit}: shorten it to send`;
		isErr = true;
	} else if (!S.chat || S.state === 'idle' || S.state === 'closed') {
		why = 'connect first';
	} else if (S.state === 'offline') {
		why = 'offline: connect again to send';
	} else if (!c) {
		why = 'join a channel to send';
	} else if (c.status === 'failed') {
		why = `not in #${c.name}: join it again to send`;
	} else if (c.status !== 'joined') {
		why = `joining #${c.name}…`;
	} else if (!text.trim()) {
		why = '';
	} else if (S.state !== 'connected') {
		why = 'not connected: it goes out once reconnected';
	}
	const blocked = over > 0 || !c || c.status !== 'joined' || !text.trim() ||
	    !S.chat || S.state === 'idle' || S.state === 'closed' || S.state === 'offline';
	$('send').disabled = blocked;
	$('send').title = blocked ? (why || 'type a message') : `send to #${c.name}`;
	const hint = $('compose-hint');
	hint.textContent = why;
	if (isErr) hint.dataset.status = 'err';
	else delete hint.dataset.status;
	$('text').setAttribute('aria-invalid', over > 0 ? 'true' : 'false');
}

async function sendMessage() {
	updateCompose();
	if ($('send').disabled) return;
	const c = S.channels.get(S.selected);
	const box = $('text');
	const text = box.value;
	const status = $('compose-status');
	box.value = '';
	updateCompose();
	if (S.state !== 'connected') result(status, 'pending', 'Waiting for the connection: it goes out once reconnected.');
	else result(status, null, '');
	try {
		await S.chat.send(c.name, text);
		if (status.dataset.status === 'pending') result(status, null, '');
	} catch (e) {
		/* Nothing is lost: the text goes back in the box if it is still empty. */
		if (!box.value) box.value = text;
		updateCompose();
		result(status, 'err', `Not sent to #${c.name}: ${describeError(e)}`);
	}
}

/* ------------------------------------------------------------- whispers */

/* The user id a typed name means: in open mode, NAME is guest:NAME. */
function resolveUser(typed) {
	const t = typed.trim();
	if (!t) return '';
	if (S.mode === 'open' && !t.startsWith('guest:')) return `guest:${t}`;
	return t;
}

/* Whether a user's id says more than its name (a guest's guest:NAME does not). */
function showId(id, name) {
	return id !== name && id !== `guest:${name}`;
}

function whisperTo(id, name) {
	const open = S.mode === 'open' && id === `guest:${name}`;
	$('whisper-to').value = open ? name : id;
	updateWhisperForm();
	$('whisper-text').focus();
}

function updateWhisperForm() {
	const text = $('whisper-text').value;
	const n = codePoints(text);
	const over = n - S.limit;
	const counter = $('whisper-counter');
	counter.textContent = `${n} / ${S.limit}`;
	counter.dataset.over = over > 0 ? 'true' : 'false';
	const to = $('whisper-to').value.trim();
	let why = '';
	if (over > 0) why = `${plural(over, 'character')} over the limit of ${S.limit}: shorten it to send`;
	else if (!S.chat || S.state === 'idle' || S.state === 'closed') why = 'connect first';
	else if (S.state === 'offline') why = 'offline: connect again to whisper';
	else if (text.trim() && !to) why = 'to whom? type a name or click a member';
	else if (to && /\s/.test(to)) why = 'a user id has no spaces';
	const hint = $('whisper-hint');
	hint.textContent = why;
	if (over > 0) hint.dataset.status = 'err';
	else delete hint.dataset.status;
	const blocked = !!why || !text.trim() || !to;
	$('whisper-send').disabled = blocked;
	$('whisper-send').title = blocked ? (why || 'type a whisper') : `whisper to ${resolveUser(to)}`;
	$('whisper-text').setAttribute('aria-invalid', over > 0 ? 'true' : 'false');
}

async function sendWhisper() {
	updateWhisperForm();
	if ($('whisper-send').disabled) return;
	const to = resolveUser($('whisper-to').value);
	const box = $('whisper-text');
	const text = box.value;
	const status = $('whisper-status');
	box.value = '';
	updateWhisperForm();
	result(status, 'pending', `Whispering to ${to}…`);
	try {
		await S.chat.whisper(to, text);
		addWhisper('out', { to, text, ts: Date.now() });
		result(status, null, '');
	} catch (e) {
		if (!box.value) box.value = text;
		updateWhisperForm();
		result(status, 'err', `Not whispered to ${to}: ${describeError(e)}`);
	}
}

/* A whisper in the whispers view: dir 'in' (w.from) or 'out' (w.to). */
function addWhisper(dir, w) {
	const list = $('whispers');
	const empty = list.querySelector('li.empty');
	if (empty) empty.remove();
	const guest = S.mode === 'open' && /^guest:/.test(w.to || '');
	const peer = dir === 'in' ? (w.from || { id: '?', name: '?' }) : { id: w.to, name: guest ? w.to.slice(6) : w.to };
	const label = dir === 'in' ? `from ${peer.name}` : `to ${peer.name}`;
	const ts = typeof w.ts === 'number' ? w.ts : Date.now();
	const li = el('li', { class: 'whisper', dataset: { dir, peer: peer.id }, title: `${dir === 'in' ? 'from' : 'to'} ${peer.id} · ${fullDate(ts)}` },
	    el('div', { class: 'whisper-head' },
		el('button', { type: 'button', class: 'whisper-who', text: label, title: `reply to ${peer.id}`,
		    onclick: () => whisperTo(peer.id, peer.name) }),
		dir === 'in' && showId(peer.id, peer.name) ? el('span', { class: 'member-id', text: peer.id }) : null,
		el('time', { class: 'msg-time', text: clock(ts) })),
	    el('div', { class: 'whisper-text', text: w.text }));
	list.append(li);
	list.scrollTop = list.scrollHeight;
	if (dir === 'in' && !S.whispersVisible) {
		S.whispersUnread += 1;
		renderWhisperUnread();
	}
}

function renderWhisperUnread() {
	const n = S.whispersUnread;
	$('whisper-unread').hidden = !n;
	$('whisper-unread').textContent = n ? `${n} new` : '';
	$('whisper-alert').hidden = !n;
	$('whisper-alert').textContent = n ? `✉ ${plural(n, 'new whisper')}` : '';
}

/* ------------------------------------------------------------- wiring */

function connectFromForm() {
	const name = $('name').value.trim();
	const token = $('token').value.trim();
	const hint = $('mode-hint');
	$('name').removeAttribute('aria-invalid');
	if (token && (S.mode !== 'open' || !name)) {
		start({ token });
	} else if (name) {
		if (!NAME_RE.test(name)) {
			$('name').setAttribute('aria-invalid', 'true');
			hint.textContent = 'A name is 1–58 letters, digits or punctuation, without spaces.';
			return;
		}
		start({ name });
	} else {
		hint.textContent = S.mode === 'token' ? 'Paste a token first.' : 'Pick a name (open mode) or paste a token (token mode) first.';
		(S.mode === 'token' ? $('token') : $('name')).focus();
	}
}

function wire() {
	$('connect-form').addEventListener('submit', (ev) => {
		ev.preventDefault();
		connectFromForm();
	});
	$('disconnect').addEventListener('click', () => {
		const chat = S.chat;
		S.chat = null;
		resetChannels();
		S.wantJoin = [];
		if (chat) chat.close();
		S.state = 'closed';
		renderState({ state: 'closed' });
	});
	$('reconnect-now').addEventListener('click', () => {
		if (S.chat) {
			try { S.chat.reconnect(); } catch (e) { showBar(describeError(e), 'error'); }
		}
	});
	$('join-form').addEventListener('submit', (ev) => {
		ev.preventDefault();
		const names = $('join-ch').value.split(/[\s,]+/).filter(Boolean);
		if (!names.length) {
			result($('join-status'), 'err', 'Type a channel name, e.g. lobby');
			return;
		}
		$('join-ch').value = '';
		joinChannels(names);
	});
	$('join-ch').addEventListener('input', () => $('join-ch').removeAttribute('aria-invalid'));
	$('compose').addEventListener('submit', (ev) => {
		ev.preventDefault();
		sendMessage();
	});
	$('text').addEventListener('input', () => {
		updateCompose();
		if ($('compose-status').dataset.status !== 'pending') result($('compose-status'), null, '');
	});
	$('text').addEventListener('keydown', (ev) => {
		if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
			ev.preventDefault();
			sendMessage();
		}
	});
	$('whisper-form').addEventListener('submit', (ev) => {
		ev.preventDefault();
		sendWhisper();
	});
	for (const id of ['whisper-to', 'whisper-text']) {
		$(id).addEventListener('input', () => {
			updateWhisperForm();
			if ($('whisper-status').dataset.status === 'err') result($('whisper-status'), null, '');
		});
	}
	$('load-older').addEventListener('click', loadOlder);
	S.logFollow = followBottom($('log-scroll'), $('logs'));
	followBottom($('whispers'));
	$('log-scroll').addEventListener('scroll', () => {
		const s = $('log-scroll');
		if (s.scrollTop < 8 && s.scrollHeight > s.clientHeight) loadOlder();
	}, { passive: true });
	$('notice-close').addEventListener('click', () => { $('notice-bar').hidden = true; });
	/* Whispers count as read once their panel is on screen. */
	if ('IntersectionObserver' in window) {
		new IntersectionObserver((entries) => {
			S.whispersVisible = entries.some((x) => x.isIntersecting);
			if (S.whispersVisible && S.whispersUnread) {
				S.whispersUnread = 0;
				renderWhisperUnread();
			}
		}, { threshold: 0.3 }).observe($('whispers'));
	} else {
		S.whispersVisible = true;
	}
}

/* ?name=, ?token=, ?join= (see the top of the file). */
function deepLink() {
	const q = new URLSearchParams(location.search);
	const name = (q.get('name') || '').trim();
	const token = (q.get('token') || '').trim();
	const join = (q.get('join') || '').split(',').map((s) => s.trim()).filter(Boolean);
	if (token) {
		q.delete('token');
		const rest = q.toString();
		history.replaceState(null, '', location.pathname + (rest ? `?${rest}` : '') + location.hash);
	}
	if (name) $('name').value = name;
	S.wantJoin = join;
	if (token) start({ token });
	else if (name) connectFromForm();
	else if (join.length) {
		result($('join-status'), 'pending', `Will join ${join.map((n) => `#${n}`).join(', ')} once connected.`);
	}
}

wire();
updateCompose();
updateWhisperForm();
renderRoom();
deepLink();
