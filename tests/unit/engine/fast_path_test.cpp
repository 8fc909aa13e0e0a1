// The walk's short cuts for the common packet (engine.cpp: the packet copy
// without its error text, NAT's changes compared only when NAT rewrote a
// field, one loop over a packet's plans with the routing decision as a step,
// NAT steps per manip reading the entry's status from the context, the
// connection's original tuple built only for a ruleset that may `ct count`)
// must not change a record: these check the records of NATed and plain connections,
// prepared (as the replay prepares every packet) and not, field by field.

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "fwsim/decode/decoder.hpp"
#include "fwsim/engine/engine.hpp"
#include "frames.hpp"
#include "harness.hpp"
#include "io/load/ruleset_loader.hpp"

using namespace fwsim;

namespace {

using test::ACK;
using test::SYN;
using test::tcp4;
using test::udp4;

// What a sink can read of a verdict record (the packet pointer aside).
struct Seen {
    Verdict verdict;
    Reason reason;
    uint16_t iif, oif;
    bool has_hook;
    Hook hook;
    bool has_ct;
    uint32_t ct_id;
    CtDir ct_dir;
    CtState ct_state;
    bool has_tcp_state;
    TcpState tcp_state;
    uint32_t rule, chain;
    bool nat_src, nat_dst, nat_sport, nat_dport, nat_inner;
    std::string new_src, new_dst;
    uint16_t new_sport, new_dport;
    bool operator==(const Seen&) const = default;
};

class Collect final : public EngineObserver {
public:
    void on_packet(const PacketRecord& r) override {
        const Family f = r.pkt->family;
        recs.push_back({r.verdict, r.reason, r.iif, r.oif, r.has_hook, r.hook, r.has_ct, r.ct_id, r.ct_dir,
                        r.ct_state, r.has_tcp_state, r.tcp_state, r.rule, r.chain, r.nat.src, r.nat.dst,
                        r.nat.sport, r.nat.dport, r.nat.inner, r.nat.src ? to_string(f, r.nat.new_src) : "",
                        r.nat.dst ? to_string(f, r.nat.new_dst) : "", r.nat.new_sport, r.nat.new_dport});
    }
    void on_flow(const FlowRecord&) override {}
    void on_stats(const TableStats&) override {}
    std::vector<Seen> recs;
};

// A home router: masquerade out of wan0, a port forward to a LAN server and
// one to the router itself; forward lets LAN out, and the forwarded ports in.
const char* kRules = R"(table ip nat {
	chain pre {
		type nat hook prerouting priority -100; policy accept;
		iifname "wan0" tcp dport 8080 dnat to 192.168.1.50:80
		iifname "wan0" tcp dport 2222 dnat to 192.168.1.1:22
	}
	chain post {
		type nat hook postrouting priority 100; policy accept;
		oifname "wan0" masquerade
	}
}
table inet filter {
	chain fwd {
		type filter hook forward priority 0; policy drop;
		ct state established,related accept
		iifname "lan0" accept
		ct status dnat accept
	}
	chain in {
		type filter hook input priority 0; policy drop;
		ct state established,related accept
		tcp dport 22 accept
	}
})";

// Prepared (as the replay does) or not, on kRules or another ruleset.
struct Harness : test::EngineHarness<Collect> {
    explicit Harness(bool prepared, const char* rules = kRules) : EngineHarness(rules, prepared) {}
};

const char* kLan = "192.168.1.10";
const char* kLanSrv = "192.168.1.50";
const char* kSrv = "198.51.100.20";
const char* kWan = "203.0.113.1";  // the router's WAN address
const char* kRemote = "198.51.100.77";

// A connection out through masquerade, one in through each port forward, a
// UDP exchange, and a packet NAT leaves alone (LAN to the router's input).
std::vector<std::vector<uint8_t>> traffic() {
    return {
        tcp4(kLan, kSrv, 40000, 443, SYN, 1000),
        tcp4(kSrv, kWan, 443, 40000, SYN | ACK, 7000, 1001),
        tcp4(kLan, kSrv, 40000, 443, ACK, 1001, 7001),
        tcp4(kLan, kSrv, 40000, 443, ACK, 1001, 7001, 100),
        tcp4(kSrv, kWan, 443, 40000, ACK, 7001, 1101, 200),
        tcp4(kRemote, kWan, 50000, 8080, SYN, 3000),
        tcp4(kLanSrv, kRemote, 80, 50000, SYN | ACK, 9000, 3001),
        tcp4(kRemote, kWan, 50000, 8080, ACK, 3001, 9001),
        tcp4(kRemote, kWan, 50001, 2222, SYN, 4000),
        tcp4(kWan, kRemote, 22, 50001, SYN | ACK, 8000, 4001),
        tcp4(kRemote, kWan, 50001, 2222, ACK, 4001, 8001),
        udp4(kLan, kSrv, 5353, 53),
        udp4(kSrv, kWan, 53, 5353),
        tcp4(kLan, "192.168.1.1", 41000, 22, SYN, 100),
        tcp4(kRemote, kWan, 50002, 23, SYN, 100),  // dropped by input's policy
    };
}

}  // namespace

BOOST_AUTO_TEST_CASE(prepared_and_unprepared_packets_get_the_same_records) {
    Harness prepared(true), unprepared(false);
    for (const auto& f : traffic()) {
        const Seen& a = prepared.send(f);
        const Seen& b = unprepared.send(f);
        BOOST_TEST((a == b));
    }
}

