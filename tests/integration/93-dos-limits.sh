#!/bin/bash
# 93-dos-limits.sh: issue 11, section 1 (pre-authentication cost is
# bounded). Node 2 is flooded, from node 3, with 400 idle unauthenticated
# TCP connections to its peer port and 400 to its migration port, 1,500
# connections a minute to its migration port, and by 600 idle control
# connections of one unprivileged user (omm-dos1), each held again as soon
# as node 2 closes it. Meanwhile:
#   - node 1 restarts and links to node 2 again; node 2 restarts and
#     links to both again;
#   - a job of node 1 migrates to node 2, runs there and ends with output
#     byte-identical to a run at home (times printed, not asserted);
#   - another user (omm-dos2), and root, get their omctl ps answered;
#   - node 2 forked no process for any of it, kept its log lines about it
#     few (rate-limited, summed up), and the flooding user was told why
#     its extra connections were refused; an idle control connection is
#     closed after control_idle_s.
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/migrate.sh"
migrate_need
FLOOD=$OMM_BUILD/tests/tools/flood
[ -x "$FLOOD" ] || _mig_skip "missing $FLOOD"
DUR=${DOS_SECONDS:-75}		# how long the floods last
IDLE=5				# control_idle_s of the nodes

# the test's users: made if missing, left in place (other runs use them)
for u in omm-dos1 omm-dos2; do
	id -u "$u" >/dev/null 2>&1 ||
	    useradd --system --no-create-home --shell /usr/sbin/nologin "$u" ||
	    _mig_skip "cannot create user $u"
done

CLUSTER_CONF_EXTRA=$(fabric_conf map "control_idle_s = $IDLE")
cluster_up 3 >/dev/null || give_up "cluster_up 3"
for i in 1 2 3; do node_start "$i" -v || give_up "node $i does not start"; done
for i in 1 2 3; do node_omctl "$i" set balance off >/dev/null; done
check "nodes 1-3 see each other" within 10 all_see_up "1 2 3" 1 2 3
N1T=$(node_dir 1)/tmp
N2T=$(node_dir 2)/tmp
LOG2=$(node_dir 2)/log/ommd.log
A2=$(node_addr 2)

