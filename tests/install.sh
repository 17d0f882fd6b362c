#!/usr/bin/env bash
# install.sh: what make install puts where, and the installed daemon
# started from another directory.
#
#   install.sh            (make check) make install DESTDIR=TMP from the
#                         build directory ($CHATRELAY_BUILDDIR, with $MAKE),
#                         check it, then make uninstall and check that
#                         nothing is left
#   install.sh installed  (make installcheck, which make distcheck runs on a
#                         prefix of its own) check what is installed under
#                         $DESTDIR (usually empty) and start it without -c
#
# The paths are the build's, from the environment (CHATRELAY_SBINDIR,
# _BINDIR, _SYSCONFDIR, _PKGDATADIR, _MANDIR), as the Makefile sets them.
# Checked: the daemon in sbindir and chatrelay-bench in bindir; the shipped
# chatrelay.conf in sysconfdir, named by the daemon's --help as its default;
# every file of web/ in pkgdatadir/web; chatrelay(8), chatrelay.conf(5) and
# chatrelay-bench(1) in mandir.  Then the installed daemon, started from an
# empty directory elsewhere on a free loopback port, serves / (the very
# bytes of web/index.html), /admin.html and /healthz, and stops on SIGTERM
# with status 0.  Exits 0 if all passed, 1 if a check failed, 99 for a setup
# error.

set -u

mode=${1:-destdir}
srcdir=${CHATRELAY_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
for v in CHATRELAY_SBINDIR CHATRELAY_BINDIR CHATRELAY_SYSCONFDIR \
    CHATRELAY_PKGDATADIR CHATRELAY_MANDIR; do
	if [ -z "${!v:-}" ]; then
		echo "install.sh: $v is not set (run it from make check)" >&2
		exit 99
	fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/chatrelay-install.XXXXXX") || exit 99
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

failed=0
ok() { echo "ok: $*"; }
fail() { echo "FAIL: $*" >&2; failed=1; }

case $mode in
destdir)
	if [ -z "${CHATRELAY_BUILDDIR:-}" ]; then
		echo "install.sh: CHATRELAY_BUILDDIR is not set" >&2
		exit 99
	fi
	root=$tmp/root
	# Not the jobserver nor the flags of the make check that runs us.
	if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -C \
	    "$CHATRELAY_BUILDDIR" install DESTDIR="$root" >"$tmp/install.log" 2>&1
	then
		cat "$tmp/install.log" >&2
		echo "install.sh: make install DESTDIR=$root failed" >&2
		exit 1
	fi
	ok "make install DESTDIR=$root"
	;;
installed)
	root=${DESTDIR:-}
	;;
*)
	echo "usage: install.sh [installed]" >&2
	exit 99
	;;
esac

sbin=$root$CHATRELAY_SBINDIR/chatrelay
conf=$root$CHATRELAY_SYSCONFDIR/chatrelay.conf
web=$root$CHATRELAY_PKGDATADIR/web
man=$root$CHATRELAY_MANDIR

# The files.
[ -x "$sbin" ] && ok "$sbin" || fail "no daemon at $sbin"
[ -x "$root$CHATRELAY_BINDIR/chatrelay-bench" ] &&
    ok "$root$CHATRELAY_BINDIR/chatrelay-bench" ||
    fail "no chatrelay-bench in $root$CHATRELAY_BINDIR"
[ ! -e "$root$CHATRELAY_BINDIR/chatrelay" ] ||
    fail "the daemon is in bindir as well as sbindir"
if cmp -s "$srcdir/conf/chatrelay.conf" "$conf"; then
	ok "$conf"
else
	fail "$conf is missing or differs from conf/chatrelay.conf"
fi
nweb=0
for f in "$srcdir"/web/*; do
	[ -f "$f" ] || continue
	nweb=$((nweb + 1))
	cmp -s "$f" "$web/${f##*/}" ||
	    fail "web/${f##*/} is not installed in $web (dist_web_DATA?)"
done
[ "$nweb" -gt 0 ] && ok "$nweb files of web/ in $web" || fail "no web/ files"
for page in man8/chatrelay.8 man5/chatrelay.conf.5 man1/chatrelay-bench.1; do
	[ -s "$man/$page" ] && ok "$man/$page" || fail "no $man/$page"
done
[ $failed -eq 0 ] || exit 1

# The daemon's own idea of its default configuration file.
if "$sbin" --help | grep -qF "(default $CHATRELAY_SYSCONFDIR/chatrelay.conf,"
then
	ok "--help names $CHATRELAY_SYSCONFDIR/chatrelay.conf as the default"
else
	fail "--help does not name $CHATRELAY_SYSCONFDIR/chatrelay.conf"
