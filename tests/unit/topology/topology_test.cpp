#define BOOST_TEST_MODULE topology
#include <boost/test/unit_test.hpp>

#include "fwsim/topology/topology.hpp"
#include "../splitmix.hpp"

using namespace fwsim;

namespace {

IpAddr ip(const char* s) {
    Family f;
    return *parse_addr(s, &f);
}
Family fam(const char* s) {
    Family f = Family::none;
    parse_addr(s, &f);
    return f;
}
Prefix pf(const char* s, bool host = false) { return *parse_prefix(s, host); }

Packet pkt(const char* src, int32_t capture_if = -1) {
    Packet p;
    p.family = fam(src);
    p.src = ip(src);
    p.capture_if = capture_if;
    return p;
}

// lan0 10.1.0.1/16 with 10.1.5.0/24 behind dmz0 (more specific), wan0 default.
Topology three() {
    Interface lan{"lan0", {pf("10.1.0.1/16", true), pf("2001:db8:1::1/64", true)}, {}, false, {}};
    Interface dmz{"dmz0", {pf("10.2.0.1/24", true)}, {pf("10.1.5.0/24"), pf("2001:db8:1:5::/64")}, false, {3}};
    Interface wan{"wan0", {pf("198.51.100.2/30", true), pf("198.51.100.9/29", true)}, {}, true, {0, 7}};
    Route r{pf("10.9.0.0/16"), 1, std::nullopt};
    Route r2{pf("100.64.0.0/10"), 2, ip("198.51.100.10")};
    return Topology({lan, dmz, wan}, {r, r2});
}

}  // namespace

BOOST_AUTO_TEST_CASE(ingress_picks_longest_prefix_v4) {
    const Topology t = three();
    BOOST_TEST(t.ingress(pkt("10.1.7.7")) == 0);  // connected /16 of lan0
    BOOST_TEST(t.ingress(pkt("10.1.5.7")) == 1);  // dmz0's /24 subnet is longer
    BOOST_TEST(t.ingress(pkt("10.2.0.9")) == 1);  // dmz0 connected
}

BOOST_AUTO_TEST_CASE(ingress_picks_longest_prefix_v6) {
    const Topology t = three();
    BOOST_TEST(t.ingress(pkt("2001:db8:1::99")) == 0);
    BOOST_TEST(t.ingress(pkt("2001:db8:1:5::99")) == 1);  // dmz0 subnet, not lan0's 2001:db8:1:0::/64
    BOOST_TEST(t.ingress(pkt("2001:db8:77::1")) == 2);    // default
}

BOOST_AUTO_TEST_CASE(ingress_falls_back_to_default_interface) {
    const Topology t = three();
    BOOST_TEST(t.ingress(pkt("8.8.8.8")) == 2);
    const Topology none({Interface{"a0", {pf("10.0.0.1/24", true)}, {}, false, {}}}, {});
    BOOST_TEST(none.ingress(pkt("8.8.8.8")) == kNoIf);
}

BOOST_AUTO_TEST_CASE(capture_if_mapping_wins_over_addresses) {
    const Topology t = three();
    BOOST_TEST(t.ingress(pkt("10.1.7.7", 3)) == 1);
    BOOST_TEST(t.ingress(pkt("10.1.7.7", 7)) == 2);
    BOOST_TEST(t.ingress(pkt("10.1.7.7", 5)) == 0);  // unmapped id: by address
}

BOOST_AUTO_TEST_CASE(is_local_matches_only_host_addresses) {
    const Topology t = three();
    BOOST_TEST(t.is_local(Family::ipv4, ip("10.1.0.1")));
    BOOST_TEST(t.is_local(Family::ipv6, ip("2001:db8:1::1")));
    BOOST_TEST(!t.is_local(Family::ipv4, ip("10.1.0.2")));
    BOOST_TEST(!t.is_local(Family::ipv6, ip("10.1.0.1")));  // family matters
    BOOST_TEST(t.local_iface(Family::ipv4, ip("198.51.100.9")) == 2);
}

BOOST_AUTO_TEST_CASE(route_uses_longest_prefix_then_default) {
    const Topology t = three();
    BOOST_TEST(t.route(Family::ipv4, ip("10.9.3.3")) == 1);   // static route
    BOOST_TEST(t.route(Family::ipv4, ip("10.1.5.5")) == 1);   // subnet
    BOOST_TEST(t.route(Family::ipv4, ip("10.1.6.5")) == 0);   // connected
    BOOST_TEST(t.route(Family::ipv4, ip("1.1.1.1")) == 2);    // default
}

BOOST_AUTO_TEST_CASE(source_addr_prefers_address_on_destination_subnet) {
    const Topology t = three();
    BOOST_TEST((t.source_addr(2, Family::ipv4, ip("8.8.8.8")) == ip("198.51.100.2")));
    BOOST_TEST((t.source_addr(2, Family::ipv4, ip("198.51.100.12")) == ip("198.51.100.9")));
    BOOST_TEST(!t.source_addr(2, Family::ipv6, ip("2001:db8::1")).has_value());
    // Through a gateway: the address on the gateway's subnet (rt_nexthop()).
    BOOST_TEST((t.source_addr(2, Family::ipv4, ip("100.64.1.1")) == ip("198.51.100.9")));
    BOOST_TEST(!t.source_addr(kNoIf, Family::ipv4, ip("8.8.8.8")).has_value());
    BOOST_TEST((t.primary_addr(0, Family::ipv6) == ip("2001:db8:1::1")));
}

