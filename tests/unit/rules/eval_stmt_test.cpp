// Statements: limit (capture time), counters, log, NAT requests, trace.
#include <boost/test/unit_test.hpp>

#include "helpers.hpp"

using namespace rt;

namespace {
Ruleset chain(const std::string& rules, const std::string& hook = "input", const std::string& type = "filter",
              const std::string& fam = "inet") {
    return load("table " + fam + " t {\nchain c { type " + type + " hook " + hook + " priority " +
                (type == "nat" ? std::string(hook == "postrouting" || hook == "input" ? "100" : "-100") : "0") +
                "; policy accept;\n" + rules + "\n}\n}\n");
}
}  // namespace

BOOST_AUTO_TEST_CASE(limit_allows_the_burst_then_refills_in_capture_time) {
    // 2/second, burst 3: three packets at t=0 pass, the fourth does not;
    // half a second later one token (500 ms) has come back.
    auto rs = chain("limit rate 2/second burst 3 packets accept\ndrop");
    RuntimeState st(rs);
    auto p = udp("1.1.1.1", 1, "2.2.2.2", 2);
    Nanos t0 = 1'700'000'000 * kSecond;
    for (int i = 0; i < 3; ++i)
        BOOST_TEST(run(rs, st, p, Hook::input, 0, kNoIf, CtState::new_, t0).verdict == Verdict::accept);
    BOOST_TEST(run(rs, st, p, Hook::input, 0, kNoIf, CtState::new_, t0).verdict == Verdict::drop);
    BOOST_TEST(run(rs, st, p, Hook::input, 0, kNoIf, CtState::new_, t0 + 499'000'000).verdict == Verdict::drop);
    BOOST_TEST(run(rs, st, p, Hook::input, 0, kNoIf, CtState::new_, t0 + 999'000'000).verdict == Verdict::accept);
    BOOST_TEST(run(rs, st, p, Hook::input, 0, kNoIf, CtState::new_, t0 + 999'000'000).verdict == Verdict::drop);
    // a long pause refills only up to the burst
    Nanos t1 = t0 + 100 * kSecond;
    for (int i = 0; i < 3; ++i)
        BOOST_TEST(run(rs, st, p, Hook::input, 0, kNoIf, CtState::new_, t1).verdict == Verdict::accept);
    BOOST_TEST(run(rs, st, p, Hook::input, 0, kNoIf, CtState::new_, t1).verdict == Verdict::drop);
}

BOOST_AUTO_TEST_CASE(limit_default_burst_is_five_packets) {
    auto rs = chain("limit rate 1/minute accept\ndrop");
    RuntimeState st(rs);
    auto p = udp("1.1.1.1", 1, "2.2.2.2", 2);
    int passed = 0;
    for (int i = 0; i < 10; ++i) passed += run(rs, st, p, Hook::input).verdict == Verdict::accept;
    BOOST_TEST(passed == 5);
}

BOOST_AUTO_TEST_CASE(limit_over_matches_only_beyond_the_rate) {
    auto rs = chain("limit rate over 1/second burst 1 packets drop");
    RuntimeState st(rs);
    auto p = udp("1.1.1.1", 1, "2.2.2.2", 2);
    BOOST_TEST(run(rs, st, p, Hook::input).verdict == Verdict::accept);
    BOOST_TEST(run(rs, st, p, Hook::input).verdict == Verdict::drop);
    BOOST_TEST(run(rs, st, p, Hook::input, 0, kNoIf, CtState::new_, kSecond).verdict == Verdict::accept);
}

BOOST_AUTO_TEST_CASE(byte_limit_charges_the_packet_length) {
    // 1000 bytes/second, no burst: a bucket of 1 s; 60-byte packets: 16 pass at t=0
    auto rs = chain("limit rate 1000 bytes/second accept\ndrop");
    RuntimeState st(rs);
    auto p = udp("1.1.1.1", 1, "2.2.2.2", 2);
    int passed = 0;
    for (int i = 0; i < 20; ++i) passed += run(rs, st, p, Hook::input).verdict == Verdict::accept;
    BOOST_TEST(passed == 16);
}

BOOST_AUTO_TEST_CASE(runtime_states_are_independent) {
    auto rs = chain("limit rate 1/hour burst 1 packets accept\ndrop");
    RuntimeState a(rs), b(rs);
    auto p = udp("1.1.1.1", 1, "2.2.2.2", 2);
    BOOST_TEST(run(rs, a, p, Hook::input).verdict == Verdict::accept);
    BOOST_TEST(run(rs, a, p, Hook::input).verdict == Verdict::drop);
    BOOST_TEST(run(rs, b, p, Hook::input).verdict == Verdict::accept);
}

