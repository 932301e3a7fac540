#!/bin/bash
# 20-progs: every self-checking program of tests/progs through omm.
#
# For each program: it passes when run plainly (so the check can fail at
# all), and under omrun; then omrun it, checkpoint it with omctl --kill,
# restore it with omrun --restore and trigger the check (SIGUSR1 to the pid
# from --pidfile, a line on stdin, or the end of its sleep): it must exit 0
# and print PASS. With --leave-running, the original and the restored copy
# must both pass.
#
# The original's stdin/stdout/stderr are pipes (fifos) so that a restore
# rebinds them to the restoring omrun's; the restored copy writes to plain
# files.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need "$OMMD" "$OMRUN" "$OMCTL" "$PROGS/mem"

LINE="hello omm"

# How each program is told to check: usr1, stdin (a line) or none (a timer).
trigger_of() {
	case $1 in
	blockread)	echo stdin ;;
	sleep)		echo none ;;
	*)		echo usr1 ;;
	esac
}

# expect_pass FILE PROG: FILE (written by a process that may still flush)
# says PASS for PROG.
expect_pass() {
	local n=40
	until grep -q "^PASS $2\$" "$1" 2>/dev/null; do
		n=$((n - 1))
		if [ $n -le 0 ]; then
			log "--- $1:"; cat "$1" >&2 || true
			fail "no 'PASS $2' in $1"
		fi
		sleep 0.05
	done
}

show_err() {
	log "--- $1:"
	tail -n 30 "$1" >&2 || true
}

# Plain run, no omm at all.
case_plain() {
	local prog=$1; shift
	local trig; trig=$(trigger_of "$prog")
	if [ "$trig" = stdin ]; then
		spawn "$PROGS/$prog" "$@" <"$D/in.fifo" >"$D/out" 2>"$D/err" \
		    7>&-
	else
		PROG_READY=$D/ready spawn "$PROGS/$prog" "$@" </dev/null \
		    >"$D/out" 2>"$D/err" 7>&-
	fi
	local pid=$SPAWNED
	case $trig in
	usr1)	wait_for_file "$D/ready" 30; kill -USR1 "$pid" ;;
	stdin)	echo "$LINE" >&7 ;;
	esac
	wait_exit "$pid" 30
	[ "$RC" -eq 0 ] || { show_err "$D/err"; fail "$prog exited $RC"; }
	expect_pass "$D/out" "$prog"
}

# Start PROG under omrun with pipes for stdio; sets ORIG (omrun's pid) and
# JOB (the program's pid, from --pidfile). $1 is a tag for file names.
start_managed() {
	local tag=$1 prog=$2; shift 2
	local in=/dev/null
	[ "$(trigger_of "$prog")" = stdin ] && in=$D/in.fifo
	pipe_to "$D/$tag.out"
	pipe_to "$D/$tag.err"
	PROG_READY=$D/$tag.ready spawn "$OMRUN" --pidfile "$D/$tag.pid" \
	    "$PROGS/$prog" "$@" <"$in" 7>&- 8>&- \
	    >"$D/$tag.out.fifo" 2>"$D/$tag.err.fifo"
	ORIG=$SPAWNED
	JOB=$(pidfile_pid "$D/$tag.pid")
	wait_for_file "$D/$tag.ready" 30
}

# Trigger the check of a program whose stdin is fifo fd $3 (if it reads).
trigger() {
	local prog=$1 pid=$2 fd=$3
	case $(trigger_of "$prog") in
	usr1)	kill -USR1 "$pid" ;;
	stdin)	echo "$LINE" >&"$fd" ;;
	esac
}

case_managed() {
	local prog=$1; shift
	mkfifo "$D/in.fifo"
	exec 7<>"$D/in.fifo"
	start_managed o "$prog" "$@"
	trigger "$prog" "$JOB" 7
	wait_exit "$ORIG" 30
	[ "$RC" -eq 0 ] || { show_err "$D/o.err"; fail "omrun $prog exited $RC"; }
	expect_pass "$D/o.out" "$prog"
}

