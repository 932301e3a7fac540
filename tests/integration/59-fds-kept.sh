#!/bin/bash
# 59-fds-kept.sh: issue 12, section 4 and its acceptance: "other
# descriptors a process holds" are carried or refused naming the fd and
# its kind, and `omctl ps` CANTMOVE shows why a checkpoint or a migration
# would refuse a process. On node 1 of a 3-node cluster:
#
#   fdkinds (tests/progs: eventfds, an epoll and its interest list, O_PATH,
#   a memfd reopened read-only and mapped shared, a deleted open file, a
#   signalfd with a queued signal, a memfd mapped without an fd) run
#     reference      plainly, without omm, 3 checks;
#     --kill         `omctl checkpoint --kill` once READY, `omrun
#                    --restore`, the 3 checks in the restored copy;
#     --leave-running the 3 checks in the original after the checkpoint,
#                    then the image restored once it ended: its 3 checks
#                    again, writing the same bytes over its stdout file;
#     migration      `fdkinds 3 nosignalfd,nomap` moved 1 -> 2 (check 1)
#                    -> 3 (check 2) -> home (check 3);
#   each output byte-identical to its reference, each status 0. With its
#   signalfd, or its memfd mapped while fd 24 holds the memfd, fdkinds
#   cannot migrate: `omctl ps` says so ("fd 27: signalfd ...", "mapping
#   ... of memfd omm-fdkinds, which fd 24 holds ..."),
#   `omctl migrate` is refused naming it, and it goes on at home.
#
#   A process whose fd 3 is a socket: ps CANTMOVE says "checkpoint: fd 3:
#   socket" (it can migrate: its descriptors stay home), and the checkpoint
#   is refused with "fd 3: socket".
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/migrate.sh"
PROGS=$OMM_BUILD/tests/progs
migrate_need "$PROGS/fdkinds" /bin/bash /bin/sleep

migrate_cluster 3

# has_line FILE RE: FILE has a line matching RE.
has_line() { grep -Eq -- "$2" "$1" 2>/dev/null; }

# trigger PID FILE N: SIGUSR1 to PID, then FILE says "check N:" within 10 s.
trigger() {
	kill -USR1 "$1" 2>/dev/null && within 10 has_line "$2" "^check $3:"
}

# ready NAME: the program's $PROG_READY file appeared in node 1's /tmp.
ready() { within 10 test -e "$N1T/$1.ready"; }

# same REF FILE WHAT: FILE (node 1's /tmp) is byte-identical to REF.
same() {
	if cmp -s "$N1T/$1" "$N1T/$2"; then
		ok "$3: output identical to the uninterrupted run"
	else
		bad "$3: output differs: $(diff "$N1T/$1" "$N1T/$2" | head -5 | tr '\n' '|')"
	fi
}

# cantmove I PID: node I's ps --json cantmove of PID ("null" for none).
cantmove() {
	node_omctl "$1" ps --json 2>/dev/null | $PY -c '
import json, sys
p = {x["pid"]: x for x in json.load(sys.stdin)["processes"]}.get(int(sys.argv[1]))
print("no such process" if p is None else p["cantmove"] or "null")' "$2"
}

# ck_start NAME ARGS...: fdkinds ARGS under omrun on node 1, its stdout
# and stderr opened inside the node (the image names /tmp/NAME.out there);
# JOB its pid, OMRUN omrun's here. Fails unless READY.
ck_start() {
	local n=$1
	shift
	rm -f "$N1T/$n.ready" "$N1T/$n.pid" "$N1T/$n.out" "$N1T/$n.err"
	export N=$n
	node_exec 1 /bin/sh -c 'exec "$@" </dev/null >"/tmp/$N.out" \
	    2>"/tmp/$N.err"' sh "$OMM_BUILD/omrun" --pidfile "/tmp/$n.pid" \
	    env PROG_READY="/tmp/$n.ready" TMPDIR=/tmp "$@" &
	OMRUN=$!
	within 5 test -s "$N1T/$n.pid" && JOB=$(cat "$N1T/$n.pid") && ready "$n"
}

# restore NAME IMG: omrun --restore IMG on node 1; RJ the restored pid,
# REST omrun's pid here.
restore() {
	rm -f "$N1T/$1.r.pid"
	node_exec 1 "$OMM_BUILD/omrun" --pidfile "/tmp/$1.r.pid" \
	    --restore "/tmp/$2" </dev/null >"$N1T/$1.r.out" 2>"$N1T/$1.r.err" &
	REST=$!
	within 10 test -s "$N1T/$1.r.pid" && RJ=$(cat "$N1T/$1.r.pid")
}

