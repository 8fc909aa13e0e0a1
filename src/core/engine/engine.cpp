// The hook walk, as netfilter orders it for IPv4/IPv6 (net/netfilter/core.c
// runs a hook's entries by priority):
//
//   prerouting: defrag (-400) -> chains < -200 -> conntrack in (-200) ->
//               NAT DST (-100, nat chains) -> other chains
//   routing:    local address -> input, else forward (TTL check, oif)
//   input:      chains, NAT SRC (+100, nat chains), confirm (INT_MAX)
//   forward:    chains
//   postrouting: chains, NAT SRC (+100), confirm (INT_MAX)
//   output (the firewall's own packets): the socket's route first (the
//               chains see its oif), conntrack (-200), NAT DST (-100),
//               chains, reroute, then postrouting.
//
// nat-type chains do not run at their own priority: nf_nat_register_fn()
// (net/netfilter/nf_nat_core.c) hangs them off the NAT core's hook, which
// sits at NF_IP_PRI_NAT_DST / NF_IP_PRI_NAT_SRC, and nf_nat_inet_fn() only
// runs them for a connection whose NAT for that manip is not set up yet.
#include "fwsim/engine/engine.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <deque>
#include <initializer_list>
#include <new>
#include <optional>
#include <type_traits>
#include <utility>

#include "denied_flows.hpp"
#include "fwsim/conntrack/table.hpp"
#include "fwsim/engine/shards.hpp"
#include "fwsim/decode/decoder.hpp"
#include "fwsim/decode/defrag.hpp"
#include "fwsim/nat/nat.hpp"

namespace fwsim {

std::string_view to_string(FlowEnd e) {
    switch (e) {
        case FlowEnd::closed: return "closed";
        case FlowEnd::timeout: return "timeout";
        case FlowEnd::evicted: return "evicted";
        case FlowEnd::end_of_capture: return "end_of_capture";
    }
    return "?";
}

namespace {

constexpr int32_t kConntrackPriority = -200;  // NF_IP_PRI_CONNTRACK
constexpr int32_t kNatDstPriority = -100;     // NF_IP_PRI_NAT_DST
constexpr int32_t kNatSrcPriority = 100;      // NF_IP_PRI_NAT_SRC

FlowEnd flow_end_of(ct::EndReason r) {
    switch (r) {
        case ct::EndReason::closed: return FlowEnd::closed;
        case ct::EndReason::timeout: return FlowEnd::timeout;
        case ct::EndReason::evicted: return FlowEnd::evicted;
        case ct::EndReason::end_of_capture: return FlowEnd::end_of_capture;
    }
    return FlowEnd::end_of_capture;
}

size_t stats_proto_slot(uint8_t p) {
    switch (p) {
        case proto::tcp: return 0;
        case proto::udp: return 1;
        case proto::udplite: return 2;
        case proto::icmp: return 3;
        case proto::icmpv6: return 4;
        default: return 5;
    }
}

// IpAddr's defaulted == is a memcmp call; two 8-byte words compare inline.
// (Used where the walk compares addresses for every packet.)
bool same_addr(const IpAddr& a, const IpAddr& b) {
    uint64_t x[2], y[2];
    std::memcpy(x, a.b.data(), 16);
    std::memcpy(y, b.b.data(), 16);
    return ((x[0] ^ y[0]) | (x[1] ^ y[1])) == 0;
}

}  // namespace

struct Engine::Impl final : ct::Observer {
    Impl(const Config& c, const Topology& t, const rules::Ruleset& r, EngineObserver& o, EngineOptions op)
        : cfg(c), topo(t), rs(r), obs(o), opt(op), table(c), defrag(c), rstate(r),
          denied(c, op.denied_flow_limit) {
        if (op.shard) keys.emplace(t);
        for (int f = 0; f < 2; ++f) {
            const Family fam = f == 0 ? Family::ipv4 : Family::ipv6;
            plans[size_t(Path::prerouting)][f] = plan_path({Hook::prerouting}, fam);
            plans[size_t(Path::prerouting)][f].push_back({HookStep::Kind::route_input, Hook::prerouting});
            plans[size_t(Path::input)][f] = plan_path({Hook::input}, fam);
            plans[size_t(Path::forward)][f] = plan_path({Hook::forward, Hook::postrouting}, fam);
            plans[size_t(Path::local_out)][f] = plan_path({Hook::output, Hook::postrouting}, fam);
        }
    }

    const Config& cfg;
    const Topology& topo;
    const rules::Ruleset& rs;
    EngineObserver& obs;
    EngineOptions opt;
    // The ruleset may have a `ct count` (among the statements of shared_state()):
    // only then do rules read the connection's original tuple (EvalContext::ct_orig).
    const bool conncount = !rs.shared_state().empty();
    ct::Table table;
    Defragmenter defrag;
    rules::RuntimeState rstate;
    DeniedFlows denied;
    // Shards only (EngineOptions::shard): the keys, the id a walk gave that no record will name
    // again (run_shard() reports it), and whether a NAT binding changed a key.
    std::optional<ShardKeys> keys;
    uint32_t retired_id = 0;
    bool key_mismatch = false;

    Nanos now = 0;
    bool started = false;
    Nanos next_tick = 0;
    ct::Counters last_counters{};
    uint64_t nat_bindings = 0;
    uint64_t nat_exhausted_total = 0, nat_exhausted_last = 0;
    EnginePeak peak_;
    std::vector<FlowRecord> flow_buf;
    bool finishing = false;                      // inside finish(): flows are streamed
    const FlowRecord* next_denied = nullptr;    // at the end of capture: the next denied flow, by id

    // Records wait here while an earlier fragment's datagram is undecided.
    struct Pending {
        PacketRecord rec;
        Packet pkt;
        std::vector<uint8_t> bytes;
        std::string error;  // owns rec.error when the defragmenter's text does not outlive the call
        bool done = false;
    };
    std::deque<Pending> pending;

    uint64_t explain_index = 0;
    Explanation* explanation = nullptr;

