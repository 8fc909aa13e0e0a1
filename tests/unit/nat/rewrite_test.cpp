#include <boost/test/unit_test.hpp>

#include <cstring>
#include <vector>

#include "fwsim/nat/nat.hpp"

using namespace fwsim;
using namespace fwsim::nat;

namespace {

// An independent RFC 1071 sum, so that the tests do not trust the code under test.
uint32_t sum(const uint8_t* p, size_t n, uint32_t s = 0) {
    for (size_t i = 0; i + 1 < n; i += 2) s += uint32_t(p[i]) << 8 | p[i + 1];
    if (n & 1) s += uint32_t(p[n - 1]) << 8;
    return s;
}
uint16_t fold(uint32_t s) {
    while (s >> 16) s = (s & 0xffff) + (s >> 16);
    return uint16_t(~s);
}
uint16_t g16(const std::vector<uint8_t>& b, size_t o) { return uint16_t(b[o] << 8 | b[o + 1]); }
void p16(std::vector<uint8_t>& b, size_t o, uint16_t v) {
    b[o] = uint8_t(v >> 8);
    b[o + 1] = uint8_t(v);
}

IpAddr ip(const char* s) {
    Family f;
    return *parse_addr(s, &f);
}

uint32_t pseudo(Family f, const uint8_t* src, const uint8_t* dst, uint8_t proto, size_t len) {
    const size_t a = f == Family::ipv4 ? 4 : 16;
    uint32_t s = sum(src, a);
    s = sum(dst, a, s);
    return s + proto + uint32_t(len >> 16) + uint32_t(len & 0xffff);
}

// Full recomputes: 0 when the checksum is right.
uint16_t ipv4_hdr_check(const std::vector<uint8_t>& b, size_t off = 0) {
    return fold(sum(&b[off], size_t(b[off] & 0xf) * 4));
}
uint16_t l4_check(const std::vector<uint8_t>& b, Family f, size_t ip_off, size_t l4_off, uint8_t proto,
                  bool with_pseudo) {
    const size_t len = b.size() - l4_off;
    uint32_t s = sum(&b[l4_off], len);
    if (with_pseudo) {
        if (f == Family::ipv4) s += pseudo(f, &b[ip_off + 12], &b[ip_off + 16], proto, len);
        else s += pseudo(f, &b[ip_off + 8], &b[ip_off + 24], proto, len);
    }
    return fold(s);
}

// Builds IPv4 + L4 with correct checksums. l4 holds the header with a zero checksum.
std::vector<uint8_t> ipv4(const char* src, const char* dst, uint8_t proto, std::vector<uint8_t> l4, size_t csum_off,
                          bool pseudo_hdr = true) {
    std::vector<uint8_t> b(20);
    b[0] = 0x45;
    p16(b, 2, uint16_t(20 + l4.size()));
    p16(b, 4, 0x1234);
    b[8] = 64;
    b[9] = proto;
    std::memcpy(&b[12], ip(src).b.data(), 4);
    std::memcpy(&b[16], ip(dst).b.data(), 4);
    p16(b, 10, fold(sum(b.data(), 20)));
    b.insert(b.end(), l4.begin(), l4.end());
    uint16_t c = l4_check(b, Family::ipv4, 0, 20, proto, pseudo_hdr);
    p16(b, 20 + csum_off, c);
    return b;
}

std::vector<uint8_t> ipv6(const char* src, const char* dst, uint8_t proto, std::vector<uint8_t> l4, size_t csum_off) {
    std::vector<uint8_t> b(40);
    b[0] = 0x60;
    p16(b, 4, uint16_t(l4.size()));
    b[6] = proto;
    b[7] = 64;
    std::memcpy(&b[8], ip(src).b.data(), 16);
    std::memcpy(&b[24], ip(dst).b.data(), 16);
    b.insert(b.end(), l4.begin(), l4.end());
    p16(b, 40 + csum_off, l4_check(b, Family::ipv6, 0, 40, proto, true));
    return b;
}

std::vector<uint8_t> tcp_hdr(uint16_t sport, uint16_t dport) {
    std::vector<uint8_t> t(20 + 5, 0);
    p16(t, 0, sport);
    p16(t, 2, dport);
    t[4] = 0x11, t[7] = 0x42;  // seq
    t[12] = 0x50;
    t[13] = 0x18;
    p16(t, 14, 64240);
    std::memcpy(&t[20], "hello", 5);
    return t;
}
std::vector<uint8_t> udp_hdr(uint16_t sport, uint16_t dport) {
    std::vector<uint8_t> u(8 + 3, 0);
    p16(u, 0, sport);
    p16(u, 2, dport);
    p16(u, 4, uint16_t(u.size()));
    u[8] = 'a', u[9] = 'b', u[10] = 'c';
    return u;
}
std::vector<uint8_t> echo(uint8_t type, uint16_t id) {
    std::vector<uint8_t> e(8 + 4, 0);
    e[0] = type;
    p16(e, 4, id);
    p16(e, 6, 1);
    e[8] = 0xde, e[9] = 0xad, e[10] = 0xbe, e[11] = 0xef;
    return e;
}

Tuple tup(const char* src, uint16_t sport, const char* dst, uint16_t dport, uint8_t p) {
    Tuple t;
    Family f = Family::none;
    t.src = *parse_addr(src, &f);
    t.dst = ip(dst);
    t.family = f;
    t.sport = sport;
    t.dport = dport;
    t.proto = p;
    return t;
}

}  // namespace

