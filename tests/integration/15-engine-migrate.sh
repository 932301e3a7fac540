#!/bin/bash
# 15-engine-migrate: the engine's migration path on one machine, no daemon,
# through `ckptdrv migrate-loop` (docs/migration.md): the process P is
# dumped for a guest, parked, restored as an unprivileged guest G under the
# seccomp filter, and its calls are served by a deputy holding P's fds with
# P's credentials. Real programs give byte-identical output and the same
# exit status as direct runs; a call that needs home (fork) brings the
# process home, where it goes on natively; signals sent to P reach G; what
# G does to files is judged with P's credentials, never the guest user's.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
CKPTDRV=$TOOLS/ckptdrv
need "$CKPTDRV"

W=$T/work
mkdir -p "$W"
"$PYTHON" - "$W/text" <<'EOF'
import random, sys
r = random.Random(11)
words = ["".join(r.choice("abcdefghij") for _ in range(r.randint(2, 9)))
         for _ in range(3000)]
with open(sys.argv[1], "w") as f:
    for i in range(150000):
        f.write(" ".join(r.choice(words) for _ in range(8)) + "\n")
EOF
head -c 100M /dev/urandom >"$W/random"
echo 'scale=1200; 4*a(1)' >"$W/pi.bc"
cat >"$W/py.py" <<'EOF'
import hashlib, sys
h, s = hashlib.sha256(), 0
for i in range(4000000):
    s += i * i % 7
    if i % 1000 == 0:
        h.update(str(s).encode())
print(s, h.hexdigest())
sys.exit(5)
EOF

# migrated NAME DELAY_MS CMD...: a direct run, then one under migrate-loop;
# same stdout bytes, same status, and the process did run as a guest.
# Stdin and stdout are files the deputy holds.
migrated() {
	local name=$1 delay=$2 want=0 rc=0
	shift 2
	"$@" <"${IN:-/dev/null}" >"$D/ref" || want=$?
	"$CKPTDRV" migrate-loop --delay-ms "$delay" -- "$@" \
	    <"${IN:-/dev/null}" >"$D/out" 2>"$D/err" || rc=$?
	expect_grep '^ckptdrv: pid [0-9]+ migrated to guest [0-9]+ \(uid 65534' \
	    "$D/err" "$name: the migration"
	[ $rc -eq "$want" ] || { cat "$D/err" >&2; fail "$name exited $rc, " \
	    "directly $want"; }
	cmp "$D/ref" "$D/out" || fail "$name: output differs"
}

run_case "sha256sum of 100 MB" migrated sha256sum 100 sha256sum "$W/random"
gz() { IN=$W/text migrated gzip 300 gzip -9; }
run_case "gzip -9 < f > f.gz" gz
run_case "python3 (exit 5)" migrated python3 300 "$PYTHON" "$W/py.py"
run_case "bc -l" migrated bc 300 bc -l "$W/pi.bc"
cat "$W/text" "$W/text" "$W/text" "$W/text" >"$W/text4"
run_case "sort" migrated sort 100 sort --parallel=1 -S 200M "$W/text4"

# A fork is a call for home: the process comes home and forks natively.
fork_home() {
	local rc=0
	"$CKPTDRV" migrate-loop --delay-ms 300 -- sh -c 'i=0
while [ $i -lt 1500000 ]; do i=$((i+1)); done
for i in $(seq 20); do echo $i; done | sort -n | tail -1' \
	    </dev/null >"$D/out" 2>"$D/err" || rc=$?
	[ $rc -eq 0 ] || { cat "$D/err" >&2; fail "exited $rc"; }
	expect_grep 'migrated to guest' "$D/err"
	expect_grep 'brought home for (clone|fork|vfork)' "$D/err"
	[ "$(cat "$D/out")" = 20 ] || fail "printed $(cat "$D/out")"
}
run_case "sh with forks comes home" fork_home

