'use strict';
/*
 * token.test.js: `chatrelay token`, run as a user would, its tokens used on
 * a real relay: a moderator on /admin, a player on /ws with chs, the secret
 * from a configuration file, expiry; and what it says when it cannot sign.
 * src/token-cmd.c (the subcommand) and src/auth.c (auth_sign_jwt).
 */

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { startRelay, BIN, sleep, nowSecs, uniq } = require('./lib');

const SECRET = 'tok-s3cret';
/* A secret a shell would mangle: the config file has to carry it quoted. */
const FILE_SECRET = 'file secret # with "quotes" and \\ backslash';
const T = { timeout: 20000 };
const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/;

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chatrelay-token-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/* Writes a configuration file of lines into tmp; returns its path. */
function writeConf(name, lines) {
	const p = path.join(tmp, name);
	fs.writeFileSync(p, lines.join('\n') + '\n');
	return p;
}

/* A configuration file with no secret at all, so the machine's own file is never read. */
const EMPTY_CONF = writeConf('empty.conf', ['# no secret']);

/* Runs `chatrelay token ARGS...`; returns {status, stdout, stderr}. */
function token(...args) {
	const r = spawnSync(BIN, ['token', ...args], { cwd: tmp, encoding: 'utf8', timeout: 10000 });
	if (r.error) throw r.error;
	return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/* Runs `chatrelay token ARGS...`, which must succeed; returns the token. */
function mint(...args) {
	const r = token(...args);
	assert.equal(r.status, 0, `chatrelay token ${args.join(' ')}: exit ${r.status}, stderr: ${r.stderr}`);
	assert.equal(r.stderr, '', 'nothing on stderr');
	assert.match(r.stdout, /\n$/, 'the token ends with a newline');
	const lines = r.stdout.split('\n');
	assert.equal(lines.length, 2, `one line on stdout: ${JSON.stringify(r.stdout)}`);
	assert.match(lines[0], JWT);
	return lines[0];
}

/* The claims of a token, decoded. */
function claimsOf(tok) {
	const [h, p] = tok.split('.');
	assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString('utf8')), { alg: 'HS256', typ: 'JWT' });
	return JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
}

/* Runs `chatrelay token ARGS...`, which must fail with exit 1 and say what matches want. */
function refused(want, ...args) {
	const r = token(...args);
	assert.equal(r.status, 1, `chatrelay token ${args.join(' ')}: exit ${r.status}, stdout: ${r.stdout}`);
	assert.equal(r.stdout, '', 'no token on stdout');
	assert.match(r.stderr, want);
	assert.doesNotMatch(r.stderr, /AddressSanitizer|runtime error/);
	return r.stderr;
}

/* err auth_failed with msg, then bye 4001, then close 4001. */
async function expectAuthFailed(c, msg) {
	const err = await c.next('err');
	assert.deepEqual({ code: err.code, msg: err.msg }, { code: 'auth_failed', msg });
	const bye = await c.next('bye');
	assert.equal(bye.code, 4001);
	assert.equal((await c.closed).code, 4001);
}

