// Evaluation within chains: verdicts, policy, jump/goto/return, families.
#include <boost/test/unit_test.hpp>

#include "helpers.hpp"

using namespace rt;

BOOST_AUTO_TEST_CASE(drop_rule_decides_before_policy_accept) {
    auto rs = load("table ip t {\nchain c { type filter hook input priority 0; policy accept;\nudp dport 53 drop\n}\n}\n");
    RuntimeState st(rs);
    auto r = run(rs, st, udp("10.0.0.1", 1, "10.0.0.2", 53), Hook::input);
    BOOST_TEST(r.verdict == Verdict::drop);
    BOOST_TEST(line_of(rs, r) == 3);
    auto r2 = run(rs, st, udp("10.0.0.1", 1, "10.0.0.2", 54), Hook::input);
    BOOST_TEST(r2.verdict == Verdict::accept);
    BOOST_TEST(r2.by_policy);
}

BOOST_AUTO_TEST_CASE(accept_ends_only_its_base_chain) {
    auto rs = load("table ip a {\nchain c { type filter hook input priority 0;\naccept\n}\n}\n"
                   "table ip b {\nchain c { type filter hook input priority 10;\ndrop\n}\n}\n");
    RuntimeState st(rs);
    auto chains = rs.base_chains(Hook::input, Family::ipv4);
    BOOST_REQUIRE(chains.size() == 2u);
    BOOST_TEST(chains[0].priority == 0);
    auto r = run(rs, st, tcp("10.0.0.1", 1, "10.0.0.2", 2), Hook::input);
    BOOST_TEST(r.verdict == Verdict::drop);
    BOOST_TEST(line_of(rs, r) == 8);
}

BOOST_AUTO_TEST_CASE(base_chains_sort_by_priority_then_declaration_order) {
    auto rs = load("table inet x {\nchain late { type filter hook forward priority 10; }\n"
                   "chain first { type filter hook forward priority -5; }\nchain same { type filter hook forward priority 10; }\n}\n");
    auto chains = rs.base_chains(Hook::forward, Family::ipv6);
    BOOST_REQUIRE(chains.size() == 3u);
    BOOST_TEST(rs.chain_label(chains[0].chain) == "inet x first");
    BOOST_TEST(rs.chain_label(chains[1].chain) == "inet x late");
    BOOST_TEST(rs.chain_label(chains[2].chain) == "inet x same");
}

BOOST_AUTO_TEST_CASE(ip_table_chains_do_not_see_ipv6_packets) {
    auto rs = load("table ip v4 {\nchain c { type filter hook input priority 0; policy drop; }\n}\n"
                   "table ip6 v6 {\nchain c { type filter hook input priority 0; policy drop; }\n}\n"
                   "table inet both {\nchain c { type filter hook input priority 0; policy drop; }\n}\n");
    auto v4 = rs.base_chains(Hook::input, Family::ipv4);
    auto v6 = rs.base_chains(Hook::input, Family::ipv6);
    BOOST_REQUIRE(v4.size() == 2u);
    BOOST_REQUIRE(v6.size() == 2u);
    BOOST_TEST(rs.chain_label(v4[0].chain) == "ip v4 c");
    BOOST_TEST(rs.chain_label(v4[1].chain) == "inet both c");
    BOOST_TEST(rs.chain_label(v6[0].chain) == "ip6 v6 c");
    BOOST_TEST(v4[0].family == Family::ipv4);
    BOOST_TEST(v6[1].family == Family::none);
}

BOOST_AUTO_TEST_CASE(ip_saddr_in_inet_table_does_not_match_ipv6_even_when_negated) {
    auto rs = load("table inet t {\nchain c { type filter hook input priority 0; policy accept;\n"
                   "ip saddr != 10.0.0.1 drop\n}\n}\n");
    RuntimeState st(rs);
    BOOST_TEST(run(rs, st, tcp("2001:db8::1", 1, "2001:db8::2", 2), Hook::input).verdict == Verdict::accept);
    BOOST_TEST(run(rs, st, tcp("10.0.0.9", 1, "10.0.0.2", 2), Hook::input).verdict == Verdict::drop);
}

BOOST_AUTO_TEST_CASE(tcp_dport_does_not_match_udp_packets_even_when_negated) {
    auto rs = load("table inet t {\nchain c { type filter hook input priority 0; policy accept;\n"
                   "tcp dport != 22 drop\n}\n}\n");
    RuntimeState st(rs);
    BOOST_TEST(run(rs, st, udp("10.0.0.1", 1, "10.0.0.2", 80), Hook::input).verdict == Verdict::accept);
    BOOST_TEST(run(rs, st, tcp("10.0.0.1", 1, "10.0.0.2", 80), Hook::input).verdict == Verdict::drop);
}

