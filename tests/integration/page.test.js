'use strict';
/*
 * page.test.js: the test page (web/index.html, index.js, index.css on top of
 * web/chatrelay.js) in a real browser against the real relay: Debian's
 * chromium driven by playwright-core, as console.test.js does.  Pages are
 * opened with the deep link (/?name=...&join=...), then used as a person
 * would (the boxes and buttons, by id); the tests check what the page shows
 * and, where it matters, what it sent.
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
const { startRelay, startCluster, mintToken, uniq, sleep } = require('./lib');

const T = { timeout: 60000 };
const { NO_BROWSER, ARTIFACTS, DESKTOP, PHONE, launchBrowser: launch } = require('./browser');
/* A relay for the tests that do not test the rate limit. */
const ROOMY = { workers: 2, rate: 500, burst: 1000 };

/* The browser: one chromium with a throwaway profile for the whole file. */
let browser = null;
let context = null;

async function launchBrowser() {
	browser = await launch("the page's tests", DESKTOP);
	context = browser.context;
}

async function closeBrowser() {
	const b = browser;

	browser = null;
	context = null;
	if (b) await b.close();
}

/*
 * A fresh tab on relay's test page at /query (e.g. "?name=alice&join=a,b");
 * what the page logs and throws is kept in page.problems, the frames it
 * sends in page.sent (parsed).
 */
async function openPage(relay, query = '') {
	const page = await context.newPage();
	await page.setViewportSize(DESKTOP);
	page.problems = [];
	page.on('pageerror', (e) => page.problems.push(`page error: ${e.message}`));
	page.on('console', (m) => {
		if (m.type() === 'error') page.problems.push(`console: ${m.text()}`);
	});
	page.sent = [];
	page.sockets = [];
	page.on('websocket', (ws) => {
		page.sockets.push(ws.url());
		ws.on('framesent', (f) => {
			try { page.sent.push(JSON.parse(String(f.payload))); } catch { /* not JSON */ }
		});
	});
	await page.goto(`http://127.0.0.1:${relay.port}/${query}`);
	return page;
}

/* The page's state for an error message: the badge and what it logged. */
async function pageState(page) {
	return page.evaluate(() => {
		const t = (id) => { const e = document.getElementById(id); return e ? e.textContent : null; };
		return `badge: ${t('conn-state')} (${t('conn-detail')}); hint: ${t('mode-hint')}; ` +
		    `join: ${t('join-status')}; compose: ${t('compose-status')}`;
	}).catch((e) => `(page state unreadable: ${e.message})`);
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
	throw new Error(`${selector}: expected text matching ${re} within ${timeoutMs} ms; it says ` +
	    `${JSON.stringify(last)}; ${await pageState(page)}` +
	    (page.problems.length ? `; ${page.problems.join('; ')}` : ''));
}

/* Waits until fn() (run in the page, with arg) is truthy; returns its value. */
async function waitPage(page, what, fn, arg, timeoutMs = 10000) {
	const deadline = Date.now() + timeoutMs;
	let last;
	for (;;) {
		last = await page.evaluate(fn, arg);
		if (last) return last;
		if (Date.now() > deadline) break;
		await sleep(100);
	}
	throw new Error(`${what}: not within ${timeoutMs} ms (last: ${JSON.stringify(last)}); ${await pageState(page)}` +
	    (page.problems.length ? `; ${page.problems.join('; ')}` : ''));
}

/* Waits for the badge to say connected as name. */
function connected(page, name, timeoutMs = 10000) {
	return waitText(page, '#conn-state', new RegExp(`^connected as ${name}$`), timeoutMs);
}

/* Waits until channel ch is joined on the page (its tab no longer says joining). */
function joined(page, ch, timeoutMs = 10000) {
	return waitPage(page, `#${ch} joined`, (c) => {
		const tab = document.querySelector(`#channel-list li.chan[data-ch="${c}"]`);
		return tab && tab.querySelector('.chan-state').textContent === '' &&
		    document.querySelector(`#logs ol.log[data-ch="${c}"] li.sys[data-kind="join"]`) !== null;
	}, ch, timeoutMs);
}

