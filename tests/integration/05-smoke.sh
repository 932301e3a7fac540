#!/bin/bash
# 05-smoke.sh: ommd, omrun and omctl end to end on one node, no checkpoints.
#
# Starts a private ommd (socket in a temp dir, clients find it through
# OMM_SOCKET) and checks: omrun refuses to run unmanaged when ommd is down,
# exit statuses pass through, a pipeline's processes are all managed, a
# SIGTERM to omrun reaches the job, omctl misuse prints usage and exits 1.
# Everything started is stopped and removed on exit, also on failure.
set -euo pipefail

B=${OMM_BUILD:?OMM_BUILD must point at the build directory}
T=$(mktemp -d /tmp/omm-smoke.XXXXXX)
export OMM_SOCKET=$T/ommd.sock
OMMD=
BG=()
passed=0
failed=0

cleanup() {
	local p
	for p in "${BG[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	if [ -n "$OMMD" ]; then
		kill -TERM "$OMMD" 2>/dev/null || true
		wait "$OMMD" 2>/dev/null || true
	fi
	rm -rf "$T"
}
trap cleanup EXIT

ok() {
	passed=$((passed + 1))
	echo "ok - $1"
}

bad() {
	failed=$((failed + 1))
	echo "FAIL - $1"
	[ $# -gt 1 ] && printf '%s\n' "$2" | sed 's/^/    /'
	return 0
}

# expect_rc LABEL RC CMD...: run CMD, compare its exit status.
expect_rc() {
	local label=$1 want=$2 rc=0
	shift 2
	"$@" >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" -eq "$want" ]; then
		ok "$label (exit $rc)"
	else
		bad "$label: exit $rc, expected $want" "$(cat "$T/err")"
	fi
}

# wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
wait_for() {
	local n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# 1. ommd is down: omrun says so, exits 125, and never runs the job.
rc=0
"$B/omrun" touch "$T/ran" >"$T/out" 2>"$T/err" || rc=$?
want="omrun: cannot reach ommd at $OMM_SOCKET: No such file or directory. Is ommd running? Start it with 'systemctl start ommd' or 'ommd --foreground'."
if [ "$rc" -eq 125 ] && [ "$(cat "$T/err")" = "$want" ] && [ ! -e "$T/ran" ]; then
	ok "omrun with ommd down: exit 125, clear message, job not run"
else
	bad "omrun with ommd down: exit $rc" "$(cat "$T/err")"
fi
rc=0
"$B/omctl" ps >"$T/out" 2>"$T/err" || rc=$?
if [ "$rc" -eq 1 ] && grep -q "^omctl: cannot reach ommd at $OMM_SOCKET" "$T/err"; then
	ok "omctl with ommd down: exit 1, same message"
else
	bad "omctl with ommd down: exit $rc" "$(cat "$T/err")"
fi

# 2. Start ommd and wait until it answers.
"$B/ommd" -f -s "$OMM_SOCKET" -v 2>"$T/ommd.log" &
OMMD=$!
if wait_for 5 "$B/omctl" ps; then
	ok "ommd answers on $OMM_SOCKET"
else
	bad "ommd does not answer" "$(cat "$T/ommd.log")"
	exit 1
fi
mode=$(stat -c %a "$OMM_SOCKET")
[ "$mode" = 666 ] && ok "socket mode 0666" || bad "socket mode $mode"
expect_rc "a second ommd on the same socket is refused" 1 \
    "$B/ommd" -f -s "$OMM_SOCKET"
grep -q "another ommd is running on $OMM_SOCKET" "$T/err" &&
    ok "second ommd says why" || bad "second ommd message" "$(cat "$T/err")"

# 3. Exit statuses pass through.
expect_rc "omrun true" 0 "$B/omrun" true
expect_rc "omrun false" 1 "$B/omrun" false
expect_rc "omrun sh -c 'exit 3'" 3 "$B/omrun" sh -c 'exit 3'
expect_rc "omrun sh -c 'exit 255'" 255 "$B/omrun" sh -c 'exit 255'
expect_rc "omrun of a missing command" 127 "$B/omrun" /nonexistent/cmd
grep -q "^omrun: /nonexistent/cmd: No such file or directory" "$T/err" &&
    ok "missing command message" || bad "missing command message" "$(cat "$T/err")"
expect_rc "omrun sh -c 'kill -USR1 \$\$'" 138 "$B/omrun" sh -c 'kill -USR1 $$'

# 4. A pipeline works and its output is right.
out=$("$B/omrun" sh -c 'seq 1000 | sort -n | tail -1')
[ "$out" = 1000 ] && ok "pipeline under omrun prints 1000" ||
    bad "pipeline printed '$out'"

# 5. Every process of a pipeline is managed while it runs.
"$B/omrun" --pidfile "$T/pipe.pid" sh -c 'sleep 6 | cat' &
BG+=($!)
pipe_omrun=$!
listed() {
	"$B/omctl" ps --json >"$T/ps.json" || return 1
	python3 - "$T/ps.json" "$(cat "$T/pipe.pid" 2>/dev/null)" <<'EOF'
import json, sys
doc = json.load(open(sys.argv[1]))
assert doc["format_version"] == 1
root = int(sys.argv[2])
procs = {p["pid"]: p for p in doc["processes"]}
job = procs[root]["job"]
mine = [p for p in doc["processes"] if p["job"] == job]
names = sorted(p["command"].split()[0].rsplit("/", 1)[-1] for p in mine)
assert names == ["cat", "sh", "sleep"], names
for p in mine:
    assert p["state"] == "running" and p["uid"] == 0 and p["user"] == "root", p
    assert p["cantmove"] is None or isinstance(p["cantmove"], str), p
    assert p["pid"] == root or p["ppid"] == root, p
EOF
}
if wait_for 5 listed; then
	ok "omctl ps --json lists sh, sleep and cat of one job"
else
	bad "omctl ps --json during 'sleep 6 | cat'" "$(cat "$T/ps.json" 2>/dev/null)"
fi
"$B/omctl" ps >"$T/ps.txt"
head -1 "$T/ps.txt" | grep -Eq '^ +PID +PPID +USER +JOB +STATE +COMMAND +CANTMOVE +NODE +MIG +CKPT$' &&
    ok "omctl ps table header" || bad "omctl ps table" "$(cat "$T/ps.txt")"
rc=0
wait "$pipe_omrun" || rc=$?
[ "$rc" -eq 0 ] && ok "pipeline job exits 0" || bad "pipeline job exit $rc"
wait_for 2 sh -c "\"$B/omctl\" ps --json | grep -q '\"processes\":\[\]'" &&
    ok "finished processes leave the table" || bad "table not empty" "$("$B/omctl" ps)"

# 6. SIGTERM sent to omrun reaches the job: omrun exits 143.
rm -f "$T/sleep.pid"
"$B/omrun" --pidfile "$T/sleep.pid" sleep 30 &
BG+=($!)
sleep_omrun=$!
wait_for 5 test -s "$T/sleep.pid" || true
job=$(cat "$T/sleep.pid")
kill -TERM "$sleep_omrun"
rc=0
wait "$sleep_omrun" || rc=$?
[ "$rc" -eq 143 ] && ok "SIGTERM to omrun of sleep 30: exit 143" ||
    bad "SIGTERM to omrun: exit $rc"
kill -0 "$job" 2>/dev/null && bad "job $job survived SIGTERM" ||
    ok "the job got the SIGTERM"

# 7. omctl misuse: usage on stderr, exit 2; asked for, help on stdout, exit 0.
expect_rc "omctl alone" 2 "$B/omctl"
grep -q "^usage: omctl" "$T/err" && ok "omctl alone prints usage" || bad "omctl usage" "$(cat "$T/err")"
expect_rc "omctl bogus-command" 2 "$B/omctl" bogus-command
grep -q "^usage: omctl" "$T/err" && ok "bad command prints usage" || bad "bad command" "$(cat "$T/err")"
expect_rc "omctl checkpoint without arguments" 2 "$B/omctl" checkpoint
grep -q "^usage: omctl checkpoint PID -o FILE" "$T/err" &&
    ok "checkpoint prints its own usage" || bad "checkpoint usage" "$(cat "$T/err")"
expect_rc "omctl checkpoint abc" 2 "$B/omctl" checkpoint abc -o "$T/x.img"
grep -qx "omctl: checkpoint: invalid pid 'abc'" "$T/err" &&
    ok "invalid pid message" || bad "invalid pid message" "$(cat "$T/err")"
expect_rc "omctl checkpoint --kill --leave-running" 2 \
    "$B/omctl" checkpoint 1 -o "$T/x.img" --kill --leave-running
expect_rc "omctl ps --bogus" 2 "$B/omctl" ps --bogus
expect_rc "omctl --help" 0 "$B/omctl" --help
grep -q "^usage: omctl" "$T/out" && grep -q "^  migrate PID NODE|home" "$T/out" &&
    ok "omctl --help lists the commands on stdout" || bad "omctl --help" "$(head -3 "$T/out")"
expect_rc "omctl help checkpoint" 0 "$B/omctl" help checkpoint
grep -q "^usage: omctl checkpoint PID -o FILE" "$T/out" &&
    ok "help checkpoint on stdout" || bad "help checkpoint" "$(head -3 "$T/out")"
expect_rc "omctl migrate --help" 0 "$B/omctl" migrate --help
grep -q "^usage: omctl migrate PID NODE|home" "$T/out" &&
    ok "migrate --help on stdout" || bad "migrate --help" "$(head -3 "$T/out")"
expect_rc "omctl help bogus" 2 "$B/omctl" help bogus
expect_rc "omctl --version" 0 "$B/omctl" --version
grep -Eq "^omctl \(omm\) [0-9]+\.[0-9]+" "$T/out" &&
    ok "omctl --version: $(cat "$T/out")" || bad "omctl --version" "$(cat "$T/out")"
for prog in omrun ommd; do
	expect_rc "$prog --help" 0 "$B/$prog" --help
	grep -q "^usage: $prog" "$T/out" && [ ! -s "$T/err" ] &&
	    ok "$prog --help on stdout" || bad "$prog --help" "$(head -3 "$T/out")"
	expect_rc "$prog --version" 0 "$B/$prog" --version
	grep -Eq "^$prog \(omm\) [0-9]+\.[0-9]+" "$T/out" &&
	    ok "$prog --version: $(cat "$T/out")" || bad "$prog --version" "$(cat "$T/out")"
done
expect_rc "ommd --bogus" 2 "$B/ommd" --bogus
expect_rc "omrun --bogus (omrun's own failure)" 125 "$B/omrun" --bogus
expect_rc "omctl checkpoint of an unmanaged process" 1 \
    "$B/omctl" checkpoint $$ -o "$T/x.img"
grep -qx "omctl: checkpoint $$: process $$ is not managed by omm" "$T/err" &&
    ok "unmanaged process message" || bad "unmanaged message" "$(cat "$T/err")"
[ ! -e "$T/x.img" ] && [ ! -e "$T/x.img.part" ] &&
    ok "a refused checkpoint leaves no file" || bad "files left: $(ls "$T")"
expect_rc "omctl checkpoint prefix 'ch' of a missing process" 1 \
    "$B/omctl" ch 999999999 -o "$T/x.img"
grep -q "no such process\|invalid pid" "$T/err" &&
    ok "prefix finds checkpoint" || bad "prefix" "$(cat "$T/err")"

# 7b. bash completion (completions/omm.bash): commands from omctl help,
# the pids of managed processes from ommd.
if command -v bash >/dev/null; then
	rm -f "$T/comp.pid"
	"$B/omrun" --pidfile "$T/comp.pid" sleep 30 &
	BG+=($!)
	comp_omrun=$!
	wait_for 5 test -s "$T/comp.pid" || true
	comp=$(PATH="$B:$PATH" bash -c '
		. "$1/completions/omm.bash"
		t() { COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 )); _omctl
		      echo "${COMPREPLY[*]}"; }
		t omctl mig; t omctl migrate ""; t omctl migrate 1 ""' _ "$OMM_SRC")
	{ read -r c1; read -r c2; read -r c3; } <<<"$comp"
	[ "$c1" = migrate ] && ok "completion: omctl mig -> migrate" ||
	    bad "completion of mig" "$c1"
	grep -qw "$(cat "$T/comp.pid")" <<<"$c2" &&
	    ok "completion: omctl migrate offers the managed pid $(cat "$T/comp.pid")" ||
	    bad "completion of pids" "$c2"
	grep -qw home <<<"$c3" && ok "completion: a migrate target may be home" ||
	    bad "completion of nodes" "$c3"
	kill -TERM "$comp_omrun" 2>/dev/null
	wait "$comp_omrun" 2>/dev/null || true
fi

# 7c. manual pages: each renders without a warning and has its NAME;
# ommd.conf(5) is made from docs/config.md at build time.
if command -v nroff >/dev/null; then
	for page in "$OMM_SRC/man/omrun.1" "$OMM_SRC/man/omctl.8" \
	    "$OMM_SRC/man/ommd.8" "$B/man/ommd.conf.5"; do
		# overstrike (bold) out: "N\bNA\bA..." reads "NAME"
		if nroff -man -ww "$page" 2>"$T/man.err" |
		    sed 's/.\x08//g' >"$T/man.txt" &&
		    [ ! -s "$T/man.err" ] && grep -q '^NAME' "$T/man.txt"; then
			ok "man page $(basename "$page") renders"
		else
			bad "man page $page" "$(head -3 "$T/man.err")"
		fi
	done
	grep -q 'guest_memory' "$T/man.txt" &&
	    ok "ommd.conf(5) has docs/config.md's keys" ||
	    bad "ommd.conf(5) lacks guest_memory"
else
	echo "# no nroff: man pages not rendered"
fi

# 8. ommd is still serving, and SIGTERM stops it cleanly.
expect_rc "ommd still answers" 0 "$B/omctl" ps
kill -TERM "$OMMD"
rc=0
wait "$OMMD" || rc=$?
OMMD=
[ "$rc" -eq 0 ] && ok "ommd exits 0 on SIGTERM" || bad "ommd exit $rc" "$(tail -5 "$T/ommd.log")"
[ ! -e "$OMM_SOCKET" ] && ok "socket removed" || bad "socket left behind"

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
