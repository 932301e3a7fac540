#!/bin/bash
# bench/native.sh: what running under omm costs a process that is not moved.
#
# A CPU-bound Debian workload (xz -6, one thread, of 8 MB of generated
# text) run directly and under omrun, best of ROUNDS (default 3) each: the
# ratio direct/omrun should be >= 0.99. Then a fork-heavy one (a shell
# running /bin/true 2000 times), where every fork and exec is an event ommd
# handles: the difference per fork+exec is printed.
#
#   OMM_BUILD=build bash bench/native.sh
source "$(dirname "${BASH_SOURCE[0]}")/../tests/integration/lib.sh"
need "$OMMD" "$OMRUN" "$OMCTL"

ROUNDS=${ROUNDS:-3}
FORKS=2000

now() { date +%s.%N; }

# best CMD...: the shortest wall time of ROUNDS runs, in seconds.
best() {
	local b=999 t0 t r
	for r in $(seq "$ROUNDS"); do
		t0=$(now)
		"$@" </dev/null >/dev/null 2>"$T/err" ||
		    fail "$* failed: $(cat "$T/err")"
		t=$(echo "$(now) - $t0" | bc -l)
		b=$(echo "if ($t < $b) $t else $b" | bc -l)
	done
	echo "$b"
}

"$PYTHON" - "$T/text" <<'EOF'
import random, sys
r = random.Random(2)
alpha = "abcdefghijklmnopqrstuvwxyz"
words = ["".join(r.choice(alpha) for _ in range(r.randint(2, 9)))
         for _ in range(5000)]
with open(sys.argv[1], "w") as f:
    n = 0
    while n < 8000000:
        line = " ".join(r.choices(words, k=8)) + "\n"
        f.write(line)
        n += len(line)
EOF

start_ommd
XZ=(xz -6 -T1 -c "$T/text")
FORK=(/bin/sh -c "for i in \$(seq $FORKS); do /bin/true; done")

d=$(best "${XZ[@]}")
m=$(best "$OMRUN" "${XZ[@]}")
printf '%-28s %8s %8s %8s\n' workload direct_s omrun_s ratio
printf '%-28s %8.3f %8.3f %8.4f\n' "xz -6 -T1 (8 MB)" "$d" "$m" \
    "$(echo "$d / $m" | bc -l)"
d=$(best "${FORK[@]}")
m=$(best "$OMRUN" "${FORK[@]}")
printf '%-28s %8.3f %8.3f %8.4f\n' "sh: $FORKS x fork+exec true" "$d" "$m" \
    "$(echo "$d / $m" | bc -l)"
printf 'cost per fork+exec under omm: %.1f us\n' \
    "$(echo "($m - $d) * 1000000 / $FORKS" | bc -l)"