/* The messages shown in ch's log: [{seq, from, text, title}], in page order. */
function messages(page, ch) {
	return page.evaluate((c) => [...document.querySelectorAll(`#logs ol.log[data-ch="${c}"] li.msg`)].map((li) => ({
		seq: Number(li.dataset.seq),
		from: li.querySelector('.msg-from').textContent,
		text: li.querySelector('.msg-text').textContent,
		title: li.title,
		recovered: li.classList.contains('recovered'),
	})), ch);
}

/* Waits until ch's log shows a message with text; returns the messages. */
async function waitMessage(page, ch, text, timeoutMs = 10000) {
	await waitPage(page, `"${text}" in #${ch}`, ([c, t]) =>
		[...document.querySelectorAll(`#logs ol.log[data-ch="${c}"] li.msg .msg-text`)].some((e) => e.textContent === t),
	[ch, text], timeoutMs);
	return messages(page, ch);
}

/* The member ids listed for the selected channel. */
function memberIds(page) {
	return page.evaluate(() => [...document.querySelectorAll('#members li[data-id]')].map((li) => li.dataset.id).sort());
}

async function waitMembers(page, ids, timeoutMs = 10000) {
	const want = [...ids].sort();
	const deadline = Date.now() + timeoutMs;
	let got;
	for (;;) {
		got = await memberIds(page);
		if (JSON.stringify(got) === JSON.stringify(want)) return got;
		if (Date.now() > deadline) break;
		await sleep(100);
	}
	throw new Error(`members: expected ${JSON.stringify(want)}, the page lists ${JSON.stringify(got)}; ` +
	    await pageState(page));
}

const tab = (ch) => `#channel-list li.chan[data-ch="${ch}"]`;

/* Types text in the composer and sends it with Enter. */
async function say(page, text) {
	await page.fill('#text', text);
	await page.press('#text', 'Enter');
}

/* Desktop and phone screenshots of page, under ARTIFACTS, named page-NAME-*.png. */
async function screenshots(page, name) {
	fs.mkdirSync(ARTIFACTS, { recursive: true });
	await page.setViewportSize(DESKTOP);
	await sleep(250);
	await page.screenshot({ path: path.join(ARTIFACTS, `page-${name}-desktop-1280x800.png`) });
	await page.setViewportSize(PHONE);
	await sleep(250);
	await page.screenshot({ path: path.join(ARTIFACTS, `page-${name}-phone-390x844.png`) });
	await page.screenshot({ path: path.join(ARTIFACTS, `page-${name}-phone-390-full.png`), fullPage: true });
	await page.setViewportSize(DESKTOP);
}

/* Takes the screenshots without letting a failure there hide the test's own. */
async function screenshotsAnyway(page, name) {
	try {
		await screenshots(page, name);
	} catch (e) {
		process.stderr.write(`page.test.js: screenshots of ${name} failed: ${e.message}\n`);
	}
}

