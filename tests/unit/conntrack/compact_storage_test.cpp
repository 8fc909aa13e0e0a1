// The compact entry storage (IPv4 addresses inline, IPv6 in a side pool, TCP
// state in a side slab) must be invisible: tuples read back exactly, slots
// and side storage are reused without leftovers.
#include <string>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

using namespace fwsim;
using namespace fwsim::test;

namespace {
Tuple tuple(const Packet& p) {
    Tuple t;
    tuple_of(p, &t);
    return t;
}
Tuple inverse(const Tuple& t) {
    Tuple r;
    invert(t, &r);
    return r;
}
}  // namespace

BOOST_AUTO_TEST_CASE(ipv4_and_ipv6_tuples_read_back_exactly) {
    Fx fx;
    const Packet v4 = udp_pkt("10.1.2.3", 5000, "192.0.2.53", 53);
    const Packet v6 = udp_pkt("2001:db8::1", 5001, "2001:db8:ffff::35", 53);
    const auto a = fx.feed(v4);
    const auto b = fx.feed(v6);
    BOOST_TEST((fx.t->get(a.entry).orig() == tuple(v4)));
    BOOST_TEST((fx.t->get(a.entry).reply() == inverse(tuple(v4))));
    BOOST_TEST((fx.t->get(b.entry).orig() == tuple(v6)));
    BOOST_TEST((fx.t->get(b.entry).reply() == inverse(tuple(v6))));
    BOOST_TEST((fx.t->flow_info(b.entry).orig == tuple(v6)));
    CtDir dir = CtDir::original;
    BOOST_TEST(fx.t->find(inverse(tuple(v6)), &dir) == b.entry);
    BOOST_TEST(dir == CtDir::reply);
    BOOST_TEST(fx.t->check() == "");
}

BOOST_AUTO_TEST_CASE(ipv4_tuple_with_bytes_past_the_fourth_is_not_confused_with_the_plain_one) {
    Fx fx;
    const Packet p = udp_pkt("10.1.2.3", 5000, "192.0.2.53", 53);
    fx.feed(p);
    Tuple odd = tuple(p);
    odd.src.b[7] = 1;  // never made by the decoder, but a different tuple all the same
    BOOST_TEST(fx.t->find(odd) == ct::kNoEntry);
    BOOST_TEST(fx.t->find(tuple(p)) != ct::kNoEntry);
}

// A reply tuple with an address wider than 4 bytes moves the entry's
// addresses to the pool; its original direction is still plain IPv4, and a
// prepared IPv4 packet (compared by its fields, not a Tuple) must find it.
BOOST_AUTO_TEST_CASE(pooled_ipv4_entry_is_found_by_a_prepared_ipv4_packet) {
    for (bool prepare : {true, false}) {
        Fx fx;
        fx.prepare = prepare;
        fx.auto_confirm = false;
        const Packet p = udp_pkt("10.1.2.3", 5000, "192.0.2.53", 53);
        const auto r = fx.feed(p);
        Tuple odd = inverse(tuple(p));
        odd.dst.b[9] = 1;
        fx.t->alter_reply(r.entry, odd);
        BOOST_TEST(fx.t->confirm(r.entry, 1));
        const auto again = fx.feed(p);
        BOOST_TEST(again.entry == r.entry);
        BOOST_TEST(again.dir == CtDir::original);
        BOOST_TEST(again.state == CtState::new_);
        // and the plain reply tuple is no longer the entry's
        const auto back = fx.feed(udp_pkt("192.0.2.53", 53, "10.1.2.3", 5000));
        BOOST_TEST(back.entry != r.entry);
        BOOST_TEST(back.unconfirmed);
        BOOST_TEST(fx.t->check() == "");
    }
}

BOOST_AUTO_TEST_CASE(nat_reply_of_an_ipv6_entry_is_stored_and_found) {
    Fx fx;
    fx.auto_confirm = false;
    const auto r = fx.feed(tcp_pkt("fd00::10", 51000, "2001:db8::80", 443, tf::syn, 1000, 0));
    Tuple nat_reply = fx.t->get(r.entry).tuple[1];
    nat_reply.dst = ip("2001:db8:1::1");
    nat_reply.dport = 61000;
    fx.t->alter_reply(r.entry, nat_reply);
    BOOST_TEST(fx.t->confirm(r.entry, 1));
    BOOST_TEST((fx.t->get(r.entry).reply() == nat_reply));
    BOOST_TEST((fx.t->get(r.entry).orig() ==
                tuple(tcp_pkt("fd00::10", 51000, "2001:db8::80", 443, tf::syn, 1000, 0))));
    const auto back = fx.feed(tcp_pkt("2001:db8::80", 443, "2001:db8:1::1", 61000, tf::syn | tf::ack,
                                      5000, 1001));
    BOOST_TEST(back.entry == r.entry);
    BOOST_TEST(back.dir == CtDir::reply);
    BOOST_TEST(fx.t->check() == "");
}

