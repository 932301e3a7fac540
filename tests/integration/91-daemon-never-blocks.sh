#!/bin/bash
# 91-daemon-never-blocks.sh: issue 11, acceptance 1. While node 1 works on
#   - a restore from a FIFO whose writer never writes,
#   - a checkpoint into a FIFO whose reader never reads,
#   - a checkpoint of a 2 GiB process, and
#   - a migration of a 1 GiB process to node 2,
# its ommd answers `omctl ps` from root every 100 ms (the worst latency is
# printed; a blocked loop shows as seconds, a loaded machine as tens of
# ms) and node 2 never sees node 1 down. The stalled FIFO operations fail
# with an error naming the stall, and the processes go on.
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/migrate.sh"
migrate_need
SOAK=$OMM_BUILD/tests/progs/soak
[ -x "$SOAK" ] || SOAK=$(find "$OMM_BUILD" -name soak -type f -perm -u+x | head -1)
[ -x "$SOAK" ] || _mig_skip "soak not built"
avail_kb=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
[ "$avail_kb" -gt $((5 * 1024 * 1024)) ] ||
    _mig_skip "needs 5 GiB of free memory (2 GiB + 1 GiB processes, their images)"

# the soak's file mapping must be the same file on every node
SH=$(umask 022; mktemp -d /var/tmp/omm-t91.XXXXXX) && chmod 755 "$SH" || give_up "mktemp"
PROBE=
# Set before the cluster starts: the harness's EXIT trap runs it after its
# own teardown; a trap set after migrate_cluster would replace the
# teardown and leave the nodes running (and ctest waiting on their output).
t91_cleanup() {
	if [ -n "$PROBE" ]; then
		kill "$PROBE" 2>/dev/null	# its node may be gone already
		wait "$PROBE" 2>/dev/null
	fi
	rm -rf "$SH"
}
trap t91_cleanup EXIT
migrate_cluster 2
make_tick

# the prober: node 1's ps every 100 ms, and right before it the same
# omctl through the same nsenter without asking ommd anything (-h: its
# usage), the floor a loaded machine sets: one line "PS FLOOR" in ms each
# (or "timeout"); node 2's view of node 1 every 500 ms
probe() {
	local t0 t1 t2 k=0
	while [ ! -e "$N1T/probe.stop" ]; do
		t0=$(now_ms)
		timeout 5 nsenter -t "$HP1" -n -m -u -- \
		    "$OMM_BUILD/omctl" -h >/dev/null 2>&1
		t1=$(now_ms)
		if timeout 5 nsenter -t "$HP1" -n -m -u -- \
		    "$OMM_BUILD/omctl" ps --json >/dev/null 2>&1; then
			t2=$(now_ms)
			echo "$((t2 - t1)) $((t1 - t0))" >>"$N1T/ps.ms"
		else
			echo timeout >>"$N1T/ps.ms"
		fi
		k=$((k + 1))
		if [ $((k % 5)) -eq 0 ]; then
			nodes_q 2 "n[1]['state'] == 'up'" >/dev/null 2>&1 ||
			    echo "$(date +%T.%N) node 2 sees node 1 not up" >>"$N1T/down.log"
		fi
		sleep 0.1
	done
}
HP1=$(cat "$CLUSTER_DIR/n1/holder.pid")
: >"$N1T/ps.ms"
: >"$N1T/down.log"
probe &
PROBE=$!

# 1 and 2: the stalled FIFOs, side by side
# omctl checkpoint -o F writes F.part, then renames it: F.part is the FIFO
node_exec 1 mkfifo /tmp/silent.fifo /tmp/unread.img.part
# a writer that opens the FIFO and never writes
node_exec 1 sh -c 'exec sleep 600 >/tmp/silent.fifo' &
SILENT_W=$!
node_exec 1 "$OMM_BUILD/omrun" --restore /tmp/silent.fifo \
    </dev/null >"$N1T/silent.out" 2>"$N1T/silent.err" &
SILENT=$!
job_start tick $PY /tmp/tick.py 0 || give_up "tick job ($(cat "$N1T/tick.err"))"
TICK=$JOB TICK_OMRUN=$OMRUN
# a reader that opens the FIFO and never reads
node_exec 1 sh -c 'exec sleep 600 </tmp/unread.img.part' &
UNREAD_R=$!
node_exec 1 "$OMM_BUILD/omctl" checkpoint "$TICK" -o /tmp/unread.img \
    >"$N1T/unread.out" 2>"$N1T/unread.err" &
UNREAD=$!

