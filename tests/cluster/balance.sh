#!/bin/bash
# tests/cluster/balance.sh: what the balancer tests
# (tests/integration/8*-balance-*.sh) and bench/balance.sh share. Described
# in docs/cluster-harness.md. A test starts:
#
#	set -u
#	: "${OMM_SRC:?OMM_SRC must point at the source tree}"
#	. "$OMM_SRC/tests/cluster/balance.sh"
#	balance_need				# or skip the test
#	balance_work bal80 3800			# $W, the reference output, CPU1
#	balance_cluster 0.45 "0.45 of a core each"
#
# Sourcing it sources migrate.sh (which closes the inherited descriptors,
# sources cluster.sh and fabric.sh, sets PY and has give_up, quiet...).
# The jobs are bc -l computing pi, started with omrun on node 1: job NAME
# has its pidfile, output and stderr in $N1T/NAME.pid, .out and .err (node
# 1's /tmp) and, once omrun returned, "status end-ms" in $W/NAME.end.

. "$OMM_SRC/tests/cluster/migrate.sh"

# balance_need: skip the test (the "1 skipped" line, exit 77) without what
# migrate_need asks, bc, or a cgroup cpu controller for the CPU shares.
balance_need() {
	migrate_need /usr/bin/bc
	[ -n "$(_cl_cpu_kind)" ] ||
	    _mig_skip "no cgroup cpu controller: no CPU shares"
}

# octl I ARGS...: omctl against node I's socket from outside the node (a
# sample costs node I none of its share).
octl() { local i=$1; shift; "$OMM_BUILD/omctl" -s "$(node_dir "$i")/run/ommd.sock" "$@"; }

# balance_work NAME SCALE: W, a work dir /tmp/omm-NAME.XXXXXX removed at
# exit; in it pi.bc (bc scale SCALE) and ref, its output outside the
# cluster; SCALE, and CPU1 the seconds of CPU (user + sys) that run took.
balance_work() {
	local TIMEFORMAT='%U %S'
	W=$(mktemp -d "/tmp/omm-$1.XXXXXX")
	trap 'rm -rf "$W"' EXIT
	SCALE=$2
	echo "scale=$SCALE; 4*a(1)" >"$W/pi.bc"
	CPU1=$( { time /usr/bin/bc -l "$W/pi.bc" >"$W/ref" 2>/dev/null; } 2>&1 |
	    awk '{ printf "%.2f", $1 + $2 }')
}

# reference_check [-c]: checks there is a reference output, its size (and
# with -c its CPU) in the check's name.
reference_check() {
	check "reference: bc scale $SCALE${1:+, $CPU1 s of CPU}, $(stat -c %s "$W/ref") bytes" \
	    [ -s "$W/ref" ]
}

# balance_up SHARES [ARGS...]: 4 nodes on the map fabric held to SHARES
# (CLUSTER_CPU), each ommd started with ARGS; sets N1T and LOG1 and puts
# pi.bc in node 1's /tmp. Returns 2 if the cluster cannot be made, 1 if an
# ommd did not start.
balance_up() {
	local shares=$1 i rc=0
	shift
	CLUSTER_CONF_EXTRA=$(fabric_conf map)
	CLUSTER_CPU=$shares
	cluster_up 4 >/dev/null || return 2
	for i in 1 2 3 4; do node_start "$i" "$@" || rc=1; done
	N1T=$(node_dir 1)/tmp
	LOG1=$(node_dir 1)/log/ommd.log
	cp "$W/pi.bc" "$N1T/pi.bc" || rc=1
	return $rc
}

# balance_cluster SHARES NOTE: balance_up with -v (gives up if there is no
# cluster), then the checks "nodes 1-4 started, NOTE" and that they see
# each other within 60 s.
balance_cluster() {
	local rc=0
	balance_up "$1" -v || rc=$?
	[ "$rc" -eq 2 ] && give_up "cluster_up 4"
	check "nodes 1-4 started, $2" [ "$rc" -eq 0 ]
	check "nodes 1-4 see each other" within 60 all_see_up "1 2 3 4" 1 2 3 4
}

