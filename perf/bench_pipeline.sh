#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench_pipeline.sh - the whole dataplane pipeline on one worker lcore:
# rx -> L2/L3 -> SIP parse -> route (1M prefix rules) -> 302 -> tx.
#
# sipedge-control imports a generated table of RULES prefix rules
# (pktgen-scripts/gen_routes.py); pktgen-scripts/gen_invites.py writes a
# pcap of PACKETS INVITEs whose numbers are drawn from that table;
# sipedge-dataplane (redirect mode, one worker lcore) replays it with
# net_pcap (infinite_rx=1). With rx_pcap and no tx_* argument, net_pcap's
# transmit side frees what it is given and counts it, as net_null does, so
# no load generator and no sink limits the worker.
#
# Scenarios, each measured over WINDOW seconds from the port's counters
# (DPDK telemetry, /ethdev/stats) after a warm-up:
#   baseline   the same INVITEs to a UDP port that is not a SIP port: the
#              cost of the replay driver, rx/tx and L2/L3 alone
#   steady     redirect-only, 1M rules, no route changes
#   swaps      the same while sipedgectl re-imports two alternating 1M-rule
#              tables (every rule's targets change) in a loop: each import
#              is a new generation the dataplane loads and swaps in
# and a callgrind run (CALLGRIND_SECONDS) for instructions per message.
#
# Every INVITE gets exactly one answer (302, or the code of a reject rule).
# A window's "lost_in_router" sums the dataplane's counters of messages
# freed without an answer or answered without a rule set (drop, tx_full,
# no_mbuf, sip_no_snap; read with sipedgectl stats before and after);
# drops attributable to swaps are the swaps window's losses minus the
# steady window's, scaled to the same duration. The port counters give
# rx (messages) and tx (answers) per window as a cross-check.
#
# usage: perf/bench_pipeline.sh [BUILD_DIR]       (default: ./build)
# environment: RULES (1000000), PACKETS (4096), WINDOW (10),
#   SWAP_WINDOW (30), WARMUP (3),
#   CALLGRIND_SECONDS (20; 0 skips), RESULTS (perf/results/pipeline.csv),
#   COMMIT (the commit BUILD_DIR was built from; default: this checkout's
#   HEAD), KEEP=1 keeps the work directory. The frame shared with
#   bench_pipeline_proxy.sh is in bench_pipeline_lib.sh.
# Needs no NIC, no hugepages and no root beyond what DPDK's --no-huge needs.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
rules=${RULES:-1000000}
packets=${PACKETS:-4096}
window=${WINDOW:-10}
swap_window=${SWAP_WINDOW:-30}
warmup=${WARMUP:-3}
cg_seconds=${CALLGRIND_SECONDS:-20}
results=${RESULTS:-$root/perf/results/pipeline.csv}

# shellcheck source=bench_pipeline_lib.sh
. "$root/perf/bench_pipeline_lib.sh"
bp_init bench_pipeline "sipedge-pipeline.XXXXXX" "sipedge-bench-$$" 28

has_dp_opt() {
	"$dataplane" --no-huge --no-pci -m 64 --no-shconf \
		--file-prefix "$prefix-help" --log-level 'lib.*:error' \
		-- --help 2>/dev/null | grep -q -- "--$1 "
}

# The worker lcore runs on CPU 1; everything else (main lcore, loader
# thread, sipedge-control, imports) is kept on CPU 0 where possible, so
# the figures are the worker's own.
pin0=
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
	pin0="taskset -c 0"
fi

echo "== bench_pipeline: $machine, DPDK $dpdk, commit $commit"
echo "   $rules rules, $packets INVITEs in the pcap, ${window}s windows"

# --- inputs --------------------------------------------------------------
gen=$root/pktgen-scripts
echo "== generating inputs in $work"
python3 "$gen/gen_routes.py" --rules "$rules" -o "$work/routes-a.csv"
# Table B: the same prefixes, every target on another port, so each
# import changes every rule and the compiled image is rebuilt in full.
sed 's/:5060/:5080/g' "$work/routes-a.csv" >"$work/routes-b.csv"
python3 "$gen/gen_invites.py" --routes "$work/routes-a.csv" \
	-n "$packets" --udp-checksum zero -o "$work/invites.pcap"
