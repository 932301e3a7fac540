#!/bin/bash
# 52-cluster-cpu.sh: per-node CPU shares of the test cluster (CLUSTER_CPU):
# the quota in each node's cgroup, ommd and node_exec commands inside it, a
# busy loop in a node getting about its share, a node past the list free.
#
# The machine is shared (other tests, other users), so a busy loop may get
# less than its share: the bound that must hold is the upper one (a quota
# never gives more); the lower one is loose.
set -u
: "${OMM_BUILD:?OMM_BUILD must point at the build tree}"
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/cluster.sh"

pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok - $*"; }
bad() { fail=$((fail + 1)); echo "FAIL - $*"; }
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}
finish() {
	echo "$pass passed, $fail failed"
	[ "$fail" -eq 0 ]
}

if [ -z "$(_cl_cpu_kind)" ]; then
	echo "# no cgroup cpu controller on this machine: nothing to test"
	echo "0 passed, 0 failed, 1 skipped"
	exit 77
fi

# Bad shares are refused before anything is created for the node.
for s in abc 0 0.001 1.2.3; do
	if (CLUSTER_CPU=$s; CLUSTER_DIR=; cluster_up 1) >/dev/null 2>&1; then
		bad "CLUSTER_CPU=$s refused"
	else
		ok "CLUSTER_CPU=$s refused"
	fi
done

CLUSTER_CPU="0.25 0.5"
if ! cluster_up 3; then
	bad "cluster_up 3 with CLUSTER_CPU='$CLUSTER_CPU'"
	finish
	exit 1
fi
ok "cluster_up 3 with CLUSTER_CPU='$CLUSTER_CPU'"

share_is() { [ "$(node_cpu_share "$1")" = "$2" ]; }
check "node 1's share is 0.25" share_is 1 0.25
check "node 2's share is 0.5" share_is 2 0.5
check "node 3, past the list, has none" share_is 3 none

quota_is() {
	local d
	d=$(_cl_cpu_dir "$1")
	case $(_cl_cpu_kind) in
	v2)	[ "$(cat "$d/cpu.max")" = "$2 100000" ] ;;
	*)	[ "$(cat "$d/cpu.cfs_quota_us")" = "$2" ] &&
		[ "$(cat "$d/cpu.cfs_period_us")" = 100000 ] ;;
	esac
}
check "node 1's quota is 25000 us per 100000" quota_is 1 25000
check "node 2's quota is 50000 us per 100000" quota_is 2 50000

# Is pid $2 in node $1's quota cgroup?
in_cpu_cg() {
	local d
	d=$(_cl_cpu_dir "$1")
	grep -qx "$2" "$d/cgroup.procs"
}

if node_start 1; then
	ok "node 1's ommd starts"
	check "node 1's ommd is in its quota cgroup" in_cpu_cg 1 "$(node_pid 1)"
else
	bad "node 1's ommd starts"
fi

# A busy loop in each node; its pid in the node's /tmp/busy.pid.
for i in 1 2 3; do
	node_exec "$i" sh -c 'echo $$ >/tmp/busy.pid; exec sh -c "while :; do :; done"' &
done
for i in 1 2 3; do
	n=50
	until [ -s "$(node_dir "$i")/tmp/busy.pid" ] || [ $n -eq 0 ]; do
		sleep 0.1
		n=$((n - 1))
	done
	eval "busy$i=\$(cat \"\$(node_dir $i)/tmp/busy.pid\")"
done
check "node 2's busy loop is in its quota cgroup" in_cpu_cg 2 "$busy2"
nocap() { ! grep -q "omm$CLUSTER_ID" <(grep -E '(^|[:,])cpu(,|:)' "/proc/$1/cgroup"); }
check "node 3's busy loop is under no quota" nocap "$busy3"

# CPU time (utime + stime, clock ticks) of pid $1.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
sleep 0.5
for i in 1 2 3; do eval "t0_$i=\$(ticks \$busy$i)"; done
sleep 2
for i in 1 2 3; do eval "t1_$i=\$(ticks \$busy$i)"; done
hz=$(getconf CLK_TCK)
# (bash would say "Terminated" for each node_exec in the background)
{ kill "$busy1" "$busy2" "$busy3"; wait; } 2>/dev/null

# got I SHARE: node I's busy loop had at most SHARE + 10 % (+ a tick of
# slack) and at least half of SHARE, in cores.
got() {
	local used
	used=$(eval "echo \$(( t1_$1 - t0_$1 ))")
	awk -v u="$used" -v hz="$hz" -v s="$2" 'BEGIN {
		c = u / hz / 2
		printf "# node %s: %.3f cores for a share of %s\n", '"$1"', c, s
		exit !(c <= s * 1.1 + 1 / hz && c >= s * 0.5)
	}'
}
check "node 1's busy loop got about 0.25 of a core" got 1 0.25
check "node 2's busy loop got about 0.5 of a core" got 2 0.5

cluster_down
finish
