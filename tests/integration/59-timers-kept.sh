#!/bin/bash
# 59-timers-kept.sh: issue 12, section 2: timers. tests/progs/timers holds
# every kind at once (alarm/ITIMER_REAL, ITIMER_VIRTUAL, ITIMER_PROF, POSIX
# timers on CLOCK_REALTIME, MONOTONIC, BOOTTIME and the process's CPU clock
# with SIGEV_SIGNAL, SIGEV_NONE and SIGEV_THREAD_ID, one whose signal is
# pending across every move) and checks at each SIGUSR1 that each kept
# what was left of it. On node 1 of a 3-node cluster, `timers 3` runs:
#
#   reference       plainly, without omm;
#   kill            under omrun, `omctl checkpoint --kill` once READY,
#                   `omrun --restore`, the three checks in the restored copy;
#   leave-running   `omctl checkpoint --leave-running`, restored beside the
#                   original (its stdout a pipe, so the copy writes to the
#                   restoring omrun's): both make the three checks;
#   migrate         moved 1 -> 2 (check 1) -> 3 (check 2) -> home (check 3).
#
# Each output must be byte-identical to the reference (the copy beside a
# left-running original: without the READY line it printed before the
# dump), every status 0. The image must show the timers (omctl image info
# --json). Each check also makes a timer where it runs (a guest makes it
# locally and stays). `timers tid` moved to node 2 makes a SIGEV_THREAD_ID
# timer to its own thread: the tid it knows is a home one, so it comes home
# for it, and the timer fires. `timers thread` (a SIGEV_THREAD timer:
# glibc's helper thread) must be refused by checkpoint and migrate naming
# SIGEV_THREAD, and go on.
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/migrate.sh"
PROG=$OMM_BUILD/tests/progs/timers
migrate_need "$PROG"

migrate_cluster 3

has_line() { grep -Eq -- "$2" "$1" 2>/dev/null; }
# trigger PID FILE N: SIGUSR1 to PID, then FILE says "check N:" within 20 s
# (a check burns some CPU and waits for periodic timers).
trigger() {
	kill -USR1 "$1" 2>/dev/null && within 20 has_line "$2" "^check $3:"
}
ready() { within 10 test -e "$N1T/$1.ready"; }
same() {
	if cmp -s "$1" "$2"; then
		ok "$3: output identical to the uninterrupted run"
	else
		bad "$3: output differs: $(diff "$1" "$2" | head -5 | tr '\n' '|')"
	fi
}
# start NAME: omrun timers 3 on node 1, stdout to NAME.out (a file opened
# inside node 1, so that the image names its path there), as job_start.
start() {
	rm -f "$N1T/$1.ready" "$N1T/$1.pid"
	export W=$1
	node_exec 1 /bin/sh -c 'exec "$@" </dev/null >"/tmp/$W.out" \
	    2>"/tmp/$W.err"' sh "$OMM_BUILD/omrun" --pidfile "/tmp/$1.pid" \
	    env PROG_READY="/tmp/$1.ready" "$PROG" 3 &
	OMRUN=$!
	within 5 test -s "$N1T/$1.pid" && JOB=$(cat "$N1T/$1.pid") && ready "$1"
}
# restore NAME IMG: omrun --restore IMG on node 1, stdout NAME.out; RJ its pid.
restore() {
	rm -f "$N1T/$1.pid"
	node_exec 1 "$OMM_BUILD/omrun" --pidfile "/tmp/$1.pid" --restore \
	    "/tmp/$2" </dev/null >"$N1T/$1.out" 2>"$N1T/$1.err" &
	REST=$!
	within 10 test -s "$N1T/$1.pid" && RJ=$(cat "$N1T/$1.pid")
}
errs() { [ -s "$N1T/$1.err" ] && echo "# $1: $(head -c 400 "$N1T/$1.err")"; return 0; }

# --- reference
rm -f "$N1T/ref.ready"
node_exec 1 env PROG_READY=/tmp/ref.ready "$PROG" 3 </dev/null \
    >"$N1T/ref.out" 2>"$N1T/ref.err" &
ref=$!
if ready ref; then
	rp=$(pgrep -o -f "^$PROG 3\$")
	for n in 1 2 3; do
		check "reference: check $n" trigger "$rp" "$N1T/ref.out" $n
	done