/* What overflows the viewport's width at the current size ([] when nothing does). */
function overflow(page) {
	return page.evaluate(() => {
		const vw = document.documentElement.clientWidth;
		const wide = [...document.querySelectorAll('body *')]
		    .filter((e) => e.getClientRects().length && e.getBoundingClientRect().right > vw + 0.5)
		    .map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`);
		return { scroll: document.documentElement.scrollWidth, vw, wide };
	});
}

describe('the test page in chromium', {
	skip: NO_BROWSER ? 'CHATRELAY_NO_BROWSER=1: the browser tests of the page are skipped' : false,
}, () => {
	let relay;
	before(async () => {
		relay = await startRelay(ROOMY);
		await launchBrowser();
	});
	after(closeBrowser);

	test('two pages chat in two channels; unread counts; the members follow joins and leaves', T, async () => {
		const lobby = uniq('lobby');
		const party = `party:${uniq('p')}`;
		const alice = uniq('alice');
		const bob = uniq('bob');
		const a = await openPage(relay, `?name=${alice}&join=${lobby},${party}`);
		const b = await openPage(relay, `?name=${bob}&join=${lobby},${party}`);
		try {
			await connected(a, alice);
			await connected(b, bob);
			for (const p of [a, b]) {
				await joined(p, lobby);
				await joined(p, party);
				assert.equal(await p.getAttribute(tab(lobby), 'aria-current'), 'true', 'the first channel is selected');
			}
			assert.ok(!a.sent.some((f) => f.token !== undefined), 'no token in open mode');
			assert.deepEqual(a.sent.filter((f) => f.op === 'auth').map((f) => f.name), [alice]);
			await waitMembers(a, [`guest:${alice}`, `guest:${bob}`]);

			// alice in the lobby; bob reads it there.
			await say(a, 'hello from alice <b>not bold</b>');
			const got = await waitMessage(b, lobby, 'hello from alice <b>not bold</b>');
			const m = got[got.length - 1];
			assert.equal(m.from, alice);
			assert.match(m.title, new RegExp(`^seq ${m.seq} · \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d · guest:${alice}$`));
			assert.equal(await b.evaluate(() => document.querySelector('#logs li.msg b')), null, 'text, not markup');
			assert.equal(await a.inputValue('#text'), '', 'the box is emptied once sent');

			// bob in the party; alice sees an unread count on its tab, then reads it.
			await b.click(`${tab(party)} .chan-select`);
			assert.equal(await b.textContent('#room-title'), `#${party}`);
			await say(b, 'party time');
			await waitText(a, `${tab(party)} .unread`, /^1$/);
			assert.equal(await a.textContent(`${tab(lobby)} .unread`), '');
			await say(b, 'bring snacks');
			await waitText(a, `${tab(party)} .unread`, /^2$/);
			assert.match(await a.title(), /^\(2\) /);
			await a.click(`${tab(party)} .chan-select`);
			assert.equal(await a.textContent(`${tab(party)} .unread`), '');
			const partyMsgs = (await waitMessage(a, party, 'bring snacks')).map((x) => `${x.from}: ${x.text}`);
			assert.deepEqual(partyMsgs, [`${bob}: party time`, `${bob}: bring snacks`]);
			const sends = b.sent.filter((f) => f.op === 'send').map((f) => [f.ch, f.text]);
			assert.deepEqual(sends, [[party, 'party time'], [party, 'bring snacks']]);
			// The lobby's messages stayed in the lobby.
			assert.deepEqual((await messages(a, lobby)).map((x) => x.text), ['hello from alice <b>not bold</b>']);

			// bob leaves the party: alice's member list loses him; he joins again from the form.
			await waitMembers(a, [`guest:${alice}`, `guest:${bob}`]);
			await b.click(`${tab(party)} .chan-leave`);
			await waitMembers(a, [`guest:${alice}`]);
			await waitText(a, `#logs ol.log[data-ch="${party}"]`, new RegExp(`${bob} left`));
			// bob's own "left" may come after alice's presence: wait for it.
			await waitPage(b, 'the tab gone', (sel) => document.querySelector(sel) === null, tab(party));
			assert.equal(await b.getAttribute(tab(lobby), 'aria-current'), 'true', 'another channel is selected');
			assert.equal(await a.textContent('#members-count'), `1 in #${party}`);
			await b.fill('#join-ch', party);
			await b.click('#join-btn');
			await joined(b, party);
			await waitMembers(a, [`guest:${alice}`, `guest:${bob}`]);
			await waitText(a, `#logs ol.log[data-ch="${party}"]`, new RegExp(`${bob} joined`));
			assert.equal(await b.getAttribute(tab(party), 'aria-current'), 'true', 'the joined channel is selected');
			assert.deepEqual(a.problems, []);
			assert.deepEqual(b.problems, []);
		} finally {
			await screenshotsAnyway(a, 'chat-alice');
			await screenshotsAnyway(b, 'chat-bob');
			await a.close();
			await b.close();
		}
	});

	test('a whisper by name arrives; clicking a member whispers back; one to nobody says why', T, async () => {
		const ch = uniq('room');
		const ann = uniq('ann');
		const ben = uniq('ben');
		const a = await openPage(relay, `?name=${ann}&join=${ch}`);
		const b = await openPage(relay, `?name=${ben}&join=${ch}`);
		try {
			await connected(a, ann);
			await connected(b, ben);
			await joined(a, ch);
			await joined(b, ch);

			// By name: in open mode, "ben" is guest:ben.
			await a.fill('#whisper-to', ben);
			await a.fill('#whisper-text', 'psst, ben');
			await a.click('#whisper-send');
			const w = await waitText(b, '#whispers li.whisper[data-dir="in"]', /psst, ben/);
			assert.match(w, new RegExp(`^from ${ann}`));
			assert.deepEqual(a.sent.filter((f) => f.op === 'whisper').map((f) => [f.to, f.text]),
			    [[`guest:${ben}`, 'psst, ben']]);
			await waitText(a, '#whispers li.whisper[data-dir="out"] .whisper-text', /^psst, ben$/);
			assert.equal(await a.textContent('#whispers li.whisper[data-dir="out"] .whisper-who'), `to ${ben}`);
			assert.equal(await b.isVisible('#whisper-unread'), false, 'the whispers are in view at 1280 px');
			assert.equal(await a.inputValue('#whisper-text'), '');

			// From the member list.
			await waitMembers(b, [`guest:${ann}`, `guest:${ben}`]);
			await b.click(`#members li[data-id="guest:${ann}"] button`);
			assert.equal(await b.inputValue('#whisper-to'), ann);
			assert.equal(await b.evaluate(() => document.activeElement.id), 'whisper-text');
			await b.keyboard.type('hi ann');
			await b.keyboard.press('Enter');
			await waitText(a, '#whispers li.whisper[data-dir="in"]', new RegExp(`^from ${ben}.*hi ann`));

			// To someone not online: the relay's reason, next to the form; the text stays.
			await a.fill('#whisper-to', 'nobody_here');
			await a.fill('#whisper-text', 'hello?');
			await a.click('#whisper-send');
			const err = await waitText(a, '#whisper-status', /Not whispered/);
			assert.equal(err, 'Not whispered to guest:nobody_here: Refused: to: user guest:nobody_here is not online');
			assert.equal(await a.getAttribute('#whisper-status', 'data-status'), 'err');
			assert.equal(await a.inputValue('#whisper-text'), 'hello?', 'the text is not lost');

			// At 390 px a whisper out of view shows in the header.
			await b.setViewportSize(PHONE);
			await b.evaluate(() => window.scrollTo(0, 0));
			await sleep(300);
			await a.fill('#whisper-to', ben);
			await a.fill('#whisper-text', 'are you there?');
			await a.click('#whisper-send');
			await waitText(b, '#whisper-alert', /^✉ 1 new whisper$/);
			assert.equal(await b.isVisible('#whisper-alert'), true);
			await b.click('#whisper-alert');
			await waitPage(b, 'the alert gone once the whispers are in view',
			    () => document.getElementById('whisper-alert').hidden);
			assert.deepEqual(a.problems, []);
			assert.deepEqual(b.problems, []);
		} finally {
			await screenshotsAnyway(a, 'whisper-ann');
			await screenshotsAnyway(b, 'whisper-ben');
			await a.close();
			await b.close();
		}
	});

	test('the text limit: a counter in characters as the relay counts them; too long is refused before sending', T, async () => {
		const ch = uniq('limits');
		const name = uniq('cara');
		const page = await openPage(relay, `?name=${name}&join=${ch}`);
		try {
			await connected(page, name);
			await joined(page, ch);
			assert.equal(await page.isDisabled('#send'), true, 'nothing to send yet');
			await page.fill('#text', 'x'.repeat(500));
			assert.equal(await page.textContent('#counter'), '500 / 500');
			assert.equal(await page.isDisabled('#send'), false);
			// 500 emoji are 1000 UTF-16 units but 500 characters for the relay.
			await page.fill('#text', '😀'.repeat(500));
			assert.equal(await page.textContent('#counter'), '500 / 500');
			assert.equal(await page.isDisabled('#send'), false);
			await page.fill('#text', '😀'.repeat(501));
			assert.equal(await page.textContent('#counter'), '501 / 500');
			assert.equal(await page.getAttribute('#counter', 'data-over'), 'true');
			assert.equal(await page.isDisabled('#send'), true);
			assert.equal(await page.textContent('#compose-hint'),
			    '1 character over the limit of 500: shorten it to send');
			assert.match(await page.getAttribute('#send', 'title'), /over the limit/);
			await page.press('#text', 'Enter');
			await sleep(300);
			assert.deepEqual(page.sent.filter((f) => f.op === 'send'), [], 'nothing was sent');
			assert.equal(codePointsOf(await page.inputValue('#text')), 501, 'nor cut short');
			await screenshotsAnyway(page, 'too-long');
			// Shortened to the limit, it goes.
			await page.press('#text', 'Backspace');
			assert.equal(await page.isDisabled('#send'), false);
			await page.click('#send');
			const got = await waitPage(page, 'the 500 emoji shown', (c) => {
				const shown = [...document.querySelectorAll(`#logs ol.log[data-ch="${c}"] .msg-text`)];
				return shown.length ? shown.map((e) => [...e.textContent].length) : null;
			}, ch);
			assert.deepEqual(got, [500]);
			// The whisper box counts the same way.
			await page.fill('#whisper-to', name);
			await page.fill('#whisper-text', 'y'.repeat(501));
			assert.equal(await page.textContent('#whisper-counter'), '501 / 500');
			assert.equal(await page.isDisabled('#whisper-send'), true);
			assert.match(await page.textContent('#whisper-hint'), /^1 character over the limit of 500/);
			assert.deepEqual(page.problems, []);
		} finally {
			await screenshotsAnyway(page, 'limits');
			await page.close();
		}
	});

	test('rate limited by the relay: "rate limited ... retry in N s" under the box, and the text is not lost', T, async () => {
		const strict = await startRelay({ workers: 1, rate: 1, burst: 1 });
		const ch = uniq('busy');
		const name = uniq('dan');
		const page = await openPage(strict, `?name=${name}&join=${ch}`);
		try {
			await connected(page, name);
			await joined(page, ch);
			assert.equal(await page.textContent('#counter'), '0 / 500');
			await say(page, 'one');
			await say(page, 'two');
			const text = await waitText(page, '#compose-status', /rate limited/i);
			assert.match(text, new RegExp(`^Not sent to #${ch}: Rate limited: too many messages: retry in \\d\\.\\d s$`));
			assert.equal(await page.getAttribute('#compose-status', 'data-status'), 'err');
			assert.equal(await page.inputValue('#text'), 'two', 'the refused text is back in the box');
			await waitMessage(page, ch, 'one');
			// Once the bucket refills, it goes (and the error line clears).
			await sleep(1100);
			await page.press('#text', 'Enter');
			await waitMessage(page, ch, 'two');
			assert.equal(await page.textContent('#compose-status'), '');
			assert.deepEqual((await messages(page, ch)).map((m) => m.text), ['one', 'two']);
			// A channel name the relay would refuse is refused by the page, next to the form.
			await page.fill('#join-ch', 'bad!name');
			await page.click('#join-btn');
			assert.match(await page.textContent('#join-status'), /^Not a channel name: bad!name \(1–64 /);
			assert.equal(await page.$(tab('bad!name')), null);
			await say(page, 'three');
			await waitText(page, '#compose-status', /rate limited/i);
		} finally {
			await screenshotsAnyway(page, 'rate-limited');
			await page.close();
		}
	});

	test('scrolling back loads older history: "load older", then at the top of the log, to what the relay keeps', T, async () => {
		const ch = uniq('old');
		const short = uniq('short');
		const name = uniq('eve');
		const writer = await relay.guest(uniq('writer'));
		await writer.join(ch);
		await writer.join(short);
		// 120 messages: the relay keeps the last 100 (history_size), 21..120.
		for (let i = 1; i <= 120; i++) await writer.say(ch, `m${i}`);
		for (let i = 1; i <= 60; i++) await writer.say(short, `s${i}`);
		const page = await openPage(relay, `?name=${name}&join=${ch},${short}`);
		try {
			await connected(page, name);
			await joined(page, ch);
			await joined(page, short);
			let seqs = (await messages(page, ch)).map((m) => m.seq);
			assert.equal(seqs.length, 50, 'the last 50 at join');
			assert.equal(seqs[0], 71);
			assert.equal(await page.isVisible('#load-older'), true);
			await page.click('#load-older');
			await waitPage(page, 'm21 shown', () => [...document.querySelectorAll('#logs li.msg .msg-text')]
			    .some((e) => e.textContent === 'm21'));
			seqs = (await messages(page, ch)).map((m) => m.seq);
			assert.deepEqual(seqs, Array.from({ length: 100 }, (_, i) => i + 21), 'in seq order, each once');
			// Further back by scrolling to the top: nothing older is kept, and the page says so.
			await page.evaluate(() => { document.getElementById('log-scroll').scrollTop = 0; });
			await waitText(page, '#older-status', /^No older messages are kept\.$/);
			assert.equal(await page.isVisible('#load-older'), false);
			assert.equal((await messages(page, ch)).length, 100);
			assert.deepEqual(page.sent.filter((f) => f.op === 'history').map((f) => [f.ch, f.since, f.limit]),
			    [[ch, 20, 50], [ch, 0, 20]]);
			// Live messages still go at the bottom.
			await writer.say(ch, 'm121');
			const last = (await waitMessage(page, ch, 'm121')).pop();
			assert.equal(last.seq, 121);

			// A channel kept from its first message: back to seq 1.
			await page.click(`${tab(short)} .chan-select`);
			assert.equal(await page.textContent('#older-status'), '', 'each channel has its own status');
			assert.equal(await page.isVisible('#load-older'), true);
			await page.click('#load-older');
			await waitText(page, '#older-status', /^The beginning of the kept history\.$/);
			assert.deepEqual((await messages(page, short)).map((m) => m.seq), Array.from({ length: 60 }, (_, i) => i + 1));
			await page.click(`${tab(ch)} .chan-select`);
			assert.equal(await page.textContent('#older-status'), 'No older messages are kept.');
			assert.deepEqual(page.problems, []);
		} finally {
			await screenshotsAnyway(page, 'history');
			await page.close();
			await writer.close();
		}
	});

	test('at 390 px: no horizontal scroll, long words wrap, inputs at 16 px, every control reachable', T, async () => {
		const ch = uniq('narrow');
		const name = uniq('fay');
		const page = await openPage(relay, `?name=${name}&join=${ch},party:${uniq('longish_channel_name_here')}`);
		try {
			await connected(page, name);
			await joined(page, ch);
			await say(page, 'W'.repeat(300));
			await say(page, 'https://example.com/' + 'a-very-long-path-segment/'.repeat(12));
			await waitMessage(page, ch, 'W'.repeat(300));
			await page.fill('#whisper-to', name);
			await page.fill('#whisper-text', 'Z'.repeat(200));
			await page.click('#whisper-send');
			await waitText(page, '#whispers li.whisper[data-dir="in"]', /ZZZZ/);
			for (const size of [PHONE, DESKTOP]) {
				await page.setViewportSize(size);
				await sleep(250);
				const o = await overflow(page);
				assert.ok(o.scroll <= o.vw, `${size.width} px: scrollWidth ${o.scroll} > ${o.vw}; too wide: ${o.wide.join(', ')}`);
				assert.deepEqual(o.wide, [], `${size.width} px`);
			}
			await page.setViewportSize(PHONE);
			await sleep(250);
			const layout = await page.evaluate(() => ({
				small: [...document.querySelectorAll('input, textarea')]
				    .filter((e) => parseFloat(getComputedStyle(e).fontSize) < 16).map((e) => e.id),
				unlabelled: [...document.querySelectorAll('input, textarea')]
				    .filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label')).map((e) => e.id),
			}));
			assert.deepEqual(layout.small, [], 'inputs under 16px make phones zoom');
			assert.deepEqual(layout.unlabelled, [], 'inputs without a label');
			for (const id of ['disconnect', 'join-ch', 'join-btn', 'text', 'send', 'whisper-to', 'whisper-text',
			    'whisper-send']) {
				await page.locator(`#${id}`).scrollIntoViewIfNeeded();
				const box = await page.locator(`#${id}`).boundingBox();
				assert.ok(box && box.width > 0 && box.x >= 0 && box.x + box.width <= PHONE.width + 0.5,
				    `#${id} is not within the phone's width: ${JSON.stringify(box)}`);
			}
			const leave = await page.locator(`${tab(ch)} .chan-leave`).boundingBox();
			assert.ok(leave.x + leave.width <= PHONE.width, 'the leave button is within the width');
		} finally {
			await screenshotsAnyway(page, 'narrow');
			await page.close();
		}
	});

	test('token mode: ?token= connects (and leaves the address); a name is told a token is needed', T, async () => {
		const SECRET = 'page-secret';
		const tokenRelay = await startRelay({ workers: 1, secret: SECRET });
		const sub = uniq('gus');
		const ch = uniq('guild');
		const token = mintToken(SECRET, { sub, name: 'Gus G.', chs: [ch] });
		const page = await openPage(tokenRelay, `?token=${token}&join=${ch}`);
		const named = await openPage(tokenRelay, '?name=hal');
		const wrong = await openPage(relay, `?token=${token}`);
		try {
			await connected(page, 'Gus G\\.');
			await joined(page, ch);
			assert.ok(!page.url().includes('token'), `the address still has the token: ${page.url()}`);
			assert.match(page.url(), new RegExp(`\\?join=${ch}$`));
			assert.match(await page.textContent('#conn-detail'), new RegExp(`^${sub} \\(player\\) on \\S+, token mode$`));
			assert.deepEqual(page.sent.filter((f) => f.op === 'auth'), [{ op: 'auth', token, id: page.sent[0].id }]);
			assert.equal(page.sockets[0], `ws://127.0.0.1:${tokenRelay.port}/ws`, 'no token in the URL');
			// The relay refuses a channel the token does not allow: said next to the join form.
			await page.fill('#join-ch', 'elsewhere');
			await page.click('#join-btn');
			assert.equal(await waitText(page, '#join-status', /^Could not join/),
			    'Could not join #elsewhere: Not allowed: your token does not allow this channel');
			assert.equal(await page.getAttribute('#join-status', 'data-status'), 'err');
			assert.equal(await page.$(tab('elsewhere')), null, 'no tab for it');
			assert.equal(await page.getAttribute(tab(ch), 'aria-current'), 'true', `#${ch} is selected again`);

			await waitText(named, '#conn-state', /^offline: Authentication failed: a token is required$/);
			assert.match(await named.textContent('#mode-hint'), /token mode: paste a token/);
			assert.equal(await named.isVisible('#token'), true);
			assert.equal(await named.isVisible('#name'), false, 'the name box goes in token mode');

			await waitText(wrong, '#conn-state', /^offline: Authentication failed: open mode/);
			assert.match(await wrong.textContent('#mode-hint'), /open mode: pick a name/);
			assert.equal(await wrong.isVisible('#name'), true);
			assert.equal(await wrong.isVisible('#token'), false);
			// Then a name works there.
			await wrong.fill('#name', 'hal');
			await wrong.click('#connect');
			await connected(wrong, 'hal');
		} finally {
			await screenshotsAnyway(page, 'token');
			await screenshotsAnyway(named, 'token-needed');
			await page.close();
			await named.close();
			await wrong.close();
		}
	});
});

