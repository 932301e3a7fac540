#!/bin/bash
# 10-engine: the checkpoint/restore engine alone, through tests/tools/ckptdrv
# (no daemon): real Debian programs stopped mid-run and restored must produce
# byte for byte the output of an uninterrupted run, with the same exit
# status; the self-checking programs must pass after a restore; what the
# engine cannot move is refused with a cause naming it, and a refused or
# failed dump leaves the process running as before.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CKPTDRV=$TOOLS/ckptdrv
need "$CKPTDRV" "$PROGS/mem"

W=$T/work
mkdir -p "$W"

# Inputs, generated once; references come from uninterrupted runs.
"$PYTHON" - "$W/text" <<'EOF'
import random, sys
r = random.Random(7)
words = ["".join(r.choice("abcdefghij") for _ in range(r.randint(2, 9)))
         for _ in range(3000)]
with open(sys.argv[1], "w") as f:
    for i in range(400000):
        f.write(" ".join(r.choice(words) for _ in range(8)) + "\n")
EOF
head -c 5000000 "$W/text" >"$W/text.small"
head -c 300M /dev/urandom >"$W/random"
# No sleep(1) children: a process with a live child is refused (issue
# 10: its restored copy's wait() would fail), so the delays are the shell's.
cat >"$W/count.sh" <<'EOF'
i=0
while [ $i -lt 40 ]; do echo "line $i"; i=$((i + 1))
	j=0; while [ $j -lt 80000 ]; do j=$((j + 1)); done; done
exit 7
EOF
cat >"$W/py.py" <<'EOF'
import hashlib
h, s, d = hashlib.sha256(), 0, {}
for i in range(12000000):
    s += i * i % 7
    if i % 1000 == 0:
        d[i] = str(s)
        h.update(d[i].encode())
print(s, len(d), h.hexdigest())
EOF
echo 'scale=1500; 4*a(1)' >"$W/pi.bc"

# workload NAME DELAY_MS STATUS CMD...: reference run, then a dump --kill
# mid-run and a restore, then a dump --leave-running; stdout is a regular
# file, so the restored process reopens it and goes on at its offset.
workload() {
	local name=$1 delay=$2 want=$3 rc t0 ref_ms
	shift 3
	t0=$(date +%s%N)
	"$@" </dev/null >"$D/ref" || rc=$?
	ref_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
	[ "${rc:-0}" -eq "$want" ] || fail "reference $name exited ${rc:-0}"
	# The dump must catch it mid-run whatever the machine's speed: at
	# the given delay, or at 40% of the reference run when that is
	# sooner (a quiet machine ran xz -T2 in under the delay).
	[ "$delay" -le $((ref_ms * 4 / 10)) ] || delay=$((ref_ms * 4 / 10))

	rc=0
	"$CKPTDRV" dump --kill --delay-ms "$delay" -o "$D/img" -- "$@" \
	    </dev/null >"$D/out" 2>"$D/dump.err" || rc=$?
	if grep -q "unknown kind 4" "$D/dump.err"; then
		skip "$name: the image code does not know IMG_FD_PIPE yet"
	fi
	[ $rc -eq 0 ] || { cat "$D/dump.err" >&2; fail "dump exited $rc"; }
	expect_grep '^dump: vmas=[0-9]+ pages=[0-9]+ zero=[0-9]+ bytes=[0-9]+ ' \
	    "$D/dump.err" "dump stats"
	cmp -s "$D/out" "$D/ref" && fail "$name finished before the dump"
	rc=0
	"$CKPTDRV" restore "$D/img" </dev/null >/dev/null 2>"$D/restore.err" ||
	    rc=$?
	if grep -q "unknown kind 4" "$D/restore.err"; then
		skip "$name: this image reader does not know IMG_FD_PIPE yet"
	fi
	[ $rc -eq "$want" ] || { cat "$D/restore.err" >&2;
	    fail "restored $name exited $rc, expected $want"; }
	expect_grep '^restore: pid=[0-9]+ pages=[0-9]+ ' "$D/restore.err" \
	    "restore stats"
	cmp "$D/out" "$D/ref" || fail "restored $name: output differs"

	rc=0
	"$CKPTDRV" dump --leave-running --delay-ms "$delay" -o "$D/img2" -- "$@" \
	    </dev/null >"$D/out2" 2>"$D/dump2.err" || rc=$?
	[ $rc -eq "$want" ] || { cat "$D/dump2.err" >&2;
	    fail "$name left running exited $rc"; }
	expect_grep '^dump: ' "$D/dump2.err" "dump stats"
	cmp "$D/out2" "$D/ref" || fail "$name left running: output differs"
}

