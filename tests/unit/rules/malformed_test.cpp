// Malformed rulesets: each is rejected with the line, column and message nft
// users expect (column = the offending token's first character).
#include <boost/test/unit_test.hpp>

#include "helpers.hpp"

using namespace rt;

namespace {

void expect_error(const std::string& text, unsigned line, unsigned col, const std::string& frag) {
    try {
        load(text);
        BOOST_ERROR("accepted: " << text);
    } catch (const fwsim::InputError& e) {
        BOOST_TEST(e.file() == "test.nft");
        BOOST_TEST(e.line() == line, e.render());
        BOOST_TEST(e.col() == col, e.render());
        BOOST_TEST(std::string(e.what()).find(frag) != std::string::npos, e.what() << " lacks: " << frag);
        BOOST_TEST((!e.source_line().empty() || col == 1));  // a blank line has no text
    }
}

// A one-rule input chain around `rule` (the rule is on line 3, column 1).
std::string in_chain(const std::string& rule) {
    return "table inet f {\nchain input { type filter hook input priority 0;\n" + rule + "\n}\n}\n";
}

}  // namespace

#define BAD(name, text, line, col, frag) \
    BOOST_AUTO_TEST_CASE(name) { expect_error(text, line, col, frag); }

BAD(jump_to_unknown_chain_is_an_error, in_chain("tcp dport 80 jump web"), 3, 19, "unknown chain \"web\"")
BAD(goto_unknown_chain_is_an_error, in_chain("goto nowhere"), 3, 6, "unknown chain \"nowhere\"")
BAD(undefined_variable_is_an_error, in_chain("ip saddr $lan accept"), 3, 10, "undefined variable \"$lan\"")
BAD(missing_named_set_is_an_error, in_chain("ip saddr @s drop"), 3, 10, "set \"s\" does not exist")
BAD(missing_named_map_is_an_error, in_chain("tcp dport vmap @m"), 3, 16, "map \"m\" does not exist")
BAD(integer_for_ipv4_address_is_a_type_mismatch, in_chain("ip saddr 80 accept"), 3, 10,
    "type mismatch: ip saddr expects an IPv4 address, got 80")
BAD(ipv4_for_ipv6_address_is_a_type_mismatch, in_chain("ip6 daddr 10.0.0.1 accept"), 3, 11,
    "ip6 daddr expects an IPv6 address")
BAD(unknown_service_name_is_a_type_mismatch, in_chain("tcp dport sshh accept"), 3, 11,
    "tcp dport expects a port number or service name, got sshh")
BAD(port_above_65535_is_out_of_range, in_chain("udp sport 65536 accept"), 3, 11, "out of range")
BAD(unknown_icmp_type_is_an_error, in_chain("icmp type echo-requestt accept"), 3, 11, "expects an ICMP type")
BAD(unknown_ct_state_is_an_error, in_chain("ct state establised accept"), 3, 10, "expects a ct state")
BAD(comma_list_of_ports_needs_a_set, in_chain("tcp dport 22,80 accept"), 3, 11, "needs a bitmask type")
BAD(concatenation_needs_a_set, in_chain("ip saddr . tcp dport 10.0.0.1 . 22 accept"), 3, 22,
    "Use concatenations with sets and maps")
BAD(jump_loop_is_detected,
    "table ip t {\nchain a { jump b; }\nchain b { jump a; }\nchain in { type filter hook input priority 0; jump a; }\n}\n",
    3, 16, "jump loop detected")
BAD(jump_to_self_is_a_loop, "table ip t {\nchain a { tcp dport 1 jump a; }\n}\n", 2, 28, "jump loop detected")
BAD(jump_to_base_chain_is_an_error,
    "table ip t {\nchain in { type filter hook input priority 0; jump out; }\nchain out { type filter hook output priority 0; }\n}\n",
    2, 52, "cannot jump to base chain")
BAD(nat_statement_in_filter_chain_is_an_error, in_chain("masquerade"), 3, 1,
    "masquerade: nat statement not allowed in filter chain \"input\"")
BAD(nat_statement_in_regular_chain_reached_from_filter_chain_is_an_error,
    "table ip t {\nchain r { snat to 1.2.3.4; }\nchain in { type filter hook postrouting priority 0; jump r; }\n}\n", 2, 11,
    "snat: nat statement not allowed in filter chain \"in\"")