describe('the test page across a relay restart (Redis cluster)', {
	skip: NO_BROWSER ? 'CHATRELAY_NO_BROWSER=1: the browser tests of the page are skipped' : false,
}, () => {
	before(launchBrowser);
	after(closeBrowser);

	test('relay 1 restarts while a client on relay 2 sends: the page reconnects by itself and shows the missed messages in order', { timeout: 90000 }, async () => {
		const { relays: [r1, r2] } = await startCluster(2, { rate: 100, burst: 200 });
		const ch = uniq('keep');
		const name = uniq('ivy');
		const page = await openPage(r1, `?name=${name}&join=${ch}`);
		let third = null;
		try {
			await connected(page, name);
			await joined(page, ch);
			third = await r2.guest(uniq('jo'));
			await third.join(ch);
			await waitMembers(page, [`guest:${name}`, third.welcome.user.id]);
			await third.say(ch, 'before the restart');
			await waitMessage(page, ch, 'before the restart');

			await r1.stop();
			const badge = await waitText(page, '#conn-state', /^reconnecting in \d+ s$|^reconnecting…$/);
			assert.equal(await page.getAttribute('#conn-state', 'data-state'), 'reconnecting', badge);
			assert.match(await page.textContent('#conn-detail'), /server shutting down|lost/);
			const missed = [];
			for (let i = 1; i <= 5; i++) {
				missed.push(`missed ${i}`);
				await third.say(ch, `missed ${i}`);
			}
			await screenshotsAnyway(page, 'reconnecting');
			const again = await r1.restart();
			await again.waitBus('redis');

			await connected(page, name, 30000);
			const line = await waitText(page, `#logs ol.log[data-ch="${ch}"] li.sys[data-kind="recovered"]`,
			    /^Reconnected: recovered 5 missed messages\./, 10000);
			assert.ok(line);
			const got = await messages(page, ch);
			assert.deepEqual(got.map((m) => m.text), ['before the restart', ...missed]);
			const seqs = got.map((m) => m.seq);
			assert.deepEqual(seqs, Array.from({ length: 6 }, (_, i) => seqs[0] + i), 'gap-free, in order');
			assert.deepEqual(got.map((m) => m.recovered), [false, true, true, true, true, true]);
			// The recovered line comes after the missed messages.
			const order = await page.evaluate((c) => [...document.querySelectorAll(`#logs ol.log[data-ch="${c}"] li`)]
			    .map((li) => (li.classList.contains('msg') ? li.querySelector('.msg-text').textContent : li.dataset.kind)), ch);
			assert.deepEqual(order.slice(-6), [...missed, 'recovered']);
			// Live again, and the page rejoined with since (the client did).
			await third.say(ch, 'after the restart');
			await waitMessage(page, ch, 'after the restart');
			const joins = page.sent.filter((f) => f.op === 'join' && f.ch === ch);
			assert.equal(joins.length, 2);
			assert.equal(joins[1].since, seqs[0]);
			await waitMembers(page, [`guest:${name}`, third.welcome.user.id]);
			assert.deepEqual(page.problems, []);
		} finally {
			await screenshotsAnyway(page, 'recovered');
			await page.close();
			if (third) await third.close();
		}
	});
});

/* Code points of s, as the relay counts text. */
function codePointsOf(s) {
	return [...s].length;
}
