#!/bin/bash
# 58-state-kept.sh: issue 10, section 2 and acceptance 2: "nothing of a
# process's state may be lost silently; either it is carried or the move
# is refused naming it". One self-checking program per state seen lost
# (tests/progs: madvise, mlock, fdflags, groups, membarrier, sigtrap, mapaway,
# children; docs/limits.md), each run three ways on node 1 of a 2-node
# cluster, always with two checks (one SIGUSR1 each):
#
#   reference   plainly, without omm;
#   restore     under omrun, `omctl checkpoint --kill` once it is READY,
#               `omrun --restore`, then both checks in the restored copy;
#   migrate     under omrun, moved to node 2 (first check there), then
#               `omctl migrate PID home` (second check at home).
#
# Each output must be byte-identical to the reference and the status 0.
# `children` (a running and an exited child) cannot be restored alone: its
# checkpoint must be refused naming a child, and it must go on as the
# parent (its wait() works); migrated, its original stays home and stays
# their parent, so the move is made and the wait works after it.
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/migrate.sh"
PROGS=$OMM_BUILD/tests/progs
LIST=(madvise mlock fdflags groups membarrier sigtrap mapaway children)
[ -n "${STATE_PROGS:-}" ] && read -ra LIST <<<"$STATE_PROGS"	# by hand: a few
migrate_need "${LIST[@]/#/$PROGS/}"

migrate_cluster 2

# has_line FILE RE: FILE has a line matching RE.
has_line() { grep -Eq -- "$2" "$1" 2>/dev/null; }

# trigger PID FILE N: SIGUSR1 to PID, then FILE says "check N:" within 10 s.
trigger() {
	kill -USR1 "$1" 2>/dev/null && within 10 has_line "$2" "^check $3:"
}

# ready NAME: the program's $PROG_READY file appeared in node 1's /tmp.
ready() { within 10 test -e "$N1T/$1.ready"; }

# same W TAG FILE: FILE (node 1's /tmp) is byte-identical to W's reference.
same() {
	if cmp -s "$N1T/$1.ref" "$N1T/$3"; then
		ok "$1: $2: output identical to the uninterrupted run"
	else
		bad "$1: $2: output differs: $(diff "$N1T/$1.ref" "$N1T/$3" | head -5 | tr '\n' '|')"
	fi
}