BAD(masquerade_outside_postrouting_is_an_error,
    "table ip n {\nchain p { type nat hook prerouting priority -100;\nmasquerade\n}\n}\n", 3, 1,
    "masquerade is not allowed in the prerouting hook")
BAD(dnat_in_postrouting_is_an_error,
    "table ip n {\nchain p { type nat hook postrouting priority 100;\ndnat to 10.0.0.1\n}\n}\n", 3, 1,
    "dnat is not allowed in the postrouting hook")
BAD(redirect_in_postrouting_is_an_error,
    "table ip n {\nchain p { type nat hook postrouting priority 100;\ntcp dport 1 redirect to :2\n}\n}\n", 3, 13,
    "redirect is not allowed in the postrouting hook")
BAD(nat_port_without_transport_match_is_an_error,
    "table ip n {\nchain p { type nat hook prerouting priority -100;\ndnat to 10.0.0.1:80\n}\n}\n", 3, 18,
    "transport protocol mapping is only valid after transport protocol match")
BAD(ipv6_nat_address_in_ip_table_is_an_error,
    "table ip n {\nchain p { type nat hook prerouting priority -100;\ndnat to 2001:db8::1\n}\n}\n", 3, 9,
    "address family mismatch")
BAD(unsupported_family_arp_is_an_error, "table arp t {\n}\n", 1, 7, "unsupported family \"arp\"")
BAD(unsupported_family_netdev_is_an_error, "add table netdev t\n", 1, 11, "unsupported family \"netdev\"")
BAD(missing_separator_before_brace_is_a_syntax_error, in_chain("tcp dport 22 accept }"), 3, 21,
    "syntax error, unexpected '}', expecting newline or semicolon")
BAD(unknown_keyword_is_a_syntax_error, in_chain("tcp dport 22 accpet"), 3, 14, "syntax error, unexpected accpet")
BAD(unknown_selector_field_is_an_error, in_chain("ip frag-off 1 accept"), 3, 4, "unsupported expression \"ip frag-off\"")
BAD(nat_chain_at_conntrack_priority_is_an_error,
    "table ip n {\nchain p { type nat hook prerouting priority -200; }\n}\n", 2, 45, "greater than -200")
BAD(dstnat_priority_name_outside_prerouting_is_an_error,
    "table ip n {\nchain p { type nat hook output priority dstnat; }\n}\n", 2, 32, "invalid priority expression")
BAD(srcnat_priority_name_outside_postrouting_is_an_error,
    "table ip n {\nchain p { type filter hook input priority srcnat; }\n}\n", 2, 34, "invalid priority expression")
BAD(nat_chain_on_forward_hook_is_an_error, "table ip n {\nchain p { type nat hook forward priority 0; }\n}\n", 2,
    25, "not supported on the forward hook")
BAD(route_chain_outside_output_is_an_error, "table ip n {\nchain p { type route hook input priority 0; }\n}\n", 2,
    27, "only supported on the output hook")
BAD(unknown_hook_is_an_error, "table ip n {\nchain p { type filter hook inptu priority 0; }\n}\n", 2, 28,
    "unknown chain hook \"inptu\"")
BAD(policy_other_than_accept_or_drop_is_an_error,
    "table ip n {\nchain p { type filter hook input priority 0; policy reject; }\n}\n", 2, 53,
    "invalid policy \"reject\"")
BAD(policy_in_regular_chain_is_an_error, "table ip n {\nchain p { policy drop; }\n}\n", 2, 11,
    "policy is only allowed in base chains")
BAD(unterminated_string_is_an_error, in_chain("iifname \"lan0 accept"), 3, 9, "unterminated string")
BAD(interval_element_in_set_without_interval_flag_is_an_error,
    "table ip t {\nset s { type ipv4_addr; elements = { 10.0.0.0/8 }; }\n}\n", 2, 38, "no 'flags interval'")
BAD(set_element_with_too_few_components_is_an_error,
    "table ip t {\nset s { type ipv4_addr . inet_service; elements = { 10.0.0.1 }; }\n}\n", 2, 53,
    "element has 1 components")
BAD(map_element_without_value_is_an_error, in_chain("tcp dport vmap { 22 : accept, 80 }"), 3, 31,
    "map element needs a value")
