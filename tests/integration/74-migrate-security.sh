#!/bin/bash
# 74-migrate-security.sh: issue 5, acceptance 5. A job of an unprivileged
# user (omm-t74, made here if missing, never removed), started with omrun on node 1
# and migrated to node 2, then tries, on node 2:
#   open("/etc/shadow")  -> EACCES: judged at home with the user's credentials
#   write /tmp/x         -> lands in node 1's /tmp, owned by the user; node
#                           2's /tmp is unchanged
#   kill(1, SIGKILL)     -> EPERM
# and sees home's identity: its uid, node 1's hostname, node 1's /tmp. It
# waits on a fifo ("go") while it moves, so that all of this happens away.
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/migrate.sh"
migrate_need /usr/sbin/runuser /usr/sbin/useradd

U=omm-t74
test_user "$U"
UID_U=$(id -u "$U")
# files' detail, for a snapshot of node 2 that also sees a changed file
SNAP='%p %s %u %T@\n'

migrate_cluster 2
N2T=$(node_dir 2)/tmp

# release FIFO: let the job past its open() of FIFO. The job opens and
# closes it without reading, so our write may find no reader any more:
# SIGPIPE must not end this script.
release() { (trap '' PIPE; echo go >"$1") 2>/dev/null; return 0; }

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
files 2 "$SNAP" >"$N1T/snap2.before"

job_start -u "$U" sec $PY /tmp/sec.py ||
    give_up "omrun as $U wrote no pidfile ($(cat "$N1T/sec.err"))"
sleep 0.5
check "job $JOB is $U's" ps_q 1 "$JOB" "p['uid'] == $UID_U"
check "$U's job migrates to node2 (asked by root)" quiet node_omctl 1 migrate "$JOB" node2
check "ps: it runs on node 2" ps_q 1 "$JOB" "p['where'] == 2 and p['away'] == 'remote'"
g=$(guest_pids 2)
check "node 2 runs it as omm-guest ($g)" [ -n "$g" ]
release "$N1T/go"
check "it tried everything" within 5 grep -q '^sees ' "$N1T/sec.out"
sed 's/^/# job: /' "$N1T/sec.out"
check "open /etc/shadow: EACCES" grep -qx 'shadow EACCES' "$N1T/sec.out"
check "write /tmp/x: done" grep -qx 'write ok' "$N1T/sec.out"
check "kill -9 1: EPERM" grep -qx 'kill1 EPERM' "$N1T/sec.out"
check "getuid/geteuid: $UID_U, the user's" grep -qx "uid $UID_U $UID_U" "$N1T/sec.out"
check "hostname: node1 (home's)" grep -qx 'host node1 node1' "$N1T/sec.out"
check "/tmp: node 1's" grep -qx 'sees True' "$N1T/sec.out"
check "still on node 2 after all this" ps_q 1 "$JOB" "p['where'] == 2"
check "refused calls counted as forwarded errors" ps_q 1 "$JOB" "p['fwd_errors'] >= 2"
check "node 1's /tmp/x has the data, owned by $U" \
    [ "$(cat "$N1T/x" 2>/dev/null)" = "written away" -a "$(stat -c %U "$N1T/x" 2>/dev/null)" = "$U" ]
check "node 2's /tmp has no x" [ ! -e "$N2T/x" ]
check "node 2's /tmp and /var/lib/omm unchanged" diff "$N1T/snap2.before" <(files 2 "$SNAP")
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
release "$N1T/go2"
wait_pid "$OMRUN" 10
check "omrun exits 0 (got $RC; stderr: $(head -c 200 "$N1T/sec.err"))" [ "$RC" -eq 0 ]
check "no guest left on node 2" within 3 [ -z "$(guest_pids 2)" ]
finish