# balance_meters: the CPU meters (cgroup v2 cpu.stat or v1 cpuacct.usage)
# of nodes 1-4, for sampler_start.
balance_meters() {
	local i
	for i in 1 2 3 4; do
		if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
			echo "$(_cl_cg_dir "$i")/cpu.stat"
		else
			echo "$(_cl_cg_dir "$i")/cpuacct.usage"
		fi
	done
}

# sampler_start OUT [METER...]: once a second, from outside node 1, node
# 1's processes ("p": [pid, where, migrations]..., null when ps fails) and
# each METER's CPU ns ("cpu"), as JSON lines in OUT, until OUT.stop
# exists; its pid in SAMPLER. sampler_stop OUT: stop it and wait.
sampler_start() {
	rm -f "$1" "$1.stop"
	$PY - "$OMM_BUILD/omctl" "$(node_dir 1)/run/ommd.sock" "$@" <<'EOF' &
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
	SAMPLER=$!
}
sampler_stop() { touch "$1.stop"; wait "$SAMPLER" 2>/dev/null; }

# launch NAME [OMRUN-OPTIONS...]: a job in the background; its subshell's
# pid is added to LAUNCHED (for jobs_end).
launch() {
	local name=$1
	shift
	rm -f "$W/$name.end" "$N1T/$name.pid"
	(
		node_exec 1 "$OMM_BUILD/omrun" --pidfile "/tmp/$name.pid" "$@" \
		    /usr/bin/bc -l /tmp/pi.bc </dev/null >"$N1T/$name.out" \
		    2>"$N1T/$name.err"
		echo "$? $(now_ms)" >"$W/$name.end"
	) &
	LAUNCHED="${LAUNCHED:-} $!"
}
# jobpid NAME: job NAME's home pid (empty before omrun wrote it).
jobpid() { cat "$N1T/$1.pid" 2>/dev/null; }
# finished NAME...: every job named has ended.
finished() {
	local n
	for n in "$@"; do [ -s "$W/$n.end" ] || return 1; done
}
# last_end NAME...: the latest end time (ms) of these jobs, 0 if none.
last_end() {
	local n rc te t1=0
	for n in "$@"; do
		read -r rc te <"$W/$n.end" 2>/dev/null || te=0
		[ "$te" -gt "$t1" ] && t1=$te
	done
	echo "$t1"
}

# jobs_end SECONDS NAME...: wait up to SECONDS for the jobs, kill those
# still running (then fail) and reap every launched one.
jobs_end() {
	local s=$1 n rc=0
	shift
	within "$s" finished "$@" || rc=1
	for n in "$@"; do
		[ -s "$W/$n.end" ] || node_exec 1 kill -KILL "$(jobpid "$n")" 2>/dev/null
	done
	[ -n "${LAUNCHED:-}" ] && wait $LAUNCHED
	LAUNCHED=
	return $rc
}

# job_check NAME LABEL: one check: job NAME ended with status 0 and an
# output identical to the reference.
job_check() {
	local rc te
	read -r rc te <"$W/$1.end" 2>/dev/null || rc=none
	if [ "$rc" = 0 ] && cmp -s "$W/ref" "$N1T/$1.out"; then
		ok "$2: exit 0, output identical to the reference"
	else
		bad "$2: exit $rc, output: $(cmp "$W/ref" "$N1T/$1.out" 2>&1 | head -1); stderr: $(head -c 300 "$N1T/$1.err")"
	fi
}

# balance_jobs NJOBS LIMIT: jobs j1..jNJOBS at once, sampled with the
# nodes' CPU meters in $W/samples, waited for (LIMIT s at most: fails
# then, the rest killed). Sets T0 (start, ms), MAKESPAN (ms, to the last
# end) and PIDS (the jobs' home pids).
balance_jobs() {
	local njobs=$1 limit=$2 j names='' rc=0 meters
	rm -f "$W"/j*.end
	mapfile -t meters < <(balance_meters)
	sampler_start "$W/samples" "${meters[@]}"
	T0=$(now_ms)
	for j in $(seq "$njobs"); do
		launch "j$j"
		names="$names j$j"
	done
	for j in $(seq "$njobs"); do
		within 10 test -s "$N1T/j$j.pid"
	done
	jobs_end "$limit" $names || rc=1
	sampler_stop "$W/samples"
	MAKESPAN=$(( $(last_end $names) - T0 ))
	PIDS=
	for j in $(seq "$njobs"); do PIDS="$PIDS $(jobpid "j$j")"; done
	return $rc
}

