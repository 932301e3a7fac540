#!/bin/bash
# 51-fabric-join.sh: issue 4, acceptance 1. Four nodes see each other within
# 5 s, once by multicast discovery alone and once by the static map alone;
# omctl nodes --json on each lists 4 up nodes with plausible load vectors.
set -u
: "${OMM_BUILD:?OMM_BUILD must point at the build tree}"
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/cluster.sh"
. "$OMM_SRC/tests/cluster/fabric.sh"

# Every field a node's vector must have, in sane ranges.
plausible() {
	nodes_q "$1" '
len(n) == 4 and all(
    x["state"] == "up" and x["ncpu"] >= 1 and x["speed"] > 0 and
    0 <= x["load"] <= 4 * x["ncpu"] and
    0 < x["mem_free_kib"] <= x["mem_total_kib"] and
    x["kernel"] and x["cpu_features"] and x["flags"] == [] and
    x["guests"] == 0 and x["address"] == "'"$CLUSTER_NET"'.%d:7077" % (10 + k) and
    x["name"] == "node%d" % k and (x["self"] == (k == '"$1"')) and
    (x["age_ms"] is not None and x["age_ms"] < 5000)
    for k, x in n.items())' >/dev/null
}

run_mode() {
	local mode=$1 i t0 t1 started=1
	CLUSTER_CONF_EXTRA=$(fabric_conf "$mode")
	if ! cluster_up 4 >/dev/null; then
		bad "$mode: cluster_up 4"
		return
	fi
	if [ "$mode" = mcast ]; then
		# discovery alone: no map at all
		rm -f "$CLUSTER_DIR"/n*/etc/omm.map
	fi
	for i in 1 2 3 4; do
		node_start "$i" || started=0
	done
	t0=$(now_ms)
	check "$mode: four ommd started" [ "$started" -eq 1 ]
	if within 5 all_see_up "1 2 3 4" 1 2 3 4; then
		t1=$(now_ms)
		ok "$mode: all four nodes see 1 2 3 4 up, $((t1 - t0)) ms after the last start"
	else
		bad "$mode: all four nodes see 1 2 3 4 up within 5 s"
		for i in 1 2 3 4; do node_omctl "$i" nodes; done
	fi
	for i in 1 2 3 4; do
		check "$mode: node $i: omctl nodes --json lists 4 up nodes with plausible vectors" \
		    within 3 plausible "$i"
	done
	check "$mode: node 2's links to 1, 3, 4 are up" \
	    status_q 2 'all(l[k]["state"] == "up" for k in (1, 3, 4))'
	if [ "$mode" = mcast ]; then
		check "mcast: no map was loaded (config map_nodes 0)" \
		    status_q 1 's["config"]["map_nodes"] == 0 and s["config"]["discovery"]'
		check "mcast: node 3 heard announcements" \
		    status_q 3 's["counters"]["announce_received"] >= 3'
	else
		check "map: the map gave 4 nodes, discovery off" \
		    status_q 1 's["config"]["map_nodes"] == 4 and not s["config"]["discovery"]'
	fi
	echo "# node 1's view ($mode):"
	node_omctl 1 nodes | sed 's/^/#   /'
	cluster_down
}

run_mode mcast
run_mode map
finish