# Files are judged with P's credentials at home, not the guest's (nobody).
creds() {
	local rc=0
	# As root: the guest (nobody) reads /etc/shadow and writes a file in a
	# directory only root may write: both through the deputy.
	"$CKPTDRV" migrate-loop --delay-ms 300 -- "$PYTHON" -c 'import time, os
t = time.time()
while time.time() - t < 0.8: pass
print(len(open("/etc/shadow").read()) > 0)
open(os.environ["OUT"], "w").write("home\n")
print(os.getuid(), os.geteuid())' </dev/null >"$D/out" 2>"$D/err" || rc=$?
	[ $rc -eq 0 ] || { cat "$D/err" >&2; fail "root job exited $rc"; }
	expect_grep 'migrated to guest' "$D/err"
	[ "$(head -1 "$D/out")" = True ] || fail "root's /etc/shadow: $(cat "$D/out")"
	[ "$(sed -n 2p "$D/out")" = "0 0" ] || fail "ids: $(cat "$D/out")"
	[ "$(stat -c %u "$D/w")" = 0 ] || fail "file written as $(stat -c %U "$D/w")"
	grep -qx home "$D/w" || fail "file content"
}
creds_user() {
	local rc=0
	chmod 777 "$D"
	# As nobody: the same open is refused at home with nobody's rights.
	"$CKPTDRV" migrate-loop --delay-ms 300 -- setpriv --reuid=nobody \
	    --regid=nogroup --clear-groups "$PYTHON" -c 'import time
t = time.time()
while time.time() - t < 0.8: pass
try:
    open("/etc/shadow").read(); print("read")
except PermissionError as e:
    print("EACCES", e.errno)
try:
    open("/etc/omm-must-not-exist", "w"); print("wrote")
except PermissionError as e:
    print("EACCES", e.errno)' </dev/null >"$D/out" 2>"$D/err" || rc=$?
	[ $rc -eq 0 ] || { cat "$D/err" >&2; fail "exited $rc"; }
	expect_grep 'migrated to guest' "$D/err"
	[ "$(cat "$D/out" | tr '\n' ' ')" = "EACCES 13 EACCES 13 " ] ||
	    fail "printed $(cat "$D/out")"
	[ ! -e /etc/omm-must-not-exist ] || fail "file created"
}
OUT_CASE() { OUT=$D/w creds; }
run_case "guest files: root's rights at home" OUT_CASE
run_case "guest files: nobody refused at home" creds_user

# Signals for P reach G: a handler runs in the guest; TERM ends it with 143.
signals() {
	local p
	"$CKPTDRV" migrate-loop --delay-ms 200 -- "$PYTHON" -c 'import signal, sys, time
got = []
signal.signal(signal.SIGUSR1, lambda s, f: got.append(s))
while not got: time.sleep(0.05)
print("usr1", got[0], flush=True)
time.sleep(60)' </dev/null >"$D/out" 2>"$D/err" &
	SPAWNED=$!
	echo "$SPAWNED" >>"$T/.pids.$CASE_ID"
	# hang guards, not verdicts on speed: a loaded machine is slow
	local n=$((100 * ${OMM_TEST_PATIENCE:-4}))
	until grep -q 'migrated to guest' "$D/err"; do
		n=$((n - 1)); [ $n -gt 0 ] || fail "no migration"; sleep 0.05
	done
	p=$(sed -n 's/^ckptdrv: pid \([0-9]*\) migrated.*/\1/p' "$D/err")
	grep -q '^State:.*S' "/proc/$p/status" || fail "P not parked asleep"
	kill -USR1 "$p"
	n=$((100 * ${OMM_TEST_PATIENCE:-4}))
	until grep -q usr1 "$D/out"; do
		n=$((n - 1)); [ $n -gt 0 ] || fail "no usr1 in the guest"; sleep 0.05
	done
	grep -qx 'usr1 10' "$D/out" || fail "printed $(cat "$D/out")"
	kill -TERM "$p"
	expect_exit "$SPAWNED" 143 10 "ckptdrv"
}
run_case "signals for P reach the guest" signals

# Descriptors stay home: a socket does not stop a migration; threads do.
fds_ok() {
	migrated socket 300 "$PYTHON" -c 'import socket, time
s = socket.socket(); t = time.time()
while time.time() - t < 0.8: pass
print("done", s.fileno())'
}
run_case "a socket migrates (fds stay home)" fds_ok
threads_refused() {
	local rc=0
	"$CKPTDRV" migrate-loop --delay-ms 300 -- "$PYTHON" -c 'import threading, time
threading.Thread(target=time.sleep, args=(1,)).start(); time.sleep(1)
print("done")' </dev/null >"$D/out" 2>"$D/err" || rc=$?
	[ $rc -eq 125 ] || fail "exited $rc"
	expect_grep 'cannot migrate: multi-threaded \(2 threads\)' "$D/err"
	grep -qx done "$D/out" || fail "the refused job did not finish at home"
}
run_case "threads are refused, the job finishes home" threads_refused
shared_anon() {
	migrated shm 300 "$PYTHON" -c 'import mmap, time
m = mmap.mmap(-1, 1 << 20); m[0:5] = b"hello"; m[-3:] = b"end"
t = time.time()
while time.time() - t < 0.8: pass
m[5:6] = b"!"
print(m[0:6], m[-3:])'
}
run_case "shared anonymous memory of its own migrates" shared_anon

finish
