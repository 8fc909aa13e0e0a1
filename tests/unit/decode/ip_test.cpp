#include <boost/test/unit_test.hpp>

#include "frames.hpp"

using namespace frames;
using namespace fwsim;

BOOST_AUTO_TEST_CASE(ipv4_fields_and_options_are_decoded) {
    V4 o;
    o.id = 0x4242;
    o.ttl = 17;
    o.df = true;
    o.options = {0x01, 0x01, 0x01, 0x00};  // NOP NOP NOP EOL
    const Bytes f = eth(0x0800, ipv4(proto::udp, udp(53000, 53, fill(10)), o));
    const Packet p = decode_eth(f);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.ip_hdr_len == 24);
    BOOST_TEST(p.l4_offset == 38);
    BOOST_TEST(p.ip_id == 0x4242);
    BOOST_TEST(p.ttl == 17);
    BOOST_TEST(p.dont_frag);
    BOOST_TEST(!p.is_fragment);
    BOOST_TEST(p.ip_len == 42u);
    BOOST_TEST(p.l4_len == 18u);
    BOOST_TEST(p.payload_len == 10u);
    BOOST_TEST(p.dport == 53);
}

BOOST_AUTO_TEST_CASE(ipv4_first_fragment_has_l4_and_later_fragment_has_none) {
    V4 first;
    first.mf = true;
    first.id = 7;
    // 16 bytes of a longer UDP datagram: the UDP length (200) is not checked.
    Bytes l4 = udp(40000, 5000, fill(192));
    l4.resize(16);
    const Bytes f1 = eth(0x0800, ipv4(proto::udp, l4, first));
    Packet p = decode_eth(f1);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.is_fragment);
    BOOST_TEST(p.more_frags);
    BOOST_TEST(p.frag_offset == 0);
    BOOST_TEST(p.frag_id == 7u);
    BOOST_TEST(p.has_l4);
    BOOST_TEST(p.sport == 40000);

    V4 later;
    later.frag_offset = 16;
    later.id = 7;
    const Bytes f2 = eth(0x0800, ipv4(proto::udp, fill(8), later));
    p = decode_eth(f2);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.is_fragment);
    BOOST_TEST(!p.more_frags);
    BOOST_TEST(p.frag_offset == 16);
    BOOST_TEST(!p.has_l4);
    BOOST_TEST(p.sport == 0);
    BOOST_TEST(p.l4_len == 8u);
}

BOOST_AUTO_TEST_CASE(first_fragment_too_short_for_its_l4_header_is_not_malformed) {
    V4 o;
    o.mf = true;
    const Bytes f = eth(0x0800, ipv4(proto::tcp, fill(8, 0), o));  // 8 of 20 TCP header bytes
    const Packet p = decode_eth(f);
    BOOST_TEST(p.ok());
    BOOST_TEST(!p.has_l4);
    BOOST_TEST(p.is_fragment);
}

BOOST_AUTO_TEST_CASE(ipv6_extension_chain_is_walked_to_the_transport_header) {
    // hop-by-hop -> routing -> dstopts -> AH (len 4 -> 24 bytes) -> TCP
    Bytes ah(24, 0);
    ah[0] = proto::tcp;
    ah[1] = 4;
    const Bytes ext = cat({ext8(proto::ipv6_route), ext8(proto::ipv6_dstopts), ext8(proto::ah), ah});
    const Bytes f = eth(0x86dd, ipv6(proto::hopopts, tcp(52000, 443, tcpflag::syn), ext, proto::tcp));
    const Packet p = decode_eth(f);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.l4proto == proto::tcp);
    BOOST_TEST(p.ip_hdr_len == 40 + 24 + 24);
    BOOST_TEST(p.l4_offset == 14 + 88);
    BOOST_TEST(p.sport == 52000);
    BOOST_TEST(p.ip_len == 40u + 48u + 20u);
    BOOST_TEST(l4_checksum_ok(p));
}

BOOST_AUTO_TEST_CASE(ipv6_no_next_header_is_generic) {
    const Bytes f = eth(0x86dd, ipv6(proto::ipv6_nonxt, {}));
    const Packet p = decode_eth(f);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.l4proto == proto::ipv6_nonxt);
    BOOST_TEST(p.has_l4);
    BOOST_TEST(p.l4_len == 0u);
}

