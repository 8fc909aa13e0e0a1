// Sets that rules fill at run time: add/update/delete @set, meters, timeouts
// and per-element limits in capture time.
#include <boost/test/unit_test.hpp>

#include "helpers.hpp"

using namespace rt;

namespace {
Verdict at(const Ruleset& rs, RuntimeState& st, const Packet& p, Nanos t) {
    return run(rs, st, p, Hook::input, 0, kNoIf, CtState::new_, t).verdict;
}
}  // namespace

BOOST_AUTO_TEST_CASE(added_source_is_matched_by_later_packets) {
    // port knocking: a packet to 7000 lets its source reach 22
    auto rs = load("table inet t {\nset knocked { type ipv4_addr; flags dynamic; }\n"
                   "chain c { type filter hook input priority 0; policy drop;\n"
                   "tcp dport 7000 add @knocked { ip saddr } drop\nip saddr @knocked tcp dport 22 accept\n}\n}\n");
    RuntimeState st(rs);
    auto ssh = tcp("10.0.0.1", 1, "10.0.0.9", 22);
    BOOST_TEST(at(rs, st, ssh, 0) == Verdict::drop);
    BOOST_TEST(at(rs, st, tcp("10.0.0.1", 1, "10.0.0.9", 7000), 1) == Verdict::drop);
    BOOST_TEST(at(rs, st, ssh, 2) == Verdict::accept);
    BOOST_TEST(at(rs, st, tcp("10.0.0.2", 1, "10.0.0.9", 22), 3) == Verdict::drop);
}

BOOST_AUTO_TEST_CASE(added_elements_expire_after_the_set_timeout) {
    auto rs = load("table inet t {\nset seen { type ipv4_addr; flags dynamic,timeout; timeout 10s; }\n"
                   "chain c { type filter hook input priority 0;\nip saddr @seen drop\nadd @seen { ip saddr }\n}\n}\n");
    RuntimeState st(rs);
    auto p = tcp("10.0.0.1", 1, "10.0.0.9", 22);
    BOOST_TEST(at(rs, st, p, 0) == Verdict::accept);
    BOOST_TEST(at(rs, st, p, 9 * kSecond) == Verdict::drop);
    BOOST_TEST(at(rs, st, p, 10 * kSecond) == Verdict::accept);  // expired at 10 s: added again
    BOOST_TEST(at(rs, st, p, 19 * kSecond) == Verdict::drop);
}

BOOST_AUTO_TEST_CASE(update_refreshes_the_timeout_and_add_does_not) {
    auto rs = load("table inet t {\nset a { type ipv4_addr; flags timeout; timeout 10s; }\n"
                   "set u { type ipv4_addr; flags timeout; timeout 10s; }\n"
                   "chain c { type filter hook input priority 0;\nadd @a { ip saddr }\nupdate @u { ip saddr }\n}\n}\n");
    RuntimeState st(rs);
    auto p = tcp("10.0.0.1", 1, "10.0.0.9", 22);
    at(rs, st, p, 0);
    at(rs, st, p, 8 * kSecond);
    BOOST_TEST(st.dyn_size(0, 12 * kSecond) == 0u);  // added at 0, not refreshed
    BOOST_TEST(st.dyn_size(1, 12 * kSecond) == 1u);  // refreshed at 8 s
    BOOST_TEST(st.dyn_size(1, 18 * kSecond) == 0u);
}

BOOST_AUTO_TEST_CASE(meter_limits_each_source_separately) {
    auto rs = load("table inet t {\nchain c { type filter hook input priority 0; policy drop;\n"
                   "tcp dport 22 meter ssh { ip saddr limit rate 1/minute burst 2 packets } accept\n}\n}\n");
    RuntimeState st(rs);
    auto a = tcp("10.0.0.1", 1, "10.0.0.9", 22), b = tcp("10.0.0.2", 1, "10.0.0.9", 22);
    BOOST_TEST(at(rs, st, a, 0) == Verdict::accept);
    BOOST_TEST(at(rs, st, a, 0) == Verdict::accept);
    BOOST_TEST(at(rs, st, a, 0) == Verdict::drop);
    BOOST_TEST(at(rs, st, b, 0) == Verdict::accept);  // its own bucket
    BOOST_TEST(at(rs, st, a, 60 * kSecond) == Verdict::accept);  // one token back after a minute
}

