#!/bin/bash
# bench/migrate.sh: what migration costs, against what the link and the
# machine give, all measured in one run on a 2-node namespace cluster
# (tests/cluster/cluster.sh): node 1 is home, node 2 the host.
#
#  link     TLS throughput node1 -> node2 through src/miglink.c (256 MiB of
#           MIG_IMAGE frames, bench/migrate-link), TLS and TCP round trips.
#  move     bench/migrate-mem N (N MiB of non-zero memory, spinning on the
#           vDSO clock) started with omrun on node 1, moved by omctl
#           migrate; freeze-to-resume is the longest step the process saw
#           in its own clock (from its last instruction at home to its
#           first on node 2), bytes are the image's (ommd's log) and those
#           that crossed node 1's veth. Ratio: image bytes per second of
#           freeze-to-resume over the TLS throughput.
#  calls    bench/migrate-calls at home and migrated: getppid() and a 4 KiB
#           read() (median, p99), 1 MiB write()/read() throughput on a file
#           in node 1's /tmp; ratios to home.
#  cpu      xz -6 -T1 of generated text: omrun at home vs omrun --on node2,
#           best of ROUNDS wall times.
#  floor    one seccomp user-notification round trip (tests/tools/fwdloop
#           -b: "a notification answered at once") plus one TCP round trip
#           on the link (migrate-link tcp-ping): the least a forwarded call
#           can cost here; the forwarded getppid() over it.
#
#   OMM_BUILD=build bash bench/migrate.sh [MiB...]   (as root; default 1 64 512)
#   ROUNDS=3 CALLS=5000 IO_MIB=256 XZ_MB=6 OMM_BUILD=build bash bench/migrate.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/integration/lib.sh"
source "$OMM_SRC/tests/cluster/cluster.sh"
BENCH=$OMM_BUILD/bench
need "$OMMD" "$OMRUN" "$OMCTL" "$BENCH/migrate-link" "$BENCH/migrate-mem" \
    "$BENCH/migrate-calls" "$TOOLS/fwdloop"
[ "$(id -u)" -eq 0 ] || fail "run as root (namespaces)"

ROUNDS=${ROUNDS:-3}
CALLS=${CALLS:-5000}
IO_MIB=${IO_MIB:-256}
XZ_MB=${XZ_MB:-6}
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(1 64 512)
PORT=7090		# the benchmark's own listeners, in node 2

# calc EXPR: bc, 6 decimals
calc() { echo "scale=6; $1" | bc -l; }
min() { calc "if ($1 < $2) $1 else $2"; }
now() { date +%s.%N; }
# field WORD FILE: the number after WORD on the line that starts with it
field() { sed -nE "s/^$1 .*$2 ([0-9.]+).*/\\1/p" "$3" | head -1; }

# The nodes' /tmp as seen from here (node 1's is where the jobs' files are).
cluster_up 2 >/dev/null || fail "cluster_up"
N1TMP=$(node_dir 1)/tmp
N1LOG=$(node_dir 1)/log/ommd.log
ADDR2=$(node_addr 2)
for i in 1 2; do
	node_conf "$i" "listen = $(node_addr "$i"):7077" \
	    "map = /etc/omm/omm.map" || fail "node_conf $i"
	node_start "$i" -v || fail "node $i did not start"
done
n=100
until node_omctl 1 nodes 2>/dev/null | grep -Eq '^ +2 +node2 .* up '; do
	n=$((n - 1))
	[ $n -gt 0 ] || fail "node 1 does not see node 2 up"
	sleep 0.1
done

# job_start NAME CMD...: CMD under omrun on node 1 ($ON: omrun --on), its
# stdout and stderr in node 1's /tmp/NAME.out, .err; waits for its READY.
# Sets JOB (the job's pid) and OMRUN_PID (our child).
job_start() {
	local name=$1
	shift
	rm -f "$N1TMP/$name".*
	spawn node_exec 1 env PROG_READY="/tmp/$name.ready" "$OMRUN" \
	    ${ON:+--on "$ON"} --pidfile "/tmp/$name.pid" "$@" \
	    </dev/null >"$N1TMP/$name.out" 2>"$N1TMP/$name.err"
	OMRUN_PID=$SPAWNED
	JOB=$(pidfile_pid "$N1TMP/$name.pid" 30)
	n=1200
	until [ -e "$N1TMP/$name.ready" ]; do
		n=$((n - 1))
		[ $n -gt 0 ] && alive "$OMRUN_PID" ||
		    fail "$name is not ready: $(cat "$N1TMP/$name.err")"
		sleep 0.05
	done
}

