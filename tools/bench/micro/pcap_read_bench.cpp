// Reading a capture with PcapReader: the native classic-pcap reader
// (io/pcap/classic_pcap.hpp) against the libpcap path it replaces
// (PcapReader::ForceLibpcap). One iteration reads the whole file and touches
// the bytes as fwsim-pcap-floor does (every 8th and the last), so the
// numbers compare with that floor (a bare pcap_next_ex() loop).
// BM_read_window/N reads with ClassicPcapReader alone through a mapped window
// of N KiB; BM_read_pread (window 0) with pread() into its buffer.
//
//   FWSIM_BENCH_PCAP=bench-out/cap-10000000p-10000c-s1-r20000-f2.pcap fwsim-micro-pcap
// (default: bench-out/p200k.pcap under the source tree; make it with tools/bench/run.py)
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "io/pcap/classic_pcap.hpp"
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

// ClassicPcapReader on its own with a window of state.range(0) KiB (0:
// pread()). The file header is taken as written (a little-endian capture,
// as the generator writes them).
void read_classic(benchmark::State& state, size_t window) {
    const std::string path = bench_file();
    uint64_t packets = 0, bytes = 0, check = 0;
    for (auto _ : state) {
        const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            state.SkipWithError("cannot open the capture");
            return;
        }
        ClassicPcapReader r(fd, 24, ClassicPcapReader::Format{false, false, 262144, 262144}, window);
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

void BM_read_window(benchmark::State& state) { read_classic(state, size_t(state.range(0)) << 10); }
void BM_read_pread(benchmark::State& state) { read_classic(state, 0); }

}  // namespace

BENCHMARK(BM_read_window)->Arg(1024)->Arg(4096)->Arg(16384)->Arg(65536)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_read_pread)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK(BM_read_native)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_read_libpcap)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