    // What a packet runs through between two routing decisions, in order:
    // each hook's filter/route/raw... base chains with conntrack and the NAT
    // core slotted in at their priorities. Worked out once from the ruleset
    // (plan_path()), so that the walk neither looks chains up nor compares
    // priorities per packet, and runs a whole path in one loop.
    struct HookStep {
        enum class Kind : uint8_t {
            conntrack,     // nf_conntrack_in()
            nat,           // the NAT core, for destinations at prerouting/output, else sources
            chain,         // a base chain
            route_output,  // the routing decision of a locally generated packet (ip_route_me_harder())
            route_input,   // the routing decision after prerouting: the walk goes on with the input or forward plan
        } kind;
        Hook hook;  // the hook the step belongs to (run_path() sets the context's hook from it)
        const rules::BaseChain* chain = nullptr;  // for Kind::chain
        // For Kind::nat: destinations at prerouting and output, else sources.
        nat::Manip manip = hook == Hook::prerouting || hook == Hook::output ? nat::Manip::dst : nat::Manip::src;
    };
    enum class Path : uint8_t {
        prerouting,  // a packet from outside, up to the routing decision
        input,       // then to the firewall itself
        forward,     // or through it: forward, postrouting
        local_out,   // the firewall's own: output, routing, postrouting
    };
    std::array<std::array<std::vector<HookStep>, 2>, 4> plans;  // [Path][ipv4, ipv6]

    // ---- per-packet walk state
    // Built afresh for each packet, straight from the packet: `cur` is copied
    // rather than zeroed and then assigned, and the context and record start
    // from their defaults once (this struct is ~800 bytes; building it was the
    // biggest item of process()).
    struct Walk {
        // p: the packet to walk (the reassembled datagram for fragments).
        explicit Walk(const Packet& p) {
            // All of the packet but the decoder's error text (a walked packet
            // has none, and nothing reads it from `cur`: the record points at
            // the packet as given): 231 of its 328 bytes (callgrind p200k:
            // -24 Ir a packet with `rewritten`, which says what to compare).
            static_assert(std::is_trivially_copyable_v<Packet> && std::is_trivially_destructible_v<Packet>);
            constexpr size_t head = offsetof(Packet, error), tail = head + sizeof(Packet::error);
            std::memcpy(static_cast<void*>(&cur), &p, head);
            std::memcpy(reinterpret_cast<char*>(&cur) + tail, reinterpret_cast<const char*>(&p) + tail,
                        sizeof(Packet) - tail);
            rec.pkt = &p;
            ctx.pkt = &cur;
            ctx.now = p.ts;
        }
        Walk(const Walk&) = delete;  // ctx.pkt points into it
        Walk& operator=(const Walk&) = delete;

        union {
            Packet cur;  // the packet as it is now (NAT rewrites fields); not built before the copy
        };
        // The manips nat_apply() applied to `cur`: kRewroteSrc (source
        // address and port), kRewroteDst (destination), either with the ICMP id.
        static constexpr uint8_t kRewroteSrc = 1, kRewroteDst = 2;
        uint8_t rewritten = 0;
        rules::EvalContext ctx;
        PacketRecord rec;
        ct::EntryId entry = ct::kNoEntry;
        bool unconfirmed = false;
        TcpState ct_tcp_state = TcpState::none;  // the tracker's state after this packet
        // The connection's original tuple, for `ct count` (ctx.ct_orig):
        // conntrack_in() builds it in place from the table's value when the
        // ruleset may count connections (Impl::conncount). (A union member:
        // not zeroed for every packet only to be overwritten, nor moved as
        // into an optional.)
        union {
            Tuple ct_orig;
        };
        bool ct_done = false;
        bool accepted_by_rule = false;
        bool explaining = false;  // walk<true> (nat_setup(), which both walks share, reads it)
    };

    // For `ct count`: is there a confirmed connection with this original
    // tuple, and is it a TCP connection already closing (nf_conncount.c's
    // already_closed(): TIME_WAIT or CLOSE)?
    static bool ct_alive(const void* owner, const Tuple& orig, bool* closed) {
        const auto* self = static_cast<const Impl*>(owner);
        CtDir dir;
        const ct::EntryId e = self->table.find(orig, &dir);
        if (e == ct::kNoEntry || dir != CtDir::original) return false;
        const TcpState s = self->table.entry_tcp_state(e);
        *closed = orig.proto == proto::tcp && (s == TcpState::time_wait || s == TcpState::close);
        return true;
    }

    // ---------------------------------------------------------------- observer
    void on_flow_end(const ct::FlowInfo& f, ct::EndReason why, Nanos when) override {
        FlowRecord r;
        r.id = f.id;
        r.orig = f.orig;
        r.reply = f.reply;
        r.first_ts = f.first_ts;
        r.last_ts = f.last_ts;
        r.orig_pkts = f.orig_pkts;
        r.orig_bytes = f.orig_bytes;
        r.reply_pkts = f.reply_pkts;
        r.reply_bytes = f.reply_bytes;
        r.verdict = Verdict::accept;
        r.has_tcp_state = f.orig.proto == proto::tcp;
        r.tcp_state = f.tcp_state;
        r.status = f.status;
        r.assured = (f.status & rules::ctstatus::assured) != 0;
        r.mark = f.mark;
        r.end = flow_end_of(why);
        r.end_ts = when;
        r.rule = f.rule;
        if (f.status & (rules::ctstatus::src_nat | rules::ctstatus::dst_nat)) --nat_bindings;
        if (finishing) {  // end of capture: stream, merged by id with the denied flows
            for (; next_denied && next_denied->id < r.id; next_denied = denied.next_finished()) obs.on_flow(*next_denied);
            obs.on_flow(r);
            return;
        }
        flow_buf.push_back(r);
    }

    // Called several times a packet; flows end on few of them (the sort and
    // the calls out of line keep the per-packet path small).
    void flush_flows() {
        if (!flow_buf.empty()) [[unlikely]] report_flows();
    }
    [[gnu::noinline]] void report_flows() {
        std::stable_sort(flow_buf.begin(), flow_buf.end(), [](const FlowRecord& a, const FlowRecord& b) {
            return a.end_ts != b.end_ts ? a.end_ts < b.end_ts : a.id < b.id;
        });
        for (const auto& f : flow_buf) obs.on_flow(f);
        flow_buf.clear();
    }

