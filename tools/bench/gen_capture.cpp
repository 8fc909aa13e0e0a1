// fwsim-gen: writes a large, deterministic benchmark capture of home-router
// traffic (Ethernet, libpcap format, microsecond timestamps).
//
//   fwsim-gen --packets N --concurrent M --seed S [--syn-flood PCT] [--v6 PCT]
//             [--rate PPS] --out FILE.pcap
//
// The traffic fits the built-in home topology and ruleset: clients in
// 192.168.0.0/16 (and fd00::/64) behind lan0 talk to servers on the
// internet; replies come back to the masqueraded address 203.0.113.1
// (2001:db8:ffff::1) and the client's own source port, because each
// connection's (server address, client port) pair is unique over the whole
// capture, so masquerade never has to pick another port.
//
// M connections are open at any time (a pool: when one closes, a new one
// takes its slot). Packets are emitted in rounds: each round visits every slot
// once in a fresh random order and sends that connection's next packet, so a
// connection is never silent for more than two rounds. The capture clock
// advances 1/PPS per packet (with jitter) and PPS is raised if needed so that
// a round lasts at most 10 s, well inside the shortest Linux timeouts that
// matter here (nf_conntrack_udp_timeout and nf_conntrack_icmp_timeout, 30 s).
//
// Checksums are computed here independently of fwsim's own helpers, so that
// a bug there cannot hide behind a capture made with it.
//
// The file is written with one large buffer and fwrite: libpcap's dump API
// costs a call per packet and is not needed for a format this simple.
#include <algorithm>
#include <array>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

// --- deterministic random numbers (xoshiro256**, seeded by splitmix64) ------

struct Rng {
    std::array<uint64_t, 4> s{};
    explicit Rng(uint64_t seed) {
        for (auto& w : s) {
            seed += 0x9E3779B97F4A7C15ull;
            uint64_t z = seed;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
            w = z ^ (z >> 31);
        }
    }
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    uint64_t next() {
        const uint64_t result = rotl(s[1] * 5, 7) * 9;
        const uint64_t t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        return result;
    }
    // Uniform in [0, n) (Lemire's multiply-shift; the tiny bias is irrelevant here).
    uint32_t below(uint32_t n) { return static_cast<uint32_t>(((next() >> 32) * n) >> 32); }
    uint32_t range(uint32_t lo, uint32_t hi) { return lo + below(hi - lo + 1); }  // [lo, hi]
    bool percent(double pct) { return static_cast<double>(next() >> 11) * 0x1.0p-53 * 100.0 < pct; }
};

uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

// --- Internet checksum (RFC 1071) ---------------------------------------------

uint32_t sum16(const uint8_t* p, size_t n, uint32_t sum = 0) {
    uint64_t acc = sum;
    for (; n >= 2; p += 2, n -= 2) acc += static_cast<uint32_t>(p[0] << 8 | p[1]);
    if (n) acc += static_cast<uint32_t>(p[0] << 8);
    while (acc >> 16) acc = (acc & 0xFFFF) + (acc >> 16);
    return static_cast<uint32_t>(acc);
}
uint16_t fold(uint32_t sum) {
    while (sum >> 16) sum = (sum & 0xFFFF) + (sum >> 16);
    return static_cast<uint16_t>(~sum & 0xFFFF);
}

void put16(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 8);
    p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
    p[0] = static_cast<uint8_t>(v >> 24);
    p[1] = static_cast<uint8_t>(v >> 16);
    p[2] = static_cast<uint8_t>(v >> 8);
    p[3] = static_cast<uint8_t>(v);
}

// --- addresses ---------------------------------------------------------------

