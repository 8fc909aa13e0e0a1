// Ruleset::eval(): walks one base chain's rules as nft_do_chain() in
// net/netfilter/nf_tables_core.c does: matches break a rule, a verdict ends
// the chain, jump pushes, goto replaces, return pops, the end of the base
// chain applies its policy. No allocation unless a Trace is given.
//
// How a rule is run (ChainWalk::run): its leading matches of one selector
// of 8 bytes or less (most matches) are ScalarTests, compared or looked up
// in a static set as integers, from a dense array; if one fails, the rule is done (nothing counted, no
// statement run). Otherwise its RuleHead says what is left: nothing, a lone
// accept or drop (decided on the spot), or the rest of its ops, run by
// RuleRun::run (other matches, set lookups, statements). Everything else
// compares key bytes (IPv6 addresses, concatenations, dynamic sets).
#include <algorithm>
#include <bit>
#include <cstring>

#include "dynamic_set.hpp"
#include "program.hpp"
#include "values.hpp"

namespace fwsim::rules {

using detail::Sel;

// nft_connlimit_do_eval() and __nf_conncount_add() (net/netfilter/
// nft_connlimit.c, nf_conncount.c): walk the expression's list of
// connections in order, dropping those no longer in the table or already
// closed (TCP TIME_WAIT/CLOSE; at most CONNCOUNT_GC_MAX_NODES = 8 per call);
// if the packet's connection is already listed, stop there; otherwise add
// it. Then `(count > limit) ^ invert` means no match (NFT_BREAK), where
// `over` is the inverted form. The kernel skips the walk when it already
// walked this jiffy; capture time has no jiffies, so fwsim always walks.
bool conncount_match(const Match& m, const EvalContext& c, const RuntimeState& st) {
    Tuple own;
    const Tuple* t = c.ct_orig;
    if (!t) {
        if (!c.pkt || !tuple_of(*c.pkt, &own)) return false;  // the kernel drops such a packet
        t = &own;
    }
    std::vector<Tuple>& list = st.conncount_[m.set];
    constexpr unsigned kGcMaxNodes = 8;
    unsigned collected = 0;
    bool listed = false;
    for (size_t i = 0; i < list.size();) {
        if (collected > kGcMaxNodes) break;
        bool closed = false;
        const bool alive = c.ct_alive && c.ct_alive(c.ct_owner, list[i], &closed);
        if (list[i] == *t && (alive || c.ct_orig)) {  // alive, or the packet's own (unconfirmed) connection
            listed = true;
            break;
        }
        if (!alive || closed) {
            list.erase(list.begin() + long(i));
            ++collected;
            continue;
        }
        ++i;
    }
    if (!listed) list.push_back(*t);
    const bool over_limit = list.size() > m.v64;
    const bool invert = m.masked;  // `over`
    return !(over_limit ^ invert);
}

namespace {

void be16(uint8_t* o, uint16_t v) {
    o[0] = uint8_t(v >> 8);
    o[1] = uint8_t(v);
}
void be32(uint8_t* o, uint32_t v) {
    o[0] = uint8_t(v >> 24);
    o[1] = uint8_t(v >> 16);
    o[2] = uint8_t(v >> 8);
    o[3] = uint8_t(v);
}

// `th sport|dport` also reads DCCP ports, unlike conntrack and NAT (proto::has_ports).
bool th_has_ports(uint8_t proto) {
    return proto == proto::tcp || proto == proto::udp || proto == proto::udplite || proto == proto::sctp ||
           proto == 33 /* dccp */;
}

// The kernel's ct state bit for `ct state` (NF_CT_STATE_BIT in nft_ct.c):
// no entry reads as invalid, except a packet marked untracked.
uint32_t ct_state_bit(const EvalContext& c) {
    // by CtState: new_, established, related, invalid, untracked
    static constexpr uint32_t kBit[] = {8, 2, 4, 1, 64};
    if (c.ct_state == CtState::untracked) return 64;
    return c.has_ct ? kBit[static_cast<int>(c.ct_state)] : 1;
}

uint32_t load_be32(const uint8_t* b) {
    return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3];
}

// Loads one selector of 8 bytes or less as the integer its big-endian key
// bytes spell (every selector but the IPv6 addresses); false when the packet
// has no such field (the kernel's NFT_BREAK: the rule does not match,
// whatever the operator). Comparisons and small sets use the integer as it
// is; load_sel() writes it out as key bytes.
bool load_scalar(Sel s, const EvalContext& c, uint64_t* v) {
    const Packet& p = *c.pkt;
    // evaluated only by the selectors that need them
    auto v4 = [&] { return p.family == Family::ipv4; };
    auto v6 = [&] { return p.family == Family::ipv6; };
    auto port = [&](uint8_t proto, bool src) {
        if (!p.has_l4 || p.l4proto != proto) return false;
        *v = src ? p.sport : p.dport;
        return true;
    };
    auto put = [&](bool present, uint64_t x) {
        *v = x;
        return present;
    };
    switch (s) {
    case Sel::ip_saddr: return put(v4(), load_be32(p.src.b.data()));
    case Sel::ip_daddr: return put(v4(), load_be32(p.dst.b.data()));
    case Sel::ip_protocol: return put(v4(), p.l4proto);
    case Sel::ip_ttl: return put(v4(), p.ttl);
    case Sel::ip_length: return put(v4(), uint16_t(p.ip_len));
    case Sel::ip6_saddr: case Sel::ip6_daddr: return false;  // 16 bytes: load_sel()
    case Sel::ip6_nexthdr:
        // the header's own next-header field (an extension header's number
        // when there is one), as nft's payload load at offset 6
        if (!v6()) return false;
        *v = p.frame.size() > size_t(p.l3_offset) + 6 ? p.frame[p.l3_offset + 6] : p.l4proto;
        return true;
    case Sel::ip6_hoplimit: return put(v6(), p.ttl);
    case Sel::meta_l4proto: return put(true, p.l4proto);
    case Sel::meta_nfproto: return put(true, v4() ? 2 : v6() ? 10 : 0);
    case Sel::meta_iifname: return put(true, c.iif);  // no device reads as "" (kNoIf)
    case Sel::meta_oifname: return put(true, c.oif);
    case Sel::meta_iif: return put(c.iif != kNoIf, c.iif);
    case Sel::meta_oif: return put(c.oif != kNoIf, c.oif);
    case Sel::meta_mark: return put(true, c.meta_mark);
    case Sel::meta_length: return put(true, p.ip_len);
    case Sel::meta_pkttype: return put(true, c.pkttype);
    case Sel::meta_protocol: return put(true, uint16_t(v4() ? 0x0800 : v6() ? 0x86dd : p.ethertype));
    case Sel::tcp_sport: return port(proto::tcp, true);
    case Sel::tcp_dport: return port(proto::tcp, false);
    case Sel::udp_sport: return port(proto::udp, true);
    case Sel::udp_dport: return port(proto::udp, false);
    case Sel::udplite_sport: return port(proto::udplite, true);
    case Sel::udplite_dport: return port(proto::udplite, false);
    case Sel::sctp_sport: return port(proto::sctp, true);
    case Sel::sctp_dport: return port(proto::sctp, false);
    case Sel::th_sport: return put(p.has_l4 && th_has_ports(p.l4proto), p.sport);
    case Sel::th_dport: return put(p.has_l4 && th_has_ports(p.l4proto), p.dport);
    case Sel::tcp_flags: return put(p.has_l4 && p.l4proto == proto::tcp, p.tcp.flags);
    case Sel::icmp_type: return put(p.has_l4 && v4() && p.l4proto == proto::icmp, p.icmp_type);
    case Sel::icmp_code: return put(p.has_l4 && v4() && p.l4proto == proto::icmp, p.icmp_code);
    case Sel::icmpv6_type: return put(p.has_l4 && v6() && p.l4proto == proto::icmpv6, p.icmp_type);
    case Sel::icmpv6_code: return put(p.has_l4 && v6() && p.l4proto == proto::icmpv6, p.icmp_code);
    case Sel::ct_state: return put(true, ct_state_bit(c));
    case Sel::ct_status: return put(c.has_ct, c.ct_status);
    case Sel::ct_direction: return put(c.has_ct, c.ct_dir == CtDir::reply ? 1 : 0);
    case Sel::ct_mark: return put(c.has_ct, c.ct_mark);
    case Sel::ip_dscp: return put(v4(), uint8_t(p.tos >> 2));
    case Sel::ip6_dscp: return put(v6(), uint8_t(p.tos >> 2));
    case Sel::ip_id: return put(v4(), p.ip_id);
    case Sel::ip_version: return put(v4(), 4);
    case Sel::icmp_id: case Sel::icmp_sequence:
        // echo request/reply only (nft adds `icmp type { echo-request, echo-reply }`)
        if (!p.has_l4 || !v4() || p.l4proto != proto::icmp || (p.icmp_type != 8 && p.icmp_type != 0)) return false;
        *v = s == Sel::icmp_id ? p.icmp_id : p.icmp_seq;
        return true;
    case Sel::icmpv6_id: case Sel::icmpv6_sequence:
        if (!p.has_l4 || !v6() || p.l4proto != proto::icmpv6 || (p.icmp_type != 128 && p.icmp_type != 129)) return false;
        *v = s == Sel::icmpv6_id ? p.icmp_id : p.icmp_seq;
        return true;
    case Sel::tcp_sequence: return put(p.has_l4 && p.l4proto == proto::tcp, p.tcp.seq);
    case Sel::tcp_ackseq: return put(p.has_l4 && p.l4proto == proto::tcp, p.tcp.ack);
    case Sel::tcp_window: return put(p.has_l4 && p.l4proto == proto::tcp, p.tcp.window);
    case Sel::meta_day: {
        // nft_meta_weekday(): days since the epoch, 1970-01-01 a Thursday;
        // fwsim's clock is UTC (the kernel's sys_tz offset is 0)
        const int64_t secs = c.now / kSecond;
        return put(true, uint8_t((4 + secs / 86400) % 7));
    }
    case Sel::meta_hour: return put(true, uint32_t((c.now / kSecond) % 86400));  // nft_meta_hour()
    case Sel::udp_length: return put(p.has_l4 && p.l4proto == proto::udp, uint16_t(p.l4_len));
    }
    return false;
}

// Key bytes of each selector, by Sel (a table, so that the per-packet path
// makes no calls to find them).
struct Widths {
    uint8_t w[64] = {};
};
static_assert(static_cast<int>(Sel::meta_hour) < 64, "Widths must hold every selector");
// (sel_info() and type_width() read constexpr tables, so this initialiser
// may run before or after any other.)
const Widths kWidths = [] {
    Widths x;
    for (int i = 0; i <= static_cast<int>(Sel::meta_hour); ++i)
        x.w[i] = detail::type_width(detail::sel_info(static_cast<Sel>(i)).type);
    return x;
}();

// Loads one selector's key bytes (big-endian, the selector's width); false
// as load_scalar().
bool load_sel(Sel s, const EvalContext& c, uint8_t* o) {
    if (s == Sel::ip6_saddr || s == Sel::ip6_daddr) {
        const Packet& p = *c.pkt;
        if (p.family != Family::ipv6) return false;
        std::memcpy(o, (s == Sel::ip6_saddr ? p.src : p.dst).b.data(), 16);
        return true;
    }
    uint64_t v = 0;
    if (!load_scalar(s, c, &v)) return false;
    switch (kWidths.w[static_cast<int>(s)]) {
    case 1: o[0] = uint8_t(v); break;
    case 2: be16(o, uint16_t(v)); break;
    case 4: be32(o, uint32_t(v)); break;
    default: detail::put_be(o, v, kWidths.w[static_cast<int>(s)]); break;
    }
    return true;
}

bool load_key(const std::array<Sel, kMaxConcat>& sel, uint8_t n, const EvalContext& c, uint8_t* out) {
    const uint8_t* w = kWidths.w;
    int off = 0;
    for (uint8_t i = 0; i < n; ++i) {
        if (!load_sel(sel[i], c, out + off)) return false;
        off += w[static_cast<int>(sel[i])];
    }
    return true;
}

// set_lookup() for a set with integer keys (Set::ints): the same search
// over lo64/hi64.
bool set_lookup_int(const Set& s, uint64_t x, uint32_t* data) {
    // first element whose lo > x; the candidate is the one before it (it
    // may be in an earlier bucket: an interval reaching into this one)
    const uint64_t* lo = s.lo64.data();
    size_t first = 0, last = s.lo64.size();
    if (!s.bucket_start.empty()) {
        const uint64_t b = x >> s.bucket_shift;
        first = s.bucket_start[b];
        last = s.bucket_start[b + 1];
    }
    const size_t i = size_t(std::upper_bound(lo + first, lo + last, x) - lo);
    if (i > 0 && x <= s.hi64[i - 1]) {
        if (data) *data = s.elems[i - 1].data;
        return true;
    }
    if (s.has_wildcard) {
        if (data) *data = s.wildcard_data;
        return true;
    }
    return false;
}

bool set_lookup(const Set& s, const uint8_t* k, uint32_t* data) {
    int w = s.width;
    if (s.ints) return set_lookup_int(s, detail::get_be(k, w), data);
    if (s.exact || s.single_comp) {
        // first element whose lo > k; the candidate is the one before it
        auto it = std::upper_bound(s.elems.begin(), s.elems.end(), k, [w](const uint8_t* key, const Set::Elem& e) {
            return key_cmp(key, e.lo.b.data(), w) < 0;
        });
        if (it != s.elems.begin()) {
            const Set::Elem& e = *(it - 1);
            if (key_cmp(k, e.hi.b.data(), w) <= 0) {
                if (data) *data = e.data;
                return true;
            }
        }
    } else {
        for (const auto& e : s.elems) {
            int off = 0;
            bool ok = true;
            for (uint8_t i = 0; i < s.ncomp && ok; ++i) {
                int cw = s.comp_width[i];
                ok = key_cmp(k + off, e.lo.b.data() + off, cw) >= 0 && key_cmp(k + off, e.hi.b.data() + off, cw) <= 0;
                off += cw;
            }
            if (ok) {
                if (data) *data = e.data;
                return true;
            }
        }
    }
    if (s.has_wildcard) {
        if (data) *data = s.wildcard_data;
        return true;
    }
    return false;
}

// Static elements first, then those rules added (dynamic sets).
bool in_set(const Program& p, const RuntimeState& st, uint32_t set, const uint8_t* k, int64_t now);

// A ScalarTest: most matches, e.g. `ct state ...`, `iifname ...`,
// `tcp dport 22`, `ip saddr 10.0.0.0/8`, `ip saddr @blocklist`.
// A ScalarTest on the value x its selector loaded.
[[gnu::always_inline]] inline bool scalar_compare(const Program& p, const ScalarTest& t, uint64_t x) {
    x &= t.mask;
    switch (t.op) {
    case MatchOp::eq: return x == t.lo;
    case MatchOp::ne: return x != t.lo;
    case MatchOp::lt: return x < t.lo;
    case MatchOp::gt: return x > t.lo;
    case MatchOp::le: return x <= t.lo;
    case MatchOp::ge: return x >= t.lo;
    case MatchOp::range: return x >= t.lo && x <= t.hi;
    case MatchOp::not_range: return x < t.lo || x > t.hi;
    case MatchOp::lookup: return set_lookup_int(p.sets[t.set], x, nullptr);
    case MatchOp::not_lookup: return !set_lookup_int(p.sets[t.set], x, nullptr);
    default: return false;  // never a ScalarTest (Compiler::rule_heads())
    }
}

[[gnu::always_inline]] inline bool scalar_test(const Program& p, const ScalarTest& t, const EvalContext& c) {
    uint64_t x = 0;
    if (t.sel == Sel::ct_state) x = ct_state_bit(c);  // the most common match, without the call
    else if (!load_scalar(t.sel, c, &x)) return false;
    return scalar_compare(p, t, x);
}

bool eval_match(const Program& p, const Match& m, const EvalContext& c, const RuntimeState& st) {
    if (m.scalar) return scalar_test(p, ScalarTest{m.mask64, m.v64, m.hi64, m.sel[0], m.op, 0}, c);
    if (m.scalar_lookup && !p.sets[m.set].dynamic) {  // e.g. `ip saddr @blocklist`, `tcp dport { 80, 443 }`
        uint64_t x = 0;
        if (!load_scalar(m.sel[0], c, &x)) return false;
        return set_lookup_int(p.sets[m.set], x, nullptr) == (m.op == MatchOp::lookup);
    }
    if (m.op == MatchOp::always) return true;
    if (m.op == MatchOp::never) return false;
    if (m.op == MatchOp::conncount) return conncount_match(m, c, st);
    uint8_t k[kMaxKey];
    if (!load_key(m.sel, m.nsel, c, k)) return false;
    // wide keys (IPv6 addresses) and set lookups compare key bytes
    int w = m.width;
    if (m.masked)
        for (int i = 0; i < w; ++i) k[i] &= m.mask.b[size_t(i)];
    switch (m.op) {
    case MatchOp::eq: return key_cmp(k, m.value.b.data(), w) == 0;
    case MatchOp::ne: return key_cmp(k, m.value.b.data(), w) != 0;
    case MatchOp::lt: return key_cmp(k, m.value.b.data(), w) < 0;
    case MatchOp::gt: return key_cmp(k, m.value.b.data(), w) > 0;
    case MatchOp::le: return key_cmp(k, m.value.b.data(), w) <= 0;
    case MatchOp::ge: return key_cmp(k, m.value.b.data(), w) >= 0;
    case MatchOp::range:
        return key_cmp(k, m.value.b.data(), w) >= 0 && key_cmp(k, m.hi.b.data(), w) <= 0;
    case MatchOp::not_range:
        return key_cmp(k, m.value.b.data(), w) < 0 || key_cmp(k, m.hi.b.data(), w) > 0;
    case MatchOp::lookup: return in_set(p, st, m.set, k, c.now);
    case MatchOp::not_lookup: return !in_set(p, st, m.set, k, c.now);
    case MatchOp::always: return true;
    case MatchOp::never: return false;
    case MatchOp::conncount: return false;  // handled above
    }
    return false;
}

// nft_limit_eval() in net/netfilter/nft_limit.c, in capture time: true when
// the rule must stop here (NFT_BREAK). The bucket starts full at the first
// packet that reaches it (the kernel starts it when the rule is loaded).
bool limit_breaks(const LimitSpec& l, RuntimeState::LimitState& st, Nanos now, uint32_t len) {
    if (!st.started) {
        st.started = true;
        st.tokens = int64_t(l.tokens_max);
        st.last = now;
    }
    uint64_t cost = l.cost;
    // nft_limit_bytes_eval(): div64_u64(priv->nsecs * pkt->skb->len, priv->rate),
    // with the kernel's unsigned 64-bit arithmetic
    if (l.bytes) cost = (l.nsecs * uint64_t(len)) / l.rate;
    int64_t elapsed = now > st.last ? now - st.last : 0;  // a capture going back in time adds nothing
    uint64_t tokens = uint64_t(st.tokens) + uint64_t(elapsed);
    if (tokens > l.tokens_max) tokens = l.tokens_max;
    st.last = std::max<int64_t>(st.last, now);
    int64_t delta = int64_t(tokens) - int64_t(cost);
    if (delta >= 0) {
        st.tokens = delta;
        return l.over;
    }
    st.tokens = int64_t(tokens);
    return !l.over;
}

// Fills ctx.nat; false when the statement does nothing for this packet
// (family mismatch in an inet table, or no map element: NFT_BREAK).
enum class NatOutcome { fired, skipped, broke };
NatOutcome do_nat(const Program& p, const NatSpec& n, EvalContext& c) {
    NatRequest r = n.req;
    if (n.map) {
        uint8_t k[kMaxKey];
        uint32_t d = 0;
        if (!load_key(n.sel, n.nsel, c, k) || !set_lookup(p.sets[n.set], k, &d)) return NatOutcome::broke;
        const NatData& nd = p.nat_data[d];
        if (nd.family != Family::none) {
            r.family = nd.family;
            r.has_addr = true;
            r.addr_min = nd.addr_min;
            r.addr_max = nd.addr_max;
        } else {
            r.has_addr = false;
        }
        if (nd.has_port) {
            r.has_port = true;
            r.port_min = nd.port_min;
            r.port_max = nd.port_max;
        }
    }
    // nft_nat_inet_eval(): a statement for the other family does nothing
    if (r.has_addr && r.family != Family::none && r.family != c.pkt->family) return NatOutcome::skipped;
    c.nat = r;
    return NatOutcome::fired;
}

}  // namespace

