#!/usr/bin/env bash
# dev.sh: set up a Debian 12 machine for chatrelay, then build and run it or
# test it.  The README's two commands are `contrib/dev.sh run` and
# `contrib/dev.sh test`; CI (.ci/run) runs the second.
#
#   contrib/dev.sh deps    install the Debian packages (apt-get; root or sudo)
#   contrib/dev.sh build   deps + configure + make, in build/
#   contrib/dev.sh run     build, then run the relay on its embedded default
#                          (127.0.0.1:8080, one instance, open mode, web/ served);
#                          extra arguments go to chatrelay (e.g. --port 9000)
#   contrib/dev.sh test    build, make check; then an --enable-asan build in
#                          build-asan/ and make check there too; then make
#                          distcheck in build/ (the tarball builds, passes
#                          its tests without the node suite, installs,
#                          runs installed, uninstalls)
#   contrib/dev.sh node    make sure the tests have node >= 20 (test does it)
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
jobs=$(nproc 2>/dev/null || echo 2)
# Where node@20 goes when the system's node is older (see node_setup).
nodedir=${CHATRELAY_NODE_DIR:-$top/.node}

packages=(
	build-essential autoconf automake pkg-config
	libwebsockets-dev libuv1-dev libhiredis-dev libcjson-dev libssl-dev check
	redis-server redis-sentinel ca-certificates openssl
	chromium
	groff-base man-db
)
# redis-sentinel is for check_sentinel, which starts its own sentinels on
# free loopback ports with their own files; the package's system service
# (26379) is never used by the tests.  chromium is for console.test.js, which
# drives it with playwright-core (from tests/package-lock.json, not a browser
# download) to test the moderators' console, web/admin.html.  groff-base and
# man-db are for tests/man.sh, which renders the man pages (groff -ww, man
# -l, lexgrog).
#
# promtool (metrics.test.js checks /metrics with it) is in Debian's
# prometheus package, which is not installed: its postinst adds a system
# user and starts a Prometheus server (on :9090, scraping and storing), and
# it weighs ~100 MB with its web UI's libraries.  deps_promtool downloads
# the .deb (apt-get download, verified by apt as for an install) and
# unpacks promtool alone, a static binary, into .tools/.

