#!/usr/bin/env bash
# The control socket's place (issue 13): braidd, started as root, refuses to
# start when its control socket would be in a directory others or the group
# may write to (sticky, like /tmp, too), saying which and why; a symbolic
# link or a plain file planted at the socket's path is refused and left
# alone, the file the link points at neither chmodded, chowned nor removed,
# and a socket directory that is itself a link is refused before anything
# behind it is touched.
# In a good directory the socket is 0660 whatever the umask, belongs to
# `user =` (when root and nobody are there), answers braidctl, and is gone
# after SIGTERM. A hub alone, one link: UDP ports 19100-19109 on 127.0.0.1.
set -u
. "$(dirname "$0")/lib.sh"
lib_require "${BUILD:-build}" braidd braidctl
lib_init_local "${BUILD:-build}"
make_key

# conf NAME CONTROL [EXTRA]: $TMP/NAME.conf, a hub with its socket at CONTROL.
conf() {
	printf '[bond]\nrole = hub\nkey = %s\ncontrol = %s\n%b[app]\ndestination = 127.0.0.1:19102\n[link l1]\nlocal = 127.0.0.1:19101\n' \
		"$TMP/key" "$2" "${3:-}" >"$TMP/$1.conf"
}

# refused NAME WHAT PATTERN: braidd -c NAME.conf exits 1 (within 10 s: a
# braidd that starts is killed, and fails) with PATTERN in what it says.
refused() {
	local out rc
	out=$(timeout -s KILL 10 "$B/braidd" -c "$TMP/$1.conf" 2>&1); rc=$?
	if [ "$rc" -eq 1 ] && grep -q -- "$3" <<<"$out"; then
		pass "$2: refused: $(grep -m 1 -- "$3" <<<"$out" | sed 's/^.*\] //')"
	else
		fail "$2" "rc $rc (1 wanted), '$(tail -n 3 <<<"$out" | tr '\n' ' ')'"
	fi
}

# A directory anyone may write to, sticky like /tmp, or the group's.
for d in open:0777 sticky:1777 group:0770; do
	mkdir "$TMP/${d%%:*}"
	chmod "${d#*:}" "$TMP/${d%%:*}"
	conf "${d%%:*}" "$TMP/${d%%:*}/hub.sock"
	refused "${d%%:*}" "a directory mode ${d#*:}" \
		"directory $TMP/${d%%:*} is writable by .*(mode ${d#*:})"
	[ ! -e "$TMP/${d%%:*}/hub.sock" ] && pass "mode ${d#*:}: no socket made there" ||
		fail "mode ${d#*:}: a socket was made in $TMP/${d%%:*}"
done

# A link at the socket's path to a file elsewhere, and a plain file there.
mkdir -m 0700 "$TMP/run"
printf 'secret\n' >"$TMP/target"
chmod 600 "$TMP/target"
ln -s "$TMP/target" "$TMP/run/hub.sock"
conf link "$TMP/run/hub.sock"
refused link "a symbolic link at the socket's path" "not a socket is there (a symbolic link)"
[ -L "$TMP/run/hub.sock" ] && [ "$(readlink "$TMP/run/hub.sock")" = "$TMP/target" ] &&
	pass "the link is left where it was" || fail "the link at $TMP/run/hub.sock is gone"
st=$(stat -c '%a %u %g %s' "$TMP/target")
[ "$st" = "600 $(id -u) $(id -g) 7" ] && [ "$(cat "$TMP/target")" = secret ] &&
	pass "the file it points at: still 0600, its owner's, intact" ||
	fail "the file it points at" "mode/uid/gid/size '$st' ('600 uid gid 7' wanted)"
rm "$TMP/run/hub.sock"
printf 'keep me\n' >"$TMP/run/hub.sock"
refused link "a plain file at the socket's path" "not a socket is there"
[ "$(cat "$TMP/run/hub.sock" 2>/dev/null)" = "keep me" ] && pass "the plain file is left alone" ||
	fail "the plain file at $TMP/run/hub.sock was removed or changed"
rm "$TMP/run/hub.sock"

# The socket's directory is a link (as one planted in /tmp would be) to
# where a file of that name is: refused; the file is not removed, replaced by
# a socket or chmodded through the link.
mkdir -m 0700 "$TMP/victim"
printf 'secret\n' >"$TMP/victim/hub.sock"
chmod 600 "$TMP/victim/hub.sock"
ln -s victim "$TMP/via"
conf via "$TMP/via/hub.sock"
refused via "a directory that is a symbolic link" "directory $TMP/via is a symbolic link"
st=$(stat -c '%F %a' "$TMP/victim/hub.sock" 2>/dev/null)
[ "$st" = "regular file 600" ] && [ "$(cat "$TMP/victim/hub.sock")" = secret ] &&
	pass "the file behind the link: still there, 0600, intact" ||
	fail "the file behind the link" "'$st' ('regular file 600' wanted)"

# A good directory: 0660 even under umask 000, braidctl answers, and the
# socket goes on SIGTERM.
conf good "$TMP/run/hub.sock"
(umask 000; exec "$B/braidd" -c "$TMP/good.conf") 2>"$TMP/good.log" &
HUB=$!
LIB_PIDS+=("$HUB")
if wait_until 10 test -S "$TMP/run/hub.sock" &&
	wait_until 5 "$B/braidctl" -s "$TMP/run/hub.sock" version >/dev/null 2>&1; then
	pass "a good directory: braidctl answers"
else
	fail "a good directory" "$(tail -n 3 "$TMP/good.log" | tr '\n' ' ')"
fi
m=$(stat -c %a "$TMP/run/hub.sock" 2>/dev/null)
[ "$m" = 660 ] && pass "the socket is 0660 under umask 000" || fail "socket mode '$m' (660 wanted)"
stop_pid "$HUB" && pass "exit 0 on SIGTERM" || fail "exit status on SIGTERM"
[ ! -e "$TMP/run/hub.sock" ] && pass "the socket is removed on exit" || fail "socket left behind"

# With `user = nobody` (root only): the socket is nobody's, by fchownat.
if [ "$(id -u)" -eq 0 ] && id nobody >/dev/null 2>&1; then
	chmod 755 "$TMP/run"
	conf nobody "$TMP/run/hub.sock" 'user = nobody\n'
	local_start HUB nobody "$B/braidd" -c "$TMP/nobody.conf"
	if wait_until 10 grep -q "running as nobody" "$TMP/nobody.log"; then
		o=$(stat -c '%U %a' "$TMP/run/hub.sock" 2>/dev/null)
		[ "$o" = "nobody 660" ] && pass "user = nobody: the socket is nobody's, 0660" ||
			fail "user = nobody: socket owner and mode '$o'"
	else
		fail "user = nobody: did not start" "$(tail -n 3 "$TMP/nobody.log" | tr '\n' ' ')"
	fi
	stop_pid "$HUB" || fail "user = nobody: exit status on SIGTERM"
else
	skip "user = nobody" "needs root and a user nobody"
fi

lib_finish
