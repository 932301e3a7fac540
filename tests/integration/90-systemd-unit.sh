#!/bin/bash
# 90-systemd-unit.sh: issue 11, section 2: the shipped unit, run by a real
# systemd. omm is installed (`cmake --install --prefix /usr`, DESTDIR) into
# a directory; a container boots a real systemd (systemd-nspawn) over this
# machine's own tree with that install laid on top (an overlay), in node 2
# of a namespace cluster; node 1 is a plain ommd at home. The test checks:
#   - the installed unit names /usr/sbin/ommd and `systemd-analyze verify`
#     finds nothing wrong with it;
#   - the install's sysusers.d file made the omm-guest user (the test first
#     removes omm-guest from the container's /etc);
#   - Type=notify: `systemctl start ommd` returns only once ommd is ready,
#     and omctl is answered at the first try right after it;
#   - the journal keeps ommd's priorities (info 6, debug 7, warning 4);
#   - ommd hosts a guest from node 1 under the unit (no seccomp or namespace
#     of the unit stops it), in a cgroup of its own, not the daemon's;
#   - `systemctl stop ommd` sends the guest home, where it runs on;
#   - a process in the unit's cgroup that is not ommd (what a deputy or a
#     job supervisor is) outlives `systemctl restart ommd` (KillMode), and
#     `systemctl reload` with a broken config keeps ommd running.
#
# Emulated, because nspawn on a cgroup v1 ("hybrid") host mounts the v1
# controller hierarchies read-only in the container, so the container's
# systemd cannot delegate the memory controller that guests need: the test
# remounts the container's own v1 memory hierarchy (a group made for this
# test, the container's cgroup-namespace root) read-write, which is what
# Delegate=yes gives the unit on such a host. On a cgroup v2 host nothing is
# emulated. Every other directive is applied by the container's systemd.
#
# Skips (exit 77) without root, systemd-nspawn (Debian's systemd-container),
# overlayfs, or when the container cannot boot here.
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/migrate.sh"

skip77() { echo "SKIP: $*" >&2; echo "0 passed, 0 failed, 1 skipped"; exit 77; }
[ "$(id -u)" -eq 0 ] || skip77 "needs root"
for p in /usr/bin/systemd-nspawn /usr/lib/systemd/systemd \
    /usr/bin/systemd-analyze "$PY" "$OMM_BUILD/ommd" "$OMM_BUILD/omctl" \
    "$OMM_BUILD/omrun"; do
	[ -x "$p" ] || skip77 "missing $p (tests/deps.sh installs systemd-container)"
done
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
    skip77 "no overlayfs in this kernel"

W=$(mktemp -d /tmp/omm-unit.XXXXXX)
MEMCG=
NSPAWN=
CT=
cleanup_unit() {
	if [ -n "$NSPAWN" ] && kill -0 "$NSPAWN" 2>/dev/null; then
		kill -TERM "$NSPAWN" 2>/dev/null	# the container powers off
		for _ in $(seq 100); do
			kill -0 "$NSPAWN" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$NSPAWN" 2>/dev/null
	fi
	[ -n "$MEMCG" ] && find "$MEMCG" -depth -type d -exec rmdir {} + 2>/dev/null
	# the overlay lived in the container's own mount namespace: gone
	rm -rf "$W"
}
trap cleanup_unit EXIT

# ct CMD...: CMD in the container, as its root, in all its namespaces.
ct() { nsenter -t "$CT" -m -u -i -n -p -C -- "$@"; }
ct_omctl() { ct /usr/bin/omctl "$@"; }

# 1. The install: into $W/root, for /usr.
DESTDIR=$W/root cmake --install "$OMM_BUILD" --prefix /usr >"$W/install.log" 2>&1 ||
    give_up "cmake --install failed: $(tail -n 5 "$W/install.log")"
UNIT=$W/root/usr/lib/systemd/system/ommd.service
check "the installed unit runs /usr/sbin/ommd" \
    grep -qx 'ExecStart=/usr/sbin/ommd --foreground' "$UNIT"
check "ommd is installed at /usr/sbin/ommd" test -x "$W/root/usr/sbin/ommd"
check "a sysusers.d file for omm-guest is installed" \
    grep -q '^u omm-guest ' "$W/root/usr/lib/sysusers.d/omm.conf"

