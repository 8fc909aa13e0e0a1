// Kernel-differential regression: captures replayed through the real Linux
// 6.18 conntrack with ../shared/oracle/kernel-replay (accept-all ruleset,
// the oracle's lan0/wan0 topology); the kernel's `ct state`/direction for
// every packet, and its final table, are stored next to the capture
// (data/*.expected). The captures are made by data/gen_kernel_ct*.py:
//   kernel-replay --rules accept.nft --topology topo.json --pcap kernel_ct.pcap --out k.jsonl
//   kernel-replay ... --pcap kernel_ct_timing.pcap --honour-gaps --sysctl <the keys below>
// Lines marked "known:" are documented differences and are not compared.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"
#include "fwsim/decode/decoder.hpp"

using namespace fwsim;
using namespace fwsim::test;

namespace {

std::string data_path(const char* name) {
    return std::string(FWSIM_SOURCE_DIR) + "/tests/unit/conntrack/data/" + name;
}

struct Record {
    Nanos ts;
    uint32_t wire_len;
    std::vector<uint8_t> bytes;
};

// Classic little-endian pcap (what scapy writes): enough for these files.
std::vector<Record> read_pcap(const std::string& path, int* dlt) {
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> b((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto u32 = [&b](size_t o) {
        return uint32_t(b[o]) | uint32_t(b[o + 1]) << 8 | uint32_t(b[o + 2]) << 16 |
               uint32_t(b[o + 3]) << 24;
    };
    std::vector<Record> out;
    BOOST_TEST_REQUIRE(b.size() >= 24u);
    BOOST_TEST_REQUIRE(u32(0) == 0xa1b2c3d4u);  // microsecond, little endian
    *dlt = int(u32(20));
    for (size_t o = 24; o + 16 <= b.size();) {
        const uint32_t incl = u32(o + 8);
        Record r;
        r.ts = Nanos(u32(o)) * kSecond + Nanos(u32(o + 4)) * 1000;
        r.wire_len = u32(o + 12);
        r.bytes.assign(b.begin() + long(o + 16), b.begin() + long(o + 16 + incl));
        out.push_back(std::move(r));
        o += 16 + incl;
    }
    return out;
}

struct Expect {
    uint64_t index;
    std::string state, dir;
    bool known;
};

std::vector<Expect> read_expected(const std::string& path) {
    std::ifstream in(path);
    std::vector<Expect> out;
    for (std::string line; std::getline(in, line);) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream ls(line);
        Expect e;
        std::string extra;
        ls >> e.index >> e.state >> e.dir >> extra;
        e.known = extra.rfind("known:", 0) == 0;
        out.push_back(e);
    }
    return out;
}

struct Null final : ct::Observer {
    void on_flow_end(const ct::FlowInfo&, ct::EndReason, Nanos) override {}
};

// Replays like the engine at prerouting: advance, in (checksum as the
// decoder says), confirm every new entry (the ruleset accepts everything).
void replay_and_compare(const char* pcap, const char* expected, ct::Table& t) {
    int dlt = 0;
    const auto recs = read_pcap(data_path(pcap), &dlt);
    const auto want = read_expected(data_path(expected));
    BOOST_TEST_REQUIRE(recs.size() == want.size());
    Null obs;
    for (size_t i = 0; i < recs.size(); ++i) {
        Packet p;
        p.index = i + 1;
        p.ts = recs[i].ts;
        p.wire_len = recs[i].wire_len;
        p.cap_len = uint32_t(recs[i].bytes.size());
        decode_frame(dlt, recs[i].bytes, p);
        t.advance(p.ts, obs);
        const ct::Result r = t.in(p, p.ts, l4_checksum_ok(p), obs);
        if (r.unconfirmed) t.confirm(r.entry, 0);
        if (want[i].known) continue;
        const std::string state(to_string(r.state));
        const bool no_dir = r.state == CtState::invalid || r.state == CtState::untracked;
        const std::string dir = no_dir ? "-" : std::string(to_string(r.dir));
        BOOST_TEST_CONTEXT("packet " << p.index) {
            BOOST_TEST(state == want[i].state);
            BOOST_TEST(dir == want[i].dir);
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(kernel_agrees_on_ct_state_of_every_packet) {
    Config cfg;
    ct::Table t(cfg);
    replay_and_compare("kernel_ct.pcap", "kernel_ct.expected", t);
}

BOOST_AUTO_TEST_CASE(kernel_agrees_on_the_final_table) {
    Config cfg;
    ct::Table t(cfg);
    replay_and_compare("kernel_ct.pcap", "kernel_ct.expected", t);
    // Our /proc lines, reduced to "l3 proto key state unreplied assured".
    std::set<std::string> got;
    std::istringstream dump(t.dump(0));
    for (std::string line; std::getline(dump, line);) {
        std::istringstream ls(line);
        std::vector<std::string> f{std::istream_iterator<std::string>(ls), {}};
        const std::string state = f[2] == "tcp" ? f[5] : "-";
        std::string key = "0";
        for (const auto& x : f) {
            if (x.rfind("sport=", 0) == 0 || x.rfind("id=", 0) == 0) {
                key = x.substr(x.find('=') + 1);
                break;
            }
        }
        const bool unreplied = line.find("[UNREPLIED]") != std::string::npos;
        const bool assured = line.find("[ASSURED]") != std::string::npos;
        got.insert(f[0] + " " + f[2] + " " + key + " " + state + " " + (unreplied ? "1" : "0") +
                   " " + (assured ? "1" : "0"));
    }
    std::set<std::string> want;
    std::ifstream in(data_path("kernel_ct.table.expected"));
    for (std::string line; std::getline(in, line);)
        if (!line.empty() && line[0] != '#') want.insert(line);
    BOOST_TEST(got == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(kernel_agrees_on_timeouts_and_udp_streams) {
    Config cfg;
    for (const char* kv : {"net.netfilter.nf_conntrack_udp_timeout=3",
                           "net.netfilter.nf_conntrack_udp_timeout_stream=6",
                           "net.netfilter.nf_conntrack_tcp_timeout_syn_sent=3",
                           "net.netfilter.nf_conntrack_icmp_timeout=3",
                           "net.netfilter.nf_conntrack_generic_timeout=3"}) {
        const std::string s(kv);
        const auto eq = s.find('=');
        BOOST_TEST_REQUIRE(set_config(cfg, s.substr(0, eq), s.substr(eq + 1)) == "");
    }
    ct::Table t(cfg);
    replay_and_compare("kernel_ct_timing.pcap", "kernel_ct_timing.expected", t);
}

// 2000 random but plausible segments on six connections (SYN/FIN/RST at odd
// times, wild sequence and ack numbers, zero windows, options):
// data/gen_kernel_ct_random.py 3 2000.
BOOST_AUTO_TEST_CASE(kernel_agrees_on_random_tcp_segments) {
    Config cfg;
    ct::Table t(cfg);
    replay_and_compare("kernel_ct_random.pcap", "kernel_ct_random.expected", t);
}

// A RST after a SYN we let through skips the window check only when it
// travels opposite to that SYN; after an ignored ACK, from either side.
BOOST_AUTO_TEST_CASE(kernel_agrees_on_rst_after_packets_let_through) {
    Config cfg;
    ct::Table t(cfg);
    replay_and_compare("kernel_ct_rst.pcap", "kernel_ct_rst.expected", t);
}

// UDP, ICMP queries and replies, ICMP errors quoting tracked and untracked
// flows, to and from either end or a router, GRE, IPv6:
// data/gen_kernel_ct_random_icmp.py 1 1500.
BOOST_AUTO_TEST_CASE(kernel_agrees_on_random_udp_icmp_and_icmp_errors) {
    Config cfg;
    ct::Table t(cfg);
    replay_and_compare("kernel_ct_random_icmp.pcap", "kernel_ct_random_icmp.expected", t);
}
