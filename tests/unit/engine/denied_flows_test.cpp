// DeniedFlows against a model: the straightforward std::map + std::set
// version it replaced (ordered by (deadline, id, tuple)), on random streams
// with repeated tuples, id 0 (table_full drops), a small limit (evictions),
// capture time that sometimes steps back, and expiry at random moments. Both
// must emit the same flow records in the same order.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "../../../src/core/engine/denied_flows.hpp"

using namespace fwsim;

namespace {

class Model {
public:
    Model(const Config& cfg, size_t limit) : cfg_(cfg), limit_(limit) {}
    Nanos timeout_of(uint8_t p) const {
        switch (p) {
            case proto::tcp: return Nanos(cfg_.tcp_syn_sent) * kSecond;
            case proto::udp: return Nanos(cfg_.udp_unreplied) * kSecond;
            case proto::icmp: return Nanos(cfg_.icmp) * kSecond;
            default: return Nanos(cfg_.generic) * kSecond;
        }
    }
    void end(std::map<Tuple, FlowRecord>::iterator it, FlowEnd why, Nanos when, std::vector<FlowRecord>& out) {
        FlowRecord f = it->second;
        f.end = why;
        f.end_ts = when;
        deadlines_.erase({f.last_ts + timeout_of(f.orig.proto), f.id, f.orig});
        flows_.erase(it);
        out.push_back(f);
    }
    void add(const Tuple& orig, uint32_t id, Nanos ts, uint32_t bytes, std::vector<FlowRecord>& out) {
        auto it = flows_.find(orig);
        if (it == flows_.end()) {
            if (flows_.size() >= limit_ && !deadlines_.empty())
                end(flows_.find(std::get<2>(*deadlines_.begin())), FlowEnd::evicted, ts, out);
            FlowRecord f;
            f.id = id;
            f.orig = orig;
            f.has_reply = false;
            f.first_ts = f.last_ts = ts;
            f.verdict = Verdict::drop;
            f.reason = Reason::policy;
            f.rule = 7;
            f.has_tcp_state = orig.proto == proto::tcp;
            it = flows_.emplace(orig, f).first;
        } else {
            deadlines_.erase({it->second.last_ts + timeout_of(orig.proto), it->second.id, orig});
            it->second.last_ts = ts;
        }
        it->second.orig_pkts += 1;
        it->second.orig_bytes += bytes;
        deadlines_.insert({ts + timeout_of(orig.proto), it->second.id, orig});
    }
    void expire(Nanos now, std::vector<FlowRecord>& out) {
        while (!deadlines_.empty() && std::get<0>(*deadlines_.begin()) <= now) {
            const auto [deadline, id, tuple] = *deadlines_.begin();
            end(flows_.find(tuple), FlowEnd::timeout, deadline, out);
        }
    }
    void finish(Nanos end_ts, std::vector<FlowRecord>& out) {
        std::vector<std::pair<uint64_t, Tuple>> order;
        for (const auto& [t, f] : flows_) order.emplace_back(f.id, t);
        std::sort(order.begin(), order.end());
        for (const auto& [id, t] : order) end(flows_.find(t), FlowEnd::end_of_capture, end_ts, out);
    }
    size_t size() const { return flows_.size(); }

private:
    const Config& cfg_;
    size_t limit_;
    std::map<Tuple, FlowRecord> flows_;
    std::set<std::tuple<Nanos, uint64_t, Tuple>> deadlines_;
};

struct Rng {
    uint64_t x;
    uint32_t next(uint32_t n) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        return uint32_t(x % n);
    }
};

bool same(const FlowRecord& a, const FlowRecord& b) {
    return a.id == b.id && a.orig == b.orig && a.first_ts == b.first_ts && a.last_ts == b.last_ts &&
           a.orig_pkts == b.orig_pkts && a.orig_bytes == b.orig_bytes && a.end == b.end && a.end_ts == b.end_ts &&
           a.has_tcp_state == b.has_tcp_state && a.rule == b.rule && a.reason == b.reason;
}

