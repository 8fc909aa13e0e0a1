// Sets, maps, verdict maps, flags, interfaces, marks.
#include <boost/test/unit_test.hpp>

#include "helpers.hpp"

using namespace rt;

namespace {
// One input chain with policy accept around `rules`; rules start on line 3.
Ruleset chain(const std::string& rules, const std::string& decls = "") {
    return load("table inet t {\n" + decls + "chain c { type filter hook input priority 0; policy accept;\n" + rules +
                "\n}\n}\n");
}
Verdict v(const Ruleset& rs, const Packet& p, uint16_t iif = 0) {
    RuntimeState st(rs);
    return run(rs, st, p, Hook::input, iif).verdict;
}
}  // namespace

BOOST_AUTO_TEST_CASE(anonymous_set_matches_its_members_only) {
    auto rs = chain("tcp dport { 22, 80, 443 } drop");
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 80)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 81)) == Verdict::accept);
}

BOOST_AUTO_TEST_CASE(negated_set_lookup_matches_non_members) {
    auto rs = chain("tcp dport != { 22, 80 } drop");
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 80)) == Verdict::accept);
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 81)) == Verdict::drop);
}

BOOST_AUTO_TEST_CASE(interval_set_matches_prefixes_and_ranges_at_their_edges) {
    auto rs = chain("ip saddr @s drop",
                    "set s { type ipv4_addr; flags interval; elements = { 10.0.0.0/8, 192.168.1.10-192.168.1.20 }; }\n");
    BOOST_TEST(v(rs, tcp("10.255.255.255", 1, "2.2.2.2", 1)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("11.0.0.0", 1, "2.2.2.2", 1)) == Verdict::accept);
    BOOST_TEST(v(rs, tcp("192.168.1.10", 1, "2.2.2.2", 1)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("192.168.1.20", 1, "2.2.2.2", 1)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("192.168.1.21", 1, "2.2.2.2", 1)) == Verdict::accept);
    BOOST_TEST(v(rs, tcp("192.168.1.9", 1, "2.2.2.2", 1)) == Verdict::accept);
}

BOOST_AUTO_TEST_CASE(overlapping_intervals_in_anonymous_set_are_merged) {
    auto rs = chain("tcp dport { 10-20, 15-30, 25 } drop");
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 29)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 31)) == Verdict::accept);
}

BOOST_AUTO_TEST_CASE(concatenated_set_matches_both_components) {
    auto rs = chain("ip saddr . tcp dport { 10.0.0.1 . 22, 10.0.0.2 . 80 } drop");
    BOOST_TEST(v(rs, tcp("10.0.0.1", 1, "2.2.2.2", 22)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("10.0.0.1", 1, "2.2.2.2", 80)) == Verdict::accept);
    BOOST_TEST(v(rs, tcp("10.0.0.2", 1, "2.2.2.2", 80)) == Verdict::drop);
}

BOOST_AUTO_TEST_CASE(concatenation_with_ranges_matches_per_component) {
    auto rs = chain("ip saddr . tcp dport @s drop",
                    "set s { type ipv4_addr . inet_service; flags interval; elements = { 10.0.0.0/24 . 1000-2000 }; }\n");
    BOOST_TEST(v(rs, tcp("10.0.0.7", 1, "2.2.2.2", 1500)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("10.0.0.7", 1, "2.2.2.2", 2001)) == Verdict::accept);
    BOOST_TEST(v(rs, tcp("10.0.1.7", 1, "2.2.2.2", 1500)) == Verdict::accept);
}

BOOST_AUTO_TEST_CASE(verdict_map_jumps_and_decides) {
    auto rs = load("table inet t {\nchain web {\ntcp sport 7 drop\n}\n"
                   "chain c { type filter hook input priority 0; policy accept;\n"
                   "tcp dport vmap { 22 : drop, 80 : jump web }\nudp dport 1 drop\n}\n}\n");
    RuntimeState st(rs);
    auto r = run(rs, st, tcp("1.1.1.1", 5, "2.2.2.2", 22), Hook::input);
    BOOST_TEST(r.verdict == Verdict::drop);
    BOOST_TEST(line_of(rs, r) == 6);
    BOOST_TEST(line_of(rs, run(rs, st, tcp("1.1.1.1", 7, "2.2.2.2", 80), Hook::input)) == 3);
    BOOST_TEST(run(rs, st, tcp("1.1.1.1", 8, "2.2.2.2", 80), Hook::input).by_policy);
    BOOST_TEST(run(rs, st, tcp("1.1.1.1", 8, "2.2.2.2", 81), Hook::input).by_policy);
}

