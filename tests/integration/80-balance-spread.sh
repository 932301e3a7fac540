#!/bin/bash
# 80-balance-spread.sh: issue 6, acceptance 1 and 5. Four nodes, each held
# to 0.45 of a core by its cgroup; 8 CPU-bound jobs (bc computing pi) are
# started with omrun on node 1 and nobody types `migrate`: the balancers
# must spread them over all four nodes, the makespan must come near the
# ideal (all the jobs' CPU over the 1.8 cores of the cluster), every output
# must be byte-identical to an uninterrupted run, and no job may migrate
# more than a few times (4).
#
# Sizes: each job is bc -l with scale 3800, about 6-7 s of CPU here (not the
# issue's 20 s: the test must stay short; bench/balance.sh runs the 20 s
# jobs). Ideal: 8 x 6.8 / 1.8 = 30 s; all on node 1: 120 s.
#
# The bound is makespan <= 1.25 x ideal + SPREAD_S. SPREAD_S (6 s) is the
# start-up the model imposes whatever the job size: a process is not moved
# before it is 2 s old (min_age_s), node 1 alone decides for all 8 and
# starts at most one migration a second, one at a time, so the sixth move
# (2/2/2/2 needs six) comes at about 8 s, and meanwhile node 1 runs
# everything on 0.45 of a core.
#
# Where each job runs is sampled once a second from node 1's ps --json
# (where, migrations); the moves the balancer started are also counted in
# node 1's log ("balancer: process P from node A to node B").
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/balance.sh"
NJOBS=8
SHARES="0.45 0.45 0.45 0.45"
SPREAD_S=6
MAX_MIG=4
balance_need
balance_work bal80 "${BAL_SCALE:-3800}"
reference_check -c
balance_cluster "$SHARES" "CPU shares $SHARES"

# The run, the per-job checks, the summary (per job the nodes it was seen
# on, its migrations: ps --json's highest and the balancer's moves in node
# 1's log; the CPU each node gave) and "ran on all 4 nodes".
balance_spread $NJOBS "$SHARES" $SPREAD_S
maxmig=$(sed -n 's/^MAXMIG //p' "$W/summary")
check "makespan ${MAKESPAN} ms <= 1.25 x ideal + $SPREAD_S s = $(sed -n 's/^BOUND //p' "$W/summary") s" \
    [ "$(sed -n 's/^WITHIN //p' "$W/summary")" = 1 ]
check "no job migrated more than $MAX_MIG times (most: ${maxmig:-?})" \
    [ "${maxmig:-99}" -le $MAX_MIG ]
check "node 1's balancer started the moves (its log: $(wc -l <"$W/moves") moves)" \
    [ "$(wc -l <"$W/moves")" -ge 3 ]
guests_gone 2 3 4
balance_finish
