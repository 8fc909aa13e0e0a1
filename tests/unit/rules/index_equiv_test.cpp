// The chain index (src/core/rules/chain_index.hpp) changes nothing
// observable: random rulesets of mixed shapes give the same verdict,
// deciding rule, outputs, hit counters, counters and set contents as the
// linear walk, packet by packet; and the index is really used.
#include <boost/test/unit_test.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "core/rules/program.hpp"
#include "helpers.hpp"
#include "../splitmix.hpp"

using namespace rt;

namespace {

using fwsim::test::Rng;

std::string v4(int host) { return "10.0." + std::to_string(host / 16) + "." + std::to_string(host % 16); }
std::string v6(int host) { return "2001:db8::" + std::to_string(host); }
const char* const kIfs[] = {"lan0", "wan0", "dmz0"};

// One match, written as nft would take it. Hosts 0..31, ports 1..8.
std::string random_match(Rng& r) {
    const int h = r.below(32), port = 1 + r.below(8);
    switch (r.below(22)) {
    case 0: case 1: return "ip saddr " + v4(h);
    case 2: case 3: return "ip daddr " + v4(h);
    case 4: return "ip saddr " + v4(h & ~7) + "/29";
    case 5: return "ip daddr 10.0.1.0/24";
    case 6: return "ip saddr " + v4(h & ~3) + "-" + v4((h & ~3) + 5);  // a range that is no prefix
    case 7: return "ip saddr != " + v4(h);
    case 8: return "ip6 saddr " + v6(h);
    case 9: return "ip6 daddr " + v6(h & ~3) + "/126";
    case 10: case 11: return "tcp dport " + std::to_string(port);
    case 12: return "udp dport " + std::to_string(port);
    case 13: return "th sport " + std::to_string(port);
    case 14: return "tcp dport != " + std::to_string(port);
    case 15: return "tcp dport " + std::to_string(port) + "-" + std::to_string(port + 2);
    case 16: return "tcp dport { " + std::to_string(port) + ", " + std::to_string(port % 8 + 1) + " }";
    case 17: return std::string("iifname \"") + kIfs[r.below(3)] + "\"";
    case 18: return std::string("oifname \"") + kIfs[r.below(3)] + "\"";
    case 19: return r.chance(50) ? "ip saddr @blk" : "ip saddr @dyn";
    case 20: return r.chance(50) ? "ct state new" : "ct state established";
    default: return "meta mark 1";
    }
}

// A rule of 0-3 matches (sometimes behind a `ct count`) and statements.
// `sub`: the rule is in a regular chain (return allowed); `jumps`: chains it may jump to.
std::string random_rule(Rng& r, bool sub, const std::vector<std::string>& jumps) {
    std::string s;
    if (r.chance(3)) s += "ct count over " + std::to_string(5 + 50 * r.below(8)) + " ";
    // no two matches of different protocols (nft: "conflicting protocols specified")
    char l3 = 0, l4 = 0;
    for (int n = r.below(4); n > 0; --n) {
        const std::string m = random_match(r);
        const char m3 = m.rfind("ip6 ", 0) == 0 ? '6' : m.rfind("ip ", 0) == 0 ? '4' : 0;
        const char m4 = m.rfind("tcp ", 0) == 0 ? 't' : m.rfind("udp ", 0) == 0 ? 'u' : 0;
        if ((m3 && l3 && m3 != l3) || (m4 && l4 && m4 != l4)) continue;
        l3 = m3 ? m3 : l3;
        l4 = m4 ? m4 : l4;
        s += m + " ";
    }
    if (r.chance(15)) s += "counter ";
    if (r.chance(8)) s += "log prefix \"l" + std::to_string(r.below(3)) + "\" ";
    if (r.chance(5)) s += "meta mark set 1 ";
    if (r.chance(4)) s += "limit rate 3/second burst 2 packets ";
    if (r.chance(4)) s += "add @dyn { ip saddr } ";
    const int v = r.below(20);
    if (v < 6) s += "accept";
    else if (v < 12) s += "drop";
    else if (v < 14 && !jumps.empty()) s += "jump " + jumps[size_t(r.below(int(jumps.size())))];
    else if (v < 15 && !jumps.empty()) s += "goto " + jumps[size_t(r.below(int(jumps.size())))];
    else if (v < 16 && sub) s += "return";
    else if (v < 17) s += "reject";
    if (s.empty()) s = "counter";
    return s;
}

std::string random_ruleset(uint64_t seed, int rules) {
    Rng r{seed};
    std::string t = "table inet t {\n"
                    "set blk { type ipv4_addr; elements = { 10.0.0.1, 10.0.0.7, 10.0.1.3 } }\n"
                    "set dyn { type ipv4_addr; size 8; flags dynamic; }\n";
    t += "chain leaf {\n";
    for (int i = 0; i < rules / 8; ++i) t += random_rule(r, true, {}) + "\n";
    t += "}\nchain mid {\n";
    for (int i = 0; i < rules / 4; ++i) t += random_rule(r, true, {"leaf"}) + "\n";
    t += "}\nchain short {\n";
    for (int i = 0; i < 5; ++i) t += random_rule(r, true, {}) + "\n";
    t += "}\nchain fwd { type filter hook forward priority 0; policy drop;\n";
    for (int i = 0; i < rules; ++i) t += random_rule(r, false, {"mid", "leaf", "short"}) + "\n";
    t += "}\n}\n";
    return t;
}

Packet random_packet(Rng& r) {
    const bool six = r.chance(20);
    const int a = r.below(40), b = r.below(40);  // some hosts no rule names
    const std::string src = six ? v6(a) : a >= 32 ? "10.0.1." + std::to_string(a) : v4(a);
    const std::string dst = six ? v6(b) : b >= 32 ? "10.0.1." + std::to_string(b) : v4(b);
    const uint16_t sport = uint16_t(1 + r.below(9)), dport = uint16_t(1 + r.below(9));
    switch (r.below(5)) {
    case 0: return udp(src.c_str(), sport, dst.c_str(), dport);
    case 1: return icmp(src.c_str(), dst.c_str(), 8);
    default: return tcp(src.c_str(), sport, dst.c_str(), dport);
    }
}

// As rt::run on the forward hook, with every connection alive for `ct
// count`, so that its lists grow with each packet that reaches it.
Result run_alive(const Ruleset& rs, RuntimeState& st, const Packet& p, uint16_t iif, uint16_t oif, CtState cs,
                 Nanos now) {
    Result r;
    for (const BaseChain& bc : rs.base_chains(Hook::forward, p.family)) {
        EvalContext c;
        c.pkt = &p;
        c.hook = Hook::forward;
        c.now = now;
        c.iif = iif;
        c.oif = oif;
        c.has_ct = true;
        c.ct_state = cs;
        c.ct_alive = [](const void*, const Tuple&, bool* closed) {
            *closed = false;
            return true;
        };
        rs.eval(bc, c, st, nullptr);
        r.ctx = c;
        if (c.verdict != Verdict::accept) break;
    }
    r.verdict = r.ctx.verdict;
    r.rule = r.ctx.rule;
    r.by_policy = r.ctx.by_policy;
    return r;
}

// Runs the same packets through an indexed and a linear RuntimeState and
// checks every observable output; returns the number of packets decided by a rule.
int compare_walks(const Ruleset& rs, uint64_t seed, int packets) {
    RuntimeState indexed(rs), linear(rs);
    linear.set_linear_walk(true);
    Rng r{seed};
    int by_rule = 0;
    for (int i = 0; i < packets; ++i) {
        const Packet p = random_packet(r);
        const uint16_t iif = r.chance(10) ? kNoIf : uint16_t(r.below(3));
        const uint16_t oif = r.chance(10) ? kNoIf : uint16_t(r.below(3));
        const CtState cs = r.chance(50) ? CtState::new_ : CtState::established;
        const Nanos now = Nanos(i) * 50'000'000;  // 20 packets a second: limits both pass and break
        const Result a = run_alive(rs, indexed, p, iif, oif, cs, now);
        const Result b = run_alive(rs, linear, p, iif, oif, cs, now);
        BOOST_TEST_CONTEXT("packet " << i) {
            BOOST_TEST(a.verdict == b.verdict);
            BOOST_TEST(a.rule == b.rule);
            BOOST_TEST(a.by_policy == b.by_policy);
            BOOST_TEST(a.ctx.reject == b.ctx.reject);
            BOOST_TEST(a.ctx.meta_mark == b.ctx.meta_mark);
            BOOST_TEST(int(a.ctx.log_count) == int(b.ctx.log_count));
            for (int l = 0; l < a.ctx.log_count && l < b.ctx.log_count; ++l) BOOST_TEST(a.ctx.logs[l] == b.ctx.logs[l]);
        }
        if (!a.by_policy) ++by_rule;
    }
    const auto ha = indexed.hits(), hb = linear.hits();
    BOOST_REQUIRE(ha.size() == hb.size());
    for (size_t i = 0; i < ha.size(); ++i) {
        BOOST_TEST_CONTEXT("rule " << i << ": " << rs.rule_info(uint32_t(i)).text) {
            BOOST_TEST(ha[i].packets == hb[i].packets);
            BOOST_TEST(ha[i].bytes == hb[i].bytes);
        }
    }
    const auto ca = indexed.counters(), cb = linear.counters();
    BOOST_REQUIRE(ca.size() == cb.size());
    for (size_t i = 0; i < ca.size(); ++i) BOOST_TEST(ca[i].packets == cb[i].packets);
    for (uint32_t s = 0; s < rs.program().sets.size(); ++s)
        BOOST_TEST(indexed.dyn_size(s, Nanos(packets) * 50'000'000) == linear.dyn_size(s, Nanos(packets) * 50'000'000));
    return by_rule;
}

uint32_t chain_named(const Ruleset& rs, const std::string& label) {
    for (uint32_t c = 0; c < rs.chain_count(); ++c)
        if (rs.chain_label(c) == label) return c;
    BOOST_FAIL("no chain " + label);
    return 0;
}

// `n` rules `ip saddr 10.0.x.y tcp dport N drop` before `tail`.
std::string address_chain(int n, const std::string& head, const std::string& tail) {
    std::string t = "table inet t {\nchain fwd { type filter hook forward priority 0; policy accept;\n" + head;
    for (int i = 0; i < n; ++i) t += "ip saddr " + v4(i) + " tcp dport " + std::to_string(100 + i) + " drop\n";
    return t + tail + "}\n}\n";
}

}  // namespace

