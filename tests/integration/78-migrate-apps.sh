#!/bin/bash
# 78-migrate-apps.sh: issue 10, section 2 ("seen broken after a move"):
# sqlite3 and make -j2, each migrated mid-run 1 -> 2 -> 3 -> home, end with
# output byte-identical to an uninterrupted run and the same exit status.
#
# sqlite3 builds a database of ROWS rows (600,000) in transactions of
# 10,000 INSERTs, then indexes, queries, deletes and checks it: it holds
# POSIX record locks on the database for most of its run (a transaction),
# writes and deletes its -journal, fsyncs, reads back what it wrote. Its
# output is the query results only. At least one move must catch it
# holding its locks, which its deputy then holds at home for it
# (plocks.h): /proc/locks of node 1 shows them, held by another pid.
#
# make -j2 builds a generated project of 80 small C files with gcc, then
# runs the program it linked; the output is the program's (a sum over every
# object) and a sorted listing of the objects, not make's own lines (their
# order depends on which compiler ends first). make waits for its children
# in pselect with SIGCHLD unblocked only inside the call (the jobserver), so
# every child's exit must reach it as a SIGCHLD it takes there, whichever
# node it runs on or is on its way to; a wait4 brings it home (it may be
# home again by itself before the next move: a move then starts from home).
#
# git log -p (issue 12, section 6: files the host does not have) on a
# repository only node 1 has, in its /tmp: 4,000 commits made with git
# fast-import, one pack. git maps the pack and its index: nodes 2 and 3
# have neither, so each arrival copies what the image maps from home
# (their logs say so), and git's own mmaps while away get copies too. Its
# --color-moved makes the run long enough to move it three times.
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
. "$OMM_SRC/tests/cluster/migrate.sh"
for p in /usr/bin/sqlite3 /usr/bin/make /usr/bin/gcc /usr/bin/git; do
	[ -x "$p" ] || { echo "missing $p (tests/deps.sh)" >&2; exit 77; }
done
migrate_need
ROWS=${ROWS:-600000}
NFILES=${NFILES:-80}
COMMITS=${COMMITS:-4000}

migrate_cluster 3

$PY - "$N1T" "$ROWS" "$NFILES" "$COMMITS" <<'EOF'
import os, sys
d, rows, nfiles, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), 10000
commits = int(sys.argv[4])
# git fast-import's input: each commit changes 3 lines of one of 20 files
nf, lines = 20, 150
files = [["f%d line %d %08x" % (f, i, (f * 7919 + i * 104729) % 99991)
          for i in range(lines)] for f in range(nf)]
with open(os.path.join(d, "repo.fi"), "wb") as out:
    def data(b):
        out.write(b"data %d\n" % len(b))
        out.write(b)
        out.write(b"\n")
    for c in range(commits):
        f = (c * 7) % nf
        for k in range(3):
            i = (c * 31 + k * 53) % lines
            files[f][i] = "f%d line %d changed in %d %08x" % (f, i, c,
                (c * 2654435761) % (1 << 32))
        out.write(b"commit refs/heads/main\n")
        out.write(b"committer Omm Test <omm@example.org> %d +0000\n" %
                  (1700000000 + c * 60))
        data(b"commit %d: change f%d\n" % (c, f))
        out.write(b"M 100644 inline f%02d.txt\n" % f)
        data(("\n".join(files[f]) + "\n").encode())
