#!/bin/bash
# 51-fabric-load.sh: issue 4, acceptance 2. A CPU hog started on node 2
# shows up as higher load in every node's view within a few gossip
# intervals. Each node of the harness meters its own cgroup (load_cgroup),
# so the hog loads node 2 only.
set -u
: "${OMM_BUILD:?OMM_BUILD must point at the build tree}"
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/cluster.sh"
. "$OMM_SRC/tests/cluster/fabric.sh"

CLUSTER_CONF_EXTRA=$(fabric_conf map)
if ! cluster_up 4 >/dev/null; then
	bad "cluster_up 4"
	finish
	exit 1
fi
started=1
for i in 1 2 3 4; do node_start "$i" || started=0; done
check "nodes 1-4 started" [ "$started" -eq 1 ]
check "nodes 1-4 see each other" within 5 all_see_up "1 2 3 4" 1 2 3 4
if ! status_q 2 's["node"]["load_source"].startswith("cgroup ")' ; then
	echo "# no cgroup to meter a node on this machine: nothing to test"
	finish
	exit $?
fi
check "node 2 meters its own cgroup" status_q 2 's["node"]["load_source"] == "cgroup '"$(_cl_cg_dir 2)"'"'

# Every node's view: node 2 well loaded, and more than every other node.
hog_seen() {
	local i
	for i in 1 2 3 4; do
		nodes_q "$i" 'n[2]["load"] >= 0.3 and all(n[2]["load"] > n[k]["load"] + 0.2 for k in (1, 3, 4))' || return 1
	done
}
idle_everywhere() {
	local i
	for i in 1 2 3 4; do
		nodes_q "$i" 'all(x["load"] < 0.2 for x in n.values())' || return 1
	done
}
check "no node is loaded before the hog" within 10 idle_everywhere

# The hog: a busy loop in node 2 (node_exec puts it in node 2's cgroup).
rm -f "$(node_dir 2)/tmp/hog.pid"
( node_exec 2 sh -c 'echo $$ >/tmp/hog.pid; exec sh -c "while :; do :; done"' \
    >/dev/null 2>&1 & )
t0=$(now_ms)
if within 10 hog_seen; then
	ok "every node sees node 2 loaded, $(( $(now_ms) - t0 )) ms after the hog started (gossip every 0.5-1 s, load smoothed over 2 s)"
else
	bad "every node sees node 2 loaded within 10 s"
fi
for i in 1 3 4; do
	echo "# node $i sees: $(nodes_json "$i" | python3 -c '
import json, sys
print(" ".join("node%d=%.2f" % (x["id"], x["load"]) for x in json.load(sys.stdin)["nodes"]))')"
done
hogpid=$(cat "$(node_dir 2)/tmp/hog.pid" 2>/dev/null)
check "the hog ran (pid ${hogpid:-?})" [ -n "$hogpid" ]
[ -n "$hogpid" ] && kill -KILL "$hogpid" 2>/dev/null
check "the load of node 2 falls back once the hog is gone" within 15 idle_everywhere
finish
