# SPDX-License-Identifier: MIT
# lib.sh - shared by tests/e2e/run_e2e.sh, tests/e2e/proxy_e2e.sh and
# scripts/demo.sh: a private network for sipedge and SIPp, the two sipedge
# processes, cleanup, and the drivers' common frame.
#
# Topology (both namespaces created here, names unique per run):
#
#   netns E2E_NS_DP                         netns E2E_NS_CL
#   sipedge-dataplane                       sipp (UAC), kernel stack
#   net_af_packet on E2E_IF_DP  <-- veth -->  E2E_IF_CL
#   (no kernel address)                     198.18.0.1/24, fd00:5ed:9e::1/64
#   answers as 198.18.0.2, fd00:5ed:9e::2
#
# The dataplane's end has no kernel address and IPv6 disabled, so the kernel
# there never answers for it. The client's end has TX checksum offload off:
# on a veth the kernel leaves UDP checksums unfilled, which a DPDK port
# (rightly) counts as bad checksums.
#
# sipedge-control runs in the caller's namespace: it only serves a Unix
# socket, which the dataplane reaches through the shared file system.
#
# Every process is started in its own process group (setsid) and killed
# as a group by the cleanup e2e_traps installs: on EXIT gracefully, on
# INT/TERM at once (e2e_cleanup_now).
#
# Usage: set E2E_BUILD (build directory), source this file, call e2e_names
# and e2e_traps before anything is created, then e2e_can_run and e2e_init
# (the drivers: e2e_prologue does all of it).

E2E_V4_CL=198.18.0.1
E2E_V4_DP=198.18.0.2
# What berlin-gw.e2e.test, a route target named by host, resolves to.
E2E_V4_NAMED=198.18.3.30
E2E_V6_CL=fd00:5ed:9e::1
E2E_V6_DP=fd00:5ed:9e::2

E2E_PIDS=()

e2e_log() {
	printf '%s\n' "$*" >&2
}

# e2e_names: the names of this run; creates nothing. Namespace names
# and EAL file prefixes are global: they carry the owning shell's pid
# (e2e_reap_stale reads it back) and a random part, so a run never meets
# what a killed run with the same pid left behind.
e2e_names() {
	[ -z "${E2E_ID:-}" ] || return 0
	E2E_ID="$$-$(printf '%04x%04x' "$RANDOM" "$RANDOM")"
	E2E_NS_PROBE="sipedge-probe-$E2E_ID"
	E2E_NS_DP="sipedge-e2e-$E2E_ID-dp"
	E2E_NS_CL="sipedge-e2e-$E2E_ID-cl"
	# Interface names (at most 15 bytes) exist only inside the
	# namespaces above, so they need no random part.
	E2E_IF_DP="se$$d"
	E2E_IF_CL="se$$c"
}

# e2e_traps: the cleanup, installed before any namespace or file exists.
e2e_traps() {
	trap e2e_cleanup EXIT
	trap 'e2e_on_signal 130' INT
	trap 'e2e_on_signal 143' TERM
}

e2e_on_signal() {
	trap '' INT TERM
	e2e_cleanup_now
	exit "$1"
}

# e2e_ns_del NS: KILL what still runs inside (a stray sipp), then NS.
e2e_ns_del() {
	local pid
	for pid in $(ip netns pids "$1" 2>/dev/null); do
		kill -KILL "$pid" 2>/dev/null
	done
	ip netns del "$1" 2>/dev/null
}