python3 "$gen/gen_invites.py" --routes "$work/routes-a.csv" \
	-n "$packets" --udp-checksum zero --dst-port 5999 \
	-o "$work/baseline.pcap" 2>/dev/null

# --- control -------------------------------------------------------------
mkdir -p "$work/data"
sock=$work/control.sock
setsid $pin0 "$control" --data-dir "$work/data" --socket "$sock" \
	--log-level warning >"$work/control.log" 2>&1 </dev/null &
pids+=($!)
wait_control "$sock"
echo "== importing table A ($rules rules)"
$pin0 "$ctl" --socket "$sock" routes import "$work/routes-a.csv" | sed 's/^/   /'
record env load_avg_1min "$(cut -d' ' -f1 /proc/loadavg)" load

snap_opts=()
if has_dp_opt data-dir; then
	snap_opts=(--data-dir "$work/data" --control "$sock")
else
	echo "   (this sipedge-dataplane has no --data-dir: no route snapshots)"
fi

# The dataplane's own options for run_dp (bench_pipeline_lib.sh).
dp_args=(--addr 198.18.0.2/15 --addr fd00:5ed:9e::2/64
	--mode redirect --mbufs 65536 "${snap_opts[@]}")

# report SCENARIO: messages/s, ns/message, rx and tx of the last window.
report() {
	local mps nspm
	mps=$(awk -v n="$rx" -v t="$ns" 'BEGIN { printf "%.0f", n / (t / 1e9) }')
	nspm=$(awk -v n="$rx" -v t="$ns" 'BEGIN { printf "%.1f", n ? t / n : 0 }')
	record "$1" msgs_per_s_per_lcore "$mps" msg/s
	record_spread "$1"
	record "$1" ns_per_msg "$nspm" ns
	record "$1" rx_msgs "$rx" msgs
	record "$1" answered_msgs "$tx" msgs
}

stats_snapshot() {  # file: the dataplane's counters as sipedgectl shows them
	"$ctl" --socket "$sock" stats >"$1" 2>&1 || true
}

# stat_delta FROM TO NAME...: sum of the named counters' increase.
stat_delta() {
	local a=$1 b=$2
	shift 2
	awk -v names=" $* " '
		index(names, " " $1 " ") && NF == 2 && $2 ~ /^[0-9]+$/ {
			if (FILENAME == ARGV[1]) v[$1] -= $2; else v[$1] += $2
		}
		END { for (k in v) s += v[k]; printf "%d", s }
	' "$a" "$b"
}

# Counters that mean "this INVITE got no proper answer": freed without a
# response (dp_drop counts every such mbuf, whatever the reason: a full
# transmit queue, an empty pool, a response that could not be built), or
# answered without a rule set.
lost_counters="dp_drop_total dp_sip_no_snap_total"

# --- baseline ------------------------------------------------------------
echo "== baseline: same INVITEs to a non-SIP UDP port (driver + L2/L3)"
run_dp baseline "$work/baseline.pcap"
sleep "$warmup"
measure "$window"
record baseline msgs_per_s_per_lcore \
	"$(awk -v n="$rx" -v t="$ns" 'BEGIN { printf "%.0f", n / (t / 1e9) }')" msg/s
record_spread baseline
record baseline ns_per_msg \
	"$(awk -v n="$rx" -v t="$ns" 'BEGIN { printf "%.1f", n ? t / n : 0 }')" ns
base_nspm=$(awk -v n="$rx" -v t="$ns" 'BEGIN { printf "%.1f", n ? t / n : 0 }')
stop_group "$dp_pid"

# --- steady and swaps ----------------------------------------------------
echo "== steady: redirect-only, $rules rules"
run_dp steady "$work/invites.pcap"
sleep "$warmup"
stats_snapshot "$work/stats-steady-0.txt"
measure "$window"
stats_snapshot "$work/stats-steady-1.txt"
report steady
steady_ns=$ns
steady_lost=$(stat_delta "$work/stats-steady-0.txt" "$work/stats-steady-1.txt" $lost_counters)
record steady lost_in_router "$steady_lost" msgs
steady_nspm=$(awk -v n="$rx" -v t="$ns" 'BEGIN { printf "%.1f", n ? t / n : 0 }')
record steady sip_stage_ns_per_msg \
	"$(awk -v a="$steady_nspm" -v b="$base_nspm" 'BEGIN { printf "%.1f", a - b }')" ns

