// fwsim-decode-bench CAPTURE: decoding speed next to the bare libpcap read
// loop, over the same file, in one run (issue 2's measurement).
//   pass 1: pcap_next_ex and touch the bytes (the floor), with stdio's
//           default buffer and with PcapReader's 256 KiB one
//   pass 2: PcapReader + decode_frame (what `fwsim replay` does before the engine)
//   pass 3: the same without `Packet{}` before each decode_frame(), which
//           resets every field it owns itself
// Each pass runs 3 times; the fastest is printed.
//
// fwsim-decode-bench --dump OUT CAPTURE: writes every decoded field of every
// packet (and l4_checksum_ok, malformed_layer) as one text line per packet,
// to check that a decoder change keeps the decoded packets identical.
#include <pcap/pcap.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "fwsim/decode/decoder.hpp"
#include "io/pcap/pcap_reader.hpp"

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// big_buffer: give the FILE the 256 KiB stdio buffer PcapReader gives it
// (stdio's default is 4 KiB: a read() every ~20 records).
double floor_pass(const char* path, uint64_t* n, uint64_t* check, bool big_buffer) {
    char err[PCAP_ERRBUF_SIZE];
    std::vector<char> buf(size_t(1) << 18);
    std::FILE* f = std::fopen(path, "rb");
    if (f && big_buffer) std::setvbuf(f, buf.data(), _IOFBF, buf.size());
    pcap_t* p = f ? pcap_fopen_offline_with_tstamp_precision(f, PCAP_TSTAMP_PRECISION_NANO, err) : nullptr;
    if (!p) {
        std::fprintf(stderr, "%s: cannot open\n", path);
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

double decode_pass(const char* path, uint64_t* n, uint64_t* check, bool fresh_packet) {
    fwsim::PcapReader r(path);
    const int dlt = r.linktype();
    fwsim::RawRecord rec;
    fwsim::Packet pkt;
    const auto t0 = std::chrono::steady_clock::now();
    *n = 0;
    while (r.next(rec)) {
        if (fresh_packet) pkt = fwsim::Packet{};
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

void put_addr(std::FILE* f, const fwsim::IpAddr& a) {
    std::fputc(' ', f);
    for (uint8_t b : a.b) std::fprintf(f, "%02x", b);
}

// One line per packet: every field decode_frame() sets. The packet is reused
// without a reset between records, and its fields are first scribbled over,
// so that a field the decoder forgets to set shows up as a difference.
int dump(const char* out, const char* path) {
    std::FILE* f = std::fopen(out, "w");
    if (!f) {
        std::perror(out);
        return 2;
    }
    fwsim::PcapReader r(path);
    const int dlt = r.linktype();
    fwsim::RawRecord rec;
    fwsim::Packet p;
    while (r.next(rec)) {
        std::memset(static_cast<void*>(&p), 0x5a, sizeof p);
        p.index = rec.index;
        p.ts = rec.ts;
        p.wire_len = rec.wire_len;
        p.cap_len = uint32_t(rec.data.size());
        p.capture_if = rec.capture_if;
        fwsim::decode_frame(dlt, rec.data, p);
        const auto& t = p.tcp;
        const auto& in = p.inner;
        std::fprintf(f, "%llu %lld %u %u %d %zu %d [%s] %u %u %u %d %u %u %u", (unsigned long long)p.index,
                     (long long)p.ts, p.wire_len, p.cap_len, p.capture_if, p.frame.size(), int(p.status),
                     p.status == fwsim::DecodeStatus::malformed ? p.error : "", p.ethertype, p.vlan_depth,
                     p.l3_offset, int(p.family), p.l4proto, p.ttl, p.tos);
        put_addr(f, p.src);
        put_addr(f, p.dst);
        std::fprintf(f, " %u %u %u | %d %d %d %u %u | %d %u %u %u %u %u", p.ip_len, p.ip_hdr_len, p.ip_id,
                     p.is_fragment, p.more_frags, p.dont_frag, p.frag_offset, p.frag_id, p.has_l4, p.l4_offset,
                     p.l4_len, p.payload_len, p.sport, p.dport);
        std::fprintf(f, " | %u %u %u %u %u %u %d %d %d %d %u %u %u", t.seq, t.ack, t.window, t.flags, t.doff, t.mss,
                     t.wscale, t.sack_perm, t.has_sack, t.has_ts, t.sack_max_right, t.tsval, t.tsecr);
        std::fprintf(f, " | %u %u %u %u | %d %d %d %u", p.icmp_type, p.icmp_code, p.icmp_id, p.icmp_seq, in.present,
                     in.has_ports, int(in.family), in.l4proto);
        put_addr(f, in.src);
        put_addr(f, in.dst);
        std::fprintf(f, " %u %u %u %u %u | csum=%d layer=%d\n", in.sport, in.dport, in.icmp_type, in.icmp_code,
                     in.icmp_id, fwsim::l4_checksum_ok(p), int(fwsim::malformed_layer(p)));
    }
    std::fclose(f);
    if (!r.error().empty()) std::printf("reader error: %s\n", r.error().c_str());
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc == 4 && std::string(argv[1]) == "--dump") return dump(argv[2], argv[3]);
    if (argc != 2) {
        std::fprintf(stderr, "usage: fwsim-decode-bench CAPTURE | --dump OUT CAPTURE\n");
        return 2;
    }
    uint64_t n = 0, check = 0;
    double best_floor4k = 1e9, best_floor = 1e9, best_decode = 1e9, best_reuse = 1e9;
    for (int i = 0; i < 3; ++i) {
        best_floor4k = std::min(best_floor4k, floor_pass(argv[1], &n, &check, false));
        best_floor = std::min(best_floor, floor_pass(argv[1], &n, &check, true));
        best_decode = std::min(best_decode, decode_pass(argv[1], &n, &check, true));
        best_reuse = std::min(best_reuse, decode_pass(argv[1], &n, &check, false));
    }
    // Decoding = read + decode minus the floor with the same read buffer.
    std::printf("packets        %llu\n", (unsigned long long)n);
    std::printf("libpcap loop   %.3f s  %.2f Mpkt/s  (stdio's 4 KiB buffer)\n", best_floor4k, n / best_floor4k / 1e6);
    std::printf("libpcap loop   %.3f s  %.2f Mpkt/s  (256 KiB buffer, as PcapReader)\n", best_floor, n / best_floor / 1e6);
    std::printf("read + decode  %.3f s  %.2f Mpkt/s  (%.0f ns/packet of decoding)\n", best_decode,
                n / best_decode / 1e6, (best_decode - best_floor) / double(n) * 1e9);
    std::printf("  no Packet{}  %.3f s  %.2f Mpkt/s  (%.0f ns/packet of decoding)\n", best_reuse,
                n / best_reuse / 1e6, (best_reuse - best_floor) / double(n) * 1e9);
    std::printf("(check %llu)\n", (unsigned long long)check);
    return 0;
}
