#include <string>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

using namespace fwsim;
using namespace fwsim::test;

namespace {
Packet udp_from(int i, uint16_t sport = 5000) {
    static const char* hosts[] = {"10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5"};
    return udp_pkt(hosts[i], sport, "192.0.2.53", 53);
}
Tuple tuple(const Packet& p) {
    Tuple t;
    tuple_of(p, &t);
    return t;
}
}  // namespace

// ---- timeouts

BOOST_AUTO_TEST_CASE(entry_expires_exactly_at_its_deadline) {
    Fx fx;
    const Nanos t0 = fx.now;
    fx.feed(udp_from(0));
    fx.t->advance(t0 + 30 * kSecond - 1, fx.obs);
    BOOST_TEST(fx.t->size() == 1u);
    BOOST_TEST(fx.obs.ev.empty());
    fx.t->advance(t0 + 30 * kSecond, fx.obs);
    BOOST_TEST(fx.t->size() == 0u);
    BOOST_REQUIRE(fx.obs.ev.size() == 1u);
    BOOST_TEST(fx.obs.ev[0].why == ct::EndReason::timeout);
    BOOST_TEST(fx.obs.ev[0].when == t0 + 30 * kSecond);
    BOOST_TEST(fx.t->counters().expired == 1u);
    BOOST_TEST(fx.t->counters().destroyed == 1u);
}

BOOST_AUTO_TEST_CASE(expired_entry_is_gone_before_a_packet_at_the_deadline) {
    Fx fx;
    fx.feed(udp_from(0));
    fx.now += 30 * kSecond;
    auto r = fx.feed(udp_from(0));  // Fx::feed advances first, as the engine does
    BOOST_TEST(r.state == CtState::new_);
    BOOST_TEST(fx.t->get(r.entry).id == 2u);
    BOOST_TEST(fx.obs.ev.size() == 1u);
}

BOOST_AUTO_TEST_CASE(timeouts_fire_in_deadline_then_id_order) {
    Fx fx;
    fx.feed(raw_pkt(C, S, proto::esp));  // id 1, 600 s
    fx.feed(udp_from(1));                // id 2, 30 s
    fx.feed(udp_from(2));                // id 3, 30 s
    fx.t->advance(fx.now + 1000 * kSecond, fx.obs);
    BOOST_REQUIRE(fx.obs.ev.size() == 3u);
    BOOST_TEST(fx.obs.ev[0].f.id == 2u);
    BOOST_TEST(fx.obs.ev[1].f.id == 3u);
    BOOST_TEST(fx.obs.ev[2].f.id == 1u);
    BOOST_TEST(fx.obs.ev[2].when == fx.now + 600 * kSecond);
}

BOOST_AUTO_TEST_CASE(refreshed_entry_survives_its_old_deadline) {
    Fx fx;
    const Nanos t0 = fx.now;
    fx.feed(udp_from(0));
    fx.now += 20 * kSecond;
    fx.feed(udp_from(0));
    fx.t->advance(t0 + 45 * kSecond, fx.obs);
    BOOST_TEST(fx.t->size() == 1u);
    fx.t->advance(t0 + 50 * kSecond, fx.obs);
    BOOST_TEST(fx.t->size() == 0u);
}

// ---- table limit

BOOST_AUTO_TEST_CASE(early_drop_evicts_non_assured_entries_when_full) {
    Config c;
    c.ct_max = 2;
    Fx fx(c, /*htable_size=*/1);  // every entry in the one kernel bucket early_drop scans
    fx.handshake();               // assured TCP, id 1
    fx.feed(udp_from(1));         // not assured, id 2
    auto r = fx.feed(udp_from(2));
    BOOST_TEST(r.state == CtState::new_);
    BOOST_TEST(!r.table_full);
    BOOST_TEST(fx.t->size() == 2u);
    BOOST_REQUIRE(fx.obs.ev.size() == 1u);
    BOOST_TEST(fx.obs.ev[0].f.id == 2u);
    BOOST_TEST(fx.obs.ev[0].why == ct::EndReason::evicted);
    BOOST_TEST(fx.t->counters().early_drop == 1u);
    BOOST_TEST(fx.tcp_entry() != ct::kNoEntry);  // the assured one stays
}