constexpr uint32_t kMasq4 = 0xCB007101;  // 203.0.113.1, wan0's address
constexpr std::array<uint8_t, 16> kMasq6 = {0x20, 0x01, 0x0d, 0xb8, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
constexpr uint32_t kServers = 1u << 16;  // distinct server addresses
constexpr uint32_t kPortBase = 1024;
constexpr uint32_t kPorts = 65536 - kPortBase;  // 64512 = 2^10 * 3^2 * 7

// Server s (< 2^16) -> a public IPv4 address in 23.0.0.0/8 .. 54.0.0.0/8;
// multiplying by an odd constant modulo 2^24 is a bijection, so no two
// servers share an address.
uint32_t server4(uint32_t s) {
    const uint32_t low = (s * 0x9E3779u) & 0xFFFFFFu;
    return ((23u + (s & 7u) * 4u) << 24) | low;
}
void server6(uint32_t s, uint8_t* out) {
    static constexpr uint8_t prefix[8] = {0x2a, 0x00, 0x14, 0x50, 0x40, 0x01, 0x08, 0x00};
    std::memcpy(out, prefix, 8);
    std::memset(out + 8, 0, 8);
    put32(out + 12, s * 0x9E3779u + 1);
}
// Clients: 192.168.a.b with a in 0..255, b in 2..253 (never .1, the router).
uint32_t client4(uint64_t c) {
    const uint64_t h = mix64(c ^ 0xC11E47ull);
    return 0xC0A80000u | static_cast<uint32_t>((h & 0xFF) << 8) | static_cast<uint32_t>(2 + (h >> 8) % 252);
}
void client6(uint64_t c, uint8_t* out) {
    std::memset(out, 0, 16);
    out[0] = 0xfd;  // fd00::/64, lan0's ULA prefix in the default topology
    const uint64_t h = mix64(c ^ 0xC11E46ull);
    put32(out + 8, static_cast<uint32_t>(h >> 32) & 0x00FFFFFFu);
    put32(out + 12, static_cast<uint32_t>(h) | 2u);
}

// --- connections ------------------------------------------------------------

enum class Kind : uint8_t { tcp, udp, icmp };
enum class Step : uint8_t {
    syn, synack, ack3,        // handshake
    req, resp, rack,          // one request/response round
    fin_a, fin_b, fin_c,      // close: FIN, FIN, last ACK
    rst,                      // close by reset
    query, answer,            // UDP
    echo, echo_reply,         // ICMP
    done
};

struct Conn {
    uint64_t id = 0;       // connection number: decides addresses and ports
    uint32_t client = 0;   // IPv4 client address (v6: derived from id)
    uint32_t server = 0;   // server index (< kServers)
    uint32_t cseq = 0;     // next sequence number of the client / server
    uint32_t sseq = 0;
    uint16_t cport = 0;    // client's source port (ICMP: echo identifier)
    uint16_t sport = 0;    // server's port
    uint16_t ipid_c = 0;   // IPv4 identification counters
    uint16_t ipid_s = 0;
    uint16_t seq16 = 0;    // ICMP echo sequence
    Kind kind = Kind::tcp;
    Step step = Step::done;
    uint8_t rounds = 0;    // request/response rounds (TCP), queries (UDP), pings left
    uint8_t segs = 0;      // response segments left in this round
    uint8_t close_by = 0;  // 0: client FIN first, 1: server FIN first, 2: client RST
    bool v6 = false;
};

struct Options {
    uint64_t packets = 1000000;
    uint64_t concurrent = 10000;
    uint64_t seed = 1;
    double syn_flood = 0;
    double v6 = 0;
    double rate = 100000;
    std::string out;
};

class PcapFile {
public:
    explicit PcapFile(const std::string& path) : f_(std::fopen(path.c_str(), "wb")), buf_(1u << 22) {
        if (!f_) {
            std::perror(path.c_str());
            std::exit(2);
        }
        uint8_t hdr[24];
        const uint32_t magic = 0xA1B2C3D4, snaplen = 65535, linktype = 1;  // DLT_EN10MB
        const uint16_t major = 2, minor = 4;
        const uint32_t zero = 0;
        std::memcpy(hdr, &magic, 4);  // native byte order, as libpcap writes it
        std::memcpy(hdr + 4, &major, 2);
        std::memcpy(hdr + 6, &minor, 2);
        std::memcpy(hdr + 8, &zero, 4);
        std::memcpy(hdr + 12, &zero, 4);
        std::memcpy(hdr + 16, &snaplen, 4);
        std::memcpy(hdr + 20, &linktype, 4);
        append(hdr, sizeof hdr);
    }
    PcapFile(const PcapFile&) = delete;
    PcapFile& operator=(const PcapFile&) = delete;
    ~PcapFile() { close(); }

    // Room for one record; commit() after filling `len` bytes of frame.
    uint8_t* frame() {
        if (buf_.size() - used_ < 16 + 65536) flush();
        return buf_.data() + used_ + 16;
    }
    void commit(uint64_t ts_ns, uint32_t len) {
        const uint32_t rec[4] = {static_cast<uint32_t>(ts_ns / 1000000000u),
                                 static_cast<uint32_t>(ts_ns % 1000000000u / 1000u), len, len};
        std::memcpy(buf_.data() + used_, rec, 16);
        used_ += 16 + len;
        bytes_ += 16 + len;
    }
    void close() {
        if (!f_) return;
        flush();
        if (std::fclose(f_) != 0) {
            std::perror("fwsim-gen: close");
            std::exit(2);
        }
        f_ = nullptr;
    }
    uint64_t bytes() const { return bytes_; }

private:
    void append(const uint8_t* p, size_t n) {
        std::memcpy(buf_.data() + used_, p, n);
        used_ += n;
        bytes_ += n;
    }
    void flush() {
        if (used_ && std::fwrite(buf_.data(), 1, used_, f_) != used_) {
            std::perror("fwsim-gen: write");
            std::exit(2);
        }
        used_ = 0;
    }
    std::FILE* f_;
    std::vector<uint8_t> buf_;
    size_t used_ = 0;
    uint64_t bytes_ = 0;
};

constexpr uint8_t kRouterLanMac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x01};
constexpr uint8_t kRouterWanMac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0x02};
constexpr uint8_t kUpstreamMac[6] = {0x02, 0x00, 0x00, 0x00, 0x00, 0xfe};
constexpr uint8_t kTcpSyn = 0x02, kTcpRst = 0x04, kTcpPsh = 0x08, kTcpAck = 0x10, kTcpFin = 0x01;