run_case "count: exit status 7 kept" workload count 700 7 sh "$W/count.sh"
run_case "bc -l pi to 1500 digits" workload bc 500 0 bc -l "$W/pi.bc"
run_case "python3 loop" workload py 700 0 "$PYTHON" "$W/py.py"
run_case "gzip -9" workload gzip 600 0 gzip -9 -c "$W/text"
run_case "sha256sum 300 MB" workload sha 300 0 sha256sum "$W/random"
run_case "xz -6 (a self-pipe)" workload xz 1000 0 xz -6 -c "$W/text.small"
# Multi-threaded (issue 12): every thread is dumped at one instant and
# created again by the restored main thread.
run_case "xz -T2 (two worker threads)" workload xzT2 1500 0 \
    xz -T2 -2 --block-size=2MiB -c "$W/text"
pigz_threads() {
	command -v pigz >/dev/null || skip "pigz is not installed (tests/deps.sh)"
	workload pigz 500 0 pigz -p 2 -9 -c "$W/text"
}
run_case "pigz -p 2 (threads)" pigz_threads
run_case "python3 threads" workload pythreads 700 0 "$PYTHON" -c '
import threading, hashlib
def work(n, out):
    h = hashlib.sha256()
    for i in range(16000000):
        if i % 1000 == 0: h.update(str(i * n).encode())
    out[n] = h.hexdigest()
out = {}
ts = [threading.Thread(target=work, args=(n, out)) for n in range(3)]
for t in ts: t.start()
for t in ts: t.join()
for k in sorted(out): print(k, out[k])'

# stdout and stderr on one open file ("2>&1"): one offset, shared after a
# restore too, or the two streams overwrite each other.
two_streams() {
	local rc=0
	cat >"$D/two.sh" <<'EOF'
i=0
while [ $i -lt 30 ]; do i=$((i + 1)); echo "out $i"; echo "err $i" >&2
	j=0; while [ $j -lt 40000 ]; do j=$((j + 1)); done; done
EOF
	sh "$D/two.sh" >"$D/ref" 2>&1
	"$CKPTDRV" dump --kill --delay-ms 400 -o "$D/img" -- \
	    sh -c 'exec sh "$1" >"$2" 2>&1' sh "$D/two.sh" "$D/out" \
	    </dev/null 2>"$D/dump.err" || rc=$?
	[ $rc -eq 0 ] || { cat "$D/dump.err" >&2; fail "dump exited $rc"; }
	"$CKPTDRV" restore "$D/img" </dev/null 2>"$D/restore.err" || rc=$?
	[ $rc -eq 0 ] || { cat "$D/restore.err" >&2; fail "restore exited $rc"; }
	cmp "$D/out" "$D/ref" ||
	    fail "output differs (the image must carry img_fd.shared_with)"
}
run_case "stdout and stderr sharing one file (2>&1)" two_streams

# A signal racing the dump, while the process sits in read() with a
# handler installed without SA_RESTART: after the restore the handler must
# run and the read fail with EINTR (here: the handler's exception ends the
# read), not be restarted and block. Both when the dump caught the signal
# on its way in and when it found it queued.
racing_signal() {
	local rc=0 pid drv n=200
	cat >"$D/rd.py" <<'EOF'
import os, signal
class Hit(Exception): pass
def handler(sig, frame): raise Hit()
signal.signal(signal.SIGUSR1, handler)
signal.siginterrupt(signal.SIGUSR1, True)
try:
    os.read(0, 100)
    print("read returned")
except Hit:
    print("interrupted")
EOF
	mkfifo "$D/in"
	exec 7<>"$D/in"
	"$CKPTDRV" dump --kill --kick USR1 --delay-ms 500 -o "$D/img" -- \
	    "$PYTHON" "$D/rd.py" <"$D/in" >"$D/out" 2>"$D/dump.err" 7>&- || rc=$?
	[ $rc -eq 0 ] || { cat "$D/dump.err" >&2; fail "dump exited $rc"; }
	[ ! -s "$D/out" ] || fail "the original printed: $(cat "$D/out")"
	spawn "$CKPTDRV" restore "$D/img" <"$D/in" >/dev/null \
	    2>"$D/restore.err" 7>&-
	drv=$SPAWNED
	expect_exit "$drv" 0 20 "restored reader"
	expect_grep '^interrupted$' "$D/out" "the restored reader"
}
run_case "signal racing the dump: EINTR, not a restart" racing_signal

