#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# kamailio_compare.sh - sipedge against Kamailio (Debian's package) on the
# same veth pair, with the same route table and the same offered load.
#
#   netns DP: the router under test, 198.18.0.2
#             sipedge-dataplane on net_af_packet (no kernel address), or
#             Kamailio on the kernel stack (the address is added for it)
#   netns CL: SIPp UAC 198.18.0.1, SIPp UAS 198.18.0.3
#
# Modes, each run for both routers:
#   proxy     stateless forwarding: INVITE -> UAS, 486 back, ACK -> UAS
#             (Kamailio: forward() after a longest-prefix lookup)
#   redirect  INVITE answered 302 with the target as Contact, ACK absorbed
#             (Kamailio: sl_send_reply("302") with append_to_reply)
#
# Route table: RULES prefix rules (1 + four digits) all naming the UAS;
# sipedge imports it as CSV, Kamailio gets the same prefixes in an htable
# filled at start-up and looked up longest prefix first, which is how a
# Kamailio script does LCR without a database.
#
# Load: for each offered rate in RATES, SIPp sends RATE * SECONDS_PER_RUN calls
# (the same for both routers); a run passes when every call succeeds.
# The figure compared is each router's sustained rate: the highest
# successful calls/s of a run without a failed call. On a small machine
# SIPp itself may be the limit: then both routers reach the highest
# offered load and the multiple is 1.0; add higher RATES to find the knee.
#
# Kamailio is installed with apt-get when missing. Results go to
# perf/results/kamailio_compare.csv.
#
# usage: perf/kamailio_compare.sh [BUILD_DIR]
# environment: RULES (1000), RATES ("4000 8000 12000 16000 20000"), SECONDS_PER_RUN (10),
#   KAM_CHILDREN (2),
#   MODES ("proxy redirect"), RESULTS, E2E_KEEP=1 keeps the work dir.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
E2E_BUILD=$(cd "${1:-$root/build}" && pwd)
rules=${RULES:-1000}
rates=${RATES:-4000 8000 12000 16000 20000}
seconds=${SECONDS_PER_RUN:-10}
kam_children=${KAM_CHILDREN:-2}
modes=${MODES:-proxy redirect}
results=${RESULTS:-$root/perf/results/kamailio_compare.csv}

# shellcheck source=../tests/e2e/lib.sh
. "$root/tests/e2e/lib.sh"

# The names and the cleanup (lib.sh) before anything is created; the
# Kamailio started below is one of lib.sh's process groups.
e2e_names
e2e_traps
if ! why=$(e2e_can_run); then
	echo "kamailio_compare: cannot run: $why"
	exit 77
fi
if ! command -v kamailio >/dev/null 2>&1; then
	echo "== installing Kamailio (apt-get install kamailio)"
	{ DEBIAN_FRONTEND=noninteractive apt-get update -qq &&
	  DEBIAN_FRONTEND=noninteractive apt-get install -y kamailio \
		>/dev/null; } ||
		{ echo "kamailio_compare: apt-get install kamailio failed"; exit 1; }
	# The package's own service, if the installation started one, is not
	# ours and would hold the port: stop that unit (or the init script's
	# pid), never any other Kamailio.
	if command -v systemctl >/dev/null 2>&1 &&
	   systemctl is-active --quiet kamailio.service 2>/dev/null; then
		systemctl stop kamailio.service || true
	elif [ -s /run/kamailio/kamailio.pid ]; then
		kill "$(cat /run/kamailio/kamailio.pid)" 2>/dev/null || true
	fi
fi
kam_mods=$(dirname "$(find /usr/lib -name sl.so -path '*kamailio*' | head -n1)")
kam_version=$(kamailio -v 2>/dev/null | sed -n 's/^version: *//p' | head -n1)

UAS=198.18.0.3

e2e_init
kam_pid=

date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1 |
	tr -s ' ,' ' ')
machine="$(uname -m) $(nproc) cpu ${cpu:-unknown}"
[ -s "$results" ] ||
	echo "date,commit,machine,router,mode,rules,offered_cps,calls,successful,failed,seconds,successful_cps,note" >"$results"

echo "== kamailio_compare: $machine; Kamailio ${kam_version:-?}; $rules rules; offered $rates calls/s, ${seconds}s each"

# --- inputs --------------------------------------------------------------
w=$E2E_WORK
python3 - "$w" "$rules" "$UAS" <<'EOF'
import sys
work, n, uas = sys.argv[1], int(sys.argv[2]), sys.argv[3]
# Prefixes 1 + four digits, 1212 among them (what the UAC dials).
prefixes = ["1%04d" % i for i in range(n - 1)] + ["1212"]
for mode, action in (("proxy", "forward"), ("redirect", "redirect")):
    with open("%s/routes-%s.csv" % (work, mode), "w") as f:
        f.write("id,kind,pattern,action,targets,rank,strip,prepend,code\n")
        for i, p in enumerate(prefixes):
            f.write("r%06d,prefix,%s,%s,%s:5060,,,,\n" % (i, p, action, uas))
