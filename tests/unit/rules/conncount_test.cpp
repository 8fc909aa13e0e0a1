// `ct count [over] N` (nft_connlimit / nf_conncount): each expression keeps
// its own list of connections; gone or closed ones drop out of it.
#include <boost/test/unit_test.hpp>

#include <map>

#include "fwsim/tuple.hpp"
#include "helpers.hpp"

using namespace rt;

namespace {

// A stand-in conntrack table: original tuple -> closed (TIME_WAIT/CLOSE)?
struct FakeTable {
    std::map<Tuple, bool> live;
    static bool alive(const void* owner, const Tuple& t, bool* closed) {
        const auto& m = static_cast<const FakeTable*>(owner)->live;
        auto it = m.find(t);
        if (it == m.end()) return false;
        *closed = it->second;
        return true;
    }
};

Ruleset counting(const std::string& match) {
    return load("table inet t {\nchain c { type filter hook forward priority 0; policy accept;\n" + match +
                " drop\n}\n}\n");
}

// Evaluates the chain for a new connection from client port `sport`.
Verdict connect(const Ruleset& rs, RuntimeState& st, FakeTable& ct, uint16_t sport) {
    Packet p = tcp("192.168.1.10", sport, "198.51.100.1", 80);
    Tuple t;
    tuple_of(p, &t);
    EvalContext c;
    c.pkt = &p;
    c.hook = Hook::forward;
    c.has_ct = true;
    c.ct_state = CtState::new_;
    c.ct_orig = &t;
    c.ct_alive = &FakeTable::alive;
    c.ct_owner = &ct;
    rs.eval(rs.base_chains(Hook::forward, Family::ipv4)[0], c, st, nullptr);
    if (c.verdict == Verdict::accept) ct.live[t] = false;  // confirmed
    return c.verdict;
}

Tuple conn(uint16_t sport) {
    Tuple t;
    tuple_of(tcp("192.168.1.10", sport, "198.51.100.1", 80), &t);
    return t;
}

}  // namespace

BOOST_AUTO_TEST_CASE(ct_count_over_matches_from_the_connection_past_the_limit) {
    auto rs = counting("ct count over 2");
    RuntimeState st(rs);
    FakeTable ct;
    BOOST_TEST(connect(rs, st, ct, 1001) == Verdict::accept);
    BOOST_TEST(connect(rs, st, ct, 1002) == Verdict::accept);
    BOOST_TEST(connect(rs, st, ct, 1003) == Verdict::drop);  // third live connection
    // A later packet of connection 1001 stops the walk at its own entry
    // (__nf_conncount_add() returns early), so the stale entry of the dropped
    // 1003 behind it is still counted: 3 > 2. This is why rulesets write
    // `ct state new ct count over N`.
    BOOST_TEST(connect(rs, st, ct, 1001) == Verdict::drop);
    // A new connection walks the whole list, drops the stale 1003, counts itself.
    BOOST_TEST(connect(rs, st, ct, 1004) == Verdict::drop);   // 1001, 1002, 1004: 3 > 2
}

BOOST_AUTO_TEST_CASE(ct_count_forgets_connections_that_ended_or_closed) {
    auto rs = counting("ct count over 1");
    RuntimeState st(rs);
    FakeTable ct;
    BOOST_TEST(connect(rs, st, ct, 2001) == Verdict::accept);
    BOOST_TEST(connect(rs, st, ct, 2002) == Verdict::drop);  // dropped: never confirmed
    ct.live[conn(2001)] = true;                              // now in TIME_WAIT: already_closed()
    BOOST_TEST(connect(rs, st, ct, 2003) == Verdict::accept);
    ct.live.erase(conn(2003));                               // timed out
    BOOST_TEST(connect(rs, st, ct, 2004) == Verdict::accept);
}

BOOST_AUTO_TEST_CASE(ct_count_without_over_matches_up_to_the_limit) {
    // `ct count 1 drop`: drops while at most one connection is counted.
    auto rs = counting("ct count 1");
    RuntimeState st(rs);
    FakeTable ct;
    BOOST_TEST(connect(rs, st, ct, 3001) == Verdict::drop);  // count 1 <= 1: match
    ct.live[conn(3001)] = false;                             // (say it got in another way)
    BOOST_TEST(connect(rs, st, ct, 3002) == Verdict::accept);  // count 2 > 1: no match
}

BOOST_AUTO_TEST_CASE(ct_count_wants_a_number) {
    BOOST_CHECK_THROW(counting("ct count over lots"), fwsim::InputError);
}