# --- references, no omm
for args in "3" "3 nomap" "3 nosignalfd" "3 nosignalfd,nomap"; do
	tag=ref${args// /-}
	rm -f "$N1T/$tag.ready"
	node_exec 1 env PROG_READY="/tmp/$tag.ready" TMPDIR=/tmp \
	    "$PROGS/fdkinds" $args </dev/null >"$N1T/$tag" 2>"$N1T/$tag.err" &
	ref=$!
	if ready "$tag"; then
		rp=$(pgrep -n -f "^$PROGS/fdkinds $args\$")
		for i in 1 2 3; do
			check "reference ($args): check $i" trigger "$rp" "$N1T/$tag" $i
		done
	else
		bad "reference ($args): never READY: $(head -c 300 "$N1T/$tag.err")"
	fi
	wait "$ref"
	rc=$?
	check "reference ($args): PASS, status 0 ($rc)" [ "$rc" -eq 0 ]
	has_line "$N1T/$tag" "^PASS fdkinds\$" ||
	    bad "reference ($args): $(tail -3 "$N1T/$tag.err")"
done

# --- checkpoint --kill, restore
if ck_start kill "$PROGS/fdkinds" 3; then
	if node_omctl 1 checkpoint "$JOB" -o /tmp/kill.img --kill \
	    >"$N1T/kill.ckpt" 2>&1; then
		ok "--kill: checkpointed: $(cat "$N1T/kill.ckpt")"
	else
		bad "--kill: checkpoint: $(cat "$N1T/kill.ckpt")"
	fi
	wait_pid "$OMRUN" 10
	node_omctl 1 image info /tmp/kill.img >"$N1T/kill.info" 2>&1
	check "--kill: image info names every kind" $PY - "$N1T/kill.info" <<'EOF'
import sys
text = open(sys.argv[1]).read()
want = ["20 eventfd", "count 5, semaphore", "21 eventfd", "count 1099511627776",
        "22 epoll", "20:0x19:0xfeed0001", "21:0x1c:0xfeed0002", "23 opath",
        "24 memfd", "100000 bytes carried, seals 0x6", "25 memfd",
        "26 deleted", "50000 bytes carried", "27 signalfd", "mask 0x800",
        "shared,memfd             /memfd:omm-fdkinds (deleted)"]
missing = [w for w in want if w not in text]
if missing:
    print("missing:", missing, file=sys.stderr)
sys.exit(1 if missing else 0)
EOF
	if restore kill kill.img; then
		for i in 1 2 3; do
			check "--kill: restored: check $i" trigger "$RJ" "$N1T/kill.out" $i
		done
	else
		bad "--kill: restore failed: $(head -c 400 "$N1T/kill.r.err")"
	fi
	wait_pid "$REST" 20
	check "--kill: restored: exit status 0 ($RC)" [ "$RC" -eq 0 ]
	same ref3 kill.out "--kill: checkpoint+restore"
	[ -s "$N1T/kill.err" ] && echo "# --kill: $(head -c 400 "$N1T/kill.err")"
else
	bad "--kill: the job did not start"
	wait_pid "$OMRUN" 10
fi

# --- checkpoint --leave-running; the image restored after the original ended
if ck_start leave env PROG_KEEP=1 "$PROGS/fdkinds" 3; then
	if node_omctl 1 checkpoint "$JOB" -o /tmp/leave.img --leave-running \
	    >"$N1T/leave.ckpt" 2>&1; then
		ok "--leave-running: checkpointed: $(cat "$N1T/leave.ckpt")"
	else
		bad "--leave-running: checkpoint: $(cat "$N1T/leave.ckpt")"
	fi
	for i in 1 2 3; do
		check "--leave-running: original: check $i" trigger "$JOB" "$N1T/leave.out" $i
	done
	wait_pid "$OMRUN" 20
	check "--leave-running: original: exit status 0 ($RC)" [ "$RC" -eq 0 ]
	same ref3 leave.out "--leave-running: the original"
	# The copy reopens stdout at the image's offset: cut there, its
	# lines come again.
	pos=$(node_omctl 1 image info --json /tmp/leave.img | $PY -c '
import json, sys
print([f["pos"] for f in json.load(sys.stdin)["fds"] if f["fd"] == 1][0])')
	truncate -s "${pos:-0}" "$N1T/leave.out"
	if restore leave leave.img; then
		for i in 1 2 3; do
			check "--leave-running: restored: check $i" trigger "$RJ" "$N1T/leave.out" $i
		done
	else
		bad "--leave-running: restore failed: $(head -c 400 "$N1T/leave.r.err")"
	fi
	wait_pid "$REST" 20
	check "--leave-running: restored: exit status 0 ($RC)" [ "$RC" -eq 0 ]
	same ref3 leave.out "--leave-running: the restored copy"
	rm -rf "$N1T"/fdkinds.*
else
	bad "--leave-running: the job did not start"
	wait_pid "$OMRUN" 10
fi

# refused_mig NAME ARGS WHY: fdkinds ARGS cannot migrate: ps CANTMOVE is
# "WHY..." (a checkpoint would take it), omctl migrate is refused naming WHY, and it does its
# checks at home as the reference of ARGS.
refused_mig() {
	local n=$1 args=$2 want=$3 why out
	if ! ck_start "$n" "$PROGS/fdkinds" $args; then
		bad "$n: the job did not start"
		wait_pid "$OMRUN" 10
		return
	fi
	why=$(cantmove 1 "$JOB")
	check "$n: ps CANTMOVE: $why" eval '[[ "$why" == $want* ]]'
	out=$(node_omctl 1 migrate "$JOB" node2 2>&1)
	check "$n: migrate refused: $out" eval '[[ "$out" == *$want* ]]'
	check "$n: still home" ps_q 1 "$JOB" "p['where'] == 1 and p['away'] == 'home'"
	for i in 1 2 3; do
		check "$n: check $i at home" trigger "$JOB" "$N1T/$n.out" $i
	done
	wait_pid "$OMRUN" 20
	check "$n: exit status 0 ($RC)" [ "$RC" -eq 0 ]
	same "ref3-${args#3 }" "$n.out" "$n, refused a migration"
}
refused_mig sig "3 nomap" "fd 27: signalfd"
refused_mig map "3 nosignalfd" "mapping 0x*-0x* of memfd omm-fdkinds, which fd 24 holds"

# --- migration 1 -> 2 -> 3 -> home, without the signalfd
if ck_start mig "$PROGS/fdkinds" 3 nosignalfd,nomap; then
	mj=$JOB
	check "migration: ps CANTMOVE before: $(cantmove 1 "$mj")" \
	    [ "$(cantmove 1 "$mj")" = null ]
	if check "migration: to node 2" migrate_to "$mj" 2; then
		check "migration: check 1 on node 2" trigger "$mj" "$N1T/mig.out" 1
	fi
	if check "migration: on to node 3" migrate_to "$mj" 3; then
		check "migration: check 2 on node 3" trigger "$mj" "$N1T/mig.out" 2
	fi
	check "migration: omctl migrate $mj home" quiet node_omctl 1 migrate "$mj" home
	check "migration: home again" ps_q 1 "$mj" "p['where'] == 1 and p['away'] == 'home'"
	check "migration: check 3 at home" trigger "$mj" "$N1T/mig.out" 3
	wait_pid "$OMRUN" 20
	check "migration: exit status 0 ($RC)" [ "$RC" -eq 0 ]
	same ref3-nosignalfd,nomap mig.out "migration 1 -> 2 -> 3 -> home"
	[ -s "$N1T/mig.err" ] && echo "# migration: $(head -c 400 "$N1T/mig.err")"
else
	bad "migration: the job did not start"
	wait_pid "$OMRUN" 10
fi

# --- a socket at fd 3: ps names it, the checkpoint is refused naming it
rm -f "$N1T/sock.pid"
node_exec 1 "$OMM_BUILD/omrun" --pidfile /tmp/sock.pid /bin/bash -c \
    'exec 3<>/dev/udp/127.0.0.1/9; exec /bin/sleep 120' </dev/null \
    >"$N1T/sock.out" 2>"$N1T/sock.err" &
OMRUN=$!
if within 5 test -s "$N1T/sock.pid"; then
	sj=$(cat "$N1T/sock.pid")
	# the exec of sleep: its comm says so
	within 5 eval '[ "$(cat /proc/'"$sj"'/comm 2>/dev/null)" = sleep ]'
	why=$(cantmove 1 "$sj")
	check "socket: ps --json CANTMOVE: $why" [ "$why" = "checkpoint: fd 3: socket" ]
	check "socket: omctl ps shows it" eval \
	    'node_omctl 1 ps | grep -qE "^ *$sj .*checkpoint: fd 3: socket"'
	out=$(node_omctl 1 checkpoint "$sj" -o /tmp/sock.img --kill 2>&1)
	check "socket: checkpoint refused: $out" eval '[[ "$out" == *"fd 3: socket"* ]]'
	check "socket: no image" [ ! -s "$N1T/sock.img" ]
	kill "$sj" 2>/dev/null
else
	bad "socket: the job did not start: $(head -c 300 "$N1T/sock.err")"
fi
wait_pid "$OMRUN" 10

check "nodes 2, 3: no omm-guest process left" \
    within 5 eval '[ -z "$(guest_pids 2)$(guest_pids 3)" ]'
finish
