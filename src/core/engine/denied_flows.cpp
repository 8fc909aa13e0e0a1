#include "denied_flows.hpp"

#include <algorithm>

namespace fwsim {

Nanos DeniedFlows::timeout_of(uint8_t proto) const {
    switch (proto) {
        case proto::tcp: return Nanos(cfg_.tcp_syn_sent) * kSecond;
        case proto::udp:
        case proto::udplite: return Nanos(cfg_.udp_unreplied) * kSecond;
        case proto::icmp: return Nanos(cfg_.icmp) * kSecond;
        case proto::icmpv6: return Nanos(cfg_.icmpv6) * kSecond;
        default: return Nanos(cfg_.generic) * kSecond;
    }
}

void DeniedFlows::end(std::map<Tuple, FlowRecord>::iterator it, FlowEnd why, Nanos when,
                      std::vector<FlowRecord>& out) {
    FlowRecord f = it->second;
    f.end = why;
    f.end_ts = when;
    deadlines_.erase({f.last_ts + timeout_of(f.orig.proto), f.id, f.orig});
    flows_.erase(it);
    out.push_back(f);
}

void DeniedFlows::add(const Tuple& orig, uint32_t ct_id, Nanos ts, uint32_t bytes, uint32_t rule,
                      Reason reason, std::vector<FlowRecord>& out) {
    auto it = flows_.find(orig);
    if (it == flows_.end()) {
        if (flows_.size() >= limit_ && !deadlines_.empty()) {
            auto victim = flows_.find(std::get<2>(*deadlines_.begin()));
            end(victim, FlowEnd::evicted, ts, out);
        }
        FlowRecord f;
        f.id = ct_id;
        f.orig = orig;
        f.has_reply = false;
        f.first_ts = f.last_ts = ts;
        f.verdict = Verdict::drop;
        f.reason = reason;
        f.rule = rule;
        if (orig.proto == proto::tcp) f.has_tcp_state = true;
        it = flows_.emplace(orig, f).first;
    } else {
        deadlines_.erase({it->second.last_ts + timeout_of(orig.proto), it->second.id, orig});
        it->second.last_ts = ts;
    }
    it->second.orig_pkts += 1;
    it->second.orig_bytes += bytes;
    deadlines_.insert({ts + timeout_of(orig.proto), it->second.id, orig});
}

void DeniedFlows::expire(Nanos now, std::vector<FlowRecord>& out) {
    while (!deadlines_.empty() && std::get<0>(*deadlines_.begin()) <= now) {
        const auto [deadline, id, tuple] = *deadlines_.begin();
        end(flows_.find(tuple), FlowEnd::timeout, deadline, out);
    }
}

void DeniedFlows::finish(Nanos end_ts, std::vector<FlowRecord>& out) {
    std::vector<std::pair<uint64_t, Tuple>> order;
    order.reserve(flows_.size());
    for (const auto& [t, f] : flows_) order.emplace_back(f.id, t);
    std::sort(order.begin(), order.end());
    for (const auto& [id, t] : order) end(flows_.find(t), FlowEnd::end_of_capture, end_ts, out);
}

}  // namespace fwsim
