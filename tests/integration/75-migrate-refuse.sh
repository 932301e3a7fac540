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
#   - another user's process (user omm-t75, made here if missing, never removed):
#     permission denied.
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/migrate.sh"
migrate_need /usr/sbin/runuser /usr/sbin/useradd

U=omm-t75
test_user "$U"

# a feature of this CPU to hide on node 4
HIDE=
for f in avx512f avx2 avx sse4_2; do
	if grep -qw "$f" /proc/cpuinfo; then HIDE=$f; break; fi
done

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

migrate_cluster 4 "node 4 with OMM_CPU_HIDE=$HIDE" ${HIDE:+4 "OMM_CPU_HIDE=$HIDE"}

make_tick
rm -f "$N1T/job.stop"
job_start job $PY /tmp/tick.py 0 /tmp/job.stop ||
    give_up "omrun wrote no pidfile ($(cat "$N1T/job.err"))"
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
check "home again" within 10 ps_q 1 "$JOB" "p['where'] == 1"
tick_stop job
wait_pid "$OMRUN" 30
check "the job ends with status 0 (got $RC)" [ "$RC" -eq 0 ]
check "every line, in order, once ($(wc -l <"$N1T/job.out") lines)" ticked "$N1T/job.out"
finish
