#define BOOST_TEST_MODULE decode
#include <boost/test/unit_test.hpp>

#include "frames.hpp"

using namespace frames;
using namespace fwsim;

namespace {
Bytes syn4() { return ipv4(proto::tcp, tcp(51000, 443, tcpflag::syn)); }
Bytes ping6() { return ipv6(proto::icmpv6, icmp(128, 0, 9, 1)); }
}  // namespace

BOOST_AUTO_TEST_CASE(ethernet_ipv4_tcp_is_decoded) {
    const Bytes f = eth(0x0800, syn4());
    const Packet p = decode_eth(f);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.ethertype == 0x0800);
    BOOST_TEST(p.l3_offset == 14);
    BOOST_TEST(int(p.family) == int(Family::ipv4));
    BOOST_TEST(to_string(p.family, p.src) == "192.168.1.10");
    BOOST_TEST(to_string(p.family, p.dst) == "93.184.216.34");
    BOOST_TEST(p.l4proto == proto::tcp);
    BOOST_TEST(p.has_l4);
    BOOST_TEST(p.sport == 51000);
    BOOST_TEST(p.dport == 443);
    BOOST_TEST(p.l4_offset == 34);
    BOOST_TEST(p.ip_len == 40u);
    BOOST_TEST(p.frame.size() == f.size());
}

BOOST_AUTO_TEST_CASE(vlan_and_qinq_tags_are_skipped) {
    Bytes one = eth(0x8100, cat({{0x00, 0x0a, 0x08, 0x00}, syn4()}));
    Packet p = decode_eth(one);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.vlan_depth == 1);
    BOOST_TEST(p.l3_offset == 18);
    BOOST_TEST(p.sport == 51000);

    Bytes two = eth(0x88a8, cat({{0x00, 0x64, 0x81, 0x00, 0x00, 0x0a, 0x86, 0xdd}, ping6()}));
    p = decode_eth(two);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.vlan_depth == 2);
    BOOST_TEST(p.ethertype == 0x86dd);
    BOOST_TEST(p.l3_offset == 22);
    BOOST_TEST(p.icmp_type == 128);

    Bytes old = eth(0x9100, cat({{0x00, 0x1e, 0x08, 0x00}, syn4()}));
    p = decode_eth(old);
    BOOST_TEST(p.ok());
    BOOST_TEST(p.vlan_depth == 1);
}

BOOST_AUTO_TEST_CASE(non_ip_ethertypes_are_not_ip) {
    Bytes arp = eth(0x0806, fill(28, 0));
    BOOST_TEST(int(decode_eth(arp).status) == int(DecodeStatus::not_ip));
    Bytes lldp = eth(0x88cc, fill(30, 0));
    BOOST_TEST(int(decode_eth(lldp).status) == int(DecodeStatus::not_ip));
    Bytes llc = eth(0x0026, fill(38, 0));  // 802.3 length field
    BOOST_TEST(int(decode_eth(llc).status) == int(DecodeStatus::not_ip));
    Bytes tagged_arp = eth(0x8100, cat({{0x00, 0x0a, 0x08, 0x06}, fill(28, 0)}));
    const Packet p = decode_eth(tagged_arp);
    BOOST_TEST(int(p.status) == int(DecodeStatus::not_ip));
    BOOST_TEST(p.ethertype == 0x0806);
}

BOOST_AUTO_TEST_CASE(ethernet_padding_beyond_total_length_is_ignored) {
    // A 40-byte IPv4 packet in a 60-byte minimum Ethernet frame: 6 bytes of padding.
    Bytes f = cat({eth(0x0800, syn4()), fill(6, 0)});
    const Packet p = decode_eth(f);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.ip_len == 40u);
    BOOST_TEST(p.l4_len == 20u);
    BOOST_TEST(p.payload_len == 0u);
    BOOST_TEST(l4_checksum_ok(p));
}

BOOST_AUTO_TEST_CASE(linux_cooked_v1_is_decoded) {
    Bytes h(16, 0);
    h[3] = 1;      // ARPHRD_ETHER
    h[5] = 6;      // address length
    h[14] = 0x86;  // protocol
    h[15] = 0xdd;
    const Bytes f = cat({h, ping6()});
    const Packet p = decode(dlt::linux_sll, f);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.l3_offset == 16);
    BOOST_TEST(int(p.family) == int(Family::ipv6));
    BOOST_TEST(p.icmp_id == 9);
}

