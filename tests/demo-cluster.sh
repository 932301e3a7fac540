#!/bin/bash
# tests/demo-cluster.sh: a 3-node omm cluster on this machine, for a look.
# Starts three ommd nodes in namespaces with the test harness (each its own
# address, certificate and cgroup; they find each other by multicast
# discovery), shows omctl nodes as each node sees it, loads node 2 for a few
# seconds so the load travels, migrates a bc job by hand from node1 to node2,
# on to node3 and home (its output compared with a direct run), lets the
# balancer spread four jobs started on node1, and tears everything down. Needs root and a
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

# Migration by hand: bc's output must be what a direct run prints.
T=$(node_dir 1)/tmp
echo 'scale=2500; 4*a(1)' >"$T/pi.bc"
node_exec 1 bc -l /tmp/pi.bc >"$T/pi.ref"
node_omctl 1 set balance off >/dev/null
echo
echo "== omrun bc -l (pi to 2500 digits) on node1, moved by hand:"
node_exec 1 "$OMM_BUILD/omrun" --pidfile /tmp/bc.pid bc -l /tmp/pi.bc \
    >"$T/pi.out" &
job=$!
for n in $(seq 50); do [ -s "$T/bc.pid" ] && break; sleep 0.1; done
pid=$(cat "$T/bc.pid")
sleep 0.5
node_omctl 1 migrate "$pid" node2
sleep 0.5
node_omctl 1 ps | sed -n "1p;/^ *$pid /p"
node_omctl 1 migrate "$pid" node3
sleep 0.5
node_omctl 1 migrate "$pid" home
wait "$job"
if cmp -s "$T/pi.ref" "$T/pi.out"; then
	echo "demo-cluster: bc went node1 -> node2 -> node3 -> node1; output identical to a direct run ($(wc -c <"$T/pi.out") bytes)"
else
	echo "demo-cluster: bc output differs from a direct run" >&2
	exit 1
fi

# The balancer: four jobs started on node1 spread without anyone asking.
node_omctl 1 set balance on >/dev/null
echo 'scale=2200; 4*a(1)' >"$T/pi2.bc"
echo
echo "== four bc jobs started on node1; omctl ps on node1 some seconds later:"
for j in 1 2 3 4; do
	node_exec 1 "$OMM_BUILD/omrun" bc -l /tmp/pi2.bc >"$T/spread$j.out" &
done
sleep 8
node_omctl 1 ps
wait
if [ "${KEEP:-0}" = 1 ]; then
	echo
	echo "left up: export OMM_CLUSTER=$CLUSTER_DIR; tests/cluster/cluster.sh down to end it"
fi
