#!/bin/bash
# bench/soak-migrate.sh: the integrity soak (issue 10). Processes of 1 MiB
# to 1 GiB that keep rewriting their memory and checking it
# (tests/progs/soak.c) are migrated back and forth between the nodes of a
# namespace cluster, hundreds of times, while CPU hogs load the machine.
# Prints the moves made, the bytes moved and the corruptions seen (a soak
# process that found a page it did not write, or that did not pass its last
# full check): that number must be 0.
#
# usage: OMM_BUILD=build OMM_SRC=. bash bench/soak-migrate.sh
#            [--moves N] [--sizes "MiB ..."] [--nodes N] [--hogs N] [--seed N]
#            [--min-moves N]
# Defaults: 500 moves, sizes "1 4 16 64 256 1024", 3 nodes, 2 hogs (one on
# node 1, one on node 2), seed 1. tests/integration/56-integrity-soak.sh runs
# a short form. Exit status 0 only with every move accounted for and no
# corruption, and at least --min-moves N (default 1) moves made.
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/migrate.sh"

MOVES=500 SIZES="1 4 16 64 256 1024" NODES=3 HOGS=2 SEED=1 MIN=1
while [ $# -gt 0 ]; do
	case $1 in
	--moves) MOVES=$2; shift 2 ;;
	--sizes) SIZES=$2; shift 2 ;;
	--nodes) NODES=$2; shift 2 ;;
	--hogs)	HOGS=$2; shift 2 ;;
	--seed)	SEED=$2; shift 2 ;;
	--min-moves) MIN=$2; shift 2 ;;
	*)	echo "usage: soak-migrate.sh [--moves N] [--sizes \"MiB ...\"]" \
		    "[--nodes N] [--hogs N] [--seed N] [--min-moves N]" >&2; exit 2 ;;
	esac
done
SOAK=$OMM_BUILD/tests/progs/soak
migrate_need "$SOAK"
[ "$NODES" -ge 2 ] || { echo "soak-migrate: --nodes must be 2 or more" >&2; exit 2; }
RANDOM=$SEED

# The soak's file mapping must be the same file on every node: not in a
# node's private /tmp.
SH=$(umask 022; mktemp -d /var/tmp/omm-soak.XXXXXX) || exit 1
chmod 755 "$SH"
HOGPIDS=()
soak_cleanup() {
	local p
	for p in "${HOGPIDS[@]}"; do kill "$p" 2>/dev/null; done
	rm -rf "$SH"
}
trap 'soak_cleanup' EXIT
migrate_cluster "$NODES"
# cluster.sh's EXIT trap takes the cluster down; ours runs too
trap 'soak_cleanup; cluster_down' EXIT

for i in $(seq "$HOGS"); do
	node_exec $(( (i - 1) % NODES + 1 )) sh -c 'while :; do :; done' &
	HOGPIDS+=($!)
done

# name, home pid, omrun pid and where it runs (1: home) of each soak process
NAMES=() PIDS=() OMRUNS=() WHERE=() SIZE=()
for s in $SIZES; do
	n=soak$s
	job_start "$n" env TMPDIR="$SH" "$SOAK" "$s" || give_up "starting soak $s MiB"
	NAMES+=("$n") PIDS+=("$JOB") OMRUNS+=("$OMRUN") WHERE+=(1) SIZE+=("$s")
done
for k in "${!NAMES[@]}"; do
	within 120 grep -q READY "$N1T/${NAMES[$k]}.out" ||
	    give_up "soak ${SIZE[$k]} MiB did not get ready"
done
check "soak processes ready: ${SIZES// /, } MiB" true

moves=0 refused=0 corrupt=0 bytes=0 frozen_max=0
t0=$(now_ms)

# a process that stopped on its own found something wrong
dead_check() {
	local k=$1
	if ! kill -0 "${OMRUNS[$k]}" 2>/dev/null ||
	    [ "$(awk '{print $3}' /proc/"${PIDS[$k]}"/stat 2>/dev/null)" = Z ]; then
		echo "# soak ${SIZE[$k]} MiB ended during the soak:"
		sed 's/^/#   /' "$N1T/${NAMES[$k]}.out" "$N1T/${NAMES[$k]}.err" | tail -5
		logs_of "${PIDS[$k]}"
		return 1
	fi
	return 0
}