class Generator {
public:
    explicit Generator(const Options& o) : o_(o), rng_(o.seed), file_(o.out), pool_(o.concurrent) {
        payload_.resize(1u << 16);
        for (auto& b : payload_) b = static_cast<uint8_t>(rng_.next() >> 56);
        double rate = std::max(o.rate, static_cast<double>(o.concurrent) / 10.0);
        step_ns_ = std::max<uint64_t>(1, static_cast<uint64_t>(1e9 / rate));
        order_.resize(o.concurrent);
        for (uint32_t i = 0; i < order_.size(); ++i) order_[i] = i;
        for (auto& c : pool_) open(c);
    }

    void run() {
        uint64_t pos = 0;  // position in the current round
        for (uint64_t n = 0; n < o_.packets; ++n) {
            // Jitter: each gap uniform in [step/2, 3*step/2), mean 1/rate.
            now_ns_ += step_ns_ / 2 + rng_.next() % (step_ns_ ? step_ns_ : 1);
            if (o_.syn_flood > 0 && rng_.percent(o_.syn_flood)) {
                flood();
                continue;
            }
            // Incremental Fisher-Yates: a fresh random order every round.
            if (pos == order_.size()) pos = 0;
            const uint64_t j = pos + rng_.next() % (order_.size() - pos);
            std::swap(order_[pos], order_[j]);
            Conn& c = pool_[order_[pos++]];
            emit(c);
            if (c.step == Step::done) open(c);
        }
        file_.close();
    }

