#!/bin/bash
# 83-balance-leave.sh: issue 6, acceptance 4. A node that goes sends its
# guests off first and no process is lost. Four nodes at 0.45 of a core
# each (cgroup); 8 CPU-bound jobs (bc -l, scale 4500: about 10 s of CPU each
# here, so that they still run when the nodes go) are started with omrun on
# node 1 and spread by the balancer. Then:
#
# - node_stop 4 (ommd gets SIGTERM) while it hosts some of them: every one
#   comes home before node 4's ommd is gone (node 1's log: "home from node
#   node4 (its host stops)"), and no job runs on node 4 afterwards;
# - `omctl leave` on node 3 while it hosts some: they come home the same
#   way, and the balancer sends nothing back to node 3 (it gossips
#   "leaving" and "block");
# - every job ends with exit 0 and output identical to an uninterrupted run.
#
# Where the jobs run is sampled once a second from node 1's ps --json.
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/balance.sh"
NJOBS=8
balance_need
balance_work bal83 "${BAL_SCALE:-4500}"
reference_check
balance_cluster 0.45 "0.45 of a core each"
sampler_start "$W/samples"

# on_node I: the pids node 1's ps --json says run on node I now.
on_node() {
	octl 1 ps --json 2>/dev/null | $PY -c '
import json, sys
print(" ".join(str(x["pid"]) for x in json.load(sys.stdin)["processes"]
               if x["where"] == int(sys.argv[1]) and x["away"] == "remote"))' "$1"
}
# hosts I N: node I hosts N jobs or more (as node 1 sees it)
hosts() { local p; p=$(on_node "$1"); [ "$(wc -w <<<"$p")" -ge "$2" ]; }
# came_home PID I: node 1's log says PID came home from node I as it went
came_home() {
	grep -Eq "process $1: home from node (node)?$2 \(its host stops\)" "$LOG1"
}
all_home() {
	local p
	for p in $2; do came_home "$p" "$1" || return 1; done
}
# none_after T I: no sample taken after T (s since the epoch) has a job on node I
none_after() {
	$PY - "$W/samples" "$1" "$2" <<'EOF'
import json, sys
t, node = float(sys.argv[2]), int(sys.argv[3])
seen = ["pid %d at %+.1f s" % (x[0], s["t"] - t)
        for line in open(sys.argv[1]) for s in [json.loads(line)]
        if s["t"] > t for x in s["p"] or [] if x[1] == node]
if seen:
    print("# on node %d: %s" % (node, ", ".join(seen[:10])))
sys.exit(0 if not seen else 1)
EOF
}

t0=$(now_ms)
JOBS=
for j in $(seq $NJOBS); do
	launch "j$j"
	JOBS="$JOBS j$j"
done

# Node 4 stops with guests on it.
check "the jobs spread: node 4 and node 3 host one or more" \
    within 30 eval 'hosts 4 1 && hosts 3 1'
on4=$(on_node 4)
echo "# at $(( ($(now_ms) - t0) / 1000 )) s: on node 4: $on4; on node 3: $(on_node 3)"
t=$(now_ms)
check "node_stop 4 (SIGTERM): its ommd ends" node_stop 4
echo "# node 4's ommd took $(( $(now_ms) - t )) ms to end"
check "every job node 4 hosted ($on4) came home as it stopped" \
    within 10 all_home 4 "$on4"
grep -E "home from node (node)?4 " "$LOG1" | sed 's/^/# node1: /'
tstop=$(date +%s.%N)

# Node 3 leaves with guests on it.
check "node 3 still hosts a job" within 10 hosts 3 1
on3=$(on_node 3)
check "node 3: omctl leave" quiet octl 3 leave
tleave=$(date +%s.%N)
echo "# on node 3 as it left: $on3; 3 s later: $(sleep 3; on_node 3)"
check "every job node 3 hosted ($on3) came home as it left" \
    within 10 all_home 3 "$on3"
grep -E "home from node (node)?3 " "$LOG1" | sed 's/^/# node1: /'
check "node 1 sees node 3 leaving" within 5 nodes_q 1 "n[3]['state'] != 'up' or 'leaving' in n[3]['flags']"

# Every job ends right.
jobs_end 150 $JOBS || bad "jobs still running after 150 s"
sampler_stop "$W/samples"
echo "# makespan $(( $(last_end $JOBS) - t0 )) ms"
for j in $(seq $NJOBS); do job_check "j$j" "job $j"; done
check "no job ran on node 4 after it stopped (samples from 2 s on)" \
    none_after "$(echo "$tstop + 2" | bc)" 4
check "no job ran on node 3 after it left (samples from 2 s on)" \
    none_after "$(echo "$tleave + 2" | bc)" 3
balance_moves
sed 's/^/# node1: /' "$W/moves"
balance_finish