    // ---------------------------------------------------------------- time
    [[gnu::always_inline]] void expire_to(Nanos t) {
        table.advance(t, *this);
        denied.expire(t, flow_buf);
        if (defrag.queues() != 0)  // no datagram held: no timer to run (the common case)
            defrag.expire(t, [this](uint64_t index) { fail_pending(index, Reason::fragment_incomplete); });
        flush_flows();
        if (!pending.empty()) [[unlikely]] flush_pending();  // records held behind a fragment (out of line)
    }

    void emit_stats(Nanos t) {
        TableStats s;
        s.ts = t;
        s.ct_entries = table.size();
        s.ct_max = cfg.ct_max;
        for (uint8_t p : {proto::tcp, proto::udp, proto::udplite, proto::icmp, proto::icmpv6})
            s.by_proto[stats_proto_slot(p)] = table.count_by_proto(p);
        uint64_t known = 0;
        for (size_t i = 0; i < 5; ++i) known += s.by_proto[i];
        s.by_proto[5] = s.ct_entries - std::min(known, s.ct_entries);
        for (size_t i = 0; i < s.by_tcp_state.size(); ++i)
            s.by_tcp_state[i] = table.count_by_tcp_state(TcpState(i));
        const ct::Counters& c = table.counters();
        s.new_ = c.new_ - last_counters.new_;
        s.destroyed = c.destroyed - last_counters.destroyed;
        s.expired = c.expired - last_counters.expired;
        s.early_drop = c.early_drop - last_counters.early_drop;
        // The kernel keeps a clashing tuple when NAT finds no free one and
        // drops the packet at confirm, counting insert_failed; fwsim drops at
        // once (reason nat_port_exhausted) and counts it in both.
        s.insert_failed = c.insert_failed - last_counters.insert_failed + (nat_exhausted_total - nat_exhausted_last);
        s.table_full_drops = c.table_full_drops - last_counters.table_full_drops;
        s.nat_bindings = nat_bindings;
        s.nat_port_exhausted = nat_exhausted_total - nat_exhausted_last;
        last_counters = c;
        nat_exhausted_last = nat_exhausted_total;
        obs.on_stats(s);
    }

    void advance(Nanos t) {
        if (!started) [[unlikely]] start_clock(t);
        if (opt.stats && t >= next_tick) [[unlikely]] stats_ticks(t);
        if (t > now) now = t;  // a capture whose time steps back does not rewind the clock
        expire_to(now);
    }

    // advance()'s rare work, out of line: inlined (advance() is inlined into
    // process()), the statistics loop made every packet set up a big stack
    // frame and keep its addresses in registers (~11 Ir a packet).
    [[gnu::noinline]] void start_clock(Nanos t) {
        started = true;
        now = t;
        if (opt.stats) next_tick = (t / opt.stats_interval + 1) * opt.stats_interval;
    }
    [[gnu::noinline]] void stats_ticks(Nanos t) {
        while (t >= next_tick) {
            expire_to(next_tick);
            emit_stats(next_tick);
            next_tick += opt.stats_interval;
        }
    }

    // ---------------------------------------------------------------- records in order
    [[gnu::always_inline]] void emit(const PacketRecord& r) {  // see walk()
        if (pending.empty()) {
            obs.on_packet(r);
            return;
        }
        Pending& p = pending.emplace_back();
        hold(p, r);
        p.done = true;
    }

    void hold(Pending& p, const PacketRecord& r) {
        p.pkt = *r.pkt;
        p.bytes.assign(r.pkt->frame.begin(), r.pkt->frame.end());
        p.pkt.frame = p.bytes;
        p.rec = r;
        p.rec.pkt = &p.pkt;
        p.error = std::string(r.error);
        p.rec.error = r.error.data() == r.pkt->error ? std::string_view(p.pkt.error) : std::string_view(p.error);
    }

    void flush_pending() {
        while (!pending.empty() && pending.front().done) {
            obs.on_packet(pending.front().rec);
            pending.pop_front();
        }
    }

    Pending* find_pending(uint64_t index) {
        for (auto& p : pending)
            if (p.pkt.index == index) return &p;
        return nullptr;
    }

    void fail_pending(uint64_t index, Reason why) {
        if (Pending* p = find_pending(index)) {
            p->rec.verdict = Verdict::drop;
            p->rec.reason = why;
            p->done = true;
        }
    }

    // ---------------------------------------------------------------- entry point
    void process(const Packet& p) {
        advance(p.ts);
        process_now(p);
    }
    // process() once the clock is at p.ts.
    [[gnu::always_inline]] void process_now(const Packet& p) {
        if (p.ok() && !p.is_fragment) {  // the common case first: no record to build before the walk
            Walk w(p);
            if (explained(p)) [[unlikely]] walk_explained(w);
            else walk<false>(w);
            return emit(w.rec);
        }
        process_uncommon(p);
    }

    // A shard's batch (Engine::run_shard()). The shard's observer files
    // what the engine reports at out.pos and out.phase.
    void run_shard(std::span<const Packet> pkts, std::span<const ShardSlot> slots, uint16_t me, ShardOutput& out) {
        const size_t n = pkts.size();
        out.ct_entries.resize(n);
        out.denied_live.resize(n);
        constexpr size_t kAhead = 4;  // the conntrack look-ahead, as the one-engine loop (cli/common.cpp)
        // The packets of other shards are only looked at in `slots` (16
        // bytes each): a Packet is several cache lines, written by the reader
        // on another core.
        for (size_t i = 0; i < n; ++i) {
            if (i + kAhead < n && slots[i + kAhead].owner == me) table.prefetch_bucket(pkts[i + kAhead].prep.ct_key);
            if (i + kAhead / 2 < n && slots[i + kAhead / 2].owner == me)
                table.prefetch_entry(pkts[i + kAhead / 2].prep.ct_key);
            out.pos = uint32_t(i);
            out.phase = 0;
            advance(slots[i].ts);  // every shard: timers and statistics at every packet
            if (slots[i].owner == me) {
                out.phase = 1;
                const uint64_t first = table.next_id();
                const size_t before = out.packets.size();
                process_now(pkts[i]);
                if (out.packets.size() > before) [[likely]] {
                    ShardOutput::Pkt& k = out.packets.back();
                    k.first_id = first;
                    k.new_ids = uint32_t(table.next_id() - first);
                    k.retired_id = std::exchange(retired_id, 0);
                }
            }
            out.ct_entries[i] = table.size();
            out.denied_live[i] = denied.size();
        }
        out.key_mismatch = key_mismatch;
    }