# --- an idle control connection is closed after control_idle_s
t0=$(now_ms)
idle=$(node_exec 2 /usr/sbin/runuser -u omm-dos2 -- $PY -c '
import socket, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect("/run/omm/ommd.sock")
s.settimeout(60)
t = time.monotonic()
try:
    b = s.recv(100)
except OSError:
    b = b""
print("closed" if b == b"" else "data", round(time.monotonic() - t, 1))')
echo "# idle control connection: $idle ($(( $(now_ms) - t0 )) ms)"
idle_ok() {
	[ "${idle%% *}" = closed ] &&
	    awk -v t="${idle#* }" -v i=$IDLE 'BEGIN { exit !(t >= i - 0.5 && t < i + 10) }'
}
check "an idle control connection is closed after control_idle_s ($idle)" idle_ok

# --- the reference output: the job at home, unmoved
make_tick
job_start ref "$PY" /tmp/tick.py 120 || give_up "omrun ref: $(cat "$N1T/ref.err")"
wait_pid "$OMRUN" 60
check "the reference run ends (status $RC)" [ "$RC" -eq 0 ]
cp "$N1T/ref.out" "$N1T/expected.out"

# --- the floods, from node 3
children() { ps -o pid= --ppid "$(node_pid 2)" | wc -l; }
kids0=$(children)
node_exec 3 "$FLOOD" tcp "$A2" 7077 400 "$DUR" >"$N1T/flood-peer.txt" 2>&1 &
F1=$!
node_exec 3 "$FLOOD" tcp "$A2" 7078 400 "$DUR" >"$N1T/flood-mig.txt" 2>&1 &
F2=$!
node_exec 3 "$FLOOD" rate "$A2" 7078 1500 "$DUR" >"$N1T/flood-rate.txt" 2>&1 &
F3=$!
node_exec 2 /usr/sbin/runuser -u omm-dos1 -- "$FLOOD" unix /run/omm/ommd.sock 600 "$DUR" \
    >"$N1T/flood-ctl.txt" 2>&1 &
F4=$!
t_flood=$(now_ms)
sleep 5

kids=$(children)
echo "# node 2's ommd: $kids0 children before the floods, $kids during them"
check "no process forked for unauthenticated connections ($kids children)" \
    [ "$kids" -le $((kids0 + 2)) ]

# another user, and root, are answered
t0=$(now_ms)
check "omctl ps of another user (omm-dos2) answers" \
    quiet node_exec 2 /usr/sbin/runuser -u omm-dos2 -- "$OMM_BUILD/omctl" ps
echo "# omctl ps of omm-dos2: $(( $(now_ms) - t0 )) ms"
t0=$(now_ms)
check "omctl ps of root answers" quiet node_omctl 2 ps
echo "# omctl ps of root: $(( $(now_ms) - t0 )) ms"
# The flooder's idle connections are closed after control_idle_s and it
# opens new ones: between the two it may have a slot free, and its own ps
# is answered. Asked again until it is at its limit, it is told why.
flooder_refused() {
	out=$(node_exec 2 /usr/sbin/runuser -u omm-dos1 -- "$OMM_BUILD/omctl" ps 2>&1)
	echo "$out" | grep -q control_per_user
}
check "the flooding user, at its limit, is told why it is refused" \
    within 10 flooder_refused
echo "# omctl ps of the flooding user: $out"

# a migration lands on the flooded node
job_start mig "$PY" /tmp/tick.py 120 || give_up "omrun mig: $(cat "$N1T/mig.err")"
t0=$(now_ms)
check "the job migrates to node 2 during the floods" migrate_to "$JOB" 2
echo "# migration to node 2: $(( $(now_ms) - t0 )) ms"
wait_pid "$OMRUN" 60
check "the migrated job ends with status 0 (got $RC)" [ "$RC" -eq 0 ]
check "its output is byte-identical to the run at home" cmp -s "$N1T/expected.out" "$N1T/mig.out"

# node 1 restarts and links again; node 2 restarts and links again
t0=$(now_ms)
check "node 1 restarts during the floods" node_restart 1 -v
check "node 1 and node 2 link again" within 30 all_see_up "1 2 3" 1 2 3
echo "# node 1 rejoined in $(( $(now_ms) - t0 )) ms"
t0=$(now_ms)
check "node 2 (flooded) restarts during the floods" node_restart 2 -v
check "node 2 links to nodes 1 and 3 again" within 30 all_see_up "1 2 3" 1 2 3
echo "# node 2 rejoined in $(( $(now_ms) - t0 )) ms"
t0=$(now_ms)
check "after its restart, omctl ps of omm-dos2 answers" \
    within 10 quiet node_exec 2 /usr/sbin/runuser -u omm-dos2 -- "$OMM_BUILD/omctl" ps
echo "# omctl ps of omm-dos2 after the restart: $(( $(now_ms) - t0 )) ms"

# the floods were really there, all along
for f in $F1 $F2 $F3 $F4; do wait "$f"; done
echo "# floods lasted $(( $(now_ms) - t_flood )) ms"
for f in peer mig rate ctl; do sed "s/^/# flood $f: /" "$N1T/flood-$f.txt"; done
opened() { sed -n 's/^opened \([0-9]*\),.*/\1/p' "$N1T/flood-$1.txt"; }
check "the peer port flood held its 400 connections (opened $(opened peer))" \
    [ "$(opened peer)" -ge 400 ]
check "the migration port flood held its 400 (opened $(opened mig))" \
    [ "$(opened mig)" -ge 400 ]
check "1,500 connections a minute reached the migration port (opened $(opened rate))" \
    [ "$(opened rate)" -ge $((1500 * DUR / 60 * 9 / 10)) ]
check "600 control connections were tried (opened $(opened ctl))" \
    [ "$(opened ctl)" -ge 600 ]

# the log: refusals rate-limited and summed up
nref=$(grep -cE 'refused connection from|migration connection from .* refused|control: refused' "$LOG2")
echo "# node 2's log: $nref lines of refusals, $(wc -l <"$LOG2") lines in all"
grep -E ' more in [0-9]+ s like: ' "$LOG2" | head -n 3 | sed 's/^/# /'
check "refusals are rate-limited in node 2's log ($nref lines)" [ "$nref" -lt 200 ]
check "and summed up" log_has 2 ' more in [0-9]+ s like: '
check "per-source limit named in the log" log_has 2 'handshake_per_source'
finish