BOOST_AUTO_TEST_CASE(ipv4_tcp_snat_fixes_header_and_tcp_checksums) {
    auto b = ipv4("192.168.1.10", "93.184.216.34", proto::tcp, tcp_hdr(51000, 443), 16);
    rewrite(b, Family::ipv4, tup("192.168.1.10", 51000, "93.184.216.34", 443, proto::tcp),
            tup("203.0.113.1", 61000, "93.184.216.34", 443, proto::tcp), false);
    BOOST_TEST(std::memcmp(&b[12], ip("203.0.113.1").b.data(), 4) == 0);
    BOOST_TEST(g16(b, 20) == 61000);
    BOOST_TEST(g16(b, 22) == 443);
    BOOST_TEST(ipv4_hdr_check(b) == 0);
    BOOST_TEST(l4_check(b, Family::ipv4, 0, 20, proto::tcp, true) == 0);
    BOOST_TEST(b[8] == 64);  // not forwarded: TTL kept
}

BOOST_AUTO_TEST_CASE(forwarded_packet_ttl_is_decremented_with_checksum) {
    auto b = ipv4("198.51.100.7", "203.0.113.1", proto::tcp, tcp_hdr(40000, 80), 16);
    rewrite(b, Family::ipv4, tup("198.51.100.7", 40000, "203.0.113.1", 80, proto::tcp),
            tup("198.51.100.7", 40000, "192.168.1.5", 8080, proto::tcp), true);
    BOOST_TEST(b[8] == 63);
    BOOST_TEST(g16(b, 22) == 8080);
    BOOST_TEST(ipv4_hdr_check(b) == 0);
    BOOST_TEST(l4_check(b, Family::ipv4, 0, 20, proto::tcp, true) == 0);
}

BOOST_AUTO_TEST_CASE(ipv4_udp_checksum_fixed_and_zero_checksum_stays_zero) {
    auto b = ipv4("192.168.1.10", "8.8.8.8", proto::udp, udp_hdr(5000, 53), 6);
    const Tuple from = tup("192.168.1.10", 5000, "8.8.8.8", 53, proto::udp);
    const Tuple to = tup("203.0.113.1", 6000, "8.8.8.8", 53, proto::udp);
    rewrite(b, Family::ipv4, from, to, false);
    BOOST_TEST(g16(b, 26) != 0);
    BOOST_TEST(l4_check(b, Family::ipv4, 0, 20, proto::udp, true) == 0);
    BOOST_TEST(ipv4_hdr_check(b) == 0);

    auto z = ipv4("192.168.1.10", "8.8.8.8", proto::udp, udp_hdr(5000, 53), 6);
    p16(z, 26, 0);  // no checksum
    rewrite(z, Family::ipv4, from, to, false);
    BOOST_TEST(g16(z, 26) == 0);
    BOOST_TEST(g16(z, 20) == 6000);
    BOOST_TEST(ipv4_hdr_check(z) == 0);
}