BOOST_AUTO_TEST_CASE(early_drop_drops_every_non_assured_entry_of_the_bucket) {
    Config c;
    c.ct_max = 3;
    Fx fx(c, 1);
    fx.feed(udp_from(0));
    fx.feed(udp_from(1));
    fx.feed(udp_from(2));
    fx.feed(udp_from(3));
    BOOST_TEST(fx.t->size() == 1u);  // early_drop_list() kills them all
    BOOST_TEST(fx.t->counters().early_drop == 3u);
}

BOOST_AUTO_TEST_CASE(table_full_when_every_entry_is_assured) {
    Config c;
    c.ct_max = 1;
    Fx fx(c, 1);
    fx.handshake();
    auto r = fx.feed(udp_from(1));
    BOOST_TEST(r.table_full);
    BOOST_TEST(r.entry == ct::kNoEntry);
    BOOST_TEST(fx.t->size() == 1u);
    BOOST_TEST(fx.t->counters().table_full_drops == 1u);
    BOOST_TEST(fx.obs.ev.empty());
    // packets of the existing connection still pass
    BOOST_TEST(fx.c(tf::ack, 1001, 5001).state == CtState::established);
}

BOOST_AUTO_TEST_CASE(early_drop_only_looks_at_eight_kernel_buckets) {
    Config c;
    c.ct_max = 1;
    Fx fx(c);  // 262144 kernel buckets: a lone entry is almost never in range
    fx.feed(udp_from(0));
    auto r = fx.feed(udp_from(1));
    BOOST_TEST(r.table_full);
    BOOST_TEST(fx.t->size() == 1u);
}

BOOST_AUTO_TEST_CASE(unconfirmed_entry_counts_against_the_limit) {
    Config c;
    c.ct_max = 1;
    Fx fx(c, 1);
    fx.auto_confirm = false;
    auto r = fx.feed(udp_from(0));
    BOOST_TEST(r.unconfirmed);
    fx.t->discard(r.entry);
    auto r2 = fx.feed(udp_from(1));
    BOOST_TEST(r2.unconfirmed);  // room again after the discard
}

// ---- confirm, discard, NAT hooks

BOOST_AUTO_TEST_CASE(discard_leaves_no_state_and_no_flow_record) {
    Fx fx;
    fx.auto_confirm = false;
    auto r = fx.feed(udp_from(0));
    fx.t->discard(r.entry);
    BOOST_TEST(fx.t->size() == 0u);
    fx.t->finish(fx.now, fx.obs);
    BOOST_TEST(fx.obs.ev.empty());
    BOOST_TEST(fx.t->counters().discarded == 1u);
    BOOST_TEST(fx.t->counters().new_ == 0u);
}

BOOST_AUTO_TEST_CASE(ids_count_every_created_entry_in_order) {
    Fx fx;
    fx.auto_confirm = false;
    auto r1 = fx.feed(udp_from(0));
    BOOST_TEST(fx.t->get(r1.entry).id == 1u);
    fx.t->discard(r1.entry);
    auto r2 = fx.feed(udp_from(1));
    BOOST_TEST(fx.t->get(r2.entry).id == 2u);
    fx.t->confirm(r2.entry, 0);
    BOOST_TEST(fx.t->counters().new_ == 1u);
}

BOOST_AUTO_TEST_CASE(alter_reply_makes_the_nat_reply_reach_the_entry) {
    Fx fx;
    fx.auto_confirm = false;
    auto r = fx.feed(tcp_pkt("192.168.1.10", 51000, S, 443, tf::syn, 1000, 0));
    Tuple nat_reply = fx.t->get(r.entry).tuple[1];
    nat_reply.dst = ip("203.0.113.1");
    nat_reply.dport = 61000;
    BOOST_TEST(!fx.t->tuple_taken(nat_reply, r.entry));
    fx.t->alter_reply(r.entry, nat_reply);
    fx.t->set_status_bits(r.entry, cs::src_nat | cs::src_nat_done);
    BOOST_TEST(fx.t->confirm(r.entry, 1));
    auto back = fx.feed(tcp_pkt(S, 443, "203.0.113.1", 61000, tf::syn | tf::ack, 5000, 1001));
    BOOST_TEST(back.state == CtState::established);
    BOOST_TEST(back.dir == CtDir::reply);
    BOOST_TEST(back.entry == r.entry);
    BOOST_TEST((fx.t->get(r.entry).status & cs::src_nat) != 0u);
    BOOST_TEST(fx.t->tuple_taken(nat_reply, ct::kNoEntry));
}

