// Random traffic against a small table: whatever happens (early drops,
// table full, reopen, RST kills, timeouts, discards, NAT clashes), the
// table stays consistent. Seeded: the same run every time.
#include <random>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

using namespace fwsim;
using namespace fwsim::test;

namespace {

struct Counting final : ct::Observer {
    uint64_t ended = 0;
    Nanos last_when = 0;
    bool order_ok = true;
    std::vector<uint64_t>* trace = nullptr;
    void on_flow_end(const ct::FlowInfo& f, ct::EndReason why, Nanos when) override {
        if (trace) trace->insert(trace->end(), {f.id, uint64_t(why), uint64_t(when), f.orig_pkts, f.reply_pkts});
        ++ended;
        if (why == ct::EndReason::timeout && when < last_when) order_ok = false;
        if (why == ct::EndReason::timeout) last_when = when;
    }
};

const char* kHosts[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3", "192.0.2.1", "192.0.2.2",
                        "198.51.100.7"};

Packet random_packet(std::mt19937& rng) {
    auto pick = [&rng](uint32_t n) { return uint32_t(rng() % n); };
    const char* a = kHosts[pick(6)];
    const char* b = kHosts[pick(6)];
    const uint16_t pa = uint16_t(1000 + pick(4)), pb = uint16_t(80 + pick(2));
    switch (pick(10)) {
        case 0:
        case 1:
            return udp_pkt(a, pa, b, pb, pick(100));
        case 2:
            return icmp_pkt(a, b, uint8_t(pick(2) ? 8 : 0), 0, uint16_t(pick(3)));
        case 3:
            return icmp_err(a, b, 3, 3, proto::udp, b, pb, a, pa);
        case 4:
            return raw_pkt(a, b, proto::gre);
        default: {
            static const uint8_t flags[] = {tf::syn, tf::syn | tf::ack, tf::ack, tf::fin | tf::ack,
                                            tf::rst, tf::rst | tf::ack, tf::ack | tf::psh, 0};
            const uint32_t base = pick(2) ? 1000 : 5000;
            return tcp_pkt(a, pa, b, pb, flags[pick(8)], base + pick(3000), base + pick(3000),
                           pick(3) == 0 ? pick(1400) : 0, uint16_t(pick(4) ? 65535 : pick(3)));
        }
    }
}

// As Engine::prepare(): the tuple's hash travels with the packet, and
// Table::in() then compares IPv4 tuples without building one.
Packet prepared(Packet p) {
    Tuple t;
    p.prep.done = true;
    if (tuple_of(p, &t)) p.prep.ct_key = hash(t);
    return p;
}

// Returns what happened (every packet's Result, every flow end) for
// comparing runs.
std::vector<uint64_t> run(uint32_t seed, uint64_t ct_max, uint32_t htable, bool liberal,
                          bool prepare = true) {
    std::vector<uint64_t> trace;
    Config cfg;
    cfg.ct_max = ct_max;
    cfg.tcp_be_liberal = liberal;
    cfg.udp_unreplied = 3;
    cfg.tcp_syn_sent = 5;
    ct::Table t(cfg, htable);
    Counting obs;
    obs.trace = &trace;
    std::mt19937 rng(seed);
    Nanos now = 1000 * kSecond;
    uint64_t made = 0;
    for (int i = 0; i < 20000; ++i) {
        now += Nanos(rng() % 400) * 1000 * 1000;  // up to 0.4 s apart
        t.advance(now, obs);
        const Packet p = prepare ? prepared(random_packet(rng)) : random_packet(rng);
        const ct::Result r = t.in(p, now, rng() % 50 != 0, obs);
        trace.insert(trace.end(), {uint64_t(r.state), uint64_t(r.dir), r.entry, r.unconfirmed,
                                   r.table_full, r.ignored, uint64_t(r.tcp_state)});
        if (r.entry != ct::kNoEntry) BOOST_TEST_REQUIRE(t.valid(r.entry));
        if (r.unconfirmed) {
            ++made;
            switch (rng() % 8) {
                case 0: t.discard(r.entry); break;
                case 1: {  // a NAT binding that may clash
                    Tuple rep = t.get(r.entry).tuple[1];
                    rep.dport = uint16_t(80 + rng() % 2);
                    t.alter_reply(r.entry, rep);
                    t.confirm(r.entry, 1);
                    break;
                }
                default: t.confirm(r.entry, 0);
            }
        }
        if (i % 97 == 0) {
            const std::string err = t.check();
            BOOST_TEST_REQUIRE(err == "", "after packet " << i << ": " << err);
        }
        if (ct_max) BOOST_TEST_REQUIRE(t.size() <= ct_max);
    }
    BOOST_TEST(t.check() == "");
    BOOST_TEST(obs.order_ok);
    const auto& c = t.counters();
    BOOST_TEST_MESSAGE("seed " << seed << ": new " << c.new_ << " expired " << c.expired
                               << " closed " << c.closed << " early_drop " << c.early_drop
                               << " table_full " << c.table_full_drops << " insert_failed "
                               << c.insert_failed << " invalid " << c.invalid << " ignored "
                               << c.ignored);
    BOOST_TEST(made == c.new_ + c.discarded + c.insert_failed);
    // the run reached the paths it is meant to shake
    BOOST_TEST(c.expired > 0u);
    BOOST_TEST(c.closed > 0u);
    BOOST_TEST(c.ignored > 0u);
    BOOST_TEST(c.insert_failed > 0u);
    if (ct_max) BOOST_TEST(c.early_drop > 0u);
    // with many kernel buckets the 8-bucket scan often finds nothing
    if (ct_max && htable > 64) BOOST_TEST(c.table_full_drops > 0u);
    const uint64_t before = obs.ended;
    const size_t left = t.size();
    t.finish(now, obs);
    BOOST_TEST(obs.ended - before == left);
    BOOST_TEST(c.destroyed == before);
    BOOST_TEST(t.size() == 0u);
    BOOST_TEST(t.check() == "");
    return trace;
}

}  // namespace

BOOST_AUTO_TEST_CASE(random_traffic_keeps_the_table_consistent) { run(1, 0, ct::kDefaultHtableSize, false); }

BOOST_AUTO_TEST_CASE(random_traffic_under_table_pressure_keeps_the_table_consistent) {
    run(2, 24, 4096, false);
}

BOOST_AUTO_TEST_CASE(random_traffic_with_be_liberal_keeps_the_table_consistent) {
    run(3, 40, 1, true);
}

// in() looks a prepared IPv4 packet up by its fields (Table::find_packet()),
// any other through a Tuple: both must see the same table.
BOOST_AUTO_TEST_CASE(prepared_and_unprepared_packets_are_tracked_alike) {
    for (uint32_t seed : {1u, 2u}) {
        const uint64_t ct_max = seed == 2 ? 24 : 0;
        const uint32_t htable = seed == 2 ? 4096 : ct::kDefaultHtableSize;
        const auto a = run(seed, ct_max, htable, false, true);
        const auto b = run(seed, ct_max, htable, false, false);
        BOOST_TEST_REQUIRE(a.size() == b.size());
        size_t first_diff = a.size();
        for (size_t i = 0; i < a.size() && first_diff == a.size(); ++i)
            if (a[i] != b[i]) first_diff = i;
        BOOST_TEST(first_diff == a.size(), "seed " << seed << ": traces differ at " << first_diff);
    }
}
