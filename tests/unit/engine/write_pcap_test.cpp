#define BOOST_TEST_MODULE engine
#include <boost/test/unit_test.hpp>

// --write-pcap: the packets as they leave the firewall must be valid packets
// (every checksum right after NAT), carry exactly the fields the verdict
// records say NAT wrote, and have TTL / hop limit decremented when forwarded
// (ip_forward() / ip6_forward()). The pipeline is wired as src/cli/common.cpp
// feed() does: PcapReader -> decode_frame -> Engine -> Outputs.

#include <cstdio>
#include <string>
#include <vector>

#include "fwsim/decode/decoder.hpp"
#include "fwsim/engine/engine.hpp"
#include "io/load/ruleset_loader.hpp"
#include "io/output/sinks.hpp"
#include "io/pcap/pcap_reader.hpp"

using namespace fwsim;

namespace {

const std::string kCapture = std::string(FWSIM_SOURCE_DIR) + "/tests/unit/engine/nat_mix.pcap";

// Home router plus a DNAT port forward (TCP 8080 -> 192.168.1.50:80, UDP
// 5353 -> 192.168.1.50:53); masquerade on wan0 for IPv4 and IPv6.
const char* kRules = R"(
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		ct state invalid drop
		ct state established,related accept
		iifname "lan0" accept
	}
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state invalid drop
		ct state established,related accept
		iifname "lan0" accept
		iifname "wan0" ip daddr 192.168.1.50 accept
	}
}
table ip nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "wan0" tcp dport 8080 dnat to 192.168.1.50:80
		iifname "wan0" udp dport 5353 dnat to 192.168.1.50:53
	}
}
table inet nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" masquerade
	}
}
)";

// What the test keeps of each verdict record and of the packet as captured.
struct Seen {
    uint64_t index = 0;
    Verdict verdict = Verdict::drop;
    bool forwarded = false;
    NatChange nat;
    Family family = Family::none;
    uint8_t l4proto = 0, ttl = 0, icmp_type = 0;
    IpAddr src, dst;
    uint16_t sport = 0, dport = 0, icmp_id = 0;
    InnerHeader inner;
    std::vector<uint8_t> frame;
};

// Records every verdict, then hands it on to the real sinks.
class Tee final : public EngineObserver {
public:
    explicit Tee(Outputs& out) : out_(out) {}
    void on_packet(const PacketRecord& r) override {
        const Packet& p = *r.pkt;
        Seen s;
        s.index = p.index;
        s.verdict = r.verdict;
        s.forwarded = r.verdict == Verdict::accept && r.has_hook && r.hook == Hook::forward;
        s.nat = r.nat;
        s.family = p.family;
        s.l4proto = p.l4proto;
        s.ttl = p.ttl;
        s.icmp_type = p.icmp_type;
        s.src = p.src;
        s.dst = p.dst;
        s.sport = p.sport;
        s.dport = p.dport;
        s.icmp_id = p.icmp_id;
        s.inner = p.inner;
        s.frame.assign(p.frame.begin(), p.frame.end());
        seen.push_back(s);
        out_.on_packet(r);
    }
    void on_flow(const FlowRecord& f) override { out_.on_flow(f); }
    void on_stats(const TableStats& s) override { out_.on_stats(s); }
    std::vector<Seen> seen;

private:
    Outputs& out_;
};

// An independent RFC 1071 sum (the test does not trust fwsim's checksum code).
uint32_t sum(const uint8_t* p, size_t n, uint32_t s = 0) {
    for (size_t i = 0; i + 1 < n; i += 2) s += uint32_t(p[i]) << 8 | p[i + 1];
    if (n & 1) s += uint32_t(p[n - 1]) << 8;
    return s;
}
uint16_t fold(uint32_t s) {
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return uint16_t(~s);
}

// Transport checksum over the pseudo header (not for ICMPv4, which has none).
bool l4_sum_ok(const Packet& q) {
    const uint8_t* l4 = q.frame.data() + q.l4_offset;
    const size_t alen = q.family == Family::ipv4 ? 4 : 16;
    uint32_t s = 0;
    if (q.l4proto != proto::icmp) {
        s = sum(q.src.b.data(), alen, s);
        s = sum(q.dst.b.data(), alen, s);
        s += q.l4proto;
        s += q.l4_len & 0xffff;
        s += q.l4_len >> 16;
    }
    if (q.l4proto == proto::udp && q.family == Family::ipv4 && l4[6] == 0 && l4[7] == 0) return true;
    return fold(sum(l4, q.l4_len, s)) == 0;
}