# e2e_reap_stale: namespaces and EAL runtime directories left by runs
# killed before their cleanup could run, i.e. whose owner (the pid in the
# name) is gone. A pid equal to ours is a previous owner's: ours are not
# made yet.
e2e_reap_stale() {
	local ns d owner
	for ns in $(ip netns list 2>/dev/null | awk '{ print $1 }'); do
		[[ $ns =~ ^sipedge-(e2e|probe)-([0-9]+)(-|$) ]] || continue
		owner=${BASH_REMATCH[2]}
		[ "$owner" != "$$" ] && kill -0 "$owner" 2>/dev/null && continue
		e2e_log "e2e: removing namespace $ns (its run, pid $owner, is gone)"
		e2e_ns_del "$ns"
	done
	for d in /var/run/dpdk/sipedge-e2e-*; do
		[ -d "$d" ] || continue
		owner=${d#/var/run/dpdk/sipedge-e2e-}
		owner=${owner%%-*}
		[[ $owner =~ ^[0-9]+$ ]] || continue
		[ "$owner" != "$$" ] && kill -0 "$owner" 2>/dev/null && continue
		rm -rf "$d"
	done
	return 0
}

# e2e_can_run: whether this machine can run the tests (why not, on
# stdout). Removes what killed runs left first (e2e_reap_stale); the
# probe namespace is E2E_NS_PROBE, which the caller's cleanup knows.
# Exit status 77 tells meson the test was skipped.
e2e_can_run() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "needs root (network namespaces, veth, AF_PACKET)"
		return 1
	fi
	if ! command -v ip >/dev/null 2>&1; then
		echo "iproute2 (ip) not installed"
		return 1
	fi
	if ! command -v sipp >/dev/null 2>&1; then
		echo "sipp not installed (Debian package sip-tester)"
		return 1
	fi
	if [ ! -e /proc/self/ns/net ]; then
		echo "kernel without network namespaces"
		return 1
	fi
	e2e_names
	e2e_reap_stale
	local probe=$E2E_NS_PROBE
	if ! ip netns add "$probe" 2>/dev/null; then
		echo "cannot create a network namespace here"
		return 1
	fi
	if ! ip -n "$probe" link add "sp$$a" type veth peer name "sp$$b" \
	     2>/dev/null; then
		ip netns del "$probe" 2>/dev/null
		echo "cannot create a veth pair here"
		return 1
	fi
	ip netns del "$probe"
	return 0
}

# e2e_init: the work directory and the binaries' paths (call e2e_names
# and e2e_traps first).
e2e_init() {
	e2e_names
	E2E_WORK=$(mktemp -d "${TMPDIR:-/tmp}/sipedge-e2e.XXXXXX")
	E2E_SOCK="$E2E_WORK/control.sock"
	E2E_DATA="$E2E_WORK/data"
	E2E_CONTROL="$E2E_BUILD/control/sipedge-control"
	E2E_CTL="$E2E_BUILD/control/sipedgectl"
	E2E_DATAPLANE="$E2E_BUILD/dataplane/sipedge-dataplane"
	E2E_DP_PID=
	E2E_CONTROL_PID=
	E2E_DP_RUN=0
}

# e2e_forget PID: a process reaped by its owner leaves the cleanup list
# (a pid used again by the system must not be signalled).
e2e_forget() {
	local pid=$1 keep=() p
	for p in "${E2E_PIDS[@]}"; do
		[ "$p" = "$pid" ] || keep+=("$p")
	done
	E2E_PIDS=("${keep[@]}")
}

# Kill one process group: TERM, a grace period, then KILL; reaped and
# forgotten.
e2e_kill_group() {
	local pid=$1 i
	if kill -0 "$pid" 2>/dev/null; then
		kill -TERM -- "-$pid" 2>/dev/null ||
			kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 1 50); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill -KILL -- "-$pid" 2>/dev/null ||
				kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	wait "$pid" 2>/dev/null || true
	e2e_forget "$pid"
}

# e2e_cleanup: the EXIT path. TERM every group at once (the dataplane
# prints its counters on TERM), a short grace, KILL what is left, then
# the namespaces and the files. A signal arriving meanwhile runs
# e2e_cleanup_now, which still finds everything listed.
e2e_cleanup() {
	local pid i alive
	set +e
	for pid in "${E2E_PIDS[@]}"; do
		kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
	done
	for i in $(seq 1 30); do
		alive=0
		for pid in "${E2E_PIDS[@]}"; do
			kill -0 "$pid" 2>/dev/null && alive=1
		done
		[ "$alive" = 0 ] && break
		sleep 0.05
	done
	for pid in "${E2E_PIDS[@]}"; do
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	E2E_PIDS=()
	e2e_remove_all
	return 0
}

# e2e_cleanup_now: the INT/TERM path. A test runner that times a test
# out sends TERM to the test's process group and KILL half a second
# later, and the processes started here run in groups of their own
# (setsid): KILL every group at once, remove the namespaces and files,
# and only then wait (to reap the killed processes).
e2e_cleanup_now() {
	local pid
	set +e
	for pid in "${E2E_PIDS[@]}"; do
		kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
	done
	e2e_remove_all
	for pid in "${E2E_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	E2E_PIDS=()
	return 0
}

