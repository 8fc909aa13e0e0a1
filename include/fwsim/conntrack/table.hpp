// The connection-tracking table: nf_conntrack_in(), confirm, timeouts, early
// drop and the /proc/net/nf_conntrack dump, mirroring Linux (6.x)
// net/netfilter/nf_conntrack_core.c and the per-protocol trackers.
//
// Threading: none; one Table per replay. Time is only what the caller passes.
// Memory: entries live in a slab (std::vector of 96-byte detail::Slot) with
// a free list; the hash holds 32-bit node ids (slot*2 + direction) in chains
// through the slots; a bucket is the 4-byte id of its first node. The
// look-ahead fetches a packet's bucket, then the entry at its head, then
// (from that entry's TCP index, one packet later) its TCP state.
// IPv4 addresses are inline, IPv6 ones in a side pool, TCP window state in a
// side slab (TCP entries only); get() returns a snapshot (Entry) that
// materialises tuples on demand. in() compares a prepared IPv4 packet's
// fields with a slot's inline words (find_packet()); it builds a Tuple only
// for a new entry, IPv6 or an unprepared packet. Timers: a min-heap of
// 12-byte (key, slot) elements with lazy updates: extending a deadline (the
// common case: every packet of a live connection) costs nothing; an entry
// whose element comes up before its deadline is re-armed; only a deadline
// moved before the entry's last element (the slot keeps that key to 1 ms,
// timer_hint) pushes a new one. Entries due at the same key die in id
// order. Stale elements (shortened deadlines, killed entries) are dropped
// when popped, and the heap is rebuilt from the live entries once they pass
// a quarter of them. Nothing is allocated per packet in steady state: with
// ct.max set, the slab, TCP slab and heap are reserved up front (address
// space only, up to 4M entries), so they never move and the peak RSS never
// holds an old and a new copy (the hash frees its old buckets before it
// doubles); finish() sorts in the heap's storage. Arrays of 4 MiB and more
// ask for transparent huge pages before they are first touched
// (advise_huge_pages() in table.cpp: at 1M entries ~9% less time, fewer TLB
// misses; ~3 bytes more per connection of RSS).
// Resident bytes per connection at 1.27M entries, 74% TCP (tools/bench/run.py
// full-1M: 169 B/conn in all, 215 before session 4): slot 96, TCP slab 56 x
// 0.74 = 41, timer heap 12 x up to 1.25 = 15, hash heads 4 x 1.6 buckets per
// entry = 7, the rest outside the table. The slot went from 128 to 96 by
// keeping the id and the packet and byte counters in 32 bits (the high
// halves of the rare values past 2^32 in a side table, Table::wide_), the
// status in 16, the protocol and family once, and a 4-byte hint instead of
// the 8-byte key of the entry's timer element; a TcpTrack from 60 (64 with
// its cache-line alignment) to 56 by packing TcpPeer; a timer element from
// 16 to 12 by leaving out the id (ties are sorted when they fire); a bucket
// head from 8 to 4 by dropping the head entry's TCP index (prefetch_entry()
// reads it from the entry it fetched the call before). What is
// left in the slot every entry uses: both tuples with links (34 bytes),
// status, mark, rule, TCP index, id, three timestamps and four counters.
// Reaching 128 in all would take a 64-byte slot: timestamps relative to the
// capture (not exact in 32 bits of ns), or open addressing without chain
// links, or TCP entries in a slab of their own with the TCP state inline.
// Behaviour worth knowing (all as Linux 6.x unless marked DIFFERENCE):
// - ct state: reply-direction packets are `established`; original-direction
//   ones `new` until SEEN_REPLY (resolve_normal_ct()). SEEN_REPLY is set after
//   the tracker ran, also for packets the TCP tracker ignored.
// - Invalid packets (bad flags, checksum with ct.checksum=1, out of window,
//   transition sIV, ICMP reply without request, ICMP error quoting nothing)
//   leave the entry as it was and get no conntrack; conntrack never drops.
// - TCP "ignored" (6.x NFCT_TCP_IGNORE and sIG): SYN on an established entry,
//   retransmitted SYN/ACK, ACK from the server in SYN_SENT, data a little past
//   the window, old retransmissions below the window: state/timeout/counters
//   unchanged, ct state as usual (not invalid).
// - Reopen: SYN in TIME_WAIT/CLOSE after a FIN, or after our own RST, kills
//   the old entry (EndReason::closed) and makes a new one (nf_ct_kill() +
//   NF_REPEAT). A RST before any reply kills the entry (nf_ct_kill_acct()).
// - Timeouts: deadline = packet time + timeout; expired when now >= deadline.
//   UDP: stream timeout and ASSURED once a reply was seen and a packet comes
//   more than 2 s after the first one (stream_ts). TCP: tcp_timeouts[] with
//   max_retrans, unacknowledged, zero-window and "picked up without reply"
//   caps as nf_conntrack_tcp_packet(). SYN_SENT2 has no sysctl: 120 s.
// - Table limit: new entries (unconfirmed ones included) are checked against
//   ct.max BEFORE the tracker looks at the packet, as __nf_conntrack_alloc():
//   even a packet that would be invalid can cause an early drop or a
//   table_full drop. early_drop() looks at the 8 kernel hash buckets starting
//   at the new tuple's bucket (kernel bucket count: see htable_size) and, in
//   the first bucket holding any, evicts EVERY confirmed non-assured entry, in
//   chain order (newest first). The victim set is deterministic: the hash is
//   fwsim::hash() (seedless FNV-1a), not the kernel's seeded siphash.
//   DIFFERENCE: the kernel's gc worker also drops entries at 95% fill; not done.
// - ICMPv6 MLD / neighbour discovery: untracked (noct_valid_new[]).
// - GRE (version 0, keys 0): 30 s until a reply was seen, then 180 s and
//   ASSURED (nf_conntrack_proto_gre.c; the two sysctls have no fwsim key yet).
// - DIFFERENCE: SCTP, DCCP and every other protocol use the generic
//   tracker (timeout.generic); TCP windows ignore NAT sequence adjustment
//   (fwsim never mangles payload); no helpers/expectations, so ct state
//   `related` only comes from ICMP errors.
// - DIFFERENCE: conntrack ids are 1, 2, 3... in creation order (an entry that
//   the tracker rejects at once gets none); the kernel's are hashed pointers.
// - Validation: per-packet ct state/direction, final TCP states/flags and
//   accounting were compared with Linux 6.18 through kernel-replay on ~27k
//   random TCP segments and targeted captures (all agree; the regression
//   subset is tests/unit/conntrack/kernel_differential_test.cpp). One rule
//   there is measured rather than read from source: a RST answering a SYN
//   that was let through skips the window check only when it travels
//   opposite to that SYN.
// - dump(): "mark=0 zone=0 use=2" as /proc/net/nf_conntrack on 6.18 (use=2:
//   the table's reference plus ct_seq_show()'s own);
//   packets=/bytes= are printed when ct.acct is on (fwsim's default; Linux's
//   default nf_conntrack_acct is 0).
#pragma once

