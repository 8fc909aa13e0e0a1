// The conntrack core: lookup, new entries, confirm, timers, early drop.
// Mirrors Linux 6.x net/netfilter/nf_conntrack_core.c (nf_conntrack_in(),
// resolve_normal_ct(), init_conntrack(), __nf_conntrack_confirm(),
// early_drop(), nf_conntrack_tuple_taken()) and the ICMP error handling of
// nf_conntrack_proto_icmp.c / nf_conntrack_proto_icmpv6.c.
#include "fwsim/conntrack/table.hpp"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include "fwsim/rules/eval_context.hpp"
#include "trackers.hpp"

namespace fwsim::ct {

namespace st = rules::ctstatus;
using detail::Outcome;

std::string_view to_string(EndReason r) {
    switch (r) {
        case EndReason::closed: return "closed";
        case EndReason::timeout: return "timeout";
        case EndReason::evicted: return "evicted";
        case EndReason::end_of_capture: return "end_of_capture";
    }
    return "?";
}

namespace {

constexpr int kEvictionRange = 8;  // NF_CT_EVICTION_RANGE

uint32_t pow2_at_least(uint64_t n) {
    uint64_t p = 1;
    while (p < n && p < (1ull << 31)) p <<= 1;
    return uint32_t(p);
}

// icmp_is_err(): destination unreachable, source quench, redirect, time
// exceeded, parameter problem.
bool icmp_is_err(uint8_t type) {
    return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

// noct_valid_new[] in nf_conntrack_proto_icmpv6.c: MLD and neighbour
// discovery are never tracked.
bool icmpv6_noct(uint8_t type) {
    return (type >= 130 && type <= 136) || type == 143 || type == 151 || type == 152;
}

constexpr uint8_t kNrIcmpTypes = 18;  // NR_ICMP_TYPES

Result invalid_result() {
    Result r;
    r.state = CtState::invalid;
    return r;
}

// Asks for transparent huge pages on a large array (MADV_HUGEPAGE; the
// kernel's default THP mode, `madvise`, only backs regions that ask). At a
// million connections every lookup misses the TLB as well as the cache with
// 4 KiB pages; with 2 MiB pages the page walk mostly hits. Only a hint: no
// effect on any result, ignored where unsupported; arrays under 4 MiB are
// left alone (a huge page would make a small table's RSS jump by 2 MiB).
template <class T>
void advise_huge_pages(const std::vector<T>& v) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    constexpr uintptr_t kPage = 4096;
    const size_t bytes = v.capacity() * sizeof(T);
    if (bytes < (size_t(4) << 20)) return;
    const uintptr_t begin = (reinterpret_cast<uintptr_t>(v.data()) + kPage - 1) & ~(kPage - 1);
    const uintptr_t end = (reinterpret_cast<uintptr_t>(v.data()) + bytes) & ~(kPage - 1);
    if (end > begin) ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
    (void)v;
#endif
}

}  // namespace

Table::Table(const Config& cfg, uint32_t htable_size) : cfg_(cfg) {
    htable_mask_ = pow2_at_least(htable_size == 0 ? 1 : htable_size) - 1;
    const uint64_t want = cfg.ct_max ? cfg.ct_max : kDefaultHtableSize;
    const uint32_t n = pow2_at_least(std::clamp<uint64_t>(want, 16, 1u << 20));
    buckets_.reserve(n);
    advise_huge_pages(buckets_);  // before the first touch: pages fault in huge from the start
    buckets_.assign(n, kNil);
    bucket_mask_ = n - 1;
    // Address space only (nothing is touched until used): the slab then never
    // moves while it fills up to ct.max.
    // Up to 4M entries (512 MiB of address space for the slots).
    if (cfg.ct_max != 0) {
        const size_t n = std::min<uint64_t>(cfg.ct_max + 1, 1u << 22);
        slots_.reserve(n);
        tcp_.reserve(n);
        heap_.reserve(n + n / 4 + 1025);  // the compaction bound (see timer_compact())
        advise_huge_pages(slots_);
        advise_huge_pages(tcp_);
        advise_huge_pages(heap_);
    }
}

const TcpTrack Table::kEmptyTcp{};

// ---------------------------------------------------------------- tuples

namespace {
uint32_t load4(const IpAddr& a) {
    uint32_t v;
    std::memcpy(&v, a.b.data(), 4);
    return v;
}
// Only b[0..3] set, as the decoder makes IPv4 addresses. Two word loads, not
// a loop over twelve bytes: every lookup hit and every new entry asks this.
bool v4_inline(const IpAddr& a) {
    uint64_t mid;
    uint32_t last;
    std::memcpy(&mid, a.b.data() + 4, 8);
    std::memcpy(&last, a.b.data() + 12, 4);
    return (mid | last) == 0;
}
}  // namespace

Tuple detail::TuplePair::operator[](size_t d) const {
    return table->tuple_at(table->slots_[slot], int(d));
}

// Tuple equality against the stored form (the lookup's compare).
bool Table::tuple_is(const Slot& s, int d, const Tuple& t) const {
    if (s.port[2 * d] != t.sport || s.port[2 * d + 1] != t.dport || s.proto != t.proto ||
        Family(s.family) != t.family)
        return false;
    if (s.pooled) {
        const auto& a = pool_[s.addr[0]];
        return a[2 * d] == t.src && a[2 * d + 1] == t.dst;
    }
    return s.addr[2 * d] == load4(t.src) && s.addr[2 * d + 1] == load4(t.dst) && v4_inline(t.src) &&
           v4_inline(t.dst);
}

// Both tuples of a new entry are stored before it is used (orig first); the
// reply one is rewritten by alter_reply(). Inline unless an address needs
// more than 4 bytes; once pooled, an entry stays pooled.
void Table::store_tuple(Slot& s, int d, const Tuple& t) {
    s.family = uint8_t(t.family) & 7;
    s.proto = t.proto;
    s.port[2 * d] = t.sport;
    s.port[2 * d + 1] = t.dport;
    const bool fits = t.family == Family::ipv4 && v4_inline(t.src) && v4_inline(t.dst);
    if (!s.pooled && !fits) {
        uint32_t i;
        if (!pool_free_.empty()) {
            i = pool_free_.back();
            pool_free_.pop_back();
        } else {
            i = uint32_t(pool_.size());
            pool_.emplace_back();
        }
        std::array<IpAddr, 4>& a = pool_[i];
        a = {};
        if (d == 1) {  // keep the original tuple's inline addresses
            std::memcpy(a[0].b.data(), &s.addr[0], 4);
            std::memcpy(a[1].b.data(), &s.addr[1], 4);
        }
        s.pooled = true;
        if (Family(s.family) == Family::ipv4) ++pooled_v4_;
        std::memset(s.addr, 0, sizeof s.addr);
        s.addr[0] = i;
    }
    if (s.pooled) {
        pool_[s.addr[0]][2 * d] = t.src;
        pool_[s.addr[0]][2 * d + 1] = t.dst;
    } else {
        s.addr[2 * d] = load4(t.src);
        s.addr[2 * d + 1] = load4(t.dst);
    }
}

// ---------------------------------------------------------------- slab

EntryId Table::alloc_entry() {
    EntryId e;
    if (!free_.empty()) {
        e = free_.back();
        free_.pop_back();
        slots_[e] = Slot{};
    } else {
        e = EntryId(slots_.size());
        slots_.emplace_back();
    }
    slots_[e].live = true;
    return e;
}

void Table::free_entry(EntryId e) {
    Slot& s = slots_[e];
    s.live = false;
    s.dying = false;
    s.confirmed = false;
    if (s.tcp != kNoTcp) {
        tcp_free_.push_back(s.tcp);
        s.tcp = kNoTcp;
    }
    if (s.pooled) {
        pool_free_.push_back(s.addr[0]);
        if (Family(s.family) == Family::ipv4) --pooled_v4_;
        s.pooled = false;
    }
    if (s.wide) [[unlikely]] {
        wide_.erase(std::lower_bound(wide_.begin(), wide_.end(), e,
                                     [](const Wide& w, EntryId x) { return w.slot < x; }));
        s.wide = false;
    }
    free_.push_back(e);
}

void Table::reap() {
    for (EntryId e : dying_) free_entry(e);
    dying_.clear();
}

const Table::Wide& Table::wide_of(EntryId e) const {
    return *std::lower_bound(wide_.begin(), wide_.end(), e,
                             [](const Wide& w, EntryId x) { return w.slot < x; });
}

Table::Wide& Table::wide_at(EntryId e) {
    auto it = std::lower_bound(wide_.begin(), wide_.end(), e, [](const Wide& w, EntryId x) { return w.slot < x; });
    if (!slots_[e].wide) {
        it = wide_.insert(it, Wide{e, {}});
        slots_[e].wide = true;
    }
    return *it;
}

// ---------------------------------------------------------------- hash

uint32_t Table::bucket_of(const Tuple& t) const { return uint32_t(hash(t)) & bucket_mask_; }

void Table::hash_insert(EntryId e) {
    const uint64_t h[2] = {hash(tuple_at(slots_[e], 0)), hash(tuple_at(slots_[e], 1))};
    hash_insert(e, h);
}

void Table::hash_insert(EntryId e, const uint64_t (&tuple_hash)[2]) {
    Slot& en = slots_[e];
    for (uint32_t d = 0; d < 2; ++d) {
        const uint32_t b = uint32_t(tuple_hash[d]) & bucket_mask_;
        en.next[d] = buckets_[b];
        buckets_[b] = e * 2 + d;  // at the head, as hlist_nulls_add_head_rcu()
    }
}

void Table::hash_remove(EntryId e) {
    Slot& en = slots_[e];
    for (uint32_t d = 0; d < 2; ++d) {
        const uint32_t node = e * 2 + d;
        uint32_t* link = &buckets_[bucket_of(tuple_at(en, int(d)))];
        while (*link != kNil && *link != node) link = &slots_[*link >> 1].next[*link & 1];
        if (*link == node) *link = en.next[d];
    }
}

// At most two chain nodes (one entry) per bucket on average: a lookup that
// misses (every new connection, confirm, NAT's tuple_taken) walks the whole
// chain, one cache miss per node. Early drop's victims do not depend on the
// real bucket count (they are chosen by virtual kernel buckets).
void Table::maybe_grow() {
    if (confirmed_ + 1 <= size_t(buckets_.size()) || buckets_.size() >= (1u << 30)) return;
    const uint32_t n = uint32_t(buckets_.size() * 2);
    std::vector<uint32_t>().swap(buckets_);  // free the old array first: never both resident
    buckets_.reserve(n);
    advise_huge_pages(buckets_);
    buckets_.assign(n, kNil);
    bucket_mask_ = n - 1;
    for (EntryId e = 0; e < slots_.size(); ++e)  // slot order: deterministic
        if (slots_[e].live && slots_[e].confirmed && !slots_[e].dying) hash_insert(e);
}

EntryId Table::find(const Tuple& t, CtDir* dir) const { return find_hashed(t, hash(t), dir); }

EntryId Table::find_hashed(const Tuple& t, uint64_t tuple_hash, CtDir* dir) const {
    for (uint32_t node = buckets_[uint32_t(tuple_hash) & bucket_mask_]; node != kNil;
         node = slots_[node >> 1].next[node & 1]) {
        if (tuple_is(slots_[node >> 1], int(node & 1), t)) {
            if (dir) *dir = (node & 1) ? CtDir::reply : CtDir::original;
            return node >> 1;
        }
    }
    return kNoEntry;
}

// A packet's original-direction tuple in the slot's inline form: the two
// IPv4 addresses as one 8-byte word and the two ports (as tuple_of() sets
// them) as one 4-byte word, laid out as Slot::addr[2d..2d+1] and
// Slot::port[2d..2d+1], so that a compare is two word compares.
struct Table::V4Key {
    uint64_t addrs;
    uint32_t ports;
    uint8_t proto;
};

// The words first: a chain walk past a slot then reads only its first 32
// bytes, which share one cache line (the protocol and family after them
// may be in the next). The family tells apart an IPv6 slot, whose pooled
// addresses could equal an IPv4 key's words by chance; an IPv4 slot that is
// pooled (an address wider than 4 bytes) never gets here (find_packet()).
bool Table::key_is(const Slot& s, int d, const V4Key& k) const {
    uint64_t addrs;
    uint32_t ports;
    std::memcpy(&addrs, &s.addr[2 * d], 8);
    std::memcpy(&ports, &s.port[2 * d], 4);
    return addrs == k.addrs && ports == k.ports && s.proto == k.proto &&
           Family(s.family) == Family::ipv4;
}

namespace {
// find_packet()'s general case, out of line so that the IPv4 path saves few
// registers.
[[gnu::noinline]] EntryId find_tuple_of(const Table& table, const Packet& pkt, CtDir* dir) {
    Tuple t;
    tuple_of(pkt, &t);
    return table.find_hashed(t, pkt.prep.done ? pkt.prep.ct_key : hash(t), dir);
}
}  // namespace

// find_hashed(tuple_of(pkt), hash) as in() needs it on every packet. For an
// IPv4 packet whose hash Engine::prepare() already computed, the chain walk
// compares the slots' inline words with the packet's fields directly: no
// 40-byte Tuple is built for a lookup that usually hits. Anything else
// (IPv6, an unprepared packet, a table holding a pooled IPv4 entry, which
// only a NAT reply tuple with an address wider than 4 bytes makes) goes
// through a Tuple.
[[gnu::always_inline]] inline EntryId Table::find_packet(const Packet& pkt, CtDir* dir) const {
    if (pkt.family != Family::ipv4 || !pkt.prep.done || pooled_v4_ != 0 || !v4_inline(pkt.src) ||
        !v4_inline(pkt.dst))
        return find_tuple_of(*this, pkt, dir);
    uint16_t port[2] = {0, 0};
    switch (pkt.l4proto) {  // the ports of tuple_of()
        case proto::tcp:
        case proto::udp:
        case proto::udplite:
        case proto::sctp:
            port[0] = pkt.sport;
            port[1] = pkt.dport;
            break;
        case proto::icmp:
        case proto::icmpv6:
            port[0] = pkt.icmp_id;
            port[1] = uint16_t(pkt.icmp_type << 8 | pkt.icmp_code);
            break;
        default:
            break;
    }
    const uint32_t addr[2] = {load4(pkt.src), load4(pkt.dst)};
    V4Key k{0, 0, pkt.l4proto};
    std::memcpy(&k.addrs, addr, 8);
    std::memcpy(&k.ports, port, 4);
    for (uint32_t node = buckets_[uint32_t(pkt.prep.ct_key) & bucket_mask_]; node != kNil;
         node = slots_[node >> 1].next[node & 1]) {
        if (key_is(slots_[node >> 1], int(node & 1), k)) {
            *dir = (node & 1) ? CtDir::reply : CtDir::original;
            return node >> 1;
        }
    }
    return kNoEntry;
}

bool Table::tuple_taken(const Tuple& t, EntryId ignored) const {
    // nf_conntrack_tuple_taken(): an entry with the same original tuple is
    // the same flow and does not count.
    for (uint32_t node = buckets_[bucket_of(t)]; node != kNil;
         node = slots_[node >> 1].next[node & 1]) {
        const EntryId e = node >> 1;
        if (e == ignored || !tuple_is(slots_[e], int(node & 1), t)) continue;
        if (ignored != kNoEntry && tuple_is(slots_[e], 0, tuple_at(slots_[ignored], 0))) continue;
        return true;
    }
    return false;
}

// ---------------------------------------------------------------- timers

namespace {
// std::push_heap/pop_heap build a max-heap: "greater" gives the min-heap,
// ordered by key (equal deadlines are put in id order when they fire).
struct TimerLater {
    template <class T>
    bool operator()(const T& a, const T& b) const {
        return a.order() > b.order();
    }
};
}  // namespace

namespace {
// Slot::timer_hint of a key.
uint32_t timer_hint(Nanos key) { return uint32_t((key >> detail::kTimerHintShift) + 1); }
}  // namespace

void Table::timer_push(EntryId e, Nanos key) {
    slots_[e].timer_hint = timer_hint(key);
    heap_.push_back(Timer::at(key, e));
    std::push_heap(heap_.begin(), heap_.end(), TimerLater{});
}

// Every live entry has an element keyed at or before its deadline, the
// last one pushed for it: at confirm, when the deadline moves earlier than
// that element may be, or when it pops before the deadline (re-armed). The
// slot does not keep the element's key (8 bytes) but a bound of it to 1 ms
// (timer_hint); advance_due() drops other elements of the slot. An element
// taken for the last by mistake (keys within 1 ms) can only re-arm its entry
// or fire it at its own deadline: an entry dies once, at its deadline, in
// (deadline, id) order.
inline void Table::timer_moved(EntryId e, Nanos before) {
    const Slot& en = slots_[e];
    // Later (the common case: a packet refreshes the entry): the element
    // before `before` is before the new deadline too.
    if (en.deadline >= before || !en.confirmed || en.dying) return;
    // The key k <= before: the largest value <= hint(before) that is
    // congruent to the stored hint(k) modulo 2^32 is >= hint(k), so it
    // bounds k from above (to within 1 ms while the two are less than 2^32
    // units, 52 days, apart).
    const int64_t top = (before >> detail::kTimerHintShift) + 1;
    const int64_t hint = top - int64_t(uint32_t(uint32_t(top) - en.timer_hint));
    if (en.deadline >= Nanos(hint) << detail::kTimerHintShift) return;  // an element is before it: lazy
    timer_push_early(e);
}

// Out of line: in() inlines timer_moved() on every packet.
[[gnu::noinline]] void Table::timer_push_early(EntryId e) {
    timer_push(e, slots_[e].deadline);
    maybe_compact();
}

// Stale elements (shortened deadlines, killed entries: a closed established
// TCP connection's element would wait up to 5 days) are bounded at a quarter
// of the live ones: the heap's resident pages are its high-water mark. Each
// O(slots) rebuild follows at least n/4 pushes or kills, so it costs a few
// slot reads per kill, amortised. The firing order does not change: a
// rebuilt entry is keyed at its deadline, where its lazy element would have
// been re-armed to anyway.
void Table::maybe_compact() {
    if (heap_.size() > confirmed_ + confirmed_ / 4 + 1024) timer_compact();
}

// Rebuilds the heap from the live entries, dropping stale elements.
void Table::timer_compact() {
    heap_.clear();
    for (EntryId e = 0; e < slots_.size(); ++e) {
        Slot& en = slots_[e];
        if (!en.live || !en.confirmed || en.dying) continue;
        en.timer_hint = timer_hint(en.deadline);
        heap_.push_back(Timer::at(en.deadline, e));
    }
    std::make_heap(heap_.begin(), heap_.end(), TimerLater{});
}

void Table::set_deadline(EntryId e, Nanos deadline) {
    const Nanos before = slots_[e].deadline;
    slots_[e].deadline = deadline;
    if (deadline < before) timer_moved(e, before);  // a later deadline costs nothing
}

// ---------------------------------------------------------------- gauges

void Table::count_entry(const Slot& en, int delta) {
    confirmed_ += delta;
    by_proto_[en.proto] += delta;
    if (en.proto == proto::tcp) by_tcp_state_[size_t(tcp_state_of(en))] += delta;
}

void Table::sync_tcp_count(const Slot& en, TcpState before, TcpState now) {
    if (!en.confirmed || en.dying || now == before) return;
    by_tcp_state_[size_t(before)]--;
    by_tcp_state_[size_t(now)]++;
}

// ---------------------------------------------------------------- life cycle

FlowInfo Table::flow_info(EntryId e) const {
    const Slot& en = slots_[e];
    FlowInfo f;
    f.id = en.id;
    f.orig = tuple_at(en, 0);
    f.reply = tuple_at(en, 1);
    f.first_ts = en.first_ts;
    f.last_ts = en.last_ts;
    f.orig_pkts = en.pkts[0];
    f.orig_bytes = en.bytes[0];
    f.reply_pkts = en.pkts[1];
    f.reply_bytes = en.bytes[1];
    if (en.wide) [[unlikely]] {
        const Wide& w = wide_of(e);
        f.id |= uint64_t(w.hi[Wide::id]) << 32;
        f.orig_pkts |= uint64_t(w.hi[Wide::pkts0]) << 32;
        f.orig_bytes |= uint64_t(w.hi[Wide::bytes0]) << 32;
        f.reply_pkts |= uint64_t(w.hi[Wide::pkts1]) << 32;
        f.reply_bytes |= uint64_t(w.hi[Wide::bytes1]) << 32;
    }
    f.status = en.status;
    f.tcp_state = tcp_state_of(en);
    f.mark = en.mark;
    f.rule = en.rule;
    return f;
}

void Table::kill(EntryId e, EndReason why, Nanos when, Observer& obs) {
    Slot& en = slots_[e];
    hash_remove(e);  // its timer element goes stale
    count_entry(en, -1);
    en.dying = true;
    dying_.push_back(e);
    counters_.destroyed++;
    maybe_compact();  // its element is stale now
    switch (why) {
        case EndReason::timeout: counters_.expired++; break;
        case EndReason::closed: counters_.closed++; break;
        case EndReason::evicted: counters_.early_drop++; break;
        case EndReason::end_of_capture: break;
    }
    obs.on_flow_end(flow_info(e), why, when);
}

void Table::advance_due(Nanos now, Observer& obs) {
    reap();
    // nf_ct_is_expired(): gone once its deadline is reached. The elements
    // of one key are taken together and the entries due then die in id order.
    while (!heap_.empty() && heap_.front().key() <= now) {
        const uint64_t order = heap_.front().order();
        const Nanos key = heap_.front().key();
        due_.clear();
        do {
            const EntryId e = heap_.front().slot;
            std::pop_heap(heap_.begin(), heap_.end(), TimerLater{});
            heap_.pop_back();
            const Slot& en = slots_[e];
            if (!en.live || !en.confirmed || en.dying) continue;  // stale: no entry there
            // Only the slot's last pushed element keeps its entry alive
            // (timer_moved()): an older one, or one left by an earlier entry
            // in the slot, is stale. The hint tells them apart to 1 ms; one
            // taken for the last by mistake only re-arms or fires at the
            // entry's own deadline.
            if (timer_hint(key) != en.timer_hint) continue;
            if (en.deadline > key) {
                timer_push(e, en.deadline);  // extended meanwhile: re-arm
                continue;
            }
            if (en.deadline < key) continue;  // stale: pushed for a deadline since extended
            due_.push_back(e);
        } while (!heap_.empty() && heap_.front().order() == order);
        if (due_.size() > 1) {
            std::sort(due_.begin(), due_.end(),
                      [this](EntryId a, EntryId b) { return entry_id(a) < entry_id(b); });
            due_.erase(std::unique(due_.begin(), due_.end()), due_.end());
        }
        for (EntryId e : due_) kill(e, EndReason::timeout, key, obs);
    }
    reap();
}

void Table::account(EntryId e, CtDir dir, const Packet& pkt, Nanos now) {
    Slot& en = slots_[e];
    const int d = dir == CtDir::reply ? 1 : 0;
    // 32-bit halves in the slot; a carry goes to the entry's Wide record.
    if (++en.pkts[d] == 0) [[unlikely]]
        account_carry(e, Wide::pkts0 + d);
    const uint32_t bytes_before = en.bytes[d];
    en.bytes[d] += pkt.ip_len;
    if (en.bytes[d] < bytes_before) [[unlikely]]
        account_carry(e, Wide::bytes0 + d);
    en.last_ts = now;
}

// Out of line: account() stays small enough to inline.
[[gnu::noinline]] void Table::account_carry(EntryId e, int which) { wide_at(e).hi[which]++; }

bool Table::early_drop(const Tuple& t, Nanos now, Observer& obs) {
    // early_drop(): look at NF_CT_EVICTION_RANGE kernel buckets from the new
    // tuple's bucket; in the first that holds any, drop EVERY confirmed,
    // non-assured entry (early_drop_list()), in chain order (newest first).
    uint32_t v = uint32_t(hash(t)) & htable_mask_;
    const uint32_t real = uint32_t(buckets_.size());
    for (int i = 0; i < kEvictionRange; ++i, v = (v + 1) & htable_mask_) {
        scratch_.clear();
        auto scan = [&](uint32_t b, bool filter) {
            for (uint32_t node = buckets_[b]; node != kNil;
                 node = slots_[node >> 1].next[node & 1]) {
                const EntryId e = node >> 1;
                const Slot& en = slots_[e];
                if (filter && (uint32_t(hash(tuple_at(en, int(node & 1)))) & htable_mask_) != v)
                    continue;
                if ((en.status & st::assured) || !en.confirmed || en.dying) continue;
                if (std::find(scratch_.begin(), scratch_.end(), e) == scratch_.end())
                    scratch_.push_back(e);
            }
        };
        if (real <= htable_mask_ + 1) {
            scan(v & bucket_mask_, real < htable_mask_ + 1);
        } else {
            for (uint32_t b = v; b < real; b += htable_mask_ + 1) scan(b, false);
        }
        if (!scratch_.empty()) {
            for (EntryId e : scratch_) kill(e, EndReason::evicted, now, obs);
            return true;
        }
    }
    return false;
}

// ---------------------------------------------------------------- nf_conntrack_in

namespace {

inline Outcome dispatch(detail::Conn& en, bool confirmed, CtDir dir, const Packet& pkt, Nanos now,
                 bool checksum_bad, const Config& cfg) {
    switch (en.proto) {
        case proto::tcp:
            return detail::tcp_packet(en, confirmed, dir, pkt, now, checksum_bad, cfg);
        case proto::udp:
        case proto::udplite:
            return detail::udp_packet(en, confirmed, now, checksum_bad, cfg);
        case proto::icmp:
        case proto::icmpv6:
            return detail::icmp_packet(en, confirmed, cfg);
        case proto::gre:
            return detail::gre_packet(en);
        default:
            return detail::generic_packet(cfg);
    }
}

}  // namespace

Result Table::in(const Packet& pkt, Nanos now, bool checksum_ok, Observer& obs) {
    reap();
    if (!pkt.ok() || !pkt.has_l4) {  // resolve_normal_ct(): can't get tuple (tuple_of() fails)
        counters_.invalid++;
        return invalid_result();
    }
    // tcp_error()/udp_error()/icmp_error() check checksums only when
    // nf_conntrack_checksum is set; the engine only checks at PRE_ROUTING.
    const bool checksum_bad = cfg_.ct_checksum != 0 && !checksum_ok;

    // nf_conntrack_handle_icmp() runs before the lookup.
    if (pkt.is_icmp()) {
        if (checksum_bad) {
            counters_.invalid++;
            return invalid_result();
        }
        if (pkt.l4proto == proto::icmp) {
            if (pkt.icmp_type > kNrIcmpTypes) {
                counters_.invalid++;
                return invalid_result();
            }
            if (icmp_is_err(pkt.icmp_type)) return icmp_error(pkt);
        } else {
            if (icmpv6_noct(pkt.icmp_type)) {
                Result r;
                r.state = CtState::untracked;
                return r;
            }
            if (pkt.icmp_type < 128) return icmp_error(pkt);
        }
    }

    for (int attempt = 0; attempt < 2; ++attempt) {
        counters_.searched++;
        CtDir dir = CtDir::original;
        const EntryId e = find_packet(pkt, &dir);
        if (e == kNoEntry) {
            Tuple t;
            tuple_of(pkt, &t);
            return new_entry(pkt, t, now, checksum_bad, obs);
        }
        counters_.found++;

        Slot& en = slots_[e];
        // resolve_normal_ct(): ctinfo from the direction and SEEN_REPLY.
        const CtState state = dir == CtDir::reply              ? CtState::established
                              : (en.status & st::seen_reply) ? CtState::established
                                                             : CtState::new_;
        // The TCP state is read through this pointer before and after the
        // tracker: the compiler would reload the slab index and vector
        // around the call for every tcp_state_of().
        TcpTrack* const tcp = en.tcp != kNoTcp ? &tcp_[en.tcp].t : nullptr;
        const TcpState tcp_before = tcp ? tcp->state : TcpState::none;
        const Nanos deadline_before = en.deadline;
        detail::Conn c{en.status, en.deadline, tcp ? *tcp : no_tcp_, en.first_ts, en.proto, en.port[1]};
        const Outcome o = dispatch(c, true, dir, pkt, now, checksum_bad, cfg_);
        const TcpState tcp_after = tcp ? tcp->state : TcpState::none;  // nothing below changes it
        sync_tcp_count(en, tcp_before, tcp_after);

        if (o.kind == Outcome::reopen) {
            // "Reopened connection": nf_ct_kill() and -NF_REPEAT: the old
            // entry ends, the packet is looked up again as new.
            kill(e, EndReason::closed, now, obs);
            continue;
        }
        if (o.kind == Outcome::invalid) {
            if (en.deadline != deadline_before) timer_moved(e, deadline_before);  // nf_tcp_handle_invalid()
            counters_.invalid++;
            return invalid_result();
        }

        Result r;
        r.state = state;
        r.dir = dir;
        r.entry = e;
        if (o.kind == Outcome::ignore) {
            counters_.ignored++;
            r.ignored = true;
        } else {
            if (o.refresh) {
                set_deadline(e, now + o.timeout);
                account(e, dir, pkt, now);
            }
            if (o.kill) account(e, dir, pkt, now);
        }
        // nf_conntrack_in(): SEEN_REPLY after the tracker ran (also for
        // ignored packets).
        if (dir == CtDir::reply) en.status |= st::seen_reply;
        r.tcp_state = tcp_after;
        if (o.kill) kill(e, EndReason::closed, now, obs);  // nf_ct_kill_acct()
        return r;
    }
    counters_.invalid++;  // not reached: a reopened entry is gone from the table
    return invalid_result();
}

Result Table::new_entry(const Packet& pkt, const Tuple& t, Nanos now, bool checksum_bad,
                        Observer& obs) {
    // init_conntrack(): the reply tuple must exist (ICMP: query types only).
    Tuple reply;
    if (!invert(t, &reply)) {
        counters_.invalid++;
        return invalid_result();
    }
    // __nf_conntrack_alloc(): unconfirmed entries count against the limit,
    // and the check comes before the tracker looks at the packet.
    if (cfg_.ct_max != 0 && confirmed_ + unconfirmed_ + 1 > cfg_.ct_max) {
        if (!early_drop(t, now, obs)) {
            counters_.table_full_drops++;  // "nf_conntrack: table full, dropping packet"
            Result r;
            r.state = CtState::new_;
            r.table_full = true;
            return r;
        }
    }
    const EntryId e = alloc_entry();
    Slot& en = slots_[e];
    store_tuple(en, 0, t);
    store_tuple(en, 1, reply);
    en.first_ts = en.last_ts = now;
    en.deadline = now;
    if (t.proto == proto::tcp) {
        if (!tcp_free_.empty()) {
            en.tcp = tcp_free_.back();
            tcp_free_.pop_back();
            tcp_[en.tcp].t = TcpTrack{};
        } else {
            en.tcp = uint32_t(tcp_.size());
            tcp_.emplace_back();
        }
    }
    detail::Conn c{en.status, en.deadline, en.tcp != kNoTcp ? tcp_[en.tcp].t : no_tcp_,
                   en.first_ts, en.proto, en.port[1]};
    const Outcome o = dispatch(c, false, CtDir::original, pkt, now, checksum_bad, cfg_);
    if (o.kind != Outcome::accept && o.kind != Outcome::ignore) {
        free_entry(e);
        counters_.invalid++;
        return invalid_result();
    }
    unconfirmed_++;
    const uint64_t id = next_id_++;
    en.id = uint32_t(id);
    if (id >> 32) [[unlikely]]
        wide_at(e).hi[Wide::id] = uint32_t(id >> 32);
    pending_ = pkt.prep.done ? e : kNoEntry;  // the prepared hash is hash(t)
    pending_hash_ = pkt.prep.ct_key;
    if (o.refresh) {
        en.deadline = now + o.timeout;
        account(e, CtDir::original, pkt, now);
    }
    Result r;
    r.state = CtState::new_;
    r.dir = CtDir::original;
    r.entry = e;
    r.unconfirmed = true;
    r.ignored = o.kind == Outcome::ignore;
    r.tcp_state = tcp_state_of(en);
    return r;
}

Result Table::icmp_error(const Packet& pkt) {
    // nf_conntrack_inet_error(): look up the inverse of the quoted tuple;
    // the error must travel to the address the connection's tuple in that
    // direction goes to. Anything else gets no conntrack (invalid).
    const InnerHeader& in = pkt.inner;
    if (!in.present || in.family != pkt.family) {
        counters_.invalid++;
        return invalid_result();
    }
    Tuple q;
    q.src = in.src;
    q.dst = in.dst;
    q.family = in.family;
    q.proto = in.l4proto;
    switch (in.l4proto) {
        case proto::tcp:
        case proto::udp:
        case proto::udplite:
        case proto::sctp:
            if (!in.has_ports) {
                counters_.invalid++;
                return invalid_result();
            }
            q.sport = in.sport;
            q.dport = in.dport;
            break;
        case proto::icmp:
        case proto::icmpv6:
            if (!in.has_ports) {
                counters_.invalid++;
                return invalid_result();
            }
            q.sport = in.icmp_id;
            q.dport = uint16_t(in.icmp_type << 8 | in.icmp_code);
            break;
        default:
            break;
    }
    Tuple inner;
    CtDir dir = CtDir::original;
    counters_.searched++;
    const EntryId e = invert(q, &inner) ? find(inner, &dir) : kNoEntry;
    if (e == kNoEntry || !(tuple_at(slots_[e], dir == CtDir::reply ? 1 : 0).dst == pkt.dst)) {
        counters_.invalid++;
        return invalid_result();
    }
    counters_.found++;
    Result r;
    r.state = CtState::related;
    r.dir = dir;
    r.entry = e;
    r.tcp_state = tcp_state_of(slots_[e]);
    return r;
}

void Table::alter_reply(EntryId e, const Tuple& new_reply) { store_tuple(slots_[e], 1, new_reply); }

bool Table::confirm(EntryId e, uint32_t rule) {
    Slot& en = slots_[e];
    unconfirmed_--;
    // Each tuple is hashed once for the clash check and the insert (the
    // original one not at all when in() kept the packet's hash).
    const Tuple orig = tuple_at(en, 0), reply = tuple_at(en, 1);
    const uint64_t h[2] = {e == pending_ ? pending_hash_ : hash(orig), hash(reply)};
    pending_ = kNoEntry;
    // __nf_conntrack_confirm(): a clash when either tuple is in the table.
    if (find_hashed(orig, h[0]) != kNoEntry || find_hashed(reply, h[1]) != kNoEntry) {
        counters_.insert_failed++;
        free_entry(e);
        return false;
    }
    // Grow first: the rehash inserts every confirmed entry, and this one
    // must not be inserted twice (that made a chain loop).
    maybe_grow();
    en.rule = rule;
    en.confirmed = true;
    en.status |= st::confirmed;
    hash_insert(e, h);
    timer_push(e, en.deadline);
    count_entry(en, +1);
    counters_.new_++;
    return true;
}

void Table::discard(EntryId e) {
    if (e == pending_) pending_ = kNoEntry;
    unconfirmed_--;
    counters_.discarded++;
    free_entry(e);
}

void Table::set_mark(EntryId e, uint32_t mark) { slots_[e].mark = mark; }

// Slot::status has 16 bits: every rules::ctstatus bit fits.
static_assert(rules::ctstatus::offload < (1u << 16));
void Table::set_status_bits(EntryId e, uint32_t bits) { slots_[e].status = uint16_t(slots_[e].status | bits); }

void Table::finish(Nanos end, Observer& obs) {
    reap();
    pending_ = kNoEntry;
    // The id order is sorted in the timer heap's storage (no timer fires any
    // more): every confirmed entry has an element there, so it holds them all
    // without a new allocation (a 1M-entry table would need 16 MB more at its
    // peak).
    heap_.clear();
    for (EntryId e = 0; e < slots_.size(); ++e) {
        const Slot& en = slots_[e];
        if (!en.live) continue;
        if (en.confirmed) {
            heap_.push_back(Timer::at(Nanos(entry_id(e)), e));
        } else {
            unconfirmed_--;  // a pending unconfirmed entry: no state, no record
            free_entry(e);
        }
    }
    std::sort(heap_.begin(), heap_.end(), [](const Timer& a, const Timer& b) { return a.order() < b.order(); });
    for (const Timer& t : heap_) {
        obs.on_flow_end(flow_info(t.slot), EndReason::end_of_capture, end);
        count_entry(slots_[t.slot], -1);
        free_entry(t.slot);
    }
    // Every entry is gone: empty the hash at once rather than unlinking each
    // (chain walks that were 9% of a 1M-connection replay).
    std::fill(buckets_.begin(), buckets_.end(), kNil);
    heap_.clear();
}

}  // namespace fwsim::ct

