#!/bin/bash
# 30-workloads: real Debian programs checkpointed mid-run.
#
# Each workload is sized to take 2-7 s here (measured on the 2-core test
# machine, December 2026): sha256sum of 512 MiB, gzip -9 of 78 MB of text,
# xz -6 of 4 MB, a Python big-integer loop, bc -l computing pi to 2200
# digits, sort of 78 MB in one thread. Inputs are generated from fixed
# seeds, into a tmpfs directory.
#
# First an uninterrupted run gives the reference output, exit status and
# time. Then, with stdout a regular file:
#   kill:  omrun CMD >out; omctl checkpoint --kill about a third of the way
#          in; omrun --restore. The restored process reopens out by path at
#          the saved offset and finishes it: out must equal the reference
#          byte for byte, with the reference's exit status.
#   leave: the same with --leave-running; the original finishes and out
#          must equal the reference. Then out is cut back to the offset fd 1
#          had in the image (omctl image info --json: fds[].pos) - exactly
#          the state the restored copy expects - and the restored copy must
#          complete it to the reference again.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need "$OMMD" "$OMRUN" "$OMCTL" "$PYTHON"
for p in sha256sum gzip xz bc sort; do
	command -v "$p" >/dev/null || { echo "missing $p" >&2;
	    echo "0 passed, 0 failed, 1 skipped"; exit 77; }
done

IN=$T/in
mkdir -p "$IN"

gen_inputs() {
	"$PYTHON" - "$IN" <<'EOF'
import os, random, sys
d = sys.argv[1]
r = random.Random(1)
with open(os.path.join(d, "big"), "wb") as f:		# 512 MiB, incompressible
    for _ in range(32):
        f.write(r.randbytes(16 << 20))
r = random.Random(2)
alpha = "abcdefghijklmnopqrstuvwxyz"
words = ["".join(r.choice(alpha) for _ in range(r.randint(2, 9)))
         for _ in range(5000)]
lines = [" ".join(r.choices(words, k=8)) + "\n" for _ in range(1500000)]
text = "".join(lines).encode()				# 78 MB
with open(os.path.join(d, "gzin"), "wb") as f:
    f.write(text)
with open(os.path.join(d, "sortin"), "wb") as f:
    f.write(text)
with open(os.path.join(d, "xzin"), "wb") as f:
    f.write(text[:4000000])
with open(os.path.join(d, "pi.bc"), "w") as f:
    f.write("scale=2200\n4*a(1)\nquit\n")
with open(os.path.join(d, "fact.py"), "w") as f:
    f.write("""f = 1
for i in range(1, 120001):
    f *= i
    if i % 10000 == 0:
        print(i, f.bit_length(), hex(f)[2:34], flush=True)
""")
EOF
}

declare -A CMD=(
	[sha256sum]="sha256sum $IN/big"
	[gzip]="gzip -9 -c $IN/gzin"
	[xz]="xz -6 -T1 -c $IN/xzin"
	[python]="$PYTHON $IN/fact.py"
	[bc]="bc -l $IN/pi.bc"
	[sort]="sort --parallel=1 -S 1G $IN/sortin"
)
ORDER=(sha256sum gzip xz python bc sort)
declare -A REF_RC REF_SECS

now() { date +%s.%N; }

case_reference() {
	local w=$1 argv t0 t1 rc=0
	read -ra argv <<<"${CMD[$w]}"
	t0=$(now)
	"${argv[@]}" </dev/null >"$T/ref.$w" 2>"$D/err" || rc=$?
	t1=$(now)
	echo "$rc $(echo "$t1 - $t0" | bc)" >"$T/ref.$w.meta"
	log "$w: exit $rc in $(echo "$t1 - $t0" | bc | cut -c1-5) s, $(stat -c %s "$T/ref.$w") bytes out"
	[ "$rc" -eq 0 ] || fail "$w exited $rc uninterrupted: $(cat "$D/err")"
}

# Start the workload under omrun with stdout $D/out; ORIG and JOB set.
start_job() {
	local w=$1 argv
	read -ra argv <<<"${CMD[$w]}"
	spawn "$OMRUN" --pidfile "$D/pid" "${argv[@]}" </dev/null \
	    >"$D/out" 2>"$D/err"
	ORIG=$SPAWNED
	JOB=$(pidfile_pid "$D/pid")
}

# Checkpoint $JOB a third of the way into the reference time, 1.5 s at
# most: on a machine whose load changes, the reference may have run slower
# than the job does now.
checkpoint_third() {
	local w=$1 mode=$2 delay
	delay=$(echo "scale=2; d = ${REF_SECS[$w]} / 3; if (d > 1.5) d = 1.5; d" | bc)
	sleep "$delay"
	alive "$JOB" || fail "$w finished before the checkpoint at $delay s"
	"$OMCTL" checkpoint "$JOB" -o "$D/img" "--$mode" >"$D/ckpt" 2>&1 || {
		cat "$D/ckpt" >&2
		fail "omctl checkpoint $JOB --$mode failed"
	}
	expect_grep "^checkpointed $JOB .*: [0-9]+ pages" "$D/ckpt"
	log "$w at $delay s: $(cat "$D/ckpt")"
}

# Restore $D/img; the run must end as the reference did, out == reference.
restore_and_compare() {
	local w=$1
	spawn "$OMRUN" --stats --restore "$D/img" </dev/null >"$D/r.out" \
	    2>"$D/r.err"
	wait_exit "$SPAWNED" 120
	[ "$RC" -eq "${REF_RC[$w]}" ] || {
		tail -n 5 "$D/r.err" >&2
		fail "restored $w exited $RC, reference ${REF_RC[$w]}"
	}
	grep '^omrun: restored' "$D/r.err" >&2 || true
	cmp "$T/ref.$w" "$D/out" || fail "restored $w: output differs"
	[ ! -s "$D/r.out" ] ||
	    fail "restored $w wrote to the restorer's stdout, not to its file"
}

case_kill() {
	local w=$1
	start_job "$w"
	checkpoint_third "$w" kill
	wait_exit "$ORIG" 10
	alive "$JOB" && fail "job $JOB survived --kill"
	restore_and_compare "$w"
}

case_leave() {
	local w=$1 pos
	start_job "$w"
	checkpoint_third "$w" leave-running
	alive "$JOB" || fail "job $JOB did not survive --leave-running"
	wait_exit "$ORIG" 120
	[ "$RC" -eq "${REF_RC[$w]}" ] ||
	    fail "original $w exited $RC after the checkpoint"
	cmp "$T/ref.$w" "$D/out" ||
	    fail "original $w: output differs after --leave-running"
	pos=$(fd_pos "$D/img") || fail "no fd 1 offset in the image"
	log "$w: fd 1 at $pos of $(stat -c %s "$D/out") in the image"
	truncate -s "$pos" "$D/out"
	restore_and_compare "$w"
}

run_case "generate inputs" gen_inputs
for w in "${ORDER[@]}"; do
	run_case "reference $w" case_reference "$w"
	if [ -f "$T/ref.$w.meta" ]; then
		read -r REF_RC[$w] REF_SECS[$w] <"$T/ref.$w.meta"
	fi
done

start_ommd
for w in "${ORDER[@]}"; do
	if [ -z "${REF_SECS[$w]:-}" ]; then
		continue
	fi
	run_case "kill+restore $w" case_kill "$w"
	run_case "leave-running+restore $w" case_leave "$w"
done
ommd_answers
ommd_stops_cleanly
finish
