#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run_e2e.sh - end-to-end tests: SIPp against sipedge-dataplane (redirect
# mode, net_af_packet on a veth pair) with routes imported through
# sipedge-control, in network namespaces this script creates (lib.sh).
#
# Cases (one SIPp scenario each, tests/e2e/sipp/):
#   redirect_v4      INVITE -> 302, first Contact checked, ACK absorbed
#                    (one rule's target is a host name the control process
#                    resolved: its Contact names the address)
#   no_route_v4      INVITE for a number no rule matches -> 404
#   reject_v4        INVITE matching a reject rule (code 403) -> 403
#   max_forwards_v4  INVITE with Max-Forwards 0 -> 483
#   options_v4       OPTIONS to the router -> 200 (also with Max-Forwards 0)
#   cancel_v4        CANCEL -> 200 (a stateless UAS has nothing to cancel)
#   swaps_v4         600 redirect calls while the table is re-imported ten
#                    times (ten generations swapped in): none may fail
#   redirect_v6      the redirect case over IPv6
#   no_route_v6      the no-route case over IPv6
#   options_v6       the OPTIONS case over IPv6 (R-URI host in brackets)
#   acl_v4           the client's address in acl.deny with acl.action 403
#                    (sipedgectl config set): a routed INVITE -> 403; the
#                    list emptied again afterwards
#   target_down_v4   nyc's first-tier target in targets.down (sipedgectl
#                    config set): the 302's first Contact is the second
#                    tier's; the list emptied again afterwards
#   counters         the router's counters after the cases (sipedgectl
#                    stats): every ACK absorbed, one answer per INVITE,
#                    OPTIONS, CANCEL and BYE, nothing dropped
#
# usage: tests/e2e/run_e2e.sh [BUILD_DIR] [CASE...]
#   BUILD_DIR defaults to ./build; CASE names select cases (default: all).
# Environment: E2E_KEEP=1 keeps the work directory (logs, SIPp traces).
# Exit status: 0 all passed, 1 a case failed, 77 skipped (this machine
# cannot run it: not root, no network namespaces, no sipp; with CI=true
# that is a failure, 1).
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
E2E_BUILD=$(cd "${1:-$root/build}" && pwd)
[ $# -gt 0 ] && shift
sipp_dir="$here/sipp"

# shellcheck source=lib.sh
. "$here/lib.sh"

e2e_prologue "e2e"

E2E_CASES=("$@")

# run_case NAME SIPP-ARGS...: one SIPp run; passes if SIPp reports every
# call successful.
run_case() {
	local name=$1 rc
	shift
	e2e_selected "$name" || return 0
	e2e_sipp "$name" -timeout 60s -timeout_error "$@"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		E2E_PASSED=$((E2E_PASSED + 1))
		printf 'PASS %-16s %s\n' "$name" "$(e2e_sipp_summary "$name")"
		return 0
	fi
	E2E_FAILED=$((E2E_FAILED + 1))
	E2E_FAILED_NAMES+=("$name")
	printf 'FAIL %-16s sipp exit %d; %s\n' "$name" "$rc" \
		"$(e2e_sipp_summary "$name")"
	if [ -s "$E2E_WORK/$name.err" ]; then
		echo "  --- sipp errors (first 30 lines)"
		e2e_sipp_errors "$name" | head -n 30 | sed 's/^/  /'
	fi
	echo "  --- sipp output (last 10 lines)"
	tail -n 10 "$E2E_WORK/$name.out" | sed 's/^/  /'
	return 1
}

e2e_net_up || e2e_setup_failed "network namespaces"
e2e_control_start || e2e_setup_failed "sipedge-control"
imp=$(e2e_routes_import "$here/routes.csv" 2>&1) ||
	e2e_setup_failed "route import: $imp"
e2e_dataplane_start || e2e_setup_failed "sipedge-dataplane"

# The dataplane loads the current generation at start and after each
# commit; wait (up to 15 s) until a routed INVITE gets its redirect.
ready=0
deadline=$((SECONDS + 15))
while [ "$SECONDS" -lt "$deadline" ]; do
	if e2e_sipp ready -sf "$sipp_dir/uac_redirect.xml" \
	     -inf "$sipp_dir/redirect.csv" -i "$E2E_V4_CL" -p 5069 \
	     -m 1 -timeout 5s -timeout_error "$E2E_V4_DP:5060"; then
		ready=1
		break
	fi
	sleep 0.2
done
[ "$ready" -eq 1 ] ||
	echo "e2e: no redirect after 15 s; running the cases anyway"

v4=(-i "$E2E_V4_CL" "$E2E_V4_DP:5060")
v6=(-i "$E2E_V6_CL" "[$E2E_V6_DP]:5060" -t u1)

run_case redirect_v4 -sf "$sipp_dir/uac_redirect.xml" \
	-inf "$sipp_dir/redirect.csv" -p 5070 -m 30 -r 20 "${v4[@]}"
run_case no_route_v4 -sf "$sipp_dir/uac_no_route.xml" -s 33140000000 \
	-p 5071 -m 5 -r 10 "${v4[@]}"
run_case reject_v4 -sf "$sipp_dir/uac_reject.xml" -s 19005551234 \
	-p 5072 -m 5 -r 10 "${v4[@]}"
run_case max_forwards_v4 -sf "$sipp_dir/uac_max_forwards.xml" \
	-s 12125550100 -p 5073 -m 5 -r 10 "${v4[@]}"
run_case options_v4 -sf "$sipp_dir/uac_options.xml" \
	-p 5074 -m 5 -r 10 "${v4[@]}"
run_case redirect_v6 -sf "$sipp_dir/uac_redirect.xml" \
	-inf "$sipp_dir/redirect.csv" -p 5075 -m 30 -r 20 "${v6[@]}"
run_case no_route_v6 -sf "$sipp_dir/uac_no_route.xml" -s 33140000000 \
	-p 5076 -m 5 -r 10 "${v6[@]}"
run_case options_v6 -sf "$sipp_dir/uac_options.xml" \
	-p 5078 -m 5 -r 10 "${v6[@]}"
run_case cancel_v4 -sf "$sipp_dir/uac_cancel.xml" -s 12125550100 \
	-p 5077 -m 5 -r 10 "${v4[@]}"

# swaps_v4: calls while the same table is re-imported over and over; each
# import is a new generation the dataplane loads and swaps in, and no call
# may fail or go unanswered for it (DESIGN.md 4.3).
if e2e_selected swaps_v4; then
	gen0=$(e2e_generation)
	(
		for i in $(seq 1 10); do
			e2e_routes_import "$here/routes.csv" >/dev/null 2>&1
			sleep 0.3
		done
	) &
	importer=$!
	E2E_PIDS+=("$importer")
	run_case swaps_v4 -sf "$sipp_dir/uac_redirect.xml" \
		-inf "$sipp_dir/redirect.csv" -p 5079 -m 600 -r 100 -l 200 \
		"${v4[@]}"
	wait "$importer" 2>/dev/null || true
	e2e_forget "$importer"
	gen1=$(e2e_generation)
	# The dataplane must end up on the last generation.
	loaded=
	for i in $(seq 1 50); do
		loaded=$(e2e_ctl stats 2>/dev/null |
			awk '$1 == "snapshot_generation" { print $2 }')
		[ "${loaded:-0}" = "${gen1:-x}" ] && break
		sleep 0.2
	done
	echo "     swaps_v4: generations ${gen0:-?} -> ${gen1:-?} committed during the calls; dataplane on ${loaded:-?}"
	if [ "$((${gen1:-0} - ${gen0:-0}))" -lt 5 ] ||
	   [ "${loaded:-0}" != "${gen1:-x}" ]; then
		echo "FAIL swaps_v4         generations not committed or not loaded"
		E2E_FAILED=$((E2E_FAILED + 1))
		E2E_FAILED_NAMES+=(swaps_v4)
	fi
fi

# acl_v4: the source policy set through the control process reaches the
# dataplane (within about a second, no new generation) and refuses the
# client with 403; the deny list is emptied again afterwards.
if e2e_selected acl_v4; then
	if e2e_ctl config set acl.action 403 >/dev/null &&
	   e2e_ctl config set acl.deny "198.18.255.0/24, $E2E_V4_CL/32" >/dev/null; then
		# Wait for the loader's next look at the settings.
		deadline=$((SECONDS + 10))
		while [ "$SECONDS" -lt "$deadline" ]; do
			e2e_sipp acl_ready -sf "$sipp_dir/uac_reject.xml" \
				-s 12125550100 -p 5080 -m 1 -timeout 5s \
				-timeout_error "${v4[@]}" && break
			sleep 0.2
		done
		run_case acl_v4 -sf "$sipp_dir/uac_reject.xml" -s 12125550100 \
			-p 5081 -m 5 -r 10 "${v4[@]}"
	else
		echo "FAIL acl_v4           sipedgectl config set failed"
		E2E_FAILED=$((E2E_FAILED + 1))
		E2E_FAILED_NAMES+=(acl_v4)
	fi
	e2e_ctl config set acl.deny "" >/dev/null
fi

# target_down_v4: a target taken out of service through the control
# process reaches the dataplane (within about a second, no new generation):
# redirects name the next tier first (redirect_down.csv).
if e2e_selected target_down_v4; then
	if e2e_ctl config set targets.down "198.18.1.10:5060" >/dev/null; then
		deadline=$((SECONDS + 10))
		while [ "$SECONDS" -lt "$deadline" ]; do
			e2e_sipp down_ready -sf "$sipp_dir/uac_redirect.xml" \
				-inf "$sipp_dir/redirect_down.csv" -p 5082 -m 1 \
				-timeout 5s -timeout_error "${v4[@]}" && break
			sleep 0.2
		done
		run_case target_down_v4 -sf "$sipp_dir/uac_redirect.xml" \
			-inf "$sipp_dir/redirect_down.csv" -p 5083 -m 10 -r 10 \
			"${v4[@]}"
	else
		echo "FAIL target_down_v4   sipedgectl config set failed"
		E2E_FAILED=$((E2E_FAILED + 1))
		E2E_FAILED_NAMES+=(target_down_v4)
	fi
	e2e_ctl config set targets.down "" >/dev/null
fi

# counters: what the router says it did, read through the control process.
# ACKs are absorbed (no answer); every INVITE, OPTIONS, CANCEL and BYE got one
# local response; nothing was lost for want of a buffer or queue room, or
# to a bad checksum.
check_counters_once() {
	local f="$E2E_WORK/stats.txt"
	if ! e2e_ctl stats >"$f" 2>&1; then
		echo "  sipedgectl stats failed:"
		sed 's/^/  /' "$f"
		return 1
	fi
	awk '
		function v(name) { return (name in c) ? c[name] : 0 }
		NF == 2 && $2 ~ /^[0-9]+$/ { c[$1] = $2 }
		$1 ~ /^sip_local_responses_total/ { resp += $2 }
		END {
			acks = v("sip_requests_total{method=\"ACK\"}")
			absorbed = v("dp_sip_ack_absorbed_total")
			asked = v("sip_requests_total{method=\"INVITE\"}")
			asked += v("sip_requests_total{method=\"OPTIONS\"}")
			asked += v("sip_requests_total{method=\"CANCEL\"}")
			# a probe that saw the old Contact hangs up: 481
			asked += v("sip_requests_total{method=\"BYE\"}")
			drop = v("dp_tx_full_total") + v("dp_no_mbuf_total")
			drop += v("dp_bad_cksum_total") + v("dp_svc_ring_full_total")
			printf "  ACK %d absorbed %d; INVITE+OPTIONS+CANCEL+BYE %d answered %d; dropped %d\n",
				acks, absorbed, asked, resp, drop
			ok = acks > 0 && acks == absorbed && asked > 0 &&
				asked == resp && drop == 0
			exit ok ? 0 : 1
		}' "$f"
}
# The dataplane reports its counters about once a second: read them until
# a report covers the last case (the totals agree), for up to 10 s.
check_counters() {
	local i out
	for i in $(seq 1 50); do
		sleep 0.2
		if out=$(check_counters_once); then
			echo "$out"
			return 0
		fi
	done
	echo "$out"
	return 1
}
if e2e_selected counters; then
	if out=$(check_counters); then
		E2E_PASSED=$((E2E_PASSED + 1))
		printf 'PASS %-16s %s\n' counters "${out#  }"
	else
		E2E_FAILED=$((E2E_FAILED + 1))
		E2E_FAILED_NAMES+=(counters)
		printf 'FAIL %-16s\n%s\n' counters "$out"
		sed 's/^/  /' "$E2E_WORK/stats.txt"
	fi
fi

e2e_epilogue
