#!/usr/bin/env bash
# Installs the Debian packages braid builds, tests and demonstrates with, if any
# is missing. Every package is named here; nothing is fetched from elsewhere.
set -euo pipefail

#   scripts/deps.sh          what `make` and `make check` need
#   scripts/deps.sh bench    that, and what `make bench` compares with and plots
pkgs=(
	build-essential pkg-config
	liburing-dev libisal-dev libjemalloc-dev libsodium-dev libdpdk-dev
	check libsubunit-dev libsystemd-dev systemd
	iproute2 ethtool nftables sockperf procps jq valgrind socat groff-base
)
if [ "${1:-}" = bench ]; then
	pkgs+=(rist-tools gnuplot-nox)
fi

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing Debian packages: ${missing[*]}" >&2
	echo "deps: run as root (or: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
