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

// ---------------------------------------------------------------- timers

bool DeniedFlows::timer_before(const Timer& a, const Timer& b) const {
    if (a.key != b.key) return a.key < b.key;
    const FlowRecord& x = nodes_[a.node].f;
    const FlowRecord& y = nodes_[b.node].f;
    if (x.id != y.id) return x.id < y.id;  // table_full drops all have id 0: then by tuple
    return x.orig < y.orig;
}

void DeniedFlows::timer_push(uint32_t n) {
    ++nodes_[n].refs;
    heap_.push_back(Timer{nodes_[n].deadline, n});
    std::push_heap(heap_.begin(), heap_.end(), [this](const Timer& a, const Timer& b) { return timer_before(b, a); });
}

void DeniedFlows::timer_pop() {
    const uint32_t n = heap_.front().node;
    std::pop_heap(heap_.begin(), heap_.end(), [this](const Timer& a, const Timer& b) { return timer_before(b, a); });
    heap_.pop_back();
    --nodes_[n].refs;
    release(n);
}

void DeniedFlows::release(uint32_t n) {
    if (!nodes_[n].live && nodes_[n].refs == 0) free_.push_back(n);
}

uint32_t DeniedFlows::earliest() {
    while (!heap_.empty()) {
        // Every live node has an element keyed at or before its deadline, so
        // a top element keyed exactly at its node's deadline is the earliest.
        const Timer top = heap_.front();
        const Node& nd = nodes_[top.node];
        if (nd.live && top.key == nd.deadline) return top.node;
        const bool rearm = nd.live && top.key < nd.deadline;  // extended meanwhile
        timer_pop();  // (dead, or a key past a deadline that moved back: dropped)
        if (rearm) timer_push(top.node);
    }
    return kNone;
}

// ---------------------------------------------------------------- index

uint32_t DeniedFlows::index_find(const Tuple& t) const {
    if (index_.empty()) return kNone;
    const size_t mask = index_.size() - 1;
    for (size_t i = hash(t) & mask;; i = (i + 1) & mask) {
        const uint32_t n = index_[i];
        if (n == kNone) return kNone;
        if (nodes_[n].f.orig == t) return n;
    }
}

void DeniedFlows::index_insert(uint32_t n) {
    if ((live_ + 1) * 2 > index_.size()) index_grow();
    const size_t mask = index_.size() - 1;
    size_t i = hash(nodes_[n].f.orig) & mask;
    while (index_[i] != kNone) i = (i + 1) & mask;
    index_[i] = n;
}

void DeniedFlows::index_grow() {
    std::vector<uint32_t> old;
    old.swap(index_);
    index_.assign(std::max<size_t>(64, old.size() * 2), kNone);
    const size_t mask = index_.size() - 1;
    for (uint32_t n : old) {
        if (n == kNone) continue;
        size_t i = hash(nodes_[n].f.orig) & mask;
        while (index_[i] != kNone) i = (i + 1) & mask;
        index_[i] = n;
    }
}

// Linear probing without tombstones: the entries after the hole move back
// when their home slot is not between the hole and them (Knuth 6.4, R).
void DeniedFlows::index_erase(uint32_t n) {
    const size_t mask = index_.size() - 1;
    size_t i = hash(nodes_[n].f.orig) & mask;
    while (index_[i] != n) i = (i + 1) & mask;
    for (size_t j = (i + 1) & mask; index_[j] != kNone; j = (j + 1) & mask) {
        const size_t home = hash(nodes_[index_[j]].f.orig) & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            index_[i] = index_[j];
            i = j;
        }
    }
    index_[i] = kNone;
}

// ---------------------------------------------------------------- aggregates

void DeniedFlows::end(uint32_t n, FlowEnd why, Nanos when, std::vector<FlowRecord>& out) {
    Node& nd = nodes_[n];
    FlowRecord& f = out.emplace_back(nd.f);
    f.end = why;
    f.end_ts = when;
    index_erase(n);
    nd.live = false;
    --live_;
    release(n);
}

bool DeniedFlows::add(const Tuple& orig, uint32_t ct_id, Nanos ts, uint32_t bytes, uint32_t rule,
                      Reason reason, std::vector<FlowRecord>& out) {
    uint32_t n = index_find(orig);
    const Nanos deadline = ts + timeout_of(orig.proto);
    const bool created = n == kNone;
    if (created) {
        if (live_ >= limit_) {
            const uint32_t victim = earliest();
            if (victim != kNone) {
                end(victim, FlowEnd::evicted, ts, out);
                timer_pop();  // the victim's element
            }
        }
        if (free_.empty()) {
            n = uint32_t(nodes_.size());
            nodes_.emplace_back();
        } else {
            n = free_.back();
            free_.pop_back();
        }
        Node& nd = nodes_[n];
        nd.f = FlowRecord{};
        FlowRecord& f = nd.f;
        f.id = ct_id;
        f.orig = orig;
        f.has_reply = false;
        f.first_ts = f.last_ts = ts;
        f.verdict = Verdict::drop;
        f.reason = reason;
        f.rule = rule;
        f.has_tcp_state = orig.proto == proto::tcp;
        nd.live = true;
        nd.deadline = deadline;
        ++live_;
        index_insert(n);
        timer_push(n);
    } else {
        Node& nd = nodes_[n];
        nd.f.last_ts = ts;
        const bool earlier = deadline < nd.deadline;  // the capture's time stepped back
        nd.deadline = deadline;
        if (earlier) timer_push(n);  // later ones are re-armed lazily by earliest()
    }
    nodes_[n].f.orig_pkts += 1;
    nodes_[n].f.orig_bytes += bytes;
    // Stale elements pile up only when deadlines move back; keep the heap
    // within a small multiple of the live aggregates.
    if (heap_.size() > 2 * live_ + 1024) {
        heap_.clear();
        for (uint32_t i = 0; i < nodes_.size(); ++i) {
            Node& nd = nodes_[i];
            const bool was_held = !nd.live && nd.refs > 0;  // dead, not yet on the free list
            nd.refs = 0;
            if (nd.live) timer_push(i);
            else if (was_held) free_.push_back(i);
        }
    }
    return created;
}

void DeniedFlows::expire_due(Nanos now, std::vector<FlowRecord>& out) {
    for (uint32_t n = earliest(); n != kNone && nodes_[n].deadline <= now; n = earliest()) {
        end(n, FlowEnd::timeout, nodes_[n].deadline, out);
        timer_pop();  // its element, at the top
    }
}

void DeniedFlows::begin_finish(Nanos end_ts) {
    finish_ts_ = end_ts;
    finish_pos_ = 0;
    finish_order_.clear();
    finish_order_.reserve(live_);
    for (uint32_t i = 0; i < nodes_.size(); ++i)
        if (nodes_[i].live) finish_order_.push_back(i);
    std::sort(finish_order_.begin(), finish_order_.end(), [this](uint32_t a, uint32_t b) {
        const FlowRecord& x = nodes_[a].f;
        const FlowRecord& y = nodes_[b].f;
        return x.id != y.id ? x.id < y.id : x.orig < y.orig;
    });
    heap_.clear();  // nothing expires any more
}

const FlowRecord* DeniedFlows::next_finished() {
    if (finish_pos_ == finish_order_.size()) return nullptr;
    const uint32_t n = finish_order_[finish_pos_++];
    finished_ = nodes_[n].f;
    finished_.end = FlowEnd::end_of_capture;
    finished_.end_ts = finish_ts_;
    index_erase(n);
    nodes_[n].live = false;
    nodes_[n].refs = 0;
    --live_;
    return &finished_;
}

}  // namespace fwsim
