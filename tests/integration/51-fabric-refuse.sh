#!/bin/bash
# 51-fabric-refuse.sh: issue 4, acceptance 4. A fifth node with a certificate
# of another CA, one without a certificate and one whose name does not match
# its certificate are refused, and the logs say why; a plain TCP client
# sending garbage, and a TLS client of the cluster sending malformed or
# oversized frames, are dropped; the four good nodes never notice.
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
node_create 5 foreign && node_create 6 none && node_create 7 name=node1 &&
    node_create 8 ok || { bad "node_create 5-8"; finish; exit 1; }
cluster_write_map	# every node knows 1..8: the good ones dial the bad ones too
started=1
for i in 1 2 3 4; do node_start "$i" || started=0; done
check "nodes 1-4 started" [ "$started" -eq 1 ]
check "nodes 1-4 see each other" within 5 all_see_up "1 2 3 4" 1 2 3 4

# The links among 1-4 as they are now: serial and counters must not move.
links_of() {
	status_json "$1" | python3 -c '
import json, sys
s = json.load(sys.stdin)
print(" ".join("%d:%s:%d:%d:%d" % (x["node"], x["serial"], x["established"],
    x["lost"], x["state"] == "up") for x in sorted(s["links"], key=lambda x: x["node"])
    if x["node"] <= 4))'
}
before=
for i in 1 2 3 4; do before="$before|$(links_of "$i")"; done

# --- node 5: a certificate of another CA (of the same name)
check "node 5 (foreign CA) starts: its own certificate is valid for its CA" node_start 5
check "node 1 says node 5's certificate is not from the cluster CA" \
    within 10 log_has 1 "dial node 5 at $(node_addr_re 5):7077 failed: certificate not issued by the cluster CA"
check "node 5 says node 1's certificate is not from its CA" \
    within 10 log_has 5 "dial node 1 at $(node_addr_re 1):7077 failed: certificate not issued by the cluster CA"
check "node 5 sees no one up" sees_up 5 5

# --- node 6: no certificate at all
check "node 6 (no certificate) does not start" not node_start 6
check "node 6's log says why: no node.crt" log_has 6 "cannot join the cluster: /etc/omm/node.crt: No such file"
# a TLS client without a certificate, from node 6, at node 1
node_exec 6 python3 -c '
import socket, ssl, sys
c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
c.minimum_version = ssl.TLSVersion.TLSv1_3
c.load_verify_locations("/etc/omm/ca.crt")
c.check_hostname = False
s = c.wrap_socket(socket.create_connection((sys.argv[1], 7077), timeout=5))
try:
    s.sendall(b"OMMW")
    sys.exit(0 if s.recv(100) == b"" else 1)
except (ssl.SSLError, OSError):
    sys.exit(0)' "$(node_addr 1)" 2>/dev/null
check "a TLS client without a certificate is dropped" [ $? -eq 0 ]
check "node 1 says the peer sent no certificate" \
    within 5 log_has 1 "refused connection from $(node_addr_re 6):[0-9]+: peer sent no certificate"

# --- node 7: a genuine certificate, for node1, used by node 7
check "node 7 (certificate for node1) starts" node_start 7
check "node 7 warns that its name does not match its certificate" \
    log_has 7 "node_name node7 does not match certificate"
check "node 1 refuses node 7: the name does not match" \
    within 10 log_has 1 "name does not match its certificate: peer says it is node7, its certificate is for node1"
check "node 7 hears that it was refused" \
    within 10 log_has 7 "refused by the peer \(refused\): name does not match its certificate"
check "node 7 sees no one up" sees_up 7 7

# --- garbage over plain TCP, from node 8
node_exec 8 python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 7077), timeout=5)
s.sendall(b"GET / HTTP/1.0\r\n\r\n" + bytes(range(256)) * 4)
s.settimeout(5)
try:
    while s.recv(4096):
        pass
except ConnectionResetError:
    pass
sys.exit(0)' "$(node_addr 2)" 2>/dev/null
check "a plain TCP client sending garbage is dropped" [ $? -eq 0 ]
check "node 2 logs why (TLS protocol error)" \
    within 5 log_has 2 "refused connection from $(node_addr_re 8):[0-9]+: TLS protocol error"

# --- malformed and oversized frames inside TLS, from a genuine node 8
frames() {
	node_exec 8 python3 -c '
import socket, ssl, struct, sys
c = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
c.minimum_version = ssl.TLSVersion.TLSv1_3
c.load_verify_locations("/etc/omm/ca.crt")
c.load_cert_chain("/etc/omm/node.crt", "/etc/omm/node.key")
c.check_hostname = False
s = c.wrap_socket(socket.create_connection((sys.argv[1], 7077), timeout=5))
s.sendall(bytes.fromhex(sys.argv[2]))
s.settimeout(5)
data = b""
try:
    while True:
        d = s.recv(4096)
        if not d:
            break
        data += d
except (ssl.SSLError, OSError):
    pass
# the node said BYE (type 103) before it closed
sys.exit(0 if struct.pack("<IHH", 0x574d4d4f, 1, 103) in data else 1)' "$@" 2>/dev/null
}
check "bad magic inside TLS: BYE and closed" frames "$(node_addr 3)" "4f4d4d5800000000"
check "node 3 logs the bad magic" \
    within 5 log_has 3 "closing link from $(node_addr_re 8):[0-9]+: bad magic"
# LOADWIN (102) announcing 2 GiB
check "oversized LOADWIN inside TLS: BYE and closed" frames "$(node_addr 4)" "4f4d4d57010066000000008000000000"
check "node 4 logs the oversized frame" \
    within 5 log_has 4 "closing link from $(node_addr_re 8):[0-9]+: LOADWIN of 2147483648 bytes over the cap"

# --- the four good nodes never noticed
check "nodes 1-4 still see exactly 1-4 up" all_see_up "1 2 3 4" 1 2 3 4
after=
for i in 1 2 3 4; do after="$after|$(links_of "$i")"; done
check "links among nodes 1-4 are the same links, none lost ($after)" [ "$before" = "$after" ]
check "node 1 counts refused links" status_q 1 's["counters"]["links_refused"] >= 3'
check "node 1 counts the refusals of node 7" status_q 1 'l[7]["refused"] >= 1 and l[7]["state"] != "up"'
for i in 5 6 7; do
	check "node $i is not up in node 1's view" not nodes_q 1 "n.get($i, {}).get('state') == 'up'"
done
finish
