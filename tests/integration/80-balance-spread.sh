#!/bin/bash
# 80-balance-spread.sh: issue 6, acceptance 1 and 5. Four nodes, each held
# to 0.45 of a core by its cgroup; 8 CPU-bound jobs (bc computing pi) are
# started with omrun on node 1 and nobody types `migrate`: the balancers
# must spread them over all four nodes, the makespan must come near the
# ideal (all the jobs' CPU over the 1.8 cores of the cluster), every output
# must be byte-identical to an uninterrupted run, and no job may migrate
# more than a few times (4).
#
# Sizes: each job is bc -l with scale 3800, about 6-7 s of CPU here (not the
# issue's 20 s: the test must stay short; bench/balance.sh runs the 20 s
# jobs). Ideal: 8 x 6.8 / 1.8 = 30 s; all on node 1: 120 s.
#
# The bound is makespan <= 1.25 x ideal + SPREAD_S. SPREAD_S (6 s) is the
# start-up the model imposes whatever the job size: a process is not moved
# before it is 2 s old (min_age_s), node 1 alone decides for all 8 and
# starts at most one migration a second, one at a time, so the sixth move
# (2/2/2/2 needs six) comes at about 8 s, and meanwhile node 1 runs
# everything on 0.45 of a core.
#
# Where each job runs is sampled once a second from node 1's ps --json
# (where, migrations); the moves the balancer started are also counted in
# node 1's log ("balancer: process P from node A to node B").
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
NJOBS=8
SCALE=${BAL_SCALE:-3800}
SHARES="0.45 0.45 0.45 0.45"
SPREAD_S=6
MAX_MIG=4
for p in $PY /usr/bin/bc "$OMM_BUILD/omrun" "$OMM_BUILD/omctl" "$OMM_BUILD/ommd"; do
	[ -x "$p" ] || { echo "missing $p" >&2; echo "0 passed, 0 failed, 1 skipped"; exit 0; }
done
id omm-guest >/dev/null 2>&1 ||
    { echo "no user omm-guest (tests/deps.sh)" >&2; echo "0 passed, 0 failed, 1 skipped"; exit 0; }
[ -n "$(_cl_cpu_kind)" ] ||
    { echo "no cgroup cpu controller: no CPU shares" >&2; echo "0 passed, 0 failed, 1 skipped"; exit 0; }

# octl I ARGS: omctl against node I's socket, from outside the node (a
# sample costs node I none of its share).
octl() { local i=$1; shift; "$OMM_BUILD/omctl" -s "$(node_dir "$i")/run/ommd.sock" "$@"; }

# The reference output and the CPU one job takes, outside the cluster.
W=$(mktemp -d /tmp/omm-bal80.XXXXXX)
trap 'rm -rf "$W"' EXIT
echo "scale=$SCALE; 4*a(1)" >"$W/pi.bc"
TIMEFORMAT='%U %S'
cpu1=$( { time /usr/bin/bc -l "$W/pi.bc" >"$W/ref" 2>/dev/null; } 2>&1 |
    awk '{ printf "%.2f", $1 + $2 }')
check "reference: bc scale $SCALE, $cpu1 s of CPU, $(stat -c %s "$W/ref") bytes" \
    [ -s "$W/ref" ]

CLUSTER_CONF_EXTRA=$(fabric_conf map)
CLUSTER_CPU=$SHARES
if ! cluster_up 4 >/dev/null; then
	bad "cluster_up 4"
	finish
	exit 1
fi
started=1
for i in 1 2 3 4; do node_start "$i" -v || started=0; done
check "nodes 1-4 started, CPU shares $SHARES" [ "$started" -eq 1 ]
check "nodes 1-4 see each other" within 15 all_see_up "1 2 3 4" 1 2 3 4
N1T=$(node_dir 1)/tmp
cp "$W/pi.bc" "$N1T/pi.bc"