BOOST_AUTO_TEST_CASE(icmp_echo_id_rewrite_fixes_icmp_checksum) {
    auto b = ipv4("192.168.1.10", "8.8.8.8", proto::icmp, echo(8, 0x1234), 2, false);
    rewrite(b, Family::ipv4, tup("192.168.1.10", 0x1234, "8.8.8.8", 8 << 8, proto::icmp),
            tup("203.0.113.1", 0x4321, "8.8.8.8", 8 << 8, proto::icmp), true);
    BOOST_TEST(g16(b, 24) == 0x4321);
    BOOST_TEST(l4_check(b, Family::ipv4, 0, 20, proto::icmp, false) == 0);
    BOOST_TEST(ipv4_hdr_check(b) == 0);
    BOOST_TEST(b[8] == 63);
}

BOOST_AUTO_TEST_CASE(icmp_error_rewrites_quoted_packet_and_all_checksums) {
    // The quoted packet as it left the firewall: 203.0.113.1:5000 -> 8.8.8.8:53.
    auto inner = ipv4("203.0.113.1", "8.8.8.8", proto::udp, udp_hdr(5000, 53), 6);
    std::vector<uint8_t> icmp = {3, 3, 0, 0, 0, 0, 0, 0};
    icmp.insert(icmp.end(), inner.begin(), inner.end());
    auto b = ipv4("10.0.0.1", "203.0.113.1", proto::icmp, icmp, 2, false);
    rewrite_icmp_error(b, Family::ipv4, tup("10.0.0.1", 0, "203.0.113.1", 0x303, proto::icmp),
                       tup("10.0.0.1", 0, "192.168.1.10", 0x303, proto::icmp),
                       tup("203.0.113.1", 5000, "8.8.8.8", 53, proto::udp),
                       tup("192.168.1.10", 4000, "8.8.8.8", 53, proto::udp), true);
    BOOST_TEST(std::memcmp(&b[16], ip("192.168.1.10").b.data(), 4) == 0);
    BOOST_TEST(std::memcmp(&b[28 + 12], ip("192.168.1.10").b.data(), 4) == 0);
    BOOST_TEST(g16(b, 48) == 4000);
    BOOST_TEST(ipv4_hdr_check(b) == 0);
    BOOST_TEST(l4_check(b, Family::ipv4, 0, 20, proto::icmp, false) == 0);
    BOOST_TEST(ipv4_hdr_check(b, 28) == 0);
    BOOST_TEST(l4_check(b, Family::ipv4, 28, 48, proto::udp, true) == 0);
    BOOST_TEST(b[8] == 63);
    BOOST_TEST(b[28 + 8] == 64);  // the quoted TTL is history: untouched
}

BOOST_AUTO_TEST_CASE(ipv6_tcp_snat_fixes_checksum_and_hop_limit) {
    auto b = ipv6("fd00::10", "2606:4700::1111", proto::tcp, tcp_hdr(50000, 443), 16);
    rewrite(b, Family::ipv6, tup("fd00::10", 50000, "2606:4700::1111", 443, proto::tcp),
            tup("2001:db8:ffff::1", 50001, "2606:4700::1111", 443, proto::tcp), true);
    BOOST_TEST(std::memcmp(&b[8], ip("2001:db8:ffff::1").b.data(), 16) == 0);
    BOOST_TEST(g16(b, 40) == 50001);
    BOOST_TEST(l4_check(b, Family::ipv6, 0, 40, proto::tcp, true) == 0);
    BOOST_TEST(b[7] == 63);
}

BOOST_AUTO_TEST_CASE(icmpv6_echo_rewrite_fixes_pseudo_header_checksum) {
    auto b = ipv6("fd00::10", "2606:4700::1111", proto::icmpv6, echo(128, 77), 2);
    rewrite(b, Family::ipv6, tup("fd00::10", 77, "2606:4700::1111", 128 << 8, proto::icmpv6),
            tup("2001:db8:ffff::1", 78, "2606:4700::1111", 128 << 8, proto::icmpv6), false);
    BOOST_TEST(g16(b, 44) == 78);
    BOOST_TEST(l4_check(b, Family::ipv6, 0, 40, proto::icmpv6, true) == 0);
}

