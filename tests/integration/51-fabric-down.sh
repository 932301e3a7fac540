#!/bin/bash
# 51-fabric-down.sh: issue 4, acceptance 3. Node 3 killed with SIGKILL is
# marked down by the others within the configured timeout; restarted, it is
# back up; nodes 1, 2 and 4 never lost a connection meanwhile (the same
# links, by serial, with their counters unchanged, in status --json).
set -u
: "${OMM_BUILD:?OMM_BUILD must point at the build tree}"
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/cluster.sh"
. "$OMM_SRC/tests/cluster/fabric.sh"

DEAD_MS=4000
CLUSTER_CONF_EXTRA=$(fabric_conf map "dead_after_ms = $DEAD_MS")
if ! cluster_up 4 >/dev/null; then
	bad "cluster_up 4"
	finish
	exit 1
fi
started=1
for i in 1 2 3 4; do node_start "$i" || started=0; done
check "nodes 1-4 started" [ "$started" -eq 1 ]
check "nodes 1-4 see each other" within 5 all_see_up "1 2 3 4" 1 2 3 4

# "peer:serial:established:lost:state" of node $1's links to nodes 1, 2, 4
links_124() {
	status_json "$1" | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(" ".join("%d:%d:%d:%d:%s" % (x["node"], x["serial"], x["established"],
    x["lost"], x["state"]) for x in sorted(s["links"], key=lambda x: x["node"])
    if x["node"] in (1, 2, 4)))'
}
# let the links settle (a pair that dialled each other at once keeps one)
sleep 1
for i in 1 2 4; do eval "before_$i=\"\$(links_124 $i)\""; done
check "node 1's links to 2 and 4 are up" status_q 1 'l[2]["state"] == "up" and l[4]["state"] == "up"'

down_everywhere() {
	local i
	for i in 1 2 4; do
		nodes_q "$i" 'n[3]["state"] == "down"' || return 1
	done
}
still_up_elsewhere() {
	local i
	for i in 1 2 4; do
		nodes_q "$i" 'all(n[k]["state"] == "up" for k in (1, 2, 4))' ||
		    return 1
	done
}

pid3=$(node_pid 3)
check "node_kill 3 (SIGKILL)" node_kill 3
t0=$(now_ms)
# never before half the timeout (no link loss marks a node down), and
# by the timeout plus two gossip intervals at the latest
if within $(( (DEAD_MS + 2000) / 1000 )) down_everywhere; then
	t1=$(now_ms)
	ok "nodes 1, 2, 4 mark node 3 down $((t1 - t0)) ms after SIGKILL (dead_after_ms $DEAD_MS)"
	check "not before the silence lasted half of dead_after_ms" [ $((t1 - t0)) -ge $((DEAD_MS / 2)) ]
else
	bad "nodes 1, 2, 4 mark node 3 down within $((DEAD_MS + 2000)) ms"
fi
check "nodes 1, 2, 4 still see each other up" still_up_elsewhere
check "node 1's link to node 3 is no longer up" status_q 1 'l[3]["state"] != "up" and l[3]["lost"] >= 1'

check "node_start 3 again" node_start 3
check "node 3 has a new ommd ($pid3 -> $(node_pid 3))" [ "$(node_pid 3)" != "$pid3" ]
t0=$(now_ms)
if within 5 all_see_up "1 2 3 4" 1 2 3 4; then
	ok "node 3 is back up everywhere, $(( $(now_ms) - t0 )) ms after its start"
else
	bad "node 3 is back up everywhere within 5 s"
fi
check "node 1 has a link to node 3 again, and knows its new incarnation" \
    within 10 nodes_q 1 'n[3]["incarnation"] > 0 and n[3]["link"] == "up"'

for i in 1 2 4; do
	eval "b=\$before_$i"
	a=$(links_124 "$i")
	check "node $i: links to 1, 2, 4 are the same, none lost ($a)" [ "$a" = "$b" ]
	check "node $i: no link among 1, 2, 4 was ever lost" \
	    status_q "$i" 'all(l[k]["lost"] == 0 and l[k]["state"] == "up" for k in (1, 2, 4) if k != '"$i"')'
done
finish
