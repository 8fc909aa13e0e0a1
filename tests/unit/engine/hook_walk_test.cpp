// The engine's walk through the hooks (SPEC "Semantics to match"): base
// chains of a hook run in priority order whatever their order in the file,
// `accept` ends only the current base chain, `drop` ends everything, and a
// connection's entry is only confirmed when its first packet passed every
// hook (__nf_conntrack_confirm() at the end of postrouting/input).

#include <boost/test/unit_test.hpp>

#include <string>
#include <vector>

#include "fwsim/decode/decoder.hpp"
#include "fwsim/engine/engine.hpp"
#include "frames.hpp"
#include "harness.hpp"
#include "io/load/ruleset_loader.hpp"

using namespace fwsim;

namespace {

using test::tcp4;
using test::SYN;
using test::ACK;

struct Rec {
    Verdict verdict;
    Reason reason;
    uint32_t rule;
    CtState ct;
};

class Collect final : public EngineObserver {
public:
    void on_packet(const PacketRecord& r) override {
        recs.push_back({r.verdict, r.reason, r.rule, r.ct_state});
    }
    void on_flow(const FlowRecord& f) override { flows.push_back(f); }
    void on_stats(const TableStats&) override {}
    std::vector<Rec> recs;
    std::vector<FlowRecord> flows;
};

using Harness = test::EngineHarness<Collect>;

const char* kLan = "192.168.1.10";
const char* kSrv = "198.51.100.20";

}  // namespace

BOOST_AUTO_TEST_CASE(base_chains_run_in_priority_order_not_file_order) {
    // Written last-first: mark 2 is only set if "first" ran before "second".
    Harness h(R"(table inet t {
	chain third {
		type filter hook forward priority 10; policy accept;
		meta mark 2 drop
	}
	chain second {
		type filter hook forward priority 0; policy accept;
		meta mark 1 meta mark set 2
	}
	chain first {
		type filter hook forward priority -10; policy accept;
		meta mark set 1
	}
})");
    const Rec r = h.send(tcp4(kLan, kSrv, 40000, 80, SYN, 1000));
    BOOST_TEST((r.verdict == Verdict::drop));
    BOOST_REQUIRE(r.rule != rules::kNoRule);
    BOOST_TEST(h.line_of(r.rule) == 4u);
}

BOOST_AUTO_TEST_CASE(accept_ends_only_the_current_base_chain) {
    Harness h(R"(table inet t {
	chain early {
		type filter hook forward priority -10; policy drop;
		accept
	}
	chain late {
		type filter hook forward priority 10; policy accept;
		tcp dport 80 drop
	}
})");
    const Rec r = h.send(tcp4(kLan, kSrv, 40000, 80, SYN, 1000));
    BOOST_TEST((r.verdict == Verdict::drop));
    BOOST_REQUIRE(r.rule != rules::kNoRule);
    BOOST_TEST(h.line_of(r.rule) == 8u);
    const Rec r2 = h.send(tcp4(kLan, kSrv, 40001, 443, SYN, 1000));
    BOOST_TEST((r2.verdict == Verdict::accept));
}

BOOST_AUTO_TEST_CASE(drop_in_an_earlier_hook_ends_the_walk) {
    Harness h(R"(table inet t {
	chain pre {
		type filter hook prerouting priority 0; policy accept;
		tcp dport 23 drop
	}
	chain fwd {
		type filter hook forward priority 0; policy accept;
		tcp dport 23 accept
	}
})");
    const Rec r = h.send(tcp4(kLan, kSrv, 40000, 23, SYN, 1000));
    BOOST_TEST((r.verdict == Verdict::drop));
    BOOST_REQUIRE(r.rule != rules::kNoRule);
    BOOST_TEST(h.line_of(r.rule) == 4u);
}

