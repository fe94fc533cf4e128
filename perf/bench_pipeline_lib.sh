# SPDX-License-Identifier: MIT
# bench_pipeline_lib.sh - sourced by perf/bench_pipeline.sh and
# perf/bench_pipeline_proxy.sh: the frame both pipeline benchmarks share
# (binaries, work directory, process groups and cleanup, the results CSV,
# DPDK telemetry, the dataplane on a net_pcap replay, one window, the
# callgrind run and its per-stage figures).
#
# The caller sets root, build and results, then calls
# bp_init NAME WORK-TEMPLATE PREFIX RECORD-WIDTH; before run_dp it sets
# the array dp_args (sipedge-dataplane's own options, after "--").
# COMMIT overrides the commit recorded (default: this checkout's HEAD).

# bp_init NAME WORK-TEMPLATE PREFIX RECORD-WIDTH
bp_init() {
	local b
	bp_name=$1
	bp_width=$4
	control=$build/control/sipedge-control
	ctl=$build/control/sipedgectl
	dataplane=$build/dataplane/sipedge-dataplane
	for b in "$control" "$ctl" "$dataplane"; do
		[ -x "$b" ] || { echo "$bp_name: $b not built" >&2; exit 2; }
	done

	work=
	prefix=$3
	pids=()
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	work=$(mktemp -d "${TMPDIR:-/tmp}/$2")

	date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
	commit=${COMMIT:-$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)}
	cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1 |
		tr -s ' ,' ' ')
	machine="$(uname -m) $(nproc) cpu ${cpu:-unknown}"
	dpdk=$(pkg-config --modversion libdpdk 2>/dev/null || echo unknown)
	[ -s "$results" ] ||
		echo "date,commit,machine,scenario,metric,value,unit" >"$results"
	dp_run=0
}

forget() {  # pid: no longer one of ours to stop (reaped)
	local p keep=()
	for p in "${pids[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	pids=("${keep[@]}")
}

