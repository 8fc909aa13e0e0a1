// Parsing: includes, variables, command forms, what `nft list` prints, rule info.
#include <boost/test/unit_test.hpp>

#include <map>

#include "helpers.hpp"

using namespace rt;

namespace {
Ruleset load_files(const std::map<std::string, std::string>& files, const std::string& main) {
    return Ruleset::load(
        main, files.at(main),
        [&](const std::string& p) -> std::optional<std::string> {
            auto it = files.find(p);
            if (it == files.end()) return std::nullopt;
            return it->second;
        },
        ifs());
}
}  // namespace

BOOST_AUTO_TEST_CASE(include_is_read_relative_to_the_including_file) {
    std::map<std::string, std::string> files{
        {"conf/main.nft", "include \"parts/defs.nft\"\ntable ip t {\nchain c { type filter hook input priority 0;\n"
                          "ip saddr $net drop\n}\n}\n"},
        {"conf/parts/defs.nft", "define net = 10.0.0.0/8\n"}};
    auto rs = load_files(files, "conf/main.nft");
    RuntimeState st(rs);
    auto r = run(rs, st, tcp("10.1.1.1", 1, "2.2.2.2", 2), Hook::input);
    BOOST_TEST(r.verdict == Verdict::drop);
    BOOST_TEST(rs.rule_info(r.rule).file == "conf/main.nft");
    BOOST_TEST(rs.rule_info(r.rule).line == 4u);
}

BOOST_AUTO_TEST_CASE(rules_in_an_included_file_name_that_file) {
    std::map<std::string, std::string> files{
        {"main.nft", "table ip t {\nchain c { type filter hook input priority 0; }\n}\ninclude \"more.nft\"\n"},
        {"more.nft", "\n\nadd rule ip t c tcp dport 22 accept\n"}};
    auto rs = load_files(files, "main.nft");
    BOOST_REQUIRE(rs.rule_count() == 1u);
    BOOST_TEST(rs.rule_info(0).file == "more.nft");
    BOOST_TEST(rs.rule_info(0).line == 3u);
}

BOOST_AUTO_TEST_CASE(include_loop_is_an_error_with_the_include_location) {
    std::map<std::string, std::string> files{{"a.nft", "include \"b.nft\"\n"}, {"b.nft", "\ninclude \"a.nft\"\n"}};
    try {
        load_files(files, "a.nft");
        BOOST_ERROR("include loop accepted");
    } catch (const fwsim::InputError& e) {
        BOOST_TEST(e.file() == "b.nft");
        BOOST_TEST(e.line() == 2u);
        BOOST_TEST(e.col() == 9u);
        BOOST_TEST(std::string(e.what()).find("include loop") != std::string::npos);
    }
}

BOOST_AUTO_TEST_CASE(error_in_an_included_file_names_that_file_and_line) {
    std::map<std::string, std::string> files{{"a.nft", "include \"b.nft\"\n"}, {"b.nft", "table ip t {\nchain c {\njump x\n}\n}\n"}};
    try {
        load_files(files, "a.nft");
        BOOST_ERROR("accepted");
    } catch (const fwsim::InputError& e) {
        BOOST_TEST(e.file() == "b.nft");
        BOOST_TEST(e.line() == 3u);
        BOOST_TEST(e.col() == 6u);
        BOOST_TEST(e.source_line() == "jump x");
        BOOST_TEST(e.render().find("b.nft:3:6: unknown chain \"x\"\njump x\n     ^") != std::string::npos, e.render());
    }
}

BOOST_AUTO_TEST_CASE(rule_info_names_table_chain_line_and_text) {
    auto rs = load("table inet filter {\n\tchain forward {\n\t\ttype filter hook forward priority 0;\n"
                   "\t\ttcp dport { 22, 80 } counter accept # comment\n\t}\n}\n");
    BOOST_REQUIRE(rs.rule_count() == 1u);
    const RuleInfo& ri = rs.rule_info(0);
    BOOST_TEST(ri.file == "test.nft");
    BOOST_TEST(ri.line == 4u);
    BOOST_TEST(ri.table == "inet filter");
    BOOST_TEST(ri.chain == "forward");
    BOOST_TEST(ri.text == "tcp dport { 22, 80 } counter accept");
    BOOST_TEST(rs.chain_label(0) == "inet filter forward");
}

