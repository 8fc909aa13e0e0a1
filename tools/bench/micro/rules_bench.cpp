// Micro-benchmarks of rule evaluation (Ruleset::eval on the forward chain):
// the 10-rule home ruleset for an established packet (the common case: two
// rules), the same for a connection's first packet (walks to its accept
// rule), 10,000 address/port rules that do not match before the established
// rule (the per-chain index at work), and a 100,000-address set looked up
// for the source and the destination. The rulesets mirror
// tools/bench/gen_rules.py's, built here so that the benchmark stands alone.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "fwsim/packet.hpp"
#include "fwsim/rules/ruleset.hpp"
#include "io/load/ruleset_loader.hpp"

using namespace fwsim;

namespace {

const std::vector<std::string> kIfs = {"lan0", "wan0"};

// The forward chain of bench-10.nft (rules/home.nft plus port rules).
const std::string kRules10 =
    "\t\tct state invalid drop\n"
    "\t\tct state established,related accept\n"
    "\t\tiifname \"lan0\" tcp dport 25 drop\n"
    "\t\tiifname \"lan0\" udp dport 53 accept\n"
    "\t\tiifname \"lan0\" tcp dport { 80, 443 } accept\n"
    "\t\tiifname \"lan0\" accept\n";

std::string octets(uint32_t a) {
    return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." + std::to_string((a >> 8) & 255) +
           "." + std::to_string(a & 255);
}

// 10,000 rules over address/port space the packets below never use
// (198.18.0.0/15, 100.64.0.0/10; ports below 1024 other than 22/53/80/443).
std::string address_rules(int n) {
    std::string s;
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < n; ++i) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        const int port = 100 + int(x % 800);
        const uint32_t bench = 0xc6120000u | uint32_t(x >> 20) % 0x20000u;
        const uint32_t cgnat = 0x64400000u | uint32_t(x >> 24) % 0x400000u;
        switch (i % 3) {
            case 0: s += "\t\tip saddr " + octets(bench) + " tcp dport " + std::to_string(port) + " drop\n"; break;
            case 1: s += "\t\tip daddr " + octets(cgnat) + " udp dport " + std::to_string(port) + " drop\n"; break;
            default: s += "\t\tip saddr " + octets(cgnat & 0xffffff00u) + "/24 drop\n"; break;
        }
    }
    return s;
}

rules::Ruleset ruleset(const std::string& forward_body, const std::string& extra = "") {
    const std::string text = "table inet filter {\n" + extra + "\tchain forward {\n"
                             "\t\ttype filter hook forward priority filter; policy drop;\n" + forward_body + "\t}\n}\n";
    return load_ruleset_text("bench.nft", text, kIfs);
}

struct Case {
    rules::Ruleset rs;
    rules::RuntimeState st;
    Packet pkt;
    rules::EvalContext ctx;
    const rules::BaseChain* chain;
    explicit Case(rules::Ruleset r, CtState state, uint8_t proto = proto::tcp, uint16_t dport = 443)
        : rs(std::move(r)), st(rs) {
        pkt.family = Family::ipv4;
        pkt.l4proto = proto;
        pkt.has_l4 = true;
        pkt.src = IpAddr::from_v4(0xc0a8010au);  // 192.168.1.10
        pkt.dst = IpAddr::from_v4(0x5db8d822u);  // 93.184.216.34
        pkt.sport = 40000;
        pkt.dport = dport;
        pkt.ip_len = 60;
        pkt.tcp.flags = tcpflag::ack;
        ctx.pkt = &pkt;
        ctx.hook = Hook::forward;
        ctx.iif = 0;
        ctx.oif = 1;
        ctx.has_ct = true;
        ctx.ct_state = state;
        chain = &rs.base_chains(Hook::forward, Family::ipv4)[0];
    }
    void run(benchmark::State& state) {
        for (auto _ : state) {
            rs.eval(*chain, ctx, st, nullptr);
            benchmark::DoNotOptimize(ctx.verdict);
        }
        state.SetItemsProcessed(state.iterations());
    }
};

void BM_rules10_established(benchmark::State& state) {
    Case c(ruleset(kRules10), CtState::established);
    c.run(state);
}
BENCHMARK(BM_rules10_established);

void BM_rules10_new(benchmark::State& state) {
    Case c(ruleset(kRules10), CtState::new_);
    c.run(state);
}
BENCHMARK(BM_rules10_new);

void BM_rules10k_before_established(benchmark::State& state) {
    Case c(ruleset(address_rules(10000) + kRules10), CtState::established);
    c.run(state);
}
BENCHMARK(BM_rules10k_before_established);

void BM_set100k_saddr_daddr(benchmark::State& state) {
    std::string elems;
    for (uint32_t i = 0; i < 100000; ++i) {
        if (i) elems += ", ";
        elems += octets(0x64400000u + i * 37u);
    }
    const std::string set = "\tset blocklist {\n\t\ttype ipv4_addr\n\t\telements = { " + elems + " }\n\t}\n";
    Case c(ruleset("\t\tip saddr @blocklist drop\n\t\tip daddr @blocklist drop\n" + kRules10, set),
           CtState::established);
    c.run(state);
}
BENCHMARK(BM_set100k_saddr_daddr);

}  // namespace

BENCHMARK_MAIN();
