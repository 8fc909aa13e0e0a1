// Every malformed case names what broke, exactly.
#include <boost/test/unit_test.hpp>

#include "frames.hpp"

using namespace frames;
using namespace fwsim;

namespace {

std::string error_of(int dlt, const Bytes& f) {
    const Packet p = decode(dlt, f);
    BOOST_TEST(int(p.status) == int(DecodeStatus::malformed));
    return p.error;
}
std::string eth_error(const Bytes& f) { return error_of(dlt::en10mb, f); }

Bytes good_udp4() { return ipv4(proto::udp, udp(1000, 53, fill(12))); }

}  // namespace

BOOST_AUTO_TEST_SUITE(malformed)

BOOST_AUTO_TEST_CASE(ethernet_frame_shorter_than_its_header) {
    BOOST_TEST(eth_error(Bytes(10, 0)) == "ethernet: frame 10 bytes < 14");
}
BOOST_AUTO_TEST_CASE(vlan_tag_cut_off) {
    BOOST_TEST(eth_error(eth(0x8100, {0x00, 0x0a})) == "ethernet: VLAN tag truncated");
}
BOOST_AUTO_TEST_CASE(more_than_eight_vlan_tags) {
    Bytes tags;
    for (int i = 0; i < 9; ++i) tags = cat({tags, {0x00, 0x01, 0x81, 0x00}});
    BOOST_TEST(eth_error(eth(0x8100, cat({tags, good_udp4()}))) == "ethernet: more than 8 VLAN tags");
}
BOOST_AUTO_TEST_CASE(cooked_v1_frame_shorter_than_its_header) {
    BOOST_TEST(error_of(dlt::linux_sll, Bytes(12, 0)) == "sll: frame 12 bytes < 16");
}
BOOST_AUTO_TEST_CASE(cooked_v2_frame_shorter_than_its_header) {
    BOOST_TEST(error_of(dlt::linux_sll2, Bytes(19, 0)) == "sll2: frame 19 bytes < 20");
}
BOOST_AUTO_TEST_CASE(null_frame_shorter_than_its_family) {
    BOOST_TEST(error_of(dlt::null, Bytes(2, 0)) == "null: frame 2 bytes < 4");
}
BOOST_AUTO_TEST_CASE(raw_frame_with_an_unknown_ip_version) {
    Bytes f = good_udp4();
    f[0] = 0x55;
    BOOST_TEST(error_of(dlt::raw, f) == "raw: IP version 5");
}
BOOST_AUTO_TEST_CASE(raw_frame_empty) {
    BOOST_TEST(error_of(dlt::linktype_raw, Bytes{}) == "raw: empty frame");
}
BOOST_AUTO_TEST_CASE(ipv4_shorter_than_a_header) {
    BOOST_TEST(eth_error(eth(0x0800, Bytes(12, 0x45))) == "ipv4: packet 12 bytes < 20");
}
BOOST_AUTO_TEST_CASE(ipv4_ethertype_carrying_ipv6) {
    BOOST_TEST(eth_error(eth(0x0800, ipv6(proto::udp, udp(1, 2)))) == "ipv4: version 6 != 4");
}
BOOST_AUTO_TEST_CASE(ipv4_header_length_below_20) {
    Bytes f = eth(0x0800, good_udp4());
    f[14] = 0x44;
    BOOST_TEST(eth_error(f) == "ipv4: header length 16 < 20");
}
BOOST_AUTO_TEST_CASE(ipv4_header_length_beyond_the_bytes) {
    Bytes d = good_udp4();
    d[0] = 0x4f;  // 60-byte header in a 40-byte packet
    BOOST_TEST(eth_error(eth(0x0800, d)) == "ipv4: header length 60 > 40 captured");
}
BOOST_AUTO_TEST_CASE(ipv4_bad_header_checksum) {
    Bytes f = eth(0x0800, good_udp4());
    put16(f, 14 + 10, 0x1234);
    BOOST_TEST(eth_error(f) == "ipv4: bad header checksum 0x1234");
}
BOOST_AUTO_TEST_CASE(ipv4_total_length_below_header_length) {
    Bytes f = eth(0x0800, good_udp4());
    put16(f, 14 + 2, 12);
    refix_ipv4(f, 14);
    BOOST_TEST(eth_error(f) == "ipv4: total length 12 < header length 20");
}
BOOST_AUTO_TEST_CASE(ipv4_total_length_beyond_the_captured_bytes) {
    Bytes f = eth(0x0800, good_udp4());
    put16(f, 14 + 2, 1500);
    refix_ipv4(f, 14);
    BOOST_TEST(eth_error(f) == "ipv4: total length 1500 > 40 captured");
}
BOOST_AUTO_TEST_CASE(ipv6_shorter_than_a_header) {
    Bytes d(20, 0);
    d[0] = 0x60;
    BOOST_TEST(eth_error(eth(0x86dd, d)) == "ipv6: packet 20 bytes < 40");
}
BOOST_AUTO_TEST_CASE(ipv6_ethertype_carrying_ipv4) {
    Bytes d = cat({good_udp4(), Bytes(20, 0)});
    BOOST_TEST(eth_error(eth(0x86dd, d)) == "ipv6: version 4 != 6");
}
BOOST_AUTO_TEST_CASE(ipv6_payload_length_beyond_the_bytes) {
    Bytes d = ipv6(proto::udp, udp(1, 2, fill(12)));
    put16(d, 4, 400);
    BOOST_TEST(eth_error(eth(0x86dd, d)) == "ipv6: payload length 400 > 20 captured");
}
BOOST_AUTO_TEST_CASE(ipv6_extension_header_chain_too_long) {
    Bytes ext;
    for (int i = 0; i < 17; ++i) ext = cat({ext, ext8(i == 16 ? proto::udp : proto::ipv6_dstopts)});
    BOOST_TEST(eth_error(eth(0x86dd, ipv6(proto::ipv6_dstopts, udp(1, 2), ext, proto::udp))) ==
               "ipv6: extension header chain too long");
}
BOOST_AUTO_TEST_CASE(ipv6_hop_by_hop_not_first) {
    const Bytes ext = cat({ext8(proto::hopopts), ext8(proto::udp)});
    BOOST_TEST(eth_error(eth(0x86dd, ipv6(proto::ipv6_dstopts, udp(1, 2), ext, proto::udp))) ==
               "ipv6: hop-by-hop header not first");
}
BOOST_AUTO_TEST_CASE(ipv6_extension_header_cut_before_its_length) {
    BOOST_TEST(eth_error(eth(0x86dd, ipv6(proto::ipv6_dstopts, {0x11}, {}, proto::ipv6_dstopts,
                                          V6{.fix_l4_csum = false}))) == "ipv6: extension header 60 truncated");
}
BOOST_AUTO_TEST_CASE(ipv6_extension_header_overrunning_the_packet) {
    Bytes r = ext8(proto::udp);
    r[1] = 1;  // 16 bytes, only 8 there
    BOOST_TEST(eth_error(eth(0x86dd, ipv6(proto::ipv6_route, r, {}, proto::ipv6_route, V6{.fix_l4_csum = false}))) ==
               "ipv6: extension header 43 length 16 overruns packet");
}
BOOST_AUTO_TEST_CASE(ipv6_fragment_header_cut) {
    BOOST_TEST(eth_error(eth(0x86dd, ipv6(proto::ipv6_frag, {17, 0, 0, 8}, {}, proto::ipv6_frag,
                                          V6{.fix_l4_csum = false}))) == "ipv6: extension header 44 truncated");
}
BOOST_AUTO_TEST_CASE(tcp_shorter_than_its_header) {
    BOOST_TEST(eth_error(eth(0x0800, ipv4(proto::tcp, fill(12, 0)))) == "tcp: packet 12 bytes < 20");
}
BOOST_AUTO_TEST_CASE(tcp_data_offset_below_5) {
    Bytes s = tcp(1, 2, tcpflag::syn);
    s[12] = 0x30;
    BOOST_TEST(eth_error(eth(0x0800, ipv4(proto::tcp, s))) == "tcp: data offset 3 < 5");
}
BOOST_AUTO_TEST_CASE(tcp_data_offset_beyond_the_segment) {
    Bytes s = tcp(1, 2, tcpflag::syn);
    s[12] = 0xf0;
    BOOST_TEST(eth_error(eth(0x0800, ipv4(proto::tcp, s))) == "tcp: data offset 15 (60 bytes) > segment 20 bytes");
}
BOOST_AUTO_TEST_CASE(tcp_options_cut_by_the_snaplen) {
    const Bytes opts = {2, 4, 5, 0xb4, 1, 3, 3, 7};
    const Bytes whole = eth(0x0800, ipv4(proto::tcp, tcp(1, 2, tcpflag::syn, 1, 0, opts)));
    const Bytes cut(whole.begin(), whole.begin() + 14 + 20 + 24);
    Packet p;
    p.wire_len = uint32_t(whole.size());
    decode_frame(dlt::en10mb, cut, p);
    BOOST_TEST(std::string(p.error) == "tcp: options truncated by capture (24 of 28 bytes)");
}
BOOST_AUTO_TEST_CASE(udp_shorter_than_its_header) {
    BOOST_TEST(eth_error(eth(0x0800, ipv4(proto::udp, fill(4, 0)))) == "udp: packet 4 bytes < 8");
}
BOOST_AUTO_TEST_CASE(udp_length_below_8) {
    Bytes u = udp(1, 2, fill(12));
    put16(u, 4, 4);
    BOOST_TEST(eth_error(eth(0x0800, ipv4(proto::udp, u))) == "udp: length 4 < 8");
}
BOOST_AUTO_TEST_CASE(udp_length_beyond_the_ip_payload) {
    Bytes u = udp(1, 2, fill(12));
    put16(u, 4, 600);
    BOOST_TEST(eth_error(eth(0x0800, ipv4(proto::udp, u))) == "udp: length 600 > ip payload 20");
}
BOOST_AUTO_TEST_CASE(udplite_bad_checksum_coverage) {
    Bytes u = udp(1, 2, fill(12));
    put16(u, 4, 4);
    BOOST_TEST(eth_error(eth(0x0800, ipv4(proto::udplite, u))) == "udplite: checksum coverage 4 invalid for 20 bytes");
}
BOOST_AUTO_TEST_CASE(sctp_shorter_than_its_common_header) {
    BOOST_TEST(eth_error(eth(0x0800, ipv4(proto::sctp, fill(8, 0)))) == "sctp: packet 8 bytes < 12");
}
BOOST_AUTO_TEST_CASE(icmp_shorter_than_its_header) {
    BOOST_TEST(eth_error(eth(0x0800, ipv4(proto::icmp, {8, 0, 0xf7, 0xff}))) == "icmp: packet 4 bytes < 8");
}
BOOST_AUTO_TEST_CASE(icmpv6_shorter_than_its_header) {
    BOOST_TEST(eth_error(eth(0x86dd, ipv6(proto::icmpv6, {128, 0, 0, 0, 0, 1}))) == "icmpv6: packet 6 bytes < 8");
}

BOOST_AUTO_TEST_SUITE_END()