BOOST_AUTO_TEST_CASE(ipv6_fragment_header_fields_and_atomic_fragment) {
    const Bytes first = eth(0x86dd, ipv6(proto::ipv6_frag, udp(40002, 5000, fill(40)),
                                         frag_hdr(proto::udp, 0, true, 0x2001), proto::udp));
    Packet p = decode_eth(first);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.is_fragment);
    BOOST_TEST(p.more_frags);
    BOOST_TEST(p.frag_id == 0x2001u);
    BOOST_TEST(p.l4proto == proto::udp);
    BOOST_TEST(p.has_l4);
    BOOST_TEST(p.dport == 5000);

    const Bytes later = eth(0x86dd, ipv6(proto::ipv6_frag, fill(24), frag_hdr(proto::udp, 1232, false, 0x2001),
                                         proto::udp, V6{.fix_l4_csum = false}));
    p = decode_eth(later);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.is_fragment);
    BOOST_TEST(p.frag_offset == 1232);
    BOOST_TEST(!p.has_l4);
    BOOST_TEST(p.l4proto == proto::udp);

    // RFC 6946: offset 0 and M clear is not a fragment at all.
    const Bytes atomic = eth(0x86dd, ipv6(proto::ipv6_frag, udp(1, 2, fill(4)), frag_hdr(proto::udp, 0, false, 9),
                                          proto::udp));
    p = decode_eth(atomic);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(!p.is_fragment);
    BOOST_TEST(p.has_l4);
    BOOST_TEST(p.sport == 1);
}

BOOST_AUTO_TEST_CASE(snaplen_cut_packet_with_its_headers_is_not_malformed) {
    // A 1000-byte TCP segment captured with a 96-byte snaplen.
    const Bytes whole = eth(0x0800, ipv4(proto::tcp, tcp(51000, 443, tcpflag::ack | tcpflag::psh, 1, 1, {}, fill(960))));
    const Bytes cut(whole.begin(), whole.begin() + 96);
    Packet p;
    p.wire_len = uint32_t(whole.size());
    p.cap_len = 96;
    decode_frame(dlt::en10mb, cut, p);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.ip_len == 1000u);     // accounting follows the IP header
    BOOST_TEST(p.payload_len == 960u);
    BOOST_TEST(p.has_l4);
    BOOST_TEST(l4_checksum_ok(p));     // cannot be checked: given the benefit

    // The same bytes claimed to be the whole frame: the IP length lies.
    const Packet q = decode_eth(cut);
    BOOST_TEST(std::string(q.error) == "ipv4: total length 1000 > 82 captured");

    // Cut inside the TCP header: the header we need is missing.
    const Bytes cut2(whole.begin(), whole.begin() + 40);
    Packet r;
    r.wire_len = uint32_t(whole.size());
    decode_frame(dlt::en10mb, cut2, r);
    BOOST_TEST(std::string(r.error) == "tcp: header truncated by capture (6 of 20 bytes)");

    // A cut frame whose IP length exceeds even the wire length is still broken.
    Packet s;
    s.wire_len = 60;
    decode_frame(dlt::en10mb, cut2, s);
    BOOST_TEST(std::string(s.error) == "ipv4: total length 1000 > 46 on wire");
}

BOOST_AUTO_TEST_CASE(decode_ip_reads_a_bare_datagram_and_keeps_record_fields) {
    const Bytes d = ipv4(proto::udp, udp(5, 6, fill(3)));
    Packet p;
    p.index = 9;
    p.ts = 123;
    decode_ip(d, p);
    BOOST_TEST_REQUIRE(p.ok());
    BOOST_TEST(p.index == 9u);
    BOOST_TEST(p.ts == 123);
    BOOST_TEST(p.l3_offset == 0);
    BOOST_TEST(p.ethertype == 0x0800);
    BOOST_TEST(p.payload_len == 3u);
}

BOOST_AUTO_TEST_CASE(malformed_layer_tells_ip_from_transport_errors) {
    Bytes bad_ip = eth(0x0800, ipv4(proto::udp, udp(1, 2)));
    bad_ip[14] = 0x44;
    BOOST_TEST(int(malformed_layer(decode_eth(bad_ip))) == int(MalformedLayer::ip));
    Bytes l4 = udp(1, 2);
    put16(l4, 4, 4);
    const Bytes bad_udp = eth(0x0800, ipv4(proto::udp, l4));
    BOOST_TEST(int(malformed_layer(decode_eth(bad_udp))) == int(MalformedLayer::l4));
    const Bytes short_eth(10, 0);
    BOOST_TEST(int(malformed_layer(decode_eth(short_eth))) == int(MalformedLayer::link));
    const Bytes ok = eth(0x0800, ipv4(proto::udp, udp(1, 2)));
    BOOST_TEST(int(malformed_layer(decode_eth(ok))) == int(MalformedLayer::none));
}

