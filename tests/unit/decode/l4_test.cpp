#include <boost/test/unit_test.hpp>

#include "frames.hpp"

using namespace frames;
using namespace fwsim;

BOOST_AUTO_TEST_CASE(tcp_header_fields_are_decoded) {
    const Bytes f = eth(0x0800, ipv4(proto::tcp, tcp(1, 2, tcpflag::syn | tcpflag::ack | tcpflag::ece, 0xfffffff0, 77, {}, fill(5))));
    const Packet p = decode_eth(f);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.tcp.seq == 0xfffffff0u);
    BOOST_TEST(p.tcp.ack == 77u);
    BOOST_TEST(p.tcp.flags == (tcpflag::syn | tcpflag::ack | tcpflag::ece));
    BOOST_TEST(p.tcp.window == 64240);
    BOOST_TEST(p.tcp.doff == 20);
    BOOST_TEST(p.payload_len == 5u);
    BOOST_TEST(p.tcp.wscale == -1);
    BOOST_TEST(p.tcp.mss == 0);
}

BOOST_AUTO_TEST_CASE(tcp_syn_options_are_parsed) {
    // MSS 1460, SACK-perm, TS 1000/0, NOP, WS 7
    const Bytes opts = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0x03, 0xe8, 0, 0, 0, 0, 1, 3, 3, 7};
    const Bytes f = eth(0x0800, ipv4(proto::tcp, tcp(1, 2, tcpflag::syn, 1, 0, opts)));
    const Packet p = decode_eth(f);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.tcp.doff == 40);
    BOOST_TEST(p.tcp.mss == 1460);
    BOOST_TEST(p.tcp.sack_perm);
    BOOST_TEST(p.tcp.has_ts);
    BOOST_TEST(p.tcp.tsval == 1000u);
    BOOST_TEST(p.tcp.tsecr == 0u);
    BOOST_TEST(p.tcp.wscale == 7);
}

BOOST_AUTO_TEST_CASE(tcp_nop_nop_timestamp_is_parsed) {
    // The layout of most established-connection segments (read by a shortcut)
    const Bytes opts = {1, 1, 8, 10, 0x11, 0x22, 0x33, 0x44, 0xfe, 0xdc, 0xba, 0x98};
    const Packet p = decode_eth(eth(0x0800, ipv4(proto::tcp, tcp(1, 2, tcpflag::ack, 1, 2, opts, fill(3)))));
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.tcp.doff == 32);
    BOOST_TEST(p.tcp.has_ts);
    BOOST_TEST(p.tcp.tsval == 0x11223344u);
    BOOST_TEST(p.tcp.tsecr == 0xfedcba98u);
    BOOST_TEST(!p.tcp.has_sack);
    BOOST_TEST(p.tcp.mss == 0);
    BOOST_TEST(p.payload_len == 3u);
    // The same 12 bytes with a timestamp length of 9 carry no timestamp
    // (tcp_options() takes it only when opsize == TCPOLEN_TIMESTAMP).
    const Bytes bad = {1, 1, 8, 9, 0x11, 0x22, 0x33, 0x44, 0xfe, 0xdc, 0xba, 0x98};
    BOOST_TEST(!decode_eth(eth(0x0800, ipv4(proto::tcp, tcp(1, 2, tcpflag::ack, 1, 2, bad)))).tcp.has_ts);
}

BOOST_AUTO_TEST_CASE(tcp_window_scale_is_clamped_to_14) {
    const Bytes opts = {3, 3, 20, 0};  // WS 20, EOL
    const Bytes f = eth(0x0800, ipv4(proto::tcp, tcp(1, 2, tcpflag::syn, 1, 0, opts)));
    BOOST_TEST(decode_eth(f).tcp.wscale == 14);
}

