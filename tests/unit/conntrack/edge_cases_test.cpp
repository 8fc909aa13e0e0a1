#include <string>

#include <boost/test/unit_test.hpp>

#include "fixture.hpp"

using namespace fwsim;
using namespace fwsim::test;

BOOST_AUTO_TEST_CASE(zero_window_shortens_established_timeout_to_max_retrans) {
    Fx fx;
    fx.handshake();
    fx.s(tf::ack, 5001, 1001, 0, /*win=*/0);
    BOOST_TEST(fx.tcp_left() == 300);
    fx.c(tf::ack, 1001, 5001);
    BOOST_TEST(fx.tcp_left() == 432000);
}

BOOST_AUTO_TEST_CASE(challenge_ack_in_last_ack_does_not_move_to_time_wait) {
    Fx fx;
    fx.handshake();
    fx.c(tf::fin | tf::ack, 1001, 5001);
    fx.s(tf::ack, 5001, 1002);
    fx.s(tf::fin | tf::ack, 5001, 1002);
    BOOST_TEST(fx.c(tf::syn, 80000, 0).ignored);  // spurious SYN in LAST_ACK
    auto r = fx.s(tf::ack, 5002, 1002);            // RFC 5961 challenge ACK
    BOOST_TEST(r.ignored);
    BOOST_TEST(fx.tcp_state() == TcpState::last_ack);
}

BOOST_AUTO_TEST_CASE(out_of_window_fin_answering_rst_lowers_assured_timeout) {
    Fx fx;
    fx.handshake();
    BOOST_TEST(fx.s(tf::rst, 5001 + 200000, 0).state == CtState::invalid);
    BOOST_TEST(fx.tcp_left() == 432000);
    BOOST_TEST(fx.c(tf::fin | tf::ack, 1001 + 200000, 5001).state == CtState::invalid);
    BOOST_TEST(fx.tcp_left() == 300);  // nf_tcp_handle_invalid(): unacknowledged timeout
    BOOST_TEST(fx.tcp_state() == TcpState::established);
}

BOOST_AUTO_TEST_CASE(rst_right_after_own_data_closes) {
    Fx fx;
    fx.handshake();
    fx.s(tf::ack | tf::psh, 5001, 1001, 100);
    auto r = fx.s(tf::rst, 5101, 0);  // a RST train: P 5001:5101, R 5101
    BOOST_TEST(r.tcp_state == TcpState::close);
}

BOOST_AUTO_TEST_CASE(reopen_moves_the_gauges_to_the_new_entry) {
    Fx fx;
    fx.handshake();
    fx.c(tf::fin | tf::ack, 1001, 5001);
    fx.s(tf::fin | tf::ack, 5001, 1002);
    fx.c(tf::ack, 1002, 5002);
    BOOST_TEST(fx.t->count_by_tcp_state(TcpState::time_wait) == 1u);
    fx.c(tf::syn, 20000, 0);
    BOOST_TEST(fx.t->count_by_tcp_state(TcpState::time_wait) == 0u);
    BOOST_TEST(fx.t->count_by_tcp_state(TcpState::syn_sent) == 1u);
    BOOST_TEST(fx.t->count_by_proto(proto::tcp) == 1u);
    BOOST_TEST(fx.t->counters().new_ == 2u);
    BOOST_TEST(fx.t->counters().destroyed == 1u);
}

BOOST_AUTO_TEST_CASE(udp_packet_exactly_two_seconds_later_is_not_yet_a_stream) {
    Fx fx;
    fx.feed(udp_pkt(C, 5000, S, 53));
    fx.now += kSecond;
    fx.feed(udp_pkt(S, 53, C, 5000));
    fx.now += kSecond;  // exactly stream_ts: time_after() is strict
    auto r = fx.feed(udp_pkt(C, 5000, S, 53));
    BOOST_TEST((fx.t->get(r.entry).status & cs::assured) == 0u);
    BOOST_TEST(fx.left(r.entry) == 30);
    fx.now += 1;
    r = fx.feed(udp_pkt(C, 5000, S, 53));
    BOOST_TEST((fx.t->get(r.entry).status & cs::assured) != 0u);
}

