#!/bin/bash
# 45-security-privilege: omm hands a user nothing the kernel's ptrace rules
# would not (docs/security.md), tried as an unprivileged user would.
#
# As omm-priv1: su, passwd, sudo and ping run under omrun exactly as
# without omm (prompts driven on a pty, outputs compared byte for byte);
# while they run, omctl ps names the set-uid (set-gid, file-capability)
# program as the reason they cannot move, and the user's checkpoint and
# migrate of them are refused naming it (root's checkpoint too). A periodic
# checkpoint of a set-uid job stops with one line on its stderr. A restore
# or manage request into a child that exec'd su (tests/tools/ctlreq) is
# refused, and su goes on unharmed. An image whose mapping, fd or cwd names
# a file under /root fails byte-identically whether that file exists or
# not. A process with the user's real uid but a saved uid of root, and one
# that is not dumpable, are refused to the user.
#
# Users omm-priv1 and omm-priv2 (shell /bin/sh, no home) are created if
# missing and left in place; their passwords are set on every run.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Cannot run: exit 77 (ctest SKIP), never a pass.
cannot_run() {
	echo "45-security-privilege: $*" >&2
	echo "0 passed, 0 failed, 1 skipped"
	exit 77
}
[ "$(id -u)" -eq 0 ] || cannot_run "needs root (useradd, chpasswd, runuser)"
for _b in "$OMMD" "$OMRUN" "$OMCTL" "$TOOLS/ctlreq" "$TOOLS/imgedit" \
    "$PROGS/sleep" "$PYTHON" /usr/bin/su /usr/bin/passwd /usr/sbin/chpasswd \
    /usr/sbin/useradd /usr/sbin/runuser; do
	[ -x "$_b" ] || cannot_run "missing $_b"
done
[ -u /usr/bin/su ] && [ -u /usr/bin/passwd ] ||
    cannot_run "su or passwd is not set-uid here"

U1=omm-priv1
U2=omm-priv2
PW1=Priv1-Old-Pass-8d2f
PW1B=Priv1-Mid-Pass-4hx7
PW1C=Priv1-New-Pass-q2Lm
PW2=Priv2-Pass-k3q9Z
SECRET=/root/omm-priv-secret
SUDOERS=/etc/sudoers.d/omm-priv
DRIVE=$T/drive.py

for _u in $U1 $U2; do
	id -u $_u >/dev/null 2>&1 ||
	    useradd --no-create-home --home-dir /nonexistent --shell /bin/sh \
		$_u || cannot_run "useradd $_u failed"
done
printf '%s:%s\n%s:%s\n' $U1 $PW1 $U2 $PW2 | chpasswd ||
    cannot_run "chpasswd failed"
UID1=$(id -u $U1)
UID2=$(id -u $U2)
trap 'cleanup; rm -f "$SECRET" "$SUDOERS"; rm -rf "$SECRET.d"' EXIT

# drive.py OUT STEP... -- CMD ARGS...: CMD on a new pty, as a person at it.
cat >"$DRIVE" <<'EOF'
#   expect:TEXT  wait (20 s at most) for TEXT after what the last expect saw
#   send:TEXT    type TEXT and Enter
#   mark:FILE    create FILE (the test may act now)
#   wait:FILE    wait (60 s at most) for FILE
# Then read to the end, write everything to OUT, exit with CMD's status.
import os, pty, select, sys, time

def main():
    out, args = sys.argv[1], sys.argv[2:]
    i = args.index('--')
    steps, cmd = args[:i], args[i + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    buf, pos = b'', 0

    def read(timeout):
        nonlocal buf
        r, _, _ = select.select([fd], [], [], timeout)
        if not r:
            return True
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b''
        buf += data
        return bool(data)

    for st in steps:
        kind, _, arg = st.partition(':')
        if kind == 'expect':
            end = time.time() + 20
            while arg.encode() not in buf[pos:]:
                if time.time() > end or not read(0.2):
                    open(out, 'wb').write(buf)
                    sys.exit('drive: no %r in %r' % (arg, buf[pos:]))
            pos = buf.index(arg.encode(), pos) + len(arg)
        elif kind == 'send':
            time.sleep(0.3)     # a prompt may flush what was typed early
            os.write(fd, arg.encode() + b'\n')
        elif kind == 'mark':
            open(arg, 'w').close()
        elif kind == 'wait':
            end = time.time() + 60
            while not os.path.exists(arg):
                if time.time() > end:
                    sys.exit('drive: %s never came' % arg)
                read(0.1)
    while read(30):
        pass
    open(out, 'wb').write(buf)
    _, st = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(st))

