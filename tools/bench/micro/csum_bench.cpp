// The L4 checksum (csum_partial, csum_l4_ok): the portable sum against the
// AVX2 one at the segment sizes of a replay (20- and 32-byte ACKs, a
// 64-byte threshold, mid-size and full 1,400-byte segments). One iteration
// sums 64 buffers at different offsets (odd ones included), from L1.
//
//   fwsim-micro-csum [--benchmark_filter=BM_l4_ok]
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "fwsim/checksum.hpp"

using namespace fwsim;

namespace {

std::vector<uint8_t> random_bytes(size_t n) {
    std::mt19937 rng(5);
    std::vector<uint8_t> b(n);
    for (auto& x : b) x = uint8_t(rng());
    return b;
}

template <uint32_t (*Sum)(std::span<const uint8_t>, uint32_t)>
void BM_sum(benchmark::State& state) {
    const size_t len = size_t(state.range(0));
    const std::vector<uint8_t> buf = random_bytes(len + 64);
    uint32_t acc = 0;
    for (auto _ : state) {
        for (size_t off = 0; off < 64; ++off) acc += Sum({buf.data() + off, len}, acc);
        benchmark::DoNotOptimize(acc);
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * 64 * int64_t(len));
}

// What l4_checksum_ok() runs for a TCP segment over IPv4.
void BM_l4_ok(benchmark::State& state) {
    const size_t len = size_t(state.range(0));
    const std::vector<uint8_t> buf = random_bytes(len + 64);
    IpAddr src, dst;
    src.b[0] = 192, src.b[1] = 168, src.b[3] = 7;
    dst.b[0] = 10, dst.b[3] = 1;
    unsigned ok = 0;
    for (auto _ : state) {
        for (size_t off = 0; off < 64; ++off) ok += csum_l4_ok(Family::ipv4, src, dst, 6, {buf.data() + off, len});
        benchmark::DoNotOptimize(ok);
    }
    state.SetBytesProcessed(int64_t(state.iterations()) * 64 * int64_t(len));
}

uint32_t partial(std::span<const uint8_t> d, uint32_t s) { return csum_partial(d, s); }

}  // namespace

#define CSUM_SIZES ->Arg(20)->Arg(32)->Arg(64)->Arg(200)->Arg(576)->Arg(1400)
BENCHMARK(BM_sum<csum_detail::partial_portable>) CSUM_SIZES;
BENCHMARK(BM_sum<csum_detail::partial_wide>) CSUM_SIZES;
BENCHMARK(BM_sum<partial>) CSUM_SIZES;
BENCHMARK(BM_l4_ok) CSUM_SIZES;

BENCHMARK_MAIN();