#include <cstddef>
#include <array>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "fwsim/config.hpp"
#include "fwsim/packet.hpp"
#include "fwsim/prefetch.hpp"
#include "fwsim/time.hpp"
#include "fwsim/tuple.hpp"
#include "fwsim/verdict.hpp"

namespace fwsim::ct {

using EntryId = uint32_t;  // a slot index: stable while the entry lives, reused after
inline constexpr EntryId kNoEntry = 0xffffffff;

enum class EndReason : uint8_t { closed, timeout, evicted, end_of_capture };
std::string_view to_string(EndReason r);  // "closed", "timeout", "evicted", "end_of_capture"

// What a flow record needs (SPEC "Flow record"), a snapshot of one entry.
struct FlowInfo {
    uint64_t id = 0;             // conntrack id: 1, 2, 3... in order of creation (unconfirmed ones too)
    Tuple orig, reply;           // reply shows NAT as conntrack does
    Nanos first_ts = 0, last_ts = 0;
    uint64_t orig_pkts = 0, orig_bytes = 0, reply_pkts = 0, reply_bytes = 0;  // bytes = IP total length
    uint32_t status = 0;         // rules::ctstatus bits (assured, seen_reply, ...)
    TcpState tcp_state = TcpState::none;
    uint32_t mark = 0;
    uint32_t rule = 0;           // opaque to conntrack: set by the engine at confirm
};

class Observer {  // the engine implements this
public:
    virtual void on_flow_end(const FlowInfo& f, EndReason why, Nanos when) = 0;

protected:
    ~Observer() = default;
};

struct Result {  // nf_conntrack_in()'s outcome for one packet
    CtState state = CtState::invalid;  // ctinfo as `ct state` sees it
    CtDir dir = CtDir::original;
    EntryId entry = kNoEntry;  // kNoEntry when invalid with no entry, or table full. For `related`
                               // ICMP errors: the quoted connection's entry (for NAT reply translation)
    bool unconfirmed = false;  // a new entry made for this packet, waiting for confirm()/discard()
    bool table_full = false;   // no entry could be made (early drop failed): drop, reason table_full
    bool ignored = false;      // TCP: the tracker ignored the packet (NFCT_TCP_IGNORE / sIG): the
                               // entry's state, timeout and counters did not change; ct state is
                               // still established/new as the kernel reports it
    TcpState tcp_state = TcpState::none;  // the entry's TCP state after this packet (none if no entry)
};
// Notes on Result:
// - state == invalid: `entry` is kNoEntry (the kernel detaches the conntrack: rules see no ct).
// - state == untracked: ICMPv6 neighbour discovery / MLD (nf_conntrack_icmpv6_error's noct_valid_new).
// - An entry killed by this very packet (TCP RST with no reply seen, as nf_ct_kill_acct()) is
//   returned with its state (established/new) and stays readable through get() until the next
//   call of in(), advance() or finish(); its flow already ended (EndReason::closed).

// Cumulative; the engine computes per-interval deltas. Names as the kernel's
// conntrack statistics where one exists.
struct Counters {
    uint64_t new_ = 0;              // entries confirmed (inserted into the table)
    uint64_t destroyed = 0;         // confirmed entries that ended, for any reason but end_of_capture
    uint64_t expired = 0;           //   ... of which by timeout
    uint64_t closed = 0;            //   ... of which killed by the tracker (RST, reopened connection)
    uint64_t early_drop = 0;        //   ... of which evicted by early_drop()
    uint64_t insert_failed = 0;     // confirm() clashes
    uint64_t table_full_drops = 0;  // "nf_conntrack: table full, dropping packet"
    uint64_t invalid = 0;           // packets that got ct state invalid
    uint64_t ignored = 0;           // TCP packets the tracker ignored (NFCT_TCP_IGNORE), not invalid
    uint64_t found = 0;             // packets that matched an existing entry
    uint64_t searched = 0;          // table lookups
    uint64_t discarded = 0;         // unconfirmed entries dropped before confirm
};

// struct ip_ct_tcp_state: what the tracker knows of one side's sequence space.
// Packed (18 bytes, not 20): with it a TcpTrack is 56 bytes, and the TCP slab
// stores one per TCP connection (see the Memory paragraph above). x86 reads
// the unaligned words at no cost; nothing takes the address of a member.
struct [[gnu::packed]] TcpPeer {
    uint32_t td_end = 0;     // max of seq + len
    uint32_t td_maxend = 0;  // max of ack + max(win, 1)
    uint32_t td_maxwin = 0;  // max(win)
    uint32_t td_maxack = 0;  // max of ack
    uint8_t td_scale = 0;    // window scale factor
    uint8_t flags = 0;       // tcpflags below
};
namespace tcpflags {  // IP_CT_TCP_FLAG_*
inline constexpr uint8_t window_scale = 0x01, sack_perm = 0x02, close_init = 0x04,
                         be_liberal = 0x08, data_unacknowledged = 0x10, maxack_set = 0x20,
                         challenge_ack = 0x40, simultaneous_open = 0x80;
}

// struct ip_ct_tcp (56 bytes)
struct TcpTrack {
    TcpPeer seen[2];            // [original], [reply]
    uint32_t last_seq = 0, last_ack = 0, last_end = 0;
    uint16_t last_win = 0;
    TcpState state = TcpState::none;
    uint8_t last_dir = 0;
    uint8_t retrans = 0;
    uint8_t last_index = 0;     // TCP_*_SET of the last packet
    uint8_t last_wscale = 0;
    uint8_t last_flags = 0;
};
static_assert(sizeof(TcpTrack) == 56);

class Table;

namespace detail {
// How the table stores one connection (internal; read entries through
// Table::get()), 96 bytes. Laid out for the lookup: a hash-chain walk past
// an entry reads only its first 32 bytes (links, addresses, ports), which
// never cross a cache line (slots are 32-byte aligned, 96 apart); a hit
// reads the rest anyway (protocol, status, TCP index, deadline, counters).
// IPv4 addresses are stored inline (4 bytes each); IPv6 ones (and any tuple
// whose IPv4 address has bytes past the fourth set, which never happens
// from the decoder) live in a side pool, `addr[0]` holding the pool index.
// TCP window tracking lives in a side slab, only for TCP entries. Narrow on
// purpose: the id and the counters keep their low 32 bits here; the high
// halves, for the rare entry that passes 2^32 (an id after four billion
// connections, 4 GB in one direction of one connection), are in
// Table::wide_ (`wide` set), so every value stays exact.
struct alignas(32) Slot {
    uint32_t next[2] = {};      // hash chain links (node ids), per direction
    uint32_t addr[4] = {};      // orig src, orig dst, reply src, reply dst (network order bytes)
    uint16_t port[4] = {};      // orig sport, dport, reply sport, dport
    // 32: the protocol and family are the same in both directions (NAT
    // never changes them: alter_reply()'s precondition)
    uint8_t proto = 0;
    uint8_t family : 3 = 0;     // a Family (4 or 6): one load and a mask to read
    bool live : 1 = false;
    bool confirmed : 1 = false;
    bool dying : 1 = false;     // killed, slot freed at the next in()/advance()/finish()
    bool pooled : 1 = false;    // addresses in the side pool
    bool wide : 1 = false;      // high halves of id/counters in Table::wide_
    uint16_t status = 0;        // rules::ctstatus bits (all below bit 16)
    // The key of the entry's last pushed timer element, in units of 2^20 ns
    // (1 ms) rounded up, modulo 2^32: with the deadline it gives a bound at
    // or after that key, so that a deadline moved earlier needs no new
    // element while one is there before it (Table::timer_moved()).
    uint32_t timer_hint = 0;
    uint32_t mark = 0;
    uint32_t rule = 0;
    uint32_t tcp = 0xffffffff;  // index in the TCP slab, for TCP entries
    uint32_t id = 0;            // conntrack id, low 32 bits
    Nanos first_ts = 0, last_ts = 0;
    Nanos deadline = 0;         // absolute timeout (ct->timeout)
    uint32_t pkts[2] = {}, bytes[2] = {};  // low 32 bits
};
static_assert(sizeof(Slot) == 96);
inline constexpr int kTimerHintShift = 20;  // Slot::timer_hint's unit: 2^20 ns

// A tuple of an entry, materialised on demand (Entry::tuple[d]).
struct TuplePair {
    const Table* table;
    uint32_t slot;
    Tuple operator[](size_t d) const;
};
}  // namespace detail

// One tracked connection as Table::get() shows it: a snapshot of its
// fields (the table stores some of them narrower), its TCP state by
// reference and its tuples materialised on demand; valid until the table
// changes. Change entries only through Table's methods.
struct Entry {
    uint64_t id;
    uint32_t status;            // rules::ctstatus bits
    uint32_t mark;
    uint32_t rule;
    Nanos first_ts;
    Nanos last_ts;
    Nanos deadline;             // absolute timeout (ct->timeout)
    uint64_t pkts[2];           // [original], [reply]
    uint64_t bytes[2];
    const TcpTrack& tcp;        // TCP only (an empty one for other protocols)
    detail::TuplePair tuple;    // [original], [reply] (reply is rewritten by alter_reply for NAT)