    uint64_t connections() const { return next_id_; }
    uint64_t bytes() const { return file_.bytes(); }
    uint64_t frame_bytes() const { return frame_bytes_; }
    double seconds() const { return static_cast<double>(now_ns_) / 1e9; }

private:
    static constexpr uint64_t kStartNs = 1700000000ull * 1000000000ull;

    void open(Conn& c) {
        const uint64_t id = next_id_++;
        c = Conn{};
        c.id = id;
        c.server = static_cast<uint32_t>(id % kServers);
        const uint64_t k = id / kServers;  // distinct per server while id < 2^16 * 64512
        c.cport = static_cast<uint16_t>(kPortBase + (k * 40507u + mix64(c.server) % kPorts) % kPorts);
        c.client = client4(id);
        c.v6 = o_.v6 > 0 && rng_.percent(o_.v6);
        c.ipid_c = static_cast<uint16_t>(rng_.next());
        c.ipid_s = static_cast<uint16_t>(rng_.next());
        const uint32_t r = rng_.below(100);
        if (r < 60) {
            c.kind = Kind::tcp;
            const uint32_t p = rng_.below(100);
            c.sport = p < 70 ? 443 : p < 90 ? 80 : p < 95 ? 22 : 993;
            c.cseq = static_cast<uint32_t>(rng_.next());
            c.sseq = static_cast<uint32_t>(rng_.next());
            // 70 % short (web requests), 30 % long-lived (streams, downloads):
            // about 90 packets per connection over the whole mix, so that at
            // 10k concurrent the entries left in TIME_WAIT (120 s) stay far
            // below the default nf_conntrack_max of 262144.
            c.rounds = static_cast<uint8_t>(rng_.below(100) < 70 ? rng_.range(1, 8) : rng_.range(20, 200));
            const uint32_t cl = rng_.below(100);
            c.close_by = cl < 60 ? 0 : cl < 90 ? 1 : 2;
            c.step = Step::syn;
        } else if (r < 90) {
            c.kind = Kind::udp;
            c.sport = rng_.below(100) < 90 ? 53 : 123;
            c.rounds = static_cast<uint8_t>(rng_.range(1, 2));
            c.step = Step::query;
        } else {
            c.kind = Kind::icmp;
            c.rounds = static_cast<uint8_t>(rng_.range(1, 4));
            c.seq16 = 1;
            c.step = Step::echo;
        }
    }

    // Writes Ethernet + IP headers for a packet of the connection; returns
    // the L4 header position. from_client: LAN side, else WAN side (reply).
    uint8_t* l3(uint8_t* f, const Conn& c, bool from_client, uint8_t proto, uint32_t l4len, uint32_t& hdr) {
        std::memcpy(f, from_client ? kRouterLanMac : kRouterWanMac, 6);
        if (from_client) {
            f[6] = 0x02; f[7] = 0x10;
            put32(f + 8, c.client);
        } else {
            std::memcpy(f + 6, kUpstreamMac, 6);
        }
        uint8_t* ip = f + 14;
        if (!c.v6) {
            put16(f + 12, 0x0800);
            ip[0] = 0x45; ip[1] = 0;
            put16(ip + 2, 20 + l4len);
            put16(ip + 4, from_client ? c.ipid_c : c.ipid_s);
            put16(ip + 6, 0x4000);  // DF
            ip[8] = from_client ? 64 : 53;
            ip[9] = proto;
            put16(ip + 10, 0);
            put32(ip + 12, from_client ? c.client : server4(c.server));
            put32(ip + 16, from_client ? server4(c.server) : kMasq4);
            put16(ip + 10, fold(sum16(ip, 20)));
            hdr = 34;
            return ip + 20;
        }
        put16(f + 12, 0x86DD);
        put32(ip, 0x60000000u);
        put16(ip + 4, l4len);
        ip[6] = proto;
        ip[7] = from_client ? 64 : 53;
        uint8_t cli[16], srv[16];
        client6(c.id, cli);
        server6(c.server, srv);
        if (from_client) {
            std::memcpy(ip + 8, cli, 16);
            std::memcpy(ip + 24, srv, 16);
        } else {
            std::memcpy(ip + 8, srv, 16);
            std::memcpy(ip + 24, kMasq6.data(), 16);
        }
        hdr = 54;
        return ip + 40;
    }

