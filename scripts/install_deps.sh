#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# install_deps.sh - install the Debian 12 packages sipedge needs to build,
# test and run. Idempotent: when everything is present it only checks.
set -euo pipefail

PKGS=(
	build-essential meson ninja-build pkg-config python3
	dpdk dpdk-dev libdpdk-dev
	libhyperscan-dev liburcu-dev liblmdb-dev lmdb-utils libssl-dev
	libcmocka-dev libpcap-dev
	clang llvm libclang-rt-14-dev
	sip-tester iproute2 ethtool valgrind
	procps
)
# What the scripts run beyond the tool chain, on a minimal Debian 12:
# sipp (sip-tester), ip and ss (iproute2), ethtool, sysctl, pkill and
# pgrep (procps), python3 (pktgen-scripts, perf), valgrind (perf).

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	     grep -q 'install ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	echo "install_deps: all ${#PKGS[@]} packages present"
	exit 0
fi

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	if ! command -v sudo >/dev/null 2>&1; then
		echo "install_deps: missing ${missing[*]}; run this as root" \
			"(or install sudo) to install them" >&2
		exit 1
	fi
	SUDO=sudo
fi
echo "install_deps: installing ${missing[*]}"
# env passes DEBIAN_FRONTEND through sudo (which drops the environment);
# the lock timeout waits for a dpkg run already under way (a fresh VM's
# unattended upgrades) instead of failing at once.
$SUDO env DEBIAN_FRONTEND=noninteractive \
	apt-get -o DPkg::Lock::Timeout=600 update -q
$SUDO env DEBIAN_FRONTEND=noninteractive \
	apt-get -o DPkg::Lock::Timeout=600 install -y -q \
	--no-install-recommends "${missing[@]}"
