#!/bin/bash
# tests/cluster/fabric.sh: helpers of the fabric tests (tests/integration/51-fabric-*.sh),
# sourced after cluster.sh: TAP-ish checks, and questions to omctl nodes/status --json.

pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}
finish() {
	local d
	# on failure, the nodes' logs (the cluster goes with the EXIT trap)
	if [ "$fail" -ne 0 ] && [ -n "${CLUSTER_DIR:-}" ]; then
		for d in "$CLUSTER_DIR"/n*; do
			[ -f "$d/log/ommd.log" ] || continue
			echo "# --- $d/log/ommd.log"
			tail -n 40 "$d/log/ommd.log" | sed 's/^/# /'
		done
	fi
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}
not() { ! "$@"; }

# within SECONDS CMD...: retry CMD every 0.1 s until it holds, for up to
# SECONDS x OMM_TEST_PATIENCE (4 unless set). SECONDS is what the step
# takes on an idle machine; a machine shared with other builds and
# clusters may take several times that, and a wait is no verdict on speed:
# whether CMD comes to hold is (a timing goal belongs in bench/).
within() {
	local n
	n=$(awk -v s="$1" -v f="${OMM_TEST_PATIENCE:-4}" \
	    'BEGIN { printf "%d", s * f * 10 }')
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	"$@"
}

# ms since the epoch, for timings
now_ms() { date +%s%3N; }

# The fabric config of the tests: CLUSTER_CONF_EXTRA lines for mode "map"
# or "mcast" (discovery alone, on eth0), plus any extra lines given.
fabric_conf() {
	local mode=$1
	shift
	case $mode in
	map)	printf '%s\n' "listen = %a:7077" "map = /etc/omm/omm.map" ;;
	mcast)	printf '%s\n' "listen = %a:7077" "discovery = on" \
		    "mcast_if = eth0" "mcast_group = 239.255.77.$((RANDOM % 200 + 1)):7078" ;;
	esac
	[ $# -gt 0 ] && printf '%s\n' "$@"
}

# nodes_json I: omctl nodes --json of node I on stdout (empty if it fails).
nodes_json() { node_omctl "$1" nodes --json 2>/dev/null; }
status_json() { node_omctl "$1" status --json 2>/dev/null; }

# nodes_q I PYEXPR: evaluate PYEXPR with n = {id: node} of node I's view;
# prints the value, exits 1 if it is false or the query failed.
nodes_q() {
	nodes_json "$1" | python3 -c '
import json, sys
try:
    d = json.load(sys.stdin)
except Exception:
    sys.exit(1)
n = {x["id"]: x for x in d["nodes"]}
v = eval("(" + sys.argv[1].strip() + ")")
sys.exit(0 if v else 1)' "$2"
}

# status_q I PYEXPR: the same over status --json (s), links by node in l.
status_q() {
	status_json "$1" | python3 -c '
import json, sys
try:
    s = json.load(sys.stdin)
except Exception:
    sys.exit(1)
l = {x["node"]: x for x in s["links"]}
v = eval("(" + sys.argv[1].strip() + ")")
sys.exit(0 if v else 1)' "$2"
}

# sees_up I ID...: node I's view has exactly these nodes up (others may be
# known but not up).
sees_up() {
	local i=$1
	shift
	nodes_q "$i" "sorted(k for k, x in n.items() if x['state'] == 'up') == sorted([$(IFS=,; echo "$*")])" >/dev/null
}

# all_see_up "NODES" ID...: every node of NODES sees exactly ID... up.
all_see_up() {
	local i nodes=$1
	shift
	for i in $nodes; do
		sees_up "$i" "$@" || return 1
	done
}

# log_has I REGEX: node I's ommd log matches.
log_has() { grep -Eq -- "$2" "$(node_dir "$1")/log/ommd.log"; }