# stop_group PID [SECONDS]: SIGINT to its process group (or to it, when
# it leads none), then KILL; reaped and forgotten, so that cleanup never
# signals a number the system has since given to another process.
stop_group() {
	local pid=$1 i
	forget "$pid"
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -INT -- "-$pid" 2>/dev/null || kill -INT "$pid" 2>/dev/null || true
	for i in $(seq 1 $((${2:-10} * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null ||
		true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local pid
	# A loop that waits for this file (bench_pipeline.sh's swaps) ends.
	[ -n "$work" ] && [ -d "$work" ] && touch "$work/swaps.stop"
	for pid in "${pids[@]}"; do
		stop_group "$pid"
	done
	# EAL leaves its runtime directories (telemetry sockets) behind,
	# under /var/run as root, else under XDG_RUNTIME_DIR or /tmp.
	rm -rf /var/run/dpdk/"$prefix"-* \
		"${XDG_RUNTIME_DIR:-/tmp}"/dpdk/"$prefix"-* 2>/dev/null || true
	if [ -z "$work" ]; then
		:
	elif [ -n "${KEEP:-}" ]; then
		echo "$bp_name: kept $work" >&2
	else
		rm -rf "$work"
	fi
}

record() {  # scenario metric value unit
	echo "$date,$commit,\"$machine\",$1,$2,$3,$4" >>"$results"
	printf "  %-10s %-${bp_width}s %14s %s\n" "$1" "$2" "$3" "$4"
}

# run_dp NAME PCAP [wrapper...]: start the dataplane (options dp_args) on
# the pcap, replayed in a loop (DP_RX_OPTS replaces "infinite_rx=1": more
# net_pcap options, e.g. "tx_pcap=FILE" for one pass that records what
# goes out); sets dp_pid, dp_log, dp_tele.
run_dp() {
	local name=$1 pcap=$2 i
	shift 2
	dp_run=$((dp_run + 1))
	dp_log=$work/dp-$name.log
	dp_tele=/var/run/dpdk/$prefix-$dp_run/dpdk_telemetry.v2
	[ "$(id -u)" -eq 0 ] ||
		dp_tele=${XDG_RUNTIME_DIR:-/tmp}/dpdk/$prefix-$dp_run/dpdk_telemetry.v2
	setsid "$@" "$dataplane" -l 0-1 --no-huge --no-pci -m 2048 \
		--no-shconf --file-prefix "$prefix-$dp_run" \
		--vdev "net_pcap0,rx_pcap=$pcap,${DP_RX_OPTS:-infinite_rx=1}" -- \
		"${dp_args[@]}" \
		>"$dp_log" 2>&1 </dev/null &
	dp_pid=$!
	pids+=("$dp_pid")
	for i in $(seq 1 600); do
		grep -q '^sipedge-dataplane: .* worker' "$dp_log" && return 0
		kill -0 "$dp_pid" 2>/dev/null ||
			{ cat "$dp_log" >&2; echo "$bp_name: dataplane exited" >&2; exit 1; }
		sleep 0.1
	done
	# No figures from a dataplane that never started.
	cat "$dp_log" >&2
	echo "$bp_name: dataplane not started after 60 s" >&2
	exit 1
}

# wait_control SOCKET: sipedge-control answers there (up to 10 s), or
# the benchmark stops.
wait_control() {
	local i
	for i in $(seq 1 200); do
		"$ctl" --socket "$1" status >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	cat "$work/control.log" >&2
	echo "$bp_name: sipedge-control not answering after 10 s" >&2
	exit 1
}

# telemetry_series SOCKET SECONDS: one line "ipackets opackets
# monotonic_ns" of port 0 at the start and after each second.
telemetry_series() {
	python3 - "$1" "$2" <<'EOF'
import json, socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(sys.argv[1])
s.recv(4096)
t0 = time.monotonic()
for i in range(int(sys.argv[2]) + 1):
    time.sleep(max(0.0, t0 + i - time.monotonic()))
    s.send(b"/ethdev/stats,0")
    st = json.loads(s.recv(1 << 20).decode())["/ethdev/stats"]
    print(st["ipackets"], st["opackets"], time.monotonic_ns(), flush=True)
EOF
}

# measure SECONDS: sets rx tx ns for the window, and the received
# messages/s of its one-second slices: rate_min, rate_median, rate_max.
# This machine's speed changes from second to second (perf/README.md,
# "Machine"), so the whole window's rate is read with its spread.
measure() {
	local f=$work/series.txt
	telemetry_series "$dp_tele" "$1" >"$f"
	read -r rx tx ns < <(awk 'NR == 1 { r = $1; t = $2; n = $3 }
		{ R = $1; T = $2; N = $3 }
		END { print R - r, T - t, N - n }' "$f")
	read -r rate_min rate_median rate_max < <(awk '
		NR > 1 { v[++k] = ($1 - r) / (($3 - n) / 1e9) }
		{ r = $1; n = $3 }
		END {
			for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++)
				if (v[j] < v[i]) { x = v[i]; v[i] = v[j]; v[j] = x }
			printf "%.0f %.0f %.0f\n", v[1], v[int((k + 1) / 2)], v[k]
		}' "$f")
}

# record_spread SCENARIO: the one-second rates of the last measure.
record_spread() {
	record "$1" msgs_per_s_1s_min "$rate_min" msg/s
	record "$1" msgs_per_s_1s_median "$rate_median" msg/s
	record "$1" msgs_per_s_1s_max "$rate_max" msg/s
}

# callgrind_stages SCENARIO PCAP SECONDS STAGE...: the dataplane on PCAP
# under callgrind for SECONDS; records instructions per message of the
# worker thread, the same without the replay driver, and the inclusive
# cost of each STAGE (a function name, or FUNCTION=NAME to record it
# under another name).
callgrind_stages() {
	local scen=$1 pcap=$2 secs=$3 f ir best=0 msgs drv spec fn name
	shift 3
	# Fair scheduling: without it the busy-polling worker can starve the
	# main thread under valgrind, which then never sees SIGINT.
	run_dp callgrind "$pcap" valgrind --tool=callgrind --fair-sched=yes \
		--separate-threads=yes --callgrind-out-file="$work/cg.out"
	sleep "$secs"
	stop_group "$dp_pid" 120
	# The worker thread is the one with the most instructions; messages
	# are the received packets the dataplane printed on exit.
	msgs=$(sed -n 's/^port 0: rx \([0-9]*\) .*/\1/p' "$dp_log")
	worker_cg=
	for f in "$work"/cg.out*; do
		[ -f "$f" ] || continue
		ir=$(sed -n 's/^summary: *\([0-9]*\).*/\1/p;s/^totals: *\([0-9]*\).*/\1/p' "$f" |
			head -n1)
		[ -n "$ir" ] && [ "$ir" -gt "$best" ] && best=$ir && worker_cg=$f
	done
	if [ -z "${msgs:-}" ] || [ "$msgs" -eq 0 ] || [ "$best" -eq 0 ]; then
		echo "   callgrind: no figures (msgs=${msgs:-?})"
		tail -n 20 "$dp_log" | sed "s/^/   | /"
		return 0
	fi
	record "$scen" instructions_per_msg "$((best / msgs))" instr
	# The replay driver's share (net_pcap copying each packet into a
	# fresh mbuf, and freeing what is sent) is not the router's.
	drv=$(callgrind_annotate --inclusive=no --threshold=100 \
		"$worker_cg" 2>/dev/null |
		awk '/librte_net_pcap/ && $1 ~ /^[0-9,]+$/ {
			gsub(",", "", $1); s += $1 } END { printf "%d", s }')
	record "$scen" instructions_per_msg_without_replay_driver \
		"$(((best - ${drv:-0}) / msgs))" instr
	record "$scen" callgrind_msgs "$msgs" msgs
	# Where they go: inclusive instructions of the stages.
	callgrind_annotate --inclusive=yes --threshold=100 "$worker_cg" \
		2>/dev/null >"$work/cg-inclusive.txt" || true
	for spec in "$@"; do
		fn=${spec%%=*}
		name=${spec#*=}
		ir=$(awk -v f=":$fn" '$1 ~ /^[0-9,]+$/ && index($0, f " [") {
			gsub(",", "", $1); print $1; exit }' "$work/cg-inclusive.txt")
		[ -n "$ir" ] &&
			record "$scen" "instr_per_msg_in_$name" "$((ir / msgs))" instr
	done
	return 0
}
