#define BOOST_TEST_MODULE base
#include <boost/test/unit_test.hpp>

#include "fwsim/checksum.hpp"
#include "fwsim/config.hpp"
#include "fwsim/error.hpp"
#include "fwsim/net.hpp"
#include "fwsim/time.hpp"
#include "fwsim/tuple.hpp"

using namespace fwsim;

BOOST_AUTO_TEST_CASE(ipv4_and_ipv6_addresses_round_trip) {
    Family f;
    auto a = parse_addr("192.168.1.10", &f);
    BOOST_TEST_REQUIRE(a.has_value());
    BOOST_TEST(int(f) == int(Family::ipv4));
    BOOST_TEST(to_string(f, *a) == "192.168.1.10");
    auto b = parse_addr("2001:0db8:0000::0001", &f);
    BOOST_TEST_REQUIRE(b.has_value());
    BOOST_TEST(to_string(f, *b) == "2001:db8::1");
    BOOST_TEST(!parse_addr("300.1.1.1", &f).has_value());
    BOOST_TEST(!parse_addr("", &f).has_value());
}

BOOST_AUTO_TEST_CASE(prefix_contains_only_its_own_family_and_bits) {
    auto p = parse_prefix("10.1.2.3/8");
    BOOST_TEST_REQUIRE(p.has_value());
    BOOST_TEST(to_string(*p) == "10.0.0.0/8");
    Family f;
    BOOST_TEST(p->contains(Family::ipv4, *parse_addr("10.200.0.1", &f)));
    BOOST_TEST(!p->contains(Family::ipv4, *parse_addr("11.0.0.1", &f)));
    auto q = parse_prefix("2001:db8:1::/48");
    BOOST_TEST(q->contains(Family::ipv6, *parse_addr("2001:db8:1:ffff::1", &f)));
    BOOST_TEST(!q->contains(Family::ipv6, *parse_addr("2001:db8:2::1", &f)));
    BOOST_TEST(!parse_prefix("10.0.0.0/33").has_value());
    BOOST_TEST(!parse_prefix("10.0.0.0/").has_value());
    auto h = parse_prefix("192.168.1.1/24", true);
    BOOST_TEST(to_string(*h) == "192.168.1.1/24");
}

BOOST_AUTO_TEST_CASE(timestamps_print_to_the_capture_precision) {
    BOOST_TEST(format_ts(1700000000'000123000LL, 6) == "1700000000.000123");
    BOOST_TEST(format_ts(1700000000'000123456LL, 9) == "1700000000.000123456");
    BOOST_TEST(format_ts(5'500000000LL, 6) == "5.500000");
}

BOOST_AUTO_TEST_CASE(config_keys_accept_fwsim_and_sysctl_names) {
    Config c;
    BOOST_TEST(set_config(c, "timeout.tcp.established", "300").empty());
    BOOST_TEST(c.tcp_established == 300u);
    BOOST_TEST(set_config(c, "net.netfilter.nf_conntrack_udp_timeout", "5").empty());
    BOOST_TEST(c.udp_unreplied == 5u);
    BOOST_TEST(set_config(c, "nf_conntrack_max", "1000").empty());
    BOOST_TEST(c.ct_max == 1000u);
    BOOST_TEST(set_config(c, "timeout.tcp.establshed", "1").find("unknown configuration key") == 0u);
    BOOST_TEST(set_config(c, "tcp.loose", "yes").find("bad value") == 0u);
}

BOOST_AUTO_TEST_CASE(icmp_echo_tuple_inverts_to_echo_reply) {
    Family f;
    Tuple t;
    t.family = Family::ipv4;
    t.proto = proto::icmp;
    t.src = *parse_addr("10.0.0.1", &f);
    t.dst = *parse_addr("10.0.0.2", &f);
    t.sport = 77;
    t.dport = 8 << 8;
    Tuple r;
    BOOST_TEST(invert(t, &r));
    BOOST_TEST(r.dport == 0);
    BOOST_TEST(r.sport == 77);
    BOOST_TEST((r.src == t.dst));
    t.dport = 3 << 8;  // destination unreachable has no inverse
    BOOST_TEST(!invert(t, &r));
}

BOOST_AUTO_TEST_CASE(incremental_checksum_matches_full_recompute) {
    uint8_t hdr[20] = {0x45, 0, 0, 60, 0x1c, 0x46, 0x40, 0, 0x40, 6, 0, 0, 192, 168, 1, 10, 93, 184, 216, 34};
    const uint16_t c1 = csum_fold(csum_partial(hdr));
    Family f;
    IpAddr o = *parse_addr("192.168.1.10", &f), n = *parse_addr("203.0.113.1", &f);
    const uint16_t inc = csum_replace_addr(c1, Family::ipv4, o, n);
    hdr[12] = 203; hdr[13] = 0; hdr[14] = 113; hdr[15] = 1;
    BOOST_TEST(inc == csum_fold(csum_partial(hdr)));
}

BOOST_AUTO_TEST_CASE(input_error_renders_a_caret_under_the_column) {
    InputError e("r.nft", 3, 5, "unknown chain \"web\"", "\tjump web");
    BOOST_TEST(e.render() == "r.nft:3:5: unknown chain \"web\"\n\tjump web\n\t   ^");
}
