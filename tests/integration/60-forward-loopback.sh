#!/bin/bash
# 60-forward-loopback: the forwarded system call path on one machine.
#
# tests/tools/fwdloop runs each program as a seccomp guest whose calls are
# encoded, decoded, run by an in-process deputy and written back: the wire
# path without the wire. Each real program must print byte for byte what it
# prints when run directly, with the same exit status, and its calls must
# really have gone through the deputy (fwdloop -v counts them). Everything
# runs twice: with the dynamic loader's file mappings served by the local
# files, and with FWDLOOP_NO_LOCAL_FILES=1, by copies fetched from the deputy.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
FWD=$TOOLS/fwdloop
need "$FWD"

# Inputs, made once: a 50 MB file, text to compress and to sort.
head -c 50000000 /dev/urandom >"$T/big.bin"
seq 1 700000 | sed 's/$/ omm forwarded line/' >"$T/text.txt"
awk 'BEGIN { srand(5); for (i = 0; i < 200000; i++)
	printf "%08d %s\n", int(rand() * 1e8), i }' >"$T/sort.txt"
printf 'hello from home\n' >"$T/small.txt"
: >"$T/empty"
mkdir "$T/lsdir" "$T/lsdir/sub"
printf 'abc' >"$T/lsdir/file"
ln -s file "$T/lsdir/link"
mkfifo "$T/lsdir/fifo"
chmod 4755 "$T/lsdir/file"

# The mapping mode of the current round: local or copy.
MODE=local

# fwd_run OUTPREFIX CMD...: run under fwdloop -v, stdin from $IN (default
# /dev/null); stdout, stderr (without fwdloop's counters) and counters apart.
fwd_run() {
	local out=$1; shift
	local rc=0
	"$FWD" -v -- "$@" <"${IN:-/dev/null}" >"$out.out" 2>"$out.all" || rc=$?
	grep -v '^fwdloop: ' "$out.all" >"$out.err" || true
	grep '^fwdloop: ' "$out.all" >"$out.stats" || true
	echo "$rc" >"$out.rc"
}

direct_run() {
	local out=$1; shift
	local rc=0
	"$@" <"${IN:-/dev/null}" >"$out.out" 2>"$out.err" || rc=$?
	echo "$rc" >"$out.rc"
}

# The guest's calls went home, and its libraries were mapped the round's way.
check_forwarded() {
	local s=$1
	expect_grep 'notifications: [1-9][0-9]* home' "$s" "fwdloop counters"
	if [ "$MODE" = copy ]; then
		expect_grep 'fmap: 0 local files, [1-9][0-9]* copies' "$s" \
		    "copy-mode counters"
	else
		expect_grep 'fmap: [1-9][0-9]* local files, 0 copies' "$s" \
		    "local-mode counters"
	fi
}

# same NAME CMD...: identical stdout, stderr and status, direct and forwarded.
same() {
	direct_run "$D/direct" "$@"
	fwd_run "$D/fwd" "$@"
	check_forwarded "$D/fwd.stats"
	cmp -s "$D/direct.out" "$D/fwd.out" || {
		diff "$D/direct.out" "$D/fwd.out" | head -n 10 >&2 || true
		fail "stdout differs"
	}
	cmp -s "$D/direct.err" "$D/fwd.err" || {
		diff "$D/direct.err" "$D/fwd.err" | head -n 10 >&2 || true
		fail "stderr differs"
	}
	[ "$(cat "$D/direct.rc")" = "$(cat "$D/fwd.rc")" ] ||
	    fail "exit $(cat "$D/fwd.rc"), directly $(cat "$D/direct.rc")"
}

# For output that may change under our feet (the mtime of /tmp as other
# tests write there): direct, forwarded, direct; the forwarded run must
# match one of the direct runs it sits between. Lines matching $SKIP (an
# ERE) are left out of the comparison.
same_between() {
	local f
	direct_run "$D/d1" "$@"
	fwd_run "$D/fwd" "$@"
	direct_run "$D/d2" "$@"
	check_forwarded "$D/fwd.stats"
	for f in d1 fwd d2; do
		grep -Ev "${SKIP:-^\$^}" "$D/$f.out" >"$D/$f.cmp" || true
	done
	[ -s "$D/fwd.cmp" ] || fail "no output"
	cmp -s "$D/d1.cmp" "$D/fwd.cmp" || cmp -s "$D/d2.cmp" "$D/fwd.cmp" || {
		diff "$D/d1.cmp" "$D/fwd.cmp" | head -n 10 >&2 || true
		fail "stdout differs"
	}
	[ "$(cat "$D/d1.rc")" = "$(cat "$D/fwd.rc")" ] || fail "exit status"
}

case_cat() { same cat "$T/small.txt" "$T/empty"; }
case_sha256sum() { same sha256sum "$T/big.bin"; }

# stdin and stdout are the deputy's: the compressed file is written at home.
case_gzip() {
	IN=$T/text.txt direct_run "$D/direct" gzip -9
	IN=$T/text.txt fwd_run "$D/fwd" gzip -9
	check_forwarded "$D/fwd.stats"
	[ "$(cat "$D/fwd.rc")" = 0 ] || fail "gzip exited $(cat "$D/fwd.rc")"
	cmp "$D/direct.out" "$D/fwd.out" || fail "compressed bytes differ"
	gzip -dc <"$D/fwd.out" | cmp - "$T/text.txt" ||
	    fail "does not decompress to the input"
}