void run_stream(uint64_t seed, size_t limit, uint32_t tuples, int steps) {
    Config cfg;
    DeniedFlows d(cfg, limit);
    Model m(cfg, limit);
    Rng r{seed};
    std::vector<FlowRecord> got, want;
    Nanos t = 1000 * kSecond;
    uint32_t next_id = 1;
    for (int i = 0; i < steps; ++i) {
        // Mostly forward in 0-3 s steps; sometimes back by up to 5 s.
        if (r.next(20) == 0) t -= Nanos(r.next(5000)) * 1000000;
        else t += Nanos(r.next(3000)) * 1000000;
        if (r.next(4) == 0) {
            d.expire(t, got);
            m.expire(t, want);
        }
        Tuple k;
        const uint32_t which = r.next(tuples);
        k.family = Family::ipv4;
        k.proto = which % 3 == 0 ? proto::tcp : which % 3 == 1 ? proto::udp : proto::icmp;
        k.src = IpAddr::from_v4(0x0a000000u + which);
        k.dst = IpAddr::from_v4(0xcb007101u);
        k.sport = uint16_t(1000 + which);
        k.dport = 443;
        const uint32_t id = r.next(3) == 0 ? 0 : next_id++;  // id 0: a table_full drop
        d.add(k, id, t, 60 + which, 7, Reason::policy, got);
        m.add(k, id, t, 60 + which, want);
        BOOST_REQUIRE_EQUAL(d.size(), m.size());
    }
    d.begin_finish(t);  // streamed one by one, as the engine merges them
    while (const FlowRecord* f = d.next_finished()) got.push_back(*f);
    m.finish(t, want);
    BOOST_REQUIRE_EQUAL(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) BOOST_REQUIRE_MESSAGE(same(got[i], want[i]), "record " << i);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(denied_flows)

BOOST_AUTO_TEST_CASE(matches_the_ordered_model_with_evictions_and_time_stepping_back) {
    for (uint64_t seed = 1; seed <= 20; ++seed) run_stream(seed * 0x9e3779b97f4a7c15ull, 8, 40, 3000);
}

BOOST_AUTO_TEST_CASE(matches_the_ordered_model_without_evictions) {
    for (uint64_t seed = 1; seed <= 5; ++seed) run_stream(seed * 0x2545f4914f6cdd1dull, 100000, 500, 20000);
}

BOOST_AUTO_TEST_CASE(a_long_flood_ends_in_deadline_order_without_evictions) {
    // One new tuple every 2 ms for 1200 s of capture time: about 60,000 live
    // aggregates (120 s of TCP SYN_SENT), under the limit; every one ends by
    // timeout, in deadline order, and the live count stays bounded.
    Config cfg;
    DeniedFlows d(cfg, 65536);
    std::vector<FlowRecord> out;
    size_t peak = 0;
    for (uint32_t i = 0; i < 600000; ++i) {
        const Nanos t = kSecond + Nanos(i) * 2 * 1000000;
        d.expire(t, out);
        Tuple k;
        k.family = Family::ipv4;
        k.proto = proto::tcp;
        k.src = IpAddr::from_v4(0x01000000u + i);
        k.dst = IpAddr::from_v4(0xcb007101u);
        k.sport = 1234;
        k.dport = 80;
        d.add(k, i + 1, t, 40, 0, Reason::policy, out);
        peak = std::max(peak, d.size());
    }
    BOOST_TEST(peak <= 60001u);
    BOOST_TEST(peak >= 59999u);
    d.expire(kSecond * 5000, out);
    BOOST_REQUIRE(out.size() == 600000u);
    for (size_t i = 0; i < out.size(); ++i) {
        BOOST_REQUIRE(out[i].end == FlowEnd::timeout);
        BOOST_REQUIRE(out[i].id == i + 1);
    }
}

BOOST_AUTO_TEST_SUITE_END()
