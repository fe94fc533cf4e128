#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# demo.sh - the quick start: install what is missing, build, and run the
# router in redirect-only mode with no NIC.
#
# It creates two private network namespaces joined by a veth pair
# (198.18.0.0/15 and fd00::/8 addresses only), starts sipedge-control with a
# temporary data directory, imports docs/examples/routes.csv, starts
# sipedge-dataplane on net_af_packet on one end of the veth in redirect
# mode, and has SIPp place a few thousand calls from the other end
# (tests/e2e/sipp/uac_redirect.xml: INVITE, 302 with the expected Contact,
# ACK). Then it prints the router's counters and SIPp's summary and removes
# everything it created.
#
# usage: scripts/demo.sh [--calls N] [--rate CPS] [--conformance]
#   --calls N        calls to place (default 3000)
#   --rate CPS       calls per second (default 300)
#   --conformance    instead, print what sipedge does with every RFC 4475 /
#                    RFC 5118 torture message and every SIP message of the
#                    shared captures (needs no root)
# environment: BUILD_DIR (default build) is the meson build directory.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

calls=3000
rate=300
conformance=0
while [ $# -gt 0 ]; do
	case $1 in
	--calls) calls=$2; shift 2 ;;
	--rate) rate=$2; shift 2 ;;
	--conformance) conformance=1; shift ;;
	-h|--help) sed -n '3,22s/^# \{0,1\}//p' "$0"; exit 0 ;;
	*) echo "demo: unknown argument '$1' (see --help)" >&2; exit 2 ;;
	esac
done

build=${BUILD_DIR:-build}
bash scripts/install_deps.sh
# A setup that failed leaves a directory without a configured tree.
if [ -d "$build" ] && [ ! -f "$build/meson-private/coredata.dat" ]; then
	rm -rf "$build"
fi
if [ ! -d "$build" ]; then
	meson setup "$build"
fi
ninja -C "$build"

run_conformance() {
	echo
	echo "== RFC 4475 / RFC 5118 torture messages"
	"$build/tests/conformance/test_conformance"
	if [ -x "$build/tests/conformance/test_pcaps" ]; then
		echo
		echo "== SIP messages in the shared captures"
		"$build/tests/conformance/test_pcaps"
	fi
}

if [ "$conformance" -eq 1 ]; then
	run_conformance
	exit 0
fi

E2E_BUILD=$(cd "$build" && pwd)
# shellcheck source=../tests/e2e/lib.sh
. "$root/tests/e2e/lib.sh"
sipp_dir=$root/tests/e2e/sipp
examples=$root/docs/examples

# The names and the cleanup traps before anything is created (the probe
# namespace of e2e_can_run included).
e2e_names
e2e_traps
if ! why=$(e2e_can_run); then
	echo "demo: cannot run the router here: $why"
	echo "demo: showing the SIP library's verdicts instead (--conformance)"
	run_conformance
	exit 0
fi
e2e_init
if [ ! -x "$E2E_DATAPLANE" ]; then
	echo "demo: $build/dataplane/sipedge-dataplane was not built (libdpdk missing?)" >&2
	exit 1
fi

echo
echo "== network: namespaces $E2E_NS_DP (router) and $E2E_NS_CL (SIPp)"
e2e_net_up
echo "   router $E2E_V4_DP, $E2E_V6_DP on net_af_packet($E2E_IF_DP)"
echo "   SIPp   $E2E_V4_CL, $E2E_V6_CL on $E2E_IF_CL"

echo
echo "== sipedge-control (data in $E2E_DATA), routes from docs/examples/routes.csv"
e2e_control_start
e2e_routes_import "$examples/routes.csv" | sed 's/^/   /'
e2e_ctl routes explain "sip:+442079460000@$E2E_V4_DP" | sed 's/^/   /'

echo
echo "== sipedge-dataplane, redirect mode"
e2e_dataplane_start
grep -E '^sipedge' "$E2E_DP_LOG" | sed 's/^/   /'

# Routes reach the dataplane as a snapshot; wait until it answers.
deadline=$((SECONDS + 15))
until e2e_sipp warmup -sf "$sipp_dir/uac_redirect.xml" \
	-inf "$examples/demo-calls.csv" -i "$E2E_V4_CL" -p 5069 -m 1 \
	-timeout 5s -timeout_error "$E2E_V4_DP:5060"; do
	if [ "$SECONDS" -ge "$deadline" ]; then
		echo "demo: the router does not answer; its log:" >&2
		tail -n 20 "$E2E_DP_LOG" >&2
		exit 1
	fi
	sleep 0.2
done

echo
echo "== SIPp: $calls calls at $rate/s (INVITE -> 302, Contact checked -> ACK)"
rc=0
e2e_sipp calls -sf "$sipp_dir/uac_redirect.xml" \
	-inf "$examples/demo-calls.csv" -i "$E2E_V4_CL" -p 5070 \
	-m "$calls" -r "$rate" -l "$((rate * 2))" -timeout 120s \
	-timeout_error "$E2E_V4_DP:5060" || rc=$?
echo "   $(e2e_sipp_summary calls)"
echo "== SIPp: a premium-rate number (reject rule, 403) and OPTIONS (200)"
e2e_sipp reject -sf "$sipp_dir/uac_reject.xml" -s 19005550100 \
	-i "$E2E_V4_CL" -p 5071 -m 10 -r 10 -timeout 30s -timeout_error \
	"$E2E_V4_DP:5060" || rc=$?
echo "   reject:  $(e2e_sipp_summary reject)"
e2e_sipp options -sf "$sipp_dir/uac_options.xml" \
	-i "$E2E_V4_CL" -p 5072 -m 10 -r 10 -timeout 30s -timeout_error \
	"$E2E_V4_DP:5060" || rc=$?
echo "   options: $(e2e_sipp_summary options)"

echo
echo "== sipedgectl stats"
# The dataplane reports its counters to the control process about once a
# second; wait (up to 10 s) for a report that counts every INVITE and
# OPTIONS sent above (warm-up, calls, reject run; the OPTIONS run came last).
stats_cover_calls() {
	e2e_ctl stats 2>/dev/null | awk -v inv="$((calls + 11))" '
		$1 == "sip_requests_total{method=\"INVITE\"}" { i = $2 }
		$1 == "sip_requests_total{method=\"OPTIONS\"}" { o = $2 }
		END { exit !(i >= inv && o >= 10) }'
}
e2e_wait_for 10 stats_cover_calls ||
	echo "   (after 10 s the counters do not cover every call yet)"
if ! e2e_ctl stats 2>/dev/null | sed 's/^/   /'; then
	echo "   (not available from this sipedgectl)"
fi

echo
echo "== SIPp summary of the main run"
# The screen file holds every screen SIPp showed; the last statistics
# screen and the repartition after it are the final figures.
if [ -f "$E2E_WORK/calls.screen" ]; then
	tac "$E2E_WORK/calls.screen" | sed -n '1,/Statistics Screen/p' | tac |
		grep -v -e 'Press \[q\]' -e 'Change Screen' -e '^ *$' |
		sed 's/^/   /' || true
else
	echo "   (SIPp wrote no screen file)"
fi

e2e_dataplane_stop
echo
echo "== sipedge-dataplane counters at exit"
sed -n '/^port 0:/,$p' "$E2E_DP_LOG" | sed 's/^/   /'

if [ "$rc" -ne 0 ]; then
	echo
	echo "demo: some calls failed; SIPp's errors:"
	for n in calls reject options; do
		e2e_sipp_errors "$n" | head -n 10 || true
	done
	exit 1
fi
echo
echo "demo: done; namespaces, processes and temporary files removed"
