#!/bin/bash
# 40-badinput: what omm must refuse, with a message naming the cause, while
# ommd keeps answering and the processes involved are left unharmed.
#
# Damaged images (truncated at several sizes, a flipped byte in each
# section, another format version, a CPU feature this machine lacks) must be
# refused by omrun --restore (status 125, "omrun: restore FILE: <cause>")
# and, where the image itself is broken, by omctl image info (status 1).
# Checkpoint requests for a pid that does not exist, an unmanaged process,
# a multi-threaded one, root's job asked by a user and one user's job asked
# by another must fail (status 1) with the specific cause.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need "$OMMD" "$OMRUN" "$OMCTL" "$TOOLS/imgedit" "$PROGS/mem"

IMGEDIT=$TOOLS/imgedit
BASE=$T/base.img

# A managed mem run, checkpointed with --kill: the image every damage case
# starts from. Its stdout is a pipe, so a restore writes to omrun's stdout.
make_base() {
	pipe_to "$D/o.out"
	# PROG_KEEP: mem's files outlive the intact restore, as later
	# restores of damaged copies map them too.
	PROG_KEEP=1 PROG_READY=$D/ready spawn "$OMRUN" --pidfile "$D/pid" \
	    "$PROGS/mem" 8 \
	    </dev/null >"$D/o.out.fifo" 2>"$D/o.err"
	local job
	job=$(pidfile_pid "$D/pid")
	wait_for_file "$D/ready" 20
	"$OMCTL" checkpoint "$job" -o "$BASE" --kill >"$D/ckpt" 2>&1 ||
	    fail "checkpoint for the base image: $(cat "$D/ckpt")"
	"$IMGEDIT" list "$BASE" >"$T/base.list" ||
	    fail "imgedit list $BASE"
}

# The undamaged image restores and passes: the refusals below are about
# the damage, not about the image.
case_intact() {
	spawn "$OMRUN" --pidfile "$D/pid" --restore "$BASE" </dev/null \
	    >"$D/out" 2>"$D/err"
	local omrun=$SPAWNED job
	job=$(pidfile_pid "$D/pid" 20)
	kill -USR1 "$job"
	expect_exit "$omrun" 0 30 "restore of the intact image"
	expect_grep '^PASS mem$' "$D/out"
	"$OMCTL" image info "$BASE" >"$D/info" || fail "image info of the intact image"
}

# refuse IMAGE REGEX [INFO]: omrun --restore IMAGE exits 125 with
# "omrun: restore IMAGE: ..." matching REGEX; with INFO=info, omctl image
# info refuses it too (status 1, same cause, nothing on stdout).
refuse() {
	local img=$1 re=$2 rc=0
	spawn "$OMRUN" --pidfile "$D/rpid" --restore "$img" </dev/null \
	    >"$D/r.out" 2>"$D/r.err"
	wait_exit "$SPAWNED" 30
	[ "$RC" -eq 125 ] || { cat "$D/r.err" >&2;
	    fail "omrun --restore of a bad image exited $RC, expected 125"; }
	expect_grep "^omrun: restore $img: .*($re)" "$D/r.err"
	log "  $(head -n 1 "$D/r.err")"
	if [ -s "$D/rpid" ]; then
		local p
		p=$(tr -dc 0-9 <"$D/rpid")
		sleep 0.1
		alive "$p" && fail "the refused restore left process $p running"
	fi
	[ ! -s "$D/r.out" ] || fail "something ran: $(head -c 200 "$D/r.out")"
	if [ "${3:-}" = info ]; then
		"$OMCTL" image info "$img" >"$D/i.out" 2>"$D/i.err" || rc=$?
		[ "$rc" -eq 1 ] || fail "omctl image info of a bad image exited $rc"
		expect_grep "$re" "$D/i.err" "omctl image info's message"
		[ ! -s "$D/i.out" ] || fail "omctl image info printed half a description"
	fi
	ommd_answers
}

case_truncate() {
	local size=$1 re
	cp "$BASE" "$D/t.img"
	"$IMGEDIT" truncate "$D/t.img" "$size" || fail "imgedit truncate"
	if [ "$size" -lt 24 ]; then
		re="not an omm image|image truncated"
	else
		re="image truncated"
	fi
	refuse "$D/t.img" "$re" info
}