BOOST_AUTO_TEST_CASE(update_with_limit_over_drops_fast_sources) {
    auto rs = load("table inet t {\nset flood { type ipv4_addr; flags dynamic; }\n"
                   "chain c { type filter hook input priority 0;\n"
                   "update @flood { ip saddr limit rate over 2/second burst 2 packets } drop\n}\n}\n");
    RuntimeState st(rs);
    auto p = udp("10.0.0.1", 1, "10.0.0.9", 53);
    int dropped = 0;
    for (int i = 0; i < 5; ++i) dropped += at(rs, st, p, 0) == Verdict::drop;
    BOOST_TEST(dropped == 3);
}

BOOST_AUTO_TEST_CASE(full_set_refuses_new_elements_and_breaks_the_rule) {
    auto rs = load("table inet t {\nset s { type ipv4_addr; size 2; flags dynamic; }\n"
                   "chain c { type filter hook input priority 0;\nadd @s { ip saddr } counter\n}\n}\n");
    RuntimeState st(rs);
    at(rs, st, tcp("10.0.0.1", 1, "10.0.0.9", 22), 0);
    at(rs, st, tcp("10.0.0.2", 1, "10.0.0.9", 22), 0);
    at(rs, st, tcp("10.0.0.3", 1, "10.0.0.9", 22), 0);
    BOOST_TEST(st.dyn_size(0, 0) == 2u);
    BOOST_TEST(st.counters()[0].packets == 2u);
}

BOOST_AUTO_TEST_CASE(delete_removes_an_added_element) {
    auto rs = load("table inet t {\nset s { type ipv4_addr; flags dynamic; }\n"
                   "chain c { type filter hook input priority 0;\ntcp dport 1 add @s { ip saddr }\n"
                   "tcp dport 2 delete @s { ip saddr }\nip saddr @s drop\n}\n}\n");
    RuntimeState st(rs);
    BOOST_TEST(at(rs, st, tcp("10.0.0.1", 1, "10.0.0.9", 1), 0) == Verdict::drop);
    BOOST_TEST(at(rs, st, tcp("10.0.0.1", 1, "10.0.0.9", 2), 1) == Verdict::accept);
    BOOST_TEST(at(rs, st, tcp("10.0.0.1", 1, "10.0.0.9", 3), 2) == Verdict::accept);
}

BOOST_AUTO_TEST_CASE(many_sources_grow_the_table_and_stay_findable) {
    auto rs = load("table inet t {\nset s { type ipv4_addr . inet_service; flags dynamic; }\n"
                   "chain c { type filter hook input priority 0;\nip saddr . tcp dport @s drop\n"
                   "add @s { ip saddr . tcp dport }\n}\n}\n");
    RuntimeState st(rs);
    for (int i = 0; i < 3000; ++i) {
        std::string a = "10.1." + std::to_string(i / 250) + "." + std::to_string(i % 250);
        at(rs, st, tcp(a.c_str(), 1, "10.0.0.9", uint16_t(1000 + i % 7)), 0);
    }
    BOOST_TEST(st.dyn_size(0, 0) == 3000u);
    BOOST_TEST(at(rs, st, tcp("10.1.5.17", 1, "10.0.0.9", uint16_t(1000 + 1267 % 7)), 1) == Verdict::drop);
    BOOST_TEST(at(rs, st, tcp("10.1.5.17", 1, "10.0.0.9", uint16_t(1000 + (1267 + 1) % 7)), 1) == Verdict::accept);
}

// A set becomes dynamic when a rule adds to it, even a rule after the one
// that looks it up: that lookup must still see the added elements (static
// sets are searched apart, as integers, Compiler::rule_heads()).
BOOST_AUTO_TEST_CASE(lookup_before_the_rule_that_adds_sees_added_elements) {
    auto rs = load("table inet t {\nset a { type ipv4_addr; flags timeout; timeout 10s; }\n"
                   "chain c { type filter hook input priority 0;\nip saddr @a drop\nadd @a { ip saddr }\n}\n}\n");
    RuntimeState st(rs);
    auto p = tcp("10.0.0.1", 1, "10.0.0.9", 22);
    BOOST_TEST(at(rs, st, p, 0) == Verdict::accept);  // not yet in @a: added
    BOOST_TEST(at(rs, st, p, kSecond) == Verdict::drop);
    BOOST_TEST(at(rs, st, tcp("10.0.0.2", 1, "10.0.0.9", 22), kSecond) == Verdict::accept);
    BOOST_TEST(at(rs, st, p, 12 * kSecond) == Verdict::accept);  // expired: added again
}