BOOST_AUTO_TEST_CASE(command_form_builds_chains_and_insert_prepends) {
    auto rs = load("add table inet f\nadd chain inet f input { type filter hook input priority 0; policy drop; }\n"
                   "add rule inet f input tcp dport 22 accept\ninsert rule inet f input tcp dport 23 drop\n");
    BOOST_REQUIRE(rs.rule_count() == 2u);
    RuntimeState st(rs);
    auto chains = rs.base_chains(Hook::input, Family::ipv4);
    BOOST_REQUIRE(chains.size() == 1u);
    // the inserted rule (line 4) comes first in the chain
    auto r = run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 23), Hook::input);
    BOOST_TEST(line_of(rs, r) == 4);
    BOOST_TEST(run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 24), Hook::input).by_policy);
}

BOOST_AUTO_TEST_CASE(flush_ruleset_forgets_earlier_tables) {
    auto rs = load("table ip t {\nchain c { type filter hook input priority 0; drop; }\n}\nflush ruleset\n"
                   "table ip u {\nchain c { type filter hook input priority 0; accept; }\n}\n");
    BOOST_TEST(rs.rule_count() == 1u);
    BOOST_TEST(rs.base_chains(Hook::input, Family::ipv4).size() == 1u);
}

BOOST_AUTO_TEST_CASE(table_declared_twice_is_merged) {
    auto rs = load("table inet t {\nchain c { type filter hook input priority 0; policy drop; }\n}\n"
                   "table inet t {\nchain c {\ntcp dport 22 accept\n}\n}\n");
    BOOST_TEST(rs.rule_count() == 1u);
    BOOST_TEST(rs.base_chains(Hook::input, Family::ipv4).size() == 1u);
}

BOOST_AUTO_TEST_CASE(default_family_of_commands_is_ip) {
    auto rs = load("add table filter\nadd chain filter input { type filter hook input priority 0; }\n");
    BOOST_TEST(rs.base_chains(Hook::input, Family::ipv4).size() == 1u);
    BOOST_TEST(rs.base_chains(Hook::input, Family::ipv6).size() == 0u);
}

BOOST_AUTO_TEST_CASE(variables_expand_to_sets_and_nest) {
    auto rs = load("define a = 22\ndefine ports = { $a, 80 }\ntable ip t {\n"
                   "chain c { type filter hook input priority 0; tcp dport $ports drop; }\n}\n");
    RuntimeState st(rs);
    BOOST_TEST(run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 22), Hook::input).verdict == Verdict::drop);
    BOOST_TEST(run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 80), Hook::input).verdict == Verdict::drop);
    BOOST_TEST(run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 81), Hook::input).verdict == Verdict::accept);
}

BOOST_AUTO_TEST_CASE(line_continuation_joins_lines_into_one_rule) {
    auto rs = load("table ip t {\nchain c { type filter hook input priority 0;\ntcp dport 22 \\\n  drop\n}\n}\n");
    BOOST_REQUIRE(rs.rule_count() == 1u);
    BOOST_TEST(rs.rule_info(0).line == 3u);
}

BOOST_AUTO_TEST_CASE(semicolons_separate_rules_on_one_line) {
    auto rs = load("table ip t { chain c { type filter hook input priority 0; tcp dport 1 drop; tcp dport 2 drop; }; }\n");
    BOOST_TEST(rs.rule_count() == 2u);
}

BOOST_AUTO_TEST_CASE(nft_list_output_with_handles_and_counters_loads) {
    auto rs = load("table inet filter { # handle 3\n\tchain input { # handle 1\n"
                   "\t\ttype filter hook input priority filter; policy accept;\n"
                   "\t\ttcp dport 22 counter packets 10 bytes 600 accept # handle 4\n\t}\n}\n");
    BOOST_TEST(rs.rule_count() == 1u);
}

BOOST_AUTO_TEST_CASE(priority_names_and_offsets) {
    auto rs = load("table ip t {\nchain a { type filter hook prerouting priority mangle + 5; }\n"
                   "chain b { type filter hook prerouting priority raw; }\n"
                   "chain c { type filter hook prerouting priority -10; }\n}\n");
    auto ch = rs.base_chains(Hook::prerouting, Family::ipv4);
    BOOST_REQUIRE(ch.size() == 3u);
    BOOST_TEST(ch[0].priority == -300);
    BOOST_TEST(ch[1].priority == -145);
    BOOST_TEST(ch[2].priority == -10);
}