    Tuple orig() const { return tuple[0]; }
    Tuple reply() const { return tuple[1]; }
    TcpState tcp_state() const { return tcp.state; }
    // UDP: ct->proto.udp.stream_ts, 2 s after the first packet
    Nanos stream_ts() const { return first_ts + 2 * kSecond; }
};

// nf_conntrack_buckets: Linux sizes the hash from RAM, 262144 on a machine
// with more than 4 GiB, and does NOT change it when nf_conntrack_max is set.
inline constexpr uint32_t kDefaultHtableSize = 262144;

class Table {
public:
    // htable_size (nf_conntrack_buckets, rounded up to a power of two) only
    // decides which entries early_drop() looks at (the NF_CT_EVICTION_RANGE
    // = 8 buckets from the new tuple's hash), as in the kernel; the real
    // hash table is sized and grown independently.
    explicit Table(const Config& cfg, uint32_t htable_size = kDefaultHtableSize);

    // Fires every timeout whose deadline <= now, in (deadline, id) order,
    // calling obs.on_flow_end(..., timeout, deadline). Call before each packet.
    // Inline: called before every packet, when usually nothing is due and
    // nothing is left to free.
    void advance(Nanos now, Observer& obs) {
        if (dying_.empty() && (heap_.empty() || heap_.front().key() > now)) return;
        advance_due(now, obs);
    }