fi

# How the daemon is started: from an empty directory that is neither the
# source nor the build tree.  Under DESTDIR its compiled-in paths point
# outside $root, so it is given the installed file with -c, and a line
# added to that file shows it was read (the node name in /healthz).
# Installed for real, it runs without -c.
# TODO: --web_root goes once the default web_root is $(pkgdatadir)/web for
# an installed daemon (another change); installed, it should then run
# without it.
args=(--web_root "$web" --log_level notice)
node=
if [ "$mode" = destdir ]; then
	node=install-test
	printf '\nnode %s\n' "$node" >>"$conf"
	args+=(-c "$conf")
fi
elsewhere=$tmp/elsewhere
mkdir -p "$elsewhere"

# The configuration it finds from there (installed: the default file).
if (cd "$elsewhere" && "$sbin" --test-config "${args[@]}") \
    >"$tmp/test-config" 2>&1 && grep -qx 'configuration OK' "$tmp/test-config"
then
	ok "--test-config from $elsewhere"
else
	fail "--test-config from $elsewhere: $(cat "$tmp/test-config")"
fi

# Returns a port nobody listens on (a race with other tests is covered by
# retrying the start).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
	    echo $(( 20000 + RANDOM % 20000 ))
}

# GET $2 from 127.0.0.1:$1 (HTTP/1.1, Connection: close) into file $3:
# status line, headers and body as sent.
http_get() {
	(
		exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
		printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nConnection: close\r\n\r\n' \
		    "$2" "$1" >&3
		timeout 10 cat <&3 >"$3"
	) 2>/dev/null
}

# The body of the response in file $1, into file $2.
http_body() {
	sed '1,/^\r$/d' "$1" >"$2"
}

started=no
for attempt in 1 2 3; do
	port=$(free_port)
	(cd "$elsewhere" && exec "$sbin" "${args[@]}" --port "$port") \
	    >"$tmp/relay.log" 2>&1 &
	relay_pid=$!
	for _ in $(seq 1 100); do
		if http_get "$port" /healthz "$tmp/healthz" &&
		    head -n 1 "$tmp/healthz" | grep -q '^HTTP/1.1 200'; then
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
	echo "install.sh: the installed relay did not start; its output:" >&2
	cat "$tmp/relay.log" >&2
	exit 1
fi
ok "$sbin started in $elsewhere on port $port"

if grep -q '"status":"ok"' "$tmp/healthz"; then
	ok "GET /healthz: $(tail -n 1 "$tmp/healthz")"
else
	fail "GET /healthz: $(cat "$tmp/healthz")"
fi
if [ -n "$node" ]; then
	grep -q "\"node\":\"$node\"" "$tmp/healthz" &&
	    ok "the installed $conf was read" ||
	    fail "the node set in $conf is not in /healthz"
fi
http_get "$port" / "$tmp/index" || fail "GET / failed"
http_body "$tmp/index" "$tmp/index.body"
if head -n 1 "$tmp/index" | grep -q '^HTTP/1.1 200' &&
    cmp -s "$tmp/index.body" "$srcdir/web/index.html"; then
	ok "GET /: web/index.html, from $web"
else
	fail "GET / did not answer web/index.html: $(head -n 1 "$tmp/index")"
fi
http_get "$port" /admin.html "$tmp/admin" || fail "GET /admin.html failed"
head -n 1 "$tmp/admin" | grep -q '^HTTP/1.1 200' &&
    ok "GET /admin.html" ||
    fail "GET /admin.html: $(head -n 1 "$tmp/admin")"

kill -TERM "$relay_pid"
wait "$relay_pid"
status=$?
relay_pid=
if [ $status -eq 0 ] && grep -q 'stopped' "$tmp/relay.log"; then
	ok "stopped on SIGTERM with status 0"
else
	fail "stopped with status $status; its output:"
	cat "$tmp/relay.log" >&2
fi

if [ "$mode" = destdir ]; then
	if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL ${MAKE:-make} -C \
	    "$CHATRELAY_BUILDDIR" uninstall DESTDIR="$root" \
	    >"$tmp/uninstall.log" 2>&1; then
		# chatrelay.conf was changed above: make uninstall removes it
		# all the same, as it removes every file it installed.
		left=$(find "$root" -type f)
		[ -z "$left" ] && ok "make uninstall left no file" ||
		    fail "make uninstall left: $left"
	else
		cat "$tmp/uninstall.log" >&2
		fail "make uninstall DESTDIR=$root failed"
	fi
fi

[ $failed -eq 0 ] && echo "install.sh: all passed" || echo "install.sh: FAILED"
exit $failed