    // The TCP/UDP/ICMPv6 pseudo-header sum of the packet whose IP header is at ip.
    static uint32_t pseudo(const uint8_t* ip, bool v6, uint8_t proto, uint32_t l4len) {
        uint32_t s = v6 ? sum16(ip + 8, 32) : sum16(ip + 12, 8);
        return s + proto + (l4len >> 16) + (l4len & 0xFFFF);
    }

    const uint8_t* payload(uint32_t len) { return payload_.data() + rng_.below(static_cast<uint32_t>(payload_.size() - len)); }

    void tcp(Conn& c, bool from_client, uint8_t flags, uint32_t len) {
        const bool syn = flags & kTcpSyn;
        const uint32_t opt = syn ? 8 : 0;  // MSS 1460, NOP, NOP, SACK permitted
        const uint32_t l4len = 20 + opt + len;
        uint8_t* f = file_.frame();
        uint32_t hdr = 0;
        uint8_t* t = l3(f, c, from_client, 6, l4len, hdr);
        put16(t, from_client ? c.cport : c.sport);
        put16(t + 2, from_client ? c.sport : c.cport);
        uint32_t& seq = from_client ? c.cseq : c.sseq;
        put32(t + 4, seq);
        put32(t + 8, (flags & kTcpAck) ? (from_client ? c.sseq : c.cseq) : 0);
        t[12] = static_cast<uint8_t>(((20 + opt) / 4) << 4);
        t[13] = flags;
        put16(t + 14, from_client ? 64240 : 65160);
        put16(t + 16, 0);
        put16(t + 18, 0);
        if (syn) {
            static constexpr uint8_t o[8] = {2, 4, 0x05, 0xb4, 1, 1, 4, 2};
            std::memcpy(t + 20, o, 8);
        }
        if (len) std::memcpy(t + 20 + opt, payload(len), len);
        put16(t + 16, fold(sum16(t, l4len, pseudo(f + 14, c.v6, 6, l4len))));
        seq += len + (syn ? 1 : 0) + ((flags & kTcpFin) ? 1 : 0);
        finish(c, from_client, hdr + l4len);
    }

    void udp(Conn& c, bool from_client, uint32_t len) {
        const uint32_t l4len = 8 + len;
        uint8_t* f = file_.frame();
        uint32_t hdr = 0;
        uint8_t* u = l3(f, c, from_client, 17, l4len, hdr);
        put16(u, from_client ? c.cport : c.sport);
        put16(u + 2, from_client ? c.sport : c.cport);
        put16(u + 4, l4len);
        put16(u + 6, 0);
        std::memcpy(u + 8, payload(len), len);
        uint16_t ck = fold(sum16(u, l4len, pseudo(f + 14, c.v6, 17, l4len)));
        put16(u + 6, ck ? ck : 0xFFFF);  // 0 means "no checksum" in UDP over IPv4
        finish(c, from_client, hdr + l4len);
    }

    void icmp(Conn& c, bool request) {
        const uint32_t len = 56, l4len = 8 + len;  // as ping(8) sends
        const uint8_t proto = c.v6 ? 58 : 1;
        uint8_t* f = file_.frame();
        uint32_t hdr = 0;
        uint8_t* m = l3(f, c, request, proto, l4len, hdr);
        m[0] = c.v6 ? (request ? 128 : 129) : (request ? 8 : 0);
        m[1] = 0;
        put16(m + 2, 0);
        put16(m + 4, c.cport);
        put16(m + 6, c.seq16);
        // A reply echoes the request's data; any fixed bytes per sequence do.
        std::memcpy(m + 8, payload_.data() + (c.id * 61 + c.seq16) % (payload_.size() - len), len);
        const uint32_t base = c.v6 ? pseudo(f + 14, true, proto, l4len) : 0;
        put16(m + 2, fold(sum16(m, l4len, base)));
        finish(c, request, hdr + l4len);
    }