BOOST_AUTO_TEST_CASE(icmp_error_quoting_an_echo_request_is_related) {
    Fx fx;
    auto e = fx.feed(icmp_pkt(C, S, 8, 0, 5));
    Packet err = icmp_pkt("198.51.100.1", C, 11, 0);
    err.inner.present = true;
    err.inner.has_ports = true;
    err.inner.family = Family::ipv4;
    err.inner.l4proto = proto::icmp;
    err.inner.src = ip(C);
    err.inner.dst = ip(S);
    err.inner.icmp_type = 8;
    err.inner.icmp_id = 5;
    auto r = fx.feed(err);
    BOOST_TEST(r.state == CtState::related);
    BOOST_TEST(r.entry == e.entry);
    BOOST_TEST(r.dir == CtDir::reply);
}

BOOST_AUTO_TEST_CASE(icmp_error_with_truncated_quote_is_invalid) {
    Fx fx;
    fx.feed(udp_pkt(C, 5000, S, 53));
    Packet err = icmp_err(S, C, 3, 3, proto::udp, C, 5000, S, 53);
    err.inner.has_ports = false;
    BOOST_TEST(fx.feed(err).state == CtState::invalid);
}

BOOST_AUTO_TEST_CASE(icmp_bad_checksum_is_invalid) {
    Fx fx;
    BOOST_TEST(fx.feed(icmp_pkt(C, S, 8, 0, 5), false).state == CtState::invalid);
    BOOST_TEST(fx.t->size() == 0u);
}

BOOST_AUTO_TEST_CASE(table_full_check_comes_before_the_tracker) {
    // __nf_conntrack_alloc() runs before tcp_new(): a packet that would be
    // invalid still meets the limit first.
    Config c;
    c.ct_max = 1;
    Fx fx(c, 1);
    fx.handshake();
    auto r = fx.feed(tcp_pkt("10.0.0.9", 1234, S, SP, tf::fin | tf::ack, 1, 1));
    BOOST_TEST(r.table_full);  // not "invalid": the limit is met first
    BOOST_TEST(fx.t->counters().table_full_drops == 1u);
    BOOST_TEST(fx.t->counters().invalid == 0u);
}

BOOST_AUTO_TEST_CASE(dump_shows_tcp_syn_sent_as_unreplied) {
    Fx fx;
    fx.c(tf::syn, 1000, 0);
    const std::string want =
        "ipv4     2 tcp      6 120 SYN_SENT src=10.0.0.1 dst=192.0.2.1 sport=40000 dport=80 "
        "packets=1 bytes=40 [UNREPLIED] src=192.0.2.1 dst=10.0.0.1 sport=80 dport=40000 "
        "packets=0 bytes=0 mark=0 zone=0 use=2\n";
    BOOST_TEST(fx.t->dump(fx.now) == want);
}

BOOST_AUTO_TEST_CASE(dump_without_accounting_omits_counters) {
    Config c;
    c.ct_acct = 0;
    Fx fx(c);
    fx.feed(raw_pkt(C, S, 50));  // ESP, generic
    const std::string want =
        "ipv4     2 unknown  50 600 src=10.0.0.1 dst=192.0.2.1 [UNREPLIED] src=192.0.2.1 "
        "dst=10.0.0.1 mark=0 zone=0 use=2\n";
    BOOST_TEST(fx.t->dump(fx.now) == want);
}

BOOST_AUTO_TEST_CASE(killed_entry_slot_is_reused_only_after_the_next_call) {
    Fx fx;
    fx.c(tf::syn, 1000, 0);
    auto r = fx.s(tf::rst | tf::ack, 0, 1001, 0, 0);  // kills
    BOOST_TEST(fx.t->valid(r.entry));
    auto u = fx.feed(udp_pkt(C, 5000, S, 53));
    BOOST_TEST(u.entry == r.entry);  // the slot came back
    BOOST_TEST(fx.t->get(u.entry).tuple[0].proto == proto::udp);
}

BOOST_AUTO_TEST_CASE(dump_prints_gre_as_proc_net_nf_conntrack) {
    // Checked against /proc/net/nf_conntrack of Linux 6.18.
    Fx fx;
    fx.feed(raw_pkt("127.0.0.1", "127.0.0.1", proto::gre, 12));
    const std::string want =
        "ipv4     2 gre      47 29 timeout=30, stream_timeout=180 src=127.0.0.1 dst=127.0.0.1 "
        "srckey=0x0 dstkey=0x0 packets=1 bytes=32 [UNREPLIED] src=127.0.0.1 dst=127.0.0.1 "
        "srckey=0x0 dstkey=0x0 packets=0 bytes=0 mark=0 zone=0 use=2\n";
    BOOST_TEST(fx.t->dump(fx.now + kSecond / 2) == want);
}