BOOST_AUTO_TEST_CASE(linux_cooked_v2_sets_capture_interface_from_ifindex) {
    Bytes h(20, 0);
    h[0] = 0x08;  // protocol 0x0800
    h[7] = 3;     // ifindex 3
    h[9] = 1;
    h[11] = 6;
    const Bytes f = cat({h, syn4()});
    Packet p = decode(dlt::linux_sll2, f);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.capture_if == 3);
    BOOST_TEST(p.l3_offset == 20);
    // A pcapng interface id already known wins.
    Packet q;
    q.capture_if = 1;
    decode_frame(dlt::linux_sll2, f, q);
    BOOST_TEST(q.capture_if == 1);
}

BOOST_AUTO_TEST_CASE(raw_ip_link_types_use_the_version_nibble) {
    const Bytes v4 = syn4(), v6 = ping6();
    for (int d : {dlt::raw, dlt::linktype_raw}) {
        BOOST_TEST(int(decode(d, v4).family) == int(Family::ipv4));
        BOOST_TEST(int(decode(d, v6).family) == int(Family::ipv6));
    }
    BOOST_TEST(decode(dlt::ipv4, v4).ok());
    BOOST_TEST(decode(dlt::ipv6, v6).ok());
    // DLT_IPV4 announces IPv4: an IPv6 header there is broken.
    BOOST_TEST(std::string(decode(dlt::ipv4, v6).error) == "ipv4: version 6 != 4");
}

BOOST_AUTO_TEST_CASE(bsd_null_takes_either_byte_order_and_loop_network_order) {
    const Bytes le4 = cat({{2, 0, 0, 0}, syn4()});
    const Bytes be6 = cat({{0, 0, 0, 30}, ping6()});
    const Bytes le24 = cat({{24, 0, 0, 0}, ping6()});
    BOOST_TEST(int(decode(dlt::null, le4).family) == int(Family::ipv4));
    BOOST_TEST(int(decode(dlt::null, be6).family) == int(Family::ipv6));
    BOOST_TEST(int(decode(dlt::null, le24).family) == int(Family::ipv6));
    const Bytes loop4 = cat({{0, 0, 0, 2}, syn4()});
    const Bytes loop28 = cat({{0, 0, 0, 28}, ping6()});
    BOOST_TEST(decode(dlt::loop, loop4).ok());
    BOOST_TEST(int(decode(dlt::loop, loop28).family) == int(Family::ipv6));
    BOOST_TEST(int(decode(dlt::loop, le4).status) == int(DecodeStatus::not_ip));  // LOOP is never host order
    const Bytes other = cat({{7, 0, 0, 0}, syn4()});
    BOOST_TEST(int(decode(dlt::null, other).status) == int(DecodeStatus::not_ip));
}

BOOST_AUTO_TEST_CASE(unsupported_linktype_is_reported_and_capture_fields_kept) {
    const Bytes f = syn4();
    Packet p;
    p.index = 42;
    p.ts = 7;
    p.wire_len = p.cap_len = uint32_t(f.size());
    decode_frame(105 /* 802.11 */, f, p);
    BOOST_TEST(int(p.status) == int(DecodeStatus::unsupported_linktype));
    BOOST_TEST(p.index == 42u);
    BOOST_TEST(p.ts == 7);
    BOOST_TEST(!linktype_supported(105));
    for (int d : {0, 1, 12, 101, 108, 113, 228, 229, 276}) BOOST_TEST(linktype_supported(d));
}

BOOST_AUTO_TEST_CASE(decoding_again_resets_the_previous_packet) {
    const Bytes a = eth(0x0800, ipv4(proto::icmp, icmp(3, 3, 0, 0, ipv4(proto::udp, udp(1, 2)))));
    const Bytes b = eth(0x0806, fill(28, 0));
    Packet p;
    decode_frame(dlt::en10mb, a, p);
    BOOST_TEST(p.inner.present);
    decode_frame(dlt::en10mb, b, p);
    BOOST_TEST(!p.inner.present);
    BOOST_TEST(!p.has_l4);
    BOOST_TEST(int(p.family) == int(Family::none));
}