with open(work + "/htable.cfg", "w") as f:
    for p in prefixes:
        f.write('\t$sht(rt=>%s) = "%s:5060";\n' % (p, uas))
EOF

cat >"$w/uac_proxy.xml" <<'EOF'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="INVITE through a stateless proxy, 486, ACK">
  <send retrans="500">
    <![CDATA[

      INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch];rport
      From: <sip:bench@[local_ip]:[local_port]>;tag=[pid]t[call_number]
      To: <sip:[service]@[remote_ip]:[remote_port]>
      Call-ID: [call_id]
      CSeq: 1 INVITE
      Contact: <sip:bench@[local_ip]:[local_port]>
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
  <recv response="100" optional="true"/>
  <recv response="486"/>
  <send>
    <![CDATA[

      ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
      [last_Via:]
      From: <sip:bench@[local_ip]:[local_port]>;tag=[pid]t[call_number]
      [last_To:]
      Call-ID: [call_id]
      CSeq: 1 ACK
      Max-Forwards: 70
      Content-Length: 0

    ]]>
  </send>
</scenario>
EOF
sed -e 's/486/302/g' -e 's/through a stateless proxy, 302, ACK/answered with a redirect, ACK/' \
	"$w/uac_proxy.xml" >"$w/uac_redirect.xml"
cat >"$w/uas.xml" <<'EOF'
<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="UAS: 486 to every INVITE">
  <recv request="INVITE"/>
  <send>
    <![CDATA[

      SIP/2.0 486 Busy Here
      [last_Via:]
      [last_From:]
      [last_To:];tag=[pid]u[call_number]
      [last_Call-ID:]
      [last_CSeq:]
      Content-Length: 0

    ]]>
  </send>
  <recv request="ACK"/>
</scenario>
EOF

kam_cfg() {  # MODE: a Kamailio configuration on stdout
	cat <<EOF
#!KAMAILIO
debug=0
log_stderror=yes
children=$kam_children
auto_aliases=no
listen=udp:$E2E_V4_DP:5060
mpath="$kam_mods/"
loadmodule "kex.so"
loadmodule "corex.so"
loadmodule "sl.so"
loadmodule "pv.so"
loadmodule "maxfwd.so"
loadmodule "textops.so"
loadmodule "siputils.so"
loadmodule "htable.so"
modparam("htable", "htable", "rt=>size=16;")

event_route[htable:mod-init] {
$(cat "$w/htable.cfg")
}

request_route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		exit;
	}
	route(LOOKUP);
	if (\$var(t) == "") {
		if (!is_method("ACK"))
			sl_send_reply("404", "Not Found");
		exit;
	}
	route(ACT);
}

route[LOOKUP] {
	\$var(t) = "";
	\$var(k) = \$rU;
	if (\$(var(k){s.substr,0,1}) == "+")
		\$var(k) = \$(var(k){s.substr,1,0});
	\$var(i) = \$(var(k){s.len});
	while (\$var(i) > 0) {
		\$var(p) = \$(var(k){s.substr,0,\$var(i)});
		if (\$sht(rt=>\$var(p)) != \$null) {
			\$var(t) = \$sht(rt=>\$var(p));
			return;
		}
		\$var(i) = \$var(i) - 1;
	}
}
EOF
	if [ "$1" = proxy ]; then
		cat <<'EOF'

route[ACT] {
	$du = "sip:" + $var(t);
	forward();
	exit;
}
EOF
	else
		cat <<'EOF'

route[ACT] {
	if (is_method("ACK"))
		exit;
	append_to_reply("Contact: <sip:$rU@$var(t)>\r\n");
	sl_send_reply("302", "Moved Temporarily");
	exit;
}
EOF
	fi
}

# --- network -------------------------------------------------------------
e2e_net_up || { echo "kamailio_compare: network setup failed"; exit 1; }
ip -n "$E2E_NS_CL" addr add "$UAS/24" dev "$E2E_IF_CL"
e2e_control_start || { echo "kamailio_compare: sipedge-control failed"; exit 1; }

declare -A rate_of

