// A chain's leading `ct state` rules are decided by a lookup on the packet's
// ct state bit (Chain::ct_lead, Ruleset::eval()): the verdict, the deciding
// rule and every hit counter must be what the rule-by-rule walk gives, for
// every ct state, including "no entry" (reads as invalid) and untracked.
#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "core/rules/program.hpp"
#include "helpers.hpp"

using namespace rt;

namespace {

struct State {
    bool has_ct;
    CtState cs;
    const char* name;
};
const State kStates[] = {{true, CtState::new_, "new"},           {true, CtState::established, "established"},
                         {true, CtState::related, "related"},     {true, CtState::invalid, "invalid"},
                         {false, CtState::invalid, "no entry"},   {true, CtState::untracked, "untracked"},
                         {false, CtState::untracked, "untracked, no entry"}};

// The forward hook with the ct state (and entry or none) of `s`.
Result eval_fwd(const Ruleset& rs, RuntimeState& st, const Packet& p, const State& s) {
    return run(rs, st, p, Hook::forward, 0, 1, s.cs, 0, nullptr, s.has_ct);
}

uint32_t fwd_chain(const Ruleset& rs) {
    for (uint32_t c = 0; c < rs.chain_count(); ++c)
        if (rs.chain_label(c) == "inet t fwd") return c;
    BOOST_FAIL("no chain fwd");
    return 0;
}

// Every state, a TCP and a UDP packet each, through a lookup and a linear
// RuntimeState: same verdict, rule, policy flag and hit counters.
void compare(const std::string& rules) {
    const std::string text = "table inet t {\nchain fwd { type filter hook forward priority 0; policy drop;\n" + rules +
                             "}\n}\n";
    const Ruleset rs = load(text);
    RuntimeState fast(rs), linear(rs);
    linear.set_linear_walk(true);
    const Packet pkts[] = {tcp("10.0.0.1", 1000, "10.0.1.1", 22), udp("10.0.0.1", 1000, "10.0.1.1", 53),
                           tcp("10.0.0.1", 1000, "10.0.1.1", 80)};
    for (const State& s : kStates) {
        for (const Packet& p : pkts) {
            const Result a = eval_fwd(rs, fast, p, s);
            const Result b = eval_fwd(rs, linear, p, s);
            BOOST_TEST_CONTEXT(rules << "state " << s.name << ", dport " << p.dport) {
                BOOST_TEST(a.verdict == b.verdict);
                BOOST_TEST(a.rule == b.rule);
                BOOST_TEST(a.by_policy == b.by_policy);
            }
        }
    }
    const auto ha = fast.hits(), hb = linear.hits();
    BOOST_REQUIRE(ha.size() == hb.size());
    for (size_t i = 0; i < ha.size(); ++i) {
        BOOST_TEST_CONTEXT(rules << "rule " << rs.rule_info(uint32_t(i)).text) {
            BOOST_TEST(ha[i].packets == hb[i].packets);
            BOOST_TEST(ha[i].bytes == hb[i].bytes);
        }
    }
}

}  // namespace

BOOST_AUTO_TEST_CASE(stateful_opening_is_a_lookup_of_two_rules) {
    const Ruleset rs = load(
        "table inet t {\nchain fwd { type filter hook forward priority 0; policy drop;\n"
        "ct state invalid drop\nct state established,related accept\ntcp dport 22 accept\n}\n}\n");
    const CtLead& lead = rs.program().chains[fwd_chain(rs)].ct_lead;
    BOOST_TEST(lead.len == 2u);
    const auto& rules = rs.program().chains[fwd_chain(rs)].rules;
    BOOST_TEST(lead.rid[0] == rules[0]);  // bit 1: invalid
    BOOST_TEST((lead.tail[0] == Tail::drop));
    BOOST_TEST(lead.rid[1] == rules[1]);  // bit 2: established
    BOOST_TEST(lead.rid[2] == rules[1]);  // bit 4: related
    BOOST_TEST((lead.tail[1] == Tail::accept));
    BOOST_TEST(lead.rid[3] == kNoRule);  // new: walks on from rule 2
    BOOST_TEST(lead.rid[6] == kNoRule);  // untracked

    RuntimeState st(rs);
    const Packet data = tcp("10.0.0.1", 1000, "10.0.1.1", 80);
    const Result est = eval_fwd(rs, st, data, kStates[1]);
    BOOST_TEST(est.verdict == Verdict::accept);
    BOOST_TEST(est.rule == rules[1]);
    const Result fresh = eval_fwd(rs, st, tcp("10.0.0.1", 1000, "10.0.1.1", 22), kStates[0]);
    BOOST_TEST(fresh.rule == rules[2]);
    const Result stray = eval_fwd(rs, st, tcp("10.0.0.1", 1000, "10.0.1.1", 80), kStates[4]);
    BOOST_TEST(stray.verdict == Verdict::drop);
    BOOST_TEST(stray.rule == rules[0]);
    BOOST_TEST(st.hits()[rules[1]].packets == 1u);
    BOOST_TEST(st.hits()[rules[1]].bytes == data.ip_len);  // the IP length, as the walk counts it
}

BOOST_AUTO_TEST_CASE(lead_stops_at_the_first_rule_that_tests_more_than_ct_state) {
    const Ruleset rs = load(
        "table inet t {\nchain fwd { type filter hook forward priority 0; policy drop;\n"
        "ct state established accept\nct state new tcp dport 22 accept\nct state invalid drop\n}\n}\n");
    BOOST_TEST(rs.program().chains[fwd_chain(rs)].ct_lead.len == 1u);
    const Ruleset counted = load(
        "table inet t {\nchain fwd { type filter hook forward priority 0; policy drop;\n"
        "ct state invalid counter drop\nct state established accept\n}\n}\n");
    BOOST_TEST(counted.program().chains[fwd_chain(counted)].ct_lead.len == 0u);  // a statement: walked
}

BOOST_AUTO_TEST_CASE(lookup_and_walk_agree_for_every_state_and_shape) {
    compare("ct state invalid drop\nct state established,related accept\ntcp dport 22 accept\n");
    compare("ct state established,related accept\nct state invalid drop\nct state new accept\n");
    compare("ct state != established drop\nct state established accept\n");
    compare("ct state { new, untracked } accept\nct state related drop\nudp dport 53 accept\n");
    compare("ct state established ct state != related accept\nct state new,invalid drop\n");
    compare("ct state untracked accept\nct state invalid accept\nct state established drop\n");
    compare("ct state established accept\ncounter\nct state new accept\n");
    compare("ct state new accept\nct state new drop\ntcp dport 80 drop\n");
}
