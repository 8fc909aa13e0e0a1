#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

using namespace fwsim;
using namespace fwsim::test;

BOOST_AUTO_TEST_CASE(data_in_window_is_accepted_and_counted) {
    Fx fx;
    fx.handshake();
    auto r = fx.c(tf::ack | tf::psh, 1001, 5001, 100);
    BOOST_TEST(r.state == CtState::established);
    BOOST_TEST(!r.ignored);
    const auto& en = fx.t->get(r.entry);
    BOOST_TEST(en.pkts[0] == 3u);
    BOOST_TEST(en.bytes[0] == 40u + 40u + 140u);
}

BOOST_AUTO_TEST_CASE(data_far_beyond_the_window_is_invalid) {
    Fx fx;
    fx.handshake();
    auto r = fx.c(tf::ack, 1001 + 200000, 5001, 100);
    BOOST_TEST(r.state == CtState::invalid);
    BOOST_TEST(fx.t->get(fx.tcp_entry()).pkts[0] == 2u);  // not counted
}

BOOST_AUTO_TEST_CASE(data_slightly_beyond_the_window_is_ignored) {
    // "%u bytes more than expected": tolerated, NFCT_TCP_IGNORE in 6.x.
    Fx fx;
    fx.handshake();
    auto r = fx.c(tf::ack, 1001 + 70000, 5001, 100);
    BOOST_TEST(r.state == CtState::established);
    BOOST_TEST(r.ignored);
}

BOOST_AUTO_TEST_CASE(ack_for_data_not_seen_is_invalid) {
    Fx fx;
    fx.handshake();
    BOOST_TEST(fx.c(tf::ack, 1001, 5011).state == CtState::invalid);
}

BOOST_AUTO_TEST_CASE(old_retransmission_below_the_window_is_ignored) {
    Fx fx;
    fx.handshake();
    fx.c(tf::ack, 1001, 5001, 60000);
    fx.s(tf::ack, 5001, 61001);
    fx.c(tf::ack, 61001, 5001, 60000);
    auto pk = fx.t->get(fx.tcp_entry()).pkts[0];
    auto r = fx.c(tf::ack, 1001, 5001, 100);  // already ACKed long ago
    BOOST_TEST(r.state == CtState::established);
    BOOST_TEST(r.ignored);
    BOOST_TEST(fx.t->get(fx.tcp_entry()).pkts[0] == pk);
}

BOOST_AUTO_TEST_CASE(be_liberal_accepts_out_of_window_data) {
    Config c;
    c.tcp_be_liberal = 1;
    Fx fx(c);
    fx.handshake();
    auto r = fx.c(tf::ack, 1001 + 200000, 5001, 100);
    BOOST_TEST(r.state == CtState::established);
    BOOST_TEST(!r.ignored);
}

namespace {
// Handshake with window scaling offered by the client, and by the server
// when `server_scales`; then both advertise raw window 2048.
void scaled_handshake(Fx& fx, bool server_scales) {
    TcpOpts cw{7, false, 0};
    TcpOpts sw{server_scales ? int8_t(7) : int8_t(-1), false, 0};
    if (!server_scales) sw.sack_perm = true;  // some option, just not wscale
    fx.c(tf::syn, 1000, 0, 0, 65535, cw);
    fx.s(tf::syn | tf::ack, 5000, 1001, 0, 65535, sw);
    fx.c(tf::ack, 1001, 5001, 0, 2048);
    fx.s(tf::ack, 5001, 1001, 0, 2048);
}
}  // namespace

BOOST_AUTO_TEST_CASE(window_scaling_widens_the_window_when_both_sides_offer_it) {
    Fx fx;
    scaled_handshake(fx, true);
    BOOST_TEST(fx.t->get(fx.tcp_entry()).tcp.seen[0].td_scale == 7);
    auto r = fx.c(tf::ack, 201001, 5001, 1000);  // within 2048 << 7
    BOOST_TEST(r.state == CtState::established);
    BOOST_TEST(!r.ignored);
}

BOOST_AUTO_TEST_CASE(window_scaling_is_off_when_one_side_does_not_offer_it) {
    Fx fx;
    scaled_handshake(fx, false);
    BOOST_TEST(fx.t->get(fx.tcp_entry()).tcp.seen[0].td_scale == 0);
    BOOST_TEST(fx.c(tf::ack, 201001, 5001, 1000).state == CtState::invalid);
}

