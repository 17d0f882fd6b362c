'use strict';
/*
 * console.test.js: the moderators' console (web/admin.html, admin.js,
 * admin.css) in a real browser against the real relay: Debian's chromium
 * driven by playwright-core (tests/package.json).  The page is opened the
 * way the relay's open mode links it, /admin.html#token=JWT; the tests then
 * use it as a moderator would (the boxes and buttons, by id) and check both
 * what the page shows and what the relay did to real players.
 *
 * Screenshots (1280x800 and 390x844) are written to $CHATRELAY_ARTIFACTS
 * (run.sh sets it to test-artifacts/ in the build directory), also when a
 * test fails.  Without chromium the file fails, saying what to install;
 * CHATRELAY_NO_BROWSER=1 skips it instead.
 */

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { startRelay, mintToken, uniq, sleep } = require('./lib');

const SECRET = 'console-secret';
const T = { timeout: 60000 };
const { NO_BROWSER, ARTIFACTS, DESKTOP, PHONE, launchBrowser: launch } = require('./browser');

/* The browser: one chromium with a throwaway profile for the whole file. */
let browser = null;
let context = null;

async function launchBrowser() {
	browser = await launch("the console tests", DESKTOP);
	context = browser.context;
}

async function closeBrowser() {
	const b = browser;

	browser = null;
	context = null;
	if (b) await b.close();
}

/*
 * A fresh tab on the console of relay, opened with #token=token; what the
 * page logs and throws is kept in page.problems (shown when a wait fails).
 * Dialogs (confirm) are accepted.
 */
async function openConsole(relay, token) {
	const page = await context.newPage();
	await page.setViewportSize(DESKTOP);
	page.problems = [];
	page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
	page.on('console', (m) => {
		if (m.type() === 'error') page.problems.push(`console: ${m.text()}`);
	});
	page.on('dialog', (d) => d.accept());
	page.sockets = [];	/* {url, sent: [frames]} for every WebSocket the page opens */
	page.on('websocket', (ws) => {
		const s = { url: ws.url(), sent: [] };
		page.sockets.push(s);
		ws.on('framesent', (f) => s.sent.push(String(f.payload)));
	});
	await page.goto(`http://127.0.0.1:${relay.port}/admin.html#token=${token}`);
	return page;
}

/* A moderator's token (role moderator) with a fresh user id. */
function modToken(name = 'Console Mod') {
	return mintToken(SECRET, { sub: uniq('mod'), name, role: 'moderator' });
}

/* A player on /ws with a token for sub (an id like guest:bob, taken as is). */
function player(relay, sub) {
	return relay.withToken(mintToken(SECRET, { sub, name: sub.replace(/^guest:/, '') }));
}

/*
 * Waits until the text of selector matches re (a RegExp) and returns it;
 * fails with what the element says instead, the badge and the page's errors.
 */
async function waitText(page, selector, re, timeoutMs = 10000) {
	const deadline = Date.now() + timeoutMs;
	let last = null;
	for (;;) {
		last = await page.evaluate((sel) => {
			const e = document.querySelector(sel);
			return e ? e.textContent : null;
		}, selector);
		if (last !== null && re.test(last)) return last;
		if (Date.now() > deadline) break;
		await sleep(100);
	}
	const badge = await page.evaluate(() => {
		const b = document.getElementById('conn-state');
		const d = document.getElementById('conn-detail');
		return `${b && b.textContent} (${d && d.textContent})`;
	});
	const results = await page.evaluate(() => {
		const r = document.getElementById('results');
		return r ? [...r.children].slice(0, 5).map((li) => li.textContent).join(' | ') : '';
	});
	throw new Error(`${selector}: expected text matching ${re} within ${timeoutMs} ms; it says ` +
	    `${JSON.stringify(last)}; badge: ${badge}; results: ${results}` +
	    (page.problems.length ? `; ${page.problems.join('; ')}` : ''));
}

/* Waits for the badge to say connected and returns its text. */
function connected(page, timeoutMs = 10000) {
	return waitText(page, '#conn-state', /^connected as /, timeoutMs);
}

/* Desktop and phone screenshots of page, under ARTIFACTS, named console-NAME-*.png. */
async function screenshots(page, name) {
	fs.mkdirSync(ARTIFACTS, { recursive: true });
	const out = [];
	await page.setViewportSize(DESKTOP);
	await sleep(200);
	out.push(path.join(ARTIFACTS, `console-${name}-desktop-1280x800.png`));
	await page.screenshot({ path: out[out.length - 1] });
	await page.setViewportSize(PHONE);
	await sleep(200);
	out.push(path.join(ARTIFACTS, `console-${name}-phone-390x844.png`));
	await page.screenshot({ path: out[out.length - 1] });
	out.push(path.join(ARTIFACTS, `console-${name}-phone-390-full.png`));
	await page.screenshot({ path: out[out.length - 1], fullPage: true });
	await page.setViewportSize(DESKTOP);
	return out;
}

