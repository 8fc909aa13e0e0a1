#include "fwsim/engine/shards.hpp"

#include <algorithm>
#include <cstring>

#include "fwsim/splitmix.hpp"

namespace fwsim {

// ---------------------------------------------------------------- keys

namespace {

uint64_t end_hash(uint8_t proto, const IpAddr& a, uint16_t port) {
    uint64_t w[2];
    std::memcpy(w, a.b.data(), 16);
    return splitmix64_mix(w[0] ^ splitmix64_mix(w[1] ^ (uint64_t(proto) << 16 | port)));
}
}  // namespace

int ShardKeys::rank(Family f, const IpAddr& a) const {
    if (topo_->is_local(f, a) || is_multicast_or_broadcast(f, a)) return 0;
    return topo_->route(f, a) == topo_->default_iface() ? 2 : 1;
}

uint64_t ShardKeys::key(uint8_t proto, End a, int ra, End b, int rb) {
    if (!proto::has_ports(proto)) a.port = b.port = 0;  // an ICMP echo id is rewritten by masquerade
    if (ra > rb) return end_hash(proto, *a.addr, a.port);
    if (rb > ra) return end_hash(proto, *b.addr, b.port);
    const uint64_t ha = end_hash(proto, *a.addr, a.port), hb = end_hash(proto, *b.addr, b.port);
    return splitmix64_mix(std::min(ha, hb) ^ splitmix64_mix(std::max(ha, hb)));
}

uint64_t ShardKeys::of(const Packet& p) const {
    if (!p.ok() || p.family == Family::none) return 0;
    // An ICMP error belongs to the connection of the packet it quotes.
    if (p.is_icmp() && p.inner.present) [[unlikely]] {
        const Family f = p.inner.family;
        return key(p.inner.l4proto, {&p.inner.src, p.inner.sport}, rank(f, p.inner.src),
                   {&p.inner.dst, p.inner.dport}, rank(f, p.inner.dst));
    }
    // The destination's rank from what prepare() looked up already.
    const int rd = !p.prep.done ? rank(p.family, p.dst)
                   : p.prep.local_dst ? 0
                   : p.prep.oif == topo_->default_iface() ? 2
                                                          : 1;
    const int rs = !p.prep.done ? rank(p.family, p.src)
                   : p.prep.local_src || is_multicast_or_broadcast(p.family, p.src) ? 0
                   : topo_->route(p.family, p.src) == topo_->default_iface() ? 2
                                                                              : 1;
    return key(p.l4proto, {&p.src, p.sport}, rs, {&p.dst, p.dport}, rd);
}

uint64_t ShardKeys::of(const Tuple& t) const {
    return key(t.proto, {&t.src, t.sport}, rank(t.family, t.src), {&t.dst, t.dport}, rank(t.family, t.dst));
}

// ---------------------------------------------------------------- a shard

Shard::Shard(const Config& cfg, const Topology& topo, const rules::Ruleset& rules, EngineOptions opt)
    : engine_(cfg, topo, rules, *this, (opt.shard = true, opt)) {}

// ---------------------------------------------------------------- ids

void ShardMerger::IdMap::put(uint32_t local, uint64_t global) {
    if (2 * (used_ + 1) > slots_.size()) grow();
    const size_t mask = slots_.size() - 1;
    size_t i = splitmix64_mix(local) & mask;
    while (slots_[i].local != 0 && slots_[i].local != local) i = (i + 1) & mask;
    if (slots_[i].local == 0) ++used_;
    slots_[i] = {local, global};
}

bool ShardMerger::IdMap::take(uint32_t local, bool forget, uint64_t* global) {
    const size_t mask = slots_.size() - 1;
    size_t i = splitmix64_mix(local) & mask;
    while (slots_[i].local != local) {
        if (slots_[i].local == 0 || local == 0) return false;
        i = (i + 1) & mask;
    }
    *global = slots_[i].global;
    if (!forget) return true;
    // Backward-shift deletion: later members of the run move up into the hole.
    for (size_t j = (i + 1) & mask; slots_[j].local != 0; j = (j + 1) & mask) {
        const size_t home = splitmix64_mix(slots_[j].local) & mask;
        if (((j - home) & mask) >= ((j - i) & mask)) {
            slots_[i] = slots_[j];
            i = j;
        }
    }
    slots_[i] = {};
    --used_;
    return true;
}

void ShardMerger::IdMap::grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    used_ = 0;
    for (const Slot& x : old)
        if (x.local != 0) put(x.local, x.global);
}

