# lib.sh: what every integration script shares. Sourced, not run.
#
# A script sources this, defines its cases as functions and runs each with
# `run_case NAME FUNCTION [ARGS...]`, then calls `finish`, which prints the
# closing "N passed, N failed[, N skipped]" line and sets the exit status.
#
# A case runs in a subshell with errexit on: the first failing command or
# `fail "msg"` ends that case only. Every background process a case starts
# with `spawn` is killed when the case ends, and everything the script
# started (ommd included) when the script exits. Work files live under $T,
# a private directory on tmpfs (/dev/shm), removed at exit.
#
# Environment: OMM_BUILD (build tree, default $OMM_SRC/build), OMM_SRC.

set -euo pipefail

OMM_SRC=${OMM_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
OMM_BUILD=${OMM_BUILD:-$OMM_SRC/build}
OMMD=$OMM_BUILD/ommd
OMRUN=$OMM_BUILD/omrun
OMCTL=$OMM_BUILD/omctl
PROGS=$OMM_BUILD/tests/progs
TOOLS=$OMM_BUILD/tests/tools
PYTHON=/usr/bin/python3		# not a pyenv shim: a real ELF program

PASSED=0
FAILED=0
SKIPPED=0
OMMD_PID=
CASE=
CASE_FAILS=()

# Fds the caller leaked to us (ctest, an IDE, a CI runner) would be inherited
# by every process under test, and an open pipe makes a process unmovable.
# 255 is where bash keeps this script open.
for _fd in /proc/$$/fd/*; do
	_fd=${_fd##*/}
	if [ "$_fd" -gt 2 ] && [ "$_fd" -ne 255 ]; then
		eval "exec $_fd>&-" 2>/dev/null || true
	fi
done
unset _fd

T=$(mktemp -d /dev/shm/omm-test.XXXXXX)
chmod 755 "$T"
: >"$T/.pids"
export TMPDIR=$T

log() { printf '%s\n' "$*" >&2; }

# End the current case (or the script outside a case) as failed.
fail() {
	log "FAIL${CASE:+ [$CASE]}: $*"
	exit 1
}

skip() {
	log "SKIP${CASE:+ [$CASE]}: $*"
	exit 77
}

# Run "$@" in the background, remembered for cleanup; its pid in $SPAWNED.
# Redirections belong to the caller: spawn cmd args >out 2>err
spawn() {
	# <&0: without it bash gives a background command /dev/null as stdin.
	"$@" <&0 &
	SPAWNED=$!
	echo "$SPAWNED" >>"$T/.pids${CASE:+.$CASE_ID}"
}

# pipe_to FILE: make FILE.fifo, whose data a spawned cat copies into FILE;
# a way to give a process a pipe as stdout (bash's >(...) leaks its pipe
# as an extra fd into the command, and a pipe fd makes a process unmovable).
pipe_to() {
	mkfifo "$1.fifo"
	spawn cat "$1.fifo" >"$1"
}

# A pid and all its descendants (runuser's omrun and job, omrun's job).
pid_tree() {
	local c
	echo "$1"
	for c in $(ps -o pid= --ppid "$1" 2>/dev/null); do
		pid_tree "$c"
	done
}

# Kill what was spawned (listed in file $1), with everything below it.
kill_listed() {
	local f=$1 p
	[ -f "$f" ] || return 0
	while read -r p; do
		kill -KILL $(pid_tree "$p") 2>/dev/null || true
	done <"$f"
	while read -r p; do
		wait "$p" 2>/dev/null || true
	done <"$f"
	rm -f "$f"
}

# At exit (the script's status stays what it was).
cleanup() {
	kill_listed "$T/.pids"
	stop_ommd
	# Jobs restored or started through ommd that outlived their omrun.
	if [ -f "$T/.jobs" ]; then
		while read -r p; do
			kill -KILL "$p" 2>/dev/null || true
		done <"$T/.jobs"
	fi
	rm -rf "$T"
}
trap cleanup EXIT

