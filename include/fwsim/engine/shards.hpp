// Shards: `--threads N` (N >= 3) runs N-1 engines over one decoded capture,
// each owning the connections whose shard key falls to it, and merges what they report
// into exactly what one engine would have reported (docs/performance.md,
// "Shards"). Every shard sees every packet's time, so timeouts and statistics
// fall at the same capture positions; only the owner walks a packet.
//
// The merge is checked, not assumed: wherever one engine's result could
// depend on connections in another shard (the table reaching ct.max, the
// denied-flow aggregate full, a NAT binding whose reply comes back under
// another key, an IP fragment), ShardMerger::merge() says so and the caller
// runs the capture again on one engine.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "fwsim/config.hpp"
#include "fwsim/engine/engine.hpp"
#include "fwsim/engine/records.hpp"
#include "fwsim/packet.hpp"
#include "fwsim/topology/topology.hpp"
#include "fwsim/tuple.hpp"

namespace fwsim {

// The shard key of a connection: a hash of its *outside* endpoint, the one
// that NAT leaves alone, so that both directions (and the ICMP errors that
// quote them) get the same key. Of a packet's two endpoints (address, and
// port for protocols with ports; not the ICMP echo id, which masquerade
// rewrites) the one whose route leaves by the default interface ranks
// highest, then any other routed address, then the firewall's own addresses
// (and multicast/broadcast). Equal ranks: a symmetric hash of both.
//   masquerade/SNAT:  C:c -> S:s  and  S:s -> N:n   share S:s
//   DNAT:             X:x -> V:v  and  R:r -> X:x   share X:x
// A binding that breaks this (SNAT between two LANs, hairpin NAT) is caught
// by the shard's engine (Engine::shard_key_mismatch()).
class ShardKeys {
public:
    explicit ShardKeys(const Topology& t) : topo_(&t) {}
    uint64_t of(const Packet& p) const;  // 0 for a packet without a tuple (not IP, malformed)
    uint64_t of(const Tuple& t) const;

private:
    struct End {
        const IpAddr* addr;
        uint16_t port;
    };
    int rank(Family f, const IpAddr& a) const;  // 2 default route, 1 other route, 0 own or multicast
    static uint64_t key(uint8_t proto, End a, int rank_a, End b, int rank_b);
    const Topology* topo_;
};

// One shard's reports for one batch of packets (positions 0..n-1 in the batch).
struct ShardOutput {
    static constexpr uint32_t kEnd = 0xffffffffu;  // position of the end-of-capture reports
    struct Pkt {
        uint32_t pos;
        uint32_t new_ids;      // conntrack ids given while walking it: first_id, first_id + 1, ...
        uint64_t first_id;
        uint32_t retired_id;   // an id its walk gave that no record will name again (its entry was
                               // dropped and joined a denied flow, or failed to confirm); 0: none
        PacketRecord rec;
    };
    struct Flow {
        uint32_t pos;
        uint8_t phase;         // 0: ended as time reached the packet; 1: while the packet was walked
        FlowRecord rec;
    };
    struct Stat {
        uint32_t pos;
        TableStats s;
    };
    std::vector<Pkt> packets;           // the packets this shard walked, in order
    std::vector<Flow> flows;
    std::vector<Stat> stats;
    std::vector<uint64_t> ct_entries;   // after each packet of the batch
    std::vector<uint64_t> denied_live;  // after each packet of the batch
    bool key_mismatch = false;
    uint32_t pos = 0;                   // where the engine is: what its reports are filed under
    uint8_t phase = 0;
    void clear() {  // (the per-packet counts are overwritten)
        packets.clear();
        flows.clear();
        stats.clear();
    }
};

// A shard: its engine and the observer that files the engine's reports.
class Shard final : private EngineObserver {
public:
    Shard(const Config& cfg, const Topology& topo, const rules::Ruleset& rules, EngineOptions opt);
    // Runs a batch: every packet's time; the walk of those with slots[i].owner == me.
    void run(std::span<const Packet> pkts, std::span<const ShardSlot> slots, uint16_t me, ShardOutput& out) {
        out_ = &out;
        engine_.run_shard(pkts, slots, me, out);
    }
    // End of capture (Engine::finish()): reports at position kEnd, in
    // chunks: a ShardOutput holding `chunk` flows is handed over by
    // swap(full), which returns an empty one to go on with (so that a
    // million open flows are never held at once). Returns the one holding
    // the last chunk.
    static constexpr size_t kEndChunk = 4096;
    template <class Swap>
    ShardOutput* finish(ShardOutput* out, Swap swap, size_t chunk = kEndChunk) {
        swap_ = [&swap](ShardOutput* full) { return swap(full); };
        chunk_ = chunk;
        out_ = out;
        out->pos = ShardOutput::kEnd;
        out->phase = 0;
        engine_.finish();
        out_->key_mismatch = engine_.shard_key_mismatch();
        swap_ = nullptr;
        return out_;
    }
    const Engine& engine() const { return engine_; }

private:
    void on_packet(const PacketRecord& r) override { out_->packets.push_back({out_->pos, 0, 0, 0, r}); }
    void on_flow(const FlowRecord& f) override {
        out_->flows.push_back({out_->pos, out_->phase, f});
        if (swap_ && out_->flows.size() >= chunk_) [[unlikely]] {
            out_->key_mismatch = engine_.shard_key_mismatch();
            out_ = swap_(out_);
            out_->clear();
            out_->pos = ShardOutput::kEnd;
            out_->phase = 0;
        }
    }
    void on_stats(const TableStats& s) override { out_->stats.push_back({out_->pos, s}); }