BOOST_AUTO_TEST_CASE(named_verdict_map_with_catch_all_element) {
    auto rs = chain("ip saddr vmap @m", "map m { type ipv4_addr : verdict; elements = { 10.0.0.1 : accept, * : drop }; }\n");
    BOOST_TEST(v(rs, tcp("10.0.0.1", 1, "2.2.2.2", 1)) == Verdict::accept);
    BOOST_TEST(v(rs, tcp("10.0.0.3", 1, "2.2.2.2", 1)) == Verdict::drop);
}

BOOST_AUTO_TEST_CASE(ct_state_list_matches_any_of_the_states) {
    auto rs = load("table inet t {\nchain c { type filter hook input priority 0; policy drop;\n"
                   "ct state established,related accept\n}\n}\n");
    RuntimeState st(rs);
    auto p = tcp("1.1.1.1", 1, "2.2.2.2", 2);
    BOOST_TEST(run(rs, st, p, Hook::input, 0, kNoIf, CtState::related).verdict == Verdict::accept);
    BOOST_TEST(run(rs, st, p, Hook::input, 0, kNoIf, CtState::established).verdict == Verdict::accept);
    BOOST_TEST(run(rs, st, p, Hook::input, 0, kNoIf, CtState::new_).verdict == Verdict::drop);
    BOOST_TEST(run(rs, st, p, Hook::input, 0, kNoIf, CtState::invalid).verdict == Verdict::drop);
}

BOOST_AUTO_TEST_CASE(tcp_flags_slash_form_matches_syn_without_ack) {
    auto rs = chain("tcp flags syn / syn,ack drop");
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 2, tcpflag::syn)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 2, tcpflag::syn | tcpflag::ack)) == Verdict::accept);
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 2, tcpflag::syn | tcpflag::psh)) == Verdict::drop);
}

BOOST_AUTO_TEST_CASE(tcp_flags_mask_compare_form) {
    auto rs = chain("tcp flags & (syn|ack) == syn|ack drop");
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 2, tcpflag::syn | tcpflag::ack | tcpflag::psh)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 2, tcpflag::syn)) == Verdict::accept);
}

BOOST_AUTO_TEST_CASE(tcp_flags_exact_compare_needs_all_bits_equal) {
    auto rs = chain("tcp flags == syn drop");
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 2, tcpflag::syn)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 2, tcpflag::syn | tcpflag::ece)) == Verdict::accept);
}

BOOST_AUTO_TEST_CASE(tcp_flags_implicit_single_flag_matches_when_set) {
    auto rs = chain("tcp flags rst drop");
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 2, tcpflag::rst | tcpflag::ack)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 2, tcpflag::ack)) == Verdict::accept);
}

BOOST_AUTO_TEST_CASE(iifname_wildcard_matches_interfaces_by_prefix) {
    auto rs = chain("iifname \"eth*\" drop");
    auto p = tcp("1.1.1.1", 1, "2.2.2.2", 2);
    BOOST_TEST(v(rs, p, 3) == Verdict::drop);   // eth0
    BOOST_TEST(v(rs, p, 4) == Verdict::drop);   // eth1
    BOOST_TEST(v(rs, p, 0) == Verdict::accept); // lan0
}

BOOST_AUTO_TEST_CASE(iifname_not_in_topology_never_matches_but_negation_does) {
    auto rs = chain("iifname \"ppp0\" drop\niifname != \"ppp0\" counter");
    RuntimeState st(rs);
    auto r = run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 2), Hook::input, 0);
    BOOST_TEST(r.verdict == Verdict::accept);
    BOOST_TEST(st.hits()[1].packets == 1u);
}

BOOST_AUTO_TEST_CASE(oifname_set_matches_listed_interfaces) {
    auto rs = load("table inet t {\nchain c { type filter hook forward priority 0; policy accept;\n"
                   "oifname { \"wan0\", \"dmz0\" } drop\n}\n}\n");
    RuntimeState st(rs);
    auto p = tcp("1.1.1.1", 1, "2.2.2.2", 2);
    BOOST_TEST(run(rs, st, p, Hook::forward, 0, 1).verdict == Verdict::drop);
    BOOST_TEST(run(rs, st, p, Hook::forward, 0, 2).verdict == Verdict::drop);
    BOOST_TEST(run(rs, st, p, Hook::forward, 1, 0).verdict == Verdict::accept);
}

BOOST_AUTO_TEST_CASE(meta_mark_set_is_seen_by_later_rules) {
    auto rs = chain("meta mark set 0x2a\nmark 42 drop");
    RuntimeState st(rs);
    auto r = run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 2), Hook::input);
    BOOST_TEST(r.verdict == Verdict::drop);
    BOOST_TEST(r.ctx.meta_mark == 42u);
}