# 0 while pid is running (a zombie is not).
alive() {
	local st
	[ -r "/proc/$1/stat" ] || return 1
	st=$(cut -d')' -f2 "/proc/$1/stat" 2>/dev/null | cut -d' ' -f2) ||
	    return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# wait_for_file FILE [SECONDS]: until FILE exists.
wait_for_file() {
	local f=$1 n=$(( ${2:-10} * 20 ))
	while [ ! -e "$f" ]; do
		n=$((n - 1))
		[ $n -gt 0 ] || fail "timed out waiting for $f"
		sleep 0.05
	done
}

# wait_exit PID [SECONDS]: wait for a spawned child; its status in $RC.
# A child still running after SECONDS is killed and the case fails.
wait_exit() {
	local p=$1 n=$(( ${2:-30} * 20 ))
	while alive "$p"; do
		n=$((n - 1))
		if [ $n -le 0 ]; then
			kill -KILL "$p" 2>/dev/null || true
			fail "pid $p still running after ${2:-30} s"
		fi
		sleep 0.05
	done
	RC=0
	wait "$p" || RC=$?
}

# expect_exit PID WANT [SECONDS] [WHAT]
expect_exit() {
	wait_exit "$1" "${3:-30}"
	[ "$RC" -eq "$2" ] ||
	    fail "${4:-pid $1} exited $RC, expected $2"
}

# The pid a pidfile names, once it is there.
pidfile_pid() {
	local p n=$(( ${2:-10} * 20 ))
	while [ ! -s "$1" ]; do
		n=$((n - 1))
		[ $n -gt 0 ] || fail "timed out waiting for pidfile $1"
		sleep 0.05
	done
	p=$(tr -dc 0-9 <"$1")
	[ -n "$p" ] || fail "pidfile $1 holds no pid"
	echo "$p" >>"$T/.jobs"
	echo "$p"
}

# expect_grep REGEX FILE [WHAT]: FILE has a line matching the ERE.
expect_grep() {
	grep -Eq -- "$1" "$2" || {
		log "--- $2:"
		tail -n 20 "$2" >&2 || true
		fail "${3:-$2} does not match /$1/"
	}
}

# fd_pos IMAGE [FD]: the offset recorded for a regular-file fd (default 1).
fd_pos() {
	"$OMCTL" image info "$1" --json | "$PYTHON" -c '
import json, sys
fds = json.load(sys.stdin)["fds"]
print([f["pos"] for f in fds if f["fd"] == int(sys.argv[1]) and
       f["kind"] == "file"][0])' "${2:-1}"
}

# test_user NAME: a system user for the permission cases, made if missing
# and never removed: other scripts (and other engineers' runs) use the same
# users at the same time, and a userdel under them breaks their runs.
# Concurrent useradds race on /etc/passwd's lock: whoever loses retries.
test_user() {
	local n
	for n in 1 2 3 4 5 6 7 8 9 10; do
		id -u "$1" >/dev/null 2>&1 && return 0
		useradd --system --no-create-home --shell /usr/sbin/nologin \
		    "$1" 2>/dev/null && return 0
		sleep 0.5
	done
	id -u "$1" >/dev/null 2>&1
}

start_ommd() {
	[ -x "$OMMD" ] || fail "no ommd in $OMM_BUILD"
	OMM_SOCKET=$T/ommd.sock
	export OMM_SOCKET
	"$OMMD" -f -s "$OMM_SOCKET" -v >"$T/ommd.log" 2>&1 &
	OMMD_PID=$!
	local n=200
	until "$OMCTL" ps >/dev/null 2>&1; do
		n=$((n - 1))
		if [ $n -le 0 ] || ! alive "$OMMD_PID"; then
			tail -n 20 "$T/ommd.log" >&2 || true
			fail "ommd did not come up on $OMM_SOCKET"
		fi
		sleep 0.05
	done
}

stop_ommd() {
	[ -n "$OMMD_PID" ] || return 0
	kill -TERM "$OMMD_PID" 2>/dev/null || true
	local n=100
	while alive "$OMMD_PID" && [ $n -gt 0 ]; do
		n=$((n - 1))
		sleep 0.05
	done
	kill -KILL "$OMMD_PID" 2>/dev/null || true
	wait "$OMMD_PID" 2>/dev/null || true
	OMMD_PID=
}

# The last case of a script: SIGTERM makes ommd exit 0, and its log holds no
# sanitizer report (an ASan build reports leaks only at exit).
ommd_stops_cleanly() {
	local rc=0 n=200
	kill -TERM "$OMMD_PID" 2>/dev/null || true
	while alive "$OMMD_PID" && [ $n -gt 0 ]; do
		n=$((n - 1))
		sleep 0.05
	done
	wait "$OMMD_PID" 2>/dev/null || rc=$?
	OMMD_PID=
	if [ $rc -eq 0 ] && ! grep -Eq 'Sanitizer|runtime error:' "$T/ommd.log"
	then
		PASSED=$((PASSED + 1))
		printf 'ok   %s\n' "ommd stops cleanly"
	else
		FAILED=$((FAILED + 1))
		CASE_FAILS+=("ommd-stop")
		grep -E -A20 'Sanitizer|runtime error:' "$T/ommd.log" >&2 ||
		    tail -n 20 "$T/ommd.log" >&2
		printf 'FAIL %s (exit %d)\n' "ommd stops cleanly" $rc
	fi
}

# ommd must still answer (after a refused request, say).
ommd_answers() {
	alive "$OMMD_PID" || fail "ommd died (log: $(tail -n 5 "$T/ommd.log"))"
	"$OMCTL" ps >/dev/null || fail "ommd no longer answers omctl ps"
}

# run_case NAME FUNCTION [ARGS...]
_case_n=0
run_case() {
	local name=$1 rc=0 t0 t1
	shift
	_case_n=$((_case_n + 1))
	t0=$(date +%s.%N)
	set +e
	(
		CASE=$name
		CASE_ID=$_case_n
		D=$T/case.$_case_n
		mkdir -p "$D"
		trap 'kill_listed "$T/.pids.$CASE_ID"' EXIT
		set -e
		"$@"
	)
	rc=$?
	set -e
	t1=$(date +%s.%N)
	case $rc in
	0)	PASSED=$((PASSED + 1))
		printf 'ok   %-44s %5.1fs\n' "$name" "$(echo "$t1 - $t0" | bc)" ;;
	77)	SKIPPED=$((SKIPPED + 1))
		printf 'skip %s\n' "$name" ;;
	*)	FAILED=$((FAILED + 1))
		CASE_FAILS+=("$name")
		printf 'FAIL %-44s %5.1fs\n' "$name" "$(echo "$t1 - $t0" | bc)" ;;
	esac
}