BOOST_AUTO_TEST_CASE(confirm_clash_fails_and_counts_insert_failed) {
    Fx fx;
    fx.feed(udp_pkt("192.168.1.10", 5000, "192.0.2.53", 53));
    fx.auto_confirm = false;
    auto r = fx.feed(udp_pkt("192.168.1.11", 5000, "192.0.2.53", 53));
    Tuple taken = tuple(udp_pkt("192.0.2.53", 53, "192.168.1.10", 5000));
    BOOST_TEST(fx.t->tuple_taken(taken, r.entry));
    fx.t->alter_reply(r.entry, taken);
    BOOST_TEST(!fx.t->confirm(r.entry, 0));
    BOOST_TEST(fx.t->counters().insert_failed == 1u);
    BOOST_TEST(fx.t->size() == 1u);
    BOOST_TEST(fx.obs.ev.empty());
}

BOOST_AUTO_TEST_CASE(mark_is_kept_and_reported) {
    Fx fx;
    auto r = fx.feed(udp_from(0));
    fx.t->set_mark(r.entry, 42);
    fx.t->finish(fx.now, fx.obs);
    BOOST_REQUIRE(fx.obs.ev.size() == 1u);
    BOOST_TEST(fx.obs.ev[0].f.mark == 42u);
    BOOST_TEST(fx.obs.ev[0].f.rule == 7u);
}

// ---- accounting, gauges, finish

BOOST_AUTO_TEST_CASE(accounting_counts_ip_length_per_direction) {
    Fx fx;
    fx.feed(udp_from(0));
    fx.now += kSecond;
    fx.feed(udp_pkt("192.0.2.53", 53, "10.0.0.1", 5000, 100));
    fx.t->finish(fx.now, fx.obs);
    BOOST_REQUIRE(fx.obs.ev.size() == 1u);
    const auto& f = fx.obs.ev[0].f;
    BOOST_TEST(f.orig_pkts == 1u);
    BOOST_TEST(f.orig_bytes == 38u);
    BOOST_TEST(f.reply_pkts == 1u);
    BOOST_TEST(f.reply_bytes == 128u);
    BOOST_TEST(f.first_ts == fx.now - kSecond);
    BOOST_TEST(f.last_ts == fx.now);
}

BOOST_AUTO_TEST_CASE(gauges_follow_protocol_and_tcp_state) {
    Fx fx;
    fx.handshake();
    fx.feed(udp_from(1));
    BOOST_TEST(fx.t->count_by_proto(proto::tcp) == 1u);
    BOOST_TEST(fx.t->count_by_proto(proto::udp) == 1u);
    BOOST_TEST(fx.t->count_by_tcp_state(TcpState::established) == 1u);
    fx.c(tf::fin | tf::ack, 1001, 5001);
    BOOST_TEST(fx.t->count_by_tcp_state(TcpState::established) == 0u);
    BOOST_TEST(fx.t->count_by_tcp_state(TcpState::fin_wait) == 1u);
    fx.t->advance(fx.now + 200 * kSecond, fx.obs);
    BOOST_TEST(fx.t->count_by_tcp_state(TcpState::fin_wait) == 0u);
    BOOST_TEST(fx.t->count_by_proto(proto::tcp) == 0u);
    BOOST_TEST(fx.t->size() == 0u);
}

BOOST_AUTO_TEST_CASE(finish_ends_every_entry_in_id_order) {
    Fx fx;
    fx.feed(udp_from(3));
    fx.feed(udp_from(1));
    fx.feed(udp_from(2));
    fx.t->finish(fx.now + 5, fx.obs);
    BOOST_REQUIRE(fx.obs.ev.size() == 3u);
    for (size_t i = 0; i < 3; ++i) {
        BOOST_TEST(fx.obs.ev[i].f.id == i + 1);
        BOOST_TEST(fx.obs.ev[i].why == ct::EndReason::end_of_capture);
        BOOST_TEST(fx.obs.ev[i].when == fx.now + 5);
    }
    BOOST_TEST(fx.t->size() == 0u);
}

