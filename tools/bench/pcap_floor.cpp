// fwsim-pcap-floor: the cheapest possible pass over a capture with libpcap
// (pcap_next_ex, touch every byte, count). fwsim's replay speed is judged
// against this floor: it cannot read packets faster than libpcap hands them out.
//
//   fwsim-pcap-floor FILE.pcap
//   -> packets=N bytes=B seconds=S pps=P
#include <pcap/pcap.h>

#include <chrono>
#include <cstdint>
#include <cstdio>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: fwsim-pcap-floor FILE.pcap\n");
        return 2;
    }
    char err[PCAP_ERRBUF_SIZE];
    const auto t0 = std::chrono::steady_clock::now();
    pcap_t* p = pcap_open_offline(argv[1], err);
    if (!p) {
        std::fprintf(stderr, "fwsim-pcap-floor: %s\n", err);
        return 2;
    }
    uint64_t packets = 0, bytes = 0, check = 0;
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    int rc = 0;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        ++packets;
        bytes += h->caplen;
        // Touch the bytes a decoder would read (every 8th, and the last), so
        // that the pages are really brought in, as any consumer must.
        for (uint32_t i = 0; i < h->caplen; i += 8) check += data[i];
        if (h->caplen) check += data[h->caplen - 1];
    }
    if (rc == -1) {
        std::fprintf(stderr, "fwsim-pcap-floor: %s\n", pcap_geterr(p));
        pcap_close(p);
        return 2;
    }
    pcap_close(p);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("packets=%llu bytes=%llu seconds=%.6f pps=%.0f check=%llu\n",
                static_cast<unsigned long long>(packets), static_cast<unsigned long long>(bytes), s,
                s > 0 ? static_cast<double>(packets) / s : 0.0, static_cast<unsigned long long>(check & 0xFF));
    return 0;
}
