#!/usr/bin/env bash
# run.sh: the integration suite's entry point (what `make check` runs).
#
# Drives the real daemon ($CHATRELAY_BIN) with real WebSocket clients: node's
# built-in test runner over tests/integration/*.test.js, with the `ws` and
# `playwright-core` packages installed from tests/package-lock.json (the
# console's browser test drives Debian's chromium; CHATRELAY_NO_BROWSER=1
# skips it).  Exits with node's status (77, the
# automake "skipped" status, if node or npm is missing; 99 for a setup error).

set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
srcdir=${CHATRELAY_SRCDIR:-$(cd "$here/../.." && pwd)}
srcdir=$(cd "$srcdir" && pwd)
bin=${CHATRELAY_BIN:-$srcdir/src/chatrelay}
case $bin in /*) ;; *) bin=$(pwd)/$bin ;; esac
export CHATRELAY_SRCDIR=$srcdir CHATRELAY_BIN=$bin

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
	echo "run.sh: node and npm are needed for the integration tests; skipping" >&2
	exit 77
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
	echo "run.sh: node >= 20 is needed (found $(node --version)); skipping" >&2
	exit 77
fi
if [ ! -x "$bin" ]; then
	echo "run.sh: relay binary $bin is missing or not executable" >&2
	exit 99
fi

# Dependencies: tests/node_modules, installed (npm ci) when missing or older
# than the lock file.  A read-only source tree (make distcheck) installs into
# the build directory instead and points NODE_PATH there.
testsdir=$srcdir/tests
depdir=$testsdir
if [ ! -w "$testsdir" ]; then
	depdir=$(pwd)/tests-node-deps
	mkdir -p "$depdir"
	cp -f "$testsdir/package.json" "$testsdir/package-lock.json" "$depdir/"
fi
stamp=$depdir/node_modules/.package-lock.json
if [ ! -d "$depdir/node_modules/ws" ] || [ ! -d "$depdir/node_modules/playwright-core" ] ||
   [ ! -f "$stamp" ] || [ "$testsdir/package-lock.json" -nt "$stamp" ]; then
	echo "run.sh: installing test dependencies in $depdir (npm ci)"
	if ! (cd "$depdir" && npm ci --no-audit --no-fund); then
		if [ -d "$depdir/node_modules/ws" ]; then
			echo "run.sh: npm ci failed; using the node_modules already there" >&2
		else
			echo "run.sh: npm ci failed and there is no node_modules" >&2
			exit 99
		fi
	fi
fi
export NODE_PATH=$depdir/node_modules${NODE_PATH:+:$NODE_PATH}

# What the tests leave to look at (console.test.js's screenshots): in the
# directory run.sh was started from (the build directory, under make check),
# since the tests run from the source directory.
export CHATRELAY_ARTIFACTS=${CHATRELAY_ARTIFACTS:-$(pwd)/test-artifacts}

cd "$srcdir" || exit 99
shopt -s nullglob
files=(tests/integration/*.test.js)
if [ ${#files[@]} -eq 0 ]; then
	echo "run.sh: no tests/integration/*.test.js in $srcdir" >&2
	exit 99
fi
if [ $# -gt 0 ]; then
	files=("$@")	# run.sh FILE... runs just those files
fi

echo "run.sh: relay $bin, $(node --version), ${#files[@]} test files"
node --test --test-concurrency=2 --test-reporter=spec "${files[@]}"
status=$?
echo "run.sh: node --test exited with status $status"
exit $status