void fill_ct_leads(Program& p) {
    // The values ct_state_bit() gives: invalid (or no entry) 1, established 2,
    // related 4, new 8, untracked 64.
    static constexpr uint64_t kStateBits[] = {1, 2, 4, 8, 64};
    for (Chain& ch : p.chains) {
        CtLead lead;
        lead.rid.fill(kNoRule);
        for (const RuleHead& h : ch.heads) {
            // Only a rule that is nothing but ct state tests and a lone
            // verdict: a failed test has no effect at all, a match is counted
            // and decides (as the walk's Tail::accept/drop branch).
            if (h.tail != Tail::accept && h.tail != Tail::drop) break;
            const ScalarTest* tests = p.tests.data() + h.first_test;
            bool ct_only = true;
            for (uint32_t i = 0; i < h.ntests; ++i) ct_only = ct_only && tests[i].sel == Sel::ct_state;
            if (!ct_only) break;
            for (uint64_t bit : kStateBits) {
                const size_t b = size_t(std::countr_zero(bit));
                if (lead.rid[b] != kNoRule) continue;  // an earlier rule decides that state
                bool held = true;
                for (uint32_t i = 0; i < h.ntests && held; ++i) held = scalar_compare(p, tests[i], bit);
                if (held) {
                    lead.rid[b] = h.rid;
                    lead.tail[b] = h.tail;
                }
            }
            ++lead.len;
        }
        ch.ct_lead = lead;
    }
}