with open(os.path.join(d, "build.sql"), "w") as f:
    f.write("CREATE TABLE t(id INTEGER PRIMARY KEY, k INTEGER, v TEXT, g INTEGER);\n")
    for tx in range(rows // per):
        n = tx * per
        f.write("BEGIN;\nINSERT INTO t(k, v, g) WITH RECURSIVE c(x) AS "
                "(SELECT %d UNION ALL SELECT x+1 FROM c WHERE x < %d) "
                "SELECT (x*7919) %% 100003, printf('%%08x', (x*40503) %% 65521), "
                "x %% 97 FROM c;\nCOMMIT;\n" % (n, n + per - 1))
        if tx % 30 == 29:
            f.write("SELECT count(*), sum(k), max(v) FROM t;\n")
    f.write("CREATE INDEX tk ON t(k);\nCREATE INDEX tg ON t(g, v);\n"
            "SELECT g, count(*), sum(k), min(v), max(v) FROM t GROUP BY g ORDER BY g;\n"
            "SELECT k, count(*) FROM t WHERE k BETWEEN 5000 AND 5100 GROUP BY k ORDER BY k;\n"
            "BEGIN; DELETE FROM t WHERE g = 13; UPDATE t SET k = k + 1 WHERE g = 14; COMMIT;\n"
            "SELECT count(*), sum(k) FROM t;\nPRAGMA integrity_check;\n")
p = os.path.join(d, "proj")
os.makedirs(p, exist_ok=True)
for i in range(nfiles):
    with open(os.path.join(p, "f%02d.c" % i), "w") as f:
        # enough for the compiler to take a moment at -O2
        f.write("static unsigned long t%d[64];\n" % i)
        for j in range(12):
            f.write("static unsigned long h%d_%d(unsigned long x) { for (int i = 0; "
                    "i < %d; i++) { x ^= x << 13; x ^= x >> 7; x ^= x << 17; "
                    "t%d[i & 63] += x * %d; } return x + t%d[%d]; }\n"
                    % (i, j, 3 + j, i, i + j + 1, i, j))
        f.write("unsigned long f%02d(unsigned long x) { return %s; }\n" % (i,
                " + ".join("h%d_%d(x + %d)" % (i, j, j) for j in range(12))))
with open(os.path.join(p, "main.c"), "w") as f:
    f.write("#include <stdio.h>\n")
    for i in range(nfiles):
        f.write("unsigned long f%02d(unsigned long);\n" % i)
    f.write("int main(void) { unsigned long s = 0;\n")
    for i in range(nfiles):
        f.write("  s = s * 31 + f%02d(%d);\n" % (i, i))
    f.write('  printf("sum %lu\\n", s); return 0; }\n')
with open(os.path.join(p, "Makefile"), "w") as f:
    objs = " ".join("f%02d.o" % i for i in range(nfiles))
    f.write("OBJS = %s main.o\n" % objs)
    f.write("all: prog\n\t@./prog\n\t@ls $(OBJS) | sort | md5sum\n")
    f.write("prog: $(OBJS)\n\t@gcc -o $@ $(OBJS)\n")
    f.write("%.o: %.c\n\t@gcc -O2 -c -o $@ $<\n")
    f.write("clean:\n\t@rm -f *.o prog\n")
EOF
rm -rf "$N1T/repo"
node_exec 1 /usr/bin/git init -q -b main /tmp/repo &&
    node_exec 1 /usr/bin/git -C /tmp/repo fast-import --quiet <"$N1T/repo.fi"
check "inputs made in node 1's /tmp: build.sql, a project of $NFILES files, a repository of $COMMITS commits" \
    [ -s "$N1T/build.sql" -a -s "$N1T/proj/Makefile" -a -n "$(ls "$N1T"/repo/.git/objects/pack/*.pack 2>/dev/null)" ]

declare -A CMD=(
	[sqlite3]="/usr/bin/sqlite3 /tmp/apps.db .read\ /tmp/build.sql"
	[make]="/usr/bin/make -s -j2 --no-print-directory -C /tmp/proj"
	[git]="/usr/bin/git -C /tmp/repo log -p -U300 --color=always --color-moved=zebra main"
)
ORDER=(${APPS:-sqlite3 make git})
reset_job() {
	case $1 in
	sqlite3) rm -f "$N1T/apps.db" "$N1T/apps.db-journal" ;;
	make) node_exec 1 /usr/bin/make -s -C /tmp/proj clean ;;
	esac
}

# where_is PID: node 1's idea of where PID runs (1: home), or nothing.
where_is() {
	node_omctl 1 ps --json 2>/dev/null | $PY -c '
import json, sys
p = {x["pid"]: x for x in json.load(sys.stdin)["processes"]}.get(int(sys.argv[1]))
print(p["where"] if p else "")' "$1"
}

# move W PID NODE: omctl migrate PID NODE while the job runs; it ran there
# (ps said so just after, or it had already come home by itself).
move() {
	local w=$1 pid=$2 node=$3 t out holder
	if ! [ -d "/proc/$pid" ]; then
		bad "$w: ended before the move to node$node (inputs too small?)"
		return 1
	fi
	t=$(now_ms)
	if ! out=$(node_omctl 1 migrate "$pid" "node$node" 2>&1); then
		bad "$w: omctl migrate $pid node$node: $out"
		return 1
	fi
	ok "$w: migrated to node$node in $(( $(now_ms) - t )) ms: $out"
	if [ "$w" = sqlite3 ]; then
		holder=$(db_locker)
		echo "# sqlite3 on node$node: its database locked by pid ${holder:-none} at home (it is $pid)"
		[ -n "$holder" ] && [ "$holder" != "$pid" ] && LOCKED=$((LOCKED + 1))
	fi
	return 0
}

