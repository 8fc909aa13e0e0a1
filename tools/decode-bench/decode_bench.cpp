// fwsim-decode-bench CAPTURE: decoding speed next to the bare libpcap read
// loop, over the same file, in one run (issue 2's measurement).
//   pass 1: pcap_next_ex and touch the bytes (the floor)
//   pass 2: PcapReader + decode_frame (what `fwsim replay` does before the engine)
// Each pass runs 3 times; the fastest is printed.
#include <pcap/pcap.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "fwsim/decode/decoder.hpp"
#include "io/pcap/pcap_reader.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double floor_pass(const char* path, uint64_t* n, uint64_t* check) {
    char err[PCAP_ERRBUF_SIZE];
    pcap_t* p = pcap_open_offline_with_tstamp_precision(path, PCAP_TSTAMP_PRECISION_NANO, err);
    if (!p) {
        std::fprintf(stderr, "%s\n", err);
        std::exit(2);
    }
    const auto t0 = std::chrono::steady_clock::now();
    pcap_pkthdr* h;
    const u_char* d;
    *n = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
        ++*n;
        *check += d[h->caplen / 2];
    }
    const double s = seconds_since(t0);
    pcap_close(p);
    return s;
}

double decode_pass(const char* path, uint64_t* n, uint64_t* check) {
    fwsim::PcapReader r(path);
    const int dlt = r.linktype();
    fwsim::RawRecord rec;
    fwsim::Packet pkt;
    const auto t0 = std::chrono::steady_clock::now();
    *n = 0;
    while (r.next(rec)) {
        pkt = fwsim::Packet{};
        pkt.index = rec.index;
        pkt.ts = rec.ts;
        pkt.wire_len = rec.wire_len;
        pkt.cap_len = uint32_t(rec.data.size());
        fwsim::decode_frame(dlt, rec.data, pkt);
        ++*n;
        *check += pkt.sport + pkt.l4proto + uint64_t(pkt.status);
    }
    return seconds_since(t0);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: fwsim-decode-bench CAPTURE\n");
        return 2;
    }
    uint64_t n = 0, check = 0;
    double best_floor = 1e9, best_decode = 1e9;
    for (int i = 0; i < 3; ++i) {
        best_floor = std::min(best_floor, floor_pass(argv[1], &n, &check));
        best_decode = std::min(best_decode, decode_pass(argv[1], &n, &check));
    }
    std::printf("packets        %llu\n", (unsigned long long)n);
    std::printf("libpcap loop   %.3f s  %.2f Mpkt/s\n", best_floor, n / best_floor / 1e6);
    std::printf("read + decode  %.3f s  %.2f Mpkt/s  (%.0f ns/packet of decoding)\n", best_decode,
                n / best_decode / 1e6, (best_decode - best_floor) / double(n) * 1e9);
    std::printf("(check %llu)\n", (unsigned long long)check);
    return 0;
}
