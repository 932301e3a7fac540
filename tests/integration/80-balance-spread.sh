#!/bin/bash
# 80-balance-spread.sh: issue 6, acceptance 1 and 5. Four nodes, each held
# to 0.45 of a core by its cgroup; 8 CPU-bound jobs (bc computing pi) are
# started with omrun on node 1 and nobody types `migrate`: the balancers
# must spread them over all four nodes, relieving node 1; every output must
# be byte-identical to an uninterrupted run, no job may migrate more than a
# few times (4), and no guest may be left behind.
#
# Sizes: each job is bc -l with scale 3800, about 6-7 s of CPU here (not the
# issue's 20 s: the test must stay short; bench/balance.sh runs the 20 s
# jobs).
#
# Relief is measured in CPU seconds, not wall time: the CPU time node 1's
# cgroup used while the jobs ran, against what all four nodes used (what
# node 1 alone would have used had the jobs stayed home). With the spread
# node 1 does about a quarter, plus the first seconds (a process is not
# moved before it is 2 s old, and node 1 starts one move a second) and its
# deputies' work; the check is that it did less than half. A busy machine
# stretches the run but not the CPU each job needs. The makespan against
# the ideal (all the jobs' CPU over the 1.8 cores) is printed, not judged:
# it is a timing goal, bench/balance.sh's (docs/benchmarks.md).
#
# Where each job runs is sampled once a second from node 1's ps --json
# (where, migrations); the moves the balancer started are also counted in
# node 1's log ("balancer: process P from node A to node B").
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/balance.sh"
NJOBS=8
SHARES="0.45 0.45 0.45 0.45"
MAX_MIG=4
balance_need
balance_work bal80 "${BAL_SCALE:-3800}"
reference_check -c
balance_cluster "$SHARES" "CPU shares $SHARES"

# The run, the per-job checks, the summary (per job the nodes it was seen
# on, its migrations: ps --json's highest and the balancer's moves in node
# 1's log; the CPU each node gave) and "ran on all 4 nodes".
balance_spread $NJOBS "$SHARES"
maxmig=$(sed -n 's/^MAXMIG //p' "$W/summary")
check "no job migrated more than $MAX_MIG times (most: ${maxmig:-?})" \
    [ "${maxmig:-99}" -le $MAX_MIG ]
check "node 1's balancer started the moves (its log: $(wc -l <"$W/moves") moves)" \
    [ "$(wc -l <"$W/moves")" -ge 3 ]
read -r cpu1 cpuall frac <<<"$(sed -n 's/^NODE1 //p' "$W/summary")"
check "node 1 relieved: its cgroup used ${cpu1:-?} CPU s of the ${cpuall:-?} s all 4 nodes used (${frac:-?}; all on node 1: 1.00, one job in $NJOBS: $CPU1 s), under half" \
    awk -v f="${frac:-1}" 'BEGIN { exit !(f < 0.5) }'
guests_gone 2 3 4
balance_finish
