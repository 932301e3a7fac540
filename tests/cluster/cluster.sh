#!/bin/bash
# tests/cluster/cluster.sh: N real omm nodes on this one machine, for tests,
# the demo and the benchmarks. Described in docs/cluster-harness.md.
#
# Each node is a network namespace (one veth on a private bridge, address
# $CLUSTER_NET.(10+I)/24, CLUSTER_NET 198.18.0 unless set: node_addr I; no
# default route, no path off the machine) plus a mount and UTS namespace
# (hostname nodeI, private /tmp, /var/lib/omm, /run/omm and /etc/omm bound
# from the node's directory under the cluster's work dir) kept alive by a
# "holder" process; node_exec enters all three with nsenter.
#
# As a library:  . tests/cluster/cluster.sh; cluster_up 3; node_start 1; ...
#                (cluster_up installs cluster_down as an EXIT trap)
# As a command:  tests/cluster/cluster.sh up 3; ... exec 2 omctl ps; ... down
#                (the cluster outlives the command; OMM_CLUSTER or
#                /run/omm-cluster.current says which one later commands mean)
#
# Everything it creates carries the cluster's random id (ommXXXX-...), so
# several clusters can run at once and cluster_down removes only its own.

CLUSTER_NET=${CLUSTER_NET:-198.18.0}		# nodes are $CLUSTER_NET.(10+I)/24
CLUSTER_MCAST_ROUTE=224.0.0.0/4
CLUSTER_POINTER=/run/omm-cluster.current
CLUSTER_TIMEOUT=${CLUSTER_TIMEOUT:-10}		# seconds to wait for a start
CLUSTER_DIR=${CLUSTER_DIR:-}
# CPU shares, read by node_create (so set before cluster_up): one share for
# every node ("0.45") or one per node ("0.2 0.4 0.6 0.6": node I takes the
# I-th; nodes past the list get no limit). A share is in cores of this
# machine. Empty: no limit. See node_cpu_share and docs/cluster-harness.md.
CLUSTER_CPU=${CLUSTER_CPU:-}
CLUSTER_CPU_PERIOD=100000			# us: the CFS period of a share

_cl_err() { echo "cluster: $*" >&2; return 1; }

_cl_bin() {
	local b=${OMM_BUILD:-}
	[ -n "$b" ] || { _cl_err "OMM_BUILD is not set (the build tree)"; return 1; }
	echo "$b/$1"
}

# A pid that is running (a zombie is dead: init here reaps late).
_cl_alive() {
	local st
	[ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
	st=$(sed -E 's/^[0-9]+ \(.*\) ([A-Za-z]).*/\1/' "/proc/$1/stat" 2>/dev/null)
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

# Wait up to $2 seconds (default CLUSTER_TIMEOUT) for pid $1 to die.
_cl_wait_dead() {
	local n=$(( ${2:-$CLUSTER_TIMEOUT} * 20 ))
	while [ "$n" -gt 0 ]; do
		_cl_alive "$1" || return 0
		sleep 0.05
		n=$((n - 1))
	done
	return 1
}

_cl_load() {
	# Only the command line falls back to OMM_CLUSTER or the pointer: a
	# test that sourced this file must never act on someone else's cluster.
	if [ -z "$CLUSTER_DIR" ] && [ -n "${_CL_CLI:-}" ]; then
		CLUSTER_DIR=${OMM_CLUSTER:-}
		[ -n "$CLUSTER_DIR" ] || CLUSTER_DIR=$(cat "$CLUSTER_POINTER" 2>/dev/null)
	fi
	[ -n "$CLUSTER_DIR" ] && [ -f "$CLUSTER_DIR/state" ] ||
	    { _cl_err "no cluster is up"; CLUSTER_DIR=; return 1; }
	. "$CLUSTER_DIR/state"
}

_cl_save() {
	printf 'CLUSTER_ID=%s\nCLUSTER_N=%s\n' "$CLUSTER_ID" "$CLUSTER_N" \
	    >"$CLUSTER_DIR/state.tmp" && mv "$CLUSTER_DIR/state.tmp" "$CLUSTER_DIR/state"
}

_cl_ns()   { echo "omm$CLUSTER_ID-n$1"; }
_cl_veth() { echo "omm$CLUSTER_ID-h$1"; }
_cl_br()   { echo "omm$CLUSTER_ID-br"; }
node_dir()  { echo "$CLUSTER_DIR/n$1"; }
node_addr() { echo "$CLUSTER_NET.$((10 + $1))"; }
# node_addr_re I: node I's address as an ERE (dots escaped), for log greps.
node_addr_re() { local a; a=$(node_addr "$1"); echo "${a//./\\.}"; }
node_name() { echo "node$1"; }
node_pid()  { cat "$CLUSTER_DIR/n$1/ommd.pid" 2>/dev/null; }
_cl_holder() { cat "$CLUSTER_DIR/n$1/holder.pid" 2>/dev/null; }

# Each node has a cgroup of its own that meters its CPU time (its ommd's
# load_cgroup), so that a hog in node 2 loads node 2 only: /proc/stat is
# the machine's, common to every node. _cl_cg_kind says which hierarchy
# counts CPU time here: "v2" (cgroup2 on /sys/fs/cgroup), "v1 MNT OPTS"
# (the v1 hierarchy with cpuacct at MNT, mounted with controllers OPTS), or
# nothing (no meter: nodes measure the machine).
_cl_cg_kind() {
	local mnt opts
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		echo v2
		return
	fi
	read -r mnt opts < <(awk '$3 == "cgroup" {
		n = split($4, o, ","); c = ""
		for (i = 1; i <= n; i++)
			if (o[i] == "cpu" || o[i] == "cpuacct")
				c = c (c == "" ? "" : ",") o[i]
		if (c ~ /cpuacct/) { print $2, c; exit }
	}' /proc/mounts)
	[ -n "$mnt" ] && [ -f "$mnt/cpuacct.usage" ] && echo "v1 $mnt $opts"
}

# The cgroup directory of node $1 (the same path on the host and in the
# node, whose holder mounts the hierarchy there), empty if none.
_cl_cg_dir() {
	local kind
	kind=$(_cl_cg_kind)
	case $kind in
	v2)	echo "/sys/fs/cgroup/omm$CLUSTER_ID-n$1" ;;
	v1\ *)	set -- "$1" $kind; echo "$3/omm$CLUSTER_ID-n$1" ;;
	esac
}