BOOST_AUTO_TEST_CASE(random_large_chains_give_the_same_results_indexed_and_linear) {
    for (uint64_t seed = 1; seed <= 12; ++seed) {
        BOOST_TEST_CONTEXT("ruleset seed " << seed) {
            const std::string text = random_ruleset(seed, 300);
            const Ruleset rs = load(text);
            BOOST_TEST(rs.program().chain_index[chain_named(rs, "inet t fwd")].enabled);
            BOOST_TEST(rs.program().chain_index[chain_named(rs, "inet t mid")].enabled);
            BOOST_TEST(!rs.program().chain_index[chain_named(rs, "inet t short")].enabled);
            const int by_rule = compare_walks(rs, seed * 1000, 3000);
            BOOST_TEST(by_rule > 300);  // rules, not just policies, decide many packets
        }
    }
}

BOOST_AUTO_TEST_CASE(long_chain_of_address_rules_puts_every_rule_in_a_table) {
    const Ruleset rs = load(address_chain(100, "", ""));
    const ChainIndex& ix = rs.program().chain_index[chain_named(rs, "inet t fwd")];
    BOOST_REQUIRE(ix.enabled);
    BOOST_TEST(ix.always.empty());
    BOOST_TEST(ix.groups.size() == 1u);  // ip saddr /32: each address names one rule, each port one too
    BOOST_TEST(ix.positions.size() == 100u);
    RuntimeState st(rs);
    auto r = run(rs, st, tcp("10.0.3.2", 9, "10.9.9.9", 150), Hook::forward);  // host 50
    BOOST_TEST(r.verdict == Verdict::drop);
    BOOST_TEST(rs.rule_info(r.rule).text == "ip saddr 10.0.3.2 tcp dport 150 drop");
    BOOST_TEST(run(rs, st, tcp("10.0.3.2", 9, "10.9.9.9", 151), Hook::forward).by_policy);
}