BOOST_AUTO_TEST_CASE(masqueraded_packets_report_the_source_nat_each_way) {
    Harness h(true);
    const auto t = traffic();
    const Seen out = h.send(t[0]);
    BOOST_TEST((out.verdict == Verdict::accept));
    BOOST_TEST((out.hook == Hook::forward));
    BOOST_TEST(out.nat_src);
    BOOST_TEST(out.new_src == kWan);
    BOOST_TEST(!out.nat_dst);
    BOOST_TEST(!out.nat_sport);  // masquerade keeps a free port
    // The reply: de-masqueraded at prerouting, then routed by its new
    // destination (not the captured one, the router's own address).
    const Seen back = h.send(t[1]);
    BOOST_TEST((back.verdict == Verdict::accept));
    BOOST_TEST((back.ct_dir == CtDir::reply));
    BOOST_TEST((back.hook == Hook::forward));
    BOOST_TEST(back.oif == h.iface("lan0"));
    BOOST_TEST(back.nat_dst);
    BOOST_TEST(back.new_dst == kLan);
    BOOST_TEST(!back.nat_src);
    // Established packets of the connection, both ways: the same changes.
    h.send(t[2]);
    const Seen data = h.send(t[3]);
    BOOST_TEST((data.ct_state == CtState::established));
    BOOST_TEST(data.nat_src);
    BOOST_TEST(data.new_src == kWan);
    BOOST_TEST(data.oif == h.iface("wan0"));
    const Seen data_back = h.send(t[4]);
    BOOST_TEST(data_back.nat_dst);
    BOOST_TEST(data_back.new_dst == kLan);
    BOOST_TEST(data_back.oif == h.iface("lan0"));
}

BOOST_AUTO_TEST_CASE(a_port_forward_is_routed_by_its_new_destination) {
    Harness h(true);
    const auto t = traffic();
    for (size_t i = 0; i < 5; ++i) h.send(t[i]);
    const Seen in = h.send(t[5]);  // to the LAN server
    BOOST_TEST((in.verdict == Verdict::accept));
    BOOST_TEST((in.hook == Hook::forward));
    BOOST_TEST(in.oif == h.iface("lan0"));
    BOOST_TEST(in.nat_dst);
    BOOST_TEST(in.new_dst == kLanSrv);
    BOOST_TEST(in.nat_dport);
    BOOST_TEST(in.new_dport == 80);
    const Seen reply = h.send(t[6]);  // the server's answer leaves as from the router's port 8080
    BOOST_TEST((reply.verdict == Verdict::accept));
    BOOST_TEST(reply.nat_src);
    BOOST_TEST(reply.new_src == kWan);
    BOOST_TEST(reply.nat_sport);
    BOOST_TEST(reply.new_sport == 8080);
    BOOST_TEST(reply.oif == h.iface("wan0"));
    h.send(t[7]);
    const Seen local = h.send(t[8]);  // to the router itself: the input hook after DNAT
    BOOST_TEST((local.verdict == Verdict::accept));
    BOOST_TEST((local.hook == Hook::input));
    BOOST_TEST(local.nat_dst);
    BOOST_TEST(local.new_dst == "192.168.1.1");  // the router's LAN address: local, not the captured one
    BOOST_TEST(local.nat_dport);
    BOOST_TEST(local.new_dport == 22);
}

BOOST_AUTO_TEST_CASE(packets_nat_leaves_alone_report_no_nat_change) {
    Harness h(true);
    const auto t = traffic();
    for (size_t i = 0; i < 13; ++i) h.send(t[i]);
    const Seen to_router = h.send(t[13]);  // LAN to the router's ssh: no NAT applies
    BOOST_TEST((to_router.hook == Hook::input));
    BOOST_TEST((to_router.verdict == Verdict::accept));
    BOOST_TEST(!(to_router.nat_src || to_router.nat_dst || to_router.nat_sport || to_router.nat_dport));
    const Seen dropped = h.send(t[14]);
    BOOST_TEST((dropped.verdict == Verdict::drop));
    BOOST_TEST((dropped.reason == Reason::policy));
    BOOST_TEST((dropped.hook == Hook::input));
    BOOST_TEST(!(dropped.nat_src || dropped.nat_dst || dropped.nat_sport || dropped.nat_dport));
}

BOOST_AUTO_TEST_CASE(ct_count_counts_a_reply_packet_as_its_connection) {
    // `ct count` keys a packet by its connection's original tuple (the walk
    // builds it only for rulesets that may count): the server's reply is the
    // connection already counted, not a second one.
    Harness h(true, R"(table inet filter {
	chain fwd {
		type filter hook forward priority 0; policy accept;
		ct count over 1 drop
	}
})");
    const Seen out = h.send(tcp4(kLan, kSrv, 40000, 443, SYN, 1000));
    BOOST_TEST((out.verdict == Verdict::accept));
    const Seen back = h.send(tcp4(kSrv, kLan, 443, 40000, SYN | ACK, 7000, 1001));
    BOOST_TEST((back.ct_dir == CtDir::reply));
    BOOST_TEST((back.verdict == Verdict::accept));
    const Seen second = h.send(tcp4(kLan, kSrv, 40001, 443, SYN, 2000));  // a second connection: over 1
    BOOST_TEST((second.verdict == Verdict::drop));
}