// The IPv4 header checksum (summed in three loads for a 20-byte header, by
// a loop of 32-bit words with options): any single flipped bit after the
// version/IHL byte changes the one's-complement sum, so every one must be
// caught, with and without options.
BOOST_AUTO_TEST_CASE(ipv4_header_checksum_catches_every_single_bit_flip) {
    for (const Bytes& options : {Bytes{}, Bytes{0x01, 0x01, 0x01, 0x00}}) {
        V4 o;
        o.options = options;
        const Bytes good = eth(0x0800, ipv4(proto::udp, udp(1000, 53, fill(12)), o));
        BOOST_TEST_REQUIRE(decode_eth(good).ok());
        const size_t ihl = 20 + options.size();
        for (size_t byte = 1; byte < ihl; ++byte)
            for (int bit = 0; bit < 8; ++bit) {
                Bytes f = good;
                f[14 + byte] ^= uint8_t(1 << bit);
                const Packet p = decode_eth(f);
                BOOST_TEST(std::string(p.error).starts_with("ipv4: bad header checksum"),
                           "byte " << byte << " bit " << bit << ": " << p.error);
            }
    }
}

// Headers whose words carry in every position (0xff bytes) and random ones,
// checksummed by a byte-at-a-time sum, all verify.
BOOST_AUTO_TEST_CASE(ipv4_header_checksum_accepts_right_sums_with_carries) {
    uint32_t x = 12345;
    for (int i = 0; i < 500; ++i) {
        Bytes f = eth(0x0800, ipv4(proto::udp, udp(1000, 53, fill(12))));
        for (size_t k = 4; k < 20; ++k) {
            if (k == 6 || k == 7 || k == 9 || k == 10 || k == 11) continue;  // flags/offset, protocol, checksum
            x = x * 1103515245 + 12345;
            f[14 + k] = i % 3 == 0 ? 0xff : uint8_t(x >> 16);
        }
        uint32_t s = 0;
        put16(f, 24, 0);
        for (size_t k = 0; k < 20; k += 2) s += uint32_t(f[14 + k]) << 8 | f[14 + k + 1];
        while (s >> 16) s = (s & 0xffff) + (s >> 16);
        put16(f, 24, uint16_t(~s));
        const Packet p = decode_eth(f);
        BOOST_TEST(p.ok(), "header " << i << ": " << p.error);
    }
}

// The same for headers with options, 24 to 60 bytes (their own summing
// loop): right sums with carries in every position verify, and one flipped
// bit in the options is caught.
BOOST_AUTO_TEST_CASE(ipv4_header_checksum_with_options_of_every_length) {
    uint32_t x = 777;
    for (size_t optlen = 4; optlen <= 40; optlen += 4)
        for (int i = 0; i < 60; ++i) {
            V4 o;
            o.options = Bytes(optlen, 0x01);
            Bytes f = eth(0x0800, ipv4(proto::udp, udp(1000, 53, fill(12)), o));
            const size_t ihl = 20 + optlen;
            BOOST_TEST_REQUIRE(size_t(f[14] & 0x0f) * 4 == ihl);
            for (size_t k = 4; k < ihl; ++k) {
                if (k == 6 || k == 7 || k == 9 || k == 10 || k == 11) continue;  // flags/offset, protocol, checksum
                x = x * 1103515245 + 12345;
                f[14 + k] = i % 3 == 0 ? 0xff : uint8_t(x >> 16);
            }
            uint32_t s = 0;
            put16(f, 24, 0);
            for (size_t k = 0; k < ihl; k += 2) s += uint32_t(f[14 + k]) << 8 | f[14 + k + 1];
            while (s >> 16) s = (s & 0xffff) + (s >> 16);
            put16(f, 24, uint16_t(~s));
            const Packet p = decode_eth(f);
            BOOST_TEST(p.ok(), "options " << optlen << " header " << i << ": " << p.error);
            f[14 + 20 + size_t(x >> 8) % optlen] ^= uint8_t(1u << (x % 8));
            BOOST_TEST(std::string(decode_eth(f).error).starts_with("ipv4: bad header checksum"),
                       "options " << optlen << " header " << i);
        }
}