case_flip() {
	local n=$1 type=$2 len=$3
	cp "$BASE" "$D/f.img"
	"$IMGEDIT" flip "$D/f.img" "$n" $((len / 2)) || fail "imgedit flip"
	refuse "$D/f.img" "image section $type[^:]*: checksum mismatch" info
}

case_version() {
	cp "$BASE" "$D/v.img"
	"$IMGEDIT" set-version "$D/v.img" 99 || fail "imgedit set-version"
	refuse "$D/v.img" "image version 99, this omm reads version [0-9]+" info
}

case_cpu() {
	local feat=$1
	cp "$BASE" "$D/c.img"
	"$IMGEDIT" add-cpu "$D/c.img" "$feat" || fail "imgedit add-cpu $feat"
	# Still a well-formed image: info describes it and lists the feature.
	"$OMCTL" image info "$D/c.img" --json >"$D/info.json" ||
	    fail "omctl image info refused a well-formed image"
	grep -q "\"$feat\"" "$D/info.json" || fail "info does not list $feat"
	refuse "$D/c.img" "image needs CPU features this machine lacks: .*$feat"
}

# checkpoint_refused PID REGEX [runuser args...]: omctl checkpoint fails
# with status 1 and a message matching REGEX.
checkpoint_refused() {
	local pid=$1 re=$2 rc=0
	shift 2
	"$@" "$OMCTL" checkpoint "$pid" -o "$D/x.img" --kill >"$D/c.out" \
	    2>"$D/c.err" || rc=$?
	[ "$rc" -eq 1 ] || { cat "$D/c.out" "$D/c.err" >&2;
	    fail "omctl checkpoint $pid exited $rc, expected 1"; }
	expect_grep "$re" "$D/c.err"
	log "  $(head -n 1 "$D/c.err")"
	[ ! -s "$D/x.img" ] || fail "a refused checkpoint left an image"
	ommd_answers
}

case_nopid() {
	local p=999999
	while [ -e "/proc/$p" ]; do p=$((p - 1)); done
	checkpoint_refused "$p" "no such process $p"
}

# Start tests/progs/$2 as READY-waiting job (via omrun unless $1 = plain);
# sets JOB (the program's pid) and OWNER (the pid that must exit 0 at the
# end). Runs as user $3 when given.
start_prog() {
	local how=$1 prog=$2 user=${3:-} as=()
	[ -n "$user" ] && as=(runuser -u "$user" --)
	# Writable by the user for mem's temporary files, but not sticky:
	# with fs.protected_regular (1 or 2) even root may not open with
	# O_CREAT (the redirections below) a file another user owns in a
	# sticky world-writable directory.
	chmod 0777 "$D"
	export TMPDIR=$D
	# The job's stdout/stderr are regular files that a restore reopens
	# with the restoring user's rights: they must be the user's own.
	rm -f "$D/p.out" "$D/p.err"
	if [ -n "$user" ]; then
		install -o "$user" -m 0644 /dev/null "$D/p.out"
		install -o "$user" -m 0644 /dev/null "$D/p.err"
	fi
	if [ "$how" = plain ]; then
		PROG_READY=$D/ready spawn "${as[@]}" "$PROGS/$prog" </dev/null \
		    >"$D/p.out" 2>"$D/p.err"
		OWNER=$SPAWNED
		JOB=$OWNER
		wait_for_file "$D/ready" 20
		[ -z "$user" ] || JOB=$(pgrep -x -P "$OWNER" "$prog")
	else
		PROG_READY=$D/ready spawn "${as[@]}" "$OMRUN" --pidfile \
		    "$D/pid" "$PROGS/$prog" </dev/null >"$D/p.out" 2>"$D/p.err"
		OWNER=$SPAWNED
		JOB=$(pidfile_pid "$D/pid")
		wait_for_file "$D/ready" 20
	fi
}

# The refused process carries on: it still passes its own check.
still_fine() {
	kill -USR1 "$JOB"
	expect_exit "$OWNER" 0 20 "process $JOB after the refused checkpoint"
	expect_grep "^PASS " "$D/p.out"
}

case_unmanaged() {
	start_prog plain mem
	checkpoint_refused "$JOB" "process $JOB is not managed by omm"
	still_fine
}