// ---------------------------------------------------------------- the merge

ShardMerger::ShardMerger(const Config& cfg, size_t denied_flow_limit, size_t shards, bool packet_ids,
                         EngineObserver& down)
    : cfg_(cfg), denied_limit_(denied_flow_limit), packet_ids_(packet_ids), down_(down), ids_(shards),
      flow_cur_(shards), pkt_cur_(shards), stat_cur_(shards) {}

bool ShardMerger::fail(std::string why) {
    if (why_.empty()) why_ = std::move(why);
    return false;
}

bool ShardMerger::translate(size_t shard, uint64_t local, bool forget, uint64_t* global) {
    if (ids_[shard].take(uint32_t(local), forget, global)) return true;
    return fail("conntrack id " + std::to_string(local) + " of shard " + std::to_string(shard) +
                " is unknown to the merge (an internal error)");
}

// The statistics records at `pos` of intervals that end before `before`.
bool ShardMerger::emit_stats(std::span<ShardOutput* const> outs, uint32_t pos, Nanos before) {
    for (;;) {
        size_t have = 0;
        for (size_t s = 0; s < outs.size(); ++s)
            if (stat_cur_[s] < outs[s]->stats.size() && outs[s]->stats[stat_cur_[s]].pos == pos &&
                outs[s]->stats[stat_cur_[s]].s.ts < before)
                ++have;
        if (have == 0) return true;
        if (have != outs.size()) return fail("the shards' statistics intervals differ (an internal error)");
        TableStats sum = outs[0]->stats[stat_cur_[0]++].s;
        for (size_t s = 1; s < outs.size(); ++s) {
            const TableStats& x = outs[s]->stats[stat_cur_[s]++].s;
            sum.ct_entries += x.ct_entries;
            for (size_t j = 0; j < sum.by_proto.size(); ++j) sum.by_proto[j] += x.by_proto[j];
            for (size_t j = 0; j < sum.by_tcp_state.size(); ++j) sum.by_tcp_state[j] += x.by_tcp_state[j];
            sum.new_ += x.new_;
            sum.destroyed += x.destroyed;
            sum.expired += x.expired;
            sum.early_drop += x.early_drop;
            sum.insert_failed += x.insert_failed;
            sum.table_full_drops += x.table_full_drops;
            sum.nat_bindings += x.nat_bindings;
            sum.nat_port_exhausted += x.nat_port_exhausted;
        }
        down_.on_stats(sum);
    }
}

// Emits flows from several shards' ranges [from[s], to[s]) in `before`
// order: each range is in that order already, so a k-way merge does (no
// copy). `between(f)` runs before each flow.
template <class Before, class Between>
void ShardMerger::emit_merged(std::span<ShardOutput* const> outs, std::span<const size_t> from,
                              std::span<const size_t> to, Before before, Between between) {
    cur_.assign(from.begin(), from.end());
    for (;;) {
        size_t best = outs.size();
        for (size_t s = 0; s < outs.size(); ++s)
            if (cur_[s] < to[s] &&
                (best == outs.size() || before(outs[s]->flows[cur_[s]].rec, outs[best]->flows[cur_[best]].rec)))
                best = s;
        if (best == outs.size()) return;
        const FlowRecord& f = outs[best]->flows[cur_[best]++].rec;
        between(f);
        down_.on_flow(f);
    }
}