struct Run {
    std::vector<Seen> in;
    std::vector<std::vector<uint8_t>> out_frames;
    int out_linktype = 0;
};

Run run_write_pcap() {
    const Config cfg;
    const Topology topo = Topology::home_router();
    const auto names = topo.names();
    const rules::Ruleset rs = load_ruleset_text("write_pcap_test.nft", kRules, names);
    const std::string out_path = std::string(FWSIM_BINARY_DIR) + "/write_pcap_test.out.pcap";
    std::remove(out_path.c_str());

    OutputOptions opt;
    opt.write_pcap = out_path;
    Run run;
    {
        PcapReader reader(kCapture);
        opt.linktype = reader.linktype();
        opt.ts_digits = reader.ts_digits();
        Outputs outputs(opt, cfg, rs, topo);
        Tee tee(outputs);
        Engine engine(cfg, topo, rs, tee);
        RawRecord rec;
        Packet p;
        while (reader.next(rec)) {
            p = Packet{};
            p.index = rec.index;
            p.ts = rec.ts;
            p.wire_len = rec.wire_len;
            p.cap_len = uint32_t(rec.data.size());
            decode_frame(reader.linktype(), rec.data, p);
            engine.process(p);
        }
        BOOST_REQUIRE(reader.error().empty());
        engine.finish();
        RunInfo info;
        info.capture_path = kCapture;
        outputs.commit(info, engine.rule_state());
        run.in = std::move(tee.seen);
    }
    PcapReader written(out_path);
    run.out_linktype = written.linktype();
    RawRecord rec;
    while (written.next(rec)) run.out_frames.emplace_back(rec.data.begin(), rec.data.end());
    std::remove(out_path.c_str());
    return run;
}

const Run& the_run() {
    static const Run r = run_write_pcap();
    return r;
}

Packet decode(const std::vector<uint8_t>& frame, int linktype) {
    Packet q;
    q.wire_len = q.cap_len = uint32_t(frame.size());
    decode_frame(linktype, frame, q);
    return q;
}

IpAddr addr(const char* text) {
    Family f;
    return *parse_addr(text, &f);
}

}  // namespace

BOOST_AUTO_TEST_CASE(every_packet_is_written_once_in_capture_order) {
    const Run& r = the_run();
    BOOST_TEST(r.in.size() == 18u);
    BOOST_TEST(r.out_frames.size() == r.in.size());
    for (size_t i = 0; i < r.in.size(); ++i) BOOST_TEST(r.in[i].index == i + 1);
}

BOOST_AUTO_TEST_CASE(written_packets_have_valid_ip_and_transport_checksums) {
    const Run& r = the_run();
    for (size_t i = 0; i < r.out_frames.size(); ++i) {
        const Packet q = decode(r.out_frames[i], r.out_linktype);
        BOOST_TEST_CONTEXT("packet " << i + 1) {
            BOOST_TEST_REQUIRE(q.ok());
            if (q.family == Family::ipv4) {
                const uint8_t* ip = q.frame.data() + q.l3_offset;
                BOOST_TEST(fold(sum(ip, q.ip_hdr_len)) == 0);
            }
            BOOST_TEST(l4_checksum_ok(q));
            BOOST_TEST(l4_sum_ok(q));
        }
    }
}