# e2e_remove_all: the namespaces (and whatever still runs inside them),
# EAL's runtime directories (telemetry socket) and the work directory.
e2e_remove_all() {
	local ns
	for ns in "${E2E_NS_DP:-}" "${E2E_NS_CL:-}" "${E2E_NS_PROBE:-}"; do
		[ -n "$ns" ] && [ -e "/var/run/netns/$ns" ] && e2e_ns_del "$ns"
	done
	[ -z "${E2E_ID:-}" ] ||
		rm -rf /var/run/dpdk/sipedge-e2e-"$E2E_ID"-* 2>/dev/null
	if [ -n "${E2E_WORK:-}" ] && [ -d "$E2E_WORK" ]; then
		if [ -n "${E2E_KEEP:-}" ]; then
			e2e_log "e2e: kept $E2E_WORK"
		else
			rm -rf "$E2E_WORK"
		fi
	fi
	return 0
}

# e2e_start NAME CMD...: run CMD in its own process group, output to
# $E2E_WORK/NAME.log; the pid (= process group id) is in E2E_LAST_PID.
e2e_start() {
	local name=$1
	shift
	setsid "$@" >"$E2E_WORK/$name.log" 2>&1 </dev/null &
	E2E_LAST_PID=$!
	E2E_PIDS+=("$E2E_LAST_PID")
}

# e2e_net_up: the namespaces and the veth pair; fails at the first step
# that fails (the callers run without set -e).
e2e_net_up() {
	ip netns add "$E2E_NS_DP" || return 1
	ip netns add "$E2E_NS_CL" || return 1
	ip -n "$E2E_NS_DP" link set lo up || return 1
	ip -n "$E2E_NS_CL" link set lo up || return 1
	ip -n "$E2E_NS_DP" link add "$E2E_IF_DP" type veth \
		peer name "$E2E_IF_CL" netns "$E2E_NS_CL" || return 1
	ip netns exec "$E2E_NS_DP" \
		sysctl -qw "net.ipv6.conf.$E2E_IF_DP.disable_ipv6=1" || return 1
	ip -n "$E2E_NS_DP" link set "$E2E_IF_DP" up || return 1
	ip -n "$E2E_NS_CL" addr add "$E2E_V4_CL/24" dev "$E2E_IF_CL" ||
		return 1
	ip -n "$E2E_NS_CL" addr add "$E2E_V6_CL/64" dev "$E2E_IF_CL" nodad ||
		return 1
	ip -n "$E2E_NS_CL" link set "$E2E_IF_CL" up || return 1
	ip netns exec "$E2E_NS_CL" ethtool -K "$E2E_IF_CL" tx off >/dev/null ||
		return 1
}

# e2e_wait_for SECONDS CMD...: poll CMD every 0.1 s until it succeeds.
e2e_wait_for() {
	local tries=$(($1 * 10))
	shift
	while ! "$@" >/dev/null 2>&1; do
		tries=$((tries - 1))
		[ "$tries" -gt 0 ] || return 1
		sleep 0.1
	done
}

e2e_control_start() {
	mkdir -p "$E2E_DATA"
	# Target host names of the test tables resolve from a hosts file of
	# ours: the control process runs in a private mount namespace where
	# it is bound over /etc/hosts, with "hosts: files" over
	# /etc/nsswitch.conf, so no lookup leaves the machine.
	printf '%s\n' "$E2E_V4_NAMED berlin-gw.e2e.test" >"$E2E_WORK/hosts"
	printf 'hosts: files\n' >"$E2E_WORK/nsswitch.conf"
	# shellcheck disable=SC2016 # expanded by the inner shell
	e2e_start control unshare -m sh -c \
		'mount --bind "$0" /etc/hosts &&
		 mount --bind "$1" /etc/nsswitch.conf && shift && exec "$@"' \
		"$E2E_WORK/hosts" "$E2E_WORK/nsswitch.conf" \
		"$E2E_CONTROL" --data-dir "$E2E_DATA" \
		--socket "$E2E_SOCK" --log-level info
	E2E_CONTROL_PID=$E2E_LAST_PID
	if ! e2e_wait_for 20 "$E2E_CTL" --socket "$E2E_SOCK" --timeout 5 \
		status; then
		e2e_log "e2e: sipedge-control did not start:"
		cat "$E2E_WORK/control.log" >&2
		return 1
	fi
}

