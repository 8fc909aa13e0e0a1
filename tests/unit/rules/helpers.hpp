// Shared helpers for the rules tests: load a ruleset from text, make packets,
// evaluate a hook the way the engine walks base chains.
#pragma once

#include <ostream>
#include <string>
#include <vector>

#include "fwsim/error.hpp"
#include "fwsim/net.hpp"
#include "fwsim/packet.hpp"
#include "fwsim/rules/ruleset.hpp"
#include "fwsim/verdict.hpp"

namespace fwsim {
// Boost.Test prints values of failed checks.
inline std::ostream& operator<<(std::ostream& o, Verdict v) { return o << to_string(v); }
inline std::ostream& operator<<(std::ostream& o, Family f) { return o << int(f); }
inline std::ostream& operator<<(std::ostream& o, const IpAddr& a) {
    return o << to_string(a.b[4] || a.b[10] || a.b[15] ? Family::ipv6 : Family::ipv4, a);
}
namespace rules {
inline std::ostream& operator<<(std::ostream& o, RejectKind k) { return o << int(k); }
inline std::ostream& operator<<(std::ostream& o, NatRequest::Kind k) { return o << int(k); }
}  // namespace rules
}  // namespace fwsim

namespace rt {

using namespace fwsim;
using namespace fwsim::rules;

inline const std::vector<std::string>& ifs() {
    static const std::vector<std::string> v{"lan0", "wan0", "dmz0", "eth0", "eth1"};
    return v;
}

inline Ruleset load(const std::string& text) {
    return Ruleset::load("test.nft", text, [](const std::string&) { return std::nullopt; }, ifs());
}

inline IpAddr addr(const char* s) {
    Family f;
    return *parse_addr(s, &f);
}

inline Packet tcp(const char* src, uint16_t sport, const char* dst, uint16_t dport, uint8_t flags = tcpflag::syn) {
    Packet p;
    Family f = Family::none;
    p.src = *parse_addr(src, &f);
    p.dst = *parse_addr(dst, &f);
    p.family = f;
    p.l4proto = proto::tcp;
    p.has_l4 = true;
    p.sport = sport;
    p.dport = dport;
    p.tcp.flags = flags;
    p.ip_len = 60;
    p.ttl = 64;
    return p;
}

inline Packet udp(const char* src, uint16_t sport, const char* dst, uint16_t dport) {
    Packet p = tcp(src, sport, dst, dport, 0);
    p.l4proto = proto::udp;
    return p;
}

inline Packet icmp(const char* src, const char* dst, uint8_t type) {
    Packet p = tcp(src, 0, dst, 0, 0);
    p.l4proto = p.family == Family::ipv4 ? proto::icmp : proto::icmpv6;
    p.sport = p.dport = 0;
    p.icmp_type = type;
    return p;
}

struct Result {
    Verdict verdict = Verdict::accept;
    uint32_t rule = kNoRule;
    bool by_policy = false;
    EvalContext ctx;
};

// Walks all base chains of `h` in priority order as the engine does: accept
// goes on to the next base chain, drop/reject end it. has_ct false: the
// packet has no conntrack entry (`ct state` reads invalid unless untracked).
inline Result run(const Ruleset& rs, RuntimeState& st, const Packet& p, Hook h, uint16_t iif = 0,
                  uint16_t oif = kNoIf, CtState cs = CtState::new_, Nanos now = 0, Trace* trace = nullptr,
                  bool has_ct = true) {
    Result r;
    EvalContext last;
    for (const BaseChain& bc : rs.base_chains(h, p.family)) {
        EvalContext c;
        c.pkt = &p;
        c.hook = h;
        c.now = now;
        c.iif = iif;
        c.oif = oif;
        c.has_ct = has_ct;
        c.ct_state = cs;
        rs.eval(bc, c, st, trace);
        last = c;
        if (c.verdict != Verdict::accept) break;
    }
    r.verdict = last.verdict;
    r.rule = last.rule;
    r.by_policy = last.by_policy;
    r.ctx = last;
    return r;
}

inline int line_of(const Ruleset& rs, const Result& r) {
    return r.rule == kNoRule ? 0 : int(rs.rule_info(r.rule).line);
}

}  // namespace rt