    // nf_conntrack_in() at prerouting (or output for local packets). Updates
    // an existing entry's state, counters and timeout at once; a new
    // connection gets ONE unconfirmed entry (not yet in the table, counted
    // against ct.max). `pkt` has the addresses before any NAT. checksum_ok:
    // the L4 checksum verdict (only consulted when ct.checksum=1); the kernel
    // checks only at PRE_ROUTING, so pass true for locally generated packets.
    // table_full results carry state new_ and no entry.
    // Precondition: no unconfirmed entry is pending (confirm()/discard() it first).
    Result in(const Packet& pkt, Nanos now, bool checksum_ok, Observer& obs);

    // nf_conntrack_alter_reply(): for NAT, on the unconfirmed entry. The new
    // reply tuple has the family and protocol of the old one.
    void alter_reply(EntryId e, const Tuple& new_reply);
    // nf_conntrack_tuple_taken(): is `t` (a reply tuple) used by a confirmed
    // entry other than `ignored`, in either direction?
    bool tuple_taken(const Tuple& t, EntryId ignored) const;
    // __nf_conntrack_confirm(): insert the unconfirmed entry; false on a clash
    // (counts insert_failed, the entry is gone, no flow record).
    bool confirm(EntryId e, uint32_t rule);
    // Its first packet was dropped: no state, no flow record.
    void discard(EntryId e);
    void set_mark(EntryId e, uint32_t mark);
    void set_status_bits(EntryId e, uint32_t bits);

