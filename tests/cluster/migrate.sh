#!/bin/bash
# tests/cluster/migrate.sh: what the migration tests
# (tests/integration/7*-migrate-*.sh) share. Described in
# docs/cluster-harness.md. A test starts:
#
#	set -u
#	: "${OMM_SRC:?OMM_SRC must point at the source tree}"
#	. "$OMM_SRC/tests/cluster/migrate.sh"
#	migrate_need /usr/bin/tmux	# or skip the test
#	migrate_cluster 2		# nodes 1-2 up and seeing each other
#
# Sourcing it closes the descriptors the test inherited, sources cluster.sh
# and fabric.sh (check, ok, bad, finish, within, status_q...) and sets PY.
# Jobs run on node 1 (home); their files are in node 1's /tmp ($N1T), which
# no other node sees.

: "${OMM_BUILD:?OMM_BUILD must point at the build tree}"
: "${OMM_SRC:?OMM_SRC must point at the source tree}"

# An inherited descriptor would make the jobs unmovable (a pipe) or leak
# into them. 255 is where bash keeps the test script open; this file is not
# open any more (bash reads a sourced file whole before running it).
for _fd in /proc/$$/fd/*; do
	_fd=${_fd##*/}
	[ "$_fd" -gt 2 ] && [ "$_fd" -ne 255 ] && eval "exec $_fd>&-" 2>/dev/null
done
unset _fd
. "$OMM_SRC/tests/cluster/cluster.sh"
. "$OMM_SRC/tests/cluster/fabric.sh"
PY=/usr/bin/python3		# not a pyenv shim: a real ELF program

# migrate_need PROGRAM...: skip the test (exit 77 with the "1 skipped" line)
# unless python3, PROGRAM..., omrun, omctl and ommd are there, and the user
# omm-guest that hosts run guests as (tests/deps.sh makes it).
migrate_need() {
	local p
	for p in "$PY" "$@" "$OMM_BUILD/omrun" "$OMM_BUILD/omctl" "$OMM_BUILD/ommd"; do
		[ -x "$p" ] || _mig_skip "missing $p"
	done
	id omm-guest >/dev/null 2>&1 || _mig_skip "no user omm-guest (tests/deps.sh)"
}
_mig_skip() { echo "$1" >&2; echo "0 passed, 0 failed, 1 skipped"; exit 77; }

# give_up WHAT: a failure the test cannot go on from: its FAIL line, the
# closing "N passed, N failed" line, exit 1.
give_up() { bad "$1"; finish; exit 1; }

# test_user NAME: a system user for a job that must not be root's, made if
# missing and never removed (another test, or another engineer's run, may
# use it at the same time). Concurrent useradds race on /etc/passwd's lock:
# whoever loses retries.
test_user() {
	local n
	for n in 1 2 3 4 5 6 7 8 9 10; do
		id -u "$1" >/dev/null 2>&1 && return 0
		useradd --system --no-create-home --shell /usr/sbin/nologin \
		    "$1" 2>/dev/null && return 0
		sleep 0.5
	done
	id -u "$1" >/dev/null 2>&1 || give_up "useradd $1"
}

# migrate_cluster N [NOTE [I VAR=VALUE]]: a cluster of N nodes on the map
# fabric, every ommd started with -v (node I's with VAR=VALUE in its
# environment); checks "nodes 1-N started (NOTE)" and that they all see
# each other within 10 s; gives up if the cluster cannot be made. Sets N1T
# (node 1's /tmp) and LOG1 (node 1's ommd log).
migrate_cluster() {
	local mc_n=$1 mc_note=${2:+ ($2)} mc_envnode=${3:-} mc_env=${4:-}
	local mc_i mc_nodes mc_ok=1
	CLUSTER_CONF_EXTRA=$(fabric_conf map)
	cluster_up "$mc_n" >/dev/null || give_up "cluster_up $mc_n"
	mc_nodes=$(seq -s ' ' "$mc_n")
	for mc_i in $mc_nodes; do
		if [ "$mc_i" = "$mc_envnode" ]; then
			_mig_start_env "$mc_env" "$mc_i" -v || mc_ok=0
		else
			node_start "$mc_i" -v || mc_ok=0
		fi
	done
	# these tests move processes by hand: the balancer stays out of it
	for mc_i in $mc_nodes; do
		node_omctl "$mc_i" set balance off >/dev/null 2>&1 || mc_ok=0
	done
	check "nodes 1-$mc_n started$mc_note" [ "$mc_ok" -eq 1 ]
	check "nodes 1-$mc_n see each other" within 10 all_see_up "$mc_nodes" $mc_nodes
	N1T=$(node_dir 1)/tmp
	LOG1=$(node_dir 1)/log/ommd.log
}
# _mig_start_env VAR=VALUE I ARGS...: node_start with VAR=VALUE exported.
_mig_start_env() { local -x "$1"; shift; node_start "$@"; }

