#!/bin/sh
# SPDX-License-Identifier: MIT
#
# bench_import.sh - bulk import through sipedgectl into a fresh store.
#
# For each size it generates a rule table (mostly prefix and exact rules,
# a few regex and domain rules, one default), starts sipedge-control on an
# empty data directory, imports the file with sipedgectl and records:
#   wall time from the start of the upload to the committed (and published)
#   generation, rows/s, peak RSS of the control process (VmHWM), the LMDB
#   file size, the server's own parse/compile/commit split, a re-import of
#   the same file (a new generation with nothing changed), and the time a
#   restarted control process needs to load the rule set back from LMDB.
#
# usage: perf/bench_import.sh [BUILD_DIR] [SIZES...]
#   BUILD_DIR defaults to ./build; SIZES default to "10000 100000 1000000".
# Results are appended to perf/results/import.csv (RESULTS=... overrides)
# as: date,commit,machine,scenario,metric,value,unit
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${1:-"$root/build"}
[ $# -gt 0 ] && shift
sizes=${*:-"10000 100000 1000000"}
results=${RESULTS:-"$root/perf/results/import.csv"}
control="$build/control/sipedge-control"
ctl="$build/control/sipedgectl"

for b in "$control" "$ctl"; do
	[ -x "$b" ] || { echo "bench_import: $b not built" >&2; exit 2; }
done

work=
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	[ -z "$work" ] || rm -rf "$work"
}
# INT/TERM must end the run (the EXIT trap then cleans up), not resume it.
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
work=$(mktemp -d "${TMPDIR:-/tmp}/sipedge-bench.XXXXXX")

date=$(date -u +%Y-%m-%dT%H:%M:%SZ)
commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1 | tr -s ' ,' ' ')
machine="$(uname -m) $(nproc) cpu ${cpu:-unknown}"
[ -s "$results" ] || echo "date,commit,machine,scenario,metric,value,unit" > "$results"

now_ns() { date +%s%N; }

record() {  # scenario metric value unit
	echo "$date,$commit,\"$machine\",$1,$2,$3,$4" >> "$results"
	printf '%-16s %-18s %14s %s\n' "$1" "$2" "$3" "$4"
}

gen_csv() {  # rows file
	awk -v n="$1" 'BEGIN {
		print "id,kind,pattern,action,targets,rank,strip,prepend,code"
		for (i = 0; i < n; i++) {
			id = sprintf("r%07d", i)
			if (i % 20 == 0)
				printf "%s,exact,1555%07d,forward,198.19.%d.%d:5060/1/3|198.19.1.1:5060/2,,,,\n", id, i, int(i / 256) % 256, i % 256
			else if (i % 10000 == 1)
				printf "%s,regex,^9%05d[0-9]+$,reject,,50,,,403\n", id, i % 100000
			else if (i % 1000 == 2)
				printf "%s,domain,*.d%d.example.com,redirect,198.18.0.%d:5080,,,,\n", id, i, i % 256
			else
				printf "%s,prefix,+44%d,forward,198.19.0.%d:5060|198.19.2.%d:5060/2/5,%d,1,0044,\n", id, i, i % 256, (i * 7) % 256, i % 200
		}
		print "fallback,default,,forward,198.19.0.9:5060,,,,"
	}' > "$2"
}

start_control() {  # data-dir socket
	"$control" --data-dir "$1" --socket "$2" --log-level warning &
	pid=$!
	i=0
	until "$ctl" --socket "$2" status >/dev/null 2>&1; do
		i=$((i + 1))
		[ $i -lt 2000 ] || { echo "bench_import: control did not start" >&2; exit 1; }
		sleep 0.01
	done
}

stop_control() {
	kill "$pid"
	wait "$pid" || true
	pid=
}

json_int() {  # key file: first integer value of "key"
	sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" "$2" | head -n1
}

# Other work on the machine skews wall times: say how busy it was.
record env load_avg_1min "$(cut -d' ' -f1 /proc/loadavg)" load

for n in $sizes; do
	case $n in
	*000000) label="$((n / 1000000))m" ;;
	*000) label="$((n / 1000))k" ;;
	*) label=$n ;;
	esac
	csv="$work/rules-$label.csv"
	db="$work/db-$label"
	sock="$work/ctl-$label.sock"
	gen_csv "$n" "$csv"
	rows=$((n + 1))

	start_control "$db" "$sock"
	t0=$(now_ns)
	"$ctl" --socket "$sock" --json routes import "$csv" > "$work/reply.json"
	t1=$(now_ns)
	ms=$(( (t1 - t0) / 1000000 ))
	hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$pid/status)
	size=$(stat -c %s "$db/data.mdb")
	record "import_$label" rows "$rows" rows
	record "import_$label" wall_time "$ms" ms
	record "import_$label" rows_per_s "$(( rows * 1000 / (ms > 0 ? ms : 1) ))" rows/s
	record "import_$label" parse_time "$(json_int parse "$work/reply.json")" ms
	record "import_$label" compile_time "$(json_int compile "$work/reply.json")" ms
	record "import_$label" commit_time "$(json_int commit "$work/reply.json")" ms
	record "import_$label" image_size "$(json_int image_bytes "$work/reply.json")" bytes
	record "import_$label" peak_rss "$hwm" kB
	record "import_$label" lmdb_file "$size" bytes

	t0=$(now_ns)
	"$ctl" --socket "$sock" --json routes import "$csv" > "$work/reply.json"
	t1=$(now_ns)
	hwm=$(sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$pid/status)
	record "reimport_$label" wall_time "$(( (t1 - t0) / 1000000 ))" ms
	record "reimport_$label" peak_rss "$hwm" kB
	record "reimport_$label" lmdb_file "$(stat -c %s "$db/data.mdb")" bytes
	stop_control

	t0=$(now_ns)
	start_control "$db" "$sock"
	t1=$(now_ns)
	record "restart_$label" load_time "$(( (t1 - t0) / 1000000 ))" ms
	stop_control
	rm -rf "$db" "$csv"
done
