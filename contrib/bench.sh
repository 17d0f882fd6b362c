#!/usr/bin/env bash
# bench.sh: the standard benchmarks (what `make bench` runs).
#
# Each scenario gets a fresh relay (so memory per connection is measured
# from a clean start): one worker pinned to core 0 with taskset, the bench
# on core 1, 64-byte texts, the relay's per-connection rate limit raised out
# of the way.  The workers-scale pair runs unpinned with 1 and 2 workers.
# The word filter is measured in-process by bench-filter (no relay), on
# core 1.  Results: one JSON file per scenario in $OUT (default
# bench-results/) and a Markdown summary on stdout (also saved as
# $OUT/summary.md).
#
#   contrib/bench.sh [RELAY_BIN [BENCH_BIN [BENCH_FILTER_BIN]]]
#   DURATION=10 OUT=bench-results contrib/bench.sh
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
relay=${1:-${CHATRELAY_BIN:-$top/src/chatrelay}}
bench=${2:-${CHATRELAY_BENCH:-$top/bench/chatrelay-bench}}
bench_filter=${3:-${CHATRELAY_BENCH_FILTER:-$(dirname "$bench")/bench-filter}}
out=${OUT:-bench-results}
duration=${DURATION:-10}
mkdir -p "$out"

for bin in "$relay" "$bench"; do
	[ -x "$bin" ] || { echo "bench.sh: $bin is missing: build first" >&2; exit 1; }
done
pin_relay=(taskset -c 0)
pin_bench=(taskset -c 1)
if ! command -v taskset >/dev/null || [ "$(nproc)" -lt 2 ]; then
	pin_relay=()
	pin_bench=()
fi

# Returns a free loopback TCP port.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null || true; }
trap cleanup EXIT

# run NAME WORKERS PIN(yes|no) BENCH-ARGS...: one fresh relay, one bench run.
run() {
	local name=$1 workers=$2 pin=$3 port
	shift 3
	port=$(free_port)
	local rp=() bp=()
	if [ "$pin" = yes ]; then rp=("${pin_relay[@]}"); bp=("${pin_bench[@]}"); fi
	"${rp[@]}" "$relay" --port "$port" --workers "$workers" \
	    --rate 10000000 --burst 10000000 --log_level warn \
	    --idle_timeout 1h --web_root "$top/web" >"$out/$name.relay.log" 2>&1 &
	pid=$!
	for _ in $(seq 50); do
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
		sleep 0.1
	done
	echo "bench.sh: $name" >&2
	"${bp[@]}" "$bench" --url "ws://127.0.0.1:$port/ws" --pid "$pid" \
	    --json --quiet "$@" >"$out/$name.json" || echo "bench.sh: $name failed" >&2
	kill "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	pid=
}

run idle-10k 1 yes --scenario idle --connections 10000 --duration 2
run idle-19k 1 yes --scenario idle --connections 19000 --duration 2
run fanout-1x1000 1 yes --scenario fanout --publishers 1 --connections 1000 \
    --channels 1 --duration "$duration"
run latency-50k 1 yes --scenario fanout --publishers 10 --connections 1000 \
    --channels 10 --rate 500 --duration "$duration"
run latency-200k 1 yes --scenario fanout --publishers 10 --connections 1000 \
    --channels 10 --rate 2000 --duration "$duration"
run rooms-2500x2 1 yes --scenario rooms --connections 5000 --room-size 2 \
    --rate 5000 --duration "$duration"
run scale-1w 1 no --scenario fanout --publishers 1 --connections 1000 \
    --channels 1 --duration "$duration"
run scale-2w 2 no --scenario fanout --publishers 1 --connections 1000 \
    --channels 1 --duration "$duration"