# prog NAME ARGS...: a tests/progs program, dumped once READY, restored,
# triggered (SIGUSR1, or a line on stdin for blockread); PASS expected.
prog() {
	local name=$1 rc=0 pid
	shift
	mkfifo "$D/in"
	exec 7<>"$D/in"
	PROG_READY=$D/ready CKPTDRV_READY=$D/ready "$CKPTDRV" dump --kill \
	    --wait-ready -o "$D/img" -- "$PROGS/$name" "$@" <"$D/in" \
	    >"$D/out" 2>"$D/dump.err" 7>&- || rc=$?
	[ $rc -eq 0 ] || { cat "$D/dump.err" >&2; fail "dump exited $rc"; }
	spawn "$CKPTDRV" restore "$D/img" <"$D/in" >/dev/null 2>"$D/restore.err" \
	    7>&-
	local drv=$SPAWNED n=200
	until grep -q '^restore: pid=' "$D/restore.err"; do
		n=$((n - 1))
		[ $n -gt 0 ] && alive "$drv" ||
		    { cat "$D/restore.err" >&2; fail "no restore"; }
		sleep 0.05
	done
	pid=$(sed -n 's/^restore: pid=\([0-9]*\).*/\1/p' "$D/restore.err")
	case $name in
	blockread)	echo "hello omm" >&7 ;;
	sleep)		;;
	*)		kill -USR1 "$pid" ;;
	esac
	wait_exit "$drv" 30
	if [ "$RC" -ne 0 ]; then
		# The restored program's stdout and stderr are the dump's files.
		cat "$D/out" "$D/dump.err" "$D/restore.err" >&2
		fail "restored $name exited $RC"
	fi
	expect_grep "^PASS $name\$" "$D/out" "restored $name"
}

run_case "prog regs (xmm/ymm/zmm/k, x87, mxcsr)" prog regs
run_case "prog signals" prog signals
run_case "prog misc" prog misc
run_case "prog sleep rel (nanosleep restarted)" prog sleep rel 2
run_case "prog sleep abs" prog sleep abs 2
run_case "prog blockread (read restarted)" prog blockread
run_case "prog churn (brk after restore)" prog churn
run_case "prog mem 64 MiB" prog mem 64
run_case "prog shanon (a lone shared anonymous region)" prog shanon
run_case "prog timers (itimers, POSIX timers: time left kept)" prog timers
run_case "prog threads (11 threads, each where it was)" prog threads

# refused WHAT REGEX CMD...: the dump fails naming the reason; the process,
# left running, completes as if nothing happened. The dump comes 300 ms
# after the start, or, with READY=1, once the process made $CKPTDRV_READY
# (what it is refused for is then there however busy the machine is).
refused() {
	local regex=$1 rc=0 when="--delay-ms 300"
	shift
	[ -n "${READY:-}" ] && when=--wait-ready
	rm -f "$D/ready"
	CKPTDRV_READY=$D/ready "$CKPTDRV" dump --leave-running $when \
	    -o "${OUT:-$D/img}" -- "$@" \
	    </dev/null >"$D/out" 2>"$D/dump.err" || rc=$?
	[ $rc -eq 125 ] || fail "dump exited $rc, expected 125"
	expect_grep "^ckptdrv: dump: .*$regex" "$D/dump.err" "refusal"
	expect_grep '^done$' "$D/out" "the refused process's own output"
}

READY=1 run_case "refuse: socket" refused 'fd [0-9]+: socket' \
    "$PYTHON" -c 'import os, socket, time
s = socket.socket(); open(os.environ["CKPTDRV_READY"], "w").close()
time.sleep(1); print("done")'
# glibc gives a SIGEV_THREAD timer a helper thread: named before the threads.
READY=1 run_case "refuse: SIGEV_THREAD timer" refused \
    'POSIX timer 0 notifies by SIGEV_THREAD \(glibc.s helper thread' \
    "$PYTHON" -c 'import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