BAD(set_lookup_with_wrong_type_is_an_error,
    "table ip t {\nset s { type ipv4_addr; }\nchain c { tcp dport @s accept; }\n}\n", 3, 21,
    "cannot be looked up in \"s\" of type ipv4_addr")
BAD(unknown_iif_interface_is_an_error, in_chain("iif \"nope0\" accept"), 3, 5, "interface \"nope0\" does not exist")
BAD(rule_for_missing_table_is_an_error, "add rule inet f input accept\n", 1, 15, "table \"inet f\" does not exist")
BAD(rule_for_missing_chain_is_an_error, "add table inet f\nadd rule inet f input accept\n", 2, 17,
    "unknown chain \"input\"")
BAD(include_without_reader_file_is_an_error, "include \"x.nft\"\n", 1, 9, "cannot read included file")
BAD(empty_anonymous_set_is_an_error, in_chain("tcp dport { } accept"), 3, 13, "syntax error, unexpected '}'")
BAD(low_end_above_high_end_is_an_error, in_chain("tcp dport 90-80 accept"), 3, 11, "low end above its high end")
BAD(reject_with_icmp_in_ip6_table_is_an_error,
    "table ip6 t {\nchain c { type filter hook input priority 0;\nreject with icmp type host-unreachable\n}\n}\n", 3,
    1, "not allowed in an ip6 table")
BAD(reject_in_postrouting_is_an_error,
    "table ip t {\nchain c { type filter hook postrouting priority 0;\nreject\n}\n}\n", 3, 1,
    "reject is not allowed in the postrouting hook")
BAD(limit_with_unknown_time_unit_is_an_error, in_chain("limit rate 10/fortnight accept"), 3, 12,
    "invalid time unit \"fortnight\"")
BAD(too_many_jump_levels_is_an_error,
    "table ip t {\nchain c0 { type filter hook input priority 0; jump c1; }\n"
    "chain c1 { jump c2; }\nchain c2 { jump c3; }\nchain c3 { jump c4; }\nchain c4 { jump c5; }\n"
    "chain c5 { jump c6; }\nchain c6 { jump c7; }\nchain c7 { jump c8; }\nchain c8 { jump c9; }\n"
    "chain c9 { jump c10; }\nchain c10 { jump c11; }\nchain c11 { jump c12; }\nchain c12 { jump c13; }\n"
    "chain c13 { jump c14; }\nchain c14 { jump c15; }\nchain c15 { jump c16; }\nchain c16 { accept; }\n}\n",
    17, 18, "too many jump levels")
BAD(statement_after_verdict_is_an_error, in_chain("tcp dport 22 accept counter"), 3, 21,
    "Statement after terminal statement has no effect")
BAD(match_after_nat_statement_is_an_error,
    "table ip n {\nchain p { type nat hook postrouting priority 100;\nmasquerade accept\n}\n}\n", 3, 12,
    "Statement after terminal statement")
BAD(service_names_do_not_form_ranges, in_chain("tcp dport ssh-http accept"), 3, 11, "got ssh-http")
BAD(limit_burst_of_zero_is_an_error, in_chain("limit rate 10/second burst 0 packets accept"), 3, 28,
    "burst must be greater than 0")
BAD(ip6_selector_in_ip_table_is_an_error,
    "table ip t {\nchain c { type filter hook input priority 0;\nip6 nexthdr tcp accept\n}\n}\n", 3, 1,
    "conflicting protocols")
BAD(icmpx_reject_outside_inet_table_is_an_error,
    "table ip t {\nchain c { type filter hook input priority 0;\nreject with icmpx type host-unreachable\n}\n}\n", 3,
    1, "only allowed in inet tables")
BAD(ip_and_ip6_in_one_rule_conflict, in_chain("ip saddr 10.0.0.1 ip6 daddr ::1 accept"), 3, 19,
    "conflicting protocols specified: ip vs. ip6")
BAD(tcp_and_udp_in_one_rule_conflict, in_chain("meta l4proto tcp udp dport 1 accept"), 3, 18,
    "conflicting protocols specified: tcp vs. udp")
BAD(nat_address_in_inet_table_needs_a_family,
    "table inet n {\nchain p { type nat hook prerouting priority -100;\ntcp dport 80 dnat to 10.0.0.1\n}\n}\n", 3, 14,
    "ip or ip6 must be specified")
