#!/bin/bash
# 25-omrun: omrun as a drop-in way to run a command under ommd: exit
# statuses, signals, a pipeline of several processes (each one managed), and
# periodic checkpoints (--checkpoint-every) whose images both restore.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need "$OMMD" "$OMRUN" "$OMCTL"

# omrun's status is the command's.
case_exit() {
	local want=$1 rc=0
	"$OMRUN" /bin/sh -c "exit $want" </dev/null || rc=$?
	[ "$rc" -eq "$want" ] || fail "omrun sh -c 'exit $want' exited $rc"
}

# A job killed by a signal: 128 + the signal, as a shell reports it.
case_killed() {
	local rc=0
	"$OMRUN" /bin/sh -c 'kill -KILL $$' </dev/null || rc=$?
	[ "$rc" -eq 137 ] || fail "job killed by SIGKILL: omrun exited $rc, expected 137"
}

# A command that does not exist: 127, as env(1) and the shell say.
case_notfound() {
	local rc=0
	"$OMRUN" /nonexistent/omm-no-such-cmd </dev/null 2>"$D/err" || rc=$?
	[ "$rc" -eq 127 ] || fail "missing command: omrun exited $rc, expected 127"
}

# SIGTERM to omrun reaches the job; omrun then exits 143.
case_sigterm() {
	spawn "$OMRUN" --pidfile "$D/pid" /bin/sleep 30 </dev/null
	local omrun=$SPAWNED job
	job=$(pidfile_pid "$D/pid")
	sleep 0.3
	kill -TERM "$omrun"
	expect_exit "$omrun" 143 10 "omrun sleep 30 after SIGTERM"
	sleep 0.1
	alive "$job" && fail "job $job still running after omrun got SIGTERM"
	return 0
}

# No daemon: omrun refuses to run anything unmanaged.
case_no_ommd() {
	local rc=0
	OMM_SOCKET=$T/nobody.sock "$OMRUN" /bin/echo unmanaged >"$D/out" \
	    2>"$D/err" </dev/null || rc=$?
	[ "$rc" -eq 125 ] || fail "omrun without ommd exited $rc, expected 125"
	expect_grep "cannot reach ommd at" "$D/err"
	[ ! -s "$D/out" ] || fail "the command ran without ommd"
}

# A pipeline in a shell: every process of it is managed, in one job, and
# the result is right.
case_pipeline() {
	spawn "$OMRUN" --pidfile "$D/pid" /bin/sh -c \
	    'sleep 2 | cat; printf "b\nc\na\n" | sort | tr a-z A-Z' \
	    </dev/null >"$D/out" 2>"$D/err"
	local omrun=$SPAWNED job pids n=0 p
	job=$(pidfile_pid "$D/pid")
	# Wait for the shell to have forked both sides of the first pipe.
	until [ "$(pid_tree "$job" | wc -l)" -ge 3 ]; do
		n=$((n + 1))
		[ $n -lt 40 ] || fail "the pipeline never had 3 processes"
		sleep 0.05
	done
	sleep 0.2
	pids=$(pid_tree "$job")
	"$OMCTL" ps --json >"$D/ps.json"
	"$OMCTL" ps >"$D/ps.txt"
	for p in $pids; do
		"$PYTHON" - "$D/ps.json" "$p" "$job" <<'EOF' ||
import json, sys
ps = json.load(open(sys.argv[1]))
assert ps["format_version"] == 1, ps["format_version"]
pid, jobpid = int(sys.argv[2]), int(sys.argv[3])
rows = {r["pid"]: r for r in ps["processes"]}
if pid not in rows:
    sys.exit("pid %d not in omctl ps: %s" % (pid, sorted(rows)))
if rows[pid]["job"] != rows[jobpid]["job"]:
    sys.exit("pid %d in job %s, the shell in %s" %
             (pid, rows[pid]["job"], rows[jobpid]["job"]))
for k in ("ppid", "uid", "user", "state", "command", "cantmove"):
    if k not in rows[pid]:
        sys.exit("pid %d: no %r in omctl ps --json" % (pid, k))
EOF
		fail "$(cat "$D/ps.txt")"
	done
	log "managed: $(echo $pids)"
	expect_exit "$omrun" 0 15 "omrun of the pipeline"
	printf 'A\nB\nC\n' | cmp -s - "$D/out" ||
	    fail "pipeline output: $(cat "$D/out")"
}

