// Shards (--threads N >= 3): N engines over one capture, merged, must report
// exactly what one engine reports: every verdict record, flow record and
// statistics record, the table's peak and the rule counters. Where they
// cannot (a full table, IP fragments, a NAT binding that moves a connection
// to another key), the merge must say so instead of reporting something else.
// The threads of the real run (cli/common.cpp feed_sharded) are left out
// here: each shard runs each batch in turn, then the merge.

#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <deque>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "../splitmix.hpp"
#include "frames.hpp"
#include "fwsim/decode/decoder.hpp"
#include "fwsim/engine/shards.hpp"
#include "io/load/ruleset_loader.hpp"
#include "io/pcap/pcap_reader.hpp"

using namespace fwsim;
using namespace fwsim::test;

namespace {

std::string addr(const IpAddr& a, Family f) { return to_string(f, a); }
std::string tuple(const Tuple& t) {
    return addr(t.src, t.family) + ":" + std::to_string(t.sport) + ">" + addr(t.dst, t.family) + ":" +
           std::to_string(t.dport) + "/" + std::to_string(t.proto);
}

// Every field of every record, as text, in the order reported.
class Record final : public EngineObserver {
public:
    void on_packet(const PacketRecord& r) override {
        std::ostringstream o;
        o << "P " << r.pkt->index << " " << to_string(r.verdict) << " " << int(r.reason) << " if" << r.iif << ">"
          << r.oif << " h" << r.has_hook << int(r.hook) << " ct" << r.has_ct << " id" << r.ct_id << " d"
          << int(r.ct_dir) << " s" << int(r.ct_state) << " t" << r.has_tcp_state << int(r.tcp_state) << " r"
          << r.rule << " c" << r.chain << " dg" << r.datagram << " logs" << int(r.log_count);
        const NatChange& n = r.nat;
        if (n.src) o << " nsrc " << addr(n.new_src, r.pkt->family);
        if (n.dst) o << " ndst " << addr(n.new_dst, r.pkt->family);
        if (n.sport) o << " nsport " << n.new_sport;
        if (n.dport) o << " ndport " << n.new_dport;
        if (n.inner) o << " inner " << tuple(n.inner_from) << " " << tuple(n.inner_to);
        lines.push_back(o.str());
    }
    void on_flow(const FlowRecord& f) override {
        std::ostringstream o;
        o << "F " << f.id << " " << tuple(f.orig) << " " << (f.has_reply ? tuple(f.reply) : "-") << " "
          << f.first_ts << "-" << f.last_ts << " " << f.orig_pkts << "/" << f.orig_bytes << " " << f.reply_pkts
          << "/" << f.reply_bytes << " " << to_string(f.verdict) << " " << int(f.reason) << " t"
          << f.has_tcp_state << int(f.tcp_state) << " a" << f.assured << " s" << f.status << " m" << f.mark
          << " " << to_string(f.end) << "@" << f.end_ts << " r" << f.rule;
        lines.push_back(o.str());
    }
    void on_stats(const TableStats& s) override {
        std::ostringstream o;
        o << "S " << s.ts << " " << s.ct_entries << "/" << s.ct_max;
        for (uint64_t v : s.by_proto) o << " " << v;
        for (uint64_t v : s.by_tcp_state) o << " " << v;
        o << " " << s.new_ << " " << s.destroyed << " " << s.expired << " " << s.early_drop << " "
          << s.insert_failed << " " << s.table_full_drops << " " << s.nat_bindings << " " << s.nat_port_exhausted;
        lines.push_back(o.str());
    }
    std::vector<std::string> lines;
};

struct Setup {
    Config cfg;
    Topology topo = Topology::home_router();
    rules::Ruleset rs;
    EngineOptions opt;
};

// The home router with masquerade, a DNAT port forward and a policy that
// drops what comes in uninvited (denied flows).
const char* kRules = R"(
table inet filter {
	chain forward {
		type filter hook forward priority filter; policy drop;
		ct state invalid drop
		ct state established,related accept
		iifname "lan0" accept
		iifname "wan0" ip daddr 192.168.1.50 tcp dport 80 accept
	}
	chain input {
		type filter hook input priority filter; policy drop;
		ct state established,related accept
		iifname "lan0" accept
	}
}
table ip nat {
	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		iifname "wan0" tcp dport 8080 dnat to 192.168.1.50:80
	}
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "wan0" masquerade
	}
}
)";

