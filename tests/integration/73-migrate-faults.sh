#!/bin/bash
# 73-migrate-faults.sh: issue 5, acceptance 4, and the other faults of
# docs/migration.md. A job of node 1 runs on a host when:
#   - the host's ommd is killed (SIGKILL): the job ends within 5 s with
#     SIGKILL semantics (omrun exits 137) and "omm: process PID lost: node
#     node2 unreachable" on omrun's stderr and in node 1's log;
#   - the host's cable is pulled (node_cut): the same within 7 s (the
#     keepalive and user timeout notice a silent peer within 5 s), and the
#     host, cut off, kills its guest too;
#   - the home's ommd is killed: the host kills and cleans up the guest.
# After each, no omm-guest process is left in any node, and nodes 2 and 3
# have no new file in their /tmp or /var/lib/omm.
set -u
: "${OMM_BUILD:?OMM_BUILD must point at the build tree}"
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
for _fd in /proc/$$/fd/*; do
	_fd=${_fd##*/}
	[ "$_fd" -gt 2 ] && [ "$_fd" -ne 255 ] && eval "exec $_fd>&-" 2>/dev/null
done
. "$OMM_SRC/tests/cluster/cluster.sh"
. "$OMM_SRC/tests/cluster/fabric.sh"
PY=/usr/bin/python3
for p in $PY "$OMM_BUILD/omrun" "$OMM_BUILD/omctl" "$OMM_BUILD/ommd"; do
	[ -x "$p" ] || { echo "missing $p" >&2; echo "0 passed, 0 failed, 1 skipped"; exit 0; }
