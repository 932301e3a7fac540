#!/bin/bash
# 83-balance-leave.sh: issue 6, acceptance 4. A node that goes sends its
# guests off first and no process is lost. Four nodes at 0.45 of a core
# each (cgroup); 8 CPU-bound jobs (bc -l, scale 4500: about 10 s of CPU each
# here, so that they still run when the nodes go) are started with omrun on
# node 1 and spread by the balancer. Then:
#
# - node_stop 4 (ommd gets SIGTERM) while it hosts some of them: every one
#   comes home before node 4's ommd is gone (node 1's log: "home from node
#   node4 (its host stops)"), and no job runs on node 4 afterwards;
# - `omctl leave` on node 3 while it hosts some: they come home the same
#   way, and the balancer sends nothing back to node 3 (it gossips
#   "leaving" and "block");
# - every job ends with exit 0 and output identical to an uninterrupted run.
#
# Where the jobs run is sampled once a second from node 1's ps --json.
set -u
: "${OMM_BUILD:?OMM_BUILD must point at the build tree}"
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
# an inherited descriptor would make the jobs unmovable (a pipe) or leak
for _fd in /proc/$$/fd/*; do
	_fd=${_fd##*/}
	[ "$_fd" -gt 2 ] && [ "$_fd" -ne 255 ] && eval "exec $_fd>&-" 2>/dev/null
done
. "$OMM_SRC/tests/cluster/cluster.sh"
. "$OMM_SRC/tests/cluster/fabric.sh"
PY=/usr/bin/python3
SCALE=${BAL_SCALE:-4500}
NJOBS=8
for p in $PY /usr/bin/bc "$OMM_BUILD/omrun" "$OMM_BUILD/omctl" "$OMM_BUILD/ommd"; do
	[ -x "$p" ] || { echo "missing $p" >&2; echo "0 passed, 0 failed, 1 skipped"; exit 0; }
done
id omm-guest >/dev/null 2>&1 ||
    { echo "no user omm-guest (tests/deps.sh)" >&2; echo "0 passed, 0 failed, 1 skipped"; exit 0; }
[ -n "$(_cl_cpu_kind)" ] ||
    { echo "no cgroup cpu controller: no CPU shares" >&2; echo "0 passed, 0 failed, 1 skipped"; exit 0; }

# octl I ARGS: omctl against node I's socket, from outside the node.
octl() { local i=$1; shift; "$OMM_BUILD/omctl" -s "$(node_dir "$i")/run/ommd.sock" "$@"; }
quiet() { "$@" >/dev/null; }

W=$(mktemp -d /tmp/omm-bal83.XXXXXX)
trap 'rm -rf "$W"' EXIT
echo "scale=$SCALE; 4*a(1)" >"$W/pi.bc"
/usr/bin/bc -l "$W/pi.bc" >"$W/ref" 2>/dev/null
check "reference: bc scale $SCALE, $(stat -c %s "$W/ref") bytes" [ -s "$W/ref" ]

CLUSTER_CONF_EXTRA=$(fabric_conf map)
CLUSTER_CPU=0.45
if ! cluster_up 4 >/dev/null; then
	bad "cluster_up 4"
	finish
	exit 1
fi
started=1
for i in 1 2 3 4; do node_start "$i" -v || started=0; done
check "nodes 1-4 started, 0.45 of a core each" [ "$started" -eq 1 ]
check "nodes 1-4 see each other" within 15 all_see_up "1 2 3 4" 1 2 3 4
N1T=$(node_dir 1)/tmp
N1LOG=$(node_dir 1)/log/ommd.log
cp "$W/pi.bc" "$N1T/pi.bc"

# The sampler: node 1's processes (pid where migrations) once a second,
# as JSON lines in $W/samples, until $W/samples.stop exists.
$PY - "$OMM_BUILD/omctl" "$(node_dir 1)/run/ommd.sock" "$W/samples" \
    </dev/null <<'EOF' &
import json, os, subprocess, sys, time
omctl, sock, out = sys.argv[1:4]
with open(out, "w") as f:
    while not os.path.exists(out + ".stop"):
        t = time.time()
        try:
            r = subprocess.run([omctl, "-s", sock, "ps", "--json"],
                               capture_output=True, timeout=5)
            p = [[x["pid"], x["where"], x["migrations"]]
                 for x in json.loads(r.stdout)["processes"]]
            f.write(json.dumps({"t": t, "p": p}) + "\n")
            f.flush()
        except Exception:
            pass
        time.sleep(max(0.0, 1.0 - (time.time() - t)))
EOF
SAMPLER=$!