BOOST_AUTO_TEST_CASE(reused_slots_carry_nothing_over_between_families_and_protocols) {
    Fx fx;
    // An IPv6 TCP entry with window scaling, then it expires (SYN_SENT: 120 s).
    const auto a = fx.feed(tcp_pkt("2001:db8::1", 40000, "2001:db8::2", 80, tf::syn, 1000, 0, 0,
                                   65535, TcpOpts{7, true, 0}));
    BOOST_TEST(fx.t->get(a.entry).tcp.seen[0].td_scale == 7);
    fx.now += 121 * kSecond;
    // The slot (and the TCP slab element) come back for an IPv4 UDP entry...
    const Packet u = udp_pkt("10.0.0.9", 7000, "192.0.2.53", 53);
    const auto b = fx.feed(u);
    BOOST_TEST(b.entry == a.entry);
    BOOST_TEST((fx.t->get(b.entry).orig() == tuple(u)));
    BOOST_TEST(fx.t->get(b.entry).tcp_state() == TcpState::none);
    // ... and a new TCP entry starts from a clean window state.
    const auto c = fx.feed(tcp_pkt("10.0.0.9", 40001, "192.0.2.80", 80, tf::syn, 1, 0));
    BOOST_TEST(fx.t->get(c.entry).tcp.seen[0].td_scale == 0);
    BOOST_TEST((fx.t->get(c.entry).tcp.seen[0].flags & ct::tcpflags::window_scale) == 0);
    BOOST_TEST(fx.t->get(c.entry).tcp_state() == TcpState::syn_sent);
    // The pooled IPv6 addresses are reused by the next IPv6 entry.
    const Packet v6 = udp_pkt("2001:db8::7", 9000, "2001:db8::35", 53);
    const auto d = fx.feed(v6);
    BOOST_TEST((fx.t->get(d.entry).orig() == tuple(v6)));
    BOOST_TEST(fx.t->check() == "");
}

BOOST_AUTO_TEST_CASE(tcp_state_is_right_when_bucket_heads_are_removed) {
    // ct.max 16 gives 16 real buckets for 24 chain nodes: UDP and TCP
    // entries share chains. The UDP ones (30 s) expire before the TCP ones
    // (SYN_SENT, 120 s), removing chain heads; lookups and TCP states of the
    // rest stay right.
    Config cfg;
    cfg.ct_max = 16;
    Fx fx(cfg);
    for (int i = 0; i < 12; ++i) {
        const std::string src = "10.0.1." + std::to_string(i + 1);
        if (i % 2)
            fx.feed(tcp_pkt(src.c_str(), uint16_t(30000 + i), S, 80, tf::syn, 1000, 0));
        else
            fx.feed(udp_pkt(src.c_str(), uint16_t(30000 + i), S, 53));
    }
    fx.now += 31 * kSecond;
    fx.t->advance(fx.now, fx.obs);
    BOOST_TEST(fx.t->size() == 6u);
    BOOST_TEST(fx.t->check() == "");
    for (int i = 1; i < 12; i += 2) {
        const std::string src = "10.0.1." + std::to_string(i + 1);
        const auto r = fx.feed(tcp_pkt(S, 80, src.c_str(), uint16_t(30000 + i), tf::syn | tf::ack, 5000,
                                       1001));
        BOOST_TEST(r.dir == CtDir::reply);
        BOOST_TEST(r.tcp_state == TcpState::syn_recv);
    }
    BOOST_TEST(fx.t->count_by_tcp_state(TcpState::syn_recv) == 6u);
    BOOST_TEST(fx.t->check() == "");
}

BOOST_AUTO_TEST_CASE(table_grows_past_its_initial_buckets_without_losing_entries) {
    // ct.max 0 (no limit) starts with 262144 buckets; the hash grows when
    // the entries outnumber them. The growing confirm() once inserted its
    // own entry twice (a chain loop that hung the next lookup).
    Config cfg;
    cfg.ct_max = 0;
    ct::Table t(cfg);
    Recorder obs;
    const uint32_t n = ct::kDefaultHtableSize + 100;
    auto pkt = [](uint32_t i) {
        Packet p = udp_pkt("10.0.0.1", 1000, "192.0.2.53", 53);
        p.src = IpAddr::from_v4(0x0a000000u | (i >> 8));
        p.sport = uint16_t(1000 + (i & 0xff));
        return p;
    };
    for (uint32_t i = 0; i < n; ++i) {
        const ct::Result r = t.in(pkt(i), kSecond, true, obs);
        BOOST_REQUIRE(r.unconfirmed);
        BOOST_REQUIRE(t.confirm(r.entry, 0));
    }
    BOOST_TEST(t.size() == size_t(n));
    BOOST_TEST(t.check() == "");
    for (uint32_t i : {0u, 1u, n / 2, n - 1}) {
        const ct::Result r = t.in(pkt(i), 2 * kSecond, true, obs);
        BOOST_TEST(!r.unconfirmed);
        BOOST_TEST(r.state == CtState::new_);
        BOOST_TEST(t.get(r.entry).pkts[0] == 2u);
    }
}
