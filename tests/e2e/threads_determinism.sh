#!/usr/bin/env bash
# --threads 1 and --threads 2 give byte-identical outputs on a generated
# capture with masquerade NAT that spans many reader batches.
#   threads_determinism.sh FWSIM FWSIM_GEN
set -euo pipefail
fwsim=$1 gen=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$gen" --packets 30000 --concurrent 2000 --seed 7 --syn-flood 2 --out "$tmp/cap.pcap" >/dev/null 2>&1
for t in 1 2; do
    "$fwsim" replay "$tmp/cap.pcap" --threads $t --quiet --verdicts "$tmp/v$t" --flows "$tmp/f$t" \
        --stats "$tmp/s$t" --summary "$tmp/m$t" --write-pcap "$tmp/p$t.pcap"
done
fails=0
for o in v f s m p; do
    ext=""; [ $o = p ] && ext=.pcap
    if cmp -s "$tmp/${o}1$ext" "$tmp/${o}2$ext"; then echo "ok: $o identical"; else echo "FAIL: $o differs"; fails=$((fails+1)); fi
done
grep -q '"nat"' "$tmp/v1" || { echo "FAIL: the capture exercised no NAT"; fails=$((fails+1)); }
echo "$((6 - fails)) passed, $fails failed"
[ $fails -eq 0 ]