# e2e_routes_import FILE: replace the rule set; prints sipedgectl's reply.
e2e_routes_import() {
	"$E2E_CTL" --socket "$E2E_SOCK" --timeout 120 routes import "$1" \
		--wait 30
}

# e2e_ctl ARGS...: sipedgectl on our control process; a minute at most
# for any answer, so that a wedged server fails the test, not hangs it.
e2e_ctl() {
	"$E2E_CTL" --socket "$E2E_SOCK" --timeout 60 "$@"
}

# e2e_generation: the generation the control process has committed.
e2e_generation() {
	e2e_ctl --json status |
		sed -n 's/.*"generation": *\([0-9]*\).*/\1/p' | head -n1
}

# e2e_metric NAME: the value of sipedge_NAME in the dataplane's last
# report (sipedgectl stats --prometheus), empty when absent.
e2e_metric() {
	e2e_ctl stats --prometheus |
		awk -v n="sipedge_$1" '$1 == n { print $2; exit }'
}

# e2e_dp_has_opt NAME: whether sipedge-dataplane --help lists --NAME.
e2e_dp_has_opt() {
	"$E2E_DATAPLANE" --no-huge --no-pci -m 64 --no-shconf \
		--file-prefix "sipedge-e2e-$E2E_ID-help" --log-level 'lib.*:error' \
		-- --help 2>/dev/null | grep -q -- "--$1 "
}

# e2e_dataplane_start [OPTIONS...]: sipedge-dataplane on the veth end in
# E2E_NS_DP, one worker, redirect mode unless OPTIONS say otherwise; waits
# for the start-up line. Options after the defaults override them. The
# dataplane reads route generations from the control process's store.
e2e_dataplane_start() {
	local log snap=()
	if e2e_dp_has_opt data-dir; then
		snap=(--data-dir "$E2E_DATA")
	fi
	E2E_DP_RUN=$((E2E_DP_RUN + 1))
	log="dataplane-$E2E_DP_RUN"
	E2E_DP_LOG="$E2E_WORK/$log.log"
	e2e_start "$log" ip netns exec "$E2E_NS_DP" "$E2E_DATAPLANE" \
		-l 0-1 --no-huge --no-pci -m 256 --no-shconf \
		--file-prefix "sipedge-e2e-$E2E_ID-$E2E_DP_RUN" \
		--vdev "net_af_packet0,iface=$E2E_IF_DP" -- \
		--addr "$E2E_V4_DP/24" --addr "$E2E_V6_DP/64" \
		--mode redirect --mbufs 8192 \
		--control "$E2E_SOCK" "${snap[@]}" "$@"
	E2E_DP_PID=$E2E_LAST_PID
	if ! e2e_wait_for 30 grep -q '^sipedge-dataplane: .* worker' \
	     "$E2E_DP_LOG"; then
		e2e_log "e2e: sipedge-dataplane did not start:"
		cat "$E2E_DP_LOG" >&2
		return 1
	fi
	if ! kill -0 "$E2E_DP_PID" 2>/dev/null; then
		e2e_log "e2e: sipedge-dataplane exited:"
		cat "$E2E_DP_LOG" >&2
		return 1
	fi
}

# e2e_dataplane_stop: SIGTERM; the dataplane prints its counters on exit.
e2e_dataplane_stop() {
	[ -n "$E2E_DP_PID" ] || return 0
	e2e_kill_group "$E2E_DP_PID"
	E2E_DP_PID=
}

# e2e_sipp NAME SIPP-ARGS...: SIPp in the client namespace, with its error
# log, statistics and final screen in $E2E_WORK/NAME.*. Returns SIPp's
# status (0: every call passed).
e2e_sipp() {
	local name=$1 rc=0
	shift
	# SIPp writes its scenario-named files to the current directory.
	(cd "$E2E_WORK" && ip netns exec "$E2E_NS_CL" sipp \
		-nostdin -trace_err -error_file "$E2E_WORK/$name.err" \
		-trace_screen -screen_file "$E2E_WORK/$name.screen" \
		-trace_stat -stf "$E2E_WORK/$name.stat.csv" \
		"$@" >"$E2E_WORK/$name.out" 2>&1) || rc=$?
	return "$rc"
}

