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
    # Without per-packet outputs the writer thread gets records without their
    # packets (RecordPipe::Copy::record): the same files again.
    "$fwsim" replay "$tmp/cap.pcap" --threads $t --quiet --flows "$tmp/F$t" --stats "$tmp/S$t" --summary "$tmp/M$t"
done
fails=0
for o in v f s m p F S M; do
    ext=""; [ $o = p ] && ext=.pcap
    if cmp -s "$tmp/${o}1$ext" "$tmp/${o}2$ext"; then echo "ok: $o identical"; else echo "FAIL: $o differs"; fails=$((fails+1)); fi
done
cmp -s "$tmp/f1" "$tmp/F2" || { echo "FAIL: flows differ with and without --verdicts"; fails=$((fails+1)); }
grep -q '"nat"' "$tmp/v1" || { echo "FAIL: the capture exercised no NAT"; fails=$((fails+1)); }
echo "$((10 - fails)) passed, $fails failed"
[ $fails -eq 0 ]