BOOST_AUTO_TEST_CASE(rules_with_no_indexable_match_stay_candidates_in_order) {
    // a counter rule in the middle counts every packet; the catch-all decides after the table rules
    const Ruleset rs = load(address_chain(40, "ct state established accept\n", "counter\niifname \"lan0\" accept\ndrop\n"));
    const ChainIndex& ix = rs.program().chain_index[chain_named(rs, "inet t fwd")];
    BOOST_REQUIRE(ix.enabled);
    BOOST_TEST(ix.always.size() == 3u);  // ct state, counter, drop; iifname is indexed
    BOOST_TEST(ix.first_indexed == 1u);
    RuntimeState st(rs);
    auto r = run(rs, st, tcp("10.0.0.5", 9, "10.9.9.9", 105), Hook::forward, 1);
    BOOST_TEST(rs.rule_info(r.rule).text == "ip saddr 10.0.0.5 tcp dport 105 drop");
    auto r2 = run(rs, st, tcp("10.0.0.5", 9, "10.9.9.9", 1), Hook::forward, 0);
    BOOST_TEST(rs.rule_info(r2.rule).text == "iifname \"lan0\" accept");
    auto r3 = run(rs, st, tcp("10.0.0.5", 9, "10.9.9.9", 1), Hook::forward, 1);
    BOOST_TEST(rs.rule_info(r3.rule).text == "drop");
    const uint32_t counter_rule = rs.program().chains[chain_named(rs, "inet t fwd")].rules[41];
    BOOST_TEST(st.hits()[counter_rule].packets == 2u);  // r2 and r3 reached it; r was dropped before
}