live=${#NAMES[@]}
ALIVE=()
for k in "${!NAMES[@]}"; do ALIVE[$k]=1; done
m=0
while [ "$m" -lt "$MOVES" ] && [ "$live" -gt 0 ]; do
	k=$((RANDOM % ${#NAMES[@]}))
	[ "${ALIVE[$k]}" = 1 ] || continue
	m=$((m + 1))
	to=$((RANDOM % NODES + 1))
	[ "$to" -eq "${WHERE[$k]}" ] && to=$(( to % NODES + 1 ))
	if [ "$to" -eq 1 ]; then dest=home; else dest=node$to; fi
	out=$(node_exec 1 timeout 300 "$OMM_BUILD/omctl" migrate "${PIDS[$k]}" "$dest" 2>&1)
	rc=$?
	if [ "$rc" -eq 0 ]; then
		moves=$((moves + 1))
		WHERE[$k]=$to
		# "migrated PID (soak) to node2: 64.3 MiB in 0.41 s (frozen 0.38 s)"
		read -r mib fz < <(echo "$out" | sed -nE \
		    's/.*: ([0-9.]+) MiB in [0-9.]+ s \(frozen ([0-9.]+) s\).*/\1 \2/p')
		bytes=$(awk -v b="$bytes" -v m="${mib:-0}" 'BEGIN { printf "%.0f", b + m * 1048576 }')
		frozen_max=$(awk -v a="$frozen_max" -v b="${fz:-0}" 'BEGIN { print (b > a ? b : a) }')
	else
		refused=$((refused + 1))
		echo "# move $m: soak ${SIZE[$k]} MiB to $dest: $out"
	fi
	if ! dead_check "$k"; then
		ALIVE[$k]=0
		live=$((live - 1))
		if grep -q CORRUPT "$N1T/${NAMES[$k]}.err"; then
			corrupt=$((corrupt + 1))
		else
			corrupt=$((corrupt + 1))
			echo "# soak ${SIZE[$k]} MiB lost (counted as a corruption)"
		fi
	fi
	if [ $((m % 25)) -eq 0 ]; then
		echo "# $m moves tried, $moves made, $refused refused," \
		    "$corrupt corruptions, $(( ($(now_ms) - t0) / 1000 )) s"
	fi
done

# the last full check of each, at home or away
for k in "${!NAMES[@]}"; do
	[ "${ALIVE[$k]}" = 1 ] || continue
	kill -TERM "${PIDS[$k]}" 2>/dev/null
done
for k in "${!NAMES[@]}"; do
	[ "${ALIVE[$k]}" = 1 ] || continue
	wait_pid "${OMRUNS[$k]}" 120
	if [ "$RC" -ne 0 ] || ! grep -q '^PASS soak' "$N1T/${NAMES[$k]}.out"; then
		corrupt=$((corrupt + 1))
		echo "# soak ${SIZE[$k]} MiB: exit $RC"
		sed 's/^/#   /' "$N1T/${NAMES[$k]}.out" "$N1T/${NAMES[$k]}.err" | tail -5
		logs_of "${PIDS[$k]}"
	fi
done
secs=$(( ($(now_ms) - t0) / 1000 ))
echo "soak-migrate: $moves moves ($refused refused) of ${#NAMES[@]} processes" \
    "(${SIZES// /, } MiB) between $NODES nodes with $HOGS CPU hogs in ${secs} s:" \
    "$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1073741824 }') GiB moved," \
    "longest freeze ${frozen_max} s, corruptions: $corrupt"
check "every soak process passed its checks (corruptions: $corrupt)" [ "$corrupt" -eq 0 ]
check "$moves moves made of $MOVES tried (at least $MIN)" [ "$moves" -ge "$MIN" ]
finish