/* Takes the screenshots without letting a failure there hide the test's own. */
async function screenshotsAnyway(page, name) {
	try {
		await screenshots(page, name);
	} catch (e) {
		process.stderr.write(`console.test.js: screenshots of ${name} failed: ${e.message}\n`);
	}
}

describe('the moderators\' console in chromium', {
	skip: NO_BROWSER ? 'CHATRELAY_NO_BROWSER=1: the browser tests of the console are skipped' : false,
}, () => {
	let relay;
	before(async () => {
		relay = await startRelay({ secret: SECRET, workers: 2 });
		await launchBrowser();
	});
	after(closeBrowser);

	test('#token: connects with an auth frame, strips the token from the address, keeps it for a reload', T, async () => {
		const token = modToken('Mod One');
		const page = await openConsole(relay, token);
		try {
			const badge = await connected(page);
			assert.match(badge, /^connected as Mod One \(moderator\)$/);
			assert.equal(page.sockets.length, 1);
			assert.equal(page.sockets[0].url, `ws://127.0.0.1:${relay.port}/admin`, 'no token in the URL');
			assert.deepEqual(JSON.parse(page.sockets[0].sent[0]), { op: 'auth', token, id: 'auth' });
			const detail = await page.textContent('#conn-detail');
			assert.match(detail, /on node \S+/);
			assert.ok(!page.url().includes('token'), `the address still has the token: ${page.url()}`);
			assert.equal(await page.evaluate(() => sessionStorage.getItem('chatrelay.console.token')), token);
			await page.reload();
			assert.match(await connected(page), /^connected as Mod One/);
			assert.ok(!page.url().includes('token'));
			assert.equal(page.sockets.length, 2);
			assert.deepEqual(JSON.parse(page.sockets[1].sent[0]), { op: 'auth', token, id: 'auth' });
			assert.deepEqual(page.problems, []);
		} finally {
			await page.close();
		}
	});

	test('a bad token: disconnected, authentication failed, no reconnect', T, async () => {
		const page = await openConsole(relay, mintToken('another-secret', { sub: 'x', role: 'moderator' }));
		try {
			await waitText(page, '#conn-state', /^disconnected: authentication failed$/);
			assert.match(await page.textContent('#conn-detail'), /4001.*Not reconnecting/);
			await sleep(2500);
			assert.equal(await page.getAttribute('#conn-state', 'data-state'), 'closed');
		} finally {
			await page.close();
		}
	});

	test('kick and announce from the page: the players feel it, the page says done', T, async () => {
		const page = await openConsole(relay, modToken());
		try {
			await connected(page);
			const uid = `guest:${uniq('kickme')}`;
			const p = await player(relay, uid);
			const listener = await player(relay, `guest:${uniq('listener')}`);

			await page.fill('#user-id', uid);
			await page.fill('#user-reason', 'flooding');
			await page.click('#act-kick');
			const done = await waitText(page, '#user-result', /^Done: kick /);
			assert.equal(done, `Done: kick ${uid}`);
			assert.equal(await page.getAttribute('#user-result', 'data-status'), 'ok');
			assert.equal((await p.next('bye')).reason, 'flooding');
			assert.equal((await p.closed).code, 4008);
			await waitText(page, '#results li', new RegExp(`Done: kick ${uid}`));

			await page.fill('#announce-text', 'Maintenance at noon');
			await page.click('#act-announce');
			await waitText(page, '#announce-result', /^Done: announce to everyone$/);
			assert.equal((await listener.next('notice')).text, 'Maintenance at noon');
			await waitText(page, '#feed', /notice to everyone: Maintenance at noon/);
			await listener.close();
		} finally {
			await page.close();
		}
	});

	test('a refusal reads as one: the code and the relay\'s message', T, async () => {
		const page = await openConsole(relay, modToken());
		try {
			await connected(page);
			await page.fill('#announce-text', 'hello');
			await page.fill('#announce-ch', 'no spaces');
			await page.click('#act-announce');
			const text = await waitText(page, '#announce-result', /Refused/);
			assert.match(text, /^announce to #no spaces: Refused \(bad_field\): ch: /);
			assert.equal(await page.getAttribute('#announce-result', 'data-status'), 'err');
			await waitText(page, '#results li', /Refused \(bad_field\)/);
			// Client-side checks need no round trip.
			await page.fill('#user-id', '');
			await page.click('#act-mute');
			await waitText(page, '#user-result', /^Enter a user id/);
		} finally {
			await page.close();
		}
	});

	test('kicked from another console: disconnected, kicked by a moderator, no reconnect', T, async () => {
		const sub = uniq('modkicked');
		const page = await openConsole(relay, mintToken(SECRET, { sub, role: 'moderator' }));
		try {
			await connected(page);
			const other = await relay.moderator(SECRET);
			assert.equal((await other.call({ op: 'kick', user: sub, reason: 'shift over' })).op, 'ok');
			await waitText(page, '#conn-state', /^disconnected: kicked by a moderator$/);
			assert.match(await page.textContent('#conn-detail'), /4008: shift over/);
			await sleep(2500);
			assert.equal(await page.getAttribute('#conn-state', 'data-state'), 'closed');
			await other.close();
		} finally {
			await page.close();
		}
	});

	test('the relay stops: disconnected, reconnecting in N s, with the reason', T, async () => {
		const other = await startRelay({ secret: SECRET });
		const page = await openConsole(other, modToken());
		try {
			await connected(page);
			await other.stop();
			await waitText(page, '#conn-state', /^disconnected — reconnecting in \d+ s$/);
			assert.equal(await page.getAttribute('#conn-state', 'data-state'), 'reconnecting');
			assert.match(await page.textContent('#conn-detail'), /^close 1001/);
			assert.equal(await page.isVisible('#reconnect-now'), true);
		} finally {
			await page.close();
		}
	});

	test('at 390 px: one column, no horizontal scroll, inputs at 16 px, every control reachable', T, async () => {
		const page = await openConsole(relay, modToken());
		try {
			await connected(page);
			await page.setViewportSize(PHONE);
			await sleep(200);
			const layout = await page.evaluate(() => {
				const vw = document.documentElement.clientWidth;
				const wide = [...document.querySelectorAll('body *')]
				    .filter((e) => e.getBoundingClientRect().right > vw + 0.5)
				    .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`);
				const small = [...document.querySelectorAll('input, select, textarea')]
				    .filter((e) => parseFloat(getComputedStyle(e).fontSize) < 16).map((e) => e.id);
				const unlabelled = [...document.querySelectorAll('input, select, textarea')]
				    .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map((e) => e.id);
				const lefts = new Set([...document.querySelectorAll('main .panel')]
				    .map((e) => Math.round(e.getBoundingClientRect().left)));
				return { scroll: document.documentElement.scrollWidth, vw, wide, small, unlabelled, lefts: [...lefts] };
			});
			assert.equal(layout.scroll, layout.vw, `horizontal scroll; too wide: ${layout.wide.join(', ')}`);
			assert.deepEqual(layout.wide, []);
			assert.deepEqual(layout.small, [], 'inputs under 16px make phones zoom');
			assert.deepEqual(layout.unlabelled, [], 'inputs without a label');
			assert.equal(layout.lefts.length, 1, `panels not in one column: ${layout.lefts}`);
			for (const id of ['user-id', 'act-kick', 'act-mute', 'act-unmute', 'act-ban', 'act-unban',
			    'mute-duration', 'ban-duration', 'watch-input', 'watch-add', 'announce-text',
			    'act-announce', 'slow-ch', 'slow-secs', 'act-slowmode', 'chan-prefix']) {
				const box = await page.locator(`#${id}`).boundingBox();
				assert.ok(box && box.width > 0 && box.x >= 0 && box.x + box.width <= PHONE.width + 0.5,
				    `#${id} is not within the phone's width: ${JSON.stringify(box)}`);
			}
		} finally {
			await page.close();
		}
	});

	test('watch a channel, see a player\'s message, mute the player from the page, look the mute up', T, async () => {
		const page = await openConsole(relay, modToken());
		try {
			await connected(page);
			const ch = uniq('lobby');
			const uid = `guest:${uniq('bob')}`;

			await page.fill('#watch-input', ch);
			await page.click('#watch-add');
			const view = `#watches section.watch[data-pattern="${ch}"]`;
			await waitText(page, `${view} .watch-status`, /^live$/);

			const p = await player(relay, uid);
			await p.join(ch);
			const text = `hello from ${uid} <b>not bold</b>`;
			const ok = await p.say(ch, text);
			const msgText = await waitText(page, `${view} li.msg .msg-text`, /hello from/);
			assert.equal(msgText, text, 'the text, as text');
			assert.equal(await page.getAttribute(`${view} li.msg`, 'data-seq'), String(ok.seq));
			assert.equal(await page.textContent(`${view} li.msg .msg-uid`), uid);

			await page.fill('#user-id', uid);
			await page.selectOption('#mute-duration', '600');
			await page.fill('#user-reason', 'spam');
			await page.click('#act-mute');
			assert.equal(await waitText(page, '#user-result', /^Done: /), `Done: mute ${uid} everywhere for 10 min`);

			const before = Date.now();
			const r = await p.call({ op: 'send', ch, text: 'still here?' });
			assert.equal(r.op, 'err', JSON.stringify(r));
			assert.equal(r.code, 'muted', JSON.stringify(r));
			assert.equal(typeof r.until, 'number', JSON.stringify(r));
			assert.ok(r.until > before + 590e3 && r.until < before + 610e3, `until ${r.until}, now ${before}`);

			await page.click('#user-lookup');
			const info = await waitText(page, '#user-info', /Muted everywhere/);
			assert.match(info, new RegExp(`${uid.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*online`));
			assert.match(info, /Muted everywhere until .*: spam/);
			await waitText(page, '#feed', new RegExp(`muted ${uid} everywhere for 10 min: spam`));
			await p.close();
		} finally {
			await screenshotsAnyway(page, 'moderation');
			await page.close();
		}
	});
});