case_user_vs_root() {
	start_prog omrun mem
	checkpoint_refused "$JOB" "permission denied: process $JOB belongs to uid 0" \
	    runuser -u omm-test --
	still_fine
}

case_user_vs_user() {
	local uid
	uid=$(id -u omm-test)
	start_prog omrun mem omm-test
	checkpoint_refused "$JOB" "permission denied: process $JOB belongs to uid $uid" \
	    runuser -u omm-test2 --
	still_fine
}

# The owner may checkpoint its own job, and restore it: the refusals above
# are about ownership, not about being unprivileged.
case_user_own() {
	export PROG_KEEP=1	# the restored copy maps mem's files too
	start_prog omrun mem omm-test
	runuser -u omm-test -- "$OMCTL" checkpoint "$JOB" -o "$D/own.img" \
	    --leave-running >"$D/c.out" 2>&1 ||
	    fail "omm-test could not checkpoint its own job: $(cat "$D/c.out")"
	expect_grep "^checkpointed $JOB " "$D/c.out"
	still_fine
	# The restored copy reopens p.out (its fd 1) at the checkpoint offset:
	# empty it, so the PASS found there is the restored copy's.
	: >"$D/p.out"
	spawn runuser -u omm-test -- "$OMRUN" --pidfile "$D/rpid" --restore \
	    "$D/own.img" </dev/null >"$D/r.out" 2>"$D/r.err"
	local owner=$SPAWNED rjob
	rjob=$(pidfile_pid "$D/rpid" 20)
	[ "$(stat -c %u "/proc/$rjob")" = "$(id -u omm-test)" ] ||
	    fail "restored process $rjob does not belong to omm-test"
	kill -USR1 "$rjob"
	expect_exit "$owner" 0 20 "omm-test's restore of its own image"
	tr -d '\000' <"$D/p.out" >"$D/p.txt"
	expect_grep '^PASS mem$' "$D/p.txt"
}

# A CPU feature this machine does not have, for add-cpu.
absent_feature() {
	local f
	for f in amx_tile amx_int8 amx_bf16 avx512_fp16 sha512 avx_vnni_int8; do
		if ! grep -qw "$f" /proc/cpuinfo; then
			echo "$f"
			return
		fi
	done
}

start_ommd
run_case "make the base image" make_base
[ -s "$BASE" ] || { finish; exit 1; }
run_case "intact image restores" case_intact

size=$(stat -c %s "$BASE")
# Frame starts (OFFSET) and payload lengths from "N TYPE OFFSET LENGTH".
mapfile -t SECS <"$T/base.list"
pages_off=
for s in "${SECS[@]}"; do
	read -r n type off len <<<"$s"
	[ "$type" = PAGES ] && [ -z "$pages_off" ] && pages_off=$off
done
read -r _ _ proc_off _ <<<"${SECS[1]}"
for cut in 0 5 20 $((proc_off + 10)) "$proc_off" "$pages_off" \
    $((pages_off + 5000)) $((size / 2)) $((size - 4)) $((size - 1)); do
	run_case "truncated at $cut of $size" case_truncate "$cut"
done

# One flip per section type, and the first and last PAGES.
declare -A seen
last_pages=
for s in "${SECS[@]}"; do
	read -r n type off len <<<"$s"
	[ "$type" = PAGES ] && last_pages="$n $type $len"
	[ -n "${seen[$type]:-}" ] && continue
	seen[$type]=1
	run_case "flipped byte in $type (section $n)" case_flip "$n" "$type" "$len"
done
read -r n type len <<<"$last_pages"
run_case "flipped byte in last PAGES (section $n)" case_flip "$n" PAGES "$len"

run_case "image of version 3" case_version
feat=$(absent_feature)
if [ -n "$feat" ]; then
	run_case "image needing $feat" case_cpu "$feat"
fi

test_user omm-test || fail "cannot create user omm-test"
test_user omm-test2 || fail "cannot create user omm-test2"
run_case "checkpoint of a pid that does not exist" case_nopid
run_case "checkpoint of an unmanaged process" case_unmanaged
run_case "omm-test checkpoints root's job" case_user_vs_root
run_case "omm-test2 checkpoints omm-test's job" case_user_vs_user
run_case "omm-test checkpoints its own job" case_user_own
ommd_answers
ommd_stops_cleanly
finish