BOOST_AUTO_TEST_CASE(tcp_sack_records_the_highest_right_edge) {
    // NOP NOP SACK with 3 blocks; right edges 0xfffffff0, 0x10 (wrapped: "after" it), 8
    Bytes opts = {1, 1, 5, 26};
    Bytes blocks(24, 0);
    put32(blocks, 0, 4000);
    put32(blocks, 4, 0xfffffff0);
    put32(blocks, 8, 0xffffffe0);
    put32(blocks, 12, 0x10);
    put32(blocks, 16, 0);
    put32(blocks, 20, 8);
    opts = cat({opts, blocks, {1, 1}});
    const Bytes f = eth(0x0800, ipv4(proto::tcp, tcp(1, 2, tcpflag::ack, 1, 0xffffff00, opts)));
    const Packet p = decode_eth(f);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.tcp.has_sack);
    BOOST_TEST(p.tcp.sack_max_right == 0x10u);  // after() in sequence space
}

BOOST_AUTO_TEST_CASE(tcp_bad_option_length_ends_option_parsing_as_the_kernel_does) {
    // MSS with length 3 overruns nothing but is "silly" (not 4): ignored; then
    // a WS option whose length 9 runs past the header: parsing stops, the
    // packet is not malformed (tcp_options() just returns).
    const Bytes opts = {2, 3, 0x05, 3, 9, 7, 0, 0};
    const Bytes f = eth(0x0800, ipv4(proto::tcp, tcp(1, 2, tcpflag::syn, 1, 0, opts)));
    const Packet p = decode_eth(f);
    BOOST_TEST(p.ok());
    BOOST_TEST(p.tcp.mss == 0);
    BOOST_TEST(p.tcp.wscale == -1);
    // A zero-length option ("silly") ends parsing before a later TS.
    const Bytes opts2 = {7, 0, 1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0};
    const Bytes g = eth(0x0800, ipv4(proto::tcp, tcp(1, 2, tcpflag::syn, 1, 0, opts2)));
    BOOST_TEST(!decode_eth(g).tcp.has_ts);
}

BOOST_AUTO_TEST_CASE(udp_ports_and_payload_follow_the_udp_length) {
    Bytes l4 = udp(53000, 53, fill(20));
    put16(l4, 4, 18);  // UDP says 10 payload bytes, IP carries 20: the rest is trailer
    V4 o;
    o.fix_l4_csum = false;
    const Bytes f = eth(0x0800, ipv4(proto::udp, l4, o));
    const Packet p = decode_eth(f);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.sport == 53000);
    BOOST_TEST(p.payload_len == 10u);
    BOOST_TEST(p.l4_len == 28u);
}

BOOST_AUTO_TEST_CASE(udplite_and_sctp_ports_are_decoded) {
    Bytes lite = udp(1000, 2000, fill(12));
    put16(lite, 4, 8);  // checksum coverage: the header only
    const Bytes f = eth(0x0800, ipv4(proto::udplite, lite));
    Packet p = decode_eth(f);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.l4proto == proto::udplite);
    BOOST_TEST(p.dport == 2000);
    BOOST_TEST(p.payload_len == 12u);

    Bytes sctp(28, 0);
    put16(sctp, 0, 3868);
    put16(sctp, 2, 3869);
    const Bytes g = eth(0x86dd, ipv6(proto::sctp, sctp));
    p = decode_eth(g);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.sport == 3868);
    BOOST_TEST(p.dport == 3869);
    BOOST_TEST(p.payload_len == 16u);
}

BOOST_AUTO_TEST_CASE(icmp_echo_and_icmpv6_echo_have_id_and_sequence) {
    const Bytes f = eth(0x0800, ipv4(proto::icmp, icmp(8, 0, 0x1234, 7, fill(32))));
    Packet p = decode_eth(f);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.icmp_type == 8);
    BOOST_TEST(p.icmp_id == 0x1234);
    BOOST_TEST(p.icmp_seq == 7);
    BOOST_TEST(!p.inner.present);
    BOOST_TEST(p.is_icmp());

    const Bytes g = eth(0x86dd, ipv6(proto::icmpv6, icmp(129, 0, 9, 3)));
    p = decode_eth(g);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.icmp_type == 129);
    BOOST_TEST(p.icmp_id == 9);
    BOOST_TEST(p.icmp_seq == 3);

    // Not an id-bearing type: router advertisement.
    const Bytes ra = eth(0x86dd, ipv6(proto::icmpv6, icmp(134, 0, 0x4000, 0x0708)));
    p = decode_eth(ra);
    BOOST_TEST(p.icmp_id == 0);
}