# e2e_sipp_summary NAME: the totals of a finished SIPp run, one line.
e2e_sipp_summary() {
	local f="$E2E_WORK/$1.screen"
	[ -f "$f" ] || return 0
	awk -F'|' '
		/Successful call/ { gsub(/ /, "", $3); ok = $3 }
		/Failed call/     { gsub(/ /, "", $3); bad = $3 }
		/Call Rate/       { gsub(/^ +| +$/, "", $3); rate = $3 }
		END { printf "calls passed %s, failed %s, rate %s\n", ok, bad, rate }
	' "$f"
}

# e2e_sipp_errors NAME: SIPp's error log, one event per line (SIPp writes
# them without line breaks).
e2e_sipp_errors() {
	local f="$E2E_WORK/$1.err"
	[ -f "$f" ] || return 0
	sed 's/\([0-9]\{4\}-[0-9][0-9]-[0-9][0-9]\t[0-9:.]*\t[0-9.]*: \)/\n\1/g' "$f" |
		sed '/^$/d'
}

# ---- The drivers' common frame (run_e2e.sh, proxy_e2e.sh) ----------------
#
# A driver sets E2E_BUILD, sources this file, calls e2e_prologue with the
# prefix of its messages, sets E2E_CASES to the case names asked for, runs
# its cases counting into E2E_PASSED / E2E_FAILED / E2E_FAILED_NAMES, and
# ends with e2e_epilogue.

E2E_PASSED=0
E2E_FAILED=0
E2E_FAILED_NAMES=()
E2E_CASES=()

# e2e_prologue PREFIX: the names and traps first; exit 77 where this
# machine cannot run the tests (1 under CI, which must run them), 1 where
# a binary is not built; then e2e_init.
e2e_prologue() {
	local why b
	E2E_PREFIX=$1
	e2e_names
	e2e_traps
	if ! why=$(e2e_can_run); then
		if [ "${CI:-}" = true ]; then
			echo "$E2E_PREFIX: FAIL: CI=true, but the end-to-end tests cannot run here: $why"
			exit 1
		fi
		echo "$E2E_PREFIX: SKIP: $why"
		exit 77
	fi
	for b in control/sipedge-control control/sipedgectl \
		 dataplane/sipedge-dataplane; do
		[ -x "$E2E_BUILD/$b" ] ||
			{ echo "$E2E_PREFIX: $E2E_BUILD/$b not built"; exit 1; }
	done
	e2e_init
}

# e2e_selected NAME: true when NAME was asked for (or nothing was).
e2e_selected() {
	local c
	[ ${#E2E_CASES[@]} -eq 0 ] && return 0
	for c in "${E2E_CASES[@]}"; do
		[ "$c" = "$1" ] && return 0
	done
	return 1
}

# e2e_setup_failed WHAT: the fixture could not be built; every case fails.
e2e_setup_failed() {
	echo "$E2E_PREFIX: setup failed: $1"
	[ -n "${E2E_DP_LOG:-}" ] && [ -f "$E2E_DP_LOG" ] &&
		{ echo "--- dataplane log"; tail -n 30 "$E2E_DP_LOG"; }
	echo "0 passed, 1 failed"
	exit 1
}

# e2e_epilogue [CMD...]: stop the dataplane, show its log's tail and the
# failed cases (or run CMD when all passed), print the totals; the status
# is 0 when nothing failed.
e2e_epilogue() {
	e2e_dataplane_stop
	if [ "$E2E_FAILED" -ne 0 ]; then
		echo "--- dataplane log (last 40 lines)"
		tail -n 40 "$E2E_DP_LOG"
		echo "failed: ${E2E_FAILED_NAMES[*]}"
	elif [ $# -gt 0 ]; then
		"$@"
	fi
	echo "$E2E_PASSED passed, $E2E_FAILED failed"
	[ "$E2E_FAILED" -eq 0 ]
}