echo "== swaps: the same while re-importing $rules-rule tables in a loop"
gen0=$("$ctl" --socket "$sock" --json status |
	sed -n 's/.*"generation": *\([0-9]*\).*/\1/p' | head -n1)
# The loop stops at the end of the window, after the import under way
# (killing it would leave that import to commit during what follows).
rm -f "$work/swaps.stop"
# Its own process group (setsid), so that stop_group() reaches the
# import under way too.
setsid bash -c '
	work=$1 ctl=$2 sock=$3 pin0=$4
	t=b
	while [ ! -e "$work/swaps.stop" ]; do
		$pin0 "$ctl" --socket "$sock" routes import "$work/routes-$t.csv" \
			--wait 60 >>"$work/swaps.log" 2>&1 || true
		if [ "$t" = a ]; then t=b; else t=a; fi
	done
' swapper "$work" "$ctl" "$sock" "$pin0" </dev/null &
swapper=$!
pids+=("$swapper")
stats_snapshot "$work/stats-swaps-0.txt"
measure "$swap_window"
touch "$work/swaps.stop"
wait "$swapper" 2>/dev/null || true
forget "$swapper"
# Let the last generation load, then read the counters once more.
sleep 2
stats_snapshot "$work/stats-swaps-1.txt"
gen1=$("$ctl" --socket "$sock" --json status |
	sed -n 's/.*"generation": *\([0-9]*\).*/\1/p' | head -n1)
report swaps
record swaps generations_committed "$((${gen1:-0} - ${gen0:-0}))" swaps
record swaps snapshots_swapped_in \
	"$(stat_delta "$work/stats-swaps-0.txt" "$work/stats-swaps-1.txt" snapshot_swaps_total)" swaps
swaps_lost=$(stat_delta "$work/stats-swaps-0.txt" "$work/stats-swaps-1.txt" $lost_counters)
record swaps lost_in_router "$swaps_lost" msgs
swap_drops=$(awk -v l="$swaps_lost" -v sl="$steady_lost" -v t="$ns" \
	-v st="$steady_ns" 'BEGIN { d = l - sl * t / st; printf "%.0f", d < 0 ? 0 : d }')
record swaps drops_attributable_to_swaps "$swap_drops" msgs
stop_group "$dp_pid"
grep -E '^(port 0|  )' "$dp_log" >"$work/dp-counters.txt" || true

# --- callgrind -----------------------------------------------------------
if [ "$cg_seconds" -gt 0 ] && command -v valgrind >/dev/null 2>&1; then
	echo "== callgrind: ${cg_seconds}s of the steady scenario"
	callgrind_stages steady "$work/invites.pcap" "$cg_seconds" \
		sip_parse sip_msg_check rules_key_make rules_match_burst \
		rules_contacts dp_redirect_answer dp_sip_respond sip_resp_build \
		dp_udp_reply dp_udp_encap
	# The same with a source policy (DESIGN 3.2 step 2) that refuses
	# nothing: 4,096 denied /32s outside the pcap's sources and a rate
	# limit no source reaches, so every request pays both lookups.
	echo "== callgrind: ${cg_seconds}s of steady with a source policy"
	deny=$(awk 'BEGIN { for (i = 0; i < 4096; i++)
		printf "%s10.%d.%d.1", i ? ", " : "", int(i / 256), i % 256 }')
	"$ctl" --socket "$sock" config set acl.deny "$deny" >/dev/null &&
	"$ctl" --socket "$sock" config set ratelimit.rps 10000000 >/dev/null &&
	callgrind_stages steady_policy "$work/invites.pcap" "$cg_seconds" \
		dp_acl_refused dp_rl_accept
	"$ctl" --socket "$sock" config set acl.deny "" >/dev/null || true
	"$ctl" --socket "$sock" config set ratelimit.rps 0 >/dev/null || true
fi

echo "== counters of the steady/swaps runs"
sed 's/^/   /' "$work/dp-counters.txt"
for f in "$work"/stats-*.txt; do
	[ -s "$f" ] || continue
	echo "--- $(basename "$f")"
	sed -n '1,40s/^/   /p' "$f"
done
echo "== results appended to $results"