# job_end NAME: SIGUSR1 to the job's home pid; wait for omrun; status 0.
job_end() {
	kill -USR1 "$JOB"
	wait_exit "$OMRUN_PID" 120
	[ "$RC" -eq 0 ] || fail "$1 exited $RC: $(cat "$N1TMP/$1.err")"
}

# migrate: omctl migrate JOB node2; its line in $MIGLINE.
migrate() {
	MIGLINE=$(node_omctl 1 migrate "$JOB" node2 2>&1) ||
	    fail "omctl migrate $JOB: $MIGLINE"
}

rxbytes() { cat "/sys/class/net/$(_cl_veth 1)/statistics/rx_bytes"; }

echo "== link node1 -> node2 (TLS 1.3 via miglink, TCP), 2-vCPU VM, $(uname -r)"
best_tls=0
for r in $(seq "$ROUNDS"); do
	spawn node_exec 2 "$BENCH/migrate-link" tls-serve $PORT \
	    </dev/null >"$T/tls-serve.$r" 2>&1
	srv=$SPAWNED
	node_exec 1 "$BENCH/migrate-link" tls-send "$ADDR2" $PORT 2 256 2000 \
	    </dev/null >"$T/tls.$r" 2>&1 || fail "tls-send: $(cat "$T/tls.$r")"
	wait_exit "$srv" 10
	g=$(sed -nE 's/^tls .* ([0-9.]+) GB\/s$/\1/p' "$T/tls.$r")
	[ -n "$g" ] || fail "tls-send printed: $(cat "$T/tls.$r")"
	best_tls=$(calc "if ($g > $best_tls) $g else $best_tls")
	cat "$T/tls.$r"
done
TLS_GBS=$best_tls
spawn node_exec 2 "$BENCH/migrate-link" tcp-serve $((PORT + 1)) \
    </dev/null >"$T/tcp-serve" 2>&1
srv=$SPAWNED
node_exec 1 "$BENCH/migrate-link" tcp-ping "$ADDR2" $((PORT + 1)) 20000 \
    </dev/null >"$T/tcp" 2>&1 || fail "tcp-ping: $(cat "$T/tcp")"
wait_exit "$srv" 10
cat "$T/tcp"
TCP_US=$(sed -nE 's/^tcp-ping: median ([0-9.]+) us.*/\1/p' "$T/tcp")
"$TOOLS/fwdloop" -b 20000 >"$T/fwdloop" 2>&1 || fail "fwdloop -b: $(cat "$T/fwdloop")"
NOTIF_US=$(sed -nE 's/^floor +forwarded median +([0-9.]+) us.*/\1/p' "$T/fwdloop")
[ -n "$TCP_US" ] && [ -n "$NOTIF_US" ] || fail "no floor figures"
echo "seccomp notification answered at once: median $NOTIF_US us (fwdloop -b)"
FLOOR_US=$(calc "$NOTIF_US + $TCP_US")
printf 'TLS throughput (best of %d): %.2f GB/s; floor under a forwarded call: %.1f us\n' \
    "$ROUNDS" "$TLS_GBS" "$FLOOR_US"

echo
echo "== freeze-to-resume, best of $ROUNDS (omctl: its own 'in S s (frozen F s)')"
printf '%6s %9s %8s %9s %8s %8s %8s %8s %8s\n' MiB image_MiB wire_MiB \
    f2r_s GB/s vs_tls omctl_s omctl_fz ommd_fz
