#!/bin/bash
# 71-migrate-signals.sh: issue 5, acceptance 2. Signals sent to the home
# pid of a process running on node 2 reach it there:
#   - kill -TERM: omrun on node 1 exits 143, and the guest on node 2 is gone;
#   - kill -STOP: its output stops (ps says stopped), kill -CONT: it resumes
#     where it was, still on node 2, and finishes with the right output;
#   - an interactive python3 under omrun in a tmux pane on node 1 (its stdin
#     and stdout the terminal) keeps answering lines typed with send-keys
#     after it moved to node 2 (terminal reads, writes and ioctls go home).
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/migrate.sh"
migrate_need /usr/bin/tmux
migrate_cluster 2

make_tick

# SIGTERM
if job_start term $PY /tmp/tick.py 0; then
	sleep 0.3
	check "term: job $JOB migrated to node2" migrate_to "$JOB" 2
	check "term: its output grows on node 2" grows "$N1T/term.out" 0.5
	t=$(now_ms)
	node_exec 1 kill -TERM "$JOB"
	wait_pid "$OMRUN" 10
	check "term: omrun exits 143 after kill -TERM $JOB (got $RC, $(( $(now_ms) - t )) ms)" \
	    [ "$RC" -eq 143 ]
	check "term: the home pid is gone" within 2 not test -d "/proc/$JOB"
	check "term: no guest left on node 2" within 3 [ -z "$(guest_pids 2)" ]
else
	bad "term: omrun wrote no pidfile"
fi

# SIGSTOP / SIGCONT: ticking until told
rm -f "$N1T/stop.stop"
if job_start stop $PY /tmp/tick.py 0 /tmp/stop.stop; then
	sleep 0.3
	check "stop: job $JOB migrated to node2" migrate_to "$JOB" 2
	check "stop: its output grows on node 2" grows "$N1T/stop.out" 0.5
	node_exec 1 kill -STOP "$JOB"
	sleep 0.3
	check "stop: after kill -STOP the output stops for 1 s" still "$N1T/stop.out" 1
	check "stop: ps says stopped, still on node 2" \
	    ps_q 1 "$JOB" "p['state'] == 'stopped' and p['where'] == 2"
	check "stop: a signal forwarded (fwd_signals)" ps_q 1 "$JOB" "p['fwd_signals'] >= 1"
	node_exec 1 kill -CONT "$JOB"
	check "stop: after kill -CONT the output grows again" grows "$N1T/stop.out" 0.5
	check "stop: running on node 2" \
	    ps_q 1 "$JOB" "p['state'] == 'running' and p['where'] == 2"
	tick_stop stop
	wait_pid "$OMRUN" 30
	check "stop: omrun exits 0 (got $RC)" [ "$RC" -eq 0 ]
	check "stop: every line, in order, once ($(wc -l <"$N1T/stop.out") lines)" \
	    ticked "$N1T/stop.out"
else
	bad "stop: omrun wrote no pidfile"
fi

# python3 on a terminal: tmux on node 1
pane() { node_exec 1 tmux capture-pane -p -t omm71 -S -50 2>/dev/null; }
pane_has() { pane | grep -q -- "$1"; }
rm -f "$N1T/tty.pid"
if node_exec 1 tmux new-session -d -s omm71 -x 120 -y 40 \
    "$OMM_BUILD/omrun --pidfile /tmp/tty.pid $PY -q" 2>"$N1T/tmux.err"; then
	within 5 test -s "$N1T/tty.pid"
	JOB=$(cat "$N1T/tty.pid" 2>/dev/null)
	node_exec 1 tmux send-keys -t omm71 'print(6*7)' Enter
	check "tty: python3 answers 42 at home" within 5 pane_has '^42$'
	if [ -n "$JOB" ]; then
		check "tty: python3 ($JOB) migrated to node2" migrate_to "$JOB" 2
		node_exec 1 tmux send-keys -t omm71 'print(6*9)' Enter
		check "tty: it answers 54 on node 2" within 5 pane_has '^54$'
		node_exec 1 tmux send-keys -t omm71 \
		    'import os; print("tty", os.isatty(0), os.ttyname(1))' Enter
		check "tty: its stdin is still a terminal" within 5 pane_has '^tty True /dev/pts/'
		check "tty: still on node 2" ps_q 1 "$JOB" "p['where'] == 2"
		node_exec 1 tmux send-keys -t omm71 'exit(7)' Enter
		check "tty: it exits" within 5 not test -d "/proc/$JOB"
	else
		bad "tty: omrun wrote no pidfile"
	fi
	if [ "$fail" -ne 0 ]; then
		pane | sed 's/^/# pane: /'
	fi
	node_exec 1 tmux kill-server 2>/dev/null
else
	bad "tmux new-session on node 1: $(cat "$N1T/tmux.err")"
fi
check "no guest left on node 2" within 3 [ -z "$(guest_pids 2)" ]
finish
