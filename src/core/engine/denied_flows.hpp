// Flows whose first packet was dropped never get a conntrack entry, yet they
// are what a policy reviewer most wants to see. They are aggregated here per
// original tuple, in bounded memory, and end like an unreplied entry would:
// after their protocol's "new connection" timeout of capture time, or when
// the aggregate is full (the one whose deadline comes first is evicted).
//
// Layout (a SYN flood puts one new aggregate here per packet): a slab of
// nodes with a free list, an open-addressing index from tuple to node, and a
// min-heap of deadlines with lazy updates, as the conntrack timers: a packet
// that extends an aggregate's deadline pushes nothing; an element that comes
// up with a stale deadline is re-armed. Nothing is allocated per packet once
// the vectors have grown to the aggregate's high-water mark, so memory stays
// flat under a long flood.
#pragma once

#include <cstdint>
#include <vector>

#include "fwsim/config.hpp"
#include "fwsim/engine/records.hpp"

namespace fwsim {

class DeniedFlows {
public:
    DeniedFlows(const Config& cfg, size_t limit) : cfg_(cfg), limit_(limit) {}

    // A dropped packet that would have made a new connection. True when it
    // starts a new aggregate (whose record will carry ct_id), false when it
    // joins one.
    bool add(const Tuple& orig, uint32_t ct_id, Nanos ts, uint32_t bytes, uint32_t rule, Reason reason,
             std::vector<FlowRecord>& out);
    // Ends aggregates idle past their timeout at `now`, in (deadline, id,
    // tuple) order. Runs before every packet: nothing is due while the top
    // timer's key (at or before its aggregate's deadline) is after `now`,
    // which is checked inline.
    void expire(Nanos now, std::vector<FlowRecord>& out) {
        if (!heap_.empty() && heap_.front().key <= now) expire_due(now, out);
    }
    // End of capture: every aggregate ends, in (id, tuple) order, one at a
    // time (merged by the engine with the table's own end-of-capture flows,
    // without buffering them all): begin_finish(), then next_finished()
    // until it returns nullptr (the record is valid until the next call).
    void begin_finish(Nanos end);
    const FlowRecord* next_finished();
    size_t size() const { return live_; }

private:
    static constexpr uint32_t kNone = 0xffffffff;
    struct Node {
        FlowRecord f;
        Nanos deadline = 0;  // last_ts + the protocol's timeout
        bool live = false;
        uint32_t refs = 0;   // heap elements naming this node: it is reused only at 0, so
                             // that the heap's (key, id, tuple) order never changes under it
    };
    struct Timer {
        Nanos key;      // the deadline when pushed (<= the node's deadline while it lives)
        uint32_t node;
    };

    Nanos timeout_of(uint8_t proto) const;
    bool timer_before(const Timer& a, const Timer& b) const;  // (key, id, tuple) order
    void timer_push(uint32_t n);
    void timer_pop();
    void release(uint32_t n);  // to the free list once dead and unreferenced
    // The live node with the earliest (deadline, id, tuple), stale elements
    // re-armed or dropped on the way; kNone when empty.
    uint32_t earliest();
    uint32_t index_find(const Tuple& t) const;
    void index_insert(uint32_t n);
    void index_erase(uint32_t n);
    void index_grow();
    void end(uint32_t n, FlowEnd why, Nanos when, std::vector<FlowRecord>& out);
    void expire_due(Nanos now, std::vector<FlowRecord>& out);

    const Config& cfg_;
    size_t limit_;
    size_t live_ = 0;
    std::vector<Node> nodes_;
    std::vector<uint32_t> free_;
    std::vector<uint32_t> index_;  // node ids, kNone = empty slot; linear probing, power-of-two size
    std::vector<Timer> heap_;
    std::vector<uint32_t> finish_order_;
    size_t finish_pos_ = 0;
    Nanos finish_ts_ = 0;
    FlowRecord finished_;
};

}  // namespace fwsim
