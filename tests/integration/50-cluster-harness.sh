#!/bin/bash
# 50-cluster-harness.sh: the namespace test cluster itself (tests/cluster/cluster.sh):
# addresses and reachability over the bridge only, multicast between nodes,
# private /tmp and /etc/omm per node, one ommd per node answering its own
# omctl, kill/stop/restart, cut/uncut, and a teardown that leaves nothing.
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

# Retry a check for up to $1 seconds (links take a moment to settle).
within() {
	local n=$(( $1 * 10 * ${OMM_TEST_PATIENCE:-4} ))	# fabric.sh says why
	shift
	while [ "$n" -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

has_addr()    { node_exec "$1" ip -4 -o addr show dev eth0 2>/dev/null | grep -q "inet $2/24"; }
no_default()  { [ -z "$(node_exec "$1" ip route show default 2>/dev/null)" ]; }
hostname_is() { [ "$(node_exec "$1" hostname)" = "$2" ]; }
omctl_ok()    { node_omctl "$1" ps >/dev/null 2>&1; }
both_ok()     { omctl_ok "$1" && omctl_ok "$2"; }
new_pid_ok()  { [ -n "$(node_pid "$1")" ] && [ "$(node_pid "$1")" != "$2" ] && omctl_ok "$1"; }
from_ca()     { openssl verify -CAfile "$dir/ca/ca.crt" "$1" >/dev/null 2>&1; }
not()         { ! "$@"; }

fwd_before=$(cat /proc/sys/net/ipv4/ip_forward)
if ! cluster_up 3; then
	bad "cluster_up 3"
	finish
	exit 1
fi
ok "cluster_up 3"
id=$CLUSTER_ID
dir=$CLUSTER_DIR
br=omm$id-br

# --- network: addresses, reachability over the bridge, nothing beyond it
for i in 1 2 3; do
	check "node $i has $(node_addr "$i")/24 on eth0" has_addr "$i" "$(node_addr "$i")"
	check "node $i has no default route" no_default "$i"
	check "node $i is called node$i" hostname_is "$i" "node$i"
done
check "node 1 reaches node 2" node_reach 1 "$(node_addr 2)"
check "node 2 reaches node 3" node_reach 2 "$(node_addr 3)"
check "node 3 reaches node 1" node_reach 3 "$(node_addr 1)"
check "node 1 cannot reach 192.0.2.1 (off the machine)" not node_reach 1 192.0.2.1
host_ip=$(ip -4 -o addr show scope global | awk '$2 !~ /^omm/ {sub(/\/.*/, "", $4); print $4; exit}')
if [ -n "$host_ip" ]; then
	check "node 1 cannot reach the host's $host_ip" not node_reach 1 "$host_ip"
fi
ports=$(ip -o link show master "$br" | awk -F': ' '{sub(/@.*/, "", $2); print $2}' | sort | tr '\n' ' ')
check "bridge $br holds exactly the three node veths ($ports)" \
    [ "$ports" = "omm$id-h1 omm$id-h2 omm$id-h3 " ]
check "bridge $br has no address" [ -z "$(ip -o addr show dev "$br")" ]
check "ip_forward untouched ($fwd_before)" [ "$(cat /proc/sys/net/ipv4/ip_forward)" = "$fwd_before" ]

# --- multicast from node 1 to nodes 2 and 3 (discovery will ride on it)
recv='
import socket, struct, sys
g, port = sys.argv[1], int(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((g, port))
s.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
    struct.pack("4s4s", socket.inet_aton(g), socket.inet_aton("0.0.0.0")))
s.settimeout(5)
data, addr = s.recvfrom(100)
print(data.decode(), addr[0])'
send='
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for _ in range(int(sys.argv[3])):
    s.sendto(b"omm-" + sys.argv[4].encode(), (sys.argv[1], int(sys.argv[2])))
    time.sleep(0.1)'
group=239.255.77.$((RANDOM % 200 + 1)) port=$((20000 + RANDOM % 20000))
node_exec 2 python3 -c "$recv" "$group" "$port" >"$dir/mc2" 2>"$dir/mc2.err" & r2=$!
node_exec 3 python3 -c "$recv" "$group" "$port" >"$dir/mc3" 2>"$dir/mc3.err" & r3=$!
sleep 0.3
node_exec 1 python3 -c "$send" "$group" "$port" 20 "$id" >/dev/null 2>&1 & s1=$!
wait "$r2"; rc2=$?
wait "$r3"; rc3=$?
kill "$s1" 2>/dev/null; wait "$s1" 2>/dev/null
check "multicast $group from node 1 reaches node 2" \
    [ "$rc2" -eq 0 -a "$(cat "$dir/mc2")" = "omm-$id $(node_addr 1)" ]
check "multicast $group from node 1 reaches node 3" \
    [ "$rc3" -eq 0 -a "$(cat "$dir/mc3")" = "omm-$id $(node_addr 1)" ]

# --- private /tmp and /etc/omm
probe=omm-probe-$id
node_exec 1 sh -c "echo node1 > /tmp/$probe"
check "node 1 sees its own /tmp/$probe" node_exec 1 test -f "/tmp/$probe"
check "node 2 does not see node 1's /tmp/$probe" not node_exec 2 test -e "/tmp/$probe"
check "the host does not see node 1's /tmp/$probe" [ ! -e "/tmp/$probe" ]
check "it lives in node 1's directory" [ -f "$dir/n1/tmp/$probe" ]
check "node 1 and node 2 have different /etc/omm/node.crt" \
    not cmp -s <(node_exec 1 cat /etc/omm/node.crt) <(node_exec 2 cat /etc/omm/node.crt)
check "node 1's /etc/omm/node.key is mode 600" \
    [ "$(node_exec 1 stat -c %a /etc/omm/node.key)" = 600 ]
if command -v openssl >/dev/null; then
	check "node 2's certificate is for node2, from the cluster CA" \
	    sh -c "openssl verify -CAfile '$dir/ca/ca.crt' '$dir/n2/etc/node.crt' >/dev/null 2>&1 &&
		openssl x509 -noout -subject -in '$dir/n2/etc/node.crt' | grep -q 'CN *= *node2'"
fi

# --- one ommd per node, each answering omctl in its own node
started=1
for i in 1 2 3; do
	node_start "$i" || started=0
done
check "ommd started in nodes 1-3" [ "$started" -eq 1 ]
for i in 1 2 3; do
	check "node $i: omctl ps answers" omctl_ok "$i"
	check "node $i: socket in its own /run/omm" [ -S "$dir/n$i/run/ommd.sock" ]
done
p1=$(node_pid 1) p2=$(node_pid 2) p3=$(node_pid 3)
check "three distinct ommd processes ($p1 $p2 $p3)" \
    [ -n "$p1" -a -n "$p2" -a -n "$p3" -a "$p1" != "$p2" -a "$p2" != "$p3" -a "$p1" != "$p3" ]

# --- kill -9, stop, restart
check "node_kill 2" node_kill 2
check "node 2's ommd ($p2) is gone" not _cl_alive "$p2"
check "node 2: omctl ps fails while ommd is dead" not omctl_ok 2
check "nodes 1 and 3 still answer" both_ok 1 3
check "node_start 2 after kill -9" node_start 2
check "node 2 answers again, with a new pid" new_pid_ok 2 "$p2"
check "node_stop 3 (SIGTERM)" node_stop 3
check "node 3's ommd ($p3) is gone" not _cl_alive "$p3"
check "node_restart 3" node_restart 3
check "node 3 answers after restart" omctl_ok 3
check "node_restart 1 while running" node_restart 1
check "node 1 answers with a new pid" new_pid_ok 1 "$p1"

# --- cut and uncut a node's link
check "node_cut 3" node_cut 3
check "node 1 cannot reach cut node 3" not node_reach 1 "$(node_addr 3)"
check "node 3 keeps its address while cut" has_addr 3 "$(node_addr 3)"
check "node_uncut 3" node_uncut 3
check "node 1 reaches node 3 again" within 5 node_reach 1 "$(node_addr 3)"

# --- extra nodes with bad identities, for the fabric's refusal tests
check "node_create 4 foreign" node_create 4 foreign
if command -v openssl >/dev/null; then
	check "node 4's certificate is not from the cluster CA" \
	    not from_ca "$dir/n4/etc/node.crt"
fi
check "node_create 5 none" node_create 5 none
check "node 5 has no certificate but trusts the CA" \
    [ ! -e "$dir/n5/etc/node.crt" -a -f "$dir/n5/etc/ca.crt" ]
check "node 4 reaches node 1" node_reach 4 "$(node_addr 1)"

# --- teardown leaves nothing
pids="$(node_pid 1) $(node_pid 2) $(node_pid 3)"
for i in 1 2 3 4 5; do pids="$pids $(_cl_holder "$i")"; done
cluster_down
check "cluster_down: no namespace omm$id-*" not sh -c "ip netns list | grep -q '^omm$id-'"
check "cluster_down: no link omm$id-*" not sh -c "ip -o link show | grep -q 'omm$id-'"
left=
for p in $pids; do _cl_alive "$p" && left="$left $p"; done
check "cluster_down: no process left ($pids)" [ -z "$left" ]
check "cluster_down: $dir removed" [ ! -e "$dir" ]
check "cluster_down again is harmless" cluster_down

# --- a test that fails half-way still cleans up (the EXIT trap)
nap=777.$RANDOM	# a sleep no one else runs
out=$(OMM_BUILD=$OMM_BUILD bash -c '. "$1"; cluster_up 2 >/dev/null || exit 9
	node_exec 1 sleep "$2" & sleep 0.3
	echo "$CLUSTER_ID $CLUSTER_DIR"; exit 3' sh "$OMM_SRC/tests/cluster/cluster.sh" "$nap" 2>/dev/null)
rc=$?
set -- $out
check "failing script exited with its own status (3)" [ "$rc" -eq 3 ]
check "failing script: no namespace or link left" \
    not sh -c "ip -o link show | grep -q 'omm$1-' || ip netns list | grep -q '^omm$1-'"
check "failing script: its sleep in node 1 is gone" not pgrep -f "^sleep $nap\$"
check "failing script: ${2:-?} removed" [ -n "${2:-}" -a ! -e "${2:-/}" ]

finish