// Runs add/update/delete @set as nft_dynset_eval(); false means NFT_BREAK.
struct DynAccess {
    static bool run(const Program& p, const DynSpec& d, EvalContext& c, RuntimeState& st, uint32_t len) {
        uint8_t k[kMaxKey];
        if (!load_key(d.sel, d.nsel, c, k)) return false;
        const Set& s = p.sets[d.set];
        RuntimeState::DynTable& t = st.dyn_[d.set];
        if (d.op == DynSpec::Op::delete_) {
            detail::dyn_delete(t, k, s.width);
            return true;
        }
        if (set_lookup(s, k, nullptr)) return true;  // a declared element: nothing to add
        bool created = false;
        RuntimeState::DynEntry* e = detail::dyn_upsert(t, k, s.width, c.now, s.max_elems, &created);
        if (!e) return false;  // the set is full
        const int64_t timeout = d.timeout_ns ? d.timeout_ns : s.timeout_ns;
        if (created) e->expires = timeout ? c.now + timeout : RuntimeState::kNever;
        else if (d.op == DynSpec::Op::update && e->expires != RuntimeState::kNever) e->expires = c.now + timeout;
        if (d.counter) {
            e->counter.packets++;
            e->counter.bytes += len;
        }
        if (d.has_limit && limit_breaks(d.limit, e->limit, c.now, len)) return false;
        return true;
    }
    static const RuntimeState::DynTable& table(const RuntimeState& st, uint32_t set) { return st.dyn_[set]; }
};