Setup home(const char* rules = kRules) {
    Setup s;
    s.rs = load_ruleset_text("test.nft", rules, s.topo.names());
    s.opt.stats = true;
    s.opt.stats_interval = kSecond / 2;
    return s;
}

struct Frame {
    Nanos ts;
    std::vector<uint8_t> bytes;
};

// Traffic with every kind of report in it: TCP connections from the LAN
// through masquerade (handshake, data, FIN or RST or left open), some pairs
// of clients with the same source port to the same server (masquerade must
// pick another port for the second), DNS over UDP, uninvited SYNs from the
// internet (denied flows), a port forward, and gaps in time long enough for
// UDP and unanswered entries to time out (flows ending between packets,
// statistics intervals with no packet).
std::vector<Frame> traffic(uint64_t seed) {
    Rng rng{seed};
    std::vector<Frame> out;
    Nanos t = 1700000000 * kSecond;
    auto at = [&](std::vector<uint8_t> b) {
        t += Nanos(rng.below(40)) * kSecond / 1000;
        out.push_back({t, std::move(b)});
    };
    const char* servers[] = {"198.51.100.1", "198.51.100.2", "203.0.113.77", "192.0.2.9"};
    struct Tcp {
        std::string c, s;
        uint16_t cp, sp;
        uint32_t cseq, sseq;
        int step = 0, rounds = 0;
        int close = 0;  // 0 FIN, 1 RST, 2 left open
    };
    std::vector<Tcp> open;
    int next_client = 0;
    for (int round = 0; round < 700; ++round) {
        const uint64_t what = rng.below(100);
        if (what < 25 || open.empty()) {  // a new TCP connection (sometimes with a clashing source port)
            Tcp c;
            c.c = "192.168.1." + std::to_string(10 + next_client % 40);
            c.s = servers[rng.below(4)];
            c.cp = uint16_t(rng.below(10) == 0 ? 40000 : 30000 + next_client);
            c.sp = rng.below(2) ? 443 : 80;
            c.cseq = uint32_t(rng.next());
            c.sseq = uint32_t(rng.next());
            c.rounds = int(rng.below(4));
            c.close = int(rng.below(3));
            ++next_client;
            open.push_back(c);
        } else if (what < 35) {  // DNS
            const std::string c = "192.168.1." + std::to_string(10 + rng.below(40));
            const uint16_t port = uint16_t(50000 + rng.below(2000));
            at(udp4(c.c_str(), "9.9.9.9", port, 53));
            if (rng.below(4)) at(udp4("9.9.9.9", "203.0.113.1", 53, port, 40));
        } else if (what < 40) {  // uninvited, sometimes retried
            const std::string x = "100.64.0." + std::to_string(rng.below(200));
            const uint16_t port = uint16_t(1024 + rng.below(60000));
            for (int k = 0, n = 1 + int(rng.below(2)); k < n; ++k)
                at(tcp4(x.c_str(), "203.0.113.1", port, 22, SYN, 7));
        } else if (what < 43) {  // the port forward
            const std::string x = "100.64.1." + std::to_string(rng.below(50));
            const uint16_t port = uint16_t(2000 + rng.below(1000));
            at(tcp4(x.c_str(), "203.0.113.1", port, 8080, SYN, 100));
            at(tcp4("192.168.1.50", x.c_str(), 80, port, SYN | ACK, 900, 101));
        } else if (what < 45) {  // time passes: UDP (30 s) and unanswered entries time out
            t += Nanos(20 + rng.below(50)) * kSecond;
        } else {  // the next step of an open connection
            const size_t k = size_t(rng.below(int(open.size())));
            Tcp& c = open[k];
            const char* cl = c.c.c_str();
            const char* sv = c.s.c_str();
            switch (c.step) {
                case 0: at(tcp4(cl, sv, c.cp, c.sp, SYN, c.cseq)); break;
                case 1: at(tcp4(sv, "203.0.113.1", c.sp, c.cp, SYN | ACK, c.sseq, c.cseq + 1)); break;
                case 2: at(tcp4(cl, sv, c.cp, c.sp, ACK, c.cseq + 1, c.sseq + 1)); break;
                default:
                    if (c.step - 3 < c.rounds) {
                        at(tcp4(cl, sv, c.cp, c.sp, PSH | ACK, c.cseq + 1, c.sseq + 1, 10));
                        c.cseq += 10;
                        at(tcp4(sv, "203.0.113.1", c.sp, c.cp, PSH | ACK, c.sseq + 1, c.cseq + 1, 30));
                        c.sseq += 30;
                    } else if (c.close == 0) {
                        at(tcp4(cl, sv, c.cp, c.sp, FIN | ACK, c.cseq + 1, c.sseq + 1));
                        at(tcp4(sv, "203.0.113.1", c.sp, c.cp, FIN | ACK, c.sseq + 1, c.cseq + 2));
                        at(tcp4(cl, sv, c.cp, c.sp, ACK, c.cseq + 2, c.sseq + 2));
                        open.erase(open.begin() + long(k));
                        continue;
                    } else if (c.close == 1) {
                        at(tcp4(cl, sv, c.cp, c.sp, RST, c.cseq + 1));
                        open.erase(open.begin() + long(k));
                        continue;
                    }
            }
            ++c.step;
        }
    }
    return out;
}