BOOST_AUTO_TEST_CASE(ct_mark_set_is_reported_to_the_engine) {
    auto rs = chain("ct mark set 7");
    RuntimeState st(rs);
    auto r = run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 2), Hook::input);
    BOOST_TEST(r.ctx.ct_mark_set);
    BOOST_TEST(r.ctx.ct_mark == 7u);
    BOOST_TEST(rs.uses_ct());
}

BOOST_AUTO_TEST_CASE(icmp_type_names_match_their_numbers) {
    auto rs = chain("icmp type echo-request drop\nicmpv6 type echo-request drop");
    BOOST_TEST(v(rs, icmp("1.1.1.1", "2.2.2.2", 8)) == Verdict::drop);
    BOOST_TEST(v(rs, icmp("1.1.1.1", "2.2.2.2", 0)) == Verdict::accept);
    BOOST_TEST(v(rs, icmp("2001:db8::1", "2001:db8::2", 128)) == Verdict::drop);
    BOOST_TEST(v(rs, icmp("2001:db8::1", "2001:db8::2", 8)) == Verdict::accept);
}

BOOST_AUTO_TEST_CASE(port_range_and_comparisons) {
    auto rs = chain("tcp dport 1000-2000 drop\ntcp dport < 10 drop\ntcp dport >= 60000 drop");
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 1000)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 2001)) == Verdict::accept);
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 9)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 10)) == Verdict::accept);
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 60000)) == Verdict::drop);
}

BOOST_AUTO_TEST_CASE(ipv6_prefix_matches) {
    auto rs = chain("ip6 saddr 2001:db8:1::/48 drop");
    BOOST_TEST(v(rs, tcp("2001:db8:1:ffff::1", 1, "2001:db8::2", 2)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("2001:db8:2::1", 1, "2001:db8::2", 2)) == Verdict::accept);
}

BOOST_AUTO_TEST_CASE(service_names_resolve_from_the_builtin_table) {
    auto rs = chain("tcp dport { ssh, https, domain } drop");
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 22)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 443)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 53)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 80)) == Verdict::accept);
}

BOOST_AUTO_TEST_CASE(continue_and_vmap_miss_go_on_to_later_statements_and_rules) {
    auto rs = chain("tcp dport vmap { 1 : drop } counter\ncontinue counter\ntcp dport 2 drop");
    RuntimeState st(rs);
    auto r = run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 2), Hook::input);
    BOOST_TEST(r.verdict == Verdict::drop);
    BOOST_TEST(line_of(rs, r) == 5);
    BOOST_TEST(st.counters()[0].packets == 0u);  // the vmap missed: NFT_BREAK ends that rule
    BOOST_TEST(st.counters()[1].packets == 1u);  // `continue` goes on with the rule's next statement
}

BOOST_AUTO_TEST_CASE(tcp_flags_negated_slash_form_as_nft_lists_it) {
    auto rs = chain("tcp flags != syn / fin,syn,rst,ack drop");
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 2, tcpflag::syn)) == Verdict::accept);
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 2, tcpflag::syn | tcpflag::psh)) == Verdict::accept);
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 2, tcpflag::ack)) == Verdict::drop);
}

BOOST_AUTO_TEST_CASE(tcp_flags_negation_matches_when_none_is_set) {
    auto rs = chain("tcp flags ! fin,syn,rst,psh,ack,urg drop");
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 2, 0)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 2, tcpflag::ece)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 2, tcpflag::ack)) == Verdict::accept);
}

BOOST_AUTO_TEST_CASE(ip_dscp_names_match_the_tos_bits) {
    auto rs = chain("ip dscp { ef, cs1 } drop");
    auto p = tcp("1.1.1.1", 1, "2.2.2.2", 2);
    p.tos = 46 << 2;
    BOOST_TEST(v(rs, p) == Verdict::drop);
    p.tos = 8 << 2 | 1;  // ECN bits do not matter
    BOOST_TEST(v(rs, p) == Verdict::drop);
    p.tos = 10 << 2;
    BOOST_TEST(v(rs, p) == Verdict::accept);
}

BOOST_AUTO_TEST_CASE(header_fields_icmp_id_tcp_window_udp_length) {
    auto rs = chain("icmp id 77 drop\ntcp window < 100 drop\nudp length 28 drop");
    auto e = icmp("1.1.1.1", "2.2.2.2", 8);
    e.icmp_id = 77;
    BOOST_TEST(v(rs, e) == Verdict::drop);
    auto u = icmp("1.1.1.1", "2.2.2.2", 3);  // not an echo: no id
    u.icmp_id = 77;
    BOOST_TEST(v(rs, u) == Verdict::accept);
    auto t = tcp("1.1.1.1", 1, "2.2.2.2", 2);
    t.tcp.window = 50;
    BOOST_TEST(v(rs, t) == Verdict::drop);
    t.tcp.window = 500;
    BOOST_TEST(v(rs, t) == Verdict::accept);
    auto d = udp("1.1.1.1", 1, "2.2.2.2", 2);
    d.l4_len = 28;
    BOOST_TEST(v(rs, d) == Verdict::drop);
}

