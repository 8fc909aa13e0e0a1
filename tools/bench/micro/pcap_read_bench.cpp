// Reading a capture with PcapReader: the native classic-pcap reader
// (io/pcap/classic_pcap.hpp) against the libpcap path it replaces
// (PcapReader::ForceLibpcap). One iteration reads the whole file and touches
// the bytes as fwsim-pcap-floor does (every 8th and the last), so the
// numbers compare with that floor (a bare pcap_next_ex() loop).
//
//   FWSIM_BENCH_PCAP=bench-out/cap-10000000p-10000c-s1-r20000-f2.pcap fwsim-micro-pcap
// (default: bench-out/p200k.pcap under the source tree; make it with tools/bench/run.py)
#include <benchmark/benchmark.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "io/pcap/pcap_reader.hpp"

using namespace fwsim;

namespace {

std::string bench_file() {
    const char* env = std::getenv("FWSIM_BENCH_PCAP");
    return env ? env : std::string(FWSIM_SOURCE_DIR) + "/bench-out/p200k.pcap";
}

template <class... Mode>
void read_capture(benchmark::State& state, Mode... mode) {
    const std::string path = bench_file();
    uint64_t packets = 0, bytes = 0, check = 0;
    for (auto _ : state) {
        PcapReader r(path, mode...);
        RawRecord rec;
        while (r.next(rec)) {
            ++packets;
            bytes += rec.data.size();
            for (size_t i = 0; i < rec.data.size(); i += 8) check += rec.data[i];
            if (!rec.data.empty()) check += rec.data.back();
        }
        if (!r.error().empty()) state.SkipWithError(r.error().c_str());
    }
    benchmark::DoNotOptimize(check);
    state.SetItemsProcessed(int64_t(packets));
    state.SetBytesProcessed(int64_t(bytes));
}

void BM_read_native(benchmark::State& state) { read_capture(state); }
void BM_read_libpcap(benchmark::State& state) { read_capture(state, PcapReader::ForceLibpcap{}); }

}  // namespace

BENCHMARK(BM_read_native)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_read_libpcap)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
