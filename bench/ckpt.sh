#!/bin/bash
# bench/ckpt.sh: checkpoint and restore speed against the machine's memcpy.
#
# For each size (default 64 and 512 MiB) bench/touch fills that much
# non-zero memory under omrun; omctl checkpoint --kill writes the image to
# tmpfs and omrun --restore brings it back (the restored process then checks
# every word). Best of ROUNDS (default 3). Reported: frozen and total
# checkpoint time (omctl's own figures), restore time (omrun --stats), image
# size, throughput in GB/s (1e9 bytes of touched memory per second), and its
# ratio to a memcpy of the same size measured in the same run.
#
#   OMM_BUILD=build bash bench/ckpt.sh [MiB...]
#   ROUNDS=5 OMM_BUILD=build bash bench/ckpt.sh 64 256 1024
source "$(dirname "${BASH_SOURCE[0]}")/../tests/integration/lib.sh"
BENCH=$OMM_BUILD/bench
need "$OMMD" "$OMRUN" "$OMCTL" "$BENCH/touch" "$BENCH/memcpy-floor"

ROUNDS=${ROUNDS:-3}
SIZES=("$@")
[ ${#SIZES[@]} -gt 0 ] || SIZES=(64 512)

# min A B, as decimals
min() { echo "if ($1 < $2) $1 else $2" | bc -l; }

# One checkpoint + restore of SIZE MiB; prints "frozen total restore bytes".
one_round() {
	local mib=$1 d=$T/r.$1.$2 job omrun line frozen total rsecs bytes
	mkdir -p "$d"
	PROG_READY=$d/ready spawn "$OMRUN" --pidfile "$d/pid" "$BENCH/touch" \
	    "$mib" </dev/null >/dev/null 2>"$d/err"
	omrun=$SPAWNED
	job=$(pidfile_pid "$d/pid" 30)
	wait_for_file "$d/ready" 60
	line=$("$OMCTL" checkpoint "$job" -o "$d/img" --kill) ||
	    fail "checkpoint of touch $mib: $line"
	wait_exit "$omrun" 10
	# "checkpointed PID (comm) to FILE: P pages, X MiB, frozen F s, total T s"
	frozen=$(sed -E 's/.*frozen ([0-9.]+) s.*/\1/' <<<"$line")
	total=$(sed -E 's/.*total ([0-9.]+) s.*/\1/' <<<"$line")
	bytes=$(stat -c %s "$d/img")
	spawn "$OMRUN" --stats --pidfile "$d/rpid" --restore "$d/img" \
	    </dev/null >"$d/r.out" 2>"$d/r.err"
	omrun=$SPAWNED
	job=$(pidfile_pid "$d/rpid" 60)
	kill -USR1 "$job"
	wait_exit "$omrun" 120
	# touch's stdout was /dev/null, and so it is again: its status tells.
	[ "$RC" -eq 0 ] ||
	    fail "restored touch $mib exited $RC: $(cat "$d/r.err")"
	# "omrun: restored pid N from FILE: P pages, X MiB in S s"
	rsecs=$(sed -nE 's/^omrun: restored .* in ([0-9.]+) s$/\1/p' "$d/r.err")
	[ -n "$rsecs" ] || fail "no restore time in: $(cat "$d/r.err")"
	rm -rf "$d"
	echo "$frozen $total $rsecs $bytes"
}

start_ommd
printf '%6s %9s %9s %8s %9s %8s %9s %8s %8s %8s\n' MiB frozen_s ckpt_s \
    ckpt_GB/s restore_s rest_GB/s image_MiB memcpy \
    ckpt/mcp rest/mcp
for mib in "${SIZES[@]}"; do
	bf=999 bt=999 br=999 bytes=0
	for r in $(seq "$ROUNDS"); do
		read -r f t rs b < <(one_round "$mib" "$r")
		[ -n "${b:-}" ] || fail "round $r of $mib MiB failed"
		bf=$(min "$bf" "$f"); bt=$(min "$bt" "$t"); br=$(min "$br" "$rs")
		bytes=$b
	done
	mcp=$("$BENCH/memcpy-floor" "$mib" | sed -E 's/.*, ([0-9.]+) GB\/s/\1/')
	size=$((mib * 1048576))
	cg=$(echo "$size / $bt / 1000000000" | bc -l)
	rg=$(echo "$size / $br / 1000000000" | bc -l)
	printf '%6d %9.3f %9.3f %8.2f %9.3f %8.2f %9.1f %8.2f %8.2f %8.2f\n' \
	    "$mib" "$bf" "$bt" "$cg" "$br" "$rg" \
	    "$(echo "$bytes / 1048576" | bc -l)" "$mcp" \
	    "$(echo "$cg / $mcp" | bc -l)" "$(echo "$rg / $mcp" | bc -l)"
done