fi
wait "$ref"
rc=$?
check "reference: PASS, status 0 ($rc)" [ "$rc" -eq 0 ]
has_line "$N1T/ref.out" '^PASS timers$' || give_up "reference: $(tail -3 "$N1T/ref.err")"

# --- checkpoint --kill, restore
if start kill; then
	if node_omctl 1 checkpoint "$JOB" -o /tmp/timers.img --kill \
	    >"$N1T/kill.ckpt" 2>&1; then
		ok "kill: checkpointed: $(cat "$N1T/kill.ckpt")"
	else
		bad "kill: checkpoint: $(cat "$N1T/kill.ckpt")"
	fi
	wait_pid "$OMRUN" 10
	node_omctl 1 image info /tmp/timers.img --json >"$N1T/info.json" 2>&1
	check "kill: image info shows 3 itimers (alarm armed) and 6 POSIX timers" \
	    $PY -c '
import json, sys
t = json.load(open(sys.argv[1]))["timers"]
real = [i for i in t["itimers"] if i["which"] == "real"][0]
kinds = sorted(p["notify"] for p in t["posix"])
clocks = sorted(p["clock_name"] for p in t["posix"])
sys.exit(0 if len(t["itimers"]) == 3 and real["value_ns"] > 0 and
    len(t["posix"]) == 6 and kinds.count("none") == 1 and
    kinds.count("thread_id") == 1 and
    clocks.count("process_cpu_sched") == 2 and
    "boottime" in clocks and "realtime" in clocks else 1)' "$N1T/info.json"
	# stdout was a file: the restored copy writes on in it
	if restore kill.r timers.img; then
		for n in 1 2 3; do
			check "kill: restored: check $n" trigger "$RJ" "$N1T/kill.out" $n
		done
	else
		bad "kill: restore failed: $(head -c 400 "$N1T/kill.r.err")"
	fi
	wait_pid "$REST" 30
	check "kill: restored: exit status 0 ($RC)" [ "$RC" -eq 0 ]
	same "$N1T/ref.out" "$N1T/kill.out" "kill: checkpoint+restore"
	errs kill; errs kill.r
else
	bad "kill: the job did not start"
fi

# --- checkpoint --leave-running, restored beside the original
rm -f "$N1T/lr.ready" "$N1T/lr.pid"
node_exec 1 /bin/sh -c 'exec "$@" </dev/null 2>/tmp/lr.err | cat >/tmp/lr.out' \
    sh "$OMM_BUILD/omrun" --pidfile /tmp/lr.pid env PROG_READY=/tmp/lr.ready \
    "$PROG" 3 &
OMRUN=$!
if within 5 test -s "$N1T/lr.pid" && ready lr; then
	JOB=$(cat "$N1T/lr.pid")
	if node_omctl 1 checkpoint "$JOB" -o /tmp/timers-lr.img --leave-running \
	    >"$N1T/lr.ckpt" 2>&1; then
		ok "leave-running: checkpointed: $(cat "$N1T/lr.ckpt")"
	else
		bad "leave-running: checkpoint: $(cat "$N1T/lr.ckpt")"
	fi
	if restore lr.r timers-lr.img; then
		for n in 1 2 3; do
			check "leave-running: the copy: check $n" \
			    trigger "$RJ" "$N1T/lr.r.out" $n
		done
	else
		bad "leave-running: restore failed: $(head -c 400 "$N1T/lr.r.err")"
	fi
	wait_pid "$REST" 30
	check "leave-running: the copy: exit status 0 ($RC)" [ "$RC" -eq 0 ]
	for n in 1 2 3; do
		check "leave-running: the original: check $n" \
		    trigger "$JOB" "$N1T/lr.out" $n
	done
	wait_pid "$OMRUN" 30
	check "leave-running: the original: exit status 0 ($RC)" [ "$RC" -eq 0 ]
	same "$N1T/ref.out" "$N1T/lr.out" "leave-running: the original"
	tail -n +2 "$N1T/ref.out" >"$N1T/ref.noready"
	same "$N1T/ref.noready" "$N1T/lr.r.out" "leave-running: the copy"
	errs lr; errs lr.r