BOOST_AUTO_TEST_CASE(a_dropped_first_packet_leaves_no_entry) {
    // Accepted by forward, dropped in postrouting: the entry never gets confirmed.
    Harness h(R"(table inet t {
	chain fwd {
		type filter hook forward priority 0; policy accept;
	}
	chain post {
		type filter hook postrouting priority 0; policy accept;
		tcp dport 80 drop
	}
})");
    const Rec r = h.send(tcp4(kLan, kSrv, 40000, 80, SYN, 1000));
    BOOST_TEST((r.verdict == Verdict::drop));
    BOOST_TEST(h.engine.dump_state().empty());
    // The server's SYN/ACK finds no entry, so it would start a new one:
    // tcp_new() looks up tcp_conntracks[0][TCP_SYNACK_SET][sNO] = sIV, so the
    // packet is invalid and still no entry is made.
    const Rec r2 = h.send(tcp4(kSrv, kLan, 80, 40000, SYN | ACK, 5000, 1001));
    BOOST_TEST((r2.ct == CtState::invalid));
    BOOST_TEST(h.engine.dump_state().empty());
}

BOOST_AUTO_TEST_CASE(an_accepted_first_packet_is_confirmed_and_its_reply_is_established) {
    Harness h(R"(table inet t {
	chain fwd {
		type filter hook forward priority 0; policy accept;
	}
})");
    h.send(tcp4(kLan, kSrv, 40000, 80, SYN, 1000));
    BOOST_TEST(!h.engine.dump_state().empty());
    const Rec r = h.send(tcp4(kSrv, kLan, 80, 40000, SYN | ACK, 5000, 1001));
    BOOST_TEST((r.ct == CtState::established));
}

BOOST_AUTO_TEST_CASE(a_denied_first_packet_gets_a_denied_flow_record) {
    Harness h(R"(table inet t {
	chain fwd {
		type filter hook forward priority 0; policy drop;
	}
})");
    const Rec r = h.send(tcp4(kLan, kSrv, 40000, 80, SYN, 1000));
    BOOST_TEST((r.verdict == Verdict::drop));
    BOOST_TEST((r.reason == Reason::policy));
    h.engine.finish();
    BOOST_REQUIRE_EQUAL(h.obs.flows.size(), 1u);
    BOOST_TEST((h.obs.flows[0].verdict == Verdict::drop));
    BOOST_TEST((h.obs.flows[0].reason == Reason::policy));
    BOOST_TEST(h.obs.flows[0].orig_pkts == 1u);
}

BOOST_AUTO_TEST_CASE(chains_before_conntrack_priority_see_no_conntrack_state) {
    // A raw-priority chain (-300) runs before nf_conntrack_in() (-200): the
    // packet has no conntrack yet, so `ct state new` cannot match there (nft
    // reads a missing conntrack as invalid); at priority 0 it does.
    Harness h(R"(table inet t {
	chain raw {
		type filter hook prerouting priority -300; policy accept;
		ct state new drop
		ct state invalid meta mark set 7
	}
	chain pre {
		type filter hook prerouting priority 0; policy accept;
		meta mark 7 ct state new drop
	}
})");
    const Rec r = h.send(tcp4(kLan, kSrv, 40000, 80, SYN, 1000));
    BOOST_TEST((r.verdict == Verdict::drop));
    BOOST_REQUIRE(r.rule != rules::kNoRule);
    BOOST_TEST(h.line_of(r.rule) == 9u);
    BOOST_TEST((r.ct == CtState::new_));
}

BOOST_AUTO_TEST_CASE(own_packets_walk_output_then_routing_then_postrouting) {
    // From the firewall's own address: the output hook, the output route
    // (oif wan0 for the server), then postrouting, which sees that oif; the
    // forward hook is not on the way.
    Harness h(R"(table inet t {
	chain out {
		type filter hook output priority 0; policy accept;
		tcp dport 22 drop
	}
	chain post {
		type filter hook postrouting priority 0; policy accept;
		oifname "wan0" tcp dport 23 drop
	}
	chain fwd {
		type filter hook forward priority 0; policy drop;
	}
})");
    const Rec r = h.send(tcp4("203.0.113.1", kSrv, 40000, 22, SYN, 1000));
    BOOST_TEST((r.verdict == Verdict::drop));
    BOOST_REQUIRE(r.rule != rules::kNoRule);
    BOOST_TEST(h.line_of(r.rule) == 4u);
    const Rec r2 = h.send(tcp4("203.0.113.1", kSrv, 40001, 23, SYN, 1000));
    BOOST_TEST((r2.verdict == Verdict::drop));
    BOOST_REQUIRE(r2.rule != rules::kNoRule);
    BOOST_TEST(h.line_of(r2.rule) == 8u);
    const Rec r3 = h.send(tcp4("203.0.113.1", kSrv, 40002, 80, SYN, 1000));
    BOOST_TEST((r3.verdict == Verdict::accept));
    BOOST_TEST((r3.ct == CtState::new_));
}