# 2. Node 1, at home: a plain ommd. Node 2's namespaces are the container's
# network; its config and certificate go into the container's /etc/omm.
CLUSTER_CONF_EXTRA=$(fabric_conf map)
cluster_up 2 >/dev/null || give_up "cluster_up 2"
node_start 1 -v || give_up "node 1 does not start"
node_omctl 1 set balance off >/dev/null
N1T=$(node_dir 1)/tmp
LOG1=$(node_dir 1)/log/ommd.log

# The container's root: this machine's / under the install, changes on a
# tmpfs; made in the mount namespace the container is started from, so no
# other namespace on this machine ever holds it.
cat >"$W/boot.sh" <<'EOF'
set -e
W=$1 N2=$2 NS=$3 MEMCG=$4
mount --make-rprivate /
mount -t tmpfs -o mode=755 omm-unit "$W/t"
mkdir "$W/t/upper" "$W/t/work" "$W/t/inst" "$W/merged"
cp -a "$W/root/." "$W/t/inst/"	# a lower layer may not lie in another (/)
mount -t overlay overlay -o "lowerdir=$W/t/inst:/,upperdir=$W/t/upper,workdir=$W/t/work" "$W/merged"
M=$W/merged
# the users the install must make are not there
sed -i '/^omm-guest:/d' "$M/etc/passwd" "$M/etc/group" "$M/etc/shadow" "$M/etc/gshadow"
systemd-id128 new >"$M/etc/machine-id"
echo node2 >"$M/etc/hostname"
mkdir -p "$M/etc/systemd/system" "$M/etc/omm"
cat >"$M/etc/systemd/system/omm-test.target" <<'T'
[Unit]
Description=omm unit test: the basic system, then ommd by hand
Requires=basic.target
After=basic.target
T
cp "$N2/etc/"* "$M/etc/omm/"
grep -v '^load_cgroup' "$N2/etc/ommd.conf" >"$M/etc/omm/ommd.conf"
echo "verbose = 1" >>"$M/etc/omm/ommd.conf"
rm -rf "$M/var/lib/omm" "$M/run/omm"
# the container's memory group (v1): its cgroup namespace's root
if [ -n "$MEMCG" ]; then echo $$ >"$MEMCG/cgroup.procs"; fi
exec systemd-nspawn -D "$M" --register=no --keep-unit -M "omm-unit-$$" \
    --network-namespace-path="/run/netns/$NS" $NSPAWN_OPTS -b -- systemd.unit=omm-test.target
EOF
mkdir "$W/t"
if [ -n "$(_cl_mem_kind | grep '^v1 ')" ]; then
	MEMCG=$(_cl_mem_kind | cut -d' ' -f2)/omm-unit-$CLUSTER_ID
	mkdir -p "$MEMCG" || give_up "mkdir $MEMCG"
fi
# nspawn's own seccomp allow-list (a container's, not the unit's) lacks
# pidfd_getfd, which a host uses to take a guest's seccomp listener.
# The guest's mapped files (python and its libraries) are bound from the
# real file system: an overlay's stat() and /proc/PID/maps disagree on a
# file's device, and the guest's send-home check would call every mapped
# file replaced (an artefact of the overlay, not of the unit).
NSPAWN_OPTS="--system-call-filter=pidfd_getfd"
for b in "$(readlink -f "$PY")" /usr/lib/x86_64-linux-gnu /usr/lib/locale \
    "/usr/lib/$(basename "$(readlink -f "$PY")")"; do
	[ -e "$b" ] && NSPAWN_OPTS="$NSPAWN_OPTS --bind-ro=$b"
done
NSPAWN_OPTS=$NSPAWN_OPTS setsid unshare -m bash "$W/boot.sh" "$W" "$(node_dir 2)" "$(_cl_ns 2)" "$MEMCG" \
    </dev/null >"$W/boot.log" 2>&1 &
NSPAWN=$!
for _ in $(seq 300); do
	CT=$(ps -o pid=,comm= --ppid "$NSPAWN" 2>/dev/null | awk '$2 == "systemd" { print $1 }')
	[ -n "$CT" ] && ct systemctl is-active omm-test.target >/dev/null 2>&1 && break
	kill -0 "$NSPAWN" 2>/dev/null || break
	sleep 0.1