BOOST_AUTO_TEST_CASE(jump_returns_to_the_next_rule_at_end_of_regular_chain) {
    auto rs = load("table ip t {\nchain sub {\ntcp dport 1 accept\n}\n"
                   "chain c { type filter hook input priority 0; policy accept;\njump sub\ndrop\n}\n}\n");
    RuntimeState st(rs);
    auto r = run(rs, st, tcp("10.0.0.1", 1, "10.0.0.2", 2), Hook::input);
    BOOST_TEST(r.verdict == Verdict::drop);
    BOOST_TEST(line_of(rs, r) == 7);
    auto r2 = run(rs, st, tcp("10.0.0.1", 1, "10.0.0.2", 1), Hook::input);
    BOOST_TEST(r2.verdict == Verdict::accept);
    BOOST_TEST(line_of(rs, r2) == 3);
}

BOOST_AUTO_TEST_CASE(explicit_return_resumes_the_calling_chain) {
    auto rs = load("table ip t {\nchain sub {\ntcp dport 2 return\naccept\n}\n"
                   "chain c { type filter hook input priority 0; policy accept;\njump sub\ndrop\n}\n}\n");
    RuntimeState st(rs);
    auto r = run(rs, st, tcp("10.0.0.1", 1, "10.0.0.2", 2), Hook::input);
    BOOST_TEST(r.verdict == Verdict::drop);
    BOOST_TEST(line_of(rs, r) == 8);
}

BOOST_AUTO_TEST_CASE(goto_does_not_return_and_end_of_chain_applies_policy) {
    auto rs = load("table ip t {\nchain sub {\ntcp dport 1 accept\n}\n"
                   "chain c { type filter hook input priority 0; policy drop;\ngoto sub\naccept\n}\n}\n");
    RuntimeState st(rs);
    auto r = run(rs, st, tcp("10.0.0.1", 1, "10.0.0.2", 2), Hook::input);
    BOOST_TEST(r.verdict == Verdict::drop);
    BOOST_TEST(r.by_policy);
}

BOOST_AUTO_TEST_CASE(return_in_base_chain_applies_policy) {
    auto rs = load("table ip t {\nchain c { type filter hook input priority 0; policy drop;\nreturn\naccept\n}\n}\n");
    RuntimeState st(rs);
    auto r = run(rs, st, tcp("10.0.0.1", 1, "10.0.0.2", 2), Hook::input);
    BOOST_TEST(r.verdict == Verdict::drop);
    BOOST_TEST(r.by_policy);
}

BOOST_AUTO_TEST_CASE(nested_jumps_unwind_in_order) {
    auto rs = load("table ip t {\nchain b {\ntcp dport 5 drop\n}\nchain a {\njump b\ntcp dport 6 drop\n}\n"
                   "chain c { type filter hook input priority 0; policy accept;\njump a\ntcp dport 7 drop\n}\n}\n");
    RuntimeState st(rs);
    BOOST_TEST(line_of(rs, run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 5), Hook::input)) == 3);
    BOOST_TEST(line_of(rs, run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 6), Hook::input)) == 7);
    BOOST_TEST(line_of(rs, run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 7), Hook::input)) == 11);
    BOOST_TEST(run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 8), Hook::input).by_policy);
}

BOOST_AUTO_TEST_CASE(reject_decides_with_family_default_kind) {
    auto rs = load("table ip t {\nchain c { type filter hook input priority 0;\nreject\n}\n}\n"
                   "table inet i {\nchain c { type filter hook forward priority 0;\nreject with tcp reset\n}\n}\n");
    RuntimeState st(rs);
    auto r = run(rs, st, tcp("10.0.0.1", 1, "10.0.0.2", 2), Hook::input);
    BOOST_TEST(r.verdict == Verdict::reject);
    BOOST_TEST(r.ctx.reject == RejectKind::icmp_port_unreachable);
    BOOST_TEST(r.ctx.reject_type == 3);
    BOOST_TEST(r.ctx.reject_code == 3);
    auto f = run(rs, st, tcp("10.0.0.1", 1, "10.0.0.2", 2), Hook::forward);
    BOOST_TEST(f.verdict == Verdict::reject);
    BOOST_TEST(f.ctx.reject == RejectKind::tcp_reset);
    // tcp reset implies `meta l4proto tcp`: a UDP packet is not rejected
    BOOST_TEST(run(rs, st, udp("10.0.0.1", 1, "10.0.0.2", 2), Hook::forward).verdict == Verdict::accept);
}