// Decoded packets with the frames they point into.
struct Capture {
    std::vector<std::vector<uint8_t>> frames;
    std::vector<Packet> pkts;
};

Capture decode(std::vector<Frame> frames, const Engine& e, int linktype = dlt::raw) {
    Capture c;
    c.pkts.resize(frames.size());
    for (size_t i = 0; i < frames.size(); ++i) {
        Packet& p = c.pkts[i];
        p.index = i + 1;
        p.ts = frames[i].ts;
        p.wire_len = p.cap_len = uint32_t(frames[i].bytes.size());
        c.frames.push_back(std::move(frames[i].bytes));  // the buffer does not move with it
        decode_frame(linktype, c.frames.back(), p);
        e.prepare(p);
    }
    return c;
}

Capture read_capture(const std::string& path, const Engine& e) {
    PcapReader reader(path);
    std::vector<Frame> frames;
    RawRecord r;
    while (reader.next(r)) frames.push_back({r.ts, {r.data.begin(), r.data.end()}});
    BOOST_REQUIRE(reader.error().empty());
    return decode(std::move(frames), e, reader.linktype());
}

struct Result {
    std::vector<std::string> lines;
    EnginePeak peak{};
    std::vector<uint64_t> hits;
    bool merged = true;
    std::string why;
};

std::vector<uint64_t> hits_of(const rules::RuntimeState& st) {
    std::vector<uint64_t> v;
    for (const auto& h : st.hits()) v.push_back(h.packets), v.push_back(h.bytes);
    return v;
}

Result one_engine(const Setup& s, const std::vector<Packet>& pkts) {
    Record rec;
    Engine e(s.cfg, s.topo, s.rs, rec, s.opt);
    for (const Packet& p : pkts) e.process(p);
    e.finish();
    return {rec.lines, e.peak(), hits_of(e.rule_state()), true, ""};
}

