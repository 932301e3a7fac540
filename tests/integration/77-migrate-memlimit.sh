#!/bin/bash
# 77-migrate-memlimit.sh: issue 10, section 1: each guest has a memory
# limit on its host (a cgroup of its own under the host's ommd, size from
# guest_memory), and a guest over it is sent home, not killed.
#   - node 2 runs with guest_memory = 64M;
#   - tests/progs/memgrow, migrated to node 2 while small, then grows to
#     160 MiB: node 2 sends it home (its log names the limit, node 1's says
#     why it came home), it finishes at home with PASS, status 0 and output
#     byte-identical to an uninterrupted run;
#   - while it ran on node 2 it was in its own group below node 2's ommd,
#     with the limit set; afterwards that group is gone;
#   - a process that already uses 100 MiB is refused by node 2 with a
#     message naming the limit, and runs on at home.
# Without a cgroup memory controller (v2, or a v1 memory hierarchy) the
# nodes refuse guests: the test skips (exit 77).
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/migrate.sh"
migrate_need

MG=$OMM_BUILD/tests/progs/memgrow
[ -x "$MG" ] || _mig_skip "missing $MG"
if [ -z "$(_cl_mem_kind)" ]; then
	echo "SKIP: no cgroup memory controller (neither cgroup v2 with memory nor a v1 memory hierarchy)"
	echo "0 passed, 0 failed, 1 skipped"
	exit 77
fi

migrate_cluster 2
check "node 2: guest_memory = 64M" node_conf 2 "guest_memory = 64M"
check "node 2 restarts with it" node_restart 2 -v
node_omctl 2 set balance off >/dev/null 2>&1
check "nodes 1-2 see each other again" within 10 all_see_up "1 2" 1 2
LOG2=$(node_dir 2)/log/ommd.log
if grep -q "refuses guests: it cannot limit their memory" "$LOG2"; then
	grep "refuses guests" "$LOG2" | tail -n 1 | sed 's/^/# /'
	echo "SKIP: node 2 cannot limit its guests' memory"
	finish >/dev/null
	echo "$pass passed, $fail failed, 1 skipped"
	exit 77
fi
check "node 2's log: guests sent home at 64 MiB" \
    grep -q "guests live in .*, each sent home at 64 MiB" "$LOG2"
GDIR=$(sed -n 's/.*guests live in \(.*\) (cgroup .*/\1/p' "$LOG2" | tail -n 1)
echo "# node 2's guests: $GDIR"

# the uninterrupted run, at home without omm
node_exec 1 /bin/sh -c 'echo $$ >/tmp/ref.pid; PROG_READY=/tmp/ref.ready exec "$0" 4 160' \
    "$MG" </dev/null >"$N1T/ref.out" 2>"$N1T/ref.err" &
REF=$!
within 5 test -e "$N1T/ref.ready"
kill -USR1 "$(cat "$N1T/ref.pid")"
wait "$REF"
check "reference run: PASS" [ "$(tail -n 1 "$N1T/ref.out")" = "PASS memgrow" ]

export PROG_READY=/tmp/mg.ready
job_start mg "$MG" 4 160 || give_up "omrun wrote no pidfile ($(cat "$N1T/mg.err"))"
check "memgrow is ready at home" within 5 test -e "$N1T/mg.ready"
check "it migrates to node 2 (4 MiB is under the limit)" migrate_to "$JOB" 2
g=$(guest_pids 2 | head -n 1)
G=$(grep -o "guest [0-9]*: process $JOB of node 1" "$LOG2" | tail -n 1 | awk '{print $2}' | tr -d :)
check "node 2: the guest ($G) is in a group of its own below ommd's" \
    grep -qx "$G" "$GDIR/guest-$G/cgroup.procs"
if [ -f "$GDIR/guest-$G/memory.high" ]; then
	check "its memory.high is 64 MiB, memory.max stays max" \
	    [ "$(cat "$GDIR/guest-$G/memory.high")" = $((64 << 20)) -a \
	      "$(cat "$GDIR/guest-$G/memory.max")" = max ]
else
	check "its memory.limit_in_bytes is 64 MiB, the OOM killer off" \
	    [ "$(cat "$GDIR/guest-$G/memory.limit_in_bytes")" = $((64 << 20)) ] &&
	    grep -qx "oom_kill_disable 1" "$GDIR/guest-$G/memory.oom_control"
fi
check "SIGUSR1: it grows" node_exec 1 kill -USR1 "$JOB"
check "it comes home" within 30 ps_q 1 "$JOB" "p['where'] == 1 and p['away'] == 'home'"
wait_pid "$OMRUN" 60
sed 's/^/# mg: /' "$N1T/mg.err" | head -n 5
check "it was not killed: PASS, exit 0 (got $RC)" \
    [ "$RC" -eq 0 -a "$(tail -n 1 "$N1T/mg.out")" = "PASS memgrow" ]
check "its output is byte-identical to the uninterrupted run" \
    cmp "$N1T/ref.out" "$N1T/mg.out"
check "node 2's log: it reached its memory limit of 64 MiB, sent home" \
    grep -q "guest $G (home 1:$JOB) reached its memory limit of 64 MiB: sent home" "$LOG2"
check "node 1's log: home from node 2, at its memory limit there" \
    grep -q "process $JOB: home from node node2 (it reached its memory limit there)" "$LOG1"
grep -E "process $JOB: home" "$LOG1" | sed 's/^/# /'
check "its group on node 2 is gone" within 5 [ ! -d "$GDIR/guest-$G" ]
[ -n "$g" ] && check "no guest left on node 2" within 3 [ -z "$(guest_pids 2)" ]

# too large to begin with: refused, naming the limit
job_start big "$MG" 100 0 || give_up "omrun wrote no pidfile ($(cat "$N1T/big.err"))"
check "a 100 MiB process is ready at home" within 10 grep -q '^took 100 MiB' "$N1T/big.out"
rc=0
node_omctl 1 migrate "$JOB" node2 >"$N1T/r.out" 2>"$N1T/r.err" || rc=$?
echo "# refused: $(cat "$N1T/r.err" "$N1T/r.out")"
check "node 2 refuses it (exit $rc)" [ "$rc" -ne 0 ]
check "naming the limit: guest memory limit of 64 MiB" \
    grep -q "guest memory limit of 64 MiB" "$N1T/r.err"
check "it stays home" ps_q 1 "$JOB" "p['where'] == 1 and p['away'] == 'home'"
node_exec 1 kill -USR1 "$JOB"
wait_pid "$OMRUN" 30
check "and ends with PASS (got $RC)" \
    [ "$RC" -eq 0 -a "$(tail -n 1 "$N1T/big.out")" = "PASS memgrow" ]
finish
