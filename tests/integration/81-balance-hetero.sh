#!/bin/bash
# 81-balance-hetero.sh: issue 6, acceptance 2. Four unequal nodes (CPU shares
# 0.2, 0.4, 0.6 and 0.6 of a core, by cgroup) and 9 CPU-bound jobs (bc
# computing pi, about 6-7 s of CPU each here) started with omrun on node 1,
# the slowest: the work must end up proportional to speed. Measured as the
# CPU time each node's cgroup used while the jobs ran (its meter, sampled
# once a second), against its share of the total: each node must be within
# 0.5x-1.6x of proportional (loose: jobs are integral, 9 jobs cannot split
# 1:2:3:3 exactly at every moment, and node 1 runs everything until the
# spread). Outputs must be byte-identical to an uninterrupted run; the
# makespan and the ideal (all CPU / 1.8 cores) are printed, not asserted
# (bench/balance.sh gives the figure).
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/balance.sh"
NJOBS=9
SHARES="0.2 0.4 0.6 0.6"
balance_need
balance_work bal81 "${BAL_SCALE:-3800}"
reference_check -c
balance_cluster "$SHARES" "CPU shares $SHARES"

# The run, the per-job checks, the summary (with each node's CPU against
# its proportional part: the PROP lines) and "ran on all 4 nodes".
balance_spread $NJOBS "$SHARES"
for i in 1 2 3 4; do
	x=$(sed -n "s/^PROP $i //p" "$W/summary")
	check "node $i (share $(node_cpu_share "$i")): CPU given ${x:-?}x proportional, within 0.5x-1.6x" \
	    awk -v x="${x:-0}" 'BEGIN { exit !(x >= 0.5 && x <= 1.6) }'
done
guests_gone 2 3 4
balance_finish
