#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# proxy_e2e.sh - end-to-end tests of proxy mode: a SIPp UAC calls through
# sipedge-dataplane (--mode proxy, net_af_packet on a veth pair) to two
# SIPp UAS, all in network namespaces created here (lib.sh).
#
#   netns DP: sipedge-dataplane, 198.18.0.2
#   netns CL: UAC 198.18.0.1, UAS 198.18.0.3 and 198.18.0.4 (one veth end)
#
# The route table (proxy_routes.csv) sends 1212... to both UAS, weight 1:1.
# Cases:
#   call_v4      full calls INVITE/100/180/200/ACK/BYE/200; the UAS check
#                our Via on top, Max-Forwards 69 and received= on the
#                caller's Via; the UAC checks the router's Via is gone
#   retrans_v4   the UAS answer after 1.2 s (SIPp -d), so the UAC
#                retransmits every INVITE; each retransmission must reach
#                the UAS that has the call (a stray one would be a failed
#                call over there), and some must have been sent
#   swap_v4      many calls while the table is replaced (proxy_routes_swap
#                .csv, weights 1:3); no call may fail, the import must
#                succeed and the dataplane load it before the UAC ends
#   cancel_swap_v4  calls cancelled while they ring (proxy_uac_cancel.xml)
#                while the table moves every call from the first UAS to
#                the second (proxy_routes_cancel_a.csv, then _b.csv): a
#                CANCEL and ACK of an INVITE forwarded before the swap
#                must still reach the first UAS (the previous
#                generation's route, DESIGN.md 4.3), or its call never
#                gets the 487; no call may fail
#   probe_v4     the dataplane restarted with --probe-interval 1000
#                --probe-down 3; the first UAS answers the router's OPTIONS
#                (proxy_uas_probe.xml), the second is not running: once the
#                router has found it down (targets_unhealthy 1), every call
#                goes to the first UAS and none fails
#
# usage: tests/e2e/proxy_e2e.sh [BUILD_DIR] [CASE...]
# Environment: E2E_KEEP=1 keeps the work directory (logs, SIPp traces).
# Exit status: 0 all passed, 1 a case failed, 77 skipped (1 with CI=true).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
E2E_BUILD=$(cd "${1:-$root/build}" && pwd)
[ $# -gt 0 ] && shift
sipp_dir="$here/sipp"

# shellcheck source=lib.sh
. "$here/lib.sh"

e2e_prologue "proxy e2e"

UAS1=198.18.0.3
UAS2=198.18.0.4

E2E_CASES=("$@")

# uas_start NAME ADDR [SIPP-ARGS...]: a UAS in the client namespace,
# running UAS_XML (default proxy_uas.xml).
uas_start() {
	local name=$1 addr=$2
	shift 2
	e2e_start "$name" bash -c 'cd "$1" && shift && exec "$@"' _ "$E2E_WORK" \
		ip netns exec "$E2E_NS_CL" sipp -nostdin \
		-sf "$sipp_dir/${UAS_XML:-proxy_uas.xml}" \
		-i "$addr" -p 5060 -trace_err -error_file "$E2E_WORK/$name.err" \
		-trace_screen -screen_file "$E2E_WORK/$name.screen" "$@"
	eval "PID_$name=\$E2E_LAST_PID"
}

# uas_listening ADDR: a socket bound to ADDR:5060 in the client namespace.
uas_listening() {
	[ -n "$(ip netns exec "$E2E_NS_CL" ss -Hlun src "$1:5060")" ]
}

# uas_ready NAME: both UAS of case NAME listen (up to 10 s); otherwise
# they are stopped and the case fails.
uas_ready() {
	if e2e_wait_for 10 uas_listening "$UAS1" &&
	   e2e_wait_for 10 uas_listening "$UAS2"; then
		return 0
	fi
	uas_stop "${1}_uas1" || true
	uas_stop "${1}_uas2" || true
	case_failed "$1" " UAS not listening on $UAS1:5060 and $UAS2:5060 after 10 s"
}

# uas_stop NAME: SIGUSR1 asks SIPp to stop gracefully; its exit status
# is 0 when no call failed.
uas_stop() {
	local name=$1 pid rc=0 i
	eval "pid=\$PID_$name"
	kill -USR1 "$pid" 2>/dev/null || true
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null || rc=$?
	e2e_forget "$pid"
	return "$rc"
}

# The totals of a SIPp screen file: "successful failed".
screen_counts() {
	awk -F'|' '
		/Successful call/ { gsub(/ /, "", $3); ok = $3 }
		/Failed call/     { gsub(/ /, "", $3); bad = $3 }
		END { printf "%d %d\n", ok, bad }
	' "$E2E_WORK/$1.screen" 2>/dev/null || echo "0 0"
}

# case_failed NAME WHY: count the failure, print it and SIPp's errors.
case_failed() {
	local name=$1 f
	E2E_FAILED=$((E2E_FAILED + 1))
	E2E_FAILED_NAMES+=("$name")
	printf 'FAIL %-12s%s\n' "$name" "$2"
	for f in "${name}_uac" "${name}_uas1" "${name}_uas2"; do
		if [ -s "$E2E_WORK/$f.err" ]; then
			echo "  --- $f errors (first 20 lines)"
			e2e_sipp_errors "$f" | head -n 20 | sed 's/^/  /'
		fi
	done
	return 1
}

# run_case NAME CALLS RATE UAS-ARGS -- UAC-ARGS...: two UAS, one UAC.
run_case() {
	local name=$1 calls=$2 rate=$3 rc=0 u1 u2 ok1 bad1 ok2 bad2 why=""
	shift 3
	local uas_args=()
	while [ $# -gt 0 ] && [ "$1" != "--" ]; do
		uas_args+=("$1")
		shift
	done
	[ $# -gt 0 ] && shift
	e2e_selected "$name" || return 0

	uas_start "${name}_uas1" "$UAS1" "${uas_args[@]}"
	uas_start "${name}_uas2" "$UAS2" "${uas_args[@]}"
	uas_ready "$name" || return 1
	e2e_sipp "${name}_uac" -sf "$sipp_dir/proxy_uac.xml" -s 12125550100 \
		-i "$E2E_V4_CL" -p 5090 -m "$calls" -r "$rate" \
		-timeout 120s -timeout_error "$@" "$E2E_V4_DP:5060" || rc=$?
	# What the dataplane had logged when the UAC finished (swap_v4).
	UAC_END_LINES=$(wc -l <"$E2E_DP_LOG")
	sleep 1.5
	uas_stop "${name}_uas1" || u1=$?
	uas_stop "${name}_uas2" || u2=$?
	read -r ok1 bad1 <<<"$(screen_counts "${name}_uas1")"
	read -r ok2 bad2 <<<"$(screen_counts "${name}_uas2")"

	[ "$rc" -eq 0 ] || why="$why uac exit $rc;"
	[ "$bad1" -eq 0 ] && [ "$bad2" -eq 0 ] ||
		why="$why uas failed calls $bad1+$bad2;"
	[ $((ok1 + ok2)) -eq "$calls" ] ||
		why="$why uas completed $ok1+$ok2 of $calls;"
	if [ "$name" != swap_v4 ] && { [ "$ok1" -eq 0 ] || [ "$ok2" -eq 0 ]; }; then
		why="$why one UAS got no call ($ok1/$ok2);"
	fi
	if [ -n "${CASE_EXTRA_CHECK:-}" ]; then
		why="$why$($CASE_EXTRA_CHECK "$name")"
	fi
	if [ -z "$why" ]; then
		E2E_PASSED=$((E2E_PASSED + 1))
		printf 'PASS %-12s %s; UAS %d + %d calls\n' "$name" \
			"$(e2e_sipp_summary "${name}_uac")" "$ok1" "$ok2"
		return 0
	fi
	case_failed "$name" "$why"
}

# The UAC must have retransmitted, or the case proved nothing.
check_retrans() {
	local n
	n=$(awk -F';' 'NR == 1 { for (i = 1; i <= NF; i++)
				     if ($i == "Retransmissions(C)") c = i }
		       NR > 1 && c { v = $c } END { print v + 0 }' \
		"$E2E_WORK/$1_uac.stat.csv" 2>/dev/null)
	[ "${n:-0}" -gt 0 ] || printf ' no INVITE was retransmitted;'
}

e2e_net_up || e2e_setup_failed "network namespaces"
ip -n "$E2E_NS_CL" addr add "$UAS1/24" dev "$E2E_IF_CL" ||
	e2e_setup_failed "UAS address"
ip -n "$E2E_NS_CL" addr add "$UAS2/24" dev "$E2E_IF_CL" ||
	e2e_setup_failed "UAS address"
e2e_control_start || e2e_setup_failed "sipedge-control"
imp=$(e2e_routes_import "$here/proxy_routes.csv" 2>&1) ||
	e2e_setup_failed "route import: $imp"
e2e_dataplane_start --mode proxy || e2e_setup_failed "sipedge-dataplane"

# The dataplane loads the current generation at start; wait for it.
e2e_wait_for 15 grep -q 'generation 1 loaded' "$E2E_DP_LOG" ||
	echo "proxy e2e: generation 1 not loaded after 15 s; running anyway"

CASE_EXTRA_CHECK=
run_case call_v4 20 10 --
CASE_EXTRA_CHECK=check_retrans
run_case retrans_v4 10 5 -d 1200 --
CASE_EXTRA_CHECK=

# The swap must have been imported, and loaded by the dataplane before
# the UAC finished (in the log's first UAC_END_LINES lines), or the case
# proved nothing. The importer's status comes through a file: this runs
# in a subshell, which cannot wait for it.
check_swap() {
	local st="$E2E_WORK/swap_import.status"
	if ! e2e_wait_for 40 test -s "$st"; then
		printf ' swap import did not finish;'
	elif [ "$(cat "$st")" != 0 ]; then
		printf ' swap import failed (exit %s): %s;' "$(cat "$st")" \
			"$(tr '\n' ' ' <"$E2E_WORK/swap_import.log")"
	elif ! head -n "${UAC_END_LINES:-0}" "$E2E_DP_LOG" |
	     grep -q "generation $SWAP_GEN loaded"; then
		printf ' generation %s not loaded before the UAC finished;' \
			"$SWAP_GEN"
	fi
}

if e2e_selected swap_v4; then
	SWAP_GEN=$(($(e2e_generation) + 1))
	# The swap lands in the middle of 400 calls at 100 calls/s.
	( sleep 2; rc=0
	  e2e_routes_import "$here/proxy_routes_swap.csv" \
		>"$E2E_WORK/swap_import.log" 2>&1 || rc=$?
	  echo "$rc" >"$E2E_WORK/swap_import.status" ) &
	swapper=$!
	E2E_PIDS+=("$swapper")
	CASE_EXTRA_CHECK=check_swap
	run_case swap_v4 400 100 --
	CASE_EXTRA_CHECK=
	wait "$swapper" 2>/dev/null
	e2e_forget "$swapper"
fi

# Rows of a SIPp scenario screen, in order: "MESSAGE COUNT" per line.
screen_rows() {
	awk '/^ *(-+>|<-+) / { print $2, $3 }
	     /Statistics Screen/ { exit }' "$E2E_WORK/$1.screen" 2>/dev/null
}

# cancel_swap_v4 (see the top): CALLS calls at RATE/s, ringing 3 s each;
# the swap 2 s after the first call.
cancel_swap_case() {
	local calls=40 rate=10 rc=0 why="" gen ok1 bad1 ok2 bad2 s1 s2 c1 c2 n0 n1
	local name=cancel_swap_v4 i
	e2e_selected "$name" || return 0

	gen=$(e2e_generation)
	e2e_routes_import "$here/proxy_routes_cancel_a.csv" >/dev/null 2>&1 ||
		why="$why import a failed;"
	e2e_wait_for 15 grep -q "generation $((gen + 1)) loaded" \
		"$E2E_DP_LOG" || why="$why generation $((gen + 1)) not loaded;"
	n0=$(e2e_metric dp_proxy_prev_gen_total)
	UAS_XML=proxy_uas_cancel.xml uas_start "${name}_uas1" "$UAS1" \
		-trace_logs -log_file "$E2E_WORK/${name}_uas1.log"
	UAS_XML=proxy_uas_cancel.xml uas_start "${name}_uas2" "$UAS2" \
		-trace_logs -log_file "$E2E_WORK/${name}_uas2.log"
	uas_ready "$name" || return 1
	( sleep 2; e2e_routes_import "$here/proxy_routes_cancel_b.csv" \
		>"$E2E_WORK/cancel_import.log" 2>&1 ) &
	local swapper=$!
	E2E_PIDS+=("$swapper")
	e2e_sipp "${name}_uac" -sf "$sipp_dir/proxy_uac_cancel.xml" \
		-s 12125550100 -i "$E2E_V4_CL" -p 5090 -m "$calls" -r "$rate" \
		-d 3000 -timeout 60s -timeout_error "$E2E_V4_DP:5060" || rc=$?
	wait "$swapper" || why="$why import b failed;"
	e2e_forget "$swapper"
	sleep 1
	uas_stop "${name}_uas1" || true
	uas_stop "${name}_uas2" || true
	# The dataplane reports about once a second: wait for the report
	# that shows N-1 at work (up to 10 s).
	for i in $(seq 1 50); do
		n1=$(e2e_metric dp_proxy_prev_gen_total)
		[ $((${n1:-0} - ${n0:-0})) -gt 0 ] && break
		sleep 0.2
	done
	read -r ok1 bad1 <<<"$(screen_counts "${name}_uas1")"
	read -r ok2 bad2 <<<"$(screen_counts "${name}_uas2")"
	# proxy_uas_cancel.xml: row 2 the stray CANCELs, row 8 the calls.
	s1=$(screen_rows "${name}_uas1" | awk 'NR == 2 { print $2 }')
	s2=$(screen_rows "${name}_uas2" | awk 'NR == 2 { print $2 }')
	c1=$(screen_rows "${name}_uas1" | awk 'NR == 8 { print $2 }')
	c2=$(screen_rows "${name}_uas2" | awk 'NR == 8 { print $2 }')
	s1=${s1:-0} s2=${s2:-0} c1=${c1:-0} c2=${c2:-0}

	[ "$rc" -eq 0 ] || why="$why uac exit $rc;"
	[ "${bad1:-1}" -eq 0 ] && [ "${bad2:-1}" -eq 0 ] ||
		why="$why uas failed calls $bad1+$bad2;"
	# Every call cancelled at the UAS that had it; both had some.
	[ "$c1" -gt 0 ] && [ "$c2" -gt 0 ] ||
		why="$why calls per UAS $c1/$c2;"
	[ $((c1 + c2)) -eq "$calls" ] ||
		why="$why calls cancelled at their UAS $((c1 + c2)) of $calls;"
	[ $((ok1 + ok2)) -eq $((calls + s1 + s2)) ] ||
		why="$why uas scenarios passed $((ok1 + ok2)), not $((calls + s1 + s2));"
	[ $((${n1:-0} - ${n0:-0})) -gt 0 ] ||
		why="$why no request sent by the previous generation;"
	if [ -z "$why" ]; then
		E2E_PASSED=$((E2E_PASSED + 1))
		printf 'PASS %-12s %s; UAS %d + %d calls, %d + %d stray CANCELs, %d sent by N-1\n' \
			"$name" "$(e2e_sipp_summary "${name}_uac")" \
			"$c1" "$c2" "$s1" "$s2" $((n1 - n0))
		return 0
	fi
	case_failed "$name" "$why"
}
cancel_swap_case

# probe_settled: the router holds the first UAS up and the second down
# (the stats report lists the unhealthy ones).
probe_settled() {
	local prom
	prom=$(e2e_ctl stats --prometheus) || return 1
	! grep -q "^sipedge_target_unhealthy{target=\"$UAS1:5060\"} 1\$" <<<"$prom" &&
	grep -q "^sipedge_target_unhealthy{target=\"$UAS2:5060\"} 1\$" <<<"$prom" &&
	grep -q '^sipedge_targets_unhealthy 1$' <<<"$prom"
}

# probe_v4 (see the top).
probe_case() {
	local name=probe_v4 calls=20 rc=0 why="" i unh="" ok1 bad1 c1 p1
	e2e_selected "$name" || return 0

	e2e_dataplane_stop
	# A probe round a second, down after three missed: a UAS that a
	# busy machine slows down for a moment is not taken down.
	if ! e2e_dataplane_start --mode proxy --probe-interval 1000 \
	     --probe-down 3; then
		case_failed "$name" " dataplane restart failed"
		return 1
	fi
	e2e_routes_import "$here/proxy_routes.csv" >/dev/null 2>&1 ||
		why="$why import failed;"
	UAS_XML=proxy_uas_probe.xml uas_start "${name}_uas1" "$UAS1"
	# Probes sent before the first UAS listens go unanswered, and on a
	# busy machine the router may have taken it down for a moment: wait
	# until it listens, then until the router holds it up and the second
	# one down, the same in two of the dataplane's stats reports.
	e2e_wait_for 10 uas_listening "$UAS1" ||
		why="$why first UAS not listening;"
	for i in $(seq 1 60); do
		if probe_settled && sleep 1.1 && probe_settled; then
			unh=1
			break
		fi
		unh=$(e2e_metric targets_unhealthy)
		sleep 0.2
	done
	[ "${unh:-0}" = 1 ] ||
		why="$why not first UAS up, second down ($unh unhealthy);"
	e2e_sipp "${name}_uac" -sf "$sipp_dir/proxy_uac.xml" -s 12125550100 \
		-i "$E2E_V4_CL" -p 5090 -m "$calls" -r 10 \
		-timeout 60s -timeout_error "$E2E_V4_DP:5060" || rc=$?
	sleep 1.5
	uas_stop "${name}_uas1" || true
	read -r ok1 bad1 <<<"$(screen_counts "${name}_uas1")"
	# proxy_uas_probe.xml: row 1 the calls' INVITEs, row 2 the probes.
	c1=$(screen_rows "${name}_uas1" | awk 'NR == 1 { print $2 }')
	p1=$(screen_rows "${name}_uas1" | awk 'NR == 2 { print $2 }')
	c1=${c1:-0} p1=${p1:-0}

	[ "$rc" -eq 0 ] || why="$why uac exit $rc;"
	[ "${bad1:-1}" -eq 0 ] || why="$why uas failed calls $bad1;"
	[ "$c1" -eq "$calls" ] || why="$why first UAS got $c1 of $calls calls;"
	[ "$p1" -gt 0 ] || why="$why no probe answered;"
	if [ -z "$why" ]; then
		E2E_PASSED=$((E2E_PASSED + 1))
		printf 'PASS %-12s %s; UAS %d calls, %d probes answered\n' \
			"$name" "$(e2e_sipp_summary "${name}_uac")" "$c1" "$p1"
		return 0
	fi
	case_failed "$name" "$why"
}
probe_case

# On success, the dataplane's proxy counters.
proxy_counters() {
	grep -E '^ *(proxy_|udp_tx|sip_rx|drop)' "$E2E_DP_LOG" | sed 's/^/  /'
}
e2e_epilogue proxy_counters
