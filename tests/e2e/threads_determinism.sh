#!/usr/bin/env bash
# --threads N gives byte-identical outputs whatever N: 2 is the pipeline (a
# reader thread, one engine, a writer thread), 3 and more run N-1 shards and
# merge them (engine/shards.hpp). On a generated capture with masquerade
# NAT and a SYN flood that spans many reader batches; then runs the shards
# must give up on (a table that reaches ct.max, IP fragments), which are
# replayed on one engine and must still be identical.
#   threads_determinism.sh FWSIM FWSIM_GEN SOURCE_DIR
set -euo pipefail
fwsim=$1 gen=$2 src=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$gen" --packets 30000 --concurrent 2000 --seed 7 --syn-flood 2 --out "$tmp/cap.pcap" >/dev/null 2>&1
fails=0 passes=0
check() {  # what file-a file-b
    if cmp -s "$2" "$3"; then passes=$((passes + 1)); else echo "FAIL: $1: $(basename "$2") and $(basename "$3") differ"; fails=$((fails + 1)); fi
}
for t in 1 2 3 4 6; do
    "$fwsim" replay "$tmp/cap.pcap" --threads $t --quiet --verdicts "$tmp/v$t" --flows "$tmp/f$t" \
        --stats "$tmp/s$t" --summary "$tmp/m$t" --write-pcap "$tmp/p$t.pcap" --stats-interval 0.5
    # Without per-packet outputs the writer gets records without their
    # packets (RecordPipe::Copy::record; the shards' merge skips the
    # verdicts' ids): the same files again.
    "$fwsim" replay "$tmp/cap.pcap" --threads $t --quiet --flows "$tmp/F$t" --stats "$tmp/S$t" --summary "$tmp/M$t" \
        --stats-interval 0.5
done
for t in 2 3 4 6; do
    for o in v f s m F S M; do check "--threads $t" "$tmp/${o}1" "$tmp/${o}$t"; done
    check "--threads $t" "$tmp/p1.pcap" "$tmp/p$t.pcap"
done
check "flows with and without --verdicts" "$tmp/f1" "$tmp/F3"
grep -q '"nat"' "$tmp/v1" || { echo "FAIL: the capture exercised no NAT"; fails=$((fails + 1)); }

# The threads meet in other orders on every run: the same outputs each time.
for i in 1 2 3 4 5; do
    for t in 3 5 8; do
        "$fwsim" replay "$tmp/cap.pcap" --threads $t --quiet --flows "$tmp/r" --summary "$tmp/rm"
        check "--threads $t, run $i" "$tmp/F1" "$tmp/r"
    done
done

# Runs the shards cannot stand for: replayed on one engine, said on stderr.
fallback() {  # name capture args...
    local name=$1 cap=$2
    shift 2
    "$fwsim" replay "$cap" --threads 1 --quiet --verdicts "$tmp/$name.v1" --flows "$tmp/$name.f1" "$@"
    "$fwsim" replay "$cap" --threads 3 --verdicts "$tmp/$name.v3" --flows "$tmp/$name.f3" "$@" 2>"$tmp/$name.err"
    check "$name" "$tmp/$name.v1" "$tmp/$name.v3"
    check "$name" "$tmp/$name.f1" "$tmp/$name.f3"
    if grep -q 'replayed again on one engine' "$tmp/$name.err"; then passes=$((passes + 1)); else
        echo "FAIL: $name: no note on stderr"; fails=$((fails + 1)); fi
    if ls "$tmp" | grep -q 'partial\|fwsim-tmp'; then echo "FAIL: $name: files of the first run left"; fails=$((fails + 1)); fi
}
fallback ct-max "$tmp/cap.pcap" --set ct.max=500
fallback fragments "$src/captures/fragments.pcap"

# Runs that go to one engine from the start: also identical, also said.
"$fwsim" replay "$tmp/cap.pcap" --rules "$src/rules/ratelimit.nft" --threads 1 --quiet --flows "$tmp/rl1"
"$fwsim" replay "$tmp/cap.pcap" --rules "$src/rules/ratelimit.nft" --threads 4 --flows "$tmp/rl4" 2>"$tmp/rl.err"
check "limit rules" "$tmp/rl1" "$tmp/rl4"
if grep -q 'one engine: the ruleset has state shared across connections (limit)' "$tmp/rl.err"; then
    passes=$((passes + 1)); else echo "FAIL: limit rules: no note on stderr"; fails=$((fails + 1)); fi
"$fwsim" replay "$tmp/cap.pcap" --threads 3 --verdicts - --flows "$tmp/so3" >"$tmp/so3.v" 2>"$tmp/so.err"
check "verdicts to stdout" "$tmp/v1" "$tmp/so3.v"
if grep -q 'one engine: an output is written to standard output' "$tmp/so.err"; then
    passes=$((passes + 1)); else echo "FAIL: stdout: no note on stderr"; fails=$((fails + 1)); fi

echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