# checkpoint MODE: omctl checkpoint $JOB with --kill or --leave-running.
checkpoint() {
	if ! "$OMCTL" checkpoint "$JOB" -o "$D/img" "--$1" >"$D/ckpt.out" 2>&1
	then
		show_err "$D/ckpt.out"
		fail "omctl checkpoint $JOB --$1 failed"
	fi
	expect_grep "^checkpointed $JOB \(.*\) to $D/img: [0-9]+ pages" \
	    "$D/ckpt.out" "omctl checkpoint output"
	cat "$D/ckpt.out"
}

# Restore $D/img with stdin from fifo $D/in2.fifo; sets REST and RJOB.
start_restore() {
	mkfifo "$D/in2.fifo"
	exec 8<>"$D/in2.fifo"
	spawn "$OMRUN" --pidfile "$D/r.pid" --stats --restore "$D/img" \
	    <"$D/in2.fifo" 7>&- 8>&- >"$D/r.out" 2>"$D/r.err"
	REST=$SPAWNED
	local n=400
	while [ ! -s "$D/r.pid" ]; do
		if ! alive "$REST"; then
			wait "$REST" || true
			show_err "$D/r.err"
			fail "omrun --restore exited before writing its pidfile"
		fi
		n=$((n - 1))
		[ $n -gt 0 ] || fail "omrun --restore wrote no pidfile in 20 s"
		sleep 0.05
	done
	RJOB=$(pidfile_pid "$D/r.pid")
}

case_kill() {
	local prog=$1; shift
	mkfifo "$D/in.fifo"
	exec 7<>"$D/in.fifo"
	start_managed o "$prog" "$@"
	sleep 0.5	# into its wait: the spin, the sleep, the read
	checkpoint kill
	wait_exit "$ORIG" 10
	alive "$JOB" && fail "job $JOB still running after --kill"
	# The job died of the SIGKILL that ended the checkpoint: 128 + 9.
	[ "$RC" -eq 137 ] || fail "original omrun exited $RC after --kill, expected 137"
	start_restore
	trigger "$prog" "$RJOB" 8
	wait_exit "$REST" 30
	if [ "$RC" -ne 0 ]; then
		show_err "$D/r.err"
		fail "restored $prog exited $RC"
	fi
	expect_pass "$D/r.out" "$prog"
	expect_grep "^omrun: restored pid $RJOB from $D/img: [0-9]+ pages" \
	    "$D/r.err" "omrun --stats"
	if [ "$prog" = blockread ]; then
		expect_grep "^GOT $LINE\$" "$D/r.out"
	fi
}

case_leave() {
	local prog=$1; shift
	mkfifo "$D/in.fifo"
	exec 7<>"$D/in.fifo"
	PROG_KEEP=1 start_managed o "$prog" "$@"
	sleep 0.5
	checkpoint leave-running
	alive "$JOB" || fail "job $JOB gone after --leave-running"
	start_restore
	# The restored copy first: the original must not have been disturbed.
	trigger "$prog" "$RJOB" 8
	wait_exit "$REST" 30
	if [ "$RC" -ne 0 ]; then
		show_err "$D/r.err"
		fail "restored $prog exited $RC"
	fi
	expect_pass "$D/r.out" "$prog"
	trigger "$prog" "$JOB" 7
	wait_exit "$ORIG" 30
	if [ "$RC" -ne 0 ]; then
		show_err "$D/o.err"
		fail "original $prog exited $RC after --leave-running"
	fi
	expect_pass "$D/o.out" "$prog"
}

# The plain runs need no daemon: a broken program shows before omm does.
# Stdin for blockread comes from a fifo held open on fd 7.
plain() {
	mkfifo "$D/in.fifo"
	exec 7<>"$D/in.fifo"
	case_plain "$@"
}

PROGLIST=(
	"mem 64"
	"mem 512"
	"regs"
	"signals"
	"blockread"
	"sleep rel 3"
	"sleep abs 3"
	"misc"
	"churn"
)

for p in "${PROGLIST[@]}"; do
	run_case "plain $p" plain $p
done

start_ommd
for p in "${PROGLIST[@]}"; do
	run_case "omrun $p" case_managed $p
done
for p in "${PROGLIST[@]}"; do
	run_case "kill+restore $p" case_kill $p
done
for p in "${PROGLIST[@]}"; do
	run_case "leave-running+restore $p" case_leave $p
done

ommd_stops_cleanly
finish