main()
EOF
chmod 644 "$DRIVE"

# As omm-priv1, in the case's directory (which it owns).
as_u1() { (cd "$D" && runuser -u $U1 -- env OMM_SOCKET="$OMM_SOCKET" \
    TMPDIR="$D" "$@"); }
as_u2() { (cd "$D" && runuser -u $U2 -- env OMM_SOCKET="$OMM_SOCKET" \
    TMPDIR="$D" "$@"); }
own_dir() { chown $U1 "$D"; chmod 755 "$D"; }
drive() { "$PYTHON" "$DRIVE" "$@"; }

# The newest process whose real uid is $1 and effective uid $2, named $3.
find_proc() {
	local p n=200
	while :; do
		p=$(pgrep -n -U "$1" -u "$2" -x "$3" || true)
		[ -n "$p" ] && { echo "$p"; return; }
		n=$((n - 1))
		[ $n -gt 0 ] || fail "no process $3 of uid $1 euid $2"
		sleep 0.05
	done
}

# ps_reason PID REGEX: omctl ps (and --json), as omm-priv1, show REGEX as
# PID's cantmove reason.
ps_reason() {
	as_u1 "$OMCTL" ps >"$D/ps" || fail "omctl ps"
	grep -E "^ *$1 " "$D/ps" >"$D/ps.line" || { cat "$D/ps" >&2;
	    fail "process $1 not in omctl ps"; }
	expect_grep "$2" "$D/ps.line" "omctl ps line of $1"
	as_u1 "$OMCTL" ps --json | "$PYTHON" -c '
import json, sys
ps = json.load(sys.stdin)
procs = ps["processes"] if isinstance(ps, dict) else ps
print([p.get("cantmove") for p in procs if p["pid"] == int(sys.argv[1])][0])
' "$1" >"$D/ps.json" || fail "omctl ps --json"
	expect_grep "$2" "$D/ps.json" "omctl ps --json cantmove of $1"
}

# refused_to WHO REGEX CMD...: CMD (run by WHO: u1 or root) fails with REGEX.
refused_to() {
	local who=$1 re=$2 rc=0
	shift 2
	if [ "$who" = u1 ]; then
		as_u1 "$@" >"$D/r.out" 2>&1 || rc=$?
	else
		"$@" >"$D/r.out" 2>&1 || rc=$?
	fi
	[ $rc -ne 0 ] || fail "$who: '$*' was not refused: $(cat "$D/r.out")"
	expect_grep "$re" "$D/r.out" "$who: $*"
	sed 's/^/  /' "$D/r.out"
}

# The privileged process PID may be neither dumped nor moved, and says why.
refused_all() {
	local pid=$1 re=$2
	ps_reason "$pid" "$re"
	refused_to u1 "$re" "$OMCTL" checkpoint "$pid" -o "$D/x.img"
	refused_to u1 "$re" "$OMCTL" migrate "$pid" 2
	refused_to root "$re" "$OMCTL" checkpoint "$pid" -o "$D/y.img"
	[ ! -e "$D/x.img" ] && [ ! -e "$D/y.img" ] || fail "an image was written"
	ommd_answers
}

case_su() {
	own_dir
	as_u1 "$PYTHON" "$DRIVE" "$D/plain.out" expect:Password: send:$PW2 \
	    -- su $U2 -c 'id -u' || fail "su without omm: $(cat "$D/plain.out")"
	spawn as_u1 "$PYTHON" "$DRIVE" "$D/omm.out" expect:Password: \
	    mark:"$D/prompt" wait:"$D/go" send:$PW2 -- \
	    "$OMRUN" su $U2 -c 'id -u'
	local drv=$SPAWNED su
	wait_for_file "$D/prompt" 20
	su=$(find_proc "$UID1" 0 su)
	refused_all "$su" "runs set-uid /usr/bin/su"
	touch "$D/go"
	expect_exit "$drv" 0 30 "omrun su"
	cmp "$D/plain.out" "$D/omm.out" ||
	    fail "su under omrun printed '$(cat -v "$D/omm.out")', without" \
	    "'$(cat -v "$D/plain.out")'"
	tr -d '\r' <"$D/omm.out" | grep -qx "$UID2" ||
	    fail "su -c 'id -u' did not print $UID2"
}