    Entry get(EntryId e) const {
        const detail::Slot& s = slots_[e];
        return Entry{entry_id(e), s.status, s.mark, s.rule, s.first_ts, s.last_ts, s.deadline,
                     {count_of(s, e, Wide::pkts0), count_of(s, e, Wide::pkts1)},
                     {count_of(s, e, Wide::bytes0), count_of(s, e, Wide::bytes1)},
                     s.tcp != kNoTcp ? tcp_[s.tcp].t : kEmptyTcp, detail::TuplePair{this, e}};
    }
    bool valid(EntryId e) const { return e < slots_.size() && slots_[e].live; }

    // ---- Single fields of a live entry, for the engine's per-packet path
    // (added by helper E, session 3): the same values as get(e).status,
    // .mark, .id, .tcp_state() and .orig()/.reply(), without building an
    // Entry view (its TCP reference and tuple pair cost ~30 instructions per
    // get() on a path that calls it several times a packet).
    uint32_t entry_status(EntryId e) const { return slots_[e].status; }
    uint32_t entry_mark(EntryId e) const { return slots_[e].mark; }
    uint64_t entry_id(EntryId e) const {
        const detail::Slot& s = slots_[e];
        return s.wide ? uint64_t(wide_of(e).hi[Wide::id]) << 32 | s.id : s.id;
    }
    TcpState entry_tcp_state(EntryId e) const { return tcp_state_of(slots_[e]); }
    Tuple entry_tuple(EntryId e, CtDir d) const { return tuple_at(slots_[e], d == CtDir::original ? 0 : 1); }
    // ---- (end of helper E's block)

    FlowInfo flow_info(EntryId e) const;
    // Lookup of a tuple in the confirmed table (either direction).
    EntryId find(const Tuple& t, CtDir* dir = nullptr) const;
    // The same with hash(t) already known.
    EntryId find_hashed(const Tuple& t, uint64_t tuple_hash, CtDir* dir = nullptr) const;
    // Look-ahead hints for a tuple about to be looked up (no effect on
    // results): prefetch_bucket() fetches its hash bucket into the cache,
    // prefetch_entry() (a packet or two later, when the bucket has arrived)
    // the entry at the head of the bucket's chain, and the TCP state of the
    // entry it fetched the call before. Lookups miss the cache from tens of
    // thousands of entries on; this hides the three dependent misses behind
    // the packets before it.
    void prefetch_bucket(uint64_t tuple_hash) const { prefetch(&buckets_[uint32_t(tuple_hash) & bucket_mask_]); }
    // The TCP state of the entry prefetched by the call before is fetched
    // here: its slot (and TCP index) has arrived by now, one packet later.
    void prefetch_entry(uint64_t tuple_hash) const {
        if (prefetched_ != kNil) {
            const uint32_t tcp = slots_[prefetched_].tcp;
            if (tcp != kNoTcp) prefetch_span(&tcp_[tcp]);
        }
        const uint32_t node = buckets_[uint32_t(tuple_hash) & bucket_mask_];
        prefetched_ = node == kNil ? kNil : node >> 1;
        if (node != kNil) prefetch_span(&slots_[node >> 1]);
    }

