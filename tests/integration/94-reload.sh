#!/bin/bash
# 94-reload.sh: issue 11, section 1 (reload without a restart). omctl
# reload and SIGHUP read ommd.conf and the TLS files again and say what
# they did: changed keys applied (verbose, limits) or named as needing a
# restart (window); a node revoked in the new CRL loses its links, is
# shown "revoked" in omctl nodes (not "up") and stays out, and a job of it
# that node 1 hosted is killed there (its home lost it); a job's
# supervisor, told to reload, migrates to a good node and not to the
# revoked one; an unusable CRL is refused and the running files stay;
# only root may reload.
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/migrate.sh"
migrate_need
id -u omm-dos2 >/dev/null 2>&1 ||
    useradd --system --no-create-home --shell /usr/sbin/nologin omm-dos2 ||
    _mig_skip "cannot create user omm-dos2"
migrate_cluster 3
ETC1=$(node_dir 1)/etc

out=$(node_exec 1 /usr/sbin/runuser -u omm-dos2 -- "$OMM_BUILD/omctl" reload 2>&1)
check "a user may not reload ($out)" eval 'echo "$out" | grep -q root'

out=$(node_omctl 1 reload 2>&1); rc=$?
echo "$out" | sed 's/^/# reload: /'
check "reload with nothing changed: exit 0" [ "$rc" -eq 0 ]
check "it says no setting changed and the TLS files were read again" \
    eval 'echo "$out" | grep -q "applied  *config: no setting" && echo "$out" | grep -q "applied  *tls: "'

node_conf 1 "verbose = 2" "window = 30" "control_idle_s = 30"
out=$(node_omctl 1 reload --json 2>&1); rc=$?
echo "# reload --json: $out"
check "reload of changed keys: exit 0" [ "$rc" -eq 0 ]
check "verbose and control_idle_s applied, window needs a restart" $PY -c '
import json, sys
d = {i["what"]: i["status"] for i in json.loads(sys.argv[1])["items"]}
sys.exit(0 if d.get("verbose") == "applied" and d.get("control_idle_s") == "applied"
    and d.get("window") == "restart" and d.get("tls") == "applied" else 1)' "$out"
check "the log says which settings need a restart" \
    log_has 1 'reload: window changed and needs a restart'

# a job of node 1 with a supervisor, before the revocation
make_tick
rm -f "$N1T/mig.stop"
job_start mig "$PY" /tmp/tick.py 0 /tmp/mig.stop || give_up "omrun: $(cat "$N1T/mig.err")"

# a job of node 3 hosted by node 1, before the revocation
N3T=$(node_dir 3)/tmp
cp "$N1T/tick.py" "$N3T/tick.py"
node_exec 3 "$OMM_BUILD/omrun" --pidfile /tmp/g3.pid "$PY" /tmp/tick.py 0 \
    </dev/null >"$N3T/g3.out" 2>"$N3T/g3.err" &
G3RUN=$!
check "a job starts on node 3" within 5 test -s "$N3T/g3.pid"
G3=$(cat "$N3T/g3.pid" 2>/dev/null)
check "node 3's job migrates to node 1" eval \
    'node_omctl 3 migrate "$G3" node1 >/dev/null && [ -n "$(guest_pids 1)" ]'

node_revoke 3 || give_up "node_revoke 3"
out=$(node_omctl 1 reload 2>&1)
echo "$out" | sed 's/^/# reload after revoking node 3: /'
check "omctl reload names node 3 as refused from now on" \
    eval 'echo "$out" | grep -Eq "refused from now on +node3: node 3: certificate revoked"'
check "SIGHUP to node 2's ommd" kill -HUP "$(node_pid 2)"
check "node 2's log says what SIGHUP applied, not just 'reloaded'" \
    within 5 log_has 2 'reloaded /etc/omm/ommd.conf: [0-9]+ applied, [0-9]+ need a restart'
check "node 2's log: node3 refused from now on" within 5 log_has 2 'reload: node3 refused from now on'
for i in 1 2; do
	check "node $i shows node 3 revoked, its link not up" \
	    within 10 nodes_q "$i" "n[3]['state'] == 'revoked' and n[3]['link'] != 'up'"
done
node_omctl 1 nodes | sed 's/^/# node 1: /'
# a node no longer trusted keeps nothing running here
check "node 1 killed the guest of revoked node 3" within 5 [ -z "$(guest_pids 1)" ]
check "node 1's log says why" log_has 1 'killed: its home is refused from now on: certificate revoked'
wait_pid "$G3RUN" 20
sed 's/^/# node 3 job: /' "$N3T/g3.err"
check "node 3's job ends, lost, saying so on its stderr (status $RC)" \
    eval '[ "$RC" -ne 0 ] && [ "$RC" -ne 124 ] && grep -q "omm: process $G3 lost" "$N3T/g3.err"'
sleep 5
for i in 1 2; do
	check "5 s later node 3 is still revoked and unlinked on node $i" \
	    nodes_q "$i" "n[3]['state'] == 'revoked' and n[3]['link'] != 'up' and n[2 if $i == 1 else 1]['state'] == 'up'"
done

# the supervisor of the job reloaded too (JM_RELOAD)
out=$(node_omctl 1 migrate "$JOB" node3 2>&1); rc=$?
echo "# migrate to node3: rc $rc: $out"
check "the job is not migrated to the revoked node 3" [ "$rc" -ne 0 ]
check "it migrates to node 2" migrate_to "$JOB" 2
check "its output grows on node 2" grows "$N1T/mig.out" 1
tick_stop mig
wait_pid "$OMRUN" 60
check "it ends with status 0 (got $RC)" [ "$RC" -eq 0 ]
check "its output is complete: every line, in order, once ($(wc -l <"$N1T/mig.out") lines)" ticked "$N1T/mig.out"

# an unusable CRL: refused, the running files stay
cp "$ETC1/ca.crl" "$N1T/good.crl"
echo garbage >"$ETC1/ca.crl"
out=$(node_omctl 1 reload 2>&1); rc=$?
echo "$out" | sed 's/^/# reload with a bad CRL: /'
check "a bad CRL: reload exits 1 and says why" \
    eval '[ "$rc" -eq 1 ] && echo "$out" | grep -q "not applied  *tls: .*ca.crl"'
check "node 1 and node 2 stay linked" nodes_q 1 "n[2]['state'] == 'up' and n[2]['link'] == 'up'"
cp "$N1T/good.crl" "$ETC1/ca.crl"
finish
