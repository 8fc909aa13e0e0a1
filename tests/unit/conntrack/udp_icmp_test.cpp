#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

using namespace fwsim;
using namespace fwsim::test;

namespace {
constexpr const char* D = "192.0.2.53";
Packet q() { return udp_pkt(C, 5000, D, 53); }  // query
Packet a() { return udp_pkt(D, 53, C, 5000); }  // answer
}  // namespace

BOOST_AUTO_TEST_CASE(udp_first_packet_is_new_with_unreplied_timeout) {
    Fx fx;
    auto r = fx.feed(q());
    BOOST_TEST(r.state == CtState::new_);
    BOOST_TEST(r.unconfirmed);
    BOOST_TEST(fx.left(r.entry) == 30);
}

BOOST_AUTO_TEST_CASE(udp_reply_is_established_but_not_assured) {
    Fx fx;
    fx.feed(q());
    fx.now += kSecond / 2;
    auto r = fx.feed(a());
    BOOST_TEST(r.state == CtState::established);
    BOOST_TEST(r.dir == CtDir::reply);
    const auto& en = fx.t->get(r.entry);
    BOOST_TEST((en.status & cs::seen_reply) != 0u);
    BOOST_TEST((en.status & cs::assured) == 0u);
    BOOST_TEST(fx.left(r.entry) == 30);
}

BOOST_AUTO_TEST_CASE(udp_traffic_within_two_seconds_keeps_unreplied_timeout) {
    Fx fx;
    fx.feed(q());
    fx.now += kSecond / 2;
    fx.feed(a());
    fx.now += kSecond;  // 1.5 s after the first packet
    auto r = fx.feed(q());
    BOOST_TEST(fx.left(r.entry) == 30);
    BOOST_TEST((fx.t->get(r.entry).status & cs::assured) == 0u);
}

BOOST_AUTO_TEST_CASE(udp_stream_after_two_seconds_gets_stream_timeout_and_assured) {
    Fx fx;
    fx.feed(q());
    fx.now += kSecond;
    fx.feed(a());
    fx.now += 1500 * 1000 * 1000;  // 2.5 s after the first packet
    auto r = fx.feed(q());
    BOOST_TEST(r.state == CtState::established);
    BOOST_TEST(fx.left(r.entry) == 120);
    BOOST_TEST((fx.t->get(r.entry).status & cs::assured) != 0u);
}

BOOST_AUTO_TEST_CASE(udp_one_way_traffic_never_becomes_assured) {
    Fx fx;
    ct::Result r;
    for (int i = 0; i < 5; ++i, fx.now += 5 * kSecond) r = fx.feed(q());
    BOOST_TEST(r.state == CtState::new_);
    BOOST_TEST((fx.t->get(r.entry).status & cs::assured) == 0u);
}

BOOST_AUTO_TEST_CASE(udplite_is_tracked_like_udp) {
    Fx fx;
    auto r = fx.feed(udp_pkt(C, 5000, D, 53, 10, proto::udplite));
    BOOST_TEST(r.state == CtState::new_);
    BOOST_TEST(fx.left(r.entry) == 30);
    BOOST_TEST(fx.t->count_by_proto(proto::udplite) == 1u);
}

BOOST_AUTO_TEST_CASE(udp_bad_checksum_is_invalid) {
    Fx fx;
    BOOST_TEST(fx.feed(q(), false).state == CtState::invalid);
    BOOST_TEST(fx.t->size() == 0u);
}

BOOST_AUTO_TEST_CASE(icmp_echo_request_creates_entry_and_reply_is_established) {
    Fx fx;
    auto r = fx.feed(icmp_pkt(C, D, 8, 0, 77));
    BOOST_TEST(r.state == CtState::new_);
    BOOST_TEST(fx.left(r.entry) == 30);
    auto r2 = fx.feed(icmp_pkt(D, C, 0, 0, 77));
    BOOST_TEST(r2.state == CtState::established);
    BOOST_TEST(r2.dir == CtDir::reply);
    BOOST_TEST(r2.entry == r.entry);
    BOOST_TEST((fx.t->get(r.entry).status & cs::assured) == 0u);  // ICMP is never assured
}

BOOST_AUTO_TEST_CASE(icmp_echo_reply_without_request_is_invalid) {
    Fx fx;
    BOOST_TEST(fx.feed(icmp_pkt(D, C, 0, 0, 77)).state == CtState::invalid);
    BOOST_TEST(fx.t->size() == 0u);
}

BOOST_AUTO_TEST_CASE(icmp_echo_with_other_id_is_another_connection) {
    Fx fx;
    fx.feed(icmp_pkt(C, D, 8, 0, 77));
    BOOST_TEST(fx.feed(icmp_pkt(D, C, 0, 0, 78)).state == CtState::invalid);
    BOOST_TEST(fx.feed(icmp_pkt(C, D, 8, 0, 78)).state == CtState::new_);
    BOOST_TEST(fx.t->size() == 2u);
}

BOOST_AUTO_TEST_CASE(icmp_non_query_type_is_invalid) {
    Fx fx;
    BOOST_TEST(fx.feed(icmp_pkt(C, D, 9)).state == CtState::invalid);   // router advertisement
    BOOST_TEST(fx.feed(icmp_pkt(C, D, 40)).state == CtState::invalid);  // > NR_ICMP_TYPES
}

