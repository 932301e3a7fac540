#!/bin/bash
# 51-fabric-admin.sh: issue 4's runtime admin (openMosix's mosctl): omctl
# set speed/block/stay/lstay/quiet/loadlimit, expel, leave and join; root
# only; reported in status, advertised in the load vector, kept across a
# restart of ommd.
set -u
: "${OMM_BUILD:?OMM_BUILD must point at the build tree}"
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/cluster.sh"
. "$OMM_SRC/tests/cluster/fabric.sh"

CLUSTER_CONF_EXTRA=$(fabric_conf map)
if ! cluster_up 2 >/dev/null; then
	bad "cluster_up 2"
	finish
	exit 1
fi
started=1
for i in 1 2; do node_start "$i" || started=0; done
check "nodes 1-2 started" [ "$started" -eq 1 ]
check "nodes 1-2 see each other" within 5 all_see_up "1 2" 1 2

# --- root only
out=$(node_exec 1 setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$OMM_BUILD/omctl" set block on 2>&1)
rc=$?
check "a user may not set block (exit $rc)" [ "$rc" -ne 0 ]
check "and is told why: $out" eval '[[ "$out" == *"permission denied: omctl set needs root (uid 0), you are uid 65534"* ]]'
out=$(node_exec 1 setpriv --reuid=65534 --regid=65534 --clear-groups \
    "$OMM_BUILD/omctl" leave 2>&1)
check "a user may not leave: $out" eval '[[ "$out" == *"permission denied"* ]]'
check "a user may still read nodes" \
    node_exec 1 setpriv --reuid=65534 --regid=65534 --clear-groups "$OMM_BUILD/omctl" nodes

# --- bad values are refused before anything is sent
check "set speed 0x10 is refused" not node_omctl 1 set speed 0x10
check "set block maybe is refused" not node_omctl 1 set block maybe
check "set colour red is refused" not node_omctl 1 set colour red

# --- settings: status, and the load vector everyone sees
check "set speed 12345" node_omctl 1 set speed 12345
check "set block on" node_omctl 1 set block on
check "set stay on" node_omctl 1 set stay on
check "set lstay on" node_omctl 1 set lstay on
check "set loadlimit 150" node_omctl 1 set loadlimit 150
check "status reports them" status_q 1 '
s["admin"] == {"speed": 12345, "block": True, "stay": True, "lstay": True,
    "quiet": False, "loadlimit": 150, "left": False, "balance": True} and
s["node"]["speed"] == 12345 and s["node"]["flags"] == ["block", "stay", "lstay"]'
check "node 2 sees node 1's speed and flags" within 3 nodes_q 2 \
    'n[1]["speed"] == 12345 and n[1]["flags"] == ["block", "stay", "lstay"]'
check "the settings are in /var/lib/omm/admin" \
    grep -qx "speed 12345" "$(node_dir 1)/lib/admin"

# --- quiet: no more load information from node 1
check "set quiet on" node_omctl 1 set quiet on
sent=$(status_json 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["counters"]["gossip_sent"])')
sleep 2
check "a quiet node sends no windows" status_q 1 "s['counters']['gossip_sent'] == $sent"
check "set quiet off" node_omctl 1 set quiet off
check "and sends again" within 3 status_q 1 "s['counters']['gossip_sent'] > $sent"

# --- kept across a restart
check "node_restart 1" node_restart 1
check "after a restart the settings are back" status_q 1 '
s["admin"]["speed"] == 12345 and s["admin"]["block"] and s["admin"]["stay"] and
s["admin"]["lstay"] and s["admin"]["loadlimit"] == 150 and not s["admin"]["quiet"]'
check "set speed auto measures again" node_omctl 1 set speed auto
check "speed is the measured one" status_q 1 's["node"]["speed"] == s["node"]["speed_measured"] and s["admin"]["speed"] == 0'
for k in block stay lstay; do node_omctl 1 set "$k" off >/dev/null; done
node_omctl 1 set loadlimit none >/dev/null
check "everything off again" status_q 1 's["node"]["flags"] == [] and s["admin"]["loadlimit"] == 0'

# --- expel: no guests yet (migration is issue 5), and arrivals blocked
out=$(node_omctl 1 expel 2>&1)
check "expel: $out" eval '[[ "$out" == "expelled 0 guests; arrivals blocked"* ]]'
check "expel set block" status_q 1 's["admin"]["block"]'
node_omctl 1 set block off >/dev/null

# --- leave and join
check "both up before leave" within 5 all_see_up "1 2" 1 2
check "omctl leave" node_omctl 1 leave
check "node 2 sees node 1 down, having said goodbye (leave)" \
    within 3 nodes_q 2 'n[1]["state"] == "down" and n[1]["bye"] == "leave"'
check "status says left" status_q 1 's["admin"]["left"] and "leaving" in s["node"]["flags"]'
check "leave twice is refused" not node_omctl 1 leave
check "node 1 stays out across a restart" node_restart 1
sleep 2
check "node 2 still sees node 1 down" nodes_q 2 'n[1]["state"] == "down"'
check "omctl join" node_omctl 1 join
check "both up again after join" within 5 all_see_up "1 2" 1 2
check "join twice is refused" not node_omctl 1 join
finish
