#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test.sh - the whole test suite, from a fresh checkout.
#
# 1. installs missing Debian packages (scripts/install_deps.sh),
# 2. builds ./build and runs every suite of `meson test` (unit,
#    conformance, integration, dataplane, e2e, fuzz),
# 3. builds ./build-san with -Db_sanitize=address,undefined and runs the
#    tests that need no EAL (every suite but dataplane, integration, e2e
#    and fuzz; the dataplane's option and proxy-decision unit tests
#    included) under the sanitizers.
#
# Environment: FUZZ_SECONDS (default 20) sets each fuzz smoke run's length.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/install_deps.sh

fuzz_seconds=${FUZZ_SECONDS:-20}
jobs=$(nproc 2>/dev/null || echo 2)

# configured DIR: the build directory holds a configured tree (a setup
# that failed leaves the directory without one, which --reconfigure and
# ninja refuse); a half-made one is removed.
configured() {
	if [ -d "$1" ] && [ ! -f "$1/meson-private/coredata.dat" ]; then
		rm -rf "$1"
	fi
	[ -d "$1" ]
}

# Every suite, whatever options an existing ./build was given by hand
# (README's -Dtests=false, -Ddataplane=disabled would drop suites).
full_opts=(-Dfuzz_seconds="$fuzz_seconds" -Dtests=true -Ddataplane=enabled
	-Dfuzz=enabled -Dperf=true)

echo "== build (debugoptimized)"
if ! configured build; then
	meson setup build "${full_opts[@]}"
else
	meson setup --reconfigure build "${full_opts[@]}" >/dev/null
fi
ninja -C build -j "$jobs"

echo "== test: all suites"
tests=$(meson test -C build --no-rebuild --list 2>/dev/null)
for suite in unit conformance integration dataplane e2e fuzz; do
	if ! grep -q "^sipedge:$suite /" <<<"$tests"; then
		echo "test.sh: no $suite tests in ./build" >&2
		exit 1
	fi
done
meson test -C build --print-errorlogs --num-processes "$jobs"

echo "== build (address,undefined sanitizers; EAL-free tests)"
san_opts=(-Db_sanitize=address,undefined -Db_lundef=false -Dtests=true
	-Ddataplane=auto
	-Dfuzz=disabled -Dperf=false)
if ! configured build-san; then
	meson setup build-san "${san_opts[@]}"
else
	meson setup --reconfigure build-san "${san_opts[@]}" >/dev/null
fi
ninja -C build-san -j "$jobs"

echo "== test: sanitizers"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	meson test -C build-san --print-errorlogs --num-processes "$jobs" \
		--no-suite integration --no-suite e2e --no-suite fuzz \
		--no-suite dataplane

echo "test.sh: all suites passed"