BOOST_AUTO_TEST_CASE(nat_rewrote_exactly_the_fields_the_verdict_records_name) {
    const Run& r = the_run();
    int natted = 0;
    for (size_t i = 0; i < r.out_frames.size(); ++i) {
        const Seen& s = r.in[i];
        const Packet q = decode(r.out_frames[i], r.out_linktype);
        BOOST_TEST_CONTEXT("packet " << s.index) {
            BOOST_TEST_REQUIRE(q.ok());
            if (s.nat.any()) ++natted;
            BOOST_TEST((q.src == (s.nat.src ? s.nat.new_src : s.src)));
            BOOST_TEST((q.dst == (s.nat.dst ? s.nat.new_dst : s.dst)));
            const bool echo = (s.l4proto == proto::icmp && (s.icmp_type == 8 || s.icmp_type == 0)) ||
                              (s.l4proto == proto::icmpv6 && (s.icmp_type == 128 || s.icmp_type == 129));
            if (echo) {
                BOOST_TEST(q.icmp_id == (s.nat.sport ? s.nat.new_sport : s.icmp_id));
            } else if (!q.is_icmp()) {
                BOOST_TEST(q.sport == (s.nat.sport ? s.nat.new_sport : s.sport));
                BOOST_TEST(q.dport == (s.nat.dport ? s.nat.new_dport : s.dport));
            }
        }
    }
    // masquerade v4 (TCP, UDP, ICMP), NAT66 (TCP, UDP, ICMPv6), DNAT and their replies
    BOOST_TEST(natted >= 14);
}

BOOST_AUTO_TEST_CASE(expected_nat_results_for_known_packets) {
    const Run& r = the_run();
    auto out = [&](size_t index) { return decode(r.out_frames.at(index - 1), r.out_linktype); };
    BOOST_TEST((out(1).src == addr("203.0.113.1")));           // masquerade keeps the port
    BOOST_TEST(out(1).sport == 40000);
    BOOST_TEST((out(2).dst == addr("192.168.1.10")));          // reply de-NATed
    BOOST_TEST(out(3).sport != 40000);                         // clash: another port
    BOOST_TEST(uint16_t(out(6).frame[out(6).l4_offset + 6] << 8 | out(6).frame[out(6).l4_offset + 7]) == 0);
    BOOST_TEST((out(10).src == addr("2001:db8:ffff::1")));     // NAT66
    BOOST_TEST((out(14).dst == addr("fd00::10")));
    BOOST_TEST((out(15).dst == addr("192.168.1.50")));         // DNAT
    BOOST_TEST(out(15).dport == 80);
    BOOST_TEST((out(16).src == addr("203.0.113.1")));          // DNAT reply
    BOOST_TEST(out(16).sport == 8080);
    BOOST_TEST(out(17).dport == 53);
    BOOST_TEST((r.out_frames[17] == r.in[17].frame));          // dropped: as captured
}

BOOST_AUTO_TEST_CASE(forwarded_packets_have_ttl_decremented_others_not) {
    const Run& r = the_run();
    int forwarded = 0;
    for (size_t i = 0; i < r.out_frames.size(); ++i) {
        const Seen& s = r.in[i];
        const Packet q = decode(r.out_frames[i], r.out_linktype);
        BOOST_TEST_CONTEXT("packet " << s.index) {
            if (s.forwarded) {
                ++forwarded;
                BOOST_TEST(int(q.ttl) == int(s.ttl) - 1);
            } else {
                BOOST_TEST(int(q.ttl) == int(s.ttl));
            }
        }
    }
    BOOST_TEST(forwarded == 17);
}

// The kernel (nf_nat_icmp_reply_translation() in net/netfilter/nf_nat_proto.c)
// translates the packet an ICMP error quotes as well: the port unreachable
// for the masqueraded DNS query reaches the LAN host quoting
// 192.168.1.10:53000 -> 9.9.9.9:53 (kernel-replay shows the same, see
// tests/scenarios/icmp_port_unreachable_related/kernel.jsonl), with the inner
// IPv4 header checksum fixed.
BOOST_AUTO_TEST_CASE(related_icmp_error_quotes_the_translated_packet) {
    const Run& r = the_run();
    const Packet q = decode(r.out_frames.at(8), r.out_linktype);
    BOOST_TEST_REQUIRE(q.ok());
    BOOST_TEST_REQUIRE(q.inner.present);
    BOOST_TEST((q.dst == addr("192.168.1.10")));
    BOOST_TEST((q.inner.src == addr("192.168.1.10")));
    BOOST_TEST(q.inner.sport == 53000);
    BOOST_TEST((q.inner.dst == addr("9.9.9.9")));
    // the quoted IPv4 header (right after the 8-byte ICMP header) sums to zero
    const uint8_t* inner_ip = q.frame.data() + q.l4_offset + 8;
    BOOST_TEST(fold(sum(inner_ip, size_t(inner_ip[0] & 0x0f) * 4)) == 0);
}
