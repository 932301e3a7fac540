#!/bin/bash
# 74-migrate-security.sh: issue 5, acceptance 5. A job of an unprivileged
# user (omm-t74, made here and removed after), started with omrun on node 1
# and migrated to node 2, then tries, on node 2:
#   open("/etc/shadow")  -> EACCES: judged at home with the user's credentials
#   write /tmp/x         -> lands in node 1's /tmp, owned by the user; node
#                           2's /tmp is unchanged
#   kill(1, SIGKILL)     -> EPERM
# and sees home's identity: its uid, node 1's hostname, node 1's /tmp. It
# waits on a fifo ("go") while it moves, so that all of this happens away.
set -u
: "${OMM_BUILD:?OMM_BUILD must point at the build tree}"
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
for _fd in /proc/$$/fd/*; do
	_fd=${_fd##*/}
	[ "$_fd" -gt 2 ] && [ "$_fd" -ne 255 ] && eval "exec $_fd>&-" 2>/dev/null
done
. "$OMM_SRC/tests/cluster/cluster.sh"
. "$OMM_SRC/tests/cluster/fabric.sh"
PY=/usr/bin/python3
for p in $PY /usr/sbin/runuser /usr/sbin/useradd "$OMM_BUILD/omrun" "$OMM_BUILD/omctl" \
    "$OMM_BUILD/ommd"; do
	[ -x "$p" ] || { echo "missing $p" >&2; echo "0 passed, 0 failed, 1 skipped"; exit 0; }
done
id omm-guest >/dev/null 2>&1 ||
    { echo "no user omm-guest (tests/deps.sh)" >&2; echo "0 passed, 0 failed, 1 skipped"; exit 0; }

U=omm-t74
if ! id -u "$U" >/dev/null 2>&1; then
	useradd --system --no-create-home --shell /usr/sbin/nologin "$U" ||
	    { bad "useradd $U"; finish; exit 1; }
	# after cluster_down (which kills the user's processes) at exit
	trap 'for n in $(seq 50); do userdel '"$U"' 2>/dev/null && break; sleep 0.1; done' EXIT
fi
UID_U=$(id -u "$U")

# quiet CMD...: CMD with its stdout discarded (check prints its own line)
quiet() { "$@" >/dev/null; }
ps_q() {
	node_omctl "$1" ps --json 2>/dev/null | $PY -c '
import json, sys
try:
    d = json.load(sys.stdin)
except Exception:
    sys.exit(1)
p = {x["pid"]: x for x in d["processes"]}.get(int(sys.argv[1]))
sys.exit(0 if p is not None and eval(sys.argv[2]) else 1)' "$2" "$3"
}
guest_pids() {
	local p
	for p in $(ip netns pids "$(_cl_ns "$1")" 2>/dev/null); do
		[ "$(stat -c %U /proc/"$p" 2>/dev/null)" = omm-guest ] && echo "$p"
	done
	return 0
}
wait_pid() {
	local n=$(( $2 * 10 ))
	while kill -0 "$1" 2>/dev/null && [ "$n" -gt 0 ]; do
		[ "$(awk '{print $3}' /proc/"$1"/stat 2>/dev/null)" = Z ] && break
		sleep 0.1
		n=$((n - 1))
	done
	if [ "$n" -le 0 ]; then
		kill -KILL $(pgrep -P "$1") "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		RC=124
		return
	fi
	RC=0
	wait "$1" || RC=$?
}
snap() { (cd "$(node_dir "$1")" && find tmp lib -printf '%p %s %u %T@\n' | sort); }

CLUSTER_CONF_EXTRA=$(fabric_conf map)
if ! cluster_up 2 >/dev/null; then
	bad "cluster_up 2"
	finish
	exit 1
fi
started=1
for i in 1 2; do node_start "$i" -v || started=0; done
check "nodes 1-2 started" [ "$started" -eq 1 ]
check "nodes 1-2 see each other" within 10 all_see_up "1 2" 1 2
N1T=$(node_dir 1)/tmp
N2T=$(node_dir 2)/tmp

cat >"$N1T/sec.py" <<'EOF'
import errno, os, socket
def attempt(name, f):
    try:
        f()
        print(name, "ok", flush=True)
    except OSError as e:
        print(name, errno.errorcode.get(e.errno, e.errno), flush=True)