BOOST_AUTO_TEST_CASE(home_router_defaults) {
    const Topology t = Topology::home_router();
    BOOST_TEST(t.names() == (std::vector<std::string>{"lan0", "wan0"}));
    BOOST_TEST(t.default_iface() == 1);
    BOOST_TEST(t.ingress(pkt("192.168.1.50")) == 0);
    BOOST_TEST(t.ingress(pkt("10.20.30.40")) == 0);
    BOOST_TEST(t.ingress(pkt("172.31.0.1")) == 0);
    BOOST_TEST(t.ingress(pkt("172.32.0.1")) == 1);
    BOOST_TEST(t.ingress(pkt("fd12::5")) == 0);
    BOOST_TEST(t.ingress(pkt("fe80::1234")) == 0);
    BOOST_TEST(t.ingress(pkt("2606:4700::1111")) == 1);
    BOOST_TEST(t.is_local(Family::ipv4, ip("203.0.113.1")));
    BOOST_TEST(t.is_local(Family::ipv6, ip("fd00::1")));
    BOOST_TEST((t.source_addr(1, Family::ipv4, ip("93.184.216.34")) == ip("203.0.113.1")));
    BOOST_TEST((t.source_addr(1, Family::ipv6, ip("2606:4700::1111")) == ip("2001:db8:ffff::1")));
    BOOST_TEST(t.route(Family::ipv4, ip("192.168.1.77")) == 0);
    BOOST_TEST(t.route(Family::ipv4, ip("93.184.216.34")) == 1);
    BOOST_TEST(t.find("wan0") == 1);
    BOOST_TEST(t.find("eth0") == kNoIf);
}

// The lookups run on flattened word masks: check them against a plain
// longest-prefix match (Prefix::contains) over routes of every length
// 0-32 / 0-128, on addresses on both sides of each boundary.
BOOST_AUTO_TEST_CASE(route_lookup_agrees_with_prefix_contains_at_every_length) {
    std::vector<Route> routes;
    std::vector<Prefix> prefixes;
    const IpAddr v4 = ip("172.29.181.77"), v6 = ip("2001:db8:a5c3:7e19:f00d:1234:9abc:def1");
    for (unsigned len = 0; len <= 128; ++len) {
        for (Family f : {Family::ipv4, Family::ipv6}) {
            if (f == Family::ipv4 && len > 32) continue;
            Prefix p{f, mask_addr(f, f == Family::ipv4 ? v4 : v6, len), uint8_t(len)};
            routes.push_back({p, uint16_t(len % 2), std::nullopt});
            prefixes.push_back(p);
        }
    }
    const Topology t({Interface{"a0", {}, {}, false, {}}, Interface{"b0", {}, {}, false, {}}}, routes);
    for (Family f : {Family::ipv4, Family::ipv6}) {
        const unsigned bits = f == Family::ipv4 ? 32 : 128;
        for (unsigned flip = 0; flip < bits; ++flip) {
            IpAddr a = f == Family::ipv4 ? v4 : v6;
            a.b[flip / 8] ^= uint8_t(0x80 >> (flip % 8));  // differs from every prefix longer than `flip`
            unsigned best = 0;
            uint16_t want = kNoIf;
            for (size_t i = 0; i < prefixes.size(); ++i)
                if (prefixes[i].contains(f, a) && (want == kNoIf || prefixes[i].len > best))
                    best = prefixes[i].len, want = routes[i].iface;
            BOOST_TEST(best == flip);
            BOOST_TEST(t.route(f, a) == want);
        }
    }
}

BOOST_AUTO_TEST_CASE(ipv4_lookups_by_first_byte_agree_with_every_row_in_order) {
    // The per-packet lookups test only the rows that can hold an address
    // starting with its first byte; they must pick what the walk over every
    // row picks, for nested, equal and short prefixes and addresses near them.
    Interface lan{"lan0", {pf("10.1.0.1/16", true)}, {pf("10.1.0.0/16"), pf("10.200.0.0/13")}, false, {}};
    Interface dmz{"dmz0", {pf("10.2.0.1/24", true)}, {pf("10.1.5.0/24"), pf("10.1.5.128/25")}, false, {}};
    Interface wan{"wan0", {pf("198.51.100.2/30", true), pf("198.51.100.9/29", true)}, {}, true, {}};
    const std::vector<Route> routes{{pf("10.1.5.0/24"), 2, std::nullopt},   // same prefix as dmz0's subnet
                                    {pf("0.0.0.0/1"), 1, std::nullopt},     // shorter than a byte
                                    {pf("96.0.0.0/3"), 0, std::nullopt},
                                    {pf("100.64.0.0/10"), 2, ip("198.51.100.10")}};
    const Topology topos[] = {Topology::home_router(), Topology({lan, dmz, wan}, routes),
                              Topology({lan, dmz}, {{pf("0.0.0.0/0"), 1, std::nullopt}}), Topology()};
    fwsim::test::Rng rng{1};
    for (const Topology& t : topos) {
        int checked = 0;
        auto probe = [&](IpAddr a) {
            BOOST_TEST(t.octet_index_agrees(a), to_string(Family::ipv4, a));
            ++checked;
        };
        for (const char* a : {"10.1.5.200", "10.1.5.7", "10.1.9.9", "10.203.1.1", "10.2.0.1", "192.168.1.1",
                              "192.168.77.3", "198.51.100.9", "100.64.0.1", "100.128.0.1", "97.1.1.1", "128.0.0.1",
                              "0.0.0.0", "255.255.255.255"})
            probe(ip(a));
        for (int i = 0; i < 20000; ++i) {
            IpAddr a;
            const uint32_t x = uint32_t(rng.next() >> 32);
            a.b[0] = uint8_t(i % 3 == 0 ? 10 : i % 3 == 1 ? 192 : x >> 24);
            a.b[1] = uint8_t(x >> 16);
            a.b[2] = uint8_t(x >> 8);
            a.b[3] = uint8_t(x);
            probe(a);
        }
        BOOST_TEST(checked > 20000);
    }
}
