#!/bin/bash
# 79-migrate-sigmask.sh: issue 10, section 2: a process whose children
# exit while it is away gets their SIGCHLD, even where it lets the signal
# through only in pselect (GNU make's jobserver). tests/progs/childaway
# forks a child at home, is migrated to node 2, and waits there in
# pselect, ppoll and epoll_pwait with SIGCHLD and SIGUSR2 blocked but for
# the call's own mask: the child's end (SIGTERM at home) ends the pselect,
# a SIGUSR2 to its home pid each of the others, each with EINTR, its
# handler run once under the call's mask and its own mask back after
# (sigmask.h); then waitpid (at home) gets the child's status.
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/migrate.sh"
CA=$OMM_BUILD/tests/progs/childaway
[ -x "$CA" ] || { echo "missing $CA" >&2; exit 77; }
migrate_need

migrate_cluster 2

export PROG_READY=/tmp/ca.ready
job_start ca "$CA" || give_up "omrun wrote no pidfile ($(cat "$N1T/ca.err"))"
check "childaway is ready at home" within 5 test -e "$N1T/ca.ready"
CHILD=$(awk '$1 == "child" { print $2 }' "$N1T/ca.out")
check "its child $CHILD runs at home" [ -n "$CHILD" ] && [ -d "/proc/$CHILD" ]
check "it migrates to node 2, its child staying home" migrate_to "$JOB" 2
check "SIGUSR1: it waits" node_exec 1 kill -USR1 "$JOB"
check "it waits in pselect" within 10 grep -qx pselect "$N1T/ca.out"
check "still on node 2" ps_q 1 "$JOB" "p['where'] == 2"
check "its child ends (SIGTERM at home)" node_exec 1 kill -TERM "$CHILD"
check "the SIGCHLD ended its pselect: it waits in ppoll" within 10 grep -qx ppoll "$N1T/ca.out"
check "SIGUSR2 to its home pid" node_exec 1 kill -USR2 "$JOB"
check "that ended its ppoll: it waits in epoll_pwait" within 10 grep -qx epoll "$N1T/ca.out"
check "still on node 2" ps_q 1 "$JOB" "p['where'] == 2"
check "SIGUSR2 again" node_exec 1 kill -USR2 "$JOB"
wait_pid "$OMRUN" 40
sed 's/^/# ca: /' "$N1T/ca.out" "$N1T/ca.err"
check "childaway: PASS, exit 0 (got $RC)" \
    [ "$RC" -eq 0 -a "$(tail -n 1 "$N1T/ca.out")" = "PASS childaway" ]
check "its waitpid brought it home" \
    grep -q "process $JOB: home from node node2 (a call needs home: wait4)" "$LOG1"
check "no guest left on node 2" within 3 [ -z "$(guest_pids 2)" ]
finish