# db_locker: the pid holding a POSIX lock on node 1's /tmp/apps.db, if any.
db_locker() {
	local ino
	ino=$(stat -c %i "$N1T/apps.db" 2>/dev/null) || return 0
	awk -v i="$ino" '$2 == "POSIX" && $6 ~ (":" i "$") { print $5; exit }' /proc/locks
}
LOCKED=0

for w in "${ORDER[@]}"; do
	eval "argv=(${CMD[$w]})"
	reset_job "$w"
	t=$(now_ms)
	rc=0
	node_exec 1 "${argv[@]}" </dev/null >"$N1T/$w.ref" 2>"$N1T/$w.referr" || rc=$?
	ref_ms=$(( $(now_ms) - t ))
	echo "# $w: reference exit $rc in $ref_ms ms, $(stat -c %s "$N1T/$w.ref") bytes"
	check "$w: the reference run ends well" [ "$rc" -eq 0 -a ! -s "$N1T/$w.referr" ]
	reset_job "$w"

	t=$(now_ms)
	job_start "$w" "${argv[@]}"
	pid=$JOB
	if [ -z "$pid" ]; then
		bad "$w: omrun wrote no pidfile"
		wait_pid "$OMRUN" 60
		continue
	fi
	f0=$fail
	d1=$(awk -v r="$ref_ms" 'BEGIN { printf "%.2f", r * 0.12 / 1000 }')
	d2=$(awk -v r="$ref_ms" 'BEGIN { printf "%.2f", r * 0.15 / 1000 }')
	sleep "$d1"
	move "$w" "$pid" 2 && sleep "$d2" && move "$w" "$pid" 3
	sleep "$d2"
	if [ -d "/proc/$pid" ]; then
		where=$(where_is "$pid")
		if [ -n "$where" ] && [ "$where" != 1 ]; then
			check "$w: omctl migrate $pid home (from node$where)" \
			    quiet node_omctl 1 migrate "$pid" home
		else
			ok "$w: already home by itself"
		fi
	fi
	wait_pid "$OMRUN" 300
	run_ms=$(( $(now_ms) - t ))
	check "$w: exit status $RC, uninterrupted $rc (run $run_ms ms, reference $ref_ms ms)" \
	    [ "$RC" -eq "$rc" ]
	if cmp -s "$N1T/$w.ref" "$N1T/$w.out"; then
		ok "$w: output identical to the uninterrupted run ($(stat -c %s "$N1T/$w.out") bytes)"
	else
		bad "$w: output differs: $(cmp "$N1T/$w.ref" "$N1T/$w.out" 2>&1 | head -1); stderr: $(head -c 300 "$N1T/$w.err")"
	fi
	check "$w: nothing on omrun's stderr" [ ! -s "$N1T/$w.err" ]
	check "$w: moved at least twice (node 1's log)" \
	    [ "$(grep -cE "process $pid: (runs on|moved on)" "$LOG1")" -ge 2 ]
	[ "$w" = sqlite3 ] &&
	    check "sqlite3: moved holding its locks, held by its deputy at home ($LOCKED of 2 moves)" \
	    [ "$LOCKED" -ge 1 ]
	# its waitpid runs once a child's SIGCHLD reached it in pselect
	[ "$w" = make ] &&
	    check "make: a child's exit reached it away (home for its wait4)" \
	    grep -Eq "process $pid: home from node node[23] \(a call needs home: wait4\)" "$LOG1"
	# the pack and its index are node 1's only: an arrival copied them
	[ "$w" = git ] &&
	    check "git: a node it went to copied the mapped files it lacks from home" \
	    grep -Eq "guest [0-9]+: [0-9]+ mapped files? this node lacks copied from home" \
	    "$(node_dir 2)/log/ommd.log" "$(node_dir 3)/log/ommd.log"
	[ "$fail" -eq "$f0" ] || logs_of -a "$pid"
done
for i in 2 3; do
	check "node $i: no omm-guest process left" within 5 [ -z "$(guest_pids "$i")" ]
done
finish