    size_t size() const { return confirmed_; }  // confirmed entries
    uint64_t next_id() const { return next_id_; }  // the id the next new entry gets
    size_t count_by_proto(uint8_t proto) const { return by_proto_[proto]; }
    size_t count_by_tcp_state(TcpState s) const { return by_tcp_state_[size_t(s)]; }
    const Counters& counters() const { return counters_; }
    const Config& config() const { return cfg_; }

    // End of capture: every remaining entry ends (end_of_capture), in id order.
    void finish(Nanos end, Observer& obs);

    // Self-check of the internal structures (hash chains, timer heap order,
    // gauges, slot accounting), for tests: empty when consistent, else what
    // is wrong. O(n).
    std::string check() const;

    // /proc/net/nf_conntrack lines (ct_seq_show()), one per confirmed entry,
    // sorted by id, timeout in seconds remaining at `now`.
    std::string dump(Nanos now) const;

private:
    friend struct detail::TuplePair;
    // A slot (96 bytes) or a TCP record (56) may straddle two cache lines:
    // fetch the line of its first and of its last byte.
    template <class T>
    static void prefetch_span(const T* p) {
        prefetch(p);
        prefetch(reinterpret_cast<const char*>(p) + sizeof(T) - 1);
    }
    using Slot = detail::Slot;
    static constexpr uint32_t kNoTcp = 0xffffffff;
    static constexpr uint32_t kNil = 0xffffffff;  // end of a hash chain
    static const TcpTrack kEmptyTcp;
    TcpTrack no_tcp_;  // what a non-TCP entry's detail::Conn::tcp binds to (only TCP's tracker uses it)

    // Inline: the engine reads an entry's tuple on every packet (entry_tuple()).
    Tuple tuple_at(const Slot& s, int d) const {
        Tuple t;
        t.family = Family(s.family);
        t.proto = s.proto;
        t.sport = s.port[2 * d];
        t.dport = s.port[2 * d + 1];
        if (s.pooled) [[unlikely]] {
            t.src = pool_[s.addr[0]][2 * d];
            t.dst = pool_[s.addr[0]][2 * d + 1];
        } else {
            std::memcpy(t.src.b.data(), &s.addr[2 * d], 4);
            std::memcpy(t.dst.b.data(), &s.addr[2 * d + 1], 4);
        }
        return t;
    }
    bool tuple_is(const Slot& s, int d, const Tuple& t) const;
    // The lookup of a packet's own tuple in in(): find_hashed() without
    // building a Tuple for IPv4 packets (see table.cpp).
    struct V4Key;
    bool key_is(const Slot& s, int d, const V4Key& k) const;
    EntryId find_packet(const Packet& pkt, CtDir* dir) const;
    void store_tuple(Slot& s, int d, const Tuple& t);

    EntryId alloc_entry();
    void free_entry(EntryId e);
    void hash_insert(EntryId e);
    void hash_insert(EntryId e, const uint64_t (&tuple_hash)[2]);  // hashes of its two tuples known
    void hash_remove(EntryId e);
    uint32_t bucket_of(const Tuple& t) const;
    void maybe_grow();
    void advance_due(Nanos now, Observer& obs);  // advance()'s work
    void timer_push(EntryId e, Nanos key);
    void timer_moved(EntryId e, Nanos before);  // after the deadline moved from `before`
    void timer_push_early(EntryId e);  // an element at its (earlier) deadline
    void timer_compact();
    void maybe_compact();
    void set_deadline(EntryId e, Nanos deadline);
    void account_carry(EntryId e, int which);  // a counter's low half wrapped
    void set_tcp_state(EntryId e, TcpState s);
    void kill(EntryId e, EndReason why, Nanos when, Observer& obs);
    bool early_drop(const Tuple& t, Nanos now, Observer& obs);
    Result new_entry(const Packet& pkt, const Tuple& t, Nanos now, bool checksum_bad,
                     Observer& obs);
    Result icmp_error(const Packet& pkt);
    TcpState tcp_state_of(const Slot& s) const { return s.tcp != kNoTcp ? tcp_[s.tcp].t.state : TcpState::none; }
    void sync_tcp_count(const Slot& en, TcpState before, TcpState now);
    void account(EntryId e, CtDir dir, const Packet& pkt, Nanos now);
    void reap();
    void count_entry(const Slot& en, int delta);

