'use strict';
/*
 * metrics.test.js: /metrics as Prometheus reads it (src/metrics.c,
 * src/metrics-process.c).
 *
 *   - `promtool check metrics` on a live relay's output, after traffic, on
 *     the in-process bus and on Redis (startCluster, so the publish latency
 *     histogram holds Redis round trips): exit 0, nothing printed;
 *   - the counters grow with traffic; chatrelay_build_info carries the
 *     version and the node; the histogram is in seconds, its _count is the
 *     number of publishes;
 *   - the process_* metrics are this relay's: memory, descriptors (and
 *     their growth with connections), start time, CPU time growing with
 *     work.
 *
 * promtool is looked for in $CHATRELAY_PROMTOOL, then $CHATRELAY_SRCDIR/
 * .tools/promtool (where contrib/dev.sh deps puts it, taken from Debian's
 * prometheus package), then on PATH.  Without it the promtool tests FAIL,
 * unless CHATRELAY_NO_PROMTOOL=1, which skips them.
 */

const { test, describe, before } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { startRelay, startCluster, httpGet, uniq, waitFor, SRCDIR, BIN, sleep } = require('./lib');

const T = { timeout: 30000 };
const FAST = { rate: 100000, burst: 100000 };

/* Returns the path of promtool, or null if there is none. */
function findPromtool() {
	const tries = [];
	if (process.env.CHATRELAY_PROMTOOL) tries.push(process.env.CHATRELAY_PROMTOOL);
	tries.push(path.join(SRCDIR, '.tools', 'promtool'));
	for (const dir of (process.env.PATH || '').split(':')) {
		if (dir) tries.push(path.join(dir, 'promtool'));
	}
	for (const p of tries) {
		try {
			fs.accessSync(p, fs.constants.X_OK);
			return p;
		} catch { /* next */ }
	}
	return null;
}

const PROMTOOL = findPromtool();
const NO_PROMTOOL = process.env.CHATRELAY_NO_PROMTOOL === '1';
const PT = NO_PROMTOOL && !PROMTOOL ? { ...T, skip: 'no promtool and CHATRELAY_NO_PROMTOOL=1' } : T;

/* Runs `promtool check metrics` on text; fails the test on anything it says. */
function promtoolCheck(text) {
	assert.ok(PROMTOOL, 'promtool not found ($CHATRELAY_PROMTOOL, $CHATRELAY_SRCDIR/.tools/promtool, PATH): ' +
	    'run contrib/dev.sh deps, or set CHATRELAY_NO_PROMTOOL=1 to skip this test');
	const r = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 15000 });
	assert.equal(r.error, undefined, `cannot run ${PROMTOOL}: ${r.error}`);
	const said = (r.stdout + r.stderr).trim();
	assert.equal(said, '', `promtool check metrics said:\n${said}\non:\n${text}`);
	assert.equal(r.status, 0, `promtool check metrics exited ${r.status}`);
}

/* GET /metrics; resolves {text, m} with m a Map of series (name{labels}) to value. */
async function scrape(port) {
	const r = await httpGet(port, '/metrics');
	assert.equal(r.status, 200, r.body);
	assert.match(r.headers['content-type'] || '', /^text\/plain; version=0\.0\.4/);
	const m = new Map();
	for (const line of r.body.split('\n')) {
		if (line === '' || line.startsWith('#')) continue;
		const i = line.lastIndexOf(' ');
		assert.ok(i > 0, `sample line ${line}`);
		const series = line.slice(0, i);
		assert.ok(!m.has(series), `series ${series} twice`);
		m.set(series, Number(line.slice(i + 1)));
	}
	return { text: r.body, m };
}

/* The value of series in m; fails if it is missing. */
function val(m, series) {
	assert.ok(m.has(series), `no ${series} in /metrics`);
	return m.get(series);
}

/* The version the relay prints (chatrelay --version). */
function relayVersion() {
	const r = spawnSync(BIN, ['--version'], { encoding: 'utf8' });
	const v = /(\d+\.\d+[^\s]*)/.exec(r.stdout || '');
	assert.ok(v, `chatrelay --version said ${r.stdout}`);
	return v[1];
}

/* Two guests in channel ch on relays ra and rb; a sends n messages, b gets them. */
async function chat(ra, rb, ch, n) {
	const a = await ra.guest(uniq('ma'));
	const b = await rb.guest(uniq('mb'));
	await a.join(ch);
	await b.join(ch);
	for (let i = 0; i < n; i++) await a.say(ch, `metrics message ${i}`);
	await b.take((f) => f.op === 'msg' && f.ch === ch, n);
	await a.close();
	await b.close();
}