namespace {

bool in_set(const Program& p, const RuntimeState& st, uint32_t set, const uint8_t* k, int64_t now) {
    const Set& s = p.sets[set];
    if (set_lookup(s, k, nullptr)) return true;
    return s.dynamic && detail::dyn_find(DynAccess::table(st, set), k, s.width, now) != nullptr;
}

// The candidate positions of one indexed chain for one packet, in chain
// order: the chain's always-candidates merged with what each group's table
// holds for the packet's field. Positions only go forward while the chain
// runs; a jump, goto or return sets it up again from the resume position.
class Candidates {
public:
    void setup(const ChainIndex& ix, uint32_t pos) {
        ix_ = &ix;
        n_ = 0;
        probed_ = false;
        always_ = from(ix.always.data(), ix.always.data() + ix.always.size(), pos);
    }
    // The first candidate position >= pos (consumed), or `end`.
    uint32_t next(const EvalContext& c, uint32_t pos, uint32_t end) {
        skip(always_, pos);
        if (!probed_) {
            // before the first indexed rule only always-candidates exist
            if (always_.cur != always_.end && *always_.cur < ix_->first_indexed) return *always_.cur++;
            probe(c, pos);
        }
        Cursor* best = always_.cur != always_.end ? &always_ : nullptr;
        for (int i = 0; i < n_; ++i) {
            skip(c_[i], pos);
            if (c_[i].cur != c_[i].end && (!best || *c_[i].cur < *best->cur)) best = &c_[i];
        }
        return best ? *best->cur++ : end;
    }

private:
    // no initialisers: eval() makes one Candidates per call, and c_ is only
    // read below n_
    struct Cursor {
        const uint32_t* cur;
        const uint32_t* end;
    };
    static Cursor from(const uint32_t* b, const uint32_t* e, uint32_t pos) {
        return Cursor{std::lower_bound(b, e, pos), e};
    }
    static void skip(Cursor& k, uint32_t pos) {
        while (k.cur != k.end && *k.cur < pos) ++k.cur;
    }
    void probe(const EvalContext& c, uint32_t pos) {
        probed_ = true;
        for (const IndexGroup& g : ix_->groups) {
            // no such field (another family or protocol): the match fails in every rule of the group
            IndexKey k;
            if (g.width <= 8) {  // the integer is the key's top bytes (index_key())
                uint64_t x = 0;
                if (!load_scalar(g.sel, c, &x)) continue;
                k.a = x << (8 * (8 - g.width));
            } else {
                uint8_t f[16];
                if (!load_sel(g.sel, c, f)) continue;
                k = index_key(f, g.width);
            }
            k.a &= g.mask.a;
            k.b &= g.mask.b;
            uint32_t b = 0, n = 0;
            if (!g.find(k, &b, &n)) continue;
            const uint32_t* base = ix_->positions.data() + b;
            Cursor cur = from(base, base + n, pos);
            if (cur.cur != cur.end) c_[n_++] = cur;
        }
    }
    const ChainIndex* ix_ = nullptr;
    Cursor always_{nullptr, nullptr};
    Cursor c_[kIndexMaxGroups];
    int n_ = 0;
    bool probed_ = false;
};

std::string rule_label(const Program& p, uint32_t rid) {
    const RuleInfo& ri = p.rule_info[rid];
    return "rule " + std::to_string(rid) + " (" + ri.file + ":" + std::to_string(ri.line) + ") " + ri.text;
}

}  // namespace