# The cgroup that holds node $1's CPU quota: the meter's own on v2 or when
# v1 mounts cpu with cpuacct, else a directory of the same name in v1's cpu
# hierarchy (mounted in the node at the same path). _cl_cpu_kind is "v2",
# "v1 MNT OPTS" for the hierarchy with the cpu controller, or nothing.
_cl_cpu_kind() {
	local mnt opts
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		grep -qw cpu /sys/fs/cgroup/cgroup.controllers && echo v2
		return
	fi
	read -r mnt opts < <(awk '$3 == "cgroup" {
		n = split($4, o, ","); c = ""; cpu = 0
		for (i = 1; i <= n; i++) {
			if (o[i] == "cpu") cpu = 1
			if (o[i] == "cpu" || o[i] == "cpuacct")
				c = c (c == "" ? "" : ",") o[i]
		}
		if (cpu) { print $2, c; exit }
	}' /proc/mounts)
	[ -n "$mnt" ] && [ -f "$mnt/cpu.cfs_quota_us" ] && echo "v1 $mnt $opts"
}

_cl_cpu_dir() {
	local kind
	kind=$(_cl_cpu_kind)
	case $kind in
	v2)	echo "/sys/fs/cgroup/omm$CLUSTER_ID-n$1" ;;
	v1\ *)	set -- "$1" $kind; echo "$3/omm$CLUSTER_ID-n$1" ;;
	esac
}

# The share CLUSTER_CPU gives node $1, empty for none.
_cl_cpu_of() {
	local -a s
	read -r -a s <<<"$CLUSTER_CPU"
	if [ "${#s[@]}" -eq 1 ]; then
		echo "${s[0]}"
	elif [ "$1" -le "${#s[@]}" ]; then
		echo "${s[$(($1 - 1))]}"
	fi
}

# _cl_cpu_limit I SHARE: cap node I's cgroup at SHARE cores, a quota of
# SHARE x CLUSTER_CPU_PERIOD us of CPU time every period. The kernel takes
# quotas of 1 ms and more.
_cl_cpu_limit() {
	local i=$1 share=$2 kind dir quota
	case $share in
	''|*[!0-9.]*|*.*.*|.) _cl_err "node $i: bad CPU share '$share'"; return 1 ;;
	esac
	quota=$(awk -v s="$share" -v p="$CLUSTER_CPU_PERIOD" \
	    'BEGIN { printf "%d", s * p + 0.5 }')
	[ "$quota" -ge 1000 ] ||
	    { _cl_err "node $i: CPU share $share is under 1 ms a period"; return 1; }
	kind=$(_cl_cpu_kind)
	dir=$(_cl_cpu_dir "$i")
	[ -n "$dir" ] ||
	    { _cl_err "node $i: no cgroup cpu controller for CPU shares"; return 1; }
	mkdir -p "$dir" || return 1
	case $kind in
	v2)	grep -qw cpu /sys/fs/cgroup/cgroup.subtree_control ||
		    echo +cpu >/sys/fs/cgroup/cgroup.subtree_control ||
		    { _cl_err "cannot enable the cpu controller"; return 1; }
		echo "$quota $CLUSTER_CPU_PERIOD" >"$dir/cpu.max" || return 1 ;;
	*)	echo "$CLUSTER_CPU_PERIOD" >"$dir/cpu.cfs_period_us" &&
		echo "$quota" >"$dir/cpu.cfs_quota_us" || return 1 ;;
	esac
	echo "$share" >"$CLUSTER_DIR/n$i/cpu_share"
}