BOOST_AUTO_TEST_CASE(icmp_error_quotes_inner_header_and_ports) {
    V4 q;
    q.src = "203.0.113.1";
    q.dst = "198.51.100.7";
    const Bytes quoted = ipv4(proto::udp, udp(33000, 33434, fill(5)), q);
    V4 o;
    o.src = "198.51.100.7";
    o.dst = "203.0.113.1";
    const Bytes f = eth(0x0800, ipv4(proto::icmp, icmp(3, 3, 0, 0, quoted), o));
    const Packet p = decode_eth(f);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.icmp_type == 3);
    BOOST_TEST(p.inner.present);
    BOOST_TEST(p.inner.has_ports);
    BOOST_TEST(int(p.inner.family) == int(Family::ipv4));
    BOOST_TEST(p.inner.l4proto == proto::udp);
    BOOST_TEST(to_string(Family::ipv4, p.inner.src) == "203.0.113.1");
    BOOST_TEST(to_string(Family::ipv4, p.inner.dst) == "198.51.100.7");
    BOOST_TEST(p.inner.sport == 33000);
    BOOST_TEST(p.inner.dport == 33434);
}

BOOST_AUTO_TEST_CASE(icmp_error_quoting_an_icmp_echo_keeps_its_id) {
    const Bytes quoted = ipv4(proto::icmp, icmp(8, 0, 0x4321, 1));
    const Bytes f = eth(0x0800, ipv4(proto::icmp, icmp(11, 0, 0, 0, quoted)));
    const Packet p = decode_eth(f);
    BOOST_TEST_REQUIRE(p.inner.has_ports);
    BOOST_TEST(p.inner.icmp_type == 8);
    BOOST_TEST(p.inner.icmp_id == 0x4321);
}

BOOST_AUTO_TEST_CASE(truncated_icmp_quote_is_not_malformed_for_the_outer_packet) {
    const Bytes quoted = ipv4(proto::tcp, tcp(51000, 443, tcpflag::syn));
    // Only the IP header and 2 bytes of TCP: addresses known, ports not.
    const Bytes short_quote(quoted.begin(), quoted.begin() + 22);
    const Bytes f = eth(0x0800, ipv4(proto::icmp, icmp(3, 1, 0, 0, short_quote)));
    Packet p = decode_eth(f);
    BOOST_TEST(p.ok());
    BOOST_TEST(p.inner.present);
    BOOST_TEST(!p.inner.has_ports);
    // 4 bytes of ports are enough for the kernel's tuple (nf_ct_get_tuple_ports()).
    const Bytes four(quoted.begin(), quoted.begin() + 24);
    const Bytes g = eth(0x0800, ipv4(proto::icmp, icmp(3, 1, 0, 0, four)));
    p = decode_eth(g);
    BOOST_TEST(p.inner.has_ports);
    BOOST_TEST(p.inner.dport == 443);
    // Less than an IP header: nothing quoted.
    const Bytes tiny(quoted.begin(), quoted.begin() + 12);
    const Bytes h = eth(0x0800, ipv4(proto::icmp, icmp(3, 1, 0, 0, tiny)));
    p = decode_eth(h);
    BOOST_TEST(p.ok());
    BOOST_TEST(!p.inner.present);
}

BOOST_AUTO_TEST_CASE(icmpv6_error_quotes_an_ipv6_header_through_its_extensions) {
    const Bytes quoted = ipv6(proto::ipv6_dstopts, udp(40000, 53), ext8(proto::udp), proto::udp,
                              V6{.src = "2001:db8:ffff::1", .dst = "2001:db8:beef::80"});
    const Bytes f = eth(0x86dd, ipv6(proto::icmpv6, icmp(1, 4, 0, 0, quoted), {}, 0,
                                     V6{.src = "2001:db8:beef::80", .dst = "2001:db8:ffff::1"}));
    const Packet p = decode_eth(f);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.icmp_type == 1);
    BOOST_TEST(p.inner.present);
    BOOST_TEST(p.inner.has_ports);
    BOOST_TEST(p.inner.l4proto == proto::udp);
    BOOST_TEST(p.inner.sport == 40000);
    BOOST_TEST(to_string(Family::ipv6, p.inner.src) == "2001:db8:ffff::1");
}