    Engine engine_;
    ShardOutput* out_ = nullptr;
    std::function<ShardOutput*(ShardOutput*)> swap_;  // during finish()
    size_t chunk_ = kEndChunk;
};

// Merges the shards' reports, batch by batch, into one engine's: verdict
// records in capture order; flows that end at one position in (end time,
// id) order, the order one engine's timers give; conntrack ids renumbered in
// creation order across the shards; statistics summed; the table's peak
// rebuilt from the per-packet entry counts.
class ShardMerger {
public:
    // packet_ids: the verdict records' conntrack ids are read downstream
    // (--verdicts); without, only the flow records' ids are renumbered.
    ShardMerger(const Config& cfg, size_t denied_flow_limit, size_t shards, bool packet_ids, EngineObserver& down);
    // One batch: the packets, which shard walked each, the shards' reports
    // (renumbered in place). False when the shards can no longer stand for
    // one engine: why() says why, and the run must be repeated on one engine.
    bool merge(std::span<const Packet> pkts, std::span<const ShardSlot> slots, std::span<ShardOutput* const> outs);
    // The end of the capture: next(s) gives shard s's next chunk of
    // end-of-capture reports (Shard::finish()), nullptr after its last; a
    // chunk stays valid until the next call for the same shard.
    bool merge_end(const std::function<ShardOutput*(size_t shard)>& next);
    EnginePeak peak() const { return peak_; }
    const std::string& why() const { return why_; }

private:
    // Local conntrack id (low 32 bits, as PacketRecord::ct_id holds it) ->
    // global id, for the ids a later record may name: open addressing with
    // linear probing and backward-shift deletion, so that it stays as large
    // as the live connections, however long the capture.
    class IdMap {
    public:
        void put(uint32_t local, uint64_t global);
        bool take(uint32_t local, bool forget, uint64_t* global);

    private:
        struct Slot {
            uint32_t local = 0;  // 0: empty
            uint64_t global = 0;
        };
        void grow();
        std::vector<Slot> slots_ = std::vector<Slot>(1024);
        size_t used_ = 0;
    };
    bool fail(std::string why);
    bool translate(size_t shard, uint64_t local, bool forget, uint64_t* global);
    bool ends_at(std::span<ShardOutput* const> outs, uint32_t pos);  // flows and statistics at a position
    bool emit_stats(std::span<ShardOutput* const> outs, uint32_t pos, Nanos before);
    template <class Before, class Between>
    void emit_merged(std::span<ShardOutput* const> outs, std::span<const size_t> from, std::span<const size_t> to,
                     Before before, Between between);
    static constexpr Nanos kNever = INT64_MAX;

    const Config& cfg_;
    size_t denied_limit_;
    bool packet_ids_;
    EngineObserver& down_;
    std::vector<IdMap> ids_;  // per shard
    uint64_t next_id_ = 1;
    Nanos now_ = 0;
    EnginePeak peak_;
    std::vector<size_t> flow_cur_, pkt_cur_, stat_cur_;
    std::vector<uint8_t> event_;     // per position of the batch: some shard reports flows or statistics there
    std::vector<size_t> from_, cur_;  // emit_merged()'s cursors
    std::string why_;
};

}  // namespace fwsim