# 3: 2 GiB checkpointed to a file while the FIFOs hang
job_start big env TMPDIR="$SH" "$SOAK" 2048 ||
    give_up "2 GiB job ($(cat "$N1T/big.err"))"
BIG=$JOB BIG_OMRUN=$OMRUN
# soak fills its memory before its first sweep: wait until it is resident
check "the 2 GiB process is resident" within 120 eval \
    '[ "$(awk "/VmRSS/ {print \$2}" /proc/$BIG/status 2>/dev/null || echo 0)" -gt 2000000 ]'
t0=$(now_ms)
check "2 GiB checkpoint succeeds" \
    quiet node_omctl 1 checkpoint "$BIG" -o /tmp/big.img
echo "# 2 GiB checkpoint: $(( $(now_ms) - t0 )) ms, image $(size "$N1T/big.img") bytes"
rm -f "$N1T/big.img"
kill -TERM "$BIG" 2>/dev/null
wait_pid "$BIG_OMRUN" 60
check "the 2 GiB process passes its own check after the checkpoint (status $RC)" \
    [ "$RC" -eq 0 ]

# 4: 1 GiB migrated to node 2 and back
job_start mid env TMPDIR="$SH" "$SOAK" 1024 || give_up "1 GiB job ($(cat "$N1T/mid.err"))"
MID=$JOB MID_OMRUN=$OMRUN
check "the 1 GiB process is resident" within 120 eval \
    '[ "$(awk "/VmRSS/ {print \$2}" /proc/$MID/status 2>/dev/null || echo 0)" -gt 1000000 ]'
t0=$(now_ms)
check "1 GiB process migrates to node 2" migrate_to "$MID" 2
echo "# 1 GiB migration: $(( $(now_ms) - t0 )) ms"
check "and comes home" quiet node_omctl 1 migrate "$MID" home
kill -TERM "$MID" 2>/dev/null
wait_pid "$MID_OMRUN" 60
check "the 1 GiB process passes its own check after the moves (status $RC)" \
    [ "$RC" -eq 0 ]

# the FIFO operations end by their stall limit
wait_pid "$SILENT" 90
check "restore from the silent FIFO fails (status $RC)" [ "$RC" -ne 0 -a "$RC" -ne 124 ]
check "... naming the stall" grep -q "nothing came for" "$N1T/silent.err"
wait_pid "$UNREAD" 90
check "checkpoint into the unread FIFO fails (status $RC)" [ "$RC" -ne 0 -a "$RC" -ne 124 ]
check "... naming the stall" grep -q "took nothing for" "$N1T/unread.err"
check "the process whose checkpoint failed runs on" grows "$N1T/tick.out" 1
kill "$SILENT_W" "$UNREAD_R" 2>/dev/null
kill -TERM "$TICK" 2>/dev/null
wait_pid "$TICK_OMRUN" 10

touch "$N1T/probe.stop"
wait "$PROBE" 2>/dev/null
n=$(grep -c . "$N1T/ps.ms")
to=$(grep -c timeout "$N1T/ps.ms")
# ps's time over the floor's in each pair: what ommd itself took
grep -v timeout "$N1T/ps.ms" | awk '{ print $1 - $2, $1, $2 }' | sort -n >"$N1T/ps.excess"
worst=$(tail -1 "$N1T/ps.excess")
median=$(awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}' "$N1T/ps.excess")
wps=$(awk '{print $2}' "$N1T/ps.excess" | sort -n | tail -1)
wfl=$(awk '{print $3}' "$N1T/ps.excess" | sort -n | tail -1)
echo "# omctl ps on node 1: $n asked; over the floor (the same omctl, not asking): median ${median:-?} ms, worst ${worst%% *} ms (ps ${wps:-?} ms at worst, the floor ${wfl:-?} ms at worst)"
check "ps answered all $n times (no 5 s timeout)" [ "$n" -gt 50 -a "$to" -eq 0 ]
# A blocked event loop shows as the stall (30 s) or the checkpoint (many
# seconds); a loaded machine as tens or hundreds of ms. The 100 ms goal
# is bench/'s: this asserts that nothing waited on the work.
check "ps never took 3 s more than the floor (worst ${worst%% *} ms)" \
    [ "${worst%% *}" -lt 3000 ]
check "node 2 never saw node 1 down" [ ! -s "$N1T/down.log" ]
[ -s "$N1T/down.log" ] && head -3 "$N1T/down.log" | sed 's/^/# /'
check "no sanitizer report in the nodes' logs" \
    not grep -l "Sanitizer" "$(node_dir 1)/log/ommd.log" "$(node_dir 2)/log/ommd.log"
finish
