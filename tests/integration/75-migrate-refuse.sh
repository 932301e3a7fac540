#!/bin/bash
# 75-migrate-refuse.sh: what `omctl migrate` must refuse, with a message
# naming the cause, the process staying home and running on unharmed:
#   - a node with `omctl set block on` (named: block);
#   - a node whose ommd hides a CPU feature this machine has
#     (OMM_CPU_HIDE=avx512f, or another feature when the CPU lacks AVX-512):
#     the refusal names the missing feature (issue 5: "refuses with the
#     missing feature's name");
#   - an unknown node;
#   - a locked process (omctl lock), which migrates once unlocked;
#   - another user's process (user omm-t75, made here, removed after):
#     permission denied.
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
for p in $PY /usr/sbin/runuser /usr/sbin/useradd "$OMM_BUILD/omrun" "$OMM_BUILD/omctl" \
    "$OMM_BUILD/ommd"; do
	[ -x "$p" ] || { echo "missing $p" >&2; echo "0 passed, 0 failed, 1 skipped"; exit 0; }
done
id omm-guest >/dev/null 2>&1 ||
    { echo "no user omm-guest (tests/deps.sh)" >&2; echo "0 passed, 0 failed, 1 skipped"; exit 0; }

U=omm-t75
if ! id -u "$U" >/dev/null 2>&1; then
	useradd --system --no-create-home --shell /usr/sbin/nologin "$U" ||
	    { bad "useradd $U"; finish; exit 1; }
	trap 'for n in $(seq 50); do userdel '"$U"' 2>/dev/null && break; sleep 0.1; done' EXIT
fi

# a feature of this CPU to hide on node 4
HIDE=
for f in avx512f avx2 avx sse4_2; do
	if grep -qw "$f" /proc/cpuinfo; then HIDE=$f; break; fi
done

# quiet CMD...: CMD with its stdout discarded (check prints its own line)
quiet() { "$@" >/dev/null; }
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
size() { stat -c %s "$1" 2>/dev/null || echo 0; }
grows() { local a; a=$(size "$1"); sleep "$2"; [ "$(size "$1")" -gt "$a" ]; }

# refused WHAT REGEX CMD...: CMD fails, its stderr matches REGEX (case
# insensitive), and the job is still home, running, its output growing.
refused() {
	local what=$1 re=$2 rc=0
	shift 2
	"$@" >"$N1T/r.out" 2>"$N1T/r.err" || rc=$?
	echo "# $what: exit $rc: $(cat "$N1T/r.err" "$N1T/r.out" | head -c 300)"
	check "$what: refused (exit $rc)" [ "$rc" -ne 0 ]
	check "$what: the message names /$re/" grep -Eqi -- "$re" "$N1T/r.err"
	check "$what: the job stays home, running" \
	    ps_q 1 "$JOB" "p['where'] == 1 and p['away'] == 'home' and \
		p['state'] == 'running' and p['migrations'] == $MIGS"
	check "$what: and its output grows" grows "$N1T/job.out" 0.3
}

CLUSTER_CONF_EXTRA=$(fabric_conf map)
if ! cluster_up 4 >/dev/null; then
	bad "cluster_up 4"
	finish
	exit 1
fi
started=1
for i in 1 2 3; do node_start "$i" -v || started=0; done
if [ -n "$HIDE" ]; then
	OMM_CPU_HIDE=$HIDE node_start 4 -v || started=0
else
	node_start 4 -v || started=0
fi
check "nodes 1-4 started (node 4 with OMM_CPU_HIDE=$HIDE)" [ "$started" -eq 1 ]
check "nodes 1-4 see each other" within 10 all_see_up "1 2 3 4" 1 2 3 4
N1T=$(node_dir 1)/tmp

cat >"$N1T/tick.py" <<'EOF'
import time
for i in range(400):
    print(i, flush=True)
    time.sleep(0.05)
EOF
node_exec 1 "$OMM_BUILD/omrun" --pidfile /tmp/job.pid $PY /tmp/tick.py \
    </dev/null >"$N1T/job.out" 2>"$N1T/job.err" &
OMRUN=$!
within 5 test -s "$N1T/job.pid"
JOB=$(cat "$N1T/job.pid" 2>/dev/null)
if [ -z "$JOB" ]; then
	bad "omrun wrote no pidfile ($(cat "$N1T/job.err"))"
	finish
	exit 1
fi
MIGS=0

check "omctl set block on (node 3)" quiet node_omctl 3 set block on
# the flag reaches node 1 by gossip; the host refuses in any case
sleep 1.5
refused "block" "block" node_omctl 1 migrate "$JOB" node3
if [ -n "$HIDE" ]; then
	refused "cpu" "$HIDE" node_omctl 1 migrate "$JOB" node4
else
	bad "cpu: this CPU has none of avx512f avx2 avx sse4_2 to hide"
fi
refused "unknown node" "unknown|no such|not known|node9" node_omctl 1 migrate "$JOB" node9
check "omctl lock $JOB" quiet node_omctl 1 lock "$JOB"
check "ps --json: locked" ps_q 1 "$JOB" "p['locked'] == True"
refused "locked" "lock" node_omctl 1 migrate "$JOB" node2
check "omctl unlock $JOB" quiet node_omctl 1 unlock "$JOB"
refused "another user's" "permission|not permitted|not yours|owner" \
    node_exec 1 /usr/sbin/runuser -u "$U" -- "$OMM_BUILD/omctl" migrate "$JOB" node2
# the refusals left nothing behind: it still migrates and comes home
check "unlocked, it migrates to node2" quiet node_omctl 1 migrate "$JOB" node2
check "ps: it runs on node 2" ps_q 1 "$JOB" "p['where'] == 2 and p['away'] == 'remote'"
check "and comes home (omctl migrate home)" quiet node_omctl 1 migrate "$JOB" home
check "ps: home, 1 migration" ps_q 1 "$JOB" "p['where'] == 1 and p['migrations'] == 1"
check "node 3 unblocked, it migrates there" quiet node_omctl 3 set block off
check "nodes 1-3 see node 3 unblocked" within 5 nodes_q 1 "'block' not in (n[3]['flags'] or [])"
check "then it migrates to node3" quiet node_omctl 1 migrate "$JOB" node3
check "omctl bring --all" quiet node_omctl 1 bring --all
wait_pid "$OMRUN" 30
check "the job ends with status 0 (got $RC)" [ "$RC" -eq 0 ]
check "every line, in order, once" cmp -s "$N1T/job.out" <(seq 0 399)
finish
