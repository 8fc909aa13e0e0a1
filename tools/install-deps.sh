#!/usr/bin/env bash
# Installs the Debian packages fwsim needs, only those that are missing.
#   tools/install-deps.sh build   # to build and run fwsim
#   tools/install-deps.sh test    # also what the test suite uses
set -euo pipefail

build_pkgs=(g++ cmake ninja-build pkg-config libpcap-dev nlohmann-json3-dev libcli11-dev libboost-test-dev)
# nftables: the corpus test checks every ruleset with the real `nft -c`;
# python3: scenario and kernel-differential comparisons; iproute2 and
# conntrack: the live kernel oracle (../shared/oracle).
test_pkgs=(nftables python3 iproute2 conntrack)

want=("${build_pkgs[@]}")
[ "${1:-build}" = test ] && want+=("${test_pkgs[@]}")

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "fwsim: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