BOOST_AUTO_TEST_CASE(sack_edge_beyond_sent_data_is_invalid_when_sack_permitted) {
    Fx fx;
    TcpOpts sp{-1, true, 0};
    fx.c(tf::syn, 1000, 0, 0, 65535, sp);
    fx.s(tf::syn | tf::ack, 5000, 1001, 0, 65535, sp);
    fx.c(tf::ack, 1001, 5001);
    fx.c(tf::ack, 1001, 5001, 1000);  // client data up to 2001
    BOOST_TEST(fx.s(tf::ack, 5001, 1001, 0, 65535, {-1, false, 2001}).state ==
               CtState::established);
    BOOST_TEST(fx.s(tf::ack, 5001, 1001, 0, 65535, {-1, false, 3001}).state ==
               CtState::invalid);
}

BOOST_AUTO_TEST_CASE(sack_blocks_are_not_checked_without_sack_permitted) {
    Fx fx;
    fx.handshake();
    fx.c(tf::ack, 1001, 5001, 1000);
    BOOST_TEST(fx.s(tf::ack, 5001, 1001, 0, 65535, {-1, false, 3001}).state ==
               CtState::established);
}

BOOST_AUTO_TEST_CASE(repeated_identical_acks_shorten_timeout_to_max_retrans) {
    Fx fx;
    fx.handshake();  // its last ACK is (1001, 5001)
    fx.c(tf::ack, 1001, 5001);
    fx.c(tf::ack, 1001, 5001);
    BOOST_TEST(fx.tcp_left() == 432000);  // two retransmissions
    fx.c(tf::ack, 1001, 5001);
    BOOST_TEST(fx.t->get(fx.tcp_entry()).tcp.retrans == 3);
    BOOST_TEST(fx.tcp_left() == 300);  // tcp.max_retrans reached
    fx.s(tf::ack, 5001, 1001, 10);     // something new resets nothing on the other side...
    fx.c(tf::ack, 1001, 5011);         // ...a new ACK resets the count
    BOOST_TEST(fx.tcp_left() == 432000);
}

BOOST_AUTO_TEST_CASE(unacknowledged_data_shortens_timeout_until_acked) {
    Fx fx;
    fx.handshake();
    fx.c(tf::ack | tf::psh, 1001, 5001, 100);
    BOOST_TEST(fx.tcp_left() == 300);  // timeout.tcp.unacknowledged
    fx.s(tf::ack, 5001, 1101);
    BOOST_TEST(fx.tcp_left() == 432000);
}

BOOST_AUTO_TEST_CASE(loose_pickup_creates_established_entry_with_short_timeout) {
    Fx fx;
    auto r = fx.c(tf::ack, 1001, 5001, 100);
    BOOST_TEST(r.state == CtState::new_);
    BOOST_TEST(r.unconfirmed);
    BOOST_TEST(r.tcp_state == TcpState::established);
    BOOST_TEST(fx.tcp_left() == 300);
    BOOST_TEST((fx.t->get(r.entry).tcp.seen[0].flags & ct::tcpflags::be_liberal) != 0);
}

BOOST_AUTO_TEST_CASE(loose_pickup_becomes_assured_after_both_directions) {
    Fx fx;
    fx.c(tf::ack, 1001, 5001, 100);
    fx.s(tf::ack, 5001, 1101);
    BOOST_TEST((fx.t->get(fx.tcp_entry()).status & cs::assured) == 0u);
    BOOST_TEST(fx.tcp_left() == 300);
    fx.c(tf::ack, 1101, 5001);
    BOOST_TEST((fx.t->get(fx.tcp_entry()).status & cs::assured) != 0u);
    BOOST_TEST(fx.tcp_left() == 432000);
}

BOOST_AUTO_TEST_CASE(loose_off_refuses_mid_stream_pickup) {
    Config c;
    c.tcp_loose = 0;
    Fx fx(c);
    auto r = fx.c(tf::ack, 1001, 5001, 100);
    BOOST_TEST(r.state == CtState::invalid);
    BOOST_TEST(fx.t->size() == 0u);
    BOOST_TEST(fx.c(tf::syn, 1000, 0).state == CtState::new_);  // SYN still works
}

BOOST_AUTO_TEST_CASE(loose_pickup_does_not_apply_to_fin_or_rst) {
    Fx fx;
    BOOST_TEST(fx.c(tf::fin | tf::ack, 1001, 5001).state == CtState::invalid);
    BOOST_TEST(fx.c(tf::rst | tf::ack, 1001, 5001).state == CtState::invalid);
}