BOOST_AUTO_TEST_CASE(empty_ruleset_has_no_chains) {
    auto rs = load("# nothing\n\n");
    BOOST_TEST(rs.rule_count() == 0u);
    BOOST_TEST(rs.base_chains(Hook::forward, Family::ipv4).empty());
    Ruleset def;
    BOOST_TEST(def.rule_count() == 0u);
}

BOOST_AUTO_TEST_CASE(ruleset_copies_share_the_compiled_program) {
    auto rs = load("table ip t {\nchain c { type filter hook input priority 0; drop; }\n}\n");
    Ruleset copy = rs;
    BOOST_TEST(&copy.program() == &rs.program());
    BOOST_TEST(copy.rule_count() == 1u);
}

BOOST_AUTO_TEST_CASE(add_keyword_is_optional_for_objects) {
    auto rs = load("table inet f\nchain inet f c { type filter hook input priority 0; }\nrule inet f c tcp dport 22 drop\n");
    BOOST_TEST(rs.rule_count() == 1u);
}

BOOST_AUTO_TEST_CASE(iif_lo_loads_without_a_topology_loopback) {
    auto rs = load("table inet f {\nchain c { type filter hook input priority 0;\niif lo accept\n}\n}\n");
    RuntimeState st(rs);
    auto r = run(rs, st, tcp("1.1.1.1", 1, "2.2.2.2", 2), Hook::input, 0);
    BOOST_TEST(r.by_policy);
}

BOOST_AUTO_TEST_CASE(wide_chain_graphs_are_validated_quickly) {
    // 14 levels of two chains, each jumping to both chains of the next level:
    // 2^14 paths, but each chain is validated a bounded number of times.
    std::string t = "table ip t {\nchain base { type filter hook input priority 0; jump a0; jump b0; }\n";
    for (int i = 0; i < 14; ++i) {
        std::string n = std::to_string(i + 1);
        std::string body = i < 13 ? "jump a" + n + "; jump b" + n + ";" : "accept;";
        t += "chain a" + std::to_string(i) + " { " + body + " }\nchain b" + std::to_string(i) + " { " + body + " }\n";
    }
    t += "}\n";
    auto rs = load(t);
    BOOST_TEST(rs.chain_count() == 29u);
}

BOOST_AUTO_TEST_CASE(dormant_table_registers_no_hooks) {
    auto rs = load("table ip t {\nflags dormant\nchain c { type filter hook input priority 0; drop; }\n}\n");
    BOOST_TEST(rs.base_chains(Hook::input, Family::ipv4).empty());
}

BOOST_AUTO_TEST_CASE(comment_lines_inside_a_set_are_allowed) {
    auto rs = load("table ip t {\nchain c { type filter hook input priority 0;\ntcp dport {\n22, # ssh\n# web:\n80\n} drop\n}\n}\n");
    BOOST_TEST(rs.rule_count() == 1u);
}

BOOST_AUTO_TEST_CASE(add_without_rule_keyword_adds_a_rule) {
    auto rs = load("add table inet f\nadd chain inet f c { type filter hook input priority 0; }\n"
                   "add inet f c tcp dport 22 drop\n");
    BOOST_TEST(rs.rule_count() == 1u);
}

BOOST_AUTO_TEST_CASE(a_long_line_of_regular_chains_loads) {
    std::string t = "table ip t {\n";
    for (int i = 0; i < 20000; ++i) t += "chain c" + std::to_string(i) + " { jump c" + std::to_string(i + 1) + "; }\n";
    t += "chain c20000 { accept; }\n}\n";
    auto rs = load(t);
    BOOST_TEST(rs.chain_count() == 20001u);
}

BOOST_AUTO_TEST_CASE(list_and_reset_commands_change_nothing) {
    auto rs = load("add table inet f\nlist ruleset\nreset counters\nadd chain inet f c { type filter hook input priority 0; }\n");
    BOOST_TEST(rs.base_chains(Hook::input, Family::ipv4).size() == 1u);
}

BOOST_AUTO_TEST_CASE(rule_text_keeps_variables_as_written) {
    auto rs = load("define a = 22\ndefine ports = { $a, 80 }\ndefine net = 10.0.0.0/8\ntable ip t {\n"
                   "chain c { type filter hook input priority 0;\nip saddr $net tcp dport $ports accept\n}\n}\n");
    BOOST_REQUIRE(rs.rule_count() == 1u);
    BOOST_TEST(rs.rule_info(0).text == "ip saddr $net tcp dport $ports accept");
    BOOST_TEST(rs.rule_info(0).line == 6u);
}