BOOST_AUTO_TEST_CASE(home_ruleset_accepts_lan_drops_wan_and_masquerades) {
    auto rs = fwsim::rules::Ruleset::load("rules/home.nft",
        "table inet filter {\nchain forward { type filter hook forward priority filter; policy drop;\n"
        "ct state invalid drop\nct state established,related accept\niifname \"lan0\" accept\n}\n}\n"
        "table inet nat {\nchain postrouting { type nat hook postrouting priority srcnat; policy accept;\n"
        "oifname \"wan0\" masquerade\n}\n}\n",
        {}, ifs());
    RuntimeState st(rs);
    auto p = tcp("192.168.1.10", 5000, "93.184.216.34", 443);
    auto r = run(rs, st, p, Hook::forward, /*iif lan0*/ 0, /*oif wan0*/ 1);
    BOOST_TEST(r.verdict == Verdict::accept);
    BOOST_TEST(line_of(rs, r) == 5);
    auto w = run(rs, st, tcp("93.184.216.34", 443, "192.168.1.10", 5000), Hook::forward, 1, 0);
    BOOST_TEST(w.verdict == Verdict::drop);
    BOOST_TEST(w.by_policy);
    auto est = run(rs, st, tcp("93.184.216.34", 443, "192.168.1.10", 5000), Hook::forward, 1, 0,
                   CtState::established);
    BOOST_TEST(est.verdict == Verdict::accept);
    BOOST_TEST(line_of(rs, est) == 4);
    auto inv = run(rs, st, p, Hook::forward, 0, 1, CtState::invalid);
    BOOST_TEST(inv.verdict == Verdict::drop);
    BOOST_TEST(line_of(rs, inv) == 3);
    auto n = run(rs, st, p, Hook::postrouting, 0, 1);
    BOOST_TEST(n.ctx.nat.kind == NatRequest::Kind::masquerade);
    BOOST_TEST(line_of(rs, n) == 10);
}

// The replay walks chains without a trace and `fwsim explain` with one
// (two instances of the walk, ChainWalk::run<kTraced>); rules of every
// shape the walk treats apart (matches only, a lone accept or drop, other
// statements, a failing second match, jump and return) must decide the same
// and count the same hits either way.
BOOST_AUTO_TEST_CASE(traced_and_untraced_walks_give_the_same_verdicts_and_hits) {
    auto rs = load("table inet t {\n"
                   "chain sub { ip saddr 10.0.0.7 return\ntcp dport 23 drop\n}\n"
                   "chain c { type filter hook input priority 0; policy drop;\n"
                   "ct state invalid drop\n"
                   "tcp dport 22 ip saddr 10.0.0.1\n"
                   "tcp dport 22 ip saddr 10.0.0.2 drop\n"
                   "tcp dport 80 counter accept\n"
                   "tcp dport { 23, 24 } jump sub\n"
                   "udp dport 53 reject\n"
                   "tcp dport 22 accept\n"
                   "}\n}\n");
    RuntimeState plain(rs), traced(rs);
    const Packet pkts[] = {
        tcp("10.0.0.1", 1, "10.0.0.9", 22), tcp("10.0.0.2", 1, "10.0.0.9", 22), tcp("10.0.0.3", 1, "10.0.0.9", 80),
        tcp("10.0.0.7", 1, "10.0.0.9", 23), tcp("10.0.0.8", 1, "10.0.0.9", 23), tcp("10.0.0.8", 1, "10.0.0.9", 24),
        udp("10.0.0.1", 1, "10.0.0.9", 53), udp("10.0.0.1", 1, "10.0.0.9", 54),
    };
    for (const Packet& p : pkts) {
        Trace tr;
        auto a = run(rs, plain, p, Hook::input);
        auto b = run(rs, traced, p, Hook::input, 0, kNoIf, CtState::new_, 0, &tr);
        BOOST_TEST(!tr.steps.empty());
        BOOST_TEST(a.verdict == b.verdict);
        BOOST_TEST(a.rule == b.rule);
        BOOST_TEST(a.by_policy == b.by_policy);
    }
    for (size_t i = 0; i < rs.rule_count(); ++i) {
        BOOST_TEST(plain.hits()[i].packets == traced.hits()[i].packets);
        BOOST_TEST(plain.hits()[i].bytes == traced.hits()[i].bytes);
    }
    // and the walk decided what the rules say
    RuntimeState st(rs);
    BOOST_TEST(run(rs, st, pkts[0], Hook::input).verdict == Verdict::accept);  // matches-only rule, then accept
    BOOST_TEST(run(rs, st, pkts[1], Hook::input).verdict == Verdict::drop);
    BOOST_TEST(run(rs, st, pkts[3], Hook::input).verdict == Verdict::drop);    // returned from sub: policy
    BOOST_TEST(run(rs, st, pkts[4], Hook::input).verdict == Verdict::drop);    // sub's tcp dport 23 drop
    BOOST_TEST(run(rs, st, pkts[5], Hook::input).by_policy);
    BOOST_TEST(run(rs, st, pkts[6], Hook::input).verdict == Verdict::reject);
    BOOST_TEST(plain.hits()[3].packets == 1u);  // `tcp dport 22 ip saddr 10.0.0.1` (sub has rules 0, 1): matched once
}
