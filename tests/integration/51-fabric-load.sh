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

# What a node's load is: the CPU time its cgroup used since the last sample
# (or, if more, its runnable threads: a hog throttled by a quota or starved
# by a busy machine still counts as one), smoothed over 2 s. A node's cgroup
# holds its ommd and whatever node_exec runs there, this script's omctl
# queries included, so an idle node reads a little above 0 (ommd's start-up,
# a query that was runnable when it sampled: 0.14 was seen on a busy
# machine) and how much depends on the machine. Hence no absolute levels:
# the hog's node must rise clearly above its own baseline and above every
# other node, in every node's view, and fall back once the hog is gone. The
# waits are long, the polls slow (a query is load on the node it asks).

# load_of I K: node K's load in node I's view.
load_of() {
	nodes_json "$1" | python3 -c '
import json, sys
print([x["load"] for x in json.load(sys.stdin)["nodes"] if x["id"] == int(sys.argv[1])][0])' "$2"
}
# poll SECONDS CMD...: CMD every 0.5 s until it holds, for up to SECONDS.
poll() {
	local end=$(( $(date +%s) + $1 ))
	shift
	until "$@"; do
		[ "$(date +%s)" -lt "$end" ] || return 1
		sleep 0.5
	done
}
# views PYEXPR: PYEXPR holds in every node's view (n: the nodes by id; @B
# is node 2's baseline in that view, @H its reading with the hog).
views() {
	local i e
	for i in 1 2 3 4; do
		e=${1//@B/${BASE[$i]:-0}}
		nodes_q "$i" "${e//@H/${HOG[$i]:-0}}" || return 1
	done
}
show() {
	local i
	for i in 1 2 3 4; do
		echo "# $1: node $i sees: $(nodes_json "$i" | python3 -c '
import json, sys
print(" ".join("node%d=%.2f" % (x["id"], x["load"]) for x in json.load(sys.stdin)["nodes"]))')"
	done
}
declare -A BASE HOG

# Before the hog: node 2 stands out nowhere (start-up settled).
check "before the hog, node 2 is not above the other nodes" \
    poll 120 views 'all(n[2]["load"] <= n[k]["load"] + 0.2 for k in (1, 3, 4))'
for i in 1 2 3 4; do BASE[$i]=$(load_of "$i" 2); done
show "baseline"

# The hog: a busy loop in node 2 (node_exec puts it in node 2's cgroup).
rm -f "$(node_dir 2)/tmp/hog.pid"
( node_exec 2 sh -c 'echo $$ >/tmp/hog.pid; exec sh -c "while :; do :; done"' \
    >/dev/null 2>&1 & )
t0=$(now_ms)
# A hog is one busy CPU: node 2 gains at least 0.4 of one over its
# baseline, and stands above every other node by more than their noise.
hog_seen='n[2]["load"] >= @B + 0.4 and all(n[2]["load"] > n[k]["load"] + 0.3 for k in (1, 3, 4))'
if poll 120 views "$hog_seen"; then
	ok "every node sees node 2 loaded, above its baseline and every other node ($(( $(now_ms) - t0 )) ms after the hog started; gossip every 0.5-1 s, load smoothed over 2 s)"
else
	bad "every node sees node 2 loaded within 120 s"
fi
show "with the hog"
for i in 1 2 3 4; do HOG[$i]=$(load_of "$i" 2); done
hogpid=$(cat "$(node_dir 2)/tmp/hog.pid" 2>/dev/null)
check "the hog ran (pid ${hogpid:-?})" [ -n "$hogpid" ]
[ -n "$hogpid" ] && kill -KILL "$hogpid" 2>/dev/null
# Gone: node 2 back under half its loaded reading and level with the rest.
check "the load of node 2 falls back once the hog is gone" \
    poll 120 views 'n[2]["load"] < @H / 2 + 0.05 and all(n[2]["load"] <= n[k]["load"] + 0.2 for k in (1, 3, 4))'
show "after the hog"
finish