done
if [ -z "$CT" ] || ! ct systemctl is-active omm-test.target >/dev/null 2>&1; then
	sed 's/^/# boot: /' "$W/boot.log" | tail -n 20
	skip77 "a systemd container does not boot here (systemd-nspawn, log above)"
fi
echo "# container: systemd pid $CT, $(ct systemctl --version | head -n 1)"

# 3. The unit as installed, verified where it is installed.
check "systemd-analyze verify ommd.service: nothing to say" \
    eval '[ -z "$(ct systemd-analyze verify /usr/lib/systemd/system/ommd.service 2>&1 | tee "$W/verify.log")" ]'
sed 's/^/# verify: /' "$W/verify.log"
check "omm-guest was made at boot by systemd-sysusers from the install's file" \
    ct getent passwd omm-guest

# v1 memory: what Delegate=yes gives the unit on a v1 host (see the top)
if [ -n "$MEMCG" ]; then
	check "(emulated delegation) the container's v1 memory hierarchy made writable" \
	    ct mount -o remount,bind,rw /sys/fs/cgroup/memory
fi

# 4. Readiness: start returns once ommd is ready; omctl at the first try.
check "systemctl start ommd" ct systemctl start ommd
check "omctl ps answers at once after start returned (no retry)" quiet ct_omctl ps
check "the unit is active, its status ommd's" eval \
    '[ "$(ct systemctl show -p ActiveState --value ommd)" = active ] &&
     [ "$(ct systemctl show -p StatusText --value ommd)" = running ]'
# the journal's order: ommd listened before systemd called it started
ct journalctl -b -o cat -u ommd --no-pager >"$W/journal.txt" 2>&1
check "the journal: 'listening on' before 'Started'" $PY -c '
import sys
t = open(sys.argv[1]).read().splitlines()
l = [i for i, x in enumerate(t) if x.startswith("listening on /run/omm/ommd.sock")]
s = [i for i, x in enumerate(t) if x.startswith("Started ommd.service")]
sys.exit(0 if l and s and l[0] < s[0] else 1)' "$W/journal.txt"
MAIN=$(ct systemctl show -p MainPID --value ommd)
check "node 1 and node 2 see each other" within 10 all_see_up "1" 1 2

# 5. A guest from node 1, hosted by the unit's ommd.
make_tick
job_start tick $PY "/tmp/tick.py" 0 || give_up "omrun wrote no pidfile ($(cat "$N1T/tick.err"))"
check "tick runs at home" within 5 grows "$N1T/tick.out" 0.3
check "it migrates to node 2 (the container)" migrate_to "$JOB" 2
check "it runs there" grows "$N1T/tick.out" 0.5
GUEST=$(ct pgrep -u omm-guest -f tick.py | head -n 1)
check "a guest process of omm-guest runs in the container" [ -n "$GUEST" ]
if [ -n "$GUEST" ]; then
	ct cat "/proc/$GUEST/cgroup" >"$W/guest.cg"
	ct cat "/proc/$MAIN/cgroup" >"$W/daemon.cg"
	sed 's/^/# guest cgroup: /' "$W/guest.cg"
	sed 's/^/# ommd cgroup: /' "$W/daemon.cg"
	check "the guest is in the unit (name=systemd or v2)" \
	    grep -Eq '^(0::|[0-9]+:name=systemd:)/system.slice/ommd.service' "$W/guest.cg"
	check "the guest's memory group is its own, not ommd's" $PY -c '
import sys
def mem(f):
    for l in open(f):
        i, c, p = l.rstrip("\n").split(":", 2)
        if "memory" in c.split(",") or (i == "0" and c == "" and mem.v2):
            return p
mem.v2 = not any("memory" in l.split(":")[1].split(",") for l in open(sys.argv[1]))
g, d = mem(sys.argv[1]), mem(sys.argv[2])
sys.exit(0 if g and "/guests/guest-" in g and g != d else 1)' "$W/guest.cg" "$W/daemon.cg"
fi
check "the journal says where guests live" grep -q '^guests live in ' \
    <(ct journalctl -b -o cat -u ommd --no-pager)

