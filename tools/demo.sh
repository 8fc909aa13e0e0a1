#!/usr/bin/env bash
# The README's first command: install what is missing, build, and replay the
# bundled home-router capture through the built-in ruleset.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh build
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DFWSIM_TESTS=OFF >/dev/null
cmake --build build --target fwsim >/dev/null
echo "\$ build/fwsim replay captures/home-mixed.pcap"
build/fwsim replay captures/home-mixed.pcap
echo
echo "\$ build/fwsim replay captures/home-mixed.pcap --verdicts - | head -3"
# head exits after three lines; fwsim, still writing, then ends by SIGPIPE
# (status 141) as any producer piped into head does: that is not a failure.
status=0
build/fwsim replay captures/home-mixed.pcap --verdicts - | head -3 || status=$?
[ "$status" -eq 0 ] || [ "$status" -eq 141 ] || exit "$status"