BOOST_AUTO_TEST_CASE(a_match_after_ct_count_is_not_indexed) {
    // `ct count` adds the connection to its list whatever follows: the rule must run for every packet
    const Ruleset rs = load(address_chain(30, "ct count over 100 ip saddr 10.9.9.9 drop\n", ""));
    const ChainIndex& ix = rs.program().chain_index[chain_named(rs, "inet t fwd")];
    BOOST_REQUIRE(ix.enabled);
    BOOST_REQUIRE(ix.always.size() == 1u);
    BOOST_TEST(ix.always[0] == 0u);
}

BOOST_AUTO_TEST_CASE(a_match_after_a_statement_is_not_indexed) {
    // the counter runs before `ip saddr`: skipping the rule would lose the count
    const Ruleset rs = load(address_chain(30, "counter ip saddr 10.9.9.9 drop\n", ""));
    const ChainIndex& ix = rs.program().chain_index[chain_named(rs, "inet t fwd")];
    BOOST_REQUIRE(ix.always.size() == 1u);
    RuntimeState st(rs);
    run(rs, st, tcp("10.0.0.1", 9, "10.9.9.9", 1), Hook::forward);
    BOOST_TEST(st.counters()[0].packets == 1u);
}

BOOST_AUTO_TEST_CASE(prefix_rules_are_indexed_by_prefix_and_ranges_are_not) {
    std::string head = "ip daddr 10.7.0.0/16 accept\nip daddr 10.8.0.1-10.8.0.9 accept\n"
                       "ip6 saddr 2001:db8:1::/48 accept\n";
    const Ruleset rs = load(address_chain(30, head, ""));
    const ChainIndex& ix = rs.program().chain_index[chain_named(rs, "inet t fwd")];
    BOOST_REQUIRE(ix.always.size() == 1u);
    BOOST_TEST(ix.always[0] == 1u);  // the range
    BOOST_TEST(ix.groups.size() == 3u);  // ip saddr /32, ip daddr /16, ip6 saddr /48
    RuntimeState st(rs);
    BOOST_TEST(run(rs, st, tcp("10.0.0.1", 9, "10.7.200.1", 1), Hook::forward).rule ==
               rs.program().chains[chain_named(rs, "inet t fwd")].rules[0]);
    BOOST_TEST(run(rs, st, tcp("2001:db8:1:ffff::1", 9, "2001:db8::1", 1), Hook::forward).rule ==
               rs.program().chains[chain_named(rs, "inet t fwd")].rules[2]);
    BOOST_TEST(run(rs, st, tcp("2001:db8:2::1", 9, "2001:db8::1", 1), Hook::forward).by_policy);
}