else
	bad "leave-running: the job did not start"
	wait_pid "$OMRUN" 10
fi

# --- migration 1 -> 2 -> 3 -> home, a check on each
if start mig; then
	mj=$JOB
	if check "migrate: to node 2" migrate_to "$mj" 2; then
		check "migrate: check 1 on node 2" trigger "$mj" "$N1T/mig.out" 1
		check "migrate: still on node 2" ps_q 1 "$mj" "p['where'] == 2"
	fi
	if check "migrate: node 2 -> node 3" migrate_to "$mj" 3; then
		check "migrate: check 2 on node 3" trigger "$mj" "$N1T/mig.out" 2
		check "migrate: still on node 3" ps_q 1 "$mj" "p['where'] == 3"
	fi
	check "migrate: omctl migrate $mj home" quiet node_omctl 1 migrate "$mj" home
	check "migrate: home again" ps_q 1 "$mj" "p['where'] == 1 and p['away'] == 'home'"
	check "migrate: check 3 at home" trigger "$mj" "$N1T/mig.out" 3
	wait_pid "$OMRUN" 30
	check "migrate: exit status 0 ($RC)" [ "$RC" -eq 0 ]
	same "$N1T/ref.out" "$N1T/mig.out" "migration 1 -> 2 -> 3 -> home"
	errs mig
	[ "$fail" -eq 0 ] || logs_of "$mj"
else
	bad "migrate: the job did not start"
	wait_pid "$OMRUN" 10
fi

# --- a SIGEV_THREAD_ID timer made while away names the home tid: made at home
rm -f "$N1T/tid.ready"
if job_start tid env PROG_READY=/tmp/tid.ready "$PROG" tid && ready tid; then
	if check "tid: migrated to node 2" migrate_to "$JOB" 2; then
		check "tid: its check" trigger "$JOB" "$N1T/tid.out" 1
		# it ends right after its check: the log, not ps, says where
		check "tid: brought home by its timer_create (node 1's log)" \
		    grep -q "process $JOB: home from node node2 (a call needs \
home: timer_create)" "$LOG1"
	fi
	wait_pid "$OMRUN" 20
	check "tid: exit status 0 ($RC), PASS" \
	    eval '[ "$RC" -eq 0 ] && has_line "$N1T/tid.out" "^PASS timers\$"'
	errs tid
else
	bad "tid: the job did not start"
	wait_pid "$OMRUN" 10
fi

# --- SIGEV_THREAD: refused by name, and the process goes on
rm -f "$N1T/thr.ready"
if job_start thr env PROG_READY=/tmp/thr.ready "$PROG" thread && ready thr; then
	node_omctl 1 checkpoint "$JOB" -o /tmp/thr.img --kill >"$N1T/thr.ckpt" 2>&1 &&
	    bad "thread: a SIGEV_THREAD timer was checkpointed"
	check "thread: checkpoint refused naming SIGEV_THREAD: $(cat "$N1T/thr.ckpt")" \
	    has_line "$N1T/thr.ckpt" "POSIX timer [0-9-]+ notifies by SIGEV_THREAD"
	node_omctl 1 migrate "$JOB" node2 >"$N1T/thr.mig" 2>&1 &&
	    bad "thread: a SIGEV_THREAD timer was migrated"
	check "thread: migrate refused naming SIGEV_THREAD: $(cat "$N1T/thr.mig")" \
	    has_line "$N1T/thr.mig" "SIGEV_THREAD"
	# the reason shows in ps before anyone tries (the cantmove digest)
	check "thread: omctl ps says why it cannot move" within 10 \
	    ps_q 1 "$JOB" "'notifies by SIGEV_THREAD' in (p['cantmove'] or '')"
	check "thread: it goes on" trigger "$JOB" "$N1T/thr.out" 1
	wait_pid "$OMRUN" 20
	check "thread: exit status 0 ($RC)" [ "$RC" -eq 0 ]
else
	bad "thread: the job did not start"
	wait_pid "$OMRUN" 10
fi
check "nodes 2, 3: no omm-guest process left" \
    within 5 [ -z "$(guest_pids 2)$(guest_pids 3)" ]
finish