# The sampler: once a second, node 1's processes (pid where migrations)
# and every node's CPU time, as JSON lines, until $W/stop exists.
cat >"$W/sample.py" <<'EOF'
import json, os, subprocess, sys, time
omctl, sock, out, stop = sys.argv[1:5]
meters = sys.argv[5:]
with open(out, "w") as f:
    while not os.path.exists(stop):
        t = time.time()
        try:
            r = subprocess.run([omctl, "-s", sock, "ps", "--json"],
                               capture_output=True, timeout=5)
            p = [[x["pid"], x["where"], x["migrations"]]
                 for x in json.loads(r.stdout)["processes"]]
        except Exception:
            p = None
        cpu = []
        for m in meters:			# ns: v1 cpuacct.usage, v2 cpu.stat
            try:
                with open(m) as c:
                    w = c.read().split()
                cpu.append(int(w[1]) * 1000 if w[0] == "usage_usec"
                           else int(w[0]))
            except Exception:
                cpu.append(None)
        f.write(json.dumps({"t": t, "p": p, "cpu": cpu}) + "\n")
        f.flush()
        time.sleep(max(0.0, 1.0 - (time.time() - t)))
EOF
meters=
for i in 1 2 3 4; do
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		meters="$meters $(_cl_cg_dir "$i")/cpu.stat"
	else
		meters="$meters $(_cl_cg_dir "$i")/cpuacct.usage"
	fi
done
$PY "$W/sample.py" "$OMM_BUILD/omctl" "$(node_dir 1)/run/ommd.sock" \
    "$W/samples" "$W/stop" $meters </dev/null &
SAMPLER=$!

t0=$(now_ms)
for j in $(seq $NJOBS); do
	(
		node_exec 1 "$OMM_BUILD/omrun" --pidfile "/tmp/j$j.pid" \
		    /usr/bin/bc -l /tmp/pi.bc </dev/null >"$N1T/j$j.out" 2>"$N1T/j$j.err"
		echo "$? $(now_ms)" >"$W/j$j.end"
	) &
done
for j in $(seq $NJOBS); do
	within 10 test -s "$N1T/j$j.pid"
done
# all done, or 3 x the ideal + 60 s
limit=$(echo "$SHARES" | awk -v c="$cpu1" -v n=$NJOBS \
    '{ for (i = 1; i <= NF; i++) s += $i; printf "%d", 3 * c * n / s + 60 }')
n=0
while [ "$n" -lt "$limit" ]; do
	done_=0
	for j in $(seq $NJOBS); do [ -s "$W/j$j.end" ] && done_=$((done_ + 1)); done
	[ "$done_" -eq $NJOBS ] && break
	sleep 1
	n=$((n + 1))
done
touch "$W/stop"
wait "$SAMPLER" 2>/dev/null
if [ "$n" -ge "$limit" ]; then
	bad "the jobs did not all end within $limit s"
	for j in $(seq $NJOBS); do
		p=$(cat "$N1T/j$j.pid" 2>/dev/null)
		[ -n "$p" ] && node_exec 1 kill -KILL "$p" 2>/dev/null
	done
fi
wait

# Per job: exit status, output, where it ran, its migrations.
t1=0
for j in $(seq $NJOBS); do
	read -r rc te <"$W/j$j.end" 2>/dev/null || { rc=none te=0; }
	[ "$te" -gt "$t1" ] && t1=$te
	check "job $j: exit 0 (got $rc)" [ "$rc" = 0 ]
	if cmp -s "$W/ref" "$N1T/j$j.out"; then
		ok "job $j: output identical to the reference"
	else
		bad "job $j: output differs: $(cmp "$W/ref" "$N1T/j$j.out" 2>&1 | head -1); stderr: $(head -c 300 "$N1T/j$j.err")"
	fi
done
pids=
for j in $(seq $NJOBS); do pids="$pids $(cat "$N1T/j$j.pid" 2>/dev/null)"; done
makespan=$(( t1 - t0 ))

# The summary: per job the nodes it was seen on, its migrations (ps
# --json's highest, and the balancer's moves in node 1's log); the nodes
# all jobs ran on; the CPU each node gave (its cgroup's meter).
grep -E 'balancer: process [0-9]+ from node' "$(node_dir 1)/log/ommd.log" >"$W/moves"
$PY - "$W/samples" "$W/moves" "$makespan" "$cpu1" "$SHARES" "$SPREAD_S" \
    "$MAX_MIG" $pids >"$W/summary" <<'EOF'
