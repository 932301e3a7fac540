#!/bin/bash
# 92-daemon-restart.sh: issue 11, acceptance 2. A restart of ommd keeps
# every job. Three jobs run while each involved ommd is killed (SIGKILL)
# and started again, then stopped (SIGTERM) and started again:
#   A  a job of node 1 that stays at home;
#   B  a job of node 1 running away on node 2;
#   C  a job of node 2 running as a guest on node 1.
# After each restart the node's `omctl ps` shows the same processes (pid,
# job, command, where they run) as before, and the jobs run on. SIGKILL
# moves nothing; SIGTERM sends the guests of the stopping node home (a
# stopping host keeps nobody's process) and leaves its own jobs where they
# are. At the end every job's output is byte-identical to an uninterrupted
# run and its status is 0.
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/migrate.sh"
migrate_need

N=${TICKS:-1600}	# 50 ms each: 80 s, longer than the restarts take

migrate_cluster 3
make_tick
N2T=$(node_dir 2)/tmp
cp "$N1T/tick.py" "$N2T/tick.py"
seq 0 $((N - 1)) >"$N1T/ref.out"

# start_on NODE NAME: tick.py N under omrun on NODE; sets PID_NAME (the
# job's pid there) and OMRUN_NAME (omrun's pid here)
start_on() {
	local node=$1 name=$2 t
	t=$(node_dir "$node")/tmp
	rm -f "$t/$name.pid"
	node_exec "$node" "$OMM_BUILD/omrun" --pidfile "/tmp/$name.pid" \
	    $PY /tmp/tick.py "$N" </dev/null >"$t/$name.out" 2>"$t/$name.err" &
	eval "OMRUN_$name=$!"
	within 5 test -s "$t/$name.pid" || return 1
	eval "PID_$name=$(cat "$t/$name.pid")"
}

# ps_of I: node I's processes, one "pid job where command" line each, sorted
ps_of() {
	node_omctl "$1" ps --json 2>/dev/null | $PY -c '
import json, sys
d = json.load(sys.stdin)
for p in sorted(d["processes"], key=lambda p: p["pid"]):
    print(p["pid"], p["job"], p["where"], p["command"])'
}

# same_ps I FILE: node I's ps is FILE's
same_ps() { diff -u "$2" <(ps_of "$1") >"$2.diff"; }

# guests_on I: how many guests node I hosts
guests_on() {
	node_omctl "$1" status --json 2>/dev/null |
	    $PY -c 'import json,sys; print(json.load(sys.stdin)["node"]["guests"])'
}

alive_job() { kill -0 "$1" 2>/dev/null; }

start_on 1 A || give_up "job A on node 1 ($(cat "$N1T/A.err"))"
start_on 1 B || give_up "job B on node 1 ($(cat "$N1T/B.err"))"
start_on 2 C || give_up "job C on node 2 ($(cat "$N2T/C.err"))"
check "B migrates to node 2" migrate_to "$PID_B" 2
check "C migrates to node 1" quiet node_omctl 2 migrate "$PID_C" node1
check "node 2's ps: C on node 1" within 5 ps_q 2 "$PID_C" "p['where'] == 1"
check "node 1 hosts C" within 5 [ "$(guests_on 1)" = 1 ]
check "node 2 hosts B" within 5 [ "$(guests_on 2)" = 1 ]

# restart SIG I: node I's ommd gets SIG and starts again, balancer off
restart() {
	if [ "$1" = KILL ]; then node_kill "$2"; else node_stop "$2"; fi &&
	    node_start "$2" -v &&
	    node_omctl "$2" set balance off >/dev/null
}

# 1. SIGKILL of node 1 (home of A and B, host of C): nothing moves
ps_of 1 >"$N1T/ps1.before"
ps_of 2 >"$N1T/ps2.before"
check "node 1's ps lists A, B (and nothing else of node 1)" \
    [ "$(awk '{print $1}' "$N1T/ps1.before" | sort -n | tr '\n' ' ')" = \
      "$(printf '%s\n' "$PID_A" "$PID_B" | sort -n | tr '\n' ' ')" ]
