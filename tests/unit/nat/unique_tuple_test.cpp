#define BOOST_TEST_MODULE nat
#include <boost/test/unit_test.hpp>

#include <set>

#include "fwsim/nat/nat.hpp"

using namespace fwsim;
using namespace fwsim::nat;
using Kind = rules::NatRequest::Kind;

namespace {

IpAddr ip(const char* s) {
    Family f;
    return *parse_addr(s, &f);
}

Tuple tup(const char* src, uint16_t sport, const char* dst, uint16_t dport, uint8_t p = proto::tcp) {
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

rules::NatRequest req(Kind k, const char* lo = nullptr, const char* hi = nullptr, uint16_t pmin = 0,
                      uint16_t pmax = 0) {
    rules::NatRequest r;
    r.kind = k;
    if (lo) {
        Family f;
        r.has_addr = true;
        r.addr_min = *parse_addr(lo, &f);
        r.addr_max = *parse_addr(hi ? hi : lo, &f);
        r.family = f;
    }
    if (pmin || pmax) {
        r.has_port = true;
        r.port_min = pmin;
        r.port_max = pmax;
    }
    return r;
}

const auto nothing_taken = [](const Tuple&) { return false; };

}  // namespace

BOOST_AUTO_TEST_CASE(masquerade_keeps_source_port_when_free) {
    const IpAddr wan = ip("203.0.113.1");
    const Tuple o = tup("192.168.1.10", 51000, "93.184.216.34", 443);
    Tuple out;
    BOOST_TEST((unique_tuple(o, Manip::src, req(Kind::masquerade), &wan, nothing_taken, &out) == Status::ok));
    BOOST_TEST((out.src == wan));
    BOOST_TEST(out.sport == 51000);
    BOOST_TEST((out.dst == o.dst));
    BOOST_TEST(out.dport == 443);
}

BOOST_AUTO_TEST_CASE(taken_is_asked_about_the_reply_tuple) {
    const IpAddr wan = ip("203.0.113.1");
    const Tuple o = tup("192.168.1.10", 51000, "93.184.216.34", 443);
    Tuple asked;
    auto record = [&](const Tuple& r) {
        asked = r;
        return false;
    };
    Tuple out;
    unique_tuple(o, Manip::src, req(Kind::masquerade), &wan, record, &out);
    BOOST_TEST((asked == tup("93.184.216.34", 443, "203.0.113.1", 51000)));
}

BOOST_AUTO_TEST_CASE(clash_moves_to_another_port_in_range_deterministically) {
    const IpAddr wan = ip("203.0.113.1");
    const Tuple o = tup("192.168.1.10", 51000, "93.184.216.34", 443);
    auto port_taken = [](const Tuple& r) { return r.dport == 51000; };
    Tuple a, b;
    BOOST_TEST((unique_tuple(o, Manip::src, req(Kind::masquerade), &wan, port_taken, &a) == Status::ok));
    BOOST_TEST((unique_tuple(o, Manip::src, req(Kind::masquerade), &wan, port_taken, &b) == Status::ok));
    BOOST_TEST(a.sport != 51000);
    BOOST_TEST(a.sport >= 1024);
    BOOST_TEST((a == b));
    BOOST_TEST((a.src == wan));
}

BOOST_AUTO_TEST_CASE(low_ports_stay_in_their_class) {
    const IpAddr wan = ip("203.0.113.1");
    auto taken_self = [](uint16_t p) { return [p](const Tuple& r) { return r.dport == p; }; };
    Tuple out;
    BOOST_TEST((unique_tuple(tup("192.168.1.10", 80, "1.1.1.1", 80), Manip::src, req(Kind::masquerade), &wan,
                             taken_self(80), &out) == Status::ok));
    BOOST_TEST((out.sport >= 1 && out.sport <= 511 && out.sport != 80));
    BOOST_TEST((unique_tuple(tup("192.168.1.10", 700, "1.1.1.1", 80), Manip::src, req(Kind::masquerade), &wan,
                             taken_self(700), &out) == Status::ok));
    BOOST_TEST((out.sport >= 600 && out.sport <= 1023 && out.sport != 700));
}

BOOST_AUTO_TEST_CASE(small_port_range_is_exhausted) {
    const Tuple o = tup("192.168.1.10", 51000, "93.184.216.34", 443);
    const auto r = req(Kind::snat, "203.0.113.7", nullptr, 1000, 1003);
    auto taken_upto = [](uint16_t last) { return [last](const Tuple& t) { return t.dport <= last; }; };
    Tuple out;
    BOOST_TEST((unique_tuple(o, Manip::src, r, nullptr, taken_upto(1002), &out) == Status::ok));
    BOOST_TEST(out.sport == 1003);
    BOOST_TEST((out.src == ip("203.0.113.7")));
    BOOST_TEST((unique_tuple(o, Manip::src, r, nullptr, taken_upto(1003), &out) == Status::exhausted));
}

BOOST_AUTO_TEST_CASE(port_out_of_snat_range_is_moved_into_it) {
    const Tuple o = tup("192.168.1.10", 51000, "93.184.216.34", 443, proto::udp);
    Tuple out;
    BOOST_TEST((unique_tuple(o, Manip::src, req(Kind::snat, "203.0.113.7", nullptr, 2000, 2099), nullptr,
                             nothing_taken, &out) == Status::ok));
    BOOST_TEST((out.sport >= 2000 && out.sport <= 2099));
}

BOOST_AUTO_TEST_CASE(masquerade_without_address_fails) {
    Tuple out;
    BOOST_TEST((unique_tuple(tup("192.168.1.10", 1, "1.1.1.1", 2), Manip::src, req(Kind::masquerade), nullptr,
                             nothing_taken, &out) == Status::no_address));
    BOOST_TEST((out == tup("192.168.1.10", 1, "1.1.1.1", 2)));  // left untranslated
}

BOOST_AUTO_TEST_CASE(dnat_to_address_keeps_port) {
    const Tuple o = tup("198.51.100.7", 40000, "203.0.113.1", 80);
    Tuple out;
    BOOST_TEST((unique_tuple(o, Manip::dst, req(Kind::dnat, "192.168.1.5"), nullptr, nothing_taken, &out) == Status::ok));
    BOOST_TEST((out.dst == ip("192.168.1.5")));
    BOOST_TEST(out.dport == 80);
    BOOST_TEST((out.src == o.src));
    BOOST_TEST(out.sport == 40000);
}

BOOST_AUTO_TEST_CASE(dnat_to_address_and_port) {
    const Tuple o = tup("198.51.100.7", 40000, "203.0.113.1", 80);
    Tuple out;
    BOOST_TEST((unique_tuple(o, Manip::dst, req(Kind::dnat, "192.168.1.5", nullptr, 8080, 8080), nullptr,
                             nothing_taken, &out) == Status::ok));
    BOOST_TEST((out.dst == ip("192.168.1.5")));
    BOOST_TEST(out.dport == 8080);
    BOOST_TEST(out.sport == 40000);
}

BOOST_AUTO_TEST_CASE(dnat_without_port_cannot_resolve_a_clash) {
    const Tuple o = tup("198.51.100.7", 40000, "203.0.113.1", 80);
    Tuple out;
    auto all = [](const Tuple&) { return true; };
    BOOST_TEST((unique_tuple(o, Manip::dst, req(Kind::dnat, "192.168.1.5"), nullptr, all, &out) == Status::exhausted));
    BOOST_TEST(out.dport == 80);
}

BOOST_AUTO_TEST_CASE(redirect_uses_resolved_address_and_port) {
    const IpAddr lan = ip("192.168.1.1");
    const Tuple o = tup("192.168.1.10", 50000, "93.184.216.34", 80);
    Tuple out;
    BOOST_TEST((unique_tuple(o, Manip::dst, req(Kind::redirect, nullptr, nullptr, 3128, 3128), &lan, nothing_taken,
                             &out) == Status::ok));
    BOOST_TEST((out.dst == lan));
    BOOST_TEST(out.dport == 3128);
    BOOST_TEST((out.src == o.src));
}

BOOST_AUTO_TEST_CASE(ipv6_snat) {
    const Tuple o = tup("fd00::10", 50000, "2606:4700::1111", 443);
    Tuple out;
    BOOST_TEST((unique_tuple(o, Manip::src, req(Kind::snat, "2001:db8:ffff::1"), nullptr, nothing_taken, &out) ==
                Status::ok));
    BOOST_TEST((out.src == ip("2001:db8:ffff::1")));
    BOOST_TEST(out.sport == 50000);
    BOOST_TEST((out.family == Family::ipv6));
}

BOOST_AUTO_TEST_CASE(address_range_choice_depends_on_destination_unless_persistent) {
    auto r = req(Kind::snat, "203.0.113.10", "203.0.113.13");
    std::set<IpAddr> plain, persistent;
    for (int i = 1; i <= 32; ++i) {
        const std::string dst = "198.51.100." + std::to_string(i);
        const Tuple o = tup("192.168.1.10", 50000, dst.c_str(), 443);
        Tuple out;
        r.persistent = false;
        BOOST_TEST((unique_tuple(o, Manip::src, r, nullptr, nothing_taken, &out) == Status::ok));
        BOOST_TEST((out.src >= ip("203.0.113.10") && out.src <= ip("203.0.113.13")));
        plain.insert(out.src);
        r.persistent = true;
        unique_tuple(o, Manip::src, r, nullptr, nothing_taken, &out);
        persistent.insert(out.src);
    }
    BOOST_TEST(plain.size() > 1u);
    BOOST_TEST(persistent.size() == 1u);
}

BOOST_AUTO_TEST_CASE(ipv6_address_range_stays_in_range) {
    const auto r = req(Kind::snat, "2001:db8::ff00", "2001:db8::1:00ff");
    for (int i = 1; i <= 16; ++i) {
        const std::string src = "fd00::" + std::to_string(i);
        Tuple out;
        unique_tuple(tup(src.c_str(), 1234, "2606:4700::1", 443), Manip::src, r, nullptr, nothing_taken, &out);
        BOOST_TEST((out.src >= ip("2001:db8::ff00") && out.src <= ip("2001:db8::1:00ff")));
    }
}

BOOST_AUTO_TEST_CASE(icmp_echo_id_moves_on_clash) {
    const IpAddr wan = ip("203.0.113.1");
    const Tuple o = tup("192.168.1.10", 0x1234, "8.8.8.8", 8 << 8, proto::icmp);
    Tuple out;
    BOOST_TEST((unique_tuple(o, Manip::src, req(Kind::masquerade), &wan, nothing_taken, &out) == Status::ok));
    BOOST_TEST(out.sport == 0x1234);
    auto id_taken = [](const Tuple& r) { return r.sport == 0x1234; };
    BOOST_TEST((unique_tuple(o, Manip::src, req(Kind::masquerade), &wan, id_taken, &out) == Status::ok));
    BOOST_TEST(out.sport != 0x1234);
    BOOST_TEST(out.dport == (8 << 8));
}

BOOST_AUTO_TEST_CASE(random_does_not_keep_a_free_port_but_is_deterministic) {
    const IpAddr wan = ip("203.0.113.1");
    auto r = req(Kind::masquerade);
    r.fully_random = true;
    const Tuple o = tup("192.168.1.10", 51000, "93.184.216.34", 443);
    Tuple a, b;
    BOOST_TEST((unique_tuple(o, Manip::src, r, &wan, nothing_taken, &a) == Status::ok));
    unique_tuple(o, Manip::src, r, &wan, nothing_taken, &b);
    BOOST_TEST(a.sport != 51000);
    BOOST_TEST(a.sport >= 1024);
    BOOST_TEST((a == b));
}

BOOST_AUTO_TEST_CASE(existing_source_mapping_is_reused) {
    const Tuple o = tup("192.168.1.10", 51000, "93.184.216.34", 443);
    auto find_src = [](const Tuple& orig, Tuple* mapped) {
        *mapped = orig;
        mapped->src = ip("203.0.113.7");
        mapped->sport = 40000;
        mapped->dst = ip("9.9.9.9");  // another connection's destination: replaced
        return true;
    };
    Tuple out;
    BOOST_TEST((unique_tuple(o, Manip::src, req(Kind::snat, "203.0.113.7"), nullptr, nothing_taken, &out, find_src) ==
                Status::ok));
    BOOST_TEST(out.sport == 40000);
    BOOST_TEST((out.dst == o.dst));
}