BOOST_AUTO_TEST_CASE(jump_from_an_indexed_chain_resumes_after_the_jumping_rule) {
    std::string t = "table inet t {\nchain sub {\ntcp dport 7 counter return\ntcp dport 8 accept\n}\n"
                    "chain fwd { type filter hook forward priority 0; policy accept;\n";
    for (int i = 0; i < 20; ++i) t += "ip saddr " + v4(i) + " jump sub\n";
    for (int i = 0; i < 20; ++i) t += "ip saddr " + v4(i) + " tcp dport 7 drop\n";
    t += "}\n}\n";
    const Ruleset rs = load(t);
    RuntimeState st(rs);
    auto r = run(rs, st, tcp("10.0.0.3", 9, "10.9.9.9", 7), Hook::forward);
    BOOST_TEST(r.verdict == Verdict::drop);
    BOOST_TEST(rs.rule_info(r.rule).text == "ip saddr 10.0.0.3 tcp dport 7 drop");
    BOOST_TEST(st.counters()[0].packets == 1u);
    auto r2 = run(rs, st, tcp("10.0.0.3", 9, "10.9.9.9", 8), Hook::forward);
    BOOST_TEST(rs.rule_info(r2.rule).text == "tcp dport 8 accept");
}

BOOST_AUTO_TEST_CASE(a_trace_still_shows_every_rule_of_an_indexed_chain) {
    const Ruleset rs = load(address_chain(30, "", ""));
    RuntimeState st(rs);
    Trace tr;
    run(rs, st, tcp("10.0.0.1", 9, "10.9.9.9", 1), Hook::forward, 0, kNoIf, CtState::new_, 0, &tr);
    int rules = 0;
    for (const auto& s : tr.steps) rules += s.kind == TraceStep::Kind::rule;
    BOOST_TEST(rules == 30);
}

BOOST_AUTO_TEST_CASE(a_masked_prefix_is_indexed_by_the_mask_and_a_masked_range_is_not) {
    // `& 255.255.0.0 == 10.5.0.0` is the prefix 10.5.0.0/16; a range under
    // another mask keeps only some bits of the field, so it is no prefix of it
    const Ruleset rs = load(address_chain(30, "ip saddr & 255.255.0.0 == 10.5.0.0 accept\n"
                                              "ip saddr & 0.0.255.255 == 0.0.0.0/24 accept\n", ""));
    const ChainIndex& ix = rs.program().chain_index[chain_named(rs, "inet t fwd")];
    BOOST_REQUIRE(ix.always.size() == 1u);
    BOOST_TEST(ix.always[0] == 1u);
    RuntimeState st(rs);
    const auto& rules = rs.program().chains[chain_named(rs, "inet t fwd")].rules;
    BOOST_TEST(run(rs, st, tcp("10.5.77.1", 9, "10.9.9.9", 1), Hook::forward).rule == rules[0]);
    BOOST_TEST(run(rs, st, tcp("10.6.0.200", 9, "10.9.9.9", 1), Hook::forward).rule == rules[1]);
    BOOST_TEST(run(rs, st, tcp("10.6.1.200", 9, "10.9.9.9", 1), Hook::forward).by_policy);
}