cb = ctypes.CFUNCTYPE(None, ctypes.c_void_p)(lambda v: None)
ev = ctypes.create_string_buffer(64)
ctypes.c_int.from_buffer(ev, 12).value = 2
ctypes.c_void_p.from_buffer(ev, 16).value = ctypes.cast(cb, ctypes.c_void_p).value
t = ctypes.c_void_p()
assert libc.timer_create(1, ev, ctypes.byref(t)) == 0
open(os.environ["CKPTDRV_READY"], "w").close()
time.sleep(1); print("done")'
# Descriptors a checkpoint does not carry (issue 12, section 4), named by
# fd and kind: a pidfd, an inotify instance (docs/limits.md).
READY=1 run_case "refuse: pidfd" refused \
    'fd [0-9]+: pidfd \(a restored process would name another process by it\)' \
    "$PYTHON" -c 'import os, time
fd = os.pidfd_open(os.getpid()); open(os.environ["CKPTDRV_READY"], "w").close()
time.sleep(1); print("done")'
READY=1 run_case "refuse: inotify" refused \
    'fd [0-9]+: inotify \(its watches are not carried\)' \
    "$PYTHON" -c 'import ctypes, os, time
libc = ctypes.CDLL(None); fd = libc.inotify_init1(0)
libc.inotify_add_watch(fd, b"/tmp", 0x100)
open(os.environ["CKPTDRV_READY"], "w").close(); time.sleep(1); print("done")'
# The other process is a grandchild, reparented: a child would be refused
# first (has live child).
READY=1 run_case "refuse: shared anonymous memory of two processes" refused \
    'shared anonymous mapping .* also mapped by process [0-9]+' \
    "$PYTHON" -c 'import mmap, os, time
m = mmap.mmap(-1, 65536); m[0:1] = b"x"
r, w = os.pipe()
pid = os.fork()
if pid == 0:
    if os.fork() == 0:
        os.close(w); os.read(r, 1); os._exit(0)
    os._exit(0)
os.close(r); os.waitpid(pid, 0)
open(os.environ["CKPTDRV_READY"], "w").close(); time.sleep(1)
os.close(w); print("done")'
# A region mapped twice (mremap): refused, the process goes on.
alias() {
	local n=200 p
	spawn env PROG_READY="$D/ready" CKPTDRV_READY="$D/ready" "$CKPTDRV" \
	    dump --leave-running --wait-ready -o "$D/img" -- \
	    "$PROGS/shanon" alias </dev/null >"$D/out" 2>"$D/dump.err"
	local drv=$SPAWNED
	until grep -q "^ckptdrv: dump:" "$D/dump.err" 2>/dev/null; do
		n=$((n - 1))
		[ $n -gt 0 ] && alive "$drv" || fail "no refusal: $(cat "$D/dump.err")"
		sleep 0.05
	done
	expect_grep "^ckptdrv: dump: .*shared anonymous memory mapped twice" \
	    "$D/dump.err" "refusal"
	p=$(pgrep -P "$drv" -x shanon) || fail "shanon is gone"
	kill -USR1 "$p"
	expect_exit "$drv" 125 20 "ckptdrv after the refusal"
	expect_grep '^PASS shanon$' "$D/out" "shanon alias after the refusal"
}
run_case "refuse: shared anonymous memory mapped twice" alias
full() {
	OUT=/dev/full refused 'No space left on device' sh -c 'i=0
while [ $i -lt 2000000 ]; do i=$((i + 1)); done; echo done'
}
run_case "failed dump (/dev/full) resumes the process" full

# A private file mapping whose file changed since the dump is refused.
changed_file() {
	local rc=0
	cp "$PROGS/sleep" "$D/sleep"
	"$CKPTDRV" dump --kill --delay-ms 300 -o "$D/img" -- "$D/sleep" rel 2 \
	    </dev/null >"$D/out" 2>"$D/dump.err" || rc=$?
	[ $rc -eq 0 ] || { cat "$D/dump.err" >&2; fail "dump exited $rc"; }
	touch -d '2001-01-01' "$D/sleep"
	rc=0
	"$CKPTDRV" restore "$D/img" </dev/null >/dev/null 2>"$D/restore.err" ||
	    rc=$?
	[ $rc -eq 125 ] || fail "restore exited $rc, expected 125"
	expect_grep "^ckptdrv: restore: mapped files: mapping [0-9a-fx]+-[0-9a-fx]+ of $D/sleep: file changed since dump" \
	    "$D/restore.err" "refusal"
}
run_case "restore refuses a changed file" changed_file

finish