case_passwd() {
	local steps
	own_dir
	steps() { echo "expect:Current password:" "send:$1" \
	    "expect:New password:" "send:$2" "expect:Retype new password:" \
	    "send:$2"; }
	as_u1 "$PYTHON" "$DRIVE" "$D/plain.out" $(steps $PW1 $PW1B) -- passwd ||
	    fail "passwd without omm: $(cat -v "$D/plain.out")"
	spawn as_u1 "$PYTHON" "$DRIVE" "$D/omm.out" \
	    "expect:Current password:" mark:"$D/prompt" wait:"$D/go" \
	    "send:$PW1B" "expect:New password:" "send:$PW1C" \
	    "expect:Retype new password:" "send:$PW1C" -- "$OMRUN" passwd
	local drv=$SPAWNED pw
	wait_for_file "$D/prompt" 20
	pw=$(find_proc "$UID1" 0 passwd)
	refused_all "$pw" "runs set-uid /usr/bin/passwd"
	touch "$D/go"
	expect_exit "$drv" 0 30 "omrun passwd"
	cmp "$D/plain.out" "$D/omm.out" ||
	    fail "passwd under omrun printed '$(cat -v "$D/omm.out")'," \
	    "without '$(cat -v "$D/plain.out")'"
	expect_grep "password updated successfully" "$D/omm.out"
	# the new password is omm-priv1's now: another user's su takes it
	chown $U2 "$D"
	as_u2 "$PYTHON" "$DRIVE" "$D/su.out" expect:Password: send:$PW1C -- \
	    su $U1 -c 'id -u' || fail "su with the new password: $(cat -v \
	    "$D/su.out")"
	tr -d '\r' <"$D/su.out" | grep -qx "$UID1" ||
	    fail "su to $U1 with its new password did not print $UID1"
	printf '%s:%s\n' $U1 $PW1 | chpasswd
}

case_sudo() {
	[ -x /usr/bin/sudo ] && [ -u /usr/bin/sudo ] || skip "no set-uid sudo"
	own_dir
	printf '%s ALL=(%s) NOPASSWD: /usr/bin/id\n' $U1 $U2 >"$SUDOERS"
	chmod 440 "$SUDOERS"
	as_u1 sudo -n -u $U2 /usr/bin/id -u >"$D/plain.out" 2>&1 ||
	    fail "sudo without omm: $(cat "$D/plain.out")"
	as_u1 "$OMRUN" sudo -n -u $U2 /usr/bin/id -u >"$D/omm.out" 2>&1 ||
	    fail "sudo under omrun: $(cat "$D/omm.out")"
	cmp "$D/plain.out" "$D/omm.out" || fail "sudo under omrun printed" \
	    "'$(cat "$D/omm.out")', without '$(cat "$D/plain.out")'"
	grep -qx "$UID2" "$D/omm.out" || fail "sudo -u $U2 id -u: not $UID2"
	rm -f "$SUDOERS"
}

case_ping() {
	[ -x /usr/bin/ping ] || skip "no ping (iputils-ping)"
	own_dir
	local re
	if [ -u /usr/bin/ping ]; then
		re="runs set-uid /usr/bin/ping"
	elif command -v getcap >/dev/null &&
	    [ -n "$(getcap /usr/bin/ping)" ]; then
		re="runs /usr/bin/ping with file capabilities"
	else
		skip "ping is neither set-uid nor capable here"
	fi
	as_u1 /usr/bin/ping -c1 127.0.0.1 >"$D/plain.out" 2>&1 ||
	    fail "ping without omm: $(cat "$D/plain.out")"
	as_u1 "$OMRUN" /usr/bin/ping -c1 127.0.0.1 >"$D/omm.out" 2>&1 ||
	    fail "ping under omrun: $(cat "$D/omm.out")"
	expect_grep "1 packets transmitted, 1 received" "$D/omm.out"
	spawn as_u1 "$OMRUN" /usr/bin/ping -c 20 -i 0.5 127.0.0.1 \
	    >"$D/long.out" 2>&1
	local p n=200
	until p=$(pgrep -n -U "$UID1" -x ping); do
		n=$((n - 1)); [ $n -gt 0 ] || fail "no ping"; sleep 0.05
	done
	refused_all "$p" "$re"
}