namespace fwsim::ct {

std::string Table::check() const {
    size_t confirmed = 0, unconfirmed = 0, dying = 0, free_slots = 0;
    size_t by_proto[256] = {};
    size_t by_state[10] = {};
    for (EntryId e = 0; e < slots_.size(); ++e) {
        const Slot& en = slots_[e];
        if (!en.live) {
            ++free_slots;
            continue;
        }
        if (en.dying) {
            ++dying;
            continue;
        }
        if (!en.confirmed) {
            ++unconfirmed;
            continue;
        }
        ++confirmed;
        by_proto[en.proto]++;
        if (en.proto == proto::tcp) by_state[size_t(tcp_state_of(en))]++;
        if ((en.proto == proto::tcp) != (en.tcp != kNoTcp))
            return "entry " + std::to_string(entry_id(e)) + " TCP slab mismatch";
        if (en.wide != std::binary_search(wide_.begin(), wide_.end(), Wide{e, {}},
                                          [](const Wide& a, const Wide& b) { return a.slot < b.slot; }))
            return "entry " + std::to_string(entry_id(e)) + " wide record mismatch";
        for (int d = 0; d < 2; ++d) {
            CtDir got;
            const EntryId f = find(tuple_at(en, d), &got);
            if (f != e && !(tuple_at(en, 0) == tuple_at(en, 1)))
                return "entry " + std::to_string(entry_id(e)) + " not found by its tuple " +
                       std::to_string(d);
        }
    }
    if (confirmed != confirmed_) return "confirmed count " + std::to_string(confirmed_) +
                                        " != " + std::to_string(confirmed);
    if (unconfirmed != unconfirmed_) return "unconfirmed count mismatch";
    if (dying != dying_.size()) return "dying count mismatch";
    if (free_slots != free_.size()) return "free list mismatch";
    size_t armed = 0;  // every confirmed entry has an element at or before its deadline
    std::vector<bool> seen(slots_.size());
    for (const Timer& t : heap_) {
        const Slot& en = slots_[t.slot];
        if (en.live && en.confirmed && !en.dying && timer_hint(t.key()) == en.timer_hint &&
            t.key() <= en.deadline && !seen[t.slot]) {
            seen[t.slot] = true;
            ++armed;
        }
    }
    if (armed != confirmed_) return "armed timers " + std::to_string(armed) + " != entries";
    if (heap_.size() > confirmed_ + confirmed_ / 4 + 1024)
        return "stale timer elements past the bound: " + std::to_string(heap_.size()) + " for " +
               std::to_string(confirmed_) + " entries";
    if (!std::is_heap(heap_.begin(), heap_.end(), TimerLater{})) return "heap order broken";
    for (size_t p = 0; p < 256; ++p)
        if (by_proto[p] != by_proto_[p]) return "gauge by proto " + std::to_string(p);
    for (size_t s = 0; s < 10; ++s)
        if (by_state[s] != by_tcp_state_[s]) return "gauge by tcp state " + std::to_string(s);
    size_t nodes = 0;
    for (uint32_t b = 0; b < buckets_.size(); ++b) {
        for (uint32_t n = buckets_[b]; n != kNil; n = slots_[n >> 1].next[n & 1]) {
            const Slot& en = slots_[n >> 1];
            if (!en.live || !en.confirmed || en.dying) return "dead node in a hash chain";
            if (bucket_of(tuple_at(en, int(n & 1))) != b) return "node in the wrong bucket";
            if (++nodes > 2 * confirmed_) return "hash chain loop";
        }
    }
    if (nodes != 2 * confirmed_) return "hash node count mismatch";
    return {};
}

}  // namespace fwsim::ct