describe('chatrelay token with --secret', () => {
	let relay;
	before(async () => {
		relay = await startRelay({ secret: SECRET });
	});

	test('a moderator token is welcomed on /admin, and can kick', T, async () => {
		const tok = mint('-c', EMPTY_CONF, '--secret', SECRET, '--sub', 'mod-1', '--role', 'moderator');
		const claims = claimsOf(tok);
		assert.equal(claims.sub, 'mod-1');
		assert.equal(claims.role, 'moderator');
		assert.ok(Math.abs(claims.exp - (nowSecs() + 3600)) <= 5, `default ttl 3600: exp ${claims.exp}`);
		assert.equal(claims.name, undefined);
		assert.equal(claims.chs, undefined);

		const mod = await relay.ws({ path: `/admin?token=${tok}` });
		const w = await mod.next('welcome');
		assert.deepEqual(w.user, { id: 'mod-1', name: 'mod-1', role: 'moderator' });

		const sub = uniq('victim');
		const p = await relay.withToken(mint('-c', EMPTY_CONF, '--secret', SECRET, '--sub', sub));
		const ok = await mod.call({ op: 'kick', user: sub, reason: 'minted', id: 'k1' });
		assert.equal(ok.op, 'ok', JSON.stringify(ok));
		const bye = await p.next('bye');
		assert.deepEqual({ code: bye.code, reason: bye.reason }, { code: 4008, reason: 'minted' });
		await mod.close();
	});

	test('a player token: welcome on /ws with name and role, chs enforced; refused on /admin', T, async () => {
		const sub = uniq('p');
		const tok = mint('--secret', SECRET, '-c', EMPTY_CONF, '--sub', sub, '--name', 'Zoë "one"',
		    '--chs', 'global, party:*');
		assert.deepEqual(claimsOf(tok).chs, ['global', 'party:*']);
		const c = await relay.withToken(tok);
		assert.deepEqual(c.welcome.user, { id: sub, name: 'Zoë "one"', role: 'player' });
		assert.equal((await c.join('global')).ch, 'global');
		assert.equal((await c.join('party:7')).ch, 'party:7');
		const r = await c.call({ op: 'join', ch: 'guild:1', id: 'g' });
		assert.deepEqual({ op: r.op, code: r.code }, { op: 'err', code: 'forbidden' });
		await c.close();

		const adm = await relay.ws({ path: `/admin?token=${tok}` });
		const err = await adm.next('err');
		assert.equal(err.code, 'forbidden');
		assert.equal((await adm.closed).code, 4001);
	});

	test('--chs "" gives a token that may join no channel', T, async () => {
		const tok = mint('-c', EMPTY_CONF, '--secret', SECRET, '--sub', uniq('none'), '--chs', '');
		assert.deepEqual(claimsOf(tok).chs, []);
		const c = await relay.withToken(tok);
		const r = await c.call({ op: 'join', ch: 'global', id: 'n' });
		assert.equal(r.code, 'forbidden');
		await c.close();
	});

	test('--ttl 1: the token is refused once it has expired (auth_failed "expired", 4001)', T, async () => {
		const tok = mint('-c', EMPTY_CONF, '--secret', SECRET, '--sub', uniq('short'), '--ttl', '1');
		const { exp } = claimsOf(tok);
		assert.ok(exp - nowSecs() <= 1, `exp ${exp} is at most a second away`);
		while (nowSecs() < exp) await sleep(100);
		await sleep(50);
		const c = await relay.ws({ path: `/ws?token=${tok}` });
		await expectAuthFailed(c, 'expired');
		// and in an auth frame alike
		const d = await relay.ws();
		d.send({ op: 'auth', token: tok });
		await expectAuthFailed(d, 'expired');
	});

	test('--ttl 0: no exp claim, and the token is accepted', T, async () => {
		const sub = uniq('forever');
		const tok = mint('-c', EMPTY_CONF, '--secret', SECRET, '--sub', sub, '--ttl', '0', '--role', 'admin');
		assert.equal(claimsOf(tok).exp, undefined);
		const c = await relay.withToken(tok);
		assert.deepEqual(c.welcome.user, { id: sub, name: sub, role: 'admin' });
		await c.close();
	});

	test('a token signed with another secret is refused (bad signature)', T, async () => {
		const tok = mint('-c', EMPTY_CONF, '--secret', 'not-the-relays', '--sub', uniq('other'));
		const c = await relay.ws({ path: `/ws?token=${tok}` });
		await expectAuthFailed(c, 'bad signature');
	});
});

describe('chatrelay token with the secret in a configuration file', () => {
	let relay;
	let conf;
	before(async () => {
		relay = await startRelay({ secret: FILE_SECRET });
		// the relay's own configuration file: the token reads exactly what the relay read
		conf = relay.conf;
	});

	test('-c FILE: the relay\'s own file gives a token it accepts', T, async () => {
		const tok = mint('-c', conf, '--sub', 'mod-2', '--role', 'moderator');
		const mod = await relay.ws({ path: `/admin?token=${tok}` });
		const w = await mod.next('welcome');
		assert.deepEqual(w.user, { id: 'mod-2', name: 'mod-2', role: 'moderator' });
		await mod.close();
		const p = await relay.withToken(mint('--config', conf, '--sub', 'player-2'));
		assert.deepEqual(p.welcome.user, { id: 'player-2', name: 'player-2', role: 'player' });
		await p.close();
	});

	test('--secret on the command line overrides the file, as for the relay', T, async () => {
		const tok = mint('-c', conf, '--secret', 'overridden', '--sub', uniq('ovr'));
		const c = await relay.ws({ path: `/ws?token=${tok}` });
		await expectAuthFailed(c, 'bad signature');
	});
});