# The memory controller that limits a node's guests (each ommd puts its
# guests in groups of their own below its own group, docs/migration.md):
# "v2" when cgroup v2 offers it, "v1 MNT" for a v1 memory hierarchy at
# MNT, or nothing (the nodes then refuse guests, and the tests that need
# them skip).
_cl_mem_kind() {
	local mnt
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		grep -qw memory /sys/fs/cgroup/cgroup.controllers && echo v2
		return
	fi
	mnt=$(awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ { print $2; exit }' \
	    /proc/mounts)
	[ -n "$mnt" ] && [ -f "$mnt/memory.limit_in_bytes" ] && echo "v1 $mnt"
}

# Node $1's memory group on v1 (on v2 the node's group is its memory group).
_cl_mem_dir() {
	local kind
	kind=$(_cl_mem_kind)
	case $kind in
	v1\ *)	echo "${kind#v1 }/omm$CLUSTER_ID-n$1" ;;
	esac
}

# The cgroups a process of node $1 joins (the meter's, the quota's if it
# is another, the v1 memory group), space-separated; paths as seen in the
# node and on the host. On v2 a group that hands controllers down holds no
# processes: ommd ($2 = ommd) goes into the node's group's "ommd" (its
# "ommd/daemon" once ommd made it, where a restarted ommd belongs), every
# other process into "procs".
_cl_cg_dirs() {
	local cg cpu mem
	cg=$(_cl_cg_dir "$1")
	[ -n "$cg" ] && [ -d "$cg" ] || cg=
	if [ -n "$cg" ] && [ "$(_cl_cg_kind)" = v2 ]; then
		if [ "${2:-}" = ommd ]; then
			cg=$cg/ommd
			[ -d "$cg/daemon" ] && cg=$cg/daemon
		else
			cg=$cg/procs
		fi
	fi
	if [ -f "$CLUSTER_DIR/n$1/cpu_share" ]; then
		cpu=$(_cl_cpu_dir "$1")
		[ "$cpu" != "$(_cl_cg_dir "$1")" ] && [ -d "$cpu" ] &&
		    cg="$cg${cg:+ }$cpu"
	fi
	mem=$(_cl_mem_dir "$1")
	[ -n "$mem" ] && [ -d "$mem" ] && cg="$cg${cg:+ }$mem"
	echo "$cg"
}

# Node $1's groups for its guests: on v2 the leaves "ommd" and "procs"
# below its group and the memory controller handed down to them; on v1 a
# group in the memory hierarchy.
_cl_mem_setup() {
	local cg mem
	cg=$(_cl_cg_dir "$1")
	case $(_cl_mem_kind) in
	v2)	[ -n "$cg" ] && [ "$(_cl_cg_kind)" = v2 ] || return 0
		grep -qw memory /sys/fs/cgroup/cgroup.subtree_control ||
		    echo +memory >/sys/fs/cgroup/cgroup.subtree_control ||
		    { _cl_err "cannot enable the memory controller"; return 1; }
		grep -qw memory "$cg/cgroup.subtree_control" ||
		    echo +memory >"$cg/cgroup.subtree_control" ||
		    { _cl_err "node $1: cannot hand the memory controller down"
		      return 1; } ;;
	v1\ *)	mem=$(_cl_mem_dir "$1")
		mkdir -p "$mem" || return 1 ;;
	esac
}

# node_cpu_share I: the CPU share node I was given (cores, as configured),
# "none" if it has no limit.
node_cpu_share() {
	_cl_check_node "$1" || return 1
	cat "$CLUSTER_DIR/n$1/cpu_share" 2>/dev/null || echo none
}

_cl_check_node() {
	_cl_load || return 1
	case $1 in ''|*[!0-9]*) _cl_err "bad node number '$1'"; return 1 ;; esac
	[ -d "$CLUSTER_DIR/n$1" ] || { _cl_err "no node $1"; return 1; }
}

# Certificates go through `omctl ca` once omctl has the command, else
# through tests/tools/mkcert (which alone makes expired ones). Not a pipe
# into grep: `omctl ca` alone exits 1 after its usage line, so under
# `set -o pipefail` (lib.sh, demo.sh) the pipe was always false.
_cl_omctl_has_ca() {
	local o out
	o=$(_cl_bin omctl) || return 1
	[ -x "$o" ] || return 1
	out=$("$o" ca 2>&1) || true
	[[ $out == *"usage: omctl ca "* ]]
}

_cl_ca_init() {
	local mk
	if _cl_omctl_has_ca; then
		"$(_cl_bin omctl)" ca init "$1" --days 30 >/dev/null
	else
		mk=$(_cl_bin tests/tools/mkcert) || return 1
		"$mk" init "$1"
	fi
}