// Sets of keys up to 8 bytes are searched as integers (Set::ints): the
// first and last keys of the key space, a map's data and a dynamic set's
// elements (searched as key bytes) must all still be found.
BOOST_AUTO_TEST_CASE(integer_keyed_sets_match_at_the_ends_of_the_key_space) {
    auto rs = chain("ip saddr @s drop\ntcp dport { 0, 65535 } drop",
                    "set s { type ipv4_addr; flags interval; elements = { 0.0.0.0, 10.0.0.0/8, 255.255.255.255 }; }\n");
    BOOST_TEST(v(rs, tcp("0.0.0.0", 1, "2.2.2.2", 1)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("0.0.0.1", 1, "2.2.2.2", 1)) == Verdict::accept);
    BOOST_TEST(v(rs, tcp("9.255.255.255", 1, "2.2.2.2", 1)) == Verdict::accept);
    BOOST_TEST(v(rs, tcp("10.0.0.0", 1, "2.2.2.2", 1)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("255.255.255.254", 1, "2.2.2.2", 1)) == Verdict::accept);
    BOOST_TEST(v(rs, tcp("255.255.255.255", 1, "2.2.2.2", 1)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 0)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 65535)) == Verdict::drop);
    BOOST_TEST(v(rs, tcp("1.1.1.1", 1, "2.2.2.2", 65534)) == Verdict::accept);
}

BOOST_AUTO_TEST_CASE(integer_keyed_verdict_map_and_dynamic_set_still_decide) {
    auto rs = chain("tcp dport vmap { 22 : drop, 1000-2000 : drop }\n"
                    "ip saddr @seen drop\n"
                    "add @seen { ip saddr }",
                    "set seen { type ipv4_addr; flags dynamic; }\n");
    RuntimeState st(rs);
    BOOST_TEST(run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 2000), Hook::input, 0).verdict == Verdict::drop);
    BOOST_TEST(run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 2001), Hook::input, 0).verdict == Verdict::accept);
    // the first packet of 1.1.1.1 added it: the second is dropped by @seen
    BOOST_TEST(run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 2001), Hook::input, 0).verdict == Verdict::drop);
    BOOST_TEST(run(rs, st, tcp("3.3.3.3", 1, "2.2.2.2", 2001), Hook::input, 0).verdict == Verdict::accept);
}

// A large integer-keyed set is searched within buckets of its keys' top
// bits (Set::bucket_start); intervals that reach across buckets, the first
// and last buckets and addresses next to every edge must all be judged as
// the plain interval list says.
BOOST_AUTO_TEST_CASE(bucketed_large_interval_set_agrees_with_its_intervals) {
    std::vector<std::pair<uint32_t, uint32_t>> iv = {
        {0x00000000u, 0x00000000u}, {0x40000000u, 0x7fffffffu},  // 64.0.0.0-127.255.255.255: 32 buckets
        {0xfffffffeu, 0xffffffffu}, {0xc0a80000u, 0xc0a8ffffu}};
    for (uint32_t i = 0; i < 150; ++i) iv.push_back({0x0a000000u + i * 0x10000u + 5, 0x0a000000u + i * 0x10000u + 9});
    auto text = [](uint32_t a) {
        return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." + std::to_string((a >> 8) & 255) +
               "." + std::to_string(a & 255);
    };
    std::string elems;
    for (auto [lo, hi] : iv) elems += (elems.empty() ? "" : ", ") + text(lo) + (lo == hi ? "" : "-" + text(hi));
    auto rs = chain("ip daddr @s drop", "set s { type ipv4_addr; flags interval; elements = { " + elems + " }; }\n");
    std::vector<uint32_t> probes;
    for (auto [lo, hi] : iv)
        for (uint32_t a : {lo - 1, lo, lo + 1, hi - 1, hi, hi + 1}) probes.push_back(a);
    for (uint64_t a = 0; a <= 0xffffffffu; a += 0x00fff3f1u) probes.push_back(uint32_t(a));
    for (uint32_t a : probes) {
        bool in = false;
        for (auto [lo, hi] : iv) in = in || (a >= lo && a <= hi);
        const std::string dst = text(a);
        BOOST_TEST((v(rs, tcp("1.1.1.1", 1, dst.c_str(), 1)) == Verdict::drop) == in, dst);
    }
}
