#!/bin/bash
# 76-migrate-guest.sh: issue 10, section 1 (guests): a guest touches
# nothing of its host and does not see its deputy. tests/progs/guestself,
# started on node 1 and migrated to node 2, checks itself there:
#   - its own CPU clocks, named by the (home) pid and tid it sees, read its
#     own time on the host, not the time it had used at home;
#   - the CPU clock of another pid (a busy process of node 2) is a home
#     pid's clock: read at home (docs/syscalls.md), so node 1 counts every
#     one of its reads as a forwarded call; its thread clock is EINVAL;
#   - /proc/self/maps (by path, /proc/thread-self, its pid, a directory
#     descriptor, a descriptor opened at home before it left) shows a
#     mapping it made at a fixed address after it moved, and not the
#     deputy's program; /proc/self/mem reads its memory; /proc/self/exe is
#     its program; /proc/self its pid; /proc/self/fd none of the deputy's;
#   - a timer on the other pid's clock brings it home (the log says so),
#     where the maps descriptor it opened before it left is its map again.
# It ends with PASS and status 0.
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/migrate.sh"
migrate_need

READS=2000
GS=$OMM_BUILD/tests/progs/guestself
[ -x "$GS" ] || _mig_skip "missing $GS"

migrate_cluster 2
N2T=$(node_dir 2)/tmp

# a process of node 2 that uses CPU: the "host process" whose clock is asked
node_exec 2 /bin/sh -c 'echo $$ >/tmp/hog.pid; exec '"$PY"' -c "while True: pass"' \
    </dev/null >/dev/null 2>&1 &
check "a busy process runs on node 2" within 5 test -s "$N2T/hog.pid"
HOG=$(cat "$N2T/hog.pid" 2>/dev/null)

export PROG_READY=/tmp/gs.ready
job_start gs "$GS" "${HOG:-1}" "$READS" timer ||
    give_up "omrun wrote no pidfile ($(cat "$N1T/gs.err"))"
check "guestself is ready at home" within 5 test -e "$N1T/gs.ready"
check "it migrates to node 2" migrate_to "$JOB" 2
fwd0=$(node_omctl 1 ps --json | $PY -c 'import json, sys
print({p["pid"]: p for p in json.load(sys.stdin)["processes"]}[int(sys.argv[1])]["fwd_calls"])' "$JOB")
check "SIGUSR1 to its home pid" node_exec 1 kill -USR1 "$JOB"
check "it read pid $HOG's CPU clock $READS times" within 20 grep -q '^other-clock ' "$N1T/gs.out"
fwd1=$(node_omctl 1 ps --json | $PY -c 'import json, sys
print({p["pid"]: p for p in json.load(sys.stdin)["processes"]}[int(sys.argv[1])]["fwd_calls"])' "$JOB")
echo "# forwarded calls: $fwd0 before, $fwd1 after; $(grep other-clock "$N1T/gs.out")"
check "each read of another pid's clock went home ($((fwd1 - fwd0)) >= $READS forwarded)" \
    [ "$((fwd1 - fwd0))" -ge "$READS" ]
check "still on node 2" ps_q 1 "$JOB" "p['where'] == 2"
check "SIGUSR1 again: it checks /proc/self" node_exec 1 kill -USR1 "$JOB"
wait_pid "$OMRUN" 30
sed 's/^/# gs: /' "$N1T/gs.out" "$N1T/gs.err"
check "guestself: PASS, exit 0 (got $RC)" \
    [ "$RC" -eq 0 -a "$(tail -n 1 "$N1T/gs.out")" = "PASS guestself" ]
check "the log: home from node 2 for the timer on another pid's clock" \
    grep -q "process $JOB: home from node node2 (a call needs home: timer_create)" "$LOG1"
check "no guest left on node 2" within 3 [ -z "$(guest_pids 2)" ]
[ -n "$HOG" ] && kill "$HOG" 2>/dev/null
finish
