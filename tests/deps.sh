#!/bin/sh
# Install everything omm needs to build, test and demo on Debian 12 (as root).
# Idempotent: apt-get skips what is already there.
set -e
PKGS="build-essential cmake pkg-config clang libclang-rt-14-dev
  libseccomp-dev libevent-dev libssl-dev libcmocka-dev
  iproute2 procps passwd util-linux
  bc xz-utils gzip pigz coreutils python3 tmux
  libcap2-bin iputils-ping sudo
  sqlite3 make gcc git
  systemd systemd-container"
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
	    missing="$missing $p"
done
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing
fi
# The unprivileged user guests from other nodes run as (docs/migration.md),
# from the sysusers.d file `cmake --install` installs (systemd/omm.sysusers).
# systemd-container: systemd-nspawn, which boots the unit's test
# (tests/integration/90-systemd-unit.sh) under a real systemd.
top=$(cd "$(dirname "$0")/.." && pwd)
getent passwd omm-guest >/dev/null ||
    systemd-sysusers "$top/systemd/omm.sysusers" >/dev/null 2>&1 ||
    useradd --system --no-create-home --home-dir /nonexistent \
	--shell /usr/sbin/nologin omm-guest