describe('metrics (in-process bus)', () => {
	let relay;
	let t0;
	let t1;
	before(async () => {
		t0 = Date.now() / 1000;
		relay = await startRelay({ workers: 2, node: 'metrics-local', ...FAST });
		t1 = Date.now() / 1000;
	});

	test('promtool check metrics: nothing to say, after traffic', PT, async () => {
		await chat(relay, relay, uniq('ch'), 20);
		const { text } = await scrape(relay.port);
		promtoolCheck(text);
	});

	test('chatrelay_build_info: 1, with the version and the node', T, async () => {
		const { m } = await scrape(relay.port);
		assert.equal(val(m, `chatrelay_build_info{version="${relayVersion()}",node="metrics-local"}`), 1);
		assert.ok(![...m.keys()].some((k) => k.startsWith('chatrelay_info')), 'the old chatrelay_info is gone');
		assert.equal(val(m, 'chatrelay_workers'), 2);
	});

	test('counters grow with traffic', T, async () => {
		const { m: b } = await scrape(relay.port);
		await chat(relay, relay, uniq('ch'), 10);
		/* The two closes are counted once the relay has seen them. */
		let a;
		await waitFor('the two closes counted', async () => {
			({ m: a } = await scrape(relay.port));
			const seen = [val(b, 'chatrelay_disconnections_total{reason="client"}'),
			    val(a, 'chatrelay_disconnections_total{reason="client"}')];
			return { done: seen[1] >= seen[0] + 2, seen };
		});
		const grew = (s, by) => assert.ok(val(a, s) >= val(b, s) + by,
		    `${s}: ${val(b, s)} -> ${val(a, s)}, expected + ${by}`);
		grew('chatrelay_messages_published_total', 10);
		grew('chatrelay_messages_delivered_total', 20);	/* both members get each */
		grew('chatrelay_frames_in_total', 14);		/* 2 auth, 2 join, 10 send */
		grew('chatrelay_received_bytes_total', 10 * 'metrics message 0'.length);
		grew('chatrelay_frames_out_total', 30);
		grew('chatrelay_sent_bytes_total', 10 * 'metrics message 0'.length);
		grew('chatrelay_bus_publish_seconds_count', 10);
		assert.equal(val(a, 'chatrelay_bus_publish_seconds_count'),
		    val(a, 'chatrelay_bus_publish_seconds_bucket{le="+Inf"}'));
		assert.equal(val(a, 'chatrelay_bus_publish_seconds_count'), val(a, 'chatrelay_messages_published_total'));
	});

	test('process_*: this relay\'s memory, descriptors and start time', T, async () => {
		const { m } = await scrape(relay.port);
		const rss = val(m, 'process_resident_memory_bytes');
		assert.ok(rss > 1024 * 1024, `resident ${rss}`);
		assert.ok(val(m, 'process_virtual_memory_bytes') >= rss);
		/* The same process as /proc says (it moves a little between the two reads). */
		const kb = relay.rssKb();
		assert.ok(rss > kb * 1024 / 2 && rss < kb * 1024 * 2, `resident ${rss}, VmRSS ${kb} kB`);
		const fds = val(m, 'process_open_fds');
		const max = val(m, 'process_max_fds');
		assert.ok(fds > 0 && fds < max, `open fds ${fds}, max ${max}`);
		const start = val(m, 'process_start_time_seconds');
		assert.ok(start >= t0 - 2 && start <= t1 + 2, `start ${start}, relay started between ${t0} and ${t1}`);
		assert.ok(Math.abs(start - Date.now() / 1000) < 600, 'started in the last minutes');
	});

	test('process_open_fds grows with connections', T, async () => {
		const { m: b } = await scrape(relay.port);
		const cs = [];
		for (let i = 0; i < 10; i++) cs.push(await relay.guest(uniq('fd')));
		const { m: a } = await scrape(relay.port);
		assert.ok(val(a, 'process_open_fds') >= val(b, 'process_open_fds') + 10,
		    `${val(b, 'process_open_fds')} -> ${val(a, 'process_open_fds')} with 10 connections more`);
		assert.ok(val(a, 'chatrelay_connections') >= 10);
		for (const c of cs) await c.close();
	});

	test('process_cpu_seconds_total grows with work', T, async () => {
		const { m: b } = await scrape(relay.port);
		await chat(relay, relay, uniq('cpu'), 200);
		const { m: a } = await scrape(relay.port);
		const cb = val(b, 'process_cpu_seconds_total');
		const ca = val(a, 'process_cpu_seconds_total');
		assert.ok(ca > cb, `cpu ${cb} -> ${ca} after 200 messages`);
		/* Seconds, not ticks or ms: far less than the wall time since start. */
		assert.ok(ca < (Date.now() / 1000 - t0) * 4 + 1, `cpu ${ca}`);
	});
});

describe('metrics (Redis bus)', () => {
	let relays;
	before(async () => {
		({ relays } = await startCluster(2, FAST));
	});

	test('promtool check metrics: nothing to say, with the histogram full of Redis round trips', PT, async () => {
		await chat(relays[0], relays[1], uniq('ch'), 30);
		for (const r of relays) promtoolCheck((await scrape(r.port)).text);
	});

	test('chatrelay_bus_publish_seconds: in seconds, cumulative, _count the publishes', T, async () => {
		await chat(relays[0], relays[1], uniq('ch'), 20);
		await sleep(100);
		const { m } = await scrape(relays[0].port);
		const count = val(m, 'chatrelay_bus_publish_seconds_count');
		const sum = val(m, 'chatrelay_bus_publish_seconds_sum');
		assert.ok(count >= 20, `count ${count}`);
		assert.equal(count, val(m, 'chatrelay_messages_published_total'));
		/* A loopback Redis round trip: between a microsecond and a second. */
		assert.ok(sum / count > 1e-6 && sum / count < 1, `mean ${sum / count} s`);
		let last = 0;
		const les = [];
		for (const [k, v] of m) {
			const le = /^chatrelay_bus_publish_seconds_bucket\{le="([^"]+)"\}$/.exec(k);
			if (!le) continue;
			assert.ok(v >= last, `${k} ${v} < ${last}`);
			last = v;
			les.push(le[1]);
		}
		assert.deepEqual(les, ['0.0001', '0.00025', '0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025',
		    '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf']);
		assert.equal(last, count);
		assert.equal(val(m, 'chatrelay_build_info{version="' + relayVersion() + '",node="n1"}'), 1);
	});
});
