#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# demo.sh - the quick start: install what is missing, build, and run the
# main job on a default that needs no NIC.
#
# Until the dataplane lands, the main job runs the SIP library over the
# shared conformance corpus (RFC 4475, RFC 5118, real captures) and prints
# a verdict table: what sipedge does with each message as a proxy.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

bash scripts/install_deps.sh
if [ ! -d build ]; then
	meson setup build
fi
ninja -C build

echo
echo "== RFC 4475 / RFC 5118 torture messages"
./build/tests/conformance/test_conformance
if [ -x build/tests/conformance/test_pcaps ]; then
	echo
	echo "== SIP messages in the shared captures"
	./build/tests/conformance/test_pcaps
fi