check "SIGKILL node 1, start it again" restart KILL 1
check "node 1 sees nodes 2 and 3 again" within 15 all_see_up 1 1 2 3
check "after SIGKILL of node 1: its ps is the same" within 10 same_ps 1 "$N1T/ps1.before"
[ -s "$N1T/ps1.before.diff" ] && sed 's/^/# /' "$N1T/ps1.before.diff"
check "after SIGKILL of node 1: it hosts C again" within 10 [ "$(guests_on 1)" = 1 ]
check "after SIGKILL of node 1: node 2's ps is the same" same_ps 2 "$N1T/ps2.before"
check "after SIGKILL of node 1: A, B and C still run" \
    eval 'alive_job $OMRUN_A && alive_job $OMRUN_B && alive_job $OMRUN_C'
check "A's output still grows" grows "$N1T/A.out" 1
check "C's output still grows" grows "$N2T/C.out" 1

# 2. SIGKILL of node 2 (host of B, home of C)
ps_of 1 >"$N1T/ps1.before"
ps_of 2 >"$N1T/ps2.before"
check "SIGKILL node 2, start it again" restart KILL 2
check "node 2 sees nodes 1 and 3 again" within 15 all_see_up 2 1 2 3
check "after SIGKILL of node 2: its ps is the same" within 10 same_ps 2 "$N1T/ps2.before"
[ -s "$N1T/ps2.before.diff" ] && sed 's/^/# /' "$N1T/ps2.before.diff"
check "after SIGKILL of node 2: it hosts B again" within 10 [ "$(guests_on 2)" = 1 ]
check "after SIGKILL of node 2: node 1's ps is the same" same_ps 1 "$N1T/ps1.before"
check "B's output still grows" grows "$N1T/B.out" 1

# 3. SIGTERM of node 1: its jobs stay where they are; C goes home
ps_of 1 >"$N1T/ps1.before"
check "SIGTERM node 1, start it again" restart TERM 1
check "node 1 sees nodes 2 and 3 again" within 15 all_see_up 1 1 2 3
check "after SIGTERM of node 1: its ps is the same" within 10 same_ps 1 "$N1T/ps1.before"
[ -s "$N1T/ps1.before.diff" ] && sed 's/^/# /' "$N1T/ps1.before.diff"
check "after SIGTERM of node 1: C came home to node 2" \
    within 10 ps_q 2 "$PID_C" "p['away'] == 'home'"
check "node 1 hosts nothing now" within 5 [ "$(guests_on 1)" = 0 ]

# 4. SIGTERM of node 2: B goes home to node 1, C (home) stays
ps_of 2 >"$N1T/ps2.before"
check "SIGTERM node 2, start it again" restart TERM 2
check "node 2 sees nodes 1 and 3 again" within 15 all_see_up 2 1 2 3
check "after SIGTERM of node 2: its ps is the same" within 10 same_ps 2 "$N1T/ps2.before"
[ -s "$N1T/ps2.before.diff" ] && sed 's/^/# /' "$N1T/ps2.before.diff"
check "after SIGTERM of node 2: B came home to node 1" \
    within 10 ps_q 1 "$PID_B" "p['away'] == 'home'"

check "the jobs were still running after the restarts (else the test proves nothing)" \
    eval 'alive_job $OMRUN_A && alive_job $OMRUN_B && alive_job $OMRUN_C'

for j in A B C; do
	eval "op=\$OMRUN_$j"
	wait_pid "$op" 150
	check "job $j: omrun exits 0 (got $RC)" [ "$RC" -eq 0 ]
	case $j in C) d=$N2T ;; *) d=$N1T ;; esac
	check "job $j: output identical to an uninterrupted run" \
	    cmp "$N1T/ref.out" "$d/$j.out"
	[ -s "$d/$j.err" ] && sed "s/^/# $j stderr: /" "$d/$j.err" | head -5
done
for i in 1 2 3; do
	check "node $i: no guest left" within 5 [ "$(guests_on "$i")" = 0 ]
done
check "no sanitizer report in the nodes' logs" \
    not grep -l "Sanitizer" $(for i in 1 2 3; do echo "$(node_dir "$i")/log/ommd.log"; done)
finish