# balance_moves: the moves node 1's balancer logged, in $W/moves.
balance_moves() {
	grep -E 'balancer: process [0-9]+ from node' "$LOG1" >"$W/moves"
}

# balance_summary test|bench NAME SHARES SPREAD_S PID...: what the samples
# and the moves say about the jobs PID... (MAKESPAN, CPU1): per job the
# nodes it ran on and its migrations (ps's count, the balancer's moves),
# the jobs per node over time, the CPU each node gave against its share.
# "test" prints comment lines and, for the checks, NODES, MAXMIG, PROP I
# (node I's CPU / its proportional part) and NODE1 (node 1's CPU seconds,
# all four nodes', their ratio) lines: CPU seconds, which a busy machine
# does not stretch as it stretches wall time. "bench" prints
# bench/balance.sh's figures (NAME is the case), the makespan against the
# ideal and against 1.25 x ideal + SPREAD_S among them.
balance_summary() {
	$PY - "$1" "$2" "$W/samples" "$W/moves" "$MAKESPAN" "$CPU1" "$3" \
	    "$4" "${@:5}" <<'EOF'
import json, re, sys
mode, name, samples, moves, makespan, cpu1, shares, spread = sys.argv[1:9]
pids = [int(x) for x in sys.argv[9:]]
makespan = int(makespan) / 1000.0
shares = [float(x) for x in shares.split()]
spread = float(spread)
nodes = len(shares)
where = {p: [] for p in pids}
mig = {p: 0 for p in pids}
cpu0 = cpun = None
t0 = None
timeline = []
idle = nsamp = 0
for line in open(samples):
    s = json.loads(line)
    t0 = t0 or s["t"]
    if s["cpu"] and None not in s["cpu"]:
        cpu0 = cpu0 or s["cpu"]
        cpun = s["cpu"]
    dist = [0] * nodes
    for pid, w, m in s["p"] or []:
        if pid in where:
            if not where[pid] or where[pid][-1] != w:
                where[pid].append(w)
            mig[pid] = max(mig[pid], m)
            if 1 <= w <= nodes:
                dist[w - 1] += 1
    if s["p"] is not None:
        if not timeline or timeline[-1][1] != dist:
            timeline.append((s["t"] - t0, dist))
        # imbalance whatever the machine's load: a node without a job
        # while another runs two or more
        nsamp += 1
        if max(dist) >= 2:
            idle += dist.count(0)
logged = {p: 0 for p in pids}
for line in open(moves):
    m = re.search(r"balancer: process (\d+) from node", line)
    if m and int(m.group(1)) in logged:
        logged[int(m.group(1))] += 1
total = len(pids) * float(cpu1)
ideal = total / sum(shares)
used = [(b - a) / 1e9 for a, b in zip(cpu0, cpun)] if cpu0 and cpun else None
if mode == "bench":
    print("%-7s shares %-16s %d jobs  makespan %6.1f s  ideal %6.1f s  "
          "ratio %.2f" % (name, " ".join("%g" % x for x in shares), len(pids),
                          makespan, ideal, makespan / ideal))
    print("        migrations per job (ps --json): mean %.1f max %d; balancer "
          "moves per job: mean %.1f max %d"
          % (sum(mig.values()) / len(pids), max(mig.values()),
             sum(logged.values()) / len(pids), max(logged.values())))
    print("        idle node-seconds while another node ran 2+ jobs: %d "
          "(of %d node-seconds sampled)" % (idle, nsamp * nodes))
    if used:
        # below the shares when the machine is busy with other work
        print("        the cluster got %.0f CPU s in %.0f s: %.2f cores of "
              "%.2f (%.0f%%)" % (sum(used), makespan, sum(used) / makespan,
                                 sum(shares),
                                 100 * sum(used) / makespan / sum(shares)))
        print("        CPU given per node (x proportional): " + ", ".join(
            "node%d %.0f s (%.2fx)" % (i + 1, u, u / (sum(used) * shares[i] /
                                                       sum(shares)))
            for i, u in enumerate(used)))
    print("        paths: " + "; ".join("->".join(map(str, where[p]))
                                        for p in pids))
    if spread > 0:
        print("        makespan vs 1.25 x ideal + %.0f s = %.1f s: %s"
              % (spread, 1.25 * ideal + spread,
                 "met" if makespan <= 1.25 * ideal + spread else "not met"))
    sys.exit(0)
print("makespan %.1f s, ideal %.1f s (%d x %.2f s of CPU / %.2f cores): "
      "ratio %.2f; all on node 1: %.1f s"
      % (makespan, ideal, len(pids), float(cpu1), sum(shares),
         makespan / ideal, total / shares[0]))
print("jobs per node (1..%d) over time: " % nodes + "  ".join(
    "%.0fs %s" % (t, "/".join(map(str, d))) for t, d in timeline))
for p in pids:
    print("job pid %d: ran on %s; migrations %d (balancer moves %d)"
          % (p, "->".join(str(w) for w in where[p]) or "?", mig[p], logged[p]))
for i, u in enumerate(used or []):
    want = sum(used) * shares[i] / sum(shares)
    print("CPU node%d (share %.2f): %.1f s, proportional %.1f s: %.2fx"
          % (i + 1, shares[i], u, want, u / want))
    print("PROP %d %.2f" % (i + 1, u / want))
ran = set(w for p in pids for w in where[p])
print("NODES %s" % " ".join(str(w) for w in sorted(ran)))
print("MAXMIG %d" % max(max(mig.values()), max(logged.values())))
if used:
    print("NODE1 %.1f %.1f %.2f" % (used[0], sum(used), used[0] / sum(used)))
EOF
}

