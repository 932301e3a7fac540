#!/bin/bash
# tests/demo-cluster.sh: a 3-node omm cluster on this machine, for a look.
# Starts three ommd nodes in namespaces with the test harness (each its own
# address, certificate and cgroup; they find each other by multicast
# discovery), shows omctl nodes as each node sees it, loads node 2 for a few
# seconds so the load travels, and tears everything down. Needs root and a
# build: OMM_BUILD=build tests/demo-cluster.sh  (KEEP=1: leave it up; then
# tests/cluster/cluster.sh omctl 1 nodes ... and tests/cluster/cluster.sh down)
set -u
src=$(cd "$(dirname "$0")/.." && pwd)
export OMM_BUILD=$(realpath "${OMM_BUILD:-$src/build}")
[ -x "$OMM_BUILD/ommd" ] || { echo "demo-cluster: build first (no $OMM_BUILD/ommd)" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "demo-cluster: run as root (namespaces)" >&2; exit 1; }
. "$src/tests/cluster/cluster.sh"

CLUSTER_CONF_EXTRA='listen = %a:7077
discovery = on
mcast_if = eth0'
cluster_up 3 >/dev/null || exit 1
if [ "${KEEP:-0}" = 1 ]; then
	trap - EXIT INT TERM
	echo "$CLUSTER_DIR" >/run/omm-cluster.current
fi
for i in 1 2 3; do node_start "$i" || exit 1; done
echo "== three nodes: node1..node3 at $(node_addr 1)..$(node_addr 3), found by multicast"
sleep 2
for i in 1 2 3; do
	echo
	echo "== omctl nodes on node$i"
	node_omctl "$i" nodes
done
echo
echo "== a CPU hog on node2 for 4 s; node1's view:"
( node_exec 2 sh -c 'echo $$ >/tmp/hog.pid; exec timeout 4 sh -c "while :; do :; done"' \
    >/dev/null 2>&1 & )
sleep 4
node_omctl 1 nodes
echo
echo "== omctl status on node1 (links)"
node_omctl 1 status | sed -n '/^links:/,$p'
if [ "${KEEP:-0}" = 1 ]; then
	echo
	echo "left up: export OMM_CLUSTER=$CLUSTER_DIR; tests/cluster/cluster.sh down to end it"
fi