# 6. Journal priorities: ommd's own lines carry theirs; no "<N>" is left.
ct journalctl -b -u ommd -o json --no-pager >"$W/journal.json"
check "journal: info 6, debug 7 (verbose), no '<N>' left as text" $PY -c '
import json, sys
pri = {}
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e.get("SYSLOG_IDENTIFIER") != "ommd":
        continue
    m = e.get("MESSAGE")
    if not isinstance(m, str):
        continue
    if m[:1] == "<":
        print("# left as text:", m); sys.exit(1)
    pri.setdefault(e["PRIORITY"], m)
print("# priorities seen:", {k: v[:50] for k, v in sorted(pri.items())})
sys.exit(0 if pri.get("6", "").startswith("listening on") and "7" in pri else 1)' "$W/journal.json"

# reload with a broken config: a warning (4), RELOADING=1 then READY=1
ct sh -c 'cp /etc/omm/ommd.conf /etc/omm/ommd.conf.good && echo "no_such_key = 1" >>/etc/omm/ommd.conf'
check "systemctl reload ommd" ct systemctl reload ommd
check "the journal has the warning at priority 4 (-p warning)" within 5 eval \
    'ct journalctl -b -u ommd -p warning -o cat --no-pager | grep -q "reload: .*unknown key .no_such_key."'
ct sh -c 'mv /etc/omm/ommd.conf.good /etc/omm/ommd.conf'
check "still active after the reload, same pid" eval \
    '[ "$(ct systemctl show -p ActiveState --value ommd)" = active ] &&
     [ "$(ct systemctl show -p MainPID --value ommd)" = "$MAIN" ]'

# 7. Stop: the guest goes home and runs on there.
check "systemctl stop ommd (within TimeoutStopSec)" ct systemctl stop ommd
check "the unit stopped cleanly (Result=success)" \
    eval '[ "$(ct systemctl show -p Result --value ommd)" = success ]'
check "tick is home on node 1" within 10 ps_q 1 "$JOB" "p['where'] == 1"
check "it runs on at home" grows "$N1T/tick.out" 0.5
check "no guest left in the container" within 5 \
    eval '[ -z "$(ct pgrep -u omm-guest)" ]'
check "the journal: ommd sent its guests home on SIGTERM" eval \
    'ct journalctl -b -u ommd -o cat --no-pager | grep -q "Terminated: shutting down"'

# 8. Restart: a process in the unit's cgroup that is not ommd (as a
# deputy or a job supervisor is) lives on; ommd comes back ready.
check "systemctl start ommd again" ct systemctl start ommd
ct sh -c 'sleep 600 </dev/null >/dev/null 2>&1 & echo $! >/run/omm-unit-sleeper'
SLEEPER=$(ct cat /run/omm-unit-sleeper)
MAIN=$(ct systemctl show -p MainPID --value ommd)
if ct test -f /sys/fs/cgroup/systemd/system.slice/ommd.service/cgroup.procs; then
	UCG=/sys/fs/cgroup/systemd/system.slice/ommd.service
else
	UCG=/sys/fs/cgroup/system.slice/ommd.service
fi
ct mkdir -p "$UCG/stand-in"
check "a stand-in process joins the unit's cgroup" \
    ct sh -c "echo $SLEEPER >$UCG/stand-in/cgroup.procs"
check "systemctl restart ommd" ct systemctl restart ommd
check "ommd is back, another pid, answering" eval \
    '[ "$(ct systemctl show -p MainPID --value ommd)" != "$MAIN" ] && quiet ct_omctl ps'
check "the stand-in outlived the restart (KillMode=process)" ct kill -0 "$SLEEPER"
ct kill -KILL "$SLEEPER" 2>/dev/null