finish() {
	if [ ${#CASE_FAILS[@]} -gt 0 ]; then
		log "failed: ${CASE_FAILS[*]}"
	fi
	if [ "$SKIPPED" -gt 0 ]; then
		echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	else
		echo "$PASSED passed, $FAILED failed"
	fi
	[ "$FAILED" -eq 0 ]
}

# Tools a script cannot do without: skip the whole script when missing.
need() {
	local b
	for b in "$@"; do
		if [ ! -x "$b" ]; then
			echo "missing $b (not built yet?)" >&2
			echo "0 passed, 0 failed, 1 skipped"
			exit 77
		fi
	done
}

# Run directly (ctest globs tests/integration/*.sh, so it does), lib.sh
# tests its own machinery: a failing command fails only its case, spawned
# processes die with their case, statuses and pipes come through, and no
# inherited fd is left open.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	st_false() { false; echo "not reached" >"$T/reached"; }
	st_spawn() { spawn sleep 100; echo "$SPAWNED" >"$T/sleeper"; }
	st_status() {
		spawn /bin/sh -c 'exit 7'
		wait_exit "$SPAWNED" 5
		[ "$RC" -eq 7 ] || fail "wait_exit gave $RC, expected 7"
	}
	st_pipe() {
		pipe_to "$D/out"
		spawn /bin/sh -c '[ -p /dev/stdout ] && echo piped' \
		    >"$D/out.fifo"
		wait_exit "$SPAWNED" 5
		sleep 0.1
		expect_grep '^piped$' "$D/out"
	}
	st_fds() {
		local fds
		fds=$(ls /proc/self/fd | sort -n | tr '\n' ' ')
		[ "$fds" = "0 1 2 3 " ] || fail "open fds: $fds (3 is ls's own)"
	}
	run_case "(meant to FAIL) errexit ends a case" st_false
	if [ "$FAILED" -eq 1 ] && [ ! -e "$T/reached" ]; then
		FAILED=0 CASE_FAILS=() PASSED=$((PASSED + 1))
	else
		FAILED=1 CASE_FAILS=("errexit in a case")
	fi
	run_case "spawn" st_spawn
	if alive "$(cat "$T/sleeper")"; then
		FAILED=$((FAILED + 1)) CASE_FAILS+=("spawned process outlived its case")
	fi
	run_case "exit status through wait_exit" st_status
	run_case "pipe_to gives a pipe" st_pipe
	run_case "inherited fds closed" st_fds
	finish
fi
