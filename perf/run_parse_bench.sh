#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run_parse_bench.sh - parser benchmark: median ns per message (INVITE
# with SDP, and the shared captures) and instructions per message under
# callgrind; appends the figures to perf/results/sip_parse.csv.
#
# usage: perf/run_parse_bench.sh [BUILD_DIR]   (default: build)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
bench=$build/perf/bench_sip_parse
out=$root/perf/results/sip_parse.csv

ninja -C "$build" perf/bench_sip_parse >/dev/null

date=$(date -u +%Y-%m-%d)
commit=$(git -C "$root" rev-parse --short HEAD)
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n1)
machine="$(uname -m) ${cpu:-unknown} $(nproc) cores"

timing=$("$bench")
echo "$timing"

# Instructions per message: difference of two callgrind runs, so start-up
# and the final sums cancel out.
ir() {
	local level=$1 n=$2 f
	f=$(mktemp)
	valgrind --tool=callgrind --callgrind-out-file="$f" "$bench" \
		--level "$level" --iters "$n" \
		2>&1 | sed -n 's/.*Collected : *//p' | tr -d ' ,'
	rm -f "$f"
}
declare -A ipm
for level in parse parse_check full; do
	ir1=$(ir "$level" 1000)
	ir2=$(ir "$level" 11000)
	ipm[$level]=$(( (ir2 - ir1) / 10000 ))
	echo "level=$level instructions_per_msg=${ipm[$level]}"
done

[ -f "$out" ] || echo "date,commit,machine,scenario,metric,value,unit" > "$out"
echo "$timing" | while read -r line; do
	scen=$(echo "$line" | sed -n 's/.*scenario=\([^ ]*\).*/\1/p')
	for kv in $line; do
		k=${kv%%=*}
		v=${kv#*=}
		case $k in
		median_ns|p10_ns|p90_ns)
			echo "$date,$commit,\"$machine\",$scen,$k,$v,ns" >> "$out" ;;
		esac
	done
done
echo "$date,$commit,\"$machine\",invite_sdp_parse,instructions,${ipm[parse]},instr/msg" >> "$out"
echo "$date,$commit,\"$machine\",invite_sdp_parse_check,instructions,${ipm[parse_check]},instr/msg" >> "$out"
echo "$date,$commit,\"$machine\",invite_sdp,instructions,${ipm[full]},instr/msg" >> "$out"
echo "appended to $out"