BOOST_AUTO_TEST_CASE(icmp_error_quoting_tracked_udp_is_related_in_reply_direction) {
    Fx fx;
    auto u = fx.feed(q());
    auto r = fx.feed(icmp_err(D, C, 3, 3, proto::udp, C, 5000, D, 53));
    BOOST_TEST(r.state == CtState::related);
    BOOST_TEST(r.dir == CtDir::reply);
    BOOST_TEST(r.entry == u.entry);
    BOOST_TEST(fx.t->get(u.entry).pkts[1] == 0u);  // not accounted on the master
}

BOOST_AUTO_TEST_CASE(icmp_error_from_a_router_on_the_path_is_related) {
    Fx fx;
    fx.feed(q());
    auto r = fx.feed(icmp_err("198.51.100.7", C, 11, 0, proto::udp, C, 5000, D, 53));
    BOOST_TEST(r.state == CtState::related);
}

BOOST_AUTO_TEST_CASE(icmp_error_in_original_direction_is_related_original) {
    Fx fx;
    fx.feed(q());
    fx.feed(a());
    // the answer bounced: the error goes back to the server
    auto r = fx.feed(icmp_err(C, D, 3, 3, proto::udp, D, 53, C, 5000));
    BOOST_TEST(r.state == CtState::related);
    BOOST_TEST(r.dir == CtDir::original);
}

BOOST_AUTO_TEST_CASE(icmp_error_quoting_nothing_tracked_is_invalid) {
    Fx fx;
    auto r = fx.feed(icmp_err(D, C, 3, 3, proto::udp, C, 5000, D, 53));
    BOOST_TEST(r.state == CtState::invalid);
    BOOST_TEST(fx.t->size() == 0u);
}

BOOST_AUTO_TEST_CASE(icmp_error_to_another_destination_is_invalid) {
    Fx fx;
    fx.feed(q());
    auto r = fx.feed(icmp_err(D, "10.0.0.99", 3, 3, proto::udp, C, 5000, D, 53));
    BOOST_TEST(r.state == CtState::invalid);
}

BOOST_AUTO_TEST_CASE(icmp_error_quoting_tcp_connection_is_related) {
    Fx fx;
    fx.c(tf::syn, 1000, 0);
    auto r = fx.feed(icmp_err(S, C, 3, 1, proto::tcp, C, CP, S, SP));
    BOOST_TEST(r.state == CtState::related);
    BOOST_TEST(r.tcp_state == TcpState::syn_sent);
}

BOOST_AUTO_TEST_CASE(icmpv6_neighbour_discovery_is_untracked) {
    Fx fx;
    auto r = fx.feed(icmp_pkt("fe80::1", "ff02::1:ff00:2", 135));
    BOOST_TEST(r.state == CtState::untracked);
    BOOST_TEST(r.entry == ct::kNoEntry);
    BOOST_TEST(fx.feed(icmp_pkt("fe80::1", "ff02::1", 134)).state == CtState::untracked);
}

BOOST_AUTO_TEST_CASE(icmpv6_echo_is_tracked) {
    Fx fx;
    auto r = fx.feed(icmp_pkt("2001:db8::1", "2001:db8::2", 128, 0, 9));
    BOOST_TEST(r.state == CtState::new_);
    auto r2 = fx.feed(icmp_pkt("2001:db8::2", "2001:db8::1", 129, 0, 9));
    BOOST_TEST(r2.state == CtState::established);
    BOOST_TEST(fx.t->count_by_proto(proto::icmpv6) == 1u);
}

BOOST_AUTO_TEST_CASE(icmpv6_error_quoting_tracked_udp_is_related) {
    Fx fx;
    fx.feed(udp_pkt("2001:db8::1", 5000, "2001:db8::2", 53));
    auto r = fx.feed(icmp_err("2001:db8::2", "2001:db8::1", 1, 4, proto::udp, "2001:db8::1",
                              5000, "2001:db8::2", 53));
    BOOST_TEST(r.state == CtState::related);
    BOOST_TEST(r.dir == CtDir::reply);
}

BOOST_AUTO_TEST_CASE(generic_protocol_uses_generic_timeout) {
    Fx fx;
    auto r = fx.feed(raw_pkt(C, S, proto::esp));
    BOOST_TEST(r.state == CtState::new_);
    BOOST_TEST(fx.left(r.entry) == 600);
    auto r2 = fx.feed(raw_pkt(S, C, proto::esp));
    BOOST_TEST(r2.state == CtState::established);
    BOOST_TEST(r2.dir == CtDir::reply);
    BOOST_TEST((fx.t->get(r.entry).status & cs::assured) == 0u);
}

BOOST_AUTO_TEST_CASE(gre_gets_stream_timeout_and_assured_after_a_reply) {
    Fx fx;
    auto r = fx.feed(raw_pkt(C, S, proto::gre));
    BOOST_TEST(fx.left(r.entry) == 30);
    fx.feed(raw_pkt(S, C, proto::gre));
    BOOST_TEST(fx.left(r.entry) == 30);  // SEEN_REPLY is set after the tracker ran
    BOOST_TEST((fx.t->get(r.entry).status & cs::assured) == 0u);
    fx.feed(raw_pkt(C, S, proto::gre));
    BOOST_TEST(fx.left(r.entry) == 180);
    BOOST_TEST((fx.t->get(r.entry).status & cs::assured) != 0u);
}