BOOST_AUTO_TEST_CASE(rule_hits_count_packets_and_bytes_of_matching_rules) {
    auto rs = chain("tcp dport 22 counter\ntcp dport 23 accept");
    RuntimeState st(rs);
    run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 22), Hook::input);
    run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 22), Hook::input);
    run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 23), Hook::input);
    BOOST_REQUIRE(st.hits().size() == 2u);
    BOOST_TEST(st.hits()[0].packets == 2u);
    BOOST_TEST(st.hits()[0].bytes == 120u);
    BOOST_TEST(st.hits()[1].packets == 1u);
    BOOST_REQUIRE(st.counters().size() == 1u);
    BOOST_TEST(st.counters()[0].packets == 2u);
}

BOOST_AUTO_TEST_CASE(counter_before_a_failing_match_still_counts) {
    auto rs = chain("counter tcp dport 99 drop");
    RuntimeState st(rs);
    BOOST_TEST(run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 22), Hook::input).verdict == Verdict::accept);
    BOOST_TEST(st.counters()[0].packets == 1u);
}

BOOST_AUTO_TEST_CASE(log_statements_record_their_prefixes_in_order) {
    auto rs = chain("log prefix \"first: \"\ntcp dport 22 log prefix \"ssh: \" level info drop");
    RuntimeState st(rs);
    auto r = run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 22), Hook::input);
    BOOST_REQUIRE(r.ctx.log_count == 2);
    BOOST_TEST(rs.log_prefix(r.ctx.logs[0]) == "first: ");
    BOOST_TEST(rs.log_prefix(r.ctx.logs[1]) == "ssh: ");
    auto r2 = run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 23), Hook::input);
    BOOST_TEST(r2.ctx.log_count == 1);
}

BOOST_AUTO_TEST_CASE(dnat_fills_address_and_port_and_accepts_for_the_chain) {
    auto rs = chain("tcp dport 8080 dnat to 192.168.1.10:80\ndrop", "prerouting", "nat", "ip");
    RuntimeState st(rs);
    auto r = run(rs, st, tcp("1.1.1.1", 1, "203.0.113.1", 8080), Hook::prerouting);
    BOOST_TEST(r.verdict == Verdict::accept);
    BOOST_TEST(line_of(rs, r) == 3);
    const NatRequest& n = r.ctx.nat;
    BOOST_TEST(n.kind == NatRequest::Kind::dnat);
    BOOST_TEST(n.has_addr);
    BOOST_TEST(n.family == Family::ipv4);
    BOOST_TEST(n.addr_min == addr("192.168.1.10"));
    BOOST_TEST(n.addr_max == addr("192.168.1.10"));
    BOOST_TEST(n.has_port);
    BOOST_TEST(n.port_min == 80);
    BOOST_TEST(n.port_max == 80);
}

BOOST_AUTO_TEST_CASE(snat_range_with_flags_fills_the_request) {
    auto rs = chain("meta l4proto tcp snat to 10.0.0.1-10.0.0.9:1024-2047 fully-random,persistent", "postrouting", "nat",
                    "ip");
    RuntimeState st(rs);
    auto n = run(rs, st, tcp("192.168.1.2", 1, "8.8.8.8", 53), Hook::postrouting).ctx.nat;
    BOOST_TEST(n.kind == NatRequest::Kind::snat);
    BOOST_TEST(n.addr_min == addr("10.0.0.1"));
    BOOST_TEST(n.addr_max == addr("10.0.0.9"));
    BOOST_TEST(n.port_min == 1024);
    BOOST_TEST(n.port_max == 2047);
    BOOST_TEST(n.fully_random);
    BOOST_TEST(n.persistent);
    BOOST_TEST(!n.random);
}

BOOST_AUTO_TEST_CASE(dnat_map_picks_the_address_by_port_and_breaks_when_absent) {
    auto rs = chain("dnat to tcp dport map { 80 : 192.168.1.10, 443 : 192.168.1.11 }\ndrop", "prerouting", "nat", "ip");
    RuntimeState st(rs);
    auto r = run(rs, st, tcp("1.1.1.1", 1, "203.0.113.1", 443), Hook::prerouting);
    BOOST_TEST(r.verdict == Verdict::accept);
    BOOST_TEST(r.ctx.nat.addr_min == addr("192.168.1.11"));
    auto miss = run(rs, st, tcp("1.1.1.1", 1, "203.0.113.1", 22), Hook::prerouting);
    BOOST_TEST(miss.verdict == Verdict::drop);
    BOOST_TEST(miss.ctx.nat.kind == NatRequest::Kind::none);
}