    void finish(Conn& c, bool from_client, uint32_t frame_len) {
        (from_client ? c.ipid_c : c.ipid_s)++;
        file_.commit(kStartNs + now_ns_, frame_len);
        frame_bytes_ += frame_len;
    }

    // Response payload: mostly small, sometimes a full segment, for an
    // average frame of about 220 bytes over the whole mix.
    uint32_t resp_len() {
        const uint32_t r = rng_.below(100);
        return r < 78 ? rng_.range(40, 250) : r < 96 ? rng_.range(250, 800) : 1400;
    }

    void emit(Conn& c) {
        switch (c.step) {
        case Step::syn: tcp(c, true, kTcpSyn, 0); c.step = Step::synack; break;
        case Step::synack: tcp(c, false, kTcpSyn | kTcpAck, 0); c.step = Step::ack3; break;
        case Step::ack3: tcp(c, true, kTcpAck, 0); c.step = Step::req; break;
        case Step::req:
            tcp(c, true, kTcpPsh | kTcpAck, rng_.range(40, 250));
            c.segs = static_cast<uint8_t>(rng_.range(1, 3));
            c.step = Step::resp;
            break;
        case Step::resp:
            tcp(c, false, static_cast<uint8_t>(kTcpAck | (c.segs == 1 ? kTcpPsh : 0)), resp_len());
            if (--c.segs == 0) c.step = Step::rack;
            break;
        case Step::rack:
            tcp(c, true, kTcpAck, 0);
            if (--c.rounds) c.step = Step::req;
            else c.step = c.close_by == 2 ? Step::rst : Step::fin_a;
            break;
        case Step::fin_a: tcp(c, c.close_by == 0, kTcpFin | kTcpAck, 0); c.step = Step::fin_b; break;
        case Step::fin_b: tcp(c, c.close_by != 0, kTcpFin | kTcpAck, 0); c.step = Step::fin_c; break;
        case Step::fin_c: tcp(c, c.close_by == 0, kTcpAck, 0); c.step = Step::done; break;
        case Step::rst: tcp(c, true, kTcpRst | kTcpAck, 0); c.step = Step::done; break;
        case Step::query: udp(c, true, rng_.range(28, 60)); c.step = Step::answer; break;
        case Step::answer:
            udp(c, false, rng_.range(60, 400));
            c.step = --c.rounds ? Step::query : Step::done;
            break;
        case Step::echo: icmp(c, true); c.step = Step::echo_reply; break;
        case Step::echo_reply:
            icmp(c, false);
            ++c.seq16;
            c.step = --c.rounds ? Step::echo : Step::done;
            break;
        case Step::done: break;
        }
    }