# _cl_cert_issue CADIR NAME ID OUTDIR [expired]
_cl_cert_issue() {
	local mk
	if [ -z "${5:-}" ] && _cl_omctl_has_ca; then
		"$(_cl_bin omctl)" ca issue "$1" --node "$2" --id "$3" \
		    --out "$4" --days 30 >/dev/null
	else
		mk=$(_cl_bin tests/tools/mkcert) || return 1
		"$mk" issue "$1" "$2" "$3" "$4" ${5:-30}
	fi
}

# The node's /etc/omm/ommd.conf. CLUSTER_CONF_EXTRA lines are appended with
# %i (node number), %n (node name) and %a (address) substituted.
_cl_write_conf() {
	local i=$1 etc=$CLUSTER_DIR/n$1/etc extra
	extra=${CLUSTER_CONF_EXTRA:-}
	extra=${extra//%i/$i}
	extra=${extra//%n/$(node_name "$i")}
	extra=${extra//%a/$(node_addr "$i")}
	{
		echo "# ommd.conf of $(node_name "$i") ($(node_addr "$i")) in cluster $CLUSTER_ID"
		echo "# identity: /etc/omm/node.crt node.key ca.crt ca.crl; peers: /etc/omm/omm.map"
		echo "socket = /run/omm/ommd.sock"
		echo "state_dir = /var/lib/omm"
		echo "node_id = $i"
		echo "node_name = $(node_name "$i")"
		[ -d "$(_cl_cg_dir "$i")" ] && echo "load_cgroup = $(_cl_cg_dir "$i")"
		[ -n "$extra" ] && printf '%s\n' "$extra"
	} >"$etc/ommd.conf"
}

# node_conf I LINE...: append lines to node I's ommd.conf (takes effect at its next start).
node_conf() {
	_cl_check_node "$1" || return 1
	local i=$1; shift
	printf '%s\n' "$@" >>"$CLUSTER_DIR/n$i/etc/ommd.conf"
}

# /etc/omm/omm.map in every node: "ID ADDRESS COUNT" per node, openMosix's map format.
cluster_write_map() {
	_cl_load || return 1
	local i j
	for i in $(seq "$CLUSTER_N"); do
		[ -d "$CLUSTER_DIR/n$i" ] || continue
		for j in $(seq "$CLUSTER_N"); do
			[ -d "$CLUSTER_DIR/n$j" ] && echo "$j $(node_addr "$j") 1"
		done >"$CLUSTER_DIR/n$i/etc/omm.map"
	done
}

# node_create I [ok|none|foreign|expired|name=OTHER]: add node I to the
# cluster, with a certificate of the cluster CA (ok), none, one of another
# CA of the same name (foreign), an expired one, or one for another name.
node_create() {
	_cl_load || return 1
	local i=$1 mode=${2:-ok} nd ns veth br hp n cg
	case $i in ''|*[!0-9]*|0) _cl_err "bad node number '$i'"; return 1 ;; esac
	[ "$i" -le 99 ] || { _cl_err "at most 99 nodes"; return 1; }
	nd=$CLUSTER_DIR/n$i ns=$(_cl_ns "$i") veth=$(_cl_veth "$i") br=$(_cl_br)
	[ -d "$nd" ] && { _cl_err "node $i exists"; return 1; }
	mkdir -p "$nd"/{tmp,lib,run,etc,log} || return 1
	chmod 1777 "$nd/tmp"
	chmod 700 "$nd/etc"
	[ "$i" -gt "$CLUSTER_N" ] && { CLUSTER_N=$i; _cl_save; }

	case $mode in
	ok)	_cl_cert_issue "$CLUSTER_DIR/ca" "$(node_name "$i")" "$i" "$nd/etc" ;;
	none)	: ;;
	expired) _cl_cert_issue "$CLUSTER_DIR/ca" "$(node_name "$i")" "$i" \
		    "$nd/etc" expired ;;
	foreign) { [ -f "$CLUSTER_DIR/ca-foreign/ca.key" ] ||
		    _cl_ca_init "$CLUSTER_DIR/ca-foreign"; } &&
		_cl_cert_issue "$CLUSTER_DIR/ca-foreign" "$(node_name "$i")" \
		    "$i" "$nd/etc" ;;
	name=*)	_cl_cert_issue "$CLUSTER_DIR/ca" "${mode#name=}" "$i" "$nd/etc" ;;
	*)	_cl_err "unknown certificate mode '$mode'"; false ;;
	esac || { _cl_err "node $i: certificate ($mode) failed"; return 1; }
	# A node without a certificate of its own still trusts the cluster CA.
	if [ "$mode" = none ]; then
		cp "$CLUSTER_DIR/ca/ca.crt" "$CLUSTER_DIR/ca/ca.crl" "$nd/etc/" || return 1
	fi
	cg=$(_cl_cg_dir "$i")
	[ -n "$cg" ] && { mkdir -p "$cg" || cg=; }
	# v2: processes only in leaves (ommd's group hands controllers down)
	[ -n "$cg" ] && [ "$(_cl_cg_kind)" = v2 ] &&
	    { mkdir -p "$cg/ommd" "$cg/procs" || return 1; }
	local share cpumnt=
	share=$(_cl_cpu_of "$i")
	if [ -n "$share" ]; then
		_cl_cpu_limit "$i" "$share" || return 1
		# v1's cpu hierarchy apart from the meter's: the holder
		# mounts it in the node too
		case $(_cl_cpu_kind) in
		v1\ *)	[ "$(_cl_cpu_dir "$i")" != "$cg" ] &&
			    cpumnt=$(_cl_cpu_kind | cut -d' ' -f2-) ;;
		esac
	fi
	_cl_mem_setup "$i" || return 1
	local memmnt=
	case $(_cl_mem_kind) in
	v1\ *)	memmnt=$(_cl_mem_kind | cut -d' ' -f2-) ;;
	esac
	_cl_write_conf "$i"

	ip netns add "$ns" || return 1
	ip link add "$veth" type veth peer name "omm$CLUSTER_ID-p$i" || return 1
	ip link set "omm$CLUSTER_ID-p$i" netns "$ns" || return 1
	[ -d /proc/sys/net/ipv6/conf/"$veth" ] &&
	    sysctl -qw net.ipv6.conf."$veth".disable_ipv6=1
	ip link set "$veth" master "$br" up || return 1
	ip netns exec "$ns" sh -e -c "
		ip link set lo up
		ip link set omm$CLUSTER_ID-p$i name eth0
		ip addr add $(node_addr "$i")/24 dev eth0
		ip link set eth0 up
		ip route add $CLUSTER_MCAST_ROUTE dev eth0
		if [ -d /proc/sys/net/ipv6 ]; then
			sysctl -qw net.ipv6.conf.all.disable_ipv6=1
			sysctl -qw net.ipv6.conf.default.disable_ipv6=1
		fi" || { _cl_err "node $i: network set-up failed"; return 1; }

	# The mount points must exist on the host to bind over them; an
	# installed omm has them anyway. They are left in place (removing a
	# directory another cluster has bound over would detach its mounts).
	mkdir -p /var/lib/omm /run/omm /etc/omm || return 1
	# The holder: the node's mount and UTS namespaces live as long as it
	# does. /tmp is bound last because the node's directory is under the
	# host's /tmp; fd 3 carries its pid out for the same reason.
	# A build or source tree under the host's /tmp (a CI clone may be
	# there) is carried into the node's private /tmp at the same path.
	local carry="" t
	for t in ${OMM_SRC:-} ${OMM_BUILD:-}; do
		t=$(realpath -m "$t")
		case $t in /tmp/*) carry="$carry $t" ;; esac
	done
	CL_CARRY=$carry CL_MEMMNT=$memmnt \
	setsid -f ip netns exec "$ns" unshare --mount --uts --propagation private \
	    -- /bin/bash -e -c '
		d=$1
		mount --bind "$d/lib" /var/lib/omm
		mount --bind "$d/run" /run/omm
		mount --bind "$d/etc" /etc/omm
		for t in $CL_CARRY; do
			mkdir -p "$d/tmp${t#/tmp}"
			mount --bind "$t" "$d/tmp${t#/tmp}"
		done
		mount --rbind "$d/tmp" /tmp
		# ip netns exec gave us a fresh /sys: mount the cgroup
		# hierarchy again where the host has it
		case $3 in
		v2)	mount -t cgroup2 cgroup2 /sys/fs/cgroup ;;
		v1\ *)	c=$4
			set -- "$1" "$2" $3
			mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
			mkdir -p "$4"
			mount -t cgroup -o "$5" cgroup "$4"
			if [ -n "$c" ]; then
				set -- $c
				mkdir -p "$1"
				mount -t cgroup -o "$2" cgroup "$1"
			fi ;;
		esac
		# v1 memory hierarchy, for the guests: where the host has it
		if [ -n "$CL_MEMMNT" ] && ! mountpoint -q "$CL_MEMMNT"; then
			[ -d /sys/fs/cgroup ] && ! mountpoint -q /sys/fs/cgroup &&
			    mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
			mkdir -p "$CL_MEMMNT"
			mount -t cgroup -o memory cgroup "$CL_MEMMNT" ||
			    echo "no cgroup memory hierarchy: guests refused" >&2
		fi
		hostname "$2"
		echo $$ >&3
		exec 3>&- sleep infinity' holder "$nd" "$(node_name "$i")" \
	    "$([ -n "$cg" ] && _cl_cg_kind)" "$cpumnt" \
	    </dev/null >"$nd/log/holder.log" 2>&1 3>"$nd/holder.pid.new" || return 1
	for n in $(seq $((CLUSTER_TIMEOUT * 20))); do
		hp=$(cat "$nd/holder.pid.new" 2>/dev/null)
		[ -n "$hp" ] && break
		sleep 0.05
	done
	[ -n "$hp" ] && _cl_alive "$hp" ||
	    { _cl_err "node $i: namespace holder did not start: $(cat "$nd/log/holder.log")"
	      return 1; }
	mv "$nd/holder.pid.new" "$nd/holder.pid"
}

# cluster_up N: a bridge, a CA and N nodes (no ommd yet: node_start).
cluster_up() {
	local n=$1 i br
	case $n in ''|*[!0-9]*|0) _cl_err "usage: cluster_up N"; return 1 ;; esac
	[ "$(id -u)" -eq 0 ] || { _cl_err "must run as root"; return 1; }
	for i in ip nsenter unshare setsid; do
		command -v "$i" >/dev/null || { _cl_err "$i not found"; return 1; }
	done
	if [ -n "$CLUSTER_DIR" ] && [ -d "$CLUSTER_DIR" ]; then
		_cl_err "a cluster is already up in $CLUSTER_DIR"
		return 1
	fi
	CLUSTER_ID=$(od -An -N2 -tx2 /dev/urandom | tr -d ' \n')
	CLUSTER_DIR=$(mktemp -d "/tmp/omm-cluster-$CLUSTER_ID.XXXX") || return 1
	CLUSTER_N=0
	_cl_save || return 1
	_cl_install_trap
	br=$(_cl_br)
	# Snooping off: with no IGMP querier on the bridge it would stop
	# forwarding multicast once memberships time out.
	ip link add "$br" type bridge mcast_snooping 0 || return 1
	[ -d /proc/sys/net/ipv6/conf/"$br" ] &&
	    sysctl -qw net.ipv6.conf."$br".disable_ipv6=1
	ip link set "$br" up || return 1
	if [ "${CLUSTER_HOST_ADDR:-0}" = 1 ]; then
		ip addr add "$CLUSTER_NET.1/24" dev "$br" || return 1
	fi
	_cl_ca_init "$CLUSTER_DIR/ca" || { _cl_err "CA creation failed"; return 1; }
	for i in $(seq "$n"); do
		node_create "$i" || return 1
	done
	cluster_write_map
}

# The EXIT trap: tear down, then run whatever EXIT trap the caller had.
_cl_install_trap() {
	[ -n "${_CL_TRAPPED:-}" ] && return 0
	_CL_TRAPPED=1
	_CL_PREV_TRAP=$(trap -p EXIT)
	trap '_cl_on_exit' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

_cl_on_exit() {
	local rc=$? prev
	cluster_down
	if [ -n "$_CL_PREV_TRAP" ]; then
		eval "set -- $_CL_PREV_TRAP"	# trap -- 'CMD' EXIT
		prev=$3
		eval "$prev"
	fi
	exit "$rc"
}

# node_exec I CMD...: run CMD in node I's network, mount and UTS namespaces.
node_exec() {
	_cl_check_node "$1" || return 1
	local hp cgs
	hp=$(_cl_holder "$1")
	_cl_alive "$hp" || { _cl_err "node $1 has no namespace holder"; return 1; }
	cgs=$(_cl_cg_dirs "$1")
	shift
	# a process of the node is in the node's cgroups: its CPU is the
	# node's, metered and capped
	if [ -n "$cgs" ]; then
		nsenter -t "$hp" -n -m -u -- /bin/sh -c \
		    'for d in $0; do echo $$ >"$d/cgroup.procs" 2>/dev/null; done
		    exec env -u OMM_SOCKET "$@"' "$cgs" "$@"
	else
		nsenter -t "$hp" -n -m -u -- env -u OMM_SOCKET "$@"
	fi
}

# node_omctl I ARGS...: omctl against node I's own ommd.
node_omctl() {
	local i=$1 o
	o=$(_cl_bin omctl) || return 1
	shift
	node_exec "$i" "$o" "$@"
}

# node_reach I ADDR [PORT]: can node I reach ADDR? (A refused TCP
# connection counts: something answered. There is no ping here.)
node_reach() {
	node_exec "$1" python3 -c '
import socket, sys
s = socket.socket()
s.settimeout(2)
try:
    s.connect((sys.argv[1], int(sys.argv[2])))
except ConnectionRefusedError:
    sys.exit(0)
except OSError:
    sys.exit(1)
sys.exit(0)' "$2" "${3:-9}"
}

# node_start I [ARGS]: start ommd -f in node I (logs in its dir), wait until it answers.
node_start() {
	_cl_check_node "$1" || return 1
	local i=$1 nd ommd hp pid n cgs
	shift
	nd=$CLUSTER_DIR/n$i
	cgs=$(_cl_cg_dirs "$i" ommd)
	pid=$(node_pid "$i")
	_cl_alive "$pid" && { _cl_err "node $i: ommd already running ($pid)"; return 1; }
	ommd=$(_cl_bin ommd) || return 1
	[ -x "$ommd" ] || { _cl_err "$ommd not built"; return 1; }
	hp=$(_cl_holder "$i")
	# printf with no arguments would still print one empty word.
	if [ $# -gt 0 ]; then printf '%q ' "$@"; fi >"$nd/ommd.args"
	rm -f "$nd/ommd.pid"
	echo "=== $(date '+%F %T') start: ommd -f $*" >>"$nd/log/ommd.log"
	# setsid -f: ommd is nobody's child here, as it would be under systemd,
	# and outlives a command-line cluster.sh.
	setsid -f nsenter -t "$hp" -n -m -u -- env -u OMM_SOCKET \
	    /bin/sh -c 'cgs=$1; shift; echo $$ >&3
		for d in $cgs; do echo $$ >"$d/cgroup.procs" 2>/dev/null; done
		exec 3>&- "$@"' sh "$cgs" "$ommd" -f "$@" \
	    </dev/null >>"$nd/log/ommd.log" 2>&1 3>"$nd/ommd.pid" || return 1
	for n in $(seq $((CLUSTER_TIMEOUT * 10))); do
		pid=$(node_pid "$i")
		if [ -n "$pid" ] && ! _cl_alive "$pid"; then
			_cl_err "node $i: ommd exited at start; log:"
			tail -n 20 "$nd/log/ommd.log" >&2
			return 1
		fi
		[ -n "$pid" ] && node_omctl "$i" ps >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	_cl_err "node $i: ommd does not answer after ${CLUSTER_TIMEOUT}s"
	return 1
}

# _cl_signal I SIG: signal node I's ommd and wait for it to go.
_cl_signal() {
	_cl_check_node "$1" || return 1
	local pid
	pid=$(node_pid "$1")
	_cl_alive "$pid" || { _cl_err "node $1: ommd is not running"; return 1; }
	kill -s "$2" "$pid" || return 1
	_cl_wait_dead "$pid" || { _cl_err "node $1: ommd ($pid) survived SIG$2"; return 1; }
	rm -f "$CLUSTER_DIR/n$1/ommd.pid"
}

node_stop() { _cl_signal "$1" TERM; }
node_kill() { _cl_signal "$1" KILL; }

# node_crash I: node I's machine dies: SIGKILL to every process in its
# network namespace but the holder (ommd, its job supervisors, guest
# servers, deputies, guests and the users' processes alike). A killed
# ommd alone is a restart: its jobs and guests live on without it.
node_crash() {
	_cl_check_node "$1" || return 1
	local hp p pids
	hp=$(_cl_holder "$1")
	pids=$(ip netns pids "$(_cl_ns "$1")" 2>/dev/null | grep -vx "$hp")
	# stop them all first, so none reacts to another's end
	for p in $pids; do kill -STOP "$p" 2>/dev/null; done
	for p in $pids; do kill -KILL "$p" 2>/dev/null; done
	for p in $pids; do _cl_wait_dead "$p" >/dev/null 2>&1; done
	rm -f "$CLUSTER_DIR/n$1/ommd.pid"
}

# node_restart I: stop (if running) and start again with the same arguments.
node_restart() {
	_cl_check_node "$1" || return 1
	local args=()
	if _cl_alive "$(node_pid "$1")"; then
		node_stop "$1" || return 1
	fi
	eval "args=($(cat "$CLUSTER_DIR/n$1/ommd.args" 2>/dev/null))"
	node_start "$1" "${args[@]}"
}

# node_cut I / node_uncut I: pull node I's cable. The host end goes down,
# so the node keeps its address and routes (downing eth0 inside would
# flush them) and sees only a dead link.
node_cut()   { _cl_check_node "$1" && ip link set "$(_cl_veth "$1")" down; }
node_uncut() { _cl_check_node "$1" && ip link set "$(_cl_veth "$1")" up; }

# node_revoke I: revoke node I's certificate and give every node the new CRL.
node_revoke() {
	_cl_check_node "$1" || return 1
	local i
	if _cl_omctl_has_ca; then
		"$(_cl_bin omctl)" ca revoke "$CLUSTER_DIR/ca" \
		    "$CLUSTER_DIR/n$1/etc/node.crt" >/dev/null || return 1
	else
		"$(_cl_bin tests/tools/mkcert)" revoke "$CLUSTER_DIR/ca" \
		    "$CLUSTER_DIR/n$1/etc/node.crt" || return 1
	fi
	for i in $(seq "$CLUSTER_N"); do
		[ -d "$CLUSTER_DIR/n$i/etc" ] &&
		    cp "$CLUSTER_DIR/ca/ca.crl" "$CLUSTER_DIR/n$i/etc/ca.crl"
	done
	return 0
}

cluster_status() {
	_cl_load || return 1
	local i pid st
	echo "cluster $CLUSTER_ID in $CLUSTER_DIR, bridge $(_cl_br)"
	for i in $(seq "$CLUSTER_N"); do
		[ -d "$CLUSTER_DIR/n$i" ] || continue
		pid=$(node_pid "$i")
		if _cl_alive "$pid"; then st="ommd $pid"; else st="ommd down"; fi
		printf '%-7s %-14s %-16s link %s\n' "$(node_name "$i")" \
		    "$(node_addr "$i")" "$st" \
		    "$(cat /sys/class/net/"$(_cl_veth "$i")"/operstate 2>/dev/null)"
	done
}

# cluster_down: kill every process in the nodes, delete namespaces, links
# and the work dir. Idempotent, and it finds leftovers by the cluster's id
# even if the state file is gone.
cluster_down() {
	local -
	set +e
	local id dir i pid pids ns l
	dir=$CLUSTER_DIR
	if [ -z "$dir" ] && [ -n "${_CL_CLI:-}" ]; then
		dir=${OMM_CLUSTER:-$(cat "$CLUSTER_POINTER" 2>/dev/null)}
	fi
	[ -n "$dir" ] || return 0
	id=${CLUSTER_ID:-}
	[ -z "$id" ] && [ -f "$dir/state" ] && id=$(sed -n 's/^CLUSTER_ID=//p' "$dir/state")
	[ -n "$id" ] || id=$(basename "$dir" | sed -n 's/^omm-cluster-\([0-9a-f]*\)\..*/\1/p')
	if [ -z "$id" ]; then
		_cl_err "cannot tell the id of $dir; not touching it"
		return 1
	fi
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^omm$id-n"); do
		# Every process in the node's network namespace: ommd, the
		# holder, whatever a test left running there.
		pids=$(ip netns pids "$ns" 2>/dev/null)
		[ -n "$pids" ] && kill -KILL $pids 2>/dev/null
		for pid in $pids; do _cl_wait_dead "$pid" 5; done
	done
	for pid in "$dir"/n*/ommd.pid "$dir"/n*/holder.pid "$dir"/n*/holder.pid.new; do
		[ -f "$pid" ] || continue
		pid=$(cat "$pid")
		_cl_alive "$pid" && kill -KILL "$pid" 2>/dev/null && _cl_wait_dead "$pid" 5
	done
	for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' |
	    sed 's/@.*//' | grep "^omm$id-h"); do
		ip link del "$l" 2>/dev/null
	done
	for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep "^omm$id-n"); do
		ip netns del "$ns"
	done
	# the nodes' cgroups (and those ommd made below them: its own, its
	# guests'), empty once their processes are gone
	for l in /sys/fs/cgroup/omm"$id"-n* /sys/fs/cgroup/*/omm"$id"-n*; do
		[ -d "$l" ] || continue
		for i in 1 2 3 4 5 6 7 8 9 10; do
			find "$l" -depth -type d -exec rmdir {} + 2>/dev/null
			[ -d "$l" ] || break
			sleep 0.1
		done
	done
	ip link del "omm$id-br" 2>/dev/null
	case $dir in
	/tmp/omm-cluster-"$id".*) rm -rf "$dir" ;;
	esac
	[ "$(cat "$CLUSTER_POINTER" 2>/dev/null)" = "$dir" ] && rm -f "$CLUSTER_POINTER"
	CLUSTER_DIR= CLUSTER_ID= CLUSTER_N=
	return 0
}

_cl_main() {
	local cmd=${1:-}
	shift || true
	_CL_CLI=1
	case $cmd in
	up)
		[ -n "${1:-}" ] || { echo "usage: cluster.sh up N" >&2; return 2; }
		CLUSTER_DIR=
		cluster_up "$1" || return 1
		# The command-line cluster outlives this process.
		trap - EXIT INT TERM
		echo "$CLUSTER_DIR" >"$CLUSTER_POINTER"
		cluster_status
		echo "export OMM_CLUSTER=$CLUSTER_DIR"
		;;
	down)		cluster_down ;;
	status)		cluster_status ;;
	add)		node_create "$@" && cluster_write_map ;;
	exec)		node_exec "$@" ;;
	omctl)		node_omctl "$@" ;;
	start)		node_start "$@" ;;
	stop)		node_stop "$@" ;;
	kill)		node_kill "$@" ;;
	restart)	node_restart "$@" ;;
	cut)		node_cut "$@" ;;
	cpu)		node_cpu_share "$@" ;;
	uncut)		node_uncut "$@" ;;
	revoke)		node_revoke "$@" ;;
	*)
		cat >&2 <<-EOF
		usage: cluster.sh up N | down | status
		       cluster.sh add I [ok|none|foreign|expired|name=OTHER]
		       cluster.sh exec I CMD... | omctl I ARGS...
		       cluster.sh start I [OMMD-ARGS] | stop I | kill I | restart I
		       cluster.sh cut I | uncut I | revoke I | cpu I
		       (CLUSTER_CPU="SHARE..." before up: per-node CPU shares)
		EOF
		return 2
		;;
	esac
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	_cl_main "$@"
	exit $?
fi