// As feed_sharded(), one thread: batches of `batch` packets.
Result sharded(const Setup& s, const std::vector<Packet>& pkts, size_t n, size_t batch) {
    Record rec;
    std::vector<std::unique_ptr<Shard>> shards;
    for (size_t k = 0; k < n; ++k) shards.push_back(std::make_unique<Shard>(s.cfg, s.topo, s.rs, s.opt));
    ShardMerger merger(s.cfg, s.opt.denied_flow_limit, n, true, rec);
    const ShardKeys keys(s.topo);
    std::vector<ShardOutput> outs(n);
    std::vector<ShardOutput*> view;
    for (ShardOutput& o : outs) view.push_back(&o);
    Result r;
    for (size_t at = 0; at < pkts.size() && r.merged; at += batch) {
        const std::span<const Packet> b(pkts.data() + at, std::min(batch, pkts.size() - at));
        std::vector<ShardSlot> slots;
        for (const Packet& p : b) slots.push_back({p.ts, uint16_t(keys.of(p) % n), p.ok() && p.is_fragment});
        for (size_t k = 0; k < n; ++k) {
            outs[k].clear();
            shards[k]->run(b, slots, uint16_t(k), outs[k]);
        }
        r.merged = merger.merge(b, slots, view);
    }
    if (r.merged) {
        // The end in chunks of 3 flows (Shard::finish()), merged from queues.
        std::vector<std::unique_ptr<ShardOutput>> pool;
        std::vector<std::deque<ShardOutput*>> chunks(n);
        for (size_t k = 0; k < n; ++k) {
            pool.push_back(std::make_unique<ShardOutput>());
            ShardOutput* last = shards[k]->finish(
                pool.back().get(),
                [&](ShardOutput* full) {
                    chunks[k].push_back(full);
                    pool.push_back(std::make_unique<ShardOutput>());
                    return pool.back().get();
                },
                3);
            chunks[k].push_back(last);
        }
        r.merged = merger.merge_end([&](size_t k) -> ShardOutput* {
            if (chunks[k].empty()) return nullptr;
            ShardOutput* c = chunks[k].front();
            chunks[k].pop_front();
            return c;
        });
    }
    r.why = merger.why();
    r.lines = rec.lines;
    r.peak = merger.peak();
    rules::RuntimeState counts = shards[0]->engine().rule_state();
    for (size_t k = 1; k < n; ++k) counts.add_counts(shards[k]->engine().rule_state());
    r.hits = hits_of(counts);
    return r;
}

void check_same(const Result& one, const Result& many) {
    BOOST_REQUIRE_MESSAGE(many.merged, many.why);
    BOOST_REQUIRE_EQUAL(one.lines.size(), many.lines.size());
    for (size_t i = 0; i < one.lines.size(); ++i) BOOST_REQUIRE_EQUAL(one.lines[i], many.lines[i]);
    BOOST_TEST(one.peak.entries == many.peak.entries);
    BOOST_TEST(one.peak.ts == many.peak.ts);
    BOOST_TEST(one.hits == many.hits, boost::test_tools::per_element());
}

size_t count(const std::vector<std::string>& lines, const std::string& part) {
    return size_t(std::count_if(lines.begin(), lines.end(),
                                [&](const std::string& l) { return l.find(part) != std::string::npos; }));
}

}  // namespace

BOOST_AUTO_TEST_CASE(shards_report_what_one_engine_reports) {
    const Setup s = home();
    Record sink;
    const Engine probe(s.cfg, s.topo, s.rs, sink);
    for (uint64_t seed : {1, 2, 3}) {
        const Capture cap = decode(traffic(seed), probe);
        const std::vector<Packet>& pkts = cap.pkts;
        const Result one = one_engine(s, pkts);
        // The traffic has what it is meant to have.
        BOOST_REQUIRE(count(one.lines, " nsport ") > 0);          // masquerade had to pick another port
        BOOST_REQUIRE(count(one.lines, " ndst ") > 0);            // the port forward
        BOOST_REQUIRE(count(one.lines, " timeout@") > 0);         // flows ending between packets
        BOOST_REQUIRE(count(one.lines, "F ") > 0 && count(one.lines, " drop ") > 0);
        BOOST_REQUIRE(count(one.lines, "S ") > 10);
        for (size_t n : {2, 3, 5})
            for (size_t batch : {size_t(1), size_t(7), size_t(256)}) {
                BOOST_TEST_CONTEXT("seed " << seed << ", " << n << " shards, batches of " << batch) {
                    check_same(one, sharded(s, pkts, n, batch));
                }
            }
    }
}

BOOST_AUTO_TEST_CASE(shards_report_what_one_engine_reports_on_the_bundled_captures) {
    const Setup s = home();
    Record sink;
    const Engine probe(s.cfg, s.topo, s.rs, sink);
    for (const char* cap : {"/captures/home-mixed.pcap", "/captures/malformed.pcap", "/tests/unit/engine/nat_mix.pcap"}) {
        const Capture c = read_capture(std::string(FWSIM_SOURCE_DIR) + cap, probe);
        const std::vector<Packet>& pkts = c.pkts;
        BOOST_REQUIRE(!pkts.empty());
        const Result one = one_engine(s, pkts);
        for (size_t n : {2, 4})
            BOOST_TEST_CONTEXT(cap << ", " << n << " shards") { check_same(one, sharded(s, pkts, n, 5)); }
    }
}