# balance_spread NJOBS SHARES: the run of 80 and 81. NJOBS jobs
# (balance_jobs), each checked ("job J: exit 0", "output identical"), the
# summary in $W/summary (its comment lines and the balancer's moves
# printed), and the check that the jobs ran on all 4 nodes. The time the
# jobs are given, 6 x the ideal + 120 s (450 s at most, under ctest's 600),
# only catches a hang: how long they take is bench/balance.sh's business.
balance_spread() {
	local njobs=$1 shares=$2 limit j rc te ran
	limit=$(echo "$shares" | awk -v c="$CPU1" -v n="$njobs" \
	    '{ for (i = 1; i <= NF; i++) s += $i; l = 6 * c * n / s + 120
	       printf "%d", l < 450 ? l : 450 }')
	balance_jobs "$njobs" "$limit" ||
	    bad "the jobs did not all end within $limit s (a hang?)"
	for j in $(seq "$njobs"); do
		read -r rc te <"$W/j$j.end" 2>/dev/null || rc=none
		check "job $j: exit 0 (got $rc)" [ "$rc" = 0 ]
		if cmp -s "$W/ref" "$N1T/j$j.out"; then
			ok "job $j: output identical to the reference"
		else
			bad "job $j: output differs: $(cmp "$W/ref" "$N1T/j$j.out" 2>&1 | head -1); stderr: $(head -c 300 "$N1T/j$j.err")"
		fi
	done
	balance_moves
	balance_summary test - "$shares" 0 $PIDS >"$W/summary"
	grep -vE '^(NODES|MAXMIG|PROP|NODE1) ' "$W/summary" | sed 's/^/# /'
	sed 's/^/# node1: /' "$W/moves"
	ran=$(sed -n 's/^NODES //p' "$W/summary")
	check "the jobs ran on all 4 nodes (seen on: $ran)" [ "$ran" = "1 2 3 4" ]
}

# no_guests I: node I hosts no guest (its status --json).
no_guests() {
	[ "$(octl "$1" status --json | $PY -c \
	    'import json, sys; print(json.load(sys.stdin)["node"]["guests"])')" = 0 ]
}
# guests_gone I...: check "node I: no guest left" (within 60 s) for each.
guests_gone() {
	local i
	for i in "$@"; do
		check "node $i: no guest left" within 60 no_guests "$i"
	done
}

# balance_finish: check that no node's log has a sanitizer report (an ASan
# build reports leaks when an ommd exits: node_stop), then finish.
balance_finish() {
	check "no sanitizer report in the nodes' logs" \
	    not grep -Eq 'Sanitizer|runtime error:' "$CLUSTER_DIR"/n*/log/ommd.log
	finish
}