BAD(meta_nfproto_outside_inet_is_an_error,
    "table ip t {\nchain c { type filter hook input priority 0;\nmeta nfproto ipv4 accept\n}\n}\n", 3, 1,
    "meta nfproto is only useful in the inet family")
BAD(tcp_reset_after_udp_match_is_an_error, in_chain("udp dport 1 reject with tcp reset"), 3, 13,
    "you cannot use tcp reset with this protocol")
BAD(missing_named_counter_is_an_error, in_chain("counter name nope"), 3, 14, "counter \"nope\" does not exist")
BAD(base_chain_redeclared_on_another_hook_is_an_error,
    "table ip t {\nchain input { type filter hook input priority 0; }\nchain input { type filter hook output priority 0; }\n}\n",
    3, 32, "already exists on another hook")
BAD(statement_keyword_is_not_a_value, in_chain("iifname accept"), 3, 9, "syntax error, unexpected accept")
BAD(counter_values_must_be_numbers, in_chain("counter packets 1 bytes drop"), 3, 25, "expecting number")
BAD(blank_line_inside_a_set_is_an_error_as_in_nft,
    "table ip t {\nset s { type ipv4_addr; elements = { 10.0.0.1, # a\n# only a comment\n10.0.0.2,\n\n10.0.0.3 }; }\n}\n", 5, 1,
    "syntax error, unexpected newline")
BAD(unbalanced_brace_in_define_is_an_error, "define ifs = { { \"lan0\" }\ntable ip t {\n}\n", 1, 8, "unbalanced '{'")
BAD(unknown_chain_flag_is_an_error, "table ip t {\nchain c {\nflags accept\n}\n}\n", 3, 7, "expecting offload")
BAD(family_keyword_is_not_a_chain_name, "table ip t {\nchain inet {\n}\n}\n", 2, 7, "syntax error, unexpected inet")
BAD(add_to_missing_set_is_an_error, in_chain("add @nope { ip saddr }"), 3, 5, "set \"nope\" does not exist")
BAD(add_with_wrong_key_type_is_an_error,
    "table inet f {\nset s { type ipv4_addr; flags dynamic; }\nchain c {\nadd @s { tcp dport }\n}\n}\n", 4, 5,
    "cannot be added to \"s\"")
BAD(element_timeout_needs_timeout_flag,
    "table inet f {\nset s { type ipv4_addr; flags dynamic; }\nchain c {\nadd @s { ip saddr timeout 1m }\n}\n}\n", 4, 1,
    "needs 'flags timeout'")
BAD(numeric_range_is_not_an_interface_name, in_chain("iifname 1-5 accept"), 3, 9,
    "Range expression is undefined for network interface name types")
BAD(protocol_is_not_an_interface_name, in_chain("iifname tcp accept"), 3, 9, "got the protocol tcp")
BAD(negative_number_is_a_syntax_error, in_chain("meta mark -1 accept"), 3, 11, "syntax error, unexpected '-'")
BAD(empty_element_list_is_a_syntax_error, "table ip t {\nset s { type ipv4_addr; elements = { }; }\n}\n", 2, 38,
    "syntax error, unexpected '}'")
BAD(interface_wildcard_in_named_set_needs_interval_flag,
    "table ip t {\nset s { type ifname; elements = { \"lan0\", \"eth*\" }; }\n}\n", 2, 43, "no 'flags interval'")
BAD(nat_family_conflicting_with_the_rule_is_an_error,
    "table inet n {\nchain p { type nat hook postrouting priority 100;\nip saddr 10.0.0.0/8 snat ip6 to ::1\n}\n}\n", 3, 21,
    "conflicting protocols specified: ip vs. ip6")
BAD(create_existing_table_is_an_error, "add table inet f\ncreate table inet f\n", 2, 19, "table \"inet f\" already exists")
BAD(define_twice_is_an_error, "define x = 1\ndefine x = 2\n", 2, 8, "redefinition of symbol 'x'")
BAD(fib_is_reported_as_unsupported, in_chain("fib daddr type local accept"), 3, 1,
    "\"fib\" expressions and statements are not supported by fwsim")
BAD(missing_named_limit_is_an_error, in_chain("limit name \"nope\" accept"), 3, 12, "limit \"nope\" does not exist")