# run_load ROUTER MODE RATE: the UAS and the UAC; records a row and keeps
# the best rate without a failed call in rate_of[ROUTER-MODE].
run_load() {
	local router=$1 mode=$2 rate=$3 name="$1-$2-$3" t0 t1 secs ok bad cps
	local calls=$(($3 * seconds)) note=""
	e2e_start "uas-$name" bash -c 'cd "$1" && shift && exec "$@"' _ "$w" \
		ip netns exec "$E2E_NS_CL" sipp -nostdin -sf "$w/uas.xml" \
		-i "$UAS" -p 5060 -trace_screen -screen_file "$w/uas-$name.screen"
	local uas=$E2E_LAST_PID
	sleep 0.5
	t0=$(date +%s.%N)
	e2e_sipp "uac-$name" -sf "$w/uac_$mode.xml" -s 12125550100 \
		-i "$E2E_V4_CL" -p 5090 -r "$rate" -rp 1000 -l 100000 \
		-m "$calls" -timeout 300s "$E2E_V4_DP:5060" || note="sipp exit $?"
	t1=$(date +%s.%N)
	kill -USR1 "$uas" 2>/dev/null
	e2e_kill_group "$uas"
	read -r ok bad <<<"$(awk -F'|' '
		/Successful call/ { gsub(/ /, "", $3); o = $3 }
		/Failed call/     { gsub(/ /, "", $3); b = $3 }
		END { printf "%d %d\n", o, b }' "$w/uac-$name.screen")"
	secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
	cps=$(awk -v n="$ok" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? n / s : 0) }')
	if [ "$bad" -eq 0 ] && [ "$ok" -eq "$calls" ] &&
	   [ "$cps" -gt "${rate_of[$router-$mode]:-0}" ]; then
		rate_of[$router-$mode]=$cps
	fi
	echo "$date,$commit,\"$machine\",$router,$mode,$rules,$rate,$calls,$ok,$bad,$secs,$cps,$note" >>"$results"
	printf '  %-9s %-9s %5s/s offered: %7s successful, %6s failed in %7ss: %6s calls/s %s\n' \
		"$router" "$mode" "$rate" "$ok" "$bad" "$secs" "$cps" "$note"
}

for mode in $modes; do
	echo "== sipedge, $mode"
	imp=$(e2e_routes_import "$w/routes-$mode.csv" 2>&1) ||
		{ echo "kamailio_compare: import failed: $imp"; exit 1; }
	e2e_dataplane_start --mode "$mode" ||
		{ echo "kamailio_compare: sipedge-dataplane failed"; exit 1; }
	e2e_wait_for 15 grep -q 'generation [0-9]* loaded' "$E2E_DP_LOG"
	for r in $rates; do
		run_load sipedge "$mode" "$r"
	done
	e2e_dataplane_stop
done

# Kamailio needs the kernel stack on the router's end.
ip -n "$E2E_NS_DP" addr add "$E2E_V4_DP/24" dev "$E2E_IF_DP"
ip netns exec "$E2E_NS_DP" ethtool -K "$E2E_IF_DP" tx off >/dev/null
for mode in $modes; do
	echo "== Kamailio, $mode ($kam_children UDP children)"
	kam_cfg "$mode" >"$w/kamailio-$mode.cfg"
	kamailio -c -f "$w/kamailio-$mode.cfg" >"$w/kamailio-$mode.check" 2>&1 ||
		{ echo "kamailio_compare: bad config:"; tail -n 20 "$w/kamailio-$mode.check"; exit 1; }
	e2e_start "kamailio-$mode" ip netns exec "$E2E_NS_DP" kamailio -DD -E \
		-m 256 -M 16 -f "$w/kamailio-$mode.cfg" -P "$w/kamailio-$mode.pid"
	kam_pid=$E2E_LAST_PID
	sleep 2
	kill -0 "$kam_pid" 2>/dev/null ||
		{ echo "kamailio_compare: Kamailio exited:"; tail -n 20 "$w/kamailio-$mode.log"; exit 1; }
	for r in $rates; do
		run_load kamailio "$mode" "$r"
	done
	e2e_kill_group "$kam_pid"
	kam_pid=
done

echo "== sipedge as a multiple of Kamailio (sustained calls/s: best run without a failed call)"
for mode in $modes; do
	s=${rate_of[sipedge-$mode]:-0}
	k=${rate_of[kamailio-$mode]:-0}
	x=$(awk -v s="$s" -v k="$k" 'BEGIN { printf "%.2f", (k > 0 ? s / k : 0) }')
	printf '  %-9s sipedge %6s/s, Kamailio %6s/s: %sx\n' "$mode" "$s" "$k" "$x"
	echo "$date,$commit,\"$machine\",ratio,$mode,$rules,$(echo $rates | tr ' ' '/'),,,,,$x,sipedge $s/s / kamailio $k/s sustained" >>"$results"
done
echo "== results appended to $results"