as_root() {
	if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

deps() {
	local missing=() p
	for p in "${packages[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
		    grep -q "install ok installed" || missing+=("$p")
	done
	# The integration tests need node >= 20 and npm.  Debian 12's own
	# nodejs is 18: it is installed when there is no node at all, to run
	# npm, and node_setup then adds node 20 from the npm registry.
	if ! command -v node >/dev/null 2>&1; then
		missing+=(nodejs npm)
	elif ! command -v npm >/dev/null 2>&1; then
		missing+=(npm)
	fi
	if [ ${#missing[@]} -gt 0 ]; then
		echo "dev.sh: installing ${missing[*]}"
		as_root apt-get update -q
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
		    --no-install-recommends "${missing[@]}"
	fi
	deps_promtool
}

# Puts promtool from Debian's prometheus package in .tools/, unless it is there.
deps_promtool() {
	local tmp deb
	[ -x .tools/promtool ] && return 0
	echo "dev.sh: unpacking promtool from Debian's prometheus package into .tools/"
	tmp=$(mktemp -d)
	chown _apt "$tmp" 2>/dev/null || true	# apt, as root, downloads as _apt
	# apt-get download needs the package lists: on a machine that had every
	# package already, apt-get update may never have run.
	(cd "$tmp" && apt-get download -q prometheus) || {
		as_root apt-get update -q
		(cd "$tmp" && apt-get download -q prometheus)
	}
	deb=$(ls "$tmp"/prometheus_*.deb)
	mkdir -p .tools
	dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/bin/promtool >.tools/promtool.tmp
	chmod 755 .tools/promtool.tmp
	mv .tools/promtool.tmp .tools/promtool
	rm -rf "$tmp"
}

# Prints the major version of the node $1 (default: the one on PATH), or 0.
node_major() {
	"${1:-node}" -p 'process.versions.node.split(".")[0]' 2>/dev/null ||
	    echo 0
}

# Makes `node` on PATH a node >= 20 for the integration tests (run.sh skips
# them with an older one).  The system's node when it is recent enough;
# otherwise (Debian 12's nodejs is 18) node@20 from the npm registry,
# installed once into $nodedir with the system's npm (the package "node",
# whose install script fetches the node-linux-* package that holds the
# real binary) and put first on PATH.  Needs no root.
node_setup() {
	local bin=$nodedir/node_modules/.bin/node
	if [ "$(node_major)" -ge 20 ]; then
		return
	fi
	if [ "$(node_major "$bin")" -lt 20 ]; then
		echo "dev.sh: node $(node --version 2>/dev/null || echo none) is" \
		    "older than 20: installing node@20 from the npm registry" \
		    "into $nodedir"
		mkdir -p "$nodedir"
		npm install --prefix "$nodedir" --no-audit --no-fund \
		    --loglevel=error node@20
	fi
	if [ "$(node_major "$bin")" -lt 20 ]; then
		echo "dev.sh: $bin is not a node >= 20; the integration tests" \
		    "would be skipped" >&2
		exit 1
	fi
	export PATH=$nodedir/node_modules/.bin:$PATH
	echo "dev.sh: the tests use $bin ($(node --version))"
}

# Configures (if needed) and builds in directory $1 with configure flags $2...
build_in() {
	local dir=$1
	shift
	mkdir -p "$dir"
	(
		cd "$dir"
		if [ ! -f Makefile ] || [ ../configure -nt Makefile ]; then
			../configure "$@"
		fi
		make -j"$jobs"
	)
}

build() {
	deps
	if [ -f config.status ]; then
		echo "dev.sh: the source tree is configured in place; run" \
		    "'make distclean' first (dev.sh builds in build/ and build-asan/)" >&2
		exit 1
	fi
	if [ ! -x configure ] || [ configure.ac -nt configure ] ||
	    [ Makefile.am -nt configure ]; then
		autoreconf -fi
	fi
	build_in build
}

# Prints one line totalling the test cases of a build directory's last
# `make check`: the Check suites' "Checks: N, Failures: F, Errors: E" and
# node's "pass N" / "fail N" lines.
summary() {
	local dir=$1 label=$2
	cat "$dir"/tests/unit/*.log "$dir"/tests/integration/*.log 2>/dev/null |
	awk -v label="$label" '
		/Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+/ {
			match($0, /Checks: [0-9]+/); c = substr($0, RSTART + 8, RLENGTH - 8)
			match($0, /Failures: [0-9]+/); f = substr($0, RSTART + 10, RLENGTH - 10)
			match($0, /Errors: [0-9]+/); e = substr($0, RSTART + 8, RLENGTH - 8)
			pass += c - f - e; fail += f + e
		}
		NF == 3 && $2 == "pass" && $3 ~ /^[0-9]+$/ { pass += $3 }
		NF == 3 && $2 == "fail" && $3 ~ /^[0-9]+$/ { fail += $3 }
		END { printf "%s: %d passed, %d failed\n", label, pass, fail }'
}

case "${1:-}" in
deps)
	deps
	;;
build)
	build
	;;
run)
	shift
	build
	exec ./build/src/chatrelay -c conf/chatrelay.conf "$@"
	;;
node)
	deps
	node_setup
	echo "dev.sh: node $(node --version) at $(command -v node)"
	;;
test)
	build
	node_setup
	status=0
	make -C build -j"$jobs" check VERBOSE=1 || status=1
	summary build "tests"
	[ $status -eq 0 ] || exit 1
	build_in build-asan --enable-asan
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	    make -C build-asan -j"$jobs" check VERBOSE=1 || status=1
	summary build-asan "tests under ASan/UBSan"
	[ $status -eq 0 ] || exit 1
	start=$(date +%s)
	make -C build -j"$jobs" distcheck || status=1
	echo "dev.sh: make distcheck took $(( $(date +%s) - start )) s"
	exit $status
	;;
*)
	sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
	exit 2
	;;
esac