import json, re, sys
samples, moves, makespan, cpu1, shares, spread, maxmig = sys.argv[1:8]
pids = [int(x) for x in sys.argv[8:]]
makespan = int(makespan) / 1000.0
shares = [float(x) for x in shares.split()]
spread, maxmig = float(spread), int(maxmig)
nodes = len(shares)
where = {p: [] for p in pids}
mig = {p: 0 for p in pids}
cpu0 = cpun = None
t0 = None
timeline = []
for line in open(samples):
    s = json.loads(line)
    t0 = t0 or s["t"]
    if s["cpu"] and None not in s["cpu"]:
        if cpu0 is None:
            cpu0 = s["cpu"]
        cpun = s["cpu"]
    dist = [0] * nodes
    for pid, w, m in s["p"] or []:
        if pid in where:
            if not where[pid] or where[pid][-1] != w:
                where[pid].append(w)
            mig[pid] = max(mig[pid], m)
            if 1 <= w <= nodes:
                dist[w - 1] += 1
    if s["p"] is not None and (not timeline or timeline[-1][1] != dist):
        timeline.append((s["t"] - t0, dist))
logged = {p: 0 for p in pids}
for line in open(moves):
    m = re.search(r"balancer: process (\d+) from node", line)
    if m and int(m.group(1)) in logged:
        logged[int(m.group(1))] += 1
total = len(pids) * float(cpu1)
ideal = total / sum(shares)
print("makespan %.1f s, ideal %.1f s (%d x %.2f s of CPU / %.2f cores): "
      "ratio %.2f; all on node 1: %.1f s"
      % (makespan, ideal, len(pids), float(cpu1), sum(shares),
         makespan / ideal, total / shares[0]))
print("jobs per node (1..%d) over time: " % nodes + "  ".join(
    "%.0fs %s" % (t, "/".join(map(str, d))) for t, d in timeline))
for p in pids:
    print("job pid %d: ran on %s; migrations %d (balancer moves %d)"
          % (p, "->".join(str(w) for w in where[p]) or "?", mig[p], logged[p]))
if cpu0 and cpun:
    used = [(b - a) / 1e9 for a, b in zip(cpu0, cpun)]
    for i, u in enumerate(used):
        want = sum(used) * shares[i] / sum(shares)
        print("CPU node%d (share %.2f): %.1f s, proportional %.1f s: %.2fx"
              % (i + 1, shares[i], u, want, u / want))
        print("PROP %d %.2f" % (i + 1, u / want))
ran = set(w for p in pids for w in where[p])
print("NODES %s" % " ".join(str(w) for w in sorted(ran)))
print("MAXMIG %d" % max(max(mig.values()), max(logged.values())))
print("WITHIN %d" % (makespan <= 1.25 * ideal + spread))
print("BOUND %.1f" % (1.25 * ideal + spread))
EOF
grep -vE '^(NODES|MAXMIG|WITHIN|BOUND|PROP) ' "$W/summary" | sed 's/^/# /'
sed 's/^/# node1: /' "$W/moves"
ran=$(sed -n 's/^NODES //p' "$W/summary")
maxmig=$(sed -n 's/^MAXMIG //p' "$W/summary")
check "the jobs ran on all 4 nodes (seen on: $ran)" [ "$ran" = "1 2 3 4" ]
check "makespan ${makespan} ms <= 1.25 x ideal + $SPREAD_S s = $(sed -n 's/^BOUND //p' "$W/summary") s" \
    [ "$(sed -n 's/^WITHIN //p' "$W/summary")" = 1 ]
check "no job migrated more than $MAX_MIG times (most: ${maxmig:-?})" \
    [ "${maxmig:-99}" -le $MAX_MIG ]
check "node 1's balancer started the moves (its log: $(wc -l <"$W/moves") moves)" \
    [ "$(wc -l <"$W/moves")" -ge 3 ]
no_guests() {
	[ "$(octl "$1" status --json | $PY -c \
	    'import json, sys; print(json.load(sys.stdin)["node"]["guests"])')" = 0 ]
}
for i in 2 3 4; do
	check "node $i: no guest left" within 5 no_guests "$i"
done
# an ASan build reports in the logs (leaks when an ommd exits: node_stop)
clean_logs() { ! grep -Eq 'Sanitizer|runtime error:' "$CLUSTER_DIR"/n*/log/ommd.log; }
check "no sanitizer report in the nodes' logs" clean_logs
finish
