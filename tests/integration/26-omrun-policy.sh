#!/bin/bash
# 26-omrun-policy: omrun --stay / --nodes against a stand-in ommd that logs
# what it receives: the POLICY message's bytes, its place after MANAGE and
# MIGRATE, node names looked up through NODES, and a refused policy or a bad
# list ending omrun with 125 before the command ever runs.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need "$OMRUN" "$PYTHON"

# CPU feature words in a NODE message: counted from the header, so that the
# stand-in stays in step with cpufeat.h.
NWORDS=$(sed -n '/^enum cpu_word/,/CPUW_NWORDS/p' "$OMM_SRC/include/omm/cpufeat.h" |
    grep -c '^[[:space:]]*CPUW_[0-9A-Z_]*,')
[ "$NWORDS" -gt 0 ] || fail "cannot count CPUW words in cpufeat.h"

# fake_ommd SOCKET LOG ok|refuse NWORDS: serve clients one after the other;
# each request is logged as
# "TYPE hex-payload"; NODES lists node1 (self, id 1), node2 (2), big (7);
# POLICY is refused with an ERROR when the third argument is "refuse".
cat >"$T/fake_ommd.py" <<'EOF'
import os, socket, struct, sys
path, log, mode, nwords = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
names = {1: "OK", 2: "ERROR", 10: "MANAGE", 19: "MIGRATE", 24: "POLICY",
         50: "NODES", 51: "NODE", 52: "NODES_END"}
def msg(t, p=b""):
    return struct.pack("<HHI", 1, t, len(p)) + p
def s(x):
    return struct.pack("<I", len(x)) + x.encode()
def node(i, self_, name):
    p = struct.pack("<IBBBBHQq", i, self_, 2, 3 if not self_ else 0, 0, 0, 1, 0)
    p += s(name) + struct.pack("<B16sH", 0, b"", 0)
    p += struct.pack("<IIIQQII", 0, 0, 0, 0, 0, 0, 0)
    p += struct.pack("<B", nwords) + b"\0" * (4 * nwords) + struct.pack("<QI", 0, 0)
    return msg(51, p + s("") + s(""))
srv = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
srv.bind(path)
srv.listen(1)
print("ready", flush=True)
f = open(log, "a")
while True:
    c, _ = srv.accept()
    while True:
        d = c.recv(65536)
        if not d:
            c.close()
            break
        v, t, n = struct.unpack("<HHI", d[:8])
        f.write("%s %s\n" % (names.get(t, str(t)), d[8:].hex()))
        f.flush()
        if t == 50:
            for i, me, nm in ((1, 1, "node1"), (2, 0, "node2"), (7, 0, "big")):
                c.send(node(i, me, nm))
            c.send(msg(52, struct.pack("<I", 3)))
        elif t == 24 and mode == "refuse":
            c.send(msg(2, s("policy refused for the test")))
        else:
            c.send(msg(1))
EOF

# Start the stand-in for this case; the socket path in $SOCK.
fake() {
	SOCK=$D/ommd.sock
	spawn "$PYTHON" "$T/fake_ommd.py" "$SOCK" "$D/log" "${1:-ok}" \
	    "$NWORDS" >"$D/fake.out" 2>"$D/fake.err"
	wait_for_file "$D/fake.out" 5
	local n=100
	until grep -q ready "$D/fake.out"; do
		n=$((n - 1))
		[ $n -gt 0 ] || fail "stand-in ommd did not start: $(cat "$D/fake.err")"
		sleep 0.05
	done
}

# The requests received, one type per line.
types() { awk '{print $1}' "$D/log" | paste -sd' '; }
payload() { awk -v t="$1" '$1 == t {print $2}' "$D/log"; }

# u32 little-endian hex of a number.
le32() { printf '%08x' "$1" | sed -E 's/(..)(..)(..)(..)/\4\3\2\1/'; }

# --stay alone: MANAGE then POLICY (flags 1, no nodes), then the job runs.
case_stay() {
	fake
	"$OMRUN" -s "$SOCK" --stay /bin/sh -c 'echo ran >"$0"' "$D/ran" \
	    </dev/null || fail "omrun --stay exited $?"
	[ "$(cat "$D/ran")" = ran ] || fail "the job did not run"
	[ "$(types)" = "MANAGE POLICY" ] || fail "requests: $(types)"
	local pid want
	pid=$(payload MANAGE)
	want="${pid}$(le32 1)$(le32 0)"
	[ "$(payload POLICY)" = "$want" ] ||
	    fail "POLICY payload $(payload POLICY), expected $want"
}

