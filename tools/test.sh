#!/usr/bin/env bash
# The README's second command (and what CI runs): install what is missing,
# build, run the whole test suite; then the same under AddressSanitizer and
# UndefinedBehaviorSanitizer, and the threads under ThreadSanitizer (skip both
# with FWSIM_NO_SANITIZE=1 locally).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/install-deps.sh test
jobs=$(nproc)

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DFWSIM_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
ctest --test-dir build --output-on-failure -j"$jobs"

if [ "${FWSIM_NO_SANITIZE:-0}" != 1 ]; then
    export ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
    cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DFWSIM_WERROR=ON -DFWSIM_SANITIZE=ON >/dev/null
    cmake --build build-asan -j"$jobs"
    # The live kernel oracle is not rerun under the sanitizers (it tests the kernel, not fwsim).
    ctest --test-dir build-asan --output-on-failure -j"$jobs" -E 'kernel\.live'

    # The threads of --threads (reader, shards, merge, writer, the end of
    # capture in chunks) under ThreadSanitizer: the replay binary only, on the
    # threads determinism script (every thread count, the fallbacks).
    export TSAN_OPTIONS=halt_on_error=1
    cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFWSIM_WERROR=ON -DFWSIM_TSAN=ON \
        -DFWSIM_TESTS=OFF >/dev/null
    cmake --build build-tsan -j"$jobs" --target fwsim fwsim-gen
    bash tests/e2e/threads_determinism.sh build-tsan/fwsim build-tsan/tools/bench/fwsim-gen .
fi
