'use strict';
/*
 * browser.js: the one Debian chromium that the browser tests drive with
 * playwright-core (console.test.js, page.test.js): a fresh throwaway
 * profile, the flags this machine needs (no sandbox as root, no network of
 * its own), and where screenshots go.
 */

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const CHROMIUM = process.env.CHATRELAY_CHROMIUM || '/usr/bin/chromium';
const NO_BROWSER = process.env.CHATRELAY_NO_BROWSER === '1';
const ARTIFACTS = process.env.CHATRELAY_ARTIFACTS || path.join(process.cwd(), 'test-artifacts');
const CHROMIUM_ARGS = [
	'--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
	'--disable-background-networking', '--disable-component-update',
	'--disable-sync', '--no-first-run',
];
const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };

/*
 * Starts chromium with a fresh profile and viewport; resolves with
 * {context, close()}, close removing the profile too.  Throws, saying what
 * to install, when chromium or playwright-core is missing (who: the tests
 * that need it, for the message).
 */
async function launchBrowser(who, viewport = DESKTOP) {
	if (!fs.existsSync(CHROMIUM)) {
		throw new Error(`chromium is not installed (no ${CHROMIUM}): ${who} need it; ` +
		    'install the chromium package (contrib/dev.sh deps does), or set CHATRELAY_NO_BROWSER=1 ' +
		    'to skip them');
	}
	let chromium;
	try {
		({ chromium } = require('playwright-core'));
	} catch (e) {
		throw new Error(`playwright-core is not installed (${e.message}): run.sh installs it from ` +
		    'tests/package-lock.json (npm ci)');
	}
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'chatrelay-chromium-'));
	const context = await chromium.launchPersistentContext(profile, {
		executablePath: CHROMIUM,
		headless: true,
		args: CHROMIUM_ARGS,
		viewport,
	});
	return {
		context,
		async close() {
			try {
				await context.close();
			} finally {
				fs.rmSync(profile, { recursive: true, force: true });
			}
		},
	};
}

module.exports = { NO_BROWSER, ARTIFACTS, DESKTOP, PHONE, launchBrowser };