# on_node I: the pids node 1's ps --json says run on node I now.
on_node() {
	octl 1 ps --json 2>/dev/null | $PY -c '
import json, sys
print(" ".join(str(x["pid"]) for x in json.load(sys.stdin)["processes"]
               if x["where"] == int(sys.argv[1]) and x["away"] == "remote"))' "$1"
}
# hosts I N: node I hosts N jobs or more (as node 1 sees it)
hosts() { local p; p=$(on_node "$1"); [ "$(wc -w <<<"$p")" -ge "$2" ]; }
# came_home PID I: node 1's log says PID came home from node I as it went
came_home() {
	grep -Eq "process $1: home from node (node)?$2 \(its host stops\)" "$N1LOG"
}
all_home() {
	local p
	for p in $2; do came_home "$p" "$1" || return 1; done
}
# none_after T I: no sample taken after T (s since the epoch) has a job on node I
none_after() {
	$PY - "$W/samples" "$1" "$2" <<'EOF'
import json, sys
t, node = float(sys.argv[2]), int(sys.argv[3])
seen = ["pid %d at %+.1f s" % (x[0], s["t"] - t)
        for line in open(sys.argv[1]) for s in [json.loads(line)]
        if s["t"] > t for x in s["p"] if x[1] == node]
if seen:
    print("# on node %d: %s" % (node, ", ".join(seen[:10])))
sys.exit(0 if not seen else 1)
EOF
}

t0=$(now_ms)
for j in $(seq $NJOBS); do
	(
		node_exec 1 "$OMM_BUILD/omrun" --pidfile "/tmp/j$j.pid" \
		    /usr/bin/bc -l /tmp/pi.bc </dev/null >"$N1T/j$j.out" 2>"$N1T/j$j.err"
		echo "$? $(now_ms)" >"$W/j$j.end"
	) &
done

# Node 4 stops with guests on it.
check "the jobs spread: node 4 and node 3 host one or more" \
    within 30 eval 'hosts 4 1 && hosts 3 1'
on4=$(on_node 4)
echo "# at $(( ($(now_ms) - t0) / 1000 )) s: on node 4: $on4; on node 3: $(on_node 3)"
t=$(now_ms)
check "node_stop 4 (SIGTERM): its ommd ends" node_stop 4
echo "# node 4's ommd took $(( $(now_ms) - t )) ms to end"
check "every job node 4 hosted ($on4) came home as it stopped" \
    within 10 all_home 4 "$on4"
grep -E "home from node (node)?4 " "$N1LOG" | sed 's/^/# node1: /'
tstop=$(date +%s.%N)

# Node 3 leaves with guests on it.
check "node 3 still hosts a job" within 10 hosts 3 1
on3=$(on_node 3)
check "node 3: omctl leave" quiet octl 3 leave
tleave=$(date +%s.%N)
echo "# on node 3 as it left: $on3; 3 s later: $(sleep 3; on_node 3)"
check "every job node 3 hosted ($on3) came home as it left" \
    within 10 all_home 3 "$on3"
grep -E "home from node (node)?3 " "$N1LOG" | sed 's/^/# node1: /'
check "node 1 sees node 3 leaving" within 5 nodes_q 1 "n[3]['state'] != 'up' or 'leaving' in n[3]['flags']"

# Every job ends right.
all_ended() {
	local j
	for j in $(seq $NJOBS); do [ -s "$W/j$j.end" ] || return 1; done
}
within 150 all_ended || bad "jobs still running after 150 s"
touch "$W/samples.stop"
wait "$SAMPLER" 2>/dev/null
for j in $(seq $NJOBS); do
	[ -s "$W/j$j.end" ] || node_exec 1 kill -KILL "$(cat "$N1T/j$j.pid")" 2>/dev/null
done
wait
echo "# makespan $(( $(awk '{print $2}' "$W"/j*.end | sort -n | tail -1) - t0 )) ms"
for j in $(seq $NJOBS); do
	read -r rc te <"$W/j$j.end" 2>/dev/null || rc=none
	if [ "$rc" = 0 ] && cmp -s "$W/ref" "$N1T/j$j.out"; then
		ok "job $j: exit 0, output identical to the reference"
	else
		bad "job $j: exit $rc, output: $(cmp "$W/ref" "$N1T/j$j.out" 2>&1 | head -1); stderr: $(head -c 300 "$N1T/j$j.err")"
	fi
done
check "no job ran on node 4 after it stopped (samples from 2 s on)" \
    none_after "$(echo "$tstop + 2" | bc)" 4
check "no job ran on node 3 after it left (samples from 2 s on)" \
    none_after "$(echo "$tleave + 2" | bc)" 3
grep -E 'balancer: process [0-9]+ from node' "$N1LOG" | sed 's/^/# node1: /'
# an ASan build reports in the logs (leaks when an ommd exits: node_stop)
clean_logs() { ! grep -Eq 'Sanitizer|runtime error:' "$CLUSTER_DIR"/n*/log/ommd.log; }
check "no sanitizer report in the nodes' logs" clean_logs
finish