BOOST_AUTO_TEST_CASE(the_merge_gives_up_when_the_whole_table_reaches_ct_max) {
    Setup s = home();
    s.cfg.ct_max = 40;  // each shard alone stays below it
    Record sink;
    const Engine probe(s.cfg, s.topo, s.rs, sink);
    const Capture c = decode(traffic(1), probe);
    const Result r = sharded(s, c.pkts, 3, 64);
    BOOST_TEST(!r.merged);
    BOOST_TEST(r.why.find("ct.max (40)") != std::string::npos, r.why);
}

BOOST_AUTO_TEST_CASE(the_merge_gives_up_on_ip_fragments) {
    const Setup s = home();
    Record sink;
    const Engine probe(s.cfg, s.topo, s.rs, sink);
    const Capture c = read_capture(std::string(FWSIM_SOURCE_DIR) + "/captures/fragments.pcap", probe);
    const Result r = sharded(s, c.pkts, 2, 16);
    BOOST_TEST(!r.merged);
    BOOST_TEST(r.why.find("fragments") != std::string::npos, r.why);
}

BOOST_AUTO_TEST_CASE(a_nat_binding_that_changes_the_shard_key_is_caught) {
    // Masquerade between two networks of the same rank: the original
    // direction's key is a hash of both ends, the reply's the server's alone.
    Setup s;
    Interface lan0{"lan0", {*parse_prefix("10.0.0.1/24", true)}, {}, false, {}};
    Interface lan1{"lan1", {*parse_prefix("10.1.0.1/24", true)}, {}, false, {}};
    Interface wan0{"wan0", {*parse_prefix("203.0.113.1/24", true)}, {}, true, {}};
    s.topo = Topology({lan0, lan1, wan0}, {});
    s.rs = load_ruleset_text("test.nft", R"(
table ip nat {
	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "lan1" masquerade
	}
}
)", s.topo.names());
    Record sink;
    const Engine probe(s.cfg, s.topo, s.rs, sink);
    const Capture c = decode({{kSecond, tcp4("10.0.0.5", "10.1.0.7", 1000, 80, SYN, 1)}}, probe);
    const Result r = sharded(s, c.pkts, 2, 1);
    BOOST_TEST(!r.merged);
    BOOST_TEST(r.why.find("NAT binding") != std::string::npos, r.why);
}

BOOST_AUTO_TEST_CASE(both_directions_of_a_connection_get_one_key) {
    const Topology topo = Topology::home_router();
    const ShardKeys keys(topo);
    Record sink;
    const Setup s = home();
    const Engine probe(s.cfg, s.topo, s.rs, sink);
    auto key = [&](std::vector<uint8_t> frame) { return keys.of(decode({{kSecond, std::move(frame)}}, probe).pkts[0]); };
    // Masquerade: C:c -> S:s and S:s -> N:n share S:s, whatever n.
    const uint64_t out = key(tcp4("192.168.1.10", "198.51.100.1", 40000, 443, SYN, 1));
    BOOST_TEST(out == key(tcp4("198.51.100.1", "203.0.113.1", 443, 40000, SYN | ACK, 1, 2)));
    BOOST_TEST(out == key(tcp4("198.51.100.1", "203.0.113.1", 443, 1025, SYN | ACK, 1, 2)));
    BOOST_TEST(out != key(tcp4("192.168.1.10", "198.51.100.1", 40000, 444, SYN, 1)));
    // DNAT: X:x -> V:v and R:r -> X:x share X:x.
    const uint64_t in = key(tcp4("100.64.0.9", "203.0.113.1", 5555, 8080, SYN, 1));
    BOOST_TEST(in == key(tcp4("192.168.1.50", "100.64.0.9", 80, 5555, SYN | ACK, 1, 2)));
    // Between two hosts of the same rank: a symmetric hash of both ends.
    BOOST_TEST(key(udp4("192.168.1.10", "192.168.1.20", 1000, 53)) ==
               key(udp4("192.168.1.20", "192.168.1.10", 53, 1000)));
    BOOST_TEST(key(udp4("192.168.1.10", "192.168.1.20", 1000, 53)) !=
               key(udp4("192.168.1.10", "192.168.1.21", 1000, 53)));
}