    // Kept out of line (here and below: nat_setup(), the explain_*() steps):
    // inlined, the rare paths made the per-packet functions several KiB with
    // big stack frames to set up on every call.
    [[gnu::noinline]] void process_uncommon(const Packet& p) {
        PacketRecord rec;
        rec.pkt = &p;
        switch (p.status) {
            case DecodeStatus::not_ip:
                rec.verdict = Verdict::ignored;
                rec.reason = Reason::not_ip;
                return emit(rec);
            case DecodeStatus::unsupported_linktype:
                rec.verdict = Verdict::ignored;
                rec.reason = Reason::unsupported_linktype;
                return emit(rec);
            case DecodeStatus::malformed:
                rec.verdict = Verdict::drop;
                rec.reason = Reason::malformed;
                rec.error = p.error;
                return emit(rec);
            case DecodeStatus::ok: break;
        }
        Packet whole;
        std::string_view why;
        switch (defrag.add(p, &whole, &why)) {
            case Defragmenter::Result::held: {
                Pending& h = pending.emplace_back();
                hold(h, rec);
                return;
            }
            case Defragmenter::Result::dropped:
                // An overlap can throw away the whole queue: its held fragments end here too.
                for (uint64_t m : defrag.members()) {
                    if (m == p.index) continue;
                    if (Pending* h = find_pending(m)) {
                        h->rec.verdict = Verdict::drop;
                        h->rec.reason = Reason::malformed;
                        h->error = std::string(why);
                        h->rec.error = h->error;
                        h->done = true;
                    }
                }
                rec.verdict = Verdict::drop;
                rec.reason = Reason::malformed;
                rec.error = why;
                emit(rec);
                return flush_pending();
            case Defragmenter::Result::complete: break;
        }
        Walk w(whole);
        if (explained(whole)) walk_explained(w);
        else walk<false>(w);
        w.rec.pkt = &p;
        for (uint64_t m : defrag.members()) {
            if (m == p.index) continue;
            if (Pending* h = find_pending(m)) {
                const Packet* keep = h->rec.pkt;
                h->rec = w.rec;
                h->rec.pkt = keep;
                h->rec.datagram = p.index;
                h->done = true;
            }
        }
        w.rec.datagram = p.index;
        emit(w.rec);
        flush_pending();
    }

    bool local_or_multicast(Family f, const IpAddr& dst) const {
        return topo.is_local(f, dst) || is_multicast_or_broadcast(f, dst);
    }

    void prepare(Packet& p) const {
        p.prep = {};
        if (!p.ok()) return;
        p.prep.done = true;
        p.prep.local_src = topo.is_local(p.family, p.src);
        if (!p.prep.local_src) p.prep.iif = topo.ingress(p);
        p.prep.local_dst = local_or_multicast(p.family, p.dst);
        if (!p.prep.local_dst) p.prep.oif = topo.route(p.family, p.dst);
        uint64_t key;
        if (hash_of(p, &key)) p.prep.ct_key = key;  // = hash(tuple_of(p)): conntrack's lookup uses it as is
        if (p.is_fragment) return;  // the walk sees the reassembled datagram (not prepared)
        // Only a packet entering at prerouting has its checksum checked (conntrack_in() relies on it).
        if (cfg.ct_checksum != 0 && !p.prep.local_src) p.prep.l4_checksum_ok = l4_checksum_ok(p);
    }

    // ---------------------------------------------------------------- the walk
    // walk(), finish_walk() and emit() are inlined into process(): the whole
    // per-packet work but the hooks' steps (run_path()) in one stack frame
    // (GCC kept three, each saving and restoring six registers; callgrind
    // p200k: -34 Ir a packet). Their rare parts stay out of line
    // (report_flows(), process_uncommon(), the explain_*() steps).
    //
    // Explain: `fwsim explain` records the steps of one packet. The walk is a
    // template with that recording compiled out of the instance every other
    // packet runs (walk<false>: no check per step); the packet explained runs
    // walk<true> (out of line, walk_explained()).
    bool explained(const Packet& p) const { return explanation && p.index == explain_index; }
    [[gnu::noinline]] void walk_explained(Walk& w) { walk<true>(w); }

    template <bool Explain>
    [[gnu::always_inline]] void walk(Walk& w) {
        const Packet& p = *w.rec.pkt;  // as walked (before NAT)
        if (!w.cur.prep.done) prepare(w.cur);  // a reassembled datagram, or a caller that did not
        const Packet::Prepared& prep = w.cur.prep;
        if constexpr (Explain) {
            w.explaining = true;  // for nat_setup(), which both instances share
            explanation->found = true;
            explanation->ct_before = ct_line_for(p);
        }

        const size_t fam = w.cur.family == Family::ipv6 ? 1 : 0;
        const std::vector<HookStep>* plan;
        if (prep.local_src) {
            w.rec.hook = Hook::output;
            w.rec.has_hook = true;
            // The socket's route comes first: __ip_local_out() runs LOCAL_OUT
            // with out = skb_dst(skb)->dev (net/ipv4/ip_output.c; IPv6 the
            // same in __ip6_local_out()), so output chains see the oif; the
            // routing step after the hook re-routes (NAT may have changed
            // the destination, ip_route_me_harder()).
            w.ctx.oif = prep.oif;
            w.rec.oif = w.ctx.oif;
            plan = &plans[size_t(Path::local_out)][fam];
        } else {
            // Prerouting, whose last step (route_input) goes on with the input or the forward plan.
            w.ctx.iif = prep.iif;
            w.rec.iif = w.ctx.iif;
            plan = &plans[size_t(Path::prerouting)][fam];
        }
        finish_walk<Explain>(run_path<Explain>(*plan, fam, w), w);
    }