BOOST_AUTO_TEST_CASE(many_entries_survive_hash_growth_and_slot_reuse) {
    Config c;
    c.ct_max = 0;  // unlimited
    Fx fx(c);
    for (int i = 0; i < 3000; ++i)
        fx.feed(udp_pkt("10.1.0.1", uint16_t(1000 + i), "192.0.2.53", 53));
    BOOST_TEST(fx.t->size() == 3000u);
    for (int i = 0; i < 3000; i += 7)
        BOOST_TEST(fx.t->find(tuple(udp_pkt("192.0.2.53", 53, "10.1.0.1", uint16_t(1000 + i)))) !=
                   ct::kNoEntry);
    fx.now += 31 * kSecond;
    fx.t->advance(fx.now, fx.obs);
    BOOST_TEST(fx.t->size() == 0u);
    BOOST_TEST(fx.obs.ev.size() == 3000u);
    auto r = fx.feed(udp_from(0));
    BOOST_TEST(fx.t->get(r.entry).id == 3001u);
}

// ---- /proc/net/nf_conntrack

BOOST_AUTO_TEST_CASE(dump_prints_tcp_entry_as_proc_net_nf_conntrack) {
    Fx fx;
    fx.handshake();
    const std::string want =
        "ipv4     2 tcp      6 431999 ESTABLISHED src=10.0.0.1 dst=192.0.2.1 sport=40000 "
        "dport=80 packets=2 bytes=80 src=192.0.2.1 dst=10.0.0.1 sport=80 dport=40000 "
        "packets=1 bytes=40 [ASSURED] mark=0 zone=0 use=2\n";
    BOOST_TEST(fx.t->dump(fx.now + kSecond) == want);
}

BOOST_AUTO_TEST_CASE(dump_prints_unreplied_udp_and_sorts_by_id) {
    Fx fx;
    fx.feed(udp_from(0));
    fx.feed(icmp_pkt("10.0.0.2", "192.0.2.9", 8, 0, 5));
    const std::string want =
        "ipv4     2 udp      17 29 src=10.0.0.1 dst=192.0.2.53 sport=5000 dport=53 packets=1 "
        "bytes=38 [UNREPLIED] src=192.0.2.53 dst=10.0.0.1 sport=53 dport=5000 packets=0 "
        "bytes=0 mark=0 zone=0 use=2\n"
        "ipv4     2 icmp     1 29 src=10.0.0.2 dst=192.0.2.9 type=8 code=0 id=5 packets=1 "
        "bytes=28 [UNREPLIED] src=192.0.2.9 dst=10.0.0.2 type=0 code=0 id=5 packets=0 "
        "bytes=0 mark=0 zone=0 use=2\n";
    BOOST_TEST(fx.t->dump(fx.now + kSecond / 2) == want);
}

BOOST_AUTO_TEST_CASE(dump_prints_ipv6_addresses_in_full) {
    Fx fx;
    fx.feed(udp_pkt("2001:db8::1", 5000, "2001:db8::2", 53));
    const std::string want =
        "ipv6     10 udp      17 30 src=2001:0db8:0000:0000:0000:0000:0000:0001 "
        "dst=2001:0db8:0000:0000:0000:0000:0000:0002 sport=5000 dport=53 packets=1 bytes=58 "
        "[UNREPLIED] src=2001:0db8:0000:0000:0000:0000:0000:0002 "
        "dst=2001:0db8:0000:0000:0000:0000:0000:0001 sport=53 dport=5000 packets=0 bytes=0 "
        "mark=0 zone=0 use=2\n";
    BOOST_TEST(fx.t->dump(fx.now) == want);
}

// ---- lazy timers

BOOST_AUTO_TEST_CASE(extended_entries_still_expire_in_deadline_then_id_order) {
    Fx fx;
    const Nanos t0 = fx.now;
    fx.feed(udp_from(0));  // id 1: deadline t0+30
    fx.now = t0 + 20 * kSecond;
    fx.feed(udp_from(0));  // id 1: extended to t0+50 (its timer still says t0+30)
    fx.now = t0 + 25 * kSecond;
    fx.feed(udp_from(1));  // id 2: t0+55
    fx.now = t0 + 20 * kSecond;
    fx.feed(udp_from(2));  // id 3: t0+50, same deadline as id 1
    fx.t->advance(t0 + 100 * kSecond, fx.obs);
    BOOST_REQUIRE(fx.obs.ev.size() == 3u);
    BOOST_TEST(fx.obs.ev[0].f.id == 1u);
    BOOST_TEST(fx.obs.ev[0].when == t0 + 50 * kSecond);
    BOOST_TEST(fx.obs.ev[1].f.id == 3u);
    BOOST_TEST(fx.obs.ev[1].when == t0 + 50 * kSecond);
    BOOST_TEST(fx.obs.ev[2].f.id == 2u);
    BOOST_TEST(fx.obs.ev[2].when == t0 + 55 * kSecond);
}

