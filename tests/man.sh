#!/usr/bin/env bash
# man.sh: the man pages render without a warning and say what the daemon
# does.
#
# For chatrelay(8) and chatrelay.conf(5) (made in the build directory,
# $CHATRELAY_BUILDDIR/docs, by gen-man) and chatrelay-bench(1): groff -man
# -ww and man -l print no warning, and lexgrog finds the NAME line.  Then,
# against the daemon ($CHATRELAY_BIN): chatrelay.conf(5) has one entry per
# directive that --help lists, no more and no fewer (it is generated from
# the same table by src/config-man.c, so this checks the generator), and
# chatrelay(8) names
# every option that --help and `chatrelay token --help` list (it is written
# by hand, so this is what keeps it up to date).  Exits 0 if all passed, 1
# if a check failed, 77 (skipped) without groff, 99 for a setup error.

set -u

srcdir=${CHATRELAY_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
builddir=${CHATRELAY_BUILDDIR:-$(pwd)}
bin=${CHATRELAY_BIN:-$builddir/src/chatrelay}

if ! command -v groff >/dev/null 2>&1; then
	echo "man.sh: groff is needed (Debian: groff-base); skipping" >&2
	exit 77
fi
# A page is found in the build directory, or else (a page made in the
# source tree) the source directory.
page() {
	if [ -f "$builddir/docs/$1" ]; then
		echo "$builddir/docs/$1"
	else
		echo "$srcdir/docs/$1"
	fi
}
eight=$(page chatrelay.8)
five=$(page chatrelay.conf.5)
one=$(page chatrelay-bench.1)
for f in "$eight" "$five" "$one" "$bin"; do
	if [ ! -e "$f" ]; then
		echo "man.sh: $f is missing" >&2
		exit 99
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chatrelay-man.XXXXXX") || exit 99
trap 'rm -rf "$tmp"' EXIT

failed=0
ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*" >&2; failed=1; }

for p in "$eight" "$five" "$one"; do
	name=${p##*/}
	if groff -man -Tutf8 -ww -z "$p" 2>"$tmp/groff.err" &&
	    [ ! -s "$tmp/groff.err" ]; then
		ok "groff -man -ww $name"
	else
		fail "groff -man -ww $name:"
		cat "$tmp/groff.err" >&2
	fi
	if command -v man >/dev/null 2>&1; then
		if MANWIDTH=80 man --warnings -l "$p" >"$tmp/man.out" \
		    2>"$tmp/man.err" && [ ! -s "$tmp/man.err" ] &&
		    [ -s "$tmp/man.out" ]; then
			ok "man -l $name"
		else
			fail "man -l $name:"
			cat "$tmp/man.err" >&2
		fi
	fi
	if command -v lexgrog >/dev/null 2>&1; then
		if lexgrog "$p" >"$tmp/lexgrog.out" 2>&1; then
			ok "lexgrog $(cat "$tmp/lexgrog.out")"
		else
			fail "lexgrog $name: $(cat "$tmp/lexgrog.out")"
		fi
	fi
done

# chatrelay.conf(5) against the table: the directives --help lists...
"$bin" --help >"$tmp/help" || { echo "man.sh: $bin --help failed" >&2; exit 99; }
sed -n '/^Directives/,$s/^  --\([a-z0-9_]*\) .*/\1/p' "$tmp/help" | sort \
    >"$tmp/directives"
# ...and the page's entries: the line after each .TP of its DIRECTIVES
# section, "\fBname\fR \fIKIND\fR".
sed -n '/^\.SH DIRECTIVES/,/^\.SH /{/^\.TP/{n;s/^\\fB\([^\\]*\)\\fR.*/\1/p}}' \
    "$five" | sort >"$tmp/entries"
n=$(wc -l <"$tmp/directives")
if [ "$n" -gt 0 ] && cmp -s "$tmp/directives" "$tmp/entries"; then
	ok "chatrelay.conf.5 has an entry for each of the $n directives"
else
	fail "chatrelay.conf.5's entries differ from --help's directives" \
	    "(< --help, > the page):"
	diff "$tmp/directives" "$tmp/entries" >&2
fi

# chatrelay(8) against the options: those before the directives in
# --help, and the subcommand's.
"$bin" token --help >"$tmp/token-help" 2>&1 ||
    { echo "man.sh: $bin token --help failed" >&2; exit 99; }
{
	sed '/^Directives/q' "$tmp/help"
	cat "$tmp/token-help"
} | grep -oE -- '(^|[ [,])--?[a-z][-a-z]*' | sed 's/^[ [,]//' | sort -u \
    >"$tmp/options"
nopt=0
while read -r opt; do
	nopt=$((nopt + 1))
	grep -qF -- "${opt//-/\\-}" "$eight" ||
	    fail "chatrelay.8 does not mention $opt"
done <"$tmp/options"
grep -q '^\.SH TOKEN' "$eight" || fail "chatrelay.8 has no TOKEN section"
[ "$nopt" -gt 5 ] && ok "chatrelay.8 names all $nopt options of --help" ||
    fail "only $nopt options found in --help"

[ $failed -eq 0 ] && echo "man.sh: all passed" || echo "man.sh: FAILED"
exit $failed
