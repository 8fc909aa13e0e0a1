#include <boost/test/unit_test.hpp>

#include "fwsim/nat/nat.hpp"

using namespace fwsim;
using namespace fwsim::nat;

namespace {

Tuple tup(const char* src, uint16_t sport, const char* dst, uint16_t dport, uint8_t p = proto::udp) {
    Tuple t;
    Family f = Family::none;
    t.src = *parse_addr(src, &f);
    t.dst = *parse_addr(dst, &f);
    t.family = f;
    t.sport = sport;
    t.dport = dport;
    t.proto = p;
    return t;
}

Tuple inv(const Tuple& t) {
    Tuple r;
    BOOST_REQUIRE(invert(t, &r));
    return r;
}

}  // namespace

BOOST_AUTO_TEST_CASE(snat_translates_both_directions) {
    const Tuple o = tup("192.168.1.10", 5000, "8.8.8.8", 53);
    const Tuple o2 = tup("203.0.113.1", 6000, "8.8.8.8", 53);
    const Tuple r = inv(o2);
    BOOST_TEST((translate(o, r, CtDir::original) == o2));
    BOOST_TEST((translate(o, r, CtDir::reply) == inv(o)));
    BOOST_TEST(has_src_nat(o, r));
    BOOST_TEST(!has_dst_nat(o, r));
}

BOOST_AUTO_TEST_CASE(no_nat_translates_to_itself) {
    const Tuple o = tup("192.168.1.10", 5000, "8.8.8.8", 53);
    const Tuple r = inv(o);
    BOOST_TEST((translate(o, r, CtDir::original) == o));
    BOOST_TEST((translate(o, r, CtDir::reply) == r));
    BOOST_TEST(!has_src_nat(o, r));
    BOOST_TEST(!has_dst_nat(o, r));
}

BOOST_AUTO_TEST_CASE(icmp_echo_translation_keeps_types) {
    const Tuple o = tup("192.168.1.10", 7, "8.8.8.8", 8 << 8, proto::icmp);
    Tuple o2 = o;
    o2.src = *parse_addr("203.0.113.1", nullptr);
    o2.sport = 99;
    const Tuple r = inv(o2);
    BOOST_TEST((translate(o, r, CtDir::original) == o2));
    const Tuple back = translate(o, r, CtDir::reply);
    BOOST_TEST(back.dport == 0);  // echo reply type 0
    BOOST_TEST(back.sport == 7);
}

BOOST_AUTO_TEST_CASE(icmp_error_to_snat_client_rewrites_outer_dst_and_inner_src) {
    // 192.168.1.10:5000 -> 8.8.8.8:53 masqueraded to 203.0.113.1:5000; a
    // router 10.0.0.1 answers with an error to 203.0.113.1.
    const Tuple o = tup("192.168.1.10", 5000, "8.8.8.8", 53);
    const Tuple r = inv(tup("203.0.113.1", 5000, "8.8.8.8", 53));
    const Tuple outer_now = tup("10.0.0.1", 0, "203.0.113.1", (3 << 8) | 3, proto::icmp);
    Tuple outer_to, inner_to;
    translate_icmp_error(o, r, CtDir::reply, outer_now, &outer_to, &inner_to);
    BOOST_TEST((outer_to.src == outer_now.src));
    BOOST_TEST((outer_to.dst == o.src));
    BOOST_TEST((inner_to == o));
}

BOOST_AUTO_TEST_CASE(icmp_error_from_dnat_server_rewrites_outer_src) {
    // 198.51.100.7:40000 -> 203.0.113.1:80 DNATed to 192.168.1.5:8080; the
    // server answers the client with an error (original dir is client->fw).
    const Tuple o = tup("198.51.100.7", 40000, "203.0.113.1", 80, proto::tcp);
    const Tuple r = inv(tup("198.51.100.7", 40000, "192.168.1.5", 8080, proto::tcp));
    const Tuple outer_now = tup("192.168.1.5", 0, "198.51.100.7", (3 << 8) | 3, proto::icmp);
    Tuple outer_to, inner_to;
    translate_icmp_error(o, r, CtDir::reply, outer_now, &outer_to, &inner_to);
    BOOST_TEST((outer_to.src == o.dst));
    BOOST_TEST((outer_to.dst == outer_now.dst));
    BOOST_TEST((inner_to == o));
}
