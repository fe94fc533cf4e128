#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench_pipeline_proxy.sh - the whole dataplane pipeline in proxy mode on
# one worker lcore: rx -> L2/L3 -> SIP parse -> route (RULES prefix rules)
# -> edits (Via, received/rport, Max-Forwards, R-URI) -> tx to the target;
# and responses: rx -> parse -> Via check -> pop -> tx to the caller.
#
# Inputs as perf/bench_pipeline.sh: pktgen-scripts/gen_routes.py writes a
# table (its redirect rules turned into forward rules), gen_invites.py a
# pcap of INVITEs drawn from it. The responses pcap is made from what the
# router sends: one pass over the INVITEs with net_pcap recording its
# output, then a 180 for each forwarded INVITE, from its target, with its
# Via lines (ours on top, whose branch the router checks), as the
# router's forwards get them back.
# sipedge-dataplane replays a pcap with net_pcap (infinite_rx=1); its
# transmit side frees and counts, so nothing outside limits the worker.
#
# Every target and caller is behind one gateway (198.18.0.1; the router
# is 198.18.0.2/24), so one neighbour entry serves all outputs. Each pcap
# ends with an ARP reply from the gateway: the first loop's misses make
# the entry incomplete, the reply resolves it, and every later loop's
# reply keeps it fresh.
#
# Scenarios (WINDOW seconds each after WARMUP, port counters from DPDK
# telemetry):
#   invites    INVITEs forwarded (1 % hit reject rules and are answered)
#   responses  180 responses relayed
# and a callgrind run of the invites scenario (CALLGRIND_SECONDS) for
# instructions per message.
#
# usage: perf/bench_pipeline_proxy.sh [BUILD_DIR]     (default: ./build)
# environment: RULES (1000000), PACKETS (4096), WINDOW (10), WARMUP (3),
#   CALLGRIND_SECONDS (20; 0 skips), RESULTS
#   (perf/results/pipeline_proxy.csv), COMMIT (the commit BUILD_DIR was
#   built from; default: this checkout's HEAD), KEEP=1 keeps the work
#   directory. The frame shared with bench_pipeline.sh is in
#   bench_pipeline_lib.sh.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
rules=${RULES:-1000000}
packets=${PACKETS:-4096}
window=${WINDOW:-10}
warmup=${WARMUP:-3}
cg_seconds=${CALLGRIND_SECONDS:-20}
results=${RESULTS:-$root/perf/results/pipeline_proxy.csv}

# shellcheck source=bench_pipeline_lib.sh
. "$root/perf/bench_pipeline_lib.sh"
bp_init bench_pipeline_proxy "sipedge-pipeline-proxy.XXXXXX" "sipedge-benchp-$$" 34

echo "== bench_pipeline_proxy: $machine, DPDK $dpdk, commit $commit"
echo "   $rules rules, $packets messages per pcap, ${window}s windows"

# --- inputs --------------------------------------------------------------
gen=$root/pktgen-scripts
echo "== generating inputs in $work"
python3 "$gen/gen_routes.py" --rules "$rules" |
	sed 's/,redirect,/,forward,/' >"$work/routes.csv"
python3 "$gen/gen_invites.py" --routes "$work/routes.csv" \
	-n "$packets" --udp-checksum zero -o "$work/invites-only.pcap"

# Frames and pcap files for the two Python steps below (bp_pcap.py).
cat >"$work/bp_pcap.py" <<'EOF'
import struct

OUR_MAC = bytes.fromhex("027063617000")      # net_pcap's first port
GW_MAC = bytes.fromhex("020000000001")
US, GW = bytes([198, 18, 0, 2]), bytes([198, 18, 0, 1])

def cksum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff

def udp_frame(src, dst, sport, dport, payload):
    udp = struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0, 64, 17,
                     0, src, dst)
    ip = ip[:10] + struct.pack("!H", cksum(ip)) + ip[12:]
    return OUR_MAC + GW_MAC + b"\x08\x00" + ip + udp

def arp_reply():
    arp = struct.pack("!HHBBH6s4s6s4s", 1, 0x0800, 6, 4, 2, GW_MAC, GW,
                      OUR_MAC, US)
    return (OUR_MAC + GW_MAC + b"\x08\x06" + arp).ljust(60, b"\0")

def read_pcap(path):
    with open(path, "rb") as f:
        hdr = f.read(24)
        pkts = []
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                break
            incl = struct.unpack("<IIII", rec)[2]
            pkts.append(f.read(incl))
    return hdr, pkts

def write_pcap(path, hdr, pkts):
    with open(path, "wb") as f:
        f.write(hdr)
        for i, p in enumerate(pkts):
            f.write(struct.pack("<IIII", i // 1000000, i % 1000000, len(p),
                                len(p)))
            f.write(p)
EOF

# The gateway's ARP reply appended to the INVITEs; the recording pass's
# input.
python3 - "$work" <<'EOF'
import sys

work = sys.argv[1]
sys.path.insert(0, work)
from bp_pcap import *

hdr, inv = read_pcap(work + "/invites-only.pcap")
write_pcap(work + "/invites.pcap", hdr, inv + [arp_reply()])
# One pass to record the forwards: the first INVITEs make the gateway's
# entry incomplete, the ARP reply resolves it, then every INVITE once.
write_pcap(work + "/capture.pcap", hdr, inv[:32] + [arp_reply()] + inv)
EOF