done
id omm-guest >/dev/null 2>&1 ||
    { echo "no user omm-guest (tests/deps.sh)" >&2; echo "0 passed, 0 failed, 1 skipped"; exit 0; }

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
guest_pids() {
	local p
	for p in $(ip netns pids "$(_cl_ns "$1")" 2>/dev/null); do
		[ "$(stat -c %U /proc/"$p" 2>/dev/null)" = omm-guest ] && echo "$p"
	done
	return 0
}
no_guests() { [ -z "$(guest_pids 1)$(guest_pids 2)$(guest_pids 3)" ]; }
# files I: every file under node I's /tmp and /var/lib/omm
files() { (cd "$(node_dir "$1")" && find tmp lib | sort); }
wait_pid() {
	local n=$(( $2 * 10 ))
	while kill -0 "$1" 2>/dev/null && [ "$n" -gt 0 ]; do
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
logs_of() {
	local i
	for i in 1 2 3; do
		grep -E -- "(process |home 1:)$1[ :)]" "$(node_dir "$i")/log/ommd.log" |
		    grep -Ev '(dump|restore) [0-9]+: ' | tail -n 12 | sed "s/^/# node$i: /"
	done
}

CLUSTER_CONF_EXTRA=$(fabric_conf map)
if ! cluster_up 3 >/dev/null; then
	bad "cluster_up 3"
	finish
	exit 1
fi
started=1
for i in 1 2 3; do node_start "$i" -v || started=0; done
check "nodes 1-3 started" [ "$started" -eq 1 ]
check "nodes 1-3 see each other" within 10 all_see_up "1 2 3" 1 2 3
N1T=$(node_dir 1)/tmp
LOG1=$(node_dir 1)/log/ommd.log
cat >"$N1T/tick.py" <<'EOF'
import time
i = 0
while True:
    print(i, flush=True)
    i += 1
    time.sleep(0.05)
EOF
files 2 >"$N1T/files2.before"
files 3 >"$N1T/files3.before"

# start NAME: the ticking job on node 1, migrated to node NODE; OMRUN, JOB
start_away() {
	local n=$1 node=$2
	rm -f "$N1T/$n.pid"
	node_exec 1 "$OMM_BUILD/omrun" --pidfile "/tmp/$n.pid" $PY /tmp/tick.py \
	    </dev/null >"$N1T/$n.out" 2>"$N1T/$n.err" &
	OMRUN=$!
	within 5 test -s "$N1T/$n.pid"
	JOB=$(cat "$N1T/$n.pid" 2>/dev/null)
	[ -n "$JOB" ] || return 1
	sleep 0.2
	node_omctl 1 migrate "$JOB" "node$node" >/dev/null &&
	    ps_q 1 "$JOB" "p['where'] == $node and p['away'] == 'remote'" &&
	    [ -n "$(guest_pids "$node")" ]
}

# lost NAME NODE LIMIT_MS T0: the job ended as lost, within LIMIT_MS of T0
lost() {
	local n=$1 node=$2 limit=$3 t0=$4 ms f0=$fail
	wait_pid "$OMRUN" 15
	ms=$(( $(now_ms) - t0 ))
	check "$n: omrun exits 137 (got $RC) after $ms ms, within $limit ms" \
	    [ "$RC" -eq 137 -a "$ms" -le "$limit" ]
	check "$n: omrun's stderr says 'omm: process $JOB lost: node node$node unreachable'" \
	    grep -q "^omm: process $JOB lost: node node$node unreachable" "$N1T/$n.err"
	check "$n: node 1's log says process $JOB lost" \
	    grep -q "process $JOB lost: node node$node unreachable" "$LOG1"
	check "$n: the home process is gone" within 2 not test -d "/proc/$JOB"
	check "$n: node 1 no longer manages it" not ps_q 1 "$JOB" True
	[ "$fail" -eq "$f0" ] || { echo "# stderr: $(head -c 300 "$N1T/$n.err")"; logs_of "$JOB"; }
}

# 1. node 2's ommd killed
if start_away kill 2; then
	ok "kill: job $JOB runs on node 2"
	t0=$(now_ms)
	node_kill 2
	lost kill 2 5000 "$t0"
	check "kill: no omm-guest process left on node 2 (S and G died with ommd)" \
	    within 3 [ -z "$(guest_pids 2)" ]
else
	bad "kill: job on node 2 ($(cat "$N1T/kill.err"))"
fi
check "kill: nothing left in node 2's /tmp and /var/lib/omm" \
    diff "$N1T/files2.before" <(files 2)

# 2. node 3's link cut
if start_away cut 3; then
	ok "cut: job $JOB runs on node 3"
	t0=$(now_ms)
	node_cut 3
	lost cut 3 7000 "$t0"
	if within 8 [ -z "$(guest_pids 3)" ]; then
		ok "cut: node 3, cut off, killed its guest ($(( $(now_ms) - t0 )) ms after the cut)"
	else
		bad "cut: node 3, cut off, still has guest $(guest_pids 3) $(( $(now_ms) - t0 )) ms after the cut"
		logs_of "$JOB"
	fi
else
	bad "cut: job on node 3 ($(cat "$N1T/cut.err"))"
fi
node_uncut 3
check "cut: nothing left in node 3's /tmp and /var/lib/omm" \
    diff "$N1T/files3.before" <(files 3)

# 3. the home's ommd killed: the host kills its guest
check "node 2 restarts" node_start 2 -v
check "nodes 1-3 see each other again" within 15 all_see_up "1 2 3" 1 2 3
if start_away home 2; then
	ok "home: job $JOB runs on node 2"
	node_kill 1
	t0=$(now_ms)
	if within 8 [ -z "$(guest_pids 2)" ]; then
		ok "home: node 2 killed the guest $(( $(now_ms) - t0 )) ms after node 1's ommd died"
	else
		bad "home: node 2 still has guest $(guest_pids 2) 8 s after node 1's ommd died"
		logs_of "$JOB"
	fi
	check "home: node 2 hosts no guest" \
	    within 3 status_q 2 's["node"]["guests"] == 0'
	# the image died with the guest: the parked original must not wait
	# forever, nor omrun with it ("nothing hangs")
	wait_pid "$OMRUN" 8
	check "home: omrun on node 1 ended, not hung (status $RC; 124: still running after 8 s)" \
	    [ "$RC" -ne 124 ]
else
	bad "home: job on node 2 ($(cat "$N1T/home.err"))"
fi
check "no omm-guest process in any node" within 3 no_guests
check "nothing left in node 2's /tmp and /var/lib/omm" \
    diff "$N1T/files2.before" <(files 2)
finish