// Flows that ended as time reached position `pos` (before its packet), and
// the statistics intervals that closed there, interleaved as one engine
// reports them (Engine stats_ticks()): the flows that ended by an
// interval's end, then its record. One engine ends such flows in (end
// time, id) order (report_flows()); each shard's are in that order
// already, and its local ids rise with the global ones.
bool ShardMerger::ends_at(std::span<ShardOutput* const> outs, uint32_t pos) {
    from_.assign(flow_cur_.begin(), flow_cur_.end());
    for (size_t s = 0; s < outs.size(); ++s) {
        auto& fl = outs[s]->flows;
        for (size_t& c = flow_cur_[s]; c < fl.size() && fl[c].pos == pos && fl[c].phase == 0; ++c)
            if (!translate(s, fl[c].rec.id, true, &fl[c].rec.id)) return false;
    }
    bool ok = true;
    emit_merged(
        outs, from_, flow_cur_,
        [](const FlowRecord& a, const FlowRecord& b) { return a.end_ts != b.end_ts ? a.end_ts < b.end_ts : a.id < b.id; },
        [&](const FlowRecord& f) {
            if (ok) ok = emit_stats(outs, pos, f.end_ts);
        });
    return ok && emit_stats(outs, pos, kNever);
}

bool ShardMerger::merge(std::span<const Packet> pkts, std::span<const ShardSlot> slots,
                        std::span<ShardOutput* const> outs) {
    const size_t shards = outs.size();
    const uint32_t n = uint32_t(pkts.size());
    std::fill(flow_cur_.begin(), flow_cur_.end(), 0);
    std::fill(pkt_cur_.begin(), pkt_cur_.end(), 0);
    std::fill(stat_cur_.begin(), stat_cur_.end(), 0);
    event_.assign(n, 0);
    for (const ShardOutput* o : outs) {
        if (o->key_mismatch)
            return fail("a NAT binding whose replies come back under another shard key (SNAT between two "
                        "networks of the same rank, hairpin NAT)");
        for (const ShardOutput::Flow& f : o->flows)
            if (f.phase == 0 && f.pos < n) event_[f.pos] = 1;
        for (const ShardOutput::Stat& x : o->stats)
            if (x.pos < n) event_[x.pos] = 1;
    }
    for (uint32_t i = 0; i < n; ++i) {
        const ShardSlot& slot = slots[i];
        if (slot.fragment) [[unlikely]]
            return fail("IP fragments (reassembly is not split across shards) from packet " +
                        std::to_string(pkts[i].index));
        if (event_[i] && !ends_at(outs, i)) return false;

        // The packet's own record, from the shard that walked it.
        const size_t o = slot.owner;
        ShardOutput& so = *outs[o];
        if (pkt_cur_[o] >= so.packets.size() || so.packets[pkt_cur_[o]].pos != i)
            return fail("no record of packet " + std::to_string(pkts[i].index) + " (an internal error)");
        ShardOutput::Pkt& k = so.packets[pkt_cur_[o]++];
        PacketRecord& rec = k.rec;
        const uint64_t first_global = next_id_;
        next_id_ += k.new_ids;
        if (rec.ct_id != 0) {
            const uint32_t fresh = rec.ct_id - uint32_t(k.first_id);  // wraps when not among the new ids
            if (fresh < k.new_ids) {
                // An entry made by this packet: later records name it unless it is gone already.
                if (rec.ct_id != k.retired_id) ids_[o].put(rec.ct_id, first_global + fresh);
                rec.ct_id = uint32_t(first_global + fresh);
            } else if (packet_ids_) {
                uint64_t g;
                if (!translate(o, rec.ct_id, false, &g)) return false;
                rec.ct_id = uint32_t(g);
            }
        }
        // Flows that ended while it was walked, before its record as one
        // engine reports them (renumbered after the packet's id was read: an
        // RST ends the very connection it names).
        auto& fl = so.flows;
        for (size_t& c = flow_cur_[o]; c < fl.size() && fl[c].pos == i && fl[c].phase == 1; ++c) {
            if (!translate(o, fl[c].rec.id, true, &fl[c].rec.id)) return false;
            down_.on_flow(fl[c].rec);
        }
        down_.on_packet(rec);

        // The whole table, as one engine would have it after this packet.
        uint64_t entries = 0, denied = 0;
        for (size_t s = 0; s < shards; ++s) {
            entries += outs[s]->ct_entries[i];
            denied += outs[s]->denied_live[i];
        }
        if (slot.ts > now_) now_ = slot.ts;
        if (entries > peak_.entries) peak_ = {entries, now_};
        // One engine meets a full table (table_full drops, early_drop) only
        // when its entries reach ct.max: until then every shard's part of
        // the table behaved as the whole would. The same for the denied-flow
        // aggregate's limit.
        if (cfg_.ct_max != 0 && entries >= cfg_.ct_max) [[unlikely]]
            return fail("the conntrack table reaches ct.max (" + std::to_string(cfg_.ct_max) + ") at packet " +
                        std::to_string(pkts[i].index));
        if (denied >= denied_limit_) [[unlikely]]
            return fail("the denied-flow aggregate fills up at packet " + std::to_string(pkts[i].index));
    }
    for (size_t s = 0; s < shards; ++s)
        if (flow_cur_[s] != outs[s]->flows.size() || pkt_cur_[s] != outs[s]->packets.size() ||
            stat_cur_[s] != outs[s]->stats.size())
            return fail("a shard reported out of capture order (an internal error)");
    return true;
}