    // A SYN from a random internet address to the router's WAN address: no
    // state is ever made for it (policy drop on input), so it exercises the
    // denied path and denied-flow aggregation.
    void flood() {
        uint8_t* f = file_.frame();
        std::memcpy(f, kRouterWanMac, 6);
        std::memcpy(f + 6, kUpstreamMac, 6);
        put16(f + 12, 0x0800);
        uint8_t* ip = f + 14;
        const uint64_t r = rng_.next();
        uint32_t src = static_cast<uint32_t>(r);
        const uint32_t a = src >> 24;
        // Keep sources public: no 0/8, 10/8, 127/8, 172/8, 192/8, 203/8, 224+.
        if (a == 0 || a == 10 || a == 127 || a == 172 || a == 192 || a == 203 || a >= 224)
            src = (src & 0x00FFFFFFu) | (45u << 24);
        ip[0] = 0x45; ip[1] = 0;
        put16(ip + 2, 40);
        put16(ip + 4, static_cast<uint32_t>(r >> 32));
        put16(ip + 6, 0);
        ip[8] = 240;
        ip[9] = 6;
        put16(ip + 10, 0);
        put32(ip + 12, src);
        put32(ip + 16, kMasq4);
        put16(ip + 10, fold(sum16(ip, 20)));
        uint8_t* t = ip + 20;
        put16(t, 1024 + static_cast<uint32_t>(r >> 48) % kPorts);
        put16(t + 2, (r >> 40) & 1 ? 443 : 80);
        put32(t + 4, static_cast<uint32_t>(rng_.next()));
        put32(t + 8, 0);
        t[12] = 0x50;
        t[13] = kTcpSyn;
        put16(t + 14, 1024);
        put16(t + 16, 0);
        put16(t + 18, 0);
        put16(t + 16, fold(sum16(t, 20, pseudo(ip, false, 6, 20))));
        file_.commit(kStartNs + now_ns_, 54);
        frame_bytes_ += 54;
    }

    Options o_;
    Rng rng_;
    PcapFile file_;
    std::vector<Conn> pool_;
    std::vector<uint32_t> order_;
    std::vector<uint8_t> payload_;
    uint64_t next_id_ = 0;
    uint64_t now_ns_ = 0;
    uint64_t step_ns_ = 10000;
    uint64_t frame_bytes_ = 0;
};

[[noreturn]] void usage(const char* msg) {
    std::fprintf(stderr,
                 "fwsim-gen: %s\n"
                 "usage: fwsim-gen --packets N --concurrent M --seed S [--syn-flood PCT] [--v6 PCT]\n"
                 "                 [--rate PPS] --out FILE.pcap\n",
                 msg);
    std::exit(2);
}

template <typename T>
T number(std::string_view name, std::string_view s) {
    T v{};
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size()) usage((std::string("bad value for ") + std::string(name)).c_str());
    return v;
}

Options parse(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string_view a = argv[i];
        if (a == "-h" || a == "--help") usage("writes a benchmark capture");
        if (i + 1 >= argc) usage((std::string("missing value after ") + argv[i]).c_str());
        const std::string_view v = argv[++i];
        if (a == "--packets") o.packets = number<uint64_t>(a, v);
        else if (a == "--concurrent") o.concurrent = number<uint64_t>(a, v);
        else if (a == "--seed") o.seed = number<uint64_t>(a, v);
        else if (a == "--syn-flood") o.syn_flood = number<double>(a, v);
        else if (a == "--v6") o.v6 = number<double>(a, v);
        else if (a == "--rate") o.rate = number<double>(a, v);
        else if (a == "--out") o.out = std::string(v);
        else usage((std::string("unknown option ") + std::string(a)).c_str());
    }
    if (o.out.empty()) usage("--out is required");
    if (o.concurrent == 0 || o.concurrent > (1u << 26)) usage("--concurrent must be in 1..67108864");
    if (o.syn_flood < 0 || o.syn_flood >= 100 || o.v6 < 0 || o.v6 > 100) usage("percentages must be in 0..100");
    if (o.rate <= 0) usage("--rate must be positive");
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    const Options o = parse(argc, argv);
    const auto t0 = std::chrono::steady_clock::now();
    Generator g(o);
    g.run();
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::fprintf(stderr,
                 "fwsim-gen: %llu packets, %llu connections, %.1f bytes/frame, %.1f s of capture, "
                 "%.1f MB written in %.2f s\n",
                 static_cast<unsigned long long>(o.packets), static_cast<unsigned long long>(g.connections()),
                 o.packets ? static_cast<double>(g.frame_bytes()) / static_cast<double>(o.packets) : 0.0,
                 g.seconds(), static_cast<double>(g.bytes()) / 1e6, wall);
    return 0;
}
