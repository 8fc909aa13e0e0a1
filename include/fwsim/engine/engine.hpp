// The engine: takes each decoded packet through defragmentation, the hooks
// (prerouting -> input|forward -> postrouting, or output -> postrouting),
// conntrack, NAT and the ruleset's base chains, and reports one verdict
// record per packet, flow records and statistics to an observer. Time is the
// capture's only.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fwsim/config.hpp"
#include "fwsim/engine/records.hpp"
#include "fwsim/rules/ruleset.hpp"
#include "fwsim/topology/topology.hpp"

namespace fwsim {

struct ShardOutput;
// A packet as every shard sees it: its time, and the shard that walks it.
struct ShardSlot {
    Nanos ts;
    uint16_t owner;
    bool fragment;  // an IP fragment (shards give up: engine/shards.hpp)
};

struct EngineOptions {
    bool stats = false;            // emit TableStats every stats_interval of capture time
    Nanos stats_interval = kSecond;
    size_t denied_flow_limit = 65536;  // denied flows aggregated at most at once
    // One of several shards (--threads, engine/shards.hpp): check that every
    // NAT binding keeps its connection in one shard (shard_key_mismatch()).
    bool shard = false;
};

// `fwsim explain`: what happened to one packet, step by step.
struct ExplainStep {
    std::string hook;   // "prerouting", ...
    std::string what;   // "conntrack", "nat", "routing", "confirm", or a chain label
    std::string text;   // what that step did
    rules::Trace trace; // for chains: the rule-by-rule trace
};
struct Explanation {
    bool found = false;
    std::vector<ExplainStep> steps;
    std::string ct_before, ct_after;  // the entry in conntrack -L form, or "(none)"
};

struct EnginePeak {
    uint64_t entries = 0;
    Nanos ts = 0;
};

class Engine {
public:
    Engine(const Config& cfg, const Topology& topo, const rules::Ruleset& rules, EngineObserver& obs,
           EngineOptions opt = {});
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // One capture record, decoded (index and ts set). Records come out in
    // capture order (fragments held for reassembly delay later records).
    void process(const Packet& p);
    // Fills p.prep: the work that depends only on the packet and the
    // configuration (checksum verdict, ingress interface, the conntrack
    // look-ahead key). Thread-safe against process() on another thread: the
    // reader thread prepares a batch while the engine runs the previous one.
    // Optional: process() works it out itself for an unprepared packet.
    void prepare(Packet& p) const;
    // Look-ahead hints, no effect on results: for a prepared packet that will
    // be process()ed soon, prefetch_bucket(p.prep.ct_key) about four packets
    // ahead and prefetch_entry(p.prep.ct_key) about two ahead; its
    // connection's entry is then in the cache when it comes.
    void prefetch_bucket(uint64_t key) const;
    void prefetch_entry(uint64_t key) const;
    // End of capture: pending fragments are dropped, remaining flows end.
    void finish();
    // Lets capture time pass to t (timeouts fire) without a packet.
    void advance_to(Nanos t);

    // Explain the packet with this capture index when it comes by.
    void explain(uint64_t index, Explanation* out);
    // The conntrack table now, in /proc/net/nf_conntrack form.
    std::string dump_state() const;
    Nanos now() const;

    EnginePeak peak() const;
    // With EngineOptions::shard: since the start, a NAT binding gave a
    // connection's reply direction another shard key than its original.
    bool shard_key_mismatch() const;
    // With EngineOptions::shard, the observer filing into `out` (Shard,
    // engine/shards.hpp): a batch of packets, every one's time (timeouts,
    // statistics), the walk of those with slots[i].owner == me; out's
    // positions, phases, ids and per-packet counts are set on the way.
    void run_shard(std::span<const Packet> pkts, std::span<const ShardSlot> slots, uint16_t me, ShardOutput& out);
    const rules::RuntimeState& rule_state() const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace fwsim
