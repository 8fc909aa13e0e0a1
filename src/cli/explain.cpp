// fwsim explain: one packet's path through the hooks, rule by rule.
#include <cstdio>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "fwsim/error.hpp"

namespace fwsim::cli {

namespace {

struct ExplainOptions {
    std::string capture;
    CoreOptions core;
    uint64_t packet = 0;
    bool json = false;
};

// Keeps the verdict record of one packet.
class Catch final : public EngineObserver {
public:
    explicit Catch(uint64_t index) : index_(index) {}
    void on_packet(const PacketRecord& r) override {
        if (r.pkt->index != index_) return;
        rec = r;
        pkt = *r.pkt;
        rec.pkt = &pkt;
        found = true;
    }
    void on_flow(const FlowRecord&) override {}
    void on_stats(const TableStats&) override {}
    PacketRecord rec;
    Packet pkt;
    bool found = false;

private:
    uint64_t index_;
};

std::string endpoint(const Packet& p, const IpAddr& a, uint16_t port) {
    std::string s = to_string(p.family, a);
    const bool ports = p.has_l4 && proto::has_ports(p.l4proto);
    if (ports) s = (p.family == Family::ipv6 ? "[" + s + "]" : s) + ":" + std::to_string(port);
    return s;
}

std::string describe(const Packet& p) {
    if (p.status == DecodeStatus::not_ip) return "not an IP packet";
    if (p.status == DecodeStatus::unsupported_linktype) return "unsupported link type";
    if (p.status == DecodeStatus::malformed) return std::string("malformed: ") + p.error;
    std::string s = std::string(p.family == Family::ipv6 ? "ipv6 " : "ipv4 ") + std::string(proto_name(p.l4proto)) +
                    " " + endpoint(p, p.src, p.sport) + " -> " + endpoint(p, p.dst, p.dport);
    if (p.has_l4 && p.is_icmp())
        s += " type " + std::to_string(p.icmp_type) + " code " + std::to_string(p.icmp_code);
    s += ", " + std::to_string(p.wire_len) + " bytes";
    return s;
}

int run(const ExplainOptions& o) {
    Core core = load_core(o.core);
    Catch c(o.packet);
    Engine engine(core.cfg, core.topo, core.rules, c);
    Explanation ex;
    engine.explain(o.packet, &ex);
    int digits = 6, lt = 1;
    const CaptureSource capture(o.capture, false);  // standard input or a pipe: copied to a file first
    const ReadResult rr = feed(capture, engine, false, o.packet, nullptr, &digits, &lt);
    if (!c.found) {
        engine.finish();  // a held fragment is decided at the latest here
    }
    if (!c.found) {
        if (!rr.error.empty()) throw InputError(o.capture + ": " + rr.error);
        throw InputError(o.capture + ": has " + std::to_string(rr.packets) + " packets; there is no packet " +
                         std::to_string(o.packet));
    }
    const PacketRecord& r = c.rec;
    const auto& topo = core.topo;
    std::string verdict = std::string(to_string(r.verdict));
    std::string by;
    if (r.rule != rules::kNoRule) {
        const auto& ri = core.rules.rule_info(r.rule);
        by = ri.file + ":" + std::to_string(ri.line) + " (" + ri.table + " " + ri.chain + "): " + ri.text;
    } else if (r.reason == Reason::policy && r.chain != rules::kNoRule) {
        by = "policy of " + core.rules.chain_label(r.chain);
    } else if (r.reason != Reason::none) {
        by = std::string(to_string(r.reason));
    }
    if (o.json) {
        nlohmann::ordered_json j;
        j["index"] = o.packet;
        j["packet"] = describe(r.pkt ? *r.pkt : Packet{});
        if (r.iif != rules::kNoIf) j["iif"] = std::string(topo.name(r.iif));
        if (r.oif != rules::kNoIf) j["oif"] = std::string(topo.name(r.oif));
        if (r.has_hook) j["hook"] = std::string(to_string(r.hook));
        j["ct_before"] = ex.ct_before;
        nlohmann::ordered_json steps = nlohmann::ordered_json::array();
        for (const auto& s : ex.steps) {
            nlohmann::ordered_json js = {{"hook", s.hook}, {"step", s.what}, {"result", s.text}};
            nlohmann::ordered_json rules = nlohmann::ordered_json::array();
            for (const auto& t : s.trace.steps) {
                nlohmann::ordered_json jt = {{"text", t.text}, {"matched", t.matched}};
                if (t.rule != rules::kNoRule) {
                    const auto& ri = core.rules.rule_info(t.rule);
                    jt["file"] = ri.file;
                    jt["line"] = ri.line;
                }
                rules.push_back(jt);
            }
            if (!rules.empty()) js["rules"] = rules;
            steps.push_back(js);
        }
        j["steps"] = steps;
        if (r.has_ct) j["ct"] = {{"state", std::string(to_string(r.ct_state))}, {"dir", std::string(to_string(r.ct_dir))}};
        j["ct_after"] = ex.ct_after;
        j["verdict"] = verdict;
        if (r.reason != Reason::none) j["reason"] = std::string(to_string(r.reason));
        if (!by.empty()) j["decided_by"] = by;
        std::printf("%s\n", j.dump(2).c_str());
        return 0;
    }
    std::printf("packet %llu: %s\n", (unsigned long long)o.packet, describe(*r.pkt).c_str());
    if (r.iif != rules::kNoIf) std::printf("  came in on %s\n", std::string(topo.name(r.iif)).c_str());
    std::printf("conntrack before: %s\n", ex.ct_before.c_str());
    for (const auto& s : ex.steps) {
        std::printf("  %-12s %-28s %s\n", s.hook.c_str(), s.what.c_str(), s.text.c_str());
        for (const auto& t : s.trace.steps) std::printf("  %-12s   %s\n", "", t.text.c_str());
    }
    std::printf("verdict: %s%s%s\n", verdict.c_str(), by.empty() ? "" : " by ", by.c_str());
    if (r.nat.any()) {
        std::printf("NAT: leaves as %s -> %s\n",
                    endpoint(*r.pkt, r.nat.src ? r.nat.new_src : r.pkt->src, r.nat.sport ? r.nat.new_sport : r.pkt->sport).c_str(),
                    endpoint(*r.pkt, r.nat.dst ? r.nat.new_dst : r.pkt->dst, r.nat.dport ? r.nat.new_dport : r.pkt->dport).c_str());
    }
    if (r.oif != rules::kNoIf && r.verdict == Verdict::accept)
        std::printf("  leaves on %s\n", std::string(topo.name(r.oif)).c_str());
    std::printf("conntrack after:  %s\n", ex.ct_after.c_str());
    return 0;
}

}  // namespace

void add_explain(CLI::App& app, std::function<int()>& action) {
    auto o = std::make_shared<ExplainOptions>();
    CLI::App* c = app.add_subcommand("explain", "Show one packet's path through the hooks, rule by rule");
    c->add_option("capture", o->capture, "pcap or pcapng file, or - for standard input")->required();
    add_core_options(*c, o->core);
    c->add_option("--packet,-n", o->packet, "the packet's index (Wireshark's frame number)")
        ->required()
        ->check(CLI::PositiveNumber);
    c->add_flag("--json", o->json, "as JSON");
    c->callback([o, &action] { action = [o] { return run(*o); }; });
}

}  // namespace fwsim::cli
