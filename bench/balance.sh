#!/bin/bash
# bench/balance.sh: how well the automatic balancer spreads CPU-bound work,
# on 4-node namespace clusters (tests/cluster/cluster.sh) whose nodes are
# held to CPU shares by cgroup. Each case starts its jobs (bc -l computing
# pi, about 20 s of CPU each here, as issue 6 asks) with omrun on node 1
# and nobody types `migrate`:
#
#  equal    shares 0.45 x 4, 8 jobs, balancing on
#  off      the same with `omctl set balance off` on node 1 (all stay home)
#  hetero   shares 0.2 0.4 0.6 0.6, 9 jobs (1:2:3:3 splits them exactly)
#
# Per case: makespan (first omrun started to last ended), ideal (the jobs'
# CPU, measured once outside the cluster, over the cluster's cores: the
# sum of the shares), their ratio (goals: equal <= 1.10, off ~4x), the CPU
# each node's cgroup gave against its proportional part, and migrations per
# job (ps --json's count, sampled once a second, and the balancer's moves in
# node 1's log). Two figures tell imbalance from a busy machine: the
# node-seconds a node sat without a job while another ran two or more, and
# the cores the cluster actually got (its cgroups' CPU over the makespan:
# below the shares' sum when other work shares the machine). Several
# minutes: the off case alone is ~6 min.
#
#   OMM_BUILD=build bash bench/balance.sh [equal|off|hetero]...   (as root)
#   SCALE=5700 (bc scale: the job size)
set -u
OMM_SRC=${OMM_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
OMM_BUILD=${OMM_BUILD:-$OMM_SRC/build}
export OMM_SRC OMM_BUILD
# an inherited descriptor would make the jobs unmovable (a pipe)
for _fd in /proc/$$/fd/*; do
	_fd=${_fd##*/}
	[ "$_fd" -gt 2 ] && [ "$_fd" -ne 255 ] && eval "exec $_fd>&-" 2>/dev/null
