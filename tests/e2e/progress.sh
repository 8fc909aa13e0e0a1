#!/usr/bin/env bash
# Progress goes to stderr when stderr is a terminal, and never otherwise.
#   progress.sh FWSIM FWSIM_GEN
set -euo pipefail
fwsim=$1 gen=$2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$gen" --packets 200000 --concurrent 1000 --seed 3 --out "$tmp/cap.pcap" >/dev/null 2>&1
fails=0
# On a terminal (script(1) gives the command a pty): a progress line.
script -qec "$fwsim replay $tmp/cap.pcap --summary $tmp/s.json" /dev/null < /dev/null > "$tmp/tty.out" || true
if grep -q "packets, .* Mpkt/s" "$tmp/tty.out"; then echo "ok: progress on a terminal"; else echo "FAIL: no progress on a terminal"; fails=$((fails+1)); fi
# Not a terminal: nothing on stderr.
"$fwsim" replay "$tmp/cap.pcap" --summary "$tmp/s2.json" 2> "$tmp/err.out"
if [ ! -s "$tmp/err.out" ]; then echo "ok: silent when stderr is not a terminal"; else echo "FAIL: stderr: $(head -c 200 "$tmp/err.out")"; fails=$((fails+1)); fi
# --quiet: no progress even on a terminal.
script -qec "$fwsim replay $tmp/cap.pcap --summary $tmp/s3.json --quiet" /dev/null < /dev/null > "$tmp/tty2.out" || true
if ! grep -q "Mpkt/s" "$tmp/tty2.out"; then echo "ok: --quiet silences progress"; else echo "FAIL: progress with --quiet"; fails=$((fails+1)); fi
echo "$((3 - fails)) passed, $fails failed"
[ $fails -eq 0 ]