# --nodes ids, with --on: MANAGE, MIGRATE, then POLICY with the ids in order.
case_nodes_ids() {
	fake
	"$OMRUN" -s "$SOCK" --on 2 --nodes 3,2,17 /bin/true </dev/null ||
	    fail "omrun --nodes 3,2,17 exited $?"
	[ "$(types)" = "MANAGE MIGRATE POLICY" ] || fail "requests: $(types)"
	local want
	want="$(payload MANAGE)$(le32 0)$(le32 3)$(le32 3)$(le32 2)$(le32 17)"
	[ "$(payload POLICY)" = "$want" ] ||
	    fail "POLICY payload $(payload POLICY), expected $want"
}

# Names (and home) are looked up through NODES before anything else.
case_nodes_names() {
	fake
	"$OMRUN" -s "$SOCK" --stay --nodes node2,home,9,big /bin/true \
	    </dev/null || fail "omrun --nodes node2,home,9,big exited $?"
	[ "$(types)" = "NODES MANAGE POLICY" ] || fail "requests: $(types)"
	local want
	want="$(payload MANAGE)$(le32 1)$(le32 4)$(le32 2)$(le32 1)$(le32 9)$(le32 7)"
	[ "$(payload POLICY)" = "$want" ] ||
	    fail "POLICY payload $(payload POLICY), expected $want"
}

# A refused POLICY: omrun exits 125 with ommd's cause; the job never ran.
case_refused() {
	fake refuse
	local rc=0
	"$OMRUN" -s "$SOCK" --nodes 2 /bin/sh -c 'echo ran >"$0"' "$D/ran" \
	    </dev/null 2>"$D/err" || rc=$?
	[ "$rc" -eq 125 ] || fail "refused policy: omrun exited $rc, expected 125"
	grep -q 'omrun: --nodes: policy refused for the test' "$D/err" ||
	    fail "stderr: $(cat "$D/err")"
	sleep 0.2
	[ ! -e "$D/ran" ] || fail "the job ran although its policy was refused"
}

# Bad lists fail before the job is forked: 125 and the reason; an unknown
# name is refused after NODES, with nothing managed.
case_bad_lists() {
	local l rc
	fake
	for l in 0 2,2 2,,3 , 'n 2' 4294967296 node2,2 nosuch; do
		rc=0
		"$OMRUN" -s "$SOCK" --nodes "$l" /bin/sh -c 'echo ran >"$0"' \
		    "$D/ran" </dev/null 2>"$D/err" || rc=$?
		[ "$rc" -eq 125 ] || fail "--nodes '$l': omrun exited $rc"
		grep -q '^omrun: --nodes: ' "$D/err" ||
		    fail "--nodes '$l': stderr: $(cat "$D/err")"
		[ ! -e "$D/ran" ] || fail "--nodes '$l': the job ran"
	done
	! grep -q MANAGE "$D/log" || fail "a bad list got as far as MANAGE"
	# the last one, an unknown name, was looked up and said so
	grep -q "no node named 'nosuch'" "$D/err" || fail "stderr: $(cat "$D/err")"
	rc=0
	"$OMRUN" -s "$SOCK" --nodes 2,5,2 /bin/true </dev/null 2>"$D/err" || rc=$?
	grep -q 'node 2 listed twice' "$D/err" || fail "2,5,2: $(cat "$D/err")"
	# 65 ids: over the cap
	rc=0
	"$OMRUN" -s "$SOCK" --nodes "$(seq -s, 1 65)" /bin/true </dev/null \
	    2>"$D/err" || rc=$?
	[ "$rc" -eq 125 ] && grep -q 'more than 64 nodes' "$D/err" ||
	    fail "65 nodes: exit $rc, stderr: $(cat "$D/err")"
	# --restore takes no policy
	rc=0
	"$OMRUN" -s "$SOCK" --stay --restore /nonexistent </dev/null 2>"$D/err" || rc=$?
	[ "$rc" -eq 125 ] && grep -q usage "$D/err" || fail "--stay --restore: exit $rc"
}

run_case "--stay sends POLICY after MANAGE" case_stay
run_case "--nodes ids after --on's MIGRATE" case_nodes_ids
run_case "--nodes names through NODES" case_nodes_names
run_case "a refused policy: the job never runs" case_refused
run_case "bad --nodes lists" case_bad_lists
finish