# cluster NAME BENCH-ARGS...: a fresh Redis and two relays (1 worker each),
# publishers on the first, subscribers on the second.
cluster() {
	local name=$1 rport p1 p2 rpid a b
	shift
	command -v redis-server >/dev/null || { echo "bench.sh: no redis-server: $name skipped" >&2; return; }
	rport=$(free_port)
	redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no \
	    --daemonize no --loglevel warning >"$out/$name.redis.log" 2>&1 &
	rpid=$!
	p1=$(free_port)
	p2=$(free_port)
	sleep 0.3
	for p in "$p1" "$p2"; do
		"$relay" --port "$p" --workers 1 --node "bench-$p" \
		    --redis "redis://127.0.0.1:$rport" --rate 10000000 \
		    --burst 10000000 --log_level warn >"$out/$name.relay-$p.log" 2>&1 &
	done
	sleep 1
	echo "bench.sh: $name" >&2
	"$bench" --scenario cluster --url "ws://127.0.0.1:$p1/ws" \
	    --url2 "ws://127.0.0.1:$p2/ws" --json --quiet "$@" \
	    >"$out/$name.json" || echo "bench.sh: $name failed" >&2
	pkill -f -- "--redis redis://127.0.0.1:$rport" || true
	kill "$rpid" 2>/dev/null || true
	wait 2>/dev/null || true
}

cluster cluster-10k --publishers 10 --connections 100 --channels 10 \
    --rate 1000 --duration "$duration"
cluster cluster-max --publishers 10 --connections 10 --channels 10 \
    --duration "$duration"

# The word filter's cost per message: filters of 0, 10,000 and 100,000
# entries, texts of 64 B, 500 characters and 2,000 B.
filter_bench() {
	[ -x "$bench_filter" ] || { echo "bench.sh: no $bench_filter: filter skipped" >&2; return; }
	echo "bench.sh: filter" >&2
	"${pin_bench[@]}" "$bench_filter" --json >"$out/filter.json" ||
	    echo "bench.sh: filter failed" >&2
}

filter_bench

python3 - "$out" <<'PY' | tee "$out/summary.md"
import json, os, sys
out = sys.argv[1]
def load(name):
    try:
        with open(os.path.join(out, name + ".json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None
def us(v):
    return "-" if v is None else ("%.0f us" % v if v < 1000 else "%.2f ms" % (v / 1000))
print("| scenario | connections | deliveries/s | lost | p50 | p99 | p99.9 | relay CPU | us/delivery | RSS/conn | bench saturated |")
print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
names = ["idle-10k", "idle-19k", "fanout-1x1000", "latency-50k", "latency-200k",
         "rooms-2500x2", "scale-1w", "scale-2w", "cluster-10k", "cluster-max"]
for n in names:
    r = load(n)
    if r is None:
        print("| %s | failed | | | | | | | | | |" % n)
        continue
    lat = r.get("latency_us") or {}
    rel = r.get("relay") or {}
    upd = rel.get("us_per_delivery")
    rss = rel.get("rss_per_conn_bytes")
    print("| %s | %d | %.0f | %d | %s | %s | %s | %.0f%% | %s | %s | %s |" % (
        n, r.get("connections", 0), r.get("deliveries_per_sec", 0), r.get("lost", 0),
        us(lat.get("p50")) if lat.get("count") else "-",
        us(lat.get("p99")) if lat.get("count") else "-",
        us(lat.get("p999")) if lat.get("count") else "-",
        rel.get("cpu_pct", 0), "-" if upd is None else "%.2f" % upd,
        "-" if rss is None else "%.0f B" % rss,
        "yes" if r.get("bench_saturated") else "no"))
s1, s2 = load("scale-1w"), load("scale-2w")
if s1 and s2 and s1.get("deliveries_per_sec"):
    print("\nworkers scale: 2 workers deliver %.2fx the deliveries/s of 1 worker" %
          (s2["deliveries_per_sec"] / s1["deliveries_per_sec"]))
flt = load("filter")
def ns(v):
    return "-" if v is None else ("%.0f ns" % v if v < 10000 else "%.1f us" % (v / 1000))
print("\n| filter entries | text | bytes | no match | match, refuse | match + mask |")
print("| --- | --- | --- | --- | --- | --- |")
if flt is None:
    print("| filter | failed | | | | |")
else:
    for fl in flt.get("filters", []):
        for t in fl.get("texts", []):
            print("| %d | %s | %d | %s | %s | %s |" % (
                fl["entries"], t["text"], t["bytes"], ns(t.get("nomatch_ns")),
                ns(t.get("refuse_ns")), ns(t.get("mask_ns"))))
    print("\nfilter build: " + ", ".join("%d entries %.1f ms %.0f KiB" % (
        fl["entries"], fl["build_ms"], fl["memory_bytes"] / 1024.0)
        for fl in flt.get("filters", [])))
PY
