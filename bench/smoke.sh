#!/usr/bin/env bash
# smoke.sh: runs chatrelay-bench's four scenarios at a tiny scale against a
# real relay (what `make check` runs for the bench).
#
# Starts $CHATRELAY_BIN (default ../src/chatrelay from here) on a free
# loopback port with a throwaway configuration and benchmark rate limits,
# runs idle, fanout, rooms and cluster for one second each with --json, and
# checks that every run completed, lost nothing and delivered something (idle:
# that all 20 connections were held).  Also checks the exit statuses for a
# usage error (2) and a relay that is not there (1).  Exits 0 if all passed,
# 1 if a check failed, 99 for a setup error.

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
relay=${CHATRELAY_BIN:-$here/../src/chatrelay}
if [ -n "${CHATRELAY_BENCH:-}" ]; then
	bench=$CHATRELAY_BENCH
elif [ -x bench/chatrelay-bench ]; then
	bench=$(pwd)/bench/chatrelay-bench	# make check runs in the build dir
else
	bench=$here/chatrelay-bench
fi
for bin in "$relay" "$bench"; do
	if [ ! -x "$bin" ]; then
		echo "smoke.sh: $bin is missing or not executable" >&2
		exit 99
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chatrelay-bench-smoke.XXXXXX") || exit 99
relay_pid=
cleanup() {
	if [ -n "$relay_pid" ]; then
		kill "$relay_pid" 2>/dev/null
		wait "$relay_pid" 2>/dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 99' INT TERM

# Returns a port nobody listens on (a small race with other tests is
# covered by retrying the relay's start).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
	    echo $(( 20000 + RANDOM % 20000 ))
}

# Succeeds once something accepts TCP connections on 127.0.0.1:$1.
probe() {
	(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

: >"$tmp/chatrelay.conf"
started=no
for attempt in 1 2 3; do
	port=$(free_port)
	"$relay" -c "$tmp/chatrelay.conf" --port "$port" --workers 2 \
	    --rate 100000 --burst 1000000 --log_level warn \
	    >"$tmp/relay.log" 2>&1 &
	relay_pid=$!
	for _ in $(seq 1 100); do
		if probe "$port"; then
			started=yes
			break
		fi
		kill -0 "$relay_pid" 2>/dev/null || break
		sleep 0.1
	done
	[ "$started" = yes ] && break
	kill "$relay_pid" 2>/dev/null
	wait "$relay_pid" 2>/dev/null
	relay_pid=
done
if [ "$started" != yes ]; then
	echo "smoke.sh: the relay did not start; its output:" >&2
	cat "$tmp/relay.log" >&2
	exit 99
fi
url=ws://127.0.0.1:$port/ws

failed=0

# check NAME EXPR FILE: EXPR is a Python expression over the JSON object j.
check() {
	local name=$1 expr=$2 file=$3

	if command -v python3 >/dev/null 2>&1; then
		python3 - "$file" "$expr" <<'EOF'
import json, sys
with open(sys.argv[1]) as f:
    j = json.load(f)
ok = eval(sys.argv[2], {}, {"j": j})
sys.exit(0 if ok else 1)
EOF
	else
		# Without python3: the fields the checks use, by grep.
		local lost deliv conns
		lost=$(grep -o '"lost":[0-9]*' "$file" | head -1 | cut -d: -f2)
		deliv=$(grep -o '"delivered":[0-9]*' "$file" | head -1 | cut -d: -f2)
		conns=$(grep -o '"connections":[0-9]*' "$file" | tail -1 | cut -d: -f2)
		case $name in
		idle) [ "${conns:-0}" -eq 20 ] ;;
		*) [ "${lost:-1}" -eq 0 ] && [ "${deliv:-0}" -gt 0 ] ;;
		esac
	fi
}

# run NAME EXPR ARGS...: one bench run that must exit 0 and satisfy EXPR.
run() {
	local name=$1 expr=$2 out=$tmp/$1.json rc
	shift 2

	"$bench" --url "$url" --duration 1 --warmup 0.2 --drain 3 --json \
	    --quiet "$@" >"$out" 2>"$tmp/$name.err"
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "FAIL $name: exit status $rc" >&2
		cat "$tmp/$name.err" >&2
		failed=1
		return
	fi
	if ! check "$name" "$expr" "$out"; then
		echo "FAIL $name: $expr does not hold for:" >&2
		cat "$out" >&2
		failed=1
		return
	fi
	echo "ok   $name"
}

delivered_no_loss='j["lost"] == 0 and j["delivered"] > 0 and j["connections"] == j["connections_target"] and j["rate_limited"] == 0'

run idle 'j["connections"] == 20 and j["connect_failed"] == 0' \
    --scenario idle --connections 20
run fanout "$delivered_no_loss and j[\"subscribers\"] == 20" \
    --scenario fanout --publishers 1 --connections 20
run rooms "$delivered_no_loss and j[\"channels\"] == 10" \
    --scenario rooms --connections 20 --room-size 2
run cluster "$delivered_no_loss" \
    --scenario cluster --url2 "$url" --publishers 1 --connections 20
run fanout-rate "$delivered_no_loss and j[\"published_window\"] > 0" \
    --scenario fanout --publishers 2 --channels 3 --connections 20 --rate 200

# A usage error exits 2; a relay that is not there exits 1.
"$bench" --scenario nope >/dev/null 2>&1
rc=$?
if [ $rc -ne 2 ]; then
	echo "FAIL usage error: exit status $rc, not 2" >&2
	failed=1
else
	echo "ok   usage error"
fi
kill "$relay_pid" 2>/dev/null
wait "$relay_pid" 2>/dev/null
relay_pid=
"$bench" --url "$url" --connections 2 --duration 1 --quiet >/dev/null 2>&1
rc=$?
if [ $rc -ne 1 ]; then
	echo "FAIL no relay: exit status $rc, not 1" >&2
	failed=1
else
	echo "ok   no relay"
fi
exit $failed