BOOST_AUTO_TEST_CASE(output_chains_see_the_routed_oif) {
    // __ip_local_out() passes the route's device to LOCAL_OUT: `oifname`
    // matches in an output chain, for the interface the destination routes to.
    Harness h(R"(table inet t {
	chain out {
		type filter hook output priority 0; policy accept;
		oifname "wan0" tcp dport 25 drop
		oifname "lan0" tcp dport 25 accept
		tcp dport 25 drop
	}
})");
    const Rec to_wan = h.send(tcp4("203.0.113.1", kSrv, 40000, 25, SYN, 1000));
    BOOST_TEST((to_wan.verdict == Verdict::drop));
    BOOST_REQUIRE(to_wan.rule != rules::kNoRule);
    BOOST_TEST(h.line_of(to_wan.rule) == 4u);
    const Rec to_lan = h.send(tcp4("192.168.1.1", kLan, 40001, 25, SYN, 1000));
    BOOST_TEST((to_lan.verdict == Verdict::accept));
}

BOOST_AUTO_TEST_CASE(the_explained_packet_gets_its_steps_and_every_packet_the_same_verdict) {
    // `fwsim explain` runs the one packet it asks about through the walk that
    // records steps (walk<true>), every other packet through the one that
    // does not: the verdicts must not depend on which, and only the asked
    // packet's steps are recorded, NAT and routing included.
    const char* rules = R"(table ip nat {
	chain post {
		type nat hook postrouting priority 100; policy accept;
		oifname "wan0" masquerade
	}
}
table inet filter {
	chain fwd {
		type filter hook forward priority 0; policy drop;
		ct state established accept
		iifname "lan0" tcp dport 80 accept
	}
})";
    Harness plain(rules), explained(rules);
    Explanation ex;
    explained.engine.explain(2, &ex);  // the server's SYN-ACK: de-masqueraded at prerouting
    const std::vector<std::vector<uint8_t>> frames = {
        tcp4(kLan, kSrv, 40000, 80, SYN, 1000),
        tcp4(kSrv, "203.0.113.1", 80, 40000, SYN | ACK, 5000, 1001),
        tcp4(kLan, kSrv, 40000, 80, ACK, 1001, 5001),
        tcp4(kLan, kSrv, 40001, 81, SYN, 2000),  // dropped by the policy
    };
    for (const auto& f : frames) {
        const Rec a = plain.send(f), b = explained.send(f);
        BOOST_TEST((a.verdict == b.verdict));
        BOOST_TEST((a.reason == b.reason));
        BOOST_TEST(a.rule == b.rule);
        BOOST_TEST((a.ct == b.ct));
    }
    BOOST_TEST((plain.obs.recs[1].verdict == Verdict::accept));
    BOOST_TEST((plain.obs.recs[3].verdict == Verdict::drop));

    BOOST_TEST(ex.found);
    std::vector<std::string> seen;
    for (const ExplainStep& s : ex.steps) seen.push_back(s.hook + " " + s.what + ": " + s.text);
    const std::vector<std::string> want = {
        "prerouting conntrack: ct state established, direction reply",
        "prerouting nat: destination rewritten",
        "routing routing: forward via lan0",
        "forward inet filter fwd: accept",
    };
    BOOST_TEST(seen == want, boost::test_tools::per_element());
    BOOST_TEST(ex.ct_before.find("[UNREPLIED]") != std::string::npos);
    BOOST_TEST(ex.ct_after.find("[UNREPLIED]") == std::string::npos);
}