BOOST_AUTO_TEST_CASE(masquerade_and_redirect_ports) {
    auto m = chain("meta l4proto udp masquerade to :2000-3000 random", "postrouting", "nat");
    RuntimeState st(m);
    auto n = run(m, st, udp("192.168.1.2", 1, "8.8.8.8", 53), Hook::postrouting).ctx.nat;
    BOOST_TEST(n.kind == NatRequest::Kind::masquerade);
    BOOST_TEST(!n.has_addr);
    BOOST_TEST(n.port_min == 2000);
    BOOST_TEST(n.port_max == 3000);
    BOOST_TEST(n.random);
    auto r = chain("tcp dport 80 redirect to :3128", "prerouting", "nat");
    RuntimeState st2(r);
    auto n2 = run(r, st2, tcp("192.168.1.2", 1, "8.8.8.8", 80), Hook::prerouting).ctx.nat;
    BOOST_TEST(n2.kind == NatRequest::Kind::redirect);
    BOOST_TEST(n2.port_min == 3128);
}

BOOST_AUTO_TEST_CASE(inet_nat_statement_of_the_other_family_does_nothing) {
    auto rs = chain("dnat ip to 192.168.1.10\ndnat ip6 to 2001:db8::10", "prerouting", "nat");
    RuntimeState st(rs);
    auto r = run(rs, st, tcp("2001:db8::1", 1, "2001:db8::2", 80), Hook::prerouting);
    BOOST_TEST(r.ctx.nat.family == Family::ipv6);
    BOOST_TEST(r.ctx.nat.addr_min == addr("2001:db8::10"));
    BOOST_TEST(line_of(rs, r) == 4);
}

BOOST_AUTO_TEST_CASE(notrack_is_reported) {
    auto rs = chain("udp dport 123 notrack", "prerouting");
    RuntimeState st(rs);
    BOOST_TEST(run(rs, st, udp("1.1.1.1", 1, "2.2.2.2", 123), Hook::prerouting).ctx.notrack);
    BOOST_TEST(!run(rs, st, udp("1.1.1.1", 1, "2.2.2.2", 124), Hook::prerouting).ctx.notrack);
}

BOOST_AUTO_TEST_CASE(trace_records_each_rule_and_the_failing_expression) {
    auto rs = load("table ip t {\nchain sub {\ntcp dport 9 accept\n}\n"
                   "chain c { type filter hook input priority 0; policy drop;\nip saddr 9.9.9.9 tcp dport 22 accept\n"
                   "jump sub\n}\n}\n");
    RuntimeState st(rs);
    Trace tr;
    run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 22), Hook::input, 0, kNoIf, CtState::new_, 0, &tr);
    BOOST_REQUIRE(tr.steps.size() >= 6u);
    BOOST_TEST(int(tr.steps[0].kind) == int(TraceStep::Kind::enter_chain));
    BOOST_TEST(int(tr.steps[1].kind) == int(TraceStep::Kind::rule));
    BOOST_TEST(!tr.steps[1].matched);
    BOOST_TEST(tr.steps[1].failed_expr == 0);
    BOOST_TEST(tr.steps[1].text.find("no match at 'ip saddr'") != std::string::npos, tr.steps[1].text);
    BOOST_TEST(tr.steps[2].matched);
    BOOST_TEST(int(tr.steps[3].kind) == int(TraceStep::Kind::enter_chain));
    BOOST_TEST(int(tr.steps.back().kind) == int(TraceStep::Kind::policy));
}

BOOST_AUTO_TEST_CASE(named_counter_is_shared_by_the_rules_that_name_it) {
    auto rs = load("table inet t {\ncounter ssh { packets 0 bytes 0 }\n"
                   "chain c { type filter hook input priority 0;\ntcp dport 22 counter name ssh\n"
                   "tcp dport 22 counter name \"ssh\"\n}\n}\n");
    RuntimeState st(rs);
    run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 22), Hook::input);
    BOOST_REQUIRE(st.counters().size() == 1u);
    BOOST_TEST(st.counters()[0].packets == 2u);
}

BOOST_AUTO_TEST_CASE(meta_nftrace_set_has_no_effect) {
    auto rs = chain("meta nftrace set 1\ntcp dport 1 drop");
    RuntimeState st(rs);
    BOOST_TEST(run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 1), Hook::input).verdict == Verdict::drop);
}

BOOST_AUTO_TEST_CASE(snat_to_a_prefix_is_the_range_of_its_addresses) {
    auto rs = chain("snat to 10.9.0.0/16", "postrouting", "nat", "ip");
    RuntimeState st(rs);
    auto n = run(rs, st, tcp("192.168.1.2", 1, "8.8.8.8", 53), Hook::postrouting).ctx.nat;
    BOOST_TEST(n.addr_min == addr("10.9.0.0"));
    BOOST_TEST(n.addr_max == addr("10.9.255.255"));
}