constexpr Verdict_ kAccept{Verdict_::K::accept, 0}, kDrop{Verdict_::K::drop, 0};

// What a rule's ops decided (RuleRun::run).
struct RuleEnd {
    int failed = -1;                // index of the op that broke the rule (NFT_BREAK), -1: none
    const Verdict_* act = nullptr;  // the verdict to apply (not continue), if any
    bool rejected = false;          // a reject statement decided
};

// Runs a rule's ops from `from` on, all ops before it having held: the
// rest of nft_do_chain()'s expression loop. Counts the rule's hit (once the
// first statement is reached, or at the end of a rule of matches only) and
// runs its statements, which change ctx and st.
struct RuleRun {
    static RuleEnd run(const Program& p, const Rule& r, uint32_t rid, size_t from, EvalContext& ctx,
                       RuntimeState& st, uint32_t len) {
        bool counted = false;
        int failed = -1;
        const Verdict_* act = nullptr;
        bool decided_reject = false;
        for (size_t i = from; i < r.ops.size() && !act && !decided_reject; ++i) {
            const Op& op = r.ops[i];
            if (op.is_match) {
                if (!eval_match(p, p.matches[op.index], ctx, st)) {
                    failed = int(i);
                    break;
                }
                continue;
            }
            if (!counted) {
                counted = true;
                st.hits_[rid].packets++;
                st.hits_[rid].bytes += len;
            }
            const Stmt& s = p.stmts[op.index];
            bool stop = false;
            switch (s.k) {
            case Stmt::K::verdict:
                // NFT_CONTINUE is the running code already: the next statement runs
                if (s.verdict.k != Verdict_::K::continue_) act = &s.verdict;
                break;
            case Stmt::K::counter:
                st.counters_[s.index].packets++;
                st.counters_[s.index].bytes += len;
                break;
            case Stmt::K::log:
                if (ctx.log_count < EvalContext::kMaxLogs) ctx.logs[ctx.log_count++] = s.index;
                else ++ctx.logs_dropped;
                break;
            case Stmt::K::limit:
                if (limit_breaks(p.limits[s.index], st.limits_[s.index], ctx.now, len)) {
                    failed = int(i);
                    stop = true;
                }
                break;
            case Stmt::K::meta_mark_set:
                ctx.meta_mark = s.mark_src == 0 ? s.mark : s.mark_src == 2 ? ctx.ct_mark : ctx.meta_mark;
                break;
            case Stmt::K::ct_mark_set:
                if (ctx.has_ct) {  // nft_ct_set_eval(): nothing to set without an entry
                    ctx.ct_mark = s.mark_src == 0 ? s.mark : s.mark_src == 1 ? ctx.meta_mark : ctx.ct_mark;
                    ctx.ct_mark_set = true;
                }
                break;
            case Stmt::K::notrack:
                ctx.notrack = true;
                break;
            case Stmt::K::nat: {
                NatOutcome o = do_nat(p, p.nats[s.index], ctx);
                if (o == NatOutcome::broke) {
                    failed = int(i);
                    stop = true;
                } else if (o == NatOutcome::fired) {
                    act = &kAccept;  // nf_nat_setup_info() returns NF_ACCEPT
                }
                break;
            }
            case Stmt::K::reject:
                ctx.verdict = Verdict::reject;
                ctx.reject = s.reject;
                ctx.reject_type = s.reject_type;
                ctx.reject_code = s.reject_code;
                decided_reject = true;
                break;
            case Stmt::K::quota: {
                // nft_quota_do_eval() in net/netfilter/nft_quota.c: over once
                // consumed > quota (the kernel's "match correctly when the
                // quota just depleted"); `over` inverts
                const Program::Quota& q = p.quotas[s.index];
                uint64_t& used = st.quota_used_[s.index];
                used += len;
                if ((used > q.bytes) != q.over) {
                    failed = int(i);
                    stop = true;
                }
                break;
            }
            case Stmt::K::dynset:
                if (!DynAccess::run(p, p.dynsets[s.index], ctx, st, len)) {
                    failed = int(i);
                    stop = true;
                }
                break;
            case Stmt::K::vmap: {
                uint8_t k[kMaxKey];
                uint32_t d = 0;
                if (!load_key(s.sel, s.nsel, ctx, k) || !set_lookup(p.sets[s.index], k, &d)) {
                    failed = int(i);
                    stop = true;
                } else if (p.map_verdicts[d].k != Verdict_::K::continue_) {
                    act = &p.map_verdicts[d];
                }
                break;
            }
            }
            if (stop) break;
        }
        if (failed < 0 && !counted) {  // a rule of matches only
            st.hits_[rid].packets++;
            st.hits_[rid].bytes += len;
        }
        return RuleEnd{failed, act, decided_reject};
    }
};