    // Inlined into run_path() (GCC otherwise keeps it out of line, ~30 Ir a packet more).
    template <bool Explain>
    [[gnu::always_inline]] bool route_input(Walk& w) {
        const Packet& c = w.cur;
        w.rec.has_hook = true;
        // Prepared for the destination as captured: valid unless DNAT changed it.
        const bool prepared = !(w.rewritten & Walk::kRewroteDst) || same_addr(c.dst, w.rec.pkt->dst);
        if (prepared ? c.prep.local_dst : local_or_multicast(c.family, c.dst)) {
            w.rec.hook = Hook::input;
            if constexpr (Explain) add_step("routing", "routing", "local destination: input hook");
            return true;
        }
        w.rec.hook = Hook::forward;
        // ip_forward() / ip6_forward() drop expiring packets before the forward hook.
        if (c.ttl <= 1) {
            if constexpr (Explain)
                add_step("routing", "routing", "TTL/hop limit expires: dropped before the forward hook");
            return decide(w, Verdict::drop, Reason::ttl_exceeded);
        }
        w.ctx.oif = prepared ? c.prep.oif : topo.route(c.family, c.dst);
        w.rec.oif = w.ctx.oif;
        if (w.ctx.oif == rules::kNoIf) {
            if constexpr (Explain) add_step("routing", "routing", "no route to the destination");
            return decide(w, Verdict::drop, Reason::no_route);
        }
        if constexpr (Explain)
            add_step("routing", "routing", "forward via " + std::string(topo.name(w.ctx.oif)));
        return true;
    }

    bool route_output(Walk& w) {
        w.ctx.oif = topo.route(w.cur.family, w.cur.dst);
        w.rec.oif = w.ctx.oif;
        if (w.ctx.oif == rules::kNoIf) return decide(w, Verdict::drop, Reason::no_route);
        return true;
    }

    bool decide(Walk& w, Verdict v, Reason r) {
        w.rec.verdict = v;
        w.rec.reason = r;
        return false;
    }

    // The hooks of a path, one after the other (output is followed by the
    // output routing decision). Within a hook: conntrack sits at prerouting
    // and output; the NAT core at every hook but forward, for destinations
    // (prerouting, output) or sources (input, postrouting). A base chain at
    // the same priority as conntrack or NAT runs after it.
    std::vector<HookStep> plan_path(std::initializer_list<Hook> hooks, Family f) const {
        std::vector<HookStep> steps;
        for (const Hook h : hooks) {
            const bool ct_hook = (h == Hook::prerouting || h == Hook::output);
            const int32_t nat_prio = ct_hook ? kNatDstPriority : kNatSrcPriority;
            bool ct_pending = ct_hook, nat_pending = h != Hook::forward;
            for (const rules::BaseChain& c : rs.base_chains(h, f)) {
                if (c.type == rules::ChainType::nat) continue;  // run by the NAT core (nat_setup())
                if (ct_pending && c.priority >= kConntrackPriority) {
                    ct_pending = false;
                    steps.push_back({HookStep::Kind::conntrack, h});
                }
                if (nat_pending && c.priority >= nat_prio) {
                    nat_pending = false;
                    steps.push_back({HookStep::Kind::nat, h});
                }
                steps.push_back({HookStep::Kind::chain, h, &c});
            }
            if (ct_pending) steps.push_back({HookStep::Kind::conntrack, h});
            if (nat_pending) steps.push_back({HookStep::Kind::nat, h});
            if (h == Hook::output) steps.push_back({HookStep::Kind::route_output, h});
        }
        return steps;
    }

    // Runs a path's steps in order; false when the packet ends here. Each
    // step says its hook (one store, rather than a step of its own to enter
    // each hook: a hook with nothing in it then costs nothing). The routing
    // decision after prerouting continues with the plan it chose, so that a
    // packet's whole walk is one loop (one call; callgrind p200k: -9 Ir a packet).
    template <bool Explain>
    bool run_path(const std::vector<HookStep>& plan, size_t fam, Walk& w) {
        const HookStep* next = plan.data();
        const HookStep* end = next + plan.size();
        while (next != end) {
            const HookStep& s = *next++;
            w.ctx.hook = s.hook;
            // Tested in order of frequency (a forwarded packet: two NAT
            // steps, a chain, conntrack, routing) rather than a switch's
            // jump table (callgrind p200k: -7 Ir a packet).
            using K = HookStep::Kind;
            if (s.kind == K::nat) {
                // (An instance per manip: its status bits are constants.)
                const bool ok = s.manip == nat::Manip::src ? do_nat<Explain, nat::Manip::src>(s.hook, w)
                                                           : do_nat<Explain, nat::Manip::dst>(s.hook, w);
                if (!ok) return false;
            } else if (s.kind == K::chain) {
                if (!eval_chain<Explain>(*s.chain, w)) return false;
            } else if (s.kind == K::conntrack) {
                if (!conntrack_in<Explain>(w)) return false;
            } else if (s.kind == K::route_input) {
                if (!route_input<Explain>(w)) return false;
                const auto& then = plans[size_t(w.rec.hook == Hook::input ? Path::input : Path::forward)][fam];
                next = then.data();
                end = next + then.size();
            } else {  // K::route_output
                if (!route_output(w)) return false;
            }
        }
        return true;
    }

    template <bool Explain>
    bool eval_chain(const rules::BaseChain& c, Walk& w) {
        rules::EvalContext& x = w.ctx;
        x.verdict = Verdict::accept;
        x.by_policy = false;
        x.rule = rules::kNoRule;
        rules::Trace* tr = nullptr;
        if constexpr (Explain) tr = &explanation->steps.emplace_back().trace;
        rs.eval(c, x, rstate, tr);
        if constexpr (Explain) explain_chain(c, x);
        if (x.notrack && !w.ct_done) {
            // The raw-priority notrack: conntrack will leave the packet alone (nf_ct_set(skb, NULL, IP_CT_UNTRACKED)).
            w.ct_done = true;
            w.rec.has_ct = true;
            w.rec.ct_state = CtState::untracked;
            x.has_ct = false;
            x.ct_state = CtState::untracked;
        }
        if (x.verdict != Verdict::accept) {
            w.rec.verdict = x.verdict;
            w.rec.rule = x.rule;
            w.rec.chain = c.chain;
            w.rec.reason = x.by_policy ? Reason::policy : Reason::none;
            return false;
        }
        if (!x.by_policy) {
            w.rec.rule = x.rule;
            w.accepted_by_rule = true;
        }
        return true;
    }

