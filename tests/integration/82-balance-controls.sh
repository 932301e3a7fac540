#!/bin/bash
# 82-balance-controls.sh: issue 6, acceptance 3. The balancer obeys every
# node's settings and every job's options. Four nodes at 0.45 of a core each
# (cgroup), CPU-bound bc jobs started with omrun on node 1; where each job
# runs is sampled once a second from node 1's ps --json.
#
# Part 1, all at once: `omctl set block on` on node 3, `omctl set loadlimit
# 50` on node 4 (it refuses guests while its load x100 is over 50, i.e.
# once one job runs there), two `omrun --stay` jobs, two `omrun --nodes 2`
# jobs and three plain ones. Never, in any sample: a job on node 3, a
# --nodes 2 job elsewhere than node 1 or 2, a --stay job away from home,
# more than one job on node 4. And the balancer did move the others (a test
# of a balancer that does nothing would pass the rest).
#
# Part 2: `omctl set balance off` on node 1, four jobs: for 8 s (min_age is
# 2 s, a decision a second) none moves; `omctl set balance on`: they spread
# within 10 s. Every job of both parts ends with the right output.
#
# Jobs: bc -l with scale 3000, about 3.5 s of CPU each here.
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/balance.sh"
balance_need
balance_work bal82 "${BAL_SCALE:-3000}"
reference_check
balance_cluster 0.45 "0.45 of a core each"

# collect SECONDS NAME...: wait for the jobs, kill those still running,
# check their statuses and outputs
collect() {
	local s=$1 n
	shift
	jobs_end "$s" "$@" || bad "jobs still running after $s s: killed"
	for n in "$@"; do job_check "$n" "$n"; done
}
# where SAMPLES PYEXPR NAME...: over every sample, the nodes each job was
# seen on (w: set of nodes per name; nmax: the most jobs seen on one node
# at once, by node); prints them, then exits as PYEXPR says.
where() {
	local f=$1 e=$2 n args=
	shift 2
	for n in "$@"; do args="$args $n=$(jobpid "$n")"; done
	$PY - "$f" "$e" $args <<'EOF'
import json, sys
f, expr = sys.argv[1:3]
name = {int(a.split("=")[1]): a.split("=")[0] for a in sys.argv[3:]
        if a.split("=")[1]}
w = {n: set() for n in name.values()}
mig = {n: 0 for n in name.values()}
nmax = {}
for line in open(f):
    s = json.loads(line)
    cnt = {}
    for pid, node, m in s["p"] or []:
        if pid in name:
            w[name[pid]].add(node)
            mig[name[pid]] = max(mig[name[pid]], m)
            cnt[node] = cnt.get(node, 0) + 1
    for node, c in cnt.items():
        nmax[node] = max(nmax.get(node, 0), c)
print("# " + ", ".join("%s on %s (%d migrations)" % (n, sorted(w[n]), mig[n])
                       for n in sorted(w)) +
      "; most jobs at once per node: %s" % dict(sorted(nmax.items())))
sys.exit(0 if eval(expr) else 1)
EOF
}
holds() { where "$@" >/dev/null; }

# Part 1: block, loadlimit, --stay, --nodes.
check "node 3: omctl set block on" quiet octl 3 set block on
check "node 4: omctl set loadlimit 50" quiet octl 4 set loadlimit 50
check "node 1's view has node 3 blocked (gossip)" within 5 nodes_q 1 "'block' in n[3]['flags']"
sampler_start "$W/s1"
P1="stay1 stay2 nodes1 nodes2 free1 free2 free3"
launch stay1 --stay
launch stay2 --stay
launch nodes1 --nodes 2
launch nodes2 --nodes 2
for n in free1 free2 free3; do launch "$n"; done
within 10 test -s "$N1T/free3.pid"
collect 150 $P1
sampler_stop "$W/s1"
grep -E 'balancer:|migration to node .* failed|refused:' "$LOG1" |
    sed 's/^/# node1: /'
where "$W/s1" 1 $P1
check "block on: no job ever ran on node 3" holds "$W/s1" \
    "all(3 not in s for s in w.values())" $P1
check "--nodes 2: those jobs ran on node 1 or 2 only" holds "$W/s1" \
    "w['nodes1'] <= {1, 2} and w['nodes2'] <= {1, 2}" $P1
check "--stay: those jobs never left node 1" holds "$W/s1" \
    "w['stay1'] == {1} and w['stay2'] == {1} and mig['stay1'] == mig['stay2'] == 0" \
    $P1
check "loadlimit 50: node 4 never ran more than 1 job at once" holds "$W/s1" \
    "nmax.get(4, 0) <= 1" $P1
check "the balancer did move jobs (to node 2 or 4)" holds "$W/s1" \
    "sum(mig.values()) > 0 and any(s & {2, 4} for s in w.values())" $P1

# Part 2: balance off on node 1, then on.
check "node 3: omctl set block off" quiet octl 3 set block off
check "node 4: omctl set loadlimit none" quiet octl 4 set loadlimit none
check "node 1: omctl set balance off" quiet octl 1 set balance off
check "node 1's status says balance off" \
    status_q 1 "s['admin']['balance'] == False"
sampler_start "$W/s2"
P2="off1 off2 off3 off4"
for n in $P2; do launch "$n"; done
within 10 test -s "$N1T/off4.pid"
sleep 8
sampler_stop "$W/s2"
where "$W/s2" 1 $P2
check "balance off: for 8 s no job moved" holds "$W/s2" \
    "all(s == {1} for s in w.values()) and sum(mig.values()) == 0" $P2
check "node 1: omctl set balance on" quiet octl 1 set balance on
sampler_start "$W/s3"
spread() {
	node_omctl 1 ps --json 2>/dev/null | $PY -c '
import json, sys
p = json.load(sys.stdin)["processes"]
sys.exit(0 if len({x["where"] for x in p}) >= 3 else 1)'
}
t=$(now_ms)
check "balance on: the jobs spread over 3 nodes or more within 10 s" within 10 spread
echo "# spread in $(( $(now_ms) - t )) ms"
collect 150 $P2
sampler_stop "$W/s3"
where "$W/s3" 1 $P2
balance_finish
