#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run_fuzz.sh - a fixed-time libFuzzer smoke run.
#
# usage: run_fuzz.sh FUZZER SECONDS SEED_DIR [SEED_DIR ...]
# The seeds are copied into a scratch corpus, so the source tree is never
# written; a crashing input is kept as $FUZZ_ARTIFACTS/crash-* (default:
# the current directory, the build directory under meson test). Exits non-zero on any crash, leak or sanitizer report.
set -eu
fuzzer=$(realpath "$1")
secs=$2
shift 2
artifacts=${FUZZ_ARTIFACTS:-$PWD}
# The scratch corpus goes on exit and on INT/TERM (a runner's timeout);
# the traps are set before it exists.
work=
trap '[ -z "$work" ] || rm -rf "$work"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
work=$(mktemp -d)
mkdir -p "$work/corpus"
for d in "$@"; do
	if [ -d "$d" ]; then
		find "$d" -maxdepth 2 -type f ! -name '*.tsv' ! -name '*.md' \
		     ! -name '*.pcap' ! -name '*.expect' -size -64k \
		     -exec cp -t "$work/corpus" {} + 2>/dev/null || true
	fi
done
cd "$work"
# libFuzzer's own error status is 77, which a test runner reads as
# "skipped": every failure leaves as 1.
"$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-error_exitcode=1 -timeout_exitcode=1 \
	-print_final_stats=1 -artifact_prefix="$artifacts/" "$work/corpus" 2>&1 | tail -n 25
rc=${PIPESTATUS[0]}
if [ "$rc" -eq 0 ]; then
	echo "1 passed, 0 failed"
	exit 0
fi
echo "0 passed, 1 failed (status $rc)"
exit 1