case_python() { same "$PYTHON" -c 'print(sum(range(10**6)))'; }

case_python_files() {
	same "$PYTHON" -c '
import os, json, hashlib
d = os.environ["T"]
p = os.path.join(d, "py-%d.json" % os.getpid())
with open(p, "w") as f:
    json.dump({"n": list(range(1000))}, f)
with open(p) as f:
    n = sum(json.load(f)["n"])
print(n, hashlib.sha256(open(os.path.join(d, "small.txt"), "rb").read()).hexdigest())
print(sorted(os.listdir(d))[:3], os.path.getsize(os.path.join(d, "small.txt")))
os.unlink(p)'
}

case_sort() { same sort "$T/sort.txt"; }

case_bc() {
	printf 'scale=500; 4*a(1)\n' >"$D/bc.in"
	IN=$D/bc.in same bc -l
	expect_grep '^3\.14159265358979323846' "$D/fwd.out" "bc's pi"
}

# ls -la of a system directory: getdents64, statx, readlink, getxattr.
# /usr, not /: on a shared machine something (a test's useradd touching
# /etc, /tmp) changes / between the two runs.
case_ls() {
	same_between ls -la /usr
}
case_ls_dir() {
	same ls -la --time-style=full-iso "$T/lsdir"
	expect_grep '^lrwx.* link -> file$' "$D/fwd.out" "the symlink"
	expect_grep '^prw.* fifo$' "$D/fwd.out" "the fifo"
}

case_stat() {
	printf 'x\n' >"$D/statme"
	same stat "$D/statme" /
}

case_uname() { same uname -a; }

case_exit_status() {
	same sh -c 'exit 7'
	[ "$(cat "$D/fwd.rc")" = 7 ] || fail "status $(cat "$D/fwd.rc")"
	same false
	[ "$(cat "$D/fwd.rc")" = 1 ] || fail "false: $(cat "$D/fwd.rc")"
}

# kill(getpid(), SIGTERM) from the guest: getpid is answered for the
# original and kill runs at home; the guest dies of it, fwdloop passes it on.
case_killed_by_signal() {
	same sh -c 'kill -TERM $$; sleep 5'
	[ "$(cat "$D/fwd.rc")" = 143 ] || fail "status $(cat "$D/fwd.rc")"
}

# A write to a closed pipe raises SIGPIPE for the writer, even though it
# was the deputy's write that failed.
case_sigpipe() {
	local rc=0
	set +e
	( set -o pipefail; "$FWD" -- yes | head -n 1 >"$D/out" )
	rc=$?
	set -e
	[ "$rc" = 141 ] || fail "pipeline status $rc, expected 141 (SIGPIPE)"
	[ "$(cat "$D/out")" = y ] || fail "yes printed $(cat "$D/out")"
}

case_enoent() {
	same cat /nonexistent/omm-file
	[ "$(cat "$D/fwd.rc")" = 1 ] || fail "status $(cat "$D/fwd.rc")"
	expect_grep 'No such file or directory' "$D/fwd.err"
	same "$PYTHON" -c 'open("/nonexistent/omm-file")'
	expect_grep 'FileNotFoundError: \[Errno 2\]' "$D/fwd.err"
}

# What needs the process at home gets ENOSYS in the loopback, counted.
case_fork_needs_home() {
	fwd_run "$D/fwd" "$PYTHON" -c 'import os; os.fork()'
	expect_grep '\[Errno 38\]' "$D/fwd.err" "python's error"
	expect_grep 'bring-home:.* clone [1-9]' "$D/fwd.stats" "counters"
}

case_bench() {
	"$FWD" -b 5000 >"$D/bench" 2>&1 || fail "fwdloop -b failed"
	sed 's/^/    /' "$D/bench"
	# Forwarded, a call costs a notification round trip: microseconds,
	# not the fraction of one it costs natively.
	awk '/getppid\(\) +forwarded/ { exit !($4 >= 2.0) }' "$D/bench" ||
	    fail "forwarded getppid too fast to have been forwarded"
}

for MODE in local copy; do
	if [ "$MODE" = copy ]; then
		export FWDLOOP_NO_LOCAL_FILES=1
	else
		unset FWDLOOP_NO_LOCAL_FILES
	fi
	export T
	run_case "cat ($MODE)" case_cat
	run_case "sha256sum 50 MB ($MODE)" case_sha256sum
	run_case "gzip -9 stdin to stdout ($MODE)" case_gzip
	run_case "python3 sum ($MODE)" case_python
	run_case "python3 files ($MODE)" case_python_files
	run_case "sort ($MODE)" case_sort
	run_case "bc -l pi ($MODE)" case_bc
	run_case "ls -la /usr ($MODE)" case_ls
	run_case "ls -la dir ($MODE)" case_ls_dir
	run_case "stat ($MODE)" case_stat
	run_case "uname -a ($MODE)" case_uname
	run_case "exit status ($MODE)" case_exit_status
	run_case "killed by SIGTERM ($MODE)" case_killed_by_signal
	run_case "SIGPIPE ($MODE)" case_sigpipe
	run_case "ENOENT ($MODE)" case_enoent
	run_case "fork needs home ($MODE)" case_fork_needs_home
done
unset FWDLOOP_NO_LOCAL_FILES
run_case "round trips (fwdloop -b)" case_bench
finish