BOOST_AUTO_TEST_CASE(quota_matches_until_the_bytes_are_used_and_over_after) {
    // 60-byte packets, quota 150 bytes: 2 packets fit (120), the third makes 180 > 150
    auto rs = chain("quota 150 bytes accept\nquota over 150 bytes drop");
    RuntimeState st(rs);
    auto p = udp("1.1.1.1", 1, "2.2.2.2", 2);
    BOOST_TEST(run(rs, st, p, Hook::input).verdict == Verdict::accept);
    BOOST_TEST(run(rs, st, p, Hook::input).verdict == Verdict::accept);
    auto r = run(rs, st, p, Hook::input);
    BOOST_TEST(r.verdict == Verdict::accept);
    BOOST_TEST(r.by_policy);  // the second quota counted only this packet: 60 < 150
    BOOST_TEST(run(rs, st, p, Hook::input).verdict == Verdict::accept);
    BOOST_TEST(run(rs, st, p, Hook::input).verdict == Verdict::drop);
}

BOOST_AUTO_TEST_CASE(quota_used_starts_from_the_listed_value) {
    auto rs = chain("quota until 100 bytes used 90 bytes accept\ndrop");
    RuntimeState st(rs);
    BOOST_TEST(run(rs, st, udp("1.1.1.1", 1, "2.2.2.2", 2), Hook::input).verdict == Verdict::drop);
}

BOOST_AUTO_TEST_CASE(dnat_map_to_address_and_port) {
    auto rs = chain("meta l4proto tcp dnat ip addr . port to ip daddr map { 203.0.113.1 : 192.168.1.10 . 8080 }",
                    "prerouting", "nat", "ip");
    RuntimeState st(rs);
    auto n = run(rs, st, tcp("1.1.1.1", 1, "203.0.113.1", 80), Hook::prerouting).ctx.nat;
    BOOST_TEST(n.kind == NatRequest::Kind::dnat);
    BOOST_TEST(n.addr_min == addr("192.168.1.10"));
    BOOST_TEST(n.has_port);
    BOOST_TEST(n.port_min == 8080);
}

BOOST_AUTO_TEST_CASE(meta_day_and_hour_use_capture_time_in_utc) {
    // 2023-11-14 22:13:20 UTC was a Tuesday (1700000000 s)
    auto rs = chain("meta day \"Tuesday\" meta hour \"22:00\"-\"23:00\" drop\nmeta hour \"23:30\"-\"01:00\" log prefix \"night\"");
    RuntimeState st(rs);
    auto p = udp("1.1.1.1", 1, "2.2.2.2", 2);
    const Nanos t = Nanos(1'700'000'000) * kSecond;
    BOOST_TEST(run(rs, st, p, Hook::input, 0, kNoIf, CtState::new_, t).verdict == Verdict::drop);
    BOOST_TEST(run(rs, st, p, Hook::input, 0, kNoIf, CtState::new_, t + 86400 * kSecond).verdict == Verdict::accept);
    // across midnight: 00:30 matches, 12:00 does not
    auto night = run(rs, st, p, Hook::input, 0, kNoIf, CtState::new_, t + 8200 * kSecond);  // 00:30:00
    BOOST_TEST(night.ctx.log_count == 1);
    auto noon = run(rs, st, p, Hook::input, 0, kNoIf, CtState::new_, t + 49600 * kSecond);  // 12:00:00
    BOOST_TEST(noon.ctx.log_count == 0);
}

BOOST_AUTO_TEST_CASE(named_limit_is_one_bucket_for_all_its_rules) {
    auto rs = load("table inet t {\nlimit two { rate 1/minute burst 2 packets; }\n"
                   "chain c { type filter hook input priority 0; policy drop;\n"
                   "tcp dport 1 limit name \"two\" accept\ntcp dport 2 limit name two accept\n}\n}\n");
    RuntimeState st(rs);
    BOOST_TEST(run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 1), Hook::input).verdict == Verdict::accept);
    BOOST_TEST(run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 2), Hook::input).verdict == Verdict::accept);
    BOOST_TEST(run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 1), Hook::input).verdict == Verdict::drop);
}

BOOST_AUTO_TEST_CASE(named_quota_is_one_budget) {
    auto rs = load("table inet t {\nquota q {\nover 100 bytes\n}\n"
                   "chain c { type filter hook input priority 0;\nquota name \"q\" drop\n}\n}\n");
    RuntimeState st(rs);
    auto p = udp("1.1.1.1", 1, "2.2.2.2", 2);
    BOOST_TEST(run(rs, st, p, Hook::input).verdict == Verdict::accept);  // 60
    BOOST_TEST(run(rs, st, p, Hook::input).verdict == Verdict::drop);    // 120 > 100
}
