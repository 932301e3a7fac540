#!/bin/bash
# 79-migrate-locks.sh: issue 10, section 2: a process's record locks are
# held across its moves. tests/progs/plocks takes, at home, POSIX locks
# (F_SETLK: write 0-99, read 200-299) and an OFD lock (write 400-499) on a
# file; while it runs on node 2, another process at home still sees every
# one of them with F_GETLK (the POSIX ones now held by its deputy), and the
# process itself finds them its own (taking them again works). Away, it
# changes them (unlocks 0-99, upgrades 200-299, takes 600-699): home sees
# that; brought home, the original holds them itself (F_GETLK names its
# pid) and the deputy is gone; when it ends, no lock is left. A checkpoint
# of it (an image carries no record locks) is refused naming one.
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/migrate.sh"
PL=$OMM_BUILD/tests/progs/plocks
[ -x "$PL" ] || { echo "missing $PL" >&2; exit 77; }
migrate_need

migrate_cluster 2

# seen RANGES...: what another process of node 1 sees, "START-END TYPE"
# lines joined by commas (pids left out), e.g. "0-99 write,200-299 read,...".
seen() { node_exec 1 "$PL" -q /tmp/lk.dat | awk '{print $1 " " $2}' | paste -sd,; }
# pid_of RANGE: the pid F_GETLK names for the lock on RANGE.
pid_of() { node_exec 1 "$PL" -q /tmp/lk.dat | awk -v r="$1" '$1 == r {print $3}'; }

export PROG_READY=/tmp/pl.ready
job_start pl "$PL" /tmp/lk.dat ||
    give_up "omrun wrote no pidfile ($(cat "$N1T/pl.err"))"
check "plocks is ready at home" within 5 test -e "$N1T/pl.ready"
HOME1="0-99 write,200-299 read,400-499 write,600-699 none"
check "at home: $HOME1" [ "$(seen)" = "$HOME1" ]
check "the POSIX locks are its own (pid $JOB)" [ "$(pid_of 0-99)" = "$JOB" ]

# An image does not carry record locks: a checkpoint is refused naming
# one, never written without them; the process runs on, holding them.
ck=$(node_omctl 1 checkpoint "$JOB" -o /tmp/pl.img --leave-running 2>&1)
echo "# omctl checkpoint: $ck"
check "a checkpoint of it is refused, no image written" \
    eval '[ -n "$ck" ] && ! node_exec 1 test -e /tmp/pl.img' 
check "... naming a POSIX lock it holds" \
    eval 'echo "$ck" | grep -q "holds a POSIX write lock on bytes 0-99 of .*lk.dat"'
check "after the refusal it holds its locks: $HOME1" [ "$(seen)" = "$HOME1" ]
check "... still its own (pid $JOB)" [ "$(pid_of 0-99)" = "$JOB" ]

check "it migrates to node 2" migrate_to "$JOB" 2
s=$(seen)
check "on node 2, home sees the same locks: $s" [ "$s" = "$HOME1" ]
dpid=$(pid_of 0-99)
echo "# the write lock on 0-99 is held by pid $dpid at home (the process is $JOB)"
check "a POSIX lock is held by a live process of node 1" [ -n "$dpid" -a "$dpid" != 0 ]

check "SIGUSR1: it checks and changes its locks on node 2" node_exec 1 kill -USR1 "$JOB"
check "it says moved" within 20 grep -qx moved "$N1T/pl.out"
AWAY="0-99 none,200-299 write,400-499 write,600-699 write"
s=$(seen)
check "home sees what it did away: $s" [ "$s" = "$AWAY" ]
check "still on node 2" ps_q 1 "$JOB" "p['where'] == 2"

check "omctl migrate $JOB home" quiet node_omctl 1 migrate "$JOB" home
check "it is home" ps_q 1 "$JOB" "p['away'] != 'remote'"
s=$(seen)
check "home again, the same locks: $s" [ "$s" = "$AWAY" ]
check "held by the process itself (pid $JOB), not a holder" \
    [ "$(pid_of 200-299)" = "$JOB" -a "$(pid_of 600-699)" = "$JOB" ]

check "SIGUSR1: it checks its locks at home" node_exec 1 kill -USR1 "$JOB"
wait_pid "$OMRUN" 30
sed 's/^/# pl: /' "$N1T/pl.out" "$N1T/pl.err"
check "plocks: PASS, exit 0 (got $RC)" \
    [ "$RC" -eq 0 -a "$(tail -n 1 "$N1T/pl.out")" = "PASS plocks" ]
NONE="0-99 none,200-299 none,400-499 none,600-699 none"
s=$(seen)
check "it ended: no lock left: $s" [ "$s" = "$NONE" ]
check "no guest left on node 2" within 3 [ -z "$(guest_pids 2)" ]

# flock() belongs to the open file: an image reopening it would not have it.
export PROG_READY=
job_start fl "$PY" -c 'import fcntl, time
f = open("/tmp/fl.dat", "w"); fcntl.flock(f, fcntl.LOCK_EX)
open("/tmp/fl.ready", "w").close(); time.sleep(60)' ||
    give_up "omrun wrote no pidfile ($(cat "$N1T/fl.err"))"
check "a flock() holder is ready" within 10 test -e "$N1T/fl.ready"
ck=$(node_omctl 1 checkpoint "$JOB" -o /tmp/fl.img --leave-running 2>&1)
echo "# omctl checkpoint: $ck"
check "its checkpoint is refused naming the flock()" \
    eval 'echo "$ck" | grep -q "fd [0-9]* holds a flock() write lock" && ! node_exec 1 test -e /tmp/fl.img'
check "it runs on" node_exec 1 kill -0 "$JOB"
node_exec 1 kill "$JOB"
wait_pid "$OMRUN" 10
finish
