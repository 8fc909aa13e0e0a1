// Flows whose first packet was dropped never get a conntrack entry, yet they
// are what a policy reviewer most wants to see. They are aggregated here per
// original tuple, in bounded memory, and end like an unreplied entry would:
// after their protocol's "new connection" timeout of capture time, or when
// the aggregate is full (the longest idle one is evicted).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <tuple>
#include <vector>

#include "fwsim/config.hpp"
#include "fwsim/engine/records.hpp"

namespace fwsim {

class DeniedFlows {
public:
    DeniedFlows(const Config& cfg, size_t limit) : cfg_(cfg), limit_(limit) {}

    // A dropped packet that would have made a new connection.
    void add(const Tuple& orig, uint32_t ct_id, Nanos ts, uint32_t bytes, uint32_t rule, Reason reason,
             std::vector<FlowRecord>& out);
    // Ends aggregates idle past their timeout at `now`.
    void expire(Nanos now, std::vector<FlowRecord>& out);
    // End of capture: every aggregate ends, in id order.
    void finish(Nanos end, std::vector<FlowRecord>& out);
    size_t size() const { return flows_.size(); }

private:
    Nanos timeout_of(uint8_t proto) const;
    void end(std::map<Tuple, FlowRecord>::iterator it, FlowEnd why, Nanos when,
             std::vector<FlowRecord>& out);

    const Config& cfg_;
    size_t limit_;
    std::map<Tuple, FlowRecord> flows_;
    std::set<std::tuple<Nanos, uint64_t, Tuple>> deadlines_;  // (deadline, id, tuple)
};

}  // namespace fwsim