# A binary of our own made set-gid root or given a capability: the two
# other kinds, whatever su and ping are here.
case_setgid_caps() {
	own_dir
	cp /bin/sleep "$D/sgid-sleep"
	chgrp 0 "$D/sgid-sleep"
	chmod 2755 "$D/sgid-sleep"
	spawn as_u1 "$OMRUN" "$D/sgid-sleep" 30 </dev/null >/dev/null 2>&1
	local p n=200
	until p=$(pgrep -n -U "$UID1" -x sgid-sleep); do
		n=$((n - 1)); [ $n -gt 0 ] || fail "no sgid-sleep"; sleep 0.05
	done
	refused_all "$p" "runs set-gid $D/sgid-sleep"
	command -v setcap >/dev/null || return 0
	cp /bin/sleep "$D/cap-sleep"
	setcap cap_net_raw+ep "$D/cap-sleep" || skip "setcap refused here"
	spawn as_u1 "$OMRUN" "$D/cap-sleep" 30 </dev/null >/dev/null 2>&1
	until p=$(pgrep -n -U "$UID1" -x cap-sleep); do
		n=$((n - 1)); [ $n -gt 0 ] || fail "no cap-sleep"; sleep 0.05
	done
	refused_all "$p" "runs $D/cap-sleep with file capabilities"
}

case_periodic() {
	own_dir
	cp /bin/sleep "$D/suid-sleep"
	chmod 4755 "$D/suid-sleep"
	# stderr opened by omm-priv1, as a user's terminal or file would be
	as_u1 sh -c "exec '$OMRUN' --checkpoint-every 1 --checkpoint-file \
	    '$D/p.img' '$D/suid-sleep' 3 2>'$D/err'" </dev/null ||
	    fail "omrun suid-sleep exited $?: $(cat "$D/err")"
	expect_grep "^omm: periodic checkpoints of process [0-9]+ stop: it runs set-uid $D/suid-sleep\$" "$D/err"
	[ "$(grep -c . "$D/err")" -eq 1 ] ||
	    fail "more than one line on stderr: $(cat "$D/err")"
	[ ! -e "$D/p.img" ] && [ ! -e "$D/p.img.part" ] ||
	    fail "an image of the set-uid process was written"
}

# A plain image of omm-priv1's, for restore requests.
user_image() {
	# its fd 1: a file omm-priv1 may reopen when restoring
	touch "$D/sleep.out"
	chown $U1 "$D/sleep.out"
	PROG_READY=$D/ready spawn as_u1 env PROG_READY="$D/ready" \
	    "$OMRUN" --pidfile "$D/pid" "$PROGS/sleep" rel 60 </dev/null \
	    >"$D/sleep.out" 2>&1
	local job
	job=$(pidfile_pid "$D/pid")
	wait_for_file "$D/ready" 20
	as_u1 "$OMCTL" checkpoint "$job" -o "$D/$1" --kill >"$D/c.out" 2>&1 ||
	    fail "checkpoint of omm-priv1's sleep: $(cat "$D/c.out")"
}

# ctlreq REQUEST...: a request into omm-priv1's child, which is su at its
# password prompt; refused, and su carries on unharmed.
child_refused() {
	spawn as_u1 "$PYTHON" "$DRIVE" "$D/drv.out" expect:Password: \
	    mark:"$D/prompt" wait:"$D/go" send:$PW2 -- "$TOOLS/ctlreq" \
	    --when "$D/prompt" -o "$D/result" "$@" -- su $U2 -c 'id -u'
	local drv=$SPAWNED su
	wait_for_file "$D/result" 30
	su=$(find_proc "$UID1" 0 su)
	sed 's/^/  /' "$D/result"
	expect_grep "^refused: permission denied: process $su runs with effective uid 0\$" "$D/result"
	grep -q '^TracerPid:[[:space:]]*0$' "/proc/$su/status" ||
	    fail "su $su is still traced"
	touch "$D/go"
	expect_exit "$drv" 0 30 "ctlreq's su after the refusal"
	tr -d '\r' <"$D/drv.out" | grep -qx "$UID2" ||
	    fail "su did not go on: $(cat -v "$D/drv.out")"
	rm -f "$D/prompt" "$D/go" "$D/result"
}

case_restore_child() {
	own_dir
	user_image base.img
	child_refused restore "$D/base.img"
	child_refused manage
	ommd_answers
}

# restore_err IMAGE OUT: omm-priv1's omrun --restore IMAGE fails; its
# stderr to OUT.
restore_err() {
	local rc=0
	as_u1 "$OMRUN" --restore "$1" </dev/null >/dev/null 2>"$2" || rc=$?
	[ $rc -eq 125 ] || fail "restore of $1 exited $rc: $(cat "$2")"
}