    // The high 32 bits of an entry's id and counters, for the few entries
    // whose values pass 2^32 (Slot::wide): sorted by slot, looked up only
    // when the flag is set. Growing it allocates, at most once per 4 GB of
    // one connection or per entry after four billion connections.
    struct Wide {
        enum : uint8_t { id, pkts0, pkts1, bytes0, bytes1 };
        EntryId slot;
        uint32_t hi[5];
    };
    // Pure: the engine's per-packet entry_id() that keeps only the low 32
    // bits then compiles to the slot's field alone.
    [[gnu::pure]] const Wide& wide_of(EntryId e) const;
    Wide& wide_at(EntryId e);  // made (zero) if the slot has none yet
    uint64_t count_of(const Slot& s, EntryId e, uint8_t which) const {
        const uint32_t lo = which <= Wide::pkts1 ? s.pkts[which - Wide::pkts0] : s.bytes[which - Wide::bytes0];
        return s.wide ? uint64_t(wide_of(e).hi[which]) << 32 | lo : lo;
    }
    std::vector<Wide> wide_;
    friend struct TableTestAccess;  // tests: start ids or counters near 2^32

    Config cfg_;
    std::vector<Slot> slots_;
    std::vector<EntryId> free_;      // free slot stack
    struct TcpSlot {                 // 56 bytes, packed back to back
        TcpTrack t;
    };
    std::vector<TcpSlot> tcp_;       // TCP window tracking, for TCP entries
    std::vector<uint32_t> tcp_free_;
    std::vector<std::array<IpAddr, 4>> pool_;  // addresses of pooled entries (IPv6)
    std::vector<uint32_t> pool_free_;
    std::vector<uint32_t> buckets_;  // first node of each chain (node id = slot*2 + dir), kNil = empty
    mutable uint32_t prefetched_ = kNil;  // the slot prefetch_entry() fetched last (a hint only)
    uint32_t bucket_mask_ = 0;
    uint32_t htable_mask_ = 0;       // virtual kernel buckets for early_drop
    // A timer element, 12 bytes: no id (the slot says which entry it is for,
    // and entries due at the same key are put in id order when they fire,
    // advance_due()); packed, so no padding after the slot (x86 reads the
    // unaligned key at no cost).
    struct [[gnu::packed]] Timer {
        uint64_t ord;  // the key with its sign bit flipped: unsigned order is key order
        EntryId slot;
        static Timer at(Nanos key, EntryId slot) { return Timer{uint64_t(key) ^ (uint64_t(1) << 63), slot}; }
        uint64_t order() const { return ord; }
        Nanos key() const { return Nanos(ord ^ (uint64_t(1) << 63)); }
    };
    static_assert(sizeof(Timer) == 12);
    std::vector<Timer> heap_;        // min-heap on the key
    std::vector<EntryId> due_;       // advance_due(): the entries due at one key
    std::vector<EntryId> dying_;     // killed entries whose slot is freed at the next call
    std::vector<EntryId> scratch_;   // early_drop victims
    // The unconfirmed entry in() made last and its original tuple's hash
    // (the packet's prepared ct_key): confirm() does not hash it again.
    EntryId pending_ = kNoEntry;
    uint64_t pending_hash_ = 0;
    size_t confirmed_ = 0;
    size_t unconfirmed_ = 0;
    uint64_t next_id_ = 1;
    size_t pooled_v4_ = 0;  // live IPv4 slots with pooled addresses (see find_packet())
    size_t by_proto_[256] = {};
    size_t by_tcp_state_[10] = {};
    Counters counters_;
};

}  // namespace fwsim::ct
