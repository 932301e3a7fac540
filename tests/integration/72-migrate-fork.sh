#!/bin/bash
# 72-migrate-fork.sh: issue 5, acceptance 3. A shell script that forks,
# started with omrun on node 1 and migrated to node 2 before its first fork:
#   omrun sh -c 'read x </tmp/fifo; for i in $(seq 50); do echo $i; done |
#                sort -n | tail -1'
# It waits in the fifo's open (a forwarded call, served at home) while it
# moves; once released, its first fork brings it home (fork cannot run on a
# host), the forks run natively at home, and it prints 50 with status 0.
# Afterwards ps --json says it is home with 1 migration, and node 1's log
# shows every process of the job managed (seq, sort and tail were exec'd by
# managed children of the shell).
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/migrate.sh"
migrate_need
migrate_cluster 2

mkfifo "$N1T/fifo"
job_start sh sh -c \
    'read x </tmp/fifo; for i in $(seq 50); do echo $i; done | sort -n | tail -1' ||
    give_up "omrun wrote no pidfile"
SH=$JOB
sleep 0.3
check "sh $SH (waiting in open of the fifo) migrates to node2" \
    quiet node_omctl 1 migrate "$SH" node2
check "ps: it runs on node 2, 1 migration" \
    ps_q 1 "$SH" "p['where'] == 2 and p['away'] == 'remote' and p['migrations'] == 1"
check "node 2 has its guest" [ -n "$(guest_pids 2)" ]
SH1=$SH
sleep 0.5
check "still on node 2, waiting for the fifo" ps_q 1 "$SH" "p['where'] == 2"
t=$(now_ms)
echo go >"$N1T/fifo"
wait_pid "$OMRUN" 30
check "omrun exits 0 (got $RC) $(( $(now_ms) - t )) ms after the fifo opened" [ "$RC" -eq 0 ]
check "it printed 50 (got '$(head -c 100 "$N1T/sh.out")')" [ "$(cat "$N1T/sh.out")" = 50 ]
check "nothing on stderr ($(head -c 200 "$N1T/sh.err"))" [ ! -s "$N1T/sh.err" ]
# the shell is gone now; the log tells where it went
check "node 1's log: brought home by its fork" \
    grep -Eq "process $SH: home from node node2 \((a call needs home|.*fork|.*clone)" "$LOG1"
check "node 2's log: the guest left for home" \
    grep -q "home 1:$SH) left" "$(node_dir 2)/log/ommd.log"
# every process of the job was managed: the shell's children exec'd seq,
# sort and tail (and, for the pipeline, may have forked subshells)
for c in seq sort tail; do
	check "node 1's log: $c ran as a managed process of job 1" \
	    grep -Eq "process [0-9]+ exec: (/usr/bin/)?$c( |$)" "$LOG1"
done
check "no process of the job left unmanaged-and-running on node 1" \
    within 3 [ -z "$(node_exec 1 pgrep -f 'seq 50|sort -n|tail -1')" ]
check "no guest left on node 2" within 3 [ -z "$(guest_pids 2)" ]

# the same with the shell held home after its fork: ps during the run shows
# every child in the shell's job, at home
mkfifo "$N1T/fifo2"
job_start sh sh -c \
    'read x </tmp/fifo; seq 50 | sort -n | (read x </tmp/fifo2; tail -1)'
SH=$JOB
sleep 0.3
check "second sh $SH migrates to node2" quiet node_omctl 1 migrate "$SH" node2
echo go >"$N1T/fifo"
sleep 1
check "ps: the shell is home again after forking, 1 migration" \
    ps_q 1 "$SH" "p['where'] == 1 and p['away'] == 'home' and p['migrations'] == 1"
kids() {
	node_omctl 1 ps --json | $PY -c '
import json, sys
d = json.load(sys.stdin)["processes"]
sh = [p for p in d if p["pid"] == int(sys.argv[1])][0]
kids = [p for p in d if p["ppid"] == sh["pid"]]
ok = len(kids) >= 1 and all(p["job"] == sh["job"] for p in kids)
sys.exit(0 if ok else 1)' "$1"
}
check "ps: the shell's children are managed, in its job" kids "$SH"
echo go >"$N1T/fifo2"
wait_pid "$OMRUN" 30
check "second: omrun exits 0 (got $RC) and printed 50" \
    [ "$RC" -eq 0 -a "$(cat "$N1T/sh.out")" = 50 ]
[ "$fail" -eq 0 ] || logs_of -a "$SH1" "$SH"
finish