for mib in "${SIZES[@]}"; do
	bf=999 line=
	for r in $(seq "$ROUNDS"); do
		job_start mem "$BENCH/migrate-mem" "$mib"
		rx0=$(rxbytes)
		migrate
		rx1=$(rxbytes)
		# the guest runs: let it spin a little on node 2, then end it
		sleep 0.2
		job_end mem
		gap=$(sed -nE 's/^gap ([0-9.]+) s$/\1/p' "$N1TMP/mem.out")
		[ -n "$gap" ] || fail "migrate-mem printed: $(cat "$N1TMP/mem.out")"
		# "process PID: runs on node node2 (guest G), B bytes, frozen F s, T s in all"
		lg=$(grep -E "process $JOB: runs on node node2" "$N1LOG" | tail -1)
		bytes=$(sed -nE 's/.*, ([0-9]+) bytes, frozen ([0-9.]+) s.*/\1/p' <<<"$lg")
		ofz=$(sed -nE 's/.*, ([0-9]+) bytes, frozen ([0-9.]+) s.*/\2/p' <<<"$lg")
		[ -n "$bytes" ] || fail "no 'runs on node' line for $JOB in ommd's log"
		# "migrated PID to node2: X MiB in S s (frozen F s)"
		osec=$(sed -nE 's/.* in ([0-9.]+) s \(frozen ([0-9.]+) s\)$/\1/p' <<<"$MIGLINE")
		ofr=$(sed -nE 's/.* in ([0-9.]+) s \(frozen ([0-9.]+) s\)$/\2/p' <<<"$MIGLINE")
		[ -n "$osec" ] || fail "omctl migrate printed: $MIGLINE"
		if [ "$(calc "$gap < $bf")" = 1 ]; then
			bf=$gap
			line="$bytes $((rx1 - rx0)) $osec $ofr $ofz"
		fi
	done
	read -r bytes wire osec ofr ofz <<<"$line"
	gbs=$(calc "$bytes / $bf / 1000000000")
	printf '%6d %9.1f %8.1f %9.3f %8.2f %8.2f %8.2f %8.2f %8.3f\n' "$mib" \
	    "$(calc "$bytes / 1048576")" "$(calc "$wire / 1048576")" "$bf" \
	    "$gbs" "$(calc "$gbs / $TLS_GBS")" "$osec" "$ofr" "$ofz"
	[ "$mib" = 512 ] && F2R_512=$bf
done
echo "last omctl line: $MIGLINE"

echo
echo "== system calls: $CALLS each, $IO_MIB MiB of 1 MiB I/O on node 1's /tmp"
head -c 16M /dev/urandom >"$N1TMP/blocks.dat"
job_start calls "$BENCH/migrate-calls" /tmp/blocks.dat "$CALLS" "$IO_MIB"
job_end calls
cp "$N1TMP/calls.out" "$T/home"
job_start calls "$BENCH/migrate-calls" /tmp/blocks.dat "$CALLS" "$IO_MIB"
migrate
job_end calls
cp "$N1TMP/calls.out" "$T/away"
printf '%-10s %10s %10s %10s %10s %8s\n' call home_med home_p99 away_med \
    away_p99 ratio
for c in getppid read4k; do
	hm=$(field "$c" median "$T/home") hp=$(field "$c" p99 "$T/home")
	am=$(field "$c" median "$T/away") ap=$(field "$c" p99 "$T/away")
	[ -n "$hm" ] && [ -n "$am" ] || fail "no $c figures: $(cat "$T/home" "$T/away")"
	printf '%-10s %8.2fus %8.2fus %8.2fus %8.2fus %8.1f\n' "$c" "$hm" "$hp" \
	    "$am" "$ap" "$(calc "$am / $hm")"
done
GETPPID_US=$(field getppid median "$T/away")
printf '%-10s %10s %10s %8s %8s\n' io home_GB/s away_GB/s ratio vs_tls
for c in write1m read1m; do
	h=$(sed -nE "s/^$c .* ([0-9.]+) GB\/s$/\1/p" "$T/home")
	a=$(sed -nE "s/^$c .* ([0-9.]+) GB\/s$/\1/p" "$T/away")
	[ -n "$h" ] && [ -n "$a" ] || fail "no $c figures"
	printf '%-10s %10.3f %10.3f %8.2f %8.2f\n' "$c" "$h" "$a" \
	    "$(calc "$a / $h")" "$(calc "$a / $TLS_GBS")"
	eval "IO_${c}=$(calc "$a / $h")"
done

echo
echo "== CPU-bound: xz -6 -T1 of $XZ_MB MB of text, best of $ROUNDS wall times"
"$PYTHON" - "$N1TMP/text" "$XZ_MB" <<'EOF'
import random, sys
r = random.Random(2)
alpha = "abcdefghijklmnopqrstuvwxyz"
words = ["".join(r.choice(alpha) for _ in range(r.randint(2, 9)))
         for _ in range(5000)]
with open(sys.argv[1], "w") as f:
    n = 0
    while n < int(sys.argv[2]) * 1000000:
        line = " ".join(r.choices(words, k=8)) + "\n"
        f.write(line)
        n += len(line)
