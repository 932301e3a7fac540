#!/bin/bash
# 57-integrity-stay.sh: issue 10, section 2: "a mismatch fails the move and
# the process goes on where it was". A restore that finds a page different
# from its image (forced here with OMM_FAULT_VERIFY, docs/testing.md: the
# first N checks of a daemon fail as a real loss would) must fail that move
# only, whichever way the process was going:
#   home -> node 3: refused, the process goes on at home;
#   node 2 -> node 3 (moving on): refused, it goes on at node 2;
#   node 2 -> home, asked: refused once (home's first check), it goes on at
#     node 2; asked again, it comes home;
#   node 2 -> home for a call that needs home (a fork): the first try fails
#     (home's second check), the guest goes on at node 2 and tries again a
#     second later, and makes it.
# Each process checks its own memory all along (tests/progs/soak.c) or
# prints what an uninterrupted run prints: output byte-identical, exit 0.
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/migrate.sh"
SOAK=$OMM_BUILD/tests/progs/soak
migrate_need "$SOAK"

SH=$(umask 022; mktemp -d /var/tmp/omm-stay.XXXXXX) || exit 1
chmod 755 "$SH"
trap 'rm -rf "$SH"' EXIT
# node 1 (the soak's home) and node 4 (the forker's home) fail their first
# check, node 3 every one (a guest server counts on its own: a guest
# arriving at node 1 or 4 would fail once too; none does here)
CLUSTER_CONF_EXTRA=$(fabric_conf map)
cluster_up 4 >/dev/null || give_up "cluster_up 4"
trap 'rm -rf "$SH"; cluster_down' EXIT
ok_start=1
_mig_start_env OMM_FAULT_VERIFY=1 1 -v || ok_start=0
node_start 2 -v || ok_start=0
_mig_start_env OMM_FAULT_VERIFY=1000 3 -v || ok_start=0
_mig_start_env OMM_FAULT_VERIFY=1 4 -v || ok_start=0
for i in 1 2 3 4; do node_omctl "$i" set balance off >/dev/null 2>&1 || ok_start=0; done
check "nodes 1-4 started (nodes 1 and 4 fail 1 check, node 3 every one)" \
    [ "$ok_start" -eq 1 ]
check "nodes 1-4 see each other" within 10 all_see_up "1 2 3 4" 1 2 3 4
N1T=$(node_dir 1)/tmp
LOG1=$(node_dir 1)/log/ommd.log

# mig PID DEST: omctl migrate on node 1; its output (and error) in MIGOUT
mig() { MIGOUT=$(node_exec 1 "$OMM_BUILD/omctl" migrate "$1" "$2" 2>&1); }
where_is() { ps_q 1 "$1" "p['where'] == $2"; }
alive() { kill -0 "$SOAKRUN" 2>/dev/null && ! grep -q CORRUPT "$N1T/soak.err"; }

job_start soak env TMPDIR="$SH" "$SOAK" 64 || give_up "starting soak"
SOAKPID=$JOB SOAKRUN=$OMRUN
check "soak 64 MiB ready" within 60 grep -q READY "$N1T/soak.out"

# home -> node 3: node 3 fails its check; the process goes on at home
not mig "$SOAKPID" node3
check "home -> node3 refused: $MIGOUT" eval 'echo "$MIGOUT" | grep -q "checking the pages"'
check "it goes on at home" where_is "$SOAKPID" 1
check "and still checks out" alive

check "home -> node2" mig "$SOAKPID" node2
check "it runs on node 2" where_is "$SOAKPID" 2

# node 2 -> node 3 (moving on): refused, it goes on at node 2
not mig "$SOAKPID" node3
check "node2 -> node3 refused: $MIGOUT" eval 'echo "$MIGOUT" | grep -q "checking the pages"'
check "it goes on at node 2" where_is "$SOAKPID" 2
sleep 1
check "and still checks out there" alive

# a call that needs home while home's check fails once: it stays at its
# host, tries again a second later, and comes home. Its home is node 4.
N4T=$(node_dir 4)/tmp
LOG4=$(node_dir 4)/log/ommd.log
cat >"$N4T/forker.py" <<'PYEOF'
import os, sys, time
for i in range(60):
    print(i, flush=True)
    time.sleep(0.05)
os.system("echo forked")
for i in range(60, 80):
    print(i, flush=True)
PYEOF
$PY "$N4T/forker.py" >"$N4T/forker.ref"
node_exec 4 "$OMM_BUILD/omrun" --pidfile /tmp/forker.pid "$PY" /tmp/forker.py \
    </dev/null >"$N4T/forker.out" 2>"$N4T/forker.err" &
FRUN=$!
within 5 test -s "$N4T/forker.pid"
FPID=$(cat "$N4T/forker.pid" 2>/dev/null)
check "forker (home node 4) -> node2" eval \
    'node_exec 4 "$OMM_BUILD/omctl" migrate "$FPID" node2 >/dev/null'
wait_pid "$FRUN" 60
check "forker exits 0 (got $RC)" [ "$RC" -eq 0 ]
check "forker's output is byte-identical to a direct run" \
    cmp -s "$N4T/forker.ref" "$N4T/forker.out"
check "its first way home failed, and it went on at node 2" \
    grep -q "process $FPID: coming home from node node2 failed" "$LOG4"
check "then it came home for its call" \
    grep -q "process $FPID: home from node node2 (a call needs home" "$LOG4"

# node 2 -> home, asked: home's first check fails, then it comes
not mig "$SOAKPID" home
check "node2 -> home refused once: $MIGOUT" eval 'echo "$MIGOUT" | grep -q "checking the pages"'
check "it goes on at node 2" where_is "$SOAKPID" 2
sleep 1
check "and still checks out there" alive
check "node2 -> home asked again" mig "$SOAKPID" home
check "it is home" where_is "$SOAKPID" 1
kill -TERM "$SOAKPID"
wait_pid "$SOAKRUN" 60
check "soak passes its last full check (exit $RC)" eval '[ "$RC" -eq 0 ] && grep -q "^PASS soak" "$N1T/soak.out"'

finish