bool ShardMerger::merge_end(const std::function<ShardOutput*(size_t shard)>& next) {
    const size_t shards = ids_.size();
    std::vector<ShardOutput*> cur(shards);
    std::vector<size_t> at(shards, 0);
    std::vector<uint64_t> last_local(shards, 0);
    // A shard's chunk, its ids renumbered (each id ends once) and checked.
    auto take = [&](size_t s) {
        cur[s] = next(s);
        at[s] = 0;
        if (!cur[s]) return true;
        const ShardOutput& o = *cur[s];
        if (o.key_mismatch) return fail("a NAT binding whose replies come back under another shard key");
        if (!o.packets.empty()) return fail("records held to the end of the capture (IP fragments)");
        uint64_t prev = 0;  // local ids rise within a shard, across its chunks too
        for (auto& f : cur[s]->flows) {
            if (f.rec.id <= prev || f.rec.id <= last_local[s])
                return fail("a shard ended its flows out of id order (an internal error)");
            prev = last_local[s] = f.rec.id;
            if (!translate(s, f.rec.id, true, &f.rec.id)) return false;
        }
        return true;
    };
    for (size_t s = 0; s < shards; ++s)
        if (!take(s)) return false;
    // The last statistics record (every shard's first chunk has its own).
    std::fill(stat_cur_.begin(), stat_cur_.end(), 0);
    std::vector<ShardOutput*> firsts;
    for (size_t s = 0; s < shards; ++s) {
        if (!cur[s]) return fail("a shard reported nothing at the end (an internal error)");
        firsts.push_back(cur[s]);
    }
    if (!emit_stats(firsts, ShardOutput::kEnd, kNever)) return false;
    // Every flow still open ends now, in id order (Engine finish()); each
    // shard's come in id order, chunk after chunk: a k-way merge.
    for (;;) {
        size_t best = shards;
        for (size_t s = 0; s < shards; ++s) {
            while (cur[s] && at[s] == cur[s]->flows.size())
                if (!take(s)) return false;
            if (cur[s] && (best == shards || cur[s]->flows[at[s]].rec.id < cur[best]->flows[at[best]].rec.id))
                best = s;
        }
        if (best == shards) return true;
        down_.on_flow(cur[best]->flows[at[best]++].rec);
    }
}

}  // namespace fwsim