BOOST_AUTO_TEST_CASE(shortened_deadline_fires_at_the_new_time) {
    Fx fx;
    fx.handshake();  // 432000 s
    fx.now += kSecond;
    fx.c(tf::rst, 1001, 0);  // 10 s
    fx.t->advance(fx.now + 10 * kSecond - 1, fx.obs);
    BOOST_TEST(fx.t->size() == 1u);
    fx.t->advance(fx.now + 10 * kSecond, fx.obs);
    BOOST_TEST(fx.t->size() == 0u);
    BOOST_REQUIRE(fx.obs.ev.size() == 1u);
    BOOST_TEST(fx.obs.ev[0].when == fx.now + 10 * kSecond);
    BOOST_TEST(fx.t->check() == "");
}

BOOST_AUTO_TEST_CASE(many_shortened_timers_are_compacted_and_still_fire) {
    Config c;
    c.ct_max = 0;
    Fx fx(c);
    const int n = 3000;  // SYN 120 s, SYN/ACK 60 s, RST 10 s: three timer elements each
    for (int i = 0; i < n; ++i) {
        const uint16_t port = uint16_t(20000 + i);
        fx.feed(tcp_pkt(C, port, S, SP, tf::syn, 1000, 0));
        fx.feed(tcp_pkt(S, SP, C, port, tf::syn | tf::ack, 5000, 1001));
        fx.feed(tcp_pkt(C, port, S, SP, tf::rst, 1001, 0));
    }
    BOOST_TEST(fx.t->check() == "");
    BOOST_TEST(fx.t->count_by_tcp_state(TcpState::close) == size_t(n));
    fx.t->advance(fx.now + 10 * kSecond, fx.obs);
    BOOST_TEST(fx.t->size() == 0u);
    BOOST_TEST(fx.obs.ev.size() == size_t(n));
    BOOST_TEST(fx.t->check() == "");
    for (size_t i = 1; i < fx.obs.ev.size(); ++i) BOOST_TEST_REQUIRE(fx.obs.ev[i - 1].f.id < fx.obs.ev[i].f.id);
}

BOOST_AUTO_TEST_CASE(killed_entries_timers_are_compacted_and_survivors_expire_in_order) {
    Config c;
    c.ct_max = 0;
    Fx fx(c);
    const Nanos t0 = fx.now;
    const Nanos ms = kSecond / 1000;
    // 5000 TCP entries killed by a RST before any reply (their 120 s timer
    // elements go stale) between 500 UDP entries that stay: the stale ones
    // are dropped on the way, and the survivors fire in deadline order.
    for (int i = 0; i < 5000; ++i) {
        fx.now = t0 + i * ms;
        const uint16_t port = uint16_t(10000 + i);
        fx.feed(tcp_pkt(C, port, S, SP, tf::syn, 1000, 0));
        fx.feed(tcp_pkt(C, port, S, SP, tf::rst, 1001, 0));
        if (i % 10 == 0) fx.feed(udp_pkt("10.2.0.1", port, "192.0.2.53", 53));
        if (i % 500 == 0) BOOST_TEST_REQUIRE(fx.t->check() == "");
    }
    BOOST_TEST(fx.t->check() == "");
    BOOST_TEST(fx.t->size() == 500u);
    BOOST_TEST(fx.obs.ev.size() == 5000u);
    fx.t->advance(t0 + 200 * kSecond, fx.obs);
    BOOST_TEST(fx.t->size() == 0u);
    BOOST_REQUIRE(fx.obs.ev.size() == 5500u);
    for (size_t i = 5000; i < 5500; ++i) {
        BOOST_TEST(fx.obs.ev[i].why == ct::EndReason::timeout);
        BOOST_TEST(fx.obs.ev[i].when == t0 + Nanos(i - 5000) * 10 * ms + 30 * kSecond);
    }
    BOOST_TEST(fx.t->check() == "");
}