def write_x():
    with open("/tmp/x", "w") as f:
        f.write("written away\n")
open("/tmp/go").close()			# wait here while it moves
attempt("shadow", lambda: open("/etc/shadow").read())
attempt("write", write_x)
attempt("kill1", lambda: os.kill(1, 9))
print("uid", os.getuid(), os.geteuid(), flush=True)
print("host", socket.gethostname(), os.uname().nodename, flush=True)
print("sees", "sec.py" in os.listdir("/tmp"), flush=True)
open("/tmp/go2").close()		# and here while we look at it
EOF
chmod 644 "$N1T/sec.py"
mkfifo -m 666 "$N1T/go" "$N1T/go2"
snap 2 >"$N1T/snap2.before"

node_exec 1 /usr/sbin/runuser -u "$U" -- "$OMM_BUILD/omrun" --pidfile /tmp/sec.pid \
    $PY /tmp/sec.py </dev/null >"$N1T/out" 2>"$N1T/err" &
OMRUN=$!
within 5 test -s "$N1T/sec.pid"
JOB=$(cat "$N1T/sec.pid" 2>/dev/null)
if [ -z "$JOB" ]; then
	bad "omrun as $U wrote no pidfile ($(cat "$N1T/err"))"
	finish
	exit 1
fi
sleep 0.5
check "job $JOB is $U's" ps_q 1 "$JOB" "p['uid'] == $UID_U"
check "$U's job migrates to node2 (asked by root)" quiet node_omctl 1 migrate "$JOB" node2
check "ps: it runs on node 2" ps_q 1 "$JOB" "p['where'] == 2 and p['away'] == 'remote'"
g=$(guest_pids 2)
check "node 2 runs it as omm-guest ($g)" [ -n "$g" ]
echo go >"$N1T/go"
check "it tried everything" within 5 grep -q '^sees ' "$N1T/out"
sed 's/^/# job: /' "$N1T/out"
check "open /etc/shadow: EACCES" grep -qx 'shadow EACCES' "$N1T/out"
check "write /tmp/x: done" grep -qx 'write ok' "$N1T/out"
check "kill -9 1: EPERM" grep -qx 'kill1 EPERM' "$N1T/out"
check "getuid/geteuid: $UID_U, the user's" grep -qx "uid $UID_U $UID_U" "$N1T/out"
check "hostname: node1 (home's)" grep -qx 'host node1 node1' "$N1T/out"
check "/tmp: node 1's" grep -qx 'sees True' "$N1T/out"
check "still on node 2 after all this" ps_q 1 "$JOB" "p['where'] == 2"
check "refused calls counted as forwarded errors" ps_q 1 "$JOB" "p['fwd_errors'] >= 2"
check "node 1's /tmp/x has the data, owned by $U" \
    [ "$(cat "$N1T/x" 2>/dev/null)" = "written away" -a "$(stat -c %U "$N1T/x" 2>/dev/null)" = "$U" ]
check "node 2's /tmp has no x" [ ! -e "$N2T/x" ]
check "node 2's /tmp and /var/lib/omm unchanged" diff "$N1T/snap2.before" <(snap 2)
if [ -n "$g" ]; then
	# the guest itself: unprivileged, no capabilities, no_new_privs
	check "guest $g: uid omm-guest, no capabilities, NoNewPrivs 1" \
	    $PY - "$g" <<'EOF'
import pwd, sys
st = dict(l.split(":", 1) for l in open("/proc/%s/status" % sys.argv[1]))
uid = pwd.getpwnam("omm-guest").pw_uid
ok = (all(int(x) == uid for x in st["Uid"].split()) and
      all(int(st[k], 16) == 0 for k in ("CapPrm", "CapEff", "CapAmb")) and
      st["NoNewPrivs"].strip() == "1" and st["Seccomp"].strip() == "2")
sys.exit(0 if ok else 1)
EOF
fi
echo go >"$N1T/go2"
wait_pid "$OMRUN" 10
check "omrun exits 0 (got $RC; stderr: $(head -c 200 "$N1T/err"))" [ "$RC" -eq 0 ]
check "no guest left on node 2" within 3 [ -z "$(guest_pids 2)" ]
finish