    [[gnu::noinline]] void explain_chain(const rules::BaseChain& c, const rules::EvalContext& x) {
        ExplainStep& s = explanation->steps.back();
        s.hook = std::string(to_string(x.hook));
        s.what = rs.chain_label(c.chain);
        s.text = std::string(to_string(x.verdict)) + (x.by_policy ? " (policy)" : "");
    }

    // nf_conntrack_in(): classify the packet, update or create state.
    template <bool Explain>
    bool conntrack_in(Walk& w) {
        if (w.ct_done) return true;  // notrack: untracked
        w.ct_done = true;
        const Packet& p = w.cur;
        // nf_conntrack_checksum applies at PRE_ROUTING only (tcp_error(), udp_error(), icmp_error()):
        // prepare() checks it for a packet from outside (conntrack sees it at prerouting, still as
        // captured) when ct.checksum is on, and leaves it true otherwise.
        const ct::Result r = table.in(p, now, p.prep.l4_checksum_ok, *this);
        flush_flows();
        w.rec.has_ct = true;
        w.rec.ct_state = r.state;
        w.rec.ct_dir = r.dir;
        w.entry = r.entry;
        w.unconfirmed = r.unconfirmed;
        w.ct_tcp_state = r.tcp_state;
        w.ctx.has_ct = r.entry != ct::kNoEntry;
        w.ctx.ct_state = r.state;
        w.ctx.ct_dir = r.dir;
        if (r.entry != ct::kNoEntry) {
            w.rec.ct_id = uint32_t(table.entry_id(r.entry));
            w.ctx.ct_id = w.rec.ct_id;
            w.ctx.ct_status = table.entry_status(r.entry);
            w.ctx.ct_mark = table.entry_mark(r.entry);
            static_assert(std::is_trivially_destructible_v<Tuple>);
            if (conncount)
                w.ctx.ct_orig =
                    ::new (static_cast<void*>(&w.ct_orig)) Tuple(table.entry_tuple(r.entry, CtDir::original));
        }
        if (conncount) {
            w.ctx.ct_alive = &Impl::ct_alive;
            w.ctx.ct_owner = this;
        }
        if constexpr (Explain) explain_conntrack(w, r);
        if (r.table_full) return decide(w, Verdict::drop, Reason::table_full);
        return true;
    }

    [[gnu::noinline]] void explain_conntrack(Walk& w, const ct::Result& r) {
        add_step(to_string(w.ctx.hook), "conntrack",
             "ct state " + std::string(to_string(r.state)) + ", direction " + std::string(to_string(r.dir)) +
                 (r.unconfirmed ? ", new entry (unconfirmed)" : ""));
    }

    template <bool Explain, nat::Manip manip>
    bool do_nat(Hook h, Walk& w) {
        if (w.entry == ct::kNoEntry) return true;  // no conntrack: nf_nat_inet_fn() accepts untouched
        const uint32_t done_bit = manip == nat::Manip::src ? rules::ctstatus::src_nat_done : rules::ctstatus::dst_nat_done;
        const bool related = w.rec.ct_state == CtState::related;
        // w.ctx.ct_status is the entry's status throughout the walk (rules
        // only read it; it is reloaded below after the NAT set-up changed it).
        if (!related && !(w.ctx.ct_status & done_bit)) {
            if (!nat_setup(h, manip, w)) return false;
            table.set_status_bits(w.entry, done_bit);
            // Later chains see the binding: `ct status dnat` matches from here on.
            w.ctx.ct_status = table.entry_status(w.entry);
        }
        nat_apply<Explain>(manip, w, related);
        return true;
    }

    // The first packet of a connection: run the nat chains until one binds.
    [[gnu::noinline]] bool nat_setup(Hook h, nat::Manip manip, Walk& w) {
        for (const rules::BaseChain& c : rs.base_chains(h, w.cur.family)) {
            if (c.type != rules::ChainType::nat) continue;
            rules::EvalContext& x = w.ctx;
            x.nat = {};
            x.verdict = Verdict::accept;
            x.by_policy = false;
            x.rule = rules::kNoRule;
            rules::Trace* tr = nullptr;
            if (w.explaining) tr = &explanation->steps.emplace_back().trace;
            rs.eval(c, x, rstate, tr);
            if (w.explaining) {
                ExplainStep& s = explanation->steps.back();
                s.hook = std::string(to_string(h));
                s.what = rs.chain_label(c.chain);
                s.text = x.nat.kind != rules::NatRequest::Kind::none ? "NAT binding requested"
                                                                       : std::string(to_string(x.verdict));
            }
            if (x.verdict != Verdict::accept) {
                w.rec.verdict = x.verdict;
                w.rec.rule = x.rule;
                w.rec.chain = c.chain;
                w.rec.reason = x.by_policy ? Reason::policy : Reason::none;
                return false;
            }
            if (x.nat.kind != rules::NatRequest::Kind::none) return nat_bind(manip, w, x.nat);
        }
        return true;  // nf_nat_alloc_null_binding(): nothing to change
    }