BOOST_AUTO_TEST_CASE(gre_and_esp_are_generic_with_no_ports) {
    const Bytes f = eth(0x0800, ipv4(proto::gre, fill(12)));
    Packet p = decode_eth(f);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.has_l4);
    BOOST_TEST(p.sport == 0);
    BOOST_TEST(p.dport == 0);
    BOOST_TEST(p.payload_len == 12u);
    const Bytes g = eth(0x86dd, ipv6(proto::esp, fill(16)));
    p = decode_eth(g);
    BOOST_TEST(p.ok());
    BOOST_TEST(p.l4proto == proto::esp);
}

BOOST_AUTO_TEST_CASE(l4_checksums_are_verified_per_protocol) {
    Bytes f = eth(0x0800, ipv4(proto::tcp, tcp(1, 2, tcpflag::syn, 5, 0, {}, fill(3))));
    BOOST_TEST(l4_checksum_ok(decode_eth(f)));
    f.back() ^= 1;
    BOOST_TEST(!l4_checksum_ok(decode_eth(f)));

    Bytes u = eth(0x0800, ipv4(proto::udp, udp(1, 2, fill(4))));
    BOOST_TEST(l4_checksum_ok(decode_eth(u)));
    u.back() ^= 1;
    BOOST_TEST(!l4_checksum_ok(decode_eth(u)));
    put16(u, 14 + 20 + 6, 0);  // no checksum: accepted (udp_error())
    BOOST_TEST(l4_checksum_ok(decode_eth(u)));

    Bytes i4 = eth(0x0800, ipv4(proto::icmp, icmp(8, 0, 1, 1, fill(8))));
    BOOST_TEST(l4_checksum_ok(decode_eth(i4)));
    i4.back() ^= 1;
    BOOST_TEST(!l4_checksum_ok(decode_eth(i4)));

    Bytes i6 = eth(0x86dd, ipv6(proto::icmpv6, icmp(128, 0, 1, 1, fill(8))));
    BOOST_TEST(l4_checksum_ok(decode_eth(i6)));
    i6.back() ^= 1;
    BOOST_TEST(!l4_checksum_ok(decode_eth(i6)));

    Bytes t6 = eth(0x86dd, ipv6(proto::tcp, tcp(1, 2, tcpflag::syn)));
    BOOST_TEST(l4_checksum_ok(decode_eth(t6)));
    t6[14 + 40 + 4] ^= 1;
    BOOST_TEST(!l4_checksum_ok(decode_eth(t6)));

    Bytes lite = udp(1, 2, fill(4));
    const Bytes zero_sum = eth(0x0800, ipv4(proto::udplite, lite));
    BOOST_TEST(!l4_checksum_ok(decode_eth(zero_sum)));  // UDP-Lite requires one (udplite_error())
}

BOOST_AUTO_TEST_CASE(every_icmpv6_type_below_128_is_an_error_with_a_quote) {
    const Bytes quoted = ipv6(proto::tcp, tcp(52000, 443, tcpflag::syn));
    const Bytes f = eth(0x86dd, ipv6(proto::icmpv6, icmp(100, 0, 0, 0, quoted)));  // private experimentation
    const Packet p = decode_eth(f);
    BOOST_TEST(p.inner.present);
    BOOST_TEST(p.inner.dport == 443);
    // Echo request (128) is not an error: its payload is not a quote.
    const Bytes g = eth(0x86dd, ipv6(proto::icmpv6, icmp(128, 0, 1, 1, quoted)));
    BOOST_TEST(!decode_eth(g).inner.present);
}