# 9. A job of the container's own: its supervisor, and the deputy it forks
# when the job goes to node 1, live in the unit's jobs group, not ommd's
# (issue 11: not charged to the daemon); both outlive `systemctl restart`,
# which takes the job back: ps shows it away on node 1, as before.
# A static program on the container's /run (tmpfs): files of the overlay
# the container's root is cannot migrate yet (their mappings name the lower
# layer's inode, which omm takes for a replaced file: docs/limits.md).
printf '#include <unistd.h>\nint main(void) { for (;;) sleep(1); }\n' >"$W/ctsleep.c"
gcc -static -O2 -o "$W/ctsleep" "$W/ctsleep.c" || give_up "gcc -static"
ct sh -c 'cat >/run/omm-ctsleep && chmod 755 /run/omm-ctsleep && touch -d @1767225600 /run/omm-ctsleep' <"$W/ctsleep"
# node 1 must have the file at the same path, size and mtime (a host
# lacking it, or with another, refuses the restore: issue 12)
node_exec 1 sh -c 'cat >/run/omm-ctsleep && chmod 755 /run/omm-ctsleep && touch -d @1767225600 /run/omm-ctsleep' <"$W/ctsleep"
ct sh -c 'setsid /usr/bin/omrun --pidfile /run/omm-ctjob.pid /run/omm-ctsleep \
    </dev/null >/dev/null 2>&1 &'
check "a job starts in the container" within 10 ct test -s /run/omm-ctjob.pid
CTJOB=$(ct cat /run/omm-ctjob.pid 2>/dev/null)
# ct_ps_q PID EXPR: the container's `omctl ps --json` entry of PID passes EXPR.
ct_ps_q() {
	ct_omctl ps --json 2>/dev/null | $PY -c '
import json, sys
p = {x["pid"]: x for x in json.load(sys.stdin)["processes"]}.get(int(sys.argv[1]))
sys.exit(0 if p is not None and eval(sys.argv[2]) else 1)' "$1" "$2"
}
check "it is in the container's ps" within 5 ct_ps_q "$CTJOB" "True"
SUP=$(ct pgrep -f "^ommd --job " | head -n 1)
MAIN=$(ct systemctl show -p MainPID --value ommd)
# memgroup PID: its group in the memory hierarchy (v1) or the v2 one
memgroup() {
	ct cat "/proc/$1/cgroup" | $PY -c '
import sys
ls = [l.rstrip("\n").split(":", 2) for l in sys.stdin]
v1 = [p for i, c, p in ls if "memory" in c.split(",")]
print(v1[0] if v1 else [p for i, c, p in ls if i == "0"][0])'
}
echo "# supervisor $SUP: $(memgroup "$SUP" 2>&1); ommd $MAIN: $(memgroup "$MAIN" 2>&1)"
check "its supervisor is in the jobs group beside ommd's, not ommd's" eval \
    '[ -n "$SUP" ] && memgroup "$SUP" | grep -q "/jobs$" &&
     [ "$(memgroup "$SUP")" != "$(memgroup "$MAIN")" ]'
check "node 1 and node 2 see each other again" within 15 all_see_up "1" 1 2
check "it migrates to node 1" quiet ct_omctl migrate "$CTJOB" node1
check "the container's ps says it is on node 1" within 5 \
    ct_ps_q "$CTJOB" "p['where'] == 1 and p['away'] == 'remote'"
DEP=$(ct pgrep -P "$SUP" | head -n 1)
echo "# deputy $DEP: $(memgroup "$DEP" 2>&1)"
check "its deputy is in the jobs group too" eval \
    '[ -n "$DEP" ] && memgroup "$DEP" | grep -q "/jobs$"'
check "systemctl restart ommd with the job away" ct systemctl restart ommd
check "the supervisor and the deputy outlived it" \
    eval 'ct kill -0 "$SUP" && ct kill -0 "$DEP"'
check "after the restart ps shows the job away on node 1" within 10 \
    ct_ps_q "$CTJOB" "p['where'] == 1 and p['away'] == 'remote'"
check "it comes home" quiet ct_omctl migrate "$CTJOB" home
check "... and is home" within 5 ct_ps_q "$CTJOB" "p['away'] != 'remote'"
ct kill "$CTJOB" 2>/dev/null
node_exec 1 rm -f /run/omm-ctsleep

if [ "$fail" -ne 0 ]; then
	logs_of -a "$JOB"
	ct journalctl -b -u ommd -o short-monotonic --no-pager | tail -n 60 |
	    sed 's/^/# node2 journal: /'
fi
node_exec 1 kill "$JOB" 2>/dev/null
wait_pid "$OMRUN" 10
finish