# make_tick: $N1T/tick.py, the usual job: `tick.py N [STOP]` prints 0 to
# N-1, one line every 50 ms, flushed (N = 0: for ever), so its output shows
# whether and where it still runs; with STOP (a path in node 1) it ends,
# status 0, once that file exists. A job that must outlive a test's steps
# ticks until told (tick_stop): a fixed N is a bet on how fast the machine
# runs the steps, which a busy machine loses.
make_tick() {
	cat >"$N1T/tick.py" <<'EOF'
import os, sys, time
n = int(sys.argv[1])
stop = sys.argv[2] if len(sys.argv) > 2 else None
i = 0
while (n == 0 or i < n) and not (stop and os.path.exists(stop)):
    print(i, flush=True)
    i += 1
    time.sleep(0.05)
EOF
}
# tick_stop NAME: make the job started as `tick.py 0 /tmp/NAME.stop` end.
# ticked FILE: FILE holds 0, 1, ... k-1 for some k >= 1: every line, in
# order, once.
tick_stop() { touch "$N1T/$1.stop"; }
ticked() {
	local k
	k=$(wc -l <"$1")
	[ "$k" -ge 1 ] && cmp -s "$1" <(seq 0 $((k - 1)))
}

# job_start [-u USER] NAME CMD...: omrun CMD on node 1 in the background (as
# USER, through runuser), stdin /dev/null, stdout and stderr in
# $N1T/NAME.out and NAME.err, pidfile /tmp/NAME.pid in node 1. OMRUN is
# omrun's pid here (for wait_pid), JOB the job's home pid; fails if omrun
# writes no pidfile within 5 s.
job_start() {
	local js_user='' js_name
	if [ "$1" = -u ]; then js_user=$2; shift 2; fi
	js_name=$1
	shift
	rm -f "$N1T/$js_name.pid"
	node_exec 1 ${js_user:+/usr/sbin/runuser -u "$js_user" --} \
	    "$OMM_BUILD/omrun" --pidfile "/tmp/$js_name.pid" "$@" \
	    </dev/null >"$N1T/$js_name.out" 2>"$N1T/$js_name.err" &
	OMRUN=$!
	within 5 test -s "$N1T/$js_name.pid"
	JOB=$(cat "$N1T/$js_name.pid" 2>/dev/null)
	[ -n "$JOB" ]
}

# wait_pid PID SECONDS: wait for a child of this shell (OMRUN); its status
# in RC (124, and it and its children killed, if still running after
# SECONDS x OMM_TEST_PATIENCE, as `within` in fabric.sh: a hang guard, not
# a verdict on speed).
wait_pid() {
	local n=$(( $2 * 10 * ${OMM_TEST_PATIENCE:-4} ))
	while kill -0 "$1" 2>/dev/null && [ "$n" -gt 0 ]; do
		# a zombie still answers kill -0: ask /proc
		[ "$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null)" = Z ] && break
		sleep 0.1
		n=$((n - 1))
	done
	if [ "$n" -le 0 ]; then
		kill -KILL $(pgrep -P "$1") "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		RC=124
		return
	fi
	RC=0
	wait "$1" || RC=$?
}

# quiet CMD...: CMD with its stdout discarded (check prints its own line).
quiet() { "$@" >/dev/null; }

# ps_q I PID PYEXPR: node I's ps --json has process PID (as p) and PYEXPR
# holds, e.g. "p['where'] == 2 and p['away'] == 'remote'".
ps_q() {
	node_omctl "$1" ps --json 2>/dev/null | $PY -c '
import json, sys
try:
    d = json.load(sys.stdin)
except Exception:
    sys.exit(1)
p = {x["pid"]: x for x in d["processes"]}.get(int(sys.argv[1]))
sys.exit(0 if p is not None and eval(sys.argv[2]) else 1)' "$2" "$3"
}

# migrate_to PID NODE: `omctl migrate PID nodeNODE` on node 1 succeeds and
# node 1's ps --json then shows PID running away on NODE.
migrate_to() {
	node_omctl 1 migrate "$1" "node$2" >/dev/null &&
	    ps_q 1 "$1" "p['where'] == $2 and p['away'] == 'remote'"
}

# guest_pids I: the processes of user omm-guest in node I, one a line (a
# guest and its server; other clusters on this machine may have guests of
# their own, hence by namespace).
guest_pids() {
	local p
	for p in $(ip netns pids "$(_cl_ns "$1")" 2>/dev/null); do
		[ "$(stat -c %U /proc/"$p" 2>/dev/null)" = omm-guest ] && echo "$p"
	done
	return 0
}

# files I [FORMAT]: what is under node I's /tmp and /var/lib/omm, sorted:
# the paths, or each as find -printf FORMAT says. Taken before and after, a
# diff shows what a host left behind.
files() { (cd "$(node_dir "$1")" && find tmp lib -printf "${2:-%p\n}" | sort); }

# size FILE: its size, 0 if it is not there. grows FILE SECONDS: FILE gets
# larger within SECONDS (as `within`: x OMM_TEST_PATIENCE; a job writing it
# still runs). still FILE SECONDS: FILE's size does not change over
# SECONDS (a stopped job).
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
grows() { local a; a=$(size "$1"); within "$2" _grown "$1" "$a"; }
_grown() { [ "$(size "$1")" -gt "$2" ]; }
still() { local a; a=$(size "$1"); sleep "$2"; [ "$(size "$1")" -eq "$a" ]; }

# logs_of [-a] PID...: what the nodes' logs say about home pids PID... (the
# last 12 lines of each node, every line with -a), as comments, to explain
# a failure.
logs_of() {
	local lines=12 re i
	if [ "${1:-}" = -a ]; then lines=+1; shift; fi
	re=$(IFS='|'; echo "$*")
	for i in $(seq "$CLUSTER_N"); do
		grep -E -- "(process |home 1:)($re)[ :)]" "$(node_dir "$i")/log/ommd.log" |
		    grep -Ev '(dump|restore) [0-9]+: ' | tail -n "$lines" |
		    sed "s/^/# node$i: /"
	done
}