# --checkpoint-every: after a 5 s job, p.img and p.img.prev both exist and
# each restores into a run that completes the reference output. The job
# writes to a regular file, which a restore reopens by path at the saved
# offset: before each restore the file is cut back to that offset.
case_periodic() {
	local prog='import time
for i in range(50):
    print("line %d %s" % (i, "x" * (i % 7)), flush=True)
    time.sleep(0.1)
print("done")'
	local ref=$D/ref img pos
	"$PYTHON" -c "$prog" >"$ref"
	spawn "$OMRUN" --checkpoint-every 1 --checkpoint-file "$D/p.img" \
	    "$PYTHON" -c "$prog" </dev/null >"$D/out" 2>"$D/err"
	expect_exit "$SPAWNED" 0 30 "omrun --checkpoint-every"
	cmp "$ref" "$D/out" || fail "output with periodic checkpoints differs"
	[ -s "$D/p.img" ] || fail "no $D/p.img after the job"
	[ -s "$D/p.img.prev" ] || fail "no $D/p.img.prev after the job"
	for img in "$D/p.img" "$D/p.img.prev"; do
		pos=$(fd_pos "$img") || fail "no fd 1 position in $img"
		log "$(basename "$img"): fd 1 at $pos of $(stat -c %s "$ref")"
		[ "$pos" -gt 0 ] && [ "$pos" -lt "$(stat -c %s "$ref")" ] ||
		    fail "$img taken at offset $pos: not mid-run"
		truncate -s "$pos" "$D/out"
		spawn "$OMRUN" --restore "$img" </dev/null >"$D/r.out" \
		    2>"$D/r.err"
		expect_exit "$SPAWNED" 0 30 "omrun --restore $img"
		cmp "$ref" "$D/out" ||
		    fail "run restored from $img did not complete the output"
	done
	[ "$(fd_pos "$D/p.img.prev")" -lt "$(fd_pos "$D/p.img")" ] ||
	    fail "p.img.prev is not older than p.img"
}

# --checkpoint-every into a file system that is full: the job runs on to
# the same output, its stderr says so once (not every second), and ps shows
# the failure with the reason.
case_periodic_full() {
	local prog='import time
for i in range(40):
    print("line %d" % i, flush=True)
    time.sleep(0.1)' pid n
	mkdir -p "$D/full"
	mount -t tmpfs -o size=64k tmpfs "$D/full" ||
	    { log "cannot mount a tmpfs"; return 77; }
	"$PYTHON" -c "$prog" >"$D/ref"
	spawn "$OMRUN" --pidfile "$D/pid" --checkpoint-every 1 \
	    --checkpoint-file "$D/full/p.img" "$PYTHON" -c "$prog" \
	    </dev/null >"$D/out" 2>"$D/err"
	trap 'mountpoint -q "$D/full" && umount -l "$D/full"; kill_listed "$T/.pids.$CASE_ID"; true' EXIT
	wait_for_file "$D/pid" 5
	pid=$(cat "$D/pid")
	n=0
	until "$OMCTL" ps --json | "$PYTHON" -c '
import json, sys
p = {x["pid"]: x for x in json.load(sys.stdin)["processes"]}[int(sys.argv[1])]
c = p["checkpoint"]
sys.exit(0 if c and c["every"] == 1 and c["error"] and "No space" in c["error"] else 1)' "$pid" 2>/dev/null; do
		n=$((n + 1))
		[ $n -lt 50 ] || fail "ps never showed the failed checkpoint: $("$OMCTL" ps --json)"
		sleep 0.1
	done
	"$OMCTL" ps | grep -q "FAILED (last good none yet): .*No space" ||
	    fail "ps table: $("$OMCTL" ps)"
	expect_exit "$SPAWNED" 0 30 "omrun --checkpoint-every into a full fs"
	umount "$D/full" || umount -l "$D/full" || fail "umount $D/full"
	cmp "$D/ref" "$D/out" || fail "output with failing checkpoints differs"
	n=$(grep -c "^omm: periodic checkpoint of process $pid to .*failed: .*No space left on device" "$D/err" || true)
	[ "$n" -eq 1 ] || fail "stderr has $n failure lines, not 1: $(cat "$D/err")"
}

start_ommd
run_case "exit 0" case_exit 0
run_case "exit 3" case_exit 3
run_case "exit 255" case_exit 255
run_case "killed by SIGKILL -> 137" case_killed
run_case "command not found -> 127" case_notfound
run_case "SIGTERM to omrun -> 143" case_sigterm
run_case "no ommd -> 125" case_no_ommd
run_case "pipeline, all processes managed" case_pipeline
run_case "periodic checkpoints restore" case_periodic
run_case "periodic checkpoints into a full disk: said once, in ps" case_periodic_full
ommd_answers
ommd_stops_cleanly
finish