// Ruleset::eval(); kTraced: a Trace is filled (`fwsim explain`), a
// separate instance so that the replay's walk carries none of it.
struct ChainWalk {
    template <bool kTraced>
    static void run(const Ruleset& rs, const BaseChain& bc, EvalContext& ctx, RuntimeState& st, Trace* trace,
                    uint32_t start = 0) {
        const Program& p = rs.program();
        struct Frame {
            uint32_t chain, pos;
        };
        Frame stack[kJumpStack];
        int sp = 0;
        uint32_t chain = bc.chain, pos = start;
        ctx.by_policy = false;
        ctx.rule = kNoRule;
        ctx.verdict = Verdict::accept;
        auto step = [&](TraceStep::Kind k, uint32_t ch, uint32_t rule, bool matched, int failed, std::string text) {
            TraceStep s;
            s.kind = k;
            s.chain = ch;
            s.rule = rule;
            s.matched = matched;
            s.failed_expr = failed;
            s.text = std::move(text);
            trace->steps.push_back(std::move(s));
        };
        if constexpr (kTraced) step(TraceStep::Kind::enter_chain, chain, kNoRule, false, -1, "enter chain " + rs.chain_label(chain));
        const uint32_t len = ctx.pkt->ip_len;
        // A trace shows every rule, so it walks linearly.
        const bool indexed = !kTraced && !st.linear_ && !p.chain_index.empty();
        // Read once: the rule loop calls out (load_scalar(), statements), after
        // which the compiler would have to load them again from the Program.
        const ScalarTest* const all_tests = p.tests.data();
        RuntimeState::RuleCounter* const hits = st.hits_.data();
        Candidates cand;
        // One turn per chain entered (the base chain, jump, goto) or resumed
        // (return); the inner loop walks its rules from `pos`.
        for (;;) {
            const Chain& ch = p.chains[chain];
            const RuleHead* const heads = ch.heads.data();
            const uint32_t nrules = uint32_t(ch.heads.size());
            const ChainIndex* const ix = indexed && p.chain_index[chain].enabled ? &p.chain_index[chain] : nullptr;
            if (ix) cand.setup(*ix, pos);
            bool left = false;  // a jump, goto or return: the outer loop takes the new chain
            while (!left) {
                if (ix) pos = cand.next(ctx, pos, nrules);
                if (pos >= nrules) {
                    if (sp == 0) {
                        const Chain& base = p.chains[bc.chain];
                        ctx.verdict = base.policy;
                        ctx.by_policy = true;
                        ctx.rule = kNoRule;
                        if constexpr (kTraced)
                            step(TraceStep::Kind::policy, bc.chain, kNoRule, false, -1,
                                 "policy " + std::string(to_string(base.policy)) + " of " + rs.chain_label(bc.chain));
                        return;
                    }
                    if constexpr (kTraced)
                        step(TraceStep::Kind::return_, chain, kNoRule, false, -1,
                             "end of chain " + rs.chain_label(chain) + ", return");
                    --sp;
                    chain = stack[sp].chain;
                    pos = stack[sp].pos;
                    break;
                }
                const RuleHead& h = heads[pos++];
                const uint32_t rid = h.rid;
                // The leading scalar matches first, from their dense copies (most
                // rules are only those and a verdict, and most fail there).
                const ScalarTest* tests = all_tests + h.first_test;
                uint32_t held = 0;
                while (held < h.ntests && scalar_test(p, tests[held], ctx)) ++held;
                RuleEnd e;
                if (held < h.ntests) {
                    e.failed = int(held);  // nothing counted, nothing done
                } else if (h.tail == Tail::ops) {
                    e = RuleRun::run(p, p.rules[rid], rid, held, ctx, st, len);
                } else {  // matched, accept or drop: counted as RuleRun::run() would
                    hits[rid].packets++;
                    hits[rid].bytes += len;
                    e.act = h.tail == Tail::accept ? &kAccept : h.tail == Tail::drop ? &kDrop : nullptr;
                }
                if constexpr (kTraced) {
                    std::string t = rule_label(p, rid);
                    if (e.failed >= 0) t += " -> no match at '" + p.rules[rid].op_text[size_t(e.failed)] + "'";
                    else if (e.rejected) t += " -> reject";
                    else if (e.act) t += " -> verdict";
                    else t += " -> matched, continue";
                    step(TraceStep::Kind::rule, chain, rid, e.failed < 0, e.failed, std::move(t));
                }
                if (e.rejected) {
                    ctx.rule = rid;
                    return;
                }
                if (!e.act) continue;
                switch (e.act->k) {
                case Verdict_::K::accept:
                    ctx.verdict = Verdict::accept;
                    ctx.rule = rid;
                    return;
                case Verdict_::K::drop:
                    ctx.verdict = Verdict::drop;
                    ctx.rule = rid;
                    return;
                case Verdict_::K::continue_:
                    break;
                case Verdict_::K::jump:
                    if (sp >= kJumpStack) {  // nft_do_chain(): WARN and NF_DROP; the compiler prevents it
                        ctx.verdict = Verdict::drop;
                        ctx.rule = rid;
                        return;
                    }
                    stack[sp++] = Frame{chain, pos};
                    chain = e.act->chain;
                    pos = 0;
                    left = true;
                    if constexpr (kTraced) step(TraceStep::Kind::enter_chain, chain, rid, true, -1, "jump to " + rs.chain_label(chain));
                    break;
                case Verdict_::K::goto_:
                    chain = e.act->chain;
                    pos = 0;
                    left = true;
                    if constexpr (kTraced) step(TraceStep::Kind::enter_chain, chain, rid, true, -1, "goto " + rs.chain_label(chain));
                    break;
                case Verdict_::K::return_:
                    if (sp == 0) {
                        pos = nrules;  // base chain: the policy decides
                    } else {
                        if constexpr (kTraced)
                            step(TraceStep::Kind::return_, chain, rid, true, -1, "return from " + rs.chain_label(chain));
                        --sp;
                        chain = stack[sp].chain;
                        pos = stack[sp].pos;
                        left = true;
                    }
                    break;
                }
            }
        }
    }
};