EOF
# CPU time (s) used so far by the processes of both nodes, from their
# cgroups (cluster.sh meters each node's CPU there); 0 without them.
cpu_used() {
	local i d v sum=0
	for i in 1 2; do
		d=$(_cl_cg_dir "$i")
		if [ -f "$d/cpuacct.usage" ]; then
			v=$(calc "$(cat "$d/cpuacct.usage") / 1000000000")
		elif [ -f "$d/cpu.stat" ]; then
			v=$(calc "$(sed -n 's/^usage_usec //p' "$d/cpu.stat") / 1000000")
		else
			v=0
		fi
		sum=$(calc "$sum + $v")
	done
	echo "$sum"
}

# timed [--on NODE] CMD...: one run under omrun on node 1, stdout in
# node 1's /tmp/timed.out; its wall time in XT, the CPU time both nodes
# spent meanwhile (the job, and omm's deputy and guest server) in XC.
timed() {
	local t0 c0 moved on=()
	[ "$1" = --on ] && { on=(--on "$2"); shift 2; }
	moved=$(grep -c 'runs on node' "$N1LOG" || true)
	c0=$(cpu_used)
	t0=$(now)
	node_exec 1 "$OMRUN" "${on[@]}" "$@" </dev/null >"$N1TMP/timed.out" \
	    2>"$T/timed.err" || fail "omrun ${on[*]} $*: $(cat "$T/timed.err")"
	XT=$(calc "$(now) - $t0")
	XC=$(calc "$(cpu_used) - $c0")
	# it did run there (a job that ends first stays home)
	[ ${#on[@]} -eq 0 ] ||
	    [ "$(grep -c 'runs on node' "$N1LOG")" -gt "$moved" ] ||
	    fail "omrun ${on[*]} $*: did not run on ${on[1]}"
}
XZ=(xz -6 -T1 -c /tmp/text)
th=999 ta=999 xh=999 xa=999 ch=999 ca=999
for r in $(seq "$ROUNDS"); do
	timed sleep 0.5
	th=$(min "$th" "$XT")
	timed --on node2 sleep 0.5
	ta=$(min "$ta" "$XT")
	timed "${XZ[@]}"
	xh=$(min "$xh" "$XT")
	ch=$(min "$ch" "$XC")
	cp "$N1TMP/timed.out" "$T/xz.home"
	timed --on node2 "${XZ[@]}"
	xa=$(min "$xa" "$XT")
	ca=$(min "$ca" "$XC")
	cmp -s "$N1TMP/timed.out" "$T/xz.home" || fail "xz output differs on node2"
done
grep -Eq "runs on node node2" "$N1LOG" || fail "xz did not run on node2"
printf '%-10s %8s %8s %9s\n' job home_s node2_s slowdown
printf '%-10s %8.3f %8.3f %8.2f%%\n' xz "$xh" "$xa" \
    "$(calc "($xa / $xh - 1) * 100")"
printf '%-10s %8.3f %8.3f %8.2f%%   (CPU s of both nodes)\n' 'xz cpu' \
    "$ch" "$ca" "$(calc "($ca / $ch - 1) * 100")"
printf '%-10s %8.3f %8.3f %8.3fs  (what starting on node2 adds)\n' 'sleep 0.5' \
    "$th" "$ta" "$(calc "$ta - $th")"
SLOW=$(calc "($xa / $xh - 1) * 100")

echo
echo "== floor under a forwarded call"
printf 'notification %.1f us + TCP round trip %.1f us = %.1f us; forwarded getppid %.1f us = %.2fx floor\n' \
    "$NOTIF_US" "$TCP_US" "$FLOOR_US" "$GETPPID_US" \
    "$(calc "$GETPPID_US / $FLOOR_US")"

echo
echo "== goals"
goal() { if [ "$(calc "$2")" = 1 ]; then echo "met      $1"; else echo "NOT met  $1"; fi; }
goal "forwarded getppid <= 1.5x floor" "$GETPPID_US <= 1.5 * $FLOOR_US"
[ -n "${F2R_512:-}" ] && goal "512 MiB freeze-to-resume <= 0.5 s" "$F2R_512 <= 0.5"
goal "forwarded write >= 0.5 of local" "$IO_write1m >= 0.5"
goal "forwarded read >= 0.5 of local" "$IO_read1m >= 0.5"
goal "CPU-bound slowdown <= 2%" "$SLOW <= 2"