describe('chatrelay token errors: exit 1, a reason on stderr, nothing on stdout', () => {
	test('no secret configured: says so and how to set one', T, () => {
		const e = refused(/no secret is configured/, '-c', EMPTY_CONF, '--sub', 'a');
		assert.match(e, /set `secret` in the configuration file \(-c FILE\)\s+or give --secret VALUE/);
		refused(/no secret is configured/, '-c', EMPTY_CONF, '--secret', '', '--sub', 'a');
	});

	test('bad or missing --sub', T, () => {
		refused(/--sub ID is required/, '-c', EMPTY_CONF, '--secret', SECRET);
		for (const sub of ['', 'two words', 's'.repeat(65), 'tab\there', 'café']) {
			refused(/bad sub: a user id is 1-64 bytes of printable ASCII without spaces/,
			    '-c', EMPTY_CONF, '--secret', SECRET, '--sub', sub);
		}
		refused(/--sub needs a value/, '-c', EMPTY_CONF, '--secret', SECRET, '--sub');
		refused(/--sub given more than once/, '-c', EMPTY_CONF, '--secret', SECRET, '--sub', 'a', '--sub', 'b');
		mint('-c', EMPTY_CONF, '--secret', SECRET, '--sub', 's'.repeat(64));
	});

	test('bad --name and --role', T, () => {
		refused(/bad name: a display name is 1-64 bytes of UTF-8/, '-c', EMPTY_CONF, '--secret', SECRET,
		    '--sub', 'a', '--name', '');
		refused(/bad name/, '-c', EMPTY_CONF, '--secret', SECRET, '--sub', 'a', '--name', 'n'.repeat(65));
		refused(/bad --role "root": player, moderator or admin/, '-c', EMPTY_CONF, '--secret', SECRET,
		    '--sub', 'a', '--role', 'root');
		refused(/bad --role "Admin"/, '-c', EMPTY_CONF, '--secret', SECRET, '--sub', 'a', '--role', 'Admin');
	});

	test('bad --ttl: whole seconds, at most 10 years', T, () => {
		for (const ttl of ['', '-5', '+5', '1h', '1.5', '315360001', '99999999999999999999']) {
			refused(/bad --ttl ".*": whole seconds from 0 \(no expiry\) to 315360000 \(10 years\)/,
			    '-c', EMPTY_CONF, '--secret', SECRET, '--sub', 'a', '--ttl', ttl);
		}
		const { exp } = claimsOf(mint('-c', EMPTY_CONF, '--secret', SECRET, '--sub', 'a', '--ttl', '315360000'));
		assert.ok(Math.abs(exp - (nowSecs() + 315360000)) <= 5);
	});

	test('bad --chs: names the pattern, at most 32', T, () => {
		refused(/bad --chs: "x y" is not a channel pattern/, '-c', EMPTY_CONF, '--secret', SECRET,
		    '--sub', 'a', '--chs', 'global,x y');
		refused(/bad --chs: "a\*b" is not a channel pattern/, '-c', EMPTY_CONF, '--secret', SECRET,
		    '--sub', 'a', '--chs', 'a*b');
		refused(/bad --chs: an empty pattern/, '-c', EMPTY_CONF, '--secret', SECRET, '--sub', 'a', '--chs', 'a,,b');
		refused(/bad --chs: an empty pattern/, '-c', EMPTY_CONF, '--secret', SECRET, '--sub', 'a', '--chs', 'a,');
		const many = Array.from({ length: 33 }, (_, i) => `c${i}`);
		refused(/bad --chs: more than 32 patterns/, '-c', EMPTY_CONF, '--secret', SECRET, '--sub', 'a',
		    '--chs', many.join(','));
		const tok = mint('-c', EMPTY_CONF, '--secret', SECRET, '--sub', 'a', '--chs', many.slice(0, 32).join(','));
		assert.equal(claimsOf(tok).chs.length, 32);
	});

	test('the configuration is checked as the relay checks it', T, () => {
		refused(/unknown option --bogus/, '-c', EMPTY_CONF, '--secret', SECRET, '--sub', 'a', '--bogus', 'x');
		refused(/unknown option --test-config/, '-c', EMPTY_CONF, '--secret', SECRET, '--sub', 'a', '--test-config');
		const bad = writeConf('bad.conf', [`secret "${SECRET}"`, 'port 99999999']);
		refused(/bad\.conf:2: /, '-c', bad, '--sub', 'a');
		refused(/nonexistent\.conf/, '-c', path.join(tmp, 'nonexistent.conf'), '--sub', 'a');
		refused(/port/, '-c', EMPTY_CONF, '--secret', SECRET, '--port', 'x', '--sub', 'a');
	});

	test('--help: the usage on stdout, exit 0; chatrelay --help mentions token', T, () => {
		const r = token('--help');
		assert.equal(r.status, 0);
		assert.match(r.stdout, /^usage: chatrelay token \[-c FILE\] \[--NAME VALUE \.\.\.\] --sub ID/);
		for (const opt of ['--sub ID', '--name NAME', '--role ROLE', '--ttl SECS', '--chs PATTERN']) {
			assert.ok(r.stdout.includes(opt), `--help shows ${opt}`);
		}
		const h = spawnSync(BIN, ['--help'], { encoding: 'utf8', timeout: 10000 });
		assert.equal(h.status, 0);
		assert.match(h.stdout, /chatrelay token \[-c FILE\]/);
		assert.match(h.stdout, /chatrelay token --help/);
	});
});
