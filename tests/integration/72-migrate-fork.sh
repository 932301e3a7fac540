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
: "${OMM_BUILD:?OMM_BUILD must point at the build tree}"
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
for _fd in /proc/$$/fd/*; do
	_fd=${_fd##*/}
	[ "$_fd" -gt 2 ] && [ "$_fd" -ne 255 ] && eval "exec $_fd>&-" 2>/dev/null
done
. "$OMM_SRC/tests/cluster/cluster.sh"
. "$OMM_SRC/tests/cluster/fabric.sh"
PY=/usr/bin/python3
for p in $PY "$OMM_BUILD/omrun" "$OMM_BUILD/omctl" "$OMM_BUILD/ommd"; do
	[ -x "$p" ] || { echo "missing $p" >&2; echo "0 passed, 0 failed, 1 skipped"; exit 0; }
done
id omm-guest >/dev/null 2>&1 ||
    { echo "no user omm-guest (tests/deps.sh)" >&2; echo "0 passed, 0 failed, 1 skipped"; exit 0; }

# quiet CMD...: CMD with its stdout discarded (check prints its own line)
quiet() { "$@" >/dev/null; }
ps_q() {
	node_omctl "$1" ps --json 2>/dev/null | $PY -c '
import json, sys
try:
    d = json.load(sys.stdin)
except Exception:
    sys.exit(1)
p = {x["pid"]: x for x in d["processes"]}.get(int(sys.argv[1]))
sys.exit(0 if p is not None and eval(sys.argv[2]) else 1)' "$2" "$3"
}
guest_pids() {
	local p
	for p in $(ip netns pids "$(_cl_ns "$1")" 2>/dev/null); do
		[ "$(stat -c %U /proc/"$p" 2>/dev/null)" = omm-guest ] && echo "$p"
	done
	return 0
}
wait_pid() {
	local n=$(( $2 * 10 ))
	while kill -0 "$1" 2>/dev/null && [ "$n" -gt 0 ]; do
		[ "$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null)" = Z ] && break
		sleep 0.1
		n=$((n - 1))
	done
	if [ "$n" -le 0 ]; then
		kill -KILL $(pgrep -P "$1") "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		RC=124
		return
	fi
	RC=0
	wait "$1" || RC=$?
}

CLUSTER_CONF_EXTRA=$(fabric_conf map)
if ! cluster_up 2 >/dev/null; then
	bad "cluster_up 2"
	finish
	exit 1
fi
started=1
for i in 1 2; do node_start "$i" -v || started=0; done
check "nodes 1-2 started" [ "$started" -eq 1 ]
check "nodes 1-2 see each other" within 10 all_see_up "1 2" 1 2
N1T=$(node_dir 1)/tmp
LOG1=$(node_dir 1)/log/ommd.log

mkfifo "$N1T/fifo"
node_exec 1 "$OMM_BUILD/omrun" --pidfile /tmp/sh.pid sh -c \
    'read x </tmp/fifo; for i in $(seq 50); do echo $i; done | sort -n | tail -1' \
    </dev/null >"$N1T/out" 2>"$N1T/err" &
OMRUN=$!
within 5 test -s "$N1T/sh.pid"
SH=$(cat "$N1T/sh.pid" 2>/dev/null)
if [ -z "$SH" ]; then
	bad "omrun wrote no pidfile"
	finish
	exit 1
fi
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
check "it printed 50 (got '$(head -c 100 "$N1T/out")')" [ "$(cat "$N1T/out")" = 50 ]
check "nothing on stderr ($(head -c 200 "$N1T/err"))" [ ! -s "$N1T/err" ]
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
rm -f "$N1T/sh.pid" "$N1T/out"
mkfifo "$N1T/fifo2"
node_exec 1 "$OMM_BUILD/omrun" --pidfile /tmp/sh.pid sh -c \
    'read x </tmp/fifo; seq 50 | sort -n | (read x </tmp/fifo2; tail -1)' \
    </dev/null >"$N1T/out" 2>"$N1T/err" &
OMRUN=$!
within 5 test -s "$N1T/sh.pid"
SH=$(cat "$N1T/sh.pid" 2>/dev/null)
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
    [ "$RC" -eq 0 -a "$(cat "$N1T/out")" = 50 ]
if [ "$fail" -ne 0 ]; then
	for i in 1 2; do
		grep -E "process ($SH1|$SH)[ :]|home 1:($SH1|$SH)\)" "$(node_dir $i)/log/ommd.log" |
		    grep -Ev "(dump|restore) [0-9]+: " | sed "s/^/# node$i: /"
	done
fi
finish