case_image_paths() {
	own_dir
	user_image base.img
	local what img
	for what in vma:0 fd:1 cwd; do
		img=$D/${what%%:*}.img
		cp "$D/base.img" "$img"
		"$TOOLS/imgedit" set-path "$img" "$what" "$SECRET" ||
		    fail "imgedit set-path $what"
		chown $U1 "$img"
		rm -rf "$SECRET" "$SECRET.d"
		restore_err "$img" "$D/absent.err"
		# a file, readable to root only; for cwd a directory too
		echo "root's secret" >"$SECRET"
		chmod 600 "$SECRET"
		restore_err "$img" "$D/present.err"
		if [ "$what" = cwd ]; then
			rm -f "$SECRET"
			mkdir -m 700 "$SECRET"
			restore_err "$img" "$D/dir.err"
			cmp "$D/absent.err" "$D/dir.err" ||
			    fail "cwd: directory and no file differ"
			rmdir "$SECRET"
		fi
		rm -f "$SECRET"
		sed 's/^/  /' "$D/absent.err"
		cmp "$D/absent.err" "$D/present.err" || fail "$what: the" \
		    "errors for $SECRET present and absent differ:" \
		    "$(cat "$D/present.err") / $(cat "$D/absent.err")"
		expect_grep "$SECRET: Permission denied\$" "$D/absent.err"
	done
	ommd_answers
}

# Real uid omm-priv1's, saved uid root: root's job, not the user's.
case_saved_uid() {
	own_dir
	spawn "$OMRUN" --pidfile "$D/pid" "$PYTHON" -c '
import os, signal, sys
os.setgroups([]); os.setresgid(int(sys.argv[2]), int(sys.argv[2]), int(sys.argv[2]))
os.setresuid(int(sys.argv[1]), int(sys.argv[1]), 0)
open(sys.argv[3], "w").close()
signal.pause()' "$UID1" "$(id -g $U1)" "$D/ready" </dev/null >/dev/null 2>&1
	local job
	job=$(pidfile_pid "$D/pid")
	wait_for_file "$D/ready" 20
	grep -q "^Uid:[[:space:]]*$UID1[[:space:]]*$UID1[[:space:]]*0[[:space:]]" \
	    "/proc/$job/status" || fail "not uids $UID1 $UID1 0"
	refused_to u1 "with uids $UID1 $UID1 0 $UID1" "$OMCTL" checkpoint \
	    "$job" -o "$D/x.img"
	refused_to u1 "with uids $UID1 $UID1 0 $UID1" "$OMCTL" migrate "$job" 2
	refused_to u1 "with uids $UID1 $UID1 0 $UID1" "$OMCTL" lock "$job"
	[ ! -e "$D/x.img" ] || fail "an image was written"
}

# omm-priv1's own process that made itself not dumpable.
case_not_dumpable() {
	own_dir
	spawn as_u1 "$OMRUN" --pidfile "$D/pid" "$PYTHON" -c '
import ctypes, signal, sys
ctypes.CDLL(None).prctl(4, 0, 0, 0, 0)   # PR_SET_DUMPABLE
open(sys.argv[1], "w").close()
signal.pause()' "$D/ready" </dev/null >/dev/null 2>&1
	local job
	job=$(pidfile_pid "$D/pid")
	wait_for_file "$D/ready" 20
	refused_to u1 "not dumpable" "$OMCTL" checkpoint "$job" -o "$D/x.img"
	refused_to u1 "not dumpable" "$OMCTL" migrate "$job" 2
	[ ! -e "$D/x.img" ] || fail "an image was written"
}

start_ommd
run_case "omrun su: as without omm; refused naming su" case_su
run_case "omrun passwd: as without omm; refused naming it" case_passwd
run_case "omrun sudo: as without omm" case_sudo
run_case "omrun ping: as without omm; refused naming it" case_ping
run_case "set-gid and file-capability binaries refused" case_setgid_caps
run_case "periodic checkpoint of set-uid stops, one line" case_periodic
run_case "restore/manage into a child running su refused" case_restore_child
run_case "image naming /root/...: same error either way" case_image_paths
run_case "saved uid root: refused to the real uid's user" case_saved_uid
run_case "not dumpable: refused to its own user" case_not_dumpable
ommd_stops_cleanly
finish
