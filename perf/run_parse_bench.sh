#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run_parse_bench.sh - parser benchmark: median ns per message (INVITE
# with SDP, and the shared captures) and instructions per message under
# callgrind; then the same for the pipeline benchmark's 4,096 different
# INVITEs against one of them repeated 4,096 times (bench_sip_parse
# --corpus); appends the figures to perf/results/sip_parse.csv.
#
# usage: perf/run_parse_bench.sh [BUILD_DIR]   (default: build)
# environment: RESULTS (default perf/results/sip_parse.csv)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
bench=$build/perf/bench_sip_parse
out=${RESULTS:-$root/perf/results/sip_parse.csv}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ninja -C "$build" perf/bench_sip_parse >/dev/null

date=$(date -u +%Y-%m-%d)
commit=$(git -C "$root" rev-parse --short HEAD)
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n1)
machine="$(uname -m) ${cpu:-unknown} $(nproc) cores"

timing=$("$bench")
echo "$timing"

# Instructions per message: difference of two callgrind runs, so start-up
# and the final sums cancel out.
# ir ARGS...: instructions of one run of bench_sip_parse ARGS.
ir() {
	local f
	f=$(mktemp)
	valgrind --tool=callgrind --callgrind-out-file="$f" "$bench" "$@" \
		2>&1 | sed -n 's/.*Collected : *//p' | tr -d ' ,'
	rm -f "$f"
}
declare -A ipm
for level in parse parse_check full; do
	ir1=$(ir --level "$level" --iters 1000)
	ir2=$(ir --level "$level" --iters 11000)
	ipm[$level]=$(( (ir2 - ir1) / 10000 ))
	echo "level=$level instructions_per_msg=${ipm[$level]}"
done

# The pipeline benchmark's INVITEs (bench_pipeline.sh): 4,096 different
# messages, against the first of them repeated, same count and footprint.
python3 "$root/pktgen-scripts/gen_routes.py" --rules 10000 \
	-o "$tmp/routes.csv" >/dev/null
python3 "$root/pktgen-scripts/gen_invites.py" --routes "$tmp/routes.csv" \
	-n 4096 -o "$tmp/inv.pcap" --udp-checksum zero >/dev/null
corpus=$("$bench" --corpus "$tmp/inv.pcap")
echo "$corpus"
msgs=$(echo "$corpus" | sed -n 's/.* messages=\([0-9]*\).*/\1/p' | head -n1)
# Instructions per message: 1 and 3 passes over the corpus.
declare -A cipm
for kind in varied repeated; do
	rep=()
	[ "$kind" = repeated ] && rep=(--repeated)
	for level in parse_check full; do
		ir1=$(ir --corpus "$tmp/inv.pcap" "${rep[@]}" --level "$level" --iters 1)
		ir2=$(ir --corpus "$tmp/inv.pcap" "${rep[@]}" --level "$level" --iters 3)
		cipm[$kind,$level]=$(( (ir2 - ir1) / (2 * msgs) ))
		echo "scenario=corpus_$kind level=$level instructions_per_msg=${cipm[$kind,$level]}"
	done
done

[ -f "$out" ] || echo "date,commit,machine,scenario,metric,value,unit" > "$out"
# times_rows SCENARIO LINE: the median/p10/p90 of one benchmark line.
times_rows() {
	local kv
	for kv in $2; do
		case ${kv%%=*} in
		median_ns|p10_ns|p90_ns)
			echo "$date,$commit,\"$machine\",$1,${kv%%=*},${kv#*=},ns" >> "$out" ;;
		esac
	done
}
echo "$timing" | while read -r line; do
	times_rows "$(echo "$line" | sed -n 's/.*scenario=\([^ ]*\).*/\1/p')" "$line"
done
echo "$date,$commit,\"$machine\",invite_sdp_parse,instructions,${ipm[parse]},instr/msg" >> "$out"
echo "$date,$commit,\"$machine\",invite_sdp_parse_check,instructions,${ipm[parse_check]},instr/msg" >> "$out"
echo "$date,$commit,\"$machine\",invite_sdp,instructions,${ipm[full]},instr/msg" >> "$out"
# corpus_varied level=parse_check -> pipeline_invites_varied_parse_check
echo "$corpus" | while read -r line; do
	scen=$(echo "$line" | sed -n 's/.*scenario=corpus_\([^ ]*\).*/\1/p')
	level=$(echo "$line" | sed -n 's/.* level=\([^ ]*\).*/\1/p')
	times_rows "pipeline_invites_${scen}_$level" "$line"
done
for kind in varied repeated; do
	for level in parse_check full; do
		echo "$date,$commit,\"$machine\",pipeline_invites_${kind}_$level,instructions,${cipm[$kind,$level]},instr/msg" >> "$out"
	done
done
echo "appended to $out"