done
. "$OMM_SRC/tests/cluster/cluster.sh"
. "$OMM_SRC/tests/cluster/fabric.sh"
PY=/usr/bin/python3
SCALE=${SCALE:-5700}
CASES=("$@")
[ ${#CASES[@]} -gt 0 ] || CASES=(equal off hetero)
for p in $PY /usr/bin/bc "$OMM_BUILD/omrun" "$OMM_BUILD/omctl" "$OMM_BUILD/ommd"; do
	[ -x "$p" ] || { echo "missing $p" >&2; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "run as root (namespaces, cgroups)" >&2; exit 1; }
[ -n "$(_cl_cpu_kind)" ] || { echo "no cgroup cpu controller" >&2; exit 1; }

W=$(mktemp -d /tmp/omm-benchbal.XXXXXX)
trap 'rm -rf "$W"' EXIT
octl() { local i=$1; shift; "$OMM_BUILD/omctl" -s "$(node_dir "$i")/run/ommd.sock" "$@"; }

echo "scale=$SCALE; 4*a(1)" >"$W/pi.bc"
TIMEFORMAT='%U %S'
CPU1=$( { time /usr/bin/bc -l "$W/pi.bc" >"$W/ref" 2>/dev/null; } 2>&1 |
    awk '{ printf "%.2f", $1 + $2 }')
echo "one job: bc -l, scale $SCALE: $CPU1 s of CPU (outside the cluster)"

cat >"$W/sample.py" <<'EOF'
import json, os, subprocess, sys, time
omctl, sock, out = sys.argv[1:4]
meters = sys.argv[4:]
with open(out, "w") as f:
    while not os.path.exists(out + ".stop"):
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

cat >"$W/summary.py" <<'EOF'
import json, re, sys
name, samples, moves, makespan, cpu1, shares = sys.argv[1:7]
pids = [int(x) for x in sys.argv[7:]]
makespan = int(makespan) / 1000.0
shares = [float(x) for x in shares.split()]
where = {p: [] for p in pids}
mig = {p: 0 for p in pids}
cpu0 = cpun = None
idle = nsamp = 0
for line in open(samples):
    s = json.loads(line)
    if s["cpu"] and None not in s["cpu"]:
        cpu0 = cpu0 or s["cpu"]
        cpun = s["cpu"]
    cnt = [0] * len(shares)
    for pid, w, m in s["p"] or []:
        if pid in where:
            if not where[pid] or where[pid][-1] != w:
                where[pid].append(w)
            mig[pid] = max(mig[pid], m)
            if 1 <= w <= len(shares):
                cnt[w - 1] += 1
    # imbalance whatever the machine's load: a node without a job while
    # another runs two or more
    if s["p"] is not None:
        nsamp += 1
        if max(cnt) >= 2:
            idle += cnt.count(0)
logged = {p: 0 for p in pids}
for line in open(moves):
    m = re.search(r"balancer: process (\d+) from node", line)
    if m and int(m.group(1)) in logged:
        logged[int(m.group(1))] += 1
ideal = len(pids) * float(cpu1) / sum(shares)
print("%-7s shares %-16s %d jobs  makespan %6.1f s  ideal %6.1f s  "
      "ratio %.2f" % (name, " ".join("%g" % x for x in shares), len(pids),
                      makespan, ideal, makespan / ideal))
print("        migrations per job (ps --json): mean %.1f max %d; balancer "
      "moves per job: mean %.1f max %d"
      % (sum(mig.values()) / len(pids), max(mig.values()),
         sum(logged.values()) / len(pids), max(logged.values())))
print("        idle node-seconds while another node ran 2+ jobs: %d "
      "(of %d node-seconds sampled)" % (idle, nsamp * len(shares)))
if cpu0 and cpun:
    used = [(b - a) / 1e9 for a, b in zip(cpu0, cpun)]
    # below the shares when the machine is busy with other work
    print("        the cluster got %.0f CPU s in %.0f s: %.2f cores of %.2f "
          "(%.0f%%)" % (sum(used), makespan, sum(used) / makespan,
                        sum(shares), 100 * sum(used) / makespan / sum(shares)))
    print("        CPU given per node (x proportional): " + ", ".join(
        "node%d %.0f s (%.2fx)" % (i + 1, u, u / (sum(used) * shares[i] /
                                                   sum(shares)))
        for i, u in enumerate(used)))
print("        paths: " + "; ".join("->".join(map(str, where[p])) for p in pids))
EOF

# bench NAME "SHARES" NJOBS BALANCE(on|off)
bench() {
	local name=$1 shares=$2 njobs=$3 bal=$4 i j t0 t1 te rc meters= pids= n1t
	CLUSTER_CONF_EXTRA=$(fabric_conf map)
	CLUSTER_CPU=$shares
	cluster_up 4 >/dev/null || { echo "$name: cluster_up failed" >&2; return 1; }
	for i in 1 2 3 4; do node_start "$i" || return 1; done
	within 15 all_see_up "1 2 3 4" 1 2 3 4 || { echo "$name: nodes do not see each other" >&2; return 1; }
	sleep 2		# a gossip round or two of idle loads
	[ "$bal" = off ] && octl 1 set balance off >/dev/null
	n1t=$(node_dir 1)/tmp
	cp "$W/pi.bc" "$n1t/pi.bc"
	for i in 1 2 3 4; do
		if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
			meters="$meters $(_cl_cg_dir "$i")/cpu.stat"
		else
			meters="$meters $(_cl_cg_dir "$i")/cpuacct.usage"
		fi
	done
	rm -f "$W"/j*.end "$W/samples" "$W/samples.stop"
	$PY "$W/sample.py" "$OMM_BUILD/omctl" "$(node_dir 1)/run/ommd.sock" \
	    "$W/samples" $meters </dev/null &
	local sampler=$!
	t0=$(now_ms)
	for j in $(seq "$njobs"); do
		(
			node_exec 1 "$OMM_BUILD/omrun" --pidfile "/tmp/j$j.pid" \
			    /usr/bin/bc -l /tmp/pi.bc </dev/null >"$n1t/j$j.out" 2>/dev/null
			echo "$? $(now_ms)" >"$W/j$j.end"
		) &
	done
	for j in $(seq "$njobs"); do
		until [ -s "$W/j$j.end" ]; do sleep 1; done
	done
	touch "$W/samples.stop"
	wait
	t1=0
	for j in $(seq "$njobs"); do
		read -r rc te <"$W/j$j.end"
		[ "$te" -gt "$t1" ] && t1=$te
		{ [ "$rc" = 0 ] && cmp -s "$W/ref" "$n1t/j$j.out"; } ||
		    echo "$name: job $j: exit $rc, output differs" >&2
		pids="$pids $(cat "$n1t/j$j.pid")"
	done
	grep -E 'balancer: process [0-9]+ from node' \
	    "$(node_dir 1)/log/ommd.log" >"$W/moves"
	$PY "$W/summary.py" "$name" "$W/samples" "$W/moves" $((t1 - t0)) \
	    "$CPU1" "$shares" $pids
	cluster_down
}

for c in "${CASES[@]}"; do
	case $c in
	equal)	bench equal "0.45 0.45 0.45 0.45" 8 on ;;
	off)	bench off "0.45 0.45 0.45 0.45" 8 off ;;
	hetero)	bench hetero "0.2 0.4 0.6 0.6" 9 on ;;
	*)	echo "unknown case $c (equal, off, hetero)" >&2; exit 2 ;;
	esac
done