BOOST_AUTO_TEST_CASE(icmpv6_error_rewrites_quoted_packet) {
    auto inner = ipv6("2001:db8:ffff::1", "2606:4700::1111", proto::udp, udp_hdr(5000, 53), 6);
    std::vector<uint8_t> icmp = {1, 4, 0, 0, 0, 0, 0, 0};
    icmp.insert(icmp.end(), inner.begin(), inner.end());
    auto b = ipv6("2001:db8:aaaa::1", "2001:db8:ffff::1", proto::icmpv6, icmp, 2);
    rewrite_icmp_error(b, Family::ipv6, tup("2001:db8:aaaa::1", 0, "2001:db8:ffff::1", 0x104, proto::icmpv6),
                       tup("2001:db8:aaaa::1", 0, "fd00::10", 0x104, proto::icmpv6),
                       tup("2001:db8:ffff::1", 5000, "2606:4700::1111", 53, proto::udp),
                       tup("fd00::10", 5000, "2606:4700::1111", 53, proto::udp), false);
    BOOST_TEST(std::memcmp(&b[24], ip("fd00::10").b.data(), 16) == 0);
    BOOST_TEST(std::memcmp(&b[48 + 8], ip("fd00::10").b.data(), 16) == 0);
    BOOST_TEST(l4_check(b, Family::ipv6, 0, 40, proto::icmpv6, true) == 0);
    BOOST_TEST(l4_check(b, Family::ipv6, 48, 88, proto::udp, true) == 0);
}

namespace {
std::vector<uint8_t> unhex(const char* h) {
    std::vector<uint8_t> v;
    for (size_t i = 0; h[i] && h[i + 1]; i += 2) v.push_back(uint8_t(std::stoi(std::string(h + i, 2), nullptr, 16)));
    return v;
}
}  // namespace

BOOST_AUTO_TEST_CASE(sctp_port_rewrite_recomputes_crc32c) {
    // Both packets made by scapy (IP/SCTP/DATA "hi"), which computes the CRC32c.
    auto b = unhex("450000341234000040849650c0a8010a080808081388000901020304fa1d3289"
                   "0000001200000001000000000000000068690000");
    const auto want = unhex("450000341234000040841c01cb007101080808081770000901020304573961c9"
                            "0000001200000001000000000000000068690000");
    rewrite(b, Family::ipv4, tup("192.168.1.10", 5000, "8.8.8.8", 9, proto::sctp),
            tup("203.0.113.1", 6000, "8.8.8.8", 9, proto::sctp), false);
    BOOST_TEST(b == want, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(icmp_error_quoting_8_bytes_of_tcp_rewrites_ports_only) {
    auto inner = ipv4("203.0.113.1", "93.184.216.34", proto::tcp, tcp_hdr(5000, 443), 16);
    inner.resize(28);  // RFC 792: IP header + 8 bytes
    std::vector<uint8_t> icmp = {11, 0, 0, 0, 0, 0, 0, 0};
    icmp.insert(icmp.end(), inner.begin(), inner.end());
    auto b = ipv4("10.0.0.1", "203.0.113.1", proto::icmp, icmp, 2, false);
    rewrite_icmp_error(b, Family::ipv4, tup("10.0.0.1", 0, "203.0.113.1", 0xb00, proto::icmp),
                       tup("10.0.0.1", 0, "192.168.1.10", 0xb00, proto::icmp),
                       tup("203.0.113.1", 5000, "93.184.216.34", 443, proto::tcp),
                       tup("192.168.1.10", 4000, "93.184.216.34", 443, proto::tcp), false);
    BOOST_TEST(g16(b, 48) == 4000);
    BOOST_TEST(ipv4_hdr_check(b, 28) == 0);
    BOOST_TEST(l4_check(b, Family::ipv4, 0, 20, proto::icmp, false) == 0);
}

BOOST_AUTO_TEST_CASE(truncated_capture_is_rewritten_as_far_as_it_goes) {
    auto b = ipv4("192.168.1.10", "93.184.216.34", proto::tcp, tcp_hdr(51000, 443), 16);
    b.resize(22);  // only the source port of TCP was captured
    rewrite(b, Family::ipv4, tup("192.168.1.10", 51000, "93.184.216.34", 443, proto::tcp),
            tup("203.0.113.1", 61000, "93.184.216.34", 80, proto::tcp), true);
    BOOST_TEST(g16(b, 20) == 61000);
    BOOST_TEST(ipv4_hdr_check(b) == 0);
    b.resize(10);  // not even an IP header: left alone
    const auto copy = b;
    rewrite(b, Family::ipv4, tup("192.168.1.10", 51000, "93.184.216.34", 443, proto::tcp),
            tup("203.0.113.1", 61000, "93.184.216.34", 80, proto::tcp), true);
    BOOST_TEST((b == copy));
}