    bool nat_bind(nat::Manip manip, Walk& w, const rules::NatRequest& req) {
        const auto& e = table.get(w.entry);
        Tuple cur_orig;
        invert(e.reply(), &cur_orig);
        std::optional<IpAddr> addr;
        using K = rules::NatRequest::Kind;
        if (req.kind == K::masquerade) {
            addr = topo.source_addr(w.ctx.oif, w.cur.family, w.cur.dst);
            if (!addr) return decide(w, Verdict::drop, Reason::no_route);  // nf_nat_masquerade: no address
        } else if (req.kind == K::redirect) {
            if (w.ctx.hook == Hook::output) {
                addr = IpAddr{};
                if (w.cur.family == Family::ipv4) addr = IpAddr::from_v4(0x7f000001);
                else addr->b[15] = 1;
            } else {
                addr = topo.primary_addr(w.ctx.iif, w.cur.family);
                if (!addr) return decide(w, Verdict::drop, Reason::no_route);
            }
        }
        const ct::EntryId self = w.entry;
        Tuple new_orig;
        const auto st = nat::unique_tuple(
            cur_orig, manip, req, addr ? &*addr : nullptr,
            [this, self](const Tuple& t) { return table.tuple_taken(t, self); }, &new_orig);
        if (st == nat::Status::exhausted) {
            ++nat_exhausted_total;
            return decide(w, Verdict::drop, Reason::nat_port_exhausted);
        }
        if (st == nat::Status::no_address) return decide(w, Verdict::drop, Reason::no_route);
        if (new_orig != cur_orig) {
            Tuple reply;
            invert(new_orig, &reply);
            table.alter_reply(w.entry, reply);
            table.set_status_bits(w.entry, manip == nat::Manip::src ? rules::ctstatus::src_nat
                                                                     : rules::ctstatus::dst_nat);
        }
        return true;
    }

    // nf_nat_packet(): rewrite the packet as its connection's binding says.
    // The packet's fields become those of the inverse of the other
    // direction's tuple (nf_nat_manip_pkt() with the target from
    // nf_ct_invert_tuple()); read straight off that tuple: the inverse's
    // source is its destination, and so on.
    template <bool Explain>
    void nat_apply(nat::Manip manip, Walk& w, bool related) {
        const bool orig_dir = w.rec.ct_dir == CtDir::original;
        uint32_t need = manip == nat::Manip::src ? rules::ctstatus::src_nat : rules::ctstatus::dst_nat;
        if (!orig_dir) need ^= rules::ctstatus::src_nat | rules::ctstatus::dst_nat;
        if (!(w.ctx.ct_status & need)) return;  // (the entry's status, see do_nat())
        // The other direction's tuple.
        const Tuple other = table.entry_tuple(w.entry, orig_dir ? CtDir::reply : CtDir::original);
        Packet& c = w.cur;
        w.rewritten |= manip == nat::Manip::src ? Walk::kRewroteSrc : Walk::kRewroteDst;
        // An ICMP error's outer header: addresses only (nf_nat_icmp_reply_translation()).
        const bool ports = !related && proto::has_ports(c.l4proto);
        const bool icmp_id = !related && c.is_icmp();
        if (manip == nat::Manip::src) {
            c.src = other.dst;
            if (ports) c.sport = other.dport;
        } else {
            c.dst = other.src;
            if (ports) c.dport = other.sport;
        }
        // ICMP: the echo id stays on the same side (icmp_invert_tuple()), only the type is inverted.
        if (icmp_id) c.icmp_id = other.sport;
        if constexpr (Explain) explain_nat(w, manip);
    }

    [[gnu::noinline]] void explain_nat(Walk& w, nat::Manip manip) {
        add_step(to_string(w.ctx.hook), "nat",
             std::string(manip == nat::Manip::src ? "source" : "destination") + " rewritten");
    }

    template <bool Explain>
    [[gnu::always_inline]] void finish_walk(bool ok, Walk& w) {  // see walk()
        PacketRecord& r = w.rec;
        if (ok) {
            r.verdict = Verdict::accept;
            if (!w.accepted_by_rule) r.reason = Reason::policy;
            if (w.unconfirmed && !table.confirm(w.entry, r.rule)) {
                r.verdict = Verdict::drop;
                r.reason = Reason::insert_failed;
                retired_id = r.ct_id;
            } else if (w.unconfirmed) {
                if (table.entry_status(w.entry) & (rules::ctstatus::src_nat | rules::ctstatus::dst_nat)) {
                    ++nat_bindings;
                    if (keys) [[unlikely]] check_shard_keys(w.entry);
                }
            }
        } else if (w.unconfirmed || r.reason == Reason::table_full) {
            // A connection whose first packet was dropped: a denied flow. (A
            // table_full drop never got an entry, nor an id.)
            Tuple orig;
            tuple_of(*r.pkt, &orig);
            if (!denied.add(orig, r.ct_id, r.pkt->ts, r.pkt->ip_len, r.rule, r.reason, flow_buf)) retired_id = r.ct_id;
            if (w.unconfirmed) table.discard(w.entry);
        }
        if (w.entry != ct::kNoEntry && w.ctx.ct_mark_set && r.verdict == Verdict::accept)
            table.set_mark(w.entry, w.ctx.ct_mark);
        if (r.has_ct && w.entry != ct::kNoEntry && r.pkt->l4proto == proto::tcp) {
            r.has_tcp_state = true;
            // The entry's state after this packet, as Table::in() returned it
            // (nothing on the way changes it; a discarded entry is gone).
            r.tcp_state = w.ct_tcp_state;
        }
        // What NAT changed, as the packet leaves.
        const Packet& a = *r.pkt;
        // (Only the fields a manip that applied wrote: the others are as captured.)
        if (w.rewritten) {
            const Packet& b = w.cur;
            const bool src = w.rewritten & Walk::kRewroteSrc, dst = w.rewritten & Walk::kRewroteDst;
            if (src && !same_addr(a.src, b.src)) r.nat.src = true, r.nat.new_src = b.src;
            if (dst && !same_addr(a.dst, b.dst)) r.nat.dst = true, r.nat.new_dst = b.dst;
            if (src && a.sport != b.sport) r.nat.sport = true, r.nat.new_sport = b.sport;
            if (dst && a.dport != b.dport) r.nat.dport = true, r.nat.new_dport = b.dport;
            if (a.is_icmp() && a.icmp_id != b.icmp_id) r.nat.sport = true, r.nat.new_sport = b.icmp_id;
        }
        if (r.has_ct && r.ct_state == CtState::related && w.entry != ct::kNoEntry && a.inner.present &&
            a.inner.has_ports)
            related_inner_change(w);
        r.log_count = w.ctx.log_count;
        std::copy(w.ctx.logs, w.ctx.logs + w.ctx.log_count, r.logs);
        flush_flows();
        const uint64_t n = table.size();
        if (n > peak_.entries) peak_ = {n, now};
        if constexpr (Explain) explain_after(w);
    }