void Ruleset::eval(const BaseChain& bc, EvalContext& ctx, RuntimeState& st, Trace* trace) const {
    if (trace) {
        ChainWalk::run<true>(*this, bc, ctx, st, trace);
        return;
    }
    uint32_t start = 0;
    if (!st.linear_) {
        // The chain's leading `ct state` rules decide by the packet's ct
        // state bit alone (Chain::ct_lead): the decision is looked up and the
        // rules that would not match are skipped, before the walk sets up.
        // Traces and the linear walk test them one by one
        // (index_equiv_test compares the two).
        const CtLead& lead = program().chains[bc.chain].ct_lead;
        if (lead.len != 0) {
            const size_t b = size_t(std::countr_zero(ct_state_bit(ctx)));
            const uint32_t rid = lead.rid[b];
            if (rid != kNoRule) {
                RuntimeState::RuleCounter& hit = st.hits_[rid];
                hit.packets++;
                hit.bytes += ctx.pkt->ip_len;  // as the walk counts a rule
                ctx.by_policy = false;
                ctx.verdict = lead.tail[b] == Tail::drop ? Verdict::drop : Verdict::accept;
                ctx.rule = rid;
                return;
            }
            start = lead.len;
        }
    }
    ChainWalk::run<false>(*this, bc, ctx, st, nullptr, start);
}

}  // namespace fwsim::rules
