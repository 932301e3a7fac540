#!/bin/bash
# The README demo: launch a real program under omm, checkpoint it mid-run,
# kill it, restore it from the image and show that it finished correctly.
# Uses the installed omm (ommd, omrun, omctl on PATH) unless OMM_BUILD points
# at a build tree. Runs its own ommd on a private socket and cleans up.
set -euo pipefail

if [ -n "${OMM_BUILD:-}" ]; then
	PATH="$OMM_BUILD:$PATH"
fi
for p in ommd omrun omctl bc; do
	command -v "$p" >/dev/null || { echo "demo: $p not found" >&2; exit 1; }
done

# Close descriptors inherited from whatever started us (a stray pipe would,
# rightly, make the job uncheckpointable: its other end is another process).
for fd in /proc/$$/fd/*; do
	fd=${fd##*/}
	case $fd in 0|1|2|255) ;; *) eval "exec $fd>&-" 2>/dev/null || true ;; esac
done

dir=$(mktemp -d /dev/shm/omm-demo.XXXXXX)
ommd_pid=
cleanup() {
	[ -n "$ommd_pid" ] && kill "$ommd_pid" 2>/dev/null && wait "$ommd_pid" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
export OMM_SOCKET=$dir/ommd.sock

ommd -f -s "$OMM_SOCKET" 2>"$dir/ommd.log" &
ommd_pid=$!
for _ in $(seq 50); do [ -S "$OMM_SOCKET" ] && break; sleep 0.1; done

job='scale=2500; 4*a(1)'
echo "== reference: bc -l computing pi to 2500 digits, unmanaged"
time (echo "$job" | bc -l >"$dir/ref.txt")

echo "== the same under omrun, checkpointed after 1.5 s and killed"
echo "$job" >"$dir/job.bc"
omrun --pidfile "$dir/pid" bc -l "$dir/job.bc" >"$dir/out.txt" </dev/null &
omrun_pid=$!
sleep 1.5
pid=$(cat "$dir/pid")
omctl ps
omctl checkpoint "$pid" -o "$dir/bc.img" --kill
wait "$omrun_pid" || echo "(omrun of the killed job exited with $?)"
echo "bytes written before the checkpoint: $(stat -c %s "$dir/out.txt")"

echo "== what the image holds"
omctl image info "$dir/bc.img" | head -20

echo "== restore: the process continues where it was"
omrun --stats --restore "$dir/bc.img" </dev/null
if cmp "$dir/ref.txt" "$dir/out.txt"; then
	echo "demo: restored bc finished; output identical to the reference ($(wc -c <"$dir/ref.txt") bytes)"
else
	echo "demo: OUTPUT DIFFERS" >&2
	exit 1
fi
