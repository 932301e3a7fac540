#!/bin/bash
# 56-integrity-soak.sh: issue 10, acceptance 2 (short form of
# bench/soak-migrate.sh). Four processes of 1, 16, 64 and 256 MiB that keep
# rewriting their memory and checking every page of it (tests/progs/soak.c)
# are migrated at random between three nodes and home, at least 40 times,
# while two CPU hogs load the machine. Every process must pass its own
# checks at every instant and at the end: 0 corruptions. A move may be
# refused (the process then goes on where it was), but most must happen.
set -u
: "${OMM_SRC:?OMM_SRC must point at the source tree}"
exec bash "$OMM_SRC/bench/soak-migrate.sh" --moves 48 --sizes "1 16 64 256" \
    --nodes 3 --hogs 2 --seed "${SOAK_SEED:-7}" --min-moves 40