for w in "${LIST[@]}"; do
	export W=$w
	f0=$fail
	# --- reference, no omm
	rm -f "$N1T/$w.ref.ready"
	node_exec 1 env PROG_READY="/tmp/$w.ref.ready" TMPDIR=/tmp \
	    "$PROGS/$w" 2 </dev/null >"$N1T/$w.ref" 2>"$N1T/$w.ref.err" &
	ref=$!
	if ready "$w.ref"; then
		# the oldest: children's children have its command line too
		rp=$(pgrep -o -f "^$PROGS/$w 2\$")
		check "$w: reference: first check" trigger "$rp" "$N1T/$w.ref" 1
		check "$w: reference: second check" trigger "$rp" "$N1T/$w.ref" 2
	else
		bad "$w: reference: never READY: $(head -c 300 "$N1T/$w.ref.err")"
	fi
	wait "$ref"
	rc=$?
	check "$w: reference: PASS, status 0 ($rc)" [ "$rc" -eq 0 ]
	has_line "$N1T/$w.ref" "^PASS $w\$" || bad "$w: reference: $(tail -3 "$N1T/$w.ref.err")"

	# --- checkpoint and restore
	rm -f "$N1T/$w.ck.ready" "$N1T/$w.kids" "$N1T/$w.img"
	# opened inside node 1, so that the image names its path there
	rm -f "$N1T/$w.ck.pid"
	node_exec 1 /bin/sh -c 'exec "$@" </dev/null >"/tmp/$W.ck.out" \
	    2>"/tmp/$W.ck.err"' sh "$OMM_BUILD/omrun" --pidfile "/tmp/$w.ck.pid" \
	    env PROG_READY="/tmp/$w.ck.ready" PROG_CHILDREN="/tmp/$w.kids" \
	    TMPDIR=/tmp "$PROGS/$w" 2 &
	OMRUN=$!
	within 5 test -s "$N1T/$w.ck.pid" && JOB=$(cat "$N1T/$w.ck.pid")
	if ! [ -s "$N1T/$w.ck.pid" ] || ! ready "$w.ck"; then
		bad "$w: restore: the job did not start"
		wait_pid "$OMRUN" 10
		continue
	fi
	ck=$JOB
	if [ "$w" = children ]; then
		node_omctl 1 checkpoint "$ck" -o "/tmp/$w.img" --kill \
		    >"$N1T/$w.ckpt" 2>&1 && bad "$w: checkpoint of a parent was made"
		kids=$(tr '\n' '|' <"$N1T/$w.kids")
		check "$w: checkpoint refused naming a child: $(cat "$N1T/$w.ckpt")" \
		    has_line "$N1T/$w.ckpt" "has (live )?child (${kids%|})"
		check "$w: no image written" [ ! -s "$N1T/$w.img" ]
		check "$w: refused: first check in the original" \
		    trigger "$ck" "$N1T/$w.ck.out" 1
		check "$w: refused: second check (its children reaped)" \
		    trigger "$ck" "$N1T/$w.ck.out" 2
		wait_pid "$OMRUN" 20
		check "$w: refused: exit status 0 ($RC)" [ "$RC" -eq 0 ]
	else
		if node_omctl 1 checkpoint "$ck" -o "/tmp/$w.img" --kill \
		    >"$N1T/$w.ckpt" 2>&1; then
			ok "$w: checkpointed: $(cat "$N1T/$w.ckpt")"
		else
			bad "$w: checkpoint: $(cat "$N1T/$w.ckpt")"
		fi
		wait_pid "$OMRUN" 10
		rm -f "$N1T/$w.r.pid"
		node_exec 1 "$OMM_BUILD/omrun" --pidfile "/tmp/$w.r.pid" \
		    --restore "/tmp/$w.img" </dev/null >"$N1T/$w.r.out" \
		    2>"$N1T/$w.r.err" &
		rest=$!
		if within 10 test -s "$N1T/$w.r.pid"; then
			rj=$(cat "$N1T/$w.r.pid")
			# stdout was a file: the restored copy writes on in it
			check "$w: restored: first check" trigger "$rj" "$N1T/$w.ck.out" 1
			check "$w: restored: second check" trigger "$rj" "$N1T/$w.ck.out" 2
		else
			bad "$w: restore failed: $(head -c 400 "$N1T/$w.r.err")"
		fi
		wait_pid "$rest" 20
		check "$w: restored: exit status 0 ($RC)" [ "$RC" -eq 0 ]
	fi
	same "$w" "checkpoint+restore" "$w.ck.out"
	[ -s "$N1T/$w.ck.err" ] && echo "# $w: $(head -c 400 "$N1T/$w.ck.err")"
	[ -s "$N1T/$w.r.err" ] && echo "# $w: restore: $(head -c 400 "$N1T/$w.r.err")"

	# --- migration 1 -> 2 -> home
	rm -f "$N1T/$w.mig.ready"
	if ! job_start "$w.mig" env PROG_READY="/tmp/$w.mig.ready" TMPDIR=/tmp \
	    "$PROGS/$w" 2 || ! ready "$w.mig"; then
		bad "$w: migrate: the job did not start"
		wait_pid "$OMRUN" 10
		continue
	fi
	mj=$JOB
	if check "$w: migrated to node 2" migrate_to "$mj" 2; then
		check "$w: first check on node 2" trigger "$mj" "$N1T/$w.mig.out" 1
		# node 2 has no such file in its /tmp: it must have copied it
		[ "$w" = mapaway ] &&
		check "$w: node 2 copied the mapped file it lacks from home" \
		    grep -Eq "guest [0-9]+: 1 mapped file this node lacks copied from home, 65536 bytes" \
		    "$(node_dir 2)/log/ommd.log"
		# waitid needs home (docs/syscalls.md): children's check brings
		# it home itself
		if [ "$w" = children ]; then
			check "$w: brought home by its waitid" \
			    ps_q 1 "$mj" "p['where'] == 1 and p['migrations'] == 1"
		else
			check "$w: still on node 2 after it" ps_q 1 "$mj" "p['where'] == 2"
		fi
	fi
	[ "$w" = children ] ||
	check "$w: omctl migrate $mj home" quiet node_omctl 1 migrate "$mj" home
	check "$w: home again" ps_q 1 "$mj" "p['where'] == 1 and p['away'] == 'home'"
	check "$w: second check at home" trigger "$mj" "$N1T/$w.mig.out" 2
	wait_pid "$OMRUN" 20
	check "$w: migrated: exit status 0 ($RC)" [ "$RC" -eq 0 ]
	same "$w" "migration 1 -> 2 -> home" "$w.mig.out"
	[ -s "$N1T/$w.mig.err" ] && echo "# $w: $(head -c 400 "$N1T/$w.mig.err")"
	[ "$fail" -eq "$f0" ] || logs_of "$ck" "$mj"
done
check "node 2: no omm-guest process left" within 5 [ -z "$(guest_pids 2)" ]
finish
