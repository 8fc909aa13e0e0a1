#define BOOST_TEST_MODULE rules
#include <boost/test/unit_test.hpp>

#include "helpers.hpp"

using namespace rt;

BOOST_AUTO_TEST_CASE(accept_rule_decides_and_names_its_line) {
    auto rs = load(R"(table inet filter {
  chain input {
    type filter hook input priority 0; policy drop;
    tcp dport 22 accept
  }
}
)");
    RuntimeState st(rs);
    auto r = run(rs, st, tcp("10.0.0.1", 1000, "10.0.0.2", 22), Hook::input);
    BOOST_TEST(r.verdict == Verdict::accept);
    BOOST_TEST(line_of(rs, r) == 4);
    BOOST_TEST(!r.by_policy);
    BOOST_TEST(rs.rule_info(r.rule).table == "inet filter");
    BOOST_TEST(rs.rule_info(r.rule).chain == "input");
}

BOOST_AUTO_TEST_CASE(policy_decides_when_no_rule_matches) {
    auto rs = load(R"(table inet filter {
  chain input {
    type filter hook input priority 0; policy drop;
    tcp dport 22 accept
  }
}
)");
    RuntimeState st(rs);
    auto r = run(rs, st, tcp("10.0.0.1", 1000, "10.0.0.2", 23), Hook::input);
    BOOST_TEST(r.verdict == Verdict::drop);
    BOOST_TEST(r.by_policy);
    BOOST_TEST(r.rule == kNoRule);
}