    // A shard's NAT binding: the reply direction's packets must come to this
    // shard too (the dispatcher sends each packet by its own key).
    [[gnu::noinline]] void check_shard_keys(ct::EntryId e) {
        if (keys->of(table.entry_tuple(e, CtDir::original)) != keys->of(table.entry_tuple(e, CtDir::reply)))
            key_mismatch = true;
    }

    [[gnu::noinline]] void explain_after(const Walk& w) {
        explanation->ct_after = w.entry != ct::kNoEntry && w.rec.verdict == Verdict::accept
                                    ? describe_entry(w.entry)
                                    : std::string("(none)");
    }

    // An ICMP error RELATED to a NATed connection: the header it quotes is
    // translated back too (nf_nat_icmp_reply_translation()); report how.
    [[gnu::noinline]] void related_inner_change(Walk& w) {
        PacketRecord& r = w.rec;
        const Packet& a = *r.pkt;
        const auto& e = table.get(w.entry);
        if (e.status & (rules::ctstatus::src_nat | rules::ctstatus::dst_nat)) {
            Tuple outer_to, inner_to;
            nat::translate_icmp_error(e.orig(), e.reply(), r.ct_dir, Tuple{}, &outer_to, &inner_to);
            Tuple inner_from;
            inner_from.family = a.inner.family;
            inner_from.proto = a.inner.l4proto;
            inner_from.src = a.inner.src;
            inner_from.dst = a.inner.dst;
            const bool icmp = a.inner.l4proto == proto::icmp || a.inner.l4proto == proto::icmpv6;
            inner_from.sport = icmp ? a.inner.icmp_id : a.inner.sport;
            inner_from.dport = icmp ? uint16_t(a.inner.icmp_type << 8 | a.inner.icmp_code) : a.inner.dport;
            if (!proto::has_ports(inner_from.proto) && !icmp) inner_from.sport = inner_from.dport = 0;
            if (inner_to != inner_from) {
                r.nat.inner = true;
                r.nat.inner_from = inner_from;
                r.nat.inner_to = inner_to;
            }
        }
    }

    // Only `fwsim explain` records steps (walk<true> and the explain_*()
    // helpers it calls), so a replay never formats one.
    [[gnu::noinline]] void add_step(std::string_view hook, std::string_view what, std::string_view text) {
        ExplainStep& s = explanation->steps.emplace_back();
        s.hook = hook;
        s.what = what;
        s.text = text;
    }

    std::string ct_line_for(const Packet& p) const {
        Tuple t;
        if (!tuple_of(p, &t)) return "(none)";
        const ct::EntryId e = table.find(t);
        return e == ct::kNoEntry ? std::string("(none)") : describe_entry(e);
    }

    // One entry, in words close to `conntrack -L`.
    std::string describe_entry(ct::EntryId id) const {
        const ct::Entry& e = table.get(id);
        auto side = [](const Tuple& t) {
            std::string s = "src=" + to_string(t.family, t.src) + " dst=" + to_string(t.family, t.dst);
            if (proto::has_ports(t.proto)) s += " sport=" + std::to_string(t.sport) + " dport=" + std::to_string(t.dport);
            else if (t.proto == proto::icmp || t.proto == proto::icmpv6)
                s += " type=" + std::to_string(t.dport >> 8) + " code=" + std::to_string(t.dport & 0xff) +
                     " id=" + std::to_string(t.sport);
            return s;
        };
        std::string s = "id=" + std::to_string(e.id) + " " + std::string(proto_name(e.orig().proto));
        if (e.orig().proto == proto::tcp) s += " " + std::string(to_string(e.tcp_state()));
        s += " " + side(e.orig()) + " " + side(e.reply());
        if (!(e.status & rules::ctstatus::seen_reply)) s += " [UNREPLIED]";
        if (e.status & rules::ctstatus::assured) s += " [ASSURED]";
        s += " mark=" + std::to_string(e.mark);
        if (e.deadline > now) s += " timeout=" + std::to_string((e.deadline - now) / kSecond) + "s";
        return s;
    }

    void finish() {
        defrag.flush_all([this](uint64_t index) { fail_pending(index, Reason::fragment_incomplete); });
        flush_pending();
        if (opt.stats && started) {
            expire_to(now);
            emit_stats(next_tick);
        }
        // Every remaining flow ends now, in id order. The table emits its
        // entries in id order already; merge the (bounded) denied flows in
        // rather than buffering a million records to sort them.
        flush_flows();
        denied.begin_finish(now);
        next_denied = denied.next_finished();
        finishing = true;
        table.finish(now, *this);
        finishing = false;
        for (; next_denied; next_denied = denied.next_finished()) obs.on_flow(*next_denied);
    }
};

Engine::Engine(const Config& cfg, const Topology& topo, const rules::Ruleset& rules, EngineObserver& obs,
               EngineOptions opt)
    : impl_(std::make_unique<Impl>(cfg, topo, rules, obs, opt)) {}
Engine::~Engine() = default;

void Engine::process(const Packet& p) { impl_->process(p); }
void Engine::prepare(Packet& p) const { impl_->prepare(p); }
void Engine::prefetch_bucket(uint64_t key) const { impl_->table.prefetch_bucket(key); }
void Engine::prefetch_entry(uint64_t key) const { impl_->table.prefetch_entry(key); }
void Engine::finish() { impl_->finish(); }
void Engine::advance_to(Nanos t) { impl_->advance(t); }
void Engine::explain(uint64_t index, Explanation* out) {
    impl_->explain_index = index;
    impl_->explanation = out;
}
std::string Engine::dump_state() const { return impl_->table.dump(impl_->now); }
Nanos Engine::now() const { return impl_->now; }
EnginePeak Engine::peak() const { return impl_->peak_; }
void Engine::run_shard(std::span<const Packet> pkts, std::span<const ShardSlot> slots, uint16_t me,
                       ShardOutput& out) {
    impl_->run_shard(pkts, slots, me, out);
}
bool Engine::shard_key_mismatch() const { return impl_->key_mismatch; }
const rules::RuntimeState& Engine::rule_state() const { return impl_->rstate; }

}  // namespace fwsim