# --- control -------------------------------------------------------------
mkdir -p "$work/data"
sock=$work/control.sock
pin0=
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then
	pin0="taskset -c 0"
fi
setsid $pin0 "$control" --data-dir "$work/data" --socket "$sock" \
	--log-level warning >"$work/control.log" 2>&1 </dev/null &
pids+=($!)
wait_control "$sock"
echo "== importing $rules forward rules"
$pin0 "$ctl" --socket "$sock" routes import "$work/routes.csv" | sed 's/^/   /'
record env load_avg_1min "$(cut -d' ' -f1 /proc/loadavg)" load

# The dataplane's own options for run_dp (bench_pipeline_lib.sh).
dp_args=(--addr 198.18.0.2/24 --gateway 198.18.0.1
	--mode proxy --mbufs 65536
	--data-dir "$work/data" --control "$sock")

report() {  # SCENARIO OUT-METRIC
	record "$1" msgs_per_s_per_lcore \
		"$(awk -v n="$rx" -v t="$ns" 'BEGIN { printf "%.0f", n / (t / 1e9) }')" msg/s
	record_spread "$1"
	record "$1" ns_per_msg \
		"$(awk -v n="$rx" -v t="$ns" 'BEGIN { printf "%.1f", n ? t / n : 0 }')" ns
	record "$1" "$2" \
		"$(awk -v n="$tx" -v t="$ns" 'BEGIN { printf "%.0f", n / (t / 1e9) }')" msg/s
	record "$1" rx_msgs "$rx" msgs
	record "$1" tx_msgs "$tx" msgs
}

# counters NAME...: the named lines of the dataplane's exit report.
counters() {
	grep -E "^ +($(echo "$@" | tr ' ' '|')) " "$dp_log" | sed 's/^/   /' || true
}

echo "== recording the forwarded INVITEs, for the responses"
DP_RX_OPTS="tx_pcap=$work/forwarded.pcap" run_dp capture "$work/capture.pcap"
sleep 3
stop_group "$dp_pid"
python3 - "$work" <<'EOF'
import struct, sys

work = sys.argv[1]
sys.path.insert(0, work)
from bp_pcap import *

# A 180 for each INVITE the router forwarded (its first copy), from the
# target it went to, with its Via lines: ours on top, as sent.
hdr, fwd = read_pcap(work + "/forwarded.pcap")
resp, seen = [], set()
for f in fwd:
    if len(f) < 42 or f[12:14] != b"\x08\x00" or f[23] != 17:
        continue
    l4 = 14 + (f[14] & 15) * 4
    tgt = f[30:34]
    tport = struct.unpack("!H", f[l4 + 2:l4 + 4])[0]
    text = f[l4 + 8:].decode("latin-1")
    if not text.startswith("INVITE "):
        continue
    lines = text.split("\r\n\r\n", 1)[0].split("\r\n")[1:]
    get = lambda n: [l for l in lines if l.split(":", 1)[0].lower() == n]
    cid = get("call-id")[0]
    if cid in seen:
        continue
    seen.add(cid)
    msg = ("SIP/2.0 180 Ringing\r\n" + "\r\n".join(get("via")) + "\r\n" +
           get("from")[0] + "\r\n" + get("to")[0] +
           ";tag=t%08x\r\n" % len(resp) + cid + "\r\n" +
           get("cseq")[0] + "\r\n" +
           "Contact: <sip:uas@%s:%d>\r\n" % (".".join(map(str, tgt)), tport) +
           "Content-Length: 0\r\n\r\n")
    resp.append(udp_frame(tgt, US, tport, 5060, msg.encode("latin-1")))
if len(resp) < 1000:
    sys.exit("bench_pipeline_proxy: only %d INVITEs forwarded in the "
             "recording pass" % len(resp))
write_pcap(work + "/responses.pcap", hdr, resp + [arp_reply()])
print("   %d responses made from the forwarded INVITEs" % len(resp))
EOF

echo "== invites: INVITEs forwarded"
run_dp invites "$work/invites.pcap"
sleep "$warmup"
measure "$window"
report invites forwarded_per_s
stop_group "$dp_pid"
counters rx tx drop proxy_fwd proxy_fwd_table sip_local_resp \
	sip_reject neigh_miss svc_held_drop tx_full no_mbuf

echo "== responses: 180s relayed"
run_dp responses "$work/responses.pcap"
sleep "$warmup"
measure "$window"
report responses relayed_per_s
stop_group "$dp_pid"
counters rx tx drop proxy_relay proxy_resp_1xx proxy_foreign_via \
	neigh_miss tx_full no_mbuf

# --- callgrind -----------------------------------------------------------
if [ "$cg_seconds" -gt 0 ] && command -v valgrind >/dev/null 2>&1; then
	echo "== callgrind: ${cg_seconds}s of the invites scenario"
	# The edits' application keeps its name in the results (dp_proxy.c
	# calls the variant that may use headroom).
	callgrind_stages invites "$work/invites.pcap" "$cg_seconds" \
		sip_parse sip_msg_check rules_match_burst dp_proxy_burst \
		dp_proxy_request dp_proxy_to_target dp_proxy_loop_hash \
		dp_proxy_txn_hash sip_rw_apply_inplace_head=sip_rw_apply_inplace \
		dp_udp_send dp_cksum_raw_avx2 dp_sip_flow_hash rules_pick_target
fi
echo "== results appended to $results"
